/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Call audio end to end on 127.0.0.1: two kefu UAs on one phone loop
 * calling each other with the `file` audio back-end (A plays a WAV, B
 * records), and kefu against Debian's baresip.  Proves that audio goes
 * through G.711, RTP and the jitter buffer and comes out as it went in,
 * that RFC 4733 digits arrive as sent at a payload type other than 101,
 * and that the call's statistics say so.
 */
#define G_LOG_DOMAIN "TestMediaCall"

#include "kefu-test-wait.h"
#include "config.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "kefu-call-session.h"
#include "kefu-dtmf-detector.h"
#include "kefu-dtmf-tones.h"
#include "kefu-phone-loop.h"
#include "kefu-registration.h"
#include "kefu-wav.h"

#define WAIT_TIMEOUT_S 20
#define SIP_TRANSP_UDP 0        /* libre's enum sip_transp */
#define TONE_HZ 1000.0
#define INBAND_DIGITS "159#"
#define RFC4733_DIGITS "1234#"

typedef struct {
  enum kefu_call_event_type type;
  guint call_id;
  int telev_pt;
  char *codec;
  char digit;
  char *mode;
  char *refer_to;
  gboolean has_stats;
  struct kefu_rtp_stream_stats stats;
  gboolean used;
} SeenEvent;

typedef struct Fixture Fixture;

typedef struct {
  Fixture *fx;
  const char *name;
  struct kefu_ua *ua;           /* phone thread only */
  struct kefu_calls *calls;     /* only passed to kefu_call_* */
  guint16 sip_port;
  GPtrArray *events;            /* SeenEvent */
  const char *user;
  char *audio;                  /* back-end spec */
  int telev_pt;
  const char *dtmf_mode;
} Side;

struct Fixture {
  struct kefu_phone_loop *loop;
  Side a;
  Side b;
  gboolean with_b;
  GPtrArray *children;
  char *tmpdir;
};

static void
seen_event_free (gpointer data)
{
  SeenEvent *ev = data;

  g_free (ev->codec);
  g_free (ev->mode);
  g_free (ev->refer_to);
  g_free (ev);
}

/* UI side */
static void
on_call_event (const struct kefu_call_event *ev, void *arg)
{
  Side *side = arg;
  SeenEvent *seen = g_new0 (SeenEvent, 1);

  seen->type = ev->type;
  seen->call_id = ev->call_id;
  seen->telev_pt = ev->telev_pt;
  seen->codec = g_strdup (ev->codec);
  seen->digit = ev->dtmf_digit;
  seen->mode = g_strdup (ev->dtmf_mode);
  seen->refer_to = g_strdup (ev->refer_to);
  seen->has_stats = ev->has_stats;
  seen->stats = ev->stats;
  g_debug ("%s: call %u %s %c", side->name, ev->call_id,
           kefu_call_event_type_name (ev->type), ev->dtmf_digit ? ev->dtmf_digit : ' ');
  g_ptr_array_add (side->events, seen);
}

/* phone thread */
static int
setup_side (Side *side)
{
  struct kefu_ua_config cfg = { .laddr = "127.0.0.1" };
  struct kefu_calls_config ccfg = {
    .listen_any = TRUE,
    .listen_user = side->user,
    .codecs = "pcmu,pcma",
    .telev_pt = side->telev_pt,
    .audio = side->audio,
    .dtmf_mode = side->dtmf_mode ? side->dtmf_mode : "rfc4733",
    .eventh = on_call_event,
    .arg = side,
  };
  int err;

  err = kefu_ua_alloc (&side->ua, side->fx->loop, &cfg);
  if (!err)
    err = kefu_ua_local_port (side->ua, SIP_TRANSP_UDP, &side->sip_port);
  if (!err)
    err = kefu_calls_alloc (&side->calls, side->fx->loop, side->ua, &ccfg);
  return err;
}

static int
setup_uas (void *arg)
{
  Fixture *fx = arg;
  int err;

  kefu_phone_loop_set_stop_timeout (fx->loop, 2000);
  err = setup_side (&fx->a);
  if (!err && fx->with_b)
    err = setup_side (&fx->b);
  return err;
}

