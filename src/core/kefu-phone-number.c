/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuPhoneNumber"

#include "config.h"

#include "kefu-phone-number.h"

#include <glib/gi18n-lib.h>
#include <string.h>

/*
 * What this module knows, and what it deliberately does not:
 *
 * - Which country calling codes ITU-T E.164 has assigned, so that "+852…"
 *   splits as 852 and "+86…" as 86.  The codes are prefix-free (no code is
 *   the start of another), so the first assigned code that matches is it.
 * - The dialling conventions (international and trunk prefixes) of the
 *   countries Kefu's customers work in, so that the local ways of writing a
 *   number become one E.164 number.
 * - Not the numbering plan inside each country: any national significant
 *   number of 4 or more digits is accepted, up to the 15 digits E.164
 *   allows in all.  A contact centre must be able to store a number it
 *   does not understand; refusing a real customer's number costs more
 *   than storing a mistyped one.
 *
 * Extensions ("x123", "ext. 123", ";ext=123", "#123") are refused by
 * kefu_phone_number_normalise(): E.164 has no place for them, and dropping
 * them silently would lose what the agent typed.  The message says what
 * was found so the agent can put it elsewhere.  A search box is different:
 * kefu_phone_number_normalise_prefix() ignores an extension, so the
 * customer is still found by their main number.
 */

G_DEFINE_QUARK (kefu-phone-number-error-quark, kefu_phone_number_error)

#define E164_MAX_DIGITS 15
#define NSN_MIN_DIGITS   4
/* The longest international prefix (Korea's "00700") plus a full E.164
 * number fits with room to spare; digits past this are counted, not kept. */
#define KEPT_DIGITS_MAX 32
/* Nobody types a phone number this long, even with separators; a search
 * box holding more is not one. */
#define PREFIX_INPUT_MAX_BYTES 1024
/* Quoting a whole pasted document back in an error helps nobody. */
#define QUOTED_CHARS_MAX 40

/* Country calling codes assigned by ITU-T E.164, as inclusive ranges.  A
 * code's length is its number of decimal digits; no code starts with 0. */
static const struct {
  guint16 first;
  guint16 last;
} calling_codes[] = {
  /* World zone 1: the North American Numbering Plan */
  { 1, 1 },
  /* World zone 2: Africa and a few Atlantic islands */
  { 20, 20 }, { 27, 27 },
  { 211, 213 }, { 216, 216 }, { 218, 218 }, { 220, 258 }, { 260, 269 },
  { 290, 291 }, { 297, 299 },
  /* World zones 3 and 4: Europe */
  { 30, 34 }, { 36, 36 }, { 39, 41 }, { 43, 49 },
  { 350, 359 }, { 370, 383 }, { 385, 389 }, { 420, 421 }, { 423, 423 },
  /* World zone 5: Central and South America */
  { 51, 58 },
  { 500, 509 }, { 590, 599 },
  /* World zone 6: South-East Asia and Oceania */
  { 60, 66 },
  { 670, 670 }, { 672, 683 }, { 685, 692 },
  /* World zone 7: Russia and Kazakhstan */
  { 7, 7 },
  /* World zone 8: East Asia and international services */
  { 81, 82 }, { 84, 84 }, { 86, 86 },
  { 800, 800 }, { 808, 808 }, { 850, 850 }, { 852, 853 }, { 855, 856 },
  { 870, 870 }, { 878, 878 }, { 880, 883 }, { 886, 886 }, { 888, 888 },
  /* World zone 9: West, Central and South Asia */
  { 90, 95 }, { 98, 98 },
  { 960, 968 }, { 970, 977 }, { 979, 979 }, { 991, 996 }, { 998, 998 },
};

/*
 * How people dial in the countries Kefu is configured for.
 *
 * Every country here with a trunk prefix never starts a national significant
 * number with that prefix, so a trunk prefix written after the country code
 * ("+86 010 …", "+44 (0)20 …") can always be dropped.  A country where that
 * is not so (Russia, whose trunk prefix 8 also starts its 8-800 numbers)
 * would need a flag before it could be added.
 *
 * Where several carriers each have an international prefix (Korea, Taiwan,
 * Singapore), the common ones are listed; none of them can be the start of
 * a national number there.
 */
