/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The ACD's state and decisions (the rules are in kefu-acd.h).  libre-
 * facing: libre's tabs.
 *
 * Everything is decided in dispatch(), which runs at the end of every
 * entry point and timer that changed something: it walks the waiting
 * calls in the one documented order and reserves agents for them.  An
 * agent's `call` and a call's `ringing` array point at each other while
 * an offer rings; kefu_acd_check() verifies that and the other invariants
 * after every step of the fuzz test.
 *
 * Times are libre jiffies (monotonic ms); events carry the wall clock.
 * The numbers are small (hundreds of agents and calls), so lists are
 * scanned rather than indexed.
 */
#define G_LOG_DOMAIN "KefuAcd"

#include "config.h"

#include "kefu-acd.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HAVE_INTTYPES_H 1
#define HAVE_STDBOOL_H 1
#define HAVE_INET6 1
#include <re.h>

#include "kefu-time.h"

static const char * const strategy_names[] = {
	"ring-all", "longest-idle", "round-robin", "fewest-calls",
	"least-talk-time", "skills-based",
};

struct queue {
	struct le le;                  /* acd->queues */
	struct kefu_acd *acd;
	char *name;
	char *overflow_queue;
	struct kefu_acd_queue_conf conf;  /* strings point at ours */
	char *rr_last;                 /* round-robin: last agent offered */
	uint64_t aht[KEFU_ACD_AHT_WINDOW];
	unsigned n_aht;
	unsigned aht_next;
	bool overflow_warned;
};

/* Per agent and queue: what fewest-calls and least-talk-time count. */
struct queue_tally {
	struct le le;
	char *queue;
	unsigned calls;
	uint64_t talk_ms;
};

struct skill {
	char *name;
	int proficiency;
};

struct agent {
	struct le le;                  /* acd->agents, by username */
	struct kefu_acd *acd;
	char *username;
	char *extension;
	struct skill *skills;
	size_t n_skills;
	enum kefu_acd_presence presence;
	char reason[64];
	enum kefu_acd_activity activity;
	struct call *call;             /* ringing or talking */
	uint64_t idle_since;
	unsigned no_answer;
	unsigned calls_answered;
	struct list tallies;
	char published[96];            /* state/reason kefu-server has */
	bool removed;                  /* freed once wrap-up ends */
	unsigned busy;                 /* on calls the ACD did not give them */

	/* wrap-up of the last call */
	struct tmr wrapup_tmr;
	bool wrapup_held;              /* the agent chose to stay in wrap-up */
	char *wrapup_call;
	char *wrapup_queue;
	uint64_t wrapup_start;
	uint64_t handled_ms;           /* talk + hold of that call */
};

enum call_state {
	CALL_WAITING,
	CALL_RINGING,
	CALL_TALKING,
};

struct call {
	struct le le;                  /* acd->calls */
	struct kefu_acd *acd;
	char *id;
	struct queue *queue;
	int priority;
	char *skill;
	int64_t customer_id;
	uint64_t seq;
	uint64_t enqueued;             /* first queue, jiffies */
	int64_t enqueued_wall;         /* first queue, wall ms */
	uint64_t entered;              /* this queue */
	enum call_state state;
	struct agent **ringing;
	size_t n_ringing;
	char **tried;                  /* declined this call, by username */
	size_t n_tried;
	bool overflow_due;
	struct agent *agent;           /* talking */
	uint64_t answered;
	struct tmr ring_tmr;
	struct tmr wait_tmr;
	struct tmr announce_tmr;
	struct tmr retry_tmr;
};

struct kefu_acd {
	struct kefu_acd_driver driver;
	void *arg;
	struct list queues;
	struct list agents;
	struct list calls;
	uint64_t seq;
	unsigned in_driver;
	bool dispatching;
	bool dispatch_again;
};

static void dispatch(struct kefu_acd *acd);
static void overflow(struct call *call);

/* --- small things ------------------------------------------------------- */

const char *
kefu_acd_strategy_name(enum kefu_acd_strategy strategy)
{
	if ((size_t)strategy >= G_N_ELEMENTS(strategy_names))
		return "?";
	return strategy_names[strategy];
}

int
kefu_acd_strategy_from_name(const char *name, enum kefu_acd_strategy *out)
{
	for (size_t i = 0; name && i < G_N_ELEMENTS(strategy_names); i++) {
		if (strcmp(name, strategy_names[i]) == 0) {
			*out = (enum kefu_acd_strategy)i;
			return 0;
		}
	}
	return EINVAL;
}

static bool
name_ok(const char *name)
{
	if (!name || !*name || strlen(name) > 63)
		return false;
	for (const char *p = name; *p; p++) {
		if (!g_ascii_isalnum(*p) && *p != '_' && *p != '.' && *p != '-')
			return false;
	}
	return true;
}

static uint32_t
seconds_up(uint64_t ms)
{
	return (uint32_t)((ms + 999) / 1000);
}

static double
seconds(uint64_t ms)
{
	return (double)ms / 1000.0;
}

static struct queue *
find_queue(const struct kefu_acd *acd, const char *name)
{
	for (struct le *le = acd->queues.head; le; le = le->next) {
		struct queue *q = le->data;

		if (strcmp(q->name, name) == 0)
			return q;
	}
	return NULL;
}

static struct agent *
find_agent(const struct kefu_acd *acd, const char *username)
{
	for (struct le *le = acd->agents.head; le; le = le->next) {
		struct agent *a = le->data;

		if (!a->removed && strcmp(a->username, username) == 0)
			return a;
	}
	return NULL;
}

static struct call *
find_call(const struct kefu_acd *acd, const char *id)
{
	for (struct le *le = acd->calls.head; le; le = le->next) {
		struct call *c = le->data;

		if (strcmp(c->id, id) == 0)
			return c;
	}
	return NULL;
}

static int
proficiency(const struct agent *a, const char *skill)
{
	for (size_t i = 0; i < a->n_skills; i++) {
		if (strcmp(a->skills[i].name, skill) == 0)
			return a->skills[i].proficiency;
	}
	return 0;
}

static bool
is_member(const struct agent *a, const struct queue *q)
{
	return !a->removed && proficiency(a, q->name) > 0;
}

static bool
is_eligible(const struct agent *a, const struct call *c)
{
	return is_member(a, c->queue) &&
		(!c->skill || proficiency(a, c->skill) > 0);
}

static bool
is_idle(const struct agent *a)
{
	return !a->removed && a->presence == KEFU_ACD_AVAILABLE &&
		a->activity == KEFU_ACD_IDLE && !a->busy;
}

