/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * How long an INVITE takes to become a call in the GObject API: a KefuPhone
 * listening on 127.0.0.1, and a plain UDP socket in the same process sending
 * it N INVITEs one at a time (with an SDP offer and an X-Kefu-* screen-pop
 * header, as the switch sends them).  Each is timed from just before sendto()
 * to the start of the handler of the new call showing up on the main thread:
 * the calls model's items-changed and, right after it in the same dispatch,
 * KefuPhone::incoming-call.  The handler declines the call (486); the next
 * INVITE goes once the call has left the model and the 486 was ACKed.
 *
 * The path measured: loopback UDP, libre's loop on the phone thread (SIP
 * parsing, the call and its RTP socket, 180 Ringing), the hand-over to the
 * GLib main context, and KefuCall's creation.
 *
 *   bench-phone-incoming-latency [N]     (default 1000, plus 10 not counted)
 *
 * Prints p50, p95, p99 and max in ms, and how many took over 2 ms (the
 * goal), for the incoming-call signal and for items-changed.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <glib.h>
#include <glib-unix.h>

#include "kefu-phone.h"

#define WARMUP 10
#define TIMEOUT_S 5
#define GOAL_MS 2.0

typedef struct {
  KefuPhone *phone;
  int fd;
  struct sockaddr_in phone_addr;
  guint16 local_port;

  /* the INVITE in flight */
  guint seq;
  char call_id[64];
  char branch[64];
  char from_tag[32];
  gint64 sent_ns;
  gint64 model_ns;              /* items-changed added it */
  gint64 signal_ns;             /* incoming-call */
  gboolean removed;             /* call-removed */
  gboolean acked;               /* the final response came and was ACKed */
  gboolean failed;
} Bench;

static gint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

static void
on_items_changed (GListModel *model, guint position, guint removed, guint added,
                  gpointer data)
{
  Bench *b = data;

  if (added && !b->model_ns)
    b->model_ns = now_ns ();
}

static void
on_incoming_call (KefuPhone *phone, KefuCall *call, gpointer data)
{
  Bench *b = data;
  g_autoptr(GError) error = NULL;

  b->signal_ns = now_ns ();
  if (!kefu_call_decline (call, 486, &error))
    {
      g_printerr ("decline: %s\n", error->message);
      b->failed = TRUE;
    }
}

static void
on_call_removed (KefuPhone *phone, KefuCall *call, gpointer data)
{
  Bench *b = data;

  b->removed = TRUE;
}

static void
send_text (Bench *b, const char *text)
{
  if (sendto (b->fd, text, strlen (text), 0, (struct sockaddr *) &b->phone_addr,
              sizeof b->phone_addr) < 0)
    {
      g_printerr ("sendto: %s\n", g_strerror (errno));
      b->failed = TRUE;
    }
}

static char *
header_lines (Bench *b)
{
  return g_strdup_printf ("Via: SIP/2.0/UDP 127.0.0.1:%u;branch=%s;rport\r\n"
                          "Max-Forwards: 70\r\n"
                          "From: \"Bench\" <sip:bench@127.0.0.1:%u>;tag=%s\r\n",
                          b->local_port, b->branch, b->local_port, b->from_tag);
}

static void
send_invite (Bench *b)
{
  guint16 port = ntohs (b->phone_addr.sin_port);
  g_autofree char *common = NULL;
  g_autofree char *sdp = NULL;
  g_autofree char *msg = NULL;

  b->seq++;
  g_snprintf (b->call_id, sizeof b->call_id, "bench-%u-%d@127.0.0.1", b->seq, (int) getpid ());
  g_snprintf (b->branch, sizeof b->branch, "z9hG4bK-bench-%u-%08x", b->seq, g_random_int ());
  g_snprintf (b->from_tag, sizeof b->from_tag, "b%08x", g_random_int ());
  b->model_ns = b->signal_ns = 0;
  b->removed = b->acked = FALSE;

  common = header_lines (b);
  sdp = g_strdup_printf ("v=0\r\n"
                         "o=bench %u 1 IN IP4 127.0.0.1\r\n"
                         "s=-\r\n"
                         "c=IN IP4 127.0.0.1\r\n"
                         "t=0 0\r\n"
                         "m=audio 9 RTP/AVP 0 8 101\r\n"
                         "a=rtpmap:0 PCMU/8000\r\n"
                         "a=rtpmap:8 PCMA/8000\r\n"
                         "a=rtpmap:101 telephone-event/8000\r\n"
                         "a=fmtp:101 0-16\r\n"
                         "a=sendrecv\r\n", b->seq);
  msg = g_strdup_printf ("INVITE sip:agent@127.0.0.1:%u SIP/2.0\r\n"
                         "%s"
                         "To: <sip:agent@127.0.0.1:%u>\r\n"
                         "Call-ID: %s\r\n"
                         "CSeq: 1 INVITE\r\n"
                         "Contact: <sip:bench@127.0.0.1:%u>\r\n"
                         "X-Kefu-Queue: sales\r\n"
                         "X-Kefu-Wait: 12\r\n"
                         "Content-Type: application/sdp\r\n"
                         "Content-Length: %zu\r\n"
                         "\r\n"
                         "%s",
                         port, common, port, b->call_id, b->local_port, strlen (sdp), sdp);

  b->sent_ns = now_ns ();
  send_text (b, msg);
}

/* The value of header @name in @msg (full name only: libre sends those). */
static char *
find_header (const char *msg, const char *name)
{
  g_autofree char *needle = g_strdup_printf ("\r\n%s:", name);
  const char *p = strstr (msg, needle);
  const char *end;

  if (!p)
    return NULL;
  p += strlen (needle);
  while (*p == ' ')
    p++;
  end = strstr (p, "\r\n");
  return end ? g_strndup (p, (gsize) (end - p)) : NULL;
}

