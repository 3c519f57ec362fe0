/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The SDP offer/answer of one call's audio stream (RFC 3264), for the
 * softphone and the switch: what we offer (PCMU, PCMA, Opus in a configured
 * order, and telephone-event), what the peer answered or offered, and
 * hold/resume by re-INVITE, and SRTP keys by SDES (RFC 4568, kefu-srtp.h)
 * when the configuration asks for them.  Built on libre 1.1.0's sdp_session; libre
 * style: errno returns, a mem_zalloc'd opaque object released with
 * mem_deref().  Call it from the libre thread only (not thread-safe).
 *
 * One INVITE transaction, either way round:
 *   we offer:   kefu_sdp_media_create_offer() -> kefu_sdp_media_read_answer()
 *   they offer: kefu_sdp_media_read_offer()   -> kefu_sdp_media_create_answer()
 * A re-INVITE is the same again; kefu_sdp_media_hold() makes our hold or
 * resume offer.  The getters describe the last negotiation that succeeded.
 *
 * Errors from read_offer/read_answer:
 *   KEFU_SDP_ENOCODEC (ENOENT)  no codec in common, or no usable audio
 *                               stream (port 0, not RTP/AVP; with SRTP,
 *                               not RTP/SAVP with an a=crypto line we
 *                               support): answer 488 Not Acceptable Here.
 *   EBADMSG, EPROTO             malformed SDP: answer 400 (or 488).
 *   ENOTSUP                     a re-offer changed the media line type: 488.
 * kefu_sdp_sip_status() maps these.  A refused SDP leaves the session as
 * it was (the getters, and what our next offer carries), so a call that
 * answers 488 to a re-INVITE carries on unchanged.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "kefu-srtp.h"

struct mbuf;
struct sa;
struct kefu_sdp_media;

/* "No codec in common": the caller answers 488 Not Acceptable Here.  libre's
 * SDP code never returns ENOENT, so it cannot be confused with a parse error. */
#define KEFU_SDP_ENOCODEC ENOENT

/* The same values as libre's enum sdp_dir. */
enum kefu_sdp_dir {
  KEFU_SDP_INACTIVE = 0,
  KEFU_SDP_RECVONLY = 1,
  KEFU_SDP_SENDONLY = 2,
  KEFU_SDP_SENDRECV = 3,
};

#define KEFU_SDP_DEFAULT_CODECS   "opus,pcmu,pcma"
#define KEFU_SDP_DEFAULT_TELEV_PT 101

/* Larger SDP bodies are refused as malformed; a real one is under 2 KiB. */
#define KEFU_SDP_MAX_SIZE 16384

struct kefu_sdp_config {
  /* The codecs we offer and accept, most preferred first: any of "opus",
   * "pcmu", "pcma", comma-separated, case-insensitive.  NULL: the default. */
  const char *codecs;
  /* telephone-event: 0 offers it at KEFU_SDP_DEFAULT_TELEV_PT, 96-127 at
   * that payload type, -1 neither offers nor accepts it.  Answering an
   * offer, we always take the peer's payload type. */
  int telev_pt;
  /* SRTP required: offers are RTP/SAVP with an a=crypto line (a fresh
   * key) for each suite of kefu-srtp.h, an offer or answer without SRTP
   * is refused (KEFU_SDP_ENOCODEC), and an SRTP offer is answered with
   * the first of its a=crypto lines we support, same tag and suite, our
   * own key.  false: plain RTP/AVP only, and an RTP/SAVP offer is
   * refused.  SDES keys are in the SDP: use it over SIP on TLS only. */
  bool srtp;
};

/* The negotiated voice codec.  Strings are borrowed from the media session
 * and valid until its next read_offer/read_answer. */
struct kefu_sdp_codec {
  const char *name;     /* "PCMU", "PCMA" or "opus" */
  int         pt;       /* the payload type to send with (the peer's number) */
  uint32_t    srate;    /* RTP clock rate: 8000, or 48000 for Opus */
  uint8_t     ch;       /* 1, or 2 for Opus (as RFC 7587 writes it) */
  const char *fmtp;     /* the peer's fmtp parameters for it, or NULL */
};

/* laddr: our RTP address and port, written in o=, c= and m=.  cfg may be
 * NULL for the defaults.  EINVAL for an unknown or repeated codec name, an
 * empty list or a telephone-event payload type out of range. */
