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
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "kefu-phone-loop.h"

G_BEGIN_DECLS

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

/** What the UI learns about an account's registration (plain data). */
struct kefu_reg_event {
  char *account_id;
  enum kefu_reg_state state;
  char *reason;                 /* "", "wrong password (401)", "timeout", ... */
  uint16_t scode;               /* SIP status code, 0 if none (timeout, DNS) */
  enum kefu_registrar registrar;
};

/** Runs on the UI context given to kefu_phone_loop_start(). */
typedef void (kefu_reg_event_h)(const struct kefu_reg_event *ev, void *arg);

struct kefu_ua_config {
  const char *laddr;            /* local address, NULL: 127.0.0.1 */
  uint16_t udp_port;            /* 0: any free port */
  uint16_t tcp_port;            /* 0: any free port */
  uint16_t tls_port;            /* used only with tls_cert */
  const char *tls_cert;         /* PEM with certificate and key: enables TLS */
  const char *user_agent;       /* NULL: "Kefu/<version>" */
  kefu_reg_event_h *eventh;     /* called on the UI context */
  void *arg;                    /* for eventh; only ever used on the UI side */
};

struct kefu_account_config {
  const char *id;               /* account id, unique in the UA */
  const char *aor;              /* sip:1001@pbx.example.com */
  const char *auth_user;        /* NULL: the AOR's user part */
  const char *password;
  const char *registrar;        /* sip:pbx.example.com;transport=tcp */
  const char *backup_registrar; /* optional */
  uint32_t expires;             /* seconds; 0: 3600 */
  uint32_t timeout_ms;          /* no final answer in time: "timeout"; 0: 32000 */
  uint32_t probe_interval_ms;   /* on the backup, probe the primary; 0: 30000 */
};

struct kefu_ua;

/* phone thread */
int  kefu_ua_alloc (struct kefu_ua **uap, struct kefu_phone_loop *loop,
                    const struct kefu_ua_config *cfg);
int  kefu_ua_register (struct kefu_ua *ua, const struct kefu_account_config *acc);
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

/* any thread */
const char *kefu_reg_state_name (enum kefu_reg_state state);

G_END_DECLS
