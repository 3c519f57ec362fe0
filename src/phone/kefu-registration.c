/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * SIP user agent and account registration, on the phone thread.
 * libre-facing, so this file keeps libre's tabs.
 *
 * Each REGISTER dialog is a "binding" (one libre sipreg at one registrar).
 * An account has its current binding and, while it is on the backup and the
 * primary has answered a probe, a second binding registering back at the
 * primary; when that one succeeds the backup binding is dropped, which makes
 * libre send the un-REGISTER (expires=0) to the backup.
 */
#define G_LOG_DOMAIN "KefuRegistration"

#include "config.h"

#include "kefu-registration.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

/* libre 1.1's headers take the platform from macros its own build sets;
 * these match Debian's build (struct sa, bool and the integer types). */
#define HAVE_INTTYPES_H 1
#define HAVE_STDBOOL_H 1
#define HAVE_INET6 1
#include <re.h>

enum {
	DEFAULT_EXPIRES = 3600,
	DEFAULT_TIMEOUT_MS = 32000,      /* RFC 3261 timer F */
	DEFAULT_PROBE_MS = 30000,
};

struct kefu_ua {
	struct kefu_phone_loop *loop;    /* borrowed: the loop owns us */
	struct sip *sip;
	struct dnsc *dnsc;
	struct tls *tls;
	struct sip_lsnr *lsnr;           /* answers to our probes */
	struct list accounts;
	struct list trash;               /* refs to drop outside handlers */
	struct tmr tmr_trash;
	kefu_reg_event_h *eventh;        /* runs on the UI context */
	void *arg;
	struct list leaving;             /* sipregs un-REGISTERing at stop */
	struct tmr tmr_leaving;
	bool holding;                    /* the loop waits for "leaving" */
};

/* Credentials for one binding; the sip_auth holds a reference, so it
 * outlives the binding while libre sends the un-REGISTER. */
struct creds {
	char *user;
	char *pass;
	unsigned asked;                  /* challenges since the last answer */
};

struct account;

struct binding {
	struct account *acc;             /* borrowed; the account owns us */
	enum kefu_registrar which;
	struct sipreg *reg;
	struct creds *creds;
	struct tmr tmr_attempt;
};

struct account {
	struct le le;
	struct kefu_ua *ua;              /* borrowed */
	char *id;
	char *aor;
	char *cuser;
	char *registrar[2];              /* primary, backup (may be NULL) */
	char *auth_user;
	char *password;
	uint32_t expires;
	uint32_t timeout_ms;
	uint32_t probe_ms;

	struct binding *cur;
	struct binding *fallback;        /* back to the primary, pending */
	char probe_callid[20];           /* of the probe in flight, or "" */
	struct tmr tmr_probe;

	/* last state reported to the UI */
	enum kefu_reg_state state;
	enum kefu_registrar reported_registrar;
	bool reported;
};

struct trash {
	struct le le;
	void *obj;
};

struct posted_event {
	struct kefu_reg_event ev;
	kefu_reg_event_h *eventh;
	void *arg;
};

static void start_probe_timer(struct account *acc);

const char *
kefu_reg_state_name(enum kefu_reg_state state)
{
	switch (state) {

	case KEFU_REG_UNREGISTERED: return "unregistered";
	case KEFU_REG_REGISTERING:  return "registering";
	case KEFU_REG_REGISTERED:   return "registered";
	case KEFU_REG_FAILED:       return "failed";
	}

	return "?";
}

/* --- events to the UI ---------------------------------------------------- */

static gboolean
deliver_event(gpointer data)
{
	struct posted_event *pe = data;

	if (pe->eventh)
		pe->eventh(&pe->ev, pe->arg);

	return G_SOURCE_REMOVE;
}

static void
free_event(gpointer data)
{
	struct posted_event *pe = data;

	g_free(pe->ev.account_id);
	g_free(pe->ev.reason);
	g_free(pe);
}

static void
report(struct account *acc, enum kefu_reg_state state,
       enum kefu_registrar registrar, uint16_t scode, const char *reason)
{
	struct posted_event *pe;

	/* refreshes keep an account registered: say so once */
	if (acc->reported && state == KEFU_REG_REGISTERED &&
	    acc->state == state && acc->reported_registrar == registrar)
		return;

	acc->reported = true;
	acc->state = state;
	acc->reported_registrar = registrar;

