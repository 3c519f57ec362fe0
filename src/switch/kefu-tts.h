/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Text to speech for the switch's prompts: Chinese or English text becomes
 * 8 kHz 16-bit mono PCM (host order), what the switch plays on a G.711
 * leg.  Debian's libespeak-ng speaks it at 22050 Hz into memory (its
 * synchronous mode) and a windowed-sinc low-pass resampler brings it to
 * 8000 Hz.
 *
 * Rendered audio is cached, keyed by (language, text), as immutable
 * GBytes: a busy IVR speaks each sentence once, and a buffer handed to a
 * call stays valid after the cache drops it.  Fixed prompts are rendered
 * when the config is loaded (kefu_switch_config_render_prompts()); texts
 * holding a customer's data are spoken on demand (a short sentence costs a
 * few milliseconds: see kefu-tts.c for the figures).
 *
 * espeak-ng is one global engine and not thread-safe: every KefuTts of a
 * process must be used from one thread (the switch's re_main thread).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define KEFU_TTS_RATE 8000

#define KEFU_TTS_ERROR (kefu_tts_error_quark ())

typedef enum {
  KEFU_TTS_ERROR_ENGINE,       /* espeak-ng could not start (data missing ...) */
  KEFU_TTS_ERROR_LANGUAGE,     /* not a language we speak, or its voice is not installed */
  KEFU_TTS_ERROR_SYNTHESIS,    /* espeak-ng failed on this text */
} KefuTtsError;

GQuark kefu_tts_error_quark (void);

typedef struct _KefuTts KefuTts;

/* The languages the switch speaks: "zh" (Mandarin, espeak-ng's cmn-latn-pinyin voice) and
 * "en" (English), NULL-terminated. */
const char * const *kefu_tts_languages (void);

/* Starts espeak-ng (once per process; it then stays until exit). */
KefuTts  *kefu_tts_new            (GError     **error) G_GNUC_WARN_UNUSED_RESULT;
void      kefu_tts_free           (KefuTts     *self);

/* TRUE if `language` is one of kefu_tts_languages() and its voice is
 * installed; otherwise an error saying which and what is installed. */
gboolean  kefu_tts_check_language (KefuTts     *self,
                                   const char  *language,
                                   GError     **error);

/* The same, without a KefuTts: for --check-config. */
gboolean  kefu_tts_language_available (const char  *language,
                                       GError     **error);

/* 8 kHz mono PCM of `text` spoken in `language` (a new reference), from
 * the cache when it was spoken before.  Empty text gives empty audio. */
GBytes   *kefu_tts_speak          (KefuTts     *self,
                                   const char  *language,
                                   const char  *text,
                                   GError     **error) G_GNUC_WARN_UNUSED_RESULT;

/* The cache drops least recently used entries beyond this many bytes of
 * audio (default 32 MiB, about 35 minutes of speech). */
void      kefu_tts_set_cache_limit (KefuTts    *self,
                                    gsize       bytes);

typedef struct {
  guint64 hits;
  guint64 misses;          /* = texts synthesised */
  gsize   entries;
  gsize   bytes;
  gdouble synthesis_ms;    /* total time spent in espeak-ng and resampling */
} KefuTtsStats;

void      kefu_tts_get_stats      (KefuTts      *self,
                                   KefuTtsStats *stats);

/* Converts mono 16-bit PCM from `in_rate` to `out_rate` (any rates from
 * 8000 to 96000 Hz) with a low-pass at 0.45 of the lower rate: also used
 * for WAV prompts recorded at other rates.  Returns a g_malloc'd array of
 * *n_out samples. */
gint16   *kefu_tts_resample       (const gint16 *samples,
                                   gsize         n_samples,
                                   guint         in_rate,
                                   guint         out_rate,
                                   gsize        *n_out) G_GNUC_WARN_UNUSED_RESULT;

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KefuTts, kefu_tts_free)

G_END_DECLS