static guint16
free_port (GSocketType type)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) sock = NULL;
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  g_autoptr(GSocketAddress) bound = NULL;

  sock = g_socket_new (G_SOCKET_FAMILY_IPV4, type, 0, &error);
  g_assert_no_error (error);
  g_socket_bind (sock, any, FALSE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (sock, &error);
  g_assert_no_error (error);

  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

/* A free UDP port whose neighbour (baresip's TLS on +1) looks free too. */
static guint16
free_port_with_gap (void)
{
  for (int tries = 0; tries < 50; tries++)
    {
      guint16 port = free_port (G_SOCKET_TYPE_DATAGRAM);
      g_autoptr(GSocket) probe = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, 0, NULL);
      g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
      g_autoptr(GSocketAddress) a = NULL;

      if (port > 60000)
        continue;
      a = g_inet_socket_address_new (lo, port + 1);
      if (probe && g_socket_bind (probe, a, FALSE, NULL))
        return port;
    }
  g_error ("no free port pair");
}

static GSubprocess *
spawn (Fixture *fx, GSubprocessFlags flags, const char *const *argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (flags);
  GSubprocess *proc;

  g_subprocess_launcher_set_child_setup (launcher, kefu_test_child_setup, NULL, NULL);
  proc = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  g_ptr_array_add (fx->children, g_object_ref (proc));
  return proc;
}

typedef struct {
  Side *side;
  enum kefu_call_event_type type;
  SeenEvent *found;
} EventWait;

static gboolean
event_seen (gpointer data)
{
  EventWait *w = data;

  for (guint i = 0; i < w->side->events->len; i++)
    {
      SeenEvent *ev = g_ptr_array_index (w->side->events, i);

      if (!ev->used && ev->type == w->type)
        {
          ev->used = TRUE;
          w->found = ev;
          return TRUE;
        }
    }
  return FALSE;
}

static SeenEvent *
wait_for_event (Side *side, enum kefu_call_event_type type)
{
  EventWait w = { side, type, NULL };
  g_autofree char *what = g_strdup_printf ("%s: %s", side->name,
                                           kefu_call_event_type_name (type));

  kefu_test_run_until (event_seen, &w, what);
  return w.found;
}

/* The main context runs while the phone thread streams. */
static void
pump_for (guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < end)
    {
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_usleep (10 * 1000);
    }
}

static char *
tmp_path (Fixture *fx, const char *name)
{
  return g_build_filename (fx->tmpdir, name, NULL);
}

static void
fixture_set_up (Fixture *fx, gboolean with_b)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *in = NULL;
  g_autofree char *out = NULL;
  int err;

  fx->children = g_ptr_array_new_with_free_func (g_object_unref);
  fx->tmpdir = g_dir_make_tmp ("kefu-media-XXXXXX", &error);
  g_assert_no_error (error);

  in = tmp_path (fx, "a-plays.wav");
  out = tmp_path (fx, "a-records.wav");
  fx->a = (Side) { fx, "A", NULL, NULL, 0, NULL, "a", NULL, 96 };
  fx->a.events = g_ptr_array_new_with_free_func (seen_event_free);
  fx->a.audio = g_strdup_printf ("file:%s,%s", in, out);
  g_free (out);
  out = tmp_path (fx, "b-records.wav");
  fx->b = (Side) { fx, "B", NULL, NULL, 0, NULL, "b", NULL, 0 };
  fx->b.events = g_ptr_array_new_with_free_func (seen_event_free);
  fx->b.audio = g_strdup_printf ("file:,%s", out);
  fx->with_b = with_b;

  err = kefu_phone_loop_start (&fx->loop, NULL);
  g_assert_cmpint (err, ==, 0);
  /* the audio of A is written before each test dials */
}

static void
start_uas (Fixture *fx)
{
  g_assert_cmpint (kefu_phone_loop_call_sync (fx->loop, setup_uas, fx), ==, 0);
  g_assert_cmpuint (fx->a.sip_port, !=, 0);
}

