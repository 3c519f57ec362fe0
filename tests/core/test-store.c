/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "TestStore"

#include "config.h"

#include "kefu-test-store.h"
#include "kefu-time.h"

#include <glib.h>
#include <sqlite3.h>
#include <string.h>

/*
 * KefuStore on a real SQLite file in a temporary folder, as kefu-server
 * and the desktop's cache use it.  Where a test looks behind the store
 * (schema version, query plans) it opens the same file with plain sqlite3.
 */

typedef KefuTestStore Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  kefu_test_store_set_up (f, "kefu-store-XXXXXX");
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  kefu_test_store_tear_down (f);
}

/* --- helpers ------------------------------------------------------------------- */

static sqlite3 *
open_raw (const char *path)
{
  sqlite3 *handle = NULL;

  g_assert_cmpint (sqlite3_open_v2 (path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                    NULL), ==, SQLITE_OK);
  sqlite3_busy_timeout (handle, 10000);
  return handle;
}

static gint64
raw_int (sqlite3    *handle,
         const char *sql)
{
  sqlite3_stmt *stmt = NULL;
  gint64 value;

  g_assert_cmpint (sqlite3_prepare_v2 (handle, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  value = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return value;
}

static void
raw_exec (sqlite3    *handle,
          const char *sql)
{
  char *message = NULL;

  if (sqlite3_exec (handle, sql, NULL, NULL, &message) != SQLITE_OK)
    g_error ("%s: %s", sql, message);
}

/* The plan's lines, one per step, as EXPLAIN QUERY PLAN gives them. */
static char *
query_plan (sqlite3    *handle,
            const char *sql)
{
  g_autofree char *explain = g_strconcat ("EXPLAIN QUERY PLAN ", sql, NULL);
  GString *plan = g_string_new (NULL);
  sqlite3_stmt *stmt = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (handle, explain, -1, &stmt, NULL), ==, SQLITE_OK);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_string_append_printf (plan, "%s\n", (const char *) sqlite3_column_text (stmt, 3));
  sqlite3_finalize (stmt);
  return g_string_free (plan, FALSE);
}

static JsonObject *
decode (const KefuRecordKind *kind,
        KefuRecordMode        mode,
        const char           *json)
{
  g_autoptr(GError) error = NULL;
  JsonObject *doc = kefu_record_decode (kind, json, -1, mode, "CN", NULL, &error);

  g_assert_no_error (error);
  return doc;
}

static JsonObject *
create (Fixture              *f,
        const KefuRecordKind *kind,
        const char           *json,
        const char           *op_id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) doc = decode (kind, KEFU_RECORD_CREATE, json);
  KefuWrite write = KEFU_WRITE_INIT;
  KefuWriteResult result = { 0 };

  write.op_id = op_id;
  write.status = 201;
  g_assert_true (kefu_store_create (f->store, kind, doc, &write, &result, &error));
  g_assert_no_error (error);
  g_assert_nonnull (result.record);
  return g_steal_pointer (&result.record);
}

static char *
id_of (JsonObject *record)
{
  return g_strdup_printf ("%" G_GINT64_FORMAT, json_object_get_int_member (record, "id"));
}

static gint64
version_of (JsonObject *record)
{
  return json_object_get_int_member (record, "version");
}

/* The names of customers in a result, "; "-joined, in its order. */
static char *
names_of (JsonArray *customers)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new ();

  g_assert_nonnull (customers);
  for (guint i = 0; i < json_array_get_length (customers); i++)
    g_ptr_array_add (names, (gpointer) kefu_json_get_string (
      json_array_get_object_element (customers, i), "name"));
  g_ptr_array_add (names, NULL);
  return g_strjoinv ("; ", (char **) names->pdata);
}

static char *
search (Fixture    *f,
        const char *query,
        guint       offset,
        guint       limit)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) found = kefu_store_search_customers (f->store, query, offset, limit, &error);

  g_assert_no_error (error);
  return names_of (found);
}

static char *
by_phone (Fixture    *f,
          const char *phone)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) found = kefu_store_find_customers_by_phone (f->store, phone, &error);

  g_assert_no_error (error);
  return names_of (found);
}

#define assert_search(f, query, offset, limit, expected) G_STMT_START { \
    g_autofree char *found_ = search ((f), (query), (offset), (limit)); \
    g_assert_cmpstr (found_, ==, (expected)); \
  } G_STMT_END

#define assert_by_phone(f, phone, expected) G_STMT_START { \
    g_autofree char *found_ = by_phone ((f), (phone)); \
    g_assert_cmpstr (found_, ==, (expected)); \
  } G_STMT_END

static gint64
count (Fixture              *f,
       const KefuRecordKind *kind)
{
  g_autoptr(GError) error = NULL;
  gint64 n = kefu_store_count (f->store, kind, &error);

  g_assert_no_error (error);
  return n;
}

/* Validates each event as the server does, then appends them. */
static JsonArray *
append_events (Fixture    *f,
               const char *json_list,
               const char *op_id,
               gboolean   *out_replayed,
               GError    **error)
{
  g_autoptr(JsonNode) root = json_from_string (json_list, NULL);
  g_autoptr(JsonArray) events = json_array_new ();
  KefuWrite write = KEFU_WRITE_INIT;
  JsonArray *input;

  g_assert_nonnull (root);
  input = json_node_get_array (root);
  for (guint i = 0; i < json_array_get_length (input); i++)
    {
      g_autoptr(GError) local_error = NULL;
      JsonObject *event = kefu_record_validate (&kefu_record_event,
                                                json_array_get_element (input, i),
                                                KEFU_RECORD_CREATE, NULL, NULL, &local_error);

      g_assert_no_error (local_error);
      json_array_add_object_element (events, event);
    }
  write.op_id = op_id;
  write.status = 201;
  return kefu_store_append_events (f->store, events, &write, out_replayed, error);
}

static void
append_ok (Fixture    *f,
           const char *json_list)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) stored = append_events (f, json_list, NULL, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (stored);
}

static gint64
ms (const char *iso)
{
  gint64 value = 0;

  g_assert_true (kefu_time_parse_ms (iso, NULL, &value));
  return value;
}

/* --- migrations -------------------------------------------------------------------- */

