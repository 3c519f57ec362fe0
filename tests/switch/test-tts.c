/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * kefu-tts: Chinese and English speech of plausible length and loudness
 * at 8 kHz, the cache, the errors for a language we do not speak and for
 * a voice that is not installed, and the resampler's low-pass.
 */
#include "config.h"

#include "kefu-tts.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <math.h>
#include <string.h>

static double
rms (GBytes *pcm)
{
  gsize size;
  const gint16 *s = g_bytes_get_data (pcm, &size);
  gsize n = size / sizeof (gint16);
  double sum = 0;

  for (gsize i = 0; i < n; i++)
    sum += (double) s[i] * s[i];
  return n ? sqrt (sum / n) : 0;
}

static double
seconds (GBytes *pcm)
{
  return g_bytes_get_size (pcm) / (double) (sizeof (gint16) * KEFU_TTS_RATE);
}

static void
check_speech (const char *language,
              const char *text,
              double      min_s,
              double      max_s)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KefuTts) tts = kefu_tts_new (&error);
  g_autoptr(GBytes) pcm = NULL;

  g_assert_no_error (error);
  pcm = kefu_tts_speak (tts, language, text, &error);
  g_assert_no_error (error);
  g_assert_nonnull (pcm);
  g_test_message ("%s: %.2f s, rms %.0f", language, seconds (pcm), rms (pcm));
  g_assert_cmpfloat (seconds (pcm), >=, min_s);
  g_assert_cmpfloat (seconds (pcm), <=, max_s);
  /* speech, not silence nor clipping noise */
  g_assert_cmpfloat (rms (pcm), >, 300);
  g_assert_cmpfloat (rms (pcm), <, 12000);
}

static void
test_chinese (void)
{
  /* 16 syllables: about 2-6 s */
  check_speech ("zh", "您好，欢迎致电客服中心。销售请按一，客服请按二。", 1.5, 8.0);
}

static void
test_english (void)
{
  check_speech ("en", "Welcome to the Kefu contact centre. For sales, press one.", 2.0, 8.0);
}

static void
test_cache (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KefuTts) tts = kefu_tts_new (&error);
  g_autoptr(GBytes) first = NULL;
  g_autoptr(GBytes) second = NULL;
  g_autoptr(GBytes) other = NULL;
  g_autoptr(GBytes) english = NULL;
  KefuTtsStats stats;

  g_assert_no_error (error);
  first = kefu_tts_speak (tts, "zh", "请稍候。", &error);
  g_assert_no_error (error);
  second = kefu_tts_speak (tts, "zh", "请稍候。", &error);
  g_assert_no_error (error);
  /* the very same buffer */
  g_assert_true (first == second);
  other = kefu_tts_speak (tts, "zh", "谢谢。", &error);
  g_assert_true (other != first);
  /* the same text in another language is another entry */
  english = kefu_tts_speak (tts, "en", "请稍候。", &error);
  g_assert_no_error (error);
  g_assert_true (english != first);

  kefu_tts_get_stats (tts, &stats);
  g_assert_cmpuint (stats.hits, ==, 1);
  g_assert_cmpuint (stats.misses, ==, 3);
  g_assert_cmpuint (stats.entries, ==, 3);

  /* over the limit the least recently used go, and a buffer held by a
   * call stays valid */
  kefu_tts_set_cache_limit (tts, g_bytes_get_size (english));
  kefu_tts_get_stats (tts, &stats);
  g_assert_cmpuint (stats.entries, ==, 1);
  g_assert_cmpfloat (rms (first), >, 100);
  g_clear_pointer (&second, g_bytes_unref);
  second = kefu_tts_speak (tts, "zh", "请稍候。", &error);
  g_assert_true (second != first);
  /* spoken again: about as long (espeak-ng carries a little state over
   * from the sentence before) */
  g_assert_cmpfloat (fabs (seconds (second) - seconds (first)), <, 0.2 * seconds (first));
}