typedef struct {
  const char *country;                    /* ISO 3166-1 alpha-2 */
  const char *calling_code;
  const char *international_prefixes[6];  /* unused ones NULL */
  const char *trunk_prefix;               /* "" where there is none */
  /* Italy dialled its trunk 0 into the number itself in 1998: there, a 0
   * after the country code is part of the number, not a trunk prefix. */
  gboolean    nsn_may_start_with_zero;
} DiallingPlan;

static const DiallingPlan dialling_plans[] = {
  { "AE", "971", { "00" },                                       "0", FALSE },
  { "AT", "43",  { "00" },                                       "0", FALSE },
  { "AU", "61",  { "0011" },                                     "0", FALSE },
  { "BE", "32",  { "00" },                                       "0", FALSE },
  { "CA", "1",   { "011" },                                      "1", FALSE },
  { "CH", "41",  { "00" },                                       "0", FALSE },
  { "CN", "86",  { "00" },                                       "0", FALSE },
  { "DE", "49",  { "00" },                                       "0", FALSE },
  { "DK", "45",  { "00" },                                       "",  FALSE },
  { "ES", "34",  { "00" },                                       "",  FALSE },
  { "FR", "33",  { "00" },                                       "0", FALSE },
  { "GB", "44",  { "00" },                                       "0", FALSE },
  { "HK", "852", { "001" },                                      "",  FALSE },
  { "ID", "62",  { "001", "007" },                               "0", FALSE },
  { "IE", "353", { "00" },                                       "0", FALSE },
  { "IN", "91",  { "00" },                                       "0", FALSE },
  { "IT", "39",  { "00" },                                       "",  TRUE  },
  { "JP", "81",  { "010" },                                      "0", FALSE },
  { "KR", "82",  { "001", "002", "005", "006", "008", "00700" }, "0", FALSE },
  { "MO", "853", { "00" },                                       "",  FALSE },
  { "MY", "60",  { "00" },                                       "0", FALSE },
  { "NL", "31",  { "00" },                                       "0", FALSE },
  { "NO", "47",  { "00" },                                       "",  FALSE },
  { "NZ", "64",  { "00" },                                       "0", FALSE },
  { "PH", "63",  { "00" },                                       "0", FALSE },
  { "PL", "48",  { "00" },                                       "",  FALSE },
  { "PT", "351", { "00" },                                       "",  FALSE },
  { "SE", "46",  { "00" },                                       "0", FALSE },
  { "SG", "65",  { "001", "002", "008", "018", "019" },          "",  FALSE },
  { "TH", "66",  { "001" },                                      "0", FALSE },
  { "TW", "886", { "002", "005", "006", "007", "009" },          "0", FALSE },
  { "US", "1",   { "011" },                                      "1", FALSE },
  { "VN", "84",  { "00" },                                       "0", FALSE },
};

static const char * const extension_markers[] = {
  ";ext=", "extension", "ext.", "ext", "x", "#",
};

/* What was typed, with the separators gone. */
typedef struct {
  char     digits[KEPT_DIGITS_MAX + 1];  /* ASCII, whatever script was typed */
  gsize    n_kept;
  gsize    n_digits;                     /* all digits, kept or not */
  gboolean plus;
  gssize   trunk_mark_at;                /* where a "(0)" sits in digits, or -1 */
} TypedNumber;

typedef enum {
  SPLIT_OK,
  SPLIT_CALLING_CODE_INCOMPLETE,  /* "+8", "00": more digits may make it one */
  SPLIT_CALLING_CODE_UNKNOWN,     /* "+999": no country has it */
} SplitStatus;

typedef struct {
  const char *calling_code;
  gsize       calling_code_len;
  const char *nsn;                /* national significant number */
  gsize       nsn_len;
  gboolean    calling_code_typed; /* FALSE: it is the default country's */
} SplitNumber;

static const DiallingPlan *
find_dialling_plan (const char *country)
{
  if (country == NULL || strlen (country) != 2)
    return NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (dialling_plans); i++)
    if (g_ascii_strcasecmp (dialling_plans[i].country, country) == 0)
      return &dialling_plans[i];

  return NULL;
}

static const DiallingPlan *
find_dialling_plan_by_calling_code (const char *digits,
                                    gsize       len)
{
  for (gsize i = 0; i < G_N_ELEMENTS (dialling_plans); i++)
    {
      const char *code = dialling_plans[i].calling_code;

      if (strlen (code) == len && strncmp (code, digits, len) == 0)
        return &dialling_plans[i];
    }

  return NULL;
}