	g_debug("%s: %s at %s registrar%s%s", acc->id,
		kefu_reg_state_name(state),
		registrar == KEFU_REGISTRAR_PRIMARY ? "primary" : "backup",
		reason && *reason ? ": " : "", reason ? reason : "");

	pe = g_new0(struct posted_event, 1);
	pe->ev.account_id = g_strdup(acc->id);
	pe->ev.state = state;
	pe->ev.reason = g_strdup(reason ? reason : "");
	pe->ev.scode = scode;
	pe->ev.registrar = registrar;
	pe->eventh = acc->ua->eventh;
	pe->arg = acc->ua->arg;

	kefu_phone_loop_post(acc->ua->loop, deliver_event, pe, free_event);
}

/* --- dropping objects outside of libre's handlers ----------------------- */

static void
trash_destructor(void *arg)
{
	struct trash *t = arg;

	list_unlink(&t->le);
	mem_deref(t->obj);
}

static void
on_trash(void *arg)
{
	struct kefu_ua *ua = arg;

	list_flush(&ua->trash);
}

/* libre objects must not be freed inside their own response handler */
static void
drop_later(struct kefu_ua *ua, void *obj)
{
	struct trash *t;

	if (!obj)
		return;

	t = mem_zalloc(sizeof(*t), trash_destructor);
	if (!t) {
		mem_deref(obj);  /* better a risky free than a leak */
		return;
	}

	t->obj = obj;
	list_append(&ua->trash, &t->le, t);
	tmr_start(&ua->tmr_trash, 0, on_trash, ua);
}

/* --- bindings ------------------------------------------------------------ */

static void
creds_destructor(void *arg)
{
	struct creds *c = arg;

	mem_deref(c->user);
	mem_deref(c->pass);
}

static int
on_auth(char **username, char **password, const char *realm, void *arg)
{
	struct creds *c = arg;
	int err;

	/* sipreg resets its digest state before each challenge, so it would
	 * answer a rejected password again and again: the second challenge
	 * within one request is a wrong password. */
	if (++c->asked > 1)
		return EAUTH;

	(void)realm;
	err = str_dup(username, c->user);
	err |= str_dup(password, c->pass);

	return err;
}

static void
binding_destructor(void *arg)
{
	struct binding *b = arg;

	tmr_cancel(&b->tmr_attempt);
	mem_deref(b->reg);  /* un-REGISTERs if registered */
	mem_deref(b->creds);
}

static void handle_response(struct binding *b, int err,
			    const struct sip_msg *msg);

/* A dropped binding may still see libre callbacks until it is freed. */
static void
drop_binding(struct kefu_ua *ua, struct binding *b)
{
	if (!b)
		return;

	tmr_cancel(&b->tmr_attempt);
	b->acc = NULL;
	drop_later(ua, b);
}

static void
on_reg_response(int err, const struct sip_msg *msg, void *arg)
{
	struct binding *b = arg;

	if ((msg && msg->scode < 200) || !b->acc)
		return;

	handle_response(b, err, msg);
}

static void
on_attempt_timeout(void *arg)
{
	struct binding *b = arg;

	handle_response(b, ETIMEDOUT, NULL);
}

static int
binding_alloc(struct binding **bp, struct account *acc,
	      enum kefu_registrar which)
{
	struct binding *b;
	int err;

	b = mem_zalloc(sizeof(*b), binding_destructor);
	if (!b)
		return ENOMEM;

	b->acc = acc;
	b->which = which;
	tmr_init(&b->tmr_attempt);

	b->creds = mem_zalloc(sizeof(*b->creds), creds_destructor);
	if (!b->creds) {
		err = ENOMEM;
		goto out;
	}
	err = str_dup(&b->creds->user, acc->auth_user);
	err |= str_dup(&b->creds->pass, acc->password);
	if (err)
		goto out;

	err = sipreg_register(&b->reg, acc->ua->sip, acc->registrar[which],
			      acc->aor, NULL, acc->aor, acc->expires,
			      acc->cuser, NULL, 0, 0, on_auth, b->creds, true,
			      on_reg_response, b, NULL, NULL);
	if (err)
		goto out;

	tmr_start(&b->tmr_attempt, acc->timeout_ms, on_attempt_timeout, b);

 out:
	if (err)
		mem_deref(b);
	else
		*bp = b;

