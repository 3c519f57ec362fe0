/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuDbPg"

#include "kefu-db-pg.h"

#include <poll.h>
#include <string.h>

#include <libpq-fe.h>

/* Built-in type OIDs are fixed by PostgreSQL's catalogue (pg_type.dat);
 * the server headers that name them are not part of the client package. */
#define PG_OID_BOOL  16
#define PG_OID_BYTEA 17

/* After the caller stops a read-only query early, this many more rows may
 * be read and dropped before the server is asked to cancel it.  Most early
 * stops (kefu_db_query_int and friends) come at the end of a result that
 * is already in the socket buffer, where a cancel request would only cost
 * an extra connection to the postmaster. */
#define DRAIN_ROWS_BEFORE_CANCEL 1000

struct _KefuDbPg {
  KefuDb  parent_instance;

  char   *conninfo;
};

G_DEFINE_FINAL_TYPE (KefuDbPg, kefu_db_pg, KEFU_TYPE_DB)

typedef struct {
  char     *name;        /* server-side prepared statement name */
  char     *text;        /* the SQL with `?` rewritten to $1..$n */
  guint     n_params;
  gboolean  read_only;   /* starts with SELECT or VALUES: a cancel loses nothing */
  gboolean  prepared;    /* exists on the server for this session */
} PgStatement;

typedef struct {
  KefuDbConn  parent;
  PGconn     *pg;
  GHashTable *statements;   /* sql text (owned copy) -> PgStatement* */
  guint       n_names;      /* names handed out on this connection */
  gboolean    stepping;     /* a query's rows are being handed to a callback */
} PgConn;

typedef struct {
  KefuDbRow   parent;
  PGresult   *result;
  int         index;
  /* bytea values decoded on demand; they live until the callback returns */
  guint8    **blobs;
  gsize      *blob_lens;
  int         n_blobs;
} PgRow;

/* Parameters in the arrays PQexecPrepared takes. */
typedef struct {
  const char **values;
  int         *lengths;
  int         *formats;
  char        *numbers;   /* text of INT and REAL values, NUMBER_LEN each */
} PgParams;

#define NUMBER_LEN G_ASCII_DTOSTR_BUF_SIZE

static void
pg_statement_free (gpointer data)
{
  PgStatement *stmt = data;

  g_free (stmt->name);
  g_free (stmt->text);
  g_free (stmt);
}

static const char *
skip_space_and_comments (const char *p)
{
  for (;;)
    {
      while (g_ascii_isspace (*p))
        p++;
      if (p[0] == '-' && p[1] == '-')
        {
          while (*p && *p != '\n')
            p++;
        }
      else if (p[0] == '/' && p[1] == '*')
        {
          const char *end = strstr (p + 2, "*/");

          p = end ? end + 2 : p + strlen (p);
        }
      else
        return p;
    }
}

static gboolean
starts_with_keyword (const char *p,
                     const char *keyword)
{
  gsize len = strlen (keyword);

  return g_ascii_strncasecmp (p, keyword, len) == 0
         && !g_ascii_isalnum (p[len]) && p[len] != '_';
}

/* Rewrites the store's `?` placeholders as PostgreSQL's $1..$n.  A `?`
 * inside a string literal, a quoted identifier or a comment is text, not a
 * parameter.  Literals are scanned the standard way (a doubled quote stays
 * inside; a backslash is an ordinary character), which the session
 * guarantees by turning standard_conforming_strings on. */
