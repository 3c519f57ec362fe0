/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The calls of kefu-switch.  A call is what the caller experiences: one
 * leg to the caller (a trunk's INVITE the switch answers, or an agent's
 * own call), the IVR run on that leg (kefu-switch-call-ivr.c), its time in
 * an ACD queue with music and announcements (kefu-switch-call-acd.c), the
 * offers (one leg per phone ringing: agents', or a gateway's for an
 * outside number) and, once one answers, the bridge of the two legs'
 * media (kefu-rtp-relay.h).  Its id is the X-Kefu-Call header and the CDR
 * id.  The agent's leg, with hold and transfers, is
 * kefu-switch-call-transfer.c.  A recorded queue's call is recorded on the
 * caller's leg, from the first answer to the end, so that one file holds
 * everything the caller heard and said.
 *
 * libre-facing: libre's tabs.
 */
#define G_LOG_DOMAIN "KefuSwitchCall"

#include "config.h"

#include "kefu-switch-private.h"

#include <math.h>
#include <string.h>

#include "kefu-ivr.h"
#include "kefu-rtp-relay.h"

enum {
	HOLD_MUSIC_MS = 4000,
};

/* --- helpers ------------------------------------------------------------- */

struct call *
call_find(const struct kefu_switch *sw, const char *id)
{
	for (struct le *le = sw->calls.head; le; le = le->next) {
		struct call *call = le->data;

		if (!strcmp(call->id, id))
			return call;
	}

	return NULL;
}

char *
call_sanitize(const char *s, bool uri_user)
{
	GString *out = g_string_new(NULL);

	for (const char *p = s ? s : ""; *p && out->len < 64; p++) {
		if (uri_user ? (g_ascii_isalnum(*p) || strchr("+*#._-", *p))
		    : (*p >= 0x20 && *p != 0x7f))
			g_string_append_c(out, *p);
	}

	return g_string_free(out, FALSE);
}

static char *
iso_time(int64_t us)
{
	g_autoptr(GDateTime) dt = NULL;

	if (!us)
		return NULL;
	dt = g_date_time_new_from_unix_utc(us / G_USEC_PER_SEC);
	return dt ? g_date_time_format_iso8601(dt) : NULL;
}

const KefuSwitchQueue *
call_queue_conf(const struct call *call)
{
	return call->queue ? kefu_switch_config_get_queue(call->sw->config,
							  call->queue) : NULL;
}

const char *const *
call_languages(const struct call *call)
{
	if (call->trunk && call->trunk->languages)
		return (const char *const *)call->trunk->languages;
	return (const char *const *)call->config->settings.languages;
}

void
call_set_str(char **dst, const char *src)
{
	g_free(*dst);
	*dst = g_strdup(src);
}

uint64_t
call_hold_total_ms(const struct call *call)
{
	uint64_t ms = call->hold_ms;

	if (call->hold_since_us)
		ms += (uint64_t)(g_get_real_time() - call->hold_since_us) /
			1000;
	return ms;
}

/* The new one busy before the old one is free: no offer slips in
 * between. */
static void
busy_set(struct call *call, char **slot, const char *username)
{
	struct kefu_acd *acd = call->sw->acd;
	g_autofree char *old = *slot;

	if (!g_strcmp0(old, username)) {
		old = NULL;
		return;
	}
	*slot = g_strdup(username);
	if (username)
		(void)kefu_acd_agent_busy(acd, username, true);
	if (old)
		(void)kefu_acd_agent_busy(acd, old, false);
}

void
call_set_agent_busy(struct call *call, const char *username)
{
	busy_set(call, &call->agent_busy, username);
}

void
call_set_owner_busy(struct call *call, const char *username)
{
	busy_set(call, &call->owner_busy, username);
}

/* --- CDR and the end of a call ------------------------------------------- */

