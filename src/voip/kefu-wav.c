/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuWav"

#include "config.h"

#include "kefu-wav.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kefu-io-error.h"

#define WAVE_FORMAT_PCM        0x0001
#define WAVE_FORMAT_EXTENSIBLE 0xFFFE
#define RIFF_HEADER_SIZE       12
#define CHUNK_HEADER_SIZE      8
#define FMT_MIN_SIZE           16
#define FMT_EXTENSIBLE_SIZE    40
#define CANONICAL_HEADER_SIZE  44

/* A RIFF size field is 32 bits: larger PCM cannot be written. */
#define MAX_DATA_BYTES         (G_MAXUINT32 - CANONICAL_HEADER_SIZE)

static inline guint16
read_le16 (const guint8 *p)
{
  return (guint16) (p[0] | (p[1] << 8));
}

static inline guint32
read_le32 (const guint8 *p)
{
  return (guint32) p[0] | ((guint32) p[1] << 8) | ((guint32) p[2] << 16) | ((guint32) p[3] << 24);
}

static inline void
write_le16 (guint8  *p,
            guint16  v)
{
  p[0] = v & 0xff;
  p[1] = v >> 8;
}

static inline void
write_le32 (guint8  *p,
            guint32  v)
{
  p[0] = v & 0xff;
  p[1] = (v >> 8) & 0xff;
  p[2] = (v >> 16) & 0xff;
  p[3] = v >> 24;
}

static gboolean
set_invalid (GError     **error,
             const char  *reason)
{
  g_set_error_literal (error, KEFU_IO_ERROR, G_IO_ERROR_INVALID_DATA, reason);
  return FALSE;
}

/*
 * WAVE_FORMAT_EXTENSIBLE wraps the real format in a GUID whose first two
 * bytes are the old format tag; PCM is 0x0001 followed by the fixed
 * KSDATAFORMAT suffix, which is all we need to compare.
 */
static gboolean
extensible_is_pcm (const guint8 *fmt,
                   guint32       fmt_size)
{
  static const guint8 pcm_guid_tail[14] = {
    0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71,
  };

  if (fmt_size < FMT_EXTENSIBLE_SIZE)
    return FALSE;
  return read_le16 (fmt + 24) == WAVE_FORMAT_PCM
         && memcmp (fmt + 26, pcm_guid_tail, sizeof pcm_guid_tail) == 0;
}

/* max_channels 1: mono only, as prompts are; 2: call recordings too. */
static gboolean
check_format (const guint8  *fmt,
              guint32        fmt_size,
              guint          max_channels,
              guint         *channels_out,
              guint         *rate_out,
              GError       **error)
{
  guint16 tag, channels, block_align, bits;
  guint32 rate;

  if (fmt_size < FMT_MIN_SIZE)
    return set_invalid (error, _("WAV format chunk is too short"));

  tag = read_le16 (fmt);
  channels = read_le16 (fmt + 2);
  rate = read_le32 (fmt + 4);
  block_align = read_le16 (fmt + 12);
  bits = read_le16 (fmt + 14);

  if (tag != WAVE_FORMAT_PCM && !(tag == WAVE_FORMAT_EXTENSIBLE && extensible_is_pcm (fmt, fmt_size)))
    return set_invalid (error, _("WAV audio is not linear PCM (A-law, µ-law, float and "
                                 "compressed audio are not supported)"));
  if (max_channels == 1 && channels != 1)
    return set_invalid (error, _("WAV audio is not mono"));
  if (channels < 1 || channels > max_channels)
    return set_invalid (error, _("WAV audio is neither mono nor stereo"));
  if (bits != 16 || block_align != 2 * channels)
    return set_invalid (error, _("WAV audio is not 16-bit"));
  if (rate < KEFU_WAV_MIN_RATE || rate > KEFU_WAV_MAX_RATE)
    return set_invalid (error, _("WAV sample rate is outside 8000–96000 Hz"));

  *channels_out = channels;
  *rate_out = rate;
  return TRUE;
}

