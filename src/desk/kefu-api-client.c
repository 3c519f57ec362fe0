/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuApiClient"

#include "config.h"

#include "kefu-api-client.h"

#include <glib/gi18n-lib.h>
#include <libsoup/soup.h>
#include <string.h>

enum {
  PROP_0,
  PROP_BASE_URL,
  PROP_TOKEN,
  PROP_TIMEOUT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

struct _KefuApiClient {
  GObject      parent_instance;

  /* owned */
  SoupSession *session;
  char        *base_url;
  char        *token;
};

G_DEFINE_FINAL_TYPE (KefuApiClient, kefu_api_client, G_TYPE_OBJECT)

G_DEFINE_QUARK (kefu-api-error-quark, kefu_api_error)

#define DEFAULT_TIMEOUT_S 15

typedef enum {
  REQUEST_LOGIN = 1 << 0,   /* no token sent; a 401 means a wrong password */
} RequestFlags;

typedef struct {
  SoupMessage *message;
  char        *method;
  char        *path;
  guint        flags;
  JsonObject  *current;   /* a 409's server copy */
} RequestData;

static void
request_data_free (RequestData *data)
{
  g_clear_object (&data->message);
  g_free (data->method);
  g_free (data->path);
  g_clear_pointer (&data->current, json_object_unref);
  g_free (data);
}

gboolean
kefu_api_error_is_transient (const GError *error)
{
  return error && error->domain == KEFU_API_ERROR &&
         (error->code == KEFU_API_ERROR_UNREACHABLE || error->code == KEFU_API_ERROR_SERVER ||
          error->code == KEFU_API_ERROR_RATE_LIMITED);
}

static KefuApiError
error_code_for (guint        status,
                const char  *code)
{
  switch (status)
    {
    case SOUP_STATUS_UNAUTHORIZED:
      return KEFU_API_ERROR_UNAUTHORIZED;
    case SOUP_STATUS_FORBIDDEN:
      return KEFU_API_ERROR_FORBIDDEN;
    case SOUP_STATUS_NOT_FOUND:
      return KEFU_API_ERROR_NOT_FOUND;
    case SOUP_STATUS_CONFLICT:
      return g_strcmp0 (code, "version_conflict") == 0 ? KEFU_API_ERROR_CONFLICT
                                                        : KEFU_API_ERROR_DUPLICATE;
    case 429:  /* Too Many Requests */
      return KEFU_API_ERROR_RATE_LIMITED;
    default:
      return status >= 500 ? KEFU_API_ERROR_SERVER : KEFU_API_ERROR_INVALID;
    }
}

static JsonNode *
parse_body (GBytes *bytes)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  gsize len = 0;
  const char *text = bytes ? g_bytes_get_data (bytes, &len) : NULL;

  if (!text || len == 0 || !json_parser_load_from_data (parser, text, (gssize) len, NULL))
    return NULL;
  return json_parser_steal_root (parser);
}

