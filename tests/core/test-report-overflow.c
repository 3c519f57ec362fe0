/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "TestReportOverflow"

#include "config.h"

#include "kefu-report.h"
#include "kefu-test-report.h"
#include "kefu-test-store.h"
#include "kefu-time.h"

#include <glib.h>
#include <math.h>
#include <sqlite3.h>
#include <string.h>

/*
 * A call that overflows from one queue to another, as kefu-switch tells of
 * it (call.overflow in the first queue, then call.offered in the second),
 * is counted in both: offered and overflowed in the first, offered and
 * answered or abandoned in the second, which served it.  Over all queues
 * it is one call.
 *
 * The morning (2026-11-25, UTC), 20 s threshold, 5 s short abandon:
 *   o1 09:00 first, overflows at 30 s to second, answered there by li at
 *            45 s (from the first offer); talk 180, wrap-up 30
 *   o2 09:10 first, overflows at 30 s to second, abandoned there at 70 s
 *   d1 09:20 second, answered by zhao at 10 s; talk 120, wrap-up 20
 *
 *   first:  offered 2, other 2 (both overflowed), SL 0/2
 *   second: offered 3, answered 2 (1 within), abandoned 1; ASA 27.5;
 *           AHT (210 + 140) / 2 = 175; abandonment 1/3
 *   all:    offered 3, answered 2, abandoned 1, other 0
 */

#define EPSILON 1e-9

typedef KefuTestStore Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  kefu_test_store_set_up (f, "kefu-report-overflow-XXXXXX");
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  kefu_test_store_tear_down (f);
}

/* --- events as the switch sends them ------------------------------------------------ */

static gint64
at (int    hour,
    int    minute,
    double seconds)
{
  g_autoptr(GDateTime) dt = g_date_time_new_utc (2026, 11, 25, hour, minute, 0);

  return g_date_time_to_unix (dt) * 1000 + (gint64) (seconds * 1000.0);
}

static JsonObject *
data_wait (double wait_s)
{
  JsonObject *data = json_object_new ();

  json_object_set_double_member (data, "wait_s", wait_s);
  return data;
}

/* Offered in @from at @offered_ms; after @after_s, moved to @to. */
static void
overflow (JsonArray  *events,
          const char *call_id,
          const char *from,
          const char *to,
          gint64      offered_ms,
          double      after_s)
{
  gint64 moved_ms = offered_ms + (gint64) (after_s * 1000.0);
  g_autofree char *enqueued = kefu_time_format_ms (offered_ms);
  JsonObject *out = data_wait (after_s);
  JsonObject *in = data_wait (after_s);

  json_object_set_string_member (out, "to_queue", to);
  json_object_set_string_member (out, "enqueued_at", enqueued);
  json_object_set_boolean_member (out, "keeps_enqueue_time", TRUE);
  json_object_set_string_member (in, "overflow_from", from);
  json_object_set_string_member (in, "enqueued_at", enqueued);
  json_object_set_boolean_member (in, "keeps_enqueue_time", TRUE);
  kefu_test_add_event (events, "call.offered", offered_ms, call_id, from, NULL, NULL);
  kefu_test_add_event (events, "call.overflow", moved_ms, call_id, from, NULL, out);
  kefu_test_add_event (events, "call.offered", moved_ms, call_id, to, NULL, in);
}

/* Answered by @agent in @queue @wait_s after @offered_ms (the first
 * offer), talking @talk_s, then @wrapup_s of wrap-up. */
static void
answer (JsonArray  *events,
        const char *call_id,
        const char *queue,
        const char *agent,
        gint64      offered_ms,
        double      wait_s,
        double      talk_s,
        double      wrapup_s)
{
  gint64 answered_ms = offered_ms + (gint64) (wait_s * 1000.0);
  gint64 ended_ms = answered_ms + (gint64) (talk_s * 1000.0);
  JsonObject *ended = json_object_new ();
  JsonObject *wrapup = json_object_new ();

  json_object_set_double_member (ended, "talk_s", talk_s);
  json_object_set_double_member (ended, "hold_s", 0);
  json_object_set_double_member (wrapup, "wrapup_s", wrapup_s);
  kefu_test_add_event (events, "call.ringing", answered_ms - 2000, call_id, queue, agent, NULL);
  kefu_test_add_event (events, "call.answered", answered_ms, call_id, queue, agent,
                       data_wait (wait_s));
  kefu_test_add_event (events, "call.ended", ended_ms, call_id, queue, agent, ended);
  kefu_test_add_event (events, "call.wrapup_ended", ended_ms + (gint64) (wrapup_s * 1000.0),
                       call_id, queue, agent, wrapup);
}

