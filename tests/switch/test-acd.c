/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The ACD alone, on libre's loop, with a scripted driver that records
 * what the switch's core would have been asked to do: which phones ring,
 * which stop, what callers hear, which events kefu-server gets.  Timers
 * run for real at tens of milliseconds.
 */
#define G_LOG_DOMAIN "TestAcd"

#include "config.h"

#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

#define HAVE_INTTYPES_H 1
#define HAVE_STDBOOL_H 1
#define HAVE_INET6 1
#include <re.h>

#include "kefu-acd.h"

/* --- the scripted driver ---------------------------------------------------- */

typedef struct {
  GPtrArray  *offers;      /* "call:agent1,agent2" */
  GPtrArray  *cancels;     /* "call:agent" */
  GPtrArray  *announces;   /* "call:position:wait_s" */
  GPtrArray  *callbacks;   /* "call:queue" */
  GPtrArray  *not_ready;   /* "agent:reason" */
  GPtrArray  *events;      /* JsonObject, as kefu-server would get them */
  GHashTable *ringing;     /* agent -> call, as the driver sees it */
  gboolean    fail_offers;
} Script;

static Script script;

static void
script_reset (void)
{
  g_clear_pointer (&script.offers, g_ptr_array_unref);
  g_clear_pointer (&script.cancels, g_ptr_array_unref);
  g_clear_pointer (&script.announces, g_ptr_array_unref);
  g_clear_pointer (&script.callbacks, g_ptr_array_unref);
  g_clear_pointer (&script.not_ready, g_ptr_array_unref);
  g_clear_pointer (&script.events, g_ptr_array_unref);
  g_clear_pointer (&script.ringing, g_hash_table_unref);
  script.offers = g_ptr_array_new_with_free_func (g_free);
  script.cancels = g_ptr_array_new_with_free_func (g_free);
  script.announces = g_ptr_array_new_with_free_func (g_free);
  script.callbacks = g_ptr_array_new_with_free_func (g_free);
  script.not_ready = g_ptr_array_new_with_free_func (g_free);
  script.events = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  script.ringing = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  script.fail_offers = FALSE;
}

static int
on_offer (const struct kefu_acd_offer *offer,
          void                        *arg)
{
  g_autoptr(GString) line = g_string_new (offer->call_id);

  g_assert_cmpuint (offer->n_agents, >, 0);
  g_assert_cmpuint (offer->ring_timeout_ms, >, 0);
  for (size_t i = 0; i < offer->n_agents; i++)
    {
      /* The promise under test: never a second offer to a ringing phone. */
      if (g_hash_table_contains (script.ringing, offer->agents[i]))
        g_error ("agent %s offered %s while ringing for %s", offer->agents[i], offer->call_id,
                 (char *) g_hash_table_lookup (script.ringing, offer->agents[i]));
      g_string_append_c (line, i ? ',' : ':');
      g_string_append (line, offer->agents[i]);
    }
  g_ptr_array_add (script.offers, g_string_free (g_steal_pointer (&line), FALSE));
  if (script.fail_offers)
    return ENOENT;
  for (size_t i = 0; i < offer->n_agents; i++)
    g_hash_table_insert (script.ringing, g_strdup (offer->agents[i]), g_strdup (offer->call_id));
  return 0;
}

static void
on_cancel (const char *call_id,
           const char *agent,
           void       *arg)
{
  g_assert_cmpstr (g_hash_table_lookup (script.ringing, agent), ==, call_id);
  g_hash_table_remove (script.ringing, agent);
  g_ptr_array_add (script.cancels, g_strdup_printf ("%s:%s", call_id, agent));
}

static void
on_announce (const char *call_id,
             unsigned    position,
             unsigned    wait_s,
             void       *arg)
{
  g_ptr_array_add (script.announces, g_strdup_printf ("%s:%u:%u", call_id, position, wait_s));
}

static void
on_callback (const char *call_id,
             const char *queue,
             int64_t     customer_id,
             unsigned    wait_s,
             void       *arg)
{
  g_ptr_array_add (script.callbacks, g_strdup_printf ("%s:%s", call_id, queue));
}

static void
on_not_ready (const char *agent,
              const char *reason,
              void       *arg)
{
  g_ptr_array_add (script.not_ready, g_strdup_printf ("%s:%s", agent, reason));
}

static void
on_event (const struct kefu_acd_event *event,
          void                        *arg)
{
  g_assert_nonnull (event->type);
  g_assert_cmpint (event->ts_ms, >, 0);
  g_ptr_array_add (script.events, kefu_acd_event_to_json (event));
}

static const struct kefu_acd_driver driver = {
  .offer = on_offer,
  .cancel = on_cancel,
  .announce = on_announce,
  .callback = on_callback,
  .agent_not_ready = on_not_ready,
  .event = on_event,
};

/* --- helpers ------------------------------------------------------------------ */

static void
on_stop (void *arg)
{
  re_cancel ();
}

/* Lets libre's timers run for ms. */
static void
run_for (unsigned ms)
{
  struct tmr stop;

  tmr_init (&stop);
  tmr_start (&stop, ms, on_stop, NULL);
  g_assert_cmpint (re_main (NULL), ==, 0);
  tmr_cancel (&stop);
}

static struct kefu_acd *
new_acd (void)
{
  struct kefu_acd *acd = NULL;

  script_reset ();
  g_assert_cmpint (kefu_acd_alloc (&acd, &driver, NULL), ==, 0);
  return acd;
}

static void
check (struct kefu_acd *acd)
{
  char msg[256];

  if (kefu_acd_check (acd, msg, sizeof msg) != 0)
    g_error ("ACD invariant broken: %s", msg);
}

static void
add_queue (struct kefu_acd             *acd,
           struct kefu_acd_queue_conf   conf)
{
  g_assert_cmpint (kefu_acd_queue_set (acd, &conf), ==, 0);
}

/* skills: "sales:50,support:90" */
static void
add_agent (struct kefu_acd *acd,
           const char      *username,
           const char      *skills)
{
  g_auto(GStrv) parts = g_strsplit (skills, ",", -1);
  guint n = g_strv_length (parts);
  g_autofree struct kefu_acd_skill *list = g_new0 (struct kefu_acd_skill, n + 1);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *extension = g_strdup_printf ("ext-%s", username);

  for (guint i = 0; i < n; i++)
    {
      g_auto(GStrv) kv = g_strsplit (parts[i], ":", 2);

      g_ptr_array_add (names, g_strdup (kv[0]));
      list[i].queue = g_ptr_array_index (names, i);
      list[i].proficiency = kv[1] ? atoi (kv[1]) : 50;
    }
  g_assert_cmpint (kefu_acd_agent_set (acd, username, extension, list, n), ==, 0);
}

