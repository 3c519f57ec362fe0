/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "TestReport"

#include "config.h"

#include "kefu-report.h"
#include "kefu-test-report.h"
#include "kefu-test-store.h"
#include "kefu-time.h"

#include <glib.h>
#include <math.h>
#include <string.h>

/*
 * Reports and the live queue panel, folded from events published with
 * timestamps chosen here, checked against figures worked out by hand.
 *
 * The day (2026-11-25, Asia/Shanghai), queue by queue:
 *
 *  billing (no settings of its own: 20 s threshold, 5 s short abandon)
 *   b1 09:00  answered by li    wait 10  talk 100 hold 20 wrap-up 30  within
 *   b2 09:10  answered by li    wait 20  talk 200 hold  0 wrap-up 40  within (boundary)
 *   b3 09:20  answered by wang  wait 25  talk 150 hold 10 wrap-up 20  late
 *   b4 10:05  answered by wang  wait  0  talk  50 hold  0 wrap-up 10  within
 *   b5 10:30  abandoned         wait  4.9                             short
 *   b6 10:40  abandoned         wait  5                               abandoned (boundary)
 *   b7 11:00  abandoned         wait 60                               abandoned
 *   b8 11:30  overflowed        wait 30                               other
 *   offered 8, answered 4 (3 within), short 1, abandoned 2, other 1
 *   SL 3/(8-1) | 3/4 | 3/(4+2); ASA 55/4; AHT (150+240+180+60)/4 = 157.5;
 *   abandonment 2/7
 *
 *  sales (30 s threshold, 10 s short abandon, SL over answered calls)
 *   s1 09:05  answered by zhao  wait 25  talk 300 hold  0 wrap-up 60  within (late at 20 s)
 *   s2 14:00  answered by li    wait 35  talk 120 hold 30 wrap-up 30  late
 *   s3 15:00  abandoned         wait  8                               short (abandoned at 5 s)
 *   offered 3, answered 2 (1 within), short 1; SL 1/2; ASA 30; AHT 270;
 *   abandonment 0/2
 *
 *  li's day: 08:00 available, 09:00 talking, 13:00 not ready (Lunch),
 *  14:00 wrap-up, 16:00 available, 17:00 logged out: 8 h staffed, 6 h busy.
 */

#define EPSILON 1e-9

typedef struct {
  KefuTestStore  sqlite;
  GTimeZone     *shanghai;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  kefu_test_store_set_up (&f->sqlite, "kefu-report-XXXXXX");
  f->shanghai = g_time_zone_new_identifier ("Asia/Shanghai");
  g_assert_nonnull (f->shanghai);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_time_zone_unref (f->shanghai);
  kefu_test_store_tear_down (&f->sqlite);
}

/* --- building the day ------------------------------------------------------------- */

static gint64
local_ms (GTimeZone *tz,
          int        year,
          int        month,
          int        day,
          int        hour,
          int        minute,
          double     seconds)
{
  g_autoptr(GDateTime) dt = g_date_time_new (tz, year, month, day, hour, minute, 0);

  g_assert_nonnull (dt);
  return g_date_time_to_unix (dt) * 1000 + (gint64) (seconds * 1000.0);
}

static gint64
utc_ms (const char *iso)
{
  gint64 value = 0;

  g_assert_true (kefu_time_parse_ms (iso, NULL, &value));
  return value;
}

/* At 2026-11-25 local time in Shanghai. */
static gint64
at (Fixture *f,
    int      hour,
    int      minute)
{
  return local_ms (f->shanghai, 2026, 11, 25, hour, minute, 0);
}

/* offered, answered after wait_s, connected for talk + hold, wrap-up */
static void
answered_call (Fixture    *f,
               const char *call_id,
               const char *queue,
               const char *agent,
               gint64      offered_ms,
               double      wait_s,
               double      talk_s,
               double      hold_s,
               double      wrapup_s)
{
  g_autoptr(JsonArray) events = json_array_new ();
  gint64 answered_ms = offered_ms + (gint64) (wait_s * 1000.0);
  gint64 ended_ms = answered_ms + (gint64) ((talk_s + hold_s) * 1000.0);
  JsonObject *ended = json_object_new ();

  json_object_set_double_member (ended, "hold_s", hold_s);
  kefu_test_add_event (events, "call.offered", offered_ms, call_id, queue, NULL, NULL);
  kefu_test_add_event (events, "call.ringing", answered_ms - 500, call_id, queue, agent, NULL);
  kefu_test_add_event (events, "call.answered", answered_ms, call_id, queue, agent, NULL);
  kefu_test_add_event (events, "call.ended", ended_ms, call_id, queue, agent, ended);
  kefu_test_add_event (events, "call.wrapup_ended", ended_ms + (gint64) (wrapup_s * 1000.0),
                       call_id, queue, agent, NULL);
  kefu_test_store_publish (f->sqlite.store, events);
}

/* offered, then abandoned / overflow / callback after wait_s */
static void
unanswered_call (Fixture    *f,
                 const char *call_id,
                 const char *queue,
                 const char *outcome,
                 gint64      offered_ms,
                 double      wait_s)
{
  g_autoptr(JsonArray) events = json_array_new ();

  kefu_test_add_event (events, "call.offered", offered_ms, call_id, queue, NULL, NULL);
  if (outcome)
    kefu_test_add_event (events, outcome, offered_ms + (gint64) (wait_s * 1000.0), call_id, queue,
                         NULL, NULL);
  kefu_test_store_publish (f->sqlite.store, events);
}

