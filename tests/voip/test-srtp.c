/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * SRTP with SDES keys: a=crypto lines written and read as RFC 4568 spells
 * them, the offer/answer that carries them (kefu-sdp.c), and what a
 * protected socket does with real packets over 127.0.0.1: what it sends
 * is not the RTP it was given, the far side gets the original back, and a
 * tampered, replayed or plain packet is dropped and counted, never handed
 * on.  A third, unprotected socket plays the eavesdropper and the forger.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

/* libre 1.1's headers take the platform from macros its own build sets. */
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

#include "kefu-sdp.h"
#include "kefu-srtp.h"

#include <glib.h>
#include <string.h>

#define OUR_ADDR "192.0.2.10"
#define OUR_PORT 40000
#define PAYLOAD  160
#define RTP_HDR  12

static struct memstat mem_at_start;
static bool mem_counted;

/* RFC 4568's own example key (section 4) */
#define RFC_KEY "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR"

/* An SRTP offer as a phone writes it: the first two lines are of no use
 * to us (another suite; an MKI), the third is. */
static const char phone_offer[] =
  "v=0\r\n"
  "o=- 1937623464 1219463427 IN IP4 198.51.100.7\r\n"
  "s=-\r\n"
  "c=IN IP4 198.51.100.7\r\n"
  "t=0 0\r\n"
  "m=audio 10028 RTP/SAVP 0 101\r\n"
  "a=rtpmap:0 PCMU/8000\r\n"
  "a=rtpmap:101 telephone-event/8000\r\n"
  "a=fmtp:101 0-15\r\n"
  "a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:" RFC_KEY RFC_KEY "\r\n"
  "a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY "|2^20|1:4\r\n"
  "a=crypto:7 AES_CM_128_HMAC_SHA1_32 inline:" RFC_KEY "|2^20\r\n"
  "a=sendrecv\r\n";

/* The same phone without SRTP, but with a best-effort a=crypto line. */
static const char plain_offer[] =
  "v=0\r\n"
  "o=- 1937623464 1219463427 IN IP4 198.51.100.7\r\n"
  "s=-\r\n"
  "c=IN IP4 198.51.100.7\r\n"
  "t=0 0\r\n"
  "m=audio 10028 RTP/AVP 0 101\r\n"
  "a=rtpmap:0 PCMU/8000\r\n"
  "a=rtpmap:101 telephone-event/8000\r\n"
  "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY "\r\n"
  "a=sendrecv\r\n";

/* --- helpers ---------------------------------------------------------------- */

static struct mbuf *
mbuf_from (const char *text)
{
  struct mbuf *mb = mbuf_alloc (strlen (text) + 1);

  g_assert_nonnull (mb);
  g_assert_cmpint (mbuf_write_str (mb, text), ==, 0);
  mb->pos = 0;
  return mb;
}

static char *
mbuf_text (const struct mbuf *mb)
{
  return g_strndup ((const char *) mb->buf, mb->end);
}

static struct kefu_sdp_media *
media_new (bool srtp)
{
  struct kefu_sdp_config cfg = { .srtp = srtp };
  struct kefu_sdp_media *ms = NULL;
  struct sa laddr;

  g_assert_cmpint (sa_set_str (&laddr, OUR_ADDR, OUR_PORT), ==, 0);
  g_assert_cmpint (kefu_sdp_media_alloc (&ms, &laddr, &cfg), ==, 0);
  return ms;
}

static char *
offer_text (struct kefu_sdp_media *ms)
{
  struct mbuf *mb = NULL;
  char *text;

  g_assert_cmpint (kefu_sdp_media_create_offer (ms, &mb), ==, 0);
  text = mbuf_text (mb);
  mem_deref (mb);
  return text;
}

static char *
answer_text (struct kefu_sdp_media *ms)
{
  struct mbuf *mb = NULL;
  char *text;

  g_assert_cmpint (kefu_sdp_media_create_answer (ms, &mb), ==, 0);
  text = mbuf_text (mb);
  mem_deref (mb);
  return text;
}

static int
read_offer (struct kefu_sdp_media *ms, const char *text)
{
  struct mbuf *mb = mbuf_from (text);
  int err = kefu_sdp_media_read_offer (ms, mb);

  mem_deref (mb);
  return err;
}