static void
write_cdr(struct call *call)
{
	g_autoptr(JsonObject) r = json_object_new();
	g_autofree char *offered = iso_time(call->offered_us);
	g_autofree char *answered = iso_time(call->answered_us);
	g_autofree char *ended = iso_time(call->ended_us);
	int64_t wait_end = call->answered_us ? call->answered_us
		: call->ended_us;

	json_object_set_string_member(r, "id", call->id);
	json_object_set_string_member(r, "direction", call->direction);
	if (call->caller_number && *call->caller_number)
		json_object_set_string_member(r, "caller", call->caller_number);
	if (call->callee && *call->callee)
		json_object_set_string_member(r, "callee", call->callee);
	if (call->queue)
		json_object_set_string_member(r, "queue", call->queue);
	if (call->agent)
		json_object_set_string_member(r, "agent", call->agent);
	if (call->customer_id) {
		gint64 id = g_ascii_strtoll(call->customer_id, NULL, 10);

		if (id > 0)
			json_object_set_int_member(r, "customer_id", id);
	}
	if (offered)
		json_object_set_string_member(r, "offered_at", offered);
	if (answered)
		json_object_set_string_member(r, "answered_at", answered);
	if (ended)
		json_object_set_string_member(r, "ended_at", ended);
	if (call->offered_us)
		json_object_set_double_member(r, "wait_s",
			(double)(wait_end - call->offered_us) / 1e6);
	if (call->answered_us) {
		double talk = (double)(call->ended_us - call->answered_us) /
			1e6 - (double)call->hold_ms / 1e3;

		json_object_set_double_member(r, "talk_s", MAX(talk, 0.0));
		json_object_set_double_member(r, "hold_s",
					      (double)call->hold_ms / 1e3);
	}
	json_object_set_string_member(r, "outcome", call->outcome
				      ? call->outcome : "failed");
	if (call->ivr_path)
		json_object_set_string_member(r, "ivr_path", call->ivr_path);
	if (call->recording)
		json_object_set_string_member(r, "recording", call->recording);

	if (call->sw->link)
		(void)kefu_server_link_call_record(call->sw->link, r);
}

static void
offer_destructor(void *arg)
{
	struct offer *o = arg;

	tmr_cancel(&o->tmr);
	tmr_cancel(&o->tmr_ring);
	list_unlink(&o->le);
	mem_deref(o->leg);
	g_free(o->agent);
	g_free(o->extension);
	g_free(o->reason);
}

static void
call_destructor(void *arg)
{
	struct call *call = arg;

	list_unlink(&call->le);
	tmr_cancel(&call->tmr_farewell);
	list_flush(&call->offers);
	mem_deref(call->relay);
	mem_deref(call->ivr);
	mem_deref(call->req);
	mem_deref(call->agent_leg);
	mem_deref(call->caller);
	if (call->music)
		g_bytes_unref(call->music);
	g_free(call->caller_number);
	g_free(call->callee);
	g_free(call->owner);
	g_free(call->party_number);
	g_free(call->queue);
	g_free(call->skill);
	g_free(call->customer_id);
	g_free(call->ivr_path);
	g_free(call->ivr_flow);
	g_free(call->language);
	g_free(call->agent);
	g_free(call->agent_ext);
	g_free(call->agent_busy);
	g_free(call->owner_busy);
	g_free(call->recording);
	if (call->config)
		kefu_switch_config_unref(call->config);
}

/* The recording is complete (its WAV header written) before the CDR
 * names it, not whenever the caller's leg is freed. */
static void
recording_finish(struct call *call)
{
	if (call->recording && call->caller)
		kefu_rtp_stream_record_stop(kefu_switch_leg_stream(call->caller));
}

/* Ends the call once: the ACD hears of it, both legs go (BYE, CANCEL),
 * the CDR is written, and the memory goes on the next turn. */
void
call_end(struct call *call, const char *outcome)
{
	struct kefu_switch *sw = call->sw;

	if (call->state == CALL_ENDED)
		return;

	if (call->hold_since_us) {
		call->hold_ms = call_hold_total_ms(call);
		call->hold_since_us = 0;
	}
	call->ended_us = g_get_real_time();
	if (!call->outcome)
		call->outcome = outcome;

	call_transfer_abort(call);
	if (call->in_acd) {
		if (call->acd_answered)
			(void)kefu_acd_call_end(sw->acd, call->id,
						call->hold_ms);
		else
			(void)kefu_acd_abandon(sw->acd, call->id);
		call->in_acd = false;
	}
	call_set_agent_busy(call, NULL);
	call_set_owner_busy(call, NULL);
	call->state = CALL_ENDED;
	tmr_cancel(&call->tmr_farewell);

	call->relay = mem_deref(call->relay);
	call->ivr = mem_deref(call->ivr);
	call->req = mem_deref(call->req);
	list_flush(&call->offers);
	if (call->agent_leg) {
		kefu_switch_leg_hangup(call->agent_leg, 0);
		call->agent_leg = NULL;
	}
	if (call->caller) {
		recording_finish(call);
		kefu_switch_leg_hangup(call->caller, call->fail_scode);
		call->caller = NULL;
	}

	g_message("call %s ended: %s", call->id, call->outcome);
	write_cdr(call);
	list_unlink(&call->le);
	kefu_switch_defer_free(sw, call);
}

