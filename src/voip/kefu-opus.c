/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The settings, and why:
 *  - OPUS_APPLICATION_VOIP and OPUS_SIGNAL_VOICE: calls carry speech; the
 *    VoIP mode favours intelligibility and keeps SILK for it.
 *  - Bitrate: at 8 kHz input Opus codes narrowband, where SILK is
 *    transparent for speech well below 20 kbit/s; the margin pays for the
 *    FEC copy of each frame.
 *  - Inband FEC with an expected loss: SILK then repeats a coarse copy of
 *    each frame (LBRR) in the next packet, which the receiver uses when
 *    the first one is lost.  libopus codes none with a loss of 0 %.
 *  - DTX off: a silent caller still sends packets, so the peer's jitter
 *    buffer, RTCP and NAT bindings see a live stream (and mute sends
 *    silence, not nothing).
 */
#define G_LOG_DOMAIN "KefuOpus"

#include "config.h"

#include "kefu-opus.h"

#include <errno.h>
#include <opus.h>
#include <string.h>

struct kefu_opus_encoder {
  OpusEncoder *st;
  uint32_t     rate;
};

struct kefu_opus_decoder {
  OpusDecoder *st;
  uint32_t     rate;
};

static bool
rate_is_valid (uint32_t rate)
{
  return rate == 8000 || rate == 12000 || rate == 16000 || rate == 24000 || rate == 48000;
}

int
kefu_opus_encoder_alloc (struct kefu_opus_encoder **encp, uint32_t rate,
                         const struct kefu_opus_encoder_config *cfg)
{
  struct kefu_opus_encoder *enc;
  uint32_t bitrate = cfg && cfg->bitrate ? cfg->bitrate : KEFU_OPUS_DEFAULT_BITRATE;
  uint32_t loss = cfg && cfg->loss_percent ? cfg->loss_percent : KEFU_OPUS_DEFAULT_LOSS;
  bool fec = !(cfg && cfg->no_fec);
  int oerr = OPUS_OK;

  if (encp == NULL || !rate_is_valid (rate))
    return EINVAL;
  /* RFC 6716 §2.1.1: 6 to 510 kbit/s */
  if (bitrate < 6000 || bitrate > 510000 || loss > 100 || (cfg && cfg->complexity > 10))
    return EINVAL;

  enc = g_new0 (struct kefu_opus_encoder, 1);
  enc->rate = rate;
  enc->st = opus_encoder_create ((opus_int32) rate, 1, OPUS_APPLICATION_VOIP, &oerr);
  if (oerr != OPUS_OK || enc->st == NULL)
    {
      g_message ("opus encoder at %u Hz: %s", rate, opus_strerror (oerr));
      g_free (enc);
      return oerr == OPUS_ALLOC_FAIL ? ENOMEM : EINVAL;
    }

  (void) opus_encoder_ctl (enc->st, OPUS_SET_SIGNAL (OPUS_SIGNAL_VOICE));
  (void) opus_encoder_ctl (enc->st, OPUS_SET_BITRATE ((opus_int32) bitrate));
  (void) opus_encoder_ctl (enc->st, OPUS_SET_INBAND_FEC (fec ? 1 : 0));
  (void) opus_encoder_ctl (enc->st, OPUS_SET_PACKET_LOSS_PERC (fec ? (opus_int32) loss : 0));
  (void) opus_encoder_ctl (enc->st, OPUS_SET_DTX (0));
  if (cfg && cfg->complexity)
    (void) opus_encoder_ctl (enc->st, OPUS_SET_COMPLEXITY ((opus_int32) cfg->complexity));

  *encp = enc;
  return 0;
}

void
kefu_opus_encoder_free (struct kefu_opus_encoder *enc)
{
  if (enc == NULL)
    return;
  opus_encoder_destroy (enc->st);
  g_free (enc);
}