static char *
translate_placeholders (const char *sql,
                        guint      *out_n_params)
{
  GString *out = g_string_sized_new (strlen (sql) + 16);
  guint n = 0;
  const char *p = sql;

  while (*p)
    {
      if (*p == '\'' || *p == '"')
        {
          const char quote = *p;
          const char *end = strchr (p + 1, quote);

          /* An unterminated literal runs to the end; the server reports it. */
          end = end ? end + 1 : p + strlen (p);
          g_string_append_len (out, p, end - p);
          p = end;
        }
      else if (p[0] == '-' && p[1] == '-')
        {
          const char *end = strchr (p, '\n');

          end = end ? end : p + strlen (p);
          g_string_append_len (out, p, end - p);
          p = end;
        }
      else if (p[0] == '/' && p[1] == '*')
        {
          /* PostgreSQL nests block comments, so the scan must too. */
          const char *start = p;
          guint depth = 1;

          p += 2;
          while (*p && depth > 0)
            {
              if (p[0] == '/' && p[1] == '*')
                {
                  depth++;
                  p += 2;
                }
              else if (p[0] == '*' && p[1] == '/')
                {
                  depth--;
                  p += 2;
                }
              else
                p++;
            }
          g_string_append_len (out, start, p - start);
        }
      else if (*p == '?')
        {
          g_string_append_printf (out, "$%u", ++n);
          p++;
        }
      else
        {
          g_string_append_c (out, *p);
          p++;
        }
    }

  *out_n_params = n;
  return g_string_free (out, FALSE);
}

static const char *
describe_or (const char *value,
             const char *fallback)
{
  return value && *value ? value : fallback;
}

/* Turns a failed result (or a failed call, when result is NULL) into a
 * KefuDbError the store can act on: retry on BUSY, report a duplicate on
 * CONSTRAINT, give up on CONNECT. */
static void
set_error (GError         **error,
           PGconn          *pg,
           const PGresult  *result,
           const char      *sql)
{
  const char *sqlstate = result ? PQresultErrorField (result, PG_DIAG_SQLSTATE) : NULL;
  const char *primary = result ? PQresultErrorField (result, PG_DIAG_MESSAGE_PRIMARY) : NULL;
  g_autofree char *message = NULL;
  int code = KEFU_DB_ERROR_FAILED;

  /* Errors libpq raises itself (a lost connection) carry no fields. */
  if (primary)
    message = g_strdup (primary);
  else if (result && *PQresultErrorMessage (result))
    message = g_strdup (PQresultErrorMessage (result));
  else
    message = g_strdup (PQerrorMessage (pg));
  g_strstrip (message);
  if (!*message)
    {
      g_free (message);
      message = g_strdup ("unknown error");
    }

  if (sqlstate && g_str_has_prefix (sqlstate, "23"))
    code = KEFU_DB_ERROR_CONSTRAINT;
  else if (sqlstate && (g_str_equal (sqlstate, "40001")
                        || g_str_equal (sqlstate, "40P01")
                        || g_str_equal (sqlstate, "55P03")))
    code = KEFU_DB_ERROR_BUSY;
  else if ((sqlstate && g_str_has_prefix (sqlstate, "08")) || PQstatus (pg) != CONNECTION_OK)
    code = KEFU_DB_ERROR_CONNECT;

  g_set_error (error, KEFU_DB_ERROR, code, "PostgreSQL: %s", message);
  g_debug ("failed statement (SQLSTATE %s): %s", sqlstate ? sqlstate : "none", sql);
}

static void
on_server_notice (void           *user_data,
                  const PGresult *result)
{
  const char *severity = PQresultErrorField (result, PG_DIAG_SEVERITY_NONLOCALIZED);
  const char *message = PQresultErrorField (result, PG_DIAG_MESSAGE_PRIMARY);

  /* libpq's default prints to stderr; a server has a log instead.  The
   * session asks for WARNING and above only, so these are worth seeing. */
  if (severity && g_str_equal (severity, "WARNING"))
    g_message ("server warning: %s", message ? message : "");
  else
    g_debug ("server %s: %s", severity ? severity : "notice", message ? message : "");
}

static void
forget_prepared (gpointer key,
                 gpointer value,
                 gpointer user_data)
{
  ((PgStatement *) value)->prepared = FALSE;
}

/* Settings every session needs, after connecting and after a reset (a
 * reset starts a new server session and forgets SETs and statements). */
