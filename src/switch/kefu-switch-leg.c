/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * One SIP dialog of the switch and its media (see the header).
 * libre-facing: libre's tabs.
 */
#define G_LOG_DOMAIN "KefuSwitchLeg"

#include "config.h"

#include "kefu-switch-leg.h"

#include <string.h>

#include "kefu-audio-file.h"
#include "kefu-dtmf-info.h"
#include "kefu-sdp.h"

#define ALLOW "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, REFER, NOTIFY\r\n" \
	"Supported: replaces\r\n"

enum {
	DTMF_DURATION_MS = 100,
	FRAME = KEFU_AUDIO_FRAME_SAMPLES,
};

/* What the leg plays when not bridged: a prompt, or music in a loop. */
struct player {
	GBytes *pcm;
	size_t pos;             /* samples */
	bool loop;
	bool active;
	struct kefu_switch_leg *leg;   /* NULL once the leg is gone */
};

struct kefu_switch_leg {
	struct kefu_switch_sip *ss;     /* borrowed */
	struct sipsess *sess;
	struct kefu_sdp_media *sdp;
	struct kefu_rtp_stream *stream;
	struct player *player;
	struct tmr tmr_play;
	const struct kefu_switch_leg_handlers *h;
	void *arg;

	KefuSwitchDtmfMode dtmf;        /* as configured (maybe auto) */
	bool incoming;
	bool got_offer;
	bool answered;
	bool established;
	bool closed;
	bool media;
	bool held;                      /* by the peer */
	bool inband_on;

	struct kefu_dtmf_info_queue info;   /* INFO digits waiting */

	char *auth_user;                /* answers a gateway's challenge */
	unsigned auth_tried;
	char *auth_password;

	char *callid;
	char *ltag;
	char *rtag;
	char *peer_user;
	char codec[16];
};

/* --- the player ---------------------------------------------------------- */

static void
player_destructor(void *arg)
{
	struct player *p = arg;

	if (p->pcm)
		g_bytes_unref(p->pcm);
}

static void
on_play_timer(void *arg)
{
	struct kefu_switch_leg *leg = arg;

	if (!leg->closed && leg->h->play_done)
		leg->h->play_done(leg, leg->arg);
}

static bool
player_read(void *impl, int16_t *samples, size_t n)
{
	struct player *p = impl;
	const int16_t *pcm;
	size_t total, done = 0;

	if (!p->active || !p->pcm) {
		memset(samples, 0, n * sizeof(*samples));
		return true;
	}

	pcm = g_bytes_get_data(p->pcm, &total);
	total /= sizeof(int16_t);

	while (done < n) {
		size_t k;

		if (p->pos >= total) {
			if (p->loop && total) {
				p->pos = 0;
				continue;
			}
			memset(samples + done, 0, (n - done) * sizeof(*samples));
			p->active = false;
			/* outside the media tick: the handler may free us */
			if (p->leg)
				tmr_start(&p->leg->tmr_play, 0, on_play_timer,
					  p->leg);
			break;
		}
		k = MIN(n - done, total - p->pos);
		memcpy(samples + done, pcm + p->pos, k * sizeof(*samples));
		p->pos += k;
		done += k;
	}

	return true;
}

static void
impl_deref(void *impl)
{
	mem_deref(impl);
}

static const struct kefu_audio_source_backend player_source = {
	.read = player_read,
	.free = impl_deref,
};

void
kefu_switch_leg_play(struct kefu_switch_leg *leg, GBytes *pcm, bool loop)
{
	struct player *p;

	if (!leg || leg->closed)
		return;

	tmr_cancel(&leg->tmr_play);
	p = leg->player;
	if (p->pcm)
		g_bytes_unref(p->pcm);
	p->pcm = pcm ? g_bytes_ref(pcm) : NULL;
	p->pos = 0;
	p->loop = loop;
	p->active = pcm != NULL;

	/* a new source each time: a relay may have taken the last one */
	kefu_rtp_stream_set_audio(leg->stream,
				  kefu_audio_source_new(&player_source,
							mem_ref(p)),
				  NULL);
}

bool
kefu_switch_leg_playing(const struct kefu_switch_leg *leg)
{
	return leg && leg->player->active;
}

/* --- media --------------------------------------------------------------- */

