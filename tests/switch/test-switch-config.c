/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * kefu-switch's configuration file: the message an administrator reads for
 * each kind of mistake (file, line, column, what is wrong, what is
 * allowed), checked word for word; the demo config, read back value by
 * value; WAV prompts; reloading.
 */
#include "config.h"

#include "kefu-switch-config.h"
#include "kefu-ivr-flow.h"
#include "kefu-tts.h"
#include "kefu-wav.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

/* A valid config; the cases below change one line of it. */
static const char base[] =
  "[switch]\n"                                  /*  1 */
  "server = http://127.0.0.1:8080\n"            /*  2 */
  "credentials = creds\n"                       /*  3 */
  "prompts = prompts\n"                         /*  4 */
  "language = zh, en\n"                         /*  5 */
  "\n"                                          /*  6 */
  "[trunk local]\n"                             /*  7 */
  "allow = 127.0.0.1\n"                         /*  8 */
  "ivr = main\n"                                /*  9 */
  "\n"                                          /* 10 */
  "[queue sales]\n"                             /* 11 */
  "skills = vip\n"                              /* 12 */
  "\n"                                          /* 13 */
  "[queue support]\n"                           /* 14 */
  "\n"                                          /* 15 */
  "[hours office]\n"                            /* 16 */
  "mon-fri = 09:00-18:00\n"                     /* 17 */
  "\n"                                          /* 18 */
  "[prompt hello]\n"                            /* 19 */
  "en = Hello.\n"                               /* 20 */
  "\n"                                          /* 21 */
  "[ivr main]\n"                                /* 22 */
  "play hello\n"                                /* 23 */
  "menu hello\n"                                /* 24 */
  "  on 1 queue sales\n"                        /* 25 */
  "  on 2 queue support\n";                     /* 26 */

typedef struct {
  char *dir;
  char *old_cwd;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autofree char *prompts = NULL;

  f->dir = g_dir_make_tmp ("kefu-switch-config-XXXXXX", NULL);
  g_assert_nonnull (f->dir);
  prompts = g_build_filename (f->dir, "prompts", NULL);
  g_assert_cmpint (g_mkdir (prompts, 0700), ==, 0);
  f->old_cwd = g_get_current_dir ();
  g_assert_cmpint (chdir (f->dir), ==, 0);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", f->dir);

  g_assert_cmpint (chdir (f->old_cwd), ==, 0);
  g_assert_cmpint (system (cmd), ==, 0);
  g_free (f->dir);
  g_free (f->old_cwd);
}

static void
write_config (const char *text)
{
  g_autoptr(GError) error = NULL;

  g_file_set_contents ("kefu-switch.conf", text, -1, &error);
  g_assert_no_error (error);
}

/* base with line `lineno` replaced by `line` (NULL: removed) */
static char *
base_with (guint       lineno,
           const char *line)
{
  g_auto(GStrv) lines = g_strsplit (base, "\n", -1);
  GString *out = g_string_new (NULL);

  for (guint i = 0; lines[i] && (lines[i][0] || lines[i + 1]); i++)
    {
      if (i + 1 == lineno)
        {
          if (line)
            g_string_append_printf (out, "%s\n", line);
          continue;
        }
      g_string_append_printf (out, "%s\n", lines[i]);
    }
  return g_string_free (out, FALSE);
}

static void
assert_error (const char *text,
              const char *expected)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KefuSwitchConfig) config = NULL;

  write_config (text);
  g_assert_false (kefu_switch_config_load ("kefu-switch.conf", &config, &error));
  g_assert_null (config);
  g_assert_error (error, KEFU_SWITCH_CONFIG_ERROR, KEFU_SWITCH_CONFIG_ERROR_INVALID);
  if (g_strcmp0 (error->message, expected) != 0)
    g_printerr ("got:\n%s\nexpected:\n%s\n", error->message, expected);
  g_assert_cmpstr (error->message, ==, expected);
}

typedef struct {
  guint       line;
  const char *replacement;
  const char *expected;
} Case;

