/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuPhonePanel"

#include "config.h"

#include "kefu-phone-panel.h"

#include <errno.h>
#include <string.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <adwaita.h>

#include "kefu-rtp-stream.h"

#include "kefu-call-row.h"
#include "kefu-caller-id.h"
#include "kefu-dial-pad.h"

enum {
  PROP_0,
  PROP_PHONE,
  PROP_SELECTED_CALL,
  PROP_KEYPAD_VISIBLE,
  PROP_MUTED,
  PROP_RECORDING,
  N_PROPS,
};

static GParamSpec *props[N_PROPS];

enum {
  SIGNAL_CALL_FINISHED,
  N_SIGNALS,
};

static guint signals[N_SIGNALS];

/* how often the quality indicator asks the phone for the call's figures */
#define QUALITY_INTERVAL_S 3

struct _KefuPhonePanel
{
  GtkWidget parent_instance;

  /* template widgets */
  GtkWidget   *content;
  GtkImage    *registration_icon;
  GtkLabel    *registration_label;
  GtkEntry    *number_entry;
  GtkListBox  *call_list;
  GtkRevealer *controls_revealer;
  GtkLabel    *selected_peer_label;
  GtkLabel    *selected_duration_label;
  GtkLabel    *selected_state_label;
  GtkWidget   *ringing_buttons;
  GtkWidget   *talking_buttons;
  GtkWidget   *hang_up_button;
  GtkToggleButton *hold_button;
  GtkLabel    *hold_label;
  GtkToggleButton *mute_button;
  GtkLabel    *mute_label;
  GtkToggleButton *record_button;
  GtkLabel    *record_label;
  GtkWidget   *quality_box;
  GtkImage    *quality_icon;
  GtkLabel    *quality_label;
  GtkRevealer *consult_revealer;
  GtkLabel    *consult_label;
  GtkRevealer *pad_revealer;
  GtkLabel    *dtmf_label;

  /* owned */
  KefuPhone *phone;
  KefuCall  *selected_call;
  char      *account;          /* AOR shown, NULL in listen mode */
  char      *listen_address;
  char      *dial_domain;
  gulong     registration_handler;
  gulong     incoming_handler;
  gulong     items_handler;
  gulong     selected_state_handler;
  guint      tick_source;
  guint      quality_source;
  gboolean   keypad_visible;
  gboolean   muted;            /* as last notified, for the property actions */
  gboolean   recording;
  KefuLocalStore *store;       /* names recordings after the customer */
  char      *recordings_dir;
  GPtrArray *watched;          /* KefuCall: transfer signals and endings followed */
  /* a consult transfer: the customer held while the agent calls a colleague */
  KefuCall  *consult_held;
  KefuCall  *consult_call;
  /* the far end's transfer request being asked about, and its question */
  GtkWindow *request_dialog;
  KefuCall  *request_call;
  GtkWindow *transfer_dialog;
};

G_DEFINE_FINAL_TYPE (KefuPhonePanel, kefu_phone_panel, GTK_TYPE_WIDGET)

static void update_controls (KefuPhonePanel *self);
static void watch_call      (KefuPhonePanel *self, KefuCall *call);
static void set_muted       (KefuPhonePanel *self, gboolean muted);
static void set_recording   (KefuPhonePanel *self, gboolean recording);

static void
show_message (KefuPhonePanel *self,
              const char     *message)
{
  /* the window shows it as a toast; a panel on its own just logs it */
  if (!gtk_widget_activate_action (GTK_WIDGET (self), "window.toast", "s", message))
    g_message ("%s", message);
}

static KefuCallRow *
row_of_call (KefuPhonePanel *self,
             KefuCall       *call)
{
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->call_list));
       child; child = gtk_widget_get_next_sibling (child))
    if (KEFU_IS_CALL_ROW (child) && kefu_call_row_get_call (KEFU_CALL_ROW (child)) == call)
      return KEFU_CALL_ROW (child);
  return NULL;
}

static gboolean
call_is_talking (KefuCall *call)
{
  KefuCallState state = call ? kefu_call_get_state (call) : KEFU_CALL_STATE_CLOSED;

  return state == KEFU_CALL_STATE_ESTABLISHED || state == KEFU_CALL_STATE_HELD
         || state == KEFU_CALL_STATE_REMOTE_HELD;
}

/* --- registration ---------------------------------------------------------- */

static void
show_registration (KefuPhonePanel        *self,
                   KefuRegistrationState  state,
                   const char            *reason)
{
  g_autofree char *text = NULL;
  const char *icon = "network-offline-symbolic";
  GtkWidget *box = gtk_widget_get_parent (GTK_WIDGET (self->registration_icon));

  gtk_widget_remove_css_class (box, "error");
  gtk_widget_remove_css_class (box, "success");

  if (!self->phone)
    text = g_strdup (_("Phone not started"));
  else if (!self->account)
    {
      text = g_strdup_printf (_("Ready for calls on %s"),
                              self->listen_address ? self->listen_address : "");
      icon = "network-transmit-receive-symbolic";
      gtk_widget_add_css_class (box, "success");
    }
  else
    switch (state)
      {
      case KEFU_REGISTRATION_STATE_REGISTERED:
        text = g_strdup_printf (_("Registered as %s"), self->account);
        icon = "network-transmit-receive-symbolic";
        gtk_widget_add_css_class (box, "success");
        break;
      case KEFU_REGISTRATION_STATE_REGISTERING:
        text = g_strdup_printf (_("Registering %s…"), self->account);
        icon = "network-idle-symbolic";
        break;
      case KEFU_REGISTRATION_STATE_FAILED:
        text = reason && reason[0]
               ? g_strdup_printf (_("Not registered: %s"), reason)
               : g_strdup (_("Not registered"));
        icon = "network-error-symbolic";
        gtk_widget_add_css_class (box, "error");
        break;
      case KEFU_REGISTRATION_STATE_UNREGISTERED:
      default:
        text = g_strdup (_("Not registered"));
        break;
      }
  gtk_image_set_from_icon_name (self->registration_icon, icon);
  gtk_label_set_label (self->registration_label, text);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->registration_label), text);
}

static void
on_registration_changed (KefuPhone             *phone,
                         const char            *account,
                         KefuRegistrationState  state,
                         const char            *reason,
                         guint                  code,
                         KefuPhonePanel        *self)
{
  if (g_strcmp0 (account, self->account) == 0)
    show_registration (self, state, reason);
}

/* --- call list ------------------------------------------------------------- */

static GtkWidget *
create_call_row (gpointer item,
                 gpointer user_data)
{
  return kefu_call_row_new (KEFU_CALL (item));
}

static void
on_selected_call_state_changed (KefuCall       *call,
                                GParamSpec     *pspec,
                                KefuPhonePanel *self)
{
  update_controls (self);
}

static void
set_selected_call (KefuPhonePanel *self,
                   KefuCall       *call)
{
  if (self->selected_call == call)
    return;
  g_clear_signal_handler (&self->selected_state_handler, self->selected_call);
  g_set_object (&self->selected_call, call);
  if (call)
    /* state, muted, recording, in-conference: all show in the controls */
    self->selected_state_handler =
      g_signal_connect (call, "notify", G_CALLBACK (on_selected_call_state_changed), self);
  gtk_label_set_label (self->dtmf_label, "");
  gtk_widget_set_visible (GTK_WIDGET (self->dtmf_label), FALSE);
  update_controls (self);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_SELECTED_CALL]);
}

static void
on_call_list_selection_changed (GtkListBox     *list,
                                KefuPhonePanel *self)
{
  GtkListBoxRow *row = gtk_list_box_get_selected_row (list);

  set_selected_call (self, row ? kefu_call_row_get_call (KEFU_CALL_ROW (row)) : NULL);
}

/* A call that ends leaves the model; the selection moves to the call the
 * agent most likely wants next: one ringing, else the newest. */
