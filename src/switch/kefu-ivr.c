/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuIvr"

#include "config.h"

#include "kefu-ivr.h"
#include "kefu-ivr-flow.h"

#include <errno.h>
#include <string.h>

#define HAVE_INTTYPES_H 1
#define HAVE_STDBOOL_H 1
#define HAVE_INET6 1
#include <re.h>

/* Steps run without waiting for the caller or the server before the IVR
 * gives up: only a flow that loops on itself (goto a -> goto a) gets there. */
#define MAX_STEPS_WITHOUT_WAIT 1000
#define MAX_PATH 480

typedef enum {
  STATE_NEW,
  STATE_RUNNING,    /* between steps */
  STATE_PLAYING,    /* a play step */
  STATE_INPUT,      /* a menu or collect step: prompt and/or digits */
  STATE_LOOKUP,
  STATE_CALLBACK,
  STATE_DONE,
} State;

typedef struct {
  GPtrArray         *steps;   /* borrowed from the config */
  guint              index;   /* next step */
  const KefuIvrStep *owner;   /* a branch's step, for `repeat`; NULL for a flow */
} Frame;

typedef void (*AfterPlay) (struct kefu_ivr *ivr);

struct kefu_ivr {
  /* owned */
  KefuSwitchConfig              *config;
  char                          *call_id;
  char                          *caller;
  char                         **languages;
  GArray                        *stack;        /* of Frame */
  GPtrArray                     *playlist;     /* of GBytes* */
  GString                       *digits;       /* of the current input */
  GString                       *typeahead;    /* keyed while no input was asked for */
  GString                       *path;
  GHashTable                    *vars;         /* name -> value */
  GHashTable                    *customer;     /* field -> text, or NULL */
  char                          *skill;
  char                          *callback_number;
  struct tmr                     input_tmr;    /* first digit / inter-digit */
  struct tmr                     total_tmr;

  /* borrowed */
  KefuTts                       *tts;
  struct kefu_ivr_driver         driver;
  void                          *arg;

  State                          state;
  gint64                         customer_id;
  gboolean                       callback_taken;

  /* playback */
  guint                          play_index;
  gboolean                       playing;      /* the driver is playing for us */
  AfterPlay                      after_play;

  /* input */
  const KefuIvrStep             *input;
  guint                          attempts;     /* failed attempts so far */
  gboolean                       prompting;    /* the input's prompt is playing */
  guint                          steps_since_wait;
};

static void run (struct kefu_ivr *ivr);
static void input_begin_attempt (struct kefu_ivr *ivr);

/* --- lifetime --------------------------------------------------------------------------- */

static void
ivr_destructor (void *data)
{
  struct kefu_ivr *ivr = data;

  tmr_cancel (&ivr->input_tmr);
  tmr_cancel (&ivr->total_tmr);
  g_clear_pointer (&ivr->config, kefu_switch_config_unref);
  g_free (ivr->call_id);
  g_free (ivr->caller);
  g_strfreev (ivr->languages);
  g_array_unref (ivr->stack);
  g_ptr_array_unref (ivr->playlist);
  g_string_free (ivr->digits, TRUE);
  g_string_free (ivr->typeahead, TRUE);
  g_string_free (ivr->path, TRUE);
  g_hash_table_unref (ivr->vars);
  g_clear_pointer (&ivr->customer, g_hash_table_unref);
  g_free (ivr->skill);
  g_free (ivr->callback_number);
}

static void
path_add (struct kefu_ivr *ivr,
          const char      *element)
{
  if (ivr->path->len + strlen (element) + 1 > MAX_PATH)
    return;
  if (ivr->path->len)
    g_string_append_c (ivr->path, '>');
  g_string_append (ivr->path, element);
}

static void
push_flow (struct kefu_ivr   *ivr,
           const KefuIvrFlow *flow)
{
  Frame frame = { flow->steps, 0, NULL };

  g_array_set_size (ivr->stack, 0);
  g_array_append_val (ivr->stack, frame);
  path_add (ivr, flow->name);
}

