/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * SDP offer/answer as peers write it: the offers below are what baresip,
 * sipp's stock scenarios, Asterisk and old RFC 2543 phones send.  Every
 * test ends by checking that libre's memory is back where it started
 * (when libre counts it), and ASan's leak check covers the rest.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

/* libre 1.1's headers take the platform from macros its own build sets
 * (re.mk); these match Debian's build, and struct sa's size depends on
 * HAVE_INET6. */
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

#include <glib.h>
#include <string.h>

#define OUR_ADDR "192.0.2.10"
#define OUR_PORT 40000

/* baresip 1.0.0 calling us, DTMF at 120. */
static const char baresip_offer[] =
  "v=0\r\n"
  "o=- 1937623464 1219463427 IN IP4 198.51.100.7\r\n"
  "s=-\r\n"
  "c=IN IP4 198.51.100.7\r\n"
  "t=0 0\r\n"
  "m=audio 10028 RTP/AVP 0 120\r\n"
  "b=AS:87\r\n"
  "a=rtpmap:0 PCMU/8000\r\n"
  "a=rtpmap:120 telephone-event/8000\r\n"
  "a=fmtp:120 0-15\r\n"
  "a=sendrecv\r\n"
  "a=label:1\r\n"
  "a=ssrc:1428318207 cname:sip:a@198.51.100.7\r\n"
  "a=rtcp-mux\r\n";

/* Asterisk (chan_pjsip), DTMF at 101, media-level c=. */
static const char asterisk_offer[] =
  "v=0\r\n"
  "o=- 1696428 1696428 IN IP4 203.0.113.5\r\n"
  "s=Asterisk\r\n"
  "t=0 0\r\n"
  "m=audio 18522 RTP/AVP 0 101\r\n"
  "c=IN IP4 203.0.113.5\r\n"
  "a=rtpmap:0 PCMU/8000\r\n"
  "a=rtpmap:101 telephone-event/8000\r\n"
  "a=fmtp:101 0-16\r\n"
  "a=ptime:20\r\n"
  "a=maxptime:150\r\n"
  "a=sendrecv\r\n";

/* sipp -sn uac with DTMF added at 96, LF line ends as in its XML. */
static const char sipp_offer[] =
  "v=0\n"
  "o=user1 53655765 2353687637 IN IP4 127.0.0.1\n"
  "s=-\n"
  "c=IN IP4 127.0.0.1\n"
  "t=0 0\n"
  "m=audio 6000 RTP/AVP 0 96\n"
  "a=rtpmap:0 PCMU/8000\n"
  "a=rtpmap:96 telephone-event/8000\n"
  "a=fmtp:96 0-15\n";

static struct memstat mem_at_start;
static bool mem_counted;

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
media_new (const struct kefu_sdp_config *cfg)
{
  struct kefu_sdp_media *ms = NULL;
  struct sa laddr;

  g_assert_cmpint (sa_set_str (&laddr, OUR_ADDR, OUR_PORT), ==, 0);
  g_assert_cmpint (kefu_sdp_media_alloc (&ms, &laddr, cfg), ==, 0);
  g_assert_nonnull (ms);
  return ms;
}

static int
read_offer_text (struct kefu_sdp_media *ms,
                 const char            *text)
{
  struct mbuf *mb = mbuf_from (text);
  int err = kefu_sdp_media_read_offer (ms, mb);

  mem_deref (mb);
  return err;
}

static int
read_answer_text (struct kefu_sdp_media *ms,
                  const char            *text)
{
  struct mbuf *mb = mbuf_from (text);
  int err = kefu_sdp_media_read_answer (ms, mb);

  mem_deref (mb);
  return err;
}

/* Our answer or offer, as text. */
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
hold_text (struct kefu_sdp_media *ms,
           bool                   hold)
{
  struct mbuf *mb = NULL;
  char *text;

  g_assert_cmpint (kefu_sdp_media_hold (ms, hold, &mb), ==, 0);
  text = mbuf_text (mb);
  mem_deref (mb);
  return text;
}

/* The m= line of an SDP text, without its line end. */
static char *
m_line (const char *sdp)
{
  const char *m = strstr (sdp, "m=audio ");

  g_assert_nonnull (m);
  return g_strndup (m, strcspn (m, "\r\n"));
}

static guint64
o_version (const char *sdp)
{
  g_auto (GStrv) words = NULL;
  const char *o = strstr (sdp, "\no=");
  g_autofree char *line = NULL;
  guint64 ver = 0;

  g_assert_nonnull (o);
  line = g_strndup (o + 3, strcspn (o + 3, "\r\n"));
  words = g_strsplit (line, " ", -1);
  g_assert_cmpuint (g_strv_length (words), ==, 6);
  g_assert_true (g_ascii_string_to_unsigned (words[2], 10, 0, G_MAXUINT32, &ver, NULL));
  return ver;
}

static char *
o_session_id (const char *sdp)
{
  const char *o = strstr (sdp, "\no=- ");

  g_assert_nonnull (o);
  return g_strndup (o + 5, strcspn (o + 5, " "));
}

