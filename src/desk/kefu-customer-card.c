/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuCustomerCard"

#include "config.h"

#include "kefu-customer-card.h"

#include <glib/gi18n.h>
#include <adwaita.h>
#include <string.h>

#include "kefu-call-row.h"
#include "kefu-caller-id.h"
#include "kefu-case-editor.h"
#include "kefu-record.h"

#define DRAFT_DELAY_MS 400

enum {
  PROP_0,
  PROP_CUSTOMER_ID,
  PROP_EDITING,
  N_PROPS,
};

static GParamSpec *props[N_PROPS];

enum {
  SIGNAL_CUSTOMER_SAVED,
  N_SIGNALS,
};

static guint signals[N_SIGNALS];

/* the store's tier values, in the order the combo row shows them */
static const char * const tier_ids[] = { "vip", "gold", "normal", "new", NULL };

struct _KefuCustomerCard
{
  GtkWidget parent_instance;

  /* template widgets */
  GtkStack             *stack;
  AdwAvatar            *avatar;
  GtkLabel             *name_label;
  GtkLabel             *tier_label;
  GtkLabel             *company_label;
  GtkLabel             *owner_label;
  GtkFlowBox           *tags_box;
  AdwPreferencesGroup  *contact_group;
  GtkLabel             *notes_label;
  AdwPreferencesGroup  *timeline_group;
  GtkLabel             *edit_title;
  AdwEntryRow          *name_row;
  AdwEntryRow          *company_row;
  AdwComboRow          *tier_row;
  GtkStringList        *tier_names;
  AdwEntryRow          *owner_row;
  AdwEntryRow          *phones_row;
  AdwEntryRow          *emails_row;
  AdwEntryRow          *tags_row;
  GtkLabel             *edit_error_label;

  /* owned */
  KefuLocalStore *store;
  JsonObject     *customer;        /* as shown; NULL for a new customer */
  gint64          customer_id;
  GPtrArray      *contact_rows;    /* widgets added to contact_group */
  GPtrArray      *timeline_rows;   /* widgets added to timeline_group */
  gulong          changed_handler;
  guint           draft_source;
  gboolean        editing;
  gboolean        filling;         /* setting fields from code: no draft */
};

G_DEFINE_FINAL_TYPE (KefuCustomerCard, kefu_customer_card, GTK_TYPE_WIDGET)

static const char *
tier_name (const char *tier)
{
  if (g_strcmp0 (tier, "vip") == 0)
    return _("VIP");
  if (g_strcmp0 (tier, "gold") == 0)
    return _("Gold");
  if (g_strcmp0 (tier, "new") == 0)
    return _("New");
  return _("Normal");
}

static char *
draft_key (KefuCustomerCard *self)
{
  return self->customer_id ? g_strdup_printf ("customer:%" G_GINT64_FORMAT, self->customer_id)
                           : g_strdup ("customer:new");
}

static char *
format_time (const char *iso)
{
  g_autoptr(GDateTime) utc = iso ? g_date_time_new_from_iso8601 (iso, NULL) : NULL;
  g_autoptr(GDateTime) local = utc ? g_date_time_to_local (utc) : NULL;

  /* a fixed, sortable form: agents compare times across rows */
  return local ? g_date_time_format (local, "%Y-%m-%d %H:%M") : g_strdup (iso ? iso : "");
}

static char *
join_array (JsonObject *object,
            const char *member,
            const char *separator)
{
  JsonArray *array = object && json_object_has_member (object, member)
                     && JSON_NODE_HOLDS_ARRAY (json_object_get_member (object, member))
                     ? json_object_get_array_member (object, member) : NULL;
  GString *out = g_string_new (NULL);

  for (guint i = 0; array && i < json_array_get_length (array); i++)
    {
      const char *s = json_array_get_string_element (array, i);

      if (!s)
        continue;
      if (out->len)
        g_string_append (out, separator);
      g_string_append (out, s);
    }
  return g_string_free (out, FALSE);
}

