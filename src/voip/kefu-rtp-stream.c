/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * One call's audio RTP session on libre's rtp and rtcp, driven every 20 ms
 * on the libre thread.  libre-facing: libre's tabs.
 *
 * One clock per thread (the ticker, a timerfd in libre's loop) drives all
 * the streams of that thread that have 20 ms work.  libre 1.1 keeps its
 * timers in one sorted list that every tmr_start walks from the far end:
 * with thousands of calls up (their SIP transactions hold timers for
 * 32 s) a timer restarted 50 times a second, or one per stream, costs a
 * walk of thousands of entries each time.  The ticker is in no such list.
 * A stream that relays packets (kefu_rtp_stream_set_relay without decode)
 * has no 20 ms work: each packet is handed on as it arrives, and the
 * stream joins the ticker only while an RFC 4733 digit of its own is being
 * sent or a received event is open (its end may have to be timed out).
 * Sending reuses one buffer per stream: no allocation per packet.
 *
 * RTCP (RFC 3550 6) goes from the ticker too, not from libre's rtcp_start,
 * which gives every session a timer of its own: each running stream with
 * a peer address is in the ticker's wheel of report times (a slot per
 * tick), and sends a sender or receiver report with its CNAME at
 * randomised intervals around 5 s, a BYE when it stops.  Its report block
 * comes from our own receive statistics (sequence, loss, jitter, the last
 * sender report heard), kept on both receive paths below.  libre's RTCP
 * session still reads what the peer reports (round-trip time, its loss
 * and jitter of our packets: kefu_rtp_stream_stats).
 *
 * Relaying packets without SRTP, a stream's RTP socket is read by a relay
 * worker thread instead of libre's loop (relay_rx_update): one recvfrom
 * into a buffer on the stack, the header parsed here, the packet sent on
 * by the other stream at once, from that thread.  One libre thread cannot
 * forward the 160,000 packets a second of 1,600 bridged calls, and would
 * read its SIP socket once per turn of a loop that serves thousands of RTP
 * sockets; the workers (one per core, each with its own epoll) carry the
 * media while the libre thread keeps signalling, IVR and ACD.  A worker
 * owns a relaying stream under its lock: whatever the libre thread does to
 * such a stream (update, stop, relay off, digits to send, free) it does
 * holding that lock, and a relay's two streams share a worker.  What is
 * not audio of the negotiated type (telephone-events) goes back to the
 * libre thread through a pipe, by the stream's id, and is handled there as
 * before (digits reported, events forwarded).  libre's receive path (an
 * 8 KB mbuf allocated per packet, RTCP's receive statistics under a lock)
 * is skipped too; the worker keeps the statistics our reports give.
 */
#define G_LOG_DOMAIN "KefuRtpStream"

#include "config.h"

#include "kefu-rtp-stream.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define HAVE_INTTYPES_H 1
#define HAVE_STDBOOL_H 1
#define HAVE_INET6 1
#include <re.h>

#include "kefu-call-recorder.h"
#include "kefu-dtmf-detector.h"
#include "kefu-dtmf-tones.h"
#include "kefu-g711.h"
#include "kefu-io-error.h"
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
	/* RTCP: RFC 3550 6.2's minimum interval, which a two-party audio
	 * session's share of the bandwidth never exceeds; the wheel of
	 * report times spans more than its longest randomised value */
	RTCP_INTERVAL_MS = 5000,
	RTCP_SLOTS = 512,          /* of PTIME_MS: 10.24 s */
	RTCP_MAX_DROPOUT = 3000,   /* RFC 3550 A.1 */
	RTCP_MAX_MISORDER = 100,
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

/* What our report blocks say of the source we receive (RFC 3550 A.1,
 * A.3, A.8). */
struct rtcp_rx {
	bool init;
	uint32_t ssrc;
	uint32_t gen;              /* counts restarts of the sequence */
	uint16_t max_seq;
	uint32_t cycles;           /* sequence wraps, shifted by 16 */
	uint32_t base_seq;
	uint32_t bad_seq;          /* a jump waiting for its confirmation */
	uint32_t received;
	uint32_t transit;          /* of the last audio packet, clock units */
	bool have_transit;
	uint32_t jitter;           /* times 16 */
};

/* What a report reads of the counts (rtcp_counts_read). */
struct rtcp_counts {
	struct rtcp_rx rx;
	uint64_t sent;
	uint64_t octets;
	uint32_t tx_ts;
	int64_t tx_us;
};

/* The 20 ms clock of a thread's streams (see the top of this file). */
struct ticker {
	int tfd;                   /* the timerfd, or -1: then tmr */
	struct tmr tmr;
	struct list streams;       /* kefu_rtp_stream, by tick_le */
	struct le *iter_next;      /* during a tick: the next to visit */
	uint64_t next_ms;          /* when the next tick is due */
	bool in_tick;

	/* RTCP reports due, by the tick of their time (rtcp_le) */
	struct list rtcp[RTCP_SLOTS];
	unsigned rtcp_n;
	uint64_t rtcp_slot;        /* the last tick served */
	struct mbuf *rtcp_mb;      /* what a report is written in */
};

static __thread struct ticker *thread_ticker;

struct kefu_rtp_stream {
	struct rtp_sock *rs;
	struct kefu_srtp *srtp;    /* on rs's sockets, freed before them */
	struct ticker *ticker;     /* while ticking */
	struct le tick_le;
	struct mbuf *txmb;         /* what we send, reused */
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

	/* relaying (kefu_rtp_stream_set_relay) */
	uint64_t id;               /* for what a worker sends back */
	struct relay_worker *worker;   /* reads our RTP socket, or NULL */
	int rx_fd;                 /* registered with the worker */
	struct kefu_rtp_stream *relay_peer;   /* kefu_rtp_stream_relay_link */
	kefu_rtp_stream_packet_h *relayh;
	void *relay_arg;
	bool relay_decode;         /* and play what comes, as usual */
	bool fwd_have_ssrc;
	uint32_t fwd_ssrc;         /* the source of what we forward */
	uint32_t fwd_off;          /* its timestamps + this = ours */

