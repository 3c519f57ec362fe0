/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * KefuCustomerCard: one customer as an agent needs them during a call —
 * name, company, tier (VIP stands out), owner, phones (click to call),
 * e-mails, tags, notes, and the history of calls, cases, notes and faxes,
 * newest first — read from the KefuLocalStore and edited in place.  The
 * same card, empty, is the "new customer" form of an unknown caller.
 *
 * What is typed is kept as a draft in the store while it is typed, so a
 * crash or a kill mid-edit loses nothing; saving goes through the store's
 * outbox.  Click-to-dial activates "window.dial" with the number.
 */
#pragma once

#include <gtk/gtk.h>

#include "kefu-local-store.h"

G_BEGIN_DECLS

#define KEFU_TYPE_CUSTOMER_CARD (kefu_customer_card_get_type ())
G_DECLARE_FINAL_TYPE (KefuCustomerCard, kefu_customer_card, KEFU, CUSTOMER_CARD, GtkWidget)

GtkWidget  *kefu_customer_card_new            (void);
void        kefu_customer_card_set_store      (KefuCustomerCard *self,
                                               KefuLocalStore   *store);
/* Shows the customer from the store; FALSE with error when it has none. */
gboolean    kefu_customer_card_show_customer  (KefuCustomerCard *self,
                                               gint64            customer_id,
                                               GError          **error);
/* The "new customer" form, the phone pre-filled (may be NULL). */
void        kefu_customer_card_new_customer   (KefuCustomerCard *self,
                                               const char       *phone);
/* 0 when the form is for a new customer not saved yet. */
gint64      kefu_customer_card_get_customer_id (KefuCustomerCard *self);
/* The customer as shown (NULL for a new one). */
JsonObject *kefu_customer_card_get_customer   (KefuCustomerCard *self);
gboolean    kefu_customer_card_get_editing    (KefuCustomerCard *self);
/* What the edit form holds, as a customer document. */
JsonObject *kefu_customer_card_dup_form       (KefuCustomerCard *self) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
