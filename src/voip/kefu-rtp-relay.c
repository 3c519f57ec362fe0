/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The two ways of bridging two RTP streams (kefu-rtp-relay.h).
 * libre-facing: libre's tabs.
 */
#define G_LOG_DOMAIN "KefuRtpRelay"

#include "config.h"

#include "kefu-rtp-relay.h"

#include <errno.h>
#include <gio/gio.h>
#include <string.h>

#define HAVE_INTTYPES_H 1
#define HAVE_STDBOOL_H 1
#define HAVE_INET6 1
#include <re.h>

#include "kefu-audio-file.h"
#include "kefu-call-recorder.h"

enum {
	FRAME = KEFU_AUDIO_FRAME_SAMPLES,
	PIPE_FRAMES = 16,        /* at most 320 ms waiting: drift is dropped */
	PIPE_DELAY = 2,          /* the two streams' ticks are not in step */
	REC_SKEW = 10,           /* frames one side may run ahead */
	INBAND_HANGOVER = 2,     /* frames still held back after a tone */
};

/* One direction of a decoded bridge: frames played by one stream, to be
 * sent by the other. */
struct pipe {
	int16_t frames[PIPE_FRAMES][FRAME];
	unsigned head;           /* oldest */
	unsigned count;
	uint64_t *counter;       /* the relay's stats, NULL once it is gone */
};

/* The recording of a decoded bridge: frames of each side wait until the
 * other side's frame of the same moment comes. */
struct rec {
	KefuCallRecorder *rec;
	GArray *pending[2];      /* int16_t */
};

/* What a stream's sink does in a decoded bridge. */
struct tap {
	struct pipe *pipe;       /* to the other stream */
	struct rec *rec;         /* or NULL */
	unsigned channel;
	struct kefu_rtp_stream *stream;   /* whose playout this is */
	bool suppress;
	unsigned hangover;
};

struct kefu_rtp_relay {
	struct kefu_rtp_stream *a;
	struct kefu_rtp_stream *b;
	bool decode;
	bool forward_telev;
	char *record_path;
	struct pipe *ab;
	struct pipe *ba;
	struct kefu_rtp_relay_stats stats;
};

/* --- decode: pipes, taps, recording ------------------------------------ */

static void
pipe_destructor(void *arg)
{
	(void)arg;
}

static struct pipe *
pipe_alloc(unsigned delay, uint64_t *counter)
{
	struct pipe *p = mem_zalloc(sizeof(*p), pipe_destructor);

	if (!p)
		return NULL;
	p->count = MIN(delay, (unsigned)PIPE_FRAMES);
	p->counter = counter;

	return p;
}

static void
pipe_push(struct pipe *p, const int16_t *pcm)
{
	unsigned tail;

	if (p->count == PIPE_FRAMES) {
		p->head = (p->head + 1) % PIPE_FRAMES;
		p->count--;
	}
	tail = (p->head + p->count) % PIPE_FRAMES;
	memcpy(p->frames[tail], pcm, sizeof(p->frames[tail]));
	p->count++;
}

static void
pipe_silence_all(struct pipe *p)
{
	for (unsigned i = 0; i < p->count; i++)
		memset(p->frames[(p->head + i) % PIPE_FRAMES], 0,
		       sizeof(p->frames[0]));
}

static bool
pipe_read(void *impl, int16_t *samples, size_t n)
{
	struct pipe *p = impl;

	if (n != FRAME || !p->count) {
		memset(samples, 0, n * sizeof(*samples));
		return true;
	}

	memcpy(samples, p->frames[p->head], FRAME * sizeof(*samples));
	p->head = (p->head + 1) % PIPE_FRAMES;
	p->count--;
	if (p->counter)
		(*p->counter)++;

	return true;
}

static void
impl_deref(void *impl)
{
	mem_deref(impl);
}

static const struct kefu_audio_source_backend pipe_source = {
	.read = pipe_read,
	.free = impl_deref,
};

static void
rec_write_pair(struct rec *r, const int16_t *left, const int16_t *right)
{
	g_autoptr(GError) error = NULL;

	if (!r->rec)
		return;
	if (!kefu_call_recorder_write(r->rec, left, right, FRAME, &error)) {
		g_warning("recording stopped: %s", error->message);
		(void)kefu_call_recorder_finish(r->rec, NULL);
		r->rec = NULL;
	}
}