static const Case cases[] = {
  { 25, "  on 1 queue sles",
    "kefu-switch.conf:25:14: unknown queue “sles” in “queue sles” (queues: sales, support)" },
  { 11, "[queue sales",
    "kefu-switch.conf:11: a section header must end with “]”, e.g. [queue sales]\n"
    "kefu-switch.conf:25:14: unknown queue “sales” in “queue sales” (queues: support)" },
  { 14, "[queu support]",
    "kefu-switch.conf:14: unknown section “[queu support]” (sections: [switch], [trunk NAME], "
    "[queue NAME], [hours NAME], [prompt NAME], [ivr NAME])\n"
    "kefu-switch.conf:26:14: unknown queue “support” in “queue support” (queues: sales)" },
  { 14, "[queue Support]",
    "kefu-switch.conf:14: invalid name “Support”: use a-z, 0-9, “.”, “_” and “-”, at most 64 "
    "characters\n"
    "kefu-switch.conf:26:14: unknown queue “support” in “queue support” (queues: sales)" },
  { 14, "[queue sales]",
    "kefu-switch.conf:14: [queue sales] is already defined on line 11\n"
    "kefu-switch.conf:26:14: unknown queue “support” in “queue support” (queues: sales)" },
  { 14, "[queue]",
    "kefu-switch.conf:14: [queue] needs one name: [queue NAME]\n"
    "kefu-switch.conf:26:14: unknown queue “support” in “queue support” (queues: sales)" },
  { 12, "stratgy = ring-all",
    "kefu-switch.conf:12: unknown setting “stratgy” in [queue sales] (settings: strategy, "
    "ring-timeout, max-no-answer, wrap-up, max-wait, overflow, overflow-prompt, music, "
    "waiting-prompt, announce-every, recording, priority, skills, retry, default-aht)" },
  { 15, "strategy = fastest",
    "kefu-switch.conf:15:12: unknown strategy “fastest” (strategies: ring-all, longest-idle, "
    "round-robin, fewest-calls, least-talk-time, skills-based)" },
  { 15, "ring-timeout = soon",
    "kefu-switch.conf:15:16: “soon” is not a number of seconds for ring-timeout (e.g. 20 or 0.5)" },
  { 15, "priority = 101",
    "kefu-switch.conf:15:12: “101” is not a whole number from 0 to 100 for priority" },
  { 15, "recording = maybe",
    "kefu-switch.conf:15:13: “maybe” is not on or off for recording" },
  { 15, "max-wait = 60  # then to other\noverflow = other\n[queue other]\nmax-wait = 60\n"
        "overflow = support",
    "kefu-switch.conf:14: the overflow of [queue support] comes back to it: support > other > "
    "support\n"
    "kefu-switch.conf:17: the overflow of [queue other] comes back to it: other > support > "
    "other" },
  { 15, "overflow = sails",
    "kefu-switch.conf:14: [queue support] has overflow but no max-wait (the wait after which "
    "calls overflow)\n"
    "kefu-switch.conf:14: unknown queue “sails” in “overflow = sails” of [queue support] "
    "(queues: sales, support, or callback)" },
  { 15, "music = jazz",
    "kefu-switch.conf:15: unknown prompt “jazz” in “music = jazz” (prompts: hello)" },
  { 12, "skills = vip\nskills = gold",
    "kefu-switch.conf:13: skills is set twice in [queue sales] (first on line 12)" },
  { 9, "ivr = mian",
    "kefu-switch.conf:7: unknown flow “mian” in “ivr = mian” of [trunk local] (flows: main)" },
  { 9, NULL,
    "kefu-switch.conf:7: [trunk local] needs ivr, the flow its callers enter" },
  { 8, "allow = 127.0.0.1, 10.0.0.0/33",
    "kefu-switch.conf:8:9: “10.0.0.0/33” is not an IP address or CIDR for allow (e.g. "
    "192.0.2.1 or 10.1.0.0/16)" },
  { 8, "username = carrier",
    "kefu-switch.conf:7: [trunk local] has username but no password: give both for digest "
    "authentication" },
  { 8, "dtmf = tones",
    "kefu-switch.conf:7: [trunk local] lets nobody in: give allow (addresses) or username and "
    "password\n"
    "kefu-switch.conf:8:8: unknown DTMF mode “tones” (modes: rfc4733, info, inband, auto)" },
  { 8, "allow = 127.0.0.1\ngateway = gw.example.net",
    "kefu-switch.conf:9:11: “gw.example.net” is not a SIP URI for gateway (e.g. "
    "sip:gw.example.net)" },
  { 17, "mon-fri = 9-18",
    "kefu-switch.conf:17:11: “9-18” is not a list of opening times: write HH:MM-HH:MM, several "
    "separated by commas, or closed" },
  { 17, "mon-fry = 09:00-18:00",
    "kefu-switch.conf:17: unknown setting “mon-fry” in [hours office] (settings: timezone, "
    "holiday, mon, tue, wed, thu, fri, sat, sun or a range of days such as mon-fri)" },
  { 17, "mon-fri = 09:00-18:00\nfri = 09:00-12:00",
    "kefu-switch.conf:18: the hours of fri are already given on line 17" },
  { 17, "timezone = Asia/Shangai",
    "kefu-switch.conf:17:12: unknown time zone “Asia/Shangai” (use a name from "
    "/usr/share/zoneinfo such as Asia/Shanghai, or UTC)" },
  { 17, "holiday = 2026-02-30",
    "kefu-switch.conf:17:11: “2026-02-30” is not a holiday: write YYYY-MM-DD or "
    "YYYY-MM-DD..YYYY-MM-DD" },
  { 5, "language = zh, fr",
    "kefu-switch.conf:5:12: unknown language “fr” (languages: zh, en)" },
  { 2, "server = ftp://example.net",
    "kefu-switch.conf:2:10: “ftp://example.net” is not an http:// or https:// URL for server "
    "(e.g. http://127.0.0.1:8080)" },
  { 2, "listen = localhost",
    "kefu-switch.conf:1: [switch] needs server, the URL of kefu-server\n"
    "kefu-switch.conf:2:10: “localhost” is not ADDRESS:PORT for listen (e.g. 0.0.0.0:5060 or "
    "[::]:5060)" },
  { 2, "server = http://127.0.0.1:8080\nrtp-ports = 20001-20000",
    "kefu-switch.conf:3:13: “20001-20000” is not a port range for rtp-ports: write MIN-MAX with "
    "ports from 1024 to 65535, MIN even and below MAX" },
  { 4, "prompts = sounds",
    "kefu-switch.conf:4:11: the prompts folder “%DIR%/sounds” does not exist" },
  { 1, NULL,
    "kefu-switch.conf: there is no [switch] section (it needs at least server and credentials)\n"
    "kefu-switch.conf:1: this line is outside any section: start the file with a section such "
    "as [switch]\n"
    "kefu-switch.conf:2: this line is outside any section: start the file with a section such "
    "as [switch]\n"
    "kefu-switch.conf:3: this line is outside any section: start the file with a section such "
    "as [switch]\n"
    "kefu-switch.conf:4: this line is outside any section: start the file with a section such "
    "as [switch]" },
  { 20, "wav = hello.wav",
    "kefu-switch.conf:20: the prompt file “hello.wav” does not exist in %DIR%/prompts" },
  { 20, "en = Hello, {customer.nmae}.",
    "kefu-switch.conf:20:13: unknown customer field “nmae” in {customer.nmae} (fields: id, "
    "name, company, tier, owner, account_number)" },
  { 20, "en = You said {acount}.",
    "kefu-switch.conf:20:15: unknown variable {acount} in “{acount}”: no collect step sets it "
    "(variables: caller, position, wait_min)" },
  { 20, "fr = Bonjour.",
    "kefu-switch.conf:19: [prompt hello] is empty: give it a wav, zh or en line\n"
    "kefu-switch.conf:20: unknown setting “fr” in [prompt hello] (settings: wav, zh, en, zh-wav, "
    "en-wav)" },
  { 23, "play helo",
    "kefu-switch.conf:23:6: unknown prompt “helo” in “play helo” (prompts: hello)" },
  { 23, "plya hello",
    "kefu-switch.conf:23: unknown step “plya” (steps: play, menu, collect, hours, lookup, "
    "callback, language, skill, queue, goto, repeat, hangup)" },
  { 23, "play",
    "kefu-switch.conf:23: wrong use of play: write “play PROMPT...”" },
  { 23, "hours ofice\n  on closed hangup",
    "kefu-switch.conf:23:7: unknown hours “ofice” in “hours ofice” (hours: office)" },
  { 23, "hours office\n  on shut hangup",
    "kefu-switch.conf:24:6: unknown case “shut” for hours (cases: open, closed)" },
  { 23, "  on 3 hangup",
    "kefu-switch.conf:23:3: an “on” line must follow a menu, collect, hours, lookup or callback "
    "step" },
  { 24, "menu hello timeout=fast",
    "kefu-switch.conf:24:12: “fast” is not a number of seconds for timeout (e.g. 20 or 0.5)" },
  { 24, "menu hello retry=2",
    "kefu-switch.conf:24:12: unknown option “retry” for menu (write “menu PROMPT [timeout=S] "
    "[inter-digit=S] [total=S] [retries=N] [invalid=PROMPT] [no-input=PROMPT] "
    "[barge-in=yes|no]”)" },
  { 24, "menu hello invalid=oops",
    "kefu-switch.conf:24:20: unknown prompt “oops” in “menu hello invalid=oops” (prompts: "
    "hello)" },
  { 26, "  on 1 queue support",
    "kefu-switch.conf:26:6: “on 1” is already given on line 25" },
  { 26, "  on x queue support",
    "kefu-switch.conf:26:6: unknown case “x” for menu (cases: DIGITS, timeout, failed)" },
  { 26, "  on 2 hangup; queue support",
    "kefu-switch.conf:26:16: “queue support” is never run: “hangup” before it leaves this list "
    "of steps" },
  { 26, "  on 2 queue support skill=gold",
    "kefu-switch.conf:26:28: unknown skill “gold” for queue “support” in “queue support "
    "skill=gold” (its skills: none)" },
  { 26, "  on 2 skill gold; queue support",
    "kefu-switch.conf:26:14: unknown skill “gold” in “skill gold”: no queue lists it in its "
    "skills (skills: vip)" },
  { 26, "  on 2 goto mian",
    "kefu-switch.conf:26:13: unknown flow “mian” in “goto mian” (flows: main)" },
  { 26, "  on 2 queue support\nhangup\nplay hello",
    "kefu-switch.conf:28: “play hello” is never run: “hangup” on line 27 leaves this flow" },
  { 26, "  on 2 queue support\nrepeat",
    "kefu-switch.conf:27: repeat can only be used in an “on” line, to run its menu again" },
  { 26, "  on 2 queue support\ncollect acct hello min=8 max=6",
    "kefu-switch.conf:27: min=8 is more than max=6" },
  { 26, "  on 2 queue support\ncollect acct hello terminator=5",
    "kefu-switch.conf:27:20: “5” is not a terminator: use #, * or none" },
  { 26, "  on 2 queue support\ncallback {acount}",
    "kefu-switch.conf:27:10: unknown variable {acount} in “callback {acount}”: no collect step "
    "sets it (variables: caller, position, wait_min)" },
  { 26, "  on 2 queue support\nlookup account",
    "kefu-switch.conf:27: wrong use of lookup: write “lookup caller | lookup account "
    "{VARIABLE}”" },
  { 26, "  on 2 queue support\nlanguage en fr",
    "kefu-switch.conf:27:10: unknown language “fr” (languages: zh, en)" },
  { 26, "  on 2 queue support\nmenu hello\n  on timeout hangup",
    "kefu-switch.conf:27: this menu has no choices: add “on DIGITS STEP” lines below it" },
};

