/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuServer"

#include "config.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "kefu-auth.h"
#include "kefu-customer-import.h"
#include "kefu-db-pg.h"
#include "kefu-db-sqlite.h"
#include "kefu-demo-data.h"
#include "kefu-server.h"
#include "kefu-server-config.h"
#include "kefu-store.h"
#include "kefu-time.h"

static const char usage_commands[] =
  "Commands:\n"
  "  serve                        Run the server (the default)\n"
  "  init                         Create or upgrade the database\n"
  "  user add NAME --role ROLE [--password P]\n"
  "                               Add a user (agent, supervisor, teamlead, admin, service);\n"
  "                               asks for the password when it is not given\n"
  "  import customers FILE.csv    Import customers; reports what was taken or rejected\n"
  "  demo-data [--customers N]    Fill the database with demo queues, agents, customers,\n"
  "                               calls, cases and 90 days of events";

typedef struct {
  char     *config_path;
  char     *listen;
  char     *database;
  char     *postgresql;
  char     *role;
  char     *password;
  char     *default_country;
  char     *password_cost;
  int       customers;
  int       days;
  int       calls_per_day;
  int       seed;
} Options;

static void
options_clear (Options *options)
{
  g_free (options->config_path);
  g_free (options->listen);
  g_free (options->database);
  g_free (options->postgresql);
  g_free (options->role);
  g_free (options->password);
  g_free (options->default_country);
  g_free (options->password_cost);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Options, options_clear)

static KefuStore *
open_store (KefuServerConfig  *config,
            GError           **error)
{
  g_autoptr(KefuDb) db = NULL;
  g_autoptr(KefuStore) store = NULL;

  if (g_str_equal (config->backend, "postgresql"))
    db = kefu_db_pg_new (config->pg_conninfo);
  else
    db = kefu_db_sqlite_new (config->sqlite_path);
  store = kefu_store_new (db, config->default_country);
  if (!kefu_store_migrate (store, error))
    return NULL;
  return g_steal_pointer (&store);
}

static const char *
store_description (KefuServerConfig *config)
{
  static char text[512];

  if (g_str_equal (config->backend, "postgresql"))
    g_snprintf (text, sizeof text, "PostgreSQL");
  else
    g_snprintf (text, sizeof text, "SQLite %s", config->sqlite_path);
  return text;
}

static gboolean
on_quit_signal (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_CONTINUE;
}

static int
command_serve (KefuServerConfig *config)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KefuStore) store = open_store (config, &error);
  g_autoptr(KefuServer) server = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  guint term_id, int_id;

  if (!store)
    {
      g_printerr ("kefu-server: %s\n", error->message);
      return 1;
    }
  server = kefu_server_new (config, store, &error);
  if (!server || !kefu_server_listen (server, &error))
    {
      g_printerr ("kefu-server: %s\n", error->message);
      return 1;
    }

  /* Ready for a stop before saying it listens: a SIGTERM that follows the
   * line at once (a test, systemd) still ends in a clean shutdown. */
  loop = g_main_loop_new (NULL, FALSE);
  term_id = g_unix_signal_add (SIGTERM, on_quit_signal, loop);
  int_id = g_unix_signal_add (SIGINT, on_quit_signal, loop);

  /* The first line is what scripts and tests wait for. */
  g_print ("kefu-server listening on %s (%s)\n", kefu_server_get_url (server),
           store_description (config));
  fflush (stdout);

  g_main_loop_run (loop);
  g_source_remove (term_id);
  g_source_remove (int_id);

  kefu_server_shutdown (server);
  g_print ("kefu-server stopped\n");
  return 0;
}

static int
command_init (KefuServerConfig *config)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KefuStore) store = open_store (config, &error);

  if (!store)
    {
      g_printerr ("kefu-server: %s\n", error->message);
      return 1;
    }
  g_print ("Database ready: %s, schema version %" G_GINT64_FORMAT ".\n",
           store_description (config), kefu_store_schema_version (store, NULL));
  g_print ("Next: kefu-server user add NAME --role admin\n");
  return 0;
}

static char *
ask_password (const char *prompt)
{
  struct termios old, quiet;
  gboolean tty = isatty (STDIN_FILENO);
  char line[1024];
  char *result = NULL;

  if (tty)
    {
      g_printerr ("%s", prompt);
      tcgetattr (STDIN_FILENO, &old);
      quiet = old;
      quiet.c_lflag &= ~(tcflag_t) ECHO;
      tcsetattr (STDIN_FILENO, TCSAFLUSH, &quiet);
    }
  if (fgets (line, sizeof line, stdin))
    {
      line[strcspn (line, "\r\n")] = '\0';
      result = g_strdup (line);
    }
  if (tty)
    {
      tcsetattr (STDIN_FILENO, TCSAFLUSH, &old);
      g_printerr ("\n");
    }
  return result;
}

