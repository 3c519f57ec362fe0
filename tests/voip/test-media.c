/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Media path: G.711 against the values the standard fixes, the jitter
 * buffer against synthetic RTP streams whose arrival times the test drives
 * (no sleeping): what comes out, in which order, and what the statistics
 * say about it; the recordings' files, written as a call goes; the WAV a
 * call plays, read as it goes; and the PulseAudio module, loaded only when
 * sound is asked for.
 */
#include "config.h"

#include "kefu-audio-file.h"
#include "kefu-audio-pulse.h"
#include "kefu-call-recorder.h"
#include "kefu-g711.h"
#include "kefu-jitter-buffer.h"
#include "kefu-ringer.h"
#include "kefu-wav.h"

#include <gio/gio.h>
#include <glib.h>
#include <glib/gstdio.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* --- G.711 ------------------------------------------------------------- */

static void
test_g711_known_values (void)
{
  /* worked out by hand from G.711's tables of decision and output values */
  static const struct { int16_t lin; uint8_t ulaw; uint8_t alaw; } enc[] = {
    {      0, 0xFF, 0xD5 },
    {     -1, 0x7F, 0x55 },   /* one's complement: -1 quantises like -0 */
    {  32767, 0x80, 0xAA },   /* full scale */
    { -32768, 0x00, 0x2A },
    {    123, 0xF0, 0xD2 },   /* μ-law: last value of segment 0 */
    {    124, 0xEF, 0xD2 },   /* μ-law: first value of segment 1 */
    {    255, 0xE7, 0xDA },   /* A-law: last value of segment 0 */
    {    256, 0xE7, 0xC5 },   /* A-law: segment 1 (same step as segment 0) */
    {    511, 0xDB, 0xCA },   /* A-law: last value of segment 1 */
    {    512, 0xDB, 0xF5 },   /* A-law: first value of segment 2 */
    {   8158, 0x9F, 0x8A },
  };
  static const struct { uint8_t code; int16_t ulaw; int16_t alaw; } dec[] = {
    { 0xFF,      0,    848 },  /* μ-law zero */
    { 0x7F,      0,   -848 },  /* μ-law negative zero */
    { 0xD5,    716,      8 },  /* A-law has no zero: its smallest values are ±8 */
    { 0x55,   -716,     -8 },
    { 0x80,  32124,   5504 },  /* μ-law full scale */
    { 0x00, -32124,  -5504 },
    { 0xAA,   5372,  32256 },  /* A-law full scale */
    { 0x2A,  -5372, -32256 },
    { 0xEF,    132,   1696 },  /* μ-law: first output value of segment 1 */
    { 0xF0,    120,    688 },  /* μ-law: last output value of segment 0 */
  };

  for (gsize i = 0; i < G_N_ELEMENTS (enc); i++)
    {
      g_test_message ("encode %d", enc[i].lin);
      g_assert_cmphex (kefu_g711_linear_to_ulaw (enc[i].lin), ==, enc[i].ulaw);
      g_assert_cmphex (kefu_g711_linear_to_alaw (enc[i].lin), ==, enc[i].alaw);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (dec); i++)
    {
      g_test_message ("decode 0x%02x", dec[i].code);
      g_assert_cmpint (kefu_g711_ulaw_to_linear (dec[i].code), ==, dec[i].ulaw);
      g_assert_cmpint (kefu_g711_alaw_to_linear (dec[i].code), ==, dec[i].alaw);
    }
  g_assert_cmpint (kefu_g711_ulaw_to_linear (0x80), ==, KEFU_G711_ULAW_MAX);
  g_assert_cmpint (kefu_g711_alaw_to_linear (0xAA), ==, KEFU_G711_ALAW_MAX);
  g_assert_cmphex (kefu_g711_linear_to_ulaw (0), ==, KEFU_G711_ULAW_SILENCE);
  g_assert_cmphex (kefu_g711_linear_to_alaw (0), ==, KEFU_G711_ALAW_SILENCE);
}

/* The decode tables against the standard's formulas, written independently. */
static void
test_g711_tables (void)
{
  for (int c = 0; c < 256; c++)
    {
      int u = ~c & 0xFF, a = c ^ 0x55;
      int ue = (u >> 4) & 7, um = u & 15, ae = (a >> 4) & 7, am = a & 15;
      int umag = (((2 * um + 33) << ue) << 2) - 132;
      int amag = ae == 0 ? 16 * am + 8 : (16 * am + 264) << (ae - 1);

      g_assert_cmpint (kefu_g711_ulaw_to_linear (c), ==, (u & 0x80) ? -umag : umag);
      g_assert_cmpint (kefu_g711_alaw_to_linear (c), ==, (a & 0x80) ? amag : -amag);
    }
}

static void
test_g711_codes_round_trip (void)
{
  for (int c = 0; c < 256; c++)
    {
      uint8_t u = kefu_g711_linear_to_ulaw (kefu_g711_ulaw_to_linear (c));

      /* 0x7F is μ-law's "negative zero": it decodes to 0, which encodes 0xFF */
      g_assert_cmphex (u, ==, c == 0x7F ? 0xFF : c);
      g_assert_cmphex (kefu_g711_linear_to_alaw (kefu_g711_alaw_to_linear (c)), ==, c);
    }
}

/* Every 16-bit sample: encoding is monotonic and the error is at most half
 * a quantisation step (the step doubles with each segment), apart from the
 * clipping above the top decision value. */
static void
test_g711_samples_round_trip (void)
{
  int prev_u = G_MININT, prev_a = G_MININT;
  int max_err_u = 0, max_err_a = 0;

  for (int x = -32768; x <= 32767; x++)
    {
      uint8_t uc = kefu_g711_linear_to_ulaw (x), ac = kefu_g711_linear_to_alaw (x);
      int u = kefu_g711_ulaw_to_linear (uc), a = kefu_g711_alaw_to_linear (ac);
      int ustep = 8 << ((~uc >> 4) & 7);
      int aseg = ((ac ^ 0x55) >> 4) & 7;
      int astep = 16 << MAX (aseg - 1, 0);

      g_assert_cmpint (u, >=, prev_u);
      g_assert_cmpint (a, >=, prev_a);
      prev_u = u;
      prev_a = a;

      if (abs (x) <= KEFU_G711_ULAW_MAX + ustep / 2)
        g_assert_cmpint (abs (u - x), <=, ustep / 2);
      if (abs (x) <= KEFU_G711_ALAW_MAX + astep / 2)
        g_assert_cmpint (abs (a - x), <=, astep / 2);
      max_err_u = MAX (max_err_u, abs (u - x));
      max_err_a = MAX (max_err_a, abs (a - x));
    }
  /* clipping: 32767 -> 32124 and -32768 -> -32256 */
  g_assert_cmpint (max_err_u, ==, 32768 - 32124);
  g_assert_cmpint (max_err_a, ==, 32768 - 32256);

  /* small signals keep their sign and land within the finest step */
  {
    int16_t in[5] = { -100, -5, 0, 5, 100 };
    uint8_t codes[5];
    int16_t out[5];

    kefu_g711_ulaw_encode (codes, in, 5);
    kefu_g711_ulaw_decode (out, codes, 5);
    for (int i = 0; i < 5; i++)
      g_assert_cmpint (abs (out[i] - in[i]), <=, 4);
    kefu_g711_alaw_encode (codes, in, 5);
    kefu_g711_alaw_decode (out, codes, 5);
    for (int i = 0; i < 5; i++)
      g_assert_cmpint (abs (out[i] - in[i]), <=, 8);
  }
}

