/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * kefu-switch's core end to end (tests/switch/kefu-test-switch.h): the
 * agent's leg (hold with music, blind transfer to an extension or a
 * queue, attended transfer, failed transfers with NOTIFY), agents'
 * outside calls through a trunk's gateway (sipp) and the relay attempts
 * it refuses, a reload during a call, --status, and rtp-ports.  Every
 * phone is a real kefu-phone playing its own tone and recording what it
 * hears; the caller comes from 127.0.0.2, the trunk's allow-list.
 */
#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <string.h>

#include "kefu-test-peer.h"
#include "kefu-test-switch.h"
#include "kefu-test-wait.h"
#include "kefu-wav.h"

#define CALLER_TONE 600.0
#define AGENT_TONE 1000.0
#define AGENT2_TONE 1400.0
#define MUSIC_TONE 300.0
#define OUTSIDE "+8613800000000"
#define TRUNK_USER "kefu-trunk"
#define TRUNK_PASSWORD "trunk-secret"

typedef KefuTestSwitch Fixture;

/* The test's config: a trunk (gateway at @gw_port when not 0, in DTMF
 * mode @dtmf), queue support with the beep music, queue sales without
 * music (the switch's own hold music), and an IVR: 1 sales, 2 support. */
static void
write_config (Fixture *f, guint16 gw_port, const char *dtmf, const char *more)
{
  g_autofree char *gateway = gw_port
    ? g_strdup_printf ("gateway = sip:127.0.0.1:%u\n"
                       "username = " TRUNK_USER "\n"
                       "password = " TRUNK_PASSWORD "\n", gw_port)
    : g_strdup ("");
  g_autofree char *sections = g_strdup_printf (
    "[trunk carrier]\n"
    "allow = 127.0.0.2\n"
    "dtmf = %s\n"
    "ivr = main\n"
    "%s"
    "\n"
    "[prompt welcome]\n"
    "wav = welcome.wav\n"
    "\n"
    "[prompt music]\n"
    "wav = music.wav\n"
    "\n"
    "[queue support]\n"
    "strategy = longest-idle\n"
    "ring-timeout = 4\n"
    "wrap-up = 30\n"
    "music = music\n"
    "\n"
    "[queue sales]\n"
    "strategy = longest-idle\n"
    "ring-timeout = 8\n"
    "wrap-up = 30\n"
    "\n"
    "[ivr main]\n"
    "menu welcome timeout=5 retries=2\n"
    "  on 1 queue sales\n"
    "  on 2 queue support\n"
    "%s",
    dtmf, gateway, more ? more : "");

  kefu_test_switch_write_config (f, sections);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  kefu_test_switch_setup (f, NULL);
  write_config (f, 0, "rfc4733", NULL);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  kefu_test_switch_teardown (f);
}

/* --- phones -------------------------------------------------------------- */

static void
agent_start (Fixture *f, KefuTestPeer *p, const char *name, const char *extension, double tone,
             gboolean auto_answer)
{
  g_autofree char *account = kefu_test_switch_account (f, extension);
  const char *args[] = { account, "--dtmf=rfc4733", auto_answer ? "--auto-answer" : NULL, NULL };

  kefu_test_peer_start (p, f->dir, name, tone, args);
  kefu_test_peer_wait (p, "registered");
}

static void
caller_start (Fixture *f, KefuTestPeer *p, const char *name)
{
  g_autofree char *listen = g_strdup_printf ("--listen=127.0.0.2:%u", kefu_test_free_udp_port ());
  const char *args[] = { listen, "--dtmf=rfc4733", NULL };

  kefu_test_peer_start (p, f->dir, name, CALLER_TONE, args);
}

/* The caller dials the trunk's number, picks @digit in the IVR, and
 * @agent's phone answers: the call's id (X-Kefu-Call; free it). */
static char *
call_reaches (Fixture *f, KefuTestPeer *caller, KefuTestPeer *agent, const char *digit,
              const char *queue)
{
  JsonObject *ev;
  char *call_id;

  kefu_test_peer_send (caller, "dial sip:4000@127.0.0.1:%u", f->sip_port);
  kefu_test_peer_wait (caller, "established");
  kefu_test_sleep_ms (300);
  kefu_test_peer_send (caller, "dtmf %s", digit);
  ev = kefu_test_peer_wait (agent, "incoming");
  g_assert_cmpstr (kefu_test_header (ev, "X-Kefu-Queue"), ==, queue);
  call_id = g_strdup (kefu_test_header (ev, "X-Kefu-Call"));
  g_assert_nonnull (call_id);
  kefu_test_peer_wait (agent, "established");
  return call_id;
}

/* Both hear each other at the end of their recordings. */
static void
assert_talking (const char *who_a, KefuTestPeer *a, double tone_a,
                const char *who_b, KefuTestPeer *b, double tone_b)
{
  double ab = kefu_test_tone_share_before_end (b->recording, 0, tone_a, 0.3, 1.2);
  double ba = kefu_test_tone_share_before_end (a->recording, 0, tone_b, 0.3, 1.2);

  g_test_message ("%s hears %s: %.2f; %s hears %s: %.2f", who_b, who_a, ab, who_a, who_b, ba);
  g_assert_cmpfloat (ab, >, 0.5);
  g_assert_cmpfloat (ba, >, 0.5);
}

