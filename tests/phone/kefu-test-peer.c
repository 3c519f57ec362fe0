/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * kefu-phone processes as the parties of a test (see kefu-test-peer.h).
 */
#include "kefu-test-peer.h"

#include <math.h>
#include <string.h>

#include "kefu-test-wait.h"
#include "kefu-wav.h"

enum { RATE = 8000 };

static gboolean
port_free (GSocketType type, guint16 port)
{
  g_autoptr(GSocket) sock = g_socket_new (G_SOCKET_FAMILY_IPV4, type, 0, NULL);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) addr = g_inet_socket_address_new (lo, port);

  return sock && g_socket_bind (sock, addr, FALSE, NULL);
}

/* A port kefu-phone can listen on: it takes UDP and TCP on the port and
 * TLS on the next one, so all three must be free (a TCP port lingering in
 * TIME_WAIT from an earlier test would fail its start). */
guint16
kefu_test_free_udp_port (void)
{
  for (guint tries = 0; tries < 100; tries++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GSocket) sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, 0,
                                              &error);
      g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
      g_autoptr(GSocketAddress) any = g_inet_socket_address_new (lo, 0);
      g_autoptr(GSocketAddress) bound = NULL;
      guint16 port;

      g_assert_no_error (error);
      g_socket_bind (sock, any, FALSE, &error);
      g_assert_no_error (error);
      bound = g_socket_get_local_address (sock, &error);
      g_assert_no_error (error);
      port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
      g_clear_object (&sock);
      if (port < 65535 && port_free (G_SOCKET_TYPE_STREAM, port)
          && port_free (G_SOCKET_TYPE_STREAM, port + 1) && port_free (G_SOCKET_TYPE_DATAGRAM, port + 1))
        return port;
    }
  g_error ("no free UDP/TCP port pair on 127.0.0.1 after 100 tries");
}

char *
kefu_test_write_tone (const char *dir, const char *name, double freq)
{
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (dir, name, NULL);
  gsize n = RATE * 30;
  g_autofree gint16 *samples = g_new (gint16, n);

  for (gsize i = 0; i < n; i++)
    samples[i] = (gint16) (3000.0 * sin (2 * G_PI * freq * (double) i / RATE));
  g_assert_true (kefu_wav_save (path, samples, n, RATE, &error));
  g_assert_no_error (error);
  return path;
}

static void read_next (KefuTestPeer *p);

static void
on_line (GObject *source, GAsyncResult *res, gpointer data)
{
  KefuTestPeer *p = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *line = NULL;

  line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source), res, NULL,
                                                    &error);
  /* cleared: the peer may be gone already */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (!line)
    {
      p->eof = TRUE;
      return;
    }
  g_test_message ("%s: %s", p->name, line);
  /* every line is one JSON object: anything else is a bug */
  json_parser_load_from_data (parser, line, -1, &error);
  g_assert_no_error (error);
  g_ptr_array_add (p->events,
                   json_object_ref (json_node_get_object (json_parser_get_root (parser))));
  read_next (p);
}

static void
read_next (KefuTestPeer *p)
{
  g_data_input_stream_read_line_async (p->out, G_PRIORITY_DEFAULT, p->cancel, on_line, p);
}

void
kefu_test_peer_start (KefuTestPeer       *p,
                      const char         *dir,
                      const char         *name,
                      double              tone,
                      const char *const  *extra)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *tone_name = g_strdup_printf ("%s-voice.wav", name);
  g_autofree char *tone_path = kefu_test_write_tone (dir, tone_name, tone);
  const char *phone = g_getenv ("KEFU_PHONE");

  if (!phone)
    g_error ("KEFU_PHONE is not set: run the tests with meson test");

  p->name = name;
  p->cancel = g_cancellable_new ();
  p->events = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  p->port = kefu_test_free_udp_port ();
  p->recording = g_strdup_printf ("%s/%s-heard.wav", dir, name);

  g_ptr_array_add (argv, g_strdup (phone));
  g_ptr_array_add (argv, g_strdup ("--listen"));
  g_ptr_array_add (argv, g_strdup_printf ("127.0.0.1:%u", p->port));
  g_ptr_array_add (argv, g_strdup ("--audio"));
  g_ptr_array_add (argv, g_strdup_printf ("file:%s,%s", tone_path, p->recording));
  for (; extra && *extra; extra++)
    g_ptr_array_add (argv, g_strdup (*extra));
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE
                                        | G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_set_child_setup (launcher, kefu_test_child_setup, NULL, NULL);
  p->proc = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  p->in = g_subprocess_get_stdin_pipe (p->proc);
  p->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (p->proc));
  read_next (p);
}

void
kefu_test_peer_send (KefuTestPeer *p, const char *fmt, ...)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  va_list ap;

  va_start (ap, fmt);
  line = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_test_message ("%s <- %s", p->name, line);
  g_output_stream_write_all (p->in, line, strlen (line), NULL, NULL, &error);
  g_assert_no_error (error);
  g_output_stream_write_all (p->in, "\n", 1, NULL, NULL, &error);
  g_assert_no_error (error);
}

typedef struct {
  KefuTestPeer *peer;
  const char *event;
  JsonObject *found;
} Wait;

