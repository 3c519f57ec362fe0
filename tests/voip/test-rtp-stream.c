/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Calls' audio end to end: two RTP streams (or one and a hand-made peer)
 * talking over 127.0.0.1 in this process, on libre's loop in real time,
 * each playing a tone from a WAV file.  What a user would notice is read
 * back from the streams' own recordings: the far tone arrives, mute makes
 * it silent for that span and it comes back, each party is on its own
 * channel, inband digits arrive once each and in order.  Tones are
 * measured with a Goertzel filter at their frequency.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

/* libre 1.1's headers take the platform from macros its own build sets. */
#ifndef HAVE_INTTYPES_H
#define HAVE_INTTYPES_H 1
#endif
#ifndef HAVE_STDBOOL_H
#define HAVE_STDBOOL_H 1
#endif
#ifndef HAVE_INET6
#define HAVE_INET6 1
#endif
#include <re.h>

#include "kefu-dtmf-tones.h"
#include "kefu-g711.h"
#include "kefu-opus.h"
#include "kefu-rtp-stream.h"
#include "kefu-wav.h"

#include <gio/gio.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <opus.h>
#include <string.h>

#define RATE       8000
#define FRAME      160
#define AMPLITUDE  8000.0
#define OUR_HZ     1000.0   /* what A plays */
#define FAR_HZ     600.0    /* what B plays */
#define TELEV_PT   101

static struct memstat mem_at_start;
static bool mem_counted;
static char *tmp_dir;

/* --- Signal measurement ---------------------------------------------------- */

static double
tone_amplitude (const int16_t *x, size_t n, double freq_hz)
{
  double w = 2.0 * G_PI * freq_hz / RATE;
  double c = 2.0 * cos (w);
  double s1 = 0, s2 = 0;

  for (size_t i = 0; i < n; i++)
    {
      double s0 = x[i] + c * s1 - s2;

      s2 = s1;
      s1 = s0;
    }
  return 2.0 * sqrt (s1 * s1 + s2 * s2 - c * s1 * s2) / (double) n;
}

static double
rms (const int16_t *x, size_t n)
{
  double sum = 0;

  for (size_t i = 0; i < n; i++)
    sum += (double) x[i] * x[i];
  return n ? sqrt (sum / (double) n) : 0.0;
}

static double
tone_share (const int16_t *x, size_t n, double freq_hz)
{
  double a = tone_amplitude (x, n, freq_hz);
  double r = rms (x, n);

  return r > 0 ? (a * a / 2.0) / (r * r) : 0.0;
}

/* A stereo recording, split. */
struct recording {
  int16_t *left;
  int16_t *right;
  size_t   n;
};

