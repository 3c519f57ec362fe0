/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuWindow"

#include "config.h"

#include "kefu-window.h"

#include <glib/gi18n.h>

#include "kefu-agent-state-button.h"
#include "kefu-case-editor.h"
#include "kefu-conflict-dialog.h"

enum {
  SIGNAL_SIGNED_IN,
  SIGNAL_WORK_OFFLINE,
  N_SIGNALS,
};

static guint signals[N_SIGNALS];

enum {
  PROP_0,
  PROP_AFTER_WRAPUP,
  N_PROPS,
};

static GParamSpec *props[N_PROPS];

struct _KefuWindow
{
  AdwApplicationWindow parent_instance;

  /* template widgets */
  AdwToastOverlay *toast_overlay;
  GtkRevealer     *offline_revealer;
  GtkLabel        *offline_label;
  GtkRevealer     *notice_revealer;
  GtkLabel        *notice_label;
  GtkStack        *main_stack;
  KefuLoginPage   *login_page;
  AdwLeaflet      *leaflet;
  GtkWidget       *phone_side;
  AdwHeaderBar    *phone_header;
  KefuAgentStateButton *agent_state_button;
  GtkWidget       *show_crm_button;
  KefuPhonePanel  *phone_panel;
  KefuCrmPane     *crm_pane;

  /* owned */
  GSettings       *settings;
  KefuLocalStore  *store;
  KefuSync        *sync;
  GtkWindow       *conflict_dialog;
};

G_DEFINE_FINAL_TYPE (KefuWindow, kefu_window, ADW_TYPE_APPLICATION_WINDOW)

/* --- offline banner and conflicts ---------------------------------------------- */

static void
update_offline_banner (KefuWindow *self)
{
  g_autofree char *text = NULL;
  guint pending;

  if (!self->sync || kefu_sync_get_online (self->sync))
    {
      gtk_label_set_label (self->offline_label, "");
      gtk_revealer_set_reveal_child (self->offline_revealer, FALSE);
      return;
    }
  pending = kefu_sync_get_pending_changes (self->sync);
  if (pending == 0)
    text = g_strdup (_("The server cannot be reached. You can go on working with the customers on this computer."));
  else
    text = g_strdup_printf (ngettext ("The server cannot be reached. %u change waits to be sent; nothing is lost.",
                                      "The server cannot be reached. %u changes wait to be sent; nothing is lost.",
                                      pending), pending);
  gtk_label_set_label (self->offline_label, text);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->offline_label),
                               kefu_sync_get_last_error (self->sync));
  gtk_revealer_set_reveal_child (self->offline_revealer, TRUE);
}

static void
on_sync_notify (KefuSync   *sync,
                GParamSpec *pspec,
                KefuWindow *self)
{
  update_offline_banner (self);
}

static void
on_conflict_dialog_destroyed (GtkWindow  *dialog,
                              KefuWindow *self)
{
  if (self->conflict_dialog == dialog)
    self->conflict_dialog = NULL;
}

static void
on_sync_conflict (KefuSync   *sync,
                  gint64      seq,
                  const char *entity,
                  gint64      id,
                  JsonObject *ours,
                  JsonObject *theirs,
                  KefuWindow *self)
{
  GtkWindow *dialog;

  /* one question at a time: the next conflict waits for this choice */
  if (self->conflict_dialog)
    return;
  dialog = kefu_conflict_dialog_new (GTK_WINDOW (self), sync, seq, entity, ours, theirs);
  self->conflict_dialog = dialog;
  g_signal_connect (dialog, "destroy", G_CALLBACK (on_conflict_dialog_destroyed), self);
  gtk_window_present (dialog);
}

static void
on_sync_change_rejected (KefuSync   *sync,
                         gint64      seq,
                         const char *message,
                         KefuWindow *self)
{
  g_autofree char *text = g_strdup_printf (_("The server refused a change: %s"), message);

  kefu_window_show_toast (self, text);
}

/* --- wrap-up ------------------------------------------------------------------ */

static KefuCaseEditor *
case_editor_of (KefuWindow *self)
{
  return KEFU_CASE_EDITOR (kefu_crm_pane_get_case_editor (self->crm_pane));
}

