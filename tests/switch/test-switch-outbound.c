/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Agents' outside calls end to end (tests/switch/kefu-test-switch.h): two
 * trunks with gateways, each gateway a real kefu-phone that answers; the
 * number's longest outbound prefix picks the trunk, and a number no
 * prefix matches leaves through the first trunk with a gateway.  A bad
 * prefix is a --check-config error naming its line and column.  An agent
 * hands the party of their own outside call on to a colleague with a
 * blind transfer (kefu-phone's `transfer`).
 */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "kefu-test-peer.h"
#include "kefu-test-switch.h"
#include "kefu-test-wait.h"

#define AGENT_TONE 1000.0
#define CHINA_TONE 1300.0
#define WORLD_TONE 800.0

typedef KefuTestSwitch Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  kefu_test_switch_setup (f, NULL);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  kefu_test_switch_teardown (f);
}

/* Gateways in this order: the first one with none of the number's
 * prefixes gets the rest. */
static void
write_config (Fixture *f, guint16 world_port, guint16 china_port)
{
  g_autofree char *sections = g_strdup_printf (
    "[trunk world]\n"
    "allow = 127.0.0.30\n"
    "ivr = main\n"
    "gateway = sip:127.0.0.1:%u\n"
    "outbound-prefixes = +8610        # Beijing has its own carrier\n"
    "\n"
    "[trunk china]\n"
    "allow = 127.0.0.31\n"
    "ivr = main\n"
    "gateway = sip:127.0.0.1:%u\n"
    "outbound-prefixes = +86, 0086\n"
    "\n"
    "[queue support]\n"
    "\n"
    "[ivr main]\n"
    "queue support\n",
    world_port, china_port);

  kefu_test_switch_write_config (f, sections);
}

/* The gateways start before the switch, whose config names their ports:
 * the switch's port, picked before they bound theirs, is picked again. */
static void
gateway_start (Fixture *f, KefuTestPeer *p, const char *name, double tone)
{
  const char *args[] = { "--auto-answer", NULL };

  kefu_test_peer_start (p, f->dir, name, tone, args);
  kefu_test_peer_wait (p, "ready");
  f->sip_port = kefu_test_free_udp_port ();
}

/* Whether @p printed @event that no wait took yet. */
static gboolean
peer_pending (KefuTestPeer *p, const char *event)
{
  for (guint i = p->next; i < p->events->len; i++)
    if (!g_strcmp0 (json_object_get_string_member (p->events->pdata[i], "event"), event))
      return TRUE;
  return FALSE;
}

/* The agent dials @number: @gateway's phone rings for that number and
 * answers, the agent hears it, the other gateway never rings. */
static void
assert_leaves_through (Fixture *f, KefuTestPeer *agent, const char *number,
                       KefuTestPeer *gateway, double tone, KefuTestPeer *other)
{
  g_autofree char *to = NULL;
  JsonObject *ev;

  kefu_test_peer_send (agent, "dial sip:%s@127.0.0.1:%u", number, f->sip_port);
  ev = kefu_test_peer_wait (gateway, "incoming");
  to = g_strdup (json_object_get_string_member (ev, "to"));
  g_test_message ("%s rings %s for %s", number, gateway->name, to);
  g_assert_true (g_str_has_prefix (to, "sip:"));
  g_assert_true (g_str_has_prefix (to + 4, number));
  g_assert_cmpint (to[4 + strlen (number)], ==, '@');
  kefu_test_peer_wait (agent, "established");
  kefu_test_sleep_ms (1500);
  kefu_test_peer_send (agent, "hangup");
  kefu_test_peer_wait (agent, "closed");
  kefu_test_peer_wait (gateway, "closed");
  g_assert_cmpfloat (kefu_test_tone_share_before_end (agent->recording, 0, tone, 0.2, 0.8), >,
                     0.5);
  g_assert_false (peer_pending (other, "incoming"));
}

static void
agent_start (Fixture *f, KefuTestPeer *p, const char *name, const char *extension, double tone,
             gboolean auto_answer)
{
  g_autofree char *account = kefu_test_switch_account (f, extension);
  const char *args[] = { account, auto_answer ? "--auto-answer" : NULL, NULL };

  kefu_test_peer_start (p, f->dir, name, tone, args);
  kefu_test_peer_wait (p, "registered");
}