	/* RTCP (see the top of this file) */
	struct ticker *rtcp_ticker;   /* while reports are due */
	struct le rtcp_le;
	uint64_t rtcp_due_ms;
	struct sa rtcp_dst;        /* the peer's RTP port + 1 */
	uint64_t rtcp_sent_at[2];  /* sent, at the last two reports */
	uint32_t rtcp_gen;         /* rx.gen at the last report, */
	uint32_t expected_prior;   /*   and what it counted */
	uint32_t received_prior;
	uint32_t lsr;              /* the peer's last sender report, */
	uint32_t lsr_ssrc;         /*   whose it was, */
	int64_t lsr_us;            /*   and when it came (0: none) */
	bool tx_ts_stale;          /* atomic: the next audio sent is taken */
	/* counted where the packets are received and sent (a relay worker,
	 * or here) and read by the reports without the worker's lock: a
	 * seqlock, odd while they change (rtcp_counts_read) */
	unsigned counts_seq;
	struct rtcp_rx rx;
	uint64_t octets;           /* payload sent (and sent, above) */
	uint32_t tx_ts;            /* an audio timestamp sent, */
	int64_t tx_us;             /*   and when (0: none yet) */

	/* decoded, not yet played: the rest of a packet longer than a frame */
	size_t playout_len;
	int16_t playout[PLAYOUT_MAX];
	struct plc plc;
};

/* --- the ticker ---------------------------------------------------------- */

struct relay_worker;
static void relay_rx_detach(struct kefu_rtp_stream *s);
static void relay_forget(struct kefu_rtp_stream *s);
static void relay_lock(struct kefu_rtp_stream *s);
static void relay_unlock(struct relay_worker *w);

static void stream_tick(struct kefu_rtp_stream *s, uint64_t now_ms,
			uint64_t next_tick_ms);
static void rtcp_tick(struct ticker *t, uint64_t now_ms);
static void rtcp_reports_stop(struct kefu_rtp_stream *s, bool bye);

static bool
ticker_idle(const struct ticker *t)
{
	return list_isempty(&t->streams) && !t->rtcp_n && !t->in_tick;
}

static void
ticker_destructor(void *arg)
{
	struct ticker *t = arg;

	tmr_cancel(&t->tmr);
	if (t->tfd >= 0) {
		fd_close(t->tfd);
		(void)close(t->tfd);
	}
	mem_deref(t->rtcp_mb);
	if (thread_ticker == t)
		thread_ticker = NULL;
}

static void on_ticker(void *arg);

/* One turn of the clock at now_ms, the ticker's own time: false when
 * nothing is left for it to do (it is freed then). */
static bool
ticker_run(struct ticker *t, uint64_t now_ms)
{
	/* too far behind: the backlog is dropped rather than burst */
	t->next_ms += PTIME_MS;
	if (t->next_ms <= now_ms)
		t->next_ms = now_ms + PTIME_MS;

	t->in_tick = true;
	for (struct le *le = t->streams.head; le; le = t->iter_next) {
		struct kefu_rtp_stream *s = mem_ref(le->data);

		t->iter_next = le->next;
		stream_tick(s, now_ms, t->next_ms);
		mem_deref(s);   /* freed meanwhile: it went from the list */
	}
	t->iter_next = NULL;
	rtcp_tick(t, now_ms);
	t->in_tick = false;

	if (ticker_idle(t)) {
		mem_deref(t);
		return false;
	}

	return true;
}

/* The timerfd: time is counted in its expirations, so that frames due on
 * a tick are never a tick late for a clock read a little early. */
static void
on_ticker_fd(int flags, void *arg)
{
	struct ticker *t = arg;
	uint64_t n = 0;

	(void)flags;
	if (read(t->tfd, &n, sizeof(n)) != (ssize_t)sizeof(n) || !n)
		return;
	(void)ticker_run(t, t->next_ms + (n - 1) * PTIME_MS);
}

static void
on_ticker(void *arg)
{
	struct ticker *t = arg;
	uint64_t now_ms = tmr_jiffies();

	if (ticker_run(t, now_ms))
		tmr_start(&t->tmr, t->next_ms - now_ms, on_ticker, t);
}

static struct ticker *
ticker_get(void)
{
	struct itimerspec period = {
		.it_interval = { .tv_nsec = PTIME_MS * 1000000L },
		.it_value = { .tv_nsec = PTIME_MS * 1000000L },
	};
	struct ticker *t = thread_ticker;

	if (t)
		return t;

	t = mem_zalloc(sizeof(*t), ticker_destructor);
	if (!t) {
		g_warning("media clock: %s", g_strerror(ENOMEM));
		return NULL;
	}
	tmr_init(&t->tmr);
	list_init(&t->streams);
	for (unsigned i = 0; i < RTCP_SLOTS; i++)
		list_init(&t->rtcp[i]);
	t->next_ms = tmr_jiffies() + PTIME_MS;
	t->rtcp_slot = t->next_ms / PTIME_MS;
	t->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (t->tfd >= 0 &&
	    (timerfd_settime(t->tfd, 0, &period, NULL) ||
	     fd_listen(t->tfd, FD_READ, on_ticker_fd, t))) {
		(void)close(t->tfd);
		t->tfd = -1;
	}
	/* no descriptor to spare: libre's timer list, as it costs */
	if (t->tfd < 0)
		tmr_start(&t->tmr, PTIME_MS, on_ticker, t);
	thread_ticker = t;

	return t;
}

static void
stream_tick_start(struct kefu_rtp_stream *s)
{
	struct ticker *t;

	if (s->ticker)
		return;

	t = ticker_get();
	if (!t)
		return;

	list_append(&t->streams, &s->tick_le, s);
	s->ticker = t;
	s->next_ms = t->next_ms;
}

static void
stream_tick_stop(struct kefu_rtp_stream *s)
{
	struct ticker *t = s->ticker;

	if (!t)
		return;

	if (t->iter_next == &s->tick_le)
		t->iter_next = s->tick_le.next;
	list_unlink(&s->tick_le);
	s->ticker = NULL;

	if (ticker_idle(t))
		mem_deref(t);
}

/* Whether the stream has 20 ms work: always while it plays and sends its
 * own audio; relaying packets, only for RFC 4733 events. */
static bool
stream_needs_tick(const struct kefu_rtp_stream *s)
{
	if (!s->running)
		return false;
	if (!s->relayh || s->relay_decode)
		return true;

	return !kefu_rfc4733_sender_is_idle(s->telev_tx) ||
		kefu_rfc4733_receiver_deadline(s->telev_rx, NULL);
}