	return err;
}

/* --- account ------------------------------------------------------------- */

static bool
is_numeric_host(const char *uri)
{
	struct uri u;
	struct pl pl;
	struct sa sa;

	pl_set_str(&pl, uri);
	if (uri_decode(&u, &pl))
		return false;

	return 0 == sa_set(&sa, &u.host, 0);
}

static char *
failure_reason(const struct account *acc, enum kefu_registrar which, int err,
	       const struct sip_msg *msg)
{
	if (msg) {
		switch (msg->scode) {

		case 401:
		case 407:
			return g_strdup_printf("wrong password (%u)",
					       msg->scode);
		case 403:
			return g_strdup("forbidden (403)");
		default:
			return g_strdup_printf("%.*s (%u)",
					       (int)msg->reason.l,
					       msg->reason.p, msg->scode);
		}
	}

	switch (err) {

	case ETIMEDOUT:
		return g_strdup("timeout");
	case ECONNREFUSED:
		return g_strdup("connection refused");
	default:
		if (!is_numeric_host(acc->registrar[which]))
			return g_strdup_printf("cannot resolve %s: %s",
					       acc->registrar[which],
					       g_strerror(err));
		return g_strdup(g_strerror(err ? err : EPROTO));
	}
}

static int
start_binding(struct account *acc, enum kefu_registrar which)
{
	int err;

	err = binding_alloc(&acc->cur, acc, which);
	if (err) {
		g_autofree char *reason = failure_reason(acc, which, err,
							 NULL);

		report(acc, KEFU_REG_FAILED, which, 0, reason);
		return err;
	}

	report(acc, KEFU_REG_REGISTERING, which, 0, NULL);

	return 0;
}

static void
handle_response(struct binding *b, int err, const struct sip_msg *msg)
{
	struct account *acc = b->acc;
	bool ok = !err && msg && msg->scode < 300;
	bool server_gone;
	g_autofree char *reason = NULL;

	tmr_cancel(&b->tmr_attempt);
	b->creds->asked = 0;

	if (b == acc->fallback) {
		acc->fallback = NULL;

		if (ok) {
			/* primary is back: leave the backup (un-REGISTER) */
			drop_binding(acc->ua, acc->cur);
			acc->cur = b;
			report(acc, KEFU_REG_REGISTERED,
			       KEFU_REGISTRAR_PRIMARY, msg->scode, NULL);
		}
		else {
			g_debug("%s: primary not usable yet", acc->id);
			drop_binding(acc->ua, b);
			start_probe_timer(acc);
		}
		return;
	}

	if (b != acc->cur)
		return;

	if (ok) {
		report(acc, KEFU_REG_REGISTERED, b->which, msg->scode, NULL);
		if (b->which == KEFU_REGISTRAR_BACKUP &&
		    !tmr_isrunning(&acc->tmr_probe))
			start_probe_timer(acc);
		return;
	}

	/* this binding is finished either way: no endless retries */
	acc->cur = NULL;
	drop_binding(acc->ua, b);

	server_gone = !msg || msg->scode >= 500;
	if (server_gone && b->which == KEFU_REGISTRAR_PRIMARY &&
	    acc->registrar[KEFU_REGISTRAR_BACKUP]) {
		g_message("%s: primary registrar failed (%s), trying backup",
			  acc->id, msg ? "error response" : g_strerror(err));
		(void)start_binding(acc, KEFU_REGISTRAR_BACKUP);
		return;
	}

	reason = failure_reason(acc, b->which, err, msg);
	report(acc, KEFU_REG_FAILED, b->which, msg ? msg->scode : 0, reason);
}

/* Probes are stateless OPTIONS, one per interval: a silent primary then
 * leaves no transaction retransmitting into the registrar that replaces
 * it.  Answers come in through on_sip_response(). */
static void
on_probe_timer(void *arg)
{
	struct account *acc = arg;
	int err;

	if (!acc->cur || acc->cur->which != KEFU_REGISTRAR_BACKUP ||
	    acc->fallback)
		return;

	(void)re_snprintf(acc->probe_callid, sizeof(acc->probe_callid),
			  "%016llx", rand_u64());

	err = sip_requestf(NULL, acc->ua->sip, false, "OPTIONS",
			   acc->registrar[KEFU_REGISTRAR_PRIMARY], NULL, NULL,
			   NULL, NULL, NULL,
			   "To: <%s>\r\n"
			   "From: <%s>;tag=%016llx\r\n"
			   "Call-ID: %s\r\n"
			   "CSeq: 1 OPTIONS\r\n"
			   "Content-Length: 0\r\n"
			   "\r\n",
			   acc->registrar[KEFU_REGISTRAR_PRIMARY], acc->aor,
			   rand_u64(), acc->probe_callid);
	if (err)
		g_debug("%s: probe: %s", acc->id, g_strerror(err));

	start_probe_timer(acc);
}