static void
available (struct kefu_acd *acd,
           const char      *username)
{
  g_assert_cmpint (kefu_acd_agent_presence (acd, username, KEFU_ACD_AVAILABLE, NULL), ==, 0);
}

static void
enqueue (struct kefu_acd *acd,
         const char      *queue,
         const char      *call_id,
         int              priority,
         const char      *skill)
{
  struct kefu_acd_call_info info = { .call_id = call_id, .priority = priority, .skill = skill };

  g_assert_cmpint (kefu_acd_enqueue (acd, queue, &info), ==, 0);
}

/* The driver's side of a result: the phone stops ringing. */
static void
result (struct kefu_acd               *acd,
        const char                    *call_id,
        const char                    *agent,
        enum kefu_acd_offer_result     res)
{
  g_assert_cmpstr (g_hash_table_lookup (script.ringing, agent), ==, call_id);
  g_hash_table_remove (script.ringing, agent);
  g_assert_cmpint (kefu_acd_offer_result (acd, call_id, agent, res), ==, 0);
}

static const char *
last_offer (void)
{
  g_assert_cmpuint (script.offers->len, >, 0);
  return g_ptr_array_index (script.offers, script.offers->len - 1);
}

static guint
count_strings (GPtrArray  *array,
               const char *text)
{
  guint n = 0;

  for (guint i = 0; i < array->len; i++)
    n += g_str_equal (g_ptr_array_index (array, i), text);
  return n;
}

/* The last event of type (for call and/or agent when given), or NULL. */
static JsonObject *
find_event (const char *type,
            const char *call_id,
            const char *agent)
{
  for (guint i = script.events->len; i-- > 0;)
    {
      JsonObject *event = g_ptr_array_index (script.events, i);

      if (!g_str_equal (json_object_get_string_member (event, "type"), type))
        continue;
      if (call_id && g_strcmp0 (json_object_get_string_member_with_default (event, "call_id", NULL),
                                call_id) != 0)
        continue;
      if (agent && g_strcmp0 (json_object_get_string_member_with_default (event, "agent", NULL),
                              agent) != 0)
        continue;
      return event;
    }
  return NULL;
}

static JsonObject *
event_data (JsonObject *event)
{
  g_assert_nonnull (event);
  return json_object_get_object_member (event, "data");
}

static const char *
agent_event_state (const char *agent)
{
  JsonObject *event = find_event ("agent.state", NULL, agent);

  return event ? json_object_get_string_member (event_data (event), "state") : NULL;
}

static enum kefu_acd_activity
activity (struct kefu_acd *acd,
          const char      *username)
{
  struct kefu_acd_agent_status status;

  g_assert_cmpint (kefu_acd_agent_status (acd, username, &status), ==, 0);
  return status.activity;
}

static void
finish (struct kefu_acd *acd)
{
  check (acd);
  mem_deref (acd);
  script_reset ();
}

#define Q(...) ((struct kefu_acd_queue_conf) { __VA_ARGS__ })

/* --- strategies ----------------------------------------------------------------- */

static void
test_longest_idle (void)
{
  struct kefu_acd *acd = new_acd ();

  add_queue (acd, Q (.name = "sales", .strategy = KEFU_ACD_LONGEST_IDLE));
  add_agent (acd, "ana", "sales");
  add_agent (acd, "bo", "sales");
  add_agent (acd, "chen", "sales");
  available (acd, "chen");
  run_for (5);
  available (acd, "ana");
  run_for (5);
  available (acd, "bo");

  enqueue (acd, "sales", "c1", 0, NULL);
  g_assert_cmpstr (last_offer (), ==, "c1:chen");
  enqueue (acd, "sales", "c2", 0, NULL);
  g_assert_cmpstr (last_offer (), ==, "c2:ana");
  check (acd);

  /* chen's offer goes unanswered: the call moves on to bo, and chen,
   * idle again, is now the one idle the shortest. */
  result (acd, "c1", "chen", KEFU_ACD_NO_ANSWER);
  g_assert_cmpstr (last_offer (), ==, "c1:bo");
  result (acd, "c2", "ana", KEFU_ACD_ANSWERED);
  result (acd, "c1", "bo", KEFU_ACD_ANSWERED);
  g_assert_cmpint (activity (acd, "chen"), ==, KEFU_ACD_IDLE);
  enqueue (acd, "sales", "c3", 0, NULL);
  g_assert_cmpstr (last_offer (), ==, "c3:chen");
  finish (acd);
}

static void
test_round_robin (void)
{
  struct kefu_acd *acd = new_acd ();
  const char *expected[] = { "ana", "bo", "chen", "ana", "bo" };

  add_queue (acd, Q (.name = "sales", .strategy = KEFU_ACD_ROUND_ROBIN));
  add_agent (acd, "bo", "sales");
  add_agent (acd, "chen", "sales");
  add_agent (acd, "ana", "sales");
  available (acd, "chen");
  available (acd, "bo");
  available (acd, "ana");

  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_autofree char *id = g_strdup_printf ("c%u", i);
      g_autofree char *want = g_strdup_printf ("c%u:%s", i, expected[i]);

      enqueue (acd, "sales", id, 0, NULL);
      g_assert_cmpstr (last_offer (), ==, want);
      result (acd, id, expected[i], KEFU_ACD_ANSWERED);
      g_assert_cmpint (kefu_acd_call_end (acd, id, 0), ==, 0);
      check (acd);
    }
  /* bo is away: the circle skips him and goes on to chen. */
  g_assert_cmpint (kefu_acd_agent_presence (acd, "chen", KEFU_ACD_NOT_READY, "Lunch"), ==, 0);
  enqueue (acd, "sales", "c9", 0, NULL);
  g_assert_cmpstr (last_offer (), ==, "c9:ana");
  finish (acd);
}

