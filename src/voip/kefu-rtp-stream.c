/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * One call's audio RTP session on libre's rtp and rtcp, driven by a 20 ms
 * libre timer on the phone thread.  libre-facing: libre's tabs.
 *
 * Each tick plays one frame out of the jitter buffer (silence when it has
 * none, so a recording keeps time) and sends one frame of the source, or
 * the telephone-event packets due instead while a digit is being sent
 * (RFC 4733 §2.5.1.1: no audio during the event), then hands both frames
 * to the recording, if one runs.
 *
 * Whatever the codec, the audio side works in 8 kHz frames of 160
 * samples.  Opus runs its RTP clock at 48 kHz (RFC 7587 §4.1), so its
 * jitter buffer and timestamps count 960 a frame.  A received packet may
 * hold more than one frame (a peer's ptime of 30, 40 or 60 ms): what it
 * decodes to waits in `playout` and is played a frame a tick; the jitter
 * buffer, which steps 20 ms at a time, then reports the frames in between
 * as missing or nothing due, and the waiting audio fills them.
 *
 * Telephone-events stay at 8000 Hz, the rate our SDP offers them at, also
 * beside Opus: their durations count 8 kHz units while their timestamps
 * are the audio's.
 *
 * A lost frame is concealed: Opus by libopus, G.711 by repeating the last
 * pitch period heard (after ITU-T G.711 Appendix I, much simplified),
 * fading out after 20 ms and silent from 60 ms.  Silence instead would cut
 * a word, and split an inband DTMF digit in two, at each lost packet; it
 * is also what the MOS estimate assumes (G.113 Bpl for G.711 with PLC).
 */
#define G_LOG_DOMAIN "KefuRtpStream"

#include "config.h"

#include "kefu-rtp-stream.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <netinet/in.h>
#include <string.h>

#define HAVE_INTTYPES_H 1
#define HAVE_STDBOOL_H 1
#define HAVE_INET6 1
#include <re.h>

#include "kefu-call-recorder.h"
#include "kefu-dtmf-detector.h"
#include "kefu-dtmf-tones.h"
#include "kefu-g711.h"
#include "kefu-jitter-buffer.h"
#include "kefu-opus.h"
#include "kefu-rfc4733.h"
#include "kefu-srtp.h"

enum {
	PTIME_MS = 20,
	FRAME = KEFU_AUDIO_FRAME_SAMPLES,
	MAX_CATCH_UP = 5,          /* frames done in one late tick */
	PORT_MIN = 10000,
	PORT_MAX = 59999,
	DTMF_DEFAULT_MS = 100,
	G711_CLOCK = 8000,
	TELEV_CLOCK = 8000,        /* what kefu-sdp.c offers */
	INBAND_MIN_MS = 40,        /* Q.24 detectors may ignore shorter */
	INBAND_MAX_MS = 10000,
	INBAND_GAP_MIN_MS = 60,
	INBAND_GAP_MAX_MS = 100,
	/* the longest packet decoded, plus as much again waiting */
	PACKET_MAX = KEFU_AUDIO_RATE * KEFU_OPUS_MAX_DURATION_MS / 1000,
	PLAYOUT_MAX = 2 * PACKET_MAX + FRAME,
	/* how long after a telephone-event packet a gap is the event's */
	TELEV_GAP_US = 200000,
	/* G.711 concealment, in samples at 8 kHz */
	PLC_HISTORY = 390,         /* 48.75 ms, as G.711 Appendix I keeps */
	PLC_PITCH_MIN = 40,        /* 200 Hz */
	PLC_PITCH_MAX = 120,       /* 66 Hz */
	PLC_MATCH = 160,           /* what the pitch search compares */
	PLC_FADE_FROM = 160,       /* full level for 20 ms, */
	PLC_FADE_TO = 480,         /* then down to silence at 60 ms */
	PLC_OVERLAP = 40,          /* 5 ms cross-fade back to what arrives */
};

/* G.711 packet-loss concealment: what was decoded last, and where in its
 * last pitch period the repetition stands. */
struct plc {
	int16_t history[PLC_HISTORY];   /* oldest first */
	unsigned pitch;                 /* 0: not concealing */
	unsigned pos;                   /* samples concealed so far */
};

G_STATIC_ASSERT((int)KEFU_OPUS_MAX_PACKET >= (int)FRAME);

enum codec {
	CODEC_NONE,
	CODEC_PCMU,
	CODEC_PCMA,
	CODEC_OPUS,
	CODEC_UNSUPPORTED,
};

/* What the jitter buffers replaced by a codec change had counted. */
struct jb_totals {
	uint64_t received;
	uint64_t expected;
	uint64_t lost;
	uint64_t late;
};

struct kefu_rtp_stream {
	struct rtp_sock *rs;
	struct kefu_srtp *srtp;    /* on rs's sockets, freed before them */
	struct tmr tmr;
	kefu_rtp_stream_dtmf_h *dtmfh;
	void *arg;

	struct kefu_audio_source *src;
	struct kefu_audio_sink *sink;
	struct kefu_jitter_buffer *jb;
	struct kefu_rfc4733_receiver *telev_rx;
	struct kefu_rfc4733_sender *telev_tx;
	struct kefu_opus_encoder *opus_enc;   /* while the codec is Opus */
	struct kefu_opus_decoder *opus_dec;
	KefuCallRecorder *rec;                /* while recording */
	KefuDtmfDetector *detector;           /* while detecting inband */
	GArray *inband;                       /* int16_t tones to send */
	size_t inband_pos;

	enum codec codec;
	char codec_name[16];
	uint32_t clock;            /* RTP clock of the codec */
	uint32_t ts_step;          /* RTP timestamp units a frame */
	uint8_t pt;
	int telev_pt;
	bool send;
	bool recv;
	bool running;
	bool rtcp_started;
	bool muted;
	bool detecting;            /* inside the detector: it may not go */
	bool detector_off;         /* turned off from within: free it after */

	struct sa sdp_raddr;       /* what the peer's SDP said */
	struct sa dst;             /* where we send: latched to the source */
	bool latched;

	uint32_t ts;               /* RTP timestamp of the next frame */
	bool marker;               /* on the next audio packet */
	uint64_t next_ms;          /* when the next frame is due */
	uint32_t remote_ssrc;
	bool have_remote_ssrc;

	uint64_t sent;
	uint64_t dtmf_received;
	uint64_t telev_packets;    /* received: they use audio's sequence */
	int64_t telev_arrival_us;  /* of the last one */
	struct jb_totals jb_before;
	bool encode_failed;        /* logged once */

	/* decoded, not yet played: the rest of a packet longer than a frame */
	size_t playout_len;
	int16_t playout[PLAYOUT_MAX];
	struct plc plc;
};

static void
finish_recording(struct kefu_rtp_stream *s)
{
	g_autoptr(GError) error = NULL;

	if (!s->rec)
		return;

	if (!kefu_call_recorder_finish(s->rec, &error))
		g_warning("recording: %s", error->message);
	s->rec = NULL;
}

static void
stream_destructor(void *arg)
{
	struct kefu_rtp_stream *s = arg;

	tmr_cancel(&s->tmr);
	finish_recording(s);
	mem_deref(s->srtp);
	mem_deref(s->rs);
	kefu_jitter_buffer_free(s->jb);
	kefu_rfc4733_receiver_free(s->telev_rx);
	kefu_rfc4733_sender_free(s->telev_tx);
	kefu_opus_encoder_free(s->opus_enc);
	kefu_opus_decoder_free(s->opus_dec);
	kefu_dtmf_detector_free(s->detector);
	if (s->inband)
		g_array_unref(s->inband);
	kefu_audio_source_free(s->src);
	kefu_audio_sink_free(s->sink);
}

static void
on_telev_report(const struct kefu_rfc4733_report *report, void *arg)
{
	struct kefu_rtp_stream *s = arg;

	if (report->kind != KEFU_RFC4733_DIGIT_BEGAN)
		return;

	s->dtmf_received++;
	g_debug("telephone-event: digit %c", report->digit);
	if (s->dtmfh)
		s->dtmfh(report->digit, "rfc4733", s->arg);
}

static void
on_inband_digit(const KefuDtmfDigit *digit, gpointer arg)
{
	struct kefu_rtp_stream *s = arg;

	if (s->detector_off)
		return;

	s->dtmf_received++;
	g_debug("inband: digit %c, %" G_GUINT64_FORMAT " ms", digit->digit,
		digit->duration * 1000 / digit->rate);
	if (s->dtmfh)
		s->dtmfh(digit->digit, "inband", s->arg);
}

static bool
codec_is_coded(enum codec codec)
{
	return codec == CODEC_PCMU || codec == CODEC_PCMA ||
		codec == CODEC_OPUS;
}

static void
on_rtp(const struct sa *src, const struct rtp_header *hdr, struct mbuf *mb,
       void *arg)
{
	struct kefu_rtp_stream *s = arg;
	int64_t now = g_get_monotonic_time();
	size_t len = mbuf_get_left(mb);
	bool telev;

	if (!s->running || !s->recv)
		return;

	/* RFC 3550 §5.1: padding is not payload, its last octet says how
	 * long it is; a count of 0 or past the payload makes the packet
	 * invalid (A.1), and libre does not check */
	if (hdr->pad) {
		uint8_t pad = len ? mbuf_buf(mb)[len - 1] : 0;

		if (pad == 0 || pad > len)
			return;
		len -= pad;
	}

	/* only what we would use counts, or makes us answer elsewhere */
	telev = s->telev_pt >= 0 && hdr->pt == s->telev_pt;
	if (!telev && (hdr->pt != s->pt || !codec_is_coded(s->codec)))
		return;

	/* symmetric RTP: a peer behind NAT is reached where it sends from */
	if (!s->latched || !sa_cmp(&s->dst, src, SA_ALL)) {
		char buf[64] = "";

		(void)re_snprintf(buf, sizeof(buf), "%J", src);
		g_debug("RTP %s %s: sending there",
			s->latched ? "source moved to" : "from", buf);
		sa_cpy(&s->dst, src);
		s->latched = true;
	}

	s->remote_ssrc = hdr->ssrc;
	s->have_remote_ssrc = true;

	if (telev) {
		s->telev_packets++;
		s->telev_arrival_us = now;
		(void)kefu_rfc4733_receiver_push(s->telev_rx, mbuf_buf(mb),
						 len, hdr->ts, hdr->seq,
						 hdr->m, now);
		return;
	}

	(void)kefu_jitter_buffer_push(s->jb, hdr->ssrc, hdr->seq, hdr->ts,
				      hdr->m, mbuf_buf(mb), len, now);
}

static void
on_rtcp(const struct sa *src, struct rtcp_msg *msg, void *arg)
{
	/* libre keeps the statistics; nothing else is read from RTCP */
	(void)src;
	(void)msg;
	(void)arg;
}

static int
send_packet(struct kefu_rtp_stream *s, bool marker, uint8_t pt, uint32_t ts,
	    const uint8_t *payload, size_t len)
{
	struct mbuf *mb = mbuf_alloc(RTP_HEADER_SIZE + len);
	int err;

	if (!mb)
		return ENOMEM;

	mb->pos = RTP_HEADER_SIZE;
	err = mbuf_write_mem(mb, payload, len);
	mb->pos = RTP_HEADER_SIZE;
	if (!err)
		err = rtp_send(s->rs, &s->dst, false, marker, pt, ts, mb);
	mem_deref(mb);

	if (!err)
		s->sent++;

	return err;
}

/* Room for a packet of PACKET_MAX samples at the end of playout: a peer
 * sending faster than we play loses its oldest audio, not its newest. */
static int16_t *
playout_reserve(struct kefu_rtp_stream *s)
{
	if (s->playout_len > PLAYOUT_MAX - PACKET_MAX) {
		size_t drop = s->playout_len - (PLAYOUT_MAX - PACKET_MAX);

		g_debug("playout: %zu samples over, dropped", drop);
		memmove(s->playout, s->playout + drop,
			(s->playout_len - drop) * sizeof(s->playout[0]));
		s->playout_len -= drop;
	}

	return s->playout + s->playout_len;
}

/* The lag, among the pitch periods speech has, at which the end of the
 * history best matches what came one period before it. */
static unsigned
plc_find_pitch(const int16_t *h)
{
	const int16_t *end = h + PLC_HISTORY - PLC_MATCH;
	unsigned best = PLC_PITCH_MIN;
	double best_score = -1.0;

	for (unsigned lag = PLC_PITCH_MIN; lag <= PLC_PITCH_MAX; lag++) {
		double xy = 0, yy = 0;

		for (unsigned i = 0; i < PLC_MATCH; i++) {
			xy += (double)end[i] * end[(int)i - (int)lag];
			yy += (double)end[(int)i - (int)lag] *
				end[(int)i - (int)lag];
		}
		if (yy > 0 && xy > 0 && xy * xy / yy > best_score) {
			best_score = xy * xy / yy;
			best = lag;
		}
	}

	return best;
}

/* n samples of the last pitch period repeated on from where the
 * concealment stands, at the level its length calls for. */
static void
plc_continue(struct plc *plc, int16_t *pcm, size_t n)
{
	const int16_t *cycle = plc->history + PLC_HISTORY - plc->pitch;

	for (size_t i = 0; i < n; i++, plc->pos++) {
		double gain = 1.0;

		if (plc->pos >= PLC_FADE_TO)
			gain = 0.0;
		else if (plc->pos > PLC_FADE_FROM)
			gain = 1.0 - (double)(plc->pos - PLC_FADE_FROM) /
				(PLC_FADE_TO - PLC_FADE_FROM);
		pcm[i] = (int16_t)(cycle[plc->pos % plc->pitch] * gain);
	}
}

static void
plc_conceal(struct plc *plc, int16_t *pcm, size_t n)
{
	if (!plc->pitch) {
		plc->pitch = plc_find_pitch(plc->history);
		plc->pos = 0;
	}
	plc_continue(plc, pcm, n);
}

/* Decoded audio: fade over from the concealment, if one ran, and keep it
 * as the history the next concealment repeats. */
static void
plc_decoded(struct plc *plc, int16_t *pcm, size_t n)
{
	if (plc->pitch) {
		int16_t tail[PLC_OVERLAP];
		size_t k = MIN(n, (size_t)PLC_OVERLAP);

		plc_continue(plc, tail, k);
		for (size_t i = 0; i < k; i++) {
			double w = (double)(i + 1) / (double)(k + 1);

			pcm[i] = (int16_t)(w * pcm[i] + (1.0 - w) * tail[i]);
		}
		plc->pitch = 0;
	}

	if (n >= PLC_HISTORY) {
		memcpy(plc->history, pcm + n - PLC_HISTORY,
		       sizeof(plc->history));
	}
	else {
		memmove(plc->history, plc->history + n,
			(PLC_HISTORY - n) * sizeof(*pcm));
		memcpy(plc->history + PLC_HISTORY - n, pcm, n * sizeof(*pcm));
	}
}

/* A frame that never came: Opus extrapolates it, G.711 repeats the last
 * pitch period.  Not where the frame's sequence number went to a
 * telephone-event (RFC 4733 §2.5.1.1: the peer sends no audio then): the
 * tone before a digit would ring on through it. */
static void
conceal(struct kefu_rtp_stream *s, int64_t now)
{
	int16_t *pcm = playout_reserve(s);
	bool event = s->telev_packets &&
		now - s->telev_arrival_us < TELEV_GAP_US;

	if (s->codec == CODEC_OPUS) {
		/* even for an event, for its state to fade with the silence:
		 * the first packet after the digit then decodes from there,
		 * not from the tone */
		(void)kefu_opus_conceal(s->opus_dec, NULL, 0, pcm, FRAME);
	}
	else if (!event) {
		plc_conceal(&s->plc, pcm, FRAME);
	}
	else if (s->plc.pitch) {
		s->plc.pos = PLC_FADE_TO;   /* faded out: nothing to fade from */
	}

	if (event)
		memset(pcm, 0, FRAME * sizeof(*pcm));
	s->playout_len += FRAME;
}

static void
decode(struct kefu_rtp_stream *s, const uint8_t *payload, size_t len,
       int64_t now)
{
	int16_t *pcm = playout_reserve(s);
	size_t n = 0;

	switch (s->codec) {

	case CODEC_OPUS:
		if (0 != kefu_opus_decode(s->opus_dec, payload, len, pcm,
					  PACKET_MAX, &n)) {
			g_debug("opus: %zu bytes not decoded: concealed", len);
			conceal(s, now);
			return;
		}
		break;

	case CODEC_PCMA:
		n = MIN(len, (size_t)PACKET_MAX);
		kefu_g711_alaw_decode(pcm, payload, n);
		plc_decoded(&s->plc, pcm, n);
		break;

	default:
		n = MIN(len, (size_t)PACKET_MAX);
		kefu_g711_ulaw_decode(pcm, payload, n);
		plc_decoded(&s->plc, pcm, n);
		break;
	}

	s->playout_len += n;
}

/* Plays the frame due now into pcm (and the sink, and the detector). */
static void
play_frame(struct kefu_rtp_stream *s, int64_t now, int16_t *pcm)
{
	struct kefu_jitter_buffer_frame f;
	enum kefu_jitter_buffer_result r = KEFU_JITTER_BUFFER_NOTHING;
	size_t n;

	if (s->recv && codec_is_coded(s->codec))
		r = kefu_jitter_buffer_pop(s->jb, now, &f);

	if (r == KEFU_JITTER_BUFFER_FRAME)
		decode(s, f.payload, f.len, now);
	else if (r == KEFU_JITTER_BUFFER_MISSING && s->playout_len < FRAME)
		conceal(s, now);
	/* NOTHING: the rest of a long packet if any, else silence */

	n = MIN(s->playout_len, (size_t)FRAME);
	memcpy(pcm, s->playout, n * sizeof(*pcm));
	memset(pcm + n, 0, (FRAME - n) * sizeof(*pcm));
	s->playout_len -= n;
	memmove(s->playout, s->playout + n, s->playout_len * sizeof(*pcm));

	kefu_audio_sink_write(s->sink, pcm, FRAME);

	if (s->detector) {
		s->detecting = true;
		kefu_dtmf_detector_feed(s->detector, pcm, FRAME);
		s->detecting = false;
		if (s->detector_off) {
			kefu_dtmf_detector_free(s->detector);
			s->detector = NULL;
			s->detector_off = false;
		}
	}
}

/* Codes a frame the peer will not get, while telephone-events take its
 * place: the encoder's state stays on the audio's timeline, and the first
 * packet after the digit does not carry the end of what came before. */
static void
skip_audio(struct kefu_rtp_stream *s, const int16_t *pcm)
{
	uint8_t payload[KEFU_OPUS_MAX_PACKET];
	size_t len;

	if (s->codec == CODEC_OPUS)
		(void)kefu_opus_encode(s->opus_enc, pcm, FRAME, payload,
				       sizeof(payload), &len);
}

static void
send_audio(struct kefu_rtp_stream *s, const int16_t *pcm)
{
	uint8_t payload[KEFU_OPUS_MAX_PACKET];   /* more than G.711's FRAME */
	size_t len = FRAME;

	switch (s->codec) {

	case CODEC_OPUS:
		if (0 != kefu_opus_encode(s->opus_enc, pcm, FRAME, payload,
					  sizeof(payload), &len)) {
			if (!s->encode_failed)
				g_message("opus: a frame could not be coded: "
					  "not sent");
			s->encode_failed = true;
			return;
		}
		break;

	case CODEC_PCMA:
		kefu_g711_alaw_encode(payload, pcm, FRAME);
		break;

	default:
		kefu_g711_ulaw_encode(payload, pcm, FRAME);
		break;
	}

	(void)send_packet(s, s->marker, s->pt, s->ts, payload, len);
	s->marker = false;
}

/* Sends the frame due now; sent: what the peer gets of it (silence when
 * nothing, or telephone-events, went out instead). */
static void
send_frame(struct kefu_rtp_stream *s, int64_t now, int16_t *sent)
{
	int16_t pcm[FRAME];
	struct kefu_rfc4733_packet pkt;
	bool can_send = s->send && sa_isset(&s->dst, SA_ALL) &&
		codec_is_coded(s->codec);

	memset(sent, 0, FRAME * sizeof(*sent));

	/* read on regardless, so that a file source keeps time */
	(void)kefu_audio_source_read(s->src, pcm, FRAME);
	if (s->muted)
		memset(pcm, 0, sizeof(pcm));

	/* inband digits replace the audio, muted or not */
	if (s->inband && s->inband_pos < s->inband->len) {
		size_t n = MIN(s->inband->len - s->inband_pos, (size_t)FRAME);

		memcpy(pcm, &g_array_index(s->inband, int16_t, s->inband_pos),
		       n * sizeof(*pcm));
		memset(pcm + n, 0, (FRAME - n) * sizeof(*pcm));
		s->inband_pos += n;
		if (s->inband_pos == s->inband->len) {
			g_array_set_size(s->inband, 0);
			s->inband_pos = 0;
		}
	}

	if (!can_send)
		goto out;

	if (s->telev_pt >= 0 && !kefu_rfc4733_sender_is_idle(s->telev_tx)) {
		while (0 == kefu_rfc4733_sender_pull(s->telev_tx, now, s->ts,
						     &pkt)) {
			(void)send_packet(s, pkt.marker, (uint8_t)s->telev_pt,
					  pkt.timestamp, pkt.payload, pkt.len);
		}
		skip_audio(s, pcm);
		s->marker = true;
		goto out;
	}

	send_audio(s, pcm);
	memcpy(sent, pcm, sizeof(pcm));

 out:
	s->ts += s->ts_step;
}

static void
record_frame(struct kefu_rtp_stream *s, const int16_t *sent,
	     const int16_t *played)
{
	g_autoptr(GError) error = NULL;

	if (!s->rec ||
	    kefu_call_recorder_write(s->rec, sent, played, FRAME, &error))
		return;

	/* a full disk ends the recording, not the call */
	g_warning("recording stopped: %s", error->message);
	finish_recording(s);
}

static void
on_tick(void *arg)
{
	struct kefu_rtp_stream *s = arg;
	uint64_t now_ms = tmr_jiffies();
	unsigned n = 0;

	while (s->running && s->next_ms <= now_ms && n++ < MAX_CATCH_UP) {
		int64_t now = g_get_monotonic_time();
		int16_t played[FRAME];
		int16_t sent[FRAME];

		kefu_rfc4733_receiver_poll(s->telev_rx, now);
		play_frame(s, now, played);
		send_frame(s, now, sent);
		record_frame(s, sent, played);
		s->next_ms += PTIME_MS;
	}

	if (!s->running)
		return;

	/* too far behind: drop the backlog rather than burst */
	if (s->next_ms <= now_ms)
		s->next_ms = now_ms + PTIME_MS;

	tmr_start(&s->tmr, s->next_ms - now_ms, on_tick, s);
}

/**
 * A stream bound on @laddr's address (any port of ours), idle until
 * kefu_rtp_stream_update() (phone thread).
 */
int
kefu_rtp_stream_alloc(struct kefu_rtp_stream **sp, const struct sa *laddr,
		      kefu_rtp_stream_dtmf_h *dtmfh, void *arg)
{
	struct kefu_rtp_stream *s;
	int err;

	if (!sp || !laddr)
		return EINVAL;

	s = mem_zalloc(sizeof(*s), stream_destructor);
	if (!s)
		return ENOMEM;

	tmr_init(&s->tmr);
	s->dtmfh = dtmfh;
	s->arg = arg;
	s->telev_pt = -1;
	s->clock = G711_CLOCK;
	s->ts_step = FRAME;
	s->ts = rand_u32();
	s->marker = true;

	err = kefu_jitter_buffer_alloc(&s->jb, NULL);
	if (err)
		goto out;
	err = kefu_rfc4733_receiver_alloc(&s->telev_rx, TELEV_CLOCK,
					  on_telev_report, s);
	if (err)
		goto out;
	err = kefu_rfc4733_sender_alloc(&s->telev_tx, TELEV_CLOCK, PTIME_MS,
					KEFU_RFC4733_VOLUME);
	if (err)
		goto out;

	err = rtp_listen(&s->rs, IPPROTO_UDP, laddr, PORT_MIN, PORT_MAX,
			 true, on_rtp, on_rtcp, s);
	if (err)
		goto out;

	s->src = kefu_audio_null_source_new();
	s->sink = kefu_audio_null_sink_new();

 out:
	if (err)
		mem_deref(s);
	else
		*sp = s;

	return err;
}

uint16_t
kefu_rtp_stream_local_port(const struct kefu_rtp_stream *s)
{
	return s && s->rs ? sa_port(rtp_local(s->rs)) : 0;
}

void
kefu_rtp_stream_set_audio(struct kefu_rtp_stream *s,
			  struct kefu_audio_source *src,
			  struct kefu_audio_sink *sink)
{
	if (!s) {
		kefu_audio_source_free(src);
		kefu_audio_sink_free(sink);
		return;
	}

	kefu_audio_source_free(s->src);
	kefu_audio_sink_free(s->sink);
	s->src = src ? src : kefu_audio_null_source_new();
	s->sink = sink ? sink : kefu_audio_null_sink_new();
}

static enum codec
codec_from_name(const char *name)
{
	if (!name)
		return CODEC_NONE;
	if (0 == g_ascii_strcasecmp(name, "PCMU"))
		return CODEC_PCMU;
	if (0 == g_ascii_strcasecmp(name, "PCMA"))
		return CODEC_PCMA;
	if (0 == g_ascii_strcasecmp(name, "opus"))
		return CODEC_OPUS;

	return CODEC_UNSUPPORTED;
}

/* A jitter buffer for another RTP clock; the old one's counts live on in
 * the statistics. */
static int
replace_jitter_buffer(struct kefu_rtp_stream *s, uint32_t clock)
{
	struct kefu_jitter_buffer_config cfg = {
		.clock_rate = clock,
		.frame_samples = clock / (1000 / PTIME_MS),
	};
	struct kefu_jitter_buffer_stats jbs;
	struct kefu_jitter_buffer *jb;
	int err;

	err = kefu_jitter_buffer_alloc(&jb, &cfg);
	if (err)
		return err;

	kefu_jitter_buffer_stats(s->jb, &jbs);
	s->jb_before.received += jbs.received;
	s->jb_before.expected += jbs.expected;
	s->jb_before.lost += jbs.lost;
	s->jb_before.late += jbs.late;
	kefu_jitter_buffer_free(s->jb);
	s->jb = jb;

	return 0;
}

/* Brings the codec state (coder, RTP clock, jitter buffer) in line with
 * a newly negotiated codec. */
static int
set_codec(struct kefu_rtp_stream *s, enum codec codec)
{
	uint32_t clock;
	int err = 0;

	if (codec == s->codec || !codec_is_coded(codec))
		return 0;

	clock = codec == CODEC_OPUS ? KEFU_OPUS_RTP_CLOCK : G711_CLOCK;
	if (clock != s->clock) {
		err = replace_jitter_buffer(s, clock);
		if (err)
			return err;
		s->clock = clock;
		s->ts_step = clock / (1000 / PTIME_MS);
		rtcp_set_srate(s->rs, clock, clock);
	}

	if (codec == CODEC_OPUS) {
		kefu_opus_encoder_free(s->opus_enc);
		kefu_opus_decoder_free(s->opus_dec);
		s->opus_enc = NULL;
		s->opus_dec = NULL;
		err = kefu_opus_encoder_alloc(&s->opus_enc, KEFU_AUDIO_RATE,
					      NULL);
		if (!err)
			err = kefu_opus_decoder_alloc(&s->opus_dec,
						      KEFU_AUDIO_RATE);
	}
	else {
		kefu_opus_encoder_free(s->opus_enc);
		kefu_opus_decoder_free(s->opus_dec);
		s->opus_enc = NULL;
		s->opus_dec = NULL;
	}

	/* The audio waiting in playout is PCM already: it plays on.  The
	 * peer's decoder learns of the new codec from the marked packet. */
	s->encode_failed = false;
	s->marker = true;

	return err;
}

/** Start, or apply a re-negotiation to, the stream (phone thread). */
int
kefu_rtp_stream_update(struct kefu_rtp_stream *s,
		       const struct kefu_rtp_stream_params *p)
{
	enum codec codec;
	int err = 0;

	if (!s || !p || p->pt < 0 || p->pt > 127)
		return EINVAL;

	codec = codec_from_name(p->codec);
	if (codec == CODEC_NONE)
		return EINVAL;

	if (codec == CODEC_UNSUPPORTED) {
		if (s->codec != CODEC_UNSUPPORTED)
			g_message("codec %s is negotiated but not supported "
				  "yet: the call has no audio", p->codec);
		err = ENOTSUP;
	}

	if (s->running && (codec != s->codec || p->pt != s->pt))
		kefu_rfc4733_receiver_reset(s->telev_rx);

	if (!err)
		err = set_codec(s, codec);
	if (err && err != ENOTSUP) {
		g_message("codec %s: %s: the call has no audio", p->codec,
			  g_strerror(err));
		codec = CODEC_UNSUPPORTED;
	}

	s->codec = codec;
	g_strlcpy(s->codec_name, p->codec, sizeof(s->codec_name));
	s->pt = (uint8_t)p->pt;
	s->telev_pt = p->telev_pt >= 0 && p->telev_pt <= 127 ? p->telev_pt
		: -1;
	s->send = p->send;
	s->recv = p->recv;

	/* a new address in the SDP wins over what we latched on */
	if (p->raddr && sa_isset(p->raddr, SA_ALL) &&
	    !sa_cmp(p->raddr, &s->sdp_raddr, SA_ALL)) {
		sa_cpy(&s->sdp_raddr, p->raddr);
		sa_cpy(&s->dst, p->raddr);
		s->latched = false;
	}
	if (!sa_isset(&s->dst, SA_ALL))
		s->send = false;

	if (!s->rtcp_started && sa_isset(&s->sdp_raddr, SA_ALL)) {
		struct sa rtcp_peer = s->sdp_raddr;

		sa_set_port(&rtcp_peer, sa_port(&rtcp_peer) + 1);
		rtcp_set_srate(s->rs, s->clock, s->clock);
		rtcp_start(s->rs, "kefu", &rtcp_peer);
		s->rtcp_started = true;
	}

	if (!s->running) {
		s->running = true;
		s->next_ms = tmr_jiffies() + PTIME_MS;
		tmr_start(&s->tmr, PTIME_MS, on_tick, s);
		char buf[64] = "";

		(void)re_snprintf(buf, sizeof(buf), "%J", &s->dst);
		g_debug("media: %s/%u pt %d, telephone-event %d, to %s%s",
			p->codec, p->srate, p->pt, s->telev_pt, buf,
			s->send ? "" : " (not sending)");
	}

	return err;
}

/** Stop the media and write any recording (phone thread). */
void
kefu_rtp_stream_stop(struct kefu_rtp_stream *s)
{
	if (!s)
		return;

	s->running = false;
	tmr_cancel(&s->tmr);
	kefu_rfc4733_receiver_reset(s->telev_rx);
	finish_recording(s);
	if (s->inband) {
		g_array_set_size(s->inband, 0);
		s->inband_pos = 0;
	}
	s->playout_len = 0;
	kefu_rtp_stream_set_audio(s, NULL, NULL);
}

/** Queue RFC 4733 digits (phone thread). */
int
kefu_rtp_stream_send_dtmf(struct kefu_rtp_stream *s, const char *digits,
			  uint32_t duration_ms)
{
	int64_t now = g_get_monotonic_time();
	int err = 0;

	if (!s || !digits)
		return EINVAL;
	if (s->telev_pt < 0)
		return ENOTSUP;

	for (const char *d = digits; *d; d++) {
		if (kefu_rfc4733_event_from_digit(*d) < 0)
			return EINVAL;
	}

	for (const char *d = digits; *d && !err; d++)
		err = kefu_rfc4733_sender_queue(s->telev_tx, *d,
						duration_ms ? duration_ms
						: DTMF_DEFAULT_MS, now);

	return err;
}

/** The call's media statistics so far (phone thread). */
void
kefu_rtp_stream_stats(struct kefu_rtp_stream *s,
		      struct kefu_rtp_stream_stats *st)
{
	struct kefu_jitter_buffer_stats jbs;
	struct rtcp_stats rs;
	uint64_t received, expected, lost, late;

	if (!st)
		return;
	memset(st, 0, sizeof(*st));
	if (!s)
		return;

	g_strlcpy(st->codec, s->codec_name, sizeof(st->codec));
	st->packets_sent = s->sent;
	st->dtmf_received = s->dtmf_received;

	memset(&rs, 0, sizeof(rs));
	if (s->have_remote_ssrc &&
	    0 == rtcp_stats(s->rs, s->remote_ssrc, &rs)) {
		st->rtt_ms = rs.rtt / 1000.0;
		st->remote_lost = rs.tx.lost;
		st->remote_jitter_ms = rs.tx.jit / 1000.0;
		if (rs.rtt)
			kefu_jitter_buffer_set_network_delay(s->jb,
							     rs.rtt / 2000);
	}

	kefu_jitter_buffer_stats(s->jb, &jbs);
	received = s->jb_before.received + jbs.received;
	expected = s->jb_before.expected + jbs.expected;
	lost = s->jb_before.lost + jbs.lost;
	late = s->jb_before.late + jbs.late;

	/* The peer's telephone-events take sequence numbers from the audio
	 * stream (RFC 4733 §2.1): the jitter buffer, seeing only audio,
	 * counts them as lost. */
	if (s->telev_packets) {
		uint64_t te = MIN(s->telev_packets, lost);

		lost -= te;
		expected -= MIN(te, expected);
	}

	st->packets_received = received;
	st->packets_lost = lost;
	st->loss_percent = expected ? 100.0 * (double)(lost + late) /
		(double)expected : 0.0;
	st->jitter_ms = jbs.jitter_ms;
	st->mos = received ? kefu_jitter_buffer_mos(st->loss_percent,
						    jbs.jitter_ms,
						    st->rtt_ms / 2 + PTIME_MS)
		: 0.0;
	st->muted = s->muted;
	st->recording = s->rec != NULL;
	st->srtp = kefu_srtp_active(s->srtp);
	st->srtp_dropped = kefu_srtp_dropped(s->srtp);
}

/** Protect RTP and RTCP with SRTP from now on (phone thread). */
int
kefu_rtp_stream_set_srtp(struct kefu_rtp_stream *s,
			 const struct kefu_srtp_keys *keys)
{
	int err;

	if (!s)
		return EINVAL;

	if (!s->srtp) {
		err = kefu_srtp_alloc(&s->srtp, rtp_sock(s->rs),
				      rtcp_sock(s->rs));
		if (err)
			return err;
	}

	return keys ? kefu_srtp_set_keys(s->srtp, keys) : 0;
}

/** Send silence, or the source again (phone thread). */
void
kefu_rtp_stream_set_mute(struct kefu_rtp_stream *s, bool muted)
{
	if (!s || s->muted == muted)
		return;

	s->muted = muted;
	g_debug("%s", muted ? "muted" : "unmuted");
}

/** Record the call to a new stereo WAV at @path (phone thread). */
gboolean
kefu_rtp_stream_record_start(struct kefu_rtp_stream *s, const char *path,
			     GError **error)
{
	g_return_val_if_fail(s != NULL, FALSE);
	g_return_val_if_fail(path != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	if (s->rec) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_BUSY,
			    _("This call is already being recorded to %s"),
			    kefu_call_recorder_get_path(s->rec));
		return FALSE;
	}

	s->rec = kefu_call_recorder_new(path, error);

	return s->rec != NULL;
}

