/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuLoginPage"

#include "config.h"

#include "kefu-login-page.h"

#include <glib/gi18n.h>
#include <adwaita.h>
#include <string.h>

enum {
  SIGNAL_SIGNED_IN,
  SIGNAL_WORK_OFFLINE,
  N_SIGNALS,
};

static guint signals[N_SIGNALS];

struct _KefuLoginPage
{
  GtkWidget parent_instance;

  /* template widgets */
  AdwEntryRow *server_row;
  AdwEntryRow *username_row;
  AdwEntryRow *password_row;
  GtkLabel    *error_label;
  GtkSpinner  *spinner;
  GtkWidget   *offline_button;

  /* owned */
  KefuLogin    *login;
  GCancellable *cancellable;
};

G_DEFINE_FINAL_TYPE (KefuLoginPage, kefu_login_page, GTK_TYPE_WIDGET)

static void
show_error (KefuLoginPage *self,
            const char    *message)
{
  gtk_label_set_label (self->error_label, message ? message : "");
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), message != NULL);
}

static void
update_actions (KefuLoginPage *self)
{
  const char *server = gtk_editable_get_text (GTK_EDITABLE (self->server_row));
  const char *user = gtk_editable_get_text (GTK_EDITABLE (self->username_row));
  const char *password = gtk_editable_get_text (GTK_EDITABLE (self->password_row));
  gboolean busy = self->cancellable != NULL;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "login.sign-in",
                                 !busy && self->login && server[0] && user[0] && password[0]);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "login.work-offline",
                                 !busy && self->login && kefu_login_get_has_session (self->login));
  gtk_widget_set_visible (self->offline_button,
                          self->login && kefu_login_get_has_session (self->login));
}

static void
on_signed_in (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(KefuLoginPage) self = user_data;
  g_autoptr(GError) error = NULL;
  gboolean ok = kefu_login_sign_in_finish (KEFU_LOGIN (source), result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  g_clear_object (&self->cancellable);
  gtk_spinner_stop (self->spinner);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), FALSE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->server_row), TRUE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->username_row), TRUE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->password_row), TRUE);
  update_actions (self);
  if (!ok)
    {
      show_error (self, error->message);
      gtk_widget_grab_focus (GTK_WIDGET (self->password_row));
      return;
    }
  gtk_editable_set_text (GTK_EDITABLE (self->password_row), "");
  show_error (self, NULL);
  g_signal_emit (self, signals[SIGNAL_SIGNED_IN], 0);
}

void
kefu_login_page_sign_in (KefuLoginPage *self)
{
  g_autofree char *server = NULL;

  g_return_if_fail (KEFU_IS_LOGIN_PAGE (self));
  if (!self->login || self->cancellable)
    return;

  server = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->server_row))));
  /* people type the host the way they see it on the whiteboard */
  if (!strstr (server, "://"))
    {
      char *with_scheme = g_strconcat ("http://", server, NULL);

      g_free (server);
      server = with_scheme;
    }
  show_error (self, NULL);
  self->cancellable = g_cancellable_new ();
  gtk_spinner_start (self->spinner);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), TRUE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->server_row), FALSE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->username_row), FALSE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->password_row), FALSE);
  update_actions (self);
  kefu_login_sign_in_async (self->login, server,
                            gtk_editable_get_text (GTK_EDITABLE (self->username_row)),
                            gtk_editable_get_text (GTK_EDITABLE (self->password_row)),
                            self->cancellable, on_signed_in, g_object_ref (self));
}

static void
on_sign_in_activated (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  kefu_login_page_sign_in (KEFU_LOGIN_PAGE (widget));
}

static void
on_work_offline_activated (GtkWidget  *widget,
                           const char *action_name,
                           GVariant   *parameter)
{
  g_signal_emit (widget, signals[SIGNAL_WORK_OFFLINE], 0);
}

