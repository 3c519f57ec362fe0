/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuErlang"

#include "config.h"

#include "kefu-erlang.h"

#include <math.h>

/* Infinite or NaN traffic would turn every recursion step into NaN, and
 * negative traffic has no meaning; refuse both at the door. */
static inline gboolean
traffic_is_valid (double traffic)
{
  return isfinite (traffic) && traffic >= 0.0;
}

/*
 * One step of B(n) = A·B(n-1) / (n + A·B(n-1)).  Every step stays in
 * [0, 1], so unlike the textbook A^N / N! form nothing overflows however
 * many agents or erlangs the centre has.
 */
static inline double
erlang_b_step (double previous,
               guint  n,
               double traffic)
{
  double offered_blocked = traffic * previous;

  return offered_blocked / ((double) n + offered_blocked);
}

/* Only meaningful for agents > traffic; the callers check that first, so
 * the denominator is always greater than agents - traffic > 0. */
static inline double
erlang_c_from_b (guint  agents,
                 double traffic,
                 double blocking)
{
  double n = agents;

  return n * blocking / (n - traffic * (1.0 - blocking));
}

static inline double
service_level_from_c (guint  agents,
                      double traffic,
                      double waiting,
                      double aht_s,
                      double target_s)
{
  return 1.0 - waiting * exp (-((double) agents - traffic) * target_s / aht_s);
}

double
kefu_erlang_traffic (double calls,
                     double interval_s,
                     double aht_s)
{
  g_return_val_if_fail (calls >= 0.0, 0.0);
  g_return_val_if_fail (interval_s > 0.0, 0.0);
  g_return_val_if_fail (aht_s >= 0.0, 0.0);

  return calls * aht_s / interval_s;
}

double
kefu_erlang_b (guint  servers,
               double traffic)
{
  double blocking = 1.0;

  g_return_val_if_fail (traffic_is_valid (traffic), NAN);

  /* Counting with n < servers rather than n <= servers keeps the loop
   * finite for servers == G_MAXUINT. */
  for (guint n = 0; n < servers; n++)
    {
      blocking = erlang_b_step (blocking, n + 1, traffic);

      /* Once it underflows it stays zero; with a huge server count the
       * remaining steps would only burn time. */
      if (blocking == 0.0)
        break;
    }

  return blocking;
}

double
kefu_erlang_c (guint  agents,
               double traffic)
{
  g_return_val_if_fail (traffic_is_valid (traffic), NAN);

  if ((double) agents <= traffic)
    return 1.0;

  return erlang_c_from_b (agents, traffic, kefu_erlang_b (agents, traffic));
}

double
kefu_erlang_service_level (guint  agents,
                           double traffic,
                           double aht_s,
                           double target_s)
{
  g_return_val_if_fail (traffic_is_valid (traffic), NAN);
  g_return_val_if_fail (aht_s > 0.0, NAN);
  g_return_val_if_fail (target_s >= 0.0, NAN);

  if ((double) agents <= traffic)
    return 0.0;

  return service_level_from_c (agents, traffic, kefu_erlang_c (agents, traffic), aht_s, target_s);
}

double
kefu_erlang_asa (guint  agents,
                 double traffic,
                 double aht_s)
{
  g_return_val_if_fail (traffic_is_valid (traffic), NAN);
  g_return_val_if_fail (aht_s >= 0.0, NAN);

  if ((double) agents <= traffic)
    return INFINITY;

  return kefu_erlang_c (agents, traffic) * aht_s / ((double) agents - traffic);
}

double
kefu_erlang_occupancy (guint  agents,
                       double traffic)
{
  g_return_val_if_fail (traffic_is_valid (traffic), NAN);

  /* No agents and no calls is 0/0: undefined, like every other ratio
   * with a zero denominator in Kefu (see kefu-metrics.h).  No agents but
   * some calls is simply "everyone is flat out", the cap. */
  if (agents == 0)
    return traffic > 0.0 ? 1.0 : NAN;

  return MIN (traffic / (double) agents, 1.0);
}

guint
kefu_erlang_agents_needed (double traffic,
                           double aht_s,
                           double target_sl,
                           double target_s)
{
  guint  first;
  double blocking;

  g_return_val_if_fail (traffic_is_valid (traffic), 0);
  /* floor (traffic) + 1 must still fit in a guint */
  g_return_val_if_fail (traffic < (double) G_MAXUINT, 0);
  g_return_val_if_fail (aht_s > 0.0, 0);
  g_return_val_if_fail (target_sl >= 0.0 && target_sl <= 1.0, 0);
  g_return_val_if_fail (target_s >= 0.0, 0);

  if (traffic == 0.0)
    return 0;

  /* With agents <= traffic the queue never drains, so the search starts
   * at the first head count above the load.  B is carried forward one
   * step per extra agent instead of being recomputed from zero, which
   * keeps a search over thousands of agents linear.  The steps are the
   * ones kefu_erlang_b() takes, so the answer agrees exactly with
   * kefu_erlang_service_level() for the same head count. */
  first = (guint) floor (traffic) + 1;
  blocking = kefu_erlang_b (first, traffic);

  for (guint n = first;; n++)
    {
      double waiting;

      if (n > first)
        blocking = erlang_b_step (blocking, n, traffic);

      waiting = erlang_c_from_b (n, traffic, blocking);
      if (service_level_from_c (n, traffic, waiting, aht_s, target_s) >= target_sl)
        return n;

      /* Unreachable in practice: the service level reaches 1.0 in double
       * precision long before this. */
      if (n == G_MAXUINT)
        return G_MAXUINT;
    }
}
