/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Bad input to the softphone: kefu-phone (KEFU_PHONE) as a real process on
 * 127.0.0.1, fed malformed SIP, SDP it cannot use, garbage DTMF INFO,
 * nonsense REFER and NOTIFY bodies, and garbage RTP and RTCP, over raw UDP
 * (and a little TCP) sockets that play the far end; one case runs the call
 * engine in-process to see the strings it hands the UI.  Each case expects
 * what a peer or a user would see: a final SIP error (never a ringing phone
 * or a 202), no event for what was refused, the call still up and its
 * audio still flowing, and at the end a clean exit (status 0; under ASan
 * no leak report).
 *
 * Random input comes from a fixed seed, printed; KEFU_TEST_SEED replays
 * another one.
 */
#define G_LOG_DOMAIN "TestBadInput"

#include "kefu-test-wait.h"
#include "kefu-test-peer.h"
#include "config.h"

#include <signal.h>
#include <string.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "kefu-call-session.h"
#include "kefu-phone-loop.h"
#include "kefu-registration.h"

#define DEFAULT_SEED 20261125u
#define RESPONSE_WAIT_MS 5000
#define SILENCE_MS 300          /* how long "no answer" is watched for */
#define RTP_PT_PCMU 0
#define TELEV_PT 101            /* what our offers say */
#define SIP_TRANSP_UDP 0        /* libre's enum sip_transp */

typedef struct {
  const char *name;             /* for messages */
  GSubprocess *proc;
  GDataInputStream *out;
  GPtrArray *events;            /* JsonObject, in the order printed */
  guint next_event;             /* events before it were taken by a wait */
  gboolean eof;
} Phone;

typedef struct {
  GPtrArray *children;          /* GSubprocess, killed at the end */
  GPtrArray *phones;            /* Phone */
  GRand *rand;
} Fixture;

/* The far end, played on a raw UDP socket. */
typedef struct {
  GSocket *sock;
  guint16 port;
  GSocketAddress *phone_addr;
  guint16 phone_port;
  guint branches;
  GPtrArray *requests;          /* char *: requests the phone sent us */
} Peer;

/* One dialog (or one out-of-dialog request) from the peer's side. */
typedef struct {
  char *call_id;
  char *from_tag;
  char *to_tag;                 /* the phone's, once it answered */
  guint cseq;
} Dialog;

/* --- processes ------------------------------------------------------------- */

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

static char *
find_phone (void)
{
  char *path = g_strdup (g_getenv ("KEFU_PHONE"));

  if (!path)
    path = g_find_program_in_path ("kefu-phone");
  if (!path)
    g_error ("kefu-phone is missing: build it with ninja");
  return path;
}

static void read_next_line (Phone *ph);

static void
on_line_read (GObject *source, GAsyncResult *res, gpointer data)
{
  Phone *ph = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *line = NULL;
  JsonNode *root;

  line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source), res, NULL,
                                                    &error);
  if (!line)
    {
      /* invalid UTF-8 on stdout fails here too */
      g_assert_no_error (error);
      ph->eof = TRUE;
      return;
    }

  g_test_message ("%s: %s", ph->name, line);
  json_parser_load_from_data (parser, line, -1, &error);
  g_assert_no_error (error);
  root = json_parser_get_root (parser);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
  g_ptr_array_add (ph->events, json_object_ref (json_node_get_object (root)));

  read_next_line (ph);
}

static void
read_next_line (Phone *ph)
{
  g_data_input_stream_read_line_async (ph->out, G_PRIORITY_DEFAULT, NULL, on_line_read, ph);
}

static void
phone_free (gpointer data)
{
  Phone *ph = data;

  g_clear_object (&ph->out);
  g_clear_object (&ph->proc);
  g_ptr_array_unref (ph->events);
  g_free (ph);
}

/* kefu-phone with @args (NULL-terminated); commands go to its stdin */
static Phone *
start_phone_argv (Fixture *fx, const char *name, const char *const *args)
{
  g_autofree char *path = find_phone ();
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  Phone *ph = g_new0 (Phone, 1);

  g_ptr_array_add (argv, path);
  for (; args && *args; args++)
    g_ptr_array_add (argv, (char *) *args);
  g_ptr_array_add (argv, NULL);

  ph->name = name;
  ph->events = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  ph->proc = spawn (fx, G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE,
                    (const char *const *) argv->pdata);
  ph->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (ph->proc));
  g_ptr_array_add (fx->phones, ph);
  read_next_line (ph);

  return ph;
}

static void
send_command (Phone *ph, const char *command)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *line = g_strconcat (command, "\n", NULL);

  g_output_stream_write_all (g_subprocess_get_stdin_pipe (ph->proc), line, strlen (line),
                             NULL, NULL, &error);
  g_assert_no_error (error);
}

static const char *
event_name (JsonObject *ev)
{
  return json_object_get_string_member_with_default (ev, "event", "");
}

typedef struct {
  Phone *ph;
  const char *event;
  JsonObject *found;
} EventWait;

static gboolean
event_seen (gpointer data)
{
  EventWait *w = data;

  for (guint i = w->ph->next_event; i < w->ph->events->len; i++)
    {
      JsonObject *ev = w->ph->events->pdata[i];

      if (g_str_equal (event_name (ev), w->event))
        {
          w->ph->next_event = i + 1;
          w->found = ev;
          return TRUE;
        }
    }
  if (w->ph->eof)
    g_error ("%s ended without printing “%s”", w->ph->name, w->event);
  return FALSE;
}

/* The next event so named, after those an earlier wait took. */
static JsonObject *
wait_event (Phone *ph, const char *event)
{
  EventWait w = { ph, event, NULL };
  g_autofree char *what = g_strdup_printf ("the “%s” event of %s", event, ph->name);

  kefu_test_run_until (event_seen, &w, what);
  return w.found;
}

/* Events in @events (JsonObject) from index @from on, named @event. */
static guint
count_json_events_from (GPtrArray *events, guint from, const char *event)
{
  guint n = 0;

  for (guint i = from; i < events->len; i++)
    if (g_str_equal (event_name (events->pdata[i]), event))
      n++;
  return n;
}

#define count_json_events(events, event) count_json_events_from (events, 0, event)

/* Events the phone printed from index @from on, named @event. */
static guint
count_events_since (Phone *ph, guint from, const char *event)
{
  return count_json_events_from (ph->events, from, event);
}

/* Everything the phone thread posted before now has been printed: the
 * answer to a command comes after the events queued ahead of it. */
static void
sync_events (Phone *ph)
{
  send_command (ph, "help");
  wait_event (ph, "help");
}

/* The phone answers the `stats` of a call that is still up. */
static JsonObject *
call_stats (Phone *ph, gint64 call)
{
  g_autofree char *cmd = g_strdup_printf ("stats %" G_GINT64_FORMAT, call);
  JsonObject *ev;

  send_command (ph, cmd);
  ev = wait_event (ph, "stats");
  g_assert_cmpint (json_object_get_int_member (ev, "call"), ==, call);
  return json_object_get_object_member (ev, "stats");
}

static void
assert_alive (Phone *ph)
{
  g_assert_nonnull (g_subprocess_get_identifier (ph->proc));
  g_assert_false (ph->eof);
}

/* quit, then status 0: under ASan that also means no leak report */
static void
quit_phone (Phone *ph)
{
  send_command (ph, "quit");
  kefu_test_wait_exit (ph->proc, "kefu-phone to exit");
  g_assert_true (g_subprocess_get_if_exited (ph->proc));
  g_assert_cmpint (g_subprocess_get_exit_status (ph->proc), ==, 0);
  kefu_test_run_until (kefu_test_flag_set, &ph->eof, "the end of kefu-phone's output");
}

/* --- raw UDP ---------------------------------------------------------------- */

static GSocket *
udp_socket (guint16 *port)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  GSocket *sock;

  sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, 0, &error);
  g_assert_no_error (error);
  g_socket_bind (sock, any, FALSE, &error);
  g_assert_no_error (error);
  g_socket_set_blocking (sock, FALSE);
  bound = g_socket_get_local_address (sock, &error);
  g_assert_no_error (error);
  *port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));

  return sock;
}

static GSocketAddress *
loopback (guint16 port)
{
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);

  return g_inet_socket_address_new (lo, port);
}

static void
udp_send (GSocket *sock, GSocketAddress *to, const void *data, gsize len)
{
  g_autoptr(GError) error = NULL;
  gssize sent = g_socket_send_to (sock, to, data, len, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpint (sent, ==, (gssize) len);
}

/* One datagram within @timeout_ms (NULL if none), the main context kept
 * running meanwhile so the phones' output is read. */
static GBytes *
udp_recv (GSocket *sock, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  static char buf[70000];

  for (;;)
    {
      g_autoptr(GError) error = NULL;
      gssize n = g_socket_receive (sock, buf, sizeof buf, NULL, &error);

      if (n >= 0)
        return g_bytes_new (buf, (gsize) n);
      g_assert_true (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK));
      if (g_get_monotonic_time () >= deadline)
        return NULL;
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_socket_condition_timed_wait (sock, G_IO_IN, 5000, NULL, NULL);
    }
}

/* Datagrams waiting on @sock, dropped; how many. */
static guint
udp_drain (GSocket *sock)
{
  g_autoptr(GBytes) pkt = NULL;
  guint n = 0;

  while ((pkt = udp_recv (sock, 0)))
    {
      g_clear_pointer (&pkt, g_bytes_unref);
      n++;
    }
  return n;
}

/* --- SIP messages, as text -------------------------------------------------- */

/* "\n" line ends to SIP's "\r\n" */
static char *
crlf (const char *text)
{
  GString *out = g_string_new (NULL);

  for (const char *p = text; *p; p++)
    {
      if (*p == '\n' && (p == text || p[-1] != '\r'))
        g_string_append_c (out, '\r');
      g_string_append_c (out, *p);
    }
  return g_string_free (out, FALSE);
}

/* The status code of a response, 0 for a request. */
static guint
msg_status (const char *msg)
{
  if (!g_str_has_prefix (msg, "SIP/2.0 "))
    return 0;
  return (guint) g_ascii_strtoull (msg + 8, NULL, 10);
}

static char *
msg_first_line (const char *msg)
{
  return g_strndup (msg, strcspn (msg, "\r\n"));
}