static JsonArray *
split_list (const char *text)
{
  g_auto(GStrv) parts = g_strsplit_set (text ? text : "", ",;，、", -1);
  JsonArray *array = json_array_new ();

  for (char **p = parts; *p; p++)
    {
      g_strstrip (*p);
      if (**p)
        json_array_add_string_element (array, *p);
    }
  return array;
}

/* --- view ------------------------------------------------------------------ */

static void
clear_rows (AdwPreferencesGroup *group,
            GPtrArray           *rows)
{
  for (guint i = 0; i < rows->len; i++)
    adw_preferences_group_remove (group, rows->pdata[i]);
  g_ptr_array_set_size (rows, 0);
}

static void
add_row (AdwPreferencesGroup *group,
         GPtrArray           *rows,
         GtkWidget           *row)
{
  adw_preferences_group_add (group, row);
  g_ptr_array_add (rows, row);
}

static void
add_phone_rows (KefuCustomerCard *self)
{
  JsonArray *phones = self->customer && json_object_has_member (self->customer, "phones")
                      ? json_object_get_array_member (self->customer, "phones") : NULL;
  JsonArray *emails = self->customer && json_object_has_member (self->customer, "emails")
                      ? json_object_get_array_member (self->customer, "emails") : NULL;

  for (guint i = 0; phones && i < json_array_get_length (phones); i++)
    {
      const char *number = json_array_get_string_element (phones, i);
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *button = gtk_button_new_from_icon_name ("call-start-symbolic");
      g_autofree char *label = g_strdup_printf (_("Call %s"), number);

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), number);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), _("Phone"));
      gtk_widget_add_css_class (row, "property");
      gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
      gtk_widget_add_css_class (button, "flat");
      gtk_widget_set_tooltip_text (button, label);
      gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      label, -1);
      gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "card.dial");
      gtk_actionable_set_action_target (GTK_ACTIONABLE (button), "s", number);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
      adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), button);
      add_row (self->contact_group, self->contact_rows, row);
    }
  for (guint i = 0; emails && i < json_array_get_length (emails); i++)
    {
      GtkWidget *row = adw_action_row_new ();

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row),
                                     json_array_get_string_element (emails, i));
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), _("E-mail"));
      gtk_widget_add_css_class (row, "property");
      add_row (self->contact_group, self->contact_rows, row);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->contact_group), self->contact_rows->len > 0);
}

/* Click-to-dial on a past call: the number on the customer's side of it. */
static void
add_call_back_button (GtkWidget  *row,
                      JsonObject *call)
{
  const char *number = g_strcmp0 (kefu_json_get_string (call, "direction"), "outbound") == 0
                       ? kefu_json_get_string (call, "callee")
                       : kefu_json_get_string (call, "caller");
  g_autofree char *label = NULL;
  GtkWidget *button;

  if (!number || !number[0])
    return;
  label = g_strdup_printf (_("Call %s"), number);
  button = gtk_button_new_from_icon_name ("call-start-symbolic");
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (button, "flat");
  gtk_widget_set_tooltip_text (button, label);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "card.dial");
  gtk_actionable_set_action_target (GTK_ACTIONABLE (button), "s", number);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
}

