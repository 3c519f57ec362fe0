/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuDbSqlite"

#include "kefu-db-sqlite.h"

#include <sqlite3.h>

struct _KefuDbSqlite {
  KefuDb  parent_instance;

  char   *path;
};

G_DEFINE_FINAL_TYPE (KefuDbSqlite, kefu_db_sqlite, KEFU_TYPE_DB)

typedef struct {
  KefuDbConn  parent;
  sqlite3    *handle;
  GHashTable *statements;   /* sql text (borrowed from caller's literal) -> sqlite3_stmt* */
} SqliteConn;

typedef struct {
  KefuDbRow     parent;
  sqlite3_stmt *stmt;
} SqliteRow;

static void
set_error (GError  **error,
           sqlite3  *handle,
           int       rc,
           const char *sql)
{
  int code = KEFU_DB_ERROR_FAILED;

  switch (rc & 0xff)
    {
    case SQLITE_CONSTRAINT:
      code = KEFU_DB_ERROR_CONSTRAINT;
      break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      code = KEFU_DB_ERROR_BUSY;
      break;
    case SQLITE_CANTOPEN:
    case SQLITE_NOTADB:
    case SQLITE_PERM:
    case SQLITE_READONLY:
      code = KEFU_DB_ERROR_CONNECT;
      break;
    default:
      break;
    }
  g_set_error (error, KEFU_DB_ERROR, code, "SQLite: %s", handle ? sqlite3_errmsg (handle)
                                                                : sqlite3_errstr (rc));
  g_debug ("failed statement: %s", sql);
}

static void
finalize_stmt (gpointer data)
{
  sqlite3_finalize (data);
}

static void
sqlite_conn_close (KefuDbConn *conn)
{
  SqliteConn *self = (SqliteConn *) conn;

  g_hash_table_destroy (self->statements);
  sqlite3_close (self->handle);
  g_free (self);
}

