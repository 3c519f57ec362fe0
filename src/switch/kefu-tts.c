/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuTts"

#include "config.h"

#include "kefu-tts.h"

#include <glib/gi18n-lib.h>

#include <espeak-ng/espeak_ng.h>
#include <espeak-ng/speak_lib.h>

#include <math.h>
#include <string.h>

/*
 * Measured on this 2-core machine (tests/switch/test-tts.c, /tts/timing;
 * -O2 without sanitizers, 2026-11-26): a short dynamic sentence, about a
 * second of speech ("您好，张伟。", "Hello, John Smith."), takes 2-7 ms to
 * synthesise and resample, so a customer's name is spoken on demand on
 * the re_main thread; a ten-second menu prompt takes 23-26 ms (70-80 ms
 * under ASan), which is why fixed prompts are rendered at config load.
 * Switching between the zh and en voices costs a few ms of it.
 */

#define DEFAULT_CACHE_LIMIT (32 * 1024 * 1024)

/* The languages we speak and espeak-ng's voice for each. */
static const struct {
  const char *language;
  const char *voice;
} voices[] = {
  { "zh", "cmn-latn-pinyin" },  /* "cmn" reads the pinyin it makes as English */
  { "en", "en" },
};

static const char * const languages[] = { "zh", "en", NULL };

typedef struct {
  char   *key;       /* language "\n" text */
  GBytes *pcm;
  GList  *lru_link;  /* in KefuTts.lru, most recent at the head */
} CacheEntry;

struct _KefuTts {
  GHashTable   *cache;   /* key -> CacheEntry*, owned */
  GQueue        lru;     /* of CacheEntry*, borrowed */
  gsize         limit;
  KefuTtsStats  stats;
};

/* espeak-ng is one engine per process.  It starts with the first KefuTts
 * and stays: espeak-ng 1.51 hangs when initialised again after
 * espeak_ng_Terminate(). */
static gboolean engine_started;
static int engine_rate;
static char engine_error[256];

G_DEFINE_QUARK (kefu-tts-error-quark, kefu_tts_error)

const char * const *
kefu_tts_languages (void)
{
  return languages;
}

static const char *
voice_for (const char *language)
{
  for (gsize i = 0; i < G_N_ELEMENTS (voices); i++)
    if (g_strcmp0 (voices[i].language, language) == 0)
      return voices[i].voice;
  return NULL;
}

static int
on_synth (short        *wav,
          int           n_samples,
          espeak_EVENT *events)
{
  GArray *out = events ? events->user_data : NULL;

  if (wav != NULL && n_samples > 0 && out != NULL)
    g_array_append_vals (out, wav, (guint) n_samples);
  return 0;
}

static gboolean
engine_start (GError **error)
{
  espeak_ng_ERROR_CONTEXT context = NULL;
  espeak_ng_STATUS status;

  if (engine_started)
    return TRUE;

  /* NULL: espeak-ng's own data folder, or $ESPEAK_DATA_PATH */
  espeak_ng_InitializePath (NULL);
  status = espeak_ng_Initialize (&context);
  if (status != ENS_OK)
    {
      espeak_ng_GetStatusCodeMessage (status, engine_error, sizeof engine_error);
      espeak_ng_ClearErrorContext (&context);
      g_set_error (error, KEFU_TTS_ERROR, KEFU_TTS_ERROR_ENGINE,
                   _("Text to speech cannot start: %s (is espeak-ng-data installed?)"),
                   engine_error);
      return FALSE;
    }
  status = espeak_ng_InitializeOutput (ENOUTPUT_MODE_SYNCHRONOUS, 0, NULL);
  if (status != ENS_OK)
    {
      espeak_ng_GetStatusCodeMessage (status, engine_error, sizeof engine_error);
      espeak_ng_Terminate ();
      g_set_error (error, KEFU_TTS_ERROR, KEFU_TTS_ERROR_ENGINE,
                   _("Text to speech cannot start: %s (is espeak-ng-data installed?)"),
                   engine_error);
      return FALSE;
    }
  espeak_SetSynthCallback (on_synth);
  engine_rate = espeak_ng_GetSampleRate ();
  engine_started = TRUE;
  g_debug ("espeak-ng started, %d Hz", engine_rate);
  return TRUE;
}

static gboolean
select_voice (const char  *language,
              GError     **error)
{
  const char *voice = voice_for (language);
  espeak_ng_STATUS status;

  if (voice == NULL)
    {
      g_set_error (error, KEFU_TTS_ERROR, KEFU_TTS_ERROR_LANGUAGE,
                   _("Unknown language “%s” for text to speech (languages: zh, en)"),
                   language ? language : "");
      return FALSE;
    }
  status = espeak_ng_SetVoiceByName (voice);
  if (status != ENS_OK)
    {
      char message[256];

      espeak_ng_GetStatusCodeMessage (status, message, sizeof message);
      g_set_error (error, KEFU_TTS_ERROR, KEFU_TTS_ERROR_LANGUAGE,
                   _("The espeak-ng voice “%s” for language “%s” is not installed (%s): "
                     "install espeak-ng-data"),
                   voice, language, message);
      return FALSE;
    }
  return TRUE;
}

