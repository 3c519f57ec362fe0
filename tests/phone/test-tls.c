/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Accounts and calls over TCP and TLS, kefu-phone against kefu-phone and
 * against sipp (a TCP registrar; for TLS behind socat, as Debian's sipp has
 * no TLS), all on 127.0.0.1.  The certificate is made here with the
 * openssl command, self-signed for 127.0.0.1: trusted with --tls-ca, refused
 * without it.
 */
#define G_LOG_DOMAIN "TestTls"

#include "kefu-test-wait.h"
#include "config.h"

#include <signal.h>
#include <string.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

typedef struct {
  GSubprocess *proc;
  GDataInputStream *out;
  GPtrArray *events;            /* JsonObject */
  guint next_event;
  gboolean eof;
} Phone;

typedef struct {
  GPtrArray *children;          /* GSubprocess, killed at the end */
  Phone caller;
  Phone callee;
  char *dir;                    /* certificates */
  char *ca;                     /* the certificate alone: what a client trusts */
  char *server_pem;             /* certificate and key: what the server shows */
} Fixture;

/* (transfer none): fx->children holds it */
static GSubprocess *
spawn (Fixture *fx, GSubprocessFlags flags, const char *const *argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (flags);
  GSubprocess *proc;

  g_subprocess_launcher_set_child_setup (launcher, kefu_test_child_setup, NULL, NULL);
  proc = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  g_ptr_array_add (fx->children, proc);
  return proc;
}

static char *
find_program (const char *env, const char *name, const char *hint)
{
  char *path = g_strdup (g_getenv (env));

  if (!path)
    path = g_find_program_in_path (name);
  if (!path)
    g_error ("%s is missing: %s", name, hint);
  return path;
}

/* A free port P with P + 1 free too (kefu-phone --listen P takes TLS on
 * P + 1). */
static guint16
free_port_pair (void)
{
  for (int tries = 0; tries < 50; tries++)
    {
      g_autoptr(GSocket) a = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, 0, NULL);
      g_autoptr(GSocket) b = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, 0, NULL);
      g_autoptr(GSocket) u = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, 0, NULL);
      g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
      g_autoptr(GSocketAddress) any = g_inet_socket_address_new (lo, 0);
      g_autoptr(GSocketAddress) bound = NULL;
      g_autoptr(GSocketAddress) next = NULL;
      g_autoptr(GSocketAddress) same = NULL;
      guint16 port;

      if (!g_socket_bind (a, any, FALSE, NULL)
          || !(bound = g_socket_get_local_address (a, NULL)))
        continue;
      port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
      next = g_inet_socket_address_new (lo, port + 1);
      same = g_inet_socket_address_new (lo, port);
      if (port < 65535 && g_socket_bind (b, next, FALSE, NULL) && g_socket_bind (u, same, FALSE, NULL))
        return port;
    }
  g_error ("no two free ports in a row");
}

/* --- certificates --------------------------------------------------------- */

static void
make_certificate (Fixture *fx)
{
  g_autofree char *openssl = find_program ("OPENSSL", "openssl",
                                           "install the Debian package openssl");
  g_autofree char *key = g_build_filename (fx->dir, "key.pem", NULL);
  g_autofree char *cert_pem = NULL;
  g_autofree char *key_pem = NULL;
  g_autofree char *both = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc = NULL;

  fx->ca = g_build_filename (fx->dir, "cert.pem", NULL);
  fx->server_pem = g_build_filename (fx->dir, "server.pem", NULL);
  proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                           &error, openssl, "req", "-x509", "-newkey", "ec",
                           "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                           "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                           "-keyout", key, "-out", fx->ca, NULL);
  g_assert_no_error (error);
  g_subprocess_wait_check (proc, NULL, &error);
  g_assert_no_error (error);

  g_file_get_contents (fx->ca, &cert_pem, NULL, &error);
  g_assert_no_error (error);
  g_file_get_contents (key, &key_pem, NULL, &error);
  g_assert_no_error (error);
  both = g_strconcat (cert_pem, key_pem, NULL);
  g_file_set_contents (fx->server_pem, both, -1, &error);
  g_assert_no_error (error);
}