static void
on_calls_changed (GListModel     *calls,
                  guint           position,
                  guint           removed,
                  guint           added,
                  KefuPhonePanel *self)
{
  guint n = g_list_model_get_n_items (calls);
  g_autoptr(KefuCall) pick = NULL;
  gboolean selected_present = FALSE;

  for (guint i = position; i < position + added; i++)
    {
      g_autoptr(KefuCall) call = g_list_model_get_item (calls, i);

      watch_call (self, call);
    }

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(KefuCall) call = g_list_model_get_item (calls, i);

      if (call == self->selected_call)
        selected_present = TRUE;
    }
  if (selected_present && added == 0)
    {
      update_controls (self);
      return;
    }
  if (added > 0)
    pick = g_list_model_get_item (calls, position + added - 1);
  else if (n > 0)
    pick = g_list_model_get_item (calls, n - 1);

  /* an agent talking keeps the call they talk on: the new one only rings */
  if (pick && selected_present && call_is_talking (self->selected_call))
    {
      update_controls (self);
      return;
    }
  kefu_phone_panel_select_call (self, pick);
}

/* --- controls -------------------------------------------------------------- */

static void
update_duration (KefuPhonePanel *self)
{
  KefuCallRow *row = self->selected_call ? row_of_call (self, self->selected_call) : NULL;
  g_autofree char *text = row ? kefu_caller_id_format_duration (kefu_call_row_get_duration (row))
                              : NULL;

  gtk_label_set_label (self->selected_duration_label, text ? text : "");
}

static gboolean
on_tick (gpointer data)
{
  update_duration (data);
  return G_SOURCE_CONTINUE;
}

static void
update_accessible_label (GtkWidget  *widget,
                         const char *label)
{
  gtk_accessible_update_property (GTK_ACCESSIBLE (widget), GTK_ACCESSIBLE_PROPERTY_LABEL, label,
                                  -1);
}

static char *
describe_peer (KefuCall *call)
{
  g_autofree char *number = kefu_caller_id_from_uri (kefu_call_get_peer_uri (call));
  const char *name = kefu_call_get_peer_name (call);

  if (name && name[0] && g_strcmp0 (name, number) != 0)
    return g_strdup_printf ("%s (%s)", name, number);
  return g_steal_pointer (&number);
}

/* The two calls a conference would join: the consultation and the held
 * customer, or else the only two calls the agent is talking on. */
static gboolean
conference_pair (KefuPhonePanel  *self,
                 KefuCall       **first,
                 KefuCall       **second)
{
  KefuCall *found[2] = { NULL, NULL };
  guint n_talking = 0;
  GListModel *calls;

  if (self->consult_call)
    {
      if (!call_is_talking (self->consult_call) || !call_is_talking (self->consult_held))
        return FALSE;
      found[0] = self->consult_held;
      found[1] = self->consult_call;
    }
  else if (self->phone)
    {
      calls = kefu_phone_get_calls (self->phone);
      for (guint i = 0; i < g_list_model_get_n_items (calls); i++)
        {
          g_autoptr(KefuCall) call = g_list_model_get_item (calls, i);

          if (!call_is_talking (call))
            continue;
          if (n_talking < 2)
            found[n_talking] = call;
          n_talking++;
        }
      if (n_talking != 2)
        return FALSE;
    }
  else
    return FALSE;
  if (kefu_call_get_in_conference (found[0]) && kefu_call_get_in_conference (found[1]))
    return FALSE;
  if (first)
    *first = found[0];
  if (second)
    *second = found[1];
  return TRUE;
}

static void
update_consult_bar (KefuPhonePanel *self)
{
  g_autofree char *held = NULL;
  g_autofree char *colleague = NULL;
  g_autofree char *text = NULL;

  if (!self->consult_call)
    {
      gtk_revealer_set_reveal_child (self->consult_revealer, FALSE);
      return;
    }
  held = describe_peer (self->consult_held);
  colleague = describe_peer (self->consult_call);
  text = call_is_talking (self->consult_call)
         ? g_strdup_printf (_("Talking to %s. %s waits on hold."), colleague, held)
         : g_strdup_printf (_("Calling %s. %s waits on hold."), colleague, held);
  gtk_label_set_label (self->consult_label, text);
  gtk_revealer_set_reveal_child (self->consult_revealer, TRUE);
}

/* The listener's view of the selected call: an estimated MOS (1-4.5),
 * the share of audio lost and the jitter, refreshed every few seconds. */
static void
update_quality (KefuPhonePanel *self)
{
  struct kefu_rtp_stream_stats stats;
  g_autofree char *text = NULL;
  g_autofree char *tooltip = NULL;
  const char *icon;

  if (!self->selected_call || !call_is_talking (self->selected_call)
      || !kefu_call_get_stats (self->selected_call, &stats) || stats.mos <= 0)
    {
      gtk_widget_set_visible (self->quality_box, FALSE);
      return;
    }
  if (stats.mos >= 4.0)
    icon = "network-cellular-signal-excellent-symbolic";
  else if (stats.mos >= 3.6)
    icon = "network-cellular-signal-good-symbolic";
  else if (stats.mos >= 3.1)
    icon = "network-cellular-signal-ok-symbolic";
  else
    icon = "network-cellular-signal-weak-symbolic";
  /* TRANSLATORS: MOS is the Mean Opinion Score of the call's audio */
  text = g_strdup_printf (_("MOS %.1f"), stats.mos);
  tooltip = g_strdup_printf (_("Call quality: MOS %.1f of 4.5, %.1f %% lost, jitter %.0f ms"),
                             stats.mos, stats.loss_percent, stats.jitter_ms);
  gtk_image_set_from_icon_name (self->quality_icon, icon);
  gtk_label_set_label (self->quality_label, text);
  gtk_widget_set_tooltip_text (self->quality_box, tooltip);
  update_accessible_label (self->quality_box, tooltip);
  if (stats.mos < 3.1)
    gtk_widget_add_css_class (self->quality_box, "poor");
  else
    gtk_widget_remove_css_class (self->quality_box, "poor");
  gtk_widget_set_visible (self->quality_box, TRUE);
}

static gboolean
on_quality_tick (gpointer data)
{
  update_quality (data);
  return G_SOURCE_CONTINUE;
}

