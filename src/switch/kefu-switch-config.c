/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuSwitchConfig"

#include "config.h"

#include "kefu-switch-config.h"
#include "kefu-ivr-flow.h"
#include "kefu-tts.h"
#include "kefu-wav.h"

#include <glib/gi18n-lib.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define MAX_NAME 64
#define MAX_ERRORS 50
#define MAX_DIGITS 64
#define MAX_PREFIX 32

G_DEFINE_QUARK (kefu-switch-config-error-quark, kefu_switch_config_error)

typedef enum {
  SECTION_NONE,
  SECTION_SWITCH,
  SECTION_TRUNK,
  SECTION_QUEUE,
  SECTION_HOURS,
  SECTION_PROMPT,
  SECTION_IVR,
} SectionKind;

/* by_name[] slots */
enum { NAMES_TRUNK, NAMES_QUEUE, NAMES_HOURS, NAMES_PROMPT, NAMES_FLOW };

static const char * const section_words[] = {
  NULL, "switch", "trunk", "queue", "hours", "prompt", "ivr", NULL
};

static const char * const dtmf_words[] = { "rfc4733", "info", "inband", "auto", NULL };
static const char * const strategy_words[] = {
  "ring-all", "longest-idle", "round-robin", "fewest-calls", "least-talk-time", "skills-based",
  NULL
};
static const char * const day_words[] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun", NULL };
static const char * const customer_fields[] = {
  "id", "name", "company", "tier", "owner", "account_number", NULL
};
/* variables the switch fills in itself */
static const char * const builtin_vars[] = { "caller", "position", "wait_min", NULL };

static const char * const switch_keys[] = {
  "listen", "rtp-ports", "realm", "server", "credentials", "spool", "recordings", "prompts",
  "language", NULL
};
static const char * const trunk_keys[] = {
  "allow", "username", "password", "dtmf", "ivr", "gateway", "outbound-prefixes", "language",
  NULL
};
static const char * const queue_keys[] = {
  "strategy", "ring-timeout", "max-no-answer", "wrap-up", "max-wait", "overflow",
  "overflow-prompt", "music", "waiting-prompt", "announce-every", "recording", "priority",
  "skills", "retry", "default-aht", NULL
};

/* What a caller overflowed to the callback list hears when the queue names
 * no overflow-prompt, in each language the switch speaks. */
static const struct {
  const char *language;
  const char *text;
} callback_booked_texts[] = {
  { "zh", "您的回电已经登记，我们会尽快给您回电。再见！" },
  { "en", "Your call-back is booked. We will call you back as soon as we can. Goodbye." },
};

static const char * const hours_keys_text = "timezone, holiday, mon, tue, wed, thu, fri, sat, sun "
                                            "or a range of days such as mon-fri";
static const char * const prompt_keys[] = { "wav", "zh", "en", "zh-wav", "en-wav", NULL };

typedef struct {
  guint  line;
  guint  column;
  char  *message;
} ConfigProblem;

typedef struct {
  char   *name;
  guint   line;
  guint   column;
  char   *context;   /* the text it was found in */
} VarRef;

typedef struct {
  KefuSwitchConfig  *config;
  const char        *path;
  char              *dir;
  GPtrArray         *problems;

  SectionKind        kind;
  gpointer           section;
  guint              section_line;
  GHashTable        *keys_seen;        /* key -> line, in this section */
  guint              switch_line;      /* of [switch], 0 if none */
  guint              prompts_line;     /* of prompts =, 0 if default */
  GHashTable        *settings_lines;   /* [switch] key -> line */
  guint              hours_days_line[7];

  GHashTable        *vars_set;         /* collected variable -> line */
  GPtrArray         *var_refs;         /* of VarRef* */
  GHashTable        *language_ok;      /* language -> GINT (1 ok, 2 reported) */
  GHashTable        *queue_prompt_refs;
  GHashTable        *prefix_owners;    /* outbound prefix -> "TRUNK\nLINE" */
  GHashTable        *prefixes_lines;   /* trunk name -> line of its outbound-prefixes */
  gboolean           skip_on_lines;    /* the step above was wrong: its "on" lines too */
} Parser;

/* --- problems ------------------------------------------------------------------------- */

static void problem (Parser *p, guint line, guint column, const char *format, ...) G_GNUC_PRINTF (4, 5);

static void
problem (Parser     *p,
         guint       line,
         guint       column,
         const char *format,
         ...)
{
  ConfigProblem *pr = g_new0 (ConfigProblem, 1);
  va_list args;

  va_start (args, format);
  pr->message = g_strdup_vprintf (format, args);
  va_end (args);
  pr->line = line;
  pr->column = column;
  g_ptr_array_add (p->problems, pr);
}

static void
config_problem_free (gpointer data)
{
  ConfigProblem *pr = data;

  g_free (pr->message);
  g_free (pr);
}

static gint
compare_problems (gconstpointer a,
                  gconstpointer b)
{
  const ConfigProblem *pa = *(const ConfigProblem * const *) a;
  const ConfigProblem *pb = *(const ConfigProblem * const *) b;

  if (pa->line != pb->line)
    return pa->line < pb->line ? -1 : 1;
  if (pa->column != pb->column)
    return pa->column < pb->column ? -1 : 1;
  return 0;
}

/* --- small helpers -------------------------------------------------------------------- */

static int
word_index (const char * const *words,
            const char         *word)
{
  for (int i = 0; words[i] != NULL; i++)
    if (strcmp (words[i], word) == 0)
      return i;
  return -1;
}

static char *
join_words (const char * const *words)
{
  return g_strjoinv (", ", (char **) words);
}

static gboolean
is_name (const char *name)
{
  gsize n = strlen (name);

  if (n == 0 || n > MAX_NAME)
    return FALSE;
  for (const char *c = name; *c; c++)
    if (!(g_ascii_islower (*c) || g_ascii_isdigit (*c) || *c == '.' || *c == '_' || *c == '-'))
      return FALSE;
  return TRUE;
}

/* Column, counted in characters from 1, of `at` within `line`. */
static guint
column_of (const char *line,
           const char *at)
{
  return (guint) g_utf8_strlen (line, at - line) + 1;
}

static gboolean
parse_seconds (const char *text,
               guint      *ms_out)
{
  char *end = NULL;
  double v;

  if (!g_ascii_isdigit (*text))
    return FALSE;
  v = g_ascii_strtod (text, &end);
  if (end == text || *end != '\0' || !isfinite (v) || v < 0 || v > 86400 * 7)
    return FALSE;
  *ms_out = (guint) llround (v * 1000.0);
  return TRUE;
}

static gboolean
parse_uint (const char *text,
            guint       min,
            guint       max,
            guint      *out)
{
  guint64 v;

  if (!g_ascii_string_to_unsigned (text, 10, min, max, &v, NULL))
    return FALSE;
  *out = (guint) v;
  return TRUE;
}

static gboolean
parse_bool (const char *text,
            gboolean   *out)
{
  if (g_str_equal (text, "on") || g_str_equal (text, "yes") || g_str_equal (text, "true"))
    *out = TRUE;
  else if (g_str_equal (text, "off") || g_str_equal (text, "no") || g_str_equal (text, "false"))
    *out = FALSE;
  else
    return FALSE;
  return TRUE;
}

/* "a, b ,c d" -> {"a","b","c","d"}: commas and blanks separate; empty items dropped. */
static char **
split_list (const char *text)
{
  g_auto(GStrv) items = g_strsplit_set (text, ", \t", -1);
  GPtrArray *out = g_ptr_array_new ();

  for (guint i = 0; items[i] != NULL; i++)
    {
      char *item = g_strstrip (items[i]);

      if (*item != '\0')
        g_ptr_array_add (out, g_strdup (item));
    }
  g_ptr_array_add (out, NULL);
  return (char **) g_ptr_array_free (out, FALSE);
}

static char *
absolute_path (Parser     *p,
               const char *path)
{
  if (g_path_is_absolute (path))
    return g_strdup (path);
  return g_build_filename (p->dir, path, NULL);
}

/* A language the switch speaks whose voice is installed.  The voice is
 * checked once per language; its absence is reported where first used. */
static gboolean
check_language (Parser     *p,
                const char *language,
                guint       line,
                guint       column)
{
  gpointer state;

  if (word_index (kefu_tts_languages (), language) < 0)
    {
      g_autofree char *list = join_words (kefu_tts_languages ());

      problem (p, line, column, _("unknown language “%s” (languages: %s)"), language, list);
      return FALSE;
    }
  state = g_hash_table_lookup (p->language_ok, language);
  if (state == NULL)
    {
      g_autoptr(GError) error = NULL;

      if (kefu_tts_language_available (language, &error))
        state = GINT_TO_POINTER (1);
      else
        {
          problem (p, line, column, "%s", error->message);
          state = GINT_TO_POINTER (2);
        }
      g_hash_table_insert (p->language_ok, g_strdup (language), state);
    }
  return GPOINTER_TO_INT (state) == 1;
}

static char **
parse_languages (Parser     *p,
                 const char *value,
                 guint       line,
                 guint       column)
{
  g_auto(GStrv) list = split_list (value);

  if (list[0] == NULL)
    {
      g_autofree char *all = join_words (kefu_tts_languages ());

      problem (p, line, column, _("no language given (languages: %s)"), all);
      return NULL;
    }
  for (guint i = 0; list[i] != NULL; i++)
    if (!check_language (p, list[i], line, column))
      return NULL;
  return g_steal_pointer (&list);
}

/* --- freeing -------------------------------------------------------------------------- */

static void
trunk_free (gpointer data)
{
  KefuSwitchTrunk *t = data;

  g_free (t->name);
  g_ptr_array_unref (t->allow);
  g_free (t->username);
  g_free (t->password);
  g_free (t->ivr);
  g_free (t->gateway);
  g_strfreev (t->outbound_prefixes);
  g_strfreev (t->languages);
  g_free (t);
}

static void
queue_free (gpointer data)
{
  KefuSwitchQueue *q = data;

  g_free (q->name);
  g_free (q->overflow_queue);
  g_strfreev (q->skills);
  g_free (q);
}

static void
hours_free (gpointer data)
{
  KefuSwitchHours *h = data;

  g_free (h->name);
  g_free (h->timezone);
  if (h->tz)
    g_time_zone_unref (h->tz);
  for (guint i = 0; i < 7; i++)
    g_array_unref (h->days[i]);
  g_array_unref (h->holidays);
  g_free (h);
}

static void
prompt_part_free (gpointer data)
{
  KefuSwitchPromptPart *part = data;

  g_free (part->language);
  g_free (part->path);
  g_free (part->text);
  if (part->pcm)
    g_bytes_unref (part->pcm);
  g_free (part);
}

static void
prompt_free (gpointer data)
{
  KefuSwitchPrompt *pr = data;

  g_free (pr->name);
  g_ptr_array_unref (pr->parts);
  g_free (pr);
}

static void
ivr_name_clear (gpointer data)
{
  KefuIvrName *n = data;

  g_free (n->name);
}

static void
branch_free (gpointer data)
{
  KefuIvrBranch *b = data;

  g_free (b->key);
  g_ptr_array_unref (b->steps);
  g_free (b);
}

static void
step_free (gpointer data)
{
  KefuIvrStep *s = data;

  g_free (s->source);
  if (s->prompts)
    g_ptr_array_unref (s->prompts);
  if (s->prompt_names)
    g_array_unref (s->prompt_names);
  g_free (s->var);
  g_strfreev (s->languages);
  g_free (s->name);
  g_free (s->skill);
  g_ptr_array_unref (s->branches);
  for (guint i = 0; i < G_N_ELEMENTS (s->refs); i++)
    g_free (s->refs[i].name);
  g_free (s);
}

