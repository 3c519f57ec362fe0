/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuSrtp"

#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/random.h>

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

#include "kefu-srtp.h"

#include <glib.h>
#include <string.h>

/* base64 of the 30 bytes of key and salt: ten groups, no padding */
#define KEY_B64_LEN 40
#define TAG_MAX 999999999u

/* Where the helpers sit among a socket's others (none so far). */
#define HELPER_LAYER 0

G_STATIC_ASSERT (KEFU_SRTP_KEY_LEN == 30);

static const struct {
  const char     *name;
  enum srtp_suite libre;
} suites[KEFU_SRTP_N_SUITES] = {
  [KEFU_SRTP_AES_CM_128_HMAC_SHA1_80] = { "AES_CM_128_HMAC_SHA1_80",
                                          SRTP_AES_CM_128_HMAC_SHA1_80 },
  [KEFU_SRTP_AES_CM_128_HMAC_SHA1_32] = { "AES_CM_128_HMAC_SHA1_32",
                                          SRTP_AES_CM_128_HMAC_SHA1_32 },
};

struct kefu_srtp {
  /* owned */
  struct udp_helper *uh_rtp;
  struct udp_helper *uh_rtcp;
  struct srtp       *tx;      /* NULL until keys are set */
  struct srtp       *rx;

  struct kefu_srtp_keys keys;
  uint64_t              dropped;
};

const char *
kefu_srtp_suite_name (enum kefu_srtp_suite suite)
{
  if ((unsigned) suite >= KEFU_SRTP_N_SUITES)
    return NULL;
  return suites[suite].name;
}

bool
kefu_srtp_suite_from_name (const char           *name,
                           size_t                len,
                           enum kefu_srtp_suite *suite)
{
  if (name == NULL)
    return false;

  for (unsigned i = 0; i < KEFU_SRTP_N_SUITES; i++)
    {
      if (strlen (suites[i].name) == len && memcmp (suites[i].name, name, len) == 0)
        {
          if (suite != NULL)
            *suite = (enum kefu_srtp_suite) i;
          return true;
        }
    }

  return false;
}

int
kefu_srtp_key_generate (uint8_t key[KEFU_SRTP_KEY_LEN])
{
  size_t got = 0;

  if (key == NULL)
    return EINVAL;

  /* Blocks only before the kernel's pool is first seeded, at boot. */
  while (got < KEFU_SRTP_KEY_LEN)
    {
      ssize_t n = getrandom (key + got, KEFU_SRTP_KEY_LEN - got, 0);

      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return errno;
        }
      got += (size_t) n;
    }

  return 0;
}

int
kefu_srtp_crypto_encode (const struct kefu_srtp_crypto *crypto,
                         char                          *buf,
                         size_t                         size)
{
  char b64[KEY_B64_LEN + 1];
  size_t b64_len = KEY_B64_LEN;
  const char *name;
  int n;
  int err;

  if (crypto == NULL || buf == NULL || crypto->tag == 0 || crypto->tag > TAG_MAX)
    return EINVAL;
  name = kefu_srtp_suite_name (crypto->suite);
  if (name == NULL)
    return EINVAL;

  err = base64_encode (crypto->key, KEFU_SRTP_KEY_LEN, b64, &b64_len);
  if (err)
    return err;
  b64[b64_len] = '\0';

  n = g_snprintf (buf, size, "%u %s inline:%s", crypto->tag, name, b64);
  if (n < 0 || (size_t) n >= size)
    return EOVERFLOW;

  return 0;
}

static bool
is_b64_char (char c)
{
  return g_ascii_isalnum (c) || c == '+' || c == '/';
}

/* RFC 4568 section 9.1:
 *   crypto-attribute = tag 1*WSP crypto-suite 1*WSP key-params
 *                      *(1*WSP session-param)
 *   key-params       = key-param *(";" key-param)
 *   key-param        = "inline:" key||salt ["|" lifetime] ["|" MKI ":" length] */