static int
command_user_add (KefuServerConfig *config,
                  Options          *options,
                  char            **args)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KefuStore) store = NULL;
  g_autoptr(KefuAuth) auth = NULL;
  g_autoptr(JsonObject) doc = NULL;
  g_autoptr(JsonObject) raw = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *password = NULL;
  g_autofree char *hash = NULL;
  g_autofree char *field = NULL;
  KefuWrite write = KEFU_WRITE_INIT;
  KefuWriteResult result = { 0 };

  if (!args[0] || args[1])
    {
      g_printerr ("kefu-server: usage: user add NAME --role ROLE [--password P]\n");
      return 2;
    }
  if (!options->role)
    {
      g_printerr ("kefu-server: user add needs --role (agent, supervisor, teamlead, admin or "
                  "service)\n");
      return 2;
    }

  raw = json_object_new ();
  json_object_set_string_member (raw, "username", args[0]);
  json_object_set_string_member (raw, "role", options->role);
  node = json_node_init_object (json_node_alloc (), raw);
  doc = kefu_record_validate (&kefu_record_agent, node, KEFU_RECORD_CREATE,
                              config->default_country, &field, &error);
  if (!doc)
    {
      g_printerr ("kefu-server: %s\n", error->message);
      return 2;
    }

  if (options->password)
    {
      password = g_strdup (options->password);
    }
  else
    {
      g_autofree char *again = NULL;

      password = ask_password ("Password: ");
      if (isatty (STDIN_FILENO))
        {
          again = ask_password ("Password again: ");
          if (g_strcmp0 (password, again) != 0)
            {
              g_printerr ("kefu-server: the passwords differ; nothing was added\n");
              return 1;
            }
        }
    }
  if (!password)
    {
      g_printerr ("kefu-server: no password given; nothing was added\n");
      return 1;
    }

  if (!kefu_auth_init_crypto (&error))
    {
      g_printerr ("kefu-server: %s\n", error->message);
      return 1;
    }
  store = open_store (config, &error);
  if (!store)
    {
      g_printerr ("kefu-server: %s\n", error->message);
      return 1;
    }
  auth = kefu_auth_new (store, config->password_cost, config->session_hours,
                        config->login_max_failures, config->login_window_s);
  hash = kefu_auth_hash_password (auth, password, &error);
  if (!hash)
    {
      g_printerr ("kefu-server: %s; nothing was added\n", error->message);
      return 1;
    }
  write.password_hash = hash;
  write.actor = "kefu-server";
  if (!kefu_store_create (store, &kefu_record_agent, doc, &write, &result, &error))
    {
      g_printerr ("kefu-server: cannot add %s: %s\n", args[0], error->message);
      return 1;
    }
  g_print ("Added %s (%s), id %" G_GINT64_FORMAT ".\n", args[0], options->role,
           json_object_get_int_member (result.record, "id"));
  kefu_write_result_clear (&result);
  return 0;
}

static int
command_import (KefuServerConfig *config,
                char            **args)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KefuStore) store = NULL;
  KefuImportReport report = { 0 };

  if (!args[0] || !g_str_equal (args[0], "customers") || !args[1] || args[2])
    {
      g_printerr ("kefu-server: usage: import customers FILE.csv\n");
      return 2;
    }
  store = open_store (config, &error);
  if (!store)
    {
      g_printerr ("kefu-server: %s\n", error->message);
      return 1;
    }
  if (!kefu_customer_import_csv (store, args[1], &report, &error))
    {
      g_printerr ("kefu-server: %s\n", error->message);
      kefu_import_report_clear (&report);
      return 1;
    }
  for (guint i = 0; report.problems && i < report.problems->len; i++)
    g_printerr ("%s: %s\n", args[1], (char *) g_ptr_array_index (report.problems, i));
  g_print ("%u %s imported, %u %s rejected.\n", report.taken,
           report.taken == 1 ? "customer" : "customers", report.rejected,
           report.rejected == 1 ? "row" : "rows");
  kefu_import_report_clear (&report);
  return report.rejected > 0 && report.taken == 0 ? 1 : 0;
}

