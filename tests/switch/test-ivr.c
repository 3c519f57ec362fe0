/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The IVR interpreter with a scripted driver in place of a call: it plays
 * prompts by timers, keys digits when a given prompt starts, answers
 * look-ups and callback requests, and sets the clock.  Timeouts are a
 * tenth of a second or so.  What is checked is what a caller would notice
 * (the prompts heard, in order) and what the core receives (queue, skill,
 * customer, path, callback number).
 */
#include "config.h"

#include "kefu-ivr.h"
#include "kefu-ivr-flow.h"

#include <glib/gstdio.h>

#include <errno.h>
#include <string.h>

#define HAVE_INTTYPES_H 1
#define HAVE_STDBOOL_H 1
#define HAVE_INET6 1
#include <re.h>

static const char conf_text[] =
  "[switch]\n"
  "server = http://127.0.0.1:1\n"
  "credentials = creds\n"
  "language = en\n"
  "\n"
  "[trunk t]\n"
  "allow = 127.0.0.1\n"
  "ivr = main\n"
  "\n"
  "[queue sales]\n"
  "priority = 7\n"
  "skills = vip\n"
  "[queue support]\n"
  "[queue operator]\n"
  "\n"
  "[hours office]\n"
  "timezone = Asia/Shanghai\n"
  "mon-fri = 09:00-18:00\n"
  "\n"
  "[prompt welcome]\nen = Welcome.\n"
  "[prompt menu]\nen = Press one or two.\n"
  "[prompt invalid]\nen = Invalid.\n"
  "[prompt silence]\nen = Nothing heard.\n"
  "[prompt closed]\nen = Closed.\n"
  "[prompt ask-account]\nen = Your account number.\n"
  "[prompt hello-customer]\nen = Hello, {customer.name}.\n"
  "[prompt ask-number]\nen = Your number.\n"
  "[prompt thanks]\nen = We will call {number}.\n"
  "[prompt fax]\nen = Fax soon.\n"
  "[prompt chinese-only]\nzh = 您好。\n"
  "\n"
  "[ivr main]\n"
  "play welcome\n"
  "hours office\n"
  "  on closed goto closed\n"
  "menu menu timeout=0.15 inter-digit=0.1 retries=2 invalid=invalid no-input=silence\n"
  "  on 1 queue sales\n"
  "  on 2 goto account\n"
  "  on 0 queue operator\n"
  "  on 9 play fax; repeat\n"
  "  on 42 queue support\n"
  "  on failed queue operator\n"
  "\n"
  "[ivr strict]\n"
  "menu menu timeout=0.1 retries=1 invalid=invalid\n"
  "  on 1 queue sales\n"
  "\n"
  "[ivr account]\n"
  "collect account ask-account min=4 max=8 timeout=0.2 inter-digit=0.15 retries=1 "
  "invalid=invalid\n"
  "lookup account {account}\n"
  "  on found play hello-customer; queue sales skill=vip\n"
  "  on not-found play invalid; goto account\n"
  "\n"
  "[ivr caller]\n"
  "lookup caller\n"
  "  on found play hello-customer\n"
  "  on not-found hangup\n"
  "queue support\n"
  "\n"
  "[ivr closed]\n"
  "play closed\n"
  "collect number ask-number min=5 max=12 terminator=none timeout=0.2 inter-digit=0.1\n"
  "callback {number}\n"
  "  on ok play thanks\n"
  "  on failed hangup\n"
  "hangup\n"
  "\n"
  "[ivr nobarge]\n"
  "menu menu barge-in=no timeout=0.2\n"
  "  on 1 queue sales\n"
  "\n"
  "[ivr total]\n"
  "collect code ask-account min=3 max=10 timeout=1 inter-digit=1 total=0.25 retries=0\n"
  "queue sales\n"
  "\n"
  "[ivr language]\n"
  "play chinese-only welcome\n"
  "language zh\n"
  "play chinese-only welcome\n"
  "queue sales\n"
  "\n"
  "[ivr loop1]\ngoto loop2\n"
  "[ivr loop2]\ngoto loop1\n";

static KefuSwitchConfig *config;
static KefuTts *tts;

typedef struct {
  const char *label;
  const char *digits;
} Cue;

