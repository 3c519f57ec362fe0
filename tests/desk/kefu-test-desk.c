/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuTestDesk"

#include "kefu-test-desk.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

void
kefu_test_on_result (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

void
kefu_test_wait_result (GAsyncResult **result)
{
  while (!*result)
    g_main_context_iteration (NULL, TRUE);
}

static gboolean
on_wait_timeout (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

gboolean
kefu_test_wait_flag (gboolean *condition,
                     guint     timeout_s)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (timeout_s, on_wait_timeout, &timed_out);

  while (!*condition && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  return *condition;
}

void
kefu_test_assert_finalized (gpointer object)
{
  gpointer weak = object;

  g_object_add_weak_pointer (G_OBJECT (object), &weak);
  g_object_unref (object);
  for (guint i = 0; weak && i < 500; i++)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (10000);
    }
  g_assert_null (weak);
}

struct _KefuTestRelay {
  GSocketService *service;
  char           *url;
  GMutex          lock;
  char           *upstream;   /* host:port */
  gint            lose;       /* answers still to lose */
  gint            lost;
};

static char *
host_port_of (const char *url)
{
  const char *start = strstr (url, "://");

  return g_strdup (start ? start + 3 : url);
}

static gboolean
write_all (int         fd,
           const char *buf,
           gssize      len)
{
  while (len > 0)
    {
      gssize n = write (fd, buf, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      buf += n;
      len -= n;
    }
  return TRUE;
}

/* One client connection, on a thread of its own: bytes both ways. */
static gboolean
on_relay_run (GThreadedSocketService *service,
              GSocketConnection      *connection,
              GObject                *source,
              gpointer                user_data)
{
  KefuTestRelay *relay = user_data;
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) upstream = NULL;
  g_autofree char *target = NULL;
  struct pollfd fds[2];
  char buf[65536];

  g_mutex_lock (&relay->lock);
  target = g_strdup (relay->upstream);
  g_mutex_unlock (&relay->lock);

  /* The server is down: the client's connection closes unanswered. */
  upstream = g_socket_client_connect_to_host (client, target, 80, NULL, NULL);
  if (!upstream)
    {
      g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
      return TRUE;
    }

  fds[0].fd = g_socket_get_fd (g_socket_connection_get_socket (connection));
  fds[1].fd = g_socket_get_fd (g_socket_connection_get_socket (upstream));
  fds[0].events = fds[1].events = POLLIN;
  for (;;)
    {
      gssize n;

      if (poll (fds, 2, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          break;
        }
      if (fds[0].revents)
        {
          n = read (fds[0].fd, buf, sizeof buf);
          if (n <= 0 || !write_all (fds[1].fd, buf, n))
            break;
        }
      if (fds[1].revents)
        {
          n = read (fds[1].fd, buf, sizeof buf);
          if (n <= 0)
            break;
          if (g_atomic_int_get (&relay->lose) > 0)
            {
              /* The change reached the server; its answer is lost. */
              g_atomic_int_add (&relay->lose, -1);
              g_atomic_int_inc (&relay->lost);
              break;
            }
          if (!write_all (fds[0].fd, buf, n))
            break;
        }
    }
  g_io_stream_close (G_IO_STREAM (upstream), NULL, NULL);
  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
  return TRUE;
}

KefuTestRelay *
kefu_test_relay_new (const char *upstream_url)
{
  KefuTestRelay *relay = g_new0 (KefuTestRelay, 1);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;

  g_mutex_init (&relay->lock);
  relay->upstream = host_port_of (upstream_url);
  relay->service = g_threaded_socket_service_new (16);
  g_socket_listener_add_address (G_SOCKET_LISTENER (relay->service), address, G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_TCP, NULL, &bound, &error);
  g_assert_no_error (error);
  relay->url = g_strdup_printf ("http://127.0.0.1:%u",
                                g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  g_signal_connect (relay->service, "run", G_CALLBACK (on_relay_run), relay);
  g_socket_service_start (relay->service);
  return relay;
}

const char *
kefu_test_relay_get_url (KefuTestRelay *relay)
{
  return relay->url;
}

void
kefu_test_relay_set_upstream (KefuTestRelay *relay,
                              const char    *upstream_url)
{
  g_mutex_lock (&relay->lock);
  g_free (relay->upstream);
  relay->upstream = host_port_of (upstream_url);
  g_mutex_unlock (&relay->lock);
}

void
kefu_test_relay_lose_answers (KefuTestRelay *relay,
                              guint          n)
{
  g_atomic_int_set (&relay->lose, (gint) n);
}

guint
kefu_test_relay_lost_answers (KefuTestRelay *relay)
{
  return (guint) g_atomic_int_get (&relay->lost);
}

void
kefu_test_relay_free (KefuTestRelay *relay)
{
  if (!relay)
    return;
  GSocketService *service = relay->service;

  g_socket_service_stop (relay->service);
  g_socket_listener_close (G_SOCKET_LISTENER (relay->service));
  /* Each running connection holds the service; it goes when the last
   * connection's thread is done with the relay. */
  g_object_add_weak_pointer (G_OBJECT (service), (gpointer *) &service);
  g_clear_object (&relay->service);
  for (guint i = 0; service && i < 1000; i++)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (10000);
    }
  g_assert_null (service);
  g_mutex_clear (&relay->lock);
  g_free (relay->upstream);
  g_free (relay->url);
  g_free (relay);
}
