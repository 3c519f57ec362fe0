/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuApplication"

#include "config.h"

#include "kefu-application.h"

#include <glib/gi18n.h>
#include <string.h>

#include "kefu-audio-pulse.h"

#include "kefu-caller-id.h"
#include "kefu-event-stream.h"
#include "kefu-local-store.h"
#include "kefu-login.h"
#include "kefu-preferences-window.h"
#include "kefu-ringer.h"
#include "kefu-sync.h"

#define APPLICATION_ID "org.kefu.Kefu"

struct _KefuApplication
{
  AdwApplication parent_instance;

  /* owned */
  GSettings      *settings;
  KefuLogin      *login;
  KefuLocalStore *store;
  KefuSync       *sync;
  KefuEventStream *events;         /* the server's live events, while signed in */
  KefuPhone      *phone;
  KefuWindow     *window;
  GPtrArray      *pending_dials;   /* char *: links opened before the desk was ready */
  GHashTable     *notified;        /* KefuCall -> handler id: calls with a notification */
  struct kefu_ringer *ringer;
  gboolean        ringer_failed;   /* no sound server: said once, not on every call */
  gboolean        held;            /* g_application_hold while a session is open */
  GCancellable   *audio_check;     /* the phone waits for the sound server's answer */
  gboolean        audio_changed;   /* new devices: the phone restarts once idle */
};

G_DEFINE_FINAL_TYPE (KefuApplication, kefu_application, ADW_TYPE_APPLICATION)

static void open_session (KefuApplication *self);
static void start_phone  (KefuApplication *self);
static void stop_phone   (KefuApplication *self);

/* --- ringer and notifications ----------------------------------------------- */

static void
update_ringer (KefuApplication *self)
{
  gboolean ringing = FALSE;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; self->phone && i < g_list_model_get_n_items (kefu_phone_get_calls (self->phone)); i++)
    {
      g_autoptr(KefuCall) call = g_list_model_get_item (kefu_phone_get_calls (self->phone), i);

      if (kefu_call_get_state (call) == KEFU_CALL_STATE_RINGING_IN)
        ringing = TRUE;
    }
  if (!ringing)
    {
      if (self->ringer)
        kefu_ringer_stop (self->ringer);
      return;
    }
  if (!self->ringer && !self->ringer_failed)
    {
      g_autofree char *device = g_settings_get_string (self->settings, "audio-ringer");

      self->ringer = kefu_ringer_new (device, &error);
      if (!self->ringer && device[0] && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        {
          g_autofree char *message =
            g_strdup_printf (_("The ringer “%s” is not connected: ringing on the default speaker."),
                             device);

          if (self->window)
            kefu_window_show_toast (self->window, message);
          g_clear_error (&error);
          self->ringer = kefu_ringer_new (NULL, &error);
        }
      if (!self->ringer)
        {
          /* no sound server (a bare session, a test): the notification
           * and the window still show the call */
          g_message ("no ringer: %s", error->message);
          self->ringer_failed = TRUE;
          /* said once, and not over the phone's own message about it */
          if (self->window && !kefu_window_get_notice (self->window)[0])
            kefu_window_show_notice (self->window,
                                     _("No sound server: incoming calls cannot ring. Watch for the notification and the window."));
          return;
        }
    }
  if (self->ringer && !kefu_ringer_start (self->ringer, &error))
    g_message ("could not ring: %s", error->message);
}

static char *
notification_id (KefuCall *call)
{
  return g_strdup_printf ("call-%u", kefu_call_get_id (call));
}

static void
withdraw_notification (KefuApplication *self,
                       KefuCall        *call)
{
  g_autofree char *id = notification_id (call);
  gpointer handler;

  if (!g_hash_table_lookup_extended (self->notified, call, NULL, &handler))
    return;
  g_signal_handler_disconnect (call, GPOINTER_TO_SIZE (handler));
  g_hash_table_remove (self->notified, call);
  if (g_application_get_dbus_connection (G_APPLICATION (self)))
    g_application_withdraw_notification (G_APPLICATION (self), id);
}

