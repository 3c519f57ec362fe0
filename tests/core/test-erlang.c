/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "TestErlang"

#include "config.h"

#include "kefu-erlang.h"

#include <glib.h>
#include <math.h>

/* The worked example team leads meet in every staffing course: 360 calls
 * in half an hour, 4 minutes each. */
#define EXAMPLE_CALLS      360.0
#define EXAMPLE_INTERVAL_S 1800.0
#define EXAMPLE_AHT_S      240.0
#define EXAMPLE_TRAFFIC    48.0

/*
 * Erlang B computed a second, independent way: the Poisson terms
 * A^k / k! in log space, normalised with log-sum-exp.  Slow and only for
 * checking, but it shares no code path with the recursion under test.
 */
static double
reference_erlang_b (guint  servers,
                    double traffic)
{
  double log_term_max = -INFINITY;
  double sum = 0.0;

  for (guint k = 0; k <= servers; k++)
    log_term_max = MAX (log_term_max, k * log (traffic) - lgamma (k + 1.0));

  for (guint k = 0; k <= servers; k++)
    sum += exp (k * log (traffic) - lgamma (k + 1.0) - log_term_max);

  return exp (servers * log (traffic) - lgamma (servers + 1.0) - log_term_max) / sum;
}

static void
test_erlang_traffic (void)
{
  g_assert_cmpfloat_with_epsilon (kefu_erlang_traffic (EXAMPLE_CALLS, EXAMPLE_INTERVAL_S,
                                                       EXAMPLE_AHT_S),
                                  EXAMPLE_TRAFFIC, 1e-12);
  g_assert_cmpfloat (kefu_erlang_traffic (0.0, 3600.0, 180.0), ==, 0.0);
  /* 100 calls of 3 minutes in an hour keep 5 lines busy on average */
  g_assert_cmpfloat_with_epsilon (kefu_erlang_traffic (100.0, 3600.0, 180.0), 5.0, 1e-12);
}

static void
test_erlang_b_textbook (void)
{
  /* the value every Erlang B table prints for 10 lines, 5 erlangs */
  g_assert_cmpfloat_with_epsilon (kefu_erlang_b (10, 5.0), 0.01838, 5e-6);

  /* no lines: every call is blocked; one line: A / (1 + A) */
  g_assert_cmpfloat (kefu_erlang_b (0, 5.0), ==, 1.0);
  g_assert_cmpfloat_with_epsilon (kefu_erlang_b (1, 5.0), 5.0 / 6.0, 1e-15);

  g_assert_cmpfloat_with_epsilon (kefu_erlang_b (10, 5.0), reference_erlang_b (10, 5.0), 1e-12);
  g_assert_cmpfloat_with_epsilon (kefu_erlang_b (55, EXAMPLE_TRAFFIC),
                                  reference_erlang_b (55, EXAMPLE_TRAFFIC), 1e-12);
}

static void
test_erlang_c_example (void)
{
  g_assert_cmpfloat_with_epsilon (kefu_erlang_c (55, EXAMPLE_TRAFFIC), 0.2387, 5e-5);
  g_assert_cmpfloat_with_epsilon (kefu_erlang_service_level (55, EXAMPLE_TRAFFIC,
                                                             EXAMPLE_AHT_S, 15.0),
                                  0.846, 5e-4);
  g_assert_cmpfloat_with_epsilon (kefu_erlang_asa (55, EXAMPLE_TRAFFIC, EXAMPLE_AHT_S),
                                  8.18, 5e-3);
  g_assert_cmpfloat_with_epsilon (kefu_erlang_occupancy (55, EXAMPLE_TRAFFIC), 0.873, 5e-4);

  /* a zero target means "answered at once": exactly the callers who do not wait */
  g_assert_cmpfloat_with_epsilon (kefu_erlang_service_level (55, EXAMPLE_TRAFFIC,
                                                             EXAMPLE_AHT_S, 0.0),
                                  1.0 - kefu_erlang_c (55, EXAMPLE_TRAFFIC), 1e-15);
}

