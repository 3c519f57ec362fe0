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
#include <string.h>

#include "kefu-phone-loop.h"
#include "kefu-registration.h"

#define SIPP_TIMEOUT_S "30"

typedef struct {
  enum kefu_reg_state state;
  enum kefu_registrar registrar;
  enum kefu_sip_transport transport;
  guint retry_in_s;
  guint scode;
  char *reason;
} SeenEvent;

typedef struct {
  struct kefu_phone_loop *loop;
  struct kefu_ua *ua;           /* phone thread only: never touched here */
  GPtrArray *events;            /* SeenEvent */
  guint next_event;             /* first event not yet waited for */
  guint stop_timeout_ms;
  char *dns_servers;            /* for the UA, or NULL */
  GSocket *dns;                 /* the test's DNS server, or NULL */
  GSource *dns_source;
  guint dns_queries;
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
  seen->transport = ev->transport;
  seen->retry_in_s = ev->retry_in_s;
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
    .dns_servers = fx->dns_servers,
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
start_sipp_transport (const char *scenario, guint16 port, guint calls, const char *transport)
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
                           "-timeout_error", "-t", transport, NULL);
  g_assert_no_error (error);

  return proc;
}

static GSubprocess *
start_sipp (const char *scenario, guint16 port, guint calls)
{
  return start_sipp_transport (scenario, port, calls, "u1");
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

/* fixture data: run a DNS server for the UA */
static const char dns_fixture[] = "dns";

/* A DNS server that knows no name: every query gets NXDOMAIN, as from a
 * real resolver asked for a host that does not exist. */
static gboolean
on_dns_query (GSocket *sock, GIOCondition cond, gpointer data)
{
  Fixture *fx = data;
  guint8 buf[512];
  g_autoptr(GSocketAddress) from = NULL;
  gssize n = g_socket_receive_from (sock, &from, (char *) buf, sizeof (buf), NULL, NULL);
  gsize end = 12;

  if (n < 12)
    return G_SOURCE_CONTINUE;
  /* the question: labels up to the root, then type and class */
  while (end < (gsize) n && buf[end])
    end += buf[end] + 1;
  end += 5;
  if (end > (gsize) n)
    return G_SOURCE_CONTINUE;

  fx->dns_queries++;
  buf[2] = 0x80 | (buf[2] & 0x79);       /* a response, same opcode and RD */
  buf[3] = 0x80 | 3;                     /* RA, NXDOMAIN */
  buf[4] = 0, buf[5] = 1;                /* one question */
  memset (buf + 6, 0, 6);                /* no answer, authority, additional */
  g_socket_send_to (sock, from, (const char *) buf, end, NULL, NULL);
  return G_SOURCE_CONTINUE;
}

static void
start_dns_server (Fixture *fx)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  g_autoptr(GSocketAddress) bound = NULL;

  fx->dns = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                          G_SOCKET_PROTOCOL_UDP, &error);
  g_assert_no_error (error);
  g_socket_bind (fx->dns, any, FALSE, &error);
  g_assert_no_error (error);
  g_socket_set_blocking (fx->dns, FALSE);
  bound = g_socket_get_local_address (fx->dns, &error);
  g_assert_no_error (error);
  fx->dns_servers = g_strdup_printf ("127.0.0.1:%u",
                                     g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  fx->dns_source = g_socket_create_source (fx->dns, G_IO_IN, NULL);
  g_source_set_callback (fx->dns_source, G_SOURCE_FUNC (on_dns_query), fx, NULL);
  g_source_attach (fx->dns_source, NULL);
}

static void
fixture_set_up (Fixture *fx, gconstpointer data)
{
  int err;

  if (data == dns_fixture)
    start_dns_server (fx);

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
  if (fx->dns_source)
    {
      g_source_destroy (fx->dns_source);
      g_source_unref (fx->dns_source);
    }
  g_clear_object (&fx->dns);
  g_free (fx->dns_servers);
}

static void
register_account_config (Fixture *fx, const struct kefu_account_config *acc)
{
  RegisterArgs ra = { .fx = fx, .acc = *acc };
  int err;

  ra.acc.id = "agent-1001";
  if (!ra.acc.aor)
    ra.acc.aor = "sip:1001@127.0.0.1";
  err = kefu_phone_loop_call_sync (fx->loop, add_account, &ra);
  g_assert_cmpint (err, ==, 0);
}

static void
register_account (Fixture *fx, const char *registrar, const char *backup,
                  const char *password, guint timeout_ms, guint probe_ms)
{
  struct kefu_account_config acc = {
    .password = password,
    .registrar = registrar,
    .backup_registrar = backup,
    .timeout_ms = timeout_ms,
    .probe_interval_ms = probe_ms,
  };

  register_account_config (fx, &acc);
}