static void
test_unknown_language (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KefuTts) tts = kefu_tts_new (&error);
  GBytes *pcm;

  g_assert_no_error (error);
  pcm = kefu_tts_speak (tts, "fr", "Bonjour", &error);
  g_assert_null (pcm);
  g_assert_error (error, KEFU_TTS_ERROR, KEFU_TTS_ERROR_LANGUAGE);
  g_assert_cmpstr (error->message, ==,
                   "Unknown language “fr” for text to speech (languages: zh, en)");
  g_clear_error (&error);
  g_assert_false (kefu_tts_check_language (tts, "de", &error));
  g_assert_error (error, KEFU_TTS_ERROR, KEFU_TTS_ERROR_LANGUAGE);
  g_clear_error (&error);
  g_assert_true (kefu_tts_check_language (tts, "zh", &error));
  g_assert_true (kefu_tts_language_available ("en", &error));
  g_assert_no_error (error);
}

/* espeak-ng's data without the Mandarin voice and dictionary */
static void
test_voice_missing (void)
{
  if (g_getenv ("KEFU_TEST_TTS_CHILD") != NULL)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(KefuTts) tts = kefu_tts_new (&error);
      GBytes *pcm;

      g_assert_no_error (error);
      g_assert_true (kefu_tts_check_language (tts, "en", &error));
      pcm = kefu_tts_speak (tts, "zh", "您好", &error);
      g_assert_null (pcm);
      g_assert_error (error, KEFU_TTS_ERROR, KEFU_TTS_ERROR_LANGUAGE);
      g_printerr ("%s\n", error->message);
      return;
    }
  {
    const char *data = "/usr/lib/x86_64-linux-gnu/espeak-ng-data";
    g_autofree char *dir = g_dir_make_tmp ("kefu-tts-XXXXXX", NULL);
    g_autofree char *lang = g_build_filename (dir, "lang", NULL);
    g_autoptr(GDir) entries = g_dir_open (data, 0, NULL);
    const char *name;
    g_auto(GStrv) env = NULL;
    g_autofree char *argv0 = g_test_build_filename (G_TEST_BUILT, "test-tts", NULL);
    g_autoptr(GSubprocess) proc = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *err_text = NULL;
    g_autoptr(GSubprocessLauncher) launcher = NULL;

    /* espeak-ng-data is a test package: its absence is a failure */
    if (entries == NULL)
      g_error ("espeak-ng-data is not in %s: install Debian's espeak-ng-data", data);
    /* every file but the Mandarin dictionary; lang/ without sit/cmn */
    while ((name = g_dir_read_name (entries)) != NULL)
      {
        g_autofree char *from = g_build_filename (data, name, NULL);
        g_autofree char *to = g_build_filename (dir, name, NULL);

        if (g_str_equal (name, "cmn_dict") || g_str_equal (name, "lang"))
          continue;
        g_assert_cmpint (symlink (from, to), ==, 0);
      }
    g_assert_cmpint (g_mkdir (lang, 0700), ==, 0);
    {
      g_autofree char *from = g_build_filename (data, "lang", "gmw", NULL);
      g_autofree char *to = g_build_filename (lang, "gmw", NULL);
      g_assert_cmpint (symlink (from, to), ==, 0);
    }

    launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_PIPE);
    g_subprocess_launcher_setenv (launcher, "ESPEAK_DATA_PATH", dir, TRUE);
    g_subprocess_launcher_setenv (launcher, "KEFU_TEST_TTS_CHILD", "1", TRUE);
    proc = g_subprocess_launcher_spawn (launcher, &error, argv0, "-p", "/tts/voice-missing", NULL);
    g_assert_no_error (error);
    g_subprocess_communicate_utf8 (proc, NULL, NULL, NULL, &err_text, &error);
    g_assert_no_error (error);
    g_test_message ("%s", err_text);
    g_assert_true (g_subprocess_get_successful (proc));
    g_assert_nonnull (strstr (err_text, "The espeak-ng voice “cmn-latn-pinyin” for language “zh” is not "
                                        "installed"));
    {
      g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", dir);
      g_assert_cmpint (system (cmd), ==, 0);
    }
  }
}