static guint
count_decimal_digits (guint value)
{
  guint n = 1;

  while (value >= 10)
    {
      value /= 10;
      n++;
    }

  return n;
}

static gboolean
calling_code_is_assigned (guint value)
{
  for (gsize i = 0; i < G_N_ELEMENTS (calling_codes); i++)
    if (value >= calling_codes[i].first && value <= calling_codes[i].last)
      return TRUE;

  return FALSE;
}

/* Returns the length of the calling code at the start of digits, 0 when
 * the digits are the start of a code but not yet all of it, -1 when no
 * code starts that way. */
static int
calling_code_length (const char *digits,
                     gsize       len)
{
  guint value = 0;
  guint divisor;

  if (len > 0 && digits[0] == '0')
    return -1;

  for (gsize n = 1; n <= 3 && n <= len; n++)
    {
      value = value * 10 + (guint) (digits[n - 1] - '0');
      if (calling_code_is_assigned (value))
        return (int) n;
    }

  if (len >= 3)
    return -1;

  for (gsize i = 0; i < G_N_ELEMENTS (calling_codes); i++)
    for (guint code = calling_codes[i].first; code <= calling_codes[i].last; code++)
      {
        guint code_len = count_decimal_digits (code);

        if (code_len <= len)
          continue;
        divisor = 1;
        for (guint k = 0; k < code_len - len; k++)
          divisor *= 10;
        if (code / divisor == value)
          return 0;
      }

  return -1;
}

static gboolean
has_digit_prefix (const char *digits,
                  gsize       len,
                  const char *prefix)
{
  gsize prefix_len = strlen (prefix);

  return prefix_len > 0 && prefix_len <= len && strncmp (digits, prefix, prefix_len) == 0;
}

static gsize
match_international_prefix (const DiallingPlan *plan,
                            const char         *digits,
                            gsize               len)
{
  gsize longest = 0;

  for (gsize i = 0;
       i < G_N_ELEMENTS (plan->international_prefixes) && plan->international_prefixes[i] != NULL;
       i++)
    {
      const char *prefix = plan->international_prefixes[i];

      if (has_digit_prefix (digits, len, prefix))
        longest = MAX (longest, strlen (prefix));
    }

  return longest;
}

/* "0" in Australia is either the trunk prefix or the start of "0011". */
static gboolean
starts_international_prefix (const DiallingPlan *plan,
                             const char         *digits,
                             gsize               len)
{
  for (gsize i = 0;
       i < G_N_ELEMENTS (plan->international_prefixes) && plan->international_prefixes[i] != NULL;
       i++)
    {
      const char *prefix = plan->international_prefixes[i];

      if (len < strlen (prefix) && strncmp (prefix, digits, len) == 0)
        return TRUE;
    }

  return FALSE;
}

static gsize
trunk_prefix_length (const DiallingPlan *plan,
                     const char         *digits,
                     gsize               len)
{
  if (has_digit_prefix (digits, len, plan->trunk_prefix))
    return strlen (plan->trunk_prefix);

  return 0;
}

static void
split_national (const TypedNumber  *typed,
                const DiallingPlan *home,
                SplitNumber        *split)
{
  gsize skip = trunk_prefix_length (home, typed->digits, typed->n_kept);

  split->calling_code = home->calling_code;
  split->calling_code_len = strlen (home->calling_code);
  split->nsn = typed->digits + skip;
  split->nsn_len = typed->n_kept - skip;
  split->calling_code_typed = FALSE;
}

