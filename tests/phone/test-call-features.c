/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * What an agent does during a call, between two real kefu-phone processes
 * on 127.0.0.1 (customer and agent, each playing its own tone and
 * recording what it hears): mute, recording on demand, inband DTMF, DTMF
 * in auto mode with and without telephone-event, and Opus.
 */
#define G_LOG_DOMAIN "TestCallFeatures"

#include "config.h"

#include <string.h>
#include <gio/gio.h>
#include <glib/gstdio.h>

#include "kefu-test-peer.h"
#include "kefu-test-wait.h"

static const double TONE_CUSTOMER = 500, TONE_AGENT = 1300;

typedef struct {
  char *dir;
  KefuTestPeer customer, agent;
} Fixture;

static void
fixture_set_up (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  fx->dir = g_dir_make_tmp ("kefu-features-XXXXXX", &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture *fx, gconstpointer data)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  kefu_test_peer_clear (&fx->customer);
  kefu_test_peer_clear (&fx->agent);
  dir = g_dir_open (fx->dir, 0, NULL);
  while (dir && (name = g_dir_read_name (dir)))
    {
      g_autofree char *path = g_build_filename (fx->dir, name, NULL);

      g_unlink (path);
    }
  g_rmdir (fx->dir);
  g_free (fx->dir);
}

/* The customer calls the agent, who answers; both sides established. */
static void
connect (Fixture *fx, const char *const *customer_opts, const char *const *agent_opts)
{
  kefu_test_peer_start (&fx->customer, fx->dir, "customer", TONE_CUSTOMER, customer_opts);
  kefu_test_peer_start (&fx->agent, fx->dir, "agent", TONE_AGENT, agent_opts);
  kefu_test_peer_wait (&fx->customer, "ready");
  kefu_test_peer_wait (&fx->agent, "ready");
  kefu_test_peer_send (&fx->customer, "dial sip:agent@127.0.0.1:%u", fx->agent.port);
  kefu_test_peer_wait (&fx->agent, "incoming");
  kefu_test_peer_send (&fx->agent, "answer");
  kefu_test_peer_wait (&fx->agent, "established");
  kefu_test_peer_wait (&fx->customer, "established");
}

static void
hang_up_and_quit (Fixture *fx)
{
  kefu_test_peer_send (&fx->customer, "hangup");
  kefu_test_peer_wait (&fx->customer, "closed");
  kefu_test_peer_wait (&fx->agent, "closed");
  kefu_test_peer_quit (&fx->customer);
  kefu_test_peer_quit (&fx->agent);
}

/* Muted, the customer hears nothing of the agent; unmuted, again. */
static void
test_mute (Fixture *fx, gconstpointer data)
{
  connect (fx, NULL, NULL);
  g_usleep (G_USEC_PER_SEC);
  kefu_test_peer_send (&fx->agent, "mute");
  kefu_test_peer_wait (&fx->agent, "muted");
  g_usleep (G_USEC_PER_SEC * 2);
  kefu_test_peer_send (&fx->agent, "unmute");
  kefu_test_peer_wait (&fx->agent, "unmuted");
  g_usleep (G_USEC_PER_SEC * 3 / 2);
  hang_up_and_quit (fx);

  /* the end: unmuted; 2.0-1.5 s before it: muted (with margins for the
   * commands' way through the pipes) */
  kefu_test_assert_hears ("customer", fx->customer.recording, 0, TONE_AGENT, 1.0);
  g_assert_cmpfloat (kefu_test_tone_share_before_end (fx->customer.recording, 0, TONE_AGENT,
                                                      2.0, 1.0),
                     <, 0.01);
  /* the agent heard the customer all along */
  kefu_test_assert_hears ("agent", fx->agent.recording, 0, TONE_CUSTOMER, 3.0);
}

/* The agent records part of the call: a stereo WAV, the agent's voice on
 * the left, the customer's on the right.  A path that cannot be written
 * is a clear error and the call goes on. */