static void
assert_codec (struct kefu_sdp_media *ms,
              const char            *name,
              int                    pt,
              guint                  srate,
              guint                  ch)
{
  struct kefu_sdp_codec codec;

  g_assert_cmpint (kefu_sdp_media_codec (ms, &codec), ==, 0);
  g_assert_cmpstr (codec.name, ==, name);
  g_assert_cmpint (codec.pt, ==, pt);
  g_assert_cmpuint (codec.srate, ==, srate);
  g_assert_cmpuint (codec.ch, ==, ch);
}

static void
assert_raddr (struct kefu_sdp_media *ms,
              const char            *addr,
              guint                  port)
{
  const struct sa *raddr = kefu_sdp_media_raddr (ms);
  char buf[64];

  g_assert_nonnull (raddr);
  g_assert_cmpint (sa_ntop (raddr, buf, sizeof buf), ==, 0);
  g_assert_cmpstr (buf, ==, addr);
  g_assert_cmpuint (sa_port (raddr), ==, port);
}

/* An answer to an offer with telephone-event at PT keeps the peer's PT. */
static void
check_telev_answer (const char *offer,
                    int         pt,
                    const char *raddr,
                    guint       rport)
{
  struct kefu_sdp_media *ms = media_new (NULL);
  g_autofree char *answer = NULL;
  g_autofree char *m = NULL;
  g_autofree char *rtpmap = g_strdup_printf ("a=rtpmap:%d telephone-event/8000\r\n", pt);
  g_autofree char *fmtp = g_strdup_printf ("a=fmtp:%d 0-15\r\n", pt);
  g_autofree char *want_m = g_strdup_printf ("m=audio %u RTP/AVP 0 %d", OUR_PORT, pt);

  g_assert_cmpint (read_offer_text (ms, offer), ==, 0);
  assert_codec (ms, "PCMU", 0, 8000, 1);
  g_assert_cmpint (kefu_sdp_media_telev_pt (ms), ==, pt);
  assert_raddr (ms, raddr, rport);
  g_assert_false (kefu_sdp_media_remote_hold (ms));

  answer = answer_text (ms);
  g_test_message ("our answer:\n%s", answer);
  m = m_line (answer);
  g_assert_cmpstr (m, ==, want_m);
  g_assert_nonnull (strstr (answer, rtpmap));
  g_assert_nonnull (strstr (answer, fmtp));
  if (pt != 101)
    g_assert_null (strstr (answer, "a=rtpmap:101 "));
  g_assert_nonnull (strstr (answer, "c=IN IP4 " OUR_ADDR "\r\n"));
  g_assert_nonnull (strstr (answer, "a=sendrecv\r\n"));
  g_assert_cmpint (kefu_sdp_media_ldir (ms), ==, KEFU_SDP_SENDRECV);
  g_assert_cmpint (kefu_sdp_media_dir (ms), ==, KEFU_SDP_SENDRECV);

  mem_deref (ms);
}

static void
test_telev_96 (void)
{
  check_telev_answer (sipp_offer, 96, "127.0.0.1", 6000);
}

static void
test_telev_101 (void)
{
  check_telev_answer (asterisk_offer, 101, "203.0.113.5", 18522);
}

static void
test_telev_120 (void)
{
  check_telev_answer (baresip_offer, 120, "198.51.100.7", 10028);
}

/* Offered at 101 by us by default, at the configured PT otherwise. */
static void
test_telev_offer_pt (void)
{
  struct kefu_sdp_config cfg = { .codecs = "pcmu", .telev_pt = 96 };
  struct kefu_sdp_config none = { .codecs = "pcmu", .telev_pt = -1 };
  struct kefu_sdp_media *ms = media_new (NULL);
  g_autofree char *offer = offer_text (ms);
  g_autofree char *offer96 = NULL;
  g_autofree char *m96 = NULL;
  g_autofree char *offer_none = NULL;

  g_assert_nonnull (strstr (offer, "a=rtpmap:101 telephone-event/8000\r\n"));
  mem_deref (ms);

  ms = media_new (&cfg);
  offer96 = offer_text (ms);
  m96 = m_line (offer96);
  g_assert_cmpstr (m96, ==, "m=audio 40000 RTP/AVP 0 96");
  g_assert_nonnull (strstr (offer96, "a=rtpmap:96 telephone-event/8000\r\n"));
  mem_deref (ms);

  /* Without telephone-event we neither offer nor accept it. */
  ms = media_new (&none);
  offer_none = offer_text (ms);
  g_assert_null (strstr (offer_none, "telephone-event"));
  mem_deref (ms);
  ms = media_new (&none);
  g_assert_cmpint (read_offer_text (ms, baresip_offer), ==, 0);
  g_assert_cmpint (kefu_sdp_media_telev_pt (ms), ==, -1);
  mem_deref (ms);
}

