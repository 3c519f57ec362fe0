/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Transfer on the phone thread: our REFERs with their NOTIFY progress, and
 * the far end's REFERs, which the application decides on.
 * libre-facing, so this file keeps libre's tabs.
 */
#define G_LOG_DOMAIN "KefuCallSession"

#include "config.h"

#include <errno.h>
#include <string.h>

#include "kefu-call-session-private.h"

/* --- transfer ------------------------------------------------------------ */

/** Whether @uri is a sip: or sips: URI we may put in a Refer-To (any
 * thread: plain string checks, no libre). */
bool
kefu_call_transfer_target_valid(const char *uri)
{
	const char *rest, *host;

	if (!uri)
		return false;

	if (0 == g_ascii_strncasecmp(uri, "sip:", 4))
		rest = uri + 4;
	else if (0 == g_ascii_strncasecmp(uri, "sips:", 5))
		rest = uri + 5;
	else
		return false;

	/* it goes into a header between <>, so nothing that ends either */
	if (strpbrk(uri, "<>\"\r\n \t"))
		return false;

	host = strrchr(rest, '@');
	host = host ? host + 1 : rest;

	return *rest != '@' && (g_ascii_isalnum(host[0]) || host[0] == '[');
}

void
call_post_transfer_failed(struct call *call, uint16_t scode, const char *reason)
{
	struct posted_event *pe = call_event_new(call,
					    KEFU_CALL_EVENT_TRANSFER_FAILED);

	pe->ev.scode = scode;
	pe->ev.reason = g_strdup(reason ? reason : "");
	call_post(call, pe);
}

/* The subscription ended: a blind transfer that the target answered
 * ends our call, anything else leaves it up.  Runs from a timer, so the
 * BYE and the memory are not handled inside libre's handlers. */
static void
on_transfer_done(void *arg)
{
	struct call *call = arg;
	struct posted_event *pe;
	bool transferred = call->xfer_scode >= 200 && call->xfer_scode < 300;

	call->xfer_sub = mem_deref(call->xfer_sub);

	if (call->closed)
		return;

	if (!transferred) {
		call_post_transfer_failed(call, call->xfer_fail_scode,
				     call->xfer_fail_reason
				     ? call->xfer_fail_reason
				     : "no final NOTIFY");
		call->xfer_fail_reason = mem_deref(call->xfer_fail_reason);
		call->xfer_fail_scode = 0;
		call->xfer_scode = 0;
		return;
	}

	call->closed = true;
	pe = call_event_new(call, KEFU_CALL_EVENT_CLOSED);
	pe->ev.reason = g_strdup("transferred");
	call_media_stop(call, pe);
	call_post(call, pe);
	mem_deref(call);  /* the session sends BYE */
}

/* A NOTIFY of our REFER: its body is a sipfrag that starts with a status
 * line, "SIP/2.0 200 OK".  Anything else gets 400 and is not progress: a
 * code of more than three digits would wrap in 16 bits (65736 reads as
 * 200, and the call would end as transferred). */
static void
on_transfer_notify(struct sip *sip, const struct sip_msg *msg, void *arg)
{
	struct call *call = arg;
	struct posted_event *pe;
	struct pl scode, reason;
	struct pl body;

	pl_set_mbuf(&body, msg->mb);
	if (re_regex(body.p, body.l, "SIP/2.0 [0-9]+ [^\r\n]*",
		     &scode, &reason) || scode.p != body.p + 8 ||
	    scode.l != 3 || pl_u32(&scode) < 100) {
		g_debug("call %u: NOTIFY without a sipfrag status line",
			call->id);
		(void)sip_treply(NULL, sip, msg, 400, "Bad sipfrag");
		return;
	}

	(void)sip_treply(NULL, sip, msg, 200, "OK");

	call->xfer_scode = (uint16_t)pl_u32(&scode);
	if (call->xfer_scode >= 300) {
		call->xfer_fail_scode = call->xfer_scode;
		call->xfer_fail_reason = mem_deref(call->xfer_fail_reason);
		(void)pl_strdup(&call->xfer_fail_reason, &reason);
	}

	if (call->closed)
		return;

	pe = call_event_new(call, KEFU_CALL_EVENT_TRANSFER_PROGRESS);
	pe->ev.scode = call->xfer_scode;
	pe->ev.reason = call_pl_strdup(&reason);
	call_post(call, pe);
}

