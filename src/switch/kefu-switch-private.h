/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * What the files of kefu-switch's core share:
 *
 *   kefu-switch.c               the SIP side, the link, the ACD's agents,
 *                               reload, status and shutdown
 *   kefu-switch-route.c         incoming INVITEs: trunks, agents, the
 *                               outbound gateway, no open relay
 *   kefu-switch-call.c          calls: legs, offers, the bridge, hold music,
 *                               the CDR
 *   kefu-switch-call-ivr.c      the IVR driver (a call in its IVR)
 *   kefu-switch-call-acd.c      the ACD driver (a call in a queue)
 *   kefu-switch-call-transfer.c the agent's leg: hold, REFER (blind,
 *                               attended, to a queue) with NOTIFY progress
 *
 * libre thread only.  libre-facing: libre's tabs.
 */
#pragma once

#include "kefu-switch.h"

#include "kefu-acd.h"
#include "kefu-server-link.h"
#include "kefu-switch-leg.h"
#include "kefu-switch-registrar.h"
#include "kefu-tts.h"

struct kefu_ivr;
struct kefu_rtp_relay;

struct kefu_switch {
	KefuSwitchConfig *config;          /* the current one; calls ref theirs */
	KefuTts *tts;
	struct kefu_switch_sip ss;
	struct kefu_switch_registrar *registrar;
	struct kefu_acd *acd;
	struct kefu_server_link *link;

	struct list calls;                 /* struct call */
	struct list transfers;             /* done, the referrer not yet gone */
	GHashTable *agent_ext;             /* username -> extension */
	GHashTable *ext_agent;             /* extension -> username */
	GPtrArray *graveyard;              /* libre objects freed on the next turn */
	struct tmr tmr_graveyard;
	struct tmr tmr_creds;
	struct kefu_server_link_req *creds_req;
	GBytes *hold_music;                /* when a call's queue has none */

	int control_fd;                    /* the --status socket, or -1 */
	char *control_path;

	int64_t started_us;
	uint64_t calls_total;
	uint64_t calls_refused;            /* 503: the SIP socket's backlog */
	int sip_fd;                        /* our UDP SIP socket (from the first
					    * INVITE over UDP), or -1 */
	bool overloaded;
	uint32_t call_seq;
	char instance[16];                 /* makes call ids unique across runs */
	bool stopping;
	void (*stop_done)(void *arg);
	void *stop_arg;
	struct tmr tmr_stop;
};

enum call_state {
	CALL_IVR,
	CALL_QUEUED,       /* in the ACD, maybe ringing agents */
	CALL_CONNECTING,   /* a direct call (extension, outside, transfer) rings */
	CALL_BRIDGED,
	CALL_FAREWELL,     /* a last prompt to the caller, then the hang-up */
	CALL_ENDED,
};

struct call;
struct transfer;

/* One phone ringing for a call: an agent's (ACD or direct), or a
 * gateway's for an outside number. */
struct offer {
	struct le le;
	struct call *call;
	char *agent;                     /* username, extension or number */
	char *extension;                 /* an agent's phone */
	struct kefu_switch_leg *leg;
	struct tmr tmr;                  /* a result reported later */
	struct tmr tmr_ring;             /* direct offers with a ring timeout */
	enum kefu_acd_offer_result result;
	uint16_t scode;                  /* the phone's final answer */
	char *reason;
	bool acd;                        /* an ACD offer, else a direct one */
	bool outside;                    /* to a gateway */
};

struct call {
	struct le le;
	struct kefu_switch *sw;
	char id[48];
	KefuSwitchConfig *config;        /* the one the call began with */
	const KefuSwitchTrunk *trunk;    /* in config, or NULL */
	enum call_state state;
	const char *direction;           /* inbound, outbound, internal */
	char *caller_number;
	char *callee;
	char *owner;                     /* the extension that placed it (agents' calls) */
	char *party_number;              /* shown to phones rung for the call, when not
					  * caller_number: the party an agent called and
					  * then handed on */

	struct kefu_switch_leg *caller;
	struct kefu_switch_leg *agent_leg;   /* answered */
	struct list offers;
	struct kefu_rtp_relay *relay;
	struct kefu_ivr *ivr;
	char *ivr_flow;                  /* the IVR to begin at the caller's ACK */
	struct transfer *xfer;           /* a REFER of the agent under way */

	char *queue;
	char *skill;
	char *customer_id;
	char *ivr_path;
	char *language;
	char *agent;                     /* answered by (username or extension) */
	char *agent_ext;                 /* the extension of agent_leg's phone */
	bool agent_leg_outside;          /* agent_leg is a gateway's */
	char *agent_busy;                /* usernames the ACD has busy on this call: */
	char *owner_busy;                /*   the answering agent's and the owner's */
	uint16_t fail_scode;             /* to an unanswered caller when it fails */
	char *recording;
	bool in_acd;
	bool acd_answered;
	bool announcing;
	bool on_hold;                    /* the agent holds the caller */
	GBytes *music;
	struct kefu_server_link_req *req;
	struct tmr tmr_farewell;         /* a farewell that never reports its end */

