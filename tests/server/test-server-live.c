/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "TestServerLive"

#include "config.h"

#include "kefu-test-report.h"
#include "kefu-test-server.h"

#include <math.h>
#include <string.h>

/*
 * The event log, reports, staffing, the live queue panel and the event
 * stream of a real kefu-server, through HTTP and WebSocket as the desktop
 * and the switch use them.  Runs once on SQLite and once on PostgreSQL.
 *
 * The day of calls is test-report's (2026-11-25, Asia/Shanghai, the
 * server's zone), published by the service account as the switch would:
 *
 *  billing (server defaults: 20 s threshold, 5 s short abandon)
 *   b1 09:00 li 10/100/20/30  b2 09:10 li 20/200/0/40  b3 09:20 wang 25/150/10/20
 *   b4 10:05 wang 0/50/0/10   b5 10:30 abandoned 4.9  b6 10:40 abandoned 5
 *   b7 11:00 abandoned 60     b8 11:30 overflow 30
 *   (wait/talk/hold/wrap-up)  offered 8, answered 4 (3 within), short 1,
 *   abandoned 2, other 1; SL 3/7, ASA 13.75, AHT 157.5, abandonment 2/7
 *  sales (30 s threshold, 10 s short abandon, SL over answered)
 *   s1 09:05 zhao 25/300/0/60  s2 14:00 li 35/120/30/30  s3 15:00 abandoned 8
 *   offered 3, answered 2 (1 within), short 1; SL 1/2, ASA 30, AHT 270
 */

#define EPSILON 1e-9

/* --- HTTP helpers -------------------------------------------------------------------- */

static void
expect_error (KefuTestServer *server,
              const char     *method,
              const char     *path,
              const char     *token,
              const char     *json,
              guint           status,
              const char     *code,
              const char     *message_part)
{
  g_autoptr(KefuTestResponse) response = kefu_test_request_expect (server, method, path, token,
                                                                   json, status);
  JsonObject *error;

  error = json_object_get_object_member (kefu_test_response_object (response), "error");
  g_assert_nonnull (error);
  if (code)
    g_assert_cmpstr (json_object_get_string_member (error, "code"), ==, code);
  if (message_part && !strstr (json_object_get_string_member (error, "message"), message_part))
    g_error ("%s %s: “%s” does not mention “%s”", method, path,
             json_object_get_string_member (error, "message"), message_part);
}

static gint64
event_count (KefuTestServer *server,
             const char     *token)
{
  g_autoptr(KefuTestResponse) response =
    kefu_test_request_expect (server, "GET", "/v1/events?since=0&limit=10000", token, NULL, 200);

  return json_array_get_length (json_object_get_array_member (kefu_test_response_object (response),
                                                              "events"));
}

static char *
post_body (JsonArray  *events,
           const char *op_id)
{
  g_autoptr(JsonObject) envelope = json_object_new ();
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);

  json_object_set_array_member (envelope, "events", json_array_ref (events));
  if (op_id)
    json_object_set_string_member (envelope, "op_id", op_id);
  json_node_set_object (node, envelope);
  return json_to_string (node, FALSE);
}

/* --- the day of calls ------------------------------------------------------------------- */

static gint64
shanghai_ms (int    day,
             int    hour,
             int    minute)
{
  g_autoptr(GTimeZone) tz = g_time_zone_new_identifier ("Asia/Shanghai");
  g_autoptr(GDateTime) dt = g_date_time_new (tz, 2026, 11, day, hour, minute, 0);

  return g_date_time_to_unix (dt) * 1000;
}

/* As the switch writes times: local, with its offset. */
static char *
iso_local (gint64 ms)
{
  g_autoptr(GTimeZone) tz = g_time_zone_new_identifier ("Asia/Shanghai");
  g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc (ms / 1000);
  g_autoptr(GDateTime) local = g_date_time_to_timezone (utc, tz);
  g_autofree char *base = g_date_time_format (local, "%Y-%m-%dT%H:%M:%S");

  return g_strdup_printf ("%s.%03d+08:00", base, (int) (ms % 1000));
}

/* Every event carries "data"; events without it are checked on their own
 * at the end (see test_events_without_data). */
static void
add_event (JsonArray  *events,
           const char *type,
           gint64      ts_ms,
           const char *call_id,
           const char *queue,
           const char *agent,
           JsonObject *data)
{
  g_autofree char *ts = iso_local (ts_ms);

  kefu_test_add_event_ts (events, type, ts, call_id, queue, agent, data);
}

static void
answered_call (JsonArray  *events,
               const char *call_id,
               const char *queue,
               const char *agent,
               gint64      offered_ms,
               double      wait_s,
               double      talk_s,
               double      hold_s,
               double      wrapup_s)
{
  gint64 answered_ms = offered_ms + (gint64) (wait_s * 1000.0);
  gint64 ended_ms = answered_ms + (gint64) ((talk_s + hold_s) * 1000.0);
  JsonObject *ended = json_object_new ();

  json_object_set_double_member (ended, "hold_s", hold_s);
  add_event (events, "call.offered", offered_ms, call_id, queue, NULL, NULL);
  add_event (events, "call.answered", answered_ms, call_id, queue, agent, NULL);
  add_event (events, "call.ended", ended_ms, call_id, queue, agent, ended);
  add_event (events, "call.wrapup_ended", ended_ms + (gint64) (wrapup_s * 1000.0), call_id, queue,
             agent, NULL);
}

static void
unanswered_call (JsonArray  *events,
                 const char *call_id,
                 const char *queue,
                 const char *outcome,
                 gint64      offered_ms,
                 double      wait_s)
{
  add_event (events, "call.offered", offered_ms, call_id, queue, NULL, NULL);
  add_event (events, outcome, offered_ms + (gint64) (wait_s * 1000.0), call_id, queue, NULL, NULL);
}

static void
agent_state_event (JsonArray  *events,
                   const char *agent,
                   const char *state,
                   gint64      ts_ms)
{
  JsonObject *data = json_object_new ();

  json_object_set_string_member (data, "state", state);
  if (g_str_equal (state, "not_ready"))
    json_object_set_string_member (data, "reason", "Lunch");
  add_event (events, "agent.state", ts_ms, NULL, NULL, agent, data);
}

static JsonArray *
day_of_calls (void)
{
  JsonArray *events = json_array_new ();

  answered_call (events, "b1", "billing", "li", shanghai_ms (25, 9, 0), 10, 100, 20, 30);
  answered_call (events, "b2", "billing", "li", shanghai_ms (25, 9, 10), 20, 200, 0, 40);
  answered_call (events, "b3", "billing", "wang", shanghai_ms (25, 9, 20), 25, 150, 10, 20);
  answered_call (events, "b4", "billing", "wang", shanghai_ms (25, 10, 5), 0, 50, 0, 10);
  unanswered_call (events, "b5", "billing", "call.abandoned", shanghai_ms (25, 10, 30), 4.9);
  unanswered_call (events, "b6", "billing", "call.abandoned", shanghai_ms (25, 10, 40), 5);
  unanswered_call (events, "b7", "billing", "call.abandoned", shanghai_ms (25, 11, 0), 60);
  unanswered_call (events, "b8", "billing", "call.overflow", shanghai_ms (25, 11, 30), 30);
  answered_call (events, "s1", "sales", "zhao", shanghai_ms (25, 9, 5), 25, 300, 0, 60);
  answered_call (events, "s2", "sales", "li", shanghai_ms (25, 14, 0), 35, 120, 30, 30);
  unanswered_call (events, "s3", "sales", "call.abandoned", shanghai_ms (25, 15, 0), 8);
  /* li: 8 h staffed, 6 h busy */
  agent_state_event (events, "li", "available", shanghai_ms (25, 8, 0));
  agent_state_event (events, "li", "talking", shanghai_ms (25, 9, 0));
  agent_state_event (events, "li", "not_ready", shanghai_ms (25, 13, 0));
  agent_state_event (events, "li", "wrapup", shanghai_ms (25, 14, 0));
  agent_state_event (events, "li", "available", shanghai_ms (25, 16, 0));
  agent_state_event (events, "li", "logged_out", shanghai_ms (25, 17, 0));
  return events;
}

