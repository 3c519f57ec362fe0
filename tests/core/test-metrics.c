/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "TestMetrics"

#include "config.h"

#include "kefu-metrics.h"

#include <glib.h>
#include <json-glib/json-glib.h>
#include <math.h>

#define EPSILON 1e-12

/*
 * A morning on the billing queue, small enough to check by hand, with the
 * default 20 s service-level threshold and 5 s short-abandon window:
 *
 *   answered   wait 10   talk 100  hold 20  wrap-up 30   within 20 s
 *   answered   wait 20   talk 200  hold  0  wrap-up 40   within (boundary)
 *   answered   wait 25   talk 150  hold 10  wrap-up 20   too late
 *   answered   wait  0   talk  50  hold  0  wrap-up 10   within
 *   abandoned  wait  4.9                                 short
 *   abandoned  wait  5                                   abandoned (boundary)
 *   abandoned  wait 60                                   abandoned
 *   other      wait 30                                   overflowed
 *
 * offered 8, answered 4, answered within 3, short 1, abandoned 2, other 1
 * (overflowed 1)
 * service level: 3/4 | 3/(4+2) | 3/(8-1)
 * ASA 55/4, AHT (500+30+100)/4, abandonment rate 2/(8-1)
 * agent time: 7200 s staffed, 4500 s busy -> occupancy 0.625
 */
static const KefuCallSample morning_calls[] = {
  { KEFU_CALL_OUTCOME_ANSWERED, 10.0, 100.0, 20.0, 30.0 },
  { KEFU_CALL_OUTCOME_ANSWERED, 20.0, 200.0, 0.0, 40.0 },
  { KEFU_CALL_OUTCOME_ANSWERED, 25.0, 150.0, 10.0, 20.0 },
  { KEFU_CALL_OUTCOME_ANSWERED, 0.0, 50.0, 0.0, 10.0 },
  { KEFU_CALL_OUTCOME_ABANDONED, 4.9, 0.0, 0.0, 0.0 },
  { KEFU_CALL_OUTCOME_ABANDONED, 5.0, 0.0, 0.0, 0.0 },
  { KEFU_CALL_OUTCOME_ABANDONED, 60.0, 0.0, 0.0, 0.0 },
  { KEFU_CALL_OUTCOME_OTHER, 30.0, 0.0, 0.0, 0.0, TRUE },
};

static void
add_morning (KefuMetrics             *metrics,
             const KefuMetricsConfig *config,
             gsize                    first,
             gsize                    last)
{
  for (gsize i = first; i < last; i++)
    kefu_metrics_add_call (metrics, config, &morning_calls[i]);
}

static void
add_morning_agents (KefuMetrics *metrics)
{
  kefu_metrics_add_agent_time (metrics, 3600.0, 2700.0);
  kefu_metrics_add_agent_time (metrics, 3600.0, 1800.0);
}

static void
assert_metrics_equal (const KefuMetrics *a,
                      const KefuMetrics *b)
{
  g_assert_cmpuint (a->offered, ==, b->offered);
  g_assert_cmpuint (a->answered, ==, b->answered);
  g_assert_cmpuint (a->abandoned, ==, b->abandoned);
  g_assert_cmpuint (a->short_abandoned, ==, b->short_abandoned);
  g_assert_cmpuint (a->other, ==, b->other);
  g_assert_cmpuint (a->overflowed, ==, b->overflowed);
  g_assert_cmpuint (a->answered_within, ==, b->answered_within);
  g_assert_cmpfloat_with_epsilon (a->answered_wait_s, b->answered_wait_s, 1e-9);
  g_assert_cmpfloat_with_epsilon (a->abandoned_wait_s, b->abandoned_wait_s, 1e-9);
  g_assert_cmpfloat_with_epsilon (a->talk_s, b->talk_s, 1e-9);
  g_assert_cmpfloat_with_epsilon (a->hold_s, b->hold_s, 1e-9);
  g_assert_cmpfloat_with_epsilon (a->wrapup_s, b->wrapup_s, 1e-9);
  g_assert_cmpfloat_with_epsilon (a->staffed_s, b->staffed_s, 1e-9);
  g_assert_cmpfloat_with_epsilon (a->busy_s, b->busy_s, 1e-9);
}