static void
flow_free (gpointer data)
{
  KefuIvrFlow *f = data;

  g_free (f->name);
  g_ptr_array_unref (f->steps);
  g_free (f);
}

static void
var_ref_free (gpointer data)
{
  VarRef *v = data;

  g_free (v->name);
  g_free (v->context);
  g_free (v);
}

static void
settings_clear (KefuSwitchSettings *s)
{
  g_free (s->listen);
  g_free (s->realm);
  g_free (s->server_url);
  g_free (s->credentials_file);
  g_free (s->spool_dir);
  g_free (s->recordings_dir);
  g_free (s->prompts_dir);
  g_strfreev (s->languages);
}

KefuSwitchConfig *
kefu_switch_config_ref (KefuSwitchConfig *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
kefu_switch_config_unref (KefuSwitchConfig *self)
{
  if (self == NULL || !g_atomic_ref_count_dec (&self->ref_count))
    return;
  g_free (self->path);
  settings_clear (&self->settings);
  g_ptr_array_unref (self->flows);
  g_ptr_array_unref (self->trunks);
  g_ptr_array_unref (self->queues);
  g_ptr_array_unref (self->hours);
  g_ptr_array_unref (self->prompts);
  if (self->callback_booked)
    prompt_free (self->callback_booked);
  for (guint i = 0; i < G_N_ELEMENTS (self->by_name); i++)
    g_hash_table_unref (self->by_name[i]);
  g_free (self);
}

static KefuSwitchConfig *
config_new (const char *path)
{
  KefuSwitchConfig *self = g_new0 (KefuSwitchConfig, 1);

  g_atomic_ref_count_init (&self->ref_count);
  self->path = g_strdup (path);
  self->trunks = g_ptr_array_new_with_free_func (trunk_free);
  self->queues = g_ptr_array_new_with_free_func (queue_free);
  self->hours = g_ptr_array_new_with_free_func (hours_free);
  self->prompts = g_ptr_array_new_with_free_func (prompt_free);
  self->flows = g_ptr_array_new_with_free_func (flow_free);
  for (guint i = 0; i < G_N_ELEMENTS (self->by_name); i++)
    self->by_name[i] = g_hash_table_new (g_str_hash, g_str_equal);
  return self;
}

/* --- look-ups ------------------------------------------------------------------------- */

const KefuSwitchTrunk *
kefu_switch_config_get_trunk (const KefuSwitchConfig *self, const char *name)
{
  return name ? g_hash_table_lookup (self->by_name[NAMES_TRUNK], name) : NULL;
}

const KefuSwitchQueue *
kefu_switch_config_get_queue (const KefuSwitchConfig *self, const char *name)
{
  return name ? g_hash_table_lookup (self->by_name[NAMES_QUEUE], name) : NULL;
}

const KefuSwitchHours *
kefu_switch_config_get_hours (const KefuSwitchConfig *self, const char *name)
{
  return name ? g_hash_table_lookup (self->by_name[NAMES_HOURS], name) : NULL;
}

const KefuSwitchPrompt *
kefu_switch_config_get_prompt (const KefuSwitchConfig *self, const char *name)
{
  return name ? g_hash_table_lookup (self->by_name[NAMES_PROMPT], name) : NULL;
}

const KefuIvrFlow *
kefu_switch_config_get_flow (const KefuSwitchConfig *self, const char *name)
{
  return name ? g_hash_table_lookup (self->by_name[NAMES_FLOW], name) : NULL;
}

const KefuSwitchTrunk *
kefu_switch_config_find_trunk_by_address (const KefuSwitchConfig *self,
                                          const char             *address)
{
  g_autoptr(GInetAddress) inet = g_inet_address_new_from_string (address);

  if (inet == NULL)
    return NULL;
  for (guint i = 0; i < self->trunks->len; i++)
    {
      const KefuSwitchTrunk *t = self->trunks->pdata[i];

      for (guint j = 0; j < t->allow->len; j++)
        {
          GInetAddressMask *mask = t->allow->pdata[j];

          if (g_inet_address_get_family (inet) == g_inet_address_mask_get_family (mask)
              && g_inet_address_mask_matches (mask, inet))
            return t;
        }
    }
  return NULL;
}

const KefuSwitchTrunk *
kefu_switch_config_find_trunk_by_username (const KefuSwitchConfig *self,
                                           const char             *username)
{
  for (guint i = 0; i < self->trunks->len; i++)
    {
      const KefuSwitchTrunk *t = self->trunks->pdata[i];

      if (t->username && g_strcmp0 (t->username, username) == 0)
        return t;
    }
  return NULL;
}

const KefuSwitchTrunk *
kefu_switch_config_outbound_trunk (const KefuSwitchConfig *self,
                                   const char             *number)
{
  const KefuSwitchTrunk *first = NULL, *best = NULL;
  gsize best_len = 0;

  for (guint i = 0; i < self->trunks->len; i++)
    {
      const KefuSwitchTrunk *t = self->trunks->pdata[i];

      if (t->gateway == NULL)
        continue;
      if (first == NULL)
        first = t;
      for (guint j = 0; t->outbound_prefixes[j] != NULL; j++)
        {
          gsize n = strlen (t->outbound_prefixes[j]);

          if (n > best_len && number && g_str_has_prefix (number, t->outbound_prefixes[j]))
            {
              best = t;
              best_len = n;
            }
        }
    }
  return best ? best : first;
}

const char *
kefu_switch_dtmf_mode_to_string (KefuSwitchDtmfMode mode)
{
  return (guint) mode < G_N_ELEMENTS (dtmf_words) - 1 ? dtmf_words[mode] : NULL;
}

const char *
kefu_switch_strategy_to_string (KefuSwitchStrategy strategy)
{
  return (guint) strategy < G_N_ELEMENTS (strategy_words) - 1 ? strategy_words[strategy] : NULL;
}

const KefuIvrBranch *
kefu_ivr_step_get_branch (const KefuIvrStep *step,
                          const char        *key)
{
  for (guint i = 0; i < step->branches->len; i++)
    {
      const KefuIvrBranch *b = step->branches->pdata[i];

      if (g_str_equal (b->key, key))
        return b;
    }
  return NULL;
}

/* --- business hours ------------------------------------------------------------------- */

gboolean
kefu_switch_hours_is_open (const KefuSwitchHours *hours,
                           GDateTime             *when)
{
  g_autoptr(GDateTime) local = g_date_time_to_timezone (when, hours->tz);
  g_autoptr(GDate) date = NULL;
  guint32 julian;
  GArray *ranges;
  guint minute;

  if (local == NULL)
    return FALSE;
  date = g_date_new_dmy ((GDateDay) g_date_time_get_day_of_month (local),
                         (GDateMonth) g_date_time_get_month (local),
                         (GDateYear) g_date_time_get_year (local));
  julian = g_date_get_julian (date);
  for (guint i = 0; i < hours->holidays->len; i++)
    {
      const KefuSwitchDateRange *r = &g_array_index (hours->holidays, KefuSwitchDateRange, i);

      if (julian >= r->first_julian && julian <= r->last_julian)
        return FALSE;
    }
  ranges = hours->days[g_date_time_get_day_of_week (local) - 1];
  minute = (guint) (g_date_time_get_hour (local) * 60 + g_date_time_get_minute (local));
  for (guint i = 0; i < ranges->len; i++)
    {
      const KefuSwitchTimeRange *r = &g_array_index (ranges, KefuSwitchTimeRange, i);

      if (minute >= r->start_min && minute < r->end_min)
        return TRUE;
    }
  return FALSE;
}

static gboolean
parse_clock (const char *text,
             guint16    *minutes)
{
  guint h, m;
  int used = 0;

  if (sscanf (text, "%2u:%2u%n", &h, &m, &used) != 2 || text[used] != '\0'
      || strlen (text) != 5 || m > 59 || h > 24 || (h == 24 && m != 0))
    return FALSE;
  *minutes = (guint16) (h * 60 + m);
  return TRUE;
}

static gboolean
parse_time_ranges (const char *value,
                   GArray     *out)
{
  g_auto(GStrv) items = NULL;

  if (g_str_equal (value, "closed"))
    return TRUE;
  items = split_list (value);
  if (items[0] == NULL)
    return FALSE;
  for (guint i = 0; items[i] != NULL; i++)
    {
      g_auto(GStrv) ends = g_strsplit (items[i], "-", -1);
      KefuSwitchTimeRange r;

      if (g_strv_length (ends) != 2
          || !parse_clock (g_strstrip (ends[0]), &r.start_min)
          || !parse_clock (g_strstrip (ends[1]), &r.end_min)
          || r.end_min <= r.start_min)
        return FALSE;
      g_array_append_val (out, r);
    }
  return TRUE;
}

static gboolean
parse_date (const char *text,
            guint32    *julian)
{
  guint y, m, d;
  int used = 0;

  if (strlen (text) != 10 || sscanf (text, "%4u-%2u-%2u%n", &y, &m, &d, &used) != 3
      || text[used] != '\0' || !g_date_valid_dmy ((GDateDay) d, (GDateMonth) m, (GDateYear) y))
    return FALSE;
  {
    g_autoptr(GDate) date = g_date_new_dmy ((GDateDay) d, (GDateMonth) m, (GDateYear) y);
    *julian = g_date_get_julian (date);
  }
  return TRUE;
}

/* "mon", "mon-fri", "sat-sun", "fri-mon" (wrapping) -> mask of days */
static gboolean
parse_days (const char *key,
            guint      *mask)
{
  g_auto(GStrv) ends = g_strsplit (key, "-", -1);
  int first, last;

  *mask = 0;
  if (g_strv_length (ends) == 1)
    {
      first = last = word_index (day_words, ends[0]);
    }
  else if (g_strv_length (ends) == 2)
    {
      first = word_index (day_words, ends[0]);
      last = word_index (day_words, ends[1]);
    }
  else
    return FALSE;
  if (first < 0 || last < 0)
    return FALSE;
  for (int d = first;; d = (d + 1) % 7)
    {
      *mask |= 1u << d;
      if (d == last)
        break;
    }
  return TRUE;
}

/* --- sections ------------------------------------------------------------------------- */

static const char * const *
keys_of (SectionKind kind)
{
  switch (kind)
    {
    case SECTION_SWITCH: return switch_keys;
    case SECTION_TRUNK: return trunk_keys;
    case SECTION_QUEUE: return queue_keys;
    case SECTION_PROMPT: return prompt_keys;
    case SECTION_NONE:
    case SECTION_HOURS:
    case SECTION_IVR:
    default:
      return NULL;
    }
}

static const char *
section_title (Parser *p)
{
  static char title[128];
  const char *name = NULL;

  switch (p->kind)
    {
    case SECTION_TRUNK: name = ((KefuSwitchTrunk *) p->section)->name; break;
    case SECTION_QUEUE: name = ((KefuSwitchQueue *) p->section)->name; break;
    case SECTION_HOURS: name = ((KefuSwitchHours *) p->section)->name; break;
    case SECTION_PROMPT: name = ((KefuSwitchPrompt *) p->section)->name; break;
    case SECTION_IVR: name = ((KefuIvrFlow *) p->section)->name; break;
    case SECTION_NONE:
    case SECTION_SWITCH:
    default:
      break;
    }
  if (name)
    g_snprintf (title, sizeof title, "[%s %s]", section_words[p->kind], name);
  else
    g_snprintf (title, sizeof title, "[%s]", section_words[p->kind]);
  return title;
}

static void
open_section (Parser     *p,
              const char *line,
              const char *start,
              guint       lineno)
{
  const char *close = strchr (start, ']');
  g_autofree char *inner = NULL;
  g_auto(GStrv) words = NULL;
  const char *rest;
  int kind;
  guint n;
  GHashTable *names = NULL;
  gpointer section = NULL;

  /* lines up to the next good header belong to no section */
  p->kind = SECTION_NONE;
  p->skip_on_lines = FALSE;
  p->section = NULL;
  p->section_line = lineno;
  g_hash_table_remove_all (p->keys_seen);
  memset (p->hours_days_line, 0, sizeof p->hours_days_line);

  if (close == NULL)
    {
      problem (p, lineno, column_of (line, start),
               _("a section header must end with “]”, e.g. [queue sales]"));
      p->kind = SECTION_IVR + 1;  /* skip its lines quietly */
      return;
    }
  rest = close + 1;
  while (*rest == ' ' || *rest == '\t')
    rest++;
  if (*rest != '\0' && *rest != '#')
    {
      problem (p, lineno, column_of (line, rest),
               _("unexpected “%s” after the section header"), rest);
    }
  inner = g_strndup (start + 1, close - start - 1);
  words = g_strsplit_set (g_strstrip (inner), " \t", -1);
  /* drop empty items made by runs of blanks */
  {
    guint j = 0;
    for (guint i = 0; words[i]; i++)
      {
        if (*words[i])
          words[j++] = words[i];
        else
          g_free (words[i]);
      }
    words[j] = NULL;
  }
  n = g_strv_length (words);
  kind = n > 0 ? word_index (section_words + 1, words[0]) + 1 : 0;
  if (kind <= 0)
    {
      problem (p, lineno, column_of (line, start),
               _("unknown section “[%s]” (sections: [switch], [trunk NAME], [queue NAME], "
                 "[hours NAME], [prompt NAME], [ivr NAME])"), inner);
      p->kind = SECTION_IVR + 1;
      return;
    }
  if (kind == SECTION_SWITCH)
    {
      if (n != 1)
        {
          problem (p, lineno, column_of (line, start), _("[switch] takes no name"));
        }
      if (p->switch_line != 0)
        {
          problem (p, lineno, column_of (line, start),
                   _("[switch] appears twice (first on line %u)"), p->switch_line);
          p->kind = SECTION_IVR + 1;
          return;
        }
      p->switch_line = lineno;
      p->kind = SECTION_SWITCH;
      return;
    }
  if (n != 2)
    {
      problem (p, lineno, column_of (line, start),
               _("[%s] needs one name: [%s NAME]"), words[0], words[0]);
      p->kind = SECTION_IVR + 1;
      return;
    }
  if (!is_name (words[1]))
    {
      problem (p, lineno, column_of (line, start),
               _("invalid name “%s”: use a-z, 0-9, “.”, “_” and “-”, at most 64 characters"),
               words[1]);
      p->kind = SECTION_IVR + 1;
      return;
    }

  switch ((SectionKind) kind)
    {
    case SECTION_TRUNK: names = p->config->by_name[NAMES_TRUNK]; break;
    case SECTION_QUEUE: names = p->config->by_name[NAMES_QUEUE]; break;
    case SECTION_HOURS: names = p->config->by_name[NAMES_HOURS]; break;
    case SECTION_PROMPT: names = p->config->by_name[NAMES_PROMPT]; break;
    case SECTION_IVR: names = p->config->by_name[NAMES_FLOW]; break;
    case SECTION_NONE:
    case SECTION_SWITCH:
    default:
      g_assert_not_reached ();
    }
  if ((section = g_hash_table_lookup (names, words[1])) != NULL)
    {
      /* every kind starts with name, ..., and has `line` — find it by kind */
      guint first = 0;

      switch ((SectionKind) kind)
        {
        case SECTION_TRUNK: first = ((KefuSwitchTrunk *) section)->line; break;
        case SECTION_QUEUE: first = ((KefuSwitchQueue *) section)->line; break;
        case SECTION_HOURS: first = ((KefuSwitchHours *) section)->line; break;
        case SECTION_PROMPT: first = ((KefuSwitchPrompt *) section)->line; break;
        case SECTION_IVR: first = ((KefuIvrFlow *) section)->line; break;
        case SECTION_NONE:
        case SECTION_SWITCH:
        default:
          break;
        }
      problem (p, lineno, column_of (line, start),
               _("[%s %s] is already defined on line %u"), words[0], words[1], first);
      p->kind = SECTION_IVR + 1;
      return;
    }

  switch ((SectionKind) kind)
    {
    case SECTION_TRUNK:
      {
        KefuSwitchTrunk *t = g_new0 (KefuSwitchTrunk, 1);
        t->name = g_strdup (words[1]);
        t->allow = g_ptr_array_new_with_free_func (g_object_unref);
        t->dtmf = KEFU_SWITCH_DTMF_AUTO;
        t->outbound_prefixes = g_new0 (char *, 1);
        t->line = lineno;
        g_ptr_array_add (p->config->trunks, t);
        section = t;
        break;
      }
    case SECTION_QUEUE:
      {
        KefuSwitchQueue *q = g_new0 (KefuSwitchQueue, 1);
        q->name = g_strdup (words[1]);
        q->strategy = KEFU_SWITCH_STRATEGY_LONGEST_IDLE;
        q->ring_timeout_ms = 20000;
        q->max_no_answer = 3;
        q->skills = g_new0 (char *, 1);
        q->line = lineno;
        g_ptr_array_add (p->config->queues, q);
        section = q;
        break;
      }
    case SECTION_HOURS:
      {
        KefuSwitchHours *h = g_new0 (KefuSwitchHours, 1);
        h->name = g_strdup (words[1]);
        h->timezone = g_strdup ("UTC");
        h->tz = g_time_zone_new_utc ();
        for (guint i = 0; i < 7; i++)
          h->days[i] = g_array_new (FALSE, FALSE, sizeof (KefuSwitchTimeRange));
        h->holidays = g_array_new (FALSE, FALSE, sizeof (KefuSwitchDateRange));
        h->line = lineno;
        g_ptr_array_add (p->config->hours, h);
        section = h;
        break;
      }
    case SECTION_PROMPT:
      {
        KefuSwitchPrompt *pr = g_new0 (KefuSwitchPrompt, 1);
        pr->name = g_strdup (words[1]);
        pr->parts = g_ptr_array_new_with_free_func (prompt_part_free);
        pr->line = lineno;
        g_ptr_array_add (p->config->prompts, pr);
        section = pr;
        break;
      }
    case SECTION_IVR:
      {
        KefuIvrFlow *f = g_new0 (KefuIvrFlow, 1);
        f->name = g_strdup (words[1]);
        f->steps = g_ptr_array_new_with_free_func (step_free);
        f->line = lineno;
        g_ptr_array_add (p->config->flows, f);
        section = f;
        break;
      }
    case SECTION_NONE:
    case SECTION_SWITCH:
    default:
      g_assert_not_reached ();
    }
  /* the name points into the section itself */
  g_hash_table_insert (names, *(char **) section, section);
  p->kind = (SectionKind) kind;
  p->section = section;
}

/* --- key = value sections ------------------------------------------------------------- */

static void
bad_duration (Parser *p, guint line, guint col, const char *value, const char *key)
{
  problem (p, line, col, _("“%s” is not a number of seconds for %s (e.g. 20 or 0.5)"),
           value, key);
}

static void
bad_number (Parser *p, guint line, guint col, const char *value, const char *key,
            guint min, guint max)
{
  problem (p, line, col, _("“%s” is not a whole number from %u to %u for %s"),
           value, min, max, key);
}

static void
setting_switch (Parser     *p,
                const char *key,
                const char *value,
                guint       line,
                guint       col)
{
  KefuSwitchSettings *s = &p->config->settings;

  g_hash_table_insert (p->settings_lines, g_strdup (key), GUINT_TO_POINTER (line));
  if (g_str_equal (key, "listen"))
    {
      const char *colon = strrchr (value, ':');
      guint port;
      g_autofree char *host = NULL;
      g_autoptr(GInetAddress) inet = NULL;

      if (colon != NULL)
        {
          host = g_strndup (value, colon - value);
          if (host[0] == '[' && host[strlen (host) - 1] == ']')
            {
              char *h = g_strndup (host + 1, strlen (host) - 2);
              g_free (host);
              host = h;
            }
          inet = g_inet_address_new_from_string (host);
        }
      if (colon == NULL || inet == NULL || !parse_uint (colon + 1, 1, 65535, &port))
        {
          problem (p, line, col,
                   _("“%s” is not ADDRESS:PORT for listen (e.g. 0.0.0.0:5060 or [::]:5060)"),
                   value);
          return;
        }
      g_free (s->listen);
      s->listen = g_strdup (value);
    }
  else if (g_str_equal (key, "rtp-ports"))
    {
      g_auto(GStrv) ends = g_strsplit (value, "-", -1);
      guint lo, hi;

      if (g_strv_length (ends) != 2 || !parse_uint (g_strstrip (ends[0]), 1024, 65535, &lo)
          || !parse_uint (g_strstrip (ends[1]), 1024, 65535, &hi) || lo % 2 != 0 || hi <= lo)
        {
          problem (p, line, col,
                   _("“%s” is not a port range for rtp-ports: write MIN-MAX with ports from "
                     "1024 to 65535, MIN even and below MAX"), value);
          return;
        }
      s->rtp_port_min = (guint16) lo;
      s->rtp_port_max = (guint16) hi;
    }
  else if (g_str_equal (key, "realm"))
    {
      g_free (s->realm);
      s->realm = g_strdup (value);
    }
  else if (g_str_equal (key, "server"))
    {
      g_autoptr(GUri) uri = g_uri_parse (value, G_URI_FLAGS_NONE, NULL);

      if (uri == NULL || g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0'
          || (g_strcmp0 (g_uri_get_scheme (uri), "http") != 0
              && g_strcmp0 (g_uri_get_scheme (uri), "https") != 0))
        {
          problem (p, line, col,
                   _("“%s” is not an http:// or https:// URL for server "
                     "(e.g. http://127.0.0.1:8080)"), value);
          return;
        }
      g_free (s->server_url);
      s->server_url = g_strdup (value);
    }
  else if (g_str_equal (key, "credentials"))
    {
      g_free (s->credentials_file);
      s->credentials_file = absolute_path (p, value);
    }
  else if (g_str_equal (key, "spool"))
    {
      g_free (s->spool_dir);
      s->spool_dir = absolute_path (p, value);
    }
  else if (g_str_equal (key, "recordings"))
    {
      g_free (s->recordings_dir);
      s->recordings_dir = absolute_path (p, value);
    }
  else if (g_str_equal (key, "prompts"))
    {
      g_autofree char *dir = absolute_path (p, value);

      if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
        {
          problem (p, line, col, _("the prompts folder “%s” does not exist"), dir);
          return;
        }
      g_free (s->prompts_dir);
      s->prompts_dir = g_steal_pointer (&dir);
      p->prompts_line = line;
    }
  else if (g_str_equal (key, "language"))
    {
      char **langs = parse_languages (p, value, line, col);

      if (langs)
        {
          g_strfreev (s->languages);
          s->languages = langs;
        }
    }
}

/* "+86, 0086 010": each prefix checked where it stands on the line, and
 * owned by one trunk only, or a number would have two ways out. */
static void
setting_outbound_prefixes (Parser          *p,
                           KefuSwitchTrunk *t,
                           const char      *value,
                           guint            line,
                           guint            col)
{
  g_autoptr(GPtrArray) prefixes = g_ptr_array_new_with_free_func (g_free);
  const char *c = value;

  g_hash_table_insert (p->prefixes_lines, g_strdup (t->name), GUINT_TO_POINTER (line));
  while (*c)
    {
      gsize n = strcspn (c, ", \t");
      g_autofree char *prefix = g_strndup (c, n);
      guint at = col + (guint) g_utf8_strlen (value, c - value);
      const char *owner;
      gboolean ok = n > 0 && n <= MAX_PREFIX;

      if (n == 0)
        {
          c++;
          continue;
        }
      for (gsize i = 0; ok && i < n; i++)
        ok = g_ascii_isdigit (prefix[i]) || (i == 0 && prefix[i] == '+' && n > 1);
      c += n;
      if (!ok)
        {
          problem (p, line, at,
                   _("“%s” is not a number prefix for outbound-prefixes: write digits, with a "
                     "leading + for numbers dialled with one, at most %u characters (e.g. +86, "
                     "0086, 010)"), prefix, MAX_PREFIX);
          continue;
        }
      owner = g_hash_table_lookup (p->prefix_owners, prefix);
      if (owner != NULL)
        {
          const char *nl = strchr (owner, '\n');
          g_autofree char *trunk = g_strndup (owner, nl - owner);

          if (g_str_equal (trunk, t->name))
            problem (p, line, at, _("the outbound prefix “%s” is given twice"), prefix);
          else
            problem (p, line, at,
                     _("the outbound prefix “%s” is already [trunk %s]'s (line %s): a number "
                       "can leave through one trunk only"), prefix, trunk, nl + 1);
          continue;
        }
      g_hash_table_insert (p->prefix_owners, g_strdup (prefix),
                           g_strdup_printf ("%s\n%u", t->name, line));
      g_ptr_array_add (prefixes, g_steal_pointer (&prefix));
    }
  if (prefixes->len == 0)
    return;
  g_ptr_array_add (prefixes, NULL);
  g_strfreev (t->outbound_prefixes);
  t->outbound_prefixes = (char **) g_ptr_array_steal (prefixes, NULL);
}

static void
setting_trunk (Parser     *p,
               const char *key,
               const char *value,
               guint       line,
               guint       col)
{
  KefuSwitchTrunk *t = p->section;

  if (g_str_equal (key, "allow"))
    {
      g_auto(GStrv) items = split_list (value);

      for (guint i = 0; items[i]; i++)
        {
          g_autofree char *cidr = NULL;
          GInetAddressMask *mask;

          /* a bare address is a /32 or /128 */
          if (strchr (items[i], '/') == NULL)
            cidr = g_strconcat (items[i], strchr (items[i], ':') ? "/128" : "/32", NULL);
          else
            cidr = g_strdup (items[i]);
          mask = g_inet_address_mask_new_from_string (cidr, NULL);
          if (mask == NULL)
            {
              problem (p, line, col,
                       _("“%s” is not an IP address or CIDR for allow (e.g. 192.0.2.1 or "
                         "10.1.0.0/16)"), items[i]);
              continue;
            }
          g_ptr_array_add (t->allow, mask);
        }
    }
  else if (g_str_equal (key, "username"))
    {
      g_free (t->username);
      t->username = g_strdup (value);
    }
  else if (g_str_equal (key, "password"))
    {
      g_free (t->password);
      t->password = g_strdup (value);
    }
  else if (g_str_equal (key, "dtmf"))
    {
      int i = word_index (dtmf_words, value);

      if (i < 0)
        {
          problem (p, line, col, _("unknown DTMF mode “%s” (modes: rfc4733, info, inband, auto)"),
                   value);
          return;
        }
      t->dtmf = (KefuSwitchDtmfMode) i;
    }
  else if (g_str_equal (key, "ivr"))
    {
      g_free (t->ivr);
      t->ivr = g_strdup (value);
    }
  else if (g_str_equal (key, "gateway"))
    {
      if (!(g_str_has_prefix (value, "sip:") || g_str_has_prefix (value, "sips:"))
          || strlen (value) < 6 || strchr (value, ' '))
        {
          problem (p, line, col, _("“%s” is not a SIP URI for gateway (e.g. sip:gw.example.net)"),
                   value);
          return;
        }
      g_free (t->gateway);
      t->gateway = g_strdup (value);
    }
  else if (g_str_equal (key, "outbound-prefixes"))
    setting_outbound_prefixes (p, t, value, line, col);
  else if (g_str_equal (key, "language"))
    {
      char **langs = parse_languages (p, value, line, col);

      if (langs)
        {
          g_strfreev (t->languages);
          t->languages = langs;
        }
    }
}

static void
setting_queue (Parser     *p,
               const char *key,
               const char *value,
               guint       line,
               guint       col)
{
  KefuSwitchQueue *q = p->section;
  guint ms, n;

  if (g_str_equal (key, "strategy"))
    {
      int i = word_index (strategy_words, value);

      if (i < 0)
        {
          g_autofree char *list = join_words (strategy_words);
          problem (p, line, col, _("unknown strategy “%s” (strategies: %s)"), value, list);
          return;
        }
      q->strategy = (KefuSwitchStrategy) i;
    }
  else if (g_str_equal (key, "ring-timeout") || g_str_equal (key, "wrap-up")
           || g_str_equal (key, "max-wait") || g_str_equal (key, "announce-every")
           || g_str_equal (key, "retry") || g_str_equal (key, "default-aht"))
    {
      if (!parse_seconds (value, &ms))
        {
          bad_duration (p, line, col, value, key);
          return;
        }
      if (g_str_equal (key, "ring-timeout"))
        {
          if (ms == 0)
            {
              problem (p, line, col, _("ring-timeout must be more than 0 seconds"));
              return;
            }
          q->ring_timeout_ms = ms;
        }
      else if (g_str_equal (key, "wrap-up"))
        q->wrapup_ms = ms;
      else if (g_str_equal (key, "max-wait"))
        q->max_wait_ms = ms;
      else if (g_str_equal (key, "announce-every"))
        q->announce_ms = ms;
      else if (g_str_equal (key, "retry"))
        q->retry_ms = ms;
      else
        q->default_aht_ms = ms;
    }
  else if (g_str_equal (key, "max-no-answer"))
    {
      if (!parse_uint (value, 0, 100, &n))
        {
          bad_number (p, line, col, value, key, 0, 100);
          return;
        }
      q->max_no_answer = n;
    }
  else if (g_str_equal (key, "priority"))
    {
      if (!parse_uint (value, 0, 100, &n))
        {
          bad_number (p, line, col, value, key, 0, 100);
          return;
        }
      q->priority = (int) n;
    }
  else if (g_str_equal (key, "overflow"))
    {
      g_free (q->overflow_queue);
      q->overflow_queue = NULL;
      if (g_str_equal (value, "callback"))
        q->overflow = KEFU_SWITCH_OVERFLOW_CALLBACK;
      else
        {
          q->overflow = KEFU_SWITCH_OVERFLOW_QUEUE;
          q->overflow_queue = g_strdup (value);
        }
    }
  else if (g_str_equal (key, "music") || g_str_equal (key, "waiting-prompt")
           || g_str_equal (key, "overflow-prompt"))
    {
      /* resolved once every prompt is known: "QUEUE\nKEY=PROMPT" -> line */
      g_hash_table_insert (p->queue_prompt_refs, g_strdup_printf ("%s\n%s=%s", q->name, key, value),
                           GUINT_TO_POINTER (line));
    }
  else if (g_str_equal (key, "recording"))
    {
      if (!parse_bool (value, &q->recording))
        problem (p, line, col, _("“%s” is not on or off for %s"), value, key);
    }
  else if (g_str_equal (key, "skills"))
    {
      g_auto(GStrv) list = split_list (value);

      for (guint i = 0; list[i]; i++)
        if (!is_name (list[i]))
          {
            problem (p, line, col,
                     _("invalid skill “%s”: use a-z, 0-9, “.”, “_” and “-”, at most 64 "
                       "characters"), list[i]);
            return;
          }
      g_strfreev (q->skills);
      q->skills = g_steal_pointer (&list);
    }
}

static void
setting_hours (Parser     *p,
               const char *key,
               const char *value,
               guint       line,
               guint       col)
{
  KefuSwitchHours *h = p->section;
  guint mask;

  if (g_str_equal (key, "timezone"))
    {
      GTimeZone *tz = NULL;

      if (g_str_equal (value, "UTC"))
        tz = g_time_zone_new_utc ();
      else if (strchr (value, '/') && !strstr (value, ".."))
        {
          g_autofree char *file = g_build_filename ("/usr/share/zoneinfo", value, NULL);

          if (g_file_test (file, G_FILE_TEST_IS_REGULAR))
            tz = g_time_zone_new_identifier (value);
        }
      if (tz == NULL)
        {
          problem (p, line, col,
                   _("unknown time zone “%s” (use a name from /usr/share/zoneinfo such as "
                     "Asia/Shanghai, or UTC)"), value);
          return;
        }
      g_time_zone_unref (h->tz);
      h->tz = tz;
      g_free (h->timezone);
      h->timezone = g_strdup (value);
    }
  else if (g_str_equal (key, "holiday"))
    {
      const char *dots = strstr (value, "..");
      KefuSwitchDateRange r;
      gboolean ok;

      if (dots)
        {
          g_autofree char *first = g_strstrip (g_strndup (value, dots - value));
          g_autofree char *last = g_strstrip (g_strdup (dots + 2));

          ok = parse_date (first, &r.first_julian) && parse_date (last, &r.last_julian)
               && r.last_julian >= r.first_julian;
        }
      else
        {
          ok = parse_date (value, &r.first_julian);
          r.last_julian = r.first_julian;
        }
      if (!ok)
        {
          problem (p, line, col,
                   _("“%s” is not a holiday: write YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD"), value);
          return;
        }
      g_array_append_val (h->holidays, r);
    }
  else if (parse_days (key, &mask))
    {
      g_autoptr(GArray) ranges = g_array_new (FALSE, FALSE, sizeof (KefuSwitchTimeRange));

      if (!parse_time_ranges (value, ranges))
        {
          problem (p, line, col,
                   _("“%s” is not a list of opening times: write HH:MM-HH:MM, several "
                     "separated by commas, or closed"), value);
          return;
        }
      for (guint d = 0; d < 7; d++)
        {
          if (!(mask & (1u << d)))
            continue;
          if (p->hours_days_line[d] != 0)
            {
              problem (p, line, 1, _("the hours of %s are already given on line %u"),
                       day_words[d], p->hours_days_line[d]);
              return;
            }
        }
      for (guint d = 0; d < 7; d++)
        if (mask & (1u << d))
          {
            p->hours_days_line[d] = line;
            g_array_append_vals (h->days[d], ranges->data, ranges->len);
          }
    }
  else
    {
      problem (p, line, 1, _("unknown setting “%s” in %s (settings: %s)"), key,
               section_title (p), hours_keys_text);
    }
}

static void
setting_prompt (Parser     *p,
                const char *key,
                const char *value,
                guint       line,
                guint       col)
{
  KefuSwitchPrompt *pr = p->section;
  KefuSwitchPromptPart *part = g_new0 (KefuSwitchPromptPart, 1);

  part->line = line;
  if (g_str_has_suffix (key, "wav"))
    {
      part->kind = KEFU_SWITCH_PROMPT_PART_WAV;
      part->path = g_strdup (value);   /* made absolute and loaded in the checking pass */
      if (!g_str_equal (key, "wav"))
        part->language = g_strndup (key, strlen (key) - 4);
    }
  else
    {
      part->kind = KEFU_SWITCH_PROMPT_PART_TEXT;
      part->language = g_strdup (key);
      part->text = g_strdup (value);
      part->dynamic = strchr (value, '{') != NULL;
    }
  if (part->language)
    check_language (p, part->language, line, 1);
  g_ptr_array_add (pr->parts, part);

  /* placeholders: {customer.FIELD} or {VAR} */
  if (part->text)
    {
      const char *c = part->text;

      while ((c = strchr (c, '{')) != NULL)
        {
          const char *end = strchr (c, '}');
          g_autofree char *name = NULL;

          if (end == NULL)
            {
              problem (p, line, col + (guint) g_utf8_strlen (part->text, c - part->text),
                       _("“{” without “}” in the prompt text (placeholders are "
                         "{customer.FIELD} and {VARIABLE})"));
              break;
            }
          name = g_strndup (c + 1, end - c - 1);
          if (g_str_has_prefix (name, "customer."))
            {
              if (word_index (customer_fields, name + 9) < 0)
                {
                  g_autofree char *list = join_words (customer_fields);
                  problem (p, line, col + (guint) g_utf8_strlen (part->text, c - part->text),
                           _("unknown customer field “%s” in {%s} (fields: %s)"),
                           name + 9, name, list);
                }
            }
          else
            {
              VarRef *ref = g_new0 (VarRef, 1);

              ref->name = g_strdup (name);
              ref->line = line;
              ref->column = col + (guint) g_utf8_strlen (part->text, c - part->text);
              ref->context = g_strdup_printf ("{%s}", name);
              g_ptr_array_add (p->var_refs, ref);
            }
          c = end + 1;
        }
    }
}

static void
parse_setting (Parser     *p,
               const char *line,
               const char *start,
               guint       lineno)
{
  const char *eq = strchr (start, '=');
  g_autofree char *key = NULL;
  g_autofree char *value = NULL;
  const char *value_start;
  const char * const *keys;
  gpointer first;
  gboolean text_value;

  if (eq == NULL)
    {
      g_autofree char *shown = g_strstrip (g_strdup (start));
      problem (p, lineno, column_of (line, start), _("expected “KEY = VALUE”, got “%s”"), shown);
      return;
    }
  key = g_strstrip (g_strndup (start, eq - start));
  value_start = eq + 1;
  while (*value_start == ' ' || *value_start == '\t')
    value_start++;

  /* a prompt's text runs to the end of the line; other values end at a
   * comment, a `#` after a blank */
  text_value = p->kind == SECTION_PROMPT && !g_str_has_suffix (key, "wav");
  if (text_value)
    value = g_strstrip (g_strdup (value_start));
  else
    {
      const char *c = value_start;

      for (; *c; c++)
        if (*c == '#' && (c == value_start || c[-1] == ' ' || c[-1] == '\t'))
          break;
      value = g_strstrip (g_strndup (value_start, c - value_start));
    }

  keys = keys_of (p->kind);
  if (keys != NULL && word_index (keys, key) < 0)
    {
      g_autofree char *list = join_words (keys);
      problem (p, lineno, column_of (line, start), _("unknown setting “%s” in %s (settings: %s)"),
               key, section_title (p), list);
      return;
    }
  if (*value == '\0')
    {
      problem (p, lineno, column_of (line, start), _("%s needs a value"), key);
      return;
    }
  if (p->kind != SECTION_PROMPT && !g_str_equal (key, "holiday"))
    {
      first = g_hash_table_lookup (p->keys_seen, key);
      if (first != NULL)
        {
          problem (p, lineno, column_of (line, start),
                   _("%s is set twice in %s (first on line %u)"), key, section_title (p),
                   GPOINTER_TO_UINT (first));
          return;
        }
      g_hash_table_insert (p->keys_seen, g_strdup (key), GUINT_TO_POINTER (lineno));
    }

  switch (p->kind)
    {
    case SECTION_SWITCH:
      setting_switch (p, key, value, lineno, column_of (line, value_start));
      break;
    case SECTION_TRUNK:
      setting_trunk (p, key, value, lineno, column_of (line, value_start));
      break;
    case SECTION_QUEUE:
      setting_queue (p, key, value, lineno, column_of (line, value_start));
      break;
    case SECTION_HOURS:
      setting_hours (p, key, value, lineno, column_of (line, value_start));
      break;
    case SECTION_PROMPT:
      setting_prompt (p, key, value, lineno, column_of (line, value_start));
      break;
    case SECTION_NONE:
    case SECTION_IVR:
    default:
      g_assert_not_reached ();
    }
}

/* --- IVR steps ------------------------------------------------------------------------ */

typedef struct {
  char  *text;
  guint  column;
} Token;

static void
token_clear (gpointer data)
{
  Token *t = data;

  g_free (t->text);
}

/* Words of an IVR line; `;` is a word of its own; a word starting with
 * `#` ends the line, except the key of an `on` line. */
static GArray *
tokenize (const char *line,
          const char *start)
{
  GArray *tokens = g_array_new (FALSE, FALSE, sizeof (Token));
  const char *c = start;

  g_array_set_clear_func (tokens, token_clear);
  while (*c)
    {
      const char *w;
      Token t;

      while (*c == ' ' || *c == '\t')
        c++;
      if (*c == '\0')
        break;
      if (*c == '#' && !(tokens->len == 1
                         && g_str_equal (g_array_index (tokens, Token, 0).text, "on")))
        break;
      if (*c == ';')
        {
          t.text = g_strdup (";");
          t.column = column_of (line, c);
          g_array_append_val (tokens, t);
          c++;
          continue;
        }
      w = c;
      while (*c && *c != ' ' && *c != '\t' && *c != ';')
        c++;
      t.text = g_strndup (w, c - w);
      t.column = column_of (line, w);
      g_array_append_val (tokens, t);
    }
  return tokens;
}

static const char * const step_words[] = {
  "play", "menu", "collect", "hours", "lookup", "callback", "language", "skill", "queue",
  "goto", "repeat", "hangup", NULL
};

static const char * const step_usage[] = {
  "play PROMPT...",
  "menu PROMPT [timeout=S] [inter-digit=S] [total=S] [retries=N] [invalid=PROMPT] "
    "[no-input=PROMPT] [barge-in=yes|no]",
  "collect VARIABLE PROMPT [min=N] [max=N] [terminator=#|*|none] [timeout=S] [inter-digit=S] "
    "[total=S] [retries=N] [invalid=PROMPT] [no-input=PROMPT] [barge-in=yes|no]",
  "hours HOURS",
  "lookup caller | lookup account {VARIABLE}",
  "callback [{VARIABLE}]",
  "language zh|en|zh, en",
  "skill SKILL",
  "queue QUEUE [skill=SKILL]",
  "goto FLOW",
  "repeat",
  "hangup",
};

static gboolean
step_is_final (KefuIvrStepKind kind)
{
  return kind == KEFU_IVR_STEP_QUEUE || kind == KEFU_IVR_STEP_GOTO
         || kind == KEFU_IVR_STEP_REPEAT || kind == KEFU_IVR_STEP_HANGUP;
}

static const char *
branch_keys_of (KefuIvrStepKind kind)
{
  switch (kind)
    {
    case KEFU_IVR_STEP_MENU: return "DIGITS, timeout, failed";
    case KEFU_IVR_STEP_COLLECT: return "failed";
    case KEFU_IVR_STEP_HOURS: return "open, closed";
    case KEFU_IVR_STEP_LOOKUP: return "found, not-found";
    case KEFU_IVR_STEP_CALLBACK: return "ok, failed";
    case KEFU_IVR_STEP_PLAY:
    case KEFU_IVR_STEP_LANGUAGE:
    case KEFU_IVR_STEP_SKILL:
    case KEFU_IVR_STEP_QUEUE:
    case KEFU_IVR_STEP_GOTO:
    case KEFU_IVR_STEP_REPEAT:
    case KEFU_IVR_STEP_HANGUP:
    default:
      return NULL;
    }
}

static gboolean
is_dtmf_digits (const char *s)
{
  if (*s == '\0' || strlen (s) > MAX_DIGITS)
    return FALSE;
  for (; *s; s++)
    if (!strchr ("0123456789*#ABCD", *s))
      return FALSE;
  return TRUE;
}

/* "{name}" -> "name", or NULL */
static char *
variable_of (const char *word)
{
  gsize n = strlen (word);

  if (n < 3 || word[0] != '{' || word[n - 1] != '}')
    return NULL;
  return g_strndup (word + 1, n - 2);
}

static void
set_ref (KefuIvrStep *s,
         guint        slot,
         const Token *t)
{
  g_free (s->refs[slot].name);
  s->refs[slot].name = g_strdup (t->text);
  s->refs[slot].column = t->column;
}

static void
add_var_ref (Parser      *p,
             const char  *name,
             guint        line,
             guint        column,
             const char  *context)
{
  VarRef *ref = g_new0 (VarRef, 1);

  ref->name = g_strdup (name);
  ref->line = line;
  ref->column = column;
  ref->context = g_strdup (context);
  g_ptr_array_add (p->var_refs, ref);
}

/* tokens [from, to) make one step; NULL on error (reported). */
static KefuIvrStep *
parse_step (Parser   *p,
            GArray   *tokens,
            guint     from,
            guint     to,
            guint     lineno,
            gboolean  in_branch)
{
  const Token *w = &g_array_index (tokens, Token, from);
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  g_autoptr(GPtrArray) options = g_ptr_array_new ();
  KefuIvrStep *s;
  GString *source = g_string_new (NULL);
  int kind = word_index (step_words, w->text);
  gboolean ok = TRUE;

  for (guint i = from; i < to; i++)
    {
      const Token *t = &g_array_index (tokens, Token, i);

      if (i > from)
        g_string_append_c (source, ' ');
      g_string_append (source, t->text);
      if (i > from)
        g_ptr_array_add (strchr (t->text, '=') ? options : args, (gpointer) t);
    }

  if (kind < 0)
    {
      g_autofree char *list = join_words (step_words);
      problem (p, lineno, w->column, _("unknown step “%s” (steps: %s)"), w->text, list);
      g_string_free (source, TRUE);
      return NULL;
    }

  s = g_new0 (KefuIvrStep, 1);
  s->kind = (KefuIvrStepKind) kind;
  s->line = lineno;
  s->column = w->column;
  s->source = g_string_free (source, FALSE);
  s->branches = g_ptr_array_new_with_free_func (branch_free);
  s->timeout_ms = 5000;
  s->inter_digit_ms = 3000;
  s->retries = 2;
  s->barge_in = TRUE;
  s->min_digits = 1;
  s->max_digits = 1;

#define USAGE() G_STMT_START { \
    problem (p, lineno, w->column, _("wrong use of %s: write “%s”"), w->text, step_usage[kind]); \
    ok = FALSE; \
  } G_STMT_END

  switch (s->kind)
    {
    case KEFU_IVR_STEP_PLAY:
      if (args->len == 0 || options->len > 0)
        {
          USAGE ();
          break;
        }
      s->prompts = g_ptr_array_new ();
      s->prompt_names = g_array_new (FALSE, TRUE, sizeof (KefuIvrName));
      g_array_set_clear_func (s->prompt_names, ivr_name_clear);
      for (guint i = 0; i < args->len; i++)
        {
          const Token *t = args->pdata[i];
          KefuIvrName n = { g_strdup (t->text), t->column };
          g_array_append_val (s->prompt_names, n);
        }
      break;

    case KEFU_IVR_STEP_MENU:
    case KEFU_IVR_STEP_COLLECT:
      {
        gboolean collect = s->kind == KEFU_IVR_STEP_COLLECT;
        const Token *prompt;

        if (args->len != (collect ? 2u : 1u))
          {
            USAGE ();
            break;
          }
        if (collect)
          {
            const Token *var = args->pdata[0];

            if (!is_name (var->text))
              {
                problem (p, lineno, var->column,
                         _("invalid variable “%s”: use a-z, 0-9, “.”, “_” and “-”"), var->text);
                ok = FALSE;
                break;
              }
            s->var = g_strdup (var->text);
            if (!g_hash_table_contains (p->vars_set, var->text))
              g_hash_table_insert (p->vars_set, g_strdup (var->text), GUINT_TO_POINTER (lineno));
            s->max_digits = 20;
            s->terminator = '#';
          }
        prompt = args->pdata[collect ? 1 : 0];
        set_ref (s, 0, prompt);
        for (guint i = 0; i < options->len && ok; i++)
          {
            const Token *t = options->pdata[i];
            const char *eq = strchr (t->text, '=');
            g_autofree char *key = g_strndup (t->text, eq - t->text);
            const char *value = eq + 1;
            guint col = t->column;

            if (g_str_equal (key, "timeout") || g_str_equal (key, "inter-digit")
                || g_str_equal (key, "total"))
              {
                guint ms;

                if (!parse_seconds (value, &ms) || ms == 0)
                  {
                    bad_duration (p, lineno, col, value, key);
                    ok = FALSE;
                  }
                else if (g_str_equal (key, "timeout"))
                  s->timeout_ms = ms;
                else if (g_str_equal (key, "total"))
                  s->total_ms = ms;
                else
                  s->inter_digit_ms = ms;
              }
            else if (g_str_equal (key, "retries"))
              {
                if (!parse_uint (value, 0, 20, &s->retries))
                  {
                    bad_number (p, lineno, col, value, key, 0, 20);
                    ok = FALSE;
                  }
              }
            else if (g_str_equal (key, "invalid"))
              set_ref (s, 1, &(Token) { (char *) value, col + (guint) strlen (key) + 1 });
            else if (g_str_equal (key, "no-input"))
              set_ref (s, 2, &(Token) { (char *) value, col + (guint) strlen (key) + 1 });
            else if (g_str_equal (key, "barge-in"))
              {
                if (!parse_bool (value, &s->barge_in))
                  {
                    problem (p, lineno, col, _("“%s” is not on or off for %s"), value, key);
                    ok = FALSE;
                  }
              }
            else if (collect && (g_str_equal (key, "min") || g_str_equal (key, "max")))
              {
                guint n;

                if (!parse_uint (value, 1, MAX_DIGITS, &n))
                  {
                    bad_number (p, lineno, col, value, key, 1, MAX_DIGITS);
                    ok = FALSE;
                  }
                else if (g_str_equal (key, "min"))
                  s->min_digits = n;
                else
                  s->max_digits = n;
              }
            else if (collect && g_str_equal (key, "terminator"))
              {
                if (g_str_equal (value, "none"))
                  s->terminator = '\0';
                else if (g_str_equal (value, "#") || g_str_equal (value, "*"))
                  s->terminator = value[0];
                else
                  {
                    problem (p, lineno, col, _("“%s” is not a terminator: use #, * or none"),
                             value);
                    ok = FALSE;
                  }
              }
            else
              {
                problem (p, lineno, col, _("unknown option “%s” for %s (write “%s”)"), key,
                         w->text, step_usage[kind]);
                ok = FALSE;
              }
          }
        if (ok && collect && s->min_digits > s->max_digits)
          {
            problem (p, lineno, w->column, _("min=%u is more than max=%u"), s->min_digits,
                     s->max_digits);
            ok = FALSE;
          }
        break;
      }

    case KEFU_IVR_STEP_HOURS:
    case KEFU_IVR_STEP_SKILL:
    case KEFU_IVR_STEP_GOTO:
      if (args->len != 1 || options->len > 0)
        {
          USAGE ();
          break;
        }
      set_ref (s, 0, args->pdata[0]);
      s->name = g_strdup (((const Token *) args->pdata[0])->text);
      break;

    case KEFU_IVR_STEP_QUEUE:
      if (args->len != 1)
        {
          USAGE ();
          break;
        }
      set_ref (s, 0, args->pdata[0]);
      s->name = g_strdup (((const Token *) args->pdata[0])->text);
      for (guint i = 0; i < options->len; i++)
        {
          const Token *t = options->pdata[i];

          if (g_str_has_prefix (t->text, "skill="))
            {
              s->skill = g_strdup (t->text + 6);
              set_ref (s, 4, &(Token) { s->skill, t->column + 6 });
            }
          else
            {
              g_autofree char *key = g_strndup (t->text, strchr (t->text, '=') - t->text);
              problem (p, lineno, t->column, _("unknown option “%s” for %s (write “%s”)"), key,
                       w->text, step_usage[kind]);
              ok = FALSE;
            }
        }
      break;

    case KEFU_IVR_STEP_LOOKUP:
      {
        const Token *how = args->len > 0 ? args->pdata[0] : NULL;

        if (options->len > 0 || how == NULL
            || !((g_str_equal (how->text, "caller") && args->len == 1)
                 || (g_str_equal (how->text, "account") && args->len == 2)))
          {
            USAGE ();
            break;
          }
        if (g_str_equal (how->text, "account"))
          {
            const Token *v = args->pdata[1];

            s->by_account = TRUE;
            s->var = variable_of (v->text);
            if (s->var == NULL)
              {
                USAGE ();
                break;
              }
            add_var_ref (p, s->var, lineno, v->column, s->source);
          }
        break;
      }

    case KEFU_IVR_STEP_CALLBACK:
      if (options->len > 0 || args->len > 1)
        {
          USAGE ();
          break;
        }
      if (args->len == 1)
        {
          const Token *v = args->pdata[0];

          s->var = variable_of (v->text);
          if (s->var == NULL)
            {
              USAGE ();
              break;
            }
          add_var_ref (p, s->var, lineno, v->column, s->source);
        }
      break;

    case KEFU_IVR_STEP_LANGUAGE:
      {
        g_autoptr(GString) list = g_string_new (NULL);

        if (args->len == 0 || options->len > 0)
          {
            USAGE ();
            break;
          }
        for (guint i = 0; i < args->len; i++)
          g_string_append (g_string_append (list, ((const Token *) args->pdata[i])->text), " ");
        s->languages = parse_languages (p, list->str, lineno,
                                        ((const Token *) args->pdata[0])->column);
        ok = s->languages != NULL;
        break;
      }

    case KEFU_IVR_STEP_REPEAT:
    case KEFU_IVR_STEP_HANGUP:
      if (args->len > 0 || options->len > 0)
        {
          USAGE ();
          break;
        }
      if (s->kind == KEFU_IVR_STEP_REPEAT && !in_branch)
        {
          problem (p, lineno, w->column,
                   _("repeat can only be used in an “on” line, to run its menu again"));
          ok = FALSE;
        }
      break;

    default:
      g_assert_not_reached ();
    }
#undef USAGE

  if (!ok)
    {
      step_free (s);
      return NULL;
    }
  return s;
}

