/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * kefu-switch behind on its SIP socket (tests/switch/kefu-test-switch.h).
 *
 * Under more calls a second than it can take, the switch fell behind on
 * its SIP socket until the kernel dropped what came next: among it the
 * BYEs of callers who hung up.  A caller whose BYEs were all lost (bench
 * sipp, which took the switch's retransmitted 200 to its INVITE for the
 * 200 to its BYE) left the call "talking" and its agent held for good.
 *
 * Here the switch is stopped (SIGSTOP) while a bridged call is up, its
 * SIP socket is filled with new INVITEs until the kernel drops, and the
 * caller hangs up into that: its BYE is dropped.  Resumed, the switch
 * must refuse the waiting INVITEs (503) instead of taking them as calls,
 * catch up, take the caller's retransmitted BYE, end the call (the agent's
 * phone gets its BYE, the CDR says answered), show the agent free and no
 * call left in --status, and take the next call.
 */
#include "config.h"

#include <gio/gio.h>
#include <glib.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "kefu-test-peer.h"
#include "kefu-test-switch.h"
#include "kefu-test-wait.h"

#define CALLER_TONE 600.0
#define AGENT_TONE 1000.0
#define FLOOD_MAX 200000

static const char sections[] =
  "[trunk carrier]\n"
  "allow = 127.0.0.2\n"
  "dtmf = rfc4733\n"
  "ivr = to-queue\n"
  "\n"
  "[queue support]\n"
  "strategy = longest-idle\n"
  "ring-timeout = 10\n"
  "wrap-up = 0\n"
  "\n"
  "[ivr to-queue]\n"
  "queue support\n";

/* What answered the flood, by status code. */
typedef struct {
  GSocket *sock;
  guint responses;
  guint refused;      /* 503 */
} Flood;

static gboolean
on_flood_readable (GSocket *sock, GIOCondition cond, gpointer data)
{
  Flood *fl = data;
  char buf[2048];
  gssize n;

  (void) cond;
  while ((n = g_socket_receive (sock, buf, sizeof buf - 1, NULL, NULL)) > 0)
    {
      buf[n] = '\0';
      if (!g_str_has_prefix (buf, "SIP/2.0 "))
        continue;
      fl->responses++;
      if (g_str_has_prefix (buf, "SIP/2.0 503 "))
        fl->refused++;
    }
  return G_SOURCE_CONTINUE;
}

/* The kernel's count of datagrams it dropped at the UDP socket bound to
 * 127.0.0.1:@port (/proc/net/udp). */
