/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The kefu-phone command line, run as a real process (KEFU_PHONE) against
 * sipp (SIPP) on 127.0.0.1: what a script sees on stdout (one JSON event a
 * line), what the peer sees on the wire, and the exit status.
 */
#define G_LOG_DOMAIN "TestCli"

#include "kefu-test-wait.h"
#include "config.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#define SIPP_TIMEOUT_S "30"

typedef struct {
  GPtrArray *children;          /* GSubprocess, killed at the end */
  GSubprocess *phone;           /* kefu-phone, also in children */
  GDataInputStream *phone_out;
  GPtrArray *events;            /* JsonObject, in the order printed */
  guint next_event;             /* events before it were taken by a wait */
  gboolean phone_out_eof;
} Fixture;

/* --- processes ------------------------------------------------------------ */

static GSubprocess *
spawn (Fixture *fx, GSubprocessFlags flags, const char *const *argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (flags);
  GSubprocess *proc;

  g_subprocess_launcher_set_child_setup (launcher, kefu_test_child_setup, NULL, NULL);
  proc = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  g_ptr_array_add (fx->children, g_object_ref (proc));

  return proc;
}

static guint16
free_udp_port (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) sock = NULL;
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  g_autoptr(GSocketAddress) bound = NULL;

  sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, 0, &error);
  g_assert_no_error (error);
  g_socket_bind (sock, any, FALSE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (sock, &error);
  g_assert_no_error (error);

  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

static char *
find_program (const char *env, const char *name, const char *hint)
{
  char *path = g_strdup (g_getenv (env));

  /* real peers are the point of these tests: without them they fail */
  if (!path)
    path = g_find_program_in_path (name);
  if (!path)
    g_error ("%s is missing: %s", name, hint);
  return path;
}

static char *
scenario_path (const char *scenario)
{
  const char *srcdir = g_getenv ("KEFU_SOURCE_DIR");

  return g_build_filename (srcdir ? srcdir : ".", "tests", "sip", scenario, NULL);
}

static GSubprocess *
start_sipp (Fixture *fx, const char *scenario, guint16 port, const char *const *extra)
{
  g_autofree char *sipp = find_program ("SIPP", "sipp", "install the Debian package sip-tester");
  g_autofree char *path = scenario_path (scenario);
  g_autofree char *port_s = g_strdup_printf ("%u", port);
  g_autofree char *mport_s = g_strdup_printf ("%u", kefu_test_free_media_port ());
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  const char *const fixed[] = {
    "-sf", path, "-i", "127.0.0.1", "-p", port_s, "-mp", mport_s, "-m", "1",
    "-nostdin", "-timeout", SIPP_TIMEOUT_S, "-timeout_error",
  };
  GSubprocess *proc;

  g_ptr_array_add (argv, sipp);
  for (gsize i = 0; i < G_N_ELEMENTS (fixed); i++)
    g_ptr_array_add (argv, (char *) fixed[i]);
  for (; extra && *extra; extra++)
    g_ptr_array_add (argv, (char *) *extra);
  g_ptr_array_add (argv, NULL);

  proc = spawn (fx, G_SUBPROCESS_FLAGS_STDOUT_SILENCE, (const char *const *) argv->pdata);
  /* let it bind before anyone sends to it */
  g_usleep (300 * 1000);
  return proc;
}

/* --- kefu-phone ------------------------------------------------------------ */

static void read_next_line (Fixture *fx);

static void
on_line_read (GObject *source, GAsyncResult *res, gpointer data)
{
  Fixture *fx = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *line = NULL;
  JsonNode *root;

  line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source), res, NULL,
                                                    &error);
  if (!line)
    {
      g_assert_no_error (error);
      fx->phone_out_eof = TRUE;
      return;
    }

  g_test_message ("kefu-phone: %s", line);
  /* every line is one JSON object: anything else is a bug */
  json_parser_load_from_data (parser, line, -1, &error);
  g_assert_no_error (error);
  root = json_parser_get_root (parser);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
  g_assert_nonnull (json_object_get_string_member_with_default (json_node_get_object (root),
                                                                "event", NULL));
  g_ptr_array_add (fx->events, json_object_ref (json_node_get_object (root)));

  read_next_line (fx);
}

