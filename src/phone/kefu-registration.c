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
 *
 * A failed account keeps no binding: its retry timer starts a new one at
 * the primary.  TLS server certificates are checked in on_tls_verify():
 * libre 1.1's SIP transport leaves verification off and gives no access to
 * its connections, so the check hangs on the shared OpenSSL context.
 */
#define G_LOG_DOMAIN "KefuRegistration"

#include "config.h"

#include "kefu-registration.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

/* libre 1.1's headers take the platform from macros its own build sets;
 * these match Debian's build (struct sa, bool and the integer types). */
#define HAVE_INTTYPES_H 1
#define HAVE_STDBOOL_H 1
#define HAVE_INET6 1
/* for tls_openssl_context(): Debian's libre is built with OpenSSL */
#define USE_OPENSSL 1
#include <re.h>

enum {
	DEFAULT_EXPIRES = 3600,
	DEFAULT_TIMEOUT_MS = 32000,      /* RFC 3261 timer F */
	DEFAULT_PROBE_MS = 30000,
	DEFAULT_RETRY_MIN_MS = 5000,
	DEFAULT_RETRY_MAX_MS = 300000,
	TLS_VERIFY_DEPTH = 8,            /* leaf, intermediates, root */
	TLS_ERROR_FRESH_MS = 40000,      /* a failure this old explains nothing */
	MAX_TLS_HOSTS = 64,
	REREGISTER_WAIT_MS = 3000,       /* for the old binding's un-REGISTER */
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

	struct sip_lsnr *lsnr_req;       /* notes the hosts of TLS peers */
	struct list tls_hosts;           /* struct tls_host, newest last */
	char tls_error[200];             /* last refused server certificate */
	/* TLS starts when first needed (a certificate of ours, a TLS
	 * registrar or call): OpenSSL's set-up costs megabytes */
	char *tls_cert;
	char *tls_ca_file;
	bool tls_insecure;
	struct sa tls_laddr;
	int tls_err;                     /* set-up failed: not tried again */
	uint64_t tls_error_time;
};

static int ua_use_tls(struct kefu_ua *ua);

/* A host we reach over TLS: its certificate must name it. */
struct tls_host {
	struct le le;
	char *host;
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
	char *dtmf_mode;                 /* NULL: the phone's */
	enum kefu_sip_transport tp;
	bool srtp;                       /* calls require SRTP (TLS only) */
	uint32_t expires;
	uint32_t timeout_ms;
	uint32_t probe_ms;
	uint32_t retry_min_ms;
	uint32_t retry_max_ms;