static void
update_controls (KefuPhonePanel *self)
{
  KefuCall *call = self->selected_call;
  KefuCallState state = call ? kefu_call_get_state (call) : KEFU_CALL_STATE_CLOSED;
  gboolean live = call && state != KEFU_CALL_STATE_CLOSED;
  gboolean ringing_in = state == KEFU_CALL_STATE_RINGING_IN;
  gboolean talking = call_is_talking (call);
  gboolean held = state == KEFU_CALL_STATE_HELD;
  gboolean muted = talking && kefu_call_get_muted (call);
  gboolean recording = talking && kefu_call_get_recording (call) != NULL;
  gboolean consulting = self->consult_call != NULL;
  GtkWidget *widget = GTK_WIDGET (self);

  gtk_revealer_set_reveal_child (self->controls_revealer, live);
  gtk_widget_set_visible (self->ringing_buttons, ringing_in);
  gtk_widget_set_visible (self->talking_buttons, talking);
  gtk_widget_set_visible (self->hang_up_button, live && !ringing_in);

  if (call)
    {
      g_autofree char *number = kefu_caller_id_from_uri (kefu_call_get_peer_uri (call));
      const char *name = kefu_call_get_peer_name (call);

      const char *transfer = g_object_get_data (G_OBJECT (call), "kefu-transfer-status");

      gtk_label_set_label (self->selected_peer_label, name && name[0] ? name : number);
      if (transfer && live)
        gtk_label_set_label (self->selected_state_label, transfer);
      else if (kefu_call_get_in_conference (call) && live)
        gtk_label_set_label (self->selected_state_label, _("In conference"));
      else
        gtk_label_set_label (self->selected_state_label, kefu_call_state_describe (state));
    }

  gtk_widget_action_set_enabled (widget, "call.answer", ringing_in);
  gtk_widget_action_set_enabled (widget, "call.reject", ringing_in);
  gtk_widget_action_set_enabled (widget, "call.hang-up", live && !ringing_in);
  gtk_widget_action_set_enabled (widget, "call.toggle-hold",
                                 state == KEFU_CALL_STATE_ESTABLISHED || held);
  gtk_widget_action_set_enabled (widget, "call.send-dtmf", talking);
  gtk_widget_action_set_enabled (widget, "call.keypad", talking);
  gtk_widget_action_set_enabled (widget, "call.mute", talking);
  gtk_widget_action_set_enabled (widget, "call.record", talking);
  gtk_widget_action_set_enabled (widget, "call.transfer", talking && !consulting);
  gtk_widget_action_set_enabled (widget, "call.transfer-to", talking && !consulting);
  gtk_widget_action_set_enabled (widget, "call.consult", talking && !consulting);
  gtk_widget_action_set_enabled (widget, "call.consult-with", talking && !consulting);
  gtk_widget_action_set_enabled (widget, "call.complete-transfer",
                                 consulting && call_is_talking (self->consult_call));
  gtk_widget_action_set_enabled (widget, "call.cancel-consult", consulting);
  gtk_widget_action_set_enabled (widget, "call.conference", conference_pair (self, NULL, NULL));

  gtk_toggle_button_set_active (self->hold_button, held);
  gtk_label_set_label (self->hold_label, held ? _("Resume") : _("Hold"));
  update_accessible_label (GTK_WIDGET (self->hold_button),
                           held ? _("Resume the call") : _("Hold the call"));
  gtk_label_set_label (self->mute_label, muted ? _("Unmute") : _("Mute"));
  update_accessible_label (GTK_WIDGET (self->mute_button),
                           muted ? _("Unmute the microphone") : _("Mute the microphone"));
  gtk_label_set_label (self->record_label, recording ? _("Stop") : _("Record"));
  update_accessible_label (GTK_WIDGET (self->record_button),
                           recording ? _("Stop recording the call") : _("Record the call"));
  if (recording)
    gtk_widget_add_css_class (GTK_WIDGET (self->record_button), "recording");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->record_button), "recording");
  if (self->muted != muted)
    {
      self->muted = muted;
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_MUTED]);
    }
  if (self->recording != recording)
    {
      self->recording = recording;
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_RECORDING]);
    }
  update_consult_bar (self);
  if (talking && !self->quality_source)
    {
      self->quality_source = g_timeout_add_seconds (QUALITY_INTERVAL_S, on_quality_tick, self);
      update_quality (self);
    }
  else if (!talking)
    {
      g_clear_handle_id (&self->quality_source, g_source_remove);
      gtk_widget_set_visible (self->quality_box, FALSE);
    }

  /* the pad types the number when idle, and sends tones when asked to */
  gtk_revealer_set_reveal_child (self->pad_revealer, !talking || self->keypad_visible);

  if (live && !self->tick_source)
    self->tick_source = g_timeout_add_seconds (1, on_tick, self);
  else if (!live)
    g_clear_handle_id (&self->tick_source, g_source_remove);
  update_duration (self);
}

/* --- actions --------------------------------------------------------------- */

static void
report_error (KefuPhonePanel *self,
              const char     *what,
              GError         *error)
{
  g_autofree char *message = g_strdup_printf ("%s: %s", what, error->message);

  show_message (self, message);
}

static void
on_answer_activated (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  KefuPhonePanel *self = KEFU_PHONE_PANEL (widget);
  g_autoptr(GError) error = NULL;

  if (!self->selected_call)
    return;
  /* answering one call holds the one the agent was talking on */
  for (guint i = 0; self->phone && i < g_list_model_get_n_items (kefu_phone_get_calls (self->phone)); i++)
    {
      g_autoptr(KefuCall) other = g_list_model_get_item (kefu_phone_get_calls (self->phone), i);

      if (other != self->selected_call
          && kefu_call_get_state (other) == KEFU_CALL_STATE_ESTABLISHED)
        kefu_call_put_on_hold (other, NULL);
    }
  if (!kefu_call_accept (self->selected_call, &error))
    report_error (self, _("Could not answer"), error);
}

static void
on_reject_activated (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  KefuPhonePanel *self = KEFU_PHONE_PANEL (widget);
  g_autoptr(GError) error = NULL;

  if (self->selected_call && !kefu_call_decline (self->selected_call, 486, &error))
    report_error (self, _("Could not reject"), error);
}

static void
on_hang_up_activated (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  KefuPhonePanel *self = KEFU_PHONE_PANEL (widget);
  g_autoptr(GError) error = NULL;

  if (self->selected_call && !kefu_call_hang_up (self->selected_call, &error))
    report_error (self, _("Could not hang up"), error);
}

static void
on_toggle_hold_activated (GtkWidget  *widget,
                          const char *action_name,
                          GVariant   *parameter)
{
  KefuPhonePanel *self = KEFU_PHONE_PANEL (widget);
  g_autoptr(GError) error = NULL;
  gboolean ok;

  if (!self->selected_call)
    return;
  if (kefu_call_get_state (self->selected_call) == KEFU_CALL_STATE_HELD)
    ok = kefu_call_resume (self->selected_call, &error);
  else
    ok = kefu_call_put_on_hold (self->selected_call, &error);
  if (!ok)
    report_error (self, _("Could not hold or resume"), error);
  /* the toggle shows the call's state, not the click, until the phone says */
  update_controls (self);
}

static void
send_digits (KefuPhonePanel *self,
             const char     *digits)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *shown = NULL;

  if (!self->selected_call)
    return;
  if (!kefu_call_send_digits (self->selected_call, digits, &error))
    {
      report_error (self, _("Could not send the key"), error);
      return;
    }
  shown = g_strconcat (gtk_label_get_label (self->dtmf_label), digits, NULL);
  gtk_label_set_label (self->dtmf_label, shown);
  gtk_widget_set_visible (GTK_WIDGET (self->dtmf_label), TRUE);
}

static void
on_send_dtmf_activated (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
  send_digits (KEFU_PHONE_PANEL (widget), g_variant_get_string (parameter, NULL));
}

static void
on_dial_activated (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  KefuPhonePanel *self = KEFU_PHONE_PANEL (widget);
  g_autoptr(GError) error = NULL;
  g_autofree char *text = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->number_entry)));

  if (!kefu_phone_panel_dial (self, text, &error))
    report_error (self, _("Could not call"), error);
}

static void
on_focus_number_activated (GtkWidget  *widget,
                           const char *action_name,
                           GVariant   *parameter)
{
  KefuPhonePanel *self = KEFU_PHONE_PANEL (widget);

  gtk_widget_grab_focus (GTK_WIDGET (self->number_entry));
}

static void
on_clipboard_text (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(KefuPhonePanel) self = user_data;
  g_autofree char *text = gdk_clipboard_read_text_finish (GDK_CLIPBOARD (source), result, NULL);
  g_autofree char *number = NULL;

  if (!text)
    return;
  /* a pasted "tel:" link or "(010) 1234-5678" becomes something dialable */
  number = kefu_caller_id_dial_uri (text, NULL);
  gtk_editable_set_text (GTK_EDITABLE (self->number_entry),
                         number && !g_str_has_prefix (number, "sip:") ? number : g_strstrip (text));
  gtk_editable_set_position (GTK_EDITABLE (self->number_entry), -1);
  gtk_widget_grab_focus (GTK_WIDGET (self->number_entry));
}

static void
on_paste_activated (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  gdk_clipboard_read_text_async (gtk_widget_get_clipboard (widget), NULL, on_clipboard_text,
                                 g_object_ref (widget));
}

