/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuCaseEditor"

#include "config.h"

#include "kefu-case-editor.h"

#include <glib/gi18n.h>
#include <adwaita.h>
#include <string.h>

#include "kefu-caller-id.h"
#include "kefu-record.h"

#define DRAFT_DELAY_MS 400

enum {
  PROP_0,
  PROP_CASE_ID,
  N_PROPS,
};

static GParamSpec *props[N_PROPS];

/* Values as the server stores them (the demo data's words), and what the
 * agent reads. */
typedef struct {
  const char *id;
  const char *label;
} Choice;

static const Choice categories[] = {
  { "", N_("(none)") },
  { "billing", N_("Billing") },
  { "technical", N_("Technical") },
  { "delivery", N_("Delivery") },
  { "complaint", N_("Complaint") },
  { "sales enquiry", N_("Sales enquiry") },
  { "account", N_("Account") },
};

static const Choice dispositions[] = {
  { "", N_("(none)") },
  { "resolved on first call", N_("Resolved on first call") },
  { "callback scheduled", N_("Callback scheduled") },
  { "escalated to second line", N_("Escalated to second line") },
  { "escalated to supervisor", N_("Escalated to supervisor") },
  { "refund issued", N_("Refund issued") },
  { "details updated", N_("Details updated") },
  { "quote sent", N_("Quote sent") },
  { "order placed", N_("Order placed") },
  { "technician booked", N_("Technician booked") },
};

static const Choice priorities[] = {
  { "low", N_("Low") },
  { "normal", N_("Normal") },
  { "high", N_("High") },
  { "urgent", N_("Urgent") },
};

static const Choice statuses[] = {
  { "open", N_("Open") },
  { "pending", N_("Pending") },
  { "resolved", N_("Resolved") },
  { "closed", N_("Closed") },
};

const char *
kefu_case_choice_label (const char *field,
                        const char *value)
{
  const Choice *choices = NULL;
  gsize n = 0;

  if (g_strcmp0 (field, "category") == 0)
    choices = categories, n = G_N_ELEMENTS (categories);
  else if (g_strcmp0 (field, "disposition") == 0)
    choices = dispositions, n = G_N_ELEMENTS (dispositions);
  else if (g_strcmp0 (field, "priority") == 0)
    choices = priorities, n = G_N_ELEMENTS (priorities);
  else if (g_strcmp0 (field, "status") == 0)
    choices = statuses, n = G_N_ELEMENTS (statuses);
  for (gsize i = 0; value && value[0] && i < n; i++)
    if (g_str_equal (choices[i].id, value))
      return _(choices[i].label);
  return value;
}

struct _KefuCaseEditor
{
  GtkWidget parent_instance;

  /* template widgets */
  AdwPreferencesGroup *group;
  AdwEntryRow   *subject_row;
  AdwComboRow   *category_row;
  GtkStringList *category_names;
  AdwComboRow   *disposition_row;
  GtkStringList *disposition_names;
  AdwComboRow   *priority_row;
  GtkStringList *priority_names;
  AdwComboRow   *status_row;
  GtkStringList *status_names;
  GtkTextView   *notes_view;
  GtkLabel      *status_label;
  GtkRevealer   *wrapup_revealer;
  GtkLabel      *wrapup_label;

  /* owned */
  KefuLocalStore *store;
  char           *call_id;
  gint64          customer_id;
  gint64          case_id;
  char           *saved_notes;   /* notes already sent, so a second save adds only new text */
  guint           draft_source;
  gulong          notes_handler;
  gboolean        filling;
  guint           wrapup_remaining;  /* seconds; 0: no wrap-up prompt */
};

G_DEFINE_FINAL_TYPE (KefuCaseEditor, kefu_case_editor, GTK_TYPE_WIDGET)

static guint
choice_index (const Choice *choices,
              gsize         n,
              const char   *id,
              guint         fallback)
{
  for (gsize i = 0; i < n; i++)
    if (g_strcmp0 (choices[i].id, id) == 0)
      return (guint) i;
  return fallback;
}

static const char *
choice_id (const Choice *choices,
           gsize         n,
           AdwComboRow  *row)
{
  guint i = adw_combo_row_get_selected (row);

  return i < n ? choices[i].id : choices[0].id;
}

static char *
draft_key (KefuCaseEditor *self)
{
  if (self->call_id)
    return g_strdup_printf ("case:call:%s", self->call_id);
  return g_strdup_printf ("case:customer:%" G_GINT64_FORMAT, self->customer_id);
}