static void
on_notified_call_state (KefuCall        *call,
                        GParamSpec      *pspec,
                        KefuApplication *self)
{
  if (kefu_call_get_state (call) != KEFU_CALL_STATE_RINGING_IN)
    withdraw_notification (self, call);
  update_ringer (self);
}

static void
on_incoming_call (KefuPhone       *phone,
                  KefuCall        *call,
                  KefuApplication *self)
{
  g_autoptr(GNotification) notification = g_notification_new (_("Incoming Call"));
  g_autofree char *number = kefu_caller_id_from_uri (kefu_call_get_peer_uri (call));
  g_autofree char *id = notification_id (call);
  g_autofree char *customer = NULL;
  g_autofree char *body = NULL;
  const char *queue = kefu_call_get_header (call, "X-Kefu-Queue");
  const char *peer_name = kefu_call_get_peer_name (call);
  guint call_id = kefu_call_get_id (call);
  gulong handler;

  /* the name the agent knows them by, when the local copy has it */
  if (self->store)
    {
      g_autoptr(JsonArray) matches = kefu_local_store_find_customers_by_phone (self->store, number, NULL);

      if (matches && json_array_get_length (matches) == 1)
        customer = g_strdup (json_object_get_string_member_with_default (
                               json_array_get_object_element (matches, 0), "name", ""));
    }
  if (!customer && peer_name && peer_name[0])
    customer = g_strdup (peer_name);
  body = queue ? g_strdup_printf (_("%s (%s), queue %s"), customer ? customer : number, number, queue)
               : g_strdup_printf ("%s (%s)", customer ? customer : _("Unknown caller"), number);

  g_notification_set_body (notification, body);
  g_notification_set_priority (notification, G_NOTIFICATION_PRIORITY_URGENT);
  g_notification_set_category (notification, "call.incoming");
  g_notification_set_default_action_and_target (notification, "app.show-call", "u", call_id);
  g_notification_add_button_with_target (notification, _("Answer"), "app.answer-call", "u", call_id);
  g_notification_add_button_with_target (notification, _("Reject"), "app.reject-call", "u", call_id);
  /* no session bus (a bare X session): GIO's notification backends would
   * talk to a bus that is not there; the window and the ringer still show
   * the call */
  if (g_application_get_dbus_connection (G_APPLICATION (self)))
    g_application_send_notification (G_APPLICATION (self), id, notification);

  handler = g_signal_connect (call, "notify::state", G_CALLBACK (on_notified_call_state), self);
  g_hash_table_insert (self->notified, g_object_ref (call), GSIZE_TO_POINTER (handler));
  update_ringer (self);
}

static gboolean phone_is_idle (KefuApplication *self);

static gboolean
on_idle_restart_phone (gpointer data)
{
  KefuApplication *self = data;

  if (self->audio_changed && phone_is_idle (self))
    {
      stop_phone (self);
      start_phone (self);
    }
  return G_SOURCE_REMOVE;
}

static void
on_call_removed (KefuPhone       *phone,
                 KefuCall        *call,
                 KefuApplication *self)
{
  withdraw_notification (self, call);
  update_ringer (self);
  /* not from inside the phone's own signal */
  if (self->audio_changed)
    g_idle_add_full (G_PRIORITY_DEFAULT, on_idle_restart_phone, g_object_ref (self),
                     g_object_unref);
}

/* --- the phone ------------------------------------------------------------------ */

static char *
host_of_aor (const char *aor)
{
  const char *at = aor ? strchr (aor, '@') : NULL;

  if (!at)
    return NULL;
  return g_strndup (at + 1, strcspn (at + 1, ";>"));
}