static void
describe_timeline_item (JsonObject  *item,
                        char       **title,
                        char       **detail,
                        const char **icon)
{
  const char *kind = kefu_json_get_string (item, "kind");
  JsonObject *record = json_object_has_member (item, "record")
                       ? json_object_get_object_member (item, "record") : NULL;

  if (g_strcmp0 (kind, "call") == 0)
    {
      const char *direction = kefu_json_get_string (record, "direction");
      const char *outcome = kefu_json_get_string (record, "outcome");
      const char *agent = kefu_json_get_string (record, "agent");
      double talk = kefu_json_get_double (record, "talk_s", 0);
      g_autofree char *duration = kefu_caller_id_format_duration ((gint64) talk);

      *icon = g_strcmp0 (direction, "outbound") == 0 ? "call-outgoing-symbolic"
                                                     : "call-incoming-symbolic";
      *title = g_strcmp0 (direction, "outbound") == 0
               ? g_strdup_printf (_("Call out, %s talked"), duration)
               : g_strdup_printf (_("Call in, %s talked"), duration);
      outcome = kefu_call_outcome_describe (outcome);
      *detail = g_strdup_printf ("%s%s%s", outcome ? outcome : "", agent ? " · " : "",
                                 agent ? agent : "");
    }
  else if (g_strcmp0 (kind, "case") == 0)
    {
      const char *status = kefu_case_choice_label ("status", kefu_json_get_string (record, "status"));
      const char *category = kefu_case_choice_label ("category",
                                                     kefu_json_get_string (record, "category"));

      *icon = "folder-documents-symbolic";
      *title = g_strdup_printf (_("Case: %s"), kefu_json_get_string (record, "subject"));
      *detail = g_strdup_printf ("%s%s%s", status ? status : "", category ? " · " : "",
                                 category ? category : "");
    }
  else if (g_strcmp0 (kind, "note") == 0)
    {
      *icon = "accessories-text-editor-symbolic";
      *title = g_strdup (kefu_json_get_string (record, "body"));
      *detail = g_strdup_printf (_("Note on “%s”"),
                                 kefu_json_get_string (record, "case_subject")
                                 ? kefu_json_get_string (record, "case_subject") : "");
    }
  else
    {
      *icon = "printer-symbolic";
      *title = g_strdup_printf (_("Fax: %s"), kefu_json_get_string (record, "subject")
                                              ? kefu_json_get_string (record, "subject") : "");
      *detail = g_strdup (kefu_json_get_string (record, "status"));
    }
}

static void
add_timeline_rows (KefuCustomerCard *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) timeline = NULL;
  /* an agent reads the last few contacts; the rest is a search away */
  const guint max_rows = 30;

  if (self->store && self->customer_id)
    timeline = kefu_local_store_get_timeline (self->store, self->customer_id, &error);
  if (error)
    g_warning ("timeline of customer %" G_GINT64_FORMAT ": %s", self->customer_id,
               error->message);
  for (guint i = 0; timeline && i < json_array_get_length (timeline) && i < max_rows; i++)
    {
      JsonObject *item = json_array_get_object_element (timeline, i);
      g_autofree char *title = NULL;
      g_autofree char *detail = NULL;
      g_autofree char *when = format_time (kefu_json_get_string (item, "at"));
      g_autofree char *subtitle = NULL;
      const char *icon = NULL;
      GtkWidget *row = adw_action_row_new ();

      describe_timeline_item (item, &title, &detail, &icon);
      subtitle = detail && detail[0] ? g_strdup_printf ("%s · %s", when, detail)
                                     : g_strdup (when);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title ? title : "");
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
      adw_action_row_set_title_lines (ADW_ACTION_ROW (row), 2);
      adw_action_row_set_icon_name (ADW_ACTION_ROW (row), icon);
      if (g_strcmp0 (kefu_json_get_string (item, "kind"), "call") == 0)
        add_call_back_button (row, json_object_get_object_member (item, "record"));
      add_row (self->timeline_group, self->timeline_rows, row);
    }
  if (!self->timeline_rows->len)
    {
      GtkWidget *row = adw_action_row_new ();

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _("No calls or cases yet"));
      add_row (self->timeline_group, self->timeline_rows, row);
    }
}

