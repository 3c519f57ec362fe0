/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The `pulse` audio back-end and the ringer against a real PulseAudio
 * daemon: tests/helpers/with-pulseaudio starts a private one whose null
 * sinks stand in for sound cards, and whatever plays on a sink is heard on
 * its monitor source.  The tests play and record the way a call does, one
 * 20 ms frame each way per tick, and judge what was recorded: the tone at
 * its frequency and level, the ringer's cadence, silence where nothing
 * should play.
 */
#include "config.h"

#include "kefu-audio-file.h"
#include "kefu-audio-pulse.h"
#include "kefu-ringer.h"
#include "kefu-wav.h"

#include <gio/gio.h>
#include <glib/gstdio.h>

#include <math.h>
#include <signal.h>
#include <stdlib.h>

enum {
  RATE  = KEFU_AUDIO_RATE,
  FRAME = KEFU_AUDIO_FRAME_SAMPLES,
  TICK_US = 20000,
  MAX_SOURCES = 2,
};

/* --- judging what was recorded ------------------------------------------ */

static gsize
at_s (double seconds)
{
  return (gsize) lround (seconds * RATE);
}

static double
level_dbfs (const gint16 *x, gsize n)
{
  double sum = 0;

  for (gsize i = 0; i < n; i++)
    sum += (double) x[i] * x[i];

  return sum > 0 ? 10 * log10 (sum / n / (32768.0 * 32768.0)) : -200;
}

/* The share of the signal's energy at `hz` (Goertzel): 1 for a pure sine
 * of that frequency, near 0 for another frequency or noise. */
static double
tone_share (const gint16 *x, gsize n, double hz)
{
  double coeff = 2 * cos (2 * G_PI * hz / RATE);
  double s1 = 0, s2 = 0, energy = 0, power;

  for (gsize i = 0; i < n; i++)
    {
      double s0 = x[i] + coeff * s1 - s2;

      s2 = s1;
      s1 = s0;
      energy += (double) x[i] * x[i];
    }
  power = s1 * s1 + s2 * s2 - coeff * s1 * s2;

  return energy > 0 ? 2 * power / (n * energy) : 0;
}

static const gint16 *
window (GArray *rec, gsize from, double start_s, double end_s, gsize *n)
{
  gsize a = from + at_s (start_s), b = from + at_s (end_s);

  g_assert_cmpuint (b, <=, rec->len);
  *n = b - a;

  return &g_array_index (rec, gint16, a);
}

static void
assert_tone (GArray *rec, gsize from, double start_s, double end_s, double hz, double min_share)
{
  gsize n;
  const gint16 *x = window (rec, from, start_s, end_s, &n);

  g_test_message ("%.2f-%.2f s: %.1f dBFS, %.2f of it at %.0f Hz", start_s, end_s,
                  level_dbfs (x, n), tone_share (x, n, hz), hz);
  g_assert_cmpfloat (level_dbfs (x, n), >, -30);
  g_assert_cmpfloat (tone_share (x, n, hz), >, min_share);
}

static void
assert_silence (GArray *rec, gsize from, double start_s, double end_s)
{
  gsize n;
  const gint16 *x = window (rec, from, start_s, end_s, &n);

  g_test_message ("%.2f-%.2f s: %.1f dBFS", start_s, end_s, level_dbfs (x, n));
  g_assert_cmpfloat (level_dbfs (x, n), <, -70);
}

/* The first 20 ms from `from` on with sound in it. */
static gsize
onset (GArray *rec, gsize from)
{
  for (gsize i = from; i + FRAME <= rec->len; i += FRAME)
    if (level_dbfs (&g_array_index (rec, gint16, i), FRAME) > -50)
      return i;

  g_assert_not_reached ();
}

/* --- a call's ticks ----------------------------------------------------- */

/* What the RTP stream does every 20 ms: write a frame (here a sine) to the
 * sink, read one from each source; paced by the clock, like its timer. */
typedef struct {
  struct kefu_audio_sink   *sink;     /* NULL: nothing played */
  double                    tone_hz;
  double                    amplitude;
  guint64                   played;
  struct kefu_audio_source *src[MAX_SOURCES];
  GArray                   *rec[MAX_SOURCES];
  gint64                    next_tick;
  gint64                    in_calls_us;  /* time spent inside read/write */
  gint64                    elapsed_us;
} Call;

