/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * KefuLogin: the agent's session with kefu-server: the server's address,
 * the username, the agent id and role, and the bearer token.  The token is
 * kept in the Secret Service (libsecret: GNOME Keyring, KWallet...), the
 * rest in a small key file (session.ini in the state folder), so that the
 * desktop starts with the last good session, offline if the server is
 * down, and works from its local copy until the server is back.
 *
 * When no Secret Service answers (a bare session, a locked keyring that
 * cannot be unlocked), the token stays in memory only: "token-in-keyring"
 * is FALSE and the desktop should say that the password will be asked for
 * at the next start.
 *
 * It owns the KefuApiClient everything else uses (kefu_login_get_client),
 * and names the local store's file for this server and user.
 *
 * Main thread only.
 */
#pragma once

#include "kefu-api-client.h"

G_BEGIN_DECLS

#define KEFU_TYPE_LOGIN (kefu_login_get_type ())
G_DECLARE_FINAL_TYPE (KefuLogin, kefu_login, KEFU, LOGIN, GObject)

/* state_dir: where session.ini and the local stores live; NULL for
 * $XDG_DATA_HOME/kefu. */
KefuLogin     *kefu_login_new              (const char *state_dir) G_GNUC_WARN_UNUSED_RESULT;

/* Properties, all read-only except through the methods below:
 * "server-url", "username", "role" (strings), "agent-id" (int64, 0 when
 * unknown), "signed-in" (a token is held: requests can be made),
 * "has-session" (a last good session is known, even without a token),
 * "token-in-keyring" (the token survives a restart). */
const char    *kefu_login_get_server_url   (KefuLogin *self);
const char    *kefu_login_get_username     (KefuLogin *self);
const char    *kefu_login_get_role         (KefuLogin *self);
gint64         kefu_login_get_agent_id     (KefuLogin *self);
gboolean       kefu_login_get_signed_in    (KefuLogin *self);
gboolean       kefu_login_get_has_session  (KefuLogin *self);
gboolean       kefu_login_get_token_in_keyring (KefuLogin *self);

/* The client for this server, carrying the token; NULL before a session
 * is restored or signed in. */
KefuApiClient *kefu_login_get_client       (KefuLogin *self);

/* The local store file for this server and user (one per pair, so that
 * changes waiting for one server never go to another); NULL without a
 * session.  The folder exists when this returns. */
char          *kefu_login_dup_store_path   (KefuLogin *self) G_GNUC_WARN_UNUSED_RESULT;

/* Reads the last good session (the file, then the token from the Secret
 * Service).  Needs no network.  Finishes TRUE when a session was found
 * ("has-session"; "signed-in" too when the token was in the keyring),
 * FALSE without error when there is none. */
void           kefu_login_restore_async    (KefuLogin           *self,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
gboolean       kefu_login_restore_finish   (KefuLogin     *self,
                                            GAsyncResult  *result,
                                            GError       **error);

/* Signs in (POST /v1/sessions), then keeps the session: file and keyring.
 * A wrong password fails with KEFU_API_ERROR_UNAUTHORIZED, an unreachable
 * server with KEFU_API_ERROR_UNREACHABLE; the previous session is kept
 * when signing in fails. */
void           kefu_login_sign_in_async    (KefuLogin           *self,
                                            const char          *server_url,
                                            const char          *username,
                                            const char          *password,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
gboolean       kefu_login_sign_in_finish   (KefuLogin     *self,
                                            GAsyncResult  *result,
                                            GError       **error);

/* Ends the session on the server (when reachable) and forgets the token
 * here and in the keyring; the server URL and username stay to pre-fill
 * the login page. */
void           kefu_login_sign_out_async   (KefuLogin           *self,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
gboolean       kefu_login_sign_out_finish  (KefuLogin     *self,
                                            GAsyncResult  *result,
                                            GError       **error);

/* The server said the token is no longer good (KefuSync's
 * "session-expired"): drop it here and from the keyring, keep the rest. */
void           kefu_login_forget_token     (KefuLogin *self);

G_END_DECLS
