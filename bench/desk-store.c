/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The agent desktop's local store at 1,000,000 customers, for bench/desk.
 *
 *   bench-desk-store fill SERVER_DB STORE
 *     Makes STORE a KefuLocalStore (its schema made by the store itself)
 *     holding the server's customers with their phones, contacts, cases,
 *     notes, calls and faxes: the rows of SERVER_DB (a kefu-server SQLite
 *     database, same libkefu-core schema) copied in one transaction, and
 *     the change-feed cursor set to the server's last change, as if the
 *     desktop had synced the whole feed.
 *
 *   bench-desk-store search STORE QUERIES PASSES
 *     Types each line of QUERIES ("kind<TAB>text") one character at a time
 *     and times kefu_local_store_search_customers() on every prefix, as the
 *     CRM pane's search-as-you-type does (limit 50).  PASSES times over;
 *     the first pass starts with the store just opened.  Prints per kind:
 *       RESULT kind keystrokes p50_ms p95_ms max_ms worst_prefix
 *
 *   bench-desk-store pop STORE NUMBERS
 *     For each caller number, the store's share of a screen pop: the
 *     lookup by number, the customer and its timeline.  Prints
 *       RESULT pop n p50_ms p95_ms max_ms worst_number
 */
#include <glib.h>
#include <json-glib/json-glib.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kefu-local-store.h"

#define SEARCH_LIMIT 50   /* as the CRM pane asks */

static int
fill (const char *server_db,
      const char *path)
{
  static const char * const tables[] = {
    "customers", "customer_phones", "contacts", "cases", "case_notes", "calls", "faxes",
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(KefuLocalStore) store = kefu_local_store_new (path, "CN", &error);
  sqlite3 *db = NULL;
  char *message = NULL;
  gint64 start = g_get_monotonic_time ();
  char *attach = NULL;

  if (!store)
    {
      g_printerr ("cannot create the store %s: %s\n", path, error->message);
      return 1;
    }
  g_clear_object (&store);

  if (sqlite3_open (path, &db) != SQLITE_OK)
    {
      g_printerr ("cannot open %s: %s\n", path, sqlite3_errmsg (db));
      return 1;
    }
  attach = sqlite3_mprintf ("ATTACH DATABASE %Q AS srv", server_db);
  if (sqlite3_exec (db, attach, NULL, NULL, &message) != SQLITE_OK)
    goto failed;
  sqlite3_free (attach);
  attach = NULL;
  if (sqlite3_exec (db, "BEGIN", NULL, NULL, &message) != SQLITE_OK)
    goto failed;
  for (gsize i = 0; i < G_N_ELEMENTS (tables); i++)
    {
      g_autofree char *sql = g_strdup_printf ("INSERT INTO main.%s SELECT * FROM srv.%s",
                                              tables[i], tables[i]);

      if (sqlite3_exec (db, sql, NULL, NULL, &message) != SQLITE_OK)
        goto failed;
      g_print ("  %-16s %lld rows\n", tables[i], (long long) sqlite3_changes64 (db));
    }
  if (sqlite3_exec (db, "INSERT INTO desk_meta (key, value) "
                    "SELECT 'cursor', coalesce(max(seq), 0) FROM srv.changes WHERE true "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    NULL, NULL, &message) != SQLITE_OK)
    goto failed;
  if (sqlite3_exec (db, "COMMIT", NULL, NULL, &message) != SQLITE_OK)
    goto failed;
  sqlite3_exec (db, "DETACH DATABASE srv", NULL, NULL, NULL);
  /* the store runs in WAL mode: leave one self-contained file to copy */
  if (sqlite3_exec (db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, &message) != SQLITE_OK)
    goto failed;
  sqlite3_close (db);
  g_print ("  filled in %.1f s\n", (g_get_monotonic_time () - start) / 1e6);
  return 0;

failed:
  g_printerr ("filling %s from %s: %s\n", path, server_db, message ? message : sqlite3_errmsg (db));
  sqlite3_free (message);
  sqlite3_free (attach);
  sqlite3_close (db);
  return 1;
}

/* --- timing ------------------------------------------------------------------ */

typedef struct {
  GArray *ms;          /* double */
  double  worst;
  char   *worst_text;
} Times;

static Times *
times_new (void)
{
  Times *t = g_new0 (Times, 1);

  t->ms = g_array_new (FALSE, FALSE, sizeof (double));
  return t;
}

static void
times_free (gpointer data)
{
  Times *t = data;

  g_array_unref (t->ms);
  g_free (t->worst_text);
  g_free (t);
}

static void
times_add (Times      *t,
           double      ms,
           const char *text)
{
  g_array_append_val (t->ms, ms);
  if (ms > t->worst)
    {
      t->worst = ms;
      g_free (t->worst_text);
      t->worst_text = g_strdup (text);
    }
}

static int
compare_double (gconstpointer a,
                gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static double
percentile (GArray *sorted,
            double  p)
{
  guint i;

  if (sorted->len == 0)
    return 0;
  i = (guint) (p * (sorted->len - 1) + 0.5);
  return g_array_index (sorted, double, MIN (i, sorted->len - 1));
}

static void
print_times (const char *kind,
             Times      *t)
{
  g_array_sort (t->ms, compare_double);
  /* printf, not g_print: the prefixes are UTF-8 whatever the locale */
  printf ("RESULT %s %u %.3f %.3f %.3f %s\n", kind, t->ms->len,
           percentile (t->ms, 0.5), percentile (t->ms, 0.95), t->worst,
           t->worst_text ? t->worst_text : "-");
}

static char **
read_lines (const char *file)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  if (!g_file_get_contents (file, &text, NULL, &error))
    {
      g_printerr ("%s\n", error->message);
      exit (1);
    }
  g_strchomp (text);
  return g_strsplit (text, "\n", -1);
}

static KefuLocalStore *
open_store (const char *path)
{
  g_autoptr(GError) error = NULL;
  KefuLocalStore *store = kefu_local_store_new (path, "CN", &error);

  if (!store)
    {
      g_printerr ("cannot open the store %s: %s\n", path, error->message);
      exit (1);
    }
  return store;
}

static int
search (const char *path,
        const char *queries_file,
        guint       passes)
{
  g_autoptr(KefuLocalStore) store = open_store (path);
  g_auto(GStrv) lines = read_lines (queries_file);
  g_autoptr(GHashTable) by_kind = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, times_free);
  g_autoptr(GPtrArray) kinds = g_ptr_array_new_with_free_func (g_free);
  Times *all = times_new ();

  for (guint pass = 0; pass < passes; pass++)
    for (guint l = 0; lines[l]; l++)
      {
        g_auto(GStrv) parts = g_strsplit (lines[l], "\t", 2);
        Times *t;

        if (!parts[0] || !parts[1] || !parts[1][0])
          continue;
        t = g_hash_table_lookup (by_kind, parts[0]);
        if (!t)
          {
            t = times_new ();
            g_hash_table_insert (by_kind, g_strdup (parts[0]), t);
            g_ptr_array_add (kinds, g_strdup (parts[0]));
          }
        /* one keystroke, one more character */
        for (const char *end = g_utf8_next_char (parts[1]); ; end = g_utf8_next_char (end))
          {
            g_autofree char *prefix = g_strndup (parts[1], end - parts[1]);
            g_autoptr(GError) error = NULL;
            g_autoptr(JsonArray) found = NULL;
            gint64 t0 = g_get_monotonic_time ();
            double ms;

            found = kefu_local_store_search_customers (store, prefix, SEARCH_LIMIT, &error);
            ms = (g_get_monotonic_time () - t0) / 1000.0;
            if (!found)
              {
                g_printerr ("search “%s”: %s\n", prefix, error->message);
                return 1;
              }
            times_add (t, ms, prefix);
            times_add (all, ms, prefix);
            if (!*end)
              break;
          }
      }
  for (guint i = 0; i < kinds->len; i++)
    print_times (kinds->pdata[i], g_hash_table_lookup (by_kind, kinds->pdata[i]));
  print_times ("all", all);
  times_free (all);
  return 0;
}