int
kefu_ivr_alloc (struct kefu_ivr             **ivrp,
                KefuSwitchConfig             *config,
                const char                   *flow_name,
                KefuTts                      *tts,
                const struct kefu_ivr_call   *call,
                const struct kefu_ivr_driver *driver,
                void                         *arg)
{
  struct kefu_ivr *ivr;
  const KefuIvrFlow *flow;

  if (ivrp == NULL || config == NULL || flow_name == NULL || driver == NULL
      || driver->play == NULL || driver->stop == NULL || driver->finished == NULL)
    return EINVAL;
  flow = kefu_switch_config_get_flow (config, flow_name);
  if (flow == NULL)
    return ENOENT;

  ivr = mem_zalloc (sizeof *ivr, ivr_destructor);
  if (ivr == NULL)
    return ENOMEM;
  tmr_init (&ivr->input_tmr);
  tmr_init (&ivr->total_tmr);
  ivr->config = kefu_switch_config_ref (config);
  ivr->tts = tts;
  ivr->driver = *driver;
  ivr->arg = arg;
  ivr->call_id = g_strdup (call && call->call_id ? call->call_id : "");
  ivr->caller = g_strdup (call ? call->caller : NULL);
  ivr->languages = g_strdupv ((char **) (call && call->languages ? call->languages
                                         : (const char * const *) config->settings.languages));
  ivr->stack = g_array_new (FALSE, FALSE, sizeof (Frame));
  ivr->playlist = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  ivr->digits = g_string_new (NULL);
  ivr->typeahead = g_string_new (NULL);
  ivr->path = g_string_new (NULL);
  ivr->vars = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (ivr->caller)
    g_hash_table_insert (ivr->vars, g_strdup ("caller"), g_strdup (ivr->caller));
  push_flow (ivr, flow);
  *ivrp = ivr;
  return 0;
}

const char *
kefu_ivr_path (const struct kefu_ivr *ivr)
{
  return ivr ? ivr->path->str : NULL;
}

gint64
kefu_ivr_customer_id (const struct kefu_ivr *ivr)
{
  return ivr ? ivr->customer_id : 0;
}

/* --- ending ----------------------------------------------------------------------------- */

static void
finish (struct kefu_ivr       *ivr,
        enum kefu_ivr_outcome  outcome,
        const char            *queue,
        const char            *skill,
        int                    err)
{
  struct kefu_ivr_result result = { 0 };
  const KefuSwitchQueue *q = queue ? kefu_switch_config_get_queue (ivr->config, queue) : NULL;

  if (ivr->state == STATE_DONE)
    return;
  tmr_cancel (&ivr->input_tmr);
  tmr_cancel (&ivr->total_tmr);
  if (ivr->playing)
    {
      ivr->playing = FALSE;
      ivr->driver.stop (ivr->arg);
    }
  ivr->state = STATE_DONE;

  if (outcome == KEFU_IVR_HANGUP && ivr->callback_taken)
    outcome = KEFU_IVR_CALLBACK;
  if (outcome == KEFU_IVR_QUEUE)
    {
      const char *last = strrchr (ivr->path->str, '>');

      if (g_strcmp0 (last ? last + 1 : ivr->path->str, queue) != 0)
        path_add (ivr, queue);
    }
  result.outcome = outcome;
  result.queue = queue;
  result.skill = skill;
  result.priority = q ? q->priority : 0;
  result.customer_id = ivr->customer_id;
  result.callback_number = ivr->callback_number;
  result.path = ivr->path->str;
  result.language = ivr->languages[0];
  result.err = err;
  g_debug ("call %s: IVR done (%d), path %s", ivr->call_id, outcome, ivr->path->str);
  /* the last thing: `finished` may free the IVR */
  ivr->driver.finished (ivr->arg, &result);
}

static void
fail (struct kefu_ivr *ivr,
      int              err)
{
  finish (ivr, KEFU_IVR_FAILED, NULL, NULL, err);
}

/* --- prompts ---------------------------------------------------------------------------- */

/* A value of digits only is spoken digit by digit (a phone or account
 * number), not as one large number. */
static void
append_value (GString    *out,
              const char *value)
{
  gboolean digits = strlen (value) > 4;

  for (const char *c = value; *c && digits; c++)
    digits = g_ascii_isdigit (*c);
  if (!digits)
    {
      g_string_append (out, value);
      return;
    }
  for (const char *c = value; *c; c++)
    {
      g_string_append_c (out, *c);
      if (c[1])
        g_string_append_c (out, ' ');
    }
}