/* --- music, prompts ------------------------------------------------------ */

/* What a caller on hold hears when the call's queue has no music: a soft
 * two-note chime every few seconds, so that hold never sounds like a
 * dropped call. */
static GBytes *
hold_music(struct kefu_switch *sw)
{
	const size_t n = HOLD_MUSIC_MS * 8;
	int16_t *pcm;

	if (sw->hold_music)
		return sw->hold_music;

	pcm = g_new0(int16_t, n);
	for (size_t i = 0; i < n; i++) {
		double t = (double)i / 8000.0;
		double f = t < 0.4 ? 523.25 : t < 0.8 ? 659.25 : 0.0;
		double env;

		if (f == 0.0)
			break;
		env = exp(-3.0 * fmod(t, 0.4));
		pcm[i] = (int16_t)(3000.0 * env * sin(2 * G_PI * f * t));
	}
	/* and a quiet hum under it, never silence */
	for (size_t i = 0; i < n; i++)
		pcm[i] = (int16_t)(pcm[i] + 400.0 * sin(2 * G_PI * 392.0 *
						       (double)i / 8000.0));
	sw->hold_music = g_bytes_new_take(pcm, n * sizeof(*pcm));

	return sw->hold_music;
}

void
call_play_music(struct call *call)
{
	const KefuSwitchQueue *q = call_queue_conf(call);

	call->announcing = false;
	if (!call->music && q && q->music) {
		int err = 0;

		call->music = kefu_ivr_render_prompt(q->music, call->sw->tts,
						     call_languages(call),
						     NULL, &err);
		if (!call->music)
			g_message("call %s: music of queue %s: %s", call->id,
				  q->name, g_strerror(err));
	}
	kefu_switch_leg_play(call->caller, call->music ? call->music
			     : hold_music(call->sw), true);
}

void
call_queue_moved(struct call *call, const char *queue)
{
	if (!g_strcmp0(call->queue, queue))
		return;
	call_set_str(&call->queue, queue);
	if (call->music) {
		g_bytes_unref(call->music);
		call->music = NULL;
	}
	g_debug("call %s now waits in queue %s", call->id, queue);
	if (call->state == CALL_QUEUED)
		call_play_music(call);
}

static void
on_farewell_timeout(void *arg)
{
	struct call *call = arg;

	call_end(call, call->outcome);
}

void
call_farewell(struct call *call, GBytes *pcm, const char *outcome)
{
	/* the prompt's own length, and some slack for a slow media tick */
	uint64_t ms = pcm ? g_bytes_get_size(pcm) / (2 * 8) + 2000 : 0;

	if (!call->outcome)
		call->outcome = outcome;
	list_flush(&call->offers);
	call->relay = mem_deref(call->relay);
	if (call->agent_leg) {
		kefu_switch_leg_hangup(call->agent_leg, 0);
		call->agent_leg = NULL;
	}
	if (!pcm || !call->caller) {
		call_end(call, outcome);
		return;
	}
	call->state = CALL_FAREWELL;
	call->announcing = false;
	kefu_switch_leg_play(call->caller, pcm, false);
	tmr_start(&call->tmr_farewell, ms, on_farewell_timeout, call);
}

/* --- the bridge ---------------------------------------------------------- */

void
call_unbridge(struct call *call)
{
	call->relay = mem_deref(call->relay);
	kefu_switch_leg_play(call->agent_leg, NULL, false);
}

