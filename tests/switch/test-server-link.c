/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "TestServerLink"

#include "config.h"

#include "kefu-server-link.h"
#include "kefu-server-link-spool.h"
#include "kefu-test-server.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#ifndef HAVE_INTTYPES_H
#define HAVE_INTTYPES_H 1
#endif
#ifndef HAVE_STDBOOL_H
#define HAVE_STDBOOL_H 1
#endif
#ifndef HAVE_INET6
#define HAVE_INET6 1
#endif
#include <re.h>

/*
 * The switch's link to kefu-server, against a real kefu-server process:
 * events over the WebSocket into the event log, call records, agents'
 * states coming back, the on-disk spool across server and switch
 * restarts, and what goes wrong (no server, wrong password, a damaged
 * spool, items the server refuses).
 */

#define LINK_DOMAIN "KefuServerLink"
#define WAIT_MS     20000

/* --- the loop ----------------------------------------------------------------------- */

typedef gboolean (*Predicate) (gpointer data);

static struct {
  Predicate   predicate;
  gpointer    data;
  const char *what;
  gboolean    done;
} waiting;

static struct tmr wait_timeout;
static struct tmr wait_poll;

/* Any handler calls this: the loop stops as soon as what is waited for holds. */
static void
check_wait (void)
{
  if (waiting.predicate && !waiting.done && waiting.predicate (waiting.data))
    {
      waiting.done = TRUE;
      re_cancel ();
    }
}

static void
on_wait_timeout (void *arg)
{
  g_error ("timed out waiting for %s", waiting.what);
}

static void
on_wait_poll (void *arg)
{
  /* For conditions no handler reports (counters of the health). */
  check_wait ();
  if (!waiting.done)
    tmr_start (&wait_poll, 5, on_wait_poll, NULL);
}

static void
run_until (Predicate   predicate,
           gpointer    data,
           guint       timeout_ms,
           const char *what)
{
  waiting.predicate = predicate;
  waiting.data = data;
  waiting.what = what;
  waiting.done = predicate (data);
  if (!waiting.done)
    {
      tmr_start (&wait_timeout, timeout_ms, on_wait_timeout, NULL);
      tmr_start (&wait_poll, 5, on_wait_poll, NULL);
      re_main (NULL);
      tmr_cancel (&wait_timeout);
      tmr_cancel (&wait_poll);
    }
  waiting.predicate = NULL;
}

/* --- what the link warns about ---------------------------------------------------------- */

/* The link logs what goes wrong as warnings, between its other messages;
 * tests collect them (rather than abort, as G_DEBUG=fatal-warnings would)
 * and each test says which it expects.  Any other one fails the test. */
static GPtrArray *link_warnings;

static void
on_link_warning (const char     *log_domain,
                 GLogLevelFlags  log_level,
                 const char     *message,
                 gpointer        user_data)
{
  g_test_message ("%s-WARNING: %s", log_domain, message);
  g_ptr_array_add (link_warnings, g_strdup (message));
}

/* The handler above took it; it is not the end of the test. */
static gboolean
on_fatal_log (const char     *log_domain,
              GLogLevelFlags  log_level,
              const char     *message,
              gpointer        user_data)
{
  return !(g_strcmp0 (log_domain, LINK_DOMAIN) == 0 && (log_level & G_LOG_LEVEL_WARNING));
}

static void
assert_warned (const char *pattern)
{
  for (guint i = 0; i < link_warnings->len; i++)
    if (g_pattern_match_simple (pattern, g_ptr_array_index (link_warnings, i)))
      {
        g_ptr_array_remove_index (link_warnings, i);
        return;
      }
  for (guint i = 0; i < link_warnings->len; i++)
    g_test_message ("warned: %s", (char *) g_ptr_array_index (link_warnings, i));
  g_error ("no warning of the link matches “%s”", pattern);
}

static void
assert_no_other_warnings (void)
{
  if (link_warnings->len > 0)
    g_error ("unexpected warning of the link: %s", (char *) g_ptr_array_index (link_warnings, 0));
}

/* --- a link under test ---------------------------------------------------------------- */

typedef struct {
  char                          *dir;
  char                          *spool_dir;
  char                          *credentials;
  struct kefu_server_link       *link;
  struct kefu_server_link_conf   conf;
  struct kefu_server_link_health health;
  GPtrArray                     *agents;      /* "why username state reason extension skills" */
  guint                          n_health;
} Switch;

static void
on_agent (const struct kefu_server_link_agent *agent,
          void                                *arg)
{
  Switch *sw = arg;
  g_autoptr(GString) line = g_string_new (NULL);

  g_string_append_printf (line, "%s %s %s %s %s", agent->why, agent->username,
                          agent->state ? agent->state : "-", agent->reason ? agent->reason : "-",
                          agent->extension && *agent->extension ? agent->extension : "-");
  for (size_t i = 0; i < agent->n_skills; i++)
    g_string_append_printf (line, " %s=%d", agent->skills[i].name, agent->skills[i].proficiency);
  g_debug ("agent: %s", line->str);
  g_ptr_array_add (sw->agents, g_string_free (g_steal_pointer (&line), FALSE));
  check_wait ();
}

static void
on_health (const struct kefu_server_link_health *health,
           void                                 *arg)
{
  Switch *sw = arg;

  sw->health = *health;
  sw->n_health++;
  check_wait ();
}

static void
write_credentials (Switch     *sw,
                   const char *text)
{
  g_autoptr(GError) error = NULL;

  g_file_set_contents (sw->credentials, text, -1, &error);
  g_assert_no_error (error);
}

static Switch *
switch_new (void)
{
  Switch *sw = g_new0 (Switch, 1);
  g_autoptr(GError) error = NULL;

  /* GLib resets it for every test. */
  g_test_log_set_fatal_handler (on_fatal_log, NULL);
  sw->dir = g_dir_make_tmp ("kefu-link-XXXXXX", &error);
  g_assert_no_error (error);
  sw->spool_dir = g_build_filename (sw->dir, "spool", NULL);
  sw->credentials = g_build_filename (sw->dir, "switch.credentials", NULL);
  write_credentials (sw, "service:" KEFU_TEST_PASSWORD "\n");
  sw->agents = g_ptr_array_new_with_free_func (g_free);
  sw->conf.password_file = sw->credentials;
  sw->conf.spool_dir = sw->spool_dir;
  sw->conf.request_timeout_ms = 3000;
  sw->conf.reconnect_min_ms = 50;
  sw->conf.reconnect_max_ms = 400;
  sw->conf.ack_timeout_ms = 5000;
  sw->conf.fsync_interval_ms = 10;
  sw->conf.batch_max = 16;
  return sw;
}

static int
switch_start (Switch     *sw,
              const char *url)
{
  struct kefu_server_link_handlers handlers = { on_agent, on_health };

  sw->conf.url = url;
  g_assert_null (sw->link);
  memset (&sw->health, 0, sizeof sw->health);
  return kefu_server_link_alloc (&sw->link, &sw->conf, &handlers, sw);
}

static void
on_stopped (int   err,
            void *arg)
{
  gboolean *stopped = arg;

  *stopped = TRUE;
  check_wait ();
}

static gboolean
is_true (gpointer data)
{
  return *(gboolean *) data;
}

/* As the switch stops: close the socket cleanly, keep the spool. */
static void
switch_stop (Switch *sw)
{
  gboolean stopped = FALSE;

  if (!sw->link)
    return;
  kefu_server_link_shutdown (sw->link, on_stopped, &stopped);
  run_until (is_true, &stopped, WAIT_MS, "the link to stop");
  sw->link = mem_deref (sw->link);
}

