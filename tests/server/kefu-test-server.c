/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuTestServer"

#include "config.h"

#include "kefu-test-server.h"
#include "kefu-db-pg.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>

static const char * const test_users[][2] = {
  { "agent", "agent" },
  { "agent2", "agent" },
  { "supervisor", "supervisor" },
  { "teamlead", "teamlead" },
  { "admin", "admin" },
  { "service", "service" },
};

static char *
server_binary (void)
{
  const char *build = g_getenv ("KEFU_BUILD_DIR");

  g_assert_nonnull (build);
  return g_build_filename (build, "src", "server", "kefu-server", NULL);
}

static void
reset_postgresql (const char *conninfo)
{
  g_autoptr(KefuDb) db = kefu_db_pg_new (conninfo);
  g_autoptr(GError) error = NULL;
  KefuDbConn *conn = kefu_db_acquire (db, &error);

  g_assert_no_error (error);
  /* Each test starts from an empty database, as a SQLite test does. */
  kefu_db_exec_script (conn, "DROP SCHEMA public CASCADE; CREATE SCHEMA public;", &error);
  g_assert_no_error (error);
  kefu_db_release (db, conn);
}

int
kefu_test_server_run_cli (KefuTestServer      *server,
                          const char * const  *args,
                          char               **out,
                          char               **err)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *stdout_text = NULL;
  g_autofree char *stderr_text = NULL;

  g_ptr_array_add (argv, server_binary ());
  g_ptr_array_add (argv, g_strdup ("--config"));
  g_ptr_array_add (argv, g_strdup (server->config_path));
  for (guint i = 0; args[i]; i++)
    g_ptr_array_add (argv, g_strdup (args[i]));
  g_ptr_array_add (argv, NULL);

  process = g_subprocess_newv ((const char * const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE |
                               G_SUBPROCESS_FLAGS_STDIN_PIPE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, "", NULL, &stdout_text, &stderr_text, &error);
  g_assert_no_error (error);
  if (out)
    *out = g_steal_pointer (&stdout_text);
  if (err)
    *err = g_steal_pointer (&stderr_text);
  return g_subprocess_get_if_exited (process) ? g_subprocess_get_exit_status (process) : -1;
}

/* A test that aborts must not leave its server running. */
static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

/* The server of the running test, for on_fatal_signal. */
static volatile sig_atomic_t server_pid;

static void
on_fatal_signal (int signum)
{
  /* A failed assertion ends this process; the server it started must not
   * live on, holding a port and a database. */
  if (server_pid > 0)
    kill ((pid_t) server_pid, SIGKILL);
  raise (signum);
}

void
kefu_test_kill_server_on_abort (void)
{
  struct sigaction action = { 0 };

  /* once: the handler's raise() then ends the process as it would have */
  action.sa_handler = on_fatal_signal;
  action.sa_flags = SA_RESETHAND;
  sigemptyset (&action.sa_mask);
  sigaction (SIGABRT, &action, NULL);
  sigaction (SIGSEGV, &action, NULL);
  sigaction (SIGTRAP, &action, NULL);
}

static void
spawn (KefuTestServer *server)
{
  g_autofree char *binary = server_binary ();
  g_autofree char *log_path = g_build_filename (server->dir, "server.log", NULL);
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr(GDataInputStream) lines = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  g_autofree char *listen = NULL;

  g_subprocess_launcher_set_stderr_file_path (launcher, log_path);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  /* Full stacks for the server, so tests/lsan.supp can name the libsoup
   * leak by the GLib function it comes through. */
  {
    const char *asan = g_getenv ("ASAN_OPTIONS");
    g_autofree char *options = g_strconcat (asan ? asan : "", asan ? ":" : "",
                                            "fast_unwind_on_malloc=0", NULL);

    g_subprocess_launcher_setenv (launcher, "ASAN_OPTIONS", options, TRUE);
  }
  /* Started again, it takes the port it had, so clients find it there. */
  if (server->url && strrchr (server->url, ':'))
    listen = g_strdup_printf ("127.0.0.1:%s", strrchr (server->url, ':') + 1);
  else
    listen = g_strdup ("127.0.0.1:0");
  server->process = g_subprocess_launcher_spawn (launcher, &error, binary, "--config",
                                                 server->config_path, "--listen", listen,
                                                 "serve", NULL);
  g_assert_no_error (error);
  server_pid = (sig_atomic_t) g_ascii_strtoll (g_subprocess_get_identifier (server->process),
                                               NULL, 10);

  /* The first line says where it listens. */
  lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (server->process));
  line = g_data_input_stream_read_line_utf8 (lines, NULL, NULL, &error);
  g_assert_no_error (error);
  if (!line || !g_str_has_prefix (line, "kefu-server listening on "))
    {
      g_autofree char *log = NULL;

      g_file_get_contents (log_path, &log, NULL, NULL);
      g_error ("kefu-server did not start: %s\n%s", line ? line : "(no output)", log ? log : "");
    }
  g_free (server->url);
  server->url = g_strndup (line + strlen ("kefu-server listening on "),
                           strcspn (line + strlen ("kefu-server listening on "), " "));
}

