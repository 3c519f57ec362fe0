/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * An administrator's change to an agent works at once, end to end
 * (tests/switch/kefu-test-switch.h): kefu-server's agent.updated notice
 * makes kefu-switch read the agents and the SIP credentials again, so a
 * new agent's phone registers, a new SIP password replaces the old one
 * and a new skill brings calls within a couple of seconds, well before
 * the switch's periodic reads (minutes apart) would have.  The phones are
 * real kefu-phones registering with digest auth.
 */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "kefu-test-peer.h"
#include "kefu-test-switch.h"
#include "kefu-test-wait.h"

#define CALLER_TONE 600.0
#define AGENT_TONE 1000.0
/* what "at once" means here, with room for a loaded machine */
#define AT_ONCE_US (3 * G_USEC_PER_SEC)

typedef KefuTestSwitch Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  kefu_test_switch_setup (f, NULL);
  kefu_test_switch_write_config (f,
    "[prompt music]\nwav = music.wav\n\n"
    "[trunk to-sales]\nallow = 127.0.0.2\nivr = to-sales\n\n"
    "[ivr to-sales]\nqueue sales\n\n"
    "[queue sales]\nring-timeout = 10\nmusic = music\n");
  kefu_test_switch_start (f);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  kefu_test_switch_teardown (f);
}

/* How many times the switch has read the SIP credentials so far. */
static guint
credential_reads (Fixture *f)
{
  guint n = 0;

  for (guint i = 0; i < f->sw_lines->len; i++)
    if (strstr (f->sw_lines->pdata[i], "SIP credentials: "))
      n++;
  return n;
}

typedef struct {
  Fixture *f;
  guint    after;
} Reads;

static gboolean
read_again (gpointer data)
{
  Reads *reads = data;

  return credential_reads (reads->f) > reads->after;
}

/* Waits for the switch to read the credentials again after @mark reads;
 * it must within AT_ONCE_US of @since (monotonic). */
static void
wait_credentials_read (Fixture *f, guint mark, gint64 since)
{
  Reads reads = { f, mark };
  gint64 took;

  kefu_test_run_until (read_again, &reads, "kefu-switch to read the SIP credentials again");
  took = g_get_monotonic_time () - since;
  g_test_message ("the switch read the SIP credentials again %.2f s after the change",
                  took / 1e6);
  g_assert_cmpint (took, <, AT_ONCE_US);
}

static void
agent_phone (Fixture *f, KefuTestPeer *p, const char *name, const char *extension,
             const char *password)
{
  g_autofree char *account = g_strdup_printf ("--account=sip:%s@127.0.0.1:%u;password=%s",
                                              extension, f->sip_port, password);
  const char *args[] = { account, NULL };

  kefu_test_peer_start (p, f->dir, name, AGENT_TONE, args);
}

typedef struct {
  KefuTestPeer *peer;
  const char   *first;
} Registration;

static gboolean
registration_came (gpointer data)
{
  Registration *r = data;

  for (guint i = 0; i < r->peer->events->len; i++)
    {
      const char *name = json_object_get_string_member (r->peer->events->pdata[i], "event");

      if (!g_strcmp0 (name, "registered") || !g_strcmp0 (name, "registration_failed"))
        {
          r->first = name;
          return TRUE;
        }
    }
  if (r->peer->eof)
    g_error ("%s exited before its registration", r->peer->name);
  return FALSE;
}

/* The outcome of the phone's first REGISTER: "registered" or
 * "registration_failed" (a refusal makes it wait 5 s before it tries
 * again, which is what a user would see). */
static const char *
first_registration (KefuTestPeer *p)
{
  Registration r = { p, NULL };
  g_autofree char *what = g_strdup_printf ("%s's first registration", p->name);

  kefu_test_run_until (registration_came, &r, what);
  return r.first;
}

static void
caller_dial (Fixture *f, KefuTestPeer *caller)
{
  g_autofree char *listen = g_strdup_printf ("--listen=127.0.0.2:%u", kefu_test_free_udp_port ());
  const char *args[] = { listen, "--user=+8613912345678", NULL };

  kefu_test_peer_start (caller, f->dir, "caller", CALLER_TONE, args);
  kefu_test_peer_send (caller, "dial sip:4000@127.0.0.1:%u", f->sip_port);
  kefu_test_peer_wait (caller, "established");
}

static void
peer_done (KefuTestPeer *p)
{
  kefu_test_peer_quit (p);
  kefu_test_peer_clear (p);
}

/* An agent created while the switch runs: its phone registers on its
 * first try, and a call into its queue rings it. */