static void
test_fewest_calls (void)
{
  struct kefu_acd *acd = new_acd ();

  add_queue (acd, Q (.name = "sales", .strategy = KEFU_ACD_FEWEST_CALLS));
  add_queue (acd, Q (.name = "support", .strategy = KEFU_ACD_FEWEST_CALLS));
  add_agent (acd, "ana", "sales,support");
  add_agent (acd, "bo", "sales");
  add_agent (acd, "chen", "sales");

  /* ana takes two sales calls, bo one; chen none.  ana's support call
   * does not count for sales. */
  available (acd, "ana");
  for (int i = 0; i < 2; i++)
    {
      g_autofree char *id = g_strdup_printf ("a%d", i);

      enqueue (acd, "sales", id, 0, NULL);
      result (acd, id, "ana", KEFU_ACD_ANSWERED);
      kefu_acd_call_end (acd, id, 0);
    }
  available (acd, "bo");
  g_assert_cmpint (kefu_acd_agent_presence (acd, "ana", KEFU_ACD_NOT_READY, "Lunch"), ==, 0);
  enqueue (acd, "sales", "b0", 0, NULL);
  result (acd, "b0", "bo", KEFU_ACD_ANSWERED);
  kefu_acd_call_end (acd, "b0", 0);
  available (acd, "ana");
  for (int i = 0; i < 3; i++)
    {
      g_autofree char *id = g_strdup_printf ("s%d", i);

      enqueue (acd, "support", id, 0, NULL);
      result (acd, id, "ana", KEFU_ACD_ANSWERED);
      kefu_acd_call_end (acd, id, 0);
    }
  run_for (2);
  available (acd, "chen");   /* idle the shortest, but fewest calls */

  enqueue (acd, "sales", "c1", 0, NULL);
  g_assert_cmpstr (last_offer (), ==, "c1:chen");
  enqueue (acd, "sales", "c2", 0, NULL);
  g_assert_cmpstr (last_offer (), ==, "c2:bo");
  enqueue (acd, "sales", "c3", 0, NULL);
  g_assert_cmpstr (last_offer (), ==, "c3:ana");
  finish (acd);
}

static void
test_least_talk_time (void)
{
  struct kefu_acd *acd = new_acd ();

  add_queue (acd, Q (.name = "sales", .strategy = KEFU_ACD_LEAST_TALK_TIME));
  add_agent (acd, "ana", "sales");
  add_agent (acd, "bo", "sales");
  available (acd, "ana");
  available (acd, "bo");

  /* ana (first, by name) talks 40 ms, bo 10 ms: bo has the least. */
  enqueue (acd, "sales", "c1", 0, NULL);
  g_assert_cmpstr (last_offer (), ==, "c1:ana");
  enqueue (acd, "sales", "c2", 0, NULL);
  g_assert_cmpstr (last_offer (), ==, "c2:bo");
  result (acd, "c1", "ana", KEFU_ACD_ANSWERED);
  result (acd, "c2", "bo", KEFU_ACD_ANSWERED);
  run_for (10);
  kefu_acd_call_end (acd, "c2", 0);
  run_for (30);
  kefu_acd_call_end (acd, "c1", 0);

  enqueue (acd, "sales", "c3", 0, NULL);
  g_assert_cmpstr (last_offer (), ==, "c3:bo");
  result (acd, "c3", "bo", KEFU_ACD_ANSWERED);
  /* Hold is not talk: 60 ms on the line, 50 of them on hold. */
  run_for (60);
  kefu_acd_call_end (acd, "c3", 50);
  {
    JsonObject *data = event_data (find_event ("call.ended", "c3", "bo"));

    g_assert_cmpfloat (json_object_get_double_member (data, "hold_s"), ==, 0.05);
    g_assert_cmpfloat (json_object_get_double_member (data, "talk_s"), >=, 0.01);
    g_assert_cmpfloat (json_object_get_double_member (data, "talk_s"), <, 0.03);
  }
  enqueue (acd, "sales", "c4", 0, NULL);
  g_assert_cmpstr (last_offer (), ==, "c4:bo");
  finish (acd);
}

static void
test_skills_based (void)
{
  struct kefu_acd *acd = new_acd ();

  add_queue (acd, Q (.name = "support", .strategy = KEFU_ACD_SKILLS_BASED));
  add_agent (acd, "ana", "support:50,mandarin:80");
  add_agent (acd, "bo", "support:90");
  add_agent (acd, "chen", "support:90,mandarin:20");
  available (acd, "bo");
  run_for (3);
  available (acd, "chen");
  available (acd, "ana");

  /* 90 beats 50; between the two 90s, bo has been idle longer. */
  enqueue (acd, "support", "c1", 0, NULL);
  g_assert_cmpstr (last_offer (), ==, "c1:bo");
  /* A call that needs Mandarin: only ana and chen have it, ana better. */
  enqueue (acd, "support", "c2", 0, "mandarin");
  g_assert_cmpstr (last_offer (), ==, "c2:ana");
  /* The next Mandarin call can only be chen's... */
  enqueue (acd, "support", "c3", 0, "mandarin");
  g_assert_cmpstr (last_offer (), ==, "c3:chen");
  /* ...and one more waits: bo is free of skill, not of calls. */
  enqueue (acd, "support", "c4", 0, "mandarin");
  g_assert_cmpuint (script.offers->len, ==, 3);
  result (acd, "c1", "bo", KEFU_ACD_ANSWERED);
  kefu_acd_call_end (acd, "c1", 0);
  g_assert_cmpuint (script.offers->len, ==, 3);
  check (acd);
  finish (acd);
}

static void
test_ring_all (void)
{
  struct kefu_acd *acd = new_acd ();

  add_queue (acd, Q (.name = "sales", .strategy = KEFU_ACD_RING_ALL));
  add_agent (acd, "ana", "sales");
  add_agent (acd, "bo", "sales");
  add_agent (acd, "chen", "sales");
  add_agent (acd, "dai", "support");
  available (acd, "ana");
  available (acd, "bo");
  available (acd, "chen");
  available (acd, "dai");

  enqueue (acd, "sales", "c1", 0, NULL);
  g_assert_cmpstr (last_offer (), ==, "c1:ana,bo,chen");
  g_assert_nonnull (find_event ("call.ringing", "c1", "ana"));
  g_assert_nonnull (find_event ("call.ringing", "c1", "chen"));
  g_assert_cmpstr (agent_event_state ("bo"), ==, "ringing");
  check (acd);

  /* Everyone rings, so a second call waits for someone to come free. */
  enqueue (acd, "sales", "c2", 0, NULL);
  g_assert_cmpuint (script.offers->len, ==, 1);

  /* bo answers first: ana and chen stop ringing and c2 rings them. */
  result (acd, "c1", "bo", KEFU_ACD_ANSWERED);
  g_assert_cmpuint (count_strings (script.cancels, "c1:ana"), ==, 1);
  g_assert_cmpuint (count_strings (script.cancels, "c1:chen"), ==, 1);
  g_assert_cmpuint (script.cancels->len, ==, 2);
  g_assert_cmpstr (json_object_get_string_member (find_event ("call.answered", "c1", NULL), "agent"),
                   ==, "bo");
  g_assert_cmpstr (last_offer (), ==, "c2:ana,chen");
  g_assert_cmpint (kefu_acd_offer_result (acd, "c1", "ana", KEFU_ACD_ANSWERED), ==, ENOENT);
  check (acd);

  /* One rejects: the other keeps ringing; a no-answer does not cancel
   * anyone. */
  result (acd, "c2", "ana", KEFU_ACD_BUSY_REJECTED);
  {
    struct kefu_acd_call_status status;

    g_assert_cmpint (kefu_acd_call_status (acd, "c2", &status), ==, 0);
    g_assert_cmpint (status.state, ==, KEFU_ACD_CALL_RINGING);
  }
  result (acd, "c2", "chen", KEFU_ACD_ANSWERED);
  g_assert_cmpuint (script.cancels->len, ==, 2);
  finish (acd);
}