static void
fixture_tear_down (Fixture *fx)
{
  if (fx->loop)
    kefu_phone_loop_stop (fx->loop);
  fx->loop = NULL;
  while (g_main_context_iteration (NULL, FALSE))
    ;

  for (guint i = 0; i < fx->children->len; i++)
    {
      GSubprocess *proc = fx->children->pdata[i];

      /* Cleanup only: the verdict was taken; a peer lingering on SIGTERM
       * must not hang the test. */
      if (g_subprocess_get_identifier (proc))
        {
          g_subprocess_force_exit (proc);
          kefu_test_wait_exit (proc, "a peer to exit");
        }
    }
  g_ptr_array_unref (fx->children);
  g_ptr_array_unref (fx->a.events);
  g_ptr_array_unref (fx->b.events);
  g_free (fx->a.audio);
  g_free (fx->b.audio);

  {
    g_autoptr(GDir) dir = g_dir_open (fx->tmpdir, 0, NULL);
    const char *name;

    while (dir && (name = g_dir_read_name (dir)))
      {
        g_autofree char *p = g_build_filename (fx->tmpdir, name, NULL);

        if (!g_getenv ("KEFU_KEEP_MEDIA"))
          g_unlink (p);
      }
    if (!g_getenv ("KEFU_KEEP_MEDIA"))
      g_rmdir (fx->tmpdir);
    g_free (fx->tmpdir);
  }
}

/* --- signals ------------------------------------------------------------ */

static void
write_pcm (const char *path, GArray *pcm)
{
  g_autoptr(GError) error = NULL;

  kefu_wav_save (path, (const gint16 *) pcm->data, pcm->len, 8000, &error);
  g_assert_no_error (error);
}

/* 1 s of a 1 kHz tone at -10 dBm0, then the inband digits */
static void
write_tone_and_digits (const char *path)
{
  g_autoptr(GArray) pcm = g_array_new (FALSE, TRUE, sizeof (gint16));

  kefu_tones_append_silence (pcm, 8000);
  kefu_tones_mix_sine ((gint16 *) pcm->data, pcm->len, 8000, TONE_HZ, -10.0, 0.0);
  kefu_tones_append_silence (pcm, 1600);
  g_assert_true (kefu_dtmf_tones_append (pcm, 8000, INBAND_DIGITS, NULL));
  write_pcm (path, pcm);
}

static void
load_recording (const char *path, gint16 **samples, gsize *n)
{
  g_autoptr(GError) error = NULL;
  guint rate = 0;

  kefu_wav_load (path, samples, n, &rate, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rate, ==, 8000);
}

/* Goertzel power at @hz over n samples */
static double
tone_power (const gint16 *x, gsize n, double hz)
{
  double coeff = 2.0 * cos (2.0 * G_PI * hz / 8000.0);
  double s1 = 0, s2 = 0;

  for (gsize i = 0; i < n; i++)
    {
      double s0 = x[i] + coeff * s1 - s2;

      s2 = s1;
      s1 = s0;
    }
  return s1 * s1 + s2 * s2 - coeff * s1 * s2;
}

/* Somewhere in the recording, 200 ms where nearly all the energy is the
 * tone: it came through, and not as noise. */
static void
assert_has_tone (const gint16 *x, gsize n, double hz)
{
  const gsize win = 1600;
  double best = 0;

  for (gsize start = 0; start + win <= n; start += 400)
    {
      double energy = 0, ratio;

      for (gsize i = start; i < start + win; i++)
        energy += (double) x[i] * x[i];
      if (energy < win * 300.0 * 300.0)
        continue;
      /* Goertzel power of a pure sine is energy * win / 2 */
      ratio = tone_power (x + start, win, hz) / (energy * win / 2.0);
      best = MAX (best, ratio);
    }
  g_test_message ("best %.0f Hz share of a 200 ms window: %.3f", hz, best);
  g_assert_cmpfloat (best, >, 0.9);
}