static SplitStatus
split_international (const TypedNumber *typed,
                     gsize              offset,
                     SplitNumber       *split)
{
  const char *rest = typed->digits + offset;
  gsize rest_len = typed->n_kept - offset;
  const DiallingPlan *plan;
  int cc_len;
  gsize skip = 0;

  /* Whatever the outcome, say what was typed as the calling code. */
  split->calling_code = rest;
  split->calling_code_len = (rest_len > 0 && rest[0] == '0') ? 1 : MIN (rest_len, 3);
  split->nsn = rest + split->calling_code_len;
  split->nsn_len = 0;
  split->calling_code_typed = TRUE;

  cc_len = calling_code_length (rest, rest_len);
  if (cc_len == 0)
    return SPLIT_CALLING_CODE_INCOMPLETE;
  if (cc_len < 0)
    return SPLIT_CALLING_CODE_UNKNOWN;

  split->calling_code_len = (gsize) cc_len;
  split->nsn = rest + cc_len;
  split->nsn_len = rest_len - (gsize) cc_len;

  /* "(0)" after the country code marks a trunk prefix to dial only from
   * inside the country, even one we have no dialling plan for; only where
   * a number may start with 0 (Italy) is it taken at its word.  A bare
   * trunk prefix there ("+86 010 …") is a common slip we can undo where we
   * know the country. */
  plan = find_dialling_plan_by_calling_code (rest, (gsize) cc_len);
  if (typed->trunk_mark_at == (gssize) (offset + (gsize) cc_len)
      && split->nsn_len > 0
      && (plan == NULL || !plan->nsn_may_start_with_zero))
    skip = 1;
  else if (plan != NULL)
    skip = trunk_prefix_length (plan, split->nsn, split->nsn_len);

  split->nsn += skip;
  split->nsn_len -= skip;

  return SPLIT_OK;
}

static SplitStatus
split_typed_number (const TypedNumber  *typed,
                    const DiallingPlan *home,
                    gboolean            partial,
                    SplitNumber        *split)
{
  gsize idd_len;

  if (typed->plus)
    return split_international (typed, 0, split);

  idd_len = match_international_prefix (home, typed->digits, typed->n_kept);
  if (idd_len > 0)
    return split_international (typed, idd_len, split);

  /* Half an international prefix in a search box: it is one only if the
   * digits cannot be the start of a national number. */
  if (partial && starts_international_prefix (home, typed->digits, typed->n_kept))
    {
      gsize skip = trunk_prefix_length (home, typed->digits, typed->n_kept);

      if (skip < typed->n_kept
          && typed->digits[skip] == '0'
          && !home->nsn_may_start_with_zero)
        return split_international (typed, typed->n_kept, split);
    }

  split_national (typed, home, split);

  return SPLIT_OK;
}

static gboolean
is_separator (gunichar c)
{
  /* Spaces of every kind (no-break, ideographic), and the invisible marks
   * that copying from a web page or a right-to-left document brings along. */
  if (g_unichar_isspace (c) || g_unichar_type (c) == G_UNICODE_FORMAT)
    return TRUE;

  /* Hyphens and dashes of every kind, and the minus sign that word
   * processors put in place of a hyphen. */
  if (g_unichar_type (c) == G_UNICODE_DASH_PUNCTUATION || c == 0x2212)
    return TRUE;

  switch (c)
    {
    case '.':
    case '/':
    case '(':
    case ')':
    case 0xFF08:  /* full-width parentheses, from a CJK input method */
    case 0xFF09:
    case 0xFF0E:  /* full-width full stop and solidus */
    case 0xFF0F:
      return TRUE;
    default:
      return FALSE;
    }
}

static gboolean
is_blank (gunichar c)
{
  return g_unichar_isspace (c) || g_unichar_type (c) == G_UNICODE_FORMAT;
}

static gboolean
is_opening_parenthesis (gunichar c)
{
  return c == '(' || c == 0xFF08;
}

static gboolean
is_closing_parenthesis (gunichar c)
{
  return c == ')' || c == 0xFF09;
}

static gboolean
is_plus (gunichar c)
{
  return c == '+' || c == 0xFF0B;
}

/* Does "(0)" start at text[at]?  In a search box, "(0" at the end counts:
 * the closing parenthesis has not been typed yet. */
static gboolean
is_trunk_mark (const gunichar *text,
               gsize           at,
               gsize           end,
               gboolean        partial,
               gsize          *last)
{
  gsize k = at + 1;

  while (k < end && is_blank (text[k]))
    k++;
  if (k >= end || g_unichar_digit_value (text[k]) != 0)
    return FALSE;
  k++;
  while (k < end && is_blank (text[k]))
    k++;

  if (k < end && is_closing_parenthesis (text[k]))
    {
      *last = k;
      return TRUE;
    }
  if (k == end && partial)
    {
      *last = end - 1;
      return TRUE;
    }

  return FALSE;
}

static gboolean
text_ends_with (const gunichar *text,
                gsize           start,
                gsize           end,
                const char     *ascii,
                gsize           len)
{
  if (end - start < len)
    return FALSE;

  for (gsize k = 0; k < len; k++)
    if (g_unichar_tolower (text[end - len + k]) != (gunichar) ascii[k])
      return FALSE;

  return TRUE;
}