static void
test_metrics_config_defaults (void)
{
  KefuMetricsConfig config;

  kefu_metrics_config_init (&config);

  g_assert_cmpfloat (config.sl_threshold_s, ==, 20.0);
  g_assert_cmpfloat (config.short_abandon_s, ==, 5.0);
  g_assert_cmpint (config.denominator, ==, KEFU_SL_DENOMINATOR_OFFERED_MINUS_SHORT);
}

static void
test_metrics_counts (void)
{
  KefuMetricsConfig config;
  KefuMetrics       metrics;

  kefu_metrics_config_init (&config);
  kefu_metrics_init (&metrics);
  add_morning (&metrics, &config, 0, G_N_ELEMENTS (morning_calls));
  add_morning_agents (&metrics);

  g_assert_cmpuint (metrics.offered, ==, 8);
  g_assert_cmpuint (metrics.answered, ==, 4);
  g_assert_cmpuint (metrics.answered_within, ==, 3);
  g_assert_cmpuint (metrics.short_abandoned, ==, 1);
  g_assert_cmpuint (metrics.abandoned, ==, 2);
  g_assert_cmpuint (metrics.other, ==, 1);
  g_assert_cmpuint (metrics.overflowed, ==, 1);
  g_assert_cmpfloat_with_epsilon (metrics.abandoned_wait_s, 65.0, EPSILON);

  g_assert_cmpfloat_with_epsilon (kefu_metrics_asa (&metrics), 13.75, EPSILON);
  g_assert_cmpfloat_with_epsilon (kefu_metrics_aht (&metrics), 157.5, EPSILON);
  g_assert_cmpfloat_with_epsilon (kefu_metrics_abandonment_rate (&metrics), 2.0 / 7.0, EPSILON);
  g_assert_cmpfloat_with_epsilon (kefu_metrics_occupancy (&metrics), 0.625, EPSILON);
}

static void
test_metrics_service_level_denominators (void)
{
  KefuMetricsConfig config;
  KefuMetrics       metrics;

  kefu_metrics_config_init (&config);
  kefu_metrics_init (&metrics);
  add_morning (&metrics, &config, 0, G_N_ELEMENTS (morning_calls));

  config.denominator = KEFU_SL_DENOMINATOR_ANSWERED;
  g_assert_cmpfloat_with_epsilon (kefu_metrics_service_level (&metrics, &config), 0.75, EPSILON);

  config.denominator = KEFU_SL_DENOMINATOR_ANSWERED_ABANDONED;
  g_assert_cmpfloat_with_epsilon (kefu_metrics_service_level (&metrics, &config), 0.5, EPSILON);

  config.denominator = KEFU_SL_DENOMINATOR_OFFERED_MINUS_SHORT;
  g_assert_cmpfloat_with_epsilon (kefu_metrics_service_level (&metrics, &config), 3.0 / 7.0,
                                  EPSILON);
}

static void
test_metrics_sl_threshold_boundary (void)
{
  KefuMetricsConfig    config;
  KefuMetrics          metrics;
  const KefuCallSample on_time = { KEFU_CALL_OUTCOME_ANSWERED, 20.0, 60.0, 0.0, 0.0 };
  const KefuCallSample late = { KEFU_CALL_OUTCOME_ANSWERED, 20.001, 60.0, 0.0, 0.0 };

  kefu_metrics_config_init (&config);
  kefu_metrics_init (&metrics);

  /* "within 20 seconds" includes a call answered at exactly 20 s */
  kefu_metrics_add_call (&metrics, &config, &on_time);
  g_assert_cmpuint (metrics.answered_within, ==, 1);
  kefu_metrics_add_call (&metrics, &config, &late);
  g_assert_cmpuint (metrics.answered_within, ==, 1);
  g_assert_cmpuint (metrics.answered, ==, 2);
  g_assert_cmpfloat_with_epsilon (kefu_metrics_service_level (&metrics, &config), 0.5, EPSILON);
}