static void
agent_state (Fixture    *f,
             const char *agent,
             const char *state,
             const char *reason,
             gint64      ts_ms)
{
  g_autoptr(JsonArray) events = json_array_new ();
  JsonObject *data = json_object_new ();

  json_object_set_string_member (data, "state", state);
  if (reason)
    json_object_set_string_member (data, "reason", reason);
  kefu_test_add_event (events, "agent.state", ts_ms, NULL, NULL, agent, data);
  kefu_test_store_publish (f->sqlite.store, events);
}

static void
load_day (Fixture *f)
{
  KefuStore *store = f->sqlite.store;

  kefu_test_store_create (store, &kefu_record_queue, "{\"name\": \"billing\"}");
  kefu_test_store_create (store, &kefu_record_queue, "{\"name\": \"sales\", \"sl_threshold_s\": 30,"
                                                     " \"short_abandon_s\": 10,"
                                                     " \"sl_denominator\": \"answered\"}");
  kefu_test_store_create (store, &kefu_record_agent, "{\"username\": \"li\", \"role\": \"agent\","
                                                     " \"skills\": {\"billing\": 80,"
                                                     " \"sales\": 50}}");
  kefu_test_store_create (store, &kefu_record_agent, "{\"username\": \"wang\", \"role\": \"agent\","
                                                     " \"skills\": {\"billing\": 60}}");
  kefu_test_store_create (store, &kefu_record_agent, "{\"username\": \"zhao\", \"role\": \"agent\","
                                                     " \"skills\": {\"sales\": 90}}");
  kefu_test_store_create (store, &kefu_record_agent, "{\"username\": \"zhou\", \"role\": \"agent\","
                                                     " \"skills\": {\"billing\": 10}}");

  answered_call (f, "b1", "billing", "li", at (f, 9, 0), 10, 100, 20, 30);
  answered_call (f, "b2", "billing", "li", at (f, 9, 10), 20, 200, 0, 40);
  answered_call (f, "b3", "billing", "wang", at (f, 9, 20), 25, 150, 10, 20);
  answered_call (f, "b4", "billing", "wang", at (f, 10, 5), 0, 50, 0, 10);
  unanswered_call (f, "b5", "billing", "call.abandoned", at (f, 10, 30), 4.9);
  unanswered_call (f, "b6", "billing", "call.abandoned", at (f, 10, 40), 5);
  unanswered_call (f, "b7", "billing", "call.abandoned", at (f, 11, 0), 60);
  unanswered_call (f, "b8", "billing", "call.overflow", at (f, 11, 30), 30);

  answered_call (f, "s1", "sales", "zhao", at (f, 9, 5), 25, 300, 0, 60);
  answered_call (f, "s2", "sales", "li", at (f, 14, 0), 35, 120, 30, 30);
  unanswered_call (f, "s3", "sales", "call.abandoned", at (f, 15, 0), 8);

  agent_state (f, "li", "available", NULL, at (f, 8, 0));
  agent_state (f, "li", "talking", NULL, at (f, 9, 0));
  agent_state (f, "li", "not_ready", "Lunch", at (f, 13, 0));
  agent_state (f, "li", "wrapup", NULL, at (f, 14, 0));
  agent_state (f, "li", "available", NULL, at (f, 16, 0));
  agent_state (f, "li", "logged_out", NULL, at (f, 17, 0));
}

/* --- reading reports --------------------------------------------------------------- */

static void
query_init (KefuReportQuery    *query,
            gint64              from_ms,
            gint64              to_ms,
            KefuReportInterval  interval,
            KefuReportGrouping  by,
            GTimeZone          *tz)
{
  memset (query, 0, sizeof *query);
  query->from_ms = from_ms;
  query->to_ms = to_ms;
  query->interval = interval;
  query->by = by;
  query->tz = tz;
  kefu_metrics_config_init (&query->metrics);
}

static JsonArray *
run (Fixture               *f,
     const KefuReportQuery *query)
{
  g_autoptr(GError) error = NULL;
  JsonArray *rows = kefu_report_calls (f->sqlite.store, query, &error);

  g_assert_no_error (error);
  g_assert_nonnull (rows);
  return rows;
}

static JsonArray *
run_day (Fixture            *f,
         KefuReportGrouping  by,
         KefuSlDenominator   denominator)
{
  KefuReportQuery query;

  query_init (&query, at (f, 0, 0), local_ms (f->shanghai, 2026, 11, 26, 0, 0, 0),
              KEFU_REPORT_INTERVAL_DAY, by, f->shanghai);
  query.metrics.denominator = denominator;
  return run (f, &query);
}

static gint64
row_int (JsonArray  *rows,
         guint       index,
         const char *member)
{
  return json_object_get_int_member (json_array_get_object_element (rows, index), member);
}

static const char *
row_str (JsonArray  *rows,
         guint       index,
         const char *member)
{
  return kefu_json_get_string (json_array_get_object_element (rows, index), member);
}

/* Every figure here to EPSILON. */
static void
assert_ratio (JsonObject *row,
              const char *member,
              double      expected)
{
  kefu_test_assert_ratio (row, member, expected, EPSILON);
}