static void
read_next_line (Fixture *fx)
{
  g_data_input_stream_read_line_async (fx->phone_out, G_PRIORITY_DEFAULT, NULL, on_line_read,
                                       fx);
}

/* kefu-phone with @args (NULL-terminated), stdin a pipe we write commands to */
static void
start_phone_argv (Fixture *fx, const char *const *args)
{
  g_autofree char *phone = find_program ("KEFU_PHONE", "kefu-phone", "build it with ninja");
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();

  g_ptr_array_add (argv, phone);
  for (; args && *args; args++)
    g_ptr_array_add (argv, (char *) *args);
  g_ptr_array_add (argv, NULL);

  fx->phone = spawn (fx, G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE,
                     (const char *const *) argv->pdata);
  fx->phone_out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (fx->phone));
  read_next_line (fx);
}

#define start_phone(fx, ...) start_phone_argv (fx, (const char *const[]) { __VA_ARGS__, NULL })

static void
send_command (Fixture *fx, const char *command)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *line = g_strconcat (command, "\n", NULL);

  g_output_stream_write_all (g_subprocess_get_stdin_pipe (fx->phone), line, strlen (line),
                             NULL, NULL, &error);
  g_assert_no_error (error);
}

typedef struct {
  Fixture *fx;
  const char *event;
  JsonObject *found;
} EventWait;

/* the next event named so, after those an earlier wait returned */
static gboolean
event_seen (gpointer data)
{
  EventWait *w = data;

  for (guint i = w->fx->next_event; i < w->fx->events->len; i++)
    {
      JsonObject *ev = w->fx->events->pdata[i];

      if (g_str_equal (json_object_get_string_member (ev, "event"), w->event))
        {
          w->fx->next_event = i + 1;
          w->found = ev;
          return TRUE;
        }
    }
  /* it will never come: fail now, not after the timeout */
  if (w->fx->phone_out_eof)
    g_error ("kefu-phone ended without printing “%s”", w->event);
  return FALSE;
}

static JsonObject *
wait_event (Fixture *fx, const char *event)
{
  EventWait w = { fx, event, NULL };
  g_autofree char *what = g_strdup_printf ("the “%s” event", event);

  kefu_test_run_until (event_seen, &w, what);
  return w.found;
}

static gboolean
has_event (Fixture *fx, const char *event)
{
  for (guint i = 0; i < fx->events->len; i++)
    if (g_str_equal (json_object_get_string_member (fx->events->pdata[i], "event"), event))
      return TRUE;
  return FALSE;
}

/* kefu-phone ended by itself, with status 0 */
static void
assert_phone_exit_ok (Fixture *fx)
{
  kefu_test_wait_exit (fx->phone, "kefu-phone to exit");
  g_assert_true (g_subprocess_get_if_exited (fx->phone));
  g_assert_cmpint (g_subprocess_get_exit_status (fx->phone), ==, 0);
  kefu_test_run_until (kefu_test_flag_set, &fx->phone_out_eof, "the end of kefu-phone's output");
}

static void
fixture_set_up (Fixture *fx, gconstpointer data)
{
  (void) data;
  fx->children = g_ptr_array_new_with_free_func (g_object_unref);
  fx->events = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
}

static void
fixture_tear_down (Fixture *fx, gconstpointer data)
{
  (void) data;
  for (guint i = 0; i < fx->children->len; i++)
    {
      GSubprocess *proc = fx->children->pdata[i];

      if (g_subprocess_get_identifier (proc))
        {
          g_subprocess_send_signal (proc, SIGKILL);
          kefu_test_wait_exit (proc, "a child to exit");
        }
    }
  /* the pending read ends with the pipe */
  if (fx->phone_out)
    kefu_test_run_until (kefu_test_flag_set, &fx->phone_out_eof, "the end of kefu-phone's output");
  g_clear_object (&fx->phone_out);
  g_clear_object (&fx->phone);
  g_ptr_array_unref (fx->children);
  g_ptr_array_unref (fx->events);
}

