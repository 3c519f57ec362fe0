/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * kefu-switch's IVR with real callers: a kefu-phone on a trunk keys its
 * way through menus in each DTMF mode the trunks can be set to (RFC 4733
 * at several payload types, SIP INFO, inband tones, auto), lets a menu
 * time out, keys a wrong choice, and types an account number that the
 * IVR looks up in a real kefu-server; a registered kefu-phone agent is
 * rung with the X-Kefu-* headers that say where the caller went.
 *
 * One world (server, switch, agent) serves every test of this file; each
 * trunk is a source address (127.0.0.x) with its own DTMF mode or flow.
 */
#include "config.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "kefu-test-peer.h"
#include "kefu-test-switch.h"
#include "kefu-test-wait.h"

#define CALLER_TONE 600.0
#define AGENT_TONE 1000.0
#define WELCOME_TONE 440.0
#define INVALID_TONE 1600.0
#define NO_INPUT_TONE 1400.0

static KefuTestSwitch world;
static KefuTestPeer agent;
static gint64 customer_id;

static const char sections[] =
  "[trunk rfc4733]\n"
  "allow = 127.0.0.2\n"
  "dtmf = rfc4733\n"
  "ivr = main\n"
  "\n"
  "[trunk info]\n"
  "allow = 127.0.0.3\n"
  "dtmf = info\n"
  "ivr = main\n"
  "\n"
  "[trunk inband]\n"
  "allow = 127.0.0.4\n"
  "dtmf = inband\n"
  "ivr = main\n"
  "\n"
  "[trunk auto]\n"
  "allow = 127.0.0.5\n"
  "dtmf = auto\n"
  "ivr = main\n"
  "\n"
  "[trunk quiet]\n"
  "allow = 127.0.0.6\n"
  "dtmf = rfc4733\n"
  "ivr = quiet\n"
  "\n"
  "[trunk accounts]\n"
  "allow = 127.0.0.7\n"
  "dtmf = rfc4733\n"
  "ivr = account\n"
  "\n"
  "[trunk fixed]\n"
  "allow = 127.0.0.8\n"
  "dtmf = rfc4733\n"
  "ivr = account6\n"
  "\n"
  "[prompt welcome]\n"
  "wav = welcome.wav\n"
  "\n"
  "[prompt invalid]\n"
  "wav = invalid.wav\n"
  "\n"
  "[prompt no-input]\n"
  "wav = no-input.wav\n"
  "\n"
  "[prompt music]\n"
  "wav = music.wav\n"
  "\n"
  "[queue support]\n"
  "ring-timeout = 5\n"
  "music = music\n"
  "\n"
  "[queue fallback]\n"
  "ring-timeout = 5\n"
  "music = music\n"
  "\n"
  "[ivr main]\n"
  "menu welcome timeout=5 retries=1 invalid=invalid\n"
  "  on 2 goto sub\n"
  "  on 9 queue fallback\n"
  "\n"
  "[ivr sub]\n"
  "menu welcome timeout=5 inter-digit=3 retries=1\n"
  "  on *7 queue support\n"
  "  on # queue fallback\n"
  "\n"
  "[ivr quiet]\n"
  "menu welcome timeout=0.5 retries=1 no-input=no-input invalid=invalid\n"
  "  on 1 queue support\n"
  "  on failed queue fallback\n"
  "\n"
  "[ivr account]\n"
  "collect account welcome min=4 max=8 terminator=# timeout=5 retries=2 invalid=invalid\n"
  "lookup account {account}\n"
  "  on found queue support\n"
  "  on not-found queue fallback\n"
  "\n"
  "[ivr account6]\n"
  "collect account welcome min=6 max=6 terminator=none timeout=5 inter-digit=8 retries=1\n"
  "lookup account {account}\n"
  "  on found queue support\n"
  "  on not-found queue fallback\n";

/* A caller from @address with kefu-phone options @args dials the switch;
 * once the call is up (the welcome prompt has begun) it may key. */