/* --- kefu-phone ------------------------------------------------------------ */

static void read_next_line (Phone *phone);

static void
on_line_read (GObject *source, GAsyncResult *res, gpointer data)
{
  Phone *phone = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *line = NULL;

  line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source), res, NULL,
                                                    &error);
  if (!line)
    {
      phone->eof = TRUE;
      return;
    }
  g_test_message ("kefu-phone %p: %s", (void *) phone, line);
  json_parser_load_from_data (parser, line, -1, &error);
  g_assert_no_error (error);
  g_ptr_array_add (phone->events,
                   json_object_ref (json_node_get_object (json_parser_get_root (parser))));
  read_next_line (phone);
}

static void
read_next_line (Phone *phone)
{
  g_data_input_stream_read_line_async (phone->out, G_PRIORITY_DEFAULT, NULL, on_line_read, phone);
}

static void
start_phone_argv (Fixture *fx, Phone *phone, const char *const *args)
{
  g_autofree char *path = find_program ("KEFU_PHONE", "kefu-phone", "build it with ninja");
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();

  g_ptr_array_add (argv, path);
  for (; args && *args; args++)
    g_ptr_array_add (argv, (char *) *args);
  g_ptr_array_add (argv, NULL);

  phone->events = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  phone->proc = g_object_ref (spawn (fx, G_SUBPROCESS_FLAGS_STDIN_PIPE
                                      | G_SUBPROCESS_FLAGS_STDOUT_PIPE,
                                      (const char *const *) argv->pdata));
  phone->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (phone->proc));
  read_next_line (phone);
}

#define start_phone(fx, phone, ...) \
  start_phone_argv (fx, phone, (const char *const[]) { __VA_ARGS__, NULL })

typedef struct {
  Phone *phone;
  const char *event;
  JsonObject *found;
} EventWait;

static gboolean
event_seen (gpointer data)
{
  EventWait *w = data;

  for (guint i = w->phone->next_event; i < w->phone->events->len; i++)
    {
      JsonObject *ev = w->phone->events->pdata[i];

      if (g_str_equal (json_object_get_string_member (ev, "event"), w->event))
        {
          w->phone->next_event = i + 1;
          w->found = ev;
          return TRUE;
        }
    }
  if (w->phone->eof)
    g_error ("kefu-phone ended without printing “%s”", w->event);
  return FALSE;
}

static JsonObject *
wait_event (Phone *phone, const char *event)
{
  EventWait w = { phone, event, NULL };

  kefu_test_run_until (event_seen, &w, event);
  return w.found;
}

static gboolean
has_event (Phone *phone, const char *event)
{
  for (guint i = 0; i < phone->events->len; i++)
    if (g_str_equal (json_object_get_string_member (phone->events->pdata[i], "event"), event))
      return TRUE;
  return FALSE;
}

static void
phone_clear (Phone *phone)
{
  if (phone->out)
    kefu_test_run_until (kefu_test_flag_set, &phone->eof, "the end of kefu-phone's output");
  g_clear_object (&phone->out);
  g_clear_object (&phone->proc);
  g_clear_pointer (&phone->events, g_ptr_array_unref);
}

/* --- fixture ---------------------------------------------------------------- */

static void
fixture_set_up (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  fx->children = g_ptr_array_new_with_free_func (g_object_unref);
  fx->dir = g_dir_make_tmp ("kefu-tls-XXXXXX", &error);
  g_assert_no_error (error);
  make_certificate (fx);
}

static void
remove_dir (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d && (name = g_dir_read_name (d)))
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      g_unlink (path);
    }
  g_rmdir (dir);
}

