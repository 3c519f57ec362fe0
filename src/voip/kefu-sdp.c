/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuSdp"

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

/*
 * libre 1.1.0 does the offer/answer work: sdp_decode() of an offer matches
 * the peer's formats against ours, renames ours to the peer's payload types
 * and orders them as the offerer did, so sdp_encode() of the answer comes
 * out right.  What libre does not do, and this file adds:
 *
 * - It checks little.  A port of 99999 becomes 34463, an unparsable or
 *   missing c= address becomes 0.0.0.0 (which reads as hold).  So the text
 *   is checked first (check_text).
 * - A refused offer (no common codec) leaves every local format marked
 *   unsupported, so our next re-INVITE would offer a disabled stream.  So
 *   an SDP is first decoded into a throw-away session built from the same
 *   configuration (probe), and only one that passes there reaches the
 *   call's session.  What can still fail there (a re-offer that moves the
 *   m= lines: ENOTSUP) fails before libre aligns the formats, so it only
 *   resets libre's view of the peer, which is read after a successful
 *   decode only: the getters keep their own copy (commit).
 * - It bumps the o= version on every sdp_encode(); RFC 3264 section 8 wants
 *   it bumped by one when the body changed and kept when not.  So the o=
 *   line is written here (encode).
 * - It does not treat c=0.0.0.0 as hold.
 * - It knows nothing of a=crypto (RFC 4568): with SRTP, the lines are
 *   written and read here (crypto_set, crypto_choose);
 *   that the m= line is RTP/SAVP, libre checks: an offer or answer with
 *   another protocol comes out of sdp_decode() with port 0, refused.
 */

G_STATIC_ASSERT ((int) KEFU_SDP_INACTIVE == (int) SDP_INACTIVE);
G_STATIC_ASSERT ((int) KEFU_SDP_RECVONLY == (int) SDP_RECVONLY);
G_STATIC_ASSERT ((int) KEFU_SDP_SENDONLY == (int) SDP_SENDONLY);
G_STATIC_ASSERT ((int) KEFU_SDP_SENDRECV == (int) SDP_SENDRECV);

#define TELEV_NAME "telephone-event"

struct codec_def {
  const char *key;      /* as the configuration spells it */
  const char *id;       /* static payload type, NULL for a dynamic one */
  const char *name;
  uint32_t    srate;
  uint8_t     ch;
  const char *fmtp;
};

static const struct codec_def codec_defs[] = {
  { "opus", NULL, "opus", 48000, 2, "minptime=10;useinbandfec=1" },
  { "pcmu", "0",  "PCMU", 8000,  1, NULL },
  { "pcma", "8",  "PCMA", 8000,  1, NULL },
};

enum state {
  STATE_IDLE,
  STATE_OFFER_SENT,
  STATE_OFFER_RECEIVED,
  STATE_NEGOTIATED,
};

/* What one accepted remote SDP gave. */
struct outcome {
  const struct sdp_format *lfmt;  /* our codec */
  const struct sdp_format *rfmt;  /* the peer's entry for it */
  int                      telev_pt;
  struct sa                raddr;
  enum sdp_dir             rdir;  /* libre's, from our side */
  bool                     srtp;
  struct kefu_srtp_crypto  crypto; /* the peer's a=crypto line taken */
};

struct kefu_sdp_media {
  /* owned */
  struct sdp_session *sess;
  char               *last_body;   /* our last SDP after its o= line */
  char               *codec_name;
  char               *codec_fmtp;
  /* borrowed from sess */
  struct sdp_media   *m;

  /* configuration */
  struct sa laddr;
  size_t    codecv[G_N_ELEMENTS (codec_defs)];
  size_t    codecc;
  int       telev_pt_offer;        /* -1: none */
  char      opus_id[4];
  bool      srtp;
  /* our key for each suite, the whole call long; offered with tag
   * suite + 1 */
  uint8_t   lkey[KEFU_SRTP_N_SUITES][KEFU_SRTP_KEY_LEN];

  enum state   state;
  enum sdp_dir wish;               /* the direction we want */

  uint32_t o_id;
  uint32_t o_ver;