static char *
fill_placeholders (const char *text,
                   GHashTable *vars,
                   GHashTable *customer)
{
  GString *out = g_string_new (NULL);
  const char *c = text;

  while (*c)
    {
      const char *open = strchr (c, '{');
      const char *close;
      g_autofree char *name = NULL;
      const char *value = NULL;

      if (open == NULL || (close = strchr (open, '}')) == NULL)
        {
          g_string_append (out, c);
          break;
        }
      g_string_append_len (out, c, open - c);
      name = g_strndup (open + 1, close - open - 1);
      if (g_str_has_prefix (name, "customer."))
        value = customer ? g_hash_table_lookup (customer, name + 9) : NULL;
      else
        value = vars ? g_hash_table_lookup (vars, name) : NULL;
      if (value)
        append_value (out, value);
      c = close + 1;
    }
  return g_string_free (out, FALSE);
}

static gboolean
part_in_languages (const KefuSwitchPromptPart *part,
                   const char                 *language,
                   gboolean                    first_pass)
{
  if (part->language == NULL)
    return first_pass;
  return g_str_equal (part->language, language);
}

static int
add_prompt (GPtrArray              *out,
            const KefuSwitchPrompt *prompt,
            KefuTts                *tts,
            const char * const     *languages,
            GHashTable             *vars,
            GHashTable             *customer)
{
  for (guint l = 0; languages[l] != NULL; l++)
    for (guint i = 0; i < prompt->parts->len; i++)
      {
        const KefuSwitchPromptPart *part = prompt->parts->pdata[i];
        GBytes *pcm = NULL;

        if (!part_in_languages (part, languages[l], l == 0))
          continue;
        if (part->pcm)
          pcm = g_bytes_ref (part->pcm);
        else if (part->kind == KEFU_SWITCH_PROMPT_PART_TEXT)
          {
            g_autoptr(GError) error = NULL;
            g_autofree char *text = part->dynamic
                                    ? fill_placeholders (part->text, vars, customer)
                                    : g_strdup (part->text);

            if (tts == NULL)
              {
                g_warning ("prompt %s: no text to speech to speak “%s”", prompt->name, text);
                return ENOSYS;
              }
            pcm = kefu_tts_speak (tts, part->language, text, &error);
            if (pcm == NULL)
              {
                g_warning ("prompt %s: %s", prompt->name, error->message);
                return EIO;
              }
          }
        if (pcm == NULL)
          continue;
        if (g_bytes_get_size (pcm) == 0)
          g_bytes_unref (pcm);
        else
          g_ptr_array_add (out, pcm);
      }
  return 0;
}

GBytes *
kefu_ivr_render_prompt (const KefuSwitchPrompt *prompt,
                        KefuTts                *tts,
                        const char * const     *languages,
                        GHashTable             *vars,
                        int                    *err)
{
  g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  GByteArray *all;
  int e;

  e = add_prompt (parts, prompt, tts, languages, vars, NULL);
  if (err)
    *err = e;
  if (e)
    return NULL;
  if (parts->len == 1)
    return g_bytes_ref (parts->pdata[0]);
  all = g_byte_array_new ();
  for (guint i = 0; i < parts->len; i++)
    {
      gsize n;
      const guint8 *data = g_bytes_get_data (parts->pdata[i], &n);
      g_byte_array_append (all, data, (guint) n);
    }
  return g_byte_array_free_to_bytes (all);
}

/* --- playback --------------------------------------------------------------------------- */

static void
play_next (struct kefu_ivr *ivr)
{
  int err;

  if (ivr->play_index >= ivr->playlist->len)
    {
      AfterPlay after = ivr->after_play;

      ivr->after_play = NULL;
      g_ptr_array_set_size (ivr->playlist, 0);
      if (after)
        after (ivr);
      return;
    }
  ivr->playing = TRUE;
  err = ivr->driver.play (ivr->arg, ivr->playlist->pdata[ivr->play_index++]);
  if (err)
    {
      ivr->playing = FALSE;
      fail (ivr, err);
    }
}

/* Plays the prompts (NULL-terminated), then calls `after`. */
static void
play_prompts (struct kefu_ivr         *ivr,
              const KefuSwitchPrompt **prompts,
              guint                    n,
              AfterPlay                after)
{
  int err = 0;

  g_ptr_array_set_size (ivr->playlist, 0);
  ivr->play_index = 0;
  for (guint i = 0; i < n && !err; i++)
    if (prompts[i])
      err = add_prompt (ivr->playlist, prompts[i], ivr->tts,
                        (const char * const *) ivr->languages, ivr->vars, ivr->customer);
  if (err)
    {
      fail (ivr, err);
      return;
    }
  ivr->after_play = after;
  play_next (ivr);
}