static void
on_inband_digit (const KefuDtmfDigit *digit, gpointer data)
{
  g_string_append_c ((GString *) data, digit->digit);
}

static char *
inband_digits (const gint16 *x, gsize n)
{
  GString *digits = g_string_new (NULL);
  g_autoptr(KefuDtmfDetector) det = kefu_dtmf_detector_new (8000, on_inband_digit, digits);

  kefu_dtmf_detector_feed (det, x, n);
  kefu_dtmf_detector_finish (det);
  return g_string_free (digits, FALSE);
}

/* --- kefu to kefu ------------------------------------------------------- */

static void
assert_good_stats (const struct kefu_rtp_stream_stats *st)
{
  g_test_message ("stats: %s sent %" G_GUINT64_FORMAT " received %" G_GUINT64_FORMAT
                  " lost %" G_GUINT64_FORMAT " jitter %.2f ms rtt %.2f ms mos %.2f",
                  st->codec, st->packets_sent, st->packets_received, st->packets_lost,
                  st->jitter_ms, st->rtt_ms, st->mos);
  g_assert_cmpstr (st->codec, ==, "PCMU");
  g_assert_cmpuint (st->packets_received, >, 0);
  g_assert_cmpuint (st->packets_lost, ==, 0);
  g_assert_cmpfloat (st->mos, >, 4.0);
}

static void
test_kefu_to_kefu (Fixture *fx, gconstpointer data)
{
  g_autofree char *a_wav = tmp_path (fx, "a-plays.wav");
  g_autofree char *b_wav = tmp_path (fx, "b-records.wav");
  g_autofree char *uri = NULL;
  g_autofree gint16 *rec = NULL;
  g_autofree char *found = NULL;
  g_autoptr(GString) digits = g_string_new (NULL);
  struct kefu_rtp_stream_stats st;
  SeenEvent *ev;
  gsize n = 0;
  guint a_id, b_id;

  (void) data;
  write_tone_and_digits (a_wav);
  start_uas (fx);

  uri = g_strdup_printf ("sip:b@127.0.0.1:%u", fx->b.sip_port);
  a_id = kefu_call_dial (fx->loop, fx->a.calls, NULL, uri, NULL);
  g_assert_cmpuint (a_id, !=, 0);

  ev = wait_for_event (&fx->b, KEFU_CALL_EVENT_INCOMING);
  b_id = ev->call_id;
  g_assert_cmpint (kefu_call_answer (fx->loop, fx->b.calls, b_id), ==, 0);

  ev = wait_for_event (&fx->a, KEFU_CALL_EVENT_ESTABLISHED);
  g_assert_cmpstr (ev->codec, ==, "PCMU");
  g_assert_cmpint (ev->telev_pt, ==, 96);   /* A offered 96; B took it */
  ev = wait_for_event (&fx->b, KEFU_CALL_EVENT_ESTABLISHED);
  g_assert_cmpint (ev->telev_pt, ==, 96);

  /* the WAV is 1 s tone + 0.2 s + 4 digits of 200 ms: let it play */
  pump_for (2600);

  g_assert_cmpint (kefu_call_send_dtmf (fx->loop, fx->a.calls, a_id, RFC4733_DIGITS), ==, 0);
  while (digits->len < strlen (RFC4733_DIGITS))
    {
      ev = wait_for_event (&fx->b, KEFU_CALL_EVENT_DTMF);
      g_assert_cmpuint (ev->call_id, ==, b_id);
      g_assert_cmpstr (ev->mode, ==, "rfc4733");
      g_string_append_c (digits, ev->digit);
    }
  g_assert_cmpstr (digits->str, ==, RFC4733_DIGITS);
  /* exactly those: no repeat from the end packets */
  pump_for (500);
  for (guint i = 0; i < fx->b.events->len; i++)
    {
      SeenEvent *e = g_ptr_array_index (fx->b.events, i);

      g_assert_false (e->type == KEFU_CALL_EVENT_DTMF && !e->used);
    }

  g_assert_cmpint (kefu_call_stats (fx->loop, fx->b.calls, b_id, &st), ==, 0);
  assert_good_stats (&st);
  g_assert_cmpuint (st.dtmf_received, ==, strlen (RFC4733_DIGITS));
  g_assert_cmpint (kefu_call_stats (fx->loop, fx->a.calls, a_id, &st), ==, 0);
  g_assert_cmpuint (st.packets_sent, >, 100);

  g_assert_cmpint (kefu_call_hangup (fx->loop, fx->a.calls, a_id), ==, 0);
  ev = wait_for_event (&fx->b, KEFU_CALL_EVENT_CLOSED);
  g_assert_true (ev->has_stats);
  assert_good_stats (&ev->stats);
  wait_for_event (&fx->a, KEFU_CALL_EVENT_CLOSED);
  g_assert_cmpint (kefu_call_stats (fx->loop, fx->b.calls, b_id, &st), ==, ENOENT);

  /* B's recording is on disk when CLOSED arrives */
  load_recording (b_wav, &rec, &n);
  g_assert_cmpuint (n, >, 8000 * 2);
  assert_has_tone (rec, n, TONE_HZ);
  found = inband_digits (rec, n);
  g_test_message ("inband digits in B's recording: '%s'", found);
  g_assert_cmpstr (found, ==, INBAND_DIGITS);
}

