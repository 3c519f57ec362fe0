/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * KefuCaseEditor: the case an agent writes while talking — subject,
 * category, disposition, priority, status and notes — for the customer on
 * the card and linked to the current call (its X-Kefu-Call id, else the
 * SIP Call-ID).  Saved through the KefuLocalStore's outbox; what is typed
 * is kept as a draft per call as it is typed.
 */
#pragma once

#include <gtk/gtk.h>

#include "kefu-local-store.h"

G_BEGIN_DECLS

#define KEFU_TYPE_CASE_EDITOR (kefu_case_editor_get_type ())
G_DECLARE_FINAL_TYPE (KefuCaseEditor, kefu_case_editor, KEFU, CASE_EDITOR, GtkWidget)

GtkWidget *kefu_case_editor_new             (void);
/* What the agent reads for a case's stored "category", "disposition",
 * "priority" or "status" value (the value itself when it is not one of
 * the editor's choices). */
const char *kefu_case_choice_label          (const char     *field,
                                             const char     *value);
void       kefu_case_editor_set_store       (KefuCaseEditor *self,
                                             KefuLocalStore *store);
/* A fresh case (or the draft kept for this call) for @customer_id (0: not
 * known yet: saving asks for the customer first) on @call_id (NULL: no call). */
void       kefu_case_editor_start           (KefuCaseEditor *self,
                                             const char     *call_id,
                                             gint64          customer_id);
void       kefu_case_editor_set_customer_id (KefuCaseEditor *self,
                                             gint64          customer_id);
/* The case once saved (0 before). */
gint64     kefu_case_editor_get_case_id     (KefuCaseEditor *self);
const char *kefu_case_editor_get_call_id    (KefuCaseEditor *self);
/* Fills the form as an agent would type it (NULL leaves a field as it
 * is): the wrap-up prompt and tests use it. */
void       kefu_case_editor_fill            (KefuCaseEditor *self,
                                             const char     *subject,
                                             const char     *category,
                                             const char     *disposition,
                                             const char     *notes);
/* Saves what is typed (as the "case.save" action); FALSE with the reason. */
gboolean   kefu_case_editor_save            (KefuCaseEditor *self,
                                             GError        **error);

/* Wrap-up after the call: @remaining seconds are shown with what the case
 * still needs (the disposition first); 0 hides the prompt. */
void       kefu_case_editor_set_wrapup      (KefuCaseEditor *self,
                                             guint           remaining);
/* The prompt as shown, "" when hidden. */
const char *kefu_case_editor_get_wrapup_prompt (KefuCaseEditor *self);
/* The disposition chosen ("" for none), as stored. */
const char *kefu_case_editor_get_disposition (KefuCaseEditor *self);

G_END_DECLS