void
call_bridge(struct call *call)
{
	struct kefu_rtp_relay_config rc = { 0 };
	const KefuSwitchQueue *q = call_queue_conf(call);
	KefuSwitchDtmfMode mc = kefu_switch_leg_dtmf(call->caller);
	KefuSwitchDtmfMode ma = kefu_switch_leg_dtmf(call->agent_leg);
	const char *cc = kefu_switch_leg_codec(call->caller);
	const char *ca = kefu_switch_leg_codec(call->agent_leg);
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL;
	int err;

	call->relay = mem_deref(call->relay);
	kefu_switch_leg_play(call->caller, NULL, false);
	kefu_switch_leg_play(call->agent_leg, NULL, false);

	if (q && q->recording && !call->recording) {
		g_autofree char *name = g_strdup_printf("%s.wav", call->id);

		(void)g_mkdir_with_parents(call->config->settings.recordings_dir,
					   0750);
		path = g_build_filename(call->config->settings.recordings_dir,
					name, NULL);
		/* The caller's own stream records, not the relay: it lives
		 * as long as the call, so hold, a transfer or another queue
		 * add to the one file instead of starting it anew. */
		if (kefu_rtp_stream_record_start(kefu_switch_leg_stream(call->caller),
						 path, &error))
			call->recording = g_steal_pointer(&path);
		else
			g_warning("call %s: recording: %s; the call goes on "
				  "unrecorded", call->id, error->message);
	}

	/* a recording needs the audio the caller's stream sends */
	rc.decode = call->recording != NULL || !cc || !ca ||
		g_ascii_strcasecmp(cc, ca) ||
		mc == KEFU_SWITCH_DTMF_INBAND || ma == KEFU_SWITCH_DTMF_INBAND;
	rc.forward_telev = mc == KEFU_SWITCH_DTMF_RFC4733 &&
		ma == KEFU_SWITCH_DTMF_RFC4733;
	rc.suppress_inband_a = mc == KEFU_SWITCH_DTMF_INBAND;
	rc.suppress_inband_b = ma == KEFU_SWITCH_DTMF_INBAND;

	err = kefu_rtp_relay_alloc(&call->relay,
				   kefu_switch_leg_stream(call->caller),
				   kefu_switch_leg_stream(call->agent_leg),
				   &rc, NULL);
	if (err)
		g_warning("call %s: bridge: %s", call->id, g_strerror(err));
	else
		g_debug("call %s bridged (%s)", call->id,
			rc.decode ? "decoded" : "packets");
	call->state = CALL_BRIDGED;
}

/* --- offers -------------------------------------------------------------- */

static void
on_offer_result_timer(void *arg)
{
	struct offer *o = arg;
	struct call *call = o->call;
	g_autofree char *agent = g_strdup(o->agent);
	enum kefu_acd_offer_result result = o->result;
	bool acd = o->acd;

	if (!acd && call->xfer) {
		call_transfer_offer_done(call, o, false);
		return;
	}
	mem_deref(o);
	if (acd)
		(void)kefu_acd_offer_result(call->sw->acd, call->id, agent,
					    result);
	else if (call->state == CALL_CONNECTING && !call->offers.head) {
		call->fail_scode = result == KEFU_ACD_BUSY_REJECTED ? 486 : 480;
		call_end(call, result == KEFU_ACD_BUSY_REJECTED ? "busy"
			 : "no_answer");
	}
}

static void
offer_fail_later(struct offer *o, enum kefu_acd_offer_result result,
		 uint16_t scode, const char *reason)
{
	struct call *call = o->call;

	if (o->leg) {
		kefu_switch_defer_free(call->sw, o->leg);
		o->leg = NULL;
	}
	tmr_cancel(&o->tmr_ring);
	o->result = result;
	o->scode = scode;
	call_set_str(&o->reason, reason);
	tmr_start(&o->tmr, 0, on_offer_result_timer, o);
}

void
call_offer_ring_timeout(void *arg)
{
	struct offer *o = arg;

	g_message("call %s: %s did not answer", o->call->id, o->agent);
	offer_fail_later(o, KEFU_ACD_NO_ANSWER, 480, "Temporarily Unavailable");
}

static void
offer_progress(struct kefu_switch_leg *leg, uint16_t scode, void *arg)
{
	(void)leg;
	(void)scode;
	(void)arg;
}