/* --- against baresip ---------------------------------------------------- */

typedef struct {
  GSubprocess *proc;
  GSocket *ctrl;
  GSource *ctrl_source;
  GString *inbuf;
  GPtrArray *messages;          /* netstring payloads (JSON text) */
  guint next_message;
  guint16 sip_port;
} Baresip;

static gboolean
on_ctrl_readable (GSocket *sock, GIOCondition cond, gpointer data)
{
  Baresip *b = data;
  char buf[4096];
  gssize n;

  (void) cond;
  n = g_socket_receive (sock, buf, sizeof buf, NULL, NULL);
  if (n <= 0)
    {
      b->ctrl_source = NULL;
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
      g_debug ("baresip: %s", (char *) b->messages->pdata[b->messages->len - 1]);
      g_string_erase (b->inbuf, 0, (colon - b->inbuf->str) + 1 + len + 1);
    }
  return G_SOURCE_CONTINUE;
}

typedef struct {
  Baresip *b;
  const char *type;
  char *param;
} BaresipWait;

static gboolean
baresip_event_seen (gpointer data)
{
  BaresipWait *w = data;

  while (w->b->next_message < w->b->messages->len)
    {
      const char *text = w->b->messages->pdata[w->b->next_message++];
      g_autoptr(JsonNode) node = json_from_string (text, NULL);
      JsonObject *obj = node && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;

      if (obj && json_object_get_boolean_member_with_default (obj, "event", FALSE) &&
          g_strcmp0 (json_object_get_string_member_with_default (obj, "type", ""), w->type) == 0)
        {
          w->param = g_strdup (json_object_get_string_member_with_default (obj, "param", ""));
          return TRUE;
        }
    }
  return FALSE;
}

static char *
wait_for_baresip (Baresip *b, const char *type)
{
  BaresipWait w = { b, type, NULL };
  g_autofree char *what = g_strdup_printf ("baresip to report %s", type);

  kefu_test_run_until (baresip_event_seen, &w, what);
  return w.param;
}

static gboolean
ctrl_connected (Baresip *b, guint16 port)
{
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) addr = g_inet_socket_address_new (lo, port);
  g_autoptr(GSocket) sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, 0, NULL);

  if (!g_socket_connect (sock, addr, NULL, NULL))
    {
      g_usleep (50 * 1000);
      return FALSE;
    }
  b->ctrl = g_steal_pointer (&sock);
  return TRUE;
}