/* Copies n bytes at `offset` of a WAV image out of wherever it is. */
typedef gboolean (*ReadAtFunc) (gpointer   source,
                                guint64    offset,
                                guint8    *buf,
                                gsize      n,
                                GError   **error);

/* Where a WAV's samples are and what they are. */
typedef struct
{
  guint   channels;
  guint   rate;
  guint64 data_offset;
  guint32 data_size;
} Layout;

/*
 * Walks the chunks of a WAV image of `length` bytes, reading only their
 * headers and the format: the same checks whether the image is in memory
 * or on disk.
 */
static gboolean
find_samples (ReadAtFunc   read_at,
              gpointer     source,
              guint64      length,
              guint        max_channels,
              Layout      *layout,
              GError     **error)
{
  guint8 riff[RIFF_HEADER_SIZE];
  guint64 pos = RIFF_HEADER_SIZE;
  guint64 end;
  gboolean have_fmt = FALSE;

  layout->channels = 1;
  layout->rate = 0;

  if (length < RIFF_HEADER_SIZE)
    return set_invalid (error, _("Not a RIFF/WAVE file"));
  if (!read_at (source, 0, riff, sizeof riff, error))
    return FALSE;
  if (memcmp (riff, "RIFF", 4) != 0 || memcmp (riff + 8, "WAVE", 4) != 0)
    return set_invalid (error, _("Not a RIFF/WAVE file"));

  /* Writers that stream (and some that crash) leave the RIFF size wrong;
   * trust the bytes we actually have when they are fewer. */
  end = MIN (length, (guint64) read_le32 (riff + 4) + 8);

  while (pos + CHUNK_HEADER_SIZE <= end)
    {
      guint8 chunk[CHUNK_HEADER_SIZE];
      guint64 available = end - pos - CHUNK_HEADER_SIZE;
      guint32 size;

      if (!read_at (source, pos, chunk, sizeof chunk, error))
        return FALSE;
      size = read_le32 (chunk + 4);

      if (memcmp (chunk, "fmt ", 4) == 0)
        {
          /* check_format() looks no further than an extensible format's */
          guint8 fmt[FMT_EXTENSIBLE_SIZE];

          if (size > available)
            return set_invalid (error, _("WAV format chunk is truncated"));
          if (!read_at (source, pos + CHUNK_HEADER_SIZE, fmt, MIN (size, sizeof fmt), error))
            return FALSE;
          if (!check_format (fmt, size, max_channels, &layout->channels, &layout->rate, error))
            return FALSE;
          have_fmt = TRUE;
        }
      else if (memcmp (chunk, "data", 4) == 0)
        {
          if (!have_fmt)
            return set_invalid (error, _("WAV data chunk comes before the format chunk"));
          if (size > available)
            return set_invalid (error, _("WAV data chunk is truncated"));
          if (size % (2 * layout->channels) != 0)
            return set_invalid (error, _("WAV data chunk ends in the middle of a sample"));

          layout->data_offset = pos + CHUNK_HEADER_SIZE;
          layout->data_size = size;
          return TRUE;
        }

      /* Chunks are padded to an even length; the pad byte is not counted. */
      if ((guint64) size + (size & 1) > available)
        break;
      pos += CHUNK_HEADER_SIZE + size + (size & 1);
    }

  if (!have_fmt)
    return set_invalid (error, _("WAV file has no format chunk"));
  return set_invalid (error, _("WAV file has no data chunk"));
}

/* find_samples() only asks for bytes within the length it was given. */
static gboolean
read_at_memory (gpointer   source,
                guint64    offset,
                guint8    *buf,
                gsize      n,
                GError   **error)
{
  memcpy (buf, (const guint8 *) source + offset, n);
  return TRUE;
}

