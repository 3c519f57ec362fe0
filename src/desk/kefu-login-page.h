/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * KefuLoginPage: the first thing an agent sees — server address, user name
 * and password, signed in through KefuLogin.  Emits "signed-in" when the
 * server took the password, or "work-offline" when the agent chose to go
 * on with the last good session while the server cannot be reached.
 */
#pragma once

#include <gtk/gtk.h>

#include "kefu-login.h"

G_BEGIN_DECLS

#define KEFU_TYPE_LOGIN_PAGE (kefu_login_page_get_type ())
G_DECLARE_FINAL_TYPE (KefuLoginPage, kefu_login_page, KEFU, LOGIN_PAGE, GtkWidget)

GtkWidget *kefu_login_page_new      (void);
void       kefu_login_page_set_login (KefuLoginPage *self,
                                      KefuLogin     *login);
/* Pre-fills the fields (NULL leaves one as it is) and says why the agent
 * is asked again (NULL: no message). */
void       kefu_login_page_prefill  (KefuLoginPage *self,
                                     const char    *server_url,
                                     const char    *username,
                                     const char    *message);
/* Types the password, as the agent would (a demo signs in by itself). */
void       kefu_login_page_set_password (KefuLoginPage *self,
                                         const char    *password);
/* Sign in with what the fields hold (the "login.sign-in" action). */
void       kefu_login_page_sign_in  (KefuLoginPage *self);

G_END_DECLS
