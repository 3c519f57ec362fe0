/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The ACD: kefu-switch's in-memory routing state.  Queues, the agents who
 * serve them, the calls waiting in them, and the decision which agent's
 * phone rings for which call.  The switch's core feeds it (calls entering
 * a queue, agents' states from kefu-server, what the agents' phones did)
 * and carries out what it decides through a driver (ring these phones,
 * stop ringing, play this announcement, report this event).
 *
 * Thread: libre's main loop only (its timers are libre tmr).  Every
 * decision is taken and marked in one synchronous step, so reservation is
 * atomic: an agent is reserved (state ringing) before the driver is asked
 * to ring their phone.  Driver callbacks must not call back into the ACD
 * synchronously; an ACD function called from inside a driver callback
 * returns EDEADLK and changes nothing.  Defer such calls (a zero tmr).
 *
 * libre memory: kefu_acd_alloc() gives an object freed with mem_deref().
 * Strings passed in are copied; strings handed to the driver are valid
 * only during the callback.
 *
 * Words used below:
 *   member of a queue   an agent whose skills name the queue (proficiency
 *                       1..100).  Skills are queue name -> proficiency,
 *                       the same map kefu-server keeps for agents.
 *   eligible for a call a member of the call's queue who, if the call
 *                       names a required skill, also has that skill.
 *   idle                eligible agents are offered calls only when idle:
 *                       kefu-server says available AND the switch has them
 *                       in none of ringing, talking, wrap-up.
 *   serving order       calls in a queue are served by call priority
 *                       (higher first), then enqueue time (earlier
 *                       first), then arrival order.
 *
 * Strategies (which idle eligible agent, or agents, a call is offered to):
 *   ring-all        every idle eligible agent at once; the first to
 *                   answer gets the call and the others are cancelled.
 *   longest-idle    the agent idle longest: idle since the later of the
 *                   end of their last wrap-up (or of their last offer that
 *                   was not answered) and their last change to available.
 *   round-robin     members in username order, in a circle: the first
 *                   idle eligible agent after the one this queue offered
 *                   its last call to (the first in order at the start).
 *   fewest-calls    the agent who has answered the fewest calls from this
 *                   queue since the ACD started.
 *   least-talk-time the agent with the least talk time on calls from this
 *                   queue since the ACD started.
 *   skills-based    the highest proficiency in the call's required skill,
 *                   or in the queue when the call names none.
 *   Every strategy breaks ties by longest idle, then by username.
 *
 * Which call goes first (and so, which call an agent gets when they free
 * up and serve several queues).  After every change the ACD walks all
 * waiting calls that are not already ringing, in this one order, and
 * offers each to the agent(s) its queue's strategy picks among those
 * still idle:
 *   1. queue priority, higher first;
 *   2. call priority, higher first;
 *   3. original enqueue time, earlier first (an overflowed call keeps the
 *      time it first entered a queue);
 *   4. queue name, in byte order;
 *   5. arrival order in the ACD.
 * An agent who frees up therefore gets the first call in that order among
 * the calls of all the queues they are eligible for.
 *
 * Offers.  An offer rings for the queue's ring timeout, timed by the ACD
 * (the core may report no-answer earlier, e.g. on a 408/480).  No-answer
 * and busy/rejected both end that agent's offer, count one towards the
 * agent's consecutive unanswered offers, and leave the call waiting; the
 * agent is not offered the same call again while other eligible agents
 * have not yet been offered it.  When every eligible agent has declined,
 * the call is retried after the queue's retry pause.  An agent reaching
 * the queue's max_no_answer consecutive unanswered offers goes Not ready
 * with reason "no answer" (driver agent_not_ready and an agent.state
 * event); answering a call resets the count.
 *
 * After a call: ended -> wrap-up for the queue's wrap-up time (also when
 * it is 0, for one instant, so call.wrapup_ended is always reported) ->
 * the agent's state from kefu-server: available, or whatever they chose in
 * their desktop meanwhile (not_ready with a reason, logged_out).  A state
 * chosen at the desktop during wrap-up ends it at once (available: offers
 * resume), except "wrapup", which keeps it open until the next choice.
 *
 * Announcements: every announce interval after entering the queue, to a
 * call not ringing at that moment: its position (1-based, in serving
 * order among the queue's waiting calls, ringing ones included) and its
 * estimated wait in whole seconds:
 *     EWT = ceil(position * AHT / max(1, staffed))
 * where AHT is the mean handle time (talk + hold + wrap-up) of the last
 * KEFU_ACD_AHT_WINDOW calls of the queue (the queue's default_aht before
 * any), and staffed counts the queue's members whom kefu-server has as
 * available (idle, ringing, talking or in wrap-up; not Not ready, not
 * logged out).
 *
 * Max wait (measured from entering this queue; not applied while the
 * call rings, but as soon as that offer ends): overflow to another queue,
 * keeping the call's original enqueue time for ordering and reporting
 * (call.overflow in the old queue, then call.offered in the new one, both
 * saying so), or to the callback list (driver callback, then a
 * call.callback event; the call leaves the ACD and the core files the
 * callback and ends the call).
 *
 * Events (driver event) use kefu-server's event types and the data fields
 * its reports fold: call.offered, call.ringing, call.answered {wait_s},
 * call.abandoned {wait_s}, call.overflow {wait_s}, call.callback {wait_s},
 * call.ended {talk_s, hold_s}, call.wrapup_ended {wrapup_s}, agent.state
 * {state, reason}; wait_s always counts from the original enqueue time.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

G_BEGIN_DECLS

enum {
	KEFU_ACD_AHT_WINDOW = 20,              /* calls in the queue's AHT */
	KEFU_ACD_DEFAULT_RING_TIMEOUT_MS = 20000,
	KEFU_ACD_DEFAULT_RETRY_MS = 2000,
	KEFU_ACD_DEFAULT_AHT_MS = 180000,
};

enum kefu_acd_strategy {
	KEFU_ACD_RING_ALL,
	KEFU_ACD_LONGEST_IDLE,
	KEFU_ACD_ROUND_ROBIN,
	KEFU_ACD_FEWEST_CALLS,
	KEFU_ACD_LEAST_TALK_TIME,
	KEFU_ACD_SKILLS_BASED,
};

/* Names as kefu-server's queue records spell them ("ring-all", ...).
 * from_name: 0, or EINVAL for an unknown name. */
const char *kefu_acd_strategy_name(enum kefu_acd_strategy strategy);
int kefu_acd_strategy_from_name(const char *name, enum kefu_acd_strategy *out);

/* Where a call goes after the queue's max wait. */
enum kefu_acd_overflow {
	KEFU_ACD_OVERFLOW_NONE,       /* keeps waiting */
	KEFU_ACD_OVERFLOW_QUEUE,      /* to overflow_queue */
	KEFU_ACD_OVERFLOW_CALLBACK,   /* to the callback list */
};

/* One queue, as the config file defines it.  Times in milliseconds; a 0
 * where a default is named takes that default. */
struct kefu_acd_queue_conf {
	const char *name;                 /* required; [A-Za-z0-9_.-] */
	enum kefu_acd_strategy strategy;
	int priority;                     /* 0..100, higher served first */
	uint32_t ring_timeout_ms;         /* 0: KEFU_ACD_DEFAULT_RING_TIMEOUT_MS */
	uint32_t max_no_answer;           /* consecutive; 0: never Not ready */
	uint32_t wrapup_ms;               /* 0: none */
	uint32_t max_wait_ms;             /* 0: no limit */
	enum kefu_acd_overflow overflow;
	const char *overflow_queue;       /* for KEFU_ACD_OVERFLOW_QUEUE */
	uint32_t announce_interval_ms;    /* 0: no announcements */
	uint32_t retry_ms;                /* 0: KEFU_ACD_DEFAULT_RETRY_MS */
	uint32_t default_aht_ms;          /* 0: KEFU_ACD_DEFAULT_AHT_MS */
};

/* An agent's state as kefu-server (the agent's desktop) sets it. */
enum kefu_acd_presence {
	KEFU_ACD_LOGGED_OUT,
	KEFU_ACD_AVAILABLE,
	KEFU_ACD_NOT_READY,
};

/* What the switch has the agent doing. */
enum kefu_acd_activity {
	KEFU_ACD_IDLE,
	KEFU_ACD_RINGING,     /* reserved: one offer rings their phone */
	KEFU_ACD_TALKING,
	KEFU_ACD_WRAPUP,
};

struct kefu_acd_skill {
	const char *queue;    /* a queue name, or any skill name */
	int proficiency;      /* 1..100 */
};

/* What a call brings into a queue. */
struct kefu_acd_call_info {
	const char *call_id;      /* required: the switch's id (X-Kefu-Call) */
	int priority;             /* higher first; 0 normal */
	const char *skill;        /* required skill, or NULL */
	int64_t customer_id;      /* 0: not identified */
};

/* How an offer ended, as the core reports it. */
enum kefu_acd_offer_result {
	KEFU_ACD_ANSWERED,
	KEFU_ACD_NO_ANSWER,
	KEFU_ACD_BUSY_REJECTED,   /* 486, 603, or the phone is not registered */
	KEFU_ACD_CALLER_GONE,     /* the caller hung up while it rang */
};

/* Ring these agents' phones for this call (one agent, or every agent of a
 * ring-all offer).  The ACD has already reserved them. */
struct kefu_acd_offer {
	const char *call_id;
	const char *queue;
	const char * const *agents;       /* usernames */
	const char * const *extensions;   /* their extensions ("" if none) */
	size_t n_agents;
	uint32_t ring_timeout_ms;
	uint32_t wait_s;                  /* for X-Kefu-Wait */
	int64_t customer_id;              /* for X-Kefu-Customer; 0: none */
};

struct kefu_acd_event {
	const char *type;         /* one of kefu_event_types */
	int64_t ts_ms;            /* wall clock, ms since the epoch */
	const char *call_id;      /* NULL when not about a call */
	const char *queue;        /* NULL when not about a queue */
	const char *agent;        /* NULL when not about an agent */
	JsonObject *data;         /* borrowed; json_object_ref() to keep */
};

struct kefu_acd_driver {
	/* Ring the offer's phones.  Non-zero: the offer failed at once for
	 * every agent in it, as if each had rejected it. */
	int  (*offer)(const struct kefu_acd_offer *offer, void *arg);
	/* Stop ringing one agent's phone for this call (ring timeout, another
	 * agent answered a ring-all offer, the caller left, the agent logged
	 * out).  Whatever the phone does after this is ignored. */
	void (*cancel)(const char *call_id, const char *agent, void *arg);
	/* Tell the waiting caller their position and estimated wait. */
	void (*announce)(const char *call_id, unsigned position, unsigned wait_s,
			 void *arg);
	/* The call overflowed to the callback list: file the callback
	 * (POST /v1/callbacks), tell the caller, end the call.  The call has
	 * left the ACD. */
	void (*callback)(const char *call_id, const char *queue,
			 int64_t customer_id, unsigned wait_s, void *arg);
	/* The ACD put an agent in Not ready (reason "no answer"); tell
	 * kefu-server so the agent's desktop shows it.  May be NULL when the
	 * agent.state event is enough. */
	void (*agent_not_ready)(const char *agent, const char *reason,
				void *arg);
	/* An event for kefu-server's event log. */
	void (*event)(const struct kefu_acd_event *event, void *arg);
};

struct kefu_acd;

/* The driver is copied; every callback but agent_not_ready is required. */
int  kefu_acd_alloc(struct kefu_acd **acdp, const struct kefu_acd_driver *driver,
		    void *arg);

/* Adds a queue, or changes one in place (calls waiting stay, with the new
 * settings from now on).  EINVAL: no name, bad name, overflow to a queue
 * without a name, or a priority out of 0..100. */
int  kefu_acd_queue_set(struct kefu_acd *acd, const struct kefu_acd_queue_conf *conf);
/* ENOENT: no such queue; EBUSY: calls are in it (remove it once empty). */
int  kefu_acd_queue_remove(struct kefu_acd *acd, const char *name);

/* Adds an agent, or changes their extension and skills in place (an offer
 * or call in progress stays).  A new agent starts logged out. */
int  kefu_acd_agent_set(struct kefu_acd *acd, const char *username,
			const char *extension, const struct kefu_acd_skill *skills,
			size_t n_skills);
/* An offer ringing them is cancelled and the call waits again; a call
 * they talk on is not touched (the core ends it).  ENOENT: unknown. */
int  kefu_acd_agent_remove(struct kefu_acd *acd, const char *username);
/* kefu-server says the agent is available / not ready (reason) / logged
 * out.  Logging out or Not ready cancels an offer ringing them.
 * ENOENT: unknown agent. */
int  kefu_acd_agent_presence(struct kefu_acd *acd, const char *username,
			     enum kefu_acd_presence presence, const char *reason);
/* The same from an agent.state event's data.state as kefu-server spells
 * it.  Pass only states an agent or supervisor set at a desktop (the
 * events PUT /v1/agents/{id}/state makes, which carry data.by), never the
 * switch's own events coming back.  The states only the switch sets
 * (ringing, talking, on_hold) are ignored and return 0.  "wrapup" during
 * the switch's wrap-up keeps wrap-up open until the agent picks another
 * state; "wrapup" at any other time is Not ready with reason "wrapup".
 * EINVAL: an unknown state. */
int  kefu_acd_agent_state_text(struct kefu_acd *acd, const char *username,
			       const char *state, const char *reason);

/* The agent is on a call the ACD did not give them (a direct call from or
 * to their extension, a consultation, an outside call, a call transferred
 * to them), or no longer: counted, so one agent may have several.  A busy
 * agent is not offered calls and kefu-server sees them talking; the last
 * one ending makes them idle again (no wrap-up: the ACD did not route
 * it).  ENOENT: unknown agent. */
int  kefu_acd_agent_busy(struct kefu_acd *acd, const char *username, bool busy);

/* A call enters a queue (from the IVR, or a transfer to a queue).
 * ENOENT: no such queue; EEXIST: the call is already in the ACD. */
int  kefu_acd_enqueue(struct kefu_acd *acd, const char *queue,
		      const struct kefu_acd_call_info *info);
/* The core's answer to an offer for (call, agent).  ENOENT: no such
 * offer is ringing (it was cancelled or timed out; ignore). */
int  kefu_acd_offer_result(struct kefu_acd *acd, const char *call_id,
			   const char *agent, enum kefu_acd_offer_result result);
/* The caller hung up before an agent answered: abandoned with its wait.
 * Ringing offers are cancelled.  ENOENT: not waiting here. */
int  kefu_acd_abandon(struct kefu_acd *acd, const char *call_id);
/* A call an agent answered has ended (either side hung up, or the agent
 * transferred it away); hold_ms is the time it spent on hold.  The agent
 * goes to wrap-up.  ENOENT: no such answered call. */
int  kefu_acd_call_end(struct kefu_acd *acd, const char *call_id, uint64_t hold_ms);

/* --- what the core and the tests may ask --------------------------------- */

struct kefu_acd_agent_status {
	enum kefu_acd_presence presence;
	enum kefu_acd_activity activity;
	char reason[64];            /* of Not ready */
	char call_id[64];           /* ringing or talking on; "" if none */
	unsigned calls_answered;    /* all queues, since the ACD started */
	unsigned no_answer_count;   /* consecutive unanswered offers */
};
int  kefu_acd_agent_status(const struct kefu_acd *acd, const char *username,
			   struct kefu_acd_agent_status *out);

enum kefu_acd_call_state {
	KEFU_ACD_CALL_WAITING,
	KEFU_ACD_CALL_RINGING,      /* waiting, with an offer ringing */
	KEFU_ACD_CALL_TALKING,      /* answered, not ended */
};

struct kefu_acd_call_status {
	enum kefu_acd_call_state state;
	char queue[64];
	char agent[64];             /* talking to; "" while waiting */
	unsigned position;          /* 1-based; 0 once answered */
	uint64_t waited_ms;         /* from the original enqueue time */
};
int  kefu_acd_call_status(const struct kefu_acd *acd, const char *call_id,
			  struct kefu_acd_call_status *out);

struct kefu_acd_queue_status {
	unsigned waiting;           /* not yet answered, ringing included */
	uint64_t longest_wait_ms;
	unsigned members;
	unsigned staffed;           /* members kefu-server has as available */
	unsigned idle;              /* staffed and idle */
	uint64_t aht_ms;            /* as EWT uses it */
};
int  kefu_acd_queue_status(const struct kefu_acd *acd, const char *queue,
			   struct kefu_acd_queue_status *out);

/* Position and EWT as an announcement would give them now.  ENOENT: the
 * call is not waiting. */
int  kefu_acd_estimate(const struct kefu_acd *acd, const char *call_id,
		       unsigned *position, unsigned *wait_s);

/* Checks every invariant (an agent on at most one call, a call offered to
 * one agent unless ring-all, agents and calls pointing at each other,
 * no idle agent left beside a waiting call they could take and have not
 * declined, ...).
 * 0, or EPROTO with the first broken one in msg. */
int  kefu_acd_check(const struct kefu_acd *acd, char *msg, size_t size);

/* The event as kefu-server's POST /v1/events takes it: {type, ts (RFC
 * 3339), call_id, queue, agent, data}.  Full transfer. */
JsonObject *kefu_acd_event_to_json(const struct kefu_acd_event *event);

G_END_DECLS
