/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Call signalling against real peers on 127.0.0.1, through the phone
 * thread: sipp playing the switch and far-end phones (tests/sip/uac-*.xml,
 * uas-*.xml), and Debian's baresip as a real softphone.
 */
#define G_LOG_DOMAIN "TestCalls"

#include "kefu-test-wait.h"
#include "config.h"

#include <errno.h>
#include <string.h>
#include <signal.h>
#include <gio/gio.h>
#include <glib/gstdio.h>

#include "kefu-call-session.h"
#include "kefu-phone-loop.h"
#include "kefu-registration.h"

#define SIPP_TIMEOUT_S "30"
#define WAIT_TIMEOUT_S 20
#define SIP_TRANSP_UDP 0        /* libre's enum sip_transp */

typedef struct {
  enum kefu_call_event_type type;
  guint call_id;
  char *account_id;
  guint scode;
  char *reason;
  gboolean early_media;
  char *codec;
  int telev_pt;
  guint local_rtp_port;
  gboolean local_hold;
  gboolean remote_hold;
  char *from_name;
  char *from_uri;
  char *to_uri;
  GPtrArray *headers;           /* name, value, name, value ... */
  gboolean used;                /* a wait has returned it */
} SeenEvent;

typedef struct {
  struct kefu_phone_loop *loop;
  struct kefu_ua *ua;           /* phone thread only: never touched here */
  struct kefu_calls *calls;     /* likewise: only passed to kefu_call_* */
  guint16 sip_port;
  GPtrArray *events;            /* SeenEvent */
  GPtrArray *children;          /* GSubprocess, killed at the end */
  char *tmpdir;
  gboolean accounts_only;       /* no --listen: calls for accounts only */
} Fixture;

static void
seen_event_free (gpointer data)
{
  SeenEvent *ev = data;

  g_free (ev->account_id);
  g_free (ev->reason);
  g_free (ev->codec);
  g_free (ev->from_name);
  g_free (ev->from_uri);
  g_free (ev->to_uri);
  if (ev->headers)
    g_ptr_array_unref (ev->headers);
  g_free (ev);
}

/* UI side */
static void
on_call_event (const struct kefu_call_event *ev, void *arg)
{
  Fixture *fx = arg;
  SeenEvent *seen = g_new0 (SeenEvent, 1);

  seen->type = ev->type;
  seen->call_id = ev->call_id;
  seen->account_id = g_strdup (ev->account_id);
  seen->scode = ev->scode;
  seen->reason = g_strdup (ev->reason);
  seen->early_media = ev->early_media;
  seen->codec = g_strdup (ev->codec);
  seen->telev_pt = ev->telev_pt;
  seen->local_rtp_port = ev->local_rtp_port;
  seen->local_hold = ev->local_hold;
  seen->remote_hold = ev->remote_hold;
  seen->from_name = g_strdup (ev->from_name);
  seen->from_uri = g_strdup (ev->from_uri);
  seen->to_uri = g_strdup (ev->to_uri);
  if (ev->headers)
    {
      seen->headers = g_ptr_array_new_with_free_func (g_free);
      for (guint i = 0; i < ev->headers->len; i++)
        {
          const struct kefu_call_header *h = ev->headers->pdata[i];

          g_ptr_array_add (seen->headers, g_strdup (h->name));
          g_ptr_array_add (seen->headers, g_strdup (h->value));
        }
    }
  g_debug ("event: call %u %s %u '%s'", ev->call_id, kefu_call_event_type_name (ev->type),
           ev->scode, ev->reason ? ev->reason : "");
  g_ptr_array_add (fx->events, seen);
}

static const char *
seen_header (const SeenEvent *ev, const char *name)
{
  for (guint i = 0; ev->headers && i + 1 < ev->headers->len; i += 2)
    if (g_ascii_strcasecmp (ev->headers->pdata[i], name) == 0)
      return ev->headers->pdata[i + 1];
  return NULL;
}

/* phone thread */
static int
setup_ua (void *arg)
{
  Fixture *fx = arg;
  struct kefu_ua_config cfg = { .laddr = "127.0.0.1" };
  struct kefu_calls_config ccfg = {
    .listen_any = !fx->accounts_only,
    .listen_user = "agent",
    .display_name = "Kefu Agent",
    .codecs = "pcmu,pcma,opus",
    .eventh = on_call_event,
    .arg = fx,
  };
  int err;

  kefu_phone_loop_set_stop_timeout (fx->loop, 2000);
  err = kefu_ua_alloc (&fx->ua, fx->loop, &cfg);
  if (!err)
    err = kefu_ua_local_port (fx->ua, SIP_TRANSP_UDP, &fx->sip_port);
  if (!err)
    err = kefu_calls_alloc (&fx->calls, fx->loop, fx->ua, &ccfg);
  return err;
}

static guint16
free_port (GSocketType type)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) sock = NULL;
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  g_autoptr(GSocketAddress) bound = NULL;

  sock = g_socket_new (G_SOCKET_FAMILY_IPV4, type, 0, &error);
  g_assert_no_error (error);
  g_socket_bind (sock, any, FALSE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (sock, &error);
  g_assert_no_error (error);

  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

/* A free UDP port whose neighbours (TLS on +1, RTP on +2) look free too. */
static guint16
free_port_with_gap (void)
{
  for (int tries = 0; tries < 50; tries++)
    {
      guint16 port = free_port (G_SOCKET_TYPE_DATAGRAM);
      g_autoptr(GSocket) probe = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, 0, NULL);
      g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
      g_autoptr(GSocketAddress) a = NULL;

      if (port > 60000)
        continue;
      a = g_inet_socket_address_new (lo, port + 1);
      if (probe && g_socket_bind (probe, a, FALSE, NULL))
        return port;
    }
  g_error ("no free port pair");
}

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
find_sipp (void)
{
  char *sipp = g_strdup (g_getenv ("SIPP"));

  /* Real peers are the point of these tests: without them they fail. */
  if (!sipp)
    sipp = g_find_program_in_path ("sipp");
  if (!sipp)
    g_error ("sipp is missing: install the Debian package sip-tester");
  return sipp;
}