static void
test_metrics_short_abandon_boundary (void)
{
  KefuMetricsConfig    config;
  KefuMetrics          metrics;
  const KefuCallSample just_short = { KEFU_CALL_OUTCOME_ABANDONED, 4.999, 0.0, 0.0, 0.0 };
  const KefuCallSample at_window = { KEFU_CALL_OUTCOME_ABANDONED, 5.0, 0.0, 0.0, 0.0 };

  kefu_metrics_config_init (&config);
  kefu_metrics_init (&metrics);

  /* less than the window is a mis-dial; the full window is a lost caller */
  kefu_metrics_add_call (&metrics, &config, &just_short);
  g_assert_cmpuint (metrics.short_abandoned, ==, 1);
  g_assert_cmpuint (metrics.abandoned, ==, 0);
  g_assert_cmpfloat (metrics.abandoned_wait_s, ==, 0.0);

  /* only mis-dials so far: nothing to take a rate or service level of */
  g_assert_true (isnan (kefu_metrics_abandonment_rate (&metrics)));
  g_assert_true (isnan (kefu_metrics_service_level (&metrics, &config)));

  kefu_metrics_add_call (&metrics, &config, &at_window);
  g_assert_cmpuint (metrics.short_abandoned, ==, 1);
  g_assert_cmpuint (metrics.abandoned, ==, 1);
  g_assert_cmpuint (metrics.offered, ==, 2);
  g_assert_cmpfloat_with_epsilon (metrics.abandoned_wait_s, 5.0, EPSILON);
  g_assert_cmpfloat_with_epsilon (kefu_metrics_abandonment_rate (&metrics), 1.0, EPSILON);
  /* offered - short is 1, answered within is 0 */
  g_assert_cmpfloat (kefu_metrics_service_level (&metrics, &config), ==, 0.0);

  /* with the window switched off every abandon counts */
  config.short_abandon_s = 0.0;
  kefu_metrics_init (&metrics);
  kefu_metrics_add_call (&metrics, &config, &just_short);
  kefu_metrics_add_call (&metrics, &config, &at_window);
  g_assert_cmpuint (metrics.short_abandoned, ==, 0);
  g_assert_cmpuint (metrics.abandoned, ==, 2);
}

static void
test_metrics_undefined (void)
{
  KefuMetricsConfig    config;
  KefuMetrics          metrics;
  const KefuCallSample lost = { KEFU_CALL_OUTCOME_ABANDONED, 45.0, 0.0, 0.0, 0.0 };

  kefu_metrics_config_init (&config);
  kefu_metrics_init (&metrics);

  /* a queue nobody called: no figure at all, not zero */
  for (KefuSlDenominator d = KEFU_SL_DENOMINATOR_ANSWERED;
       d <= KEFU_SL_DENOMINATOR_OFFERED_MINUS_SHORT; d++)
    {
      config.denominator = d;
      g_assert_true (isnan (kefu_metrics_service_level (&metrics, &config)));
    }
  g_assert_true (isnan (kefu_metrics_asa (&metrics)));
  g_assert_true (isnan (kefu_metrics_aht (&metrics)));
  g_assert_true (isnan (kefu_metrics_abandonment_rate (&metrics)));
  g_assert_true (isnan (kefu_metrics_occupancy (&metrics)));

  /* one lost caller: nobody answered, so ASA and AHT stay undefined and
   * the answered-only service level too, but the others are a hard 0 */
  kefu_metrics_add_call (&metrics, &config, &lost);
  config.denominator = KEFU_SL_DENOMINATOR_ANSWERED;
  g_assert_true (isnan (kefu_metrics_service_level (&metrics, &config)));
  config.denominator = KEFU_SL_DENOMINATOR_ANSWERED_ABANDONED;
  g_assert_cmpfloat (kefu_metrics_service_level (&metrics, &config), ==, 0.0);
  config.denominator = KEFU_SL_DENOMINATOR_OFFERED_MINUS_SHORT;
  g_assert_cmpfloat (kefu_metrics_service_level (&metrics, &config), ==, 0.0);
  g_assert_true (isnan (kefu_metrics_asa (&metrics)));
  g_assert_true (isnan (kefu_metrics_aht (&metrics)));
  g_assert_cmpfloat (kefu_metrics_abandonment_rate (&metrics), ==, 1.0);
}

