/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuCallRecorder"

#include "config.h"

#include "kefu-call-recorder.h"

#include "kefu-audio-file.h"
#include "kefu-wav.h"

enum {
  CHUNK = KEFU_AUDIO_FRAME_SAMPLES,  /* frames interleaved per writer call */
};

struct _KefuCallRecorder
{
  KefuWavWriter *wav;
};

KefuCallRecorder *
kefu_call_recorder_new (const char  *path,
                        GError     **error)
{
  KefuCallRecorder *self;
  KefuWavWriter *wav;

  g_return_val_if_fail (path != NULL, NULL);

  wav = kefu_wav_writer_new (path, KEFU_AUDIO_RATE, 2, error);
  if (wav == NULL)
    return NULL;

  self = g_new0 (KefuCallRecorder, 1);
  self->wav = wav;
  g_debug ("recording to %s", path);
  return self;
}

gboolean
kefu_call_recorder_write (KefuCallRecorder  *self,
                          const gint16      *ours,
                          const gint16      *theirs,
                          gsize              n_samples,
                          GError           **error)
{
  gint16 frames[2 * CHUNK];

  g_return_val_if_fail (self != NULL, FALSE);

  for (gsize done = 0; done < n_samples;)
    {
      gsize n = MIN (n_samples - done, (gsize) CHUNK);

      for (gsize i = 0; i < n; i++)
        {
          frames[2 * i] = ours ? ours[done + i] : 0;
          frames[2 * i + 1] = theirs ? theirs[done + i] : 0;
        }
      if (!kefu_wav_writer_write (self->wav, frames, n, error))
        return FALSE;
      done += n;
    }
  return TRUE;
}

gboolean
kefu_call_recorder_finish (KefuCallRecorder  *self,
                           GError           **error)
{
  guint64 ms;
  g_autofree char *path = NULL;
  gboolean ok;

  if (self == NULL)
    return TRUE;

  ms = kefu_call_recorder_get_duration_ms (self);
  path = g_strdup (kefu_wav_writer_get_path (self->wav));
  ok = kefu_wav_writer_close (self->wav, error);
  g_free (self);
  if (ok)
    g_debug ("recorded %" G_GUINT64_FORMAT " ms to %s", ms, path);
  return ok;
}

const char *
kefu_call_recorder_get_path (const KefuCallRecorder *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return kefu_wav_writer_get_path (self->wav);
}

guint64
kefu_call_recorder_get_duration_ms (const KefuCallRecorder *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return kefu_wav_writer_get_frames (self->wav) * 1000 / KEFU_AUDIO_RATE;
}
