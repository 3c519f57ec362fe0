/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Where an INVITE that starts a call goes.  Who sends it decides:
 *
 *   a trunk (its source address is in the trunk's allow-list, or it
 *   authenticates with the trunk's username and password): the caller
 *   enters the trunk's IVR, whatever number was dialled.  A trunk never
 *   reaches an outside number: an INVITE whose request URI names a host
 *   that is not this switch (a proxy's relay) is refused with 403.
 *
 *   an agent (digest with the SIP credentials kefu-server gives the
 *   switch): to another extension (rings that phone), to queue-NAME (the
 *   queue), or to any other number, an outside number, through the
 *   gateway of the trunk whose outbound-prefixes hold the longest prefix
 *   of the number, else of the first trunk (file order) that has one, in
 *   that trunk's DTMF mode and with its credentials.  No gateway: 404.
 *
 *   anyone else: 407 with a challenge; wrong credentials: 403.  Nothing
 *   is forwarded anywhere for them: the switch is no open relay.
 *
 * libre-facing: libre's tabs.
 */
#define G_LOG_DOMAIN "KefuSwitchCall"

#include "config.h"

#include "kefu-switch-private.h"

#include <string.h>

/* --- is the request URI ours? -------------------------------------------- */

struct local_find {
	const struct sa *addr;
	bool found;
};

static bool
on_local_addr(const char *ifname, const struct sa *sa, void *arg)
{
	struct local_find *lf = arg;

	(void)ifname;
	if (sa_cmp(sa, lf->addr, SA_ADDR)) {
		lf->found = true;
		return true;
	}

	return false;
}

/* A trunk's INVITE names this switch in its request URI: an address the
 * request reached us on (or any of ours when we listen on all of them),
 * or the realm, or this machine's name, with our SIP port (5060 when it
 * names none).  Anything else asks us to relay. */
static bool
ruri_is_ours(const struct kefu_switch *sw, const struct sip_msg *msg)
{
	g_autofree char *host = g_strndup(msg->uri.host.p, msg->uri.host.l);
	uint16_t port = msg->uri.port ? msg->uri.port
		: !pl_strcasecmp(&msg->uri.scheme, "sips") ? 5061 : 5060;
	struct sa ip;

	/* the same host on another port is another server */
	if (port != sa_port(&sw->ss.laddr))
		return false;

	if (0 == sa_set_str(&ip, host, 0)) {
		struct local_find lf = { .addr = &ip };

		if (sa_cmp(&ip, &msg->dst, SA_ADDR) ||
		    sa_cmp(&ip, &sw->ss.laddr, SA_ADDR))
			return true;
		if (sa_is_any(&msg->dst) || sa_is_any(&sw->ss.laddr) ||
		    sa_is_loopback(&ip)) {
			(void)net_if_apply(on_local_addr, &lf);
			return lf.found || sa_is_loopback(&ip);
		}
		return false;
	}

	return !g_ascii_strcasecmp(host, sw->config->settings.realm) ||
		!g_ascii_strcasecmp(host, g_get_host_name()) ||
		!g_ascii_strcasecmp(host, "localhost");
}

/* --- trunks -------------------------------------------------------------- */

static void
trunk_call(struct kefu_switch *sw, const struct sip_msg *msg,
	   const KefuSwitchTrunk *trunk)
{
	struct call *call;
	int err;

	if (!ruri_is_ours(sw, msg)) {
		char ruri[256];

		(void)re_snprintf(ruri, sizeof(ruri), "%H", uri_encode,
				  &msg->uri);
		g_message("INVITE for %s from trunk %s refused: the switch "
			  "relays nothing for a trunk", ruri, trunk->name);
		(void)sip_treply(NULL, sw->ss.sip, msg, 403, "Forbidden");
		return;
	}

	call = call_new(sw, msg, trunk, "inbound");
	if (!call) {
		(void)sip_treply(NULL, sw->ss.sip, msg, 500, "Server Error");
		return;
	}

	err = kefu_switch_leg_accept(&call->caller, &sw->ss, msg, trunk->dtmf,
				     true, &kefu_switch_caller_handlers, call);
	if (err) {
		mem_deref(call);
		return;
	}
	g_message("call %s from %s on trunk %s", call->id,
		  call->caller_number, trunk->name);

	/* The first prompt waits for the ACK: played from our 200 on, its
	 * opening words reach a caller whose phone is still setting up. */
	call->ivr_flow = g_strdup(call->trunk ? call->trunk->ivr : trunk->ivr);
}

/* --- agents -------------------------------------------------------------- */

static bool
dialable(const char *number)
{
	if (!*number || strlen(number) > 32)
		return false;
	for (const char *p = number; *p; p++)
		if (!g_ascii_isdigit(*p) && !strchr("+*#", *p))
			return false;

	return true;
}

static void
agent_call(struct kefu_switch *sw, const struct sip_msg *msg,
	   const char *ext)
{
	g_autofree char *target = g_strndup(msg->uri.user.p, msg->uri.user.l);
	const char *target_agent = kefu_switch_agent_of(sw, target);
	const KefuSwitchQueue *q = NULL;
	const KefuSwitchTrunk *trunk = NULL;
	bool internal;
	struct call *call;
	int err;

	internal = kefu_switch_registrar_has_credential(sw->registrar, target)
		|| target_agent;
	if (g_str_has_prefix(target, "queue-")) {
		q = kefu_switch_config_get_queue(sw->config, target + 6);
		if (!q) {
			g_message("%s calls %s: no such queue", ext, target);
			(void)sip_treply(NULL, sw->ss.sip, msg, 404,
					 "Not Found");
			return;
		}
	}
	else if (!internal) {
		trunk = kefu_switch_config_outbound_trunk(sw->config, target);
		if (!dialable(target)) {
			g_message("%s calls '%s': not a number", ext, target);
			(void)sip_treply(NULL, sw->ss.sip, msg, 484,
					 "Address Incomplete");
			return;
		}
		if (!trunk) {
			g_message("%s calls %s: no trunk has a gateway for "
				  "outside calls", ext, target);
			(void)sip_treply(NULL, sw->ss.sip, msg, 404,
					 "Not Found");
			return;
		}
	}

	call = call_new(sw, msg, NULL, trunk ? "outbound" : "internal");
	if (!call) {
		(void)sip_treply(NULL, sw->ss.sip, msg, 500, "Server Error");
		return;
	}
	call->owner = g_strdup(ext);
	err = kefu_switch_leg_accept(&call->caller, &sw->ss, msg,
				     KEFU_SWITCH_DTMF_AUTO, false,
				     &kefu_switch_caller_handlers, call);
	if (err) {
		mem_deref(call);
		return;
	}
	call_set_owner_busy(call, kefu_switch_agent_of(sw, ext));

	if (q) {
		if (kefu_switch_leg_answer(call->caller)) {
			call_end(call, "failed");
			return;
		}
		call_enqueue(call, q->name, NULL, q->priority);
		return;
	}

	/* ringing goes on until the other phone answers: then we answer */
	call->state = CALL_CONNECTING;
	if (trunk) {
		/* the trunk as the call's config has it */
		call->trunk = kefu_switch_config_get_trunk(call->config,
							   trunk->name);
		g_message("call %s: %s calls %s out through trunk %s",
			  call->id, ext, target, trunk->name);
		err = call_offer_outside(call, call->trunk, target, 0);
	}
	else {
		err = call_offer_agent(call, target_agent ? target_agent
				       : target, target, false, 0, 0);
	}
	if (err) {
		call->fail_scode = err == ENOENT ? 480 : 500;
		call_end(call, "failed");
	}
}

/* --- authentication ------------------------------------------------------ */

static bool
trunk_ha1(const char *user, uint8_t ha1[16], void *arg)
{
	struct kefu_switch *sw = arg;
	const KefuSwitchTrunk *t =
		kefu_switch_config_find_trunk_by_username(sw->config, user);

	if (!t || !t->password)
		return false;
	kefu_switch_digest_ha1(user, kefu_switch_registrar_realm(sw->registrar),
			       t->password, ha1);
	return true;
}

void
kefu_switch_on_invite(struct kefu_switch *sw, const struct sip_msg *msg)
{
	char addr[64];
	const KefuSwitchTrunk *trunk;
	char *user = NULL;
	int err;

	(void)re_snprintf(addr, sizeof(addr), "%j", &msg->src);
	trunk = kefu_switch_config_find_trunk_by_address(sw->config, addr);
	if (trunk) {
		trunk_call(sw, msg, trunk);
		return;
	}

	/* a trunk by digest, or an agent */
	err = kefu_switch_registrar_check(sw->registrar, msg, true, trunk_ha1,
					  sw, &user);
	if (err == EACCES)
		err = kefu_switch_registrar_check(sw->registrar, msg, true,
						  NULL, NULL, &user);
	if (err == EAUTH || err == ESTALE) {
		(void)kefu_switch_registrar_challenge(sw->registrar, msg, true,
						      err == ESTALE);
		return;
	}
	if (err) {
		g_autofree char *target = g_strndup(msg->uri.user.p,
						    msg->uri.user.l);

		g_message("INVITE from %s for %s refused: wrong credentials",
			  addr, target);
		(void)sip_treply(NULL, sw->ss.sip, msg, 403, "Forbidden");
		return;
	}

	trunk = kefu_switch_config_find_trunk_by_username(sw->config, user);
	if (trunk)
		trunk_call(sw, msg, trunk);
	else
		agent_call(sw, msg, user);
	mem_deref(user);
}