static void
fill_view (KefuCustomerCard *self)
{
  JsonObject *c = self->customer;
  const char *name = c ? kefu_json_get_string (c, "name") : NULL;
  const char *company = c ? kefu_json_get_string (c, "company") : NULL;
  const char *tier = c ? kefu_json_get_string (c, "tier") : NULL;
  const char *owner = c ? kefu_json_get_string (c, "owner") : NULL;
  const char *notes = c ? kefu_json_get_string (c, "notes") : NULL;
  g_autofree char *owner_text = owner && owner[0] ? g_strdup_printf (_("Owner: %s"), owner) : NULL;
  g_autofree char *tags = join_array (c, "tags", ",");
  g_auto(GStrv) tag_list = g_strsplit (tags, ",", -1);
  GtkWidget *child;

  gtk_label_set_label (self->name_label, name ? name : "");
  adw_avatar_set_text (self->avatar, name);
  gtk_label_set_label (self->company_label, company ? company : "");
  gtk_widget_set_visible (GTK_WIDGET (self->company_label), company && company[0]);
  gtk_label_set_label (self->owner_label, owner_text ? owner_text : "");
  gtk_widget_set_visible (GTK_WIDGET (self->owner_label), owner_text != NULL);

  gtk_label_set_label (self->tier_label, tier_name (tier));
  for (const char * const *t = tier_ids; *t; t++)
    {
      g_autofree char *css = g_strconcat ("tier-", *t, NULL);

      gtk_widget_remove_css_class (GTK_WIDGET (self->tier_label), css);
    }
  {
    g_autofree char *css = g_strconcat ("tier-", tier ? tier : "normal", NULL);

    gtk_widget_add_css_class (GTK_WIDGET (self->tier_label), css);
  }
  /* the badge's box, so that no spacing is left for a hidden badge */
  gtk_widget_set_visible (gtk_widget_get_parent (GTK_WIDGET (self->tier_label)),
                          tier && g_strcmp0 (tier, "normal") != 0);
  if (g_strcmp0 (tier, "vip") == 0)
    gtk_widget_add_css_class (GTK_WIDGET (self), "vip");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self), "vip");

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->tags_box))))
    gtk_flow_box_remove (self->tags_box, child);
  for (char **t = tag_list; *t; t++)
    if (**t)
      {
        GtkWidget *label = gtk_label_new (*t);

        gtk_widget_add_css_class (label, "tag");
        gtk_flow_box_append (self->tags_box, label);
      }
  gtk_widget_set_visible (GTK_WIDGET (self->tags_box), tags[0] != '\0');

  gtk_label_set_label (self->notes_label, notes ? notes : "");
  gtk_widget_set_visible (GTK_WIDGET (self->notes_label), notes && notes[0]);

  clear_rows (self->contact_group, self->contact_rows);
  clear_rows (self->timeline_group, self->timeline_rows);
  add_phone_rows (self);
  add_timeline_rows (self);
}

/* --- edit ------------------------------------------------------------------ */

static void
set_editing (KefuCustomerCard *self,
             gboolean          editing)
{
  self->editing = editing;
  gtk_stack_set_visible_child_name (self->stack, editing ? "edit" : "view");
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "card.save", editing);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "card.cancel", editing);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "card.edit", !editing && self->customer);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_EDITING]);
}

static guint
tier_index (const char *tier)
{
  for (guint i = 0; tier_ids[i]; i++)
    if (g_strcmp0 (tier_ids[i], tier) == 0)
      return i;
  return 2;  /* normal */
}

static void
fill_form (KefuCustomerCard *self,
           JsonObject       *from)
{
  g_autofree char *phones = join_array (from, "phones", ", ");
  g_autofree char *emails = join_array (from, "emails", ", ");
  g_autofree char *tags = join_array (from, "tags", ", ");
  const char *s;

  self->filling = TRUE;
  s = from ? kefu_json_get_string (from, "name") : NULL;
  gtk_editable_set_text (GTK_EDITABLE (self->name_row), s ? s : "");
  s = from ? kefu_json_get_string (from, "company") : NULL;
  gtk_editable_set_text (GTK_EDITABLE (self->company_row), s ? s : "");
  adw_combo_row_set_selected (self->tier_row,
                              tier_index (from ? kefu_json_get_string (from, "tier") : NULL));
  s = from ? kefu_json_get_string (from, "owner") : NULL;
  gtk_editable_set_text (GTK_EDITABLE (self->owner_row), s ? s : "");
  gtk_editable_set_text (GTK_EDITABLE (self->phones_row), phones);
  gtk_editable_set_text (GTK_EDITABLE (self->emails_row), emails);
  gtk_editable_set_text (GTK_EDITABLE (self->tags_row), tags);
  gtk_widget_set_visible (GTK_WIDGET (self->edit_error_label), FALSE);
  self->filling = FALSE;
}