static char *
scenario_path (const char *scenario)
{
  const char *srcdir = g_getenv ("KEFU_SOURCE_DIR");

  return g_build_filename (srcdir ? srcdir : ".", "tests", "sip", scenario, NULL);
}

/* A copy of a scenario in the test's own directory, with @from replaced. */
static char *
scenario_copy (Fixture *fx, const char *scenario, const char *from, const char *to)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = scenario_path (scenario);
  g_autofree char *text = NULL;
  g_auto(GStrv) parts = NULL;
  g_autofree char *changed = NULL;
  char *copy;

  if (!fx->tmpdir)
    {
      fx->tmpdir = g_dir_make_tmp ("kefu-calls-XXXXXX", &error);
      g_assert_no_error (error);
    }
  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  parts = g_strsplit (text, from, -1);
  g_assert_cmpuint (g_strv_length (parts), >, 1);
  changed = g_strjoinv (to, parts);
  copy = g_build_filename (fx->tmpdir, scenario, NULL);
  g_file_set_contents (copy, changed, -1, &error);
  g_assert_no_error (error);

  return copy;
}

/* sipp as a far-end phone (UAS) on a port of its own; @scenario is a
 * file in tests/sip or an absolute path */
static GSubprocess *
start_sipp_uas (Fixture *fx, const char *scenario, guint16 port, const char *const *extra)
{
  g_autofree char *sipp = find_sipp ();
  g_autofree char *path = g_path_is_absolute (scenario) ? g_strdup (scenario)
                                                        : scenario_path (scenario);
  g_autofree char *port_s = g_strdup_printf ("%u", port);
  g_autofree char *mport_s = g_strdup_printf ("%u", kefu_test_free_media_port ());
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  GSubprocess *proc;

  g_ptr_array_add (argv, sipp);
  g_ptr_array_add (argv, (char *) "-sf");
  g_ptr_array_add (argv, path);
  g_ptr_array_add (argv, (char *) "-i");
  g_ptr_array_add (argv, (char *) "127.0.0.1");
  g_ptr_array_add (argv, (char *) "-p");
  g_ptr_array_add (argv, port_s);
  g_ptr_array_add (argv, (char *) "-mp");
  g_ptr_array_add (argv, mport_s);
  g_ptr_array_add (argv, (char *) "-m");
  g_ptr_array_add (argv, (char *) "1");
  g_ptr_array_add (argv, (char *) "-nostdin");
  g_ptr_array_add (argv, (char *) "-timeout");
  g_ptr_array_add (argv, (char *) SIPP_TIMEOUT_S);
  g_ptr_array_add (argv, (char *) "-timeout_error");
  for (; extra && *extra; extra++)
    g_ptr_array_add (argv, (char *) *extra);
  g_ptr_array_add (argv, NULL);

  proc = spawn (fx, G_SUBPROCESS_FLAGS_STDOUT_SILENCE, (const char *const *) argv->pdata);
  /* let it bind before we send to it */
  g_usleep (300 * 1000);
  return proc;
}

/* sipp as the switch (UAC) calling @user at fx->sip_port */
static GSubprocess *
start_sipp_uac_to (Fixture *fx, const char *scenario, guint call_ms, const char *user)
{
  g_autofree char *sipp = find_sipp ();
  g_autofree char *path = g_path_is_absolute (scenario) ? g_strdup (scenario)
                                                        : scenario_path (scenario);
  g_autofree char *target = g_strdup_printf ("127.0.0.1:%u", fx->sip_port);
  g_autofree char *port_s = g_strdup_printf ("%u", free_port (G_SOCKET_TYPE_DATAGRAM));
  g_autofree char *mport_s = g_strdup_printf ("%u", kefu_test_free_media_port ());
  g_autofree char *dur_s = g_strdup_printf ("%u", call_ms);
  const char *argv[] = {
    sipp, target, "-sf", path, "-s", user, "-i", "127.0.0.1", "-p", port_s,
    "-mp", mport_s, "-d", dur_s, "-m", "1", "-nostdin",
    "-timeout", SIPP_TIMEOUT_S, "-timeout_error", NULL
  };

  return spawn (fx, G_SUBPROCESS_FLAGS_STDOUT_SILENCE, argv);
}

static GSubprocess *
start_sipp_uac (Fixture *fx, const char *scenario, guint call_ms)
{
  return start_sipp_uac_to (fx, scenario, call_ms, "agent");
}

typedef struct {
  Fixture *fx;
  enum kefu_call_event_type type;
  guint call_id;                /* 0: any */
  SeenEvent *found;
} EventWait;

static gboolean
event_seen (gpointer data)
{
  EventWait *w = data;

  for (guint i = 0; i < w->fx->events->len; i++)
    {
      SeenEvent *ev = g_ptr_array_index (w->fx->events, i);

      if (!ev->used && ev->type == w->type && (!w->call_id || ev->call_id == w->call_id))
        {
          ev->used = TRUE;
          w->found = ev;
          return TRUE;
        }
    }

  return FALSE;
}

static SeenEvent *
wait_for_event (Fixture *fx, enum kefu_call_event_type type, guint call_id)
{
  EventWait w = { fx, type, call_id, NULL };
  g_autofree char *what = g_strdup_printf ("call %u: %s", call_id,
                                           kefu_call_event_type_name (type));

  kefu_test_run_until (event_seen, &w, what);
  return w.found;
}