static void
test_no_common_codec (void)
{
  static const char g729_gsm[] =
    "v=0\r\n"
    "o=- 3 3 IN IP4 203.0.113.9\r\n"
    "s=-\r\n"
    "c=IN IP4 203.0.113.9\r\n"
    "t=0 0\r\n"
    "m=audio 4000 RTP/AVP 18 3 101\r\n"
    "a=rtpmap:18 G729/8000\r\n"
    "a=fmtp:18 annexb=no\r\n"
    "a=rtpmap:3 GSM/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-15\r\n"
    "a=sendrecv\r\n";
  static const char srtp_only[] =
    "v=0\r\n"
    "o=- 3 3 IN IP4 203.0.113.9\r\n"
    "s=-\r\n"
    "c=IN IP4 203.0.113.9\r\n"
    "t=0 0\r\n"
    "m=audio 4000 RTP/SAVP 0\r\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n";
  struct kefu_sdp_media *ms = media_new (NULL);
  struct kefu_sdp_codec codec;
  struct mbuf *mb = NULL;

  g_assert_cmpint (read_offer_text (ms, g729_gsm), ==, KEFU_SDP_ENOCODEC);
  g_assert_cmpint (KEFU_SDP_ENOCODEC, ==, ENOENT);
  g_assert_cmpuint (kefu_sdp_sip_status (KEFU_SDP_ENOCODEC), ==, 488);
  g_assert_cmpint (kefu_sdp_media_codec (ms, &codec), ==, ENOENT);
  /* Nothing to answer. */
  g_assert_cmpint (kefu_sdp_media_create_answer (ms, &mb), ==, EPROTO);
  g_assert_null (mb);

  g_assert_cmpint (read_offer_text (ms, srtp_only), ==, KEFU_SDP_ENOCODEC);
  mem_deref (ms);

  /* An answer that picks a codec we never offered, or rejects the stream. */
  ms = media_new (NULL);
  g_free (offer_text (ms));
  g_assert_cmpint (read_answer_text (ms, g729_gsm), ==, KEFU_SDP_ENOCODEC);
  g_assert_cmpint (read_answer_text (ms, "v=0\r\no=- 3 4 IN IP4 203.0.113.9\r\ns=-\r\n"
                                         "c=IN IP4 203.0.113.9\r\nt=0 0\r\n"
                                         "m=audio 0 RTP/AVP 0\r\n"), ==, KEFU_SDP_ENOCODEC);
  g_assert_null (kefu_sdp_media_raddr (ms));
  mem_deref (ms);
}

/* A re-INVITE we answer 488 leaves the call as it was: the next re-offer
 * still carries the agreed codec and DTMF payload type. */
static void
test_refused_reoffer_keeps_call (void)
{
  static const char g729[] =
    "v=0\r\n"
    "o=- 1937623464 1219463428 IN IP4 198.51.100.7\r\n"
    "s=-\r\n"
    "c=IN IP4 198.51.100.7\r\n"
    "t=0 0\r\n"
    "m=audio 10028 RTP/AVP 18\r\n"
    "a=rtpmap:18 G729/8000\r\n";
  static const char video_first[] =
    "v=0\r\n"
    "o=- 1937623464 1219463429 IN IP4 198.51.100.7\r\n"
    "s=-\r\n"
    "c=IN IP4 198.51.100.7\r\n"
    "t=0 0\r\n"
    "m=video 10030 RTP/AVP 97\r\n"
    "a=rtpmap:97 H264/90000\r\n"
    "m=audio 10028 RTP/AVP 0\r\n"
    "a=rtpmap:0 PCMU/8000\r\n";
  struct kefu_sdp_media *ms = media_new (NULL);
  struct kefu_sdp_media *fresh = media_new (NULL);
  g_autofree char *answer = NULL;
  g_autofree char *hold = NULL;
  g_autofree char *m = NULL;

  g_assert_cmpint (read_offer_text (fresh, video_first), ==, 0);
  mem_deref (fresh);

  g_assert_cmpint (read_offer_text (ms, baresip_offer), ==, 0);
  answer = answer_text (ms);

  g_assert_cmpint (read_offer_text (ms, g729), ==, KEFU_SDP_ENOCODEC);
  g_assert_cmpint (read_offer_text (ms, "v=0\r\nbroken"), ==, EBADMSG);
  /* Fine as a first offer, not as a re-offer: libre wants the m= lines in
   * their old places (RFC 3264 section 8). */
  g_assert_cmpint (read_offer_text (ms, video_first), ==, ENOTSUP);
  g_assert_cmpuint (kefu_sdp_sip_status (ENOTSUP), ==, 488);
  assert_codec (ms, "PCMU", 0, 8000, 1);
  g_assert_cmpint (kefu_sdp_media_telev_pt (ms), ==, 120);
  assert_raddr (ms, "198.51.100.7", 10028);

  hold = hold_text (ms, true);
  m = m_line (hold);
  g_assert_cmpstr (m, ==, "m=audio 40000 RTP/AVP 0 120");
  mem_deref (ms);
}

/* RFC 3264 lets the answerer choose; we keep the offerer's order, as
 * phones do, whatever our own preference. */