static void
stop_playing (struct kefu_ivr *ivr)
{
  if (ivr->playing)
    {
      ivr->playing = FALSE;
      ivr->driver.stop (ivr->arg);
    }
  g_ptr_array_set_size (ivr->playlist, 0);
  ivr->after_play = NULL;
}

void
kefu_ivr_play_done (struct kefu_ivr *ivr)
{
  if (ivr == NULL || !ivr->playing || ivr->state == STATE_DONE)
    return;
  ivr->playing = FALSE;
  play_next (ivr);
}

/* --- running steps ---------------------------------------------------------------------- */

static void
after_play_step (struct kefu_ivr *ivr)
{
  ivr->state = STATE_RUNNING;
  run (ivr);
}

/* Follows `step`'s branch for `key` if it has one; otherwise the flow
 * goes on after the step. */
static void
take_branch (struct kefu_ivr   *ivr,
             const KefuIvrStep *step,
             const char        *key)
{
  const KefuIvrBranch *branch = kefu_ivr_step_get_branch (step, key);

  if (branch)
    {
      Frame frame = { branch->steps, 0, step };
      g_array_append_val (ivr->stack, frame);
    }
  ivr->state = STATE_RUNNING;
  run (ivr);
}

static const char *
var_value (struct kefu_ivr *ivr,
           const char      *name)
{
  return name ? g_hash_table_lookup (ivr->vars, name) : ivr->caller;
}

static void
input_start (struct kefu_ivr   *ivr,
             const KefuIvrStep *step)
{
  ivr->state = STATE_INPUT;
  ivr->input = step;
  ivr->attempts = 0;
  input_begin_attempt (ivr);
}

/* Runs steps until one has to wait. */
static void
run (struct kefu_ivr *ivr)
{
  while (ivr->state == STATE_RUNNING)
    {
      Frame *frame;
      const KefuIvrStep *step;

      if (ivr->stack->len == 0)
        {
          finish (ivr, KEFU_IVR_HANGUP, NULL, NULL, 0);
          return;
        }
      frame = &g_array_index (ivr->stack, Frame, ivr->stack->len - 1);
      if (frame->index >= frame->steps->len)
        {
          g_array_set_size (ivr->stack, ivr->stack->len - 1);
          continue;
        }
      step = frame->steps->pdata[frame->index++];
      if (++ivr->steps_since_wait > MAX_STEPS_WITHOUT_WAIT)
        {
          g_warning ("call %s: the IVR ran %d steps without waiting for anything; "
                     "a flow loops on itself (at line %u)", ivr->call_id,
                     MAX_STEPS_WITHOUT_WAIT, step->line);
          fail (ivr, ELOOP);
          return;
        }

      switch (step->kind)
        {
        case KEFU_IVR_STEP_PLAY:
          ivr->state = STATE_PLAYING;
          ivr->steps_since_wait = 0;
          play_prompts (ivr, (const KefuSwitchPrompt **) step->prompts->pdata, step->prompts->len,
                        after_play_step);
          return;

        case KEFU_IVR_STEP_MENU:
        case KEFU_IVR_STEP_COLLECT:
          ivr->steps_since_wait = 0;
          input_start (ivr, step);
          return;

        case KEFU_IVR_STEP_HOURS:
          {
            GDateTime *now = ivr->driver.now ? ivr->driver.now (ivr->arg)
                                             : g_date_time_new_now_utc ();
            gboolean open = kefu_switch_hours_is_open (step->hours, now);

            g_date_time_unref (now);
            take_branch (ivr, step, open ? "open" : "closed");
            return;
          }

        case KEFU_IVR_STEP_LOOKUP:
          {
            const char *value = step->by_account ? var_value (ivr, step->var) : ivr->caller;
            int err;

            if (value == NULL || *value == '\0' || ivr->driver.lookup_customer == NULL)
              {
                take_branch (ivr, step, "not-found");
                return;
              }
            ivr->state = STATE_LOOKUP;
            ivr->input = step;
            ivr->steps_since_wait = 0;
            err = ivr->driver.lookup_customer (ivr->arg, step->by_account ? KEFU_IVR_LOOKUP_ACCOUNT
                                                                          : KEFU_IVR_LOOKUP_PHONE,
                                               value);
            if (err)
              {
                g_message ("call %s: customer look-up failed: %s", ivr->call_id, g_strerror (err));
                take_branch (ivr, step, "not-found");
              }
            return;
          }

        case KEFU_IVR_STEP_CALLBACK:
          {
            const char *number = var_value (ivr, step->var);
            int err;

            if (number == NULL || *number == '\0' || ivr->driver.request_callback == NULL)
              {
                take_branch (ivr, step, "failed");
                return;
              }
            g_free (ivr->callback_number);
            ivr->callback_number = g_strdup (number);
            ivr->state = STATE_CALLBACK;
            ivr->input = step;
            ivr->steps_since_wait = 0;
            err = ivr->driver.request_callback (ivr->arg, number, ivr->customer_id,
                                                ivr->path->str);
            if (err)
              {
                g_message ("call %s: callback request failed: %s", ivr->call_id,
                           g_strerror (err));
                take_branch (ivr, step, "failed");
              }
            return;
          }

        case KEFU_IVR_STEP_LANGUAGE:
          g_strfreev (ivr->languages);
          ivr->languages = g_strdupv (step->languages);
          break;

        case KEFU_IVR_STEP_SKILL:
          g_free (ivr->skill);
          ivr->skill = g_strdup (step->name);
          break;

        case KEFU_IVR_STEP_QUEUE:
          finish (ivr, KEFU_IVR_QUEUE, step->name, step->skill ? step->skill : ivr->skill, 0);
          return;

        case KEFU_IVR_STEP_GOTO:
          push_flow (ivr, kefu_switch_config_get_flow (ivr->config, step->name));
          break;

        case KEFU_IVR_STEP_REPEAT:
          /* back to the step that owns this branch */
          while (ivr->stack->len > 1)
            {
              Frame *top = &g_array_index (ivr->stack, Frame, ivr->stack->len - 1);
              const KefuIvrStep *owner = top->owner;

              g_array_set_size (ivr->stack, ivr->stack->len - 1);
              if (owner)
                {
                  Frame *parent = &g_array_index (ivr->stack, Frame, ivr->stack->len - 1);

                  if (parent->index > 0)
                    parent->index--;
                  break;
                }
            }
          break;

        case KEFU_IVR_STEP_HANGUP:
          finish (ivr, KEFU_IVR_HANGUP, NULL, NULL, 0);
          return;

        default:
          g_assert_not_reached ();
        }
    }
}