static void
on_sip_password (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(KefuApplication) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *password = kefu_preferences_window_lookup_sip_password_finish (result, &error);
  g_autofree char *aor = g_settings_get_string (self->settings, "sip-account");
  g_autofree char *registrar = g_settings_get_string (self->settings, "sip-registrar");
  g_autofree char *backup = g_settings_get_string (self->settings, "sip-backup-registrar");

  if (!self->phone || !aor[0])
    return;
  /* scripts/demo runs without a keyring: its phone's password comes the
   * way its sign-in does */
  if (!password && g_getenv ("KEFU_SIP_PASSWORD"))
    password = g_strdup (g_getenv ("KEFU_SIP_PASSWORD"));
  else if (error)
    g_message ("no SIP password in the keyring for %s: %s", aor, error->message);
  if (!kefu_phone_add_account (self->phone, aor, password, registrar[0] ? registrar : NULL,
                               backup[0] ? backup : NULL, &error))
    {
      g_autofree char *message = g_strdup_printf (_("The phone could not register: %s"),
                                                  error->message);

      kefu_window_show_toast (self->window, message);
    }
}

static void
create_phone (KefuApplication *self,
              const char      *audio)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *aor = g_settings_get_string (self->settings, "sip-account");
  g_autofree char *listen = g_settings_get_string (self->settings, "sip-listen");
  g_autofree char *registrar = g_settings_get_string (self->settings, "sip-registrar");
  g_autofree char *dtmf = g_settings_get_string (self->settings, "dtmf-mode");
  g_autofree char *recordings = g_settings_get_string (self->settings, "recordings-folder");
  g_autofree char *domain = NULL;
  KefuPhonePanel *panel;

  if (self->phone || !self->window || !self->store)
    return;
  panel = kefu_window_get_phone_panel (self->window);
  g_debug ("phone audio: %s", audio ? audio : "null");
  self->phone = g_initable_new (KEFU_TYPE_PHONE, NULL, &error,
                                "listen-address", aor[0] ? NULL : listen,
                                "display-name", self->login ? kefu_login_get_username (self->login) : NULL,
                                "dtmf-mode", g_str_equal (dtmf, "inband") ? "auto" : dtmf,
                                "audio", audio,
                                NULL);
  if (!self->phone)
    {
      g_autofree char *message = g_strdup_printf (_("The phone could not start: %s"), error->message);

      kefu_window_show_toast (self->window, message);
      return;
    }
  g_signal_connect (self->phone, "incoming-call", G_CALLBACK (on_incoming_call), self);
  g_signal_connect (self->phone, "call-removed", G_CALLBACK (on_call_removed), self);

  domain = registrar[0] ? g_strdup (registrar) : host_of_aor (aor);
  kefu_phone_panel_set_dial_domain (panel, domain);
  kefu_phone_panel_set_account (panel, aor[0] ? aor : NULL, listen);
  kefu_phone_panel_set_recordings_dir (panel, recordings);
  kefu_window_set_phone (self->window, self->phone);
  if (aor[0])
    kefu_preferences_window_lookup_sip_password_async (aor, NULL, on_sip_password,
                                                       g_object_ref (self));

  for (guint i = 0; i < self->pending_dials->len; i++)
    {
      g_autoptr(GVariant) target = g_variant_ref_sink (g_variant_new_string (self->pending_dials->pdata[i]));

      gtk_widget_activate_action_variant (GTK_WIDGET (self->window), "window.dial", target);
    }
  g_ptr_array_set_size (self->pending_dials, 0);
}

static gboolean
has_device (GPtrArray  *devices,
            const char *name)
{
  for (guint i = 0; devices && i < devices->len; i++)
    if (g_strcmp0 (((struct kefu_audio_device *) devices->pdata[i])->name, name) == 0)
      return TRUE;
  return FALSE;
}

/* The devices chosen in Preferences, if the sound server still has them:
 * a headset unplugged since falls back to the default, and says so. */