typedef struct {
  struct kefu_ivr *ivr;
  GPtrArray       *played;          /* labels, in order */
  GBytes          *last_dynamic;
  guint            play_ms;
  struct tmr       play_tmr;
  gboolean         playing;
  guint            stops;
  GQueue           cues;            /* of Cue*: digits to key when a prompt starts */
  GString         *to_key;
  struct tmr       key_tmr;
  guint            key_gap_ms;

  char            *lookup_value;
  enum kefu_ivr_lookup_by lookup_by;
  JsonObject      *lookup_answer;   /* NULL: not found */
  int              lookup_err;
  struct tmr       lookup_tmr;

  char            *callback_number;
  int              callback_err;
  struct tmr       callback_tmr;

  GDateTime       *now;
  gboolean         finished;
  enum kefu_ivr_outcome outcome;
  char            *queue, *skill, *path, *result_callback;
  gint64           customer_id;
  int              priority, err;
  gint64           finished_at;
  struct tmr       guard;
} Script;

static const char *
label_of (GBytes *pcm)
{
  for (guint i = 0; i < config->prompts->len; i++)
    {
      const KefuSwitchPrompt *pr = config->prompts->pdata[i];

      for (guint j = 0; j < pr->parts->len; j++)
        if (((KefuSwitchPromptPart *) pr->parts->pdata[j])->pcm == pcm)
          return pr->name;
    }
  return "dynamic";
}

static void on_key (void *arg);

static void
on_play_timer (void *arg)
{
  Script *s = arg;

  s->playing = FALSE;
  kefu_ivr_play_done (s->ivr);
}

static int
drv_play (void *arg, GBytes *pcm)
{
  Script *s = arg;
  const char *label = label_of (pcm);
  Cue *cue = g_queue_peek_head (&s->cues);

  g_assert_false (s->playing);
  g_assert_cmpuint (g_bytes_get_size (pcm), >, 0);
  g_ptr_array_add (s->played, g_strdup (label));
  if (g_str_equal (label, "dynamic"))
    {
      g_clear_pointer (&s->last_dynamic, g_bytes_unref);
      s->last_dynamic = g_bytes_ref (pcm);
    }
  s->playing = TRUE;
  tmr_start (&s->play_tmr, s->play_ms, on_play_timer, s);
  if (cue && g_str_equal (cue->label, label))
    {
      g_queue_pop_head (&s->cues);
      g_string_append (s->to_key, cue->digits);
      g_free (cue);
      tmr_start (&s->key_tmr, 5, on_key, s);
    }
  return 0;
}

static void
drv_stop (void *arg)
{
  Script *s = arg;

  g_assert_true (s->playing);
  s->playing = FALSE;
  s->stops++;
  tmr_cancel (&s->play_tmr);
}

static void
on_key (void *arg)
{
  Script *s = arg;
  char digit;

  if (s->to_key->len == 0 || s->finished)
    return;
  digit = s->to_key->str[0];
  g_string_erase (s->to_key, 0, 1);
  if (s->to_key->len)
    tmr_start (&s->key_tmr, s->key_gap_ms, on_key, s);
  kefu_ivr_digit (s->ivr, digit);
}

static void
on_lookup_answer (void *arg)
{
  Script *s = arg;

  kefu_ivr_lookup_done (s->ivr, s->lookup_err, s->lookup_answer);
}

static int
drv_lookup (void *arg, enum kefu_ivr_lookup_by by, const char *value)
{
  Script *s = arg;

  g_free (s->lookup_value);
  s->lookup_value = g_strdup (value);
  s->lookup_by = by;
  tmr_start (&s->lookup_tmr, 5, on_lookup_answer, s);
  return 0;
}

static void
on_callback_answer (void *arg)
{
  Script *s = arg;

  kefu_ivr_callback_done (s->ivr, s->callback_err);
}

static int
drv_callback (void *arg, const char *number, gint64 customer_id, const char *path)
{
  Script *s = arg;

  g_free (s->callback_number);
  s->callback_number = g_strdup (number);
  tmr_start (&s->callback_tmr, 5, on_callback_answer, s);
  return 0;
}

static void
drv_finished (void *arg, const struct kefu_ivr_result *r)
{
  Script *s = arg;

  g_assert_false (s->finished);
  s->finished = TRUE;
  s->finished_at = g_get_monotonic_time ();
  s->outcome = r->outcome;
  s->queue = g_strdup (r->queue);
  s->skill = g_strdup (r->skill);
  s->path = g_strdup (r->path);
  s->customer_id = r->customer_id;
  s->priority = r->priority;
  s->err = r->err;
  s->result_callback = g_strdup (r->callback_number);
  /* as the core does: the IVR may go away from inside `finished` */
  s->ivr = mem_deref (s->ivr);
  re_cancel ();
}

