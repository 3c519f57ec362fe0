/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * G.711 companding (ITU-T G.711, 11/88): μ-law (PCMU) and A-law (PCMA)
 * between 8-bit codes and 16-bit linear PCM, for the RTP media path, the
 * WAV recorder and the in-band DTMF/fax paths.  Pure functions, no state,
 * callable from any thread.
 *
 * Bit-exact with the reference behaviour of the standard (the G.191 STL
 * implementation of it): μ-law works on the top 14 bits of the sample, A-law
 * on the top 13; negative samples are quantised by their one's complement,
 * so -1 encodes like -0 (0x7F μ-law, 0x55 A-law).  Decoding gives the
 * middle of each quantisation interval, scaled to 16 bits: μ-law spans
 * ±32124, A-law ±32256, and A-law never decodes to 0 (its smallest values
 * are ±8).
 *
 * Every code decodes and re-encodes to itself, except μ-law's negative zero
 * 0x7F: it decodes to 0, like 0xFF, and 0 encodes to 0xFF.
 */
#pragma once

#include <glib.h>

#include <stddef.h>
#include <stdint.h>

G_BEGIN_DECLS

enum {
  KEFU_G711_ULAW_SILENCE = 0xFF,  /* what 0 encodes to */
  KEFU_G711_ALAW_SILENCE = 0xD5,
  KEFU_G711_ULAW_MAX     = 32124, /* largest magnitude a code decodes to */
  KEFU_G711_ALAW_MAX     = 32256,
};

uint8_t kefu_g711_linear_to_ulaw (int16_t sample);
uint8_t kefu_g711_linear_to_alaw (int16_t sample);
int16_t kefu_g711_ulaw_to_linear (uint8_t code);
int16_t kefu_g711_alaw_to_linear (uint8_t code);

/* n samples <-> n codes; the buffers must not overlap. */
void kefu_g711_ulaw_encode (uint8_t *dst, const int16_t *src, size_t n);
void kefu_g711_alaw_encode (uint8_t *dst, const int16_t *src, size_t n);
void kefu_g711_ulaw_decode (int16_t *dst, const uint8_t *src, size_t n);
void kefu_g711_alaw_decode (int16_t *dst, const uint8_t *src, size_t n);

G_END_DECLS
