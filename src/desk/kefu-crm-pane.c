/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuCrmPane"

#include "config.h"

#include "kefu-crm-pane.h"

#include <glib/gi18n.h>
#include <adwaita.h>
#include <string.h>

#include "kefu-call-row.h"
#include "kefu-caller-id.h"
#include "kefu-case-editor.h"
#include "kefu-customer-card.h"
#include "kefu-record.h"

#define SEARCH_LIMIT 50

enum {
  PROP_0,
  PROP_VIEW,
  N_PROPS,
};

static GParamSpec *props[N_PROPS];

struct _KefuCrmPane
{
  GtkWidget parent_instance;

  /* template widgets */
  GtkWidget      *back_button;
  GtkSearchEntry *search_entry;
  GtkRevealer    *call_revealer;
  GtkImage       *call_icon;
  GtkLabel       *call_title;
  GtkLabel       *call_detail;
  GtkStack       *stack;
  GtkLabel       *results_title;
  GtkListBox     *results_list;
  GtkWidget      *new_customer_button;
  GtkListBox     *history_list;
  KefuCustomerCard *card;
  KefuCaseEditor *case_editor;

  /* owned */
  KefuLocalStore *store;
  KefuCall       *call;
  gulong          call_state_handler;
  char           *caller_number;     /* E.164 of the shown call, or its raw number */
  char           *view_before_search;
  char           *agent;             /* whose calls the history lists */
  GdkFrameClock  *pop_clock;         /* timing the next screen pop drawn */
  gulong          pop_paint_handler;
};

G_DEFINE_FINAL_TYPE (KefuCrmPane, kefu_crm_pane, GTK_TYPE_WIDGET)

static void
set_view (KefuCrmPane *self,
          const char  *view)
{
  gtk_stack_set_visible_child_name (self->stack, view);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_VIEW]);
}

/* --- results (search, several matches) ------------------------------------ */

static void
clear_results (KefuCrmPane *self)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->results_list))))
    gtk_list_box_remove (self->results_list, child);
}

static GtkWidget *
create_call_back_button (const char *number)
{
  g_autofree char *label = g_strdup_printf (_("Call %s"), number);
  GtkWidget *button = gtk_button_new_from_icon_name ("call-start-symbolic");

  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (button, "flat");
  gtk_widget_set_tooltip_text (button, label);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "window.dial");
  gtk_actionable_set_action_target (GTK_ACTIONABLE (button), "s", number);
  return button;
}

static GtkWidget *
create_result_row (JsonObject *customer)
{
  GtkWidget *row = adw_action_row_new ();
  const char *company = kefu_json_get_string (customer, "company");
  const char *tier = kefu_json_get_string (customer, "tier");
  JsonArray *phones = json_object_has_member (customer, "phones")
                      ? json_object_get_array_member (customer, "phones") : NULL;
  GString *subtitle = g_string_new (company ? company : "");

  for (guint i = 0; phones && i < json_array_get_length (phones) && i < 2; i++)
    g_string_append_printf (subtitle, "%s%s", subtitle->len ? " · " : "",
                            json_array_get_string_element (phones, i));
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), kefu_json_get_string (customer, "name"));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle->str);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
  if (g_strcmp0 (tier, "vip") == 0)
    {
      GtkWidget *badge = gtk_label_new (_("VIP"));

      gtk_widget_set_valign (badge, GTK_ALIGN_CENTER);
      gtk_widget_add_css_class (badge, "tier-badge");
      gtk_widget_add_css_class (badge, "tier-vip");
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), badge);
    }
  if (phones && json_array_get_length (phones) > 0)
    adw_action_row_add_suffix (ADW_ACTION_ROW (row),
                               create_call_back_button (json_array_get_string_element (phones, 0)));
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), gtk_image_new_from_icon_name ("go-next-symbolic"));
  g_object_set_data (G_OBJECT (row), "customer-id",
                     GSIZE_TO_POINTER ((gsize) kefu_json_get_int (customer, "id", 0)));
  g_string_free (subtitle, TRUE);
  return row;
}

