/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * What a caller hears when nobody answers in time, end to end
 * (tests/switch/kefu-test-switch.h), with no agent serving the queues:
 * overflowed to the callback list, the queue's overflow prompt (or the
 * switch's own sentence, spoken) before the switch hangs up, and the
 * callback at kefu-server; overflowed to another queue, that queue's
 * music and announcements instead of the first one's.  The caller is a
 * real kefu-phone that records what it hears.
 */
#include "config.h"

#include <glib.h>
#include <math.h>
#include <string.h>

#include "kefu-test-peer.h"
#include "kefu-test-switch.h"
#include "kefu-test-wait.h"
#include "kefu-wav.h"

#define CALLER_TONE 600.0
#define MUSIC_TONE 300.0        /* music.wav */
#define BOOKED_TONE 750.0
#define BOOKED_S 1.2
#define SECOND_MUSIC_TONE 900.0
#define SECOND_ANNOUNCE_TONE 1700.0

typedef KefuTestSwitch Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  kefu_test_switch_setup (f, NULL);
  kefu_test_switch_write_prompt (f, "booked.wav", BOOKED_TONE, BOOKED_S);
  kefu_test_switch_write_prompt (f, "second-music.wav", SECOND_MUSIC_TONE, 1.0);
  kefu_test_switch_write_prompt (f, "second-position.wav", SECOND_ANNOUNCE_TONE, 0.6);
  kefu_test_switch_write_config (f,
    "[trunk to-callback]\nallow = 127.0.0.2\nivr = to-callback\n\n"
    "[trunk to-spoken]\nallow = 127.0.0.3\nivr = to-spoken\n\n"
    "[trunk to-first]\nallow = 127.0.0.4\nivr = to-first\n\n"
    "[ivr to-callback]\nqueue callback\n\n"
    "[ivr to-spoken]\nqueue spoken\n\n"
    "[ivr to-first]\nqueue first\n\n"
    "[prompt music]\nwav = music.wav\n\n"
    "[prompt booked]\nwav = booked.wav\n\n"
    "[prompt second-music]\nwav = second-music.wav\n\n"
    "[prompt second-position]\nwav = second-position.wav\n\n"
    "[queue callback]\n"
    "max-wait = 2\n"
    "overflow = callback\n"
    "overflow-prompt = booked\n"
    "music = music\n"
    "\n"
    "[queue spoken]\n"
    "max-wait = 2\n"
    "overflow = callback\n"
    "music = music\n"
    "\n"
    "[queue first]\n"
    "max-wait = 2\n"
    "overflow = second\n"
    "music = music\n"
    "\n"
    "[queue second]\n"
    "music = second-music\n"
    "waiting-prompt = second-position\n"
    "announce-every = 2\n");
  kefu_test_switch_start (f);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  kefu_test_switch_teardown (f);
}

static void
caller_dial (Fixture *f, KefuTestPeer *caller, const char *address)
{
  g_autofree char *listen = g_strdup_printf ("--listen=%s:%u", address,
                                             kefu_test_free_udp_port ());
  const char *args[] = { listen, "--user=+8613912345678", NULL };

  kefu_test_peer_start (caller, f->dir, "caller", CALLER_TONE, args);
  kefu_test_peer_send (caller, "dial sip:4000@127.0.0.1:%u", f->sip_port);
  kefu_test_peer_wait (caller, "established");
}

/* The id of the call an event of @type names in @queue (waits for it). */
static char *
wait_call_event_in (Fixture *f, const char *type, const char *queue)
{
  for (int i = 0; i < 100; i++)
    {
      g_autoptr(JsonArray) events = kefu_test_switch_events (f);

      for (guint k = 0; k < json_array_get_length (events); k++)
        {
          JsonObject *ev = json_array_get_object_element (events, k);

          if (!g_strcmp0 (json_object_get_string_member_with_default (ev, "type", ""), type)
              && !g_strcmp0 (json_object_get_string_member_with_default (ev, "queue", ""),
                             queue))
            return g_strdup (json_object_get_string_member (ev, "call_id"));
        }
      kefu_test_sleep_ms (200);
    }
  g_error ("no %s event in queue %s at kefu-server", type, queue);
}

