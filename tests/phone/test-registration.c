/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Account registration against real registrars played by sipp
 * (tests/sip/registrar-*.xml) on 127.0.0.1, through the phone thread.
 */
#define G_LOG_DOMAIN "TestRegistration"

#include "kefu-test-wait.h"
#include "config.h"

#include <errno.h>
#include <gio/gio.h>

#include "kefu-phone-loop.h"
#include "kefu-registration.h"

#define SIPP_TIMEOUT_S "30"

typedef struct {
  enum kefu_reg_state state;
  enum kefu_registrar registrar;
  guint scode;
  char *reason;
} SeenEvent;

typedef struct {
  struct kefu_phone_loop *loop;
  struct kefu_ua *ua;           /* phone thread only: never touched here */
  GPtrArray *events;            /* SeenEvent */
  guint next_event;             /* first event not yet waited for */
  guint stop_timeout_ms;
} Fixture;

typedef struct {
  Fixture *fx;
  struct kefu_account_config acc;
} RegisterArgs;

static void
seen_event_free (gpointer data)
{
  SeenEvent *ev = data;

  g_free (ev->reason);
  g_free (ev);
}

/* UI side: what a KefuAccount would turn into properties */
static void
on_reg_event (const struct kefu_reg_event *ev, void *arg)
{
  Fixture *fx = arg;
  SeenEvent *seen = g_new0 (SeenEvent, 1);

  g_assert_cmpstr (ev->account_id, ==, "agent-1001");
  seen->state = ev->state;
  seen->registrar = ev->registrar;
  seen->scode = ev->scode;
  seen->reason = g_strdup (ev->reason);
  g_debug ("event: %s %s %u '%s'", kefu_reg_state_name (ev->state),
           ev->registrar == KEFU_REGISTRAR_PRIMARY ? "primary" : "backup",
           ev->scode, ev->reason);
  g_ptr_array_add (fx->events, seen);
}

/* phone thread */
static int
setup_ua (void *arg)
{
  Fixture *fx = arg;
  struct kefu_ua_config cfg = {
    .laddr = "127.0.0.1",
    .eventh = on_reg_event,
    .arg = fx,
  };

  kefu_phone_loop_set_stop_timeout (fx->loop, fx->stop_timeout_ms);
  return kefu_ua_alloc (&fx->ua, fx->loop, &cfg);
}

/* phone thread */
static int
add_account (void *arg)
{
  RegisterArgs *ra = arg;

  return kefu_ua_register (ra->fx->ua, &ra->acc);
}

static guint16
free_udp_port (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) sock = NULL;
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  g_autoptr(GSocketAddress) bound = NULL;

  sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                       G_SOCKET_PROTOCOL_UDP, &error);
  g_assert_no_error (error);
  g_socket_bind (sock, any, FALSE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (sock, &error);
  g_assert_no_error (error);

  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

static char *
registrar_uri (guint16 port)
{
  return g_strdup_printf ("sip:127.0.0.1:%u", port);
}

/* sipp as a registrar: foreground, so its exit status says whether the
 * scenario ran to its end (the Authorization and expires=0 checks). */
static GSubprocess *
start_sipp (const char *scenario, guint16 port, guint calls)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *sipp = g_strdup (g_getenv ("SIPP"));
  g_autofree char *path = NULL;
  g_autofree char *port_s = g_strdup_printf ("%u", port);
  g_autofree char *calls_s = g_strdup_printf ("%u", calls);
  const char *srcdir = g_getenv ("KEFU_SOURCE_DIR");
  GSubprocess *proc;

  /* A real registrar is the point of these tests: without one they fail. */
  if (!sipp)
    sipp = g_find_program_in_path ("sipp");
  if (!sipp)
    g_error ("sipp is missing: install the Debian package sip-tester (scripts/packages lists it)");

  path = g_build_filename (srcdir ? srcdir : ".", "tests", "sip", scenario, NULL);
  proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error,
                           sipp, "-sf", path, "-i", "127.0.0.1", "-p", port_s,
                           "-m", calls_s, "-nostdin", "-timeout", SIPP_TIMEOUT_S,
                           "-timeout_error", NULL);
  g_assert_no_error (error);

  return proc;
}

static void
on_sipp_wait (GObject *source, GAsyncResult *res, gpointer data)
{
  g_subprocess_wait_finish (G_SUBPROCESS (source), res, NULL);
  *(gboolean *) data = TRUE;
}