/* The agent's state at kefu-server becomes @state within a few seconds. */
static void
wait_agent_state (Fixture *f, const char *username, const char *state)
{
  for (int i = 0; i < 50; i++)
    {
      g_autoptr(JsonObject) a = kefu_test_switch_get_agent (f, username);

      if (!g_strcmp0 (json_object_get_string_member_with_default (a, "state", ""), state))
        return;
      kefu_test_sleep_ms (100);
    }
  g_error ("%s never became %s at kefu-server", username, state);
}

/* RMS and the share of @freq in [t0, t1) seconds of a mono WAV. */
static void
window_measure (const char *path, double t0, double t1, double freq, double *rms, double *share)
{
  g_autoptr(GError) error = NULL;
  g_autofree gint16 *samples = NULL;
  gsize frames = 0, from, to;
  guint rate = 0, channels = 0;
  double coeff = 2 * cos (2 * G_PI * freq / 8000), s1 = 0, s2 = 0, energy = 0;

  g_assert_true (kefu_wav_load_interleaved (path, &samples, &frames, &channels, &rate, &error));
  g_assert_no_error (error);
  from = (gsize) MAX (t0 * rate, 0);
  to = MIN ((gsize) (t1 * rate), frames);
  g_assert_cmpuint (to, >, from + 160);
  for (gsize i = from; i < to; i++)
    {
      double x = samples[i * channels];
      double s0 = x + coeff * s1 - s2;

      s2 = s1;
      s1 = s0;
      energy += x * x;
    }
  *rms = sqrt (energy / (double) (to - from));
  *share = energy > 0
    ? (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (energy * (double) (to - from) / 2) : 0;
}

/* Each must exit 0; their recordings stay until peers_clear(). */
static void
peers_quit (KefuTestPeer *peers, guint n)
{
  for (guint i = 0; i < n; i++)
    if (peers[i].proc)
      kefu_test_peer_quit (&peers[i]);
}

static void
peers_clear (KefuTestPeer *peers, guint n)
{
  for (guint i = 0; i < n; i++)
    kefu_test_peer_clear (&peers[i]);
}

static JsonObject *
last_event (KefuTestPeer *p, const char *name)
{
  for (guint i = p->events->len; i > 0; i--)
    {
      JsonObject *ev = p->events->pdata[i - 1];

      if (!g_strcmp0 (json_object_get_string_member_with_default (ev, "event", ""), name))
        return ev;
    }
  return NULL;
}

/* --- hold ------------------------------------------------------------------ */

/* The agent holds: the caller hears the switch's hold music (queue sales
 * has none of its own), not silence; resumed, both talk again; the CDR
 * counts the hold. */
static void
test_hold_music (Fixture *f, gconstpointer data)
{
  KefuTestPeer peers[2] = { 0 };
  KefuTestPeer *caller = &peers[0], *agent = &peers[1];
  g_autofree char *call_id = NULL;
  g_autoptr(JsonObject) cdr = NULL;
  g_autofree char *types = NULL;
  g_autoptr(GArray) onsets = NULL;
  double rms, share, resumed_at;

  kefu_test_switch_agent (f, "agent2", "1002", "{\"sales\":50}");
  kefu_test_switch_start (f);
  agent_start (f, agent, "agent2", "1002", AGENT2_TONE, TRUE);
  caller_start (f, caller, "caller");

  call_id = call_reaches (f, caller, agent, "1", "sales");
  kefu_test_sleep_ms (1500);
  kefu_test_peer_send (agent, "hold");
  kefu_test_peer_wait (agent, "held");
  kefu_test_sleep_ms (3000);
  kefu_test_peer_send (agent, "resume");
  kefu_test_peer_wait (agent, "resumed");
  kefu_test_sleep_ms (2000);
  kefu_test_peer_send (caller, "hangup");
  kefu_test_peer_wait (caller, "closed");
  kefu_test_peer_wait (agent, "closed");
  peers_quit (peers, G_N_ELEMENTS (peers));
  assert_talking ("the caller", caller, CALLER_TONE, "the agent", agent, AGENT2_TONE);

  /* the agent's voice twice: before the hold and after it */
  onsets = kefu_test_tone_onsets (caller->recording, 0, AGENT2_TONE, 0.5);
  g_assert_cmpuint (onsets->len, >=, 2);
  resumed_at = g_array_index (onsets, double, onsets->len - 1);
  g_test_message ("the caller hears the agent from %.2f s and again from %.2f s",
                  g_array_index (onsets, double, 0), resumed_at);
  g_assert_cmpfloat (resumed_at - g_array_index (onsets, double, 0), >, 3.5);
  /* in between, well inside the hold: music, not silence, not the agent */
  window_measure (caller->recording, resumed_at - 2.6, resumed_at - 0.6, AGENT2_TONE, &rms,
                  &share);
  g_test_message ("on hold: RMS %.0f, share of the agent's tone %.2f", rms, share);
  g_assert_cmpfloat (rms, >, 100);
  g_assert_cmpfloat (share, <, 0.2);

  cdr = kefu_test_switch_wait_call_record (f, call_id);
  g_assert_cmpstr (json_object_get_string_member (cdr, "outcome"), ==, "answered");
  g_assert_cmpfloat (json_object_get_double_member (cdr, "hold_s"), >, 2.5);
  g_assert_cmpfloat (json_object_get_double_member (cdr, "hold_s"), <, 6.0);
  types = kefu_test_switch_call_event_types (f, call_id);
  g_test_message ("events of %s: %s", call_id, types);
  g_assert_nonnull (strstr (types, "call.held,call.resumed"));
  peers_clear (peers, G_N_ELEMENTS (peers));
}

/* --- blind transfers ------------------------------------------------------- */

/* The agent's REFER to another agent's extension: NOTIFY 100 then 200,
 * the caller talks to the new agent, the first one is in wrap-up. */
static void
test_blind_transfer_extension (Fixture *f, gconstpointer data)
{
  KefuTestPeer peers[3] = { 0 };
  KefuTestPeer *caller = &peers[0], *agent = &peers[1], *agent2 = &peers[2];
  g_autofree char *call_id = NULL;
  g_autoptr(JsonObject) cdr = NULL;
  g_autoptr(JsonObject) xfer = NULL;
  g_autofree char *types = NULL;
  JsonObject *ev;

  kefu_test_switch_agent (f, "agent", "1001", "{\"support\":50}");
  kefu_test_switch_agent (f, "agent2", "1002", "{\"sales\":50}");
  kefu_test_switch_start (f);
  agent_start (f, agent, "agent", "1001", AGENT_TONE, TRUE);
  agent_start (f, agent2, "agent2", "1002", AGENT2_TONE, TRUE);
  caller_start (f, caller, "caller");

  call_id = call_reaches (f, caller, agent, "2", "support");
  kefu_test_sleep_ms (1500);
  kefu_test_peer_send (agent, "transfer sip:1002@127.0.0.1:%u", f->sip_port);

  ev = kefu_test_peer_wait (agent2, "incoming");
  /* the screen pop names the same call */
  g_assert_cmpstr (kefu_test_header (ev, "X-Kefu-Call"), ==, call_id);
  kefu_test_peer_wait (agent2, "established");
  ev = kefu_test_peer_wait (agent, "closed");
  g_assert_cmpstr (json_object_get_string_member (ev, "reason"), ==, "transferred");
  ev = last_event (agent, "transfer_progress");
  g_assert_nonnull (ev);
  g_assert_cmpint (json_object_get_int_member (ev, "code"), ==, 200);
  wait_agent_state (f, "agent", "wrapup");

  kefu_test_sleep_ms (2500);
  kefu_test_peer_send (caller, "hangup");
  kefu_test_peer_wait (caller, "closed");
  kefu_test_peer_wait (agent2, "closed");
  peers_quit (peers, G_N_ELEMENTS (peers));
  assert_talking ("the caller", caller, CALLER_TONE, "agent2", agent2, AGENT2_TONE);

  cdr = kefu_test_switch_wait_call_record (f, call_id);
  g_assert_cmpstr (json_object_get_string_member (cdr, "outcome"), ==, "transferred");
  g_assert_cmpstr (json_object_get_string_member (cdr, "agent"), ==, "agent2");
  xfer = kefu_test_switch_wait_event (f, call_id, "call.transferred");
  g_assert_cmpstr (json_object_get_string_member (xfer, "agent"), ==, "agent");
  types = kefu_test_switch_call_event_types (f, call_id);
  g_test_message ("events of %s: %s", call_id, types);
  g_assert_nonnull (strstr (types, "call.answered"));
  g_assert_nonnull (strstr (types, "call.transferred"));
  peers_clear (peers, G_N_ELEMENTS (peers));
}

/* REFER to sip:queue-sales: the caller waits in sales and agent2, a sales
 * agent, gets the call from the ACD. */
static void
test_blind_transfer_queue (Fixture *f, gconstpointer data)
{
  KefuTestPeer peers[3] = { 0 };
  KefuTestPeer *caller = &peers[0], *agent = &peers[1], *agent2 = &peers[2];
  g_autofree char *call_id = NULL;
  g_autoptr(JsonObject) cdr = NULL;
  JsonObject *ev;

  kefu_test_switch_agent (f, "agent", "1001", "{\"support\":50}");
  kefu_test_switch_agent (f, "agent2", "1002", "{\"sales\":50}");
  kefu_test_switch_start (f);
  agent_start (f, agent, "agent", "1001", AGENT_TONE, TRUE);
  agent_start (f, agent2, "agent2", "1002", AGENT2_TONE, TRUE);
  caller_start (f, caller, "caller");

  call_id = call_reaches (f, caller, agent, "2", "support");
  kefu_test_sleep_ms (1000);
  kefu_test_peer_send (agent, "transfer sip:queue-sales@127.0.0.1:%u", f->sip_port);
  ev = kefu_test_peer_wait (agent, "closed");
  g_assert_cmpstr (json_object_get_string_member (ev, "reason"), ==, "transferred");

  ev = kefu_test_peer_wait (agent2, "incoming");
  g_assert_cmpstr (kefu_test_header (ev, "X-Kefu-Call"), ==, call_id);
  g_assert_cmpstr (kefu_test_header (ev, "X-Kefu-Queue"), ==, "sales");
  kefu_test_peer_wait (agent2, "established");
  wait_agent_state (f, "agent", "wrapup");
  kefu_test_sleep_ms (2000);
  kefu_test_peer_send (agent2, "hangup");
  kefu_test_peer_wait (caller, "closed");
  kefu_test_peer_wait (agent2, "closed");
  peers_quit (peers, G_N_ELEMENTS (peers));
  assert_talking ("the caller", caller, CALLER_TONE, "agent2", agent2, AGENT2_TONE);

  cdr = kefu_test_switch_wait_call_record (f, call_id);
  g_assert_cmpstr (json_object_get_string_member (cdr, "outcome"), ==, "transferred");
  g_assert_cmpstr (json_object_get_string_member (cdr, "agent"), ==, "agent2");
  g_assert_cmpstr (json_object_get_string_member (cdr, "queue"), ==, "sales");
  peers_clear (peers, G_N_ELEMENTS (peers));
}

/* A target that does not answer, one that does not exist, a queue that
 * does not exist: each time the agent's phone hears the failure in the
 * final NOTIFY and keeps the caller. */
static void
test_blind_transfer_fails (Fixture *f, gconstpointer data)
{
  KefuTestPeer peers[3] = { 0 };
  KefuTestPeer *caller = &peers[0], *agent = &peers[1], *agent3 = &peers[2];
  g_autofree char *call_id = NULL;
  g_autoptr(JsonObject) cdr = NULL;
  JsonObject *ev;

  kefu_test_switch_agent (f, "agent", "1001", "{\"support\":50}");
  kefu_test_switch_agent (f, "agent3", "1003", "{}");
  kefu_test_switch_start (f);
  agent_start (f, agent, "agent", "1001", AGENT_TONE, TRUE);
  /* registered, but nobody answers it */
  agent_start (f, agent3, "agent3", "1003", AGENT2_TONE, FALSE);
  caller_start (f, caller, "caller");

  call_id = call_reaches (f, caller, agent, "2", "support");
  kefu_test_sleep_ms (1000);

  /* rings for the queue's ring timeout (4 s) */
  kefu_test_peer_send (agent, "transfer sip:1003@127.0.0.1:%u", f->sip_port);
  kefu_test_peer_wait (agent3, "incoming");
  ev = kefu_test_peer_wait (agent, "transfer_failed");
  g_assert_cmpint (json_object_get_int_member (ev, "code"), ==, 480);
  kefu_test_peer_wait (agent3, "closed");

  kefu_test_peer_send (agent, "transfer sip:1999@127.0.0.1:%u", f->sip_port);
  ev = kefu_test_peer_wait (agent, "transfer_failed");
  g_assert_cmpint (json_object_get_int_member (ev, "code"), ==, 404);

  kefu_test_peer_send (agent, "transfer sip:queue-nowhere@127.0.0.1:%u", f->sip_port);
  ev = kefu_test_peer_wait (agent, "transfer_failed");
  g_assert_cmpint (json_object_get_int_member (ev, "code"), ==, 404);
  /* the caller was never lost: both still talk */
  kefu_test_sleep_ms (2000);
  kefu_test_peer_send (agent, "hangup");
  kefu_test_peer_wait (caller, "closed");
  kefu_test_peer_wait (agent, "closed");
  peers_quit (peers, G_N_ELEMENTS (peers));
  assert_talking ("the caller", caller, CALLER_TONE, "the agent", agent, AGENT_TONE);

  cdr = kefu_test_switch_wait_call_record (f, call_id);
  g_assert_cmpstr (json_object_get_string_member (cdr, "outcome"), ==, "answered");
  g_assert_cmpstr (json_object_get_string_member (cdr, "agent"), ==, "agent");
  peers_clear (peers, G_N_ELEMENTS (peers));
}

/* --- attended transfer ----------------------------------------------------- */

/* The agent holds the caller (who hears the queue's music), consults
 * agent2 through the switch, and completes with REFER + Replaces: the
 * caller talks to agent2, the agent's two calls end, the agent is in
 * wrap-up, the CDR says transferred with the hold counted. */
static void
test_attended_transfer (Fixture *f, gconstpointer data)
{
  KefuTestPeer peers[3] = { 0 };
  KefuTestPeer *caller = &peers[0], *agent = &peers[1], *agent2 = &peers[2];
  g_autofree char *call_id = NULL;
  g_autoptr(JsonObject) cdr = NULL;
  g_autoptr(JsonObject) xfer = NULL;
  g_autoptr(GArray) agent_onsets = NULL;
  g_autoptr(GArray) music_onsets = NULL;
  gboolean music_after_agent = FALSE;
  JsonObject *ev;

  kefu_test_switch_agent (f, "agent", "1001", "{\"support\":50}");
  kefu_test_switch_agent (f, "agent2", "1002", "{\"sales\":50}");
  kefu_test_switch_start (f);
  agent_start (f, agent, "agent", "1001", AGENT_TONE, TRUE);
  agent_start (f, agent2, "agent2", "1002", AGENT2_TONE, TRUE);
  caller_start (f, caller, "caller");

  call_id = call_reaches (f, caller, agent, "2", "support");
  kefu_test_sleep_ms (1500);
  kefu_test_peer_send (agent, "atransfer sip:1002@127.0.0.1:%u", f->sip_port);
  kefu_test_peer_wait (agent, "held");
  kefu_test_peer_wait (agent2, "incoming");
  kefu_test_peer_wait (agent2, "established");
  kefu_test_peer_wait (agent, "established");
  kefu_test_sleep_ms (2500);
  kefu_test_peer_send (agent, "atransfer complete");
  ev = kefu_test_peer_wait (agent, "closed");
  ev = kefu_test_peer_wait (agent, "closed");
  (void) ev;
  wait_agent_state (f, "agent", "wrapup");

  kefu_test_sleep_ms (2500);
  kefu_test_peer_send (caller, "hangup");
  kefu_test_peer_wait (caller, "closed");
  kefu_test_peer_wait (agent2, "closed");
  peers_quit (peers, G_N_ELEMENTS (peers));

  /* agent2's recording spans consultation and the caller: the agent's
   * voice first, the caller's at the end; the caller's ends on agent2 */
  {
    g_autoptr(GArray) consult = kefu_test_tone_onsets (agent2->recording, 0, AGENT_TONE, 0.5);

    g_assert_cmpuint (consult->len, >=, 1);
  }
  g_assert_cmpfloat (kefu_test_tone_share_before_end (agent2->recording, 0, CALLER_TONE, 0.3, 1.2),
                     >, 0.5);
  g_assert_cmpfloat (kefu_test_tone_share_before_end (caller->recording, 0, AGENT2_TONE, 0.3, 1.2),
                     >, 0.5);
  /* on hold during the consultation, the caller heard the queue's music
   * after the agent's voice */
  agent_onsets = kefu_test_tone_onsets (caller->recording, 0, AGENT_TONE, 0.5);
  music_onsets = kefu_test_tone_onsets (caller->recording, 0, MUSIC_TONE, 0.5);
  g_assert_cmpuint (agent_onsets->len, >=, 1);
  for (guint i = 0; i < music_onsets->len; i++)
    if (g_array_index (music_onsets, double, i) > g_array_index (agent_onsets, double, 0))
      music_after_agent = TRUE;
  g_assert_true (music_after_agent);

  cdr = kefu_test_switch_wait_call_record (f, call_id);
  g_assert_cmpstr (json_object_get_string_member (cdr, "outcome"), ==, "transferred");
  g_assert_cmpstr (json_object_get_string_member (cdr, "agent"), ==, "agent2");
  g_assert_cmpfloat (json_object_get_double_member (cdr, "hold_s"), >, 2.0);
  xfer = kefu_test_switch_wait_event (f, call_id, "call.transferred");
  g_assert_cmpstr (json_object_get_string_member (xfer, "agent"), ==, "agent");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (xfer, "data"),
                                                  "kind"), ==, "attended");
  peers_clear (peers, G_N_ELEMENTS (peers));
}