static void
on_wrapup_remaining (KefuAgentStateButton *button,
                     GParamSpec           *pspec,
                     KefuWindow           *self)
{
  kefu_case_editor_set_wrapup (case_editor_of (self),
                               kefu_agent_state_button_get_wrapup_remaining (button));
}

static void
on_after_wrapup (KefuAgentStateButton *button,
                 GParamSpec           *pspec,
                 KefuWindow           *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_AFTER_WRAPUP]);
}

/* A call the agent talked on ended and no other is live: wrap-up starts,
 * and the case of that call asks for its disposition. */
static void
on_call_finished (KefuPhonePanel *panel,
                  KefuCall       *call,
                  gboolean        talked,
                  KefuWindow     *self)
{
  KefuPhone *phone = kefu_phone_panel_get_phone (panel);
  GListModel *calls = phone ? kefu_phone_get_calls (phone) : NULL;

  if (!talked)
    return;
  for (guint i = 0; calls && i < g_list_model_get_n_items (calls); i++)
    {
      g_autoptr(KefuCall) other = g_list_model_get_item (calls, i);

      if (other != call && kefu_call_get_state (other) != KEFU_CALL_STATE_CLOSED)
        return;
    }
  if (self->settings)
    kefu_agent_state_button_set_wrapup_seconds (self->agent_state_button,
                                                g_settings_get_uint (self->settings,
                                                                     "wrapup-seconds"));
  kefu_agent_state_button_start_wrapup (self->agent_state_button, NULL);
}

static void
on_dismiss_notice_activated (GtkWidget  *widget,
                             const char *action_name,
                             GVariant   *parameter)
{
  gtk_revealer_set_reveal_child (KEFU_WINDOW (widget)->notice_revealer, FALSE);
}

static void
on_finish_wrapup_activated (GtkWidget  *widget,
                            const char *action_name,
                            GVariant   *parameter)
{
  kefu_agent_state_button_finish_wrapup (KEFU_WINDOW (widget)->agent_state_button);
}

/* --- template callbacks ------------------------------------------------------- */

static void
on_login_signed_in (KefuLoginPage *page,
                    KefuWindow    *self)
{
  g_signal_emit (self, signals[SIGNAL_SIGNED_IN], 0);
}

static void
on_login_work_offline (KefuLoginPage *page,
                       KefuWindow    *self)
{
  g_signal_emit (self, signals[SIGNAL_WORK_OFFLINE], 0);
}

static void
on_leaflet_folded (AdwLeaflet *leaflet,
                   GParamSpec *pspec,
                   KefuWindow *self)
{
  gboolean folded = adw_leaflet_get_folded (leaflet);

  adw_header_bar_set_show_end_title_buttons (self->phone_header, folded);
  gtk_widget_set_visible (self->show_crm_button, folded);
  kefu_crm_pane_set_folded (self->crm_pane, folded);
}

static void
on_selected_call_changed (KefuPhonePanel *panel,
                          GParamSpec     *pspec,
                          KefuWindow     *self)
{
  KefuCall *call = kefu_phone_panel_get_selected_call (panel);

  /* the card follows the call the agent is on: the screen pop; but while
   * the agent consults a colleague the customer's card stays */
  if (call && call != kefu_crm_pane_get_call (self->crm_pane)
      && call != kefu_phone_panel_get_consultation (panel))
    kefu_crm_pane_show_call (self->crm_pane, call);
}

/* --- actions ---------------------------------------------------------------- */

static void
on_toast_activated (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  kefu_window_show_toast (KEFU_WINDOW (widget), g_variant_get_string (parameter, NULL));
}

static void
on_dial_activated (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  KefuWindow *self = KEFU_WINDOW (widget);
  g_autoptr(GError) error = NULL;

  if (!kefu_phone_panel_dial (self->phone_panel, g_variant_get_string (parameter, NULL), &error))
    {
      g_autofree char *message = g_strdup_printf (_("Could not call: %s"), error->message);

      kefu_window_show_toast (self, message);
    }
}

static void
on_show_phone_activated (GtkWidget  *widget,
                         const char *action_name,
                         GVariant   *parameter)
{
  KefuWindow *self = KEFU_WINDOW (widget);

  adw_leaflet_set_visible_child (self->leaflet, self->phone_side);
}

