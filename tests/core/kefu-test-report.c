/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuTestReport"

#include "config.h"

#include "kefu-test-report.h"
#include "kefu-record.h"
#include "kefu-time.h"

#include <math.h>

void
kefu_test_add_event_ts (JsonArray  *events,
                        const char *type,
                        const char *ts,
                        const char *call_id,
                        const char *queue,
                        const char *agent,
                        JsonObject *data)
{
  JsonObject *event = json_object_new ();

  json_object_set_string_member (event, "type", type);
  json_object_set_string_member (event, "ts", ts);
  if (call_id)
    json_object_set_string_member (event, "call_id", call_id);
  if (queue)
    json_object_set_string_member (event, "queue", queue);
  if (agent)
    json_object_set_string_member (event, "agent", agent);
  json_object_set_object_member (event, "data", data ? data : json_object_new ());
  json_array_add_object_element (events, event);
}

void
kefu_test_add_event (JsonArray  *events,
                     const char *type,
                     gint64      ts_ms,
                     const char *call_id,
                     const char *queue,
                     const char *agent,
                     JsonObject *data)
{
  g_autofree char *ts = kefu_time_format_ms (ts_ms);

  kefu_test_add_event_ts (events, type, ts, call_id, queue, agent, data);
}

JsonObject *
kefu_test_find_row (JsonArray  *rows,
                    const char *member,
                    const char *value)
{
  for (guint i = 0; i < json_array_get_length (rows); i++)
    {
      JsonObject *row = json_array_get_object_element (rows, i);

      if (g_strcmp0 (kefu_json_get_string (row, member), value) == 0)
        return row;
    }
  g_error ("no row with %s = %s", member, value);
}

void
kefu_test_assert_ratio (JsonObject *row,
                        const char *member,
                        double      expected,
                        double      epsilon)
{
  JsonNode *node = json_object_get_member (row, member);

  g_assert_nonnull (node);
  if (isnan (expected))
    {
      if (!JSON_NODE_HOLDS_NULL (node))
        g_error ("%s: expected null, got %g", member, json_node_get_double (node));
      return;
    }
  if (JSON_NODE_HOLDS_NULL (node))
    g_error ("%s: expected %.12g, got null", member, expected);
  if (fabs (json_node_get_double (node) - expected) > epsilon)
    g_error ("%s: expected %.12g, got %.12g", member, expected, json_node_get_double (node));
}

void
kefu_test_assert_figures (JsonObject            *row,
                          const KefuTestFigures *e)
{
  const double epsilon = 1e-9;

  g_assert_cmpint (json_object_get_int_member (row, "offered"), ==, e->offered);
  g_assert_cmpint (json_object_get_int_member (row, "answered"), ==, e->answered);
  g_assert_cmpint (json_object_get_int_member (row, "abandoned"), ==, e->abandoned);
  g_assert_cmpint (json_object_get_int_member (row, "short_abandoned"), ==, e->short_abandoned);
  g_assert_cmpint (json_object_get_int_member (row, "other"), ==, e->other);
  g_assert_cmpint (json_object_get_int_member (row, "answered_within"), ==, e->answered_within);
  kefu_test_assert_ratio (row, "service_level", e->service_level, epsilon);
  kefu_test_assert_ratio (row, "asa", e->asa, epsilon);
  kefu_test_assert_ratio (row, "aht", e->aht, epsilon);
  kefu_test_assert_ratio (row, "abandonment_rate", e->abandonment_rate, epsilon);
  kefu_test_assert_ratio (row, "occupancy", e->occupancy, epsilon);
}
