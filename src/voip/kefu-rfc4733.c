/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuRfc4733"

#include "config.h"

#include "kefu-rfc4733.h"

#include <errno.h>
#include <string.h>

/*
 * How the receiver tells events apart (RFC 4733 §2.5.2):
 *
 * - An event is its RTP timestamp.  Every packet of one digit carries the
 *   timestamp of the digit's start, so a packet with the timestamp of the
 *   latest event is an update, a repeat or a late copy of it; a later
 *   timestamp (in 32-bit serial arithmetic, so 0xFFFFFF00 < 0x00000100) is
 *   a new event; an earlier one belongs to an event already over.
 * - The digit is reported at the first packet of a new event, whichever
 *   packet that is (the marker-bit one may be lost, the first to arrive may
 *   already carry the E bit), so the agent sees it at once.
 * - The end is reported once: at the first packet with the E bit; or, when
 *   every end packet is lost, when a later event starts or when no packet of
 *   the event has arrived for the timeout (300 ms by default: six lost
 *   updates at 50 ms, three at 100 ms; a digit's end then shows late but the
 *   digit itself was already reported).  After that every packet with that
 *   timestamp is a duplicate, E bit or not.
 * - A long event is sent in segments (§2.5.1.3): a packet of the same event
 *   code exactly 0xFFFF later than the open segment continues it.
 * - Sequence numbers are not needed to deduplicate (the timestamp and the
 *   E bit are); they are only compared, modulo 2^16, to count reordering.
 *
 * Timestamps are only comparable within one stream: once the latest event
 * has been over for FORGET_US, any timestamp starts a new event, so a
 * stream whose timestamps jump back (a re-INVITE without a new SSRC) loses
 * at most the digits of that window instead of the next 2^31 samples.
 * Real duplicates and reordering are milliseconds apart, not seconds.
 */

#define SEGMENT_SPAN      ((uint32_t) KEFU_RFC4733_DURATION_MAX)
#define FORGET_US         (2 * G_USEC_PER_SEC)
#define SENDER_QUEUE_MAX  64
#define DIGIT_MAX_MS      (10u * 60u * 1000u)

static const char dtmf_digits[] = "0123456789*#ABCD";

int
kefu_rfc4733_event_from_digit (char digit)
{
  const char *p;

  if (digit == '\0')
    return -1;
  p = strchr (dtmf_digits, g_ascii_toupper (digit));
  return p != NULL ? (int) (p - dtmf_digits) : -1;
}

char
kefu_rfc4733_event_to_digit (int event)
{
  if (event < 0 || event > KEFU_RFC4733_EVENT_MAX_DTMF)
    return '\0';
  return dtmf_digits[event];
}

int
kefu_rfc4733_decode (struct kefu_rfc4733_event *ev,
                     const uint8_t             *payload,
                     size_t                     len)
{
  if (ev == NULL || (payload == NULL && len > 0))
    return EINVAL;
  /* RFC 2198 redundancy would make it longer, but it is not negotiated. */
  if (len != KEFU_RFC4733_PAYLOAD_SIZE)
    return EBADMSG;

  ev->event = payload[0];
  ev->end = (payload[1] & 0x80) != 0;
  ev->reserved = (payload[1] & 0x40) != 0;
  ev->volume = payload[1] & 0x3f;
  ev->duration = (uint16_t) ((payload[2] << 8) | payload[3]);

  return ev->event <= KEFU_RFC4733_EVENT_MAX_DTMF ? 0 : ENOTSUP;
}

int
kefu_rfc4733_encode (uint8_t                          payload[KEFU_RFC4733_PAYLOAD_SIZE],
                     const struct kefu_rfc4733_event *ev)
{
  if (payload == NULL || ev == NULL || ev->volume > 63)
    return EINVAL;

  payload[0] = ev->event;
  /* The R bit is always sent as 0 (§2.3.3). */
  payload[1] = (uint8_t) ((ev->end ? 0x80 : 0) | ev->volume);
  payload[2] = (uint8_t) (ev->duration >> 8);
  payload[3] = (uint8_t) (ev->duration & 0xff);
  return 0;
}


/* --- Receiver ---------------------------------------------------------- */