	int64_t started_us;              /* wall clock */
	int64_t offered_us;              /* entered a queue */
	int64_t answered_us;
	int64_t ended_us;
	int64_t hold_since_us;
	uint64_t hold_ms;
	unsigned transfers;
	const char *outcome;
};

/* kefu-switch.c */
/* Frees a libre object on the next loop turn (never inside its handler). */
void kefu_switch_defer_free(struct kefu_switch *sw, void *obj);
/* Posts an event {type, call_id, queue, agent, data} to kefu-server. */
void kefu_switch_post_event(struct kefu_switch *sw, const char *type, const char *call_id,
			    const char *queue, const char *agent, JsonObject *data);
/* The username of the agent with this extension, or NULL. */
const char *kefu_switch_agent_of(const struct kefu_switch *sw, const char *extension);

/* kefu-switch-route.c */
void kefu_switch_on_invite(struct kefu_switch *sw, const struct sip_msg *msg);

/* kefu-switch-call.c */
struct call *call_new(struct kefu_switch *sw, const struct sip_msg *msg,
		      const KefuSwitchTrunk *trunk, const char *direction);
struct call *call_find(const struct kefu_switch *sw, const char *id);
void call_end(struct call *call, const char *outcome);
void call_bridge(struct call *call);
void call_unbridge(struct call *call);
void call_play_music(struct call *call);
/* The call now waits in @queue (an overflow): its music and announcements
 * are that queue's from now on. */
void call_queue_moved(struct call *call, const char *queue);
/* Plays @pcm (NULL: nothing) to the caller, then ends the call with
 * @outcome; offers and the agent's leg go at once. */
void call_farewell(struct call *call, GBytes *pcm, const char *outcome);
uint64_t call_hold_total_ms(const struct call *call);
const KefuSwitchQueue *call_queue_conf(const struct call *call);
const char *const *call_languages(const struct call *call);
/* Tells the ACD the agent is on a call it did not give them (or no
 * longer): NULL ends it. */
void call_set_agent_busy(struct call *call, const char *username);
void call_set_owner_busy(struct call *call, const char *username);
void call_set_str(char **dst, const char *src);
/* What a peer wrote, made safe for a header (false) or a URI user part. */
char *call_sanitize(const char *s, bool uri_user);
/* Rings @extension's registered phone for @call: an ACD offer, or a
 * direct one (@ring_ms > 0: given up after that long).  0, or an errno
 * (ENOENT: no phone registered). */
int  call_offer_agent(struct call *call, const char *agent, const char *extension, bool acd,
		      uint32_t wait_s, uint32_t ring_ms);
/* Calls @number out through @trunk's gateway, in its DTMF mode and with
 * its credentials. */
int  call_offer_outside(struct call *call, const KefuSwitchTrunk *trunk, const char *number,
			uint32_t ring_ms);
/* An offer's ring timer: it failed as not answered. */
void call_offer_ring_timeout(void *arg);
/* An ACD offer to @agent that fails (busy) on the next turn. */
void call_offer_fail_later(struct call *call, const char *agent);
struct offer *call_offer_find(const struct call *call, const char *agent);
void kefu_switch_calls_hangup_all(struct kefu_switch *sw);
void kefu_switch_calls_count(const struct kefu_switch *sw, struct kefu_switch_status *st);
int  kefu_switch_calls_print(struct re_printf *pf, const struct kefu_switch *sw);
extern const struct kefu_switch_leg_handlers kefu_switch_caller_handlers;

/* kefu-switch-call-ivr.c */
/* Runs @flow on the call's (answered) caller leg. */
int  call_ivr_start(struct call *call, const char *flow);

/* kefu-switch-call-acd.c */
void call_enqueue(struct call *call, const char *queue, const char *skill, int priority);
extern const struct kefu_acd_driver kefu_switch_acd_driver;

/* kefu-switch-call-transfer.c */
extern const struct kefu_switch_leg_handlers kefu_switch_agent_handlers;
/* The direct offer a transfer made was answered (true) or failed. */
void call_transfer_offer_done(struct call *call, struct offer *o, bool answered);
/* The call ends: a transfer under way hears of it. */
void call_transfer_abort(struct call *call);
/* A REFER on the caller's leg: an agent handing on the party of a call
 * they placed; anyone else is declined. */
void call_transfer_by_owner(struct kefu_switch_leg *leg, struct sip *sip,
			    const struct sip_msg *msg, void *arg);
/* Hangs up the referring legs still waiting for their phones' BYE. */
void kefu_switch_transfers_flush(struct kefu_switch *sw);
