/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * DTMF digits as RTP telephone-events (RFC 4733), without the RTP: this
 * module reads and writes the 4-byte event payload and keeps the state a
 * receiver and a sender need, and nothing else.  The RTP layer (today the
 * tests, later libre's RTP in the softphone and the switch) owns the socket,
 * the SSRC, the sequence numbers and the payload type: it hands the receiver
 * only packets of the negotiated telephone-event payload type, whatever
 * number that is, and sends what the sender gives it at the times it asks.
 *
 * It is written the libre way because it will sit on libre's RTP: opaque
 * structs, `struct foo **` allocators, errno return values.  It has no
 * thread of its own and takes no locks: call it from the thread that owns
 * the RTP stream.  Times are in microseconds of one monotonic clock
 * (g_get_monotonic_time() or whatever the caller drives in tests).
 */
#pragma once

#include <glib.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

G_BEGIN_DECLS

enum {
  KEFU_RFC4733_PAYLOAD_SIZE     = 4,
  KEFU_RFC4733_CLOCK_RATE       = 8000,   /* telephone-event/8000 */
  KEFU_RFC4733_PTIME_MS         = 50,     /* update interval, RFC 4733 §2.5.1.2 */
  KEFU_RFC4733_VOLUME           = 10,     /* -10 dBm0 */
  KEFU_RFC4733_EVENT_MAX_DTMF   = 15,     /* 0-9, *, #, A-D */
  KEFU_RFC4733_DURATION_MAX     = 0xFFFF, /* then a new segment, §2.5.1.3 */
  KEFU_RFC4733_END_REPEATS      = 3,      /* §2.5.1.4 */
  KEFU_RFC4733_RX_TIMEOUT_MS    = 300,    /* no packet of an event for this long: it ended */
};

/* One event payload, decoded. */
struct kefu_rfc4733_event {
  uint8_t  event;     /* 0-9 digits, 10 '*', 11 '#', 12-15 'A'-'D'; others exist */
  bool     end;       /* E bit */
  bool     reserved;  /* R bit: sent as 0, ignored when received */
  uint8_t  volume;    /* 0-63, in -dBm0 */
  uint16_t duration;  /* in RTP timestamp units since the event (segment) began */
};

/* 0, EINVAL (bad arguments), EBADMSG (not 4 bytes) or ENOTSUP: a well-formed
 * event that is not a DTMF digit (16 is flash, 32-49 are fax and modem
 * tones...), filled into @ev all the same so the caller can say which. */
int  kefu_rfc4733_decode (struct kefu_rfc4733_event *ev, const uint8_t *payload, size_t len);
/* 0 or EINVAL (event above 255 cannot happen; volume above 63, NULL). */
int  kefu_rfc4733_encode (uint8_t payload[KEFU_RFC4733_PAYLOAD_SIZE],
                          const struct kefu_rfc4733_event *ev);

/* '0'-'9', '*', '#', 'A'-'D' (and 'a'-'d') <-> 0-15; -1 / '\0' when not DTMF. */
int  kefu_rfc4733_event_from_digit (char digit);
char kefu_rfc4733_event_to_digit (int event);


/* --- Receiver ---------------------------------------------------------- */

enum kefu_rfc4733_report_kind {
  KEFU_RFC4733_DIGIT_BEGAN,  /* first packet of a new event: show it now */
  KEFU_RFC4733_DIGIT_ENDED,  /* its duration is known (or given up on) */
};

enum kefu_rfc4733_end_reason {
  KEFU_RFC4733_END_NONE,         /* in a BEGAN report */
  KEFU_RFC4733_END_PACKET,       /* a packet with the E bit arrived */
  KEFU_RFC4733_END_TIMEOUT,      /* no packet of the event for the timeout */
  KEFU_RFC4733_END_NEWER_EVENT,  /* a packet of a later event arrived first */
  KEFU_RFC4733_END_RESET,        /* kefu_rfc4733_receiver_reset() */
};

struct kefu_rfc4733_report {
  enum kefu_rfc4733_report_kind kind;
  enum kefu_rfc4733_end_reason  reason;
  char     digit;        /* '0'-'9', '*', '#', 'A'-'D' */
  uint8_t  event;        /* the RFC 4733 code of the digit */
  uint8_t  volume;       /* from the latest packet */
  uint32_t timestamp;    /* RTP timestamp of the event's first segment */
  uint64_t duration;     /* timestamp units; all segments; the longest seen */
  uint32_t duration_ms;
};

/* Each event is reported exactly once as BEGAN and then exactly once as
 * ENDED, in that order, from inside push(), poll() or reset(). */
typedef void (kefu_rfc4733_report_h) (const struct kefu_rfc4733_report *report, void *arg);

struct kefu_rfc4733_receiver_stats {
  uint64_t packets;      /* every push() with a decodable DTMF payload */
  uint64_t events;       /* BEGAN reports */
  uint64_t duplicates;   /* packets of an event already ended, or repeated ends */
  uint64_t late;         /* packets of an event older than the latest one */
  uint64_t reordered;    /* older sequence number than one already seen */
  uint64_t timeouts;     /* events ended without any end packet */
  uint64_t malformed;    /* EBADMSG */
  uint64_t not_dtmf;     /* ENOTSUP */
};

struct kefu_rfc4733_receiver;

/* clock_rate: of the negotiated telephone-event (0 = 8000). */
int  kefu_rfc4733_receiver_alloc (struct kefu_rfc4733_receiver **rp, uint32_t clock_rate,
                                  kefu_rfc4733_report_h *reporth, void *arg);
void kefu_rfc4733_receiver_free (struct kefu_rfc4733_receiver *r);
/* How long an event may go without packets before it counts as ended. */
void kefu_rfc4733_receiver_set_timeout (struct kefu_rfc4733_receiver *r, uint32_t timeout_ms);

/* One RTP packet of the telephone-event payload type.  Returns 0 (also for
 * duplicates and late packets, which are counted and dropped), EBADMSG,
 * ENOTSUP (not a DTMF event: dropped, the state is untouched) or EINVAL. */
int  kefu_rfc4733_receiver_push (struct kefu_rfc4733_receiver *r,
                                 const uint8_t *payload, size_t len,
                                 uint32_t timestamp, uint16_t seq, bool marker,
                                 int64_t arrival_us);
/* Ends an event whose packets stopped; call it at the deadline. */
void kefu_rfc4733_receiver_poll (struct kefu_rfc4733_receiver *r, int64_t now_us);
/* When poll() has something to do; false when no event is open. */
bool kefu_rfc4733_receiver_deadline (const struct kefu_rfc4733_receiver *r, int64_t *deadline_us);
/* New SSRC or a re-INVITE that restarted the stream: end any open event
 * and forget the timestamps seen. */
void kefu_rfc4733_receiver_reset (struct kefu_rfc4733_receiver *r);
void kefu_rfc4733_receiver_stats (const struct kefu_rfc4733_receiver *r,
                                  struct kefu_rfc4733_receiver_stats *stats);


/* --- Sender ------------------------------------------------------------ */

/* One packet to send: the RTP layer adds its header (next sequence number,
 * the negotiated payload type, this timestamp and marker). */
struct kefu_rfc4733_packet {
  uint8_t  payload[KEFU_RFC4733_PAYLOAD_SIZE];
  size_t   len;
  uint32_t timestamp;
  bool     marker;
  int64_t  due_us;       /* when it was meant to go */
  struct kefu_rfc4733_event ev;  /* what the payload says */
};

struct kefu_rfc4733_sender;

/* clock_rate 0 = 8000, ptime_ms 0 = 50, volume 0-63 (0 is loudest, as
 * the RFC counts it; KEFU_RFC4733_VOLUME is the usual -10 dBm0). */
int  kefu_rfc4733_sender_alloc (struct kefu_rfc4733_sender **sp, uint32_t clock_rate,
                                uint32_t ptime_ms, uint8_t volume);
void kefu_rfc4733_sender_free (struct kefu_rfc4733_sender *s);
/* Silence between one digit's last end packet and the next digit's first
 * packet (default: one ptime). */
void kefu_rfc4733_sender_set_gap (struct kefu_rfc4733_sender *s, uint32_t gap_ms);

/* Queues a digit lasting duration_ms (at least one ptime).  When the sender
 * is idle, its first packet is due at now_us.  EINVAL: not a DTMF digit,
 * ENOMEM never (GLib aborts), EOVERFLOW: more than 64 digits waiting. */
int  kefu_rfc4733_sender_queue (struct kefu_rfc4733_sender *s, char digit,
                                uint32_t duration_ms, int64_t now_us);
/* When the next packet is due; false when there is nothing to send. */
bool kefu_rfc4733_sender_next_due (const struct kefu_rfc4733_sender *s, int64_t *due_us);
/* The next packet if it is due at or before now_us (0), else EAGAIN.
 * rtp_ts_now: the stream's RTP timestamp at now_us, used as the timestamp
 * of a digit that starts with this packet.  Call it until EAGAIN: two
 * packets can be due at once when a long event starts a new segment. */
int  kefu_rfc4733_sender_pull (struct kefu_rfc4733_sender *s, int64_t now_us,
                               uint32_t rtp_ts_now, struct kefu_rfc4733_packet *pkt);
bool kefu_rfc4733_sender_is_idle (const struct kefu_rfc4733_sender *s);

G_END_DECLS