struct kefu_rfc4733_receiver {
  uint32_t               clock_rate;
  int64_t                timeout_us;
  kefu_rfc4733_report_h *reporth;
  void                  *arg;

  /* The latest event: open (active) or over. */
  bool     have_latest;
  bool     active;
  uint8_t  event;
  uint8_t  volume;
  uint32_t event_ts;     /* first segment: the event's identity */
  uint32_t seg_ts;       /* open segment */
  uint64_t base;         /* duration of the segments before seg_ts */
  uint16_t seg_duration; /* longest seen in the open segment */
  int64_t  last_arrival_us;

  bool     have_seq;
  uint16_t max_seq;

  struct kefu_rfc4733_receiver_stats stats;
};

int
kefu_rfc4733_receiver_alloc (struct kefu_rfc4733_receiver **rp,
                             uint32_t                       clock_rate,
                             kefu_rfc4733_report_h         *reporth,
                             void                          *arg)
{
  struct kefu_rfc4733_receiver *r;

  if (rp == NULL || reporth == NULL)
    return EINVAL;

  r = g_new0 (struct kefu_rfc4733_receiver, 1);
  r->clock_rate = clock_rate != 0 ? clock_rate : KEFU_RFC4733_CLOCK_RATE;
  r->timeout_us = (int64_t) KEFU_RFC4733_RX_TIMEOUT_MS * 1000;
  r->reporth = reporth;
  r->arg = arg;

  *rp = r;
  return 0;
}

void
kefu_rfc4733_receiver_free (struct kefu_rfc4733_receiver *r)
{
  g_free (r);
}

void
kefu_rfc4733_receiver_set_timeout (struct kefu_rfc4733_receiver *r,
                                   uint32_t                      timeout_ms)
{
  g_return_if_fail (r != NULL);
  g_return_if_fail (timeout_ms > 0);

  r->timeout_us = (int64_t) timeout_ms * 1000;
}

static void
report (struct kefu_rfc4733_receiver *r,
        enum kefu_rfc4733_report_kind kind,
        enum kefu_rfc4733_end_reason  reason)
{
  struct kefu_rfc4733_report rep = {
    .kind = kind,
    .reason = reason,
    .digit = kefu_rfc4733_event_to_digit (r->event),
    .event = r->event,
    .volume = r->volume,
    .timestamp = r->event_ts,
    .duration = r->base + r->seg_duration,
  };

  rep.duration_ms = (uint32_t) MIN (rep.duration * 1000 / r->clock_rate, G_MAXUINT32);
  g_debug ("%s '%c' ts %u, %" G_GUINT64_FORMAT " units, reason %d",
           kind == KEFU_RFC4733_DIGIT_BEGAN ? "began" : "ended",
           rep.digit, rep.timestamp, rep.duration, reason);
  r->reporth (&rep, r->arg);
}

static void
end_event (struct kefu_rfc4733_receiver *r,
           enum kefu_rfc4733_end_reason  reason)
{
  r->active = false;
  if (reason == KEFU_RFC4733_END_TIMEOUT)
    r->stats.timeouts++;
  report (r, KEFU_RFC4733_DIGIT_ENDED, reason);
}

static void
expire (struct kefu_rfc4733_receiver *r,
        int64_t                       now_us)
{
  if (r->active && now_us - r->last_arrival_us >= r->timeout_us)
    end_event (r, KEFU_RFC4733_END_TIMEOUT);

  if (r->have_latest && !r->active && now_us - r->last_arrival_us > FORGET_US)
    r->have_latest = false;
}

static void
take_update (struct kefu_rfc4733_receiver    *r,
             const struct kefu_rfc4733_event *ev,
             int64_t                          arrival_us)
{
  r->volume = ev->volume;
  r->last_arrival_us = arrival_us;
  if (ev->end)
    {
      /* The end packet's duration is the event's; an update reordered
       * behind it cannot make it longer. */
      r->seg_duration = ev->duration;
      end_event (r, KEFU_RFC4733_END_PACKET);
    }
  else
    {
      r->seg_duration = MAX (r->seg_duration, ev->duration);
    }
}