static KefuSwitchDtmfMode
effective_dtmf(const struct kefu_switch_leg *leg)
{
	if (leg->dtmf != KEFU_SWITCH_DTMF_AUTO)
		return leg->dtmf;

	return kefu_sdp_media_telev_pt(leg->sdp) >= 0
		? KEFU_SWITCH_DTMF_RFC4733 : KEFU_SWITCH_DTMF_INBAND;
}

KefuSwitchDtmfMode
kefu_switch_leg_dtmf(const struct kefu_switch_leg *leg)
{
	return effective_dtmf(leg);
}

static void
media_update(struct kefu_switch_leg *leg)
{
	struct kefu_rtp_stream_params p = { 0 };
	struct kefu_sdp_codec codec;
	enum kefu_sdp_dir dir;
	int err;

	if (leg->closed || 0 != kefu_sdp_media_codec(leg->sdp, &codec))
		return;

	g_strlcpy(leg->codec, codec.name, sizeof(leg->codec));
	dir = kefu_sdp_media_dir(leg->sdp);
	p.codec = codec.name;
	p.pt = codec.pt;
	p.srate = codec.srate;
	p.telev_pt = kefu_sdp_media_telev_pt(leg->sdp);
	p.raddr = kefu_sdp_media_raddr(leg->sdp);
	p.send = (dir & KEFU_SDP_SENDONLY) != 0;
	p.recv = (dir & KEFU_SDP_RECVONLY) != 0;

	err = kefu_rtp_stream_update(leg->stream, &p);
	if (err && err != ENOTSUP)
		g_warning("leg %s: media: %s", leg->callid ? leg->callid : "?",
			  g_strerror(err));
	leg->media = true;

	kefu_switch_leg_inband_detect(leg, effective_dtmf(leg) ==
				      KEFU_SWITCH_DTMF_INBAND);
}

void
kefu_switch_leg_inband_detect(struct kefu_switch_leg *leg, bool on)
{
	if (!leg)
		return;
	leg->inband_on = on;
	kefu_rtp_stream_set_inband_detect(leg->stream, on);
}

static void
on_stream_dtmf(char digit, const char *mode, void *arg)
{
	struct kefu_switch_leg *leg = arg;
	KefuSwitchDtmfMode m = effective_dtmf(leg);

	if (leg->closed || !leg->h->digit)
		return;

	/* one way in per leg: a peer sending both events and tones, or
	 * INFO and events, is heard once */
	if ((m == KEFU_SWITCH_DTMF_RFC4733 && strcmp(mode, "rfc4733")) ||
	    (m == KEFU_SWITCH_DTMF_INBAND && strcmp(mode, "inband")) ||
	    m == KEFU_SWITCH_DTMF_INFO)
		return;

	leg->h->digit(leg, digit, mode, leg->arg);
}

/* --- sipsess handlers ---------------------------------------------------- */

static void
remember_dialog(struct kefu_switch_leg *leg)
{
	struct sip_dialog *dlg = sipsess_dialog(leg->sess);

	if (!dlg || leg->callid)
		return;
	(void)str_dup(&leg->callid, sip_dialog_callid(dlg));
}

static void
check_hold(struct kefu_switch_leg *leg)
{
	bool held = kefu_sdp_media_remote_hold(leg->sdp);

	if (held == leg->held || !leg->established)
		return;
	leg->held = held;
	if (leg->h->hold)
		leg->h->hold(leg, held, leg->arg);
}

static int
on_offer(struct mbuf **descp, const struct sip_msg *msg, void *arg)
{
	struct kefu_switch_leg *leg = arg;
	size_t pos = msg->mb->pos;
	int err;

	err = kefu_sdp_media_read_offer(leg->sdp, msg->mb);
	msg->mb->pos = pos;
	if (err)
		return err == KEFU_SDP_ENOCODEC ? EMEDIUMTYPE : err;

	err = kefu_sdp_media_create_answer(leg->sdp, descp);
	if (err)
		return err;

	if (leg->established)
		media_update(leg);
	check_hold(leg);

	return 0;
}