/* The value of the first header called @name (case-insensitive), or NULL */
static char *
msg_header (const char *msg, const char *name)
{
  gsize nlen = strlen (name);
  const char *end = strstr (msg, "\r\n\r\n");

  for (const char *line = strstr (msg, "\r\n"); line && (!end || line < end);
       line = strstr (line + 2, "\r\n"))
    {
      const char *h = line + 2;

      if (g_ascii_strncasecmp (h, name, nlen) == 0 && h[nlen] == ':')
        {
          const char *v = h + nlen + 1;

          while (*v == ' ' || *v == '\t')
            v++;
          return g_strndup (v, strcspn (v, "\r\n"));
        }
    }
  return NULL;
}

/* ;tag= of a From or To value, or NULL */
static char *
tag_of (const char *value)
{
  const char *t = value ? strstr (value, ";tag=") : NULL;

  return t ? g_strndup (t + 5, strcspn (t + 5, ";> \r\n")) : NULL;
}

/* @msg without its first header line called @name */
static char *
without_header (const char *msg, const char *name)
{
  g_autofree char *needle = g_strdup_printf ("\r\n%s:", name);
  const char *h = strstr (msg, needle);
  const char *next;
  g_autofree char *before = NULL;

  g_assert_nonnull (h);
  next = strstr (h + 2, "\r\n");
  before = g_strndup (msg, (gsize) (h - msg));
  return g_strconcat (before, next, NULL);
}

static char *
replace (const char *text, const char *old, const char *new)
{
  g_auto(GStrv) parts = g_strsplit (text, old, -1);

  g_assert_cmpuint (g_strv_length (parts), >, 1);
  return g_strjoinv (new, parts);
}

/* --- the peer --------------------------------------------------------------- */

static Peer *
peer_new (guint16 phone_port)
{
  Peer *peer = g_new0 (Peer, 1);

  peer->sock = udp_socket (&peer->port);
  peer->phone_port = phone_port;
  peer->phone_addr = loopback (phone_port);
  peer->requests = g_ptr_array_new_with_free_func (g_free);
  return peer;
}

static void
peer_free (Peer *peer)
{
  g_object_unref (peer->sock);
  g_object_unref (peer->phone_addr);
  g_ptr_array_unref (peer->requests);
  g_free (peer);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Peer, peer_free)

static Dialog *
dialog_new (Fixture *fx)
{
  Dialog *dlg = g_new0 (Dialog, 1);

  dlg->call_id = g_strdup_printf ("%08x-bad-input@127.0.0.1", g_rand_int (fx->rand));
  dlg->from_tag = g_strdup_printf ("%x", g_rand_int (fx->rand));
  dlg->cseq = 1;
  return dlg;
}

static void
dialog_free (Dialog *dlg)
{
  g_free (dlg->call_id);
  g_free (dlg->from_tag);
  g_free (dlg->to_tag);
  g_free (dlg);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Dialog, dialog_free)

static void
peer_send (Peer *peer, const char *msg)
{
  udp_send (peer->sock, peer->phone_addr, msg, strlen (msg));
}

/* A request from the peer in @dlg (its next CSeq), the Via branch in
 * *branch.  @extra: header lines, each ending in "\n"; @body with
 * @ctype, or NULL. */
static char *
sip_request (Peer *peer, Dialog *dlg, const char *method, const char *extra,
             const char *ctype, const char *body, char **branch)
{
  g_autofree char *crlf_body = crlf (body ? body : "");
  g_autofree char *head = NULL;
  g_autofree char *crlf_head = NULL;
  guint cseq = g_str_equal (method, "ACK") ? dlg->cseq - 1 : dlg->cseq++;

  *branch = g_strdup_printf ("z9hG4bK-bad-input-%u", ++peer->branches);
  head = g_strdup_printf ("%s sip:kefu@127.0.0.1:%u SIP/2.0\n"
                          "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=%s;rport\n"
                          "From: \"Tester\" <sip:tester@127.0.0.1:%u>;tag=%s\n"
                          "To: <sip:kefu@127.0.0.1:%u>%s%s\n"
                          "Call-ID: %s\n"
                          "CSeq: %u %s\n"
                          "Contact: <sip:tester@127.0.0.1:%u>\n"
                          "Max-Forwards: 70\n"
                          "%s"
                          "%s%s%s"
                          "Content-Length: %zu\n"
                          "\n",
                          method, peer->phone_port, peer->port, *branch, peer->port,
                          dlg->from_tag, peer->phone_port, dlg->to_tag ? ";tag=" : "",
                          dlg->to_tag ? dlg->to_tag : "", dlg->call_id, cseq, method,
                          peer->port, extra ? extra : "", ctype ? "Content-Type: " : "",
                          ctype ? ctype : "", ctype ? "\n" : "", strlen (crlf_body));
  crlf_head = crlf (head);
  return g_strconcat (crlf_head, crlf_body, NULL);
}

/* A response to @req, a request from the phone. */
static char *
sip_response (const char *req, guint code, const char *reason)
{
  g_autofree char *via = msg_header (req, "Via");
  g_autofree char *from = msg_header (req, "From");
  g_autofree char *to = msg_header (req, "To");
  g_autofree char *call_id = msg_header (req, "Call-ID");
  g_autofree char *cseq = msg_header (req, "CSeq");

  return g_strdup_printf ("SIP/2.0 %u %s\r\nVia: %s\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\n"
                          "CSeq: %s\r\nContent-Length: 0\r\n\r\n",
                          code, reason, via, from, to, call_id, cseq);
}

static gboolean
is_response_to (const char *msg, const char *branch)
{
  g_autofree char *via = msg_header (msg, "Via");

  return msg_status (msg) && via && branch && strstr (via, branch);
}

/* Takes one message within @timeout_ms: a response is returned; a request
 * from the phone is kept in peer->requests (NOTIFY and BYE answered 200
 * at once, like a phone would) and NULL returned. */
static char *
peer_recv (Peer *peer, guint timeout_ms, gboolean *got)
{
  g_autoptr(GBytes) pkt = udp_recv (peer->sock, timeout_ms);
  char *msg;

  *got = pkt != NULL;
  if (!pkt)
    return NULL;
  msg = g_strndup (g_bytes_get_data (pkt, NULL), g_bytes_get_size (pkt));
  if (msg_status (msg))
    return msg;

  {
    g_autofree char *line = msg_first_line (msg);

    g_test_message ("peer got: %s", line);
  }
  if (g_str_has_prefix (msg, "NOTIFY ") || g_str_has_prefix (msg, "BYE "))
    {
      g_autofree char *ok = sip_response (msg, 200, "OK");

      peer_send (peer, ok);
    }
  g_ptr_array_add (peer->requests, msg);
  return NULL;
}

/* The final response to the request with @branch (1xx skipped; their
 * codes appended to @provisional if not NULL). */
static char *
peer_wait_final (Peer *peer, const char *branch, GString *provisional)
{
  gint64 deadline = g_get_monotonic_time () + RESPONSE_WAIT_MS * 1000;

  while (g_get_monotonic_time () < deadline)
    {
      gboolean got;
      g_autofree char *msg = peer_recv (peer, 100, &got);

      if (!msg || !is_response_to (msg, branch))
        continue;
      if (msg_status (msg) >= 200)
        return g_steal_pointer (&msg);
      if (provisional)
        g_string_append_printf (provisional, "%u ", msg_status (msg));
    }
  g_error ("no final response to %s within %u ms", branch, RESPONSE_WAIT_MS);
}

/* Sends @req and returns the final response to it. */
static char *
peer_transact (Peer *peer, const char *req, const char *branch, GString *provisional)
{
  g_autofree char *line = msg_first_line (req);
  g_autofree char *status = NULL;
  char *resp;

  peer_send (peer, req);
  resp = peer_wait_final (peer, branch, provisional);
  status = msg_first_line (resp);
  g_test_message ("%s -> %s", line, status);
  return resp;
}

/* No response at all to the request with @branch within SILENCE_MS (one
 * that cannot be answered: no Via, or not SIP at all). */
static void
peer_assert_no_response (Peer *peer, const char *branch)
{
  gint64 deadline = g_get_monotonic_time () + SILENCE_MS * 1000;

  while (g_get_monotonic_time () < deadline)
    {
      gboolean got;
      g_autofree char *msg = peer_recv (peer, 50, &got);

      if (msg && (!branch || is_response_to (msg, branch)))
        {
          g_autofree char *status = msg_first_line (msg);

          g_error ("unexpected response: %s", status);
        }
    }
}

/* Anything that comes back within SILENCE_MS is a final error: no
 * provisional, no success (for input that may or may not be answered). */
static void
peer_assert_only_errors (Peer *peer)
{
  gint64 deadline = g_get_monotonic_time () + SILENCE_MS * 1000;

  while (g_get_monotonic_time () < deadline)
    {
      gboolean got;
      g_autofree char *msg = peer_recv (peer, 50, &got);

      if (msg)
        {
          g_autofree char *status = msg_first_line (msg);

          g_test_message ("answered: %s", status);
          g_assert_cmpuint (msg_status (msg), >=, 400);
        }
    }
}

/* The ACK of a failed INVITE (the same transaction), so the phone stops
 * repeating its final response: the INVITE's headers, whichever it had,
 * with the response's To. */
static void
peer_ack_failure (Peer *peer, const char *invite, const char *response)
{
  const char *const names[] = { "Via", "From", "To", "Call-ID", "CSeq" };
  GString *ack = g_string_new (NULL);
  g_autofree char *text = NULL;

  g_string_append_printf (ack, "ACK sip:kefu@127.0.0.1:%u SIP/2.0\r\n", peer->phone_port);
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *value = msg_header (g_str_equal (names[i], "To") ? response : invite,
                                           names[i]);

      if (!value)
        continue;
      if (g_str_equal (names[i], "CSeq"))
        g_string_append_printf (ack, "CSeq: %u ACK\r\n",
                                (guint) g_ascii_strtoull (value, NULL, 10));
      else
        g_string_append_printf (ack, "%s: %s\r\n", names[i], value);
    }
  g_string_append (ack, "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n");
  text = g_string_free (ack, FALSE);
  peer_send (peer, text);
}

/* The first request from the phone whose method is @method, waited for. */
static char *
peer_wait_request (Peer *peer, const char *method)
{
  g_autofree char *prefix = g_strconcat (method, " ", NULL);
  gint64 deadline = g_get_monotonic_time () + RESPONSE_WAIT_MS * 1000;

  for (;;)
    {
      gboolean got;
      g_autofree char *msg = NULL;

      for (guint i = 0; i < peer->requests->len; i++)
        if (g_str_has_prefix (peer->requests->pdata[i], prefix))
          return g_ptr_array_steal_index (peer->requests, i);
      if (g_get_monotonic_time () >= deadline)
        g_error ("the phone sent no %s within %u ms", method, RESPONSE_WAIT_MS);
      msg = peer_recv (peer, 100, &got);
    }
}

