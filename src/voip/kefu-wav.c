/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuWav"

#include "config.h"

#include "kefu-wav.h"

#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <string.h>

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
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, reason);
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

static gboolean
check_format (const guint8  *fmt,
              guint32        fmt_size,
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
  if (channels != 1)
    return set_invalid (error, _("WAV audio is not mono"));
  if (bits != 16 || block_align != 2)
    return set_invalid (error, _("WAV audio is not 16-bit"));
  if (rate < KEFU_WAV_MIN_RATE || rate > KEFU_WAV_MAX_RATE)
    return set_invalid (error, _("WAV sample rate is outside 8000–96000 Hz"));

  *rate_out = rate;
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
  gsize pos = RIFF_HEADER_SIZE;
  gsize end;
  guint rate = 0;
  gboolean have_fmt = FALSE;

  g_return_val_if_fail (data != NULL || length == 0, FALSE);
  g_return_val_if_fail (samples_out != NULL && n_samples_out != NULL && rate_out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (length < RIFF_HEADER_SIZE || memcmp (data, "RIFF", 4) != 0 || memcmp (data + 8, "WAVE", 4) != 0)
    return set_invalid (error, _("Not a RIFF/WAVE file"));

  /* Writers that stream (and some that crash) leave the RIFF size wrong;
   * trust the bytes we actually have when they are fewer. */
  end = MIN (length, (gsize) read_le32 (data + 4) + 8);

  while (pos + CHUNK_HEADER_SIZE <= end)
    {
      const guint8 *chunk = data + pos;
      guint32 size = read_le32 (chunk + 4);
      const guint8 *body = chunk + CHUNK_HEADER_SIZE;
      gsize available = end - pos - CHUNK_HEADER_SIZE;

      if (memcmp (chunk, "fmt ", 4) == 0)
        {
          if (size > available)
            return set_invalid (error, _("WAV format chunk is truncated"));
          if (!check_format (body, size, &rate, error))
            return FALSE;
          have_fmt = TRUE;
        }
      else if (memcmp (chunk, "data", 4) == 0)
        {
          gsize n;
          gint16 *samples = NULL;

          if (!have_fmt)
            return set_invalid (error, _("WAV data chunk comes before the format chunk"));
          if (size > available)
            return set_invalid (error, _("WAV data chunk is truncated"));
          if (size % 2 != 0)
            return set_invalid (error, _("WAV data chunk ends in the middle of a sample"));

          n = size / 2;
          if (n > 0)
            {
              samples = g_new (gint16, n);
              for (gsize i = 0; i < n; i++)
                samples[i] = (gint16) read_le16 (body + 2 * i);
            }

          *samples_out = samples;
          *n_samples_out = n;
          *rate_out = rate;
          return TRUE;
        }

      /* Chunks are padded to an even length; the pad byte is not counted. */
      if ((gsize) size + (size & 1) > available)
        break;
      pos += CHUNK_HEADER_SIZE + size + (size & 1);
    }

  if (!have_fmt)
    return set_invalid (error, _("WAV file has no format chunk"));
  return set_invalid (error, _("WAV file has no data chunk"));
}

gboolean
kefu_wav_load (const char  *path,
               gint16     **samples_out,
               gsize       *n_samples_out,
               guint       *rate_out,
               GError     **error)
{
  g_autofree char *contents = NULL;
  g_autoptr(GError) local_error = NULL;
  gsize length = 0;

  g_return_val_if_fail (path != NULL, FALSE);

  if (!g_file_get_contents (path, &contents, &length, error))
    return FALSE;

  if (!kefu_wav_parse ((const guint8 *) contents, length, samples_out, n_samples_out, rate_out,
                       &local_error))
    {
      g_set_error (error, local_error->domain, local_error->code, "%s: %s", path,
                   local_error->message);
      return FALSE;
    }
  return TRUE;
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

  memcpy (image, "RIFF", 4);
  write_le32 (image + 4, (guint32) (CANONICAL_HEADER_SIZE - 8 + data_bytes));
  memcpy (image + 8, "WAVE", 4);
  memcpy (image + 12, "fmt ", 4);
  write_le32 (image + 16, FMT_MIN_SIZE);
  write_le16 (image + 20, WAVE_FORMAT_PCM);
  write_le16 (image + 22, 1);
  write_le32 (image + 24, rate);
  write_le32 (image + 28, rate * 2);
  write_le16 (image + 32, 2);
  write_le16 (image + 34, 16);
  memcpy (image + 36, "data", 4);
  write_le32 (image + 40, (guint32) data_bytes);

  for (gsize i = 0; i < n_samples; i++)
    write_le16 (image + CANONICAL_HEADER_SIZE + 2 * i, (guint16) samples[i]);

  return g_file_set_contents (path, (const char *) image, CANONICAL_HEADER_SIZE + data_bytes, error);
}
