/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * KefuAccount: one SIP account of the softphone as the desktop sees it, on
 * its main thread.  Its configuration (AOR, password, registrars, transport,
 * DTMF mode) is read-write; its registration (state, reason, the registrar
 * in use, the next automatic retry) is read-only and notified as it
 * changes.  A KefuPhone registers it (kefu_phone_register_account) and
 * keeps it in its accounts model; changing the configuration of a
 * registered account registers it again at once.
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

typedef enum {
  KEFU_REGISTRATION_STATE_UNREGISTERED,
  KEFU_REGISTRATION_STATE_REGISTERING,
  KEFU_REGISTRATION_STATE_REGISTERED,
  KEFU_REGISTRATION_STATE_FAILED,
} KefuRegistrationState;

#define KEFU_TYPE_REGISTRATION_STATE (kefu_registration_state_get_type ())
GType kefu_registration_state_get_type (void);

typedef enum {
  KEFU_TRANSPORT_UDP,
  KEFU_TRANSPORT_TCP,
  KEFU_TRANSPORT_TLS,
} KefuTransport;

#define KEFU_TYPE_TRANSPORT (kefu_transport_get_type ())
GType kefu_transport_get_type (void);

typedef enum {
  KEFU_REGISTRAR_ROLE_PRIMARY,
  KEFU_REGISTRAR_ROLE_BACKUP,
} KefuRegistrarRole;

#define KEFU_TYPE_REGISTRAR_ROLE (kefu_registrar_role_get_type ())
GType kefu_registrar_role_get_type (void);

#define KEFU_TYPE_ACCOUNT (kefu_account_get_type ())
G_DECLARE_FINAL_TYPE (KefuAccount, kefu_account, KEFU, ACCOUNT, GObject)

/* @aor: sip:USER@HOST (or sips:); the account's id in KefuPhone.  The
 * registrar defaults to the AOR's host. */
KefuAccount          *kefu_account_new                  (const char *aor,
                                                         const char *password) G_GNUC_WARN_UNUSED_RESULT;

const char           *kefu_account_get_aor              (KefuAccount *self);
KefuRegistrationState kefu_account_get_state            (KefuAccount *self);
/* "" or why the last attempt failed: "wrong password (401)", "timeout",
 * "DNS: no such host (pbx.example)", "TLS: server certificate not
 * trusted: ..." */
const char           *kefu_account_get_reason           (KefuAccount *self);
/* the SIP status of the last answer, 0 if none (timeout, DNS, TLS) */
guint                 kefu_account_get_status_code      (KefuAccount *self);
KefuRegistrarRole     kefu_account_get_active_registrar (KefuAccount *self);
KefuTransport     kefu_account_get_transport        (KefuAccount *self);
/* NULL: the phone's DTMF mode */
const char           *kefu_account_get_dtmf_mode        (KefuAccount *self);
/* calls require SRTP (over TLS only) */
gboolean              kefu_account_get_srtp             (KefuAccount *self);
/* failed: seconds until it tries again by itself (when it failed); 0:
 * it will not (a refused password waits for a new configuration) */
guint                 kefu_account_get_retry_in         (KefuAccount *self);

const char           *kefu_registration_state_to_string (KefuRegistrationState state);

G_END_DECLS
