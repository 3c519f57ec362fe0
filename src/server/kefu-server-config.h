/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * KefuServerConfig: kefu-server's settings, read from an INI file
 * (GKeyFile) and overridden from the command line.  Unknown groups or keys
 * and bad values are errors that name the line's group and key, so a typo
 * does not silently fall back to a default.
 */
#pragma once

#include <glib.h>

#include "kefu-auth.h"
#include "kefu-metrics.h"

G_BEGIN_DECLS

typedef struct {
  /* [server] */
  char              *listen_host;
  guint              listen_port;      /* 0: any free port (printed at start) */
  char              *timezone;         /* periods of reports, "today" of the live panel */
  char              *default_country;  /* for phone numbers without a country code */
  gsize              max_body_bytes;
  gsize              max_document_bytes;
  /* [store] */
  char              *backend;          /* "sqlite" | "postgresql" */
  char              *sqlite_path;
  char              *pg_conninfo;
  /* [auth] */
  KefuPasswordCost   password_cost;
  guint              session_hours;
  guint              login_max_failures;
  guint              login_window_s;
  /* [agents] */
  char             **reason_codes;
  char              *sip_realm;        /* digest realm of agents' phones (kefu-switch) */
  /* [metrics] */
  KefuMetricsConfig  metrics;
} KefuServerConfig;

KefuServerConfig *kefu_server_config_new     (void) G_GNUC_WARN_UNUSED_RESULT;
void              kefu_server_config_free    (KefuServerConfig *config);
gboolean          kefu_server_config_load    (KefuServerConfig *config, const char *path,
                                              GError **error);
/* "127.0.0.1:8080", "[::1]:8080", ":8080" */
gboolean          kefu_server_config_set_listen (KefuServerConfig *config, const char *text,
                                                 GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KefuServerConfig, kefu_server_config_free)

G_END_DECLS