static void
stream_tick_update(struct kefu_rtp_stream *s)
{
	if (stream_needs_tick(s))
		stream_tick_start(s);
	else
		stream_tick_stop(s);
}

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

	stream_tick_stop(s);
	relay_forget(s);
	rtcp_reports_stop(s, true);
	finish_recording(s);
	mem_deref(s->txmb);
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

/* The counts' seqlock, writer's side: one writer at a time (the relay
 * worker's lock, or libre's thread alone). */
static void
rtcp_counts_write_begin(struct kefu_rtp_stream *s)
{
	__atomic_store_n(&s->counts_seq, s->counts_seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static void
rtcp_counts_write_end(struct kefu_rtp_stream *s)
{
	__atomic_store_n(&s->counts_seq, s->counts_seq + 1, __ATOMIC_RELEASE);
}

/* Reader's side (libre's thread): a copy not torn by a packet counted
 * meanwhile.  A worker holds its lock for a whole batch of packets;
 * reports of thousands of streams waiting for it would stall the SIP. */
static void
rtcp_counts_read(const struct kefu_rtp_stream *s, struct rtcp_counts *c)
{
	for (;;) {
		unsigned seq = __atomic_load_n(&s->counts_seq, __ATOMIC_ACQUIRE);

		if (seq & 1) {
			sched_yield();
			continue;
		}
		c->rx = s->rx;
		c->sent = s->sent;
		c->octets = s->octets;
		c->tx_ts = s->tx_ts;
		c->tx_us = s->tx_us;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&s->counts_seq, __ATOMIC_RELAXED) == seq)
			return;
	}
}

static void
rtcp_rx_init_seq(struct rtcp_rx *rx, uint16_t seq)
{
	rx->gen++;
	rx->base_seq = seq;
	rx->max_seq = seq;
	rx->bad_seq = 1u << 16 | 1;   /* no sequence number is that */
	rx->cycles = 0;
	rx->received = 0;
	rx->have_transit = false;
}

/* A packet of ours (audio or a telephone-event) from the source we hear,
 * at @now_us; telephone-events keep their timestamp for a whole event:
 * they count, but not for jitter.  Where the packet is received: a relay
 * worker under its lock, or libre's thread. */
static void
rtcp_rx_update(struct kefu_rtp_stream *s, uint32_t ssrc, uint16_t seq,
	       uint32_t ts, bool audio, int64_t now_us)
{
	struct rtcp_rx *rx = &s->rx;
	uint16_t delta;

	rtcp_counts_write_begin(s);

	if (!rx->init || rx->ssrc != ssrc) {
		rx->init = true;
		rx->ssrc = ssrc;
		rx->jitter = 0;
		rtcp_rx_init_seq(rx, seq);
	}

	delta = (uint16_t)(seq - rx->max_seq);
	if (delta < RTCP_MAX_DROPOUT) {
		if (seq < rx->max_seq)
			rx->cycles += 1u << 16;
		rx->max_seq = seq;
	}
	else if (delta <= (1u << 16) - RTCP_MAX_MISORDER) {
		/* a jump: the source restarted if the next one follows it */
		if (seq != rx->bad_seq) {
			rx->bad_seq = (uint16_t)(seq + 1);
			goto out;
		}
		rtcp_rx_init_seq(rx, seq);
	}
	/* else late or repeated: counted, as A.1 does */
	rx->received++;

	if (audio && s->clock) {
		uint32_t arrival = (uint32_t)((uint64_t)now_us * s->clock /
					      G_USEC_PER_SEC);
		uint32_t transit = arrival - ts;

		if (rx->have_transit) {
			int32_t d = (int32_t)(transit - rx->transit);
			uint32_t ad = d < 0 ? (uint32_t)-d : (uint32_t)d;

			rx->jitter += ad - ((rx->jitter + 8) >> 4);
		}
		rx->transit = transit;
		rx->have_transit = true;
	}
 out:
	rtcp_counts_write_end(s);
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
	rtcp_rx_update(s, hdr->ssrc, hdr->seq, hdr->ts, !telev, now);

	if (s->relayh) {
		struct kefu_rtp_packet pkt = {
			.pt = hdr->pt,
			.marker = hdr->m,
			.telev = telev,
			.seq = hdr->seq,
			.ts = hdr->ts,
			.ssrc = hdr->ssrc,
			.payload = mbuf_buf(mb),
			.len = len,
		};

		s->relayh(s, &pkt, s->relay_arg);
		if (!telev && !s->relay_decode)
			return;
	}

	if (telev) {
		s->telev_packets++;
		s->telev_arrival_us = now;
		(void)kefu_rfc4733_receiver_push(s->telev_rx, mbuf_buf(mb),
						 len, hdr->ts, hdr->seq,
						 hdr->m, now);
		if (!s->ticker)
			stream_tick_update(s);   /* its end may need timing */
		return;
	}

	(void)kefu_jitter_buffer_push(s->jb, hdr->ssrc, hdr->seq, hdr->ts,
				      hdr->m, mbuf_buf(mb), len, now);
}

/* --- relay workers: RTP sockets read off libre's thread ------------------ */

enum {
	RELAY_RX_MAX = 1500,
	RELAY_EVENTS = 256,
	RELAY_BACK_PAYLOAD = 64,    /* a telephone-event is 4 octets */
	RELAY_WORKERS_MAX = 8,
};

struct relay_slot {
	struct kefu_rtp_stream *s;
	uint32_t gen;
};

struct relay_worker {
	pthread_t thread;
	int epfd;
	pthread_mutex_t lock;       /* held while a batch is served */
	struct relay_slot *slots;   /* by fd */
	int nslots;
};

/* A packet the libre thread must handle (not relayed audio). */
struct relay_back {
	uint64_t id;
	struct sa src;
	struct rtp_header hdr;
	uint16_t len;
	uint8_t payload[RELAY_BACK_PAYLOAD];
};

static struct relay_worker *relay_workers[RELAY_WORKERS_MAX];
static unsigned relay_nworkers;
static int relay_back_pipe[2] = { -1, -1 };
static bool relay_back_listening;   /* while a stream is on a worker */
static uint32_t relay_gen;
static uint64_t stream_next_id = 1;
static GHashTable *stream_by_id;    /* libre thread: id -> stream */

static void on_rtp(const struct sa *src, const struct rtp_header *hdr,
		   struct mbuf *mb, void *arg);