/* Steps separated by `;`, from tokens[from] to the end. */
static GPtrArray *
parse_step_list (Parser *p,
                 GArray *tokens,
                 guint   from,
                 guint   lineno,
                 gboolean in_branch)
{
  GPtrArray *steps = g_ptr_array_new_with_free_func (step_free);
  guint i = from;
  const KefuIvrStep *final = NULL;

  while (i < tokens->len)
    {
      guint end = i;
      KefuIvrStep *s;

      while (end < tokens->len && !g_str_equal (g_array_index (tokens, Token, end).text, ";"))
        end++;
      if (end == i)
        {
          problem (p, lineno, g_array_index (tokens, Token, i).column,
                   _("empty step between “;”"));
          i = end + 1;
          continue;
        }
      s = parse_step (p, tokens, i, end, lineno, in_branch);
      if (s != NULL)
        {
          if (final != NULL)
            {
              problem (p, lineno, s->column,
                       _("“%s” is never run: “%s” before it leaves this list of steps"),
                       s->source, final->source);
              step_free (s);
            }
          else
            {
              if (step_is_final (s->kind))
                final = s;
              g_ptr_array_add (steps, s);
            }
        }
      i = end + 1;
    }
  return steps;
}

static void
parse_ivr_line (Parser     *p,
                const char *line,
                const char *start,
                guint       lineno)
{
  KefuIvrFlow *flow = p->section;
  g_autoptr(GArray) tokens = tokenize (line, start);
  const Token *first;

  if (tokens->len == 0)
    return;
  first = &g_array_index (tokens, Token, 0);

  if (g_str_equal (first->text, "on"))
    {
      if (p->skip_on_lines)
        return;  /* already reported with its step */

      KefuIvrStep *owner = flow->steps->len ? flow->steps->pdata[flow->steps->len - 1] : NULL;
      const char *keys = owner ? branch_keys_of (owner->kind) : NULL;
      const Token *key;
      KefuIvrBranch *branch;
      gboolean ok;
      const KefuIvrBranch *before;

      if (keys == NULL)
        {
          problem (p, lineno, first->column,
                   _("an “on” line must follow a menu, collect, hours, lookup or callback step"));
          return;
        }
      if (tokens->len < 2)
        {
          problem (p, lineno, first->column, _("“on” needs a case and steps, e.g. “on 1 queue "
                                               "sales”"));
          return;
        }
      key = &g_array_index (tokens, Token, 1);
      switch (owner->kind)
        {
        case KEFU_IVR_STEP_MENU:
          ok = is_dtmf_digits (key->text) || g_str_equal (key->text, "timeout")
               || g_str_equal (key->text, "failed");
          break;
        case KEFU_IVR_STEP_COLLECT:
          ok = g_str_equal (key->text, "failed");
          break;
        case KEFU_IVR_STEP_HOURS:
          ok = g_str_equal (key->text, "open") || g_str_equal (key->text, "closed");
          break;
        case KEFU_IVR_STEP_LOOKUP:
          ok = g_str_equal (key->text, "found") || g_str_equal (key->text, "not-found");
          break;
        case KEFU_IVR_STEP_CALLBACK:
          ok = g_str_equal (key->text, "ok") || g_str_equal (key->text, "failed");
          break;
        case KEFU_IVR_STEP_PLAY:
        case KEFU_IVR_STEP_LANGUAGE:
        case KEFU_IVR_STEP_SKILL:
        case KEFU_IVR_STEP_QUEUE:
        case KEFU_IVR_STEP_GOTO:
        case KEFU_IVR_STEP_REPEAT:
        case KEFU_IVR_STEP_HANGUP:
        default:
          ok = FALSE;
          break;
        }
      if (!ok)
        {
          problem (p, lineno, key->column, _("unknown case “%s” for %s (cases: %s)"), key->text,
                   step_words[owner->kind], keys);
          return;
        }
      if ((before = kefu_ivr_step_get_branch (owner, key->text)) != NULL)
        {
          problem (p, lineno, key->column, _("“on %s” is already given on line %u"), key->text,
                   before->line);
          return;
        }
      if (tokens->len < 3)
        {
          problem (p, lineno, first->column, _("“on %s” needs at least one step"), key->text);
          return;
        }
      branch = g_new0 (KefuIvrBranch, 1);
      branch->key = g_strdup (key->text);
      branch->line = lineno;
      branch->steps = parse_step_list (p, tokens, 2, lineno, TRUE);
      g_ptr_array_add (owner->branches, branch);
      if (owner->kind == KEFU_IVR_STEP_MENU && is_dtmf_digits (key->text))
        owner->max_digits = MAX (owner->max_digits, (guint) strlen (key->text));
      return;
    }

  {
    guint problems_before = p->problems->len;
    g_autoptr(GPtrArray) steps = parse_step_list (p, tokens, 0, lineno, FALSE);

    p->skip_on_lines = p->problems->len > problems_before;

    for (guint i = 0; i < steps->len; i++)
      {
        KefuIvrStep *last = flow->steps->len ? flow->steps->pdata[flow->steps->len - 1] : NULL;

        if (last != NULL && step_is_final (last->kind))
          {
            KefuIvrStep *s = steps->pdata[i];
            problem (p, lineno, s->column,
                     _("“%s” is never run: “%s” on line %u leaves this flow"), s->source,
                     last->source, last->line);
            break;
          }
        g_ptr_array_add (flow->steps, g_ptr_array_steal_index (steps, i));
        i--;
      }
  }
}

