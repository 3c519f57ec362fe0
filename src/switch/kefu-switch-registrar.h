/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The switch's registrar and digest authentication (RFC 3261 §10 and
 * §22, RFC 2617 digest with MD5): agents' phones REGISTER their contact
 * per extension, authenticated with the HA1 secrets kefu-server gives the
 * switch (kefu_switch_registrar_set_credential); the contact is kept until
 * its expiry.  The same digest check serves INVITEs (agents calling out,
 * trunks that authenticate by username), through a lookup of HA1 by user.
 *
 * Nonces are stateless: the time they were made and an MD5 over it and a
 * secret of this process; they are good for NONCE_LIFETIME_S, after which
 * the request is challenged again with stale=true.
 *
 * libre thread only; mem_deref() frees.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#ifndef HAVE_INTTYPES_H
#define HAVE_INTTYPES_H 1
#endif
#ifndef HAVE_STDBOOL_H
#define HAVE_STDBOOL_H 1
#endif
#ifndef HAVE_INET6
#define HAVE_INET6 1
#endif
#include <re.h>

enum {
	KEFU_REGISTRAR_MIN_EXPIRES = 10,
	KEFU_REGISTRAR_MAX_EXPIRES = 3600,
	KEFU_REGISTRAR_DEFAULT_EXPIRES = 600,
};

struct kefu_switch_registrar;

/* ha1: MD5(user:realm:password) as 16 bytes; false when unknown. */
typedef bool (kefu_switch_ha1_h)(const char *user, uint8_t ha1[16], void *arg);

int  kefu_switch_registrar_alloc(struct kefu_switch_registrar **rp, struct sip *sip,
				 const char *realm);
void kefu_switch_registrar_set_realm(struct kefu_switch_registrar *r, const char *realm);
const char *kefu_switch_registrar_realm(const struct kefu_switch_registrar *r);

/* The secret of one SIP user (an agent's extension): ha1_hex is 32 hex
 * digits of MD5(user:realm:password).  EINVAL for anything else. */
int  kefu_switch_registrar_set_credential(struct kefu_switch_registrar *r, const char *user,
					  const char *ha1_hex);
void kefu_switch_registrar_clear_credentials(struct kefu_switch_registrar *r);
bool kefu_switch_registrar_has_credential(const struct kefu_switch_registrar *r,
					  const char *user);
unsigned kefu_switch_registrar_credentials(const struct kefu_switch_registrar *r);

/* The contact an extension registered (a SIP URI), or NULL when none or
 * expired. */
const char *kefu_switch_registrar_contact(const struct kefu_switch_registrar *r,
					  const char *user);
unsigned kefu_switch_registrar_count(const struct kefu_switch_registrar *r);
/* Forget a binding (e.g. its phone answered 404 / is unreachable). */
void kefu_switch_registrar_remove(struct kefu_switch_registrar *r, const char *user);

/* Digest check of a request (Proxy-Authorization when @proxy, else
 * Authorization).  0: authenticated as *userp (new string, mem_deref it);
 * EAUTH: no credentials for our realm in the request (challenge it);
 * ESTALE: an expired nonce (challenge with stale=true); EACCES: wrong.
 * @ha1h looks users up; NULL: the registrar's own credentials. */
int  kefu_switch_registrar_check(struct kefu_switch_registrar *r, const struct sip_msg *msg,
				 bool proxy, kefu_switch_ha1_h *ha1h, void *arg, char **userp);
/* Answers @msg with 401 (or 407 when @proxy) and a fresh nonce. */
int  kefu_switch_registrar_challenge(struct kefu_switch_registrar *r, const struct sip_msg *msg,
				     bool proxy, bool stale);

/* MD5(user:realm:password) into ha1. */
void kefu_switch_digest_ha1(const char *user, const char *realm, const char *password,
			    uint8_t ha1[16]);