static void
on_transfer_close(int err, const struct sip_msg *msg,
		  const struct sipevent_substate *substate, void *arg)
{
	struct call *call = arg;

	(void)substate;

	if (msg && !msg->req && msg->scode >= 300) {
		call->xfer_scode = 0;
		call->xfer_fail_scode = msg->scode;
		call->xfer_fail_reason = mem_deref(call->xfer_fail_reason);
		(void)pl_strdup(&call->xfer_fail_reason, &msg->reason);
	}
	else if (err && !(call->xfer_scode >= 200 && call->xfer_scode < 300)) {
		call->xfer_fail_reason = mem_deref(call->xfer_fail_reason);
		(void)str_dup(&call->xfer_fail_reason,
			      err == ETIMEDOUT ? "timeout" : g_strerror(err));
	}

	tmr_start(&call->tmr_xfer, 0, on_transfer_done, call);
}

/** Blind transfer: REFER the far end of an established call to
 * @target_uri (phone thread). */
int
kefu_calls_transfer(struct kefu_calls *calls, guint call_id,
		    const char *target_uri)
{
	struct call *call;
	int err;

	if (!calls || !kefu_call_transfer_target_valid(target_uri))
		return EINVAL;

	call = call_find(calls, call_id);
	if (!call)
		return ENOENT;
	if (!call->established)
		return EPROTO;
	if (call->xfer_sub)
		return EALREADY;

	call->xfer_scode = 0;
	call->xfer_fail_scode = 0;
	call->xfer_fail_reason = mem_deref(call->xfer_fail_reason);

	err = sipevent_drefer(&call->xfer_sub, calls->evsock,
			      sipsess_dialog(call->sess),
			      call->cuser ? call->cuser : calls->listen_user,
			      call_on_auth, call, false,
			      on_transfer_notify, on_transfer_close, call,
			      "Refer-To: <%s>\r\n", target_uri);
	if (err)
		g_message("call %u: REFER: %s", call->id, g_strerror(err));

	return err;
}

/* The far end asks us to call someone else.  We take the request (202,
 * NOTIFY "100 Trying") and tell the application; calling the target is
 * its decision (kefu_calls_refer_accept or _decline), never ours. */
void
call_on_refer(struct sip *sip, const struct sip_msg *msg, void *arg)
{
	struct call *call = arg;
	const struct sip_hdr *hdr = sip_msg_hdr(msg, SIP_HDR_REFER_TO);
	const struct sip_hdr *by = sip_msg_hdr(msg, SIP_HDR_REFERRED_BY);
	struct posted_event *pe;
	struct mbuf *mb = NULL;
	struct pl uri;
	int err;

	if (!hdr) {
		(void)sip_reply(sip, msg, 400, "Missing Refer-To header");
		return;
	}

	/* Only a target the application could call is reported: a URI
	 * that is not sip: or sips:, or not printable ASCII, is refused
	 * here and never reaches it. */
	if (re_regex(hdr->val.p, hdr->val.l, "<[^>]+>", &uri))
		uri = hdr->val;
	{
		char *target = NULL;
		bool valid = 0 == pl_strdup(&target, &uri) &&
			kefu_call_transfer_target_valid(target);

		for (const char *p = target; valid && *p; p++)
			valid = g_ascii_isgraph(*p);
		mem_deref(target);
		if (!valid) {
			g_message("call %u: REFER to an unusable URI refused",
				  call->id);
			(void)sip_reply(sip, msg, 400, "Bad Refer-To URI");
			return;
		}
	}

	if (call->closed || call->refer_not) {
		/* one at a time: a second one would need its own id */
		(void)sip_reply(sip, msg, 491, "Request Pending");
		return;
	}

	err = sipevent_accept(&call->refer_not, call->calls->evsock, msg,
			      sipsess_dialog(call->sess), NULL,
			      202, "Accepted", 60, 60, 60,
			      call->cuser ? call->cuser
			      : call->calls->listen_user,
			      "message/sipfrag", NULL, NULL, false,
			      NULL, NULL, NULL);
	if (err) {
		g_warning("call %u: REFER: %s", call->id, g_strerror(err));
		(void)sip_reply(sip, msg, 500, "Server Internal Error");
		return;
	}

	err = sipevent_notifyf(call->refer_not, &mb, SIPEVENT_ACTIVE, 0, 0,
			       "SIP/2.0 100 Trying\r\n");
	mem_deref(mb);
	if (err)
		g_message("call %u: NOTIFY: %s", call->id, g_strerror(err));

	call->refer_to = mem_deref(call->refer_to);
	call->referred_by = mem_deref(call->referred_by);
	(void)pl_strdup(&call->refer_to, &uri);
	(void)pl_strdup(&call->referred_by, by ? &by->val : &msg->from.auri);

	pe = call_event_new(call, KEFU_CALL_EVENT_REFER);
	pe->ev.refer_to = g_strdup(call->refer_to);
	/* the peer's words, for the UI: valid UTF-8 */
	pe->ev.referred_by = g_utf8_make_valid(call->referred_by
					       ? call->referred_by : "", -1);
	call_post(call, pe);
}


