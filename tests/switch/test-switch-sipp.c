/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * kefu-switch with sipp as the other side (tests/sip/switch-*.xml):
 *  - sipp as a trunk caller keys its way through the IVR with RFC 4733
 *    events replayed from sipp's own recordings (Debian's sip-tester
 *    ships them in /usr/share/sip-tester), and reaches a kefu-phone agent;
 *  - sipp as four agents' phones, each registered with digest auth by one
 *    sipp and rung on another: three let it ring, the fourth answers; the
 *    three are Not ready "no answer" in kefu-server afterwards.
 */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "kefu-test-peer.h"
#include "kefu-test-switch.h"
#include "kefu-test-wait.h"

#define CALLER_TONE 600.0
#define AGENT_TONE 1000.0
#define RFC4733_PCAP_DIR "/usr/share/sip-tester"

static const char sections[] =
  "[trunk sipp]\n"
  "allow = 127.0.0.2\n"
  "dtmf = rfc4733\n"
  "ivr = main\n"
  "\n"
  "[trunk phones]\n"
  "allow = 127.0.0.3\n"
  "ivr = to-sq\n"
  "\n"
  "[prompt welcome]\n"
  "wav = welcome.wav\n"
  "\n"
  "[prompt music]\n"
  "wav = music.wav\n"
  "\n"
  "[queue support]\n"
  "ring-timeout = 5\n"
  "music = music\n"
  "\n"
  "[queue sq]\n"
  "strategy = round-robin\n"
  "ring-timeout = 1\n"
  "max-no-answer = 1\n"
  "music = music\n"
  "\n"
  "[ivr main]\n"
  "menu welcome timeout=5 retries=1\n"
  "  on 2 goto sub\n"
  "\n"
  "[ivr sub]\n"
  "menu welcome timeout=5 inter-digit=2 retries=1\n"
  "  on 7# queue support\n"
  "\n"
  "[ivr to-sq]\n"
  "queue sq\n";

static char *
find_sipp (void)
{
  char *sipp = g_strdup (g_getenv ("SIPP"));

  if (!sipp)
    sipp = g_find_program_in_path ("sipp");
  return sipp;
}

static char *
scenario (const char *name)
{
  const char *dir = g_getenv ("KEFU_SIP_SCENARIOS");

  g_assert_nonnull (dir);
  return g_build_filename (dir, name, NULL);
}

static gboolean
udp_free (guint16 port)
{
  g_autoptr(GSocket) sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, 0,
                                          NULL);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) addr = g_inet_socket_address_new (lo, port);

  return sock && g_socket_bind (sock, addr, FALSE, NULL);
}

/* sipp's media: an even port with the next three free too (RTP, RTCP,
 * and the video pair sipp also binds) */
static guint16
even_port (void)
{
  for (;;)
    {
      guint16 port = kefu_test_free_udp_port ();

      port += port & 1;
      if (port < 65530 && udp_free (port) && udp_free (port + 1) && udp_free (port + 2) &&
          udp_free (port + 3))
        return port;
    }
}

static GSubprocess *
sipp_spawn (const char *const *argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_autofree char *line = g_strjoinv (" ", (char **) argv);
  GSubprocess *p;

  g_test_message ("$ %s", line);
  g_subprocess_launcher_set_child_setup (launcher, kefu_test_child_setup, NULL, NULL);
  p = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  return p;
}

static gboolean
have_sipp (void)
{
  g_autofree char *sipp = find_sipp ();
  g_autofree char *pcap = g_build_filename (RFC4733_PCAP_DIR, "dtmf_2833_7.pcap", NULL);

  if (!sipp || !g_file_test (pcap, G_FILE_TEST_EXISTS))
    g_error ("sipp and its RFC 4733 recordings are missing: install Debian's sip-tester");
  return TRUE;
}

/* sipp keys 2, 7, # as RFC 4733 events: the IVR takes them (once each)
 * and the agent's phone gets the path. */