static void
on_request_sent (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  KefuApiClient *self = g_task_get_source_object (task);
  RequestData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(JsonNode) root = NULL;
  guint status;

  bytes = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  if (!bytes)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
      g_debug ("%s %s: %s", data->method, data->path, error->message);
      g_task_return_new_error (task, KEFU_API_ERROR, KEFU_API_ERROR_UNREACHABLE,
                               _("Cannot reach the server at %s: %s"), self->base_url,
                               error->message);
      return;
    }

  status = soup_message_get_status (data->message);
  root = parse_body (bytes);
  if (SOUP_STATUS_IS_SUCCESSFUL (status))
    {
      if (status == SOUP_STATUS_NO_CONTENT || g_bytes_get_size (bytes) == 0)
        {
          g_task_return_pointer (task, json_object_new (), (GDestroyNotify) json_object_unref);
          return;
        }
      if (!root || !JSON_NODE_HOLDS_OBJECT (root))
        {
          g_task_return_new_error (task, KEFU_API_ERROR, KEFU_API_ERROR_PROTOCOL,
                                   _("The server's answer to %s %s could not be read"),
                                   data->method, data->path);
          return;
        }
      g_task_return_pointer (task, json_object_ref (json_node_get_object (root)),
                             (GDestroyNotify) json_object_unref);
      return;
    }

  {
    JsonObject *body = root && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
    JsonObject *error_object = NULL;
    const char *code = NULL;
    const char *message = NULL;
    KefuApiError api_code;

    if (body && json_object_has_member (body, "error") &&
        JSON_NODE_HOLDS_OBJECT (json_object_get_member (body, "error")))
      {
        error_object = json_object_get_object_member (body, "error");
        if (json_object_has_member (error_object, "code"))
          code = json_object_get_string_member (error_object, "code");
        if (json_object_has_member (error_object, "message"))
          message = json_object_get_string_member (error_object, "message");
      }
    if (body && json_object_has_member (body, "current") &&
        JSON_NODE_HOLDS_OBJECT (json_object_get_member (body, "current")))
      data->current = json_object_ref (json_object_get_object_member (body, "current"));

    api_code = error_code_for (status, code);
    switch (api_code)
      {
      case KEFU_API_ERROR_UNAUTHORIZED:
        if (data->flags & REQUEST_LOGIN)
          g_task_return_new_error (task, KEFU_API_ERROR, api_code,
                                   _("Wrong username or password"));
        else
          g_task_return_new_error (task, KEFU_API_ERROR, api_code,
                                   _("Your session with the server has ended; sign in again"));
        break;
      case KEFU_API_ERROR_SERVER:
        g_task_return_new_error (task, KEFU_API_ERROR, api_code,
                                 _("The server could not do it (%u): %s"), status,
                                 message ? message
                                         : soup_message_get_reason_phrase (data->message));
        break;
      default:
        if (message)
          g_task_return_new_error (task, KEFU_API_ERROR, api_code, "%s", message);
        else
          g_task_return_new_error (task, KEFU_API_ERROR, api_code,
                                   _("The server answered %u to %s %s"), status, data->method,
                                   data->path);
        break;
      }
  }
}

static void
start_request (KefuApiClient       *self,
               const char          *method,
               const char          *path,
               JsonObject          *body,
               const char          *op_id,
               gint64               base_version,
               guint                flags,
               GCancellable        *cancellable,
               GAsyncReadyCallback  callback,
               gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_autofree char *uri = g_strconcat (self->base_url ? self->base_url : "", path, NULL);
  g_autoptr(GError) error = NULL;
  RequestData *data;
  SoupMessageHeaders *headers;
  GUri *parsed;

  g_task_set_source_tag (task, start_request);

  parsed = g_uri_parse (uri, SOUP_HTTP_URI_FLAGS, &error);
  if (!parsed || (g_strcmp0 (g_uri_get_scheme (parsed), "http") != 0 &&
                  g_strcmp0 (g_uri_get_scheme (parsed), "https") != 0))
    {
      g_clear_pointer (&parsed, g_uri_unref);
      g_task_return_new_error (task, KEFU_API_ERROR, KEFU_API_ERROR_UNREACHABLE,
                               _("“%s” is not a server address; write it like "
                                 "http://kefu.example.com:8080"),
                               self->base_url ? self->base_url : "");
      return;
    }

  data = g_new0 (RequestData, 1);
  data->message = soup_message_new_from_uri (method, parsed);
  g_uri_unref (parsed);
  data->method = g_strdup (method);
  data->path = g_strdup (path);
  data->flags = flags;
  g_task_set_task_data (task, data, (GDestroyNotify) request_data_free);

  headers = soup_message_get_request_headers (data->message);
  soup_message_headers_replace (headers, "Accept", "application/json");
  if (self->token && !(flags & REQUEST_LOGIN))
    {
      g_autofree char *value = g_strconcat ("Bearer ", self->token, NULL);

      soup_message_headers_replace (headers, "Authorization", value);
    }
  if (op_id)
    {
      soup_message_headers_replace (headers, "Idempotency-Key", op_id);
      /* The server makes a keyed write safe to repeat, so it may go on a
       * kept-alive connection like a GET. */
      soup_message_add_flags (data->message, SOUP_MESSAGE_IDEMPOTENT);
    }
  if (base_version >= 0)
    {
      g_autofree char *etag = g_strdup_printf ("\"%" G_GINT64_FORMAT "\"", base_version);

      soup_message_headers_replace (headers, "If-Match", etag);
    }
  if (body)
    {
      g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), body);
      g_autofree char *text = json_to_string (node, FALSE);
      gsize len = strlen (text);
      g_autoptr(GBytes) bytes = g_bytes_new_take (g_steal_pointer (&text), len);

      soup_message_set_request_body_from_bytes (data->message, "application/json", bytes);
    }

  soup_session_send_and_read_async (self->session, data->message, G_PRIORITY_DEFAULT, cancellable,
                                    on_request_sent, g_steal_pointer (&task));
}