static int
read_answer (struct kefu_sdp_media *ms, const char *text)
{
  struct mbuf *mb = mbuf_from (text);
  int err = kefu_sdp_media_read_answer (ms, mb);

  mem_deref (mb);
  return err;
}

static unsigned
count (const char *haystack, const char *needle)
{
  unsigned n = 0;

  for (const char *p = strstr (haystack, needle); p; p = strstr (p + 1, needle))
    n++;
  return n;
}

/* Our answer with its a=crypto replaced: what a peer might answer. */
static char *
with_crypto (const char *sdp, const char *crypto_line)
{
  g_auto (GStrv) lines = g_strsplit (sdp, "\r\n", -1);
  GString *out = g_string_new (NULL);

  for (char **l = lines; *l && **l; l++)
    {
      if (g_str_has_prefix (*l, "a=crypto:"))
        {
          if (crypto_line)
            g_string_append_printf (out, "%s\r\n", crypto_line);
          continue;
        }
      g_string_append_printf (out, "%s\r\n", *l);
    }
  return g_string_free (out, FALSE);
}

static void
random_key (uint8_t key[KEFU_SRTP_KEY_LEN])
{
  g_assert_cmpint (kefu_srtp_key_generate (key), ==, 0);
}

/* --- a=crypto lines ------------------------------------------------------------ */

static void
test_crypto_round_trip (void)
{
  for (unsigned s = 0; s < KEFU_SRTP_N_SUITES; s++)
    {
      struct kefu_srtp_crypto c = { .tag = 123456789, .suite = s };
      struct kefu_srtp_crypto back;
      char buf[KEFU_SRTP_CRYPTO_MAX];
      g_autofree char *want = NULL;

      random_key (c.key);
      g_assert_cmpint (kefu_srtp_crypto_encode (&c, buf, sizeof buf), ==, 0);
      want = g_strdup_printf ("123456789 %s inline:", kefu_srtp_suite_name (s));
      g_assert_true (g_str_has_prefix (buf, want));
      g_assert_cmpuint (strlen (buf), ==, strlen (want) + 40);

      memset (&back, 0, sizeof back);
      g_assert_cmpint (kefu_srtp_crypto_decode (buf, strlen (buf), &back), ==, 0);
      g_assert_cmpuint (back.tag, ==, c.tag);
      g_assert_cmpint (back.suite, ==, c.suite);
      g_assert_cmpmem (back.key, sizeof back.key, c.key, sizeof c.key);
    }
}

static void
test_crypto_keys_random (void)
{
  uint8_t a[KEFU_SRTP_KEY_LEN], b[KEFU_SRTP_KEY_LEN];
  static const uint8_t zero[KEFU_SRTP_KEY_LEN];

  random_key (a);
  random_key (b);
  g_assert_true (memcmp (a, b, sizeof a) != 0);
  g_assert_true (memcmp (a, zero, sizeof a) != 0);
}