static void
on_probe_answer(struct account *acc)
{
	acc->probe_callid[0] = '\0';

	if (acc->fallback || !acc->cur ||
	    acc->cur->which != KEFU_REGISTRAR_BACKUP)
		return;

	g_message("%s: primary registrar answers again", acc->id);
	tmr_cancel(&acc->tmr_probe);
	if (binding_alloc(&acc->fallback, acc, KEFU_REGISTRAR_PRIMARY))
		start_probe_timer(acc);
}

static void
start_probe_timer(struct account *acc)
{
	tmr_start(&acc->tmr_probe, acc->probe_ms, on_probe_timer, acc);
}

static void
account_destructor(void *arg)
{
	struct account *acc = arg;

	list_unlink(&acc->le);
	tmr_cancel(&acc->tmr_probe);
	mem_deref(acc->fallback);

	if (acc->cur) {
		enum kefu_registrar which = acc->cur->which;

		acc->cur = mem_deref(acc->cur);  /* sends expires=0 */
		report(acc, KEFU_REG_UNREGISTERED, which, 0, NULL);
	}

	mem_deref(acc->id);
	mem_deref(acc->aor);
	mem_deref(acc->cuser);
	mem_deref(acc->registrar[0]);
	mem_deref(acc->registrar[1]);
	mem_deref(acc->auth_user);
	mem_deref(acc->password);
}

static struct account *
account_find(const struct kefu_ua *ua, const char *id)
{
	struct le *le;

	for (le = ua->accounts.head; le; le = le->next) {
		struct account *acc = le->data;

		if (0 == str_cmp(acc->id, id))
			return acc;
	}

	return NULL;
}

/**
 * Add an account and start registering it (phone thread).  Progress and
 * result arrive as events on the UI context.
 *
 * @return 0 if success, EALREADY for a known id, otherwise errorcode
 */
int
kefu_ua_register(struct kefu_ua *ua, const struct kefu_account_config *cfg)
{
	struct account *acc;
	struct sip_addr addr;
	struct pl pl;
	int err;

	if (!ua || !cfg || !cfg->id || !cfg->aor || !cfg->registrar ||
	    !cfg->password)
		return EINVAL;

	if (account_find(ua, cfg->id))
		return EALREADY;

	pl_set_str(&pl, cfg->aor);
	/* "sip:1001@host" or "Name <sip:1001@host>" */
	if (uri_decode(&addr.uri, &pl) || !pl_isset(&addr.uri.user)) {
		if (sip_addr_decode(&addr, &pl) ||
		    !pl_isset(&addr.uri.user))
			return EINVAL;
	}

	acc = mem_zalloc(sizeof(*acc), account_destructor);
	if (!acc)
		return ENOMEM;

	acc->ua = ua;
	tmr_init(&acc->tmr_probe);
	acc->expires = cfg->expires ? cfg->expires : DEFAULT_EXPIRES;
	acc->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms
		: DEFAULT_TIMEOUT_MS;
	acc->probe_ms = cfg->probe_interval_ms ? cfg->probe_interval_ms
		: DEFAULT_PROBE_MS;

	err = str_dup(&acc->id, cfg->id);
	err |= str_dup(&acc->aor, cfg->aor);
	err |= pl_strdup(&acc->cuser, &addr.uri.user);
	err |= str_dup(&acc->registrar[0], cfg->registrar);
	if (cfg->backup_registrar && *cfg->backup_registrar)
		err |= str_dup(&acc->registrar[1], cfg->backup_registrar);
	if (cfg->auth_user && *cfg->auth_user)
		err |= str_dup(&acc->auth_user, cfg->auth_user);
	else
		err |= pl_strdup(&acc->auth_user, &addr.uri.user);
	err |= str_dup(&acc->password, cfg->password);
	if (err) {
		mem_deref(acc);
		return err;
	}

	list_append(&ua->accounts, &acc->le, acc);

	/* a failure here is reported as an event; the account stays until
	 * it is unregistered */
	(void)start_binding(acc, KEFU_REGISTRAR_PRIMARY);

	return 0;
}

