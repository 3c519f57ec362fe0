/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Between libkefu-voip and its PulseAudio module.  The `pulse` back-end
 * (kefu-audio-pulse.c) is built as the module kefu-audio-pulse.so, so that
 * libpulse, and what it loads (libsndfile, X11, systemd and D-Bus
 * libraries), stays out of every program that does not play sound: a
 * headless kefu-phone, the switch, the tests.  kefu-audio-pulse-loader.c,
 * in the library, implements kefu-audio-pulse.h by loading the module the
 * first time a Pulse device, a device listing or a ringer is asked for, and
 * calling it through the table below.
 *
 * The module calls nothing in the library (it links GLib and libpulse
 * only, not GIO: its errors are KEFU_IO_ERROR's, kefu-io-error.h): the stream state and back-end it hands out are wrapped in a
 * source or sink by the library, and it adds devices to arrays the library
 * made.  Once loaded it stays loaded.
 */
#pragma once

#include "kefu-audio-pulse.h"

G_BEGIN_DECLS

#define KEFU_AUDIO_PULSE_MODULE_FILE    "kefu-audio-pulse.so"
/* the symbol of the table */
#define KEFU_AUDIO_PULSE_MODULE_SYMBOL  "kefu_audio_pulse_module"
/* raised whenever the table, or anything it passes, changes */
#define KEFU_AUDIO_PULSE_MODULE_VERSION 1

struct kefu_audio_pulse_module {
  unsigned version;  /* KEFU_AUDIO_PULSE_MODULE_VERSION */
  size_t   size;     /* sizeof (struct kefu_audio_pulse_module) */

  /* A call's capture (source) or playback (sink) on `device`: the stream's
   * state, owned by whoever wraps it with *backend. */
  void    *(*source_open) (const char                              *device,
                           const struct kefu_audio_source_backend **backend,
                           GError                                 **error);
  void    *(*sink_open)   (const char                              *device,
                           const struct kefu_audio_sink_backend   **backend,
                           GError                                 **error);
  /* Appends new struct kefu_audio_device to the caller's arrays. */
  gboolean (*list_devices) (GPtrArray *sources,
                            GPtrArray *sinks,
                            GError   **error);

  /* As kefu_audio_pulse_player_*() in kefu-audio-pulse.h. */
  struct kefu_audio_pulse_player *(*player_new) (const char              *device,
                                                 const char              *role,
                                                 const char              *title,
                                                 kefu_audio_pulse_fill_h *fill,
                                                 void                    *arg,
                                                 GError                 **error);
  gboolean (*player_start) (struct kefu_audio_pulse_player *player,
                            unsigned                        rate,
                            GError                        **error);
  void     (*player_stop)  (struct kefu_audio_pulse_player *player);
  void     (*player_free)  (struct kefu_audio_pulse_player *player);
};

G_END_DECLS
