/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "TestDtmfInband"

#include "config.h"

#include "kefu-dtmf-detector.h"
#include "kefu-dtmf-tones.h"
#include "kefu-wav.h"

#include <gio/gio.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#define ALL_DIGITS          "0123456789*#ABCD"
#define TALKOFF_PACKAGE     "asterisk-core-sounds-en-wav"
#define TALKOFF_DEFAULT_DIR "/usr/share/asterisk/sounds/en"
/* the package holds about 25 minutes; less means the wrong directory */
#define TALKOFF_MIN_SECONDS 600.0

static char *tmp_dir;

typedef struct {
  GString *digits;
  GArray  *events;   /* KefuDtmfDigit */
} Heard;

static void
on_digit (const KefuDtmfDigit *digit,
          gpointer             user_data)
{
  Heard *heard = user_data;

  g_string_append_c (heard->digits, digit->digit);
  g_array_append_val (heard->events, *digit);
}

static Heard *
heard_new (void)
{
  Heard *heard = g_new0 (Heard, 1);

  heard->digits = g_string_new (NULL);
  heard->events = g_array_new (FALSE, FALSE, sizeof (KefuDtmfDigit));
  return heard;
}

static void
heard_free (Heard *heard)
{
  g_string_free (heard->digits, TRUE);
  g_array_unref (heard->events);
  g_free (heard);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Heard, heard_free)

static GArray *
pcm_new (void)
{
  return g_array_new (FALSE, TRUE, sizeof (gint16));
}

/*
 * Every signal goes to disk and back before the detector hears it, so the
 * WAV writer and reader are exercised by each test, like a recorded call.
 */
