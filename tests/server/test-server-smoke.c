/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "kefu-test-server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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

/* Clients that reset their connection (RST) just after sending a request,
 * as a desktop killed mid-request or a flaky network does: the server
 * answers the next client as if nothing happened. */
static void
test_clients_that_reset (void)
{
  KefuTestServer *server = kefu_test_server_start (NULL);
  g_autofree char *token = kefu_test_login (server, "agent");
  g_autoptr(GUri) uri = g_uri_parse (server->url, G_URI_FLAGS_NONE, NULL);
  g_autofree char *request = g_strdup_printf ("GET /v1/customers?q=1 HTTP/1.1\r\nHost: x\r\n"
                                              "Authorization: Bearer %s\r\n\r\n", token);
  struct sockaddr_in addr = { 0 };

  g_assert_nonnull (uri);
  addr.sin_family = AF_INET;
  addr.sin_port = htons ((guint16) g_uri_get_port (uri));
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  for (int i = 0; i < 300; i++)
    {
      struct linger reset = { 1, 0 };
      int fd = socket (AF_INET, SOCK_STREAM, 0);

      g_assert_cmpint (fd, >=, 0);
      g_assert_cmpint (connect (fd, (struct sockaddr *) &addr, sizeof addr), ==, 0);
      g_assert_cmpint (setsockopt (fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset), ==, 0);
      /* every few, the request goes first; the others reset at once */
      if (i % 3)
        g_assert_cmpint (write (fd, request, strlen (request)), ==, (gssize) strlen (request));
      if (i % 5 == 0)
        g_usleep ((i % 20) * 100);
      close (fd);
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
  g_test_add_func ("/server/smoke/clients-that-reset", test_clients_that_reset);
  return g_test_run ();
}