/* What the form holds, as a customer document (every field). */
static JsonObject *
read_form (KefuCustomerCard *self)
{
  JsonObject *doc = json_object_new ();
  const char *name = gtk_editable_get_text (GTK_EDITABLE (self->name_row));
  const char *company = gtk_editable_get_text (GTK_EDITABLE (self->company_row));
  const char *owner = gtk_editable_get_text (GTK_EDITABLE (self->owner_row));
  guint tier = adw_combo_row_get_selected (self->tier_row);

  json_object_set_string_member (doc, "name", name);
  if (company[0] || (self->customer && json_object_has_member (self->customer, "company")))
    json_object_set_string_member (doc, "company", company);
  json_object_set_string_member (doc, "tier", tier < G_N_ELEMENTS (tier_ids) - 1
                                              ? tier_ids[tier] : "normal");
  if (owner[0] || (self->customer && json_object_has_member (self->customer, "owner")))
    json_object_set_string_member (doc, "owner", owner);
  json_object_set_array_member (doc, "phones",
                                split_list (gtk_editable_get_text (GTK_EDITABLE (self->phones_row))));
  json_object_set_array_member (doc, "emails",
                                split_list (gtk_editable_get_text (GTK_EDITABLE (self->emails_row))));
  json_object_set_array_member (doc, "tags",
                                split_list (gtk_editable_get_text (GTK_EDITABLE (self->tags_row))));
  return doc;
}

static gboolean
on_draft_timeout (gpointer data)
{
  KefuCustomerCard *self = data;
  g_autoptr(JsonObject) draft = read_form (self);
  g_autofree char *key = draft_key (self);
  g_autoptr(GError) error = NULL;

  self->draft_source = 0;
  if (self->store && !kefu_local_store_save_draft (self->store, key, draft, &error))
    g_warning ("could not keep the draft %s: %s", key, error->message);
  return G_SOURCE_REMOVE;
}

static void
schedule_draft (KefuCustomerCard *self)
{
  if (self->filling || !self->editing)
    return;
  g_clear_handle_id (&self->draft_source, g_source_remove);
  self->draft_source = g_timeout_add (DRAFT_DELAY_MS, on_draft_timeout, self);
}

static void
on_field_changed (GtkEditable      *editable,
                  KefuCustomerCard *self)
{
  schedule_draft (self);
}

static void
on_field_notify (GObject          *object,
                 GParamSpec       *pspec,
                 KefuCustomerCard *self)
{
  schedule_draft (self);
}

static void
drop_draft (KefuCustomerCard *self)
{
  g_autofree char *key = draft_key (self);

  g_clear_handle_id (&self->draft_source, g_source_remove);
  if (self->store)
    kefu_local_store_delete_draft (self->store, key, NULL);
}

static void
start_editing (KefuCustomerCard *self)
{
  g_autofree char *key = draft_key (self);
  g_autoptr(JsonObject) draft = self->store ? kefu_local_store_load_draft (self->store, key, NULL)
                                            : NULL;

  gtk_label_set_label (self->edit_title, self->customer_id ? _("Edit Customer")
                                                           : _("New Customer"));
  fill_form (self, draft ? draft : self->customer);
  set_editing (self, TRUE);
  gtk_widget_grab_focus (GTK_WIDGET (self->name_row));
}

static void
on_edit_activated (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  start_editing (KEFU_CUSTOMER_CARD (widget));
}

static void
on_cancel_activated (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  KefuCustomerCard *self = KEFU_CUSTOMER_CARD (widget);

  drop_draft (self);
  if (self->customer)
    set_editing (self, FALSE);
  else
    fill_form (self, NULL);
}

/* Only the members that differ go in an update: a field someone else
 * changed meanwhile is not overwritten with what this card last saw. */
static JsonObject *
diff_against (JsonObject *before,
              JsonObject *after)
{
  JsonObject *patch = json_object_new ();
  g_autoptr(GList) members = json_object_get_members (after);

  for (GList *l = members; l; l = l->next)
    {
      JsonNode *new_value = json_object_get_member (after, l->data);
      JsonNode *old_value = before && json_object_has_member (before, l->data)
                            ? json_object_get_member (before, l->data) : NULL;

      if (!old_value || !json_node_equal (old_value, new_value))
        json_object_set_member (patch, l->data, json_node_copy (new_value));
    }
  return patch;
}

