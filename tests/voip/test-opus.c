/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Opus as calls use it (kefu-opus.h): what goes in at 8 kHz comes out at
 * 8 kHz, a tone keeps its pitch and level, lost packets are filled with
 * something that sounds like what was lost (extrapolated, or rebuilt from
 * the next packet's FEC data), and a peer's 48 kHz stereo packets come
 * out as our 8 kHz mono.  Levels are measured with a Goertzel filter at
 * the tone's frequency.
 */
#include "config.h"

#include "kefu-opus.h"

#include <glib.h>

#include <errno.h>
#include <math.h>
#include <opus.h>
#include <string.h>

#define RATE      8000
#define FRAME     160
#define TONE_HZ   1000.0
#define AMPLITUDE 8000.0

/* The amplitude of the freq_hz component of x (a sine of amplitude A
 * gives A when n spans whole periods). */
static double
tone_amplitude (const int16_t *x, size_t n, unsigned rate, double freq_hz)
{
  double w = 2.0 * G_PI * freq_hz / rate;
  double c = 2.0 * cos (w);
  double s1 = 0, s2 = 0;

  for (size_t i = 0; i < n; i++)
    {
      double s0 = x[i] + c * s1 - s2;

      s2 = s1;
      s1 = s0;
    }
  return 2.0 * sqrt (s1 * s1 + s2 * s2 - c * s1 * s2) / (double) n;
}

static double
rms (const int16_t *x, size_t n)
{
  double sum = 0;

  for (size_t i = 0; i < n; i++)
    sum += (double) x[i] * x[i];
  return n ? sqrt (sum / (double) n) : 0.0;
}

/* Of all the energy in x, the share of the freq_hz sine (1: a pure tone). */
static double
tone_share (const int16_t *x, size_t n, unsigned rate, double freq_hz)
{
  double a = tone_amplitude (x, n, rate, freq_hz);
  double r = rms (x, n);

  return r > 0 ? (a * a / 2.0) / (r * r) : 0.0;
}

static int16_t *
sine (size_t n, unsigned rate, double freq_hz, double amplitude)
{
  int16_t *x = g_new (int16_t, n);

  for (size_t i = 0; i < n; i++)
    x[i] = (int16_t) lrint (amplitude * sin (2.0 * G_PI * freq_hz * (double) i / rate));
  return x;
}

static void
test_round_trip_tone (void)
{
  struct kefu_opus_encoder *enc = NULL;
  struct kefu_opus_decoder *dec = NULL;
  const size_t frames = 100;   /* 2 s */
  g_autofree int16_t *in = sine (frames * FRAME, RATE, TONE_HZ, AMPLITUDE);
  g_autofree int16_t *out = g_new0 (int16_t, frames * FRAME);
  size_t bytes = 0;
  double a, share;

  g_assert_cmpint (kefu_opus_encoder_alloc (&enc, RATE, NULL), ==, 0);
  g_assert_cmpint (kefu_opus_decoder_alloc (&dec, RATE), ==, 0);

  for (size_t f = 0; f < frames; f++)
    {
      uint8_t packet[KEFU_OPUS_MAX_PACKET];
      size_t len = 0, n = 0;

      g_assert_cmpint (kefu_opus_encode (enc, in + f * FRAME, FRAME, packet, sizeof packet, &len),
                       ==, 0);
      g_assert_cmpuint (len, >, 0);
      bytes += len;
      g_assert_cmpuint (kefu_opus_packet_samples (dec, packet, len), ==, FRAME);
      g_assert_cmpint (kefu_opus_decode (dec, packet, len, out + f * FRAME, FRAME, &n), ==, 0);
      g_assert_cmpuint (n, ==, FRAME);
    }

  /* after the first 200 ms, which the coder needs to settle */
  a = tone_amplitude (out + 10 * FRAME, (frames - 10) * FRAME, RATE, TONE_HZ);
  share = tone_share (out + 10 * FRAME, (frames - 10) * FRAME, RATE, TONE_HZ);
  g_test_message ("1 kHz in at %.0f, out at %.0f (%.1f dB), %.3f of the energy; %.1f kbit/s",
                  AMPLITUDE, a, 20 * log10 (a / AMPLITUDE), share,
                  bytes * 8.0 / (frames * 0.02) / 1000.0);
  g_assert_cmpfloat (fabs (20 * log10 (a / AMPLITUDE)), <, 2.0);
  g_assert_cmpfloat (share, >, 0.95);
  /* VoIP settings: no more than the configured rate, on average */
  g_assert_cmpfloat (bytes * 8.0 / (frames * 0.02), <=, KEFU_OPUS_DEFAULT_BITRATE * 1.1);

  kefu_opus_encoder_free (enc);
  kefu_opus_decoder_free (dec);
}

/* Every 5th packet lost, and then five in a row: the gaps are filled with
 * the tone (fading when the loss goes on), never with garbage. */
static void
test_conceal (void)
{
  struct kefu_opus_encoder *enc = NULL;
  struct kefu_opus_decoder *dec = NULL;
  const size_t frames = 100;
  g_autofree int16_t *in = sine (frames * FRAME, RATE, TONE_HZ, AMPLITUDE);
  int16_t out[FRAME];
  unsigned concealed = 0;

  g_assert_cmpint (kefu_opus_encoder_alloc (&enc, RATE, NULL), ==, 0);
  g_assert_cmpint (kefu_opus_decoder_alloc (&dec, RATE), ==, 0);

  for (size_t f = 0; f < frames; f++)
    {
      uint8_t packet[KEFU_OPUS_MAX_PACKET];
      size_t len = 0, n = 0;
      bool lost = (f >= 20 && f < 60 && f % 5 == 0) || (f >= 70 && f < 75);

      g_assert_cmpint (kefu_opus_encode (enc, in + f * FRAME, FRAME, packet, sizeof packet, &len),
                       ==, 0);
      if (!lost)
        {
          g_assert_cmpint (kefu_opus_decode (dec, packet, len, out, FRAME, &n), ==, 0);
          continue;
        }

      memset (out, 0x55, sizeof out);
      g_assert_cmpint (kefu_opus_conceal (dec, NULL, 0, out, FRAME), ==, 0);
      concealed++;
      if (f < 60)
        {
          /* a single loss in a steady tone: the tone goes on */
          double a = tone_amplitude (out, FRAME, RATE, TONE_HZ);

          g_assert_cmpfloat (a, >, AMPLITUDE / 4);
          g_assert_cmpfloat (a, <, AMPLITUDE * 1.5);
        }
      g_assert_cmpfloat (rms (out, FRAME), <, AMPLITUDE);
    }
  g_assert_cmpuint (concealed, ==, 8 + 5);

  /* lengths that are not whole 2.5 ms steps are refused */
  g_assert_cmpint (kefu_opus_conceal (dec, NULL, 0, out, 150), ==, EINVAL);

  kefu_opus_encoder_free (enc);
  kefu_opus_decoder_free (dec);
}

/* Of the difference between x and the reference ref, in dB below ref. */
static double
snr_db (const int16_t *x, const int16_t *ref, size_t n)
{
  double sig = 0, err = 0;

  for (size_t i = 0; i < n; i++)
    {
      sig += (double) ref[i] * ref[i];
      err += ((double) x[i] - ref[i]) * ((double) x[i] - ref[i]);
    }
  return 10 * log10 (sig / MAX (err, 1.0));
}

/* With inband FEC the packet after a loss carries a copy of the lost
 * frame: rebuilt from it, the lost frame is the tone at its level, and
 * closer to what the packet held than extrapolation gets.  The signal is
 * a tone gliding in pitch, which extrapolation cannot simply continue. */
static void
test_fec (void)
{
  struct kefu_opus_encoder_config cfg = { .loss_percent = 20 };
  struct kefu_opus_encoder *enc = NULL;
  struct kefu_opus_decoder *ref = NULL, *fec = NULL, *plc = NULL;
  enum { FRAMES = 60, LOST = 30 };
  g_autofree int16_t *in = g_new (int16_t, FRAMES * FRAME);
  uint8_t packets[FRAMES][KEFU_OPUS_MAX_PACKET];
  size_t lens[FRAMES];
  int16_t want[FRAME], got_fec[FRAME], got_plc[FRAME];
  double phase = 0, a, snr_fec, snr_plc;
  size_t n;

  for (size_t i = 0; i < FRAMES * FRAME; i++)
    {
      /* 500 Hz up to 1500 Hz and back, over 300 ms */
      double f = 1000.0 + 500.0 * sin (2.0 * G_PI * (double) i / 2400.0);

      phase += 2.0 * G_PI * f / RATE;
      in[i] = (int16_t) lrint (AMPLITUDE * sin (phase));
    }

  g_assert_cmpint (kefu_opus_encoder_alloc (&enc, RATE, &cfg), ==, 0);
  g_assert_cmpint (kefu_opus_decoder_alloc (&ref, RATE), ==, 0);
  g_assert_cmpint (kefu_opus_decoder_alloc (&fec, RATE), ==, 0);
  g_assert_cmpint (kefu_opus_decoder_alloc (&plc, RATE), ==, 0);
  for (size_t f = 0; f < FRAMES; f++)
    g_assert_cmpint (kefu_opus_encode (enc, in + f * FRAME, FRAME, packets[f], sizeof packets[f],
                                       &lens[f]), ==, 0);

  for (size_t f = 0; f <= LOST; f++)
    {
      g_assert_cmpint (kefu_opus_decode (ref, packets[f], lens[f], want, FRAME, &n), ==, 0);
      if (f == LOST)
        break;
      g_assert_cmpint (kefu_opus_decode (fec, packets[f], lens[f], got_fec, FRAME, &n), ==, 0);
      g_assert_cmpint (kefu_opus_decode (plc, packets[f], lens[f], got_plc, FRAME, &n), ==, 0);
    }
  g_assert_cmpint (kefu_opus_conceal (fec, packets[LOST + 1], lens[LOST + 1], got_fec, FRAME), ==, 0);
  g_assert_cmpint (kefu_opus_conceal (plc, NULL, 0, got_plc, FRAME), ==, 0);

  a = rms (got_fec, FRAME) * G_SQRT2;
  snr_fec = snr_db (got_fec, want, FRAME);
  snr_plc = snr_db (got_plc, want, FRAME);
  g_test_message ("lost frame: from FEC %.1f dB SNR (level %.0f), extrapolated %.1f dB",
                  snr_fec, a, snr_plc);
  g_assert_cmpfloat (fabs (20 * log10 (a / AMPLITUDE)), <, 3.0);
  g_assert_cmpfloat (snr_fec, >, snr_plc + 3.0);

  /* and the stream goes on from the packet that brought it */
  g_assert_cmpint (kefu_opus_decode (fec, packets[LOST + 1], lens[LOST + 1], got_fec, FRAME, &n),
                   ==, 0);
  g_assert_cmpuint (n, ==, FRAME);

  kefu_opus_encoder_free (enc);
  kefu_opus_decoder_free (ref);
  kefu_opus_decoder_free (fec);
  kefu_opus_decoder_free (plc);
}

/* A peer coding 48 kHz stereo (a browser, baresip): 1 kHz on the left,
 * 600 Hz on the right, in 20 and 40 ms packets.  We hear both, in mono at
 * 8 kHz, and a 40 ms packet decodes to 320 samples. */
static void
test_stereo_peer (void)
{
  struct kefu_opus_decoder *dec = NULL;
  OpusEncoder *peer;
  int oerr = 0;
  const unsigned peer_rate = 48000;
  const size_t peer_frames = 2 * peer_rate;   /* 2 s */
  g_autofree int16_t *left = sine (peer_frames, peer_rate, TONE_HZ, AMPLITUDE);
  g_autofree int16_t *right = sine (peer_frames, peer_rate, 600.0, AMPLITUDE);
  g_autofree int16_t *stereo = g_new (int16_t, 2 * peer_frames);
  g_autofree int16_t *out = g_new0 (int16_t, 2 * RATE);
  size_t out_len = 0, pos = 0;
  bool long_packets = false;

  for (size_t i = 0; i < peer_frames; i++)
    {
      stereo[2 * i] = left[i];
      stereo[2 * i + 1] = right[i];
    }

  peer = opus_encoder_create ((opus_int32) peer_rate, 2, OPUS_APPLICATION_AUDIO, &oerr);
  g_assert_nonnull (peer);
  g_assert_cmpint (opus_encoder_ctl (peer, OPUS_SET_BITRATE (64000)), ==, OPUS_OK);
  g_assert_cmpint (kefu_opus_decoder_alloc (&dec, RATE), ==, 0);

  while (pos < peer_frames)
    {
      /* the second second in 40 ms packets */
      size_t step = pos >= peer_rate ? peer_rate / 25 : peer_rate / 50;
      uint8_t packet[4000];
      opus_int32 len;
      size_t n = 0;

      len = opus_encode (peer, stereo + 2 * pos, (int) step, packet, sizeof packet);
      g_assert_cmpint (len, >, 0);
      g_assert_cmpuint (kefu_opus_packet_samples (dec, packet, (size_t) len), ==,
                        step * RATE / peer_rate);
      if (step * RATE / peer_rate == 2 * FRAME)
        {
          long_packets = true;
          /* not in a buffer made for one frame */
          g_assert_cmpint (kefu_opus_decode (dec, packet, (size_t) len, out + out_len, FRAME, &n),
                           ==, ENOSPC);
        }
      g_assert_cmpint (kefu_opus_decode (dec, packet, (size_t) len, out + out_len,
                                         2 * RATE - out_len, &n), ==, 0);
      g_assert_cmpuint (n, ==, step * RATE / peer_rate);
      out_len += n;
      pos += step;
    }
  g_assert_true (long_packets);
  g_assert_cmpuint (out_len, ==, 2 * RATE);

  {
    /* whole periods of both tones: 200 ms */
    const int16_t *x = out + RATE / 2;
    size_t n = RATE / 5;
    double a1 = tone_amplitude (x, n, RATE, TONE_HZ);
    double a2 = tone_amplitude (x, n, RATE, 600.0);
    double a3 = tone_amplitude (out + RATE + RATE / 2, n, RATE, TONE_HZ);

    g_test_message ("down-mixed: 1 kHz at %.0f, 600 Hz at %.0f; 40 ms packets: 1 kHz at %.0f",
                    a1, a2, a3);
    /* a mono mix of the two channels: each at about half its level */
    g_assert_cmpfloat (a1, >, AMPLITUDE / 4);
    g_assert_cmpfloat (a2, >, AMPLITUDE / 4);
    g_assert_cmpfloat (a3, >, AMPLITUDE / 4);
  }

  opus_encoder_destroy (peer);
  kefu_opus_decoder_free (dec);
}

static void
test_bad_input (void)
{
  struct kefu_opus_encoder *enc = NULL;
  struct kefu_opus_decoder *dec = NULL;
  struct kefu_opus_encoder_config low = { .bitrate = 1000 };
  int16_t pcm[FRAME] = { 0 };
  uint8_t packet[KEFU_OPUS_MAX_PACKET];
  static const uint8_t garbage[] = { 0xff, 0xff, 0xff };
  size_t len = 0, n = 0;

  g_assert_cmpint (kefu_opus_encoder_alloc (&enc, 44100, NULL), ==, EINVAL);
  g_assert_cmpint (kefu_opus_encoder_alloc (&enc, RATE, &low), ==, EINVAL);
  g_assert_null (enc);
  g_assert_cmpint (kefu_opus_decoder_alloc (&dec, 11025), ==, EINVAL);
  g_assert_null (dec);

  g_assert_cmpint (kefu_opus_encoder_alloc (&enc, RATE, NULL), ==, 0);
  g_assert_cmpint (kefu_opus_decoder_alloc (&dec, RATE), ==, 0);
  g_assert_cmpint (kefu_opus_encode (enc, pcm, 100, packet, sizeof packet, &len), ==, EINVAL);
  g_assert_cmpint (kefu_opus_encode (enc, pcm, FRAME, packet, sizeof packet, &len), ==, 0);

  g_assert_cmpuint (kefu_opus_packet_samples (dec, garbage, sizeof garbage), ==, 0);
  g_assert_cmpint (kefu_opus_decode (dec, garbage, sizeof garbage, pcm, FRAME, &n), ==, EBADMSG);
  g_assert_cmpint (kefu_opus_decode (dec, packet, 0, pcm, FRAME, &n), ==, EBADMSG);
  /* still decodes after the garbage */
  g_assert_cmpint (kefu_opus_decode (dec, packet, len, pcm, FRAME, &n), ==, 0);
  g_assert_cmpuint (n, ==, FRAME);
  kefu_opus_decoder_reset (dec);
  g_assert_cmpint (kefu_opus_decode (dec, packet, len, pcm, FRAME, &n), ==, 0);

  kefu_opus_encoder_free (enc);
  kefu_opus_decoder_free (dec);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/opus/round-trip-tone", test_round_trip_tone);
  g_test_add_func ("/opus/conceal", test_conceal);
  g_test_add_func ("/opus/fec", test_fec);
  g_test_add_func ("/opus/stereo-peer", test_stereo_peer);
  g_test_add_func ("/opus/bad-input", test_bad_input);

  return g_test_run ();
}