static void
offer_established(struct kefu_switch_leg *leg, void *arg)
{
	struct offer *o = arg;
	struct call *call = o->call;
	g_autofree char *agent = g_strdup(o->agent);
	g_autofree char *extension = g_strdup(o->extension);
	bool acd = o->acd;
	bool outside = o->outside;

	if (!acd && call->xfer) {
		call_transfer_offer_done(call, o, true);
		return;
	}

	/* the leg becomes the call's: its handlers pointed at the offer */
	o->leg = NULL;
	mem_deref(o);
	call->agent_leg = leg;
	kefu_switch_leg_set_handlers(leg, &kefu_switch_agent_handlers, call);
	if (!acd)
		(void)kefu_switch_leg_answer(call->caller);
	call->agent_leg_outside = outside;
	if (!outside) {
		const char *username = kefu_switch_agent_of(call->sw,
							    extension);

		call_set_str(&call->agent, acd || !username ? agent : username);
		call_set_str(&call->agent_ext, extension);
		if (!acd)
			call_set_agent_busy(call, username);
	}
	if (!call->answered_us)
		call->answered_us = g_get_real_time();
	/* a transferred call keeps saying so */
	if (!call->transfers)
		call->outcome = "answered";

	if (acd) {
		call->acd_answered = true;
		/* the ACD cancels any other ring-all offer through cancel() */
		(void)kefu_acd_offer_result(call->sw->acd, call->id, agent,
					    KEFU_ACD_ANSWERED);
	}
	list_flush(&call->offers);
	g_message("call %s answered by %s", call->id, agent);
	call_bridge(call);
}

static void
offer_closed(struct kefu_switch_leg *leg, uint16_t scode, const char *reason,
	     void *arg)
{
	struct offer *o = arg;

	(void)leg;
	g_message("call %s: %s's phone: %u %s", o->call->id, o->agent, scode,
		  reason);
	/* 486, 600, 603: the agent (or the phone) said no */
	offer_fail_later(o, scode == 486 || scode == 600 || scode == 603 ||
			 scode == 404 || scode == 403 || scode == 488
			 ? KEFU_ACD_BUSY_REJECTED : KEFU_ACD_NO_ANSWER,
			 scode ? scode : 480, reason);
}

static const struct kefu_switch_leg_handlers offer_handlers = {
	.progress = offer_progress,
	.established = offer_established,
	.closed = offer_closed,
};

static struct offer *
offer_new(struct call *call, const char *agent, bool acd)
{
	struct offer *o = mem_zalloc(sizeof(*o), offer_destructor);

	if (!o)
		return NULL;
	o->call = call;
	o->agent = g_strdup(agent);
	o->acd = acd;
	tmr_init(&o->tmr);
	tmr_init(&o->tmr_ring);
	list_append(&call->offers, &o->le, o);

	return o;
}

/* Who the phones rung for the call see calling. */
static const char *
shown_number(const struct call *call)
{
	return call->party_number ? call->party_number : call->caller_number;
}

static char *
from_uri(struct call *call)
{
	g_autofree char *user = call_sanitize(shown_number(call), true);
	char host[64];

	(void)re_snprintf(host, sizeof(host), "%J", &call->sw->ss.laddr);
	return g_strdup_printf("sip:%s@%s", *user ? user : "anonymous", host);
}

int
call_offer_agent(struct call *call, const char *agent, const char *extension,
		 bool acd, uint32_t wait_s, uint32_t ring_ms)
{
	struct kefu_switch *sw = call->sw;
	const char *contact = kefu_switch_registrar_contact(sw->registrar,
							    extension);
	g_autofree char *from = NULL;
	g_autofree char *user = call_sanitize(shown_number(call), true);
	g_autoptr(GString) hdrs = g_string_new(NULL);
	struct offer *o;
	int err;

	if (!contact) {
		g_message("call %s: %s (extension %s) has no phone registered",
			  call->id, agent, extension ? extension : "-");
		return ENOENT;
	}

	from = from_uri(call);
	g_string_append_printf(hdrs, "X-Kefu-Call: %s\r\n", call->id);
	if (call->queue)
		g_string_append_printf(hdrs, "X-Kefu-Queue: %s\r\n",
				       call->queue);
	if (call->customer_id) {
		g_autofree char *c = call_sanitize(call->customer_id, false);

		g_string_append_printf(hdrs, "X-Kefu-Customer: %s\r\n", c);
	}
	if (call->ivr_path) {
		g_autofree char *p = call_sanitize(call->ivr_path, false);

		g_string_append_printf(hdrs, "X-Kefu-Ivr: %s\r\n", p);
	}
	if (call->queue)
		g_string_append_printf(hdrs, "X-Kefu-Wait: %u\r\n", wait_s);

	o = offer_new(call, agent, acd);
	if (!o)
		return ENOMEM;
	o->extension = g_strdup(extension);

	err = kefu_switch_leg_connect(&o->leg, &sw->ss, contact, from,
				      *user ? user : NULL,
				      kefu_switch_leg_codec(call->caller),
				      hdrs->str, KEFU_SWITCH_DTMF_AUTO, NULL,
				      NULL, &offer_handlers, o);
	if (err) {
		g_message("call %s: INVITE to %s: %s", call->id, contact,
			  g_strerror(err));
		mem_deref(o);
		return err;
	}
	if (ring_ms)
		tmr_start(&o->tmr_ring, ring_ms, call_offer_ring_timeout, o);
	g_debug("call %s: ringing %s at %s", call->id, agent, contact);

	return 0;
}

