/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The `file` and `null` audio back-ends of the softphone.
 */
#define G_LOG_DOMAIN "KefuAudio"

#include "config.h"

#include "kefu-audio-file.h"

#include <gio/gio.h>
#include <string.h>

#include "kefu-wav.h"

struct kefu_audio_source {
  const struct kefu_audio_source_ops *ops;  /* another back-end, or NULL */
  void   *impl;
  gint16 *samples;     /* NULL: the null source */
  gsize   n_samples;
  gsize   pos;
  bool    loop;
};

struct kefu_audio_sink {
  const struct kefu_audio_sink_ops *ops;    /* another back-end, or NULL */
  void   *impl;
  char   *path;        /* NULL: the null sink */
  GArray *recorded;    /* gint16 */
};

struct kefu_audio_source *
kefu_audio_source_new (const struct kefu_audio_source_ops *ops, void *impl)
{
  struct kefu_audio_source *src = g_new0 (struct kefu_audio_source, 1);

  src->ops = ops;
  src->impl = impl;
  return src;
}

struct kefu_audio_sink *
kefu_audio_sink_new (const struct kefu_audio_sink_ops *ops, void *impl)
{
  struct kefu_audio_sink *sink = g_new0 (struct kefu_audio_sink, 1);

  sink->ops = ops;
  sink->impl = impl;
  return sink;
}

bool
kefu_audio_source_read (struct kefu_audio_source *src, int16_t *samples, size_t n)
{
  size_t done = 0;

  if (src && src->ops)
    return src->ops->read (src->impl, samples, n);

  if (!src || !src->samples)
    {
      memset (samples, 0, n * sizeof *samples);
      return src != NULL;
    }

  while (done < n)
    {
      size_t chunk;

      if (src->pos >= src->n_samples)
        {
          if (!src->loop)
            break;
          src->pos = 0;
        }
      chunk = MIN (n - done, src->n_samples - src->pos);
      memcpy (samples + done, src->samples + src->pos, chunk * sizeof *samples);
      src->pos += chunk;
      done += chunk;
    }

  if (done < n)
    memset (samples + done, 0, (n - done) * sizeof *samples);

  return done > 0 || src->loop;
}

void
kefu_audio_source_free (struct kefu_audio_source *src)
{
  if (!src)
    return;
  if (src->ops && src->ops->free)
    src->ops->free (src->impl);
  g_free (src->samples);
  g_free (src);
}

void
kefu_audio_sink_write (struct kefu_audio_sink *sink, const int16_t *samples, size_t n)
{
  if (sink && sink->ops)
    sink->ops->write (sink->impl, samples, n);
  else if (sink && sink->recorded)
    g_array_append_vals (sink->recorded, samples, n);
}

void
kefu_audio_sink_free (struct kefu_audio_sink *sink)
{
  g_autoptr(GError) error = NULL;

  if (!sink)
    return;

  if (sink->ops && sink->ops->free)
    sink->ops->free (sink->impl);

  if (sink->path &&
      !kefu_wav_save (sink->path, (const gint16 *) sink->recorded->data,
                      sink->recorded->len, KEFU_AUDIO_RATE, &error))
    g_warning ("recording: %s", error->message);
  else if (sink->path)
    g_debug ("recorded %u samples to %s", sink->recorded->len, sink->path);

  if (sink->recorded)
    g_array_unref (sink->recorded);
  g_free (sink->path);
  g_free (sink);
}

struct kefu_audio_source *
kefu_audio_null_source_new (void)
{
  return g_new0 (struct kefu_audio_source, 1);
}

struct kefu_audio_sink *
kefu_audio_null_sink_new (void)
{
  return g_new0 (struct kefu_audio_sink, 1);
}

struct kefu_audio_source *
kefu_audio_file_source_new (const char *path, bool loop, GError **error)
{
  struct kefu_audio_source *src;
  gint16 *samples = NULL;
  gsize n = 0;
  guint rate = 0;

  if (!kefu_wav_load (path, &samples, &n, &rate, error))
    return NULL;

  if (rate != KEFU_AUDIO_RATE)
    {
      g_free (samples);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s: %u Hz, but calls play 8000 Hz audio (convert it with sox)",
                   path, rate);
      return NULL;
    }

  src = g_new0 (struct kefu_audio_source, 1);
  src->samples = samples ? samples : g_new0 (gint16, 1);
  src->n_samples = n;
  src->loop = loop && n > 0;

  return src;
}

struct kefu_audio_sink *
kefu_audio_file_sink_new (const char *path)
{
  struct kefu_audio_sink *sink = g_new0 (struct kefu_audio_sink, 1);

  sink->path = g_strdup (path);
  sink->recorded = g_array_sized_new (FALSE, FALSE, sizeof (gint16),
                                      KEFU_AUDIO_RATE * 10);

  return sink;
}

gboolean
kefu_audio_open (const char *spec, bool loop,
                 struct kefu_audio_source **srcp,
                 struct kefu_audio_sink **sinkp,
                 GError **error)
{
  g_auto(GStrv) paths = NULL;
  struct kefu_audio_source *src = NULL;

  g_return_val_if_fail (srcp && sinkp, FALSE);

  if (!spec || !*spec || g_str_equal (spec, "null"))
    {
      *srcp = kefu_audio_null_source_new ();
      *sinkp = kefu_audio_null_sink_new ();
      return TRUE;
    }

  if (!g_str_has_prefix (spec, "file:"))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "unknown audio back-end “%s” (file:IN.wav,OUT.wav or null)", spec);
      return FALSE;
    }

  paths = g_strsplit (spec + strlen ("file:"), ",", 2);

  if (paths[0] && *paths[0])
    {
      src = kefu_audio_file_source_new (paths[0], loop, error);
      if (!src)
        return FALSE;
    }
  else
    src = kefu_audio_null_source_new ();

  *srcp = src;
  *sinkp = paths[0] && paths[1] && *paths[1]
    ? kefu_audio_file_sink_new (paths[1]) : kefu_audio_null_sink_new ();

  return TRUE;
}
