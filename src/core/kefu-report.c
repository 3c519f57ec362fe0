/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuReport"

#include "config.h"

#include "kefu-report.h"
#include "kefu-time.h"

#include <math.h>
#include <string.h>

static const char * const interval_names[] = { "hour", "day", "month", "year", "total", NULL };
static const char * const grouping_names[] = { "none", "queue", "agent", NULL };

gboolean
kefu_report_interval_from_string (const char         *text,
                                  KefuReportInterval *out)
{
  for (guint i = 0; text && interval_names[i]; i++)
    if (g_str_equal (text, interval_names[i]))
      {
        *out = (KefuReportInterval) i;
        return TRUE;
      }
  return FALSE;
}

gboolean
kefu_report_grouping_from_string (const char         *text,
                                  KefuReportGrouping *out)
{
  for (guint i = 0; text && grouping_names[i]; i++)
    if (g_str_equal (text, grouping_names[i]))
      {
        *out = (KefuReportGrouping) i;
        return TRUE;
      }
  return FALSE;
}

/* The period boundaries, in local time, as ms; n_periods + 1 entries. */
static GArray *
period_bounds (const KefuReportQuery  *query,
               GError                **error)
{
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc ();
  GTimeZone *tz = query->tz ? query->tz : utc;
  g_autoptr(GArray) bounds = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GDateTime) from = g_date_time_new_from_unix_utc (query->from_ms / 1000);
  g_autoptr(GDateTime) local = g_date_time_to_timezone (from, tz);
  g_autoptr(GDateTime) cursor = NULL;

  if (query->interval == KEFU_REPORT_INTERVAL_TOTAL)
    {
      g_array_append_val (bounds, query->from_ms);
      g_array_append_val (bounds, query->to_ms);
      return g_steal_pointer (&bounds);
    }

  /* The first period is the one holding `from`, whole. */
  switch (query->interval)
    {
    case KEFU_REPORT_INTERVAL_HOUR:
      cursor = g_date_time_new (tz, g_date_time_get_year (local), g_date_time_get_month (local),
                                g_date_time_get_day_of_month (local),
                                g_date_time_get_hour (local), 0, 0);
      break;
    case KEFU_REPORT_INTERVAL_DAY:
      cursor = g_date_time_new (tz, g_date_time_get_year (local), g_date_time_get_month (local),
                                g_date_time_get_day_of_month (local), 0, 0, 0);
      break;
    case KEFU_REPORT_INTERVAL_MONTH:
      cursor = g_date_time_new (tz, g_date_time_get_year (local), g_date_time_get_month (local),
                                1, 0, 0, 0);
      break;
    case KEFU_REPORT_INTERVAL_YEAR:
    default:
      cursor = g_date_time_new (tz, g_date_time_get_year (local), 1, 1, 0, 0, 0);
      break;
    }

  for (;;)
    {
      gint64 ms = g_date_time_to_unix (cursor) * 1000;
      GDateTime *next;

      g_array_append_val (bounds, ms);
      if (ms >= query->to_ms)
        break;
      if (bounds->len > KEFU_REPORT_MAX_PERIODS)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "The report would have more than %d periods; choose a shorter range "
                       "or a longer interval", KEFU_REPORT_MAX_PERIODS);
          return NULL;
        }
      switch (query->interval)
        {
        case KEFU_REPORT_INTERVAL_HOUR:
          next = g_date_time_add_hours (cursor, 1);
          break;
        case KEFU_REPORT_INTERVAL_DAY:
          next = g_date_time_add_days (cursor, 1);
          break;
        case KEFU_REPORT_INTERVAL_MONTH:
          next = g_date_time_add_months (cursor, 1);
          break;
        case KEFU_REPORT_INTERVAL_YEAR:
        default:
          next = g_date_time_add_years (cursor, 1);
          break;
        }
      g_date_time_unref (cursor);
      cursor = next;
    }
  return g_steal_pointer (&bounds);
}

static char *
period_label (const KefuReportQuery *query,
              gint64                 start_ms)
{
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc ();
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (start_ms / 1000);
  g_autoptr(GDateTime) local = g_date_time_to_timezone (dt, query->tz ? query->tz : utc);

  switch (query->interval)
    {
    case KEFU_REPORT_INTERVAL_HOUR:
      return g_date_time_format (local, "%Y-%m-%dT%H:00");
    case KEFU_REPORT_INTERVAL_DAY:
      return g_date_time_format (local, "%Y-%m-%d");
    case KEFU_REPORT_INTERVAL_MONTH:
      return g_date_time_format (local, "%Y-%m");
    case KEFU_REPORT_INTERVAL_YEAR:
      return g_date_time_format (local, "%Y");
    case KEFU_REPORT_INTERVAL_TOTAL:
    default:
      return g_strdup ("total");
    }
}