/* --- offers that go wrong ---------------------------------------------------------- */

static void
test_no_answer_then_not_ready (void)
{
  struct kefu_acd *acd = new_acd ();
  struct kefu_acd_agent_status status;

  add_queue (acd, Q (.name = "sales", .strategy = KEFU_ACD_LONGEST_IDLE, .ring_timeout_ms = 40,
                     .max_no_answer = 2));
  add_agent (acd, "ana", "sales");
  add_agent (acd, "bo", "sales");
  available (acd, "ana");
  run_for (3);
  available (acd, "bo");

  enqueue (acd, "sales", "c1", 0, NULL);
  g_assert_cmpstr (last_offer (), ==, "c1:ana");
  run_for (70);
  /* The ACD timed the ring: ana's phone stopped, bo's rings. */
  g_assert_cmpuint (count_strings (script.cancels, "c1:ana"), ==, 1);
  g_assert_cmpstr (last_offer (), ==, "c1:bo");
  g_assert_cmpint (kefu_acd_agent_status (acd, "ana", &status), ==, 0);
  g_assert_cmpuint (status.no_answer_count, ==, 1);
  g_assert_cmpint (status.presence, ==, KEFU_ACD_AVAILABLE);
  g_assert_cmpstr (agent_event_state ("ana"), ==, "available");
  result (acd, "c1", "bo", KEFU_ACD_ANSWERED);

  /* ana's second unanswered offer puts her in Not ready. */
  enqueue (acd, "sales", "c2", 0, NULL);
  g_assert_cmpstr (last_offer (), ==, "c2:ana");
  run_for (70);
  g_assert_cmpint (kefu_acd_agent_status (acd, "ana", &status), ==, 0);
  g_assert_cmpint (status.presence, ==, KEFU_ACD_NOT_READY);
  g_assert_cmpstr (status.reason, ==, "no answer");
  g_assert_cmpuint (script.not_ready->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (script.not_ready, 0), ==, "ana:no answer");
  {
    JsonObject *data = event_data (find_event ("agent.state", NULL, "ana"));

    g_assert_cmpstr (json_object_get_string_member (data, "state"), ==, "not_ready");
    g_assert_cmpstr (json_object_get_string_member (data, "reason"), ==, "no answer");
  }
  /* c2 waits (bo talks), and is not offered to ana again. */
  g_assert_cmpstr (last_offer (), ==, "c2:ana");
  run_for (50);
  g_assert_cmpstr (last_offer (), ==, "c2:ana");
  kefu_acd_call_end (acd, "c1", 0);
  g_assert_cmpstr (last_offer (), ==, "c2:bo");
  finish (acd);
}

static void
test_busy_rejected (void)
{
  struct kefu_acd *acd = new_acd ();
  struct kefu_acd_agent_status status;

  add_queue (acd, Q (.name = "sales", .strategy = KEFU_ACD_LONGEST_IDLE, .max_no_answer = 3,
                     .retry_ms = 30));
  add_agent (acd, "ana", "sales");
  add_agent (acd, "bo", "sales");
  available (acd, "ana");
  run_for (3);
  available (acd, "bo");

  /* Rejected at once: the next agent, without waiting for a timeout. */
  enqueue (acd, "sales", "c1", 0, NULL);
  result (acd, "c1", "ana", KEFU_ACD_BUSY_REJECTED);
  g_assert_cmpstr (last_offer (), ==, "c1:bo");
  result (acd, "c1", "bo", KEFU_ACD_BUSY_REJECTED);
  /* Both declined: nothing rings until the retry pause is over. */
  g_assert_cmpuint (script.offers->len, ==, 2);
  check (acd);
  run_for (60);
  g_assert_cmpuint (script.offers->len, ==, 3);
  g_assert_cmpstr (last_offer (), ==, "c1:ana");
  g_assert_cmpint (kefu_acd_agent_status (acd, "ana", &status), ==, 0);
  g_assert_cmpuint (status.no_answer_count, ==, 1);

  /* A phone that cannot be rung (the driver fails the offer) counts too. */
  result (acd, "c1", "ana", KEFU_ACD_ANSWERED);
  g_assert_cmpint (kefu_acd_agent_status (acd, "ana", &status), ==, 0);
  g_assert_cmpuint (status.no_answer_count, ==, 0);
  script.fail_offers = TRUE;
  enqueue (acd, "sales", "c2", 0, NULL);
  g_assert_cmpstr (last_offer (), ==, "c2:bo");
  g_assert_cmpint (kefu_acd_agent_status (acd, "bo", &status), ==, 0);
  g_assert_cmpuint (status.no_answer_count, ==, 2);
  g_assert_cmpint (activity (acd, "bo"), ==, KEFU_ACD_IDLE);
  check (acd);
  finish (acd);
}

/* --- waiting ------------------------------------------------------------------------- */

static void
test_abandoned (void)
{
  struct kefu_acd *acd = new_acd ();
  JsonObject *data;

  add_queue (acd, Q (.name = "sales", .strategy = KEFU_ACD_LONGEST_IDLE));
  add_agent (acd, "ana", "sales");

  enqueue (acd, "sales", "c1", 0, NULL);
  run_for (60);
  g_assert_cmpint (kefu_acd_abandon (acd, "c1"), ==, 0);
  data = event_data (find_event ("call.abandoned", "c1", NULL));
  g_assert_cmpfloat (json_object_get_double_member (data, "wait_s"), >=, 0.06);
  g_assert_cmpfloat (json_object_get_double_member (data, "wait_s"), <, 1.0);
  g_assert_cmpint (kefu_acd_abandon (acd, "c1"), ==, ENOENT);

  /* Hanging up while an agent's phone rings: the phone stops, and the
   * agent is free again. */
  available (acd, "ana");
  enqueue (acd, "sales", "c2", 0, NULL);
  g_assert_cmpstr (last_offer (), ==, "c2:ana");
  run_for (20);
  g_assert_cmpint (kefu_acd_abandon (acd, "c2"), ==, 0);
  g_assert_cmpuint (count_strings (script.cancels, "c2:ana"), ==, 1);
  g_assert_nonnull (find_event ("call.abandoned", "c2", NULL));
  g_assert_cmpint (activity (acd, "ana"), ==, KEFU_ACD_IDLE);
  g_assert_cmpstr (agent_event_state ("ana"), ==, "available");

  /* The core's "caller gone" for an offer is the same thing. */
  enqueue (acd, "sales", "c3", 0, NULL);
  result (acd, "c3", "ana", KEFU_ACD_CALLER_GONE);
  g_assert_nonnull (find_event ("call.abandoned", "c3", NULL));
  g_assert_cmpint (kefu_acd_call_status (acd, "c3", &(struct kefu_acd_call_status) { 0 }), ==,
                   ENOENT);
  finish (acd);
}