static void
call_init (Call *call)
{
  for (guint i = 0; i < MAX_SOURCES; i++)
    call->rec[i] = g_array_new (FALSE, FALSE, sizeof (gint16));
  call->next_tick = g_get_monotonic_time ();
}

static void
call_clear (Call *call)
{
  for (guint i = 0; i < MAX_SOURCES; i++)
    {
      kefu_audio_source_free (call->src[i]);
      g_array_unref (call->rec[i]);
    }
  kefu_audio_sink_free (call->sink);
}

static void
call_run (Call *call, double seconds)
{
  guint ticks = (guint) lround (seconds * 1000000 / TICK_US);
  gint64 began = g_get_monotonic_time ();

  for (guint t = 0; t < ticks; t++)
    {
      gint16 frame[FRAME];
      gint64 wait, before;

      for (guint i = 0; i < FRAME; i++, call->played++)
        frame[i] = (gint16) lrint (call->amplitude * 32767 *
                                   sin (2 * G_PI * call->tone_hz * call->played / RATE));

      before = g_get_monotonic_time ();
      if (call->sink)
        kefu_audio_sink_write (call->sink, frame, FRAME);
      for (guint i = 0; i < MAX_SOURCES && call->src[i]; i++)
        {
          g_assert_true (kefu_audio_source_read (call->src[i], frame, FRAME));
          g_array_append_vals (call->rec[i], frame, FRAME);
        }
      call->in_calls_us += g_get_monotonic_time () - before;

      call->next_tick += TICK_US;
      wait = call->next_tick - g_get_monotonic_time ();
      if (wait > 0)
        g_usleep (wait);
    }
  call->elapsed_us += g_get_monotonic_time () - began;
}

static struct kefu_audio_source *
open_source (const char *device)
{
  g_autoptr(GError) error = NULL;
  struct kefu_audio_source *src = kefu_audio_pulse_source_new (device, &error);

  g_assert_no_error (error);
  g_assert_nonnull (src);

  return src;
}

/* --- tests -------------------------------------------------------------- */

/* A 1 kHz tone played by a call into the speaker is what the speaker's
 * monitor records: same frequency, same level, through Pulse's
 * resampling both ways (the null sink runs at 44.1 kHz stereo). */
static void
test_tone_through_speaker (void)
{
  g_autoptr(GError) error = NULL;
  Call call = { .tone_hz = 1000, .amplitude = 0.3 };
  const double expected_dbfs = 20 * log10 (0.3 / sqrt (2));
  guint good = 0, blocks = 0;

  call_init (&call);
  g_assert_true (kefu_audio_open ("pulse:kefu_speaker.monitor,kefu_speaker", false,
                                  &call.src[0], &call.sink, &error));
  g_assert_no_error (error);

  call_run (&call, 2.0);

  /* played and recorded back within a few ticks: the queues are short */
  g_test_message ("heard after %.0f ms", onset (call.rec[0], 0) * 1000.0 / RATE);
  g_assert_cmpuint (onset (call.rec[0], 0), <, at_s (0.3));

  /* past the latency at the start, every 100 ms block holds the tone; a
   * scheduling hiccup on a busy machine may cost one */
  for (gsize at = at_s (0.5); at + at_s (0.1) <= call.rec[0]->len - at_s (0.1);
       at += at_s (0.1), blocks++)
    {
      const gint16 *x = &g_array_index (call.rec[0], gint16, at);
      double dbfs = level_dbfs (x, at_s (0.1)), share = tone_share (x, at_s (0.1), 1000);

      g_test_message ("%.1f s: %.1f dBFS, %.3f at 1 kHz", (double) at / RATE, dbfs, share);
      if (fabs (dbfs - expected_dbfs) < 2 && share > 0.95)
        good++;
    }
  g_assert_cmpuint (blocks, >=, 13);
  g_assert_cmpuint (good, >=, blocks - 1);

  /* the phone thread's calls only touch a ring: a blocking write or read
   * would take about a tick each */
  g_test_message ("%" G_GINT64_FORMAT " us of %" G_GINT64_FORMAT " in reads and writes",
                  call.in_calls_us, call.elapsed_us);
  g_assert_cmpint (call.in_calls_us, <, call.elapsed_us / 20);

  call_clear (&call);
}