static void
create_queues (KefuTestServer *server)
{
  g_autofree char *admin = kefu_test_login (server, "admin");
  g_autoptr(KefuTestResponse) billing =
    kefu_test_request_expect (server, "POST", "/v1/queues", admin, "{\"name\": \"billing\"}", 201);
  g_autoptr(KefuTestResponse) sales = kefu_test_request_expect (server, "POST", "/v1/queues", admin,
    "{\"name\": \"sales\", \"sl_threshold_s\": 30, \"short_abandon_s\": 10,"
    " \"sl_denominator\": \"answered\"}", 201);
}

static void
publish_day (KefuTestServer *server,
             const char     *service)
{
  g_autoptr(JsonArray) events = day_of_calls ();
  g_autofree char *body = post_body (events, "day-2026-11-25");
  g_autoptr(KefuTestResponse) response = kefu_test_request_expect (server, "POST", "/v1/events",
                                                                   service, body, 201);

  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (
                      kefu_test_response_object (response), "events")), ==,
                    json_array_get_length (events));
}

/* --- comparing figures ------------------------------------------------------------------- */

static const KefuTestFigures billing_day = {
  8, 4, 2, 1, 1, 3, 3.0 / 7.0, 13.75, 157.5, 2.0 / 7.0, NAN
};
static const KefuTestFigures sales_day = { 3, 2, 0, 1, 0, 1, 0.5, 30.0, 270.0, 0.0, NAN };

static JsonArray *
report_rows (KefuTestResponse *response)
{
  return json_object_get_array_member (kefu_test_response_object (response), "rows");
}

/* --- events -------------------------------------------------------------------------------- */

static void
test_events_post (void)
{
  KefuTestServer *server = kefu_test_server_start (NULL);
  g_autofree char *service = kefu_test_login (server, "service");
  g_autofree char *supervisor = kefu_test_login (server, "supervisor");
  g_autofree char *agent = kefu_test_login (server, "agent");
  g_autofree char *teamlead = kefu_test_login (server, "teamlead");
  g_autofree char *admin = kefu_test_login (server, "admin");
  g_autoptr(JsonArray) batch = json_array_new ();
  g_autofree char *body = NULL;
  g_autoptr(KefuTestResponse) first = NULL;
  g_autoptr(KefuTestResponse) again = NULL;
  JsonArray *stored, *replayed;
  gint64 before = event_count (server, supervisor);
  static const char single[] =
    "{\"type\": \"queue.updated\", \"queue\": \"billing\", \"data\": {\"reason\": \"test\"}}";

  unanswered_call (batch, "e1", "billing", "call.abandoned", shanghai_ms (25, 9, 0), 12);
  add_event (batch, "call.offered", shanghai_ms (25, 9, 1), "e2", "billing", NULL, NULL);
  body = post_body (batch, "switch-7-batch-1");

  first = kefu_test_request_expect (server, "POST", "/v1/events", service, body, 201);
  stored = json_object_get_array_member (kefu_test_response_object (first), "events");
  g_assert_cmpuint (json_array_get_length (stored), ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      JsonObject *event = json_array_get_object_element (stored, i);

      g_assert_cmpint (json_object_get_int_member (event, "id"), >, 0);
      if (i > 0)
        g_assert_cmpint (json_object_get_int_member (event, "id"), >,
                         json_object_get_int_member (json_array_get_object_element (stored, i - 1),
                                                     "id"));
    }
  /* stored in UTC whatever offset the switch wrote */
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (stored, 0), "ts"),
                   ==, "2026-11-25T01:00:00Z");
  g_assert_cmpint (event_count (server, supervisor), ==, before + 3);

  /* the switch resends the batch it got no answer for */
  again = kefu_test_request_expect (server, "POST", "/v1/events", service, body, 201);
  g_assert_cmpstr (soup_message_headers_get_one (again->headers, "Idempotent-Replayed"), ==,
                   "true");
  replayed = json_object_get_array_member (kefu_test_response_object (again), "events");
  g_assert_cmpuint (json_array_get_length (replayed), ==, 3);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (replayed, i), "id"),
                     ==,
                     json_object_get_int_member (json_array_get_object_element (stored, i), "id"));
  g_assert_cmpint (event_count (server, supervisor), ==, before + 3);

  /* one event, retried with an Idempotency-Key header */
  {
    const char * const headers[] = { "Idempotency-Key", "single-event-1", NULL };
    g_autoptr(KefuTestResponse) one = kefu_test_request_full (server, "POST", "/v1/events", service,
                                                              "application/json", single,
                                                              strlen (single), headers);
    g_autoptr(KefuTestResponse) two = kefu_test_request_full (server, "POST", "/v1/events", service,
                                                              "application/json", single,
                                                              strlen (single), headers);

    g_assert_cmpuint (one->status, ==, 201);
    g_assert_cmpuint (two->status, ==, 201);
    g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (
                       json_object_get_array_member (kefu_test_response_object (one), "events"), 0),
                       "id"), ==,
                     json_object_get_int_member (json_array_get_object_element (
                       json_object_get_array_member (kefu_test_response_object (two), "events"), 0),
                       "id"));
    g_assert_cmpint (event_count (server, supervisor), ==, before + 4);
  }

  /* refused events change nothing */
  {
    g_autoptr(KefuTestResponse) unknown =
      kefu_test_request_expect (server, "POST", "/v1/events", service,
        "{\"events\": [{\"type\": \"call.offered\", \"call_id\": \"x1\", \"queue\": \"billing\", "
        "\"data\": {}},"
        " {\"type\": \"call.teleported\", \"call_id\": \"x1\", \"data\": {}}]}", 400);
    JsonObject *error = json_object_get_object_member (kefu_test_response_object (unknown),
                                                       "error");

    g_assert_cmpstr (json_object_get_string_member (error, "code"), ==, "invalid_value");
    g_assert_cmpstr (json_object_get_string_member (error, "field"), ==, "type");
    g_assert_nonnull (strstr (json_object_get_string_member (error, "message"), "type"));
    g_assert_nonnull (strstr (json_object_get_string_member (error, "message"), "call.teleported"));
  }
  expect_error (server, "POST", "/v1/events", service,
                "{\"type\": \"call.offered\", \"call_id\": \"x2\", \"data\": {}}", 422, "invalid",
                "queue");
  expect_error (server, "POST", "/v1/events", service,
                "{\"events\": [{\"type\": \"call.offered\", \"call_id\": \"x3\", \"queue\": "
                "\"billing\", \"data\": {}},"
                " {\"type\": \"call.offered\", \"call_id\": \"x4\", \"data\": {}}]}",
                422, "invalid", "queue");
  expect_error (server, "POST", "/v1/events", service,
                "{\"type\": \"agent.state\", \"agent\": \"agent\", \"data\": {\"state\": "
                "\"flying\"}}",
                422, "invalid", "state");
  expect_error (server, "POST", "/v1/events", service, "{\"events\": []}", 400, NULL, "events");
  expect_error (server, "POST", "/v1/events", service,
                "{\"events\": [], \"op_id\": \"x\", \"colour\": \"red\"}", 400, "unknown_field",
                "colour");
  expect_error (server, "POST", "/v1/events", service, "{\"events\": ", 400, "malformed_json",
                NULL);
  g_assert_cmpint (event_count (server, supervisor), ==, before + 4);

  /* who may publish: the switch and admins; nobody else */
  expect_error (server, "POST", "/v1/events", agent, single, 403, "forbidden", NULL);
  expect_error (server, "POST", "/v1/events", supervisor, single, 403, "forbidden", NULL);
  expect_error (server, "POST", "/v1/events", teamlead, single, 403, "forbidden", NULL);
  expect_error (server, "POST", "/v1/events", NULL, single, 401, NULL, NULL);
  g_assert_cmpint (event_count (server, supervisor), ==, before + 4);
  {
    g_autoptr(KefuTestResponse) by_admin = kefu_test_request_expect (server, "POST", "/v1/events",
                                                                     admin, single, 201);
  }
  g_assert_cmpint (event_count (server, supervisor), ==, before + 5);
  expect_error (server, "GET", "/v1/events?since=0", agent, NULL, 403, "forbidden", NULL);

  kefu_test_server_free (server);
}