static int
on_answer(const struct sip_msg *msg, void *arg)
{
	struct kefu_switch_leg *leg = arg;
	size_t pos = msg->mb->pos;
	int err;

	err = kefu_sdp_media_read_answer(leg->sdp, msg->mb);
	msg->mb->pos = pos;
	if (err) {
		g_message("leg: unusable SDP answer: %s", g_strerror(err));
		return err == KEFU_SDP_ENOCODEC ? EMEDIUMTYPE : err;
	}

	if (leg->established)
		media_update(leg);

	return 0;
}

static void
on_progress(const struct sip_msg *msg, void *arg)
{
	struct kefu_switch_leg *leg = arg;

	if (leg->h->progress)
		leg->h->progress(leg, msg->scode, leg->arg);
}

static void
on_established(const struct sip_msg *msg, void *arg)
{
	struct kefu_switch_leg *leg = arg;
	struct sip_dialog *dlg = sipsess_dialog(leg->sess);

	leg->established = true;
	remember_dialog(leg);
	if (msg) {
		/* an ACK of our 200 comes from the peer; a 200 of our INVITE
		 * has our tag in From */
		const struct pl *ltag = msg->req ? &msg->to.tag : &msg->from.tag;
		const struct pl *rtag = msg->req ? &msg->from.tag : &msg->to.tag;

		if (!leg->ltag && pl_isset(ltag))
			(void)pl_strdup(&leg->ltag, ltag);
		if (!leg->rtag && pl_isset(rtag))
			(void)pl_strdup(&leg->rtag, rtag);
	}
	(void)dlg;
	media_update(leg);
	if (leg->h->established)
		leg->h->established(leg, leg->arg);
}

static void
on_close(int err, const struct sip_msg *msg, void *arg)
{
	struct kefu_switch_leg *leg = arg;
	g_autofree char *reason = NULL;
	uint16_t scode = 0;

	if (leg->closed)
		return;

	if (msg && !msg->req && msg->scode >= 300) {
		scode = msg->scode;
		reason = g_strndup(msg->reason.p, msg->reason.l);
	}
	else if (err == ETIMEDOUT) {
		scode = 408;
		reason = g_strdup("timeout");
	}
	else if (err == ECONNRESET || !err) {
		reason = g_strdup(leg->established || leg->answered
				  ? "remote hangup" : "cancelled");
	}
	else if (err == EMEDIUMTYPE) {
		scode = 488;
		reason = g_strdup("no codec in common");
	}
	else {
		reason = g_strdup(g_strerror(err));
	}

	leg->closed = true;
	kefu_rtp_stream_stop(leg->stream);
	if (leg->h->closed)
		leg->h->closed(leg, scode, reason, leg->arg);
}

static void
on_info(struct sip *sip, const struct sip_msg *msg, void *arg)
{
	struct kefu_switch_leg *leg = arg;
	const struct sip_hdr *hdr = sip_msg_hdr(msg, SIP_HDR_CONTENT_TYPE);
	g_autofree char *ctype = hdr ? g_strndup(hdr->val.p, hdr->val.l)
		: NULL;
	g_autoptr(GError) error = NULL;
	KefuDtmfInfo info;

	if (!ctype || !kefu_dtmf_info_parse(ctype,
					    (const char *)mbuf_buf(msg->mb),
					    (gssize)mbuf_get_left(msg->mb),
					    &info, &error)) {
		bool bad_type = !ctype || g_error_matches(error,
				KEFU_DTMF_INFO_ERROR,
				KEFU_DTMF_INFO_ERROR_CONTENT_TYPE);

		(void)sip_reply(sip, msg, bad_type ? 415 : 400,
				bad_type ? "Unsupported Media Type"
				: "Bad Request");
		return;
	}

	(void)sip_reply(sip, msg, 200, "OK");

	if (leg->closed || !leg->h->digit)
		return;
	/* INFO is taken in every mode but RFC 4733 (where the events
	 * carry the same digits) */
	if (effective_dtmf(leg) == KEFU_SWITCH_DTMF_RFC4733 &&
	    leg->dtmf != KEFU_SWITCH_DTMF_INFO)
		return;
	leg->h->digit(leg, info.signal, "info", leg->arg);
}

static void
on_refer(struct sip *sip, const struct sip_msg *msg, void *arg)
{
	struct kefu_switch_leg *leg = arg;

	if (leg->closed || !leg->h->refer) {
		(void)sip_reply(sip, msg, 603, "Decline");
		return;
	}
	leg->h->refer(leg, sip, msg, leg->arg);
}

