/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A hold the far end does not accept, against sipp on 127.0.0.1 playing
 * the customer's phone (tests/sip/uas-hold-*.xml) and kefu-phone processes
 * as the agent and the colleague: the agent learns that the customer is
 * not on hold (and can still hear), the call stays up, a consult transfer
 * waiting for the hold fails instead of waiting for ever, and a hold the
 * far end takes late or after a glare ends up held.
 */
#define G_LOG_DOMAIN "TestHoldFailure"

#include "config.h"

#include <string.h>
#include <gio/gio.h>
#include <glib/gstdio.h>

#include "kefu-call-session.h"
#include "kefu-test-peer.h"
#include "kefu-test-wait.h"

#define SIPP_TIMEOUT_S "30"

/* "within a few seconds": the engine's wait, and room for a loaded host */
#define HOLD_VERDICT_MAX_US ((KEFU_CALLS_HOLD_ANSWER_MS + 5000) * G_GINT64_CONSTANT (1000))

static const double TONE_AGENT = 900, TONE_COLLEAGUE = 1300;
static const char *const auto_answer[] = { "--auto-answer", NULL };

typedef struct {
  char *dir;
  KefuTestPeer agent, colleague;
  GSubprocess *sipp;
  guint16 sipp_port;
} Fixture;

/* --- fixture -------------------------------------------------------------- */

static void
fixture_set_up (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  fx->dir = g_dir_make_tmp ("kefu-hold-XXXXXX", &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture *fx, gconstpointer data)
{
  kefu_test_peer_clear (&fx->agent);
  kefu_test_peer_clear (&fx->colleague);
  if (fx->sipp && g_subprocess_get_identifier (fx->sipp))
    {
      /* it failed, and its verdict was taken: no graceful linger */
      g_subprocess_force_exit (fx->sipp);
      kefu_test_wait_exit (fx->sipp, "sipp to exit");
    }
  g_clear_object (&fx->sipp);
  {
    g_autoptr(GDir) dir = g_dir_open (fx->dir, 0, NULL);
    const char *name;

    while (dir && (name = g_dir_read_name (dir)))
      {
        g_autofree char *path = g_build_filename (fx->dir, name, NULL);

        g_unlink (path);
      }
  }
  g_rmdir (fx->dir);
  g_free (fx->dir);
}

/* --- sipp as the customer's phone ----------------------------------------- */

static gboolean
udp_port_taken (gpointer data)
{
  g_autoptr(GSocket) sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, 0, NULL);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) addr = g_inet_socket_address_new (lo, GPOINTER_TO_UINT (data));

  return sock && !g_socket_bind (sock, addr, FALSE, NULL);
}

static gboolean
keep_polling (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

static void
start_customer (Fixture *fx, const char *scenario)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  const char *sipp = g_getenv ("SIPP");
  const char *srcdir = g_getenv ("KEFU_SOURCE_DIR");
  g_autofree char *sipp_path = sipp ? g_strdup (sipp) : g_find_program_in_path ("sipp");
  g_autofree char *path = g_build_filename (srcdir ? srcdir : ".", "tests", "sip", scenario,
                                            NULL);
  g_autofree char *port_s = NULL;
  g_autofree char *mport_s = g_strdup_printf ("%u", kefu_test_free_media_port ());
  guint poll;

  /* a real peer is the point: without sipp the test fails */
  if (!sipp_path)
    g_error ("sipp is missing: install the Debian package sip-tester");

  fx->sipp_port = kefu_test_free_udp_port ();
  port_s = g_strdup_printf ("%u", fx->sipp_port);
  {
    const char *argv[] = {
      sipp_path, "-sf", path, "-i", "127.0.0.1", "-p", port_s, "-mp", mport_s, "-m", "1",
      "-nostdin", "-timeout", SIPP_TIMEOUT_S, "-timeout_error", NULL,
    };

    launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
    g_subprocess_launcher_set_child_setup (launcher, kefu_test_child_setup, NULL, NULL);
    fx->sipp = g_subprocess_launcher_spawnv (launcher, argv, &error);
    g_assert_no_error (error);
  }

  /* the agent calls it only once it listens */
  poll = g_timeout_add (20, keep_polling, NULL);
  kefu_test_run_until (udp_port_taken, GUINT_TO_POINTER (fx->sipp_port), "sipp to listen");
  g_source_remove (poll);
}

/* --- helpers ---------------------------------------------------------------- */

static void
start_agent (Fixture *fx)
{
  kefu_test_peer_start (&fx->agent, fx->dir, "agent", TONE_AGENT, NULL);
  kefu_test_peer_wait (&fx->agent, "ready");
}

