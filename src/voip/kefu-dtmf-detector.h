/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Inband DTMF detector (ITU-T Q.24) for the switch's inband legs and the
 * softphone: feed it linear PCM as it arrives, in any chunk size, and it
 * calls back once per digit when the digit has ended, with where it began
 * and how long it lasted.
 *
 * It is our own Goertzel detector, so it can share a process with both
 * librem and spandsp (their goertzel_* symbols clash: in one process the
 * library loaded first serves both, and the other misdetects).
 *
 * Rates: 8000 Hz and its multiples up to 48000 Hz.  One detector per
 * audio stream; not thread-safe, but detectors are independent of each
 * other.  Cost, measured: see kefu-dtmf-detector.c.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _KefuDtmfDetector KefuDtmfDetector;

typedef struct {
  char    digit;     /* '0'-'9', '*', '#', 'A'-'D' */
  guint64 start;     /* first sample of the tone, counted from the first sample fed */
  guint64 duration;  /* in samples; accurate to about ±7 ms */
  guint   rate;      /* the detector's sample rate, to turn the two above into time */
} KefuDtmfDigit;

typedef void (*KefuDtmfDigitFunc) (const KefuDtmfDigit *digit,
                                   gpointer             user_data);

gboolean          kefu_dtmf_detector_rate_is_supported (guint rate);

/* `func` is called from within _feed() and _finish(); it may not free
 * the detector. */
KefuDtmfDetector *kefu_dtmf_detector_new       (guint              rate,
                                                KefuDtmfDigitFunc  func,
                                                gpointer           user_data) G_GNUC_WARN_UNUSED_RESULT;
void              kefu_dtmf_detector_free      (KefuDtmfDetector  *self);

void              kefu_dtmf_detector_feed      (KefuDtmfDetector  *self,
                                                const gint16      *samples,
                                                gsize              n_samples);

/* End of stream: a digit still sounding is reported now. */
void              kefu_dtmf_detector_finish    (KefuDtmfDetector  *self);

/* Forget everything fed so far (positions restart at 0), e.g. on re-INVITE
 * to another codec.  A digit still sounding is dropped, not reported. */
void              kefu_dtmf_detector_reset     (KefuDtmfDetector  *self);

/* The digit confirmed and still sounding, or '\0': lets the switch start
 * an RFC 4733 event before the tone ends. */
char              kefu_dtmf_detector_get_current (KefuDtmfDetector *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KefuDtmfDetector, kefu_dtmf_detector_free)

G_END_DECLS
