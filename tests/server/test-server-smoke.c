/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "kefu-test-server.h"

static void
test_login_and_health (void)
{
  KefuTestServer *server = kefu_test_server_start (NULL);
  g_autofree char *token = kefu_test_login (server, "agent");
  g_autoptr(KefuTestResponse) health = kefu_test_request (server, "GET", "/healthz", NULL, NULL);

  g_assert_cmpuint (health->status, ==, 200);
  g_assert_cmpstr (json_object_get_string_member (kefu_test_response_object (health), "status"),
                   ==, "ok");
  kefu_test_server_free (server);
}

/* Stopped the moment it says it listens (as a test or systemd may), it
 * still shuts down cleanly, and comes back on the same port. */
static void
test_stop_at_once (void)
{
  KefuTestServer *server = kefu_test_server_start (NULL);
  g_autofree char *url = g_strdup (server->url);

  for (int i = 0; i < 5; i++)
    {
      kefu_test_server_stop (server);
      kefu_test_server_start_again (server);
      g_assert_cmpstr (server->url, ==, url);
    }
  {
    g_autoptr(KefuTestResponse) health = kefu_test_request (server, "GET", "/healthz", NULL, NULL);

    g_assert_cmpuint (health->status, ==, 200);
  }
  kefu_test_server_free (server);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/server/smoke/login-and-health", test_login_and_health);
  g_test_add_func ("/server/smoke/stop-at-once", test_stop_at_once);
  return g_test_run ();
}
