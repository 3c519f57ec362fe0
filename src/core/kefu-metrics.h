/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The contact-centre figures, defined once.  The supervisor's live queue
 * panel and the team lead's historical reports both fold calls into a
 * KefuMetrics with these functions, so the two can never disagree.
 *
 * Definitions (per queue, per interval the caller chooses):
 *  - offered: calls that entered the queue.
 *  - answered: calls an agent picked up.
 *  - short abandoned: the caller hung up before an answer, having waited
 *    less than short_abandon_s (a mis-dial, not a lost customer).
 *  - abandoned: the caller hung up before an answer after at least
 *    short_abandon_s.  Short abandons are not in this count.
 *  - other: neither answered nor abandoned (overflowed, sent to callback).
 *  - overflowed: of other, the calls that left the queue for another one
 *    after its longest wait; that queue counts them offered too, and
 *    answered or abandoned there.
 *  - service level: calls answered within sl_threshold_s, divided by the
 *    chosen denominator: answered | answered + abandoned |
 *    offered - short abandoned.
 *  - ASA: total wait of answered calls / answered.
 *  - AHT: total (talk + hold + wrap-up) of answered calls / answered.
 *  - abandonment rate: abandoned / (offered - short abandoned).
 *  - occupancy: agent time busy on calls (talk, hold, wrap-up) / agent
 *    time staffed (available + busy).
 * A ratio with a zero denominator is undefined (NAN), shown as "—" or null.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef enum {
  KEFU_SL_DENOMINATOR_ANSWERED,
  KEFU_SL_DENOMINATOR_ANSWERED_ABANDONED,
  KEFU_SL_DENOMINATOR_OFFERED_MINUS_SHORT,
} KefuSlDenominator;

typedef struct {
  double             sl_threshold_s;   /* the "20" of 80/20 */
  double             short_abandon_s;
  KefuSlDenominator  denominator;
} KefuMetricsConfig;

/* Defaults: 20 s threshold, 5 s short abandon, offered - short abandons. */
void kefu_metrics_config_init (KefuMetricsConfig *config);

/* "answered", "answered+abandoned", "offered-short" -> TRUE */
gboolean kefu_sl_denominator_from_string (const char *text, KefuSlDenominator *out);
const char *kefu_sl_denominator_to_string (KefuSlDenominator denominator);

typedef enum {
  KEFU_CALL_OUTCOME_ANSWERED,
  KEFU_CALL_OUTCOME_ABANDONED,
  KEFU_CALL_OUTCOME_OTHER,
} KefuCallOutcome;

/* One finished (or answered) queue call. */
typedef struct {
  KefuCallOutcome outcome;
  double          wait_s;
  double          talk_s;
  double          hold_s;
  double          wrapup_s;
  gboolean        overflowed;   /* OTHER: it left for another queue */
} KefuCallSample;

/* A plain accumulator: zero it with kefu_metrics_init, add, merge, read. */
typedef struct {
  guint64 offered;
  guint64 answered;
  guint64 abandoned;
  guint64 short_abandoned;
  guint64 other;
  guint64 overflowed;         /* of other */
  guint64 answered_within;    /* answered with wait <= sl_threshold_s */
  double  answered_wait_s;    /* sum over answered */
  double  abandoned_wait_s;   /* sum over abandoned (not short) */
  double  talk_s;             /* sums over answered */
  double  hold_s;
  double  wrapup_s;
  double  staffed_s;          /* agent time, from kefu_metrics_add_agent_time */
  double  busy_s;
} KefuMetrics;

void   kefu_metrics_init                (KefuMetrics *metrics);
void   kefu_metrics_add_call            (KefuMetrics             *metrics,
                                         const KefuMetricsConfig *config,
                                         const KefuCallSample    *call);
void   kefu_metrics_add_agent_time      (KefuMetrics *metrics, double staffed_s, double busy_s);
void   kefu_metrics_merge               (KefuMetrics *into, const KefuMetrics *from);

double kefu_metrics_service_level       (const KefuMetrics *metrics, const KefuMetricsConfig *config);
double kefu_metrics_asa                 (const KefuMetrics *metrics);
double kefu_metrics_aht                 (const KefuMetrics *metrics);
double kefu_metrics_abandonment_rate    (const KefuMetrics *metrics);
double kefu_metrics_occupancy           (const KefuMetrics *metrics);

/* Adds members offered, answered, abandoned, short_abandoned, other,
 * overflowed, answered_within, service_level, asa, aht, abandonment_rate, occupancy,
 * avg_talk, avg_hold, avg_wrapup (ratios 0..1, times in seconds, undefined
 * ones as null) to the object the builder is inside. */
void   kefu_metrics_build_json          (const KefuMetrics       *metrics,
                                         const KefuMetricsConfig *config,
                                         JsonBuilder             *builder);

G_END_DECLS