static const KefuTestFigures billing_day = {
  8, 4, 2, 1, 1, 3, 3.0 / 7.0, 55.0 / 4.0, 157.5, 2.0 / 7.0, NAN
};
static const KefuTestFigures sales_day = {
  3, 2, 0, 1, 0, 1, 1.0 / 2.0, 30.0, 270.0, 0.0, NAN
};

/* --- the tests ---------------------------------------------------------------------------- */

static void
test_report_day_by_queue (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(JsonArray) rows = NULL;
  JsonObject *billing;

  load_day (f);
  rows = run_day (f, KEFU_REPORT_BY_QUEUE, KEFU_SL_DENOMINATOR_OFFERED_MINUS_SHORT);

  g_assert_cmpuint (json_array_get_length (rows), ==, 2);
  billing = json_array_get_object_element (rows, 0);
  g_assert_cmpstr (kefu_json_get_string (billing, "queue"), ==, "billing");
  g_assert_cmpstr (kefu_json_get_string (billing, "period"), ==, "2026-11-25");
  g_assert_cmpstr (kefu_json_get_string (billing, "period_start"), ==, "2026-11-24T16:00:00Z");
  g_assert_cmpstr (kefu_json_get_string (billing, "period_end"), ==, "2026-11-25T16:00:00Z");
  kefu_test_assert_figures (billing, &billing_day);
  assert_ratio (billing, "avg_talk", 125.0);
  assert_ratio (billing, "avg_hold", 7.5);
  assert_ratio (billing, "avg_wrapup", 25.0);

  g_assert_cmpstr (row_str (rows, 1, "queue"), ==, "sales");
  kefu_test_assert_figures (json_array_get_object_element (rows, 1), &sales_day);
}

static void
test_report_day_by_agent (Fixture       *f,
                          gconstpointer  data)
{
  /* Only answered calls have an agent.  li's s2 waited 35 s on sales,
   * late by sales' 30 s; the rows use the report's denominator. */
  static const KefuTestFigures li = { 3, 3, 0, 0, 0, 2, 2.0 / 3.0, 65.0 / 3.0, 190.0, 0.0, 0.75 };
  static const KefuTestFigures wang = { 2, 2, 0, 0, 0, 1, 0.5, 12.5, 120.0, 0.0, NAN };
  static const KefuTestFigures zhao = { 1, 1, 0, 0, 0, 1, 1.0, 25.0, 360.0, 0.0, NAN };
  g_autoptr(JsonArray) rows = NULL;

  load_day (f);
  rows = run_day (f, KEFU_REPORT_BY_AGENT, KEFU_SL_DENOMINATOR_OFFERED_MINUS_SHORT);

  g_assert_cmpuint (json_array_get_length (rows), ==, 3);
  g_assert_cmpstr (row_str (rows, 0, "agent"), ==, "li");
  g_assert_cmpstr (row_str (rows, 1, "agent"), ==, "wang");
  g_assert_cmpstr (row_str (rows, 2, "agent"), ==, "zhao");
  kefu_test_assert_figures (kefu_test_find_row (rows, "agent", "li"), &li);
  kefu_test_assert_figures (kefu_test_find_row (rows, "agent", "wang"), &wang);
  kefu_test_assert_figures (kefu_test_find_row (rows, "agent", "zhao"), &zhao);
}

static void
test_report_day_total (Fixture       *f,
                       gconstpointer  data)
{
  static const KefuTestFigures total = {
    11, 6, 2, 2, 1, 4, 4.0 / 9.0, 115.0 / 6.0, 195.0, 2.0 / 9.0, 0.75
  };
  g_autoptr(JsonArray) rows = NULL;
  g_autoptr(JsonArray) one_queue = NULL;
  g_autoptr(JsonArray) one_agent = NULL;
  KefuReportQuery query;

  load_day (f);
  rows = run_day (f, KEFU_REPORT_BY_NONE, KEFU_SL_DENOMINATOR_OFFERED_MINUS_SHORT);
  g_assert_cmpuint (json_array_get_length (rows), ==, 1);
  g_assert_false (json_object_has_member (json_array_get_object_element (rows, 0), "queue"));
  kefu_test_assert_figures (json_array_get_object_element (rows, 0), &total);

  /* filters narrow an ungrouped report to one queue or one agent */
  query_init (&query, at (f, 0, 0), at (f, 23, 0), KEFU_REPORT_INTERVAL_TOTAL, KEFU_REPORT_BY_NONE,
              f->shanghai);
  query.queue = "billing";
  one_queue = run (f, &query);
  g_assert_cmpuint (json_array_get_length (one_queue), ==, 1);
  g_assert_cmpint (row_int (one_queue, 0, "offered"), ==, 8);
  query.queue = NULL;
  query.agent = "wang";
  one_agent = run (f, &query);
  g_assert_cmpint (row_int (one_agent, 0, "answered"), ==, 2);
}