static void
load_morning (Fixture *f)
{
  g_autoptr(JsonArray) events = json_array_new ();

  overflow (events, "o1", "first", "second", at (9, 0, 0), 30);
  answer (events, "o1", "second", "li", at (9, 0, 0), 45, 180, 30);
  overflow (events, "o2", "first", "second", at (9, 10, 0), 30);
  kefu_test_add_event (events, "call.abandoned", at (9, 11, 10), "o2", "second", NULL,
                       data_wait (70));
  kefu_test_add_event (events, "call.offered", at (9, 20, 0), "d1", "second", NULL, NULL);
  answer (events, "d1", "second", "zhao", at (9, 20, 0), 10, 120, 20);
  kefu_test_store_publish (f->store, events);
}

/* --- reading ------------------------------------------------------------------------ */

static gboolean
on_fact (const KefuCallFact *fact,
         gpointer            user_data)
{
  GString *out = user_data;
  const char *outcome;

  if (fact->waiting)
    outcome = "waiting";
  else if (fact->sample.outcome == KEFU_CALL_OUTCOME_ANSWERED)
    outcome = "answered";
  else if (fact->sample.outcome == KEFU_CALL_OUTCOME_ABANDONED)
    outcome = "abandoned";
  else if (fact->sample.overflowed)
    outcome = "overflowed";
  else
    outcome = "other";
  g_string_append_printf (out, "%s%s@%s %s", out->len ? ", " : "", fact->call_id, fact->queue,
                          outcome);
  if (fact->overflow_to)
    g_string_append_printf (out, "->%s", fact->overflow_to);
  if (fact->agent)
    g_string_append_printf (out, " by %s", fact->agent);
  g_string_append_printf (out, " %.0f s", fact->sample.wait_s);
  return TRUE;
}

/* "call@queue outcome[->queue] [by agent] wait", in the order folded */
static char *
facts (Fixture    *f,
       const char *queue)
{
  g_autoptr(GError) error = NULL;
  GString *out = g_string_new (NULL);

  g_assert_true (kefu_store_fold_call_facts (f->store, at (0, 0, 0), at (23, 59, 0), queue, NULL,
                                             on_fact, out, &error));
  g_assert_no_error (error);
  return g_string_free (out, FALSE);
}

static JsonArray *
report (Fixture            *f,
        KefuReportGrouping  by,
        const char         *queue)
{
  g_autoptr(GError) error = NULL;
  KefuReportQuery query;
  JsonArray *rows;

  memset (&query, 0, sizeof query);
  query.from_ms = at (0, 0, 0);
  query.to_ms = at (23, 59, 0);
  query.interval = KEFU_REPORT_INTERVAL_TOTAL;
  query.by = by;
  query.queue = queue;
  kefu_metrics_config_init (&query.metrics);
  rows = kefu_report_calls (f->store, &query, &error);
  g_assert_no_error (error);
  g_assert_nonnull (rows);
  return rows;
}

static void
assert_counts (JsonObject *row,
               gint64      offered,
               gint64      answered,
               gint64      abandoned,
               gint64      other,
               gint64      overflowed)
{
  g_assert_cmpint (json_object_get_int_member (row, "offered"), ==, offered);
  g_assert_cmpint (json_object_get_int_member (row, "answered"), ==, answered);
  g_assert_cmpint (json_object_get_int_member (row, "abandoned"), ==, abandoned);
  g_assert_cmpint (json_object_get_int_member (row, "other"), ==, other);
  g_assert_cmpint (json_object_get_int_member (row, "overflowed"), ==, overflowed);
}

/* --- the tests ------------------------------------------------------------------------ */

static const char morning_facts[] =
  "o1@first overflowed->second 30 s, o1@second answered by li 45 s, "
  "o2@first overflowed->second 30 s, o2@second abandoned 70 s, "
  "d1@second answered by zhao 10 s";

/* Each queue the call waited in has its fact; the later events of the
 * call land in the queue it waits in then. */