static void
recording_load (struct recording *r, const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autofree int16_t *samples = NULL;
  guint channels = 0, rate = 0;

  g_assert_true (kefu_wav_load_interleaved (path, &samples, &r->n, &channels, &rate, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (channels, ==, 2);
  g_assert_cmpuint (rate, ==, RATE);
  r->left = g_new (int16_t, r->n + 1);
  r->right = g_new (int16_t, r->n + 1);
  for (size_t i = 0; i < r->n; i++)
    {
      r->left[i] = samples[2 * i];
      r->right[i] = samples[2 * i + 1];
    }
}

static void
recording_clear (struct recording *r)
{
  g_free (r->left);
  g_free (r->right);
}

/* Over [from_ms, to_ms) of a channel: the tone is there, at about its
 * level, and it is most of what is there. */
static void
assert_tone (const int16_t *x, size_t n, unsigned from_ms, unsigned to_ms, double freq_hz,
             const char *what)
{
  size_t from = (size_t) from_ms * RATE / 1000, to = (size_t) to_ms * RATE / 1000;
  double a, share;

  g_assert_cmpuint (to, <=, n);
  a = tone_amplitude (x + from, to - from, freq_hz);
  share = tone_share (x + from, to - from, freq_hz);
  g_test_message ("%s: %.0f Hz at %.0f (%.1f dB), %.2f of the energy", what, freq_hz, a,
                  20 * log10 (MAX (a, 1.0) / AMPLITUDE), share);
  g_assert_cmpfloat (fabs (20 * log10 (MAX (a, 1.0) / AMPLITUDE)), <, 3.0);
  g_assert_cmpfloat (share, >, 0.8);
}

/* --- Peers ------------------------------------------------------------------ */

struct peer {
  struct kefu_rtp_stream *s;
  GString *digits;
  GString *modes;        /* first letter of each digit's mode: 'r' or 'i' */
  char *recording;       /* path */
};

struct codec {
  const char *name;
  int         pt;
  uint32_t    srate;
};

static const struct codec opus = { "opus", 96, 48000 };
static const struct codec pcmu = { "PCMU", 0, 8000 };
static const struct codec pcma = { "PCMA", 8, 8000 };

static void
on_dtmf (char digit, const char *mode, void *arg)
{
  struct peer *p = arg;

  g_assert_true (g_str_equal (mode, "rfc4733") || g_str_equal (mode, "inband"));
  g_string_append_c (p->digits, digit);
  g_string_append_c (p->modes, mode[0]);
}

static char *
tone_wav (double freq_hz)
{
  g_autoptr (GError) error = NULL;
  g_autofree int16_t *pcm = g_new (int16_t, RATE);
  char *path = g_strdup_printf ("%s/tone-%.0f.wav", tmp_dir, freq_hz);

  /* one second of whole periods: it loops without a click */
  for (size_t i = 0; i < RATE; i++)
    pcm[i] = (int16_t) lrint (AMPLITUDE * sin (2.0 * G_PI * freq_hz * (double) i / RATE));
  g_assert_true (kefu_wav_save (path, pcm, RATE, RATE, &error));
  return path;
}

static void
peer_init (struct peer *p, double tone_hz, const char *name)
{
  struct sa laddr;

  memset (p, 0, sizeof *p);
  g_assert_cmpint (sa_set_str (&laddr, "127.0.0.1", 0), ==, 0);
  g_assert_cmpint (kefu_rtp_stream_alloc (&p->s, &laddr, on_dtmf, p), ==, 0);
  p->digits = g_string_new (NULL);
  p->modes = g_string_new (NULL);
  p->recording = g_strdup_printf ("%s/%s.wav", tmp_dir, name);

  if (tone_hz > 0)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *wav = tone_wav (tone_hz);
      struct kefu_audio_source *src = kefu_audio_file_source_new (wav, true, &error);

      g_assert_no_error (error);
      (void) g_unlink (wav);   /* the source holds it all */
      kefu_rtp_stream_set_audio (p->s, src, NULL);
    }
}

static void
peer_start (struct peer *p, const struct codec *c, uint16_t far_port)
{
  struct sa raddr;
  struct kefu_rtp_stream_params params = {
    .codec = c->name,
    .pt = c->pt,
    .srate = c->srate,
    .telev_pt = TELEV_PT,
    .raddr = &raddr,
    .send = true,
    .recv = true,
  };

  g_assert_cmpint (sa_set_str (&raddr, "127.0.0.1", far_port), ==, 0);
  g_assert_cmpint (kefu_rtp_stream_update (p->s, &params), ==, 0);
}

static void
peer_clear (struct peer *p)
{
  p->s = mem_deref (p->s);
  g_string_free (p->digits, TRUE);
  g_string_free (p->modes, TRUE);
  (void) g_unlink (p->recording);
  g_free (p->recording);
}

/* A and B call each other with codec c. */
static void
call_start (struct peer *a, struct peer *b, const struct codec *c)
{
  peer_start (a, c, kefu_rtp_stream_local_port (b->s));
  peer_start (b, c, kefu_rtp_stream_local_port (a->s));
}

static void
on_run_over (void *arg)
{
  (void) arg;
  re_cancel ();
}

/* Lets libre's loop (and with it the streams) run for ms. */
static void
run_for (unsigned ms)
{
  struct tmr t;

  tmr_init (&t);
  tmr_start (&t, ms, on_run_over, NULL);
  g_assert_cmpint (re_main (NULL), ==, 0);
  tmr_cancel (&t);
}

static void
record (struct peer *p)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (kefu_rtp_stream_record_start (p->s, p->recording, &error));
  g_assert_no_error (error);
}

/* --- Tests ------------------------------------------------------------------ */

/* Both parties play their tone and record: each recording has its own
 * party's tone on the left and the other's on the right, and the
 * statistics say the call went well. */