static bool
has_tried(const struct call *c, const struct agent *a)
{
	for (size_t i = 0; i < c->n_tried; i++) {
		if (strcmp(c->tried[i], a->username) == 0)
			return true;
	}
	return false;
}

static void
clear_tried(struct call *c)
{
	for (size_t i = 0; i < c->n_tried; i++)
		g_free(c->tried[i]);
	g_clear_pointer(&c->tried, g_free);
	c->n_tried = 0;
}

static void
add_tried(struct call *c, const struct agent *a)
{
	if (has_tried(c, a))
		return;
	c->tried = g_renew(char *, c->tried, c->n_tried + 1);
	c->tried[c->n_tried++] = g_strdup(a->username);
}

static struct queue_tally *
tally(struct agent *a, const char *queue)
{
	struct queue_tally *t;

	for (struct le *le = a->tallies.head; le; le = le->next) {
		t = le->data;
		if (strcmp(t->queue, queue) == 0)
			return t;
	}
	t = g_new0(struct queue_tally, 1);
	t->queue = g_strdup(queue);
	list_append(&a->tallies, &t->le, t);
	return t;
}

static uint64_t
queue_aht(const struct queue *q)
{
	uint64_t sum = 0;

	if (!q->n_aht)
		return q->conf.default_aht_ms;
	for (unsigned i = 0; i < q->n_aht; i++)
		sum += q->aht[i];
	return sum / q->n_aht;
}

/* --- the driver ------------------------------------------------------------ */

static void
emit(struct kefu_acd *acd, const char *type, const char *call_id,
     const char *queue, const char *agent, JsonObject *data)
{
	struct kefu_acd_event ev = {
		.type = type,
		.ts_ms = kefu_time_now_ms(),
		.call_id = call_id,
		.queue = queue,
		.agent = agent,
		.data = data,
	};

	acd->in_driver++;
	acd->driver.event(&ev, acd->arg);
	acd->in_driver--;
	json_object_unref(data);
}

static const char *
agent_state_text(const struct agent *a)
{
	switch (a->activity) {
	case KEFU_ACD_RINGING:
		return "ringing";
	case KEFU_ACD_TALKING:
		return "talking";
	case KEFU_ACD_WRAPUP:
		return "wrapup";
	case KEFU_ACD_IDLE:
	default:
		break;
	}
	if (a->busy)
		return "talking";
	switch (a->presence) {
	case KEFU_ACD_AVAILABLE:
		return "available";
	case KEFU_ACD_NOT_READY:
		return "not_ready";
	case KEFU_ACD_LOGGED_OUT:
	default:
		return "logged_out";
	}
}

/* Tells kefu-server the agent's state when it is not what it has. */
static void
publish(struct agent *a)
{
	const char *state = agent_state_text(a);
	bool with_reason = a->activity == KEFU_ACD_IDLE && !a->busy &&
		a->presence == KEFU_ACD_NOT_READY && a->reason[0];
	char seen[96];
	JsonObject *data;

	snprintf(seen, sizeof seen, "%s/%s", state, with_reason ? a->reason : "");
	if (strcmp(seen, a->published) == 0)
		return;
	g_strlcpy(a->published, seen, sizeof a->published);
	data = json_object_new();
	json_object_set_string_member(data, "state", state);
	if (with_reason)
		json_object_set_string_member(data, "reason", a->reason);
	emit(a->acd, "agent.state", NULL, NULL, a->username, data);
}

static void
driver_cancel(struct kefu_acd *acd, const struct call *c, const struct agent *a)
{
	acd->in_driver++;
	acd->driver.cancel(c->id, a->username, acd->arg);
	acd->in_driver--;
}

/* --- calls ----------------------------------------------------------------- */

static void
call_destructor(void *arg)
{
	struct call *c = arg;

	tmr_cancel(&c->ring_tmr);
	tmr_cancel(&c->wait_tmr);
	tmr_cancel(&c->announce_tmr);
	tmr_cancel(&c->retry_tmr);
	list_unlink(&c->le);
	for (size_t i = 0; i < c->n_ringing; i++)
		c->ringing[i]->call = NULL;
	g_free(c->ringing);
	if (c->agent && c->agent->call == c)
		c->agent->call = NULL;
	clear_tried(c);
	g_free(c->id);
	g_free(c->skill);
}

static uint64_t
waited(const struct call *c)
{
	return tmr_jiffies() - c->enqueued;
}

static JsonObject *
wait_data(const struct call *c)
{
	JsonObject *data = json_object_new();

	json_object_set_double_member(data, "wait_s", seconds(waited(c)));
	return data;
}