  /* the last negotiation */
  bool         negotiated;
  int          codec_pt;
  uint32_t     codec_srate;
  uint8_t      codec_ch;
  int          telev_pt;
  struct sa    raddr;
  bool         raddr_any;
  enum sdp_dir rdir;               /* libre's: the peer's sendonly is our RECVONLY */
  enum sdp_dir ldir;               /* in our last SDP */
  bool         srtp_on;
  struct kefu_srtp_crypto rcrypto; /* the peer's line: tag, suite, its key */
};

static void
destructor (void *arg)
{
  struct kefu_sdp_media *ms = arg;

  mem_deref (ms->sess);
  mem_deref (ms->last_body);
  mem_deref (ms->codec_name);
  mem_deref (ms->codec_fmtp);
  memset (ms->lkey, 0, sizeof ms->lkey);
  memset (&ms->rcrypto, 0, sizeof ms->rcrypto);
}

static enum sdp_dir
dir_mirror (enum sdp_dir dir)
{
  return (enum sdp_dir) (((dir & SDP_RECVONLY) << 1) | ((dir & SDP_SENDONLY) >> 1));
}

static bool
is_telev (const struct sdp_format *fmt)
{
  return fmt->name != NULL && str_casecmp (fmt->name, TELEV_NAME) == 0;
}

static int
parse_codecs (struct kefu_sdp_media *ms,
              const char            *codecs)
{
  const char *p = codecs;

  ms->codecc = 0;
  for (;;)
    {
      size_t len = strcspn (p, ",");
      const char *tok = p;
      size_t toklen = len;
      size_t i;

      while (toklen > 0 && g_ascii_isspace (tok[0]))
        {
          tok++;
          toklen--;
        }
      while (toklen > 0 && g_ascii_isspace (tok[toklen - 1]))
        toklen--;

      for (i = 0; i < G_N_ELEMENTS (codec_defs); i++)
        {
          if (strlen (codec_defs[i].key) == toklen
              && g_ascii_strncasecmp (tok, codec_defs[i].key, toklen) == 0)
            break;
        }
      if (i == G_N_ELEMENTS (codec_defs))
        return EINVAL;
      for (size_t j = 0; j < ms->codecc; j++)
        {
          if (ms->codecv[j] == i)
            return EINVAL;
        }
      ms->codecv[ms->codecc++] = i;

      if (p[len] == '\0')
        break;
      p += len + 1;
    }

  return 0;
}

/* A session with our media line and formats, as the configuration says. */
static int
session_build (const struct kefu_sdp_media *ms,
               struct sdp_session         **sessp,
               struct sdp_media           **mp)
{
  struct sdp_session *sess = NULL;
  struct sdp_media *m = NULL;
  int err;

  err = sdp_session_alloc (&sess, &ms->laddr);
  if (err)
    goto out;

  err = sdp_media_add (&m, sess, sdp_media_audio, sa_port (&ms->laddr),
                       ms->srtp ? sdp_proto_rtpsavp : sdp_proto_rtpavp);
  if (err)
    goto out;

  for (size_t i = 0; i < ms->codecc; i++)
    {
      const struct codec_def *def = &codec_defs[ms->codecv[i]];
      const char *id = def->id != NULL ? def->id : ms->opus_id;

      if (def->fmtp != NULL)
        err = sdp_format_add (NULL, m, false, id, def->name, def->srate, def->ch,
                              NULL, NULL, NULL, false, "%s", def->fmtp);
      else
        err = sdp_format_add (NULL, m, false, id, def->name, def->srate, def->ch,
                              NULL, NULL, NULL, false, NULL);
      if (err)
        goto out;
    }

  if (ms->telev_pt_offer >= 0)
    {
      char id[4];

      g_snprintf (id, sizeof id, "%d", ms->telev_pt_offer);
      err = sdp_format_add (NULL, m, false, id, TELEV_NAME, 8000, 1,
                            NULL, NULL, NULL, false, "0-15");
      if (err)
        goto out;
    }

out:
  if (err)
    mem_deref (sess);
  else
    {
      *sessp = sess;
      *mp = m;
    }

  return err;
}