static JsonObject *
caller_dial (KefuTestPeer *caller, const char *address, const char *const *args)
{
  g_autofree char *listen = g_strdup_printf ("--listen=%s:%u", address,
                                             kefu_test_free_udp_port ());
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();

  g_ptr_array_add (argv, listen);
  g_ptr_array_add (argv, (gpointer) "--user=+8613912345678");
  for (; args && *args; args++)
    g_ptr_array_add (argv, (gpointer) *args);
  g_ptr_array_add (argv, NULL);
  kefu_test_peer_start (caller, world.dir, "caller", CALLER_TONE,
                        (const char *const *) argv->pdata);
  kefu_test_peer_send (caller, "dial sip:4000@127.0.0.1:%u", world.sip_port);
  return kefu_test_peer_wait (caller, "established");
}

/* The agent's phone rings (it answers by itself); the incoming event. */
static JsonObject *
agent_rings (void)
{
  JsonObject *ev = kefu_test_peer_wait (&agent, "incoming");

  kefu_test_peer_wait (&agent, "established");
  return ev;
}

/* The caller hangs up; both phones see the call end. */
static void
caller_hangs_up (KefuTestPeer *caller)
{
  kefu_test_peer_send (caller, "hangup");
  kefu_test_peer_wait (caller, "closed");
  kefu_test_peer_wait (&agent, "closed");
  kefu_test_peer_quit (caller);
}

typedef struct {
  const char *mode;
  const char *address;
  const char *args[4];
  const char *heard_as;       /* the mode the switch took the digits in */
} DtmfCase;

static const DtmfCase dtmf_cases[] = {
  { "rfc4733", "127.0.0.2", { "--dtmf=rfc4733", NULL }, "rfc4733" },
  { "rfc4733-pt96", "127.0.0.2", { "--dtmf=rfc4733", "--telephone-event=96", NULL }, "rfc4733" },
  { "rfc4733-pt120", "127.0.0.2", { "--dtmf=rfc4733", "--telephone-event=120", NULL },
    "rfc4733" },
  { "info", "127.0.0.3", { "--dtmf=info", NULL }, "info" },
  { "inband", "127.0.0.4", { "--dtmf=inband", "--telephone-event=off", NULL }, "inband" },
  { "auto-events", "127.0.0.5", { "--dtmf=rfc4733", NULL }, "rfc4733" },
  { "auto-tones", "127.0.0.5", { "--dtmf=inband", "--telephone-event=off", NULL }, "inband" },
};

static guint
logged_count (const char *text)
{
  guint n = 0;

  for (guint i = 0; i < world.sw_lines->len; i++)
    if (strstr (world.sw_lines->pdata[i], text))
      n++;
  return n;
}

/* Two menus, digits 2 then * and 7 (a two-key choice), in one DTMF mode:
 * the agent sees the path and the queue it led to. */
static void
test_dtmf_mode (gconstpointer data)
{
  const DtmfCase *c = data;
  KefuTestPeer caller = { 0 };
  JsonObject *ev;
  g_autoptr(JsonObject) cdr = NULL;
  g_autofree char *call_id = NULL;

  g_test_message ("DTMF mode %s", c->mode);
  ev = caller_dial (&caller, c->address, c->args);
  /* the switch answers events at the payload type offered, or none */
  for (guint i = 0; c->args[i]; i++)
    if (g_str_has_prefix (c->args[i], "--telephone-event="))
      {
        const char *pt = c->args[i] + strlen ("--telephone-event=");

        g_assert_cmpint (json_object_get_int_member_with_default (ev, "telephone_event_pt", -1),
                         ==, g_str_equal (pt, "off") ? -1 : atoi (pt));
      }
  kefu_test_sleep_ms (300);
  kefu_test_peer_send (&caller, "dtmf 2");
  /* the second menu's prompt begins; keys barge in */
  kefu_test_sleep_ms (900);
  kefu_test_peer_send (&caller, "dtmf *7");

  ev = agent_rings ();
  call_id = g_strdup (kefu_test_header (ev, "X-Kefu-Call"));
  g_assert_nonnull (call_id);
  g_assert_cmpstr (kefu_test_header (ev, "X-Kefu-Queue"), ==, "support");
  g_assert_cmpstr (kefu_test_header (ev, "X-Kefu-Ivr"), ==, "main>2>sub>*7>support");
  caller_hangs_up (&caller);
  kefu_test_peer_clear (&caller);

  /* each key reached the IVR once, the way the trunk says */
  for (const char *d = "2*7"; *d; d++)
    {
      g_autofree char *once = g_strdup_printf ("call %s: digit %c (%s)", call_id, *d,
                                               c->heard_as);
      g_autofree char *any = g_strdup_printf ("call %s: digit %c (", call_id, *d);

      g_assert_true (kefu_test_switch_logged (&world, once));
      g_assert_cmpuint (logged_count (any), ==, 1);
    }

  cdr = kefu_test_switch_wait_call_record (&world, call_id);
  g_assert_cmpstr (json_object_get_string_member (cdr, "ivr_path"), ==, "main>2>sub>*7>support");
  g_assert_cmpstr (json_object_get_string_member (cdr, "outcome"), ==, "answered");
}

