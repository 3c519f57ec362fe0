/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * An overflowed call in the team lead's report, end to end
 * (tests/switch/kefu-test-switch.h): nobody serves `first`, so after its
 * 2 s longest wait kefu-switch moves the caller to `second`, where a real
 * kefu-phone agent answers.  kefu-server's per-queue report then shows
 * the call offered and overflowed in `first`, offered and answered in
 * `second` by that agent; over all queues it is one call, answered.
 */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "kefu-test-peer.h"
#include "kefu-test-switch.h"
#include "kefu-test-wait.h"

#define CALLER_TONE 600.0
#define AGENT_TONE 1000.0

typedef KefuTestSwitch Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  kefu_test_switch_setup (f, NULL);
  kefu_test_switch_write_config (f,
    "[prompt music]\nwav = music.wav\n\n"
    "[trunk to-first]\nallow = 127.0.0.2\nivr = to-first\n\n"
    "[ivr to-first]\nqueue first\n\n"
    "[queue first]\nmax-wait = 2\noverflow = second\nmusic = music\n\n"
    "[queue second]\nring-timeout = 10\nmusic = music\n");
  kefu_test_switch_agent (f, "li", "2401", "{\"second\": 50}");
  kefu_test_switch_start (f);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  kefu_test_switch_teardown (f);
}

static JsonArray *
report (Fixture *f, const char *by)
{
  g_autofree char *path = g_strdup_printf ("/v1/reports/calls?interval=total%s%s",
                                           by ? "&by=" : "", by ? by : "");
  g_autoptr(KefuTestResponse) r = kefu_test_request (f->server, "GET", path, f->admin, NULL);

  if (r->status != 200)
    g_error ("GET %s: %u %s", path, r->status, r->body);
  return json_array_ref (json_object_get_array_member (kefu_test_response_object (r), "rows"));
}

static JsonObject *
row_of (JsonArray *rows, const char *member, const char *value)
{
  for (guint i = 0; i < json_array_get_length (rows); i++)
    {
      JsonObject *row = json_array_get_object_element (rows, i);

      if (!g_strcmp0 (json_object_get_string_member_with_default (row, member, NULL), value))
        return row;
    }
  g_error ("no report row with %s = %s", member, value);
}

static void
assert_counts (JsonObject *row, gint64 offered, gint64 answered, gint64 abandoned,
               gint64 overflowed)
{
  g_assert_cmpint (json_object_get_int_member (row, "offered"), ==, offered);
  g_assert_cmpint (json_object_get_int_member (row, "answered"), ==, answered);
  g_assert_cmpint (json_object_get_int_member (row, "abandoned"), ==, abandoned);
  g_assert_cmpint (json_object_get_int_member (row, "overflowed"), ==, overflowed);
}

static void
test_overflow_in_report (Fixture *f, gconstpointer data)
{
  KefuTestPeer agent = { 0 }, caller = { 0 };
  g_autofree char *account = kefu_test_switch_account (f, "2401");
  g_autofree char *listen = g_strdup_printf ("--listen=127.0.0.2:%u", kefu_test_free_udp_port ());
  const char *agent_args[] = { account, NULL };
  const char *caller_args[] = { listen, "--user=+8613912345678", NULL };
  g_autoptr(JsonObject) ended = NULL;
  g_autoptr(JsonObject) cdr = NULL;
  g_autoptr(JsonArray) by_queue = NULL;
  g_autoptr(JsonArray) total = NULL;
  g_autoptr(JsonArray) by_agent = NULL;
  g_autofree char *call_id = NULL;
  JsonObject *incoming, *row;

  kefu_test_peer_start (&agent, f->dir, "li", AGENT_TONE, agent_args);
  kefu_test_peer_wait (&agent, "registered");
  kefu_test_peer_start (&caller, f->dir, "caller", CALLER_TONE, caller_args);
  kefu_test_peer_send (&caller, "dial sip:4000@127.0.0.1:%u", f->sip_port);
  kefu_test_peer_wait (&caller, "established");

  incoming = kefu_test_peer_wait (&agent, "incoming");
  g_assert_cmpstr (kefu_test_header (incoming, "X-Kefu-Queue"), ==, "second");
  call_id = g_strdup (kefu_test_header (incoming, "X-Kefu-Call"));
  kefu_test_peer_send (&agent, "answer");
  kefu_test_peer_wait (&agent, "established");
  kefu_test_peer_send (&caller, "hangup");
  kefu_test_peer_wait (&caller, "closed");
  kefu_test_peer_wait (&agent, "closed");
  kefu_test_peer_quit (&caller);
  kefu_test_peer_clear (&caller);

  /* everything the switch said of the call is at kefu-server */
  ended = kefu_test_switch_wait_event (f, call_id, "call.ended");
  cdr = kefu_test_switch_wait_call_record (f, call_id);
  g_assert_cmpstr (json_object_get_string_member (cdr, "queue"), ==, "second");

  by_queue = report (f, "queue");
  g_assert_cmpuint (json_array_get_length (by_queue), ==, 2);
  row = row_of (by_queue, "queue", "first");
  assert_counts (row, 1, 0, 0, 1);
  g_assert_true (JSON_NODE_HOLDS_NULL (json_object_get_member (row, "asa")));
  row = row_of (by_queue, "queue", "second");
  assert_counts (row, 1, 1, 0, 0);
  /* the caller's wait counts from entering the first queue */
  g_assert_cmpfloat (json_object_get_double_member (row, "asa"), >=, 1.5);

  total = report (f, NULL);
  g_assert_cmpuint (json_array_get_length (total), ==, 1);
  assert_counts (json_array_get_object_element (total, 0), 1, 1, 0, 0);

  by_agent = report (f, "agent");
  assert_counts (row_of (by_agent, "agent", "li"), 1, 1, 0, 0);

  kefu_test_peer_quit (&agent);
  kefu_test_peer_clear (&agent);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/switch-overflow-report/answered-in-second", Fixture, NULL, fixture_setup,
              test_overflow_in_report, fixture_teardown);

  return g_test_run ();
}