gboolean
kefu_tts_language_available (const char  *language,
                             GError     **error)
{
  gboolean ok;

  if (voice_for (language) == NULL)
    return select_voice (language, error);
  if (!engine_start (error))
    return FALSE;
  ok = select_voice (language, error);
  return ok;
}

static void
cache_entry_free (gpointer data)
{
  CacheEntry *entry = data;

  g_bytes_unref (entry->pcm);
  g_free (entry->key);
  g_free (entry);
}

KefuTts *
kefu_tts_new (GError **error)
{
  KefuTts *self;

  if (!engine_start (error))
    return NULL;
  self = g_new0 (KefuTts, 1);
  self->cache = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, cache_entry_free);
  g_queue_init (&self->lru);
  self->limit = DEFAULT_CACHE_LIMIT;
  return self;
}

void
kefu_tts_free (KefuTts *self)
{
  if (self == NULL)
    return;
  g_queue_clear (&self->lru);
  g_hash_table_unref (self->cache);
  g_free (self);
}

gboolean
kefu_tts_check_language (KefuTts     *self,
                         const char  *language,
                         GError     **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return select_voice (language, error);
}

static void
cache_trim (KefuTts *self)
{
  while (self->stats.bytes > self->limit && self->lru.tail != NULL)
    {
      CacheEntry *entry = self->lru.tail->data;

      g_queue_delete_link (&self->lru, entry->lru_link);
      self->stats.bytes -= g_bytes_get_size (entry->pcm);
      self->stats.entries--;
      g_hash_table_remove (self->cache, entry->key);
    }
}

void
kefu_tts_set_cache_limit (KefuTts *self,
                          gsize    bytes)
{
  g_return_if_fail (self != NULL);
  self->limit = bytes;
  cache_trim (self);
}

void
kefu_tts_get_stats (KefuTts      *self,
                    KefuTtsStats *stats)
{
  g_return_if_fail (self != NULL && stats != NULL);
  *stats = self->stats;
}

static GBytes *
synthesise (const char  *language,
            const char  *text,
            GError     **error)
{
  g_autoptr(GArray) raw = g_array_new (FALSE, FALSE, sizeof (gint16));
  espeak_ng_STATUS status;
  gint16 *out;
  gsize n_out = 0;

  if (!select_voice (language, error))
    return NULL;
  status = espeak_ng_Synthesize (text, strlen (text) + 1, 0, POS_CHARACTER, 0,
                                 espeakCHARS_UTF8, NULL, raw);
  if (status == ENS_OK)
    status = espeak_ng_Synchronize ();
  if (status != ENS_OK)
    {
      char message[256];

      espeak_ng_GetStatusCodeMessage (status, message, sizeof message);
      g_set_error (error, KEFU_TTS_ERROR, KEFU_TTS_ERROR_SYNTHESIS,
                   _("Text to speech failed on “%s”: %s"), text, message);
      return NULL;
    }
  out = kefu_tts_resample ((const gint16 *) raw->data, raw->len, (guint) engine_rate,
                           KEFU_TTS_RATE, &n_out);
  return g_bytes_new_take (out, n_out * sizeof (gint16));
}

GBytes *
kefu_tts_speak (KefuTts     *self,
                const char  *language,
                const char  *text,
                GError     **error)
{
  g_autofree char *key = NULL;
  CacheEntry *entry;
  gint64 start;
  GBytes *pcm;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (text != NULL, NULL);

  key = g_strconcat (language ? language : "", "\n", text, NULL);
  entry = g_hash_table_lookup (self->cache, key);
  if (entry != NULL)
    {
      self->stats.hits++;
      g_queue_unlink (&self->lru, entry->lru_link);
      g_queue_push_head_link (&self->lru, entry->lru_link);
      return g_bytes_ref (entry->pcm);
    }

  if (*text == '\0')
    {
      if (voice_for (language) == NULL)
        {
          select_voice (language, error);
          return NULL;
        }
      pcm = g_bytes_new (NULL, 0);
    }
  else
    {
      start = g_get_monotonic_time ();
      pcm = synthesise (language, text, error);
      if (pcm == NULL)
        return NULL;
      self->stats.synthesis_ms += (g_get_monotonic_time () - start) / 1000.0;
    }
  self->stats.misses++;

  entry = g_new0 (CacheEntry, 1);
  entry->key = g_steal_pointer (&key);
  entry->pcm = g_bytes_ref (pcm);
  g_queue_push_head (&self->lru, entry);
  entry->lru_link = self->lru.head;
  g_hash_table_insert (self->cache, entry->key, entry);
  self->stats.entries++;
  self->stats.bytes += g_bytes_get_size (pcm);
  cache_trim (self);
  return pcm;
}