static void
relay_lock(struct kefu_rtp_stream *s)
{
	if (s->worker)
		pthread_mutex_lock(&s->worker->lock);
}

static void
relay_unlock(struct relay_worker *w)
{
	if (w)
		pthread_mutex_unlock(&w->lock);
}

/* RFC 3550 5.1; the payload offset, or 0 when it is not RTP. */
static size_t
rtp_parse(const uint8_t *buf, size_t n, struct rtp_header *hdr)
{
	size_t pos;

	if (n < RTP_HEADER_SIZE)
		return 0;
	memset(hdr, 0, sizeof(*hdr));
	hdr->ver = buf[0] >> 6;
	hdr->pad = (buf[0] >> 5) & 1;
	hdr->ext = (buf[0] >> 4) & 1;
	hdr->cc = buf[0] & 0x0f;
	hdr->m = buf[1] >> 7;
	hdr->pt = buf[1] & 0x7f;
	hdr->seq = (uint16_t)(buf[2] << 8 | buf[3]);
	hdr->ts = (uint32_t)buf[4] << 24 | (uint32_t)buf[5] << 16 |
		(uint32_t)buf[6] << 8 | buf[7];
	hdr->ssrc = (uint32_t)buf[8] << 24 | (uint32_t)buf[9] << 16 |
		(uint32_t)buf[10] << 8 | buf[11];
	if (hdr->ver != 2)
		return 0;

	pos = RTP_HEADER_SIZE + 4 * (size_t)hdr->cc;
	if (hdr->ext) {
		if (n < pos + 4)
			return 0;
		hdr->x.type = (uint16_t)(buf[pos] << 8 | buf[pos + 1]);
		hdr->x.len = (uint16_t)(buf[pos + 2] << 8 | buf[pos + 3]);
		pos += 4 + 4 * (size_t)hdr->x.len;
	}

	return n < pos ? 0 : pos;
}

/* Worker thread, under its lock: one datagram of a relaying stream. */
static void
relay_serve(struct kefu_rtp_stream *s, int fd)
{
	uint8_t buf[RELAY_RX_MAX];
	struct rtp_header hdr;
	struct sa src;
	size_t pos, len;
	ssize_t n;

	sa_init(&src, AF_INET);
	src.len = sizeof(src.u);
	n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, &src.u.sa, &src.len);
	if (n <= 0)
		return;
	pos = rtp_parse(buf, (size_t)n, &hdr);
	if (!pos)
		return;
	len = (size_t)n - pos;
	if (hdr.pad) {
		uint8_t pad = len ? buf[n - 1] : 0;

		if (pad == 0 || pad > len)
			return;
		len -= pad;
	}

	if (!s->running || !s->recv || !s->relayh)
		return;

	if (hdr.pt == s->pt && codec_is_coded(s->codec)) {
		struct kefu_rtp_packet pkt = {
			.pt = hdr.pt,
			.marker = hdr.m,
			.seq = hdr.seq,
			.ts = hdr.ts,
			.ssrc = hdr.ssrc,
			.payload = buf + pos,
			.len = len,
		};

		/* symmetric RTP, as on_rtp */
		if (!s->latched || !sa_cmp(&s->dst, &src, SA_ALL)) {
			sa_cpy(&s->dst, &src);
			s->latched = true;
		}
		s->remote_ssrc = hdr.ssrc;
		s->have_remote_ssrc = true;
		rtcp_rx_update(s, hdr.ssrc, hdr.seq, hdr.ts, true,
			       g_get_monotonic_time());
		s->relayh(s, &pkt, s->relay_arg);
		return;
	}

	if (s->telev_pt >= 0 && hdr.pt == s->telev_pt &&
	    len <= RELAY_BACK_PAYLOAD && relay_back_pipe[1] >= 0) {
		struct relay_back back = {
			.id = s->id,
			.src = src,
			.hdr = hdr,
			.len = (uint16_t)len,
		};

		memcpy(back.payload, buf + pos, len);
		/* a full pipe loses the event packet, as the network may */
		if (write(relay_back_pipe[1], &back, sizeof(back)) < 0)
			return;
	}
}

static void *
relay_worker_main(void *arg)
{
	struct relay_worker *w = arg;
	struct epoll_event ev[RELAY_EVENTS];

	for (;;) {
		int n = epoll_wait(w->epfd, ev, RELAY_EVENTS, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			g_warning("relay worker: epoll: %s", g_strerror(errno));
			return NULL;
		}

		pthread_mutex_lock(&w->lock);
		for (int i = 0; i < n; i++) {
			int fd = (int)(ev[i].data.u64 & 0xffffffff);
			uint32_t gen = (uint32_t)(ev[i].data.u64 >> 32);

			/* gone or replaced since epoll_wait returned */
			if (fd < 0 || fd >= w->nslots || !w->slots[fd].s ||
			    w->slots[fd].gen != gen)
				continue;
			relay_serve(w->slots[fd].s, fd);
		}
		pthread_mutex_unlock(&w->lock);
	}

	return NULL;
}

/* Libre thread: telephone-events (and what else a worker gives back). */
static void
on_relay_back(int flags, void *arg)
{
	struct relay_back back;

	(void)flags;
	(void)arg;

	for (int i = 0; i < 64; i++) {
		struct kefu_rtp_stream *s;
		struct relay_worker *w;
		struct mbuf mb;

		if (read(relay_back_pipe[0], &back, sizeof(back)) !=
		    (ssize_t)sizeof(back))
			return;
		s = stream_by_id ? g_hash_table_lookup(stream_by_id, &back.id)
			: NULL;
		if (!s)
			continue;

		memset(&mb, 0, sizeof(mb));
		mb.buf = back.payload;
		mb.size = sizeof(back.payload);
		mb.end = back.len;

		/* padding is gone already */
		back.hdr.pad = false;
		w = s->worker;
		relay_lock(s);
		on_rtp(&back.src, &back.hdr, &mb, s);
		relay_unlock(w);
	}
}

