/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * KefuEventStream: the desktop's subscription to kefu-server's live events
 * (GET /v1/events/stream, a WebSocket on which every event the server logs
 * comes by as one JSON object per message: {id, type, ts, agent, call_id,
 * queue, data}).  It connects to the address of a KefuApiClient with its
 * token, and when the server goes away it tries again 1 s, 2 s, 4 s...
 * later, up to "max-backoff": quietly, because the offline banner already
 * tells the agent the server cannot be reached.
 *
 * What listeners get:
 *   "event" signal, detailed by the event's type ("event::agent.state"):
 *     (const char *type, JsonObject *event) for each event received;
 *   "connected" (boolean): the socket is open.  It turns TRUE again after
 *     each reconnect; what happened while it was closed was not received,
 *     so a listener reads the current state then (GET /v1/agents/me...).
 *
 * KefuApplication keeps one per open session; main thread only.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "kefu-api-client.h"

G_BEGIN_DECLS

#define KEFU_TYPE_EVENT_STREAM (kefu_event_stream_get_type ())
G_DECLARE_FINAL_TYPE (KefuEventStream, kefu_event_stream, KEFU, EVENT_STREAM, GObject)

KefuEventStream *kefu_event_stream_new             (KefuApiClient   *client)
                                                    G_GNUC_WARN_UNUSED_RESULT;

/* Connects now and keeps connecting until stopped; stop closes the socket. */
void             kefu_event_stream_start           (KefuEventStream *self);
void             kefu_event_stream_stop            (KefuEventStream *self);

gboolean         kefu_event_stream_get_connected   (KefuEventStream *self);
/* Longest wait between two tries, in milliseconds (default 16000). */
void             kefu_event_stream_set_max_backoff (KefuEventStream *self,
                                                    guint            max_backoff_ms);

G_END_DECLS