static GDateTime *
drv_now (void *arg)
{
  Script *s = arg;

  return g_date_time_ref (s->now);
}

static const struct kefu_ivr_driver driver = {
  .play = drv_play,
  .stop = drv_stop,
  .lookup_customer = drv_lookup,
  .request_callback = drv_callback,
  .finished = drv_finished,
  .now = drv_now,
};

static void
on_guard (void *arg)
{
  re_cancel ();
}

static Script *
script_new (void)
{
  Script *s = g_new0 (Script, 1);
  g_autoptr(GTimeZone) tz = g_time_zone_new_identifier ("Asia/Shanghai");

  s->played = g_ptr_array_new_with_free_func (g_free);
  s->to_key = g_string_new (NULL);
  s->play_ms = 10;
  s->key_gap_ms = 20;
  g_queue_init (&s->cues);
  tmr_init (&s->play_tmr);
  tmr_init (&s->key_tmr);
  tmr_init (&s->lookup_tmr);
  tmr_init (&s->callback_tmr);
  tmr_init (&s->guard);
  /* a Wednesday at 10:00: open */
  s->now = g_date_time_new (tz, 2026, 11, 25, 10, 0, 0);
  return s;
}

static void
script_free (Script *s)
{
  tmr_cancel (&s->play_tmr);
  tmr_cancel (&s->key_tmr);
  tmr_cancel (&s->lookup_tmr);
  tmr_cancel (&s->callback_tmr);
  tmr_cancel (&s->guard);
  mem_deref (s->ivr);
  g_ptr_array_unref (s->played);
  g_clear_pointer (&s->last_dynamic, g_bytes_unref);
  g_queue_clear_full (&s->cues, g_free);
  g_string_free (s->to_key, TRUE);
  g_free (s->lookup_value);
  g_clear_pointer (&s->lookup_answer, json_object_unref);
  g_free (s->callback_number);
  g_date_time_unref (s->now);
  g_free (s->queue);
  g_free (s->skill);
  g_free (s->path);
  g_free (s->result_callback);
  g_free (s);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Script, script_free)

static void
cue (Script *s, const char *label, const char *digits)
{
  Cue *c = g_new0 (Cue, 1);

  c->label = label;
  c->digits = digits;
  g_queue_push_tail (&s->cues, c);
}

/* Runs the flow until the IVR finishes (or 5 s pass). */
static void
run_flow (Script     *s,
          const char *flow,
          const char *caller)
{
  struct kefu_ivr_call call = { "test-call", caller, NULL };

  g_assert_cmpint (kefu_ivr_alloc (&s->ivr, config, flow, tts, &call, &driver, s), ==, 0);
  tmr_start (&s->guard, 5000, on_guard, s);
  kefu_ivr_start (s->ivr);
  if (!s->finished)
    g_assert_cmpint (re_main (NULL), ==, 0);
  tmr_cancel (&s->guard);
}

static char *
played (Script *s)
{
  g_ptr_array_add (s->played, NULL);
  char *all = g_strjoinv (" ", (char **) s->played->pdata);
  g_ptr_array_remove_index (s->played, s->played->len - 1);
  return all;
}

#define assert_played(s, expected) G_STMT_START { \
    g_autofree char *_all = played (s); \
    g_assert_cmpstr (_all, ==, expected); \
  } G_STMT_END

static void
test_menu_choice (void)
{
  g_autoptr(Script) s = script_new ();

  cue (s, "menu", "1");
  run_flow (s, "main", "+8613800138000");
  g_assert_true (s->finished);
  g_assert_cmpint (s->outcome, ==, KEFU_IVR_QUEUE);
  g_assert_cmpstr (s->queue, ==, "sales");
  g_assert_cmpint (s->priority, ==, 7);
  g_assert_null (s->skill);
  g_assert_cmpstr (s->path, ==, "main>1>sales");
  assert_played (s, "welcome menu");
}