static void
show_results (KefuCrmPane *self,
              JsonArray   *customers,
              const char  *title)
{
  clear_results (self);
  for (guint i = 0; customers && i < json_array_get_length (customers); i++)
    gtk_list_box_append (self->results_list,
                         create_result_row (json_array_get_object_element (customers, i)));
  gtk_widget_set_visible (GTK_WIDGET (self->results_list),
                          customers && json_array_get_length (customers) > 0);
  gtk_label_set_label (self->results_title, title);
  set_view (self, "results");
}

/* --- call history ------------------------------------------------------------ */

static char *
format_call_time (const char *iso)
{
  g_autoptr(GDateTime) utc = iso ? g_date_time_new_from_iso8601 (iso, NULL) : NULL;
  g_autoptr(GDateTime) local = utc ? g_date_time_to_local (utc) : NULL;

  return local ? g_date_time_format (local, "%Y-%m-%d %H:%M") : g_strdup (iso ? iso : "");
}

static GtkWidget *
create_history_row (KefuCrmPane *self,
                    JsonObject  *call)
{
  GtkWidget *row = adw_action_row_new ();
  gboolean outbound = g_strcmp0 (kefu_json_get_string (call, "direction"), "outbound") == 0;
  const char *number = outbound ? kefu_json_get_string (call, "callee")
                                : kefu_json_get_string (call, "caller");
  const char *queue = kefu_json_get_string (call, "queue");
  const char *outcome = kefu_call_outcome_describe (kefu_json_get_string (call, "outcome"));
  gint64 customer_id = kefu_json_get_int (call, "customer_id", 0);
  g_autoptr(JsonObject) customer = NULL;
  g_autofree char *when = format_call_time (kefu_json_get_string (call, "offered_at")
                                            ? kefu_json_get_string (call, "offered_at")
                                            : kefu_json_get_string (call, "created_at"));
  g_autofree char *talk = kefu_caller_id_format_duration ((gint64) kefu_json_get_double (call, "talk_s", 0));
  GString *subtitle = g_string_new (when);
  const char *title;

  if (customer_id && self->store)
    customer = kefu_local_store_get_customer (self->store, customer_id, NULL);
  title = customer ? kefu_json_get_string (customer, "name") : NULL;
  if (!title || !title[0])
    title = number && number[0] ? number : _("Unknown caller");
  if (customer && number && number[0])
    g_string_append_printf (subtitle, " · %s", number);
  if (queue && queue[0])
    g_string_append_printf (subtitle, " · %s", queue);
  if (outcome && outcome[0])
    g_string_append_printf (subtitle, " · %s", outcome);
  g_string_append_printf (subtitle, " · %s", talk);

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle->str);
  adw_action_row_set_icon_name (ADW_ACTION_ROW (row), outbound ? "call-outgoing-symbolic"
                                                               : "call-incoming-symbolic");
  if (number && number[0])
    adw_action_row_add_suffix (ADW_ACTION_ROW (row), create_call_back_button (number));
  /* the row opens the customer; the button calls back */
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), customer != NULL);
  g_object_set_data (G_OBJECT (row), "customer-id", GSIZE_TO_POINTER ((gsize) customer_id));
  g_string_free (subtitle, TRUE);
  return row;
}

static void
show_history (KefuCrmPane *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) calls = NULL;
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->history_list))))
    {
      if (GTK_IS_LIST_BOX_ROW (child))
        gtk_list_box_remove (self->history_list, child);
      else
        break;
    }
  if (self->store)
    calls = kefu_local_store_list_recent_calls (self->store, self->agent, 50, &error);
  if (error)
    g_warning ("recent calls: %s", error->message);
  for (guint i = 0; calls && i < json_array_get_length (calls); i++)
    gtk_list_box_append (self->history_list,
                         create_history_row (self, json_array_get_object_element (calls, i)));
  g_clear_pointer (&self->view_before_search, g_free);
  set_view (self, "history");
}

static void
on_history_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  show_history (KEFU_CRM_PANE (widget));
}

