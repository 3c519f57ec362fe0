/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The playout schedule is one number, the offset P: the frame with
 * (extended) timestamp ts is due at ts_us(ts) + P.  The buffer plays from a
 * cursor, the timestamp of the next frame; a frame that arrives after the
 * cursor has passed it is late.
 *
 * What P should be: the transit time of a packet is arrival_us - ts_us(ts)
 * (sender and receiver clocks differ, so only differences mean anything).
 * Over the last TRANSIT_WINDOW packets, base is the smallest transit and
 * the target delay is the 98th percentile of (transit - base) plus a small
 * margin, clamped to min..max.  P* = base + target then lets 98 % of recent
 * packets arrive in time.  The window is also kept sorted, one removal and
 * one insertion per packet, so the percentile is a lookup, not a sort.  The RFC 3550 jitter estimate is kept for the
 * statistics and the MOS; it is a mean deviation and says little about the
 * tail that decides lateness, hence the percentile.
 *
 * How P follows P*: at a talkspurt start (after silence, or when nothing was
 * playing) P jumps to P*, as long as the new talkspurt does not start before
 * the old one ended.  During speech it grows by at most one frame every
 * GROW_INTERVAL frames (the listener hears one frame of concealment or
 * silence) and shrinks by exactly one frame, skipping it, at most every
 * SHRINK_INTERVAL frames and only when it is a whole frame above P*.
 *
 * The current delay reported is P - base: how long the fastest packets
 * wait, the delay this buffer adds to the call.
 */
#define G_LOG_DOMAIN "KefuJitterBuffer"

#include "config.h"

#include "kefu-jitter-buffer.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
  TRANSIT_WINDOW   = 128,   /* packets: ~2.5 s at 20 ms */
  SAFETY_MARGIN_US = 5000,
  GROW_INTERVAL    = 2,     /* frames */
  SHRINK_INTERVAL  = 25,    /* frames: at most one frame skipped per 500 ms at 20 ms */
  EMPTY_CONCEAL    = 3,     /* frames concealed with nothing buffered before going idle */
  SEEN_WINDOW      = 1024,  /* sequence numbers remembered for duplicate detection */
  MAX_DROPOUT      = 3000,  /* RFC 3550 A.1: a bigger sequence jump is a restart */
  MAX_TS_JUMP_S    = 3600,  /* a forward timestamp jump (silence) longer than this too */
  MAX_TS_BACK_S    = 10,    /* and a backward one longer than this */
};

/* Extended values start here so that a stream going backwards stays positive. */
#define EXT_SEQ_START (INT64_C (1) << 20)
#define EXT_TS_START  (INT64_C (1) << 34)

struct packet {
  int64_t  ext_seq;
  int64_t  ext_ts;
  uint16_t seq;
  uint32_t ts;
  bool     marker;
  bool     starts_stream;   /* first packet after a resync: a talkspurt start */
  int64_t  arrival_us;
  size_t   len;
  uint8_t  data[];
};

struct stray {
  bool     valid;
  uint16_t seq;
  uint32_t ts;
  bool     marker;
  int64_t  arrival_us;
  size_t   len;
  uint8_t *data;
};

struct kefu_jitter_buffer {
  /* configuration */
  uint32_t clock_rate;
  int64_t  frame_ts;
  int64_t  frame_us;
  int64_t  min_us;
  int64_t  max_us;
  uint32_t network_delay_ms;

  /* the stream */
  bool     have_stream;
  bool     numbered;        /* extended numbers were handed out before */
  uint32_t ssrc;
  int64_t  first_ext_seq;
  int64_t  max_ext_seq;
  int64_t  max_ext_ts;
  uint64_t stream_received;
  uint64_t seen[SEEN_WINDOW / 64];
  struct stray stray;

  /* jitter */
  bool     have_transit;
  int64_t  last_transit_us;
  double   jitter_us;
  int64_t  transits[TRANSIT_WINDOW];   /* in arrival order, a ring */
  int64_t  sorted[TRANSIT_WINDOW];     /* the same values, ascending */
  unsigned n_transits;
  unsigned next_transit;
  int64_t  base_us;
  int64_t  target_us;

