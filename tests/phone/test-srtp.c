/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * SRTP calls between two real kefu-phone processes over SIP on TLS, on
 * 127.0.0.1: a customer and an agent, each playing its own tone and
 * recording what it hears.  The call says it is secure on both sides, the
 * voices get through both ways, and plain RTP sent to the agent's media
 * port by a third party (the test: a forger, or a phone that ignored the
 * SDP) is dropped and counted, never heard.  A side that requires SRTP
 * refuses a plain offer with 488, a plain side an SRTP offer, and an
 * account cannot ask for SRTP without TLS.  The certificate is made here
 * with the openssl command, self-signed for 127.0.0.1.
 */
#define G_LOG_DOMAIN "TestSrtp"

#include "config.h"

#include <math.h>
#include <string.h>
#include <gio/gio.h>
#include <glib/gstdio.h>

#include "kefu-g711.h"
#include "kefu-test-peer.h"
#include "kefu-test-wait.h"

static const double TONE_CUSTOMER = 500, TONE_AGENT = 1300, TONE_FORGED = 2200;

typedef struct {
  char *dir;
  char *ca;                     /* the certificate: what a client trusts */
  char *server_pem;             /* certificate and key: what a server shows */
  KefuTestPeer customer, agent;
} Fixture;

static void
make_certificate (Fixture *fx)
{
  g_autofree char *openssl = g_find_program_in_path ("openssl");
  g_autofree char *key = g_build_filename (fx->dir, "key.pem", NULL);
  g_autofree char *cert_pem = NULL;
  g_autofree char *key_pem = NULL;
  g_autofree char *both = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc = NULL;

  if (!openssl)
    g_error ("openssl is missing: install the Debian package openssl");
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

static void
fixture_set_up (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  fx->dir = g_dir_make_tmp ("kefu-srtp-XXXXXX", &error);
  g_assert_no_error (error);
  make_certificate (fx);
}

static void
fixture_tear_down (Fixture *fx, gconstpointer data)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  kefu_test_peer_clear (&fx->customer);
  kefu_test_peer_clear (&fx->agent);
  dir = g_dir_open (fx->dir, 0, NULL);
  while (dir && (name = g_dir_read_name (dir)))
    {
      g_autofree char *path = g_build_filename (fx->dir, name, NULL);

      g_unlink (path);
    }
  g_rmdir (fx->dir);
  g_free (fx->dir);
  g_free (fx->ca);
  g_free (fx->server_pem);
}

/* Starts a party that takes calls over TLS, with or without SRTP; the
 * port its TLS listens on. */
static guint16
start_party (Fixture *fx, KefuTestPeer *p, const char *name, double tone, gboolean srtp)
{
  const char *const with_srtp[] = {
    "--tls-cert", fx->server_pem, "--tls-ca", fx->ca, "--srtp", NULL
  };
  const char *const without[] = { "--tls-cert", fx->server_pem, "--tls-ca", fx->ca, NULL };
  JsonObject *ready;

  kefu_test_peer_start (p, fx->dir, name, tone, srtp ? with_srtp : without);
  ready = kefu_test_peer_wait (p, "ready");
  return (guint16) json_object_get_int_member (ready, "tls_port");
}

static void
dial_tls (KefuTestPeer *from, const char *user, guint16 tls_port)
{
  kefu_test_peer_send (from, "dial sips:%s@127.0.0.1:%u", user, tls_port);
}

/* Plain PCMU packets of a tone, as a forger or a careless phone sends them
 * to @port: @count of them, 20 ms apart. */