static void
test_store_migrate (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) customer = create (f, &kefu_record_customer, "{\"name\": \"Li Na\"}", NULL);
  g_autofree char *id = id_of (customer);
  g_autoptr(JsonObject) again = NULL;
  sqlite3 *raw = open_raw (f->path);
  gint64 tables = raw_int (raw, "SELECT count(*) FROM sqlite_master WHERE type = 'table'");

  g_assert_cmpint (raw_int (raw, "PRAGMA user_version"), ==, KEFU_STORE_SCHEMA_VERSION);
  g_assert_cmpint (kefu_store_schema_version (f->store, &error), ==, KEFU_STORE_SCHEMA_VERSION);
  g_assert_no_error (error);

  /* Running it again, as every start of the server does, changes nothing. */
  g_assert_true (kefu_store_migrate (f->store, &error));
  g_assert_no_error (error);
  {
    g_autoptr(KefuDb) db = kefu_db_sqlite_new (f->path);
    g_autoptr(KefuStore) store = kefu_store_new (db, "CN");

    g_assert_true (kefu_store_migrate (store, &error));
    g_assert_no_error (error);
    again = kefu_store_get (store, &kefu_record_customer, id, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (kefu_json_get_string (again, "name"), ==, "Li Na");
  }
  g_assert_cmpint (raw_int (raw, "PRAGMA user_version"), ==, KEFU_STORE_SCHEMA_VERSION);
  g_assert_cmpint (raw_int (raw, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"), ==,
                   tables);
  g_assert_cmpint (raw_int (raw, "SELECT count(*) FROM customers"), ==, 1);
  sqlite3_close (raw);
}

static void
test_store_refuses_newer_schema (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("kefu-store-XXXXXX", &error);
  g_autofree char *empty_path = g_build_filename (dir, "newer.db", NULL);
  g_autofree char *used_path = g_build_filename (dir, "used.db", NULL);
  g_autofree char *bump = g_strdup_printf ("PRAGMA user_version = %d",
                                           KEFU_STORE_SCHEMA_VERSION + 1);
  g_autofree char *newer = g_strdup_printf ("%d", KEFU_STORE_SCHEMA_VERSION + 1);
  sqlite3 *raw;

  g_assert_no_error (error);

  /* A file a newer Kefu made: nothing of ours may be written into it. */
  raw = open_raw (empty_path);
  raw_exec (raw, bump);
  sqlite3_close (raw);
  {
    g_autoptr(KefuDb) db = kefu_db_sqlite_new (empty_path);
    g_autoptr(KefuStore) store = kefu_store_new (db, "CN");

    g_assert_false (kefu_store_migrate (store, &error));
    g_assert_error (error, KEFU_STORE_ERROR, KEFU_STORE_ERROR_SCHEMA);
    g_assert_nonnull (strstr (error->message, newer));
    g_clear_error (&error);
  }
  raw = open_raw (empty_path);
  g_assert_cmpint (raw_int (raw, "SELECT count(*) FROM sqlite_master"), ==, 0);
  g_assert_cmpint (raw_int (raw, "PRAGMA user_version"), ==, KEFU_STORE_SCHEMA_VERSION + 1);
  sqlite3_close (raw);

  /* A database of ours that a newer Kefu has since upgraded. */
  {
    g_autoptr(KefuDb) db = kefu_db_sqlite_new (used_path);
    g_autoptr(KefuStore) store = kefu_store_new (db, "CN");

    g_assert_true (kefu_store_migrate (store, &error));
    g_assert_no_error (error);
  }
  raw = open_raw (used_path);
  raw_exec (raw, bump);
  sqlite3_close (raw);
  {
    g_autoptr(KefuDb) db = kefu_db_sqlite_new (used_path);
    g_autoptr(KefuStore) store = kefu_store_new (db, "CN");

    g_assert_false (kefu_store_migrate (store, &error));
    g_assert_error (error, KEFU_STORE_ERROR, KEFU_STORE_ERROR_SCHEMA);
    g_clear_error (&error);
    g_assert_cmpint (kefu_store_schema_version (store, &error), ==, KEFU_STORE_SCHEMA_VERSION + 1);
    g_assert_no_error (error);
  }

  kefu_test_remove_dir (dir);
}

/* --- records ------------------------------------------------------------------------ */

static void
test_store_crud_versions (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) created = create (f, &kefu_record_customer,
                                          "{\"name\": \"Zhang Wei\", \"company\": \"ACME\","
                                          " \"tier\": \"gold\", \"phones\": [\"010-12345678\"]}",
                                          NULL);
  g_autofree char *id = id_of (created);
  g_autoptr(JsonObject) fetched = NULL;
  g_autoptr(JsonObject) patch = NULL;
  g_autoptr(JsonObject) whole = NULL;
  g_autoptr(JsonObject) gone = NULL;
  KefuWrite write = KEFU_WRITE_INIT;
  KefuWriteResult result = { 0 };
  gint64 created_ms = 0;

  g_assert_cmpint (json_object_get_int_member (created, "id"), >, 0);
  g_assert_cmpint (version_of (created), ==, 1);
  g_assert_true (kefu_time_parse_ms (kefu_json_get_string (created, "created_at"), NULL,
                                     &created_ms));
  g_assert_cmpint (ABS (created_ms - kefu_time_now_ms ()), <, 60000);
  g_assert_cmpstr (kefu_json_get_string (created, "created_at"), ==,
                   kefu_json_get_string (created, "updated_at"));

  fetched = kefu_store_get (f->store, &kefu_record_customer, id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (kefu_json_get_string (fetched, "name"), ==, "Zhang Wei");
  g_assert_cmpstr (kefu_json_get_string (fetched, "tier"), ==, "gold");
  g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member (fetched, "phones"),
                                                  0), ==, "+861012345678");
  g_assert_cmpint (version_of (fetched), ==, 1);

  /* A patch based on version 1 changes what it names and keeps the rest. */
  patch = decode (&kefu_record_customer, KEFU_RECORD_UPDATE, "{\"tier\": \"vip\", \"company\": "
                                                             "null}");
  write.base_version = 1;
  g_assert_true (kefu_store_update (f->store, &kefu_record_customer, id, patch, FALSE, &write,
                                    &result, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (result.replayed);
  g_assert_cmpint (version_of (result.record), ==, 2);
  g_assert_cmpstr (kefu_json_get_string (result.record, "tier"), ==, "vip");
  g_assert_cmpstr (kefu_json_get_string (result.record, "name"), ==, "Zhang Wei");
  g_assert_false (json_object_has_member (result.record, "company"));
  g_assert_cmpint (json_object_get_int_member (result.record, "id"), ==,
                   json_object_get_int_member (created, "id"));
  g_assert_cmpstr (kefu_json_get_string (result.record, "created_at"), ==,
                   kefu_json_get_string (created, "created_at"));
  kefu_write_result_clear (&result);

  /* A replacement is the whole record: what it leaves out is gone. */
  whole = decode (&kefu_record_customer, KEFU_RECORD_CREATE, "{\"name\": \"Zhang Wei (ret.)\"}");
  write.base_version = 2;
  g_assert_true (kefu_store_update (f->store, &kefu_record_customer, id, whole, TRUE, &write,
                                    &result, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (version_of (result.record), ==, 3);
  g_assert_false (json_object_has_member (result.record, "tier"));
  g_assert_false (json_object_has_member (result.record, "phones"));
  g_assert_cmpstr (kefu_json_get_string (result.record, "name"), ==, "Zhang Wei (ret.)");
  kefu_write_result_clear (&result);

  /* Without a base version the client takes the last write. */
  write.base_version = -1;
  g_clear_pointer (&patch, json_object_unref);
  patch = decode (&kefu_record_customer, KEFU_RECORD_UPDATE, "{\"owner\": \"agent\"}");
  g_assert_true (kefu_store_update (f->store, &kefu_record_customer, id, patch, FALSE, &write,
                                    &result, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (version_of (result.record), ==, 4);
  kefu_write_result_clear (&result);

  write.base_version = 4;
  g_assert_true (kefu_store_delete (f->store, &kefu_record_customer, id, &write, &result, NULL,
                                    &error));
  g_assert_no_error (error);
  kefu_write_result_clear (&result);

  gone = kefu_store_get (f->store, &kefu_record_customer, id, &error);
  g_assert_null (gone);
  g_assert_error (error, KEFU_STORE_ERROR, KEFU_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  write.base_version = -1;
  g_assert_false (kefu_store_delete (f->store, &kefu_record_customer, id, &write, &result, NULL,
                                     &error));
  g_assert_error (error, KEFU_STORE_ERROR, KEFU_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (kefu_store_update (f->store, &kefu_record_customer, id, patch, FALSE, &write,
                                     &result, NULL, &error));
  g_assert_error (error, KEFU_STORE_ERROR, KEFU_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_cmpint (count (f, &kefu_record_customer), ==, 0);

  /* ids that cannot exist */
  for (guint i = 0; i < 4; i++)
    {
      static const char * const bad_ids[] = { "999", "abc", "0", "-1" };

      g_assert_null (kefu_store_get (f->store, &kefu_record_customer, bad_ids[i], &error));
      g_assert_error (error, KEFU_STORE_ERROR, KEFU_STORE_ERROR_NOT_FOUND);
      g_clear_error (&error);
    }
}

/* The server's own fields come from the store, whatever the document says. */
static void
test_store_server_fields_not_forged (Fixture       *f,
                                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) doc = json_object_new ();
  KefuWrite write = KEFU_WRITE_INIT;
  KefuWriteResult result = { 0 };

  json_object_set_string_member (doc, "name", "Li Na");
  json_object_set_int_member (doc, "id", 4242);
  json_object_set_int_member (doc, "version", 42);
  json_object_set_string_member (doc, "created_at", "2001-01-01T00:00:00Z");
  g_assert_true (kefu_store_create (f->store, &kefu_record_customer, doc, &write, &result, &error));
  g_assert_no_error (error);
  g_assert_cmpint (json_object_get_int_member (result.record, "id"), !=, 4242);
  g_assert_cmpint (version_of (result.record), ==, 1);
  g_assert_cmpstr (kefu_json_get_string (result.record, "created_at"), !=, "2001-01-01T00:00:00Z");
  kefu_write_result_clear (&result);
}

static void
test_store_op_id_replay (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) first = create (f, &kefu_record_customer, "{\"name\": \"Li Na\"}",
                                        "op-create");
  g_autoptr(JsonObject) other = decode (&kefu_record_customer, KEFU_RECORD_CREATE,
                                        "{\"name\": \"Somebody else\"}");
  g_autoptr(JsonObject) patch = decode (&kefu_record_customer, KEFU_RECORD_UPDATE,
                                        "{\"tier\": \"vip\"}");
  g_autoptr(JsonObject) current = NULL;
  g_autofree char *id = id_of (first);
  KefuWrite write = KEFU_WRITE_INIT;
  KefuWriteResult result = { 0 };
  gint64 cursor = 0;
  g_autoptr(JsonArray) changes = NULL;

  /* The retry of a create the client never heard back from. */
  write.op_id = "op-create";
  write.status = 201;
  g_assert_true (kefu_store_create (f->store, &kefu_record_customer, other, &write, &result,
                                    &error));
  g_assert_no_error (error);
  g_assert_true (result.replayed);
  g_assert_cmpint (result.status, ==, 201);
  g_assert_cmpint (json_object_get_int_member (result.record, "id"), ==,
                   json_object_get_int_member (first, "id"));
  g_assert_cmpstr (kefu_json_get_string (result.record, "name"), ==, "Li Na");
  kefu_write_result_clear (&result);
  g_assert_cmpint (count (f, &kefu_record_customer), ==, 1);

  /* An update retried: one version step, not two. */
  write.op_id = "op-update";
  write.status = 200;
  write.base_version = 1;
  for (guint attempt = 0; attempt < 2; attempt++)
    {
      g_assert_true (kefu_store_update (f->store, &kefu_record_customer, id, patch, FALSE, &write,
                                        &result, NULL, &error));
      g_assert_no_error (error);
      g_assert_cmpint (result.replayed, ==, attempt == 1);
      g_assert_cmpint (version_of (result.record), ==, 2);
      kefu_write_result_clear (&result);
    }
  current = kefu_store_get (f->store, &kefu_record_customer, id, &error);
  g_assert_no_error (error);
  g_assert_cmpint (version_of (current), ==, 2);

  /* A delete retried after it went through is not "not found". */
  write.op_id = "op-delete";
  write.base_version = 2;
  write.status = 204;
  for (guint attempt = 0; attempt < 2; attempt++)
    {
      g_assert_true (kefu_store_delete (f->store, &kefu_record_customer, id, &write, &result, NULL,
                                        &error));
      g_assert_no_error (error);
      g_assert_cmpint (result.replayed, ==, attempt == 1);
      g_assert_cmpint (result.status, ==, 204);
      kefu_write_result_clear (&result);
    }

  /* Replays leave no trace in the feed: create, update, delete. */
  changes = kefu_store_changes (f->store, 0, 100, &cursor, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (changes), ==, 3);
}

static void
test_store_conflict (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) created = create (f, &kefu_record_customer,
                                          "{\"name\": \"Li Na\", \"tier\": \"new\"}", NULL);
  g_autofree char *id = id_of (created);
  g_autoptr(JsonObject) theirs = decode (&kefu_record_customer, KEFU_RECORD_UPDATE,
                                         "{\"tier\": \"gold\"}");
  g_autoptr(JsonObject) mine = decode (&kefu_record_customer, KEFU_RECORD_UPDATE,
                                       "{\"tier\": \"vip\"}");
  g_autoptr(JsonObject) current = NULL;
  g_autoptr(JsonObject) stored = NULL;
  KefuWrite write = KEFU_WRITE_INIT;
  KefuWriteResult result = { 0 };

  /* Two desktops start from version 1; the first to arrive wins. */
  write.base_version = 1;
  g_assert_true (kefu_store_update (f->store, &kefu_record_customer, id, theirs, FALSE, &write,
                                    &result, NULL, &error));
  g_assert_no_error (error);
  kefu_write_result_clear (&result);

  g_assert_false (kefu_store_update (f->store, &kefu_record_customer, id, mine, FALSE, &write,
                                     &result, &current, &error));
  g_assert_error (error, KEFU_STORE_ERROR, KEFU_STORE_ERROR_CONFLICT);
  g_assert_null (result.record);
  /* the loser gets the server's copy to show beside their own */
  g_assert_nonnull (current);
  g_assert_cmpint (version_of (current), ==, 2);
  g_assert_cmpstr (kefu_json_get_string (current, "tier"), ==, "gold");
  g_clear_error (&error);
  g_clear_pointer (&current, json_object_unref);

  g_assert_false (kefu_store_delete (f->store, &kefu_record_customer, id, &write, &result,
                                     &current, &error));
  g_assert_error (error, KEFU_STORE_ERROR, KEFU_STORE_ERROR_CONFLICT);
  g_assert_cmpint (version_of (current), ==, 2);
  g_clear_error (&error);

  stored = kefu_store_get (f->store, &kefu_record_customer, id, &error);
  g_assert_cmpstr (kefu_json_get_string (stored, "tier"), ==, "gold");
  g_assert_cmpint (version_of (stored), ==, 2);
}

static void
test_store_change_feed (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) a = create (f, &kefu_record_customer, "{\"name\": \"A\"}", NULL);
  g_autoptr(JsonObject) b = create (f, &kefu_record_customer, "{\"name\": \"B\"}", NULL);
  g_autoptr(JsonObject) queue = create (f, &kefu_record_queue, "{\"name\": \"billing\"}", NULL);
  g_autoptr(JsonObject) patch = decode (&kefu_record_customer, KEFU_RECORD_UPDATE,
                                        "{\"name\": \"A2\"}");
  g_autofree char *a_id = id_of (a);
  g_autofree char *b_id = id_of (b);
  g_autofree char *q_id = id_of (queue);
  g_autoptr(JsonArray) all = NULL;
  g_autoptr(JsonArray) page = NULL;
  g_autoptr(JsonArray) rest = NULL;
  g_autoptr(JsonArray) none = NULL;
  KefuWrite write = KEFU_WRITE_INIT;
  KefuWriteResult result = { 0 };
  gint64 cursor = -1;
  static const struct {
    const char *entity;
    const char *op;
    gint64      version;
  } expected[] = {
    { "customer", "create", 1 },
    { "customer", "create", 1 },
    { "queue", "create", 1 },
    { "customer", "update", 2 },
    /* a delete names the version of the tombstone it left */
    { "customer", "delete", 2 },
  };
  const char *expected_ids[5];

  g_assert_true (kefu_store_update (f->store, &kefu_record_customer, a_id, patch, FALSE, &write,
                                    &result, NULL, &error));
  g_assert_no_error (error);
  kefu_write_result_clear (&result);
  g_assert_true (kefu_store_delete (f->store, &kefu_record_customer, b_id, &write, &result, NULL,
                                    &error));
  g_assert_no_error (error);
  kefu_write_result_clear (&result);

  expected_ids[0] = a_id;
  expected_ids[1] = b_id;
  expected_ids[2] = q_id;
  expected_ids[3] = a_id;
  expected_ids[4] = b_id;

  all = kefu_store_changes (f->store, 0, 100, &cursor, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (all), ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      JsonObject *change = json_array_get_object_element (all, i);
      JsonNode *version = json_object_get_member (change, "version");

      g_assert_cmpstr (kefu_json_get_string (change, "entity"), ==, expected[i].entity);
      g_assert_cmpstr (kefu_json_get_string (change, "op"), ==, expected[i].op);
      g_assert_cmpstr (kefu_json_get_string (change, "id"), ==, expected_ids[i]);
      g_assert_cmpint (json_node_get_int (version), ==, expected[i].version);
      /* a delete carries no record; the others carry the record as it became */
      if (g_str_equal (expected[i].op, "delete"))
        g_assert_true (JSON_NODE_HOLDS_NULL (json_object_get_member (change, "record")));
      else
        g_assert_cmpint (kefu_json_get_int (json_object_get_object_member (change, "record"),
                                            "version", -1), ==, expected[i].version);
      if (i > 0)
        g_assert_cmpint (json_object_get_int_member (change, "seq"), >,
                         json_object_get_int_member (json_array_get_object_element (all, i - 1),
                                                     "seq"));
    }
  g_assert_cmpstr (kefu_json_get_string (json_object_get_object_member (
                     json_array_get_object_element (all, 3), "record"), "name"), ==, "A2");
  g_assert_cmpint (cursor, ==, json_object_get_int_member (json_array_get_object_element (all, 4),
                                                           "seq"));

  /* Paging: two at a time, resuming at the cursor, nothing skipped. */
  page = kefu_store_changes (f->store, 0, 2, &cursor, &error);
  g_assert_cmpuint (json_array_get_length (page), ==, 2);
  g_assert_cmpint (cursor, ==, json_object_get_int_member (json_array_get_object_element (all, 1),
                                                           "seq"));
  rest = kefu_store_changes (f->store, cursor, 100, &cursor, &error);
  g_assert_cmpuint (json_array_get_length (rest), ==, 3);
  g_assert_cmpstr (kefu_json_get_string (json_array_get_object_element (rest, 0), "entity"), ==,
                   "queue");
  none = kefu_store_changes (f->store, cursor, 100, &cursor, &error);
  g_assert_cmpuint (json_array_get_length (none), ==, 0);
  /* an empty page keeps the cursor where it was */
  g_assert_cmpint (cursor, ==, json_object_get_int_member (json_array_get_object_element (all, 4),
                                                           "seq"));
}

/* --- customers by phone and name ------------------------------------------------------ */

static void
test_store_phone_lookup (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) zhang = create (f, &kefu_record_customer,
                                        "{\"name\": \"Zhang Wei\", \"phones\": [\"010-12345678\","
                                        " \"010-12345678\"]}", NULL);
  g_autoptr(JsonObject) li = create (f, &kefu_record_customer,
                                     "{\"name\": \"Li Na\", \"phones\": [\"138 0013 8000\","
                                     " \"+86 10 1234 5678\"]}", NULL);
  g_autoptr(JsonObject) wang = create (f, &kefu_record_customer,
                                       "{\"name\": \"Wang Fang\", \"phones\": [\"0755-8765 "
                                       "4321\"]}",
                                       NULL);
  g_autoptr(JsonObject) patch = decode (&kefu_record_customer, KEFU_RECORD_UPDATE,
                                        "{\"phones\": [\"13900139000\"]}");
  g_autofree char *li_id = id_of (li);
  g_autofree char *wang_id = id_of (wang);
  g_autoptr(JsonArray) refused = NULL;
  KefuWrite write = KEFU_WRITE_INIT;
  KefuWriteResult result = { 0 };

  /* one number, the three ways callers and agents write it */
  assert_by_phone (f, "010-12345678", "Li Na; Zhang Wei");
  assert_by_phone (f, "+86 10 1234 5678", "Li Na; Zhang Wei");
  assert_by_phone (f, "008610 1234 5678", "Li Na; Zhang Wei");
  assert_by_phone (f, "+861012345678", "Li Na; Zhang Wei");
  assert_by_phone (f, "13800138000", "Li Na");
  assert_by_phone (f, "+86 755 8765 4321", "Wang Fang");
  assert_by_phone (f, "010-12345679", "");

  refused = kefu_store_find_customers_by_phone (f->store, "Zhang Wei", &error);
  g_assert_null (refused);
  g_assert_nonnull (error);
  g_clear_error (&error);

  /* the start of a number, as typed in the search box */
  assert_search (f, "010-1234", 0, 50, "Li Na; Zhang Wei");
  assert_search (f, "+86 138", 0, 50, "Li Na");
  assert_search (f, "0755", 0, 50, "Wang Fang");

  /* a changed card is found by its new number only */
  g_assert_true (kefu_store_update (f->store, &kefu_record_customer, li_id, patch, FALSE, &write,
                                    &result, NULL, &error));
  g_assert_no_error (error);
  kefu_write_result_clear (&result);
  assert_by_phone (f, "13800138000", "");
  assert_by_phone (f, "010-12345678", "Zhang Wei");
  assert_by_phone (f, "139 0013 9000", "Li Na");

  /* a deleted one is not found at all */
  g_assert_true (kefu_store_delete (f->store, &kefu_record_customer, wang_id, &write, &result, NULL,
                                    &error));
  g_assert_no_error (error);
  assert_by_phone (f, "0755-8765 4321", "");
  assert_search (f, "0755", 0, 50, "");
}

static void
test_store_name_search (Fixture       *f,
                        gconstpointer  data)
{
  static const char * const names[] = {
    "Zhang Wei", "zhang san", "Zhao Li", "张伟", "张三丰", "Émile Zola", "Zhang_Underscore",
    "Deleted Zhang",
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) deleted = NULL;
  KefuWrite write = KEFU_WRITE_INIT;
  KefuWriteResult result = { 0 };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *json = g_strdup_printf ("{\"name\": \"%s\"}", names[i]);
      g_autoptr(JsonObject) customer = create (f, &kefu_record_customer, json, NULL);

      if (g_str_equal (names[i], "Deleted Zhang"))
        deleted = json_object_ref (customer);
    }
  {
    g_autofree char *id = id_of (deleted);

    g_assert_true (kefu_store_delete (f->store, &kefu_record_customer, id, &write, &result, NULL,
                                      &error));
    g_assert_no_error (error);
  }

  /* case does not matter; order is by name */
  assert_search (f, "zhang", 0, 50, "zhang san; Zhang Wei; Zhang_Underscore");
  assert_search (f, "ZHANG W", 0, 50, "Zhang Wei");
  assert_search (f, "  Zhang Wei  ", 0, 50, "Zhang Wei");
  assert_search (f, "张", 0, 50, "张三丰; 张伟");
  assert_search (f, "张三", 0, 50, "张三丰");
  /* accents are kept, but spelled either way (composed or not) they match */
  assert_search (f, "ÉMILE", 0, 50, "Émile Zola");
  assert_search (f, "E\xcc\x81mile", 0, 50, "Émile Zola");
  /* no wildcards: these are letters */
  assert_search (f, "Zh_ng", 0, 50, "");
  assert_search (f, "%", 0, 50, "");
  assert_search (f, "Deleted", 0, 50, "");
  /* paging */
  assert_search (f, "zh", 0, 2, "zhang san; Zhang Wei");
  assert_search (f, "zh", 2, 2, "Zhang_Underscore; Zhao Li");
  assert_search (f, "zh", 4, 2, "");
}

/* The search box asks on every key press: it must be an index range scan,
 * not a walk over every customer. */
static void
test_store_search_uses_index (Fixture       *f,
                              gconstpointer  data)
{
  sqlite3 *raw;
  g_autofree char *name_plan = NULL;
  g_autofree char *phone_plan = NULL;
  g_autofree char *exact_plan = NULL;

  for (guint i = 0; i < 300; i++)
    {
      g_autofree char *json = g_strdup_printf ("{\"name\": \"Customer %03u\", \"phones\": "
                                               "[\"1380013%04u\"]}", i, i);
      g_autoptr(JsonObject) customer = create (f, &kefu_record_customer, json, NULL);
    }
  assert_search (f, "customer 12", 0, 3, "Customer 120; Customer 121; Customer 122");
  assert_search (f, "138 0013 01", 0, 2, "Customer 100; Customer 101");

  /* The statements kefu_store_search_customers and
   * kefu_store_find_customers_by_phone run, word for word. */
  raw = open_raw (f->path);
  name_plan = query_plan (raw, "SELECT id, version, created_at, updated_at, doc FROM customers "
                               "WHERE deleted = 0 AND name_key >= ? AND name_key < ? "
                               "ORDER BY name_key, id LIMIT ? OFFSET ?");
  phone_plan = query_plan (raw, "SELECT id, version, created_at, updated_at, doc FROM customers "
                                "WHERE deleted = 0 AND id IN (SELECT customer_id FROM "
                                "customer_phones WHERE e164 >= ? AND e164 < ?) "
                                "ORDER BY name_key, id LIMIT ? OFFSET ?");
  exact_plan = query_plan (raw, "SELECT id, version, created_at, updated_at, doc FROM customers "
                                "WHERE deleted = 0 AND id IN (SELECT customer_id FROM "
                                "customer_phones WHERE e164 = ?) ORDER BY name_key, id LIMIT 50");
  sqlite3_close (raw);
  g_test_message ("name search:\n%sphone prefix:\n%sphone exact:\n%s", name_plan, phone_plan,
                  exact_plan);

  g_assert_nonnull (strstr (name_plan, "USING INDEX customers_name (name_key>? AND name_key<?)"));
  for (guint i = 0; i < 2; i++)
    {
      const char *plan = i == 0 ? phone_plan : exact_plan;

      g_assert_nonnull (strstr (plan, "SEARCH customer_phones USING"));
      g_assert_nonnull (strstr (plan, "INDEX"));
      g_assert_nonnull (strstr (plan, "(e164"));
      g_assert_null (strstr (plan, "SCAN customer_phones"));
      g_assert_null (strstr (plan, "SCAN customers"));
    }
  g_assert_null (strstr (name_plan, "SCAN customers"));
}

/* --- events, call facts, agent spans -------------------------------------------------------- */

typedef struct {
  char           *queue;
  char           *agent;
  gint64          offered_ms;
  gboolean        waiting;
  KefuCallSample  sample;
} FactCopy;

static void
fact_copy_free (gpointer data)
{
  FactCopy *copy = data;

  g_free (copy->queue);
  g_free (copy->agent);
  g_free (copy);
}

typedef struct {
  GHashTable *facts;   /* call id -> FactCopy */
  GPtrArray  *order;   /* call ids as folded */
} FactCollect;

static gboolean
on_fact (const KefuCallFact *fact,
         gpointer            user_data)
{
  FactCollect *collect = user_data;
  FactCopy *copy = g_new0 (FactCopy, 1);

  copy->queue = g_strdup (fact->queue);
  copy->agent = g_strdup (fact->agent);
  copy->offered_ms = fact->offered_ms;
  copy->waiting = fact->waiting;
  copy->sample = fact->sample;
  g_hash_table_insert (collect->facts, g_strdup (fact->call_id), copy);
  g_ptr_array_add (collect->order, g_strdup (fact->call_id));
  return TRUE;
}

static char *
fold_facts (Fixture    *f,
            const char *from,
            const char *to,
            const char *queue,
            const char *agent,
            GHashTable *facts)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) order = g_ptr_array_new_with_free_func (g_free);
  FactCollect collect = { facts, order };

  if (facts)
    g_hash_table_remove_all (facts);
  else
    collect.facts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, fact_copy_free);
  g_assert_true (kefu_store_fold_call_facts (f->store, ms (from), ms (to), queue, agent, on_fact,
                                             &collect, &error));
  g_assert_no_error (error);
  if (!facts)
    g_hash_table_unref (collect.facts);
  g_ptr_array_add (order, NULL);
  return g_strjoinv (" ", (char **) order->pdata);
}