static void
test_two_way (gconstpointer data)
{
  const struct codec *c = data;
  struct peer a, b;
  struct kefu_rtp_stream_stats st;
  struct recording ra, rb;

  peer_init (&a, OUR_HZ, "a");
  peer_init (&b, FAR_HZ, "b");
  record (&a);
  record (&b);
  call_start (&a, &b, c);
  run_for (1500);

  kefu_rtp_stream_stats (a.s, &st);
  g_assert_true (st.recording);
  g_assert_false (st.muted);
  kefu_rtp_stream_stats (b.s, &st);
  g_test_message ("B: %s, %" G_GUINT64_FORMAT " sent, %" G_GUINT64_FORMAT " received, %"
                  G_GUINT64_FORMAT " lost, MOS %.2f", st.codec, st.packets_sent,
                  st.packets_received, st.packets_lost, st.mos);
  g_assert_cmpstr (st.codec, ==, c->name);
  g_assert_cmpuint (st.packets_sent, >=, 60);
  g_assert_cmpuint (st.packets_received, >=, 60);
  g_assert_cmpuint (st.packets_lost, ==, 0);
  g_assert_cmpfloat (st.mos, >, 4.0);

  /* stopping the stream completes the recording */
  kefu_rtp_stream_stop (a.s);
  kefu_rtp_stream_stop (b.s);
  kefu_rtp_stream_stats (a.s, &st);
  g_assert_false (st.recording);

  recording_load (&ra, a.recording);
  recording_load (&rb, b.recording);
  g_test_message ("recorded: A %zu ms, B %zu ms", ra.n * 1000 / RATE, rb.n * 1000 / RATE);
  g_assert_cmpuint (ra.n, >=, RATE * 13 / 10);
  g_assert_cmpuint (ra.n, <=, RATE * 17 / 10);
  /* the far side arrives after the jitter buffer's delay: skip 300 ms */
  assert_tone (ra.left, ra.n, 300, 1300, OUR_HZ, "A left (sent)");
  assert_tone (ra.right, ra.n, 300, 1300, FAR_HZ, "A right (played)");
  assert_tone (rb.left, rb.n, 300, 1300, FAR_HZ, "B left (sent)");
  assert_tone (rb.right, rb.n, 300, 1300, OUR_HZ, "B right (played)");
  /* and not the other way round */
  g_assert_cmpfloat (tone_amplitude (ra.left + 2400, 8000, FAR_HZ), <, AMPLITUDE / 100);
  g_assert_cmpfloat (tone_amplitude (rb.right + 2400, 8000, FAR_HZ), <, AMPLITUDE / 100);

  recording_clear (&ra);
  recording_clear (&rb);
  peer_clear (&a);
  peer_clear (&b);
}

/* Frames of 20 ms: the longest run of silent ones (30 dB or more under
 * the tone) after skip, where it starts, and how many loud ones (the tone
 * at half its level or more) come before and after it. */
struct silence {
  unsigned start, len, loud_before, loud_after;
};

static struct silence
find_silence (const int16_t *x, size_t n, unsigned skip, double freq_hz)
{
  struct silence best = { 0 };
  unsigned run = 0, run_start = 0;
  unsigned frames = (unsigned) (n / FRAME);

  for (unsigned f = skip; f < frames; f++)
    {
      if (rms (x + f * FRAME, FRAME) < AMPLITUDE / G_SQRT2 / 31.6)
        {
          if (run++ == 0)
            run_start = f;
          if (run > best.len)
            {
              best.len = run;
              best.start = run_start;
            }
        }
      else
        run = 0;
    }
  for (unsigned f = skip; f < frames; f++)
    if (tone_amplitude (x + f * FRAME, FRAME, freq_hz) > AMPLITUDE / 2)
      {
        if (f < best.start)
          best.loud_before++;
        else if (f >= best.start + best.len)
          best.loud_after++;
      }
  return best;
}

/* A mutes for a second in the middle of three: B hears silence for that
 * second and the tone again after it; RTP and RFC 4733 go on meanwhile. */