static int
relay_workers_start(void)
{
	struct rlimit rl;
	unsigned n;
	int err;

	if (relay_nworkers)
		return 0;

	if (pipe2(relay_back_pipe, O_CLOEXEC | O_NONBLOCK))
		return errno;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		rl.rlim_cur = 1024;
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1 << 20)
		rl.rlim_cur = 1 << 20;

	n = CLAMP(g_get_num_processors(), 1, RELAY_WORKERS_MAX);
	if (g_getenv("KEFU_RELAY_THREADS"))
		n = CLAMP(atoi(g_getenv("KEFU_RELAY_THREADS")), 1,
			  RELAY_WORKERS_MAX);

	for (unsigned i = 0; i < n; i++) {
		struct relay_worker *w = g_new0(struct relay_worker, 1);

		w->epfd = epoll_create1(EPOLL_CLOEXEC);
		w->nslots = (int)rl.rlim_cur;
		w->slots = g_new0(struct relay_slot, w->nslots);
		{
			pthread_mutexattr_t attr;

			/* the libre thread may take it again from a handler
			 * (a digit sent on by the other leg, a stream freed) */
			pthread_mutexattr_init(&attr);
			pthread_mutexattr_settype(&attr,
						  PTHREAD_MUTEX_RECURSIVE);
			pthread_mutex_init(&w->lock, &attr);
			pthread_mutexattr_destroy(&attr);
		}
		if (w->epfd < 0 ||
		    pthread_create(&w->thread, NULL, relay_worker_main, w)) {
			g_warning("relay worker: %s", g_strerror(errno));
			if (w->epfd >= 0)
				close(w->epfd);
			g_free(w->slots);
			g_free(w);
			break;
		}
		relay_workers[relay_nworkers++] = w;
	}
	if (relay_nworkers)
		return 0;
	err = EAGAIN;

	close(relay_back_pipe[0]);
	close(relay_back_pipe[1]);
	relay_back_pipe[0] = relay_back_pipe[1] = -1;

	return err;
}

static void
relay_rx_detach(struct kefu_rtp_stream *s)
{
	struct relay_worker *w = s->worker;
	struct udp_sock *us = rtp_sock(s->rs);
	int err;

	if (!w)
		return;

	pthread_mutex_lock(&w->lock);
	(void)epoll_ctl(w->epfd, EPOLL_CTL_DEL, s->rx_fd, NULL);
	if (s->rx_fd < w->nslots)
		w->slots[s->rx_fd].s = NULL;
	s->worker = NULL;
	pthread_mutex_unlock(&w->lock);

	err = udp_thread_attach(us);
	if (err)
		g_warning("RTP socket: %s", g_strerror(err));
}

static bool
relay_rx_eligible(const struct kefu_rtp_stream *s)
{
	struct udp_sock *us = s ? rtp_sock(s->rs) : NULL;

	return s && s->relayh && !s->relay_decode && !s->srtp && us &&
		udp_sock_fd(us, AF_INET) >= 0 &&
		!g_getenv("KEFU_RELAY_NO_THREADS");
}

static void
relay_rx_attach(struct kefu_rtp_stream *s)
{
	struct udp_sock *us = rtp_sock(s->rs);
	struct relay_worker *w;
	struct epoll_event ev;
	int fd;

	if (s->worker || relay_workers_start())
		return;

	fd = udp_sock_fd(us, AF_INET);
	/* a relay's two streams share a worker: its arg is the relay */
	w = relay_workers[((uintptr_t)s->relay_arg >> 6) % relay_nworkers];
	if (fd < 0 || fd >= w->nslots)
		return;

	if (!relay_back_listening) {
		if (fd_listen(relay_back_pipe[0], FD_READ, on_relay_back, NULL))
			return;
		relay_back_listening = true;
	}
	if (!stream_by_id)
		stream_by_id = g_hash_table_new(g_int64_hash, g_int64_equal);
	g_hash_table_replace(stream_by_id, &s->id, s);

	udp_thread_detach(us);
	pthread_mutex_lock(&w->lock);
	w->slots[fd].s = s;
	w->slots[fd].gen = ++relay_gen;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = (uint64_t)w->slots[fd].gen << 32 | (uint32_t)fd;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		w->slots[fd].s = NULL;
		pthread_mutex_unlock(&w->lock);
		(void)udp_thread_attach(us);
		return;
	}
	s->worker = w;
	s->rx_fd = fd;
	pthread_mutex_unlock(&w->lock);
}

/* Both streams of a packet relay to a worker, or neither: a worker sends
 * on the other stream, which must be its too (libre thread). */
static void
relay_rx_update(struct kefu_rtp_stream *s)
{
	struct kefu_rtp_stream *p = s->relay_peer;
	bool want = p && p->relay_peer == s && relay_rx_eligible(s) &&
		relay_rx_eligible(p);

	if (!want) {
		relay_rx_detach(s);
		if (p)
			relay_rx_detach(p);
		return;
	}
	relay_rx_attach(s);
	relay_rx_attach(p);
	if (!s->worker || !p->worker || s->worker != p->worker) {
		relay_rx_detach(s);
		relay_rx_detach(p);
	}
}

static void
relay_forget(struct kefu_rtp_stream *s)
{
	struct kefu_rtp_stream *p = s->relay_peer;

	s->relay_peer = NULL;
	if (p && p->relay_peer == s) {
		p->relay_peer = NULL;
		relay_rx_detach(p);
	}
	relay_rx_detach(s);
	if (stream_by_id)
		g_hash_table_remove(stream_by_id, &s->id);
	/* nothing on a worker: libre's loop need not watch the pipe (and
	 * does not complain of it at exit) */
	if (relay_back_listening && stream_by_id &&
	    !g_hash_table_size(stream_by_id)) {
		fd_close(relay_back_pipe[0]);
		relay_back_listening = false;
	}
}

/* --- RTCP ---------------------------------------------------------------- */

/* The peer's sender reports (libre's session reads the rest): when the
 * last one came, for the LSR and DLSR of our report block, from which the
 * peer learns the round-trip time. */
static void
on_rtcp(const struct sa *src, struct rtcp_msg *msg, void *arg)
{
	struct kefu_rtp_stream *s = arg;

	(void)src;
	if (msg->hdr.pt != RTCP_SR)
		return;

	s->lsr = msg->r.sr.ntp_sec << 16 | msg->r.sr.ntp_frac >> 16;
	s->lsr_ssrc = msg->r.sr.ssrc;
	s->lsr_us = g_get_monotonic_time();
}