static gboolean
has_event (Fixture *fx, enum kefu_call_event_type type, guint call_id)
{
  for (guint i = 0; i < fx->events->len; i++)
    {
      const SeenEvent *ev = g_ptr_array_index (fx->events, i);

      if (ev->type == type && (!call_id || ev->call_id == call_id))
        return TRUE;
    }
  return FALSE;
}

static void
fixture_set_up (Fixture *fx, gconstpointer data)
{
  int err;

  fx->events = g_ptr_array_new_with_free_func (seen_event_free);
  fx->children = g_ptr_array_new_with_free_func (g_object_unref);
  err = kefu_phone_loop_start (&fx->loop, NULL);
  g_assert_cmpint (err, ==, 0);
  err = kefu_phone_loop_call_sync (fx->loop, setup_ua, fx);
  g_assert_cmpint (err, ==, 0);
  g_assert_cmpuint (fx->sip_port, !=, 0);
}

/* without --listen: an account (its registrar silent, which does not
 * matter for taking calls) */
static void
fixture_set_up_accounts (Fixture *fx, gconstpointer data)
{
  fx->accounts_only = TRUE;
  fixture_set_up (fx, data);
}

typedef struct {
  Fixture *fx;
  struct kefu_account_config acc;
} AccountArgs;

/* phone thread */
static int
add_account (void *arg)
{
  AccountArgs *aa = arg;

  return kefu_ua_register (aa->fx->ua, &aa->acc);
}