/* --- the checking pass ---------------------------------------------------------------- */

static char *
names_of (GPtrArray *items)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < items->len; i++)
    {
      if (i)
        g_string_append (s, ", ");
      g_string_append (s, *(char **) items->pdata[i]);
    }
  if (items->len == 0)
    g_string_append (s, _("none defined"));
  return g_string_free (s, FALSE);
}

static const KefuSwitchPrompt *
resolve_prompt (Parser            *p,
                const char        *name,
                guint              line,
                guint              column,
                const char        *context)
{
  const KefuSwitchPrompt *pr = kefu_switch_config_get_prompt (p->config, name);

  if (pr == NULL)
    {
      g_autofree char *list = names_of (p->config->prompts);
      problem (p, line, column, _("unknown prompt “%s” in “%s” (prompts: %s)"), name, context,
               list);
    }
  return pr;
}

static gboolean
strv_contains_or_empty (char * const *v, const char *s)
{
  return v && g_strv_contains ((const char * const *) v, s);
}

static void
check_skill (Parser                *p,
             const KefuSwitchQueue *q,
             const char            *skill,
             guint                  line,
             guint                  column,
             const char            *context)
{
  if (strv_contains_or_empty (q->skills, skill))
    return;
  {
    g_autofree char *list = q->skills[0] ? g_strjoinv (", ", q->skills) : g_strdup (_("none"));
    problem (p, line, column, _("unknown skill “%s” for queue “%s” in “%s” (its skills: %s)"),
             skill, q->name, context, list);
  }
}