  /* playout */
  GQueue   queue;           /* owned struct packet *, by ascending ext_ts */
  bool     playing;         /* in a talkspurt: the cursor moves with time */
  bool     started;         /* the cursor has been set at least once */
  int64_t  cursor_ts;
  int64_t  cursor_seq;      /* sequence number expected at the cursor */
  int64_t  last_played_seq;
  int64_t  offset_us;       /* P */
  unsigned since_adapt;     /* frames since P last moved during speech */
  bool     stream_changed;  /* P belongs to the old stream until its talkspurt */
  unsigned empty_run;
  struct packet *out;       /* the frame handed out last, owned */

  /* counters kept across resyncs */
  uint64_t received;
  uint64_t expected_before;
  uint64_t lost_before;
  uint64_t late;
  uint64_t duplicate;
  uint64_t reordered;
  uint64_t discarded;
  uint64_t played;
  uint64_t concealed;
  uint64_t resyncs;
};

static int64_t
ts_to_us (const struct kefu_jitter_buffer *jb, int64_t ext_ts)
{
  return ext_ts * G_USEC_PER_SEC / jb->clock_rate;
}

/* Where `value` goes in the ascending jb->sorted: after every equal one. */
static unsigned
sorted_position (const struct kefu_jitter_buffer *jb, int64_t value)
{
  unsigned lo = 0, hi = jb->n_transits;

  while (lo < hi)
    {
      unsigned mid = lo + (hi - lo) / 2;

      if (jb->sorted[mid] <= value)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

static void
sorted_remove (struct kefu_jitter_buffer *jb, int64_t value)
{
  /* the last of the equal ones: any of them will do */
  unsigned i = sorted_position (jb, value) - 1;

  g_assert (i < jb->n_transits && jb->sorted[i] == value);
  memmove (jb->sorted + i, jb->sorted + i + 1, (jb->n_transits - i - 1) * sizeof jb->sorted[0]);
  jb->n_transits--;
}

static void
sorted_insert (struct kefu_jitter_buffer *jb, int64_t value)
{
  unsigned i = sorted_position (jb, value);

  memmove (jb->sorted + i + 1, jb->sorted + i, (jb->n_transits - i) * sizeof jb->sorted[0]);
  jb->sorted[i] = value;
  jb->n_transits++;
}

static void
update_target (struct kefu_jitter_buffer *jb)
{
  unsigned idx = (unsigned) ceil (0.98 * jb->n_transits) - 1;
  int64_t target;

  jb->base_us = jb->sorted[0];
  target = jb->sorted[idx] - jb->sorted[0] + SAFETY_MARGIN_US;
  jb->target_us = CLAMP (target, jb->min_us, jb->max_us);
}

static void
record_transit (struct kefu_jitter_buffer *jb, int64_t ext_ts, int64_t arrival_us)
{
  int64_t transit = arrival_us - ts_to_us (jb, ext_ts);

  /* RFC 3550 A.8: J += (|D| - J) / 16, D between consecutive arrivals */
  if (jb->have_transit)
    {
      double d = fabs ((double) (transit - jb->last_transit_us));

      jb->jitter_us += (d - jb->jitter_us) / 16.0;
    }
  jb->have_transit = true;
  jb->last_transit_us = transit;

  /* the oldest leaves the window as the newest comes in */
  if (jb->n_transits == TRANSIT_WINDOW)
    sorted_remove (jb, jb->transits[jb->next_transit]);
  sorted_insert (jb, transit);
  jb->transits[jb->next_transit] = transit;
  jb->next_transit = (jb->next_transit + 1) % TRANSIT_WINDOW;
  update_target (jb);
}

static bool
seen_test (const struct kefu_jitter_buffer *jb, int64_t ext_seq)
{
  uint64_t bit = (uint64_t) ext_seq % SEEN_WINDOW;

  return (jb->seen[bit / 64] >> (bit % 64)) & 1;
}

static void
seen_set (struct kefu_jitter_buffer *jb, int64_t ext_seq, bool on)
{
  uint64_t bit = (uint64_t) ext_seq % SEEN_WINDOW;

  if (on)
    jb->seen[bit / 64] |= UINT64_C (1) << (bit % 64);
  else
    jb->seen[bit / 64] &= ~(UINT64_C (1) << (bit % 64));
}

static void
flush_queue (struct kefu_jitter_buffer *jb, bool count)
{
  struct packet *p;

  while ((p = g_queue_pop_head (&jb->queue)) != NULL)
    {
      if (count)
        jb->discarded++;
      g_free (p);
    }
}

static void
stray_clear (struct kefu_jitter_buffer *jb)
{
  g_clear_pointer (&jb->stray.data, g_free);
  jb->stray.valid = false;
}

/* Forget the stream (not the counters): the next packet starts a new one.
 * What is buffered still plays; the new stream is numbered after it. */
static void
reset_stream (struct kefu_jitter_buffer *jb)
{
  if (jb->have_stream)
    {
      uint64_t expected = (uint64_t) (jb->max_ext_seq - jb->first_ext_seq + 1);

      jb->expected_before += expected;
      if (expected > jb->stream_received)
        jb->lost_before += expected - jb->stream_received;
      jb->resyncs++;
    }
  jb->have_stream = false;
  jb->stream_changed = true;
  jb->stream_received = 0;
  memset (jb->seen, 0, sizeof jb->seen);
  jb->have_transit = false;
  jb->n_transits = 0;
  jb->next_transit = 0;
}

static void
start_stream (struct kefu_jitter_buffer *jb, uint32_t ssrc, uint16_t seq, uint32_t ts)
{
  jb->have_stream = true;
  jb->ssrc = ssrc;
  if (!jb->numbered)
    {
      jb->first_ext_seq = EXT_SEQ_START + seq;
      jb->max_ext_ts = EXT_TS_START + ts;
    }
  else
    {
      /* after everything of the old stream, with the right low bits */
      int64_t seq_floor = MAX (jb->max_ext_seq, jb->cursor_seq) + 1;
      int64_t ts_floor = MAX (jb->max_ext_ts, jb->cursor_ts) + jb->frame_ts;

      jb->first_ext_seq = (seq_floor & ~INT64_C (0xFFFF)) | seq;
      if (jb->first_ext_seq < seq_floor)
        jb->first_ext_seq += 0x10000;
      jb->max_ext_ts = (ts_floor & ~INT64_C (0xFFFFFFFF)) | ts;
      if (jb->max_ext_ts < ts_floor)
        jb->max_ext_ts += INT64_C (0x100000000);
    }
  jb->max_ext_seq = jb->first_ext_seq - 1;
  jb->numbered = true;
}

static void
insert_sorted (struct kefu_jitter_buffer *jb, struct packet *p)
{
  GList *l;

  /* packets mostly arrive in order: search from the tail */
  for (l = jb->queue.tail; l != NULL; l = l->prev)
    {
      const struct packet *q = l->data;

      if (q->ext_ts <= p->ext_ts)
        break;
    }
  if (l == NULL)
    g_queue_push_head (&jb->queue, p);
  else
    g_queue_insert_after (&jb->queue, l, p);

  if (jb->queue.length > KEFU_JITTER_BUFFER_MAX_PACKETS)
    {
      g_free (g_queue_pop_head (&jb->queue));
      jb->discarded++;
    }
}

static int push_in_stream (struct kefu_jitter_buffer *jb, uint32_t ssrc, uint16_t seq,
                           uint32_t ts, bool marker, const uint8_t *payload, size_t len,
                           int64_t arrival_us);

int
kefu_jitter_buffer_push (struct kefu_jitter_buffer *jb, uint32_t ssrc, uint16_t seq,
                         uint32_t ts, bool marker, const uint8_t *payload, size_t len,
                         int64_t arrival_us)
{
  int16_t seq_delta;
  int32_t ts_delta;

  if (jb == NULL || (payload == NULL && len > 0))
    return EINVAL;

  if (jb->have_stream && ssrc != jb->ssrc)
    {
      g_debug ("SSRC %08x -> %08x: resync", jb->ssrc, ssrc);
      stray_clear (jb);
      reset_stream (jb);
    }
  if (!jb->have_stream)
    start_stream (jb, ssrc, seq, ts);

  seq_delta = (int16_t) (uint16_t) (seq - (uint16_t) jb->max_ext_seq);
  ts_delta = (int32_t) (ts - (uint32_t) jb->max_ext_ts);

  if (abs (seq_delta) > MAX_DROPOUT
      || ts_delta > (int64_t) MAX_TS_JUMP_S * jb->clock_rate
      || ts_delta < -(int64_t) MAX_TS_BACK_S * jb->clock_rate)
    {
      /* RFC 3550 A.1: a restarted sender, or one stray packet?  The next
       * packet decides. */
      if (jb->stray.valid && seq == (uint16_t) (jb->stray.seq + 1))
        {
          struct stray s = jb->stray;

          g_debug ("sequence jump confirmed: resync");
          jb->stray.data = NULL;
          jb->stray.valid = false;
          reset_stream (jb);
          start_stream (jb, ssrc, s.seq, s.ts);
          push_in_stream (jb, ssrc, s.seq, s.ts, s.marker, s.data, s.len, s.arrival_us);
          g_free (s.data);
          return push_in_stream (jb, ssrc, seq, ts, marker, payload, len, arrival_us);
        }
      if (jb->stray.valid)
        jb->discarded++;
      stray_clear (jb);
      jb->stray.valid = true;
      jb->stray.seq = seq;
      jb->stray.ts = ts;
      jb->stray.marker = marker;
      jb->stray.arrival_us = arrival_us;
      jb->stray.len = len;
      jb->stray.data = len > 0 ? g_memdup2 (payload, len) : NULL;
      return EAGAIN;
    }

  if (jb->stray.valid)
    {
      jb->discarded++;
      stray_clear (jb);
    }
  return push_in_stream (jb, ssrc, seq, ts, marker, payload, len, arrival_us);
}

static int
push_in_stream (struct kefu_jitter_buffer *jb, uint32_t ssrc, uint16_t seq, uint32_t ts,
                bool marker, const uint8_t *payload, size_t len, int64_t arrival_us)
{
  int64_t ext_seq;
  int64_t ext_ts;
  struct packet *p;

  (void) ssrc;
  ext_seq = jb->max_ext_seq + (int16_t) (uint16_t) (seq - (uint16_t) jb->max_ext_seq);
  ext_ts = jb->max_ext_ts + (int32_t) (ts - (uint32_t) jb->max_ext_ts);

  if (ext_seq <= jb->max_ext_seq - SEEN_WINDOW || ext_seq < jb->first_ext_seq)
    {
      /* too old to tell a duplicate from a late packet; either way it is
       * long past its playout time */
      jb->late++;
      return ETIMEDOUT;
    }
  if (ext_seq <= jb->max_ext_seq && seen_test (jb, ext_seq))
    {
      jb->duplicate++;
      return EALREADY;
    }

  if (ext_seq > jb->max_ext_seq)
    {
      for (int64_t s = MAX (jb->max_ext_seq + 1, ext_seq - SEEN_WINDOW + 1); s < ext_seq; s++)
        seen_set (jb, s, false);
      jb->max_ext_seq = ext_seq;
    }
  else
    {
      jb->reordered++;
    }
  seen_set (jb, ext_seq, true);
  jb->received++;
  jb->stream_received++;
  if (ext_ts > jb->max_ext_ts)
    jb->max_ext_ts = ext_ts;

  record_transit (jb, ext_ts, arrival_us);

  if (jb->started && ext_ts < jb->cursor_ts)
    {
      /* A talkspurt that starts before the concealment of the last one's
       * end ran out: play it, from silence. */
      if (marker && ext_seq > jb->last_played_seq && jb->queue.length == 0)
        {
          jb->playing = false;
        }
      else
        {
          jb->late++;
          return ETIMEDOUT;
        }
    }

  p = g_malloc (sizeof *p + len);
  p->ext_seq = ext_seq;
  p->ext_ts = ext_ts;
  p->seq = seq;
  p->ts = ts;
  p->marker = marker;
  p->starts_stream = jb->stream_received == 1;
  p->arrival_us = arrival_us;
  p->len = len;
  if (len > 0)
    memcpy (p->data, payload, len);
  insert_sorted (jb, p);
  return 0;
}

/* Begin a talkspurt at the first buffered packet: P jumps to P*, but the
 * new talkspurt may not start before the previous one's end was due. */
static void
start_talkspurt (struct kefu_jitter_buffer *jb, const struct packet *head)
{
  int64_t offset = jb->base_us + jb->target_us;

  if (jb->started)
    {
      int64_t old_end_due = ts_to_us (jb, jb->cursor_ts) + jb->offset_us;
      int64_t earliest = old_end_due - ts_to_us (jb, head->ext_ts);

      offset = MAX (offset, earliest);
    }
  jb->offset_us = offset;
  jb->cursor_ts = head->ext_ts;
  jb->cursor_seq = head->ext_seq;
  jb->playing = true;
  jb->started = true;
  jb->stream_changed = false;
  jb->since_adapt = 0;
  jb->empty_run = 0;
}

static void
fill_missing (struct kefu_jitter_buffer *jb, struct kefu_jitter_buffer_frame *frame)
{
  frame->seq = (uint16_t) jb->cursor_seq;
  frame->timestamp = (uint32_t) jb->cursor_ts;
  frame->marker = false;
  frame->payload = NULL;
  frame->len = 0;
  frame->arrival_us = 0;
  jb->cursor_ts += jb->frame_ts;
  jb->cursor_seq++;
  jb->concealed++;
}

enum kefu_jitter_buffer_result
kefu_jitter_buffer_pop (struct kefu_jitter_buffer *jb, int64_t now_us,
                        struct kefu_jitter_buffer_frame *frame)
{
  struct packet *head;
  int64_t wanted;

  g_return_val_if_fail (jb != NULL && frame != NULL, KEFU_JITTER_BUFFER_NOTHING);

  g_clear_pointer (&jb->out, g_free);

  if (!jb->playing)
    {
      head = g_queue_peek_head (&jb->queue);
      if (head == NULL)
        return KEFU_JITTER_BUFFER_NOTHING;
      start_talkspurt (jb, head);
    }

  /* small steps during speech; not while the old stream plays out after a
   * resync, the new stream's transit times say nothing about it */
  wanted = jb->base_us + jb->target_us;
  jb->since_adapt++;
  if (jb->stream_changed)
    ;
  else if (wanted - jb->offset_us > jb->frame_us / 4 && jb->since_adapt >= GROW_INTERVAL)
    {
      jb->offset_us += MIN (wanted - jb->offset_us, jb->frame_us);
      jb->since_adapt = 0;
    }
  else if (jb->offset_us - wanted >= jb->frame_us && jb->since_adapt >= SHRINK_INTERVAL
           && now_us >= ts_to_us (jb, jb->cursor_ts) + jb->offset_us)
    {
      /* skip the frame at the cursor: the next one is due when it was */
      head = g_queue_peek_head (&jb->queue);
      if (head != NULL && head->ext_ts < jb->cursor_ts + jb->frame_ts)
        {
          jb->last_played_seq = MAX (jb->last_played_seq, head->ext_seq);
          g_free (g_queue_pop_head (&jb->queue));
          jb->discarded++;
        }
      jb->cursor_ts += jb->frame_ts;
      jb->cursor_seq++;
      jb->offset_us -= jb->frame_us;
      jb->since_adapt = 0;
    }

again:
  if (now_us < ts_to_us (jb, jb->cursor_ts) + jb->offset_us)
    return KEFU_JITTER_BUFFER_NOTHING;

  /* anything before the cursor (a shrink skipped it) is of no use now */
  while ((head = g_queue_peek_head (&jb->queue)) != NULL && head->ext_ts < jb->cursor_ts)
    {
      g_free (g_queue_pop_head (&jb->queue));
      jb->discarded++;
    }

  if (head != NULL && head->ext_ts < jb->cursor_ts + jb->frame_ts)
    {
      jb->out = g_queue_pop_head (&jb->queue);
      frame->seq = jb->out->seq;
      frame->timestamp = jb->out->ts;
      frame->marker = jb->out->marker;
      frame->payload = jb->out->data;
      frame->len = jb->out->len;
      frame->arrival_us = jb->out->arrival_us;
      jb->cursor_ts = jb->out->ext_ts + jb->frame_ts;
      jb->cursor_seq = jb->out->ext_seq + 1;
      jb->last_played_seq = jb->out->ext_seq;
      jb->empty_run = 0;
      jb->played++;
      return KEFU_JITTER_BUFFER_FRAME;
    }

  if (head != NULL)
    {
      /* A gap in the timestamps without a gap in the sequence numbers (or a
       * marker bit): the sender was silent.  Start the next talkspurt. */
      if (head->marker || head->starts_stream || head->ext_seq <= jb->cursor_seq)
        {
          start_talkspurt (jb, head);
          goto again;
        }
      fill_missing (jb, frame);
      jb->empty_run = 0;
      return KEFU_JITTER_BUFFER_MISSING;
    }

  /* Nothing buffered: conceal a few frames (the packet may come), then
   * call it silence. */
  if (jb->empty_run < EMPTY_CONCEAL)
    {
      jb->empty_run++;
      fill_missing (jb, frame);
      return KEFU_JITTER_BUFFER_MISSING;
    }
  jb->playing = false;
  return KEFU_JITTER_BUFFER_NOTHING;
}

void
kefu_jitter_buffer_set_network_delay (struct kefu_jitter_buffer *jb, uint32_t delay_ms)
{
  g_return_if_fail (jb != NULL);
  jb->network_delay_ms = delay_ms;
}

void
kefu_jitter_buffer_stats (const struct kefu_jitter_buffer *jb,
                          struct kefu_jitter_buffer_stats *stats)
{
  uint64_t expected = jb->expected_before;
  uint64_t lost = jb->lost_before;

  g_return_if_fail (jb != NULL && stats != NULL);

  if (jb->have_stream)
    {
      uint64_t e = (uint64_t) MAX (jb->max_ext_seq - jb->first_ext_seq + 1, 0);

      expected += e;
      if (e > jb->stream_received)
        lost += e - jb->stream_received;
    }

  memset (stats, 0, sizeof *stats);
  stats->received = jb->received;
  stats->expected = expected;
  stats->lost = lost;
  stats->late = jb->late;
  stats->duplicate = jb->duplicate;
  stats->reordered = jb->reordered;
  stats->discarded = jb->discarded;
  stats->played = jb->played;
  stats->concealed = jb->concealed;
  stats->resyncs = jb->resyncs;
  stats->jitter_ms = jb->jitter_us / 1000.0;
  stats->loss_percent = expected > 0 ? 100.0 * (double) MIN (lost + jb->late, expected)
                                       / (double) expected
                                     : 0.0;
  stats->target_delay_ms = (uint32_t) ((jb->n_transits > 0 ? jb->target_us : jb->min_us) / 1000);
  stats->current_delay_ms = jb->started && jb->n_transits > 0
                            ? (uint32_t) (MAX (jb->offset_us - jb->base_us, 0) / 1000) : 0;
  stats->mos = kefu_jitter_buffer_mos (stats->loss_percent, stats->jitter_ms,
                                       (double) jb->frame_us / 1000.0 + jb->network_delay_ms);
}

double
kefu_jitter_buffer_mos (double loss_percent, double jitter_ms, double delay_ms)
{
  const double r0_minus_is = 93.2;
  const double bpl = 25.1;   /* G.711 with PLC, random loss */
  double d, id, ppl, ie_eff, r;

  ppl = CLAMP (loss_percent, 0.0, 100.0);
  d = MAX (delay_ms, 0.0) + 2.0 * MAX (jitter_ms, 0.0);

  id = 0.024 * d;
  if (d > 177.3)
    id += 0.11 * (d - 177.3);
  ie_eff = 0.0 + (95.0 - 0.0) * ppl / (ppl + bpl);

  r = r0_minus_is - id - ie_eff;
  if (r <= 0.0)
    return 1.0;
  if (r >= 100.0)
    return 4.5;
  return 1.0 + 0.035 * r + 7e-6 * r * (r - 60.0) * (100.0 - r);
}

int
kefu_jitter_buffer_alloc (struct kefu_jitter_buffer **jbp,
                          const struct kefu_jitter_buffer_config *cfg)
{
  struct kefu_jitter_buffer *jb;
  uint32_t clock_rate = cfg && cfg->clock_rate ? cfg->clock_rate : 8000;
  uint32_t frame = cfg && cfg->frame_samples ? cfg->frame_samples : clock_rate / 50;
  uint32_t min_ms = cfg && cfg->min_delay_ms ? cfg->min_delay_ms
                                             : KEFU_JITTER_BUFFER_MIN_DELAY_MS;
  uint32_t max_ms = cfg && cfg->max_delay_ms ? cfg->max_delay_ms
                                             : KEFU_JITTER_BUFFER_MAX_DELAY_MS;

  if (jbp == NULL || min_ms > max_ms || frame == 0)
    return EINVAL;

  jb = g_new0 (struct kefu_jitter_buffer, 1);
  jb->clock_rate = clock_rate;
  jb->frame_ts = frame;
  jb->frame_us = (int64_t) frame * G_USEC_PER_SEC / clock_rate;
  jb->min_us = (int64_t) min_ms * 1000;
  jb->max_us = (int64_t) max_ms * 1000;
  jb->target_us = jb->min_us;
  g_queue_init (&jb->queue);
  *jbp = jb;
  return 0;
}

void
kefu_jitter_buffer_free (struct kefu_jitter_buffer *jb)
{
  if (jb == NULL)
    return;
  flush_queue (jb, false);
  stray_clear (jb);
  g_free (jb->out);
  g_free (jb);
}
