/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The ringing an agent hears for an incoming call, on a chosen output (the
 * loudspeaker, while the call's audio goes to the headset), independent of
 * any call: the desktop starts it when a call is offered and stops it when
 * the call is answered, rejected or gone.
 *
 * The ring is a soft two-note chime, KEFU_RINGER_ON_MS long, then
 * KEFU_RINGER_OFF_MS of silence, over and over (made at 8 kHz, no file
 * needed), or a WAV the user chose, played back to back.  It plays on a
 * PulseAudio/PipeWire stream of role "event" (kefu-audio-pulse.h).
 *
 * One thread (the desktop's main thread) uses a ringer; nothing here
 * waits for the sound to play.  new and start may wait for the server a
 * few seconds at most (a local server answers in a millisecond).
 */
#pragma once

#include <gio/gio.h>

#include <stdbool.h>

G_BEGIN_DECLS

enum {
  KEFU_RINGER_ON_MS  = 1000,
  KEFU_RINGER_OFF_MS = 2000,
};

struct kefu_ringer;

/* `device`: an output (sink) name from kefu_audio_pulse_list_devices(),
 * NULL or "" for the server's default.  Fails (errors as in
 * kefu-audio-pulse.h) when the server cannot be reached or has no such
 * output. */
struct kefu_ringer *kefu_ringer_new (const char *device, GError **error)
  G_GNUC_WARN_UNUSED_RESULT;
/* Rings with the WAV at `path` (mono 16-bit, 8-96 kHz) from now on, or
 * with the built-in chime again for NULL.  A ringing ringer starts over
 * with the new sound. */
gboolean kefu_ringer_set_tone_file (struct kefu_ringer *ringer, const char *path,
                                    GError **error);
/* Starts ringing from the start of the pattern (nothing if ringing
 * already); reconnects first if the sound server went away since.  Fails
 * only when it cannot reach the server. */
gboolean kefu_ringer_start (struct kefu_ringer *ringer, GError **error);
/* Silent at once. */
void     kefu_ringer_stop (struct kefu_ringer *ringer);
bool     kefu_ringer_is_ringing (const struct kefu_ringer *ringer);
void     kefu_ringer_free (struct kefu_ringer *ringer);

G_END_DECLS