static void
test_errors (Fixture *f, gconstpointer data)
{
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = base_with (cases[i].line, cases[i].replacement);
      g_autofree char *real_dir = g_canonicalize_filename (f->dir, NULL);
      g_autoptr(GString) expected = g_string_new (cases[i].expected);

      g_string_replace (expected, "%DIR%", real_dir, 0);
      g_test_message ("case %zu: line %u = %s", i, cases[i].line, cases[i].replacement);
      assert_error (text, expected->str);
    }
}

static void
test_base_is_valid (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KefuSwitchConfig) config = NULL;

  write_config (base);
  g_assert_true (kefu_switch_config_load ("kefu-switch.conf", &config, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (config->queues->len, ==, 2);
}

static void
test_unreadable (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KefuSwitchConfig) config = NULL;

  g_assert_false (kefu_switch_config_load ("missing.conf", &config, &error));
  g_assert_error (error, KEFU_SWITCH_CONFIG_ERROR, KEFU_SWITCH_CONFIG_ERROR_FILE);
  g_assert_true (g_str_has_prefix (error->message, "missing.conf: cannot read the configuration"));
}

static GDateTime *
shanghai (int y, int mo, int d, int h, int mi)
{
  g_autoptr(GTimeZone) tz = g_time_zone_new_identifier ("Asia/Shanghai");

  return g_date_time_new (tz, y, mo, d, h, mi, 0);
}

