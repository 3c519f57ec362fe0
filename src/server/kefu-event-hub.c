/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuEventHub"

#include "config.h"

#include "kefu-event-hub.h"

/* A publisher's batch is a spool replay at most; more is a mistake. */
#define MAX_MESSAGE_BYTES (4 * 1024 * 1024)

enum {
  PUBLISH,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

struct _KefuEventHub {
  GObject    parent_instance;

  /* owned */
  GPtrArray    *clients;   /* Client* */
  GMainContext *context;   /* where the clients' sockets live */
};

G_DEFINE_FINAL_TYPE (KefuEventHub, kefu_event_hub, G_TYPE_OBJECT)

typedef struct {
  KefuEventHub            *hub;   /* borrowed */
  SoupWebsocketConnection *connection;
  char                    *username;
  gboolean                 can_publish;
  gulong                   closed_id;
  gulong                   message_id;
} Client;

static void
client_free (gpointer data)
{
  Client *client = data;

  g_clear_signal_handler (&client->closed_id, client->connection);
  g_clear_signal_handler (&client->message_id, client->connection);
  if (soup_websocket_connection_get_state (client->connection) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (client->connection, SOUP_WEBSOCKET_CLOSE_GOING_AWAY,
                                     "server shutting down");
  g_object_unref (client->connection);
  g_free (client->username);
  g_free (client);
}

static void
on_client_closed (SoupWebsocketConnection *connection,
                  gpointer                 user_data)
{
  Client *client = user_data;
  KefuEventHub *self = client->hub;

  g_debug ("event subscriber %s left", client->username);
  g_ptr_array_remove (self->clients, client);
}

static void
on_client_message (SoupWebsocketConnection *connection,
                   gint                     type,
                   GBytes                  *message,
                   gpointer                 user_data)
{
  Client *client = user_data;

  if (!client->can_publish)
    {
      soup_websocket_connection_send_text (connection,
        "{\"error\":{\"code\":\"forbidden\",\"message\":\"Only the switch (service role) or an "
        "admin may publish events; this connection only receives them\"}}");
      return;
    }
  g_signal_emit (client->hub, signals[PUBLISH], 0, connection, client->username, message);
}

static void
kefu_event_hub_dispose (GObject *object)
{
  KefuEventHub *self = KEFU_EVENT_HUB (object);

  g_clear_pointer (&self->clients, g_ptr_array_unref);
  g_clear_pointer (&self->context, g_main_context_unref);

  G_OBJECT_CLASS (kefu_event_hub_parent_class)->dispose (object);
}

static void
kefu_event_hub_class_init (KefuEventHubClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = kefu_event_hub_dispose;

  /**
   * KefuEventHub::publish:
   * @connection: the publisher's socket, for the reply
   * @username: who published
   * @message: the text received (one event or a list)
   *
   * A publisher sent events; the server validates, logs and broadcasts them.
   */
  signals[PUBLISH] = g_signal_new ("publish", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                   NULL, NULL, NULL, G_TYPE_NONE, 3,
                                   SOUP_TYPE_WEBSOCKET_CONNECTION, G_TYPE_STRING, G_TYPE_BYTES);
}

static void
kefu_event_hub_init (KefuEventHub *self)
{
  self->clients = g_ptr_array_new_with_free_func (client_free);
  self->context = g_main_context_ref_thread_default ();
}

KefuEventHub *
kefu_event_hub_new (void)
{
  return g_object_new (KEFU_TYPE_EVENT_HUB, NULL);
}

void
kefu_event_hub_add (KefuEventHub            *self,
                    SoupWebsocketConnection *connection,
                    const char              *username,
                    gboolean                 can_publish)
{
  Client *client = g_new0 (Client, 1);

  client->hub = self;
  client->connection = g_object_ref (connection);
  client->username = g_strdup (username);
  client->can_publish = can_publish;
  /* Idle desktops behind NAT lose their socket silently without traffic. */
  soup_websocket_connection_set_keepalive_interval (connection, 30);
  soup_websocket_connection_set_max_incoming_payload_size (connection, MAX_MESSAGE_BYTES);
  client->closed_id = g_signal_connect (connection, "closed", G_CALLBACK (on_client_closed), client);
  client->message_id = g_signal_connect (connection, "message", G_CALLBACK (on_client_message),
                                         client);
  g_ptr_array_add (self->clients, client);
  g_debug ("event subscriber %s joined (%u now)", username, self->clients->len);
}

static void
send_text (KefuEventHub *self,
           const char   *text)
{
  /* Iterate over a copy: closing a slow client removes it from the list. */
  g_autoptr(GPtrArray) clients = g_ptr_array_new ();

  for (guint i = 0; i < self->clients->len; i++)
    g_ptr_array_add (clients, g_ptr_array_index (self->clients, i));
  for (guint i = 0; i < clients->len; i++)
    {
      Client *client = g_ptr_array_index (clients, i);

      if (soup_websocket_connection_get_state (client->connection) != SOUP_WEBSOCKET_STATE_OPEN)
        continue;
      soup_websocket_connection_send_text (client->connection, text);
    }
}

void
kefu_event_hub_broadcast (KefuEventHub *self,
                          JsonArray    *events)
{
  for (guint e = 0; e < json_array_get_length (events); e++)
    {
      g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);
      g_autofree char *text = NULL;

      json_node_set_object (node, json_array_get_object_element (events, e));
      text = json_to_string (node, FALSE);
      send_text (self, text);
    }
}

typedef struct {
  KefuEventHub *hub;
  char         *text;
} Notice;

static void
notice_free (gpointer data)
{
  Notice *notice = data;

  g_object_unref (notice->hub);
  g_free (notice->text);
  g_free (notice);
}

static gboolean
on_notice (gpointer data)
{
  Notice *notice = data;

  /* Shutting down: the clients are gone already. */
  if (notice->hub->clients)
    send_text (notice->hub, notice->text);
  return G_SOURCE_REMOVE;
}

void
kefu_event_hub_notify (KefuEventHub *self,
                       JsonObject   *notice)
{
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  Notice *pending = g_new0 (Notice, 1);

  json_node_set_object (node, notice);
  pending->hub = g_object_ref (self);
  pending->text = json_to_string (node, FALSE);
  g_main_context_invoke_full (self->context, G_PRIORITY_DEFAULT, on_notice, pending, notice_free);
}

guint
kefu_event_hub_n_clients (KefuEventHub *self)
{
  return self->clients->len;
}

void
kefu_event_hub_close_all (KefuEventHub *self)
{
  g_ptr_array_set_size (self->clients, 0);
}