/* --- attended transfer --------------------------------------------------- */

/* The dialog's Call-ID and tags, from the message that established it:
 * the 200 of our INVITE (From is us) or the ACK of our 200 (To is us). */
void
call_remember_dialog(struct call *call, const struct sip_msg *msg)
{
	const struct pl *ltag, *rtag;

	if (!msg)
		return;

	ltag = msg->req ? &msg->to.tag : &msg->from.tag;
	rtag = msg->req ? &msg->from.tag : &msg->to.tag;

	call->callid = mem_deref(call->callid);
	call->ltag = mem_deref(call->ltag);
	call->rtag = mem_deref(call->rtag);
	(void)pl_strdup(&call->callid, &msg->callid);
	(void)pl_strdup(&call->ltag, ltag);
	(void)pl_strdup(&call->rtag, rtag);
}

/* Where the far end says it can be reached: the Refer-To of an attended
 * transfer sends the transferee there. */
void
call_remember_contact(struct call *call, const struct sip_msg *msg)
{
	const struct sip_hdr *hdr = msg ? sip_msg_hdr(msg, SIP_HDR_CONTACT)
		: NULL;
	struct sip_addr addr;

	if (!hdr || sip_addr_decode(&addr, &hdr->val))
		return;

	call->remote_contact = mem_deref(call->remote_contact);
	(void)pl_strdup(&call->remote_contact, &addr.auri);
}

/* The established call a Replaces header names ("call-id;to-tag=..;
 * from-tag=..", the tags as the receiver sees them), or NULL. */
struct call *
call_find_replaced(const struct kefu_calls *calls, const struct pl *replaces)
{
	struct pl callid, params, totag, fromtag;
	struct le *le;
	const char *semi = pl_strchr(replaces, ';');

	if (!semi)
		return NULL;
	callid.p = replaces->p;
	callid.l = (size_t)(semi - replaces->p);
	params.p = semi;
	params.l = replaces->l - callid.l;
	if (msg_param_decode(&params, "to-tag", &totag) ||
	    msg_param_decode(&params, "from-tag", &fromtag))
		return NULL;
	while (callid.l && (callid.p[callid.l - 1] == ' ' || callid.p[callid.l - 1] == '\t'))
		callid.l--;

	for (le = calls->calls.head; le; le = le->next) {
		struct call *call = le->data;

		if (call->closed || !call->established || !call->callid)
			continue;
		if (0 == pl_strcmp(&callid, call->callid) &&
		    0 == pl_strcmp(&totag, call->ltag) &&
		    0 == pl_strcmp(&fromtag, call->rtag))
			return call;
	}

	return NULL;
}

/** Attended transfer (phone thread): REFER the far end of @call_id, held,
 * to the far end of @target_id, with a Replaces naming our dialog with
 * it, so the two end up talking and both our calls end.  Until the hold
 * of @call_id is acknowledged the REFER waits (and a call not held yet is
 * put on hold first). */