static void
test_overflow_to_queue (void)
{
  struct kefu_acd *acd = new_acd ();
  JsonObject *data;
  struct kefu_acd_call_status status;

  add_queue (acd, Q (.name = "sales", .strategy = KEFU_ACD_LONGEST_IDLE, .max_wait_ms = 50,
                     .overflow = KEFU_ACD_OVERFLOW_QUEUE, .overflow_queue = "general"));
  add_queue (acd, Q (.name = "general", .strategy = KEFU_ACD_LONGEST_IDLE));
  add_agent (acd, "ana", "general");

  enqueue (acd, "sales", "c1", 0, NULL);
  run_for (30);
  enqueue (acd, "general", "c2", 0, NULL);
  run_for (50);
  data = event_data (find_event ("call.overflow", "c1", NULL));
  g_assert_cmpstr (json_object_get_string_member (find_event ("call.overflow", "c1", NULL), "queue"),
                   ==, "sales");
  g_assert_cmpstr (json_object_get_string_member (data, "to_queue"), ==, "general");
  g_assert_true (json_object_get_boolean_member (data, "keeps_enqueue_time"));
  g_assert_cmpfloat (json_object_get_double_member (data, "wait_s"), >=, 0.05);
  data = event_data (find_event ("call.offered", "c1", NULL));
  g_assert_cmpstr (json_object_get_string_member (data, "overflow_from"), ==, "sales");
  g_assert_cmpint (kefu_acd_call_status (acd, "c1", &status), ==, 0);
  g_assert_cmpstr (status.queue, ==, "general");
  /* It entered first, so it is first in its new queue too. */
  g_assert_cmpuint (status.position, ==, 1);

  available (acd, "ana");
  g_assert_cmpstr (last_offer (), ==, "c1:ana");
  result (acd, "c1", "ana", KEFU_ACD_ANSWERED);
  data = event_data (find_event ("call.answered", "c1", NULL));
  g_assert_cmpfloat (json_object_get_double_member (data, "wait_s"), >=, 0.08);
  g_assert_cmpstr (json_object_get_string_member (find_event ("call.answered", "c1", NULL), "queue"),
                   ==, "general");

  /* A call ringing at its max wait finishes its ring first. */
  kefu_acd_call_end (acd, "c1", 0);
  g_assert_cmpstr (last_offer (), ==, "c2:ana");
  result (acd, "c2", "ana", KEFU_ACD_ANSWERED);
  kefu_acd_call_end (acd, "c2", 0);
  g_assert_cmpint (kefu_acd_queue_remove (acd, "general"), ==, 0);
  g_assert_cmpint (kefu_acd_enqueue (acd, "general", &(struct kefu_acd_call_info) { .call_id = "x" }),
                   ==, ENOENT);
  add_queue (acd, Q (.name = "general", .strategy = KEFU_ACD_LONGEST_IDLE));
  add_agent (acd, "ana", "general,sales");
  enqueue (acd, "sales", "c3", 0, NULL);
  g_assert_cmpstr (last_offer (), ==, "c3:ana");
  run_for (80);
  g_assert_null (find_event ("call.overflow", "c3", NULL));
  result (acd, "c3", "ana", KEFU_ACD_NO_ANSWER);
  g_assert_nonnull (find_event ("call.overflow", "c3", NULL));
  g_assert_cmpint (kefu_acd_call_status (acd, "c3", &status), ==, 0);
  g_assert_cmpstr (status.queue, ==, "general");
  finish (acd);
}

static void
test_overflow_to_callback (void)
{
  struct kefu_acd *acd = new_acd ();
  JsonObject *data;

  add_queue (acd, Q (.name = "support", .strategy = KEFU_ACD_LONGEST_IDLE, .max_wait_ms = 40,
                     .overflow = KEFU_ACD_OVERFLOW_CALLBACK));
  add_agent (acd, "ana", "support");

  enqueue (acd, "support", "c1", 0, NULL);
  run_for (70);
  g_assert_cmpuint (script.callbacks->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (script.callbacks, 0), ==, "c1:support");
  data = event_data (find_event ("call.callback", "c1", NULL));
  g_assert_cmpfloat (json_object_get_double_member (data, "wait_s"), >=, 0.04);
  g_assert_true (json_object_get_boolean_member (data, "overflow"));
  /* It has left the ACD: an agent coming free gets nothing. */
  g_assert_cmpint (kefu_acd_abandon (acd, "c1"), ==, ENOENT);
  available (acd, "ana");
  g_assert_cmpuint (script.offers->len, ==, 0);
  finish (acd);
}