static char *
get_notes (KefuCaseEditor *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->notes_view);
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
}

static JsonObject *
read_form (KefuCaseEditor *self)
{
  JsonObject *doc = json_object_new ();
  g_autofree char *subject = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->subject_row))));
  const char *category = choice_id (categories, G_N_ELEMENTS (categories), self->category_row);
  const char *disposition = choice_id (dispositions, G_N_ELEMENTS (dispositions),
                                       self->disposition_row);

  json_object_set_string_member (doc, "subject", subject);
  if (category[0])
    json_object_set_string_member (doc, "category", category);
  if (disposition[0])
    json_object_set_string_member (doc, "disposition", disposition);
  json_object_set_string_member (doc, "priority",
                                 choice_id (priorities, G_N_ELEMENTS (priorities), self->priority_row));
  json_object_set_string_member (doc, "status",
                                 choice_id (statuses, G_N_ELEMENTS (statuses), self->status_row));
  return doc;
}

static void
fill_form (KefuCaseEditor *self,
           JsonObject     *from)
{
  const char *s;

  self->filling = TRUE;
  s = from ? kefu_json_get_string (from, "subject") : NULL;
  gtk_editable_set_text (GTK_EDITABLE (self->subject_row), s ? s : "");
  adw_combo_row_set_selected (self->category_row,
                              choice_index (categories, G_N_ELEMENTS (categories),
                                            from ? kefu_json_get_string (from, "category") : NULL, 0));
  adw_combo_row_set_selected (self->disposition_row,
                              choice_index (dispositions, G_N_ELEMENTS (dispositions),
                                            from ? kefu_json_get_string (from, "disposition") : NULL, 0));
  adw_combo_row_set_selected (self->priority_row,
                              choice_index (priorities, G_N_ELEMENTS (priorities),
                                            from ? kefu_json_get_string (from, "priority") : NULL, 1));
  adw_combo_row_set_selected (self->status_row,
                              choice_index (statuses, G_N_ELEMENTS (statuses),
                                            from ? kefu_json_get_string (from, "status") : NULL, 0));
  s = from ? kefu_json_get_string (from, "notes_draft") : NULL;
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->notes_view), s ? s : "", -1);
  self->filling = FALSE;
}

static void
show_status (KefuCaseEditor *self)
{
  g_autofree char *text = NULL;

  if (self->case_id && kefu_local_store_id_is_local (self->case_id))
    text = g_strdup (_("Saved here; it goes to the server when it can be reached."));
  else if (self->case_id)
    {
      g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT, self->case_id);

      text = g_strdup_printf (_("Saved as case %s."), id);
    }
  else if (self->call_id)
    text = g_strdup (_("Linked to the current call."));
  else
    text = g_strdup ("");
  gtk_label_set_label (self->status_label, text);
}

/* After the call: the countdown, and what is still missing from the case. */
static void
show_wrapup (KefuCaseEditor *self)
{
  g_autofree char *left = NULL;
  g_autofree char *text = NULL;
  gboolean no_disposition = adw_combo_row_get_selected (self->disposition_row) == 0;

  if (!self->wrapup_remaining)
    {
      gtk_revealer_set_reveal_child (self->wrapup_revealer, FALSE);
      gtk_widget_remove_css_class (GTK_WIDGET (self->disposition_row), "needs-disposition");
      return;
    }
  left = kefu_caller_id_format_duration (self->wrapup_remaining);
  if (no_disposition)
    text = g_strdup_printf (_("Wrap-up, %s left: choose the disposition and save the case."), left);
  else if (!self->case_id)
    text = g_strdup_printf (_("Wrap-up, %s left: save the case."), left);
  else
    text = g_strdup_printf (_("Wrap-up, %s left. The case is saved."), left);
  gtk_label_set_label (self->wrapup_label, text);
  if (no_disposition)
    gtk_widget_add_css_class (GTK_WIDGET (self->disposition_row), "needs-disposition");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->disposition_row), "needs-disposition");
  gtk_revealer_set_reveal_child (self->wrapup_revealer, TRUE);
}

static gboolean
on_draft_timeout (gpointer data)
{
  KefuCaseEditor *self = data;
  g_autoptr(JsonObject) draft = read_form (self);
  g_autofree char *notes = get_notes (self);
  g_autofree char *key = draft_key (self);
  g_autoptr(GError) error = NULL;

  self->draft_source = 0;
  json_object_set_string_member (draft, "notes_draft", notes);
  if (self->case_id)
    json_object_set_int_member (draft, "case_id", self->case_id);
  if (self->store && !kefu_local_store_save_draft (self->store, key, draft, &error))
    g_warning ("could not keep the draft %s: %s", key, error->message);
  return G_SOURCE_REMOVE;
}