static void
rec_drain(struct rec *r, bool all)
{
	GArray *l = r->pending[0], *rt = r->pending[1];

	for (;;) {
		bool hl = l->len >= FRAME, hr = rt->len >= FRAME;

		if (!hl && !hr)
			break;
		if (!(hl && hr) && !all &&
		    MAX(l->len, rt->len) < (guint)(REC_SKEW * FRAME))
			break;

		rec_write_pair(r, hl ? (int16_t *)(void *)l->data : NULL,
			       hr ? (int16_t *)(void *)rt->data : NULL);
		if (hl)
			g_array_remove_range(l, 0, FRAME);
		if (hr)
			g_array_remove_range(rt, 0, FRAME);
	}
}

static void
rec_destructor(void *arg)
{
	struct rec *r = arg;
	g_autoptr(GError) error = NULL;

	rec_drain(r, true);
	if (r->rec && !kefu_call_recorder_finish(r->rec, &error))
		g_warning("recording: %s", error->message);
	g_array_unref(r->pending[0]);
	g_array_unref(r->pending[1]);
}

static void
tap_destructor(void *arg)
{
	struct tap *t = arg;

	mem_deref(t->pipe);
	mem_deref(t->rec);
}

static void
tap_write(void *impl, const int16_t *samples, size_t n)
{
	struct tap *t = impl;
	int16_t pcm[FRAME];

	if (n != FRAME)
		return;
	memcpy(pcm, samples, sizeof(pcm));

	if (t->rec) {
		g_array_append_vals(t->rec->pending[t->channel], pcm, FRAME);
		rec_drain(t->rec, false);
	}

	/* a tone the switch turns into the other leg's DTMF: neither what
	 * waits in the pipe nor what comes is heard there */
	if (t->suppress) {
		if (kefu_rtp_stream_inband_current(t->stream))
			t->hangover = INBAND_HANGOVER + 1;
		if (t->hangover) {
			t->hangover--;
			pipe_silence_all(t->pipe);
			memset(pcm, 0, sizeof(pcm));
		}
	}

	pipe_push(t->pipe, pcm);
}

static const struct kefu_audio_sink_backend tap_sink = {
	.write = tap_write,
	.free = impl_deref,
};

static struct kefu_audio_sink *
tap_new(struct pipe *p, struct rec *r, unsigned channel,
	struct kefu_rtp_stream *stream, bool suppress)
{
	struct tap *t = mem_zalloc(sizeof(*t), tap_destructor);

	if (!t)
		return NULL;
	t->pipe = mem_ref(p);
	t->rec = mem_ref(r);
	t->channel = channel;
	t->stream = stream;
	t->suppress = suppress;

	return kefu_audio_sink_new(&tap_sink, t);
}

static int
decode_start(struct kefu_rtp_relay *r, const struct kefu_rtp_relay_config *cfg,
	     GError **error)
{
	struct rec *rec = NULL;
	int err = 0;

	if (cfg->record_path) {
		rec = mem_zalloc(sizeof(*rec), rec_destructor);
		if (!rec)
			return ENOMEM;
		rec->pending[0] = g_array_new(FALSE, FALSE, sizeof(int16_t));
		rec->pending[1] = g_array_new(FALSE, FALSE, sizeof(int16_t));
		rec->rec = kefu_call_recorder_new(cfg->record_path, error);
		if (!rec->rec) {
			err = EIO;
			goto out;
		}
	}

	r->ab = pipe_alloc(cfg->suppress_inband_a ? KEFU_RTP_RELAY_INBAND_DELAY
			   : PIPE_DELAY, &r->stats.a_to_b);
	r->ba = pipe_alloc(cfg->suppress_inband_b ? KEFU_RTP_RELAY_INBAND_DELAY
			   : PIPE_DELAY, &r->stats.b_to_a);
	if (!r->ab || !r->ba) {
		err = ENOMEM;
		goto out;
	}

	/* a plays into ab, which b sends; and the other way round */
	kefu_rtp_stream_set_audio(r->a,
		kefu_audio_source_new(&pipe_source, mem_ref(r->ba)),
		tap_new(r->ab, rec, 0, r->a, cfg->suppress_inband_a));
	kefu_rtp_stream_set_audio(r->b,
		kefu_audio_source_new(&pipe_source, mem_ref(r->ab)),
		tap_new(r->ba, rec, 1, r->b, cfg->suppress_inband_b));

 out:
	mem_deref(rec);   /* the taps hold it */

	return err;
}