static void
test_offerer_order (void)
{
  static const char pcma_first[] =
    "v=0\r\n"
    "o=- 7 7 IN IP4 203.0.113.20\r\n"
    "s=-\r\n"
    "c=IN IP4 203.0.113.20\r\n"
    "t=0 0\r\n"
    "m=audio 5004 RTP/AVP 8 0 101\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-16\r\n";
  /* Static payload types without rtpmap, as RFC 3551 allows. */
  static const char bare_static[] =
    "v=0\r\n"
    "o=- 7 7 IN IP4 203.0.113.20\r\n"
    "s=-\r\n"
    "c=IN IP4 203.0.113.20\r\n"
    "t=0 0\r\n"
    "m=audio 5004 RTP/AVP 8 0\r\n";
  struct kefu_sdp_config cfg = { .codecs = "pcmu, PCMA" };
  struct kefu_sdp_media *ms = media_new (&cfg);
  g_autofree char *answer = NULL;
  g_autofree char *m = NULL;

  g_assert_cmpint (read_offer_text (ms, pcma_first), ==, 0);
  assert_codec (ms, "PCMA", 8, 8000, 1);
  g_assert_cmpint (kefu_sdp_media_telev_pt (ms), ==, 101);
  answer = answer_text (ms);
  m = m_line (answer);
  g_assert_cmpstr (m, ==, "m=audio 40000 RTP/AVP 8 0 101");
  mem_deref (ms);

  ms = media_new (&cfg);
  g_assert_cmpint (read_offer_text (ms, bare_static), ==, 0);
  assert_codec (ms, "PCMA", 8, 8000, 1);
  g_assert_cmpint (kefu_sdp_media_telev_pt (ms), ==, -1);
  mem_deref (ms);
}

static void
test_opus_offer (void)
{
  static const char opus[] =
    "v=0\r\n"
    "o=- 4611731400430051336 2 IN IP4 198.51.100.30\r\n"
    "s=-\r\n"
    "c=IN IP4 198.51.100.30\r\n"
    "t=0 0\r\n"
    "m=audio 52000 RTP/AVP 111 0 8 110\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:110 telephone-event/8000\r\n"
    "a=ptime:20\r\n";
  struct kefu_sdp_media *ms = media_new (NULL);
  struct kefu_sdp_codec codec;
  g_autofree char *answer = NULL;
  g_autofree char *m = NULL;

  g_assert_cmpint (read_offer_text (ms, opus), ==, 0);
  assert_codec (ms, "opus", 111, 48000, 2);
  g_assert_cmpint (kefu_sdp_media_codec (ms, &codec), ==, 0);
  g_assert_cmpstr (codec.fmtp, ==, "minptime=10;useinbandfec=1");
  g_assert_cmpint (kefu_sdp_media_telev_pt (ms), ==, 110);

  answer = answer_text (ms);
  m = m_line (answer);
  g_assert_cmpstr (m, ==, "m=audio 40000 RTP/AVP 111 0 8 110");
  g_assert_nonnull (strstr (answer, "a=rtpmap:111 opus/48000/2\r\n"));
  g_assert_nonnull (strstr (answer, "a=rtpmap:110 telephone-event/8000\r\n"));
  mem_deref (ms);
}

/* Our offer, read by a second session as a peer would, and its answer
 * read back by us. */
static void
test_round_trip (void)
{
  struct kefu_sdp_media *us = media_new (NULL);
  struct kefu_sdp_config peer_cfg = { .codecs = "pcma,pcmu", .telev_pt = 0 };
  struct kefu_sdp_media *peer = NULL;
  struct sdp_session *raw = NULL;
  struct sdp_media *raw_m = NULL;
  const struct sdp_format *fmt;
  struct mbuf *offer = NULL;
  struct mbuf *answer = NULL;
  struct sa peer_addr;
  g_autofree char *offer_str = NULL;
  g_autofree char *m = NULL;

  g_assert_cmpint (kefu_sdp_media_create_offer (us, &offer), ==, 0);
  offer_str = mbuf_text (offer);
  g_test_message ("our offer:\n%s", offer_str);
  m = m_line (offer_str);
  g_assert_cmpstr (m, ==, "m=audio 40000 RTP/AVP 96 0 8 101");
  g_assert_true (g_str_has_prefix (offer_str, "v=0\r\no=- "));
  g_assert_nonnull (strstr (offer_str, "a=rtpmap:96 opus/48000/2\r\n"
                                       "a=fmtp:96 minptime=10;useinbandfec=1\r\n"));
  g_assert_nonnull (strstr (offer_str, "a=sendrecv\r\n"));
  g_assert_cmpint (kefu_sdp_media_ldir (us), ==, KEFU_SDP_SENDRECV);

  /* libre's own decoder, with no help from kefu-sdp, reads what we wrote. */
  g_assert_cmpint (sa_set_str (&peer_addr, "198.51.100.40", 0), ==, 0);
  g_assert_cmpint (sdp_session_alloc (&raw, &peer_addr), ==, 0);
  g_assert_cmpint (sdp_media_add (&raw_m, raw, sdp_media_audio, 7078, sdp_proto_rtpavp), ==, 0);
  g_assert_cmpint (sdp_format_add (NULL, raw_m, false, "0", "PCMU", 8000, 1,
                                   NULL, NULL, NULL, false, NULL), ==, 0);
  g_assert_cmpint (sdp_format_add (NULL, raw_m, false, "97", "opus", 48000, 2,
                                   NULL, NULL, NULL, false, NULL), ==, 0);
  g_assert_cmpint (sdp_decode (raw, offer, true), ==, 0);
  fmt = sdp_media_rformat (raw_m, NULL);
  g_assert_nonnull (fmt);
  g_assert_cmpstr (fmt->name, ==, "opus");
  g_assert_cmpint (fmt->pt, ==, 96);
  g_assert_cmpuint (sdp_media_rport (raw_m), ==, OUR_PORT);
  g_assert_cmpint (sdp_media_rdir (raw_m), ==, SDP_SENDRECV);
  mem_deref (raw);
  offer->pos = 0;

  /* A second media session answers, preferring G.711 but following our order. */
  g_assert_cmpint (sa_set_str (&peer_addr, "198.51.100.40", 7078), ==, 0);
  g_assert_cmpint (kefu_sdp_media_alloc (&peer, &peer_addr, &peer_cfg), ==, 0);
  g_assert_cmpint (kefu_sdp_media_read_offer (peer, offer), ==, 0);
  assert_codec (peer, "PCMU", 0, 8000, 1);
  g_assert_cmpint (kefu_sdp_media_telev_pt (peer), ==, 101);
  assert_raddr (peer, OUR_ADDR, OUR_PORT);
  g_assert_cmpint (kefu_sdp_media_create_answer (peer, &answer), ==, 0);

  g_assert_cmpint (kefu_sdp_media_read_answer (us, answer), ==, 0);
  assert_codec (us, "PCMU", 0, 8000, 1);
  g_assert_cmpint (kefu_sdp_media_telev_pt (us), ==, 101);
  assert_raddr (us, "198.51.100.40", 7078);
  g_assert_cmpint (kefu_sdp_media_dir (us), ==, KEFU_SDP_SENDRECV);
  g_assert_false (kefu_sdp_media_remote_hold (us));
  g_assert_false (kefu_sdp_media_local_hold (us));

  /* An answer is read once. */
  answer->pos = 0;
  g_assert_cmpint (kefu_sdp_media_read_answer (us, answer), ==, EPROTO);

  mem_deref (offer);
  mem_deref (answer);
  mem_deref (peer);
  mem_deref (us);
}