typedef struct {
  const KefuReportQuery *query;
  GArray                *bounds;     /* gint64 */
  GPtrArray             *periods;    /* GHashTable*: group name -> KefuMetrics* */
  GHashTable            *configs;    /* queue name -> KefuMetricsConfig* */
  guint                  cursor;
} ReportFold;

static KefuMetrics *
metrics_for (ReportFold *fold,
             guint       period,
             const char *group)
{
  GHashTable *groups = g_ptr_array_index (fold->periods, period);
  KefuMetrics *metrics = g_hash_table_lookup (groups, group ? group : "");

  if (!metrics)
    {
      metrics = g_new (KefuMetrics, 1);
      kefu_metrics_init (metrics);
      g_hash_table_insert (groups, g_strdup (group ? group : ""), metrics);
    }
  return metrics;
}

static const KefuMetricsConfig *
config_for (ReportFold *fold,
            const char *queue)
{
  const KefuMetricsConfig *config = queue ? g_hash_table_lookup (fold->configs, queue) : NULL;

  return config ? config : &fold->query->metrics;
}

static const char *
group_of (ReportFold *fold,
          const char *queue,
          const char *agent)
{
  switch (fold->query->by)
    {
    case KEFU_REPORT_BY_QUEUE:
      return queue ? queue : "";
    case KEFU_REPORT_BY_AGENT:
      return agent ? agent : "";
    case KEFU_REPORT_BY_NONE:
    default:
      return "";
    }
}

static gboolean
on_fact (const KefuCallFact *fact,
         gpointer            user_data)
{
  ReportFold *fold = user_data;
  const gint64 *bounds = (const gint64 *) (gpointer) fold->bounds->data;
  guint n_periods = fold->bounds->len - 1;

  /* Facts arrive in time order, so the period only moves forward. */
  while (fold->cursor < n_periods && fact->offered_ms >= bounds[fold->cursor + 1])
    fold->cursor++;
  if (fold->cursor >= n_periods || fact->offered_ms < bounds[fold->cursor])
    return TRUE;

  /* Calls not answered have no agent; in an agent report they have no row. */
  if (fold->query->by == KEFU_REPORT_BY_AGENT && !fact->agent)
    return TRUE;
  /* A call that overflowed is counted in each queue it waited in; over all
   * queues it is one call, counted where it ended. */
  if (fact->overflow_to && fold->query->by != KEFU_REPORT_BY_QUEUE && !fold->query->queue)
    return TRUE;

  kefu_metrics_add_call (metrics_for (fold, fold->cursor, group_of (fold, fact->queue, fact->agent)),
                         config_for (fold, fact->queue), &fact->sample);
  return TRUE;
}

static gboolean
state_is_staffed (const char *state)
{
  return g_strcmp0 (state, "not_ready") != 0 && g_strcmp0 (state, "logged_out") != 0;
}

static gboolean
state_is_busy (const char *state)
{
  return g_strcmp0 (state, "talking") == 0 || g_strcmp0 (state, "on_hold") == 0 ||
         g_strcmp0 (state, "wrapup") == 0;
}

typedef struct {
  ReportFold *fold;
  gint64      now_ms;
} SpanFold;

static gboolean
on_span (const KefuAgentSpan *span,
         gpointer             user_data)
{
  SpanFold *span_fold = user_data;
  ReportFold *fold = span_fold->fold;
  const gint64 *bounds = (const gint64 *) (gpointer) fold->bounds->data;
  guint n_periods = fold->bounds->len - 1;
  gint64 end = span->ended_ms ? span->ended_ms : span_fold->now_ms;
  guint lo = 0, hi = n_periods;

  if (!state_is_staffed (span->state))
    return TRUE;

  /* first period whose end is after the span's start */
  while (lo < hi)
    {
      guint mid = (lo + hi) / 2;

      if (bounds[mid + 1] <= span->started_ms)
        lo = mid + 1;
      else
        hi = mid;
    }
  for (guint p = lo; p < n_periods && bounds[p] < end; p++)
    {
      gint64 a = MAX (bounds[p], span->started_ms);
      gint64 b = MIN (bounds[p + 1], end);
      double seconds = (b - a) / 1000.0;

      if (seconds <= 0)
        continue;
      kefu_metrics_add_agent_time (metrics_for (fold, p, fold->query->by == KEFU_REPORT_BY_AGENT
                                                         ? span->agent : ""),
                                   seconds, state_is_busy (span->state) ? seconds : 0);
    }
  return TRUE;
}

/* Each queue's own definitions; what the report's query overrides (a team
 * lead who asks for a definition gets it) is applied over them. */