/* A digit stops the prompt at once. */
static void
test_barge_in (void)
{
  g_autoptr(Script) s = script_new ();
  gint64 start;

  cue (s, "menu", "0");
  /* the welcome is short; from the menu on every prompt lasts 3 s */
  start = g_get_monotonic_time ();
  s->play_ms = 10;
  g_assert_cmpint (kefu_ivr_alloc (&s->ivr, config, "main", tts,
                                   &(struct kefu_ivr_call) { "c", NULL, NULL }, &driver, s), ==, 0);
  kefu_ivr_start (s->ivr);
  s->play_ms = 3000;
  tmr_start (&s->guard, 5000, on_guard, s);
  re_main (NULL);
  tmr_cancel (&s->guard);
  g_assert_true (s->finished);
  g_assert_cmpstr (s->queue, ==, "operator");
  g_assert_cmpuint (s->stops, ==, 1);
  /* well before the 3 s menu prompt would have ended */
  g_assert_cmpint (s->finished_at - start, <, 1000000);
  assert_played (s, "welcome menu");
}

/* Without barge-in, keys pressed over the prompt do not count. */
static void
test_no_barge_in (void)
{
  g_autoptr(Script) s = script_new ();

  s->play_ms = 100;
  cue (s, "menu", "2");   /* over the prompt: ignored, and 2 is no choice here anyway */
  run_flow (s, "nobarge", NULL);
  /* no input after the prompt: the no-input, then asked again ... */
  g_assert_true (s->finished);
  g_assert_cmpuint (s->stops, ==, 0);
  g_assert_cmpint (s->outcome, ==, KEFU_IVR_HANGUP);
  g_assert_cmpstr (s->path, ==, "nobarge>failed");
  assert_played (s, "menu menu menu");
}

/* "4" waits for the next digit: "42" is a choice. */
static void
test_two_digits (void)
{
  g_autoptr(Script) s = script_new ();

  cue (s, "menu", "42");
  run_flow (s, "main", NULL);
  g_assert_cmpstr (s->queue, ==, "support");
  g_assert_cmpstr (s->path, ==, "main>42>support");
}

/* Silence: the no-input prompt and the menu again, retries times, then
 * the `on failed` branch. */
static void
test_timeouts_then_fallback (void)
{
  g_autoptr(Script) s = script_new ();
  gint64 start = g_get_monotonic_time ();

  run_flow (s, "main", NULL);
  g_assert_true (s->finished);
  g_assert_cmpstr (s->queue, ==, "operator");
  g_assert_cmpstr (s->path, ==, "main>failed>operator");
  assert_played (s, "welcome menu silence menu silence menu silence");
  /* three 0.15 s timeouts */
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 450000);
}

/* A wrong key: the invalid prompt, then the menu again. */
static void
test_invalid_then_valid (void)
{
  g_autoptr(Script) s = script_new ();

  cue (s, "menu", "7");
  cue (s, "menu", "1");
  run_flow (s, "main", NULL);
  g_assert_cmpstr (s->queue, ==, "sales");
  assert_played (s, "welcome menu invalid menu");
  g_assert_cmpstr (s->path, ==, "main>1>sales");
}

/* No `on failed`: after the retries the IVR hangs up. */
static void
test_invalid_then_hangup (void)
{
  g_autoptr(Script) s = script_new ();

  cue (s, "menu", "5");
  cue (s, "menu", "6");
  run_flow (s, "strict", NULL);
  g_assert_cmpint (s->outcome, ==, KEFU_IVR_HANGUP);
  g_assert_null (s->queue);
  assert_played (s, "menu invalid menu invalid");
  g_assert_cmpstr (s->path, ==, "strict>failed");
}

/* 9: "the fax service is coming", then the menu again. */
static void
test_repeat (void)
{
  g_autoptr(Script) s = script_new ();

  cue (s, "menu", "9");
  cue (s, "menu", "1");
  run_flow (s, "main", NULL);
  g_assert_cmpstr (s->queue, ==, "sales");
  assert_played (s, "welcome menu fax menu");
  g_assert_cmpstr (s->path, ==, "main>9>1>sales");
}

/* Keys pressed during a plain play answer the next menu: its prompt is
 * not played. */
static void
test_typeahead (void)
{
  g_autoptr(Script) s = script_new ();

  s->play_ms = 200;
  cue (s, "welcome", "1");
  run_flow (s, "main", NULL);
  g_assert_cmpstr (s->queue, ==, "sales");
  assert_played (s, "welcome");
}

/* Sunday: closed; the caller keys a number, a callback is requested and
 * confirmed by reading the number back. */
