/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * kefu-switch end to end, every party a real process on loopback: a
 * kefu-server (tests/server/kefu-test-server.h), the kefu-switch binary
 * with a config written here, a kefu-phone as the caller on a trunk
 * (from 127.0.0.2, the trunk's allow-list) and kefu-phones as agents
 * registered with digest auth from kefu-server's SIP credentials.  Each
 * phone plays its own tone and records what it hears.
 */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "kefu-test-peer.h"
#include "kefu-test-server.h"
#include "kefu-test-switch.h"
#include "kefu-test-wait.h"

#define CALLER_TONE 600.0
#define AGENT_TONE 1000.0

typedef KefuTestSwitch Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autofree char *sections = NULL;
  const char *ivr = data;

  kefu_test_switch_setup (f, NULL);
  sections = g_strdup_printf (
    "[trunk carrier]\n"
    "allow = 127.0.0.2\n"
    "dtmf = rfc4733\n"
    "ivr = main\n"
    "\n"
    "[prompt welcome]\n"
    "wav = welcome.wav\n"
    "\n"
    "[prompt music]\n"
    "wav = music.wav\n"
    "\n"
    "[queue support]\n"
    "strategy = longest-idle\n"
    "ring-timeout = 8\n"
    "music = music\n"
    "recording = on\n"
    "\n"
    "%s",
    ivr ? ivr : "[ivr main]\n"
                "menu welcome timeout=5 retries=2\n"
                "  on 2 queue support\n");
  kefu_test_switch_write_config (f, sections);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  kefu_test_switch_teardown (f);
}

/* sipp-less slice: trunk caller -> IVR (digit 2 in RFC 4733) -> queue
 * support -> agent's phone with the screen-pop headers -> both hear each
 * other through the relay -> the caller hangs up -> CDR and events. */
static void
test_inbound_call (Fixture *f, gconstpointer data)
{
  KefuTestPeer agent = { 0 }, caller = { 0 };
  g_autofree char *account = g_strdup_printf ("--account=sip:1001@127.0.0.1:%u;password="
                                              KEFU_TEST_SIP_PASSWORD, f->sip_port);
  g_autofree char *caller_listen = g_strdup_printf ("--listen=127.0.0.2:%u",
                                                    kefu_test_free_udp_port ());
  const char *agent_args[] = { account, "--auto-answer", "--dtmf=rfc4733", NULL };
  const char *caller_args[] = { caller_listen, "--dtmf=rfc4733", NULL };
  g_autoptr(JsonObject) cdr = NULL;
  g_autofree char *types = NULL;
  g_autofree char *rec_path = NULL;
  JsonObject *ev, *headers;
  const char *call_id;

  kefu_test_switch_agent (f, "agent", "1001", "{\"support\":50}");
  kefu_test_switch_start (f);

  kefu_test_peer_start (&agent, f->dir, "agent", AGENT_TONE, agent_args);
  kefu_test_peer_wait (&agent, "registered");

  kefu_test_peer_start (&caller, f->dir, "caller", CALLER_TONE, caller_args);
  kefu_test_peer_send (&caller, "dial sip:4000@127.0.0.1:%u", f->sip_port);
  kefu_test_peer_wait (&caller, "established");
  /* the welcome prompt plays, then the caller picks support */
  g_usleep (300000);
  kefu_test_peer_send (&caller, "dtmf 2");

  ev = kefu_test_peer_wait (&agent, "incoming");
  headers = json_object_get_object_member (ev, "headers");
  g_assert_nonnull (headers);
  call_id = json_object_get_string_member_with_default (headers, "X-Kefu-Call", NULL);
  g_assert_nonnull (call_id);
  call_id = g_strdup (call_id);
  g_assert_cmpstr (json_object_get_string_member_with_default (headers, "X-Kefu-Queue", ""), ==,
                   "support");
  g_assert_nonnull (strstr (json_object_get_string_member_with_default (headers, "X-Kefu-Ivr",
                                                                        ""), "2"));
  g_assert_true (json_object_has_member (headers, "X-Kefu-Wait"));

  kefu_test_peer_wait (&agent, "established");
  g_usleep (3 * G_USEC_PER_SEC);
  kefu_test_peer_send (&caller, "hangup");
  kefu_test_peer_wait (&caller, "closed");
  kefu_test_peer_wait (&agent, "closed");
  kefu_test_peer_quit (&caller);
  kefu_test_peer_quit (&agent);

  /* through the relay: each heard the other's tone at the end */
  g_assert_cmpfloat (kefu_test_tone_share_before_end (agent.recording, 0, CALLER_TONE, 0.3, 1.5),
                     >, 0.5);
  g_assert_cmpfloat (kefu_test_tone_share_before_end (caller.recording, 0, AGENT_TONE, 0.3, 1.5),
                     >, 0.5);

  /* the CDR, under the id the agent's phone was given */
  cdr = kefu_test_switch_wait_call_record (f, call_id);
  g_assert_cmpstr (json_object_get_string_member (cdr, "direction"), ==, "inbound");
  g_assert_cmpstr (json_object_get_string_member (cdr, "queue"), ==, "support");
  g_assert_cmpstr (json_object_get_string_member (cdr, "agent"), ==, "agent");
  g_assert_cmpstr (json_object_get_string_member (cdr, "outcome"), ==, "answered");
  g_assert_nonnull (strstr (json_object_get_string_member (cdr, "ivr_path"), "2"));
  g_assert_cmpfloat (json_object_get_double_member (cdr, "talk_s"), >, 2.0);
  rec_path = g_strdup (json_object_get_string_member (cdr, "recording"));

  /* the recording: what the caller hears (the agent) left, the caller
   * right, as in the agents' own recordings */
  g_assert_true (g_file_test (rec_path, G_FILE_TEST_EXISTS));
  g_assert_cmpfloat (kefu_test_tone_share_before_end (rec_path, 1, CALLER_TONE, 0.3, 1.5), >, 0.5);
  g_assert_cmpfloat (kefu_test_tone_share_before_end (rec_path, 0, AGENT_TONE, 0.3, 1.5), >, 0.5);

  types = kefu_test_switch_call_event_types (f, call_id);
  g_test_message ("events of %s: %s", call_id, types);
  g_assert_nonnull (strstr (types, "call.offered"));
  g_assert_nonnull (strstr (types, "call.ringing"));
  g_assert_nonnull (strstr (types, "call.answered"));
  g_assert_nonnull (strstr (types, "call.ended"));

  kefu_test_peer_clear (&caller);
  kefu_test_peer_clear (&agent);
  g_free ((char *) call_id);
}