/* --- Jitter buffer: a driven simulation -------------------------------- */

#define FRAME_US  20000
#define FRAME_TS  160

struct sim_packet {
  uint32_t ssrc;
  uint16_t seq;
  uint32_t ts;
  bool     marker;
  int64_t  arrival_us;
  unsigned id;        /* what the payload says: which packet this is */
};

struct sim_out {
  enum kefu_jitter_buffer_result result;
  uint16_t seq;
  uint32_t ts;
  unsigned id;
  int64_t  now_us;
  int64_t  waited_us;  /* now - arrival */
};

struct sim {
  struct kefu_jitter_buffer *jb;
  GArray *packets;     /* struct sim_packet */
  GArray *out;         /* struct sim_out, one per pop */
  unsigned n_dup, n_late_rc;
};

static void
sim_init (struct sim *sim, uint32_t min_ms, uint32_t max_ms)
{
  struct kefu_jitter_buffer_config cfg = {
    .clock_rate = 8000, .frame_samples = FRAME_TS,
    .min_delay_ms = min_ms, .max_delay_ms = max_ms,
  };

  g_assert_cmpint (kefu_jitter_buffer_alloc (&sim->jb, &cfg), ==, 0);
  sim->packets = g_array_new (FALSE, TRUE, sizeof (struct sim_packet));
  sim->out = g_array_new (FALSE, TRUE, sizeof (struct sim_out));
  sim->n_dup = sim->n_late_rc = 0;
}

static void
sim_clear (struct sim *sim)
{
  kefu_jitter_buffer_free (sim->jb);
  g_array_unref (sim->packets);
  g_array_unref (sim->out);
}

static void
sim_add (struct sim *sim, uint32_t ssrc, uint16_t seq, uint32_t ts, bool marker,
         int64_t arrival_us, unsigned id)
{
  struct sim_packet p = { ssrc, seq, ts, marker, arrival_us, id };

  g_array_append_val (sim->packets, p);
}

static int
compare_arrival (gconstpointer a, gconstpointer b)
{
  const struct sim_packet *x = a, *y = b;

  if (x->arrival_us != y->arrival_us)
    return x->arrival_us < y->arrival_us ? -1 : 1;
  return 0;
}

/* Pops once every 20 ms from start to end, pushing first whatever has
 * arrived by then, in arrival order (the sort is stable). */
static void
sim_run (struct sim *sim, int64_t start_us, int64_t end_us)
{
  guint next = 0;
  struct sim_packet *pk;

  /* g_array_sort is not stable; packets are added in sending order, so
   * break ties by position by sorting a copy with the index folded in */
  for (guint i = 0; i < sim->packets->len; i++)
    g_array_index (sim->packets, struct sim_packet, i).arrival_us =
      g_array_index (sim->packets, struct sim_packet, i).arrival_us * 4096 + i;
  g_array_sort (sim->packets, compare_arrival);
  for (guint i = 0; i < sim->packets->len; i++)
    g_array_index (sim->packets, struct sim_packet, i).arrival_us /= 4096;

  for (int64_t now = start_us; now < end_us; now += FRAME_US)
    {
      struct kefu_jitter_buffer_frame f = { 0 };
      struct sim_out o = { 0 };

      while (next < sim->packets->len
             && (pk = &g_array_index (sim->packets, struct sim_packet, next))->arrival_us <= now)
        {
          uint8_t payload[FRAME_TS] = { 0 };
          int rc;

          payload[0] = pk->id & 0xFF;
          payload[1] = (pk->id >> 8) & 0xFF;
          payload[2] = (pk->id >> 16) & 0xFF;
          rc = kefu_jitter_buffer_push (sim->jb, pk->ssrc, pk->seq, pk->ts, pk->marker,
                                        payload, sizeof payload, pk->arrival_us);
          if (rc == EALREADY)
            sim->n_dup++;
          else if (rc == ETIMEDOUT)
            sim->n_late_rc++;
          else
            g_assert_true (rc == 0 || rc == EAGAIN);
          next++;
        }

      o.result = kefu_jitter_buffer_pop (sim->jb, now, &f);
      o.now_us = now;
      if (o.result != KEFU_JITTER_BUFFER_NOTHING)
        {
          o.seq = f.seq;
          o.ts = f.timestamp;
        }
      if (o.result == KEFU_JITTER_BUFFER_FRAME)
        {
          g_assert_cmpuint (f.len, ==, FRAME_TS);
          o.id = f.payload[0] | (f.payload[1] << 8) | ((unsigned) f.payload[2] << 16);
          o.waited_us = now - f.arrival_us;
        }
      g_array_append_val (sim->out, o);
    }
}

/* The non-NOTHING results, in order. */
static GArray *
sim_played (struct sim *sim)
{
  GArray *a = g_array_new (FALSE, FALSE, sizeof (struct sim_out));

  for (guint i = 0; i < sim->out->len; i++)
    if (g_array_index (sim->out, struct sim_out, i).result != KEFU_JITTER_BUFFER_NOTHING)
      g_array_append_val (a, g_array_index (sim->out, struct sim_out, i));
  return a;
}

#define OUT(a, i) (g_array_index ((a), struct sim_out, (i)))

static void
test_jb_in_order (void)
{
  struct sim sim;
  struct kefu_jitter_buffer_stats st;
  g_autoptr (GArray) played = NULL;
  const unsigned n = 500;

  sim_init (&sim, 0, 0);
  for (unsigned i = 0; i < n; i++)
    sim_add (&sim, 0x1234, 1000 + i, 50000 + i * FRAME_TS, i == 0,
             1000000 + (int64_t) i * FRAME_US + 3000, i);
  sim_run (&sim, 1000000, 1000000 + (int64_t) (n + 10) * FRAME_US);

  played = sim_played (&sim);
  /* after the last packet a few frames are concealed before it goes quiet */
  g_assert_cmpuint (played->len, >=, n);
  g_assert_cmpuint (played->len, <=, n + 3);
  for (unsigned i = n; i < played->len; i++)
    g_assert_cmpint (OUT (played, i).result, ==, KEFU_JITTER_BUFFER_MISSING);
  for (unsigned i = 0; i < n; i++)
    {
      g_assert_cmpint (OUT (played, i).result, ==, KEFU_JITTER_BUFFER_FRAME);
      g_assert_cmpuint (OUT (played, i).id, ==, i);
      g_assert_cmpuint (OUT (played, i).seq, ==, 1000 + i);
      /* steady: every frame waits exactly as long as the first */
      g_assert_cmpint (OUT (played, i).waited_us, ==, OUT (played, 0).waited_us);
      /* and one pop after another */
      if (i > 0)
        g_assert_cmpint (OUT (played, i).now_us - OUT (played, i - 1).now_us, ==, FRAME_US);
    }
  g_assert_cmpint (OUT (played, 0).waited_us, >=, 0);
  /* the delay, rounded up to the next pop */
  g_assert_cmpint (OUT (played, 0).waited_us, <=, KEFU_JITTER_BUFFER_MIN_DELAY_MS * 1000 + FRAME_US);

  kefu_jitter_buffer_stats (sim.jb, &st);
  g_assert_cmpuint (st.received, ==, n);
  g_assert_cmpuint (st.expected, ==, n);
  g_assert_cmpuint (st.lost, ==, 0);
  g_assert_cmpuint (st.late, ==, 0);
  g_assert_cmpuint (st.duplicate, ==, 0);
  g_assert_cmpuint (st.reordered, ==, 0);
  g_assert_cmpuint (st.played, ==, n);
  g_assert_cmpfloat (st.jitter_ms, <, 0.001);
  g_assert_cmpuint (st.target_delay_ms, ==, KEFU_JITTER_BUFFER_MIN_DELAY_MS);
  g_assert_cmpuint (st.current_delay_ms, ==, KEFU_JITTER_BUFFER_MIN_DELAY_MS);
  g_assert_cmpfloat (st.mos, >, 4.0);
  sim_clear (&sim);
}