int
kefu_sdp_media_alloc (struct kefu_sdp_media       **msp,
                      const struct sa              *laddr,
                      const struct kefu_sdp_config *cfg)
{
  struct kefu_sdp_media *ms;
  const char *codecs = KEFU_SDP_DEFAULT_CODECS;
  int telev_pt = KEFU_SDP_DEFAULT_TELEV_PT;
  int err;

  if (msp == NULL || laddr == NULL || !sa_isset (laddr, SA_ADDR))
    return EINVAL;

  if (cfg != NULL)
    {
      if (cfg->codecs != NULL)
        codecs = cfg->codecs;
      if (cfg->telev_pt < 0)
        telev_pt = -1;
      else if (cfg->telev_pt > 0)
        telev_pt = cfg->telev_pt;
    }
  if (telev_pt != -1 && (telev_pt < 96 || telev_pt > 127))
    return EINVAL;

  ms = mem_zalloc (sizeof *ms, destructor);
  if (ms == NULL)
    return ENOMEM;

  ms->laddr = *laddr;
  ms->telev_pt_offer = telev_pt;
  ms->srtp = cfg != NULL && cfg->srtp;
  for (unsigned i = 0; ms->srtp && i < KEFU_SRTP_N_SUITES; i++)
    {
      err = kefu_srtp_key_generate (ms->lkey[i]);
      if (err)
        goto out;
    }
  ms->wish = SDP_SENDRECV;
  ms->telev_pt = -1;
  ms->o_id = rand_u32 () & 0x7fffffff;
  ms->o_ver = rand_u32 () & 0x7fffffff;
  /* Opus takes the first dynamic payload type telephone-event leaves. */
  g_snprintf (ms->opus_id, sizeof ms->opus_id, "%d", telev_pt == 96 ? 97 : 96);

  err = parse_codecs (ms, codecs);
  if (err)
    goto out;

  err = session_build (ms, &ms->sess, &ms->m);

out:
  if (err)
    mem_deref (ms);
  else
    *msp = ms;

  return err;
}

/* RFC 4566 syntax as far as this file relies on it: "v=0" first, every line
 * "x=..." and ended by LF or CRLF, m= lines "audio PORT PROTO FMT..." with
 * a port of 0-65535, and a c= line with an IP address for every m= line in
 * use, at session or media level.  A host name in c= is refused too. */
static int
check_connection (const char *val,
                  size_t      len)
{
  char addr[64];
  struct sa sa;

  if (len < 8 || (strncmp (val, "IN IP4 ", 7) != 0 && strncmp (val, "IN IP6 ", 7) != 0))
    return EBADMSG;
  val += 7;
  len -= 7;
  if (len == 0 || len >= sizeof addr || memchr (val, ' ', len) != NULL)
    return EBADMSG;
  memcpy (addr, val, len);
  addr[len] = '\0';

  return sa_set_str (&sa, addr, 0) ? EBADMSG : 0;
}

static int
check_media (const char *val,
             size_t      len,
             bool       *in_use)
{
  size_t i = 0;
  unsigned long port = 0;
  size_t digits = 0;

  while (i < len && g_ascii_islower (val[i]))
    i++;
  if (i == 0 || i == len || val[i] != ' ')
    return EBADMSG;
  i++;

  while (i < len && g_ascii_isdigit (val[i]) && digits < 6)
    {
      port = port * 10 + (unsigned long) (val[i] - '0');
      digits++;
      i++;
    }
  if (digits == 0 || port > 65535 || i == len || val[i] != ' ')
    return EBADMSG;
  i++;

  /* proto, then at least one format */
  while (i < len && val[i] != ' ')
    i++;
  if (i + 1 >= len)
    return EBADMSG;

  *in_use = port != 0;
  return 0;
}