static gboolean
setup_session (PgConn  *self,
               GError **error)
{
  PGresult *result;
  gboolean ok;

  PQsetNoticeReceiver (self->pg, on_server_notice, NULL);
  g_hash_table_foreach (self->statements, forget_prepared, NULL);

  /* NOTICEs such as "relation already exists, skipping" from idempotent
   * migrations are noise.  Standard strings keep a backslash in '...' an
   * ordinary character, as SQLite reads it and as the `?` scan assumes. */
  result = PQexec (self->pg,
                   "SET client_min_messages = warning;"
                   "SET standard_conforming_strings = on");
  ok = PQresultStatus (result) == PGRES_COMMAND_OK;
  if (!ok)
    set_error (error, self->pg, result, "session setup");
  PQclear (result);
  return ok;
}

/* Makes sure the connection can take a statement.  A pooled connection can
 * die while idle (server restart, idle timeout, administrator); that is
 * only noticed by reading from it, so read whatever is pending first and
 * reconnect once if it is gone.  Inside a transaction a reconnect would
 * silently lose the work done so far, so that fails instead. */
static gboolean
ensure_usable (PgConn      *self,
               const char  *sql,
               GError     **error)
{
  if (self->stepping)
    {
      g_set_error (error, KEFU_DB_ERROR, KEFU_DB_ERROR_FAILED,
                   "PostgreSQL: connection is busy stepping through a query; "
                   "a row callback cannot use its own connection: %s", sql);
      return FALSE;
    }

  /* A session the server ended leaves its goodbye (an error message) and
   * then end-of-file in the socket; each read takes one of them.  An idle,
   * healthy connection has nothing to read and costs one poll. */
  for (guint i = 0; i < 4 && PQstatus (self->pg) == CONNECTION_OK; i++)
    {
      struct pollfd pfd = { .fd = PQsocket (self->pg), .events = POLLIN };

      if (poll (&pfd, 1, 0) <= 0 || !PQconsumeInput (self->pg))
        break;
    }
  if (PQstatus (self->pg) == CONNECTION_OK)
    return TRUE;

  if (self->parent.in_transaction)
    {
      g_autofree char *message = g_strstrip (g_strdup (PQerrorMessage (self->pg)));

      g_set_error (error, KEFU_DB_ERROR, KEFU_DB_ERROR_CONNECT,
                   "PostgreSQL: connection lost inside a transaction: %s", message);
      return FALSE;
    }

  g_debug ("connection to “%s” lost; reconnecting", describe_or (PQhost (self->pg), "?"));
  PQreset (self->pg);
  if (PQstatus (self->pg) != CONNECTION_OK)
    {
      g_autofree char *message = g_strstrip (g_strdup (PQerrorMessage (self->pg)));

      g_set_error (error, KEFU_DB_ERROR, KEFU_DB_ERROR_CONNECT,
                   "PostgreSQL: connection lost; cannot reconnect to “%s” on “%s”: %s",
                   describe_or (PQdb (self->pg), "?"), describe_or (PQhost (self->pg), "?"),
                   message);
      return FALSE;
    }
  return setup_session (self, error);
}

static PgStatement *
prepare (PgConn      *self,
         const char  *sql,
         guint        n_params,
         GError     **error)
{
  PgStatement *stmt = g_hash_table_lookup (self->statements, sql);

  if (!stmt)
    {
      stmt = g_new0 (PgStatement, 1);
      stmt->text = translate_placeholders (sql, &stmt->n_params);
      stmt->name = g_strdup_printf ("kefu_%u", ++self->n_names);
      stmt->read_only = starts_with_keyword (skip_space_and_comments (sql), "SELECT")
                        || starts_with_keyword (skip_space_and_comments (sql), "VALUES");
      /* Keyed by a copy: callers may build SQL at run time. */
      g_hash_table_insert (self->statements, g_strdup (sql), stmt);
    }

  if (stmt->n_params != n_params)
    {
      g_set_error (error, KEFU_DB_ERROR, KEFU_DB_ERROR_FAILED,
                   "statement wants %u parameters, got %u: %s", stmt->n_params, n_params, sql);
      return NULL;
    }

  if (!stmt->prepared)
    {
      /* No parameter types: the server infers each from where it is used,
       * as SQLite's dynamic typing lets the same SQL do. */
      PGresult *result = PQprepare (self->pg, stmt->name, stmt->text, 0, NULL);
      gboolean ok = PQresultStatus (result) == PGRES_COMMAND_OK;

      if (!ok)
        set_error (error, self->pg, result, sql);
      PQclear (result);
      if (!ok)
        return NULL;
      stmt->prepared = TRUE;
    }

  return stmt;
}

