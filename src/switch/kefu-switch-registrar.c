/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * REGISTER and digest authentication of kefu-switch (see the header).
 * libre-facing: libre's tabs.
 */
#define G_LOG_DOMAIN "KefuSwitchRegistrar"

#include "config.h"

#include "kefu-switch-registrar.h"

#include <glib.h>
#include <string.h>
#include <time.h>

enum {
	NONCE_LIFETIME_S = 300,
	SECRET_LEN = 16,
};

struct binding {
	char *contact;          /* the URI, without <> */
	uint64_t expires_ms;    /* tmr_jiffies() */
};

struct kefu_switch_registrar {
	struct sip *sip;                 /* borrowed */
	struct sip_lsnr *lsnr;
	char *realm;
	uint8_t secret[SECRET_LEN];
	GHashTable *ha1;                 /* user -> uint8_t[16] */
	GHashTable *bindings;            /* user -> struct binding */
};

static void
binding_free(gpointer data)
{
	struct binding *b = data;

	g_free(b->contact);
	g_free(b);
}

void
kefu_switch_digest_ha1(const char *user, const char *realm,
		       const char *password, uint8_t ha1[16])
{
	(void)md5_printf(ha1, "%s:%s:%s", user, realm, password);
}

static void
nonce_make(const struct kefu_switch_registrar *r, uint64_t t, char *out,
	   size_t size)
{
	uint8_t md[16];

	(void)md5_printf(md, "%llx:%b", (unsigned long long)t, r->secret,
			 sizeof(r->secret));
	(void)re_snprintf(out, size, "%016llx%w", (unsigned long long)t, md,
			  sizeof(md));
}

/* 0, ESTALE (ours but old) or EACCES (not ours). */
static int
nonce_check(const struct kefu_switch_registrar *r, const struct pl *nonce)
{
	char expect[64];
	uint64_t t;
	struct pl ts;

	if (nonce->l != 16 + 32)
		return EACCES;
	ts.p = nonce->p;
	ts.l = 16;
	t = pl_x64(&ts);
	nonce_make(r, t, expect, sizeof(expect));
	if (pl_strcmp(nonce, expect))
		return EACCES;
	if ((uint64_t)time(NULL) > t + NONCE_LIFETIME_S)
		return ESTALE;

	return 0;
}

int
kefu_switch_registrar_challenge(struct kefu_switch_registrar *r,
				const struct sip_msg *msg, bool proxy,
				bool stale)
{
	char nonce[64];

	nonce_make(r, (uint64_t)time(NULL), nonce, sizeof(nonce));

	return sip_treplyf(NULL, NULL, r->sip, msg, false,
			   proxy ? 407 : 401,
			   proxy ? "Proxy Authentication Required"
			   : "Unauthorized",
			   "%s: Digest realm=\"%s\", nonce=\"%s\", "
			   "algorithm=MD5, qop=\"auth\"%s\r\n"
			   "Content-Length: 0\r\n\r\n",
			   proxy ? "Proxy-Authenticate" : "WWW-Authenticate",
			   r->realm, nonce, stale ? ", stale=true" : "");
}

static bool
own_ha1(const char *user, uint8_t ha1[16], void *arg)
{
	struct kefu_switch_registrar *r = arg;
	const uint8_t *h = g_hash_table_lookup(r->ha1, user);

	if (!h)
		return false;
	memcpy(ha1, h, 16);

	return true;
}

struct auth_find {
	const char *realm;
	struct httpauth_digest_resp resp;
	bool found;
};

static bool
on_auth_hdr(const struct sip_hdr *hdr, const struct sip_msg *msg, void *arg)
{
	struct auth_find *af = arg;
	struct httpauth_digest_resp resp;

	(void)msg;
	if (httpauth_digest_response_decode(&resp, &hdr->val))
		return false;
	if (pl_strcmp(&resp.realm, af->realm))
		return false;
	af->resp = resp;
	af->found = true;

	return true;
}

int
kefu_switch_registrar_check(struct kefu_switch_registrar *r,
			    const struct sip_msg *msg, bool proxy,
			    kefu_switch_ha1_h *ha1h, void *arg, char **userp)
{
	struct auth_find af = { .realm = r->realm };
	uint8_t ha1[16];
	char *user = NULL;
	int err;

	(void)sip_msg_hdr_apply(msg, true, proxy ? SIP_HDR_PROXY_AUTHORIZATION
				: SIP_HDR_AUTHORIZATION, on_auth_hdr, &af);
	if (!af.found)
		return EAUTH;

	err = nonce_check(r, &af.resp.nonce);
	if (err)
		return err;

	err = pl_strdup(&user, &af.resp.username);
	if (err)
		return err;

	if (!(ha1h ? ha1h(user, ha1, arg) : own_ha1(user, ha1, r))) {
		g_message("digest: unknown user '%s'", user);
		mem_deref(user);
		return EACCES;
	}

	err = httpauth_digest_response_auth(&af.resp, &msg->met, ha1);
	memset(ha1, 0, sizeof(ha1));
	if (err) {
		g_message("digest: wrong response for '%s'", user);
		mem_deref(user);
		return EACCES;
	}

	*userp = user;

	return 0;
}