static void
test_mute (gconstpointer data)
{
  const struct codec *c = data;
  struct peer a, b;
  struct kefu_rtp_stream_stats st_a0, st_b0, st_a1, st_b1;
  struct recording ra, rb;
  struct silence sa_, sb;

  peer_init (&a, OUR_HZ, "a");
  peer_init (&b, 0, "b");
  record (&a);
  record (&b);
  call_start (&a, &b, c);
  run_for (1000);

  kefu_rtp_stream_set_mute (a.s, true);
  kefu_rtp_stream_stats (a.s, &st_a0);
  kefu_rtp_stream_stats (b.s, &st_b0);
  g_assert_true (st_a0.muted);
  g_assert_cmpint (kefu_rtp_stream_send_dtmf (a.s, "5", 100), ==, 0);
  run_for (1000);
  kefu_rtp_stream_stats (a.s, &st_a1);
  kefu_rtp_stream_stats (b.s, &st_b1);
  kefu_rtp_stream_set_mute (a.s, false);
  run_for (1000);

  /* muted, packets still went both ways */
  g_assert_cmpuint (st_a1.packets_sent - st_a0.packets_sent, >=, 40);
  g_assert_cmpuint (st_b1.packets_received - st_b0.packets_received, >=, 35);
  g_assert_cmpstr (b.digits->str, ==, "5");
  g_assert_cmpstr (b.modes->str, ==, "r");
  kefu_rtp_stream_stats (a.s, &st_a1);
  g_assert_false (st_a1.muted);

  kefu_rtp_stream_stop (a.s);
  kefu_rtp_stream_stop (b.s);
  recording_load (&ra, a.recording);
  recording_load (&rb, b.recording);

  /* A's own recording: exactly the muted ticks are silent on the left
   * (less the telephone-event's, silent already) */
  sa_ = find_silence (ra.left, ra.n, 5, OUR_HZ);
  sb = find_silence (rb.right, rb.n, 15, OUR_HZ);
  g_test_message ("A sent silence from %u ms for %u ms (%u loud frames before, %u after); "
                  "B heard it from %u ms for %u ms (%u, %u)",
                  sa_.start * 20, sa_.len * 20, sa_.loud_before, sa_.loud_after,
                  sb.start * 20, sb.len * 20, sb.loud_before, sb.loud_after);
  g_assert_cmpuint (sa_.len, >=, 45);
  g_assert_cmpuint (sa_.len, <=, 55);
  g_assert_cmpuint (sa_.loud_before, >=, 40);
  g_assert_cmpuint (sa_.loud_after, >=, 40);
  /* B: the same second, a jitter buffer's delay later, give or take a
   * frame of codec delay at its edges; the digit that opened it did not
   * make the last of the tone ring on */
  g_assert_cmpuint (sb.len, >=, 45);
  g_assert_cmpuint (sb.len, <=, 55);
  g_assert_cmpuint (sb.loud_before, >=, 30);
  g_assert_cmpuint (sb.loud_after, >=, 30);
  g_assert_cmpuint (sb.start, >=, sa_.start);
  g_assert_cmpuint (sb.start, <=, sa_.start + 5);

  recording_clear (&ra);
  recording_clear (&rb);
  peer_clear (&a);
  peer_clear (&b);
}

struct inband_case {
  const struct codec *codec;
  bool muted;
};

static const struct inband_case inband_opus = { &opus, false };
static const struct inband_case inband_pcmu = { &pcmu, false };
static const struct inband_case inband_pcma_muted = { &pcma, true };

/* A sends digits as tones over its own 1 kHz: B hears each once, in
 * order, as inband; A, listening too, hears nothing in B's 600 Hz. */
static void
test_inband (gconstpointer data)
{
  const struct inband_case *ic = data;
  static const char digits[] = "123#*0ABCD";
  struct peer a, b;
  struct kefu_rtp_stream_stats st;

  peer_init (&a, OUR_HZ, "a");
  peer_init (&b, FAR_HZ, "b");
  kefu_rtp_stream_set_inband_detect (a.s, true);
  kefu_rtp_stream_set_inband_detect (b.s, true);
  call_start (&a, &b, ic->codec);
  kefu_rtp_stream_set_mute (a.s, ic->muted);
  run_for (300);

  /* a bad digit: nothing of it is sent */
  g_assert_cmpint (kefu_rtp_stream_send_inband (a.s, "1x", 0), ==, EINVAL);
  g_assert_cmpint (kefu_rtp_stream_send_inband (a.s, digits, 0), ==, 0);
  /* ten digits of 100 ms, each with 100 ms of gap after it */
  run_for (2400);

  kefu_rtp_stream_stats (b.s, &st);
  g_test_message ("%s%s: B heard \"%s\" (%s); %.1f %% lost or late, jitter %.1f ms",
                  ic->codec->name, ic->muted ? " muted" : "", b.digits->str, b.modes->str,
                  st.loss_percent, st.jitter_ms);
  g_assert_cmpstr (b.digits->str, ==, digits);
  g_assert_cmpstr (b.modes->str, ==, "iiiiiiiiii");
  g_assert_cmpstr (a.digits->str, ==, "");
  g_assert_cmpuint (st.dtmf_received, ==, strlen (digits));

  /* off: no more */
  kefu_rtp_stream_set_inband_detect (b.s, false);
  g_assert_cmpint (kefu_rtp_stream_send_inband (a.s, "9", 0), ==, 0);
  run_for (500);
  g_assert_cmpstr (b.digits->str, ==, digits);

  peer_clear (&a);
  peer_clear (&b);
}

