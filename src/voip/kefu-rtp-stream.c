/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * One call's audio RTP session on libre's rtp and rtcp, driven by a 20 ms
 * libre timer on the phone thread.  libre-facing: libre's tabs.
 *
 * Each tick plays one frame out of the jitter buffer (silence when it has
 * none, so a recording keeps time) and sends one frame of the source, or
 * the telephone-event packets due instead while a digit is being sent
 * (RFC 4733 §2.5.1.1: no audio during the event).
 */
#define G_LOG_DOMAIN "KefuRtpStream"

#include "config.h"

#include "kefu-rtp-stream.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#define HAVE_INTTYPES_H 1
#define HAVE_STDBOOL_H 1
#define HAVE_INET6 1
#include <re.h>

#include "kefu-g711.h"
#include "kefu-jitter-buffer.h"
#include "kefu-rfc4733.h"

enum {
	PTIME_MS = 20,
	FRAME = KEFU_AUDIO_FRAME_SAMPLES,
	MAX_CATCH_UP = 5,          /* frames done in one late tick */
	PORT_MIN = 10000,
	PORT_MAX = 59999,
	DTMF_DEFAULT_MS = 100,
};

enum codec {
	CODEC_NONE,
	CODEC_PCMU,
	CODEC_PCMA,
	CODEC_UNSUPPORTED,
};

struct kefu_rtp_stream {
	struct rtp_sock *rs;
	struct tmr tmr;
	kefu_rtp_stream_dtmf_h *dtmfh;
	void *arg;

	struct kefu_audio_source *src;
	struct kefu_audio_sink *sink;
	struct kefu_jitter_buffer *jb;
	struct kefu_rfc4733_receiver *telev_rx;
	struct kefu_rfc4733_sender *telev_tx;

	enum codec codec;
	char codec_name[16];
	uint8_t pt;
	int telev_pt;
	bool send;
	bool recv;
	bool running;
	bool rtcp_started;

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
};

static void
stream_destructor(void *arg)
{
	struct kefu_rtp_stream *s = arg;

	tmr_cancel(&s->tmr);
	mem_deref(s->rs);
	kefu_jitter_buffer_free(s->jb);
	kefu_rfc4733_receiver_free(s->telev_rx);
	kefu_rfc4733_sender_free(s->telev_tx);
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
		s->dtmfh(report->digit, s->arg);
}

static void
on_rtp(const struct sa *src, const struct rtp_header *hdr, struct mbuf *mb,
       void *arg)
{
	struct kefu_rtp_stream *s = arg;
	int64_t now = g_get_monotonic_time();

	if (!s->running || !s->recv)
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

	if (s->telev_pt >= 0 && hdr->pt == s->telev_pt) {
		s->telev_packets++;
		(void)kefu_rfc4733_receiver_push(s->telev_rx, mbuf_buf(mb),
						 mbuf_get_left(mb), hdr->ts,
						 hdr->seq, hdr->m, now);
		return;
	}

	if (hdr->pt != s->pt || s->codec == CODEC_UNSUPPORTED)
		return;

	(void)kefu_jitter_buffer_push(s->jb, hdr->ssrc, hdr->seq, hdr->ts,
				      hdr->m, mbuf_buf(mb), mbuf_get_left(mb),
				      now);
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

static void
play_frame(struct kefu_rtp_stream *s, int64_t now)
{
	int16_t pcm[FRAME];
	struct kefu_jitter_buffer_frame f;

	memset(pcm, 0, sizeof(pcm));

	if (s->recv && s->codec != CODEC_UNSUPPORTED &&
	    kefu_jitter_buffer_pop(s->jb, now, &f) ==
	    KEFU_JITTER_BUFFER_FRAME) {
		size_t n = MIN(f.len, (size_t)FRAME);

		if (s->codec == CODEC_PCMA)
			kefu_g711_alaw_decode(pcm, f.payload, n);
		else
			kefu_g711_ulaw_decode(pcm, f.payload, n);
	}
	/* a missing frame is concealed with the silence already there */

	kefu_audio_sink_write(s->sink, pcm, FRAME);
}

static void
send_frame(struct kefu_rtp_stream *s, int64_t now)
{
	int16_t pcm[FRAME];
	uint8_t payload[FRAME];
	struct kefu_rfc4733_packet pkt;
	bool can_send = s->send && sa_isset(&s->dst, SA_ALL) &&
		(s->codec == CODEC_PCMU || s->codec == CODEC_PCMA);

	(void)kefu_audio_source_read(s->src, pcm, FRAME);

	if (!can_send)
		goto out;

	if (s->telev_pt >= 0 && !kefu_rfc4733_sender_is_idle(s->telev_tx)) {
		while (0 == kefu_rfc4733_sender_pull(s->telev_tx, now, s->ts,
						     &pkt)) {
			(void)send_packet(s, pkt.marker, (uint8_t)s->telev_pt,
					  pkt.timestamp, pkt.payload, pkt.len);
		}
		s->marker = true;
		goto out;
	}

	if (s->codec == CODEC_PCMA)
		kefu_g711_alaw_encode(payload, pcm, FRAME);
	else
		kefu_g711_ulaw_encode(payload, pcm, FRAME);

	(void)send_packet(s, s->marker, s->pt, s->ts, payload, FRAME);
	s->marker = false;

 out:
	s->ts += FRAME;
}

static void
on_tick(void *arg)
{
	struct kefu_rtp_stream *s = arg;
	uint64_t now_ms = tmr_jiffies();
	unsigned n = 0;

	while (s->running && s->next_ms <= now_ms && n++ < MAX_CATCH_UP) {
		int64_t now = g_get_monotonic_time();

		kefu_rfc4733_receiver_poll(s->telev_rx, now);
		play_frame(s, now);
		send_frame(s, now);
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
	s->ts = rand_u32();
	s->marker = true;

	err = kefu_jitter_buffer_alloc(&s->jb, NULL);
	if (err)
		goto out;
	err = kefu_rfc4733_receiver_alloc(&s->telev_rx, 8000,
					  on_telev_report, s);
	if (err)
		goto out;
	err = kefu_rfc4733_sender_alloc(&s->telev_tx, 8000, PTIME_MS,
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

	return CODEC_UNSUPPORTED;
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
		rtcp_set_srate(s->rs, 8000, 8000);
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
	st->packets_received = jbs.received;
	st->packets_lost = jbs.lost;
	st->loss_percent = jbs.loss_percent;
	st->jitter_ms = jbs.jitter_ms;
	st->mos = jbs.received ? jbs.mos : 0.0;

	/* The peer's telephone-events take sequence numbers from the audio
	 * stream (RFC 4733 §2.1): the jitter buffer, seeing only audio,
	 * counts them as lost. */
	if (s->telev_packets && jbs.expected) {
		uint64_t te = MIN(s->telev_packets, jbs.lost);
		uint64_t expected = jbs.expected - te;

		st->packets_lost = jbs.lost - te;
		st->loss_percent = expected ? 100.0 * (double)(st->packets_lost
					+ jbs.late) / (double)expected : 0.0;
		st->mos = kefu_jitter_buffer_mos(st->loss_percent,
						 jbs.jitter_ms,
						 st->rtt_ms / 2 + PTIME_MS);
	}
}