/* --- REGISTER ------------------------------------------------------------ */

static uint32_t
wanted_expires(const struct sip_msg *msg, const struct sip_addr *contact)
{
	struct pl ex;

	if (contact && 0 == msg_param_decode(&contact->params, "expires", &ex))
		return pl_u32(&ex);
	if (pl_isset(&msg->expires))
		return pl_u32(&msg->expires);

	return KEFU_REGISTRAR_DEFAULT_EXPIRES;
}

static void
reply_bindings(struct kefu_switch_registrar *r, const struct sip_msg *msg,
	       const char *user)
{
	struct binding *b = g_hash_table_lookup(r->bindings, user);
	uint64_t now = tmr_jiffies();

	if (b && b->expires_ms > now) {
		(void)sip_treplyf(NULL, NULL, r->sip, msg, false, 200, "OK",
				  "Contact: <%s>;expires=%llu\r\n"
				  "Content-Length: 0\r\n\r\n", b->contact,
				  (unsigned long long)
				  ((b->expires_ms - now + 999) / 1000));
	}
	else {
		(void)sip_treplyf(NULL, NULL, r->sip, msg, false, 200, "OK",
				  "Content-Length: 0\r\n\r\n");
	}
}

static void
on_register(struct kefu_switch_registrar *r, const struct sip_msg *msg)
{
	const struct sip_hdr *chdr = sip_msg_hdr(msg, SIP_HDR_CONTACT);
	struct sip_addr contact;
	char *auth_user = NULL;
	g_autofree char *aor_user = NULL;
	uint32_t expires;
	int err;

	err = kefu_switch_registrar_check(r, msg, false, NULL, NULL,
					  &auth_user);
	if (err == EAUTH || err == ESTALE) {
		(void)kefu_switch_registrar_challenge(r, msg, false,
						      err == ESTALE);
		return;
	}
	if (err == EACCES && !kefu_switch_registrar_credentials(r)) {
		/* kefu-server has not given us the users yet (just started,
		 * or unreachable): not a wrong password, so no 403 that makes
		 * the phone give up for a long while */
		(void)sip_treplyf(NULL, NULL, r->sip, msg, false, 503,
				  "Service Unavailable",
				  "Retry-After: 2\r\nContent-Length: 0\r\n\r\n");
		return;
	}
	if (err) {
		(void)sip_treply(NULL, r->sip, msg, 403, "Forbidden");
		return;
	}

	aor_user = g_strndup(msg->to.uri.user.p, msg->to.uri.user.l);
	/* a phone registers its own extension, nobody else's */
	if (strcmp(aor_user, auth_user)) {
		g_message("REGISTER of '%s' by '%s': refused", aor_user,
			  auth_user);
		mem_deref(auth_user);
		(void)sip_treply(NULL, r->sip, msg, 403, "Forbidden");
		return;
	}
	mem_deref(auth_user);

	if (!chdr) {
		reply_bindings(r, msg, aor_user);
		return;
	}

	if (!pl_strcmp(&chdr->val, "*")) {
		g_hash_table_remove(r->bindings, aor_user);
		g_message("%s: unregistered", aor_user);
		(void)sip_treply(NULL, r->sip, msg, 200, "OK");
		return;
	}

	if (sip_addr_decode(&contact, &chdr->val)) {
		(void)sip_treply(NULL, r->sip, msg, 400, "Bad Contact");
		return;
	}

	expires = wanted_expires(msg, &contact);
	if (expires == 0) {
		g_hash_table_remove(r->bindings, aor_user);
		g_message("%s: unregistered", aor_user);
		(void)sip_treply(NULL, r->sip, msg, 200, "OK");
		return;
	}
	if (expires < KEFU_REGISTRAR_MIN_EXPIRES) {
		(void)sip_treplyf(NULL, NULL, r->sip, msg, false, 423,
				  "Interval Too Brief",
				  "Min-Expires: %u\r\nContent-Length: 0\r\n\r\n",
				  KEFU_REGISTRAR_MIN_EXPIRES);
		return;
	}
	expires = MIN(expires, (uint32_t)KEFU_REGISTRAR_MAX_EXPIRES);

	{
		struct binding *b = g_new0(struct binding, 1);
		struct binding *old = g_hash_table_lookup(r->bindings,
							  aor_user);

		b->contact = g_strndup(contact.auri.p, contact.auri.l);
		b->expires_ms = tmr_jiffies() + (uint64_t)expires * 1000;
		if (!old || strcmp(old->contact, b->contact))
			g_message("%s: registered at %s for %u s", aor_user,
				  b->contact, expires);
		g_hash_table_replace(r->bindings, g_strdup(aor_user), b);
	}

	reply_bindings(r, msg, aor_user);
}

