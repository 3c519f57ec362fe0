/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "TestDbPg"

#include "config.h"

#include "kefu-db-pg.h"

#include <glib.h>
#include <math.h>
#include <string.h>

/*
 * KefuDbPg against a real server: tests/helpers/with-postgresql starts a
 * private cluster and hands its conninfo over in KEFU_TEST_PG.  Each test
 * uses tables of its own, so the order they run in does not matter.
 */

static const char *conninfo;

typedef struct {
  KefuDb     *db;
  KefuDbConn *conn;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->db = kefu_db_pg_new (conninfo);
  f->conn = kefu_db_acquire (f->db, &error);
  g_assert_no_error (error);
  g_assert_nonnull (f->conn);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  kefu_db_release (f->db, f->conn);
  g_assert_finalize_object (f->db);
}

static void
exec_ok (KefuDbConn        *conn,
         const char        *sql,
         const KefuDbValue *params,
         guint              n_params)
{
  g_autoptr(GError) error = NULL;

  kefu_db_exec (conn, sql, params, n_params, NULL, &error);
  g_assert_no_error (error);
}

static gint64
count_rows (KefuDbConn *conn,
            const char *table)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM %s", table);
  gint64 n = -1;

  g_assert_true (kefu_db_query_int (conn, sql, NULL, 0, &n, &error));
  g_assert_no_error (error);
  return n;
}