static void
on_audio_checked (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(KefuApplication) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) sources = NULL;
  g_autoptr(GPtrArray) sinks = NULL;
  g_autofree char *input = NULL;
  g_autofree char *output = NULL;
  g_autofree char *spec = NULL;

  if (!kefu_audio_pulse_list_devices_finish (result, &sources, &sinks, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      g_clear_object (&self->audio_check);
      g_message ("no sound server: %s", error->message);
      create_phone (self, "null");
      if (self->window)
        kefu_window_show_notice (self->window,
                                 _("No sound server: calls connect, but nobody hears anything and nothing rings. Start PulseAudio or PipeWire, then sign in again."));
      return;
    }
  g_clear_object (&self->audio_check);
  input = g_settings_get_string (self->settings, "audio-input");
  output = g_settings_get_string (self->settings, "audio-output");
  if (input[0] && !has_device (sources, input))
    {
      g_autofree char *message =
        g_strdup_printf (_("The microphone “%s” is not connected: using the default one."), input);

      if (self->window)
        kefu_window_show_toast (self->window, message);
      input[0] = '\0';
    }
  if (output[0] && !has_device (sinks, output))
    {
      g_autofree char *message =
        g_strdup_printf (_("The headset or speaker “%s” is not connected: using the default one."),
                         output);

      if (self->window)
        kefu_window_show_toast (self->window, message);
      output[0] = '\0';
    }
  spec = g_strdup_printf ("pulse:%s,%s", input, output);
  create_phone (self, spec);
}

static void
start_phone (KefuApplication *self)
{
  /* the demo and the tests give WAV files or "null" */
  const char *audio = g_getenv ("KEFU_AUDIO");

  if (self->phone || self->audio_check)
    return;
  self->audio_changed = FALSE;
  if (audio && audio[0])
    {
      create_phone (self, audio);
      return;
    }
  self->audio_check = g_cancellable_new ();
  kefu_audio_pulse_list_devices_async (self->audio_check, on_audio_checked, g_object_ref (self));
}

static void
stop_phone (KefuApplication *self)
{
  if (self->audio_check)
    {
      g_cancellable_cancel (self->audio_check);
      g_clear_object (&self->audio_check);
    }
  if (!self->phone)
    return;
  if (self->window)
    kefu_window_set_phone (self->window, NULL);
  g_signal_handlers_disconnect_by_data (self->phone, self);
  g_clear_object (&self->phone);
}

static gboolean
phone_is_idle (KefuApplication *self)
{
  return !self->phone || g_list_model_get_n_items (kefu_phone_get_calls (self->phone)) == 0;
}

/* The phone opens its devices when it starts: new ones take a restart,
 * which waits for the calls to end. */
static void
on_audio_setting_changed (GSettings       *settings,
                          const char      *key,
                          KefuApplication *self)
{
  if (g_str_equal (key, "audio-ringer"))
    {
      g_clear_pointer (&self->ringer, kefu_ringer_free);
      self->ringer_failed = FALSE;
      return;
    }
  if (!self->phone)
    return;
  self->audio_changed = TRUE;
  if (phone_is_idle (self))
    {
      stop_phone (self);
      start_phone (self);
    }
}

static void
on_recordings_folder_changed (GSettings       *settings,
                              const char      *key,
                              KefuApplication *self)
{
  g_autofree char *dir = g_settings_get_string (settings, key);

  if (self->window)
    kefu_phone_panel_set_recordings_dir (kefu_window_get_phone_panel (self->window), dir);
}

/* --- session -------------------------------------------------------------------- */

static void
on_session_expired (KefuSync        *sync,
                    KefuApplication *self)
{
  kefu_login_forget_token (self->login);
  kefu_window_show_login (self->window, self->login,
                          _("Your session ended. Sign in again; nothing you typed is lost."));
}

