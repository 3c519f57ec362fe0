/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The `pulse` audio back-end: a call's source and sink on a PulseAudio
 * server (or PipeWire's Pulse server, which is what desktops run today),
 * the list of devices for the desktop's preferences, and the playback the
 * ringer (kefu-ringer.h) rings with.
 *
 * The RTP stream reads and writes one 20 ms frame per tick on the phone
 * thread; those calls never block.  All Pulse work happens on one
 * pa_threaded_mainloop thread per process, shared by every source, sink,
 * ringer and device query alive at the time: a call's capture and playback
 * and the ringer are one client of the server (one "Kefu" entry in the
 * volume control, one connection whose loss is noticed and logged once),
 * and a call costs no thread of its own.  Its load is a few 8 kHz mono
 * streams.  The connection closes with its last user; when the server went
 * away, the next open connects anew.  Between that thread and the phone
 * thread, each stream has a lock-free single-producer, single-consumer ring.
 *
 * Streams ask for 8 kHz mono 16-bit and let the server resample; they say
 * media.role=phone (event for the ringer), so desktops route them to the
 * headset and may load echo cancellation for them.  Playback keeps about
 * 40-60 ms queued at the server (a frame that comes later than that is a
 * gap, after which the server waits for 40 ms again before it plays on);
 * capture hands out silence when it has nothing.  Either ring cuts what
 * has piled up beyond 120 ms, so latency cannot grow.  If the server dies
 * in a call, that is logged once and the call goes on in silence.
 *
 * Opening (and listing) waits for the server, a few seconds at most.
 * Errors are G_IO_ERROR's (set as KEFU_IO_ERROR, kefu-io-error.h):
 * G_IO_ERROR_CONNECTION_REFUSED when the server cannot be reached,
 * G_IO_ERROR_NOT_FOUND for a device name it does not know,
 * G_IO_ERROR_TIMED_OUT when it does not answer, G_IO_ERROR_CONNECTION_CLOSED
 * when it goes away meanwhile, G_IO_ERROR_FAILED else.
 */
#pragma once

#include <gio/gio.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kefu-audio-file.h"

G_BEGIN_DECLS

/* `device`: a source (input) or sink (output) name as listed by
 * kefu_audio_pulse_list_devices(); NULL or "" for the server's default.
 * Any thread; not the source's or sink's own calls, which belong to one. */
struct kefu_audio_source *kefu_audio_pulse_source_new (const char *device,
                                                       GError    **error)
  G_GNUC_WARN_UNUSED_RESULT;
struct kefu_audio_sink   *kefu_audio_pulse_sink_new (const char *device,
                                                     GError    **error)
  G_GNUC_WARN_UNUSED_RESULT;

/* One device of the server, as the preferences window shows it. */
struct kefu_audio_device {
  char    *name;         /* what "pulse:SOURCE,SINK" takes */
  char    *description;  /* for people: "Built-in Audio Analog Stereo" */
  gboolean is_default;   /* the server's default (the user's choice in the desktop) */
};

void kefu_audio_device_free (struct kefu_audio_device *device);

/* Fills *sources (inputs; monitors of outputs are left out: they record
 * what plays, not the agent) and *sinks (outputs) with new GPtrArrays of
 * struct kefu_audio_device, in the server's order.  Blocks for a round trip
 * to the server: from the main thread, use the _async variant, which runs
 * it on a GTask's thread (kefu-audio-pulse-async.c: whoever calls it links
 * gio-2.0; libkefu-voip does not otherwise call into GIO). */
gboolean kefu_audio_pulse_list_devices (GPtrArray **sources,
                                        GPtrArray **sinks,
                                        GError    **error);
void     kefu_audio_pulse_list_devices_async (GCancellable       *cancellable,
                                              GAsyncReadyCallback callback,
                                              gpointer            user_data);
gboolean kefu_audio_pulse_list_devices_finish (GAsyncResult *result,
                                               GPtrArray   **sources,
                                               GPtrArray   **sinks,
                                               GError      **error);

/* For kefu-ringer.c: a playback stream whose samples come from `fill`,
 * called on Pulse's thread with the offset (in samples) since start, until
 * stopped.  new checks the server and the device; start connects a new
 * stream (without waiting: a failure then is logged) and stop drops it
 * with whatever it had queued, so the sound ends at once.  One thread
 * (the main one) calls these. */
typedef void (kefu_audio_pulse_fill_h) (int16_t *samples, size_t n, uint64_t offset, void *arg);

struct kefu_audio_pulse_player;

struct kefu_audio_pulse_player *kefu_audio_pulse_player_new (const char              *device,
                                                             const char              *role,
                                                             const char              *title,
                                                             kefu_audio_pulse_fill_h *fill,
                                                             void                    *arg,
                                                             GError                 **error)
  G_GNUC_WARN_UNUSED_RESULT;
/* Plays at `rate` Hz, mono, from offset 0; reconnects first if the server
 * went away since. */
gboolean kefu_audio_pulse_player_start (struct kefu_audio_pulse_player *player,
                                        unsigned                        rate,
                                        GError                        **error);
void     kefu_audio_pulse_player_stop (struct kefu_audio_pulse_player *player);
void     kefu_audio_pulse_player_free (struct kefu_audio_pulse_player *player);

G_END_DECLS