static void
on_result_activated (GtkListBox    *list,
                     GtkListBoxRow *row,
                     KefuCrmPane   *self)
{
  gint64 id = (gint64) GPOINTER_TO_SIZE (g_object_get_data (G_OBJECT (row), "customer-id"));
  g_autoptr(GError) error = NULL;

  if (id && !kefu_crm_pane_show_customer (self, id, &error))
    gtk_widget_activate_action (GTK_WIDGET (self), "window.toast", "s", error->message);
}

/* --- screen pop -------------------------------------------------------------- */

static const char *
call_link_id (KefuCall *call)
{
  /* the switch's id is the call record's id on the server; without a
   * switch the SIP Call-ID is the only id the call has */
  const char *id = kefu_call_get_header (call, "X-Kefu-Call");

  return id ? id : kefu_call_get_header (call, "Call-ID");
}

static gint64
parse_customer_header (const char *value)
{
  const char *p = value;
  guint64 id = 0;

  if (!p)
    return 0;
  /* "1002", or "C-1002" as some IVR scripts write it */
  while (*p && !g_ascii_isdigit (*p))
    p++;
  if (!*p || !g_ascii_string_to_unsigned (p, 10, 1, G_MAXINT64, &id, NULL))
    return 0;
  return (gint64) id;
}

static char *
describe_call (KefuCall *call)
{
  const char *queue = kefu_call_get_header (call, "X-Kefu-Queue");
  const char *ivr = kefu_call_get_header (call, "X-Kefu-Ivr");
  const char *wait = kefu_call_get_header (call, "X-Kefu-Wait");
  GString *out = g_string_new (NULL);
  guint64 wait_s;

  if (queue && queue[0])
    g_string_append_printf (out, _("Queue: %s"), queue);
  if (ivr && ivr[0])
    {
      g_autofree char *path = NULL;
      g_auto(GStrv) parts = g_strsplit_set (ivr, ">/,", -1);

      path = g_strjoinv (" › ", parts);
      if (out->len)
        g_string_append (out, "   ");
      g_string_append_printf (out, _("Menu: %s"), path);
    }
  if (wait && g_ascii_string_to_unsigned (wait, 10, 0, G_MAXUINT32, &wait_s, NULL))
    {
      g_autofree char *duration = kefu_caller_id_format_duration ((gint64) wait_s);

      if (out->len)
        g_string_append (out, "   ");
      g_string_append_printf (out, _("Waited %s"), duration);
    }
  return g_string_free (out, FALSE);
}

static void
update_call_banner (KefuCrmPane *self)
{
  KefuCall *call = self->call;
  KefuCallState state;
  g_autofree char *number = NULL;
  g_autofree char *title = NULL;
  g_autofree char *detail = NULL;

  if (!call)
    {
      gtk_revealer_set_reveal_child (self->call_revealer, FALSE);
      return;
    }
  state = kefu_call_get_state (call);
  number = kefu_caller_id_from_uri (kefu_call_get_peer_uri (call));
  title = g_strdup_printf ("%s · %s", kefu_call_state_describe (state), number);
  detail = describe_call (call);
  gtk_label_set_label (self->call_title, title);
  gtk_label_set_label (self->call_detail, detail);
  gtk_widget_set_visible (GTK_WIDGET (self->call_detail), detail[0] != '\0');
  gtk_image_set_from_icon_name (self->call_icon,
                                kefu_call_get_direction (call) == KEFU_CALL_DIRECTION_INCOMING
                                ? "call-incoming-symbolic" : "call-outgoing-symbolic");
  if (state == KEFU_CALL_STATE_RINGING_IN)
    gtk_widget_add_css_class (GTK_WIDGET (self->call_revealer), "ringing");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->call_revealer), "ringing");
  gtk_revealer_set_reveal_child (self->call_revealer, TRUE);
}

static void
on_call_state_changed (KefuCall    *call,
                       GParamSpec  *pspec,
                       KefuCrmPane *self)
{
  update_call_banner (self);
}