static void
close_session (KefuApplication *self)
{
  if (self->sync)
    {
      g_signal_handlers_disconnect_by_data (self->sync, self);
      kefu_sync_stop (self->sync);
    }
  if (self->events)
    kefu_event_stream_stop (self->events);
  if (self->window)
    {
      kefu_agent_state_button_set_event_stream (kefu_window_get_agent_state_button (self->window),
                                                NULL);
      kefu_window_open_desk (self->window, NULL, NULL, NULL);
    }
  g_clear_object (&self->events);
  g_clear_object (&self->sync);
  g_clear_object (&self->store);
}

static void
open_session (KefuApplication *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = kefu_login_dup_store_path (self->login);
  g_autofree char *country = g_settings_get_string (self->settings, "default-country");
  KefuApiClient *client = kefu_login_get_client (self->login);

  close_session (self);
  self->store = kefu_local_store_new (path, country, &error);
  if (!self->store)
    {
      g_autofree char *message = g_strdup_printf (_("The customers kept on this computer cannot be opened: %s"),
                                                  error->message);

      kefu_window_show_login (self->window, self->login, message);
      return;
    }
  if (client)
    {
      self->sync = kefu_sync_new (client, self->store);
      g_signal_connect (self->sync, "session-expired", G_CALLBACK (on_session_expired), self);
      kefu_sync_start (self->sync);
      /* what the switch and the supervisors change, as it happens */
      self->events = kefu_event_stream_new (client);
      kefu_event_stream_start (self->events);
    }
  kefu_window_open_desk (self->window, client, self->store, self->sync);
  kefu_agent_state_button_set_event_stream (kefu_window_get_agent_state_button (self->window),
                                            self->events);
  kefu_crm_pane_set_agent (kefu_window_get_crm_pane (self->window),
                           kefu_login_get_username (self->login));
  g_settings_set_string (self->settings, "server-url", kefu_login_get_server_url (self->login));
  g_settings_set_string (self->settings, "username", kefu_login_get_username (self->login));
  gtk_window_set_hide_on_close (GTK_WINDOW (self->window), TRUE);
  if (!self->held)
    {
      /* calls keep coming with the window closed: the notification answers */
      g_application_hold (G_APPLICATION (self));
      self->held = TRUE;
    }
  start_phone (self);
  if (!kefu_login_get_token_in_keyring (self->login) && kefu_login_get_signed_in (self->login))
    kefu_window_show_toast (self->window,
                            _("No keyring answered: you will be asked for the password at the next start."));
}

static void
on_window_signed_in (KefuWindow      *window,
                     KefuApplication *self)
{
  open_session (self);
}

static void
on_window_work_offline (KefuWindow      *window,
                        KefuApplication *self)
{
  open_session (self);
}

static void
on_restored (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(KefuApplication) self = user_data;
  g_autoptr(GError) error = NULL;
  gboolean found = kefu_login_restore_finish (KEFU_LOGIN (source), result, &error);

  if (!self->window)
    return;
  if (found && kefu_login_get_signed_in (self->login))
    open_session (self);
  else
    {
      g_autofree char *server = g_settings_get_string (self->settings, "server-url");
      g_autofree char *user = g_settings_get_string (self->settings, "username");

      const char *demo_user = g_getenv ("KEFU_SIGN_IN_USER");
      const char *demo_password = g_getenv ("KEFU_SIGN_IN_PASSWORD");

      kefu_window_show_login (self->window, self->login,
                              found ? _("Sign in again, or work offline with the customers on this computer.")
                                    : NULL);
      if (!kefu_login_get_server_url (self->login))
        kefu_login_page_prefill (kefu_window_get_login_page (self->window), server, user, NULL);
      /* scripts/demo: the demo agent is signed in as if they typed it */
      if (demo_user && demo_user[0] && demo_password && demo_password[0])
        {
          KefuLoginPage *page = kefu_window_get_login_page (self->window);

          kefu_login_page_prefill (page, server, demo_user, NULL);
          kefu_login_page_set_password (page, demo_password);
          kefu_login_page_sign_in (page);
        }
    }
}

