/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuServer"

#include "config.h"

#include "kefu-server-private.h"
#include "kefu-time.h"

#include <string.h>

G_DEFINE_FINAL_TYPE (KefuServer, kefu_server, G_TYPE_OBJECT)

/* Requests being worked on, so shutdown can wait for them. */
static gint in_flight;

/* Pending connections the kernel keeps for us (it caps this at somaxconn). */
#define LISTEN_BACKLOG 1024

static void
kefu_request_free (KefuRequest *request)
{
  g_free (request->method);
  g_free (request->path);
  g_clear_pointer (&request->params, g_ptr_array_unref);
  g_clear_pointer (&request->query, g_hash_table_unref);
  g_clear_pointer (&request->body, g_bytes_unref);
  g_free (request->content_type);
  g_free (request->token);
  g_free (request->op_id);
  g_free (request->scoped_op_id);
  g_free (request->client);
  kefu_session_free (request->session);
  g_free (request->response_type);
  g_clear_pointer (&request->response, g_bytes_unref);
  g_clear_pointer (&request->response_headers, g_ptr_array_unref);
  g_clear_pointer (&request->broadcast, json_array_unref);
  g_free (request);
}

/* --- responses (any thread) ---------------------------------------------------- */

void
kefu_request_json (KefuRequest *request,
                   guint        status,
                   JsonNode    *node)
{
  char *text = node ? json_to_string (node, FALSE) : g_strdup ("");

  request->status = status;
  g_free (request->response_type);
  request->response_type = g_strdup ("application/json; charset=utf-8");
  g_clear_pointer (&request->response, g_bytes_unref);
  request->response = g_bytes_new_take (text, strlen (text));
}

void
kefu_request_object (KefuRequest *request,
                     guint        status,
                     JsonObject  *object)
{
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);

  json_node_set_object (node, object);
  kefu_request_json (request, status, node);
}

static void
request_error_object (KefuRequest *request,
                      guint        status,
                      const char  *code,
                      const char  *message,
                      const char  *field,
                      JsonObject  *current)
{
  g_autoptr(JsonObject) body = json_object_new ();
  JsonObject *error = json_object_new ();

  json_object_set_string_member (error, "code", code);
  json_object_set_string_member (error, "message", message);
  if (field)
    json_object_set_string_member (error, "field", field);
  json_object_set_object_member (body, "error", error);
  /* A 409 hands back the server's copy so the desktop can show both. */
  if (current)
    json_object_set_object_member (body, "current", json_object_ref (current));
  kefu_request_object (request, status, body);
}

void
kefu_request_error (KefuRequest *request,
                    guint        status,
                    const char  *code,
                    const char  *format,
                    ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  request_error_object (request, status, code, message, NULL, NULL);
}

void
kefu_request_gerror (KefuRequest  *request,
                     const GError *error,
                     const char   *field,
                     JsonObject   *current)
{
  guint status = SOUP_STATUS_INTERNAL_SERVER_ERROR;
  const char *code = "internal";

  if (error->domain == KEFU_RECORD_ERROR)
    {
      static const char * const codes[] = {
        "malformed_json", "unknown_field", "wrong_type", "too_long", "missing_field",
        "invalid_value",
      };

      status = SOUP_STATUS_BAD_REQUEST;
      code = error->code >= 0 && (guint) error->code < G_N_ELEMENTS (codes) ? codes[error->code]
                                                                            : "invalid";
    }
  else if (error->domain == KEFU_STORE_ERROR)
    {
      switch (error->code)
        {
        case KEFU_STORE_ERROR_NOT_FOUND:
          status = SOUP_STATUS_NOT_FOUND;
          code = "not_found";
          break;
        case KEFU_STORE_ERROR_CONFLICT:
          status = SOUP_STATUS_CONFLICT;
          code = "version_conflict";
          break;
        case KEFU_STORE_ERROR_DUPLICATE:
          status = SOUP_STATUS_CONFLICT;
          code = "duplicate";
          break;
        case KEFU_STORE_ERROR_INVALID:
          status = SOUP_STATUS_UNPROCESSABLE_ENTITY;
          code = "invalid";
          break;
        default:
          break;
        }
    }
  else if (error->domain == KEFU_AUTH_ERROR)
    {
      switch (error->code)
        {
        case KEFU_AUTH_ERROR_RATE_LIMITED:
          status = 429;
          code = "rate_limited";
          break;
        case KEFU_AUTH_ERROR_WEAK_PASSWORD:
          status = SOUP_STATUS_BAD_REQUEST;
          code = "weak_password";
          break;
        default:
          status = SOUP_STATUS_UNAUTHORIZED;
          code = "unauthorized";
          break;
        }
    }
  else if (error->domain == KEFU_DB_ERROR)
    {
      status = error->code == KEFU_DB_ERROR_CONSTRAINT ? SOUP_STATUS_CONFLICT
                                                       : SOUP_STATUS_SERVICE_UNAVAILABLE;
      code = error->code == KEFU_DB_ERROR_CONSTRAINT ? "duplicate" : "store_unavailable";
    }

  if (status >= 500)
    g_warning ("%s %s: %s", request->method, request->path, error->message);
  request_error_object (request, status, code, error->message, field, current);
}