/* data/kefu-switch.conf, read back. */
static void
test_demo (Fixture *f, gconstpointer data)
{
  g_autofree char *path = g_build_filename (g_getenv ("KEFU_SOURCE_DIR"), "data",
                                            "kefu-switch.conf", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(KefuSwitchConfig) config = NULL;
  const KefuSwitchTrunk *trunk;
  const KefuSwitchQueue *sales, *support;
  const KefuSwitchHours *office;
  const KefuSwitchPrompt *welcome, *greet;
  struct { int y, mo, d, h, mi; gboolean open; } times[] = {
    { 2026, 11, 25, 9, 0, TRUE },     /* a Wednesday */
    { 2026, 11, 25, 8, 59, FALSE },
    { 2026, 11, 25, 17, 59, TRUE },
    { 2026, 11, 25, 18, 0, FALSE },
    { 2026, 11, 28, 11, 0, TRUE },    /* Saturday morning */
    { 2026, 11, 28, 13, 0, FALSE },
    { 2026, 11, 29, 11, 0, FALSE },   /* Sunday */
    { 2026, 10, 5, 11, 0, FALSE },    /* National Day week, a Monday */
    { 2027, 1, 1, 11, 0, FALSE },     /* a Friday, holiday */
  };

  g_assert_true (kefu_switch_config_load (path, &config, &error));
  g_assert_no_error (error);

  g_assert_cmpstr (config->settings.listen, ==, "127.0.0.1:5060");
  g_assert_cmpuint (config->settings.rtp_port_min, ==, 20000);
  g_assert_cmpuint (config->settings.rtp_port_max, ==, 20999);
  g_assert_cmpstr (config->settings.server_url, ==, "http://127.0.0.1:8080");
  g_assert_true (g_str_has_suffix (config->settings.credentials_file,
                                   "/data/kefu-switch.credentials"));
  g_assert_true (g_str_has_suffix (config->settings.prompts_dir, "/data/prompts"));
  g_assert_cmpstr (config->settings.languages[0], ==, "zh");
  g_assert_cmpstr (config->settings.languages[1], ==, "en");
  g_assert_null (config->settings.languages[2]);

  trunk = kefu_switch_config_get_trunk (config, "local");
  g_assert_nonnull (trunk);
  g_assert_true (kefu_switch_config_find_trunk_by_address (config, "127.0.0.1") == trunk);
  g_assert_null (kefu_switch_config_find_trunk_by_address (config, "127.0.0.2"));
  g_assert_null (kefu_switch_config_find_trunk_by_address (config, "::1"));
  g_assert_null (kefu_switch_config_find_trunk_by_address (config, "nonsense"));
  g_assert_cmpint (trunk->dtmf, ==, KEFU_SWITCH_DTMF_AUTO);
  g_assert_cmpstr (trunk->ivr, ==, "main");
  g_assert_cmpstr (trunk->languages[0], ==, "zh");

  sales = kefu_switch_config_get_queue (config, "sales");
  support = kefu_switch_config_get_queue (config, "support");
  g_assert_nonnull (sales);
  g_assert_cmpint (sales->strategy, ==, KEFU_SWITCH_STRATEGY_LONGEST_IDLE);
  g_assert_cmpuint (sales->ring_timeout_ms, ==, 15000);
  g_assert_cmpuint (sales->max_no_answer, ==, 2);
  g_assert_cmpuint (sales->wrapup_ms, ==, 10000);
  g_assert_cmpuint (sales->max_wait_ms, ==, 120000);
  g_assert_cmpint (sales->overflow, ==, KEFU_SWITCH_OVERFLOW_QUEUE);
  g_assert_cmpstr (sales->overflow_queue, ==, "support");
  g_assert_true (sales->music == kefu_switch_config_get_prompt (config, "hold-music"));
  g_assert_true (sales->waiting_prompt == kefu_switch_config_get_prompt (config,
                                                                         "queue-position"));
  g_assert_cmpuint (sales->announce_ms, ==, 30000);
  g_assert_true (sales->recording);
  g_assert_cmpint (sales->priority, ==, 10);
  g_assert_cmpint (support->strategy, ==, KEFU_SWITCH_STRATEGY_SKILLS_BASED);
  g_assert_cmpint (support->overflow, ==, KEFU_SWITCH_OVERFLOW_CALLBACK);
  g_assert_cmpstr (support->skills[0], ==, "english");
  g_assert_cmpstr (support->skills[1], ==, "vip");
  g_assert_cmpstr (kefu_switch_strategy_to_string (support->strategy), ==, "skills-based");

  office = kefu_switch_config_get_hours (config, "office");
  g_assert_nonnull (office);
  for (gsize i = 0; i < G_N_ELEMENTS (times); i++)
    {
      g_autoptr(GDateTime) t = shanghai (times[i].y, times[i].mo, times[i].d, times[i].h,
                                         times[i].mi);
      g_test_message ("%d-%02d-%02d %02d:%02d", times[i].y, times[i].mo, times[i].d,
                      times[i].h, times[i].mi);
      g_assert_cmpint (kefu_switch_hours_is_open (office, t), ==, times[i].open);
    }
  {
    /* 02:00 UTC is 10:00 in Shanghai */
    g_autoptr(GDateTime) utc = g_date_time_new_utc (2026, 11, 25, 2, 0, 0);
    g_assert_true (kefu_switch_hours_is_open (office, utc));
  }

  welcome = kefu_switch_config_get_prompt (config, "welcome");
  g_assert_cmpuint (welcome->parts->len, ==, 2);
  g_assert_false (((KefuSwitchPromptPart *) welcome->parts->pdata[0])->dynamic);
  greet = kefu_switch_config_get_prompt (config, "greet-customer");
  g_assert_true (((KefuSwitchPromptPart *) greet->parts->pdata[0])->dynamic);

  g_assert_nonnull (kefu_switch_config_get_flow (config, "main"));
  g_assert_nonnull (kefu_switch_config_get_flow (config, "main-menu"));
  g_assert_nonnull (kefu_switch_config_get_flow (config, "after-hours"));
  {
    const KefuIvrFlow *menu = kefu_switch_config_get_flow (config, "main-menu");
    const KefuIvrStep *step = menu->steps->pdata[0];
    const KefuIvrBranch *nine = kefu_ivr_step_get_branch (step, "9");

    g_assert_cmpint (step->kind, ==, KEFU_IVR_STEP_MENU);
    g_assert_cmpuint (step->timeout_ms, ==, 6000);
    g_assert_cmpuint (step->retries, ==, 2);
    g_assert_nonnull (nine);
    g_assert_cmpuint (nine->steps->len, ==, 2);
    g_assert_cmpint (((KefuIvrStep *) nine->steps->pdata[1])->kind, ==, KEFU_IVR_STEP_REPEAT);
  }

  /* the fixed texts are spoken once, here */
  {
    g_autoptr(KefuTts) tts = kefu_tts_new (&error);
    KefuSwitchPromptPart *part = welcome->parts->pdata[0];
    KefuSwitchPromptPart *dynamic = greet->parts->pdata[0];
    gint64 start = g_get_monotonic_time ();

    g_assert_no_error (error);
    g_assert_true (kefu_switch_config_render_prompts (config, tts, &error));
    g_assert_no_error (error);
    g_test_message ("all fixed prompts of the demo spoken in %.0f ms",
                    (g_get_monotonic_time () - start) / 1000.0);
    g_assert_nonnull (part->pcm);
    g_assert_cmpuint (g_bytes_get_size (part->pcm), >, 8000 * 2);
    g_assert_null (dynamic->pcm);
  }
}

/* WAV prompts: found in the prompts folder, converted to 8 kHz. */
static void
test_wav_prompt (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KefuSwitchConfig) config = NULL;
  g_autofree char *text = base_with (20, "wav = chime.wav\nen = Hello.");
  gint16 samples[16000];
  const KefuSwitchPromptPart *part;

  for (guint i = 0; i < G_N_ELEMENTS (samples); i++)
    samples[i] = (gint16) (8000 * sin (2 * G_PI * 440 * i / 16000.0));
  g_assert_true (kefu_wav_save ("prompts/chime.wav", samples, G_N_ELEMENTS (samples), 16000,
                                &error));
  write_config (text);
  g_assert_true (kefu_switch_config_load ("kefu-switch.conf", &config, &error));
  g_assert_no_error (error);
  part = kefu_switch_config_get_prompt (config, "hello")->parts->pdata[0];
  g_assert_cmpint (part->kind, ==, KEFU_SWITCH_PROMPT_PART_WAV);
  g_assert_null (part->language);
  g_assert_true (g_path_is_absolute (part->path));
  /* one second at 8 kHz */
  g_assert_cmpuint (g_bytes_get_size (part->pcm), ==, 8000 * sizeof (gint16));

  /* not a WAV: the reader's reason, on the prompt's line */
  g_clear_pointer (&config, kefu_switch_config_unref);
  g_file_set_contents ("prompts/chime.wav", "not a wav", -1, &error);
  g_assert_no_error (error);
  write_config (text);
  g_assert_false (kefu_switch_config_load ("kefu-switch.conf", &config, &error));
  g_assert_true (g_str_has_prefix (error->message, "kefu-switch.conf:20: "));
  g_assert_nonnull (strstr (error->message, "chime.wav"));
}