/* --- tests ------------------------------------------------------------------ */

/* The switch offers a queued call: the screen-pop headers reach the
 * script, --auto-answer answers, the customer's BYE closes the call. */
static void
test_incoming_screen_pop (Fixture *fx, gconstpointer data)
{
  guint16 port = free_udp_port ();
  g_autofree char *listen = g_strdup_printf ("127.0.0.1:%u", port);
  g_autofree char *target = g_strdup_printf ("127.0.0.1:%u", port);
  const char *const extra[] = { target, "-s", "agent", "-d", "500", NULL };
  g_autoptr(GSubprocess) sipp = NULL;
  JsonObject *ev;
  JsonObject *headers;

  start_phone (fx, "--listen", listen, "--auto-answer");
  ev = wait_event (fx, "ready");
  g_assert_cmpint (json_object_get_int_member (ev, "sip_port"), ==, port);

  sipp = start_sipp (fx, "uac-screen-pop.xml", free_udp_port (), extra);

  ev = wait_event (fx, "incoming");
  g_assert_cmpint (json_object_get_int_member (ev, "call"), >, 0);
  g_assert_true (g_str_has_prefix (json_object_get_string_member (ev, "from"), "sip:switch@"));
  g_assert_cmpstr (json_object_get_string_member (ev, "from_name"), ==, "Queue Sales");
  headers = json_object_get_object_member (ev, "headers");
  g_assert_nonnull (headers);
  g_assert_cmpstr (json_object_get_string_member (headers, "X-Kefu-Call"), ==, "4711");
  g_assert_cmpstr (json_object_get_string_member (headers, "X-Kefu-Queue"), ==, "sales");
  g_assert_cmpstr (json_object_get_string_member (headers, "X-Kefu-Customer"), ==, "C-1002");
  g_assert_cmpstr (json_object_get_string_member (headers, "X-Kefu-Ivr"), ==, "1>2");
  g_assert_cmpstr (json_object_get_string_member (headers, "X-Kefu-Wait"), ==, "37");

  ev = wait_event (fx, "established");
  g_assert_cmpstr (json_object_get_string_member (ev, "codec"), !=, "");
  g_assert_cmpint (json_object_get_int_member (ev, "telephone_event_pt"), ==, 120);

  ev = wait_event (fx, "closed");
  g_assert_cmpstr (json_object_get_string_member (ev, "reason"), ==, "remote hangup");
  kefu_test_assert_sipp_completed (sipp);

  send_command (fx, "quit");
  assert_phone_exit_ok (fx);
}

/* Commands from the arguments: dial, wait, hang up, quit; the far end
 * saw our BYE (sipp expects it). */
static void
test_dial_hangup (Fixture *fx, gconstpointer data)
{
  guint16 port = free_udp_port ();
  g_autoptr(GSubprocess) sipp = start_sipp (fx, "uas-answer.xml", port, NULL);
  g_autofree char *dial = g_strdup_printf ("dial sip:bob@127.0.0.1:%u", port);
  JsonObject *ev;
  gint64 call;

  start_phone (fx, dial, "wait established 20", "dtmf 12#", "stats", "hangup",
               "wait closed 20", "quit");
  ev = wait_event (fx, "dialing");
  call = json_object_get_int_member (ev, "call");
  ev = wait_event (fx, "ringing");
  g_assert_cmpint (json_object_get_int_member (ev, "call"), ==, call);
  g_assert_cmpint (json_object_get_int_member (ev, "code"), ==, 180);
  ev = wait_event (fx, "established");
  g_assert_cmpstr (json_object_get_string_member (ev, "codec"), ==, "PCMU");
  g_assert_cmpint (json_object_get_int_member (ev, "telephone_event_pt"), ==, 120);
  ev = wait_event (fx, "stats");
  g_assert_cmpint (json_object_get_int_member (ev, "call"), ==, call);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (ev, "stats"),
                                                  "codec"), ==, "PCMU");
  ev = wait_event (fx, "closed");
  g_assert_cmpint (json_object_get_int_member (ev, "call"), ==, call);
  g_assert_cmpstr (json_object_get_string_member (ev, "reason"), ==, "local hangup");

  assert_phone_exit_ok (fx);
  g_assert_false (has_event (fx, "error"));
  kefu_test_assert_sipp_completed (sipp);
}