static void
pg_params_clear (PgParams *params)
{
  g_free (params->values);
  g_free (params->lengths);
  g_free (params->formats);
  g_free (params->numbers);
}

/* Text for everything but blobs, so the server converts to whatever type
 * it inferred; a blob goes as binary bytea so NUL bytes survive. */
static gboolean
pg_params_init (PgParams          *params,
                const KefuDbValue *values,
                guint              n_values,
                const char        *sql,
                GError           **error)
{
  params->values = g_new0 (const char *, n_values);
  params->lengths = g_new0 (int, n_values);
  params->formats = g_new0 (int, n_values);
  params->numbers = g_new (char, (gsize) n_values * NUMBER_LEN);

  for (guint i = 0; i < n_values; i++)
    {
      const KefuDbValue *v = &values[i];
      char *number = params->numbers + (gsize) i * NUMBER_LEN;

      switch (v->type)
        {
        case KEFU_DB_NULL:
          params->values[i] = NULL;
          break;
        case KEFU_DB_INT:
          g_snprintf (number, NUMBER_LEN, "%" G_GINT64_FORMAT, v->i);
          params->values[i] = number;
          break;
        case KEFU_DB_REAL:
          params->values[i] = g_ascii_dtostr (number, NUMBER_LEN, v->d);
          break;
        case KEFU_DB_TEXT:
          params->values[i] = v->s;
          break;
        case KEFU_DB_BLOB:
          if (v->len > G_MAXINT)
            {
              g_set_error (error, KEFU_DB_ERROR, KEFU_DB_ERROR_FAILED,
                           "PostgreSQL: blob parameter %u is too large (%" G_GSIZE_FORMAT
                           " bytes): %s", i + 1, v->len, sql);
              return FALSE;
            }
          /* Like SQLite, a blob with no data pointer is NULL. */
          params->values[i] = v->s;
          params->lengths[i] = (int) v->len;
          params->formats[i] = 1;
          break;
        default:
          g_assert_not_reached ();
        }
    }
  return TRUE;
}

static gboolean
is_transaction_control (const char *sql)
{
  return g_ascii_strcasecmp (sql, "BEGIN") == 0
         || g_ascii_strcasecmp (sql, "COMMIT") == 0
         || g_ascii_strcasecmp (sql, "ROLLBACK") == 0;
}

static gboolean
pg_conn_exec (KefuDbConn        *conn,
              const char        *sql,
              const KefuDbValue *params,
              guint              n_params,
              gint64            *out_changes,
              GError           **error)
{
  PgConn *self = (PgConn *) conn;
  PGresult *result;
  ExecStatusType status;
  gboolean ok;

  if (!ensure_usable (self, sql, error))
    return FALSE;

  if (n_params == 0 && is_transaction_control (sql))
    {
      /* Nothing to roll back when the server already ended the transaction
       * (a failed COMMIT, or a reconnect): a ROLLBACK would only draw a
       * "no transaction in progress" warning. */
      if (g_ascii_strcasecmp (sql, "ROLLBACK") == 0
          && PQtransactionStatus (self->pg) == PQTRANS_IDLE)
        return TRUE;
      result = PQexec (self->pg, sql);
    }
  else
    {
      PgStatement *stmt = prepare (self, sql, n_params, error);
      PgParams pg_params = { 0 };

      if (!stmt)
        return FALSE;
      if (!pg_params_init (&pg_params, params, n_params, sql, error))
        {
          pg_params_clear (&pg_params);
          return FALSE;
        }
      result = PQexecPrepared (self->pg, stmt->name, (int) n_params, pg_params.values,
                               pg_params.lengths, pg_params.formats, 0);
      pg_params_clear (&pg_params);
    }

  status = PQresultStatus (result);
  ok = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
  if (!ok)
    set_error (error, self->pg, result, sql);
  else if (g_ascii_strcasecmp (sql, "COMMIT") == 0
           && g_str_equal (PQcmdStatus (result), "ROLLBACK"))
    {
      /* PostgreSQL aborts the whole transaction on any error in it and then
       * answers COMMIT with a successful ROLLBACK; the caller must not
       * believe its writes were kept. */
      g_set_error (error, KEFU_DB_ERROR, KEFU_DB_ERROR_FAILED,
                   "PostgreSQL: transaction rolled back: a statement in it had failed");
      ok = FALSE;
    }
  else if (out_changes)
    *out_changes = g_ascii_strtoll (PQcmdTuples (result), NULL, 10);

  PQclear (result);
  return ok;
}

