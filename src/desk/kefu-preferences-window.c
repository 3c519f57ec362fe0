/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuPreferencesWindow"

#include "config.h"

#include "kefu-preferences-window.h"

#include <glib/gi18n.h>
#include <libsecret/secret.h>

#include "kefu-audio-pulse.h"

#define PASSWORD_DELAY_MS 800

static const SecretSchema sip_password_schema = {
  "org.kefu.Kefu.SipPassword", SECRET_SCHEMA_NONE,
  {
    { "aor", SECRET_SCHEMA_ATTRIBUTE_STRING },
    { NULL, 0 },
  },
};

static const char * const dtmf_ids[] = { "auto", "rfc4733", "info", "inband" };
static const char * const language_ids[] = { "", "en", "zh_CN" };
static const char * const style_ids[] = { "system", "light", "dark" };

struct _KefuPreferencesWindow
{
  AdwPreferencesWindow parent_instance;

  /* template widgets */
  AdwEntryRow   *account_row;
  AdwEntryRow   *password_row;
  AdwEntryRow   *registrar_row;
  AdwEntryRow   *backup_row;
  AdwEntryRow   *listen_row;
  AdwComboRow   *dtmf_row;
  GtkStringList *dtmf_names;
  AdwPreferencesGroup *audio_group;
  AdwComboRow   *input_row;
  GtkStringList *input_names;
  AdwComboRow   *output_row;
  GtkStringList *output_names;
  AdwComboRow   *ringer_row;
  GtkStringList *ringer_names;
  AdwEntryRow   *server_row;
  AdwEntryRow   *country_row;
  AdwEntryRow   *recordings_row;
  GtkSpinButton *wrapup_spin;
  AdwComboRow   *language_row;
  GtkStringList *language_names;
  AdwComboRow   *style_row;
  GtkStringList *style_names;

  /* owned */
  GSettings    *settings;
  GCancellable *cancellable;
  GPtrArray    *sources;     /* struct kefu_audio_device, index + 1 in the input row */
  GPtrArray    *sinks;
  guint         password_source;
  gboolean      filling;
};

G_DEFINE_FINAL_TYPE (KefuPreferencesWindow, kefu_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

static guint
index_of (const char * const *ids,
          gsize               n,
          const char         *id)
{
  for (gsize i = 0; i < n; i++)
    if (g_strcmp0 (ids[i], id) == 0)
      return (guint) i;
  return 0;
}

/* --- SIP password --------------------------------------------------------------- */

static void
on_password_stored (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!secret_password_store_finish (result, &error))
    g_message ("SIP password not kept: %s", error->message);
}

static gboolean
on_password_timeout (gpointer data)
{
  KefuPreferencesWindow *self = data;
  g_autofree char *aor = g_settings_get_string (self->settings, "sip-account");
  const char *password = gtk_editable_get_text (GTK_EDITABLE (self->password_row));

  self->password_source = 0;
  if (aor[0] && password[0])
    secret_password_store (&sip_password_schema, SECRET_COLLECTION_DEFAULT,
                           _("Kefu SIP account password"), password, NULL,
                           on_password_stored, NULL, "aor", aor, NULL);
  return G_SOURCE_REMOVE;
}

static void
on_password_changed (GtkEditable           *editable,
                     KefuPreferencesWindow *self)
{
  if (self->filling)
    return;
  g_clear_handle_id (&self->password_source, g_source_remove);
  self->password_source = g_timeout_add (PASSWORD_DELAY_MS, on_password_timeout, self);
}

static void
on_password_looked_up (GObject      *source,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  GTask *task = user_data;
  GError *error = NULL;
  char *password = secret_password_lookup_finish (result, &error);

  if (error)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, password, g_free);
  g_object_unref (task);
}

void
kefu_preferences_window_lookup_sip_password_async (const char          *aor,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, kefu_preferences_window_lookup_sip_password_async);
  secret_password_lookup (&sip_password_schema, cancellable, on_password_looked_up, task,
                          "aor", aor, NULL);
}