/* Two kefu-phones: the codec they settle on is one whose audio flows (a
 * default offering a codec without an encoder made such calls silent),
 * and a digit one sends arrives at the other over RTP. */
static void
test_phone_to_phone (Fixture *fx, gconstpointer data)
{
  g_autofree char *phone = find_program ("KEFU_PHONE", "kefu-phone", "build it with ninja");
  guint16 port = free_udp_port ();
  g_autofree char *listen = g_strdup_printf ("127.0.0.1:%u", port);
  g_autofree char *dial = g_strdup_printf ("dial sip:bob@127.0.0.1:%u", port);
  const char *const callee_argv[] = {
    /* a second of audio first: its "wait" times out on purpose */
    phone, "--listen", listen, "--auto-answer", "wait established 20", "wait remote_hold 1",
    "dtmf 5", "wait closed 20", "quit", NULL
  };
  g_autoptr(GSubprocess) callee = spawn (fx, G_SUBPROCESS_FLAGS_STDOUT_SILENCE, callee_argv);
  JsonObject *ev;
  JsonObject *stats;

  /* the callee prints "ready" once it listens; give it the moment it needs
   * by dialling after our own start, and retry-free: SIP retransmits */
  start_phone (fx, "--listen", "127.0.0.1:0", dial, "wait established 20", "wait dtmf 20",
               "hangup", "wait closed 20", "quit");
  ev = wait_event (fx, "established");
  g_assert_cmpstr (json_object_get_string_member (ev, "codec"), ==, "PCMU");
  ev = wait_event (fx, "dtmf");
  g_assert_cmpstr (json_object_get_string_member (ev, "digit"), ==, "5");
  g_assert_cmpstr (json_object_get_string_member (ev, "mode"), ==, "rfc4733");
  ev = wait_event (fx, "closed");
  stats = json_object_get_object_member (ev, "stats");
  g_assert_cmpint (json_object_get_int_member (stats, "packets_received"), >, 0);
  g_assert_cmpint (json_object_get_int_member (stats, "packets_lost"), ==, 0);

  assert_phone_exit_ok (fx);
  g_assert_false (has_event (fx, "error"));
  kefu_test_wait_exit (callee, "the called kefu-phone to exit");
  g_assert_true (g_subprocess_get_successful (callee));
}

/* A busy far end: the call closes with its status code. */
static void
test_dial_busy (Fixture *fx, gconstpointer data)
{
  guint16 port = free_udp_port ();
  g_autoptr(GSubprocess) sipp = start_sipp (fx, "uas-reject.xml", port, NULL);
  g_autofree char *dial = g_strdup_printf ("dial sip:bob@127.0.0.1:%u", port);
  JsonObject *ev;

  start_phone (fx, "--dtmf", "rfc4733");
  wait_event (fx, "ready");
  send_command (fx, dial);
  ev = wait_event (fx, "closed");
  g_assert_cmpint (json_object_get_int_member (ev, "code"), ==, 486);
  g_assert_cmpstr (json_object_get_string_member (ev, "reason"), ==, "Busy Here");
  kefu_test_assert_sipp_completed (sipp);

  /* the end of stdin is like quit */
  g_output_stream_close (g_subprocess_get_stdin_pipe (fx->phone), NULL, NULL);
  assert_phone_exit_ok (fx);
}