static gboolean
parse (const guint8  *data,
       gsize          length,
       guint          max_channels,
       gint16       **samples_out,
       gsize         *n_frames_out,
       guint         *channels_out,
       guint         *rate_out,
       GError       **error)
{
  Layout layout;
  gint16 *samples = NULL;
  gsize n;

  g_return_val_if_fail (data != NULL || length == 0, FALSE);
  g_return_val_if_fail (samples_out != NULL && n_frames_out != NULL && rate_out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!find_samples (read_at_memory, (gpointer) data, length, max_channels, &layout, error))
    return FALSE;

  n = layout.data_size / 2;
  if (n > 0)
    {
      const guint8 *body = data + layout.data_offset;

      samples = g_new (gint16, n);
      for (gsize i = 0; i < n; i++)
        samples[i] = (gint16) read_le16 (body + 2 * i);
    }

  *samples_out = samples;
  *n_frames_out = n / layout.channels;
  if (channels_out != NULL)
    *channels_out = layout.channels;
  *rate_out = layout.rate;
  return TRUE;
}

gboolean
kefu_wav_parse (const guint8  *data,
                gsize          length,
                gint16       **samples_out,
                gsize         *n_samples_out,
                guint         *rate_out,
                GError       **error)
{
  return parse (data, length, 1, samples_out, n_samples_out, NULL, rate_out, error);
}

gboolean
kefu_wav_parse_interleaved (const guint8  *data,
                            gsize          length,
                            gint16       **samples_out,
                            gsize         *n_frames_out,
                            guint         *channels_out,
                            guint         *rate_out,
                            GError       **error)
{
  g_return_val_if_fail (channels_out != NULL, FALSE);

  return parse (data, length, 2, samples_out, n_frames_out, channels_out, rate_out, error);
}

/* --- Streaming reader ---------------------------------------------------- */

struct _KefuWavReader
{
  char    *path;
  int      fd;
  Layout   layout;
  guint64  pos;        /* the next byte of the data chunk to hand out */
  guint64  buf_start;  /* where in the data chunk buf begins */
  gsize    buf_len;
  guint8   buf[KEFU_WAV_READER_BUFFER];
};

/* pread()s exactly n bytes; a file that ends first was cut short since it
 * was opened. */
static gboolean
read_at_file (gpointer   source,
              guint64    offset,
              guint8    *buf,
              gsize      n,
              GError   **error)
{
  KefuWavReader *self = source;

  while (n > 0)
    {
      ssize_t got = pread (self->fd, buf, n, (off_t) offset);

      if (got < 0 && errno == EINTR)
        continue;
      if (got < 0)
        {
          int saved_errno = errno;

          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                       _("Cannot read %s: %s"), self->path, g_strerror (saved_errno));
          return FALSE;
        }
      if (got == 0)
        {
          g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_IO,
                       _("Cannot read %s: the file is shorter than it was"), self->path);
          return FALSE;
        }
      buf += got;
      n -= (gsize) got;
      offset += (guint64) got;
    }
  return TRUE;
}

static KefuWavReader *
reader_new (const char  *path,
            guint        max_channels,
            GError     **error)
{
  g_autoptr(KefuWavReader) self = NULL;
  g_autoptr(GError) local_error = NULL;
  struct stat st;
  int saved_errno;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_new0 (KefuWavReader, 1);
  self->path = g_strdup (path);
  self->fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  if (self->fd < 0 || fstat (self->fd, &st) != 0)
    {
      saved_errno = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   _("Cannot open %s: %s"), path, g_strerror (saved_errno));
      return NULL;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                   _("Cannot open %s: not a regular file"), path);
      return NULL;
    }

  if (!find_samples (read_at_file, self, (guint64) st.st_size, max_channels, &self->layout,
                     &local_error))
    {
      if (local_error->domain == KEFU_IO_ERROR)
        g_set_error (error, local_error->domain, local_error->code, "%s: %s", path,
                     local_error->message);
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  return g_steal_pointer (&self);
}

KefuWavReader *
kefu_wav_reader_new (const char  *path,
                     GError     **error)
{
  return reader_new (path, 1, error);
}

static void
to_host_order (gint16       *samples,
               const guint8 *le,
               gsize         n)
{
  for (gsize i = 0; i < n; i++)
    samples[i] = (gint16) read_le16 (le + 2 * i);
}