/* Nobody may reach the switch's calls without being a trunk or an agent:
 * an INVITE from an unknown address is challenged, wrong credentials are
 * refused, and nothing rings anywhere. */
static void
test_unauthenticated_refused (Fixture *f, gconstpointer data)
{
  KefuTestPeer stranger = { 0 };
  g_autofree char *account = g_strdup_printf ("--account=sip:9999@127.0.0.1:%u;password=guess;"
                                              "registrar=sip:127.0.0.1:%u", f->sip_port,
                                              f->sip_port);
  const char *args[] = { account, NULL };
  JsonObject *ev;

  kefu_test_switch_start (f);
  kefu_test_peer_start (&stranger, f->dir, "stranger", CALLER_TONE, args);
  kefu_test_peer_wait (&stranger, "registration_failed");
  kefu_test_peer_send (&stranger, "dial sip:+8613800000000@127.0.0.1:%u", f->sip_port);
  ev = kefu_test_peer_wait (&stranger, "closed");
  g_assert_cmpint (json_object_get_int_member_with_default (ev, "code", 0), ==, 403);
  kefu_test_peer_quit (&stranger);
  kefu_test_peer_clear (&stranger);
}

static void
test_check_config (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *bad = g_build_filename (f->dir, "bad.conf", NULL);
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr(GSubprocess) p = NULL;
  g_autofree char *text = NULL;

  p = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error,
                        g_getenv ("KEFU_SWITCH"), "--check-config", f->config_path, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (p, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_subprocess_get_exit_status (p), ==, 0);

  g_file_get_contents (f->config_path, &text, NULL, &error);
  g_assert_no_error (error);
  {
    g_autofree char *broken = g_strconcat (text, "[queue sales]\nstrategy = fastest\n", NULL);

    g_file_set_contents (bad, broken, -1, &error);
    g_assert_no_error (error);
  }
  g_clear_object (&p);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  p = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error,
                        g_getenv ("KEFU_SWITCH"), "--check-config", bad, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (p, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_subprocess_get_exit_status (p), ==, 1);
  g_test_message ("%s", err);
  g_assert_nonnull (strstr (err, "bad.conf:"));
  g_assert_nonnull (strstr (err, "fastest"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/switch/check-config", Fixture, NULL, fixture_setup, test_check_config,
              fixture_teardown);
  g_test_add ("/switch/inbound-call", Fixture, NULL, fixture_setup, test_inbound_call,
              fixture_teardown);
  g_test_add ("/switch/unauthenticated-refused", Fixture, NULL, fixture_setup,
              test_unauthenticated_refused, fixture_teardown);

  return g_test_run ();
}