static void
send_plain_rtp (guint16 port, guint count, double freq)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, 0,
                                          &error);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) dst = g_inet_socket_address_new (lo, port);

  g_assert_no_error (error);
  for (guint n = 0; n < count; n++)
    {
      guint8 pkt[12 + 160];
      gint16 pcm[160];
      guint16 seq = (guint16) (4000 + n);
      guint32 ts = 160u * n;

      pkt[0] = 0x80;
      pkt[1] = 0;                              /* PCMU */
      pkt[2] = (guint8) (seq >> 8);
      pkt[3] = (guint8) seq;
      pkt[4] = (guint8) (ts >> 24);
      pkt[5] = (guint8) (ts >> 16);
      pkt[6] = (guint8) (ts >> 8);
      pkt[7] = (guint8) ts;
      memcpy (pkt + 8, "\x12\x34\x56\x78", 4);  /* SSRC */
      for (guint i = 0; i < 160; i++)
        pcm[i] = (gint16) (8000.0 * sin (2 * G_PI * freq * (double) (160 * n + i) / 8000));
      kefu_g711_ulaw_encode (pkt + 12, pcm, 160);

      g_socket_send_to (sock, dst, (const char *) pkt, sizeof pkt, NULL, &error);
      g_assert_no_error (error);
      g_usleep (20 * 1000);
    }
}

static gint64
stats_member (JsonObject *ev, const char *name)
{
  return json_object_get_int_member (json_object_get_object_member (ev, "stats"), name);
}

/* Both require SRTP: a secure call, voices both ways, forged RTP dropped. */
static void
test_secure_call (Fixture *fx, gconstpointer data)
{
  guint16 agent_tls;
  JsonObject *ev;
  guint16 agent_rtp;

  start_party (fx, &fx->customer, "customer", TONE_CUSTOMER, TRUE);
  agent_tls = start_party (fx, &fx->agent, "agent", TONE_AGENT, TRUE);
  dial_tls (&fx->customer, "agent", agent_tls);
  kefu_test_peer_wait (&fx->agent, "incoming");
  kefu_test_peer_send (&fx->agent, "answer");
  ev = kefu_test_peer_wait (&fx->agent, "established");
  g_assert_true (json_object_get_boolean_member (ev, "srtp"));
  agent_rtp = (guint16) json_object_get_int_member (ev, "local_rtp_port");
  ev = kefu_test_peer_wait (&fx->customer, "established");
  g_assert_true (json_object_get_boolean_member (ev, "srtp"));
  g_assert_cmpstr (json_object_get_string_member (ev, "codec"), ==, "PCMU");

  /* a second of the call, then a second of forged plain RTP on top of it */
  g_usleep (G_USEC_PER_SEC);
  send_plain_rtp (agent_rtp, 50, TONE_FORGED);
  g_usleep (G_USEC_PER_SEC / 2);

  kefu_test_peer_send (&fx->agent, "stats");
  ev = kefu_test_peer_wait (&fx->agent, "stats");
  g_assert_true (json_object_get_boolean_member (json_object_get_object_member (ev, "stats"),
                                                 "srtp"));
  g_assert_cmpint (stats_member (ev, "srtp_dropped"), >=, 50);
  /* what the customer sent all along got through */
  g_assert_cmpint (stats_member (ev, "packets_received"), >=, 75);

  kefu_test_peer_send (&fx->customer, "stats");
  ev = kefu_test_peer_wait (&fx->customer, "stats");
  g_assert_cmpint (stats_member (ev, "srtp_dropped"), ==, 0);

  kefu_test_peer_send (&fx->customer, "hangup");
  kefu_test_peer_wait (&fx->customer, "closed");
  kefu_test_peer_wait (&fx->agent, "closed");
  kefu_test_peer_quit (&fx->customer);
  kefu_test_peer_quit (&fx->agent);

  kefu_test_assert_hears ("customer", fx->customer.recording, 0, TONE_AGENT, 2.0);
  kefu_test_assert_hears ("agent", fx->agent.recording, 0, TONE_CUSTOMER, 2.0);
  /* the forged second is somewhere in the last two: not a trace of it */
  kefu_test_assert_not_hears ("agent", fx->agent.recording, 0, TONE_FORGED, 2.0);
}

