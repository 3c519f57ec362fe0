/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Blind transfer (REFER) and incoming REFER, against sipp on 127.0.0.1
 * playing the far-end phone (tests/sip/uas-transfer*.xml) and the switch
 * (tests/sip/uac-refer.xml), through the phone thread.
 */
#define G_LOG_DOMAIN "TestTransfer"

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
  char *refer_to;
  char *referred_by;
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
  g_free (ev->refer_to);
  g_free (ev->referred_by);
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
  seen->refer_to = g_strdup (ev->refer_to);
  seen->referred_by = g_strdup (ev->referred_by);
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


static char *
peer_uri (const char *user, guint16 port)
{
  return g_strdup_printf ("sip:%s@127.0.0.1:%u", user, port);
}
/* --- our blind transfer ---------------------------------------------- */

#define TARGET "sip:transfer-target@example.net"

static guint
dial_established (Fixture *fx, guint16 port)
{
  g_autofree char *uri = peer_uri ("callee", port);
  guint id;

  id = kefu_call_dial (fx->loop, fx->calls, NULL, uri, NULL);
  g_assert_cmpuint (id, !=, 0);
  wait_for_event (fx, KEFU_CALL_EVENT_ESTABLISHED, id);
  return id;
}

/* REFER, 202, NOTIFY 100 and 200 (each answered 200: sipp waits for
 * them), then our BYE: the call ends as "transferred". */
static void
test_transfer_blind (Fixture *fx, gconstpointer data)
{
  guint16 port = free_port (G_SOCKET_TYPE_DATAGRAM);
  g_autoptr(GSubprocess) sipp = start_sipp_uas (fx, "uas-transfer.xml", port, NULL);
  const SeenEvent *ev;
  guint id = dial_established (fx, port);

  g_assert_cmpint (kefu_call_transfer (fx->loop, fx->calls, id, TARGET), ==, 0);

  ev = wait_for_event (fx, KEFU_CALL_EVENT_TRANSFER_PROGRESS, id);
  g_assert_cmpuint (ev->scode, ==, 100);
  g_assert_cmpstr (ev->reason, ==, "Trying");
  ev = wait_for_event (fx, KEFU_CALL_EVENT_TRANSFER_PROGRESS, id);
  g_assert_cmpuint (ev->scode, ==, 200);
  g_assert_cmpstr (ev->reason, ==, "OK");

  ev = wait_for_event (fx, KEFU_CALL_EVENT_CLOSED, id);
  g_assert_cmpstr (ev->reason, ==, "transferred");
  g_assert_false (has_event (fx, KEFU_CALL_EVENT_TRANSFER_FAILED, id));
  /* sipp completes only with the REFER's target right, our 200s to both
   * NOTIFYs and our BYE */
  kefu_test_assert_sipp_completed (sipp);
}

/* The far end refuses the REFER: we say so, and the call goes on. */
static void
test_transfer_declined (Fixture *fx, gconstpointer data)
{
  guint16 port = free_port (G_SOCKET_TYPE_DATAGRAM);
  g_autoptr(GSubprocess) sipp = start_sipp_uas (fx, "uas-transfer-declined.xml", port, NULL);
  const SeenEvent *ev;
  guint id = dial_established (fx, port);

  g_assert_cmpint (kefu_call_transfer (fx->loop, fx->calls, id, TARGET), ==, 0);

  ev = wait_for_event (fx, KEFU_CALL_EVENT_TRANSFER_FAILED, id);
  g_assert_cmpuint (ev->scode, ==, 603);
  g_assert_cmpstr (ev->reason, ==, "Decline");
  g_assert_false (has_event (fx, KEFU_CALL_EVENT_CLOSED, id));

  /* still up: hanging up is an ordinary BYE, which sipp waits for */
  g_assert_cmpint (kefu_call_hangup (fx->loop, fx->calls, id), ==, 0);
  ev = wait_for_event (fx, KEFU_CALL_EVENT_CLOSED, id);
  g_assert_cmpstr (ev->reason, ==, "local hangup");
  kefu_test_assert_sipp_completed (sipp);
}

