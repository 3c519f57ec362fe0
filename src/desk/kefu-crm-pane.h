/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * KefuCrmPane: the customer half of the agent's window.  On a ringing call
 * it pops the caller's card before the agent answers — the customer named
 * by the INVITE's X-Kefu-Customer header, else the customers with the
 * caller's number in the local store: one shows the card, several a short
 * list to choose from, none the "new customer" form with the number filled
 * in — with the queue, the IVR path and the wait time above it, and the
 * case editor linked to the call beside it.  Also: customer search as the
 * agent types.
 */
#pragma once

#include <gtk/gtk.h>

#include "kefu-call.h"
#include "kefu-local-store.h"

G_BEGIN_DECLS

#define KEFU_TYPE_CRM_PANE (kefu_crm_pane_get_type ())
G_DECLARE_FINAL_TYPE (KefuCrmPane, kefu_crm_pane, KEFU, CRM_PANE, GtkWidget)

GtkWidget  *kefu_crm_pane_new              (void);
void        kefu_crm_pane_set_store        (KefuCrmPane    *self,
                                            KefuLocalStore *store);
/* The screen pop for @call (an incoming call's headers, or the number an
 * outgoing call went to). */
void        kefu_crm_pane_show_call        (KefuCrmPane    *self,
                                            KefuCall       *call);
KefuCall   *kefu_crm_pane_get_call         (KefuCrmPane    *self);
/* Shows a customer's card (a search result, a click on a history row). */
gboolean    kefu_crm_pane_show_customer    (KefuCrmPane    *self,
                                            gint64          customer_id,
                                            GError        **error);
void        kefu_crm_pane_search           (KefuCrmPane    *self,
                                            const char     *text);
/* Shows the back button that returns to the phone (narrow window). */
void        kefu_crm_pane_set_folded       (KefuCrmPane    *self,
                                            gboolean        folded);

/* The call history ("history" view, Ctrl+H): @agent's calls from the
 * local copy, newest first, each with a button that calls back; NULL:
 * everyone's. */
void        kefu_crm_pane_set_agent        (KefuCrmPane    *self,
                                            const char     *agent);
void        kefu_crm_pane_show_history     (KefuCrmPane    *self);
GtkListBox *kefu_crm_pane_get_history      (KefuCrmPane    *self);

/* What the agent sees, for tests and the benchmark: "idle", "results"
 * (search results or several matches), "history" or "customer" (a card
 * or the new customer form). */
const char *kefu_crm_pane_get_view         (KefuCrmPane    *self);
GtkWidget  *kefu_crm_pane_get_card         (KefuCrmPane    *self);
GtkWidget  *kefu_crm_pane_get_case_editor  (KefuCrmPane    *self);
GtkListBox *kefu_crm_pane_get_results      (KefuCrmPane    *self);
/* The banner's second line: queue, IVR path and wait. */
const char *kefu_crm_pane_get_call_detail  (KefuCrmPane    *self);

G_END_DECLS