static JsonObject *
finish_request (KefuApiClient  *self,
                GAsyncResult   *result,
                JsonObject    **out_current,
                GError        **error)
{
  GTask *task = G_TASK (result);

  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (task) == start_request, NULL);

  if (out_current)
    {
      RequestData *data = g_task_get_task_data (task);

      *out_current = data && data->current ? json_object_ref (data->current) : NULL;
    }
  return g_task_propagate_pointer (task, error);
}

/* Chains a request to an outer task whose result is made by convert. */
typedef gpointer (*ConvertFunc) (KefuApiClient *self, JsonObject *answer, GError **error);

typedef struct {
  ConvertFunc    convert;
  GDestroyNotify destroy;
} Chain;

static void
on_chained_request (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  KefuApiClient *self = KEFU_API_CLIENT (source);
  const Chain *chain = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) answer = finish_request (self, result, NULL, &error);
  gpointer value;

  if (!answer)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  value = chain->convert (self, answer, &error);
  if (!value)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, value, chain->destroy);
}

static void
chained_request (KefuApiClient       *self,
                 gpointer             source_tag,
                 const Chain         *chain,
                 const char          *method,
                 const char          *path,
                 JsonObject          *body,
                 guint                flags,
                 GCancellable        *cancellable,
                 GAsyncReadyCallback  callback,
                 gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, (gpointer) chain, NULL);
  start_request (self, method, path, body, NULL, -1, flags, cancellable, on_chained_request, task);
}

