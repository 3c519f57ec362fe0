/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The ringer: one cycle of the ring made (or loaded) once, and played over
 * and over by a kefu-audio-pulse player while ringing.
 */
#define G_LOG_DOMAIN "KefuRinger"

#include "config.h"

#include "kefu-ringer.h"

#include <glib/gi18n-lib.h>

#include <math.h>

#include "kefu-audio-pulse.h"
#include "kefu-io-error.h"
#include "kefu-wav.h"

enum {
  CHIME_RATE = 8000,
};

struct kefu_ringer {
  struct kefu_audio_pulse_player *player;
  /* one cycle of the ring; read by the player's thread while ringing, so
   * replaced only while stopped */
  gint16 *cycle;
  gsize   n_cycle;
  guint   rate;
  bool    ringing;
};

/* One note of the chime: a soft attack and a bell-like decay, the second
 * and third harmonics a little quieter to round the sine off, faded out at
 * its end so it never clicks. */
static void
chime_note (gint16 *out, gsize n, double hz, double peak)
{
  const double attack = 0.015 * CHIME_RATE, release = 0.030 * CHIME_RATE;
  const double decay_s = 0.35;

  for (gsize i = 0; i < n; i++)
    {
      double t = (double) i / CHIME_RATE;
      double env = exp (-t / decay_s);
      double w = 2 * G_PI * hz * t;
      double v;

      if (i < attack)
        env *= 0.5 - 0.5 * cos (G_PI * i / attack);
      if (n - i < release)
        env *= 0.5 - 0.5 * cos (G_PI * (n - i) / release);
      v = (sin (w) + 0.25 * sin (2 * w) + 0.1 * sin (3 * w)) / 1.35;
      out[i] = (gint16) lrint (peak * env * v);
    }
}

/* 1 s on: G5 for 400 ms, 200 ms rest, E5 for 400 ms (a falling third,
 * which reads as a doorbell, not an alarm); then 2 s of silence.  About
 * -12 dBFS at its peak: audible across a room without startling. */
static void
ringer_make_chime (struct kefu_ringer *ringer)
{
  const gsize note = 400 * CHIME_RATE / 1000, rest = 200 * CHIME_RATE / 1000;
  const double peak = 0.25 * G_MAXINT16;

  ringer->rate = CHIME_RATE;
  ringer->n_cycle = (gsize) (KEFU_RINGER_ON_MS + KEFU_RINGER_OFF_MS) * CHIME_RATE / 1000;
  ringer->cycle = g_new0 (gint16, ringer->n_cycle);
  chime_note (ringer->cycle, note, 784.0, peak);
  chime_note (ringer->cycle + note + rest, note, 659.3, peak);
}

static void
on_fill (int16_t *samples, size_t n, uint64_t offset, void *arg)
{
  struct kefu_ringer *ringer = arg;
  gsize pos = offset % ringer->n_cycle;

  for (size_t i = 0; i < n; i++)
    {
      samples[i] = ringer->cycle[pos];
      if (++pos == ringer->n_cycle)
        pos = 0;
    }
}

struct kefu_ringer *
kefu_ringer_new (const char *device, GError **error)
{
  struct kefu_ringer *ringer = g_new0 (struct kefu_ringer, 1);

  /* TRANSLATORS: the name the desktop's volume control shows for the
   * ringing */
  ringer->player = kefu_audio_pulse_player_new (device, "event",
                                                C_("sound stream", "Incoming call"),
                                                on_fill, ringer, error);
  if (!ringer->player)
    {
      g_free (ringer);
      return NULL;
    }
  ringer_make_chime (ringer);

  return ringer;
}

gboolean
kefu_ringer_set_tone_file (struct kefu_ringer *ringer, const char *path, GError **error)
{
  gint16 *samples = NULL;
  gsize n = 0;
  guint rate = 0;
  bool was_ringing;

  g_return_val_if_fail (ringer, FALSE);

  was_ringing = ringer->ringing;

  if (path)
    {
      if (!kefu_wav_load (path, &samples, &n, &rate, error))
        return FALSE;
      if (n == 0)
        {
          g_set_error (error, KEFU_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       _("“%s” holds no sound"), path);
          return FALSE;
        }
    }

  kefu_ringer_stop (ringer);
  g_clear_pointer (&ringer->cycle, g_free);
  if (path)
    {
      ringer->cycle = samples;
      ringer->n_cycle = n;
      ringer->rate = rate;
    }
  else
    ringer_make_chime (ringer);

  return !was_ringing || kefu_ringer_start (ringer, error);
}

gboolean
kefu_ringer_start (struct kefu_ringer *ringer, GError **error)
{
  g_return_val_if_fail (ringer, FALSE);

  if (ringer->ringing)
    return TRUE;
  if (!kefu_audio_pulse_player_start (ringer->player, ringer->rate, error))
    return FALSE;
  ringer->ringing = true;
  g_debug ("ringing");

  return TRUE;
}

void
kefu_ringer_stop (struct kefu_ringer *ringer)
{
  g_return_if_fail (ringer);

  if (!ringer->ringing)
    return;
  kefu_audio_pulse_player_stop (ringer->player);
  ringer->ringing = false;
  g_debug ("stopped ringing");
}

bool
kefu_ringer_is_ringing (const struct kefu_ringer *ringer)
{
  return ringer && ringer->ringing;
}

void
kefu_ringer_free (struct kefu_ringer *ringer)
{
  if (!ringer)
    return;
  kefu_audio_pulse_player_free (ringer->player);
  g_free (ringer->cycle);
  g_free (ringer);
}