/* baresip with a headless config (no stdio module, aufile, ctrl_tcp), playing @wav */
static void
start_baresip (Fixture *fx, Baresip *b, const char *wav)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *exe = g_find_program_in_path ("baresip");
  g_autofree char *config = NULL;
  g_autofree char *accounts = NULL;
  g_autofree char *path = NULL;
  guint16 ctrl_port = free_port (G_SOCKET_TYPE_STREAM);
  gint64 deadline;

  if (!exe)
    g_error ("baresip is missing: install the Debian package baresip-core");

  b->inbuf = g_string_new (NULL);
  b->messages = g_ptr_array_new_with_free_func (g_free);
  b->sip_port = free_port_with_gap ();

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
                            b->sip_port, wav, ctrl_port);
  path = g_build_filename (fx->tmpdir, "config", NULL);
  g_file_set_contents (path, config, -1, &error);
  g_assert_no_error (error);
  g_free (path);

  accounts = g_strdup_printf ("<sip:b@127.0.0.1:%u>;regint=0;answermode=auto\n", b->sip_port);
  path = g_build_filename (fx->tmpdir, "accounts", NULL);
  g_file_set_contents (path, accounts, -1, &error);
  g_assert_no_error (error);

  {
    const char *argv[] = { exe, "-f", fx->tmpdir, NULL };

    b->proc = spawn (fx, G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE |
                     G_SUBPROCESS_FLAGS_STDIN_PIPE, argv);
  }

  deadline = g_get_monotonic_time () + WAIT_TIMEOUT_S * G_USEC_PER_SEC;
  while (!ctrl_connected (b, ctrl_port))
    if (g_get_monotonic_time () > deadline)
      g_error ("timed out waiting for baresip's ctrl_tcp");

  g_socket_set_blocking (b->ctrl, FALSE);
  b->ctrl_source = g_socket_create_source (b->ctrl, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
  g_source_set_callback (b->ctrl_source, (GSourceFunc) (void (*) (void)) on_ctrl_readable, b, NULL);
  g_source_attach (b->ctrl_source, NULL);
  g_source_unref (b->ctrl_source);
}

/* A command to baresip's menu through ctrl_tcp (a JSON netstring). */
static void
baresip_command (Baresip *b, const char *command, const char *params)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *json = g_strdup_printf ("{\"command\":\"%s\",\"params\":\"%s\","
                                           "\"token\":\"t\"}", command, params);
  g_autofree char *netstring = g_strdup_printf ("%zu:%s,", strlen (json), json);

  g_socket_set_blocking (b->ctrl, TRUE);
  g_socket_send (b->ctrl, netstring, strlen (netstring), NULL, &error);
  g_socket_set_blocking (b->ctrl, FALSE);
  g_assert_no_error (error);
}

static void
stop_baresip (Baresip *b)
{
  if (b->ctrl_source)
    g_source_destroy (b->ctrl_source);
  g_clear_object (&b->ctrl);
  if (b->proc && g_subprocess_get_identifier (b->proc))
    {
      g_subprocess_force_exit (b->proc);
      kefu_test_wait_exit (b->proc, "baresip to exit");
    }
  g_clear_object (&b->proc);
  g_string_free (b->inbuf, TRUE);
  g_ptr_array_unref (b->messages);
}

/* baresip plays a tone, kefu records it; digits both ways (RFC 4733), hold
 * both ways, and baresip's REFER reported to us, not obeyed */