static void
test_erlang_agents_needed_80_20 (void)
{
  double traffic = kefu_erlang_traffic (EXAMPLE_CALLS, EXAMPLE_INTERVAL_S, EXAMPLE_AHT_S);
  guint  agents = kefu_erlang_agents_needed (traffic, EXAMPLE_AHT_S, 0.80, 20.0);

  g_assert_cmpuint (agents, ==, 54);

  /* and 54 is the fewest: one agent fewer misses the target */
  g_assert_cmpfloat (kefu_erlang_service_level (54, traffic, EXAMPLE_AHT_S, 20.0), >=, 0.80);
  g_assert_cmpfloat (kefu_erlang_service_level (53, traffic, EXAMPLE_AHT_S, 20.0), <, 0.80);

  /* asking for nothing still needs more agents than the load */
  g_assert_cmpuint (kefu_erlang_agents_needed (traffic, EXAMPLE_AHT_S, 0.0, 20.0), ==, 49);
  g_assert_cmpuint (kefu_erlang_agents_needed (47.5, EXAMPLE_AHT_S, 0.0, 20.0), ==, 48);
  g_assert_cmpuint (kefu_erlang_agents_needed (1.0, EXAMPLE_AHT_S, 0.0, 20.0), ==, 2);
  g_assert_cmpuint (kefu_erlang_agents_needed (2.0, EXAMPLE_AHT_S, 0.0, 20.0), ==, 3);
}

static void
test_erlang_zero_traffic (void)
{
  g_assert_cmpfloat (kefu_erlang_b (5, 0.0), ==, 0.0);
  g_assert_cmpfloat (kefu_erlang_c (5, 0.0), ==, 0.0);
  g_assert_cmpfloat (kefu_erlang_service_level (5, 0.0, EXAMPLE_AHT_S, 20.0), ==, 1.0);
  g_assert_cmpfloat (kefu_erlang_asa (5, 0.0, EXAMPLE_AHT_S), ==, 0.0);
  g_assert_cmpfloat (kefu_erlang_occupancy (5, 0.0), ==, 0.0);
  g_assert_cmpuint (kefu_erlang_agents_needed (0.0, EXAMPLE_AHT_S, 0.8, 20.0), ==, 0);
  g_assert_cmpuint (kefu_erlang_agents_needed (0.0, EXAMPLE_AHT_S, 1.0, 0.0), ==, 0);

  /* nobody staffed and nobody calling: occupancy is 0/0, not a number */
  g_assert_true (isnan (kefu_erlang_occupancy (0, 0.0)));
}

static void
test_erlang_overloaded (void)
{
  /* as many agents as erlangs, or fewer: the queue grows without end */
  const guint agents[] = { 0, 1, 47, 48 };

  for (gsize i = 0; i < G_N_ELEMENTS (agents); i++)
    {
      g_test_message ("%u agents, %g erlangs", agents[i], EXAMPLE_TRAFFIC);
      g_assert_cmpfloat (kefu_erlang_c (agents[i], EXAMPLE_TRAFFIC), ==, 1.0);
      g_assert_cmpfloat (kefu_erlang_service_level (agents[i], EXAMPLE_TRAFFIC,
                                                    EXAMPLE_AHT_S, 20.0),
                         ==, 0.0);
      g_assert_true (isinf (kefu_erlang_asa (agents[i], EXAMPLE_TRAFFIC, EXAMPLE_AHT_S)));
      g_assert_cmpfloat (kefu_erlang_asa (agents[i], EXAMPLE_TRAFFIC, EXAMPLE_AHT_S), >, 0.0);
      g_assert_cmpfloat (kefu_erlang_occupancy (agents[i], EXAMPLE_TRAFFIC), ==, 1.0);
    }

  /* one agent above the load drains the queue, however slowly */
  g_assert_cmpfloat (kefu_erlang_c (49, EXAMPLE_TRAFFIC), <, 1.0);
  g_assert_true (isfinite (kefu_erlang_asa (49, EXAMPLE_TRAFFIC, EXAMPLE_AHT_S)));
}