static void
on_save_activated (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  KefuCustomerCard *self = KEFU_CUSTOMER_CARD (widget);
  g_autoptr(JsonObject) doc = read_form (self);
  g_autoptr(JsonObject) saved = NULL;
  g_autoptr(GError) error = NULL;

  if (!self->store)
    return;
  {
    g_autofree char *name = g_strstrip (g_strdup (kefu_json_get_string (doc, "name")));

    /* the server takes an empty name; an agent searching later does not */
    if (!name[0])
      {
        gtk_label_set_label (self->edit_error_label, _("Give the customer a name"));
        gtk_widget_set_visible (GTK_WIDGET (self->edit_error_label), TRUE);
        gtk_widget_grab_focus (GTK_WIDGET (self->name_row));
        return;
      }
  }
  if (self->customer_id)
    {
      g_autoptr(JsonObject) patch = diff_against (self->customer, doc);

      saved = json_object_get_size (patch) == 0
              ? json_object_ref (self->customer)
              : kefu_local_store_update_customer (self->store, self->customer_id, patch, &error);
    }
  else
    saved = kefu_local_store_create_customer (self->store, doc, &error);

  if (!saved)
    {
      gtk_label_set_label (self->edit_error_label, error->message);
      gtk_widget_set_visible (GTK_WIDGET (self->edit_error_label), TRUE);
      return;
    }
  drop_draft (self);
  self->customer_id = kefu_json_get_int (saved, "id", 0);
  g_clear_pointer (&self->customer, json_object_unref);
  self->customer = json_object_ref (saved);
  fill_view (self);
  set_editing (self, FALSE);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_CUSTOMER_ID]);
  g_signal_emit (self, signals[SIGNAL_CUSTOMER_SAVED], 0, self->customer_id);
}

static void
on_dial_activated (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  gtk_widget_activate_action_variant (widget, "window.dial", parameter);
}

static void
on_customer_changed (KefuLocalStore   *store,
                     gint64            customer_id,
                     KefuCustomerCard *self)
{
  g_autoptr(JsonObject) customer = NULL;

  if (customer_id != self->customer_id || !customer_id)
    return;
  customer = kefu_local_store_get_customer (store, customer_id, NULL);
  if (!customer)
    return;
  g_clear_pointer (&self->customer, json_object_unref);
  self->customer = g_steal_pointer (&customer);
  /* a sync while the agent types must not wipe the form: the view updates,
   * the form keeps what is typed */
  fill_view (self);
}

static void
on_record_id_changed (KefuLocalStore   *store,
                      const char       *entity,
                      gint64            old_id,
                      gint64            new_id,
                      KefuCustomerCard *self)
{
  if (g_strcmp0 (entity, "customer") == 0 && old_id == self->customer_id)
    {
      self->customer_id = new_id;
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_CUSTOMER_ID]);
    }
}

/* --- GObject --------------------------------------------------------------- */