/* The far end answers our offer; a plain PCMU answer at the same address. */
static char *
peer_answer (const char *dir_attr,
             guint       version)
{
  return g_strdup_printf ("v=0\r\n"
                          "o=- 1696428 %u IN IP4 203.0.113.5\r\n"
                          "s=-\r\n"
                          "c=IN IP4 203.0.113.5\r\n"
                          "t=0 0\r\n"
                          "m=audio 18522 RTP/AVP 0 101\r\n"
                          "a=rtpmap:0 PCMU/8000\r\n"
                          "a=rtpmap:101 telephone-event/8000\r\n"
                          "a=fmtp:101 0-16\r\n"
                          "%s",
                          version, dir_attr);
}

static struct kefu_sdp_media *
call_up (void)
{
  struct kefu_sdp_config cfg = { .codecs = "pcmu,pcma" };
  struct kefu_sdp_media *ms = media_new (&cfg);
  g_autofree char *offer = offer_text (ms);
  g_autofree char *answer = peer_answer ("a=sendrecv\r\n", 1);

  g_assert_nonnull (strstr (offer, "m=audio 40000 RTP/AVP 0 8 101\r\n"));
  g_assert_cmpint (read_answer_text (ms, answer), ==, 0);
  return ms;
}

/* We hold: sendonly offer, recvonly answer; then resume. */
static void
test_hold_resume (void)
{
  struct kefu_sdp_media *ms = call_up ();
  g_autofree char *hold = NULL;
  g_autofree char *resume = NULL;
  g_autofree char *held_ans = peer_answer ("a=recvonly\r\n", 2);
  g_autofree char *resumed_ans = peer_answer ("a=sendrecv\r\n", 3);
  g_autofree char *m = NULL;

  hold = hold_text (ms, true);
  g_assert_nonnull (strstr (hold, "a=sendonly\r\n"));
  m = m_line (hold);
  g_assert_cmpstr (m, ==, "m=audio 40000 RTP/AVP 0 101");
  g_assert_cmpint (kefu_sdp_media_ldir (ms), ==, KEFU_SDP_SENDONLY);

  g_assert_cmpint (read_answer_text (ms, held_ans), ==, 0);
  g_assert_true (kefu_sdp_media_local_hold (ms));
  g_assert_false (kefu_sdp_media_remote_hold (ms));
  g_assert_cmpint (kefu_sdp_media_rdir (ms), ==, KEFU_SDP_RECVONLY);
  g_assert_cmpint (kefu_sdp_media_dir (ms), ==, KEFU_SDP_SENDONLY);

  resume = hold_text (ms, false);
  g_assert_nonnull (strstr (resume, "a=sendrecv\r\n"));
  g_assert_cmpuint (o_version (resume), ==, o_version (hold) + 1);
  g_assert_cmpint (read_answer_text (ms, resumed_ans), ==, 0);
  g_assert_false (kefu_sdp_media_local_hold (ms));
  g_assert_false (kefu_sdp_media_remote_hold (ms));
  g_assert_cmpint (kefu_sdp_media_dir (ms), ==, KEFU_SDP_SENDRECV);
  assert_codec (ms, "PCMU", 0, 8000, 1);
  mem_deref (ms);
}