static const char day_of_calls[] =
  "["
  /* answered after 12 s; 200 s connected of which 20 on hold; 30 s wrap-up */
  " {\"type\": \"call.offered\", \"ts\": \"2026-11-25T01:00:00Z\", \"call_id\": \"c1\", "
  "\"queue\": \"billing\"},"
  " {\"type\": \"call.ringing\", \"ts\": \"2026-11-25T01:00:02Z\", \"call_id\": \"c1\", "
  "\"agent\": \"li\"},"
  " {\"type\": \"call.answered\", \"ts\": \"2026-11-25T01:00:12Z\", \"call_id\": \"c1\", "
  "\"agent\": \"li\"},"
  " {\"type\": \"call.ended\", \"ts\": \"2026-11-25T01:03:32Z\", \"call_id\": \"c1\", \"data\": "
  "{\"hold_s\": 20}},"
  " {\"type\": \"call.wrapup_ended\", \"ts\": \"2026-11-25T01:04:02Z\", \"call_id\": \"c1\", "
  "\"agent\": \"li\"},"
  /* an answered call cannot be abandoned afterwards */
  " {\"type\": \"call.abandoned\", \"ts\": \"2026-11-25T01:05:00Z\", \"call_id\": \"c1\"},"
  /* the caller gave up after 45 s; an end without an answer changes nothing */
  " {\"type\": \"call.offered\", \"ts\": \"2026-11-25T01:10:00Z\", \"call_id\": \"c2\", "
  "\"queue\": \"billing\"},"
  " {\"type\": \"call.abandoned\", \"ts\": \"2026-11-25T01:10:45Z\", \"call_id\": \"c2\"},"
  " {\"type\": \"call.ended\", \"ts\": \"2026-11-25T01:11:00Z\", \"call_id\": \"c2\"},"
  /* the switch's own figures win over the timestamps */
  " {\"type\": \"call.offered\", \"ts\": \"2026-11-25T01:20:00Z\", \"call_id\": \"c3\", "
  "\"queue\": \"sales\"},"
  " {\"type\": \"call.answered\", \"ts\": \"2026-11-25T01:20:30Z\", \"call_id\": \"c3\", "
  "\"agent\": \"wang\", \"data\": {\"wait_s\": 7.5}},"
  " {\"type\": \"call.ended\", \"ts\": \"2026-11-25T01:25:00Z\", \"call_id\": \"c3\", \"data\": "
  "{\"talk_s\": 100, \"hold_s\": 5}},"
  " {\"type\": \"call.wrapup_ended\", \"ts\": \"2026-11-25T01:30:00Z\", \"call_id\": \"c3\", "
  "\"data\": {\"wrapup_s\": 12}},"
  /* still waiting */
  " {\"type\": \"call.offered\", \"ts\": \"2026-11-25T01:30:00Z\", \"call_id\": \"c4\", "
  "\"queue\": \"billing\"},"
  /* sent on to another site after a minute */
  " {\"type\": \"call.offered\", \"ts\": \"2026-11-25T01:40:00Z\", \"call_id\": \"c5\", "
  "\"queue\": \"billing\"},"
  " {\"type\": \"call.overflow\", \"ts\": \"2026-11-25T01:41:00Z\", \"call_id\": \"c5\"},"
  /* re-queued by a transfer: the first offer counts */
  " {\"type\": \"call.offered\", \"ts\": \"2026-11-25T01:50:00Z\", \"call_id\": \"c6\", "
  "\"queue\": \"billing\"},"
  " {\"type\": \"call.offered\", \"ts\": \"2026-11-25T01:55:00Z\", \"call_id\": \"c6\", "
  "\"queue\": \"sales\"}"
  "]";