static void
test_jb_reorder_and_duplicates (void)
{
  struct sim sim;
  struct kefu_jitter_buffer_stats st;
  g_autoptr (GArray) played = NULL;
  const unsigned n = 300;
  unsigned swaps = 0, dups = 0;

  sim_init (&sim, 60, 0);
  for (unsigned i = 0; i < n; i++)
    {
      int64_t arrival = (int64_t) i * FRAME_US + 1000;

      /* every 10th packet overtakes its predecessor */
      if (i % 10 == 5)
        {
          arrival += 25000;
          swaps++;
        }
      sim_add (&sim, 7, (uint16_t) (60000 + i), i * FRAME_TS, false, arrival, i);
      /* every 7th is duplicated, the copy 5 ms or 30 ms later */
      if (i % 7 == 3)
        {
          sim_add (&sim, 7, (uint16_t) (60000 + i), i * FRAME_TS, false,
                   arrival + (i % 2 ? 5000 : 30000), i);
          dups++;
        }
    }
  sim_run (&sim, 0, (int64_t) (n + 20) * FRAME_US);

  played = sim_played (&sim);
  g_assert_cmpuint (played->len, >=, n);
  for (unsigned i = 0; i < n; i++)
    {
      g_assert_cmpint (OUT (played, i).result, ==, KEFU_JITTER_BUFFER_FRAME);
      g_assert_cmpuint (OUT (played, i).id, ==, i);
    }
  kefu_jitter_buffer_stats (sim.jb, &st);
  g_assert_cmpuint (st.reordered, ==, swaps);
  g_assert_cmpuint (st.duplicate, ==, dups);
  g_assert_cmpuint (sim.n_dup, ==, dups);
  g_assert_cmpuint (st.received, ==, n);
  g_assert_cmpuint (st.lost, ==, 0);
  g_assert_cmpuint (st.late, ==, 0);
  sim_clear (&sim);
}

static void
test_jb_random_loss (void)
{
  struct sim sim;
  struct kefu_jitter_buffer_stats st;
  g_autoptr (GArray) played = NULL;
  g_autoptr (GRand) rand = g_rand_new_with_seed (20240611);
  const unsigned n = 2000;
  g_autofree bool *dropped = g_new0 (bool, n);
  unsigned n_dropped = 0;

  sim_init (&sim, 0, 0);
  for (unsigned i = 0; i < n; i++)
    {
      /* 5 %, but keep the first and the last so the stream's ends are known */
      if (i > 0 && i < n - 1 && g_rand_double (rand) < 0.05)
        {
          dropped[i] = true;
          n_dropped++;
          continue;
        }
      sim_add (&sim, 99, (uint16_t) i, 1000 + i * FRAME_TS, false,
               (int64_t) i * FRAME_US + 500, i);
    }
  sim_run (&sim, 0, (int64_t) (n + 10) * FRAME_US);

  played = sim_played (&sim);
  /* then EMPTY_CONCEAL frames after the end of the stream */
  g_assert_cmpuint (played->len, >=, n);
  for (unsigned i = 0; i < n; i++)
    {
      if (dropped[i])
        {
          g_assert_cmpint (OUT (played, i).result, ==, KEFU_JITTER_BUFFER_MISSING);
          g_assert_cmpuint (OUT (played, i).seq, ==, i);
          g_assert_cmpuint (OUT (played, i).ts, ==, 1000 + i * FRAME_TS);
        }
      else
        {
          g_assert_cmpint (OUT (played, i).result, ==, KEFU_JITTER_BUFFER_FRAME);
          g_assert_cmpuint (OUT (played, i).id, ==, i);
        }
    }
  kefu_jitter_buffer_stats (sim.jb, &st);
  g_assert_cmpuint (n_dropped, >, 60);
  g_assert_cmpuint (st.lost, ==, n_dropped);
  g_assert_cmpuint (st.expected, ==, n);
  g_assert_cmpuint (st.received, ==, n - n_dropped);
  g_assert_cmpfloat (fabs (st.loss_percent - 100.0 * n_dropped / n), <, 0.01);
  g_test_message ("5 %% loss: MOS %.2f", st.mos);
  sim_clear (&sim);
}

static void
test_jb_late (void)
{
  struct sim sim;
  struct kefu_jitter_buffer_stats st;
  g_autoptr (GArray) played = NULL;
  const unsigned n = 100;

  sim_init (&sim, 0, 0);
  for (unsigned i = 0; i < n; i++)
    sim_add (&sim, 5, (uint16_t) (i + 1), i * FRAME_TS, false,
             (int64_t) i * FRAME_US + (i == 40 ? 90000 : 0), i);
  sim_run (&sim, 0, (int64_t) (n + 10) * FRAME_US);

  played = sim_played (&sim);
  for (unsigned i = 0; i <= 40; i++)
    {
      if (i == 40)
        g_assert_cmpint (OUT (played, i).result, ==, KEFU_JITTER_BUFFER_MISSING);
      else
        g_assert_cmpuint (OUT (played, i).id, ==, i);
    }
  kefu_jitter_buffer_stats (sim.jb, &st);
  g_assert_cmpuint (st.late, ==, 1);
  g_assert_cmpuint (sim.n_late_rc, ==, 1);
  g_assert_cmpuint (st.lost, ==, 0);          /* it did arrive */
  g_assert_cmpuint (st.received, ==, n);
  g_assert_cmpfloat (st.loss_percent, >, 0.9); /* but the listener missed it */
  /* After it, the buffer waits longer for a while, and skips a frame or two
   * to come back down once one outlier is less than 2 % of the window; the
   * rest plays in order. */
  {
    unsigned last = 40, frames = 40;

    for (guint i = 41; i < played->len; i++)
      if (OUT (played, i).result == KEFU_JITTER_BUFFER_FRAME)
        {
          g_assert_cmpuint (OUT (played, i).id, >, last);
          last = OUT (played, i).id;
          frames++;
        }
    g_assert_cmpuint (last, ==, n - 1);
    g_assert_cmpuint (frames + st.discarded, ==, n - 1);
    g_assert_cmpuint (st.discarded, <=, 5);
    g_test_message ("late: %" G_GUINT64_FORMAT " frames skipped to shrink back", st.discarded);
  }
  sim_clear (&sim);
}