static gboolean
has_digit_between (const gunichar *text,
                   gsize           start,
                   gsize           end)
{
  for (gsize k = start; k < end; k++)
    if (g_unichar_digit_value (text[k]) >= 0)
      return TRUE;

  return FALSE;
}

/* Where an extension starts in text[start..end), or -1.  It must follow
 * some digits of the number itself, so that a name such as "Rex 12" is
 * reported as letters rather than as an extension. */
static gssize
find_extension (const gunichar *text,
                gsize           start,
                gsize           end,
                gboolean        partial)
{
  gsize marker_end = end;
  gboolean has_extension_digits = FALSE;
  gssize found = -1;

  while (marker_end > start
         && (g_unichar_digit_value (text[marker_end - 1]) >= 0 || is_blank (text[marker_end - 1])))
    {
      if (g_unichar_digit_value (text[marker_end - 1]) >= 0)
        has_extension_digits = TRUE;
      marker_end--;
    }

  if (!has_extension_digits && !partial)
    return -1;

  /* The earliest start wins, so that "ex" is not read as "e" and then
   * the marker "x".  In a search box, a marker may be half typed: "ex" on
   * its way to "ext 12". */
  for (gsize i = 0; i < G_N_ELEMENTS (extension_markers); i++)
    {
      gsize marker_len = strlen (extension_markers[i]);
      gsize shortest = (partial && !has_extension_digits) ? 1 : marker_len;

      for (gsize len = shortest; len <= marker_len; len++)
        if (text_ends_with (text, start, marker_end, extension_markers[i], len)
            && has_digit_between (text, start, marker_end - len)
            && (found < 0 || marker_end - len < (gsize) found))
          found = (gssize) (marker_end - len);
    }

  return found;
}

static char *
quote_for_message (const char *input)
{
  g_autofree char *trimmed = g_strstrip (g_strdup (input));

  if (g_utf8_strlen (trimmed, -1) <= QUOTED_CHARS_MAX)
    return g_steal_pointer (&trimmed);

  {
    g_autofree char *head = g_utf8_substring (trimmed, 0, QUOTED_CHARS_MAX - 1);

    return g_strconcat (head, "…", NULL);
  }
}

static void
set_stray_character_error (GError     **error,
                           const char  *input,
                           gunichar     c)
{
  g_autofree char *quoted = quote_for_message (input);
  char utf8[8] = { 0 };

  g_unichar_to_utf8 (c, utf8);

  if (is_plus (c))
    g_set_error (error, KEFU_PHONE_NUMBER_ERROR, KEFU_PHONE_NUMBER_ERROR_INVALID,
                 _("“%s” is not a phone number: “+” can only come first, before the "
                   "country code"),
                 quoted);
  else if (g_unichar_isalpha (c))
    g_set_error (error, KEFU_PHONE_NUMBER_ERROR, KEFU_PHONE_NUMBER_ERROR_INVALID,
                 _("“%s” is not a phone number: it contains the letter “%s”"),
                 quoted, utf8);
  else if (g_unichar_isgraph (c))
    g_set_error (error, KEFU_PHONE_NUMBER_ERROR, KEFU_PHONE_NUMBER_ERROR_INVALID,
                 _("“%s” is not a phone number: it contains “%s”"),
                 quoted, utf8);
  else
    g_set_error (error, KEFU_PHONE_NUMBER_ERROR, KEFU_PHONE_NUMBER_ERROR_INVALID,
                 _("“%s” is not a phone number: it contains the invisible character U+%04X"),
                 quoted, (guint) c);
}

static void
push_digit (TypedNumber *typed,
            int          value)
{
  if (typed->n_kept < KEPT_DIGITS_MAX)
    {
      typed->digits[typed->n_kept++] = (char) ('0' + value);
      typed->digits[typed->n_kept] = '\0';
    }
  typed->n_digits++;
}

/* Reads what was typed into typed.  partial is for a search box, where the
 * text may stop anywhere; then errors are not reported, only FALSE. */
