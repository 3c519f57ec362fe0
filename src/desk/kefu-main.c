/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * kefu: the agent desktop.  `kefu tel:+8610...` or `kefu sip:...` dials
 * (in the running instance, if there is one).
 */
#define G_LOG_DOMAIN "Kefu"

#include "config.h"

#include <locale.h>
#include <glib/gi18n.h>

#include "kefu-application.h"

/* The language chosen in Preferences wins over the session's, as agents
 * on shared machines expect; it must be set before gettext starts. */
static void
apply_language_setting (void)
{
  GSettingsSchema *schema = g_settings_schema_source_lookup (g_settings_schema_source_get_default (),
                                                             "org.kefu.Kefu", TRUE);
  g_autoptr(GSettings) settings = NULL;
  g_autofree char *language = NULL;

  if (!schema)
    return;
  g_settings_schema_unref (schema);
  settings = g_settings_new ("org.kefu.Kefu");
  language = g_settings_get_string (settings, "language");
  if (language[0])
    g_setenv ("LANGUAGE", language, TRUE);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(KefuApplication) application = NULL;
  /* a build tree runs with its own translations (scripts/demo) */
  const char *localedir = g_getenv ("KEFU_LOCALEDIR");

  apply_language_setting ();
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, localedir ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  application = kefu_application_new ();
  return g_application_run (G_APPLICATION (application), argc, argv);
}