/* "pulse", "pulse:" and "pulse:," open the server's defaults. */
static void
test_defaults (void)
{
  static const char *const specs[] = { "pulse", "pulse:", "pulse:,", "pulse:kefu_microphone" };

  for (gsize i = 0; i < G_N_ELEMENTS (specs); i++)
    {
      g_autoptr(GError) error = NULL;
      struct kefu_audio_source *src = NULL;
      struct kefu_audio_sink *sink = NULL;
      gint16 frame[FRAME];

      g_test_message ("%s", specs[i]);
      g_assert_true (kefu_audio_open (specs[i], false, &src, &sink, &error));
      g_assert_no_error (error);
      kefu_audio_sink_write (sink, frame, 0);
      g_assert_true (kefu_audio_source_read (src, frame, FRAME));
      kefu_audio_source_free (src);
      kefu_audio_sink_free (sink);
    }
}

static const struct kefu_audio_device *
find_device (GPtrArray *devices, const char *name)
{
  for (guint i = 0; i < devices->len; i++)
    {
      const struct kefu_audio_device *device = devices->pdata[i];

      if (g_str_equal (device->name, name))
        return device;
    }

  return NULL;
}

static void
assert_devices (GPtrArray *sources, GPtrArray *sinks)
{
  const struct kefu_audio_device *d;

  g_assert_cmpuint (sinks->len, ==, 2);
  d = find_device (sinks, "kefu_speaker");
  g_assert_nonnull (d);
  g_assert_cmpstr (d->description, ==, "Kefu speaker");
  g_assert_true (d->is_default);
  d = find_device (sinks, "kefu_ringer");
  g_assert_nonnull (d);
  g_assert_cmpstr (d->description, ==, "Kefu ringer");
  g_assert_false (d->is_default);

  /* the sinks' monitors record what plays, not the agent: not inputs */
  g_assert_cmpuint (sources->len, ==, 1);
  d = find_device (sources, "kefu_microphone");
  g_assert_nonnull (d);
  g_assert_cmpstr (d->description, ==, "Kefu microphone");
  g_assert_true (d->is_default);
}

static void
on_listed (GObject *source_object, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static void
test_devices (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) sources = NULL;
  g_autoptr(GPtrArray) sinks = NULL;
  g_autoptr(GPtrArray) async_sources = NULL;
  g_autoptr(GPtrArray) async_sinks = NULL;
  g_autoptr(GAsyncResult) result = NULL;

  g_assert_true (kefu_audio_pulse_list_devices (&sources, &sinks, &error));
  g_assert_no_error (error);
  assert_devices (sources, sinks);

  /* the preferences window's way, off the main thread */
  kefu_audio_pulse_list_devices_async (NULL, on_listed, &result);
  while (!result)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (kefu_audio_pulse_list_devices_finish (result, &async_sources, &async_sinks,
                                                       &error));
  g_assert_no_error (error);
  assert_devices (async_sources, async_sinks);
}

/* The ringer on its own output: the chime (G5 then E5), silence, the chime
 * again, and silence as soon as it is stopped; nothing on the speaker. */
static void
test_ringer (void)
{
  g_autoptr(GError) error = NULL;
  struct kefu_ringer *ringer;
  Call call = { 0 };
  gsize started, heard;

  call_init (&call);
  call.src[0] = open_source ("kefu_ringer.monitor");
  call.src[1] = open_source ("kefu_speaker.monitor");

  ringer = kefu_ringer_new ("kefu_ringer", &error);
  g_assert_no_error (error);
  g_assert_false (kefu_ringer_is_ringing (ringer));

  call_run (&call, 0.3);
  started = call.rec[0]->len;
  g_assert_true (kefu_ringer_start (ringer, &error));
  g_assert_no_error (error);
  g_assert_true (kefu_ringer_is_ringing (ringer));
  g_assert_true (kefu_ringer_start (ringer, &error));  /* ringing already: goes on */

  /* stopped 0.4 s into the second ring, in its first note */
  call_run (&call, (KEFU_RINGER_ON_MS + KEFU_RINGER_OFF_MS) / 1000.0 + 0.4);
  kefu_ringer_stop (ringer);
  g_assert_false (kefu_ringer_is_ringing (ringer));
  call_run (&call, 1.0);

  heard = onset (call.rec[0], started);
  g_test_message ("heard %.0f ms after start", (heard - started) * 1000.0 / RATE);
  g_assert_cmpuint (heard - started, <, at_s (0.5));

  assert_tone (call.rec[0], heard, 0.05, 0.35, 784, 0.6);
  assert_tone (call.rec[0], heard, 0.65, 0.95, 659.3, 0.6);
  assert_silence (call.rec[0], heard, 1.15, 2.85);
  assert_tone (call.rec[0], heard, 3.05, 3.25, 784, 0.6);
  /* where the second note of the second ring would have been */
  assert_silence (call.rec[0], heard, 3.6, 4.0);

  assert_silence (call.rec[1], 0, 0, (double) call.rec[1]->len / RATE);

  kefu_ringer_free (ringer);
  call_clear (&call);
}