static guint64
udp_drops (guint16 port)
{
  g_autofree char *text = NULL;
  g_autofree char *local = g_strdup_printf ("0100007F:%04X", port);
  g_auto (GStrv) lines = NULL;
  guint64 drops = 0;

  g_assert_true (g_file_get_contents ("/proc/net/udp", &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 1; lines[i]; i++)
    {
      g_auto (GStrv) f = g_strsplit_set (g_strstrip (lines[i]), " ", -1);
      GPtrArray *cols = g_ptr_array_new ();

      for (guint k = 0; f[k]; k++)
        if (*f[k])
          g_ptr_array_add (cols, f[k]);
      if (cols->len > 12 && g_str_equal (cols->pdata[1], local))
        drops += g_ascii_strtoull (cols->pdata[12], NULL, 10);
      g_ptr_array_free (cols, TRUE);
    }
  return drops;
}

/* New INVITEs to the (stopped) switch from 127.0.0.4, which is no trunk,
 * until the kernel drops what comes: its SIP socket's buffer is full. */
static guint
flood_until_drops (Flood *fl, guint16 sip_port)
{
  g_autoptr(GInetAddress) to_ip = g_inet_address_new_from_string ("127.0.0.1");
  g_autoptr(GSocketAddress) to = g_inet_socket_address_new (to_ip, sip_port);
  g_autoptr(GSocketAddress) local = g_socket_get_local_address (fl->sock, NULL);
  guint16 lport = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
  guint64 drops0 = udp_drops (sip_port);

  for (guint i = 0; i < FLOOD_MAX; i++)
    {
      g_autofree char *msg = g_strdup_printf (
        "INVITE sip:4000@127.0.0.1:%u SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 127.0.0.4:%u;branch=z9hG4bK-flood-%u;rport\r\n"
        "Max-Forwards: 70\r\n"
        "From: <sip:flood@127.0.0.4>;tag=flood%u\r\n"
        "To: <sip:4000@127.0.0.1:%u>\r\n"
        "Call-ID: flood-%u@127.0.0.4\r\n"
        "CSeq: 1 INVITE\r\n"
        "Contact: <sip:flood@127.0.0.4:%u>\r\n"
        "Content-Length: 0\r\n"
        "\r\n",
        sip_port, lport, i, i, sip_port, i, lport);
      g_autoptr(GError) error = NULL;

      g_socket_send_to (fl->sock, to, msg, strlen (msg), NULL, &error);
      g_assert_no_error (error);
      if (i % 64 == 63 && udp_drops (sip_port) > drops0)
        return i + 1;
    }
  g_error ("%u INVITEs did not fill the switch's SIP socket", FLOOD_MAX);
}

static char *
run_status (KefuTestSwitch *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) p = NULL;
  g_autofree char *err = NULL;
  char *out = NULL;

  p = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error,
                        g_getenv ("KEFU_SWITCH"), "--status", "--config", f->config_path, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (p, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  g_test_message ("kefu-switch --status:\n%s%s", out, err);
  g_assert_cmpint (g_subprocess_get_exit_status (p), ==, 0);
  return out;
}

/* The line of --status that starts with @prefix (after blanks). */
static char *
status_line (const char *status, const char *prefix)
{
  g_auto (GStrv) lines = g_strsplit (status, "\n", -1);

  for (guint i = 0; lines[i]; i++)
    if (g_str_has_prefix (g_strchug (lines[i]), prefix))
      return g_strdup (lines[i]);
  return NULL;
}

static void
test_hangup_behind_backlog (void)
{
  KefuTestSwitch f = { 0 };
  KefuTestPeer caller = { 0 }, agent = { 0 };
  Flood fl = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) flood_ip = g_inet_address_new_from_string ("127.0.0.4");
  g_autoptr(GSocketAddress) flood_addr = g_inet_socket_address_new (flood_ip, 0);
  g_autoptr(GSource) source = NULL;
  g_autoptr(JsonObject) cdr = NULL;
  g_autofree char *call_id = NULL, *status = NULL;
  g_autofree char *calls_line = NULL, *agent_line = NULL, *sip_line = NULL;
  const char *refused_text;
  int buf = 8 << 20;
  GPid pid;
  guint sent;

  kefu_test_switch_setup (&f, NULL);
  kefu_test_switch_write_config (&f, sections);
  kefu_test_switch_agent (&f, "agent", "1001", "{\"support\":50}");
  kefu_test_switch_start (&f);

  call_id = kefu_test_switch_bridge_one (&f, &agent, AGENT_TONE, &caller, CALLER_TONE);

  /* the flood's socket reads every answer it gets while the test waits */
  fl.sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, 0, &error);
  g_assert_no_error (error);
  g_socket_set_blocking (fl.sock, FALSE);
  g_assert_true (g_socket_set_option (fl.sock, SOL_SOCKET, SO_RCVBUF, buf, NULL));
  g_socket_bind (fl.sock, flood_addr, FALSE, &error);
  g_assert_no_error (error);
  source = g_socket_create_source (fl.sock, G_IO_IN, NULL);
  g_source_set_callback (source, (GSourceFunc) (GCallback) on_flood_readable, &fl, NULL);
  g_source_attach (source, NULL);

  pid = (GPid) atoi (g_subprocess_get_identifier (f.sw));
  g_assert_cmpint (kill (pid, SIGSTOP), ==, 0);
  sent = flood_until_drops (&fl, f.sip_port);
  g_test_message ("%u INVITEs filled the switch's SIP socket", sent);
  /* the caller's BYE goes where the kernel drops: the caller's phone
   * retransmits it, as RFC 3261 has every phone do */
  kefu_test_peer_send (&caller, "hangup");
  kefu_test_peer_wait (&caller, "closed");
  g_assert_cmpint (kill (pid, SIGCONT), ==, 0);

  /* the switch took the BYE (behind the INVITEs it refused) and hangs up
   * the agent's phone */
  kefu_test_peer_wait (&agent, "closed");
  cdr = kefu_test_switch_wait_call_record (&f, call_id);
  g_assert_cmpstr (json_object_get_string_member (cdr, "outcome"), ==, "answered");
  g_assert_true (json_object_has_member (cdr, "ended_at"));

  g_test_message ("the flood's answers: %u, of which 503: %u", fl.responses, fl.refused);
  g_assert_cmpuint (fl.refused, >, 0);

  status = run_status (&f);
  calls_line = status_line (status, "calls:");
  agent_line = status_line (status, "agent ");
  sip_line = status_line (status, "SIP socket:");
  g_assert_nonnull (calls_line);
  g_assert_true (g_str_has_prefix (calls_line, "calls: 0 up"));
  g_assert_nonnull (agent_line);
  g_assert_nonnull (strstr (agent_line, "available"));
  g_assert_null (strstr (agent_line, "talking"));
  g_assert_nonnull (sip_line);
  refused_text = strstr (sip_line, "; ");
  g_assert_nonnull (refused_text);
  g_assert_cmpuint (g_ascii_strtoull (refused_text + 2, NULL, 10), >=, fl.refused);

  /* caught up, it takes calls again */
  kefu_test_peer_send (&caller, "dial sip:4000@127.0.0.1:%u", f.sip_port);
  kefu_test_peer_wait (&caller, "established");
  kefu_test_peer_wait (&agent, "established");
  kefu_test_peer_send (&caller, "hangup");
  kefu_test_peer_wait (&agent, "closed");

  g_source_destroy (source);
  g_clear_object (&fl.sock);
  kefu_test_peer_quit (&caller);
  kefu_test_peer_quit (&agent);
  kefu_test_peer_clear (&caller);
  kefu_test_peer_clear (&agent);
  kefu_test_switch_teardown (&f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/switch/overload/hangup-behind-backlog", test_hangup_behind_backlog);
  return g_test_run ();
}
