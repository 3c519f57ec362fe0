/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * KefuAuth: passwords (argon2id through libsodium), bearer tokens, the
 * login rate limit and a short-lived cache of checked sessions, for
 * kefu-server.  Thread-safe: the server calls it from its worker threads.
 */
#pragma once

#include "kefu-store.h"

G_BEGIN_DECLS

typedef enum {
  KEFU_PASSWORD_COST_MINIMUM,      /* tests only */
  KEFU_PASSWORD_COST_INTERACTIVE,  /* libsodium's interactive limits: the default */
  KEFU_PASSWORD_COST_MODERATE,
} KefuPasswordCost;

#define KEFU_AUTH_ERROR (kefu_auth_error_quark ())
GQuark kefu_auth_error_quark (void);

typedef enum {
  KEFU_AUTH_ERROR_BAD_CREDENTIALS,
  KEFU_AUTH_ERROR_RATE_LIMITED,
  KEFU_AUTH_ERROR_NO_SESSION,
  KEFU_AUTH_ERROR_WEAK_PASSWORD,
} KefuAuthError;

#define KEFU_TYPE_AUTH (kefu_auth_get_type ())
G_DECLARE_FINAL_TYPE (KefuAuth, kefu_auth, KEFU, AUTH, GObject)

gboolean     kefu_auth_init_crypto     (GError **error);
gboolean     kefu_password_cost_from_string (const char *text, KefuPasswordCost *out);

KefuAuth    *kefu_auth_new             (KefuStore        *store,
                                        KefuPasswordCost  cost,
                                        guint             session_hours,
                                        guint             max_failures,
                                        guint             failure_window_s) G_GNUC_WARN_UNUSED_RESULT;

/* Returns NULL and sets error for a password too weak to store. */
char        *kefu_auth_hash_password   (KefuAuth *self, const char *password,
                                        GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Checks username and password from `client` (an address, for the rate
 * limit).  On success returns the new token and fills the session. */
char        *kefu_auth_login           (KefuAuth *self, const char *username, const char *password,
                                        const char *client, KefuSession **out_session,
                                        guint *out_retry_after_s, GError **error) G_GNUC_WARN_UNUSED_RESULT;
KefuSession *kefu_auth_check_token     (KefuAuth *self, const char *token,
                                        GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* An agent's password, role or existence changed: drop what was cached. */
void         kefu_auth_forget_agent    (KefuAuth *self, gint64 agent_id);
gboolean     kefu_auth_logout          (KefuAuth *self, const char *token, GError **error);

G_END_DECLS
