/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Call signalling on libre's sipsess, on the phone thread.
 * libre-facing, so this file keeps libre's tabs.
 *
 * A call is named by a numeric id that the GLib side may hold; the struct
 * call itself never leaves this thread.  A call ends in exactly one CLOSED
 * event, and its memory is dropped on the next loop turn when libre ended
 * it (never inside libre's own handler).
 */
#define G_LOG_DOMAIN "KefuCallSession"

#include "config.h"

#include "kefu-call-session-private.h"

#include <errno.h>
#include <string.h>

#include "kefu-audio-file.h"
#include "kefu-dtmf-info.h"

/* Call ids are unique in the process, whichever side makes them: the
 * GLib side names an outgoing call before the phone thread dials it. */
static gint last_call_id;

guint
kefu_calls_next_id(void)
{
	return (guint)g_atomic_int_add(&last_call_id, 1) + 1;
}

/* --- events to the UI ---------------------------------------------------- */

const char *
kefu_call_event_type_name(enum kefu_call_event_type type)
{
	switch (type) {

	case KEFU_CALL_EVENT_INCOMING:       return "incoming";
	case KEFU_CALL_EVENT_PROGRESS:       return "progress";
	case KEFU_CALL_EVENT_ESTABLISHED:    return "established";
	case KEFU_CALL_EVENT_HELD:           return "held";
	case KEFU_CALL_EVENT_RESUMED:        return "resumed";
	case KEFU_CALL_EVENT_HOLD_FAILED:    return "hold failed";
	case KEFU_CALL_EVENT_RESUME_FAILED:  return "resume failed";
	case KEFU_CALL_EVENT_REMOTE_HOLD:    return "remote hold";
	case KEFU_CALL_EVENT_REMOTE_RESUMED: return "remote resumed";
	case KEFU_CALL_EVENT_CLOSED:         return "closed";
	case KEFU_CALL_EVENT_DTMF:           return "dtmf";
	case KEFU_CALL_EVENT_TRANSFER_PROGRESS: return "transfer progress";
	case KEFU_CALL_EVENT_TRANSFER_FAILED:   return "transfer failed";
	case KEFU_CALL_EVENT_REFER:          return "refer";
	case KEFU_CALL_EVENT_CONFERENCE:     return "conference";
	}

	return "?";
}

/** The value of the first header called @name (case-insensitive). */
const char *
kefu_call_event_header(const struct kefu_call_event *ev, const char *name)
{
	if (!ev || !ev->headers || !name)
		return NULL;

	for (guint i = 0; i < ev->headers->len; i++) {
		const struct kefu_call_header *h = ev->headers->pdata[i];

		if (0 == g_ascii_strcasecmp(h->name, name))
			return h->value;
	}

	return NULL;
}

static void
header_free(gpointer data)
{
	struct kefu_call_header *h = data;

	g_free(h->name);
	g_free(h->value);
	g_free(h);
}

static gboolean
deliver_event(gpointer data)
{
	struct posted_event *pe = data;

	if (pe->eventh)
		pe->eventh(&pe->ev, pe->arg);

	return G_SOURCE_REMOVE;
}

static void
free_event(gpointer data)
{
	struct posted_event *pe = data;

	g_free(pe->ev.account_id);
	g_free(pe->ev.from_name);
	g_free(pe->ev.from_uri);
	g_free(pe->ev.to_uri);
	if (pe->ev.headers)
		g_ptr_array_unref(pe->ev.headers);
	g_free(pe->ev.reason);
	g_free(pe->ev.codec);
	g_free(pe->ev.remote_rtp);
	g_free(pe->ev.refer_to);
	g_free(pe->ev.referred_by);
	g_free(pe);
}

struct posted_event *
call_event_new(const struct call *call, enum kefu_call_event_type type)
{
	struct posted_event *pe = g_new0(struct posted_event, 1);

	pe->ev.type = type;
	pe->ev.call_id = call->id;
	pe->ev.direction = call->dir;
	pe->ev.account_id = g_strdup(call->account_id);
	pe->ev.telev_pt = -1;
	pe->ev.local_rtp_port = call->rtp_port;
	pe->eventh = call->calls->eventh;
	pe->arg = call->calls->arg;

	return pe;
}

void
call_event_add_media(struct posted_event *pe, const struct call *call)
{
	struct kefu_sdp_codec codec;
	const struct sa *raddr;

	if (!call->sdp)
		return;

	if (0 == kefu_sdp_media_codec(call->sdp, &codec)) {
		pe->ev.codec = g_strdup(codec.name);
		pe->ev.codec_pt = codec.pt;
		pe->ev.srate = codec.srate;
	}
	pe->ev.telev_pt = kefu_sdp_media_telev_pt(call->sdp);

	raddr = kefu_sdp_media_raddr(call->sdp);
	if (raddr && sa_isset(raddr, SA_ADDR)) {
		char buf[64];

		if (re_snprintf(buf, sizeof(buf), "%J", raddr) > 0)
			pe->ev.remote_rtp = g_strdup(buf);
	}

	pe->ev.local_hold = kefu_sdp_media_local_hold(call->sdp);
	pe->ev.remote_hold = kefu_sdp_media_remote_hold(call->sdp);
	pe->ev.srtp = 0 == kefu_sdp_media_srtp(call->sdp, NULL);
}

void
call_post(struct call *call, struct posted_event *pe)
{
	g_debug("call %u: %s%s%s", call->id,
		kefu_call_event_type_name(pe->ev.type),
		pe->ev.reason ? ": " : "", pe->ev.reason ? pe->ev.reason : "");

	kefu_phone_loop_post(call->calls->loop, deliver_event, pe,
			     free_event);
}

void
call_post_media_event(struct call *call, enum kefu_call_event_type type)
{
	struct posted_event *pe = call_event_new(call, type);

	call_event_add_media(pe, call);
	call_post(call, pe);
}

char *
call_pl_strdup(const struct pl *pl)
{
	/* what a peer wrote, for GLib and the UI: valid UTF-8 (a Latin-1
	 * display name, a NUL byte become U+FFFD) */
	return pl && pl->p ? g_utf8_make_valid(pl->p, (gssize)pl->l)
		: g_strdup("");
}

/* --- call objects -------------------------------------------------------- */

static void
call_destructor(void *arg)
{
	struct call *call = arg;

	tmr_cancel(&call->tmr_free);
	tmr_cancel(&call->tmr_xfer);
	tmr_cancel(&call->tmr_hold);
	list_unlink(&call->le);
	/* before the session: a subscription still up ends with its own
	 * NOTIFY in the dialog the session keeps */
	mem_deref(call->xfer_sub);
	mem_deref(call->refer_not);
	mem_deref(call->refer_to);
	mem_deref(call->referred_by);
	mem_deref(call->callid);
	mem_deref(call->ltag);
	mem_deref(call->rtag);
	mem_deref(call->remote_contact);
	mem_deref(call->xfer_fail_reason);
	mem_deref(call->cuser);
	/* libre sends the CANCEL or BYE a live session still needs */
	mem_deref(call->sess);
	mem_deref(call->sdp);
	mem_deref(call->stream);
	mem_deref(call->early);
	mem_deref(call->audio);
	kefu_dtmf_info_queue_clear(&call->info);
	mem_deref(call->account_id);
	mem_deref(call->auth_user);
	mem_deref(call->password);
}

struct call *
call_find(const struct kefu_calls *calls, guint id)
{
	struct le *le;

	for (le = calls->calls.head; le; le = le->next) {
		struct call *call = le->data;

		if (call->id == id && !call->closed)
			return call;
	}

	return NULL;
}

static void
on_free_timer(void *arg)
{
	struct call *call = arg;

	mem_deref(call);
}

/* The final statistics into the CLOSED event, and the media stops now:
 * a recording is on disk before the UI hears of the end. */
void
call_media_stop(struct call *call, struct posted_event *pe)
{
	if (call->media) {
		kefu_rtp_stream_stats(call->stream, &pe->ev.stats);
		pe->ev.has_stats = true;
	}
	kefu_rtp_stream_stop(call->stream);
	call->media = false;
	call_conference_leave(call);
}

/* The call is over: one CLOSED event, and the memory goes on the next
 * loop turn (we may be inside one of libre's handlers for the session). */
void
call_close(struct call *call, uint16_t scode, const char *reason)
{
	struct posted_event *pe;

	if (call->closed)
		return;

	call->closed = true;
	if (call->referred_call)
		call_refer_progress(call, scode >= 300 ? scode : 487,
				    reason ? reason : "Request Terminated");
	/* the far end hangs up once the call it asked us to make is up */
	if (call->refer_accepted && g_strcmp0(reason, "remote hangup") == 0)
		reason = "transferred";
	pe = call_event_new(call, KEFU_CALL_EVENT_CLOSED);
	pe->ev.scode = scode;
	pe->ev.reason = g_strdup(reason ? reason : "");
	call_media_stop(call, pe);
	call_post(call, pe);

	tmr_start(&call->tmr_free, 0, on_free_timer, call);
}

static void
on_stream_dtmf(char digit, const char *mode, void *arg)
{
	struct call *call = arg;
	struct posted_event *pe;

	if (call->closed)
		return;

	pe = call_event_new(call, KEFU_CALL_EVENT_DTMF);
	pe->ev.dtmf_digit = digit;
	pe->ev.dtmf_mode = mode;   /* static: "rfc4733" or "inband" */
	call_post(call, pe);
}

static enum dtmf_mode
dtmf_mode_parse(const char *s, enum dtmf_mode dflt)
{
	if (!s)
		return dflt;
	if (0 == g_ascii_strcasecmp(s, "auto"))
		return DTMF_AUTO;
	if (0 == g_ascii_strcasecmp(s, "rfc4733"))
		return DTMF_RFC4733;
	if (0 == g_ascii_strcasecmp(s, "info"))
		return DTMF_INFO;
	if (0 == g_ascii_strcasecmp(s, "inband"))
		return DTMF_INBAND;
	return dflt;
}

/* The call's account chooses its DTMF mode; else the phone's. */
static enum dtmf_mode
call_dtmf_mode(const struct call *call)
{
	const char *mode = call->account_id
		? kefu_ua_account_dtmf_mode(call->calls->ua, call->account_id)
		: NULL;

	return dtmf_mode_parse(mode, call->calls->dtmf_mode);
}

/* Start the media, or bring it in line with the latest negotiation. */
static void
call_media_update(struct call *call)
{
	struct kefu_rtp_stream_params p = { 0 };
	struct kefu_sdp_codec codec;
	struct kefu_srtp_keys keys;
	enum kefu_sdp_dir dir;
	int err;

	if (call->closed || 0 != kefu_sdp_media_codec(call->sdp, &codec))
		return;

	if (!call->audio_open) {
		const char *spec = call->audio ? call->audio
			: call->calls->audio;
		struct kefu_audio_source *src = NULL;
		struct kefu_audio_sink *sink = NULL;
		g_autoptr(GError) error = NULL;

		if (!kefu_audio_open(spec, call->calls->audio_loop, &src,
				     &sink, &error)) {
			g_warning("call %u: audio: %s (using null)", call->id,
				  error->message);
		}
		kefu_rtp_stream_set_audio(call->stream, src, sink);
		call->audio_open = true;
	}

	/* the stream drops everything until it has the keys (call_alloc) */
	if (0 == kefu_sdp_media_srtp(call->sdp, &keys)) {
		err = kefu_rtp_stream_set_srtp(call->stream, &keys);
		memset(&keys, 0, sizeof(keys));
		if (err) {
			g_warning("call %u: SRTP: %s", call->id,
				  g_strerror(err));
			return;
		}
	}

	/* While an offer of ours is out or went unanswered, the SDP says
	 * what we offered; the media goes on as last agreed. */
	dir = call->hold_pending || call->hold_given_up ? call->media_dir
		: kefu_sdp_media_dir(call->sdp);
	call->media_dir = dir;
	p.codec = codec.name;
	p.pt = codec.pt;
	p.srate = codec.srate;
	p.telev_pt = kefu_sdp_media_telev_pt(call->sdp);
	p.raddr = kefu_sdp_media_raddr(call->sdp);
	/* holding the peer, we have nothing for it (no music on hold yet) */
	p.send = (dir & KEFU_SDP_SENDONLY) != 0 &&
		!kefu_sdp_media_local_hold(call->sdp);
	p.recv = (dir & KEFU_SDP_RECVONLY) != 0;

	err = kefu_rtp_stream_update(call->stream, &p);
	if (err && err != ENOTSUP)
		g_warning("call %u: media: %s", call->id, g_strerror(err));
	call->media = true;

	/* listening for tones too when events can come would hear a peer
	 * that sends both twice */
	{
		enum dtmf_mode mode = call_dtmf_mode(call);

		kefu_rtp_stream_set_inband_detect(call->stream,
			mode == DTMF_INBAND ||
			(mode == DTMF_AUTO && p.telev_pt < 0));
	}
}

/* An account's calls follow the account, the listen identity's --srtp. */
static bool
call_srtp_wanted(const struct kefu_calls *calls, const char *account_id)
{
	return account_id ? kefu_ua_account_srtp(calls->ua, account_id)
		: calls->srtp;
}

static int
call_alloc(struct call **callp, struct kefu_calls *calls, guint id,
	   enum kefu_call_direction dir, const char *account_id,
	   const struct sa *laddr)
{
	struct kefu_sdp_config sc = {
		.codecs = calls->codecs,
		.telev_pt = calls->telev_pt,
		.srtp = call_srtp_wanted(calls, account_id),
	};
	struct call *call;
	struct sa la;
	int err;

	call = mem_zalloc(sizeof(*call), call_destructor);
	if (!call)
		return ENOMEM;

	call->calls = calls;
	call->id = id;
	call->dir = dir;
	tmr_init(&call->tmr_free);
	tmr_init(&call->tmr_xfer);
	tmr_init(&call->tmr_hold);

	if (account_id) {
		err = str_dup(&call->account_id, account_id);
		if (err)
			goto out;
	}

	/* The RTP port is bound now, so the SDP names a port that is ours
	 * and that nothing else takes before the media starts. */
	sa_cpy(&la, laddr);
	sa_set_port(&la, 0);
	err = kefu_rtp_stream_alloc(&call->stream, &la, on_stream_dtmf, call);
	if (err)
		goto out;
	call->rtp_port = kefu_rtp_stream_local_port(call->stream);
	sa_set_port(&la, call->rtp_port);
	if (sc.srtp) {
		err = kefu_rtp_stream_set_srtp(call->stream, NULL);
		if (err)
			goto out;
	}

	err = kefu_sdp_media_alloc(&call->sdp, &la, &sc);
	if (err)
		goto out;

	list_append(&calls->calls, &call->le, call);

 out:
	if (err)
		mem_deref(call);
	else
		*callp = call;

	return err;
}

/* --- hold and resume ------------------------------------------------------ */

/* libre 1.1 tells of our re-INVITE only when it succeeds (the answer
 * handler).  A failure response (488, 500, 603...) it drops without a
 * word; a 491 it answers by sending the offer again after RFC 3261 14.1's
 * wait (3 s when we placed the call, 1 s else), as often as 491 comes; a
 * re-INVITE nobody answers ends the whole call after 32 s.  Nor can we
 * send the re-INVITE ourselves on its dialog: the ACK of a 200 and its
 * retransmissions, the auth challenge and the far end's crossing
 * re-INVITE are all sipsess's to handle.  So a hold or resume that brings
 * no answer in KEFU_CALLS_HOLD_ANSWER_MS counts as refused: the UI hears
 * so, and the call goes back to how it was, which is how the far end
 * still has it. */

static void on_hold_then(void *arg);

/* A request queued behind the settled one goes now, unless the call is
 * as it asks already.  true: it went (the transfer, if any, waits on). */
static bool
call_hold_queue_next(struct call *call)
{
	bool hold = call->hold_then == HOLD_THEN_HOLD;

	if (call->hold_then == HOLD_THEN_NONE ||
	    hold == kefu_sdp_media_local_hold(call->sdp)) {
		call->hold_then = HOLD_THEN_NONE;
		return false;
	}

	/* from a timer: an offer made inside libre's answer handler would
	 * lose its body for a retry */
	tmr_start(&call->tmr_hold, 0, on_hold_then, call);

	return true;
}

static void
on_hold_then(void *arg)
{
	struct call *call = arg;
	bool hold = call->hold_then == HOLD_THEN_HOLD;
	int err;

	if (call->closed || call->hold_then == HOLD_THEN_NONE)
		return;

	call->hold_then = HOLD_THEN_NONE;
	err = kefu_calls_hold(call->calls, call->id, hold);
	if (err) {
		g_message("call %u: %s: %s", call->id, hold ? "hold" : "resume",
			  g_strerror(err));
		call_hold_failed(call);
	}
}

/* Our hold (resume) took: the far end answered our offer, or made one of
 * its own that we answered with what we asked for. */
static void
call_hold_done(struct call *call)
{
	call_post_media_event(call, kefu_sdp_media_local_hold(call->sdp)
			      ? KEFU_CALL_EVENT_HELD
			      : KEFU_CALL_EVENT_RESUMED);
	if (!call_hold_queue_next(call))
		call_hold_answered(call);
}

static void
on_hold_timeout(void *arg)
{
	struct call *call = arg;
	struct posted_event *pe;

	if (call->closed || !call->hold_pending)
		return;

	g_message("call %u: no answer accepting our %s in %u ms", call->id,
		  call->hold_asked ? "hold" : "resume",
		  KEFU_CALLS_HOLD_ANSWER_MS);

	call->hold_pending = false;
	call->hold_given_up = true;
	kefu_sdp_media_set_dir(call->sdp, call->hold_before
			       ? KEFU_SDP_SENDONLY : KEFU_SDP_SENDRECV);

	pe = call_event_new(call, call->hold_asked
			    ? KEFU_CALL_EVENT_HOLD_FAILED
			    : KEFU_CALL_EVENT_RESUME_FAILED);
	call_event_add_media(pe, call);
	pe->ev.reason = g_strdup_printf("not accepted by the far end "
					"within %u s",
					KEFU_CALLS_HOLD_ANSWER_MS / 1000);
	call_post(call, pe);

	if (!call_hold_queue_next(call))
		call_hold_failed(call);
}

/* --- sipsess handlers ---------------------------------------------------- */

int
call_on_auth(char **username, char **password, const char *realm, void *arg)
{
	struct call *call = arg;
	int err;

	(void)realm;
	if (!call->auth_user || !call->password ||
	    ++call->auth_tries > MAX_AUTH_TRIES)
		return EAUTH;

	err = str_dup(username, call->auth_user);
	err |= str_dup(password, call->password);

	return err;
}

/* The peer's offer: in a re-INVITE, or in the 200 to an INVITE without
 * one.  An error makes libre answer 488. */
static int
on_offer(struct mbuf **descp, const struct sip_msg *msg, void *arg)
{
	struct call *call = arg;
	bool remote_hold, hold_done;
	size_t pos = msg->mb->pos;
	int err;

	err = kefu_sdp_media_read_offer(call->sdp, msg->mb);
	msg->mb->pos = pos;
	if (err) {
		g_message("call %u: refused re-offer: %s", call->id,
			  g_strerror(err));
		/* libre's 488 says strerror() of this: not "No such file
		 * or directory" for no codec in common */
		return err == KEFU_SDP_ENOCODEC ? EMEDIUMTYPE : err;
	}

	err = kefu_sdp_media_create_answer(call->sdp, descp);
	if (err)
		return err;

	/* libre takes the far end's re-INVITE only with none of ours out,
	 * and drops ours that waited to go (a 491's retry): our answer says
	 * what we asked for, so that settles our hold */
	hold_done = call->established && call->hold_pending;
	if (hold_done) {
		call->hold_pending = false;
		tmr_cancel(&call->tmr_hold);
	}
	call->hold_given_up = false;

	if (call->established)
		call_media_update(call);

	remote_hold = kefu_sdp_media_remote_hold(call->sdp);
	if (call->established && remote_hold != call->remote_hold) {
		call->remote_hold = remote_hold;
		call_post_media_event(call, remote_hold
				 ? KEFU_CALL_EVENT_REMOTE_HOLD
				 : KEFU_CALL_EVENT_REMOTE_RESUMED);
	}

	if (hold_done)
		call_hold_done(call);

	return 0;
}

/* The answer to our offer: in the 200 (initial INVITE or our re-INVITE),
 * or in the ACK when we offered in our 200. */
static int
on_answer(const struct sip_msg *msg, void *arg)
{
	struct call *call = arg;
	struct mbuf *mb = msg->mb;
	size_t pos = mb->pos;
	bool late, hold_done;
	int err;

	/* a 200 may leave out the answer already given in a 183 */
	if (!mbuf_get_left(mb) && call->early)
		mb = call->early;

	err = kefu_sdp_media_read_answer(call->sdp, mb);
	mb->pos = pos;
	if (err) {
		g_message("call %u: unusable SDP answer: %s", call->id,
			  g_strerror(err));
		/* libre ends the call with this: see on_close */
		return err == KEFU_SDP_ENOCODEC ? EMEDIUMTYPE : err;
	}

	/* An answer after we gave up on our offer: the far end took it
	 * late, so the call is now as that offer asked. */
	late = !call->hold_pending && call->hold_given_up;
	if (late)
		kefu_sdp_media_set_dir(call->sdp, call->hold_asked
				       ? KEFU_SDP_SENDONLY : KEFU_SDP_SENDRECV);
	hold_done = call->established && (call->hold_pending || late);
	if (call->hold_pending) {
		call->hold_pending = false;
		tmr_cancel(&call->tmr_hold);
	}
	call->hold_given_up = false;

	if (call->established)
		call_media_update(call);

	if (hold_done)
		call_hold_done(call);

	return 0;
}

static void
on_progress(const struct sip_msg *msg, void *arg)
{
	struct call *call = arg;
	struct posted_event *pe;
	size_t len = mbuf_get_left(msg->mb);

	if (len) {
		mem_deref(call->early);
		call->early = mbuf_alloc(len);
		if (call->early) {
			(void)mbuf_write_mem(call->early, mbuf_buf(msg->mb),
					     len);
			call->early->pos = 0;
		}
	}

	if (msg->scode > 100)
		call_refer_progress(call, msg->scode, "Ringing");

	pe = call_event_new(call, KEFU_CALL_EVENT_PROGRESS);
	pe->ev.scode = msg->scode;
	pe->ev.reason = call_pl_strdup(&msg->reason);
	pe->ev.early_media = len > 0;
	call_post(call, pe);
}

static void
on_established(const struct sip_msg *msg, void *arg)
{
	struct call *call = arg;

	call->established = true;
	call_remember_dialog(call, msg);
	if (call->dir == KEFU_CALL_OUTGOING)
		call_remember_contact(call, msg);
	call_refer_progress(call, 200, "OK");
	call->remote_hold = kefu_sdp_media_remote_hold(call->sdp);
	call_media_update(call);
	call_post_media_event(call, KEFU_CALL_EVENT_ESTABLISHED);
}

static void
on_close(int err, const struct sip_msg *msg, void *arg)
{
	struct call *call = arg;
	g_autofree char *reason = NULL;
	uint16_t scode = 0;

	if (msg && !msg->req && msg->scode >= 300) {
		scode = msg->scode;
		reason = call_pl_strdup(&msg->reason);
	}
	else if (err == ETIMEDOUT) {
		scode = 408;
		reason = g_strdup("timeout");
	}
	else if (err == ECONNRESET) {
		/* libre says so both for a BYE and for a CANCEL */
		reason = g_strdup(call->established || call->answered
				  ? "remote hangup" : "cancelled");
	}
	else if (err == EMEDIUMTYPE) {
		/* on_offer or on_answer refused the peer's SDP */
		reason = g_strdup("no codec in common");
	}
	else if (err) {
		reason = g_strdup(g_strerror(err));
	}
	else {
		reason = g_strdup("remote hangup");
	}

	call_close(call, scode, reason);
}

/* DTMF as SIP INFO (application/dtmf-relay or application/dtmf). */
static void
on_info(struct sip *sip, const struct sip_msg *msg, void *arg)
{
	struct call *call = arg;
	const struct sip_hdr *hdr = sip_msg_hdr(msg, SIP_HDR_CONTENT_TYPE);
	g_autofree char *ctype = hdr ? call_pl_strdup(&hdr->val) : NULL;
	g_autoptr(GError) error = NULL;
	struct posted_event *pe;
	KefuDtmfInfo info;

	if (!ctype || !kefu_dtmf_info_parse(ctype,
					    (const char *)mbuf_buf(msg->mb),
					    (gssize)mbuf_get_left(msg->mb),
					    &info, &error)) {
		bool bad_type = !ctype || g_error_matches(error,
				KEFU_DTMF_INFO_ERROR,
				KEFU_DTMF_INFO_ERROR_CONTENT_TYPE);

		g_debug("call %u: INFO refused: %s", call->id,
			error ? error->message : "no Content-Type");
		(void)sip_reply(sip, msg, bad_type ? 415 : 400,
				bad_type ? "Unsupported Media Type"
				: "Bad Request");
		return;
	}

	(void)sip_reply(sip, msg, 200, "OK");

	if (call->closed)
		return;

	pe = call_event_new(call, KEFU_CALL_EVENT_DTMF);
	pe->ev.dtmf_digit = info.signal;
	pe->ev.dtmf_mode = "info";
	call_post(call, pe);
}

static void info_send_next(struct call *call);

static void
on_info_response(int err, const struct sip_msg *msg, void *arg)
{
	struct call *call = arg;

	if (err)
		g_message("call %u: DTMF INFO: %s", call->id, g_strerror(err));
	else if (msg && msg->scode >= 300)
		g_message("call %u: DTMF INFO: %u %.*s", call->id, msg->scode,
			  (int)msg->reason.l, msg->reason.p);

	call->info.pending = false;
	info_send_next(call);
}

/* One INFO at a time, so the digits arrive in order. */
static void
info_send_next(struct call *call)
{
	int err;

	if (call->closed)
		return;
	err = kefu_dtmf_info_queue_send_next(&call->info, call->sess,
					     DTMF_DURATION_MS,
					     on_info_response, call);
	if (err)
		g_message("call %u: DTMF INFO: %s", call->id, g_strerror(err));
}

/* --- incoming ------------------------------------------------------------ */

static GPtrArray *
copy_headers(const struct sip_msg *msg)
{
	GPtrArray *headers = g_ptr_array_new_with_free_func(header_free);
	struct le *le;

	for (le = msg->hdrl.head; le; le = le->next) {
		const struct sip_hdr *hdr = le->data;
		struct kefu_call_header *h = g_new0(struct kefu_call_header,
						    1);

		h->name = call_pl_strdup(&hdr->name);
		h->value = call_pl_strdup(&hdr->val);
		g_ptr_array_add(headers, h);
	}

	return headers;
}

static const char *
status_reason(uint16_t scode)
{
	switch (scode) {

	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 481: return "Call/Transaction Does Not Exist";
	case 486: return "Busy Here";
	case 488: return "Not Acceptable Here";
	case 503: return "Service Unavailable";
	case 603: return "Decline";
	default:  return scode < 500 ? "Client Error" : "Server Error";
	}
}

static void call_hangup(struct call *call, const char *reason);

static void
on_incoming(const struct sip_msg *msg, void *arg)
{
	struct kefu_calls *calls = arg;
	struct sip *sip = kefu_ua_sip(calls->ua);
	g_autofree char *user = NULL;
	const char *account_id = NULL;
	const char *cuser;
	const struct sip_hdr *replaces_hdr;
	struct call *replaced = NULL;
	struct posted_event *pe;
	struct call *call = NULL;
	uint16_t scode;
	int err;

	if (calls->stopping) {
		(void)sip_treply(NULL, sip, msg, 503, status_reason(503));
		return;
	}

	/* What RFC 3261 asks of an INVITE (8.1.1, and 18.3: over UDP the
	 * body ends where Content-Length says), checked before libre's
	 * dialog code fails on it (a 500) or takes a call it cannot carry
	 * on (no To, no CSeq).  Without a Via nobody can be answered. */
	if (!pl_isset(&msg->via.sentby)) {
		g_debug("INVITE without a Via: dropped");
		return;
	}
	{
		const struct sip_hdr *contact = sip_msg_hdr(msg,
							    SIP_HDR_CONTACT);
		const char *bad = NULL;
		struct sip_addr caddr;
		struct pl digits;

		if (pl_isset(&msg->clen) && msg->tp == SIP_TRANSP_UDP) {
			if (re_regex(msg->clen.p, msg->clen.l, "[0-9]+",
				     &digits) || digits.l != msg->clen.l ||
			    digits.l > 9 ||
			    pl_u32(&digits) > mbuf_get_left(msg->mb))
				bad = "Bad Content-Length";
			else
				msg->mb->end = msg->mb->pos + pl_u32(&digits);
		}
		if (!pl_isset(&msg->from.val))
			bad = "Missing From header";
		else if (!pl_isset(&msg->from.tag))
			bad = "Missing From tag";
		else if (!pl_isset(&msg->to.val))
			bad = "Missing To header";
		else if (!pl_isset(&msg->callid))
			bad = "Missing Call-ID header";
		else if (pl_strcmp(&msg->cseq.met, "INVITE"))
			bad = "Bad CSeq header";
		else if (!contact || sip_addr_decode(&caddr, &contact->val))
			bad = "Bad Contact header";

		if (bad) {
			g_message("INVITE refused: %s", bad);
			(void)sip_treply(NULL, sip, msg, 400, bad);
			return;
		}
		if (mbuf_get_left(msg->mb) &&
		    !msg_ctype_cmp(&msg->ctyp, "application", "sdp")) {
			g_message("INVITE refused: a body of %.*s/%.*s",
				  (int)msg->ctyp.type.l, msg->ctyp.type.p,
				  (int)msg->ctyp.subtype.l,
				  msg->ctyp.subtype.p);
			(void)sip_treplyf(NULL, NULL, sip, msg, false, 415,
					  "Unsupported Media Type",
					  "Accept: application/sdp\r\n"
					  "Content-Length: 0\r\n\r\n");
			return;
		}
	}

	user = call_pl_strdup(&msg->uri.user);
	if (!calls->listen_any) {
		account_id = kefu_ua_account_for_user(calls->ua, user);
		if (!account_id) {
			g_debug("INVITE for unknown user '%s'", user);
			(void)sip_treply(NULL, sip, msg, 404,
					 status_reason(404));
			return;
		}
	}
	cuser = *user ? user : calls->listen_user;

	/* An attended transfer's INVITE replaces one of our calls, which
	 * must exist (RFC 3891); it is answered at once, without ringing. */
	replaces_hdr = sip_msg_hdr(msg, SIP_HDR_REPLACES);
	if (replaces_hdr) {
		replaced = call_find_replaced(calls, &replaces_hdr->val);
		if (!replaced) {
			g_debug("INVITE replacing an unknown dialog");
			(void)sip_treply(NULL, sip, msg, 481,
					 status_reason(481));
			return;
		}
	}

	/* SDES keys in an answer over plain SIP would be anyone's */
	if (call_srtp_wanted(calls, account_id) && msg->tp != SIP_TRANSP_TLS) {
		g_message("incoming call refused with 488: SRTP needs TLS");
		(void)sip_treply(NULL, sip, msg, 488, status_reason(488));
		return;
	}

	err = call_alloc(&call, calls,
			 kefu_calls_next_id(),
			 KEFU_CALL_INCOMING, account_id, &msg->dst);
	if (err) {
		g_warning("incoming call: %s", g_strerror(err));
		(void)sip_treply(NULL, sip, msg, 500, status_reason(500));
		return;
	}

	if (mbuf_get_left(msg->mb)) {
		size_t pos = msg->mb->pos;

		err = kefu_sdp_media_read_offer(call->sdp, msg->mb);
		msg->mb->pos = pos;
		if (err) {
			scode = kefu_sdp_sip_status(err);
			g_message("incoming call refused with %u: %s", scode,
				  err == KEFU_SDP_ENOCODEC
				  ? "no codec in common" : g_strerror(err));
			(void)sip_treply(NULL, sip, msg, scode,
					 scode == 400 ? "Malformed SDP"
					 : status_reason(scode));
			mem_deref(call);
			return;
		}
		call->got_offer = true;
	}

	err = sipsess_accept(&call->sess, calls->sock, msg, 180, "Ringing",
			     cuser, "application/sdp", NULL,
			     NULL, NULL, false,
			     on_offer, on_answer, on_established, on_info,
			     call_on_refer, on_close, call, ALLOW);
	if (err) {
		/* the caller's doing as much as ours: no warning */
		g_message("incoming call: accept: %s", g_strerror(err));
		(void)sip_treply(NULL, sip, msg, 500, status_reason(500));
		mem_deref(call);
		return;
	}

	(void)str_dup(&call->cuser, cuser);
	call_remember_contact(call, msg);

	pe = call_event_new(call, KEFU_CALL_EVENT_INCOMING);
	pe->ev.from_name = call_pl_strdup(&msg->from.dname);
	pe->ev.from_uri = call_pl_strdup(&msg->from.auri);
	pe->ev.to_uri = call_pl_strdup(&msg->to.auri);
	pe->ev.headers = copy_headers(msg);
	pe->ev.replaces = replaced ? replaced->id : 0;
	call_event_add_media(pe, call);
	call_post(call, pe);

	if (replaced) {
		err = kefu_calls_answer(calls, call->id);
		if (err)
			g_warning("call %u: answer: %s", call->id,
				  g_strerror(err));
		call_hangup(replaced, "replaced");
	}
}

/* --- commands (phone thread) --------------------------------------------- */

/** Answer an incoming call with 200 and our SDP (phone thread). */
int
kefu_calls_answer(struct kefu_calls *calls, guint call_id)
{
	struct mbuf *desc = NULL;
	struct call *call;
	int err;

	if (!calls)
		return EINVAL;

	call = call_find(calls, call_id);
	if (!call)
		return ENOENT;
	if (call->dir != KEFU_CALL_INCOMING || call->answered)
		return EPROTO;

	/* without an offer in the INVITE we offer, and the ACK answers */
	err = call->got_offer ? kefu_sdp_media_create_answer(call->sdp, &desc)
		: kefu_sdp_media_create_offer(call->sdp, &desc);
	if (err)
		return err;

	err = sipsess_answer(call->sess, 200, "OK", desc, ALLOW);
	mem_deref(desc);
	if (err)
		return err;

	call->answered = true;

	return 0;
}

/** Refuse an unanswered incoming call, 486 or 603 (phone thread). */
int
kefu_calls_reject(struct kefu_calls *calls, guint call_id, uint16_t scode)
{
	struct call *call;
	int err;

	if (!calls || scode < 400 || scode > 699)
		return EINVAL;

	call = call_find(calls, call_id);
	if (!call)
		return ENOENT;
	if (call->dir != KEFU_CALL_INCOMING || call->answered)
		return EPROTO;

	err = sipsess_reject(call->sess, scode, status_reason(scode), NULL);
	call->closed = true;
	{
		struct posted_event *pe = call_event_new(call,
						    KEFU_CALL_EVENT_CLOSED);

		pe->ev.scode = scode;
		pe->ev.reason = g_strdup(status_reason(scode));
		call_media_stop(call, pe);
		call_post(call, pe);
	}
	mem_deref(call);

	return err;
}

/* CANCEL, BYE, or 603 to an unanswered INVITE; one CLOSED with @reason. */
static void
call_hangup(struct call *call, const char *reason)
{
	struct posted_event *pe;

	if (call->dir == KEFU_CALL_INCOMING && !call->answered)
		(void)sipsess_reject(call->sess, 603, status_reason(603),
				     NULL);

	call->closed = true;
	if (call->referred_call)
		call_refer_progress(call, 487, "Request Terminated");
	pe = call_event_new(call, KEFU_CALL_EVENT_CLOSED);
	pe->ev.reason = g_strdup(reason);
	call_media_stop(call, pe);
	call_post(call, pe);
	mem_deref(call);  /* the session sends CANCEL or BYE */
}

/** End a call: CANCEL, BYE, or 603 to an unanswered INVITE (phone thread). */
int
kefu_calls_hangup(struct kefu_calls *calls, guint call_id)
{
	struct call *call;

	if (!calls)
		return EINVAL;

	call = call_find(calls, call_id);
	if (!call)
		return ENOENT;

	call_hangup(call, "local hangup");

	return 0;
}

/** Hold (sendonly) or resume (sendrecv) by re-INVITE (phone thread). */
int
kefu_calls_hold(struct kefu_calls *calls, guint call_id, bool hold)
{
	struct mbuf *desc = NULL;
	struct call *call;
	bool was_held;
	int err;

	if (!calls)
		return EINVAL;

	call = call_find(calls, call_id);
	if (!call)
		return ENOENT;
	if (!call->established)
		return EPROTO;

	/* one offer of ours at a time, so that each answer is known to be
	 * for the offer it answers */
	if (call->hold_pending) {
		call->hold_then = hold == call->hold_asked ? HOLD_THEN_NONE
			: hold ? HOLD_THEN_HOLD : HOLD_THEN_RESUME;
		return 0;
	}

	was_held = kefu_sdp_media_local_hold(call->sdp);
	err = kefu_sdp_media_hold(call->sdp, hold, &desc);
	if (err)
		return err;

	err = sipsess_modify(call->sess, desc);
	mem_deref(desc);
	if (err) {
		kefu_sdp_media_set_dir(call->sdp, was_held ? KEFU_SDP_SENDONLY
				       : KEFU_SDP_SENDRECV);
		/* the SDP's own direction is that of the offer not sent */
		call->hold_given_up = true;
		return err;
	}

	call->hold_then = HOLD_THEN_NONE;
	call->hold_pending = true;
	call->hold_asked = hold;
	call->hold_before = was_held;
	tmr_start(&call->tmr_hold, KEFU_CALLS_HOLD_ANSWER_MS, on_hold_timeout,
		  call);

	return 0;
}

/** Send DTMF digits in the configured mode (phone thread). */
int
kefu_calls_send_dtmf(struct kefu_calls *calls, guint call_id,
		     const char *digits)
{
	struct call *call;
	enum dtmf_mode mode;
	int err;

	if (!calls || !digits)
		return EINVAL;

	call = call_find(calls, call_id);
	if (!call)
		return ENOENT;
	if (!call->established)
		return EPROTO;

	for (const char *d = digits; *d; d++) {
		if (!strchr("0123456789*#ABCDabcd", *d))
			return EINVAL;
	}

	mode = call_dtmf_mode(call);
	if (mode == DTMF_AUTO)
		mode = kefu_sdp_media_telev_pt(call->sdp) >= 0
			? DTMF_RFC4733 : DTMF_INBAND;

	if (mode == DTMF_RFC4733)
		return kefu_rtp_stream_send_dtmf(call->stream, digits,
						 DTMF_DURATION_MS);
	if (mode == DTMF_INBAND)
		return kefu_rtp_stream_send_inband(call->stream, digits,
						   DTMF_DURATION_MS);

	err = kefu_dtmf_info_queue_add(&call->info, digits);
	if (!err)
		info_send_next(call);

	return err;
}

/** The audio back-end of one call (phone thread). */
int
kefu_calls_set_audio(struct kefu_calls *calls, guint call_id,
		     const char *audio)
{
	struct call *call;
	int err = 0;

	if (!calls)
		return EINVAL;

	call = call_find(calls, call_id);
	if (!call)
		return ENOENT;

	call->audio = mem_deref(call->audio);
	if (audio)
		err = str_dup(&call->audio, audio);
	if (err)
		return err;

	if (call->audio_open) {
		call->audio_open = false;
		if (call->media)
			call_media_update(call);
	}

	return 0;
}

/** Mute or unmute what we send on a call (phone thread). */
int
kefu_calls_mute(struct kefu_calls *calls, guint call_id, bool muted)
{
	struct call *call;

	if (!calls)
		return EINVAL;

	call = call_find(calls, call_id);
	if (!call)
		return ENOENT;

	kefu_rtp_stream_set_mute(call->stream, muted);

	return 0;
}

/** Start (@path) or stop (NULL) recording a call to a stereo WAV (phone
 * thread).  ENOENT: no such call; EIO with @error: the file. */
int
kefu_calls_record(struct kefu_calls *calls, guint call_id, const char *path,
		  GError **error)
{
	struct call *call;

	if (!calls)
		return EINVAL;

	call = call_find(calls, call_id);
	if (!call)
		return ENOENT;

	if (!path) {
		kefu_rtp_stream_record_stop(call->stream);
		return 0;
	}

	return kefu_rtp_stream_record_start(call->stream, path, error)
		? 0 : EIO;
}

/** The media statistics of a call so far (phone thread). */
int
kefu_calls_stats(struct kefu_calls *calls, guint call_id,
		 struct kefu_rtp_stream_stats *stats)
{
	struct call *call;

	if (!calls || !stats)
		return EINVAL;

	call = call_find(calls, call_id);
	if (!call)
		return ENOENT;

	kefu_rtp_stream_stats(call->stream, stats);

	return 0;
}

static int
extra_headers(struct mbuf **mbp, const char *const *headers)
{
	struct mbuf *mb = mbuf_alloc(256);
	int err;

	if (!mb)
		return ENOMEM;

	err = mbuf_write_str(mb, ALLOW);
	for (; !err && headers && headers[0] && headers[1]; headers += 2) {
		/* a header may not smuggle in another one */
		if (strpbrk(headers[0], "\r\n:") || strpbrk(headers[1], "\r\n")) {
			err = EINVAL;
			break;
		}
		err = mbuf_printf(mb, "%s: %s\r\n", headers[0], headers[1]);
	}
	err |= mbuf_write_u8(mb, 0);

	if (err)
		mem_deref(mb);
	else
		*mbp = mb;

	return err;
}

/* SDES keys go in the SDP: only over TLS (;transport=tls, what
 * kefu_ua_request_uri() makes of sips:). */
static bool
uri_is_tls(const char *uri)
{
	struct uri u;
	struct pl pl, tp;

	pl_set_str(&pl, uri);
	if (uri_decode(&u, &pl))
		return false;

	return 0 == msg_param_decode(&u.params, "transport", &tp) &&
		0 == pl_strcasecmp(&tp, "tls");
}

/** Place a call with id @call_id (phone thread); @account_id NULL places
 * it as the listen identity. */
int
kefu_calls_dial(struct kefu_calls *calls, guint call_id,
		const char *account_id, const char *to_uri,
		const char *const *headers)
{
	struct sip *sip;
	const char *aor = NULL, *cuser = NULL, *auth_user = NULL,
		*password = NULL;
	char *from = NULL;
	struct mbuf *hdrs = NULL;
	struct mbuf *desc = NULL;
	struct call *call = NULL;
	enum kefu_sip_transport tp = KEFU_SIP_TRANSPORT_UDP;
	g_autofree char *req_uri = NULL;
	struct sa laddr;
	int err;

	if (!calls || !call_id || !to_uri)
		return EINVAL;
	if (calls->stopping)
		return ESHUTDOWN;

	sip = kefu_ua_sip(calls->ua);

	if (account_id) {
		err = kefu_ua_account_identity(calls->ua, account_id, &aor,
					       &cuser, &auth_user, &password);
		err = err ? err : kefu_ua_account_transport(calls->ua,
							     account_id, &tp);
		if (err)
			return err;
	}

	/* a TCP/TLS account calls over its transport unless the URI names
	 * one; sips: becomes ;transport=tls for libre */
	req_uri = kefu_ua_request_uri(calls->ua, to_uri, tp);
	if (!req_uri)
		return EINVAL;

	if (call_srtp_wanted(calls, account_id) && !uri_is_tls(req_uri))
		return EPROTONOSUPPORT;

	err = sip_transp_laddr(sip, &laddr, (enum sip_transp)tp, NULL);
	if (err)
		return err;

	if (!account_id) {
		err = re_sdprintf(&from, "sip:%s@%J", calls->listen_user,
				  &laddr);
		if (err)
			return err;
		aor = from;
		cuser = calls->listen_user;
	}

	err = extra_headers(&hdrs, headers);
	if (err)
		goto out;

	err = call_alloc(&call, calls, call_id, KEFU_CALL_OUTGOING,
			 account_id, &laddr);
	if (err)
		goto out;

	err = str_dup(&call->cuser, cuser);
	if (err)
		goto out;

	if (auth_user && password) {
		err = str_dup(&call->auth_user, auth_user);
		err |= str_dup(&call->password, password);
		if (err)
			goto out;
	}

	err = kefu_sdp_media_create_offer(call->sdp, &desc);
	if (err)
		goto out;

	err = sipsess_connect(&call->sess, calls->sock, req_uri,
			      calls->display_name, aor, cuser, NULL, 0,
			      "application/sdp", desc, call_on_auth, call, false,
			      on_offer, on_answer, on_progress,
			      on_established, on_info, call_on_refer, on_close, call,
			      "%s", (const char *)hdrs->buf);

 out:
	if (err)
		mem_deref(call);
	mem_deref(desc);
	mem_deref(hdrs);
	mem_deref(from);

	return err;
}

/* --- the calls object ---------------------------------------------------- */

static void
on_loop_stop(struct kefu_phone_loop *loop, void *arg)
{
	struct kefu_calls *calls = arg;

	(void)loop;
	calls->stopping = true;

	/* every call still up is hung up (BYE, CANCEL, or 603 to one that
	 * rings) */
	while (calls->calls.head) {
		struct call *call = calls->calls.head->data;

		if (call->closed || kefu_calls_hangup(calls, call->id))
			mem_deref(call);
	}
}

static void
calls_destructor(void *arg)
{
	struct kefu_calls *calls = arg;

	list_flush(&calls->calls);
	kefu_conference_free(calls->conference);
	/* Sessions libre keeps after their call (a 200 the caller never
	 * ACKed, a BYE not yet answered) hold the socket: the loop has
	 * stopped, so nothing will end them but this. */
	sipsess_close_all(calls->sock);
	calls->sock = mem_deref(calls->sock);
	calls->evsock = mem_deref(calls->evsock);
	mem_deref(calls->listen_user);
	mem_deref(calls->display_name);
	mem_deref(calls->codecs);
	mem_deref(calls->audio);
}

/**
 * Take calls on @ua (phone thread): incoming INVITEs are offered as
 * INCOMING events.  The loop owns the result; *callsp stays valid on the
 * phone thread until the loop stops.
 */
int
kefu_calls_alloc(struct kefu_calls **callsp, struct kefu_phone_loop *loop,
		 struct kefu_ua *ua, const struct kefu_calls_config *cfg)
{
	struct kefu_calls *calls;
	int err;

	if (!callsp || !loop || !ua || !cfg)
		return EINVAL;

	calls = mem_zalloc(sizeof(*calls), calls_destructor);
	if (!calls)
		return ENOMEM;

	calls->loop = loop;
	calls->ua = ua;
	calls->listen_any = cfg->listen_any;
	calls->telev_pt = cfg->telev_pt;
	calls->srtp = cfg->srtp;
	calls->eventh = cfg->eventh;
	calls->arg = cfg->arg;
	list_init(&calls->calls);

	err = str_dup(&calls->listen_user, cfg->listen_user && *cfg->listen_user
		      ? cfg->listen_user : "kefu");
	if (cfg->display_name)
		err |= str_dup(&calls->display_name, cfg->display_name);
	err |= str_dup(&calls->codecs, cfg->codecs ? cfg->codecs
					: KEFU_CALLS_DEFAULT_CODECS);
	if (cfg->audio)
		err |= str_dup(&calls->audio, cfg->audio);
	if (err)
		goto out;

	calls->audio_loop = cfg->audio_loop;
	calls->dtmf_mode = dtmf_mode_parse(cfg->dtmf_mode, DTMF_AUTO);
	if (cfg->dtmf_mode && calls->dtmf_mode == DTMF_AUTO &&
	    0 != g_ascii_strcasecmp(cfg->dtmf_mode, "auto")) {
		err = EINVAL;
		goto out;
	}

	err = sipsess_listen(&calls->sock, kefu_ua_sip(ua), 32, on_incoming,
			     calls);
	if (err)
		goto out;

	/* NOTIFYs of our REFERs; SUBSCRIBE outside a dialog is not ours */
	err = sipevent_listen(&calls->evsock, kefu_ua_sip(ua), 32, 32, NULL,
			      NULL);
	if (err)
		goto out;

	err = kefu_phone_loop_add_stop_handler(loop, on_loop_stop, calls);

 out:
	if (!err)
		*callsp = calls;
	mem_deref(calls);  /* on success the loop holds it */

	return err;
}