static void
switch_free (Switch *sw)
{
  const char *argv[] = { "rm", "-rf", sw->dir, NULL };

  switch_stop (sw);
  assert_no_other_warnings ();
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL,
                NULL);
  g_ptr_array_unref (sw->agents);
  g_free (sw->dir);
  g_free (sw->spool_dir);
  g_free (sw->credentials);
  g_free (sw);
}

static gboolean
is_connected (gpointer data)
{
  Switch *sw = data;
  struct kefu_server_link_health health;

  kefu_server_link_health (sw->link, &health);
  return health.state == KEFU_SERVER_LINK_CONNECTED;
}

static gboolean
is_reconnecting (gpointer data)
{
  Switch *sw = data;
  struct kefu_server_link_health health;

  kefu_server_link_health (sw->link, &health);
  return health.state == KEFU_SERVER_LINK_RECONNECTING;
}

typedef struct {
  gboolean done;
  int      err;
} Flushed;

static void
on_flushed (int   err,
            void *arg)
{
  Flushed *flushed = arg;

  flushed->done = TRUE;
  flushed->err = err;
  check_wait ();
}

static gboolean
flushed_done (gpointer data)
{
  return ((Flushed *) data)->done;
}

/* Waits until the server acknowledged everything queued so far. */
static int
switch_flush (Switch *sw,
              guint   timeout_ms)
{
  Flushed flushed = { FALSE, 0 };

  g_assert_cmpint (kefu_server_link_flush (sw->link, timeout_ms, on_flushed, &flushed), ==, 0);
  run_until (flushed_done, &flushed, timeout_ms + WAIT_MS, "the flush to end");
  return flushed.err;
}

static JsonObject *
make_event (const char *type,
            const char *call_id,
            const char *queue,
            const char *agent,
            int         n)
{
  JsonObject *event = json_object_new ();
  JsonObject *data = json_object_new ();

  json_object_set_string_member (event, "type", type);
  if (call_id)
    json_object_set_string_member (event, "call_id", call_id);
  if (queue)
    json_object_set_string_member (event, "queue", queue);
  if (agent)
    json_object_set_string_member (event, "agent", agent);
  json_object_set_int_member (data, "n", n);
  json_object_set_object_member (event, "data", data);
  return event;
}

/* Event n of a test run: a call's life in turns. */
static void
queue_event (Switch     *sw,
             const char *prefix,
             int         n)
{
  static const char * const types[] = { "call.offered", "call.ringing", "call.answered",
                                        "call.ended" };
  g_autofree char *call_id = g_strdup_printf ("%s-%d", prefix, n / 4);
  g_autoptr(JsonObject) event = make_event (types[n % 4], call_id, "billing",
                                            n % 4 ? "agent" : NULL, n);

  g_assert_cmpint (kefu_server_link_event (sw->link, event), ==, 0);
}

/* --- the server side ------------------------------------------------------------------- */

static KefuTestResponse *
request_expect (KefuTestServer *server,
                const char     *method,
                const char     *path,
                const char     *token,
                const char     *json,
                guint           status)
{
  KefuTestResponse *response = kefu_test_request (server, method, path, token, json);

  if (response->status != status)
    g_error ("%s %s: expected %u, got %u: %s", method, path, status, response->status,
             response->body);
  return response;
}

/* The n of each logged event of this run (call ids starting with prefix), in log order. */
static GArray *
logged_ns (KefuTestServer *server,
           const char     *prefix)
{
  g_autofree char *token = kefu_test_login (server, "supervisor");
  GArray *ns = g_array_new (FALSE, FALSE, sizeof (int));
  gint64 last_id = 0;
  guint got;

  do
    {
      g_autofree char *path = g_strdup_printf ("/v1/events?since=%" G_GINT64_FORMAT "&limit=10000",
                                               last_id);
      g_autoptr(KefuTestResponse) response = request_expect (server, "GET", path, token, NULL, 200);
      JsonArray *events = json_object_get_array_member (kefu_test_response_object (response),
                                                        "events");

      got = json_array_get_length (events);
      for (guint i = 0; i < got; i++)
        {
          JsonObject *event = json_array_get_object_element (events, i);
          const char *call_id = json_object_get_string_member_with_default (event, "call_id", "");
          int n;

          g_assert_cmpint (json_object_get_int_member (event, "id"), >, last_id);
          last_id = json_object_get_int_member (event, "id");
          if (!g_str_has_prefix (call_id, prefix) || call_id[strlen (prefix)] != '-')
            continue;
          n = (int) json_object_get_int_member (json_object_get_object_member (event, "data"),
                                                "n");
          g_array_append_val (ns, n);
        }
    }
  while (got == 10000);
  return ns;
}

/* Every n from 0 to count - 1 exactly once, in order. */
static void
assert_logged_once_in_order (KefuTestServer *server,
                             const char     *prefix,
                             int             count)
{
  g_autoptr(GArray) ns = logged_ns (server, prefix);

  for (guint i = 0; i < ns->len; i++)
    if (g_array_index (ns, int, i) != (int) i)
      g_error ("event %u of %s in the log is n=%d, expected %u (%u logged, %d queued)", i, prefix,
               g_array_index (ns, int, i), i, ns->len, count);
  g_assert_cmpuint (ns->len, ==, (guint) count);
}

/* --- tests ------------------------------------------------------------------------------- */

static void
test_events_in_order (void)
{
  KefuTestServer *server = kefu_test_server_start (NULL);
  Switch *sw = switch_new ();
  g_autofree char *token = kefu_test_login (server, "supervisor");
  g_autoptr(KefuTestResponse) response = NULL;
  JsonArray *events;
  JsonObject *first = NULL, *state = NULL;
  g_autofree char *health = NULL;

  g_assert_cmpint (switch_start (sw, server->url), ==, 0);
  run_until (is_connected, sw, WAIT_MS, "the link to connect");

  for (int n = 0; n < 50; n++)
    queue_event (sw, "order", n);
  /* and an agent's state as the switch changes it, with a time of its own */
  {
    g_autoptr(JsonObject) event = make_event ("agent.state", NULL, NULL, "agent2", 50);
    JsonObject *data = json_object_get_object_member (event, "data");

    json_object_set_string_member (data, "state", "talking");
    json_object_set_string_member (event, "ts", "2026-11-25T09:30:00.250+08:00");
    g_assert_cmpint (kefu_server_link_event (sw->link, event), ==, 0);
  }
  g_assert_cmpint (switch_flush (sw, 10000), ==, 0);
  assert_logged_once_in_order (server, "order", 50);

  response = request_expect (server, "GET", "/v1/events?since=0&limit=10000", token, NULL, 200);
  events = json_object_get_array_member (kefu_test_response_object (response), "events");
  for (guint i = 0; i < json_array_get_length (events); i++)
    {
      JsonObject *event = json_array_get_object_element (events, i);

      if (!first && g_strcmp0 (json_object_get_string_member_with_default (event, "call_id", ""),
                               "order-0") == 0)
        first = event;
      if (g_strcmp0 (json_object_get_string_member (event, "type"), "agent.state") == 0 &&
          g_strcmp0 (json_object_get_string_member (event, "agent"), "agent2") == 0)
        state = event;
    }
  g_assert_nonnull (first);
  g_assert_cmpstr (json_object_get_string_member (first, "type"), ==, "call.offered");
  g_assert_cmpstr (json_object_get_string_member (first, "queue"), ==, "billing");
  g_assert_false (json_object_has_member (first, "agent"));
  g_assert_nonnull (state);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (state, "data"),
                                                  "state"), ==, "talking");
  /* the switch's own agent.state says who made it (so its echo is known) */
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (state, "data"),
                                                  "by"), ==, "service");
  /* the time it happened, not the time it was logged */
  {
    gint64 ms = 0;
    g_autoptr(GDateTime) ts = g_date_time_new_from_iso8601 (
      json_object_get_string_member (state, "ts"), NULL);

    g_assert_nonnull (ts);
    ms = g_date_time_to_unix (ts) * 1000 + g_date_time_get_microsecond (ts) / 1000;
    g_assert_cmpint (ms, ==, 1795570200250);
  }
  /* agent2's state in the server follows the switch's event */
  {
    g_autoptr(KefuTestResponse) agent = request_expect (server, "GET", "/v1/agents/agent2", token,
                                                        NULL, 200);

    g_assert_cmpstr (json_object_get_string_member (kefu_test_response_object (agent), "state"),
                     ==, "talking");
  }

  kefu_server_link_health (sw->link, &sw->health);
  g_assert_cmpint (sw->health.state, ==, KEFU_SERVER_LINK_CONNECTED);
  g_assert_cmpuint (sw->health.spooled, ==, 0);
  g_assert_cmpuint (sw->health.sent, ==, 51);
  re_sdprintf (&health, "%H", kefu_server_link_print_health, sw->link);
  g_assert_nonnull (strstr (health, "connected, nothing spooled"));
  mem_deref (g_steal_pointer (&health));

  switch_free (sw);
  kefu_test_server_free (server);
}