void
kefu_request_header (KefuRequest *request,
                     const char  *name,
                     const char  *value)
{
  if (!request->response_headers)
    request->response_headers = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (request->response_headers, g_strdup (name));
  g_ptr_array_add (request->response_headers, g_strdup (value));
}

const char *
kefu_request_param (KefuRequest *request,
                    guint        index)
{
  return index < request->params->len ? g_ptr_array_index (request->params, index) : NULL;
}

const char *
kefu_request_query (KefuRequest *request,
                    const char  *name)
{
  return request->query ? g_hash_table_lookup (request->query, name) : NULL;
}

KefuStore *
kefu_request_store (KefuRequest *request)
{
  return request->server->store;
}

const char *
kefu_request_body (KefuRequest *request,
                   gsize       *len)
{
  if (!request->body)
    {
      *len = 0;
      return NULL;
    }
  return g_bytes_get_data (request->body, len);
}

gboolean
kefu_request_read_uint (KefuRequest *request,
                        const char  *name,
                        guint64      fallback,
                        guint64      max,
                        guint64     *out)
{
  const char *text = kefu_request_query (request, name);

  *out = fallback;
  if (!text)
    return TRUE;
  if (!g_ascii_string_to_unsigned (text, 10, 0, max, out, NULL))
    {
      kefu_request_error (request, SOUP_STATUS_BAD_REQUEST, "bad_query",
                          "“%s” must be a whole number from 0 to %" G_GUINT64_FORMAT ", not “%s”",
                          name, max, text);
      return FALSE;
    }
  return TRUE;
}

gboolean
kefu_request_has_role (KefuRequest *request,
                       const char  *role)
{
  int have = request->session ? kefu_role_rank (request->session->role) : -1;

  /* The service account is a machine, not a rung on the ladder. */
  if (request->session && g_str_equal (request->session->role, "service"))
    return g_str_equal (role, "service");
  return have >= kefu_role_rank (role);
}

/* --- dispatch -------------------------------------------------------------------- */

static gboolean
match_pattern (const char *pattern,
               const char *path,
               GPtrArray  *captures)
{
  g_auto(GStrv) want = g_strsplit (pattern, "/", -1);
  g_auto(GStrv) have = g_strsplit (path, "/", -1);
  guint n_want = g_strv_length (want);

  if (n_want != g_strv_length (have))
    return FALSE;
  for (guint i = 0; i < n_want; i++)
    {
      if (want[i][0] == '{')
        {
          if (!*have[i])
            return FALSE;
          if (captures)
            g_ptr_array_add (captures, g_uri_unescape_string (have[i], NULL));
        }
      else if (!g_str_equal (want[i], have[i]))
        {
          return FALSE;
        }
    }
  return TRUE;
}