/* --- reports ------------------------------------------------------------------------------ */

static void
test_reports (void)
{
  KefuTestServer *server = kefu_test_server_start (NULL);
  g_autofree char *service = kefu_test_login (server, "service");
  g_autofree char *teamlead = kefu_test_login (server, "teamlead");
  g_autofree char *supervisor = kefu_test_login (server, "supervisor");
  g_autofree char *agent = kefu_test_login (server, "agent");

  create_queues (server);
  publish_day (server, service);

  {
    g_autoptr(KefuTestResponse) response = kefu_test_request_expect (server, "GET",
      "/v1/reports/calls?from=2026-11-25&to=2026-11-25&by=queue&interval=day", teamlead, NULL, 200);
    JsonObject *body = kefu_test_response_object (response);
    JsonArray *rows = report_rows (response);

    g_assert_cmpstr (json_object_get_string_member (body, "timezone"), ==, "Asia/Shanghai");
    g_assert_cmpstr (json_object_get_string_member (body, "from"), ==, "2026-11-24T16:00:00Z");
    g_assert_cmpstr (json_object_get_string_member (body, "to"), ==, "2026-11-25T16:00:00Z");
    g_assert_cmpuint (json_array_get_length (rows), ==, 2);
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (rows, 0),
                                                    "period"), ==, "2026-11-25");
    kefu_test_assert_figures (kefu_test_find_row (rows, "queue", "billing"), &billing_day);
    kefu_test_assert_figures (kefu_test_find_row (rows, "queue", "sales"), &sales_day);
  }
  {
    static const KefuTestFigures li = { 3, 3, 0, 0, 0, 2, 2.0 / 3.0, 65.0 / 3.0, 190.0, 0.0, 0.75 };
    static const KefuTestFigures wang = { 2, 2, 0, 0, 0, 1, 0.5, 12.5, 120.0, 0.0, NAN };
    static const KefuTestFigures zhao = { 1, 1, 0, 0, 0, 1, 1.0, 25.0, 360.0, 0.0, NAN };
    g_autoptr(KefuTestResponse) response = kefu_test_request_expect (server, "GET",
      "/v1/reports/calls?from=2026-11-25&to=2026-11-25&by=agent&interval=day", teamlead, NULL, 200);
    JsonArray *rows = report_rows (response);

    g_assert_cmpuint (json_array_get_length (rows), ==, 3);
    kefu_test_assert_figures (kefu_test_find_row (rows, "agent", "li"), &li);
    kefu_test_assert_figures (kefu_test_find_row (rows, "agent", "wang"), &wang);
    kefu_test_assert_figures (kefu_test_find_row (rows, "agent", "zhao"), &zhao);
  }
  {
    static const KefuTestFigures nine = { 4, 4, 0, 0, 0, 3, 0.75, 20.0, 232.5, 0.0, 1.0 };
    static const KefuTestFigures ten = { 3, 1, 1, 1, 0, 1, 0.5, 0.0, 60.0, 0.5, 1.0 };
    g_autoptr(KefuTestResponse) response = kefu_test_request_expect (server, "GET",
      "/v1/reports/calls?from=2026-11-25&to=2026-11-25&interval=hour", teamlead, NULL, 200);
    JsonArray *rows = report_rows (response);
    gint64 offered = 0;

    g_assert_cmpuint (json_array_get_length (rows), ==, 24);
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (rows, 9),
                                                    "period"), ==, "2026-11-25T09:00");
    kefu_test_assert_figures (json_array_get_object_element (rows, 9), &nine);
    kefu_test_assert_figures (json_array_get_object_element (rows, 10), &ten);
    for (guint h = 0; h < 24; h++)
      offered += json_object_get_int_member (json_array_get_object_element (rows, h), "offered");
    g_assert_cmpint (offered, ==, 11);
  }
  {
    /* a denominator asked for applies to every queue; the queues keep
     * their own thresholds (sales answers within 30 s, not 20) */
    g_autoptr(KefuTestResponse) response = kefu_test_request_expect (server, "GET",
      "/v1/reports/calls?from=2026-11-25&to=2026-11-25&by=queue&sl_denominator=answered",
      teamlead, NULL, 200);

    kefu_test_assert_ratio (kefu_test_find_row (report_rows (response), "queue", "billing"),
                            "service_level", 0.75, EPSILON);
    kefu_test_assert_ratio (kefu_test_find_row (report_rows (response), "queue", "sales"),
                            "service_level", 0.5, EPSILON);
  }

  /* the same figures as a spreadsheet */
  {
    g_autoptr(KefuTestResponse) csv = kefu_test_request_expect (server, "GET",
      "/v1/reports/calls?from=2026-11-25&to=2026-11-25&by=queue&interval=day&format=csv",
      teamlead, NULL, 200);
    g_auto(GStrv) lines = NULL;
    g_auto(GStrv) header = NULL;
    const char *type = soup_message_headers_get_content_type (csv->headers, NULL);

    g_assert_cmpstr (type, ==, "text/csv");
    g_assert_true (g_str_has_suffix (csv->body, "\r\n"));
    lines = g_strsplit (csv->body, "\r\n", -1);
    g_assert_cmpuint (g_strv_length (lines), ==, 4);   /* header, two rows, "" */
    g_assert_cmpstr (lines[0], ==,
                     "period,queue,offered,answered,abandoned,short_abandoned,other,overflowed,"
                     "answered_within,service_level,asa,aht,abandonment_rate,occupancy,avg_talk,"
                     "avg_hold,avg_wrapup");
    header = g_strsplit (lines[0], ",", -1);
    for (guint r = 1; r <= 2; r++)
      {
        g_auto(GStrv) cells = g_strsplit (lines[r], ",", -1);
        const KefuTestFigures *e = r == 1 ? &billing_day : &sales_day;
        const double numbers[] = {
          /* the day's only other call (b8) overflowed */
          e->offered, e->answered, e->abandoned, e->short_abandoned, e->other, e->other,
          e->answered_within, e->service_level, e->asa, e->aht, e->abandonment_rate,
        };

        g_assert_cmpuint (g_strv_length (cells), ==, g_strv_length (header));
        g_assert_cmpstr (cells[0], ==, "2026-11-25");
        g_assert_cmpstr (cells[1], ==, r == 1 ? "billing" : "sales");
        for (guint c = 0; c < G_N_ELEMENTS (numbers); c++)
          {
            double value = g_ascii_strtod (cells[c + 2], NULL);

            if (fabs (value - numbers[c]) > 5e-5)
              g_error ("CSV %s of %s: %s, expected %.4f", header[c + 2], cells[1], cells[c + 2],
                       numbers[c]);
          }
        /* undefined is an empty cell, not 0 */
        g_assert_cmpstr (cells[13], ==, "");
      }
  }

  /* what a typo gets: a 400 that says what is wrong */
  expect_error (server, "GET", "/v1/reports/calls?interval=week", teamlead, NULL, 400, "bad_query",
                "week");
  expect_error (server, "GET", "/v1/reports/calls?by=foo", teamlead, NULL, 400, "bad_query", "foo");
  expect_error (server, "GET", "/v1/reports/calls?from=garbage", teamlead, NULL, 400, "bad_query",
                "garbage");
  expect_error (server, "GET", "/v1/reports/calls?from=2026-11-25&colour=red", teamlead, NULL, 400,
                "bad_query", "colour");
  expect_error (server, "GET", "/v1/reports/calls?format=pdf", teamlead, NULL, 400, "bad_query",
                "pdf");
  expect_error (server, "GET", "/v1/reports/calls?from=2026-11-26&to=2026-11-24", teamlead, NULL,
                400, "bad_query", NULL);
  expect_error (server, "GET", "/v1/reports/calls?sl_threshold_s=-3", teamlead, NULL, 400,
                "bad_query", "sl_threshold_s");
  /* reports are the team lead's */
  expect_error (server, "GET", "/v1/reports/calls", supervisor, NULL, 403, "forbidden", NULL);
  expect_error (server, "GET", "/v1/reports/calls", agent, NULL, 403, "forbidden", NULL);

  kefu_test_server_free (server);
}