/* An offered call the agent refuses: the switch gets 486. */
static void
test_incoming_reject (Fixture *fx, gconstpointer data)
{
  g_autoptr(GSubprocess) sipp = NULL;
  g_autofree char *target = NULL;
  JsonObject *ev;
  gint64 port;

  start_phone (fx, "--listen", "127.0.0.1:0");
  ev = wait_event (fx, "ready");
  port = json_object_get_int_member (ev, "sip_port");
  target = g_strdup_printf ("127.0.0.1:%" G_GINT64_FORMAT, port);
  sipp = start_sipp (fx, "uac-busy.xml", free_udp_port (),
                     (const char *const[]) { target, "-s", "agent", NULL });

  ev = wait_event (fx, "incoming");
  send_command (fx, "reject busy");
  ev = wait_event (fx, "closed");
  g_assert_cmpint (json_object_get_int_member (ev, "code"), ==, 486);
  kefu_test_assert_sipp_completed (sipp);

  send_command (fx, "quit");
  assert_phone_exit_ok (fx);
  g_assert_false (has_event (fx, "error"));
}

/* A PBX's OPTIONS ping is answered 200 with what the phone can do. */
static void
test_options_ping (Fixture *fx, gconstpointer data)
{
  g_autoptr(GSubprocess) sipp = NULL;
  g_autofree char *target = NULL;
  JsonObject *ev;

  start_phone (fx, "--listen", "127.0.0.1:0");
  ev = wait_event (fx, "ready");
  target = g_strdup_printf ("127.0.0.1:%" G_GINT64_FORMAT,
                            json_object_get_int_member (ev, "sip_port"));
  sipp = start_sipp (fx, "uac-options.xml", free_udp_port (),
                     (const char *const[]) { target, "-s", "agent", NULL });
  kefu_test_assert_sipp_completed (sipp);
  g_assert_false (has_event (fx, "incoming"));

  send_command (fx, "quit");
  assert_phone_exit_ok (fx);
}

/* quit while a call is up: the call is hung up (sipp expects the BYE). */
static void
test_quit_hangs_up (Fixture *fx, gconstpointer data)
{
  guint16 port = free_udp_port ();
  g_autoptr(GSubprocess) sipp = start_sipp (fx, "uas-answer.xml", port, NULL);
  g_autofree char *dial = g_strdup_printf ("dial sip:bob@127.0.0.1:%u", port);
  JsonObject *ev;

  start_phone (fx, "--listen", "127.0.0.1:0");
  ev = wait_event (fx, "ready");
  g_assert_cmpint (json_object_get_int_member (ev, "sip_port"), >, 0);
  send_command (fx, dial);
  wait_event (fx, "established");
  send_command (fx, "quit");
  assert_phone_exit_ok (fx);
  kefu_test_assert_sipp_completed (sipp);
  ev = wait_event (fx, "closed");
  g_assert_cmpstr (json_object_get_string_member (ev, "reason"), ==, "local hangup");
}

/* In a call, kefu-phone maps neither GIO nor GObject, nor what they load:
 * they were most of its memory beyond baresip's (bench/phone-call). */
static void
test_no_gio (Fixture *fx, gconstpointer data)
{
  guint16 port = free_udp_port ();
  g_autoptr(GSubprocess) sipp = start_sipp (fx, "uas-answer.xml", port, NULL);
  g_autofree char *dial = g_strdup_printf ("dial sip:bob@127.0.0.1:%u", port);
  g_autofree char *maps_path = NULL;
  g_autofree char *maps = NULL;
  g_autoptr(GError) error = NULL;
  const char *const unwanted[] = {
    "/libgio-2.0.so", "/libgobject-2.0.so", "/libffi.so", "/libmount.so", "/libselinux.so",
  };

  start_phone (fx, "--listen", "127.0.0.1:0", "--audio", "null");
  wait_event (fx, "ready");
  send_command (fx, dial);
  wait_event (fx, "established");

  maps_path = g_strdup_printf ("/proc/%s/maps", g_subprocess_get_identifier (fx->phone));
  g_file_get_contents (maps_path, &maps, NULL, &error);
  g_assert_no_error (error);
  for (gsize i = 0; i < G_N_ELEMENTS (unwanted); i++)
    if (strstr (maps, unwanted[i]))
      g_error ("kefu-phone maps %s:\n%s", unwanted[i], maps);

  send_command (fx, "quit");
  assert_phone_exit_ok (fx);
  kefu_test_assert_sipp_completed (sipp);
}

