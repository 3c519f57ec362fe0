/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The audio source and sink types, their `file` and `null` back-ends, and
 * kefu_audio_open(), which also knows `pulse` (kefu-audio-pulse.c).
 */
#define G_LOG_DOMAIN "KefuAudio"

#include "config.h"

#include "kefu-audio-file.h"

#include <gio/gio.h>
#include <string.h>

#include "kefu-audio-pulse.h"
#include "kefu-wav.h"

struct kefu_audio_source {
  const struct kefu_audio_source_backend *backend;  /* NULL: the null source */
  void *impl;                                        /* owned */
};

struct kefu_audio_sink {
  const struct kefu_audio_sink_backend *backend;    /* NULL: the null sink */
  void *impl;                                        /* owned */
};

struct file_source {
  gint16 *samples;
  gsize   n_samples;
  gsize   pos;
  bool    loop;
};

struct file_sink {
  char   *path;
  GArray *recorded;    /* gint16 */
};

bool
kefu_audio_source_read (struct kefu_audio_source *src, int16_t *samples, size_t n)
{
  if (!src || !src->backend)
    {
      memset (samples, 0, n * sizeof *samples);
      return src != NULL;
    }

  return src->backend->read (src->impl, samples, n);
}

void
kefu_audio_source_free (struct kefu_audio_source *src)
{
  if (!src)
    return;
  if (src->backend && src->backend->free)
    src->backend->free (src->impl);
  g_free (src);
}

void
kefu_audio_sink_write (struct kefu_audio_sink *sink, const int16_t *samples, size_t n)
{
  if (sink && sink->backend)
    sink->backend->write (sink->impl, samples, n);
}

void
kefu_audio_sink_free (struct kefu_audio_sink *sink)
{
  if (!sink)
    return;
  if (sink->backend && sink->backend->free)
    sink->backend->free (sink->impl);
  g_free (sink);
}

struct kefu_audio_source *
kefu_audio_source_new (const struct kefu_audio_source_backend *backend, void *impl)
{
  struct kefu_audio_source *src = g_new0 (struct kefu_audio_source, 1);

  src->backend = backend;
  src->impl = impl;

  return src;
}

struct kefu_audio_sink *
kefu_audio_sink_new (const struct kefu_audio_sink_backend *backend, void *impl)
{
  struct kefu_audio_sink *sink = g_new0 (struct kefu_audio_sink, 1);

  sink->backend = backend;
  sink->impl = impl;

  return sink;
}

struct kefu_audio_source *
kefu_audio_null_source_new (void)
{
  return kefu_audio_source_new (NULL, NULL);
}

struct kefu_audio_sink *
kefu_audio_null_sink_new (void)
{
  return kefu_audio_sink_new (NULL, NULL);
}

static bool
file_source_read (void *impl, int16_t *samples, size_t n)
{
  struct file_source *src = impl;
  size_t done = 0;

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

static void
file_source_free (void *impl)
{
  struct file_source *src = impl;

  g_free (src->samples);
  g_free (src);
}

static const struct kefu_audio_source_backend file_source_backend = {
  .read = file_source_read,
  .free = file_source_free,
};

static void
file_sink_write (void *impl, const int16_t *samples, size_t n)
{
  struct file_sink *sink = impl;

  g_array_append_vals (sink->recorded, samples, n);
}

static void
file_sink_free (void *impl)
{
  struct file_sink *sink = impl;
  g_autoptr(GError) error = NULL;

  if (!kefu_wav_save (sink->path, (const gint16 *) sink->recorded->data,
                      sink->recorded->len, KEFU_AUDIO_RATE, &error))
    g_warning ("recording: %s", error->message);
  else
    g_debug ("recorded %u samples to %s", sink->recorded->len, sink->path);

  g_array_unref (sink->recorded);
  g_free (sink->path);
  g_free (sink);
}

static const struct kefu_audio_sink_backend file_sink_backend = {
  .write = file_sink_write,
  .free = file_sink_free,
};

struct kefu_audio_source *
kefu_audio_file_source_new (const char *path, bool loop, GError **error)
{
  struct file_source *src;
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

  src = g_new0 (struct file_source, 1);
  src->samples = samples ? samples : g_new0 (gint16, 1);
  src->n_samples = n;
  src->loop = loop && n > 0;

  return kefu_audio_source_new (&file_source_backend, src);
}

struct kefu_audio_sink *
kefu_audio_file_sink_new (const char *path)
{
  struct file_sink *sink = g_new0 (struct file_sink, 1);

  sink->path = g_strdup (path);
  sink->recorded = g_array_sized_new (FALSE, FALSE, sizeof (gint16),
                                      KEFU_AUDIO_RATE * 10);

  return kefu_audio_sink_new (&file_sink_backend, sink);
}

/* "pulse", "pulse:", "pulse:SOURCE", "pulse:SOURCE,SINK", "pulse:,SINK" */
static gboolean
open_pulse (const char *spec, struct kefu_audio_source **srcp, struct kefu_audio_sink **sinkp,
            GError **error)
{
  g_auto(GStrv) names = NULL;
  const char *source_name = NULL, *sink_name = NULL;
  struct kefu_audio_source *src;
  struct kefu_audio_sink *sink;

  if (spec[strlen ("pulse")] == ':')
    {
      names = g_strsplit (spec + strlen ("pulse:"), ",", 2);
      source_name = names[0];
      sink_name = names[0] ? names[1] : NULL;
    }

  src = kefu_audio_pulse_source_new (source_name, error);
  if (!src)
    return FALSE;

  sink = kefu_audio_pulse_sink_new (sink_name, error);
  if (!sink)
    {
      kefu_audio_source_free (src);
      return FALSE;
    }

  *srcp = src;
  *sinkp = sink;

  return TRUE;
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

  if (g_str_equal (spec, "pulse") || g_str_has_prefix (spec, "pulse:"))
    return open_pulse (spec, srcp, sinkp, error);

  if (!g_str_has_prefix (spec, "file:"))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "unknown audio back-end “%s” "
                   "(file:IN.wav,OUT.wav, pulse:SOURCE,SINK or null)", spec);
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