static void
stop_loop (Fixture *fx)
{
  if (!fx->loop)
    return;

  kefu_phone_loop_stop (fx->loop);
  fx->loop = NULL;
  fx->ua = NULL;
  fx->calls = NULL;

  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
fixture_tear_down (Fixture *fx, gconstpointer data)
{
  stop_loop (fx);

  for (guint i = 0; i < fx->children->len; i++)
    {
      GSubprocess *proc = fx->children->pdata[i];

      /* Whatever is still running failed or was meant to be cut off; its
       * verdict was taken already.  sipp may linger for seconds on SIGTERM
       * to finish calls gracefully, so it gets no choice. */
      if (g_subprocess_get_identifier (proc))
        {
          g_subprocess_force_exit (proc);
          kefu_test_wait_exit (proc, "a peer to exit");
        }
    }
  g_ptr_array_unref (fx->children);
  g_ptr_array_unref (fx->events);

  if (fx->tmpdir)
    {
      g_autoptr(GFile) dir = g_file_new_for_path (fx->tmpdir);
      g_autoptr(GFileEnumerator) en =
        g_file_enumerate_children (dir, G_FILE_ATTRIBUTE_STANDARD_NAME, 0, NULL, NULL);
      GFileInfo *info;

      while (en && (info = g_file_enumerator_next_file (en, NULL, NULL)))
        {
          g_autoptr(GFile) child = g_file_get_child (dir, g_file_info_get_name (info));

          g_file_delete (child, NULL, NULL);
          g_object_unref (info);
        }
      g_rmdir (fx->tmpdir);
      g_free (fx->tmpdir);
    }
}

/* --- outgoing, against sipp ------------------------------------------- */

static char *
peer_uri (const char *user, guint16 port)
{
  return g_strdup_printf ("sip:%s@127.0.0.1:%u", user, port);
}

static void
test_outgoing_answered (Fixture *fx, gconstpointer data)
{
  guint16 port = free_port (G_SOCKET_TYPE_DATAGRAM);
  g_autofree char *uri = peer_uri ("callee", port);
  g_autoptr(GSubprocess) sipp = start_sipp_uas (fx, "uas-answer.xml", port, NULL);
  const SeenEvent *ev;
  guint id;

  id = kefu_call_dial (fx->loop, fx->calls, NULL, uri, NULL);
  g_assert_cmpuint (id, !=, 0);

  ev = wait_for_event (fx, KEFU_CALL_EVENT_PROGRESS, id);
  g_assert_cmpuint (ev->scode, ==, 180);
  g_assert_false (ev->early_media);

  ev = wait_for_event (fx, KEFU_CALL_EVENT_ESTABLISHED, id);
  g_assert_cmpstr (ev->codec, ==, "PCMU");
  /* the peer's telephone-event number, not our 101 */
  g_assert_cmpint (ev->telev_pt, ==, 120);
  g_assert_cmpuint (ev->local_rtp_port, !=, 0);

  g_assert_cmpint (kefu_call_hangup (fx->loop, fx->calls, id), ==, 0);
  ev = wait_for_event (fx, KEFU_CALL_EVENT_CLOSED, id);
  g_assert_cmpstr (ev->reason, ==, "local hangup");
  /* sipp only completes once it got our BYE */
  kefu_test_assert_sipp_completed (sipp);
}

static void
test_outgoing_early_media (Fixture *fx, gconstpointer data)
{
  guint16 port = free_port (G_SOCKET_TYPE_DATAGRAM);
  g_autofree char *uri = peer_uri ("callee", port);
  g_autoptr(GSubprocess) sipp = start_sipp_uas (fx, "uas-early-media.xml", port, NULL);
  const SeenEvent *ev;
  guint id;

  id = kefu_call_dial (fx->loop, fx->calls, NULL, uri, NULL);
  ev = wait_for_event (fx, KEFU_CALL_EVENT_PROGRESS, id);
  g_assert_cmpuint (ev->scode, ==, 183);
  g_assert_true (ev->early_media);
  ev = wait_for_event (fx, KEFU_CALL_EVENT_ESTABLISHED, id);
  g_assert_cmpstr (ev->codec, ==, "PCMU");
  g_assert_cmpint (ev->telev_pt, ==, 120);
  g_assert_cmpint (kefu_call_hangup (fx->loop, fx->calls, id), ==, 0);
  wait_for_event (fx, KEFU_CALL_EVENT_CLOSED, id);
  kefu_test_assert_sipp_completed (sipp);
}

/* hanging up while it rings sends CANCEL */
static void
test_outgoing_cancelled (Fixture *fx, gconstpointer data)
{
  guint16 port = free_port (G_SOCKET_TYPE_DATAGRAM);
  g_autofree char *uri = peer_uri ("callee", port);
  g_autoptr(GSubprocess) sipp = start_sipp_uas (fx, "uas-cancelled.xml", port, NULL);
  const SeenEvent *ev;
  guint id;

  id = kefu_call_dial (fx->loop, fx->calls, NULL, uri, NULL);
  ev = wait_for_event (fx, KEFU_CALL_EVENT_PROGRESS, id);
  g_assert_cmpuint (ev->scode, ==, 180);
  g_assert_cmpint (kefu_call_hangup (fx->loop, fx->calls, id), ==, 0);
  ev = wait_for_event (fx, KEFU_CALL_EVENT_CLOSED, id);
  g_assert_cmpstr (ev->reason, ==, "local hangup");
  kefu_test_assert_sipp_completed (sipp);
}

/* quitting the phone hangs up the calls (BYE) */
static void
test_outgoing_stop (Fixture *fx, gconstpointer data)
{
  guint16 port = free_port (G_SOCKET_TYPE_DATAGRAM);
  g_autofree char *uri = peer_uri ("callee", port);
  g_autoptr(GSubprocess) sipp = start_sipp_uas (fx, "uas-answer.xml", port, NULL);
  const SeenEvent *ev;
  guint id;

  id = kefu_call_dial (fx->loop, fx->calls, NULL, uri, NULL);
  wait_for_event (fx, KEFU_CALL_EVENT_ESTABLISHED, id);
  stop_loop (fx);
  g_assert_true (has_event (fx, KEFU_CALL_EVENT_CLOSED, id));
  ev = wait_for_event (fx, KEFU_CALL_EVENT_CLOSED, id);
  g_assert_cmpstr (ev->reason, ==, "local hangup");
  kefu_test_assert_sipp_completed (sipp);
}

typedef struct {
  const char *code;
  const char *reason;
} Refusal;

static const Refusal refusals[] = {
  { "486", "Busy Here" },
  { "603", "Decline" },
  { "404", "Not Found" },
  { "408", "Request Timeout" },
  { "488", "Not Acceptable Here" },
};

static void
test_outgoing_refused (Fixture *fx, gconstpointer data)
{
  const Refusal *r = data;
  guint16 port = free_port (G_SOCKET_TYPE_DATAGRAM);
  g_autofree char *uri = peer_uri ("callee", port);
  g_autofree char *status = g_strdup_printf ("%s %s", r->code, r->reason);
  g_autofree char *scenario = scenario_copy (fx, "uas-reject.xml", "486 Busy Here", status);
  g_autoptr(GSubprocess) sipp = start_sipp_uas (fx, scenario, port, NULL);
  const SeenEvent *ev;
  guint id;

  id = kefu_call_dial (fx->loop, fx->calls, NULL, uri, NULL);
  g_assert_cmpuint (id, !=, 0);
  ev = wait_for_event (fx, KEFU_CALL_EVENT_CLOSED, id);
  g_assert_cmpuint (ev->scode, ==, g_ascii_strtoull (r->code, NULL, 10));
  g_assert_cmpstr (ev->reason, ==, r->reason);
  g_assert_false (has_event (fx, KEFU_CALL_EVENT_ESTABLISHED, id));
  /* sipp checks we ACKed the refusal */
  kefu_test_assert_sipp_completed (sipp);
}

static void
test_outgoing_hold (Fixture *fx, gconstpointer data)
{
  guint16 port = free_port (G_SOCKET_TYPE_DATAGRAM);
  g_autofree char *uri = peer_uri ("callee", port);
  g_autoptr(GSubprocess) sipp = start_sipp_uas (fx, "uas-hold.xml", port, NULL);
  const SeenEvent *ev;
  guint id;

  id = kefu_call_dial (fx->loop, fx->calls, NULL, uri, NULL);
  ev = wait_for_event (fx, KEFU_CALL_EVENT_ESTABLISHED, id);
  g_assert_false (ev->local_hold);

  /* sipp refuses a hold offer that is not a=sendonly */
  g_assert_cmpint (kefu_call_hold (fx->loop, fx->calls, id, TRUE), ==, 0);
  ev = wait_for_event (fx, KEFU_CALL_EVENT_HELD, id);
  g_assert_true (ev->local_hold);
  g_assert_cmpstr (ev->codec, ==, "PCMU");

  g_assert_cmpint (kefu_call_hold (fx->loop, fx->calls, id, FALSE), ==, 0);
  ev = wait_for_event (fx, KEFU_CALL_EVENT_RESUMED, id);
  g_assert_false (ev->local_hold);

  g_assert_cmpint (kefu_call_hangup (fx->loop, fx->calls, id), ==, 0);
  wait_for_event (fx, KEFU_CALL_EVENT_CLOSED, id);
  kefu_test_assert_sipp_completed (sipp);
}

/* --- incoming, from sipp playing the switch -------------------------- */

static void
test_incoming_screen_pop (Fixture *fx, gconstpointer data)
{
  g_autoptr(GSubprocess) sipp = start_sipp_uac (fx, "uac-screen-pop.xml", 500);
  const SeenEvent *ev;
  guint id;

  ev = wait_for_event (fx, KEFU_CALL_EVENT_INCOMING, 0);
  id = ev->call_id;
  g_assert_cmpuint (id, !=, 0);
  g_assert_cmpstr (ev->from_name, ==, "Queue Sales");
  g_assert_true (g_str_has_prefix (ev->from_uri, "sip:switch@127.0.0.1:"));
  g_assert_true (g_str_has_prefix (ev->to_uri, "sip:agent@127.0.0.1:"));
  /* the screen pop, and every other header too */
  g_assert_cmpstr (seen_header (ev, "X-Kefu-Call"), ==, "4711");
  g_assert_cmpstr (seen_header (ev, "X-Kefu-Queue"), ==, "sales");
  g_assert_cmpstr (seen_header (ev, "X-Kefu-Customer"), ==, "C-1002");
  g_assert_cmpstr (seen_header (ev, "X-Kefu-Ivr"), ==, "1>2");
  g_assert_cmpstr (seen_header (ev, "X-Kefu-Wait"), ==, "37");
  g_assert_cmpstr (seen_header (ev, "CSeq"), ==, "1 INVITE");
  g_assert_cmpstr (seen_header (ev, "Max-Forwards"), ==, "70");
  g_assert_nonnull (seen_header (ev, "Call-ID"));
  g_assert_nonnull (seen_header (ev, "Via"));
  g_assert_cmpuint (ev->headers->len / 2, ==, 14);

  g_assert_cmpint (kefu_call_answer (fx->loop, fx->calls, id), ==, 0);
  ev = wait_for_event (fx, KEFU_CALL_EVENT_ESTABLISHED, id);
  /* the offerer's first codec, and its telephone-event number */
  g_assert_cmpstr (ev->codec, ==, "PCMA");
  g_assert_cmpint (ev->telev_pt, ==, 120);

  ev = wait_for_event (fx, KEFU_CALL_EVENT_CLOSED, id);
  g_assert_cmpstr (ev->reason, ==, "remote hangup");
  kefu_test_assert_sipp_completed (sipp);
}

static void
test_incoming_cancel (Fixture *fx, gconstpointer data)
{
  g_autoptr(GSubprocess) sipp = start_sipp_uac (fx, "uac-cancel.xml", 0);
  const SeenEvent *ev;
  guint id;

  ev = wait_for_event (fx, KEFU_CALL_EVENT_INCOMING, 0);
  id = ev->call_id;
  ev = wait_for_event (fx, KEFU_CALL_EVENT_CLOSED, id);
  g_assert_cmpstr (ev->reason, ==, "cancelled");
  /* 200 to the CANCEL, 487 to the INVITE */
  kefu_test_assert_sipp_completed (sipp);
}

static void
test_incoming_refused (Fixture *fx, gconstpointer data)
{
  guint scode = GPOINTER_TO_UINT (data);
  g_autoptr(GSubprocess) sipp = start_sipp_uac (fx, scode == 486 ? "uac-busy.xml"
                                                : "uac-decline.xml", 0);
  const SeenEvent *ev;
  guint id;

  ev = wait_for_event (fx, KEFU_CALL_EVENT_INCOMING, 0);
  id = ev->call_id;
  g_assert_cmpint (kefu_call_reject (fx->loop, fx->calls, id, scode), ==, 0);
  ev = wait_for_event (fx, KEFU_CALL_EVENT_CLOSED, id);
  g_assert_cmpuint (ev->scode, ==, scode);
  /* sipp expects exactly this status */
  kefu_test_assert_sipp_completed (sipp);
}

static void
test_incoming_no_common_codec (Fixture *fx, gconstpointer data)
{
  g_autoptr(GSubprocess) sipp = start_sipp_uac (fx, "uac-g729.xml", 0);

  /* sipp expects 488 */
  kefu_test_assert_sipp_completed (sipp);
  /* and the agent's phone never rang */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_false (has_event (fx, KEFU_CALL_EVENT_INCOMING, 0));
}

static void
test_incoming_remote_hold (Fixture *fx, gconstpointer data)
{
  g_autoptr(GSubprocess) sipp = start_sipp_uac (fx, "uac-remote-hold.xml", 0);
  const SeenEvent *ev;
  guint id;

  ev = wait_for_event (fx, KEFU_CALL_EVENT_INCOMING, 0);
  id = ev->call_id;
  g_assert_cmpint (kefu_call_answer (fx->loop, fx->calls, id), ==, 0);
  ev = wait_for_event (fx, KEFU_CALL_EVENT_ESTABLISHED, id);
  g_assert_false (ev->remote_hold);

  ev = wait_for_event (fx, KEFU_CALL_EVENT_REMOTE_HOLD, id);
  g_assert_true (ev->remote_hold);
  ev = wait_for_event (fx, KEFU_CALL_EVENT_REMOTE_RESUMED, id);
  g_assert_false (ev->remote_hold);

  ev = wait_for_event (fx, KEFU_CALL_EVENT_CLOSED, id);
  g_assert_cmpstr (ev->reason, ==, "remote hangup");
  kefu_test_assert_sipp_completed (sipp);
}

/* without --listen, an INVITE must name an account's user */
static void
test_incoming_account (Fixture *fx, gconstpointer data)
{
  g_autofree char *registrar = peer_uri ("registrar", free_port (G_SOCKET_TYPE_DATAGRAM));
  AccountArgs aa = {
    .fx = fx,
    .acc = {
      .id = "agent-1001",
      .aor = "sip:1001@127.0.0.1",
      .password = "secret",
      .registrar = registrar,
      .timeout_ms = 60000,
    },
  };
  g_autofree char *not_found = scenario_copy (fx, "uac-g729.xml", "<recv response=\"488\"/>",
                                              "<recv response=\"404\"/>");
  g_autoptr(GSubprocess) sipp = NULL;
  const SeenEvent *ev;

  g_assert_cmpint (kefu_phone_loop_call_sync (fx->loop, add_account, &aa), ==, 0);

  sipp = start_sipp_uac_to (fx, "uac-cancel.xml", 0, "1001");
  ev = wait_for_event (fx, KEFU_CALL_EVENT_INCOMING, 0);
  g_assert_cmpstr (ev->account_id, ==, "agent-1001");
  wait_for_event (fx, KEFU_CALL_EVENT_CLOSED, ev->call_id);
  kefu_test_assert_sipp_completed (sipp);
  g_clear_object (&sipp);

  /* nobody here by that name: 404, and no ringing */
  sipp = start_sipp_uac_to (fx, not_found, 0, "agent");
  kefu_test_assert_sipp_completed (sipp);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (fx->events->len, ==, 2);
}

/* a second call rings while the first is up (call waiting) */
static void
test_call_waiting (Fixture *fx, gconstpointer data)
{
  g_autoptr(GSubprocess) first = start_sipp_uac (fx, "uac-screen-pop.xml", 4000);
  g_autoptr(GSubprocess) second = NULL;
  const SeenEvent *ev;
  guint id1, id2;

  ev = wait_for_event (fx, KEFU_CALL_EVENT_INCOMING, 0);
  id1 = ev->call_id;
  g_assert_cmpint (kefu_call_answer (fx->loop, fx->calls, id1), ==, 0);
  wait_for_event (fx, KEFU_CALL_EVENT_ESTABLISHED, id1);

  second = start_sipp_uac (fx, "uac-busy.xml", 0);
  ev = wait_for_event (fx, KEFU_CALL_EVENT_INCOMING, 0);
  id2 = ev->call_id;
  g_assert_cmpuint (id2, !=, id1);
  g_assert_false (has_event (fx, KEFU_CALL_EVENT_CLOSED, id1));

  g_assert_cmpint (kefu_call_reject (fx->loop, fx->calls, id2, 486), ==, 0);
  kefu_test_assert_sipp_completed (second);

  /* the first call carried on meanwhile */
  g_assert_false (has_event (fx, KEFU_CALL_EVENT_CLOSED, id1));
  g_assert_cmpint (kefu_call_hangup (fx->loop, fx->calls, id1), ==, 0);
  ev = wait_for_event (fx, KEFU_CALL_EVENT_CLOSED, id1);
  g_assert_cmpstr (ev->reason, ==, "local hangup");
  /* that sipp expected to send the BYE itself: it fails, and is killed */
}

/* --- against baresip, a real softphone -------------------------------- */

typedef struct {
  Fixture *fx;
  GSubprocess *proc;
  GSocket *ctrl;                /* ctrl_tcp */
  GSource *ctrl_source;
  GString *inbuf;
  GPtrArray *messages;          /* netstring payloads (JSON text) */
  guint next_message;
  guint16 sip_port;
} Baresip;

/* 8 kHz 16-bit mono PCM, one second of a 400 Hz triangle: what aufile plays */
static void
write_wav (const char *path)
{
  g_autoptr(GError) error = NULL;
  const guint32 n = 8000;
  g_autofree guint8 *buf = g_malloc0 (44 + 2 * n);
  guint32 v32;
  guint16 v16;

#define PUT32(off, v) (v32 = GUINT32_TO_LE (v), memcpy (buf + (off), &v32, 4))
#define PUT16(off, v) (v16 = GUINT16_TO_LE (v), memcpy (buf + (off), &v16, 2))
  memcpy (buf, "RIFF", 4);
  PUT32 (4, 36 + 2 * n);
  memcpy (buf + 8, "WAVEfmt ", 8);
  PUT32 (16, 16);
  PUT16 (20, 1);                /* PCM */
  PUT16 (22, 1);                /* mono */
  PUT32 (24, 8000);
  PUT32 (28, 16000);
  PUT16 (32, 2);
  PUT16 (34, 16);
  memcpy (buf + 36, "data", 4);
  PUT32 (40, 2 * n);
  for (guint32 i = 0; i < n; i++)
    {
      gint32 phase = (gint32) (i % 20);     /* 20 samples a period */
      gint32 v = (phase < 10 ? phase : 20 - phase) * 1600 - 8000;

      PUT16 (44 + 2 * i, (guint16) (gint16) v);
    }
#undef PUT32
#undef PUT16

  g_file_set_contents (path, (const char *) buf, 44 + 2 * n, &error);
  g_assert_no_error (error);
}

static gboolean
on_ctrl_readable (GSocket *sock, GIOCondition cond, gpointer data)
{
  Baresip *b = data;
  char buf[4096];
  gssize n;

  (void) cond;
  n = g_socket_receive (sock, buf, sizeof buf, NULL, NULL);
  if (n <= 0)
    {
      b->ctrl_source = NULL;
      return G_SOURCE_REMOVE;
    }
  g_string_append_len (b->inbuf, buf, n);

  /* netstrings: LEN:payload, */
  for (;;)
    {
      char *colon = memchr (b->inbuf->str, ':', b->inbuf->len);
      guint64 len;

      if (!colon)
        break;
      len = g_ascii_strtoull (b->inbuf->str, NULL, 10);
      if ((gsize) (colon - b->inbuf->str) + 1 + len + 1 > b->inbuf->len)
        break;
      g_ptr_array_add (b->messages, g_strndup (colon + 1, len));
      g_debug ("baresip: %s", (char *) b->messages->pdata[b->messages->len - 1]);
      g_string_erase (b->inbuf, 0, (colon - b->inbuf->str) + 1 + len + 1);
    }

  return G_SOURCE_CONTINUE;
}

static void
baresip_command (Baresip *b, const char *command, const char *params)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *json = g_strdup_printf ("{\"command\":\"%s\",\"params\":\"%s\",\"token\":\"1\"}",
                                           command, params ? params : "");
  g_autofree char *msg = g_strdup_printf ("%zu:%s,", strlen (json), json);

  g_socket_set_blocking (b->ctrl, TRUE);
  g_socket_send (b->ctrl, msg, strlen (msg), NULL, &error);
  g_socket_set_blocking (b->ctrl, FALSE);
  g_assert_no_error (error);
}

