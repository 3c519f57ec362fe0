/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuServer"

/* The team lead's routes: call reports (JSON or CSV) and Erlang C
 * staffing.  The figures come from kefu-report and kefu-erlang; this file
 * reads the query and shapes the answer. */

#include "config.h"

#include "kefu-server-private.h"
#include "kefu-erlang.h"
#include "kefu-report.h"
#include "kefu-time.h"

#include <math.h>
#include <string.h>

/* --- reports and staffing ---------------------------------------------------------------- */

static gboolean
read_time_query (KefuRequest *request,
                 const char  *name,
                 gboolean     end_of_day,
                 gint64       fallback,
                 gint64      *out)
{
  const char *text = kefu_request_query (request, name);

  *out = fallback;
  if (!text)
    return TRUE;
  if (!kefu_time_parse_ms (text, request->server->tz, out))
    {
      kefu_request_error (request, SOUP_STATUS_BAD_REQUEST, "bad_query",
                          "“%s” must be a date (2026-11-25) or an ISO 8601 time, not “%s”",
                          name, text);
      return FALSE;
    }
  /* "to=2026-11-30" means through the end of that day. */
  if (end_of_day && strlen (text) == 10)
    {
      g_autoptr(GDateTime) day = g_date_time_new_from_unix_utc (*out / 1000);
      g_autoptr(GDateTime) local = g_date_time_to_timezone (day, request->server->tz);
      g_autoptr(GDateTime) next = g_date_time_add_days (local, 1);

      *out = g_date_time_to_unix (next) * 1000;
    }
  return TRUE;
}

static void
csv_field (GString    *out,
           const char *text)
{
  /* Quote anything with a separator, a quote or a line break, and defuse
   * cells a spreadsheet would run as a formula. */
  gboolean quote = strpbrk (text, ",\"\r\n") != NULL;
  gboolean formula = text[0] == '=' || text[0] == '+' || text[0] == '@' ||
                     (text[0] == '-' && !g_ascii_isdigit (text[1]));

  if (quote || formula)
    {
      g_string_append_c (out, '"');
      if (formula)
        g_string_append_c (out, '\'');
      for (const char *p = text; *p; p++)
        {
          if (*p == '"')
            g_string_append_c (out, '"');
          g_string_append_c (out, *p);
        }
      g_string_append_c (out, '"');
    }
  else
    {
      g_string_append (out, text);
    }
}

static void
respond_report_csv (KefuRequest *request,
                    JsonArray   *rows)
{
  static const char * const columns[] = {
    "period", "queue", "agent", "offered", "answered", "abandoned", "short_abandoned", "other",
    "overflowed", "answered_within", "service_level", "asa", "aht", "abandonment_rate", "occupancy",
    "avg_talk", "avg_hold", "avg_wrapup", NULL
  };
  GString *out = g_string_new (NULL);
  gboolean used[G_N_ELEMENTS (columns)] = { FALSE };
  gboolean first = TRUE;

  for (guint c = 0; columns[c]; c++)
    {
      used[c] = TRUE;
      if ((g_str_equal (columns[c], "queue") || g_str_equal (columns[c], "agent")) &&
          (json_array_get_length (rows) == 0 ||
           !json_object_has_member (json_array_get_object_element (rows, 0), columns[c])))
        used[c] = FALSE;
      if (!used[c])
        continue;
      g_string_append_printf (out, "%s%s", first ? "" : ",", columns[c]);
      first = FALSE;
    }
  g_string_append (out, "\r\n");

  for (guint r = 0; r < json_array_get_length (rows); r++)
    {
      JsonObject *row = json_array_get_object_element (rows, r);

      first = TRUE;
      for (guint c = 0; columns[c]; c++)
        {
          JsonNode *node;

          if (!used[c])
            continue;
          if (!first)
            g_string_append_c (out, ',');
          first = FALSE;
          node = json_object_get_member (row, columns[c]);
          if (!node || JSON_NODE_HOLDS_NULL (node))
            continue;
          if (json_node_get_value_type (node) == G_TYPE_STRING)
            csv_field (out, json_node_get_string (node));
          else if (json_node_get_value_type (node) == G_TYPE_DOUBLE)
            g_string_append_printf (out, "%.4f", json_node_get_double (node));
          else
            g_string_append_printf (out, "%" G_GINT64_FORMAT, json_node_get_int (node));
        }
      g_string_append (out, "\r\n");
    }

  request->status = SOUP_STATUS_OK;
  request->response_type = g_strdup ("text/csv; charset=utf-8");
  kefu_request_header (request, "Content-Disposition", "attachment; filename=\"kefu-report.csv\"");
  request->response = g_string_free_to_bytes (out);
}

