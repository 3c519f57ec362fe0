/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Time as the store and the wire carry it: milliseconds since the epoch
 * inside, ISO 8601 in UTC ("2026-11-25T09:30:00Z", ".123" when there are
 * milliseconds) on the wire.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gint64   kefu_time_now_ms        (void);
char    *kefu_time_format_ms     (gint64 ms) G_GNUC_WARN_UNUSED_RESULT;
/* Accepts full ISO 8601 date-times with an offset or Z, and plain dates
 * ("2026-11-25", midnight in tz, UTC when tz is NULL). */
gboolean kefu_time_parse_ms      (const char *text, GTimeZone *tz, gint64 *out_ms);

G_END_DECLS