int
kefu_srtp_crypto_decode (const char              *value,
                         size_t                   len,
                         struct kefu_srtp_crypto *crypto)
{
  const char *p = value;
  const char *end;
  const char *tok;
  uint64_t tag = 0;
  size_t digits = 0;
  enum kefu_srtp_suite suite;
  uint8_t key[KEFU_SRTP_KEY_LEN + 3];
  size_t key_len = sizeof key;
  int err;

  if (value == NULL || crypto == NULL)
    return EINVAL;
  end = value + len;

  /* tag: 1*9DIGIT */
  while (p < end && g_ascii_isdigit (*p) && digits < 10)
    {
      tag = tag * 10 + (uint64_t) (*p - '0');
      digits++;
      p++;
    }
  if (digits == 0 || digits > 9 || tag == 0 || p == end || (*p != ' ' && *p != '\t'))
    return EBADMSG;
  while (p < end && (*p == ' ' || *p == '\t'))
    p++;

  /* crypto-suite */
  tok = p;
  while (p < end && *p != ' ' && *p != '\t')
    p++;
  if (p == tok || p == end)
    return EBADMSG;
  if (!kefu_srtp_suite_from_name (tok, (size_t) (p - tok), &suite))
    return ENOTSUP;
  while (p < end && (*p == ' ' || *p == '\t'))
    p++;

  /* one key-param: inline:KEY [|lifetime] */
  if ((size_t) (end - p) < 7 || memcmp (p, "inline:", 7) != 0)
    return p == end ? EBADMSG : ENOTSUP;
  p += 7;
  tok = p;
  while (p < end && is_b64_char (*p))
    p++;
  if (p - tok != KEY_B64_LEN)
    return EBADMSG;
  err = base64_decode (tok, KEY_B64_LEN, key, &key_len);
  if (err || key_len != KEFU_SRTP_KEY_LEN)
    return EBADMSG;

  if (p < end && *p == '|')
    {
      /* lifetime: 2^N or a decimal count; a second '|' would be an MKI */
      p++;
      tok = p;
      while (p < end && (g_ascii_isdigit (*p) || *p == '^'))
        p++;
      if (p == tok)
        return EBADMSG;
      if (p < end && (*p == '|' || *p == ':'))
        return ENOTSUP;
    }
  if (p < end && *p == ';')
    return ENOTSUP;  /* several keys */

  /* session parameters change how SRTP runs; we support none */
  while (p < end && (*p == ' ' || *p == '\t'))
    p++;
  if (p != end)
    return ENOTSUP;

  crypto->tag = (uint32_t) tag;
  crypto->suite = suite;
  memcpy (crypto->key, key, KEFU_SRTP_KEY_LEN);
  memset (key, 0, sizeof key);

  return 0;
}

/* --- protection of a stream's sockets ----------------------------------- */

static void
destructor (void *arg)
{
  struct kefu_srtp *srtp = arg;

  mem_deref (srtp->uh_rtp);
  mem_deref (srtp->uh_rtcp);
  mem_deref (srtp->tx);
  mem_deref (srtp->rx);
  memset (&srtp->keys, 0, sizeof srtp->keys);
}

static bool
protect (int         *err,
         struct mbuf *mb,
         struct srtp *tx,
         bool         rtcp)
{
  if (tx == NULL)
    {
      /* not keyed yet: nothing goes out in the clear */
      *err = ENOKEY;
      return true;
    }

  *err = rtcp ? srtcp_encrypt (tx, mb) : srtp_encrypt (tx, mb);
  return *err != 0;
}

static bool
on_rtp_send (int         *err,
             struct sa   *dst,
             struct mbuf *mb,
             void        *arg)
{
  struct kefu_srtp *srtp = arg;

  (void) dst;
  return protect (err, mb, srtp->tx, false);
}

static bool
on_rtcp_send (int         *err,
              struct sa   *dst,
              struct mbuf *mb,
              void        *arg)
{
  struct kefu_srtp *srtp = arg;

  (void) dst;
  return protect (err, mb, srtp->tx, true);
}

static const char *
drop_reason (int err)
{
  switch (err)
    {
    case EAUTH:    return "authentication failed";
    case EALREADY: return "replayed";
    case ENOKEY:   return "no keys yet";
    default:       return g_strerror (err);
    }
}