static void
test_closed_callback (void)
{
  g_autoptr(Script) s = script_new ();
  g_autoptr(GTimeZone) tz = g_time_zone_new_identifier ("Asia/Shanghai");
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) expected = NULL;

  g_date_time_unref (s->now);
  s->now = g_date_time_new (tz, 2026, 11, 29, 10, 0, 0);
  cue (s, "ask-number", "13800138000");
  run_flow (s, "main", "+8612345678");
  g_assert_true (s->finished);
  g_assert_cmpint (s->outcome, ==, KEFU_IVR_CALLBACK);
  g_assert_cmpstr (s->callback_number, ==, "13800138000");
  g_assert_cmpstr (s->result_callback, ==, "13800138000");
  g_assert_cmpstr (s->path, ==, "main>closed>13800138000>callback");
  assert_played (s, "welcome closed ask-number dynamic");
  /* the number is read digit by digit */
  expected = kefu_tts_speak (tts, "en", "We will call 1 3 8 0 0 1 3 8 0 0 0.", &error);
  g_assert_no_error (error);
  g_assert_true (s->last_dynamic == expected);
}

/* A failed callback request takes `on failed`. */
static void
test_callback_fails (void)
{
  g_autoptr(Script) s = script_new ();

  s->callback_err = ECONNREFUSED;
  cue (s, "ask-number", "5550100");
  run_flow (s, "closed", NULL);
  g_assert_cmpint (s->outcome, ==, KEFU_IVR_HANGUP);
  g_assert_cmpstr (s->path, ==, "closed>5550100");
}

/* The account number ends with # (the terminator); too short is invalid;
 * the customer found is greeted by name and goes to sales with skill vip. */
static void
test_lookup_by_account (void)
{
  g_autoptr(Script) s = script_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) expected = NULL;

  s->lookup_answer = json_object_new ();
  json_object_set_int_member (s->lookup_answer, "id", 77);
  json_object_set_string_member (s->lookup_answer, "name", "Ana Li");
  json_object_set_string_member (s->lookup_answer, "tier", "vip");
  cue (s, "menu", "2");
  cue (s, "ask-account", "12#");
  cue (s, "ask-account", "4711#");
  run_flow (s, "main", NULL);
  g_assert_cmpint (s->lookup_by, ==, KEFU_IVR_LOOKUP_ACCOUNT);
  g_assert_cmpstr (s->lookup_value, ==, "4711");
  g_assert_cmpint (s->outcome, ==, KEFU_IVR_QUEUE);
  g_assert_cmpstr (s->queue, ==, "sales");
  g_assert_cmpstr (s->skill, ==, "vip");
  g_assert_cmpint (s->customer_id, ==, 77);
  g_assert_cmpstr (s->path, ==, "main>2>account>4711>sales");
  assert_played (s, "welcome menu ask-account invalid ask-account dynamic");
  expected = kefu_tts_speak (tts, "en", "Hello, Ana Li.", &error);
  g_assert_true (s->last_dynamic == expected);
}

/* Not found: try again; the caller hangs up meanwhile. */
static void
test_lookup_not_found_then_hangup (void)
{
  g_autoptr(Script) s = script_new ();

  cue (s, "ask-account", "5678#");
  g_assert_cmpint (kefu_ivr_alloc (&s->ivr, config, "account", tts,
                                   &(struct kefu_ivr_call) { "c", NULL, NULL }, &driver, s), ==, 0);
  kefu_ivr_start (s->ivr);
  /* ~0.1 s to key, then the second collect waits 0.2 s for a first digit */
  tmr_start (&s->guard, 250, on_guard, s);
  re_main (NULL);
  g_assert_false (s->finished);
  g_assert_cmpstr (s->lookup_value, ==, "5678");
  g_assert_cmpstr (kefu_ivr_path (s->ivr), ==, "account>5678>account");
  assert_played (s, "ask-account invalid ask-account");
  /* the caller hangs up: the core frees the IVR; nothing more happens */
  s->ivr = mem_deref (s->ivr);
}

/* Collecting stops at max digits; `total` bounds the whole input. */
static void
test_total_timeout (void)
{
  g_autoptr(Script) s = script_new ();

  s->key_gap_ms = 100;
  cue (s, "ask-account", "12345");  /* the fourth digit comes after 0.25 s */
  run_flow (s, "total", NULL);
  g_assert_cmpstr (s->queue, ==, "sales");
  /* what was keyed in time counts */
  g_assert_cmpstr (s->path, ==, "total>123>sales");
}