static gboolean
row_in_range (PgRow *row,
              guint  col)
{
  return col < (guint) PQnfields (row->result);
}

static guint
row_n_columns (KefuDbRow *row)
{
  return PQnfields (((PgRow *) row)->result);
}

static gboolean
row_is_null (KefuDbRow *row,
             guint      col)
{
  PgRow *self = (PgRow *) row;

  return !row_in_range (self, col) || PQgetisnull (self->result, self->index, col);
}

static const char *
row_text (KefuDbRow *row,
          guint      col)
{
  PgRow *self = (PgRow *) row;

  if (row_is_null (row, col))
    return NULL;
  return PQgetvalue (self->result, self->index, col);
}

static gint64
row_int (KefuDbRow *row,
         guint      col)
{
  PgRow *self = (PgRow *) row;
  const char *text = row_text (row, col);

  if (!text)
    return 0;
  /* The store keeps flags in integer columns; a boolean expression (an
   * EXISTS, a comparison) reads the same way SQLite would give it. */
  if (PQftype (self->result, col) == PG_OID_BOOL)
    return text[0] == 't' ? 1 : 0;
  return g_ascii_strtoll (text, NULL, 10);
}

static double
row_real (KefuDbRow *row,
          guint      col)
{
  const char *text = row_text (row, col);

  return text ? g_ascii_strtod (text, NULL) : 0.0;
}

static const guint8 *
row_blob (KefuDbRow *row,
          guint      col,
          gsize     *len)
{
  PgRow *self = (PgRow *) row;
  const char *text = row_text (row, col);

  if (len)
    *len = 0;
  if (!text)
    return NULL;

  /* Other types come back as their text, as SQLite gives a text column's
   * bytes to sqlite3_column_blob. */
  if (PQftype (self->result, col) != PG_OID_BYTEA)
    {
      if (len)
        *len = PQgetlength (self->result, self->index, col);
      return (const guint8 *) text;
    }

  if (!self->blobs)
    {
      self->n_blobs = PQnfields (self->result);
      self->blobs = g_new0 (guint8 *, self->n_blobs);
      self->blob_lens = g_new0 (gsize, self->n_blobs);
    }
  if (!self->blobs[col])
    {
      size_t decoded_len = 0;

      self->blobs[col] = PQunescapeBytea ((const unsigned char *) text, &decoded_len);
      if (!self->blobs[col])
        g_error ("PostgreSQL: cannot decode a bytea value (out of memory)");
      self->blob_lens[col] = decoded_len;
    }
  if (len)
    *len = self->blob_lens[col];
  return self->blobs[col];
}

static const KefuDbRowVTable row_vtable = {
  .n_columns = row_n_columns,
  .is_null = row_is_null,
  .text = row_text,
  .int64 = row_int,
  .real = row_real,
  .blob = row_blob,
};

static void
pg_row_forget_blobs (PgRow *self)
{
  for (int i = 0; i < self->n_blobs; i++)
    g_clear_pointer (&self->blobs[i], PQfreemem);
}

