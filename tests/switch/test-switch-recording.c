/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A recorded queue's call from the caller's point of view, end to end
 * (tests/switch/kefu-test-switch.h): the agent holds and resumes, then
 * hands the caller on to a second agent, blind or attended; the one WAV
 * the CDR names holds all of it, the caller on the right channel and on
 * the left whatever the caller heard: the first agent, the hold music,
 * the first agent again, the second agent.  Every phone is a real
 * kefu-phone playing its own tone.
 */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "kefu-test-peer.h"
#include "kefu-test-switch.h"
#include "kefu-test-wait.h"
#include "kefu-wav.h"

#define CALLER_TONE 600.0
#define AGENT_TONE 1000.0
#define AGENT2_TONE 1400.0
#define MUSIC_TONE 300.0

/* the recording's channels */
#define HEARD 0
#define CALLER 1

typedef KefuTestSwitch Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  kefu_test_switch_setup (f, NULL);
  kefu_test_switch_write_config (f,
    "[trunk carrier]\n"
    "allow = 127.0.0.2\n"
    "dtmf = rfc4733\n"
    "ivr = main\n"
    "\n"
    "[prompt music]\n"
    "wav = music.wav\n"
    "\n"
    "[queue support]\n"
    "ring-timeout = 8\n"
    "music = music\n"
    "recording = on\n"
    "\n"
    "[ivr main]\n"
    "queue support\n");
  kefu_test_switch_agent (f, "agent", "1001", "{\"support\":50}");
  kefu_test_switch_agent (f, "agent2", "1002", "{\"sales\":50}");
  kefu_test_switch_start (f);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  kefu_test_switch_teardown (f);
}

static void
agent_start (Fixture *f, KefuTestPeer *p, const char *name, const char *extension, double tone)
{
  g_autofree char *account = kefu_test_switch_account (f, extension);
  const char *args[] = { account, "--dtmf=rfc4733", "--auto-answer", NULL };

  kefu_test_peer_start (p, f->dir, name, tone, args);
  kefu_test_peer_wait (p, "registered");
}

/* The caller reaches the agent through the queue: the call's id. */
static char *
call_answered (Fixture *f, KefuTestPeer *caller, KefuTestPeer *agent)
{
  g_autofree char *listen = g_strdup_printf ("--listen=127.0.0.2:%u", kefu_test_free_udp_port ());
  const char *args[] = { listen, "--dtmf=rfc4733", NULL };
  JsonObject *ev;
  char *call_id;

  kefu_test_peer_start (caller, f->dir, "caller", CALLER_TONE, args);
  kefu_test_peer_send (caller, "dial sip:4000@127.0.0.1:%u", f->sip_port);
  kefu_test_peer_wait (caller, "established");
  ev = kefu_test_peer_wait (agent, "incoming");
  call_id = g_strdup (kefu_test_header (ev, "X-Kefu-Call"));
  g_assert_nonnull (call_id);
  kefu_test_peer_wait (agent, "established");
  return call_id;
}

/* The agent holds for @hold_ms and resumes. */
static void
hold_and_resume (KefuTestPeer *agent, guint hold_ms)
{
  kefu_test_peer_send (agent, "hold");
  kefu_test_peer_wait (agent, "held");
  kefu_test_sleep_ms (hold_ms);
  kefu_test_peer_send (agent, "resume");
  kefu_test_peer_wait (agent, "resumed");
}

static double
first_after (GArray *onsets, double t)
{
  for (guint i = 0; i < onsets->len; i++)
    if (g_array_index (onsets, double, i) > t)
      return g_array_index (onsets, double, i);
  return -1;
}

static double
last_of (GArray *onsets)
{
  return onsets->len ? g_array_index (onsets, double, onsets->len - 1) : -1;
}

/* The CDR's recording: one stereo WAV from the first answer to the
 * caller's hang-up, with the caller throughout on the right, and on the
 * left the first agent before and after a hold of music, then the second
 * agent. */