static gboolean
scan_typed_number (const char   *input,
                   gboolean      partial,
                   TypedNumber  *typed,
                   GError      **error)
{
  g_autofree gunichar *text = NULL;
  glong n_chars = 0;
  gsize start = 0;
  gsize end;
  gssize extension_at;

  memset (typed, 0, sizeof *typed);
  typed->trunk_mark_at = -1;

  if (!g_utf8_validate (input, -1, NULL))
    {
      g_set_error_literal (error, KEFU_PHONE_NUMBER_ERROR, KEFU_PHONE_NUMBER_ERROR_INVALID,
                           _("The phone number is not valid text"));
      return FALSE;
    }

  text = g_utf8_to_ucs4_fast (input, -1, &n_chars);
  end = (gsize) n_chars;

  while (start < end && is_blank (text[start]))
    start++;
  while (end > start && is_blank (text[end - 1]))
    end--;

  /* Numbers copied from a web page's links come as RFC 3966 URIs. */
  if (end - start >= 4 && text_ends_with (text, start, start + 4, "tel:", 4))
    start += 4;

  extension_at = find_extension (text, start, end, partial);
  if (extension_at >= 0)
    {
      if (!partial)
        {
          g_autofree char *extension = g_ucs4_to_utf8 (text + extension_at,
                                                       (glong) (end - (gsize) extension_at),
                                                       NULL, NULL, NULL);
          g_autofree char *quoted = quote_for_message (input);
          g_autofree char *quoted_extension = quote_for_message (extension);

          g_set_error (error, KEFU_PHONE_NUMBER_ERROR, KEFU_PHONE_NUMBER_ERROR_INVALID,
                       _("“%s” has an extension, “%s”: enter the number without it"),
                       quoted, quoted_extension);
          return FALSE;
        }
      end = (gsize) extension_at;
    }

  for (gsize i = start; i < end; i++)
    {
      gunichar c = text[i];
      int value = g_unichar_digit_value (c);
      gsize last;

      /* Any script's decimal digits: full-width ones from a CJK input
       * method, Arabic-Indic or Devanagari ones from those keyboards. */
      if (value >= 0)
        {
          push_digit (typed, value);
        }
      else if (is_plus (c) && !typed->plus && typed->n_digits == 0)
        {
          typed->plus = TRUE;
        }
      else if (is_opening_parenthesis (c) && is_trunk_mark (text, i, end, partial, &last))
        {
          if (typed->trunk_mark_at < 0)
            typed->trunk_mark_at = (gssize) typed->n_digits;
          push_digit (typed, 0);
          i = last;
        }
      else if (!is_separator (c))
        {
          set_stray_character_error (error, input, c);
          return FALSE;
        }
    }

  return TRUE;
}

gboolean
kefu_phone_number_country_is_known (const char *default_country)
{
  return find_dialling_plan (default_country) != NULL;
}