/* A WAV chosen as ring tone (at 16 kHz: Pulse resamples) plays back to
 * back. */
static void
test_ringer_wav (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("kefu-ringer-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "ring.wav", NULL);
  g_autofree gint16 *wav = g_new0 (gint16, 16000);
  struct kefu_ringer *ringer;
  Call call = { 0 };
  gsize started, heard;

  g_assert_no_error (error);
  /* 300 ms of 1.2 kHz, 700 ms of silence */
  for (guint i = 0; i < 4800; i++)
    wav[i] = (gint16) lrint (8000 * sin (2 * G_PI * 1200 * i / 16000.0));
  g_assert_true (kefu_wav_save (path, wav, 16000, 16000, &error));
  g_assert_no_error (error);

  ringer = kefu_ringer_new (NULL, &error);  /* the default: kefu_speaker */
  g_assert_no_error (error);
  g_assert_true (kefu_ringer_set_tone_file (ringer, path, &error));
  g_assert_no_error (error);
  g_assert_false (kefu_ringer_set_tone_file (ringer, "/nonexistent/ring.wav", &error));
  g_assert_nonnull (error);
  g_clear_error (&error);

  call_init (&call);
  call.src[0] = open_source ("kefu_speaker.monitor");
  call_run (&call, 0.3);
  started = call.rec[0]->len;
  g_assert_true (kefu_ringer_start (ringer, &error));
  g_assert_no_error (error);
  call_run (&call, 2.0);
  kefu_ringer_free (ringer);  /* stops it */

  heard = onset (call.rec[0], started);
  assert_tone (call.rec[0], heard, 0.05, 0.25, 1200, 0.9);
  assert_silence (call.rec[0], heard, 0.4, 0.9);
  assert_tone (call.rec[0], heard, 1.05, 1.25, 1200, 0.9);

  call_clear (&call);
  g_assert_no_errno (g_unlink (path));
  g_assert_no_errno (g_rmdir (dir));
}

/* No server: one error that says so, for a call, a list and a ringer. */
static void
test_no_server (void)
{
  g_autofree char *saved = g_strdup (g_getenv ("PULSE_SERVER"));
  g_autoptr(GError) error = NULL;
  struct kefu_audio_source *src = NULL;
  struct kefu_audio_sink *sink = NULL;
  GPtrArray *sources = NULL, *sinks = NULL;

  /* nothing of the earlier tests is still connected (and no thread of
   * theirs runs), so this is where the next connection goes */
  g_setenv ("PULSE_SERVER", "unix:/nonexistent/kefu-pulse", TRUE);

  g_assert_false (kefu_audio_open ("pulse", false, &src, &sink, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "sound server"));
  g_assert_nonnull (strstr (error->message, "unix:/nonexistent/kefu-pulse"));
  g_assert_nonnull (strstr (error->message, "PULSE_SERVER"));
  g_assert_null (src);
  g_assert_null (sink);
  g_clear_error (&error);

  g_assert_false (kefu_audio_pulse_list_devices (&sources, &sinks, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
  g_clear_error (&error);

  g_assert_null (kefu_ringer_new (NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
  g_clear_error (&error);

  g_setenv ("PULSE_SERVER", saved, TRUE);
}

static void
test_unknown_device (void)
{
  static const char *const specs[] = { "pulse:kefu_nowhere,kefu_speaker", "pulse:,kefu_nowhere" };

  for (gsize i = 0; i < G_N_ELEMENTS (specs); i++)
    {
      g_autoptr(GError) error = NULL;
      struct kefu_audio_source *src = NULL;
      struct kefu_audio_sink *sink = NULL;

      g_assert_false (kefu_audio_open (specs[i], false, &src, &sink, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
      g_test_message ("%s: %s", specs[i], error->message);
      g_assert_nonnull (strstr (error->message, "“kefu_nowhere”"));
      g_assert_null (src);
      g_assert_null (sink);
    }

  {
    g_autoptr(GError) error = NULL;

    g_assert_null (kefu_ringer_new ("kefu_nowhere", &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
    g_assert_nonnull (strstr (error->message, "“kefu_nowhere”"));
  }
}

static void
on_log (const char *domain, GLogLevelFlags level, const char *message, gpointer user_data)
{
  if (strstr (message, "lost the sound server"))
    g_atomic_int_inc ((int *) user_data);
  g_log_default_handler (domain, level, message, NULL);
}

/* The server dies in a call: logged once, the call goes on in silence,
 * and the next open says the server is gone.  Kills with-pulseaudio's
 * daemon, so meson runs it alone. */
static void
test_server_dies (void)
{
  g_autoptr(GError) error = NULL;
  const char *pid = g_getenv ("KEFU_TEST_PULSE_PID");
  Call call = { .tone_hz = 1000, .amplitude = 0.3 };
  struct kefu_ringer *ringer;
  struct kefu_audio_source *src = NULL;
  struct kefu_audio_sink *sink = NULL;
  int lost = 0;
  guint handler;
  gsize killed;

  g_assert_nonnull (pid);
  handler = g_log_set_handler ("KefuAudioPulse", G_LOG_LEVEL_MESSAGE, on_log, &lost);

  call_init (&call);
  g_assert_true (kefu_audio_open ("pulse:kefu_speaker.monitor,kefu_speaker", false,
                                  &call.src[0], &call.sink, &error));
  g_assert_no_error (error);
  ringer = kefu_ringer_new ("kefu_ringer", &error);
  g_assert_no_error (error);
  g_assert_true (kefu_ringer_start (ringer, &error));
  g_assert_no_error (error);

  call_run (&call, 0.8);
  assert_tone (call.rec[0], call.rec[0]->len - at_s (0.3), 0, 0.3, 1000, 0.95);

  g_assert_no_errno (kill ((pid_t) g_ascii_strtoll (pid, NULL, 10), SIGKILL));
  killed = call.rec[0]->len;
  call_run (&call, 1.0);

  g_assert_cmpint (g_atomic_int_get (&lost), ==, 1);
  /* what was in the ring drains, then silence */
  assert_silence (call.rec[0], killed, 0.3, 1.0);
  g_assert_cmpuint (call.rec[0]->len, ==, killed + at_s (1.0));

  /* the ringer can stop, but not start again without a server */
  kefu_ringer_stop (ringer);
  g_assert_false (kefu_ringer_start (ringer, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
  g_clear_error (&error);
  kefu_ringer_free (ringer);

  call_clear (&call);

  g_assert_false (kefu_audio_open ("pulse", false, &src, &sink, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
  g_test_message ("%s", error->message);

  g_assert_cmpint (g_atomic_int_get (&lost), ==, 1);
  g_log_remove_handler ("KefuAudioPulse", handler);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  if (!g_getenv ("KEFU_TEST_PULSE_PID"))
    {
      g_printerr ("run me under tests/helpers/with-pulseaudio\n");
      return 77;  /* meson's "skipped" */
    }

  g_test_add_func ("/audio-pulse/tone-through-speaker", test_tone_through_speaker);
  g_test_add_func ("/audio-pulse/defaults", test_defaults);
  g_test_add_func ("/audio-pulse/devices", test_devices);
  g_test_add_func ("/audio-pulse/ringer", test_ringer);
  g_test_add_func ("/audio-pulse/ringer-wav", test_ringer_wav);
  g_test_add_func ("/audio-pulse/no-server", test_no_server);
  g_test_add_func ("/audio-pulse/unknown-device", test_unknown_device);
  /* last: it kills the daemon */
  g_test_add_func ("/audio-pulse/server-dies", test_server_dies);

  return g_test_run ();
}