/* --- outside calls ---------------------------------------------------------- */

static GSubprocess *
sipp_start (Fixture *f, const char *const *args)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  const char *sipp = g_getenv ("SIPP");
  GSubprocess *proc;

  g_ptr_array_add (argv, (char *) sipp);
  for (; *args; args++)
    g_ptr_array_add (argv, (char *) *args);
  g_ptr_array_add (argv, (char *) "-m");
  g_ptr_array_add (argv, (char *) "1");
  g_ptr_array_add (argv, (char *) "-nostdin");
  g_ptr_array_add (argv, (char *) "-timeout");
  g_ptr_array_add (argv, (char *) "20");
  g_ptr_array_add (argv, (char *) "-timeout_error");
  g_ptr_array_add (argv, NULL);
  g_subprocess_launcher_set_child_setup (launcher, kefu_test_child_setup, NULL, NULL);
  g_subprocess_launcher_set_cwd (launcher, f->dir);
  proc = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  return proc;
}

static char *
scenario (const char *name)
{
  return g_build_filename (g_getenv ("KEFU_SIP_SCENARIOS"), name, NULL);
}

/* An agent dials an outside number: it leaves through the trunk's
 * gateway (sipp), which challenges the switch and gets the trunk's
 * credentials, takes the agent's digit in the trunk's mode (INFO) and
 * echoes the agent's voice back. */