static void
on_entry_activated (AdwEntryRow   *row,
                    KefuLoginPage *self)
{
  /* Enter moves on to the next empty field, then signs in */
  if (!gtk_editable_get_text (GTK_EDITABLE (self->username_row))[0])
    gtk_widget_grab_focus (GTK_WIDGET (self->username_row));
  else if (!gtk_editable_get_text (GTK_EDITABLE (self->password_row))[0])
    gtk_widget_grab_focus (GTK_WIDGET (self->password_row));
  else
    gtk_widget_activate_action (GTK_WIDGET (self), "login.sign-in", NULL);
}

static void
on_entry_changed (GtkEditable   *editable,
                  KefuLoginPage *self)
{
  update_actions (self);
}

static void
kefu_login_page_dispose (GObject *object)
{
  KefuLoginPage *self = KEFU_LOGIN_PAGE (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->login);
  gtk_widget_dispose_template (GTK_WIDGET (self), KEFU_TYPE_LOGIN_PAGE);
  /* unbound template children are not unparented by dispose_template */
  for (GtkWidget *child; (child = gtk_widget_get_first_child (GTK_WIDGET (self)));)
    gtk_widget_unparent (child);
  G_OBJECT_CLASS (kefu_login_page_parent_class)->dispose (object);
}

static void
kefu_login_page_class_init (KefuLoginPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kefu_login_page_dispose;

  signals[SIGNAL_SIGNED_IN] =
    g_signal_new ("signed-in", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_WORK_OFFLINE] =
    g_signal_new ("work-offline", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/kefu/Kefu/ui/kefu-login-page.ui");
  gtk_widget_class_bind_template_child (widget_class, KefuLoginPage, server_row);
  gtk_widget_class_bind_template_child (widget_class, KefuLoginPage, username_row);
  gtk_widget_class_bind_template_child (widget_class, KefuLoginPage, password_row);
  gtk_widget_class_bind_template_child (widget_class, KefuLoginPage, error_label);
  gtk_widget_class_bind_template_child (widget_class, KefuLoginPage, spinner);
  gtk_widget_class_bind_template_child (widget_class, KefuLoginPage, offline_button);
  gtk_widget_class_bind_template_callback (widget_class, on_entry_activated);
  gtk_widget_class_bind_template_callback (widget_class, on_entry_changed);
  gtk_widget_class_install_action (widget_class, "login.sign-in", NULL, on_sign_in_activated);
  gtk_widget_class_install_action (widget_class, "login.work-offline", NULL,
                                   on_work_offline_activated);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
kefu_login_page_init (KefuLoginPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  update_actions (self);
}

GtkWidget *
kefu_login_page_new (void)
{
  return g_object_new (KEFU_TYPE_LOGIN_PAGE, NULL);
}

void
kefu_login_page_set_login (KefuLoginPage *self,
                           KefuLogin     *login)
{
  g_return_if_fail (KEFU_IS_LOGIN_PAGE (self));
  g_set_object (&self->login, login);
  if (login && kefu_login_get_server_url (login))
    kefu_login_page_prefill (self, kefu_login_get_server_url (login),
                             kefu_login_get_username (login), NULL);
  update_actions (self);
}

void
kefu_login_page_prefill (KefuLoginPage *self,
                         const char    *server_url,
                         const char    *username,
                         const char    *message)
{
  g_return_if_fail (KEFU_IS_LOGIN_PAGE (self));
  if (server_url)
    gtk_editable_set_text (GTK_EDITABLE (self->server_row), server_url);
  if (username)
    gtk_editable_set_text (GTK_EDITABLE (self->username_row), username);
  show_error (self, message);
  update_actions (self);
  gtk_widget_grab_focus (GTK_WIDGET (username && username[0] ? self->password_row
                                                             : self->username_row));
}

void
kefu_login_page_set_password (KefuLoginPage *self,
                              const char    *password)
{
  g_return_if_fail (KEFU_IS_LOGIN_PAGE (self));
  gtk_editable_set_text (GTK_EDITABLE (self->password_row), password ? password : "");
}
