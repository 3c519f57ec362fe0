/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The agent state button shows the state kefu-server has, not only the one
 * chosen in this session: KefuApplication as the desktop runs it, under
 * Xvfb, signed in through the login page to a real kefu-server.  The
 * server's state shows at sign-in; a supervisor's change through the REST
 * API and the switch's agent.state events (published as kefu-switch does,
 * by the service user) show within seconds over the event stream, and
 * again after the server was stopped and started; the desktop's own
 * wrap-up countdown is not cut short by echoes or by the switch.
 */
#define G_LOG_DOMAIN "KefuTestDeskAgentState"

#include "config.h"

#include <adwaita.h>
#include <string.h>

#include "kefu-application.h"
#include "kefu-event-stream.h"
#include "kefu-test-server.h"
#include "kefu-test-ui.h"

#define WAIT_TIMEOUT_S 30

typedef struct _Fixture Fixture;

struct _Fixture {
  KefuTestServer  *server;
  char            *dir;
  char            *admin;       /* a supervisor's changes come through the REST API */
  char            *service;     /* the switch's login: it publishes agent.state events */
  KefuApplication *app;
  KefuApiClient   *watch_client;
  KefuEventStream *watch;       /* the test's own subscription, a supervisor's */
  GPtrArray       *broadcast;   /* "by:state" of the agent.state events it received */
  guint            tick;
  GPtrArray       *labels;      /* what the state button showed, in order */
  GArray          *remaining;   /* wrap-up seconds left, as notified */
  void           (*body) (Fixture *fixture);   /* what the test does, signed in */
};

static gboolean
is_shown_label (GtkWidget     *widget,
                gconstpointer  text)
{
  return GTK_IS_LABEL (widget) && gtk_widget_get_mapped (widget) &&
         strstr (gtk_label_get_label (GTK_LABEL (widget)), text);
}

/* A label on screen whose text contains @text. */
static GtkLabel *
find_shown_label (GtkWidget  *root,
                  const char *text)
{
  return GTK_LABEL (kefu_test_find_widget (root, is_shown_label, text));
}

static KefuWindow *
window_of (Fixture *fixture)
{
  return kefu_application_get_window (fixture->app);
}

static KefuAgentStateButton *
button_of (Fixture *fixture)
{
  return kefu_window_get_agent_state_button (window_of (fixture));
}

static GtkLabel *
find_state_label (GtkWidget *root)
{
  for (GtkWidget *child = gtk_widget_get_first_child (root); child;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkLabel *found;

      /* the menu's entries, not the button's face */
      if (GTK_IS_POPOVER (child))
        continue;
      if (GTK_IS_LABEL (child) && !g_str_equal (gtk_label_get_label (GTK_LABEL (child)), "●"))
        return GTK_LABEL (child);
      if ((found = find_state_label (child)))
        return found;
    }
  return NULL;
}

/* The state as the agent reads it on the button, beside its coloured dot. */
static GtkLabel *
state_label_of (Fixture *fixture)
{
  GtkLabel *label = find_state_label (GTK_WIDGET (button_of (fixture)));

  g_assert_nonnull (label);
  return label;
}

static const char *
shown_state (Fixture *fixture)
{
  GtkLabel *label = state_label_of (fixture);

  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (label)));
  return gtk_label_get_label (label);
}

static void
on_label_changed (GtkLabel   *label,
                  GParamSpec *pspec,
                  Fixture    *fixture)
{
  g_ptr_array_add (fixture->labels, g_strdup (gtk_label_get_label (label)));
}

static void
on_wrapup_remaining (KefuAgentStateButton *button,
                     GParamSpec           *pspec,
                     Fixture              *fixture)
{
  guint left = kefu_agent_state_button_get_wrapup_remaining (button);

  g_array_append_val (fixture->remaining, left);
}