static void check_steps (Parser *p, GPtrArray *steps);

static void
check_step (Parser      *p,
            KefuIvrStep *s)
{
  switch (s->kind)
    {
    case KEFU_IVR_STEP_PLAY:
      for (guint i = 0; i < s->prompt_names->len; i++)
        {
          const KefuIvrName *n = &g_array_index (s->prompt_names, KefuIvrName, i);
          const KefuSwitchPrompt *pr = resolve_prompt (p, n->name, s->line, n->column, s->source);

          if (pr)
            g_ptr_array_add (s->prompts, (gpointer) pr);
        }
      break;
    case KEFU_IVR_STEP_MENU:
    case KEFU_IVR_STEP_COLLECT:
      s->prompt = resolve_prompt (p, s->refs[0].name, s->line, s->refs[0].column, s->source);
      if (s->refs[1].name)
        s->invalid = resolve_prompt (p, s->refs[1].name, s->line, s->refs[1].column, s->source);
      if (s->refs[2].name)
        s->no_input = resolve_prompt (p, s->refs[2].name, s->line, s->refs[2].column, s->source);
      if (s->kind == KEFU_IVR_STEP_MENU)
        {
          gboolean any = FALSE;

          for (guint i = 0; i < s->branches->len; i++)
            any |= is_dtmf_digits (((KefuIvrBranch *) s->branches->pdata[i])->key);
          if (!any)
            problem (p, s->line, s->column,
                     _("this menu has no choices: add “on DIGITS STEP” lines below it"));
        }
      break;
    case KEFU_IVR_STEP_HOURS:
      s->hours = kefu_switch_config_get_hours (p->config, s->name);
      if (s->hours == NULL)
        {
          g_autofree char *list = names_of (p->config->hours);
          problem (p, s->line, s->refs[0].column,
                   _("unknown hours “%s” in “%s” (hours: %s)"), s->name, s->source, list);
        }
      break;
    case KEFU_IVR_STEP_QUEUE:
      {
        const KefuSwitchQueue *q = kefu_switch_config_get_queue (p->config, s->name);

        if (q == NULL)
          {
            g_autofree char *list = names_of (p->config->queues);
            problem (p, s->line, s->refs[0].column,
                     _("unknown queue “%s” in “%s” (queues: %s)"), s->name, s->source, list);
          }
        else if (s->skill)
          check_skill (p, q, s->skill, s->line, s->refs[4].column, s->source);
        break;
      }
    case KEFU_IVR_STEP_GOTO:
      if (kefu_switch_config_get_flow (p->config, s->name) == NULL)
        {
          g_autofree char *list = names_of (p->config->flows);
          problem (p, s->line, s->refs[0].column,
                   _("unknown flow “%s” in “%s” (flows: %s)"), s->name, s->source, list);
        }
      break;
    case KEFU_IVR_STEP_SKILL:
      {
        gboolean found = FALSE;
        g_autoptr(GString) all = g_string_new (NULL);

        for (guint i = 0; i < p->config->queues->len; i++)
          {
            const KefuSwitchQueue *q = p->config->queues->pdata[i];

            found |= strv_contains_or_empty (q->skills, s->name);
            for (guint j = 0; q->skills[j]; j++)
              if (!strstr (all->str, q->skills[j]))
                g_string_append_printf (all, "%s%s", all->len ? ", " : "", q->skills[j]);
          }
        if (!found)
          problem (p, s->line, s->refs[0].column,
                   _("unknown skill “%s” in “%s”: no queue lists it in its skills (skills: %s)"),
                   s->name, s->source, all->len ? all->str : _("none"));
        break;
      }
    case KEFU_IVR_STEP_LOOKUP:
    case KEFU_IVR_STEP_CALLBACK:
    case KEFU_IVR_STEP_LANGUAGE:
    case KEFU_IVR_STEP_REPEAT:
    case KEFU_IVR_STEP_HANGUP:
    default:
      break;
    }
  for (guint i = 0; i < s->branches->len; i++)
    check_steps (p, ((KefuIvrBranch *) s->branches->pdata[i])->steps);
}

