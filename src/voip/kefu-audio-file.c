/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The audio source and sink types, their `file` and `null` back-ends, and
 * kefu_audio_open(), which also knows `pulse` (kefu-audio-pulse.c).
 */
#define G_LOG_DOMAIN "KefuAudio"

#include "config.h"

#include "kefu-audio-file.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "kefu-audio-pulse.h"
#include "kefu-io-error.h"
#include "kefu-wav.h"

struct kefu_audio_source {
  const struct kefu_audio_source_backend *backend;  /* NULL: the null source */
  void *impl;                                        /* owned */
};

struct kefu_audio_sink {
  const struct kefu_audio_sink_backend *backend;    /* NULL: the null sink */
  void *impl;                                        /* owned */
};

/* Both stream: a call holds a few kilobytes of its file, not the file. */
struct file_source {
  KefuWavReader *wav;
  bool           loop;
  bool           ended;   /* a file that does not loop played out, or unreadable */
};

struct file_sink {
  char          *path;    /* where the recording is when the sink is freed */
  KefuWavWriter *wav;     /* a new file beside it until then */
  bool           failed;  /* and said so */
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

  while (done < n && !src->ended)
    {
      g_autoptr(GError) error = NULL;
      gsize got = 0;

      if (!kefu_wav_reader_read (src->wav, samples + done, n - done, &got, &error))
        {
          g_message ("%s: silence from now on", error->message);
          src->ended = true;
          break;
        }
      done += got;
      if (done < n)
        {
          if (src->loop)
            kefu_wav_reader_rewind (src->wav);
          else
            src->ended = true;
        }
    }

  if (done < n)
    memset (samples + done, 0, (n - done) * sizeof *samples);

  return done > 0 || !src->ended;
}

static void
file_source_free (void *impl)
{
  struct file_source *src = impl;

  kefu_wav_reader_free (src->wav);
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
  g_autoptr(GError) error = NULL;

  /* a failed writer stays failed: said once */
  if (sink->failed)
    return;
  if (!kefu_wav_writer_write (sink->wav, samples, n, &error))
    {
      g_warning ("recording: %s", error->message);
      sink->failed = true;
    }
}

/* The recording replaces `path` whole, as a file written at once would:
 * two sinks on one path (a call, then the conference it joins) leave the
 * one freed last. */
static void
file_sink_free (void *impl)
{
  struct file_sink *sink = impl;
  g_autoptr(GError) error = NULL;
  g_autofree char *part = g_strdup (kefu_wav_writer_get_path (sink->wav));
  guint64 frames = kefu_wav_writer_get_frames (sink->wav);

  if (!kefu_wav_writer_close (sink->wav, &error))
    {
      if (!sink->failed)
        g_warning ("recording: %s", error->message);
      (void) g_unlink (part);
    }
  else if (g_rename (part, sink->path) != 0)
    {
      int saved_errno = errno;

      g_warning ("recording: cannot rename %s to %s: %s", part, sink->path,
                 g_strerror (saved_errno));
      (void) g_unlink (part);
    }
  else
    g_debug ("recorded %" G_GUINT64_FORMAT " samples to %s", frames, sink->path);

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
  g_autoptr(KefuWavReader) wav = NULL;
  struct file_source *src;

  wav = kefu_wav_reader_new (path, error);
  if (!wav)
    return NULL;

  if (kefu_wav_reader_get_rate (wav) != KEFU_AUDIO_RATE)
    {
      g_set_error (error, KEFU_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s: %u Hz, but calls play 8000 Hz audio (convert it with sox)",
                   path, kefu_wav_reader_get_rate (wav));
      return NULL;
    }

  src = g_new0 (struct file_source, 1);
  src->loop = loop && kefu_wav_reader_get_frames (wav) > 0;
  src->ended = kefu_wav_reader_get_frames (wav) == 0;
  src->wav = g_steal_pointer (&wav);

  return kefu_audio_source_new (&file_source_backend, src);
}

struct kefu_audio_sink *
kefu_audio_file_sink_new (const char *path, GError **error)
{
  g_autofree char *part = g_strconcat (path, ".XXXXXX", NULL);
  struct file_sink *sink;
  KefuWavWriter *wav;
  int fd;

  fd = g_mkstemp_full (part, O_RDWR | O_CLOEXEC, 0644);
  if (fd < 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   _("Cannot record to %s: %s"), path, g_strerror (saved_errno));
      return NULL;
    }
  (void) close (fd);

  wav = kefu_wav_writer_new (part, KEFU_AUDIO_RATE, 1, error);
  if (!wav)
    {
      (void) g_unlink (part);
      return NULL;
    }

  sink = g_new0 (struct file_sink, 1);
  sink->path = g_strdup (path);
  sink->wav = wav;

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
      g_set_error (error, KEFU_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
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

  if (paths[0] && paths[1] && *paths[1])
    {
      *sinkp = kefu_audio_file_sink_new (paths[1], error);
      if (!*sinkp)
        {
          kefu_audio_source_free (src);
          return FALSE;
        }
    }
  else
    *sinkp = kefu_audio_null_sink_new ();
  *srcp = src;

  return TRUE;
}