char *
kefu_preferences_window_lookup_sip_password_finish (GAsyncResult  *result,
                                                    GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
on_own_password (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(KefuPreferencesWindow) self = user_data;
  g_autofree char *password = kefu_preferences_window_lookup_sip_password_finish (result, NULL);

  if (!password || !self->settings)
    return;
  self->filling = TRUE;
  gtk_editable_set_text (GTK_EDITABLE (self->password_row), password);
  self->filling = FALSE;
}

/* --- combo rows ----------------------------------------------------------------- */

static void
on_dtmf_selected (AdwComboRow           *row,
                  GParamSpec            *pspec,
                  KefuPreferencesWindow *self)
{
  guint i = adw_combo_row_get_selected (row);

  if (!self->filling && i < G_N_ELEMENTS (dtmf_ids))
    g_settings_set_string (self->settings, "dtmf-mode", dtmf_ids[i]);
}

static void
on_language_selected (AdwComboRow           *row,
                      GParamSpec            *pspec,
                      KefuPreferencesWindow *self)
{
  guint i = adw_combo_row_get_selected (row);

  if (!self->filling && i < G_N_ELEMENTS (language_ids))
    g_settings_set_string (self->settings, "language", language_ids[i]);
}

static void
on_style_selected (AdwComboRow           *row,
                   GParamSpec            *pspec,
                   KefuPreferencesWindow *self)
{
  guint i = adw_combo_row_get_selected (row);

  if (!self->filling && i < G_N_ELEMENTS (style_ids))
    g_settings_set_string (self->settings, "color-scheme", style_ids[i]);
}

static void
on_device_selected (AdwComboRow           *row,
                    GParamSpec            *pspec,
                    KefuPreferencesWindow *self)
{
  guint i = adw_combo_row_get_selected (row);
  GPtrArray *devices = row == self->input_row ? self->sources : self->sinks;
  const char *key = row == self->input_row ? "audio-input"
                    : row == self->output_row ? "audio-output" : "audio-ringer";
  const char *name = "";

  if (self->filling || !devices)
    return;
  /* row 0 is "system default" */
  if (i > 0 && i - 1 < devices->len)
    name = ((struct kefu_audio_device *) devices->pdata[i - 1])->name;
  g_settings_set_string (self->settings, key, name);
}

static void
fill_devices (KefuPreferencesWindow *self,
              AdwComboRow           *row,
              GtkStringList         *names,
              GPtrArray             *devices,
              const char            *key)
{
  g_autofree char *chosen = g_settings_get_string (self->settings, key);
  guint selected = 0;

  gtk_string_list_splice (names, 0, g_list_model_get_n_items (G_LIST_MODEL (names)), NULL);
  gtk_string_list_append (names, _("System default"));
  for (guint i = 0; devices && i < devices->len; i++)
    {
      struct kefu_audio_device *device = devices->pdata[i];

      gtk_string_list_append (names, device->description ? device->description : device->name);
      if (g_strcmp0 (device->name, chosen) == 0)
        selected = i + 1;
    }
  adw_combo_row_set_selected (row, selected);
}

static void
on_devices_listed (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(KefuPreferencesWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  GPtrArray *sources = NULL;
  GPtrArray *sinks = NULL;

  if (!kefu_audio_pulse_list_devices_finish (result, &sources, &sinks, &error))
    {
      g_autofree char *description = NULL;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      description = g_strdup_printf (_("The sound server cannot be reached (%s); calls use the system default devices."),
                                     error->message);
      adw_preferences_group_set_description (self->audio_group, description);
      return;
    }
  g_clear_pointer (&self->sources, g_ptr_array_unref);
  g_clear_pointer (&self->sinks, g_ptr_array_unref);
  self->sources = sources;
  self->sinks = sinks;
  self->filling = TRUE;
  fill_devices (self, self->input_row, self->input_names, sources, "audio-input");
  fill_devices (self, self->output_row, self->output_names, sinks, "audio-output");
  fill_devices (self, self->ringer_row, self->ringer_names, sinks, "audio-ringer");
  self->filling = FALSE;
}

/* --- GObject ---------------------------------------------------------------------- */

static void
kefu_preferences_window_dispose (GObject *object)
{
  KefuPreferencesWindow *self = KEFU_PREFERENCES_WINDOW (object);

  if (self->password_source)
    {
      g_clear_handle_id (&self->password_source, g_source_remove);
      on_password_timeout (self);
    }
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->sources, g_ptr_array_unref);
  g_clear_pointer (&self->sinks, g_ptr_array_unref);
  gtk_widget_dispose_template (GTK_WIDGET (self), KEFU_TYPE_PREFERENCES_WINDOW);
  G_OBJECT_CLASS (kefu_preferences_window_parent_class)->dispose (object);
}

static void
kefu_preferences_window_class_init (KefuPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kefu_preferences_window_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/kefu/Kefu/ui/kefu-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, KefuPreferencesWindow, account_row);
  gtk_widget_class_bind_template_child (widget_class, KefuPreferencesWindow, password_row);
  gtk_widget_class_bind_template_child (widget_class, KefuPreferencesWindow, registrar_row);
  gtk_widget_class_bind_template_child (widget_class, KefuPreferencesWindow, backup_row);
  gtk_widget_class_bind_template_child (widget_class, KefuPreferencesWindow, listen_row);
  gtk_widget_class_bind_template_child (widget_class, KefuPreferencesWindow, dtmf_row);
  gtk_widget_class_bind_template_child (widget_class, KefuPreferencesWindow, dtmf_names);
  gtk_widget_class_bind_template_child (widget_class, KefuPreferencesWindow, audio_group);
  gtk_widget_class_bind_template_child (widget_class, KefuPreferencesWindow, input_row);
  gtk_widget_class_bind_template_child (widget_class, KefuPreferencesWindow, input_names);
  gtk_widget_class_bind_template_child (widget_class, KefuPreferencesWindow, output_row);
  gtk_widget_class_bind_template_child (widget_class, KefuPreferencesWindow, output_names);
  gtk_widget_class_bind_template_child (widget_class, KefuPreferencesWindow, ringer_row);
  gtk_widget_class_bind_template_child (widget_class, KefuPreferencesWindow, ringer_names);
  gtk_widget_class_bind_template_child (widget_class, KefuPreferencesWindow, server_row);
  gtk_widget_class_bind_template_child (widget_class, KefuPreferencesWindow, country_row);
  gtk_widget_class_bind_template_child (widget_class, KefuPreferencesWindow, recordings_row);
  gtk_widget_class_bind_template_child (widget_class, KefuPreferencesWindow, wrapup_spin);
  gtk_widget_class_bind_template_child (widget_class, KefuPreferencesWindow, language_row);
  gtk_widget_class_bind_template_child (widget_class, KefuPreferencesWindow, language_names);
  gtk_widget_class_bind_template_child (widget_class, KefuPreferencesWindow, style_row);
  gtk_widget_class_bind_template_child (widget_class, KefuPreferencesWindow, style_names);
  gtk_widget_class_bind_template_callback (widget_class, on_password_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_dtmf_selected);
  gtk_widget_class_bind_template_callback (widget_class, on_device_selected);
  gtk_widget_class_bind_template_callback (widget_class, on_language_selected);
  gtk_widget_class_bind_template_callback (widget_class, on_style_selected);
}

