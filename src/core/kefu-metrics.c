/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuMetrics"

#include "config.h"

#include "kefu-metrics.h"

#include <math.h>
#include <string.h>

/* The spellings a queue's configuration and the report filters use. */
static const struct {
  KefuSlDenominator  denominator;
  const char        *text;
} denominator_names[] = {
  { KEFU_SL_DENOMINATOR_ANSWERED, "answered" },
  { KEFU_SL_DENOMINATOR_ANSWERED_ABANDONED, "answered+abandoned" },
  { KEFU_SL_DENOMINATOR_OFFERED_MINUS_SHORT, "offered-short" },
};

/* Every figure is a ratio; one place decides that 0/0 is "no figure"
 * rather than 0, which would read as "terrible" on a quiet queue. */
static inline double
ratio (double numerator,
       double denominator)
{
  if (denominator == 0.0)
    return NAN;

  return numerator / denominator;
}

static void
add_ratio_member (JsonBuilder *builder,
                  const char  *name,
                  double       value)
{
  json_builder_set_member_name (builder, name);

  /* JSON has no NaN or infinity; an undefined figure is null. */
  if (isfinite (value))
    json_builder_add_double_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

static void
add_count_member (JsonBuilder *builder,
                  const char  *name,
                  guint64      value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_int_value (builder, (gint64) MIN (value, (guint64) G_MAXINT64));
}

void
kefu_metrics_config_init (KefuMetricsConfig *config)
{
  g_return_if_fail (config != NULL);

  config->sl_threshold_s = 20.0;
  config->short_abandon_s = 5.0;
  config->denominator = KEFU_SL_DENOMINATOR_OFFERED_MINUS_SHORT;
}

gboolean
kefu_sl_denominator_from_string (const char        *text,
                                 KefuSlDenominator *out)
{
  /* A missing setting is just another string we do not know. */
  if (text == NULL)
    return FALSE;

  for (gsize i = 0; i < G_N_ELEMENTS (denominator_names); i++)
    {
      if (strcmp (text, denominator_names[i].text) == 0)
        {
          if (out != NULL)
            *out = denominator_names[i].denominator;
          return TRUE;
        }
    }

  return FALSE;
}

const char *
kefu_sl_denominator_to_string (KefuSlDenominator denominator)
{
  for (gsize i = 0; i < G_N_ELEMENTS (denominator_names); i++)
    {
      if (denominator_names[i].denominator == denominator)
        return denominator_names[i].text;
    }

  g_return_val_if_reached (NULL);
}

void
kefu_metrics_init (KefuMetrics *metrics)
{
  g_return_if_fail (metrics != NULL);

  memset (metrics, 0, sizeof *metrics);
}

void
kefu_metrics_add_call (KefuMetrics             *metrics,
                       const KefuMetricsConfig *config,
                       const KefuCallSample    *call)
{
  g_return_if_fail (metrics != NULL);
  g_return_if_fail (config != NULL);
  g_return_if_fail (call != NULL);

  metrics->offered++;

  switch (call->outcome)
    {
    case KEFU_CALL_OUTCOME_ANSWERED:
      metrics->answered++;
      if (call->wait_s <= config->sl_threshold_s)
        metrics->answered_within++;
      metrics->answered_wait_s += call->wait_s;
      metrics->talk_s += call->talk_s;
      metrics->hold_s += call->hold_s;
      metrics->wrapup_s += call->wrapup_s;
      break;

    case KEFU_CALL_OUTCOME_ABANDONED:
      /* A caller who hangs up within the short-abandon window most likely
       * mis-dialled; counting them would punish the queue for it. */
      if (call->wait_s < config->short_abandon_s)
        {
          metrics->short_abandoned++;
        }
      else
        {
          metrics->abandoned++;
          metrics->abandoned_wait_s += call->wait_s;
        }
      break;

    case KEFU_CALL_OUTCOME_OTHER:
    default:
      /* An outcome this code does not know yet was still offered; keep
       * the counts adding up to offered. */
      metrics->other++;
      if (call->overflowed)
        metrics->overflowed++;
      break;
    }
}

void
kefu_metrics_add_agent_time (KefuMetrics *metrics,
                             double       staffed_s,
                             double       busy_s)
{
  g_return_if_fail (metrics != NULL);

  metrics->staffed_s += staffed_s;
  metrics->busy_s += busy_s;
}

void
kefu_metrics_merge (KefuMetrics       *into,
                    const KefuMetrics *from)
{
  g_return_if_fail (into != NULL);
  g_return_if_fail (from != NULL);

  into->offered += from->offered;
  into->answered += from->answered;
  into->abandoned += from->abandoned;
  into->short_abandoned += from->short_abandoned;
  into->other += from->other;
  into->overflowed += from->overflowed;
  into->answered_within += from->answered_within;
  into->answered_wait_s += from->answered_wait_s;
  into->abandoned_wait_s += from->abandoned_wait_s;
  into->talk_s += from->talk_s;
  into->hold_s += from->hold_s;
  into->wrapup_s += from->wrapup_s;
  into->staffed_s += from->staffed_s;
  into->busy_s += from->busy_s;
}

double
kefu_metrics_service_level (const KefuMetrics       *metrics,
                            const KefuMetricsConfig *config)
{
  double denominator;

  g_return_val_if_fail (metrics != NULL, NAN);
  g_return_val_if_fail (config != NULL, NAN);

  switch (config->denominator)
    {
    case KEFU_SL_DENOMINATOR_ANSWERED:
      denominator = (double) metrics->answered;
      break;
    case KEFU_SL_DENOMINATOR_ANSWERED_ABANDONED:
      denominator = (double) (metrics->answered + metrics->abandoned);
      break;
    case KEFU_SL_DENOMINATOR_OFFERED_MINUS_SHORT:
      denominator = (double) (metrics->offered - metrics->short_abandoned);
      break;
    default:
      g_return_val_if_reached (NAN);
    }

  return ratio ((double) metrics->answered_within, denominator);
}

double
kefu_metrics_asa (const KefuMetrics *metrics)
{
  g_return_val_if_fail (metrics != NULL, NAN);

  return ratio (metrics->answered_wait_s, (double) metrics->answered);
}

double
kefu_metrics_aht (const KefuMetrics *metrics)
{
  g_return_val_if_fail (metrics != NULL, NAN);

  return ratio (metrics->talk_s + metrics->hold_s + metrics->wrapup_s,
                (double) metrics->answered);
}

double
kefu_metrics_abandonment_rate (const KefuMetrics *metrics)
{
  g_return_val_if_fail (metrics != NULL, NAN);

  return ratio ((double) metrics->abandoned,
                (double) (metrics->offered - metrics->short_abandoned));
}

double
kefu_metrics_occupancy (const KefuMetrics *metrics)
{
  g_return_val_if_fail (metrics != NULL, NAN);

  return ratio (metrics->busy_s, metrics->staffed_s);
}

void
kefu_metrics_build_json (const KefuMetrics       *metrics,
                         const KefuMetricsConfig *config,
                         JsonBuilder             *builder)
{
  double answered;

  g_return_if_fail (metrics != NULL);
  g_return_if_fail (config != NULL);
  g_return_if_fail (JSON_IS_BUILDER (builder));

  answered = (double) metrics->answered;

  add_count_member (builder, "offered", metrics->offered);
  add_count_member (builder, "answered", metrics->answered);
  add_count_member (builder, "abandoned", metrics->abandoned);
  add_count_member (builder, "short_abandoned", metrics->short_abandoned);
  add_count_member (builder, "other", metrics->other);
  add_count_member (builder, "overflowed", metrics->overflowed);
  add_count_member (builder, "answered_within", metrics->answered_within);

  add_ratio_member (builder, "service_level", kefu_metrics_service_level (metrics, config));
  add_ratio_member (builder, "asa", kefu_metrics_asa (metrics));
  add_ratio_member (builder, "aht", kefu_metrics_aht (metrics));
  add_ratio_member (builder, "abandonment_rate", kefu_metrics_abandonment_rate (metrics));
  add_ratio_member (builder, "occupancy", kefu_metrics_occupancy (metrics));
  add_ratio_member (builder, "avg_talk", ratio (metrics->talk_s, answered));
  add_ratio_member (builder, "avg_hold", ratio (metrics->hold_s, answered));
  add_ratio_member (builder, "avg_wrapup", ratio (metrics->wrapup_s, answered));
}
