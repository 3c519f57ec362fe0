/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The softphone's SIP user agent (struct kefu_ua: the libre SIP stack and its
 * transports) and each account's registration with its registrar, with
 * failover to a backup registrar and fallback to the primary.
 *
 * Everything here except the event handler runs on the phone thread (see
 * kefu-phone-loop.h): call it from functions passed to kefu_phone_loop_call*.
 * Accounts are named by their id; registration state reaches the UI thread
 * as a plain-data struct kefu_reg_event.
 *
 * An account registers over UDP, TCP or TLS (sips: or ;transport= in its
 * registrar, or kefu_account_config.transport).  TLS servers must present
 * a certificate that a trusted CA signed (the system's CAs and
 * kefu_ua_config.tls_ca_file) and that names the host being reached.  A
 * failed account tries again by itself, 5 s after the failure and then
 * twice as long each time up to 5 min, except after a refused password
 * (401/407/403: asking again would only lock the account out); a changed
 * configuration (kefu_ua_account_update) tries again at once.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "kefu-phone-loop.h"

G_BEGIN_DECLS

/* What the softphone can do, for Allow/Supported headers: REFER and
 * NOTIFY for transfers both ways, Replaces for attended transfer. */
#define KEFU_SIP_ALLOW "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, REFER, NOTIFY\r\n" \
  "Supported: replaces\r\n"

enum kefu_reg_state {
  KEFU_REG_UNREGISTERED,
  KEFU_REG_REGISTERING,
  KEFU_REG_REGISTERED,
  KEFU_REG_FAILED,
};

enum kefu_registrar {
  KEFU_REGISTRAR_PRIMARY,
  KEFU_REGISTRAR_BACKUP,
};

/* numbered like libre's enum sip_transp */
enum kefu_sip_transport {
  KEFU_SIP_TRANSPORT_UDP,
  KEFU_SIP_TRANSPORT_TCP,
  KEFU_SIP_TRANSPORT_TLS,
};

/** What the UI learns about an account's registration (plain data). */
struct kefu_reg_event {
  char *account_id;
  enum kefu_reg_state state;
  char *reason;                 /* "", "wrong password (401)", "timeout", ... */
  uint16_t scode;               /* SIP status code, 0 if none (timeout, DNS) */
  enum kefu_registrar registrar;
  enum kefu_sip_transport transport;
  uint32_t retry_in_s;          /* failed: next attempt in that many seconds; 0: none */
};

/** Runs on the UI context given to kefu_phone_loop_start(). */
typedef void (kefu_reg_event_h)(const struct kefu_reg_event *ev, void *arg);

struct kefu_ua_config {
  const char *laddr;            /* local address, NULL: 127.0.0.1 */
  uint16_t udp_port;            /* 0: any free port */
  uint16_t tcp_port;            /* 0: any free port */
  uint16_t tls_port;            /* used only with tls_cert */
  const char *tls_cert;         /* PEM with certificate and key: TLS server side */
  const char *tls_ca_file;      /* PEM of CAs to trust besides the system's */
  bool tls_insecure;            /* tests only: accept any server certificate */
  const char *dns_servers;      /* "IP:PORT,IP:PORT"; NULL: /etc/resolv.conf */
  const char *user_agent;       /* NULL: "Kefu/<version>" */
  kefu_reg_event_h *eventh;     /* called on the UI context */
  void *arg;                    /* for eventh; only ever used on the UI side */
};

struct kefu_account_config {
  const char *id;               /* account id, unique in the UA */
  const char *aor;              /* sip:1001@pbx.example.com */
  const char *auth_user;        /* NULL: the AOR's user part */
  const char *password;
  const char *registrar;        /* sip:pbx.example.com;transport=tcp, sips:pbx */
  const char *backup_registrar; /* optional */
  const char *transport;        /* "udp", "tcp", "tls"; NULL: the registrar's, else UDP */
  const char *dtmf_mode;        /* "rfc4733", "info", "inband", "auto"; NULL: the phone's */
  /* Calls offer and accept SRTP (SDES) only.  Needs TLS: registering it
   * over UDP or TCP fails with EPROTONOSUPPORT. */
  bool srtp;
  uint32_t expires;             /* seconds; 0: 3600 */
  uint32_t timeout_ms;          /* no final answer in time: "timeout"; 0: 32000 */
  uint32_t probe_interval_ms;   /* on the backup, probe the primary; 0: 30000 */
  uint32_t retry_min_ms;        /* first retry after a failure; 0: 5000 */
  uint32_t retry_max_ms;        /* longest wait between retries; 0: 300000 */
};

struct kefu_ua;

/* phone thread */
int  kefu_ua_alloc (struct kefu_ua **uap, struct kefu_phone_loop *loop,
                    const struct kefu_ua_config *cfg);
int  kefu_ua_register (struct kefu_ua *ua, const struct kefu_account_config *acc);
/* Replaces the configuration of account cfg->id and registers it again at
 * once (un-REGISTERing the old binding); ENOENT for an unknown id. */
int  kefu_ua_account_update (struct kefu_ua *ua, const struct kefu_account_config *cfg);
int  kefu_ua_unregister (struct kefu_ua *ua, const char *account_id);
int  kefu_ua_local_port (const struct kefu_ua *ua, int sip_transp, uint16_t *port);

/* phone thread, for the call sessions (kefu-call-session.h) */
struct sip;
struct sip *kefu_ua_sip (const struct kefu_ua *ua);
/* The id of the account whose contact user is @user, or NULL. */
const char *kefu_ua_account_for_user (const struct kefu_ua *ua, const char *user);
/* An account's identity and credentials, borrowed: valid until the account
 * is unregistered.  ENOENT for an unknown id. */
int  kefu_ua_account_identity (const struct kefu_ua *ua, const char *account_id,
                               const char **aor, const char **cuser,
                               const char **auth_user, const char **password);
/* The account's DTMF mode ("rfc4733", "info", "inband", "auto"), or NULL:
 * the phone's default (also for an unknown account or NULL id). */
const char *kefu_ua_account_dtmf_mode (const struct kefu_ua *ua, const char *account_id);
/* Whether the account's calls require SRTP; false for an unknown
 * account or NULL id. */
bool kefu_ua_account_srtp (const struct kefu_ua *ua, const char *account_id);
/* The transport the account registers and places its calls over. */
int  kefu_ua_account_transport (const struct kefu_ua *ua, const char *account_id,
                                enum kefu_sip_transport *tp);
/* A request URI for libre: sips:X becomes sip:X;transport=tls (libre 1.1
 * knows only sip:), and ;transport=@tp is added when the URI names none and
 * @tp is not UDP.  NULL on a URI that is not sip: or sips:.  Free with
 * g_free().  Also remembers the host as one the TLS client may reach. */
char *kefu_ua_request_uri (struct kefu_ua *ua, const char *uri, enum kefu_sip_transport tp);
/* any thread */
const char *kefu_reg_state_name (enum kefu_reg_state state);
const char *kefu_transport_name (enum kefu_sip_transport tp);
/* "udp", "tcp", "tls" (any case); false for anything else */
bool        kefu_transport_from_name (const char *name, enum kefu_sip_transport *tp);
/* "rfc4733", "info", "inband", "auto" */
bool        kefu_dtmf_mode_is_valid (const char *mode);

G_END_DECLS