/* The agent calls the customer's phone; the call's id once it is up. */
static gint64
call_customer (Fixture *fx)
{
  gint64 call;

  kefu_test_peer_send (&fx->agent, "dial sip:customer@127.0.0.1:%u", fx->sipp_port);
  call = kefu_test_event_call (kefu_test_peer_wait (&fx->agent, "dialing"));
  kefu_test_peer_wait_call (&fx->agent, "established", call);
  return call;
}

static gboolean
printed (KefuTestPeer *p, const char *event, gint64 call)
{
  for (guint i = 0; i < p->events->len; i++)
    {
      JsonObject *ev = p->events->pdata[i];

      if (g_strcmp0 (json_object_get_string_member (ev, "event"), event) == 0
          && json_object_get_int_member_with_default (ev, "call", -1) == call)
        return TRUE;
    }
  return FALSE;
}

/* The hold of @call failed, within a few seconds of @since: the agent is
 * told why, and the call is as it was, not held. */
static void
assert_hold_failed (Fixture *fx, gint64 call, gint64 since)
{
  JsonObject *ev = kefu_test_peer_wait_call (&fx->agent, "hold_failed", call);

  g_assert_cmpint (g_get_monotonic_time () - since, <, HOLD_VERDICT_MAX_US);
  g_assert_cmpstr (json_object_get_string_member (ev, "reason"), !=, "");
  g_assert_false (json_object_get_boolean_member (ev, "local_hold"));
  g_assert_cmpstr (json_object_get_string_member (ev, "codec"), ==, "PCMU");
  g_assert_false (printed (&fx->agent, "closed", call));
}

/* The closed event of the hang-up. */
static JsonObject *
hang_up (Fixture *fx, KefuTestPeer *p, gint64 call)
{
  JsonObject *ev;

  kefu_test_peer_send (p, "hangup %" G_GINT64_FORMAT, call);
  ev = kefu_test_peer_wait_call (p, "closed", call);
  g_assert_cmpstr (json_object_get_string_member (ev, "reason"), ==, "local hangup");
  return ev;
}

static gint64
packets_sent (JsonObject *ev)
{
  return json_object_get_int_member (json_object_get_object_member (ev, "stats"),
                                     "packets_sent");
}

/* --- tests ------------------------------------------------------------------ */

/* The customer's phone answers the hold with 488: the agent hears of it,
 * never sees the call held, can try again (and hears again), and the call
 * is still up: the agent's voice still goes to the customer, and hanging
 * up reaches the customer (sipp waits for the BYE). */
static void
test_hold_refused (Fixture *fx, gconstpointer data)
{
  gint64 call, since, sent;

  start_customer (fx, "uas-hold-refused.xml");
  start_agent (fx);
  call = call_customer (fx);

  since = g_get_monotonic_time ();
  kefu_test_peer_send (&fx->agent, "hold %" G_GINT64_FORMAT, call);
  assert_hold_failed (fx, call, since);
  g_assert_false (printed (&fx->agent, "held", call));
  kefu_test_peer_send (&fx->agent, "stats %" G_GINT64_FORMAT, call);
  sent = packets_sent (kefu_test_peer_wait_call (&fx->agent, "stats", call));

  since = g_get_monotonic_time ();
  kefu_test_peer_send (&fx->agent, "hold %" G_GINT64_FORMAT, call);
  assert_hold_failed (fx, call, since);
  g_assert_false (printed (&fx->agent, "held", call));

  /* the second try took seconds, 50 packets a second: far more than a
   * held call's none */
  g_assert_cmpint (packets_sent (hang_up (fx, &fx->agent, call)) - sent, >=, 100);
  kefu_test_assert_sipp_completed (fx->sipp);
  kefu_test_peer_quit (&fx->agent);
}

/* A consult transfer while the customer's phone refuses every hold: the
 * consultation itself goes on, completing it fails with a clear reason
 * within seconds (no REFER reaches the customer: sipp would fail), and
 * both calls stay the agent's to hang up. */