/* The same events with an empty "data" wherever they had none, as a switch
 * that always sends the member would publish them. */
static char *
with_empty_data (const char *json_list)
{
  g_autoptr(JsonNode) root = json_from_string (json_list, NULL);
  JsonArray *events = json_node_get_array (root);

  for (guint i = 0; i < json_array_get_length (events); i++)
    {
      JsonObject *event = json_array_get_object_element (events, i);

      if (!json_object_has_member (event, "data"))
        json_object_set_object_member (event, "data", json_object_new ());
    }
  return json_to_string (root, FALSE);
}

static void
check_day_facts (Fixture *f)
{
  g_autoptr(GHashTable) facts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                       fact_copy_free);
  g_autofree char *all = NULL;
  g_autofree char *sales = NULL;
  g_autofree char *li = NULL;
  g_autofree char *window = NULL;
  FactCopy *c;

  all = fold_facts (f, "2026-11-25T00:00:00Z", "2026-11-26T00:00:00Z", NULL, NULL, facts);
  g_assert_cmpstr (all, ==, "c1 c2 c3 c4 c5 c6");

  c = g_hash_table_lookup (facts, "c1");
  g_assert_cmpstr (c->queue, ==, "billing");
  g_assert_cmpstr (c->agent, ==, "li");
  g_assert_cmpint (c->offered_ms, ==, ms ("2026-11-25T01:00:00Z"));
  g_assert_false (c->waiting);
  g_assert_cmpint (c->sample.outcome, ==, KEFU_CALL_OUTCOME_ANSWERED);
  g_assert_cmpfloat (c->sample.wait_s, ==, 12.0);
  g_assert_cmpfloat (c->sample.talk_s, ==, 180.0);
  g_assert_cmpfloat (c->sample.hold_s, ==, 20.0);
  g_assert_cmpfloat (c->sample.wrapup_s, ==, 30.0);

  c = g_hash_table_lookup (facts, "c2");
  g_assert_null (c->agent);
  g_assert_false (c->waiting);
  g_assert_cmpint (c->sample.outcome, ==, KEFU_CALL_OUTCOME_ABANDONED);
  g_assert_cmpfloat (c->sample.wait_s, ==, 45.0);
  g_assert_cmpfloat (c->sample.talk_s, ==, 0.0);

  c = g_hash_table_lookup (facts, "c3");
  g_assert_cmpstr (c->agent, ==, "wang");
  g_assert_cmpint (c->sample.outcome, ==, KEFU_CALL_OUTCOME_ANSWERED);
  g_assert_cmpfloat (c->sample.wait_s, ==, 7.5);
  g_assert_cmpfloat (c->sample.talk_s, ==, 100.0);
  g_assert_cmpfloat (c->sample.hold_s, ==, 5.0);
  g_assert_cmpfloat (c->sample.wrapup_s, ==, 12.0);

  c = g_hash_table_lookup (facts, "c4");
  g_assert_true (c->waiting);
  g_assert_cmpint (c->sample.outcome, ==, KEFU_CALL_OUTCOME_OTHER);

  c = g_hash_table_lookup (facts, "c5");
  g_assert_false (c->waiting);
  g_assert_cmpint (c->sample.outcome, ==, KEFU_CALL_OUTCOME_OTHER);
  g_assert_cmpfloat (c->sample.wait_s, ==, 60.0);

  c = g_hash_table_lookup (facts, "c6");
  g_assert_cmpstr (c->queue, ==, "billing");
  g_assert_cmpint (c->offered_ms, ==, ms ("2026-11-25T01:50:00Z"));
  g_assert_true (c->waiting);

  /* filters, and a range that includes its start and excludes its end */
  sales = fold_facts (f, "2026-11-25T00:00:00Z", "2026-11-26T00:00:00Z", "sales", NULL, NULL);
  g_assert_cmpstr (sales, ==, "c3");
  li = fold_facts (f, "2026-11-25T00:00:00Z", "2026-11-26T00:00:00Z", NULL, "li", NULL);
  g_assert_cmpstr (li, ==, "c1");
  window = fold_facts (f, "2026-11-25T01:10:00Z", "2026-11-25T01:30:00Z", NULL, NULL, NULL);
  g_assert_cmpstr (window, ==, "c2 c3");
}