/* --- packets ----------------------------------------------------------- */

static void
on_packet(struct kefu_rtp_stream *s, const struct kefu_rtp_packet *pkt,
	  void *arg)
{
	struct kefu_rtp_relay *r = arg;
	bool from_a = s == r->a;
	struct kefu_rtp_stream *to = from_a ? r->b : r->a;

	if (pkt->telev) {
		if (!r->forward_telev || kefu_rtp_stream_telev_pt(to) < 0)
			return;
		if (0 == kefu_rtp_stream_forward(to, pkt)) {
			if (from_a)
				r->stats.telev_a_to_b++;
			else
				r->stats.telev_b_to_a++;
		}
		return;
	}

	if (0 == kefu_rtp_stream_forward(to, pkt)) {
		if (from_a)
			r->stats.a_to_b++;
		else
			r->stats.b_to_a++;
	}
}

/* --- the relay --------------------------------------------------------- */

static void
relay_destructor(void *arg)
{
	struct kefu_rtp_relay *r = arg;

	if (r->decode) {
		/* the pipes may outlive us inside sources freed later */
		if (r->ab)
			r->ab->counter = NULL;
		if (r->ba)
			r->ba->counter = NULL;
		kefu_rtp_stream_set_audio(r->a, NULL, NULL);
		kefu_rtp_stream_set_audio(r->b, NULL, NULL);
	}
	else {
		kefu_rtp_stream_set_relay(r->a, NULL, NULL, false);
		kefu_rtp_stream_set_relay(r->b, NULL, NULL, false);
	}
	mem_deref(r->ab);
	mem_deref(r->ba);
	mem_deref(r->record_path);
}

/** Bridge @a and @b (libre thread). */
int
kefu_rtp_relay_alloc(struct kefu_rtp_relay **rp, struct kefu_rtp_stream *a,
		     struct kefu_rtp_stream *b,
		     const struct kefu_rtp_relay_config *cfg, GError **error)
{
	struct kefu_rtp_relay *r;
	int err = 0;

	if (!rp || !a || !b || a == b || !cfg ||
	    (!cfg->decode && cfg->record_path))
		return EINVAL;

	r = mem_zalloc(sizeof(*r), relay_destructor);
	if (!r)
		return ENOMEM;

	r->a = a;
	r->b = b;
	r->decode = cfg->decode;
	r->forward_telev = cfg->forward_telev;
	if (cfg->record_path)
		err = str_dup(&r->record_path, cfg->record_path);
	if (err)
		goto out;

	if (r->decode) {
		err = decode_start(r, cfg, error);
	}
	else {
		kefu_rtp_stream_set_relay(a, on_packet, r, false);
		kefu_rtp_stream_set_relay(b, on_packet, r, false);
		/* audio from now on handled on a relay worker thread:
		 * on_packet and the stats with it */
		kefu_rtp_stream_relay_link(a, b);
	}

 out:
	if (err)
		mem_deref(r);
	else
		*rp = r;

	return err;
}

bool
kefu_rtp_relay_passes_telev(const struct kefu_rtp_relay *r)
{
	return r && !r->decode && r->forward_telev &&
		kefu_rtp_stream_telev_pt(r->a) >= 0 &&
		kefu_rtp_stream_telev_pt(r->b) >= 0;
}

bool
kefu_rtp_relay_decodes(const struct kefu_rtp_relay *r)
{
	return r && r->decode;
}

const char *
kefu_rtp_relay_recording(const struct kefu_rtp_relay *r)
{
	return r ? r->record_path : NULL;
}

void
kefu_rtp_relay_stats(const struct kefu_rtp_relay *r,
		     struct kefu_rtp_relay_stats *st)
{
	if (!st)
		return;
	memset(st, 0, sizeof(*st));
	if (r)
		*st = r->stats;
}