static int
check_text (const struct mbuf *mb)
{
  const char *p = (const char *) mbuf_buf (mb);
  size_t left = mbuf_get_left (mb);
  bool session_c = false;
  bool in_media = false;
  bool media_in_use = false;
  bool media_c = false;
  unsigned media_count = 0;
  unsigned line_no = 0;
  int err;

  if (p == NULL || left == 0 || left > KEFU_SDP_MAX_SIZE || memchr (p, '\0', left) != NULL)
    return EBADMSG;

  while (left > 0)
    {
      const char *nl = memchr (p, '\n', left);
      size_t len;
      const char *val;
      size_t vlen;

      if (nl == NULL)
        return EBADMSG;  /* cut off inside a line */
      len = (size_t) (nl - p);
      if (len > 0 && p[len - 1] == '\r')
        len--;

      if (len > 0)
        {
          if (len < 2 || !g_ascii_islower (p[0]) || p[1] != '=')
            return EBADMSG;
          val = p + 2;
          vlen = len - 2;

          if (line_no++ == 0 && (p[0] != 'v' || vlen != 1 || val[0] != '0'))
            return EBADMSG;

          switch (p[0])
            {
            case 'm':
              if (in_media && media_in_use && !media_c && !session_c)
                return EBADMSG;
              err = check_media (val, vlen, &media_in_use);
              if (err)
                return err;
              in_media = true;
              media_c = false;
              media_count++;
              break;

            case 'c':
              err = check_connection (val, vlen);
              if (err)
                return err;
              if (in_media)
                media_c = true;
              else
                session_c = true;
              break;

            default:
              break;
            }
        }

      left -= (size_t) (nl - p) + 1;
      p = nl + 1;
    }

  if (media_count == 0)
    return EBADMSG;
  if (media_in_use && !media_c && !session_c)
    return EBADMSG;

  return 0;
}

struct crypto_search {
  bool                    offer;
  struct kefu_srtp_crypto found;
  bool                    have;
};

static bool
on_crypto_attr (const char *name,
                const char *value,
                void       *arg)
{
  struct crypto_search *cs = arg;
  struct kefu_srtp_crypto c;

  (void) name;
  if (kefu_srtp_crypto_decode (value, strlen (value), &c) != 0)
    return false;
  /* An answer names one of the lines we offered: tag suite + 1. */
  if (!cs->offer && c.tag != (uint32_t) c.suite + 1)
    return false;

  cs->found = c;
  cs->have = true;
  return true;
}

/* The peer's a=crypto line to use: in an offer, the first we support (the
 * offerer lists them most preferred first); in an answer, the one that
 * accepted a line of ours. */
static int
crypto_choose (const struct sdp_media  *m,
               bool                     offer,
               struct kefu_srtp_crypto *crypto)
{
  struct crypto_search cs = { .offer = offer };

  (void) sdp_media_rattr_apply (m, "crypto", on_crypto_attr, &cs);
  if (!cs.have)
    return KEFU_SDP_ENOCODEC;

  *crypto = cs.found;
  memset (&cs.found, 0, sizeof cs.found);
  return 0;
}

/* After sdp_decode(): is there an audio stream we can use, and how. */
static int
examine (const struct kefu_sdp_media *ms,
         const struct sdp_media      *m,
         bool                         offer,
         struct outcome              *out)
{
  const struct list *rfmtl = sdp_media_format_lst (m, false);
  const struct list *lfmtl = sdp_media_format_lst (m, true);
  const struct sdp_format *telev;

  memset (out, 0, sizeof *out);

  if (sdp_media_rport (m) == 0)
    return KEFU_SDP_ENOCODEC;

  for (struct le *rle = list_head (rfmtl); rle != NULL && out->lfmt == NULL; rle = rle->next)
    {
      const struct sdp_format *rfmt = rle->data;

      if (!rfmt->sup || is_telev (rfmt))
        continue;

      for (struct le *lle = list_head (lfmtl); lle != NULL; lle = lle->next)
        {
          const struct sdp_format *lfmt = lle->data;

          if (!is_telev (lfmt) && sdp_format_cmp (lfmt, rfmt))
            {
              out->lfmt = lfmt;
              out->rfmt = rfmt;
              break;
            }
        }
    }
  if (out->lfmt == NULL)
    return KEFU_SDP_ENOCODEC;

  if (ms->srtp)
    {
      int err = crypto_choose (m, offer, &out->crypto);

      if (err)
        {
          g_debug ("no a=crypto line we support");
          return err;
        }
      out->srtp = true;
    }

  telev = sdp_media_rformat (m, TELEV_NAME);
  out->telev_pt = telev != NULL ? telev->pt : -1;
  out->raddr = *sdp_media_raddr (m);
  out->rdir = sdp_media_rdir (m);

  return 0;
}

/* Decode into a throw-away session, so that what is refused never touches
 * the call's session. */