int
kefu_rfc4733_receiver_push (struct kefu_rfc4733_receiver *r,
                            const uint8_t                *payload,
                            size_t                        len,
                            uint32_t                      timestamp,
                            uint16_t                      seq,
                            bool                          marker,
                            int64_t                       arrival_us)
{
  struct kefu_rfc4733_event ev;
  int err;

  if (r == NULL)
    return EINVAL;

  err = kefu_rfc4733_decode (&ev, payload, len);
  if (err == EBADMSG)
    r->stats.malformed++;
  else if (err == ENOTSUP)
    r->stats.not_dtmf++;
  if (err != 0)
    return err;

  r->stats.packets++;
  if (r->have_seq && (int16_t) (uint16_t) (seq - r->max_seq) < 0)
    r->stats.reordered++;
  else
    r->max_seq = seq;
  r->have_seq = true;

  /* The packet's own arrival ends an event that went quiet before it. */
  expire (r, arrival_us);

  if (r->have_latest)
    {
      int32_t diff = (int32_t) (timestamp - r->seg_ts);

      if (diff < 0)
        {
          r->stats.late++;
          return 0;
        }

      if (diff == 0)
        {
          if (!r->active || ev.event != r->event)
            {
              r->stats.duplicates++;
              return 0;
            }
          take_update (r, &ev, arrival_us);
          return 0;
        }

      if (r->active && ev.event == r->event && (uint32_t) diff == SEGMENT_SPAN)
        {
          r->base += SEGMENT_SPAN;
          r->seg_ts = timestamp;
          r->seg_duration = 0;
          take_update (r, &ev, arrival_us);
          return 0;
        }

      if (r->active)
        end_event (r, KEFU_RFC4733_END_NEWER_EVENT);
    }

  if (!marker)
    g_debug ("event at ts %u began without its marker packet", timestamp);

  r->have_latest = true;
  r->active = true;
  r->event = ev.event;
  r->event_ts = timestamp;
  r->seg_ts = timestamp;
  r->base = 0;
  r->seg_duration = ev.duration;
  r->volume = ev.volume;
  r->last_arrival_us = arrival_us;
  r->stats.events++;
  report (r, KEFU_RFC4733_DIGIT_BEGAN, KEFU_RFC4733_END_NONE);

  if (ev.end)
    end_event (r, KEFU_RFC4733_END_PACKET);

  return 0;
}

void
kefu_rfc4733_receiver_poll (struct kefu_rfc4733_receiver *r,
                            int64_t                       now_us)
{
  g_return_if_fail (r != NULL);

  expire (r, now_us);
}

bool
kefu_rfc4733_receiver_deadline (const struct kefu_rfc4733_receiver *r,
                                int64_t                            *deadline_us)
{
  g_return_val_if_fail (r != NULL, false);

  if (!r->active)
    return false;
  if (deadline_us != NULL)
    *deadline_us = r->last_arrival_us + r->timeout_us;
  return true;
}

void
kefu_rfc4733_receiver_reset (struct kefu_rfc4733_receiver *r)
{
  g_return_if_fail (r != NULL);

  if (r->active)
    end_event (r, KEFU_RFC4733_END_RESET);
  r->have_latest = false;
  r->have_seq = false;
}

void
kefu_rfc4733_receiver_stats (const struct kefu_rfc4733_receiver *r,
                             struct kefu_rfc4733_receiver_stats *stats)
{
  g_return_if_fail (r != NULL && stats != NULL);

  *stats = r->stats;
}


/* --- Sender ------------------------------------------------------------ */

/*
 * A digit of total duration D is sent as ticks k = 0, 1, 2... one ptime
 * apart.  Tick k reports the duration the event will have covered once
 * the packet's interval is over, min ((k + 1) * ptime, D), as an audio
 * packet sent at that moment would: so the first packet says one ptime,
 * and goes out at once with the marker bit.  The tick that reaches D
 * carries the E bit and is repeated at the next two ticks, unchanged.
 *
 * Past 0xFFFF units the event continues in a new segment whose timestamp is
 * 0xFFFF later and whose duration starts again from what is left over; the
 * old segment's last packet (0xFFFF, no E bit) is sent three times too, one
 * per tick, before the new segment's packet of that tick.
 */

struct queued_digit {
  uint8_t  event;
  uint64_t duration;  /* timestamp units */
};