/* --- resampling ------------------------------------------------------------------------ */

/* Zero crossings of the sinc on each side, and the Kaiser window's beta:
 * about 80 dB of stop-band rejection. */
#define SINC_ZEROS  20
#define KAISER_BETA 8.0

typedef struct {
  guint   in_rate, out_rate;
  guint   up, down;      /* out/in reduced: output n sits at input n * down / up */
  int     half;          /* taps each side of the centre */
  int     taps;          /* 2 * half + 1 */
  float  *coeffs;        /* up phases of taps */
} Resampler;

G_LOCK_DEFINE_STATIC (resampler);
static Resampler *last_resampler;

static double
bessel_i0 (double x)
{
  double sum = 1.0, term = 1.0;

  for (int k = 1; k < 50; k++)
    {
      term *= (x / (2.0 * k)) * (x / (2.0 * k));
      sum += term;
      if (term < sum * 1e-12)
        break;
    }
  return sum;
}

static Resampler *
resampler_new (guint in_rate,
               guint out_rate)
{
  Resampler *r = g_new0 (Resampler, 1);
  guint a = in_rate, b = out_rate;
  double cutoff, i0_beta;

  while (b != 0)
    {
      guint t = a % b;
      a = b;
      b = t;
    }
  r->in_rate = in_rate;
  r->out_rate = out_rate;
  r->up = out_rate / a;
  r->down = in_rate / a;
  /* the cut-off as a fraction of the input rate: 0.45 of the lower rate */
  cutoff = 0.45 * MIN (in_rate, out_rate) / (double) in_rate;
  r->half = (int) ceil (SINC_ZEROS / (2.0 * cutoff));
  r->taps = 2 * r->half + 1;
  r->coeffs = g_new (float, (gsize) r->up * r->taps);
  i0_beta = bessel_i0 (KAISER_BETA);

  for (guint phase = 0; phase < r->up; phase++)
    {
      float *h = r->coeffs + (gsize) phase * r->taps;
      double frac = phase / (double) r->up;  /* output lies frac after input sample 0 */
      double sum = 0;

      for (int k = -r->half; k <= r->half; k++)
        {
          double d = k - frac;  /* input sample k relative to the output instant */
          double x = 2.0 * cutoff * d;
          double s = fabs (x) < 1e-12 ? 1.0 : sin (G_PI * x) / (G_PI * x);
          double w_arg = d / (r->half + 1);
          double w = fabs (w_arg) >= 1.0 ? 0.0
                     : bessel_i0 (KAISER_BETA * sqrt (1.0 - w_arg * w_arg)) / i0_beta;

          h[k + r->half] = (float) (s * w);
          sum += s * w;
        }
      /* unity gain at DC for every phase */
      for (int k = 0; k < r->taps; k++)
        h[k] = (float) (h[k] / sum);
    }
  return r;
}

static void
resampler_free (Resampler *r)
{
  if (r == NULL)
    return;
  g_free (r->coeffs);
  g_free (r);
}

gint16 *
kefu_tts_resample (const gint16 *samples,
                   gsize         n_samples,
                   guint         in_rate,
                   guint         out_rate,
                   gsize        *n_out)
{
  Resampler *r;
  gint16 *out;
  gsize n;

  g_return_val_if_fail (in_rate >= 8000 && in_rate <= 96000, NULL);
  g_return_val_if_fail (out_rate >= 8000 && out_rate <= 96000, NULL);
  g_return_val_if_fail (n_out != NULL, NULL);

  if (in_rate == out_rate)
    {
      *n_out = n_samples;
      return n_samples ? g_memdup2 (samples, n_samples * sizeof (gint16)) : g_new (gint16, 1);
    }

  n = (gsize) (((guint64) n_samples * out_rate) / in_rate);
  out = g_new (gint16, MAX (n, 1));

  G_LOCK (resampler);
  if (last_resampler == NULL || last_resampler->in_rate != in_rate
      || last_resampler->out_rate != out_rate)
    {
      resampler_free (last_resampler);
      last_resampler = resampler_new (in_rate, out_rate);
    }
  r = last_resampler;

  for (gsize i = 0; i < n; i++)
    {
      guint64 pos = (guint64) i * r->down;
      gint64 centre = (gint64) (pos / r->up);
      guint phase = (guint) (pos % r->up);
      const float *h = r->coeffs + (gsize) phase * r->taps;
      gint64 first = centre - r->half;
      double acc = 0;
      long v;

      for (int k = 0; k < r->taps; k++)
        {
          gint64 j = first + k;

          if (j >= 0 && j < (gint64) n_samples)
            acc += h[k] * samples[j];
        }
      v = lrint (acc);
      out[i] = (gint16) CLAMP (v, G_MININT16, G_MAXINT16);
    }
  G_UNLOCK (resampler);

  *n_out = n;
  return out;
}