/* The phone's SIP side still works: a BYE outside any dialog gets 481. */
static void
assert_sip_alive (Fixture *fx, Peer *peer)
{
  g_autoptr(Dialog) dlg = dialog_new (fx);
  g_autofree char *branch = NULL;
  g_autofree char *bye = sip_request (peer, dlg, "BYE", NULL, NULL, NULL, &branch);
  g_autofree char *resp = peer_transact (peer, bye, branch, NULL);

  g_assert_cmpuint (msg_status (resp), ==, 481);
}

/* After a request that had to be refused: the phone's SIP side answers,
 * and nothing rang (no incoming event since @first_event). */
static void
assert_refused_quietly (Fixture *fx, Phone *phone, Peer *peer, guint first_event)
{
  assert_sip_alive (fx, peer);
  sync_events (phone);
  g_assert_cmpuint (count_events_since (phone, first_event, "incoming"), ==, 0);
  assert_alive (phone);
}

/* --- SIP over TCP ---------------------------------------------------------- */

static GSocket *
tcp_connect (guint16 port)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketAddress) addr = loopback (port);
  GSocket *sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                G_SOCKET_PROTOCOL_TCP, &error);

  g_assert_no_error (error);
  g_socket_connect (sock, addr, NULL, &error);
  g_assert_no_error (error);
  g_socket_set_timeout (sock, 3);
  return sock;
}

/* @text over a new connection: the phone closes it, without an answer. */
static void
tcp_assert_dropped (guint16 port, const char *text)
{
  g_autoptr(GSocket) sock = tcp_connect (port);
  g_autoptr(GError) error = NULL;
  gsize len = strlen (text);
  gsize done = 0;
  char buf[4096];
  gssize n;

  /* the phone may hang up before it has all of it */
  while (done < len)
    {
      n = g_socket_send (sock, text + done, len - done, NULL, &error);
      if (n < 0)
        break;
      done += (gsize) n;
    }
  g_clear_error (&error);
  n = g_socket_receive (sock, buf, sizeof buf, NULL, &error);
  if (n < 0)
    {
      /* reset is as closed as EOF; a timeout means it was kept open */
      g_assert_true (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED)
                     || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE)
                     || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_FAILED));
    }
  else
    g_assert_cmpint (n, ==, 0);
}

