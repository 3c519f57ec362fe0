/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Consult (attended) transfer and the three-party conference, between
 * three real kefu-phone processes on 127.0.0.1: A the customer, B the
 * agent, C the colleague.  Each plays its own tone and records what it
 * hears, so the tests check what the people would hear: after the
 * transfer A and C hear each other and B is gone; in the conference
 * everyone hears the two others, and when one leaves the other two go on.
 */
#define G_LOG_DOMAIN "TestConsult"

#include "config.h"

#include <string.h>
#include <gio/gio.h>
#include <glib/gstdio.h>

#include "kefu-test-peer.h"
#include "kefu-test-wait.h"

static const double TONE_A = 500, TONE_B = 900, TONE_C = 1300;
static const char *const auto_answer[] = { "--auto-answer", NULL };

typedef struct {
  char *dir;
  KefuTestPeer a, b, c;
} Fixture;

/* --- fixture -------------------------------------------------------------- */

static void
fixture_set_up (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  fx->dir = g_dir_make_tmp ("kefu-consult-XXXXXX", &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture *fx, gconstpointer data)
{
  kefu_test_peer_clear (&fx->a);
  kefu_test_peer_clear (&fx->b);
  kefu_test_peer_clear (&fx->c);
  {
    g_autoptr(GDir) dir = g_dir_open (fx->dir, 0, NULL);
    const char *name;

    while (dir && (name = g_dir_read_name (dir)))
      {
        g_autofree char *path = g_build_filename (fx->dir, name, NULL);

        g_unlink (path);
      }
  }
  g_rmdir (fx->dir);
  g_free (fx->dir);
}

/* A calls B; B answers, then consults C (A on hold) and completes the
 * transfer: A follows the REFER with Replaces, C takes A's call in place
 * of B's, and both of B's calls end. */
static void
test_attended_transfer (Fixture *fx, gconstpointer data)
{
  JsonObject *ev;
  gint64 a_to_b, b_from_a, b_to_c, c_from_b, a_to_c;
  const char *target;

  kefu_test_peer_start (&fx->a, fx->dir, "customer", TONE_A, NULL);
  kefu_test_peer_start (&fx->b, fx->dir, "agent", TONE_B, NULL);
  kefu_test_peer_start (&fx->c, fx->dir, "colleague", TONE_C, auto_answer);
  kefu_test_peer_wait (&fx->a, "ready");
  kefu_test_peer_wait (&fx->b, "ready");
  kefu_test_peer_wait (&fx->c, "ready");

  kefu_test_peer_send (&fx->a, "dial sip:agent@127.0.0.1:%u", fx->b.port);
  b_from_a = kefu_test_event_call (kefu_test_peer_wait (&fx->b, "incoming"));
  kefu_test_peer_send (&fx->b, "answer %" G_GINT64_FORMAT, b_from_a);
  a_to_b = kefu_test_event_call (kefu_test_peer_wait (&fx->a, "established"));
  kefu_test_peer_wait (&fx->b, "established");

  /* consult: A is held (acknowledged) and C answers */
  kefu_test_peer_send (&fx->b, "atransfer sip:colleague@127.0.0.1:%u", fx->c.port);
  b_to_c = kefu_test_event_call (kefu_test_peer_wait (&fx->b, "dialing"));
  g_assert_cmpint (b_to_c, !=, b_from_a);
  kefu_test_peer_wait_call (&fx->b, "held", b_from_a);
  ev = kefu_test_peer_wait (&fx->a, "remote_hold");
  g_assert_cmpint (kefu_test_event_call (ev), ==, a_to_b);
  c_from_b = kefu_test_event_call (kefu_test_peer_wait (&fx->c, "established"));
  kefu_test_peer_wait_call (&fx->b, "established", b_to_c);

  /* complete: A is asked to call C in place of B's consultation */
  kefu_test_peer_send (&fx->b, "atransfer complete");
  ev = kefu_test_peer_wait (&fx->a, "refer");
  g_assert_cmpint (kefu_test_event_call (ev), ==, a_to_b);
  target = json_object_get_string_member (ev, "target");
  g_assert_true (g_str_has_prefix (target, "sip:colleague@127.0.0.1"));
  g_assert_nonnull (strstr (target, "?Replaces="));
  g_assert_nonnull (strstr (target, "to-tag%3D"));
  g_assert_nonnull (strstr (target, "from-tag%3D"));

  kefu_test_peer_send (&fx->a, "accept-transfer %" G_GINT64_FORMAT, a_to_b);
  a_to_c = kefu_test_event_call (kefu_test_peer_wait (&fx->a, "dialing"));

  /* C takes the new call at once, in place of B's */
  ev = kefu_test_peer_wait (&fx->c, "incoming");
  g_assert_cmpint (json_object_get_int_member (ev, "replaces"), ==, c_from_b);
  ev = kefu_test_peer_wait_call (&fx->c, "closed", c_from_b);
  g_assert_cmpstr (json_object_get_string_member (ev, "reason"), ==, "replaced");
  ev = kefu_test_peer_wait (&fx->a, "established");
  g_assert_cmpint (kefu_test_event_call (ev), ==, a_to_c);

  /* B hears the transfer succeed and is out of both calls */
  ev = kefu_test_peer_wait_call (&fx->b, "transfer_progress", b_from_a);
  ev = kefu_test_peer_wait_call (&fx->b, "closed", b_from_a);
  g_assert_cmpstr (json_object_get_string_member (ev, "reason"), ==, "transferred");
  kefu_test_peer_wait_call (&fx->b, "closed", b_to_c);
  ev = kefu_test_peer_wait (&fx->a, "closed");
  g_assert_cmpint (kefu_test_event_call (ev), ==, a_to_b);
  g_assert_cmpstr (json_object_get_string_member (ev, "reason"), ==, "transferred");

  /* A and C talk for a while, then A hangs up */
  g_usleep (G_USEC_PER_SEC * 3 / 2);
  kefu_test_peer_send (&fx->a, "hangup %" G_GINT64_FORMAT, a_to_c);
  kefu_test_peer_wait (&fx->a, "closed");
  kefu_test_peer_wait (&fx->c, "closed");
  kefu_test_peer_quit (&fx->a);
  kefu_test_peer_quit (&fx->b);
  kefu_test_peer_quit (&fx->c);

  /* each recording holds its last call: A's with C, C's with A */
  kefu_test_assert_hears ("customer", fx->a.recording, 0, TONE_C, 1.0);
  kefu_test_assert_not_hears ("customer", fx->a.recording, 0, TONE_B, 1.0);
  kefu_test_assert_hears ("colleague", fx->c.recording, 0, TONE_A, 1.0);
  kefu_test_assert_not_hears ("colleague", fx->c.recording, 0, TONE_B, 1.0);
}

/* B talks to A, calls C, and joins the two calls: each of the three hears
 * the two others; when A leaves, B and C still hear each other. */
static void
test_three_party_conference (Fixture *fx, gconstpointer data)
{
  JsonObject *ev;
  gint64 b_from_a, b_to_c;

  kefu_test_peer_start (&fx->a, fx->dir, "customer", TONE_A, NULL);
  kefu_test_peer_start (&fx->b, fx->dir, "agent", TONE_B, NULL);
  kefu_test_peer_start (&fx->c, fx->dir, "colleague", TONE_C, auto_answer);
  kefu_test_peer_wait (&fx->a, "ready");
  kefu_test_peer_wait (&fx->b, "ready");
  kefu_test_peer_wait (&fx->c, "ready");

  kefu_test_peer_send (&fx->a, "dial sip:agent@127.0.0.1:%u", fx->b.port);
  b_from_a = kefu_test_event_call (kefu_test_peer_wait (&fx->b, "incoming"));
  kefu_test_peer_send (&fx->b, "answer");
  kefu_test_peer_wait (&fx->a, "established");
  kefu_test_peer_wait (&fx->b, "established");

  /* the customer waits on hold while the agent calls a colleague */
  kefu_test_peer_send (&fx->b, "hold %" G_GINT64_FORMAT, b_from_a);
  kefu_test_peer_wait (&fx->b, "held");
  kefu_test_peer_send (&fx->b, "dial sip:colleague@127.0.0.1:%u", fx->c.port);
  b_to_c = kefu_test_event_call (kefu_test_peer_wait (&fx->b, "dialing"));
  kefu_test_peer_wait_call (&fx->b, "established", b_to_c);
  kefu_test_peer_wait (&fx->c, "established");

  kefu_test_peer_send (&fx->b, "conference %" G_GINT64_FORMAT " %" G_GINT64_FORMAT, b_from_a, b_to_c);
  ev = kefu_test_peer_wait (&fx->b, "conference");
  ev = kefu_test_peer_wait (&fx->b, "conference");
  (void) ev;
  /* the held customer is taken off hold to join */
  kefu_test_peer_wait (&fx->a, "remote_resumed");

  g_usleep (G_USEC_PER_SEC * 5 / 2);

  /* the customer leaves; agent and colleague go on */
  kefu_test_peer_send (&fx->a, "hangup");
  kefu_test_peer_wait (&fx->a, "closed");
  ev = kefu_test_peer_wait (&fx->b, "closed");
  g_assert_cmpint (kefu_test_event_call (ev), ==, b_from_a);
  g_usleep (G_USEC_PER_SEC * 3 / 2);
  kefu_test_peer_send (&fx->b, "hangup %" G_GINT64_FORMAT, b_to_c);
  kefu_test_peer_wait (&fx->c, "closed");
  kefu_test_peer_quit (&fx->a);
  kefu_test_peer_quit (&fx->b);
  kefu_test_peer_quit (&fx->c);

  /* while all three were there (the customer's whole call) */
  kefu_test_assert_hears ("customer", fx->a.recording, 0, TONE_B, 1.5);
  kefu_test_assert_hears ("customer", fx->a.recording, 0, TONE_C, 1.5);
  kefu_test_assert_not_hears ("customer", fx->a.recording, 0, TONE_A, 1.5);
  /* after the customer left, at the end of the two other recordings */
  kefu_test_assert_hears ("colleague", fx->c.recording, 0, TONE_B, 1.0);
  kefu_test_assert_not_hears ("colleague", fx->c.recording, 0, TONE_A, 1.0);
  kefu_test_assert_hears ("agent", fx->b.recording, 0, TONE_C, 1.0);
  kefu_test_assert_not_hears ("agent", fx->b.recording, 0, TONE_A, 1.0);
  kefu_test_assert_not_hears ("agent", fx->b.recording, 0, TONE_B, 1.0);
}

/* Nothing to complete or join: clear errors, nothing sent. */
static void
test_misuse (Fixture *fx, gconstpointer data)
{
  JsonObject *ev;

  kefu_test_peer_start (&fx->b, fx->dir, "agent", TONE_B, NULL);
  kefu_test_peer_wait (&fx->b, "ready");
  kefu_test_peer_send (&fx->b, "atransfer complete");
  kefu_test_peer_send (&fx->b, "conference");
  kefu_test_peer_send (&fx->b, "accept-transfer");
  kefu_test_peer_send (&fx->b, "quit");
  kefu_test_wait_exit (fx->b.proc, "the agent's phone to exit");
  g_assert_true (g_subprocess_get_successful (fx->b.proc));
  {
    guint errors = 0;

    while (!fx->b.eof)
      g_main_context_iteration (NULL, TRUE);
    for (guint i = 0; i < fx->b.events->len; i++)
      {
        ev = fx->b.events->pdata[i];
        if (g_strcmp0 (json_object_get_string_member (ev, "event"), "error") == 0)
          {
            g_assert_nonnull (json_object_get_string_member (ev, "message"));
            errors++;
          }
      }
    g_assert_cmpuint (errors, ==, 3);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/consult/attended-transfer", Fixture, NULL, fixture_set_up,
              test_attended_transfer, fixture_tear_down);
  g_test_add ("/consult/three-party-conference", Fixture, NULL, fixture_set_up,
              test_three_party_conference, fixture_tear_down);
  g_test_add ("/consult/misuse", Fixture, NULL, fixture_set_up, test_misuse,
              fixture_tear_down);

  return g_test_run ();
}