/* Not a SIP URI: refused at once, and no REFER goes out (sipp would
 * fail on one: its scenario expects our BYE next). */
static void
test_transfer_bad_uri (Fixture *fx, gconstpointer data)
{
  guint16 port = free_port (G_SOCKET_TYPE_DATAGRAM);
  g_autoptr(GSubprocess) sipp = start_sipp_uas (fx, "uas-answer.xml", port, NULL);
  const SeenEvent *ev;
  guint id = dial_established (fx, port);
  const char *bad[] = {
    "nonsense", "tel:+4930123", "http://example.net/", "sip:", "sip:@host",
    "sip:a@b>\r\nX-Evil: 1", "sip:user@host name", "",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    g_assert_cmpint (kefu_call_transfer (fx->loop, fx->calls, id, bad[i]), ==, EINVAL);
  g_assert_cmpint (kefu_call_transfer (fx->loop, fx->calls, id, NULL), ==, EINVAL);
  g_assert_false (kefu_call_transfer_target_valid ("nonsense"));
  g_assert_true (kefu_call_transfer_target_valid (TARGET));
  g_assert_true (kefu_call_transfer_target_valid ("sips:desk-12@pbx.example.net:5061"));

  g_assert_cmpint (kefu_call_hangup (fx->loop, fx->calls, id), ==, 0);
  ev = wait_for_event (fx, KEFU_CALL_EVENT_CLOSED, id);
  g_assert_cmpstr (ev->reason, ==, "local hangup");
  g_assert_false (has_event (fx, KEFU_CALL_EVENT_TRANSFER_PROGRESS, id));
  g_assert_false (has_event (fx, KEFU_CALL_EVENT_TRANSFER_FAILED, id));
  kefu_test_assert_sipp_completed (sipp);
}

/* --- the far end's REFER ---------------------------------------------- */

/* Reported with its target, answered 202 and NOTIFY 100 (sipp checks
 * both), and not obeyed: no new call. */
static void
test_incoming_refer (Fixture *fx, gconstpointer data)
{
  g_autoptr(GSubprocess) sipp = start_sipp_uac (fx, "uac-refer.xml", 0);
  const SeenEvent *ev;
  guint id;

  ev = wait_for_event (fx, KEFU_CALL_EVENT_INCOMING, 0);
  id = ev->call_id;
  g_assert_cmpint (kefu_call_answer (fx->loop, fx->calls, id), ==, 0);
  wait_for_event (fx, KEFU_CALL_EVENT_ESTABLISHED, id);

  ev = wait_for_event (fx, KEFU_CALL_EVENT_REFER, id);
  g_assert_cmpstr (ev->refer_to, ==, "sip:supervisor@127.0.0.1");
  g_assert_nonnull (ev->referred_by);
  g_assert_true (strstr (ev->referred_by, "sip:switch@127.0.0.1:") != NULL);

  ev = wait_for_event (fx, KEFU_CALL_EVENT_CLOSED, id);
  g_assert_cmpstr (ev->reason, ==, "remote hangup");
  kefu_test_assert_sipp_completed (sipp);

  /* the only call there ever was: the REFER placed none */
  for (guint i = 0; i < fx->events->len; i++)
    {
      const SeenEvent *e = g_ptr_array_index (fx->events, i);

      g_assert_cmpuint (e->call_id, ==, id);
    }
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/phone/transfer/blind", Fixture, NULL,
              fixture_set_up, test_transfer_blind, fixture_tear_down);
  g_test_add ("/phone/transfer/declined", Fixture, NULL,
              fixture_set_up, test_transfer_declined, fixture_tear_down);
  g_test_add ("/phone/transfer/bad-uri", Fixture, NULL,
              fixture_set_up, test_transfer_bad_uri, fixture_tear_down);
  g_test_add ("/phone/transfer/incoming-refer", Fixture, NULL,
              fixture_set_up, test_incoming_refer, fixture_tear_down);

  return g_test_run ();
}