/* A final response to our INVITE gets its ACK (same branch, the To tag). */
static gboolean
on_socket (gint fd, GIOCondition condition, gpointer data)
{
  Bench *b = data;
  char buf[8192];
  ssize_t n;

  while ((n = recv (fd, buf, sizeof buf - 1, MSG_DONTWAIT)) > 0)
    {
      g_autofree char *call_id = NULL;
      g_autofree char *cseq = NULL;
      g_autofree char *to = NULL;
      g_autofree char *common = NULL;
      g_autofree char *ack = NULL;
      guint code;

      buf[n] = '\0';
      if (sscanf (buf, "SIP/2.0 %u", &code) != 1)
        continue;               /* a request: none is expected */
      call_id = find_header (buf, "Call-ID");
      cseq = find_header (buf, "CSeq");
      to = find_header (buf, "To");
      if (code < 200 || !call_id || !cseq || !to || !g_str_equal (call_id, b->call_id)
          || !g_str_has_suffix (cseq, "INVITE"))
        continue;
      if (code < 300)
        {
          g_printerr ("the phone answered %s with %u\n", b->call_id, code);
          b->failed = TRUE;
          continue;
        }

      common = header_lines (b);
      ack = g_strdup_printf ("ACK sip:agent@127.0.0.1:%u SIP/2.0\r\n"
                             "%s"
                             "To: %s\r\n"
                             "Call-ID: %s\r\n"
                             "CSeq: 1 ACK\r\n"
                             "Content-Length: 0\r\n"
                             "\r\n",
                             ntohs (b->phone_addr.sin_port), common, to, b->call_id);
      send_text (b, ack);
      b->acked = TRUE;
    }
  return G_SOURCE_CONTINUE;
}

static gboolean
on_timeout (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Iterates until the INVITE in flight became a call, was declined, left the
 * model and was ACKed. */
static gboolean
run_one (Bench *b)
{
  gboolean timed_out = FALSE;
  guint timer = g_timeout_add_seconds (TIMEOUT_S, on_timeout, &timed_out);

  send_invite (b);
  while (!b->failed && !timed_out && !(b->signal_ns && b->removed && b->acked))
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (timer);
  if (timed_out)
    g_printerr ("INVITE %u: no %s within %d s\n", b->seq,
                !b->signal_ns ? "incoming call" : !b->removed ? "call-removed" : "final response",
                TIMEOUT_S);
  return !timed_out && !b->failed;
}

static int
compare_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

/* nearest rank */
static double
percentile (const double *sorted, guint n, double p)
{
  guint rank = (guint) ceil (p / 100.0 * n);

  return sorted[rank ? rank - 1 : 0];
}

static void
print_stats (const char *label, double *ms, guint n)
{
  guint over = 0;

  qsort (ms, n, sizeof *ms, compare_double);
  for (guint i = 0; i < n; i++)
    over += ms[i] > GOAL_MS;
  printf ("%-16s p50 %.3f ms   p95 %.3f ms   p99 %.3f ms   max %.3f ms   over %g ms: %u\n",
          label, percentile (ms, n, 50), percentile (ms, n, 95), percentile (ms, n, 99),
          ms[n - 1], GOAL_MS, over);
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree double *signal_ms = NULL;
  g_autofree double *model_ms = NULL;
  struct sockaddr_in local = { .sin_family = AF_INET };
  socklen_t len = sizeof local;
  Bench b = { 0 };
  guint64 n = 1000;
  guint fd_source;

  if (argc > 2 || (argc == 2 && !g_ascii_string_to_unsigned (argv[1], 10, 1, 1000000, &n, NULL)))
    {
      g_printerr ("usage: %s [N]\n", argv[0]);
      return 2;
    }

  b.phone = kefu_phone_new ("127.0.0.1:0", "null", NULL, &error);
  if (!b.phone)
    {
      g_printerr ("cannot start the phone: %s\n", error->message);
      return 1;
    }
  g_signal_connect (kefu_phone_get_calls (b.phone), "items-changed",
                    G_CALLBACK (on_items_changed), &b);
  g_signal_connect (b.phone, "incoming-call", G_CALLBACK (on_incoming_call), &b);
  g_signal_connect (b.phone, "call-removed", G_CALLBACK (on_call_removed), &b);

  b.phone_addr.sin_family = AF_INET;
  b.phone_addr.sin_port = htons ((guint16) kefu_phone_get_sip_port (b.phone));
  b.phone_addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);

  b.fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  local.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (b.fd < 0 || bind (b.fd, (struct sockaddr *) &local, sizeof local) < 0
      || getsockname (b.fd, (struct sockaddr *) &local, &len) < 0)
    {
      g_printerr ("socket: %s\n", g_strerror (errno));
      return 1;
    }
  b.local_port = ntohs (local.sin_port);
  fd_source = g_unix_fd_add (b.fd, G_IO_IN, on_socket, &b);

  signal_ms = g_new (double, n);
  model_ms = g_new (double, n);
  for (guint64 i = 0; i < WARMUP + n; i++)
    {
      if (!run_one (&b))
        return 1;
      if (i >= WARMUP)
        {
          signal_ms[i - WARMUP] = (double) (b.signal_ns - b.sent_ns) / 1e6;
          model_ms[i - WARMUP] = (double) (b.model_ns - b.sent_ns) / 1e6;
        }
    }

  printf ("%" G_GUINT64_FORMAT " INVITEs (after %d not counted), one at a time:\n", n, WARMUP);
  print_stats ("incoming-call", signal_ms, (guint) n);
  print_stats ("items-changed", model_ms, (guint) n);

  g_source_remove (fd_source);
  close (b.fd);
  g_object_unref (b.phone);
  return 0;
}