static void
test_erlang_large (void)
{
  /* a national utility's peak: 2000 erlangs on 3-minute calls */
  double traffic = 2000.0;
  double aht_s = 180.0;
  guint  agents = kefu_erlang_agents_needed (traffic, aht_s, 0.80, 20.0);
  double sl = kefu_erlang_service_level (agents, traffic, aht_s, 20.0);
  double asa = kefu_erlang_asa (agents, traffic, aht_s);

  g_test_message ("2000 erlangs need %u agents for 80/20 (SL %.4f, ASA %.2f s)", agents, sl,
                  asa);

  g_assert_cmpuint (agents, >, 2000);
  /* economies of scale: a pool this size runs with only a few percent slack */
  g_assert_cmpuint (agents, <, 2100);
  g_assert_true (isfinite (sl));
  g_assert_true (isfinite (asa));
  g_assert_cmpfloat (sl, >=, 0.80);
  g_assert_cmpfloat (kefu_erlang_service_level (agents - 1, traffic, aht_s, 20.0), <, 0.80);
  g_assert_cmpfloat (asa, >, 0.0);

  /* the recursion agrees with the log-space sum where a factorial form
   * would long since have overflowed (2000! is about 10^5735) */
  g_assert_cmpfloat_with_epsilon (kefu_erlang_b (agents, traffic),
                                  reference_erlang_b (agents, traffic), 1e-12);

  /* many more agents than load: B underflows to zero rather than going NaN */
  g_assert_cmpfloat (kefu_erlang_b (20000, traffic), >=, 0.0);
  g_assert_cmpfloat (kefu_erlang_c (20000, traffic), >=, 0.0);
  g_assert_cmpfloat_with_epsilon (kefu_erlang_service_level (20000, traffic, aht_s, 20.0),
                                  1.0, 1e-12);

  /* and bigger still, with a strict target */
  agents = kefu_erlang_agents_needed (50000.0, aht_s, 0.95, 10.0);
  g_assert_cmpuint (agents, >, 50000);
  g_assert_cmpuint (agents, <, 51000);
  g_assert_cmpfloat (kefu_erlang_service_level (agents, 50000.0, aht_s, 10.0), >=, 0.95);
}

static void
test_erlang_monotonic (void)
{
  double previous_c = 1.0;
  double previous_sl = 0.0;
  double previous_asa = INFINITY;
  guint  previous_needed = 0;

  /* each extra agent shortens the wait */
  for (guint agents = 49; agents <= 75; agents++)
    {
      double c = kefu_erlang_c (agents, EXAMPLE_TRAFFIC);
      double sl = kefu_erlang_service_level (agents, EXAMPLE_TRAFFIC, EXAMPLE_AHT_S, 20.0);
      double asa = kefu_erlang_asa (agents, EXAMPLE_TRAFFIC, EXAMPLE_AHT_S);

      g_assert_cmpfloat (c, <, previous_c);
      g_assert_cmpfloat (sl, >, previous_sl);
      g_assert_cmpfloat (asa, <, previous_asa);
      previous_c = c;
      previous_sl = sl;
      previous_asa = asa;
    }

  /* a stricter target never needs fewer agents */
  for (double target = 0.5; target <= 0.99; target += 0.01)
    {
      guint needed = kefu_erlang_agents_needed (EXAMPLE_TRAFFIC, EXAMPLE_AHT_S, target, 20.0);

      g_assert_cmpuint (needed, >=, previous_needed);
      previous_needed = needed;
    }

  /* nor does a busier queue */
  previous_needed = 0;
  for (double traffic = 1.0; traffic <= 200.0; traffic += 7.5)
    {
      guint needed = kefu_erlang_agents_needed (traffic, EXAMPLE_AHT_S, 0.8, 20.0);

      g_assert_cmpuint (needed, >, previous_needed);
      previous_needed = needed;
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/erlang/traffic", test_erlang_traffic);
  g_test_add_func ("/erlang/b-textbook", test_erlang_b_textbook);
  g_test_add_func ("/erlang/c-example", test_erlang_c_example);
  g_test_add_func ("/erlang/agents-needed-80-20", test_erlang_agents_needed_80_20);
  g_test_add_func ("/erlang/zero-traffic", test_erlang_zero_traffic);
  g_test_add_func ("/erlang/overloaded", test_erlang_overloaded);
  g_test_add_func ("/erlang/large", test_erlang_large);
  g_test_add_func ("/erlang/monotonic", test_erlang_monotonic);

  return g_test_run ();
}
