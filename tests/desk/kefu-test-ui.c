/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuTestUi"

#include "config.h"

#include "kefu-test-ui.h"

#include <adwaita.h>
#include <string.h>

static gboolean
on_tick (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

guint
kefu_test_tick_add (void)
{
  return g_timeout_add (50, on_tick, NULL);
}

static GLogWriterOutput
on_log (GLogLevelFlags   log_level,
        const GLogField *fields,
        gsize            n_fields,
        gpointer         user_data)
{
  for (gsize i = 0; i < n_fields; i++)
    if (g_str_equal (fields[i].key, "MESSAGE") && fields[i].length < 0
        && strstr (fields[i].value, "did not receive a focus-out event"))
      return G_LOG_WRITER_HANDLED;
  return g_log_writer_default (log_level, fields, n_fields, user_data);
}

void
kefu_test_allow_focus_warning (void)
{
  g_log_set_writer_func (on_log, NULL, NULL);
}

char *
kefu_test_app_prepare (const char *dir_template)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSettings) settings = g_settings_new ("org.kefu.Kefu");
  char *dir = g_dir_make_tmp (dir_template, &error);

  g_assert_no_error (error);
  g_setenv ("KEFU_STATE_DIR", dir, TRUE);
  /* no sound server in a test: the phone is told so, not left to find out */
  g_setenv ("KEFU_AUDIO", "null", TRUE);
  g_settings_set_string (settings, "sip-listen", "127.0.0.1:0");
  return dir;
}

GtkWidget *
kefu_test_find_widget (GtkWidget           *root,
                       KefuTestWidgetMatch  match,
                       gconstpointer        data)
{
  for (GtkWidget *child = gtk_widget_get_first_child (root); child;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found;

      if (match (child, data))
        return child;
      if ((found = kefu_test_find_widget (child, match, data)))
        return found;
    }
  return NULL;
}

static gboolean
is_password_entry (GtkWidget     *widget,
                   gconstpointer  data)
{
  return ADW_IS_PASSWORD_ENTRY_ROW (widget);
}

typedef struct {
  KefuApplication *app;
  KefuTestServer  *server;
  guint            timeout_s;
  void           (*signed_in) (gpointer data);
  gpointer         data;
} Run;

/* Inside g_application_run (the activate it made opened the window): the
 * agent signs in on the login page. */
static void
sign_in (Run *run)
{
  KefuWindow *window = kefu_application_get_window (run->app);
  KefuLoginPage *page;
  GtkWidget *password;

  g_assert_nonnull (window);
  KEFU_TEST_WAIT_UNTIL (run->timeout_s, gtk_widget_get_mapped (GTK_WIDGET (window)),
                        "the window to map");
  g_assert_cmpstr (kefu_window_get_page (window), ==, "login");
  page = kefu_window_get_login_page (window);
  kefu_login_page_prefill (page, run->server->url, "agent", NULL);
  password = kefu_test_find_widget (GTK_WIDGET (page), is_password_entry, NULL);
  g_assert_nonnull (password);
  gtk_editable_set_text (GTK_EDITABLE (password), KEFU_TEST_PASSWORD);
  kefu_login_page_sign_in (page);
  KEFU_TEST_WAIT_UNTIL (run->timeout_s, g_strcmp0 (kefu_window_get_page (window), "desk") == 0,
                        "the desk page");
}

static gboolean
on_running (gpointer data)
{
  Run *run = data;

  sign_in (run);
  run->signed_in (run->data);
  /* the menu's Quit: the session closes, the window goes, run returns */
  g_action_group_activate_action (G_ACTION_GROUP (run->app), "quit", NULL);
  return G_SOURCE_REMOVE;
}

void
kefu_test_app_run (KefuApplication  *app,
                   KefuTestServer   *server,
                   guint             timeout_s,
                   void            (*signed_in) (gpointer data),
                   gpointer          data)
{
  Run run = { app, server, timeout_s, signed_in, data };
  char *argv[] = { (char *) "kefu", NULL };

  g_idle_add (on_running, &run);
  g_assert_cmpint (g_application_run (G_APPLICATION (app), 1, argv), ==, 0);
}

void
kefu_test_app_release (KefuApplication *app,
                       guint            timeout_s)
{
  g_autoptr(GSettings) settings = g_settings_new ("org.kefu.Kefu");
  gpointer weak = app;

  g_assert_null (kefu_application_get_window (app));
  /* a sound-server check cancelled at quit lets go when its callback runs */
  g_object_add_weak_pointer (weak, &weak);
  g_object_unref (app);
  KEFU_TEST_WAIT_UNTIL (timeout_s, weak == NULL, "the application to be finalized");
  g_settings_reset (settings, "sip-listen");
}
