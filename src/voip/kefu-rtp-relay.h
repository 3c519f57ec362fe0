/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The media of a bridged call in the switch: two RTP streams (the
 * caller's leg and the agent's), each negotiated with its own peer, and
 * what one receives sent on by the other.  Two ways:
 *
 *   packets  each packet is handed on as it comes (kefu_rtp_stream_set_relay):
 *            payload untouched, payload type rewritten to what the other leg
 *            negotiated, SSRC, sequence and timestamps made the other
 *            stream's own.  No decoding, no 20 ms work per call: this is
 *            what lets thousands of calls fit on two cores (the
 *            packets go through a relay worker thread, one per core:
 *            kefu_rtp_stream_relay_link).  Both legs
 *            must have the same codec.  Telephone-events pass across when
 *            both legs negotiated them (forward_telev).
 *   decode   each stream plays what it receives (jitter buffer, decoder)
 *            into a short queue the other stream sends from: for legs with
 *            different codecs, for a recording (caller left, agent right:
 *            kefu-call-recorder.h), and for inband DTMF, whose tones can be
 *            held back (suppress_inband_*) while they are turned into the
 *            other leg's DTMF mode by the switch.  The queue delays the
 *            audio by RELAY_INBAND_DELAY frames where tones are held back,
 *            so that a digit the detector confirms 40 ms into the tone is
 *            not heard at all on the other side.
 *
 * Both streams must be running (kefu_rtp_stream_update) and outlive the
 * relay.  Freeing the relay gives each stream back null audio (decode) or
 * its own sending (packets): the caller of this sets what it plays next.
 * libre thread only; mem_deref() frees.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "kefu-rtp-stream.h"

G_BEGIN_DECLS

enum {
  KEFU_RTP_RELAY_INBAND_DELAY = 5,   /* frames of 20 ms */
};

struct kefu_rtp_relay_config {
  bool        decode;           /* else packets */
  bool        forward_telev;    /* packets: pass RFC 4733 events across */
  const char *record_path;      /* decode only: stereo WAV, a left, b right */
  bool        suppress_inband_a;  /* decode: tones heard from a not sent to b */
  bool        suppress_inband_b;
};

struct kefu_rtp_relay_stats {
  uint64_t a_to_b;   /* packets (packets mode) or frames (decode) */
  uint64_t b_to_a;
  uint64_t telev_a_to_b;
  uint64_t telev_b_to_a;
};

struct kefu_rtp_relay;

/* EINVAL: a stream missing, packets mode with a recording. */
int  kefu_rtp_relay_alloc (struct kefu_rtp_relay **rp, struct kefu_rtp_stream *a,
                           struct kefu_rtp_stream *b, const struct kefu_rtp_relay_config *cfg,
                           GError **error);
/* Whether RFC 4733 events go across by themselves (packets mode, both
 * legs with telephone-event, forward_telev): the switch then must not send
 * the digits it is told of again. */
bool kefu_rtp_relay_passes_telev (const struct kefu_rtp_relay *r);
bool kefu_rtp_relay_decodes (const struct kefu_rtp_relay *r);
/* The recording's path, or NULL. */
const char *kefu_rtp_relay_recording (const struct kefu_rtp_relay *r);
void kefu_rtp_relay_stats (const struct kefu_rtp_relay *r, struct kefu_rtp_relay_stats *st);

G_END_DECLS