static GArray *
through_wav (GArray     *pcm,
             guint       rate,
             const char *name)
{
  g_autofree char *path = g_build_filename (tmp_dir, name, NULL);
  g_autoptr(GError) error = NULL;
  gint16 *samples = NULL;
  gsize n = 0;
  guint read_rate = 0;
  GArray *back;

  kefu_wav_save (path, (const gint16 *) pcm->data, pcm->len, rate, &error);
  g_assert_no_error (error);
  kefu_wav_load (path, &samples, &n, &read_rate, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (read_rate, ==, rate);
  g_assert_cmpuint (n, ==, pcm->len);

  back = pcm_new ();
  g_array_append_vals (back, samples, n);
  g_free (samples);
  g_assert_cmpmem (back->data, back->len * 2, pcm->data, pcm->len * 2);
  g_unlink (path);
  return back;
}

static Heard *
detect (GArray *pcm,
        guint   rate)
{
  g_autoptr(KefuDtmfDetector) detector = NULL;
  Heard *heard = heard_new ();

  detector = kefu_dtmf_detector_new (rate, on_digit, heard);
  kefu_dtmf_detector_feed (detector, (const gint16 *) pcm->data, pcm->len);
  kefu_dtmf_detector_finish (detector);
  return heard;
}

/* What the detector hears in a signal that went through a WAV file. */
static Heard *
detect_via_wav (GArray     *pcm,
                guint       rate,
                const char *name)
{
  g_autoptr(GArray) back = through_wav (pcm, rate, name);

  return detect (back, rate);
}

static gsize
ms (guint rate,
    double milliseconds)
{
  return (gsize) (milliseconds * rate / 1000.0);
}

/* One digit framed by 100 ms of silence either side. */
static GArray *
single_digit (char                    digit,
              guint                   rate,
              const KefuDtmfToneSpec *spec)
{
  GArray *pcm = pcm_new ();
  char digits[2] = { digit, '\0' };

  kefu_tones_append_silence (pcm, ms (rate, 100));
  g_assert_true (kefu_dtmf_tones_append (pcm, rate, digits, spec));
  kefu_tones_append_silence (pcm, ms (rate, 100));
  return pcm;
}

/* --- WAV ----------------------------------------------------------------- */

static void
test_wav_round_trip (void)
{
  const guint rates[] = { 8000, 16000 };

  for (guint r = 0; r < G_N_ELEMENTS (rates); r++)
    {
      g_autoptr(GArray) pcm = pcm_new ();
      g_autoptr(GArray) back = NULL;

      kefu_tones_append_silence (pcm, 1001);   /* odd length on purpose */
      kefu_tones_mix_noise ((gint16 *) pcm->data, pcm->len, 3.0, 7);  /* saturates some */
      back = through_wav (pcm, rates[r], "round-trip.wav");
      g_assert_cmpuint (back->len, ==, 1001);
    }
}

/* A WAV image built by hand: fmt fields, optional LIST chunk before data. */
static GByteArray *
build_wav (guint16  tag,
           guint16  channels,
           guint32  rate,
           guint16  bits,
           gboolean with_list,
           guint32  data_bytes_declared,
           guint32  data_bytes_present)
{
  GByteArray *b = g_byte_array_new ();
  guint16 block_align = channels * bits / 8;
  guint32 byte_rate = rate * block_align;
  guint32 u32;
  guint16 u16;

#define PUT32(v) (u32 = GUINT32_TO_LE (v), g_byte_array_append (b, (guint8 *) &u32, 4))
#define PUT16(v) (u16 = GUINT16_TO_LE (v), g_byte_array_append (b, (guint8 *) &u16, 2))
  g_byte_array_append (b, (const guint8 *) "RIFF", 4);
  PUT32 (0);   /* patched below */
  g_byte_array_append (b, (const guint8 *) "WAVE", 4);
  g_byte_array_append (b, (const guint8 *) "fmt ", 4);
  PUT32 (16);
  PUT16 (tag);
  PUT16 (channels);
  PUT32 (rate);
  PUT32 (byte_rate);
  PUT16 (block_align);
  PUT16 (bits);
  if (with_list)
    {
      /* odd-sized, so the pad byte rule is exercised */
      g_byte_array_append (b, (const guint8 *) "LIST", 4);
      PUT32 (13);
      g_byte_array_append (b, (const guint8 *) "INFOISFT\1\0\0\0X\0", 14);
    }
  g_byte_array_append (b, (const guint8 *) "data", 4);
  PUT32 (data_bytes_declared);
  for (guint32 i = 0; i < data_bytes_present; i++)
    {
      guint8 byte = (guint8) (i * 37);
      g_byte_array_append (b, &byte, 1);
    }
  u32 = GUINT32_TO_LE (b->len - 8);
  memcpy (b->data + 4, &u32, 4);
#undef PUT32
#undef PUT16
  return b;
}

static void
test_wav_extra_chunks (void)
{
  g_autoptr(GByteArray) wav = build_wav (1, 1, 8000, 16, TRUE, 320, 320);
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (tmp_dir, "list.wav", NULL);
  g_autofree gint16 *samples = NULL;
  gsize n = 0;
  guint rate = 0;

  g_file_set_contents (path, (const char *) wav->data, wav->len, &error);
  g_assert_no_error (error);
  g_assert_true (kefu_wav_load (path, &samples, &n, &rate, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (rate, ==, 8000);
  g_assert_cmpuint (n, ==, 160);
  /* bytes 0, 37 little-endian */
  g_assert_cmpint (samples[0], ==, (gint16) (37 << 8));
  g_unlink (path);
}

static void
assert_wav_refused (GByteArray *wav,
                    const char *reason)
{
  g_autoptr(GError) error = NULL;
  gint16 *samples = NULL;
  gsize n = 0;
  guint rate = 0;

  g_assert_false (kefu_wav_parse (wav->data, wav->len, &samples, &n, &rate, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, reason));
  g_assert_null (samples);
  g_byte_array_unref (wav);
}

static void
test_wav_refusals (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *missing = g_build_filename (tmp_dir, "missing.wav", NULL);
  gint16 *samples = NULL;
  gsize n = 0;
  guint rate = 0;

  assert_wav_refused (build_wav (1, 2, 8000, 16, FALSE, 320, 320), "not mono");
  assert_wav_refused (build_wav (1, 1, 8000, 8, FALSE, 320, 320), "not 16-bit");
  assert_wav_refused (build_wav (6, 1, 8000, 8, FALSE, 320, 320), "not linear PCM");
  assert_wav_refused (build_wav (3, 1, 8000, 32, FALSE, 320, 320), "not linear PCM");
  assert_wav_refused (build_wav (1, 1, 4000, 16, FALSE, 320, 320), "sample rate");
  assert_wav_refused (build_wav (1, 1, 8000, 16, FALSE, 640, 320), "truncated");
  assert_wav_refused (build_wav (1, 1, 8000, 16, FALSE, 321, 321), "middle of a sample");
  assert_wav_refused (g_byte_array_new_take ((guint8 *) g_strdup ("ID3\3 not a wav at all"), 21),
                      "Not a RIFF/WAVE");

  {
    GByteArray *no_data = build_wav (1, 1, 8000, 16, FALSE, 0, 0);
    g_byte_array_set_size (no_data, no_data->len - 8);   /* drop the data header */
    assert_wav_refused (no_data, "no data chunk");
  }

  g_assert_false (kefu_wav_load (missing, &samples, &n, &rate, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
}

/* --- Detector ------------------------------------------------------------ */

static void
test_every_digit_once (void)
{
  for (const char *d = ALL_DIGITS; *d; d++)
    {
      g_autoptr(GArray) pcm = single_digit (*d, 8000, NULL);
      g_autoptr(Heard) heard = detect_via_wav (pcm, 8000, "digit.wav");
      char expected[2] = { *d, '\0' };
      KefuDtmfDigit *event;

      g_assert_cmpstr (heard->digits->str, ==, expected);
      event = &g_array_index (heard->events, KefuDtmfDigit, 0);
      /* the tone starts at 100 ms and lasts 100 ms */
      g_assert_cmpint (labs ((long) event->start - 800), <=, 60);
      g_assert_cmpint (labs ((long) event->duration - 800), <=, 60);
      g_assert_cmpuint (event->rate, ==, 8000);
    }
}

static void
test_frequency_deviation_accepted (void)
{
  const double dev[4][2] = { { 1.5, 1.5 }, { -1.5, -1.5 }, { 1.5, -1.5 }, { -1.5, 1.5 } };

  for (guint i = 0; i < G_N_ELEMENTS (dev); i++)
    {
      KefuDtmfToneSpec spec;
      g_autoptr(GArray) pcm = pcm_new ();
      g_autoptr(Heard) heard = NULL;

      kefu_dtmf_tone_spec_init (&spec);
      spec.low_offset_pct = dev[i][0];
      spec.high_offset_pct = dev[i][1];
      g_assert_true (kefu_dtmf_tones_append (pcm, 8000, ALL_DIGITS, &spec));
      heard = detect_via_wav (pcm, 8000, "deviation-ok.wav");
      g_assert_cmpstr (heard->digits->str, ==, ALL_DIGITS);
    }
}

static void
test_frequency_deviation_rejected (void)
{
  /* Q.24: either tone 3.5 % off is enough to refuse the digit */
  const double dev[6][2] = {
    { 3.5, 0.0 }, { -3.5, 0.0 }, { 0.0, 3.5 }, { 0.0, -3.5 }, { 3.5, 3.5 }, { -3.5, -3.5 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (dev); i++)
    {
      KefuDtmfToneSpec spec;
      g_autoptr(GArray) pcm = pcm_new ();
      g_autoptr(Heard) heard = NULL;

      kefu_dtmf_tone_spec_init (&spec);
      spec.low_offset_pct = dev[i][0];
      spec.high_offset_pct = dev[i][1];
      g_assert_true (kefu_dtmf_tones_append (pcm, 8000, ALL_DIGITS, &spec));
      heard = detect_via_wav (pcm, 8000, "deviation-bad.wav");
      g_assert_cmpstr (heard->digits->str, ==, "");
    }
}

/*
 * Every digit at `tone_ms`, each placed at a different offset against the
 * detector's 53-sample analysis grid, 150 ms apart.
 */
static GArray *
digits_at_all_alignments (guint  rate,
                          double tone_ms,
                          GString *expected)
{
  GArray *pcm = pcm_new ();
  guint step = rate / 8000;

  for (guint shift = 0; shift < 53; shift += 3)
    for (const char *d = ALL_DIGITS; *d; d++)
      {
        KefuDtmfToneSpec spec;
        char digit[2] = { *d, '\0' };
        gsize start;

        kefu_dtmf_tone_spec_init (&spec);
        spec.duration_ms = 0;
        spec.gap_ms = 0;
        kefu_tones_append_silence (pcm, ms (rate, 150) + shift * step);
        start = pcm->len;
        {
          double low, high;
          gsize n = ms (rate, tone_ms);

          kefu_dtmf_digit_frequencies (*d, &low, &high);
          kefu_tones_append_silence (pcm, n);
          kefu_tones_mix_sine (&g_array_index (pcm, gint16, start), n, rate, low, -10.0, 0.0);
          kefu_tones_mix_sine (&g_array_index (pcm, gint16, start), n, rate, high, -10.0, 0.0);
        }
        if (expected)
          g_string_append (expected, digit);
      }
  kefu_tones_append_silence (pcm, ms (rate, 150));
  return pcm;
}

static void
test_duration_40ms_accepted (void)
{
  g_autoptr(GString) expected = g_string_new (NULL);
  g_autoptr(GArray) pcm = digits_at_all_alignments (8000, 40.0, expected);
  g_autoptr(Heard) heard = detect_via_wav (pcm, 8000, "40ms.wav");

  g_assert_cmpstr (heard->digits->str, ==, expected->str);
}

static void
test_duration_20ms_rejected (void)
{
  g_autoptr(GArray) pcm = digits_at_all_alignments (8000, 20.0, NULL);
  g_autoptr(Heard) heard = detect_via_wav (pcm, 8000, "20ms.wav");

  g_assert_cmpstr (heard->digits->str, ==, "");
}

static void
check_twist (double   twist_db,
             gboolean accepted)
{
  KefuDtmfToneSpec spec;
  g_autoptr(GArray) pcm = pcm_new ();
  g_autoptr(Heard) heard = NULL;

  kefu_dtmf_tone_spec_init (&spec);
  /* keep the louder tone at -10 dBm0 */
  spec.level_dbm0 = twist_db > 0 ? -10.0 - twist_db : -10.0;
  spec.twist_db = twist_db;
  g_assert_true (kefu_dtmf_tones_append (pcm, 8000, ALL_DIGITS, &spec));
  heard = detect_via_wav (pcm, 8000, "twist.wav");
  g_assert_cmpstr (heard->digits->str, ==, accepted ? ALL_DIGITS : "");
}

/* Q.24: 8 dB forward (high group louder) and 4 dB reverse must pass; the
 * detector's limits are 9 and 5 dB, so 10 and 6 dB must not. */
static void
test_twist (void)
{
  check_twist (8.0, TRUE);
  check_twist (-4.0, TRUE);
  check_twist (10.0, FALSE);
  check_twist (-6.0, FALSE);
}

static void
test_levels (void)
{
  KefuDtmfToneSpec spec;
  g_autoptr(GArray) quiet = pcm_new ();
  g_autoptr(GArray) too_quiet = pcm_new ();
  g_autoptr(Heard) heard_quiet = NULL;
  g_autoptr(Heard) heard_too_quiet = NULL;

  kefu_dtmf_tone_spec_init (&spec);
  spec.level_dbm0 = -28.0;
  kefu_dtmf_tones_append (quiet, 8000, ALL_DIGITS, &spec);
  heard_quiet = detect_via_wav (quiet, 8000, "quiet.wav");
  g_assert_cmpstr (heard_quiet->digits->str, ==, ALL_DIGITS);

  spec.level_dbm0 = -38.0;
  kefu_dtmf_tones_append (too_quiet, 8000, ALL_DIGITS, &spec);
  heard_too_quiet = detect_via_wav (too_quiet, 8000, "too-quiet.wav");
  g_assert_cmpstr (heard_too_quiet->digits->str, ==, "");
}

static void
test_sequence_40ms (void)
{
  KefuDtmfToneSpec spec;
  g_autoptr(GArray) pcm = pcm_new ();
  g_autoptr(Heard) heard = NULL;

  kefu_dtmf_tone_spec_init (&spec);
  spec.duration_ms = 40;
  spec.gap_ms = 40;
  kefu_tones_append_silence (pcm, 400);
  g_assert_true (kefu_dtmf_tones_append (pcm, 8000, ALL_DIGITS, &spec));
  heard = detect_via_wav (pcm, 8000, "sequence.wav");
  g_assert_cmpstr (heard->digits->str, ==, ALL_DIGITS);
}

/* The same digit twice needs a pause between; a 40 ms pause is enough,
 * while a 10 ms dropout inside one tone does not make it two. */
static void
test_repeat_and_dropout (void)
{
  KefuDtmfToneSpec spec;
  g_autoptr(GArray) repeated = pcm_new ();
  g_autoptr(GArray) dropout = pcm_new ();
  g_autoptr(Heard) heard_repeated = NULL;
  g_autoptr(Heard) heard_dropout = NULL;

  kefu_dtmf_tone_spec_init (&spec);
  spec.duration_ms = 60;
  spec.gap_ms = 40;
  kefu_tones_append_silence (repeated, 400);
  kefu_dtmf_tones_append (repeated, 8000, "55511", &spec);
  heard_repeated = detect_via_wav (repeated, 8000, "repeated.wav");
  g_assert_cmpstr (heard_repeated->digits->str, ==, "55511");

  /* 100 ms of '7' with 10 ms silenced in the middle, then the same for '#' */
  spec.duration_ms = 100;
  spec.gap_ms = 100;
  kefu_dtmf_tones_append (dropout, 8000, "7#", &spec);
  memset (&g_array_index (dropout, gint16, 400), 0, 80 * sizeof (gint16));
  memset (&g_array_index (dropout, gint16, 1600 + 400), 0, 80 * sizeof (gint16));
  heard_dropout = detect_via_wav (dropout, 8000, "dropout.wav");
  g_assert_cmpstr (heard_dropout->digits->str, ==, "7#");
}

static void
test_noise (void)
{
  /* each tone at -10 dBm0 is -7 dBm0 together; noise 15 dB below that */
  const double snr_db = 15.0;
  KefuDtmfToneSpec spec;
  g_autoptr(GArray) pcm = pcm_new ();
  g_autoptr(GArray) noise = pcm_new ();
  g_autoptr(GArray) loud_noise = pcm_new ();
  g_autoptr(Heard) heard = NULL;
  g_autoptr(Heard) heard_noise = NULL;
  g_autoptr(Heard) heard_loud_noise = NULL;
  double noise_dbm0 = -10.0 + 10.0 * log10 (2.0) - snr_db;

  kefu_dtmf_tone_spec_init (&spec);
  spec.duration_ms = 60;
  spec.gap_ms = 60;
  for (guint round = 0; round < 4; round++)
    kefu_dtmf_tones_append (pcm, 8000, ALL_DIGITS, &spec);
  kefu_tones_mix_noise ((gint16 *) pcm->data, pcm->len, noise_dbm0, 1);
  heard = detect_via_wav (pcm, 8000, "noisy.wav");
  g_assert_cmpstr (heard->digits->str, ==, ALL_DIGITS ALL_DIGITS ALL_DIGITS ALL_DIGITS);

  kefu_tones_append_silence (noise, ms (8000, 20000));
  kefu_tones_mix_noise ((gint16 *) noise->data, noise->len, noise_dbm0, 2);
  heard_noise = detect_via_wav (noise, 8000, "noise.wav");
  g_assert_cmpstr (heard_noise->digits->str, ==, "");

  kefu_tones_append_silence (loud_noise, ms (8000, 20000));
  kefu_tones_mix_noise ((gint16 *) loud_noise->data, loud_noise->len, 0.0, 3);
  heard_loud_noise = detect_via_wav (loud_noise, 8000, "loud-noise.wav");
  g_assert_cmpstr (heard_loud_noise->digits->str, ==, "");
}

/*
 * Synthetic voiced speech: a glottal-like harmonic series whose pitch
 * glides through the range of men's and women's voices, shaped by the
 * formants of five vowels.  Pitches sweep slowly, so for a while some
 * harmonic sits on every DTMF frequency, often two at once.
 */
static GArray *
synthetic_vowels (guint rate)
{
  static const double formants[5][3] = {
    { 730, 1090, 2440 },   /* a */
    { 530, 1840, 2480 },   /* e */
    { 270, 2290, 3010 },   /* i */
    { 570,  840, 2410 },   /* o */
    { 300,  870, 2240 },   /* u */
  };
  const double bandwidth = 90.0;
  GArray *pcm = pcm_new ();
  gsize per_vowel = ms (rate, 3000);
  double phase = 0.0;

  for (guint v = 0; v < 5; v++)
    {
      g_autofree double *out = g_new0 (double, per_vowel);
      double peak = 0.0;

      for (gsize i = 0; i < per_vowel; i++)
        {
          double t = (double) i / rate;
          /* 80–320 Hz, gliding up and down with a little vibrato */
          double f0 = 200.0 + 120.0 * sin (2.0 * G_PI * 0.3 * t + v) + 4.0 * sin (2.0 * G_PI * 5.5 * t);
          double sample = 0.0;

          phase += 2.0 * G_PI * f0 / rate;
          for (guint h = 1; h * f0 < 3800.0; h++)
            {
              double f = h * f0;
              double gain = 0.0;

              for (guint k = 0; k < 3; k++)
                {
                  double d = (f - formants[v][k]) / bandwidth;
                  gain += 1.0 / (1.0 + d * d) / (k + 1);
                }
              /* glottal source falls 12 dB per octave */
              sample += gain / (h * h) * sin (h * phase);
            }
          out[i] = sample;
          peak = MAX (peak, fabs (sample));
        }

      for (gsize i = 0; i < per_vowel; i++)
        {
          gint16 s = (gint16) (out[i] / peak * kefu_dbm0_to_amplitude (-3.0));
          g_array_append_val (pcm, s);
        }
    }
  return pcm;
}

static void
test_synthetic_speech (void)
{
  g_autoptr(GArray) pcm = synthetic_vowels (8000);
  g_autoptr(Heard) heard = detect_via_wav (pcm, 8000, "vowels.wav");

  g_assert_cmpstr (heard->digits->str, ==, "");
}

static void
test_16khz (void)
{
  KefuDtmfToneSpec spec;
  g_autoptr(GArray) pcm = pcm_new ();
  g_autoptr(Heard) heard = NULL;
  g_autoptr(GString) expected = g_string_new (NULL);
  g_autoptr(GArray) aligned = digits_at_all_alignments (16000, 40.0, expected);
  g_autoptr(GArray) short_tones = digits_at_all_alignments (16000, 20.0, NULL);
  g_autoptr(Heard) heard_aligned = detect_via_wav (aligned, 16000, "16k-40ms.wav");
  g_autoptr(Heard) heard_short = detect_via_wav (short_tones, 16000, "16k-20ms.wav");
  KefuDtmfDigit *first;

  kefu_dtmf_tone_spec_init (&spec);
  spec.duration_ms = 50;
  spec.gap_ms = 50;
  kefu_tones_append_silence (pcm, 1600);
  kefu_dtmf_tones_append (pcm, 16000, ALL_DIGITS, &spec);
  heard = detect_via_wav (pcm, 16000, "16k.wav");
  g_assert_cmpstr (heard->digits->str, ==, ALL_DIGITS);
  first = &g_array_index (heard->events, KefuDtmfDigit, 0);
  g_assert_cmpuint (first->rate, ==, 16000);
  g_assert_cmpint (labs ((long) first->start - 1600), <=, 120);

  g_assert_cmpstr (heard_aligned->digits->str, ==, expected->str);
  g_assert_cmpstr (heard_short->digits->str, ==, "");
}

/* Packets arrive in all sizes; the digits must not depend on them. */
static void
test_chunked_feeding (void)
{
  KefuDtmfToneSpec spec;
  g_autoptr(GArray) pcm = pcm_new ();
  g_autoptr(KefuDtmfDetector) detector = NULL;
  g_autoptr(Heard) whole = NULL;
  g_autoptr(Heard) chunked = heard_new ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (42);
  gsize pos = 0;

  kefu_dtmf_tone_spec_init (&spec);
  spec.duration_ms = 45;
  spec.gap_ms = 45;
  kefu_dtmf_tones_append (pcm, 8000, ALL_DIGITS "159D", &spec);
  kefu_tones_mix_noise ((gint16 *) pcm->data, pcm->len, -30.0, 9);
  whole = detect (pcm, 8000);

  detector = kefu_dtmf_detector_new (8000, on_digit, chunked);
  while (pos < pcm->len)
    {
      gsize n = MIN ((gsize) g_rand_int_range (rand, 0, 400), pcm->len - pos);

      kefu_dtmf_detector_feed (detector, &g_array_index (pcm, gint16, pos), n);
      pos += n;
    }
  kefu_dtmf_detector_finish (detector);

  g_assert_cmpstr (whole->digits->str, ==, ALL_DIGITS "159D");
  g_assert_cmpstr (chunked->digits->str, ==, whole->digits->str);
  /* member by member: the padding of the structs the detector hands out
   * is whatever its stack held */
  g_assert_cmpuint (chunked->events->len, ==, whole->events->len);
  for (guint i = 0; i < whole->events->len; i++)
    {
      const KefuDtmfDigit *c = &g_array_index (chunked->events, KefuDtmfDigit, i);
      const KefuDtmfDigit *w = &g_array_index (whole->events, KefuDtmfDigit, i);

      g_assert_cmpint (c->digit, ==, w->digit);
      g_assert_cmpuint (c->start, ==, w->start);
      g_assert_cmpuint (c->duration, ==, w->duration);
      g_assert_cmpuint (c->rate, ==, w->rate);
    }
}

/* A digit still sounding is reported by _finish, and get_current sees it. */
static void
test_current_and_finish (void)
{
  KefuDtmfToneSpec spec;
  g_autoptr(GArray) pcm = pcm_new ();
  g_autoptr(Heard) heard = heard_new ();
  g_autoptr(KefuDtmfDetector) detector = kefu_dtmf_detector_new (8000, on_digit, heard);

  kefu_dtmf_tone_spec_init (&spec);
  spec.gap_ms = 0;
  spec.duration_ms = 200;
  kefu_dtmf_tones_append (pcm, 8000, "9", &spec);
  kefu_dtmf_detector_feed (detector, (const gint16 *) pcm->data, pcm->len);
  g_assert_cmpint (kefu_dtmf_detector_get_current (detector), ==, '9');
  g_assert_cmpstr (heard->digits->str, ==, "");
  kefu_dtmf_detector_finish (detector);
  g_assert_cmpstr (heard->digits->str, ==, "9");
  g_assert_cmpint (kefu_dtmf_detector_get_current (detector), ==, '\0');
}

/* --- Real speech --------------------------------------------------------- */

static void
collect_wavs (const char *dir,
              GPtrArray  *paths)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  if (d == NULL)
    return;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        collect_wavs (path, paths);
      else if (g_str_has_suffix (name, ".wav"))
        g_ptr_array_add (paths, g_steal_pointer (&path));
    }
}

static int
compare_paths (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

static void
test_talkoff_real_speech (void)
{
  const char *dir = g_getenv ("KEFU_TALKOFF_DIR");
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GString) false_digits = g_string_new (NULL);
  g_autoptr(Heard) heard = heard_new ();
  gsize total_samples = 0;
  gint64 elapsed_us = 0;

  if (dir == NULL || *dir == '\0')
    dir = TALKOFF_DEFAULT_DIR;
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    g_error ("talk-off speech sample %s is missing: install the Debian package "
             TALKOFF_PACKAGE " (or point KEFU_TALKOFF_DIR at its sounds/en directory)", dir);

  collect_wavs (dir, paths);
  g_ptr_array_sort (paths, compare_paths);

  for (guint i = 0; i < paths->len; i++)
    {
      const char *path = g_ptr_array_index (paths, i);
      g_autoptr(GError) error = NULL;
      g_autoptr(KefuDtmfDetector) detector = NULL;
      g_autofree gint16 *samples = NULL;
      gsize n = 0;
      guint rate = 0;
      guint before = heard->events->len;
      gint64 t0;

      kefu_wav_load (path, &samples, &n, &rate, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (rate, ==, 8000);

      detector = kefu_dtmf_detector_new (rate, on_digit, heard);
      t0 = g_get_monotonic_time ();
      kefu_dtmf_detector_feed (detector, samples, n);
      kefu_dtmf_detector_finish (detector);
      elapsed_us += g_get_monotonic_time () - t0;
      total_samples += n;

      for (guint e = before; e < heard->events->len; e++)
        {
          KefuDtmfDigit *ev = &g_array_index (heard->events, KefuDtmfDigit, e);
          g_string_append_printf (false_digits, "%s: '%c' at %.3f s\n", path, ev->digit,
                                  (double) ev->start / ev->rate);
        }
    }

  g_test_message ("talk-off: %u files, %.1f minutes of speech, %u digits, %.1f ns per sample",
                  paths->len, total_samples / 8000.0 / 60.0, heard->events->len,
                  total_samples ? elapsed_us * 1000.0 / total_samples : 0.0);
  if (total_samples / 8000.0 < TALKOFF_MIN_SECONDS)
    g_error ("talk-off sample %s holds only %.0f s of speech; expected the ~25 minutes of "
             TALKOFF_PACKAGE, dir, total_samples / 8000.0);
  if (false_digits->len > 0)
    g_printerr ("%s", false_digits->str);
  g_assert_cmpuint (heard->events->len, ==, 0);
}

/* --- Another generator --------------------------------------------------- */

static void
test_sox_tones (void)
{
  static const char sox_digits[] = ALL_DIGITS;   /* argv, no shell: * and # need no quoting */
  g_autofree char *sox = g_find_program_in_path ("sox");
  g_autoptr(GString) heard_all = g_string_new (NULL);

  /* sox is an independent generator: the detector must agree with tones
   * it did not make itself. */
  if (sox == NULL)
    g_error ("sox is missing: install the Debian package sox (scripts/packages lists it)");

  for (const char *d = sox_digits; *d; d++)
    {
      g_autofree char *path = g_build_filename (tmp_dir, "sox.wav", NULL);
      g_autofree char *low_s = NULL, *high_s = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree gint16 *samples = NULL;
      g_autoptr(Heard) heard = heard_new ();
      g_autoptr(KefuDtmfDetector) detector = NULL;
      double low, high;
      gsize n = 0;
      guint rate = 0;
      int status = 0;

      kefu_dtmf_digit_frequencies (*d, &low, &high);
      low_s = g_strdup_printf ("%.0f", low);
      high_s = g_strdup_printf ("%.0f", high);
      {
        /* two sines, mixed to one channel, each at -10 dBm0 (-13 dBFS),
         * 0.1 s of tone after 0.1 s of silence */
        const char *argv[] = {
          sox, "-n", "-r", "8000", "-b", "16", "-c", "1", path,
          "synth", "0.1", "sine", low_s, "sine", high_s,
          "remix", "-", "gain", "-n", "-10.2", "pad", "0.1", "0.1", NULL,
        };
        g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL,
                      &status, &error);
        g_assert_no_error (error);
        g_spawn_check_wait_status (status, &error);
        g_assert_no_error (error);
      }

      kefu_wav_load (path, &samples, &n, &rate, &error);
      g_assert_no_error (error);
      detector = kefu_dtmf_detector_new (rate, on_digit, heard);
      kefu_dtmf_detector_feed (detector, samples, n);
      kefu_dtmf_detector_finish (detector);
      g_string_append (heard_all, heard->digits->str);
      g_unlink (path);
    }
  g_assert_cmpstr (heard_all->str, ==, sox_digits);
}

/* --- Cost ---------------------------------------------------------------- */

static void
test_cost (void)
{
  KefuDtmfToneSpec spec;
  g_autoptr(GArray) pcm = synthetic_vowels (8000);
  g_autoptr(Heard) heard = heard_new ();
  g_autoptr(KefuDtmfDetector) detector = kefu_dtmf_detector_new (8000, on_digit, heard);
  gint64 t0;
  double ns;

  kefu_dtmf_tone_spec_init (&spec);
  kefu_dtmf_tones_append (pcm, 8000, ALL_DIGITS ALL_DIGITS, &spec);
  t0 = g_get_monotonic_time ();
  for (guint round = 0; round < 5; round++)
    kefu_dtmf_detector_feed (detector, (const gint16 *) pcm->data, pcm->len);
  ns = (g_get_monotonic_time () - t0) * 1000.0 / (5.0 * pcm->len);
  g_test_message ("cost: %.1f ns per sample on speech and DTMF (%.3f %% of a core per 8 kHz stream)",
                  ns, ns * 8000 / 1e7);
  /* even under sanitizers one stream must stay far below real time */
  g_assert_cmpfloat (ns, <, 125000.0 / 100.0);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);

  tmp_dir = g_dir_make_tmp ("kefu-dtmf-XXXXXX", &error);
  g_assert_no_error (error);

  g_test_add_func ("/voip/wav/round-trip", test_wav_round_trip);
  g_test_add_func ("/voip/wav/extra-chunks", test_wav_extra_chunks);
  g_test_add_func ("/voip/wav/refusals", test_wav_refusals);
  g_test_add_func ("/voip/dtmf-inband/every-digit-once", test_every_digit_once);
  g_test_add_func ("/voip/dtmf-inband/deviation-1.5-accepted", test_frequency_deviation_accepted);
  g_test_add_func ("/voip/dtmf-inband/deviation-3.5-rejected", test_frequency_deviation_rejected);
  g_test_add_func ("/voip/dtmf-inband/40ms-accepted", test_duration_40ms_accepted);
  g_test_add_func ("/voip/dtmf-inband/20ms-rejected", test_duration_20ms_rejected);
  g_test_add_func ("/voip/dtmf-inband/twist", test_twist);
  g_test_add_func ("/voip/dtmf-inband/levels", test_levels);
  g_test_add_func ("/voip/dtmf-inband/sequence-40ms", test_sequence_40ms);
  g_test_add_func ("/voip/dtmf-inband/repeat-and-dropout", test_repeat_and_dropout);
  g_test_add_func ("/voip/dtmf-inband/noise", test_noise);
  g_test_add_func ("/voip/dtmf-inband/synthetic-speech", test_synthetic_speech);
  g_test_add_func ("/voip/dtmf-inband/16khz", test_16khz);
  g_test_add_func ("/voip/dtmf-inband/chunked-feeding", test_chunked_feeding);
  g_test_add_func ("/voip/dtmf-inband/current-and-finish", test_current_and_finish);
  g_test_add_func ("/voip/dtmf-inband/talkoff-real-speech", test_talkoff_real_speech);
  g_test_add_func ("/voip/dtmf-inband/sox-tones", test_sox_tones);
  g_test_add_func ("/voip/dtmf-inband/cost", test_cost);

  ret = g_test_run ();

  g_rmdir (tmp_dir);
  g_clear_pointer (&tmp_dir, g_free);
  return ret;
}