static void
test_store_call_facts (Fixture       *f,
                       gconstpointer  data)
{
  g_autofree char *events = with_empty_data (day_of_calls);

  append_ok (f, events);
  check_day_facts (f);
}

/* Most events carry no data at all (an answer, a hang-up): the fold must
 * take them as they come. */
/* Runs the current test again in a child whose temporary folders live in
 * one of ours, removed afterwards however the child ended. */
static gboolean
trap_in_private_tmp (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("kefu-store-child-XXXXXX", &error);
  g_autofree char *old_tmp = g_strdup (g_getenv ("TMPDIR"));
  const char *argv[] = { "rm", "-rf", tmp, NULL };

  g_assert_no_error (error);
  g_setenv ("TMPDIR", tmp, TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDOUT |
                                   G_TEST_SUBPROCESS_INHERIT_STDERR);
  if (old_tmp)
    g_setenv ("TMPDIR", old_tmp, TRUE);
  else
    g_unsetenv ("TMPDIR");
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL,
                NULL);
  return g_test_trap_has_passed ();
}

static void
test_store_events_without_data (Fixture       *f,
                                gconstpointer  data)
{
  /* in a child, so that a failure is reported and the suite goes on */
  if (g_test_subprocess ())
    {
      append_ok (f, day_of_calls);
      check_day_facts (f);
      return;
    }
  if (!trap_in_private_tmp ())
    g_test_fail_printf ("events without \"data\" were not folded (see above)");
}