static void
test_outbound_gateway (Fixture *f, gconstpointer data)
{
  KefuTestPeer agent = { 0 };
  guint16 gw_port = kefu_test_free_udp_port ();
  g_autofree char *gw_port_s = g_strdup_printf ("%u", gw_port);
  g_autofree char *mp = g_strdup_printf ("%u", kefu_test_free_media_port ());
  g_autofree char *path = scenario ("gateway-auth.xml");
  const char *args[] = { "-sf", path, "-i", "127.0.0.1", "-p", gw_port_s, "-mi", "127.0.0.1",
                         "-mp", mp, "-rtp_echo", NULL };
  g_autoptr(GSubprocess) gw = NULL;
  g_autoptr(JsonObject) cdr = NULL;
  g_autoptr(JsonArray) events = NULL;
  const char *call_id = NULL;

  if (!g_getenv ("SIPP"))
    g_error ("sipp is missing: install Debian's sip-tester");
  write_config (f, gw_port, "info", NULL);
  kefu_test_switch_agent (f, "agent", "1001", "{\"support\":50}");
  kefu_test_switch_start (f);
  gw = sipp_start (f, args);
  kefu_test_sleep_ms (300);
  agent_start (f, &agent, "agent", "1001", AGENT_TONE, FALSE);

  kefu_test_peer_send (&agent, "dial sip:" OUTSIDE "@127.0.0.1:%u", f->sip_port);
  kefu_test_peer_wait (&agent, "established");
  kefu_test_sleep_ms (1000);
  kefu_test_peer_send (&agent, "dtmf 5");
  kefu_test_sleep_ms (1500);
  kefu_test_peer_send (&agent, "hangup");
  kefu_test_peer_wait (&agent, "closed");
  /* the gateway echoes: the agent heard its own voice through it */
  g_assert_cmpfloat (kefu_test_tone_share_before_end (agent.recording, 0, AGENT_TONE, 0.2, 1.0),
                     >, 0.5);
  kefu_test_wait_exit (gw, "sipp gateway");
  kefu_test_assert_sipp_completed (gw);
  kefu_test_peer_quit (&agent);
  kefu_test_peer_clear (&agent);

  /* the CDR of the outside call */
  events = kefu_test_switch_events (f);
  for (int i = 0; i < 100 && !call_id; i++)
    {
      g_autoptr(KefuTestResponse) r = kefu_test_request (f->server, "GET", "/v1/calls?limit=10",
                                                         f->admin, NULL);
      JsonArray *items = r->json && JSON_NODE_HOLDS_ARRAY (r->json)
        ? json_node_get_array (r->json)
        : r->json ? json_object_get_array_member (json_node_get_object (r->json), "items")
        : NULL;

      for (guint k = 0; items && k < json_array_get_length (items); k++)
        {
          JsonObject *c = json_array_get_object_element (items, k);

          if (!g_strcmp0 (json_object_get_string_member_with_default (c, "direction", ""),
                          "outbound"))
            {
              cdr = json_object_ref (c);
              call_id = json_object_get_string_member (c, "id");
            }
        }
      if (!call_id)
        kefu_test_sleep_ms (100);
    }
  g_assert_nonnull (cdr);
  g_assert_cmpstr (json_object_get_string_member (cdr, "callee"), ==, OUTSIDE);
  g_assert_cmpstr (json_object_get_string_member (cdr, "caller"), ==, "1001");
  g_assert_cmpstr (json_object_get_string_member (cdr, "outcome"), ==, "answered");
}

