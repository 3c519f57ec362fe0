/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * KefuApiClient: the agent desktop's client of kefu-server's REST API
 * (libsoup 3, JSON).  Every call is an _async/_finish pair that runs on the
 * thread-default main context of the caller (the GTK main thread in the
 * desktop) and never blocks it.  Records travel as the server's JSON
 * objects (see GET /v1/openapi.json); nothing is cached here: KefuLocalStore
 * keeps the copy and KefuSync moves changes between the two.
 *
 * Errors are KEFU_API_ERROR with a message an agent can read (translated
 * where the desktop words it, the server's own words otherwise).  A 409
 * version conflict hands back the server's copy through out_current.
 *
 * Used by KefuLogin (sign in / out), KefuSync (change feed, outbox pushes)
 * and by the widgets for what only the server knows (agent state, reason
 * codes, a search wider than the local copy).
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define KEFU_API_ERROR (kefu_api_error_quark ())
GQuark kefu_api_error_quark (void);

typedef enum {
  KEFU_API_ERROR_UNREACHABLE,    /* no answer: the desktop is offline */
  KEFU_API_ERROR_UNAUTHORIZED,   /* 401: wrong password, or the session ended */
  KEFU_API_ERROR_FORBIDDEN,      /* 403: the role may not do that */
  KEFU_API_ERROR_NOT_FOUND,      /* 404 */
  KEFU_API_ERROR_CONFLICT,       /* 409 version_conflict: out_current holds theirs */
  KEFU_API_ERROR_DUPLICATE,      /* 409 duplicate */
  KEFU_API_ERROR_INVALID,        /* 400, 413, 415, 422: the server refuses the content */
  KEFU_API_ERROR_RATE_LIMITED,   /* 429 */
  KEFU_API_ERROR_SERVER,         /* 5xx: try again later */
  KEFU_API_ERROR_PROTOCOL,       /* an answer that is not what the API promises */
} KefuApiError;

/* TRUE for errors after which the same request may succeed later unchanged
 * (unreachable, 5xx, rate limited): the outbox keeps such a change. */
gboolean kefu_api_error_is_transient (const GError *error);

#define KEFU_TYPE_API_CLIENT (kefu_api_client_get_type ())
G_DECLARE_FINAL_TYPE (KefuApiClient, kefu_api_client, KEFU, API_CLIENT, GObject)

/* base_url: "http://127.0.0.1:8080" (no trailing /v1). */
KefuApiClient *kefu_api_client_new           (const char *base_url) G_GNUC_WARN_UNUSED_RESULT;

/* Properties "base-url" and "token" (the bearer token; NULL when signed
 * out).  Setting the token is how a session restored from the keyring is
 * used; login_finish sets it too. */
const char    *kefu_api_client_get_base_url  (KefuApiClient *self);
void           kefu_api_client_set_base_url  (KefuApiClient *self, const char *base_url);
const char    *kefu_api_client_get_token     (KefuApiClient *self);
void           kefu_api_client_set_token     (KefuApiClient *self, const char *token);
/* Seconds before a request without an answer counts as unreachable
 * (property "timeout", default 15). */
void           kefu_api_client_set_timeout   (KefuApiClient *self, guint seconds);

/* Any request.  method "GET", "POST"...; path "/v1/..." with its query;
 * body NULL or a JSON object; op_id NULL or the Idempotency-Key;
 * base_version -1 or the If-Match version.  Finishes with the answer's JSON
 * object (an empty object for 204), or NULL with error; on a 409 version
 * conflict *out_current (when given) receives the server's copy. */
void           kefu_api_client_request_async  (KefuApiClient       *self,
                                               const char          *method,
                                               const char          *path,
                                               JsonObject          *body,
                                               const char          *op_id,
                                               gint64               base_version,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
JsonObject    *kefu_api_client_request_finish (KefuApiClient  *self,
                                               GAsyncResult   *result,
                                               JsonObject    **out_current,
                                               GError        **error) G_GNUC_WARN_UNUSED_RESULT;

/* POST /v1/sessions.  Finishes with {token, expires, role, username,
 * agent_id} and keeps the token for the next requests.  A wrong password
 * is KEFU_API_ERROR_UNAUTHORIZED "Wrong username or password". */
void           kefu_api_client_login_async   (KefuApiClient       *self,
                                              const char          *username,
                                              const char          *password,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
JsonObject    *kefu_api_client_login_finish  (KefuApiClient  *self,
                                              GAsyncResult   *result,
                                              GError        **error) G_GNUC_WARN_UNUSED_RESULT;

/* DELETE /v1/sessions/current; forgets the token even when the server
 * cannot be reached. */
void           kefu_api_client_logout_async  (KefuApiClient       *self,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
gboolean       kefu_api_client_logout_finish (KefuApiClient  *self,
                                              GAsyncResult   *result,
                                              GError        **error);

/* GET /v1/customers?phone= (any spelling of the number) or ?q= (a name
 * prefix or the start of a number).  Finish with the array of customers. */
void           kefu_api_client_find_customers_async  (KefuApiClient       *self,
                                                      const char          *phone,
                                                      const char          *query,
                                                      guint                limit,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
JsonArray     *kefu_api_client_find_customers_finish (KefuApiClient  *self,
                                                      GAsyncResult   *result,
                                                      GError        **error) G_GNUC_WARN_UNUSED_RESULT;

/* GET /v1/customers/{id}/history: {customer, calls, cases, faxes, contacts}. */
void           kefu_api_client_get_customer_history_async  (KefuApiClient       *self,
                                                            gint64               customer_id,
                                                            GCancellable        *cancellable,
                                                            GAsyncReadyCallback  callback,
                                                            gpointer             user_data);
JsonObject    *kefu_api_client_get_customer_history_finish (KefuApiClient  *self,
                                                            GAsyncResult   *result,
                                                            GError        **error) G_GNUC_WARN_UNUSED_RESULT;

/* PUT /v1/agents/me/state: state is "available", "not_ready" (reason: one
 * of the reason codes), "wrapup" or "logged_out".  Finishes with the agent. */
void           kefu_api_client_set_agent_state_async  (KefuApiClient       *self,
                                                       const char          *state,
                                                       const char          *reason,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
JsonObject    *kefu_api_client_set_agent_state_finish (KefuApiClient  *self,
                                                       GAsyncResult   *result,
                                                       GError        **error) G_GNUC_WARN_UNUSED_RESULT;

/* GET /v1/reason-codes: the Not ready reasons, NULL-terminated. */
void           kefu_api_client_get_reason_codes_async  (KefuApiClient       *self,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
char         **kefu_api_client_get_reason_codes_finish (KefuApiClient  *self,
                                                        GAsyncResult   *result,
                                                        GError        **error) G_GNUC_WARN_UNUSED_RESULT;

/* GET /v1/changes?since=&limit=: {cursor, more, changes: [{seq, entity,
 * id, op, version, at, record}]}. */
void           kefu_api_client_get_changes_async  (KefuApiClient       *self,
                                                   gint64               since,
                                                   guint                limit,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
JsonObject    *kefu_api_client_get_changes_finish (KefuApiClient  *self,
                                                   GAsyncResult   *result,
                                                   GError        **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
