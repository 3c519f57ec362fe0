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

/* A NOTIFY of our REFER: its body is a sipfrag, "SIP/2.0 200 OK". */
static void
on_transfer_notify(struct sip *sip, const struct sip_msg *msg, void *arg)
{
	struct call *call = arg;
	struct posted_event *pe;
	struct pl scode, reason;
	struct pl body;

	(void)sip_treply(NULL, sip, msg, 200, "OK");

	pl_set_mbuf(&body, msg->mb);
	if (re_regex(body.p, body.l, "SIP/2.0 [0-9]+ [^\r\n]*",
		     &scode, &reason)) {
		g_debug("call %u: NOTIFY without a sipfrag status line",
			call->id);
		return;
	}

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
 * its decision, never ours. */
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

	if (re_regex(hdr->val.p, hdr->val.l, "<[^>]+>", &uri))
		uri = hdr->val;

	pe = call_event_new(call, KEFU_CALL_EVENT_REFER);
	pe->ev.refer_to = call_pl_strdup(&uri);
	pe->ev.referred_by = by ? call_pl_strdup(&by->val)
		: call_pl_strdup(&msg->from.auri);
	call_post(call, pe);
}