static void
run_request (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  KefuRequest *request = task_data;
  KefuServer *self = request->server;
  const KefuRoute *route = request->route;

  if (!(route->flags & KEFU_ROUTE_PUBLIC))
    {
      g_autoptr(GError) error = NULL;

      request->session = kefu_auth_check_token (self->auth, request->token, &error);
      if (!request->session)
        {
          kefu_request_header (request, "WWW-Authenticate", "Bearer realm=\"kefu\"");
          kefu_request_gerror (request, error, NULL, NULL);
          g_task_return_boolean (task, TRUE);
          return;
        }
      if (g_str_equal (request->session->role, "service") ? !(route->flags & KEFU_ROUTE_SERVICE)
                                                          : !kefu_request_has_role (request,
                                                                                    route->min_role))
        {
          kefu_request_error (request, SOUP_STATUS_FORBIDDEN, "forbidden",
                              "%s %s needs the %s role or higher; %s is %s", route->method,
                              route->pattern, route->min_role, request->session->username,
                              request->session->role);
          g_task_return_boolean (task, TRUE);
          return;
        }
    }

  route->handler (request);
  g_task_return_boolean (task, TRUE);
}

static void
finish_message (SoupServerMessage *msg,
                KefuRequest       *request)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  gsize len = 0;
  gconstpointer data = request->response ? g_bytes_get_data (request->response, &len) : NULL;

  for (guint i = 0; request->response_headers && i + 1 < request->response_headers->len; i += 2)
    soup_message_headers_replace (headers, g_ptr_array_index (request->response_headers, i),
                                  g_ptr_array_index (request->response_headers, i + 1));
  soup_server_message_set_status (msg, request->status ? request->status
                                                       : SOUP_STATUS_INTERNAL_SERVER_ERROR, NULL);
  if (data && len)
    soup_server_message_set_response (msg, request->response_type, SOUP_MEMORY_COPY, data, len);
  else if (request->response_type)
    soup_server_message_set_response (msg, request->response_type, SOUP_MEMORY_STATIC, "", 0);

  kefu_server_stats_request (request->server->stats, request->method,
                             request->route ? request->route->pattern : NULL, request->status,
                             (g_get_monotonic_time () - request->started_us) / 1e6);
}

#define ABORTED_KEY "kefu-aborted"

/* libsoup drops a message whose connection closed, paused or not: a reply
 * or an unpause after that is a programming error to it. */
static void
on_message_gone (SoupServerMessage *msg,
                 gpointer           user_data)
{
  g_object_set_data (G_OBJECT (msg), ABORTED_KEY, GINT_TO_POINTER (TRUE));
}

/* The client's address, for the login rate limit.  Read from the socket:
 * libsoup's own getter logs a warning when a client has already reset its
 * connection, which is no fault of ours (and fatal where warnings are). */
static char *
client_address (SoupServerMessage *msg)
{
  GSocket *socket = soup_server_message_get_socket (msg);
  g_autoptr(GSocketAddress) remote = socket ? g_socket_get_remote_address (socket, NULL) : NULL;

  if (!remote || !G_IS_INET_SOCKET_ADDRESS (remote))
    return g_strdup ("unknown");
  return g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote)));
}

static void
on_request_done (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  SoupServerMessage *msg = user_data;
  KefuRequest *request = g_task_get_task_data (G_TASK (result));
  KefuServer *self = request->server;

  /* A client that went away while its request ran has no reply to take;
   * what the request did (a case saved, events to broadcast) stands. */
  if (!g_object_get_data (G_OBJECT (msg), ABORTED_KEY))
    {
      finish_message (msg, request);
      soup_server_message_unpause (msg);
    }

  if (request->broadcast && json_array_get_length (request->broadcast) > 0)
    {
      kefu_server_stats_events (self->stats, json_array_get_length (request->broadcast));
      kefu_event_hub_broadcast (self->hub, request->broadcast);
    }
  g_object_unref (msg);
  g_atomic_int_dec_and_test (&in_flight);
}

static void
respond_now (KefuServer        *self,
             SoupServerMessage *msg,
             KefuRequest       *request)
{
  finish_message (msg, request);
  kefu_request_free (request);
}

static gboolean
is_json_type (const char *content_type)
{
  return content_type && g_ascii_strncasecmp (content_type, "application/json", 16) == 0;
}