/* --- staffing ----------------------------------------------------------------------------- */

/* Erlang C from first principles, to check the server against. */
static double
reference_p_wait (guint  agents,
                  double traffic)
{
  double b = 1.0;

  for (guint k = 1; k <= agents; k++)
    b = traffic * b / (k + traffic * b);
  return agents * b / (agents - traffic * (1.0 - b));
}

static void
test_staffing (void)
{
  KefuTestServer *server = kefu_test_server_start (NULL);
  g_autofree char *teamlead = kefu_test_login (server, "teamlead");
  g_autofree char *agent = kefu_test_login (server, "agent");
  double p_wait = reference_p_wait (54, 48.0);

  {
    g_autoptr(KefuTestResponse) response = kefu_test_request_expect (server, "GET",
      "/v1/staffing?calls=360&interval_s=1800&aht_s=240&target_sl=0.8&target_s=20", teamlead,
      NULL, 200);
    JsonObject *row = kefu_test_response_object (response);

    g_assert_cmpint (json_object_get_int_member (row, "agents"), ==, 54);
    kefu_test_assert_ratio (row, "traffic_erlangs", 48.0, 1e-9);
    kefu_test_assert_ratio (row, "p_wait", p_wait, 1e-6);
    kefu_test_assert_ratio (row, "service_level", 1.0 - p_wait * exp (-(54 - 48.0) * 20.0 / 240.0),
                            1e-6);
    kefu_test_assert_ratio (row, "asa_s", p_wait * 240.0 / (54 - 48.0), 1e-6);
    kefu_test_assert_ratio (row, "occupancy", 48.0 / 54.0, 1e-9);
    /* 81.7 %, 12.05 s: what the textbook tables print */
    g_assert_cmpfloat (json_object_get_double_member (row, "service_level"), >=, 0.8);
    kefu_test_assert_ratio (row, "asa_s", 12.05, 0.01);
  }
  {
    g_autoptr(KefuTestResponse) response =
      kefu_test_request_expect (server, "POST", "/v1/staffing", teamlead,
        "{\"calls\": [360, 0, 180], \"aht_s\": 240, \"interval_s\": 1800, \"target_sl\": 0.8,"
        " \"target_s\": 20}", 200);
    JsonArray *intervals = json_object_get_array_member (kefu_test_response_object (response),
                                                         "intervals");

    g_assert_cmpuint (json_array_get_length (intervals), ==, 3);
    g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (intervals, 0),
                                                 "agents"), ==, 54);
    g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (intervals, 1),
                                                 "agents"), ==, 0);
    kefu_test_assert_ratio (json_array_get_object_element (intervals, 2), "traffic_erlangs", 24.0,
                            1e-9);
    /* 24 erlangs: 28 agents reach 76 %, 29 reach 84 % */
    g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (intervals, 2),
                                                 "agents"), ==, 29);
  }

  expect_error (server, "GET", "/v1/staffing?calls=-1&aht_s=240", teamlead, NULL, 400, NULL,
                "calls");
  expect_error (server, "GET", "/v1/staffing?calls=lots&aht_s=240", teamlead, NULL, 400, NULL,
                "calls");
  expect_error (server, "GET", "/v1/staffing?calls=360", teamlead, NULL, 400, NULL, "aht_s");
  expect_error (server, "GET", "/v1/staffing?calls=360&aht_s=0", teamlead, NULL, 400, NULL,
                "aht_s");
  expect_error (server, "GET", "/v1/staffing?calls=360&aht_s=240&target_sl=1.5", teamlead, NULL,
                400, NULL, "target_sl");
  expect_error (server, "GET", "/v1/staffing?calls=360&aht_s=240&interval_s=10", teamlead, NULL,
                400, NULL, "interval_s");
  expect_error (server, "POST", "/v1/staffing", teamlead, "{\"calls\": \"360\", \"aht_s\": 240}",
                400, NULL, "calls");
  expect_error (server, "POST", "/v1/staffing", teamlead, "{\"calls\": [360, -5], \"aht_s\": 240}",
                400, NULL, "calls[1]");
  expect_error (server, "POST", "/v1/staffing", teamlead,
                "{\"calls\": [360], \"aht_s\": 240, \"colour\": \"red\"}", 400, "unknown_field",
                "colour");
  expect_error (server, "POST", "/v1/staffing", teamlead, "[360]", 400, NULL, NULL);
  expect_error (server, "GET", "/v1/staffing?calls=360&aht_s=240", agent, NULL, 403, "forbidden",
                NULL);

  kefu_test_server_free (server);
}

/* --- the live queue panel ------------------------------------------------------------------- */

static JsonObject *
live_agents (KefuTestResponse *response)
{
  return json_object_get_object_member (kefu_test_response_object (response), "agents");
}

