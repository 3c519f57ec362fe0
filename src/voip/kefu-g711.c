/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Encoding is computed (a segment search over a few bits), decoding is a
 * table lookup.  The tables hold, for each code, the middle of its interval
 * as G.711 defines it:
 *   μ-law: code inverted, then  sign | exponent e (3 bits) | mantissa m (4);
 *          magnitude = ((2m + 33) << (e + 2)) - 132      (16-bit scale)
 *   A-law: code XOR 0x55, then  sign | e | m, sign bit set = positive;
 *          magnitude = 16m + 8             for e = 0
 *                    = (16m + 264) << (e - 1)  otherwise
 */
#define G_LOG_DOMAIN "KefuG711"

#include "config.h"

#include "kefu-g711.h"

/* Generated from the formulas above; test-media checks them code by code. */
static const int16_t ulaw_to_linear[256] = {
  -32124, -31100, -30076, -29052, -28028, -27004, -25980, -24956,
  -23932, -22908, -21884, -20860, -19836, -18812, -17788, -16764,
  -15996, -15484, -14972, -14460, -13948, -13436, -12924, -12412,
  -11900, -11388, -10876, -10364,  -9852,  -9340,  -8828,  -8316,
   -7932,  -7676,  -7420,  -7164,  -6908,  -6652,  -6396,  -6140,
   -5884,  -5628,  -5372,  -5116,  -4860,  -4604,  -4348,  -4092,
   -3900,  -3772,  -3644,  -3516,  -3388,  -3260,  -3132,  -3004,
   -2876,  -2748,  -2620,  -2492,  -2364,  -2236,  -2108,  -1980,
   -1884,  -1820,  -1756,  -1692,  -1628,  -1564,  -1500,  -1436,
   -1372,  -1308,  -1244,  -1180,  -1116,  -1052,   -988,   -924,
    -876,   -844,   -812,   -780,   -748,   -716,   -684,   -652,
    -620,   -588,   -556,   -524,   -492,   -460,   -428,   -396,
    -372,   -356,   -340,   -324,   -308,   -292,   -276,   -260,
    -244,   -228,   -212,   -196,   -180,   -164,   -148,   -132,
    -120,   -112,   -104,    -96,    -88,    -80,    -72,    -64,
     -56,    -48,    -40,    -32,    -24,    -16,     -8,      0,
   32124,  31100,  30076,  29052,  28028,  27004,  25980,  24956,
   23932,  22908,  21884,  20860,  19836,  18812,  17788,  16764,
   15996,  15484,  14972,  14460,  13948,  13436,  12924,  12412,
   11900,  11388,  10876,  10364,   9852,   9340,   8828,   8316,
    7932,   7676,   7420,   7164,   6908,   6652,   6396,   6140,
    5884,   5628,   5372,   5116,   4860,   4604,   4348,   4092,
    3900,   3772,   3644,   3516,   3388,   3260,   3132,   3004,
    2876,   2748,   2620,   2492,   2364,   2236,   2108,   1980,
    1884,   1820,   1756,   1692,   1628,   1564,   1500,   1436,
    1372,   1308,   1244,   1180,   1116,   1052,    988,    924,
     876,    844,    812,    780,    748,    716,    684,    652,
     620,    588,    556,    524,    492,    460,    428,    396,
     372,    356,    340,    324,    308,    292,    276,    260,
     244,    228,    212,    196,    180,    164,    148,    132,
     120,    112,    104,     96,     88,     80,     72,     64,
      56,     48,     40,     32,     24,     16,      8,      0,
};
static const int16_t alaw_to_linear[256] = {
   -5504,  -5248,  -6016,  -5760,  -4480,  -4224,  -4992,  -4736,
   -7552,  -7296,  -8064,  -7808,  -6528,  -6272,  -7040,  -6784,
   -2752,  -2624,  -3008,  -2880,  -2240,  -2112,  -2496,  -2368,
   -3776,  -3648,  -4032,  -3904,  -3264,  -3136,  -3520,  -3392,
  -22016, -20992, -24064, -23040, -17920, -16896, -19968, -18944,
  -30208, -29184, -32256, -31232, -26112, -25088, -28160, -27136,
  -11008, -10496, -12032, -11520,  -8960,  -8448,  -9984,  -9472,
  -15104, -14592, -16128, -15616, -13056, -12544, -14080, -13568,
    -344,   -328,   -376,   -360,   -280,   -264,   -312,   -296,
    -472,   -456,   -504,   -488,   -408,   -392,   -440,   -424,
     -88,    -72,   -120,   -104,    -24,     -8,    -56,    -40,
    -216,   -200,   -248,   -232,   -152,   -136,   -184,   -168,
   -1376,  -1312,  -1504,  -1440,  -1120,  -1056,  -1248,  -1184,
   -1888,  -1824,  -2016,  -1952,  -1632,  -1568,  -1760,  -1696,
    -688,   -656,   -752,   -720,   -560,   -528,   -624,   -592,
    -944,   -912,  -1008,   -976,   -816,   -784,   -880,   -848,
    5504,   5248,   6016,   5760,   4480,   4224,   4992,   4736,
    7552,   7296,   8064,   7808,   6528,   6272,   7040,   6784,
    2752,   2624,   3008,   2880,   2240,   2112,   2496,   2368,
    3776,   3648,   4032,   3904,   3264,   3136,   3520,   3392,
   22016,  20992,  24064,  23040,  17920,  16896,  19968,  18944,
   30208,  29184,  32256,  31232,  26112,  25088,  28160,  27136,
   11008,  10496,  12032,  11520,   8960,   8448,   9984,   9472,
   15104,  14592,  16128,  15616,  13056,  12544,  14080,  13568,
     344,    328,    376,    360,    280,    264,    312,    296,
     472,    456,    504,    488,    408,    392,    440,    424,
      88,     72,    120,    104,     24,      8,     56,     40,
     216,    200,    248,    232,    152,    136,    184,    168,
    1376,   1312,   1504,   1440,   1120,   1056,   1248,   1184,
    1888,   1824,   2016,   1952,   1632,   1568,   1760,   1696,
     688,    656,    752,    720,    560,    528,    624,    592,
     944,    912,   1008,    976,    816,    784,    880,    848,
};