/* Back to the caller's card after a search or the history. */
static void
on_call_banner_pressed (GtkGestureClick *gesture,
                        int              n_press,
                        double           x,
                        double           y,
                        KefuCrmPane     *self)
{
  if (self->call)
    kefu_crm_pane_show_call (self, self->call);
}

/* Screen-pop timing (G_MESSAGES_DEBUG=Kefu, read by bench/desk): when a
 * call's card was asked for, and when the frame showing it was drawn. */
static void
on_pop_painted (GdkFrameClock *clock,
                gpointer       data)
{
  KefuCrmPane *self = data;

  g_debug ("screen pop: drawn at %" G_GINT64_FORMAT " us", g_get_monotonic_time ());
  g_clear_signal_handler (&self->pop_paint_handler, clock);
  g_clear_object (&self->pop_clock);
}

static void
time_screen_pop (KefuCrmPane *self)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (self));

  g_debug ("screen pop: asked at %" G_GINT64_FORMAT " us", g_get_monotonic_time ());
  if (self->pop_paint_handler
      && !g_signal_handler_is_connected (self->pop_clock, self->pop_paint_handler))
    {
      self->pop_paint_handler = 0;
      g_clear_object (&self->pop_clock);
    }
  if (!clock || self->pop_paint_handler)
    return;
  self->pop_clock = g_object_ref (clock);
  self->pop_paint_handler = g_signal_connect (clock, "after-paint",
                                              G_CALLBACK (on_pop_painted), self);
}

void
kefu_crm_pane_show_call (KefuCrmPane *self,
                         KefuCall    *call)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) matches = NULL;
  gint64 customer_id;
  const char *country;

  g_return_if_fail (KEFU_IS_CRM_PANE (self));
  g_return_if_fail (!call || KEFU_IS_CALL (call));

  if (self->call != call)
    {
      g_clear_signal_handler (&self->call_state_handler, self->call);
      g_set_object (&self->call, call);
      if (call)
        self->call_state_handler = g_signal_connect (call, "notify::state",
                                                     G_CALLBACK (on_call_state_changed), self);
    }
  update_call_banner (self);
  if (!call)
    return;
  time_screen_pop (self);

  g_clear_pointer (&self->caller_number, g_free);
  country = self->store ? kefu_local_store_get_default_country (self->store) : "CN";
  self->caller_number = kefu_caller_id_normalise (kefu_call_get_peer_uri (call), country);
  if (!self->caller_number)
    self->caller_number = kefu_caller_id_from_uri (kefu_call_get_peer_uri (call));
  /* the same call again (the banner, the call list): the case stays as
   * it is, saved or not */
  if (g_strcmp0 (kefu_case_editor_get_call_id (self->case_editor), call_link_id (call)) != 0)
    kefu_case_editor_start (self->case_editor, call_link_id (call), 0);

  if (!self->store)
    return;

  /* 1. the IVR already knows who it is */
  customer_id = parse_customer_header (kefu_call_get_header (call, "X-Kefu-Customer"));
  if (customer_id && kefu_crm_pane_show_customer (self, customer_id, &error))
    return;
  if (error)
    g_debug ("X-Kefu-Customer %" G_GINT64_FORMAT " not in the local copy: %s",
             customer_id, error->message);
  g_clear_error (&error);

  /* 2. by the caller's number, however the store spells it */
  matches = kefu_local_store_find_customers_by_phone (self->store, self->caller_number, &error);
  if (!matches)
    g_debug ("caller %s is not a phone number: %s", self->caller_number, error->message);

  if (matches && json_array_get_length (matches) == 1)
    {
      JsonObject *customer = json_array_get_object_element (matches, 0);

      g_clear_error (&error);
      if (kefu_crm_pane_show_customer (self, kefu_json_get_int (customer, "id", 0), &error))
        return;
    }
  else if (matches && json_array_get_length (matches) > 1)
    {
      g_autofree char *title =
        g_strdup_printf (ngettext ("%u customer has the number %s: which one is calling?",
                                   "%u customers have the number %s: which one is calling?",
                                   json_array_get_length (matches)),
                         json_array_get_length (matches), self->caller_number);

      show_results (self, matches, title);
      return;
    }

  /* 3. nobody: a new customer with this number */
  kefu_customer_card_new_customer (self->card, self->caller_number);
  set_view (self, "customer");
}