static void
test_longest_prefix (Fixture *f, gconstpointer data)
{
  KefuTestPeer agent = { 0 }, china = { 0 }, world = { 0 };

  gateway_start (f, &world, "world", WORLD_TONE);
  gateway_start (f, &china, "china", CHINA_TONE);
  write_config (f, world.port, china.port);
  kefu_test_switch_agent (f, "agent", "1001", "{\"support\":50}");
  kefu_test_switch_start (f);
  agent_start (f, &agent, "agent", "1001", AGENT_TONE, FALSE);

  assert_leaves_through (f, &agent, "+8613800000000", &china, CHINA_TONE, &world);
  assert_leaves_through (f, &agent, "008613800000000", &china, CHINA_TONE, &world);
  /* +8610 is longer than +86 */
  assert_leaves_through (f, &agent, "+861062345678", &world, WORLD_TONE, &china);
  /* no prefix: the first trunk with a gateway */
  assert_leaves_through (f, &agent, "+14155550100", &world, WORLD_TONE, &china);

  kefu_test_peer_quit (&agent);
  kefu_test_peer_quit (&china);
  kefu_test_peer_quit (&world);
  kefu_test_peer_clear (&agent);
  kefu_test_peer_clear (&china);
  kefu_test_peer_clear (&world);
}

/* The agent calls a customer out through the gateway, then transfers the
 * customer blind to agent2's extension: agent2's phone shows the
 * customer's number and the call's id, the two talk, the agent's phone
 * is done, and the CDR of the outside call says who took it. */
static void
test_agent_transfers_own_call (Fixture *f, gconstpointer data)
{
  KefuTestPeer agent = { 0 }, agent2 = { 0 }, customer = { 0 }, world = { 0 };
  g_autofree char *call_id = NULL;
  g_autoptr(JsonObject) cdr = NULL;
  g_autoptr(JsonObject) xfer = NULL;
  JsonObject *ev;

  gateway_start (f, &world, "world", WORLD_TONE);
  gateway_start (f, &customer, "customer", CHINA_TONE);
  write_config (f, world.port, customer.port);
  kefu_test_switch_agent (f, "agent", "1001", "{\"support\":50}");
  kefu_test_switch_agent (f, "agent2", "1002", "{\"support\":50}");
  kefu_test_switch_start (f);
  agent_start (f, &agent, "agent", "1001", AGENT_TONE, FALSE);
  agent_start (f, &agent2, "agent2", "1002", 1400.0, TRUE);

  kefu_test_peer_send (&agent, "dial sip:+8613800000000@127.0.0.1:%u", f->sip_port);
  kefu_test_peer_wait (&customer, "established");
  kefu_test_peer_wait (&agent, "established");
  kefu_test_sleep_ms (1000);
  kefu_test_peer_send (&agent, "transfer sip:1002@127.0.0.1:%u", f->sip_port);

  ev = kefu_test_peer_wait (&agent2, "incoming");
  g_test_message ("agent2's phone: from %s",
                  json_object_get_string_member (ev, "from"));
  g_assert_nonnull (strstr (json_object_get_string_member (ev, "from"), "+8613800000000@"));
  call_id = g_strdup (kefu_test_header (ev, "X-Kefu-Call"));
  g_assert_nonnull (call_id);
  kefu_test_peer_wait (&agent2, "established");
  ev = kefu_test_peer_wait (&agent, "closed");
  g_assert_cmpstr (json_object_get_string_member (ev, "reason"), ==, "transferred");
  /* the NOTIFY before the BYE said it worked */
  {
    gint64 code = 0;

    for (guint i = 0; i < agent.events->len; i++)
      if (!g_strcmp0 (json_object_get_string_member (agent.events->pdata[i], "event"),
                      "transfer_progress"))
        code = json_object_get_int_member (agent.events->pdata[i], "code");
    g_assert_cmpint (code, ==, 200);
  }

  kefu_test_sleep_ms (2000);
  kefu_test_peer_send (&agent2, "hangup");
  kefu_test_peer_wait (&agent2, "closed");
  kefu_test_peer_wait (&customer, "closed");
  g_assert_cmpfloat (kefu_test_tone_share_before_end (customer.recording, 0, 1400.0, 0.3, 1.0), >,
                     0.5);
  g_assert_cmpfloat (kefu_test_tone_share_before_end (agent2.recording, 0, CHINA_TONE, 0.3, 1.0),
                     >, 0.5);
  g_assert_false (peer_pending (&world, "incoming"));

  cdr = kefu_test_switch_wait_call_record (f, call_id);
  g_assert_cmpstr (json_object_get_string_member (cdr, "direction"), ==, "outbound");
  g_assert_cmpstr (json_object_get_string_member (cdr, "caller"), ==, "1001");
  g_assert_cmpstr (json_object_get_string_member (cdr, "callee"), ==, "+8613800000000");
  g_assert_cmpstr (json_object_get_string_member (cdr, "outcome"), ==, "transferred");
  g_assert_cmpstr (json_object_get_string_member (cdr, "agent"), ==, "agent2");
  xfer = kefu_test_switch_wait_event (f, call_id, "call.transferred");
  g_assert_cmpstr (json_object_get_string_member (xfer, "agent"), ==, "agent");

  kefu_test_peer_quit (&agent);
  kefu_test_peer_quit (&agent2);
  kefu_test_peer_quit (&customer);
  kefu_test_peer_quit (&world);
  kefu_test_peer_clear (&agent);
  kefu_test_peer_clear (&agent2);
  kefu_test_peer_clear (&customer);
  kefu_test_peer_clear (&world);
}