/* RFC 3550 6.2 and 6.3.1: the minimum interval (half of it before the
 * first report), spread over [0.5, 1.5] of it so that the reports of
 * calls set up together do not stay in step.  With two members the
 * interval is always the minimum: there is no reconsideration, nor its
 * compensation factor, and reports come every 5 s on average. */
static uint64_t
rtcp_interval_ms(bool first)
{
	uint32_t td = first ? RTCP_INTERVAL_MS / 2 : RTCP_INTERVAL_MS;

	return td / 2 + rand_u32() % td;
}

static void
rtcp_schedule(struct kefu_rtp_stream *s, uint64_t due_ms)
{
	struct ticker *t = s->rtcp_ticker;

	list_unlink(&s->rtcp_le);
	s->rtcp_due_ms = due_ms;
	list_append(&t->rtcp[(due_ms / PTIME_MS) % RTCP_SLOTS], &s->rtcp_le,
		    s);
}

static int
encode_report_block(struct mbuf *mb, void *arg)
{
	const uint32_t *word = arg;
	int err = 0;

	for (unsigned i = 0; i < 6; i++)
		err |= mbuf_write_u32(mb, htonl(word[i]));

	return err;
}

static int
encode_cname(struct mbuf *mb, void *arg)
{
	const struct kefu_rtp_stream *s = arg;

	return rtcp_sdes_encode(mb, rtp_sess_ssrc(s->rs), 1, RTCP_SDES_CNAME,
				"kefu");
}

/* RFC 3550 6.4.1: the report block of the source we hear, and the loss
 * since the last report. */
static void
rtcp_report_block(struct kefu_rtp_stream *s, const struct rtcp_rx *rx,
		  int64_t now_us, uint32_t word[6])
{
	uint32_t ext_max = rx->cycles + rx->max_seq;
	uint32_t expected = ext_max - rx->base_seq + 1;
	int64_t lost = (int64_t)expected - rx->received;
	uint32_t expected_int, fraction = 0;
	int64_t lost_int;

	/* the source started again: its counts too */
	if (s->rtcp_gen != rx->gen) {
		s->rtcp_gen = rx->gen;
		s->expected_prior = 0;
		s->received_prior = 0;
	}
	expected_int = expected - s->expected_prior;
	lost_int = (int64_t)expected_int -
		(uint32_t)(rx->received - s->received_prior);
	s->expected_prior = expected;
	s->received_prior = rx->received;
	if (expected_int && lost_int > 0)
		fraction = (uint32_t)MIN((lost_int << 8) / expected_int, 255);
	lost = CLAMP(lost, -0x800000, 0x7fffff);

	word[0] = rx->ssrc;
	word[1] = fraction << 24 | ((uint32_t)lost & 0xffffff);
	word[2] = ext_max;
	word[3] = rx->jitter >> 4;
	word[4] = 0;
	word[5] = 0;
	if (s->lsr_us && s->lsr_ssrc == rx->ssrc) {
		word[4] = s->lsr;
		word[5] = (uint32_t)((now_us - s->lsr_us) * 65536 /
				     G_USEC_PER_SEC);
	}
}

/* One compound packet (RFC 3550 6.1): a sender report when we sent RTP
 * since the report before the last, else a receiver report, our CNAME,
 * and a BYE when we leave (libre's thread). */
static void
rtcp_send_report(struct kefu_rtp_stream *s, struct mbuf *mb, bool bye)
{
	uint32_t ssrc = rtp_sess_ssrc(s->rs);
	int64_t now_us = g_get_monotonic_time();
	struct rtcp_counts c;
	uint32_t block[6];
	uint32_t count;
	bool we_sent;
	int err;

	rtcp_counts_read(s, &c);
	we_sent = c.sent != s->rtcp_sent_at[1];
	count = c.rx.init && c.rx.received ? 1 : 0;
	if (count)
		rtcp_report_block(s, &c.rx, now_us, block);
	s->rtcp_sent_at[1] = s->rtcp_sent_at[0];
	s->rtcp_sent_at[0] = c.sent;

	mb->pos = 0;
	mb->end = 0;
	if (we_sent) {
		struct timespec now;
		uint32_t rtp_ts = 0;

		/* the wall clock as NTP, and the media clock at that moment
		 * from the first audio packet after the last report */
		(void)clock_gettime(CLOCK_REALTIME, &now);
		if (c.tx_us)
			rtp_ts = c.tx_ts + (uint32_t)((uint64_t)(now_us -
					c.tx_us) * s->clock / G_USEC_PER_SEC);
		__atomic_store_n(&s->tx_ts_stale, true, __ATOMIC_RELAXED);
		err = rtcp_encode(mb, RTCP_SR, count, ssrc,
				  (uint32_t)(now.tv_sec + 2208988800u),
				  (uint32_t)(((uint64_t)now.tv_nsec << 32) /
					     1000000000u),
				  rtp_ts, (uint32_t)c.sent, (uint32_t)c.octets,
				  count ? encode_report_block : NULL, block);
	}
	else {
		err = rtcp_encode(mb, RTCP_RR, count, ssrc,
				  count ? encode_report_block : NULL, block);
	}
	if (!err)
		err = rtcp_encode(mb, RTCP_SDES, 1, encode_cname, s);
	if (!err && bye)
		err = rtcp_encode(mb, RTCP_BYE, 1, &ssrc, NULL);
	if (!err) {
		mb->pos = 0;
		err = udp_send(rtcp_sock(s->rs), &s->rtcp_dst, mb);
	}
	if (err)
		g_debug("RTCP: %s", g_strerror(err));
}

/* The ticker's turn: the reports due in the ticks since the last. */
static void
rtcp_tick(struct ticker *t, uint64_t now_ms)
{
	uint64_t slot = now_ms / PTIME_MS;
	uint64_t from = t->rtcp_slot + 1;

	if (slot < from)
		return;
	if (slot - from >= RTCP_SLOTS)
		from = slot - RTCP_SLOTS + 1;
	t->rtcp_slot = slot;

	for (uint64_t i = from; i <= slot && t->rtcp_n; i++) {
		struct le *le = t->rtcp[i % RTCP_SLOTS].head;

		while (le) {
			struct kefu_rtp_stream *s = le->data;

			le = le->next;
			/* a lap of the wheel ahead */
			if (s->rtcp_due_ms / PTIME_MS > slot)
				continue;
			rtcp_send_report(s, t->rtcp_mb, false);
			rtcp_schedule(s, now_ms + rtcp_interval_ms(false));
		}
	}
}