KefuTestServer *
kefu_test_server_start (const char *extra_config)
{
  KefuTestServer *server = g_new0 (KefuTestServer, 1);
  g_autoptr(GString) config = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  const char *backend = g_getenv ("KEFU_TEST_BACKEND");

  server->dir = g_dir_make_tmp ("kefu-test-XXXXXX", &error);
  g_assert_no_error (error);
  server->config_path = g_build_filename (server->dir, "kefu-server.conf", NULL);
  server->postgresql = g_strcmp0 (backend, "postgresql") == 0;

  g_string_append (config, "[server]\ntimezone = Asia/Shanghai\ndefault_country = CN\n"
                           "max_body_bytes = 65536\nmax_document_bytes = 1048576\n");
  if (server->postgresql)
    {
      const char *conninfo = g_getenv ("KEFU_TEST_PG");

      if (!conninfo)
        g_error ("KEFU_TEST_BACKEND=postgresql but KEFU_TEST_PG is not set: run through "
                 "tests/helpers/with-postgresql");
      reset_postgresql (conninfo);
      g_string_append_printf (config, "[store]\nbackend = postgresql\nconninfo = %s\n", conninfo);
    }
  else
    {
      g_autofree char *db = g_build_filename (server->dir, "kefu.db", NULL);

      g_string_append_printf (config, "[store]\nbackend = sqlite\npath = %s\n", db);
    }
  g_string_append (config, "[auth]\npassword_cost = minimum\nlogin_max_failures = 5\n"
                           "login_window_s = 60\n");
  if (extra_config)
    g_string_append (config, extra_config);
  g_file_set_contents (server->config_path, config->str, -1, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < G_N_ELEMENTS (test_users); i++)
    {
      const char *args[] = { "user", "add", test_users[i][0], "--role", test_users[i][1],
                             "--password", KEFU_TEST_PASSWORD, NULL };
      g_autofree char *err = NULL;
      int status = kefu_test_server_run_cli (server, args, NULL, &err);

      if (status != 0)
        g_error ("cannot add test user %s: %s", test_users[i][0], err);
    }

  server->session = soup_session_new_with_options ("timeout", 60, NULL);
  spawn (server);
  return server;
}

void
kefu_test_server_stop (KefuTestServer *server)
{
  g_autoptr(GError) error = NULL;

  if (!server->process)
    return;
  /* It exits here; a crash or a leak in it fails the test. */
  server_pid = 0;
  g_subprocess_send_signal (server->process, SIGTERM);
  g_subprocess_wait (server->process, NULL, &error);
  g_assert_no_error (error);
  /* A clean exit: no sanitizer report, no crash. */
  if (!g_subprocess_get_if_exited (server->process) ||
      g_subprocess_get_exit_status (server->process) != 0)
    {
      g_autofree char *log_path = g_build_filename (server->dir, "server.log", NULL);
      g_autofree char *log = NULL;

      g_file_get_contents (log_path, &log, NULL, NULL);
      g_error ("kefu-server did not exit cleanly:\n%s", log ? log : "");
    }
  g_clear_object (&server->process);
  /* Connections to the old process are dead. */
  soup_session_abort (server->session);
}

void
kefu_test_server_start_again (KefuTestServer *server)
{
  g_assert_null (server->process);
  spawn (server);
}

void
kefu_test_server_restart (KefuTestServer *server)
{
  kefu_test_server_stop (server);
  spawn (server);
}