static void
record_labels (Fixture *fixture)
{
  g_ptr_array_set_size (fixture->labels, 0);
  g_signal_connect (state_label_of (fixture), "notify::label", G_CALLBACK (on_label_changed),
                    fixture);
}

static void
assert_labels (Fixture           *fixture,
               const char * const expected[])
{
  guint n = g_strv_length ((char **) expected);

  for (guint i = 0; i < MAX (n, fixture->labels->len); i++)
    if (i >= n || i >= fixture->labels->len ||
        g_strcmp0 (expected[i], g_ptr_array_index (fixture->labels, i)) != 0)
      {
        g_autoptr(GString) shown = g_string_new (NULL);

        for (guint j = 0; j < fixture->labels->len; j++)
          g_string_append_printf (shown, "“%s” ",
                                  (char *) g_ptr_array_index (fixture->labels, j));
        g_error ("the button showed %s; expected “%s” at step %u", shown->str,
                 i < n ? expected[i] : "(nothing more)", i);
      }
}

static guint
websocket_clients (Fixture *fixture)
{
  g_autoptr(KefuTestResponse) response = kefu_test_request (fixture->server, "GET", "/metrics",
                                                            NULL, NULL);
  const char *line;

  g_assert_cmpuint (response->status, ==, 200);
  line = strstr (response->body, "\nkefu_websocket_clients ");
  g_assert_nonnull (line);
  return (guint) g_ascii_strtoull (line + strlen ("\nkefu_websocket_clients "), NULL, 10);
}

static void
on_watched_event (KefuEventStream *events,
                  const char      *type,
                  JsonObject      *event,
                  Fixture         *fixture)
{
  JsonObject *data = json_object_get_object_member (event, "data");

  const char *by = json_object_get_string_member_with_default (data, "by", "");
  const char *state = json_object_get_string_member_with_default (data, "state", "");

  g_ptr_array_add (fixture->broadcast, g_strdup_printf ("%s:%s", by, state));
}

/* The server answers a request before it broadcasts its events: once
 * the broadcast of the desktop's change is in, the desktop has its answer
 * or soon will, and quitting drops nothing the server is still working
 * on. */
static void
wait_broadcast (Fixture    *fixture,
                const char *by_state)
{
  WAIT_UNTIL (g_ptr_array_find_with_equal_func (fixture->broadcast, by_state, g_str_equal, NULL));
}

/* The desktop's event stream is connected once the server counts it
 * beside the test's own. */
static void
wait_stream_connected (Fixture *fixture)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_TIMEOUT_S * G_USEC_PER_SEC;
  gint64 next = 0;

  for (;;)
    {
      if (g_get_monotonic_time () >= next)
        {
          if (kefu_event_stream_get_connected (fixture->watch) && websocket_clients (fixture) == 2)
            return;
          next = g_get_monotonic_time () + G_USEC_PER_SEC / 5;
        }
      if (g_get_monotonic_time () > deadline)
        g_error ("the desktop's event stream did not connect within %d s", WAIT_TIMEOUT_S);
      g_main_context_iteration (NULL, TRUE);
    }
}

/* A supervisor's change, through the REST API. */
static void
set_state_as_admin (Fixture    *fixture,
                    const char *json)
{
  g_autoptr(KefuTestResponse) response =
    kefu_test_request (fixture->server, "PUT", "/v1/agents/agent/state", fixture->admin, json);

  g_assert_cmpuint (response->status, ==, 200);
}

/* What kefu-switch publishes as calls come and go. */
static void
publish_as_switch (Fixture    *fixture,
                   const char *state,
                   const char *reason)
{
  g_autofree char *body =
    reason ? g_strdup_printf ("{\"type\": \"agent.state\", \"agent\": \"agent\", \"data\": "
                              "{\"state\": \"%s\", \"reason\": \"%s\", \"by\": \"service\"}}",
                              state, reason)
           : g_strdup_printf ("{\"type\": \"agent.state\", \"agent\": \"agent\", \"data\": "
                              "{\"state\": \"%s\", \"by\": \"service\"}}", state);
  g_autoptr(KefuTestResponse) response =
    kefu_test_request (fixture->server, "POST", "/v1/events", fixture->service, body);

  g_assert_cmpuint (response->status, ==, 201);
}