static void
test_sipp_caller_rfc4733 (void)
{
  KefuTestSwitch f = { 0 };
  KefuTestPeer agent = { 0 };
  g_autofree char *sipp = find_sipp ();
  g_autofree char *sf = scenario ("switch-caller-rfc4733.xml");
  g_autofree char *target = NULL, *port = NULL, *mport = NULL;
  g_autofree char *account = NULL;
  g_autofree char *call_id = NULL;
  g_autoptr(GSubprocess) caller = NULL;
  g_autoptr(JsonObject) cdr = NULL;
  const char *agent_args[] = { NULL, "--auto-answer", NULL };
  JsonObject *ev;

  if (!have_sipp ())
    return;
  kefu_test_switch_setup (&f, NULL);
  kefu_test_switch_write_config (&f, sections);
  kefu_test_switch_agent (&f, "agent", "1001", "{\"support\":50}");
  kefu_test_switch_start (&f);
  account = kefu_test_switch_account (&f, "1001");
  agent_args[0] = account;
  kefu_test_peer_start (&agent, f.dir, "agent", AGENT_TONE, agent_args);
  kefu_test_peer_wait (&agent, "registered");

  target = g_strdup_printf ("127.0.0.1:%u", f.sip_port);
  port = g_strdup_printf ("%u", kefu_test_free_udp_port ());
  mport = g_strdup_printf ("%u", even_port ());
  {
    const char *argv[] = {
      sipp, target, "-sf", sf, "-i", "127.0.0.2", "-mi", "127.0.0.2", "-p", port,
      "-mp", mport, "-m", "1", "-nostdin", "-timeout", "30s", "-timeout_error", NULL
    };

    caller = sipp_spawn (argv);
  }

  ev = kefu_test_peer_wait (&agent, "incoming");
  call_id = g_strdup (kefu_test_header (ev, "X-Kefu-Call"));
  g_assert_cmpstr (kefu_test_header (ev, "X-Kefu-Queue"), ==, "support");
  g_assert_cmpstr (kefu_test_header (ev, "X-Kefu-Ivr"), ==, "main>2>sub>7#>support");
  kefu_test_peer_wait (&agent, "established");
  kefu_test_assert_sipp_completed (caller);
  kefu_test_peer_wait (&agent, "closed");

  cdr = kefu_test_switch_wait_call_record (&f, call_id);
  g_assert_cmpstr (json_object_get_string_member (cdr, "outcome"), ==, "answered");
  g_assert_cmpstr (json_object_get_string_member (cdr, "ivr_path"), ==, "main>2>sub>7#>support");

  kefu_test_peer_quit (&agent);
  kefu_test_peer_clear (&agent);
  kefu_test_switch_teardown (&f);
}

/* Four sipp agents in a round-robin queue with a 1 s ring timeout: s1,
 * s2, s3 ring unanswered in turn, s4 answers; the first three are Not
 * ready "no answer" in kefu-server. */