static void
kefu_customer_card_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  KefuCustomerCard *self = KEFU_CUSTOMER_CARD (object);

  switch (prop_id)
    {
    case PROP_CUSTOMER_ID:
      g_value_set_int64 (value, self->customer_id);
      break;
    case PROP_EDITING:
      g_value_set_boolean (value, self->editing);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kefu_customer_card_dispose (GObject *object)
{
  KefuCustomerCard *self = KEFU_CUSTOMER_CARD (object);

  /* what is typed is kept even when the window goes */
  if (self->draft_source)
    {
      g_clear_handle_id (&self->draft_source, g_source_remove);
      on_draft_timeout (self);
    }
  kefu_customer_card_set_store (self, NULL);
  g_clear_pointer (&self->customer, json_object_unref);
  gtk_widget_dispose_template (GTK_WIDGET (self), KEFU_TYPE_CUSTOMER_CARD);
  /* unbound template children are not unparented by dispose_template */
  for (GtkWidget *child; (child = gtk_widget_get_first_child (GTK_WIDGET (self)));)
    gtk_widget_unparent (child);
  G_OBJECT_CLASS (kefu_customer_card_parent_class)->dispose (object);
}

static void
kefu_customer_card_finalize (GObject *object)
{
  KefuCustomerCard *self = KEFU_CUSTOMER_CARD (object);

  g_ptr_array_unref (self->contact_rows);
  g_ptr_array_unref (self->timeline_rows);
  G_OBJECT_CLASS (kefu_customer_card_parent_class)->finalize (object);
}

static void
kefu_customer_card_class_init (KefuCustomerCardClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->get_property = kefu_customer_card_get_property;
  object_class->dispose = kefu_customer_card_dispose;
  object_class->finalize = kefu_customer_card_finalize;

  props[PROP_CUSTOMER_ID] =
    g_param_spec_int64 ("customer-id", NULL, NULL, 0, G_MAXINT64, 0,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  props[PROP_EDITING] =
    g_param_spec_boolean ("editing", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);

  /**
   * KefuCustomerCard::customer-saved:
   * @customer_id: the id the store gave (a local id until the server acks)
   */
  signals[SIGNAL_CUSTOMER_SAVED] =
    g_signal_new ("customer-saved", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT64);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/kefu/Kefu/ui/kefu-customer-card.ui");
  gtk_widget_class_bind_template_child (widget_class, KefuCustomerCard, stack);
  gtk_widget_class_bind_template_child (widget_class, KefuCustomerCard, avatar);
  gtk_widget_class_bind_template_child (widget_class, KefuCustomerCard, name_label);
  gtk_widget_class_bind_template_child (widget_class, KefuCustomerCard, tier_label);
  gtk_widget_class_bind_template_child (widget_class, KefuCustomerCard, company_label);
  gtk_widget_class_bind_template_child (widget_class, KefuCustomerCard, owner_label);
  gtk_widget_class_bind_template_child (widget_class, KefuCustomerCard, tags_box);
  gtk_widget_class_bind_template_child (widget_class, KefuCustomerCard, contact_group);
  gtk_widget_class_bind_template_child (widget_class, KefuCustomerCard, notes_label);
  gtk_widget_class_bind_template_child (widget_class, KefuCustomerCard, timeline_group);
  gtk_widget_class_bind_template_child (widget_class, KefuCustomerCard, edit_title);
  gtk_widget_class_bind_template_child (widget_class, KefuCustomerCard, name_row);
  gtk_widget_class_bind_template_child (widget_class, KefuCustomerCard, company_row);
  gtk_widget_class_bind_template_child (widget_class, KefuCustomerCard, tier_row);
  gtk_widget_class_bind_template_child (widget_class, KefuCustomerCard, tier_names);
  gtk_widget_class_bind_template_child (widget_class, KefuCustomerCard, owner_row);
  gtk_widget_class_bind_template_child (widget_class, KefuCustomerCard, phones_row);
  gtk_widget_class_bind_template_child (widget_class, KefuCustomerCard, emails_row);
  gtk_widget_class_bind_template_child (widget_class, KefuCustomerCard, tags_row);
  gtk_widget_class_bind_template_child (widget_class, KefuCustomerCard, edit_error_label);
  gtk_widget_class_bind_template_callback (widget_class, on_field_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_field_notify);

  gtk_widget_class_install_action (widget_class, "card.edit", NULL, on_edit_activated);
  gtk_widget_class_install_action (widget_class, "card.save", NULL, on_save_activated);
  gtk_widget_class_install_action (widget_class, "card.cancel", NULL, on_cancel_activated);
  gtk_widget_class_install_action (widget_class, "card.dial", "s", on_dial_activated);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_e, GDK_CONTROL_MASK, "card.edit", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "card.cancel", NULL);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "customercard");
}

static void
kefu_customer_card_init (KefuCustomerCard *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->contact_rows = g_ptr_array_new ();
  self->timeline_rows = g_ptr_array_new ();
  for (const char * const *t = tier_ids; *t; t++)
    gtk_string_list_append (self->tier_names, tier_name (*t));
  set_editing (self, FALSE);
}

GtkWidget *
kefu_customer_card_new (void)
{
  return g_object_new (KEFU_TYPE_CUSTOMER_CARD, NULL);
}