static void
test_queue_live (void)
{
  KefuTestServer *server = kefu_test_server_start (NULL);
  g_autofree char *service = kefu_test_login (server, "service");
  g_autofree char *supervisor = kefu_test_login (server, "supervisor");
  g_autofree char *teamlead = kefu_test_login (server, "teamlead");
  g_autofree char *agent = kefu_test_login (server, "agent");
  g_autofree char *agent2 = kefu_test_login (server, "agent2");
  g_autofree char *admin = kefu_test_login (server, "admin");
  g_autoptr(JsonArray) events = json_array_new ();
  g_autofree char *body = NULL;
  g_autoptr(GTimeZone) tz = g_time_zone_new_identifier ("Asia/Shanghai");
  g_autoptr(GDateTime) now = g_date_time_new_now (tz);
  g_autoptr(GDateTime) midnight = g_date_time_new (tz, g_date_time_get_year (now),
                                                   g_date_time_get_month (now),
                                                   g_date_time_get_day_of_month (now), 0, 0, 0);
  gint64 now_ms = g_date_time_to_unix (now) * 1000;
  gint64 offered[] = { now_ms - 90000, now_ms - 30000 };
  gint64 today = 0;
  g_autofree char *queue_id = NULL;

  create_queues (server);
  {
    g_autoptr(KefuTestResponse) list = kefu_test_request_expect (server, "GET", "/v1/queues", admin,
                                                                 NULL, 200);
    JsonArray *items = json_object_get_array_member (kefu_test_response_object (list), "items");

    queue_id = g_strdup_printf ("%" G_GINT64_FORMAT, json_object_get_int_member (
                                  json_array_get_object_element (items, 0), "id"));
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (items, 0),
                                                    "name"),
                     ==, "billing");
  }
  {
    g_autoptr(KefuTestResponse) a =
      kefu_test_request_expect (server, "PATCH", "/v1/agents/agent", admin,
                                "{\"skills\": {\"billing\": 50}}", 200);
    g_autoptr(KefuTestResponse) b =
      kefu_test_request_expect (server, "PATCH", "/v1/agents/agent2", admin,
                                "{\"skills\": {\"billing\": 70, \"sales\": 20}}", 200);
  }

  /* two callers waiting, no outcome yet */
  for (guint i = 0; i < G_N_ELEMENTS (offered); i++)
    {
      g_autofree char *id = g_strdup_printf ("live-%u", i);

      add_event (events, "call.offered", offered[i], id, "billing", NULL, NULL);
      if (offered[i] >= g_date_time_to_unix (midnight) * 1000)
        today++;
    }
  body = post_body (events, NULL);
  {
    g_autoptr(KefuTestResponse) posted = kefu_test_request_expect (server, "POST", "/v1/events",
                                                                   service, body, 201);
  }

  {
    g_autoptr(KefuTestResponse) response =
      kefu_test_request_expect (server, "GET", "/v1/queues/billing/live", supervisor, NULL, 200);
    JsonObject *snapshot = kefu_test_response_object (response);
    double longest = json_object_get_double_member (snapshot, "longest_wait_s");
    JsonObject *figures = json_object_get_object_member (snapshot, "today");

    g_assert_cmpstr (json_object_get_string_member (snapshot, "queue"), ==, "billing");
    g_assert_cmpint (json_object_get_int_member (snapshot, "waiting"), ==, 2);
    /* the oldest caller has waited 90 s, plus however long this took */
    g_assert_cmpfloat (longest, >=, 89.0);
    g_assert_cmpfloat (longest, <, 90.0 + 120.0);
    g_assert_cmpint (json_object_get_int_member (live_agents (response), "logged_out"), ==, 2);
    g_assert_cmpint (json_object_get_int_member (live_agents (response), "available"), ==, 0);
    g_assert_cmpint (json_object_get_int_member (figures, "offered"), ==, today);
    g_assert_cmpint (json_object_get_int_member (figures, "answered"), ==, 0);
  }

  /* a supervisor sends one agent in, the other goes to lunch */
  {
    g_autoptr(KefuTestResponse) one =
      kefu_test_request_expect (server, "PUT", "/v1/agents/agent/state", supervisor,
                                "{\"state\": \"available\"}", 200);
    g_autoptr(KefuTestResponse) two =
      kefu_test_request_expect (server, "PUT", "/v1/agents/me/state", agent2,
                                "{\"state\": \"not_ready\", \"reason\": \"Lunch\"}", 200);
    g_autoptr(KefuTestResponse) response = NULL;

    g_assert_cmpstr (json_object_get_string_member (kefu_test_response_object (one), "state"), ==,
                     "available");
    g_assert_cmpstr (json_object_get_string_member (kefu_test_response_object (two),
                                                    "state_reason"),
                     ==, "Lunch");
    response = kefu_test_request_expect (server, "GET", "/v1/queues/billing/live", supervisor, NULL,
                                         200);
    g_assert_cmpint (json_object_get_int_member (live_agents (response), "available"), ==, 1);
    g_assert_cmpint (json_object_get_int_member (live_agents (response), "not_ready"), ==, 1);
    g_assert_cmpint (json_object_get_int_member (live_agents (response), "logged_out"), ==, 0);
  }
  {
    /* sales: only agent2 serves it */
    g_autoptr(KefuTestResponse) response =
      kefu_test_request_expect (server, "GET", "/v1/queues/sales/live", teamlead, NULL, 200);

    g_assert_cmpint (json_object_get_int_member (kefu_test_response_object (response), "waiting"),
                     ==, 0);
    g_assert_cmpint (json_object_get_int_member (live_agents (response), "not_ready"), ==, 1);
    g_assert_cmpint (json_object_get_int_member (live_agents (response), "available"), ==, 0);
  }
  {
    /* the queue's number works as well as its name */
    g_autofree char *path = g_strdup_printf ("/v1/queues/%s/live", queue_id);
    g_autoptr(KefuTestResponse) response = kefu_test_request_expect (server, "GET", path,
                                                                     supervisor, NULL, 200);

    g_assert_cmpstr (json_object_get_string_member (kefu_test_response_object (response), "queue"),
                     ==, "billing");
  }
  /* one answered: one left waiting */
  {
    g_autoptr(JsonArray) answer = json_array_new ();
    g_autofree char *answer_body = NULL;
    g_autoptr(KefuTestResponse) posted = NULL;
    g_autoptr(KefuTestResponse) response = NULL;

    add_event (answer, "call.answered", now_ms - 60000, "live-0", "billing", "agent", NULL);
    answer_body = post_body (answer, NULL);
    posted = kefu_test_request_expect (server, "POST", "/v1/events", service, answer_body, 201);
    response = kefu_test_request_expect (server, "GET", "/v1/queues/billing/live", supervisor, NULL,
                                         200);
    g_assert_cmpint (json_object_get_int_member (kefu_test_response_object (response), "waiting"),
                     ==, 1);
    g_assert_cmpfloat (json_object_get_double_member (kefu_test_response_object (response),
                                                      "longest_wait_s"), >=, 29.0);
    g_assert_cmpfloat (json_object_get_double_member (kefu_test_response_object (response),
                                                      "longest_wait_s"), <, 30.0 + 120.0);
  }

  expect_error (server, "GET", "/v1/queues/billing/live", agent, NULL, 403, "forbidden", NULL);
  expect_error (server, "GET", "/v1/queues/nosuchqueue/live", supervisor, NULL, 404, "not_found",
                NULL);
  expect_error (server, "PUT", "/v1/agents/agent2/state", agent, "{\"state\": \"available\"}", 403,
                "forbidden", NULL);

  kefu_test_server_free (server);
}

/* --- the event stream ------------------------------------------------------------------------ */

typedef struct {
  KefuTestSubscriber *subscriber;
  const char         *type;       /* event type, or NULL */
  const char         *key;        /* a member that must hold value ("agent", "call_id", "ack") */
  const char         *value;
  const char         *error_code; /* an {"error": {"code"}} message instead */
  guint               from;       /* look at messages from this index on */
  JsonObject         *found;      /* owned, when found */
} Wanted;