/* A re-INVITE moves the call from PCMU to Opus (another RTP clock, another
 * jitter buffer): the tone goes on after it, and the statistics count the
 * whole call. */
static void
test_codec_change (void)
{
  struct peer a, b;
  struct kefu_rtp_stream_stats before, after;
  struct recording rb;

  peer_init (&a, OUR_HZ, "a");
  peer_init (&b, 0, "b");
  record (&b);
  call_start (&a, &b, &pcmu);
  run_for (600);
  kefu_rtp_stream_stats (b.s, &before);
  g_assert_cmpstr (before.codec, ==, "PCMU");

  call_start (&a, &b, &opus);
  run_for (1000);
  kefu_rtp_stream_stats (b.s, &after);
  g_test_message ("B received %" G_GUINT64_FORMAT " with PCMU, %" G_GUINT64_FORMAT
                  " in all; lost %" G_GUINT64_FORMAT ", MOS %.2f", before.packets_received,
                  after.packets_received, after.packets_lost, after.mos);
  g_assert_cmpstr (after.codec, ==, "opus");
  g_assert_cmpuint (after.packets_received, >=, before.packets_received + 45);
  g_assert_cmpuint (after.packets_lost, ==, 0);
  g_assert_cmpfloat (after.mos, >, 4.0);

  kefu_rtp_stream_stop (b.s);
  recording_load (&rb, b.recording);
  assert_tone (rb.right, rb.n, 200, 600, OUR_HZ, "B right, PCMU");
  /* up to 1.5 s of the 1.6 s run: the recording starts with the first
   * packet in, a tick or two after the call, so its last 100 ms may not
   * be there */
  assert_tone (rb.right, rb.n, 800, 1500, OUR_HZ, "B right, Opus");
  recording_clear (&rb);

  peer_clear (&a);
  peer_clear (&b);
}

/* A bad path is an error naming it, and the call goes on; a second
 * recording at once is refused, the first one carries on. */