static void
test_new_agent (Fixture *f, gconstpointer data)
{
  KefuTestPeer phone = { 0 };
  KefuTestPeer caller = { 0 };
  JsonObject *incoming;
  guint mark = credential_reads (f);
  gint64 created = g_get_monotonic_time ();

  kefu_test_switch_agent (f, "newbie", "2101", "{\"sales\": 50}");
  wait_credentials_read (f, mark, created);

  agent_phone (f, &phone, "newbie", "2101", KEFU_TEST_SIP_PASSWORD);
  g_assert_cmpstr (first_registration (&phone), ==, "registered");
  g_test_message ("registered %.2f s after the agent was created",
                  (g_get_monotonic_time () - created) / 1e6);

  caller_dial (f, &caller);
  incoming = kefu_test_peer_wait (&phone, "incoming");
  g_assert_cmpstr (kefu_test_header (incoming, "X-Kefu-Queue"), ==, "sales");
  kefu_test_peer_send (&caller, "hangup");
  kefu_test_peer_wait (&caller, "closed");
  kefu_test_peer_wait (&phone, "closed");
  peer_done (&caller);
  peer_done (&phone);
}

/* A new SIP password: the old one is refused and the new one works,
 * right after the change. */
static void
test_new_sip_password (Fixture *f, gconstpointer data)
{
  KefuTestPeer before = { 0 }, stale = { 0 }, fresh = { 0 };
  g_autoptr(KefuTestResponse) r = NULL;
  guint mark;
  gint64 changed;

  mark = credential_reads (f);
  kefu_test_switch_agent (f, "li", "2201", "{\"sales\": 50}");
  wait_credentials_read (f, mark, g_get_monotonic_time ());
  agent_phone (f, &before, "li-before", "2201", KEFU_TEST_SIP_PASSWORD);
  kefu_test_peer_wait (&before, "registered");

  mark = credential_reads (f);
  changed = g_get_monotonic_time ();
  r = kefu_test_request (f->server, "PATCH", "/v1/agents/li", f->admin,
                         "{\"sip_password\": \"changed-secret-2\"}");
  g_assert_cmpuint (r->status, ==, 200);
  wait_credentials_read (f, mark, changed);

  agent_phone (f, &stale, "li-stale", "2201", KEFU_TEST_SIP_PASSWORD);
  g_assert_cmpstr (first_registration (&stale), ==, "registration_failed");
  agent_phone (f, &fresh, "li-fresh", "2201", "changed-secret-2");
  g_assert_cmpstr (first_registration (&fresh), ==, "registered");

  peer_done (&stale);
  peer_done (&fresh);
  peer_done (&before);
}

/* A caller waits in `sales`, which nobody serves; the administrator gives
 * an idle agent the skill, and the agent's phone rings at once. */
static void
test_new_skill (Fixture *f, gconstpointer data)
{
  KefuTestPeer phone = { 0 };
  KefuTestPeer caller = { 0 };
  g_autoptr(KefuTestResponse) r = NULL;
  JsonObject *incoming;
  guint mark = credential_reads (f);
  gint64 changed, took;

  kefu_test_switch_agent (f, "wang", "2301", "{\"billing\": 50}");
  wait_credentials_read (f, mark, g_get_monotonic_time ());
  agent_phone (f, &phone, "wang", "2301", KEFU_TEST_SIP_PASSWORD);
  kefu_test_peer_wait (&phone, "registered");

  caller_dial (f, &caller);
  /* in the queue: the switch said so to kefu-server */
  {
    g_autoptr(JsonArray) events = NULL;
    gboolean offered = FALSE;

    for (int i = 0; i < 100 && !offered; i++)
      {
        g_clear_pointer (&events, json_array_unref);
        events = kefu_test_switch_events (f);
        for (guint k = 0; k < json_array_get_length (events); k++)
          if (!g_strcmp0 (json_object_get_string_member (json_array_get_object_element (events, k),
                                                         "type"), "call.offered"))
            offered = TRUE;
        if (!offered)
          kefu_test_sleep_ms (100);
      }
    g_assert_true (offered);
  }

  changed = g_get_monotonic_time ();
  r = kefu_test_request (f->server, "PATCH", "/v1/agents/wang", f->admin,
                         "{\"skills\": {\"billing\": 50, \"sales\": 50}}");
  g_assert_cmpuint (r->status, ==, 200);
  incoming = kefu_test_peer_wait (&phone, "incoming");
  took = g_get_monotonic_time () - changed;
  g_test_message ("rang %.2f s after the skill was given", took / 1e6);
  g_assert_cmpint (took, <, AT_ONCE_US);
  g_assert_cmpstr (kefu_test_header (incoming, "X-Kefu-Queue"), ==, "sales");

  kefu_test_peer_send (&caller, "hangup");
  kefu_test_peer_wait (&caller, "closed");
  kefu_test_peer_wait (&phone, "closed");
  peer_done (&caller);
  peer_done (&phone);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/switch-agent-sync/new-agent", Fixture, NULL, fixture_setup, test_new_agent,
              fixture_teardown);
  g_test_add ("/switch-agent-sync/new-sip-password", Fixture, NULL, fixture_setup,
              test_new_sip_password, fixture_teardown);
  g_test_add ("/switch-agent-sync/new-skill", Fixture, NULL, fixture_setup, test_new_skill,
              fixture_teardown);

  return g_test_run ();
}
