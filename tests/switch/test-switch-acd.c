/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * kefu-switch's ACD with real agents: three kefu-phones registered with
 * digest auth, whose states and skills live in a real kefu-server, and
 * kefu-phone callers on trunks whose flows put them straight into one
 * queue each.  Each strategy must ring the agent it should; an agent who
 * does not answer is passed over and put Not ready at the server; a
 * caller who gives up is counted abandoned with the wait; a waiting
 * caller hears the position announcements; calls overflow to another
 * queue and to the callback list; an agent set Not ready in kefu-server
 * is not offered calls until Available again.
 *
 * One world (server, switch, agents' phones) serves every test; each
 * test leaves the agents idle and available.
 */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "kefu-test-peer.h"
#include "kefu-test-switch.h"
#include "kefu-test-wait.h"

#define CALLER_TONE 600.0
#define AGENT_TONE 1000.0
#define ANNOUNCE_TONE 1800.0

static KefuTestSwitch world;
static KefuTestPeer agents[3];
static const char *const names[] = { "a1", "a2", "a3" };

/* Each trunk's flow is one step into one queue. */
static const char sections[] =
  "[prompt music]\n"
  "wav = music.wav\n"
  "\n"
  "[prompt position]\n"
  "wav = announce.wav\n"
  "en = {position}\n"
  "\n"
  "[trunk t-ringall]\nallow = 127.0.0.2\nivr = to-ringall\n\n"
  "[trunk t-longest]\nallow = 127.0.0.3\nivr = to-longest\n\n"
  "[trunk t-rr]\nallow = 127.0.0.4\nivr = to-rr\n\n"
  "[trunk t-fewest]\nallow = 127.0.0.5\nivr = to-fewest\n\n"
  "[trunk t-least]\nallow = 127.0.0.6\nivr = to-least\n\n"
  "[trunk t-skills]\nallow = 127.0.0.7\nivr = to-skills\n\n"
  "[trunk t-na]\nallow = 127.0.0.8\nivr = to-na\n\n"
  "[trunk t-wait]\nallow = 127.0.0.9\nivr = to-wait\n\n"
  "[trunk t-ofq]\nallow = 127.0.0.10\nivr = to-ofq\n\n"
  "[trunk t-cbq]\nallow = 127.0.0.11\nivr = to-cbq\n\n"
  "[trunk t-st]\nallow = 127.0.0.12\nivr = to-st\n\n"
  "[ivr to-ringall]\nqueue ringall\n\n"
  "[ivr to-longest]\nqueue longest\n\n"
  "[ivr to-rr]\nqueue rr\n\n"
  "[ivr to-fewest]\nqueue fewest\n\n"
  "[ivr to-least]\nqueue least\n\n"
  "[ivr to-skills]\nqueue skills\n\n"
  "[ivr to-na]\nqueue na\n\n"
  "[ivr to-wait]\nqueue wait\n\n"
  "[ivr to-ofq]\nqueue ofq\n\n"
  "[ivr to-cbq]\nqueue cbq\n\n"
  "[ivr to-st]\nqueue st\n\n"
  "[queue ringall]\nstrategy = ring-all\nring-timeout = 5\nmusic = music\n\n"
  "[queue longest]\nstrategy = longest-idle\nring-timeout = 5\nmusic = music\n\n"
  "[queue rr]\nstrategy = round-robin\nring-timeout = 5\nmusic = music\n\n"
  "[queue fewest]\nstrategy = fewest-calls\nring-timeout = 5\nmusic = music\n\n"
  "[queue least]\nstrategy = least-talk-time\nring-timeout = 5\nmusic = music\n\n"
  "[queue skills]\nstrategy = skills-based\nring-timeout = 5\nmusic = music\n\n"
  "[queue na]\nstrategy = longest-idle\nring-timeout = 2\nmax-no-answer = 1\nmusic = music\n\n"
  "[queue wait]\nmusic = music\nwaiting-prompt = position\nannounce-every = 2\n\n"
  "[queue ofq]\nmax-wait = 2\noverflow = ofq2\nmusic = music\n\n"
  "[queue ofq2]\nring-timeout = 5\nmusic = music\n\n"
  "[queue cbq]\nmax-wait = 2\noverflow = callback\nmusic = music\n\n"
  "[queue st]\nring-timeout = 5\nmusic = music\n";

/* --- helpers ---------------------------------------------------------------------------- */

static void
caller_dial (KefuTestPeer *caller, const char *address)
{
  g_autofree char *listen = g_strdup_printf ("--listen=%s:%u", address,
                                             kefu_test_free_udp_port ());
  const char *args[] = { listen, "--user=+8613912345678", NULL };

  kefu_test_peer_start (caller, world.dir, "caller", CALLER_TONE, args);
  kefu_test_peer_send (caller, "dial sip:4000@127.0.0.1:%u", world.sip_port);
  kefu_test_peer_wait (caller, "established");
}

/* Whether @p printed @event that no wait took yet. */
static gboolean
peer_pending (KefuTestPeer *p, const char *event)
{
  for (guint i = p->next; i < p->events->len; i++)
    if (!g_strcmp0 (json_object_get_string_member (p->events->pdata[i], "event"), event))
      return TRUE;
  return FALSE;
}

/* Agent @i's phone rings: it answers; the X-Kefu-Call id (free it). */
static char *
answer (guint i)
{
  JsonObject *ev = kefu_test_peer_wait (&agents[i], "incoming");
  char *id = g_strdup (kefu_test_header (ev, "X-Kefu-Call"));

  g_assert_nonnull (id);
  kefu_test_peer_send (&agents[i], "answer");
  kefu_test_peer_wait (&agents[i], "established");
  return id;
}

static void
assert_others_silent (guint except)
{
  for (guint i = 0; i < G_N_ELEMENTS (agents); i++)
    if (i != except && peer_pending (&agents[i], "incoming"))
      g_error ("%s's phone rang too", names[i]);
}

static void
hang_up (KefuTestPeer *caller, guint agent)
{
  kefu_test_peer_send (caller, "hangup");
  kefu_test_peer_wait (caller, "closed");
  kefu_test_peer_wait (&agents[agent], "closed");
  kefu_test_peer_quit (caller);
  kefu_test_peer_clear (caller);
}

/* One call into a queue: agent @expect must be the one rung; it talks
 * @talk_ms and the caller hangs up. */
static void
call_goes_to (const char *address, guint expect, guint talk_ms)
{
  KefuTestPeer caller = { 0 };
  g_autofree char *id = NULL;

  caller_dial (&caller, address);
  id = answer (expect);
  assert_others_silent (expect);
  kefu_test_sleep_ms (talk_ms);
  hang_up (&caller, expect);
  g_test_message ("call %s went to %s", id, names[expect]);
  /* wrap-up (0 s) ends and the agent is idle again */
  kefu_test_sleep_ms (300);
}

/* Makes agent @i the one idle the shortest: Not ready, then Available. */
static void
touch (guint i)
{
  kefu_test_switch_agent_state (&world, names[i], "not_ready", "Break");
  kefu_test_switch_agent_state (&world, names[i], "available", NULL);
  /* the switch hears of it over the event stream */
  kefu_test_sleep_ms (700);
}

/* The id of the last call offered to @queue, from kefu-server's events. */
static char *
last_call_in (const char *queue)
{
  for (int tries = 0; tries < 50; tries++)
    {
      g_autoptr(JsonArray) events = kefu_test_switch_events (&world);

      for (guint i = json_array_get_length (events); i > 0; i--)
        {
          JsonObject *ev = json_array_get_object_element (events, i - 1);

          if (!g_strcmp0 (json_object_get_string_member (ev, "type"), "call.offered") &&
              !g_strcmp0 (json_object_get_string_member_with_default (ev, "queue", ""), queue))
            return g_strdup (json_object_get_string_member (ev, "call_id"));
        }
      kefu_test_sleep_ms (200);
    }
  g_error ("no call offered to %s", queue);
}

/* --- strategies --------------------------------------------------------------------------- */

/* Every idle agent rings; the first to answer has the call, the others
 * stop ringing. */
static void
test_ring_all (void)
{
  KefuTestPeer caller = { 0 };
  const char *ids[3];

  caller_dial (&caller, "127.0.0.2");
  for (guint i = 0; i < 3; i++)
    ids[i] = kefu_test_header (kefu_test_peer_wait (&agents[i], "incoming"), "X-Kefu-Call");
  g_assert_cmpstr (ids[0], ==, ids[1]);
  g_assert_cmpstr (ids[1], ==, ids[2]);
  kefu_test_peer_send (&agents[1], "answer");
  kefu_test_peer_wait (&agents[1], "established");
  kefu_test_peer_wait (&agents[0], "closed");
  kefu_test_peer_wait (&agents[2], "closed");
  kefu_test_sleep_ms (500);
  hang_up (&caller, 1);
  kefu_test_sleep_ms (300);
}

static void
test_longest_idle (void)
{
  /* idle since: a2, then a3, then a1 */
  touch (1);
  touch (2);
  touch (0);
  call_goes_to ("127.0.0.3", 1, 500);
  /* a2 just finished: a3 has waited longest now */
  call_goes_to ("127.0.0.3", 2, 500);
}

static void
test_round_robin (void)
{
  /* in username order, whoever has been idle longest */
  touch (0);
  touch (1);
  call_goes_to ("127.0.0.4", 0, 300);
  call_goes_to ("127.0.0.4", 1, 300);
  call_goes_to ("127.0.0.4", 2, 300);
  call_goes_to ("127.0.0.4", 0, 300);
}

/* a1 and a2 serve this queue (a3 does not). */
static void
test_fewest_calls (void)
{
  touch (1);
  call_goes_to ("127.0.0.5", 0, 300);
  /* a2 idle the shortest, but with no call yet */
  touch (1);
  call_goes_to ("127.0.0.5", 1, 300);
}

static void
test_least_talk_time (void)
{
  touch (1);
  call_goes_to ("127.0.0.6", 0, 3000);
  call_goes_to ("127.0.0.6", 1, 500);
  /* one call each, a1 idle longest, but a2 has talked less */
  call_goes_to ("127.0.0.6", 1, 300);
}

/* Proficiencies from kefu-server: a1 30, a2 90, a3 60. */
static void
test_skills_based (void)
{
  touch (1);
  call_goes_to ("127.0.0.7", 1, 300);
  kefu_test_switch_agent_state (&world, "a2", "not_ready", "Lunch");
  kefu_test_sleep_ms (400);
  call_goes_to ("127.0.0.7", 2, 300);
  kefu_test_switch_agent_state (&world, "a2", "available", NULL);
  kefu_test_sleep_ms (400);
}

/* --- no answer, abandon, announcements, overflow --------------------------------------- */

/* a1 lets it ring: after the 2 s ring timeout a2 rings and answers, and
 * a1 (max-no-answer 1) is Not ready "no answer" in kefu-server. */
static void
test_no_answer (void)
{
  KefuTestPeer caller = { 0 };
  g_autofree char *id = NULL;
  g_autofree char *id2 = NULL;
  g_autoptr(JsonObject) a1 = NULL;
  JsonObject *ev;

  touch (1);
  caller_dial (&caller, "127.0.0.8");
  ev = kefu_test_peer_wait (&agents[0], "incoming");
  id = g_strdup (kefu_test_header (ev, "X-Kefu-Call"));
  kefu_test_peer_wait (&agents[0], "closed");
  id2 = answer (1);
  g_assert_cmpstr (id, ==, id2);
  hang_up (&caller, 1);

  for (int i = 0; i < 50; i++)
    {
      g_clear_pointer (&a1, json_object_unref);
      a1 = kefu_test_switch_get_agent (&world, "a1");
      if (!g_strcmp0 (json_object_get_string_member (a1, "state"), "not_ready"))
        break;
      kefu_test_sleep_ms (200);
    }
  g_assert_cmpstr (json_object_get_string_member (a1, "state"), ==, "not_ready");
  g_assert_cmpstr (json_object_get_string_member_with_default (a1, "state_reason", ""), ==,
                   "no answer");
  kefu_test_switch_agent_state (&world, "a1", "available", NULL);
  kefu_test_sleep_ms (400);
}

/* Nobody serves `wait`: the caller hears the position announced every
 * 2 s, gives up after about 5 s, and is counted abandoned with that
 * wait. */
static void
test_abandon_and_announcements (void)
{
  KefuTestPeer caller = { 0 };
  g_autofree char *id = NULL;
  g_autoptr(JsonObject) ev = NULL;
  g_autoptr(JsonObject) cdr = NULL;
  g_autoptr(GArray) onsets = NULL;
  double wait_s;

  caller_dial (&caller, "127.0.0.9");
  kefu_test_sleep_ms (5200);
  kefu_test_peer_send (&caller, "hangup");
  kefu_test_peer_wait (&caller, "closed");
  kefu_test_peer_quit (&caller);

  onsets = kefu_test_tone_onsets (caller.recording, 0, ANNOUNCE_TONE, 0.3);
  for (guint i = 0; i < onsets->len; i++)
    g_test_message ("announcement at %.2f s", g_array_index (onsets, double, i));
  g_assert_cmpuint (onsets->len, >=, 2);
  g_assert_cmpfloat (g_array_index (onsets, double, 1) - g_array_index (onsets, double, 0), >,
                     1.5);
  g_assert_cmpfloat (g_array_index (onsets, double, 1) - g_array_index (onsets, double, 0), <,
                     3.5);
  kefu_test_peer_clear (&caller);

  id = last_call_in ("wait");
  ev = kefu_test_switch_wait_event (&world, id, "call.abandoned");
  wait_s = json_object_get_double_member (json_object_get_object_member (ev, "data"), "wait_s");
  g_test_message ("abandoned after %.1f s", wait_s);
  g_assert_cmpfloat (wait_s, >, 4.0);
  g_assert_cmpfloat (wait_s, <, 8.0);
  cdr = kefu_test_switch_wait_call_record (&world, id);
  g_assert_cmpstr (json_object_get_string_member (cdr, "outcome"), ==, "abandoned");
  g_assert_cmpstr (json_object_get_string_member (cdr, "queue"), ==, "wait");
  g_assert_cmpfloat (json_object_get_double_member (cdr, "wait_s"), >, 4.0);
  g_assert_cmpfloat (json_object_get_double_member (cdr, "wait_s"), <, 8.0);
}

/* Nobody serves `ofq`: after its 2 s max wait the call moves to ofq2,
 * where a3 takes it. */
static void
test_overflow_queue (void)
{
  KefuTestPeer caller = { 0 };
  g_autofree char *id = NULL;
  g_autofree char *types = NULL;
  g_autoptr(JsonObject) cdr = NULL;
  JsonObject *ev;
  gint64 start = g_get_monotonic_time ();

  caller_dial (&caller, "127.0.0.10");
  ev = kefu_test_peer_wait (&agents[2], "incoming");
  g_assert_cmpint (g_get_monotonic_time () - start, >, 1500000);
  g_assert_cmpstr (kefu_test_header (ev, "X-Kefu-Queue"), ==, "ofq2");
  id = g_strdup (kefu_test_header (ev, "X-Kefu-Call"));
  kefu_test_peer_send (&agents[2], "answer");
  kefu_test_peer_wait (&agents[2], "established");
  hang_up (&caller, 2);

  cdr = kefu_test_switch_wait_call_record (&world, id);
  g_assert_cmpstr (json_object_get_string_member (cdr, "queue"), ==, "ofq2");
  g_assert_cmpstr (json_object_get_string_member (cdr, "agent"), ==, "a3");
  types = kefu_test_switch_call_event_types (&world, id);
  g_test_message ("events of %s: %s", id, types);
  g_assert_nonnull (strstr (types, "call.offered,call.overflow,call.offered"));
  kefu_test_sleep_ms (300);
}

/* Nobody serves `cbq`: after its 2 s max wait the caller's number lands
 * on kefu-server's callback list and the call ends. */
static void
test_overflow_callback (void)
{
  KefuTestPeer caller = { 0 };
  g_autofree char *id = NULL;
  g_autofree char *path = NULL;
  g_autoptr(JsonObject) cdr = NULL;
  JsonObject *cb = NULL;
  JsonArray *items = NULL;

  caller_dial (&caller, "127.0.0.11");
  kefu_test_peer_wait (&caller, "closed");
  kefu_test_peer_quit (&caller);
  kefu_test_peer_clear (&caller);

  id = last_call_in ("cbq");
  cdr = kefu_test_switch_wait_call_record (&world, id);
  g_assert_cmpstr (json_object_get_string_member (cdr, "outcome"), ==, "callback");
  path = g_strdup_printf ("/v1/callbacks?call_id=%s", id);
  for (int i = 0; i < 50; i++)
    {
      g_autoptr(KefuTestResponse) r = kefu_test_request (world.server, "GET", path, world.admin,
                                                         NULL);

      g_assert_cmpuint (r->status, ==, 200);
      items = JSON_NODE_HOLDS_ARRAY (r->json) ? json_node_get_array (r->json)
        : json_object_get_array_member (json_node_get_object (r->json), "items");
      if (items && json_array_get_length (items) > 0)
        {
          cb = json_object_ref (json_array_get_object_element (items, 0));
          break;
        }
      kefu_test_sleep_ms (200);
    }
  g_assert_nonnull (cb);
  g_assert_cmpstr (json_object_get_string_member (cb, "queue"), ==, "cbq");
  g_assert_nonnull (strstr (json_object_get_string_member (cb, "number"), "13912345678"));
  g_assert_cmpstr (json_object_get_string_member (cb, "status"), ==, "open");
  json_object_unref (cb);
}

/* --- agent state from kefu-server --------------------------------------------------------- */

/* Only a1 serves `st`: Not ready in kefu-server, it is not rung; the call
 * waits; Available again, it rings at once. */
static void
test_not_ready_not_offered (void)
{
  KefuTestPeer caller = { 0 };
  g_autofree char *id = NULL;

  kefu_test_switch_agent_state (&world, "a1", "not_ready", "Meeting");
  kefu_test_sleep_ms (400);
  caller_dial (&caller, "127.0.0.12");
  kefu_test_sleep_ms (2500);
  g_assert_false (peer_pending (&agents[0], "incoming"));
  kefu_test_switch_agent_state (&world, "a1", "available", NULL);
  id = answer (0);
  hang_up (&caller, 0);
  kefu_test_sleep_ms (300);
}

/* The caller gives up while a1's phone rings: it stops ringing, the call
 * is abandoned, and a1 (not to blame) is offered the next call at once. */
static void
test_abandon_while_ringing (void)
{
  KefuTestPeer caller = { 0 };
  g_autofree char *id = NULL, *next = NULL;
  g_autoptr(JsonObject) ev = NULL;
  g_autoptr(JsonObject) cdr = NULL;
  g_autoptr(JsonObject) a1 = NULL;

  caller_dial (&caller, "127.0.0.12");
  id = g_strdup (kefu_test_header (kefu_test_peer_wait (&agents[0], "incoming"),
                                   "X-Kefu-Call"));
  kefu_test_peer_send (&caller, "hangup");
  kefu_test_peer_wait (&caller, "closed");
  kefu_test_peer_wait (&agents[0], "closed");
  kefu_test_peer_quit (&caller);
  kefu_test_peer_clear (&caller);

  ev = kefu_test_switch_wait_event (&world, id, "call.abandoned");
  cdr = kefu_test_switch_wait_call_record (&world, id);
  g_assert_cmpstr (json_object_get_string_member (cdr, "outcome"), ==, "abandoned");
  a1 = kefu_test_switch_get_agent (&world, "a1");
  g_assert_cmpstr (json_object_get_string_member (a1, "state"), !=, "not_ready");

  caller_dial (&caller, "127.0.0.12");
  next = answer (0);
  g_assert_cmpstr (next, !=, id);
  hang_up (&caller, 0);
  kefu_test_sleep_ms (300);
}

int
main (int argc, char **argv)
{
  const char *skills[] = {
    "{\"ringall\":50,\"longest\":50,\"rr\":50,\"fewest\":50,\"least\":50,\"skills\":30,"
    "\"na\":50,\"st\":50}",
    "{\"ringall\":50,\"longest\":50,\"rr\":50,\"fewest\":50,\"least\":50,\"skills\":90,"
    "\"na\":50}",
    "{\"ringall\":50,\"longest\":50,\"rr\":50,\"skills\":60,\"ofq2\":50}",
  };
  int status;

  g_test_init (&argc, &argv, NULL);

  kefu_test_switch_setup (&world, NULL);
  kefu_test_switch_write_prompt (&world, "announce.wav", ANNOUNCE_TONE, 0.5);
  kefu_test_switch_write_config (&world, sections);
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *ext = g_strdup_printf ("200%u", i + 1);

      kefu_test_switch_agent (&world, names[i], ext, skills[i]);
    }
  kefu_test_switch_start (&world);
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *ext = g_strdup_printf ("200%u", i + 1);
      g_autofree char *account = kefu_test_switch_account (&world, ext);
      const char *args[] = { account, NULL };

      kefu_test_peer_start (&agents[i], world.dir, names[i], AGENT_TONE, args);
      kefu_test_peer_wait (&agents[i], "registered");
    }

  g_test_add_func ("/switch/acd/ring-all", test_ring_all);
  g_test_add_func ("/switch/acd/longest-idle", test_longest_idle);
  g_test_add_func ("/switch/acd/round-robin", test_round_robin);
  g_test_add_func ("/switch/acd/fewest-calls", test_fewest_calls);
  g_test_add_func ("/switch/acd/least-talk-time", test_least_talk_time);
  g_test_add_func ("/switch/acd/skills-based", test_skills_based);
  g_test_add_func ("/switch/acd/no-answer", test_no_answer);
  g_test_add_func ("/switch/acd/abandon-and-announcements", test_abandon_and_announcements);
  g_test_add_func ("/switch/acd/overflow-queue", test_overflow_queue);
  g_test_add_func ("/switch/acd/overflow-callback", test_overflow_callback);
  g_test_add_func ("/switch/acd/not-ready-not-offered", test_not_ready_not_offered);
  g_test_add_func ("/switch/acd/abandon-while-ringing", test_abandon_while_ringing);

  status = g_test_run ();

  for (guint i = 0; i < 3; i++)
    {
      kefu_test_peer_quit (&agents[i]);
      kefu_test_peer_clear (&agents[i]);
    }
  kefu_test_switch_teardown (&world);
  return status;
}