void
kefu_route_report_calls (KefuRequest *request)
{
  static const char * const accepted[] = {
    "from", "to", "interval", "by", "queue", "agent", "format", "sl_threshold_s",
    "short_abandon_s", "sl_denominator", NULL
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) rows = NULL;
  KefuReportQuery query = { 0 };
  const char *format = kefu_request_query (request, "format");
  const char *text;
  gint64 now = kefu_time_now_ms ();

  if (request->query)
    {
      GHashTableIter iter;
      gpointer key;

      g_hash_table_iter_init (&iter, request->query);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        if (!g_strv_contains (accepted, key))
          {
            g_autofree char *known = g_strjoinv (", ", (char **) accepted);

            kefu_request_error (request, SOUP_STATUS_BAD_REQUEST, "bad_query",
                                "Unknown report parameter “%s”; reports accept %s", (char *) key,
                                known);
            return;
          }
    }

  query.metrics = request->server->config->metrics;
  query.tz = request->server->tz;
  query.interval = KEFU_REPORT_INTERVAL_DAY;
  query.by = KEFU_REPORT_BY_NONE;
  if (!read_time_query (request, "from", FALSE, now - 7 * 86400000LL, &query.from_ms) ||
      !read_time_query (request, "to", TRUE, now, &query.to_ms))
    return;
  if ((text = kefu_request_query (request, "interval")) &&
      !kefu_report_interval_from_string (text, &query.interval))
    {
      kefu_request_error (request, SOUP_STATUS_BAD_REQUEST, "bad_query",
                          "interval must be hour, day, month, year or total, not “%s”", text);
      return;
    }
  if ((text = kefu_request_query (request, "by")) &&
      !kefu_report_grouping_from_string (text, &query.by))
    {
      kefu_request_error (request, SOUP_STATUS_BAD_REQUEST, "bad_query",
                          "by must be none, queue or agent, not “%s”", text);
      return;
    }
  if ((text = kefu_request_query (request, "sl_denominator")) &&
      !kefu_sl_denominator_from_string (text, &query.metrics.denominator))
    {
      kefu_request_error (request, SOUP_STATUS_BAD_REQUEST, "bad_query",
                          "sl_denominator must be answered, answered+abandoned or offered-short");
      return;
    }
  {
    guint64 seconds;

    if (!kefu_request_read_uint (request, "sl_threshold_s", (guint64) query.metrics.sl_threshold_s, 3600,
                          &seconds))
      return;
    query.metrics.sl_threshold_s = seconds;
    if (!kefu_request_read_uint (request, "short_abandon_s", (guint64) query.metrics.short_abandon_s, 600,
                          &seconds))
      return;
    query.metrics.short_abandon_s = seconds;
  }
  if (format && !g_str_equal (format, "json") && !g_str_equal (format, "csv"))
    {
      kefu_request_error (request, SOUP_STATUS_BAD_REQUEST, "bad_query",
                          "format must be json or csv, not “%s”", format);
      return;
    }
  query.queue = kefu_request_query (request, "queue");
  query.agent = kefu_request_query (request, "agent");
  if (kefu_request_query (request, "sl_threshold_s"))
    query.overrides |= KEFU_REPORT_OVERRIDE_THRESHOLD;
  if (kefu_request_query (request, "short_abandon_s"))
    query.overrides |= KEFU_REPORT_OVERRIDE_SHORT_ABANDON;
  if (kefu_request_query (request, "sl_denominator"))
    query.overrides |= KEFU_REPORT_OVERRIDE_DENOMINATOR;

  rows = kefu_report_calls (kefu_request_store (request), &query, &error);
  if (!rows)
    {
      if (error->domain == G_IO_ERROR)
        kefu_request_error (request, SOUP_STATUS_BAD_REQUEST, "bad_query", "%s", error->message);
      else
        kefu_request_gerror (request, error, NULL, NULL);
      return;
    }

  if (format && g_str_equal (format, "csv"))
    {
      respond_report_csv (request, rows);
      return;
    }
  {
    g_autoptr(JsonObject) body = json_object_new ();
    g_autofree char *from = kefu_time_format_ms (query.from_ms);
    g_autofree char *to = kefu_time_format_ms (query.to_ms);

    json_object_set_string_member (body, "from", from);
    json_object_set_string_member (body, "to", to);
    json_object_set_string_member (body, "timezone", request->server->config->timezone);
    json_object_set_string_member (body, "sl_denominator",
                                   kefu_sl_denominator_to_string (query.metrics.denominator));
    json_object_set_double_member (body, "sl_threshold_s", query.metrics.sl_threshold_s);
    json_object_set_double_member (body, "short_abandon_s", query.metrics.short_abandon_s);
    json_object_set_array_member (body, "rows", g_steal_pointer (&rows));
    kefu_request_object (request, SOUP_STATUS_OK, body);
  }
}

