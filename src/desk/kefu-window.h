/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * KefuWindow: the agent's window — the login page until a session is open,
 * then the phone panel beside the CRM pane (one at a time when narrow),
 * under the offline banner, with toasts for what the agent should know.
 *
 * Actions for its children ("window.*"): toast (s), dial (s: a number or
 * URI from a card), show-phone, show-crm, sync-now, finish-wrapup, and
 * after-wrapup (s, stateful: "available" or "not_ready").
 *
 * Wrap-up: when the last call the agent talked on ends, the agent goes to
 * Wrap-up with its countdown (the "wrapup-seconds" setting), the case
 * editor asks for the disposition, and the state chosen for after it
 * follows.
 */
#pragma once

#include <adwaita.h>

#include "kefu-agent-state-button.h"
#include "kefu-crm-pane.h"
#include "kefu-local-store.h"
#include "kefu-login-page.h"
#include "kefu-phone-panel.h"
#include "kefu-sync.h"

G_BEGIN_DECLS

#define KEFU_TYPE_WINDOW (kefu_window_get_type ())
G_DECLARE_FINAL_TYPE (KefuWindow, kefu_window, KEFU, WINDOW, AdwApplicationWindow)

KefuWindow     *kefu_window_new             (GtkApplication *application);

/* The login page (state "login") until kefu_window_open_desk(). */
void            kefu_window_show_login      (KefuWindow     *self,
                                             KefuLogin      *login,
                                             const char     *message);
/* The desk: phone and CRM, on this store, with this sync's banner and
 * conflicts, and this client for the agent state (any may be NULL). */
void            kefu_window_open_desk       (KefuWindow     *self,
                                             KefuApiClient  *client,
                                             KefuLocalStore *store,
                                             KefuSync       *sync);
void            kefu_window_set_phone       (KefuWindow     *self,
                                             KefuPhone      *phone);

void            kefu_window_show_toast      (KefuWindow     *self,
                                             const char     *message);

/* A banner under the offline one for what lasts the session (no sound
 * server), until the agent hides it; "" when hidden. */
void            kefu_window_show_notice     (KefuWindow     *self,
                                             const char     *message);
const char     *kefu_window_get_notice      (KefuWindow     *self);

KefuPhonePanel *kefu_window_get_phone_panel (KefuWindow     *self);
KefuCrmPane    *kefu_window_get_crm_pane    (KefuWindow     *self);
KefuLoginPage  *kefu_window_get_login_page  (KefuWindow     *self);
/* "login" or "desk" */
const char     *kefu_window_get_page        (KefuWindow     *self);
/* The offline banner's text, "" when hidden. */
const char     *kefu_window_get_offline_text (KefuWindow    *self);

KefuAgentStateButton *kefu_window_get_agent_state_button (KefuWindow *self);

G_END_DECLS