void
kefu_ivr_start (struct kefu_ivr *ivr)
{
  if (ivr == NULL || ivr->state != STATE_NEW)
    return;
  ivr->state = STATE_RUNNING;
  run (ivr);
}

/* --- input: menus and collecting digits ------------------------------------------------- */

static void on_input_timeout (void *arg);
static void on_total_timeout (void *arg);

static void
input_after_prompt (struct kefu_ivr *ivr)
{
  ivr->prompting = FALSE;
  if (ivr->digits->len == 0)
    tmr_start (&ivr->input_tmr, ivr->input->timeout_ms, on_input_timeout, ivr);
  if (ivr->input->total_ms)
    tmr_start (&ivr->total_tmr, ivr->input->total_ms, on_total_timeout, ivr);
}

static void input_digit (struct kefu_ivr *ivr, char digit);

static void
input_begin_attempt (struct kefu_ivr *ivr)
{
  const KefuSwitchPrompt *prompt = ivr->input->prompt;

  g_string_truncate (ivr->digits, 0);
  tmr_cancel (&ivr->input_tmr);
  tmr_cancel (&ivr->total_tmr);

  /* digits keyed ahead answer at once, without the prompt */
  if (ivr->typeahead->len > 0)
    {
      g_autofree char *keyed = g_strdup (ivr->typeahead->str);
      const KefuIvrStep *input = ivr->input;

      g_string_truncate (ivr->typeahead, 0);
      ivr->prompting = FALSE;
      if (ivr->input->total_ms)
        tmr_start (&ivr->total_tmr, ivr->input->total_ms, on_total_timeout, ivr);
      /* `finished` may free the IVR on the way */
      mem_ref (ivr);
      for (const char *c = keyed; *c; c++)
        {
          if (ivr->state == STATE_DONE)
            break;
          if (ivr->state != STATE_INPUT || ivr->input != input)
            {
              /* the rest is for whatever comes next */
              g_string_append (ivr->typeahead, c);
              break;
            }
          input_digit (ivr, *c);
        }
      mem_deref (ivr);
      return;
    }
  ivr->prompting = TRUE;
  play_prompts (ivr, &prompt, 1, input_after_prompt);
}

