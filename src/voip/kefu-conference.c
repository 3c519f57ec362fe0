/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The local three-party conference on librem's aumix.
 */
#define G_LOG_DOMAIN "KefuConference"

#include "config.h"

#include "kefu-conference.h"

#include <errno.h>
#include <string.h>

#define HAVE_INTTYPES_H 1
#define HAVE_STDBOOL_H 1
#define HAVE_INET6 1
#include <re.h>
#include <rem.h>

enum {
  PTIME_MS = 20,
  FRAME = KEFU_AUDIO_FRAME_SAMPLES,
  /* What waits for a call's RTP stream: aumix and the stream tick on two
   * clocks, so a few frames absorb the drift and the scheduling; more
   * would only add delay, so the oldest frame goes when it is full. */
  RING_FRAMES = 6,
};

struct kefu_conference {
  GMutex lock;                          /* the rings, stopped */
  gint refs;                            /* the conference + each party */
  gboolean stopped;

  struct aumix *mix;                    /* libre memory */
  struct aumix_source *local;           /* the agent's voice in the mix */
  struct kefu_audio_source *local_src;  /* owned; aumix's thread only */
  struct kefu_audio_sink *local_sink;
  guint parties;
};

/* One call in the conference; its two port ends own it. */
struct party {
  struct kefu_conference *conf;
  struct aumix_source *amx;
  int ends;
  int16_t ring[RING_FRAMES][FRAME];     /* the mix for this call */
  guint head;
  guint count;
};

static void
conference_unref (struct kefu_conference *conf)
{
  if (!g_atomic_int_dec_and_test (&conf->refs))
    return;

  /* the last party is gone: no source is left, so aumix's thread may
   * be joined now */
  mem_deref (conf->mix);
  g_mutex_clear (&conf->lock);
  g_free (conf);
}

/* aumix's thread, under its lock: the agent hears everyone else, and the
 * agent's next frame goes into the mix. */
static void
on_local_frame (const int16_t *sampv, size_t sampc, void *arg)
{
  struct kefu_conference *conf = arg;
  int16_t frame[FRAME];

  kefu_audio_sink_write (conf->local_sink, sampv, sampc);
  kefu_audio_source_read (conf->local_src, frame, FRAME);
  (void) aumix_source_put (conf->local, frame, FRAME);
}

/* aumix's thread: the mix for one call, kept until its stream takes it. */
static void
on_party_frame (const int16_t *sampv, size_t sampc, void *arg)
{
  struct party *p = arg;
  guint tail;

  if (sampc != FRAME)
    return;

  g_mutex_lock (&p->conf->lock);
  if (p->count == RING_FRAMES)
    {
      p->head = (p->head + 1) % RING_FRAMES;
      p->count--;
    }
  tail = (p->head + p->count) % RING_FRAMES;
  memcpy (p->ring[tail], sampv, sizeof p->ring[tail]);
  p->count++;
  g_mutex_unlock (&p->conf->lock);
}

static bool
party_read (void *impl, int16_t *samples, size_t n)
{
  struct party *p = impl;
  size_t done = 0;

  g_mutex_lock (&p->conf->lock);
  while (!p->conf->stopped && p->count && done < n)
    {
      size_t chunk = MIN (n - done, (size_t) FRAME);

      memcpy (samples + done, p->ring[p->head], chunk * sizeof *samples);
      p->head = (p->head + 1) % RING_FRAMES;
      p->count--;
      done += chunk;
    }
  g_mutex_unlock (&p->conf->lock);

  if (done < n)
    memset (samples + done, 0, (n - done) * sizeof *samples);

  return true;
}

static void
party_write (void *impl, const int16_t *samples, size_t n)
{
  struct party *p = impl;

  if (!g_atomic_int_get (&p->conf->stopped))
    (void) aumix_source_put (p->amx, samples, n);
}

static void
party_end_free (void *impl)
{
  struct party *p = impl;
  struct kefu_conference *conf = p->conf;

  if (--p->ends > 0)
    {
      /* half a port is no party: it stops being mixed at once */
      if (p->amx)
        {
          p->amx = mem_deref (p->amx);
          conf->parties--;
        }
      return;
    }

  if (p->amx)
    {
      p->amx = mem_deref (p->amx);
      conf->parties--;
    }
  g_free (p);
  conference_unref (conf);
}

static const struct kefu_audio_source_backend party_source_ops = {
  .read = party_read,
  .free = party_end_free,
};

static const struct kefu_audio_sink_backend party_sink_ops = {
  .write = party_write,
  .free = party_end_free,
};

/**
 * A conference mixing the agent (@local_src, @local_sink, owned from now
 * on) with the calls that take a port.
 */
int
kefu_conference_alloc (struct kefu_conference **confp,
                       struct kefu_audio_source *local_src,
                       struct kefu_audio_sink *local_sink)
{
  struct kefu_conference *conf;
  int err;

  if (!confp)
    return EINVAL;

  conf = g_new0 (struct kefu_conference, 1);
  g_mutex_init (&conf->lock);
  conf->refs = 1;
  conf->local_src = local_src ? local_src : kefu_audio_null_source_new ();
  conf->local_sink = local_sink ? local_sink : kefu_audio_null_sink_new ();

  err = aumix_alloc (&conf->mix, KEFU_AUDIO_RATE, 1, PTIME_MS);
  if (!err)
    err = aumix_source_alloc (&conf->local, conf->mix, on_local_frame, conf);
  if (err)
    {
      kefu_conference_free (conf);
      return err;
    }
  aumix_source_enable (conf->local, true);

  *confp = conf;
  return 0;
}

int
kefu_conference_port (struct kefu_conference *conf,
                      struct kefu_audio_source **srcp,
                      struct kefu_audio_sink **sinkp)
{
  struct party *p;
  int err;

  if (!conf || !srcp || !sinkp || conf->stopped)
    return EINVAL;

  p = g_new0 (struct party, 1);
  p->conf = conf;
  err = aumix_source_alloc (&p->amx, conf->mix, on_party_frame, p);
  if (err)
    {
      g_free (p);
      return err;
    }

  p->ends = 2;
  g_atomic_int_inc (&conf->refs);
  conf->parties++;
  *srcp = kefu_audio_source_new (&party_source_ops, p);
  *sinkp = kefu_audio_sink_new (&party_sink_ops, p);
  aumix_source_enable (p->amx, true);

  return 0;
}

guint
kefu_conference_parties (const struct kefu_conference *conf)
{
  return conf ? conf->parties : 0;
}

void
kefu_conference_free (struct kefu_conference *conf)
{
  if (!conf)
    return;

  g_atomic_int_set (&conf->stopped, TRUE);

  /* once the local source is out of the mix, aumix's thread no longer
   * touches the agent's back-ends */
  conf->local = mem_deref (conf->local);
  kefu_audio_source_free (conf->local_src);
  kefu_audio_sink_free (conf->local_sink);
  conf->local_src = NULL;
  conf->local_sink = NULL;

  conference_unref (conf);
}
