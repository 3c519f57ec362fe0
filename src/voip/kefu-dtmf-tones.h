/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * DTMF and test-signal generation into 16-bit linear PCM: the switch's
 * inband DTMF sender, the IVR's beeps, and the DTMF detector's tests (which
 * need deviated frequencies, twist and noise on purpose).
 *
 * Levels are in dBm0 with 0 dBm0 a sine 3.14 dB below 16-bit full scale
 * (the G.711 A-law relation; µ-law differs by 0.03 dB).  Q.23 asks for each
 * DTMF tone near -10 dBm0 (low group a little weaker); that is the default.
 * Functions are pure (noise takes an explicit seed), safe from any thread.
 */
#pragma once

#include <glib.h>

#include <math.h>

G_BEGIN_DECLS

typedef struct {
  double level_dbm0;      /* level of the low-group tone, per Q.23 default -10 */
  double twist_db;        /* high-group level minus low-group level; + is "forward" */
  double low_offset_pct;  /* frequency deviation of the low-group tone, percent */
  double high_offset_pct; /* frequency deviation of the high-group tone, percent */
  guint  duration_ms;     /* tone length, default 100 */
  guint  gap_ms;          /* silence after each digit, default 100 */
} KefuDtmfToneSpec;

/* Fills in Q.23 defaults: -10 dBm0 per tone, no twist or deviation,
 * 100 ms tone, 100 ms gap. */
void     kefu_dtmf_tone_spec_init     (KefuDtmfToneSpec *spec);

/* The Q.23 frequency pair of a digit '0'-'9', '*', '#', 'A'-'D' (case
 * insensitive).  FALSE for anything else. */
gboolean kefu_dtmf_digit_frequencies  (char    digit,
                                       double *low_hz,
                                       double *high_hz);

/* 0 dBm0 sits 3.14 dB under the G.711 A-law overload point (G.711 table). */
#define KEFU_DBM0_HEADROOM_DB 3.14

/* Peak amplitude in 16-bit PCM of a sine at `dbm0`.  Inline, so that a
 * constant level costs no pow() at run time (kefu-dtmf-detector.c). */
static inline double
kefu_dbm0_to_amplitude (double dbm0)
{
  return 32768.0 * pow (10.0, (dbm0 - KEFU_DBM0_HEADROOM_DB) / 20.0);
}

/* Appends each digit of `digits` (tone, then gap) to `pcm`, a GArray of
 * gint16, at `rate` Hz.  spec NULL means defaults.  Returns FALSE and
 * appends nothing when `digits` holds a character that is not a DTMF digit. */
gboolean kefu_dtmf_tones_append       (GArray                 *pcm,
                                       guint                   rate,
                                       const char             *digits,
                                       const KefuDtmfToneSpec *spec);

/* Appends n_samples of silence. */
void     kefu_tones_append_silence    (GArray *pcm,
                                       gsize   n_samples);

/* Adds a sine of `freq_hz` at `dbm0` starting at `phase` radians to the
 * samples in place, saturating at full scale. */
void     kefu_tones_mix_sine          (gint16 *pcm,
                                       gsize   n_samples,
                                       guint   rate,
                                       double  freq_hz,
                                       double  dbm0,
                                       double  phase);

/* Adds white Gaussian noise of total power `dbm0` (the power a sine of
 * that level has) in place, saturating; `seed` makes it repeatable. */
void     kefu_tones_mix_noise         (gint16  *pcm,
                                       gsize    n_samples,
                                       double   dbm0,
                                       guint32  seed);

G_END_DECLS