/* The callback kefu-server has for @call_id (waits for it). */
static JsonObject *
wait_callback (Fixture *f, const char *call_id)
{
  g_autofree char *path = g_strdup_printf ("/v1/callbacks?call_id=%s", call_id);

  for (int i = 0; i < 100; i++)
    {
      g_autoptr(KefuTestResponse) r = kefu_test_request (f->server, "GET", path, f->admin, NULL);
      JsonArray *items;

      g_assert_cmpuint (r->status, ==, 200);
      items = json_object_get_array_member (kefu_test_response_object (r), "items");
      if (json_array_get_length (items) > 0)
        return json_object_ref (json_array_get_object_element (items, 0));
      kefu_test_sleep_ms (200);
    }
  g_error ("no callback for call %s at kefu-server", call_id);
}

static double
wav_seconds (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree gint16 *samples = NULL;
  gsize frames = 0;
  guint channels = 0, rate = 0;

  g_assert_true (kefu_wav_load_interleaved (path, &samples, &frames, &channels, &rate, &error));
  g_assert_no_error (error);
  return (double) frames / rate;
}

/* RMS of [t0, t1) seconds of a mono WAV. */
static double
window_rms (const char *path, double t0, double t1)
{
  g_autoptr(GError) error = NULL;
  g_autofree gint16 *samples = NULL;
  gsize frames = 0, from, to;
  guint channels = 0, rate = 0;
  double energy = 0;

  g_assert_true (kefu_wav_load_interleaved (path, &samples, &frames, &channels, &rate, &error));
  g_assert_no_error (error);
  from = (gsize) MAX (t0 * rate, 0);
  to = MIN ((gsize) (t1 * rate), frames);
  g_assert_cmpuint (to, >, from + 160);
  for (gsize i = from; i < to; i++)
    energy += (double) samples[i * channels] * samples[i * channels];
  return sqrt (energy / (double) (to - from));
}

static void
assert_callback_filed (Fixture *f, const char *call_id, const char *queue)
{
  g_autoptr(JsonObject) cdr = kefu_test_switch_wait_call_record (f, call_id);
  g_autoptr(JsonObject) cb = wait_callback (f, call_id);

  g_assert_cmpstr (json_object_get_string_member (cdr, "outcome"), ==, "callback");
  g_assert_cmpstr (json_object_get_string_member (cb, "queue"), ==, queue);
  g_assert_nonnull (strstr (json_object_get_string_member (cb, "number"), "13912345678"));
  g_assert_cmpstr (json_object_get_string_member (cb, "status"), ==, "open");
}

/* The queue's overflow prompt plays to its end, then the switch hangs up;
 * the callback is at kefu-server. */
static void
test_callback_prompt (Fixture *f, gconstpointer data)
{
  KefuTestPeer caller = { 0 };
  g_autoptr(GArray) music = NULL;
  g_autoptr(GArray) booked = NULL, booked_ends = NULL;
  g_autofree char *call_id = NULL;
  JsonObject *ev;
  double length, prompt_at, prompt_end;

  caller_dial (f, &caller, "127.0.0.2");
  /* the switch, not the caller, ends the call */
  ev = kefu_test_peer_wait (&caller, "closed");
  g_assert_cmpstr (json_object_get_string_member (ev, "reason"), ==, "remote hangup");
  kefu_test_peer_quit (&caller);

  music = kefu_test_tone_onsets (caller.recording, 0, MUSIC_TONE, 0.5);
  booked = kefu_test_tone_onsets (caller.recording, 0, BOOKED_TONE, 0.2);
  booked_ends = kefu_test_tone_ends (caller.recording, 0, BOOKED_TONE, 0.2);
  length = wav_seconds (caller.recording);
  g_assert_cmpuint (music->len, >=, 1);
  g_assert_cmpuint (booked->len, >=, 1);
  prompt_at = g_array_index (booked, double, 0);
  prompt_end = g_array_index (booked_ends, double, booked_ends->len - 1);
  g_test_message ("music from %.2f s, the prompt from %.2f s to %.2f s, the end at %.2f s",
                  g_array_index (music, double, 0), prompt_at, prompt_end, length);
  /* after the wait in music, and whole before the hang-up */
  g_assert_cmpfloat (prompt_at, >, g_array_index (music, double, 0) + 1.5);
  g_assert_cmpfloat (prompt_end - prompt_at, >, BOOKED_S - 0.3);
  g_assert_cmpfloat (prompt_end, <=, length);
  kefu_test_peer_clear (&caller);

  call_id = wait_call_event_in (f, "call.callback", "callback");
  assert_callback_filed (f, call_id, "callback");
}