static char *
server_state (Fixture *fixture)
{
  g_autoptr(KefuTestResponse) response =
    kefu_test_request (fixture->server, "GET", "/v1/agents/agent", fixture->admin, NULL);
  JsonObject *agent;

  g_assert_cmpuint (response->status, ==, 200);
  agent = kefu_test_response_object (response);
  return g_strdup (json_object_get_string_member (agent, "state"));
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  fixture->tick = kefu_test_tick_add ();
  fixture->server = kefu_test_server_start (NULL);
  fixture->admin = kefu_test_login (fixture->server, "admin");
  fixture->service = kefu_test_login (fixture->server, "service");
  fixture->dir = kefu_test_app_prepare ("kefu-desk-state-XXXXXX");
  fixture->labels = g_ptr_array_new_with_free_func (g_free);
  fixture->remaining = g_array_new (FALSE, FALSE, sizeof (guint));
  fixture->broadcast = g_ptr_array_new_with_free_func (g_free);
  fixture->watch_client = kefu_api_client_new (fixture->server->url);
  kefu_api_client_set_token (fixture->watch_client, fixture->admin);
  fixture->watch = kefu_event_stream_new (fixture->watch_client);
  g_signal_connect (fixture->watch, "event::agent.state", G_CALLBACK (on_watched_event), fixture);
  kefu_event_stream_start (fixture->watch);
  fixture->app = kefu_application_new ();
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  kefu_test_app_release (fixture->app, WAIT_TIMEOUT_S);
  kefu_event_stream_stop (fixture->watch);
  g_assert_finalize_object (fixture->watch);
  g_assert_finalize_object (fixture->watch_client);
  kefu_test_server_free (fixture->server);
  kefu_test_remove_tree (fixture->dir);
  g_free (fixture->dir);
  g_free (fixture->admin);
  g_free (fixture->service);
  g_ptr_array_unref (fixture->labels);
  g_ptr_array_unref (fixture->broadcast);
  g_array_unref (fixture->remaining);
  g_clear_handle_id (&fixture->tick, g_source_remove);
}

/* Signed in: the state button shows. */
static void
on_signed_in (gpointer data)
{
  Fixture *fixture = data;

  WAIT_UNTIL (gtk_widget_get_mapped (GTK_WIDGET (state_label_of (fixture))));
  fixture->body (fixture);
  g_signal_handlers_disconnect_by_data (state_label_of (fixture), fixture);
  g_signal_handlers_disconnect_by_data (button_of (fixture), fixture);
}

static void
run_app (Fixture  *fixture,
         void    (*body) (Fixture *fixture))
{
  fixture->body = body;
  kefu_test_app_run (fixture->app, fixture->server, WAIT_TIMEOUT_S, on_signed_in, fixture);
}

/* --- (a) sign-in ------------------------------------------------------------------- */

static void
test_sign_in_body (Fixture *fixture)
{
  /* what the server has, not "Set State" */
  WAIT_UNTIL (g_str_equal (shown_state (fixture), "Available"));
  g_assert_cmpstr (kefu_agent_state_button_get_state (button_of (fixture)), ==, "available");
}

static void
test_sign_in (Fixture       *fixture,
              gconstpointer  data)
{
  g_autofree char *token = kefu_test_login (fixture->server, "agent");
  g_autoptr(KefuTestResponse) response =
    kefu_test_request (fixture->server, "PUT", "/v1/agents/me/state", token,
                       "{\"state\": \"available\"}");

  /* Available since a session before this one */
  g_assert_cmpuint (response->status, ==, 200);
  run_app (fixture, test_sign_in_body);
}

