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

/* An agent's window is lists and forms, which cairo draws well: without
 * a GPU, GTK's GL renderer runs on Mesa's software rasteriser and costs
 * over 100 MB and a slower start on every desk (bench/desk).  KEFU_GL=1,
 * or any GSK_RENDERER, keeps GTK's own choice. */
static void
choose_renderer (void)
{
  if (g_getenv ("KEFU_GL") || g_getenv ("GSK_RENDERER"))
    return;
  g_setenv ("GSK_RENDERER", "cairo", FALSE);
  if (!g_getenv ("GDK_DEBUG"))
    g_setenv ("GDK_DEBUG", "gl-disable", FALSE);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(KefuApplication) application = NULL;
  /* a build tree runs with its own translations (scripts/demo) */
  const char *localedir = g_getenv ("KEFU_LOCALEDIR");

  choose_renderer ();
  apply_language_setting ();
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, localedir ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  application = kefu_application_new ();
  return g_application_run (G_APPLICATION (application), argc, argv);
}