/* A BYE outside any dialog over TCP gets 481. */
static void
tcp_assert_alive (guint16 port)
{
  g_autoptr(GSocket) sock = tcp_connect (port);
  g_autoptr(GError) error = NULL;
  g_autofree char *bye = g_strdup_printf ("BYE sip:kefu@127.0.0.1:%u;transport=tcp SIP/2.0\r\n"
                                          "Via: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK-tcp-bye\r\n"
                                          "From: <sip:tester@127.0.0.1>;tag=tcp\r\n"
                                          "To: <sip:kefu@127.0.0.1>\r\n"
                                          "Call-ID: tcp-bye@127.0.0.1\r\n"
                                          "CSeq: 1 BYE\r\n"
                                          "Content-Length: 0\r\n\r\n", port);
  char buf[4096];
  gssize n;

  g_assert_cmpint (g_socket_send (sock, bye, strlen (bye), NULL, &error), ==,
                   (gssize) strlen (bye));
  g_assert_no_error (error);
  n = g_socket_receive (sock, buf, sizeof buf - 1, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (n, >, 0);
  buf[n] = '\0';
  g_assert_cmpuint (msg_status (buf), ==, 481);
}

/* --- SDP and RTP -------------------------------------------------------------- */

static char *
sdp_offer (guint16 rtp_port, const char *fmts, const char *attrs)
{
  return g_strdup_printf ("v=0\n"
                          "o=tester 1 %u IN IP4 127.0.0.1\n"
                          "s=-\n"
                          "c=IN IP4 127.0.0.1\n"
                          "t=0 0\n"
                          "m=audio %u RTP/AVP %s\n"
                          "%s",
                          (guint) rtp_port, rtp_port, fmts, attrs);
}

static char *
sdp_pcmu (guint16 rtp_port, const char *dir)
{
  g_autofree char *attrs = g_strdup_printf ("a=rtpmap:0 PCMU/8000\n"
                                            "a=rtpmap:%d telephone-event/8000\n"
                                            "a=fmtp:%d 0-15\n"
                                            "a=%s\n", TELEV_PT, TELEV_PT, dir);
  g_autofree char *fmts = g_strdup_printf ("0 %d", TELEV_PT);

  return sdp_offer (rtp_port, fmts, attrs);
}

/* An RTP packet: the 12-byte header, then @payload_len bytes of it. */
static GBytes *
rtp_packet (guint8 pt, guint16 seq, guint32 ts, guint32 ssrc, const guint8 *payload,
            gsize payload_len)
{
  guint8 *pkt = g_malloc (12 + payload_len);

  pkt[0] = 0x80;
  pkt[1] = pt & 0x7f;
  pkt[2] = seq >> 8;
  pkt[3] = seq & 0xff;
  pkt[4] = ts >> 24;
  pkt[5] = (ts >> 16) & 0xff;
  pkt[6] = (ts >> 8) & 0xff;
  pkt[7] = ts & 0xff;
  pkt[8] = ssrc >> 24;
  pkt[9] = (ssrc >> 16) & 0xff;
  pkt[10] = (ssrc >> 8) & 0xff;
  pkt[11] = ssrc & 0xff;
  if (payload_len)
    memcpy (pkt + 12, payload, payload_len);
  return g_bytes_new_take (pkt, 12 + payload_len);
}

static void
send_bytes (GSocket *sock, GSocketAddress *to, GBytes *bytes)
{
  udp_send (sock, to, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
}

/* Random bytes that are not, by chance, RTP at the call's payload types
 * (valid RTP at those types is audio or a digit, garbage or not). */
static guint8 *
random_bytes (Fixture *fx, gsize len)
{
  guint8 *buf = g_malloc (len ? len : 1);

  for (gsize i = 0; i < len; i++)
    buf[i] = (guint8) g_rand_int_range (fx->rand, 0, 256);
  if (len >= 2 && ((buf[1] & 0x7f) == RTP_PT_PCMU || (buf[1] & 0x7f) == TELEV_PT))
    buf[1] ^= 0x02;
  return buf;
}

/* Garbage to a call's RTP and RTCP ports from @sock: datagrams of random
 * bytes and sizes (empty, a few bytes, over the 1500-byte MTU), RTP
 * headers that lie about their length, RTP at payload types the call did
 * not negotiate, and RTCP whose lengths and counts do not add up: nothing
 * a phone may take for media.  With @telev, also telephone-events at the
 * call's own type that are no event: media in form, so only from the
 * peer's address (from anyone else they would rightly move the call's
 * audio there, as symmetric RTP does for a peer behind NAT). */
static void
send_rtp_garbage (Fixture *fx, GSocket *sock, guint16 rtp_port, gboolean telev)
{
  g_autoptr(GSocketAddress) rtp = loopback (rtp_port);
  g_autoptr(GSocketAddress) rtcp = loopback (rtp_port + 1);
  const gsize sizes[] = { 0, 1, 2, 11, 12, 13, 160, 172, 1499, 1500, 1501, 4000, 9000, 65000 };
  /* not in the call: G.729, PCMA (we offered PCMU only), CN, dynamic
   * types nobody mapped, and the range RTCP packet types alias */
  const guint8 unknown_pts[] = { 18, 8, 13, 96, 97, 110, 127, 72, 76, 34 };
  guint32 ssrc = g_rand_int (fx->rand);
  guint8 payload[160];

  for (int round = 0; round < 3; round++)
    for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
      {
        g_autofree guint8 *junk = random_bytes (fx, sizes[i]);

        udp_send (sock, rtp, junk, sizes[i]);
        udp_send (sock, rtcp, junk, sizes[i]);
      }
  for (int i = 0; i < 200; i++)
    {
      gsize len = (gsize) g_rand_int_range (fx->rand, 0, 2000);
      g_autofree guint8 *junk = random_bytes (fx, len);

      /* half of them look like RTP version 2 at first glance */
      if (len && (i & 1))
        junk[0] = (junk[0] & 0x1f) | 0x80;
      udp_send (sock, (i & 2) ? rtcp : rtp, junk, len);
    }

  /* RTP at the call's own payload type whose header lies: 15 CSRCs or an
   * extension longer than the packet, padding longer than the payload
   * (RFC 3550 A.1: not a valid packet, so not audio) */
  {
    guint8 lies[][16] = {
      { 0x8f, 0x00, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0 },
      { 0x90, 0x00, 0, 2, 0, 0, 0, 2, 0, 0, 0, 1, 0xbe, 0xde, 0xff, 0xff },
      { 0xa0, 0x00, 0, 3, 0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 0xff },
    };

    for (gsize i = 0; i < G_N_ELEMENTS (lies); i++)
      udp_send (sock, rtp, lies[i], sizeof lies[i]);
  }

  memset (payload, 0xff, sizeof payload);
  for (int i = 0; i < 300; i++)
    {
      guint8 pt = unknown_pts[i % G_N_ELEMENTS (unknown_pts)];
      g_autoptr(GBytes) pkt = rtp_packet (pt, (guint16) (1000 + i), 160u * (guint) i, ssrc,
                                          payload, sizeof payload);

      send_bytes (sock, rtp, pkt);
    }

  /* telephone-event at the negotiated type, but no event: codes past 16,
   * payloads too short, and volume/duration nonsense */
  if (telev)
    {
      const guint8 events[][4] = {
        { 200, 0x80, 0x03, 0x20 }, { 17, 0x3f, 0xff, 0xff }, { 255, 0x00, 0x00, 0x00 },
      };

      for (int i = 0; i < 30; i++)
        {
          g_autoptr(GBytes) pkt = rtp_packet (TELEV_PT, (guint16) (2000 + i), 48000,
                                              ssrc + 1, events[i % 3], (i % 5) ? 4 : 2);

          send_bytes (sock, rtp, pkt);
        }
    }

  /* RTCP: a sender report claiming 31 report blocks in 8 bytes, a length
   * field far past the packet, an SDES with an item running off the end,
   * a BYE whose reason is longer than the packet */
  {
    const guint8 rtcp_lies[][12] = {
      { 0x9f, 200, 0x00, 0x01, 0, 0, 0, 1, 0, 0, 0, 0 },
      { 0x81, 201, 0xff, 0xff, 0, 0, 0, 1, 0, 0, 0, 0 },
      { 0x81, 202, 0x00, 0x02, 0, 0, 0, 1, 1, 0xff, 'x', 'y' },
      { 0x81, 203, 0x00, 0x02, 0, 0, 0, 1, 0xff, 'b', 'y', 'e' },
      { 0x80, 204, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0 },
    };

    for (gsize i = 0; i < G_N_ELEMENTS (rtcp_lies); i++)
      udp_send (sock, rtcp, rtcp_lies[i], sizeof rtcp_lies[i]);
  }
}

/* --- fixture -------------------------------------------------------------- */

static void
fixture_set_up (Fixture *fx, gconstpointer data)
{
  const char *env = g_getenv ("KEFU_TEST_SEED");
  guint32 seed = env ? (guint32) g_ascii_strtoull (env, NULL, 10) : DEFAULT_SEED;

  (void) data;
  fx->children = g_ptr_array_new_with_free_func (g_object_unref);
  fx->phones = g_ptr_array_new_with_free_func (phone_free);
  fx->rand = g_rand_new_with_seed (seed);
  /* g_test_message is in the log of a failed run: the seed to replay */
  g_test_message ("random seed %u (replay with KEFU_TEST_SEED=%u)", seed, seed);
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
  /* each pending read ends with its pipe */
  for (guint i = 0; i < fx->phones->len; i++)
    {
      Phone *ph = fx->phones->pdata[i];

      kefu_test_run_until (kefu_test_flag_set, &ph->eof, "the end of kefu-phone's output");
    }
  g_ptr_array_unref (fx->phones);
  g_ptr_array_unref (fx->children);
  g_rand_free (fx->rand);
}

static Phone *
start_listening_phone (Fixture *fx, const char *name, const char *const *extra,
                       guint16 *sip_port)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  JsonObject *ev;
  Phone *ph;

  g_ptr_array_add (args, "--listen");
  g_ptr_array_add (args, "127.0.0.1:0");
  for (; extra && *extra; extra++)
    g_ptr_array_add (args, (char *) *extra);
  g_ptr_array_add (args, NULL);
  ph = start_phone_argv (fx, name, (const char *const *) args->pdata);
  ev = wait_event (ph, "ready");
  *sip_port = (guint16) json_object_get_int_member (ev, "sip_port");
  return ph;
}

/* --- malformed requests outside a call ------------------------------------ */

typedef struct {
  const char *what;
  char *(*mangle) (const char *invite);   /* NULL: the INVITE as it is */
  const char *ctype;                       /* NULL: application/sdp */
  const char *body;                        /* NULL: a good offer */
  guint code;                              /* the final response due */
} InviteCase;

static char *drop_from (const char *m) { return without_header (m, "From"); }
static char *drop_to (const char *m) { return without_header (m, "To"); }
static char *drop_call_id (const char *m) { return without_header (m, "Call-ID"); }
static char *drop_cseq (const char *m) { return without_header (m, "CSeq"); }
static char *drop_contact (const char *m) { return without_header (m, "Contact"); }

static char *
drop_from_tag (const char *m)
{
  g_autofree char *from = msg_header (m, "From");
  g_autofree char *tag = tag_of (from);
  g_autofree char *param = g_strconcat (";tag=", tag, NULL);

  return replace (m, param, "");
}

static char *
cseq_of_bye (const char *m)
{
  return replace (m, " INVITE\r\nContact", " BYE\r\nContact");
}

static char *
contact_garbage (const char *m)
{
  g_autofree char *contact = msg_header (m, "Contact");
  g_autofree char *line = g_strconcat ("\r\nContact: ", contact, NULL);

  return replace (m, line, "\r\nContact: <<<garbage");
}

static char *
content_length (const char *m, const char *value)
{
  g_autofree char *old = msg_header (m, "Content-Length");
  g_autofree char *from = g_strconcat ("Content-Length: ", old, "\r\n", NULL);
  g_autofree char *to = g_strconcat ("Content-Length: ", value, "\r\n", NULL);

  return replace (m, from, to);
}

static char *
length_beyond_body (const char *m)
{
  g_autofree char *old = msg_header (m, "Content-Length");
  g_autofree char *more = g_strdup_printf ("%u", (guint) g_ascii_strtoull (old, NULL, 10) + 100);

  return content_length (m, more);
}

/* cut inside the o= line: what is left is not SDP */
static char *length_short_of_body (const char *m) { return content_length (m, "20"); }
static char *length_not_a_number (const char *m) { return content_length (m, "abc"); }

/* The brief's first list: every request is refused with a final response
 * that says what is wrong (or, without a Via, cannot be answered at all),
 * nothing rings, and the phone keeps working. */
static void
test_malformed_requests (Fixture *fx, gconstpointer data)
{
  const InviteCase cases[] = {
    { "no From", drop_from, NULL, NULL, 400 },
    { "From without a tag", drop_from_tag, NULL, NULL, 400 },
    { "no To", drop_to, NULL, NULL, 400 },
    { "no Call-ID", drop_call_id, NULL, NULL, 400 },
    { "no CSeq", drop_cseq, NULL, NULL, 400 },
    { "CSeq of another method", cseq_of_bye, NULL, NULL, 400 },
    { "no Contact", drop_contact, NULL, NULL, 400 },
    { "a Contact that is not an address", contact_garbage, NULL, NULL, 400 },
    { "Content-Length beyond the body", length_beyond_body, NULL, NULL, 400 },
    { "Content-Length short of the body", length_short_of_body, NULL, NULL, 400 },
    { "Content-Length not a number", length_not_a_number, NULL, NULL, 400 },
    { "a body that is not SDP", NULL, "text/plain", "Hello, is it me you're looking for?\n",
      415 },
    { "SDP that is not SDP", NULL, NULL, "v=0\no=broken\nm=audio port RTP/AVP\n", 400 },
    { "SDP cut short", NULL, NULL, "v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\n"
      "t=0 0\nm=audio 4000", 400 },
    { "SDP without a connection address", NULL, NULL, "v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\n"
      "t=0 0\nm=audio 4000 RTP/AVP 0\n", 400 },
    { "SDP with only codecs we do not have", NULL, NULL,
      "v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\n"
      "m=audio 4000 RTP/AVP 18 98 99\na=rtpmap:18 G729/8000\na=rtpmap:98 iLBC/8000\n"
      "a=rtpmap:99 telephone-event/8000\n", 488 },
    { "SDP with a stream we cannot use (video only)", NULL, NULL,
      "v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\n"
      "m=video 4000 RTP/AVP 96\na=rtpmap:96 H264/90000\n", 488 },
  };
  guint16 sip_port;
  Phone *phone = start_listening_phone (fx, "phone", NULL, &sip_port);
  g_autoptr(Peer) peer = peer_new (sip_port);
  guint first_event;

  (void) data;
  sync_events (phone);
  first_event = phone->events->len;

  /* not SIP at all: random datagrams, from empty to 1400 bytes */
  for (int i = 0; i < 40; i++)
    {
      gsize len = i == 0 ? 0 : (gsize) g_rand_int_range (fx->rand, 1, 1400);
      g_autofree guint8 *junk = random_bytes (fx, len);

      udp_send (peer->sock, peer->phone_addr, junk, len);
    }
  peer_assert_only_errors (peer);
  assert_refused_quietly (fx, phone, peer, first_event);

  /* a request line and nothing else: nowhere to answer */
  peer_send (peer, "INVITE sip:kefu@127.0.0.1 SIP/2.0\r\n\r\n");
  peer_assert_no_response (peer, NULL);
  assert_refused_quietly (fx, phone, peer, first_event);

  /* without a Via it cannot be answered: dropped, and nobody rings */
  {
    g_autoptr(Dialog) dlg = dialog_new (fx);
    g_autofree char *branch = NULL;
    g_autofree char *sdp = sdp_pcmu (4000, "sendrecv");
    g_autofree char *invite = sip_request (peer, dlg, "INVITE", NULL, "application/sdp", sdp,
                                           &branch);
    g_autofree char *no_via = without_header (invite, "Via");

    g_test_message ("case: INVITE without a Via");
    peer_send (peer, no_via);
    peer_assert_no_response (peer, NULL);
    assert_refused_quietly (fx, phone, peer, first_event);
  }

  /* a 64 KiB header: more than the phone reads of a datagram; whatever it
   * makes of it, nothing rings */
  {
    g_autoptr(Dialog) dlg = dialog_new (fx);
    g_autofree char *branch = NULL;
    g_autofree char *big = g_strnfill (64000, 'k');
    g_autofree char *extra = g_strdup_printf ("X-Huge: %s\n", big);
    g_autofree char *sdp = sdp_pcmu (4000, "sendrecv");
    g_autofree char *invite = sip_request (peer, dlg, "INVITE", extra, "application/sdp", sdp,
                                           &branch);

    g_test_message ("case: INVITE with a 64 KiB header (%zu bytes)", strlen (invite));
    g_assert_cmpuint (strlen (invite), <=, 65507);
    peer_send (peer, invite);
    peer_assert_only_errors (peer);
    assert_refused_quietly (fx, phone, peer, first_event);
  }

  /* over TCP, where framing is the Content-Length: a 200 KiB header and
   * a message without Content-Length close the connection, unanswered */
  {
    JsonObject *ready = g_ptr_array_index (phone->events, 0);
    guint16 tcp_port = (guint16) json_object_get_int_member_with_default (ready, "tcp_port", 0);
    g_autoptr(Dialog) dlg = dialog_new (fx);
    g_autofree char *branch = NULL;
    g_autofree char *big = g_strnfill (200 * 1024, 'k');
    g_autofree char *extra = g_strdup_printf ("X-Huge: %s\n", big);
    g_autofree char *options = sip_request (peer, dlg, "OPTIONS", extra, NULL, NULL, &branch);
    g_autofree char *no_length = NULL;

    g_test_message ("case: over TCP (port %u)", tcp_port);
    g_assert_cmpuint (tcp_port, >, 0);
    tcp_assert_dropped (tcp_port, options);
    g_clear_pointer (&options, g_free);
    g_clear_pointer (&branch, g_free);
    options = sip_request (peer, dlg, "OPTIONS", NULL, NULL, NULL, &branch);
    no_length = without_header (options, "Content-Length");
    tcp_assert_dropped (tcp_port, no_length);
    tcp_assert_alive (tcp_port);
    assert_refused_quietly (fx, phone, peer, first_event);
  }

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(Dialog) dlg = dialog_new (fx);
      g_autoptr(GString) provisional = g_string_new (NULL);
      g_autofree char *branch = NULL;
      g_autofree char *sdp = sdp_pcmu (4000, "sendrecv");
      g_autofree char *invite = NULL;
      g_autofree char *sent = NULL;
      g_autofree char *resp = NULL;
      g_autofree char *status = NULL;

      g_test_message ("case: INVITE with %s", cases[i].what);
      invite = sip_request (peer, dlg, "INVITE", NULL,
                            cases[i].ctype ? cases[i].ctype : "application/sdp",
                            cases[i].body ? cases[i].body : sdp, &branch);
      sent = cases[i].mangle ? cases[i].mangle (invite) : g_strdup (invite);
      resp = peer_transact (peer, sent, branch, provisional);
      status = msg_first_line (resp);
      if (msg_status (resp) != cases[i].code)
        g_error ("INVITE with %s: “%s”, not %u", cases[i].what, status, cases[i].code);
      /* refused before it rang */
      g_assert_cmpstr (provisional->str, ==, "");
      peer_ack_failure (peer, sent, resp);
      assert_refused_quietly (fx, phone, peer, first_event);
    }

  /* a BYE and a CANCEL for calls that do not exist */
  {
    g_autoptr(Dialog) dlg = dialog_new (fx);
    g_autofree char *branch = NULL;
    g_autofree char *cancel = sip_request (peer, dlg, "CANCEL", NULL, NULL, NULL, &branch);
    g_autofree char *resp = peer_transact (peer, cancel, branch, NULL);

    g_assert_cmpuint (msg_status (resp), ==, 481);
  }
  assert_refused_quietly (fx, phone, peer, first_event);
  g_assert_cmpuint (count_events_since (phone, first_event, "closed"), ==, 0);

  /* a caller whose display name is not UTF-8: the call rings, shown with
   * replacement characters, and the agent can refuse it */
  {
    g_autoptr(Dialog) dlg = dialog_new (fx);
    g_autoptr(GString) provisional = g_string_new (NULL);
    g_autofree char *branch = NULL;
    g_autofree char *sdp = sdp_pcmu (4000, "sendrecv");
    g_autofree char *invite = sip_request (peer, dlg, "INVITE", NULL, "application/sdp", sdp,
                                           &branch);
    g_autofree char *latin1 = replace (invite, "\"Tester\"", "\"Ren\xe9 \xff\xfe\xc3(\"");
    g_autofree char *resp = NULL;
    JsonObject *ev;
    const char *name;

    g_test_message ("case: a display name that is not UTF-8");
    peer_send (peer, latin1);
    ev = wait_event (phone, "incoming");
    name = json_object_get_string_member (ev, "from_name");
    g_assert_true (g_utf8_validate (name, -1, NULL));
    g_assert_true (g_str_has_prefix (name, "Ren"));
    g_assert_nonnull (strstr (name, "\xef\xbf\xbd"));
    send_command (phone, "reject busy");
    resp = peer_wait_final (peer, branch, NULL);
    g_assert_cmpuint (msg_status (resp), ==, 486);
    peer_ack_failure (peer, latin1, resp);
    ev = wait_event (phone, "closed");
    g_assert_cmpint (json_object_get_int_member (ev, "code"), ==, 486);
  }

  /* and a good call still rings */
  {
    g_autoptr(Dialog) dlg = dialog_new (fx);
    g_autofree char *branch = NULL;
    g_autofree char *sdp = sdp_pcmu (4000, "sendrecv");
    g_autofree char *invite = sip_request (peer, dlg, "INVITE", NULL, "application/sdp", sdp,
                                           &branch);
    g_autofree char *resp = NULL;

    peer_send (peer, invite);
    wait_event (phone, "incoming");
    send_command (phone, "reject decline");
    resp = peer_wait_final (peer, branch, NULL);
    g_assert_cmpuint (msg_status (resp), ==, 603);
    peer_ack_failure (peer, invite, resp);
    wait_event (phone, "closed");
  }

  quit_phone (phone);
}