void
kefu_test_remove_tree (const char *dir)
{
  const char *argv[] = { "rm", "-rf", dir, NULL };

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL,
                NULL);
}

void
kefu_test_server_free (KefuTestServer *server)
{
  g_autofree char *rm_argv = NULL;

  if (!server)
    return;
  kefu_test_server_stop (server);
  g_clear_object (&server->session);
  kefu_test_remove_tree (server->dir);
  g_free (server->dir);
  g_free (server->config_path);
  g_free (server->url);
  g_free (server);
}

KefuTestResponse *
kefu_test_request_full (KefuTestServer      *server,
                        const char          *method,
                        const char          *path,
                        const char          *token,
                        const char          *content_type,
                        const char          *body,
                        gsize                body_length,
                        const char * const  *headers)
{
  g_autofree char *uri = g_strconcat (server->url, path, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new (method, uri);
  g_autoptr(GBytes) reply = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  KefuTestResponse *response = g_new0 (KefuTestResponse, 1);
  SoupMessageHeaders *request_headers;

  g_assert_nonnull (msg);
  request_headers = soup_message_get_request_headers (msg);
  if (token)
    {
      g_autofree char *value = g_strconcat ("Bearer ", token, NULL);

      soup_message_headers_replace (request_headers, "Authorization", value);
    }
  for (guint i = 0; headers && headers[i] && headers[i + 1]; i += 2)
    soup_message_headers_replace (request_headers, headers[i], headers[i + 1]);
  if (body)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (body, body_length);

      soup_message_set_request_body_from_bytes (msg, content_type, bytes);
    }

  reply = soup_session_send_and_read (server->session, msg, NULL, &error);
  g_assert_no_error (error);
  response->status = soup_message_get_status (msg);
  response->headers = soup_message_headers_ref (soup_message_get_response_headers (msg));
  response->body = g_strndup (g_bytes_get_data (reply, NULL), g_bytes_get_size (reply));
  response->length = g_bytes_get_size (reply);
  if (response->length && json_parser_load_from_data (parser, response->body, response->length, NULL))
    response->json = json_node_copy (json_parser_get_root (parser));
  return response;
}

KefuTestResponse *
kefu_test_request (KefuTestServer *server,
                   const char     *method,
                   const char     *path,
                   const char     *token,
                   const char     *json)
{
  return kefu_test_request_full (server, method, path, token,
                                 json ? "application/json" : NULL, json,
                                 json ? strlen (json) : 0, NULL);
}