/* The peer answers our hold with inactive: it will not receive either. */
static void
test_hold_answered_inactive (void)
{
  struct kefu_sdp_media *ms = call_up ();
  g_autofree char *hold = hold_text (ms, true);
  g_autofree char *ans = peer_answer ("a=inactive\r\n", 2);

  g_assert_nonnull (strstr (hold, "a=sendonly\r\n"));
  g_assert_cmpint (read_answer_text (ms, ans), ==, 0);
  g_assert_cmpint (kefu_sdp_media_dir (ms), ==, KEFU_SDP_INACTIVE);
  g_assert_true (kefu_sdp_media_local_hold (ms));
  mem_deref (ms);
}

/* baresip holding us: a re-INVITE with sendonly. */
static void
test_remote_sendonly (void)
{
  struct kefu_sdp_media *ms = media_new (NULL);
  g_autofree char *answer = NULL;
  g_autofree char *reanswer = NULL;
  static const char held[] =
    "v=0\r\n"
    "o=- 1937623464 1219463428 IN IP4 198.51.100.7\r\n"
    "s=-\r\n"
    "c=IN IP4 198.51.100.7\r\n"
    "t=0 0\r\n"
    "m=audio 10028 RTP/AVP 0 120\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:120 telephone-event/8000\r\n"
    "a=fmtp:120 0-15\r\n"
    "a=sendonly\r\n";
  g_autofree char *held_answer = NULL;

  g_assert_cmpint (read_offer_text (ms, baresip_offer), ==, 0);
  answer = answer_text (ms);
  g_assert_false (kefu_sdp_media_remote_hold (ms));

  g_assert_cmpint (read_offer_text (ms, held), ==, 0);
  g_assert_true (kefu_sdp_media_remote_hold (ms));
  g_assert_false (kefu_sdp_media_local_hold (ms));
  g_assert_cmpint (kefu_sdp_media_rdir (ms), ==, KEFU_SDP_SENDONLY);
  held_answer = answer_text (ms);
  g_assert_nonnull (strstr (held_answer, "a=recvonly\r\n"));
  g_assert_cmpint (kefu_sdp_media_ldir (ms), ==, KEFU_SDP_RECVONLY);
  g_assert_cmpint (kefu_sdp_media_dir (ms), ==, KEFU_SDP_RECVONLY);
  g_assert_cmpint (kefu_sdp_media_telev_pt (ms), ==, 120);
  g_assert_cmpuint (o_version (held_answer), ==, o_version (answer) + 1);

  /* Resumed: sendrecv again. */
  g_assert_cmpint (read_offer_text (ms, baresip_offer), ==, 0);
  g_assert_false (kefu_sdp_media_remote_hold (ms));
  reanswer = answer_text (ms);
  g_assert_nonnull (strstr (reanswer, "a=sendrecv\r\n"));
  g_assert_cmpint (kefu_sdp_media_dir (ms), ==, KEFU_SDP_SENDRECV);
  g_assert_cmpuint (o_version (reanswer), ==, o_version (held_answer) + 1);
  mem_deref (ms);
}

/* An RFC 2543 phone holding us: c=0.0.0.0, no direction attribute. */
static void
test_remote_null_address (void)
{
  static const char null_hold[] =
    "v=0\r\n"
    "o=Cisco-SIPUA 9711 9712 IN IP4 203.0.113.77\r\n"
    "s=SIP Call\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "t=0 0\r\n"
    "m=audio 16384 RTP/AVP 0 101\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-15\r\n";
  struct kefu_sdp_media *ms = media_new (NULL);
  g_autofree char *answer = NULL;

  g_assert_cmpint (read_offer_text (ms, asterisk_offer), ==, 0);
  g_free (answer_text (ms));

  g_assert_cmpint (read_offer_text (ms, null_hold), ==, 0);
  g_assert_true (kefu_sdp_media_remote_hold (ms));
  g_assert_cmpint (kefu_sdp_media_rdir (ms), ==, KEFU_SDP_SENDRECV);
  assert_raddr (ms, "0.0.0.0", 16384);
  answer = answer_text (ms);
  g_assert_nonnull (strstr (answer, "a=recvonly\r\n"));
  g_assert_cmpint (kefu_sdp_media_dir (ms), ==, KEFU_SDP_RECVONLY);
  mem_deref (ms);
}

static void
test_remote_inactive (void)
{
  static const char inactive[] =
    "v=0\r\n"
    "o=- 1696428 1696429 IN IP4 203.0.113.5\r\n"
    "s=Asterisk\r\n"
    "c=IN IP4 203.0.113.5\r\n"
    "t=0 0\r\n"
    "m=audio 18522 RTP/AVP 0 101\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=inactive\r\n";
  struct kefu_sdp_media *ms = media_new (NULL);
  g_autofree char *answer = NULL;

  g_assert_cmpint (read_offer_text (ms, inactive), ==, 0);
  g_assert_true (kefu_sdp_media_remote_hold (ms));
  g_assert_cmpint (kefu_sdp_media_rdir (ms), ==, KEFU_SDP_INACTIVE);
  answer = answer_text (ms);
  g_assert_nonnull (strstr (answer, "a=inactive\r\n"));
  g_assert_cmpint (kefu_sdp_media_dir (ms), ==, KEFU_SDP_INACTIVE);
  mem_deref (ms);
}