/* μ-law: 14-bit magnitude, biased by 33 so that the segments start at
 * powers of two; the segment is the position of the highest set bit. */
uint8_t
kefu_g711_linear_to_ulaw (int16_t sample)
{
  int mag;
  int seg;
  uint8_t code;

  /* one's complement for negatives: the reference treats -1 as -0 */
  mag = sample < 0 ? (~sample) >> 2 : sample >> 2;
  mag += 33;
  if (mag > 0x1FFF)
    mag = 0x1FFF;

  /* 33..63 is segment 0, 64..127 segment 1, ..., 4096..8191 segment 7 */
  seg = 0;
  for (int v = mag >> 6; v != 0; v >>= 1)
    seg++;

  code = (uint8_t) ((seg << 4) | ((mag >> (seg + 1)) & 0x0F));
  code = (uint8_t) ~code;  /* transmitted inverted */
  if (sample < 0)
    code &= 0x7F;          /* after inversion a clear sign bit means negative */
  return code;
}

/* A-law: 12-bit magnitude; segment 0 and 1 share one step size (the
 * linear part of the 13-segment curve), then each segment doubles it. */
uint8_t
kefu_g711_linear_to_alaw (int16_t sample)
{
  int mag;
  int seg;
  uint8_t code;

  mag = sample < 0 ? (~sample) >> 4 : sample >> 4;

  if (mag < 16)
    {
      seg = 0;
    }
  else
    {
      seg = 1;
      while (mag > 31)
        {
          mag >>= 1;
          seg++;
        }
      mag -= 16;
    }

  code = (uint8_t) ((seg << 4) | mag);
  if (sample >= 0)
    code |= 0x80;
  return code ^ 0x55;  /* even bits inverted on the line */
}

int16_t
kefu_g711_ulaw_to_linear (uint8_t code)
{
  return ulaw_to_linear[code];
}

int16_t
kefu_g711_alaw_to_linear (uint8_t code)
{
  return alaw_to_linear[code];
}

void
kefu_g711_ulaw_encode (uint8_t *dst, const int16_t *src, size_t n)
{
  for (size_t i = 0; i < n; i++)
    dst[i] = kefu_g711_linear_to_ulaw (src[i]);
}

void
kefu_g711_alaw_encode (uint8_t *dst, const int16_t *src, size_t n)
{
  for (size_t i = 0; i < n; i++)
    dst[i] = kefu_g711_linear_to_alaw (src[i]);
}

void
kefu_g711_ulaw_decode (int16_t *dst, const uint8_t *src, size_t n)
{
  for (size_t i = 0; i < n; i++)
    dst[i] = ulaw_to_linear[src[i]];
}

void
kefu_g711_alaw_decode (int16_t *dst, const uint8_t *src, size_t n)
{
  for (size_t i = 0; i < n; i++)
    dst[i] = alaw_to_linear[src[i]];
}