static gboolean
socket_got_something (GSocket *s)
{
  char buf[2048];
  gssize n = g_socket_receive (s, buf, sizeof buf, NULL, NULL);

  return n > 0;
}

/* No open relay: a stranger without credentials is challenged (407), one
 * with wrong ones refused (403), a trunk's INVITE addressed to an outside
 * host refused (403); the gateway never sees a packet. */
static void
test_no_open_relay (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) gw = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                                        G_SOCKET_PROTOCOL_UDP, &error);
  g_autoptr(GInetAddress) lo = g_inet_address_new_from_string ("127.0.0.1");
  g_autoptr(GSocketAddress) gw_addr = NULL;
  guint16 gw_port;
  KefuTestPeer stranger = { 0 }, liar = { 0 };
  g_autofree char *stranger_listen = g_strdup_printf ("--listen=127.0.0.3:%u",
                                                      kefu_test_free_udp_port ());
  g_autofree char *liar_account = g_strdup_printf ("--account=sip:1001@127.0.0.1:%u;"
                                                   "password=guess", f->sip_port);
  const char *stranger_args[] = { stranger_listen, NULL };
  const char *liar_args[] = { liar_account, NULL };
  g_autofree char *target = NULL;
  g_autofree char *switch_addr = NULL;
  g_autofree char *path = scenario ("uac-relay.xml");
  g_autofree char *sipp_port = g_strdup_printf ("%u", kefu_test_free_udp_port ());
  g_autoptr(GSubprocess) relay = NULL;
  JsonObject *ev;

  g_assert_no_error (error);
  gw_addr = g_inet_socket_address_new (lo, 0);
  g_socket_bind (gw, gw_addr, FALSE, &error);
  g_assert_no_error (error);
  g_socket_set_blocking (gw, FALSE);
  g_clear_object (&gw_addr);
  gw_addr = g_socket_get_local_address (gw, &error);
  gw_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (gw_addr));

  write_config (f, gw_port, "rfc4733", NULL);
  kefu_test_switch_agent (f, "agent", "1001", "{\"support\":50}");
  kefu_test_switch_start (f);

  /* a stranger with no credentials: challenged, and it has no answer */
  kefu_test_peer_start (&stranger, f->dir, "stranger", CALLER_TONE, stranger_args);
  kefu_test_peer_send (&stranger, "dial sip:" OUTSIDE "@127.0.0.1:%u", f->sip_port);
  ev = kefu_test_peer_wait (&stranger, "closed");
  g_assert_cmpint (json_object_get_int_member_with_default (ev, "code", 0), ==, 407);

  /* a known extension with the wrong password */
  kefu_test_peer_start (&liar, f->dir, "liar", CALLER_TONE, liar_args);
  kefu_test_peer_wait (&liar, "registration_failed");
  kefu_test_peer_send (&liar, "dial sip:" OUTSIDE "@127.0.0.1:%u", f->sip_port);
  ev = kefu_test_peer_wait (&liar, "closed");
  g_assert_cmpint (json_object_get_int_member_with_default (ev, "code", 0), ==, 403);

  /* the trunk asks the switch to relay to the gateway's host */
  if (g_getenv ("SIPP"))
    {
      const char *args[] = { NULL, "-sf", path, "-i", "127.0.0.2", "-p", sipp_port, "-set",
                             "target", NULL, NULL };

      switch_addr = g_strdup_printf ("127.0.0.1:%u", f->sip_port);
      target = g_strdup_printf (OUTSIDE "@127.0.0.1:%u", gw_port);
      args[0] = switch_addr;
      args[9] = target;
      relay = sipp_start (f, args);
      kefu_test_wait_exit (relay, "sipp relay attempt");
      kefu_test_assert_sipp_completed (relay);
    }

  kefu_test_sleep_ms (500);
  g_assert_false (socket_got_something (gw));
  g_assert_true (kefu_test_switch_logged (f, "relays nothing") || !g_getenv ("SIPP"));

  kefu_test_peer_quit (&stranger);
  kefu_test_peer_clear (&stranger);
  kefu_test_peer_quit (&liar);
  kefu_test_peer_clear (&liar);
}