/* The same calls under each of the three service-level denominators. */
static void
test_report_sl_denominators (Fixture       *f,
                             gconstpointer  data)
{
  static const struct {
    KefuSlDenominator denominator;
    double            billing;
    double            total;
  } cases[] = {
    { KEFU_SL_DENOMINATOR_OFFERED_MINUS_SHORT, 3.0 / 7.0, 4.0 / 9.0 },
    { KEFU_SL_DENOMINATOR_ANSWERED, 3.0 / 4.0, 4.0 / 6.0 },
    { KEFU_SL_DENOMINATOR_ANSWERED_ABANDONED, 3.0 / 6.0, 4.0 / 8.0 },
  };

  load_day (f);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(JsonArray) by_queue = run_day (f, KEFU_REPORT_BY_QUEUE, cases[i].denominator);
      g_autoptr(JsonArray) total = run_day (f, KEFU_REPORT_BY_NONE, cases[i].denominator);

      g_test_message ("denominator %s", kefu_sl_denominator_to_string (cases[i].denominator));
      assert_ratio (kefu_test_find_row (by_queue, "queue", "billing"), "service_level",
                    cases[i].billing);
      /* sales says "answered" itself, whatever the report's default */
      assert_ratio (kefu_test_find_row (by_queue, "queue", "sales"), "service_level", 0.5);
      assert_ratio (json_array_get_object_element (total, 0), "service_level", cases[i].total);
    }
}

/* A queue's own settings are read when the report runs. */
static void
test_report_queue_settings (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) rows = NULL;
  g_autoptr(JsonArray) after = NULL;
  g_autoptr(JsonObject) patch = NULL;
  g_autoptr(JsonArray) queues = NULL;
  g_autofree char *sales_id = NULL;
  KefuWrite write = KEFU_WRITE_INIT;
  KefuWriteResult result = { 0 };
  KefuReportQuery query;

  load_day (f);

  /* the report's default threshold does not move sales' own 30 s */
  query_init (&query, at (f, 0, 0), local_ms (f->shanghai, 2026, 11, 26, 0, 0, 0),
              KEFU_REPORT_INTERVAL_DAY, KEFU_REPORT_BY_QUEUE, f->shanghai);
  query.metrics.sl_threshold_s = 25;
  rows = run (f, &query);
  g_assert_cmpint (json_object_get_int_member (kefu_test_find_row (rows, "queue", "billing"),
                                               "answered_within"), ==, 4);
  assert_ratio (kefu_test_find_row (rows, "queue", "billing"), "service_level", 4.0 / 7.0);
  g_assert_cmpint (json_object_get_int_member (kefu_test_find_row (rows, "queue", "sales"),
                                               "answered_within"), ==, 1);

  /* sales back on 20 s and the default short-abandon window: s1 is late
   * and s3's 8 s wait is a real abandon */
  queues = kefu_store_list (f->sqlite.store, &kefu_record_queue, NULL, 0, 10, &error);
  g_assert_no_error (error);
  sales_id = g_strdup_printf ("%" G_GINT64_FORMAT, row_int (queues, 1, "id"));
  g_assert_cmpstr (row_str (queues, 1, "name"), ==, "sales");
  patch = kefu_record_decode (&kefu_record_queue,
                              "{\"sl_threshold_s\": 20, \"short_abandon_s\": null}", -1,
                              KEFU_RECORD_UPDATE, "CN", NULL, &error);
  g_assert_no_error (error);
  g_assert_true (kefu_store_update (f->sqlite.store, &kefu_record_queue, sales_id, patch, FALSE,
                                    &write, &result, NULL, &error));
  g_assert_no_error (error);
  kefu_write_result_clear (&result);

  after = run_day (f, KEFU_REPORT_BY_QUEUE, KEFU_SL_DENOMINATOR_OFFERED_MINUS_SHORT);
  {
    static const KefuTestFigures sales_20 = {
      3, 2, 1, 0, 0, 0, 0.0, 30.0, 270.0, 1.0 / 3.0, NAN
    };

    kefu_test_assert_figures (kefu_test_find_row (after, "queue", "sales"), &sales_20);
    kefu_test_assert_figures (kefu_test_find_row (after, "queue", "billing"), &billing_day);
  }
}

