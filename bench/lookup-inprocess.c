/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The floor under the HTTP lookup: the same customer-by-phone lookup the
 * server does for GET /v1/customers?phone=, called in-process on the same
 * SQLite file, JSON encoding included.  Prints lookups per second for one
 * and for two threads.
 *
 *   bench-lookup-inprocess DB PHONES_FILE SECONDS
 */
#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

#include "kefu-db-sqlite.h"
#include "kefu-store.h"

typedef struct {
  KefuStore  *store;
  char      **phones;
  guint       n_phones;
  guint       offset;
  double      seconds;
  guint64     done;
} Worker;

static gpointer
run_worker (gpointer data)
{
  Worker *worker = data;
  gint64 end = g_get_monotonic_time () + (gint64) (worker->seconds * G_USEC_PER_SEC);
  guint i = worker->offset;

  while (g_get_monotonic_time () < end)
    {
      for (guint k = 0; k < 100; k++, i++)
        {
          g_autoptr(GError) error = NULL;
          g_autoptr(JsonArray) found = kefu_store_find_customers_by_phone (
            worker->store, worker->phones[i % worker->n_phones], &error);
          g_autoptr(JsonNode) node = NULL;
          g_autofree char *text = NULL;

          if (!found)
            g_error ("lookup failed: %s", error->message);
          /* The server sends JSON text; so does the floor. */
          node = json_node_init_array (json_node_alloc (), found);
          text = json_to_string (node, FALSE);
          worker->done++;
        }
    }
  return NULL;
}

static double
measure (KefuStore *store,
         char     **phones,
         guint      n_phones,
         guint      n_threads,
         double     seconds)
{
  g_autofree Worker *workers = g_new0 (Worker, n_threads);
  g_autofree GThread **threads = g_new0 (GThread *, n_threads);
  guint64 total = 0;

  for (guint t = 0; t < n_threads; t++)
    {
      workers[t] = (Worker) { store, phones, n_phones, t * 7919, seconds, 0 };
      threads[t] = g_thread_new ("lookup", run_worker, &workers[t]);
    }
  for (guint t = 0; t < n_threads; t++)
    {
      g_thread_join (threads[t]);
      total += workers[t].done;
    }
  return total / seconds;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(KefuDb) db = NULL;
  g_autoptr(KefuStore) store = NULL;
  g_autofree char *contents = NULL;
  g_auto(GStrv) phones = NULL;
  g_autoptr(GError) error = NULL;
  double seconds;

  if (argc != 4)
    {
      fprintf (stderr, "usage: %s DB PHONES_FILE SECONDS\n", argv[0]);
      return 2;
    }
  if (!g_file_get_contents (argv[2], &contents, NULL, &error))
    g_error ("%s", error->message);
  phones = g_strsplit (g_strstrip (contents), "\n", -1);
  seconds = g_ascii_strtod (argv[3], NULL);

  db = kefu_db_sqlite_new (argv[1]);
  store = kefu_store_new (db, "CN");
  if (!kefu_store_migrate (store, &error))
    g_error ("%s", error->message);

  printf ("inprocess_1_thread_per_s %.0f\n", measure (store, phones, g_strv_length (phones), 1, seconds));
  printf ("inprocess_2_threads_per_s %.0f\n", measure (store, phones, g_strv_length (phones), 2, seconds));
  return 0;
}