static void
load_queue_configs (KefuStore               *store,
                    GHashTable              *configs,
                    const KefuMetricsConfig *defaults,
                    guint                    overrides)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) queues = kefu_store_list (store, &kefu_record_queue, NULL, 0, 10000, &error);

  if (!queues)
    {
      g_warning ("queue settings unavailable, using defaults: %s", error->message);
      return;
    }
  for (guint i = 0; i < json_array_get_length (queues); i++)
    {
      JsonObject *queue = json_array_get_object_element (queues, i);
      KefuMetricsConfig *config = g_new (KefuMetricsConfig, 1);

      *config = *defaults;
      config->sl_threshold_s = kefu_json_get_double (queue, "sl_threshold_s", config->sl_threshold_s);
      config->short_abandon_s = kefu_json_get_double (queue, "short_abandon_s",
                                                      config->short_abandon_s);
      kefu_sl_denominator_from_string (kefu_json_get_string (queue, "sl_denominator"),
                                       &config->denominator);
      if (overrides & KEFU_REPORT_OVERRIDE_THRESHOLD)
        config->sl_threshold_s = defaults->sl_threshold_s;
      if (overrides & KEFU_REPORT_OVERRIDE_SHORT_ABANDON)
        config->short_abandon_s = defaults->short_abandon_s;
      if (overrides & KEFU_REPORT_OVERRIDE_DENOMINATOR)
        config->denominator = defaults->denominator;
      g_hash_table_insert (configs, g_strdup (json_object_get_string_member (queue, "name")), config);
    }
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

JsonArray *
kefu_report_calls (KefuStore              *store,
                   const KefuReportQuery  *query,
                   GError                **error)
{
  g_autoptr(GArray) bounds = NULL;
  g_autoptr(GPtrArray) periods = NULL;
  g_autoptr(GHashTable) configs = NULL;
  g_autoptr(JsonArray) rows = NULL;
  ReportFold fold = { query };
  SpanFold span_fold = { &fold, kefu_time_now_ms () };

  if (query->to_ms <= query->from_ms)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "The report's end must be after its start");
      return NULL;
    }
  bounds = period_bounds (query, error);
  if (!bounds)
    return NULL;

  periods = g_ptr_array_new_with_free_func ((GDestroyNotify) g_hash_table_unref);
  for (guint i = 0; i + 1 < bounds->len; i++)
    g_ptr_array_add (periods, g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free));
  configs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  load_queue_configs (store, configs, &query->metrics, query->overrides);

  fold.bounds = bounds;
  fold.periods = periods;
  fold.configs = configs;

  {
    const gint64 *b = (const gint64 *) (gpointer) bounds->data;

    if (!kefu_store_fold_call_facts (store, b[0], b[bounds->len - 1], query->queue, query->agent,
                                     on_fact, &fold, error))
      return NULL;
    /* Occupancy is agent time; it has no meaning for one queue when agents
     * serve several, so queue rows leave it undefined. */
    if (query->by != KEFU_REPORT_BY_QUEUE && !query->queue &&
        !kefu_store_fold_agent_spans (store, b[0], b[bounds->len - 1], query->agent, on_span,
                                      &span_fold, error))
      return NULL;
  }

  rows = json_array_new ();
  for (guint p = 0; p < periods->len; p++)
    {
      GHashTable *groups = g_ptr_array_index (periods, p);
      const gint64 *b = (const gint64 *) (gpointer) bounds->data;
      g_autofree char *label = period_label (query, b[p]);
      g_autofree char *start = kefu_time_format_ms (MAX (b[p], query->interval == KEFU_REPORT_INTERVAL_TOTAL ? query->from_ms : b[p]));
      g_autofree char *end = kefu_time_format_ms (b[p + 1]);
      g_autoptr(GPtrArray) names = g_ptr_array_new ();
      GHashTableIter iter;
      gpointer key;
      KefuMetrics empty;

      g_hash_table_iter_init (&iter, groups);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        g_ptr_array_add (names, key);
      g_ptr_array_sort (names, compare_names);

      /* An ungrouped report shows every period, quiet ones too, so charts
       * have no gaps. */
      kefu_metrics_init (&empty);
      if (names->len == 0 && query->by == KEFU_REPORT_BY_NONE)
        g_ptr_array_add (names, (gpointer) "");

      for (guint g = 0; g < names->len; g++)
        {
          const char *name = g_ptr_array_index (names, g);
          KefuMetrics *metrics = g_hash_table_lookup (groups, name);
          g_autoptr(JsonBuilder) builder = json_builder_new ();
          g_autoptr(JsonNode) node = NULL;
          const KefuMetricsConfig *config = query->by == KEFU_REPORT_BY_QUEUE
                                            ? config_for (&fold, name) : &query->metrics;

          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "period");
          json_builder_add_string_value (builder, label);
          json_builder_set_member_name (builder, "period_start");
          json_builder_add_string_value (builder, start);
          json_builder_set_member_name (builder, "period_end");
          json_builder_add_string_value (builder, end);
          if (query->by != KEFU_REPORT_BY_NONE)
            {
              json_builder_set_member_name (builder, query->by == KEFU_REPORT_BY_QUEUE ? "queue"
                                                                                      : "agent");
              json_builder_add_string_value (builder, name);
            }
          kefu_metrics_build_json (metrics ? metrics : &empty, config, builder);
          json_builder_end_object (builder);
          node = json_builder_get_root (builder);
          json_array_add_object_element (rows, json_object_ref (json_node_get_object (node)));
        }
    }
  return g_steal_pointer (&rows);
}

