/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The ACD driver of kefu-switch's calls: a call entering a queue, and
 * what the ACD (kefu-acd.h) decides for it carried out on its legs (ring
 * these agents' phones, stop ringing one, announce the position, file a
 * callback and tell the caller so, report an event).  libre-facing:
 * libre's tabs.
 */
#define G_LOG_DOMAIN "KefuSwitchCall"

#include "config.h"

#include "kefu-switch-private.h"

#include "kefu-ivr.h"

void
call_enqueue(struct call *call, const char *queue, const char *skill,
	     int priority)
{
	struct kefu_acd_call_info info = {
		.call_id = call->id,
		.priority = priority,
		.skill = skill,
		.customer_id = call->customer_id
			? g_ascii_strtoll(call->customer_id, NULL, 10) : 0,
	};
	int err;

	call_set_str(&call->queue, queue);
	call_set_str(&call->skill, skill);
	if (call->music) {
		g_bytes_unref(call->music);
		call->music = NULL;
	}
	if (!call->offered_us)
		call->offered_us = g_get_real_time();
	call->state = CALL_QUEUED;
	call->acd_answered = false;
	call_play_music(call);

	err = kefu_acd_enqueue(call->sw->acd, queue, &info);
	if (err) {
		g_warning("call %s: queue %s: %s", call->id, queue,
			  g_strerror(err));
		call_end(call, "failed");
		return;
	}
	call->in_acd = true;
}

static int
acd_offer(const struct kefu_acd_offer *offer, void *arg)
{
	struct kefu_switch *sw = arg;
	struct call *call = call_find(sw, offer->call_id);
	unsigned started = 0;

	if (!call || call->state != CALL_QUEUED)
		return ENOENT;

	/* an overflow moved the call to another queue: X-Kefu-Queue, the
	 * CDR and the answered call's recording follow it */
	if (offer->queue)
		call_queue_moved(call, offer->queue);

	for (size_t i = 0; i < offer->n_agents; i++) {
		if (0 == call_offer_agent(call, offer->agents[i],
					  offer->extensions[i], true,
					  offer->wait_s, 0)) {
			started++;
			continue;
		}
		if (offer->n_agents > 1) {
			/* this one fails alone, once the ACD is done */
			call_offer_fail_later(call, offer->agents[i]);
		}
	}

	return started ? 0 : ENOENT;
}

static void
acd_cancel(const char *call_id, const char *agent, void *arg)
{
	struct kefu_switch *sw = arg;
	struct call *call = call_find(sw, call_id);
	struct offer *o = call ? call_offer_find(call, agent) : NULL;

	if (o)
		mem_deref(o);   /* CANCEL */
}

static void
acd_announce(const char *call_id, unsigned position, unsigned wait_s,
	     void *arg)
{
	struct kefu_switch *sw = arg;
	struct call *call = call_find(sw, call_id);
	const KefuSwitchQueue *q = call ? call_queue_conf(call) : NULL;
	g_autoptr(GHashTable) vars = NULL;
	g_autoptr(GBytes) pcm = NULL;
	int err = 0;

	if (!q || !q->waiting_prompt || call->state != CALL_QUEUED)
		return;

	vars = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
	g_hash_table_insert(vars, (char *)"position",
			    g_strdup_printf("%u", position));
	g_hash_table_insert(vars, (char *)"wait_min",
			    g_strdup_printf("%u", (wait_s + 59) / 60));
	g_hash_table_insert(vars, (char *)"wait_s",
			    g_strdup_printf("%u", wait_s));
	pcm = kefu_ivr_render_prompt(q->waiting_prompt, sw->tts,
				     call_languages(call), vars, &err);
	if (!pcm) {
		g_message("call %s: announcement: %s", call->id,
			  g_strerror(err));
		return;
	}
	g_debug("call %s: position %u, about %u s", call->id, position,
		wait_s);
	call->announcing = true;
	kefu_switch_leg_play(call->caller, pcm, false);
}

static void
acd_callback(const char *call_id, const char *queue, int64_t customer_id,
	     unsigned wait_s, void *arg)
{
	struct kefu_switch *sw = arg;
	struct call *call = call_find(sw, call_id);
	g_autoptr(JsonObject) req = json_object_new();
	g_autoptr(GBytes) pcm = NULL;
	const KefuSwitchQueue *q;
	int err = 0;

	if (!call)
		return;
	call->in_acd = false;
	json_object_set_string_member(req, "number", call->caller_number
				      ? call->caller_number : "");
	json_object_set_string_member(req, "queue", queue);
	json_object_set_string_member(req, "call_id", call_id);
	if (customer_id > 0)
		json_object_set_int_member(req, "customer_id", customer_id);
	/* a callback record has no wait: the call.callback event and the
	 * CDR carry it */
	json_object_set_string_member(req, "source", "overflow");
	{
		g_autofree char *notes = g_strdup_printf(
			"waited %u s in queue %s", wait_s, queue);

		json_object_set_string_member(req, "notes", notes);
	}
	(void)kefu_server_link_callback(sw->link, req, 0, NULL, NULL, NULL);

	/* the caller hears that the call-back is booked before the hang-up,
	 * not a line that goes dead */
	q = kefu_switch_config_get_queue(sw->config, queue);
	if (q && q->overflow_prompt) {
		g_autoptr(GHashTable) vars = g_hash_table_new_full(g_str_hash,
								    g_str_equal,
								    NULL, g_free);

		g_hash_table_insert(vars, (char *)"caller",
				    g_strdup(call->caller_number));
		g_hash_table_insert(vars, (char *)"wait_min",
				    g_strdup_printf("%u", (wait_s + 59) / 60));
		g_hash_table_insert(vars, (char *)"wait_s",
				    g_strdup_printf("%u", wait_s));
		pcm = kefu_ivr_render_prompt(q->overflow_prompt, sw->tts,
					     call_languages(call), vars, &err);
		if (!pcm)
			g_message("call %s: overflow prompt of queue %s: %s",
				  call->id, queue, g_strerror(err));
	}
	g_message("call %s: overflowed from queue %s to the callback list",
		  call->id, queue);
	/* also a call transferred into the queue ends as a callback */
	call->outcome = "callback";
	call_farewell(call, pcm, "callback");
}

static void
acd_event(const struct kefu_acd_event *event, void *arg)
{
	struct kefu_switch *sw = arg;
	g_autoptr(JsonObject) obj = kefu_acd_event_to_json(event);

	/* an overflow to another queue: the caller hears that queue's music
	 * and announcements from now on, not the first one's */
	if (!g_strcmp0(event->type, "call.offered") && event->call_id &&
	    event->queue && event->data &&
	    json_object_has_member(event->data, "overflow_from")) {
		struct call *call = call_find(sw, event->call_id);

		if (call)
			call_queue_moved(call, event->queue);
	}

	if (sw->link)
		(void)kefu_server_link_event(sw->link, obj);
}

const struct kefu_acd_driver kefu_switch_acd_driver = {
	.offer = acd_offer,
	.cancel = acd_cancel,
	.announce = acd_announce,
	.callback = acd_callback,
	/* no agent_not_ready: the ACD's agent.state event (not_ready, "no
	 * answer") is what sets the state at kefu-server */
	.event = acd_event,
};