/**
 * Remove an account (phone thread); a registered account sends a REGISTER
 * with expires=0 first.
 */
int
kefu_ua_unregister(struct kefu_ua *ua, const char *account_id)
{
	struct account *acc;

	if (!ua || !account_id)
		return EINVAL;

	acc = account_find(ua, account_id);
	if (!acc)
		return ENOENT;

	mem_deref(acc);
	return 0;
}

/* --- user agent ---------------------------------------------------------- */

static bool
on_sip_response(const struct sip_msg *msg, void *arg)
{
	struct kefu_ua *ua = arg;
	struct le *le;

	if (pl_strcmp(&msg->cseq.met, "OPTIONS"))
		return false;

	for (le = ua->accounts.head; le; le = le->next) {
		struct account *acc = le->data;

		if (acc->probe_callid[0] &&
		    0 == pl_strcmp(&msg->callid, acc->probe_callid)) {
			on_probe_answer(acc);
			return true;
		}
	}

	return false;
}

static bool
still_leaving(struct le *le, void *arg)
{
	struct trash *t = le->data;
	(void)arg;

	return mem_nrefs(t->obj) > 1;
}

static void
on_leaving_check(void *arg)
{
	struct kefu_ua *ua = arg;

	if (list_apply(&ua->leaving, true, still_leaving, NULL)) {
		tmr_start(&ua->tmr_leaving, 20, on_leaving_check, ua);
		return;
	}

	list_flush(&ua->leaving);
	if (ua->holding) {
		ua->holding = false;
		kefu_phone_loop_release(ua->loop);
	}
}

static void
on_loop_stop(struct kefu_phone_loop *loop, void *arg)
{
	struct kefu_ua *ua = arg;
	struct le *le;

	/* Wait for the un-REGISTERs only.  Abandoned requests to a silent
	 * registrar would keep the SIP stack busy until timer F (32 s); the
	 * destructor cuts them off. */
	for (le = ua->accounts.head; le; le = le->next) {
		struct account *acc = le->data;
		struct trash *t;

		if (!acc->cur || !sipreg_registered(acc->cur->reg))
			continue;

		t = mem_zalloc(sizeof(*t), trash_destructor);
		if (!t)
			continue;
		/* the sipreg's sip_auth holds the credentials until the
		 * sipreg is gone, that is, until the un-REGISTER ended */
		t->obj = mem_ref(acc->cur->creds);
		list_append(&ua->leaving, &t->le, t);
	}

	list_flush(&ua->accounts);  /* sends the un-REGISTERs */
	list_flush(&ua->trash);

	if (!list_isempty(&ua->leaving)) {
		ua->holding = true;
		kefu_phone_loop_hold(loop);
		tmr_start(&ua->tmr_leaving, 20, on_leaving_check, ua);
	}
}

static void
ua_destructor(void *arg)
{
	struct kefu_ua *ua = arg;

	list_flush(&ua->accounts);
	ua->lsnr = mem_deref(ua->lsnr);
	tmr_cancel(&ua->tmr_trash);
	list_flush(&ua->trash);

	tmr_cancel(&ua->tmr_leaving);
	ua->holding = false;

	/* Whatever is still pending after the stop timeout ends here.  A
	 * registered sipreg answers an aborted un-REGISTER by sending it
	 * again; without transports that fails and it lets go of the stack. */
	list_flush(&ua->leaving);
	sip_transp_flush(ua->sip);
	sip_close(ua->sip, true);
	mem_deref(ua->sip);
	mem_deref(ua->dnsc);
	mem_deref(ua->tls);
}

