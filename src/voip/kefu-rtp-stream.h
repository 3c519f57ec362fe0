/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The audio RTP session of one call, on libre's rtp/rtcp: G.711 (PCMU or
 * PCMA) or Opus (RFC 7587, kefu-opus.h) at 20 ms ptime, symmetric RTP (once
 * packets arrive we answer to where they come from), a jitter buffer for
 * what is received, RFC 4733 telephone-events both ways, RTCP, and the
 * call's media statistics.  Audio comes from and goes to the back-ends of
 * kefu-audio-file.h, 8 kHz mono, 160 samples a frame, whatever the codec.
 *
 * On top of that, what an agent does during a call: mute (we send
 * silence, RTP keeps flowing), record on demand (kefu-call-recorder.h:
 * stereo, us left, the far side right), and DTMF as tones inside the audio
 * (inband) both ways, for peers and IVRs without RFC 4733.
 *
 * Phone thread only (libre's loop): allocate, start, update, free there.
 * The stats struct is plain data the UI may hold.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "kefu-audio-file.h"
#include "kefu-srtp.h"

G_BEGIN_DECLS

struct sa;

/** What the UI shows about a call's media (plain data). */
struct kefu_rtp_stream_stats {
  char     codec[16];         /* "PCMU", "PCMA", "opus", "" before start */
  uint64_t packets_sent;      /* audio and telephone-event */
  uint64_t packets_received;  /* audio packets into the jitter buffer */
  uint64_t packets_lost;      /* jitter buffer: expected - received */
  uint64_t dtmf_received;     /* digits, RFC 4733 and inband */
  double   loss_percent;      /* lost or late, as the listener hears it */
  double   jitter_ms;         /* RFC 3550 interarrival jitter, received */
  double   rtt_ms;            /* from RTCP; 0 until a report came back */
  int      remote_lost;       /* RTCP: the peer's count of our packets lost */
  double   remote_jitter_ms;  /* RTCP: the peer's jitter of our packets */
  double   mos;               /* estimated, 1.0-4.5; 0 before any packet */
  bool     muted;             /* we send silence */
  bool     recording;
  bool     srtp;              /* what goes both ways is SRTP */
  uint64_t srtp_dropped;      /* received, failed SRTP's check: dropped */
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

/** A digit received: mode "rfc4733" (reported when the event began) or
 * "inband" (a tone heard in the audio, reported when it ended).  mode is
 * a static string. */
typedef void (kefu_rtp_stream_dtmf_h)(char digit, const char *mode, void *arg);

struct kefu_rtp_stream;

/* Binds RTP (an even port) and RTCP (the next one) on laddr's address;
 * nothing is sent until start.  libre memory: free with mem_deref(). */
int  kefu_rtp_stream_alloc (struct kefu_rtp_stream **sp, const struct sa *laddr,
                            kefu_rtp_stream_dtmf_h *dtmfh, void *arg);
/* The same in [port_min, port_max] (port_min even; RTCP on RTP + 1):
 * EADDRINUSE when every pair of the range is taken. */
int  kefu_rtp_stream_alloc_ports (struct kefu_rtp_stream **sp, const struct sa *laddr,
                                  uint16_t port_min, uint16_t port_max,
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
/* Protects the stream's RTP and RTCP with SRTP (kefu-srtp.h) from now on:
 * with @keys NULL nothing is sent and nothing received is played until a
 * later call gives the keys; a later call with other keys rekeys.  There
 * is no way back to plain RTP.  Call it before the start whose media is
 * to be secure. */
int  kefu_rtp_stream_set_srtp (struct kefu_rtp_stream *s, const struct kefu_srtp_keys *keys);
/* Stops sending and playing, ends any recording and frees the audio
 * back-ends (a file sink is written now).  The stats stay readable. */
void kefu_rtp_stream_stop (struct kefu_rtp_stream *s);
/* Queues RFC 4733 digits ("0-9*#A-D"), each duration_ms long (0: 100).
 * ENOTSUP without a negotiated telephone-event, EINVAL for a bad digit
 * (nothing queued then). */
int  kefu_rtp_stream_send_dtmf (struct kefu_rtp_stream *s, const char *digits,
                                uint32_t duration_ms);
void kefu_rtp_stream_stats (struct kefu_rtp_stream *s, struct kefu_rtp_stream_stats *st);

/* Muted, what we send is silence: packets keep their pace (the peer's
 * jitter buffer, RTCP and NAT bindings see a live call), RFC 4733 and
 * inband digits still go, and a recording's left channel is silent. */
void kefu_rtp_stream_set_mute (struct kefu_rtp_stream *s, bool muted);

/* Records the call from the next frame on into a new stereo WAV at path
 * (8 kHz, 16-bit; left: what we send, after mute; right: what we play).
 * It is written as the call goes; stop, kefu_rtp_stream_stop() or freeing
 * the stream completes it.  FALSE with an error naming the path when it
 * cannot be created (G_IO_ERROR_BUSY when a recording is already running);
 * the call goes on either way.  If the disk fails later the recording
 * ends (logged) and the call goes on. */
gboolean kefu_rtp_stream_record_start (struct kefu_rtp_stream *s, const char *path,
                                       GError **error);
/* No-op when not recording. */
void kefu_rtp_stream_record_stop (struct kefu_rtp_stream *s);

/* Sends digits ("0-9*#A-D") as DTMF tones (ITU-T Q.23, -10 dBm0 a tone)
 * in place of our audio, each duration_ms long (0: 100; at least 40, what
 * Q.24 detectors need, at most 10000) and followed by a gap as long, but
 * no shorter than 60 ms and no longer than 100 ms.  Muted or not, they go
 * (held, they are lost: the tones keep time).  EINVAL for a bad digit
 * (nothing queued then). */
int  kefu_rtp_stream_send_inband (struct kefu_rtp_stream *s, const char *digits,
                                  uint32_t duration_ms);
/* Listens for DTMF tones in what we play (kefu-dtmf-detector.h); each
 * reaches the dtmf handler once, as mode "inband", when it ends.  Off by
 * default: a peer sending RFC 4733 events and tones would be heard twice. */
void kefu_rtp_stream_set_inband_detect (struct kefu_rtp_stream *s, bool on);
/* The inband digit confirmed and still sounding in what we play, or '\0'
 * (also when not detecting). */
char kefu_rtp_stream_inband_current (struct kefu_rtp_stream *s);

/* The payload type we send telephone-events with, -1 when none was
 * negotiated (as given to the last update). */
int  kefu_rtp_stream_telev_pt (const struct kefu_rtp_stream *s);

/*
 * Relaying (the switch's bridge, kefu-rtp-relay.h): packets handed on as
 * they come, without decoding.
 */

/** A received RTP packet of the negotiated audio or telephone-event type
 * (padding removed).  The payload is borrowed for the handler's call. */
struct kefu_rtp_packet {
  uint8_t        pt;
  bool           marker;
  bool           telev;     /* of the negotiated telephone-event type */
  uint16_t       seq;
  uint32_t       ts;
  uint32_t       ssrc;
  const uint8_t *payload;
  size_t         len;
};

typedef void (kefu_rtp_stream_packet_h)(struct kefu_rtp_stream *s,
                                        const struct kefu_rtp_packet *pkt, void *arg);

/* With @h, the stream relays: each packet received goes to @h, and the
 * stream neither sends its own audio nor, unless @decode, plays what it
 * receives (no jitter buffer, no sink, no inband detector: no decoding).
 * Telephone-events received are still read, so digits still reach the
 * dtmf handler, and RFC 4733 digits queued with send_dtmf still go (the
 * relayed audio pauses for them).  With @decode the received audio is
 * also played as without relaying (recording, inband detection).  @h NULL:
 * back to sending the source. */
void kefu_rtp_stream_set_relay (struct kefu_rtp_stream *s, kefu_rtp_stream_packet_h *h,
                                void *arg, bool decode);
/* Once @a and @b both relay packets to each other (set_relay without
 * decode, the same handler argument), their RTP is read and sent on by a
 * relay worker thread, one per core, instead of this thread (neither may
 * use SRTP; without it they stay here).  Everything above stays safe to
 * call from this thread meanwhile; the packet handler then runs on the
 * worker, for audio (telephone-events still come here).  Undone by
 * set_relay(NULL), stop or freeing either. */
void kefu_rtp_stream_relay_link (struct kefu_rtp_stream *a, struct kefu_rtp_stream *b);
/* Sends a packet received on another stream: audio at our negotiated
 * payload type, a telephone-event at ours (ENOTSUP when we have none),
 * with our SSRC and sequence numbers and the timestamps carried on from
 * ours (a new source SSRC starts a new marked talk-spurt).  Audio is
 * dropped (0) while one of our RFC 4733 digits is being sent, and when we
 * may not send (hold, no address).  Only for streams of the same codec:
 * nothing is transcoded. */
int  kefu_rtp_stream_forward (struct kefu_rtp_stream *s, const struct kefu_rtp_packet *pkt);

G_END_DECLS