/* the events from now on, none of them a state other than @state */
static void
assert_no_state_but (Fixture *fx, guint from, enum kefu_reg_state state)
{
  for (guint i = from; i < fx->events->len; i++)
    {
      const SeenEvent *ev = g_ptr_array_index (fx->events, i);

      g_assert_cmpstr (kefu_reg_state_name (ev->state), ==, kefu_reg_state_name (state));
    }
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

/* sipp over TCP (one socket): REGISTER, digest, un-REGISTER all on it */
static void
test_tcp (Fixture *fx, gconstpointer data)
{
  guint16 port = free_udp_port ();
  g_autofree char *uri = g_strdup_printf ("sip:127.0.0.1:%u;transport=tcp", port);
  g_autoptr(GSubprocess) sipp = start_sipp_transport ("registrar-digest.xml", port, 1, "t1");
  const SeenEvent *ev;

  g_usleep (300 * 1000);  /* sipp listening */
  register_account (fx, uri, NULL, "secret", 5000, 0);
  ev = wait_for_state (fx, KEFU_REG_REGISTERED);
  g_assert_cmpuint (ev->scode, ==, 200);
  g_assert_cmpint (ev->transport, ==, KEFU_SIP_TRANSPORT_TCP);

  stop_loop (fx);
  ev = wait_for_state (fx, KEFU_REG_UNREGISTERED);
  g_assert_nonnull (ev);
  assert_sipp_completed (sipp);
}

/* transport=tcp on the account, not in the registrar URI */
static void
test_tcp_by_account (Fixture *fx, gconstpointer data)
{
  guint16 port = free_udp_port ();
  g_autofree char *uri = registrar_uri (port);
  g_autoptr(GSubprocess) sipp = start_sipp_transport ("registrar-digest.xml", port, 1, "t1");
  struct kefu_account_config acc = {
    .password = "secret",
    .registrar = uri,
    .transport = "tcp",
    .timeout_ms = 5000,
  };
  const SeenEvent *ev;

  g_usleep (300 * 1000);
  register_account_config (fx, &acc);
  ev = wait_for_state (fx, KEFU_REG_REGISTERED);
  g_assert_cmpint (ev->transport, ==, KEFU_SIP_TRANSPORT_TCP);
  stop_loop (fx);
  assert_sipp_completed (sipp);
}

/* Expires 5 s: two refreshes, each within the 5 s (sipp times out
 * otherwise), and the account never leaves "registered". */
static void
test_reregister (Fixture *fx, gconstpointer data)
{
  guint16 port = free_udp_port ();
  g_autofree char *uri = registrar_uri (port);
  g_autoptr(GSubprocess) sipp = start_sipp ("registrar-short-expires.xml", port, 1);
  const SeenEvent *ev;
  guint registered_at;
  gint64 start;

  register_account (fx, uri, NULL, "secret", 5000, 0);
  ev = wait_for_state (fx, KEFU_REG_REGISTERED);
  g_assert_cmpuint (ev->scode, ==, 200);
  registered_at = fx->next_event;

  /* two refreshes come at about 4.5 s and 9 s */
  start = g_get_monotonic_time ();
  while (g_get_monotonic_time () - start < 10 * G_USEC_PER_SEC)
    {
      g_usleep (50 * 1000);
      while (g_main_context_iteration (NULL, FALSE))
        ;
    }
  assert_no_state_but (fx, registered_at, KEFU_REG_REGISTERED);

  stop_loop (fx);
  assert_sipp_completed (sipp);
}

/* 503 twice, then the registrar is back: the account registers by itself,
 * after 1 s and then 2 s (the configured start of the backoff) */
static void
test_retry (Fixture *fx, gconstpointer data)
{
  guint16 port = free_udp_port ();
  g_autofree char *uri = registrar_uri (port);
  g_autoptr(GSubprocess) down = start_sipp ("registrar-unavailable.xml", port, 2);
  g_autoptr(GSubprocess) up = NULL;
  struct kefu_account_config acc = {
    .password = "secret",
    .registrar = uri,
    .timeout_ms = 5000,
    .retry_min_ms = 1000,
  };
  const SeenEvent *ev;

  register_account_config (fx, &acc);
  ev = wait_for_state (fx, KEFU_REG_FAILED);
  g_assert_cmpuint (ev->scode, ==, 503);
  g_assert_cmpstr (ev->reason, ==, "Service Unavailable (503)");
  g_assert_cmpuint (ev->retry_in_s, ==, 1);
  ev = wait_for_state (fx, KEFU_REG_FAILED);
  g_assert_cmpuint (ev->retry_in_s, ==, 2);
  assert_sipp_completed (down);

  up = start_sipp ("registrar-digest.xml", port, 1);
  ev = wait_for_state (fx, KEFU_REG_REGISTERED);
  g_assert_cmpuint (ev->scode, ==, 200);

  stop_loop (fx);
  assert_sipp_completed (up);
}

/* no answer at all: failed with "timeout", and it keeps trying */
static void
test_retry_timeout (Fixture *fx, gconstpointer data)
{
  g_autofree char *uri = registrar_uri (free_udp_port ());
  struct kefu_account_config acc = {
    .password = "secret",
    .registrar = uri,
    .timeout_ms = 500,
    .retry_min_ms = 300,
  };
  const SeenEvent *ev;

  register_account_config (fx, &acc);
  ev = wait_for_state (fx, KEFU_REG_FAILED);
  g_assert_cmpstr (ev->reason, ==, "timeout");
  g_assert_cmpuint (ev->retry_in_s, ==, 1);
  ev = wait_for_state (fx, KEFU_REG_REGISTERING);
  ev = wait_for_state (fx, KEFU_REG_FAILED);
  g_assert_cmpstr (ev->reason, ==, "timeout");
}

/* a registrar whose name does not exist (the test's DNS server says so) */
static void
test_dns_nxdomain (Fixture *fx, gconstpointer data)
{
  struct kefu_account_config acc = {
    .aor = "sip:1001@pbx.kefu.invalid",
    .password = "secret",
    .registrar = "sip:pbx.kefu.invalid",
    .timeout_ms = 5000,
  };
  const SeenEvent *ev;

  register_account_config (fx, &acc);
  ev = wait_for_state (fx, KEFU_REG_FAILED);
  g_assert_cmpuint (ev->scode, ==, 0);
  g_assert_cmpstr (ev->reason, ==, "DNS: no such host (pbx.kefu.invalid)");
  g_assert_cmpuint (fx->dns_queries, >, 0);
  /* a name may come to exist: it tries again */
  g_assert_cmpuint (ev->retry_in_s, ==, 5);
}

typedef struct {
  Fixture *fx;
  const char *id;
  const char *mode;             /* out: copied */
  char copy[16];
} DtmfArgs;

/* phone thread */
static int
get_dtmf_mode (void *arg)
{
  DtmfArgs *da = arg;
  const char *mode = kefu_ua_account_dtmf_mode (da->fx->ua, da->id);

  g_strlcpy (da->copy, mode ? mode : "(null)", sizeof (da->copy));
  return 0;
}

static const char *
account_dtmf_mode (Fixture *fx, const char *id, DtmfArgs *da)
{
  *da = (DtmfArgs) { .fx = fx, .id = id };
  g_assert_cmpint (kefu_phone_loop_call_sync (fx->loop, get_dtmf_mode, da), ==, 0);
  return da->copy;
}

/* the account keeps its own DTMF mode; NULL means the phone's */
static void
test_dtmf_mode (Fixture *fx, gconstpointer data)
{
  g_autofree char *uri = registrar_uri (free_udp_port ());
  struct kefu_account_config acc = {
    .password = "secret",
    .registrar = uri,
    .dtmf_mode = "inband",
    .timeout_ms = 500,
  };
  DtmfArgs da;

  register_account_config (fx, &acc);
  g_assert_cmpstr (account_dtmf_mode (fx, "agent-1001", &da), ==, "inband");
  g_assert_cmpstr (account_dtmf_mode (fx, "nobody", &da), ==, "(null)");
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

  g_test_add ("/phone/registration/tcp", Fixture, NULL,
              fixture_set_up, test_tcp, fixture_tear_down);
  g_test_add ("/phone/registration/tcp-by-account", Fixture, NULL,
              fixture_set_up, test_tcp_by_account, fixture_tear_down);
  g_test_add ("/phone/registration/reregister", Fixture, NULL,
              fixture_set_up, test_reregister, fixture_tear_down);
  g_test_add ("/phone/registration/retry", Fixture, NULL,
              fixture_set_up, test_retry, fixture_tear_down);
  g_test_add ("/phone/registration/retry-timeout", Fixture, NULL,
              fixture_set_up, test_retry_timeout, fixture_tear_down);
  g_test_add ("/phone/registration/dns-nxdomain", Fixture, dns_fixture,
              fixture_set_up, test_dns_nxdomain, fixture_tear_down);

  g_test_add ("/phone/registration/dtmf-mode", Fixture, NULL,
              fixture_set_up, test_dtmf_mode, fixture_tear_down);

  return g_test_run ();
}
