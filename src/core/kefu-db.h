/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * KefuDb: the one SQL seam under the store.  The store writes its SQL once,
 * in the subset SQLite and PostgreSQL both speak, with `?` placeholders;
 * each backend (KefuDbSqlite here, KefuDbPg in the server) translates and
 * runs it.  A KefuDb is a pool: any thread may acquire a connection, use it
 * (transactions included) and release it.  Connections never cross threads
 * while acquired.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define KEFU_DB_ERROR (kefu_db_error_quark ())
GQuark kefu_db_error_quark (void);

typedef enum {
  KEFU_DB_ERROR_FAILED,
  KEFU_DB_ERROR_CONNECT,     /* cannot open / reach the database */
  KEFU_DB_ERROR_CONSTRAINT,  /* unique / foreign key / check violated */
  KEFU_DB_ERROR_BUSY,        /* locked or serialisation failure: retry */
} KefuDbError;

typedef enum {
  KEFU_DB_DIALECT_SQLITE,
  KEFU_DB_DIALECT_POSTGRESQL,
} KefuDbDialect;

typedef enum {
  KEFU_DB_NULL,
  KEFU_DB_INT,
  KEFU_DB_REAL,
  KEFU_DB_TEXT,
  KEFU_DB_BLOB,
} KefuDbType;

/* A bound parameter.  Strings and blobs are borrowed for the call. */
typedef struct {
  KefuDbType   type;
  gint64       i;
  double       d;
  const char  *s;
  gsize        len;   /* BLOB only */
} KefuDbValue;

#define KEFU_DB_V_NULL       ((KefuDbValue) { .type = KEFU_DB_NULL })
#define KEFU_DB_V_INT(v)     ((KefuDbValue) { .type = KEFU_DB_INT, .i = (v) })
#define KEFU_DB_V_REAL(v)    ((KefuDbValue) { .type = KEFU_DB_REAL, .d = (v) })
#define KEFU_DB_V_TEXT(v)    ((KefuDbValue) { .type = (v) ? KEFU_DB_TEXT : KEFU_DB_NULL, .s = (v) })
#define KEFU_DB_V_BLOB(p, n) ((KefuDbValue) { .type = KEFU_DB_BLOB, .s = (const char *) (p), .len = (n) })

typedef struct _KefuDbConn KefuDbConn;
typedef struct _KefuDbRow  KefuDbRow;

/* One row while a query steps; valid only inside the callback. */
guint        kefu_db_row_n_columns (KefuDbRow *row);
gboolean     kefu_db_row_is_null   (KefuDbRow *row, guint col);
const char  *kefu_db_row_text      (KefuDbRow *row, guint col);   /* NULL when NULL */
gint64       kefu_db_row_int       (KefuDbRow *row, guint col);   /* 0 when NULL */
double       kefu_db_row_real      (KefuDbRow *row, guint col);   /* 0 when NULL */
const guint8 *kefu_db_row_blob     (KefuDbRow *row, guint col, gsize *len);

/* Return FALSE to stop stepping early (not an error). */
typedef gboolean (*KefuDbRowFunc) (KefuDbRow *row, gpointer user_data);

/* What a backend implements for one connection. */
typedef struct {
  void      (*close)       (KefuDbConn *conn);
  gboolean  (*exec)        (KefuDbConn *conn, const char *sql, const KefuDbValue *params,
                            guint n_params, gint64 *out_changes, GError **error);
  gboolean  (*query)       (KefuDbConn *conn, const char *sql, const KefuDbValue *params,
                            guint n_params, KefuDbRowFunc func, gpointer user_data,
                            GError **error);
  /* runs a script of several statements, no parameters (migrations) */
  gboolean  (*exec_script) (KefuDbConn *conn, const char *sql, GError **error);
} KefuDbConnVTable;

typedef struct {
  guint         (*n_columns) (KefuDbRow *row);
  gboolean      (*is_null)   (KefuDbRow *row, guint col);
  const char   *(*text)      (KefuDbRow *row, guint col);
  gint64        (*int64)     (KefuDbRow *row, guint col);
  double        (*real)      (KefuDbRow *row, guint col);
  const guint8 *(*blob)      (KefuDbRow *row, guint col, gsize *len);
} KefuDbRowVTable;

/* Backends embed these as their first member. */
struct _KefuDbConn {
  const KefuDbConnVTable *vtable;
  guint                   in_transaction : 1;
};
struct _KefuDbRow {
  const KefuDbRowVTable *vtable;
};

#define KEFU_TYPE_DB (kefu_db_get_type ())
G_DECLARE_DERIVABLE_TYPE (KefuDb, kefu_db, KEFU, DB, GObject)

struct _KefuDbClass {
  GObjectClass parent_class;

  KefuDbDialect  dialect;
  /* open a new connection; called by the pool when none is free */
  KefuDbConn    *(*connect) (KefuDb *self, GError **error);
};

KefuDbDialect kefu_db_get_dialect (KefuDb *self);

KefuDbConn   *kefu_db_acquire     (KefuDb *self, GError **error) G_GNUC_WARN_UNUSED_RESULT;
void          kefu_db_release     (KefuDb *self, KefuDbConn *conn);

gboolean      kefu_db_exec        (KefuDbConn *conn, const char *sql,
                                   const KefuDbValue *params, guint n_params,
                                   gint64 *out_changes, GError **error);
gboolean      kefu_db_query       (KefuDbConn *conn, const char *sql,
                                   const KefuDbValue *params, guint n_params,
                                   KefuDbRowFunc func, gpointer user_data, GError **error);
gboolean      kefu_db_exec_script (KefuDbConn *conn, const char *sql, GError **error);

/* Convenience on top of query: first column of first row. */
gboolean      kefu_db_query_int   (KefuDbConn *conn, const char *sql,
                                   const KefuDbValue *params, guint n_params,
                                   gint64 *out_value, GError **error);
char         *kefu_db_query_text  (KefuDbConn *conn, const char *sql,
                                   const KefuDbValue *params, guint n_params,
                                   GError **error) G_GNUC_WARN_UNUSED_RESULT;

gboolean      kefu_db_begin       (KefuDbConn *conn, GError **error);
gboolean      kefu_db_commit      (KefuDbConn *conn, GError **error);
void          kefu_db_rollback    (KefuDbConn *conn);


G_END_DECLS
