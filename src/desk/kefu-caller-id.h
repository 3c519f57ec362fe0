/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * What an agent is shown of the other party of a call: the number (or
 * user) out of a SIP or tel URI, and the caller's number in E.164 for the
 * screen pop.  Used by the call list, the notification and the CRM pane.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* "sip:+8613800001111@pbx;user=phone" -> "+8613800001111";
 * "tel:+86-10-1234" -> "+86-10-1234"; anything else: a copy. */
char *kefu_caller_id_from_uri   (const char *uri) G_GNUC_WARN_UNUSED_RESULT;

/* The E.164 form of the URI's number for @default_country, or NULL when
 * it is not a phone number (a SIP user name such as "alice"). */
char *kefu_caller_id_normalise  (const char *uri,
                                 const char *default_country) G_GNUC_WARN_UNUSED_RESULT;

/* What the agent typed or clicked ("010 1234 5678", "tel:+86...",
 * "sip:bob@host") -> a SIP URI to dial, using @domain ("host[:port]") for
 * bare numbers; NULL when nothing dialable is left. */
char *kefu_caller_id_dial_uri   (const char *input,
                                 const char *domain) G_GNUC_WARN_UNUSED_RESULT;

/* "1:05", "12:00", "1:02:03" */
char *kefu_caller_id_format_duration (gint64 seconds) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