int  kefu_sdp_media_alloc (struct kefu_sdp_media       **msp,
                           const struct sa              *laddr,
                           const struct kefu_sdp_config *cfg);

/* Offers list our codecs in preference order; after a negotiation, only
 * those agreed, at the agreed payload types (RFC 3264 section 8).  The
 * o= version increases by one when the body differs from the last SDP we
 * sent, and stays when it does not (a session refresh).  *mbp is new, its
 * position at the start.  EPROTO while an offer of the peer awaits our
 * answer. */
int  kefu_sdp_media_create_offer  (struct kefu_sdp_media *ms,
                                   struct mbuf          **mbp);
/* mb: the peer's SDP, from mb->pos to the end.  EPROTO without an offer
 * of ours outstanding. */
int  kefu_sdp_media_read_answer   (struct kefu_sdp_media *ms,
                                   struct mbuf           *mb);
/* The peer's offer.  The codec chosen is the first one in the OFFERER's
 * order that we support (RFC 3264 lets the answerer pick; phones keep the
 * offerer's order, and so do we); our own order only shapes our offers. */
int  kefu_sdp_media_read_offer    (struct kefu_sdp_media *ms,
                                   struct mbuf           *mb);
/* The answer to the offer just read: the common codecs in the offerer's
 * order at the offerer's payload types, telephone-event at THEIR payload
 * type, and the direction RFC 3264 allows (their sendonly -> our recvonly,
 * their inactive -> inactive, c=0.0.0.0 -> recvonly).  EPROTO without an
 * offer read. */
int  kefu_sdp_media_create_answer (struct kefu_sdp_media *ms,
                                   struct mbuf          **mbp);

/* What we want: KEFU_SDP_SENDRECV normally, KEFU_SDP_SENDONLY to hold
 * (KEFU_SDP_INACTIVE when there is nothing to play to the peer).  Takes
 * effect in the next offer or answer. */
void kefu_sdp_media_set_dir (struct kefu_sdp_media *ms,
                             enum kefu_sdp_dir      dir);
/* Hold (sendonly) or resume (sendrecv), and the re-INVITE offer for it.
 * If that re-INVITE fails, set the direction back with set_dir. */
int  kefu_sdp_media_hold    (struct kefu_sdp_media *ms,
                             bool                   hold,
                             struct mbuf          **offerp);

/* After a negotiation (ENOENT / NULL / -1 before one). */
int               kefu_sdp_media_codec      (const struct kefu_sdp_media *ms,
                                             struct kefu_sdp_codec       *codec);
/* The peer's RTP address and port; 0.0.0.0 when an old peer holds us. */
const struct sa  *kefu_sdp_media_raddr      (const struct kefu_sdp_media *ms);
/* The telephone-event payload type to send with (the peer's), or -1. */
int               kefu_sdp_media_telev_pt   (const struct kefu_sdp_media *ms);
/* The direction in our last SDP. */
enum kefu_sdp_dir kefu_sdp_media_ldir       (const struct kefu_sdp_media *ms);
/* The direction in the peer's last SDP, in its words (its "sendonly" is
 * KEFU_SDP_SENDONLY). */
enum kefu_sdp_dir kefu_sdp_media_rdir       (const struct kefu_sdp_media *ms);
/* What we actually do, from our side: SENDONLY means send, do not expect
 * to receive.  Both SDPs agree on it, and we never send to 0.0.0.0. */
enum kefu_sdp_dir kefu_sdp_media_dir        (const struct kefu_sdp_media *ms);
/* We hold the peer: our wanted direction is sendonly or inactive. */
bool              kefu_sdp_media_local_hold (const struct kefu_sdp_media *ms);
/* The peer holds us: its SDP says sendonly or inactive while we want to
 * send, or its connection address is 0.0.0.0 (RFC 2543 style). */
bool              kefu_sdp_media_remote_hold (const struct kefu_sdp_media *ms);

/* The SRTP keys of the last negotiation: 0 and @keys filled in (NULL
 * to ask only whether the stream is SRTP), or ENOENT for plain RTP or
 * before a negotiation.  Our key stays the same through re-INVITEs; the
 * peer's may change. */
int               kefu_sdp_media_srtp       (const struct kefu_sdp_media *ms,
                                             struct kefu_srtp_keys       *keys);

/* The SIP response for an error from read_offer: 200 for 0, 488 for
 * KEFU_SDP_ENOCODEC and ENOTSUP, 400 for malformed SDP, else 500. */
uint16_t kefu_sdp_sip_status (int err);