static void
test_store_event_log (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) first = NULL;
  g_autoptr(JsonArray) replay = NULL;
  g_autoptr(JsonArray) log = NULL;
  g_autoptr(JsonArray) tail = NULL;
  gboolean replayed = TRUE;
  g_autofree char *events = with_empty_data (day_of_calls);
  JsonObject *event;
  gint64 before;

  first = append_events (f, events, "switch-batch-1", &replayed, &error);
  g_assert_no_error (error);
  g_assert_false (replayed);
  g_assert_cmpuint (json_array_get_length (first), ==, 18);
  event = json_array_get_object_element (first, 10);
  g_assert_cmpstr (kefu_json_get_string (event, "type"), ==, "call.answered");
  g_assert_cmpstr (kefu_json_get_string (event, "ts"), ==, "2026-11-25T01:20:30Z");
  g_assert_cmpfloat (kefu_json_get_double (json_object_get_object_member (event, "data"), "wait_s",
                                           0), ==, 7.5);

  /* The switch resends a batch it got no ack for: same ids, no copies. */
  replay = append_events (f, events, "switch-batch-1", &replayed, &error);
  g_assert_no_error (error);
  g_assert_true (replayed);
  g_assert_cmpuint (json_array_get_length (replay), ==, 18);
  for (guint i = 0; i < 18; i++)
    g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (replay, i), "id"),
                     ==,
                     json_object_get_int_member (json_array_get_object_element (first, i), "id"));
  g_assert_cmpint (count (f, &kefu_record_event), ==, 18);

  log = kefu_store_list_events (f->store, 0, 1000, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (log), ==, 18);
  for (guint i = 0; i < 18; i++)
    {
      JsonObject *logged = json_array_get_object_element (log, i);
      JsonObject *stored = json_array_get_object_element (first, i);

      g_assert_cmpint (json_object_get_int_member (logged, "id"), ==,
                       json_object_get_int_member (stored, "id"));
      g_assert_cmpstr (kefu_json_get_string (logged, "type"), ==,
                       kefu_json_get_string (stored, "type"));
      g_assert_cmpstr (kefu_json_get_string (logged, "ts"), ==,
                       kefu_json_get_string (stored, "ts"));
      g_assert_cmpstr (kefu_json_get_string (logged, "call_id"), ==,
                       kefu_json_get_string (stored, "call_id"));
    }
  before = json_object_get_int_member (json_array_get_object_element (log, 15), "id");
  tail = kefu_store_list_events (f->store, before, 1000, &error);
  g_assert_cmpuint (json_array_get_length (tail), ==, 2);

  /* An event without a time happened now. */
  {
    g_autoptr(JsonArray) now = append_events (f, "[{\"type\": \"queue.updated\", \"queue\": "
                                                 "\"billing\"}]",
                                              NULL, NULL, &error);
    gint64 at = 0;

    g_assert_no_error (error);
    g_assert_true (kefu_time_parse_ms (kefu_json_get_string (json_array_get_object_element (now, 0),
                                                             "ts"), NULL, &at));
    g_assert_cmpint (ABS (at - kefu_time_now_ms ()), <, 60000);
  }
}

