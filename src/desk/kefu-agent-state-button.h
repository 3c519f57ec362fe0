/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * KefuAgentStateButton: the agent's state for the queues — Available, Not
 * ready with one of the server's reason codes, or Wrap-up with a countdown
 * that ends in the state the agent chose — set on the server through
 * KefuApiClient (PUT /v1/agents/me/state).
 *
 * The server's word counts too: the button reads the agent's record
 * (GET /v1/agents/me) when it gets its client and each time the event
 * stream (re)connects, and follows the stream's agent.state events for
 * this agent — the switch setting them Not ready after unanswered calls,
 * a supervisor's change, the switch's own wrap-up.  Ringing, talking and
 * on hold leave it as it is (the phone panel shows calls); the echo of
 * the agent's own change, and while the desktop counts wrap-up down what
 * only restates wrap-up, leave the countdown alone.
 */
#pragma once

#include <gtk/gtk.h>

#include "kefu-api-client.h"
#include "kefu-event-stream.h"

G_BEGIN_DECLS

#define KEFU_TYPE_AGENT_STATE_BUTTON (kefu_agent_state_button_get_type ())
G_DECLARE_FINAL_TYPE (KefuAgentStateButton, kefu_agent_state_button, KEFU, AGENT_STATE_BUTTON,
                      GtkWidget)

GtkWidget  *kefu_agent_state_button_new        (void);
/* A new client is a new session: what the button showed is forgotten and
 * the server's state read.  NULL when signed out. */
void        kefu_agent_state_button_set_client (KefuAgentStateButton *self,
                                                KefuApiClient        *client);
/* The session's live events, or NULL. */
void        kefu_agent_state_button_set_event_stream (KefuAgentStateButton *self,
                                                      KefuEventStream      *events);
/* "available", "not_ready", "wrapup", or NULL before the first choice. */
const char *kefu_agent_state_button_get_state  (KefuAgentStateButton *self);
/* Seconds of wrap-up (default 60). */
void        kefu_agent_state_button_set_wrapup_seconds (KefuAgentStateButton *self,
                                                        guint                 seconds);

/* Wrap-up now, with the countdown, ending in @next ("available" or
 * "not_ready"; NULL: the state chosen before, see "after-wrapup"). */
void        kefu_agent_state_button_start_wrapup  (KefuAgentStateButton *self,
                                                   const char           *next);
/* Ends wrap-up now, in the state chosen for after it. */
void        kefu_agent_state_button_finish_wrapup (KefuAgentStateButton *self);
const char *kefu_agent_state_button_get_after_wrapup (KefuAgentStateButton *self);
void        kefu_agent_state_button_set_after_wrapup (KefuAgentStateButton *self,
                                                      const char           *next);
/* Seconds of wrap-up left ("wrapup-remaining"), 0 outside wrap-up. */
guint       kefu_agent_state_button_get_wrapup_remaining (KefuAgentStateButton *self);

G_END_DECLS
