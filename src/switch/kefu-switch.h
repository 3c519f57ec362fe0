/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * kefu-switch's core: the SIP side (UDP and TCP on the configured
 * address), the registrar of agents' phones (kefu-switch-registrar.h),
 * trunks, calls (kefu-switch-private.h lists the files: a caller's leg
 * answered by the switch, its IVR, its place in the ACD, the agent's leg
 * with hold and transfers, the bridge, agents' outside calls), the
 * link to kefu-server (events, CDRs, agents, SIP credentials) and the ACD
 * fed from it.  Everything runs on libre's one re_main thread.
 *
 * A reload loads the config file again; calls keep the config they began
 * with (kefu-switch-config.h), new calls take the new one, queues and
 * trunks change in place.  Shutdown hangs up every call politely (BYE,
 * 480 to those still ringing), writes the CDRs, flushes the link's spool
 * and then calls its handler.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "kefu-switch-config.h"

G_BEGIN_DECLS

struct re_printf;
struct kefu_switch;

struct kefu_switch_status {
  unsigned calls;        /* caller legs up */
  unsigned in_ivr;
  unsigned queued;       /* waiting for an agent, ringing included */
  unsigned bridged;      /* talking to an agent (held included) */
  unsigned registered;   /* phones with a live registration */
  unsigned credentials;  /* SIP users known from kefu-server */
  uint64_t calls_total;  /* since start */
  const char *link;      /* the link's state name */
};

/* Takes a reference to @config (rendered prompts or not: done here).
 * Binds SIP on config's listen address (UDP and TCP), starts the link.
 * FALSE with an error an administrator can act on. */
gboolean kefu_switch_new      (struct kefu_switch **swp, KefuSwitchConfig *config,
                               GError **error);
/* Loads the config file again: on error nothing changes (the error says
 * what is wrong, as --check-config would). */
gboolean kefu_switch_reload   (struct kefu_switch *sw, GError **error);
/* Hangs every call up, then @done once the link has flushed (or after a
 * few seconds).  Free the switch with mem_deref() after @done. */
void     kefu_switch_shutdown (struct kefu_switch *sw, void (*done)(void *arg), void *arg);
void     kefu_switch_get_status (const struct kefu_switch *sw, struct kefu_switch_status *st);
/* One line: "calls 3 (ivr 1, queued 1, talking 1), phones 2, kefu-server: connected, ..." */
char    *kefu_switch_status_line (const struct kefu_switch *sw) G_GNUC_WARN_UNUSED_RESULT;
/* What an administrator asks for (kefu-switch --status): the switch,
 * its link, every call up, the queues (waiting, longest wait, agents) and
 * the agents (state, extension, registered contact), several lines. */
char    *kefu_switch_status_text (const struct kefu_switch *sw) G_GNUC_WARN_UNUSED_RESULT;
/* Where a running switch with this config serves its status text: a Unix
 * socket in the spool folder, readable by the switch's user only. */
char    *kefu_switch_status_socket_path (const KefuSwitchConfig *config)
         G_GNUC_WARN_UNUSED_RESULT;
/* The UDP/TCP port SIP listens on (useful with port 0 in tests). */
uint16_t kefu_switch_sip_port (const struct kefu_switch *sw);

G_END_DECLS
