/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The local conference: the agent and two calls, each injecting its own
 * tone; everyone must hear the two others and never themselves, and a
 * party that leaves stops being heard while the other two carry on.
 */
#include "config.h"

#include <glib.h>
#include <math.h>
#include <string.h>

#define HAVE_INTTYPES_H 1
#define HAVE_STDBOOL_H 1
#define HAVE_INET6 1
#include <re.h>

#include "kefu-conference.h"

enum { FRAME = KEFU_AUDIO_FRAME_SAMPLES };

/* A tone source or a capturing sink, through the plug-in ops. */
typedef struct {
  double freq;
  guint64 n;
  GMutex lock;
  GArray *heard;    /* gint16 */
} Party;

static bool
tone_read (void *impl, int16_t *samples, size_t n)
{
  Party *p = impl;

  for (size_t i = 0; i < n; i++, p->n++)
    samples[i] = (int16_t) (4000.0 * sin (2 * G_PI * p->freq * (double) p->n / KEFU_AUDIO_RATE));
  return true;
}

static void
capture_write (void *impl, const int16_t *samples, size_t n)
{
  Party *p = impl;

  g_mutex_lock (&p->lock);
  g_array_append_vals (p->heard, samples, n);
  g_mutex_unlock (&p->lock);
}

static void
nothing_free (void *impl)
{
}

static const struct kefu_audio_source_backend tone_ops = { tone_read, nothing_free };
static const struct kefu_audio_sink_backend capture_ops = { capture_write, nothing_free };

static void
party_init (Party *p, double freq)
{
  p->freq = freq;
  p->n = 0;
  g_mutex_init (&p->lock);
  p->heard = g_array_new (FALSE, TRUE, sizeof (gint16));
}

static void
party_clear (Party *p)
{
  g_array_unref (p->heard);
  g_mutex_clear (&p->lock);
}

/* Goertzel power of @freq over the samples heard from @from on, relative
 * to the signal's energy: about 0.5 for a pure tone, ~0 when absent. */
static double
tone_share (Party *p, guint from, double freq)
{
  double coeff = 2 * cos (2 * G_PI * freq / KEFU_AUDIO_RATE);
  double s1 = 0, s2 = 0, energy = 0;
  guint len;

  g_mutex_lock (&p->lock);
  len = p->heard->len;
  for (guint i = from; i < len; i++)
    {
      double x = g_array_index (p->heard, gint16, i);
      double s0 = x + coeff * s1 - s2;

      s2 = s1;
      s1 = s0;
      energy += x * x;
    }
  g_mutex_unlock (&p->lock);

  if (energy <= 0 || len <= from)
    return 0;
  return (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (energy * (len - from) / 2);
}

/* The two calls' RTP streams, ticking every 20 ms on this thread. */
static void
run_calls (struct kefu_audio_source **src, struct kefu_audio_sink **sink, Party *far,
           Party *heard, guint n_calls, guint ms)
{
  for (guint t = 0; t < ms; t += 20)
    {
      for (guint c = 0; c < n_calls; c++)
        {
          int16_t frame[FRAME];

          if (!src[c])
            continue;
          tone_read (&far[c], frame, FRAME);
          kefu_audio_sink_write (sink[c], frame, FRAME);
          kefu_audio_source_read (src[c], frame, FRAME);
          capture_write (&heard[c], frame, FRAME);
        }
      g_usleep (20000);
    }
}

static void
test_each_party_hears_the_two_others (void)
{
  Party agent_voice, agent_ear, far[2], heard[2];
  struct kefu_conference *conf = NULL;
  struct kefu_audio_source *src[2] = { NULL, NULL };
  struct kefu_audio_sink *sink[2] = { NULL, NULL };
  const double f_agent = 697, f_a = 1209, f_c = 1633;
  guint from;

  party_init (&agent_voice, f_agent);
  party_init (&agent_ear, 0);
  party_init (&far[0], f_a);
  party_init (&far[1], f_c);
  party_init (&heard[0], 0);
  party_init (&heard[1], 0);

  g_assert_cmpint (kefu_conference_alloc (&conf,
                                          kefu_audio_source_new (&tone_ops, &agent_voice),
                                          kefu_audio_sink_new (&capture_ops, &agent_ear)),
                   ==, 0);
  g_assert_cmpint (kefu_conference_port (conf, &src[0], &sink[0]), ==, 0);
  g_assert_cmpint (kefu_conference_port (conf, &src[1], &sink[1]), ==, 0);
  g_assert_cmpuint (kefu_conference_parties (conf), ==, 2);

  run_calls (src, sink, far, heard, 2, 1500);

  /* the agent hears A and C, A hears the agent and C, C hears the agent
   * and A; nobody hears their own voice back */
  g_assert_cmpfloat (tone_share (&agent_ear, 4000, f_a), >, 0.1);
  g_assert_cmpfloat (tone_share (&agent_ear, 4000, f_c), >, 0.1);
  g_assert_cmpfloat (tone_share (&agent_ear, 4000, f_agent), <, 0.01);
  g_assert_cmpfloat (tone_share (&heard[0], 4000, f_agent), >, 0.1);
  g_assert_cmpfloat (tone_share (&heard[0], 4000, f_c), >, 0.1);
  g_assert_cmpfloat (tone_share (&heard[0], 4000, f_a), <, 0.01);
  g_assert_cmpfloat (tone_share (&heard[1], 4000, f_agent), >, 0.1);
  g_assert_cmpfloat (tone_share (&heard[1], 4000, f_a), >, 0.1);
  g_assert_cmpfloat (tone_share (&heard[1], 4000, f_c), <, 0.01);

  /* A leaves: the agent and C go on talking, without A */
  kefu_audio_source_free (src[0]);
  kefu_audio_sink_free (sink[0]);
  src[0] = NULL;
  sink[0] = NULL;
  g_assert_cmpuint (kefu_conference_parties (conf), ==, 1);
  g_usleep (300000);
  g_mutex_lock (&agent_ear.lock);
  from = agent_ear.heard->len;
  g_mutex_unlock (&agent_ear.lock);
  run_calls (src, sink, far, heard, 2, 1000);
  g_assert_cmpfloat (tone_share (&agent_ear, from, f_c), >, 0.2);
  g_assert_cmpfloat (tone_share (&agent_ear, from, f_a), <, 0.01);

  /* the conference ends before C's stream lets go of its port: C's
   * end falls silent, and freeing it later is fine */
  kefu_conference_free (conf);
  {
    int16_t frame[FRAME];

    kefu_audio_source_read (src[1], frame, FRAME);
    for (guint i = 0; i < FRAME; i++)
      g_assert_cmpint (frame[i], ==, 0);
  }
  kefu_audio_source_free (src[1]);
  kefu_audio_sink_free (sink[1]);

  party_clear (&agent_voice);
  party_clear (&agent_ear);
  for (guint i = 0; i < 2; i++)
    {
      party_clear (&far[i]);
      party_clear (&heard[i]);
    }
}

int
main (int argc, char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  (void) libre_init ();

  g_test_add_func ("/conference/each-party-hears-the-two-others",
                   test_each_party_hears_the_two_others);

  ret = g_test_run ();
  libre_close ();
  return ret;
}