static void
ensure_window (KefuApplication *self)
{
  if (self->window)
    return;
  self->window = kefu_window_new (GTK_APPLICATION (self));
  g_object_add_weak_pointer (G_OBJECT (self->window), (gpointer *) &self->window);
  g_signal_connect (self->window, "signed-in", G_CALLBACK (on_window_signed_in), self);
  g_signal_connect (self->window, "work-offline", G_CALLBACK (on_window_work_offline), self);
  kefu_window_show_login (self->window, self->login, NULL);
  kefu_login_restore_async (self->login, NULL, on_restored, g_object_ref (self));
}

/* --- actions ---------------------------------------------------------------------- */

static KefuCall *
find_call (KefuApplication *self,
           guint            id)
{
  for (guint i = 0; self->phone && i < g_list_model_get_n_items (kefu_phone_get_calls (self->phone)); i++)
    {
      g_autoptr(KefuCall) call = g_list_model_get_item (kefu_phone_get_calls (self->phone), i);

      if (kefu_call_get_id (call) == id)
        return call;
    }
  return NULL;
}

static KefuCall *
select_call (KefuApplication *self,
             GVariant        *parameter)
{
  KefuCall *call = find_call (self, g_variant_get_uint32 (parameter));

  if (call && self->window)
    kefu_phone_panel_select_call (kefu_window_get_phone_panel (self->window), call);
  return call;
}

static void
on_answer_call (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       user_data)
{
  KefuApplication *self = user_data;

  if (!select_call (self, parameter))
    return;
  gtk_widget_activate_action (GTK_WIDGET (kefu_window_get_phone_panel (self->window)),
                              "call.answer", NULL);
  /* an answered call needs the card in front of the agent */
  gtk_window_present (GTK_WINDOW (self->window));
}

static void
on_reject_call (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       user_data)
{
  KefuApplication *self = user_data;

  if (select_call (self, parameter))
    gtk_widget_activate_action (GTK_WIDGET (kefu_window_get_phone_panel (self->window)),
                                "call.reject", NULL);
}

static void
on_show_call (GSimpleAction *action,
              GVariant      *parameter,
              gpointer       user_data)
{
  KefuApplication *self = user_data;

  ensure_window (self);
  select_call (self, parameter);
  gtk_window_present (GTK_WINDOW (self->window));
}

static void
dial (KefuApplication *self,
      const char      *number)
{
  ensure_window (self);
  if (!self->phone)
    {
      /* the link waits for the sign-in */
      g_ptr_array_add (self->pending_dials, g_strdup (number));
      gtk_window_present (GTK_WINDOW (self->window));
      return;
    }
  {
    g_autoptr(GVariant) target = g_variant_ref_sink (g_variant_new_string (number));

    gtk_widget_activate_action_variant (GTK_WIDGET (self->window), "window.dial", target);
  }
  gtk_window_present (GTK_WINDOW (self->window));
}

static void
on_dial (GSimpleAction *action,
         GVariant      *parameter,
         gpointer       user_data)
{
  dial (user_data, g_variant_get_string (parameter, NULL));
}

static void
on_preferences (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       user_data)
{
  KefuApplication *self = user_data;
  GtkWindow *preferences = kefu_preferences_window_new (GTK_WINDOW (self->window));

  gtk_window_present (preferences);
}

static void
on_shortcuts (GSimpleAction *action,
              GVariant      *parameter,
              gpointer       user_data)
{
  KefuApplication *self = user_data;

  ensure_window (self);
  gtk_widget_activate_action (GTK_WIDGET (self->window), "win.show-help-overlay", NULL);
}