static void
test_baresip (Fixture *fx, gconstpointer data)
{
  g_autofree char *tone_wav = tmp_path (fx, "baresip-plays.wav");
  g_autofree char *a_wav = tmp_path (fx, "a-plays.wav");
  g_autofree char *rec_wav = tmp_path (fx, "a-records.wav");
  g_autofree char *uri = NULL;
  g_autofree gint16 *rec = NULL;
  g_autoptr(GArray) pcm = g_array_new (FALSE, TRUE, sizeof (gint16));
  g_autoptr(GString) digits = g_string_new (NULL);
  struct kefu_rtp_stream_stats st;
  Baresip b = { 0 };
  SeenEvent *ev;
  gsize n = 0;
  guint id;

  (void) data;
  kefu_tones_append_silence (pcm, 8000 * 5);
  kefu_tones_mix_sine ((gint16 *) pcm->data, pcm->len, 8000, TONE_HZ, -10.0, 0.0);
  write_pcm (tone_wav, pcm);
  g_array_set_size (pcm, 0);
  kefu_tones_append_silence (pcm, 8000);
  write_pcm (a_wav, pcm);

  start_uas (fx);
  start_baresip (fx, &b, tone_wav);

  uri = g_strdup_printf ("sip:b@127.0.0.1:%u", b.sip_port);
  id = kefu_call_dial (fx->loop, fx->a.calls, NULL, uri, NULL);
  g_assert_cmpuint (id, !=, 0);
  ev = wait_for_event (&fx->a, KEFU_CALL_EVENT_ESTABLISHED);
  g_assert_cmpint (ev->telev_pt, >=, 96);
  g_free (wait_for_baresip (&b, "CALL_ESTABLISHED"));

  pump_for (1500);

  g_assert_cmpint (kefu_call_send_dtmf (fx->loop, fx->a.calls, id, RFC4733_DIGITS), ==, 0);
  while (digits->len < strlen (RFC4733_DIGITS))
    {
      g_autofree char *param = wait_for_baresip (&b, "CALL_DTMF_START");

      g_assert_cmpuint (strlen (param), ==, 1);
      g_string_append (digits, param);
    }
  g_assert_cmpstr (digits->str, ==, RFC4733_DIGITS);

  g_assert_cmpint (kefu_call_stats (fx->loop, fx->a.calls, id, &st), ==, 0);
  assert_good_stats (&st);

  /* baresip's digits reach us, as RFC 4733 events */
  baresip_command (&b, "sndcode", "7");
  ev = wait_for_event (&fx->a, KEFU_CALL_EVENT_DTMF);
  g_assert_cmpint (ev->digit, ==, '7');
  g_assert_cmpstr (ev->mode, ==, "rfc4733");

  /* baresip holds us and takes us back */
  baresip_command (&b, "hold", "");
  wait_for_event (&fx->a, KEFU_CALL_EVENT_REMOTE_HOLD);
  baresip_command (&b, "resume", "");
  wait_for_event (&fx->a, KEFU_CALL_EVENT_REMOTE_RESUMED);

  /* we hold baresip: it accepts the re-INVITE both ways */
  g_assert_cmpint (kefu_call_hold (fx->loop, fx->a.calls, id, TRUE), ==, 0);
  wait_for_event (&fx->a, KEFU_CALL_EVENT_HELD);
  g_assert_cmpint (kefu_call_hold (fx->loop, fx->a.calls, id, FALSE), ==, 0);
  wait_for_event (&fx->a, KEFU_CALL_EVENT_RESUMED);

  /* baresip asks us to go elsewhere: reported, not obeyed; we decline
   * and baresip hears so (it then ends the call on its own) */
  baresip_command (&b, "transfer", "sip:sales@127.0.0.1:5999");
  ev = wait_for_event (&fx->a, KEFU_CALL_EVENT_REFER);
  g_assert_cmpstr (ev->refer_to, ==, "sip:sales@127.0.0.1:5999");
  g_assert_cmpint (kefu_call_refer_decline (fx->loop, fx->a.calls, id), ==, 0);
  {
    g_autofree char *param = wait_for_baresip (&b, "TRANSFER_FAILED");

    g_assert_cmpstr (param, ==, "603 Declined");
  }

  /* whoever hangs up first, the call ends for us */
  (void) kefu_call_hangup (fx->loop, fx->a.calls, id);
  wait_for_event (&fx->a, KEFU_CALL_EVENT_CLOSED);
  stop_baresip (&b);

  load_recording (rec_wav, &rec, &n);
  g_assert_cmpuint (n, >, 8000);
  assert_has_tone (rec, n, TONE_HZ);
}

static guint64
packets_sent (Fixture *fx, Side *side, guint id)
{
  struct kefu_rtp_stream_stats st;

  g_assert_cmpint (kefu_call_stats (fx->loop, side->calls, id, &st), ==, 0);
  return st.packets_sent;
}