char *
kefu_phone_number_normalise (const char  *input,
                             const char  *default_country,
                             GError     **error)
{
  const DiallingPlan *home;
  TypedNumber typed;
  SplitNumber split;
  SplitStatus status;
  g_autofree char *quoted = NULL;
  gsize total;

  g_return_val_if_fail (input != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  home = find_dialling_plan (default_country);
  if (home == NULL)
    {
      if (default_country == NULL || *default_country == '\0')
        g_set_error_literal (error, KEFU_PHONE_NUMBER_ERROR,
                             KEFU_PHONE_NUMBER_ERROR_UNKNOWN_COUNTRY,
                             _("No default country is set, so national phone numbers "
                               "cannot be understood"));
      else
        g_set_error (error, KEFU_PHONE_NUMBER_ERROR, KEFU_PHONE_NUMBER_ERROR_UNKNOWN_COUNTRY,
                     _("The default country “%s” is not one whose dialling conventions "
                       "are known"),
                     g_utf8_validate (default_country, -1, NULL) ? default_country : "?");
      return NULL;
    }

  if (!scan_typed_number (input, FALSE, &typed, error))
    return NULL;

  quoted = quote_for_message (input);

  if (typed.n_digits == 0)
    {
      if (*quoted == '\0')
        g_set_error_literal (error, KEFU_PHONE_NUMBER_ERROR,
                             KEFU_PHONE_NUMBER_ERROR_TOO_SHORT,
                             _("The phone number is empty"));
      else
        g_set_error (error, KEFU_PHONE_NUMBER_ERROR, KEFU_PHONE_NUMBER_ERROR_TOO_SHORT,
                     _("“%s” is not a phone number: it has no digits"), quoted);
      return NULL;
    }

  if (typed.n_digits > KEPT_DIGITS_MAX)
    {
      g_set_error (error, KEFU_PHONE_NUMBER_ERROR, KEFU_PHONE_NUMBER_ERROR_TOO_LONG,
                   _("“%s” is too long to be a phone number: it has %u digits, and no "
                     "phone number has more than %d"),
                   quoted, (guint) MIN (typed.n_digits, G_MAXUINT), E164_MAX_DIGITS);
      return NULL;
    }

  status = split_typed_number (&typed, home, FALSE, &split);

  if (status == SPLIT_CALLING_CODE_UNKNOWN)
    {
      g_set_error (error, KEFU_PHONE_NUMBER_ERROR, KEFU_PHONE_NUMBER_ERROR_INVALID,
                   _("“%s” is not a phone number: no country has the calling code +%.*s"),
                   quoted, (int) split.calling_code_len, split.calling_code);
      return NULL;
    }

  if (status == SPLIT_CALLING_CODE_INCOMPLETE && split.calling_code_len == 0)
    {
      g_set_error (error, KEFU_PHONE_NUMBER_ERROR, KEFU_PHONE_NUMBER_ERROR_TOO_SHORT,
                   _("“%s” is too short to be a phone number: it has no country code"),
                   quoted);
      return NULL;
    }

  if (status == SPLIT_CALLING_CODE_INCOMPLETE)
    {
      g_set_error (error, KEFU_PHONE_NUMBER_ERROR, KEFU_PHONE_NUMBER_ERROR_TOO_SHORT,
                   _("“%s” is too short to be a phone number: the country code is not "
                     "complete"),
                   quoted);
      return NULL;
    }

  if (split.nsn_len == 0 && split.calling_code_typed)
    {
      g_set_error (error, KEFU_PHONE_NUMBER_ERROR, KEFU_PHONE_NUMBER_ERROR_TOO_SHORT,
                   _("“%s” is not a phone number: nothing follows the country code +%.*s"),
                   quoted, (int) split.calling_code_len, split.calling_code);
      return NULL;
    }

  if (split.nsn_len < NSN_MIN_DIGITS)
    {
      g_set_error (error, KEFU_PHONE_NUMBER_ERROR, KEFU_PHONE_NUMBER_ERROR_TOO_SHORT,
                   _("“%s” is too short to be a phone number"), quoted);
      return NULL;
    }

  total = split.calling_code_len + split.nsn_len;
  if (total > E164_MAX_DIGITS)
    {
      g_set_error (error, KEFU_PHONE_NUMBER_ERROR, KEFU_PHONE_NUMBER_ERROR_TOO_LONG,
                   _("“%s” is too long to be a phone number: with the country code it has "
                     "%u digits, and no phone number has more than %d"),
                   quoted, (guint) total, E164_MAX_DIGITS);
      return NULL;
    }

  return g_strdup_printf ("+%.*s%.*s",
                          (int) split.calling_code_len, split.calling_code,
                          (int) split.nsn_len, split.nsn);
}

char *
kefu_phone_number_normalise_prefix (const char *input,
                                    const char *default_country)
{
  const DiallingPlan *home;
  TypedNumber typed;
  SplitNumber split;

  if (input == NULL || strlen (input) > PREFIX_INPUT_MAX_BYTES)
    return NULL;

  home = find_dialling_plan (default_country);
  if (home == NULL)
    {
      g_debug ("No dialling conventions for country “%s”; a search cannot be read as a "
               "phone number", default_country ? default_country : "(none)");
      return NULL;
    }

  if (!scan_typed_number (input, TRUE, &typed, NULL))
    return NULL;

  if (typed.n_digits == 0)
    return typed.plus ? g_strdup ("+") : NULL;

  if (typed.n_digits > KEPT_DIGITS_MAX)
    return NULL;

  switch (split_typed_number (&typed, home, TRUE, &split))
    {
    case SPLIT_CALLING_CODE_UNKNOWN:
      return NULL;

    case SPLIT_CALLING_CODE_INCOMPLETE:
      return g_strdup_printf ("+%.*s", (int) split.calling_code_len, split.calling_code);

    case SPLIT_OK:
    default:
      if (split.calling_code_len + split.nsn_len > E164_MAX_DIGITS)
        return NULL;
      return g_strdup_printf ("+%.*s%.*s",
                              (int) split.calling_code_len, split.calling_code,
                              (int) split.nsn_len, split.nsn);
    }
}