KefuTestResponse *
kefu_test_request_expect (KefuTestServer *server,
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

void
kefu_test_response_free (KefuTestResponse *response)
{
  if (!response)
    return;
  g_free (response->body);
  g_clear_pointer (&response->json, json_node_unref);
  g_clear_pointer (&response->headers, soup_message_headers_unref);
  g_free (response);
}

JsonObject *
kefu_test_response_object (KefuTestResponse *response)
{
  if (!response->json || !JSON_NODE_HOLDS_OBJECT (response->json))
    g_error ("expected a JSON object, got (status %u): %s", response->status, response->body);
  return json_node_get_object (response->json);
}

const char *
kefu_test_error_code (KefuTestResponse *response)
{
  JsonObject *object = kefu_test_response_object (response);

  if (!json_object_has_member (object, "error"))
    return NULL;
  return json_object_get_string_member (json_object_get_object_member (object, "error"), "code");
}

char *
kefu_test_login (KefuTestServer *server,
                 const char     *username)
{
  g_autofree char *body = g_strdup_printf ("{\"username\": \"%s\", \"password\": \"%s\"}",
                                           username, KEFU_TEST_PASSWORD);
  g_autoptr(KefuTestResponse) response = kefu_test_request (server, "POST", "/v1/sessions", NULL,
                                                            body);

  if (response->status != 201)
    g_error ("login as %s failed (%u): %s", username, response->status, response->body);
  return g_strdup (json_object_get_string_member (kefu_test_response_object (response), "token"));
}

/* --- the event stream ------------------------------------------------------------------ */

static gboolean
on_wait_timeout (gpointer user_data)
{
  gboolean *timed_out = user_data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

void
kefu_test_wait_until (KefuTestCondition  cond,
                      gpointer           data,
                      const char        *what)
{
  gboolean timed_out = FALSE;
  guint timeout_id = g_timeout_add (KEFU_TEST_WAIT_MS, on_wait_timeout, &timed_out);

  while (!cond (data) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (timed_out)
    g_error ("waited %d ms for %s", KEFU_TEST_WAIT_MS, what);
  g_source_remove (timeout_id);
}

typedef struct {
  GMainLoop               *loop;
  SoupWebsocketConnection *connection;
  GError                  *error;
  gboolean                 done;
} Connecting;

static void
on_ws_message (SoupWebsocketConnection *connection,
               gint                     type,
               GBytes                  *message,
               gpointer                 user_data)
{
  KefuTestSubscriber *subscriber = user_data;
  gsize len;
  const char *data = g_bytes_get_data (message, &len);

  g_assert_cmpint (type, ==, SOUP_WEBSOCKET_DATA_TEXT);
  g_ptr_array_add (subscriber->messages, g_strndup (data, len));
}

static void
on_ws_closed (SoupWebsocketConnection *connection,
              gpointer                 user_data)
{
  KefuTestSubscriber *subscriber = user_data;

  subscriber->closed = TRUE;
}

static void
on_ws_connected (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Connecting *connecting = user_data;

  connecting->connection = soup_session_websocket_connect_finish (SOUP_SESSION (source), result,
                                                                  &connecting->error);
  connecting->done = TRUE;
  g_main_loop_quit (connecting->loop);
}

static gboolean
on_loop_timeout (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

KefuTestSubscriber *
kefu_test_subscribe_full (KefuTestServer *server,
                          SoupSession    *session,
                          const char     *token,
                          gboolean        token_in_query,
                          guint          *out_status)
{
  g_autofree char *uri = token && token_in_query
                         ? g_strdup_printf ("%s/v1/events/stream?token=%s", server->url, token)
                         : g_strdup_printf ("%s/v1/events/stream", server->url);
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", uri);
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  Connecting connecting = { loop, NULL, NULL, FALSE };
  KefuTestSubscriber *subscriber;
  guint timeout_id;

  if (token && !token_in_query)
    {
      g_autofree char *value = g_strconcat ("Bearer ", token, NULL);

      soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", value);
    }
  soup_session_websocket_connect_async (session, msg, NULL, NULL, G_PRIORITY_DEFAULT, NULL,
                                        on_ws_connected, &connecting);
  timeout_id = g_timeout_add (KEFU_TEST_WAIT_MS, on_loop_timeout, loop);
  g_main_loop_run (loop);
  if (!connecting.done)
    g_error ("the WebSocket handshake did not finish within %d ms", KEFU_TEST_WAIT_MS);
  g_source_remove (timeout_id);

  if (out_status)
    *out_status = soup_message_get_status (msg);
  if (!connecting.connection)
    {
      g_test_message ("WebSocket refused: %s", connecting.error->message);
      g_clear_error (&connecting.error);
      return NULL;
    }
  subscriber = g_new0 (KefuTestSubscriber, 1);
  subscriber->connection = connecting.connection;
  subscriber->messages = g_ptr_array_new_with_free_func (g_free);
  g_signal_connect (subscriber->connection, "message", G_CALLBACK (on_ws_message), subscriber);
  g_signal_connect (subscriber->connection, "closed", G_CALLBACK (on_ws_closed), subscriber);
  return subscriber;
}

KefuTestSubscriber *
kefu_test_subscribe (KefuTestServer *server,
                     SoupSession    *session,
                     const char     *token)
{
  guint status = 0;
  KefuTestSubscriber *subscriber = kefu_test_subscribe_full (server, session, token, FALSE,
                                                             &status);

  if (!subscriber)
    g_error ("the event stream refused the subscriber (HTTP %u)", status);
  return subscriber;
}

static gboolean
subscriber_closed (gpointer data)
{
  return ((KefuTestSubscriber *) data)->closed;
}

void
kefu_test_unsubscribe (KefuTestSubscriber *subscriber)
{
  if (!subscriber)
    return;
  if (soup_websocket_connection_get_state (subscriber->connection) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (subscriber->connection, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  if (!subscriber->closed)
    kefu_test_wait_until (subscriber_closed, subscriber, "the WebSocket to close");
  g_signal_handlers_disconnect_by_data (subscriber->connection, subscriber);
  g_object_unref (subscriber->connection);
  g_ptr_array_unref (subscriber->messages);
  g_free (subscriber);
}