/* Nothing keyed: the no-input prompt, the menu again, the no-input prompt
 * again, then the flow's `on failed` queue. */
static void
test_no_input_fallback (void)
{
  KefuTestPeer caller = { 0 };
  const char *args[] = { "--dtmf=rfc4733", NULL };
  g_autoptr(GArray) welcome = NULL, no_input = NULL;
  JsonObject *ev;

  caller_dial (&caller, "127.0.0.6", args);
  ev = agent_rings ();
  g_assert_cmpstr (kefu_test_header (ev, "X-Kefu-Queue"), ==, "fallback");
  g_assert_cmpstr (kefu_test_header (ev, "X-Kefu-Ivr"), ==, "quiet>failed>fallback");
  caller_hangs_up (&caller);

  welcome = kefu_test_tone_onsets (caller.recording, 0, WELCOME_TONE, 0.4);
  no_input = kefu_test_tone_onsets (caller.recording, 0, NO_INPUT_TONE, 0.25);
  g_test_message ("welcome heard %u times, no-input %u times", welcome->len, no_input->len);
  g_assert_cmpuint (welcome->len, ==, 2);
  g_assert_cmpuint (no_input->len, ==, 2);
  /* in that order: welcome, no input, welcome, no input */
  g_assert_cmpfloat (g_array_index (welcome, double, 0), <, g_array_index (no_input, double, 0));
  g_assert_cmpfloat (g_array_index (no_input, double, 0), <, g_array_index (welcome, double, 1));
  g_assert_cmpfloat (g_array_index (welcome, double, 1), <, g_array_index (no_input, double, 1));
  kefu_test_peer_clear (&caller);
}

/* A key no option has: the invalid prompt, the menu again, and a valid
 * choice then counts. */
static void
test_invalid_then_retry (void)
{
  KefuTestPeer caller = { 0 };
  const char *args[] = { "--dtmf=rfc4733", NULL };
  g_autoptr(GArray) invalid = NULL;
  JsonObject *ev;

  caller_dial (&caller, "127.0.0.2", args);
  kefu_test_sleep_ms (300);
  kefu_test_peer_send (&caller, "dtmf 5");
  /* the invalid prompt (0.4 s) plays whole, then the menu again */
  kefu_test_sleep_ms (1200);
  kefu_test_peer_send (&caller, "dtmf 9");
  ev = agent_rings ();
  g_assert_cmpstr (kefu_test_header (ev, "X-Kefu-Queue"), ==, "fallback");
  g_assert_cmpstr (kefu_test_header (ev, "X-Kefu-Ivr"), ==, "main>9>fallback");
  caller_hangs_up (&caller);

  invalid = kefu_test_tone_onsets (caller.recording, 0, INVALID_TONE, 0.25);
  g_assert_cmpuint (invalid->len, ==, 1);
  kefu_test_peer_clear (&caller);
}

/* collect with min, max and a terminator: too short an account number is
 * invalid; the right one, ended with #, is looked up in kefu-server and
 * the agent's phone gets the customer's id. */