static gboolean
wanted_arrived (gpointer data)
{
  Wanted *wanted = data;

  for (guint i = wanted->from; i < wanted->subscriber->messages->len && !wanted->found; i++)
    {
      const char *text = g_ptr_array_index (wanted->subscriber->messages, i);
      g_autoptr(JsonNode) node = json_from_string (text, NULL);
      JsonObject *object;

      g_assert_nonnull (node);
      object = json_node_get_object (node);
      if (wanted->error_code)
        {
          if (json_object_has_member (object, "error") &&
              g_strcmp0 (json_object_get_string_member (json_object_get_object_member (object,
                                                                                       "error"),
                                                        "code"), wanted->error_code) == 0)
            wanted->found = json_object_ref (object);
          continue;
        }
      if (wanted->type && g_strcmp0 (json_object_get_string_member_with_default (object, "type",
                                                                                 NULL),
                                     wanted->type) != 0)
        continue;
      if (wanted->key && g_strcmp0 (json_object_get_string_member_with_default (object, wanted->key,
                                                                                NULL),
                                    wanted->value) != 0)
        continue;
      wanted->found = json_object_ref (object);
    }
  return wanted->found != NULL;
}

static JsonObject *
wait_for_message (KefuTestSubscriber *subscriber,
                  const char         *type,
                  const char         *key,
                  const char         *value)
{
  Wanted wanted = { subscriber, type, key, value, NULL, 0, NULL };
  g_autofree char *what = g_strdup_printf ("a %s message with %s = %s", type ? type : "",
                                           key ? key : "-", value ? value : "-");

  kefu_test_wait_until (wanted_arrived, &wanted, what);
  return wanted.found;
}

static JsonObject *
wait_for_error (KefuTestSubscriber *subscriber,
                const char         *code)
{
  Wanted wanted = { subscriber, NULL, NULL, NULL, code, 0, NULL };
  g_autofree char *what = g_strdup_printf ("an error %s", code);

  kefu_test_wait_until (wanted_arrived, &wanted, what);
  return wanted.found;
}

typedef struct {
  KefuTestSubscriber *subscriber;
  guint               wanted;
} AckCount;

/* Acks are the messages with "ids"; events never have that member. */
static guint
count_acks (AckCount *acks)
{
  guint n = 0;

  for (guint i = 0; i < acks->subscriber->messages->len; i++)
    if (strstr (g_ptr_array_index (acks->subscriber->messages, i), "\"ids\""))
      n++;
  return n;
}

static gboolean
acks_arrived (gpointer data)
{
  AckCount *acks = data;

  return count_acks (acks) >= acks->wanted;
}

static const char *
last_ack (KefuTestSubscriber *subscriber)
{
  for (guint i = subscriber->messages->len; i > 0; i--)
    if (strstr (g_ptr_array_index (subscriber->messages, i - 1), "\"ids\""))
      return g_ptr_array_index (subscriber->messages, i - 1);
  g_error ("no ack received");
}

static void
test_event_stream (void)
{
  KefuTestServer *server = kefu_test_server_start (NULL);
  g_autofree char *service = kefu_test_login (server, "service");
  g_autofree char *supervisor = kefu_test_login (server, "supervisor");
  g_autofree char *agent = kefu_test_login (server, "agent");
  g_autoptr(SoupSession) session = soup_session_new ();
  KefuTestSubscriber *watcher, *publisher, *desk, *refused;
  g_autoptr(JsonObject) state_event = NULL;
  g_autoptr(JsonObject) ack = NULL;
  g_autoptr(JsonObject) again = NULL;
  g_autoptr(JsonObject) seen = NULL;
  g_autoptr(JsonObject) forbidden = NULL;
  g_autoptr(JsonObject) invalid = NULL;
  JsonArray *ids;
  gint64 logged;
  guint status = 0;

  /* no entry without a valid token: a plain 401 before any upgrade */
  refused = kefu_test_subscribe_full (server, session, "not-a-token", FALSE, &status);
  g_assert_null (refused);
  g_assert_cmpuint (status, ==, 401);
  refused = kefu_test_subscribe_full (server, session, "not-a-token", TRUE, &status);
  g_assert_null (refused);
  g_assert_cmpuint (status, ==, 401);
  refused = kefu_test_subscribe_full (server, session, NULL, FALSE, &status);
  g_assert_null (refused);
  g_assert_cmpuint (status, ==, 401);

  watcher = kefu_test_subscribe_full (server, session, supervisor, FALSE, &status);
  g_assert_nonnull (watcher);
  g_assert_cmpuint (status, ==, 101);
  publisher = kefu_test_subscribe_full (server, session, service, FALSE, NULL);
  g_assert_nonnull (publisher);
  desk = kefu_test_subscribe_full (server, session, agent, TRUE, NULL);
  g_assert_nonnull (desk);

  /* an agent goes available at the desktop: the supervisor sees it */
  {
    g_autoptr(KefuTestResponse) response =
      kefu_test_request_expect (server, "PUT", "/v1/agents/me/state", agent,
                                "{\"state\": \"available\"}", 200);
  }
  state_event = wait_for_message (watcher, "agent.state", "agent", "agent");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (state_event,
                                                                                 "data"),
                                                  "state"), ==, "available");
  g_assert_cmpint (json_object_get_int_member (state_event, "id"), >, 0);
  g_clear_pointer (&seen, json_object_unref);
  seen = wait_for_message (desk, "agent.state", "agent", "agent");

  /* the switch publishes over its own socket and gets an ack */
  logged = event_count (server, supervisor);
  soup_websocket_connection_send_text (publisher->connection,
    "{\"op_id\": \"ws-batch-1\", \"events\": ["
    "{\"type\": \"call.offered\", \"call_id\": \"ws-1\", \"queue\": \"billing\", \"data\": {}},"
    "{\"type\": \"call.ringing\", \"call_id\": \"ws-1\", \"queue\": \"billing\", \"agent\": "
    "\"agent\", \"data\": {}}]}");
  ack = wait_for_message (publisher, NULL, "ack", "ws-batch-1");
  ids = json_object_get_array_member (ack, "ids");
  g_assert_cmpuint (json_array_get_length (ids), ==, 2);
  g_assert_false (json_object_get_boolean_member (ack, "replayed"));
  g_clear_pointer (&seen, json_object_unref);
  seen = wait_for_message (watcher, "call.ringing", "call_id", "ws-1");
  g_assert_cmpint (json_object_get_int_member (seen, "id"), ==, json_array_get_int_element (ids,
                                                                                            1));
  g_clear_pointer (&seen, json_object_unref);
  seen = wait_for_message (watcher, "call.offered", "call_id", "ws-1");
  g_assert_cmpint (json_object_get_int_member (seen, "id"), ==, json_array_get_int_element (ids,
                                                                                            0));
  g_assert_cmpint (event_count (server, supervisor), ==, logged + 2);

  /* and they are in the log */
  {
    g_autofree char *path = g_strdup_printf ("/v1/events?since=%" G_GINT64_FORMAT,
                                             json_array_get_int_element (ids, 0) - 1);
    g_autoptr(KefuTestResponse) response = kefu_test_request_expect (server, "GET", path,
                                                                     supervisor, NULL, 200);
    JsonArray *log = json_object_get_array_member (kefu_test_response_object (response), "events");

    g_assert_cmpuint (json_array_get_length (log), ==, 2);
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (log, 0), "type"),
                     ==, "call.offered");
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (log, 1),
                                                    "agent"),
                     ==, "agent");
  }

  /* the same batch again: the same ids, nothing new logged */
  soup_websocket_connection_send_text (publisher->connection,
    "{\"op_id\": \"ws-batch-1\", \"events\": ["
    "{\"type\": \"call.offered\", \"call_id\": \"ws-1\", \"queue\": \"billing\", \"data\": {}},"
    "{\"type\": \"call.ringing\", \"call_id\": \"ws-1\", \"queue\": \"billing\", \"agent\": "
    "\"agent\", \"data\": {}}]}");
  {
    Wanted wanted = { publisher, NULL, "ack", "ws-batch-1", NULL, 0, NULL };

    /* past the first ack */
    for (guint i = 0; i < publisher->messages->len; i++)
      if (strstr (g_ptr_array_index (publisher->messages, i), "\"ack\""))
        wanted.from = i + 1;
    kefu_test_wait_until (wanted_arrived, &wanted, "the second ack");
    again = wanted.found;
  }
  g_assert_true (json_object_get_boolean_member (again, "replayed"));
  g_assert_cmpint (json_array_get_int_element (json_object_get_array_member (again, "ids"), 0), ==,
                   json_array_get_int_element (ids, 0));
  g_assert_cmpint (event_count (server, supervisor), ==, logged + 2);

  /* a bad event is refused with a reason and not logged */
  soup_websocket_connection_send_text (publisher->connection, "{\"type\": \"call.teleported\"}");
  invalid = wait_for_error (publisher, "invalid_event");
  g_assert_nonnull (strstr (json_object_get_string_member (json_object_get_object_member (invalid,
                                                                                          "error"),
                                                           "message"), "type"));

  /* a desktop may only listen */
  soup_websocket_connection_send_text (desk->connection,
    "{\"type\": \"call.offered\", \"call_id\": \"forged\", \"queue\": \"billing\", \"data\": {}}");
  forbidden = wait_for_error (desk, "forbidden");
  g_assert_cmpint (event_count (server, supervisor), ==, logged + 2);
  g_clear_pointer (&forbidden, json_object_unref);
  soup_websocket_connection_send_text (watcher->connection,
    "{\"type\": \"call.offered\", \"call_id\": \"forged\", \"queue\": \"billing\", \"data\": {}}");
  forbidden = wait_for_error (watcher, "forbidden");
  g_assert_cmpint (event_count (server, supervisor), ==, logged + 2);

  /* a single event without op_id is acked by its id */
  {
    AckCount acks = { publisher, 0 };
    g_autoptr(JsonNode) last = NULL;
    JsonObject *single_ack;

    acks.wanted = count_acks (&acks) + 1;
    soup_websocket_connection_send_text (publisher->connection,
      "{\"type\": \"call.abandoned\", \"call_id\": \"ws-1\", \"queue\": \"billing\", \"data\": "
      "{\"wait_s\": 3}}");
    g_clear_pointer (&seen, json_object_unref);
    seen = wait_for_message (watcher, "call.abandoned", "call_id", "ws-1");
    kefu_test_wait_until (acks_arrived, &acks, "the ack of a single event");
    last = json_from_string (last_ack (publisher), NULL);
    single_ack = json_node_get_object (last);
    g_assert_false (json_object_has_member (single_ack, "ack"));
    g_assert_false (json_object_get_boolean_member (single_ack, "replayed"));
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (single_ack, "ids")),
                      ==, 1);
    g_assert_cmpint (json_array_get_int_element (json_object_get_array_member (single_ack, "ids"),
                                                 0),
                     ==, json_object_get_int_member (seen, "id"));
  }
  g_assert_cmpint (event_count (server, supervisor), ==, logged + 3);
  /* what the desktop tried to slip in reached nobody: it would have come
   * before the event just seen, on the same socket */
  for (guint i = 0; i < watcher->messages->len; i++)
    g_assert_null (strstr (g_ptr_array_index (watcher->messages, i), "forged"));

  kefu_test_unsubscribe (desk);
  kefu_test_unsubscribe (publisher);
  kefu_test_unsubscribe (watcher);
  kefu_test_server_free (server);
}