static void
test_crypto_decode (void)
{
  static const struct {
    const char *value;
    int         err;
  } cases[] = {
    { "1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY, 0 },
    { "1 AES_CM_128_HMAC_SHA1_32 inline:" RFC_KEY "|2^20", 0 },
    { "1 AES_CM_128_HMAC_SHA1_32 inline:" RFC_KEY "|1048576", 0 },
    { "1  AES_CM_128_HMAC_SHA1_80\tinline:" RFC_KEY " ", 0 },
    /* not a crypto attribute */
    { "", EBADMSG },
    { "AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY, EBADMSG },
    { "0 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY, EBADMSG },
    { "1234567890 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY, EBADMSG },
    { "1 AES_CM_128_HMAC_SHA1_80", EBADMSG },
    { "1 AES_CM_128_HMAC_SHA1_80 inline:", EBADMSG },
    { "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtx", EBADMSG },
    { "1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY "AAAA", EBADMSG },
    { "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaV*R", EBADMSG },
    { "1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY "|", EBADMSG },
    /* well formed, not for us */
    { "1 AES_256_CM_HMAC_SHA1_80 inline:" RFC_KEY, ENOTSUP },
    { "1 F8_128_HMAC_SHA1_80 inline:" RFC_KEY, ENOTSUP },
    { "1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY "|2^20|1:4", ENOTSUP },
    { "1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY ";inline:" RFC_KEY, ENOTSUP },
    { "1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY " UNENCRYPTED_SRTP", ENOTSUP },
    { "1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY " KDR=1", ENOTSUP },
    { "1 AES_CM_128_HMAC_SHA1_80 uri:https://example.com/key", ENOTSUP },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      struct kefu_srtp_crypto c;

      g_test_message ("%s", cases[i].value);
      g_assert_cmpint (kefu_srtp_crypto_decode (cases[i].value, strlen (cases[i].value), &c),
                       ==, cases[i].err);
    }

  /* the value is read within its length, not to a NUL */
  {
    const char *v = "1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY " UNENCRYPTED_SRTP";
    struct kefu_srtp_crypto c;

    g_assert_cmpint (kefu_srtp_crypto_decode (v, strlen (v) - 17, &c), ==, 0);
  }
}

/* --- offer/answer ---------------------------------------------------------------- */

static void
test_sdp_offer_answer (void)
{
  struct kefu_sdp_media *a = media_new (true);
  struct kefu_sdp_media *b = media_new (true);
  struct kefu_srtp_keys ka, kb;
  g_autofree char *offer = NULL;
  g_autofree char *answer = NULL;
  g_autofree char *again = NULL;

  offer = offer_text (a);
  g_assert_nonnull (strstr (offer, "m=audio 40000 RTP/SAVP "));
  g_assert_cmpuint (count (offer, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"), ==, 1);
  g_assert_cmpuint (count (offer, "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:"), ==, 1);
  g_assert_cmpuint (count (offer, "a=crypto:"), ==, 2);
  g_assert_cmpint (kefu_sdp_media_srtp (a, NULL), ==, ENOENT);

  g_assert_cmpint (read_offer (b, offer), ==, 0);
  answer = answer_text (b);
  g_assert_nonnull (strstr (answer, "m=audio 40000 RTP/SAVP "));
  g_assert_cmpuint (count (answer, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"), ==, 1);
  g_assert_cmpuint (count (answer, "a=crypto:"), ==, 1);
  g_assert_cmpint (read_answer (a, answer), ==, 0);

  g_assert_cmpint (kefu_sdp_media_srtp (a, &ka), ==, 0);
  g_assert_cmpint (kefu_sdp_media_srtp (b, &kb), ==, 0);
  g_assert_cmpint (ka.suite, ==, KEFU_SRTP_AES_CM_128_HMAC_SHA1_80);
  g_assert_cmpint (kb.suite, ==, KEFU_SRTP_AES_CM_128_HMAC_SHA1_80);
  g_assert_cmpmem (ka.tx_key, KEFU_SRTP_KEY_LEN, kb.rx_key, KEFU_SRTP_KEY_LEN);
  g_assert_cmpmem (ka.rx_key, KEFU_SRTP_KEY_LEN, kb.tx_key, KEFU_SRTP_KEY_LEN);
  g_assert_true (memcmp (ka.tx_key, ka.rx_key, KEFU_SRTP_KEY_LEN) != 0);

  /* a session refresh offers the same keys: same body, same o= version */
  again = offer_text (a);
  g_assert_cmpstr (again, ==, offer);

  mem_deref (a);
  mem_deref (b);
}

static void
test_sdp_answer_picks_supported_line (void)
{
  struct kefu_sdp_media *ms = media_new (true);
  struct kefu_srtp_crypto rfc;
  struct kefu_srtp_keys keys;
  g_autofree char *answer = NULL;
  const char *line = "7 AES_CM_128_HMAC_SHA1_32 inline:" RFC_KEY;

  g_assert_cmpint (kefu_srtp_crypto_decode (line, strlen (line), &rfc), ==, 0);

  g_assert_cmpint (read_offer (ms, phone_offer), ==, 0);
  answer = answer_text (ms);
  g_assert_cmpuint (count (answer, "a=crypto:7 AES_CM_128_HMAC_SHA1_32 inline:"), ==, 1);
  g_assert_cmpuint (count (answer, "a=crypto:"), ==, 1);
  g_assert_null (strstr (answer, RFC_KEY));  /* our own key, not theirs */

  g_assert_cmpint (kefu_sdp_media_srtp (ms, &keys), ==, 0);
  g_assert_cmpint (keys.suite, ==, KEFU_SRTP_AES_CM_128_HMAC_SHA1_32);
  g_assert_cmpmem (keys.rx_key, KEFU_SRTP_KEY_LEN, rfc.key, KEFU_SRTP_KEY_LEN);

  mem_deref (ms);
}

static void
test_sdp_refusals (void)
{
  struct kefu_sdp_media *plain = media_new (false);
  struct kefu_sdp_media *secure = media_new (true);
  g_autofree char *no_crypto = NULL;
  g_autofree char *unsupported = NULL;

  /* SRTP offered to a side without it */
  g_assert_cmpint (read_offer (plain, phone_offer), ==, KEFU_SDP_ENOCODEC);
  g_assert_cmpuint (kefu_sdp_sip_status (KEFU_SDP_ENOCODEC), ==, 488);
  /* plain RTP offered to a side that requires SRTP, a=crypto or not */
  g_assert_cmpint (read_offer (secure, plain_offer), ==, KEFU_SDP_ENOCODEC);
  /* RTP/SAVP without a line we can use */
  no_crypto = with_crypto (phone_offer, NULL);
  g_assert_cmpint (read_offer (secure, no_crypto), ==, KEFU_SDP_ENOCODEC);
  unsupported = with_crypto (phone_offer, "a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:"
                             RFC_KEY RFC_KEY);
  g_assert_cmpint (read_offer (secure, unsupported), ==, KEFU_SDP_ENOCODEC);
  g_assert_cmpint (kefu_sdp_media_srtp (secure, NULL), ==, ENOENT);

  /* and the best-effort line of a plain offer is ignored by a plain side */
  g_assert_cmpint (read_offer (plain, plain_offer), ==, 0);
  {
    g_autofree char *answer = answer_text (plain);

    g_assert_nonnull (strstr (answer, " RTP/AVP "));
    g_assert_null (strstr (answer, "a=crypto"));
    g_assert_cmpint (kefu_sdp_media_srtp (plain, NULL), ==, ENOENT);
  }

  mem_deref (plain);
  mem_deref (secure);
}

static void
test_sdp_bad_answers (void)
{
  struct kefu_sdp_media *a = media_new (true);
  struct kefu_sdp_media *b = media_new (true);
  struct kefu_sdp_media *p = media_new (false);
  g_autofree char *offer = offer_text (a);
  g_autofree char *good = NULL;
  g_autofree char *plain_answer = NULL;
  g_autofree char *plain_offer_ours = NULL;
  g_autofree char *no_crypto = NULL;
  g_autofree char *wrong_tag = NULL;
  g_autofree char *wrong_suite = NULL;

  g_assert_cmpint (read_offer (b, offer), ==, 0);
  good = answer_text (b);

  /* an RTP/AVP answer, from a plain phone that ignored RTP/SAVP */
  plain_offer_ours = offer_text (p);
  g_assert_cmpint (read_offer (p, plain_offer_ours), ==, 0);
  plain_answer = answer_text (p);
  g_assert_cmpint (read_answer (a, plain_answer), ==, KEFU_SDP_ENOCODEC);

  no_crypto = with_crypto (good, NULL);
  g_assert_cmpint (read_answer (a, no_crypto), ==, KEFU_SDP_ENOCODEC);
  /* a tag we did not offer, or our tag with another suite */
  wrong_tag = with_crypto (good, "a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY);
  g_assert_cmpint (read_answer (a, wrong_tag), ==, KEFU_SDP_ENOCODEC);
  wrong_suite = with_crypto (good, "a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:" RFC_KEY);
  g_assert_cmpint (read_answer (a, wrong_suite), ==, KEFU_SDP_ENOCODEC);
  g_assert_cmpint (kefu_sdp_media_srtp (a, NULL), ==, ENOENT);

  /* the refusals left the offer standing: the right answer still works */
  g_assert_cmpint (read_answer (a, good), ==, 0);
  g_assert_cmpint (kefu_sdp_media_srtp (a, NULL), ==, 0);

  mem_deref (a);
  mem_deref (b);
  mem_deref (p);
}

/* --- packets over 127.0.0.1 -------------------------------------------------------- */

struct sock {
  struct udp_sock *us;
  struct sa        addr;
  unsigned         received;
  uint8_t          last[512];
  size_t           last_len;
};

static void
on_sock_recv (const struct sa *src, struct mbuf *mb, void *arg)
{
  struct sock *s = arg;

  (void) src;
  s->received++;
  s->last_len = MIN (mbuf_get_left (mb), sizeof s->last);
  memcpy (s->last, mbuf_buf (mb), s->last_len);
}

static void
sock_open (struct sock *s)
{
  struct sa laddr;

  memset (s, 0, sizeof *s);
  g_assert_cmpint (sa_set_str (&laddr, "127.0.0.1", 0), ==, 0);
  g_assert_cmpint (udp_listen (&s->us, &laddr, on_sock_recv, s), ==, 0);
  g_assert_cmpint (udp_local_get (s->us, &s->addr), ==, 0);
}

static void
on_run_over (void *arg)
{
  (void) arg;
  re_cancel ();
}

/* Lets the datagrams on the way arrive. */
static void
run_for (unsigned ms)
{
  struct tmr t;

  tmr_init (&t);
  tmr_start (&t, ms, on_run_over, NULL);
  g_assert_cmpint (re_main (NULL), ==, 0);
  tmr_cancel (&t);
}

/* A PCMU packet as a stream sends it. */
static size_t
rtp_packet (uint8_t *buf, uint16_t seq)
{
  const uint32_t ts = 160u * seq, ssrc = 0x4b656675;

  buf[0] = 0x80;
  buf[1] = 0;
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
  for (size_t i = 0; i < PAYLOAD; i++)
    buf[RTP_HDR + i] = (uint8_t) (0xff - (i * 7 + seq) % 64);  /* quiet mu-law */
  return RTP_HDR + PAYLOAD;
}

static int
send_bytes (struct udp_sock *us, const struct sa *dst, const uint8_t *buf, size_t len)
{
  struct mbuf *mb = mbuf_alloc (len + 32);
  int err;

  g_assert_nonnull (mb);
  g_assert_cmpint (mbuf_write_mem (mb, buf, len), ==, 0);
  mb->pos = 0;
  err = udp_send (us, dst, mb);
  mem_deref (mb);
  return err;
}

struct pair {
  struct sock       a, b, wire;     /* wire: nobody's, sees what is sent */
  struct kefu_srtp *pa, *pb;
};

static void
pair_open (struct pair *p, enum kefu_srtp_suite suite)
{
  struct kefu_srtp_keys ka = { .suite = suite }, kb = { .suite = suite };

  sock_open (&p->a);
  sock_open (&p->b);
  sock_open (&p->wire);
  random_key (ka.tx_key);
  random_key (ka.rx_key);
  memcpy (kb.tx_key, ka.rx_key, KEFU_SRTP_KEY_LEN);
  memcpy (kb.rx_key, ka.tx_key, KEFU_SRTP_KEY_LEN);

  g_assert_cmpint (kefu_srtp_alloc (&p->pa, p->a.us, NULL), ==, 0);
  g_assert_cmpint (kefu_srtp_alloc (&p->pb, p->b.us, NULL), ==, 0);
  g_assert_false (kefu_srtp_active (p->pa));
  g_assert_cmpint (kefu_srtp_set_keys (p->pa, &ka), ==, 0);
  g_assert_cmpint (kefu_srtp_set_keys (p->pb, &kb), ==, 0);
  g_assert_true (kefu_srtp_active (p->pa));
}

static void
pair_close (struct pair *p)
{
  /* the protection before its socket */
  mem_deref (p->pa);
  mem_deref (p->pb);
  mem_deref (p->a.us);
  mem_deref (p->b.us);
  mem_deref (p->wire.us);
}

/* A sends packet seq towards the wire; returns what went out. */
static size_t
capture (struct pair *p, uint16_t seq, uint8_t *out)
{
  uint8_t plain[RTP_HDR + PAYLOAD];
  size_t len = rtp_packet (plain, seq);
  unsigned before = p->wire.received;

  g_assert_cmpint (send_bytes (p->a.us, &p->wire.addr, plain, len), ==, 0);
  run_for (50);
  g_assert_cmpuint (p->wire.received, ==, before + 1);
  memcpy (out, p->wire.last, p->wire.last_len);
  return p->wire.last_len;
}

static void
test_packets (gconstpointer data)
{
  enum kefu_srtp_suite suite = GPOINTER_TO_INT (data);
  size_t tag_len = suite == KEFU_SRTP_AES_CM_128_HMAC_SHA1_80 ? 10 : 4;
  struct pair p;
  uint8_t plain[RTP_HDR + PAYLOAD];
  uint8_t wire1[512], wire2[512], forged[512];
  size_t len1, len2;

  pair_open (&p, suite);

  /* on the wire: the header in clear, the payload not, the tag after it */
  len1 = capture (&p, 1, wire1);
  rtp_packet (plain, 1);
  g_assert_cmpuint (len1, ==, RTP_HDR + PAYLOAD + tag_len);
  g_assert_cmpmem (wire1, RTP_HDR, plain, RTP_HDR);
  g_assert_true (memcmp (wire1 + RTP_HDR, plain + RTP_HDR, PAYLOAD) != 0);

  /* B gets the original back */
  g_assert_cmpint (send_bytes (p.wire.us, &p.b.addr, wire1, len1), ==, 0);
  run_for (50);
  g_assert_cmpuint (p.b.received, ==, 1);
  g_assert_cmpmem (p.b.last, p.b.last_len, plain, sizeof plain);
  g_assert_cmpuint (kefu_srtp_dropped (p.pb), ==, 0);

  /* the same packet again: a replay */
  g_assert_cmpint (send_bytes (p.wire.us, &p.b.addr, wire1, len1), ==, 0);
  run_for (50);
  g_assert_cmpuint (p.b.received, ==, 1);
  g_assert_cmpuint (kefu_srtp_dropped (p.pb), ==, 1);

  /* the next packet with one payload bit flipped, then as sent */
  len2 = capture (&p, 2, wire2);
  memcpy (forged, wire2, len2);
  forged[RTP_HDR + 40] ^= 0x01;
  g_assert_cmpint (send_bytes (p.wire.us, &p.b.addr, forged, len2), ==, 0);
  run_for (50);
  g_assert_cmpuint (p.b.received, ==, 1);
  g_assert_cmpuint (kefu_srtp_dropped (p.pb), ==, 2);
  g_assert_cmpint (send_bytes (p.wire.us, &p.b.addr, wire2, len2), ==, 0);
  run_for (50);
  g_assert_cmpuint (p.b.received, ==, 2);
  rtp_packet (plain, 2);
  g_assert_cmpmem (p.b.last, p.b.last_len, plain, sizeof plain);

  /* plain RTP, as an old phone or a forger sends it */
  rtp_packet (plain, 3);
  g_assert_cmpint (send_bytes (p.wire.us, &p.b.addr, plain, sizeof plain), ==, 0);
  run_for (50);
  g_assert_cmpuint (p.b.received, ==, 2);
  g_assert_cmpuint (kefu_srtp_dropped (p.pb), ==, 3);

  pair_close (&p);
}

static void
test_rekey_keeps_state (void)
{
  struct sock a, b, wire;
  struct kefu_srtp *pa = NULL, *pb = NULL;
  struct kefu_srtp_keys ka = { .suite = KEFU_SRTP_AES_CM_128_HMAC_SHA1_80 };
  struct kefu_srtp_keys kb = { .suite = KEFU_SRTP_AES_CM_128_HMAC_SHA1_80 };
  uint8_t plain[RTP_HDR + PAYLOAD];
  uint8_t wire1[512];
  size_t len1;

  sock_open (&a);
  sock_open (&b);
  sock_open (&wire);
  random_key (ka.tx_key);
  random_key (ka.rx_key);
  memcpy (kb.tx_key, ka.rx_key, KEFU_SRTP_KEY_LEN);
  memcpy (kb.rx_key, ka.tx_key, KEFU_SRTP_KEY_LEN);
  g_assert_cmpint (kefu_srtp_alloc (&pa, a.us, NULL), ==, 0);
  g_assert_cmpint (kefu_srtp_alloc (&pb, b.us, NULL), ==, 0);
  g_assert_cmpint (kefu_srtp_set_keys (pa, &ka), ==, 0);
  g_assert_cmpint (kefu_srtp_set_keys (pb, &kb), ==, 0);

  len1 = rtp_packet (plain, 100);
  g_assert_cmpint (send_bytes (a.us, &wire.addr, plain, len1), ==, 0);
  run_for (50);
  g_assert_cmpuint (wire.received, ==, 1);
  len1 = wire.last_len;
  memcpy (wire1, wire.last, len1);
  g_assert_cmpint (send_bytes (wire.us, &b.addr, wire1, len1), ==, 0);
  run_for (50);
  g_assert_cmpuint (b.received, ==, 1);

  /* same keys: the replay window stays, the packet is still a replay */
  g_assert_cmpint (kefu_srtp_set_keys (pb, &kb), ==, 0);
  g_assert_cmpint (send_bytes (wire.us, &b.addr, wire1, len1), ==, 0);
  run_for (50);
  g_assert_cmpuint (b.received, ==, 1);
  g_assert_cmpuint (kefu_srtp_dropped (pb), ==, 1);

  /* a new key from the peer: what the old one protects is refused */
  random_key (kb.rx_key);
  g_assert_cmpint (kefu_srtp_set_keys (pb, &kb), ==, 0);
  rtp_packet (plain, 101);
  g_assert_cmpint (send_bytes (a.us, &b.addr, plain, sizeof plain), ==, 0);
  run_for (50);
  g_assert_cmpuint (b.received, ==, 1);
  g_assert_cmpuint (kefu_srtp_dropped (pb), ==, 2);
  /* and what the new one protects arrives */
  memcpy (ka.tx_key, kb.rx_key, KEFU_SRTP_KEY_LEN);
  g_assert_cmpint (kefu_srtp_set_keys (pa, &ka), ==, 0);
  rtp_packet (plain, 102);
  g_assert_cmpint (send_bytes (a.us, &b.addr, plain, sizeof plain), ==, 0);
  run_for (50);
  g_assert_cmpuint (b.received, ==, 2);
  g_assert_cmpmem (b.last, b.last_len, plain, sizeof plain);

  mem_deref (pa);
  mem_deref (pb);
  mem_deref (a.us);
  mem_deref (b.us);
  mem_deref (wire.us);
}

static void
test_unkeyed (void)
{
  struct sock a, b;
  struct kefu_srtp *pa = NULL, *pb = NULL;
  uint8_t plain[RTP_HDR + PAYLOAD];
  size_t len = rtp_packet (plain, 1);

  sock_open (&a);
  sock_open (&b);
  g_assert_cmpint (kefu_srtp_alloc (&pa, a.us, NULL), ==, 0);
  g_assert_cmpint (kefu_srtp_alloc (&pb, b.us, NULL), ==, 0);

  /* nothing leaves in the clear, nothing is taken in */
  g_assert_cmpint (send_bytes (a.us, &b.addr, plain, len), !=, 0);
  g_assert_cmpint (send_bytes (b.us, &a.addr, plain, len), !=, 0);
  run_for (50);
  g_assert_cmpuint (a.received + b.received, ==, 0);

  mem_deref (pb);
  pb = NULL;
  g_assert_cmpint (send_bytes (b.us, &a.addr, plain, len), ==, 0);
  run_for (50);
  g_assert_cmpuint (a.received, ==, 0);
  g_assert_cmpuint (kefu_srtp_dropped (pa), ==, 1);

  mem_deref (pa);
  mem_deref (a.us);
  mem_deref (b.us);
}

static void
test_rtcp (void)
{
  struct sock a, b, wire;
  struct udp_sock *a_rtp = NULL, *b_rtp = NULL;
  struct kefu_srtp *pa = NULL, *pb = NULL;
  struct kefu_srtp_keys ka = { .suite = KEFU_SRTP_AES_CM_128_HMAC_SHA1_80 };
  struct kefu_srtp_keys kb = { .suite = KEFU_SRTP_AES_CM_128_HMAC_SHA1_80 };
  struct sa any;
  /* a receiver report without report blocks */
  static const uint8_t rr[] = { 0x80, 201, 0x00, 0x01, 0x4b, 0x65, 0x66, 0x75 };

  sock_open (&a);
  sock_open (&b);
  sock_open (&wire);
  g_assert_cmpint (sa_set_str (&any, "127.0.0.1", 0), ==, 0);
  g_assert_cmpint (udp_listen (&a_rtp, &any, NULL, NULL), ==, 0);
  g_assert_cmpint (udp_listen (&b_rtp, &any, NULL, NULL), ==, 0);
  random_key (ka.tx_key);
  random_key (ka.rx_key);
  memcpy (kb.tx_key, ka.rx_key, KEFU_SRTP_KEY_LEN);
  memcpy (kb.rx_key, ka.tx_key, KEFU_SRTP_KEY_LEN);
  g_assert_cmpint (kefu_srtp_alloc (&pa, a_rtp, a.us), ==, 0);
  g_assert_cmpint (kefu_srtp_alloc (&pb, b_rtp, b.us), ==, 0);
  g_assert_cmpint (kefu_srtp_set_keys (pa, &ka), ==, 0);
  g_assert_cmpint (kefu_srtp_set_keys (pb, &kb), ==, 0);

  /* SRTCP: E flag and index, then the tag; the report itself hidden */
  g_assert_cmpint (send_bytes (a.us, &wire.addr, rr, sizeof rr), ==, 0);
  run_for (50);
  g_assert_cmpuint (wire.received, ==, 1);
  g_assert_cmpuint (wire.last_len, ==, sizeof rr + 4 + 10);
  g_assert_true (wire.last[8] & 0x80);

  g_assert_cmpint (send_bytes (wire.us, &b.addr, wire.last, wire.last_len), ==, 0);
  run_for (50);
  g_assert_cmpuint (b.received, ==, 1);
  g_assert_cmpmem (b.last, b.last_len, rr, sizeof rr);

  /* plain RTCP is dropped */
  g_assert_cmpint (send_bytes (wire.us, &b.addr, rr, sizeof rr), ==, 0);
  run_for (50);
  g_assert_cmpuint (b.received, ==, 1);
  g_assert_cmpuint (kefu_srtp_dropped (pb), ==, 1);

  mem_deref (pa);
  mem_deref (pb);
  mem_deref (a_rtp);
  mem_deref (b_rtp);
  mem_deref (a.us);
  mem_deref (b.us);
  mem_deref (wire.us);
}

/* --- main ---------------------------------------------------------------------- */

static void
check_libre_memory (void)
{
  struct memstat now;

  if (!mem_counted)
    return;
  g_assert_cmpint (mem_get_stat (&now), ==, 0);
  if (now.blocks_cur != mem_at_start.blocks_cur)
    mem_debug ();
  g_assert_cmpuint (now.blocks_cur, ==, mem_at_start.blocks_cur);
}

struct checked {
  GTestDataFunc func;
  gconstpointer data;
};

static void
run_checked (gconstpointer data)
{
  const struct checked *c = data;

  c->func (c->data);
  check_libre_memory ();
}

static void
add (const char *path, GTestDataFunc func, gconstpointer data)
{
  static struct checked checked[16];
  static unsigned n;
  struct checked *c;

  g_assert_cmpuint (n, <, G_N_ELEMENTS (checked));
  c = &checked[n++];
  c->func = func;
  c->data = data;
  g_test_add_data_func (path, c, run_checked);
}

static void
no_data (gconstpointer data)
{
  void (*func) (void) = (void (*) (void)) data;

  func ();
}

int
main (int argc, char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (libre_init (), ==, 0);
  mem_counted = mem_get_stat (&mem_at_start) == 0;

  add ("/srtp/crypto/round-trip", no_data, (gconstpointer) test_crypto_round_trip);
  add ("/srtp/crypto/random-keys", no_data, (gconstpointer) test_crypto_keys_random);
  add ("/srtp/crypto/decode", no_data, (gconstpointer) test_crypto_decode);
  add ("/srtp/sdp/offer-answer", no_data, (gconstpointer) test_sdp_offer_answer);
  add ("/srtp/sdp/answer-picks-supported-line", no_data,
       (gconstpointer) test_sdp_answer_picks_supported_line);
  add ("/srtp/sdp/refusals", no_data, (gconstpointer) test_sdp_refusals);
  add ("/srtp/sdp/bad-answers", no_data, (gconstpointer) test_sdp_bad_answers);
  add ("/srtp/packets/sha1-80", test_packets,
       GINT_TO_POINTER (KEFU_SRTP_AES_CM_128_HMAC_SHA1_80));
  add ("/srtp/packets/sha1-32", test_packets,
       GINT_TO_POINTER (KEFU_SRTP_AES_CM_128_HMAC_SHA1_32));
  add ("/srtp/packets/rekey", no_data, (gconstpointer) test_rekey_keeps_state);
  add ("/srtp/packets/unkeyed", no_data, (gconstpointer) test_unkeyed);
  add ("/srtp/packets/rtcp", no_data, (gconstpointer) test_rtcp);

  ret = g_test_run ();

  libre_close ();
  return ret;
}