static void
check_steps (Parser    *p,
             GPtrArray *steps)
{
  for (guint i = 0; i < steps->len; i++)
    check_step (p, steps->pdata[i]);
}

static void
check_prompt_files (Parser *p)
{
  KefuSwitchSettings *s = &p->config->settings;

  for (guint i = 0; i < p->config->prompts->len; i++)
    {
      KefuSwitchPrompt *pr = p->config->prompts->pdata[i];

      if (pr->parts->len == 0)
        problem (p, pr->line, 1, _("[prompt %s] is empty: give it a wav, zh or en line"),
                 pr->name);
      for (guint j = 0; j < pr->parts->len; j++)
        {
          KefuSwitchPromptPart *part = pr->parts->pdata[j];
          g_autoptr(GError) error = NULL;
          g_autofree gint16 *samples = NULL;
          g_autofree char *full = NULL;
          gsize n = 0;
          guint rate = 0;

          if (part->kind != KEFU_SWITCH_PROMPT_PART_WAV)
            continue;
          full = g_path_is_absolute (part->path) ? g_strdup (part->path)
                 : g_build_filename (s->prompts_dir, part->path, NULL);
          if (!g_file_test (full, G_FILE_TEST_IS_REGULAR))
            {
              problem (p, part->line, 1, _("the prompt file “%s” does not exist in %s"),
                       part->path, s->prompts_dir);
              continue;
            }
          if (!kefu_wav_load (full, &samples, &n, &rate, &error))
            {
              problem (p, part->line, 1, "%s", error->message);
              continue;
            }
          g_free (part->path);
          part->path = g_steal_pointer (&full);
          if (rate != KEFU_TTS_RATE)
            {
              gsize n_out = 0;
              gint16 *out = kefu_tts_resample (samples, n, rate, KEFU_TTS_RATE, &n_out);
              part->pcm = g_bytes_new_take (out, n_out * sizeof (gint16));
            }
          else
            part->pcm = g_bytes_new_take (g_steal_pointer (&samples), n * sizeof (gint16));
        }
    }
}