static void input_failed_attempt (struct kefu_ivr *ivr, gboolean no_input);

static void
input_retry (struct kefu_ivr *ivr)
{
  if (ivr->attempts > ivr->input->retries)
    {
      const KefuIvrStep *step = ivr->input;

      ivr->input = NULL;
      if (kefu_ivr_step_get_branch (step, "failed") == NULL)
        {
          path_add (ivr, "failed");
          finish (ivr, KEFU_IVR_HANGUP, NULL, NULL, 0);
          return;
        }
      path_add (ivr, "failed");
      take_branch (ivr, step, "failed");
      return;
    }
  input_begin_attempt (ivr);
}

/* Wrong or no input: say so, then ask again or give up. */
static void
input_failed_attempt (struct kefu_ivr *ivr,
                      gboolean         no_input)
{
  const KefuSwitchPrompt *say = no_input && ivr->input->no_input ? ivr->input->no_input
                                : ivr->input->invalid;

  tmr_cancel (&ivr->input_tmr);
  tmr_cancel (&ivr->total_tmr);
  ivr->attempts++;
  g_string_truncate (ivr->digits, 0);
  /* the invalid prompt is not interrupted, and keys pressed meanwhile are dropped */
  ivr->prompting = FALSE;
  if (say)
    {
      ivr->state = STATE_INPUT;
      play_prompts (ivr, &say, 1, input_retry);
    }
  else
    input_retry (ivr);
}

/* The menu choice keyed so far: the branch it names exactly, and whether
 * a longer choice starts with it. */
static const KefuIvrBranch *
menu_match (const KefuIvrStep *step,
            const char        *digits,
            gboolean          *longer)
{
  const KefuIvrBranch *exact = NULL;
  gsize n = strlen (digits);

  *longer = FALSE;
  for (guint i = 0; i < step->branches->len; i++)
    {
      const KefuIvrBranch *b = step->branches->pdata[i];

      if (g_str_equal (b->key, "timeout") || g_str_equal (b->key, "failed"))
        continue;
      if (g_str_equal (b->key, digits))
        exact = b;
      else if (strlen (b->key) > n && strncmp (b->key, digits, n) == 0)
        *longer = TRUE;
    }
  return exact;
}

static void
input_complete (struct kefu_ivr *ivr)
{
  const KefuIvrStep *step = ivr->input;
  g_autofree char *digits = g_strdup (ivr->digits->str);

  tmr_cancel (&ivr->input_tmr);
  tmr_cancel (&ivr->total_tmr);

  if (step->kind == KEFU_IVR_STEP_MENU)
    {
      gboolean longer;
      const KefuIvrBranch *b = menu_match (step, digits, &longer);

      if (b == NULL)
        {
          input_failed_attempt (ivr, *digits == '\0');
          return;
        }
      ivr->input = NULL;
      path_add (ivr, digits);
      take_branch (ivr, step, b->key);
      return;
    }

  /* collect */
  if (strlen (digits) < step->min_digits)
    {
      input_failed_attempt (ivr, *digits == '\0');
      return;
    }
  ivr->input = NULL;
  g_hash_table_insert (ivr->vars, g_strdup (step->var), g_strdup (digits));
  path_add (ivr, digits);
  ivr->state = STATE_RUNNING;
  run (ivr);
}

static void
input_digit (struct kefu_ivr *ivr,
             char             digit)
{
  const KefuIvrStep *step = ivr->input;

  if (ivr->prompting)
    {
      if (!step->barge_in)
        return;  /* the prompt plays to its end; keys pressed over it do not count */
      stop_playing (ivr);
      ivr->prompting = FALSE;
      if (step->total_ms)
        tmr_start (&ivr->total_tmr, step->total_ms, on_total_timeout, ivr);
    }
  else if (ivr->playlist->len > 0 || ivr->playing)
    return;  /* the invalid prompt is playing */

  tmr_cancel (&ivr->input_tmr);

  if (step->kind == KEFU_IVR_STEP_COLLECT && step->terminator && digit == step->terminator)
    {
      input_complete (ivr);
      return;
    }
  g_string_append_c (ivr->digits, digit);

  if (step->kind == KEFU_IVR_STEP_MENU)
    {
      gboolean longer;
      const KefuIvrBranch *b = menu_match (step, ivr->digits->str, &longer);

      if (longer)
        tmr_start (&ivr->input_tmr, step->inter_digit_ms, on_input_timeout, ivr);
      else if (b != NULL)
        input_complete (ivr);
      else
        input_failed_attempt (ivr, FALSE);
      return;
    }

  if (ivr->digits->len >= step->max_digits)
    input_complete (ivr);
  else
    tmr_start (&ivr->input_tmr, step->inter_digit_ms, on_input_timeout, ivr);
}