static gboolean
event_came (gpointer data)
{
  Wait *w = data;
  KefuTestPeer *p = w->peer;

  for (; p->next < p->events->len; p->next++)
    {
      JsonObject *ev = p->events->pdata[p->next];
      const char *name = json_object_get_string_member (ev, "event");

      if (g_strcmp0 (name, "error") == 0)
        g_error ("%s: error: %s", p->name, json_object_get_string_member (ev, "message"));
      if (g_strcmp0 (name, w->event) == 0)
        {
          w->found = ev;
          p->next++;
          return TRUE;
        }
    }
  if (p->eof)
    g_error ("%s exited before printing %s", p->name, w->event);
  return FALSE;
}

JsonObject *
kefu_test_peer_wait (KefuTestPeer *p, const char *event)
{
  Wait w = { p, event, NULL };
  g_autofree char *what = g_strdup_printf ("%s to print %s", p->name, event);

  kefu_test_run_until (event_came, &w, what);
  return w.found;
}

typedef struct {
  KefuTestPeer *peer;
  const char *event;
  gint64 call;
  JsonObject *found;
} WaitCall;

static gboolean
call_event_came (gpointer data)
{
  WaitCall *w = data;
  KefuTestPeer *p = w->peer;

  for (guint i = 0; i < p->events->len; i++)
    {
      JsonObject *ev = p->events->pdata[i];

      if (g_strcmp0 (json_object_get_string_member (ev, "event"), w->event) == 0
          && json_object_get_int_member_with_default (ev, "call", -1) == w->call
          && !json_object_has_member (ev, "taken"))
        {
          json_object_set_boolean_member (ev, "taken", TRUE);
          w->found = ev;
          return TRUE;
        }
    }
  if (p->eof)
    g_error ("%s exited before printing %s of call %" G_GINT64_FORMAT, p->name, w->event,
             w->call);
  return FALSE;
}

JsonObject *
kefu_test_peer_wait_call (KefuTestPeer *p, const char *event, gint64 call)
{
  WaitCall w = { p, event, call, NULL };
  g_autofree char *what = g_strdup_printf ("%s to print %s of call %" G_GINT64_FORMAT,
                                           p->name, event, call);

  kefu_test_run_until (call_event_came, &w, what);
  return w.found;
}

gint64
kefu_test_event_call (JsonObject *ev)
{
  return json_object_get_int_member (ev, "call");
}

void
kefu_test_peer_quit (KefuTestPeer *p)
{
  g_autofree char *what = g_strdup_printf ("%s to exit", p->name);

  kefu_test_peer_send (p, "quit");
  kefu_test_wait_exit (p->proc, what);
  g_assert_true (g_subprocess_get_successful (p->proc));
}

void
kefu_test_peer_clear (KefuTestPeer *p)
{
  if (p->cancel)
    g_cancellable_cancel (p->cancel);
  g_clear_object (&p->cancel);
  if (p->proc)
    g_subprocess_force_exit (p->proc);
  g_clear_object (&p->proc);
  g_clear_object (&p->out);
  g_clear_pointer (&p->events, g_ptr_array_unref);
  g_clear_pointer (&p->recording, g_free);
  /* ready to start again: a stale eof would fail the next wait at once */
  p->next = 0;
  p->eof = FALSE;
}

double
kefu_test_tone_share (const char *path, guint channel, double freq, double seconds)
{
  return kefu_test_tone_share_before_end (path, channel, freq, 0, seconds);
}

double
kefu_test_tone_share_before_end (const char *path, guint channel, double freq, double end_s,
                                 double seconds)
{
  g_autoptr(GError) error = NULL;
  g_autofree gint16 *samples = NULL;
  gsize frames = 0, from, to;
  guint rate = 0, channels = 0;
  double coeff = 2 * cos (2 * G_PI * freq / RATE), s1 = 0, s2 = 0, energy = 0;

  g_assert_true (kefu_wav_load_interleaved (path, &samples, &frames, &channels, &rate, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (rate, ==, RATE);
  g_assert_cmpuint (channel, <, channels);
  g_assert_cmpuint (frames, >, (gsize) ((end_s + seconds) * RATE));
  to = frames - (gsize) (end_s * RATE);
  from = to - (gsize) (seconds * RATE);
  for (gsize i = from; i < to; i++)
    {
      double x = samples[i * channels + channel];
      double s0 = x + coeff * s1 - s2;

      s2 = s1;
      s1 = s0;
      energy += x * x;
    }
  if (energy <= 0)
    return 0;
  return (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (energy * (double) (to - from) / 2);
}

void
kefu_test_assert_hears (const char *who, const char *path, guint channel, double freq,
                        double seconds)
{
  double share = kefu_test_tone_share (path, channel, freq, seconds);

  g_test_message ("%s: %.0f Hz share %.3f", who, freq, share);
  g_assert_cmpfloat (share, >, 0.05);
}

void
kefu_test_assert_not_hears (const char *who, const char *path, guint channel, double freq,
                            double seconds)
{
  double share = kefu_test_tone_share (path, channel, freq, seconds);

  g_test_message ("%s: %.0f Hz share %.3f", who, freq, share);
  g_assert_cmpfloat (share, <, 0.01);
}