/* One side requires SRTP, the other does not offer or accept it: 488. */
static void
test_mismatch (Fixture *fx, gconstpointer data)
{
  gboolean caller_srtp = GPOINTER_TO_INT (data);
  guint16 agent_tls;
  JsonObject *ev;

  start_party (fx, &fx->customer, "customer", TONE_CUSTOMER, caller_srtp);
  agent_tls = start_party (fx, &fx->agent, "agent", TONE_AGENT, !caller_srtp);
  dial_tls (&fx->customer, "agent", agent_tls);
  ev = kefu_test_peer_wait (&fx->customer, "closed");
  g_assert_cmpint (json_object_get_int_member (ev, "code"), ==, 488);

  kefu_test_peer_quit (&fx->customer);
  kefu_test_peer_quit (&fx->agent);
  for (guint i = 0; i < fx->agent.events->len; i++)
    g_assert_cmpstr (json_object_get_string_member (fx->agent.events->pdata[i], "event"), !=,
                     "incoming");
}

/* kefu-phone with @args; its exit status and what it said on stderr */
static int
run_phone (const char *const *args, char **err_text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) proc = NULL;
  g_autofree char *out = NULL;

  g_ptr_array_add (argv, (char *) g_getenv ("KEFU_PHONE"));
  for (; *args; args++)
    g_ptr_array_add (argv, (char *) *args);
  g_ptr_array_add (argv, NULL);
  proc = g_subprocess_newv ((const char *const *) argv->pdata,
                            G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                            &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (proc, NULL, NULL, &out, err_text, &error);
  g_assert_no_error (error);
  return g_subprocess_get_exit_status (proc);
}

/* SDES keys over clear SIP would be anyone's: refused before anything
 * starts, with a message that says why. */
static void
test_needs_tls (Fixture *fx, gconstpointer data)
{
  g_autofree char *text = NULL;
  const char *const udp_account[] = {
    "--account", "sip:1001@127.0.0.1;password=secret;srtp=yes", "quit", NULL
  };
  const char *const tcp_account[] = {
    "--account", "sip:1001@127.0.0.1;password=secret;transport=tcp;srtp=yes", "quit", NULL
  };
  const char *const bad_value[] = {
    "--account", "sip:1001@127.0.0.1;password=secret;srtp=maybe", "quit", NULL
  };
  const char *const listen_without_cert[] = { "--listen", "127.0.0.1:0", "--srtp", "quit", NULL };

  g_assert_cmpint (run_phone (udp_account, &text), ==, 2);
  g_assert_nonnull (strstr (text, "srtp=yes needs TLS"));
  g_clear_pointer (&text, g_free);
  g_assert_cmpint (run_phone (tcp_account, &text), ==, 2);
  g_assert_nonnull (strstr (text, "srtp=yes needs TLS"));
  g_clear_pointer (&text, g_free);
  g_assert_cmpint (run_phone (bad_value, &text), ==, 2);
  g_assert_nonnull (strstr (text, "srtp=maybe"));
  g_clear_pointer (&text, g_free);
  g_assert_cmpint (run_phone (listen_without_cert, &text), ==, 2);
  g_assert_nonnull (strstr (text, "--srtp"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/srtp/secure-call", Fixture, NULL, fixture_set_up, test_secure_call,
              fixture_tear_down);
  g_test_add ("/srtp/plain-offer-refused", Fixture, GINT_TO_POINTER (FALSE), fixture_set_up,
              test_mismatch, fixture_tear_down);
  g_test_add ("/srtp/srtp-offer-refused", Fixture, GINT_TO_POINTER (TRUE), fixture_set_up,
              test_mismatch, fixture_tear_down);
  g_test_add ("/srtp/needs-tls", Fixture, NULL, fixture_set_up, test_needs_tls,
              fixture_tear_down);

  return g_test_run ();
}
