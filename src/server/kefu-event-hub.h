/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * KefuEventHub: the live event stream.  Desktops (supervisor panels,
 * agents) subscribe over a WebSocket and receive every event the server
 * logs; the switch publishes on the same socket.  Main thread only.
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
guint         kefu_event_hub_n_clients  (KefuEventHub *self);
void          kefu_event_hub_close_all  (KefuEventHub *self);

G_END_DECLS
