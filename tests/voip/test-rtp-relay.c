/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The switch's packet relay (kefu-rtp-relay.h) between two RTP streams,
 * each with a hand-made peer on 127.0.0.1: what one peer sends reaches the
 * other as the other stream's own packets (its payload type, SSRC and
 * sequence), none lost, none twice; a telephone-event goes across and is
 * reported as a digit; freeing the relay and the streams while packets
 * still come leaves nothing behind.  Run with the relay worker threads
 * (the default) and, as the switch can be told to, without them.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#ifndef HAVE_INTTYPES_H
#define HAVE_INTTYPES_H 1
#endif
#ifndef HAVE_STDBOOL_H
#define HAVE_STDBOOL_H 1
#endif
#ifndef HAVE_INET6
#define HAVE_INET6 1
#endif
#include <re.h>

#include "kefu-rtp-relay.h"
#include "kefu-rtp-stream.h"

#include <arpa/inet.h>
#include <glib.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum {
  PACKETS = 100,
  PT_A = 0,          /* both legs PCMU, telephone-event at different types */
  TELEV_A = 101,
  TELEV_B = 110,
};

/* A far end: a plain UDP socket, and what it has received. */
typedef struct {
  int fd;
  uint16_t port;
  uint32_t ssrc_seen;
  unsigned audio;
  unsigned telev;
  int pt_seen;
  int telev_pt_seen;
  uint16_t last_seq;
  bool seq_ok;
  bool have_seq;
} Peer;

typedef struct {
  struct kefu_rtp_stream *a, *b;
  Peer pa, pb;
  unsigned sent;
  char digit;
} Fixture;

static void
peer_open (Peer *p)
{
  struct sockaddr_in sin = { .sin_family = AF_INET };
  socklen_t len = sizeof (sin);

  memset (p, 0, sizeof (*p));
  p->fd = socket (AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  g_assert_cmpint (p->fd, >=, 0);
  sin.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  g_assert_cmpint (bind (p->fd, (struct sockaddr *) &sin, sizeof (sin)), ==, 0);
  g_assert_cmpint (getsockname (p->fd, (struct sockaddr *) &sin, &len), ==, 0);
  p->port = ntohs (sin.sin_port);
  p->pt_seen = -1;
  p->telev_pt_seen = -1;
  p->seq_ok = true;
}

static void
peer_send (Peer *p, uint16_t to_port, uint8_t pt, bool marker, uint16_t seq, uint32_t ts,
           uint32_t ssrc, const uint8_t *payload, size_t len)
{
  uint8_t buf[12 + 200];
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons (to_port) };

  sin.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  buf[0] = 0x80;
  buf[1] = (uint8_t) ((marker ? 0x80 : 0) | pt);
  buf[2] = (uint8_t) (seq >> 8);
  buf[3] = (uint8_t) seq;
  buf[4] = (uint8_t) (ts >> 24);
  buf[5] = (uint8_t) (ts >> 16);
  buf[6] = (uint8_t) (ts >> 8);
  buf[7] = (uint8_t) ts;
  buf[8] = (uint8_t) (ssrc >> 24);
  buf[9] = (uint8_t) (ssrc >> 16);
  buf[10] = (uint8_t) (ssrc >> 8);
  buf[11] = (uint8_t) ssrc;
  memcpy (buf + 12, payload, len);
  g_assert_cmpint (sendto (p->fd, buf, 12 + len, 0, (struct sockaddr *) &sin, sizeof (sin)), ==,
                   (ssize_t) (12 + len));
}

static void
peer_drain (Peer *p, int telev_pt)
{
  uint8_t buf[1500];
  ssize_t n;

  while ((n = recv (p->fd, buf, sizeof (buf), 0)) >= 12)
    {
      int pt = buf[1] & 0x7f;
      uint16_t seq = (uint16_t) (buf[2] << 8 | buf[3]);
      uint32_t ssrc = (uint32_t) buf[8] << 24 | (uint32_t) buf[9] << 16 |
                      (uint32_t) buf[10] << 8 | buf[11];

      if (pt == telev_pt)
        {
          p->telev++;
          p->telev_pt_seen = pt;
        }
      else
        {
          p->audio++;
          p->pt_seen = pt;
        }
      if (p->have_seq && seq != (uint16_t) (p->last_seq + 1))
        p->seq_ok = false;
      p->last_seq = seq;
      p->have_seq = true;
      p->ssrc_seen = ssrc;
    }
}

static void
on_dtmf (char digit, const char *mode, void *arg)
{
  Fixture *f = arg;

  f->digit = digit;
}

static void
stream_start (struct kefu_rtp_stream *s, const Peer *far, int telev_pt)
{
  struct sa raddr;
  struct kefu_rtp_stream_params p = {
    .codec = "PCMU", .pt = PT_A, .srate = 8000, .telev_pt = telev_pt,
    .raddr = &raddr, .send = true, .recv = true,
  };

  g_assert_cmpint (sa_set_str (&raddr, "127.0.0.1", far->port), ==, 0);
  g_assert_cmpint (kefu_rtp_stream_update (s, &p), ==, 0);
}

static void
on_pump (void *arg);

static struct tmr pump_tmr;