typedef struct {
  const KefuMetricsConfig *config;
  KefuMetrics              today;
  gint64                   today_from_ms;
  guint                    waiting;
  gint64                   oldest_waiting_ms;
} LiveFold;

static gboolean
on_live_fact (const KefuCallFact *fact,
              gpointer            user_data)
{
  LiveFold *live = user_data;

  if (fact->offered_ms >= live->today_from_ms)
    kefu_metrics_add_call (&live->today, live->config, &fact->sample);
  if (fact->waiting)
    {
      live->waiting++;
      if (!live->oldest_waiting_ms || fact->offered_ms < live->oldest_waiting_ms)
        live->oldest_waiting_ms = fact->offered_ms;
    }
  return TRUE;
}

JsonObject *
kefu_report_queue_live (KefuStore                *store,
                        const char               *queue,
                        gint64                    now_ms,
                        GTimeZone                *tz,
                        const KefuMetricsConfig  *defaults,
                        GError                  **error)
{
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc ();
  g_autoptr(GDateTime) now = g_date_time_new_from_unix_utc (now_ms / 1000);
  g_autoptr(GDateTime) local = g_date_time_to_timezone (now, tz ? tz : utc);
  g_autoptr(GDateTime) midnight = g_date_time_new (tz ? tz : utc, g_date_time_get_year (local),
                                                   g_date_time_get_month (local),
                                                   g_date_time_get_day_of_month (local), 0, 0, 0);
  g_autoptr(GHashTable) configs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(JsonArray) agents = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  const KefuMetricsConfig *config;
  LiveFold live = { 0 };
  guint counts[16] = { 0 };

  load_queue_configs (store, configs, defaults, 0);
  config = g_hash_table_lookup (configs, queue);
  if (!config)
    {
      g_set_error (error, KEFU_STORE_ERROR, KEFU_STORE_ERROR_NOT_FOUND,
                   "There is no queue “%s”", queue);
      return NULL;
    }
  live.config = config;
  kefu_metrics_init (&live.today);

  /* Calls still waiting from before midnight are waiting all the same, so
   * the fold starts a day early; today's figures take only today's calls. */
  live.today_from_ms = g_date_time_to_unix (midnight) * 1000;
  if (!kefu_store_fold_call_facts (store, live.today_from_ms - 86400000, now_ms + 1, queue, NULL,
                                   on_live_fact, &live, error))
    return NULL;

  agents = kefu_store_list (store, &kefu_record_agent, NULL, 0, 100000, error);
  if (!agents)
    return NULL;
  for (guint i = 0; i < json_array_get_length (agents); i++)
    {
      JsonObject *agent = json_array_get_object_element (agents, i);
      JsonObject *skills = json_object_has_member (agent, "skills") &&
                           JSON_NODE_HOLDS_OBJECT (json_object_get_member (agent, "skills"))
                           ? json_object_get_object_member (agent, "skills") : NULL;
      const char *state = kefu_json_get_string (agent, "state");

      if (!skills || !json_object_has_member (skills, queue))
        continue;
      for (guint s = 0; kefu_agent_states[s]; s++)
        if (g_strcmp0 (state, kefu_agent_states[s]) == 0)
          counts[s]++;
    }

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "queue");
  json_builder_add_string_value (builder, queue);
  json_builder_set_member_name (builder, "waiting");
  json_builder_add_int_value (builder, live.waiting);
  json_builder_set_member_name (builder, "longest_wait_s");
  json_builder_add_double_value (builder, live.waiting ? (now_ms - live.oldest_waiting_ms) / 1000.0
                                                       : 0.0);
  json_builder_set_member_name (builder, "agents");
  json_builder_begin_object (builder);
  for (guint s = 0; kefu_agent_states[s]; s++)
    {
      json_builder_set_member_name (builder, kefu_agent_states[s]);
      json_builder_add_int_value (builder, counts[s]);
    }
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "today");
  json_builder_begin_object (builder);
  kefu_metrics_build_json (&live.today, config, builder);
  json_builder_end_object (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  return json_object_ref (json_node_get_object (root));
}
