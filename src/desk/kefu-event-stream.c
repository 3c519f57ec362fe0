/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuEventStream"

#include "config.h"

#include "kefu-event-stream.h"

#include <libsoup/soup.h>

#include "kefu-record.h"

#define FIRST_BACKOFF_MS 1000
#define DEFAULT_MAX_BACKOFF_MS 16000
/* Seconds a connection attempt may take before it counts as failed. */
#define CONNECT_TIMEOUT_S 15
/* An idle desktop behind NAT loses its socket silently without traffic. */
#define KEEPALIVE_S 30
/* An event's data is at most 16 KiB; the rest of it is small. */
#define MAX_MESSAGE_BYTES (256 * 1024)

enum {
  PROP_0,
  PROP_CLIENT,
  PROP_CONNECTED,
  PROP_MAX_BACKOFF,
  N_PROPS,
};

static GParamSpec *props[N_PROPS];

enum {
  SIGNAL_EVENT,
  N_SIGNALS,
};

static guint signals[N_SIGNALS];

struct _KefuEventStream
{
  GObject parent_instance;

  /* owned */
  KefuApiClient           *client;
  SoupSession             *session;
  SoupWebsocketConnection *connection;
  GCancellable            *connecting;    /* the attempt under way */
  guint                    retry_source;
  guint                    backoff_ms;    /* the next wait; 0 after a good connection */
  guint                    max_backoff_ms;
  gboolean                 running;
  gboolean                 connected;
  gulong                   token_id;
};

G_DEFINE_FINAL_TYPE (KefuEventStream, kefu_event_stream, G_TYPE_OBJECT)

static void connect_now (KefuEventStream *self);

static void
set_connected (KefuEventStream *self,
               gboolean         connected)
{
  if (self->connected == connected)
    return;
  self->connected = connected;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_CONNECTED]);
}