/* Uniform ±20 ms around the nominal time: RFC 3550's J is the mean of
 * |D| = |U1 - U2| for two independent uniform delays of width w = 40 ms,
 * i.e. w / 3 = 13.3 ms. */
static void
test_jb_jitter_estimate_and_adaptation (void)
{
  struct sim sim;
  struct kefu_jitter_buffer_stats st;
  g_autoptr (GRand) rand = g_rand_new_with_seed (42);
  const unsigned calm1 = 250, jittery = 1500, calm2 = 750;
  const unsigned n = calm1 + jittery + calm2;
  const int64_t offset = 100000;
  double jitter_sum = 0;
  unsigned jitter_n = 0, max_target = 0;

  sim_init (&sim, 0, 0);
  for (unsigned i = 0; i < n; i++)
    {
      int64_t d = 0;

      if (i >= calm1 && i < calm1 + jittery)
        d = g_rand_int_range (rand, -20000, 20001);
      sim_add (&sim, 3, (uint16_t) i, i * FRAME_TS, false, offset + (int64_t) i * FRAME_US + d, i);
    }

  /* drive it in steps so the statistics can be sampled on the way */
  {
    GArray *pk = sim.packets;
    guint next = 0;

    for (guint i = 0; i < pk->len; i++)
      g_array_index (pk, struct sim_packet, i).arrival_us =
        g_array_index (pk, struct sim_packet, i).arrival_us * 4096 + i;
    g_array_sort (pk, compare_arrival);
    for (guint i = 0; i < pk->len; i++)
      g_array_index (pk, struct sim_packet, i).arrival_us /= 4096;

    for (unsigned tick = 0; tick < n + 10; tick++)
      {
        int64_t now = offset + (int64_t) tick * FRAME_US;
        struct kefu_jitter_buffer_frame f;
        struct sim_packet *p;
        uint8_t payload[4] = { 0 };

        while (next < pk->len && (p = &g_array_index (pk, struct sim_packet, next))->arrival_us <= now)
          {
            kefu_jitter_buffer_push (sim.jb, p->ssrc, p->seq, p->ts, false, payload, sizeof payload,
                                     p->arrival_us);
            next++;
          }
        kefu_jitter_buffer_pop (sim.jb, now, &f);
        kefu_jitter_buffer_stats (sim.jb, &st);

        g_assert_cmpuint (st.target_delay_ms, >=, KEFU_JITTER_BUFFER_MIN_DELAY_MS);
        g_assert_cmpuint (st.target_delay_ms, <=, KEFU_JITTER_BUFFER_MAX_DELAY_MS);
        g_assert_cmpuint (st.current_delay_ms, <=, KEFU_JITTER_BUFFER_MAX_DELAY_MS);

        if (tick == calm1 - 1)
          {
            g_assert_cmpuint (st.target_delay_ms, ==, KEFU_JITTER_BUFFER_MIN_DELAY_MS);
            g_assert_cmpfloat (st.jitter_ms, <, 0.001);
          }
        if (tick >= calm1 + 200 && tick < calm1 + jittery)
          {
            jitter_sum += st.jitter_ms;
            jitter_n++;
            max_target = MAX (max_target, st.target_delay_ms);
            /* the buffer now holds what the jitter needs */
            g_assert_cmpuint (st.target_delay_ms, >=, 35);
            g_assert_cmpuint (st.current_delay_ms, >=, 30);
          }
        if (tick == calm1 + jittery - 1)
          {
            g_test_message ("under jitter: target %u ms, current %u ms, late %" G_GUINT64_FORMAT
                            ", MOS %.2f", st.target_delay_ms, st.current_delay_ms, st.late, st.mos);
            /* the percentile keeps lateness to a few percent */
            g_assert_cmpuint (st.late, <, jittery * 3 / 100);
            g_assert_cmpfloat (st.mos, >, 3.8);
          }
      }
  }
  kefu_jitter_buffer_stats (sim.jb, &st);
  g_test_message ("mean J %.2f ms over %u samples; max target %u ms; after: target %u current %u",
                  jitter_sum / jitter_n, jitter_n, max_target, st.target_delay_ms,
                  st.current_delay_ms);
  /* a little above w / 3: J is taken between consecutive arrivals, and
   * the ±20 ms reorders packets, which makes those pairs differ more */
  g_assert_cmpfloat (fabs (jitter_sum / jitter_n - 40.0 / 3.0), <, 1.5);
  g_assert_cmpuint (max_target, <=, 60);
  /* calm again: back to the minimum, and the real delay follows */
  g_assert_cmpuint (st.target_delay_ms, ==, KEFU_JITTER_BUFFER_MIN_DELAY_MS);
  g_assert_cmpuint (st.current_delay_ms, <, KEFU_JITTER_BUFFER_MIN_DELAY_MS + 20);
  g_assert_cmpfloat (st.jitter_ms, <, 1.0);
  g_assert_cmpuint (st.lost, ==, 0);
  sim_clear (&sim);
}

static void
test_jb_wrap (void)
{
  struct sim sim;
  struct kefu_jitter_buffer_stats st;
  g_autoptr (GArray) played = NULL;
  const unsigned n = 200;

  sim_init (&sim, 0, 0);
  for (unsigned i = 0; i < n; i++)
    {
      unsigned k = i;

      /* a swap across both wraps, to make the unwrapping work for it */
      if (i == 100)
        k = 101;
      else if (i == 101)
        k = 100;
      sim_add (&sim, 1, (uint16_t) (65436 + k), (uint32_t) (4294967296ULL - 100 * FRAME_TS + k * FRAME_TS),
               false, (int64_t) i * FRAME_US, k);
    }
  sim_run (&sim, 0, (int64_t) (n + 10) * FRAME_US);

  played = sim_played (&sim);
  for (unsigned i = 0; i < n; i++)
    {
      g_assert_cmpint (OUT (played, i).result, ==, KEFU_JITTER_BUFFER_FRAME);
      g_assert_cmpuint (OUT (played, i).id, ==, i);
    }
  g_assert_cmpuint (OUT (played, 99).seq, ==, 65535);
  g_assert_cmpuint (OUT (played, 100).seq, ==, 0);
  g_assert_cmpuint (OUT (played, 99).ts, ==, 4294967296ULL - FRAME_TS);
  g_assert_cmpuint (OUT (played, 100).ts, ==, 0);
  kefu_jitter_buffer_stats (sim.jb, &st);
  g_assert_cmpuint (st.expected, ==, n);
  g_assert_cmpuint (st.lost, ==, 0);
  g_assert_cmpuint (st.late, ==, 0);
  g_assert_cmpuint (st.reordered, ==, 1);
  g_assert_cmpuint (st.resyncs, ==, 0);
  sim_clear (&sim);
}