static void
test_overflow_facts (Fixture       *f,
                     gconstpointer  data)
{
  g_autofree char *all = NULL;
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;

  load_morning (f);
  all = facts (f, NULL);
  g_assert_cmpstr (all, ==, morning_facts);
  first = facts (f, "first");
  g_assert_cmpstr (first, ==, "o1@first overflowed->second 30 s, o2@first overflowed->second 30 s");
  second = facts (f, "second");
  g_assert_cmpstr (second, ==, "o1@second answered by li 45 s, o2@second abandoned 70 s, "
                               "d1@second answered by zhao 10 s");
}

/* The spool of a switch that restarted sends some events again: nothing
 * is counted twice, nothing moves back. */
static void
test_overflow_replayed (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(JsonArray) again = json_array_new ();
  g_autofree char *all = NULL;

  load_morning (f);
  overflow (again, "o1", "first", "second", at (9, 0, 0), 30);
  kefu_test_add_event (again, "call.abandoned", at (9, 11, 10), "o2", "second", NULL,
                       data_wait (70));
  overflow (again, "o2", "first", "second", at (9, 10, 0), 30);
  kefu_test_store_publish (f->store, again);
  all = facts (f, NULL);
  g_assert_cmpstr (all, ==, morning_facts);
}

/* Re-queued by a transfer after an answer is no overflow: the call keeps
 * its one fact, in the queue that answered it. */
static void
test_transfer_keeps_first_offer (Fixture       *f,
                                 gconstpointer  data)
{
  g_autoptr(JsonArray) events = json_array_new ();
  g_autofree char *all = NULL;

  kefu_test_add_event (events, "call.offered", at (10, 0, 0), "t1", "second", NULL, NULL);
  answer (events, "t1", "second", "li", at (10, 0, 0), 5, 60, 10);
  kefu_test_add_event (events, "call.offered", at (10, 2, 0), "t1", "first", NULL, NULL);
  kefu_test_store_publish (f->store, events);
  all = facts (f, NULL);
  g_assert_cmpstr (all, ==, "t1@second answered by li 5 s");
}

/* What a team lead reads: per queue, the first shows the calls it let
 * overflow, the second the ones it answered and lost; over all queues
 * each call counts once. */
static void
test_overflow_report (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(JsonArray) by_queue = NULL;
  g_autoptr(JsonArray) total = NULL;
  g_autoptr(JsonArray) only_first = NULL;
  g_autoptr(JsonArray) by_agent = NULL;
  JsonObject *row;

  load_morning (f);

  by_queue = report (f, KEFU_REPORT_BY_QUEUE, NULL);
  g_assert_cmpuint (json_array_get_length (by_queue), ==, 2);
  row = kefu_test_find_row (by_queue, "queue", "first");
  assert_counts (row, 2, 0, 0, 2, 2);
  kefu_test_assert_ratio (row, "service_level", 0.0, EPSILON);
  kefu_test_assert_ratio (row, "asa", NAN, EPSILON);
  row = kefu_test_find_row (by_queue, "queue", "second");
  assert_counts (row, 3, 2, 1, 0, 0);
  g_assert_cmpint (json_object_get_int_member (row, "answered_within"), ==, 1);
  kefu_test_assert_ratio (row, "asa", 27.5, EPSILON);
  kefu_test_assert_ratio (row, "aht", 175.0, EPSILON);
  kefu_test_assert_ratio (row, "abandonment_rate", 1.0 / 3.0, EPSILON);

  total = report (f, KEFU_REPORT_BY_NONE, NULL);
  g_assert_cmpuint (json_array_get_length (total), ==, 1);
  row = json_array_get_object_element (total, 0);
  assert_counts (row, 3, 2, 1, 0, 0);
  kefu_test_assert_ratio (row, "asa", 27.5, EPSILON);

  /* one queue asked for alone reads as its row of the queue report */
  only_first = report (f, KEFU_REPORT_BY_NONE, "first");
  assert_counts (json_array_get_object_element (only_first, 0), 2, 0, 0, 2, 2);

  by_agent = report (f, KEFU_REPORT_BY_AGENT, NULL);
  g_assert_cmpuint (json_array_get_length (by_agent), ==, 2);
  assert_counts (kefu_test_find_row (by_agent, "agent", "li"), 1, 1, 0, 0, 0);
  kefu_test_assert_ratio (kefu_test_find_row (by_agent, "agent", "li"), "asa", 45.0, EPSILON);
}

