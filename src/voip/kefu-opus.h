/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Opus (RFC 6716) for calls, on libopus, carried as RFC 7587 says: one
 * Opus packet per RTP payload, the RTP clock at 48 kHz whatever band is
 * coded, and a peer free to send stereo.  The softphone's RTP stream and
 * the switch's legs share it.
 *
 * Both sides work on 16-bit mono PCM at the rate they were made for
 * (8000, 12000, 16000, 24000 or 48000 Hz; calls use 8000, the rate of
 * every other audio path here).  The encoder is set up for speech on a
 * lossy network (OPUS_APPLICATION_VOIP, inband FEC, no DTX so that RTP
 * keeps flowing); the decoder folds a stereo packet down to mono and
 * conceals lost packets, by extrapolation or, when the packet after the
 * loss is at hand, from the FEC data it carries.
 *
 * libre-style: opaque structs, `**` allocators, errno return values.
 * Not thread-safe: one encoder or decoder per stream, used by its thread.
 */
#pragma once

#include <glib.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

G_BEGIN_DECLS

enum {
  KEFU_OPUS_RTP_CLOCK       = 48000,  /* RFC 7587 §4.1, whatever the coded band */
  KEFU_OPUS_MAX_PACKET      = 1275,   /* RFC 6716 §3.2.1: one frame, 20 ms */
  KEFU_OPUS_MAX_DURATION_MS = 120,    /* RFC 6716 §3.2.5: the longest packet */
  KEFU_OPUS_DEFAULT_BITRATE = 20000,  /* bit/s */
  KEFU_OPUS_DEFAULT_LOSS    = 10,     /* expected loss %, what inband FEC is sized for */
};

struct kefu_opus_encoder_config {
  uint32_t bitrate;       /* bit/s, 0 = KEFU_OPUS_DEFAULT_BITRATE */
  uint32_t loss_percent;  /* 0 = KEFU_OPUS_DEFAULT_LOSS; no FEC is coded without it */
  uint32_t complexity;    /* 0-10, 0 = libopus' default */
  bool     no_fec;        /* the peer said useinbandfec=0 */
};

struct kefu_opus_encoder;
struct kefu_opus_decoder;

/* rate: of the PCM given to encode; cfg may be NULL for the defaults.
 * EINVAL: a rate libopus does not take, or a bad setting. */
int  kefu_opus_encoder_alloc (struct kefu_opus_encoder **encp, uint32_t rate,
                              const struct kefu_opus_encoder_config *cfg);
void kefu_opus_encoder_free (struct kefu_opus_encoder *enc);

/* Codes n_samples of PCM (2.5, 5, 10, 20, 40 or 60 ms of it) into one
 * packet of *len bytes, at most size.  EINVAL: a wrong length; EIO:
 * libopus failed (logged). */
int  kefu_opus_encode (struct kefu_opus_encoder *enc, const int16_t *pcm, size_t n_samples,
                       uint8_t *packet, size_t size, size_t *len);

/* rate: of the PCM the decoder gives back. */
int  kefu_opus_decoder_alloc (struct kefu_opus_decoder **decp, uint32_t rate);
void kefu_opus_decoder_free (struct kefu_opus_decoder *dec);

/* The number of samples, at the decoder's rate, a received packet holds;
 * 0 for one that is not a valid Opus packet. */
size_t kefu_opus_packet_samples (const struct kefu_opus_decoder *dec, const uint8_t *packet,
                                 size_t len);

/* Decodes one received packet into pcm (room for max_samples; a stereo
 * packet comes out mono).  *n_samples: how many it held.  EBADMSG: not
 * a valid packet (nothing was decoded: conceal instead); ENOSPC: longer
 * than max_samples. */
int  kefu_opus_decode (struct kefu_opus_decoder *dec, const uint8_t *packet, size_t len,
                       int16_t *pcm, size_t max_samples, size_t *n_samples);

/* Fills n_samples (a multiple of 2.5 ms) for packets that never came.
 * next: the packet received after the loss, if the caller has it: its FEC
 * data, when it carries some, rebuilds the last n_samples of the loss
 * better than extrapolation; NULL extrapolates from what was played. */
int  kefu_opus_conceal (struct kefu_opus_decoder *dec, const uint8_t *next, size_t next_len,
                        int16_t *pcm, size_t n_samples);

/* A new sender (another SSRC, a re-INVITE): forget the old one's state. */
void kefu_opus_decoder_reset (struct kefu_opus_decoder *dec);

G_END_DECLS