static void
test_metrics_merge (void)
{
  KefuMetricsConfig config;
  KefuMetrics       all, early, late, empty;

  kefu_metrics_config_init (&config);
  kefu_metrics_init (&all);
  kefu_metrics_init (&early);
  kefu_metrics_init (&late);
  kefu_metrics_init (&empty);

  add_morning (&all, &config, 0, G_N_ELEMENTS (morning_calls));
  add_morning_agents (&all);

  /* the live panel's two half-hours, folded into the report's hour */
  add_morning (&early, &config, 0, 3);
  kefu_metrics_add_agent_time (&early, 3600.0, 2700.0);
  add_morning (&late, &config, 3, G_N_ELEMENTS (morning_calls));
  kefu_metrics_add_agent_time (&late, 3600.0, 1800.0);

  kefu_metrics_merge (&early, &late);
  assert_metrics_equal (&early, &all);

  config.denominator = KEFU_SL_DENOMINATOR_ANSWERED_ABANDONED;
  g_assert_cmpfloat_with_epsilon (kefu_metrics_service_level (&early, &config),
                                  kefu_metrics_service_level (&all, &config), EPSILON);
  g_assert_cmpfloat_with_epsilon (kefu_metrics_asa (&early), kefu_metrics_asa (&all), EPSILON);
  g_assert_cmpfloat_with_epsilon (kefu_metrics_occupancy (&early),
                                  kefu_metrics_occupancy (&all), EPSILON);

  /* merging into or from an empty accumulator changes nothing */
  kefu_metrics_merge (&empty, &all);
  assert_metrics_equal (&empty, &all);
  kefu_metrics_merge (&all, &(KefuMetrics) { 0 });
  assert_metrics_equal (&empty, &all);
}

static JsonObject *
build_and_parse (const KefuMetrics       *metrics,
                 const KefuMetricsConfig *config,
                 JsonParser              *parser)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;

  /* as the queue panel and the report endpoints will: inside an object
   * that carries other members too */
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "queue");
  json_builder_add_string_value (builder, "billing");
  kefu_metrics_build_json (metrics, config, builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, NULL);
  g_test_message ("%s", text);

  /* round-trip through text, which is what a browser or report sees */
  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));

  return json_node_get_object (json_parser_get_root (parser));
}

static void
assert_member_double (JsonObject *object,
                      const char *name,
                      double      expected)
{
  JsonNode *node = json_object_get_member (object, name);

  g_assert_nonnull (node);
  g_assert_false (JSON_NODE_HOLDS_NULL (node));
  g_assert_cmpfloat_with_epsilon (json_node_get_double (node), expected, 1e-9);
}

static void
assert_member_null (JsonObject *object,
                    const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  g_assert_nonnull (node);
  g_assert_true (JSON_NODE_HOLDS_NULL (node));
}