gboolean
kefu_wav_reader_read (KefuWavReader  *self,
                      gint16         *samples,
                      gsize           n_frames,
                      gsize          *n_read,
                      GError        **error)
{
  gsize frame_bytes;
  gsize want, done = 0;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (samples != NULL || n_frames == 0, FALSE);
  g_return_val_if_fail (n_read != NULL, FALSE);

  frame_bytes = 2 * self->layout.channels;
  want = (gsize) MIN ((guint64) n_frames, (self->layout.data_size - self->pos) / frame_bytes)
         * frame_bytes;
  *n_read = 0;

  while (done < want)
    {
      guint8 *out = (guint8 *) samples + done;
      gsize left = want - done;

      if (self->pos >= self->buf_start && self->pos < self->buf_start + self->buf_len)
        {
          gsize offset = (gsize) (self->pos - self->buf_start);
          gsize n = MIN (left, self->buf_len - offset);

          to_host_order ((gint16 *) out, self->buf + offset, n / 2);
          done += n;
          self->pos += n;
        }
      else if (left >= sizeof self->buf)
        {
          /* a big read (a whole file) goes straight to the caller's memory */
          if (!read_at_file (self, self->layout.data_offset + self->pos, out, left, error))
            return FALSE;
          for (gsize i = 0; i < left / 2; i++)
            ((gint16 *) out)[i] = GINT16_FROM_LE (((gint16 *) out)[i]);
          done += left;
          self->pos += left;
        }
      else
        {
          gsize n = (gsize) MIN ((guint64) sizeof self->buf, self->layout.data_size - self->pos);

          self->buf_len = 0;
          if (!read_at_file (self, self->layout.data_offset + self->pos, self->buf, n, error))
            return FALSE;
          self->buf_start = self->pos;
          self->buf_len = n;
        }
    }

  *n_read = want / frame_bytes;
  return TRUE;
}

void
kefu_wav_reader_rewind (KefuWavReader *self)
{
  g_return_if_fail (self != NULL);

  /* what is buffered stays: a short file is read from disk once */
  self->pos = 0;
}

guint
kefu_wav_reader_get_rate (const KefuWavReader *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->layout.rate;
}

guint64
kefu_wav_reader_get_frames (const KefuWavReader *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->layout.data_size / (2 * self->layout.channels);
}

const char *
kefu_wav_reader_get_path (const KefuWavReader *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->path;
}

void
kefu_wav_reader_free (KefuWavReader *self)
{
  if (self == NULL)
    return;
  if (self->fd >= 0)
    (void) close (self->fd);
  g_free (self->path);
  g_free (self);
}

/* The samples go from the file straight into the one array returned. */
static gboolean
load (const char  *path,
      guint        max_channels,
      gint16     **samples_out,
      gsize       *n_frames_out,
      guint       *channels_out,
      guint       *rate_out,
      GError     **error)
{
  g_autoptr(KefuWavReader) reader = NULL;
  g_autofree gint16 *samples = NULL;
  gsize n_frames, n_read = 0;

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (samples_out != NULL && n_frames_out != NULL && rate_out != NULL, FALSE);

  reader = reader_new (path, max_channels, error);
  if (reader == NULL)
    return FALSE;

  n_frames = (gsize) kefu_wav_reader_get_frames (reader);
  if (n_frames > 0)
    {
      samples = g_new (gint16, n_frames * reader->layout.channels);
      if (!kefu_wav_reader_read (reader, samples, n_frames, &n_read, error))
        return FALSE;
      g_assert (n_read == n_frames);
    }

  *samples_out = g_steal_pointer (&samples);
  *n_frames_out = n_frames;
  if (channels_out != NULL)
    *channels_out = reader->layout.channels;
  *rate_out = reader->layout.rate;
  return TRUE;
}

gboolean
kefu_wav_load (const char  *path,
               gint16     **samples_out,
               gsize       *n_samples_out,
               guint       *rate_out,
               GError     **error)
{
  return load (path, 1, samples_out, n_samples_out, NULL, rate_out, error);
}