typedef struct {
  Switch *sw;
  guint64 sent;
} SentAtLeast;

static gboolean
sent_at_least (gpointer data)
{
  SentAtLeast *want = data;
  struct kefu_server_link_health health;

  kefu_server_link_health (want->sw->link, &health);
  return health.sent >= want->sent;
}

static void
test_server_restart (void)
{
  KefuTestServer *server = kefu_test_server_start (NULL);
  Switch *sw = switch_new ();
  SentAtLeast some = { sw, 20 };
  int n = 0;

  g_assert_cmpint (switch_start (sw, server->url), ==, 0);
  run_until (is_connected, sw, WAIT_MS, "the link to connect");

  /* a stream of events; the server stops while it flows */
  for (; n < 200; n++)
    queue_event (sw, "restart", n);
  run_until (sent_at_least, &some, WAIT_MS, "some events to be acknowledged");
  kefu_test_server_stop (server);
  for (; n < 260; n++)
    queue_event (sw, "restart", n);
  run_until (is_reconnecting, sw, WAIT_MS, "the link to notice");
  for (; n < 300; n++)
    queue_event (sw, "restart", n);
  kefu_server_link_health (sw->link, &sw->health);
  g_assert_cmpuint (sw->health.spooled, >=, 100);
  g_assert_cmpuint (sw->health.spool_bytes, >, 0);
  g_assert_cmpstr (sw->health.last_error, !=, "");
  /* what is owed is on disk */
  {
    g_autoptr(GDir) dir = g_dir_open (sw->spool_dir, 0, NULL);
    const char *name;
    guint segments = 0;

    while ((name = g_dir_read_name (dir)))
      segments += g_str_has_prefix (name, "spool-") && g_str_has_suffix (name, ".log");
    g_assert_cmpuint (segments, >=, 1);
  }

  kefu_test_server_start_again (server);
  for (; n < 320; n++)
    queue_event (sw, "restart", n);
  g_assert_cmpint (switch_flush (sw, 15000), ==, 0);
  assert_logged_once_in_order (server, "restart", 320);

  /* and once more, stopped without a chance to answer the batch in flight */
  for (; n < 400; n++)
    queue_event (sw, "restart", n);
  some.sent = 320 + 8;
  run_until (sent_at_least, &some, WAIT_MS, "more events to be acknowledged");
  kefu_test_server_restart (server);
  g_assert_cmpint (switch_flush (sw, 15000), ==, 0);
  assert_logged_once_in_order (server, "restart", 400);

  switch_free (sw);
  kefu_test_server_free (server);
}

static void
test_switch_restart (void)
{
  KefuTestServer *server = kefu_test_server_start (NULL);
  Switch *sw = switch_new ();
  g_autofree char *dead_url = NULL;
  g_autofree char *token = kefu_test_login (server, "supervisor");

  /* The server is away while the switch works, then the switch stops. */
  kefu_test_server_stop (server);
  g_assert_cmpint (switch_start (sw, server->url), ==, 0);
  run_until (is_reconnecting, sw, WAIT_MS, "the link to find no server");
  for (int n = 0; n < 30; n++)
    queue_event (sw, "replay", n);
  {
    g_autoptr(JsonObject) record = json_object_new ();

    json_object_set_string_member (record, "id", "replay-cdr");
    json_object_set_string_member (record, "direction", "inbound");
    json_object_set_string_member (record, "outcome", "abandoned");
    g_assert_cmpint (kefu_server_link_call_record (sw->link, record), ==, 0);
  }
  kefu_server_link_health (sw->link, &sw->health);
  g_assert_cmpuint (sw->health.spooled, ==, 31);
  switch_stop (sw);

  /* A new switch on the same spool, with the server back: all of it, once. */
  kefu_test_server_start_again (server);
  g_assert_cmpint (switch_start (sw, server->url), ==, 0);
  kefu_server_link_health (sw->link, &sw->health);
  g_assert_cmpuint (sw->health.spooled, ==, 31);
  g_assert_cmpint (switch_flush (sw, 15000), ==, 0);
  assert_logged_once_in_order (server, "replay", 30);
  {
    g_autoptr(KefuTestResponse) cdr = request_expect (server, "GET", "/v1/calls/replay-cdr", token,
                                                      NULL, 200);

    g_assert_cmpstr (json_object_get_string_member (kefu_test_response_object (cdr), "outcome"),
                     ==, "abandoned");
  }
  switch_stop (sw);

  /* Started again with nothing owed: nothing sent twice. */
  g_assert_cmpint (switch_start (sw, server->url), ==, 0);
  kefu_server_link_health (sw->link, &sw->health);
  g_assert_cmpuint (sw->health.spooled, ==, 0);
  run_until (is_connected, sw, WAIT_MS, "the link to connect");
  queue_event (sw, "replay", 30);
  g_assert_cmpint (switch_flush (sw, 15000), ==, 0);
  assert_logged_once_in_order (server, "replay", 31);

  switch_free (sw);
  kefu_test_server_free (server);
}