static bool
on_request(const struct sip_msg *msg, void *arg)
{
	struct kefu_switch_registrar *r = arg;

	if (pl_strcmp(&msg->met, "REGISTER"))
		return false;

	on_register(r, msg);

	return true;
}

/* --- the object ---------------------------------------------------------- */

static void
registrar_destructor(void *arg)
{
	struct kefu_switch_registrar *r = arg;

	mem_deref(r->lsnr);
	mem_deref(r->realm);
	g_hash_table_unref(r->ha1);
	g_hash_table_unref(r->bindings);
	memset(r->secret, 0, sizeof(r->secret));
}

int
kefu_switch_registrar_alloc(struct kefu_switch_registrar **rp,
			    struct sip *sip, const char *realm)
{
	struct kefu_switch_registrar *r;
	int err;

	if (!rp || !sip || !realm)
		return EINVAL;

	r = mem_zalloc(sizeof(*r), registrar_destructor);
	if (!r)
		return ENOMEM;

	r->sip = sip;
	r->ha1 = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
				       g_free);
	r->bindings = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					    binding_free);
	rand_bytes(r->secret, sizeof(r->secret));

	err = str_dup(&r->realm, realm);
	if (!err)
		err = sip_listen(&r->lsnr, sip, true, on_request, r);

	if (err)
		mem_deref(r);
	else
		*rp = r;

	return err;
}

void
kefu_switch_registrar_set_realm(struct kefu_switch_registrar *r,
				const char *realm)
{
	if (!r || !realm || !strcmp(r->realm, realm))
		return;
	mem_deref(r->realm);
	(void)str_dup(&r->realm, realm);
}

const char *
kefu_switch_registrar_realm(const struct kefu_switch_registrar *r)
{
	return r ? r->realm : NULL;
}

int
kefu_switch_registrar_set_credential(struct kefu_switch_registrar *r,
				     const char *user, const char *ha1_hex)
{
	uint8_t *ha1;

	if (!r || !user || !*user || !ha1_hex || strlen(ha1_hex) != 32)
		return EINVAL;

	ha1 = g_malloc(16);
	for (unsigned i = 0; i < 16; i++) {
		int hi = g_ascii_xdigit_value(ha1_hex[2 * i]);
		int lo = g_ascii_xdigit_value(ha1_hex[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			g_free(ha1);
			return EINVAL;
		}
		ha1[i] = (uint8_t)(hi << 4 | lo);
	}
	g_hash_table_replace(r->ha1, g_strdup(user), ha1);

	return 0;
}

void
kefu_switch_registrar_clear_credentials(struct kefu_switch_registrar *r)
{
	if (r)
		g_hash_table_remove_all(r->ha1);
}

bool
kefu_switch_registrar_has_credential(const struct kefu_switch_registrar *r,
				     const char *user)
{
	return r && user && g_hash_table_contains(r->ha1, user);
}

unsigned
kefu_switch_registrar_credentials(const struct kefu_switch_registrar *r)
{
	return r ? g_hash_table_size(r->ha1) : 0;
}

const char *
kefu_switch_registrar_contact(const struct kefu_switch_registrar *r,
			      const char *user)
{
	struct binding *b;

	if (!r || !user)
		return NULL;
	b = g_hash_table_lookup(r->bindings, user);
	if (!b || b->expires_ms <= tmr_jiffies())
		return NULL;

	return b->contact;
}

unsigned
kefu_switch_registrar_count(const struct kefu_switch_registrar *r)
{
	GHashTableIter it;
	gpointer value;
	unsigned n = 0;
	uint64_t now = tmr_jiffies();

	if (!r)
		return 0;
	g_hash_table_iter_init(&it, r->bindings);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		const struct binding *b = value;

		if (b->expires_ms > now)
			n++;
	}

	return n;
}

void
kefu_switch_registrar_remove(struct kefu_switch_registrar *r,
			     const char *user)
{
	if (r && user)
		g_hash_table_remove(r->bindings, user);
}