typedef struct {
  Baresip *b;
  const char *type;
} BaresipWait;

static gboolean
baresip_event_seen (gpointer data)
{
  BaresipWait *w = data;
  g_autofree char *needle = g_strdup_printf ("\"type\":\"%s\"", w->type);

  while (w->b->next_message < w->b->messages->len)
    if (strstr (w->b->messages->pdata[w->b->next_message++], needle))
      return TRUE;
  return FALSE;
}

static void
wait_for_baresip (Baresip *b, const char *type)
{
  BaresipWait w = { b, type };
  g_autofree char *what = g_strdup_printf ("baresip to report %s", type);

  kefu_test_run_until (baresip_event_seen, &w, what);
}

static gboolean
baresip_has_event (Baresip *b, const char *type)
{
  g_autofree char *needle = g_strdup_printf ("\"type\":\"%s\"", type);

  for (guint i = 0; i < b->messages->len; i++)
    if (strstr (b->messages->pdata[i], needle))
      return TRUE;
  return FALSE;
}

static gboolean
ctrl_connected (gpointer data)
{
  Baresip *b = data;
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) addr = NULL;
  g_autoptr(GSocket) sock = NULL;
  guint16 port = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (b->proc), "ctrl-port"));

  sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, 0, NULL);
  addr = g_inet_socket_address_new (lo, port);
  if (!g_socket_connect (sock, addr, NULL, NULL))
    {
      g_usleep (50 * 1000);
      return FALSE;
    }
  b->ctrl = g_steal_pointer (&sock);
  return TRUE;
}