/* Both hold: we hold, then the peer holds us too -> inactive. */
static void
test_both_hold (void)
{
  static const char sendonly[] =
    "v=0\r\n"
    "o=- 1696428 1696430 IN IP4 203.0.113.5\r\n"
    "s=-\r\n"
    "c=IN IP4 203.0.113.5\r\n"
    "t=0 0\r\n"
    "m=audio 18522 RTP/AVP 0 101\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=sendonly\r\n";
  struct kefu_sdp_media *ms = call_up ();
  g_autofree char *hold = hold_text (ms, true);
  g_autofree char *ans = peer_answer ("a=recvonly\r\n", 2);
  g_autofree char *answer = NULL;

  g_assert_nonnull (strstr (hold, "a=sendonly\r\n"));
  g_assert_cmpint (read_answer_text (ms, ans), ==, 0);
  g_assert_cmpint (read_offer_text (ms, sendonly), ==, 0);
  answer = answer_text (ms);
  g_assert_nonnull (strstr (answer, "a=inactive\r\n"));
  g_assert_true (kefu_sdp_media_local_hold (ms));
  g_assert_true (kefu_sdp_media_remote_hold (ms));
  mem_deref (ms);
}

/* o= keeps its session id; the version moves by one per change and stays
 * for an unchanged body (a session refresh). */
static void
test_origin_version (void)
{
  struct kefu_sdp_media *ms = call_up ();
  g_autofree char *first = offer_text (ms);
  g_autofree char *same = NULL;
  g_autofree char *hold = NULL;
  g_autofree char *resume = NULL;
  g_autofree char *id1 = NULL;
  g_autofree char *id2 = NULL;

  same = offer_text (ms);
  g_assert_cmpuint (o_version (same), ==, o_version (first));
  hold = hold_text (ms, true);
  g_assert_cmpuint (o_version (hold), ==, o_version (first) + 1);
  resume = hold_text (ms, false);
  g_assert_cmpuint (o_version (resume), ==, o_version (first) + 2);
  id1 = o_session_id (first);
  id2 = o_session_id (resume);
  g_assert_cmpstr (id1, ==, id2);
  g_assert_nonnull (strstr (resume, " IN IP4 " OUR_ADDR "\r\n"));
  mem_deref (ms);
}

static void
test_malformed (void)
{
  static const char *const bad[] = {
    /* no m= line */
    "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n",
    /* garbage */
    "hello, this is not SDP\r\n",
    "\x01\x02\x03\xff\xfe",
    "=\r\n",
    "v=0\r\nm\r\n",
    "",
    /* truncated */
    "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpm",
    "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=aud",
    "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000\r\n",
    "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 19",
    /* huge port */
    "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
    "m=audio 99999 RTP/AVP 0\r\n",
    "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
    "m=audio 4294967297 RTP/AVP 0\r\n",
    "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
    "m=audio -4 RTP/AVP 0\r\n",
    /* no c= line anywhere */
    "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
    /* c= for one stream only */
    "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
    "c=IN IP4 192.0.2.1\r\nm=audio 4002 RTP/AVP 0\r\n",
    /* c= that is not an address */
    "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 pbx.example.com\r\nt=0 0\r\n"
    "m=audio 4000 RTP/AVP 0\r\n",
    "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 \r\nt=0 0\r\n"
    "m=audio 4000 RTP/AVP 0\r\n",
    /* wrong version, rtpmap without a rate */
    "v=1\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
    "m=audio 4000 RTP/AVP 0\r\n",
    "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
    "m=audio 4000 RTP/AVP 0\r\na=rtpmap:0\r\n",
  };
  struct kefu_sdp_media *ms = media_new (NULL);
  GString *huge = g_string_new ("v=0\r\nc=IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 0\r\n");
  struct mbuf *mb;

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      int err = read_offer_text (ms, bad[i]);

      g_test_message ("bad SDP %" G_GSIZE_FORMAT ": %s", i, g_strerror (err));
      g_assert_cmpint (err, ==, EBADMSG);
      g_assert_cmpuint (kefu_sdp_sip_status (err), ==, 400);
    }

  /* NUL bytes inside, and bodies beyond any real SDP. */
  mb = mbuf_alloc (64);
  g_assert_cmpint (mbuf_write_mem (mb, (const uint8_t *) "v=0\r\n\0m=audio 1 RTP/AVP 0\r\n", 28), ==, 0);
  mb->pos = 0;
  g_assert_cmpint (kefu_sdp_media_read_offer (ms, mb), ==, EBADMSG);
  mem_deref (mb);
  while (huge->len <= KEFU_SDP_MAX_SIZE)
    g_string_append (huge, "a=x-padding:0123456789012345678901234567890123456789\r\n");
  g_assert_cmpint (read_offer_text (ms, huge->str), ==, EBADMSG);
  g_string_free (huge, TRUE);

  /* Nothing negotiated from all that, and the session still works. */
  g_assert_null (kefu_sdp_media_raddr (ms));
  g_assert_cmpint (read_offer_text (ms, asterisk_offer), ==, 0);
  assert_codec (ms, "PCMU", 0, 8000, 1);

  /* Answers are checked the same way. */
  mem_deref (ms);
  ms = media_new (NULL);
  g_free (offer_text (ms));
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    g_assert_cmpint (read_answer_text (ms, bad[i]), ==, EBADMSG);
  mem_deref (ms);
}

