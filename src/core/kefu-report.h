/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Reports and the live queue snapshot, both folded from the store's call
 * facts and agent spans with KefuMetrics, so the supervisor's panel and the
 * team lead's report use one definition of every figure.  Synchronous;
 * call from a worker thread.
 */
#pragma once

#include "kefu-metrics.h"
#include "kefu-store.h"

G_BEGIN_DECLS

typedef enum {
  KEFU_REPORT_INTERVAL_HOUR,
  KEFU_REPORT_INTERVAL_DAY,
  KEFU_REPORT_INTERVAL_MONTH,
  KEFU_REPORT_INTERVAL_YEAR,
  KEFU_REPORT_INTERVAL_TOTAL,   /* one row for the whole range */
} KefuReportInterval;

typedef enum {
  KEFU_REPORT_BY_NONE,
  KEFU_REPORT_BY_QUEUE,
  KEFU_REPORT_BY_AGENT,
} KefuReportGrouping;

typedef struct {
  gint64              from_ms;    /* inclusive */
  gint64              to_ms;      /* exclusive */
  KefuReportInterval  interval;
  KefuReportGrouping  by;
  const char         *queue;      /* NULL: all */
  const char         *agent;      /* NULL: all */
  GTimeZone          *tz;         /* periods are local days/months; NULL: UTC */
  KefuMetricsConfig   metrics;    /* for calls whose queue has no settings */
  guint               overrides;  /* KefuReportOverride: parts of `metrics` that
                                   * apply over the queues' own settings */
} KefuReportQuery;

typedef enum {
  KEFU_REPORT_OVERRIDE_THRESHOLD     = 1 << 0,
  KEFU_REPORT_OVERRIDE_SHORT_ABANDON = 1 << 1,
  KEFU_REPORT_OVERRIDE_DENOMINATOR   = 1 << 2,
} KefuReportOverride;

#define KEFU_REPORT_MAX_PERIODS 20000

gboolean   kefu_report_interval_from_string (const char *text, KefuReportInterval *out);
gboolean   kefu_report_grouping_from_string (const char *text, KefuReportGrouping *out);

/* Rows ordered by period, then queue/agent name.  Each row: period (label),
 * period_start, period_end, queue or agent when grouped, and the members of
 * kefu_metrics_build_json.  Periods with no calls are included (zeros). */
JsonArray  *kefu_report_calls      (KefuStore              *store,
                                    const KefuReportQuery  *query,
                                    GError                **error) G_GNUC_WARN_UNUSED_RESULT;

/* The supervisor's view of one queue now: calls waiting, longest wait,
 * agents by state, and today's figures (since local midnight in tz). */
JsonObject *kefu_report_queue_live (KefuStore          *store,
                                    const char         *queue,
                                    gint64              now_ms,
                                    GTimeZone          *tz,
                                    const KefuMetricsConfig *defaults,
                                    GError            **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