static void
test_dialect (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *encoding = NULL;

  g_assert_cmpint (kefu_db_get_dialect (f->db), ==, KEFU_DB_DIALECT_POSTGRESQL);

  /* The store writes UTF-8 whatever the server or the conninfo default to. */
  encoding = kefu_db_query_text (f->conn, "SHOW client_encoding", NULL, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (encoding, ==, "UTF8");
}

typedef struct {
  guint n_rows;
} KindsSeen;

static gboolean
on_kinds_row (KefuDbRow *row,
              gpointer   user_data)
{
  static const guint8 small_blob[] = { 0x00, 0x01, 0x00, 0xff };
  KindsSeen *seen = user_data;
  gint64 id = kefu_db_row_int (row, 0);
  const guint8 *blob;
  gsize len = 1234;

  g_assert_cmpuint (kefu_db_row_n_columns (row), ==, 6);

  switch (id)
    {
    case 1:
      g_assert_cmpint (kefu_db_row_int (row, 1), ==, G_MAXINT64);
      g_assert_cmpfloat (kefu_db_row_real (row, 2), ==, 0.1);
      g_assert_cmpstr (kefu_db_row_text (row, 3), ==, "plain");
      blob = kefu_db_row_blob (row, 4, &len);
      g_assert_cmpmem (blob, len, small_blob, sizeof small_blob);
      g_assert_cmpint (kefu_db_row_int (row, 5), ==, 1);
      break;

    case 2:
      for (guint col = 1; col < 6; col++)
        g_assert_true (kefu_db_row_is_null (row, col));
      g_assert_cmpint (kefu_db_row_int (row, 1), ==, 0);
      g_assert_cmpfloat (kefu_db_row_real (row, 2), ==, 0.0);
      g_assert_null (kefu_db_row_text (row, 3));
      g_assert_null (kefu_db_row_blob (row, 4, &len));
      g_assert_cmpuint (len, ==, 0);
      break;

    case 3:
      g_assert_cmpint (kefu_db_row_int (row, 1), ==, G_MININT64);
      g_assert_cmpfloat (kefu_db_row_real (row, 2), ==, -1.0 / 3.0 * 1e300);
      g_assert_false (kefu_db_row_is_null (row, 3));
      g_assert_cmpstr (kefu_db_row_text (row, 3), ==, "");
      g_assert_false (kefu_db_row_is_null (row, 4));
      kefu_db_row_blob (row, 4, &len);
      g_assert_cmpuint (len, ==, 0);
      g_assert_cmpint (kefu_db_row_int (row, 5), ==, 0);
      break;

    case 4:
      g_assert_true (isinf (kefu_db_row_real (row, 2)));
      g_assert_cmpfloat (kefu_db_row_real (row, 2), <, 0.0);
      break;

    case 5:
      g_assert_true (isnan (kefu_db_row_real (row, 2)));
      break;

    default:
      g_assert_not_reached ();
    }

  seen->n_rows++;
  return TRUE;
}

static void
test_types (Fixture       *f,
            gconstpointer  data)
{
  static const guint8 small_blob[] = { 0x00, 0x01, 0x00, 0xff };
  const char *insert = "INSERT INTO kinds (id, n, r, t, b, flag) VALUES (?, ?, ?, ?, ?, ?)";
  g_autoptr(GError) error = NULL;
  KindsSeen seen = { 0 };

  exec_ok (f->conn, "CREATE TABLE kinds (id INTEGER PRIMARY KEY, n BIGINT, "
                    "r DOUBLE PRECISION, t TEXT, b BYTEA, flag BOOLEAN)", NULL, 0);

  /* An INT goes into a boolean column as well: the server reads "1". */
  exec_ok (f->conn, insert, (KefuDbValue[]) {
             KEFU_DB_V_INT (1), KEFU_DB_V_INT (G_MAXINT64), KEFU_DB_V_REAL (0.1),
             KEFU_DB_V_TEXT ("plain"), KEFU_DB_V_BLOB (small_blob, sizeof small_blob),
             KEFU_DB_V_INT (1),
           }, 6);
  exec_ok (f->conn, insert, (KefuDbValue[]) {
             KEFU_DB_V_INT (2), KEFU_DB_V_NULL, KEFU_DB_V_NULL, KEFU_DB_V_TEXT (NULL),
             KEFU_DB_V_NULL, KEFU_DB_V_NULL,
           }, 6);
  exec_ok (f->conn, insert, (KefuDbValue[]) {
             KEFU_DB_V_INT (3), KEFU_DB_V_INT (G_MININT64), KEFU_DB_V_REAL (-1.0 / 3.0 * 1e300),
             KEFU_DB_V_TEXT (""), KEFU_DB_V_BLOB ("", 0), KEFU_DB_V_INT (0),
           }, 6);
  exec_ok (f->conn, "INSERT INTO kinds (id, r) VALUES (?, ?)", (KefuDbValue[]) {
             KEFU_DB_V_INT (4), KEFU_DB_V_REAL (-INFINITY),
           }, 2);
  exec_ok (f->conn, "INSERT INTO kinds (id, r) VALUES (?, ?)", (KefuDbValue[]) {
             KEFU_DB_V_INT (5), KEFU_DB_V_REAL (NAN),
           }, 2);

  g_assert_true (kefu_db_query (f->conn, "SELECT id, n, r, t, b, flag FROM kinds ORDER BY id",
                                NULL, 0, on_kinds_row, &seen, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (seen.n_rows, ==, 5);
}

static void
test_text_verbatim (Fixture       *f,
                    gconstpointer  data)
{
  static const char * const texts[] = {
    "'); DROP TABLE x; --",
    "Robert'); DROP TABLE students;--",
    "a ? b ?? $1 $$ \\ \\' \" '' ; ;;",
    "/* not a comment */ -- nor this\n?",
    "客服中心：您好，请问有什么可以帮您？",
    "混合 mixed 文本 with émoji 🎧 and NUL-free\ttabs",
    "\\x00ff",
  };

  exec_ok (f->conn, "CREATE TABLE x (id INTEGER PRIMARY KEY)", NULL, 0);
  exec_ok (f->conn, "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)", NULL, 0);

  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    exec_ok (f->conn, "INSERT INTO notes (id, body) VALUES (?, ?)", (KefuDbValue[]) {
               KEFU_DB_V_INT (i), KEFU_DB_V_TEXT (texts[i]),
             }, 2);

  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *body = NULL;
      gint64 id = -1;
      gint64 n_chars = -1;

      body = kefu_db_query_text (f->conn, "SELECT body FROM notes WHERE id = ?",
                                 (KefuDbValue[]) { KEFU_DB_V_INT (i) }, 1, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (body, ==, texts[i]);

      /* Looked up by the same text as a parameter, it matches exactly. */
      g_assert_true (kefu_db_query_int (f->conn, "SELECT id FROM notes WHERE body = ?",
                                        (KefuDbValue[]) { KEFU_DB_V_TEXT (texts[i]) }, 1,
                                        &id, &error));
      g_assert_no_error (error);
      g_assert_cmpint (id, ==, i);

      /* The server counts characters, not bytes: it got UTF-8 as UTF-8. */
      g_assert_true (kefu_db_query_int (f->conn, "SELECT length(body) FROM notes WHERE id = ?",
                                        (KefuDbValue[]) { KEFU_DB_V_INT (i) }, 1,
                                        &n_chars, &error));
      g_assert_no_error (error);
      g_assert_cmpint (n_chars, ==, g_utf8_strlen (texts[i], -1));
    }

  /* Nothing in the text ran as SQL. */
  g_assert_cmpint (count_rows (f->conn, "x"), ==, 0);
  g_assert_cmpint (count_rows (f->conn, "notes"), ==, G_N_ELEMENTS (texts));
}

typedef struct {
  const guint8 *expected;
  gsize         expected_len;
  guint         n_rows;
} BlobSeen;

static gboolean
on_blob_row (KefuDbRow *row,
             gpointer   user_data)
{
  BlobSeen *seen = user_data;
  const guint8 *first;
  const guint8 *second;
  gsize first_len = 0;
  gsize second_len = 0;

  /* The first column's bytes stay valid while the second is decoded. */
  first = kefu_db_row_blob (row, 0, &first_len);
  second = kefu_db_row_blob (row, 1, &second_len);
  g_assert_cmpmem (first, first_len, seen->expected, seen->expected_len);
  g_assert_cmpmem (second, second_len, seen->expected, seen->expected_len);
  g_assert_cmpint (kefu_db_row_int (row, 2), ==, seen->expected_len);
  seen->n_rows++;
  return TRUE;
}

static void
test_blob (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  gint64 id = -1;
  g_autofree guint8 *every_byte = g_new (guint8, 512);
  g_autofree guint8 *large = g_new (guint8, 1 << 20);
  GRand *rand = g_rand_new_with_seed (20240607);
  struct {
    const guint8 *data;
    gsize         len;
  } blobs[] = {
    { every_byte, 512 },
    { (const guint8 *) "\0\0\0", 3 },
    { large, 1 << 20 },
  };

  for (guint i = 0; i < 512; i++)
    every_byte[i] = i % 256;
  for (guint i = 0; i < 1 << 20; i++)
    large[i] = g_rand_int_range (rand, 0, 256);
  g_rand_free (rand);

  exec_ok (f->conn, "CREATE TABLE recordings (id INTEGER PRIMARY KEY, audio BYTEA)", NULL, 0);
  for (guint i = 0; i < G_N_ELEMENTS (blobs); i++)
    {
      BlobSeen seen = { blobs[i].data, blobs[i].len, 0 };

      exec_ok (f->conn, "INSERT INTO recordings (id, audio) VALUES (?, ?)", (KefuDbValue[]) {
                 KEFU_DB_V_INT (i), KEFU_DB_V_BLOB (blobs[i].data, blobs[i].len),
               }, 2);
      /* octet_length is the server's view: nothing was cut at a NUL. */
      g_assert_true (kefu_db_query (f->conn,
                                    "SELECT audio, audio, octet_length(audio) "
                                    "FROM recordings WHERE id = ?",
                                    (KefuDbValue[]) { KEFU_DB_V_INT (i) }, 1,
                                    on_blob_row, &seen, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (seen.n_rows, ==, 1);
    }

  /* A blob compares as bytes in a WHERE clause too. */
  g_assert_true (kefu_db_query_int (f->conn, "SELECT id FROM recordings WHERE audio = ?",
                                    (KefuDbValue[]) { KEFU_DB_V_BLOB ("\0\0\0", 3) }, 1,
                                    &id, &error));
  g_assert_no_error (error);
  g_assert_cmpint (id, ==, 1);
}

static gboolean
on_literal_row (KefuDbRow *row,
                gpointer   user_data)
{
  guint *n_rows = user_data;

  g_assert_cmpstr (kefu_db_row_text (row, 0), ==, "?");
  g_assert_cmpstr (kefu_db_row_text (row, 1), ==, "param");
  g_assert_cmpstr (kefu_db_row_text (row, 2), ==, "it's ?");
  g_assert_cmpint (kefu_db_row_int (row, 3), ==, 7);
  (*n_rows)++;
  return TRUE;
}

static void
test_placeholder_in_literal (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  guint n_rows = 0;

  /* Only the two bare `?` are parameters. */
  g_assert_true (kefu_db_query (f->conn,
                                "SELECT '?' AS a, ? AS b, 'it''s ?' AS c, \"weird?col\" /* ? */ "
                                "FROM (SELECT 7 AS \"weird?col\") AS s -- ? here is a comment\n"
                                "WHERE \"weird?col\" = ?",
                                (KefuDbValue[]) { KEFU_DB_V_TEXT ("param"), KEFU_DB_V_INT (7) }, 2,
                                on_literal_row, &n_rows, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n_rows, ==, 1);

  /* A parameter count that does not match the SQL is refused up front. */
  g_assert_false (kefu_db_exec (f->conn, "SELECT ?, '?'", (KefuDbValue[]) {
                                  KEFU_DB_V_INT (1), KEFU_DB_V_INT (2),
                                }, 2, NULL, &error));
  g_assert_error (error, KEFU_DB_ERROR, KEFU_DB_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "wants 1 parameters, got 2"));
}

typedef struct {
  guint  n_rows;
  guint  stop_after;
  gint64 sum;
} Stepping;

static gboolean
on_step_row (KefuDbRow *row,
             gpointer   user_data)
{
  Stepping *step = user_data;

  step->sum += kefu_db_row_int (row, 0);
  step->n_rows++;
  return step->stop_after == 0 || step->n_rows < step->stop_after;
}

static void
test_rows_and_early_stop (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *label = NULL;
  Stepping all = { 0 };
  Stepping three = { .stop_after = 3 };
  Stepping none = { 0 };
  Stepping failing = { 0 };

  exec_ok (f->conn, "CREATE TABLE queue_calls (id INTEGER PRIMARY KEY, label TEXT)", NULL, 0);
  for (gint64 id = 1; id <= 10; id++)
    {
      g_autofree char *text = g_strdup_printf ("call %" G_GINT64_FORMAT, id);

      exec_ok (f->conn, "INSERT INTO queue_calls (id, label) VALUES (?, ?)",
               (KefuDbValue[]) { KEFU_DB_V_INT (id), KEFU_DB_V_TEXT (text) }, 2);
    }

  g_assert_true (kefu_db_query (f->conn, "SELECT id FROM queue_calls ORDER BY id", NULL, 0,
                                on_step_row, &all, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (all.n_rows, ==, 10);
  g_assert_cmpint (all.sum, ==, 55);

  /* Stopping is not an error, and the connection takes the next statement. */
  g_assert_true (kefu_db_query (f->conn, "SELECT id FROM queue_calls ORDER BY id", NULL, 0,
                                on_step_row, &three, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (three.n_rows, ==, 3);
  g_assert_cmpint (three.sum, ==, 6);
  g_assert_cmpint (count_rows (f->conn, "queue_calls"), ==, 10);

  g_assert_true (kefu_db_query (f->conn, "SELECT id FROM queue_calls WHERE id > ?",
                                (KefuDbValue[]) { KEFU_DB_V_INT (100) }, 1,
                                on_step_row, &none, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (none.n_rows, ==, 0);

  label = kefu_db_query_text (f->conn, "SELECT label FROM queue_calls WHERE id = ?",
                              (KefuDbValue[]) { KEFU_DB_V_INT (7) }, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (label, ==, "call 7");

  /* Rows stream: the callback has the first rows before a later one fails.
   * A materialised result would fail as a whole before any callback. */
  g_assert_false (kefu_db_query (f->conn, "SELECT 10 / (3 - g) FROM generate_series (1, 3) AS g",
                                 NULL, 0, on_step_row, &failing, &error));
  g_assert_error (error, KEFU_DB_ERROR, KEFU_DB_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "division by zero"));
  g_assert_cmpuint (failing.n_rows, ==, 2);
  g_assert_cmpint (failing.sum, ==, 15);
}

static void
test_changes (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  gint64 changes = -1;

  g_assert_true (kefu_db_exec (f->conn, "CREATE TABLE wrapups (id INTEGER PRIMARY KEY, code TEXT)",
                               NULL, 0, &changes, &error));
  g_assert_no_error (error);
  g_assert_cmpint (changes, ==, 0);

  for (gint64 id = 1; id <= 6; id++)
    {
      g_assert_true (kefu_db_exec (f->conn, "INSERT INTO wrapups (id, code) VALUES (?, 'open')",
                                   (KefuDbValue[]) { KEFU_DB_V_INT (id) }, 1, &changes, &error));
      g_assert_no_error (error);
      g_assert_cmpint (changes, ==, 1);
    }

  g_assert_true (kefu_db_exec (f->conn, "UPDATE wrapups SET code = ? WHERE id <= ?",
                               (KefuDbValue[]) { KEFU_DB_V_TEXT ("sale"), KEFU_DB_V_INT (4) }, 2,
                               &changes, &error));
  g_assert_no_error (error);
  g_assert_cmpint (changes, ==, 4);

  g_assert_true (kefu_db_exec (f->conn, "DELETE FROM wrapups WHERE code = ?",
                               (KefuDbValue[]) { KEFU_DB_V_TEXT ("open") }, 1, &changes, &error));
  g_assert_no_error (error);
  g_assert_cmpint (changes, ==, 2);
}

static void
test_constraint (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  const char *insert = "INSERT INTO agents (id, username, skill) VALUES (?, ?, ?)";

  exec_ok (f->conn, "CREATE TABLE agents (id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE, "
                    "skill INTEGER CHECK (skill BETWEEN 1 AND 5))", NULL, 0);
  exec_ok (f->conn, insert, (KefuDbValue[]) {
             KEFU_DB_V_INT (1), KEFU_DB_V_TEXT ("lihua"), KEFU_DB_V_INT (3),
           }, 3);

  g_assert_false (kefu_db_exec (f->conn, insert, (KefuDbValue[]) {
                                  KEFU_DB_V_INT (2), KEFU_DB_V_TEXT ("lihua"), KEFU_DB_V_INT (3),
                                }, 3, NULL, &error));
  g_assert_error (error, KEFU_DB_ERROR, KEFU_DB_ERROR_CONSTRAINT);
  g_assert_true (g_str_has_prefix (error->message, "PostgreSQL: "));
  g_assert_nonnull (strstr (error->message, "duplicate key"));
  g_clear_error (&error);

  g_assert_false (kefu_db_exec (f->conn, insert, (KefuDbValue[]) {
                                  KEFU_DB_V_INT (3), KEFU_DB_V_NULL, KEFU_DB_V_INT (3),
                                }, 3, NULL, &error));
  g_assert_error (error, KEFU_DB_ERROR, KEFU_DB_ERROR_CONSTRAINT);
  g_clear_error (&error);

  g_assert_false (kefu_db_exec (f->conn, insert, (KefuDbValue[]) {
                                  KEFU_DB_V_INT (4), KEFU_DB_V_TEXT ("wangfang"), KEFU_DB_V_INT (9),
                                }, 3, NULL, &error));
  g_assert_error (error, KEFU_DB_ERROR, KEFU_DB_ERROR_CONSTRAINT);
  g_clear_error (&error);

  g_assert_cmpint (count_rows (f->conn, "agents"), ==, 1);
}

static void
test_syntax_error (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  gint64 value = 0;

  g_assert_false (kefu_db_exec (f->conn, "SELEKT 1", NULL, 0, NULL, &error));
  g_assert_error (error, KEFU_DB_ERROR, KEFU_DB_ERROR_FAILED);
  g_assert_true (g_str_has_prefix (error->message, "PostgreSQL: "));
  g_assert_nonnull (strstr (error->message, "syntax error"));
  g_clear_error (&error);

  g_assert_false (kefu_db_query_int (f->conn, "SELECT missing FROM no_such_table", NULL, 0,
                                     &value, &error));
  g_assert_error (error, KEFU_DB_ERROR, KEFU_DB_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "no_such_table"));
  g_clear_error (&error);

  /* A failed prepare is not cached: the same text fails again, cleanly. */
  g_assert_false (kefu_db_exec (f->conn, "SELEKT 1", NULL, 0, NULL, &error));
  g_assert_error (error, KEFU_DB_ERROR, KEFU_DB_ERROR_FAILED);
  g_clear_error (&error);

  g_assert_true (kefu_db_query_int (f->conn, "SELECT 42", NULL, 0, &value, &error));
  g_assert_no_error (error);
  g_assert_cmpint (value, ==, 42);
}

static void
test_exec_script (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  gint64 n = -1;

  g_assert_true (kefu_db_exec_script (f->conn,
                                      "CREATE TABLE skills (id INTEGER PRIMARY KEY, name TEXT);"
                                      "INSERT INTO skills VALUES (1, 'billing; refunds?');"
                                      "INSERT INTO skills VALUES (2, 'mandarin');",
                                      &error));
  g_assert_no_error (error);
  g_assert_cmpint (count_rows (f->conn, "skills"), ==, 2);

  /* A script that fails part-way leaves nothing behind. */
  g_assert_false (kefu_db_exec_script (f->conn,
                                       "CREATE TABLE half_done (id INTEGER);"
                                       "INSERT INTO no_such_table VALUES (1);",
                                       &error));
  g_assert_error (error, KEFU_DB_ERROR, KEFU_DB_ERROR_FAILED);
  g_assert_true (g_str_has_prefix (error->message, "PostgreSQL: "));
  g_clear_error (&error);
  g_assert_true (kefu_db_query_int (f->conn, "SELECT count(*) FROM pg_class WHERE relname = ?",
                                    (KefuDbValue[]) { KEFU_DB_V_TEXT ("half_done") }, 1,
                                    &n, &error));
  g_assert_no_error (error);
  g_assert_cmpint (n, ==, 0);
}

static void
test_transactions (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  const char *insert = "INSERT INTO dispositions (id, code) VALUES (?, ?)";

  exec_ok (f->conn, "CREATE TABLE dispositions (id INTEGER PRIMARY KEY, code TEXT NOT NULL)",
           NULL, 0);

  g_assert_true (kefu_db_begin (f->conn, &error));
  g_assert_no_error (error);
  exec_ok (f->conn, insert, (KefuDbValue[]) { KEFU_DB_V_INT (1), KEFU_DB_V_TEXT ("sale") }, 2);
  g_assert_cmpint (count_rows (f->conn, "dispositions"), ==, 1);
  kefu_db_rollback (f->conn);
  g_assert_false (f->conn->in_transaction);
  g_assert_cmpint (count_rows (f->conn, "dispositions"), ==, 0);

  g_assert_true (kefu_db_begin (f->conn, &error));
  g_assert_no_error (error);
  exec_ok (f->conn, insert, (KefuDbValue[]) { KEFU_DB_V_INT (1), KEFU_DB_V_TEXT ("sale") }, 2);
  exec_ok (f->conn, insert, (KefuDbValue[]) { KEFU_DB_V_INT (2), KEFU_DB_V_TEXT ("callback") }, 2);
  g_assert_true (kefu_db_commit (f->conn, &error));
  g_assert_no_error (error);
  g_assert_cmpint (count_rows (f->conn, "dispositions"), ==, 2);

  /* PostgreSQL aborts a transaction at its first error; the commit must
   * then say so instead of reporting the writes as kept. */
  g_assert_true (kefu_db_begin (f->conn, &error));
  g_assert_no_error (error);
  exec_ok (f->conn, insert, (KefuDbValue[]) { KEFU_DB_V_INT (3), KEFU_DB_V_TEXT ("no answer") }, 2);
  g_assert_false (kefu_db_exec (f->conn, insert, (KefuDbValue[]) {
                                  KEFU_DB_V_INT (1), KEFU_DB_V_TEXT ("duplicate"),
                                }, 2, NULL, &error));
  g_assert_error (error, KEFU_DB_ERROR, KEFU_DB_ERROR_CONSTRAINT);
  g_clear_error (&error);
  g_assert_false (kefu_db_commit (f->conn, &error));
  g_assert_error (error, KEFU_DB_ERROR, KEFU_DB_ERROR_FAILED);
  g_assert_true (g_str_has_prefix (error->message, "PostgreSQL: "));
  g_clear_error (&error);
  g_assert_false (f->conn->in_transaction);
  g_assert_cmpint (count_rows (f->conn, "dispositions"), ==, 2);
}

static void
test_busy (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  KefuDbConn *other;

  exec_ok (f->conn, "CREATE TABLE seats (id INTEGER PRIMARY KEY, agent TEXT)", NULL, 0);
  exec_ok (f->conn, "INSERT INTO seats (id) VALUES (1)", NULL, 0);

  other = kefu_db_acquire (f->db, &error);
  g_assert_no_error (error);
  g_assert_true (other != f->conn);

  g_assert_true (kefu_db_begin (f->conn, &error));
  g_assert_no_error (error);
  exec_ok (f->conn, "SELECT id FROM seats WHERE id = ? FOR UPDATE",
           (KefuDbValue[]) { KEFU_DB_V_INT (1) }, 1);

  /* Lock not available (55P03) is worth a retry, like SQLite's BUSY. */
  g_assert_false (kefu_db_exec (other, "SELECT id FROM seats WHERE id = ? FOR UPDATE NOWAIT",
                                (KefuDbValue[]) { KEFU_DB_V_INT (1) }, 1, NULL, &error));
  g_assert_error (error, KEFU_DB_ERROR, KEFU_DB_ERROR_BUSY);
  g_clear_error (&error);

  kefu_db_rollback (f->conn);
  exec_ok (other, "SELECT id FROM seats WHERE id = ? FOR UPDATE NOWAIT",
           (KefuDbValue[]) { KEFU_DB_V_INT (1) }, 1);
  kefu_db_release (f->db, other);
}

#define N_THREADS         8
#define INSERTS_PER_THREAD 250

typedef struct {
  KefuDb *db;
  guint   thread;
} Worker;

static gpointer
run_worker (gpointer user_data)
{
  Worker *worker = user_data;

  for (guint i = 0; i < INSERTS_PER_THREAD; i++)
    {
      g_autoptr(GError) error = NULL;
      KefuDbConn *conn = kefu_db_acquire (worker->db, &error);

      g_assert_no_error (error);
      g_assert_true (kefu_db_exec (conn, "INSERT INTO agent_events (thread, seq) VALUES (?, ?)",
                                   (KefuDbValue[]) {
                                     KEFU_DB_V_INT (worker->thread), KEFU_DB_V_INT (i),
                                   }, 2, NULL, &error));
      g_assert_no_error (error);
      kefu_db_release (worker->db, conn);
    }
  return NULL;
}

static void
test_threads (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  Worker workers[N_THREADS];
  GThread *threads[N_THREADS];
  gint64 n_threads = 0;

  exec_ok (f->conn, "CREATE TABLE agent_events (thread INTEGER, seq INTEGER, "
                    "PRIMARY KEY (thread, seq))", NULL, 0);

  for (guint i = 0; i < N_THREADS; i++)
    {
      workers[i] = (Worker) { f->db, i };
      threads[i] = g_thread_new ("db-worker", run_worker, &workers[i]);
    }
  for (guint i = 0; i < N_THREADS; i++)
    g_thread_join (threads[i]);

  g_assert_cmpint (count_rows (f->conn, "agent_events"), ==, N_THREADS * INSERTS_PER_THREAD);
  g_assert_true (kefu_db_query_int (f->conn, "SELECT count(DISTINCT thread) FROM agent_events",
                                    NULL, 0, &n_threads, &error));
  g_assert_no_error (error);
  g_assert_cmpint (n_threads, ==, N_THREADS);
}

#define LARGE_ROWS 100000

typedef struct {
  gint64 next_id;
  guint  n_rows;
} LargeScan;

static gboolean
on_large_row (KefuDbRow *row,
              gpointer   user_data)
{
  LargeScan *scan = user_data;
  char label[32];

  g_assert_cmpint (kefu_db_row_int (row, 0), ==, scan->next_id);
  g_snprintf (label, sizeof label, "row %" G_GINT64_FORMAT, scan->next_id);
  g_assert_cmpstr (kefu_db_row_text (row, 1), ==, label);
  scan->next_id++;
  scan->n_rows++;
  return TRUE;
}

static void
test_large_scan (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  LargeScan scan = { .next_id = 1 };
  Stepping five = { .stop_after = 5 };
  Stepping in_transaction = { .stop_after = 5 };
  Stepping returning = { .stop_after = 1 };
  gint64 changes = 0;
  gint64 started;

  exec_ok (f->conn, "CREATE TABLE big (id INTEGER PRIMARY KEY, label TEXT NOT NULL)", NULL, 0);
  g_assert_true (kefu_db_exec (f->conn, "INSERT INTO big (id, label) "
                                        "SELECT g, 'row ' || g FROM generate_series (1, ?) AS g",
                               (KefuDbValue[]) { KEFU_DB_V_INT (LARGE_ROWS) }, 1,
                               &changes, &error));
  g_assert_no_error (error);
  g_assert_cmpint (changes, ==, LARGE_ROWS);

  started = g_get_monotonic_time ();
  g_assert_true (kefu_db_query (f->conn, "SELECT id, label FROM big ORDER BY id", NULL, 0,
                                on_large_row, &scan, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (scan.n_rows, ==, LARGE_ROWS);
  g_test_message ("full scan of %d rows: %.0f ms", LARGE_ROWS,
                  (g_get_monotonic_time () - started) / 1000.0);

  /* A scan stopped early leaves the connection ready for the next one. */
  started = g_get_monotonic_time ();
  g_assert_true (kefu_db_query (f->conn, "SELECT id FROM big ORDER BY id", NULL, 0,
                                on_step_row, &five, &error));
  g_assert_no_error (error);
  g_test_message ("scan stopped after 5 rows: %.0f ms",
                  (g_get_monotonic_time () - started) / 1000.0);
  g_assert_cmpuint (five.n_rows, ==, 5);
  g_assert_cmpint (five.sum, ==, 15);
  g_assert_cmpint (count_rows (f->conn, "big"), ==, LARGE_ROWS);

  /* Stopping early inside a transaction must not abort it. */
  g_assert_true (kefu_db_begin (f->conn, &error));
  g_assert_no_error (error);
  g_assert_true (kefu_db_query (f->conn, "SELECT id FROM big ORDER BY id", NULL, 0,
                                on_step_row, &in_transaction, &error));
  g_assert_no_error (error);
  exec_ok (f->conn, "DELETE FROM big WHERE id > ?",
           (KefuDbValue[]) { KEFU_DB_V_INT (LARGE_ROWS / 2) }, 1);
  g_assert_true (kefu_db_commit (f->conn, &error));
  g_assert_no_error (error);
  g_assert_cmpint (count_rows (f->conn, "big"), ==, LARGE_ROWS / 2);

  /* A write whose RETURNING rows are read only in part still happens whole. */
  exec_ok (f->conn, "CREATE TABLE big_copy (id INTEGER PRIMARY KEY)", NULL, 0);
  g_assert_true (kefu_db_query (f->conn,
                                "INSERT INTO big_copy (id) SELECT id FROM big RETURNING id",
                                NULL, 0, on_step_row, &returning, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (returning.n_rows, ==, 1);
  g_assert_cmpint (count_rows (f->conn, "big_copy"), ==, LARGE_ROWS / 2);
}

static gboolean
on_row_reenters (KefuDbRow *row,
                 gpointer   user_data)
{
  KefuDbConn *conn = user_data;
  g_autoptr(GError) error = NULL;
  gint64 value = 0;

  /* libpq serves one statement at a time per connection. */
  g_assert_false (kefu_db_query_int (conn, "SELECT 1", NULL, 0, &value, &error));
  g_assert_error (error, KEFU_DB_ERROR, KEFU_DB_ERROR_FAILED);
  return TRUE;
}

static void
test_callback_reentry (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  gint64 value = 0;

  g_assert_true (kefu_db_query (f->conn, "SELECT g FROM generate_series (1, 3) AS g", NULL, 0,
                                on_row_reenters, f->conn, &error));
  g_assert_no_error (error);
  g_assert_true (kefu_db_query_int (f->conn, "SELECT 1", NULL, 0, &value, &error));
  g_assert_no_error (error);
  g_assert_cmpint (value, ==, 1);
}

static void
terminate_backend (KefuDbConn *killer,
                   gint64      pid)
{
  g_autoptr(GError) error = NULL;
  gint64 terminated = 0;

  /* The timeout makes the call wait until the backend has gone. */
  g_assert_true (kefu_db_query_int (killer, "SELECT pg_terminate_backend (?, 10000)",
                                    (KefuDbValue[]) { KEFU_DB_V_INT (pid) }, 1,
                                    &terminated, &error));
  g_assert_no_error (error);
  g_assert_cmpint (terminated, ==, 1);
}

static void
test_reconnect (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  KefuDbConn *killer;
  gint64 pid = 0;
  gint64 new_pid = 0;

  killer = kefu_db_acquire (f->db, &error);
  g_assert_no_error (error);

  /* An idle pooled connection whose server session ended comes back on
   * its next use, prepared statements and all. */
  g_assert_true (kefu_db_query_int (f->conn, "SELECT pg_backend_pid ()", NULL, 0, &pid, &error));
  g_assert_no_error (error);
  terminate_backend (killer, pid);
  g_assert_true (kefu_db_query_int (f->conn, "SELECT pg_backend_pid ()", NULL, 0,
                                    &new_pid, &error));
  g_assert_no_error (error);
  g_assert_cmpint (new_pid, !=, pid);

  /* Inside a transaction the work so far is gone: that is an error, not a
   * silent reconnect; rolling back makes the connection usable again. */
  exec_ok (f->conn, "CREATE TABLE callbacks (id INTEGER PRIMARY KEY)", NULL, 0);
  g_assert_true (kefu_db_begin (f->conn, &error));
  g_assert_no_error (error);
  exec_ok (f->conn, "INSERT INTO callbacks (id) VALUES (1)", NULL, 0);
  terminate_backend (killer, new_pid);
  g_assert_false (kefu_db_exec (f->conn, "INSERT INTO callbacks (id) VALUES (2)", NULL, 0,
                                NULL, &error));
  g_assert_error (error, KEFU_DB_ERROR, KEFU_DB_ERROR_CONNECT);
  g_assert_true (g_str_has_prefix (error->message, "PostgreSQL: "));
  g_clear_error (&error);
  kefu_db_rollback (f->conn);
  g_assert_cmpint (count_rows (f->conn, "callbacks"), ==, 0);

  kefu_db_release (f->db, killer);
}

static void
test_connect_failure (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KefuDb) db = NULL;
  g_autoptr(KefuDb) malformed = NULL;
  KefuDbConn *conn;

  db = kefu_db_pg_new ("host=/nonexistent/kefu-no-such-dir port=5432 user=postgres "
                       "password=hunter2-secret dbname=kefu_test");
  conn = kefu_db_acquire (db, &error);
  g_assert_null (conn);
  g_assert_error (error, KEFU_DB_ERROR, KEFU_DB_ERROR_CONNECT);
  g_assert_true (g_str_has_prefix (error->message, "PostgreSQL: "));
  g_assert_nonnull (strstr (error->message, "/nonexistent/kefu-no-such-dir"));
  g_assert_nonnull (strstr (error->message, "kefu_test"));
  g_assert_null (strstr (error->message, "hunter2"));
  g_clear_error (&error);

  malformed = kefu_db_pg_new ("host=/tmp password hunter2-secret");
  conn = kefu_db_acquire (malformed, &error);
  g_assert_null (conn);
  g_assert_error (error, KEFU_DB_ERROR, KEFU_DB_ERROR_CONNECT);
  g_assert_null (strstr (error->message, "hunter2"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  conninfo = g_getenv ("KEFU_TEST_PG");
  if (!conninfo || !*conninfo)
    {
      g_printerr ("KEFU_TEST_PG is not set: run this test through "
                  "tests/helpers/with-postgresql (meson test does)\n");
      return 1;
    }

#define ADD(path, func) \
  g_test_add ("/db-pg/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("dialect", test_dialect);
  ADD ("types", test_types);
  ADD ("text-verbatim", test_text_verbatim);
  ADD ("blob", test_blob);
  ADD ("placeholder-in-literal", test_placeholder_in_literal);
  ADD ("rows-and-early-stop", test_rows_and_early_stop);
  ADD ("changes", test_changes);
  ADD ("constraint", test_constraint);
  ADD ("syntax-error", test_syntax_error);
  ADD ("exec-script", test_exec_script);
  ADD ("transactions", test_transactions);
  ADD ("busy", test_busy);
  ADD ("threads", test_threads);
  ADD ("large-scan", test_large_scan);
  ADD ("callback-reentry", test_callback_reentry);
  ADD ("reconnect", test_reconnect);
  g_test_add_func ("/db-pg/connect-failure", test_connect_failure);

#undef ADD

  return g_test_run ();
}