/* A reload makes a new object; a call holding the old one keeps it
 * whole; a broken file leaves the running config alone. */
static void
test_reload (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KefuSwitchConfig) running = NULL;
  g_autoptr(KefuSwitchConfig) reloaded = NULL;
  g_autoptr(KefuSwitchConfig) broken = NULL;
  KefuSwitchConfig *held_by_call;
  g_autofree char *changed = base_with (12, "skills = vip\nring-timeout = 7");

  write_config (base);
  g_assert_true (kefu_switch_config_load ("kefu-switch.conf", &running, &error));
  held_by_call = kefu_switch_config_ref (running);

  write_config (changed);
  g_assert_true (kefu_switch_config_load ("kefu-switch.conf", &reloaded, &error));
  g_assert_no_error (error);
  g_assert_true (reloaded != running);
  g_assert_cmpuint (kefu_switch_config_get_queue (reloaded, "sales")->ring_timeout_ms, ==, 7000);

  /* the core swaps: the call's reference keeps the old one whole */
  g_clear_pointer (&running, kefu_switch_config_unref);
  running = g_steal_pointer (&reloaded);
  g_assert_cmpuint (kefu_switch_config_get_queue (held_by_call, "sales")->ring_timeout_ms, ==,
                    20000);
  g_assert_nonnull (kefu_switch_config_get_flow (held_by_call, "main"));
  kefu_switch_config_unref (held_by_call);

  write_config ("[switch]\nserver = nowhere\n");
  g_assert_false (kefu_switch_config_load ("kefu-switch.conf", &broken, &error));
  g_assert_null (broken);
  g_assert_cmpuint (kefu_switch_config_get_queue (running, "sales")->ring_timeout_ms, ==, 7000);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/switch-config/valid", test_base_is_valid);
  ADD ("/switch-config/errors", test_errors);
  ADD ("/switch-config/unreadable", test_unreadable);
  ADD ("/switch-config/demo", test_demo);
  ADD ("/switch-config/wav-prompt", test_wav_prompt);
  ADD ("/switch-config/reload", test_reload);
  return g_test_run ();
}
