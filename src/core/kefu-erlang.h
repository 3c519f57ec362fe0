/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Erlang B and C: the traffic formulas team leads size their shifts with.
 * Traffic is in erlangs (calls per interval x AHT / interval length).
 * Pure functions, safe from any thread.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* calls arriving in interval_s seconds, each handled for aht_s seconds */
double kefu_erlang_traffic        (double calls, double interval_s, double aht_s);

/* Blocking probability with `servers` lines and no queue (stable recursion). */
double kefu_erlang_b              (guint servers, double traffic);

/* Probability that a call waits, `agents` agents, infinite queue.
 * 1.0 when agents <= traffic (the queue never drains). */
double kefu_erlang_c              (guint agents, double traffic);

/* Fraction of calls answered within target_s. 0.0 when agents <= traffic. */
double kefu_erlang_service_level  (guint agents, double traffic, double aht_s, double target_s);

/* Average speed of answer in seconds; INFINITY when agents <= traffic. */
double kefu_erlang_asa            (guint agents, double traffic, double aht_s);

/* traffic / agents, capped at 1.0 */
double kefu_erlang_occupancy      (guint agents, double traffic);

/* Fewest agents that reach target_sl (0..1) answered within target_s.
 * Returns 0 for zero traffic. */
guint  kefu_erlang_agents_needed  (double traffic, double aht_s, double target_sl, double target_s);

G_END_DECLS