static void
flush_draft (KefuCaseEditor *self)
{
  if (self->draft_source)
    {
      g_clear_handle_id (&self->draft_source, g_source_remove);
      on_draft_timeout (self);
    }
}

static void
schedule_draft (KefuCaseEditor *self)
{
  if (self->filling || !self->store)
    return;
  g_clear_handle_id (&self->draft_source, g_source_remove);
  self->draft_source = g_timeout_add (DRAFT_DELAY_MS, on_draft_timeout, self);
}

static void
on_field_changed (GtkEditable    *editable,
                  KefuCaseEditor *self)
{
  schedule_draft (self);
}

static void
on_field_notify (GObject        *object,
                 GParamSpec     *pspec,
                 KefuCaseEditor *self)
{
  schedule_draft (self);
  show_wrapup (self);
}

static void
on_notes_changed (GtkTextBuffer  *buffer,
                  KefuCaseEditor *self)
{
  schedule_draft (self);
}

gboolean
kefu_case_editor_save (KefuCaseEditor *self,
                       GError        **error)
{
  g_autoptr(JsonObject) doc = read_form (self);
  g_autoptr(JsonObject) saved = NULL;
  g_autofree char *notes = get_notes (self);
  g_autofree char *key = NULL;
  const char *new_notes;

  g_return_val_if_fail (KEFU_IS_CASE_EDITOR (self), FALSE);

  if (!self->store)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED, _("Not signed in"));
      return FALSE;
    }
  if (!self->customer_id)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _("Save the customer first: a case belongs to a customer"));
      return FALSE;
    }
  if (!kefu_json_get_string (doc, "subject")[0])
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _("Give the case a subject"));
      gtk_widget_grab_focus (GTK_WIDGET (self->subject_row));
      return FALSE;
    }

  if (self->case_id)
    saved = kefu_local_store_update_case (self->store, self->case_id, doc, error);
  else
    {
      json_object_set_int_member (doc, "customer_id", self->customer_id);
      if (self->call_id)
        json_object_set_string_member (doc, "call_id", self->call_id);
      saved = kefu_local_store_create_case (self->store, doc, error);
    }
  if (!saved)
    return FALSE;
  self->case_id = kefu_json_get_int (saved, "id", 0);

  /* notes are their own records: only what was added since the last save */
  new_notes = notes;
  if (self->saved_notes && g_str_has_prefix (notes, self->saved_notes))
    new_notes = notes + strlen (self->saved_notes);
  while (*new_notes == '\n' || *new_notes == ' ')
    new_notes++;
  if (*new_notes)
    {
      g_autoptr(JsonObject) note = kefu_local_store_add_case_note (self->store, self->case_id,
                                                                   new_notes, error);
      if (!note)
        return FALSE;
    }
  g_free (self->saved_notes);
  self->saved_notes = g_strdup (notes);

  flush_draft (self);
  key = draft_key (self);
  kefu_local_store_delete_draft (self->store, key, NULL);
  show_status (self);
  show_wrapup (self);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_CASE_ID]);
  return TRUE;
}

static void
on_save_activated (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  KefuCaseEditor *self = KEFU_CASE_EDITOR (widget);
  g_autoptr(GError) error = NULL;

  if (!kefu_case_editor_save (self, &error))
    {
      g_autofree char *message = g_strdup_printf (_("Case not saved: %s"), error->message);

      gtk_label_set_label (self->status_label, message);
      gtk_widget_activate_action (widget, "window.toast", "s", message);
      return;
    }
  gtk_widget_activate_action (widget, "window.toast", "s", _("Case saved"));
}

static void
on_new_activated (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  KefuCaseEditor *self = KEFU_CASE_EDITOR (widget);
  g_autofree char *key = draft_key (self);

  /* a second case on the same call: the first one is saved or dropped */
  flush_draft (self);
  if (self->store)
    kefu_local_store_delete_draft (self->store, key, NULL);
  self->case_id = 0;
  g_clear_pointer (&self->saved_notes, g_free);
  fill_form (self, NULL);
  show_status (self);
  gtk_widget_grab_focus (GTK_WIDGET (self->subject_row));
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_CASE_ID]);
}

