/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * KefuPhone: the softphone as the desktop sees it, on its main thread.  It
 * owns the phone thread (kefu-phone-loop.h), the SIP user agent and the
 * calls engine, turns their plain-data events into KefuCall objects,
 * property notifications and signals, and keeps the live calls in a
 * GListModel for the call list.  Signals and notifications are emitted
 * only on the thread-default main context of the thread that created it.
 *
 * Disposing the phone hangs up every call, un-REGISTERs every account and
 * joins the phone thread; its calls become closed ("phone stopped").
 */
#pragma once

#include <gio/gio.h>

#include "kefu-account.h"
#include "kefu-call.h"

G_BEGIN_DECLS

#define KEFU_TYPE_PHONE (kefu_phone_get_type ())
G_DECLARE_FINAL_TYPE (KefuPhone, kefu_phone, KEFU, PHONE, GObject)

/* @listen_address: "HOST:PORT" (PORT 0: any free port) to take calls for
 * any user there without registering, as `kefu-phone --listen`; or NULL:
 * calls only for registered accounts, on 127.0.0.1 and any free port.
 * @audio: "null"/NULL or "file:IN.wav,OUT.wav"; @dtmf_mode: "rfc4733",
 * "info" or "auto"/NULL.  More settings are construct-only properties
 * (display-name, codecs, listen-user, auto-answer; tls-certificate, the
 * PEM with our certificate and key for TLS peers; tls-ca-file, the CAs
 * whose server certificates we trust besides the system's) for
 * g_initable_new(). */
KefuPhone  *kefu_phone_new               (const char  *listen_address,
                                          const char  *audio,
                                          const char  *dtmf_mode,
                                          GError     **error) G_GNUC_WARN_UNUSED_RESULT;

/* The UDP port SIP listens on. */
guint       kefu_phone_get_sip_port      (KefuPhone   *self);
/* The live calls (KefuCall), oldest first; a closed call leaves it. */
GListModel *kefu_phone_get_calls         (KefuPhone   *self);

/* Registers sip:USER@HOST with @registrar (NULL: the AOR's host) and an
 * optional @backup registrar: a KefuAccount with those settings, given to
 * kefu_phone_register_account().  (transfer none): the phone keeps it
 * until kefu_phone_remove_account(). */
KefuAccount *kefu_phone_add_account      (KefuPhone   *self,
                                          const char  *aor,
                                          const char  *password,
                                          const char  *registrar,
                                          const char  *backup,
                                          GError     **error);
/* Starts registering @account (its AOR is its id: one account per AOR) and
 * keeps it in the accounts model.  A change of its settings registers it
 * again at once.  Its state comes in its properties and in
 * "registration-changed". */
gboolean    kefu_phone_register_account  (KefuPhone   *self,
                                          KefuAccount *account,
                                          GError     **error);
/* un-REGISTERs the account and takes it out of the model (its state
 * becomes unregistered) */
gboolean    kefu_phone_remove_account    (KefuPhone   *self,
                                          const char  *aor,
                                          GError     **error);
/* The registered accounts (KefuAccount), oldest first. */
GListModel *kefu_phone_get_accounts      (KefuPhone   *self);
/* (transfer none) (nullable) */
KefuAccount *kefu_phone_lookup_account   (KefuPhone   *self,
                                          const char  *aor);
KefuRegistrationState
            kefu_phone_get_registration_state (KefuPhone  *self,
                                               const char *aor);

/* Dials @uri from the listen identity (or the only way without accounts);
 * the call is in the calls model already.  (transfer full) */
KefuCall   *kefu_phone_dial              (KefuPhone   *self,
                                          const char  *uri,
                                          GError     **error) G_GNUC_WARN_UNUSED_RESULT;
/* @account: an AOR given to kefu_phone_add_account(), or NULL.
 * @headers: NULL, or name, value, name, value, ..., NULL (X-Kefu-*). */
KefuCall   *kefu_phone_dial_full         (KefuPhone          *self,
                                          const char         *account,
                                          const char         *uri,
                                          const char *const  *headers,
                                          GError            **error) G_GNUC_WARN_UNUSED_RESULT;

/* Follows the far end's transfer request on @referred (see
 * KefuCall::transfer-requested).  (transfer full) */
KefuCall   *kefu_phone_accept_transfer   (KefuPhone   *self,
                                          KefuCall    *referred,
                                          GError     **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
