/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Call-centre figures for the report tests: events built as kefu-switch
 * publishes them, and report rows checked against figures worked out by
 * hand.  A row is a JSON object whether KefuStore folded it (tests/core)
 * or a real kefu-server sent it (tests/server), so both use these.
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Appends an event: ts as the publisher wrote it (ISO 8601), call_id,
 * queue and agent where not NULL, and data (taken; an empty object when
 * NULL, so every event carries one). */
void        kefu_test_add_event_ts  (JsonArray *events, const char *type, const char *ts,
                                     const char *call_id, const char *queue, const char *agent,
                                     JsonObject *data);
/* The same with the time in ms since the epoch, written in UTC. */
void        kefu_test_add_event     (JsonArray *events, const char *type, gint64 ts_ms,
                                     const char *call_id, const char *queue, const char *agent,
                                     JsonObject *data);

/* The first of rows whose string member is value; fails the test when
 * there is none. */
JsonObject *kefu_test_find_row      (JsonArray *rows, const char *member, const char *value);

/* member of row is expected within epsilon, or null where expected is
 * NAN (a figure with nothing to divide by). */
void        kefu_test_assert_ratio  (JsonObject *row, const char *member, double expected,
                                     double epsilon);

/* A report row's counts and figures, as a team lead reads them. */
typedef struct {
  gint64 offered;
  gint64 answered;
  gint64 abandoned;
  gint64 short_abandoned;
  gint64 other;
  gint64 answered_within;
  double service_level;     /* NAN: null */
  double asa;
  double aht;
  double abandonment_rate;
  double occupancy;
} KefuTestFigures;

/* Every count exactly, every figure to 1e-9. */
void        kefu_test_assert_figures (JsonObject *row, const KefuTestFigures *expected);

G_END_DECLS