static void
kefu_preferences_window_init (KefuPreferencesWindow *self)
{
  g_autofree char *dtmf = NULL;
  g_autofree char *language = NULL;
  g_autofree char *style = NULL;
  g_autofree char *aor = NULL;
  const char *dtmf_labels[] = {
    _("Automatic (RTP events when offered, else tones)"), _("RTP events (RFC 4733)"),
    _("SIP INFO"), _("In-band tones"),
  };

  gtk_widget_init_template (GTK_WIDGET (self));
  self->settings = g_settings_new ("org.kefu.Kefu");
  self->cancellable = g_cancellable_new ();
  self->filling = TRUE;

  for (gsize i = 0; i < G_N_ELEMENTS (dtmf_labels); i++)
    gtk_string_list_append (self->dtmf_names, dtmf_labels[i]);
  gtk_string_list_append (self->language_names, _("System language"));
  gtk_string_list_append (self->language_names, "English");
  gtk_string_list_append (self->language_names, "中文（简体）");
  gtk_string_list_append (self->style_names, _("Follow the system"));
  gtk_string_list_append (self->style_names, _("Light"));
  gtk_string_list_append (self->style_names, _("Dark"));

  g_settings_bind (self->settings, "sip-account", self->account_row, "text", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "sip-registrar", self->registrar_row, "text", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "sip-backup-registrar", self->backup_row, "text",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "sip-listen", self->listen_row, "text", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "server-url", self->server_row, "text", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "default-country", self->country_row, "text",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "recordings-folder", self->recordings_row, "text",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "wrapup-seconds",
                   gtk_spin_button_get_adjustment (self->wrapup_spin), "value",
                   G_SETTINGS_BIND_DEFAULT);

  dtmf = g_settings_get_string (self->settings, "dtmf-mode");
  adw_combo_row_set_selected (self->dtmf_row, index_of (dtmf_ids, G_N_ELEMENTS (dtmf_ids), dtmf));
  language = g_settings_get_string (self->settings, "language");
  adw_combo_row_set_selected (self->language_row,
                              index_of (language_ids, G_N_ELEMENTS (language_ids), language));
  style = g_settings_get_string (self->settings, "color-scheme");
  adw_combo_row_set_selected (self->style_row, index_of (style_ids, G_N_ELEMENTS (style_ids), style));
  fill_devices (self, self->input_row, self->input_names, NULL, "audio-input");
  fill_devices (self, self->output_row, self->output_names, NULL, "audio-output");
  fill_devices (self, self->ringer_row, self->ringer_names, NULL, "audio-ringer");
  self->filling = FALSE;

  kefu_audio_pulse_list_devices_async (self->cancellable, on_devices_listed, g_object_ref (self));
  aor = g_settings_get_string (self->settings, "sip-account");
  if (aor[0])
    kefu_preferences_window_lookup_sip_password_async (aor, self->cancellable, on_own_password,
                                                       g_object_ref (self));
}

GtkWindow *
kefu_preferences_window_new (GtkWindow *parent)
{
  return g_object_new (KEFU_TYPE_PREFERENCES_WINDOW, "transient-for", parent, "modal", TRUE, NULL);
}
