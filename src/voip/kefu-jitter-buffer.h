/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * An adaptive playout (jitter) buffer for one received RTP stream, without
 * the RTP: the RTP layer hands it each packet's SSRC, sequence number,
 * timestamp, marker bit, payload and arrival time; the audio side asks it,
 * once per frame period, for the frame to play now.  It copies payloads and
 * never looks inside them, so it serves any codec with a fixed frame
 * duration (PCMU, PCMA, Opus at one ptime).
 *
 * It handles reordering, duplicates, late packets, loss (reported as
 * missing frames for the codec's concealment), sequence-number and
 * timestamp wrap-around, a new SSRC or a sender that restarts (resync), and
 * silence suppression (a talkspurt starts with the marker bit or a
 * timestamp jump without a sequence gap).  The playout delay follows the
 * measured jitter between a minimum and a maximum; it jumps only in
 * silence, and during speech it moves one frame at a time, not more often
 * than every few frames.
 *
 * It also keeps the per-call statistics the UI shows: packets, loss,
 * interarrival jitter (RFC 3550 §6.4.1/A.8), the delays, and an estimated
 * MOS (a simplified ITU-T G.107 E-model, see kefu_jitter_buffer_mos()).
 *
 * libre-style: opaque struct, `**` allocator, errno return values.  No
 * locks: call it from the thread that owns the stream.  Times are in
 * microseconds of one monotonic clock (g_get_monotonic_time(), or whatever
 * a test drives).
 */
#pragma once

#include <glib.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

G_BEGIN_DECLS

enum {
  KEFU_JITTER_BUFFER_MIN_DELAY_MS = 20,   /* defaults of the config */
  KEFU_JITTER_BUFFER_MAX_DELAY_MS = 300,
  KEFU_JITTER_BUFFER_MAX_PACKETS  = 512,  /* beyond this the oldest is dropped */
};

struct kefu_jitter_buffer_config {
  uint32_t clock_rate;     /* RTP clock (0 = 8000) */
  uint32_t frame_samples;  /* timestamp units per packet (0 = 20 ms) */
  uint32_t min_delay_ms;   /* 0 = KEFU_JITTER_BUFFER_MIN_DELAY_MS */
  uint32_t max_delay_ms;   /* 0 = KEFU_JITTER_BUFFER_MAX_DELAY_MS */
};

enum kefu_jitter_buffer_result {
  KEFU_JITTER_BUFFER_NOTHING,  /* nothing due yet, or silence: play comfort noise */
  KEFU_JITTER_BUFFER_FRAME,    /* a received frame: decode and play it */
  KEFU_JITTER_BUFFER_MISSING,  /* a frame lost or late: conceal it (PLC) */
};

struct kefu_jitter_buffer_frame {
  uint16_t       seq;         /* for MISSING: the sequence number it should have had */
  uint32_t       timestamp;
  bool           marker;
  const uint8_t *payload;     /* FRAME only; valid until the next call on the buffer */
  size_t         len;
  int64_t        arrival_us;  /* FRAME only */
};

struct kefu_jitter_buffer_stats {
  uint64_t received;    /* distinct packets, late ones included (RFC 3550 counting) */
  uint64_t expected;    /* from the sequence numbers, over all SSRCs seen */
  uint64_t lost;        /* expected - received: never arrived */
  uint64_t late;        /* arrived after their playout time: dropped */
  uint64_t duplicate;   /* dropped */
  uint64_t reordered;   /* arrived after a higher sequence number */
  uint64_t discarded;   /* dropped to shrink the delay, on overflow or a resync */
  uint64_t played;      /* FRAME results */
  uint64_t concealed;   /* MISSING results */
  uint64_t resyncs;     /* new SSRC, or a jump confirmed by the next packet */
  double   jitter_ms;        /* RFC 3550 interarrival jitter */
  double   loss_percent;     /* (lost + late) / expected: what the listener misses */
  uint32_t current_delay_ms; /* playout delay over the fastest recent packet */
  uint32_t target_delay_ms;  /* what the jitter asks for, within min..max */
  double   mos;              /* 1.0-4.5, see kefu_jitter_buffer_mos() */
};

struct kefu_jitter_buffer;

/* cfg may be NULL (8 kHz, 20 ms, defaults).  0 or EINVAL (min > max). */
int  kefu_jitter_buffer_alloc (struct kefu_jitter_buffer **jbp,
                               const struct kefu_jitter_buffer_config *cfg);
void kefu_jitter_buffer_free (struct kefu_jitter_buffer *jb);

/* One received RTP packet.  Returns
 *   0          buffered;
 *   EALREADY   a duplicate: dropped and counted;
 *   ETIMEDOUT  later than its playout time: dropped and counted;
 *   EAGAIN     a big sequence/timestamp jump on the same SSRC: held until
 *              the next packet confirms it (then both play), else dropped;
 *   EINVAL     NULL buffer, or NULL payload with len > 0. */
int  kefu_jitter_buffer_push (struct kefu_jitter_buffer *jb, uint32_t ssrc, uint16_t seq,
                              uint32_t timestamp, bool marker,
                              const uint8_t *payload, size_t len, int64_t arrival_us);

/* Call once per frame period of the audio clock (more often is harmless).
 * Fills @frame for FRAME and MISSING. */
enum kefu_jitter_buffer_result
     kefu_jitter_buffer_pop (struct kefu_jitter_buffer *jb, int64_t now_us,
                             struct kefu_jitter_buffer_frame *frame);

/* One-way network delay (e.g. half the RTCP round-trip time) for the MOS;
 * 0 until set. */
void kefu_jitter_buffer_set_network_delay (struct kefu_jitter_buffer *jb, uint32_t delay_ms);
void kefu_jitter_buffer_stats (const struct kefu_jitter_buffer *jb,
                               struct kefu_jitter_buffer_stats *stats);

/* Estimated MOS (listening-conversational quality, 1.0-4.5) of a G.711 call
 * with packet-loss concealment, from a simplified E-model (ITU-T G.107):
 *   R  = 93.2 - Id - Ie_eff                 (default R0 - Is, A = 0)
 *   d  = delay_ms + 2 * jitter_ms           (the dejitter buffering the
 *                                            jitter costs, on top of the rest)
 *   Id = 0.024 d + 0.11 (d - 177.3) H(d - 177.3)   (the usual fit of G.107's Id)
 *   Ie_eff = Ie + (95 - Ie) Ppl / (Ppl + Bpl)      (random loss, BurstR = 1)
 *            Ie = 0, Bpl = 25.1: G.711 with PLC (G.113 Appendix I)
 *   MOS = 1 + 0.035 R + 7e-6 R (R - 60) (100 - R), 1 below R = 0, 4.5 above 100
 * loss_percent: 0-100, packets the listener never heard (lost or late).
 * delay_ms: one-way delay without the dejitter buffer (network, packetisation). */
double kefu_jitter_buffer_mos (double loss_percent, double jitter_ms, double delay_ms);

G_END_DECLS