/* A bad event refuses its whole batch: nothing logged, nothing folded. */
static void
test_store_event_refused (Fixture       *f,
                          gconstpointer  data)
{
  static const struct {
    const char *events;
    const char *message;
  } refused[] = {
    { "[{\"type\": \"call.offered\", \"call_id\": \"ok1\", \"queue\": \"billing\"},"
      " {\"type\": \"call.offered\", \"call_id\": \"bad\"}]", "no queue" },
    { "[{\"type\": \"call.offered\", \"call_id\": \"ok2\", \"queue\": \"billing\"},"
      " {\"type\": \"call.answered\", \"agent\": \"li\"}]", "no call_id" },
    { "[{\"type\": \"agent.state\", \"data\": {\"state\": \"available\"}}]", "no agent" },
    { "[{\"type\": \"agent.state\", \"agent\": \"li\", \"data\": {\"state\": \"sleeping\"}}]",
      "available" },
    { "[{\"type\": \"agent.state\", \"agent\": \"li\"}]", "data.state" },
  };
  g_autoptr(GHashTable) facts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                       fact_copy_free);

  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonArray) stored = append_events (f, refused[i].events, NULL, NULL, &error);
      g_autofree char *folded = NULL;

      g_assert_null (stored);
      g_assert_error (error, KEFU_STORE_ERROR, KEFU_STORE_ERROR_INVALID);
      if (!strstr (error->message, refused[i].message))
        g_error ("“%s” does not say “%s”", error->message, refused[i].message);
      g_assert_cmpint (count (f, &kefu_record_event), ==, 0);
      folded = fold_facts (f, "2000-01-01T00:00:00Z", "2100-01-01T00:00:00Z", NULL, NULL, facts);
      g_assert_cmpstr (folded, ==, "");
    }
}

static gboolean
on_span (const KefuAgentSpan *span,
         gpointer             user_data)
{
  GString *text = user_data;
  g_autofree char *start = kefu_time_format_ms (span->started_ms);
  g_autofree char *end = span->ended_ms ? kefu_time_format_ms (span->ended_ms) : g_strdup ("open");

  g_string_append_printf (text, "%s %s %s..%s\n", span->agent, span->state, start + 11, end);
  return TRUE;
}

static char *
fold_spans (Fixture    *f,
            const char *from,
            const char *to,
            const char *agent)
{
  g_autoptr(GError) error = NULL;
  GString *text = g_string_new (NULL);

  g_assert_true (kefu_store_fold_agent_spans (f->store, ms (from), ms (to), agent, on_span, text,
                                              &error));
  g_assert_no_error (error);
  return g_string_free (text, FALSE);
}