int
kefu_opus_encode (struct kefu_opus_encoder *enc, const int16_t *pcm, size_t n_samples,
                  uint8_t *packet, size_t size, size_t *len)
{
  opus_int32 n;

  if (enc == NULL || pcm == NULL || packet == NULL || len == NULL || size == 0)
    return EINVAL;
  /* 2.5 ms steps up to 60 ms */
  if (n_samples == 0 || (n_samples * 400) % enc->rate != 0
      || n_samples * 1000 > (size_t) enc->rate * 60)
    return EINVAL;

  n = opus_encode (enc->st, pcm, (int) n_samples, packet, (opus_int32) MIN (size, G_MAXINT32));
  if (n < 0)
    {
      g_debug ("opus_encode: %s", opus_strerror (n));
      return n == OPUS_BAD_ARG ? EINVAL : EIO;
    }

  *len = (size_t) n;
  return 0;
}

int
kefu_opus_decoder_alloc (struct kefu_opus_decoder **decp, uint32_t rate)
{
  struct kefu_opus_decoder *dec;
  int oerr = OPUS_OK;

  if (decp == NULL || !rate_is_valid (rate))
    return EINVAL;

  dec = g_new0 (struct kefu_opus_decoder, 1);
  dec->rate = rate;
  /* one channel: libopus mixes a stereo packet down itself */
  dec->st = opus_decoder_create ((opus_int32) rate, 1, &oerr);
  if (oerr != OPUS_OK || dec->st == NULL)
    {
      g_message ("opus decoder at %u Hz: %s", rate, opus_strerror (oerr));
      g_free (dec);
      return oerr == OPUS_ALLOC_FAIL ? ENOMEM : EINVAL;
    }

  *decp = dec;
  return 0;
}

void
kefu_opus_decoder_free (struct kefu_opus_decoder *dec)
{
  if (dec == NULL)
    return;
  opus_decoder_destroy (dec->st);
  g_free (dec);
}

size_t
kefu_opus_packet_samples (const struct kefu_opus_decoder *dec, const uint8_t *packet, size_t len)
{
  int n;

  if (dec == NULL || packet == NULL || len == 0 || len > G_MAXINT32)
    return 0;

  n = opus_packet_get_nb_samples (packet, (opus_int32) len, (opus_int32) dec->rate);
  if (n <= 0 || (size_t) n * 1000 > (size_t) dec->rate * KEFU_OPUS_MAX_DURATION_MS)
    return 0;
  return (size_t) n;
}

int
kefu_opus_decode (struct kefu_opus_decoder *dec, const uint8_t *packet, size_t len,
                  int16_t *pcm, size_t max_samples, size_t *n_samples)
{
  size_t want;
  int n;

  if (dec == NULL || pcm == NULL || n_samples == NULL)
    return EINVAL;

  /* Checked first: libopus would decode what fits and drop the rest. */
  want = kefu_opus_packet_samples (dec, packet, len);
  if (want == 0)
    return EBADMSG;
  if (want > max_samples)
    return ENOSPC;

  n = opus_decode (dec->st, packet, (opus_int32) len, pcm, (int) want, 0);
  if (n < 0)
    {
      g_debug ("opus_decode: %s", opus_strerror (n));
      return EBADMSG;
    }

  *n_samples = (size_t) n;
  return 0;
}

int
kefu_opus_conceal (struct kefu_opus_decoder *dec, const uint8_t *next, size_t next_len,
                   int16_t *pcm, size_t n_samples)
{
  int n = -1;

  if (dec == NULL || pcm == NULL || (next == NULL && next_len > 0))
    return EINVAL;
  if (n_samples == 0 || (n_samples * 400) % dec->rate != 0
      || n_samples * 1000 > (size_t) dec->rate * KEFU_OPUS_MAX_DURATION_MS)
    return EINVAL;

  /* decode_fec = 1 rebuilds the frame before `next` from its LBRR data;
   * without any, libopus falls back to extrapolation itself. */
  if (next != NULL && kefu_opus_packet_samples (dec, next, next_len) > 0)
    n = opus_decode (dec->st, next, (opus_int32) next_len, pcm, (int) n_samples, 1);
  if (n < 0)
    n = opus_decode (dec->st, NULL, 0, pcm, (int) n_samples, 0);
  if (n < 0)
    {
      g_debug ("opus concealment: %s", opus_strerror (n));
      memset (pcm, 0, n_samples * sizeof *pcm);
      return EIO;
    }
  return 0;
}

void
kefu_opus_decoder_reset (struct kefu_opus_decoder *dec)
{
  if (dec != NULL)
    (void) opus_decoder_ctl (dec->st, OPUS_RESET_STATE);
}
