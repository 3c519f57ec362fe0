/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Debian's baresip as an agent's phone at kefu-switch: it registers with
 * digest auth (the SIP password set in kefu-server), a queue's call rings
 * it with the X-Kefu-* headers (seen in baresip's own SIP trace), it
 * answers, and audio flows both ways through the switch's relay: the
 * caller (a kefu-phone) hears baresip's tone, baresip gets the caller's
 * RTP.  Headless baresip as in tests/phone/test-calls.c: file source,
 * null player, ctrl_tcp.
 */
#include "config.h"

#include <glib.h>
#include <math.h>
#include <string.h>

#include "kefu-test-peer.h"
#include "kefu-test-switch.h"
#include "kefu-test-wait.h"
#include "kefu-wav.h"

#define CALLER_TONE 600.0
#define BARESIP_TONE 1000.0

static const char sections[] =
  "[trunk carrier]\n"
  "allow = 127.0.0.2\n"
  "ivr = main\n"
  "\n"
  "[prompt music]\n"
  "wav = music.wav\n"
  "\n"
  "[queue support]\n"
  "ring-timeout = 5\n"
  "music = music\n"
  "\n"
  "[ivr main]\n"
  "queue support\n";

typedef struct {
  GSubprocess *proc;
  GSocket *ctrl;
  GSource *source;
  GString *inbuf;
  GPtrArray *messages;   /* netstring payloads */
  guint next;
  char *trace;           /* its stdout: the SIP trace */
} Baresip;

static guint16
free_port (GSocketType type)
{
  g_autoptr(GSocket) sock = g_socket_new (G_SOCKET_FAMILY_IPV4, type, 0, NULL);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  g_autoptr(GSocketAddress) bound = NULL;

  g_assert_true (g_socket_bind (sock, any, FALSE, NULL));
  bound = g_socket_get_local_address (sock, NULL);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

static gboolean
on_ctrl (GSocket *sock, GIOCondition cond, gpointer data)
{
  Baresip *b = data;
  char buf[4096];
  gssize n = g_socket_receive (sock, buf, sizeof buf, NULL, NULL);

  if (n <= 0)
    {
      b->source = NULL;
      return G_SOURCE_REMOVE;
    }
  g_string_append_len (b->inbuf, buf, n);
  for (;;)
    {
      char *colon = memchr (b->inbuf->str, ':', b->inbuf->len);
      guint64 len;

      if (!colon)
        break;
      len = g_ascii_strtoull (b->inbuf->str, NULL, 10);
      if ((gsize) (colon - b->inbuf->str) + 1 + len + 1 > b->inbuf->len)
        break;
      g_ptr_array_add (b->messages, g_strndup (colon + 1, len));
      g_test_message ("baresip: %s", (char *) b->messages->pdata[b->messages->len - 1]);
      g_string_erase (b->inbuf, 0, (colon - b->inbuf->str) + 1 + len + 1);
    }
  return G_SOURCE_CONTINUE;
}

typedef struct {
  Baresip *b;
  const char *type;
} Wait;

static gboolean
event_seen (gpointer data)
{
  Wait *w = data;
  g_autofree char *needle = g_strdup_printf ("\"type\":\"%s\"", w->type);

  while (w->b->next < w->b->messages->len)
    if (strstr (w->b->messages->pdata[w->b->next++], needle))
      return TRUE;
  return FALSE;
}

static void
baresip_wait (Baresip *b, const char *type)
{
  Wait w = { b, type };
  g_autofree char *what = g_strdup_printf ("baresip to report %s", type);

  kefu_test_run_until (event_seen, &w, what);
}

static void
baresip_start (Baresip *b, KefuTestSwitch *f, const char *extension)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autofree char *exe = g_find_program_in_path ("baresip");
  g_autofree char *dir = g_build_filename (f->dir, "baresip", NULL);
  g_autofree char *wav = g_build_filename (dir, "voice.wav", NULL);
  g_autofree char *config = NULL, *accounts = NULL, *path = NULL;
  g_autofree gint16 *pcm = NULL;
  guint16 sip_port, ctrl_port = free_port (G_SOCKET_TYPE_STREAM);
  gint64 deadline;
  gsize n = 8000 * 20;

  g_assert_nonnull (exe);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  b->inbuf = g_string_new (NULL);
  b->messages = g_ptr_array_new_with_free_func (g_free);
  b->trace = g_build_filename (dir, "trace.txt", NULL);

  /* its voice: 20 s of a sine (aufile ends the call at the end of it) */
  pcm = g_new (gint16, n);
  for (gsize i = 0; i < n; i++)
    pcm[i] = (gint16) (3000.0 * sin (2 * G_PI * BARESIP_TONE * (double) i / 8000));
  g_assert_true (kefu_wav_save (wav, pcm, n, 8000, &error));
  g_assert_no_error (error);

  /* it also binds TLS on its SIP port + 1 */
  do
    sip_port = free_port (G_SOCKET_TYPE_DATAGRAM);
  while (sip_port > 65000 || sip_port == ctrl_port || sip_port + 1 == ctrl_port);
  config = g_strdup_printf ("poll_method\t\tepoll\n"
                            "sip_listen\t\t127.0.0.1:%u\n"
                            "net_interface\t\t127.0.0.1\n"
                            "audio_player\t\taubridge,null\n"
                            "audio_alert\t\taubridge,null\n"
                            "audio_source\t\taufile,%s\n"
                            "module_path\t\t/usr/lib/baresip/modules\n"
                            "module\t\t\tg711.so\n"
                            "module\t\t\taufile.so\n"
                            "module\t\t\taubridge.so\n"
                            "module_app\t\taccount.so\n"
                            "module_app\t\tmenu.so\n"
                            "module_app\t\tctrl_tcp.so\n"
                            "ctrl_tcp_listen\t\t127.0.0.1:%u\n",
                            sip_port, wav, ctrl_port);
  path = g_build_filename (dir, "config", NULL);
  g_file_set_contents (path, config, -1, &error);
  g_assert_no_error (error);
  g_free (path);
  accounts = g_strdup_printf ("<sip:%s@127.0.0.1:%u>;auth_user=%s;auth_pass="
                              KEFU_TEST_SIP_PASSWORD ";answermode=auto;regint=600\n",
                              extension, f->sip_port, extension);
  path = g_build_filename (dir, "accounts", NULL);
  g_file_set_contents (path, accounts, -1, &error);
  g_assert_no_error (error);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE
                                        | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_subprocess_launcher_set_stdout_file_path (launcher, b->trace);
  g_subprocess_launcher_set_child_setup (launcher, kefu_test_child_setup, NULL, NULL);
  b->proc = g_subprocess_launcher_spawn (launcher, &error, exe, "-s", "-f", dir, NULL);
  g_assert_no_error (error);

  deadline = g_get_monotonic_time () + KEFU_TEST_WAIT_S * G_USEC_PER_SEC;
  for (;;)
    {
      g_autoptr(GSocket) sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, 0,
                                              NULL);
      g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
      g_autoptr(GSocketAddress) addr = g_inet_socket_address_new (lo, ctrl_port);

      if (g_socket_connect (sock, addr, NULL, NULL))
        {
          b->ctrl = g_steal_pointer (&sock);
          break;
        }
      if (g_get_monotonic_time () > deadline)
        g_error ("timed out waiting for baresip's ctrl_tcp");
      g_usleep (50000);
    }
  g_socket_set_blocking (b->ctrl, FALSE);
  b->source = g_socket_create_source (b->ctrl, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
  g_source_set_callback (b->source, (GSourceFunc) (void (*) (void)) on_ctrl, b, NULL);
  g_source_attach (b->source, NULL);
  g_source_unref (b->source);
}

static void
baresip_stop (Baresip *b)
{
  if (b->source)
    g_source_destroy (b->source);
  g_clear_object (&b->ctrl);
  if (b->proc)
    {
      g_subprocess_force_exit (b->proc);
      kefu_test_wait_exit (b->proc, "baresip to exit");
    }
  g_clear_object (&b->proc);
  g_string_free (b->inbuf, TRUE);
  g_ptr_array_unref (b->messages);
  g_free (b->trace);
}

static void
test_baresip_agent (void)
{
  KefuTestSwitch f = { 0 };
  KefuTestPeer caller = { 0 };
  Baresip b = { 0 };
  g_autofree char *listen = NULL;
  g_autofree char *trace = NULL;
  g_autofree char *call_id = NULL;
  g_autofree char *want = NULL;
  g_autoptr(JsonObject) cdr = NULL;
  const char *caller_args[] = { NULL, "--user=+8613912345678", NULL };
  g_autofree char *exe = g_find_program_in_path ("baresip");
  double share;

  /* a real peer is the point of this test: without it, it fails */
  if (!exe)
    g_error ("baresip is missing: install Debian's baresip-core");
  kefu_test_switch_setup (&f, NULL);
  kefu_test_switch_write_config (&f, sections);
  kefu_test_switch_agent (&f, "agent", "1001", "{\"support\":50}");
  kefu_test_switch_start (&f);

  baresip_start (&b, &f, "1001");
  /* (its REGISTER_OK may come before ctrl_tcp has a client) */
  kefu_test_switch_wait_logged (&f, "1001: registered at");

  listen = g_strdup_printf ("--listen=127.0.0.2:%u", kefu_test_free_udp_port ());
  caller_args[0] = listen;
  kefu_test_peer_start (&caller, f.dir, "caller", CALLER_TONE, caller_args);
  kefu_test_peer_send (&caller, "dial sip:4000@127.0.0.1:%u", f.sip_port);
  kefu_test_peer_wait (&caller, "established");

  /* (baresip 1.0.0 answering by itself reports no CALL_INCOMING) */
  baresip_wait (&b, "CALL_ESTABLISHED");
  baresip_wait (&b, "CALL_RTPESTAB");
  kefu_test_sleep_ms (3000);
  kefu_test_peer_send (&caller, "hangup");
  kefu_test_peer_wait (&caller, "closed");
  baresip_wait (&b, "CALL_CLOSED");
  kefu_test_peer_quit (&caller);

  /* the caller heard baresip's voice through the relay */
  share = kefu_test_tone_share_before_end (caller.recording, 0, BARESIP_TONE, 0.3, 1.5);
  g_test_message ("the caller heard baresip's tone: share %.2f", share);
  g_assert_cmpfloat (share, >, 0.5);

  /* the INVITE baresip got carried the screen-pop headers */
  g_assert_true (g_file_get_contents (b.trace, &trace, NULL, NULL));
  {
    const char *h = strstr (trace, "X-Kefu-Call: ");

    g_assert_nonnull (h);
    call_id = g_strndup (h + strlen ("X-Kefu-Call: "), strcspn (h + strlen ("X-Kefu-Call: "),
                                                                 "\r\n"));
  }
  g_assert_nonnull (strstr (trace, "X-Kefu-Queue: support"));
  g_assert_nonnull (strstr (trace, "X-Kefu-Wait: "));
  want = g_strdup_printf ("X-Kefu-Ivr: main>support");
  g_assert_nonnull (strstr (trace, want));

  cdr = kefu_test_switch_wait_call_record (&f, call_id);
  g_assert_cmpstr (json_object_get_string_member (cdr, "agent"), ==, "agent");
  g_assert_cmpstr (json_object_get_string_member (cdr, "outcome"), ==, "answered");
  g_assert_cmpfloat (json_object_get_double_member (cdr, "talk_s"), >, 2.0);

  kefu_test_peer_clear (&caller);
  baresip_stop (&b);
  kefu_test_switch_teardown (&f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/switch/baresip/agent", test_baresip_agent);
  return g_test_run ();
}