static void
assert_whole_call_recorded (Fixture *f, const char *call_id, double hold_s)
{
  g_autoptr(JsonObject) cdr = kefu_test_switch_wait_call_record (f, call_id);
  g_autoptr(GError) error = NULL;
  g_autofree gint16 *samples = NULL;
  g_autoptr(GArray) agent = NULL, music = NULL, agent2 = NULL, caller = NULL;
  gsize frames = 0;
  guint channels = 0, rate = 0;
  const char *path;
  double resumed, taken_over, length;

  g_assert_cmpstr (json_object_get_string_member (cdr, "outcome"), ==, "transferred");
  g_assert_cmpstr (json_object_get_string_member (cdr, "agent"), ==, "agent2");
  path = json_object_get_string_member_with_default (cdr, "recording", NULL);
  g_assert_nonnull (path);
  g_assert_true (kefu_wav_load_interleaved (path, &samples, &frames, &channels, &rate, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (channels, ==, 2);
  length = (double) frames / rate;

  agent = kefu_test_tone_onsets (path, HEARD, AGENT_TONE, 0.5);
  music = kefu_test_tone_onsets (path, HEARD, MUSIC_TONE, 0.5);
  agent2 = kefu_test_tone_onsets (path, HEARD, AGENT2_TONE, 0.5);
  caller = kefu_test_tone_onsets (path, CALLER, CALLER_TONE, 0.5);
  for (guint i = 0; i < agent->len; i++)
    g_test_message ("the first agent from %.2f s", g_array_index (agent, double, i));
  for (guint i = 0; i < music->len; i++)
    g_test_message ("music from %.2f s", g_array_index (music, double, i));
  for (guint i = 0; i < agent2->len; i++)
    g_test_message ("the second agent from %.2f s", g_array_index (agent2, double, i));
  g_test_message ("the recording lasts %.2f s", length);

  /* the first agent, then music for the hold, then the first agent again */
  g_assert_cmpuint (agent->len, >=, 2);
  g_assert_cmpfloat (g_array_index (agent, double, 0), <, 1.0);
  g_assert_cmpfloat (first_after (music, g_array_index (agent, double, 0)), >, 0);
  resumed = first_after (agent, first_after (music, g_array_index (agent, double, 0)));
  g_assert_cmpfloat (resumed, >, 0);
  g_assert_cmpfloat (resumed - g_array_index (agent, double, 0), >, hold_s);
  /* and the second agent after that, to the end */
  taken_over = first_after (agent2, resumed);
  g_assert_cmpfloat (taken_over, >, resumed);
  g_assert_cmpfloat (last_of (agent), <, taken_over);
  g_assert_cmpfloat (kefu_test_tone_share_before_end (path, HEARD, AGENT2_TONE, 0.3, 1.0), >, 0.5);
  /* the caller from the start to the end */
  g_assert_cmpuint (caller->len, >=, 1);
  g_assert_cmpfloat (g_array_index (caller, double, 0), <, 1.0);
  g_assert_cmpfloat (kefu_test_tone_share_before_end (path, CALLER, CALLER_TONE, 0.3, 1.0), >,
                     0.5);
  /* one file for the call: nothing else in the folder */
  {
    g_autoptr(GDir) dir = g_dir_open (f->recordings, 0, &error);
    guint n = 0;

    g_assert_no_error (error);
    while (g_dir_read_name (dir))
      n++;
    g_assert_cmpuint (n, ==, 1);
  }
}

/* Talk, hold, talk, a blind transfer to agent2, talk, the caller hangs up. */
static void
test_hold_and_blind_transfer (Fixture *f, gconstpointer data)
{
  KefuTestPeer caller = { 0 }, agent = { 0 }, agent2 = { 0 };
  g_autofree char *call_id = NULL;

  agent_start (f, &agent, "agent", "1001", AGENT_TONE);
  agent_start (f, &agent2, "agent2", "1002", AGENT2_TONE);
  call_id = call_answered (f, &caller, &agent);
  kefu_test_sleep_ms (1500);
  hold_and_resume (&agent, 2500);
  kefu_test_sleep_ms (1500);

  kefu_test_peer_send (&agent, "transfer sip:1002@127.0.0.1:%u", f->sip_port);
  kefu_test_peer_wait (&agent2, "established");
  kefu_test_peer_wait (&agent, "closed");
  kefu_test_sleep_ms (2000);
  kefu_test_peer_send (&caller, "hangup");
  kefu_test_peer_wait (&caller, "closed");
  kefu_test_peer_wait (&agent2, "closed");

  assert_whole_call_recorded (f, call_id, 2.0);
  kefu_test_peer_quit (&caller);
  kefu_test_peer_quit (&agent);
  kefu_test_peer_quit (&agent2);
  kefu_test_peer_clear (&caller);
  kefu_test_peer_clear (&agent);
  kefu_test_peer_clear (&agent2);
}

/* Talk, hold, talk, then an attended transfer: the agent holds the caller
 * again while consulting agent2, and hands the caller over. */
static void
test_hold_and_attended_transfer (Fixture *f, gconstpointer data)
{
  KefuTestPeer caller = { 0 }, agent = { 0 }, agent2 = { 0 };
  g_autofree char *call_id = NULL;

  agent_start (f, &agent, "agent", "1001", AGENT_TONE);
  agent_start (f, &agent2, "agent2", "1002", AGENT2_TONE);
  call_id = call_answered (f, &caller, &agent);
  kefu_test_sleep_ms (1500);
  hold_and_resume (&agent, 2500);
  kefu_test_sleep_ms (1500);

  kefu_test_peer_send (&agent, "atransfer sip:1002@127.0.0.1:%u", f->sip_port);
  kefu_test_peer_wait (&agent, "held");
  kefu_test_peer_wait (&agent2, "established");
  kefu_test_sleep_ms (1000);
  kefu_test_peer_send (&agent, "atransfer complete");
  kefu_test_peer_wait (&agent, "closed");
  kefu_test_peer_wait (&agent, "closed");
  kefu_test_sleep_ms (2000);
  kefu_test_peer_send (&caller, "hangup");
  kefu_test_peer_wait (&caller, "closed");
  kefu_test_peer_wait (&agent2, "closed");

  assert_whole_call_recorded (f, call_id, 2.0);
  kefu_test_peer_quit (&caller);
  kefu_test_peer_quit (&agent);
  kefu_test_peer_quit (&agent2);
  kefu_test_peer_clear (&caller);
  kefu_test_peer_clear (&agent);
  kefu_test_peer_clear (&agent2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/switch-recording/hold-and-blind-transfer", Fixture, NULL, fixture_setup,
              test_hold_and_blind_transfer, fixture_teardown);
  g_test_add ("/switch-recording/hold-and-attended-transfer", Fixture, NULL, fixture_setup,
              test_hold_and_attended_transfer, fixture_teardown);

  return g_test_run ();
}