static void
assert_sipp_completed (GSubprocess *proc)
{
  gboolean exited = FALSE;

  g_subprocess_wait_async (proc, NULL, on_sipp_wait, &exited);
  kefu_test_run_until (kefu_test_flag_set, &exited, "sipp to finish its scenario");
  g_assert_true (g_subprocess_get_if_exited (proc));
  g_assert_cmpint (g_subprocess_get_exit_status (proc), ==, 0);
}

typedef struct {
  Fixture *fx;
  enum kefu_reg_state state;
  const SeenEvent *found;
} StateWait;

static gboolean
state_seen (gpointer data)
{
  StateWait *w = data;

  while (w->fx->next_event < w->fx->events->len)
    {
      const SeenEvent *ev = g_ptr_array_index (w->fx->events, w->fx->next_event++);

      if (ev->state == w->state)
        {
          w->found = ev;
          return TRUE;
        }
    }

  return FALSE;
}

static const SeenEvent *
wait_for_state (Fixture *fx, enum kefu_reg_state state)
{
  StateWait w = { fx, state, NULL };

  kefu_test_run_until (state_seen, &w, kefu_reg_state_name (state));
  return w.found;
}

static void
fixture_set_up (Fixture *fx, gconstpointer data)
{
  int err;

  fx->events = g_ptr_array_new_with_free_func (seen_event_free);
  fx->stop_timeout_ms = 3000;
  err = kefu_phone_loop_start (&fx->loop, NULL);
  g_assert_cmpint (err, ==, 0);
  err = kefu_phone_loop_call_sync (fx->loop, setup_ua, fx);
  g_assert_cmpint (err, ==, 0);
}

static void
stop_loop (Fixture *fx)
{
  if (!fx->loop)
    return;

  kefu_phone_loop_stop (fx->loop);
  fx->loop = NULL;
  fx->ua = NULL;

  /* deliver what the phone thread posted while stopping */
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
fixture_tear_down (Fixture *fx, gconstpointer data)
{
  stop_loop (fx);
  g_ptr_array_unref (fx->events);
}

static void
register_account (Fixture *fx, const char *registrar, const char *backup,
                  const char *password, guint timeout_ms, guint probe_ms)
{
  RegisterArgs ra = {
    .fx = fx,
    .acc = {
      .id = "agent-1001",
      .aor = "sip:1001@127.0.0.1",
      .password = password,
      .registrar = registrar,
      .backup_registrar = backup,
      .timeout_ms = timeout_ms,
      .probe_interval_ms = probe_ms,
    },
  };
  int err = kefu_phone_loop_call_sync (fx->loop, add_account, &ra);

  g_assert_cmpint (err, ==, 0);
}

static void
test_digest (Fixture *fx, gconstpointer data)
{
  guint16 port = free_udp_port ();
  g_autofree char *uri = registrar_uri (port);
  g_autoptr(GSubprocess) sipp = start_sipp ("registrar-digest.xml", port, 1);
  const SeenEvent *ev;

  if (!sipp)
    return;

  register_account (fx, uri, NULL, "secret", 5000, 0);
  ev = wait_for_state (fx, KEFU_REG_REGISTERED);
  g_assert_cmpuint (ev->scode, ==, 200);
  g_assert_cmpint (ev->registrar, ==, KEFU_REGISTRAR_PRIMARY);

  /* stopping un-REGISTERs: sipp checks expires=0 and only then exits 0 */
  stop_loop (fx);
  ev = wait_for_state (fx, KEFU_REG_UNREGISTERED);
  g_assert_nonnull (ev);
  assert_sipp_completed (sipp);
}

static void
test_wrong_password (Fixture *fx, gconstpointer data)
{
  guint16 port = free_udp_port ();
  g_autofree char *uri = registrar_uri (port);
  g_autoptr(GSubprocess) sipp = start_sipp ("registrar-wrong-password.xml", port, 1);
  const SeenEvent *ev;
  guint n_events;

  if (!sipp)
    return;

  register_account (fx, uri, NULL, "not-the-password", 5000, 0);
  ev = wait_for_state (fx, KEFU_REG_FAILED);
  g_assert_cmpuint (ev->scode, ==, 401);
  g_assert_cmpstr (ev->reason, ==, "wrong password (401)");
  assert_sipp_completed (sipp);

  /* failed stays failed: no retry loop with the same password */
  n_events = fx->events->len;
  for (int i = 0; i < 20; i++)
    {
      g_usleep (50 * 1000);
      while (g_main_context_iteration (NULL, FALSE))
        ;
    }
  g_assert_cmpuint (fx->events->len, ==, n_events);
}

static void
test_forbidden (Fixture *fx, gconstpointer data)
{
  guint16 port = free_udp_port ();
  g_autofree char *uri = registrar_uri (port);
  g_autoptr(GSubprocess) sipp = start_sipp ("registrar-forbidden.xml", port, 1);
  const SeenEvent *ev;

  if (!sipp)
    return;

  register_account (fx, uri, NULL, "secret", 5000, 0);
  ev = wait_for_state (fx, KEFU_REG_FAILED);
  g_assert_cmpuint (ev->scode, ==, 403);
  g_assert_cmpstr (ev->reason, ==, "forbidden (403)");
  assert_sipp_completed (sipp);
}

static void
test_timeout (Fixture *fx, gconstpointer data)
{
  /* nothing listens on this port */
  g_autofree char *uri = registrar_uri (free_udp_port ());
  gint64 start = g_get_monotonic_time ();
  const SeenEvent *ev;

  register_account (fx, uri, NULL, "secret", 1500, 0);
  ev = wait_for_state (fx, KEFU_REG_FAILED);
  g_assert_cmpuint (ev->scode, ==, 0);
  g_assert_cmpstr (ev->reason, ==, "timeout");
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 1400 * 1000);
}