/* --- persistence, metrics, health ---------------------------------------------------------- */

static char *
rows_text (KefuTestResponse *response)
{
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_ARRAY);

  json_node_set_array (node, report_rows (response));
  return json_to_string (node, FALSE);
}

static void
test_restart_keeps_everything (void)
{
  KefuTestServer *server = kefu_test_server_start (NULL);
  g_autofree char *service = kefu_test_login (server, "service");
  g_autofree char *teamlead = kefu_test_login (server, "teamlead");
  g_autofree char *supervisor = kefu_test_login (server, "supervisor");
  g_autoptr(KefuTestResponse) before = NULL;
  g_autoptr(KefuTestResponse) after = NULL;
  g_autofree char *before_rows = NULL;
  g_autofree char *after_rows = NULL;
  const char *path = "/v1/reports/calls?from=2026-11-25&to=2026-11-25&by=queue";
  gint64 logged;

  create_queues (server);
  publish_day (server, service);
  before = kefu_test_request_expect (server, "GET", path, teamlead, NULL, 200);
  before_rows = rows_text (before);
  logged = event_count (server, supervisor);

  kefu_test_server_restart (server);

  /* the same answers from the new process; sessions survive too */
  after = kefu_test_request_expect (server, "GET", path, teamlead, NULL, 200);
  after_rows = rows_text (after);
  g_assert_cmpstr (after_rows, ==, before_rows);
  kefu_test_assert_figures (kefu_test_find_row (report_rows (after), "queue", "billing"),
                            &billing_day);
  kefu_test_assert_figures (kefu_test_find_row (report_rows (after), "queue", "sales"), &sales_day);
  g_assert_cmpint (event_count (server, supervisor), ==, logged);

  /* and a batch resent after the restart is still recognised */
  {
    g_autoptr(JsonArray) events = day_of_calls ();
    g_autofree char *body = post_body (events, "day-2026-11-25");
    g_autoptr(KefuTestResponse) response = kefu_test_request_expect (server, "POST", "/v1/events",
                                                                     service, body, 201);

    g_assert_cmpstr (soup_message_headers_get_one (response->headers, "Idempotent-Replayed"), ==,
                     "true");
    g_assert_cmpint (event_count (server, supervisor), ==, logged);
  }

  kefu_test_server_free (server);
}

static char *
metrics_text (KefuTestServer *server)
{
  g_autoptr(KefuTestResponse) response = kefu_test_request_expect (server, "GET", "/metrics", NULL,
                                                                   NULL, 200);

  g_assert_true (g_str_has_prefix (soup_message_headers_get_content_type (response->headers, NULL),
                                   "text/plain"));
  return g_strdup (response->body);
}

/* The value of the one sample whose line starts with name (labels included). */
static double
sample (const char *text,
        const char *name)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

  for (guint i = 0; lines[i]; i++)
    if (g_str_has_prefix (lines[i], name) && lines[i][strlen (name)] == ' ')
      return g_ascii_strtod (lines[i] + strlen (name) + 1, NULL);
  g_error ("no sample %s in:\n%s", name, text);
}