static void
test_jb_resync (void)
{
  struct sim sim;
  struct kefu_jitter_buffer_stats st;
  g_autoptr (GArray) played = NULL;
  unsigned id = 0;
  int64_t t = 0;

  sim_init (&sim, 0, 0);
  /* stream A */
  for (unsigned i = 0; i < 50; i++, t += FRAME_US)
    sim_add (&sim, 0xAAAA, (uint16_t) (100 + i), 8000 + i * FRAME_TS, i == 0, t, id++);
  /* a new SSRC with unrelated numbers (a transfer, a re-INVITE) */
  for (unsigned i = 0; i < 50; i++, t += FRAME_US)
    sim_add (&sim, 0xBBBB, (uint16_t) (40000 + i), 3000000000u + i * FRAME_TS, i == 0, t, id++);
  /* the same SSRC restarting far away: held for one packet, then confirmed */
  for (unsigned i = 0; i < 50; i++, t += FRAME_US)
    sim_add (&sim, 0xBBBB, (uint16_t) (10000 + i), 100 + i * FRAME_TS, false, t, id++);
  /* and one stray packet that nothing confirms: dropped, no resync */
  sim_add (&sim, 0xBBBB, 30000, 7, false, t, 9999);
  t += FRAME_US;
  for (unsigned i = 0; i < 20; i++, t += FRAME_US)
    sim_add (&sim, 0xBBBB, (uint16_t) (10050 + i), 100 + (50 + i) * FRAME_TS, false, t, id++);
  sim_run (&sim, 0, t + 10 * FRAME_US);

  played = sim_played (&sim);
  {
    unsigned expect = 0;

    for (guint i = 0; i < played->len; i++)
      if (OUT (played, i).result == KEFU_JITTER_BUFFER_FRAME)
        g_assert_cmpuint (OUT (played, i).id, ==, expect++);
    g_assert_cmpuint (expect, ==, id);
  }
  kefu_jitter_buffer_stats (sim.jb, &st);
  g_assert_cmpuint (st.resyncs, ==, 2);
  g_assert_cmpuint (st.received, ==, id);
  g_assert_cmpuint (st.expected, ==, id);
  g_assert_cmpuint (st.lost, ==, 0);
  g_assert_cmpuint (st.late, ==, 0);
  sim_clear (&sim);
}

/* Silence suppression: the timestamp jumps, the sequence number does not. */
static void
test_jb_talkspurts (void)
{
  struct sim sim;
  struct kefu_jitter_buffer_stats st;
  g_autoptr (GArray) played = NULL;
  unsigned id = 0, frames = 0;
  uint16_t seq = 500;
  uint32_t ts = 0;
  int64_t t = 0;

  sim_init (&sim, 0, 0);
  for (unsigned spurt = 0; spurt < 3; spurt++)
    {
      for (unsigned i = 0; i < 40; i++, t += FRAME_US, ts += FRAME_TS)
        sim_add (&sim, 9, seq++, ts, i == 0 && spurt != 1, t, id++);
      /* 1 s of silence; the second talkspurt starts without a marker */
      t += 1000000;
      ts += 8000;
    }
  sim_run (&sim, 0, t + 10 * FRAME_US);

  played = sim_played (&sim);
  for (guint i = 0; i < played->len; i++)
    if (OUT (played, i).result == KEFU_JITTER_BUFFER_FRAME)
      g_assert_cmpuint (OUT (played, i).id, ==, frames++);
  g_assert_cmpuint (frames, ==, id);
  kefu_jitter_buffer_stats (sim.jb, &st);
  g_assert_cmpuint (st.lost, ==, 0);
  g_assert_cmpuint (st.late, ==, 0);
  /* only the ends of the talkspurts were concealed, a few frames each */
  g_assert_cmpuint (st.concealed, <=, 3 * 3);
  sim_clear (&sim);
}

static void
test_mos (void)
{
  double prev = 5.0;

  g_assert_cmpfloat (kefu_jitter_buffer_mos (0, 2, 40), >, 4.0);
  g_assert_cmpfloat (kefu_jitter_buffer_mos (10, 2, 40), <, 3.5);
  g_assert_cmpfloat (kefu_jitter_buffer_mos (10, 2, 40), >, 2.5);
  for (double loss = 0; loss <= 30; loss += 0.5)
    {
      double m = kefu_jitter_buffer_mos (loss, 5, 40);

      g_assert_cmpfloat (m, <, prev);
      g_assert_cmpfloat (m, >=, 1.0);
      prev = m;
    }
  /* more jitter or delay never helps */
  g_assert_cmpfloat (kefu_jitter_buffer_mos (1, 50, 40), <, kefu_jitter_buffer_mos (1, 5, 40));
  g_assert_cmpfloat (kefu_jitter_buffer_mos (1, 5, 400), <, kefu_jitter_buffer_mos (1, 5, 40));
  g_assert_cmpfloat (kefu_jitter_buffer_mos (100, 500, 2000), ==, 1.0);
  g_assert_cmpfloat (kefu_jitter_buffer_mos (0, 0, 0), <=, 4.5);
}

/* The statistics' MOS on a stream with 10 % loss. */
static void
test_jb_mos_under_loss (void)
{
  struct sim sim;
  struct kefu_jitter_buffer_stats st;

  sim_init (&sim, 0, 0);
  for (unsigned i = 0; i < 1000; i++)
    if (i % 10 != 5)   /* exactly 10 %, spread out */
      sim_add (&sim, 1, (uint16_t) i, i * FRAME_TS, false, (int64_t) i * FRAME_US, i);
  sim_run (&sim, 0, 1010 * FRAME_US);
  kefu_jitter_buffer_stats (sim.jb, &st);
  g_test_message ("10 %% loss: %.1f %%, MOS %.2f", st.loss_percent, st.mos);
  g_assert_cmpfloat (fabs (st.loss_percent - 10.0), <, 0.01);
  g_assert_cmpfloat (st.mos, <, 3.5);
  sim_clear (&sim);
}

static int
compare_int64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return (x > y) - (x < y);
}

/* The target delay is the 98th percentile of the last 128 transit times
 * (over their minimum), plus 5 ms: the buffer keeps that window sorted as
 * packets come; here it is sorted anew for every packet and the two must
 * agree, through ties (jitter in whole 10 ms), a window that fills and
 * slides, and a new SSRC, which starts the window over. */
