/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuDb"

#include "kefu-db.h"

typedef struct {
  GMutex  lock;
  GQueue  idle;      /* KefuDbConn*, owned */
} KefuDbPrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (KefuDb, kefu_db, G_TYPE_OBJECT)

G_DEFINE_QUARK (kefu-db-error-quark, kefu_db_error)

static void
kefu_db_finalize (GObject *object)
{
  KefuDb *self = KEFU_DB (object);
  KefuDbPrivate *priv = kefu_db_get_instance_private (self);
  KefuDbConn *conn;

  while ((conn = g_queue_pop_head (&priv->idle)))
    conn->vtable->close (conn);
  g_mutex_clear (&priv->lock);

  G_OBJECT_CLASS (kefu_db_parent_class)->finalize (object);
}

static void
kefu_db_class_init (KefuDbClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = kefu_db_finalize;
}

static void
kefu_db_init (KefuDb *self)
{
  KefuDbPrivate *priv = kefu_db_get_instance_private (self);

  g_mutex_init (&priv->lock);
  g_queue_init (&priv->idle);
}

KefuDbDialect
kefu_db_get_dialect (KefuDb *self)
{
  g_return_val_if_fail (KEFU_IS_DB (self), KEFU_DB_DIALECT_SQLITE);
  return KEFU_DB_GET_CLASS (self)->dialect;
}

KefuDbConn *
kefu_db_acquire (KefuDb  *self,
                 GError **error)
{
  KefuDbPrivate *priv = kefu_db_get_instance_private (self);
  KefuDbConn *conn;

  g_mutex_lock (&priv->lock);
  conn = g_queue_pop_head (&priv->idle);
  g_mutex_unlock (&priv->lock);

  if (conn)
    return conn;

  /* No idle connection: open one more.  The pool grows to the number of
   * threads that use the store at once, which the caller's worker pool
   * bounds. */
  return KEFU_DB_GET_CLASS (self)->connect (self, error);
}

void
kefu_db_release (KefuDb     *self,
                 KefuDbConn *conn)
{
  KefuDbPrivate *priv = kefu_db_get_instance_private (self);

  if (!conn)
    return;

  if (conn->in_transaction)
    {
      g_warning ("connection released inside a transaction; rolling back");
      kefu_db_rollback (conn);
    }

  g_mutex_lock (&priv->lock);
  g_queue_push_head (&priv->idle, conn);
  g_mutex_unlock (&priv->lock);
}

gboolean
kefu_db_exec (KefuDbConn        *conn,
              const char        *sql,
              const KefuDbValue *params,
              guint              n_params,
              gint64            *out_changes,
              GError           **error)
{
  return conn->vtable->exec (conn, sql, params, n_params, out_changes, error);
}

gboolean
kefu_db_query (KefuDbConn        *conn,
               const char        *sql,
               const KefuDbValue *params,
               guint              n_params,
               KefuDbRowFunc      func,
               gpointer           user_data,
               GError           **error)
{
  return conn->vtable->query (conn, sql, params, n_params, func, user_data, error);
}

gboolean
kefu_db_exec_script (KefuDbConn  *conn,
                     const char  *sql,
                     GError     **error)
{
  return conn->vtable->exec_script (conn, sql, error);
}

typedef struct {
  gboolean  found;
  gint64    value;
  char     *text;
} FirstValue;

static gboolean
on_first_int (KefuDbRow *row,
              gpointer   user_data)
{
  FirstValue *first = user_data;

  first->found = !kefu_db_row_is_null (row, 0);
  first->value = kefu_db_row_int (row, 0);
  return FALSE;
}

static gboolean
on_first_text (KefuDbRow *row,
               gpointer   user_data)
{
  FirstValue *first = user_data;

  first->found = !kefu_db_row_is_null (row, 0);
  first->text = g_strdup (kefu_db_row_text (row, 0));
  return FALSE;
}

/* Returns TRUE and sets *out_value when a non-NULL value was found; FALSE
 * with no error when there was no row. */
gboolean
kefu_db_query_int (KefuDbConn        *conn,
                   const char        *sql,
                   const KefuDbValue *params,
                   guint              n_params,
                   gint64            *out_value,
                   GError           **error)
{
  FirstValue first = { 0 };

  if (!kefu_db_query (conn, sql, params, n_params, on_first_int, &first, error))
    return FALSE;
  if (out_value)
    *out_value = first.value;
  return first.found;
}

char *
kefu_db_query_text (KefuDbConn        *conn,
                    const char        *sql,
                    const KefuDbValue *params,
                    guint              n_params,
                    GError           **error)
{
  FirstValue first = { 0 };

  if (!kefu_db_query (conn, sql, params, n_params, on_first_text, &first, error))
    return NULL;
  return first.text;
}

gboolean
kefu_db_begin (KefuDbConn  *conn,
               GError     **error)
{
  g_return_val_if_fail (!conn->in_transaction, FALSE);

  if (!conn->vtable->exec (conn, "BEGIN", NULL, 0, NULL, error))
    return FALSE;
  conn->in_transaction = TRUE;
  return TRUE;
}

gboolean
kefu_db_commit (KefuDbConn  *conn,
                GError     **error)
{
  g_return_val_if_fail (conn->in_transaction, FALSE);

  if (!conn->vtable->exec (conn, "COMMIT", NULL, 0, NULL, error))
    {
      kefu_db_rollback (conn);
      return FALSE;
    }
  conn->in_transaction = FALSE;
  return TRUE;
}

void
kefu_db_rollback (KefuDbConn *conn)
{
  g_autoptr(GError) error = NULL;

  if (!conn->in_transaction)
    return;
  conn->in_transaction = FALSE;
  if (!conn->vtable->exec (conn, "ROLLBACK", NULL, 0, NULL, &error))
    g_debug ("rollback: %s", error->message);
}

guint
kefu_db_row_n_columns (KefuDbRow *row)
{
  return row->vtable->n_columns (row);
}

gboolean
kefu_db_row_is_null (KefuDbRow *row,
                     guint      col)
{
  return row->vtable->is_null (row, col);
}

const char *
kefu_db_row_text (KefuDbRow *row,
                  guint      col)
{
  return row->vtable->text (row, col);
}

gint64
kefu_db_row_int (KefuDbRow *row,
                 guint      col)
{
  return row->vtable->int64 (row, col);
}

double
kefu_db_row_real (KefuDbRow *row,
                  guint      col)
{
  return row->vtable->real (row, col);
}

const guint8 *
kefu_db_row_blob (KefuDbRow *row,
                  guint      col,
                  gsize     *len)
{
  return row->vtable->blob (row, col, len);
}