/* baresip with a headless config (no stdio module, file audio, ctrl_tcp)
 * in the fixture's directory */
static void
start_baresip (Fixture *fx, Baresip *b)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *exe = g_find_program_in_path ("baresip");
  g_autofree char *wav = NULL;
  g_autofree char *config = NULL;
  g_autofree char *accounts = NULL;
  g_autofree char *path = NULL;
  guint16 ctrl_port = free_port (G_SOCKET_TYPE_STREAM);

  if (!exe)
    g_error ("baresip is missing: install the Debian package baresip-core");

  b->fx = fx;
  b->inbuf = g_string_new (NULL);
  b->messages = g_ptr_array_new_with_free_func (g_free);
  /* it also binds TLS on its SIP port + 1 */
  b->sip_port = free_port_with_gap ();

  if (!fx->tmpdir)
    {
      fx->tmpdir = g_dir_make_tmp ("kefu-calls-XXXXXX", &error);
      g_assert_no_error (error);
    }
  wav = g_build_filename (fx->tmpdir, "tone.wav", NULL);
  write_wav (wav);

  config = g_strdup_printf ("poll_method\t\tepoll\n"
                            "sip_listen\t\t127.0.0.1:%u\n"
                            "net_interface\t\t127.0.0.1\n"
                            "audio_player\t\taubridge,null\n"
                            "audio_alert\t\taubridge,null\n"
                            "audio_source\t\taufile,%s\n"
                            "module_path\t\t/usr/lib/baresip/modules\n"
                            "module\t\t\tg711.so\n"
                            "module\t\t\taufile.so\n"
                            "module\t\t\taubridge.so\n"
                            "module_app\t\taccount.so\n"
                            "module_app\t\tmenu.so\n"
                            "module_app\t\tctrl_tcp.so\n"
                            "ctrl_tcp_listen\t\t127.0.0.1:%u\n",
                            b->sip_port, wav, ctrl_port);
  path = g_build_filename (fx->tmpdir, "config", NULL);
  g_file_set_contents (path, config, -1, &error);
  g_assert_no_error (error);
  g_free (path);

  accounts = g_strdup_printf ("<sip:b@127.0.0.1:%u>;regint=0;answermode=auto\n", b->sip_port);
  path = g_build_filename (fx->tmpdir, "accounts", NULL);
  g_file_set_contents (path, accounts, -1, &error);
  g_assert_no_error (error);

  {
    const char *argv[] = { exe, "-f", fx->tmpdir, NULL };

    b->proc = spawn (fx, G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE | G_SUBPROCESS_FLAGS_STDIN_PIPE, argv);
  }
  g_object_set_data (G_OBJECT (b->proc), "ctrl-port", GUINT_TO_POINTER (ctrl_port));
  {
    gint64 deadline = g_get_monotonic_time () + WAIT_TIMEOUT_S * G_USEC_PER_SEC;

    while (!ctrl_connected (b))
      if (g_get_monotonic_time () > deadline)
        g_error ("timed out waiting for baresip's ctrl_tcp");
  }

  g_socket_set_blocking (b->ctrl, FALSE);
  b->ctrl_source = g_socket_create_source (b->ctrl, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
  g_source_set_callback (b->ctrl_source, (GSourceFunc) (void (*) (void)) on_ctrl_readable, b, NULL);
  g_source_attach (b->ctrl_source, NULL);
  g_source_unref (b->ctrl_source);
}