static void
test_jb_target_window (void)
{
  struct kefu_jitter_buffer_config cfg = {
    .clock_rate = 8000, .frame_samples = FRAME_TS, .min_delay_ms = 20, .max_delay_ms = 1000,
  };
  struct kefu_jitter_buffer *jb;
  gint64 window[128], sorted[128];
  guint n = 0, next = 0;
  guint32 ssrc = 0x1234;

  g_assert_cmpint (kefu_jitter_buffer_alloc (&jb, &cfg), ==, 0);

  for (guint i = 0; i < 1500; i++)
    {
      struct kefu_jitter_buffer_stats stats;
      guint16 seq = (guint16) (i % 1000);
      guint32 ts = (i % 1000) * FRAME_TS;
      /* bursts of delay now and then, most packets on time */
      gint64 jitter = g_test_rand_int_range (0, 10) < 8 ? g_test_rand_int_range (0, 3) * 10000
                                                           : g_test_rand_int_range (0, 40) * 10000;
      gint64 arrival = 1000000 + (gint64) i * FRAME_US + jitter;
      gint64 target;
      guint idx;

      if (i == 1000)
        {
          ssrc = 0x5678;   /* a new stream, numbered from 0 again */
          n = next = 0;
        }
      g_assert_cmpint (kefu_jitter_buffer_push (jb, ssrc, seq, ts, FALSE, (const guint8 *) "x", 1,
                                                arrival), ==, 0);

      window[next] = arrival - (gint64) ts * G_USEC_PER_SEC / 8000;
      next = (next + 1) % G_N_ELEMENTS (window);
      n = MIN (n + 1, G_N_ELEMENTS (window));
      memcpy (sorted, window, n * sizeof sorted[0]);
      qsort (sorted, n, sizeof sorted[0], compare_int64);
      idx = (guint) ceil (0.98 * n) - 1;
      target = CLAMP (sorted[idx] - sorted[0] + 5000, 20000, 1000000);

      kefu_jitter_buffer_stats (jb, &stats);
      g_assert_cmpuint (stats.target_delay_ms, ==, (guint) (target / 1000));
    }

  kefu_jitter_buffer_free (jb);
}

/* --- WAV writer and call recorder ----------------------------------------- */

static char *
tmp_path (const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("kefu-media-XXXXXX", &error);

  g_assert_no_error (error);
  return g_build_filename (dir, name, NULL);
}

static void
remove_tmp (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);

  (void) g_unlink (path);
  (void) g_rmdir (dir);
}

/* Stereo written in uneven pieces across several buffer flushes: while it
 * is being written the file on disk is a valid WAV of what was flushed,
 * and once closed it holds every sample, in place. */