/* true: dropped, the socket's handler never sees it */
static bool
unprotect (struct kefu_srtp *srtp,
           struct mbuf      *mb,
           bool              rtcp)
{
  int err;

  if (srtp->rx == NULL)
    err = ENOKEY;
  else
    err = rtcp ? srtcp_decrypt (srtp->rx, mb) : srtp_decrypt (srtp->rx, mb);

  if (err)
    {
      srtp->dropped++;
      /* the first few say why; a flood must not flood the log */
      if (srtp->dropped <= 3 || (srtp->dropped & (srtp->dropped - 1)) == 0)
        g_debug ("%s packet dropped (%s), %" G_GUINT64_FORMAT " so far",
                 rtcp ? "SRTCP" : "SRTP", drop_reason (err), srtp->dropped);
      return true;
    }

  return false;
}

static bool
on_rtp_recv (struct sa   *src,
             struct mbuf *mb,
             void        *arg)
{
  (void) src;
  return unprotect (arg, mb, false);
}

static bool
on_rtcp_recv (struct sa   *src,
              struct mbuf *mb,
              void        *arg)
{
  (void) src;
  return unprotect (arg, mb, true);
}

int
kefu_srtp_alloc (struct kefu_srtp **srtpp,
                 struct udp_sock   *rtp,
                 struct udp_sock   *rtcp)
{
  struct kefu_srtp *srtp;
  int err;

  if (srtpp == NULL || rtp == NULL)
    return EINVAL;

  srtp = mem_zalloc (sizeof *srtp, destructor);
  if (srtp == NULL)
    return ENOMEM;

  err = udp_register_helper (&srtp->uh_rtp, rtp, HELPER_LAYER, on_rtp_send, on_rtp_recv, srtp);
  if (!err && rtcp != NULL)
    err = udp_register_helper (&srtp->uh_rtcp, rtcp, HELPER_LAYER, on_rtcp_send, on_rtcp_recv,
                               srtp);

  if (err)
    mem_deref (srtp);
  else
    *srtpp = srtp;

  return err;
}

static int
context_new (struct srtp          **ctxp,
             enum kefu_srtp_suite   suite,
             const uint8_t         *key)
{
  struct srtp *ctx = NULL;
  int err;

  err = srtp_alloc (&ctx, suites[suite].libre, key, KEFU_SRTP_KEY_LEN, 0);
  if (err)
    return err;

  mem_deref (*ctxp);
  *ctxp = ctx;
  return 0;
}

int
kefu_srtp_set_keys (struct kefu_srtp            *srtp,
                    const struct kefu_srtp_keys *keys)
{
  bool suite_same;
  int err = 0;

  if (srtp == NULL || keys == NULL || (unsigned) keys->suite >= KEFU_SRTP_N_SUITES)
    return EINVAL;

  suite_same = srtp->tx != NULL && srtp->keys.suite == keys->suite;

  /* A context keeps each stream's rollover counter and replay window:
   * a re-INVITE that kept the keys must not reset them. */
  if (!suite_same || memcmp (srtp->keys.tx_key, keys->tx_key, KEFU_SRTP_KEY_LEN) != 0)
    err = context_new (&srtp->tx, keys->suite, keys->tx_key);
  if (!err && (!suite_same || memcmp (srtp->keys.rx_key, keys->rx_key, KEFU_SRTP_KEY_LEN) != 0))
    err = context_new (&srtp->rx, keys->suite, keys->rx_key);

  if (err)
    {
      /* half keyed would be worse than not keyed */
      srtp->tx = mem_deref (srtp->tx);
      srtp->rx = mem_deref (srtp->rx);
      memset (&srtp->keys, 0, sizeof srtp->keys);
      return err;
    }

  srtp->keys = *keys;
  g_debug ("keyed with %s", kefu_srtp_suite_name (keys->suite));
  return 0;
}

bool
kefu_srtp_active (const struct kefu_srtp *srtp)
{
  return srtp != NULL && srtp->tx != NULL && srtp->rx != NULL;
}

uint64_t
kefu_srtp_dropped (const struct kefu_srtp *srtp)
{
  return srtp != NULL ? srtp->dropped : 0;
}
