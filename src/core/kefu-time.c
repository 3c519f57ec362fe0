/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuTime"

#include "kefu-time.h"

#include <string.h>
#include <stdio.h>
#include <time.h>

gint64
kefu_time_now_ms (void)
{
  return g_get_real_time () / 1000;
}

char *
kefu_time_format_ms (gint64 ms)
{
  time_t secs = (time_t) (ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  int frac = (int) (ms - (gint64) secs * 1000);
  struct tm tm;
  char buf[64];

  /* gmtime_r rather than GDateTime: this runs for every row of a report. */
  if (!gmtime_r (&secs, &tm))
    return g_strdup ("1970-01-01T00:00:00Z");
  if (frac)
    snprintf (buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
              tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
  else
    snprintf (buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
              tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return g_strdup (buf);
}

gboolean
kefu_time_parse_ms (const char *text,
                    GTimeZone  *tz,
                    gint64     *out_ms)
{
  g_autoptr(GDateTime) dt = NULL;

  if (!text || !*text)
    return FALSE;

  if (strlen (text) == 10 && text[4] == '-' && text[7] == '-')
    {
      int y, m, d;

      if (sscanf (text, "%4d-%2d-%2d", &y, &m, &d) != 3)
        return FALSE;
      if (tz)
        dt = g_date_time_new (tz, y, m, d, 0, 0, 0);
      else
        dt = g_date_time_new_utc (y, m, d, 0, 0, 0);
    }
  else
    {
      g_autoptr(GTimeZone) utc = g_time_zone_new_utc ();

      dt = g_date_time_new_from_iso8601 (text, tz ? tz : utc);
    }

  if (!dt)
    return FALSE;
  *out_ms = g_date_time_to_unix (dt) * 1000 + g_date_time_get_microsecond (dt) / 1000;
  return TRUE;
}