/* --account registers (digest); SIGTERM un-REGISTERs (sipp checks the
 * expires=0) and exits 0. */
static void
test_register_sigterm (Fixture *fx, gconstpointer data)
{
  guint16 port = free_udp_port ();
  g_autoptr(GSubprocess) sipp = start_sipp (fx, "registrar-digest.xml", port, NULL);
  g_autofree char *account =
    g_strdup_printf ("sip:1001@127.0.0.1;password=secret;dtmf=auto;registrar=sip:127.0.0.1:%u",
                     port);
  JsonObject *ev;

  start_phone (fx, "--account", account);
  ev = wait_event (fx, "registered");
  g_assert_cmpstr (json_object_get_string_member (ev, "account"), ==, "sip:1001@127.0.0.1");
  g_assert_cmpstr (json_object_get_string_member (ev, "registrar"), ==, "primary");
  g_assert_cmpint (json_object_get_int_member (ev, "code"), ==, 200);

  g_subprocess_send_signal (fx->phone, SIGTERM);
  assert_phone_exit_ok (fx);
  kefu_test_assert_sipp_completed (sipp);
}

static const char *
error_message (JsonObject *ev)
{
  return json_object_get_string_member (ev, "message");
}

/* Mistakes in commands are error events; the phone keeps running. */
static void
test_bad_commands (Fixture *fx, gconstpointer data)
{
  JsonObject *ev;

  start_phone (fx, "--audio", "null");
  wait_event (fx, "ready");

  send_command (fx, "foo bar");
  ev = wait_event (fx, "error");
  g_assert_cmpstr (error_message (ev), ==, "unknown command “foo”; try help");

  send_command (fx, "transfer sip:carol@127.0.0.1");
  ev = wait_event (fx, "error");
  g_assert_cmpstr (json_object_get_string_member (ev, "command"), ==, "transfer");
  g_assert_cmpstr (error_message (ev), ==, "there is no call to transfer");

  send_command (fx, "transfer carol");
  ev = wait_event (fx, "error");
  g_assert_cmpstr (error_message (ev), ==,
                   "transfer needs a SIP URI, e.g. transfer sip:2001@127.0.0.1:5090");

  send_command (fx, "hangup");
  ev = wait_event (fx, "error");
  g_assert_cmpstr (json_object_get_string_member (ev, "command"), ==, "hangup");
  g_assert_cmpstr (error_message (ev), ==, "there is no call to hangup");

  send_command (fx, "hangup 42");
  ev = wait_event (fx, "error");
  g_assert_cmpstr (error_message (ev), ==, "there is no call 42");

  send_command (fx, "dial bob");
  ev = wait_event (fx, "error");
  g_assert_cmpstr (json_object_get_string_member (ev, "command"), ==, "dial");

  /* a wait that times out says so, and the commands after it still run */
  send_command (fx, "wait incoming 1");
  send_command (fx, "help");
  ev = wait_event (fx, "error");
  g_assert_cmpstr (json_object_get_string_member (ev, "command"), ==, "wait");
  g_assert_nonnull (strstr (error_message (ev), "timed out"));
  wait_event (fx, "help");

  send_command (fx, "quit");
  assert_phone_exit_ok (fx);
}