static void
on_http_request (SoupServer        *server,
                 SoupServerMessage *msg,
                 const char        *path,
                 GHashTable        *query,
                 gpointer           user_data)
{
  KefuServer *self = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  KefuRequest *request = g_new0 (KefuRequest, 1);
  g_autoptr(GString) allowed = g_string_new (NULL);
  const char *authorization;
  const char *if_match;
  GTask *task;
  gsize limit;

  request->server = self;
  request->started_us = g_get_monotonic_time ();
  request->method = g_strdup (soup_server_message_get_method (msg));
  request->path = g_strdup (path);
  request->params = g_ptr_array_new_with_free_func (g_free);
  request->base_version = -1;

  for (guint i = 0; i < kefu_n_routes; i++)
    {
      if (!match_pattern (kefu_routes[i].pattern, path, NULL))
        continue;
      if (g_str_equal (kefu_routes[i].method, request->method))
        {
          request->route = &kefu_routes[i];
          match_pattern (kefu_routes[i].pattern, path, request->params);
          break;
        }
      if (!strstr (allowed->str, kefu_routes[i].method))
        g_string_append_printf (allowed, "%s%s", allowed->len ? ", " : "", kefu_routes[i].method);
    }

  if (!request->route)
    {
      if (allowed->len)
        {
          kefu_request_header (request, "Allow", allowed->str);
          kefu_request_error (request, SOUP_STATUS_METHOD_NOT_ALLOWED, "method_not_allowed",
                              "%s is not allowed on %s; use %s", request->method, path,
                              allowed->str);
        }
      else
        {
          kefu_request_error (request, SOUP_STATUS_NOT_FOUND, "no_such_route",
                              "There is no %s; GET /v1/openapi.json lists every route", path);
        }
      respond_now (self, msg, request);
      return;
    }

  limit = (request->route->flags & KEFU_ROUTE_RAW) ? self->config->max_document_bytes
                                                   : self->config->max_body_bytes;
  if (body->length > (goffset) limit)
    {
      kefu_request_error (request, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "too_large",
                          "The request body is %" G_GOFFSET_FORMAT " bytes; at most %zu are "
                          "accepted here", body->length, limit);
      respond_now (self, msg, request);
      return;
    }

  request->content_type = g_strdup (soup_message_headers_get_content_type (headers, NULL));
  if (body->length > 0)
    {
      g_autoptr(GBytes) flat = soup_message_body_flatten (body);

      request->body = g_bytes_ref (flat);
      if (!(request->route->flags & KEFU_ROUTE_RAW) && !is_json_type (request->content_type))
        {
          kefu_request_error (request, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                              "Send the body as application/json (got %s)",
                              request->content_type ? request->content_type : "no Content-Type");
          respond_now (self, msg, request);
          return;
        }
    }

  if (query)
    {
      GHashTableIter iter;
      gpointer key, value;

      request->query = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      g_hash_table_iter_init (&iter, query);
      while (g_hash_table_iter_next (&iter, &key, &value))
        g_hash_table_insert (request->query, g_strdup (key), g_strdup (value));
    }

  authorization = soup_message_headers_get_one (headers, "Authorization");
  if (authorization && g_ascii_strncasecmp (authorization, "Bearer ", 7) == 0)
    request->token = g_strstrip (g_strdup (authorization + 7));
  request->op_id = g_strdup (soup_message_headers_get_one (headers, "Idempotency-Key"));
  if_match = soup_message_headers_get_one (headers, "If-Match");
  if (if_match)
    {
      g_autofree char *digits = g_strdup (if_match);
      guint64 version;

      g_strstrip (digits);
      g_strdelimit (digits, "\"", ' ');
      g_strstrip (digits);
      if (!g_ascii_string_to_unsigned (digits, 10, 0, G_MAXINT64, &version, NULL))
        {
          kefu_request_error (request, SOUP_STATUS_BAD_REQUEST, "bad_if_match",
                              "If-Match must hold the version number the change is based on, "
                              "not “%s”", if_match);
          respond_now (self, msg, request);
          return;
        }
      request->base_version = (gint64) version;
    }
  if (request->op_id && (strlen (request->op_id) == 0 || strlen (request->op_id) > 128))
    {
      kefu_request_error (request, SOUP_STATUS_BAD_REQUEST, "bad_idempotency_key",
                          "Idempotency-Key must be 1 to 128 characters");
      respond_now (self, msg, request);
      return;
    }
  request->client = client_address (msg);

  soup_server_message_pause (msg);
  g_signal_connect (msg, "disconnected", G_CALLBACK (on_message_gone), NULL);
  g_atomic_int_inc (&in_flight);
  task = g_task_new (NULL, NULL, on_request_done, g_object_ref (msg));
  g_task_set_task_data (task, request, (GDestroyNotify) kefu_request_free);
  g_task_run_in_thread (task, run_request);
  g_object_unref (task);
}