static gboolean
on_retry (gpointer data)
{
  KefuEventStream *self = data;

  self->retry_source = 0;
  connect_now (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_retry (KefuEventStream *self)
{
  guint delay;

  if (!self->running || self->retry_source)
    return;
  delay = self->backoff_ms ? self->backoff_ms : FIRST_BACKOFF_MS;
  self->backoff_ms = MIN (delay * 2, self->max_backoff_ms);
  /* a server restart drops every desktop at once: they must not all come
   * back in the same millisecond */
  delay += (guint) g_random_int_range (0, (gint32) (delay / 4 + 1));
  g_debug ("event stream: next try in %u ms", delay);
  self->retry_source = g_timeout_add (delay, on_retry, self);
}

static void
drop_connection (KefuEventStream *self)
{
  g_autoptr(SoupWebsocketConnection) connection = g_steal_pointer (&self->connection);

  if (!connection)
    return;
  g_signal_handlers_disconnect_by_data (connection, self);
  if (soup_websocket_connection_get_state (connection) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (connection, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
}

static void
on_message (SoupWebsocketConnection *connection,
            gint                     type,
            GBytes                  *message,
            gpointer                 user_data)
{
  /* a listener may stop the stream from its handler */
  g_autoptr(KefuEventStream) self = g_object_ref (user_data);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonNode *root;
  JsonObject *event;
  const char *event_type;
  gsize length;
  const char *text = g_bytes_get_data (message, &length);

  if (type != SOUP_WEBSOCKET_DATA_TEXT)
    return;
  if (!json_parser_load_from_data (parser, text, (gssize) length, &error))
    {
      g_debug ("not JSON on the event stream: %s", error->message);
      return;
    }
  root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root))
    return;
  event = json_node_get_object (root);
  event_type = kefu_json_get_string (event, "type");
  /* anything else is the server speaking to a publisher */
  if (!event_type)
    return;
  g_signal_emit (self, signals[SIGNAL_EVENT], g_quark_from_string (event_type), event_type,
                 event);
}

static void
on_closed (SoupWebsocketConnection *connection,
           gpointer                 user_data)
{
  KefuEventStream *self = user_data;

  g_debug ("event stream closed (%u %s)", soup_websocket_connection_get_close_code (connection),
           soup_websocket_connection_get_close_data (connection)
           ? soup_websocket_connection_get_close_data (connection) : "");
  drop_connection (self);
  set_connected (self, FALSE);
  schedule_retry (self);
}

static void
on_error (SoupWebsocketConnection *connection,
          GError                  *error,
          gpointer                 user_data)
{
  g_debug ("event stream: %s", error->message);
}

static void
on_connected (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(KefuEventStream) self = user_data;
  g_autoptr(GError) error = NULL;
  SoupWebsocketConnection *connection =
    soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &error);

  /* stopped meanwhile: stop cleared everything */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  g_clear_object (&self->connecting);
  if (!connection)
    {
      /* the offline banner speaks for the server; here only the log */
      g_debug ("event stream: %s", error->message);
      schedule_retry (self);
      return;
    }
  if (!self->running)
    {
      g_object_unref (connection);
      return;
    }
  self->connection = connection;
  soup_websocket_connection_set_keepalive_interval (connection, KEEPALIVE_S);
  soup_websocket_connection_set_max_incoming_payload_size (connection, MAX_MESSAGE_BYTES);
  g_signal_connect (connection, "message", G_CALLBACK (on_message), self);
  g_signal_connect (connection, "closed", G_CALLBACK (on_closed), self);
  g_signal_connect (connection, "error", G_CALLBACK (on_error), self);
  self->backoff_ms = 0;
  g_debug ("event stream connected");
  set_connected (self, TRUE);
}

static void
connect_now (KefuEventStream *self)
{
  const char *base_url = kefu_api_client_get_base_url (self->client);
  const char *token = kefu_api_client_get_token (self->client);
  g_autofree char *uri = NULL;
  g_autofree char *authorization = NULL;
  g_autoptr(SoupMessage) message = NULL;

  if (!self->running || self->connection || self->connecting)
    return;
  g_clear_handle_id (&self->retry_source, g_source_remove);
  /* no session yet: the token's arrival starts it (on_token_changed) */
  if (!base_url || !token)
    return;
  uri = g_strconcat (base_url, "/v1/events/stream", NULL);
  message = soup_message_new (SOUP_METHOD_GET, uri);
  if (!message)
    {
      g_debug ("event stream: “%s” is not an address", uri);
      return;
    }
  authorization = g_strconcat ("Bearer ", token, NULL);
  soup_message_headers_replace (soup_message_get_request_headers (message), "Authorization",
                                authorization);
  self->connecting = g_cancellable_new ();
  soup_session_websocket_connect_async (self->session, message, NULL, NULL, G_PRIORITY_DEFAULT,
                                        self->connecting, on_connected, g_object_ref (self));
}

static void
on_token_changed (KefuApiClient   *client,
                  GParamSpec      *pspec,
                  KefuEventStream *self)
{
  /* a new session (signed in again): no reason to wait out the backoff */
  if (self->running && !self->connection && !self->connecting)
    {
      self->backoff_ms = 0;
      connect_now (self);
    }
}

static void
kefu_event_stream_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  KefuEventStream *self = KEFU_EVENT_STREAM (object);

  switch (prop_id)
    {
    case PROP_CLIENT:
      g_value_set_object (value, self->client);
      break;
    case PROP_CONNECTED:
      g_value_set_boolean (value, self->connected);
      break;
    case PROP_MAX_BACKOFF:
      g_value_set_uint (value, self->max_backoff_ms);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kefu_event_stream_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  KefuEventStream *self = KEFU_EVENT_STREAM (object);

  switch (prop_id)
    {
    case PROP_CLIENT:
      self->client = g_value_dup_object (value);
      break;
    case PROP_MAX_BACKOFF:
      kefu_event_stream_set_max_backoff (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kefu_event_stream_constructed (GObject *object)
{
  KefuEventStream *self = KEFU_EVENT_STREAM (object);

  G_OBJECT_CLASS (kefu_event_stream_parent_class)->constructed (object);
  g_return_if_fail (KEFU_IS_API_CLIENT (self->client));
  self->token_id = g_signal_connect (self->client, "notify::token", G_CALLBACK (on_token_changed),
                                     self);
}

static void
kefu_event_stream_dispose (GObject *object)
{
  KefuEventStream *self = KEFU_EVENT_STREAM (object);

  kefu_event_stream_stop (self);
  if (self->client)
    g_clear_signal_handler (&self->token_id, self->client);
  g_clear_object (&self->client);
  g_clear_object (&self->session);
  G_OBJECT_CLASS (kefu_event_stream_parent_class)->dispose (object);
}

static void
kefu_event_stream_class_init (KefuEventStreamClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = kefu_event_stream_get_property;
  object_class->set_property = kefu_event_stream_set_property;
  object_class->constructed = kefu_event_stream_constructed;
  object_class->dispose = kefu_event_stream_dispose;

  props[PROP_CLIENT] =
    g_param_spec_object ("client", NULL, NULL, KEFU_TYPE_API_CLIENT,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  props[PROP_CONNECTED] =
    g_param_spec_boolean ("connected", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  props[PROP_MAX_BACKOFF] =
    g_param_spec_uint ("max-backoff", NULL, NULL, FIRST_BACKOFF_MS, G_MAXUINT,
                       DEFAULT_MAX_BACKOFF_MS,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);

  /**
   * KefuEventStream::event:
   * @type: the event's type ("agent.state", "call.ringing"...), also the
   *   signal's detail
   * @event: the event as the server logged it
   */
  signals[SIGNAL_EVENT] =
    g_signal_new ("event", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_DETAILED,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2,
                  G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE,
                  JSON_TYPE_OBJECT | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
kefu_event_stream_init (KefuEventStream *self)
{
  self->max_backoff_ms = DEFAULT_MAX_BACKOFF_MS;
  self->session = soup_session_new_with_options ("timeout", CONNECT_TIMEOUT_S,
                                                 "user-agent", "kefu/" PACKAGE_VERSION,
                                                 NULL);
}

KefuEventStream *
kefu_event_stream_new (KefuApiClient *client)
{
  g_return_val_if_fail (KEFU_IS_API_CLIENT (client), NULL);
  return g_object_new (KEFU_TYPE_EVENT_STREAM, "client", client, NULL);
}

void
kefu_event_stream_start (KefuEventStream *self)
{
  g_return_if_fail (KEFU_IS_EVENT_STREAM (self));

  self->running = TRUE;
  self->backoff_ms = 0;
  connect_now (self);
}

void
kefu_event_stream_stop (KefuEventStream *self)
{
  g_return_if_fail (KEFU_IS_EVENT_STREAM (self));

  self->running = FALSE;
  g_clear_handle_id (&self->retry_source, g_source_remove);
  if (self->connecting)
    {
      g_cancellable_cancel (self->connecting);
      g_clear_object (&self->connecting);
    }
  drop_connection (self);
  set_connected (self, FALSE);
}

gboolean
kefu_event_stream_get_connected (KefuEventStream *self)
{
  g_return_val_if_fail (KEFU_IS_EVENT_STREAM (self), FALSE);
  return self->connected;
}

void
kefu_event_stream_set_max_backoff (KefuEventStream *self,
                                   guint            max_backoff_ms)
{
  g_return_if_fail (KEFU_IS_EVENT_STREAM (self));

  max_backoff_ms = MAX (max_backoff_ms, FIRST_BACKOFF_MS);
  if (self->max_backoff_ms == max_backoff_ms)
    return;
  self->max_backoff_ms = max_backoff_ms;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_MAX_BACKOFF]);
}
