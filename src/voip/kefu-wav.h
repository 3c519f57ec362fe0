/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Minimal RIFF/WAVE reader and writer for 16-bit linear PCM mono: what the
 * switch's prompts, the softphone's recordings and the DTMF tests exchange.
 * Anything else (stereo, 8-bit, A-law/µ-law, float) is refused with a
 * G_IO_ERROR_INVALID_DATA error naming the reason; convert such files with
 * sox first.  Pure functions on caller-owned memory, safe from any thread.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Rates accepted on reading; writing accepts the same range. */
#define KEFU_WAV_MIN_RATE  8000
#define KEFU_WAV_MAX_RATE  96000

/* Parses a whole WAV image held in memory.  Chunks other than "fmt " and
 * "data" (LIST, fact, cue ...) are skipped.  On success *samples_out is a
 * g_malloc'd array of *n_samples_out host-order samples (NULL when the
 * data chunk is empty). */
gboolean kefu_wav_parse (const guint8  *data,
                         gsize          length,
                         gint16       **samples_out,
                         gsize         *n_samples_out,
                         guint         *rate_out,
                         GError       **error);

/* Reads `path` whole and parses it as above; errors name the file. */
gboolean kefu_wav_load  (const char    *path,
                         gint16       **samples_out,
                         gsize         *n_samples_out,
                         guint         *rate_out,
                         GError       **error);

/* Writes a canonical 44-byte-header WAV, atomically (g_file_set_contents). */
gboolean kefu_wav_save  (const char    *path,
                         const gint16  *samples,
                         gsize          n_samples,
                         guint          rate,
                         GError       **error);

G_END_DECLS