int
kefu_calls_transfer_attended(struct kefu_calls *calls, guint call_id,
			     guint target_id)
{
	struct call *call, *target;
	struct pl replaces;
	char *rv = NULL;
	int err;

	if (!calls || call_id == target_id)
		return EINVAL;

	call = call_find(calls, call_id);
	target = call_find(calls, target_id);
	if (!call || !target)
		return ENOENT;
	if (!call->established || !target->established ||
	    !target->callid || !target->remote_contact)
		return EPROTO;
	if (call->xfer_sub || call->xfer_after_hold)
		return EALREADY;

	/* The REFER goes only once the transferee is held (acknowledged),
	 * so it never hears the consultation; we hold it if need be (after
	 * a resume under way, if one is). */
	if (call->hold_pending || !kefu_sdp_media_local_hold(call->sdp)) {
		err = kefu_calls_hold(calls, call_id, true);
		if (err)
			return err;
		call->xfer_after_hold = target_id;
		return 0;
	}

	/* from the target's side, its tag is the to-tag */
	err = re_sdprintf(&rv, "%s;to-tag=%s;from-tag=%s", target->callid,
			  target->rtag, target->ltag);
	if (err)
		return err;
	pl_set_str(&replaces, rv);

	call->xfer_scode = 0;
	call->xfer_fail_scode = 0;
	call->xfer_fail_reason = mem_deref(call->xfer_fail_reason);

	err = sipevent_drefer(&call->xfer_sub, calls->evsock,
			      sipsess_dialog(call->sess),
			      call->cuser ? call->cuser : calls->listen_user,
			      call_on_auth, call, false,
			      on_transfer_notify, on_transfer_close, call,
			      "Refer-To: <%s?Replaces=%H>\r\n",
			      target->remote_contact, uri_header_escape,
			      &replaces);
	mem_deref(rv);
	if (err)
		g_message("call %u: REFER: %s", call->id, g_strerror(err));

	return err;
}

/* Our hold or resume is settled: an attended transfer waiting for it
 * goes now if the call is held, else it fails with @why_not, and both
 * calls stay as they are, for the agent to hang up or try again. */
static void
hold_settled(struct call *call, const char *why_not)
{
	guint target = call->xfer_after_hold;
	int err;

	if (!target)
		return;

	call->xfer_after_hold = 0;
	err = kefu_sdp_media_local_hold(call->sdp)
		? kefu_calls_transfer_attended(call->calls, call->id, target)
		: EPROTO;
	if (err)
		call_post_transfer_failed(call, 0, err == EPROTO ? why_not
					  : g_strerror(err));
}

/* The far end answered our re-INVITE (or the call was resumed since). */
void
call_hold_answered(struct call *call)
{
	hold_settled(call, "the call could not be held");
}

/* Our re-INVITE brought no answer in time (kefu-call-session.c). */
void
call_hold_failed(struct call *call)
{
	hold_settled(call, "the far end did not accept the hold");
}

/* --- the far end's REFER: the application's decision --------------------- */

static void
refer_notify(struct call *call, bool final, uint16_t scode, const char *reason)
{
	struct mbuf *mb = NULL;
	int err;

	if (!call->refer_not)
		return;

	err = sipevent_notifyf(call->refer_not, &mb,
			       final ? SIPEVENT_TERMINATED : SIPEVENT_ACTIVE,
			       SIPEVENT_NORESOURCE, 0,
			       "SIP/2.0 %u %s\r\n", scode, reason);
	mem_deref(mb);
	if (err)
		g_message("call %u: NOTIFY: %s", call->id, g_strerror(err));

	if (final) {
		call->refer_not = mem_deref(call->refer_not);
		call->refer_to = mem_deref(call->refer_to);
		call->referred_by = mem_deref(call->referred_by);
	}
}

/* The call placed on a REFER moved on: tell the one who asked. */
void
call_refer_progress(struct call *call, uint16_t scode, const char *reason)
{
	struct call *orig;

	if (!call->referred_call)
		return;

	orig = call_find(call->calls, call->referred_call);
	if (orig)
		refer_notify(orig, scode >= 200, scode, reason);
	if (scode >= 200)
		call->referred_call = 0;
}

/** Do what the far end's REFER on @call_id asked (phone thread): call its
 * Refer-To as call @new_id (with the Replaces it carried), and keep the
 * referrer posted by NOTIFY.  EPROTO: no REFER waits on that call. */
