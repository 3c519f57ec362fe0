/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuTestStore"

#include "config.h"

#include "kefu-test-store.h"

#include <glib/gstdio.h>

void
kefu_test_remove_dir (const char *dir)
{
  g_autoptr(GDir) listing = g_dir_open (dir, 0, NULL);
  const char *name;

  while (listing && (name = g_dir_read_name (listing)))
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      g_assert_cmpint (g_remove (path), ==, 0);
    }
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

void
kefu_test_store_open (KefuTestStore *fixture)
{
  g_autoptr(GError) error = NULL;

  fixture->db = kefu_db_sqlite_new (fixture->path);
  fixture->store = kefu_store_new (fixture->db, "CN");
  g_assert_true (kefu_store_migrate (fixture->store, &error));
  g_assert_no_error (error);
}

void
kefu_test_store_close (KefuTestStore *fixture)
{
  g_assert_finalize_object (fixture->store);
  g_assert_finalize_object (fixture->db);
  fixture->store = NULL;
  fixture->db = NULL;
}

void
kefu_test_store_set_up (KefuTestStore *fixture,
                        const char    *dir_template)
{
  g_autoptr(GError) error = NULL;

  fixture->dir = g_dir_make_tmp (dir_template, &error);
  g_assert_no_error (error);
  fixture->path = g_build_filename (fixture->dir, "kefu.db", NULL);
  kefu_test_store_open (fixture);
}

void
kefu_test_store_tear_down (KefuTestStore *fixture)
{
  kefu_test_store_close (fixture);
  kefu_test_remove_dir (fixture->dir);
  g_clear_pointer (&fixture->path, g_free);
  g_clear_pointer (&fixture->dir, g_free);
}

void
kefu_test_store_create (KefuStore            *store,
                        const KefuRecordKind *kind,
                        const char           *json)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) doc = kefu_record_decode (kind, json, -1, KEFU_RECORD_CREATE, "CN", NULL,
                                                  &error);
  KefuWrite write = KEFU_WRITE_INIT;
  KefuWriteResult result = { 0 };

  g_assert_no_error (error);
  g_assert_true (kefu_store_create (store, kind, doc, &write, &result, &error));
  g_assert_no_error (error);
  kefu_write_result_clear (&result);
}

void
kefu_test_store_publish (KefuStore *store,
                         JsonArray *events)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) stored = NULL;
  KefuWrite write = KEFU_WRITE_INIT;

  stored = kefu_store_append_events (store, events, &write, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (stored), ==, json_array_get_length (events));
}