static void
test_metrics_json (void)
{
  static const char * const counts[] = {
    "offered", "answered", "abandoned", "short_abandoned", "other", "overflowed",
    "answered_within",
  };
  static const char * const figures[] = {
    "service_level", "asa", "aht", "abandonment_rate", "occupancy",
    "avg_talk", "avg_hold", "avg_wrapup",
  };
  KefuMetricsConfig config;
  KefuMetrics       metrics;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *object;

  kefu_metrics_config_init (&config);
  kefu_metrics_init (&metrics);
  add_morning (&metrics, &config, 0, G_N_ELEMENTS (morning_calls));
  add_morning_agents (&metrics);

  object = build_and_parse (&metrics, &config, parser);

  g_assert_cmpuint (json_object_get_size (object), ==,
                    1 + G_N_ELEMENTS (counts) + G_N_ELEMENTS (figures));
  g_assert_cmpstr (json_object_get_string_member (object, "queue"), ==, "billing");
  g_assert_cmpint (json_object_get_int_member (object, "offered"), ==, 8);
  g_assert_cmpint (json_object_get_int_member (object, "answered"), ==, 4);
  g_assert_cmpint (json_object_get_int_member (object, "abandoned"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (object, "short_abandoned"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (object, "other"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (object, "overflowed"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (object, "answered_within"), ==, 3);
  assert_member_double (object, "service_level", 3.0 / 7.0);
  assert_member_double (object, "asa", 13.75);
  assert_member_double (object, "aht", 157.5);
  assert_member_double (object, "abandonment_rate", 2.0 / 7.0);
  assert_member_double (object, "occupancy", 0.625);
  assert_member_double (object, "avg_talk", 125.0);
  assert_member_double (object, "avg_hold", 7.5);
  assert_member_double (object, "avg_wrapup", 25.0);

  /* the configured denominator is the one the JSON reports */
  config.denominator = KEFU_SL_DENOMINATOR_ANSWERED;
  object = build_and_parse (&metrics, &config, parser);
  assert_member_double (object, "service_level", 0.75);

  /* an empty queue: counts are zero, every figure is null */
  kefu_metrics_init (&metrics);
  object = build_and_parse (&metrics, &config, parser);
  for (gsize i = 0; i < G_N_ELEMENTS (counts); i++)
    g_assert_cmpint (json_object_get_int_member (object, counts[i]), ==, 0);
  for (gsize i = 0; i < G_N_ELEMENTS (figures); i++)
    assert_member_null (object, figures[i]);
}

static void
test_metrics_denominator_strings (void)
{
  static const struct {
    const char        *text;
    KefuSlDenominator  denominator;
  } known[] = {
    { "answered", KEFU_SL_DENOMINATOR_ANSWERED },
    { "answered+abandoned", KEFU_SL_DENOMINATOR_ANSWERED_ABANDONED },
    { "offered-short", KEFU_SL_DENOMINATOR_OFFERED_MINUS_SHORT },
  };
  static const char * const unknown[] = {
    "", "Answered", "ANSWERED", "answered ", " answered", "answered+", "answered+abandoned+",
    "offered", "offered - short", "offered-short-abandoned", "abandoned", "0",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (known); i++)
    {
      KefuSlDenominator parsed = (KefuSlDenominator) -1;

      g_assert_true (kefu_sl_denominator_from_string (known[i].text, &parsed));
      g_assert_cmpint (parsed, ==, known[i].denominator);
      g_assert_cmpstr (kefu_sl_denominator_to_string (known[i].denominator), ==, known[i].text);
    }

  for (gsize i = 0; i < G_N_ELEMENTS (unknown); i++)
    {
      KefuSlDenominator parsed = KEFU_SL_DENOMINATOR_ANSWERED_ABANDONED;

      g_test_message ("rejecting \"%s\"", unknown[i]);
      g_assert_false (kefu_sl_denominator_from_string (unknown[i], &parsed));
      /* a rejected string leaves the caller's current setting alone */
      g_assert_cmpint (parsed, ==, KEFU_SL_DENOMINATOR_ANSWERED_ABANDONED);
    }

  g_assert_false (kefu_sl_denominator_from_string (NULL, NULL));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/metrics/config-defaults", test_metrics_config_defaults);
  g_test_add_func ("/metrics/counts", test_metrics_counts);
  g_test_add_func ("/metrics/service-level-denominators",
                   test_metrics_service_level_denominators);
  g_test_add_func ("/metrics/sl-threshold-boundary", test_metrics_sl_threshold_boundary);
  g_test_add_func ("/metrics/short-abandon-boundary", test_metrics_short_abandon_boundary);
  g_test_add_func ("/metrics/undefined", test_metrics_undefined);
  g_test_add_func ("/metrics/merge", test_metrics_merge);
  g_test_add_func ("/metrics/json", test_metrics_json);
  g_test_add_func ("/metrics/denominator-strings", test_metrics_denominator_strings);

  return g_test_run ();
}