/* --- the event stream -------------------------------------------------------------- */

typedef struct {
  KefuServer              *server;
  SoupWebsocketConnection *connection;
  GBytes                  *message;
  char                    *username;
  JsonArray               *stored;
  char                    *reply;
} Publish;

static void
publish_free (Publish *publish)
{
  g_object_unref (publish->connection);
  g_bytes_unref (publish->message);
  g_free (publish->username);
  g_clear_pointer (&publish->stored, json_array_unref);
  g_free (publish->reply);
  g_free (publish);
}

static char *
publish_error (const char *code,
               const char *message)
{
  g_autoptr(JsonObject) body = json_object_new ();
  JsonObject *error = json_object_new ();

  json_object_set_string_member (error, "code", code);
  json_object_set_string_member (error, "message", message);
  json_object_set_object_member (body, "error", error);
  return kefu_record_encode (body);
}

/* Parses one event or {"events": [...], "op_id": "..."} and validates every
 * event; the whole batch is refused if one is bad. */
JsonArray *kefu_server_parse_events (KefuServer *self, const char *text, gsize len,
                                     char **out_op_id, char **out_field, GError **error);

static void
run_publish (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  Publish *publish = task_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) events = NULL;
  g_autofree char *op_id = NULL;
  g_autofree char *scoped = NULL;
  g_autofree char *field = NULL;
  gsize len;
  const char *text = g_bytes_get_data (publish->message, &len);
  KefuWrite write = KEFU_WRITE_INIT;
  gboolean replayed = FALSE;

  events = kefu_server_parse_events (publish->server, text, len, &op_id, &field, &error);
  if (events)
    {
      scoped = op_id ? g_strdup_printf ("%s events %s", publish->username, op_id) : NULL;
      write.op_id = scoped;
      write.actor = publish->username;
      write.status = 201;
      publish->stored = kefu_store_append_events (publish->server->store, events, &write, &replayed,
                                                  &error);
    }
  if (!publish->stored)
    {
      publish->reply = publish_error (error->domain == KEFU_RECORD_ERROR ? "invalid_event"
                                      : error->domain == KEFU_STORE_ERROR ? "invalid_event"
                                      : "store_unavailable", error->message);
    }
  else
    {
      g_autoptr(JsonObject) ack = json_object_new ();
      JsonArray *ids = json_array_new ();

      for (guint i = 0; i < json_array_get_length (publish->stored); i++)
        json_array_add_int_element (ids, json_object_get_int_member (
          json_array_get_object_element (publish->stored, i), "id"));
      if (op_id)
        json_object_set_string_member (ack, "ack", op_id);
      json_object_set_array_member (ack, "ids", ids);
      json_object_set_boolean_member (ack, "replayed", replayed);
      publish->reply = kefu_record_encode (ack);
      /* A replay was broadcast the first time. */
      if (replayed)
        g_clear_pointer (&publish->stored, json_array_unref);
    }
  g_task_return_boolean (task, TRUE);
}