/* Serving order across all queues: kefu-acd.h, "Which call goes first". */
static int
compare_calls(const void *pa, const void *pb)
{
	const struct call *a = *(const struct call * const *)pa;
	const struct call *b = *(const struct call * const *)pb;
	int r;

	if (a->queue->conf.priority != b->queue->conf.priority)
		return a->queue->conf.priority > b->queue->conf.priority ? -1 : 1;
	if (a->priority != b->priority)
		return a->priority > b->priority ? -1 : 1;
	if (a->enqueued != b->enqueued)
		return a->enqueued < b->enqueued ? -1 : 1;
	r = strcmp(a->queue->name, b->queue->name);
	if (r)
		return r;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static unsigned
position(const struct call *c)
{
	unsigned pos = 1;

	if (c->state == CALL_TALKING)
		return 0;
	for (struct le *le = c->acd->calls.head; le; le = le->next) {
		const struct call *o = le->data;

		if (o != c && o->queue == c->queue && o->state != CALL_TALKING &&
		    compare_calls(&o, &c) < 0)
			pos++;
	}
	return pos;
}

static unsigned
staffed(const struct queue *q)
{
	unsigned n = 0;

	for (struct le *le = q->acd->agents.head; le; le = le->next) {
		const struct agent *a = le->data;

		if (is_member(a, q) && a->presence == KEFU_ACD_AVAILABLE)
			n++;
	}
	return n;
}

static void
estimate(const struct call *c, unsigned *pos, unsigned *wait_s)
{
	unsigned p = position(c);
	unsigned n = staffed(c->queue);
	uint64_t aht = queue_aht(c->queue);

	*pos = p;
	*wait_s = seconds_up((uint64_t)p * aht / (n ? n : 1));
}

static void
on_announce(void *arg)
{
	struct call *c = arg;
	struct kefu_acd *acd = c->acd;
	unsigned pos, wait_s;

	tmr_start(&c->announce_tmr, c->queue->conf.announce_interval_ms,
		  on_announce, c);
	if (c->state != CALL_WAITING)
		return;
	estimate(c, &pos, &wait_s);
	acd->in_driver++;
	acd->driver.announce(c->id, pos, wait_s, acd->arg);
	acd->in_driver--;
}

static void
on_max_wait(void *arg)
{
	struct call *c = arg;
	struct kefu_acd *acd = c->acd;

	/* A ringing call overflows once its offer ends unanswered. */
	c->overflow_due = true;
	dispatch(acd);
}

static void
on_retry(void *arg)
{
	struct call *c = arg;

	clear_tried(c);
	dispatch(c->acd);
}

/* Starts the per-queue timers of a call that has just entered c->queue. */
static void
enter_queue(struct call *c)
{
	const struct kefu_acd_queue_conf *conf = &c->queue->conf;

	c->entered = tmr_jiffies();
	c->overflow_due = false;
	tmr_cancel(&c->wait_tmr);
	tmr_cancel(&c->announce_tmr);
	tmr_cancel(&c->retry_tmr);
	clear_tried(c);
	if (conf->max_wait_ms && conf->overflow != KEFU_ACD_OVERFLOW_NONE)
		tmr_start(&c->wait_tmr, conf->max_wait_ms, on_max_wait, c);
	if (conf->announce_interval_ms)
		tmr_start(&c->announce_tmr, conf->announce_interval_ms,
			  on_announce, c);
}

/* --- agents ---------------------------------------------------------------- */

static void on_wrapup_end(void *arg);

static void
agent_destructor(void *arg)
{
	struct agent *a = arg;
	struct le *le;

	tmr_cancel(&a->wrapup_tmr);
	list_unlink(&a->le);
	while ((le = list_head(&a->tallies))) {
		struct queue_tally *t = le->data;

		list_unlink(le);
		g_free(t->queue);
		g_free(t);
	}
	for (size_t i = 0; i < a->n_skills; i++)
		g_free(a->skills[i].name);
	g_free(a->skills);
	g_free(a->username);
	g_free(a->extension);
	g_free(a->wrapup_call);
	g_free(a->wrapup_queue);
}

static void
set_not_ready(struct agent *a, const char *reason)
{
	a->presence = KEFU_ACD_NOT_READY;
	g_strlcpy(a->reason, reason, sizeof a->reason);
}

/* Ends one agent's part in a ringing offer.  counted: no-answer or
 * rejected (counts towards max no-answer, and the agent has declined the
 * call); otherwise the ACD stopped it.  Does not dispatch. */
static void
release_ringing(struct call *c, struct agent *a, bool counted)
{
	struct kefu_acd *acd = c->acd;
	size_t i;

	for (i = 0; i < c->n_ringing && c->ringing[i] != a; i++)
		;
	if (i == c->n_ringing)
		return;
	memmove(&c->ringing[i], &c->ringing[i + 1],
		(c->n_ringing - i - 1) * sizeof c->ringing[0]);
	c->n_ringing--;
	a->call = NULL;
	a->activity = KEFU_ACD_IDLE;
	a->idle_since = tmr_jiffies();
	if (counted) {
		uint32_t max = c->queue->conf.max_no_answer;

		add_tried(c, a);
		a->no_answer++;
		if (max && a->no_answer >= max && a->presence == KEFU_ACD_AVAILABLE) {
			a->no_answer = 0;
			set_not_ready(a, "no answer");
			if (acd->driver.agent_not_ready) {
				acd->in_driver++;
				acd->driver.agent_not_ready(a->username, a->reason,
							    acd->arg);
				acd->in_driver--;
			}
		}
	}
	publish(a);
	/* A max wait that passed while it rang is dispatch()'s to apply. */
	if (c->n_ringing == 0 && c->state == CALL_RINGING) {
		c->state = CALL_WAITING;
		tmr_cancel(&c->ring_tmr);
	}
}

/* Stops every offer of a call; the ACD's doing, nothing counted. */
static void
cancel_ringing(struct call *c, const struct agent *except)
{
	while (c->n_ringing) {
		struct agent *a = c->ringing[0];

		if (a == except) {
			if (c->n_ringing == 1)
				break;
			a = c->ringing[1];
		}
		driver_cancel(c->acd, c, a);
		release_ringing(c, a, false);
	}
}

static void
wrapup_end(struct agent *a)
{
	struct kefu_acd *acd = a->acd;
	struct queue *q = a->wrapup_queue ? find_queue(acd, a->wrapup_queue) : NULL;
	uint64_t wrapup_ms = tmr_jiffies() - a->wrapup_start;
	JsonObject *data = json_object_new();

	tmr_cancel(&a->wrapup_tmr);
	a->wrapup_held = false;
	json_object_set_double_member(data, "wrapup_s", seconds(wrapup_ms));
	emit(acd, "call.wrapup_ended", a->wrapup_call, a->wrapup_queue,
	     a->username, data);
	if (q) {
		q->aht[q->aht_next] = a->handled_ms + wrapup_ms;
		q->aht_next = (q->aht_next + 1) % KEFU_ACD_AHT_WINDOW;
		if (q->n_aht < KEFU_ACD_AHT_WINDOW)
			q->n_aht++;
	}
	g_clear_pointer(&a->wrapup_call, g_free);
	g_clear_pointer(&a->wrapup_queue, g_free);
	a->activity = KEFU_ACD_IDLE;
	a->idle_since = tmr_jiffies();
	if (a->removed) {
		mem_deref(a);
		return;
	}
	publish(a);
}

static void
on_wrapup_end(void *arg)
{
	struct agent *a = arg;
	struct kefu_acd *acd = a->acd;

	wrapup_end(a);
	dispatch(acd);
}

/* --- offers ------------------------------------------------------------------ */

static void
on_ring_timeout(void *arg)
{
	struct call *c = arg;
	struct kefu_acd *acd = c->acd;

	while (c->n_ringing) {
		struct agent *a = c->ringing[0];

		driver_cancel(acd, c, a);
		release_ringing(c, a, true);
	}
	dispatch(acd);
}

static void
offer(struct call *c, struct agent **agents, size_t n)
{
	struct kefu_acd *acd = c->acd;
	struct queue *q = c->queue;
	uint32_t ring_ms = q->conf.ring_timeout_ms;
	const char **names = g_newa(const char *, n);
	const char **exts = g_newa(const char *, n);
	struct kefu_acd_offer o = {
		.call_id = c->id,
		.queue = q->name,
		.agents = names,
		.extensions = exts,
		.n_agents = n,
		.ring_timeout_ms = ring_ms,
		.wait_s = (uint32_t)(waited(c) / 1000),
		.customer_id = c->customer_id,
	};
	int err;

	/* Reserved first: whatever the driver does, the marks are set. */
	c->ringing = g_renew(struct agent *, c->ringing, n);
	for (size_t i = 0; i < n; i++) {
		c->ringing[i] = agents[i];
		agents[i]->activity = KEFU_ACD_RINGING;
		agents[i]->call = c;
		names[i] = agents[i]->username;
		exts[i] = agents[i]->extension;
	}
	c->n_ringing = n;
	c->state = CALL_RINGING;
	g_free(q->rr_last);
	q->rr_last = g_strdup(agents[n - 1]->username);
	tmr_start(&c->ring_tmr, ring_ms, on_ring_timeout, c);

	for (size_t i = 0; i < n; i++) {
		JsonObject *data = wait_data(c);

		json_object_set_double_member(data, "ring_timeout_s",
					      seconds(ring_ms));
		if (agents[i]->extension[0])
			json_object_set_string_member(data, "extension",
						      agents[i]->extension);
		emit(acd, "call.ringing", c->id, q->name, agents[i]->username,
		     data);
		publish(agents[i]);
	}

	acd->in_driver++;
	err = acd->driver.offer(&o, acd->arg);
	acd->in_driver--;
	if (err) {
		g_debug("offer of %s failed: %s", c->id, g_strerror(err));
		while (c->n_ringing)
			release_ringing(c, c->ringing[0], true);
		acd->dispatch_again = true;
	}
}

/* Ties: longest idle, then username. */
static int
compare_idle(const struct agent *a, const struct agent *b)
{
	if (a->idle_since != b->idle_since)
		return a->idle_since < b->idle_since ? -1 : 1;
	return strcmp(a->username, b->username);
}

/* <0: a is the better pick for c under its queue's strategy. */
static int
compare_for(const struct call *c, const struct agent *a, const struct agent *b)
{
	const struct queue *q = c->queue;

	switch (q->conf.strategy) {
	case KEFU_ACD_ROUND_ROBIN: {
		const char *last = q->rr_last ? q->rr_last : "";
		bool a_after = strcmp(a->username, last) > 0;
		bool b_after = strcmp(b->username, last) > 0;

		if (a_after != b_after)
			return a_after ? -1 : 1;
		return strcmp(a->username, b->username);
	}
	case KEFU_ACD_FEWEST_CALLS: {
		unsigned ca = tally((struct agent *)a, q->name)->calls;
		unsigned cb = tally((struct agent *)b, q->name)->calls;

		if (ca != cb)
			return ca < cb ? -1 : 1;
		break;
	}
	case KEFU_ACD_LEAST_TALK_TIME: {
		uint64_t ta = tally((struct agent *)a, q->name)->talk_ms;
		uint64_t tb = tally((struct agent *)b, q->name)->talk_ms;

		if (ta != tb)
			return ta < tb ? -1 : 1;
		break;
	}
	case KEFU_ACD_SKILLS_BASED: {
		const char *skill = c->skill ? c->skill : q->name;
		int pa = proficiency(a, skill), pb = proficiency(b, skill);

		if (pa != pb)
			return pa > pb ? -1 : 1;
		break;
	}
	case KEFU_ACD_RING_ALL:
	case KEFU_ACD_LONGEST_IDLE:
	default:
		break;
	}
	return compare_idle(a, b);
}

/* Picks and rings the agent(s) for one waiting call.  Returns how many
 * were offered it. */
static size_t
serve(struct call *c)
{
	struct kefu_acd *acd = c->acd;
	struct agent **picked = NULL;
	size_t n = 0, n_declined = 0;

	for (struct le *le = acd->agents.head; le; le = le->next) {
		struct agent *a = le->data;

		if (!is_idle(a) || !is_eligible(a, c))
			continue;
		if (has_tried(c, a)) {
			n_declined++;
			continue;
		}
		if (c->queue->conf.strategy == KEFU_ACD_RING_ALL) {
			picked = g_renew(struct agent *, picked, n + 1);
			picked[n++] = a;
		}
		else if (!n || compare_for(c, a, picked[0]) < 0) {
			if (!picked)
				picked = g_new(struct agent *, 1);
			picked[0] = a;
			n = 1;
		}
	}
	if (n)
		offer(c, picked, n);
	else if (n_declined && !tmr_isrunning(&c->retry_tmr))
		tmr_start(&c->retry_tmr, c->queue->conf.retry_ms, on_retry, c);
	g_free(picked);
	return n;
}

static bool
any_idle(const struct kefu_acd *acd)
{
	for (struct le *le = acd->agents.head; le; le = le->next) {
		if (is_idle(le->data))
			return true;
	}
	return false;
}

static void
dispatch(struct kefu_acd *acd)
{
	struct call **order;
	size_t n = 0;

	if (acd->dispatching) {
		acd->dispatch_again = true;
		return;
	}
	acd->dispatching = true;
	do {
		struct le *next = acd->calls.head;

		acd->dispatch_again = false;
		while (next) {
			struct call *c = next->data;

			next = next->next;
			if (c->state == CALL_WAITING && c->overflow_due)
				overflow(c);
		}
		if (!any_idle(acd))
			break;
		order = g_new(struct call *, list_count(&acd->calls) + 1);
		n = 0;
		for (struct le *le = acd->calls.head; le; le = le->next) {
			struct call *c = le->data;

			if (c->state == CALL_WAITING)
				order[n++] = c;
		}
		qsort(order, n, sizeof order[0], compare_calls);
		/* Nothing frees a call during the walk. */
		for (size_t i = 0; i < n && any_idle(acd); i++) {
			if (order[i]->state == CALL_WAITING)
				serve(order[i]);
		}
		g_free(order);
	} while (acd->dispatch_again);
	acd->dispatching = false;
}

/* --- overflow --------------------------------------------------------------- */

static void
overflow(struct call *c)
{
	struct kefu_acd *acd = c->acd;
	struct queue *from = c->queue;
	const struct kefu_acd_queue_conf *conf = &from->conf;
	g_autofree char *enqueued_at = kefu_time_format_ms(c->enqueued_wall);
	JsonObject *data;

	c->overflow_due = false;
	if (conf->overflow == KEFU_ACD_OVERFLOW_QUEUE) {
		struct queue *to = find_queue(acd, conf->overflow_queue);

		if (!to || to == from) {
			if (!from->overflow_warned)
				g_warning("queue %s overflows to %s, which is %s",
					  from->name, conf->overflow_queue,
					  to ? "itself" : "not defined");
			from->overflow_warned = true;
			return;
		}
		data = wait_data(c);
		json_object_set_string_member(data, "to_queue", to->name);
		json_object_set_string_member(data, "enqueued_at", enqueued_at);
		json_object_set_boolean_member(data, "keeps_enqueue_time", true);
		emit(acd, "call.overflow", c->id, from->name, NULL, data);

		c->queue = to;
		enter_queue(c);
		data = wait_data(c);
		json_object_set_string_member(data, "overflow_from", from->name);
		json_object_set_string_member(data, "enqueued_at", enqueued_at);
		json_object_set_boolean_member(data, "keeps_enqueue_time", true);
		json_object_set_int_member(data, "priority", c->priority);
		if (c->skill)
			json_object_set_string_member(data, "skill", c->skill);
		if (c->customer_id)
			json_object_set_int_member(data, "customer_id",
						   c->customer_id);
		emit(acd, "call.offered", c->id, to->name, NULL, data);
		return;
	}
	if (conf->overflow == KEFU_ACD_OVERFLOW_CALLBACK) {
		unsigned wait_s = (unsigned)(waited(c) / 1000);

		data = wait_data(c);
		json_object_set_boolean_member(data, "overflow", true);
		json_object_set_string_member(data, "enqueued_at", enqueued_at);
		emit(acd, "call.callback", c->id, from->name, NULL, data);
		acd->in_driver++;
		acd->driver.callback(c->id, from->name, c->customer_id, wait_s,
				     acd->arg);
		acd->in_driver--;
		mem_deref(c);
	}
}

/* --- the API ------------------------------------------------------------------ */

#define ENTER(acd) \
	do { \
		if (!(acd)) \
			return EINVAL; \
		if ((acd)->in_driver) { \
			g_warning("%s called from a driver callback", G_STRFUNC); \
			return EDEADLK; \
		} \
	} while (0)

static void
acd_destructor(void *arg)
{
	struct kefu_acd *acd = arg;
	struct le *le;

	while ((le = list_head(&acd->calls)))
		mem_deref(le->data);
	while ((le = list_head(&acd->agents)))
		mem_deref(le->data);
	while ((le = list_head(&acd->queues)))
		mem_deref(le->data);
}

int
kefu_acd_alloc(struct kefu_acd **acdp, const struct kefu_acd_driver *driver,
	       void *arg)
{
	struct kefu_acd *acd;

	if (!acdp || !driver || !driver->offer || !driver->cancel ||
	    !driver->announce || !driver->callback || !driver->event)
		return EINVAL;
	acd = mem_zalloc(sizeof *acd, acd_destructor);
	if (!acd)
		return ENOMEM;
	acd->driver = *driver;
	acd->arg = arg;
	*acdp = acd;
	return 0;
}

static void
queue_destructor(void *arg)
{
	struct queue *q = arg;

	list_unlink(&q->le);
	g_free(q->name);
	g_free(q->overflow_queue);
	g_free(q->rr_last);
}

int
kefu_acd_queue_set(struct kefu_acd *acd, const struct kefu_acd_queue_conf *conf)
{
	struct queue *q;

	ENTER(acd);
	if (!conf || !name_ok(conf->name) || conf->priority < 0 ||
	    conf->priority > 100 ||
	    (size_t)conf->strategy >= G_N_ELEMENTS(strategy_names) ||
	    (conf->overflow == KEFU_ACD_OVERFLOW_QUEUE &&
	     !name_ok(conf->overflow_queue)))
		return EINVAL;

	q = find_queue(acd, conf->name);
	if (!q) {
		q = mem_zalloc(sizeof *q, queue_destructor);
		if (!q)
			return ENOMEM;
		q->acd = acd;
		q->name = g_strdup(conf->name);
		list_append(&acd->queues, &q->le, q);
	}
	g_free(q->overflow_queue);
	q->overflow_queue = conf->overflow == KEFU_ACD_OVERFLOW_QUEUE
		? g_strdup(conf->overflow_queue) : NULL;
	q->overflow_warned = false;
	q->conf = *conf;
	q->conf.name = q->name;
	q->conf.overflow_queue = q->overflow_queue;
	if (!q->conf.ring_timeout_ms)
		q->conf.ring_timeout_ms = KEFU_ACD_DEFAULT_RING_TIMEOUT_MS;
	if (!q->conf.retry_ms)
		q->conf.retry_ms = KEFU_ACD_DEFAULT_RETRY_MS;
	if (!q->conf.default_aht_ms)
		q->conf.default_aht_ms = KEFU_ACD_DEFAULT_AHT_MS;
	dispatch(acd);
	return 0;
}

int
kefu_acd_queue_remove(struct kefu_acd *acd, const char *name)
{
	struct queue *q;

	ENTER(acd);
	q = name ? find_queue(acd, name) : NULL;
	if (!q)
		return ENOENT;
	for (struct le *le = acd->calls.head; le; le = le->next) {
		if (((struct call *)le->data)->queue == q)
			return EBUSY;
	}
	mem_deref(q);
	return 0;
}

/* Agents are kept in username order, which round-robin walks. */
static void
insert_agent(struct kefu_acd *acd, struct agent *a)
{
	for (struct le *le = acd->agents.head; le; le = le->next) {
		if (strcmp(((struct agent *)le->data)->username, a->username) > 0) {
			list_insert_before(&acd->agents, le, &a->le, a);
			return;
		}
	}
	list_append(&acd->agents, &a->le, a);
}

int
kefu_acd_agent_set(struct kefu_acd *acd, const char *username,
		   const char *extension, const struct kefu_acd_skill *skills,
		   size_t n_skills)
{
	struct agent *a;

	ENTER(acd);
	if (!name_ok(username) || (n_skills && !skills))
		return EINVAL;
	for (size_t i = 0; i < n_skills; i++) {
		if (!skills[i].queue || !*skills[i].queue ||
		    skills[i].proficiency < 1 || skills[i].proficiency > 100)
			return EINVAL;
	}

	a = find_agent(acd, username);
	if (!a) {
		a = mem_zalloc(sizeof *a, agent_destructor);
		if (!a)
			return ENOMEM;
		a->acd = acd;
		a->username = g_strdup(username);
		a->presence = KEFU_ACD_LOGGED_OUT;
		a->idle_since = tmr_jiffies();
		tmr_init(&a->wrapup_tmr);
		/* kefu-server keeps the state; nothing to tell it yet. */
		snprintf(a->published, sizeof a->published, "logged_out/");
		insert_agent(acd, a);
	}
	g_free(a->extension);
	a->extension = g_strdup(extension ? extension : "");
	for (size_t i = 0; i < a->n_skills; i++)
		g_free(a->skills[i].name);
	g_free(a->skills);
	a->skills = g_new0(struct skill, n_skills ? n_skills : 1);
	a->n_skills = n_skills;
	for (size_t i = 0; i < n_skills; i++) {
		a->skills[i].name = g_strdup(skills[i].queue);
		a->skills[i].proficiency = skills[i].proficiency;
	}
	/* An offer they no longer qualify for is stopped. */
	if (a->activity == KEFU_ACD_RINGING && a->call &&
	    !is_eligible(a, a->call)) {
		struct call *c = a->call;

		driver_cancel(acd, c, a);
		release_ringing(c, a, false);
	}
	dispatch(acd);
	return 0;
}

int
kefu_acd_agent_remove(struct kefu_acd *acd, const char *username)
{
	struct agent *a;

	ENTER(acd);
	a = username ? find_agent(acd, username) : NULL;
	if (!a)
		return ENOENT;
	if (a->activity == KEFU_ACD_RINGING && a->call) {
		struct call *c = a->call;

		driver_cancel(acd, c, a);
		release_ringing(c, a, false);
	}
	for (struct le *le = acd->calls.head; le; le = le->next) {
		struct call *c = le->data;

		for (size_t i = 0; i < c->n_tried; i++) {
			if (strcmp(c->tried[i], a->username) == 0) {
				g_free(c->tried[i]);
				c->tried[i] = c->tried[--c->n_tried];
				break;
			}
		}
	}
	if (a->activity == KEFU_ACD_TALKING || a->activity == KEFU_ACD_WRAPUP) {
		a->removed = true;
		a->presence = KEFU_ACD_LOGGED_OUT;
	}
	else {
		mem_deref(a);
	}
	dispatch(acd);
	return 0;
}

int
kefu_acd_agent_presence(struct kefu_acd *acd, const char *username,
			enum kefu_acd_presence presence, const char *reason)
{
	struct agent *a;

	ENTER(acd);
	a = username ? find_agent(acd, username) : NULL;
	if (!a)
		return ENOENT;
	if (presence != KEFU_ACD_AVAILABLE && presence != KEFU_ACD_NOT_READY &&
	    presence != KEFU_ACD_LOGGED_OUT)
		return EINVAL;

	if (presence == KEFU_ACD_AVAILABLE && a->presence != KEFU_ACD_AVAILABLE)
		a->idle_since = tmr_jiffies();
	a->presence = presence;
	g_strlcpy(a->reason, presence == KEFU_ACD_NOT_READY && reason ? reason : "",
		  sizeof a->reason);
	if (presence == KEFU_ACD_AVAILABLE)
		a->no_answer = 0;
	/* kefu-server has this state already: it told us. */
	snprintf(a->published, sizeof a->published, "%s/%s",
		 presence == KEFU_ACD_AVAILABLE ? "available"
		 : presence == KEFU_ACD_NOT_READY ? "not_ready" : "logged_out",
		 a->reason);

	if (a->activity == KEFU_ACD_RINGING && presence != KEFU_ACD_AVAILABLE &&
	    a->call) {
		struct call *c = a->call;

		driver_cancel(acd, c, a);
		release_ringing(c, a, false);
	}
	else if (a->activity == KEFU_ACD_WRAPUP) {
		/* Any choice at the desktop ends wrap-up, held or not. */
		wrapup_end(a);
	}
	else {
		/* Talking: kefu-server should keep showing the call. */
		publish(a);
	}
	dispatch(acd);
	return 0;
}

int
kefu_acd_agent_busy(struct kefu_acd *acd, const char *username, bool busy)
{
	struct agent *a;

	ENTER(acd);
	a = username ? find_agent(acd, username) : NULL;
	if (!a)
		return ENOENT;
	if (busy) {
		a->busy++;
	}
	else if (a->busy) {
		a->busy--;
		if (!a->busy)
			a->idle_since = tmr_jiffies();
	}
	publish(a);
	if (!a->busy)
		dispatch(acd);
	return 0;
}

int
kefu_acd_agent_state_text(struct kefu_acd *acd, const char *username,
			  const char *state, const char *reason)
{
	struct agent *a;

	ENTER(acd);
	if (!state)
		return EINVAL;
	if (strcmp(state, "available") == 0)
		return kefu_acd_agent_presence(acd, username, KEFU_ACD_AVAILABLE, NULL);
	if (strcmp(state, "not_ready") == 0)
		return kefu_acd_agent_presence(acd, username, KEFU_ACD_NOT_READY,
					       reason);
	if (strcmp(state, "logged_out") == 0)
		return kefu_acd_agent_presence(acd, username, KEFU_ACD_LOGGED_OUT,
					       NULL);
	if (strcmp(state, "ringing") == 0 || strcmp(state, "talking") == 0 ||
	    strcmp(state, "on_hold") == 0)
		return 0;
	if (strcmp(state, "wrapup") != 0)
		return EINVAL;

	a = username ? find_agent(acd, username) : NULL;
	if (!a)
		return ENOENT;
	if (a->activity == KEFU_ACD_WRAPUP) {
		a->wrapup_held = true;
		tmr_cancel(&a->wrapup_tmr);
		g_strlcpy(a->published, "wrapup/", sizeof a->published);
		return 0;
	}
	return kefu_acd_agent_presence(acd, username, KEFU_ACD_NOT_READY, "wrapup");
}

int
kefu_acd_enqueue(struct kefu_acd *acd, const char *queue,
		 const struct kefu_acd_call_info *info)
{
	struct queue *q;
	struct call *c;
	JsonObject *data;

	ENTER(acd);
	if (!queue || !info || !info->call_id || !*info->call_id ||
	    strlen(info->call_id) > 63)
		return EINVAL;
	q = find_queue(acd, queue);
	if (!q)
		return ENOENT;
	if (find_call(acd, info->call_id))
		return EEXIST;

	c = mem_zalloc(sizeof *c, call_destructor);
	if (!c)
		return ENOMEM;
	c->acd = acd;
	c->id = g_strdup(info->call_id);
	c->queue = q;
	c->priority = info->priority;
	c->skill = info->skill && *info->skill ? g_strdup(info->skill) : NULL;
	c->customer_id = info->customer_id;
	c->seq = ++acd->seq;
	c->enqueued = tmr_jiffies();
	c->enqueued_wall = kefu_time_now_ms();
	c->state = CALL_WAITING;
	tmr_init(&c->ring_tmr);
	tmr_init(&c->wait_tmr);
	tmr_init(&c->announce_tmr);
	tmr_init(&c->retry_tmr);
	list_append(&acd->calls, &c->le, c);
	enter_queue(c);

	data = json_object_new();
	json_object_set_int_member(data, "priority", c->priority);
	if (c->skill)
		json_object_set_string_member(data, "skill", c->skill);
	if (c->customer_id)
		json_object_set_int_member(data, "customer_id", c->customer_id);
	emit(acd, "call.offered", c->id, q->name, NULL, data);
	dispatch(acd);
	return 0;
}

static void
answered(struct call *c, struct agent *a)
{
	struct kefu_acd *acd = c->acd;
	JsonObject *data;

	cancel_ringing(c, a);
	c->n_ringing = 0;
	tmr_cancel(&c->ring_tmr);
	tmr_cancel(&c->wait_tmr);
	tmr_cancel(&c->announce_tmr);
	tmr_cancel(&c->retry_tmr);
	c->state = CALL_TALKING;
	c->agent = a;
	c->answered = tmr_jiffies();
	a->activity = KEFU_ACD_TALKING;
	a->call = c;
	a->no_answer = 0;
	a->calls_answered++;
	tally(a, c->queue->name)->calls++;

	data = wait_data(c);
	emit(acd, "call.answered", c->id, c->queue->name, a->username, data);
	publish(a);
}

static void
abandon(struct call *c)
{
	struct kefu_acd *acd = c->acd;

	c->overflow_due = false;
	cancel_ringing(c, NULL);
	emit(acd, "call.abandoned", c->id, c->queue->name, NULL, wait_data(c));
	mem_deref(c);
}

int
kefu_acd_offer_result(struct kefu_acd *acd, const char *call_id,
		      const char *agent, enum kefu_acd_offer_result result)
{
	struct call *c;
	struct agent *a;

	ENTER(acd);
	c = call_id ? find_call(acd, call_id) : NULL;
	a = agent ? find_agent(acd, agent) : NULL;
	if (!c || !a || c->state != CALL_RINGING || a->call != c ||
	    a->activity != KEFU_ACD_RINGING)
		return ENOENT;

	switch (result) {
	case KEFU_ACD_ANSWERED:
		answered(c, a);
		break;
	case KEFU_ACD_NO_ANSWER:
	case KEFU_ACD_BUSY_REJECTED:
		release_ringing(c, a, true);
		break;
	case KEFU_ACD_CALLER_GONE:
		/* That phone has stopped already; the others of a ring-all
		 * are cancelled. */
		c->overflow_due = false;
		release_ringing(c, a, false);
		abandon(c);
		break;
	default:
		return EINVAL;
	}
	dispatch(acd);
	return 0;
}

int
kefu_acd_abandon(struct kefu_acd *acd, const char *call_id)
{
	struct call *c;

	ENTER(acd);
	c = call_id ? find_call(acd, call_id) : NULL;
	if (!c || c->state == CALL_TALKING)
		return ENOENT;
	abandon(c);
	dispatch(acd);
	return 0;
}

int
kefu_acd_call_end(struct kefu_acd *acd, const char *call_id, uint64_t hold_ms)
{
	struct call *c;
	struct agent *a;
	uint64_t total, talk;
	JsonObject *data;

	ENTER(acd);
	c = call_id ? find_call(acd, call_id) : NULL;
	if (!c || c->state != CALL_TALKING || !c->agent)
		return ENOENT;
	a = c->agent;
	total = tmr_jiffies() - c->answered;
	if (hold_ms > total)
		hold_ms = total;
	talk = total - hold_ms;

	data = json_object_new();
	json_object_set_double_member(data, "talk_s", seconds(talk));
	json_object_set_double_member(data, "hold_s", seconds(hold_ms));
	emit(acd, "call.ended", c->id, c->queue->name, a->username, data);

	tally(a, c->queue->name)->talk_ms += talk;
	a->call = NULL;
	a->activity = KEFU_ACD_WRAPUP;
	a->wrapup_held = false;
	g_free(a->wrapup_call);
	g_free(a->wrapup_queue);
	a->wrapup_call = g_strdup(c->id);
	a->wrapup_queue = g_strdup(c->queue->name);
	a->wrapup_start = tmr_jiffies();
	a->handled_ms = total;
	c->agent = NULL;
	if (c->queue->conf.wrapup_ms && !a->removed) {
		publish(a);
		tmr_start(&a->wrapup_tmr, c->queue->conf.wrapup_ms, on_wrapup_end, a);
		mem_deref(c);
	}
	else {
		mem_deref(c);
		wrapup_end(a);
	}
	dispatch(acd);
	return 0;
}

/* --- questions ------------------------------------------------------------------ */

int
kefu_acd_agent_status(const struct kefu_acd *acd, const char *username,
		      struct kefu_acd_agent_status *out)
{
	const struct agent *a;

	if (!acd || !username || !out)
		return EINVAL;
	a = find_agent(acd, username);
	if (!a)
		return ENOENT;
	memset(out, 0, sizeof *out);
	out->presence = a->presence;
	out->activity = a->activity;
	g_strlcpy(out->reason, a->reason, sizeof out->reason);
	if (a->call)
		g_strlcpy(out->call_id, a->call->id, sizeof out->call_id);
	out->calls_answered = a->calls_answered;
	out->no_answer_count = a->no_answer;
	return 0;
}

int
kefu_acd_call_status(const struct kefu_acd *acd, const char *call_id,
		     struct kefu_acd_call_status *out)
{
	const struct call *c;

	if (!acd || !call_id || !out)
		return EINVAL;
	c = find_call(acd, call_id);
	if (!c)
		return ENOENT;
	memset(out, 0, sizeof *out);
	out->state = c->state == CALL_TALKING ? KEFU_ACD_CALL_TALKING
		: c->state == CALL_RINGING ? KEFU_ACD_CALL_RINGING
		: KEFU_ACD_CALL_WAITING;
	g_strlcpy(out->queue, c->queue->name, sizeof out->queue);
	if (c->agent)
		g_strlcpy(out->agent, c->agent->username, sizeof out->agent);
	out->position = position(c);
	out->waited_ms = waited(c);
	return 0;
}

int
kefu_acd_queue_status(const struct kefu_acd *acd, const char *queue,
		      struct kefu_acd_queue_status *out)
{
	const struct queue *q;
	uint64_t now = tmr_jiffies();

	if (!acd || !queue || !out)
		return EINVAL;
	q = find_queue(acd, queue);
	if (!q)
		return ENOENT;
	memset(out, 0, sizeof *out);
	for (struct le *le = acd->calls.head; le; le = le->next) {
		const struct call *c = le->data;

		if (c->queue != q || c->state == CALL_TALKING)
			continue;
		out->waiting++;
		if (now - c->enqueued > out->longest_wait_ms)
			out->longest_wait_ms = now - c->enqueued;
	}
	for (struct le *le = acd->agents.head; le; le = le->next) {
		const struct agent *a = le->data;

		if (!is_member(a, q))
			continue;
		out->members++;
		if (a->presence == KEFU_ACD_AVAILABLE)
			out->staffed++;
		if (is_idle(a))
			out->idle++;
	}
	out->aht_ms = queue_aht(q);
	return 0;
}

int
kefu_acd_estimate(const struct kefu_acd *acd, const char *call_id,
		  unsigned *pos, unsigned *wait_s)
{
	const struct call *c;
	unsigned p, w;

	if (!acd || !call_id)
		return EINVAL;
	c = find_call(acd, call_id);
	if (!c || c->state == CALL_TALKING)
		return ENOENT;
	estimate(c, &p, &w);
	if (pos)
		*pos = p;
	if (wait_s)
		*wait_s = w;
	return 0;
}

#define BROKEN(...) \
	do { \
		snprintf(msg, size, __VA_ARGS__); \
		return EPROTO; \
	} while (0)

int
kefu_acd_check(const struct kefu_acd *acd, char *msg, size_t size)
{
	char dummy[1];

	if (!msg || !size) {
		msg = dummy;
		size = sizeof dummy;
	}
	if (!acd)
		BROKEN("no ACD");

	for (struct le *le = acd->agents.head; le; le = le->next) {
		const struct agent *a = le->data;
		const struct call *c = a->call;
		size_t found = 0;

		switch (a->activity) {
		case KEFU_ACD_RINGING:
			if (!c || c->state != CALL_RINGING)
				BROKEN("agent %s rings for no ringing call", a->username);
			if (a->presence != KEFU_ACD_AVAILABLE)
				BROKEN("agent %s rings while not available", a->username);
			for (size_t i = 0; i < c->n_ringing; i++)
				found += c->ringing[i] == a;
			if (found != 1)
				BROKEN("agent %s rings for %s, which lists them %zu times",
				       a->username, c->id, found);
			if (!is_eligible(a, c))
				BROKEN("agent %s rings for %s of queue %s without the skill",
				       a->username, c->id, c->queue->name);
			break;
		case KEFU_ACD_TALKING:
			if (!c || c->state != CALL_TALKING || c->agent != a)
				BROKEN("agent %s talks on no call of theirs", a->username);
			break;
		case KEFU_ACD_IDLE:
		case KEFU_ACD_WRAPUP:
		default:
			if (c)
				BROKEN("agent %s is idle or in wrap-up but holds call %s",
				       a->username, c->id);
			if (a->activity == KEFU_ACD_WRAPUP &&
			    !tmr_isrunning(&a->wrapup_tmr) && !a->wrapup_held)
				BROKEN("agent %s is in wrap-up with no end", a->username);
			break;
		}
	}

	for (struct le *le = acd->calls.head; le; le = le->next) {
		const struct call *c = le->data;

		switch (c->state) {
		case CALL_WAITING:
			if (c->n_ringing)
				BROKEN("call %s waits with %zu offers", c->id, c->n_ringing);
			if (tmr_isrunning(&c->retry_tmr))
				break;
			for (struct le *al = acd->agents.head; al; al = al->next) {
				const struct agent *a = al->data;

				if (is_idle(a) && is_eligible(a, c) && !has_tried(c, a))
					BROKEN("call %s waits while agent %s is idle",
					       c->id, a->username);
			}
			break;
		case CALL_RINGING:
			if (!c->n_ringing)
				BROKEN("call %s rings nobody", c->id);
			if (c->n_ringing > 1 && c->queue->conf.strategy != KEFU_ACD_RING_ALL)
				BROKEN("call %s rings %zu agents in a %s queue", c->id,
				       c->n_ringing,
				       kefu_acd_strategy_name(c->queue->conf.strategy));
			for (size_t i = 0; i < c->n_ringing; i++) {
				if (c->ringing[i]->call != c ||
				    c->ringing[i]->activity != KEFU_ACD_RINGING)
					BROKEN("call %s rings agent %s, who is elsewhere",
					       c->id, c->ringing[i]->username);
			}
			if (!tmr_isrunning(&c->ring_tmr))
				BROKEN("call %s rings with no ring timeout", c->id);
			break;
		case CALL_TALKING:
		default:
			if (!c->agent || c->agent->call != c ||
			    c->agent->activity != KEFU_ACD_TALKING)
				BROKEN("call %s talks to nobody", c->id);
			if (c->n_ringing)
				BROKEN("call %s talks and rings", c->id);
			break;
		}
		for (const struct le *o = le->next; o; o = o->next) {
			if (strcmp(((const struct call *)o->data)->id, c->id) == 0)
				BROKEN("call %s is in the ACD twice", c->id);
		}
	}
	if (size)
		msg[0] = '\0';
	return 0;
}

JsonObject *
kefu_acd_event_to_json(const struct kefu_acd_event *event)
{
	JsonObject *o = json_object_new();
	g_autofree char *ts = kefu_time_format_ms(event->ts_ms);

	json_object_set_string_member(o, "type", event->type);
	json_object_set_string_member(o, "ts", ts);
	if (event->call_id)
		json_object_set_string_member(o, "call_id", event->call_id);
	if (event->queue)
		json_object_set_string_member(o, "queue", event->queue);
	if (event->agent)
		json_object_set_string_member(o, "agent", event->agent);
	json_object_set_object_member(o, "data", event->data
				      ? json_object_ref(event->data)
				      : json_object_new());
	return o;
}