/* --- (b) changes made elsewhere ------------------------------------------------------ */

static void
test_follows_server_body (Fixture *fixture)
{
  KefuWindow *window = window_of (fixture);
  g_autofree char *state = NULL;

  wait_stream_connected (fixture);

  /* a supervisor takes the agent out of the queues */
  set_state_as_admin (fixture, "{\"state\": \"not_ready\", \"reason\": \"Meeting\"}");
  WAIT_UNTIL (g_str_equal (shown_state (fixture), "Not Ready: Meeting"));

  /* the switch: back in, a call rings and is talked, its wrap-up ends */
  publish_as_switch (fixture, "available", NULL);
  WAIT_UNTIL (g_str_equal (shown_state (fixture), "Available"));
  record_labels (fixture);
  publish_as_switch (fixture, "ringing", NULL);
  publish_as_switch (fixture, "talking", NULL);
  publish_as_switch (fixture, "on_hold", NULL);
  publish_as_switch (fixture, "talking", NULL);
  publish_as_switch (fixture, "wrapup", NULL);
  WAIT_UNTIL (g_str_equal (shown_state (fixture), "Wrap-up"));
  /* the switch's wrap-up: no countdown of the desktop's */
  g_assert_cmpuint (kefu_agent_state_button_get_wrapup_remaining (button_of (fixture)), ==, 0);
  publish_as_switch (fixture, "available", NULL);
  WAIT_UNTIL (g_str_equal (shown_state (fixture), "Available"));

  /* calls ring out unanswered: the switch stops offering them */
  publish_as_switch (fixture, "ringing", NULL);
  publish_as_switch (fixture, "available", NULL);
  publish_as_switch (fixture, "ringing", NULL);
  publish_as_switch (fixture, "not_ready", "no answer");
  WAIT_UNTIL (g_str_equal (shown_state (fixture), "Not Ready: no answer"));
  /* calls left the button as it was */
  assert_labels (fixture, (const char * const[]) { "Wrap-up", "Available", "Not Ready: no answer",
                                                   NULL });
  /* and the agent is told why calls stopped coming */
  WAIT_UNTIL (find_shown_label (GTK_WIDGET (window), "calls rang and were not answered"));

  /* the agent takes calls again */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (button_of (fixture)), "agent.available",
                                             NULL));
  g_assert_cmpstr (shown_state (fixture), ==, "Available");
  wait_broadcast (fixture, "agent:available");
  state = server_state (fixture);
  g_assert_cmpstr (state, ==, "available");
}

static void
test_follows_server (Fixture       *fixture,
                     gconstpointer  data)
{
  run_app (fixture, test_follows_server_body);
}

/* --- (c) the server goes away and comes back ------------------------------------------ */

static void
test_server_restart_body (Fixture *fixture)
{
  KefuWindow *window = window_of (fixture);
  g_autofree char *notice = NULL;

  wait_stream_connected (fixture);
  set_state_as_admin (fixture, "{\"state\": \"available\"}");
  WAIT_UNTIL (g_str_equal (shown_state (fixture), "Available"));
  notice = g_strdup (kefu_window_get_notice (window));

  kefu_test_server_stop (fixture->server);
  kefu_test_server_start_again (fixture->server);
  g_free (fixture->admin);
  fixture->admin = kefu_test_login (fixture->server, "admin");
  kefu_api_client_set_token (fixture->watch_client, fixture->admin);

  /* changed while the desktop had no stream, or just after it came back:
   * either way it shows */
  set_state_as_admin (fixture, "{\"state\": \"not_ready\", \"reason\": \"Lunch\"}");
  WAIT_UNTIL (g_str_equal (shown_state (fixture), "Not Ready: Lunch"));

  /* the stream is back: a later change comes over it */
  wait_stream_connected (fixture);
  set_state_as_admin (fixture, "{\"state\": \"not_ready\", \"reason\": \"Training\"}");
  WAIT_UNTIL (g_str_equal (shown_state (fixture), "Not Ready: Training"));

  /* the outage said nothing of its own: the offline banner is for that */
  g_assert_cmpstr (kefu_window_get_notice (window), ==, notice);
}

