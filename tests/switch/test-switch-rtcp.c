/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * RTCP through kefu-switch (tests/switch/kefu-test-switch.h): a caller's
 * kefu-phone reaches an agent's kefu-phone through the IVR and a queue,
 * the switch relays their packets (on its relay workers), and each phone
 * shows what the softphone's call view shows from RTCP: the round-trip
 * time to the switch and the switch's count of its packets lost.  That
 * takes the switch's reports from its stream ticker, with report blocks
 * from the statistics its relay workers keep, and the LSR/DLSR of the
 * phones' own sender reports.
 */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "kefu-test-peer.h"
#include "kefu-test-switch.h"
#include "kefu-test-wait.h"

#define CALLER_TONE 600.0
#define AGENT_TONE 1000.0

static const char sections[] =
  "[trunk carrier]\n"
  "allow = 127.0.0.2\n"
  "dtmf = rfc4733\n"
  "ivr = to-queue\n"
  "\n"
  "[queue support]\n"
  "strategy = longest-idle\n"
  "ring-timeout = 10\n"
  "wrap-up = 0\n"
  "\n"
  "[ivr to-queue]\n"
  "queue support\n";

/* The phone's stats of its call until the round-trip time is known (a
 * report of the switch answering one of the phone's): new reference. */
static JsonObject *
stats_with_rtt (KefuTestPeer *p, const char *who)
{
  /* reports come every 2.5 to 7.5 s; the first answer to ours within
   * two of the switch's intervals, with room for a slow machine */
  for (int i = 0; i < 60; i++)
    {
      JsonObject *ev, *st;

      kefu_test_peer_send (p, "stats");
      ev = kefu_test_peer_wait (p, "stats");
      st = json_object_get_object_member (ev, "stats");
      g_assert_nonnull (st);
      if (json_object_get_double_member (st, "rtt_ms") > 0)
        {
          g_test_message ("%s: rtt %.3f ms, the switch lost %" G_GINT64_FORMAT
                          " of its %" G_GINT64_FORMAT " packets, jitter %.3f ms", who,
                          json_object_get_double_member (st, "rtt_ms"),
                          json_object_get_int_member (st, "remote_lost"),
                          json_object_get_int_member (st, "packets_sent"),
                          json_object_get_double_member (st, "remote_jitter_ms"));
          return json_object_ref (st);
        }
      kefu_test_sleep_ms (500);
    }
  g_error ("%s never showed a round-trip time: no RTCP report of the switch answered it", who);
}

static void
test_rtcp_round_trip (void)
{
  KefuTestSwitch f = { 0 };
  KefuTestPeer caller = { 0 }, agent = { 0 };
  g_autofree char *call_id = NULL;
  g_autoptr(JsonObject) caller_st = NULL, agent_st = NULL, cdr = NULL;

  kefu_test_switch_setup (&f, NULL);
  kefu_test_switch_write_config (&f, sections);
  kefu_test_switch_agent (&f, "agent", "1001", "{\"support\":50}");
  kefu_test_switch_start (&f);

  call_id = kefu_test_switch_bridge_one (&f, &agent, AGENT_TONE, &caller, CALLER_TONE);

  /* each phone talks to the switch, never to the other: the round trip
   * it sees is to the switch, whose reports say what reached it */
  caller_st = stats_with_rtt (&caller, "caller");
  agent_st = stats_with_rtt (&agent, "agent");
  for (guint i = 0; i < 2; i++)
    {
      JsonObject *st = i ? agent_st : caller_st;

      g_assert_cmpfloat (json_object_get_double_member (st, "rtt_ms"), <, 1000.0);
      /* loopback loses nothing: a report block reckoned wrong (a
       * sequence number taken for a wrap or a jump) would say otherwise */
      g_assert_cmpint (json_object_get_int_member (st, "remote_lost"), ==, 0);
      g_assert_cmpfloat (json_object_get_double_member (st, "remote_jitter_ms"), <, 100.0);
      g_assert_cmpint (json_object_get_int_member (st, "packets_received"), >, 0);
    }

  kefu_test_peer_send (&caller, "hangup");
  kefu_test_peer_wait (&agent, "closed");
  cdr = kefu_test_switch_wait_call_record (&f, call_id);
  g_assert_cmpstr (json_object_get_string_member (cdr, "outcome"), ==, "answered");

  kefu_test_peer_quit (&caller);
  kefu_test_peer_quit (&agent);
  kefu_test_peer_clear (&caller);
  kefu_test_peer_clear (&agent);
  kefu_test_switch_teardown (&f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/switch/rtcp/round-trip", test_rtcp_round_trip);
  return g_test_run ();
}