/* --- reload, status ---------------------------------------------------------- */

static char *
run_status (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) p = NULL;
  char *out = NULL;
  g_autofree char *err = NULL;

  p = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error,
                        g_getenv ("KEFU_SWITCH"), "--status", "--config", f->config_path, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (p, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  g_test_message ("kefu-switch --status:\n%s%s", out, err);
  g_assert_cmpint (g_subprocess_get_exit_status (p), ==, 0);
  return out;
}

/* A call is up while the config changes (a new queue, a new welcome) and
 * SIGHUP reloads it: the call goes on with its audio, the next call gets
 * the new welcome and reaches the new queue; a broken config then is
 * refused with its exact error and the switch goes on.  --status shows
 * the call, the queues, the agents and the link. */
static void
test_reload_during_call (Fixture *f, gconstpointer data)
{
  KefuTestPeer peers[4] = { 0 };
  KefuTestPeer *caller = &peers[0], *agent = &peers[1], *agent2 = &peers[2], *caller2 = &peers[3];
  g_autofree char *call_id = NULL;
  g_autofree char *call2_id = NULL;
  g_autofree char *status = NULL;
  g_autofree char *good = NULL;
  g_autofree char *broken = NULL;
  g_autoptr(GArray) welcome = NULL;
  g_autofree char *g_debug_env = NULL;

  kefu_test_switch_agent (f, "agent", "1001", "{\"support\":50}");
  kefu_test_switch_agent (f, "agent2", "1002", "{\"vip\":50}");
  kefu_test_switch_write_prompt (f, "welcome2.wav", 520.0, 1.0);
  /* this one test lets the switch warn (a refused reload is a warning) */
  g_debug_env = g_strdup (g_getenv ("G_DEBUG"));
  g_setenv ("G_DEBUG", "gc-friendly", TRUE);
  kefu_test_switch_start (f);
  agent_start (f, agent, "agent", "1001", AGENT_TONE, TRUE);
  agent_start (f, agent2, "agent2", "1002", AGENT2_TONE, TRUE);
  caller_start (f, caller, "caller");
  caller_start (f, caller2, "caller2");

  call_id = call_reaches (f, caller, agent, "2", "support");
  kefu_test_sleep_ms (1000);

  status = run_status (f);
  g_assert_nonnull (strstr (status, call_id));
  g_assert_nonnull (strstr (status, "talking"));
  g_assert_nonnull (strstr (status, "support"));
  g_assert_nonnull (strstr (status, "agent2"));
  g_assert_nonnull (strstr (status, "link: "));

  /* a new queue and a new welcome, while the call is up */
  write_config (f, 0, "rfc4733",
                "  on 3 queue vip\n"
                "\n"
                "[queue vip]\n"
                "strategy = ring-all\n"
                "ring-timeout = 8\n");
  {
    g_autofree char *text = NULL;
    g_autofree char *changed = NULL;
    g_auto(GStrv) parts = NULL;

    g_assert_true (g_file_get_contents (f->config_path, &text, NULL, NULL));
    parts = g_strsplit (text, "wav = welcome.wav", -1);
    changed = g_strjoinv ("wav = welcome2.wav", parts);
    g_assert_true (g_file_set_contents (f->config_path, changed, -1, NULL));
    good = g_strdup (changed);
  }
  g_subprocess_send_signal (f->sw, SIGHUP);
  for (int i = 0; i < 50 && !kefu_test_switch_logged (f, "configuration reloaded"); i++)
    kefu_test_sleep_ms (100);
  g_assert_true (kefu_test_switch_logged (f, "configuration reloaded"));
  g_clear_pointer (&status, g_free);
  status = run_status (f);
  g_assert_nonnull (strstr (status, "vip"));

  /* the call goes on, both ways */
  kefu_test_sleep_ms (2000);
  kefu_test_peer_send (caller, "hangup");
  kefu_test_peer_wait (caller, "closed");
  kefu_test_peer_wait (agent, "closed");
  assert_talking ("the caller", caller, CALLER_TONE, "the agent", agent, AGENT_TONE);

  /* the next call: the new welcome, the new queue */
  call2_id = call_reaches (f, caller2, agent2, "3", "vip");
  kefu_test_sleep_ms (1000);
  kefu_test_peer_send (caller2, "hangup");
  kefu_test_peer_wait (caller2, "closed");
  kefu_test_peer_wait (agent2, "closed");
  /* (the digit cut the welcome short: barge-in) */
  welcome = kefu_test_tone_onsets (caller2->recording, 0, 520.0, 0.1);
  g_assert_cmpuint (welcome->len, >=, 1);
  g_clear_pointer (&welcome, g_array_unref);
  welcome = kefu_test_tone_onsets (caller2->recording, 0, 440.0, 0.1);
  g_assert_cmpuint (welcome->len, ==, 0);

  /* a broken file: refused with the line, the switch goes on */
  broken = g_strconcat (good, "\n[queue broken]\nstrategy = fastest\n", NULL);
  g_assert_true (g_file_set_contents (f->config_path, broken, -1, NULL));
  g_subprocess_send_signal (f->sw, SIGHUP);
  for (int i = 0; i < 50 && !kefu_test_switch_logged (f, "not reloaded"); i++)
    kefu_test_sleep_ms (100);
  g_assert_true (kefu_test_switch_logged (f, "Configuration not reloaded"));
  g_assert_true (kefu_test_switch_logged (f, "kefu-switch.conf:"));
  g_assert_true (kefu_test_switch_logged (f, "fastest"));
  g_clear_pointer (&status, g_free);
  status = run_status (f);
  g_assert_nonnull (strstr (status, "vip"));
  g_assert_null (strstr (status, "broken"));

  peers_quit (peers, G_N_ELEMENTS (peers));
  if (g_debug_env)
    g_setenv ("G_DEBUG", g_debug_env, TRUE);
  peers_clear (peers, G_N_ELEMENTS (peers));
}