struct kefu_rfc4733_sender {
  uint32_t clock_rate;
  uint32_t ptime_units;
  int64_t  ptime_us;
  int64_t  gap_us;
  uint8_t  volume;

  struct queued_digit queue[SENDER_QUEUE_MAX];
  unsigned q_head;
  unsigned q_len;

  /* The digit being sent. */
  bool     sending;
  bool     started;         /* its timestamp is known */
  uint8_t  event;
  uint64_t duration;
  uint32_t event_ts;
  uint64_t tick;
  int64_t  start_us;        /* when tick 0 is due */
  uint64_t segment;
  unsigned end_repeats;     /* left to send after the E packet */
  bool     ended;
  unsigned seg_repeats;     /* of the previous segment's last packet */
  uint32_t seg_final_ts;

  /* Packets of the current tick, not yet pulled. */
  struct kefu_rfc4733_packet pending[2];
  unsigned n_pending;
  unsigned pending_pos;

  bool     have_last;
  int64_t  last_due_us;     /* the last packet of the previous digit */
};

int
kefu_rfc4733_sender_alloc (struct kefu_rfc4733_sender **sp,
                           uint32_t                     clock_rate,
                           uint32_t                     ptime_ms,
                           uint8_t                      volume)
{
  struct kefu_rfc4733_sender *s;

  if (sp == NULL || volume > 63 || ptime_ms > 1000)
    return EINVAL;
  if (clock_rate == 0)
    clock_rate = KEFU_RFC4733_CLOCK_RATE;
  if (ptime_ms == 0)
    ptime_ms = KEFU_RFC4733_PTIME_MS;
  /* One tick must stay below a segment, and cover at least one unit. */
  if ((uint64_t) clock_rate * ptime_ms / 1000 == 0
      || (uint64_t) clock_rate * ptime_ms / 1000 >= SEGMENT_SPAN)
    return EINVAL;

  s = g_new0 (struct kefu_rfc4733_sender, 1);
  s->clock_rate = clock_rate;
  s->ptime_units = (uint32_t) ((uint64_t) clock_rate * ptime_ms / 1000);
  s->ptime_us = (int64_t) ptime_ms * 1000;
  s->gap_us = s->ptime_us;
  s->volume = volume;

  *sp = s;
  return 0;
}

void
kefu_rfc4733_sender_free (struct kefu_rfc4733_sender *s)
{
  g_free (s);
}

void
kefu_rfc4733_sender_set_gap (struct kefu_rfc4733_sender *s,
                             uint32_t                    gap_ms)
{
  g_return_if_fail (s != NULL);

  s->gap_us = (int64_t) gap_ms * 1000;
}

static void
start_next_digit (struct kefu_rfc4733_sender *s,
                  int64_t                     not_before_us)
{
  const struct queued_digit *d;

  if (s->q_len == 0)
    return;

  d = &s->queue[s->q_head];
  s->q_head = (s->q_head + 1) % SENDER_QUEUE_MAX;
  s->q_len--;

  s->sending = true;
  s->started = false;
  s->event = d->event;
  s->duration = d->duration;
  s->tick = 0;
  s->segment = 0;
  s->ended = false;
  s->end_repeats = 0;
  s->seg_repeats = 0;
  s->n_pending = 0;
  s->pending_pos = 0;
  s->start_us = not_before_us;
  if (s->have_last)
    s->start_us = MAX (s->start_us, s->last_due_us + s->gap_us);
}

int
kefu_rfc4733_sender_queue (struct kefu_rfc4733_sender *s,
                           char                        digit,
                           uint32_t                    duration_ms,
                           int64_t                     now_us)
{
  struct queued_digit *d;
  int event;

  if (s == NULL)
    return EINVAL;
  event = kefu_rfc4733_event_from_digit (digit);
  if (event < 0)
    return EINVAL;
  if (s->q_len == SENDER_QUEUE_MAX)
    return EOVERFLOW;

  d = &s->queue[(s->q_head + s->q_len) % SENDER_QUEUE_MAX];
  d->event = (uint8_t) event;
  d->duration = (uint64_t) MIN (duration_ms, DIGIT_MAX_MS) * s->clock_rate / 1000;
  d->duration = MAX (d->duration, 1);
  s->q_len++;

  if (!s->sending)
    start_next_digit (s, now_us);
  return 0;
}