/* From the stream's first peer address on (phone thread). */
static void
rtcp_reports_start(struct kefu_rtp_stream *s)
{
	struct ticker *t;

	if (s->rtcp_ticker)
		return;

	t = ticker_get();
	if (!t)
		return;
	if (!t->rtcp_mb)
		t->rtcp_mb = mbuf_alloc(256);
	if (!t->rtcp_mb) {
		g_warning("RTCP: %s", g_strerror(ENOMEM));
		if (ticker_idle(t))
			mem_deref(t);
		return;
	}

	rtcp_set_srate(s->rs, s->clock, s->clock);
	s->rtcp_ticker = t;
	t->rtcp_n++;
	rtcp_schedule(s, t->next_ms + rtcp_interval_ms(true));
}

/* No more reports; with @bye, a last one that says so (phone thread). */
static void
rtcp_reports_stop(struct kefu_rtp_stream *s, bool bye)
{
	struct ticker *t = s->rtcp_ticker;

	if (!t)
		return;

	if (bye)
		rtcp_send_report(s, t->rtcp_mb, true);
	list_unlink(&s->rtcp_le);
	s->rtcp_ticker = NULL;
	t->rtcp_n--;
	if (ticker_idle(t))
		mem_deref(t);
}

static int
send_packet(struct kefu_rtp_stream *s, bool marker, uint8_t pt, uint32_t ts,
	    const uint8_t *payload, size_t len)
{
	struct mbuf *mb = s->txmb;
	int err;

	/* the header goes in front (rtp_send), SRTP's tag behind */
	mb->pos = RTP_HEADER_SIZE;
	mb->end = RTP_HEADER_SIZE;
	err = mbuf_write_mem(mb, payload, len);
	mb->pos = RTP_HEADER_SIZE;
	if (!err)
		err = rtp_send(s->rs, &s->dst, false, marker, pt, ts, mb);
	if (err)
		return err;

	rtcp_counts_write_begin(s);
	s->sent++;
	s->octets += len;
	/* what the next sender report's timestamp is reckoned from */
	if (pt == s->pt && __atomic_load_n(&s->tx_ts_stale, __ATOMIC_RELAXED)) {
		__atomic_store_n(&s->tx_ts_stale, false, __ATOMIC_RELAXED);
		s->tx_ts = ts;
		s->tx_us = g_get_monotonic_time();
	}
	rtcp_counts_write_end(s);

	return 0;
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

/* Relaying: only our own RFC 4733 digits go from the tick, at the
 * timestamp the relayed audio has reached. */
static void
send_relay_events(struct kefu_rtp_stream *s, int64_t now)
{
	struct kefu_rfc4733_packet pkt;

	if (s->telev_pt < 0 || kefu_rfc4733_sender_is_idle(s->telev_tx) ||
	    !s->send || !sa_isset(&s->dst, SA_ALL))
		return;

	while (0 == kefu_rfc4733_sender_pull(s->telev_tx, now, s->ts, &pkt)) {
		(void)send_packet(s, pkt.marker, (uint8_t)s->telev_pt,
				  pkt.timestamp, pkt.payload, pkt.len);
	}
	s->marker = true;
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

/* The stream's frames due by now_ms (the ticker's turn). */
static void
stream_tick(struct kefu_rtp_stream *s, uint64_t now_ms, uint64_t next_tick_ms)
{
	struct relay_worker *w = s->worker;
	unsigned n = 0;

	relay_lock(s);

	while (s->running && s->next_ms <= now_ms && n++ < MAX_CATCH_UP) {
		int64_t now = g_get_monotonic_time();
		int16_t played[FRAME];
		int16_t sent[FRAME];

		kefu_rfc4733_receiver_poll(s->telev_rx, now);
		if (s->relayh) {
			/* the relay sends the audio; ours are the digits */
			if (s->relay_decode)
				play_frame(s, now, played);
			send_relay_events(s, now);
		}
		else {
			play_frame(s, now, played);
			send_frame(s, now, sent);
			record_frame(s, sent, played);
		}
		s->next_ms += PTIME_MS;
	}

	if (!s->running)
		goto out;

	/* too far behind: drop the backlog rather than burst */
	if (s->next_ms <= now_ms)
		s->next_ms = next_tick_ms;

	if (!stream_needs_tick(s))
		stream_tick_stop(s);
 out:
	relay_unlock(w);
}

/**
 * A stream bound on @laddr's address (any port of ours), idle until
 * kefu_rtp_stream_update() (phone thread).
 */
int
kefu_rtp_stream_alloc(struct kefu_rtp_stream **sp, const struct sa *laddr,
		      kefu_rtp_stream_dtmf_h *dtmfh, void *arg)
{
	return kefu_rtp_stream_alloc_ports(sp, laddr, PORT_MIN, PORT_MAX,
					   dtmfh, arg);
}

/* libre's rtp_listen tries 64 random even ports of a range: in a range
 * mostly taken that can miss the free ones, so the range is then walked
 * from a cursor that moves on (even port, RTCP on the next). */
static int
rtp_listen_range(struct rtp_sock **rsp, const struct sa *laddr,
		 uint16_t port_min, uint16_t port_max, void *arg)
{
	static __thread uint32_t cursor;
	uint32_t pairs;
	int err;

	err = rtp_listen(rsp, IPPROTO_UDP, laddr, port_min, port_max, true,
			 on_rtp, on_rtcp, arg);
	if (err != EADDRINUSE && err != EACCES)
		return err;

	pairs = ((uint32_t)port_max - port_min + 1) / 2;
	for (uint32_t i = 0; i < pairs; i++) {
		uint16_t port = (uint16_t)(port_min + 2 * ((cursor + i) %
							   pairs));

		err = rtp_listen(rsp, IPPROTO_UDP, laddr, port, port + 1,
				 true, on_rtp, on_rtcp, arg);
		if (!err) {
			cursor += i + 1;
			return 0;
		}
	}

	return err ? err : EADDRINUSE;
}

int
kefu_rtp_stream_alloc_ports(struct kefu_rtp_stream **sp,
			    const struct sa *laddr, uint16_t port_min,
			    uint16_t port_max, kefu_rtp_stream_dtmf_h *dtmfh,
			    void *arg)
{
	struct kefu_rtp_stream *s;
	int err;

	if (!sp || !laddr || port_min % 2 || port_max <= port_min)
		return EINVAL;

	s = mem_zalloc(sizeof(*s), stream_destructor);
	if (!s)
		return ENOMEM;

	s->dtmfh = dtmfh;
	s->arg = arg;
	s->id = stream_next_id++;
	s->rx_fd = -1;
	s->telev_pt = -1;
	s->clock = G711_CLOCK;
	s->ts_step = FRAME;
	s->ts = rand_u32();
	s->marker = true;
	s->tx_ts_stale = true;

	s->txmb = mbuf_alloc(RTP_HEADER_SIZE + FRAME + 64);
	if (!s->txmb) {
		err = ENOMEM;
		goto out;
	}
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

	err = rtp_listen_range(&s->rs, laddr, port_min, port_max, s);
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
	struct relay_worker *w;
	enum codec codec;
	int err = 0;

	if (!s || !p || p->pt < 0 || p->pt > 127)
		return EINVAL;

	codec = codec_from_name(p->codec);
	if (codec == CODEC_NONE)
		return EINVAL;

	w = s->worker;
	relay_lock(s);

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

	/* RTCP to the port after the peer's RTP port (RFC 3550 11) */
	if (sa_isset(&s->sdp_raddr, SA_ALL)) {
		s->rtcp_dst = s->sdp_raddr;
		sa_set_port(&s->rtcp_dst, sa_port(&s->sdp_raddr) + 1);
		rtcp_reports_start(s);
	}

	if (!s->running) {
		char buf[64] = "";

		s->running = true;
		stream_tick_update(s);

		(void)re_snprintf(buf, sizeof(buf), "%J", &s->dst);
		g_debug("media: %s/%u pt %d, telephone-event %d, to %s%s",
			p->codec, p->srate, p->pt, s->telev_pt, buf,
			s->send ? "" : " (not sending)");
	}

	relay_unlock(w);

	return err;
}

/** Stop the media and write any recording (phone thread). */
void
kefu_rtp_stream_stop(struct kefu_rtp_stream *s)
{
	if (!s)
		return;

	relay_forget(s);
	s->running = false;
	stream_tick_stop(s);
	rtcp_reports_stop(s, true);
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
	struct relay_worker *w;
	int err = 0;

	if (!s || !digits)
		return EINVAL;
	if (s->telev_pt < 0)
		return ENOTSUP;

	for (const char *d = digits; *d; d++) {
		if (kefu_rfc4733_event_from_digit(*d) < 0)
			return EINVAL;
	}

	w = s->worker;
	relay_lock(s);
	for (const char *d = digits; *d && !err; d++)
		err = kefu_rfc4733_sender_queue(s->telev_tx, *d,
						duration_ms ? duration_ms
						: DTMF_DEFAULT_MS, now);
	stream_tick_update(s);
	relay_unlock(w);

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
		relay_rx_update(s);   /* SRTP is checked in libre's path */
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
		g_set_error(error, KEFU_IO_ERROR, G_IO_ERROR_BUSY,
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

/** The inband digit sounding now, or '\0' (phone thread). */
char
kefu_rtp_stream_inband_current(struct kefu_rtp_stream *s)
{
	return s && s->detector ? kefu_dtmf_detector_get_current(s->detector)
		: '\0';
}

/** Our telephone-event payload type, or -1. */
int
kefu_rtp_stream_telev_pt(const struct kefu_rtp_stream *s)
{
	return s ? s->telev_pt : -1;
}

/** Relay what we receive to @h, and stop sending our own audio; @h NULL
 * ends relaying (phone thread). */
void
kefu_rtp_stream_set_relay(struct kefu_rtp_stream *s,
			  kefu_rtp_stream_packet_h *h, void *arg, bool decode)
{
	struct relay_worker *w;

	if (!s)
		return;

	/* off the worker first: the relay's handler and argument go */
	if (!h || decode || arg != s->relay_arg)
		relay_forget(s);

	w = s->worker;
	relay_lock(s);
	s->relayh = h;
	s->relay_arg = h ? arg : NULL;
	s->relay_decode = h && decode;
	/* what we forward next starts from our timestamps, wherever the
	 * source's are by then */
	s->fwd_have_ssrc = false;
	s->marker = true;
	s->playout_len = 0;
	stream_tick_update(s);
	relay_unlock(w);
}

/** Relaying packets between @a and @b (both set_relay'd, neither
 * decoding): their RTP goes through a relay worker thread (libre thread). */
void
kefu_rtp_stream_relay_link(struct kefu_rtp_stream *a,
			   struct kefu_rtp_stream *b)
{
	if (!a || !b || a == b)
		return;
	a->relay_peer = b;
	b->relay_peer = a;
	relay_rx_update(a);
}

/** Send a packet another stream received, as ours (phone thread). */
int
kefu_rtp_stream_forward(struct kefu_rtp_stream *s,
			const struct kefu_rtp_packet *pkt)
{
	bool marker;
	uint32_t ts;
	uint8_t pt;
	int err;

	if (!s || !pkt || !pkt->payload)
		return EINVAL;
	if (!s->running || !s->send || !sa_isset(&s->dst, SA_ALL))
		return 0;

	if (pkt->telev) {
		if (s->telev_pt < 0)
			return ENOTSUP;
		pt = (uint8_t)s->telev_pt;
	}
	else {
		/* RFC 4733 2.5.1.1: no audio while our own digit goes
		 * (relaying, a stream with a digit to send is ticking) */
		if (!codec_is_coded(s->codec) ||
		    (s->ticker && !kefu_rfc4733_sender_is_idle(s->telev_tx)))
			return 0;
		pt = s->pt;
	}

	marker = pkt->marker;
	if (!s->fwd_have_ssrc || pkt->ssrc != s->fwd_ssrc) {
		s->fwd_ssrc = pkt->ssrc;
		s->fwd_have_ssrc = true;
		s->fwd_off = s->ts - pkt->ts;
		marker = true;
	}
	if (s->marker && !pkt->telev) {
		marker = true;
		s->marker = false;
	}

	ts = pkt->ts + s->fwd_off;
	err = send_packet(s, marker, pt, ts, pkt->payload, pkt->len);
	if (!pkt->telev && (int32_t)(ts + s->ts_step - s->ts) > 0)
		s->ts = ts + s->ts_step;

	return err;
}