static void
test_announcements (void)
{
  struct kefu_acd *acd = new_acd ();
  struct kefu_acd_queue_status qs;
  unsigned pos, wait_s;

  add_queue (acd, Q (.name = "sales", .strategy = KEFU_ACD_LONGEST_IDLE,
                     .announce_interval_ms = 60, .default_aht_ms = 60000));
  add_agent (acd, "ana", "sales");
  add_agent (acd, "bo", "sales");
  add_agent (acd, "chen", "sales");
  available (acd, "ana");
  available (acd, "bo");
  enqueue (acd, "sales", "t1", 0, NULL);
  enqueue (acd, "sales", "t2", 0, NULL);
  result (acd, "t1", "ana", KEFU_ACD_ANSWERED);
  result (acd, "t2", "bo", KEFU_ACD_ANSWERED);

  /* Three callers wait behind two busy agents (chen is not ready and
   * does not count): EWT = ceil(position * 60 s / 2). */
  enqueue (acd, "sales", "c1", 0, NULL);
  enqueue (acd, "sales", "c2", 0, NULL);
  enqueue (acd, "sales", "c3", 5, NULL);    /* a priority caller goes first */
  g_assert_cmpint (kefu_acd_queue_status (acd, "sales", &qs), ==, 0);
  g_assert_cmpuint (qs.waiting, ==, 3);
  g_assert_cmpuint (qs.staffed, ==, 2);
  g_assert_cmpuint (qs.members, ==, 3);
  g_assert_cmpuint (qs.aht_ms, ==, 60000);
  run_for (90);
  g_assert_cmpuint (script.announces->len, ==, 3);
  g_assert_cmpuint (count_strings (script.announces, "c3:1:30"), ==, 1);
  g_assert_cmpuint (count_strings (script.announces, "c1:2:60"), ==, 1);
  g_assert_cmpuint (count_strings (script.announces, "c2:3:90"), ==, 1);

  /* Every interval again, with what is true then. */
  g_assert_cmpint (kefu_acd_abandon (acd, "c3"), ==, 0);
  run_for (60);
  g_assert_cmpuint (count_strings (script.announces, "c1:1:30"), ==, 1);
  g_assert_cmpuint (count_strings (script.announces, "c2:2:60"), ==, 1);

  /* Handled calls replace the default AHT: 60 ms talk + 40 ms wrap-up
   * measured on t1 and t2 is about 0.1-0.3 s; with chen available, three
   * staffed agents. */
  kefu_acd_call_end (acd, "t1", 0);
  result (acd, "c1", "ana", KEFU_ACD_ANSWERED);
  kefu_acd_call_end (acd, "t2", 0);
  g_assert_cmpint (kefu_acd_queue_status (acd, "sales", &qs), ==, 0);
  g_assert_cmpuint (qs.aht_ms, <, 2000);
  g_assert_cmpuint (qs.aht_ms, >, 50);
  g_assert_cmpint (kefu_acd_estimate (acd, "c2", &pos, &wait_s), ==, 0);
  g_assert_cmpuint (pos, ==, 1);
  g_assert_cmpuint (wait_s, ==, 1);   /* ceil(1 * ~0.2 s / 2) */
  g_assert_cmpint (kefu_acd_estimate (acd, "t1", &pos, &wait_s), ==, ENOENT);
  finish (acd);
}

static void
test_wrapup_then_available (void)
{
  struct kefu_acd *acd = new_acd ();
  JsonObject *data;

  add_queue (acd, Q (.name = "sales", .strategy = KEFU_ACD_LONGEST_IDLE, .wrapup_ms = 60));
  add_agent (acd, "ana", "sales");
  available (acd, "ana");

  enqueue (acd, "sales", "c1", 0, NULL);
  result (acd, "c1", "ana", KEFU_ACD_ANSWERED);
  g_assert_cmpstr (agent_event_state ("ana"), ==, "talking");
  g_assert_cmpint (kefu_acd_call_end (acd, "c1", 0), ==, 0);
  g_assert_cmpint (kefu_acd_call_end (acd, "c1", 0), ==, ENOENT);
  g_assert_cmpstr (agent_event_state ("ana"), ==, "wrapup");
  g_assert_cmpint (activity (acd, "ana"), ==, KEFU_ACD_WRAPUP);

  /* A call arriving during wrap-up waits for it to end. */
  enqueue (acd, "sales", "c2", 0, NULL);
  g_assert_cmpuint (script.offers->len, ==, 1);
  run_for (30);
  g_assert_cmpuint (script.offers->len, ==, 1);
  run_for (60);
  data = event_data (find_event ("call.wrapup_ended", "c1", "ana"));
  g_assert_cmpfloat (json_object_get_double_member (data, "wrapup_s"), >=, 0.06);
  g_assert_cmpstr (last_offer (), ==, "c2:ana");

  /* Going Not ready during the call holds after wrap-up. */
  result (acd, "c2", "ana", KEFU_ACD_ANSWERED);
  g_assert_cmpint (kefu_acd_agent_state_text (acd, "ana", "not_ready", "Lunch"), ==, 0);
  /* kefu-server keeps seeing the call, not the wish. */
  g_assert_cmpstr (agent_event_state ("ana"), ==, "talking");
  kefu_acd_call_end (acd, "c2", 0);
  enqueue (acd, "sales", "c3", 0, NULL);
  run_for (90);
  g_assert_nonnull (find_event ("call.wrapup_ended", "c2", "ana"));
  g_assert_cmpstr (agent_event_state ("ana"), ==, "not_ready");
  g_assert_cmpstr (json_object_get_string_member (event_data (find_event ("agent.state", NULL, "ana")),
                                                  "reason"), ==, "Lunch");
  g_assert_cmpuint (script.offers->len, ==, 2);

  /* Available again: c3 rings. Then the agent ends wrap-up early from
   * the desktop, or holds it open. */
  g_assert_cmpint (kefu_acd_agent_state_text (acd, "ana", "available", NULL), ==, 0);
  g_assert_cmpstr (last_offer (), ==, "c3:ana");
  result (acd, "c3", "ana", KEFU_ACD_ANSWERED);
  kefu_acd_call_end (acd, "c3", 0);
  g_assert_cmpint (kefu_acd_agent_state_text (acd, "ana", "wrapup", NULL), ==, 0);
  run_for (90);
  g_assert_cmpint (activity (acd, "ana"), ==, KEFU_ACD_WRAPUP);
  check (acd);
  g_assert_cmpint (kefu_acd_agent_state_text (acd, "ana", "available", NULL), ==, 0);
  g_assert_cmpint (activity (acd, "ana"), ==, KEFU_ACD_IDLE);
  g_assert_nonnull (find_event ("call.wrapup_ended", "c3", "ana"));
  /* The switch's own states coming back change nothing. */
  g_assert_cmpint (kefu_acd_agent_state_text (acd, "ana", "talking", NULL), ==, 0);
  g_assert_cmpint (kefu_acd_agent_state_text (acd, "ana", "dancing", NULL), ==, EINVAL);
  g_assert_cmpint (activity (acd, "ana"), ==, KEFU_ACD_IDLE);
  finish (acd);
}

/* --- agents in several queues ------------------------------------------------------- */

static void
test_several_queues_order (void)
{
  struct kefu_acd *acd = new_acd ();
  const char *expected[] = { "s-urgent", "s-old", "v-new", "s-new", "sup-oldest" };

  add_queue (acd, Q (.name = "support", .strategy = KEFU_ACD_LONGEST_IDLE, .priority = 5));
  add_queue (acd, Q (.name = "sales", .strategy = KEFU_ACD_LONGEST_IDLE, .priority = 10));
  add_queue (acd, Q (.name = "vip", .strategy = KEFU_ACD_LONGEST_IDLE, .priority = 10));
  add_agent (acd, "ana", "support,sales,vip");

  enqueue (acd, "support", "sup-oldest", 0, NULL);   /* lower queue priority: last */
  run_for (3);
  enqueue (acd, "sales", "s-old", 0, NULL);
  run_for (3);
  enqueue (acd, "vip", "v-new", 0, NULL);
  run_for (3);
  enqueue (acd, "sales", "s-new", 0, NULL);
  enqueue (acd, "sales", "s-urgent", 7, NULL);      /* call priority first */
  available (acd, "ana");

  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_autofree char *want = g_strdup_printf ("%s:ana", expected[i]);

      g_assert_cmpstr (last_offer (), ==, want);
      result (acd, expected[i], "ana", KEFU_ACD_ANSWERED);
      g_assert_cmpint (kefu_acd_call_end (acd, expected[i], 0), ==, 0);
      check (acd);
    }
  g_assert_cmpuint (script.offers->len, ==, G_N_ELEMENTS (expected));
  finish (acd);
}