static void
fixture_tear_down (Fixture *fx, gconstpointer data)
{
  /* sipp and socat linger on SIGTERM */
  for (guint i = 0; i < fx->children->len; i++)
    {
      GSubprocess *proc = fx->children->pdata[i];

      if (g_subprocess_get_identifier (proc))
        {
          g_subprocess_send_signal (proc, SIGKILL);
          kefu_test_wait_exit (proc, "a child to exit");
        }
    }
  phone_clear (&fx->caller);
  phone_clear (&fx->callee);
  g_ptr_array_unref (fx->children);
  remove_dir (fx->dir);
  g_free (fx->dir);
  g_free (fx->ca);
  g_free (fx->server_pem);
}

/* --- tests ------------------------------------------------------------------ */

static void
start_callee (Fixture *fx, guint16 port)
{
  g_autofree char *listen = g_strdup_printf ("127.0.0.1:%u", port);
  JsonObject *ready;

  start_phone (fx, &fx->callee, "--listen", listen, "--tls-cert", fx->server_pem,
               "--auto-answer");
  ready = wait_event (&fx->callee, "ready");
  g_assert_cmpint (json_object_get_int_member (ready, "tcp_port"), ==, port);
  g_assert_cmpint (json_object_get_int_member (ready, "tls_port"), ==, port + 1);
}

/* sips: to a phone whose certificate we trust: the call is set up, talks
 * and ends over TLS */
static void
test_call_tls (Fixture *fx, gconstpointer data)
{
  guint16 port = free_port_pair ();
  g_autofree char *dial = g_strdup_printf ("dial sips:bob@127.0.0.1:%u", port + 1);
  JsonObject *ev;

  start_callee (fx, port);
  start_phone (fx, &fx->caller, "--listen", "127.0.0.1:0", "--tls-ca", fx->ca, dial,
               "wait established 20", "hangup", "wait closed 20", "quit");
  wait_event (&fx->callee, "incoming");
  ev = wait_event (&fx->caller, "established");
  g_assert_cmpstr (json_object_get_string_member (ev, "codec"), ==, "PCMU");
  wait_event (&fx->caller, "closed");
  wait_event (&fx->callee, "closed");
  kefu_test_wait_exit (fx->caller.proc, "the caller to exit");
  g_assert_true (g_subprocess_get_successful (fx->caller.proc));
}

/* the same without the CA: the caller refuses the certificate, so the
 * callee never sees an INVITE */
static void
test_call_tls_untrusted (Fixture *fx, gconstpointer data)
{
  guint16 port = free_port_pair ();
  g_autofree char *dial = g_strdup_printf ("dial sips:bob@127.0.0.1:%u", port + 1);

  start_callee (fx, port);
  start_phone (fx, &fx->caller, "--listen", "127.0.0.1:0", dial, "wait closed 20", "quit");
  wait_event (&fx->caller, "closed");
  g_assert_false (has_event (&fx->caller, "established"));
  g_assert_false (has_event (&fx->callee, "incoming"));
}

/* ;transport=tcp: a call over TCP */
static void
test_call_tcp (Fixture *fx, gconstpointer data)
{
  guint16 port = free_port_pair ();
  g_autofree char *dial = g_strdup_printf ("dial sip:bob@127.0.0.1:%u;transport=tcp", port);

  start_callee (fx, port);
  start_phone (fx, &fx->caller, "--listen", "127.0.0.1:0", dial, "wait established 20",
               "hangup", "wait closed 20", "quit");
  wait_event (&fx->callee, "incoming");
  wait_event (&fx->caller, "established");
  wait_event (&fx->caller, "closed");
  kefu_test_wait_exit (fx->caller.proc, "the caller to exit");
  g_assert_true (g_subprocess_get_successful (fx->caller.proc));
}

/* a TLS registrar: socat holds the TLS side with our certificate, sipp the
 * registrar behind it over TCP.  (transfer none): sipp */
