/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Phone numbers as people type them, turned into E.164 ("+861012345678")
 * so that "010-12345678", "+86 10 1234 5678" and "008610 1234 5678" are
 * one customer.  Dialling conventions (international and trunk prefixes)
 * come from the configured default country.  Used by the store for lookups,
 * by the server's search, and by the desktop's screen pop.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define KEFU_PHONE_NUMBER_ERROR (kefu_phone_number_error_quark ())
GQuark kefu_phone_number_error_quark (void);

typedef enum {
  KEFU_PHONE_NUMBER_ERROR_INVALID,          /* letters or stray symbols */
  KEFU_PHONE_NUMBER_ERROR_TOO_SHORT,
  KEFU_PHONE_NUMBER_ERROR_TOO_LONG,
  KEFU_PHONE_NUMBER_ERROR_UNKNOWN_COUNTRY,  /* default country not known */
} KefuPhoneNumberError;

/* default_country: ISO 3166-1 alpha-2, case-insensitive ("CN", "us"). */
gboolean  kefu_phone_number_country_is_known (const char *default_country);

/* Full number -> "+<country code><national significant number>". */
char     *kefu_phone_number_normalise        (const char  *input,
                                              const char  *default_country,
                                              GError     **error) G_GNUC_WARN_UNUSED_RESULT;

/* What a search box holds ("010-123", "+86 138", "00861") -> the E.164
 * prefix it stands for ("+8610123", "+86138", "+861"), or NULL when the text
 * is not the start of a phone number (a name, say). */
char     *kefu_phone_number_normalise_prefix (const char  *input,
                                              const char  *default_country) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