static void
on_show_crm_activated (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  KefuWindow *self = KEFU_WINDOW (widget);

  adw_leaflet_set_visible_child (self->leaflet, GTK_WIDGET (self->crm_pane));
}

static void
on_sync_now_activated (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  KefuWindow *self = KEFU_WINDOW (widget);

  if (self->sync)
    kefu_sync_sync_now (self->sync);
}

/* --- GObject ----------------------------------------------------------------- */

static void
disconnect_sync (KefuWindow *self)
{
  if (self->sync)
    g_signal_handlers_disconnect_by_data (self->sync, self);
  g_clear_object (&self->sync);
}

static void
kefu_window_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  KefuWindow *self = KEFU_WINDOW (object);

  switch (prop_id)
    {
    case PROP_AFTER_WRAPUP:
      /* asked by the action muxer before the template is there, and after */
      g_value_set_string (value, self->agent_state_button
                                 ? kefu_agent_state_button_get_after_wrapup (self->agent_state_button)
                                 : "available");
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kefu_window_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  KefuWindow *self = KEFU_WINDOW (object);

  switch (prop_id)
    {
    case PROP_AFTER_WRAPUP:
      if (self->agent_state_button)
        kefu_agent_state_button_set_after_wrapup (self->agent_state_button,
                                                  g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kefu_window_dispose (GObject *object)
{
  KefuWindow *self = KEFU_WINDOW (object);

  if (self->conflict_dialog)
    gtk_window_destroy (self->conflict_dialog);
  /* a state request in flight keeps the button alive after us */
  if (self->agent_state_button)
    g_signal_handlers_disconnect_by_data (self->agent_state_button, self);
  if (self->phone_panel)
    g_signal_handlers_disconnect_by_data (self->phone_panel, self);
  disconnect_sync (self);
  g_clear_object (&self->store);
  gtk_widget_dispose_template (GTK_WIDGET (self), KEFU_TYPE_WINDOW);
  G_OBJECT_CLASS (kefu_window_parent_class)->dispose (object);
}

static void
kefu_window_finalize (GObject *object)
{
  KefuWindow *self = KEFU_WINDOW (object);

  g_clear_object (&self->settings);
  G_OBJECT_CLASS (kefu_window_parent_class)->finalize (object);
}

static gboolean
kefu_window_close_request (GtkWindow *window)
{
  KefuWindow *self = KEFU_WINDOW (window);

  if (self->settings)
    {
      int width, height;

      gtk_window_get_default_size (window, &width, &height);
      g_settings_set_int (self->settings, "window-width", width);
      g_settings_set_int (self->settings, "window-height", height);
      g_settings_set_boolean (self->settings, "window-maximized", gtk_window_is_maximized (window));
    }
  return GTK_WINDOW_CLASS (kefu_window_parent_class)->close_request (window);
}

static void
kefu_window_class_init (KefuWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->get_property = kefu_window_get_property;
  object_class->set_property = kefu_window_set_property;
  object_class->dispose = kefu_window_dispose;
  object_class->finalize = kefu_window_finalize;

  /* the state wrap-up ends in, as the wrap-up prompt offers it */
  props[PROP_AFTER_WRAPUP] =
    g_param_spec_string ("after-wrapup", NULL, NULL, "available",
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);
  window_class->close_request = kefu_window_close_request;

  /**
   * KefuWindow::signed-in: the login page signed in.
   * KefuWindow::work-offline: the agent goes on with the last session.
   */
  signals[SIGNAL_SIGNED_IN] =
    g_signal_new ("signed-in", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_WORK_OFFLINE] =
    g_signal_new ("work-offline", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  g_type_ensure (KEFU_TYPE_LOGIN_PAGE);
  g_type_ensure (KEFU_TYPE_PHONE_PANEL);
  g_type_ensure (KEFU_TYPE_CRM_PANE);
  g_type_ensure (KEFU_TYPE_AGENT_STATE_BUTTON);
  gtk_widget_class_set_template_from_resource (widget_class, "/org/kefu/Kefu/ui/kefu-window.ui");
  gtk_widget_class_bind_template_child (widget_class, KefuWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, KefuWindow, offline_revealer);
  gtk_widget_class_bind_template_child (widget_class, KefuWindow, offline_label);
  gtk_widget_class_bind_template_child (widget_class, KefuWindow, notice_revealer);
  gtk_widget_class_bind_template_child (widget_class, KefuWindow, notice_label);
  gtk_widget_class_bind_template_child (widget_class, KefuWindow, main_stack);
  gtk_widget_class_bind_template_child (widget_class, KefuWindow, login_page);
  gtk_widget_class_bind_template_child (widget_class, KefuWindow, leaflet);
  gtk_widget_class_bind_template_child (widget_class, KefuWindow, phone_side);
  gtk_widget_class_bind_template_child (widget_class, KefuWindow, phone_header);
  gtk_widget_class_bind_template_child (widget_class, KefuWindow, agent_state_button);
  gtk_widget_class_bind_template_child (widget_class, KefuWindow, show_crm_button);
  gtk_widget_class_bind_template_child (widget_class, KefuWindow, phone_panel);
  gtk_widget_class_bind_template_child (widget_class, KefuWindow, crm_pane);
  gtk_widget_class_bind_template_callback (widget_class, on_login_signed_in);
  gtk_widget_class_bind_template_callback (widget_class, on_login_work_offline);
  gtk_widget_class_bind_template_callback (widget_class, on_leaflet_folded);
  gtk_widget_class_bind_template_callback (widget_class, on_selected_call_changed);

  gtk_widget_class_install_action (widget_class, "window.toast", "s", on_toast_activated);
  gtk_widget_class_install_action (widget_class, "window.dial", "s", on_dial_activated);
  gtk_widget_class_install_action (widget_class, "window.show-phone", NULL, on_show_phone_activated);
  gtk_widget_class_install_action (widget_class, "window.show-crm", NULL, on_show_crm_activated);
  gtk_widget_class_install_action (widget_class, "window.sync-now", NULL, on_sync_now_activated);
  gtk_widget_class_install_action (widget_class, "window.dismiss-notice", NULL,
                                   on_dismiss_notice_activated);
  gtk_widget_class_install_action (widget_class, "window.finish-wrapup", NULL,
                                   on_finish_wrapup_activated);
  gtk_widget_class_install_property_action (widget_class, "window.after-wrapup", "after-wrapup");
}

static void
kefu_window_init (KefuWindow *self)
{
  GSettingsSchema *schema = g_settings_schema_source_lookup (g_settings_schema_source_get_default (),
                                                             "org.kefu.Kefu", TRUE);

  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect (self->agent_state_button, "notify::wrapup-remaining",
                    G_CALLBACK (on_wrapup_remaining), self);
  g_signal_connect (self->agent_state_button, "notify::after-wrapup",
                    G_CALLBACK (on_after_wrapup), self);
  g_signal_connect (self->phone_panel, "call-finished", G_CALLBACK (on_call_finished), self);
  {
    GtkEventController *controller = gtk_shortcut_controller_new ();

    gtk_shortcut_controller_set_scope (GTK_SHORTCUT_CONTROLLER (controller),
                                       GTK_SHORTCUT_SCOPE_GLOBAL);
    gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (controller),
                                          gtk_shortcut_new (gtk_shortcut_trigger_parse_string ("<Control><Shift>w"),
                                                            gtk_named_action_new ("window.finish-wrapup")));
    gtk_widget_add_controller (GTK_WIDGET (self), controller);
  }
  if (schema)
    {
      self->settings = g_settings_new ("org.kefu.Kefu");
      gtk_window_set_default_size (GTK_WINDOW (self),
                                   g_settings_get_int (self->settings, "window-width"),
                                   g_settings_get_int (self->settings, "window-height"));
      if (g_settings_get_boolean (self->settings, "window-maximized"))
        gtk_window_maximize (GTK_WINDOW (self));
      g_settings_schema_unref (schema);
    }
  else
    gtk_window_set_default_size (GTK_WINDOW (self), 1200, 760);
  on_leaflet_folded (self->leaflet, NULL, self);
}

KefuWindow *
kefu_window_new (GtkApplication *application)
{
  return g_object_new (KEFU_TYPE_WINDOW, "application", application, NULL);
}

void
kefu_window_show_login (KefuWindow *self,
                        KefuLogin  *login,
                        const char *message)
{
  g_return_if_fail (KEFU_IS_WINDOW (self));
  kefu_login_page_set_login (self->login_page, login);
  if (message)
    kefu_login_page_prefill (self->login_page, NULL, NULL, message);
  gtk_stack_set_visible_child_name (self->main_stack, "login");
}

void
kefu_window_open_desk (KefuWindow     *self,
                       KefuApiClient  *client,
                       KefuLocalStore *store,
                       KefuSync       *sync)
{
  g_return_if_fail (KEFU_IS_WINDOW (self));

  g_set_object (&self->store, store);
  kefu_crm_pane_set_store (self->crm_pane, store);
  kefu_phone_panel_set_store (self->phone_panel, store);
  kefu_agent_state_button_set_client (self->agent_state_button, client);
  if (self->sync != sync)
    {
      disconnect_sync (self);
      if (sync)
        {
          self->sync = g_object_ref (sync);
          g_signal_connect (sync, "notify::online", G_CALLBACK (on_sync_notify), self);
          g_signal_connect (sync, "notify::pending-changes", G_CALLBACK (on_sync_notify), self);
          g_signal_connect (sync, "notify::last-error", G_CALLBACK (on_sync_notify), self);
          g_signal_connect (sync, "conflict", G_CALLBACK (on_sync_conflict), self);
          g_signal_connect (sync, "change-rejected", G_CALLBACK (on_sync_change_rejected), self);
        }
    }
  update_offline_banner (self);
  gtk_stack_set_visible_child_name (self->main_stack, "desk");
}

void
kefu_window_set_phone (KefuWindow *self,
                       KefuPhone  *phone)
{
  g_return_if_fail (KEFU_IS_WINDOW (self));
  kefu_phone_panel_set_phone (self->phone_panel, phone);
}

void
kefu_window_show_toast (KefuWindow *self,
                        const char *message)
{
  AdwToast *toast;

  g_return_if_fail (KEFU_IS_WINDOW (self));
  toast = adw_toast_new (message);
  adw_toast_set_timeout (toast, 5);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

void
kefu_window_show_notice (KefuWindow *self,
                         const char *message)
{
  g_return_if_fail (KEFU_IS_WINDOW (self));
  /* a banner, not a toast: it lasts the whole session and must not sit
   * on the call's buttons */
  gtk_label_set_label (self->notice_label, message);
  gtk_revealer_set_reveal_child (self->notice_revealer, TRUE);
}

const char *
kefu_window_get_notice (KefuWindow *self)
{
  g_return_val_if_fail (KEFU_IS_WINDOW (self), NULL);
  return gtk_revealer_get_reveal_child (self->notice_revealer)
         ? gtk_label_get_label (self->notice_label) : "";
}

KefuPhonePanel *
kefu_window_get_phone_panel (KefuWindow *self)
{
  g_return_val_if_fail (KEFU_IS_WINDOW (self), NULL);
  return self->phone_panel;
}

KefuCrmPane *
kefu_window_get_crm_pane (KefuWindow *self)
{
  g_return_val_if_fail (KEFU_IS_WINDOW (self), NULL);
  return self->crm_pane;
}

KefuLoginPage *
kefu_window_get_login_page (KefuWindow *self)
{
  g_return_val_if_fail (KEFU_IS_WINDOW (self), NULL);
  return self->login_page;
}

const char *
kefu_window_get_page (KefuWindow *self)
{
  g_return_val_if_fail (KEFU_IS_WINDOW (self), NULL);
  return gtk_stack_get_visible_child_name (self->main_stack);
}

const char *
kefu_window_get_offline_text (KefuWindow *self)
{
  g_return_val_if_fail (KEFU_IS_WINDOW (self), NULL);
  return gtk_revealer_get_reveal_child (self->offline_revealer)
         ? gtk_label_get_label (self->offline_label) : "";
}

KefuAgentStateButton *
kefu_window_get_agent_state_button (KefuWindow *self)
{
  g_return_val_if_fail (KEFU_IS_WINDOW (self), NULL);
  return self->agent_state_button;
}