static void
test_account_lookup (void)
{
  KefuTestPeer caller = { 0 };
  const char *args[] = { "--dtmf=rfc4733", NULL };
  g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT, customer_id);
  g_autofree char *call_id = NULL;
  g_autoptr(JsonObject) cdr = NULL;
  g_autoptr(GArray) invalid = NULL;
  JsonObject *ev;

  caller_dial (&caller, "127.0.0.7", args);
  kefu_test_sleep_ms (300);
  kefu_test_peer_send (&caller, "dtmf 12#");
  kefu_test_sleep_ms (1500);
  kefu_test_peer_send (&caller, "dtmf 123456#");
  ev = agent_rings ();
  call_id = g_strdup (kefu_test_header (ev, "X-Kefu-Call"));
  g_assert_cmpstr (kefu_test_header (ev, "X-Kefu-Queue"), ==, "support");
  g_assert_cmpstr (kefu_test_header (ev, "X-Kefu-Customer"), ==, id);
  g_assert_nonnull (strstr (kefu_test_header (ev, "X-Kefu-Ivr"), "123456"));
  caller_hangs_up (&caller);

  invalid = kefu_test_tone_onsets (caller.recording, 0, INVALID_TONE, 0.25);
  g_assert_cmpuint (invalid->len, ==, 1);
  kefu_test_peer_clear (&caller);

  cdr = kefu_test_switch_wait_call_record (&world, call_id);
  g_assert_cmpint (json_object_get_int_member (cdr, "customer_id"), ==, customer_id);
}

/* collect max=6 without a terminator: the sixth digit ends the input at
 * once (not after the 8 s inter-digit time). */
static void
test_max_digits (void)
{
  KefuTestPeer caller = { 0 };
  const char *args[] = { "--dtmf=rfc4733", NULL };
  g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT, customer_id);
  JsonObject *ev;
  gint64 sent;

  caller_dial (&caller, "127.0.0.8", args);
  kefu_test_sleep_ms (300);
  sent = g_get_monotonic_time ();
  kefu_test_peer_send (&caller, "dtmf 123456");
  ev = kefu_test_peer_wait (&agent, "incoming");
  g_test_message ("rang %.1f s after the keys were sent",
                  (double) (g_get_monotonic_time () - sent) / G_USEC_PER_SEC);
  g_assert_cmpint (g_get_monotonic_time () - sent, <, 6 * G_USEC_PER_SEC);
  g_assert_cmpstr (kefu_test_header (ev, "X-Kefu-Customer"), ==, id);
  kefu_test_peer_wait (&agent, "established");
  caller_hangs_up (&caller);
  kefu_test_peer_clear (&caller);
}

int
main (int argc, char **argv)
{
  g_autofree char *account = NULL;
  const char *agent_args[3] = { NULL, "--auto-answer", NULL };
  int status;

  g_test_init (&argc, &argv, NULL);

  kefu_test_switch_setup (&world, NULL);
  kefu_test_switch_write_prompt (&world, "invalid.wav", INVALID_TONE, 0.4);
  kefu_test_switch_write_prompt (&world, "no-input.wav", NO_INPUT_TONE, 0.4);
  kefu_test_switch_write_config (&world, sections);
  kefu_test_switch_agent (&world, "agent", "1001", "{\"support\":50,\"fallback\":50}");
  {
    g_autoptr(KefuTestResponse) r =
      kefu_test_request (world.server, "POST", "/v1/customers", world.admin,
                         "{\"name\":\"Li Lei\",\"account_number\":\"123456\"}");

    g_assert_cmpuint (r->status, ==, 201);
    customer_id = json_object_get_int_member (kefu_test_response_object (r), "id");
  }
  kefu_test_switch_start (&world);
  account = kefu_test_switch_account (&world, "1001");
  agent_args[0] = account;
  kefu_test_peer_start (&agent, world.dir, "agent", AGENT_TONE, agent_args);
  kefu_test_peer_wait (&agent, "registered");

  for (guint i = 0; i < G_N_ELEMENTS (dtmf_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/switch/ivr/dtmf/%s", dtmf_cases[i].mode);

      g_test_add_data_func (path, &dtmf_cases[i], test_dtmf_mode);
    }
  g_test_add_func ("/switch/ivr/no-input-fallback", test_no_input_fallback);
  g_test_add_func ("/switch/ivr/invalid-then-retry", test_invalid_then_retry);
  g_test_add_func ("/switch/ivr/account-lookup", test_account_lookup);
  g_test_add_func ("/switch/ivr/max-digits", test_max_digits);

  status = g_test_run ();

  kefu_test_peer_quit (&agent);
  kefu_test_peer_clear (&agent);
  kefu_test_switch_teardown (&world);
  return status;
}