static int
probe (const struct kefu_sdp_media *ms,
       struct mbuf                 *mb,
       bool                         offer)
{
  struct sdp_session *sess = NULL;
  struct sdp_media *m = NULL;
  struct mbuf *ours = NULL;
  struct outcome out;
  size_t pos = mb->pos;
  int err;

  err = session_build (ms, &sess, &m);
  if (err)
    return err;

  if (!offer)
    {
      /* An answer is read against an offer sent. */
      err = sdp_encode (&ours, sess, true);
      if (err)
        goto out;
    }

  err = sdp_decode (sess, mb, offer);
  mb->pos = pos;
  if (err)
    goto out;

  err = examine (ms, m, offer, &out);
  memset (&out.crypto, 0, sizeof out.crypto);

out:
  mem_deref (ours);
  mem_deref (sess);
  return err;
}

static int
commit (struct kefu_sdp_media *ms,
        const struct outcome  *out)
{
  char *name = NULL;
  char *fmtp = NULL;
  int err;

  err = str_dup (&name, out->lfmt->name);
  if (!err && str_isset (out->rfmt->params))
    err = str_dup (&fmtp, out->rfmt->params);
  if (err)
    {
      mem_deref (name);
      return err;
    }

  mem_deref (ms->codec_name);
  mem_deref (ms->codec_fmtp);
  ms->codec_name = name;
  ms->codec_fmtp = fmtp;
  ms->codec_pt = out->rfmt->pt;
  ms->codec_srate = out->lfmt->srate;
  ms->codec_ch = out->lfmt->ch;
  ms->telev_pt = out->telev_pt;
  ms->raddr = out->raddr;
  ms->raddr_any = sa_is_any (&out->raddr);
  ms->rdir = out->rdir;
  ms->srtp_on = out->srtp;
  ms->rcrypto = out->crypto;
  ms->negotiated = true;

  return 0;
}

/* The answer direction RFC 3264 section 6.1 allows, and no sending to an
 * RFC 2543 hold address. */
static enum sdp_dir
answer_dir (const struct kefu_sdp_media *ms)
{
  enum sdp_dir dir = (enum sdp_dir) (ms->wish & ms->rdir);

  if (ms->raddr_any)
    dir = (enum sdp_dir) (dir & SDP_RECVONLY);
  return dir;
}

static int
read_remote (struct kefu_sdp_media *ms,
             struct mbuf           *mb,
             bool                   offer)
{
  struct outcome out;
  size_t pos;
  int err;

  if (mb == NULL)
    return EINVAL;

  err = check_text (mb);
  if (err)
    goto out;

  err = probe (ms, mb, offer);
  if (err)
    goto out;

  pos = mb->pos;
  err = sdp_decode (ms->sess, mb, offer);
  mb->pos = pos;
  if (!err)
    err = examine (ms, ms->m, offer, &out);
  if (!err)
    err = commit (ms, &out);
  memset (&out.crypto, 0, sizeof out.crypto);

out:
  if (err)
    g_debug ("%s refused: %s", offer ? "offer" : "answer", g_strerror (err));
  return err;
}

/* sdp_encode(), with our own o= line: the version moves on by one when the
 * rest of the body differs from the last SDP we sent. */
static int
encode (struct kefu_sdp_media *ms,
        bool                   offer,
        struct mbuf          **mbp)
{
  struct mbuf *raw = NULL;
  struct mbuf *mb = NULL;
  const char *text;
  const char *o_line;
  const char *rest;
  size_t len;
  size_t rest_len;
  int err;

  err = sdp_encode (&raw, ms->sess, offer);
  if (err)
    goto out;

  text = (const char *) mbuf_buf (raw);
  len = mbuf_get_left (raw);
  o_line = g_strstr_len (text, (gssize) len, "\r\no=");
  rest = o_line != NULL ? g_strstr_len (o_line + 2, (gssize) (text + len - o_line - 2), "\r\n")
                        : NULL;
  if (rest == NULL)
    {
      err = EPROTO;
      goto out;
    }
  rest += 2;
  rest_len = (size_t) (text + len - rest);