/* Holding, A sends nothing; resumed, it sends again.  DTMF as SIP INFO
 * arrives as digits with mode "info". */
static void
test_hold_and_info (Fixture *fx, gconstpointer data)
{
  g_autofree char *a_wav = tmp_path (fx, "a-plays.wav");
  g_autofree char *uri = NULL;
  g_autoptr(GString) digits = g_string_new (NULL);
  SeenEvent *ev;
  guint64 before;
  guint a_id, b_id;

  (void) data;
  write_tone_and_digits (a_wav);
  fx->a.dtmf_mode = "info";
  start_uas (fx);

  uri = g_strdup_printf ("sip:b@127.0.0.1:%u", fx->b.sip_port);
  a_id = kefu_call_dial (fx->loop, fx->a.calls, NULL, uri, NULL);
  ev = wait_for_event (&fx->b, KEFU_CALL_EVENT_INCOMING);
  b_id = ev->call_id;
  g_assert_cmpint (kefu_call_answer (fx->loop, fx->b.calls, b_id), ==, 0);
  wait_for_event (&fx->a, KEFU_CALL_EVENT_ESTABLISHED);
  pump_for (300);
  g_assert_cmpuint (packets_sent (fx, &fx->a, a_id), >, 5);
  g_assert_cmpuint (packets_sent (fx, &fx->b, b_id), >, 5);

  g_assert_cmpint (kefu_call_hold (fx->loop, fx->a.calls, a_id, TRUE), ==, 0);
  wait_for_event (&fx->a, KEFU_CALL_EVENT_HELD);
  wait_for_event (&fx->b, KEFU_CALL_EVENT_REMOTE_HOLD);
  pump_for (100);
  before = packets_sent (fx, &fx->a, a_id);
  pump_for (400);
  g_assert_cmpuint (packets_sent (fx, &fx->a, a_id), ==, before);
  before = packets_sent (fx, &fx->b, b_id);
  pump_for (400);
  g_assert_cmpuint (packets_sent (fx, &fx->b, b_id), ==, before);

  g_assert_cmpint (kefu_call_hold (fx->loop, fx->a.calls, a_id, FALSE), ==, 0);
  wait_for_event (&fx->a, KEFU_CALL_EVENT_RESUMED);
  wait_for_event (&fx->b, KEFU_CALL_EVENT_REMOTE_RESUMED);
  before = packets_sent (fx, &fx->a, a_id);
  pump_for (400);
  g_assert_cmpuint (packets_sent (fx, &fx->a, a_id), >, before + 10);

  g_assert_cmpint (kefu_call_send_dtmf (fx->loop, fx->a.calls, a_id, "5*9"), ==, 0);
  while (digits->len < 3)
    {
      ev = wait_for_event (&fx->b, KEFU_CALL_EVENT_DTMF);
      g_assert_cmpstr (ev->mode, ==, "info");
      g_string_append_c (digits, ev->digit);
    }
  g_assert_cmpstr (digits->str, ==, "5*9");

  g_assert_cmpint (kefu_call_hangup (fx->loop, fx->b.calls, b_id), ==, 0);
  wait_for_event (&fx->a, KEFU_CALL_EVENT_CLOSED);
}

static void
set_up_pair (Fixture *fx, gconstpointer data)
{
  (void) data;
  fixture_set_up (fx, TRUE);
}

static void
set_up_single (Fixture *fx, gconstpointer data)
{
  (void) data;
  fixture_set_up (fx, FALSE);
}

static void
tear_down (Fixture *fx, gconstpointer data)
{
  (void) data;
  fixture_tear_down (fx);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/phone/media-call/kefu-to-kefu", Fixture, NULL,
              set_up_pair, test_kefu_to_kefu, tear_down);
  g_test_add ("/phone/media-call/hold-and-info", Fixture, NULL,
              set_up_pair, test_hold_and_info, tear_down);
  g_test_add ("/phone/media-call/baresip", Fixture, NULL,
              set_up_single, test_baresip, tear_down);

  return g_test_run ();
}
