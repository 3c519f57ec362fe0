/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * SRTP (RFC 3711) for one call's audio stream, keyed by SDES (RFC 4568):
 * the a=crypto lines kefu-sdp.c offers and answers, and the protection of
 * the stream's RTP and RTCP sockets (kefu-rtp-stream.c) with libre 1.1's
 * srtp, as udp helpers that encrypt what is sent and check and decrypt
 * what arrives.  A packet that fails its check (a wrong tag, a replay,
 * plain RTP from anyone) is dropped and counted; it never reaches the
 * jitter buffer.
 *
 * Suites: AES_CM_128_HMAC_SHA1_80 (preferred) and AES_CM_128_HMAC_SHA1_32,
 * one inline key each, without MKI.  SDES keys travel in the SDP, so they
 * are only worth anything over SIP on TLS: the callers see to that.
 *
 * libre style: errno returns, mem_zalloc'd opaque objects released with
 * mem_deref().  The key and crypto-line functions may run on any thread;
 * struct kefu_srtp on the phone thread (libre's loop) only.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct udp_sock;

enum kefu_srtp_suite {
  KEFU_SRTP_AES_CM_128_HMAC_SHA1_80,
  KEFU_SRTP_AES_CM_128_HMAC_SHA1_32,
};

#define KEFU_SRTP_N_SUITES 2

/* A master key (16 bytes) followed by its master salt (14 bytes): what an
 * SDES inline: parameter carries, base64 encoded in 40 characters. */
#define KEFU_SRTP_KEY_LEN 30

/* Room for the value of an a=crypto attribute we write. */
#define KEFU_SRTP_CRYPTO_MAX 96

/** One a=crypto line (RFC 4568 section 9.1), as far as we support it. */
struct kefu_srtp_crypto {
  uint32_t             tag;      /* 1-999999999 */
  enum kefu_srtp_suite suite;
  uint8_t              key[KEFU_SRTP_KEY_LEN];
};

/** What one stream is protected with: one suite both ways, our key for
 * what we send and the peer's for what we receive. */
struct kefu_srtp_keys {
  enum kefu_srtp_suite suite;
  uint8_t              tx_key[KEFU_SRTP_KEY_LEN];
  uint8_t              rx_key[KEFU_SRTP_KEY_LEN];
};

/* "AES_CM_128_HMAC_SHA1_80", ...; NULL for a value out of range. */
const char *kefu_srtp_suite_name      (enum kefu_srtp_suite suite);
/* The suite named by @name[0..len), exactly as RFC 4568 spells it. */
bool        kefu_srtp_suite_from_name (const char           *name,
                                       size_t                len,
                                       enum kefu_srtp_suite *suite);

/* A new random master key and salt, from the kernel's random source
 * (getrandom).  An errno if it cannot give one: never a weak key. */
int kefu_srtp_key_generate (uint8_t key[KEFU_SRTP_KEY_LEN]);

/* The value of an a=crypto attribute (without "crypto:"), for instance
 * "1 AES_CM_128_HMAC_SHA1_80 inline:<base64 of key and salt>", written to
 * @buf of @size bytes (KEFU_SRTP_CRYPTO_MAX will do).  EINVAL for a tag or
 * suite out of range, EOVERFLOW when it does not fit. */
int kefu_srtp_crypto_encode (const struct kefu_srtp_crypto *crypto,
                             char                          *buf,
                             size_t                         size);
/* Reads an a=crypto value of @len bytes.  EBADMSG when it is not one;
 * ENOTSUP for one we cannot use (another suite, an MKI, several keys, a
 * session parameter): an offerer may list others, so the caller moves on
 * to its next line.  A key lifetime is accepted and not enforced: a call
 * does not come near the 2^31 packets of the default. */
int kefu_srtp_crypto_decode (const char              *value,
                             size_t                   len,
                             struct kefu_srtp_crypto *crypto);

struct kefu_srtp;

/* Protects @rtp and, unless NULL, @rtcp from now on: until keys are set,
 * nothing is sent on them and everything received is dropped, so a
 * stream meant to be secure never goes out plain.  Free the protection
 * (mem_deref) before the sockets. */
int  kefu_srtp_alloc    (struct kefu_srtp **srtpp,
                         struct udp_sock   *rtp,
                         struct udp_sock   *rtcp);
/* The keys negotiated (kefu_sdp_media_srtp()).  The same keys again
 * change nothing (a re-INVITE that kept them); new ones start new SRTP
 * contexts for the direction whose key changed. */
int  kefu_srtp_set_keys (struct kefu_srtp            *srtp,
                         const struct kefu_srtp_keys *keys);
/* Keys are set: what is sent and played is SRTP. */
bool kefu_srtp_active   (const struct kefu_srtp *srtp);
/* Packets received and dropped: failed authentication, replayed, or not
 * SRTP at all (RTP and RTCP together). */
uint64_t kefu_srtp_dropped (const struct kefu_srtp *srtp);