static void
test_store_agent_spans (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) li = create (f, &kefu_record_agent,
                                     "{\"username\": \"li\", \"role\": \"agent\"}", NULL);
  g_autoptr(JsonObject) agent = NULL;
  g_autofree char *day = NULL;
  g_autofree char *window = NULL;
  g_autofree char *nobody = NULL;
  g_autofree char *ghost = NULL;

  g_assert_cmpstr (kefu_json_get_string (li, "state"), ==, "logged_out");

  append_ok (f,
    "[{\"type\": \"agent.state\", \"ts\": \"2026-11-25T00:00:00Z\", \"agent\": \"li\", \"data\": "
    "{\"state\": \"available\"}},"
    " {\"type\": \"agent.state\", \"ts\": \"2026-11-25T01:00:00Z\", \"agent\": \"li\", \"data\": "
    "{\"state\": \"talking\"}},"
    " {\"type\": \"agent.state\", \"ts\": \"2026-11-25T01:10:00Z\", \"agent\": \"li\", \"data\": "
    "{\"state\": \"wrapup\"}},"
    " {\"type\": \"agent.state\", \"ts\": \"2026-11-25T02:00:00Z\", \"agent\": \"li\", \"data\": "
    "{\"state\": \"not_ready\", \"reason\": \"Lunch\"}}]");

  agent = kefu_store_get_agent_by_name (f->store, "li", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (kefu_json_get_string (agent, "state"), ==, "not_ready");
  g_assert_cmpstr (kefu_json_get_string (agent, "state_reason"), ==, "Lunch");
  g_assert_cmpstr (kefu_json_get_string (agent, "state_since"), ==, "2026-11-25T02:00:00Z");
  g_clear_pointer (&agent, json_object_unref);

  append_ok (f,
    "[{\"type\": \"agent.state\", \"ts\": \"2026-11-25T03:00:00Z\", \"agent\": \"li\", \"data\": "
    "{\"state\": \"logged_out\"}},"
    " {\"type\": \"agent.state\", \"ts\": \"2026-11-25T04:00:00Z\", \"agent\": \"ghost\", "
    "\"data\": {\"state\": \"available\"}}]");

  agent = kefu_store_get_agent_by_name (f->store, "li", NULL, &error);
  g_assert_cmpstr (kefu_json_get_string (agent, "state"), ==, "logged_out");
  g_assert_true (JSON_NODE_HOLDS_NULL (json_object_get_member (agent, "state_reason")));
  g_assert_cmpstr (kefu_json_get_string (agent, "state_since"), ==, "2026-11-25T03:00:00Z");

  day = fold_spans (f, "2026-11-25T00:00:00Z", "2026-11-26T00:00:00Z", "li");
  g_assert_cmpstr (day, ==,
                   "li available 00:00:00Z..2026-11-25T01:00:00Z\n"
                   "li talking 01:00:00Z..2026-11-25T01:10:00Z\n"
                   "li wrapup 01:10:00Z..2026-11-25T02:00:00Z\n"
                   "li not_ready 02:00:00Z..2026-11-25T03:00:00Z\n"
                   "li logged_out 03:00:00Z..open\n");
  /* spans overlapping the window, whole: the caller clips them */
  window = fold_spans (f, "2026-11-25T00:30:00Z", "2026-11-25T01:30:00Z", NULL);
  g_assert_cmpstr (window, ==,
                   "li available 00:00:00Z..2026-11-25T01:00:00Z\n"
                   "li talking 01:00:00Z..2026-11-25T01:10:00Z\n"
                   "li wrapup 01:10:00Z..2026-11-25T02:00:00Z\n");
  nobody = fold_spans (f, "2026-11-25T00:00:00Z", "2026-11-26T00:00:00Z", "wang");
  g_assert_cmpstr (nobody, ==, "");
  /* the switch may know agents the server has no record of */
  ghost = fold_spans (f, "2026-11-25T03:30:00Z", "2026-11-25T05:00:00Z", "ghost");
  g_assert_cmpstr (ghost, ==, "ghost available 04:00:00Z..open\n");
}

/* --- threads ------------------------------------------------------------------------------ */

#define N_THREADS 8
#define PER_THREAD 25

typedef struct {
  KefuStore *store;
  guint      index;
  gint64     ids[PER_THREAD];
} Worker;

static gpointer
run_worker (gpointer data)
{
  Worker *worker = data;

  for (guint i = 0; i < PER_THREAD; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *json = g_strdup_printf ("{\"name\": \"Thread %u customer %02u\","
                                               " \"phones\": [\"139%02u%06u\"]}",
                                               worker->index, i, worker->index, i);
      g_autofree char *op_id = g_strdup_printf ("thread-%u-%u", worker->index, i);
      g_autoptr(JsonObject) doc = kefu_record_decode (&kefu_record_customer, json, -1,
                                                      KEFU_RECORD_CREATE, "CN", NULL, &error);
      KefuWrite write = KEFU_WRITE_INIT;
      KefuWriteResult result = { 0 };

      g_assert_no_error (error);
      write.op_id = op_id;
      if (!kefu_store_create (worker->store, &kefu_record_customer, doc, &write, &result, &error))
        g_error ("thread %u, customer %u: %s", worker->index, i, error->message);
      g_assert_false (result.replayed);
      worker->ids[i] = json_object_get_int_member (result.record, "id");
      kefu_write_result_clear (&result);
    }
  return NULL;
}

static void
test_store_threads (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autoptr(JsonArray) all = NULL;
  g_autoptr(JsonArray) changes = NULL;
  Worker workers[N_THREADS];
  GThread *threads[N_THREADS];
  gint64 cursor = 0;

  for (guint t = 0; t < N_THREADS; t++)
    {
      workers[t].store = f->store;
      workers[t].index = t;
      threads[t] = g_thread_new ("customer-writer", run_worker, &workers[t]);
    }
  for (guint t = 0; t < N_THREADS; t++)
    g_thread_join (threads[t]);

  for (guint t = 0; t < N_THREADS; t++)
    for (guint i = 0; i < PER_THREAD; i++)
      {
        g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT, workers[t].ids[i]);
        g_autofree char *expected = g_strdup_printf ("Thread %u customer %02u", t, i);
        g_autofree char *phone = g_strdup_printf ("139%02u%06u", t, i);
        g_autoptr(JsonObject) customer = kefu_store_get (f->store, &kefu_record_customer, id,
                                                         &error);
        g_autofree char *found = NULL;

        g_assert_no_error (error);
        g_assert_false (g_hash_table_contains (seen, &workers[t].ids[i]));
        g_hash_table_add (seen, &workers[t].ids[i]);
        g_assert_cmpstr (kefu_json_get_string (customer, "name"), ==, expected);
        g_assert_cmpint (version_of (customer), ==, 1);
        found = by_phone (f, phone);
        g_assert_cmpstr (found, ==, expected);
      }
  g_assert_cmpint (count (f, &kefu_record_customer), ==, N_THREADS * PER_THREAD);

  all = kefu_store_list (f->store, &kefu_record_customer, NULL, 0, 500, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (all), ==, N_THREADS * PER_THREAD);
  for (guint i = 0; i < json_array_get_length (all); i++)
    g_assert_cmpint (version_of (json_array_get_object_element (all, i)), ==, 1);

  /* every write made it into the feed, in one order */
  changes = kefu_store_changes (f->store, 0, 1000, &cursor, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (changes), ==, N_THREADS * PER_THREAD);
  for (guint i = 1; i < json_array_get_length (changes); i++)
    g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (changes, i), "seq"),
                     >, json_object_get_int_member (json_array_get_object_element (changes, i - 1),
                                                    "seq"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/store/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("migrate", test_store_migrate);
  g_test_add_func ("/store/refuses-newer-schema", test_store_refuses_newer_schema);
  ADD ("crud-versions", test_store_crud_versions);
  ADD ("server-fields-not-forged", test_store_server_fields_not_forged);
  ADD ("op-id-replay", test_store_op_id_replay);
  ADD ("conflict", test_store_conflict);
  ADD ("change-feed", test_store_change_feed);
  ADD ("phone-lookup", test_store_phone_lookup);
  ADD ("name-search", test_store_name_search);
  ADD ("search-uses-index", test_store_search_uses_index);
  ADD ("call-facts", test_store_call_facts);
  ADD ("event-log", test_store_event_log);
  ADD ("event-refused", test_store_event_refused);
  ADD ("agent-spans", test_store_agent_spans);
  ADD ("threads", test_store_threads);
  ADD ("events-without-data", test_store_events_without_data);

#undef ADD

  return g_test_run ();
}