static int
command_demo_data (KefuServerConfig *config,
                   Options          *options)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KefuStore) store = NULL;
  g_autoptr(KefuAuth) auth = NULL;
  KefuDemoDataOptions demo = {
    .n_customers = options->customers > 0 ? (guint) options->customers : 2000,
    .days = options->days > 0 ? (guint) options->days : 90,
    .calls_per_day = options->calls_per_day > 0 ? (guint) options->calls_per_day : 400,
    .seed = options->seed > 0 ? (guint32) options->seed : 20261125,
    .sip_realm = config->sip_realm,
  };

  if (!kefu_auth_init_crypto (&error))
    {
      g_printerr ("kefu-server: %s\n", error->message);
      return 1;
    }
  store = open_store (config, &error);
  if (!store)
    {
      g_printerr ("kefu-server: %s\n", error->message);
      return 1;
    }
  auth = kefu_auth_new (store, config->password_cost, config->session_hours,
                        config->login_max_failures, config->login_window_s);
  if (!kefu_demo_data_generate (store, auth, &demo, &error))
    {
      g_printerr ("kefu-server: demo data: %s\n", error->message);
      return 1;
    }
  g_print ("Demo data ready: %u customers, %u days of calls.\n", demo.n_customers, demo.days);
  g_print ("Demo logins (username / password / role):\n");
  for (guint i = 0; kefu_demo_logins[i][0]; i++)
    g_print ("  %-10s %-14s %s\n", kefu_demo_logins[i][0], kefu_demo_logins[i][1],
             kefu_demo_logins[i][2]);
  g_print ("Demo agents' phones (SIP realm %s): agent1 1001, agent2 1002, agent3 1003, "
           "SIP password " KEFU_DEMO_SIP_PASSWORD_PREFIX "<extension>\n", config->sip_realm);
  return 0;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(KefuServerConfig) config = kefu_server_config_new ();
  g_auto(Options) options = { 0 };
  GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &options.config_path,
      "Settings file (INI)", "FILE" },
    { "listen", 'l', 0, G_OPTION_ARG_STRING, &options.listen,
      "Address to listen on (default 127.0.0.1:8080; port 0 picks a free one)", "HOST:PORT" },
    { "database", 'd', 0, G_OPTION_ARG_FILENAME, &options.database,
      "SQLite database file", "FILE" },
    { "postgresql", 0, 0, G_OPTION_ARG_STRING, &options.postgresql,
      "Use PostgreSQL with this libpq connection string", "CONNINFO" },
    { "default-country", 0, 0, G_OPTION_ARG_STRING, &options.default_country,
      "Country for numbers without a country code (CN)", "CC" },
    { "password-cost", 0, 0, G_OPTION_ARG_STRING, &options.password_cost,
      "Password hashing cost: interactive (default), moderate, minimum (tests)", "COST" },
    { "role", 0, 0, G_OPTION_ARG_STRING, &options.role, "user add: the user's role", "ROLE" },
    { "password", 0, 0, G_OPTION_ARG_STRING, &options.password,
      "user add: the password (asked for when absent)", "P" },
    { "customers", 0, 0, G_OPTION_ARG_INT, &options.customers,
      "demo-data: how many customers (2000)", "N" },
    { "days", 0, 0, G_OPTION_ARG_INT, &options.days, "demo-data: days of history (90)", "N" },
    { "calls-per-day", 0, 0, G_OPTION_ARG_INT, &options.calls_per_day,
      "demo-data: calls a day on average (400)", "N" },
    { "seed", 0, 0, G_OPTION_ARG_INT, &options.seed, "demo-data: random seed", "N" },
    { NULL }
  };
  const char *command;
  int status;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  context = g_option_context_new ("[COMMAND] — the Kefu contact-centre server");
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_description (context, usage_commands);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("kefu-server: %s (try --help)\n", error->message);
      return 2;
    }

  if (options.config_path && !kefu_server_config_load (config, options.config_path, &error))
    {
      g_printerr ("kefu-server: %s\n", error->message);
      return 2;
    }
  if (options.listen && !kefu_server_config_set_listen (config, options.listen, &error))
    {
      g_printerr ("kefu-server: %s\n", error->message);
      return 2;
    }
  if (options.database)
    {
      g_free (config->backend);
      config->backend = g_strdup ("sqlite");
      g_free (config->sqlite_path);
      config->sqlite_path = g_strdup (options.database);
    }
  if (options.postgresql)
    {
      g_free (config->backend);
      config->backend = g_strdup ("postgresql");
      g_free (config->pg_conninfo);
      config->pg_conninfo = g_strdup (options.postgresql);
    }
  if (options.default_country)
    {
      g_free (config->default_country);
      config->default_country = g_ascii_strup (options.default_country, -1);
    }
  if (options.password_cost &&
      !kefu_password_cost_from_string (options.password_cost, &config->password_cost))
    {
      g_printerr ("kefu-server: --password-cost must be interactive, moderate or minimum\n");
      return 2;
    }

  if (!kefu_auth_init_crypto (&error))
    {
      g_printerr ("kefu-server: %s\n", error->message);
      return 1;
    }

  command = argc > 1 ? argv[1] : "serve";
  if (g_str_equal (command, "serve") && argc <= 2)
    status = command_serve (config);
  else if (g_str_equal (command, "init") && argc == 2)
    status = command_init (config);
  else if (g_str_equal (command, "user") && argc > 2 && g_str_equal (argv[2], "add"))
    status = command_user_add (config, &options, argv + 3);
  else if (g_str_equal (command, "import"))
    status = command_import (config, argv + 2);
  else if (g_str_equal (command, "demo-data") && argc == 2)
    status = command_demo_data (config, &options);
  else
    {
      g_printerr ("kefu-server: unknown command “%s”\n\n%s\n", command, usage_commands);
      status = 2;
    }

  return status;
}