static void
select_relative (KefuPhonePanel *self,
                 int             delta)
{
  GtkListBoxRow *row = gtk_list_box_get_selected_row (self->call_list);
  int index = row ? gtk_list_box_row_get_index (row) + delta : 0;
  GtkListBoxRow *next = index >= 0 ? gtk_list_box_get_row_at_index (self->call_list, index) : NULL;

  if (next)
    gtk_list_box_select_row (self->call_list, next);
}

static void
on_next_call_activated (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
  select_relative (KEFU_PHONE_PANEL (widget), 1);
}

static void
on_previous_call_activated (GtkWidget  *widget,
                            const char *action_name,
                            GVariant   *parameter)
{
  select_relative (KEFU_PHONE_PANEL (widget), -1);
}

/* --- transfer and conference ------------------------------------------------- */

/* What the agent typed ("2001", "sip:2001@pbx", "tel:...") as a URI to send
 * a call to; NULL with the reason. */
static char *
target_uri (KefuPhonePanel  *self,
            const char      *target,
            GError         **error)
{
  g_autofree char *uri = kefu_caller_id_dial_uri (target, self->dial_domain);

  if (!uri || !g_str_has_prefix (uri, "sip"))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   uri ? _("Set a SIP account or registrar in Preferences to call numbers")
                       : _("Type a number or a SIP address"));
      return NULL;
    }
  return g_steal_pointer (&uri);
}

static void
set_transfer_status (KefuPhonePanel *self,
                     KefuCall       *call,
                     const char     *status)
{
  g_object_set_data_full (G_OBJECT (call), "kefu-transfer-status", g_strdup (status), g_free);
  if (call == self->selected_call)
    update_controls (self);
}

static gboolean
transfer_blind (KefuPhonePanel *self,
                KefuCall       *call,
                const char     *target)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *uri = target_uri (self, target, &error);
  g_autofree char *status = NULL;

  if (!uri || !kefu_call_transfer_blind (call, uri, &error))
    {
      report_error (self, _("Could not transfer"), error);
      return FALSE;
    }
  status = g_strdup_printf (_("Transferring to %s…"), target);
  set_transfer_status (self, call, status);
  return TRUE;
}

static void
clear_consult (KefuPhonePanel *self)
{
  g_clear_object (&self->consult_held);
  g_clear_object (&self->consult_call);
  update_controls (self);
}

static gboolean
consult (KefuPhonePanel *self,
         KefuCall       *held,
         const char     *target)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *uri = target_uri (self, target, &error);
  g_autoptr(KefuCall) colleague = NULL;

  if (!uri)
    {
      report_error (self, _("Could not call the colleague"), error);
      return FALSE;
    }
  /* the customer hears nothing of the consultation */
  if (kefu_call_get_state (held) == KEFU_CALL_STATE_ESTABLISHED
      && !kefu_call_put_on_hold (held, &error))
    {
      report_error (self, _("Could not hold the call"), error);
      return FALSE;
    }
  colleague = kefu_phone_dial_full (self->phone, self->account, uri, NULL, &error);
  if (!colleague)
    {
      report_error (self, _("Could not call the colleague"), error);
      kefu_call_resume (held, NULL);
      return FALSE;
    }
  g_set_object (&self->consult_held, held);
  g_set_object (&self->consult_call, colleague);
  kefu_phone_panel_select_call (self, colleague);
  update_controls (self);
  return TRUE;
}

static void
on_transfer_dialog_response (AdwMessageDialog *dialog,
                             const char       *response,
                             KefuPhonePanel   *self)
{
  GtkEditable *entry = g_object_get_data (G_OBJECT (dialog), "target-entry");
  KefuCall *call = g_object_get_data (G_OBJECT (dialog), "call");
  g_autofree char *target = g_strstrip (g_strdup (gtk_editable_get_text (entry)));

  if (g_str_equal (response, "cancel") || !call || kefu_call_get_state (call) == KEFU_CALL_STATE_CLOSED)
    return;
  if (!target[0])
    {
      show_message (self, _("Type the number to transfer to"));
      return;
    }
  if (g_str_equal (response, "consult"))
    consult (self, call, target);
  else
    transfer_blind (self, call, target);
}

static void
open_transfer_dialog (KefuPhonePanel *self,
                      gboolean        consult_first)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  g_autofree char *peer = NULL;
  g_autofree char *body = NULL;
  GtkWidget *dialog;
  GtkWidget *entry;

  if (!self->selected_call)
    return;
  if (self->transfer_dialog)
    gtk_window_destroy (self->transfer_dialog);
  peer = describe_peer (self->selected_call);
  body = consult_first
         ? g_strdup_printf (_("%s waits on hold while you talk to your colleague; then complete the transfer or go back to the call."), peer)
         : g_strdup_printf (_("%s is sent straight to this number; the call leaves your phone."), peer);
  dialog = adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                   consult_first ? _("Consult a Colleague")
                                                 : _("Transfer the Call"),
                                   body);
  entry = gtk_entry_new ();
  gtk_entry_set_input_purpose (GTK_ENTRY (entry), GTK_INPUT_PURPOSE_PHONE);
  gtk_entry_set_activates_default (GTK_ENTRY (entry), TRUE);
  gtk_entry_set_placeholder_text (GTK_ENTRY (entry), _("Number or SIP address"));
  gtk_editable_set_text (GTK_EDITABLE (entry),
                         gtk_editable_get_text (GTK_EDITABLE (self->number_entry)));
  update_accessible_label (entry, _("Transfer to"));
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), entry);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "consult", _("_Consult First"),
                                    "transfer", _("_Transfer Now"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog),
                                              consult_first ? "consult" : "transfer",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog),
                                           consult_first ? "consult" : "transfer");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_object_set_data (G_OBJECT (dialog), "target-entry", entry);
  g_object_set_data_full (G_OBJECT (dialog), "call", g_object_ref (self->selected_call),
                          g_object_unref);
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_transfer_dialog_response), self, 0);
  self->transfer_dialog = GTK_WINDOW (dialog);
  g_object_add_weak_pointer (G_OBJECT (dialog), (gpointer *) &self->transfer_dialog);
  gtk_window_present (GTK_WINDOW (dialog));
  gtk_widget_grab_focus (entry);
}

static void
on_transfer_activated (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  open_transfer_dialog (KEFU_PHONE_PANEL (widget), FALSE);
}

static void
on_consult_activated (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  open_transfer_dialog (KEFU_PHONE_PANEL (widget), TRUE);
}

static void
on_transfer_to_activated (GtkWidget  *widget,
                          const char *action_name,
                          GVariant   *parameter)
{
  KefuPhonePanel *self = KEFU_PHONE_PANEL (widget);

  if (self->selected_call)
    transfer_blind (self, self->selected_call, g_variant_get_string (parameter, NULL));
}

static void
on_consult_with_activated (GtkWidget  *widget,
                           const char *action_name,
                           GVariant   *parameter)
{
  KefuPhonePanel *self = KEFU_PHONE_PANEL (widget);

  if (self->selected_call && !self->consult_call)
    consult (self, self->selected_call, g_variant_get_string (parameter, NULL));
}

static void
on_complete_transfer_activated (GtkWidget  *widget,
                                const char *action_name,
                                GVariant   *parameter)
{
  KefuPhonePanel *self = KEFU_PHONE_PANEL (widget);
  g_autoptr(GError) error = NULL;

  if (!self->consult_call)
    return;
  if (!kefu_call_transfer_to_call (self->consult_held, self->consult_call, &error))
    {
      report_error (self, _("Could not complete the transfer"), error);
      return;
    }
  set_transfer_status (self, self->consult_held, _("Handing over to your colleague…"));
  set_transfer_status (self, self->consult_call, _("Handing over the customer…"));
}