static void
cancel_running (PgConn *self)
{
  PGcancel *cancel = PQgetCancel (self->pg);
  char message[256];

  if (!cancel)
    return;
  if (!PQcancel (cancel, message, sizeof message))
    g_debug ("cannot cancel a query stopped early: %s", message);
  PQfreeCancel (cancel);
}

/* Rows come one at a time (single-row mode), so a long scan holds one row
 * in memory and a callback that stops early does not wait for the rest to
 * be materialised. */
static gboolean
pg_conn_query (KefuDbConn        *conn,
               const char        *sql,
               const KefuDbValue *params,
               guint              n_params,
               KefuDbRowFunc      func,
               gpointer           user_data,
               GError           **error)
{
  PgConn *self = (PgConn *) conn;
  PgStatement *stmt;
  PgParams pg_params = { 0 };
  PgRow row = { { &row_vtable }, NULL, 0, NULL, NULL, 0 };
  PGresult *result;
  gboolean sent;
  gboolean ok = TRUE;
  gboolean stopped = FALSE;
  gboolean may_cancel;
  gboolean cancelled = FALSE;
  guint drained = 0;

  if (!ensure_usable (self, sql, error))
    return FALSE;
  stmt = prepare (self, sql, n_params, error);
  if (!stmt)
    return FALSE;
  if (!pg_params_init (&pg_params, params, n_params, sql, error))
    {
      pg_params_clear (&pg_params);
      return FALSE;
    }

  /* A cancelled statement fails, so only one that changes nothing may be
   * cancelled, and never inside a transaction, which the failure would
   * abort. */
  may_cancel = stmt->read_only && PQtransactionStatus (self->pg) == PQTRANS_IDLE;

  sent = PQsendQueryPrepared (self->pg, stmt->name, (int) n_params, pg_params.values,
                              pg_params.lengths, pg_params.formats, 0);
  pg_params_clear (&pg_params);
  if (!sent)
    {
      set_error (error, self->pg, NULL, sql);
      return FALSE;
    }
  /* Should this fail, whole results arrive instead; the loop takes both. */
  if (!PQsetSingleRowMode (self->pg))
    g_debug ("single-row mode refused; result will be materialised: %s", sql);

  self->stepping = TRUE;
  /* Always read to the end: the connection takes no new statement until
   * the last result of this one is consumed. */
  while ((result = PQgetResult (self->pg)))
    {
      switch (PQresultStatus (result))
        {
        case PGRES_SINGLE_TUPLE:
        case PGRES_TUPLES_OK:
          for (int i = 0; i < PQntuples (result); i++)
            {
              if (stopped)
                {
                  drained++;
                  continue;
                }
              row.result = result;
              row.index = i;
              if (!func ((KefuDbRow *) &row, user_data))
                stopped = TRUE;
              pg_row_forget_blobs (&row);
            }
          if (stopped && may_cancel && !cancelled && drained >= DRAIN_ROWS_BEFORE_CANCEL)
            {
              cancel_running (self);
              cancelled = TRUE;
            }
          break;

        case PGRES_COMMAND_OK:
        case PGRES_EMPTY_QUERY:
          break;

        default:
          {
            const char *sqlstate = PQresultErrorField (result, PG_DIAG_SQLSTATE);

            /* Our own cancel is how a stopped scan ends, not a failure. */
            if (cancelled && sqlstate && g_str_equal (sqlstate, "57014"))
              break;
            /* Report the first error; a later one only follows from it. */
            if (ok)
              set_error (error, self->pg, result, sql);
            ok = FALSE;
          }
          break;
        }
      PQclear (result);
    }
  self->stepping = FALSE;

  g_free (row.blobs);
  g_free (row.blob_lens);
  return ok;
}