static void
test_one_call_per_agent (void)
{
  struct kefu_acd *acd = new_acd ();
  struct kefu_acd_queue_status qs;

  add_queue (acd, Q (.name = "sales", .strategy = KEFU_ACD_LONGEST_IDLE));
  add_queue (acd, Q (.name = "support", .strategy = KEFU_ACD_SKILLS_BASED));
  add_agent (acd, "ana", "sales,support");
  add_agent (acd, "bo", "sales,support");
  available (acd, "ana");
  available (acd, "bo");
  for (int i = 0; i < 6; i++)
    {
      g_autofree char *id = g_strdup_printf ("c%d", i);

      enqueue (acd, i % 2 ? "sales" : "support", id, 0, NULL);
    }
  /* Two agents, two offers; the driver fails the test on a double offer. */
  g_assert_cmpuint (script.offers->len, ==, 2);
  g_assert_cmpuint (g_hash_table_size (script.ringing), ==, 2);
  g_assert_cmpint (kefu_acd_queue_status (acd, "sales", &qs), ==, 0);
  g_assert_cmpuint (qs.waiting, ==, 3);
  g_assert_cmpuint (qs.idle, ==, 0);
  g_assert_cmpint (kefu_acd_enqueue (acd, "sales", &(struct kefu_acd_call_info) { .call_id = "c1" }),
                   ==, EEXIST);
  check (acd);
  finish (acd);
}

static void
test_bad_input (void)
{
  struct kefu_acd *acd = new_acd ();
  struct kefu_acd_skill bad = { "sales", 101 };
  enum kefu_acd_strategy strategy;

  g_assert_cmpint (kefu_acd_queue_set (acd, &Q (.name = "no spaces")), ==, EINVAL);
  g_assert_cmpint (kefu_acd_queue_set (acd, &Q (.name = "q", .priority = 101)), ==, EINVAL);
  g_assert_cmpint (kefu_acd_queue_set (acd, &Q (.name = "q", .overflow = KEFU_ACD_OVERFLOW_QUEUE)),
                   ==, EINVAL);
  g_assert_cmpint (kefu_acd_agent_set (acd, "ana", "1001", &bad, 1), ==, EINVAL);
  g_assert_cmpint (kefu_acd_agent_presence (acd, "nobody", KEFU_ACD_AVAILABLE, NULL), ==, ENOENT);
  g_assert_cmpint (kefu_acd_offer_result (acd, "c", "a", KEFU_ACD_ANSWERED), ==, ENOENT);
  g_assert_cmpint (kefu_acd_call_end (acd, "c", 0), ==, ENOENT);
  g_assert_cmpint (kefu_acd_strategy_from_name ("least-talk-time", &strategy), ==, 0);
  g_assert_cmpint (strategy, ==, KEFU_ACD_LEAST_TALK_TIME);
  g_assert_cmpstr (kefu_acd_strategy_name (KEFU_ACD_RING_ALL), ==, "ring-all");
  g_assert_cmpint (kefu_acd_strategy_from_name ("random", &strategy), ==, EINVAL);
  finish (acd);
}

/* --- fuzz ----------------------------------------------------------------------------- */