static void
on_about (GSimpleAction *action,
          GVariant      *parameter,
          gpointer       user_data)
{
  KefuApplication *self = user_data;
  GtkWidget *about = adw_about_window_new ();

  adw_about_window_set_application_name (ADW_ABOUT_WINDOW (about), _("Kefu"));
  adw_about_window_set_application_icon (ADW_ABOUT_WINDOW (about), APPLICATION_ID);
  adw_about_window_set_version (ADW_ABOUT_WINDOW (about), PACKAGE_VERSION);
  adw_about_window_set_comments (ADW_ABOUT_WINDOW (about),
                                 _("Answer customer calls with their records beside you"));
  adw_about_window_set_license_type (ADW_ABOUT_WINDOW (about), GTK_LICENSE_GPL_3_0);
  adw_about_window_set_developer_name (ADW_ABOUT_WINDOW (about), _("The Kefu developers"));
  /* TRANSLATORS: your name, to be credited in the About window */
  adw_about_window_set_translator_credits (ADW_ABOUT_WINDOW (about), _("translator-credits"));
  gtk_window_set_transient_for (GTK_WINDOW (about), GTK_WINDOW (self->window));
  gtk_window_present (GTK_WINDOW (about));
}

static void
on_signed_out (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(KefuApplication) self = user_data;

  kefu_login_sign_out_finish (KEFU_LOGIN (source), result, NULL);
  if (self->window)
    kefu_window_show_login (self->window, self->login, NULL);
}

static void
on_sign_out (GSimpleAction *action,
             GVariant      *parameter,
             gpointer       user_data)
{
  KefuApplication *self = user_data;

  close_session (self);
  kefu_login_sign_out_async (self->login, NULL, on_signed_out, g_object_ref (self));
}

static void
on_quit (GSimpleAction *action,
         GVariant      *parameter,
         gpointer       user_data)
{
  KefuApplication *self = user_data;

  close_session (self);
  if (self->held)
    {
      g_application_release (G_APPLICATION (self));
      self->held = FALSE;
    }
  if (self->window)
    gtk_window_destroy (GTK_WINDOW (self->window));
  g_application_quit (G_APPLICATION (self));
}

static const GActionEntry app_actions[] = {
  { "answer-call", on_answer_call, "u", NULL, NULL },
  { "reject-call", on_reject_call, "u", NULL, NULL },
  { "show-call", on_show_call, "u", NULL, NULL },
  { "dial", on_dial, "s", NULL, NULL },
  { "preferences", on_preferences, NULL, NULL, NULL },
  { "shortcuts", on_shortcuts, NULL, NULL, NULL },
  { "about", on_about, NULL, NULL, NULL },
  { "sign-out", on_sign_out, NULL, NULL, NULL },
  { "quit", on_quit, NULL, NULL, NULL },
};

/* --- GApplication ------------------------------------------------------------- */

static void
on_color_scheme_changed (GSettings       *settings,
                         const char      *key,
                         KefuApplication *self)
{
  static const AdwColorScheme schemes[] = {
    ADW_COLOR_SCHEME_DEFAULT, ADW_COLOR_SCHEME_FORCE_LIGHT, ADW_COLOR_SCHEME_FORCE_DARK,
  };
  guint scheme = (guint) g_settings_get_enum (settings, "color-scheme");

  adw_style_manager_set_color_scheme (adw_style_manager_get_default (),
                                      schemes[MIN (scheme, G_N_ELEMENTS (schemes) - 1)]);
}

static void
kefu_application_startup (GApplication *application)
{
  KefuApplication *self = KEFU_APPLICATION (application);
  static const char *quit_accels[] = { "<Control>q", NULL };
  static const char *preferences_accels[] = { "<Control>comma", NULL };

  G_APPLICATION_CLASS (kefu_application_parent_class)->startup (application);

  self->settings = g_settings_new (APPLICATION_ID);
  g_signal_connect (self->settings, "changed::color-scheme", G_CALLBACK (on_color_scheme_changed),
                    self);
  g_signal_connect (self->settings, "changed::audio-input", G_CALLBACK (on_audio_setting_changed),
                    self);
  g_signal_connect (self->settings, "changed::audio-output", G_CALLBACK (on_audio_setting_changed),
                    self);
  g_signal_connect (self->settings, "changed::audio-ringer", G_CALLBACK (on_audio_setting_changed),
                    self);
  g_signal_connect (self->settings, "changed::recordings-folder",
                    G_CALLBACK (on_recordings_folder_changed), self);
  on_color_scheme_changed (self->settings, "color-scheme", self);
  gtk_window_set_default_icon_name (APPLICATION_ID);

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions, G_N_ELEMENTS (app_actions),
                                   self);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.quit", quit_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.preferences",
                                         preferences_accels);

  self->login = kefu_login_new (g_getenv ("KEFU_STATE_DIR"));
}