typedef struct {
  double aht_s;
  double interval_s;
  double target_sl;
  double target_s;
} StaffingTarget;

static JsonObject *
staffing_row (const StaffingTarget *target,
              double                calls)
{
  JsonObject *row = json_object_new ();
  double traffic = kefu_erlang_traffic (calls, target->interval_s, target->aht_s);
  guint agents = kefu_erlang_agents_needed (traffic, target->aht_s, target->target_sl,
                                            target->target_s);

  json_object_set_double_member (row, "calls", calls);
  json_object_set_double_member (row, "traffic_erlangs", traffic);
  json_object_set_int_member (row, "agents", agents);
  if (agents > 0)
    {
      double asa = kefu_erlang_asa (agents, traffic, target->aht_s);

      json_object_set_double_member (row, "p_wait", kefu_erlang_c (agents, traffic));
      json_object_set_double_member (row, "service_level",
                                     kefu_erlang_service_level (agents, traffic, target->aht_s,
                                                                target->target_s));
      if (isfinite (asa))
        json_object_set_double_member (row, "asa_s", asa);
      else
        json_object_set_null_member (row, "asa_s");
      json_object_set_double_member (row, "occupancy", kefu_erlang_occupancy (agents, traffic));
    }
  else
    {
      json_object_set_double_member (row, "p_wait", 0);
      json_object_set_double_member (row, "service_level", 1);
      json_object_set_double_member (row, "asa_s", 0);
      json_object_set_null_member (row, "occupancy");
    }
  return row;
}

static gboolean
check_target (KefuRequest    *request,
              StaffingTarget *target)
{
  if (!(target->aht_s > 0 && target->aht_s <= 86400))
    {
      kefu_request_error (request, SOUP_STATUS_BAD_REQUEST, "invalid_value",
                          "aht_s (average handle time in seconds) must be above 0");
      return FALSE;
    }
  if (!(target->interval_s >= 60 && target->interval_s <= 86400))
    {
      kefu_request_error (request, SOUP_STATUS_BAD_REQUEST, "invalid_value",
                          "interval_s must be from 60 to 86400 seconds");
      return FALSE;
    }
  if (!(target->target_sl > 0 && target->target_sl < 1))
    {
      kefu_request_error (request, SOUP_STATUS_BAD_REQUEST, "invalid_value",
                          "target_sl is a fraction above 0 and below 1 (0.8 for 80 %%)");
      return FALSE;
    }
  if (!(target->target_s >= 0 && target->target_s <= 3600))
    {
      kefu_request_error (request, SOUP_STATUS_BAD_REQUEST, "invalid_value",
                          "target_s (answered within, seconds) must be from 0 to 3600");
      return FALSE;
    }
  return TRUE;
}

static gboolean
read_double_query (KefuRequest *request,
                   const char  *name,
                   double       fallback,
                   gboolean     required,
                   double      *out)
{
  const char *text = kefu_request_query (request, name);
  char *end = NULL;

  *out = fallback;
  if (!text)
    {
      if (required)
        {
          kefu_request_error (request, SOUP_STATUS_BAD_REQUEST, "missing_field",
                              "“%s” is needed", name);
          return FALSE;
        }
      return TRUE;
    }
  *out = g_ascii_strtod (text, &end);
  if (!*text || *end || !isfinite (*out) || *out < 0)
    {
      kefu_request_error (request, SOUP_STATUS_BAD_REQUEST, "bad_query",
                          "“%s” must be a number of 0 or more, not “%s”", name, text);
      return FALSE;
    }
  return TRUE;
}