/* Without an overflow prompt of its own, the queue's callers hear the
 * switch's sentence, spoken: speech, not the music, before the hang-up. */
static void
test_callback_spoken (Fixture *f, gconstpointer data)
{
  KefuTestPeer caller = { 0 };
  g_autoptr(GArray) music = NULL;
  g_autofree char *call_id = NULL;
  double length, music_end = 0;

  caller_dial (f, &caller, "127.0.0.3");
  kefu_test_peer_wait (&caller, "closed");
  kefu_test_peer_quit (&caller);

  music = kefu_test_tone_ends (caller.recording, 0, MUSIC_TONE, 0.5);
  length = wav_seconds (caller.recording);
  g_assert_cmpuint (music->len, >=, 1);
  music_end = g_array_index (music, double, music->len - 1);
  g_test_message ("the music ends at %.2f s, the call at %.2f s", music_end, length);
  /* a sentence of some seconds: a good while of sound after the music */
  g_assert_cmpfloat (length - music_end, >, 2.0);
  g_assert_cmpfloat (window_rms (caller.recording, music_end + 0.3, length - 0.3), >, 300);
  g_assert_cmpfloat (kefu_test_tone_share_before_end (caller.recording, 0, MUSIC_TONE, 0.3, 1.0),
                     <, 0.2);
  kefu_test_peer_clear (&caller);

  call_id = wait_call_event_in (f, "call.callback", "spoken");
  assert_callback_filed (f, call_id, "spoken");
}

/* Overflowed from `first` to `second`: the music changes to second's, and
 * second's announcements play; first's music is heard no more. */
static void
test_overflow_queue_music (Fixture *f, gconstpointer data)
{
  KefuTestPeer caller = { 0 };
  g_autoptr(GArray) first = NULL, second = NULL, announced = NULL;
  g_autofree char *call_id = NULL;
  double moved;

  caller_dial (f, &caller, "127.0.0.4");
  call_id = wait_call_event_in (f, "call.overflow", "first");
  /* two announcements' time in the second queue */
  kefu_test_sleep_ms (5000);
  kefu_test_peer_send (&caller, "hangup");
  kefu_test_peer_wait (&caller, "closed");
  kefu_test_peer_quit (&caller);

  first = kefu_test_tone_onsets (caller.recording, 0, MUSIC_TONE, 0.5);
  second = kefu_test_tone_onsets (caller.recording, 0, SECOND_MUSIC_TONE, 0.5);
  announced = kefu_test_tone_onsets (caller.recording, 0, SECOND_ANNOUNCE_TONE, 0.4);
  g_assert_cmpuint (first->len, >=, 1);
  g_assert_cmpuint (second->len, >=, 1);
  moved = g_array_index (second, double, 0);
  g_test_message ("first's music from %.2f s, second's from %.2f s, %u announcements",
                  g_array_index (first, double, 0), moved, announced->len);
  g_assert_cmpfloat (moved, >, g_array_index (first, double, 0) + 1.5);
  g_assert_cmpfloat (g_array_index (first, double, first->len - 1), <, moved);
  g_assert_cmpuint (announced->len, >=, 1);
  g_assert_cmpfloat (g_array_index (announced, double, 0), >, moved);
  /* second's music, not first's, to the end */
  g_assert_cmpfloat (kefu_test_tone_share_before_end (caller.recording, 0, MUSIC_TONE, 0.3, 1.0),
                     <, 0.2);
  kefu_test_peer_clear (&caller);

  {
    g_autoptr(JsonObject) cdr = kefu_test_switch_wait_call_record (f, call_id);

    g_assert_cmpstr (json_object_get_string_member (cdr, "queue"), ==, "second");
    g_assert_cmpstr (json_object_get_string_member (cdr, "outcome"), ==, "abandoned");
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/switch-overflow/callback-prompt", Fixture, NULL, fixture_setup,
              test_callback_prompt, fixture_teardown);
  g_test_add ("/switch-overflow/callback-spoken", Fixture, NULL, fixture_setup,
              test_callback_spoken, fixture_teardown);
  g_test_add ("/switch-overflow/queue-music", Fixture, NULL, fixture_setup,
              test_overflow_queue_music, fixture_teardown);

  return g_test_run ();
}