static void
test_failover_and_back (Fixture *fx, gconstpointer data)
{
  guint16 primary_port = free_udp_port ();
  guint16 backup_port = free_udp_port ();
  g_autofree char *primary = registrar_uri (primary_port);
  g_autofree char *backup = registrar_uri (backup_port);
  g_autoptr(GSubprocess) backup_sipp = start_sipp ("registrar-digest.xml", backup_port, 1);
  g_autoptr(GSubprocess) primary_sipp = NULL;
  gboolean fall_back = GPOINTER_TO_INT (data);
  const SeenEvent *ev;

  if (!backup_sipp)
    return;

  /* the primary is silent: after the timeout the backup takes over */
  register_account (fx, primary, backup, "secret", 1000, 500);
  ev = wait_for_state (fx, KEFU_REG_REGISTERED);
  g_assert_cmpint (ev->registrar, ==, KEFU_REGISTRAR_BACKUP);
  g_assert_cmpuint (ev->scode, ==, 200);

  if (fall_back)
    {
      /* The primary comes back.  Besides the probe and the registration,
       * the retransmissions of the REGISTER abandoned at failover may reach
       * it as calls of their own, so its call count is not asserted. */
      primary_sipp = start_sipp ("registrar-digest.xml", primary_port, 100);
      ev = wait_for_state (fx, KEFU_REG_REGISTERED);
      g_assert_cmpint (ev->registrar, ==, KEFU_REGISTRAR_PRIMARY);
      /* leaving the backup un-REGISTERed there: its scenario completes */
      assert_sipp_completed (backup_sipp);
    }

  stop_loop (fx);
  if (fall_back)
    {
      gboolean exited = FALSE;

      g_subprocess_force_exit (primary_sipp);
      g_subprocess_wait_async (primary_sipp, NULL, on_sipp_wait, &exited);
      kefu_test_run_until (kefu_test_flag_set, &exited, "sipp to exit");
    }
  else
    {
      assert_sipp_completed (backup_sipp);
    }
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/phone/registration/digest", Fixture, NULL,
              fixture_set_up, test_digest, fixture_tear_down);
  g_test_add ("/phone/registration/wrong-password", Fixture, NULL,
              fixture_set_up, test_wrong_password, fixture_tear_down);
  g_test_add ("/phone/registration/forbidden", Fixture, NULL,
              fixture_set_up, test_forbidden, fixture_tear_down);
  g_test_add ("/phone/registration/timeout", Fixture, NULL,
              fixture_set_up, test_timeout, fixture_tear_down);
  g_test_add ("/phone/registration/failover", Fixture, GINT_TO_POINTER (FALSE),
              fixture_set_up, test_failover_and_back, fixture_tear_down);
  g_test_add ("/phone/registration/fallback", Fixture, GINT_TO_POINTER (TRUE),
              fixture_set_up, test_failover_and_back, fixture_tear_down);

  return g_test_run ();
}