static void
test_metrics_and_health (void)
{
  KefuTestServer *server = kefu_test_server_start (NULL);
  g_autofree char *teamlead = kefu_test_login (server, "teamlead");
  g_autofree char *supervisor = kefu_test_login (server, "supervisor");
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *text = NULL;
  KefuTestSubscriber *watcher;
  double count;

  {
    g_autoptr(KefuTestResponse) health = kefu_test_request_expect (server, "GET", "/healthz", NULL,
                                                                   NULL, 200);

    g_assert_cmpstr (json_object_get_string_member (kefu_test_response_object (health), "status"),
                     ==, "ok");
    g_assert_cmpint (json_object_get_int_member (kefu_test_response_object (health),
                                                 "schema_version"), >=, 1);
  }
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(KefuTestResponse) report =
        kefu_test_request_expect (server, "GET", "/v1/reports/calls", teamlead, NULL, 200);
    }
  expect_error (server, "GET", "/v1/reports/calls?by=foo", teamlead, NULL, 400, NULL, NULL);

  watcher = kefu_test_subscribe_full (server, session, supervisor, FALSE, NULL);
  g_assert_nonnull (watcher);
  text = metrics_text (server);
  g_test_message ("%s", text);

  g_assert_nonnull (strstr (text, "# TYPE kefu_http_requests_total counter\n"));
  g_assert_cmpfloat (sample (text,
                             "kefu_http_requests_total{method=\"GET\",route=\"/v1/reports/calls\","
                                   "status=\"200\"}"), ==, 3);
  g_assert_cmpfloat (sample (text,
                             "kefu_http_requests_total{method=\"GET\",route=\"/v1/reports/calls\","
                                   "status=\"400\"}"), ==, 1);
  g_assert_cmpfloat (sample (text,
                             "kefu_http_requests_total{method=\"POST\",route=\"/v1/sessions\","
                                   "status=\"201\"}"), ==, 2);
  g_assert_cmpfloat (sample (text, "kefu_websocket_clients"), ==, 1);

  /* the latency histogram: cumulative buckets ending in +Inf = count */
  g_assert_nonnull (strstr (text, "# TYPE kefu_http_request_duration_seconds histogram\n"));
  count = sample (text, "kefu_http_request_duration_seconds_count");
  g_assert_cmpfloat (count, >=, 7);
  g_assert_cmpfloat (sample (text, "kefu_http_request_duration_seconds_bucket{le=\"+Inf\"}"), ==,
                     count);
  g_assert_cmpfloat (sample (text, "kefu_http_request_duration_seconds_bucket{le=\"1\"}"), <=,
                     sample (text, "kefu_http_request_duration_seconds_bucket{le=\"5\"}"));
  g_assert_cmpfloat (sample (text, "kefu_http_request_duration_seconds_sum"), >, 0);
  g_assert_cmpfloat (sample (text, "kefu_events"), >=, 0);

  /* the gauge follows the subscriber out */
  kefu_test_unsubscribe (watcher);
  for (guint attempt = 0; ; attempt++)
    {
      g_autofree char *later = metrics_text (server);

      if (sample (later, "kefu_websocket_clients") == 0)
        break;
      if (attempt == 100)
        g_error ("kefu_websocket_clients stayed above 0:\n%s", later);
      g_usleep (50000);
    }

  kefu_test_server_free (server);

  /* Bucket bounds read as people (and PromQL selectors such as
   * le="0.1") write them, not as 17-digit binary expansions.  Checked
   * last, with the server gone, so that a miss leaves nothing running. */
  {
    static const char * const bounds[] = { "0.0005", "0.0025", "0.005", "0.025", "0.1" };
    g_autoptr(GString) missing = g_string_new (NULL);

    for (guint i = 0; i < G_N_ELEMENTS (bounds); i++)
      {
        g_autofree char *name = g_strdup_printf ("kefu_http_request_duration_seconds_bucket"
                                                 "{le=\"%s\"} ", bounds[i]);

        if (!strstr (text, name))
          g_string_append_printf (missing, " le=\"%s\"", bounds[i]);
      }
    if (missing->len)
      g_test_fail_printf ("histogram buckets missing:%s", missing->str);
  }
}

/* A switch publishes an answer or a hang-up with nothing more to say:
 * no "data" member at all.  The server must take it. */
static void
events_without_data (void)
{
  KefuTestServer *server = kefu_test_server_start (NULL);
  g_autofree char *service = kefu_test_login (server, "service");
  g_autofree char *teamlead = kefu_test_login (server, "teamlead");
  g_autoptr(KefuTestResponse) posted = NULL;
  g_autoptr(KefuTestResponse) report = NULL;
  JsonObject *row;

  create_queues (server);
  posted = kefu_test_request_expect (server, "POST", "/v1/events", service,
    "{\"events\": ["
    "{\"type\": \"call.offered\", \"ts\": \"2026-11-25T09:00:00+08:00\", \"call_id\": \"n1\", "
    "\"queue\": \"billing\"},"
    "{\"type\": \"call.answered\", \"ts\": \"2026-11-25T09:00:12+08:00\", \"call_id\": \"n1\", "
    "\"agent\": \"li\"},"
    "{\"type\": \"call.ended\", \"ts\": \"2026-11-25T09:02:12+08:00\", \"call_id\": \"n1\"},"
    "{\"type\": \"call.wrapup_ended\", \"ts\": \"2026-11-25T09:02:42+08:00\", \"call_id\": \"n1\"},"
    "{\"type\": \"call.offered\", \"ts\": \"2026-11-25T09:10:00+08:00\", \"call_id\": \"n2\", "
    "\"queue\": \"billing\"},"
    "{\"type\": \"call.abandoned\", \"ts\": \"2026-11-25T09:10:40+08:00\", \"call_id\": \"n2\"}]}",
    201);
  report = kefu_test_request_expect (server, "GET",
                                     "/v1/reports/calls?from=2026-11-25&to=2026-11-25&by=queue",
                                     teamlead, NULL, 200);
  row = kefu_test_find_row (report_rows (report), "queue", "billing");
  {
    static const KefuTestFigures expected = { 2, 1, 1, 0, 0, 1, 0.5, 12.0, 150.0, 0.5, NAN };

    kefu_test_assert_figures (row, &expected);
  }
  kefu_test_server_free (server);
}

/* Run apart: if the server dies on these events, the rest of the suite
 * still runs, and the dead server's folder is cleared away. */
static void
test_events_without_data (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *old_tmp = g_strdup (g_getenv ("TMPDIR"));

  if (g_test_subprocess ())
    {
      events_without_data ();
      return;
    }
  tmp = g_dir_make_tmp ("kefu-live-XXXXXX", &error);
  g_assert_no_error (error);
  g_setenv ("TMPDIR", tmp, TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDOUT |
                                   G_TEST_SUBPROCESS_INHERIT_STDERR);
  if (old_tmp)
    g_setenv ("TMPDIR", old_tmp, TRUE);
  else
    g_unsetenv ("TMPDIR");
  kefu_test_remove_tree (tmp);
  if (!g_test_trap_has_passed ())
    g_test_fail_printf ("the server did not take events without \"data\" (see above)");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/server/live/events-post", test_events_post);
  g_test_add_func ("/server/live/reports", test_reports);
  g_test_add_func ("/server/live/staffing", test_staffing);
  g_test_add_func ("/server/live/queue-live", test_queue_live);
  g_test_add_func ("/server/live/event-stream", test_event_stream);
  g_test_add_func ("/server/live/restart-keeps-everything", test_restart_keeps_everything);
  g_test_add_func ("/server/live/metrics-and-health", test_metrics_and_health);
  g_test_add_func ("/server/live/events-without-data", test_events_without_data);

  return g_test_run ();
}