static void
check_queue_prompts (Parser *p)
{
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, p->queue_prompt_refs);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      const char *k = key;  /* "QUEUE\nmusic=NAME" */
      const char *nl = strchr (k, '\n');
      g_autofree char *queue_name = g_strndup (k, nl - k);
      const char *eq = strchr (nl + 1, '=');
      g_autofree char *setting = g_strndup (nl + 1, eq - nl - 1);
      KefuSwitchQueue *q = (KefuSwitchQueue *) kefu_switch_config_get_queue (p->config,
                                                                            queue_name);
      guint line = GPOINTER_TO_UINT (value);
      g_autofree char *context = g_strdup_printf ("%s = %s", setting, eq + 1);
      const KefuSwitchPrompt *pr = resolve_prompt (p, eq + 1, line, 1, context);

      if (q == NULL || pr == NULL)
        continue;
      if (g_str_equal (setting, "music"))
        q->music = pr;
      else if (g_str_equal (setting, "overflow-prompt"))
        {
          /* a call overflowing to another queue goes on waiting: no
           * goodbye to say */
          if (q->overflow != KEFU_SWITCH_OVERFLOW_CALLBACK)
            problem (p, line, 1,
                     _("overflow-prompt of [queue %s] is played only to callers overflowed to "
                       "the callback list: it needs overflow = callback"), q->name);
          q->overflow_prompt = pr;
        }
      else
        q->waiting_prompt = pr;
    }
}

/* The built-in overflow-prompt, in every language of this config whose
 * voice is installed, for the queues that overflow to the callback list
 * and name no prompt of their own. */
static void
add_callback_booked (Parser *p)
{
  KefuSwitchPrompt *pr = NULL;

  for (guint i = 0; i < p->config->queues->len; i++)
    {
      KefuSwitchQueue *q = p->config->queues->pdata[i];

      if (q->overflow != KEFU_SWITCH_OVERFLOW_CALLBACK || q->overflow_prompt != NULL)
        continue;
      if (pr == NULL)
        {
          pr = g_new0 (KefuSwitchPrompt, 1);
          pr->name = g_strdup ("callback-booked");
          pr->parts = g_ptr_array_new_with_free_func (prompt_part_free);
          pr->line = q->line;
          for (guint j = 0; j < G_N_ELEMENTS (callback_booked_texts); j++)
            {
              KefuSwitchPromptPart *part;

              if (GPOINTER_TO_INT (g_hash_table_lookup (p->language_ok,
                                                        callback_booked_texts[j].language)) != 1)
                continue;
              part = g_new0 (KefuSwitchPromptPart, 1);
              part->kind = KEFU_SWITCH_PROMPT_PART_TEXT;
              part->language = g_strdup (callback_booked_texts[j].language);
              part->text = g_strdup (callback_booked_texts[j].text);
              part->line = q->line;
              g_ptr_array_add (pr->parts, part);
            }
          p->config->callback_booked = pr;
        }
      q->overflow_prompt = pr;
    }
}

