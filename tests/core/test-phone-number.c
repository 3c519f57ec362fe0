/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuTestPhoneNumber"

#include "config.h"

#include "kefu-phone-number.h"

#include <string.h>

typedef struct {
  const char *input;
  const char *country;
  const char *e164;
} ValidCase;

typedef struct {
  const char           *input;
  const char           *country;
  int                   code;  /* KefuPhoneNumberError */
  const char           *message_part;  /* what the user must be told */
} InvalidCase;

typedef struct {
  const char *input;
  const char *country;
  const char *prefix;  /* NULL: not the start of a phone number */
} PrefixCase;

/* Each number is checked twice: the store saves what normalise() returns,
 * and a search box holding the same text must find it. */
static void
assert_valid_cases (const ValidCase *cases,
                    gsize            n_cases)
{
  for (gsize i = 0; i < n_cases; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *e164 = NULL;
      g_autofree char *prefix = NULL;

      g_test_message ("“%s” in %s", cases[i].input, cases[i].country ? cases[i].country : "-");

      e164 = kefu_phone_number_normalise (cases[i].input, cases[i].country, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (e164, ==, cases[i].e164);

      prefix = kefu_phone_number_normalise_prefix (cases[i].input, cases[i].country);
      g_assert_cmpstr (prefix, ==, cases[i].e164);
    }
}

static void
test_normalise_mainland_china (void)
{
  static const ValidCase cases[] = {
    { "010-12345678",            "CN", "+861012345678" },
    { "+86 10 1234 5678",        "CN", "+861012345678" },
    { "008610 1234 5678",        "CN", "+861012345678" },
    { "(010) 1234-5678",         "CN", "+861012345678" },
    { "+86 (0)10 1234 5678",     "CN", "+861012345678" },
    { "0086 (0)10 1234 5678",    "CN", "+861012345678" },
    { "+86 010 1234 5678",       "CN", "+861012345678" },
    { "+86.10.1234.5678",        "CN", "+861012345678" },
    { "+86/10/12345678",         "CN", "+861012345678" },
    { "tel:+86-10-1234-5678",    "CN", "+861012345678" },
    { "TEL:010-12345678",        "CN", "+861012345678" },
    { "  010 1234 5678\n",       "CN", "+861012345678" },
    { "0755-8765 4321",          "CN", "+8675587654321" },
    { "138 0013 8000",           "CN", "+8613800138000" },
    { "13800138000",             "CN", "+8613800138000" },
    /* Digits alone are read as a national number, even when they look as
     * though they start with the country code. */
    { "8610 12345678",           "CN", "+86861012345678" },
    { "010-12345678",            "cn", "+861012345678" },
  };

  assert_valid_cases (cases, G_N_ELEMENTS (cases));
}

static void
test_normalise_north_america (void)
{
  static const ValidCase cases[] = {
    { "(212) 555-0100",          "US", "+12125550100" },
    { "1-212-555-0100",          "US", "+12125550100" },
    { "212.555.0100",            "US", "+12125550100" },
    { "+1 212 555 0100",         "US", "+12125550100" },
    { "+1 (212) 555-0100",       "US", "+12125550100" },
    { "011 86 10 1234 5678",     "US", "+861012345678" },
    { "011 852 2123 4567",       "US", "+85221234567" },
    { "(416) 555-0199",          "CA", "+14165550199" },
    { "1 416 555 0199",          "CA", "+14165550199" },
    { "+1 212 555 0100",         "CN", "+12125550100" },
    { "001 212 555 0100",        "CN", "+12125550100" },
  };

  assert_valid_cases (cases, G_N_ELEMENTS (cases));
}

static void
test_normalise_elsewhere (void)
{
  static const ValidCase cases[] = {
    { "020 7946 0018",           "GB", "+442079460018" },
    { "+44 (0)20 7946 0018",     "GB", "+442079460018" },
    { "(0)20 7946 0018",         "GB", "+442079460018" },
    { "00 86 10 1234 5678",      "GB", "+861012345678" },
    { "+44 (0)20 7946 0018",     "CN", "+442079460018" },
    { "030 12345678",            "DE", "+493012345678" },
    { "+49 (0)30 1234 5678",     "DE", "+493012345678" },
    { "01 23 45 67 89",          "FR", "+33123456789" },
    { "06.12.34.56.78",          "FR", "+33612345678" },
    { "03-1234-5678",            "JP", "+81312345678" },
    { "090-1234-5678",           "JP", "+819012345678" },
    { "010 86 10 1234 5678",     "JP", "+861012345678" },
    { "(02) 9876 5432",          "AU", "+61298765432" },
    { "0412 345 678",            "AU", "+61412345678" },
    { "0011 86 10 1234 5678",    "AU", "+861012345678" },
    { "2123 4567",               "HK", "+85221234567" },
    { "+852 2123 4567",          "HK", "+85221234567" },
    { "001 86 10 1234 5678",     "HK", "+861012345678" },
    { "6123 4567",               "SG", "+6561234567" },
    { "001 86 138 0013 8000",    "SG", "+8613800138000" },
    { "(02) 2345-6789",          "TW", "+886223456789" },
    { "0912-345-678",            "TW", "+886912345678" },
    { "002 86 10 1234 5678",     "TW", "+861012345678" },
    { "02-123-4567",             "KR", "+8221234567" },
    /* Korea's mobile numbers start "010", Japan's international prefix. */
    { "010-1234-5678",           "KR", "+821012345678" },
    { "001 81 3 1234 5678",      "KR", "+81312345678" },
    { "022 1234 5678",           "IN", "+912212345678" },
    { "98765 43210",             "IN", "+919876543210" },
    /* In Italy the leading 0 belongs to the number. */
    { "06 1234 5678",            "IT", "+390612345678" },
    { "+39 06 1234 5678",        "GB", "+390612345678" },
    { "+39 (0)6 1234 5678",      "GB", "+390612345678" },
    /* A country Kefu has no dialling plan for still splits correctly. */
    { "+971 4 123 4567",         "CN", "+97141234567" },
    { "+355 (0)4 123 4567",      "CN", "+35541234567" },
    { "+7 495 123 45 67",        "CN", "+74951234567" },
  };

  assert_valid_cases (cases, G_N_ELEMENTS (cases));
}

static void
test_normalise_typed_characters (void)
{
  static const ValidCase cases[] = {
    /* Full-width digits, plus and parentheses from a CJK input method */
    { "＋８６ １３８ ００１３ ８０００",    "CN", "+8613800138000" },
    { "（０１０）１２３４－５６７８",       "CN", "+861012345678" },
    /* Ideographic, no-break and narrow no-break spaces */
    { "138\u30000013\u30008000",          "CN", "+8613800138000" },
    { "138\u00a00013\u202f8000",          "CN", "+8613800138000" },
    /* En dash, non-breaking hyphen and minus sign from word processors */
    { "010\u201312345678",                "CN", "+861012345678" },
    { "010\u20111234\u22125678",          "CN", "+861012345678" },
    /* Invisible marks copied along with a number on a web page */
    { "\u200e+86 10 1234 5678\u200f",     "CN", "+861012345678" },
    { "\ufeff010\u200b12345678",          "CN", "+861012345678" },
    /* Arabic-Indic digits */
    { "\u0660\u0661\u0660 \u0661\u0662\u0663\u0664 \u0665\u0666\u0667\u0668",
      "CN", "+861012345678" },
  };

  assert_valid_cases (cases, G_N_ELEMENTS (cases));
}

static void
test_normalise_errors (void)
{
  /* Short names keep the table readable. */
  enum {
    INVALID = KEFU_PHONE_NUMBER_ERROR_INVALID,
    TOO_SHORT = KEFU_PHONE_NUMBER_ERROR_TOO_SHORT,
    TOO_LONG = KEFU_PHONE_NUMBER_ERROR_TOO_LONG,
    UNKNOWN_COUNTRY = KEFU_PHONE_NUMBER_ERROR_UNKNOWN_COUNTRY,
  };
  static const InvalidCase cases[] = {
    { "12ab34",                     "CN",  INVALID,         "the letter “a”" },
    { "12ab34",                     "CN",  INVALID,         "“12ab34”" },
    { "Zhang Wei",                  "CN",  INVALID,         "the letter “Z”" },
    { "张伟",                       "CN",  INVALID,         "the letter “张”" },
    { "1-800-FLOWERS",              "US",  INVALID,         "the letter “F”" },
    { "010*1234 5678",              "CN",  INVALID,         "contains “*”" },
    { "010,12345678",               "CN",  INVALID,         "contains “,”" },
    { "010\a12345678",              "CN",  INVALID,         "U+0007" },
    { "86+10 1234 5678",            "CN",  INVALID,         "“+” can only come first" },
    { "++86 10 1234 5678",          "CN",  INVALID,         "“+” can only come first" },
    { "+999 1234 5678",             "CN",  INVALID,         "calling code +999" },
    { "+0 1234 5678",               "CN",  INVALID,         "calling code +0" },
    { "00 999 1234 5678",           "CN",  INVALID,         "calling code +999" },
    { "212 555 0100 x123",          "US",  INVALID,         "extension, “x123”" },
    { "212 555 0100 ext. 123",      "US",  INVALID,         "extension, “ext. 123”" },
    { "tel:+1-212-555-0100;ext=1",  "US",  INVALID,         "“;ext=1”" },
    { "010 1234 5678 #12",          "CN",  INVALID,         "“#12”" },
    { "",                           "CN",  TOO_SHORT,       "empty" },
    { "   ",                        "CN",  TOO_SHORT,       "empty" },
    { "( ) -",                      "CN",  TOO_SHORT,       "no digits" },
    { "+",                          "CN",  TOO_SHORT,       "no digits" },
    { "0",                          "CN",  TOO_SHORT,       "too short" },
    { "123",                        "CN",  TOO_SHORT,       "too short" },
    { "010",                        "CN",  TOO_SHORT,       "too short" },
    { "+86",                        "CN",  TOO_SHORT,       "+86" },
    { "0086",                       "CN",  TOO_SHORT,       "nothing follows" },
    { "+8",                         "CN",  TOO_SHORT,       "country code is not complete" },
    { "00",                         "CN",  TOO_SHORT,       "no country code" },
    { "+86 10 1234 5678 9012",      "CN",  TOO_LONG,        "16 digits" },
    { "010 1234 5678 9012 34",      "CN",  TOO_LONG,        "no phone number has more than 15" },
    { "010-12345678",               "ZZ",  UNKNOWN_COUNTRY, "“ZZ”" },
    { "010-12345678",               "CHN", UNKNOWN_COUNTRY, "“CHN”" },
    { "010-12345678",               "",    UNKNOWN_COUNTRY, "No default country" },
    { "010-12345678",               NULL,  UNKNOWN_COUNTRY, "No default country" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *e164 = NULL;

      g_test_message ("“%s” in %s", cases[i].input, cases[i].country ? cases[i].country : "-");

      e164 = kefu_phone_number_normalise (cases[i].input, cases[i].country, &error);
      g_assert_null (e164);
      g_assert_error (error, KEFU_PHONE_NUMBER_ERROR, cases[i].code);
      g_test_message ("  -> %s", error->message);
      g_assert_nonnull (strstr (error->message, cases[i].message_part));
    }
}

static void
test_normalise_odd_input (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *e164 = NULL;
  g_autofree char *many_digits = g_strnfill (100000, '5');
  g_autofree char *many_letters = g_strnfill (100000, 'a');

  e164 = kefu_phone_number_normalise ("010\xff" "12345678", "CN", &error);
  g_assert_null (e164);
  g_assert_error (error, KEFU_PHONE_NUMBER_ERROR, KEFU_PHONE_NUMBER_ERROR_INVALID);
  g_clear_error (&error);

  e164 = kefu_phone_number_normalise (many_digits, "CN", &error);
  g_assert_null (e164);
  g_assert_error (error, KEFU_PHONE_NUMBER_ERROR, KEFU_PHONE_NUMBER_ERROR_TOO_LONG);
  g_assert_nonnull (strstr (error->message, "100000 digits"));
  /* The user sees a message, not the pasted text back in full. */
  g_assert_cmpuint (strlen (error->message), <, 300);
  g_clear_error (&error);

  e164 = kefu_phone_number_normalise (many_letters, "CN", &error);
  g_assert_null (e164);
  g_assert_error (error, KEFU_PHONE_NUMBER_ERROR, KEFU_PHONE_NUMBER_ERROR_INVALID);
  g_assert_cmpuint (strlen (error->message), <, 300);
  g_clear_error (&error);
}

static void
test_country_is_known (void)
{
  static const char * const known[] = {
    "CN", "HK", "TW", "SG", "JP", "KR", "US", "CA", "GB", "DE", "FR", "AU", "IN",
    "cn", "Us",
  };
  static const char * const unknown[] = { "ZZ", "", "C", "CHN", "zh", "中国", "\xff\xfe" };

  for (gsize i = 0; i < G_N_ELEMENTS (known); i++)
    g_assert_true (kefu_phone_number_country_is_known (known[i]));
  for (gsize i = 0; i < G_N_ELEMENTS (unknown); i++)
    g_assert_false (kefu_phone_number_country_is_known (unknown[i]));
  g_assert_false (kefu_phone_number_country_is_known (NULL));
}

static void
test_prefix (void)
{
  static const PrefixCase cases[] = {
    { "010-123",                 "CN", "+8610123" },
    { "+86 138",                 "CN", "+86138" },
    { "0086 1",                  "CN", "+861" },
    { "00861",                   "CN", "+861" },
    { "138",                     "CN", "+86138" },
    { "1",                       "CN", "+861" },
    { "+",                       "CN", "+" },
    { "00",                      "CN", "+" },
    { " + ",                     "CN", "+" },
    { "0",                       "CN", "+86" },
    { "+8",                      "CN", "+8" },
    { "+85",                     "CN", "+85" },
    { "+852",                    "CN", "+852" },
    { "+852 2",                  "CN", "+8522" },
    { "+86 (0",                  "CN", "+86" },
    { "+86 (0)1",                "CN", "+861" },
    { "+86 0",                   "CN", "+86" },
    { "(010",                    "CN", "+8610" },
    { "＋８６ １３８",           "CN", "+86138" },
    { "tel:+86",                 "CN", "+86" },
    /* The extension, or the start of one, does not stop the search. */
    { "010 1234 5678 ex",        "CN", "+861012345678" },
    { "212 555 0100 x12",        "US", "+12125550100" },
    { "212 555 0100 ;ext=12",    "US", "+12125550100" },
    /* Half an international prefix, where it cannot be a national number */
    { "0",                       "US", "+" },
    { "01",                      "US", "+" },
    { "011",                     "US", "+" },
    { "0118",                    "US", "+8" },
    { "1",                       "US", "+1" },
    { "1 21",                    "US", "+121" },
    { "(212",                    "US", "+1212" },
    { "0",                       "AU", "+61" },
    { "00",                      "AU", "+" },
    { "001",                     "AU", "+" },
    { "0011 86",                 "AU", "+86" },
    { "01",                      "JP", "+811" },
    { "010",                     "JP", "+" },
    { "0",                       "IT", "+390" },
    { "06",                      "IT", "+3906" },
    /* Not the start of a phone number */
    { "Zhang",                   "CN", NULL },
    { "Zhang 138",               "CN", NULL },
    { "138 Zhang",               "CN", NULL },
    { "",                        "CN", NULL },
    { "   ",                     "CN", NULL },
    { "-",                       "CN", NULL },
    { "tel:",                    "CN", NULL },
    { "+999",                    "CN", NULL },
    { "+0",                      "CN", NULL },
    { "86+1",                    "CN", NULL },
    { "12345678901234567",       "CN", NULL },
    { "*123#",                   "CN", NULL },
    { "138",                     "ZZ", NULL },
    { "138",                     NULL, NULL },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *prefix = NULL;

      g_test_message ("“%s” in %s", cases[i].input, cases[i].country ? cases[i].country : "-");

      prefix = kefu_phone_number_normalise_prefix (cases[i].input, cases[i].country);
      g_assert_cmpstr (prefix, ==, cases[i].prefix);
    }
}

/* Whatever a search box holds, the answer is NULL or "+" and digits. */
static void
assert_prefix_is_sane (const char *input,
                       const char *country)
{
  g_autofree char *prefix = kefu_phone_number_normalise_prefix (input, country);
  g_autoptr(GError) error = NULL;
  g_autofree char *e164 = NULL;

  if (prefix != NULL)
    {
      g_assert_cmpint (prefix[0], ==, '+');
      g_assert_cmpuint (strlen (prefix), <=, 16);
      for (const char *p = prefix + 1; *p != '\0'; p++)
        g_assert_true (g_ascii_isdigit (*p));
    }

  e164 = kefu_phone_number_normalise (input, country, &error);
  if (e164 != NULL)
    {
      g_assert_no_error (error);
      g_assert_cmpint (e164[0], ==, '+');
      g_assert_cmpuint (strlen (e164), <=, 16);
      /* What the store saved, the same text typed into search finds. */
      g_assert_cmpstr (prefix, ==, e164);
    }
  else
    {
      g_assert_nonnull (error);
      g_assert_true (error->domain == KEFU_PHONE_NUMBER_ERROR);
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
    }
}

static void
test_prefix_odd_input (void)
{
  static const char * const inputs[] = {
    "\xff", "\xc3", "0\xe2\x82", "+86\xc0\x80", "(", ")", "((((0", "(0)", "(0)(0)(0)",
    "+(0)", "+()", "+ (0", "0 (0", "x", "x1", "ext", "#", ";ext=", "1x", "1 ext 2",
    "tel:tel:1", "telephone 1", "\t\n\r", "\u200b", "\u3000", "＋", "０", "+٠", "-1",
    "1-", "...", "///", "1/2/3", "+1+", "+86 (0)", "0086 (0", "0000000000000000",
    "+1 (0) 212", "999999999999999999999999999999999999999999",
  };
  static const char * const countries[] = { "CN", "US", "AU", "JP", "KR", "IT", "HK", "ZZ" };
  g_autofree char *long_digits = g_strnfill (2000, '1');
  g_autofree char *long_spaces = g_strnfill (100000, ' ');

  for (gsize i = 0; i < G_N_ELEMENTS (inputs); i++)
    for (gsize j = 0; j < G_N_ELEMENTS (countries); j++)
      assert_prefix_is_sane (inputs[i], countries[j]);

  g_assert_null (kefu_phone_number_normalise_prefix (long_digits, "CN"));
  g_assert_null (kefu_phone_number_normalise_prefix (long_spaces, "CN"));
  g_assert_null (kefu_phone_number_normalise_prefix (NULL, "CN"));
}

/* Random bytes, and random strings of the characters a number is made
 * of, must never crash, leak or trip a sanitizer. */
static void
test_random_input (void)
{
  static const char * const pieces[] = {
    "0", "1", "8", "6", "+", "(", ")", "(0)", " ", "-", ".", "/", "x", "ext", "#", ";",
    "tel:", "＋", "８", "（", "\u00a0", "\u3000", "a", "\xff",
  };
  static const char * const countries[] = { "CN", "US", "AU", "JP", "KR", "IT", "SG" };

  for (guint round = 0; round < 2000; round++)
    {
      g_autoptr(GString) text = g_string_new (NULL);
      guint n = (guint) g_test_rand_int_range (0, 24);
      const char *country = countries[g_test_rand_int_range (0, G_N_ELEMENTS (countries))];

      if (round % 2 == 0)
        for (guint k = 0; k < n; k++)
          g_string_append_c (text, (char) g_test_rand_int_range (1, 256));
      else
        for (guint k = 0; k < n; k++)
          g_string_append (text, pieces[g_test_rand_int_range (0, G_N_ELEMENTS (pieces))]);

      if (!g_utf8_validate (text->str, -1, NULL))
        {
          g_autoptr(GError) error = NULL;
          g_autofree char *e164 = kefu_phone_number_normalise (text->str, country, &error);
          g_autofree char *prefix = kefu_phone_number_normalise_prefix (text->str, country);

          g_assert_null (e164);
          g_assert_error (error, KEFU_PHONE_NUMBER_ERROR, KEFU_PHONE_NUMBER_ERROR_INVALID);
          g_assert_null (prefix);
          continue;
        }

      assert_prefix_is_sane (text->str, country);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/phone-number/normalise/mainland-china", test_normalise_mainland_china);
  g_test_add_func ("/phone-number/normalise/north-america", test_normalise_north_america);
  g_test_add_func ("/phone-number/normalise/elsewhere", test_normalise_elsewhere);
  g_test_add_func ("/phone-number/normalise/typed-characters", test_normalise_typed_characters);
  g_test_add_func ("/phone-number/normalise/errors", test_normalise_errors);
  g_test_add_func ("/phone-number/normalise/odd-input", test_normalise_odd_input);
  g_test_add_func ("/phone-number/country-is-known", test_country_is_known);
  g_test_add_func ("/phone-number/prefix", test_prefix);
  g_test_add_func ("/phone-number/prefix/odd-input", test_prefix_odd_input);
  g_test_add_func ("/phone-number/random-input", test_random_input);

  return g_test_run ();
}