static void
test_record_errors (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *bad = g_strdup_printf ("%s/no-such-dir/call.wav", tmp_dir);
  struct peer a, b;
  struct kefu_rtp_stream_stats st;
  struct recording ra;

  peer_init (&a, OUR_HZ, "a");
  peer_init (&b, FAR_HZ, "b");
  call_start (&a, &b, &opus);

  g_assert_false (kefu_rtp_stream_record_start (a.s, bad, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, bad));
  g_clear_error (&error);
  kefu_rtp_stream_stats (a.s, &st);
  g_assert_false (st.recording);

  record (&a);
  g_assert_false (kefu_rtp_stream_record_start (a.s, bad, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_BUSY);
  g_clear_error (&error);

  run_for (600);
  kefu_rtp_stream_stats (b.s, &st);
  g_assert_cmpuint (st.packets_received, >=, 20);
  kefu_rtp_stream_stats (a.s, &st);
  g_assert_true (st.recording);

  kefu_rtp_stream_record_stop (a.s);
  kefu_rtp_stream_record_stop (a.s);
  kefu_rtp_stream_stats (a.s, &st);
  g_assert_false (st.recording);
  recording_load (&ra, a.recording);
  g_assert_cmpuint (ra.n, >=, RATE / 2);
  g_assert_cmpuint (ra.n, <=, RATE * 8 / 10);
  recording_clear (&ra);

  /* the call went on */
  run_for (200);
  kefu_rtp_stream_stats (b.s, &st);
  g_assert_cmpuint (st.packets_received, >=, 30);

  peer_clear (&a);
  peer_clear (&b);
}

/* The file on disk is a valid WAV while the call goes on (a crash loses
 * only the tail), and freeing the stream completes it. */
static void
test_record_as_it_goes (void)
{
  struct peer a, b;
  struct recording ra;

  peer_init (&a, OUR_HZ, "a");
  peer_init (&b, FAR_HZ, "b");
  call_start (&a, &b, &pcmu);
  record (&a);
  run_for (1500);

  recording_load (&ra, a.recording);
  g_test_message ("during the call: %zu ms on disk", ra.n * 1000 / RATE);
  g_assert_cmpuint (ra.n, >=, RATE);
  assert_tone (ra.left, ra.n, 100, 900, OUR_HZ, "on disk so far, left");
  recording_clear (&ra);

  /* freed without a stop, as a crashed call session would */
  a.s = mem_deref (a.s);
  recording_load (&ra, a.recording);
  g_assert_cmpuint (ra.n, >=, RATE * 14 / 10);
  g_assert_cmpuint (ra.n, <=, RATE * 17 / 10);
  recording_clear (&ra);

  peer_clear (&a);
  peer_clear (&b);
}

/* --- A hand-made peer -------------------------------------------------------- */

/* What a browser, baresip or a gateway might send, from a PCM buffer: Opus
 * at 48 kHz stereo or G.711, 20 ms packets with one in ten lost on the way,
 * then (optionally) packets twice as long. */
struct fake_peer {
  struct udp_sock *us;
  struct tmr tmr;
  struct sa dst;
  const struct codec *codec;
  OpusEncoder *enc;      /* Opus only */
  const int16_t *pcm;    /* interleaved stereo at 48 kHz for Opus, else 8 kHz mono */
  size_t pcm_len;        /* sample frames */
  size_t pcm_pos;
  unsigned drop_phase;   /* of the 20 ms packets, the one in ten that is lost */
  unsigned n_short;      /* 20 ms packets to send before the 40 ms ones */
  unsigned n_long;
  uint16_t seq;
  uint32_t ts;
  uint64_t next_ms;
  unsigned packets;
  unsigned dropped;
  unsigned long_packets;
};

static void
on_peer_recv (const struct sa *src, struct mbuf *mb, void *arg)
{
  (void) src;
  (void) mb;
  (void) arg;
}

static bool
is_opus (const struct fake_peer *p)
{
  return p->codec == &opus;
}

static void
fake_peer_send (struct fake_peer *p)
{
  bool long_packet = p->packets >= p->n_short;
  unsigned rate = is_opus (p) ? 48000 : RATE;
  size_t frames = (long_packet ? 40 : 20) * rate / 1000;
  g_autofree int16_t *pcm = g_new0 (int16_t, 2 * frames);
  unsigned channels = is_opus (p) ? 2 : 1;
  uint8_t packet[1500];
  size_t len;

  for (size_t i = 0; i < frames * channels && p->pcm_pos * channels + i < p->pcm_len * channels; i++)
    pcm[i] = p->pcm[p->pcm_pos * channels + i];
  p->pcm_pos += frames;

  if (is_opus (p))
    {
      opus_int32 n = opus_encode (p->enc, pcm, (int) frames, packet, sizeof packet);

      g_assert_cmpint (n, >, 0);
      len = (size_t) n;
    }
  else
    {
      len = frames;
      if (p->codec == &pcma)
        kefu_g711_alaw_encode (packet, pcm, frames);
      else
        kefu_g711_ulaw_encode (packet, pcm, frames);
    }

  if (!long_packet && p->packets % 10 == p->drop_phase)
    {
      p->dropped++;
    }
  else
    {
      struct rtp_header hdr = {
        .ver = RTP_VERSION, .m = p->packets == 0, .pt = (uint8_t) p->codec->pt,
        .seq = p->seq, .ts = p->ts, .ssrc = 0x4b454655,
      };
      struct mbuf *mb = mbuf_alloc (RTP_HEADER_SIZE + len);

      g_assert_cmpint (rtp_hdr_encode (mb, &hdr), ==, 0);
      g_assert_cmpint (mbuf_write_mem (mb, packet, len), ==, 0);
      mb->pos = 0;
      g_assert_cmpint (udp_send (p->us, &p->dst, mb), ==, 0);
      mem_deref (mb);
    }
  if (long_packet)
    p->long_packets++;
  p->packets++;
  p->seq++;
  p->ts += (uint32_t) (long_packet ? 2 : 1) * p->codec->srate / 50;
}

static void
on_peer_tick (void *arg)
{
  struct fake_peer *p = arg;
  uint64_t now = tmr_jiffies ();

  while (p->next_ms <= now && p->packets < p->n_short + p->n_long)
    {
      p->next_ms += p->packets >= p->n_short ? 40 : 20;
      fake_peer_send (p);
    }
  if (p->packets < p->n_short + p->n_long)
    tmr_start (&p->tmr, p->next_ms - now, on_peer_tick, p);
}

/* Sends all its packets to b (started with the peer's codec) and waits
 * for the last to be played. */
static void
fake_peer_run (struct fake_peer *p, struct peer *b)
{
  struct sa laddr;
  int oerr = 0;

  g_assert_cmpint (sa_set_str (&laddr, "127.0.0.1", 0), ==, 0);
  g_assert_cmpint (udp_listen (&p->us, &laddr, on_peer_recv, NULL), ==, 0);
  g_assert_cmpint (udp_local_get (p->us, &laddr), ==, 0);
  g_assert_cmpint (sa_set_str (&p->dst, "127.0.0.1", kefu_rtp_stream_local_port (b->s)), ==, 0);
  if (is_opus (p))
    {
      p->enc = opus_encoder_create (48000, 2, OPUS_APPLICATION_AUDIO, &oerr);
      g_assert_nonnull (p->enc);
    }
  tmr_init (&p->tmr);

  peer_start (b, p->codec, sa_port (&laddr));
  p->next_ms = tmr_jiffies ();
  on_peer_tick (p);
  run_for (p->n_short * 20 + p->n_long * 40 + 300);
  g_assert_cmpuint (p->packets, ==, p->n_short + p->n_long);

  tmr_cancel (&p->tmr);
  p->us = mem_deref (p->us);
  if (p->enc)
    opus_encoder_destroy (p->enc);
}

/* B plays what the peer sends: the tone throughout, lost packets
 * concealed, 40 ms packets played whole, and the losses counted. */
static void
test_peer_with_loss (gconstpointer data)
{
  const struct codec *c = data;
  struct fake_peer p = {
    .codec = c, .drop_phase = 5, .n_short = 75, .n_long = 30,   /* 1.5 s, then 1.2 s */
  };
  struct peer b;
  struct kefu_rtp_stream_stats st;
  struct recording rb;
  unsigned quiet = 0;
  g_autofree int16_t *pcm = NULL;

  /* Opus: the tone on the left only, whose mono mix has it at half level */
  if (is_opus (&p))
    {
      p.pcm_len = 3 * 48000;
      pcm = g_new0 (int16_t, 2 * p.pcm_len);
      for (size_t i = 0; i < p.pcm_len; i++)
        pcm[2 * i] = (int16_t) lrint (2 * AMPLITUDE * sin (2.0 * G_PI * OUR_HZ * (double) i / 48000));
    }
  else
    {
      p.pcm_len = 3 * RATE;
      pcm = g_new0 (int16_t, p.pcm_len);
      for (size_t i = 0; i < p.pcm_len; i++)
        pcm[i] = (int16_t) lrint (AMPLITUDE * sin (2.0 * G_PI * OUR_HZ * (double) i / RATE));
    }
  p.pcm = pcm;

  peer_init (&b, FAR_HZ, "b");
  record (&b);
  fake_peer_run (&p, &b);

  kefu_rtp_stream_stats (b.s, &st);
  g_test_message ("peer sent %u (%u lost on the way, %u of 40 ms); B: %" G_GUINT64_FORMAT
                  " received, %" G_GUINT64_FORMAT " lost, %.1f %%, MOS %.2f",
                  p.packets - p.dropped, p.dropped, p.long_packets, st.packets_received,
                  st.packets_lost, st.loss_percent, st.mos);
  g_assert_cmpuint (st.packets_received, ==, p.packets - p.dropped);
  g_assert_cmpuint (st.packets_lost, ==, p.dropped);
  g_assert_cmpfloat (st.loss_percent, >, 5.0);
  g_assert_cmpfloat (st.mos, <, 4.2);

  kefu_rtp_stream_stop (b.s);
  recording_load (&rb, b.recording);

  /* every 20 ms frame between the first and the last packet has the tone:
   * concealment filled the losses, the halves of 40 ms packets follow each
   * other */
  for (size_t f = 300 * RATE / 1000 / FRAME; f < (size_t) 2600 * RATE / 1000 / FRAME; f++)
    {
      double a = tone_amplitude (rb.right + f * FRAME, FRAME, OUR_HZ);

      if (a < AMPLITUDE / 4)
        {
          g_test_message ("quiet frame at %zu ms: %.0f", f * 20, a);
          quiet++;
        }
    }
  g_assert_cmpuint (quiet, <=, 2);
  assert_tone (rb.right, rb.n, 300, 1500, OUR_HZ, "B right, 20 ms packets with loss");
  assert_tone (rb.right, rb.n, 1600, 2600, OUR_HZ, "B right, 40 ms packets");

  recording_clear (&rb);
  peer_clear (&b);
}

/* A lost packet in the middle of each inband digit: concealment bridges
 * it, and each digit is heard once, not twice.  (Not with Opus: after a
 * loss its decoder takes some 60 ms to settle, distorting the tone enough
 * for the detector to let go; the FEC that would rebuild the frame needs
 * the next packet at hand, which the jitter buffer does not show.) */
static void
test_inband_with_loss (gconstpointer data)
{
  const struct codec *c = data;
  static const char digits[] = "123#*0ABCD";
  /* 200 ms of silence, then digits of 100 ms tone + 100 ms gap: each
   * digit's 3rd packet is lost */
  struct fake_peer p = { .codec = c, .drop_phase = 2, .n_short = 10 + 10 * 10 + 10 };
  g_autoptr (GArray) tones = g_array_new (FALSE, TRUE, sizeof (int16_t));
  g_autoptr (GArray) stereo = g_array_new (FALSE, TRUE, sizeof (int16_t));
  struct peer b;

  kefu_tones_append_silence (tones, RATE / 5);
  g_assert_true (kefu_dtmf_tones_append (tones, RATE, digits, NULL));
  kefu_tones_append_silence (tones, RATE / 5);
  if (is_opus (&p))
    {
      /* 48 kHz stereo: each 8 kHz sample six times, on both channels */
      for (guint i = 0; i < tones->len * 6; i++)
        {
          int16_t v = g_array_index (tones, int16_t, i / 6);

          g_array_append_val (stereo, v);
          g_array_append_val (stereo, v);
        }
      p.pcm = (const int16_t *) stereo->data;
      p.pcm_len = stereo->len / 2;
    }
  else
    {
      p.pcm = (const int16_t *) tones->data;
      p.pcm_len = tones->len;
    }

  peer_init (&b, FAR_HZ, "b");
  kefu_rtp_stream_set_inband_detect (b.s, true);
  fake_peer_run (&p, &b);

  g_test_message ("%s, %u of %u packets lost: B heard \"%s\"", c->name, p.dropped, p.packets,
                  b.digits->str);
  g_assert_cmpuint (p.dropped, ==, 12);
  g_assert_cmpstr (b.digits->str, ==, digits);
  g_assert_cmpstr (b.modes->str, ==, "iiiiiiiiii");

  peer_clear (&b);
}

/* --- Harness ---------------------------------------------------------------- */

static void
check_libre_memory (void)
{
  struct memstat now;

  if (!mem_counted)
    return;
  g_assert_cmpint (mem_get_stat (&now), ==, 0);
  if (now.blocks_cur != mem_at_start.blocks_cur)
    mem_debug ();
  g_assert_cmpuint (now.blocks_cur, ==, mem_at_start.blocks_cur);
}

struct checked {
  GTestDataFunc func;
  gconstpointer data;
};

static void
run_checked (gconstpointer data)
{
  const struct checked *c = data;

  c->func (c->data);
  check_libre_memory ();
}

static void
add (const char *path, GTestDataFunc func, gconstpointer data)
{
  /* static: tests left out by -p never get to free theirs */
  static struct checked checked[32];
  static unsigned n;
  struct checked *c;

  g_assert_cmpuint (n, <, G_N_ELEMENTS (checked));
  c = &checked[n++];
  c->func = func;
  c->data = data;
  g_test_add_data_func (path, c, run_checked);
}

static void
no_data (gconstpointer data)
{
  void (*func) (void) = (void (*) (void)) data;

  func ();
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (libre_init (), ==, 0);
  mem_counted = mem_get_stat (&mem_at_start) == 0;
  tmp_dir = g_dir_make_tmp ("kefu-rtp-stream-XXXXXX", &error);
  g_assert_no_error (error);

  add ("/rtp-stream/opus/two-way", test_two_way, &opus);
  add ("/rtp-stream/pcmu/two-way", test_two_way, &pcmu);
  add ("/rtp-stream/opus/mute", test_mute, &opus);
  add ("/rtp-stream/pcma/mute", test_mute, &pcma);
  add ("/rtp-stream/opus/inband", test_inband, &inband_opus);
  add ("/rtp-stream/pcmu/inband", test_inband, &inband_pcmu);
  add ("/rtp-stream/pcma/inband-muted", test_inband, &inband_pcma_muted);
  add ("/rtp-stream/opus/stereo-peer-with-loss", test_peer_with_loss, &opus);
  add ("/rtp-stream/pcmu/peer-with-loss", test_peer_with_loss, &pcmu);
  add ("/rtp-stream/pcmu/inband-with-loss", test_inband_with_loss, &pcmu);
  add ("/rtp-stream/codec-change", no_data, (gconstpointer) test_codec_change);
  add ("/rtp-stream/record/errors", no_data, (gconstpointer) test_record_errors);
  add ("/rtp-stream/record/as-it-goes", no_data, (gconstpointer) test_record_as_it_goes);

  ret = g_test_run ();

  (void) g_rmdir (tmp_dir);
  g_free (tmp_dir);
  libre_close ();
  return ret;
}