static void
on_publish_done (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Publish *publish = g_task_get_task_data (G_TASK (result));
  KefuServer *self = publish->server;

  if (soup_websocket_connection_get_state (publish->connection) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_send_text (publish->connection, publish->reply);
  if (publish->stored)
    {
      kefu_server_stats_events (self->stats, json_array_get_length (publish->stored));
      kefu_event_hub_broadcast (self->hub, publish->stored);
    }
  g_atomic_int_dec_and_test (&in_flight);
}

static void
on_publish (KefuEventHub            *hub,
            SoupWebsocketConnection *connection,
            const char              *username,
            GBytes                  *message,
            gpointer                 user_data)
{
  KefuServer *self = user_data;
  Publish *publish = g_new0 (Publish, 1);
  GTask *task;

  publish->server = self;
  publish->connection = g_object_ref (connection);
  publish->message = g_bytes_ref (message);
  publish->username = g_strdup (username);

  g_atomic_int_inc (&in_flight);
  /* One publisher's events stay in order: the switch sends one batch and
   * waits for its ack before the next. */
  task = g_task_new (NULL, NULL, on_publish_done, NULL);
  g_task_set_task_data (task, publish, (GDestroyNotify) publish_free);
  g_task_run_in_thread (task, run_publish);
  g_object_unref (task);
}

static void
on_websocket (SoupServer              *server,
              SoupServerMessage       *msg,
              const char              *path,
              SoupWebsocketConnection *connection,
              gpointer                 user_data)
{
  KefuServer *self = user_data;
  KefuSession *session = g_object_get_data (G_OBJECT (msg), "kefu-session");

  if (!session)
    {
      soup_websocket_connection_close (connection, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION,
                                       "log in first");
      return;
    }
  kefu_event_hub_add (self->hub, connection, session->username,
                      g_str_equal (session->role, "service") || g_str_equal (session->role, "admin"));
}

/* Runs when the headers are in.  The event stream is authenticated here,
 * before the upgrade, so a bad token gets a plain 401. */
static void
on_early_request (SoupServer        *server,
                  SoupServerMessage *msg,
                  const char        *path,
                  GHashTable        *query,
                  gpointer           user_data)
{
  KefuServer *self = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *authorization = soup_message_headers_get_one (headers, "Authorization");
  g_autofree char *token = NULL;
  g_autoptr(GError) error = NULL;
  KefuSession *session;

  if (!g_str_equal (path, "/v1/events/stream"))
    {
      goffset length = soup_message_headers_get_content_length (headers);
      gsize limit = g_str_has_suffix (path, "/document") ? self->config->max_document_bytes
                                                        : self->config->max_body_bytes;

      /* Refuse an over-large body before reading it, not after. */
      if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH &&
          length > (goffset) limit)
        {
          g_autofree char *message = g_strdup_printf ("The request body is %" G_GOFFSET_FORMAT
                                                      " bytes; at most %zu are accepted here",
                                                      length, limit);
          g_autofree char *body = publish_error ("too_large", message);

          soup_server_message_set_status (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, NULL);
          soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, body,
                                            strlen (body));
          soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                        "Connection", "close");
        }
      return;
    }

  if (authorization && g_ascii_strncasecmp (authorization, "Bearer ", 7) == 0)
    token = g_strstrip (g_strdup (authorization + 7));
  else if (query && g_hash_table_lookup (query, "token"))
    token = g_strdup (g_hash_table_lookup (query, "token"));

  session = kefu_auth_check_token (self->auth, token, &error);
  if (!session)
    {
      g_autofree char *body = publish_error ("unauthorized", error->message);

      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "WWW-Authenticate", "Bearer realm=\"kefu\"");
      soup_server_message_set_status (msg, SOUP_STATUS_UNAUTHORIZED, NULL);
      soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, body,
                                        strlen (body));
      return;
    }
  if (!soup_message_headers_header_contains (headers, "Upgrade", "websocket"))
    {
      g_autofree char *body = publish_error ("websocket_required",
                                             "/v1/events/stream is a WebSocket; connect with an "
                                             "Upgrade: websocket request (the token as "
                                             "Authorization: Bearer or ?token=)");

      soup_server_message_set_status (msg, SOUP_STATUS_BAD_REQUEST, NULL);
      soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, body,
                                        strlen (body));
      kefu_session_free (session);
      return;
    }

  g_object_set_data_full (G_OBJECT (msg), "kefu-session", session,
                          (GDestroyNotify) kefu_session_free);
}

/* --- lifecycle ---------------------------------------------------------------------- */

static void
kefu_server_dispose (GObject *object)
{
  KefuServer *self = KEFU_SERVER (object);

  kefu_server_shutdown (self);
  g_clear_signal_handler (&self->publish_id, self->hub);
  g_clear_object (&self->soup);
  g_clear_object (&self->hub);
  g_clear_object (&self->auth);
  g_clear_object (&self->store);
  g_clear_pointer (&self->stats, kefu_server_stats_free);
  g_clear_pointer (&self->tz, g_time_zone_unref);
  g_clear_pointer (&self->url, g_free);

  G_OBJECT_CLASS (kefu_server_parent_class)->dispose (object);
}