/* A caller that never ACKs our 200: the phone keeps repeating it until it
 * gives up, and quitting meanwhile still exits cleanly, with no leak. */
static void
test_no_ack (Fixture *fx, gconstpointer data)
{
  guint16 sip_port;
  Phone *phone = start_listening_phone (fx, "phone", NULL, &sip_port);
  g_autoptr(Peer) peer = peer_new (sip_port);
  g_autoptr(Dialog) dlg = dialog_new (fx);
  g_autofree char *branch = NULL;
  g_autofree char *sdp = sdp_pcmu (4000, "sendrecv");
  g_autofree char *invite = sip_request (peer, dlg, "INVITE", NULL, "application/sdp", sdp,
                                         &branch);
  g_autofree char *resp = NULL;

  (void) data;
  peer_send (peer, invite);
  wait_event (phone, "incoming");
  send_command (phone, "answer");
  resp = peer_wait_final (peer, branch, NULL);
  g_assert_cmpuint (msg_status (resp), ==, 200);
  /* no ACK */
  quit_phone (phone);
}

/* A call offered without SDP: the phone offers in its 200, and the ACK
 * must carry the answer.  An ACK whose SDP is garbage, or shares no codec
 * with the offer, ends the call with a BYE and says why. */
static void
test_bad_answer_in_ack (Fixture *fx, gconstpointer data)
{
  const struct {
    const char *sdp;
    const char *reason;         /* of the close, NULL: any that says so */
  } answers[] = {
    { "v=0\nthis is not SDP\n", NULL },
    { "v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\n"
      "m=audio 4000 RTP/AVP 18\na=rtpmap:18 G729/8000\n", "no codec in common" },
  };
  guint16 sip_port;
  Phone *phone = start_listening_phone (fx, "phone",
                                        (const char *const[]) { "--auto-answer", NULL },
                                        &sip_port);
  g_autoptr(Peer) peer = peer_new (sip_port);

  (void) data;
  for (gsize i = 0; i < G_N_ELEMENTS (answers); i++)
    {
      g_autoptr(Dialog) dlg = dialog_new (fx);
      g_autofree char *branch = NULL;
      g_autofree char *ack_branch = NULL;
      g_autofree char *invite = sip_request (peer, dlg, "INVITE", NULL, NULL, NULL, &branch);
      g_autofree char *resp = peer_transact (peer, invite, branch, NULL);
      g_autofree char *to = msg_header (resp, "To");
      g_autofree char *ack = NULL;
      g_autofree char *bye = NULL;
      JsonObject *ev;
      const char *reason;

      g_assert_cmpuint (msg_status (resp), ==, 200);
      dlg->to_tag = tag_of (to);
      ack = sip_request (peer, dlg, "ACK", NULL, "application/sdp", answers[i].sdp,
                         &ack_branch);
      peer_send (peer, ack);

      bye = peer_wait_request (peer, "BYE");
      ev = wait_event (phone, "closed");
      reason = json_object_get_string_member (ev, "reason");
      g_test_message ("the call closed: %s", reason);
      if (answers[i].reason)
        g_assert_cmpstr (reason, ==, answers[i].reason);
      g_assert_cmpstr (reason, !=, "");
      g_assert_cmpstr (reason, !=, "remote hangup");
      g_assert_cmpstr (reason, !=, "local hangup");
      assert_sip_alive (fx, peer);
    }
  quit_phone (phone);
}

/* @text, damaged at random: a character changed, a line lost, doubled or
 * cut short, a number made huge, a line grown long. */
static char *
mangle_lines (Fixture *fx, const char *text)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  guint n = g_strv_length (lines);
  guint line = (guint) g_rand_int_range (fx->rand, 0, (gint32) MAX (n - 1, 1));
  GString *out = g_string_new (NULL);
  const char specials[] = " \t:/=0123456789\r\n\x7f\x80\xff";
  int kind = g_rand_int_range (fx->rand, 0, 6);

  for (guint i = 0; i < n; i++)
    {
      GString *l = g_string_new (lines[i]);

      if (i == line)
        switch (kind)
          {
          case 0:
            if (l->len)
              l->str[g_rand_int_range (fx->rand, 0, (gint32) l->len)] =
                specials[g_rand_int_range (fx->rand, 0, sizeof specials - 1)];
            break;
          case 1:
            g_string_truncate (l, 0);
            break;
          case 2:
            g_string_append_printf (l, "\n%s", lines[i]);
            break;
          case 3:
            g_string_truncate (l, (gsize) g_rand_int_range (fx->rand, 0, (gint32) l->len + 1));
            break;
          case 4:
            for (gsize k = 0; k < l->len; k++)
              if (g_ascii_isdigit (l->str[k]))
                {
                  g_string_insert (l, (gssize) k, "99999999999");
                  break;
                }
            break;
          default:
            g_string_append (l, " 96 97 98 99 100 101 102 103 104 105 106 107 108 109 110 111 "
                             "112 113 114 115 116 117 118 119 120 121 122 123 124 125 126 127");
            break;
          }
      g_string_append (out, l->str);
      if (i + 1 < n)
        g_string_append_c (out, '\n');
      g_string_free (l, TRUE);
    }
  return g_string_free (out, FALSE);
}

/* --- bad input during a call ------------------------------------------------ */

typedef struct {
  Fixture *fx;
  Phone *phone;
  Peer *peer;
  Dialog *dlg;
  GSocket *rtp;                 /* the peer's RTP, named in its SDP */
  guint16 rtp_port;
  gint64 call;                  /* the phone's id for it */
  guint16 phone_rtp_port;
} Call;

