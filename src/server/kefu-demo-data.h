/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Demo data (kefu-server demo-data): queues, agents with demo logins,
 * customers with realistic Chinese and English names and numbers, and 90
 * days of calls, cases and events, so reports and the live panel have
 * something to show.  Deterministic for a given seed.
 */
#pragma once

#include "kefu-auth.h"
#include "kefu-store.h"

G_BEGIN_DECLS

typedef struct {
  guint    n_customers;
  guint    days;            /* of history, ending now */
  guint    calls_per_day;   /* on average, across queues */
  guint32  seed;
  const char *sip_realm;    /* of the agents' SIP passwords; NULL: "kefu" */
} KefuDemoDataOptions;

/* Every demo agent has an extension (agent1 1001, agent2 1002, agent3
 * 1003, then 1004... for the rest of the floor) and a SIP password for
 * their phone: this prefix and the extension ("phone-1001").  The demo
 * switch config registers phones with these. */
#define KEFU_DEMO_SIP_PASSWORD_PREFIX "phone-"

/* The logins demo-data creates (username, password, role), NULL-terminated. */
extern const char * const kefu_demo_logins[][3];

gboolean kefu_demo_data_generate (KefuStore                 *store,
                                  KefuAuth                  *auth,
                                  const KefuDemoDataOptions *options,
                                  GError                   **error);

G_END_DECLS
