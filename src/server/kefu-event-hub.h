/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * KefuEventHub: the live event stream.  Desktops (supervisor panels,
 * agents) subscribe over a WebSocket and receive every event the server
 * logs, and the notices it does not log (agent.updated); the switch
 * publishes on the same socket.  Main thread only, but for
 * kefu_event_hub_notify().
 */
#pragma once

#include <libsoup/soup.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define KEFU_TYPE_EVENT_HUB (kefu_event_hub_get_type ())
G_DECLARE_FINAL_TYPE (KefuEventHub, kefu_event_hub, KEFU, EVENT_HUB, GObject)

KefuEventHub *kefu_event_hub_new        (void) G_GNUC_WARN_UNUSED_RESULT;

/* Takes a reference; forgets the connection when it closes.  can_publish:
 * the session's role may publish (service, admin). */
void          kefu_event_hub_add        (KefuEventHub            *self,
                                         SoupWebsocketConnection *connection,
                                         const char              *username,
                                         gboolean                 can_publish);
void          kefu_event_hub_broadcast  (KefuEventHub *self, JsonArray *events);
/* Any thread.  Sends @notice (borrowed) to every subscriber from the main
 * context the hub was made in.  A notice tells subscribers to read
 * something again (an administrator changed an agent); it is not a
 * call's or an agent's state, so it is not logged and reports never see
 * it.  One missed while a subscriber was away is not sent again: a
 * subscriber reads what it needs after each reconnect. */
void          kefu_event_hub_notify     (KefuEventHub *self, JsonObject *notice);
guint         kefu_event_hub_n_clients  (KefuEventHub *self);
void          kefu_event_hub_close_all  (KefuEventHub *self);

G_END_DECLS