/** Complete the recording, if one runs (phone thread). */
void
kefu_rtp_stream_record_stop(struct kefu_rtp_stream *s)
{
	if (s)
		finish_recording(s);
}

/** Queue digits as DTMF tones in place of our audio (phone thread). */
int
kefu_rtp_stream_send_inband(struct kefu_rtp_stream *s, const char *digits,
			    uint32_t duration_ms)
{
	KefuDtmfToneSpec spec;

	if (!s || !digits)
		return EINVAL;

	for (const char *d = digits; *d; d++) {
		if (!kefu_dtmf_digit_frequencies(*d, NULL, NULL))
			return EINVAL;
	}

	kefu_dtmf_tone_spec_init(&spec);
	spec.duration_ms = duration_ms ? CLAMP(duration_ms, INBAND_MIN_MS,
					       INBAND_MAX_MS)
		: DTMF_DEFAULT_MS;
	/* two equal digits must not merge: Q.24 separates them by 40 ms */
	spec.gap_ms = CLAMP(spec.duration_ms, INBAND_GAP_MIN_MS,
			    INBAND_GAP_MAX_MS);

	if (!s->inband)
		s->inband = g_array_new(FALSE, FALSE, sizeof(int16_t));
	if (!kefu_dtmf_tones_append(s->inband, KEFU_AUDIO_RATE, digits,
				    &spec))
		return EINVAL;

	return 0;
}

/** Listen for DTMF tones in the received audio, or stop (phone thread). */
void
kefu_rtp_stream_set_inband_detect(struct kefu_rtp_stream *s, bool on)
{
	if (!s)
		return;

	if (on) {
		s->detector_off = false;
		if (!s->detector)
			s->detector = kefu_dtmf_detector_new(KEFU_AUDIO_RATE,
							     on_inband_digit,
							     s);
		return;
	}

	if (s->detecting) {
		s->detector_off = true;   /* the handler asked: after feed */
		return;
	}

	kefu_dtmf_detector_free(s->detector);
	s->detector = NULL;
}