static void
test_report_hours (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(JsonArray) rows = NULL;
  KefuReportQuery query;
  gint64 offered = 0;

  load_day (f);
  query_init (&query, at (f, 0, 0), local_ms (f->shanghai, 2026, 11, 26, 0, 0, 0),
              KEFU_REPORT_INTERVAL_HOUR, KEFU_REPORT_BY_NONE, f->shanghai);
  rows = run (f, &query);

  /* every hour has a row, quiet ones too */
  g_assert_cmpuint (json_array_get_length (rows), ==, 24);
  for (guint h = 0; h < 24; h++)
    {
      JsonObject *row = json_array_get_object_element (rows, h);
      g_autofree char *label = g_strdup_printf ("2026-11-25T%02u:00", h);
      g_autofree char *start = kefu_time_format_ms (at (f, h, 0));

      g_assert_cmpstr (kefu_json_get_string (row, "period"), ==, label);
      g_assert_cmpstr (kefu_json_get_string (row, "period_start"), ==, start);
      offered += json_object_get_int_member (row, "offered");
    }
  g_assert_cmpint (offered, ==, 11);

  {
    /* 09: b1 b2 b3 s1, of which b3 late; 10: b4, b5 short, b6; 11: b7, b8 */
    static const KefuTestFigures nine = {
      4, 4, 0, 0, 0, 3, 3.0 / 4.0, 80.0 / 4.0, 930.0 / 4.0, 0.0, 1.0
    };
    static const KefuTestFigures ten = { 3, 1, 1, 1, 0, 1, 1.0 / 2.0, 0.0, 60.0, 1.0 / 2.0, 1.0 };
    static const KefuTestFigures eleven = { 2, 0, 1, 0, 1, 0, 0.0, NAN, NAN, 1.0 / 2.0, 1.0 };
    static const KefuTestFigures quiet = { 0, 0, 0, 0, 0, 0, NAN, NAN, NAN, NAN, NAN };

    kefu_test_assert_figures (json_array_get_object_element (rows, 9), &nine);
    kefu_test_assert_figures (json_array_get_object_element (rows, 10), &ten);
    kefu_test_assert_figures (json_array_get_object_element (rows, 11), &eleven);
    kefu_test_assert_figures (json_array_get_object_element (rows, 3), &quiet);
  }

  /* li's hours: available at 08, talking 09-12, lunch at 13, wrap-up
   * 14-15, available at 16, gone from 17 */
  assert_ratio (json_array_get_object_element (rows, 8), "occupancy", 0.0);
  for (guint h = 9; h <= 12; h++)
    assert_ratio (json_array_get_object_element (rows, h), "occupancy", 1.0);
  assert_ratio (json_array_get_object_element (rows, 13), "occupancy", NAN);
  assert_ratio (json_array_get_object_element (rows, 14), "occupancy", 1.0);
  assert_ratio (json_array_get_object_element (rows, 15), "occupancy", 1.0);
  assert_ratio (json_array_get_object_element (rows, 16), "occupancy", 0.0);
  assert_ratio (json_array_get_object_element (rows, 17), "occupancy", NAN);
}

static void
test_report_occupancy (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(JsonArray) rows = NULL;
  g_autoptr(JsonArray) by_queue = NULL;
  g_autoptr(JsonArray) morning = NULL;
  KefuReportQuery query;

  /* spans alone, no calls: 8 h staffed, 6 h busy */
  kefu_test_store_create (f->sqlite.store, &kefu_record_agent,
                          "{\"username\": \"li\", \"role\": \"agent\"}");
  agent_state (f, "li", "available", NULL, at (f, 8, 0));
  agent_state (f, "li", "talking", NULL, at (f, 9, 0));
  agent_state (f, "li", "not_ready", "Lunch", at (f, 13, 0));
  agent_state (f, "li", "wrapup", NULL, at (f, 14, 0));
  agent_state (f, "li", "available", NULL, at (f, 16, 0));
  agent_state (f, "li", "logged_out", NULL, at (f, 17, 0));

  rows = run_day (f, KEFU_REPORT_BY_AGENT, KEFU_SL_DENOMINATOR_OFFERED_MINUS_SHORT);
  g_assert_cmpuint (json_array_get_length (rows), ==, 1);
  assert_ratio (kefu_test_find_row (rows, "agent", "li"), "occupancy", 0.75);
  g_assert_cmpint (json_object_get_int_member (kefu_test_find_row (rows, "agent", "li"), "offered"),
                   ==, 0);

  /* a window clips the spans: 08:30-10:00 is 1.5 h staffed, 1 h busy */
  query_init (&query, at (f, 8, 30), at (f, 10, 0), KEFU_REPORT_INTERVAL_TOTAL,
              KEFU_REPORT_BY_NONE, f->shanghai);
  morning = run (f, &query);
  assert_ratio (json_array_get_object_element (morning, 0), "occupancy", 1.0 / 1.5);

  /* queue rows have no occupancy: agents serve several queues */
  by_queue = run_day (f, KEFU_REPORT_BY_QUEUE, KEFU_SL_DENOMINATOR_OFFERED_MINUS_SHORT);
  g_assert_cmpuint (json_array_get_length (by_queue), ==, 0);
}

