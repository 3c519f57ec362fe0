/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * KefuAccount through KefuPhone, as the desktop uses them: the accounts
 * model, the registration properties and their notifications, and a new
 * password that registers the account again at once; sipp plays the
 * registrar on 127.0.0.1.
 */
#define G_LOG_DOMAIN "TestAccounts"

#include "kefu-test-wait.h"
#include "config.h"

#include <string.h>
#include <gio/gio.h>

#include "kefu-phone.h"

typedef struct {
  KefuAccount *account;
  KefuRegistrationState state;
} StateWait;

static gboolean
state_is (gpointer data)
{
  StateWait *w = data;

  return kefu_account_get_state (w->account) == w->state;
}

static void
wait_state (KefuAccount *account, KefuRegistrationState state)
{
  StateWait w = { account, state };

  kefu_test_run_until (state_is, &w, kefu_registration_state_to_string (state));
}

static guint16
free_udp_port (void)
{
  g_autoptr(GSocket) sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, 0, NULL);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  g_autoptr(GSocketAddress) bound = NULL;

  g_assert_true (g_socket_bind (sock, any, FALSE, NULL));
  bound = g_socket_get_local_address (sock, NULL);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

static GSubprocess *
start_sipp (const char *scenario, guint16 port)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_autofree char *sipp = g_strdup (g_getenv ("SIPP"));
  const char *srcdir = g_getenv ("KEFU_SOURCE_DIR");
  g_autofree char *path = g_build_filename (srcdir ? srcdir : ".", "tests", "sip", scenario,
                                            NULL);
  g_autofree char *port_s = g_strdup_printf ("%u", port);
  GSubprocess *proc;

  if (!sipp)
    sipp = g_find_program_in_path ("sipp");
  if (!sipp)
    g_error ("sipp is missing: install the Debian package sip-tester");
  g_subprocess_launcher_set_child_setup (launcher, kefu_test_child_setup, NULL, NULL);
  proc = g_subprocess_launcher_spawn (launcher, &error, sipp, "-sf", path, "-i", "127.0.0.1",
                                      "-p", port_s, "-m", "1", "-nostdin", "-timeout", "30",
                                      "-timeout_error", NULL);
  g_assert_no_error (error);
  return proc;
}

static void
on_notify (GObject *object, GParamSpec *pspec, gpointer data)
{
  GString *seen = data;

  g_string_append_printf (seen, "%s;", pspec->name);
}

static void
test_account_lifecycle (void)
{
  guint16 port = free_udp_port ();
  g_autofree char *registrar = g_strdup_printf ("sip:127.0.0.1:%u", port);
  g_autoptr(GError) error = NULL;
  g_autoptr(KefuPhone) phone = NULL;
  g_autoptr(GSubprocess) refusing = start_sipp ("registrar-wrong-password.xml", port);
  g_autoptr(GSubprocess) accepting = NULL;
  g_autoptr(GString) notified = g_string_new (NULL);
  KefuAccount *account;
  GListModel *accounts;

  phone = kefu_phone_new (NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  accounts = kefu_phone_get_accounts (phone);

  account = kefu_account_new ("sip:1001@127.0.0.1", "not-the-password");
  g_object_set (account, "registrar", registrar, "dtmf-mode", "info", NULL);
  g_signal_connect (account, "notify", G_CALLBACK (on_notify), notified);
  g_assert_true (kefu_phone_register_account (phone, account, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (accounts), ==, 1);
  g_assert_true (kefu_phone_lookup_account (phone, "sip:1001@127.0.0.1") == account);

  /* a second account for the same AOR is refused */
  g_assert_null (kefu_phone_add_account (phone, "sip:1001@127.0.0.1", "x", NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS);
  g_clear_error (&error);

  wait_state (account, KEFU_REGISTRATION_STATE_FAILED);
  g_assert_cmpstr (kefu_account_get_reason (account), ==, "wrong password (401)");
  g_assert_cmpuint (kefu_account_get_status_code (account), ==, 401);
  /* no retry with a refused password: it waits for a new one */
  g_assert_cmpuint (kefu_account_get_retry_in (account), ==, 0);
  g_assert_nonnull (strstr (notified->str, "state;"));
  g_assert_nonnull (strstr (notified->str, "reason;"));
  kefu_test_assert_sipp_completed (refusing);

  /* the right password: registered again at once, no command needed */
  accepting = start_sipp ("registrar-digest.xml", port);
  g_usleep (300 * 1000);
  g_object_set (account, "password", "secret", NULL);
  wait_state (account, KEFU_REGISTRATION_STATE_REGISTERED);
  g_assert_cmpstr (kefu_account_get_reason (account), ==, "");
  g_assert_cmpuint (kefu_account_get_status_code (account), ==, 200);
  g_assert_cmpint (kefu_account_get_active_registrar (account), ==, KEFU_REGISTRAR_ROLE_PRIMARY);
  g_assert_cmpint (kefu_account_get_transport (account), ==, KEFU_TRANSPORT_UDP);
  g_assert_cmpstr (kefu_account_get_dtmf_mode (account), ==, "info");
  g_assert_cmpint (kefu_phone_get_registration_state (phone, "sip:1001@127.0.0.1"), ==,
                   KEFU_REGISTRATION_STATE_REGISTERED);

  /* removing it un-REGISTERs (sipp checks expires=0) */
  g_assert_true (kefu_phone_remove_account (phone, "sip:1001@127.0.0.1", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (accounts), ==, 0);
  g_assert_cmpint (kefu_account_get_state (account), ==, KEFU_REGISTRATION_STATE_UNREGISTERED);
  kefu_test_assert_sipp_completed (accepting);

  g_assert_finalize_object (phone);
  phone = NULL;
  g_assert_finalize_object (account);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/phone/accounts/lifecycle", test_account_lifecycle);

  return g_test_run ();
}