static void
test_ipv6 (void)
{
  static const char offer6[] =
    "v=0\r\n"
    "o=- 5 5 IN IP6 2001:db8::7\r\n"
    "s=-\r\n"
    "c=IN IP6 2001:db8::7\r\n"
    "t=0 0\r\n"
    "m=audio 10028 RTP/AVP 8 101\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n";
  struct kefu_sdp_media *ms = NULL;
  struct sa laddr;
  g_autofree char *answer = NULL;

  g_assert_cmpint (sa_set_str (&laddr, "2001:db8::10", 40000), ==, 0);
  g_assert_cmpint (kefu_sdp_media_alloc (&ms, &laddr, NULL), ==, 0);
  g_assert_cmpint (read_offer_text (ms, offer6), ==, 0);
  assert_codec (ms, "PCMA", 8, 8000, 1);
  assert_raddr (ms, "2001:db8::7", 10028);
  answer = answer_text (ms);
  g_assert_nonnull (strstr (answer, " IN IP6 2001:db8::10\r\n"));
  g_assert_nonnull (strstr (answer, "c=IN IP6 2001:db8::10\r\n"));
  mem_deref (ms);
}

static void
test_bad_config (void)
{
  static const char *const lists[] = { "", "g729", "pcmu,", "pcmu,pcmu", "opus pcmu" };
  struct kefu_sdp_media *ms = NULL;
  struct sa laddr;

  g_assert_cmpint (sa_set_str (&laddr, OUR_ADDR, OUR_PORT), ==, 0);
  for (gsize i = 0; i < G_N_ELEMENTS (lists); i++)
    {
      struct kefu_sdp_config cfg = { .codecs = lists[i] };

      g_assert_cmpint (kefu_sdp_media_alloc (&ms, &laddr, &cfg), ==, EINVAL);
      g_assert_null (ms);
    }
  {
    struct kefu_sdp_config cfg = { .telev_pt = 95 };

    g_assert_cmpint (kefu_sdp_media_alloc (&ms, &laddr, &cfg), ==, EINVAL);
    cfg.telev_pt = 128;
    g_assert_cmpint (kefu_sdp_media_alloc (&ms, &laddr, &cfg), ==, EINVAL);
  }
  {
    /* telephone-event at 96 pushes Opus to 97. */
    struct kefu_sdp_config cfg = { .codecs = "opus", .telev_pt = 96 };
    g_autofree char *offer = NULL;
    g_autofree char *m = NULL;

    ms = media_new (&cfg);
    offer = offer_text (ms);
    m = m_line (offer);
    g_assert_cmpstr (m, ==, "m=audio 40000 RTP/AVP 97 96");
    mem_deref (ms);
  }
}

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
  g_assert_cmpuint (now.bytes_cur, ==, mem_at_start.bytes_cur);
}

static void
run_checked (gconstpointer data)
{
  void (*test) (void) = (void (*) (void)) data;

  test ();
  check_libre_memory ();
}

static void
add (const char *path,
     void (*test) (void))
{
  g_test_add_data_func (path, (gconstpointer) test, run_checked);
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (libre_init (), ==, 0);
  mem_counted = mem_get_stat (&mem_at_start) == 0;
  if (!mem_counted)
    g_test_message ("libre built without MEM_DEBUG: leaks left to ASan");

  add ("/voip/sdp/telev/96", test_telev_96);
  add ("/voip/sdp/telev/101", test_telev_101);
  add ("/voip/sdp/telev/120", test_telev_120);
  add ("/voip/sdp/telev/offer-pt", test_telev_offer_pt);
  add ("/voip/sdp/no-common-codec", test_no_common_codec);
  add ("/voip/sdp/refused-reoffer", test_refused_reoffer_keeps_call);
  add ("/voip/sdp/offerer-order", test_offerer_order);
  add ("/voip/sdp/opus", test_opus_offer);
  add ("/voip/sdp/round-trip", test_round_trip);
  add ("/voip/sdp/hold/resume", test_hold_resume);
  add ("/voip/sdp/hold/answered-inactive", test_hold_answered_inactive);
  add ("/voip/sdp/hold/remote-sendonly", test_remote_sendonly);
  add ("/voip/sdp/hold/remote-null-address", test_remote_null_address);
  add ("/voip/sdp/hold/remote-inactive", test_remote_inactive);
  add ("/voip/sdp/hold/both", test_both_hold);
  add ("/voip/sdp/origin-version", test_origin_version);
  add ("/voip/sdp/malformed", test_malformed);
  add ("/voip/sdp/ipv6", test_ipv6);
  add ("/voip/sdp/bad-config", test_bad_config);

  ret = g_test_run ();
  libre_close ();
  return ret;
}