static void
test_consult_transfer_hold_refused (Fixture *fx, gconstpointer data)
{
  JsonObject *ev;
  gint64 customer, consult, colleague_call, since;

  start_customer (fx, "uas-hold-refused.xml");
  start_agent (fx);
  kefu_test_peer_start (&fx->colleague, fx->dir, "colleague", TONE_COLLEAGUE, auto_answer);
  kefu_test_peer_wait (&fx->colleague, "ready");
  customer = call_customer (fx);

  /* the agent consults: the customer's phone refuses the hold */
  since = g_get_monotonic_time ();
  kefu_test_peer_send (&fx->agent, "atransfer sip:colleague@127.0.0.1:%u", fx->colleague.port);
  ev = kefu_test_peer_wait (&fx->agent, "dialing");
  consult = kefu_test_event_call (ev);
  g_assert_cmpint (json_object_get_int_member (ev, "consulting_for"), ==, customer);
  kefu_test_peer_wait_call (&fx->agent, "established", consult);
  colleague_call = kefu_test_event_call (kefu_test_peer_wait (&fx->colleague, "established"));
  assert_hold_failed (fx, customer, since);

  /* completing needs the hold, which is refused again: the transfer
   * fails after it, and says why */
  since = g_get_monotonic_time ();
  kefu_test_peer_send (&fx->agent, "atransfer complete");
  assert_hold_failed (fx, customer, since);
  ev = kefu_test_peer_wait_call (&fx->agent, "transfer_failed", customer);
  g_assert_cmpint (g_get_monotonic_time () - since, <, HOLD_VERDICT_MAX_US);
  g_assert_nonnull (strstr (json_object_get_string_member (ev, "reason"), "hold"));
  g_assert_false (printed (&fx->agent, "held", customer));
  g_assert_false (printed (&fx->agent, "transfer_progress", customer));

  /* both calls are still up, and the agent ends each */
  g_assert_false (printed (&fx->agent, "closed", consult));
  g_assert_false (printed (&fx->colleague, "closed", colleague_call));
  hang_up (fx, &fx->agent, consult);
  ev = kefu_test_peer_wait_call (&fx->colleague, "closed", colleague_call);
  g_assert_cmpstr (json_object_get_string_member (ev, "reason"), ==, "remote hangup");
  hang_up (fx, &fx->agent, customer);
  kefu_test_assert_sipp_completed (fx->sipp);

  kefu_test_peer_quit (&fx->agent);
  kefu_test_peer_quit (&fx->colleague);
}

/* The customer's phone says nothing for longer than the phone waits: the
 * hold is reported failed (the customer hears the agent all that time);
 * when the phone takes it at last, the call shows held. */
static void
test_hold_answered_late (Fixture *fx, gconstpointer data)
{
  JsonObject *ev;
  gint64 call, since;

  start_customer (fx, "uas-hold-slow.xml");
  start_agent (fx);
  call = call_customer (fx);

  since = g_get_monotonic_time ();
  kefu_test_peer_send (&fx->agent, "hold %" G_GINT64_FORMAT, call);
  assert_hold_failed (fx, call, since);
  g_assert_false (printed (&fx->agent, "held", call));

  ev = kefu_test_peer_wait_call (&fx->agent, "held", call);
  g_assert_true (json_object_get_boolean_member (ev, "local_hold"));

  hang_up (fx, &fx->agent, call);
  kefu_test_assert_sipp_completed (fx->sipp);
  kefu_test_peer_quit (&fx->agent);
}

/* 491 to the hold (a glare): the hold goes again after RFC 3261's wait and
 * is accepted, within the time the phone gives it: held, never failed. */
static void
test_hold_after_glare (Fixture *fx, gconstpointer data)
{
  JsonObject *ev;
  gint64 call;

  start_customer (fx, "uas-hold-glare.xml");
  start_agent (fx);
  call = call_customer (fx);

  kefu_test_peer_send (&fx->agent, "hold %" G_GINT64_FORMAT, call);
  ev = kefu_test_peer_wait_call (&fx->agent, "held", call);
  g_assert_true (json_object_get_boolean_member (ev, "local_hold"));
  g_assert_false (printed (&fx->agent, "hold_failed", call));

  hang_up (fx, &fx->agent, call);
  kefu_test_assert_sipp_completed (fx->sipp);
  kefu_test_peer_quit (&fx->agent);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/hold-failure/refused", Fixture, NULL, fixture_set_up, test_hold_refused,
              fixture_tear_down);
  g_test_add ("/hold-failure/consult-transfer", Fixture, NULL, fixture_set_up,
              test_consult_transfer_hold_refused, fixture_tear_down);
  g_test_add ("/hold-failure/answered-late", Fixture, NULL, fixture_set_up,
              test_hold_answered_late, fixture_tear_down);
  g_test_add ("/hold-failure/glare", Fixture, NULL, fixture_set_up, test_hold_after_glare,
              fixture_tear_down);

  return g_test_run ();
}
