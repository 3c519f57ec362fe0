/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The agent's leg of a call once answered: digits to the caller, hold
 * (the caller hears the queue's music, or the switch's own, and the time
 * counts as the CDR's hold_s) and transfers by REFER, each answered 202
 * with NOTIFY progress in message/sipfrag (RFC 3515): "100 Trying" at
 * once, then the final one, after which the subscription ends.
 *
 *   blind to an extension, or to an outside number (through the gateway
 *   its prefix picks, as for an agent's outside call): the caller hears
 *   music while the target rings for the queue's ring timeout
 *   (TRANSFER_RING_MS without a queue).  The target answers: "200 OK",
 *   the caller talks to the target, and the transferring agent's phone
 *   hangs up.  It does not (no answer, busy, no phone registered): the
 *   failure ("480 Temporarily Unavailable", "486 Busy Here", "404 Not
 *   Found") and the caller is back with the agent, who never lost them.
 *
 *   blind to a queue (Refer-To sip:queue-NAME@switch): "200 OK" at once,
 *   the caller waits in that queue; no such queue: "404 Not Found".
 *
 *   attended (Refer-To with Replaces naming the agent's consultation, a
 *   call the same agent placed through the switch and that is answered):
 *   the consulted party's leg becomes the caller's other side, the
 *   consultation ends (BYE to the agent's consulting dialog), "200 OK".
 *   Replaces naming anything else: 481, nothing changes.
 *
 * An agent's own call (to an outside number or an extension, placed
 * through the switch) transfers the same way once answered: the agent's
 * REFER comes on the call's caller leg, so the two legs change places
 * first (the party the agent called is the one who stays, and the number
 * the phones rung for it show), then it is any agent's REFER.  An agent
 * who called a queue is that call's caller: the agent who answered
 * transfers it, and the caller's REFER is refused (403).
 *
 * Only agents transfer: REFER from an outside party (the gateway's leg
 * of an agent's outside call) is refused with 403, and a caller's leg
 * that is no agent's own call takes no REFER (603).
 *
 * A transferring agent's ACD call ends there (they go to wrap-up); the
 * agent who takes the call over is busy in the ACD until it ends.  Every
 * transfer is a call.transferred event (agent: who transferred; data: to,
 * kind) and makes the CDR's outcome "transferred".  A referring leg the
 * phone does not hang up within REFERRER_LINGER_MS is hung up.
 *
 * libre-facing: libre's tabs.
 */
#define G_LOG_DOMAIN "KefuSwitchCall"

#include "config.h"

#include "kefu-switch-private.h"

#include <string.h>

#include "kefu-rtp-relay.h"

enum {
	TRANSFER_RING_MS = 20000,
	REFERRER_LINGER_MS = 5000,
};

enum transfer_kind {
	XFER_BLIND,
	XFER_QUEUE,
	XFER_ATTENDED,
};

struct transfer {
	struct le le;                    /* sw's lingering referrers */
	struct kefu_switch *sw;
	struct call *call;               /* while under way */
	struct sipnot *not;              /* the REFER's implicit subscription */
	struct kefu_switch_leg *referrer;   /* owned once the transfer is done */
	enum transfer_kind kind;
	char *from_agent;
	char *target;                    /* what Refer-To's user part said */
	struct tmr tmr;
};

static void
transfer_destructor(void *arg)
{
	struct transfer *x = arg;

	tmr_cancel(&x->tmr);
	list_unlink(&x->le);
	if (x->call && x->call->xfer == x)
		x->call->xfer = NULL;
	mem_deref(x->not);
	if (x->referrer)
		kefu_switch_leg_hangup(x->referrer, 0);
	g_free(x->from_agent);
	g_free(x->target);
}

/* A sipfrag NOTIFY; the final one ends the subscription (libre keeps the
 * notifier alive until the NOTIFY is answered). */
static void
transfer_notify(struct transfer *x, uint16_t scode, const char *reason)
{
	struct mbuf *mb = NULL;
	bool final = scode >= 200;
	int err;

	if (!x->not)
		return;
	err = sipevent_notifyf(x->not, &mb, final ? SIPEVENT_TERMINATED
			       : SIPEVENT_ACTIVE, SIPEVENT_NORESOURCE, 0,
			       "SIP/2.0 %u %s\r\n", scode, reason);
	mem_deref(mb);
	if (err)
		g_message("transfer of %s: NOTIFY %u: %s", x->call
			  ? x->call->id : "-", scode, g_strerror(err));
	if (final)
		x->not = mem_deref(x->not);
}

static void
on_notify_closed(int err, const struct sip_msg *msg, void *arg)
{
	struct transfer *x = arg;

	(void)msg;
	g_debug("transfer: the referrer's subscription ended: %s",
		g_strerror(err));
	/* not from inside the notifier's own handler */
	kefu_switch_defer_free(x->sw, x->not);
	x->not = NULL;
}

/* --- the referring leg, once the call has left it ------------------------ */

static void
on_referrer_linger(void *arg)
{
	struct transfer *x = arg;

	g_debug("transfer: the referring phone did not hang up: we do");
	mem_deref(x);
}

static void
referrer_closed(struct kefu_switch_leg *leg, uint16_t scode,
		const char *reason, void *arg)
{
	struct transfer *x = arg;

	(void)scode;
	(void)reason;
	if (leg != x->referrer)
		return;
	kefu_switch_defer_free(x->sw, x->referrer);
	x->referrer = NULL;
	tmr_cancel(&x->tmr);
	list_unlink(&x->le);
	kefu_switch_defer_free(x->sw, x);
}

static const struct kefu_switch_leg_handlers referrer_handlers = {
	.closed = referrer_closed,
};

/* The call is done with @x: the agent's leg, if still there, waits for
 * its BYE on its own. */
static void
transfer_release(struct transfer *x, struct kefu_switch_leg *referrer)
{
	struct call *call = x->call;

	if (call && call->xfer == x)
		call->xfer = NULL;
	x->call = NULL;
	if (!referrer) {
		mem_deref(x);
		return;
	}
	x->referrer = referrer;
	kefu_switch_leg_set_handlers(referrer, &referrer_handlers, x);
	kefu_switch_leg_play(referrer, NULL, false);
	list_append(&x->sw->transfers, &x->le, x);
	tmr_start(&x->tmr, REFERRER_LINGER_MS, on_referrer_linger, x);
}

/* The caller has left the transferring agent: the ACD's call ends for
 * them (wrap-up), the event says where it went. */
static void
transfer_leave_agent(struct transfer *x)
{
	struct call *call = x->call;
	struct kefu_switch *sw = call->sw;
	g_autoptr(JsonObject) data = json_object_new();

	if (call->hold_since_us) {
		call->hold_ms = call_hold_total_ms(call);
		call->hold_since_us = 0;
	}
	call->on_hold = false;
	if (call->in_acd && call->acd_answered) {
		(void)kefu_acd_call_end(sw->acd, call->id, call->hold_ms);
		call->in_acd = false;
		call->acd_answered = false;
	}
	json_object_set_string_member(data, "to", x->target);
	json_object_set_string_member(data, "kind", x->kind == XFER_ATTENDED
				      ? "attended" : x->kind == XFER_QUEUE
				      ? "queue" : "blind");
	kefu_switch_post_event(sw, "call.transferred", call->id, call->queue,
			       x->from_agent, data);
	call->outcome = "transferred";
	call->transfers++;
	g_message("call %s: transferred by %s to %s (%s)", call->id,
		  x->from_agent ? x->from_agent : "-", x->target,
		  x->kind == XFER_ATTENDED ? "attended" : x->kind == XFER_QUEUE
		  ? "queue" : "blind");
}

/* The target took the call: @leg (answered) is the caller's other side. */
static void
transfer_succeed(struct transfer *x, struct kefu_switch_leg *leg,
		 const char *agent, const char *extension, bool outside)
{
	struct call *call = x->call;
	struct kefu_switch *sw = call->sw;
	struct kefu_switch_leg *referrer = call->agent_leg;
	const char *username = outside ? NULL : kefu_switch_agent_of(sw,
								     extension);

	transfer_notify(x, 200, "OK");
	call_unbridge(call);
	call_set_agent_busy(call, username);
	transfer_leave_agent(x);

	call->agent_leg = leg;
	kefu_switch_leg_set_handlers(leg, &kefu_switch_agent_handlers, call);
	call_set_str(&call->agent, username ? username : agent);
	call_set_str(&call->agent_ext, outside ? NULL : extension);
	call->agent_leg_outside = outside;
	transfer_release(x, referrer);
	call_bridge(call);
}

/* The target did not take it: the caller is back with the agent. */
static void
transfer_fail(struct transfer *x, uint16_t scode, const char *reason)
{
	struct call *call = x->call;

	g_message("call %s: transfer to %s failed: %u %s", call->id,
		  x->target, scode, reason);
	transfer_notify(x, scode, reason);
	list_flush(&call->offers);
	transfer_release(x, NULL);
	if (!call->agent_leg) {
		/* the agent hung up meanwhile: nobody to go back to */
		call_end(call, "failed");
		return;
	}
	call->state = CALL_BRIDGED;
	if (call->on_hold)
		call_play_music(call);
	else
		call_bridge(call);
}

void
call_transfer_offer_done(struct call *call, struct offer *o, bool answered)
{
	struct transfer *x = call->xfer;
	struct kefu_switch_leg *leg = o->leg;
	g_autofree char *agent = g_strdup(o->agent);
	g_autofree char *extension = g_strdup(o->extension);
	g_autofree char *reason = g_strdup(o->reason ? o->reason
					   : "Temporarily Unavailable");
	uint16_t scode = o->scode ? o->scode : 480;
	bool outside = o->outside;

	if (answered) {
		o->leg = NULL;
		mem_deref(o);
		list_flush(&call->offers);
		transfer_succeed(x, leg, agent, extension, outside);
		return;
	}
	mem_deref(o);
	if (!call->offers.head)
		transfer_fail(x, scode, reason);
}

void
call_transfer_abort(struct call *call)
{
	struct transfer *x = call->xfer;

	if (!x)
		return;
	transfer_notify(x, 487, "Request Terminated");
	transfer_release(x, NULL);
}

void
kefu_switch_transfers_flush(struct kefu_switch *sw)
{
	while (sw->transfers.head)
		mem_deref(sw->transfers.head->data);
}

/* --- REFER --------------------------------------------------------------- */

/* The call an agent's Replaces names: one the same agent placed (its
 * caller leg is that dialog of theirs) and someone answered. */
static struct call *
consultation_find(struct call *call, const struct pl *replaces)
{
	struct kefu_switch *sw = call->sw;
	g_autofree char *raw = g_strndup(replaces->p, replaces->l);
	g_autofree char *value = g_uri_unescape_string(raw, NULL);
	g_auto(GStrv) parts = NULL;
	const char *from_tag = NULL;

	if (!value)
		return NULL;
	parts = g_strsplit(value, ";", -1);
	for (guint i = 1; parts[i]; i++)
		if (g_str_has_prefix(parts[i], "from-tag="))
			from_tag = parts[i] + 9;

	for (struct le *le = sw->calls.head; le; le = le->next) {
		struct call *c = le->data;
		const char *id = kefu_switch_leg_callid(c->caller);
		const char *rtag = kefu_switch_leg_rtag(c->caller);

		if (c == call || !id || strcmp(id, parts[0]) ||
		    !c->agent_leg || c->state != CALL_BRIDGED)
			continue;
		if (from_tag && rtag && strcmp(from_tag, rtag))
			continue;
		/* only the agent's own consultation */
		if (!call->agent_ext || g_strcmp0(c->owner, call->agent_ext))
			continue;
		return c;
	}

	return NULL;
}

static void
transfer_attended(struct transfer *x, struct call *consult)
{
	struct call *call = x->call;
	struct kefu_switch_leg *leg = consult->agent_leg;
	g_autofree char *agent = g_strdup(consult->agent);
	g_autofree char *extension = g_strdup(consult->agent_ext);
	bool outside = consult->agent_leg_outside;

	/* the consulted party leaves the consultation for the caller */
	consult->relay = mem_deref(consult->relay);
	consult->agent_leg = NULL;
	kefu_switch_leg_set_handlers(leg, &kefu_switch_agent_handlers, call);
	/* busy on the caller's call before the consultation frees them: no
	 * offer slips in between */
	call_set_agent_busy(call, consult->agent_busy);
	consult->outcome = "transferred";
	call_end(consult, "transferred");

	call->state = CALL_CONNECTING;
	transfer_succeed(x, leg, agent, extension, outside);
}

static void
transfer_blind(struct transfer *x)
{
	struct call *call = x->call;
	struct kefu_switch *sw = call->sw;
	const char *target = x->target;
	const char *target_agent = kefu_switch_agent_of(sw, target);
	const KefuSwitchQueue *q = call_queue_conf(call);
	uint32_t ring_ms = q && q->ring_timeout_ms ? q->ring_timeout_ms
		: TRANSFER_RING_MS;
	int err;

	if (target_agent && !g_strcmp0(target, call->agent_ext)) {
		transfer_fail(x, 482, "Loop Detected");
		return;
	}

	call_unbridge(call);
	call->state = CALL_CONNECTING;
	call_play_music(call);

	if (target_agent ||
	    kefu_switch_registrar_has_credential(sw->registrar, target)) {
		err = call_offer_agent(call, target_agent ? target_agent
				       : target, target, false, 0, ring_ms);
	}
	else {
		const KefuSwitchTrunk *trunk =
			kefu_switch_config_outbound_trunk(call->config, target);

		err = trunk ? call_offer_outside(call, trunk, target, ring_ms)
			: ENOENT;
	}
	if (err) {
		if (err == ENOENT)
			transfer_fail(x, 404, "Not Found");
		else
			transfer_fail(x, 500, "Server Internal Error");
	}
}

static void
transfer_to_queue(struct transfer *x, const KefuSwitchQueue *q)
{
	struct call *call = x->call;
	struct kefu_switch_leg *referrer = call->agent_leg;

	transfer_notify(x, 200, "OK");
	call_unbridge(call);
	call_set_agent_busy(call, NULL);
	transfer_leave_agent(x);
	call->agent_leg = NULL;
	transfer_release(x, referrer);
	call_enqueue(call, q->name, NULL, q->priority);
}

static void
agent_refer(struct kefu_switch_leg *leg, struct sip *sip,
	    const struct sip_msg *msg, void *arg)
{
	struct call *call = arg;
	struct kefu_switch *sw = call->sw;
	const struct sip_hdr *hdr = sip_msg_hdr(msg, SIP_HDR_REFER_TO);
	const KefuSwitchQueue *q = NULL;
	struct call *consult = NULL;
	struct sip_addr addr;
	struct pl replaces = PL_INIT;
	struct transfer *x;
	g_autofree char *user = NULL;
	int err;

	/* an outside party (a gateway's leg) transfers nothing: it would
	 * make the switch call out for it */
	if (call->agent_leg_outside) {
		g_message("call %s: REFER from the outside party refused",
			  call->id);
		(void)sip_reply(sip, msg, 403, "Forbidden");
		return;
	}
	if (leg != call->agent_leg || call->state != CALL_BRIDGED) {
		(void)sip_reply(sip, msg, call->xfer ? 491 : 403,
				call->xfer ? "Request Pending" : "Forbidden");
		return;
	}
	if (!hdr || sip_addr_decode(&addr, &hdr->val)) {
		(void)sip_reply(sip, msg, 400, "Bad Refer-To");
		return;
	}
	user = g_strndup(addr.uri.user.p, addr.uri.user.l);
	if (pl_isset(&addr.uri.headers))
		(void)re_regex(addr.uri.headers.p, addr.uri.headers.l,
			       "Replaces=[^&]+", &replaces);

	if (pl_isset(&replaces)) {
		consult = consultation_find(call, &replaces);
		if (!consult) {
			g_message("call %s: REFER with Replaces naming no "
				  "consultation of %s", call->id,
				  call->agent_ext ? call->agent_ext : "-");
			(void)sip_reply(sip, msg, 481,
					"Call/Transaction Does Not Exist");
			return;
		}
	}
	else if (!*user) {
		(void)sip_reply(sip, msg, 400, "Bad Refer-To");
		return;
	}

	x = mem_zalloc(sizeof(*x), transfer_destructor);
	if (!x) {
		(void)sip_reply(sip, msg, 500, "Server Internal Error");
		return;
	}
	x->sw = sw;
	x->call = call;
	x->from_agent = g_strdup(call->agent);
	x->target = consult ? g_strdup(consult->agent) : g_strdup(user);
	tmr_init(&x->tmr);
	err = sipevent_accept(&x->not, sw->ss.evsock, msg,
			      kefu_switch_leg_dialog(leg), NULL, 202,
			      "Accepted", 60, 60, 60, "switch",
			      "message/sipfrag", NULL, NULL, false,
			      on_notify_closed, x, NULL);
	if (err) {
		g_warning("call %s: REFER: %s", call->id, g_strerror(err));
		(void)sip_reply(sip, msg, 500, "Server Internal Error");
		mem_deref(x);
		return;
	}
	call->xfer = x;
	transfer_notify(x, 100, "Trying");

	if (consult) {
		x->kind = XFER_ATTENDED;
		transfer_attended(x, consult);
		return;
	}
	if (g_str_has_prefix(user, "queue-")) {
		x->kind = XFER_QUEUE;
		q = kefu_switch_config_get_queue(sw->config, user + 6);
		if (q)
			transfer_to_queue(x, q);
		else
			transfer_fail(x, 404, "Not Found");
		return;
	}
	x->kind = XFER_BLIND;
	transfer_blind(x);
}

/* The agent who placed @call takes the agent's side of it, the party they
 * called the caller's. */
static void
owner_takes_agent_side(struct call *call)
{
	struct kefu_switch_leg *owner_leg = call->caller;
	const char *username = kefu_switch_agent_of(call->sw, call->owner);
	char *busy = call->agent_busy;

	call->caller = call->agent_leg;
	call->agent_leg = owner_leg;
	kefu_switch_leg_set_handlers(call->caller, &kefu_switch_caller_handlers,
				     call);
	kefu_switch_leg_set_handlers(call->agent_leg,
				     &kefu_switch_agent_handlers, call);
	call_set_str(&call->party_number, call->callee);
	call_set_str(&call->agent, username ? username : call->owner);
	call_set_str(&call->agent_ext, call->owner);
	call->agent_leg_outside = false;
	/* the ACD's busy marks follow the sides: the transferring agent's is
	 * the one a transfer hands to its target */
	call->agent_busy = call->owner_busy;
	call->owner_busy = busy;
	g_debug("call %s: %s hands on the party they called", call->id,
		call->agent);
}

void
call_transfer_by_owner(struct kefu_switch_leg *leg, struct sip *sip,
		       const struct sip_msg *msg, void *arg)
{
	struct call *call = arg;

	if (!call->owner || leg != call->caller) {
		(void)sip_reply(sip, msg, 603, "Decline");
		return;
	}
	if (call->state != CALL_BRIDGED || !call->agent_leg || call->xfer ||
	    call->queue) {
		(void)sip_reply(sip, msg, call->xfer ? 491 : 403,
				call->xfer ? "Request Pending" : "Forbidden");
		return;
	}
	owner_takes_agent_side(call);
	agent_refer(leg, sip, msg, call);
}

/* --- the agent's leg ----------------------------------------------------- */

static void
agent_closed(struct kefu_switch_leg *leg, uint16_t scode, const char *reason,
	     void *arg)
{
	struct call *call = arg;

	(void)scode;
	if (leg != call->agent_leg)
		return;
	kefu_switch_defer_free(call->sw, call->agent_leg);
	call->agent_leg = NULL;
	if (call->xfer) {
		/* a blind transfer rings on: the agent need not wait */
		g_message("call %s: the agent hung up; the transfer goes on",
			  call->id);
		call->relay = mem_deref(call->relay);
		return;
	}
	g_message("call %s: the agent hung up (%s)", call->id, reason);
	call_end(call, "answered");
}

static void
agent_digit(struct kefu_switch_leg *leg, char digit, const char *mode,
	    void *arg)
{
	struct call *call = arg;

	if (leg != call->agent_leg || call->state != CALL_BRIDGED ||
	    !call->caller || !call->relay)
		return;
	if (!strcmp(mode, "rfc4733") && kefu_rtp_relay_passes_telev(call->relay))
		return;
	(void)kefu_switch_leg_send_digit(call->caller, digit);
}

static void
agent_hold(struct kefu_switch_leg *leg, bool held, void *arg)
{
	struct call *call = arg;

	if (leg != call->agent_leg || held == call->on_hold)
		return;
	call->on_hold = held;

	if (held) {
		call->hold_since_us = g_get_real_time();
		if (call->state == CALL_BRIDGED) {
			call_unbridge(call);
			call_play_music(call);
		}
		kefu_switch_post_event(call->sw, "call.held", call->id,
				       call->queue, call->agent, NULL);
		g_message("call %s: held by %s", call->id,
			  call->agent ? call->agent : "the agent");
	}
	else {
		call->hold_ms = call_hold_total_ms(call);
		call->hold_since_us = 0;
		if (call->state == CALL_BRIDGED)
			call_bridge(call);
		kefu_switch_post_event(call->sw, "call.resumed", call->id,
				       call->queue, call->agent, NULL);
		g_message("call %s: resumed by %s", call->id,
			  call->agent ? call->agent : "the agent");
	}
}

const struct kefu_switch_leg_handlers kefu_switch_agent_handlers = {
	.closed = agent_closed,
	.digit = agent_digit,
	.hold = agent_hold,
	.refer = agent_refer,
};