/* Periods are local: a call at 23:30 UTC is the next morning in Shanghai. */
static void
test_report_local_periods (Fixture       *f,
                           gconstpointer  data)
{
  static const struct {
    const char *id;
    const char *utc;
  } calls[] = {
    { "a", "2026-11-24T16:00:00Z" },   /* 11-25 00:00 in Shanghai */
    { "b", "2026-11-25T15:59:59Z" },   /* 11-25 23:59:59 */
    { "c", "2026-11-25T23:30:00Z" },   /* 11-26 07:30 */
    { "d", "2026-11-30T16:30:00Z" },   /* 12-01 00:30 */
    { "e", "2026-12-31T16:30:00Z" },   /* 2027-01-01 00:30 */
  };
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc ();
  KefuReportQuery query;

  for (guint i = 0; i < G_N_ELEMENTS (calls); i++)
    unanswered_call (f, calls[i].id, "billing", "call.abandoned", utc_ms (calls[i].utc), 30);

  {
    g_autoptr(JsonArray) days = NULL;

    query_init (&query, local_ms (f->shanghai, 2026, 11, 25, 0, 0, 0),
                local_ms (f->shanghai, 2026, 11, 27, 0, 0, 0), KEFU_REPORT_INTERVAL_DAY,
                KEFU_REPORT_BY_NONE, f->shanghai);
    days = run (f, &query);
    g_assert_cmpuint (json_array_get_length (days), ==, 2);
    g_assert_cmpstr (row_str (days, 0, "period"), ==, "2026-11-25");
    g_assert_cmpint (row_int (days, 0, "offered"), ==, 2);
    g_assert_cmpstr (row_str (days, 1, "period"), ==, "2026-11-26");
    g_assert_cmpstr (row_str (days, 1, "period_start"), ==, "2026-11-25T16:00:00Z");
    g_assert_cmpint (row_int (days, 1, "offered"), ==, 1);
  }
  {
    g_autoptr(JsonArray) utc_days = NULL;

    /* the same calls by UTC days */
    query_init (&query, utc_ms ("2026-11-24T00:00:00Z"), utc_ms ("2026-11-26T00:00:00Z"),
                KEFU_REPORT_INTERVAL_DAY, KEFU_REPORT_BY_NONE, utc);
    utc_days = run (f, &query);
    g_assert_cmpuint (json_array_get_length (utc_days), ==, 2);
    g_assert_cmpint (row_int (utc_days, 0, "offered"), ==, 1);
    g_assert_cmpint (row_int (utc_days, 1, "offered"), ==, 2);
  }
  {
    g_autoptr(JsonArray) months = NULL;

    query_init (&query, local_ms (f->shanghai, 2026, 11, 1, 0, 0, 0),
                local_ms (f->shanghai, 2027, 1, 1, 0, 0, 0), KEFU_REPORT_INTERVAL_MONTH,
                KEFU_REPORT_BY_NONE, f->shanghai);
    months = run (f, &query);
    g_assert_cmpuint (json_array_get_length (months), ==, 2);
    g_assert_cmpstr (row_str (months, 0, "period"), ==, "2026-11");
    g_assert_cmpint (row_int (months, 0, "offered"), ==, 3);
    g_assert_cmpstr (row_str (months, 1, "period"), ==, "2026-12");
    g_assert_cmpstr (row_str (months, 1, "period_start"), ==, "2026-11-30T16:00:00Z");
    g_assert_cmpint (row_int (months, 1, "offered"), ==, 1);
  }
  {
    g_autoptr(JsonArray) years = NULL;

    query_init (&query, local_ms (f->shanghai, 2026, 1, 1, 0, 0, 0),
                local_ms (f->shanghai, 2028, 1, 1, 0, 0, 0), KEFU_REPORT_INTERVAL_YEAR,
                KEFU_REPORT_BY_NONE, f->shanghai);
    years = run (f, &query);
    g_assert_cmpuint (json_array_get_length (years), ==, 2);
    g_assert_cmpstr (row_str (years, 0, "period"), ==, "2026");
    g_assert_cmpint (row_int (years, 0, "offered"), ==, 4);
    g_assert_cmpstr (row_str (years, 1, "period"), ==, "2027");
    g_assert_cmpint (row_int (years, 1, "offered"), ==, 1);
  }
  {
    g_autoptr(JsonArray) total = NULL;
    JsonObject *row;

    query_init (&query, utc_ms ("2026-11-24T16:00:00Z"), utc_ms ("2026-12-31T16:30:01Z"),
                KEFU_REPORT_INTERVAL_TOTAL, KEFU_REPORT_BY_NONE, f->shanghai);
    total = run (f, &query);
    g_assert_cmpuint (json_array_get_length (total), ==, 1);
    row = json_array_get_object_element (total, 0);
    g_assert_cmpstr (kefu_json_get_string (row, "period"), ==, "total");
    g_assert_cmpstr (kefu_json_get_string (row, "period_start"), ==, "2026-11-24T16:00:00Z");
    g_assert_cmpstr (kefu_json_get_string (row, "period_end"), ==, "2026-12-31T16:30:01Z");
    g_assert_cmpint (json_object_get_int_member (row, "offered"), ==, 5);
    g_assert_cmpint (json_object_get_int_member (row, "abandoned"), ==, 5);
  }
}