static void
on_cancel_consult_activated (GtkWidget  *widget,
                             const char *action_name,
                             GVariant   *parameter)
{
  KefuPhonePanel *self = KEFU_PHONE_PANEL (widget);
  g_autoptr(GError) error = NULL;

  /* the customer comes back when the consultation has ended (on_watched_call_state) */
  if (self->consult_call && !kefu_call_hang_up (self->consult_call, &error))
    report_error (self, _("Could not hang up on the colleague"), error);
}

static void
on_conference_activated (GtkWidget  *widget,
                         const char *action_name,
                         GVariant   *parameter)
{
  KefuPhonePanel *self = KEFU_PHONE_PANEL (widget);
  g_autoptr(GError) error = NULL;
  KefuCall *first, *second;

  if (!conference_pair (self, &first, &second))
    return;
  if (!kefu_call_join_conference (first, second, &error))
    {
      report_error (self, _("Could not start the conference"), error);
      return;
    }
  /* both calls stay the agent's: nothing to complete or cancel any more */
  g_clear_object (&self->consult_held);
  g_clear_object (&self->consult_call);
  update_controls (self);
}

/* --- the far end asks us to transfer (REFER) ------------------------------------ */

static KefuCall *
find_call (KefuPhonePanel *self,
           guint           id)
{
  for (guint i = 0; i < self->watched->len; i++)
    if (kefu_call_get_id (self->watched->pdata[i]) == id)
      return self->watched->pdata[i];
  return NULL;
}

static void
close_request_dialog (KefuPhonePanel *self)
{
  g_clear_object (&self->request_call);
  if (self->request_dialog)
    gtk_window_destroy (self->request_dialog);
}

static void
on_accept_transfer_activated (GtkWidget  *widget,
                              const char *action_name,
                              GVariant   *parameter)
{
  KefuPhonePanel *self = KEFU_PHONE_PANEL (widget);
  KefuCall *call = find_call (self, g_variant_get_uint32 (parameter));
  g_autoptr(GError) error = NULL;
  g_autoptr(KefuCall) new_call = NULL;

  if (call && call == self->request_call)
    close_request_dialog (self);
  if (!call || !self->phone)
    return;
  new_call = kefu_phone_accept_transfer (self->phone, call, &error);
  if (!new_call)
    {
      report_error (self, _("Could not follow the transfer"), error);
      return;
    }
  kefu_phone_panel_select_call (self, new_call);
}

static void
on_decline_transfer_activated (GtkWidget  *widget,
                               const char *action_name,
                               GVariant   *parameter)
{
  KefuPhonePanel *self = KEFU_PHONE_PANEL (widget);
  KefuCall *call = find_call (self, g_variant_get_uint32 (parameter));
  g_autoptr(GError) error = NULL;

  if (call && call == self->request_call)
    close_request_dialog (self);
  if (call && !kefu_call_decline_transfer (call, &error))
    report_error (self, _("Could not refuse the transfer"), error);
}

static void
on_request_dialog_response (AdwMessageDialog *dialog,
                            const char       *response,
                            KefuPhonePanel   *self)
{
  guint id = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (dialog), "call-id"));

  /* the dialog goes by itself after a response */
  if (self->request_dialog == GTK_WINDOW (dialog))
    {
      g_object_remove_weak_pointer (G_OBJECT (dialog), (gpointer *) &self->request_dialog);
      self->request_dialog = NULL;
    }
  gtk_widget_activate_action (GTK_WIDGET (self),
                              g_str_equal (response, "accept") ? "call.accept-transfer"
                                                               : "call.decline-transfer",
                              "u", id);
}

static void
on_transfer_requested (KefuCall       *call,
                       const char     *target,
                       const char     *referred_by,
                       KefuPhonePanel *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  g_autofree char *peer = describe_peer (call);
  g_autofree char *number = kefu_caller_id_from_uri (target);
  g_autofree char *body = NULL;
  GtkWidget *dialog;

  /* one question at a time: an older request is refused */
  if (self->request_call && self->request_call != call)
    kefu_call_decline_transfer (self->request_call, NULL);
  close_request_dialog (self);

  body = g_strdup_printf (_("%s asks you to call %s instead. If you do, your call with them ends."),
                          peer, number);
  dialog = adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                   _("Transfer Requested"), body);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "decline", _("_Refuse"),
                                    "accept", _("_Call Them"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "accept",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "accept");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "decline");
  g_object_set_data (G_OBJECT (dialog), "call-id", GUINT_TO_POINTER (kefu_call_get_id (call)));
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_request_dialog_response), self, 0);
  self->request_call = g_object_ref (call);
  self->request_dialog = GTK_WINDOW (dialog);
  g_object_add_weak_pointer (G_OBJECT (dialog), (gpointer *) &self->request_dialog);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* --- what happens to every call --------------------------------------------------- */

static void
on_transfer_progress (KefuCall       *call,
                      guint           code,
                      const char     *reason,
                      KefuPhonePanel *self)
{
  const char *status = g_object_get_data (G_OBJECT (call), "kefu-transfer-status");
  g_autofree char *base = g_strdup (status ? status : _("Transferring…"));
  g_autofree char *text = NULL;
  char *paren = strstr (base, " (");

  if (paren)
    *paren = '\0';
  text = g_strdup_printf ("%s (%u %s)", base, code, reason ? reason : "");
  set_transfer_status (self, call, text);
}

static void
on_transfer_failed (KefuCall       *call,
                    guint           code,
                    const char     *reason,
                    KefuPhonePanel *self)
{
  g_autofree char *peer = describe_peer (call);
  g_autofree char *message = g_strdup_printf (_("%s was not transferred: %s. The call is still yours."),
                                              peer, reason && reason[0] ? reason : _("refused"));

  set_transfer_status (self, call, NULL);
  /* a consult transfer: the colleague's call is no longer being handed over */
  if (call == self->consult_held && self->consult_call)
    set_transfer_status (self, self->consult_call, NULL);
  show_message (self, message);
}

static void
on_hold_failed (KefuCall       *call,
                gboolean        hold,
                const char     *reason,
                KefuPhonePanel *self)
{
  g_autofree char *peer = describe_peer (call);
  g_autofree char *message = NULL;

  /* what matters is who hears what: a customer not held hears the agent */
  if (hold)
    message = g_strdup_printf (_("%s’s phone did not accept the hold: they can still hear you."),
                               peer);
  else
    message = g_strdup_printf (_("%s’s phone did not accept the resume: they are still on hold."),
                               peer);
  g_debug ("hold failed: %s", reason);
  show_message (self, message);
  /* the hold button goes back to what the call is */
  if (call == self->selected_call)
    update_controls (self);
}

static void unwatch_call (KefuPhonePanel *self, KefuCall *call);

static void
on_watched_call_state (KefuCall       *call,
                       GParamSpec     *pspec,
                       KefuPhonePanel *self)
{
  KefuCallState state = kefu_call_get_state (call);
  const char *reason;

  if (call_is_talking (call))
    g_object_set_data (G_OBJECT (call), "kefu-talked", GINT_TO_POINTER (1));
  if (state != KEFU_CALL_STATE_CLOSED)
    {
      if (call == self->consult_call || call == self->consult_held)
        update_controls (self);
      return;
    }

  reason = kefu_call_get_close_reason (call);
  if (g_strcmp0 (reason, "transferred") == 0)
    {
      g_autofree char *peer = describe_peer (call);
      g_autofree char *message = g_strdup_printf (_("%s was transferred"), peer);

      show_message (self, message);
    }
  if (call == self->consult_call)
    {
      g_autoptr(KefuCall) held = g_object_ref (self->consult_held);

      clear_consult (self);
      /* the colleague hung up, or the agent cancelled: back to the customer */
      if (g_strcmp0 (reason, "replaced") != 0 && g_strcmp0 (reason, "transferred") != 0
          && kefu_call_get_state (held) == KEFU_CALL_STATE_HELD)
        {
          kefu_call_resume (held, NULL);
          kefu_phone_panel_select_call (self, held);
        }
    }
  else if (call == self->consult_held)
    {
      /* the customer hung up during the consultation: the colleague stays */
      g_clear_object (&self->consult_held);
      g_clear_object (&self->consult_call);
      if (g_strcmp0 (reason, "transferred") != 0)
        show_message (self, _("The customer hung up while waiting on hold"));
    }
  if (call == self->request_call)
    close_request_dialog (self);

  /* the window wraps up once the last call the agent talked on is over */
  g_signal_emit (self, signals[SIGNAL_CALL_FINISHED], 0, call,
                 GPOINTER_TO_INT (g_object_get_data (G_OBJECT (call), "kefu-talked")));
  unwatch_call (self, call);
  update_controls (self);
}