static int64_t
tick_due (const struct kefu_rfc4733_sender *s)
{
  return s->start_us + (int64_t) s->tick * s->ptime_us;
}

static void
add_pending (struct kefu_rfc4733_sender *s,
             uint32_t                    timestamp,
             bool                        marker,
             bool                        end,
             uint16_t                    duration)
{
  struct kefu_rfc4733_packet *pkt = &s->pending[s->n_pending++];

  memset (pkt, 0, sizeof *pkt);
  pkt->ev.event = s->event;
  pkt->ev.end = end;
  pkt->ev.volume = s->volume;
  pkt->ev.duration = duration;
  pkt->len = KEFU_RFC4733_PAYLOAD_SIZE;
  pkt->timestamp = timestamp;
  pkt->marker = marker;
  pkt->due_us = tick_due (s);
  (void) kefu_rfc4733_encode (pkt->payload, &pkt->ev);
}

/* Fills pending[] with the packets of the current tick. */
static void
build_tick (struct kefu_rfc4733_sender *s)
{
  uint64_t covered = MIN ((s->tick + 1) * s->ptime_units, s->duration);
  uint64_t segment = covered > SEGMENT_SPAN ? (covered - 1) / SEGMENT_SPAN : 0;
  uint32_t seg_ts;

  s->n_pending = 0;
  s->pending_pos = 0;

  if (s->ended)
    covered = s->duration;
  else if (segment > s->segment)
    {
      /* ptime < 0xFFFF units, so a tick crosses one boundary at most. */
      s->seg_final_ts = s->event_ts + (uint32_t) (s->segment * SEGMENT_SPAN);
      s->seg_repeats = KEFU_RFC4733_END_REPEATS;
      s->segment = segment;
    }

  if (s->seg_repeats > 0)
    {
      add_pending (s, s->seg_final_ts, false, false, KEFU_RFC4733_DURATION_MAX);
      s->seg_repeats--;
    }

  seg_ts = s->event_ts + (uint32_t) (s->segment * SEGMENT_SPAN);
  add_pending (s, seg_ts, s->tick == 0, covered == s->duration,
               (uint16_t) (covered - s->segment * SEGMENT_SPAN));

  if (s->ended)
    {
      if (s->end_repeats > 0)
        s->end_repeats--;
    }
  else if (covered == s->duration)
    {
      s->ended = true;
      s->end_repeats = KEFU_RFC4733_END_REPEATS - 1;
    }
}

bool
kefu_rfc4733_sender_is_idle (const struct kefu_rfc4733_sender *s)
{
  g_return_val_if_fail (s != NULL, true);

  return !s->sending;
}

bool
kefu_rfc4733_sender_next_due (const struct kefu_rfc4733_sender *s,
                              int64_t                          *due_us)
{
  g_return_val_if_fail (s != NULL, false);

  if (!s->sending)
    return false;
  if (due_us != NULL)
    *due_us = s->pending_pos < s->n_pending ? s->pending[s->pending_pos].due_us : tick_due (s);
  return true;
}

int
kefu_rfc4733_sender_pull (struct kefu_rfc4733_sender *s,
                          int64_t                     now_us,
                          uint32_t                    rtp_ts_now,
                          struct kefu_rfc4733_packet *pkt)
{
  if (s == NULL || pkt == NULL)
    return EINVAL;
  if (!s->sending)
    return EAGAIN;

  if (s->pending_pos == s->n_pending)
    {
      if (now_us < tick_due (s))
        return EAGAIN;
      if (!s->started)
        {
          s->event_ts = rtp_ts_now;
          s->started = true;
        }
      build_tick (s);
      s->tick++;
    }

  else if (now_us < s->pending[s->pending_pos].due_us)
    return EAGAIN;

  *pkt = s->pending[s->pending_pos++];

  if (s->pending_pos == s->n_pending && s->ended && s->end_repeats == 0 && s->seg_repeats == 0)
    {
      s->sending = false;
      s->have_last = true;
      s->last_due_us = pkt->due_us;
      start_next_digit (s, now_us);
    }

  return 0;
}