gboolean
kefu_wav_load_interleaved (const char  *path,
                           gint16     **samples_out,
                           gsize       *n_frames_out,
                           guint       *channels_out,
                           guint       *rate_out,
                           GError     **error)
{
  g_return_val_if_fail (channels_out != NULL, FALSE);

  return load (path, 2, samples_out, n_frames_out, channels_out, rate_out, error);
}

/* The canonical 44-byte header of a PCM WAV holding data_bytes. */
static void
write_header (guint8  *image,
              guint    rate,
              guint    channels,
              guint32  data_bytes)
{
  memcpy (image, "RIFF", 4);
  write_le32 (image + 4, (guint32) (CANONICAL_HEADER_SIZE - 8 + data_bytes));
  memcpy (image + 8, "WAVE", 4);
  memcpy (image + 12, "fmt ", 4);
  write_le32 (image + 16, FMT_MIN_SIZE);
  write_le16 (image + 20, WAVE_FORMAT_PCM);
  write_le16 (image + 22, (guint16) channels);
  write_le32 (image + 24, rate);
  write_le32 (image + 28, rate * 2 * channels);
  write_le16 (image + 32, (guint16) (2 * channels));
  write_le16 (image + 34, 16);
  memcpy (image + 36, "data", 4);
  write_le32 (image + 40, data_bytes);
}