static void
test_call_record (void)
{
  KefuTestServer *server = kefu_test_server_start (NULL);
  Switch *sw = switch_new ();
  g_autofree char *token = kefu_test_login (server, "supervisor");
  g_autoptr(KefuTestResponse) response = NULL;
  g_autoptr(JsonObject) record = json_object_new ();
  JsonObject *stored;

  g_assert_cmpint (switch_start (sw, server->url), ==, 0);

  json_object_set_string_member (record, "id", "sw1-00000042");
  json_object_set_string_member (record, "direction", "inbound");
  json_object_set_string_member (record, "caller", "+8613800138000");
  json_object_set_string_member (record, "callee", "4008001234");
  json_object_set_string_member (record, "queue", "billing");
  json_object_set_string_member (record, "agent", "agent");
  json_object_set_string_member (record, "offered_at", "2026-11-25T09:00:00+08:00");
  json_object_set_string_member (record, "answered_at", "2026-11-25T09:00:12+08:00");
  json_object_set_string_member (record, "ended_at", "2026-11-25T09:03:12+08:00");
  json_object_set_double_member (record, "wait_s", 12.5);
  json_object_set_double_member (record, "talk_s", 170);
  json_object_set_double_member (record, "hold_s", 10);
  json_object_set_double_member (record, "wrapup_s", 30);
  json_object_set_string_member (record, "outcome", "answered");
  json_object_set_string_member (record, "ivr_path", "main>1(billing)");
  json_object_set_string_member (record, "recording", "sw1-00000042.wav");

  queue_event (sw, "cdr", 0);
  g_assert_cmpint (kefu_server_link_call_record (sw->link, record), ==, 0);
  queue_event (sw, "cdr", 1);
  /* The same record again (a retry by the core): stored once, nothing stuck. */
  g_assert_cmpint (kefu_server_link_call_record (sw->link, record), ==, 0);
  queue_event (sw, "cdr", 2);
  g_assert_cmpint (switch_flush (sw, 10000), ==, 0);

  response = request_expect (server, "GET", "/v1/calls/sw1-00000042", token, NULL, 200);
  stored = kefu_test_response_object (response);
  g_assert_cmpstr (json_object_get_string_member (stored, "direction"), ==, "inbound");
  g_assert_cmpstr (json_object_get_string_member (stored, "caller"), ==, "+8613800138000");
  g_assert_cmpstr (json_object_get_string_member (stored, "callee"), ==, "4008001234");
  g_assert_cmpstr (json_object_get_string_member (stored, "queue"), ==, "billing");
  g_assert_cmpstr (json_object_get_string_member (stored, "agent"), ==, "agent");
  g_assert_cmpfloat (json_object_get_double_member (stored, "wait_s"), ==, 12.5);
  g_assert_cmpfloat (json_object_get_double_member (stored, "talk_s"), ==, 170);
  g_assert_cmpfloat (json_object_get_double_member (stored, "hold_s"), ==, 10);
  g_assert_cmpfloat (json_object_get_double_member (stored, "wrapup_s"), ==, 30);
  g_assert_cmpstr (json_object_get_string_member (stored, "outcome"), ==, "answered");
  g_assert_cmpstr (json_object_get_string_member (stored, "ivr_path"), ==, "main>1(billing)");
  g_assert_cmpstr (json_object_get_string_member (stored, "recording"), ==, "sw1-00000042.wav");
  {
    g_autoptr(GDateTime) answered = g_date_time_new_from_iso8601 (
      json_object_get_string_member (stored, "answered_at"), NULL);

    g_assert_nonnull (answered);
    g_assert_cmpint (g_date_time_to_unix (answered), ==, 1795568412);
  }
  assert_logged_once_in_order (server, "cdr", 3);
  kefu_server_link_health (sw->link, &sw->health);
  g_assert_cmpuint (sw->health.rejected, ==, 0);

  /* A record kefu-server would refuse is refused here, with the reason. */
  {
    g_autoptr(JsonObject) bad = json_object_new ();

    json_object_set_string_member (bad, "id", "sw1-bad");
    json_object_set_string_member (bad, "direction", "sideways");
    g_assert_cmpint (kefu_server_link_call_record (sw->link, bad), ==, EINVAL);
    assert_warned ("*sw1-bad*direction*");
  }

  switch_free (sw);
  kefu_test_server_free (server);
}

typedef struct {
  Switch     *sw;
  const char *line;
  guint       from;
} AgentLine;

static gboolean
agent_line_seen (gpointer data)
{
  AgentLine *want = data;

  for (guint i = want->from; i < want->sw->agents->len; i++)
    if (g_str_has_prefix (g_ptr_array_index (want->sw->agents, i), want->line))
      return TRUE;
  return FALSE;
}

static void
wait_agent_line (Switch     *sw,
                 const char *line,
                 guint       from)
{
  AgentLine want = { sw, line, from };
  g_autofree char *what = g_strdup_printf ("agent change “%s”", line);

  run_until (agent_line_seen, &want, WAIT_MS, what);
}

static void
test_agent_state (void)
{
  KefuTestServer *server = kefu_test_server_start (NULL);
  Switch *sw = switch_new ();
  g_autofree char *admin = kefu_test_login (server, "admin");
  g_autofree char *agent = kefu_test_login (server, "agent");
  guint mark;

  {
    g_autoptr(KefuTestResponse) r = request_expect (server, "PATCH", "/v1/agents/agent", admin,
                                                    "{\"extension\": \"1001\", \"skills\": "
                                                    "{\"billing\": 80, \"sales\": 30}}", 200);
  }
  g_assert_cmpint (switch_start (sw, server->url), ==, 0);
  /* at start: every agent, with extension and skills; the service account is no agent */
  wait_agent_line (sw, "sync agent logged_out - 1001 billing=80 sales=30", 0);
  wait_agent_line (sw, "sync agent2 ", 0);
  for (guint i = 0; i < sw->agents->len; i++)
    g_assert_null (strstr (g_ptr_array_index (sw->agents, i), " service "));
  run_until (is_connected, sw, WAIT_MS, "the link to connect");

  /* the agent goes available in the desktop */
  mark = sw->agents->len;
  {
    g_autoptr(KefuTestResponse) r = request_expect (server, "PUT", "/v1/agents/me/state", agent,
                                                    "{\"state\": \"available\"}", 200);
  }
  wait_agent_line (sw, "state agent available - 1001 billing=80 sales=30", mark);
  mark = sw->agents->len;
  {
    g_autoptr(KefuTestResponse) r = request_expect (server, "PUT", "/v1/agents/me/state", agent,
                                                    "{\"state\": \"not_ready\", \"reason\": "
                                                    "\"Lunch\"}", 200);
  }
  wait_agent_line (sw, "state agent not_ready Lunch 1001", mark);

  /* the switch's own agent.state coming back is not news */
  {
    g_autoptr(JsonObject) event = make_event ("agent.state", NULL, NULL, "agent2", 0);

    json_object_set_string_member (json_object_get_object_member (event, "data"), "state",
                                   "ringing");
    mark = sw->agents->len;
    g_assert_cmpint (kefu_server_link_event (sw->link, event), ==, 0);
    g_assert_cmpint (switch_flush (sw, 10000), ==, 0);
  }

  /* the server restarts; meanwhile the agent came back from lunch */
  kefu_test_server_stop (server);
  run_until (is_reconnecting, sw, WAIT_MS, "the link to notice");
  kefu_test_server_start_again (server);
  {
    g_autoptr(KefuTestResponse) r = request_expect (server, "PUT", "/v1/agents/me/state", agent,
                                                    "{\"state\": \"available\"}", 200);
  }
  /* the link was not connected then: only its resync can tell */
  wait_agent_line (sw, "sync agent available - 1001", mark);
  for (guint i = mark; i < sw->agents->len; i++)
    {
      g_assert_false (g_str_has_prefix (g_ptr_array_index (sw->agents, i), "state agent2 "));
      g_assert_false (g_str_has_prefix (g_ptr_array_index (sw->agents, i), "state agent "));
    }

  /* an agent removed at the server is removed at the switch on the next sync */
  {
    g_autoptr(KefuTestResponse) r = request_expect (server, "DELETE", "/v1/agents/agent2", admin,
                                                    NULL, 204);
  }
  kefu_test_server_restart (server);
  wait_agent_line (sw, "removed agent2 ", mark);

  switch_free (sw);
  kefu_test_server_free (server);
}

typedef struct {
  gboolean done;
  int      err;
  guint    status;
  char    *message;
  char    *json;
} Reply;