static void
on_record_id_changed (KefuLocalStore *store,
                      const char     *entity,
                      gint64          old_id,
                      gint64          new_id,
                      KefuCaseEditor *self)
{
  /* the server acknowledged the case: the agent sees its real number */
  if (g_strcmp0 (entity, "case") == 0 && old_id == self->case_id && old_id)
    {
      self->case_id = new_id;
      show_status (self);
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_CASE_ID]);
    }
}

static void
kefu_case_editor_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  KefuCaseEditor *self = KEFU_CASE_EDITOR (object);

  switch (prop_id)
    {
    case PROP_CASE_ID:
      g_value_set_int64 (value, self->case_id);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kefu_case_editor_dispose (GObject *object)
{
  KefuCaseEditor *self = KEFU_CASE_EDITOR (object);

  flush_draft (self);
  if (self->store)
    g_signal_handlers_disconnect_by_data (self->store, self);
  g_clear_object (&self->store);
  gtk_widget_dispose_template (GTK_WIDGET (self), KEFU_TYPE_CASE_EDITOR);
  /* unbound template children are not unparented by dispose_template */
  for (GtkWidget *child; (child = gtk_widget_get_first_child (GTK_WIDGET (self)));)
    gtk_widget_unparent (child);
  G_OBJECT_CLASS (kefu_case_editor_parent_class)->dispose (object);
}

static void
kefu_case_editor_finalize (GObject *object)
{
  KefuCaseEditor *self = KEFU_CASE_EDITOR (object);

  g_free (self->call_id);
  g_free (self->saved_notes);
  G_OBJECT_CLASS (kefu_case_editor_parent_class)->finalize (object);
}

static void
kefu_case_editor_class_init (KefuCaseEditorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->get_property = kefu_case_editor_get_property;
  object_class->dispose = kefu_case_editor_dispose;
  object_class->finalize = kefu_case_editor_finalize;

  props[PROP_CASE_ID] =
    g_param_spec_int64 ("case-id", NULL, NULL, 0, G_MAXINT64, 0,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/kefu/Kefu/ui/kefu-case-editor.ui");
  gtk_widget_class_bind_template_child (widget_class, KefuCaseEditor, group);
  gtk_widget_class_bind_template_child (widget_class, KefuCaseEditor, subject_row);
  gtk_widget_class_bind_template_child (widget_class, KefuCaseEditor, category_row);
  gtk_widget_class_bind_template_child (widget_class, KefuCaseEditor, category_names);
  gtk_widget_class_bind_template_child (widget_class, KefuCaseEditor, disposition_row);
  gtk_widget_class_bind_template_child (widget_class, KefuCaseEditor, disposition_names);
  gtk_widget_class_bind_template_child (widget_class, KefuCaseEditor, priority_row);
  gtk_widget_class_bind_template_child (widget_class, KefuCaseEditor, priority_names);
  gtk_widget_class_bind_template_child (widget_class, KefuCaseEditor, status_row);
  gtk_widget_class_bind_template_child (widget_class, KefuCaseEditor, status_names);
  gtk_widget_class_bind_template_child (widget_class, KefuCaseEditor, notes_view);
  gtk_widget_class_bind_template_child (widget_class, KefuCaseEditor, status_label);
  gtk_widget_class_bind_template_child (widget_class, KefuCaseEditor, wrapup_revealer);
  gtk_widget_class_bind_template_child (widget_class, KefuCaseEditor, wrapup_label);
  gtk_widget_class_bind_template_callback (widget_class, on_field_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_field_notify);

  gtk_widget_class_install_action (widget_class, "case.save", NULL, on_save_activated);
  gtk_widget_class_install_action (widget_class, "case.new", NULL, on_new_activated);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "caseeditor");
}

static void
fill_names (GtkStringList *list,
            const Choice  *choices,
            gsize          n)
{
  for (gsize i = 0; i < n; i++)
    gtk_string_list_append (list, _(choices[i].label));
}

static void
kefu_case_editor_init (KefuCaseEditor *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  fill_names (self->category_names, categories, G_N_ELEMENTS (categories));
  fill_names (self->disposition_names, dispositions, G_N_ELEMENTS (dispositions));
  fill_names (self->priority_names, priorities, G_N_ELEMENTS (priorities));
  fill_names (self->status_names, statuses, G_N_ELEMENTS (statuses));
  fill_form (self, NULL);
  self->notes_handler = g_signal_connect (gtk_text_view_get_buffer (self->notes_view), "changed",
                                          G_CALLBACK (on_notes_changed), self);

  /* Ctrl+S and Ctrl+N save and start a case from anywhere in the window */
  {
    GtkEventController *controller = gtk_shortcut_controller_new ();

    gtk_shortcut_controller_set_scope (GTK_SHORTCUT_CONTROLLER (controller),
                                       GTK_SHORTCUT_SCOPE_GLOBAL);
    gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (controller),
                                          gtk_shortcut_new (gtk_shortcut_trigger_parse_string ("<Control>s"),
                                                            gtk_named_action_new ("case.save")));
    gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (controller),
                                          gtk_shortcut_new (gtk_shortcut_trigger_parse_string ("<Control>n"),
                                                            gtk_named_action_new ("case.new")));
    gtk_widget_add_controller (GTK_WIDGET (self), controller);
  }
}