/* The peer calls the phone (which answers by itself) and ACKs. */
static void
call_setup (Call *c, Fixture *fx, Phone *phone, Peer *peer)
{
  g_autofree char *branch = NULL;
  g_autofree char *sdp = NULL;
  g_autofree char *invite = NULL;
  g_autofree char *resp = NULL;
  g_autofree char *to = NULL;
  g_autofree char *ack_branch = NULL;
  g_autofree char *ack = NULL;
  JsonObject *ev;

  c->fx = fx;
  c->phone = phone;
  c->peer = peer;
  c->dlg = dialog_new (fx);
  c->rtp = udp_socket (&c->rtp_port);
  sdp = sdp_pcmu (c->rtp_port, "sendrecv");
  invite = sip_request (peer, c->dlg, "INVITE", NULL, "application/sdp", sdp, &branch);
  resp = peer_transact (peer, invite, branch, NULL);
  g_assert_cmpuint (msg_status (resp), ==, 200);
  to = msg_header (resp, "To");
  c->dlg->to_tag = tag_of (to);
  g_assert_nonnull (c->dlg->to_tag);
  ack = sip_request (peer, c->dlg, "ACK", NULL, NULL, NULL, &ack_branch);
  peer_send (peer, ack);

  ev = wait_event (phone, "established");
  g_assert_cmpstr (json_object_get_string_member (ev, "codec"), ==, "PCMU");
  c->call = json_object_get_int_member (ev, "call");
  c->phone_rtp_port = (guint16) json_object_get_int_member (ev, "local_rtp_port");
  g_assert_cmpuint (c->phone_rtp_port, >, 0);
}

static void
call_clear (Call *c)
{
  g_clear_object (&c->rtp);
  g_clear_pointer (&c->dlg, dialog_free);
}

/* A request in the call; its final response (a 2xx to a re-INVITE
 * ACKed, a failure ACKed within its transaction). */
static char *
call_request (Call *c, const char *method, const char *extra, const char *ctype,
              const char *body)
{
  g_autofree char *branch = NULL;
  g_autofree char *req = sip_request (c->peer, c->dlg, method, extra, ctype, body, &branch);
  char *resp = peer_transact (c->peer, req, branch, NULL);

  if (g_str_equal (method, "INVITE") && msg_status (resp) < 300)
    {
      g_autofree char *ack_branch = NULL;
      g_autofree char *ack = sip_request (c->peer, c->dlg, "ACK", NULL, NULL, NULL,
                                          &ack_branch);

      peer_send (c->peer, ack);
    }
  else if (g_str_equal (method, "INVITE"))
    peer_ack_failure (c->peer, req, resp);
  return resp;
}

/* The call is still up: its stats answer, and it never closed. */
static void
assert_call_up (Call *c, guint first_event)
{
  JsonObject *stats = call_stats (c->phone, c->call);

  g_assert_cmpstr (json_object_get_string_member (stats, "codec"), ==, "PCMU");
  g_assert_cmpuint (count_events_since (c->phone, first_event, "closed"), ==, 0);
  assert_alive (c->phone);
}

/* RTP from the phone arrives at @sock: the call's audio reaches it. */
static guint
count_rtp_from_phone (GSocket *sock, guint ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) ms * 1000;
  guint n = 0;

  while (g_get_monotonic_time () < deadline)
    {
      g_autoptr(GBytes) pkt = udp_recv (sock, 20);

      if (pkt && g_bytes_get_size (pkt) >= 12
          && (((const guint8 *) g_bytes_get_data (pkt, NULL))[0] & 0xc0) == 0x80)
        n++;
    }
  return n;
}

static void
test_bad_in_call (Fixture *fx, gconstpointer data)
{
  guint16 sip_port;
  Phone *phone = start_listening_phone (fx, "phone",
                                        (const char *const[]) { "--auto-answer", NULL },
                                        &sip_port);
  g_autoptr(Peer) peer = peer_new (sip_port);
  Call c = { 0 };
  guint first_event;

  (void) data;
  call_setup (&c, fx, phone, peer);
  first_event = phone->events->len;

  /* re-INVITEs the phone cannot take: 488, and the call goes on as it was */
  {
    const char *const offers[] = {
      "v=0\nbroken\n",
      "v=0\no=- 1 2 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\n"
      "m=audio 4000 RTP/AVP 18\na=rtpmap:18 G729/8000\n",
      "v=0\no=- 1 2 IN IP4 127.0.0.1\ns=-\nc=IN IP4 999.1.1.1\nt=0 0\nm=audio 4000 RTP/AVP 0\n",
    };

    for (gsize i = 0; i < G_N_ELEMENTS (offers); i++)
      {
        g_autofree char *resp = call_request (&c, "INVITE", NULL, "application/sdp", offers[i]);
        g_autofree char *status = msg_first_line (resp);

        g_test_message ("re-INVITE %zu: %s", i, status);
        g_assert_cmpuint (msg_status (resp), ==, 488);
        assert_call_up (&c, first_event);
      }
  }

  /* and a good one after them still works: hold, then resume */
  {
    g_autofree char *hold = sdp_pcmu (c.rtp_port, "sendonly");
    g_autofree char *resume = sdp_pcmu (c.rtp_port, "sendrecv");
    g_autofree char *resp = call_request (&c, "INVITE", NULL, "application/sdp", hold);
    g_autofree char *resp2 = NULL;

    g_assert_cmpuint (msg_status (resp), ==, 200);
    wait_event (phone, "remote_hold");
    resp2 = call_request (&c, "INVITE", NULL, "application/sdp", resume);
    g_assert_cmpuint (msg_status (resp2), ==, 200);
    wait_event (phone, "remote_resumed");
  }

  /* INFO whose dtmf-relay body is no digit: an error, and no digit */
  {
    const struct {
      const char *ctype;
      const char *body;
    } infos[] = {
      { "application/dtmf-relay", "Signal=banana\nDuration=100\n" },
      { "application/dtmf-relay", "Signal=\n" },
      { "application/dtmf-relay", "Signal=1\nSignal=2\n" },
      { "application/dtmf-relay", "Signal=1\nDuration=-5\n" },
      { "application/dtmf-relay", "Duration=100\n" },
      { "application/dtmf-relay", "\xff\xfe\xfd garbage \x01\x02" },
      { "application/dtmf-relay", "no equals sign here\n" },
      { "application/dtmf", "16" },
      { "text/plain", "Signal=5\n" },
    };
    g_autofree char *long_body = g_strnfill (3000, '5');
    g_autofree char *resp = NULL;

    for (gsize i = 0; i < G_N_ELEMENTS (infos); i++)
      {
        g_autofree char *r = call_request (&c, "INFO", NULL, infos[i].ctype, infos[i].body);

        g_assert_cmpuint (msg_status (r), >=, 400);
        g_assert_cmpuint (msg_status (r), <, 500);
      }
    resp = call_request (&c, "INFO", NULL, "application/dtmf", long_body);
    g_assert_cmpuint (msg_status (resp), >=, 400);
    g_assert_cmpuint (msg_status (resp), <, 500);
    sync_events (phone);
    g_assert_cmpuint (count_events_since (phone, first_event, "dtmf"), ==, 0);
    assert_call_up (&c, first_event);
  }

  /* a good INFO after them is a digit */
  {
    g_autofree char *resp = call_request (&c, "INFO", NULL, "application/dtmf-relay",
                                          "Signal=7\nDuration=160\n");
    JsonObject *ev;

    g_assert_cmpuint (msg_status (resp), ==, 200);
    ev = wait_event (phone, "dtmf");
    g_assert_cmpstr (json_object_get_string_member (ev, "digit"), ==, "7");
    g_assert_cmpstr (json_object_get_string_member (ev, "mode"), ==, "info");
  }

  /* damaged dtmf-relay bodies: each is either a digit (200, one event) or
   * refused (4xx, no event); none is swallowed */
  {
    guint before = phone->events->len;
    guint taken = 0;

    for (int i = 0; i < 40; i++)
      {
        g_autofree char *body = mangle_lines (fx, "Signal=5\nDuration=160\n");
        g_autofree char *r = call_request (&c, "INFO", NULL, "application/dtmf-relay", body);
        guint code = msg_status (r);

        g_assert_true (code == 200 || (code >= 400 && code < 500));
        taken += code == 200;
      }
    sync_events (phone);
    g_test_message ("%u of 40 damaged INFO bodies were still a digit", taken);
    g_assert_cmpuint (count_events_since (phone, before, "dtmf"), ==, taken);
    g_assert_cmpuint (taken, <, 40);
  }

  /* a BYE for another dialog with the same Call-ID: 481, this one stays */
  {
    g_autofree char *branch = NULL;
    g_autofree char *bye = sip_request (peer, c.dlg, "BYE", NULL, NULL, NULL, &branch);
    g_autofree char *other = NULL;
    g_autofree char *resp = NULL;
    g_autofree char *param = g_strconcat (";tag=", c.dlg->to_tag, NULL);

    other = replace (bye, param, ";tag=not-this-one");
    resp = peer_transact (peer, other, branch, NULL);
    g_assert_cmpuint (msg_status (resp), ==, 481);
    assert_call_up (&c, first_event);
  }

  /* REFER to nothing callable: refused (4xx, never 202), no refer event */
  {
    const char *const refer_tos[] = {
      NULL,                     /* no Refer-To at all */
      "Refer-To: banana\n",
      "Refer-To: <>\n",
      "Refer-To: \n",
      "Refer-To: <http://example.com/transfer>\n",
      "Refer-To: <sip:>\n",
      "Refer-To: <sip:@>\n",
      "Refer-To: <sip:bob@127.0.0.1\n",
      "Refer-To: \"\xff\xfe\" <sip:\x01\x02@127.0.0.1>\n",
    };

    for (gsize i = 0; i < G_N_ELEMENTS (refer_tos); i++)
      {
        g_autofree char *resp = call_request (&c, "REFER", refer_tos[i], NULL, NULL);
        g_autofree char *status = msg_first_line (resp);
        g_autofree char *shown = g_strescape (refer_tos[i] ? refer_tos[i] : "(none)", NULL);

        g_test_message ("REFER with %s -> %s", shown, status);
        g_assert_cmpuint (msg_status (resp), >=, 400);
        g_assert_cmpuint (msg_status (resp), <, 500);
      }
    sync_events (phone);
    g_assert_cmpuint (count_events_since (phone, first_event, "refer"), ==, 0);
    assert_call_up (&c, first_event);
  }

  /* the phone transfers the peer (REFER); the peer's NOTIFYs are garbage:
   * each gets 400, none is taken for progress, the call stays up */
  {
    g_autofree char *refer = NULL;
    g_autofree char *accepted = NULL;
    const char *const frags[] = {
      "garbage",
      "",
      "SIP/2.0 65736 OK\n",          /* a status that wraps to 200 in 16 bits */
      "SIP/2.0 99 Too Small\n",
      "SIP/2.0 2000 OK\n",
      "HTTP/1.1 200 OK\n",
      "Junk first\nSIP/2.0 200 OK\n",
      "SIP/2.0 200\n",
    };
    guint before = phone->events->len;
    JsonObject *ev;

    send_command (phone, "transfer sip:target@127.0.0.1:5999");
    refer = peer_wait_request (peer, "REFER");
    accepted = sip_response (refer, 202, "Accepted");
    peer_send (peer, accepted);

    for (gsize i = 0; i < G_N_ELEMENTS (frags); i++)
      {
        g_autofree char *resp = call_request (&c, "NOTIFY",
                                              "Event: refer\n"
                                              "Subscription-State: active;expires=60\n",
                                              "message/sipfrag;version=2.0", frags[i]);
        g_autofree char *status = msg_first_line (resp);
        g_autofree char *shown = g_strescape (frags[i], NULL);

        g_test_message ("NOTIFY with \"%s\" -> %s", shown, status);
        g_assert_cmpuint (msg_status (resp), ==, 400);
      }
    sync_events (phone);
    g_assert_cmpuint (count_events_since (phone, before, "transfer_progress"), ==, 0);
    g_assert_cmpuint (count_events_since (phone, before, "transfer_failed"), ==, 0);
    assert_call_up (&c, first_event);

    /* a real sipfrag is progress; a failed target leaves the call up */
    {
      g_autofree char *resp = call_request (&c, "NOTIFY",
                                            "Event: refer\n"
                                            "Subscription-State: active;expires=60\n",
                                            "message/sipfrag;version=2.0",
                                            "SIP/2.0 100 Trying\n");
      g_autofree char *resp2 = NULL;

      g_assert_cmpuint (msg_status (resp), ==, 200);
      ev = wait_event (phone, "transfer_progress");
      g_assert_cmpint (json_object_get_int_member (ev, "code"), ==, 100);
      resp2 = call_request (&c, "NOTIFY",
                            "Event: refer\n"
                            "Subscription-State: terminated;reason=noresource\n",
                            "message/sipfrag;version=2.0",
                            "SIP/2.0 503 Service Unavailable\n");
      g_assert_cmpuint (msg_status (resp2), ==, 200);
      ev = wait_event (phone, "transfer_failed");
      g_assert_cmpint (json_object_get_int_member (ev, "code"), ==, 503);
      assert_call_up (&c, first_event);
    }
  }

  /* after all that, a REFER that names someone is taken and reported */
  {
    g_autofree char *resp = call_request (&c, "REFER", "Refer-To: <sip:supervisor@127.0.0.1>\n",
                                          NULL, NULL);
    JsonObject *ev;

    g_assert_cmpuint (msg_status (resp), ==, 202);
    ev = wait_event (phone, "refer");
    g_assert_cmpstr (json_object_get_string_member (ev, "target"), ==,
                     "sip:supervisor@127.0.0.1");
  }

  /* the peer hangs up: the call ends as a call ends */
  {
    g_autofree char *resp = call_request (&c, "BYE", NULL, NULL, NULL);
    JsonObject *ev;

    g_assert_cmpuint (msg_status (resp), ==, 200);
    ev = wait_event (phone, "closed");
    g_assert_cmpstr (json_object_get_string_member (ev, "reason"), ==, "remote hangup");
  }

  call_clear (&c);
  quit_phone (phone);
}