int
kefu_calls_refer_accept(struct kefu_calls *calls, guint call_id,
			guint new_id)
{
	const char *headers[5] = { NULL };
	char *target = NULL, *replaces = NULL, *by = NULL;
	struct call *call, *placed;
	struct pl pl, hval;
	struct uri uri;
	const char *q;
	size_t n = 0;
	int err;

	if (!calls)
		return EINVAL;

	call = call_find(calls, call_id);
	if (!call)
		return ENOENT;
	if (!call->refer_not || !call->refer_to)
		return EPROTO;

	pl_set_str(&pl, call->refer_to);
	err = uri_decode(&uri, &pl);
	if (err) {
		refer_notify(call, true, 400, "Bad Refer-To");
		return EINVAL;
	}

	/* the target without its ?headers, which become real headers */
	q = strchr(call->refer_to, '?');
	err = re_sdprintf(&target, "%b", pl.p,
			  q ? (size_t)(q - call->refer_to) : pl.l);
	if (!err && uri.headers.p &&
	    0 == uri_header_get(&uri.headers, &(struct pl)PL("Replaces"),
				&hval)) {
		err = re_sdprintf(&replaces, "%H", uri_header_unescape,
				  &hval);
		headers[n++] = "Replaces";
		headers[n++] = replaces;
	}
	if (!err && call->referred_by) {
		by = call->referred_by;
		headers[n++] = "Referred-By";
		headers[n++] = by;
	}

	if (!err)
		err = kefu_calls_dial(calls, new_id, call->account_id, target,
				      headers);
	mem_deref(target);
	mem_deref(replaces);
	if (err) {
		refer_notify(call, true, 503, "Service Unavailable");
		return err;
	}

	placed = call_find(calls, new_id);
	if (placed)
		placed->referred_call = call->id;
	call->refer_accepted = true;

	return 0;
}

/** Refuse what the far end's REFER on @call_id asked (phone thread): the
 * referrer hears 603 Declined in the final NOTIFY. */
int
kefu_calls_refer_decline(struct kefu_calls *calls, guint call_id)
{
	struct call *call;

	if (!calls)
		return EINVAL;

	call = call_find(calls, call_id);
	if (!call)
		return ENOENT;
	if (!call->refer_not)
		return EPROTO;

	refer_notify(call, true, 603, "Declined");

	return 0;
}

/* --- conference ---------------------------------------------------------- */

/** Mix @call_id and @other_id with the agent in a local conference (phone
 * thread); a call already in it stays.  A call we hold is resumed, since
 * everyone must hear everyone. */
int
kefu_calls_conference(struct kefu_calls *calls, guint call_id,
		      guint other_id)
{
	struct call *members[2];
	int err = 0;

	if (!calls || call_id == other_id)
		return EINVAL;

	members[0] = call_find(calls, call_id);
	members[1] = call_find(calls, other_id);
	if (!members[0] || !members[1])
		return ENOENT;
	if (!members[0]->established || !members[1]->established)
		return EPROTO;

	if (!calls->conference) {
		struct kefu_audio_source *src = NULL;
		struct kefu_audio_sink *sink = NULL;
		g_autoptr(GError) error = NULL;

		/* the agent's own microphone and speaker */
		if (!kefu_audio_open(calls->audio, calls->audio_loop, &src,
				     &sink, &error)) {
			g_warning("conference: audio: %s (using null)",
				  error->message);
		}
		err = kefu_conference_alloc(&calls->conference, src, sink);
		if (err)
			return err;
	}

	for (size_t i = 0; i < G_N_ELEMENTS(members); i++) {
		struct call *call = members[i];
		struct kefu_audio_source *src = NULL;
		struct kefu_audio_sink *sink = NULL;

		if (call->in_conference)
			continue;

		err = kefu_conference_port(calls->conference, &src, &sink);
		if (err)
			break;

		kefu_rtp_stream_set_audio(call->stream, src, sink);
		call->audio_open = true;
		call->in_conference = true;

		/* a hold under way is followed by the resume */
		if (kefu_sdp_media_local_hold(call->sdp))
			(void)kefu_calls_hold(calls, call->id, false);

		call_post_media_event(call, KEFU_CALL_EVENT_CONFERENCE);
	}

	return err;
}

/* A call's media stopped (its port ends went with it): the conference
 * ends with its last call. */
void
call_conference_leave(struct call *call)
{
	struct kefu_calls *calls = call->calls;

	if (!call->in_conference)
		return;

	call->in_conference = false;
	if (calls->conference && !kefu_conference_parties(calls->conference)) {
		kefu_conference_free(calls->conference);
		calls->conference = NULL;
	}
}