static void
kefu_application_activate (GApplication *application)
{
  KefuApplication *self = KEFU_APPLICATION (application);

  ensure_window (self);
  gtk_window_present (GTK_WINDOW (self->window));
}

static void
kefu_application_open (GApplication  *application,
                       GFile        **files,
                       int            n_files,
                       const char    *hint)
{
  KefuApplication *self = KEFU_APPLICATION (application);

  for (int i = 0; i < n_files; i++)
    {
      g_autofree char *uri = g_file_get_uri (files[i]);

      /* only phone links: a file someone dropped on the icon is not a call */
      if (g_str_has_prefix (uri, "tel:") || g_str_has_prefix (uri, "sip:")
          || g_str_has_prefix (uri, "sips:"))
        dial (self, uri);
      else
        g_message ("not a tel: or sip: link, not dialled: %s", uri);
    }
  if (n_files == 0)
    kefu_application_activate (application);
}

static void
kefu_application_shutdown (GApplication *application)
{
  KefuApplication *self = KEFU_APPLICATION (application);
  GHashTableIter iter;
  gpointer call, handler;

  close_session (self);
  g_hash_table_iter_init (&iter, self->notified);
  while (g_hash_table_iter_next (&iter, &call, &handler))
    g_signal_handler_disconnect (call, GPOINTER_TO_SIZE (handler));
  g_hash_table_remove_all (self->notified);
  if (self->window)
    gtk_window_destroy (GTK_WINDOW (self->window));
  stop_phone (self);
  g_clear_pointer (&self->ringer, kefu_ringer_free);
  g_clear_object (&self->login);
  g_clear_object (&self->settings);
  G_APPLICATION_CLASS (kefu_application_parent_class)->shutdown (application);
}

static void
kefu_application_finalize (GObject *object)
{
  KefuApplication *self = KEFU_APPLICATION (object);

  g_ptr_array_unref (self->pending_dials);
  g_hash_table_unref (self->notified);
  G_OBJECT_CLASS (kefu_application_parent_class)->finalize (object);
}

static void
kefu_application_class_init (KefuApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *application_class = G_APPLICATION_CLASS (klass);

  object_class->finalize = kefu_application_finalize;
  application_class->startup = kefu_application_startup;
  application_class->activate = kefu_application_activate;
  application_class->open = kefu_application_open;
  application_class->shutdown = kefu_application_shutdown;
}

static void
kefu_application_init (KefuApplication *self)
{
  self->pending_dials = g_ptr_array_new_with_free_func (g_free);
  self->notified = g_hash_table_new_full (NULL, NULL, g_object_unref, NULL);
}

KefuApplication *
kefu_application_new (void)
{
  return g_object_new (KEFU_TYPE_APPLICATION,
                       "application-id", APPLICATION_ID,
                       "flags", G_APPLICATION_HANDLES_OPEN,
                       "resource-base-path", "/org/kefu/Kefu",
                       NULL);
}

KefuWindow *
kefu_application_get_window (KefuApplication *self)
{
  g_return_val_if_fail (KEFU_IS_APPLICATION (self), NULL);
  return self->window;
}

KefuPhone *
kefu_application_get_phone (KefuApplication *self)
{
  g_return_val_if_fail (KEFU_IS_APPLICATION (self), NULL);
  return self->phone;
}