static void
watch_call (KefuPhonePanel *self,
            KefuCall       *call)
{
  if (g_ptr_array_find (self->watched, call, NULL))
    return;
  g_ptr_array_add (self->watched, g_object_ref (call));
  g_signal_connect (call, "notify::state", G_CALLBACK (on_watched_call_state), self);
  g_signal_connect (call, "transfer-progress", G_CALLBACK (on_transfer_progress), self);
  g_signal_connect (call, "transfer-failed", G_CALLBACK (on_transfer_failed), self);
  g_signal_connect (call, "transfer-requested", G_CALLBACK (on_transfer_requested), self);
  g_signal_connect (call, "hold-failed", G_CALLBACK (on_hold_failed), self);
}

static void
unwatch_call (KefuPhonePanel *self,
              KefuCall       *call)
{
  g_signal_handlers_disconnect_by_data (call, self);
  if (call == self->selected_call)
    {
      /* the controls still follow it until the selection moves */
      self->selected_state_handler =
        g_signal_connect (call, "notify", G_CALLBACK (on_selected_call_state_changed), self);
    }
  g_ptr_array_remove (self->watched, call);
}

static void
unwatch_all (KefuPhonePanel *self)
{
  while (self->watched->len > 0)
    {
      KefuCall *call = self->watched->pdata[self->watched->len - 1];

      g_signal_handlers_disconnect_by_data (call, self);
      g_ptr_array_remove_index (self->watched, self->watched->len - 1);
    }
}

/* --- recording ------------------------------------------------------------------- */

/* "2026-01-05 14-03-22 王芳 +8613800138000.wav": when, who, and the number,
 * so a recording is found by the customer's name or number. */
static char *
recording_path (KefuPhonePanel *self,
                KefuCall       *call)
{
  g_autofree char *number = kefu_caller_id_from_uri (kefu_call_get_peer_uri (call));
  g_autofree char *who = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *when = g_date_time_format (now, "%Y-%m-%d %H-%M-%S");
  g_autofree char *name = NULL;
  const char *switch_id = kefu_call_get_header (call, "X-Kefu-Call");
  const char *dir = self->recordings_dir;
  g_autofree char *default_dir = NULL;

  if (self->store)
    {
      g_autoptr(JsonArray) matches = kefu_local_store_find_customers_by_phone (self->store, number,
                                                                               NULL);

      if (matches && json_array_get_length (matches) == 1)
        who = g_strdup (json_object_get_string_member_with_default (
                          json_array_get_object_element (matches, 0), "name", ""));
    }
  if ((!who || !who[0]) && kefu_call_get_peer_name (call))
    {
      g_free (who);
      who = g_strdup (kefu_call_get_peer_name (call));
    }
  name = g_strdup_printf ("%s %s%s%s%s%s.wav", when, who && who[0] ? who : "",
                          who && who[0] ? " " : "", number,
                          switch_id ? " " : "", switch_id ? switch_id : "");
  /* a name, not a path: no separators or control characters from the peer */
  for (char *p = name; *p; p++)
    if (*p == G_DIR_SEPARATOR || (guchar) *p < 0x20 || *p == ':')
      *p = '_';
  if (!dir || !dir[0])
    dir = default_dir = g_build_filename (g_get_home_dir (), _("Recordings"), NULL);
  return g_build_filename (dir, name, NULL);
}

static void
set_recording (KefuPhonePanel *self,
               gboolean        recording)
{
  KefuCall *call = self->selected_call;
  g_autoptr(GError) error = NULL;

  if (!call || !call_is_talking (call) || recording == (kefu_call_get_recording (call) != NULL))
    goto out;
  if (recording)
    {
      g_autofree char *path = recording_path (self, call);
      g_autofree char *dir = g_path_get_dirname (path);
      g_autofree char *message = NULL;

      if (g_mkdir_with_parents (dir, 0700) != 0)
        {
          int saved_errno = errno;

          g_set_error (&error, G_IO_ERROR, g_io_error_from_errno (saved_errno), "%s: %s", dir,
                       g_strerror (saved_errno));
        }
      if (error || !kefu_call_start_recording (call, path, &error))
        {
          report_error (self, _("Could not record"), error);
          goto out;
        }
      message = g_strdup_printf (_("Recording to %s"), path);
      show_message (self, message);
    }
  else
    {
      g_autofree char *path = g_strdup (kefu_call_get_recording (call));
      g_autofree char *message = NULL;

      if (!kefu_call_stop_recording (call, &error))
        {
          report_error (self, _("Could not stop recording"), error);
          goto out;
        }
      message = g_strdup_printf (_("Recording saved: %s"), path);
      show_message (self, message);
    }
out:
  update_controls (self);
}

static void
set_muted (KefuPhonePanel *self,
           gboolean        muted)
{
  g_autoptr(GError) error = NULL;

  if (self->selected_call && call_is_talking (self->selected_call)
      && !kefu_call_set_muted (self->selected_call, muted, &error))
    report_error (self, muted ? _("Could not mute") : _("Could not unmute"), error);
  update_controls (self);
}

/* --- template callbacks ------------------------------------------------------ */

static void
on_number_entry_activate (GtkEntry       *entry,
                          KefuPhonePanel *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "phone.dial", NULL);
}

static void
on_number_entry_icon_press (GtkEntry             *entry,
                            GtkEntryIconPosition  position,
                            KefuPhonePanel       *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "phone.paste", NULL);
}

static void
on_dial_pad_digit_pressed (KefuDialPad    *pad,
                           const char     *digit,
                           KefuPhonePanel *self)
{
  if (call_is_talking (self->selected_call))
    {
      send_digits (self, digit);
      return;
    }
  {
    GtkEditable *editable = GTK_EDITABLE (self->number_entry);
    int position = gtk_editable_get_position (editable);

    gtk_editable_insert_text (editable, digit, -1, &position);
    gtk_editable_set_position (editable, position);
  }
}

/* --- GObject --------------------------------------------------------------- */