/* Garbage at a call's RTP and RTCP ports, from a stranger and from the
 * peer's own address, while the peer itself sends nothing: nothing of it
 * counts, and the call's audio keeps going where the SDP said. */
static void
test_rtp_garbage (Fixture *fx, gconstpointer data)
{
  guint16 sip_port;
  Phone *phone = start_listening_phone (fx, "phone",
                                        (const char *const[]) { "--auto-answer", NULL },
                                        &sip_port);
  g_autoptr(Peer) peer = peer_new (sip_port);
  Call c = { 0 };
  guint first_event;

  (void) data;
  call_setup (&c, fx, phone, peer);
  first_event = phone->events->len;

  /* garbage at the call's RTP and RTCP ports, from the peer's address and
   * from a stranger's: the call stays up, none of it counts as audio or
   * as a digit, and the call's audio still goes to the peer, none of it
   * to the stranger */
  {
    guint16 stranger_port;
    g_autoptr(GSocket) stranger = udp_socket (&stranger_port);
    g_autoptr(GSocketAddress) phone_rtp = loopback (c.phone_rtp_port);
    JsonObject *stats;
    guint to_peer, to_stranger;

    g_assert_cmpuint (count_rtp_from_phone (c.rtp, 300), >, 5);
    /* from the peer's own RTP address, then from the stranger's */
    send_rtp_garbage (fx, c.rtp, c.phone_rtp_port, TRUE);
    send_rtp_garbage (fx, stranger, c.phone_rtp_port, FALSE);
    g_usleep (100 * 1000);
    udp_drain (c.rtp);
    to_peer = count_rtp_from_phone (c.rtp, 500);
    to_stranger = udp_drain (stranger);
    g_test_message ("RTP from the phone after the garbage: %u to the peer, %u to the stranger",
                    to_peer, to_stranger);

    stats = call_stats (phone, c.call);
    g_assert_cmpint (json_object_get_int_member (stats, "packets_received"), ==, 0);
    g_assert_cmpint (json_object_get_int_member (stats, "dtmf_received"), ==, 0);
    sync_events (phone);
    g_assert_cmpuint (count_events_since (phone, first_event, "dtmf"), ==, 0);
    assert_call_up (&c, first_event);

    /* what does count: PCMU from the peer */
    {
      guint8 silence[160];
      guint32 ssrc = g_rand_int (fx->rand);

      memset (silence, 0xff, sizeof silence);
      for (guint i = 0; i < 25; i++)
        {
          g_autoptr(GBytes) pkt = rtp_packet (RTP_PT_PCMU, (guint16) (500 + i), 160 * i, ssrc,
                                              silence, sizeof silence);

          send_bytes (c.rtp, phone_rtp, pkt);
          g_usleep (20 * 1000);
        }
      stats = call_stats (phone, c.call);
      g_assert_cmpint (json_object_get_int_member (stats, "packets_received"), >=, 20);
    }

    /* asserted last, so that a failure here leaves the rest checked: the
     * garbage did not take the call's audio away from the peer */
    g_assert_cmpuint (to_stranger, ==, 0);
    g_assert_cmpuint (to_peer, >, 10);
  }

  {
    g_autofree char *resp = call_request (&c, "BYE", NULL, NULL, NULL);

    g_assert_cmpuint (msg_status (resp), ==, 200);
    wait_event (phone, "closed");
  }
  call_clear (&c);
  quit_phone (phone);
}

/* A hundred re-INVITEs with damaged SDP: each gets a final answer (200
 * when what is left is still good SDP, else 488), and a good one after
 * them still brings the call back to PCMU both ways. */
static void
test_reinvite_fuzz (Fixture *fx, gconstpointer data)
{
  guint16 sip_port;
  Phone *phone = start_listening_phone (fx, "phone",
                                        (const char *const[]) { "--auto-answer", NULL },
                                        &sip_port);
  g_autoptr(Peer) peer = peer_new (sip_port);
  g_autofree char *good = NULL;
  g_autofree char *resp = NULL;
  Call c = { 0 };
  guint first_event;
  guint refused = 0;

  (void) data;
  call_setup (&c, fx, phone, peer);
  first_event = phone->events->len;
  good = g_strdup_printf ("v=0\n"
                          "o=tester 1 7 IN IP4 127.0.0.1\n"
                          "s=-\n"
                          "c=IN IP4 127.0.0.1\n"
                          "t=0 0\n"
                          "m=audio %u RTP/AVP 0 8 %d\n"
                          "a=rtpmap:0 PCMU/8000\n"
                          "a=rtpmap:8 PCMA/8000\n"
                          "a=rtpmap:%d telephone-event/8000\n"
                          "a=fmtp:%d 0-15\n"
                          "a=ptime:20\n"
                          "a=sendrecv\n",
                          c.rtp_port, TELEV_PT, TELEV_PT, TELEV_PT);

  for (int i = 0; i < 100; i++)
    {
      g_autofree char *sdp = mangle_lines (fx, good);
      g_autofree char *r = call_request (&c, "INVITE", NULL, "application/sdp", sdp);
      guint code = msg_status (r);

      if (code != 200 && code != 488)
        {
          g_autofree char *shown = g_strescape (sdp, NULL);

          g_error ("re-INVITE with “%s”: %u", shown, code);
        }
      refused += code == 488;
    }
  g_test_message ("%u of 100 damaged offers refused", refused);
  g_assert_cmpuint (refused, >, 10);
  call_stats (phone, c.call);
  g_assert_cmpuint (count_events_since (phone, first_event, "closed"), ==, 0);

  resp = call_request (&c, "INVITE", NULL, "application/sdp", good);
  g_assert_cmpuint (msg_status (resp), ==, 200);
  assert_call_up (&c, first_event);
  g_assert_cmpuint (count_rtp_from_phone (c.rtp, 300), >, 5);

  {
    g_autofree char *bye = call_request (&c, "BYE", NULL, NULL, NULL);

    g_assert_cmpuint (msg_status (bye), ==, 200);
    wait_event (phone, "closed");
  }
  call_clear (&c);
  quit_phone (phone);
}

/* --- what the engine hands the UI ------------------------------------------ */

typedef struct {
  struct kefu_phone_loop *loop;
  struct kefu_ua *ua;           /* phone thread only */
  struct kefu_calls *calls;     /* only passed to kefu_call_* */
  guint16 port;
  GPtrArray *texts;             /* char *: strings of the events */
  guint call_id;
  gboolean established;
  guint refers;
} Engine;

/* UI side: every string of INCOMING and REFER events; the call's id */
static void
on_engine_event (const struct kefu_call_event *ev, void *arg)
{
  Engine *e = arg;
  GPtrArray *texts = e->texts;

  if (ev->type == KEFU_CALL_EVENT_ESTABLISHED)
    e->established = TRUE;
  if (ev->type == KEFU_CALL_EVENT_REFER)
    {
      g_ptr_array_add (texts, g_strdup (ev->refer_to));
      g_ptr_array_add (texts, g_strdup (ev->referred_by));
      e->refers++;
      return;
    }
  if (ev->type != KEFU_CALL_EVENT_INCOMING)
    return;
  e->call_id = ev->call_id;
  g_ptr_array_add (texts, g_strdup (ev->from_name));
  g_ptr_array_add (texts, g_strdup (ev->from_uri));
  g_ptr_array_add (texts, g_strdup (ev->to_uri));
  for (guint i = 0; ev->headers && i < ev->headers->len; i++)
    {
      const struct kefu_call_header *h = ev->headers->pdata[i];

      g_ptr_array_add (texts, g_strdup (h->name));
      g_ptr_array_add (texts, g_strdup (h->value));
    }
}