static void
test_lookup_by_caller (void)
{
  g_autoptr(Script) s = script_new ();

  s->lookup_answer = json_object_new ();
  json_object_set_int_member (s->lookup_answer, "id", 12);
  json_object_set_string_member (s->lookup_answer, "name", "Zhang Wei");
  run_flow (s, "caller", "+8613800138000");
  g_assert_cmpint (s->lookup_by, ==, KEFU_IVR_LOOKUP_PHONE);
  g_assert_cmpstr (s->lookup_value, ==, "+8613800138000");
  g_assert_cmpstr (s->queue, ==, "support");
  g_assert_cmpint (s->customer_id, ==, 12);
  assert_played (s, "dynamic");
}

/* kefu-server unreachable: not found, and the flow goes on. */
static void
test_lookup_error (void)
{
  g_autoptr(Script) s = script_new ();

  s->lookup_err = ECONNREFUSED;
  run_flow (s, "caller", "+8613800138000");
  g_assert_cmpint (s->outcome, ==, KEFU_IVR_HANGUP);
  g_assert_cmpint (s->customer_id, ==, 0);
}

/* No caller number: not found without asking. */
static void
test_lookup_no_number (void)
{
  g_autoptr(Script) s = script_new ();

  run_flow (s, "caller", NULL);
  g_assert_null (s->lookup_value);
  g_assert_cmpint (s->outcome, ==, KEFU_IVR_HANGUP);
}

/* Only the parts in the call's languages are played. */
static void
test_language (void)
{
  g_autoptr(Script) s = script_new ();

  run_flow (s, "language", NULL);
  /* en: chinese-only has nothing to say, welcome does; zh: the opposite */
  assert_played (s, "welcome chinese-only");
}

static void
test_loop_guard (void)
{
  g_autoptr(Script) s = script_new ();

  g_test_expect_message ("KefuIvr", G_LOG_LEVEL_WARNING, "*loops on itself*");
  run_flow (s, "loop1", NULL);
  g_test_assert_expected_messages ();
  g_assert_cmpint (s->outcome, ==, KEFU_IVR_FAILED);
  g_assert_cmpint (s->err, ==, ELOOP);
}

static void
test_alloc_errors (void)
{
  struct kefu_ivr *ivr = NULL;

  g_assert_cmpint (kefu_ivr_alloc (&ivr, config, "nowhere", tts, NULL, &driver, NULL), ==,
                   ENOENT);
  g_assert_null (ivr);
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (libre_init (), ==, 0);

  dir = g_dir_make_tmp ("kefu-ivr-XXXXXX", NULL);
  path = g_build_filename (dir, "ivr.conf", NULL);
  g_assert_true (kefu_switch_config_load_data (path, conf_text, strlen (conf_text), &config,
                                               &error));
  g_assert_no_error (error);
  tts = kefu_tts_new (&error);
  g_assert_no_error (error);
  g_assert_true (kefu_switch_config_render_prompts (config, tts, &error));
  g_assert_no_error (error);

  g_test_add_func ("/ivr/menu-choice", test_menu_choice);
  g_test_add_func ("/ivr/barge-in", test_barge_in);
  g_test_add_func ("/ivr/no-barge-in", test_no_barge_in);
  g_test_add_func ("/ivr/two-digits", test_two_digits);
  g_test_add_func ("/ivr/timeouts-then-fallback", test_timeouts_then_fallback);
  g_test_add_func ("/ivr/invalid-then-valid", test_invalid_then_valid);
  g_test_add_func ("/ivr/invalid-then-hangup", test_invalid_then_hangup);
  g_test_add_func ("/ivr/repeat", test_repeat);
  g_test_add_func ("/ivr/typeahead", test_typeahead);
  g_test_add_func ("/ivr/closed-callback", test_closed_callback);
  g_test_add_func ("/ivr/callback-fails", test_callback_fails);
  g_test_add_func ("/ivr/lookup-by-account", test_lookup_by_account);
  g_test_add_func ("/ivr/lookup-not-found-then-hangup", test_lookup_not_found_then_hangup);
  g_test_add_func ("/ivr/total-timeout", test_total_timeout);
  g_test_add_func ("/ivr/lookup-by-caller", test_lookup_by_caller);
  g_test_add_func ("/ivr/lookup-error", test_lookup_error);
  g_test_add_func ("/ivr/lookup-no-number", test_lookup_no_number);
  g_test_add_func ("/ivr/language", test_language);
  g_test_add_func ("/ivr/loop-guard", test_loop_guard);
  g_test_add_func ("/ivr/alloc-errors", test_alloc_errors);
  status = g_test_run ();

  kefu_switch_config_unref (config);
  kefu_tts_free (tts);
  g_rmdir (dir);
  libre_close ();
  return status;
}