static void
kefu_server_class_init (KefuServerClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = kefu_server_dispose;
}

static void
kefu_server_init (KefuServer *self)
{
}

KefuServer *
kefu_server_new (KefuServerConfig  *config,
                 KefuStore         *store,
                 GError           **error)
{
  g_autoptr(KefuServer) self = g_object_new (KEFU_TYPE_SERVER, NULL);

  self->config = config;
  self->store = g_object_ref (store);
  self->tz = g_time_zone_new_identifier (config->timezone);
  if (!self->tz)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Unknown time zone “%s”", config->timezone);
      return NULL;
    }
  self->auth = kefu_auth_new (store, config->password_cost, config->session_hours,
                              config->login_max_failures, config->login_window_s);
  self->hub = kefu_event_hub_new ();
  self->stats = kefu_server_stats_new ();
  self->publish_id = g_signal_connect (self->hub, "publish", G_CALLBACK (on_publish), self);
  self->soup = soup_server_new ("server-header", "kefu-server/" PACKAGE_VERSION " ", NULL);

  /* libsoup keeps early handlers per path: the stream's own path needs its
   * own registration besides the catch-all. */
  soup_server_add_early_handler (self->soup, NULL, on_early_request, self, NULL);
  soup_server_add_early_handler (self->soup, "/v1/events/stream", on_early_request, self, NULL);
  soup_server_add_websocket_handler (self->soup, "/v1/events/stream", NULL, NULL, on_websocket,
                                     self, NULL);
  soup_server_add_handler (self->soup, NULL, on_http_request, self, NULL);
  return g_steal_pointer (&self);
}

gboolean
kefu_server_listen (KefuServer  *self,
                    GError     **error)
{
  g_autoptr(GInetAddress) address = g_inet_address_new_from_string (self->config->listen_host);
  g_autoptr(GSocketAddress) socket_address = NULL;
  g_autoptr(GSocket) socket = NULL;
  GSList *listeners;

  if (!address)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Cannot listen on “%s”: give an IP address such as 127.0.0.1 or 0.0.0.0",
                   self->config->listen_host);
      return FALSE;
    }
  socket_address = g_inet_socket_address_new (address, self->config->listen_port);
  /* Our own socket, for its backlog: GLib's default of 10 pending
   * connections makes the eleventh desktop of a burst (a shift signing
   * in, every desktop coming back after an outage) wait a second for its
   * SYN to be sent again. */
  socket = g_socket_new (g_inet_address_get_family (address), G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_TCP, error);
  if (socket)
    g_socket_set_listen_backlog (socket, LISTEN_BACKLOG);
  if (!socket || !g_socket_bind (socket, socket_address, TRUE, error) ||
      !g_socket_listen (socket, error) ||
      !soup_server_listen_socket (self->soup, socket, 0, error))
    {
      g_prefix_error (error, "Cannot listen on %s:%u: ", self->config->listen_host,
                      self->config->listen_port);
      return FALSE;
    }
  /* The bound port, from the listening socket itself (port 0 picks one). */
  listeners = soup_server_get_listeners (self->soup);
  if (listeners)
    {
      g_autoptr(GSocketAddress) local = g_socket_get_local_address (listeners->data, NULL);

      if (local && G_IS_INET_SOCKET_ADDRESS (local))
        {
          g_free (self->url);
          self->url = g_strdup_printf ("http://%s:%u", self->config->listen_host,
                                       g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local)));
        }
    }
  g_slist_free (listeners);
  return TRUE;
}

const char *
kefu_server_get_url (KefuServer *self)
{
  return self->url;
}

void
kefu_server_shutdown (KefuServer *self)
{
  if (self->soup)
    soup_server_disconnect (self->soup);
  if (self->hub)
    kefu_event_hub_close_all (self->hub);
  /* Let workers finish; they hold the store and their replies are owed. */
  while (g_atomic_int_get (&in_flight) > 0)
    g_main_context_iteration (NULL, TRUE);
}
