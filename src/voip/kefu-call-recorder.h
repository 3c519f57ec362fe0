/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A call recording: one 8 kHz 16-bit stereo WAV, our side on the left
 * channel and the far side on the right, so that a listener (or a quality
 * review) can tell who said what and keep them apart.  It is written as
 * the call goes (kefu-wav.h's streaming writer): a long call is not held
 * in memory and a crash loses only the last second or so.
 *
 * The softphone's RTP stream feeds it what it sends and what it plays
 * each 20 ms; the switch can record a bridged leg the same way.  One
 * thread feeds a recorder; recorders are independent of each other.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _KefuCallRecorder KefuCallRecorder;

/* Creates (or truncates) path now: a bad path fails here, with an error
 * that names it. */
KefuCallRecorder *kefu_call_recorder_new    (const char        *path,
                                             GError           **error) G_GNUC_WARN_UNUSED_RESULT;
/* n_samples of each side, at 8 kHz; either may be NULL for silence. */
gboolean          kefu_call_recorder_write  (KefuCallRecorder  *self,
                                             const gint16      *ours,
                                             const gint16      *theirs,
                                             gsize              n_samples,
                                             GError           **error);
/* Completes the file (its header) and frees the recorder, also when it
 * returns FALSE. */
gboolean          kefu_call_recorder_finish (KefuCallRecorder  *self,
                                             GError           **error);
const char       *kefu_call_recorder_get_path    (const KefuCallRecorder *self);
/* Recorded so far, in milliseconds. */
guint64           kefu_call_recorder_get_duration_ms (const KefuCallRecorder *self);

G_END_DECLS