static void
test_record_on_demand (Fixture *fx, gconstpointer data)
{
  g_autofree char *wav = g_build_filename (fx->dir, "case-1234.wav", NULL);
  JsonObject *ev;

  connect (fx, NULL, NULL);
  kefu_test_peer_send (&fx->agent, "record %s", wav);
  ev = kefu_test_peer_wait (&fx->agent, "recording");
  g_assert_cmpstr (json_object_get_string_member (ev, "file"), ==, wav);
  g_usleep (G_USEC_PER_SEC * 2);
  kefu_test_peer_send (&fx->agent, "record stop");
  kefu_test_peer_wait (&fx->agent, "recording_stopped");

  /* bad path: an error event, and the call is still up */
  kefu_test_peer_send (&fx->agent, "record /nonexistent-kefu-dir/x.wav");
  {
    gboolean error_seen = FALSE;

    while (!error_seen)
      {
        g_main_context_iteration (NULL, TRUE);
        for (guint i = fx->agent.next; i < fx->agent.events->len; i++)
          {
            JsonObject *e = fx->agent.events->pdata[i];

            if (g_strcmp0 (json_object_get_string_member (e, "event"), "error") == 0)
              {
                g_assert_nonnull (strstr (json_object_get_string_member (e, "message"),
                                          "/nonexistent-kefu-dir/x.wav"));
                error_seen = TRUE;
                fx->agent.next = i + 1;
              }
          }
      }
  }
  kefu_test_peer_send (&fx->agent, "stats");
  ev = kefu_test_peer_wait (&fx->agent, "stats");
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (ev, "stats"),
                                               "packets_received"), >, 50);
  hang_up_and_quit (fx);

  kefu_test_assert_hears ("recording, left", wav, 0, TONE_AGENT, 1.5);
  kefu_test_assert_not_hears ("recording, left", wav, 0, TONE_CUSTOMER, 1.5);
  kefu_test_assert_hears ("recording, right", wav, 1, TONE_CUSTOMER, 1.5);
  kefu_test_assert_not_hears ("recording, right", wav, 1, TONE_AGENT, 1.5);
}

/* Collects the digits @p reports, with their mode. */
static char *
collect_digits (KefuTestPeer *p, guint count, const char *mode)
{
  GString *digits = g_string_new (NULL);

  while (digits->len < count)
    {
      JsonObject *ev = kefu_test_peer_wait (p, "dtmf");

      g_assert_cmpstr (json_object_get_string_member (ev, "mode"), ==, mode);
      g_string_append (digits, json_object_get_string_member (ev, "digit"));
    }
  return g_string_free (digits, FALSE);
}

/* Tones inside the audio, both ways: every digit arrives once, in order. */
static void
test_inband_dtmf (Fixture *fx, gconstpointer data)
{
  const char *const inband[] = { "--dtmf", "inband", NULL };
  g_autofree char *to_agent = NULL;
  g_autofree char *to_customer = NULL;

  connect (fx, inband, inband);
  kefu_test_peer_send (&fx->customer, "dtmf 1590#*");
  to_agent = collect_digits (&fx->agent, 6, "inband");
  g_assert_cmpstr (to_agent, ==, "1590#*");
  kefu_test_peer_send (&fx->agent, "dtmf 7A");
  to_customer = collect_digits (&fx->customer, 2, "inband");
  g_assert_cmpstr (to_customer, ==, "7A");

  /* a second later, nothing more came (no digit counted twice) */
  g_usleep (G_USEC_PER_SEC);
  hang_up_and_quit (fx);
  for (guint i = fx->agent.next; i < fx->agent.events->len; i++)
    g_assert_cmpstr (json_object_get_string_member (fx->agent.events->pdata[i], "event"),
                     !=, "dtmf");
}

/* auto: RFC 4733 when both offer telephone-event, tones when one does
 * not. */
static void
test_auto_dtmf (Fixture *fx, gconstpointer data)
{
  const char *const with_events[] = { "--dtmf", "auto", NULL };
  const char *const without_events[] = { "--dtmf", "auto", "--telephone-event", "off", NULL };
  gboolean events = GPOINTER_TO_INT (data);
  const char *mode = events ? "rfc4733" : "inband";
  g_autofree char *to_agent = NULL;
  g_autofree char *to_customer = NULL;

  connect (fx, with_events, events ? with_events : without_events);
  kefu_test_peer_send (&fx->customer, "dtmf 42");
  to_agent = collect_digits (&fx->agent, 2, mode);
  g_assert_cmpstr (to_agent, ==, "42");
  kefu_test_peer_send (&fx->agent, "dtmf 9");
  to_customer = collect_digits (&fx->customer, 1, mode);
  g_assert_cmpstr (to_customer, ==, "9");
  hang_up_and_quit (fx);
}