static void
test_server_restart (Fixture       *fixture,
                     gconstpointer  data)
{
  run_app (fixture, test_server_restart_body);
}

/* --- the desktop's wrap-up -------------------------------------------------------------- */

static void
test_wrapup_countdown_body (Fixture *fixture)
{
  KefuAgentStateButton *button = button_of (fixture);
  g_autofree char *state = NULL;
  gint64 started;

  wait_stream_connected (fixture);
  set_state_as_admin (fixture, "{\"state\": \"available\"}");
  WAIT_UNTIL (g_str_equal (shown_state (fixture), "Available"));

  /* "Wrap-up, then Available": the server's broadcast of it comes back */
  kefu_agent_state_button_set_wrapup_seconds (button, 10);
  g_signal_connect (button, "notify::wrapup-remaining", G_CALLBACK (on_wrapup_remaining), fixture);
  record_labels (fixture);
  started = g_get_monotonic_time ();
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (button), "agent.wrap-up", "s",
                                             "available"));
  g_assert_cmpstr (kefu_agent_state_button_get_state (button), ==, "wrapup");
  wait_broadcast (fixture, "agent:wrapup");
  /* the switch restates the wrap-up its way, and its own shorter wrap-up
   * runs out */
  publish_as_switch (fixture, "wrapup", NULL);
  publish_as_switch (fixture, "not_ready", "wrapup");
  publish_as_switch (fixture, "available", NULL);

  /* the countdown runs to its end, once, then Available */
  WAIT_UNTIL (g_strcmp0 (kefu_agent_state_button_get_state (button), "available") == 0);
  g_assert_cmpint (g_get_monotonic_time () - started, >=, 10 * G_USEC_PER_SEC);
  g_assert_cmpuint (fixture->remaining->len, >=, 2);
  g_assert_cmpuint (g_array_index (fixture->remaining, guint, 0), ==, 10);
  for (guint i = 1; i < fixture->remaining->len; i++)
    g_assert_cmpuint (g_array_index (fixture->remaining, guint, i), <=,
                      g_array_index (fixture->remaining, guint, i - 1));
  g_assert_cmpuint (g_array_index (fixture->remaining, guint, fixture->remaining->len - 1), ==, 0);
  for (guint i = 0; i + 1 < fixture->labels->len; i++)
    g_assert_true (g_str_has_prefix (g_ptr_array_index (fixture->labels, i), "Wrap-up "));
  g_assert_cmpstr (shown_state (fixture), ==, "Available");
  /* and the server heard the end of it */
  wait_broadcast (fixture, "agent:available");
  state = server_state (fixture);
  g_assert_cmpstr (state, ==, "available");
}

static void
test_wrapup_countdown (Fixture       *fixture,
                       gconstpointer  data)
{
  run_app (fixture, test_wrapup_countdown_body);
}

int
main (int   argc,
      char *argv[])
{
  kefu_test_allow_focus_warning ();
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  g_test_add ("/desk/agent-state/sign-in", Fixture, NULL, fixture_set_up, test_sign_in,
              fixture_tear_down);
  g_test_add ("/desk/agent-state/follows-server", Fixture, NULL, fixture_set_up,
              test_follows_server, fixture_tear_down);
  g_test_add ("/desk/agent-state/server-restart", Fixture, NULL, fixture_set_up,
              test_server_restart, fixture_tear_down);
  g_test_add ("/desk/agent-state/wrap-up-countdown", Fixture, NULL, fixture_set_up,
              test_wrapup_countdown, fixture_tear_down);
  return g_test_run ();
}