/* --check-config on @text: exit status 1 and its error output. */
static char *
check_config_fails (Fixture *f, const char *text)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *bad = g_build_filename (f->dir, "bad.conf", NULL);
  g_autoptr(GSubprocess) p = NULL;
  g_autofree char *out = NULL;
  char *err = NULL;

  g_file_set_contents (bad, text, -1, &error);
  g_assert_no_error (error);
  p = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error,
                        g_getenv ("KEFU_SWITCH"), "--check-config", bad, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (p, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  g_test_message ("%s", err);
  g_assert_cmpint (g_subprocess_get_exit_status (p), ==, 1);
  return err;
}

/* The config's text with its line @n (from 1) replaced by @line. */
static char *
with_line (const char *text, guint n, const char *line)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

  g_assert_cmpuint (g_strv_length (lines), >, n);
  g_free (lines[n - 1]);
  lines[n - 1] = g_strdup (line);
  return g_strjoinv ("\n", lines);
}

/* The line number of the first line of @text starting with @start. */
static guint
line_of (const char *text, const char *start)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

  for (guint i = 0; lines[i]; i++)
    if (g_str_has_prefix (lines[i], start))
      return i + 1;
  g_error ("no line %s", start);
}

static void
test_check_config (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *good = NULL;
  guint china_line, world_line;

  write_config (f, 5071, 5072);
  g_file_get_contents (f->config_path, &good, NULL, &error);
  g_assert_no_error (error);
  china_line = line_of (good, "outbound-prefixes = +86,");
  world_line = line_of (good, "outbound-prefixes = +8610");

  /* not a prefix: where it stands, what a prefix is */
  {
    g_autofree char *text = with_line (good, china_line, "outbound-prefixes = +86, 86x, 0086");
    g_autofree char *err = check_config_fails (f, text);
    g_autofree char *where = g_strdup_printf ("bad.conf:%u:26: “86x” is not a number prefix "
                                              "for outbound-prefixes", china_line);

    g_assert_nonnull (strstr (err, where));
  }
  {
    g_autofree char *text = with_line (good, china_line, "outbound-prefixes = 86+");
    g_autofree char *err = check_config_fails (f, text);
    g_autofree char *where = g_strdup_printf ("bad.conf:%u:21: “86+” is not a number prefix",
                                              china_line);

    g_assert_nonnull (strstr (err, where));
  }
  /* one prefix, two trunks: a number would not know its way */
  {
    g_autofree char *text = with_line (good, china_line, "outbound-prefixes = +86, +8610");
    g_autofree char *err = check_config_fails (f, text);
    g_autofree char *where = g_strdup_printf ("bad.conf:%u:26: the outbound prefix “+8610” is "
                                              "already [trunk world]'s (line %u)", china_line,
                                              world_line);

    g_assert_nonnull (strstr (err, where));
  }
  /* prefixes where no gateway takes the calls */
  {
    g_autofree char *text = with_line (good, china_line - 1, "# no gateway");
    g_autofree char *err = check_config_fails (f, text);
    g_autofree char *where = g_strdup_printf ("bad.conf:%u: [trunk china] has outbound-prefixes "
                                              "but no gateway", china_line);

    g_assert_nonnull (strstr (err, where));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/switch-outbound/longest-prefix", Fixture, NULL, fixture_setup,
              test_longest_prefix, fixture_teardown);
  g_test_add ("/switch-outbound/check-config", Fixture, NULL, fixture_setup, test_check_config,
              fixture_teardown);
  g_test_add ("/switch-outbound/agent-transfers-own-call", Fixture, NULL, fixture_setup,
              test_agent_transfers_own_call, fixture_teardown);

  return g_test_run ();
}