int
call_offer_outside(struct call *call, const KefuSwitchTrunk *trunk,
		   const char *number, uint32_t ring_ms)
{
	struct kefu_switch *sw = call->sw;
	g_autofree char *user = call_sanitize(number, true);
	g_autofree char *name = call_sanitize(shown_number(call), true);
	g_autofree char *from = NULL;
	g_autofree char *uri = NULL;
	const char *rest, *at;
	struct offer *o;
	int err;

	if (!trunk || !trunk->gateway || !*user)
		return EINVAL;

	/* the number in the gateway's URI: sip:NUMBER@host:port;params
	 * (a user part the gateway's URI has is replaced) */
	rest = strchr(trunk->gateway, ':');
	if (!rest)
		return EINVAL;
	rest++;
	at = strchr(rest, '@');
	if (at && at < rest + strcspn(rest, ";?"))
		rest = at + 1;
	uri = g_strdup_printf("%.*s:%s@%s", (int)(strchr(trunk->gateway, ':') -
						  trunk->gateway),
			      trunk->gateway, user, rest);

	/* a gateway that authenticates us knows us by the trunk's user */
	if (trunk->username) {
		char host[64];

		(void)re_snprintf(host, sizeof(host), "%J", &sw->ss.laddr);
		from = g_strdup_printf("sip:%s@%s", trunk->username, host);
	}
	else {
		from = from_uri(call);
	}

	o = offer_new(call, number, false);
	if (!o)
		return ENOMEM;
	o->outside = true;

	err = kefu_switch_leg_connect(&o->leg, &sw->ss, uri, from,
				      *name ? name : NULL,
				      kefu_switch_leg_codec(call->caller),
				      NULL, trunk->dtmf, trunk->username,
				      trunk->password, &offer_handlers, o);
	if (err) {
		g_message("call %s: INVITE to %s: %s", call->id, uri,
			  g_strerror(err));
		mem_deref(o);
	}
	else {
		g_message("call %s: calling %s through trunk %s", call->id,
			  uri, trunk->name);
		if (ring_ms)
			tmr_start(&o->tmr_ring, ring_ms,
				  call_offer_ring_timeout, o);
	}

	return err;
}

void
call_offer_fail_later(struct call *call, const char *agent)
{
	struct offer *o = offer_new(call, agent, true);

	if (o)
		offer_fail_later(o, KEFU_ACD_BUSY_REJECTED, 480,
				 "Temporarily Unavailable");
}

struct offer *
call_offer_find(const struct call *call, const char *agent)
{
	for (struct le *le = call->offers.head; le; le = le->next) {
		struct offer *o = le->data;

		if (!strcmp(o->agent, agent))
			return o;
	}

	return NULL;
}

/* --- the caller's leg ---------------------------------------------------- */

static void
caller_closed(struct kefu_switch_leg *leg, uint16_t scode, const char *reason,
	      void *arg)
{
	struct call *call = arg;

	(void)scode;
	g_message("call %s: the caller hung up (%s)", call->id, reason);
	recording_finish(call);
	kefu_switch_defer_free(call->sw, leg);
	call->caller = NULL;
	call_end(call, call->state == CALL_BRIDGED || call->answered_us
		 ? "answered" : "abandoned");
}

static void
caller_established(struct kefu_switch_leg *leg, void *arg)
{
	struct call *call = arg;
	g_autofree char *flow = g_steal_pointer(&call->ivr_flow);

	(void)leg;
	if (flow && call->state == CALL_IVR && !call->ivr &&
	    call_ivr_start(call, flow))
		call_end(call, "failed");
}

static void
caller_digit(struct kefu_switch_leg *leg, char digit, const char *mode,
	     void *arg)
{
	struct call *call = arg;

	(void)leg;
	g_debug("call %s: digit %c (%s)", call->id, digit, mode);
	if (call->state == CALL_IVR && call->ivr) {
		kefu_ivr_digit(call->ivr, digit);
		return;
	}
	if (call->state == CALL_BRIDGED && call->agent_leg && call->relay) {
		if (!strcmp(mode, "rfc4733") &&
		    kefu_rtp_relay_passes_telev(call->relay))
			return;
		(void)kefu_switch_leg_send_digit(call->agent_leg, digit);
	}
}

