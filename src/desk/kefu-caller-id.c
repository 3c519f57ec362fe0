/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuCallerId"

#include "config.h"

#include "kefu-caller-id.h"

#include <string.h>

#include "kefu-phone-number.h"

char *
kefu_caller_id_from_uri (const char *uri)
{
  const char *start;
  const char *end;

  if (!uri)
    return g_strdup ("");
  start = uri;
  if (g_str_has_prefix (start, "sips:"))
    start += 5;
  else if (g_str_has_prefix (start, "sip:") || g_str_has_prefix (start, "tel:"))
    start += 4;
  /* a display form "Name <sip:...>" keeps only the URI part */
  if (strchr (start, '<'))
    return kefu_caller_id_from_uri (strchr (start, '<') + 1);
  end = start + strcspn (start, "@;?>");
  if (end == start)
    return g_strdup (uri);
  return g_uri_unescape_segment (start, end, NULL);
}

char *
kefu_caller_id_normalise (const char *uri,
                          const char *default_country)
{
  g_autofree char *number = kefu_caller_id_from_uri (uri);

  if (!number[0])
    return NULL;
  return kefu_phone_number_normalise (number, default_country ? default_country : "CN", NULL);
}

char *
kefu_caller_id_dial_uri (const char *input,
                         const char *domain)
{
  g_autofree char *text = g_strstrip (g_strdup (input ? input : ""));
  GString *number;

  if (!text[0])
    return NULL;
  if (g_str_has_prefix (text, "sip:") || g_str_has_prefix (text, "sips:"))
    return strchr (text, '@') || !domain ? g_steal_pointer (&text)
                                         : g_strdup_printf ("%s@%s", text, domain);
  if (g_str_has_prefix (text, "tel:"))
    {
      char *rest = text + 4;

      rest[strcspn (rest, ";")] = '\0';
      memmove (text, rest, strlen (rest) + 1);
    }
  /* keep what a phone can dial; people paste "(010) 1234-5678" */
  number = g_string_new (NULL);
  for (const char *p = text; *p; p++)
    if (g_ascii_isdigit (*p) || *p == '*' || *p == '#' || (*p == '+' && number->len == 0))
      g_string_append_c (number, *p);
    else if (g_ascii_isalpha (*p) && !strchr (text, '@'))
      {
        /* a SIP user name typed without "sip:" */
        g_string_free (number, TRUE);
        return domain ? g_strdup_printf ("sip:%s@%s", text, domain) : NULL;
      }
  if (number->len == 0 || (number->len == 1 && number->str[0] == '+'))
    {
      g_string_free (number, TRUE);
      return NULL;
    }
  if (strchr (text, '@'))
    {
      g_string_free (number, TRUE);
      return g_strdup_printf ("sip:%s", text);
    }
  if (!domain)
    return g_string_free (number, FALSE);
  g_string_prepend (number, "sip:");
  g_string_append_printf (number, "@%s", domain);
  return g_string_free (number, FALSE);
}

char *
kefu_caller_id_format_duration (gint64 seconds)
{
  if (seconds < 0)
    seconds = 0;
  if (seconds >= 3600)
    return g_strdup_printf ("%d:%02d:%02d", (int) (seconds / 3600), (int) (seconds / 60 % 60),
                            (int) (seconds % 60));
  return g_strdup_printf ("%d:%02d", (int) (seconds / 60), (int) (seconds % 60));
}