static int
add_transports(struct kefu_ua *ua, const struct kefu_ua_config *cfg)
{
	const char *laddr = cfg->laddr && *cfg->laddr ? cfg->laddr
		: "127.0.0.1";
	struct sa sa;
	int err;

	err = sa_set_str(&sa, laddr, cfg->udp_port);
	if (err)
		return err;
	err = sip_transp_add(ua->sip, SIP_TRANSP_UDP, &sa);
	if (err)
		return err;

	sa_set_port(&sa, cfg->tcp_port);
	err = sip_transp_add(ua->sip, SIP_TRANSP_TCP, &sa);
	if (err)
		return err;

	if (cfg->tls_cert && *cfg->tls_cert) {
		/* TODO: certificate verification of the registrar (CA list,
		 * host name) before TLS is offered to agents. */
		err = tls_alloc(&ua->tls, TLS_METHOD_SSLV23, cfg->tls_cert,
				NULL);
		if (err)
			return err;

		sa_set_port(&sa, cfg->tls_port);
		err = sip_transp_add(ua->sip, SIP_TRANSP_TLS, &sa, ua->tls);
	}

	return err;
}

/**
 * Create the SIP user agent (phone thread).  The loop owns it: *uap stays
 * valid on the phone thread until the loop stops, which un-REGISTERs every
 * account and frees the UA.
 */
int
kefu_ua_alloc(struct kefu_ua **uap, struct kefu_phone_loop *loop,
	      const struct kefu_ua_config *cfg)
{
	struct sa dnsv[8];
	uint32_t dnsc_n = G_N_ELEMENTS(dnsv);
	char domain[64] = "";
	g_autofree char *software = NULL;
	struct kefu_ua *ua;
	int err;

	if (!uap || !loop || !cfg)
		return EINVAL;

	ua = mem_zalloc(sizeof(*ua), ua_destructor);
	if (!ua)
		return ENOMEM;

	ua->loop = loop;
	ua->eventh = cfg->eventh;
	ua->arg = cfg->arg;
	tmr_init(&ua->tmr_trash);
	tmr_init(&ua->tmr_leaving);

	if (dns_srv_get(domain, sizeof(domain), dnsv, &dnsc_n) || !dnsc_n) {
		g_debug("no DNS server configured; only numeric hosts work");
		dnsc_n = 0;
	}

	err = dnsc_alloc(&ua->dnsc, NULL, dnsv, dnsc_n);
	if (err)
		goto out;

	software = cfg->user_agent ? g_strdup(cfg->user_agent)
		: g_strdup("Kefu/" PACKAGE_VERSION);
	err = sip_alloc(&ua->sip, ua->dnsc, 32, 32, 32, software,
			NULL, NULL);
	if (err)
		goto out;

	err = add_transports(ua, cfg);
	if (err)
		goto out;

	err = sip_listen(&ua->lsnr, ua->sip, false, on_sip_response, ua);
	if (err)
		goto out;

	err = kefu_phone_loop_add_stop_handler(loop, on_loop_stop, ua);

 out:
	if (!err)
		*uap = ua;
	mem_deref(ua);  /* on success the loop holds it */

	return err;
}

/** Local port of one transport (SIP_TRANSP_UDP, _TCP, _TLS). */
int
kefu_ua_local_port(const struct kefu_ua *ua, int sip_transp, uint16_t *port)
{
	struct sa la;
	int err;

	if (!ua || !port)
		return EINVAL;

	err = sip_transp_laddr(ua->sip, &la, (enum sip_transp)sip_transp,
			       NULL);
	if (!err)
		*port = sa_port(&la);

	return err;
}

/** The SIP stack, for the call sessions (phone thread). */
struct sip *
kefu_ua_sip(const struct kefu_ua *ua)
{
	return ua ? ua->sip : NULL;
}

/** Which account an incoming request for @user is for (phone thread). */
const char *
kefu_ua_account_for_user(const struct kefu_ua *ua, const char *user)
{
	struct le *le;

	if (!ua || !user)
		return NULL;

	for (le = ua->accounts.head; le; le = le->next) {
		const struct account *acc = le->data;

		if (0 == str_cmp(acc->cuser, user))
			return acc->id;
	}

	return NULL;
}

/** An account's identity for placing calls (phone thread). */
int
kefu_ua_account_identity(const struct kefu_ua *ua, const char *account_id,
			 const char **aor, const char **cuser,
			 const char **auth_user, const char **password)
{
	const struct account *acc;

	if (!ua || !account_id)
		return EINVAL;

	acc = account_find(ua, account_id);
	if (!acc)
		return ENOENT;

	if (aor)
		*aor = acc->aor;
	if (cuser)
		*cuser = acc->cuser;
	if (auth_user)
		*auth_user = acc->auth_user;
	if (password)
		*password = acc->password;

	return 0;
}
