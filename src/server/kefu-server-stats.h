/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * KefuServerStats: the counters /metrics shows in Prometheus text form:
 * requests by route and status, latency histogram, connected event
 * subscribers, events logged.  Thread-safe.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _KefuServerStats KefuServerStats;

KefuServerStats *kefu_server_stats_new     (void);
void             kefu_server_stats_free    (KefuServerStats *stats);
void             kefu_server_stats_request (KefuServerStats *stats, const char *method,
                                            const char *route, guint status, double seconds);
void             kefu_server_stats_events  (KefuServerStats *stats, guint n);
char            *kefu_server_stats_render  (KefuServerStats *stats, guint ws_clients,
                                            gint64 customers, gint64 events) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