static int
pop (const char *path,
     const char *numbers_file)
{
  g_autoptr(KefuLocalStore) store = open_store (path);
  g_auto(GStrv) numbers = read_lines (numbers_file);
  Times *t = times_new ();
  guint found_one = 0;

  for (guint i = 0; numbers[i]; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonArray) matches = NULL;
      gint64 t0 = g_get_monotonic_time ();

      matches = kefu_local_store_find_customers_by_phone (store, numbers[i], &error);
      if (matches && json_array_get_length (matches) == 1)
        {
          gint64 id = json_object_get_int_member (json_array_get_object_element (matches, 0), "id");
          g_autoptr(JsonObject) customer = kefu_local_store_get_customer (store, id, NULL);
          g_autoptr(JsonArray) timeline = kefu_local_store_get_timeline (store, id, NULL);

          found_one += customer && timeline;
        }
      times_add (t, (g_get_monotonic_time () - t0) / 1000.0, numbers[i]);
    }
  print_times ("pop", t);
  g_print ("found %u of %u numbers as one customer\n", found_one, t->ms->len);
  times_free (t);
  return 0;
}

int
main (int   argc,
      char *argv[])
{
  if (argc == 4 && g_str_equal (argv[1], "fill"))
    return fill (argv[2], argv[3]);
  if (argc == 5 && g_str_equal (argv[1], "search"))
    return search (argv[2], argv[3], (guint) MAX (1, atoi (argv[4])));
  if (argc == 4 && g_str_equal (argv[1], "pop"))
    return pop (argv[2], argv[3]);
  g_printerr ("usage: bench-desk-store fill SERVER_DB STORE\n"
              "       bench-desk-store search STORE QUERIES PASSES\n"
              "       bench-desk-store pop STORE NUMBERS\n");
  return 2;
}
