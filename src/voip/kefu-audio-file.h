/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The audio ends of a call without a sound card: a source the RTP stream
 * reads one 20 ms frame from per tick, and a sink it writes the frame it
 * plays out to.  Back-ends:
 *   `file`  plays a WAV (8 kHz, 16-bit, mono) into the call, looping or
 *           falling silent at its end, and records what is received to a
 *           WAV, which replaces the file named when the sink is freed; both
 *           stream (kefu-wav.h), so a call holds a few kilobytes of either
 *           file, whatever its length;
 *   `null`  silence in, and whatever comes out is dropped;
 *   `pulse` a PulseAudio (or PipeWire's Pulse) server, kefu-audio-pulse.h.
 * A back-end in another file plugs in behind the same two types with
 * kefu_audio_source_new()/kefu_audio_sink_new().
 *
 * Not thread-safe: one stream (the phone thread) uses a source and a sink.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

G_BEGIN_DECLS

enum {
  KEFU_AUDIO_RATE          = 8000,
  KEFU_AUDIO_FRAME_SAMPLES = 160,  /* 20 ms at 8 kHz */
};

struct kefu_audio_source;
struct kefu_audio_sink;

/* Fills n samples; false at the end of a non-looping file (the frame is
 * then silence, and stays so). */
bool kefu_audio_source_read (struct kefu_audio_source *src, int16_t *samples, size_t n);
void kefu_audio_source_free (struct kefu_audio_source *src);
void kefu_audio_sink_write (struct kefu_audio_sink *sink, const int16_t *samples, size_t n);
/* A file sink puts its WAV in place now (a failure is logged). */
void kefu_audio_sink_free (struct kefu_audio_sink *sink);

/* What a back-end does behind the calls above, on its own state `impl`:
 * read/write from the one thread that drives the stream, free (may be
 * NULL) once, when the source or sink is freed. */
struct kefu_audio_source_backend {
  bool (*read) (void *impl, int16_t *samples, size_t n);
  void (*free) (void *impl);
};

struct kefu_audio_sink_backend {
  void (*write) (void *impl, const int16_t *samples, size_t n);
  void (*free) (void *impl);
};

/* For back-ends: `backend` is static; the new source or sink owns `impl`. */
struct kefu_audio_source *kefu_audio_source_new (const struct kefu_audio_source_backend *backend,
                                                 void *impl);
struct kefu_audio_sink   *kefu_audio_sink_new (const struct kefu_audio_sink_backend *backend,
                                               void *impl);

struct kefu_audio_source *kefu_audio_null_source_new (void);
struct kefu_audio_sink   *kefu_audio_null_sink_new (void);
/* The WAV must be 8000 Hz mono 16-bit; NULL with an error otherwise.
 * Only its header is read now. */
struct kefu_audio_source *kefu_audio_file_source_new (const char *path, bool loop,
                                                      GError **error);
/* Records into a new file beside `path` (PATH.XXXXXX), renamed to `path`
 * when the sink is freed; NULL with an error when it cannot be created. */
struct kefu_audio_sink   *kefu_audio_file_sink_new (const char *path, GError **error);

/* A back-end from its spec:
 *   "null"                NULL or "" mean the same;
 *   "file:IN.wav,OUT.wav" either may be empty: "file:,out.wav" records
 *                         only, "file:in.wav" plays only; the missing side
 *                         is null;
 *   "pulse:SOURCE,SINK"   Pulse device names (kefu_audio_pulse_list_devices());
 *                         "pulse", an empty or a missing name means the
 *                         server's default device.  This one connects to the
 *                         server and may wait for it (a few seconds at most).
 * On error nothing is returned. */
gboolean kefu_audio_open (const char *spec, bool loop,
                          struct kefu_audio_source **srcp,
                          struct kefu_audio_sink **sinkp,
                          GError **error);

G_END_DECLS