void
kefu_route_staffing_get (KefuRequest *request)
{
  StaffingTarget target;
  double calls;

  if (!read_double_query (request, "calls", 0, TRUE, &calls) ||
      !read_double_query (request, "aht_s", 0, TRUE, &target.aht_s) ||
      !read_double_query (request, "interval_s", 1800, FALSE, &target.interval_s) ||
      !read_double_query (request, "target_sl", 0.8, FALSE, &target.target_sl) ||
      !read_double_query (request, "target_s", 20, FALSE, &target.target_s) ||
      !check_target (request, &target))
    return;
  if (calls > 1e7)
    {
      kefu_request_error (request, SOUP_STATUS_BAD_REQUEST, "invalid_value",
                          "calls is more than any contact centre takes in one interval");
      return;
    }
  {
    g_autoptr(JsonObject) row = staffing_row (&target, calls);

    json_object_set_double_member (row, "aht_s", target.aht_s);
    json_object_set_double_member (row, "interval_s", target.interval_s);
    json_object_set_double_member (row, "target_sl", target.target_sl);
    json_object_set_double_member (row, "target_s", target.target_s);
    kefu_request_object (request, SOUP_STATUS_OK, row);
  }
}

void
kefu_route_staffing_post (KefuRequest *request)
{
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) body = json_object_new ();
  g_autoptr(GList) members = NULL;
  JsonArray *intervals;
  JsonObject *input;
  JsonNode *calls;
  StaffingTarget target;
  gsize len;
  const char *text = kefu_request_body (request, &len);

  root = kefu_json_parse_strict (text, len, &error);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root))
    {
      kefu_request_error (request, SOUP_STATUS_BAD_REQUEST, "malformed_json",
                          "Send {\"calls\": [360, 420, ...], \"aht_s\": 240, \"interval_s\": 1800, "
                          "\"target_sl\": 0.8, \"target_s\": 20}");
      return;
    }
  input = json_node_get_object (root);
  members = json_object_get_members (input);
  for (GList *l = members; l; l = l->next)
    if (!g_strv_contains ((const char * const[]) { "calls", "aht_s", "interval_s", "target_sl",
                                                    "target_s", NULL }, l->data))
      {
        kefu_request_error (request, SOUP_STATUS_BAD_REQUEST, "unknown_field",
                            "Field “%s”: staffing takes calls, aht_s, interval_s, target_sl, "
                            "target_s", (char *) l->data);
        return;
      }
  target.aht_s = kefu_json_get_double (input, "aht_s", 0);
  target.interval_s = kefu_json_get_double (input, "interval_s", 1800);
  target.target_sl = kefu_json_get_double (input, "target_sl", 0.8);
  target.target_s = kefu_json_get_double (input, "target_s", 20);
  if (!check_target (request, &target))
    return;
  calls = json_object_get_member (input, "calls");
  if (!calls || !JSON_NODE_HOLDS_ARRAY (calls) || json_array_get_length (json_node_get_array (calls)) == 0 ||
      json_array_get_length (json_node_get_array (calls)) > 10000)
    {
      kefu_request_error (request, SOUP_STATUS_BAD_REQUEST, "wrong_type",
                          "Field “calls”: expected a list of 1 to 10000 call counts, one per "
                          "interval");
      return;
    }
  intervals = json_array_new ();
  for (guint i = 0; i < json_array_get_length (json_node_get_array (calls)); i++)
    {
      JsonNode *n = json_array_get_element (json_node_get_array (calls), i);
      double value;

      if (!JSON_NODE_HOLDS_VALUE (n) || (json_node_get_value_type (n) != G_TYPE_INT64 &&
                                         json_node_get_value_type (n) != G_TYPE_DOUBLE) ||
          (value = json_node_get_double (n)) < 0 || value > 1e7)
        {
          json_array_unref (intervals);
          kefu_request_error (request, SOUP_STATUS_BAD_REQUEST, "wrong_type",
                              "Field “calls[%u]”: expected a number of calls from 0 to 10000000", i);
          return;
        }
      json_array_add_object_element (intervals, staffing_row (&target, value));
    }
  json_object_set_array_member (body, "intervals", intervals);
  kefu_request_object (request, SOUP_STATUS_OK, body);
}