  if (ms->last_body == NULL || strlen (ms->last_body) != rest_len
      || memcmp (ms->last_body, rest, rest_len) != 0)
    {
      char *body = mem_alloc (rest_len + 1, NULL);

      if (body == NULL)
        {
          err = ENOMEM;
          goto out;
        }
      memcpy (body, rest, rest_len);
      body[rest_len] = '\0';
      if (ms->last_body != NULL)
        ms->o_ver++;
      mem_deref (ms->last_body);
      ms->last_body = body;
    }

  mb = mbuf_alloc (len + 16);
  if (mb == NULL)
    {
      err = ENOMEM;
      goto out;
    }
  err = mbuf_printf (mb, "v=0\r\no=- %u %u IN IP%d %j\r\n", ms->o_id, ms->o_ver,
                     sa_af (&ms->laddr) == AF_INET ? 4 : 6, &ms->laddr);
  err |= mbuf_write_mem (mb, (const uint8_t *) rest, rest_len);
  if (err)
    goto out;
  mb->pos = 0;

out:
  mem_deref (raw);
  if (err)
    mem_deref (mb);
  else
    *mbp = mb;
  return err;
}

/* Our a=crypto lines: in an offer, one per suite (tag suite + 1); in an
 * answer, the one taking the peer's line, with its tag. */
static int
crypto_set (struct kefu_sdp_media *ms,
            bool                   offer)
{
  int err = 0;

  if (!ms->srtp)
    return 0;

  sdp_media_del_lattr (ms->m, "crypto");
  for (unsigned i = 0; i < KEFU_SRTP_N_SUITES && !err; i++)
    {
      struct kefu_srtp_crypto c;
      char buf[KEFU_SRTP_CRYPTO_MAX];

      if (!offer && (unsigned) ms->rcrypto.suite != i)
        continue;

      c.tag = offer ? i + 1 : ms->rcrypto.tag;
      c.suite = (enum kefu_srtp_suite) i;
      memcpy (c.key, ms->lkey[i], sizeof c.key);
      err = kefu_srtp_crypto_encode (&c, buf, sizeof buf);
      if (!err)
        err = sdp_media_set_lattr (ms->m, false, "crypto", "%s", buf);
      memset (&c, 0, sizeof c);
      memset (buf, 0, sizeof buf);
    }

  return err;
}

int
kefu_sdp_media_create_offer (struct kefu_sdp_media *ms,
                             struct mbuf          **mbp)
{
  int err;

  if (ms == NULL || mbp == NULL)
    return EINVAL;
  if (ms->state == STATE_OFFER_RECEIVED)
    return EPROTO;

  sdp_media_set_ldir (ms->m, ms->wish);
  err = crypto_set (ms, true);
  if (!err)
    err = encode (ms, true, mbp);
  if (err)
    return err;

  ms->ldir = ms->wish;
  ms->state = STATE_OFFER_SENT;
  return 0;
}

int
kefu_sdp_media_read_answer (struct kefu_sdp_media *ms,
                            struct mbuf           *mb)
{
  int err;

  if (ms == NULL)
    return EINVAL;
  if (ms->state != STATE_OFFER_SENT)
    return EPROTO;

  err = read_remote (ms, mb, false);
  if (err)
    return err;

  ms->state = STATE_NEGOTIATED;
  return 0;
}

int
kefu_sdp_media_read_offer (struct kefu_sdp_media *ms,
                           struct mbuf           *mb)
{
  int err;

  if (ms == NULL)
    return EINVAL;

  err = read_remote (ms, mb, true);
  if (err)
    return err;

  ms->ldir = answer_dir (ms);
  ms->state = STATE_OFFER_RECEIVED;
  return 0;
}

int
kefu_sdp_media_create_answer (struct kefu_sdp_media *ms,
                              struct mbuf          **mbp)
{
  enum sdp_dir dir;
  int err;

  if (ms == NULL || mbp == NULL)
    return EINVAL;
  if (ms->state != STATE_OFFER_RECEIVED)
    return EPROTO;

  /* libre writes ldir & rdir in an answer. */
  dir = answer_dir (ms);
  sdp_media_set_ldir (ms->m, dir);
  err = crypto_set (ms, false);
  if (!err)
    err = encode (ms, false, mbp);
  if (err)
    return err;