static gpointer
chained_finish (KefuApiClient  *self,
                GAsyncResult   *result,
                gpointer        source_tag,
                GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static gpointer
convert_object (KefuApiClient  *self,
                JsonObject     *answer,
                GError        **error)
{
  return json_object_ref (answer);
}

static const Chain object_chain = { convert_object, (GDestroyNotify) json_object_unref };

/* --- properties ---------------------------------------------------------- */

static void
kefu_api_client_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  KefuApiClient *self = KEFU_API_CLIENT (object);

  switch (prop_id)
    {
    case PROP_BASE_URL:
      g_value_set_string (value, self->base_url);
      break;
    case PROP_TOKEN:
      g_value_set_string (value, self->token);
      break;
    case PROP_TIMEOUT:
      g_value_set_uint (value, soup_session_get_timeout (self->session));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kefu_api_client_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  KefuApiClient *self = KEFU_API_CLIENT (object);

  switch (prop_id)
    {
    case PROP_BASE_URL:
      kefu_api_client_set_base_url (self, g_value_get_string (value));
      break;
    case PROP_TOKEN:
      kefu_api_client_set_token (self, g_value_get_string (value));
      break;
    case PROP_TIMEOUT:
      kefu_api_client_set_timeout (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kefu_api_client_dispose (GObject *object)
{
  KefuApiClient *self = KEFU_API_CLIENT (object);

  if (self->session)
    soup_session_abort (self->session);
  g_clear_object (&self->session);

  G_OBJECT_CLASS (kefu_api_client_parent_class)->dispose (object);
}

static void
kefu_api_client_finalize (GObject *object)
{
  KefuApiClient *self = KEFU_API_CLIENT (object);

  g_free (self->base_url);
  g_free (self->token);

  G_OBJECT_CLASS (kefu_api_client_parent_class)->finalize (object);
}

static void
kefu_api_client_class_init (KefuApiClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = kefu_api_client_get_property;
  object_class->set_property = kefu_api_client_set_property;
  object_class->dispose = kefu_api_client_dispose;
  object_class->finalize = kefu_api_client_finalize;

  properties[PROP_BASE_URL] =
    g_param_spec_string ("base-url", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_TOKEN] =
    g_param_spec_string ("token", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_TIMEOUT] =
    g_param_spec_uint ("timeout", NULL, NULL, 1, 3600, DEFAULT_TIMEOUT_S,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
kefu_api_client_init (KefuApiClient *self)
{
  self->session = soup_session_new_with_options ("timeout", DEFAULT_TIMEOUT_S,
                                                 "user-agent", "kefu/" PACKAGE_VERSION,
                                                 NULL);
}

KefuApiClient *
kefu_api_client_new (const char *base_url)
{
  return g_object_new (KEFU_TYPE_API_CLIENT, "base-url", base_url, NULL);
}

const char *
kefu_api_client_get_base_url (KefuApiClient *self)
{
  g_return_val_if_fail (KEFU_IS_API_CLIENT (self), NULL);
  return self->base_url;
}

void
kefu_api_client_set_base_url (KefuApiClient *self,
                              const char    *base_url)
{
  g_autofree char *trimmed = NULL;

  g_return_if_fail (KEFU_IS_API_CLIENT (self));

  if (base_url)
    {
      trimmed = g_strstrip (g_strdup (base_url));
      while (g_str_has_suffix (trimmed, "/"))
        trimmed[strlen (trimmed) - 1] = '\0';
    }
  if (g_strcmp0 (trimmed, self->base_url) == 0)
    return;
  g_free (self->base_url);
  self->base_url = g_steal_pointer (&trimmed);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BASE_URL]);
}

const char *
kefu_api_client_get_token (KefuApiClient *self)
{
  g_return_val_if_fail (KEFU_IS_API_CLIENT (self), NULL);
  return self->token;
}

void
kefu_api_client_set_token (KefuApiClient *self,
                           const char    *token)
{
  g_return_if_fail (KEFU_IS_API_CLIENT (self));

  if (g_strcmp0 (token, self->token) == 0)
    return;
  g_free (self->token);
  self->token = g_strdup (token);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TOKEN]);
}

void
kefu_api_client_set_timeout (KefuApiClient *self,
                             guint          seconds)
{
  g_return_if_fail (KEFU_IS_API_CLIENT (self));

  g_object_set (self->session, "timeout", seconds, NULL);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TIMEOUT]);
}

/* --- requests -------------------------------------------------------------- */

void
kefu_api_client_request_async (KefuApiClient       *self,
                               const char          *method,
                               const char          *path,
                               JsonObject          *body,
                               const char          *op_id,
                               gint64               base_version,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_return_if_fail (KEFU_IS_API_CLIENT (self));
  g_return_if_fail (method && path);

  start_request (self, method, path, body, op_id, base_version, 0, cancellable, callback,
                 user_data);
}

JsonObject *
kefu_api_client_request_finish (KefuApiClient  *self,
                                GAsyncResult   *result,
                                JsonObject    **out_current,
                                GError        **error)
{
  return finish_request (self, result, out_current, error);
}

static gpointer
convert_login (KefuApiClient  *self,
               JsonObject     *answer,
               GError        **error)
{
  JsonNode *token = json_object_get_member (answer, "token");

  if (!token || json_node_get_value_type (token) != G_TYPE_STRING)
    {
      g_set_error (error, KEFU_API_ERROR, KEFU_API_ERROR_PROTOCOL,
                   _("The server's answer to the sign-in had no token"));
      return NULL;
    }
  kefu_api_client_set_token (self, json_node_get_string (token));
  return json_object_ref (answer);
}

