/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The IVR driver of kefu-switch's calls: what kefu-ivr.h asks of a call
 * (play a prompt on the caller's leg, look a customer up in kefu-server,
 * file a callback request) and where the call goes when its flow ends (a
 * queue, or the end of the call).  libre-facing: libre's tabs.
 */
#define G_LOG_DOMAIN "KefuSwitchCall"

#include "config.h"

#include "kefu-switch-private.h"

#include "kefu-ivr.h"

static int
ivr_play(void *arg, GBytes *pcm)
{
	struct call *call = arg;

	kefu_switch_leg_play(call->caller, pcm, false);
	return 0;
}

static void
ivr_stop(void *arg)
{
	struct call *call = arg;

	kefu_switch_leg_play(call->caller, NULL, false);
}

static void
on_lookup_reply(const struct kefu_server_link_reply *reply, void *arg)
{
	struct call *call = arg;
	JsonObject *customer = NULL;

	call->req = mem_deref(call->req);
	if (!reply->err && reply->json && JSON_NODE_HOLDS_OBJECT(reply->json))
		customer = json_node_get_object(reply->json);
	if (call->ivr)
		kefu_ivr_lookup_done(call->ivr, reply->err, customer);
}

static int
ivr_lookup(void *arg, enum kefu_ivr_lookup_by by, const char *value)
{
	struct call *call = arg;
	struct kefu_server_link *link = call->sw->link;

	call->req = mem_deref(call->req);
	if (by == KEFU_IVR_LOOKUP_PHONE)
		return kefu_server_link_customer_by_phone(link, value, 0,
							  on_lookup_reply,
							  call, &call->req);
	return kefu_server_link_customer_by_account(link, value, 0,
						    on_lookup_reply, call,
						    &call->req);
}

static void
on_callback_reply(const struct kefu_server_link_reply *reply, void *arg)
{
	struct call *call = arg;

	call->req = mem_deref(call->req);
	if (call->ivr)
		kefu_ivr_callback_done(call->ivr, reply->err);
}

static int
ivr_callback(void *arg, const char *number, gint64 customer_id,
	     const char *path)
{
	struct call *call = arg;
	g_autoptr(JsonObject) req = json_object_new();

	json_object_set_string_member(req, "number", number);
	json_object_set_string_member(req, "call_id", call->id);
	if (customer_id > 0)
		json_object_set_int_member(req, "customer_id", customer_id);
	if (path)
		json_object_set_string_member(req, "ivr_path", path);
	call->req = mem_deref(call->req);

	return kefu_server_link_callback(call->sw->link, req, 0,
					 on_callback_reply, call, &call->req);
}

static void
ivr_finished(void *arg, const struct kefu_ivr_result *result)
{
	struct call *call = arg;
	g_autoptr(JsonObject) data = json_object_new();
	struct kefu_ivr *ivr = call->ivr;

	call_set_str(&call->ivr_path, result->path);
	if (result->customer_id > 0) {
		g_free(call->customer_id);
		call->customer_id = g_strdup_printf("%" G_GINT64_FORMAT,
						    result->customer_id);
	}
	if (result->language)
		call_set_str(&call->language, result->language);
	json_object_set_string_member(data, "path", result->path
				      ? result->path : "");
	kefu_switch_post_event(call->sw, "call.ivr", call->id, result->queue,
			       NULL, data);

	call->ivr = NULL;
	kefu_switch_defer_free(call->sw, ivr);

	switch (result->outcome) {

	case KEFU_IVR_QUEUE:
		call_enqueue(call, result->queue, result->skill,
			     result->priority);
		break;

	case KEFU_IVR_CALLBACK:
		call_end(call, "callback");
		break;

	case KEFU_IVR_FAILED:
		g_warning("call %s: the IVR failed: %s", call->id,
			  g_strerror(result->err));
		call_end(call, "failed");
		break;

	case KEFU_IVR_HANGUP:
	default:
		call_end(call, "abandoned");
		break;
	}
}

static const struct kefu_ivr_driver ivr_driver = {
	.play = ivr_play,
	.stop = ivr_stop,
	.lookup_customer = ivr_lookup,
	.request_callback = ivr_callback,
	.finished = ivr_finished,
};

int
call_ivr_start(struct call *call, const char *flow)
{
	struct kefu_ivr_call ic = { 0 };
	int err;

	ic.call_id = call->id;
	ic.caller = call->caller_number;
	ic.languages = call_languages(call);
	err = kefu_ivr_alloc(&call->ivr, call->config, flow, call->sw->tts,
			     &ic, &ivr_driver, call);
	if (err) {
		g_warning("call %s: IVR %s: %s", call->id, flow,
			  g_strerror(err));
		return err;
	}
	call->state = CALL_IVR;
	kefu_ivr_start(call->ivr);

	return 0;
}