/* --- search ------------------------------------------------------------------ */

void
kefu_crm_pane_search (KefuCrmPane *self,
                      const char  *text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) found = NULL;
  g_autofree char *query = g_strstrip (g_strdup (text ? text : ""));
  g_autofree char *title = NULL;
  guint n;

  g_return_if_fail (KEFU_IS_CRM_PANE (self));

  if (!query[0])
    {
      if (self->view_before_search)
        set_view (self, self->view_before_search);
      g_clear_pointer (&self->view_before_search, g_free);
      return;
    }
  if (!self->view_before_search)
    self->view_before_search = g_strdup (kefu_crm_pane_get_view (self));
  if (!self->store)
    return;
  found = kefu_local_store_search_customers (self->store, query, SEARCH_LIMIT, &error);
  if (!found)
    {
      g_warning ("search “%s”: %s", query, error->message);
      return;
    }
  n = json_array_get_length (found);
  if (n == 0)
    title = g_strdup_printf (_("No customer matches “%s”"), query);
  else if (n >= SEARCH_LIMIT)
    title = g_strdup_printf (_("The first %u customers matching “%s”"), n, query);
  else
    title = g_strdup_printf (ngettext ("%u customer matches “%s”",
                                       "%u customers match “%s”", n), n, query);
  show_results (self, found, title);
}

static void
on_search_changed (GtkSearchEntry *entry,
                   KefuCrmPane    *self)
{
  /* GtkSearchEntry already waits for a pause in typing before this */
  kefu_crm_pane_search (self, gtk_editable_get_text (GTK_EDITABLE (entry)));
}

static void
on_search_activate (GtkSearchEntry *entry,
                    KefuCrmPane    *self)
{
  GtkListBoxRow *first = gtk_list_box_get_row_at_index (self->results_list, 0);

  /* Enter opens the first result: the agent typed enough to know */
  if (first && g_strcmp0 (kefu_crm_pane_get_view (self), "results") == 0)
    on_result_activated (self->results_list, first, self);
}

static void
on_search_stopped (GtkSearchEntry *entry,
                   KefuCrmPane    *self)
{
  gtk_editable_set_text (GTK_EDITABLE (entry), "");
}

static void
on_search_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  KefuCrmPane *self = KEFU_CRM_PANE (widget);

  gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
}

static void
on_new_customer_action (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
  KefuCrmPane *self = KEFU_CRM_PANE (widget);

  g_clear_pointer (&self->view_before_search, g_free);
  gtk_editable_set_text (GTK_EDITABLE (self->search_entry), "");
  kefu_customer_card_new_customer (self->card, self->call ? self->caller_number : NULL);
  set_view (self, "customer");
}

static void
on_customer_saved (KefuCustomerCard *card,
                   gint64            customer_id,
                   KefuCrmPane      *self)
{
  /* a case typed for an unknown caller can be saved once they exist */
  kefu_case_editor_set_customer_id (self->case_editor, customer_id);
  gtk_widget_activate_action (GTK_WIDGET (self), "window.toast", "s", _("Customer saved"));
}

/* --- GObject --------------------------------------------------------------- */