static void
stop_baresip (Baresip *b)
{
  if (b->ctrl_source)
    g_source_destroy (b->ctrl_source);
  g_clear_object (&b->ctrl);
  if (b->proc && g_subprocess_get_identifier (b->proc))
    {
      g_subprocess_force_exit (b->proc);
      kefu_test_wait_exit (b->proc, "baresip to exit");
    }
  g_clear_object (&b->proc);
  g_string_free (b->inbuf, TRUE);
  g_ptr_array_unref (b->messages);
}

static void
pump_for (guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;

  while (g_get_monotonic_time () < end)
    {
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_usleep (10 * 1000);
    }
}

/* kefu dials baresip, holds and resumes, hangs up */
static void
test_baresip_kefu_dials (Fixture *fx, gconstpointer data)
{
  Baresip b = { 0 };
  g_autofree char *uri = NULL;
  const SeenEvent *ev;
  guint id;

  start_baresip (fx, &b);
  uri = peer_uri ("b", b.sip_port);

  id = kefu_call_dial (fx->loop, fx->calls, NULL, uri, NULL);
  ev = wait_for_event (fx, KEFU_CALL_EVENT_ESTABLISHED, id);
  g_assert_cmpstr (ev->codec, ==, "PCMU");
  wait_for_baresip (&b, "CALL_ESTABLISHED");

  /* hold: baresip keeps the call */
  g_assert_cmpint (kefu_call_hold (fx->loop, fx->calls, id, TRUE), ==, 0);
  ev = wait_for_event (fx, KEFU_CALL_EVENT_HELD, id);
  g_assert_true (ev->local_hold);
  pump_for (300);
  g_assert_false (baresip_has_event (&b, "CALL_CLOSED"));
  g_assert_false (has_event (fx, KEFU_CALL_EVENT_CLOSED, id));

  g_assert_cmpint (kefu_call_hold (fx->loop, fx->calls, id, FALSE), ==, 0);
  ev = wait_for_event (fx, KEFU_CALL_EVENT_RESUMED, id);
  g_assert_false (ev->local_hold);
  g_assert_false (baresip_has_event (&b, "CALL_CLOSED"));

  g_assert_cmpint (kefu_call_hangup (fx->loop, fx->calls, id), ==, 0);
  wait_for_event (fx, KEFU_CALL_EVENT_CLOSED, id);
  wait_for_baresip (&b, "CALL_CLOSED");

  stop_baresip (&b);
}