  ms->ldir = dir;
  ms->state = STATE_NEGOTIATED;
  return 0;
}

void
kefu_sdp_media_set_dir (struct kefu_sdp_media *ms,
                        enum kefu_sdp_dir      dir)
{
  if (ms == NULL)
    return;
  ms->wish = (enum sdp_dir) (dir & SDP_SENDRECV);
}

int
kefu_sdp_media_hold (struct kefu_sdp_media *ms,
                     bool                   hold,
                     struct mbuf          **offerp)
{
  if (ms == NULL || offerp == NULL)
    return EINVAL;
  if (ms->state == STATE_OFFER_RECEIVED)
    return EPROTO;

  kefu_sdp_media_set_dir (ms, hold ? KEFU_SDP_SENDONLY : KEFU_SDP_SENDRECV);
  return kefu_sdp_media_create_offer (ms, offerp);
}

int
kefu_sdp_media_codec (const struct kefu_sdp_media *ms,
                      struct kefu_sdp_codec       *codec)
{
  if (ms == NULL || codec == NULL)
    return EINVAL;
  if (!ms->negotiated)
    return ENOENT;

  codec->name = ms->codec_name;
  codec->pt = ms->codec_pt;
  codec->srate = ms->codec_srate;
  codec->ch = ms->codec_ch;
  codec->fmtp = ms->codec_fmtp;
  return 0;
}

const struct sa *
kefu_sdp_media_raddr (const struct kefu_sdp_media *ms)
{
  return ms != NULL && ms->negotiated ? &ms->raddr : NULL;
}

int
kefu_sdp_media_telev_pt (const struct kefu_sdp_media *ms)
{
  return ms != NULL && ms->negotiated ? ms->telev_pt : -1;
}

enum kefu_sdp_dir
kefu_sdp_media_ldir (const struct kefu_sdp_media *ms)
{
  return ms != NULL ? (enum kefu_sdp_dir) ms->ldir : KEFU_SDP_INACTIVE;
}

enum kefu_sdp_dir
kefu_sdp_media_rdir (const struct kefu_sdp_media *ms)
{
  if (ms == NULL || !ms->negotiated)
    return KEFU_SDP_INACTIVE;
  return (enum kefu_sdp_dir) dir_mirror (ms->rdir);
}

enum kefu_sdp_dir
kefu_sdp_media_dir (const struct kefu_sdp_media *ms)
{
  enum sdp_dir dir;

  if (ms == NULL || !ms->negotiated)
    return KEFU_SDP_INACTIVE;
  dir = (enum sdp_dir) (ms->ldir & ms->rdir);
  if (ms->raddr_any)
    dir = (enum sdp_dir) (dir & SDP_RECVONLY);
  return (enum kefu_sdp_dir) dir;
}

bool
kefu_sdp_media_local_hold (const struct kefu_sdp_media *ms)
{
  return ms != NULL && !(ms->wish & SDP_RECVONLY);
}

bool
kefu_sdp_media_remote_hold (const struct kefu_sdp_media *ms)
{
  if (ms == NULL || !ms->negotiated)
    return false;
  if (ms->raddr_any)
    return true;
  /* The peer will not receive although we want to send. */
  return !(ms->rdir & SDP_SENDONLY) && (ms->wish & SDP_SENDONLY);
}

int
kefu_sdp_media_srtp (const struct kefu_sdp_media *ms,
                     struct kefu_srtp_keys       *keys)
{
  if (ms == NULL || !ms->negotiated || !ms->srtp_on)
    return ENOENT;

  if (keys != NULL)
    {
      keys->suite = ms->rcrypto.suite;
      memcpy (keys->tx_key, ms->lkey[ms->rcrypto.suite], KEFU_SRTP_KEY_LEN);
      memcpy (keys->rx_key, ms->rcrypto.key, KEFU_SRTP_KEY_LEN);
    }
  return 0;
}

uint16_t
kefu_sdp_sip_status (int err)
{
  switch (err)
    {
    case 0:
      return 200;
    case KEFU_SDP_ENOCODEC:
    case ENOTSUP:
      return 488;
    case EBADMSG:
    case EPROTO:
    case ENOSYS:
      return 400;
    default:
      return 500;
    }
}