GtkWidget *
kefu_case_editor_new (void)
{
  return g_object_new (KEFU_TYPE_CASE_EDITOR, NULL);
}

void
kefu_case_editor_set_store (KefuCaseEditor *self,
                            KefuLocalStore *store)
{
  g_return_if_fail (KEFU_IS_CASE_EDITOR (self));
  flush_draft (self);
  if (self->store)
    g_signal_handlers_disconnect_by_data (self->store, self);
  g_set_object (&self->store, store);
  if (store)
    g_signal_connect (store, "record-id-changed", G_CALLBACK (on_record_id_changed), self);
}

void
kefu_case_editor_start (KefuCaseEditor *self,
                        const char     *call_id,
                        gint64          customer_id)
{
  g_autofree char *key = NULL;
  g_autoptr(JsonObject) draft = NULL;

  g_return_if_fail (KEFU_IS_CASE_EDITOR (self));

  flush_draft (self);
  g_free (self->call_id);
  self->call_id = call_id && call_id[0] ? g_strdup (call_id) : NULL;
  self->customer_id = customer_id;
  self->case_id = 0;
  g_clear_pointer (&self->saved_notes, g_free);

  key = draft_key (self);
  draft = self->store ? kefu_local_store_load_draft (self->store, key, NULL) : NULL;
  fill_form (self, draft);
  if (draft)
    self->case_id = kefu_json_get_int (draft, "case_id", 0);
  adw_preferences_group_set_title (self->group, self->call_id ? _("Case for this call")
                                                              : _("Case"));
  show_status (self);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_CASE_ID]);
}

void
kefu_case_editor_set_customer_id (KefuCaseEditor *self,
                                  gint64          customer_id)
{
  g_return_if_fail (KEFU_IS_CASE_EDITOR (self));
  self->customer_id = customer_id;
}

gint64
kefu_case_editor_get_case_id (KefuCaseEditor *self)
{
  g_return_val_if_fail (KEFU_IS_CASE_EDITOR (self), 0);
  return self->case_id;
}

const char *
kefu_case_editor_get_call_id (KefuCaseEditor *self)
{
  g_return_val_if_fail (KEFU_IS_CASE_EDITOR (self), NULL);
  return self->call_id;
}

void
kefu_case_editor_fill (KefuCaseEditor *self,
                       const char     *subject,
                       const char     *category,
                       const char     *disposition,
                       const char     *notes)
{
  g_return_if_fail (KEFU_IS_CASE_EDITOR (self));

  if (subject)
    gtk_editable_set_text (GTK_EDITABLE (self->subject_row), subject);
  if (category)
    adw_combo_row_set_selected (self->category_row,
                                choice_index (categories, G_N_ELEMENTS (categories), category, 0));
  if (disposition)
    adw_combo_row_set_selected (self->disposition_row,
                                choice_index (dispositions, G_N_ELEMENTS (dispositions),
                                              disposition, 0));
  if (notes)
    gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->notes_view), notes, -1);
}

void
kefu_case_editor_set_wrapup (KefuCaseEditor *self,
                             guint           remaining)
{
  g_return_if_fail (KEFU_IS_CASE_EDITOR (self));
  self->wrapup_remaining = remaining;
  show_wrapup (self);
}

const char *
kefu_case_editor_get_wrapup_prompt (KefuCaseEditor *self)
{
  g_return_val_if_fail (KEFU_IS_CASE_EDITOR (self), NULL);
  return self->wrapup_remaining ? gtk_label_get_label (self->wrapup_label) : "";
}

const char *
kefu_case_editor_get_disposition (KefuCaseEditor *self)
{
  g_return_val_if_fail (KEFU_IS_CASE_EDITOR (self), NULL);
  return choice_id (dispositions, G_N_ELEMENTS (dispositions), self->disposition_row);
}