/* baresip dials kefu; kefu answers; baresip hangs up */
static void
test_baresip_dials_kefu (Fixture *fx, gconstpointer data)
{
  Baresip b = { 0 };
  g_autofree char *uri = NULL;
  const SeenEvent *ev;
  guint id;

  start_baresip (fx, &b);
  uri = peer_uri ("agent", fx->sip_port);
  baresip_command (&b, "dial", uri);

  ev = wait_for_event (fx, KEFU_CALL_EVENT_INCOMING, 0);
  id = ev->call_id;
  g_assert_true (g_str_has_prefix (ev->from_uri, "sip:b@127.0.0.1"));
  g_assert_nonnull (seen_header (ev, "Call-ID"));

  g_assert_cmpint (kefu_call_answer (fx->loop, fx->calls, id), ==, 0);
  ev = wait_for_event (fx, KEFU_CALL_EVENT_ESTABLISHED, id);
  g_assert_nonnull (ev->codec);
  wait_for_baresip (&b, "CALL_ESTABLISHED");

  baresip_command (&b, "hangup", NULL);
  ev = wait_for_event (fx, KEFU_CALL_EVENT_CLOSED, id);
  g_assert_cmpstr (ev->reason, ==, "remote hangup");

  stop_baresip (&b);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/phone/calls/outgoing/answered", Fixture, NULL,
              fixture_set_up, test_outgoing_answered, fixture_tear_down);
  for (gsize i = 0; i < G_N_ELEMENTS (refusals); i++)
    {
      g_autofree char *path = g_strdup_printf ("/phone/calls/outgoing/refused-%s",
                                               refusals[i].code);

      g_test_add (path, Fixture, &refusals[i],
                  fixture_set_up, test_outgoing_refused, fixture_tear_down);
    }
  g_test_add ("/phone/calls/outgoing/early-media", Fixture, NULL,
              fixture_set_up, test_outgoing_early_media, fixture_tear_down);
  g_test_add ("/phone/calls/outgoing/cancelled", Fixture, NULL,
              fixture_set_up, test_outgoing_cancelled, fixture_tear_down);
  g_test_add ("/phone/calls/outgoing/stop", Fixture, NULL,
              fixture_set_up, test_outgoing_stop, fixture_tear_down);
  g_test_add ("/phone/calls/outgoing/hold", Fixture, NULL,
              fixture_set_up, test_outgoing_hold, fixture_tear_down);
  g_test_add ("/phone/calls/incoming/screen-pop", Fixture, NULL,
              fixture_set_up, test_incoming_screen_pop, fixture_tear_down);
  g_test_add ("/phone/calls/incoming/cancel", Fixture, NULL,
              fixture_set_up, test_incoming_cancel, fixture_tear_down);
  g_test_add ("/phone/calls/incoming/busy", Fixture, GUINT_TO_POINTER (486),
              fixture_set_up, test_incoming_refused, fixture_tear_down);
  g_test_add ("/phone/calls/incoming/decline", Fixture, GUINT_TO_POINTER (603),
              fixture_set_up, test_incoming_refused, fixture_tear_down);
  g_test_add ("/phone/calls/incoming/no-common-codec", Fixture, NULL,
              fixture_set_up, test_incoming_no_common_codec, fixture_tear_down);
  g_test_add ("/phone/calls/incoming/remote-hold", Fixture, NULL,
              fixture_set_up, test_incoming_remote_hold, fixture_tear_down);
  g_test_add ("/phone/calls/incoming/account", Fixture, NULL,
              fixture_set_up_accounts, test_incoming_account, fixture_tear_down);
  g_test_add ("/phone/calls/call-waiting", Fixture, NULL,
              fixture_set_up, test_call_waiting, fixture_tear_down);

  g_test_add ("/phone/calls/baresip/kefu-dials", Fixture, NULL,
              fixture_set_up, test_baresip_kefu_dials, fixture_tear_down);
  g_test_add ("/phone/calls/baresip/baresip-dials", Fixture, NULL,
              fixture_set_up, test_baresip_dials_kefu, fixture_tear_down);

  return g_test_run ();
}