gboolean
kefu_wav_save (const char    *path,
               const gint16  *samples,
               gsize          n_samples,
               guint          rate,
               GError       **error)
{
  g_autofree guint8 *image = NULL;
  gsize data_bytes;

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (samples != NULL || n_samples == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (rate < KEFU_WAV_MIN_RATE || rate > KEFU_WAV_MAX_RATE)
    return set_invalid (error, _("WAV sample rate is outside 8000–96000 Hz"));
  if (n_samples > MAX_DATA_BYTES / 2)
    return set_invalid (error, _("Audio is too long for a WAV file"));

  data_bytes = n_samples * 2;
  image = g_malloc (CANONICAL_HEADER_SIZE + data_bytes);

  write_header (image, rate, 1, (guint32) data_bytes);

  for (gsize i = 0; i < n_samples; i++)
    write_le16 (image + CANONICAL_HEADER_SIZE + 2 * i, (guint16) samples[i]);

  return g_file_set_contents (path, (const char *) image, CANONICAL_HEADER_SIZE + data_bytes, error);
}

/* --- Streaming writer ---------------------------------------------------- */

struct _KefuWavWriter
{
  char    *path;
  int      fd;
  guint    rate;
  guint    channels;
  guint64  frames;
  guint64  data_bytes;     /* accepted, buffered or on disk */
  guint64  written_bytes;  /* on disk, after the header */
  GError  *failure;        /* the first error: the writer is stuck then */
  gsize    buf_len;
  guint8   buf[KEFU_WAV_WRITER_BUFFER];
};

static gboolean
fail_errno (KefuWavWriter  *self,
            int             saved_errno,
            GError        **error)
{
  if (self->failure == NULL)
    self->failure = g_error_new (KEFU_IO_ERROR, kefu_io_error_from_errno (saved_errno),
                                 _("Cannot write %s: %s"), self->path,
                                 g_strerror (saved_errno));
  if (error != NULL)
    *error = g_error_copy (self->failure);
  return FALSE;
}

static gboolean
write_all (int           fd,
           const guint8 *data,
           gsize         len,
           off_t         offset,
           gboolean      positioned,
           int          *saved_errno)
{
  while (len > 0)
    {
      ssize_t n = positioned ? pwrite (fd, data, len, offset) : write (fd, data, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          *saved_errno = n < 0 ? errno : ENOSPC;
          return FALSE;
        }
      data += n;
      len -= (gsize) n;
      offset += n;
    }
  return TRUE;
}

KefuWavWriter *
kefu_wav_writer_new (const char  *path,
                     guint        rate,
                     guint        channels,
                     GError     **error)
{
  KefuWavWriter *self;
  guint8 header[CANONICAL_HEADER_SIZE];
  int saved_errno = 0;
  int fd;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (channels == 1 || channels == 2, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (rate < KEFU_WAV_MIN_RATE || rate > KEFU_WAV_MAX_RATE)
    {
      set_invalid (error, _("WAV sample rate is outside 8000–96000 Hz"));
      return NULL;
    }

  fd = g_open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    {
      saved_errno = errno;
      g_set_error (error, KEFU_IO_ERROR, kefu_io_error_from_errno (saved_errno),
                   _("Cannot create %s: %s"), path, g_strerror (saved_errno));
      return NULL;
    }

  /* an empty but valid WAV until the first flush */
  write_header (header, rate, channels, 0);
  if (!write_all (fd, header, sizeof header, 0, FALSE, &saved_errno))
    {
      g_set_error (error, KEFU_IO_ERROR, kefu_io_error_from_errno (saved_errno),
                   _("Cannot write %s: %s"), path, g_strerror (saved_errno));
      (void) close (fd);
      return NULL;
    }

  self = g_new0 (KefuWavWriter, 1);
  self->path = g_strdup (path);
  self->fd = fd;
  self->rate = rate;
  self->channels = channels;
  return self;
}

gboolean
kefu_wav_writer_flush (KefuWavWriter  *self,
                       GError        **error)
{
  guint8 header[CANONICAL_HEADER_SIZE];
  int saved_errno = 0;

  g_return_val_if_fail (self != NULL, FALSE);

  if (self->failure != NULL)
    return fail_errno (self, 0, error);

  if (self->buf_len > 0)
    {
      if (!write_all (self->fd, self->buf, self->buf_len, 0, FALSE, &saved_errno))
        return fail_errno (self, saved_errno, error);
      self->written_bytes += self->buf_len;
      self->buf_len = 0;
    }

  /* Sizes of what is on disk: a crash after this leaves a valid file. */
  write_header (header, self->rate, self->channels, (guint32) self->written_bytes);
  if (!write_all (self->fd, header, sizeof header, 0, TRUE, &saved_errno))
    return fail_errno (self, saved_errno, error);
  return TRUE;
}

gboolean
kefu_wav_writer_write (KefuWavWriter  *self,
                       const gint16   *samples,
                       gsize           n_frames,
                       GError        **error)
{
  gsize n;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (samples != NULL || n_frames == 0, FALSE);

  if (self->failure != NULL)
    return fail_errno (self, 0, error);

  n = n_frames * self->channels;
  if (n_frames > MAX_DATA_BYTES / 2 / self->channels
      || self->data_bytes + 2 * n > MAX_DATA_BYTES)
    {
      set_invalid (&self->failure, _("Audio is too long for a WAV file"));
      return fail_errno (self, 0, error);
    }

  for (gsize i = 0; i < n; i++)
    {
      if (self->buf_len == sizeof self->buf && !kefu_wav_writer_flush (self, error))
        return FALSE;
      write_le16 (self->buf + self->buf_len, (guint16) samples[i]);
      self->buf_len += 2;
    }
  self->data_bytes += 2 * n;
  self->frames += n_frames;

  if (self->buf_len == sizeof self->buf)
    return kefu_wav_writer_flush (self, error);
  return TRUE;
}

guint64
kefu_wav_writer_get_frames (const KefuWavWriter *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->frames;
}

const char *
kefu_wav_writer_get_path (const KefuWavWriter *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->path;
}

gboolean
kefu_wav_writer_close (KefuWavWriter  *self,
                       GError        **error)
{
  gboolean ok;

  g_return_val_if_fail (self != NULL, FALSE);

  ok = kefu_wav_writer_flush (self, error);
  if (close (self->fd) != 0 && ok)
    ok = fail_errno (self, errno, error);

  g_clear_error (&self->failure);
  g_free (self->path);
  g_free (self);
  return ok;
}

void
kefu_wav_writer_free (KefuWavWriter *self)
{
  g_autoptr(GError) error = NULL;

  if (self == NULL)
    return;
  if (!kefu_wav_writer_close (self, &error))
    g_message ("%s", error->message);
}