void
kefu_customer_card_set_store (KefuCustomerCard *self,
                              KefuLocalStore   *store)
{
  g_return_if_fail (KEFU_IS_CUSTOMER_CARD (self));

  if (self->store == store)
    return;
  if (self->store)
    g_signal_handlers_disconnect_by_data (self->store, self);
  self->changed_handler = 0;
  g_set_object (&self->store, store);
  if (store)
    {
      self->changed_handler = g_signal_connect (store, "customer-changed",
                                                G_CALLBACK (on_customer_changed), self);
      g_signal_connect (store, "record-id-changed", G_CALLBACK (on_record_id_changed), self);
    }
}

gboolean
kefu_customer_card_show_customer (KefuCustomerCard *self,
                                  gint64            customer_id,
                                  GError          **error)
{
  g_autoptr(JsonObject) customer = NULL;
  g_autofree char *key = NULL;

  g_return_val_if_fail (KEFU_IS_CUSTOMER_CARD (self), FALSE);
  if (!self->store)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED, _("Not signed in"));
      return FALSE;
    }
  customer = kefu_local_store_get_customer (self->store, customer_id, error);
  if (!customer)
    return FALSE;

  if (self->draft_source)
    {
      g_clear_handle_id (&self->draft_source, g_source_remove);
      on_draft_timeout (self);
    }
  g_clear_pointer (&self->customer, json_object_unref);
  self->customer = g_steal_pointer (&customer);
  self->customer_id = customer_id;
  fill_view (self);
  set_editing (self, FALSE);
  /* an edit left unfinished (a crash, a kill) opens again where it was */
  key = draft_key (self);
  {
    g_autoptr(JsonObject) draft = kefu_local_store_load_draft (self->store, key, NULL);

    if (draft)
      start_editing (self);
  }
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_CUSTOMER_ID]);
  return TRUE;
}

void
kefu_customer_card_new_customer (KefuCustomerCard *self,
                                 const char       *phone)
{
  g_autoptr(JsonObject) draft = NULL;

  g_return_if_fail (KEFU_IS_CUSTOMER_CARD (self));

  if (self->draft_source)
    {
      g_clear_handle_id (&self->draft_source, g_source_remove);
      on_draft_timeout (self);
    }
  g_clear_pointer (&self->customer, json_object_unref);
  self->customer_id = 0;
  clear_rows (self->contact_group, self->contact_rows);
  clear_rows (self->timeline_group, self->timeline_rows);
  gtk_label_set_label (self->edit_title, _("New Customer"));

  draft = self->store ? kefu_local_store_load_draft (self->store, "customer:new", NULL) : NULL;
  /* a draft for another caller's number is not this caller's */
  if (draft && phone)
    {
      g_autofree char *phones = join_array (draft, "phones", ",");

      if (!strstr (phones, phone))
        g_clear_pointer (&draft, json_object_unref);
    }
  if (draft)
    fill_form (self, draft);
  else
    {
      fill_form (self, NULL);
      self->filling = TRUE;
      gtk_editable_set_text (GTK_EDITABLE (self->phones_row), phone ? phone : "");
      adw_combo_row_set_selected (self->tier_row, tier_index ("new"));
      self->filling = FALSE;
    }
  set_editing (self, TRUE);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_CUSTOMER_ID]);
}

gint64
kefu_customer_card_get_customer_id (KefuCustomerCard *self)
{
  g_return_val_if_fail (KEFU_IS_CUSTOMER_CARD (self), 0);
  return self->customer_id;
}

JsonObject *
kefu_customer_card_get_customer (KefuCustomerCard *self)
{
  g_return_val_if_fail (KEFU_IS_CUSTOMER_CARD (self), NULL);
  return self->customer;
}

gboolean
kefu_customer_card_get_editing (KefuCustomerCard *self)
{
  g_return_val_if_fail (KEFU_IS_CUSTOMER_CARD (self), FALSE);
  return self->editing;
}

JsonObject *
kefu_customer_card_dup_form (KefuCustomerCard *self)
{
  g_return_val_if_fail (KEFU_IS_CUSTOMER_CARD (self), NULL);
  return read_form (self);
}