static void
kefu_phone_panel_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  KefuPhonePanel *self = KEFU_PHONE_PANEL (object);

  switch (prop_id)
    {
    case PROP_PHONE:
      g_value_set_object (value, self->phone);
      break;
    case PROP_SELECTED_CALL:
      g_value_set_object (value, self->selected_call);
      break;
    case PROP_KEYPAD_VISIBLE:
      g_value_set_boolean (value, self->keypad_visible);
      break;
    case PROP_MUTED:
      g_value_set_boolean (value, self->muted);
      break;
    case PROP_RECORDING:
      g_value_set_boolean (value, self->recording);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kefu_phone_panel_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  KefuPhonePanel *self = KEFU_PHONE_PANEL (object);

  switch (prop_id)
    {
    case PROP_PHONE:
      kefu_phone_panel_set_phone (self, g_value_get_object (value));
      break;
    case PROP_KEYPAD_VISIBLE:
      self->keypad_visible = g_value_get_boolean (value);
      update_controls (self);
      g_object_notify_by_pspec (object, pspec);
      break;
    case PROP_MUTED:
      set_muted (self, g_value_get_boolean (value));
      break;
    case PROP_RECORDING:
      set_recording (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
disconnect_phone (KefuPhonePanel *self)
{
  if (!self->phone)
    return;
  close_request_dialog (self);
  if (self->transfer_dialog)
    gtk_window_destroy (self->transfer_dialog);
  g_clear_object (&self->consult_held);
  g_clear_object (&self->consult_call);
  unwatch_all (self);
  g_clear_signal_handler (&self->registration_handler, self->phone);
  g_clear_signal_handler (&self->incoming_handler, self->phone);
  g_clear_signal_handler (&self->items_handler, kefu_phone_get_calls (self->phone));
  gtk_list_box_bind_model (self->call_list, NULL, NULL, NULL, NULL);
  g_clear_object (&self->phone);
}

static void
kefu_phone_panel_dispose (GObject *object)
{
  KefuPhonePanel *self = KEFU_PHONE_PANEL (object);

  g_clear_handle_id (&self->tick_source, g_source_remove);
  g_clear_handle_id (&self->quality_source, g_source_remove);
  g_clear_signal_handler (&self->selected_state_handler, self->selected_call);
  g_clear_object (&self->selected_call);
  disconnect_phone (self);
  g_clear_object (&self->store);
  gtk_widget_dispose_template (GTK_WIDGET (self), KEFU_TYPE_PHONE_PANEL);
  /* unbound template children are not unparented by dispose_template */
  for (GtkWidget *child; (child = gtk_widget_get_first_child (GTK_WIDGET (self)));)
    gtk_widget_unparent (child);
  G_OBJECT_CLASS (kefu_phone_panel_parent_class)->dispose (object);
}

static void
kefu_phone_panel_finalize (GObject *object)
{
  KefuPhonePanel *self = KEFU_PHONE_PANEL (object);

  g_free (self->account);
  g_free (self->listen_address);
  g_free (self->dial_domain);
  g_free (self->recordings_dir);
  g_ptr_array_unref (self->watched);
  G_OBJECT_CLASS (kefu_phone_panel_parent_class)->finalize (object);
}

/* Shortcuts that work wherever the focus is in the window: an agent typing
 * a case answers the next call without reaching for the mouse. */
static void
add_global_shortcuts (KefuPhonePanel *self)
{
  static const struct { const char *accel; const char *action; } shortcuts[] = {
    { "<Control><Shift>a", "call.answer" },
    { "<Control><Shift>d", "call.reject" },
    { "<Control><Shift>e", "call.hang-up" },
    { "<Control><Shift>h", "call.toggle-hold" },
    { "<Control><Shift>m", "call.mute" },
    { "<Control><Shift>r", "call.record" },
    { "<Control><Shift>t", "call.transfer" },
    { "<Control><Shift>c", "call.consult" },
    { "<Control><Shift>Return", "call.complete-transfer" },
    { "<Control><Shift>x", "call.cancel-consult" },
    { "<Control><Shift>j", "call.conference" },
    { "<Control>k", "call.keypad" },
    { "<Alt>Down", "call.next" },
    { "<Alt>Up", "call.previous" },
    { "<Control>l", "phone.focus-number" },
    { "<Control><Shift>v", "phone.paste" },
  };
  GtkEventController *controller = gtk_shortcut_controller_new ();

  gtk_shortcut_controller_set_scope (GTK_SHORTCUT_CONTROLLER (controller),
                                     GTK_SHORTCUT_SCOPE_GLOBAL);
  for (gsize i = 0; i < G_N_ELEMENTS (shortcuts); i++)
    gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (controller),
                                          gtk_shortcut_new (gtk_shortcut_trigger_parse_string (shortcuts[i].accel),
                                                            gtk_named_action_new (shortcuts[i].action)));
  gtk_widget_add_controller (GTK_WIDGET (self), controller);
}

static void
kefu_phone_panel_class_init (KefuPhonePanelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->get_property = kefu_phone_panel_get_property;
  object_class->set_property = kefu_phone_panel_set_property;
  object_class->dispose = kefu_phone_panel_dispose;
  object_class->finalize = kefu_phone_panel_finalize;

  props[PROP_PHONE] =
    g_param_spec_object ("phone", NULL, NULL, KEFU_TYPE_PHONE,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  props[PROP_SELECTED_CALL] =
    g_param_spec_object ("selected-call", NULL, NULL, KEFU_TYPE_CALL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  props[PROP_KEYPAD_VISIBLE] =
    g_param_spec_boolean ("keypad-visible", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* the selected call's, as the toggle buttons and their actions show them */
  props[PROP_MUTED] =
    g_param_spec_boolean ("muted", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  props[PROP_RECORDING] =
    g_param_spec_boolean ("recording", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);

  /**
   * KefuPhonePanel::call-finished:
   * @call: the call that ended
   * @talked: the call was answered (a call that only rang is not
   *   wrapped up)
   *
   * A call of the phone ended: the window starts the wrap-up.
   */
  signals[SIGNAL_CALL_FINISHED] =
    g_signal_new ("call-finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, KEFU_TYPE_CALL, G_TYPE_BOOLEAN);

  g_type_ensure (KEFU_TYPE_DIAL_PAD);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/kefu/Kefu/ui/kefu-phone-panel.ui");
  gtk_widget_class_bind_template_child (widget_class, KefuPhonePanel, content);
  gtk_widget_class_bind_template_child (widget_class, KefuPhonePanel, registration_icon);
  gtk_widget_class_bind_template_child (widget_class, KefuPhonePanel, registration_label);
  gtk_widget_class_bind_template_child (widget_class, KefuPhonePanel, number_entry);
  gtk_widget_class_bind_template_child (widget_class, KefuPhonePanel, call_list);
  gtk_widget_class_bind_template_child (widget_class, KefuPhonePanel, controls_revealer);
  gtk_widget_class_bind_template_child (widget_class, KefuPhonePanel, selected_peer_label);
  gtk_widget_class_bind_template_child (widget_class, KefuPhonePanel, selected_duration_label);
  gtk_widget_class_bind_template_child (widget_class, KefuPhonePanel, selected_state_label);
  gtk_widget_class_bind_template_child (widget_class, KefuPhonePanel, ringing_buttons);
  gtk_widget_class_bind_template_child (widget_class, KefuPhonePanel, talking_buttons);
  gtk_widget_class_bind_template_child (widget_class, KefuPhonePanel, hang_up_button);
  gtk_widget_class_bind_template_child (widget_class, KefuPhonePanel, hold_button);
  gtk_widget_class_bind_template_child (widget_class, KefuPhonePanel, hold_label);
  gtk_widget_class_bind_template_child (widget_class, KefuPhonePanel, mute_button);
  gtk_widget_class_bind_template_child (widget_class, KefuPhonePanel, mute_label);
  gtk_widget_class_bind_template_child (widget_class, KefuPhonePanel, record_button);
  gtk_widget_class_bind_template_child (widget_class, KefuPhonePanel, record_label);
  gtk_widget_class_bind_template_child (widget_class, KefuPhonePanel, quality_box);
  gtk_widget_class_bind_template_child (widget_class, KefuPhonePanel, quality_icon);
  gtk_widget_class_bind_template_child (widget_class, KefuPhonePanel, quality_label);
  gtk_widget_class_bind_template_child (widget_class, KefuPhonePanel, consult_revealer);
  gtk_widget_class_bind_template_child (widget_class, KefuPhonePanel, consult_label);
  gtk_widget_class_bind_template_child (widget_class, KefuPhonePanel, pad_revealer);
  gtk_widget_class_bind_template_child (widget_class, KefuPhonePanel, dtmf_label);
  gtk_widget_class_bind_template_callback (widget_class, on_call_list_selection_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_number_entry_activate);
  gtk_widget_class_bind_template_callback (widget_class, on_number_entry_icon_press);
  gtk_widget_class_bind_template_callback (widget_class, on_dial_pad_digit_pressed);

  gtk_widget_class_install_action (widget_class, "call.answer", NULL, on_answer_activated);
  gtk_widget_class_install_action (widget_class, "call.reject", NULL, on_reject_activated);
  gtk_widget_class_install_action (widget_class, "call.hang-up", NULL, on_hang_up_activated);
  gtk_widget_class_install_action (widget_class, "call.toggle-hold", NULL,
                                   on_toggle_hold_activated);
  gtk_widget_class_install_action (widget_class, "call.send-dtmf", "s", on_send_dtmf_activated);
  gtk_widget_class_install_property_action (widget_class, "call.keypad", "keypad-visible");
  gtk_widget_class_install_property_action (widget_class, "call.mute", "muted");
  gtk_widget_class_install_property_action (widget_class, "call.record", "recording");
  gtk_widget_class_install_action (widget_class, "call.transfer", NULL, on_transfer_activated);
  gtk_widget_class_install_action (widget_class, "call.consult", NULL, on_consult_activated);
  gtk_widget_class_install_action (widget_class, "call.transfer-to", "s",
                                   on_transfer_to_activated);
  gtk_widget_class_install_action (widget_class, "call.consult-with", "s",
                                   on_consult_with_activated);
  gtk_widget_class_install_action (widget_class, "call.complete-transfer", NULL,
                                   on_complete_transfer_activated);
  gtk_widget_class_install_action (widget_class, "call.cancel-consult", NULL,
                                   on_cancel_consult_activated);
  gtk_widget_class_install_action (widget_class, "call.conference", NULL,
                                   on_conference_activated);
  gtk_widget_class_install_action (widget_class, "call.accept-transfer", "u",
                                   on_accept_transfer_activated);
  gtk_widget_class_install_action (widget_class, "call.decline-transfer", "u",
                                   on_decline_transfer_activated);
  gtk_widget_class_install_action (widget_class, "call.next", NULL, on_next_call_activated);
  gtk_widget_class_install_action (widget_class, "call.previous", NULL,
                                   on_previous_call_activated);
  gtk_widget_class_install_action (widget_class, "phone.dial", NULL, on_dial_activated);
  gtk_widget_class_install_action (widget_class, "phone.focus-number", NULL,
                                   on_focus_number_activated);
  gtk_widget_class_install_action (widget_class, "phone.paste", NULL, on_paste_activated);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "phonepanel");
}

static void
kefu_phone_panel_init (KefuPhonePanel *self)
{
  self->watched = g_ptr_array_new_with_free_func (g_object_unref);
  gtk_widget_init_template (GTK_WIDGET (self));
  add_global_shortcuts (self);
  show_registration (self, KEFU_REGISTRATION_STATE_UNREGISTERED, NULL);
  update_controls (self);
}

GtkWidget *
kefu_phone_panel_new (void)
{
  return g_object_new (KEFU_TYPE_PHONE_PANEL, NULL);
}

KefuPhone *
kefu_phone_panel_get_phone (KefuPhonePanel *self)
{
  g_return_val_if_fail (KEFU_IS_PHONE_PANEL (self), NULL);
  return self->phone;
}

void
kefu_phone_panel_set_phone (KefuPhonePanel *self,
                            KefuPhone      *phone)
{
  g_return_if_fail (KEFU_IS_PHONE_PANEL (self));
  g_return_if_fail (!phone || KEFU_IS_PHONE (phone));

  if (self->phone == phone)
    return;
  set_selected_call (self, NULL);
  disconnect_phone (self);
  if (phone)
    {
      GListModel *calls = kefu_phone_get_calls (phone);

      self->phone = g_object_ref (phone);
      gtk_list_box_bind_model (self->call_list, calls, create_call_row, NULL, NULL);
      self->registration_handler =
        g_signal_connect (phone, "registration-changed", G_CALLBACK (on_registration_changed),
                          self);
      self->items_handler =
        g_signal_connect_after (calls, "items-changed", G_CALLBACK (on_calls_changed), self);
      if (g_list_model_get_n_items (calls) > 0)
        on_calls_changed (calls, 0, 0, g_list_model_get_n_items (calls), self);
    }
  show_registration (self, phone && self->account
                           ? kefu_phone_get_registration_state (phone, self->account)
                           : KEFU_REGISTRATION_STATE_UNREGISTERED, NULL);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_PHONE]);
}

void
kefu_phone_panel_set_account (KefuPhonePanel *self,
                              const char     *account,
                              const char     *listen_address)
{
  g_return_if_fail (KEFU_IS_PHONE_PANEL (self));

  g_free (self->account);
  self->account = account && account[0] ? g_strdup (account) : NULL;
  g_free (self->listen_address);
  self->listen_address = g_strdup (listen_address);
  show_registration (self, self->phone && self->account
                           ? kefu_phone_get_registration_state (self->phone, self->account)
                           : KEFU_REGISTRATION_STATE_UNREGISTERED, NULL);
}

void
kefu_phone_panel_set_dial_domain (KefuPhonePanel *self,
                                  const char     *domain)
{
  g_return_if_fail (KEFU_IS_PHONE_PANEL (self));
  g_free (self->dial_domain);
  self->dial_domain = domain && domain[0] ? g_strdup (domain) : NULL;
}

KefuCall *
kefu_phone_panel_get_selected_call (KefuPhonePanel *self)
{
  g_return_val_if_fail (KEFU_IS_PHONE_PANEL (self), NULL);
  return self->selected_call;
}

void
kefu_phone_panel_select_call (KefuPhonePanel *self,
                              KefuCall       *call)
{
  KefuCallRow *row;

  g_return_if_fail (KEFU_IS_PHONE_PANEL (self));
  row = call ? row_of_call (self, call) : NULL;
  if (row)
    gtk_list_box_select_row (self->call_list, GTK_LIST_BOX_ROW (row));
  else
    {
      gtk_list_box_unselect_all (self->call_list);
      set_selected_call (self, NULL);
    }
}

gboolean
kefu_phone_panel_dial (KefuPhonePanel *self,
                       const char     *number,
                       GError        **error)
{
  g_autofree char *uri = NULL;
  g_autoptr(KefuCall) call = NULL;

  g_return_val_if_fail (KEFU_IS_PHONE_PANEL (self), FALSE);

  if (!self->phone)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                           _("The phone is not started"));
      return FALSE;
    }
  uri = kefu_caller_id_dial_uri (number, self->dial_domain);
  if (!uri || !g_str_has_prefix (uri, "sip"))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   uri ? _("Set a SIP account or registrar in Preferences to call numbers")
                       : _("Type a number or a SIP address"));
      return FALSE;
    }
  gtk_editable_set_text (GTK_EDITABLE (self->number_entry), number);
  call = kefu_phone_dial_full (self->phone, self->account, uri, NULL, error);
  if (!call)
    return FALSE;
  kefu_phone_panel_select_call (self, call);
  gtk_editable_set_text (GTK_EDITABLE (self->number_entry), "");
  return TRUE;
}

void
kefu_phone_panel_set_store (KefuPhonePanel *self,
                            KefuLocalStore *store)
{
  g_return_if_fail (KEFU_IS_PHONE_PANEL (self));
  g_set_object (&self->store, store);
}

void
kefu_phone_panel_set_recordings_dir (KefuPhonePanel *self,
                                     const char     *dir)
{
  g_return_if_fail (KEFU_IS_PHONE_PANEL (self));
  g_free (self->recordings_dir);
  self->recordings_dir = dir && dir[0] ? g_strdup (dir) : NULL;
}

KefuCall *
kefu_phone_panel_get_consultation (KefuPhonePanel *self)
{
  g_return_val_if_fail (KEFU_IS_PHONE_PANEL (self), NULL);
  return self->consult_call;
}