/* A gateway's 401/407: once, with the trunk's credentials. */
static int
on_auth(char **username, char **password, const char *realm, void *arg)
{
	struct kefu_switch_leg *leg = arg;
	int err;

	if (leg->auth_tried >= 2) {
		g_message("leg %s: the gateway refused our credentials "
			  "(realm %s)", leg->callid ? leg->callid : "?",
			  realm);
		return EAUTH;
	}
	leg->auth_tried++;
	err = str_dup(username, leg->auth_user);
	if (!err)
		err = str_dup(password, leg->auth_password);

	return err;
}

/* --- INFO out ------------------------------------------------------------ */

static void info_send_next(struct kefu_switch_leg *leg);

static void
on_info_response(int err, const struct sip_msg *msg, void *arg)
{
	struct kefu_switch_leg *leg = arg;

	(void)err;
	(void)msg;
	leg->info.pending = false;
	info_send_next(leg);
}

static void
info_send_next(struct kefu_switch_leg *leg)
{
	if (!leg->closed)
		(void)kefu_dtmf_info_queue_send_next(&leg->info, leg->sess,
						     DTMF_DURATION_MS,
						     on_info_response, leg);
}

int
kefu_switch_leg_send_digit(struct kefu_switch_leg *leg, char digit)
{
	char d[2] = { digit, '\0' };

	if (!leg || leg->closed || !leg->established)
		return EPROTO;

	switch (effective_dtmf(leg)) {

	case KEFU_SWITCH_DTMF_RFC4733:
	case KEFU_SWITCH_DTMF_AUTO:
		return kefu_rtp_stream_send_dtmf(leg->stream, d,
						 DTMF_DURATION_MS);

	case KEFU_SWITCH_DTMF_INBAND:
		return kefu_rtp_stream_send_inband(leg->stream, d,
						   DTMF_DURATION_MS);

	case KEFU_SWITCH_DTMF_INFO:
	default: {
		int err = kefu_dtmf_info_queue_add(&leg->info, d);

		if (!err)
			info_send_next(leg);
		return err;
	}
	}
}

/* --- the leg ------------------------------------------------------------- */

static void
leg_destructor(void *arg)
{
	struct kefu_switch_leg *leg = arg;

	leg->closed = true;
	tmr_cancel(&leg->tmr_play);
	if (leg->player)
		leg->player->leg = NULL;
	if (leg->incoming && !leg->answered && leg->sess)
		(void)sipsess_reject(leg->sess, 480, "Temporarily Unavailable",
				     NULL);
	/* libre sends the CANCEL or BYE the session still needs */
	mem_deref(leg->sess);
	mem_deref(leg->stream);
	mem_deref(leg->player);
	mem_deref(leg->sdp);
	kefu_dtmf_info_queue_clear(&leg->info);
	mem_deref(leg->callid);
	mem_deref(leg->ltag);
	mem_deref(leg->rtag);
	mem_deref(leg->peer_user);
	mem_deref(leg->auth_user);
	if (leg->auth_password) {
		memset(leg->auth_password, 0, strlen(leg->auth_password));
		mem_deref(leg->auth_password);
	}
}

/* "pcmu,pcma,opus" with @first moved to the front. */
static void
codecs_with_first(const char *codecs, const char *first, char *out,
		  size_t size)
{
	g_auto(GStrv) v = g_strsplit(codecs, ",", -1);
	g_autoptr(GString) s = g_string_new(NULL);

	if (first)
		for (guint i = 0; v[i]; i++)
			if (!g_ascii_strcasecmp(g_strstrip(v[i]), first))
				g_string_append(s, v[i]);
	for (guint i = 0; v[i]; i++) {
		if (first && !g_ascii_strcasecmp(g_strstrip(v[i]), first))
			continue;
		if (s->len)
			g_string_append_c(s, ',');
		g_string_append(s, g_strstrip(v[i]));
	}
	g_strlcpy(out, s->str, size);
}