static void
on_reply (const struct kefu_server_link_reply *reply,
          void                                *arg)
{
  Reply *out = arg;

  out->done = TRUE;
  out->err = reply->err;
  out->status = reply->status;
  out->message = g_strdup (reply->message);
  out->json = reply->json ? json_to_string (reply->json, FALSE) : NULL;
  check_wait ();
}

static gboolean
reply_done (gpointer data)
{
  return ((Reply *) data)->done;
}

static void
reply_clear (Reply *reply)
{
  g_free (reply->message);
  g_free (reply->json);
  memset (reply, 0, sizeof *reply);
}

static void
test_requests (void)
{
  KefuTestServer *server = kefu_test_server_start (NULL);
  Switch *sw = switch_new ();
  g_autofree char *agent = kefu_test_login (server, "agent");
  Reply reply = { 0 };
  struct kefu_server_link_req *req = NULL;

  {
    g_autoptr(KefuTestResponse) r = request_expect (server, "POST", "/v1/customers", agent,
                                                    "{\"name\": \"王芳\", \"phones\": "
                                                    "[\"+86 138 0013 8000\"], "
                                                    "\"account_number\": \"10000001\"}", 201);
  }
  g_assert_cmpint (switch_start (sw, server->url), ==, 0);

  /* by the caller's number, in another spelling */
  g_assert_cmpint (kefu_server_link_customer_by_phone (sw->link, "13800138000", 0, on_reply,
                                                       &reply, &req), ==, 0);
  g_assert_nonnull (req);
  run_until (reply_done, &reply, WAIT_MS, "the lookup by number");
  g_assert_null (req);
  g_assert_cmpint (reply.err, ==, 0);
  g_assert_cmpuint (reply.status, ==, 200);
  g_assert_nonnull (reply.json);
  g_assert_nonnull (strstr (reply.json, "\"name\":\"王芳\""));
  reply_clear (&reply);

  /* nobody has that number: no customer, no error */
  g_assert_cmpint (kefu_server_link_customer_by_phone (sw->link, "13900000000", 0, on_reply,
                                                       &reply, NULL), ==, 0);
  run_until (reply_done, &reply, WAIT_MS, "the lookup of an unknown number");
  g_assert_cmpint (reply.err, ==, 0);
  g_assert_null (reply.json);
  reply_clear (&reply);

  /* by the account number the caller keyed */
  g_assert_cmpint (kefu_server_link_customer_by_account (sw->link, "10000001", 0, on_reply,
                                                         &reply, NULL), ==, 0);
  run_until (reply_done, &reply, WAIT_MS, "the lookup by account");
  g_assert_cmpint (reply.err, ==, 0);
  g_assert_nonnull (reply.json);
  g_assert_nonnull (strstr (reply.json, "\"account_number\":\"10000001\""));
  reply_clear (&reply);

  /* a number that is no number: the server's reason */
  g_assert_cmpint (kefu_server_link_customer_by_phone (sw->link, "abc", 0, on_reply, &reply,
                                                       NULL), ==, 0);
  run_until (reply_done, &reply, WAIT_MS, "the lookup of a bad number");
  g_assert_cmpint (reply.err, ==, EINVAL);
  g_assert_cmpuint (reply.status, ==, 400);
  g_assert_nonnull (strstr (reply.message, "GET /v1/customers"));
  reply_clear (&reply);

  /* the SIP credentials for the registrar */
  g_assert_cmpint (kefu_server_link_sip_credentials (sw->link, 0, on_reply, &reply, NULL), ==, 0);
  run_until (reply_done, &reply, WAIT_MS, "the SIP credentials");
  g_assert_cmpint (reply.err, ==, 0);
  g_assert_nonnull (reply.json);
  g_assert_nonnull (strstr (reply.json, "\"realm\":"));
  g_assert_nonnull (strstr (reply.json, "\"items\":["));
  reply_clear (&reply);

  /* any route, as the service account */
  g_assert_cmpint (kefu_server_link_request (sw->link, "GET", "/v1/sessions/current", NULL, 0,
                                             on_reply, &reply, NULL), ==, 0);
  run_until (reply_done, &reply, WAIT_MS, "who we are");
  g_assert_cmpint (reply.err, ==, 0);
  g_assert_nonnull (strstr (reply.json, "\"role\":\"service\""));
  reply_clear (&reply);

  /* the token is gone at the server (logged out): one new login, the same answer */
  {
    Reply logout = { 0 };

    g_assert_cmpint (kefu_server_link_request (sw->link, "DELETE", "/v1/sessions/current", NULL,
                                               0, on_reply, &logout, NULL), ==, 0);
    run_until (reply_done, &logout, WAIT_MS, "the log out");
    g_assert_cmpuint (logout.status, ==, 204);
    reply_clear (&logout);
  }
  g_assert_cmpint (kefu_server_link_customer_by_account (sw->link, "10000001", 0, on_reply,
                                                         &reply, NULL), ==, 0);
  run_until (reply_done, &reply, WAIT_MS, "a lookup after the token went");
  g_assert_cmpint (reply.err, ==, 0);
  g_assert_nonnull (reply.json);
  reply_clear (&reply);

  /* cancelled: the handler never runs */
  g_assert_cmpint (kefu_server_link_customer_by_phone (sw->link, "13800138000", 0, on_reply,
                                                       &reply, &req), ==, 0);
  req = mem_deref (req);
  g_assert_cmpint (switch_flush (sw, 5000), ==, 0);
  g_assert_false (reply.done);

  switch_free (sw);
  kefu_test_server_free (server);
}

static guint
callbacks_of_call (KefuTestServer *server,
                   const char     *token,
                   const char     *call_id,
                   char          **source)
{
  g_autofree char *path = g_strdup_printf ("/v1/callbacks?call_id=%s", call_id);
  g_autoptr(KefuTestResponse) response = request_expect (server, "GET", path, token, NULL, 200);
  JsonArray *items = json_object_get_array_member (kefu_test_response_object (response), "items");

  if (source && json_array_get_length (items) > 0)
    *source = g_strdup (json_object_get_string_member (json_array_get_object_element (items, 0),
                                                       "source"));
  return json_array_get_length (items);
}

static JsonObject *
make_callback (const char *call_id)
{
  JsonObject *callback = json_object_new ();

  json_object_set_string_member (callback, "number", "13800138000");
  json_object_set_string_member (callback, "call_id", call_id);
  json_object_set_string_member (callback, "queue", "billing");
  return callback;
}

