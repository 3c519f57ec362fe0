/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuServerStats"

#include "config.h"

#include "kefu-server-stats.h"

static const double bucket_bounds[] = {
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
};
#define N_BUCKETS G_N_ELEMENTS (bucket_bounds)

struct _KefuServerStats {
  GMutex      lock;
  GHashTable *requests;     /* "method route status" -> guint64* */
  guint64     buckets[N_BUCKETS + 1];
  double      latency_sum;
  guint64     latency_count;
  guint64     events;
};

KefuServerStats *
kefu_server_stats_new (void)
{
  KefuServerStats *stats = g_new0 (KefuServerStats, 1);

  g_mutex_init (&stats->lock);
  stats->requests = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return stats;
}

void
kefu_server_stats_free (KefuServerStats *stats)
{
  if (!stats)
    return;
  g_hash_table_destroy (stats->requests);
  g_mutex_clear (&stats->lock);
  g_free (stats);
}

void
kefu_server_stats_request (KefuServerStats *stats,
                           const char      *method,
                           const char      *route,
                           guint            status,
                           double           seconds)
{
  g_autofree char *key = g_strdup_printf ("%s\t%s\t%u", method, route ? route : "unmatched",
                                          status);
  guint64 *count;
  guint b = 0;

  while (b < N_BUCKETS && seconds > bucket_bounds[b])
    b++;

  g_mutex_lock (&stats->lock);
  count = g_hash_table_lookup (stats->requests, key);
  if (!count)
    {
      count = g_new0 (guint64, 1);
      g_hash_table_insert (stats->requests, g_steal_pointer (&key), count);
    }
  (*count)++;
  stats->buckets[b]++;
  stats->latency_sum += seconds;
  stats->latency_count++;
  g_mutex_unlock (&stats->lock);
}

void
kefu_server_stats_events (KefuServerStats *stats,
                          guint            n)
{
  g_mutex_lock (&stats->lock);
  stats->events += n;
  g_mutex_unlock (&stats->lock);
}

char *
kefu_server_stats_render (KefuServerStats *stats,
                          guint            ws_clients,
                          gint64           customers,
                          gint64           events)
{
  GString *out = g_string_new (NULL);
  GHashTableIter iter;
  gpointer key, value;
  guint64 cumulative = 0;

  g_mutex_lock (&stats->lock);
  g_string_append (out, "# HELP kefu_http_requests_total HTTP requests by route and status.\n"
                        "# TYPE kefu_http_requests_total counter\n");
  g_hash_table_iter_init (&iter, stats->requests);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      g_auto(GStrv) parts = g_strsplit (key, "\t", 3);

      g_string_append_printf (out, "kefu_http_requests_total{method=\"%s\",route=\"%s\","
                              "status=\"%s\"} %" G_GUINT64_FORMAT "\n",
                              parts[0], parts[1], parts[2], *(guint64 *) value);
    }
  g_string_append (out, "# HELP kefu_http_request_duration_seconds Time to answer a request.\n"
                        "# TYPE kefu_http_request_duration_seconds histogram\n");
  for (guint b = 0; b < N_BUCKETS; b++)
    {
      char bound[G_ASCII_DTOSTR_BUF_SIZE];

      cumulative += stats->buckets[b];
      g_string_append_printf (out, "kefu_http_request_duration_seconds_bucket{le=\"%s\"} %"
                              G_GUINT64_FORMAT "\n",
                              g_ascii_formatd (bound, sizeof bound, "%g", bucket_bounds[b]),
                              cumulative);
    }
  cumulative += stats->buckets[N_BUCKETS];
  {
    char sum[G_ASCII_DTOSTR_BUF_SIZE];

    g_string_append_printf (out, "kefu_http_request_duration_seconds_bucket{le=\"+Inf\"} %"
                            G_GUINT64_FORMAT "\n"
                            "kefu_http_request_duration_seconds_sum %s\n"
                            "kefu_http_request_duration_seconds_count %" G_GUINT64_FORMAT "\n",
                            cumulative, g_ascii_dtostr (sum, sizeof sum, stats->latency_sum),
                            stats->latency_count);
  }
  g_string_append_printf (out, "# HELP kefu_events_published_total Events logged since start.\n"
                               "# TYPE kefu_events_published_total counter\n"
                               "kefu_events_published_total %" G_GUINT64_FORMAT "\n",
                          stats->events);
  g_mutex_unlock (&stats->lock);

  g_string_append_printf (out, "# HELP kefu_websocket_clients Connected event subscribers.\n"
                               "# TYPE kefu_websocket_clients gauge\n"
                               "kefu_websocket_clients %u\n", ws_clients);
  if (customers >= 0)
    g_string_append_printf (out, "# HELP kefu_customers Customers in the store.\n"
                                 "# TYPE kefu_customers gauge\n"
                                 "kefu_customers %" G_GINT64_FORMAT "\n", customers);
  if (events >= 0)
    g_string_append_printf (out, "# HELP kefu_events Events in the log.\n"
                                 "# TYPE kefu_events gauge\n"
                                 "kefu_events %" G_GINT64_FORMAT "\n", events);
  return g_string_free (out, FALSE);
}