static void
test_sipp_agents (void)
{
  KefuTestSwitch f = { 0 };
  KefuTestPeer caller = { 0 };
  g_autofree char *sipp = find_sipp ();
  g_autofree char *target = NULL;
  g_autofree char *register_sf = scenario ("switch-agent-register.xml");
  g_autofree char *no_answer_sf = scenario ("switch-agent-no-answer.xml");
  g_autofree char *answer_sf = scenario ("switch-agent-answer.xml");
  g_autofree char *listen = NULL;
  g_autofree char *call_id = NULL;
  g_autoptr(JsonObject) cdr = NULL;
  GSubprocess *phones[4] = { NULL };
  const char *caller_args[] = { NULL, "--user=+8613912345678", NULL };

  if (!have_sipp ())
    return;
  kefu_test_switch_setup (&f, NULL);
  kefu_test_switch_write_config (&f, sections);
  for (guint i = 0; i < 4; i++)
    {
      g_autofree char *name = g_strdup_printf ("s%u", i + 1);
      g_autofree char *ext = g_strdup_printf ("300%u", i + 1);

      kefu_test_switch_agent (&f, name, ext, "{\"sq\":50}");
    }
  kefu_test_switch_start (&f);
  target = g_strdup_printf ("127.0.0.1:%u", f.sip_port);

  for (guint i = 0; i < 4; i++)
    {
      g_autofree char *ext = g_strdup_printf ("300%u", i + 1);
      g_autofree char *uas_port = g_strdup_printf ("%u", kefu_test_free_udp_port ());
      g_autofree char *mport = g_strdup_printf ("%u", even_port ());
      g_autofree char *reg_port = g_strdup_printf ("%u", kefu_test_free_udp_port ());
      g_autoptr(GSubprocess) reg = NULL;
      g_autofree char *err_file = g_strdup_printf ("%s/sipp-%s-errors.log", f.dir, ext);
      const char *uas[] = {
        sipp, "-sf", i < 3 ? no_answer_sf : answer_sf, "-i", "127.0.0.1", "-p", uas_port,
        "-mp", mport, "-m", "1", "-nostdin", "-timeout", "40s", "-timeout_error",
        "-trace_err", "-error_file", err_file, NULL
      };
      const char *registration[] = {
        sipp, target, "-sf", register_sf, "-i", "127.0.0.1", "-p", reg_port,
        "-set", "ext", ext, "-set", "uas_port", uas_port, "-au", ext,
        "-ap", KEFU_TEST_SIP_PASSWORD, "-m", "1", "-nostdin", "-timeout", "10s",
        "-timeout_error", NULL
      };

      phones[i] = sipp_spawn (uas);
      reg = sipp_spawn (registration);
      kefu_test_assert_sipp_completed (reg);
    }

  listen = g_strdup_printf ("--listen=127.0.0.3:%u", kefu_test_free_udp_port ());
  caller_args[0] = listen;
  kefu_test_peer_start (&caller, f.dir, "caller", CALLER_TONE, caller_args);
  kefu_test_peer_send (&caller, "dial sip:4000@127.0.0.1:%u", f.sip_port);
  kefu_test_peer_wait (&caller, "established");

  /* s1, s2, s3 ring a second each and are cancelled */
  for (guint i = 0; i < 3; i++)
    kefu_test_assert_sipp_completed (phones[i]);
  /* s4 answered: talk a moment, then the caller hangs up */
  kefu_test_sleep_ms (1000);
  kefu_test_peer_send (&caller, "hangup");
  kefu_test_peer_wait (&caller, "closed");
  kefu_test_assert_sipp_completed (phones[3]);
  kefu_test_peer_quit (&caller);
  kefu_test_peer_clear (&caller);

  {
    g_autoptr(JsonArray) events = kefu_test_switch_events (&f);

    for (guint i = json_array_get_length (events); i > 0 && !call_id; i--)
      {
        JsonObject *ev = json_array_get_object_element (events, i - 1);

        if (!g_strcmp0 (json_object_get_string_member (ev, "type"), "call.offered"))
          call_id = g_strdup (json_object_get_string_member (ev, "call_id"));
      }
  }
  g_assert_nonnull (call_id);
  cdr = kefu_test_switch_wait_call_record (&f, call_id);
  g_assert_cmpstr (json_object_get_string_member (cdr, "agent"), ==, "s4");
  g_assert_cmpstr (json_object_get_string_member (cdr, "outcome"), ==, "answered");
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *name = g_strdup_printf ("s%u", i + 1);
      g_autoptr(JsonObject) a = NULL;

      for (int k = 0; k < 50; k++)
        {
          g_clear_pointer (&a, json_object_unref);
          a = kefu_test_switch_get_agent (&f, name);
          if (!g_strcmp0 (json_object_get_string_member (a, "state"), "not_ready"))
            break;
          kefu_test_sleep_ms (100);
        }
      g_assert_cmpstr (json_object_get_string_member (a, "state"), ==, "not_ready");
      g_assert_cmpstr (json_object_get_string_member (a, "state_reason"), ==, "no answer");
    }

  for (guint i = 0; i < 4; i++)
    g_clear_object (&phones[i]);
  kefu_test_switch_teardown (&f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/switch/sipp/caller-rfc4733", test_sipp_caller_rfc4733);
  g_test_add_func ("/switch/sipp/agents", test_sipp_agents);
  return g_test_run ();
}