static void
create_queue (Fixture    *f,
              const char *name)
{
  g_autofree char *json = g_strdup_printf ("{\"name\": \"%s\"}", name);

  kefu_test_store_create (f->store, &kefu_record_queue, json);
}

/* The supervisor's panel: the caller waits in the second queue now, and
 * the first counts today's overflow. */
static void
test_overflow_live (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) events = json_array_new ();
  g_autoptr(JsonObject) first = NULL;
  g_autoptr(JsonObject) second = NULL;
  KefuMetricsConfig defaults;
  gint64 now = kefu_time_now_ms ();

  create_queue (f, "first");
  create_queue (f, "second");
  overflow (events, "w1", "first", "second", now - 60000, 40);
  kefu_test_store_publish (f->store, events);
  kefu_metrics_config_init (&defaults);

  first = kefu_report_queue_live (f->store, "first", now, NULL, &defaults, &error);
  g_assert_no_error (error);
  second = kefu_report_queue_live (f->store, "second", now, NULL, &defaults, &error);
  g_assert_no_error (error);
  g_assert_cmpint (json_object_get_int_member (first, "waiting"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (second, "waiting"), ==, 1);
  /* waiting there since it moved */
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (second, "longest_wait_s"), 20.0,
                                  0.01);
  assert_counts (json_object_get_object_member (first, "today"), 1, 0, 0, 1, 1);
}

/* A database of schema 3 had one fact per call, keyed by its id: its
 * facts are kept, and its calls may overflow afterwards. */
static void
test_overflow_after_upgrade (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(JsonArray) events = json_array_new ();
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  sqlite3 *raw = NULL;
  char *message = NULL;
  g_autofree char *old = g_strdup_printf (
    "DROP TABLE call_facts;"
    "CREATE TABLE call_facts (call_id TEXT PRIMARY KEY, queue TEXT, agent TEXT,"
    "  offered_at INTEGER NOT NULL, answered_at INTEGER, ended_at INTEGER, outcome TEXT,"
    "  wait_s REAL, talk_s REAL, hold_s REAL, wrapup_s REAL);"
    "CREATE INDEX call_facts_time ON call_facts (offered_at);"
    "INSERT INTO call_facts (call_id, queue, agent, offered_at, answered_at, ended_at, outcome,"
    "  wait_s, talk_s, hold_s, wrapup_s) VALUES"
    "  ('m1', 'second', 'li', %" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
    ", 'answered', 12, 100, 0, 15),"
    "  ('m2', 'first', NULL, %" G_GINT64_FORMAT ", NULL, NULL, NULL, NULL, NULL, NULL, NULL);"
    "PRAGMA user_version = 3;",
    at (8, 0, 0), at (8, 0, 12), at (8, 1, 52), at (8, 30, 0));

  kefu_test_store_close (f);
  g_assert_cmpint (sqlite3_open (f->path, &raw), ==, SQLITE_OK);
  if (sqlite3_exec (raw, old, NULL, NULL, &message) != SQLITE_OK)
    g_error ("making a schema 3 database: %s", message);
  sqlite3_close (raw);
  kefu_test_store_open (f);

  before = facts (f, NULL);
  g_assert_cmpstr (before, ==, "m1@second answered by li 12 s, m2@first waiting 0 s");

  overflow (events, "m2", "first", "second", at (8, 30, 0), 30);
  kefu_test_add_event (events, "call.abandoned", at (8, 31, 0), "m2", "second", NULL,
                       data_wait (60));
  kefu_test_store_publish (f->store, events);
  after = facts (f, NULL);
  g_assert_cmpstr (after, ==, "m1@second answered by li 12 s, m2@first overflowed->second 30 s, "
                              "m2@second abandoned 60 s");
  g_assert_cmpint (kefu_store_schema_version (f->store, NULL), ==, KEFU_STORE_SCHEMA_VERSION);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/report-overflow/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("facts", test_overflow_facts);
  ADD ("replayed", test_overflow_replayed);
  ADD ("transfer-keeps-first-offer", test_transfer_keeps_first_offer);
  ADD ("report", test_overflow_report);
  ADD ("live", test_overflow_live);
  ADD ("after-upgrade", test_overflow_after_upgrade);
#undef ADD

  return g_test_run ();
}