static void
test_callbacks (void)
{
  KefuTestServer *server = kefu_test_server_start (NULL);
  Switch *sw = switch_new ();
  g_autofree char *agent = kefu_test_login (server, "agent");
  g_autofree char *source = NULL;
  Reply reply = { 0 };

  g_assert_cmpint (switch_start (sw, server->url), ==, 0);

  /* the caller keys their number: filed, confirmed with the server's record */
  {
    g_autoptr(JsonObject) callback = make_callback ("cb-1");

    g_assert_cmpint (kefu_server_link_callback (sw->link, callback, 0, on_reply, &reply, NULL), ==,
                     0);
  }
  run_until (reply_done, &reply, WAIT_MS, "the callback to be filed");
  g_assert_cmpint (reply.err, ==, 0);
  g_assert_cmpuint (reply.status, ==, 201);
  g_assert_nonnull (strstr (reply.json, "\"status\":\"open\""));
  reply_clear (&reply);
  g_assert_cmpuint (callbacks_of_call (server, agent, "cb-1", &source), ==, 1);
  g_assert_cmpstr (source, ==, "ivr");

  /* the server is away: not confirmed in time, but kept and filed later, once */
  kefu_test_server_stop (server);
  {
    g_autoptr(JsonObject) callback = make_callback ("cb-2");

    g_assert_cmpint (kefu_server_link_callback (sw->link, callback, 300, on_reply, &reply, NULL),
                     ==, 0);
  }
  run_until (reply_done, &reply, WAIT_MS, "the callback confirmation to time out");
  g_assert_cmpint (reply.err, ==, ETIMEDOUT);
  g_assert_nonnull (strstr (reply.message, "stays spooled"));
  reply_clear (&reply);
  kefu_test_server_start_again (server);
  g_assert_cmpint (switch_flush (sw, 15000), ==, 0);
  g_assert_cmpuint (callbacks_of_call (server, agent, "cb-2", NULL), ==, 1);
  g_assert_cmpuint (callbacks_of_call (server, agent, "cb-1", NULL), ==, 1);

  /* without a number there is nobody to call back */
  {
    g_autoptr(JsonObject) callback = make_callback ("cb-3");

    json_object_remove_member (callback, "number");
    g_assert_cmpint (kefu_server_link_callback (sw->link, callback, 0, on_reply, &reply, NULL), ==,
                     EINVAL);
    assert_warned ("*Callback request*number*");
    g_assert_false (reply.done);
  }

  switch_free (sw);
  kefu_test_server_free (server);
}

/* A TCP port that accepts connections and never answers. */
static GSocket *
silent_listener (guint16 *port)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  GSocket *sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                G_SOCKET_PROTOCOL_TCP, &error);

  g_assert_no_error (error);
  g_socket_bind (sock, address, TRUE, &error);
  g_assert_no_error (error);
  g_socket_listen (sock, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (sock, &error);
  g_assert_no_error (error);
  *port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  return sock;
}

static void
test_unreachable (void)
{
  Switch *sw = switch_new ();
  g_autoptr(GSocket) silent = NULL;
  g_autofree char *url = NULL;
  g_autofree char *health = NULL;
  Reply reply = { 0 };
  guint16 port;

  /* nothing listens there */
  silent = silent_listener (&port);
  g_socket_close (silent, NULL);
  g_clear_object (&silent);
  url = g_strdup_printf ("http://127.0.0.1:%u", port);
  g_assert_cmpint (switch_start (sw, url), ==, 0);
  run_until (is_reconnecting, sw, WAIT_MS, "the link to give up a first time");
  g_assert_nonnull (strstr (sw->health.last_error, "connection refused"));
  g_assert_nonnull (strstr (sw->health.last_error, url));
  g_assert_cmpuint (sw->health.backoff_ms, >, 0);
  /* events still queue */
  for (int n = 0; n < 5; n++)
    queue_event (sw, "away", n);
  kefu_server_link_health (sw->link, &sw->health);
  g_assert_cmpuint (sw->health.spooled, ==, 5);
  re_sdprintf (&health, "%H", kefu_server_link_print_health, sw->link);
  g_assert_nonnull (strstr (health, "spooling 5 items"));
  g_assert_nonnull (strstr (health, "connection refused"));
  mem_deref (g_steal_pointer (&health));
  /* a request says at once why it cannot be answered */
  g_assert_cmpint (kefu_server_link_customer_by_phone (sw->link, "13800138000", 0, on_reply,
                                                       &reply, NULL), ==, 0);
  run_until (reply_done, &reply, 1000, "the refused lookup");
  g_assert_cmpint (reply.err, !=, 0);
  g_assert_nonnull (strstr (reply.message, "connection refused"));
  reply_clear (&reply);
  /* and a flush says it could not */
  g_assert_cmpint (switch_flush (sw, 300), ==, ETIMEDOUT);
  /* the spool says so as it grows */
  for (int n = 5; n < 1000; n++)
    queue_event (sw, "away", n);
  assert_warned ("*spool * holds 1000 items (*MB) waiting for kefu-server*connection refused*");
  for (int n = 1000; n < 1100; n++)
    queue_event (sw, "away", n);
  assert_no_other_warnings ();
  switch_stop (sw);

  /* a server that takes the connection and never answers: the timeouts */
  silent = silent_listener (&port);
  g_free (url);
  url = g_strdup_printf ("http://127.0.0.1:%u", port);
  sw->conf.request_timeout_ms = 300;
  g_assert_cmpint (switch_start (sw, url), ==, 0);
  g_assert_cmpint (kefu_server_link_customer_by_phone (sw->link, "13800138000", 200, on_reply,
                                                       &reply, NULL), ==, 0);
  run_until (reply_done, &reply, 5000, "the lookup to time out");
  g_assert_cmpint (reply.err, ==, ETIMEDOUT);
  g_assert_nonnull (strstr (reply.message, "did not answer within 200 ms"));
  reply_clear (&reply);
  run_until (is_reconnecting, sw, WAIT_MS, "the login to time out");
  g_assert_nonnull (strstr (sw->health.last_error, "did not answer within 300 ms"));
  /* what the spool holds from before is told once by this link too */
  assert_warned ("*holds 1100 items*did not answer within 300 ms*");

  switch_free (sw);
}

static gboolean
is_auth_failed (gpointer data)
{
  Switch *sw = data;

  return sw->health.state == KEFU_SERVER_LINK_AUTH_FAILED;
}

static void
test_wrong_password (void)
{
  KefuTestServer *server = kefu_test_server_start (NULL);
  Switch *sw = switch_new ();
  Reply reply = { 0 };

  write_credentials (sw, "service:not-the-password\n");
  sw->conf.reconnect_min_ms = 300;
  g_assert_cmpint (switch_start (sw, server->url), ==, 0);
  run_until (is_auth_failed, sw, WAIT_MS, "the login to be refused");
  assert_warned ("*refused the login of the service account (401 unauthorized)*"
                 "switch.credentials*");
  g_assert_nonnull (strstr (sw->health.last_error, "refused the login"));
  g_assert_nonnull (strstr (sw->health.last_error, sw->credentials));
  queue_event (sw, "auth", 0);

  /* requests say why */
  g_assert_cmpint (kefu_server_link_customer_by_phone (sw->link, "13800138000", 0, on_reply,
                                                       &reply, NULL), ==, 0);
  run_until (reply_done, &reply, WAIT_MS, "the lookup to fail");
  g_assert_cmpint (reply.err, ==, EACCES);
  g_assert_nonnull (strstr (reply.message, "refused the login"));
  reply_clear (&reply);

  /* the administrator fixes the file: the next try logs in, the event goes */
  write_credentials (sw, "service:" KEFU_TEST_PASSWORD "\n");
  run_until (is_connected, sw, WAIT_MS, "the link to log in");
  g_assert_cmpint (switch_flush (sw, 10000), ==, 0);
  assert_logged_once_in_order (server, "auth", 1);

  switch_free (sw);
  kefu_test_server_free (server);
}

static char *
only_segment (const char *spool_dir)
{
  g_autoptr(GDir) dir = g_dir_open (spool_dir, 0, NULL);
  const char *name;
  char *found = NULL;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)))
    if (g_str_has_prefix (name, "spool-") && g_str_has_suffix (name, ".log"))
      {
        g_assert_null (found);
        found = g_build_filename (spool_dir, name, NULL);
      }
  g_assert_nonnull (found);
  return found;
}