static void
caller_play_done(struct kefu_switch_leg *leg, void *arg)
{
	struct call *call = arg;

	(void)leg;
	if (call->state == CALL_IVR && call->ivr)
		kefu_ivr_play_done(call->ivr);
	else if (call->state == CALL_QUEUED && call->announcing)
		call_play_music(call);
	else if (call->state == CALL_FAREWELL)
		call_end(call, call->outcome);
}

static void
caller_hold(struct kefu_switch_leg *leg, bool held, void *arg)
{
	struct call *call = arg;

	(void)leg;
	g_debug("call %s: the caller %s", call->id, held ? "holds" : "resumes");
}

const struct kefu_switch_leg_handlers kefu_switch_caller_handlers = {
	.established = caller_established,
	.closed = caller_closed,
	.digit = caller_digit,
	.hold = caller_hold,
	.refer = call_transfer_by_owner,
	.play_done = caller_play_done,
};

/* --- new calls ----------------------------------------------------------- */

struct call *
call_new(struct kefu_switch *sw, const struct sip_msg *msg,
	 const KefuSwitchTrunk *trunk, const char *direction)
{
	struct call *call = mem_zalloc(sizeof(*call), call_destructor);

	if (!call)
		return NULL;
	call->sw = sw;
	call->config = kefu_switch_config_ref(sw->config);
	/* the trunk as the call's own config has it: a reload may free
	 * the switch's current one */
	call->trunk = trunk ? kefu_switch_config_get_trunk(call->config,
							   trunk->name) : NULL;
	call->direction = direction;
	call->started_us = g_get_real_time();
	tmr_init(&call->tmr_farewell);
	(void)re_snprintf(call->id, sizeof(call->id), "%s-%u", sw->instance,
			  ++sw->call_seq);
	call->caller_number = g_strndup(msg->from.uri.user.p,
					msg->from.uri.user.l);
	call->callee = g_strndup(msg->uri.user.p, msg->uri.user.l);
	list_append(&sw->calls, &call->le, call);
	sw->calls_total++;

	return call;
}

/* --- all calls ----------------------------------------------------------- */

void
kefu_switch_calls_hangup_all(struct kefu_switch *sw)
{
	kefu_switch_transfers_flush(sw);
	while (sw->calls.head) {
		struct call *call = sw->calls.head->data;

		call_end(call, call->state == CALL_BRIDGED ? "answered"
			 : "abandoned");
	}
}

void
kefu_switch_calls_count(const struct kefu_switch *sw,
			struct kefu_switch_status *st)
{
	for (struct le *le = sw->calls.head; le; le = le->next) {
		const struct call *call = le->data;

		st->calls++;
		if (call->state == CALL_IVR)
			st->in_ivr++;
		else if (call->state == CALL_QUEUED)
			st->queued++;
		else if (call->state == CALL_BRIDGED)
			st->bridged++;
	}
}

static const char *
state_name(const struct call *call)
{
	switch (call->state) {

	case CALL_IVR:        return "ivr";
	case CALL_QUEUED:     return "queued";
	case CALL_CONNECTING: return call->xfer ? "transferring" : "ringing";
	case CALL_BRIDGED:    return call->on_hold ? "on-hold" : "talking";
	case CALL_FAREWELL:   return "closing";
	case CALL_ENDED:
	default:              return "ended";
	}
}

int
kefu_switch_calls_print(struct re_printf *pf, const struct kefu_switch *sw)
{
	int64_t now = g_get_real_time();
	int err = 0;

	for (struct le *le = sw->calls.head; le; le = le->next) {
		const struct call *call = le->data;

		err |= re_hprintf(pf, "  %-20s %-8s %-12s %4llds  %s -> %s"
				  "  queue %s  agent %s\n", call->id,
				  call->direction, state_name(call),
				  (long long)((now - call->started_us) /
					      G_USEC_PER_SEC),
				  call->caller_number ? call->caller_number
				  : "-", call->callee ? call->callee : "-",
				  call->queue ? call->queue : "-",
				  call->agent ? call->agent : "-");
	}

	return err;
}