static void
test_wav_writer_stereo (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = tmp_path ("stereo.wav");
  const gsize n_frames = 3 * KEFU_WAV_WRITER_BUFFER / 4 + 1234;   /* past three flushes */
  g_autofree gint16 *in = g_new (gint16, 2 * n_frames);
  g_autofree gint16 *out = NULL;
  gsize done = 0, n = 0;
  guint channels = 0, rate = 0;
  KefuWavWriter *w;

  for (gsize i = 0; i < 2 * n_frames; i++)
    in[i] = (gint16) (i % 2 ? -(gint16) (i % 30000) : (gint16) (i * 7 % 65536 - 32768));

  w = kefu_wav_writer_new (path, 8000, 2, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (kefu_wav_writer_get_path (w), ==, path);

  /* right after creation: a valid, empty WAV */
  g_assert_true (kefu_wav_load_interleaved (path, &out, &n, &channels, &rate, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 0);
  g_assert_cmpuint (channels, ==, 2);
  g_assert_cmpuint (rate, ==, 8000);

  while (done < n_frames)
    {
      gsize piece = MIN (n_frames - done, 1 + done % 977);

      g_assert_true (kefu_wav_writer_write (w, in + 2 * done, piece, &error));
      done += piece;
    }
  g_assert_cmpuint (kefu_wav_writer_get_frames (w), ==, n_frames);

  /* before close, what was flushed (whole buffers) is there */
  g_assert_true (kefu_wav_load_interleaved (path, &out, &n, &channels, &rate, &error));
  g_assert_cmpuint (n, ==, 3 * KEFU_WAV_WRITER_BUFFER / 4);
  g_assert_cmpmem (out, n * 4, in, n * 4);
  g_clear_pointer (&out, g_free);

  g_assert_true (kefu_wav_writer_close (w, &error));
  g_assert_no_error (error);
  g_assert_true (kefu_wav_load_interleaved (path, &out, &n, &channels, &rate, &error));
  g_assert_cmpuint (n, ==, n_frames);
  g_assert_cmpuint (channels, ==, 2);
  g_assert_cmpmem (out, n * 4, in, n_frames * 4);
  g_clear_pointer (&out, g_free);

  /* the mono readers refuse it, as before */
  g_assert_false (kefu_wav_load (path, &out, &n, &rate, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "not mono"));
  g_clear_error (&error);

  remove_tmp (path);
}

/* Mono through the writer reads back with either reader. */
static void
test_wav_writer_mono (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = tmp_path ("mono.wav");
  gint16 in[500];
  g_autofree gint16 *out = NULL;
  gsize n = 0;
  guint channels = 0, rate = 0;
  g_autoptr (KefuWavWriter) w = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (in); i++)
    in[i] = (gint16) (i * 131);
  w = kefu_wav_writer_new (path, 16000, 1, &error);
  g_assert_no_error (error);
  g_assert_true (kefu_wav_writer_write (w, in, G_N_ELEMENTS (in), &error));
  g_assert_true (kefu_wav_writer_flush (w, &error));
  g_assert_true (kefu_wav_writer_close (g_steal_pointer (&w), &error));

  g_assert_true (kefu_wav_load (path, &out, &n, &rate, &error));
  g_assert_cmpuint (n, ==, G_N_ELEMENTS (in));
  g_assert_cmpuint (rate, ==, 16000);
  g_assert_cmpmem (out, n * 2, in, sizeof in);
  g_clear_pointer (&out, g_free);
  g_assert_true (kefu_wav_load_interleaved (path, &out, &n, &channels, &rate, &error));
  g_assert_cmpuint (channels, ==, 1);
  g_assert_cmpuint (n, ==, G_N_ELEMENTS (in));

  remove_tmp (path);
}

/* A bad path and a full disk are errors that name the file; after a
 * failed write the writer stays failed. */
static void
test_wav_writer_errors (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = tmp_path ("x.wav");
  g_autofree char *bad = g_build_filename (path, "no-such-dir", "call.wav", NULL);

  g_assert_null (kefu_wav_writer_new (bad, 8000, 2, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, bad));
  g_clear_error (&error);

  g_assert_null (kefu_wav_writer_new (path, 4000, 2, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));

  /* /dev/full takes the open and fails every write */
  if (g_file_test ("/dev/full", G_FILE_TEST_EXISTS))
    {
      g_assert_null (kefu_wav_writer_new ("/dev/full", 8000, 2, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE);
      g_assert_nonnull (strstr (error->message, "/dev/full"));
      g_clear_error (&error);
    }

  remove_tmp (path);
}

/* Our side on the left, theirs on the right; a missing side is silence. */
static void
test_call_recorder (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = tmp_path ("call.wav");
  g_autofree char *bad = g_build_filename (path, "no-such-dir", "call.wav", NULL);
  gint16 ours[400], theirs[400];
  g_autofree gint16 *out = NULL;
  gsize n = 0;
  guint channels = 0, rate = 0;
  KefuCallRecorder *rec;

  for (guint i = 0; i < 400; i++)
    {
      ours[i] = (gint16) (1000 + i);
      theirs[i] = (gint16) (-1000 - (gint) i);
    }

  g_assert_null (kefu_call_recorder_new (bad, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);

  rec = kefu_call_recorder_new (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (kefu_call_recorder_get_path (rec), ==, path);
  g_assert_true (kefu_call_recorder_write (rec, ours, theirs, 400, &error));
  g_assert_true (kefu_call_recorder_write (rec, NULL, theirs, 160, &error));
  g_assert_true (kefu_call_recorder_write (rec, ours, NULL, 160, &error));
  g_assert_cmpuint (kefu_call_recorder_get_duration_ms (rec), ==, 90);
  g_assert_true (kefu_call_recorder_finish (rec, &error));
  g_assert_no_error (error);

  g_assert_true (kefu_wav_load_interleaved (path, &out, &n, &channels, &rate, &error));
  g_assert_cmpuint (n, ==, 720);
  g_assert_cmpuint (channels, ==, 2);
  g_assert_cmpuint (rate, ==, 8000);
  for (guint i = 0; i < 400; i++)
    {
      g_assert_cmpint (out[2 * i], ==, ours[i]);
      g_assert_cmpint (out[2 * i + 1], ==, theirs[i]);
    }
  for (guint i = 0; i < 160; i++)
    {
      g_assert_cmpint (out[2 * (400 + i)], ==, 0);
      g_assert_cmpint (out[2 * (400 + i) + 1], ==, theirs[i]);
      g_assert_cmpint (out[2 * (560 + i)], ==, ours[i]);
      g_assert_cmpint (out[2 * (560 + i) + 1], ==, 0);
    }

  remove_tmp (path);
}

/* --- WAV reader and the file back-end ------------------------------------- */

static void
put_le (guint8 *p, guint32 v, guint bytes)
{
  for (guint i = 0; i < bytes; i++)
    p[i] = (v >> (8 * i)) & 0xff;
}

/* A mono 8 kHz WAV of n samples (sample i is i * 7, wrapping), with a LIST
 * chunk before its data as editors write them. */
static gint16 *
write_test_wav (const char *path, gsize n)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GByteArray) image = g_byte_array_new ();
  gint16 *samples = g_new (gint16, n);
  guint8 header[44 + 12];
  guint32 data_bytes = (guint32) (2 * n);

  for (gsize i = 0; i < n; i++)
    samples[i] = (gint16) (guint16) (i * 7);

  memcpy (header, "RIFF", 4);
  put_le (header + 4, 36 + 12 + data_bytes, 4);
  memcpy (header + 8, "WAVEfmt ", 8);
  put_le (header + 16, 16, 4);
  put_le (header + 20, 1, 2);       /* PCM */
  put_le (header + 22, 1, 2);       /* mono */
  put_le (header + 24, 8000, 4);
  put_le (header + 28, 16000, 4);
  put_le (header + 32, 2, 2);
  put_le (header + 34, 16, 2);
  memcpy (header + 36, "LIST", 4);
  put_le (header + 40, 3, 4);       /* odd: a pad byte follows */
  memcpy (header + 44, "abc", 4);
  memcpy (header + 48, "data", 4);
  put_le (header + 52, data_bytes, 4);
  g_byte_array_append (image, header, sizeof header);
  for (gsize i = 0; i < n; i++)
    {
      guint8 le[2];

      put_le (le, (guint16) samples[i], 2);
      g_byte_array_append (image, le, 2);
    }
  g_assert_true (g_file_set_contents (path, (const char *) image->data, image->len, &error));
  g_assert_no_error (error);

  return samples;
}

/* Read in 20 ms frames, the reader gives what the whole-file loader
 * gives, across its buffer's edges, to the end and again after a rewind. */
static void
test_wav_reader (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = tmp_path ("prompt.wav");
  const gsize n = 5 * KEFU_WAV_READER_BUFFER / 2 + 37;   /* two buffers and a bit */
  g_autofree gint16 *want = write_test_wav (path, n);
  g_autofree gint16 *loaded = NULL;
  g_autofree gint16 *got = g_new0 (gint16, n + 160);
  g_autoptr (KefuWavReader) reader = NULL;
  gsize n_loaded = 0, done = 0, n_read = 0;
  guint rate = 0;

  g_assert_true (kefu_wav_load (path, &loaded, &n_loaded, &rate, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n_loaded, ==, n);
  g_assert_cmpmem (loaded, n * 2, want, n * 2);

  reader = kefu_wav_reader_new (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (kefu_wav_reader_get_rate (reader), ==, 8000);
  g_assert_cmpuint (kefu_wav_reader_get_frames (reader), ==, n);
  g_assert_cmpstr (kefu_wav_reader_get_path (reader), ==, path);

  for (int pass = 0; pass < 2; pass++)
    {
      done = 0;
      do
        {
          g_assert_true (kefu_wav_reader_read (reader, got + done, 160, &n_read, &error));
          g_assert_no_error (error);
          done += n_read;
        }
      while (n_read == 160);
      g_assert_cmpuint (done, ==, n);
      g_assert_cmpmem (got, n * 2, want, n * 2);
      g_assert_true (kefu_wav_reader_read (reader, got, 160, &n_read, &error));
      g_assert_cmpuint (n_read, ==, 0);
      kefu_wav_reader_rewind (reader);
    }

  /* cut short behind the reader's back: an error naming the file */
  g_assert_cmpint (truncate (path, 100), ==, 0);
  kefu_wav_reader_rewind (reader);
  while (kefu_wav_reader_read (reader, got, 160, &n_read, &error))
    g_assert_cmpuint (n_read, ==, 160);
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_IO);
  g_assert_nonnull (strstr (error->message, path));
  g_clear_error (&error);
  g_clear_pointer (&reader, kefu_wav_reader_free);

  /* header errors name the file; a missing one is NOENT */
  g_assert_null (kefu_wav_reader_new (path, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, "truncated"));
  g_clear_error (&error);
  remove_tmp (path);
  g_assert_null (kefu_wav_reader_new (path, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_nonnull (strstr (error->message, path));
}

/* The file source plays the WAV a frame at a time, looping or falling
 * silent at its end, as it did when it held the whole file. */
static void
test_file_source (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = tmp_path ("in.wav");
  const gsize n = 3 * KEFU_WAV_READER_BUFFER / 2 + 50;   /* not a whole number of frames */
  g_autofree gint16 *want = write_test_wav (path, n);
  gint16 frame[KEFU_AUDIO_FRAME_SAMPLES];
  struct kefu_audio_source *src;
  gsize pos = 0;

  for (int loop = 0; loop < 2; loop++)
    {
      src = kefu_audio_file_source_new (path, loop, &error);
      g_assert_no_error (error);
      pos = 0;
      for (guint f = 0; f < 3 * n / KEFU_AUDIO_FRAME_SAMPLES; f++)
        {
          bool more = kefu_audio_source_read (src, frame, G_N_ELEMENTS (frame));

          for (guint i = 0; i < G_N_ELEMENTS (frame); i++, pos++)
            {
              gint16 expect = loop ? want[pos % n] : pos < n ? want[pos] : 0;

              g_assert_cmpint (frame[i], ==, expect);
            }
          /* the frame that ends a file that does not loop still had sound */
          g_assert_true (more == (loop || pos - G_N_ELEMENTS (frame) < n));
        }
      kefu_audio_source_free (src);
    }

  /* errors at open name the file */
  g_assert_true (kefu_wav_save (path, want, 100, 16000, &error));
  g_assert_null (kefu_audio_file_source_new (path, TRUE, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, "16000 Hz"));
  g_clear_error (&error);
  remove_tmp (path);
  g_assert_null (kefu_audio_file_source_new (path, TRUE, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_nonnull (strstr (error->message, path));
}

static GPtrArray *
dir_entries (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  while ((name = g_dir_read_name (d)))
    g_ptr_array_add (names, g_strdup (name));
  return names;
}

/* The file sink streams to a file beside the one named and puts it in
 * place when freed; of two sinks on one path (a call, then the conference
 * it joins), the one freed last is what stays. */
static void
test_file_sink (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = tmp_path ("out.wav");
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *bad = g_build_filename (dir, "no-such-dir", "out.wav", NULL);
  gint16 frame[KEFU_AUDIO_FRAME_SAMPLES];
  g_autofree gint16 *out = NULL;
  struct kefu_audio_sink *first, *second;
  g_autoptr (GPtrArray) names = NULL;
  gsize n = 0;
  guint rate = 0;

  first = kefu_audio_file_sink_new (path, &error);
  g_assert_no_error (error);
  second = kefu_audio_file_sink_new (path, &error);
  g_assert_no_error (error);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));

  /* 100 s of audio: more than the writer ever holds */
  for (guint f = 0; f < 5000; f++)
    {
      for (guint i = 0; i < G_N_ELEMENTS (frame); i++)
        frame[i] = (gint16) (f * 3 + i);
      kefu_audio_sink_write (first, frame, G_N_ELEMENTS (frame));
      for (guint i = 0; i < G_N_ELEMENTS (frame); i++)
        frame[i] = (gint16) -(gint) i;
      if (f < 50)
        kefu_audio_sink_write (second, frame, G_N_ELEMENTS (frame));
    }
  names = dir_entries (dir);
  g_assert_cmpuint (names->len, ==, 2);   /* out.wav.XXXXXX twice */
  g_clear_pointer (&names, g_ptr_array_unref);

  kefu_audio_sink_free (first);
  g_assert_true (kefu_wav_load (path, &out, &n, &rate, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 5000 * G_N_ELEMENTS (frame));
  g_assert_cmpuint (rate, ==, 8000);
  g_assert_cmpint (out[4999 * G_N_ELEMENTS (frame) + 7], ==, (gint16) (4999 * 3 + 7));
  g_clear_pointer (&out, g_free);

  kefu_audio_sink_free (second);
  g_assert_true (kefu_wav_load (path, &out, &n, &rate, &error));
  g_assert_cmpuint (n, ==, 50 * G_N_ELEMENTS (frame));
  g_assert_cmpint (out[7], ==, -7);
  names = dir_entries (dir);
  g_assert_cmpuint (names->len, ==, 1);   /* nothing left beside it */

  /* a directory that is not there: at once, naming the file */
  g_assert_null (kefu_audio_file_sink_new (bad, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_nonnull (strstr (error->message, bad));
  g_clear_error (&error);

  remove_tmp (path);
}

static gboolean
libpulse_is_mapped (void)
{
  g_autofree char *maps = NULL;

  g_assert_true (g_file_get_contents ("/proc/self/maps", &maps, NULL, NULL));
  return strstr (maps, "libpulse") != NULL;
}

/* Without its module, the Pulse back-end is an error that says so, not a
 * crash; and nothing of libpulse is loaded by using the other back-ends. */
static void
test_pulse_not_installed (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("kefu-modules-XXXXXX", NULL);
  g_autofree char *saved = g_strdup (g_getenv ("KEFU_MODULE_DIR"));
  struct kefu_audio_source *src = NULL;
  struct kefu_audio_sink *sink = NULL;
  GPtrArray *sources = NULL, *sinks = NULL;

  g_assert_true (kefu_audio_open ("null", false, &src, &sink, &error));
  kefu_audio_source_free (src);
  kefu_audio_sink_free (sink);
  g_assert_false (libpulse_is_mapped ());

  g_setenv ("KEFU_MODULE_DIR", dir, TRUE);

  g_assert_false (kefu_audio_open ("pulse", false, &src, &sink, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "PulseAudio support is not installed"));
  g_assert_nonnull (strstr (error->message, dir));
  g_clear_error (&error);

  g_assert_false (kefu_audio_pulse_list_devices (&sources, &sinks, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);

  g_assert_null (kefu_ringer_new (NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);

  if (saved)
    g_setenv ("KEFU_MODULE_DIR", saved, TRUE);
  else
    g_unsetenv ("KEFU_MODULE_DIR");
  g_assert_false (libpulse_is_mapped ());
  (void) g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/media/g711/known-values", test_g711_known_values);
  g_test_add_func ("/media/g711/tables", test_g711_tables);
  g_test_add_func ("/media/g711/codes-round-trip", test_g711_codes_round_trip);
  g_test_add_func ("/media/g711/samples-round-trip", test_g711_samples_round_trip);
  g_test_add_func ("/media/jitter-buffer/in-order", test_jb_in_order);
  g_test_add_func ("/media/jitter-buffer/reorder-duplicates", test_jb_reorder_and_duplicates);
  g_test_add_func ("/media/jitter-buffer/random-loss", test_jb_random_loss);
  g_test_add_func ("/media/jitter-buffer/late", test_jb_late);
  g_test_add_func ("/media/jitter-buffer/jitter-adaptation", test_jb_jitter_estimate_and_adaptation);
  g_test_add_func ("/media/jitter-buffer/wrap", test_jb_wrap);
  g_test_add_func ("/media/jitter-buffer/resync", test_jb_resync);
  g_test_add_func ("/media/jitter-buffer/talkspurts", test_jb_talkspurts);
  g_test_add_func ("/media/jitter-buffer/target-window", test_jb_target_window);
  g_test_add_func ("/media/mos/model", test_mos);
  g_test_add_func ("/media/mos/stream", test_jb_mos_under_loss);
  g_test_add_func ("/media/wav/writer-stereo", test_wav_writer_stereo);
  g_test_add_func ("/media/wav/writer-mono", test_wav_writer_mono);
  g_test_add_func ("/media/wav/writer-errors", test_wav_writer_errors);
  g_test_add_func ("/media/call-recorder", test_call_recorder);
  g_test_add_func ("/media/wav/reader", test_wav_reader);
  g_test_add_func ("/media/audio-file/source", test_file_source);
  g_test_add_func ("/media/audio-file/sink", test_file_sink);
  g_test_add_func ("/media/audio-pulse/not-installed", test_pulse_not_installed);

  return g_test_run ();
}