static const Chain login_chain = { convert_login, (GDestroyNotify) json_object_unref };

void
kefu_api_client_login_async (KefuApiClient       *self,
                             const char          *username,
                             const char          *password,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(JsonObject) body = json_object_new ();

  g_return_if_fail (KEFU_IS_API_CLIENT (self));

  json_object_set_string_member (body, "username", username ? username : "");
  json_object_set_string_member (body, "password", password ? password : "");
  chained_request (self, kefu_api_client_login_async, &login_chain, "POST", "/v1/sessions", body,
                   REQUEST_LOGIN, cancellable, callback, user_data);
}

JsonObject *
kefu_api_client_login_finish (KefuApiClient  *self,
                              GAsyncResult   *result,
                              GError        **error)
{
  return chained_finish (self, result, kefu_api_client_login_async, error);
}

static void
on_logout_sent (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) answer = finish_request (KEFU_API_CLIENT (source), result, NULL, &error);

  /* A session the server already ended is ended. */
  if (!answer && !g_error_matches (error, KEFU_API_ERROR, KEFU_API_ERROR_UNAUTHORIZED))
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

void
kefu_api_client_logout_async (KefuApiClient       *self,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (KEFU_IS_API_CLIENT (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kefu_api_client_logout_async);
  /* Sent with the token, which is forgotten right away: even offline the
   * desktop stops using it. */
  start_request (self, "DELETE", "/v1/sessions/current", NULL, NULL, -1, 0, cancellable,
                 on_logout_sent, task);
  kefu_api_client_set_token (self, NULL);
}

gboolean
kefu_api_client_logout_finish (KefuApiClient  *self,
                               GAsyncResult   *result,
                               GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static gpointer
convert_items (KefuApiClient  *self,
               JsonObject     *answer,
               GError        **error)
{
  JsonNode *items = json_object_get_member (answer, "items");

  if (!items || !JSON_NODE_HOLDS_ARRAY (items))
    {
      g_set_error (error, KEFU_API_ERROR, KEFU_API_ERROR_PROTOCOL,
                   _("The server's list of customers could not be read"));
      return NULL;
    }
  return json_array_ref (json_node_get_array (items));
}

static const Chain items_chain = { convert_items, (GDestroyNotify) json_array_unref };

void
kefu_api_client_find_customers_async (KefuApiClient       *self,
                                      const char          *phone,
                                      const char          *query,
                                      guint                limit,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  g_autofree char *escaped = NULL;
  g_autofree char *path = NULL;

  g_return_if_fail (KEFU_IS_API_CLIENT (self));
  g_return_if_fail ((phone != NULL) != (query != NULL));

  escaped = g_uri_escape_string (phone ? phone : query, NULL, FALSE);
  path = g_strdup_printf ("/v1/customers?%s=%s&limit=%u", phone ? "phone" : "q", escaped,
                          limit ? limit : 50);
  chained_request (self, kefu_api_client_find_customers_async, &items_chain, "GET", path, NULL, 0,
                   cancellable, callback, user_data);
}

JsonArray *
kefu_api_client_find_customers_finish (KefuApiClient  *self,
                                       GAsyncResult   *result,
                                       GError        **error)
{
  return chained_finish (self, result, kefu_api_client_find_customers_async, error);
}

void
kefu_api_client_get_customer_history_async (KefuApiClient       *self,
                                            gint64               customer_id,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data)
{
  g_autofree char *path = g_strdup_printf ("/v1/customers/%" G_GINT64_FORMAT "/history",
                                           customer_id);

  g_return_if_fail (KEFU_IS_API_CLIENT (self));
  chained_request (self, kefu_api_client_get_customer_history_async, &object_chain, "GET", path,
                   NULL, 0, cancellable, callback, user_data);
}

JsonObject *
kefu_api_client_get_customer_history_finish (KefuApiClient  *self,
                                             GAsyncResult   *result,
                                             GError        **error)
{
  return chained_finish (self, result, kefu_api_client_get_customer_history_async, error);
}

void
kefu_api_client_set_agent_state_async (KefuApiClient       *self,
                                       const char          *state,
                                       const char          *reason,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  g_autoptr(JsonObject) body = json_object_new ();

  g_return_if_fail (KEFU_IS_API_CLIENT (self));
  g_return_if_fail (state != NULL);

  json_object_set_string_member (body, "state", state);
  if (reason)
    json_object_set_string_member (body, "reason", reason);
  chained_request (self, kefu_api_client_set_agent_state_async, &object_chain, "PUT",
                   "/v1/agents/me/state", body, 0, cancellable, callback, user_data);
}

JsonObject *
kefu_api_client_set_agent_state_finish (KefuApiClient  *self,
                                        GAsyncResult   *result,
                                        GError        **error)
{
  return chained_finish (self, result, kefu_api_client_set_agent_state_async, error);
}

static gpointer
convert_reason_codes (KefuApiClient  *self,
                      JsonObject     *answer,
                      GError        **error)
{
  JsonNode *node = json_object_get_member (answer, "reason_codes");
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  JsonArray *codes;

  if (!node || !JSON_NODE_HOLDS_ARRAY (node))
    {
      g_set_error (error, KEFU_API_ERROR, KEFU_API_ERROR_PROTOCOL,
                   _("The server's list of reason codes could not be read"));
      return NULL;
    }
  codes = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (codes); i++)
    {
      JsonNode *code = json_array_get_element (codes, i);

      if (JSON_NODE_HOLDS_VALUE (code) && json_node_get_value_type (code) == G_TYPE_STRING)
        g_strv_builder_add (builder, json_node_get_string (code));
    }
  return g_strv_builder_end (builder);
}

static const Chain reason_codes_chain = { convert_reason_codes, (GDestroyNotify) g_strfreev };

void
kefu_api_client_get_reason_codes_async (KefuApiClient       *self,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data)
{
  g_return_if_fail (KEFU_IS_API_CLIENT (self));
  chained_request (self, kefu_api_client_get_reason_codes_async, &reason_codes_chain, "GET",
                   "/v1/reason-codes", NULL, 0, cancellable, callback, user_data);
}

char **
kefu_api_client_get_reason_codes_finish (KefuApiClient  *self,
                                         GAsyncResult   *result,
                                         GError        **error)
{
  return chained_finish (self, result, kefu_api_client_get_reason_codes_async, error);
}

static gpointer
convert_changes (KefuApiClient  *self,
                 JsonObject     *answer,
                 GError        **error)
{
  JsonNode *changes = json_object_get_member (answer, "changes");
  JsonNode *cursor = json_object_get_member (answer, "cursor");

  if (!changes || !JSON_NODE_HOLDS_ARRAY (changes) || !cursor ||
      json_node_get_value_type (cursor) != G_TYPE_INT64)
    {
      g_set_error (error, KEFU_API_ERROR, KEFU_API_ERROR_PROTOCOL,
                   _("The server's change feed could not be read"));
      return NULL;
    }
  return json_object_ref (answer);
}

static const Chain changes_chain = { convert_changes, (GDestroyNotify) json_object_unref };

void
kefu_api_client_get_changes_async (KefuApiClient       *self,
                                   gint64               since,
                                   guint                limit,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_autofree char *path = g_strdup_printf ("/v1/changes?since=%" G_GINT64_FORMAT "&limit=%u",
                                           since, limit ? limit : 500);

  g_return_if_fail (KEFU_IS_API_CLIENT (self));
  chained_request (self, kefu_api_client_get_changes_async, &changes_chain, "GET", path, NULL, 0,
                   cancellable, callback, user_data);
}

JsonObject *
kefu_api_client_get_changes_finish (KefuApiClient  *self,
                                    GAsyncResult   *result,
                                    GError        **error)
{
  return chained_finish (self, result, kefu_api_client_get_changes_async, error);
}