static sqlite3_stmt *
prepare (SqliteConn  *self,
         const char  *sql,
         GError     **error)
{
  sqlite3_stmt *stmt = g_hash_table_lookup (self->statements, sql);
  int rc;

  if (stmt)
    {
      sqlite3_reset (stmt);
      sqlite3_clear_bindings (stmt);
      return stmt;
    }

  rc = sqlite3_prepare_v3 (self->handle, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
  if (rc != SQLITE_OK)
    {
      set_error (error, self->handle, rc, sql);
      return NULL;
    }
  /* Keyed by a copy: callers may build SQL at run time. */
  g_hash_table_insert (self->statements, g_strdup (sql), stmt);
  return stmt;
}

static gboolean
bind (SqliteConn        *self,
      sqlite3_stmt      *stmt,
      const KefuDbValue *params,
      guint              n_params,
      const char        *sql,
      GError           **error)
{
  if ((int) n_params != sqlite3_bind_parameter_count (stmt))
    {
      g_set_error (error, KEFU_DB_ERROR, KEFU_DB_ERROR_FAILED,
                   "statement wants %d parameters, got %u: %s",
                   sqlite3_bind_parameter_count (stmt), n_params, sql);
      return FALSE;
    }

  for (guint i = 0; i < n_params; i++)
    {
      const KefuDbValue *v = &params[i];
      int rc = SQLITE_OK;

      switch (v->type)
        {
        case KEFU_DB_NULL:
          rc = sqlite3_bind_null (stmt, i + 1);
          break;
        case KEFU_DB_INT:
          rc = sqlite3_bind_int64 (stmt, i + 1, v->i);
          break;
        case KEFU_DB_REAL:
          rc = sqlite3_bind_double (stmt, i + 1, v->d);
          break;
        case KEFU_DB_TEXT:
          rc = sqlite3_bind_text (stmt, i + 1, v->s, -1, SQLITE_STATIC);
          break;
        case KEFU_DB_BLOB:
          rc = sqlite3_bind_blob64 (stmt, i + 1, v->s, v->len, SQLITE_STATIC);
          break;
        default:
          g_assert_not_reached ();
        }
      if (rc != SQLITE_OK)
        {
          set_error (error, self->handle, rc, sql);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
sqlite_conn_exec (KefuDbConn        *conn,
                  const char        *sql,
                  const KefuDbValue *params,
                  guint              n_params,
                  gint64            *out_changes,
                  GError           **error)
{
  SqliteConn *self = (SqliteConn *) conn;
  sqlite3_stmt *stmt;
  int rc;

  /* A write transaction takes the lock up front: a deferred BEGIN that
   * later upgrades can deadlock with another writer and fail with BUSY. */
  if (g_str_equal (sql, "BEGIN"))
    sql = "BEGIN IMMEDIATE";

  stmt = prepare (self, sql, error);
  if (!stmt || !bind (self, stmt, params, n_params, sql, error))
    return FALSE;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    ;
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      set_error (error, self->handle, rc, sql);
      return FALSE;
    }
  if (out_changes)
    *out_changes = sqlite3_changes64 (self->handle);
  return TRUE;
}

static guint
row_n_columns (KefuDbRow *row)
{
  return sqlite3_column_count (((SqliteRow *) row)->stmt);
}

static gboolean
row_is_null (KefuDbRow *row,
             guint      col)
{
  return sqlite3_column_type (((SqliteRow *) row)->stmt, col) == SQLITE_NULL;
}

static const char *
row_text (KefuDbRow *row,
          guint      col)
{
  return (const char *) sqlite3_column_text (((SqliteRow *) row)->stmt, col);
}

static gint64
row_int (KefuDbRow *row,
         guint      col)
{
  return sqlite3_column_int64 (((SqliteRow *) row)->stmt, col);
}

static double
row_real (KefuDbRow *row,
          guint      col)
{
  return sqlite3_column_double (((SqliteRow *) row)->stmt, col);
}

static const guint8 *
row_blob (KefuDbRow *row,
          guint      col,
          gsize     *len)
{
  sqlite3_stmt *stmt = ((SqliteRow *) row)->stmt;
  const guint8 *data = sqlite3_column_blob (stmt, col);

  if (len)
    *len = sqlite3_column_bytes (stmt, col);
  return data;
}

static const KefuDbRowVTable row_vtable = {
  .n_columns = row_n_columns,
  .is_null = row_is_null,
  .text = row_text,
  .int64 = row_int,
  .real = row_real,
  .blob = row_blob,
};

static gboolean
sqlite_conn_query (KefuDbConn        *conn,
                   const char        *sql,
                   const KefuDbValue *params,
                   guint              n_params,
                   KefuDbRowFunc      func,
                   gpointer           user_data,
                   GError           **error)
{
  SqliteConn *self = (SqliteConn *) conn;
  SqliteRow row = { { &row_vtable }, NULL };
  int rc;

  row.stmt = prepare (self, sql, error);
  if (!row.stmt || !bind (self, row.stmt, params, n_params, sql, error))
    return FALSE;

  while ((rc = sqlite3_step (row.stmt)) == SQLITE_ROW)
    {
      if (!func ((KefuDbRow *) &row, user_data))
        {
          rc = SQLITE_DONE;
          break;
        }
    }
  sqlite3_reset (row.stmt);
  if (rc != SQLITE_DONE)
    {
      set_error (error, self->handle, rc, sql);
      return FALSE;
    }
  return TRUE;
}

static gboolean
sqlite_conn_exec_script (KefuDbConn  *conn,
                         const char  *sql,
                         GError     **error)
{
  SqliteConn *self = (SqliteConn *) conn;
  int rc = sqlite3_exec (self->handle, sql, NULL, NULL, NULL);

  if (rc != SQLITE_OK)
    {
      set_error (error, self->handle, rc, sql);
      return FALSE;
    }
  return TRUE;
}

static const KefuDbConnVTable conn_vtable = {
  .close = sqlite_conn_close,
  .exec = sqlite_conn_exec,
  .query = sqlite_conn_query,
  .exec_script = sqlite_conn_exec_script,
};

static KefuDbConn *
kefu_db_sqlite_connect (KefuDb  *db,
                        GError **error)
{
  KefuDbSqlite *self = KEFU_DB_SQLITE (db);
  SqliteConn *conn;
  sqlite3 *handle = NULL;
  int rc;

  rc = sqlite3_open_v2 (self->path, &handle,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, KEFU_DB_ERROR, KEFU_DB_ERROR_CONNECT,
                   "Cannot open database “%s”: %s", self->path,
                   handle ? sqlite3_errmsg (handle) : sqlite3_errstr (rc));
      sqlite3_close (handle);
      return NULL;
    }

  sqlite3_busy_timeout (handle, 10000);
  sqlite3_extended_result_codes (handle, 1);

  conn = g_new0 (SqliteConn, 1);
  conn->parent.vtable = &conn_vtable;
  conn->handle = handle;
  conn->statements = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, finalize_stmt);

  /* WAL lets readers run beside the one writer; NORMAL sync is durable
   * across application crashes, which is what an agent's typing needs. */
  if (!sqlite_conn_exec_script (&conn->parent,
                                "PRAGMA journal_mode=WAL;"
                                "PRAGMA synchronous=NORMAL;"
                                "PRAGMA foreign_keys=ON;"
                                "PRAGMA temp_store=MEMORY;", error))
    {
      g_prefix_error (error, "Cannot use database “%s”: ", self->path);
      sqlite_conn_close (&conn->parent);
      return NULL;
    }

  return &conn->parent;
}

static void
kefu_db_sqlite_finalize (GObject *object)
{
  KefuDbSqlite *self = KEFU_DB_SQLITE (object);

  G_OBJECT_CLASS (kefu_db_sqlite_parent_class)->finalize (object);
  g_free (self->path);
}

static void
kefu_db_sqlite_class_init (KefuDbSqliteClass *klass)
{
  KefuDbClass *db_class = KEFU_DB_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = kefu_db_sqlite_finalize;
  db_class->dialect = KEFU_DB_DIALECT_SQLITE;
  db_class->connect = kefu_db_sqlite_connect;
}

static void
kefu_db_sqlite_init (KefuDbSqlite *self)
{
}

KefuDb *
kefu_db_sqlite_new (const char *path)
{
  KefuDbSqlite *self = g_object_new (KEFU_TYPE_DB_SQLITE, NULL);

  self->path = g_strdup (path);
  return KEFU_DB (self);
}