static void
on_pump (void *arg)
{
  Fixture *f = arg;
  uint8_t payload[160];

  peer_drain (&f->pa, TELEV_A);
  peer_drain (&f->pb, TELEV_B);

  if (f->sent < PACKETS)
    {
      memset (payload, 0xff, sizeof (payload));
      peer_send (&f->pa, kefu_rtp_stream_local_port (f->a), PT_A, f->sent == 0, (uint16_t) f->sent,
                 f->sent * 160, 0x11111111, payload, sizeof (payload));
      peer_send (&f->pb, kefu_rtp_stream_local_port (f->b), PT_A, f->sent == 0,
                 (uint16_t) (1000 + f->sent), 5000 + f->sent * 160, 0x22222222, payload,
                 sizeof (payload));
      f->sent++;
      if (f->sent == PACKETS / 2)
        {
          /* digit 5 from a's peer, begin and end, in the middle */
          uint8_t ev[4] = { 5, 10, 0, 160 };

          peer_send (&f->pa, kefu_rtp_stream_local_port (f->a), TELEV_A, true, 60000,
                     PACKETS / 2 * 160, 0x11111111, ev, 4);
          ev[1] |= 0x80;
          peer_send (&f->pa, kefu_rtp_stream_local_port (f->a), TELEV_A, false, 60001,
                     PACKETS / 2 * 160, 0x11111111, ev, 4);
        }
      tmr_start (&pump_tmr, 2, on_pump, f);
      return;
    }

  if (f->pb.audio >= PACKETS && f->pa.audio >= PACKETS && f->pb.telev >= 2)
    {
      re_cancel ();
      return;
    }
  tmr_start (&pump_tmr, 5, on_pump, f);
}

static void
on_give_up (void *arg)
{
  re_cancel ();
}

static void
test_packets (gconstpointer data)
{
  const bool threads = GPOINTER_TO_INT (data);
  struct kefu_rtp_relay_config cfg = { .forward_telev = true };
  struct kefu_rtp_relay *relay = NULL;
  struct kefu_rtp_relay_stats st;
  struct tmr give_up;
  struct sa laddr;
  Fixture f = { 0 };

  if (threads)
    g_unsetenv ("KEFU_RELAY_NO_THREADS");
  else
    g_setenv ("KEFU_RELAY_NO_THREADS", "1", TRUE);

  peer_open (&f.pa);
  peer_open (&f.pb);
  g_assert_cmpint (sa_set_str (&laddr, "127.0.0.1", 0), ==, 0);
  g_assert_cmpint (kefu_rtp_stream_alloc (&f.a, &laddr, on_dtmf, &f), ==, 0);
  g_assert_cmpint (kefu_rtp_stream_alloc (&f.b, &laddr, NULL, NULL), ==, 0);
  stream_start (f.a, &f.pa, TELEV_A);
  stream_start (f.b, &f.pb, TELEV_B);
  g_assert_cmpint (kefu_rtp_relay_alloc (&relay, f.a, f.b, &cfg, NULL), ==, 0);
  g_assert_true (kefu_rtp_relay_passes_telev (relay));

  tmr_init (&pump_tmr);
  tmr_init (&give_up);
  tmr_start (&pump_tmr, 1, on_pump, &f);
  tmr_start (&give_up, 10000, on_give_up, NULL);
  g_assert_cmpint (re_main (NULL), ==, 0);
  tmr_cancel (&give_up);
  tmr_cancel (&pump_tmr);

  /* every packet across, as the other stream's own */
  g_assert_cmpuint (f.pb.audio, ==, PACKETS);
  g_assert_cmpuint (f.pa.audio, ==, PACKETS);
  g_assert_cmpint (f.pb.pt_seen, ==, PT_A);
  g_assert_cmpuint (f.pb.ssrc_seen, !=, 0x11111111);
  g_assert_cmpuint (f.pa.ssrc_seen, !=, 0x22222222);
  g_assert_true (f.pa.seq_ok);
  g_assert_true (f.pb.seq_ok);
  /* the event at b's payload type, and reported once on a */
  g_assert_cmpuint (f.pb.telev, ==, 2);
  g_assert_cmpint (f.pb.telev_pt_seen, ==, TELEV_B);
  g_assert_cmpint (f.digit, ==, '5');

  kefu_rtp_relay_stats (relay, &st);
  g_assert_cmpuint (st.a_to_b, ==, PACKETS);
  g_assert_cmpuint (st.b_to_a, ==, PACKETS);
  g_assert_cmpuint (st.telev_a_to_b, ==, 2);

  /* packets still arriving while everything goes */
  for (int i = 0; i < 20; i++)
    {
      uint8_t payload[160] = { 0 };

      peer_send (&f.pa, kefu_rtp_stream_local_port (f.a), PT_A, false, (uint16_t) (PACKETS + i),
                 (PACKETS + i) * 160, 0x11111111, payload, sizeof (payload));
    }
  mem_deref (relay);
  mem_deref (f.a);
  mem_deref (f.b);
  close (f.pa.fd);
  close (f.pb.fd);
}

int
main (int argc, char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (libre_init (), ==, 0);

  g_test_add_data_func ("/rtp-relay/packets/worker-threads", GINT_TO_POINTER (TRUE),
                        test_packets);
  g_test_add_data_func ("/rtp-relay/packets/libre-thread", GINT_TO_POINTER (FALSE),
                        test_packets);

  ret = g_test_run ();
  libre_close ();
  return ret;
}