static void
kefu_crm_pane_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  KefuCrmPane *self = KEFU_CRM_PANE (object);

  switch (prop_id)
    {
    case PROP_VIEW:
      g_value_set_string (value, kefu_crm_pane_get_view (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kefu_crm_pane_dispose (GObject *object)
{
  KefuCrmPane *self = KEFU_CRM_PANE (object);

  /* a clock whose surface went away has dropped its handlers already */
  if (self->pop_paint_handler
      && g_signal_handler_is_connected (self->pop_clock, self->pop_paint_handler))
    g_signal_handler_disconnect (self->pop_clock, self->pop_paint_handler);
  self->pop_paint_handler = 0;
  g_clear_object (&self->pop_clock);
  g_clear_signal_handler (&self->call_state_handler, self->call);
  g_clear_object (&self->call);
  g_clear_object (&self->store);
  gtk_widget_dispose_template (GTK_WIDGET (self), KEFU_TYPE_CRM_PANE);
  /* unbound template children are not unparented by dispose_template */
  for (GtkWidget *child; (child = gtk_widget_get_first_child (GTK_WIDGET (self)));)
    gtk_widget_unparent (child);
  G_OBJECT_CLASS (kefu_crm_pane_parent_class)->dispose (object);
}

static void
kefu_crm_pane_finalize (GObject *object)
{
  KefuCrmPane *self = KEFU_CRM_PANE (object);

  g_free (self->caller_number);
  g_free (self->view_before_search);
  g_free (self->agent);
  G_OBJECT_CLASS (kefu_crm_pane_parent_class)->finalize (object);
}

static void
kefu_crm_pane_class_init (KefuCrmPaneClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->get_property = kefu_crm_pane_get_property;
  object_class->dispose = kefu_crm_pane_dispose;
  object_class->finalize = kefu_crm_pane_finalize;

  props[PROP_VIEW] =
    g_param_spec_string ("view", NULL, NULL, "idle", G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);

  g_type_ensure (KEFU_TYPE_CUSTOMER_CARD);
  g_type_ensure (KEFU_TYPE_CASE_EDITOR);
  gtk_widget_class_set_template_from_resource (widget_class, "/org/kefu/Kefu/ui/kefu-crm-pane.ui");
  gtk_widget_class_bind_template_child (widget_class, KefuCrmPane, back_button);
  gtk_widget_class_bind_template_child (widget_class, KefuCrmPane, search_entry);
  gtk_widget_class_bind_template_child (widget_class, KefuCrmPane, call_revealer);
  gtk_widget_class_bind_template_child (widget_class, KefuCrmPane, call_icon);
  gtk_widget_class_bind_template_child (widget_class, KefuCrmPane, call_title);
  gtk_widget_class_bind_template_child (widget_class, KefuCrmPane, call_detail);
  gtk_widget_class_bind_template_child (widget_class, KefuCrmPane, stack);
  gtk_widget_class_bind_template_child (widget_class, KefuCrmPane, results_title);
  gtk_widget_class_bind_template_child (widget_class, KefuCrmPane, results_list);
  gtk_widget_class_bind_template_child (widget_class, KefuCrmPane, new_customer_button);
  gtk_widget_class_bind_template_child (widget_class, KefuCrmPane, history_list);
  gtk_widget_class_bind_template_child (widget_class, KefuCrmPane, card);
  gtk_widget_class_bind_template_child (widget_class, KefuCrmPane, case_editor);
  gtk_widget_class_bind_template_callback (widget_class, on_result_activated);
  gtk_widget_class_bind_template_callback (widget_class, on_search_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_search_activate);
  gtk_widget_class_bind_template_callback (widget_class, on_search_stopped);
  gtk_widget_class_bind_template_callback (widget_class, on_customer_saved);

  gtk_widget_class_install_action (widget_class, "crm.search", NULL, on_search_action);
  gtk_widget_class_install_action (widget_class, "crm.new-customer", NULL, on_new_customer_action);
  gtk_widget_class_install_action (widget_class, "crm.history", NULL, on_history_action);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "crmpane");
}

static void
kefu_crm_pane_init (KefuCrmPane *self)
{
  GtkEventController *controller;

  gtk_widget_init_template (GTK_WIDGET (self));

  controller = GTK_EVENT_CONTROLLER (gtk_gesture_click_new ());
  g_signal_connect (controller, "pressed", G_CALLBACK (on_call_banner_pressed), self);
  gtk_widget_add_controller (GTK_WIDGET (self->call_revealer), controller);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->call_revealer), _("Show the caller’s card"));

  controller = gtk_shortcut_controller_new ();
  gtk_shortcut_controller_set_scope (GTK_SHORTCUT_CONTROLLER (controller),
                                     GTK_SHORTCUT_SCOPE_GLOBAL);
  gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (controller),
                                        gtk_shortcut_new (gtk_shortcut_trigger_parse_string ("<Control>f"),
                                                          gtk_named_action_new ("crm.search")));
  gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (controller),
                                        gtk_shortcut_new (gtk_shortcut_trigger_parse_string ("<Control><Shift>n"),
                                                          gtk_named_action_new ("crm.new-customer")));
  gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (controller),
                                        gtk_shortcut_new (gtk_shortcut_trigger_parse_string ("<Control>h"),
                                                          gtk_named_action_new ("crm.history")));
  gtk_widget_add_controller (GTK_WIDGET (self), controller);
}

