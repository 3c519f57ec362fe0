/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "kefu-test-wait.h"

#include <signal.h>
#include <sys/prctl.h>

void
kefu_test_child_setup (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static gboolean
on_wait_timeout (gpointer data)
{
  gboolean *timed_out = data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

void
kefu_test_run_until (gboolean  (*done) (gpointer),
                     gpointer     data,
                     const char  *what)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (KEFU_TEST_WAIT_S, on_wait_timeout, &timed_out);

  while (!done (data) && !timed_out)
    g_main_context_iteration (NULL, TRUE);

  if (timed_out)
    g_error ("timed out waiting for %s", what);
  g_source_remove (id);
}

gboolean
kefu_test_flag_set (gpointer data)
{
  return *(gboolean *) data;
}

static void
on_proc_wait (GObject      *source,
              GAsyncResult *res,
              gpointer      data)
{
  g_subprocess_wait_finish (G_SUBPROCESS (source), res, NULL);
  *(gboolean *) data = TRUE;
}

void
kefu_test_wait_exit (GSubprocess *proc,
                     const char  *what)
{
  gboolean exited = FALSE;

  g_subprocess_wait_async (proc, NULL, on_proc_wait, &exited);
  kefu_test_run_until (kefu_test_flag_set, &exited, what);
}

void
kefu_test_assert_sipp_completed (GSubprocess *proc)
{
  kefu_test_wait_exit (proc, "sipp to finish its scenario");
  g_assert_true (g_subprocess_get_if_exited (proc));
  g_assert_cmpint (g_subprocess_get_exit_status (proc), ==, 0);
}

static gboolean
udp_port_free (guint16 port)
{
  g_autoptr(GSocket) sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, 0, NULL);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) addr = g_inet_socket_address_new (lo, port);

  return sock && g_socket_bind (sock, addr, FALSE, NULL);
}

/* sipp's -mp: audio RTP and RTCP there, video on the next two ports; all
 * four must be free, or sipp fails to bind and the call never comes. */
guint16
kefu_test_free_media_port (void)
{
  for (guint tries = 0; tries < 200; tries++)
    {
      guint16 base = (guint16) g_random_int_range (20000, 60000) & ~1u;
      gboolean all_free = TRUE;

      for (guint16 i = 0; i < 4 && all_free; i++)
        all_free = udp_port_free (base + i);
      if (all_free)
        return base;
    }
  g_error ("no four free UDP ports in a row on 127.0.0.1 for sipp's media");
}