static gboolean
pg_conn_exec_script (KefuDbConn  *conn,
                     const char  *sql,
                     GError     **error)
{
  PgConn *self = (PgConn *) conn;
  PGresult *result;
  ExecStatusType status;
  gboolean ok;

  if (!ensure_usable (self, sql, error))
    return FALSE;

  /* The simple protocol runs several statements in one call; outside an
   * explicit transaction they run as one, so a migration applies whole or
   * not at all. */
  result = PQexec (self->pg, sql);
  status = PQresultStatus (result);
  ok = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY;
  if (!ok)
    set_error (error, self->pg, result, sql);
  PQclear (result);
  return ok;
}

static void
pg_conn_close (KefuDbConn *conn)
{
  PgConn *self = (PgConn *) conn;

  g_hash_table_destroy (self->statements);
  PQfinish (self->pg);
  g_free (self);
}

static const KefuDbConnVTable conn_vtable = {
  .close = pg_conn_close,
  .exec = pg_conn_exec,
  .query = pg_conn_query,
  .exec_script = pg_conn_exec_script,
};

static KefuDbConn *
kefu_db_pg_connect (KefuDb  *db,
                    GError **error)
{
  KefuDbPg *self = KEFU_DB_PG (db);
  /* The conninfo is expanded where "dbname" stands and later keywords win:
   * it may override the defaults before it (a pool must not hang forever
   * on a dead host), but not the encoding after it, as the store only ever
   * speaks UTF-8. */
  const char * const keywords[] = {
    "connect_timeout", "fallback_application_name", "dbname", "client_encoding", NULL
  };
  const char * const values[] = { "10", "kefu", self->conninfo, "UTF8", NULL };
  PQconninfoOption *parsed;
  char *parse_error = NULL;
  PgConn *conn;
  PGconn *pg;

  /* libpq's parse errors quote the offending text, which could be a
   * password; say only that the string is malformed. */
  parsed = PQconninfoParse (self->conninfo, &parse_error);
  if (!parsed)
    {
      PQfreemem (parse_error);
      g_set_error (error, KEFU_DB_ERROR, KEFU_DB_ERROR_CONNECT,
                   "PostgreSQL: the connection string is malformed");
      return NULL;
    }
  PQconninfoFree (parsed);

  pg = PQconnectdbParams (keywords, values, TRUE);
  if (PQstatus (pg) != CONNECTION_OK)
    {
      g_autofree char *message = g_strdup (PQerrorMessage (pg));

      /* PQdb, PQhost and PQport name the target as libpq resolved it,
       * defaults included, and never carry the password. */
      g_set_error (error, KEFU_DB_ERROR, KEFU_DB_ERROR_CONNECT,
                   "PostgreSQL: cannot connect to database “%s” on “%s” port %s: %s",
                   describe_or (PQdb (pg), "(default)"), describe_or (PQhost (pg), "(default)"),
                   describe_or (PQport (pg), "(default)"), g_strstrip (message));
      PQfinish (pg);
      return NULL;
    }

  conn = g_new0 (PgConn, 1);
  conn->parent.vtable = &conn_vtable;
  conn->pg = pg;
  conn->statements = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, pg_statement_free);

  if (!setup_session (conn, error))
    {
      pg_conn_close (&conn->parent);
      return NULL;
    }

  return &conn->parent;
}

static void
kefu_db_pg_finalize (GObject *object)
{
  KefuDbPg *self = KEFU_DB_PG (object);

  G_OBJECT_CLASS (kefu_db_pg_parent_class)->finalize (object);
  g_free (self->conninfo);
}

static void
kefu_db_pg_class_init (KefuDbPgClass *klass)
{
  KefuDbClass *db_class = KEFU_DB_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = kefu_db_pg_finalize;
  db_class->dialect = KEFU_DB_DIALECT_POSTGRESQL;
  db_class->connect = kefu_db_pg_connect;
}

static void
kefu_db_pg_init (KefuDbPg *self)
{
}

KefuDb *
kefu_db_pg_new (const char *conninfo)
{
  KefuDbPg *self;

  g_return_val_if_fail (conninfo != NULL, NULL);

  self = g_object_new (KEFU_TYPE_DB_PG, NULL);
  self->conninfo = g_strdup (conninfo);
  return KEFU_DB (self);
}