static int
leg_alloc(struct kefu_switch_leg **legp, struct kefu_switch_sip *ss,
	  KefuSwitchDtmfMode dtmf, const char *codec_first,
	  const struct kefu_switch_leg_handlers *h, void *arg)
{
	struct kefu_switch_leg *leg;
	struct kefu_sdp_config sc = { 0 };
	char codecs[64];
	struct sa la;
	int err;

	leg = mem_zalloc(sizeof(*leg), leg_destructor);
	if (!leg)
		return ENOMEM;

	leg->ss = ss;
	leg->h = h;
	leg->arg = arg;
	leg->dtmf = dtmf;
	tmr_init(&leg->tmr_play);

	leg->player = mem_zalloc(sizeof(*leg->player), player_destructor);
	if (!leg->player) {
		err = ENOMEM;
		goto out;
	}
	leg->player->leg = leg;

	sa_cpy(&la, &ss->laddr);
	sa_set_port(&la, 0);
	err = kefu_rtp_stream_alloc_ports(&leg->stream, &la, ss->rtp_min,
					  ss->rtp_max, on_stream_dtmf, leg);
	if (err) {
		g_warning("RTP: no free port pair in %u-%u: %s", ss->rtp_min,
			  ss->rtp_max, g_strerror(err));
		goto out;
	}
	sa_set_port(&la, kefu_rtp_stream_local_port(leg->stream));

	codecs_with_first(ss->codecs, codec_first, codecs, sizeof(codecs));
	sc.codecs = codecs;
	/* a peer told to use tones or INFO is not offered events: it could
	 * send both */
	sc.telev_pt = (dtmf == KEFU_SWITCH_DTMF_INBAND ||
		       dtmf == KEFU_SWITCH_DTMF_INFO) ? -1 : 0;
	err = kefu_sdp_media_alloc(&leg->sdp, &la, &sc);
	if (err)
		goto out;

	kefu_switch_leg_play(leg, NULL, false);

 out:
	if (err)
		mem_deref(leg);
	else
		*legp = leg;

	return err;
}

int
kefu_switch_leg_accept(struct kefu_switch_leg **legp,
		       struct kefu_switch_sip *ss, const struct sip_msg *msg,
		       KefuSwitchDtmfMode dtmf, bool answer,
		       const struct kefu_switch_leg_handlers *h, void *arg)
{
	struct kefu_switch_leg *leg = NULL;
	g_autofree char *cuser = NULL;
	int err;

	err = leg_alloc(&leg, ss, dtmf, NULL, h, arg);
	if (err) {
		(void)sip_treply(NULL, ss->sip, msg, 500, "Server Error");
		return err;
	}
	leg->incoming = true;
	(void)pl_strdup(&leg->peer_user, &msg->from.uri.user);

	if (mbuf_get_left(msg->mb)) {
		size_t pos = msg->mb->pos;
		uint16_t scode;

		err = kefu_sdp_media_read_offer(leg->sdp, msg->mb);
		msg->mb->pos = pos;
		if (err) {
			scode = kefu_sdp_sip_status(err);
			g_message("INVITE refused with %u: %s", scode,
				  err == KEFU_SDP_ENOCODEC
				  ? "no codec in common" : g_strerror(err));
			(void)sip_treply(NULL, ss->sip, msg, scode,
					 scode == 488 ? "Not Acceptable Here"
					 : "Bad Request");
			mem_deref(leg);
			return err;
		}
		leg->got_offer = true;
	}

	cuser = g_strndup(msg->uri.user.p, msg->uri.user.l);
	err = sipsess_accept(&leg->sess, ss->sock, msg, 180, "Ringing",
			     *cuser ? cuser : "switch", "application/sdp",
			     NULL, NULL, NULL, false, on_offer, on_answer,
			     on_established, on_info, on_refer, on_close, leg,
			     ALLOW);
	if (err) {
		(void)sip_treply(NULL, ss->sip, msg, 500, "Server Error");
		mem_deref(leg);
		return err;
	}
	(void)pl_strdup(&leg->callid, &msg->callid);
	(void)pl_strdup(&leg->rtag, &msg->from.tag);

	if (answer) {
		err = kefu_switch_leg_answer(leg);
		if (err) {
			mem_deref(leg);
			return err;
		}
	}

	*legp = leg;

	return 0;
}