/* --- RTP ports ---------------------------------------------------------------- */

/* rtp-ports is honoured (the caller's media comes from the range) and a
 * small range is said at start; a range taken by others stops the start
 * with an error naming it. */
static void
test_rtp_ports (Fixture *f, gconstpointer data)
{
  KefuTestPeer peers[2] = { 0 };
  KefuTestPeer *caller = &peers[0], *agent = &peers[1];
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) p = NULL;
  g_autoptr(GPtrArray) taken = g_ptr_array_new_with_free_func (g_object_unref);
  g_autofree char *out = NULL, *err = NULL;
  g_autofree char *call_id = NULL;
  JsonObject *ev;
  const char *remote;
  guint base = 0, port;
  char *colon;

  /* four free ports in a row, the first even */
  for (guint tries = 0; tries < 50 && !base; tries++)
    {
      guint b = 40000 + 2 * g_random_int_range (0, 5000);
      gboolean ok = TRUE;

      for (guint i = 0; i < 4 && ok; i++)
        {
          g_autoptr(GSocket) s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                                               G_SOCKET_PROTOCOL_UDP, NULL);
          g_autoptr(GInetAddress) lo = g_inet_address_new_from_string ("127.0.0.1");
          g_autoptr(GSocketAddress) a = g_inet_socket_address_new (lo, b + i);

          ok = g_socket_bind (s, a, FALSE, NULL);
        }
      if (ok)
        base = b;
    }
  g_assert_cmpuint (base, !=, 0);

  {
    g_autofree char *text = NULL;
    g_autofree char *changed = NULL;
    g_autofree char *range = g_strdup_printf ("language = en\nrtp-ports = %u-%u\n", base, base + 3);
    g_auto(GStrv) parts = NULL;

    write_config (f, 0, "rfc4733", NULL);
    g_assert_true (g_file_get_contents (f->config_path, &text, NULL, NULL));
    parts = g_strsplit (text, "language = en\n", 2);
    changed = g_strjoinv (range, parts);
    g_assert_true (g_file_set_contents (f->config_path, changed, -1, NULL));
  }
  kefu_test_switch_agent (f, "agent", "1001", "{\"support\":50}");
  kefu_test_switch_start (f);
  agent_start (f, agent, "agent", "1001", AGENT_TONE, TRUE);
  caller_start (f, caller, "caller");
  g_free (call_reaches (f, caller, agent, "2", "support"));

  /* the switch's side of the caller's media is in the range */
  ev = last_event (caller, "established");
  g_assert_nonnull (ev);
  remote = json_object_get_string_member_with_default (ev, "remote_rtp", "");
  colon = strrchr (remote, ':');
  g_assert_nonnull (colon);
  port = (guint) g_ascii_strtoull (colon + 1, NULL, 10);
  g_test_message ("the switch sends the caller RTP from port %u (range %u-%u)", port, base,
                  base + 3);
  g_assert_cmpuint (port, >=, base);
  g_assert_cmpuint (port, <=, base + 3);
  kefu_test_sleep_ms (2500);
  kefu_test_peer_send (caller, "hangup");
  kefu_test_peer_wait (caller, "closed");
  kefu_test_peer_wait (agent, "closed");
  peers_quit (peers, G_N_ELEMENTS (peers));
  assert_talking ("the caller", caller, CALLER_TONE, "the agent", agent, AGENT_TONE);
  kefu_test_switch_stop (f);
  (void) call_id;

  /* the same range held by someone else: the switch does not start */
  for (guint i = 0; i < 4; i++)
    {
      GSocket *s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                                 G_SOCKET_PROTOCOL_UDP, NULL);
      g_autoptr(GInetAddress) lo = g_inet_address_new_from_string ("127.0.0.1");
      g_autoptr(GSocketAddress) a = g_inet_socket_address_new (lo, base + i);

      g_assert_true (g_socket_bind (s, a, FALSE, NULL));
      g_ptr_array_add (taken, s);
    }
  p = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error,
                        g_getenv ("KEFU_SWITCH"), "--config", f->config_path, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (p, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  g_test_message ("%s", err);
  g_assert_cmpint (g_subprocess_get_exit_status (p), ==, 1);
  g_assert_nonnull (strstr (err, "rtp-ports"));
  g_assert_nonnull (strstr (err, "taken"));
  peers_clear (peers, G_N_ELEMENTS (peers));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/switch-core/hold-music", Fixture, NULL, fixture_setup, test_hold_music,
              fixture_teardown);
  g_test_add ("/switch-core/blind-transfer/extension", Fixture, NULL, fixture_setup,
              test_blind_transfer_extension, fixture_teardown);
  g_test_add ("/switch-core/blind-transfer/queue", Fixture, NULL, fixture_setup,
              test_blind_transfer_queue, fixture_teardown);
  g_test_add ("/switch-core/blind-transfer/fails", Fixture, NULL, fixture_setup,
              test_blind_transfer_fails, fixture_teardown);
  g_test_add ("/switch-core/attended-transfer", Fixture, NULL, fixture_setup,
              test_attended_transfer, fixture_teardown);
  g_test_add ("/switch-core/outbound-gateway", Fixture, NULL, fixture_setup,
              test_outbound_gateway, fixture_teardown);
  g_test_add ("/switch-core/no-open-relay", Fixture, NULL, fixture_setup, test_no_open_relay,
              fixture_teardown);
  g_test_add ("/switch-core/reload-during-call", Fixture, NULL, fixture_setup,
              test_reload_during_call, fixture_teardown);
  g_test_add ("/switch-core/rtp-ports", Fixture, NULL, fixture_setup, test_rtp_ports,
              fixture_teardown);

  return g_test_run ();
}