static double
tone_level (const gint16 *s, gsize n, double freq, guint rate)
{
  double re = 0, im = 0;

  for (gsize i = 0; i < n; i++)
    {
      re += s[i] * cos (2 * G_PI * freq * i / rate);
      im += s[i] * sin (2 * G_PI * freq * i / rate);
    }
  return 2 * sqrt (re * re + im * im) / n;
}

static void
test_resample (void)
{
  const guint in_rate = 22050;
  gsize n = in_rate, n_out = 0;
  g_autofree gint16 *in = g_new (gint16, n);
  g_autofree gint16 *out = NULL;
  double pass, stop;

  /* 1 kHz passes at full level */
  for (gsize i = 0; i < n; i++)
    in[i] = (gint16) (10000 * sin (2 * G_PI * 1000 * i / in_rate));
  out = kefu_tts_resample (in, n, in_rate, 8000, &n_out);
  g_assert_cmpuint (n_out, ==, 8000);
  pass = tone_level (out + 200, n_out - 400, 1000, 8000);
  g_assert_cmpfloat (fabs (pass - 10000), <, 100);
  g_clear_pointer (&out, g_free);

  /* 6 kHz would alias to 2 kHz: it must be gone (>= 60 dB down) */
  for (gsize i = 0; i < n; i++)
    in[i] = (gint16) (10000 * sin (2 * G_PI * 6000 * i / in_rate));
  out = kefu_tts_resample (in, n, in_rate, 8000, &n_out);
  stop = tone_level (out + 200, n_out - 400, 2000, 8000);
  g_test_message ("1 kHz: %.1f, 6 kHz aliased: %.2f (%.0f dB)", pass, stop,
                  20 * log10 (stop / 10000 + 1e-12));
  g_assert_cmpfloat (stop, <, 10);
  g_clear_pointer (&out, g_free);

  /* and up again, 8000 -> 16000 */
  out = kefu_tts_resample (in, 8000, 8000, 16000, &n_out);
  g_assert_cmpuint (n_out, ==, 16000);
}

/* How long speaking takes, for the numbers in kefu-tts.c. */
static void
test_timing (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KefuTts) tts = kefu_tts_new (&error);
  const char *texts[][2] = {
    { "zh", "您好，张伟。" },
    { "en", "Hello, John Smith." },
    { "zh", "欢迎致电客服中心。销售请按一，技术支持请按二，人工服务请按零，传真服务请按九。" },
    { "en", "Welcome to the Kefu contact centre. For sales, press one. For support, press two. "
            "To speak to an agent, press zero. For fax, press nine." },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      gint64 start = g_get_monotonic_time ();
      g_autoptr(GBytes) pcm = kefu_tts_speak (tts, texts[i][0], texts[i][1], &error);
      double ms = (g_get_monotonic_time () - start) / 1000.0;

      g_assert_no_error (error);
      g_test_message ("%s %.2f s of speech in %.1f ms: %s", texts[i][0], seconds (pcm), ms,
                      texts[i][1]);
      /* on demand it must stay well inside a caller's patience */
      g_assert_cmpfloat (ms, <, 2000);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tts/chinese", test_chinese);
  g_test_add_func ("/tts/english", test_english);
  g_test_add_func ("/tts/cache", test_cache);
  g_test_add_func ("/tts/unknown-language", test_unknown_language);
  g_test_add_func ("/tts/voice-missing", test_voice_missing);
  g_test_add_func ("/tts/resample", test_resample);
  g_test_add_func ("/tts/timing", test_timing);
  return g_test_run ();
}
