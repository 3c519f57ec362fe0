/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * kefu-server stopped and started again under a running kefu-switch: the
 * calls go on (the switch owns them), and once the server is back every
 * call's events and its CDR arrive, each exactly once: the one that was
 * talking when the server went away and the one made entirely while it
 * was gone.
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
  "ivr = main\n"
  "\n"
  "[prompt music]\n"
  "wav = music.wav\n"
  "\n"
  "[queue support]\n"
  "ring-timeout = 5\n"
  "wrap-up = 1\n"
  "music = music\n"
  "\n"
  "[ivr main]\n"
  "queue support\n";

static const char *const call_events[] = {
  "call.ivr", "call.offered", "call.ringing", "call.answered", "call.ended",
  "call.wrapup_ended",
};

static char *
call_once (KefuTestSwitch *f, KefuTestPeer *caller, KefuTestPeer *agent, gboolean stop_server)
{
  g_autofree char *listen = g_strdup_printf ("--listen=127.0.0.2:%u",
                                             kefu_test_free_udp_port ());
  const char *args[] = { listen, "--user=+8613912345678", NULL };
  JsonObject *ev;
  char *id;

  kefu_test_peer_start (caller, f->dir, "caller", CALLER_TONE, args);
  kefu_test_peer_send (caller, "dial sip:4000@127.0.0.1:%u", f->sip_port);
  ev = kefu_test_peer_wait (agent, "incoming");
  id = g_strdup (kefu_test_header (ev, "X-Kefu-Call"));
  kefu_test_peer_wait (agent, "established");
  if (stop_server)
    kefu_test_server_stop (f->server);
  kefu_test_sleep_ms (1500);
  kefu_test_peer_send (caller, "hangup");
  kefu_test_peer_wait (caller, "closed");
  kefu_test_peer_wait (agent, "closed");
  kefu_test_peer_quit (caller);
  kefu_test_peer_clear (caller);
  /* the 1 s wrap-up */
  kefu_test_sleep_ms (1500);
  return id;
}

static guint
cdr_count (KefuTestSwitch *f, const char *id)
{
  g_autoptr(KefuTestResponse) r = kefu_test_request (f->server, "GET", "/v1/calls?limit=500",
                                                     f->admin, NULL);
  JsonArray *items;
  guint n = 0;

  g_assert_cmpuint (r->status, ==, 200);
  items = JSON_NODE_HOLDS_ARRAY (r->json) ? json_node_get_array (r->json)
    : json_object_get_array_member (json_node_get_object (r->json), "items");
  g_assert_nonnull (items);
  for (guint i = 0; i < json_array_get_length (items); i++)
    if (!g_strcmp0 (json_object_get_string_member (json_array_get_object_element (items, i),
                                                   "id"), id))
      n++;
  return n;
}

static void
test_server_restart (void)
{
  KefuTestSwitch f = { 0 };
  KefuTestPeer agent = { 0 }, caller = { 0 };
  g_autofree char *account = NULL;
  g_autofree char *talking = NULL, *offline = NULL;
  const char *agent_args[] = { NULL, "--auto-answer", NULL };

  kefu_test_switch_setup (&f, NULL);
  kefu_test_switch_write_config (&f, sections);
  kefu_test_switch_agent (&f, "agent", "1001", "{\"support\":50}");
  kefu_test_switch_start (&f);
  account = kefu_test_switch_account (&f, "1001");
  agent_args[0] = account;
  kefu_test_peer_start (&agent, f.dir, "agent", AGENT_TONE, agent_args);
  kefu_test_peer_wait (&agent, "registered");

  /* the server goes away during this call ... */
  talking = call_once (&f, &caller, &agent, TRUE);
  /* ... and this one begins and ends without it */
  offline = call_once (&f, &caller, &agent, FALSE);
  g_assert_cmpstr (talking, !=, offline);

  kefu_test_server_start_again (f.server);
  g_free (f.admin);
  f.admin = kefu_test_login (f.server, "admin");

  {
    const char *ids[] = { talking, offline };

    for (guint k = 0; k < G_N_ELEMENTS (ids); k++)
      {
        g_autoptr(JsonObject) cdr = kefu_test_switch_wait_call_record (&f, ids[k]);
        g_autoptr(JsonObject) last = kefu_test_switch_wait_event (&f, ids[k],
                                                                  "call.wrapup_ended");

        g_assert_cmpstr (json_object_get_string_member (cdr, "outcome"), ==, "answered");
        g_assert_cmpstr (json_object_get_string_member (cdr, "agent"), ==, "agent");
        g_assert_cmpfloat (json_object_get_double_member (cdr, "talk_s"), >, 1.0);
      }
    /* anything sent twice would have come by now */
    kefu_test_sleep_ms (1500);
    for (guint k = 0; k < G_N_ELEMENTS (ids); k++)
      {
        g_autofree char *types = kefu_test_switch_call_event_types (&f, ids[k]);

        g_test_message ("events of %s: %s", ids[k], types);
        for (guint i = 0; i < G_N_ELEMENTS (call_events); i++)
          {
            if (kefu_test_switch_count (types, call_events[i]) != 1)
              g_error ("call %s: %s logged %u times (%s)", ids[k], call_events[i],
                       kefu_test_switch_count (types, call_events[i]), types);
          }
        g_assert_cmpuint (cdr_count (&f, ids[k]), ==, 1);
      }
  }

  kefu_test_peer_quit (&agent);
  kefu_test_peer_clear (&agent);
  kefu_test_switch_teardown (&f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/switch/server-restart", test_server_restart);
  return g_test_run ();
}
