/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Minimal RIFF/WAVE reader and writer for 16-bit linear PCM: what the
 * switch's prompts, the softphone's recordings and the DTMF tests exchange.
 * Prompts and the like are mono; call recordings are stereo (one party per
 * channel), which only the _interleaved readers and the streaming writer
 * take.  Anything else (more channels, 8-bit, A-law/µ-law, float) is
 * refused with a G_IO_ERROR_INVALID_DATA error naming the reason; convert
 * such files with sox first.  The functions work on caller-owned memory
 * and are safe from any thread; one KefuWavReader or KefuWavWriter is used
 * by one thread.
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

/* Reads `path` into one new array, checked as above; errors name the file
 * (a missing file is G_FILE_ERROR_NOENT). */
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

/* As kefu_wav_parse() and kefu_wav_load(), for mono or stereo: the
 * samples are interleaved (left, right, left ...), *n_frames_out counts
 * sample frames (one sample per channel) and *channels_out is 1 or 2. */
gboolean kefu_wav_parse_interleaved (const guint8  *data,
                                     gsize          length,
                                     gint16       **samples_out,
                                     gsize         *n_frames_out,
                                     guint         *channels_out,
                                     guint         *rate_out,
                                     GError       **error);
gboolean kefu_wav_load_interleaved  (const char    *path,
                                     gint16       **samples_out,
                                     gsize         *n_frames_out,
                                     guint         *channels_out,
                                     guint         *rate_out,
                                     GError       **error);

/*
 * A WAV read as the audio is wanted, for a call that plays a file: opening
 * reads and checks only the header (mono, as kefu_wav_load() wants), and
 * each read takes the next samples from disk through a buffer of
 * KEFU_WAV_READER_BUFFER bytes (about a quarter of a second at 8 kHz), so
 * however long the file, it is never held in memory.  Reads larger than
 * the buffer go straight from the file to the caller's array.
 */
#define KEFU_WAV_READER_BUFFER 4096

typedef struct _KefuWavReader KefuWavReader;

KefuWavReader *kefu_wav_reader_new    (const char     *path,
                                       GError        **error) G_GNUC_WARN_UNUSED_RESULT;
/* Up to n_frames samples (host order) into `samples`; *n_read is fewer
 * only at the end of the data.  FALSE when the file cannot be read (or was
 * cut short since it was opened). */
gboolean       kefu_wav_reader_read   (KefuWavReader  *self,
                                       gint16         *samples,
                                       gsize           n_frames,
                                       gsize          *n_read,
                                       GError        **error);
/* Back to the first sample. */
void           kefu_wav_reader_rewind (KefuWavReader  *self);
guint          kefu_wav_reader_get_rate   (const KefuWavReader *self);
/* Sample frames in the file. */
guint64        kefu_wav_reader_get_frames (const KefuWavReader *self);
const char    *kefu_wav_reader_get_path   (const KefuWavReader *self);
void           kefu_wav_reader_free   (KefuWavReader  *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KefuWavReader, kefu_wav_reader_free)

/*
 * A WAV written as the audio comes, for recordings too long to hold in
 * memory.  The samples are buffered and go to disk every
 * KEFU_WAV_WRITER_BUFFER bytes (about a second of 8 kHz stereo); each time,
 * the header's sizes are brought up to date, so that after a crash the
 * file is a valid WAV missing at most its last buffer.  The file is
 * created (or truncated) at once, so a bad path fails there.  After a
 * failed write the writer stays failed: further writes return FALSE.
 */
#define KEFU_WAV_WRITER_BUFFER 32000

typedef struct _KefuWavWriter KefuWavWriter;

/* channels: 1 or 2. */
KefuWavWriter *kefu_wav_writer_new    (const char     *path,
                                       guint           rate,
                                       guint           channels,
                                       GError        **error) G_GNUC_WARN_UNUSED_RESULT;
/* n_frames sample frames, interleaved when stereo. */
gboolean       kefu_wav_writer_write  (KefuWavWriter  *self,
                                       const gint16   *samples,
                                       gsize           n_frames,
                                       GError        **error);
/* Writes out what is buffered and fixes the header now. */
gboolean       kefu_wav_writer_flush  (KefuWavWriter  *self,
                                       GError        **error);
/* Flushes, closes and frees; FALSE if anything failed on the way (the
 * writer is freed all the same). */
gboolean       kefu_wav_writer_close  (KefuWavWriter  *self,
                                       GError        **error);
/* Sample frames accepted so far. */
guint64        kefu_wav_writer_get_frames (const KefuWavWriter *self);
const char    *kefu_wav_writer_get_path   (const KefuWavWriter *self);
/* Closes, a failure only logged: for cleanup paths. */
void           kefu_wav_writer_free   (KefuWavWriter  *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KefuWavWriter, kefu_wav_writer_free)

G_END_DECLS
