/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * KefuPreferencesWindow: the settings an agent or a desk-side technician
 * changes (GSettings org.kefu.Kefu): the SIP account (its password in the
 * keyring), DTMF mode, audio devices from the sound server, the server's
 * address, language and style.
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define KEFU_TYPE_PREFERENCES_WINDOW (kefu_preferences_window_get_type ())
G_DECLARE_FINAL_TYPE (KefuPreferencesWindow, kefu_preferences_window, KEFU, PREFERENCES_WINDOW,
                      AdwPreferencesWindow)

GtkWindow *kefu_preferences_window_new (GtkWindow *parent);

/* The SIP account's password from the keyring (NULL when none is kept). */
void       kefu_preferences_window_lookup_sip_password_async  (const char          *aor,
                                                               GCancellable        *cancellable,
                                                               GAsyncReadyCallback  callback,
                                                               gpointer             user_data);
char      *kefu_preferences_window_lookup_sip_password_finish (GAsyncResult        *result,
                                                               GError             **error)
  G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
