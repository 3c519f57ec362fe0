/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "TestServerOverflow"

#include "config.h"

#include "kefu-test-report.h"
#include "kefu-test-server.h"

#include <string.h>

/*
 * A call kefu-switch moves from one queue to another after the first
 * queue's longest wait, as the switch publishes it (call.overflow in the
 * first queue, call.offered in the second, then the second's answer or
 * abandon), read back from a real kefu-server's reports, CSV export and
 * live queue panel.  Runs once on SQLite and once on PostgreSQL.
 *
 * 2026-11-25 (UTC):
 *   o1 09:00 sales, overflows at 30 s to billing, answered there by agent
 *            at 45 s from its first offer
 *   o2 09:10 sales, overflows at 30 s to billing, abandoned there at 70 s
 *   d1 09:20 billing, answered by agent2 at 10 s
 */

static void
post_events (KefuTestServer *server,
             const char     *service,
             const char     *events)
{
  g_autofree char *body = g_strdup_printf ("{\"events\": [%s]}", events);
  g_autoptr(KefuTestResponse) response = kefu_test_request_expect (server, "POST", "/v1/events",
                                                                   service, body, 201);
}

#define EV(type, ts, call, queue, agent, data) \
  "{\"type\": \"" type "\", \"ts\": \"2026-11-25T" ts "Z\", \"call_id\": \"" call "\", " \
  "\"queue\": \"" queue "\"" agent ", \"data\": {" data "}}"
#define BY(name) ", \"agent\": \"" name "\""

/* What kefu-switch's ACD sends when a call moves from @from to @to. */
#define OVERFLOW(call, from, to, offered, moved) \
  EV ("call.offered", offered, call, from, "", "") "," \
  EV ("call.overflow", moved, call, from, "", "\"wait_s\": 30, \"to_queue\": \"" to "\", " \
      "\"keeps_enqueue_time\": true") "," \
  EV ("call.offered", moved, call, to, "", "\"wait_s\": 30, \"overflow_from\": \"" from "\", " \
      "\"keeps_enqueue_time\": true")

static void
load_morning (KefuTestServer *server,
              const char     *service)
{
  post_events (server, service,
    OVERFLOW ("o1", "sales", "billing", "09:00:00", "09:00:30") ","
    EV ("call.ringing", "09:00:40", "o1", "billing", BY ("agent"), "") ","
    EV ("call.answered", "09:00:45", "o1", "billing", BY ("agent"), "\"wait_s\": 45") ","
    EV ("call.ended", "09:03:45", "o1", "billing", BY ("agent"), "\"talk_s\": 180, \"hold_s\": 0")
    ","
    EV ("call.wrapup_ended", "09:04:15", "o1", "billing", BY ("agent"), "\"wrapup_s\": 30"));
  post_events (server, service,
    OVERFLOW ("o2", "sales", "billing", "09:10:00", "09:10:30") ","
    EV ("call.abandoned", "09:11:10", "o2", "billing", "", "\"wait_s\": 70"));
  post_events (server, service,
    EV ("call.offered", "09:20:00", "d1", "billing", "", "") ","
    EV ("call.answered", "09:20:10", "d1", "billing", BY ("agent2"), "\"wait_s\": 10") ","
    EV ("call.ended", "09:22:10", "d1", "billing", BY ("agent2"), "\"talk_s\": 120, \"hold_s\": 0")
    ","
    EV ("call.wrapup_ended", "09:22:30", "d1", "billing", BY ("agent2"), "\"wrapup_s\": 20"));
}

static void
assert_counts (JsonObject *row,
               gint64      offered,
               gint64      answered,
               gint64      abandoned,
               gint64      overflowed)
{
  g_assert_cmpint (json_object_get_int_member (row, "offered"), ==, offered);
  g_assert_cmpint (json_object_get_int_member (row, "answered"), ==, answered);
  g_assert_cmpint (json_object_get_int_member (row, "abandoned"), ==, abandoned);
  g_assert_cmpint (json_object_get_int_member (row, "overflowed"), ==, overflowed);
}

static JsonArray *
report_rows (KefuTestResponse *response)
{
  g_assert_nonnull (response->json);
  if (JSON_NODE_HOLDS_ARRAY (response->json))
    return json_node_get_array (response->json);
  return json_object_get_array_member (json_node_get_object (response->json), "rows");
}