static void
check_queues (Parser *p)
{
  for (guint i = 0; i < p->config->queues->len; i++)
    {
      KefuSwitchQueue *q = p->config->queues->pdata[i];
      const KefuSwitchQueue *next;
      g_autoptr(GString) chain = NULL;
      guint hops = 0;

      if (q->overflow != KEFU_SWITCH_OVERFLOW_NONE && q->max_wait_ms == 0)
        problem (p, q->line, 1,
                 _("[queue %s] has overflow but no max-wait (the wait after which calls "
                   "overflow)"), q->name);
      if (q->overflow != KEFU_SWITCH_OVERFLOW_QUEUE)
        continue;
      next = kefu_switch_config_get_queue (p->config, q->overflow_queue);
      if (next == NULL)
        {
          g_autofree char *list = names_of (p->config->queues);
          problem (p, q->line, 1,
                   _("unknown queue “%s” in “overflow = %s” of [queue %s] (queues: %s, or "
                     "callback)"), q->overflow_queue, q->overflow_queue, q->name, list);
          continue;
        }
      if (next == q)
        {
          problem (p, q->line, 1, _("[queue %s] cannot overflow to itself"), q->name);
          continue;
        }
      /* a call must not go round the same queues for ever */
      chain = g_string_new (q->name);
      while (next && next->overflow == KEFU_SWITCH_OVERFLOW_QUEUE && hops++ < 1000)
        {
          g_string_append_printf (chain, " > %s", next->name);
          if (next == q)
            {
              problem (p, q->line, 1, _("the overflow of [queue %s] comes back to it: %s"),
                       q->name, chain->str);
              break;
            }
          next = kefu_switch_config_get_queue (p->config, next->overflow_queue);
        }
    }
}

static void
check_trunks (Parser *p)
{
  for (guint i = 0; i < p->config->trunks->len; i++)
    {
      KefuSwitchTrunk *t = p->config->trunks->pdata[i];

      if ((t->username == NULL) != (t->password == NULL))
        problem (p, t->line, 1, _("[trunk %s] has %s but no %s: give both for digest "
                                  "authentication"), t->name,
                 t->username ? "username" : "password", t->username ? "password" : "username");
      else if (t->allow->len == 0 && t->username == NULL)
        problem (p, t->line, 1,
                 _("[trunk %s] lets nobody in: give allow (addresses) or username and "
                   "password"), t->name);
      if (t->ivr == NULL)
        problem (p, t->line, 1, _("[trunk %s] needs ivr, the flow its callers enter"), t->name);
      else if (kefu_switch_config_get_flow (p->config, t->ivr) == NULL)
        {
          g_autofree char *list = names_of (p->config->flows);
          problem (p, t->line, 1, _("unknown flow “%s” in “ivr = %s” of [trunk %s] (flows: %s)"),
                   t->ivr, t->ivr, t->name, list);
        }
      if (t->outbound_prefixes[0] != NULL && t->gateway == NULL)
        problem (p, GPOINTER_TO_UINT (g_hash_table_lookup (p->prefixes_lines, t->name)), 1,
                 _("[trunk %s] has outbound-prefixes but no gateway to send those calls to"),
                 t->name);
      if (t->languages == NULL)
        t->languages = g_strdupv (p->config->settings.languages);
    }
}

static void
check_variables (Parser *p)
{
  for (guint i = 0; i < p->var_refs->len; i++)
    {
      VarRef *ref = p->var_refs->pdata[i];

      if (g_hash_table_contains (p->vars_set, ref->name) || word_index (builtin_vars, ref->name) >= 0)
        continue;
      {
        GList *names = g_list_sort (g_hash_table_get_keys (p->vars_set),
                                    (GCompareFunc) g_strcmp0);
        g_autoptr(GString) list = g_string_new (NULL);

        for (GList *l = names; l; l = l->next)
          g_string_append_printf (list, "%s, ", (char *) l->data);
        g_list_free (names);
        g_string_append (list, "caller, position, wait_min");
        problem (p, ref->line, ref->column,
                 _("unknown variable {%s} in “%s”: no collect step sets it (variables: %s)"),
                 ref->name, ref->context, list->str);
      }
    }
}

static void
check_all (Parser *p)
{
  KefuSwitchSettings *s = &p->config->settings;

  if (p->switch_line == 0)
    problem (p, 0, 0, _("there is no [switch] section (it needs at least server and "
                        "credentials)"));
  else
    {
      if (s->server_url == NULL && !g_hash_table_contains (p->settings_lines, "server"))
        problem (p, p->switch_line, 1, _("[switch] needs server, the URL of kefu-server"));
      if (s->credentials_file == NULL && !g_hash_table_contains (p->settings_lines, "credentials"))
        problem (p, p->switch_line, 1,
                 _("[switch] needs credentials, the file with the service account's password"));
    }
  if (s->listen == NULL)
    s->listen = g_strdup ("0.0.0.0:5060");
  if (s->rtp_port_min == 0)
    {
      s->rtp_port_min = 20000;
      s->rtp_port_max = 29999;
    }
  if (s->realm == NULL)
    s->realm = g_strdup (g_get_host_name ());
  if (s->spool_dir == NULL)
    s->spool_dir = g_strdup ("/var/spool/kefu-switch");
  if (s->recordings_dir == NULL)
    s->recordings_dir = g_strdup ("/var/lib/kefu-switch/recordings");
  if (s->prompts_dir == NULL)
    s->prompts_dir = g_build_filename (KEFU_DATADIR, "prompts", NULL);
  if (s->languages == NULL && !g_hash_table_contains (p->settings_lines, "language"))
    {
      s->languages = g_new0 (char *, 2);
      s->languages[0] = g_strdup ("zh");
      check_language (p, "zh", p->switch_line, 1);
    }
  else if (s->languages == NULL)
    s->languages = g_strsplit ("zh", ",", -1);

  check_trunks (p);
  check_queues (p);
  check_queue_prompts (p);
  add_callback_booked (p);
  check_prompt_files (p);
  for (guint i = 0; i < p->config->flows->len; i++)
    {
      KefuIvrFlow *f = p->config->flows->pdata[i];

      if (f->steps->len == 0)
        problem (p, f->line, 1, _("[ivr %s] has no steps"), f->name);
      check_steps (p, f->steps);
    }
  check_variables (p);
}

/* --- loading -------------------------------------------------------------------------- */

gboolean
kefu_switch_config_load_data (const char         *path,
                              const char         *data,
                              gsize               length,
                              KefuSwitchConfig  **config_out,
                              GError            **error)
{
  Parser p = { 0 };
  g_autoptr(KefuSwitchConfig) config = NULL;
  g_auto(GStrv) lines = NULL;
  g_autofree char *text = NULL;
  gboolean ok;

  g_return_val_if_fail (path != NULL && config_out != NULL, FALSE);

  if (!g_utf8_validate_len (data, length, NULL))
    {
      g_set_error (error, KEFU_SWITCH_CONFIG_ERROR, KEFU_SWITCH_CONFIG_ERROR_FILE,
                   _("%s: not UTF-8 text"), path);
      return FALSE;
    }
  config = config_new (path);
  p.config = config;
  p.path = path;
  p.dir = g_path_get_dirname (path);
  if (!g_path_is_absolute (p.dir))
    {
      g_autofree char *cwd = g_get_current_dir ();
      char *abs = g_canonicalize_filename (p.dir, cwd);
      g_free (p.dir);
      p.dir = abs;
    }
  p.problems = g_ptr_array_new_with_free_func (config_problem_free);
  p.keys_seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  p.settings_lines = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  p.vars_set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  p.var_refs = g_ptr_array_new_with_free_func (var_ref_free);
  p.language_ok = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  p.queue_prompt_refs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  p.prefix_owners = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  p.prefixes_lines = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  text = g_strndup (data, length);
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = lines[i];
      guint lineno = i + 1;
      gsize n = strlen (line);
      const char *start = line;

      if (n > 0 && line[n - 1] == '\r')
        line[n - 1] = '\0';
      while (*start == ' ' || *start == '\t')
        start++;
      if (*start == '\0' || *start == '#')
        continue;
      if (*start == '[')
        {
          open_section (&p, line, start, lineno);
          continue;
        }
      switch (p.kind)
        {
        case SECTION_NONE:
          problem (&p, lineno, column_of (line, start),
                   _("this line is outside any section: start the file with a section such as "
                     "[switch]"));
          break;
        case SECTION_IVR:
          parse_ivr_line (&p, line, start, lineno);
          break;
        case SECTION_SWITCH:
        case SECTION_TRUNK:
        case SECTION_QUEUE:
        case SECTION_HOURS:
        case SECTION_PROMPT:
          parse_setting (&p, line, start, lineno);
          break;
        default:
          break;  /* after a broken header */
        }
    }

  check_all (&p);

  ok = p.problems->len == 0;
  if (!ok)
    {
      GString *message = g_string_new (NULL);

      g_ptr_array_sort (p.problems, compare_problems);
      for (guint i = 0; i < p.problems->len && i < MAX_ERRORS; i++)
        {
          ConfigProblem *pr = p.problems->pdata[i];

          if (i)
            g_string_append_c (message, '\n');
          if (pr->line == 0)
            g_string_append_printf (message, "%s: %s", path, pr->message);
          else if (pr->column > 1)
            g_string_append_printf (message, "%s:%u:%u: %s", path, pr->line, pr->column,
                                    pr->message);
          else
            g_string_append_printf (message, "%s:%u: %s", path, pr->line, pr->message);
        }
      if (p.problems->len > MAX_ERRORS)
        {
          g_string_append_printf (message, "\n%s: ", path);
          g_string_append_printf (message, _("%u more errors not shown"),
                                  p.problems->len - MAX_ERRORS);
        }
      g_set_error_literal (error, KEFU_SWITCH_CONFIG_ERROR, KEFU_SWITCH_CONFIG_ERROR_INVALID,
                           message->str);
      g_string_free (message, TRUE);
    }
  else
    *config_out = g_steal_pointer (&config);

  g_free (p.dir);
  g_ptr_array_unref (p.problems);
  g_hash_table_unref (p.keys_seen);
  g_hash_table_unref (p.settings_lines);
  g_hash_table_unref (p.vars_set);
  g_ptr_array_unref (p.var_refs);
  g_hash_table_unref (p.language_ok);
  g_hash_table_unref (p.queue_prompt_refs);
  g_hash_table_unref (p.prefix_owners);
  g_hash_table_unref (p.prefixes_lines);
  return ok;
}

gboolean
kefu_switch_config_load (const char         *path,
                         KefuSwitchConfig  **config_out,
                         GError            **error)
{
  g_autofree char *data = NULL;
  g_autoptr(GError) local = NULL;
  gsize length = 0;

  g_return_val_if_fail (path != NULL && config_out != NULL, FALSE);

  if (!g_file_get_contents (path, &data, &length, &local))
    {
      g_set_error (error, KEFU_SWITCH_CONFIG_ERROR, KEFU_SWITCH_CONFIG_ERROR_FILE,
                   _("%s: cannot read the configuration: %s"), path, local->message);
      return FALSE;
    }
  return kefu_switch_config_load_data (path, data, length, config_out, error);
}

gboolean
kefu_switch_config_render_prompts (KefuSwitchConfig *self,
                                   KefuTts          *tts,
                                   GError          **error)
{
  g_return_val_if_fail (self != NULL && tts != NULL, FALSE);

  for (guint i = 0; i <= self->prompts->len; i++)
    {
      KefuSwitchPrompt *pr = i < self->prompts->len ? self->prompts->pdata[i]
                             : self->callback_booked;

      if (pr == NULL)
        continue;

      for (guint j = 0; j < pr->parts->len; j++)
        {
          KefuSwitchPromptPart *part = pr->parts->pdata[j];
          g_autoptr(GError) local = NULL;

          if (part->kind != KEFU_SWITCH_PROMPT_PART_TEXT || part->dynamic || part->pcm)
            continue;
          part->pcm = kefu_tts_speak (tts, part->language, part->text, &local);
          if (part->pcm == NULL)
            {
              g_set_error (error, KEFU_SWITCH_CONFIG_ERROR, KEFU_SWITCH_CONFIG_ERROR_INVALID,
                           "%s:%u: %s", self->path, part->line, local->message);
              return FALSE;
            }
        }
    }
  return TRUE;
}