static void
on_input_timeout (void *arg)
{
  struct kefu_ivr *ivr = arg;
  const KefuIvrStep *step = ivr->input;

  if (ivr->state != STATE_INPUT || step == NULL)
    return;
  if (ivr->digits->len == 0 && step->kind == KEFU_IVR_STEP_MENU
      && kefu_ivr_step_get_branch (step, "timeout"))
    {
      ivr->input = NULL;
      path_add (ivr, "timeout");
      take_branch (ivr, step, "timeout");
      return;
    }
  input_complete (ivr);
}

static void
on_total_timeout (void *arg)
{
  struct kefu_ivr *ivr = arg;

  if (ivr->state != STATE_INPUT || ivr->input == NULL)
    return;
  /* what was keyed in time counts; an incomplete menu choice is invalid */
  if (ivr->input->kind == KEFU_IVR_STEP_COLLECT && ivr->digits->len >= ivr->input->min_digits
      && ivr->digits->len > 0)
    input_complete (ivr);
  else
    input_failed_attempt (ivr, ivr->digits->len == 0);
}

void
kefu_ivr_digit (struct kefu_ivr *ivr,
                char             digit)
{
  if (ivr == NULL || ivr->state == STATE_DONE || !strchr ("0123456789*#ABCD", digit)
      || digit == '\0')
    return;
  if (ivr->state == STATE_INPUT && ivr->input != NULL)
    input_digit (ivr, digit);
  else if (ivr->typeahead->len < 64)
    g_string_append_c (ivr->typeahead, digit);
}

/* --- answers from kefu-server ----------------------------------------------------------- */

static char *
node_text (JsonNode *node)
{
  if (node == NULL || JSON_NODE_TYPE (node) != JSON_NODE_VALUE)
    return NULL;
  switch (json_node_get_value_type (node))
    {
    case G_TYPE_STRING:
      return g_strdup (json_node_get_string (node));
    case G_TYPE_INT64:
      return g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (node));
    case G_TYPE_DOUBLE:
      return g_strdup_printf ("%g", json_node_get_double (node));
    case G_TYPE_BOOLEAN:
      return g_strdup (json_node_get_boolean (node) ? "true" : "false");
    default:
      return NULL;
    }
}

void
kefu_ivr_lookup_done (struct kefu_ivr *ivr,
                      int              err,
                      JsonObject      *customer)
{
  const KefuIvrStep *step;
  gboolean found = FALSE;

  if (ivr == NULL || ivr->state != STATE_LOOKUP)
    return;
  step = ivr->input;
  ivr->input = NULL;
  if (err)
    g_message ("call %s: customer look-up failed: %s", ivr->call_id, g_strerror (err));
  else if (customer != NULL && json_object_has_member (customer, "id"))
    {
      JsonObjectIter iter;
      const char *member;
      JsonNode *node;

      g_clear_pointer (&ivr->customer, g_hash_table_unref);
      ivr->customer = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      json_object_iter_init (&iter, customer);
      while (json_object_iter_next (&iter, &member, &node))
        {
          char *text = node_text (node);

          if (text)
            g_hash_table_insert (ivr->customer, g_strdup (member), text);
        }
      ivr->customer_id = json_object_get_int_member_with_default (customer, "id", 0);
      found = ivr->customer_id != 0;
    }
  take_branch (ivr, step, found ? "found" : "not-found");
}

void
kefu_ivr_callback_done (struct kefu_ivr *ivr,
                        int              err)
{
  const KefuIvrStep *step;

  if (ivr == NULL || ivr->state != STATE_CALLBACK)
    return;
  step = ivr->input;
  ivr->input = NULL;
  if (err == 0)
    {
      ivr->callback_taken = TRUE;
      path_add (ivr, "callback");
    }
  else
    g_message ("call %s: callback request failed: %s", ivr->call_id, g_strerror (err));
  take_branch (ivr, step, err == 0 ? "ok" : "failed");
}