/* phone thread */
static int
engine_setup (void *arg)
{
  Engine *e = arg;
  struct kefu_ua_config cfg = { .laddr = "127.0.0.1" };
  struct kefu_calls_config ccfg = {
    .listen_any = TRUE,
    .eventh = on_engine_event,
    .arg = e,
  };
  int err;

  err = kefu_ua_alloc (&e->ua, e->loop, &cfg);
  if (!err)
    err = kefu_ua_local_port (e->ua, SIP_TRANSP_UDP, &e->port);
  if (!err)
    err = kefu_calls_alloc (&e->calls, e->loop, e->ua, &ccfg);
  return err;
}

static gboolean
texts_arrived (gpointer data)
{
  return ((Engine *) data)->texts->len > 0;
}

static gboolean
engine_established (gpointer data)
{
  return ((Engine *) data)->established;
}

static gboolean
engine_referred (gpointer data)
{
  return ((Engine *) data)->refers > 0;
}

/* A caller's bytes that are not UTF-8 (a Latin-1 display name, a header
 * with stray bytes, a Referred-By) reach the UI as valid UTF-8 strings:
 * GTK shows them, JSON carries them.  In-process, since kefu-phone's own
 * output repairs them again on the way out. */
static void
test_engine_utf8 (Fixture *fx, gconstpointer data)
{
  Engine e = { 0 };
  g_autoptr(Peer) peer = NULL;
  g_autoptr(Dialog) dlg = dialog_new (fx);
  g_autofree char *branch = NULL;
  g_autofree char *sdp = sdp_pcmu (4000, "sendrecv");
  g_autofree char *invite = NULL;
  g_autofree char *latin1 = NULL;

  (void) data;
  e.texts = g_ptr_array_new_with_free_func (g_free);
  g_assert_cmpint (kefu_phone_loop_start (&e.loop, NULL), ==, 0);
  g_assert_cmpint (kefu_phone_loop_call_sync (e.loop, engine_setup, &e), ==, 0);

  peer = peer_new (e.port);
  invite = sip_request (peer, dlg, "INVITE", "X-Kefu-Customer: Ren\xe9 \xc3\x28 \xff\n",
                        "application/sdp", sdp, &branch);
  latin1 = replace (invite, "\"Tester\"", "\"Fran\xe7ois \xff\xfe\"");
  peer_send (peer, latin1);
  kefu_test_run_until (texts_arrived, &e, "the incoming call");

  /* answered, ACKed, and asked to transfer by someone not in UTF-8 */
  {
    g_autofree char *resp = NULL;
    g_autofree char *to = NULL;
    g_autofree char *ack_branch = NULL;
    g_autofree char *ack = NULL;
    g_autofree char *refer_branch = NULL;
    g_autofree char *refer = NULL;

    g_assert_cmpint (kefu_call_answer (e.loop, e.calls, e.call_id), ==, 0);
    resp = peer_wait_final (peer, branch, NULL);
    g_assert_cmpuint (msg_status (resp), ==, 200);
    to = msg_header (resp, "To");
    dlg->to_tag = tag_of (to);
    ack = sip_request (peer, dlg, "ACK", NULL, NULL, NULL, &ack_branch);
    peer_send (peer, ack);
    kefu_test_run_until (engine_established, &e, "the call to be established");
    refer = sip_request (peer, dlg, "REFER",
                         "Refer-To: <sip:supervisor@127.0.0.1>\n"
                         "Referred-By: \"Jos\xe9 \xff\" <sip:jose@127.0.0.1>\n",
                         NULL, NULL, &refer_branch);
    g_clear_pointer (&resp, g_free);
    resp = peer_transact (peer, refer, refer_branch, NULL);
    g_assert_cmpuint (msg_status (resp), ==, 202);
    kefu_test_run_until (engine_referred, &e, "the refer event");
  }

  for (guint i = 0; i < e.texts->len; i++)
    {
      const char *text = e.texts->pdata[i];

      if (!g_utf8_validate (text, -1, NULL))
        {
          g_autofree char *shown = g_strescape (text, NULL);

          g_error ("not UTF-8 in an event: “%s”", shown);
        }
    }
  g_assert_true (g_str_has_prefix (e.texts->pdata[0], "Fran"));

  kefu_phone_loop_stop (e.loop);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_ptr_array_unref (e.texts);
}

/* --- garbage RTP into a call with real audio ------------------------------- */

#define TONE_CALLER 700.0
#define TONE_CALLEE 1100.0

static gint64
peer_packets_received (KefuTestPeer *p, gint64 call)
{
  JsonObject *ev;

  kefu_test_peer_send (p, "stats %" G_GINT64_FORMAT, call);
  ev = kefu_test_peer_wait (p, "stats");
  g_assert_cmpint (json_object_get_int_member (ev, "call"), ==, call);
  return json_object_get_int_member (json_object_get_object_member (ev, "stats"),
                                     "packets_received");
}

static void
peer_quit (KefuTestPeer *p)
{
  kefu_test_peer_quit (p);
  /* its output read to the end before the peer goes */
  kefu_test_run_until (kefu_test_flag_set, &p->eof, "the end of kefu-phone's output");
}

/* Two kefu-phones in a call, each playing its own tone; a stranger floods
 * the called one's RTP and RTCP ports with garbage and unknown payload
 * types meanwhile.  Both keep receiving each other at the full packet rate
 * (no more: garbage is not audio), the stranger gets nothing, and after
 * the flood each still hears the other's tone. */
static void
test_rtp_flood (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("kefu-bad-input-XXXXXX", &error);
  const char *const auto_answer[] = { "--auto-answer", NULL };
  KefuTestPeer caller = { 0 }, callee = { 0 };
  guint16 stranger_port;
  g_autoptr(GSocket) stranger = udp_socket (&stranger_port);
  gint64 callee_call, caller_call, t0, t1;
  gint64 callee_before, caller_before, callee_after, caller_after;
  guint to_stranger = 0;
  guint16 rtp_port;
  JsonObject *ev;
  double expected;

  (void) data;
  g_assert_no_error (error);
  kefu_test_peer_start (&callee, dir, "callee", TONE_CALLEE, auto_answer);
  kefu_test_peer_start (&caller, dir, "caller", TONE_CALLER, NULL);
  kefu_test_peer_wait (&callee, "ready");
  kefu_test_peer_wait (&caller, "ready");
  kefu_test_peer_send (&caller, "dial sip:agent@127.0.0.1:%u", callee.port);
  ev = kefu_test_peer_wait (&callee, "established");
  callee_call = json_object_get_int_member (ev, "call");
  rtp_port = (guint16) json_object_get_int_member (ev, "local_rtp_port");
  ev = kefu_test_peer_wait (&caller, "established");
  caller_call = json_object_get_int_member (ev, "call");
  g_usleep (300 * 1000);

  t0 = g_get_monotonic_time ();
  callee_before = peer_packets_received (&callee, callee_call);
  caller_before = peer_packets_received (&caller, caller_call);
  for (int burst = 0; burst < 5; burst++)
    {
      send_rtp_garbage (fx, stranger, rtp_port, FALSE);
      g_usleep (150 * 1000);
      to_stranger += udp_drain (stranger);
    }
  callee_after = peer_packets_received (&callee, callee_call);
  caller_after = peer_packets_received (&caller, caller_call);
  t1 = g_get_monotonic_time ();

  /* 50 packets a second each way, with a margin for the stats' timing */
  expected = (double) (t1 - t0) / 1e6 * 50.0;
  g_test_message ("%.2f s of garbage: the callee received %" G_GINT64_FORMAT
                  ", the caller %" G_GINT64_FORMAT " (about %.0f due)",
                  (double) (t1 - t0) / 1e6, callee_after - callee_before,
                  caller_after - caller_before, expected);
  g_assert_cmpfloat ((double) (callee_after - callee_before), >=, expected * 0.7);
  g_assert_cmpfloat ((double) (callee_after - callee_before), <=, expected * 1.3 + 5);
  g_assert_cmpfloat ((double) (caller_after - caller_before), >=, expected * 0.7);
  g_assert_cmpuint (to_stranger + udp_drain (stranger), ==, 0);

  /* a second more of the call, then each must have heard the other */
  g_usleep (1000 * 1000);
  g_assert_cmpint (peer_packets_received (&callee, callee_call), >, callee_after + 30);
  g_assert_cmpint (peer_packets_received (&caller, caller_call), >, caller_after + 30);
  kefu_test_peer_send (&caller, "hangup");
  ev = kefu_test_peer_wait (&callee, "closed");
  g_assert_cmpstr (json_object_get_string_member (ev, "reason"), ==, "remote hangup");
  kefu_test_peer_wait (&caller, "closed");
  g_assert_cmpuint (count_json_events (callee.events, "dtmf"), ==, 0);
  kefu_test_assert_hears ("callee, after the flood", callee.recording, 0, TONE_CALLER, 0.8);
  kefu_test_assert_hears ("caller, after the flood", caller.recording, 0, TONE_CALLEE, 0.8);

  peer_quit (&caller);
  peer_quit (&callee);
  kefu_test_peer_clear (&caller);
  kefu_test_peer_clear (&callee);
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
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/bad-input/malformed-requests", Fixture, NULL, fixture_set_up,
              test_malformed_requests, fixture_tear_down);
  g_test_add ("/bad-input/engine-utf8", Fixture, NULL, fixture_set_up, test_engine_utf8,
              fixture_tear_down);
  g_test_add ("/bad-input/no-ack", Fixture, NULL, fixture_set_up, test_no_ack,
              fixture_tear_down);
  g_test_add ("/bad-input/bad-answer-in-ack", Fixture, NULL, fixture_set_up,
              test_bad_answer_in_ack, fixture_tear_down);
  g_test_add ("/bad-input/in-call", Fixture, NULL, fixture_set_up, test_bad_in_call,
              fixture_tear_down);
  g_test_add ("/bad-input/reinvite-fuzz", Fixture, NULL, fixture_set_up, test_reinvite_fuzz,
              fixture_tear_down);
  g_test_add ("/bad-input/rtp-garbage", Fixture, NULL, fixture_set_up, test_rtp_garbage,
              fixture_tear_down);
  g_test_add ("/bad-input/rtp-flood", Fixture, NULL, fixture_set_up, test_rtp_flood,
              fixture_tear_down);

  return g_test_run ();
}