static void
test_fuzz (void)
{
  const char *seed_text = g_getenv ("KEFU_ACD_SEED");
  guint32 seed = seed_text ? (guint32) g_ascii_strtoull (seed_text, NULL, 10) : 20261126;
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  struct kefu_acd *acd = new_acd ();
  const char *queues[] = { "q0", "q1", "q2", "q3" };
  const char *agents[] = { "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7" };
  g_autoptr(GPtrArray) talking = g_ptr_array_new_with_free_func (g_free);
  guint next_call = 0;
  guint steps = 3000;

  g_test_message ("fuzz seed %u (KEFU_ACD_SEED=%u to repeat)", seed, seed);

  for (guint i = 0; i < G_N_ELEMENTS (queues); i++)
    add_queue (acd, Q (.name = queues[i], .strategy = (enum kefu_acd_strategy) (i + 1) % 6,
                       .priority = g_rand_int_range (rand, 0, 3), .ring_timeout_ms = 15,
                       .max_no_answer = 3, .wrapup_ms = i * 4, .retry_ms = 5,
                       .max_wait_ms = i == 3 ? 0 : 40 + 20 * i,
                       .overflow = i == 0 ? KEFU_ACD_OVERFLOW_QUEUE
                                 : i == 1 ? KEFU_ACD_OVERFLOW_CALLBACK : KEFU_ACD_OVERFLOW_NONE,
                       .overflow_queue = "q3", .announce_interval_ms = 7));
  for (guint i = 0; i < G_N_ELEMENTS (agents); i++)
    {
      g_autoptr(GString) skills = g_string_new (NULL);

      for (guint q = 0; q < G_N_ELEMENTS (queues); q++)
        if (g_rand_boolean (rand) || q == i % G_N_ELEMENTS (queues))
          g_string_append_printf (skills, "%s%s:%d", skills->len ? "," : "", queues[q],
                                  g_rand_int_range (rand, 1, 101));
      add_agent (acd, agents[i], skills->str);
    }

  for (guint step = 0; step < steps; step++)
    {
      int op = g_rand_int_range (rand, 0, 100);

      if (op < 25)
        {
          g_autofree char *id = g_strdup_printf ("f%u", next_call++);
          const char *skill = g_rand_int_range (rand, 0, 5) == 0
                              ? queues[g_rand_int_range (rand, 0, 4)] : NULL;

          enqueue (acd, queues[g_rand_int_range (rand, 0, 4)], id, g_rand_int_range (rand, 0, 3),
                   skill);
        }
      else if (op < 50 && g_hash_table_size (script.ringing))
        {
          g_autoptr(GList) keys = g_hash_table_get_keys (script.ringing);
          g_autofree char *agent = g_strdup (g_list_nth_data (keys, g_rand_int_range (rand, 0,
                                                               g_list_length (keys))));
          g_autofree char *call = g_strdup (g_hash_table_lookup (script.ringing, agent));
          int r = g_rand_int_range (rand, 0, 10);
          enum kefu_acd_offer_result res = r < 6 ? KEFU_ACD_ANSWERED
                                           : r < 8 ? KEFU_ACD_NO_ANSWER
                                           : r < 9 ? KEFU_ACD_BUSY_REJECTED : KEFU_ACD_CALLER_GONE;

          result (acd, call, agent, res);
          if (res == KEFU_ACD_ANSWERED)
            g_ptr_array_add (talking, g_steal_pointer (&call));
        }
      else if (op < 65 && talking->len)
        {
          guint i = g_rand_int_range (rand, 0, talking->len);

          g_assert_cmpint (kefu_acd_call_end (acd, g_ptr_array_index (talking, i),
                                              g_rand_int_range (rand, 0, 3)), ==, 0);
          g_ptr_array_remove_index_fast (talking, i);
        }
      else if (op < 72 && next_call)
        {
          /* A caller hangs up, waiting or ringing (or already gone). */
          g_autofree char *id = g_strdup_printf ("f%u", g_rand_int_range (rand, 0, next_call));
          struct kefu_acd_call_status status;

          if (kefu_acd_call_status (acd, id, &status) == 0 &&
              status.state != KEFU_ACD_CALL_TALKING)
            {
              GHashTableIter iter;
              gpointer key, value;

              g_assert_cmpint (kefu_acd_abandon (acd, id), ==, 0);
              g_hash_table_iter_init (&iter, script.ringing);
              while (g_hash_table_iter_next (&iter, &key, &value))
                g_assert_cmpstr (value, !=, id);
            }
        }
      else if (op < 74)
        {
          /* An administrator changes an agent's skills, or removes them
           * and adds them back. */
          const char *agent = agents[g_rand_int_range (rand, 0, G_N_ELEMENTS (agents))];
          g_autofree char *skills = g_strdup_printf ("%s:%d", queues[g_rand_int_range (rand, 0, 4)],
                                                     g_rand_int_range (rand, 1, 101));

          if (g_rand_boolean (rand))
            {
              g_assert_cmpint (kefu_acd_agent_remove (acd, agent), ==, 0);
              g_hash_table_remove (script.ringing, agent);
            }
          add_agent (acd, agent, skills);
        }
      else if (op < 90)
        {
          const char *agent = agents[g_rand_int_range (rand, 0, G_N_ELEMENTS (agents))];
          int p = g_rand_int_range (rand, 0, 6);

          g_assert_cmpint (kefu_acd_agent_presence (acd, agent,
                                                    p < 4 ? KEFU_ACD_AVAILABLE
                                                    : p < 5 ? KEFU_ACD_NOT_READY
                                                    : KEFU_ACD_LOGGED_OUT, "Break"), ==, 0);
        }
      else
        {
          run_for (g_rand_int_range (rand, 0, 12));
        }
      {
        char msg[256];

        if (kefu_acd_check (acd, msg, sizeof msg) != 0)
          g_error ("step %u (seed %u): %s", step, seed, msg);
      }
      /* What the driver saw ringing is what the ACD has ringing. */
      {
        GHashTableIter iter;
        gpointer key, value;

        g_hash_table_iter_init (&iter, script.ringing);
        while (g_hash_table_iter_next (&iter, &key, &value))
          {
            struct kefu_acd_agent_status status;

            g_assert_cmpint (kefu_acd_agent_status (acd, key, &status), ==, 0);
            g_assert_cmpint (status.activity, ==, KEFU_ACD_RINGING);
            g_assert_cmpstr (status.call_id, ==, value);
          }
      }
    }
  g_test_message ("%u calls, %u offers, %u events", next_call, script.offers->len,
                  script.events->len);
  /* Each call ends its wait once: answered, abandoned or sent to the
   * callback list, never two of them. */
  {
    g_autoptr(GHashTable) outcome = g_hash_table_new (g_str_hash, g_str_equal);

    for (guint i = 0; i < script.events->len; i++)
      {
        JsonObject *event = g_ptr_array_index (script.events, i);
        const char *type = json_object_get_string_member (event, "type");
        const char *call = json_object_get_string_member_with_default (event, "call_id", NULL);

        if (g_str_equal (type, "call.answered") || g_str_equal (type, "call.abandoned") ||
            g_str_equal (type, "call.callback"))
          {
            if (g_hash_table_contains (outcome, call))
              g_error ("call %s: %s after %s", call, type,
                       (char *) g_hash_table_lookup (outcome, call));
            g_hash_table_insert (outcome, (gpointer) call, (gpointer) type);
          }
      }
    g_assert_cmpuint (g_hash_table_size (outcome), >, next_call / 2);
  }
  g_assert_cmpuint (script.offers->len, >, 100);
  finish (acd);
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (libre_init (), ==, 0);
  script_reset ();

  g_test_add_func ("/acd/strategy/longest-idle", test_longest_idle);
  g_test_add_func ("/acd/strategy/round-robin", test_round_robin);
  g_test_add_func ("/acd/strategy/fewest-calls", test_fewest_calls);
  g_test_add_func ("/acd/strategy/least-talk-time", test_least_talk_time);
  g_test_add_func ("/acd/strategy/skills-based", test_skills_based);
  g_test_add_func ("/acd/strategy/ring-all", test_ring_all);
  g_test_add_func ("/acd/offer/no-answer-then-not-ready", test_no_answer_then_not_ready);
  g_test_add_func ("/acd/offer/busy-rejected", test_busy_rejected);
  g_test_add_func ("/acd/offer/one-call-per-agent", test_one_call_per_agent);
  g_test_add_func ("/acd/wait/abandoned", test_abandoned);
  g_test_add_func ("/acd/wait/overflow-to-queue", test_overflow_to_queue);
  g_test_add_func ("/acd/wait/overflow-to-callback", test_overflow_to_callback);
  g_test_add_func ("/acd/wait/announcements", test_announcements);
  g_test_add_func ("/acd/agent/wrapup-then-available", test_wrapup_then_available);
  g_test_add_func ("/acd/agent/several-queues-order", test_several_queues_order);
  g_test_add_func ("/acd/bad-input", test_bad_input);
  g_test_add_func ("/acd/fuzz", test_fuzz);

  ret = g_test_run ();
  script_reset ();
  g_clear_pointer (&script.offers, g_ptr_array_unref);
  g_clear_pointer (&script.cancels, g_ptr_array_unref);
  g_clear_pointer (&script.announces, g_ptr_array_unref);
  g_clear_pointer (&script.callbacks, g_ptr_array_unref);
  g_clear_pointer (&script.not_ready, g_ptr_array_unref);
  g_clear_pointer (&script.events, g_ptr_array_unref);
  g_clear_pointer (&script.ringing, g_hash_table_unref);
  libre_close ();
  return ret;
}
