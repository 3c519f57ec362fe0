/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuDtmfTones"

#include "config.h"

#include "kefu-dtmf-tones.h"

#include <math.h>
#include <string.h>

static const double low_group_hz[4] = { 697.0, 770.0, 852.0, 941.0 };
static const double high_group_hz[4] = { 1209.0, 1336.0, 1477.0, 1633.0 };
static const char keypad[4][5] = { "123A", "456B", "789C", "*0#D" };

static inline gint16
saturate (double v)
{
  v = nearbyint (v);
  if (v > G_MAXINT16)
    return G_MAXINT16;
  if (v < G_MININT16)
    return G_MININT16;
  return (gint16) v;
}

void
kefu_dtmf_tone_spec_init (KefuDtmfToneSpec *spec)
{
  g_return_if_fail (spec != NULL);

  *spec = (KefuDtmfToneSpec) {
    .level_dbm0 = -10.0,
    .twist_db = 0.0,
    .low_offset_pct = 0.0,
    .high_offset_pct = 0.0,
    .duration_ms = 100,
    .gap_ms = 100,
  };
}

gboolean
kefu_dtmf_digit_frequencies (char    digit,
                             double *low_hz,
                             double *high_hz)
{
  char d = g_ascii_toupper (digit);

  if (d == '\0')
    return FALSE;

  for (guint row = 0; row < 4; row++)
    for (guint col = 0; col < 4; col++)
      if (keypad[row][col] == d)
        {
          if (low_hz)
            *low_hz = low_group_hz[row];
          if (high_hz)
            *high_hz = high_group_hz[col];
          return TRUE;
        }
  return FALSE;
}

void
kefu_tones_append_silence (GArray *pcm,
                           gsize   n_samples)
{
  g_return_if_fail (pcm != NULL);
  g_return_if_fail (g_array_get_element_size (pcm) == sizeof (gint16));

  if (n_samples == 0)
    return;
  /* g_array_set_size clears only when the array was made with clear_ = TRUE */
  gsize old = pcm->len;
  g_array_set_size (pcm, old + n_samples);
  memset (&g_array_index (pcm, gint16, old), 0, n_samples * sizeof (gint16));
}

static inline gsize
ms_to_samples (guint ms,
               guint rate)
{
  return (gsize) ms * rate / 1000;
}

gboolean
kefu_dtmf_tones_append (GArray                 *pcm,
                        guint                   rate,
                        const char             *digits,
                        const KefuDtmfToneSpec *spec)
{
  KefuDtmfToneSpec defaults;

  g_return_val_if_fail (pcm != NULL, FALSE);
  g_return_val_if_fail (g_array_get_element_size (pcm) == sizeof (gint16), FALSE);
  g_return_val_if_fail (rate >= 4000, FALSE);
  g_return_val_if_fail (digits != NULL, FALSE);

  if (spec == NULL)
    {
      kefu_dtmf_tone_spec_init (&defaults);
      spec = &defaults;
    }

  for (const char *p = digits; *p; p++)
    if (!kefu_dtmf_digit_frequencies (*p, NULL, NULL))
      return FALSE;

  for (const char *p = digits; *p; p++)
    {
      double low, high;
      gsize tone = ms_to_samples (spec->duration_ms, rate);
      gsize start = pcm->len;

      kefu_dtmf_digit_frequencies (*p, &low, &high);
      kefu_tones_append_silence (pcm, tone);
      kefu_tones_mix_sine (&g_array_index (pcm, gint16, start), tone, rate,
                           low * (1.0 + spec->low_offset_pct / 100.0), spec->level_dbm0, 0.0);
      kefu_tones_mix_sine (&g_array_index (pcm, gint16, start), tone, rate,
                           high * (1.0 + spec->high_offset_pct / 100.0),
                           spec->level_dbm0 + spec->twist_db, 0.0);
      kefu_tones_append_silence (pcm, ms_to_samples (spec->gap_ms, rate));
    }
  return TRUE;
}

void
kefu_tones_mix_sine (gint16 *pcm,
                     gsize   n_samples,
                     guint   rate,
                     double  freq_hz,
                     double  dbm0,
                     double  phase)
{
  double amplitude = kefu_dbm0_to_amplitude (dbm0);
  double step = 2.0 * G_PI * freq_hz / rate;

  g_return_if_fail (pcm != NULL || n_samples == 0);
  g_return_if_fail (rate > 0);

  for (gsize i = 0; i < n_samples; i++)
    pcm[i] = saturate (pcm[i] + amplitude * sin (phase + step * (double) i));
}

void
kefu_tones_mix_noise (gint16  *pcm,
                      gsize    n_samples,
                      double   dbm0,
                      guint32  seed)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  /* a sine of peak A has power A²/2: the noise gets the same power */
  double sigma = kefu_dbm0_to_amplitude (dbm0) / G_SQRT2;

  g_return_if_fail (pcm != NULL || n_samples == 0);

  /* Box–Muller, two normal deviates per pair of uniforms */
  for (gsize i = 0; i < n_samples; i += 2)
    {
      double u1 = g_rand_double_range (rand, G_MINDOUBLE, 1.0);
      double u2 = g_rand_double (rand);
      double r = sigma * sqrt (-2.0 * log (u1));

      pcm[i] = saturate (pcm[i] + r * cos (2.0 * G_PI * u2));
      if (i + 1 < n_samples)
        pcm[i + 1] = saturate (pcm[i + 1] + r * sin (2.0 * G_PI * u2));
    }
}