/* Bad options: a message on stderr and exit status 2, before anything runs. */
static void
test_bad_options (Fixture *fx, gconstpointer data)
{
  g_autofree char *phone = find_program ("KEFU_PHONE", "kefu-phone", "build it with ninja");
  g_autoptr(GError) tmp_error = NULL;
  g_autofree char *not_wav = NULL;
  g_autofree char *not_wav_spec = NULL;
  int fd = g_file_open_tmp ("kefu-cli-XXXXXX.wav", &not_wav, &tmp_error);

  (void) data;
  /* readable, but not a WAV */
  g_assert_no_error (tmp_error);
  g_assert_cmpint (write (fd, "hello\n", 6), ==, 6);
  close (fd);
  not_wav_spec = g_strconcat ("file:", not_wav, ",out.wav", NULL);

  const struct {
    const char *option;
    const char *value;
    const char *says;
  } cases[] = {
    { "--dtmf", "morse", "--dtmf" },
    { "--account", "alice@127.0.0.1;password=x", "--account" },
    { "--account", "sip:alice@127.0.0.1", "password" },
    { "--account", "sip:alice@127.0.0.1;password=x;colour=red", "colour" },
    { "--account", "sip:alice@127.0.0.1;password=x;dtmf=morse", "dtmf" },
    { "--audio", "file:/nonexistent/in.wav,out.wav", "/nonexistent/in.wav" },
    { "--audio", "speaker", "--audio" },
    { "--audio", not_wav_spec, "cannot play" },
    { "--listen", "localhost:5080", "--listen" },
    { "--listen", "127.0.0.1", "--listen" },
    { "--listen", "127.0.0.1:", "--listen" },
    { "--listen", "127.0.0.1:65536", "--listen" },
    { "--listen", "127.0.0.1:50x", "--listen" },
    { "--listen", "[::1:5080", "--listen" },
    { "--listen", "[::1]5080", "--listen" },
    { "--no-such-option", NULL, "no-such-option" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *err_text = NULL;
      const char *argv[] = { phone, cases[i].option, cases[i].value, "quit", NULL };
      GSubprocess *proc;

      if (!cases[i].value)
        argv[2] = "quit", argv[3] = NULL;
      proc = spawn (fx, G_SUBPROCESS_FLAGS_STDERR_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE,
                    argv);
      g_subprocess_communicate_utf8 (proc, NULL, NULL, NULL, &err_text, &error);
      g_assert_no_error (error);
      g_test_message ("%s %s -> %s", cases[i].option, cases[i].value ? cases[i].value : "",
                      err_text);
      g_assert_true (g_subprocess_get_if_exited (proc));
      g_assert_cmpint (g_subprocess_get_exit_status (proc), ==, 2);
      g_assert_nonnull (strstr (err_text, cases[i].says));
      g_object_unref (proc);
    }
  g_unlink (not_wav);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/cli/incoming-screen-pop", Fixture, NULL, fixture_set_up,
              test_incoming_screen_pop, fixture_tear_down);
  g_test_add ("/cli/dial-hangup", Fixture, NULL, fixture_set_up, test_dial_hangup,
              fixture_tear_down);
  g_test_add ("/cli/dial-busy", Fixture, NULL, fixture_set_up, test_dial_busy,
              fixture_tear_down);
  g_test_add ("/cli/options-ping", Fixture, NULL, fixture_set_up, test_options_ping,
              fixture_tear_down);
  g_test_add ("/cli/phone-to-phone", Fixture, NULL, fixture_set_up, test_phone_to_phone,
              fixture_tear_down);
  g_test_add ("/cli/incoming-reject", Fixture, NULL, fixture_set_up, test_incoming_reject,
              fixture_tear_down);
  g_test_add ("/cli/quit-hangs-up", Fixture, NULL, fixture_set_up, test_quit_hangs_up,
              fixture_tear_down);
  g_test_add ("/cli/no-gio", Fixture, NULL, fixture_set_up, test_no_gio, fixture_tear_down);
  g_test_add ("/cli/register-sigterm", Fixture, NULL, fixture_set_up, test_register_sigterm,
              fixture_tear_down);
  g_test_add ("/cli/bad-commands", Fixture, NULL, fixture_set_up, test_bad_commands,
              fixture_tear_down);
  g_test_add ("/cli/bad-options", Fixture, NULL, fixture_set_up, test_bad_options,
              fixture_tear_down);

  return g_test_run ();
}