static void
test_overflow_report (void)
{
  KefuTestServer *server = kefu_test_server_start (NULL);
  g_autofree char *service = kefu_test_login (server, "service");
  g_autofree char *teamlead = kefu_test_login (server, "teamlead");
  g_autoptr(KefuTestResponse) by_queue = NULL;
  g_autoptr(KefuTestResponse) total = NULL;
  g_autoptr(KefuTestResponse) by_agent = NULL;
  g_autoptr(KefuTestResponse) csv = NULL;
  JsonArray *rows;
  JsonObject *row;

  load_morning (server, service);

  by_queue =
    kefu_test_request_expect (server, "GET", "/v1/reports/calls?from=2026-11-25&to=2026-11-25"
                              "&by=queue&interval=day", teamlead, NULL, 200);
  rows = report_rows (by_queue);
  g_assert_cmpuint (json_array_get_length (rows), ==, 2);
  /* sales let both calls go; billing answered one and lost the other */
  row = kefu_test_find_row (rows, "queue", "sales");
  assert_counts (row, 2, 0, 0, 2);
  g_assert_cmpint (json_object_get_int_member (row, "other"), ==, 2);
  row = kefu_test_find_row (rows, "queue", "billing");
  assert_counts (row, 3, 2, 1, 0);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (row, "asa"), 27.5, 1e-9);

  /* over all queues, each call once, where it ended */
  total = kefu_test_request_expect (server, "GET",
                                    "/v1/reports/calls?from=2026-11-25&to=2026-11-25&interval=day",
                                    teamlead, NULL, 200);
  rows = report_rows (total);
  g_assert_cmpuint (json_array_get_length (rows), ==, 1);
  assert_counts (json_array_get_object_element (rows, 0), 3, 2, 1, 0);

  /* the answer is the agent's who took it in billing */
  by_agent =
    kefu_test_request_expect (server, "GET", "/v1/reports/calls?from=2026-11-25&to=2026-11-25"
                              "&by=agent&interval=day", teamlead, NULL, 200);
  rows = report_rows (by_agent);
  row = kefu_test_find_row (rows, "agent", "agent");
  assert_counts (row, 1, 1, 0, 0);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (row, "asa"), 45.0, 1e-9);

  /* the spreadsheet has the column too */
  csv = kefu_test_request_expect (server, "GET", "/v1/reports/calls?from=2026-11-25&to=2026-11-25"
                                  "&by=queue&interval=day&format=csv", teamlead, NULL, 200);
  {
    g_auto(GStrv) lines = g_strsplit (csv->body, "\r\n", -1);
    g_auto(GStrv) header = g_strsplit (lines[0], ",", -1);
    guint column = 0;

    while (header[column] && !g_str_equal (header[column], "overflowed"))
      column++;
    g_assert_nonnull (header[column]);
    for (guint r = 1; lines[r] && *lines[r]; r++)
      {
        g_auto(GStrv) cells = g_strsplit (lines[r], ",", -1);

        g_assert_cmpstr (cells[column], ==, g_str_equal (cells[1], "sales") ? "2" : "0");
      }
  }

  kefu_test_server_free (server);
}

/* The supervisor's panel while a moved call waits. */
static void
test_overflow_live (void)
{
  KefuTestServer *server = kefu_test_server_start (NULL);
  g_autofree char *service = kefu_test_login (server, "service");
  g_autofree char *supervisor = kefu_test_login (server, "supervisor");
  g_autofree char *admin = kefu_test_login (server, "admin");
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) offered = g_date_time_add_seconds (now, -50);
  g_autoptr(GDateTime) moved = g_date_time_add_seconds (now, -20);
  g_autofree char *offered_at = g_date_time_format_iso8601 (offered);
  g_autofree char *moved_at = g_date_time_format_iso8601 (moved);
  g_autofree char *events = g_strdup_printf (
    "{\"type\": \"call.offered\", \"ts\": \"%s\", \"call_id\": \"w1\", \"queue\": \"sales\"},"
    "{\"type\": \"call.overflow\", \"ts\": \"%s\", \"call_id\": \"w1\", \"queue\": \"sales\", "
    "\"data\": {\"wait_s\": 30, \"to_queue\": \"billing\"}},"
    "{\"type\": \"call.offered\", \"ts\": \"%s\", \"call_id\": \"w1\", \"queue\": \"billing\", "
    "\"data\": {\"overflow_from\": \"sales\"}}",
    offered_at, moved_at, moved_at);
  g_autoptr(KefuTestResponse) sales = NULL;
  g_autoptr(KefuTestResponse) billing = NULL;
  JsonObject *today;

  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *body = g_strdup_printf ("{\"name\": \"%s\"}", i ? "billing" : "sales");
      g_autoptr(KefuTestResponse) created = kefu_test_request_expect (server, "POST", "/v1/queues",
                                                                      admin, body, 201);
    }
  post_events (server, service, events);

  sales = kefu_test_request_expect (server, "GET", "/v1/queues/sales/live", supervisor, NULL, 200);
  billing = kefu_test_request_expect (server, "GET", "/v1/queues/billing/live", supervisor, NULL,
                                      200);
  g_assert_cmpint (json_object_get_int_member (kefu_test_response_object (sales), "waiting"), ==,
                   0);
  g_assert_cmpint (json_object_get_int_member (kefu_test_response_object (billing), "waiting"), ==,
                   1);
  today = json_object_get_object_member (kefu_test_response_object (sales), "today");
  g_assert_cmpint (json_object_get_int_member (today, "offered"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (today, "overflowed"), ==, 1);

  kefu_test_server_free (server);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/server/overflow/report", test_overflow_report);
  g_test_add_func ("/server/overflow/live", test_overflow_live);

  return g_test_run ();
}