static GSubprocess *
start_tls_registrar (Fixture *fx, guint16 tls_port)
{
  g_autofree char *sipp = find_program ("SIPP", "sipp", "install the Debian package sip-tester");
  g_autofree char *socat = find_program ("SOCAT", "socat", "install the Debian package socat");
  const char *srcdir = g_getenv ("KEFU_SOURCE_DIR");
  g_autofree char *scenario = g_build_filename (srcdir ? srcdir : ".", "tests", "sip",
                                                "registrar-digest.xml", NULL);
  guint16 sipp_port = free_port_pair ();
  g_autofree char *sipp_port_s = g_strdup_printf ("%u", sipp_port);
  g_autofree char *listen = g_strdup_printf ("OPENSSL-LISTEN:%u,bind=127.0.0.1,reuseaddr,fork,"
                                             "cert=%s,verify=0", tls_port, fx->server_pem);
  g_autofree char *connect = g_strdup_printf ("TCP:127.0.0.1:%u", sipp_port);
  const char *const sipp_argv[] = {
    sipp, "-sf", scenario, "-i", "127.0.0.1", "-p", sipp_port_s, "-t", "t1", "-m", "1",
    "-nostdin", "-timeout", "30", "-timeout_error", NULL
  };
  const char *const socat_argv[] = { socat, listen, connect, NULL };
  GSubprocess *registrar;

  registrar = spawn (fx, G_SUBPROCESS_FLAGS_STDOUT_SILENCE, sipp_argv);
  spawn (fx, G_SUBPROCESS_FLAGS_NONE, socat_argv);
  g_usleep (400 * 1000);  /* both listening */
  return registrar;
}

static void
test_register_tls (Fixture *fx, gconstpointer data)
{
  guint16 port = free_port_pair ();
  GSubprocess *sipp = start_tls_registrar (fx, port);
  g_autofree char *account = g_strdup_printf ("sip:1001@127.0.0.1;password=secret;"
                                              "registrar=sips:127.0.0.1:%u", port);
  JsonObject *ev;

  start_phone (fx, &fx->caller, "--account", account, "--tls-ca", fx->ca,
               "wait registered 20", "quit");
  ev = wait_event (&fx->caller, "registered");
  g_assert_cmpstr (json_object_get_string_member (ev, "transport"), ==, "tls");
  wait_event (&fx->caller, "unregistered");
  /* sipp saw the digest and the expires=0, through TLS */
  kefu_test_assert_sipp_completed (sipp);
}

static void
test_register_tls_untrusted (Fixture *fx, gconstpointer data)
{
  guint16 port = free_port_pair ();
  g_autofree char *account = g_strdup_printf ("sip:1001@127.0.0.1;password=secret;"
                                              "registrar=sip:127.0.0.1:%u;transport=tls", port);
  JsonObject *ev;
  const char *reason;

  start_tls_registrar (fx, port);
  start_phone (fx, &fx->caller, "--account", account, "wait registration_failed 20", "quit");
  ev = wait_event (&fx->caller, "registration_failed");
  reason = json_object_get_string_member (ev, "reason");
  g_assert_true (g_str_has_prefix (reason, "TLS: server certificate not trusted"));
  g_assert_cmpint (json_object_get_int_member (ev, "code"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (ev, "retry_in"), >, 0);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/phone/tls/call", Fixture, NULL, fixture_set_up, test_call_tls,
              fixture_tear_down);
  g_test_add ("/phone/tls/call-untrusted", Fixture, NULL, fixture_set_up,
              test_call_tls_untrusted, fixture_tear_down);
  g_test_add ("/phone/tls/call-tcp", Fixture, NULL, fixture_set_up, test_call_tcp,
              fixture_tear_down);
  g_test_add ("/phone/tls/register", Fixture, NULL, fixture_set_up, test_register_tls,
              fixture_tear_down);
  g_test_add ("/phone/tls/register-untrusted", Fixture, NULL, fixture_set_up,
              test_register_tls_untrusted, fixture_tear_down);

  return g_test_run ();
}