static void
test_corrupt_spool (void)
{
  KefuTestServer *server = kefu_test_server_start (NULL);
  Switch *sw = switch_new ();
  g_autofree char *segment = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *corrupt_dir = NULL;
  g_autoptr(GError) error = NULL;
  gsize len;
  const char *third;
  gsize third_offset;

  /* Five events spooled while the server is away. */
  kefu_test_server_stop (server);
  g_assert_cmpint (switch_start (sw, server->url), ==, 0);
  for (int n = 0; n < 5; n++)
    queue_event (sw, "damaged", n);
  switch_stop (sw);

  /* A bad disk flips a byte in the third; a crash leaves half a record. */
  segment = only_segment (sw->spool_dir);
  g_file_get_contents (segment, &contents, &len, &error);
  g_assert_no_error (error);
  third = strstr (contents, "\"n\":2");
  g_assert_nonnull (third);
  third_offset = (gsize) (third - contents);
  contents[third_offset + 4] = '7';
  while (third_offset > 0 && contents[third_offset - 1] != '\n')
    third_offset--;
  {
    g_autoptr(GString) damaged = g_string_new_len (contents, (gssize) len);

    g_string_append (damaged, "0badc0de E 6 {\"type\":\"call.off");
    g_file_set_contents (segment, damaged->str, (gssize) damaged->len, &error);
    g_assert_no_error (error);
  }

  kefu_test_server_start_again (server);
  {
    g_autofree char *at = g_strdup_printf ("*%s is damaged at offset %" G_GSIZE_FORMAT
                                           " (*checksum mismatch*", segment, third_offset);
    g_autofree char *tail = g_strdup_printf ("*%s is damaged at offset %" G_GSIZE_FORMAT
                                             " (*incomplete record*", segment, len);

    g_assert_cmpint (switch_start (sw, server->url), ==, 0);
    assert_warned (at);
    assert_warned (tail);
  }
  kefu_server_link_health (sw->link, &sw->health);
  g_assert_cmpuint (sw->health.corrupt, ==, 2);
  g_assert_cmpuint (sw->health.spooled, ==, 4);
  g_assert_cmpint (switch_flush (sw, 10000), ==, 0);
  {
    g_autoptr(GArray) ns = logged_ns (server, "damaged");

    g_assert_cmpuint (ns->len, ==, 4);
    g_assert_cmpint (g_array_index (ns, int, 0), ==, 0);
    g_assert_cmpint (g_array_index (ns, int, 1), ==, 1);
    g_assert_cmpint (g_array_index (ns, int, 2), ==, 3);
    g_assert_cmpint (g_array_index (ns, int, 3), ==, 4);
  }
  /* the damaged bytes are kept, not dropped */
  corrupt_dir = g_build_filename (sw->spool_dir, "corrupt", NULL);
  {
    g_autoptr(GDir) dir = g_dir_open (corrupt_dir, 0, &error);
    const char *name;
    guint files = 0;
    gboolean found_third = FALSE;

    g_assert_no_error (error);
    while ((name = g_dir_read_name (dir)))
      {
        g_autofree char *path = g_build_filename (corrupt_dir, name, NULL);
        g_autofree char *kept = NULL;

        files++;
        g_file_get_contents (path, &kept, NULL, &error);
        g_assert_no_error (error);
        found_third |= strstr (kept, "\"n\":7") != NULL;
      }
    g_assert_cmpuint (files, ==, 2);
    g_assert_true (found_third);
  }

  switch_free (sw);
  kefu_test_server_free (server);
}

static void
test_refused_items (void)
{
  KefuTestServer *server = kefu_test_server_start (NULL);
  Switch *sw = switch_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *rejected = NULL;
  g_autofree char *text = NULL;

  /* An event the server refuses is refused here already. */
  g_assert_cmpint (switch_start (sw, server->url), ==, 0);
  {
    g_autoptr(JsonObject) event = make_event ("call.teleported", "x", "billing", NULL, 0);

    g_assert_cmpint (kefu_server_link_event (sw->link, event), ==, EINVAL);
    assert_warned ("*call.teleported*");
  }
  {
    g_autoptr(JsonObject) event = make_event ("call.offered", "x", NULL, NULL, 0);

    g_assert_cmpint (kefu_server_link_event (sw->link, event), ==, EINVAL);
    assert_warned ("*call.offered needs queue*");
  }
  switch_stop (sw);

  /* One the server refuses all the same (an older switch wrote it): the
   * batch around it goes one by one, the bad one is set aside with why. */
  {
    KefuSpool *spool = kefu_spool_open (sw->spool_dir, 0, NULL, &error);

    g_assert_no_error (error);
    for (int n = 0; n < 6; n++)
      {
        g_autofree char *event = g_strdup_printf (
          "{\"type\":\"%s\",\"call_id\":\"refused-%d\",\"queue\":\"billing\",\"data\":{\"n\":%d}}",
          n == 3 ? "call.teleported" : "call.offered", n, n);

        kefu_spool_append (spool, KEFU_SPOOL_EVENT, event, NULL, &error);
        g_assert_no_error (error);
      }
    kefu_spool_sync (spool, &error);
    g_assert_no_error (error);
    kefu_spool_free (spool);
  }
  g_assert_cmpint (switch_start (sw, server->url), ==, 0);
  g_assert_cmpint (switch_flush (sw, 10000), ==, 0);
  assert_warned ("*refused spooled item 4 (event)*rejected.log*");
  {
    g_autoptr(GArray) ns = logged_ns (server, "refused");

    g_assert_cmpuint (ns->len, ==, 5);
    g_assert_cmpint (g_array_index (ns, int, 2), ==, 2);
    g_assert_cmpint (g_array_index (ns, int, 3), ==, 4);
  }
  kefu_server_link_health (sw->link, &sw->health);
  g_assert_cmpuint (sw->health.rejected, ==, 1);
  rejected = g_build_filename (sw->spool_dir, "rejected.log", NULL);
  g_file_get_contents (rejected, &text, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (text, "call.teleported"));
  g_assert_nonnull (strstr (text, "\"reason\":\"invalid_event"));

  switch_free (sw);
  kefu_test_server_free (server);
}

/* How fast events get through (-m perf only: not a timed test). */
static void
test_throughput (void)
{
  KefuTestServer *server;
  Switch *sw;
  gint64 start;
  double seconds;
  const int count = 20000;

  server = kefu_test_server_start (NULL);
  sw = switch_new ();
  sw->conf.batch_max = 0;
  g_assert_cmpint (switch_start (sw, server->url), ==, 0);
  run_until (is_connected, sw, WAIT_MS, "the link to connect");
  start = g_get_monotonic_time ();
  for (int n = 0; n < count; n++)
    queue_event (sw, "perf", n);
  g_test_message ("queued %d events in %.3f s", count,
                  (g_get_monotonic_time () - start) / 1e6);
  g_assert_cmpint (switch_flush (sw, 120000), ==, 0);
  seconds = (g_get_monotonic_time () - start) / 1e6;
  g_test_minimized_result (seconds, "%d events queued, spooled and acknowledged in %.2f s "
                           "(%.0f events/s)", count, seconds, count / seconds);
  assert_logged_once_in_order (server, "perf", count);
  switch_free (sw);
  kefu_test_server_free (server);
}

/* --- the spool alone ------------------------------------------------------------------------ */

