/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * What the desktop's UI tests under Xvfb share (test-desk-window,
 * test-desk-app, test-desk-agent-state): waiting on the main loop for what
 * the agent would see, finding it among the widgets, and KefuApplication
 * run as `kefu` runs it, signed in through its login page to a real
 * kefu-server.
 */
#pragma once

#include "kefu-application.h"
#include "kefu-test-server.h"

G_BEGIN_DECLS

/* Iterates the default main context until cond holds; after timeout_s
 * seconds the test fails, naming what it waited for. */
#define KEFU_TEST_WAIT_UNTIL(timeout_s, cond, what)                                  \
  G_STMT_START {                                                                     \
    gint64 deadline_ = g_get_monotonic_time () + (timeout_s) * G_USEC_PER_SEC;       \
    while (!(cond))                                                                  \
      {                                                                              \
        if (g_get_monotonic_time () > deadline_)                                     \
          g_error ("timed out after %d s waiting for: %s", (int) (timeout_s), what); \
        g_main_context_iteration (NULL, TRUE);                                       \
      }                                                                              \
  } G_STMT_END

/* The same within WAIT_TIMEOUT_S, which the test file defines. */
#define WAIT_UNTIL(cond) KEFU_TEST_WAIT_UNTIL (WAIT_TIMEOUT_S, cond, #cond)

/* The first widget below root, depth first, for which match (widget,
 * data) holds; NULL when none does. */
typedef gboolean (*KefuTestWidgetMatch) (GtkWidget *widget, gconstpointer data);
GtkWidget *kefu_test_find_widget         (GtkWidget *root, KefuTestWidgetMatch match,
                                          gconstpointer data);

/* A 50 ms timeout that does nothing, so that WAIT_UNTIL's blocking
 * iterations wake up to look at the clock; its id, for g_source_remove. */
guint      kefu_test_tick_add            (void);

/* Xvfb has no window manager: the login page's focused entry gets the X
 * server's focus-in twice when the window maps, and GTK 4.8 warns about
 * the focus-out it never saw.  Makes only that warning not fatal. */
void       kefu_test_allow_focus_warning (void);

/* Sets up the desktop's surroundings for a KefuApplication: a state folder
 * of its own (KEFU_STATE_DIR; made from dir_template and returned), no
 * sound server, its phone on any port of 127.0.0.1. */
char      *kefu_test_app_prepare         (const char *dir_template) G_GNUC_WARN_UNUSED_RESULT;

/* Runs app as `kefu` does, from g_application_run to its shutdown: once it
 * runs, the agent signs in on the login page to server, and when the desk
 * page shows, signed_in (data) runs; then the menu's Quit.  timeout_s:
 * how long each step of signing in may take. */
void       kefu_test_app_run             (KefuApplication *app, KefuTestServer *server,
                                          guint timeout_s, void (*signed_in) (gpointer data),
                                          gpointer data);

/* Once app has quit: drops the last reference to it and waits, at most
 * timeout_s, until it is finalized; then resets what
 * kefu_test_app_prepare chose for its phone. */
void       kefu_test_app_release         (KefuApplication *app, guint timeout_s);

G_END_DECLS