/* Opus end to end: negotiated, and the voices get through. */
static void
test_opus (Fixture *fx, gconstpointer data)
{
  const char *const opus[] = { "--codecs", "opus,pcmu", NULL };
  JsonObject *ev;

  kefu_test_peer_start (&fx->customer, fx->dir, "customer", TONE_CUSTOMER, opus);
  kefu_test_peer_start (&fx->agent, fx->dir, "agent", TONE_AGENT, opus);
  kefu_test_peer_wait (&fx->customer, "ready");
  kefu_test_peer_wait (&fx->agent, "ready");
  kefu_test_peer_send (&fx->customer, "dial sip:agent@127.0.0.1:%u", fx->agent.port);
  kefu_test_peer_wait (&fx->agent, "incoming");
  kefu_test_peer_send (&fx->agent, "answer");
  ev = kefu_test_peer_wait (&fx->customer, "established");
  g_assert_cmpstr (json_object_get_string_member (ev, "codec"), ==, "opus");
  kefu_test_peer_wait (&fx->agent, "established");
  g_usleep (G_USEC_PER_SEC * 2);
  hang_up_and_quit (fx);

  kefu_test_assert_hears ("customer", fx->customer.recording, 0, TONE_AGENT, 1.0);
  kefu_test_assert_hears ("agent", fx->agent.recording, 0, TONE_CUSTOMER, 1.0);
}

/* A customer's phone as a test or demo plays it: its own number, and the
 * screen-pop headers a switch would add. */
static void
test_dial_with_headers (Fixture *fx, gconstpointer data)
{
  const char *const caller[] = { "--user", "8613800138000", NULL };
  JsonObject *ev, *headers;

  kefu_test_peer_start (&fx->customer, fx->dir, "customer", TONE_CUSTOMER, caller);
  kefu_test_peer_start (&fx->agent, fx->dir, "agent", TONE_AGENT, NULL);
  kefu_test_peer_wait (&fx->customer, "ready");
  kefu_test_peer_wait (&fx->agent, "ready");

  kefu_test_peer_send (&fx->customer, "dial sip:agent@127.0.0.1:%u X-Kefu-Customer=1002 "
                       "X-Kefu-Queue=sales", fx->agent.port);
  ev = kefu_test_peer_wait (&fx->agent, "incoming");
  g_assert_true (g_str_has_prefix (json_object_get_string_member (ev, "from"),
                                   "sip:8613800138000@127.0.0.1"));
  headers = json_object_get_object_member (ev, "headers");
  g_assert_cmpstr (json_object_get_string_member (headers, "X-Kefu-Customer"), ==, "1002");
  g_assert_cmpstr (json_object_get_string_member (headers, "X-Kefu-Queue"), ==, "sales");
  kefu_test_peer_send (&fx->agent, "reject");
  kefu_test_peer_wait (&fx->customer, "closed");

  /* a word that is no header: an error, and nothing is dialled */
  kefu_test_peer_send (&fx->customer, "dial sip:agent@127.0.0.1:%u X-Kefu:Queue=sales",
                       fx->agent.port);
  kefu_test_peer_send (&fx->customer, "quit");
  kefu_test_wait_exit (fx->customer.proc, "the customer's phone to exit");
  while (!fx->customer.eof)
    g_main_context_iteration (NULL, TRUE);
  {
    guint errors = 0;

    for (guint i = fx->customer.next; i < fx->customer.events->len; i++)
      {
        ev = fx->customer.events->pdata[i];
        g_assert_cmpstr (json_object_get_string_member (ev, "event"), !=, "dialing");
        if (g_strcmp0 (json_object_get_string_member (ev, "event"), "error") == 0)
          {
            g_assert_nonnull (strstr (json_object_get_string_member (ev, "message"),
                                      "X-Kefu:Queue=sales"));
            errors++;
          }
      }
    g_assert_cmpuint (errors, ==, 1);
  }
  kefu_test_peer_quit (&fx->agent);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/call-features/mute", Fixture, NULL, fixture_set_up, test_mute,
              fixture_tear_down);
  g_test_add ("/call-features/record-on-demand", Fixture, NULL, fixture_set_up,
              test_record_on_demand, fixture_tear_down);
  g_test_add ("/call-features/inband-dtmf", Fixture, NULL, fixture_set_up, test_inband_dtmf,
              fixture_tear_down);
  g_test_add ("/call-features/auto-dtmf/telephone-event", Fixture, GINT_TO_POINTER (TRUE),
              fixture_set_up, test_auto_dtmf, fixture_tear_down);
  g_test_add ("/call-features/auto-dtmf/no-telephone-event", Fixture, GINT_TO_POINTER (FALSE),
              fixture_set_up, test_auto_dtmf, fixture_tear_down);
  g_test_add ("/call-features/opus", Fixture, NULL, fixture_set_up, test_opus,
              fixture_tear_down);
  g_test_add ("/call-features/dial-with-headers", Fixture, NULL, fixture_set_up,
              test_dial_with_headers, fixture_tear_down);

  return g_test_run ();
}