GtkWidget *
kefu_crm_pane_new (void)
{
  return g_object_new (KEFU_TYPE_CRM_PANE, NULL);
}

void
kefu_crm_pane_set_store (KefuCrmPane    *self,
                         KefuLocalStore *store)
{
  g_return_if_fail (KEFU_IS_CRM_PANE (self));
  g_set_object (&self->store, store);
  kefu_customer_card_set_store (self->card, store);
  kefu_case_editor_set_store (self->case_editor, store);
}

KefuCall *
kefu_crm_pane_get_call (KefuCrmPane *self)
{
  g_return_val_if_fail (KEFU_IS_CRM_PANE (self), NULL);
  return self->call;
}

gboolean
kefu_crm_pane_show_customer (KefuCrmPane *self,
                             gint64       customer_id,
                             GError     **error)
{
  g_return_val_if_fail (KEFU_IS_CRM_PANE (self), FALSE);

  if (!kefu_customer_card_show_customer (self->card, customer_id, error))
    return FALSE;
  /* the case goes with the customer on the card, for the call on screen */
  if (self->call)
    kefu_case_editor_set_customer_id (self->case_editor, customer_id);
  else
    kefu_case_editor_start (self->case_editor, NULL, customer_id);
  g_clear_pointer (&self->view_before_search, g_free);
  set_view (self, "customer");
  return TRUE;
}

void
kefu_crm_pane_set_folded (KefuCrmPane *self,
                          gboolean     folded)
{
  g_return_if_fail (KEFU_IS_CRM_PANE (self));
  gtk_widget_set_visible (self->back_button, folded);
}

const char *
kefu_crm_pane_get_view (KefuCrmPane *self)
{
  g_return_val_if_fail (KEFU_IS_CRM_PANE (self), NULL);
  return gtk_stack_get_visible_child_name (self->stack);
}

GtkWidget *
kefu_crm_pane_get_card (KefuCrmPane *self)
{
  g_return_val_if_fail (KEFU_IS_CRM_PANE (self), NULL);
  return GTK_WIDGET (self->card);
}

GtkWidget *
kefu_crm_pane_get_case_editor (KefuCrmPane *self)
{
  g_return_val_if_fail (KEFU_IS_CRM_PANE (self), NULL);
  return GTK_WIDGET (self->case_editor);
}

GtkListBox *
kefu_crm_pane_get_results (KefuCrmPane *self)
{
  g_return_val_if_fail (KEFU_IS_CRM_PANE (self), NULL);
  return self->results_list;
}

const char *
kefu_crm_pane_get_call_detail (KefuCrmPane *self)
{
  g_return_val_if_fail (KEFU_IS_CRM_PANE (self), NULL);
  return gtk_label_get_label (self->call_detail);
}

void
kefu_crm_pane_set_agent (KefuCrmPane *self,
                         const char  *agent)
{
  g_return_if_fail (KEFU_IS_CRM_PANE (self));
  g_free (self->agent);
  self->agent = agent && agent[0] ? g_strdup (agent) : NULL;
}

void
kefu_crm_pane_show_history (KefuCrmPane *self)
{
  g_return_if_fail (KEFU_IS_CRM_PANE (self));
  show_history (self);
}

GtkListBox *
kefu_crm_pane_get_history (KefuCrmPane *self)
{
  g_return_val_if_fail (KEFU_IS_CRM_PANE (self), NULL);
  return self->history_list;
}
