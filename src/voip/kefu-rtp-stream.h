/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The audio RTP session of one call, on libre's rtp/rtcp: G.711 (PCMU or
 * PCMA) at 20 ms ptime, symmetric RTP (once packets arrive we answer to
 * where they come from), a jitter buffer for what is received, RFC 4733
 * telephone-events both ways, RTCP, and the call's media statistics.  Audio
 * comes from and goes to the back-ends of kefu-audio-file.h.
 *
 * Opus is negotiable but not yet coded: a stream started with it says so
 * and sends and plays nothing.
 *
 * Phone thread only (libre's loop): allocate, start, update, free there.
 * The stats struct is plain data the UI may hold.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "kefu-audio-file.h"

G_BEGIN_DECLS

struct sa;

/** What the UI shows about a call's media (plain data). */
struct kefu_rtp_stream_stats {
  char     codec[16];         /* "PCMU", "PCMA", "opus", "" before start */
  uint64_t packets_sent;      /* audio and telephone-event */
  uint64_t packets_received;  /* audio packets into the jitter buffer */
  uint64_t packets_lost;      /* jitter buffer: expected - received */
  uint64_t dtmf_received;     /* RFC 4733 digits */
  double   loss_percent;      /* lost or late, as the listener hears it */
  double   jitter_ms;         /* RFC 3550 interarrival jitter, received */
  double   rtt_ms;            /* from RTCP; 0 until a report came back */
  int      remote_lost;       /* RTCP: the peer's count of our packets lost */
  double   remote_jitter_ms;  /* RTCP: the peer's jitter of our packets */
  double   mos;               /* estimated, 1.0-4.5; 0 before any packet */
};

/** Where and how to stream, from the negotiated SDP. */
struct kefu_rtp_stream_params {
  const char      *codec;     /* "PCMU", "PCMA", "opus" */
  int              pt;        /* payload type to send with */
  uint32_t         srate;
  int              telev_pt;  /* -1: none */
  const struct sa *raddr;     /* the peer's RTP address from its SDP */
  bool             send;      /* false while we hold or it says recvonly */
  bool             recv;
};

/** A digit received as RFC 4733 event (when it began). */
typedef void (kefu_rtp_stream_dtmf_h)(char digit, void *arg);

struct kefu_rtp_stream;

/* Binds RTP (an even port) and RTCP (the next one) on laddr's address;
 * nothing is sent until start.  libre memory: free with mem_deref(). */
int  kefu_rtp_stream_alloc (struct kefu_rtp_stream **sp, const struct sa *laddr,
                            kefu_rtp_stream_dtmf_h *dtmfh, void *arg);
uint16_t kefu_rtp_stream_local_port (const struct kefu_rtp_stream *s);
/* Takes ownership of both (either may be NULL for null); replaces any
 * earlier pair, freeing it (a file sink is written then). */
void kefu_rtp_stream_set_audio (struct kefu_rtp_stream *s, struct kefu_audio_source *src,
                                struct kefu_audio_sink *sink);
/* Starts, or applies a re-negotiation (hold, resume, new address or
 * codec) to a running stream.  ENOTSUP: a codec we cannot code (the
 * stream runs its clock but sends and plays nothing). */
int  kefu_rtp_stream_update (struct kefu_rtp_stream *s, const struct kefu_rtp_stream_params *p);
/* Stops sending and playing and frees the audio back-ends (a file sink is
 * written now).  The stats stay readable. */
void kefu_rtp_stream_stop (struct kefu_rtp_stream *s);
/* Queues RFC 4733 digits ("0-9*#A-D"), each duration_ms long (0: 100).
 * ENOTSUP without a negotiated telephone-event, EINVAL for a bad digit
 * (nothing queued then). */
int  kefu_rtp_stream_send_dtmf (struct kefu_rtp_stream *s, const char *digits,
                                uint32_t duration_ms);
void kefu_rtp_stream_stats (struct kefu_rtp_stream *s, struct kefu_rtp_stream_stats *st);

G_END_DECLS