/* Europe/London's clock change days are 23 and 25 hours long. */
static void
test_report_dst (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GTimeZone) london = g_time_zone_new_identifier ("Europe/London");
  KefuReportQuery query;

  g_assert_nonnull (london);
  /* 29 March 2026: 01:00 GMT becomes 02:00 BST */
  unanswered_call (f, "spring-late", "billing", "call.abandoned",
                   utc_ms ("2026-03-29T22:30:00Z"), 30);
  unanswered_call (f, "spring-next", "billing", "call.abandoned",
                   utc_ms ("2026-03-29T23:30:00Z"), 30);
  /* 25 October 2026: 02:00 BST becomes 01:00 GMT */
  unanswered_call (f, "autumn-before", "billing", "call.abandoned",
                   utc_ms ("2026-10-24T22:30:00Z"), 30);
  unanswered_call (f, "autumn-early", "billing", "call.abandoned",
                   utc_ms ("2026-10-24T23:30:00Z"), 30);
  unanswered_call (f, "autumn-late", "billing", "call.abandoned",
                   utc_ms ("2026-10-25T23:30:00Z"), 30);

  {
    g_autoptr(JsonArray) days = NULL;
    g_autoptr(JsonArray) hours = NULL;

    query_init (&query, local_ms (london, 2026, 3, 29, 0, 0, 0),
                local_ms (london, 2026, 3, 31, 0, 0, 0), KEFU_REPORT_INTERVAL_DAY,
                KEFU_REPORT_BY_NONE, london);
    days = run (f, &query);
    g_assert_cmpuint (json_array_get_length (days), ==, 2);
    g_assert_cmpstr (row_str (days, 0, "period_start"), ==, "2026-03-29T00:00:00Z");
    g_assert_cmpstr (row_str (days, 0, "period_end"), ==, "2026-03-29T23:00:00Z");
    g_assert_cmpint (row_int (days, 0, "offered"), ==, 1);
    g_assert_cmpstr (row_str (days, 1, "period"), ==, "2026-03-30");
    g_assert_cmpint (row_int (days, 1, "offered"), ==, 1);

    query_init (&query, local_ms (london, 2026, 3, 29, 0, 0, 0),
                local_ms (london, 2026, 3, 30, 0, 0, 0), KEFU_REPORT_INTERVAL_HOUR,
                KEFU_REPORT_BY_NONE, london);
    hours = run (f, &query);
    g_assert_cmpuint (json_array_get_length (hours), ==, 23);
    g_assert_cmpstr (row_str (hours, 1, "period"), ==, "2026-03-29T02:00");
  }
  {
    g_autoptr(JsonArray) days = NULL;
    g_autoptr(JsonArray) hours = NULL;

    query_init (&query, local_ms (london, 2026, 10, 25, 0, 0, 0),
                local_ms (london, 2026, 10, 27, 0, 0, 0), KEFU_REPORT_INTERVAL_DAY,
                KEFU_REPORT_BY_NONE, london);
    days = run (f, &query);
    g_assert_cmpuint (json_array_get_length (days), ==, 2);
    g_assert_cmpstr (row_str (days, 0, "period"), ==, "2026-10-25");
    g_assert_cmpstr (row_str (days, 0, "period_start"), ==, "2026-10-24T23:00:00Z");
    g_assert_cmpstr (row_str (days, 0, "period_end"), ==, "2026-10-26T00:00:00Z");
    g_assert_cmpint (row_int (days, 0, "offered"), ==, 2);
    g_assert_cmpint (row_int (days, 1, "offered"), ==, 0);

    query_init (&query, local_ms (london, 2026, 10, 25, 0, 0, 0),
                local_ms (london, 2026, 10, 26, 0, 0, 0), KEFU_REPORT_INTERVAL_HOUR,
                KEFU_REPORT_BY_NONE, london);
    hours = run (f, &query);
    g_assert_cmpuint (json_array_get_length (hours), ==, 25);
    g_assert_cmpint (row_int (hours, 0, "offered"), ==, 1);
    g_assert_cmpint (row_int (hours, 24, "offered"), ==, 1);
  }
}

static void
assert_same_figures (JsonObject *live,
                     JsonObject *report)
{
  static const char * const counts[] = {
    "offered", "answered", "abandoned", "short_abandoned", "other", "answered_within",
  };
  static const char * const ratios[] = {
    "service_level", "asa", "aht", "abandonment_rate", "occupancy", "avg_talk", "avg_hold",
    "avg_wrapup",
  };

  for (guint i = 0; i < G_N_ELEMENTS (counts); i++)
    g_assert_cmpint (json_object_get_int_member (live, counts[i]), ==,
                     json_object_get_int_member (report, counts[i]));
  for (guint i = 0; i < G_N_ELEMENTS (ratios); i++)
    {
      JsonNode *node = json_object_get_member (report, ratios[i]);

      double value = JSON_NODE_HOLDS_NULL (node) ? NAN : json_node_get_double (node);

      assert_ratio (live, ratios[i], value);
    }
}

static JsonObject *
live (Fixture    *f,
      const char *queue,
      gint64      now_ms)
{
  g_autoptr(GError) error = NULL;
  KefuMetricsConfig defaults;
  JsonObject *snapshot;

  kefu_metrics_config_init (&defaults);
  snapshot = kefu_report_queue_live (f->sqlite.store, queue, now_ms, f->shanghai, &defaults,
                                     &error);
  g_assert_no_error (error);
  g_assert_nonnull (snapshot);
  return snapshot;
}