	uint32_t retry_ms;               /* last wait before a retry; 0: none yet */
	struct tmr tmr_retry;            /* a new attempt after a failure */
	struct creds *leaving_creds;     /* the old binding's, un-REGISTERing */
	uint64_t leaving_since;

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
static int start_binding(struct account *acc, enum kefu_registrar which);
static void tls_host_add(struct kefu_ua *ua, const struct pl *host);

static int ssl_ctx_ua_index = -1;  /* SSL_CTX ex_data: the kefu_ua */

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

const char *
kefu_transport_name(enum kefu_sip_transport tp)
{
	switch (tp) {

	case KEFU_SIP_TRANSPORT_UDP: return "udp";
	case KEFU_SIP_TRANSPORT_TCP: return "tcp";
	case KEFU_SIP_TRANSPORT_TLS: return "tls";
	}

	return "?";
}

bool
kefu_transport_from_name(const char *name, enum kefu_sip_transport *tp)
{
	static const enum kefu_sip_transport all[] = {
		KEFU_SIP_TRANSPORT_UDP, KEFU_SIP_TRANSPORT_TCP, KEFU_SIP_TRANSPORT_TLS,
	};

	for (size_t i = 0; name && i < G_N_ELEMENTS(all); i++) {
		if (0 == g_ascii_strcasecmp(name, kefu_transport_name(all[i]))) {
			if (tp)
				*tp = all[i];
			return true;
		}
	}

	return false;
}

bool
kefu_dtmf_mode_is_valid(const char *mode)
{
	static const char *const modes[] = {
		"rfc4733", "info", "inband", "auto", NULL
	};

	return mode && g_strv_contains(modes, mode);
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
report_retry(struct account *acc, enum kefu_reg_state state,
	     enum kefu_registrar registrar, uint16_t scode,
	     const char *reason, uint32_t retry_in_s)
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
	pe->ev.transport = acc->tp;
	pe->ev.retry_in_s = retry_in_s;
	pe->eventh = acc->ua->eventh;
	pe->arg = acc->ua->arg;

	kefu_phone_loop_post(acc->ua->loop, deliver_event, pe, free_event);
}

static void
report(struct account *acc, enum kefu_reg_state state,
       enum kefu_registrar registrar, uint16_t scode, const char *reason)
{
	report_retry(acc, state, registrar, scode, reason, 0);
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
uri_host(const char *uri, struct pl *host, struct uri *u)
{
	struct pl pl;

	pl_set_str(&pl, uri);
	if (uri_decode(u, &pl))
		return false;

	*host = u->host;
	return pl_isset(host);
}

static bool
is_numeric_host(const char *uri)
{
	struct uri u;
	struct pl host;
	struct sa sa;

	if (!uri_host(uri, &host, &u))
		return false;

	return 0 == sa_set(&sa, &host, 0);
}

static bool
tls_error_is_fresh(const struct kefu_ua *ua)
{
	return ua->tls_error[0] &&
		tmr_jiffies() - ua->tls_error_time < TLS_ERROR_FRESH_MS;
}

static char *
failure_reason(const struct account *acc, enum kefu_registrar which, int err,
	       const struct sip_msg *msg)
{
	const char *registrar = acc->registrar[which];

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

	if (acc->tp == KEFU_SIP_TRANSPORT_TLS && err != ETIMEDOUT &&
	    tls_error_is_fresh(acc->ua))
		return g_strdup_printf("TLS: %s", acc->ua->tls_error);

	switch (err) {

	case ETIMEDOUT:
		return g_strdup("timeout");
	case ECONNREFUSED:
		return g_strdup("connection refused");
	case EPROTONOSUPPORT:
		return g_strdup_printf("transport %s not available",
				       kefu_transport_name(acc->tp));
	default:
		if (!is_numeric_host(registrar)) {
			struct uri u;
			struct pl host = PL_INIT;

			(void)uri_host(registrar, &host, &u);
			/* libre's resolver ends an unknown name this way */
			if (err == EDESTADDRREQ)
				return g_strdup_printf("DNS: no such host (%.*s)",
						       (int)host.l, host.p);
			return g_strdup_printf("DNS: cannot resolve %.*s: %s",
					       (int)host.l, host.p,
					       g_strerror(err ? err : EPROTO));
		}
		return g_strdup(g_strerror(err ? err : EPROTO));
	}
}

/* Worth asking again by ourselves: the registrar or the way to it may come
 * back.  A refused password is not: every attempt would count against the
 * account at the registrar. */
static bool
is_transient(int err, const struct sip_msg *msg)
{
	(void)err;

	if (!msg)
		return true;

	return msg->scode >= 500 || msg->scode == 408 || msg->scode == 480;
}

static void
on_retry(void *arg)
{
	struct account *acc = arg;

	if (acc->cur || acc->fallback)
		return;

	g_debug("%s: trying again", acc->id);
	(void)start_binding(acc, KEFU_REGISTRAR_PRIMARY);
}

/* 5 s, then twice as long each time, up to 5 min; 0 ms: no retry */
static uint32_t
schedule_retry(struct account *acc)
{
	uint32_t ms;

	if (!acc->retry_ms)
		ms = acc->retry_min_ms;
	else if (acc->retry_ms >= acc->retry_max_ms / 2)
		ms = acc->retry_max_ms;
	else
		ms = acc->retry_ms * 2;

	acc->retry_ms = ms;
	tmr_start(&acc->tmr_retry, ms, on_retry, acc);

	return ms;
}

/* The account has no binding left: say why, and when it tries again. */
static void
account_failed(struct account *acc, enum kefu_registrar which, int err,
	       const struct sip_msg *msg)
{
	g_autofree char *reason = failure_reason(acc, which, err, msg);
	uint32_t retry_ms = 0;

	if (is_transient(err, msg))
		retry_ms = schedule_retry(acc);

	report_retry(acc, KEFU_REG_FAILED, which, msg ? msg->scode : 0,
		     reason, (retry_ms + 999) / 1000);
}

static int
start_binding(struct account *acc, enum kefu_registrar which)
{
	int err;

	tmr_cancel(&acc->tmr_retry);

	err = binding_alloc(&acc->cur, acc, which);
	if (err) {
		acc->cur = NULL;
		account_failed(acc, which, err, NULL);
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
		acc->retry_ms = 0;
		report(acc, KEFU_REG_REGISTERED, b->which, msg->scode, NULL);
		if (b->which == KEFU_REGISTRAR_BACKUP &&
		    !tmr_isrunning(&acc->tmr_probe))
			start_probe_timer(acc);
		return;
	}

	/* this binding is finished either way: the retry timer, if any,
	 * starts a new one */
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

	account_failed(acc, b->which, err, msg);
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
account_clear_config(struct account *acc)
{
	acc->aor = mem_deref(acc->aor);
	acc->cuser = mem_deref(acc->cuser);
	acc->registrar[0] = mem_deref(acc->registrar[0]);
	acc->registrar[1] = mem_deref(acc->registrar[1]);
	acc->auth_user = mem_deref(acc->auth_user);
	acc->password = mem_deref(acc->password);
	acc->dtmf_mode = mem_deref(acc->dtmf_mode);
}

static void
account_destructor(void *arg)
{
	struct account *acc = arg;

	list_unlink(&acc->le);
	tmr_cancel(&acc->tmr_probe);
	tmr_cancel(&acc->tmr_retry);
	mem_deref(acc->fallback);
	mem_deref(acc->leaving_creds);

	if (acc->cur) {
		enum kefu_registrar which = acc->cur->which;

		acc->cur = mem_deref(acc->cur);  /* sends expires=0 */
		report(acc, KEFU_REG_UNREGISTERED, which, 0, NULL);
	}

	mem_deref(acc->id);
	account_clear_config(acc);
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

/* The transport a URI asks for: sips: or ;transport=, else none. */
static bool
uri_transport(const struct uri *u, enum kefu_sip_transport *tp)
{
	struct pl pl;
	char name[8];

	if (0 == pl_strcasecmp(&u->scheme, "sips")) {
		*tp = KEFU_SIP_TRANSPORT_TLS;
		return true;
	}

	if (msg_param_decode(&u->params, "transport", &pl) ||
	    pl.l >= sizeof(name))
		return false;

	(void)pl_strcpy(&pl, name, sizeof(name));

	return kefu_transport_from_name(name, tp);
}

char *
kefu_ua_request_uri(struct kefu_ua *ua, const char *uri,
		    enum kefu_sip_transport tp)
{
	struct uri u;
	struct pl pl;
	enum kefu_sip_transport uri_tp = tp;
	bool named, sips;
	const char *rest, *headers;
	GString *out;

	if (!uri)
		return NULL;

	pl_set_str(&pl, uri);
	if (uri_decode(&u, &pl) || !pl_isset(&u.host))
		return NULL;

	sips = 0 == pl_strcasecmp(&u.scheme, "sips");
	if (!sips && pl_strcasecmp(&u.scheme, "sip"))
		return NULL;

	named = !msg_param_decode(&u.params, "transport", &pl);
	if (named || sips)
		(void)uri_transport(&u, &uri_tp);

	rest = strchr(uri, ':') + 1;
	headers = strchr(rest, '?');
	out = g_string_new("sip:");
	g_string_append_len(out, rest,
			    headers ? headers - rest : (gssize)strlen(rest));
	if (!named && uri_tp != KEFU_SIP_TRANSPORT_UDP)
		g_string_append_printf(out, ";transport=%s",
				       kefu_transport_name(uri_tp));
	if (headers)
		g_string_append(out, headers);

	if (ua && uri_tp == KEFU_SIP_TRANSPORT_TLS) {
		(void)ua_use_tls(ua);
		tls_host_add(ua, &u.host);
	}

	return g_string_free(out, false);
}

/* Copies cfg into acc (the previous configuration is released). */
static int
account_configure(struct account *acc, const struct kefu_account_config *cfg)
{
	struct sip_addr addr;
	struct uri u;
	struct pl pl;
	g_autofree char *registrar = NULL;
	g_autofree char *backup = NULL;
	enum kefu_sip_transport old_tp = acc->tp;
	int err;

	if (!cfg->aor || !cfg->registrar || !cfg->password)
		return EINVAL;
	if (cfg->dtmf_mode && !kefu_dtmf_mode_is_valid(cfg->dtmf_mode))
		return EINVAL;

	pl_set_str(&pl, cfg->aor);
	/* "sip:1001@host" or "Name <sip:1001@host>" */
	if (uri_decode(&addr.uri, &pl) || !pl_isset(&addr.uri.user)) {
		if (sip_addr_decode(&addr, &pl) ||
		    !pl_isset(&addr.uri.user))
			return EINVAL;
	}

	if (cfg->transport && *cfg->transport) {
		if (!kefu_transport_from_name(cfg->transport, &acc->tp))
			return EINVAL;
	}
	else {
		pl_set_str(&pl, cfg->registrar);
		acc->tp = KEFU_SIP_TRANSPORT_UDP;
		if (!uri_decode(&u, &pl))
			(void)uri_transport(&u, &acc->tp);
	}

	/* SDES keys travel in the SDP: over plain SIP anyone on the path
	 * could read them */
	if (cfg->srtp && acc->tp != KEFU_SIP_TRANSPORT_TLS) {
		acc->tp = old_tp;
		return EPROTONOSUPPORT;
	}

	registrar = kefu_ua_request_uri(acc->ua, cfg->registrar, acc->tp);
	if (!registrar)
		return EINVAL;
	if (cfg->backup_registrar && *cfg->backup_registrar) {
		backup = kefu_ua_request_uri(acc->ua, cfg->backup_registrar,
					     acc->tp);
		if (!backup)
			return EINVAL;
	}

	account_clear_config(acc);

	acc->srtp = cfg->srtp;
	acc->expires = cfg->expires ? cfg->expires : DEFAULT_EXPIRES;
	acc->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms
		: DEFAULT_TIMEOUT_MS;
	acc->probe_ms = cfg->probe_interval_ms ? cfg->probe_interval_ms
		: DEFAULT_PROBE_MS;
	acc->retry_min_ms = cfg->retry_min_ms ? cfg->retry_min_ms
		: DEFAULT_RETRY_MIN_MS;
	acc->retry_max_ms = cfg->retry_max_ms ? cfg->retry_max_ms
		: DEFAULT_RETRY_MAX_MS;
	if (acc->retry_max_ms < acc->retry_min_ms)
		acc->retry_max_ms = acc->retry_min_ms;

	err = str_dup(&acc->aor, cfg->aor);
	err |= pl_strdup(&acc->cuser, &addr.uri.user);
	err |= str_dup(&acc->registrar[0], registrar);
	if (backup)
		err |= str_dup(&acc->registrar[1], backup);
	if (cfg->auth_user && *cfg->auth_user)
		err |= str_dup(&acc->auth_user, cfg->auth_user);
	else
		err |= pl_strdup(&acc->auth_user, &addr.uri.user);
	err |= str_dup(&acc->password, cfg->password);
	if (cfg->dtmf_mode && *cfg->dtmf_mode)
		err |= str_dup(&acc->dtmf_mode, cfg->dtmf_mode);

	return err ? ENOMEM : 0;
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
	int err;

	if (!ua || !cfg || !cfg->id)
		return EINVAL;

	if (account_find(ua, cfg->id))
		return EALREADY;

	acc = mem_zalloc(sizeof(*acc), account_destructor);
	if (!acc)
		return ENOMEM;

	acc->ua = ua;
	tmr_init(&acc->tmr_probe);
	tmr_init(&acc->tmr_retry);

	err = str_dup(&acc->id, cfg->id);
	if (!err)
		err = account_configure(acc, cfg);
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

/* The old binding's un-REGISTER must reach the registrar before the new
 * REGISTER: both name the same contact, and a late expires=0 would remove
 * the new one.  Its credentials live as long as its sipreg. */
static void
on_reregister_check(void *arg)
{
	struct account *acc = arg;

	if (acc->leaving_creds && mem_nrefs(acc->leaving_creds) > 1 &&
	    tmr_jiffies() - acc->leaving_since < REREGISTER_WAIT_MS) {
		tmr_start(&acc->tmr_retry, 20, on_reregister_check, acc);
		return;
	}

	acc->leaving_creds = mem_deref(acc->leaving_creds);
	(void)start_binding(acc, KEFU_REGISTRAR_PRIMARY);
}

/**
 * Change an account's configuration (phone thread) and register it again
 * at once, whatever state it was in.
 *
 * @return 0 if success, ENOENT for an unknown id, otherwise errorcode
 */
int
kefu_ua_account_update(struct kefu_ua *ua,
		       const struct kefu_account_config *cfg)
{
	struct account *acc;
	struct binding *old;
	int err;

	if (!ua || !cfg || !cfg->id)
		return EINVAL;

	acc = account_find(ua, cfg->id);
	if (!acc)
		return ENOENT;

	err = account_configure(acc, cfg);
	if (err)
		return err;

	tmr_cancel(&acc->tmr_probe);
	tmr_cancel(&acc->tmr_retry);
	acc->retry_ms = 0;
	acc->probe_callid[0] = '\0';
	drop_binding(ua, acc->fallback);
	acc->fallback = NULL;

	old = acc->cur;
	acc->cur = NULL;
	if (old && sipreg_registered(old->reg)) {
		acc->leaving_creds = mem_deref(acc->leaving_creds);
		acc->leaving_creds = mem_ref(old->creds);
		acc->leaving_since = tmr_jiffies();
		drop_binding(ua, old);
		report(acc, KEFU_REG_REGISTERING, KEFU_REGISTRAR_PRIMARY, 0,
		       NULL);
		tmr_start(&acc->tmr_retry, 20, on_reregister_check, acc);
		return 0;
	}

	drop_binding(ua, old);
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

/* --- TLS: whose certificates we accept ----------------------------------- */

static void
tls_host_destructor(void *arg)
{
	struct tls_host *th = arg;

	list_unlink(&th->le);
	mem_deref(th->host);
}

/* Remembers a host reached over TLS (newest last, the oldest forgotten). */
static void
tls_host_add(struct kefu_ua *ua, const struct pl *host)
{
	struct tls_host *th;
	struct le *le;

	for (le = ua->tls_hosts.head; le; le = le->next) {
		th = le->data;
		if (0 == pl_strcasecmp(host, th->host)) {
			list_unlink(&th->le);
			list_append(&ua->tls_hosts, &th->le, th);
			return;
		}
	}

	if (list_count(&ua->tls_hosts) >= MAX_TLS_HOSTS)
		mem_deref(list_ledata(ua->tls_hosts.head));

	th = mem_zalloc(sizeof(*th), tls_host_destructor);
	if (!th)
		return;
	if (pl_strdup(&th->host, host)) {
		mem_deref(th);
		return;
	}
	list_append(&ua->tls_hosts, &th->le, th);
}

static bool
cert_names_host(X509 *cert, const char *host)
{
	struct sa sa;

	if (0 == sa_set_str(&sa, host, 0))
		return 1 == X509_check_ip_asc(cert, host, 0);

	return 1 == X509_check_host(cert, host, 0, 0, NULL);
}

/* The verification callback sees neither the connection's address nor the
 * name it was opened for (libre keeps both), so the certificate must name
 * one of the hosts this phone reaches over TLS. */
static bool
cert_names_tls_host(const struct kefu_ua *ua, X509 *cert)
{
	struct le *le;

	for (le = ua->accounts.head; le; le = le->next) {
		const struct account *acc = le->data;

		if (acc->tp != KEFU_SIP_TRANSPORT_TLS)
			continue;
		for (int i = 0; i < 2; i++) {
			struct uri u;
			struct pl host;
			char name[256];

			if (!acc->registrar[i] ||
			    !uri_host(acc->registrar[i], &host, &u))
				continue;
			(void)pl_strcpy(&host, name, sizeof(name));
			if (cert_names_host(cert, name))
				return true;
		}
	}

	for (le = ua->tls_hosts.head; le; le = le->next) {
		const struct tls_host *th = le->data;

		if (cert_names_host(cert, th->host))
			return true;
	}

	return false;
}

static void
note_tls_error(struct kefu_ua *ua, X509 *cert, const char *what)
{
	char subject[96] = "";

	if (cert)
		X509_NAME_oneline(X509_get_subject_name(cert), subject,
				  sizeof(subject));

	(void)re_snprintf(ua->tls_error, sizeof(ua->tls_error),
			  "server certificate %s%s%s%s", what,
			  subject[0] ? " (" : "", subject,
			  subject[0] ? ")" : "");
	ua->tls_error_time = tmr_jiffies();
	g_message("TLS: %s", ua->tls_error);
}

static int
on_tls_verify(int ok, X509_STORE_CTX *store)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(store,
				SSL_get_ex_data_X509_STORE_CTX_idx());
	struct kefu_ua *ua;
	X509 *cert = X509_STORE_CTX_get_current_cert(store);
	g_autofree char *what = NULL;

	if (!ssl)
		return ok;

	/* as a server we ask for no client certificate: any will do */
	if (SSL_is_server(ssl))
		return 1;

	ua = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ssl_ctx_ua_index);
	if (!ua)
		return ok;

	if (!ok) {
		int err = X509_STORE_CTX_get_error(store);

		what = g_strdup_printf("not trusted: %s",
				       X509_verify_cert_error_string(err));
		note_tls_error(ua, cert, what);
		return 0;
	}

	if (X509_STORE_CTX_get_error_depth(store) > 0)
		return 1;

	if (!cert_names_tls_host(ua, cert)) {
		note_tls_error(ua, cert, "is for another host");
		return 0;
	}

	return 1;
}

/* OPTIONS pings, and the hosts of TLS peers: a peer that reaches us over
 * TLS gets its in-dialog requests over a TLS connection we open to its
 * Contact, so that host is one we reach. */
static bool
on_sip_request(const struct sip_msg *msg, void *arg)
{
	struct kefu_ua *ua = arg;
	const struct sip_hdr *hdr;
	struct sip_addr addr;

	/* A PBX pings its phones with OPTIONS to see that they are up;
	 * outside a dialog we answer what we can do. */
	if (0 == pl_strcmp(&msg->met, "OPTIONS") && !pl_isset(&msg->to.tag)) {
		(void)sip_treplyf(NULL, NULL, ua->sip, msg, false, 200, "OK",
				  "%s"
				  "Accept: application/sdp\r\n"
				  "Content-Length: 0\r\n"
				  "\r\n", KEFU_SIP_ALLOW);
		return true;
	}

	if (msg->tp != SIP_TRANSP_TLS)
		return false;

	hdr = sip_msg_hdr(msg, SIP_HDR_CONTACT);
	if (hdr && 0 == sip_addr_decode(&addr, &hdr->val))
		tls_host_add(ua, &addr.uri.host);

	return false;
}

static int
tls_setup(struct kefu_ua *ua)
{
	SSL_CTX *ctx;
	int err;

	err = tls_alloc(&ua->tls, TLS_METHOD_SSLV23, ua->tls_cert, NULL);
	if (err) {
		g_warning("TLS certificate %s: %s",
			  ua->tls_cert ? ua->tls_cert : "(none)",
			  g_strerror(err));
		return err;
	}

	ctx = tls_openssl_context(ua->tls);
	if (!ctx)
		return ENOSYS;

	SSL_CTX_set_verify_depth(ctx, TLS_VERIFY_DEPTH);

	if (ua->tls_insecure) {
		g_warning("TLS server certificates are not checked");
		return 0;
	}

	if (ua->tls_ca_file) {
		err = tls_add_ca(ua->tls, ua->tls_ca_file);
		if (err) {
			g_warning("TLS CA file %s: %s", ua->tls_ca_file,
				  g_strerror(err));
			return err;
		}
	}
	/* The system's CAs from the hashed directory, looked up when a
	 * certificate names its issuer: loading the whole bundle here would
	 * cost every phone over a megabyte, TLS or not. */
	if (1 != SSL_CTX_set_default_verify_dir(ctx))
		g_debug("no system CA certificates");

	if (ssl_ctx_ua_index < 0)
		ssl_ctx_ua_index = SSL_CTX_get_ex_new_index(0, NULL, NULL,
							    NULL, NULL);
	if (ssl_ctx_ua_index < 0)
		return ENOMEM;

	SSL_CTX_set_ex_data(ctx, ssl_ctx_ua_index, ua);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, on_tls_verify);

	return 0;
}

/* The TLS transport, set up on first use; 0 when it is there. */
static int
ua_use_tls(struct kefu_ua *ua)
{
	if (ua->tls || ua->tls_err)
		return ua->tls_err;

	ua->tls_err = tls_setup(ua);
	if (!ua->tls_err)
		ua->tls_err = sip_transp_add(ua->sip, SIP_TRANSP_TLS,
					     &ua->tls_laddr, ua->tls);
	if (ua->tls_err)
		g_warning("TLS: %s", g_strerror(ua->tls_err));

	return ua->tls_err;
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
	ua->lsnr_req = mem_deref(ua->lsnr_req);
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
	if (ua->tls && ssl_ctx_ua_index >= 0 && tls_openssl_context(ua->tls))
		SSL_CTX_set_ex_data(tls_openssl_context(ua->tls),
				    ssl_ctx_ua_index, NULL);
	mem_deref(ua->tls);
	mem_deref(ua->tls_cert);
	mem_deref(ua->tls_ca_file);
	list_flush(&ua->tls_hosts);
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

	sa_set_port(&sa, cfg->tls_port);
	sa_cpy(&ua->tls_laddr, &sa);
	ua->tls_insecure = cfg->tls_insecure;
	if (cfg->tls_cert && *cfg->tls_cert)
		err = str_dup(&ua->tls_cert, cfg->tls_cert);
	if (!err && cfg->tls_ca_file && *cfg->tls_ca_file)
		err = str_dup(&ua->tls_ca_file, cfg->tls_ca_file);
	if (err)
		return err;

	/* with a certificate of ours we take TLS connections from the
	 * start; without, TLS is a client only and waits for its first use */
	return ua->tls_cert ? ua_use_tls(ua) : 0;
}

/* "IP:PORT,IP:PORT" (or a bare IP: port 53) */
static int
parse_dns_servers(const char *list, struct sa *srvv, uint32_t *n)
{
	g_auto(GStrv) parts = g_strsplit(list, ",", -1);
	uint32_t count = 0;

	for (char **p = parts; *p && count < *n; p++) {
		g_strstrip(*p);
		if (!**p)
			continue;
		if (sa_decode(&srvv[count], *p, strlen(*p)) &&
		    sa_set_str(&srvv[count], *p, 53))
			return EINVAL;
		count++;
	}

	*n = count;
	return count ? 0 : EINVAL;
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

	if (cfg->dns_servers && *cfg->dns_servers) {
		err = parse_dns_servers(cfg->dns_servers, dnsv, &dnsc_n);
		if (err)
			goto out;
	}
	else if (dns_srv_get(domain, sizeof(domain), dnsv, &dnsc_n) ||
		 !dnsc_n) {
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

	err = sip_listen(&ua->lsnr_req, ua->sip, true, on_sip_request, ua);
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

/** An account's own DTMF mode, NULL for the phone's (phone thread). */
const char *
kefu_ua_account_dtmf_mode(const struct kefu_ua *ua, const char *account_id)
{
	const struct account *acc;

	if (!ua || !account_id)
		return NULL;

	acc = account_find(ua, account_id);

	return acc ? acc->dtmf_mode : NULL;
}

/** Whether an account's calls require SRTP (phone thread). */
bool
kefu_ua_account_srtp(const struct kefu_ua *ua, const char *account_id)
{
	const struct account *acc;

	if (!ua || !account_id)
		return false;

	acc = account_find(ua, account_id);

	return acc && acc->srtp;
}

/** The transport of an account's registration and calls (phone thread). */
int
kefu_ua_account_transport(const struct kefu_ua *ua, const char *account_id,
			  enum kefu_sip_transport *tp)
{
	const struct account *acc;

	if (!ua || !account_id || !tp)
		return EINVAL;

	acc = account_find(ua, account_id);
	if (!acc)
		return ENOENT;

	*tp = acc->tp;
	return 0;
}