static void
test_spool_batches (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("kefu-spool-XXXXXX", &error);
  g_autofree char *id = NULL;
  KefuSpool *spool, *second;
  GPtrArray *items;
  gboolean recorded;

  g_assert_no_error (error);
  /* small files, to see them roll over and go */
  spool = kefu_spool_open (dir, 200, NULL, &error);
  g_assert_no_error (error);
  id = g_strdup (kefu_spool_get_id (spool));
  for (int n = 1; n <= 6; n++)
    {
      g_autofree char *event = g_strdup_printf ("{\"type\":\"call.ended\",\"call_id\":\"c%d\"}", n);
      uint64_t seq;

      g_assert_true (kefu_spool_append (spool, n == 5 ? KEFU_SPOOL_CALL : KEFU_SPOOL_EVENT, event,
                                        &seq, &error));
      g_assert_cmpuint (seq, ==, (guint) n);
    }

  /* a second switch on the same spool is refused */
  second = kefu_spool_open (dir, 200, NULL, &error);
  g_assert_null (second);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_BUSY);
  g_assert_nonnull (strstr (error->message, "in use by another kefu-switch"));
  g_clear_error (&error);

  /* events batch up to the next record of another kind */
  items = kefu_spool_peek (spool, 10, 1 << 20, &recorded, &error);
  g_assert_no_error (error);
  g_assert_false (recorded);
  g_assert_cmpuint (items->len, ==, 4);
  g_ptr_array_unref (items);
  items = kefu_spool_peek (spool, 3, 1 << 20, &recorded, &error);
  g_assert_cmpuint (items->len, ==, 3);
  g_ptr_array_unref (items);
  g_assert_true (kefu_spool_mark_batch (spool, 1, 3, &error));
  kefu_spool_free (spool);

  /* reopened: the batch sent comes back exactly as it was, however many fit */
  spool = kefu_spool_open (dir, 200, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (kefu_spool_get_id (spool), ==, id);
  g_assert_cmpuint (kefu_spool_pending (spool), ==, 6);
  items = kefu_spool_peek (spool, 100, 1 << 20, &recorded, &error);
  g_assert_true (recorded);
  g_assert_cmpuint (items->len, ==, 3);
  g_assert_cmpuint (((KefuSpoolItem *) g_ptr_array_index (items, 2))->seq, ==, 3);
  g_ptr_array_unref (items);
  g_assert_true (kefu_spool_ack (spool, 3, 3, &error));
  items = kefu_spool_peek (spool, 100, 1 << 20, &recorded, &error);
  g_assert_false (recorded);
  g_assert_cmpuint (items->len, ==, 1);
  g_assert_cmpuint (((KefuSpoolItem *) g_ptr_array_index (items, 0))->seq, ==, 4);
  g_ptr_array_unref (items);
  g_assert_true (kefu_spool_ack (spool, 4, 1, &error));
  items = kefu_spool_peek (spool, 100, 1 << 20, &recorded, &error);
  g_assert_cmpuint (items->len, ==, 1);
  g_assert_cmpint (((KefuSpoolItem *) g_ptr_array_index (items, 0))->kind, ==, KEFU_SPOOL_CALL);
  g_ptr_array_unref (items);
  g_assert_true (kefu_spool_ack (spool, 6, 2, &error));
  g_assert_cmpuint (kefu_spool_pending (spool), ==, 0);
  kefu_spool_free (spool);

  /* acked files are gone; numbering goes on after a reopen */
  spool = kefu_spool_open (dir, 200, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (kefu_spool_pending (spool), ==, 0);
  {
    g_autoptr(GDir) listing = g_dir_open (dir, 0, NULL);
    const char *name;
    guint segments = 0;

    while ((name = g_dir_read_name (listing)))
      segments += g_str_has_prefix (name, "spool-") && g_str_has_suffix (name, ".log");
    g_assert_cmpuint (segments, ==, 1);
  }
  {
    uint64_t seq;

    g_assert_true (kefu_spool_append (spool, KEFU_SPOOL_EVENT, "{}", &seq, &error));
    g_assert_cmpuint (seq, ==, 7);
  }
  kefu_spool_free (spool);
  {
    const char *argv[] = { "rm", "-rf", dir, NULL };

    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL,
                  NULL);
  }
}

/* Peeking what is owed across files, again and again until it is acked,
 * always starts at the oldest item owed. */
static void
test_spool_cursor (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("kefu-spool-XXXXXX", &error);
  KefuSpool *spool;
  GPtrArray *items;
  gboolean recorded;

  g_assert_no_error (error);
  spool = kefu_spool_open (dir, 150, NULL, &error);
  g_assert_no_error (error);
  for (int n = 1; n <= 6; n++)
    g_assert_true (kefu_spool_append (spool, KEFU_SPOOL_EVENT,
                                      "{\"type\":\"call.ended\",\"call_id\":\"c\"}", NULL,
                                      &error));
  items = kefu_spool_peek (spool, 2, 1 << 20, &recorded, &error);
  g_assert_cmpuint (items->len, ==, 2);
  g_ptr_array_unref (items);
  g_assert_true (kefu_spool_ack (spool, 2, 2, &error));
  /* more files, the newest starting with what was acked */
  for (int n = 7; n <= 12; n++)
    g_assert_true (kefu_spool_append (spool, KEFU_SPOOL_EVENT,
                                      "{\"type\":\"call.ended\",\"call_id\":\"c\"}", NULL,
                                      &error));
  for (int round = 0; round < 3; round++)
    {
      items = kefu_spool_peek (spool, 100, 1 << 20, &recorded, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (items->len, ==, 10);
      g_assert_cmpuint (((KefuSpoolItem *) g_ptr_array_index (items, 0))->seq, ==, 3);
      g_assert_cmpuint (((KefuSpoolItem *) g_ptr_array_index (items, 9))->seq, ==, 12);
      g_ptr_array_unref (items);
    }
  g_assert_true (kefu_spool_ack (spool, 12, 10, &error));
  items = kefu_spool_peek (spool, 100, 1 << 20, &recorded, &error);
  g_assert_cmpuint (items->len, ==, 0);
  g_ptr_array_unref (items);
  kefu_spool_free (spool);
  {
    const char *argv[] = { "rm", "-rf", dir, NULL };

    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL,
                  NULL);
  }
}

int
main (int    argc,
      char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  link_warnings = g_ptr_array_new_with_free_func (g_free);
  g_log_set_handler (LINK_DOMAIN, G_LOG_LEVEL_WARNING | G_LOG_FLAG_FATAL, on_link_warning, NULL);
  libre_init ();
  tmr_init (&wait_timeout);
  tmr_init (&wait_poll);

  g_test_add_func ("/switch/server-link/spool-batches", test_spool_batches);
  g_test_add_func ("/switch/server-link/spool-cursor", test_spool_cursor);
  g_test_add_func ("/switch/server-link/events-in-order", test_events_in_order);
  g_test_add_func ("/switch/server-link/call-record", test_call_record);
  g_test_add_func ("/switch/server-link/requests", test_requests);
  g_test_add_func ("/switch/server-link/callbacks", test_callbacks);
  g_test_add_func ("/switch/server-link/agent-state", test_agent_state);
  g_test_add_func ("/switch/server-link/server-restart", test_server_restart);
  g_test_add_func ("/switch/server-link/switch-restart", test_switch_restart);
  g_test_add_func ("/switch/server-link/unreachable", test_unreachable);
  g_test_add_func ("/switch/server-link/wrong-password", test_wrong_password);
  g_test_add_func ("/switch/server-link/corrupt-spool", test_corrupt_spool);
  g_test_add_func ("/switch/server-link/refused-items", test_refused_items);
  /* a measurement, not a check: only with -m perf */
  if (g_test_perf ())
    g_test_add_func ("/switch/server-link/throughput", test_throughput);
  status = g_test_run ();

  tmr_cancel (&wait_timeout);
  tmr_cancel (&wait_poll);
  libre_close ();
  g_ptr_array_unref (link_warnings);
  return status;
}