int
kefu_switch_leg_answer(struct kefu_switch_leg *leg)
{
	struct mbuf *desc = NULL;
	int err;

	if (!leg || !leg->incoming || leg->answered || leg->closed)
		return EPROTO;

	err = leg->got_offer ? kefu_sdp_media_create_answer(leg->sdp, &desc)
		: kefu_sdp_media_create_offer(leg->sdp, &desc);
	if (err)
		return err;

	err = sipsess_answer(leg->sess, 200, "OK", desc, ALLOW);
	mem_deref(desc);
	if (err)
		return err;
	leg->answered = true;

	/* with the offer in the INVITE, our answer is final: media can
	 * start now (the caller may speak before its ACK arrives) */
	if (leg->got_offer)
		media_update(leg);

	return 0;
}

int
kefu_switch_leg_connect(struct kefu_switch_leg **legp,
			struct kefu_switch_sip *ss, const char *uri,
			const char *from_uri, const char *from_name,
			const char *codec_first, const char *headers,
			KefuSwitchDtmfMode dtmf, const char *auth_user,
			const char *auth_password,
			const struct kefu_switch_leg_handlers *h, void *arg)
{
	struct kefu_switch_leg *leg = NULL;
	struct mbuf *desc = NULL;
	int err;

	if (!legp || !ss || !uri || !from_uri)
		return EINVAL;

	err = leg_alloc(&leg, ss, dtmf, codec_first, h, arg);
	if (err)
		return err;

	if (auth_user && auth_password) {
		err = str_dup(&leg->auth_user, auth_user);
		if (!err)
			err = str_dup(&leg->auth_password, auth_password);
		if (err)
			goto out;
	}

	err = kefu_sdp_media_create_offer(leg->sdp, &desc);
	if (err)
		goto out;

	err = sipsess_connect(&leg->sess, ss->sock, uri, from_name, from_uri,
			      "switch", NULL, 0, "application/sdp", desc,
			      leg->auth_user ? on_auth : NULL, leg, false,
			      on_offer, on_answer,
			      on_progress, on_established, on_info, on_refer,
			      on_close, leg, "%s%s", ALLOW,
			      headers ? headers : "");
	if (err)
		goto out;
	remember_dialog(leg);

 out:
	mem_deref(desc);
	if (err)
		mem_deref(leg);
	else
		*legp = leg;

	return err;
}

void
kefu_switch_leg_hangup(struct kefu_switch_leg *leg, uint16_t scode)
{
	if (!leg)
		return;

	if (leg->incoming && !leg->answered && leg->sess && !leg->closed) {
		(void)sipsess_reject(leg->sess, scode ? scode : 480,
				     scode == 486 ? "Busy Here"
				     : scode == 403 ? "Forbidden"
				     : scode == 404 ? "Not Found"
				     : "Temporarily Unavailable", NULL);
		leg->answered = true;   /* rejected: nothing more to send */
	}
	leg->closed = true;
	mem_deref(leg);
}

void
kefu_switch_leg_set_handlers(struct kefu_switch_leg *leg,
			     const struct kefu_switch_leg_handlers *h,
			     void *arg)
{
	if (!leg || !h)
		return;
	leg->h = h;
	leg->arg = arg;
}

bool
kefu_switch_leg_established(const struct kefu_switch_leg *leg)
{
	return leg && leg->established && !leg->closed;
}

struct kefu_rtp_stream *
kefu_switch_leg_stream(struct kefu_switch_leg *leg)
{
	return leg ? leg->stream : NULL;
}

const char *
kefu_switch_leg_codec(const struct kefu_switch_leg *leg)
{
	return leg && leg->codec[0] ? leg->codec : NULL;
}

bool
kefu_switch_leg_held(const struct kefu_switch_leg *leg)
{
	return leg && leg->held;
}

const char *
kefu_switch_leg_callid(const struct kefu_switch_leg *leg)
{
	return leg ? leg->callid : NULL;
}

const char *
kefu_switch_leg_ltag(const struct kefu_switch_leg *leg)
{
	return leg ? leg->ltag : NULL;
}

const char *
kefu_switch_leg_rtag(const struct kefu_switch_leg *leg)
{
	return leg ? leg->rtag : NULL;
}

struct sip_dialog *
kefu_switch_leg_dialog(const struct kefu_switch_leg *leg)
{
	return leg && leg->sess ? sipsess_dialog(leg->sess) : NULL;
}

const char *
kefu_switch_leg_peer_user(const struct kefu_switch_leg *leg)
{
	return leg ? leg->peer_user : NULL;
}