static void
test_report_live (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) billing = NULL;
  g_autoptr(JsonObject) sales = NULL;
  g_autoptr(JsonObject) nothing = NULL;
  g_autoptr(JsonArray) rows = NULL;
  gint64 now = at (f, 16, 0);
  JsonObject *agents;
  JsonObject *today;

  load_day (f);
  /* two callers waiting now, one since last night */
  unanswered_call (f, "w1", "billing", NULL, at (f, 15, 50), 0);
  unanswered_call (f, "w2", "billing", NULL, at (f, 15, 58), 0);
  unanswered_call (f, "y1", "billing", NULL, local_ms (f->shanghai, 2026, 11, 24, 23, 50, 0), 0);
  /* li logged out at 17:00 (load_day); the others now */
  agent_state (f, "wang", "available", NULL, at (f, 15, 0));
  agent_state (f, "zhou", "not_ready", "Break", at (f, 15, 30));
  agent_state (f, "zhao", "talking", NULL, at (f, 15, 45));

  billing = live (f, "billing", now);
  g_assert_cmpstr (kefu_json_get_string (billing, "queue"), ==, "billing");
  g_assert_cmpint (json_object_get_int_member (billing, "waiting"), ==, 3);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (billing, "longest_wait_s"),
                                  16 * 3600 + 10 * 60, EPSILON);

  /* the agents who serve billing, by state; zhao serves sales only */
  agents = json_object_get_object_member (billing, "agents");
  g_assert_cmpuint (json_object_get_size (agents), ==, 7);
  g_assert_cmpint (json_object_get_int_member (agents, "logged_out"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (agents, "available"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (agents, "not_ready"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (agents, "talking"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (agents, "ringing"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (agents, "on_hold"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (agents, "wrapup"), ==, 0);

  /* today is since local midnight: last night's caller waits but is not
   * one of today's calls */
  today = json_object_get_object_member (billing, "today");
  {
    static const KefuTestFigures billing_now = {
      10, 4, 2, 1, 3, 3, 3.0 / 9.0, 55.0 / 4.0, 157.5, 2.0 / 9.0, NAN
    };

    kefu_test_assert_figures (today, &billing_now);
  }

  /* one definition: the live figures are the report's for the same day */
  rows = run_day (f, KEFU_REPORT_BY_QUEUE, KEFU_SL_DENOMINATOR_OFFERED_MINUS_SHORT);
  assert_same_figures (today, kefu_test_find_row (rows, "queue", "billing"));

  sales = live (f, "sales", now);
  g_assert_cmpint (json_object_get_int_member (sales, "waiting"), ==, 0);
  g_assert_cmpfloat (json_object_get_double_member (sales, "longest_wait_s"), ==, 0.0);
  agents = json_object_get_object_member (sales, "agents");
  g_assert_cmpint (json_object_get_int_member (agents, "talking"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (agents, "logged_out"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (agents, "available"), ==, 0);
  kefu_test_assert_figures (json_object_get_object_member (sales, "today"), &sales_day);
  assert_same_figures (json_object_get_object_member (sales, "today"),
                       kefu_test_find_row (rows, "queue", "sales"));

  /* once w1 is answered it no longer waits, and counts as answered late */
  {
    g_autoptr(JsonArray) events = json_array_new ();

    kefu_test_add_event (events, "call.answered", at (f, 15, 59), "w1", "billing", "wang", NULL);
    kefu_test_store_publish (f->sqlite.store, events);
  }
  g_clear_pointer (&billing, json_object_unref);
  billing = live (f, "billing", now);
  g_assert_cmpint (json_object_get_int_member (billing, "waiting"), ==, 2);
  today = json_object_get_object_member (billing, "today");
  g_assert_cmpint (json_object_get_int_member (today, "answered"), ==, 5);
  g_assert_cmpint (json_object_get_int_member (today, "answered_within"), ==, 3);
  assert_ratio (today, "asa", (55.0 + 540.0) / 5.0);

  nothing = kefu_report_queue_live (f->sqlite.store, "nosuchqueue", now, f->shanghai,
                                    &(KefuMetricsConfig) { 20, 5, KEFU_SL_DENOMINATOR_ANSWERED },
                                    &error);
  g_assert_null (nothing);
  g_assert_error (error, KEFU_STORE_ERROR, KEFU_STORE_ERROR_NOT_FOUND);
}

static void
test_report_bad_queries (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) rows = NULL;
  KefuReportInterval interval;
  KefuReportGrouping by;
  KefuReportQuery query;

  query_init (&query, at (f, 10, 0), at (f, 10, 0), KEFU_REPORT_INTERVAL_DAY, KEFU_REPORT_BY_NONE,
              f->shanghai);
  rows = kefu_report_calls (f->sqlite.store, &query, &error);
  g_assert_null (rows);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* three years by the hour is more than anyone can read */
  query_init (&query, local_ms (f->shanghai, 2024, 1, 1, 0, 0, 0),
              local_ms (f->shanghai, 2027, 1, 1, 0, 0, 0), KEFU_REPORT_INTERVAL_HOUR,
              KEFU_REPORT_BY_NONE, f->shanghai);
  rows = kefu_report_calls (f->sqlite.store, &query, &error);
  g_assert_null (rows);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "periods"));

  g_assert_true (kefu_report_interval_from_string ("month", &interval));
  g_assert_cmpint (interval, ==, KEFU_REPORT_INTERVAL_MONTH);
  g_assert_false (kefu_report_interval_from_string ("week", &interval));
  g_assert_false (kefu_report_interval_from_string (NULL, &interval));
  g_assert_true (kefu_report_grouping_from_string ("agent", &by));
  g_assert_cmpint (by, ==, KEFU_REPORT_BY_AGENT);
  g_assert_false (kefu_report_grouping_from_string ("team", &by));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/report/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("day-by-queue", test_report_day_by_queue);
  ADD ("day-by-agent", test_report_day_by_agent);
  ADD ("day-total", test_report_day_total);
  ADD ("sl-denominators", test_report_sl_denominators);
  ADD ("queue-settings", test_report_queue_settings);
  ADD ("hours", test_report_hours);
  ADD ("occupancy", test_report_occupancy);
  ADD ("local-periods", test_report_local_periods);
  ADD ("dst", test_report_dst);
  ADD ("live", test_report_live);
  ADD ("bad-queries", test_report_bad_queries);

#undef ADD

  return g_test_run ();
}
