/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuStore"

#include "config.h"

#include "kefu-store.h"
#include "kefu-store-private.h"
#include "kefu-store-schema.h"
#include "kefu-phone-number.h"
#include "kefu-time.h"

#include <string.h>

/* Everything after this code point sorts after any text that starts with
 * the prefix, so [prefix, prefix + this) is "starts with prefix". */
#define PREFIX_END "\xf4\x8f\xbf\xbf"

struct _KefuStore {
  GObject  parent_instance;

  /* owned */
  KefuDb  *db;
  char    *default_country;
  /* SQLite has one writer; writers of this process queue here rather than
   * in SQLite's busy handler, whose sleeps of up to 100 ms would be every
   * contended write's latency. */
  GMutex   write_lock;
};

G_DEFINE_FINAL_TYPE (KefuStore, kefu_store, G_TYPE_OBJECT)

G_DEFINE_QUARK (kefu-store-error-quark, kefu_store_error)

/* How each kind of record is kept: a JSON document plus the columns that
 * are searched or joined on, copied out of the document. */
typedef struct {
  const KefuRecordKind *kind;
  const char           *table;
  gboolean              text_id;      /* calls: the switch names them */
  const char * const   *columns;      /* doc members mirrored in columns */
  const char           *order_by;
} EntitySpec;

static const char * const customer_columns[] = { "account_number", NULL };
static const char * const contact_columns[] = { "customer_id", NULL };
static const char * const case_columns[] = { "customer_id", "call_id", "status", "assignee",
                                             "category", NULL };
static const char * const call_columns[] = { "queue", "agent", "caller", "customer_id", NULL };
static const char * const fax_columns[] = { "customer_id", "call_id", NULL };
static const char * const agent_columns[] = { "username", "role", NULL };
static const char * const queue_columns[] = { "name", NULL };
static const char * const callback_columns[] = { "status", "queue", "assignee", "customer_id",
                                                 "call_id", NULL };

static const EntitySpec specs[] = {
  { &kefu_record_customer, "customers", FALSE, customer_columns, "name_key, id" },
  { &kefu_record_contact, "contacts", FALSE, contact_columns, "id" },
  { &kefu_record_case, "cases", FALSE, case_columns, "id DESC" },
  { &kefu_record_call, "calls", TRUE, call_columns, "created_at DESC, id" },
  { &kefu_record_fax, "faxes", FALSE, fax_columns, "id DESC" },
  { &kefu_record_agent, "agents", FALSE, agent_columns, "username" },
  { &kefu_record_queue, "queues", FALSE, queue_columns, "name" },
  { &kefu_record_callback, "callbacks", FALSE, callback_columns, "id" },
};

static const EntitySpec *
spec_for (const KefuRecordKind *kind)
{
  for (guint i = 0; i < G_N_ELEMENTS (specs); i++)
    if (specs[i].kind == kind)
      return &specs[i];
  g_return_val_if_reached (NULL);
}

void
kefu_write_result_clear (KefuWriteResult *result)
{
  g_clear_pointer (&result->record, json_object_unref);
  result->replayed = FALSE;
}

void
kefu_session_free (KefuSession *session)
{
  if (!session)
    return;
  g_free (session->username);
  g_free (session->role);
  g_free (session);
}

static void
kefu_store_finalize (GObject *object)
{
  KefuStore *self = KEFU_STORE (object);

  g_clear_object (&self->db);
  g_free (self->default_country);
  g_mutex_clear (&self->write_lock);

  G_OBJECT_CLASS (kefu_store_parent_class)->finalize (object);
}

static void
kefu_store_class_init (KefuStoreClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = kefu_store_finalize;
}

static void
kefu_store_init (KefuStore *self)
{
  g_mutex_init (&self->write_lock);
}

KefuStore *
kefu_store_new (KefuDb     *db,
                const char *default_country)
{
  KefuStore *self = g_object_new (KEFU_TYPE_STORE, NULL);

  self->db = g_object_ref (db);
  self->default_country = g_strdup (default_country ? default_country : "CN");
  return self;
}

KefuDb *
kefu_store_get_db (KefuStore *self)
{
  return self->db;
}

const char *
kefu_store_get_default_country (KefuStore *self)
{
  return self->default_country;
}

/* --- connections and transactions ------------------------------------- */

static gboolean
serialises_writers (KefuStore *self)
{
  return kefu_db_get_dialect (self->db) == KEFU_DB_DIALECT_SQLITE;
}

KefuDbConn *
kefu_store_begin_write (KefuStore  *self,
             GError    **error)
{
  KefuDbConn *conn = kefu_db_acquire (self->db, error);

  if (!conn)
    return NULL;
  if (serialises_writers (self))
    g_mutex_lock (&self->write_lock);
  if (!kefu_db_begin (conn, error))
    {
      if (serialises_writers (self))
        g_mutex_unlock (&self->write_lock);
      kefu_db_release (self->db, conn);
      return NULL;
    }
  /* PostgreSQL hands out sequence numbers before commit, so two writers
   * could commit their change-feed rows out of order and a client reading
   * the feed between them would skip one for ever.  Writers take turns;
   * SQLite's single writer already does. */
  if (kefu_db_get_dialect (self->db) == KEFU_DB_DIALECT_POSTGRESQL &&
      !kefu_db_exec (conn, "SELECT pg_advisory_xact_lock(7011)", NULL, 0, NULL, error))
    {
      kefu_db_rollback (conn);
      kefu_db_release (self->db, conn);
      return NULL;
    }
  return conn;
}

gboolean
kefu_store_end_write (KefuStore   *self,
           KefuDbConn  *conn,
           gboolean     ok,
           GError     **error)
{
  if (ok)
    ok = kefu_db_commit (conn, error);
  else
    kefu_db_rollback (conn);
  if (serialises_writers (self))
    g_mutex_unlock (&self->write_lock);
  kefu_db_release (self->db, conn);
  return ok;
}

/* --- migrations ---------------------------------------------------------- */

static char *
render_schema (KefuStore  *self,
               const char *sql)
{
  gboolean pg = kefu_db_get_dialect (self->db) == KEFU_DB_DIALECT_POSTGRESQL;
  GString *out = g_string_new (sql);

  g_string_replace (out, "@ID@", pg ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT", 0);
  g_string_replace (out, "@INT@", pg ? "BIGINT" : "INTEGER", 0);
  g_string_replace (out, "@REAL@", pg ? "DOUBLE PRECISION" : "REAL", 0);
  g_string_replace (out, "@KEY@", pg ? "TEXT COLLATE \"C\"" : "TEXT", 0);
  g_string_replace (out, "@BLOB@", pg ? "BYTEA" : "BLOB", 0);
  return g_string_free (out, FALSE);
}

static gboolean
read_version (KefuStore   *self,
              KefuDbConn  *conn,
              gint64      *out_version,
              GError     **error)
{
  *out_version = 0;
  if (kefu_db_get_dialect (self->db) == KEFU_DB_DIALECT_SQLITE)
    {
      g_autoptr(GError) local_error = NULL;

      if (!kefu_db_query_int (conn, "PRAGMA user_version", NULL, 0, out_version, &local_error) &&
          local_error)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      return TRUE;
    }

  if (!kefu_db_exec (conn, "CREATE TABLE IF NOT EXISTS kefu_schema (version BIGINT NOT NULL)",
                     NULL, 0, NULL, error))
    return FALSE;
  {
    g_autoptr(GError) local_error = NULL;

    if (!kefu_db_query_int (conn, "SELECT max(version) FROM kefu_schema", NULL, 0, out_version,
                            &local_error) && local_error)
      {
        g_propagate_error (error, g_steal_pointer (&local_error));
        return FALSE;
      }
  }
  return TRUE;
}

gint64
kefu_store_schema_version (KefuStore  *self,
                           GError    **error)
{
  KefuDbConn *conn = kefu_db_acquire (self->db, error);
  gint64 version = -1;

  if (!conn)
    return -1;
  if (!read_version (self, conn, &version, error))
    version = -1;
  kefu_db_release (self->db, conn);
  return version;
}

gboolean
kefu_store_migrate (KefuStore  *self,
                    GError    **error)
{
  KefuDbConn *conn = kefu_store_begin_write (self, error);
  gint64 version;
  gboolean ok = TRUE;

  if (!conn)
    return FALSE;

  if (!read_version (self, conn, &version, error))
    return kefu_store_end_write (self, conn, FALSE, NULL);

  if (version > KEFU_STORE_SCHEMA_VERSION)
    {
      g_set_error (error, KEFU_STORE_ERROR, KEFU_STORE_ERROR_SCHEMA,
                   "The database has schema version %" G_GINT64_FORMAT
                   ", newer than this Kefu knows (%d); upgrade Kefu before using it",
                   version, KEFU_STORE_SCHEMA_VERSION);
      return kefu_store_end_write (self, conn, FALSE, NULL);
    }

  for (gint64 v = version; ok && v < KEFU_STORE_SCHEMA_VERSION; v++)
    {
      g_autofree char *sql = render_schema (self, kefu_store_migrations[v]);
      g_autofree char *mark = NULL;

      g_info ("migrating the store to schema version %" G_GINT64_FORMAT, v + 1);
      ok = kefu_db_exec_script (conn, sql, error);
      if (!ok)
        {
          g_prefix_error (error, "Migration to schema version %" G_GINT64_FORMAT " failed: ", v + 1);
          break;
        }
      if (kefu_db_get_dialect (self->db) == KEFU_DB_DIALECT_SQLITE)
        mark = g_strdup_printf ("PRAGMA user_version = %" G_GINT64_FORMAT, v + 1);
      else
        mark = g_strdup_printf ("INSERT INTO kefu_schema (version) VALUES (%" G_GINT64_FORMAT ")",
                                v + 1);
      ok = kefu_db_exec_script (conn, mark, error);
    }

  return kefu_store_end_write (self, conn, ok, error);
}

/* --- documents ------------------------------------------------------------ */

JsonObject *
kefu_store_parse_object (const char *text)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  JsonNode *root;

  if (!text || !json_parser_load_from_data (parser, text, -1, NULL))
    return json_object_new ();
  root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root))
    return json_object_new ();
  return json_object_ref (json_node_get_object (root));
}

void
kefu_store_set_time_member (JsonObject *object,
                 const char *member,
                 gint64      ms)
{
  g_autofree char *text = kefu_time_format_ms (ms);

  json_object_set_string_member (object, member, text);
}

#define SELECT_COLUMNS "id, version, created_at, updated_at, doc"
#define AGENT_EXTRA_COLUMNS ", state, state_reason, state_since"

static void add_case_notes (KefuDbConn *conn, JsonObject *record, gint64 case_id);

/* Columns as SELECT_COLUMNS (+ agent extras) give them. */
static JsonObject *
record_from_row (const EntitySpec *spec,
                 KefuDbRow        *row)
{
  JsonObject *record = kefu_store_parse_object (kefu_db_row_text (row, 4));

  /* The document never holds the server's own fields; they come from
   * columns, so a client cannot forge them. */
  if (spec->text_id)
    json_object_set_string_member (record, "id", kefu_db_row_text (row, 0));
  else
    json_object_set_int_member (record, "id", kefu_db_row_int (row, 0));
  json_object_set_int_member (record, "version", kefu_db_row_int (row, 1));
  kefu_store_set_time_member (record, "created_at", kefu_db_row_int (row, 2));
  kefu_store_set_time_member (record, "updated_at", kefu_db_row_int (row, 3));

  if (spec->kind == &kefu_record_agent)
    {
      json_object_set_string_member (record, "state", kefu_db_row_text (row, 5));
      if (kefu_db_row_is_null (row, 6))
        json_object_set_null_member (record, "state_reason");
      else
        json_object_set_string_member (record, "state_reason", kefu_db_row_text (row, 6));
      if (kefu_db_row_is_null (row, 7))
        json_object_set_null_member (record, "state_since");
      else
        kefu_store_set_time_member (record, "state_since", kefu_db_row_int (row, 7));
    }
  return record;
}

typedef struct {
  const EntitySpec *spec;
  JsonObject       *record;
  JsonArray        *array;
} CollectRecords;

static gboolean
on_record_row (KefuDbRow *row,
               gpointer   user_data)
{
  CollectRecords *collect = user_data;
  JsonObject *record = record_from_row (collect->spec, row);

  if (collect->array)
    {
      json_array_add_object_element (collect->array, record);
      return TRUE;
    }
  collect->record = record;
  return FALSE;
}

static char *
select_sql (const EntitySpec *spec,
            const char       *where)
{
  return g_strdup_printf ("SELECT " SELECT_COLUMNS "%s FROM %s WHERE deleted = 0 AND %s",
                          spec->kind == &kefu_record_agent ? AGENT_EXTRA_COLUMNS : "",
                          spec->table, where);
}

static KefuDbValue
id_value (const EntitySpec *spec,
          const char       *id,
          gint64           *scratch)
{
  if (spec->text_id)
    return KEFU_DB_V_TEXT (id);
  *scratch = g_ascii_strtoll (id, NULL, 10);
  return KEFU_DB_V_INT (*scratch);
}

static gboolean
parse_id (const EntitySpec  *spec,
          const char        *id,
          GError           **error)
{
  guint64 value;

  if (spec->text_id)
    {
      if (id && *id && strlen (id) <= 64)
        return TRUE;
    }
  else if (id && g_ascii_string_to_unsigned (id, 10, 1, G_MAXINT64, &value, NULL))
    {
      return TRUE;
    }
  g_set_error (error, KEFU_STORE_ERROR, KEFU_STORE_ERROR_NOT_FOUND,
               "There is no %s with id “%s”", spec->kind->name, id ? id : "");
  return FALSE;
}

static JsonObject *
get_on (KefuStore         *self,
        KefuDbConn        *conn,
        const EntitySpec  *spec,
        const char        *id,
        GError           **error)
{
  g_autofree char *sql = select_sql (spec, "id = ?");
  CollectRecords collect = { spec, NULL, NULL };
  gint64 scratch = 0;
  KefuDbValue params[1];

  if (!parse_id (spec, id, error))
    return NULL;
  params[0] = id_value (spec, id, &scratch);

  if (!kefu_db_query (conn, sql, params, 1, on_record_row, &collect, error))
    return NULL;
  if (!collect.record)
    {
      g_set_error (error, KEFU_STORE_ERROR, KEFU_STORE_ERROR_NOT_FOUND,
                   "There is no %s with id “%s”", spec->kind->name, id);
      return NULL;
    }
  if (spec->kind == &kefu_record_case)
    add_case_notes (conn, collect.record, json_object_get_int_member (collect.record, "id"));
  return collect.record;
}

JsonObject *
kefu_store_get (KefuStore             *self,
                const KefuRecordKind  *kind,
                const char            *id,
                GError               **error)
{
  const EntitySpec *spec = spec_for (kind);
  KefuDbConn *conn = kefu_db_acquire (self->db, error);
  JsonObject *record;

  if (!conn)
    return NULL;
  record = get_on (self, conn, spec, id, error);
  kefu_db_release (self->db, conn);
  return record;
}

/* The document as stored: what the client may set, nothing of the server's. */
static char *
doc_text (const EntitySpec *spec,
          JsonObject       *doc)
{
  g_autoptr(JsonObject) copy = json_object_new ();
  g_autoptr(GList) members = json_object_get_members (doc);

  for (GList *l = members; l; l = l->next)
    {
      const KefuField *field = kefu_record_kind_field (spec->kind, l->data);

      if (!field || (field->flags & (KEFU_FIELD_READ_ONLY | KEFU_FIELD_WRITE_ONLY)))
        if (!(spec->kind == &kefu_record_fax && field &&
              (g_str_equal (field->name, "content_type") || g_str_equal (field->name, "size"))))
          continue;
      if (spec->text_id && g_str_equal (l->data, "id"))
        continue;
      json_object_set_member (copy, l->data, json_node_copy (json_object_get_member (doc, l->data)));
    }
  return kefu_record_encode (copy);
}

static char *
name_key (const char *name)
{
  g_autofree char *normal = g_utf8_normalize (name ? name : "", -1, G_NORMALIZE_ALL_COMPOSE);

  return g_utf8_casefold (normal ? normal : "", -1);
}

/* Values for spec->columns, read from the document.  Integers stay
 * integers; everything else is text. */
static guint
column_values (const EntitySpec *spec,
               JsonObject       *doc,
               KefuDbValue      *values)
{
  guint n = 0;

  for (guint i = 0; spec->columns[i]; i++)
    {
      const KefuField *field = kefu_record_kind_field (spec->kind, spec->columns[i]);
      JsonNode *node = json_object_get_member (doc, spec->columns[i]);

      if (!node || JSON_NODE_HOLDS_NULL (node))
        values[n++] = KEFU_DB_V_NULL;
      else if (field->type == KEFU_FIELD_INT)
        values[n++] = KEFU_DB_V_INT (json_node_get_int (node));
      else
        values[n++] = KEFU_DB_V_TEXT (json_node_get_string (node));
    }
  return n;
}

/* record: the record as it now is; NULL for a delete, which then names
 * the version the record had when it went (the tombstone's). */
static gboolean
write_change (KefuDbConn        *conn,
              const EntitySpec  *spec,
              const char        *id,
              const char        *op,
              JsonObject        *record,
              gint64             deleted_version,
              gint64             now,
              GError           **error)
{
  g_autofree char *doc = record ? kefu_record_encode (record) : NULL;
  KefuDbValue params[] = {
    KEFU_DB_V_TEXT (spec->kind->name),
    KEFU_DB_V_TEXT (id),
    KEFU_DB_V_TEXT (op),
    KEFU_DB_V_INT (record ? json_object_get_int_member_with_default (record, "version", 0)
                          : deleted_version),
    KEFU_DB_V_INT (now),
    KEFU_DB_V_TEXT (doc),
  };

  return kefu_db_exec (conn,
                       "INSERT INTO changes (entity, entity_id, op, version, at, doc) "
                       "VALUES (?, ?, ?, ?, ?, ?)", params, G_N_ELEMENTS (params), NULL, error);
}

/* Replays a finished operation.  TRUE when op_id was seen before. */
gboolean
kefu_store_find_operation (KefuDbConn       *conn,
                const KefuWrite  *write,
                KefuWriteResult  *result,
                GError          **error)
{
  KefuDbValue params[] = { KEFU_DB_V_TEXT (write->op_id) };
  g_autofree char *body = NULL;
  g_autoptr(GError) local_error = NULL;
  gint64 status = 0;

  if (!write->op_id)
    return FALSE;
  if (!kefu_db_query_int (conn, "SELECT status FROM operations WHERE op_id = ?", params, 1,
                          &status, &local_error))
    {
      if (local_error)
        g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  body = kefu_db_query_text (conn, "SELECT body FROM operations WHERE op_id = ?", params, 1, error);
  result->record = body ? kefu_store_parse_object (body) : NULL;
  result->status = (int) status;
  result->replayed = TRUE;
  return TRUE;
}

gboolean
kefu_store_save_operation (KefuDbConn       *conn,
                const KefuWrite  *write,
                JsonObject       *record,
                gint64            now,
                GError          **error)
{
  g_autofree char *body = record ? kefu_record_encode (record) : NULL;
  KefuDbValue params[] = {
    KEFU_DB_V_TEXT (write->op_id),
    KEFU_DB_V_INT (write->status),
    KEFU_DB_V_TEXT (body),
    KEFU_DB_V_INT (now),
  };

  if (!write->op_id)
    return TRUE;
  return kefu_db_exec (conn, "INSERT INTO operations (op_id, status, body, created_at) "
                       "VALUES (?, ?, ?, ?)", params, G_N_ELEMENTS (params), NULL, error);
}

/* Starts a write for one client operation.  Returns the connection to do
 * it on, or NULL when there is nothing more to do; then *outcome is the
 * answer: TRUE for a replay of the first answer (result filled), FALSE with
 * error set when the write could not start. */
static KefuDbConn *
start_operation (KefuStore        *self,
                 const KefuWrite  *write,
                 KefuWriteResult  *result,
                 gboolean         *outcome,
                 GError          **error)
{
  g_autoptr(GError) local_error = NULL;
  KefuDbConn *conn;

  memset (result, 0, sizeof *result);
  *outcome = FALSE;
  conn = kefu_store_begin_write (self, error);
  if (!conn)
    return NULL;
  if (kefu_store_find_operation (conn, write, result, &local_error))
    {
      *outcome = kefu_store_end_write (self, conn, TRUE, error);
      return NULL;
    }
  if (local_error)
    {
      kefu_store_end_write (self, conn, FALSE, NULL);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  return conn;
}

/* Ends it: the answer is remembered under the operation id in the same
 * transaction, so a retry finds it exactly when the change committed. */
static gboolean
finish_operation (KefuStore        *self,
                  KefuDbConn       *conn,
                  const KefuWrite  *write,
                  KefuWriteResult  *result,
                  gboolean          ok,
                  gint64            now,
                  GError          **error)
{
  result->status = write->status;
  if (ok)
    ok = kefu_store_save_operation (conn, write, result->record, now, error);
  if (!ok)
    kefu_write_result_clear (result);
  return kefu_store_end_write (self, conn, ok, error);
}

static gboolean
write_customer_phones (KefuDbConn  *conn,
                       gint64       customer_id,
                       JsonObject  *doc,
                       gboolean     deleting,
                       GError     **error)
{
  KefuDbValue id = KEFU_DB_V_INT (customer_id);
  JsonArray *phones;

  if (!kefu_db_exec (conn, "DELETE FROM customer_phones WHERE customer_id = ?", &id, 1, NULL, error))
    return FALSE;
  if (deleting || !json_object_has_member (doc, "phones") ||
      JSON_NODE_HOLDS_NULL (json_object_get_member (doc, "phones")))
    return TRUE;

  phones = json_object_get_array_member (doc, "phones");
  for (guint i = 0; i < json_array_get_length (phones); i++)
    {
      KefuDbValue params[] = {
        KEFU_DB_V_TEXT (json_array_get_string_element (phones, i)),
        KEFU_DB_V_INT (customer_id),
      };

      /* The same number twice on one card is harmless; keep one row. */
      if (!kefu_db_exec (conn, "INSERT INTO customer_phones (e164, customer_id) VALUES (?, ?) "
                         "ON CONFLICT DO NOTHING", params, 2, NULL, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
map_constraint (const EntitySpec  *spec,
                GError           **error)
{
  if (error && *error && g_error_matches (*error, KEFU_DB_ERROR, KEFU_DB_ERROR_CONSTRAINT))
    {
      g_clear_error (error);
      g_set_error (error, KEFU_STORE_ERROR, KEFU_STORE_ERROR_DUPLICATE,
                   spec->kind == &kefu_record_agent ? "That username is already taken"
                   : spec->kind == &kefu_record_queue ? "A queue with that name already exists"
                   : spec->kind == &kefu_record_call ? "A call record with that id already exists"
                   : "That %s already exists", spec->kind->name);
    }
  return FALSE;
}

gboolean
kefu_store_create (KefuStore             *self,
                   const KefuRecordKind  *kind,
                   JsonObject            *doc,
                   const KefuWrite       *write,
                   KefuWriteResult       *result,
                   GError               **error)
{
  const EntitySpec *spec = spec_for (kind);
  g_autoptr(GString) sql = NULL;
  g_autoptr(GString) marks = NULL;
  g_autofree char *text = NULL;
  g_autofree char *key = NULL;
  g_autofree char *id_text = NULL;
  KefuDbValue params[16];
  KefuDbConn *conn;
  gboolean outcome;
  gint64 now = kefu_time_now_ms ();
  guint n = 0;
  gint64 id = 0;
  gboolean ok;

  conn = start_operation (self, write, result, &outcome, error);
  if (!conn)
    return outcome;

  sql = g_string_new (NULL);
  marks = g_string_new (NULL);
  g_string_printf (sql, "INSERT INTO %s (", spec->table);
  text = doc_text (spec, doc);

  if (spec->text_id)
    {
      g_string_append (sql, "id, ");
      g_string_append (marks, "?, ");
      params[n++] = KEFU_DB_V_TEXT (json_object_get_string_member (doc, "id"));
    }
  g_string_append (sql, "doc, version, created_at, updated_at");
  g_string_append (marks, "?, 1, ?, ?");
  params[n++] = KEFU_DB_V_TEXT (text);
  params[n++] = KEFU_DB_V_INT (now);
  params[n++] = KEFU_DB_V_INT (now);

  for (guint i = 0; spec->columns[i]; i++)
    {
      g_string_append_printf (sql, ", %s", spec->columns[i]);
      g_string_append (marks, ", ?");
    }
  n += column_values (spec, doc, params + n);

  if (kind == &kefu_record_customer)
    {
      key = name_key (json_object_get_string_member (doc, "name"));
      g_string_append (sql, ", name_key");
      g_string_append (marks, ", ?");
      params[n++] = KEFU_DB_V_TEXT (key);
    }
  if (kind == &kefu_record_agent)
    {
      g_string_append (sql, ", password_hash, sip_ha1, sip_user, sip_realm");
      g_string_append (marks, ", ?, ?, ?, ?");
      params[n++] = KEFU_DB_V_TEXT (write->password_hash);
      params[n++] = KEFU_DB_V_TEXT (write->sip_ha1);
      params[n++] = KEFU_DB_V_TEXT (write->sip_user);
      params[n++] = KEFU_DB_V_TEXT (write->sip_realm);
    }
  g_assert (n <= G_N_ELEMENTS (params));

  g_string_append_printf (sql, ") VALUES (%s)", marks->str);

  if (spec->text_id)
    {
      ok = kefu_db_exec (conn, sql->str, params, n, NULL, error);
      id_text = g_strdup (json_object_get_string_member (doc, "id"));
    }
  else
    {
      g_string_append (sql, " RETURNING id");
      ok = kefu_db_query_int (conn, sql->str, params, n, &id, error);
      id_text = g_strdup_printf ("%" G_GINT64_FORMAT, id);
    }
  if (!ok)
    {
      map_constraint (spec, error);
      return kefu_store_end_write (self, conn, FALSE, NULL);
    }

  if (kind == &kefu_record_customer)
    ok = write_customer_phones (conn, id, doc, FALSE, error);

  if (ok)
    ok = (result->record = get_on (self, conn, spec, id_text, error)) != NULL;
  if (ok)
    ok = write_change (conn, spec, id_text, "create", result->record, 0, now, error);
  return finish_operation (self, conn, write, result, ok, now, error);
}

/* Reads the current copy and checks the client's base version against it. */
static JsonObject *
current_for_write (KefuStore         *self,
                   KefuDbConn        *conn,
                   const EntitySpec  *spec,
                   const char        *id,
                   const KefuWrite   *write,
                   JsonObject       **out_current,
                   GError           **error)
{
  JsonObject *current = get_on (self, conn, spec, id, error);
  gint64 version;

  if (!current)
    return NULL;
  version = json_object_get_int_member (current, "version");
  if (write->base_version >= 0 && write->base_version != version)
    {
      g_set_error (error, KEFU_STORE_ERROR, KEFU_STORE_ERROR_CONFLICT,
                   "This %s was changed by someone else (you edited version %" G_GINT64_FORMAT
                   ", the server has version %" G_GINT64_FORMAT ")",
                   spec->kind->name, write->base_version, version);
      if (out_current)
        *out_current = json_object_ref (current);
      json_object_unref (current);
      return NULL;
    }
  return current;
}

gboolean
kefu_store_update (KefuStore             *self,
                   const KefuRecordKind  *kind,
                   const char            *id,
                   JsonObject            *doc,
                   gboolean               replace,
                   const KefuWrite       *write,
                   KefuWriteResult       *result,
                   JsonObject           **out_current,
                   GError               **error)
{
  const EntitySpec *spec = spec_for (kind);
  g_autoptr(JsonObject) current = NULL;
  g_autoptr(JsonObject) merged = NULL;
  g_autoptr(GString) sql = NULL;
  g_autofree char *text = NULL;
  g_autofree char *key = NULL;
  g_autoptr(GList) members = NULL;
  KefuDbValue params[16];
  KefuDbConn *conn;
  gboolean outcome;
  gint64 now = kefu_time_now_ms ();
  gint64 scratch = 0;
  guint n = 0;
  gboolean ok;

  conn = start_operation (self, write, result, &outcome, error);
  if (!conn)
    return outcome;

  current = current_for_write (self, conn, spec, id, write, out_current, error);
  if (!current)
    return kefu_store_end_write (self, conn, FALSE, NULL);

  if (spec->text_id && json_object_has_member (doc, "id") &&
      g_strcmp0 (kefu_json_get_string (doc, "id"), id) != 0)
    {
      g_set_error (error, KEFU_STORE_ERROR, KEFU_STORE_ERROR_INVALID,
                   "The %s id in the body (“%s”) is not the one in the address (“%s”)",
                   kind->name, kefu_json_get_string (doc, "id"), id);
      return kefu_store_end_write (self, conn, FALSE, NULL);
    }

  /* A patch changes only what it names; null clears a field. */
  merged = replace ? json_object_new () : json_object_ref (current);
  if (replace)
    {
      g_autoptr(GList) keep = json_object_get_members (current);

      for (GList *l = keep; l; l = l->next)
        {
          const KefuField *field = kefu_record_kind_field (kind, l->data);

          if (field && (field->flags & KEFU_FIELD_READ_ONLY))
            json_object_set_member (merged, l->data,
                                    json_node_copy (json_object_get_member (current, l->data)));
        }
    }
  members = json_object_get_members (doc);
  for (GList *l = members; l; l = l->next)
    {
      JsonNode *value = json_object_get_member (doc, l->data);

      if (JSON_NODE_HOLDS_NULL (value))
        json_object_remove_member (merged, l->data);
      else
        json_object_set_member (merged, l->data, json_node_copy (value));
    }

  sql = g_string_new (NULL);
  g_string_printf (sql, "UPDATE %s SET doc = ?, version = version + 1, updated_at = ?", spec->table);
  text = doc_text (spec, merged);
  params[n++] = KEFU_DB_V_TEXT (text);
  params[n++] = KEFU_DB_V_INT (now);
  for (guint i = 0; spec->columns[i]; i++)
    g_string_append_printf (sql, ", %s = ?", spec->columns[i]);
  n += column_values (spec, merged, params + n);
  if (kind == &kefu_record_customer)
    {
      key = name_key (kefu_json_get_string (merged, "name"));
      g_string_append (sql, ", name_key = ?");
      params[n++] = KEFU_DB_V_TEXT (key);
    }
  if (kind == &kefu_record_agent && write->password_hash)
    {
      g_string_append (sql, ", password_hash = ?");
      params[n++] = KEFU_DB_V_TEXT (write->password_hash);
    }
  if (kind == &kefu_record_agent && write->sip_ha1)
    {
      g_string_append (sql, ", sip_ha1 = ?, sip_user = ?, sip_realm = ?");
      params[n++] = KEFU_DB_V_TEXT (write->sip_ha1);
      params[n++] = KEFU_DB_V_TEXT (write->sip_user);
      params[n++] = KEFU_DB_V_TEXT (write->sip_realm);
    }
  g_assert (n < G_N_ELEMENTS (params));
  g_string_append (sql, " WHERE id = ?");
  params[n++] = id_value (spec, id, &scratch);

  ok = kefu_db_exec (conn, sql->str, params, n, NULL, error);
  if (!ok)
    map_constraint (spec, error);
  if (ok && kind == &kefu_record_customer)
    ok = write_customer_phones (conn, scratch, merged, FALSE, error);
  if (ok && kind == &kefu_record_agent && write->password_hash)
    {
      /* A new password ends every session made with the old one. */
      KefuDbValue agent_id = KEFU_DB_V_INT (scratch);

      ok = kefu_db_exec (conn, "DELETE FROM sessions WHERE agent_id = ?", &agent_id, 1, NULL, error);
    }
  if (ok)
    ok = (result->record = get_on (self, conn, spec, id, error)) != NULL;
  if (ok)
    ok = write_change (conn, spec, id, "update", result->record, 0, now, error);
  return finish_operation (self, conn, write, result, ok, now, error);
}

gboolean
kefu_store_delete (KefuStore             *self,
                   const KefuRecordKind  *kind,
                   const char            *id,
                   const KefuWrite       *write,
                   KefuWriteResult       *result,
                   JsonObject           **out_current,
                   GError               **error)
{
  const EntitySpec *spec = spec_for (kind);
  g_autoptr(JsonObject) current = NULL;
  g_autofree char *sql = NULL;
  KefuDbValue params[2];
  KefuDbConn *conn;
  gboolean outcome;
  gint64 now = kefu_time_now_ms ();
  gint64 scratch = 0;
  gboolean ok;

  conn = start_operation (self, write, result, &outcome, error);
  if (!conn)
    return outcome;

  current = current_for_write (self, conn, spec, id, write, out_current, error);
  if (!current)
    return kefu_store_end_write (self, conn, FALSE, NULL);

  /* Kept as a tombstone so the change feed and history still make sense;
   * a username or queue name is freed for reuse by renaming it away. */
  if (kind == &kefu_record_agent || kind == &kefu_record_queue)
    sql = g_strdup_printf ("UPDATE %s SET deleted = 1, version = version + 1, updated_at = ?, "
                           "%s = %s || '#deleted-' || id WHERE id = ?", spec->table,
                           spec->columns[0], spec->columns[0]);
  else
    sql = g_strdup_printf ("UPDATE %s SET deleted = 1, version = version + 1, updated_at = ? "
                           "WHERE id = ?", spec->table);
  params[0] = KEFU_DB_V_INT (now);
  params[1] = id_value (spec, id, &scratch);
  ok = kefu_db_exec (conn, sql, params, 2, NULL, error);
  if (ok && kind == &kefu_record_customer)
    ok = write_customer_phones (conn, scratch, NULL, TRUE, error);
  if (ok && kind == &kefu_record_agent)
    ok = kefu_db_exec (conn, "DELETE FROM sessions WHERE agent_id = ?", &params[1], 1, NULL, error);
  if (ok)
    ok = write_change (conn, spec, id, "delete", NULL,
                       json_object_get_int_member (current, "version") + 1, now, error);
  return finish_operation (self, conn, write, result, ok, now, error);
}

JsonArray *
kefu_store_list (KefuStore             *self,
                 const KefuRecordKind  *kind,
                 GHashTable            *filter,
                 guint                  offset,
                 guint                  limit,
                 GError               **error)
{
  const EntitySpec *spec = spec_for (kind);
  g_autoptr(GString) where = g_string_new ("1 = 1");
  g_autofree char *sql = NULL;
  g_autoptr(JsonArray) array = json_array_new ();
  CollectRecords collect = { spec, NULL, array };
  g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func (g_free);
  KefuDbValue params[12];
  KefuDbConn *conn;
  guint n = 0;

  if (filter)
    {
      GHashTableIter iter;
      gpointer key, value;

      g_hash_table_iter_init (&iter, filter);
      while (g_hash_table_iter_next (&iter, &key, &value))
        {
          const KefuField *field = NULL;

          if (g_strv_contains (spec->columns, key))
            field = kefu_record_kind_field (kind, key);
          if (!field || n >= G_N_ELEMENTS (params) - 2)
            {
              g_set_error (error, KEFU_STORE_ERROR, KEFU_STORE_ERROR_INVALID,
                           "%s cannot be filtered by “%s”", spec->table, (char *) key);
              return NULL;
            }
          g_string_append_printf (where, " AND %s = ?", (char *) key);
          if (field->type == KEFU_FIELD_INT)
            {
              gint64 v;

              if (!g_ascii_string_to_signed (value, 10, G_MININT64, G_MAXINT64, &v, NULL))
                {
                  g_set_error (error, KEFU_STORE_ERROR, KEFU_STORE_ERROR_INVALID,
                               "Filter “%s” wants a whole number, not “%s”", (char *) key,
                               (char *) value);
                  return NULL;
                }
              params[n++] = KEFU_DB_V_INT (v);
            }
          else
            {
              params[n++] = KEFU_DB_V_TEXT (value);
            }
        }
    }

  g_string_append_printf (where, " ORDER BY %s LIMIT ? OFFSET ?", spec->order_by);
  params[n++] = KEFU_DB_V_INT (limit);
  params[n++] = KEFU_DB_V_INT (offset);
  sql = select_sql (spec, where->str);

  conn = kefu_db_acquire (self->db, error);
  if (!conn)
    return NULL;
  if (!kefu_db_query (conn, sql, params, n, on_record_row, &collect, error))
    {
      kefu_db_release (self->db, conn);
      return NULL;
    }
  if (kind == &kefu_record_case)
    for (guint i = 0; i < json_array_get_length (array); i++)
      {
        JsonObject *record = json_array_get_object_element (array, i);

        add_case_notes (conn, record, json_object_get_int_member (record, "id"));
      }
  kefu_db_release (self->db, conn);
  return g_steal_pointer (&array);
}

static JsonArray *
query_customers (KefuStore          *self,
                 const char         *where,
                 const KefuDbValue  *params,
                 guint               n_params,
                 GError            **error)
{
  const EntitySpec *spec = spec_for (&kefu_record_customer);
  g_autofree char *sql = select_sql (spec, where);
  g_autoptr(JsonArray) array = json_array_new ();
  CollectRecords collect = { spec, NULL, array };
  KefuDbConn *conn = kefu_db_acquire (self->db, error);
  gboolean ok;

  if (!conn)
    return NULL;
  ok = kefu_db_query (conn, sql, params, n_params, on_record_row, &collect, error);
  kefu_db_release (self->db, conn);
  return ok ? g_steal_pointer (&array) : NULL;
}

JsonArray *
kefu_store_find_customers_by_phone (KefuStore   *self,
                                    const char  *phone,
                                    GError     **error)
{
  g_autofree char *e164 = kefu_phone_number_normalise (phone, self->default_country, error);
  KefuDbValue params[1];

  if (!e164)
    return NULL;
  params[0] = KEFU_DB_V_TEXT (e164);
  return query_customers (self,
                          "id IN (SELECT customer_id FROM customer_phones WHERE e164 = ?) "
                          "ORDER BY name_key, id LIMIT 50", params, 1, error);
}

JsonArray *
kefu_store_search_customers (KefuStore   *self,
                             const char  *query,
                             guint        offset,
                             guint        limit,
                             GError     **error)
{
  g_autofree char *prefix = kefu_phone_number_normalise_prefix (query, self->default_country);
  g_autofree char *key = NULL;
  g_autofree char *end = NULL;

  if (prefix)
    {
      end = g_strconcat (prefix, PREFIX_END, NULL);
      {
        KefuDbValue params[] = {
          KEFU_DB_V_TEXT (prefix), KEFU_DB_V_TEXT (end),
          KEFU_DB_V_INT (limit), KEFU_DB_V_INT (offset),
        };

        /* The page is taken in number order, so a short prefix that
         * matches a million numbers walks the index for one page only;
         * the page itself is shown sorted by name. */
        return query_customers (self,
                                "id IN (SELECT customer_id FROM customer_phones "
                                "WHERE e164 >= ? AND e164 < ? "
                                "ORDER BY e164, customer_id LIMIT ? OFFSET ?) "
                                "ORDER BY name_key, id",
                                params, G_N_ELEMENTS (params), error);
      }
    }

  {
    g_autofree char *trimmed = g_strstrip (g_strdup (query));
    g_autofree char *stripped = NULL;

    key = name_key (trimmed);
    stripped = g_strstrip (g_strdup (key));

    end = g_strconcat (stripped, PREFIX_END, NULL);
    {
      KefuDbValue params[] = {
        KEFU_DB_V_TEXT (stripped), KEFU_DB_V_TEXT (end),
        KEFU_DB_V_INT (limit), KEFU_DB_V_INT (offset),
      };

      return query_customers (self, "name_key >= ? AND name_key < ? ORDER BY name_key, id "
                              "LIMIT ? OFFSET ?", params, G_N_ELEMENTS (params), error);
    }
  }
}

/* --- cases ---------------------------------------------------------------- */

static gboolean
on_note_row (KefuDbRow *row,
             gpointer   user_data)
{
  JsonArray *notes = user_data;
  JsonObject *note = json_object_new ();

  json_object_set_int_member (note, "id", kefu_db_row_int (row, 0));
  if (kefu_db_row_is_null (row, 1))
    json_object_set_null_member (note, "author");
  else
    json_object_set_string_member (note, "author", kefu_db_row_text (row, 1));
  json_object_set_string_member (note, "body", kefu_db_row_text (row, 2));
  kefu_store_set_time_member (note, "created_at", kefu_db_row_int (row, 3));
  json_array_add_object_element (notes, note);
  return TRUE;
}

static void
add_case_notes (KefuDbConn *conn,
                JsonObject *record,
                gint64      case_id)
{
  g_autoptr(GError) error = NULL;
  JsonArray *notes = json_array_new ();
  KefuDbValue params[] = { KEFU_DB_V_INT (case_id) };

  if (!kefu_db_query (conn, "SELECT id, author, body, created_at FROM case_notes "
                      "WHERE case_id = ? ORDER BY id", params, 1, on_note_row, notes, &error))
    g_warning ("cannot read the notes of case %" G_GINT64_FORMAT ": %s", case_id, error->message);
  json_object_set_array_member (record, "notes", notes);
}

gboolean
kefu_store_add_case_note (KefuStore        *self,
                          const char       *case_id,
                          JsonObject       *note,
                          const KefuWrite  *write,
                          KefuWriteResult  *result,
                          GError          **error)
{
  const EntitySpec *spec = spec_for (&kefu_record_case);
  g_autoptr(JsonObject) current = NULL;
  KefuDbConn *conn;
  gboolean outcome;
  gint64 now = kefu_time_now_ms ();
  gint64 id;
  gboolean ok;

  conn = start_operation (self, write, result, &outcome, error);
  if (!conn)
    return outcome;

  /* A note only adds; it never conflicts with an edit of the case. */
  current = get_on (self, conn, spec, case_id, error);
  if (!current)
    return kefu_store_end_write (self, conn, FALSE, NULL);
  id = json_object_get_int_member (current, "id");

  {
    KefuDbValue params[] = {
      KEFU_DB_V_INT (id),
      KEFU_DB_V_TEXT (write->actor),
      KEFU_DB_V_TEXT (json_object_get_string_member (note, "body")),
      KEFU_DB_V_INT (now),
    };
    KefuDbValue bump[] = { KEFU_DB_V_INT (now), KEFU_DB_V_INT (id) };

    ok = kefu_db_exec (conn, "INSERT INTO case_notes (case_id, author, body, created_at) "
                       "VALUES (?, ?, ?, ?)", params, G_N_ELEMENTS (params), NULL, error) &&
         kefu_db_exec (conn, "UPDATE cases SET version = version + 1, updated_at = ? WHERE id = ?",
                       bump, 2, NULL, error);
  }
  if (ok)
    ok = (result->record = get_on (self, conn, spec, case_id, error)) != NULL;
  if (ok)
    ok = write_change (conn, spec, case_id, "update", result->record, 0, now, error);
  return finish_operation (self, conn, write, result, ok, now, error);
}

/* --- faxes ---------------------------------------------------------------- */

gboolean
kefu_store_put_fax_document (KefuStore        *self,
                             const char       *fax_id,
                             const char       *content_type,
                             GBytes           *data,
                             const KefuWrite  *write,
                             KefuWriteResult  *result,
                             GError          **error)
{
  const EntitySpec *spec = spec_for (&kefu_record_fax);
  g_autoptr(JsonObject) current = NULL;
  g_autofree char *text = NULL;
  KefuDbConn *conn;
  gboolean outcome;
  gint64 now = kefu_time_now_ms ();
  gsize size;
  const guint8 *bytes = g_bytes_get_data (data, &size);
  gint64 id;
  gboolean ok;

  conn = start_operation (self, write, result, &outcome, error);
  if (!conn)
    return outcome;

  current = current_for_write (self, conn, spec, fax_id, write, NULL, error);
  if (!current)
    return kefu_store_end_write (self, conn, FALSE, NULL);
  id = json_object_get_int_member (current, "id");

  json_object_set_string_member (current, "content_type", content_type);
  json_object_set_int_member (current, "size", size);
  text = doc_text (spec, current);
  {
    KefuDbValue del[] = { KEFU_DB_V_INT (id) };
    KefuDbValue ins[] = { KEFU_DB_V_INT (id), KEFU_DB_V_TEXT (content_type),
                          KEFU_DB_V_BLOB (bytes ? bytes : (const guint8 *) "", size) };
    KefuDbValue upd[] = { KEFU_DB_V_TEXT (text), KEFU_DB_V_INT (now), KEFU_DB_V_INT (id) };

    ok = kefu_db_exec (conn, "DELETE FROM fax_documents WHERE fax_id = ?", del, 1, NULL, error) &&
         kefu_db_exec (conn, "INSERT INTO fax_documents (fax_id, content_type, data) "
                       "VALUES (?, ?, ?)", ins, 3, NULL, error) &&
         kefu_db_exec (conn, "UPDATE faxes SET doc = ?, version = version + 1, updated_at = ? "
                       "WHERE id = ?", upd, 3, NULL, error);
  }
  if (ok)
    ok = (result->record = get_on (self, conn, spec, fax_id, error)) != NULL;
  if (ok)
    ok = write_change (conn, spec, fax_id, "update", result->record, 0, now, error);
  return finish_operation (self, conn, write, result, ok, now, error);
}

typedef struct {
  GBytes *data;
  char   *content_type;
} FaxDocument;

static gboolean
on_fax_document (KefuDbRow *row,
                 gpointer   user_data)
{
  FaxDocument *doc = user_data;
  gsize len = 0;
  const guint8 *bytes = kefu_db_row_blob (row, 1, &len);

  doc->content_type = g_strdup (kefu_db_row_text (row, 0));
  doc->data = g_bytes_new (bytes, len);
  return FALSE;
}

GBytes *
kefu_store_get_fax_document (KefuStore   *self,
                             const char  *fax_id,
                             char       **out_content_type,
                             GError     **error)
{
  const EntitySpec *spec = spec_for (&kefu_record_fax);
  g_autoptr(JsonObject) fax = NULL;
  FaxDocument doc = { NULL, NULL };
  KefuDbConn *conn = kefu_db_acquire (self->db, error);
  KefuDbValue params[1];
  gboolean ok;

  if (!conn)
    return NULL;
  fax = get_on (self, conn, spec, fax_id, error);
  if (!fax)
    {
      kefu_db_release (self->db, conn);
      return NULL;
    }
  params[0] = KEFU_DB_V_INT (json_object_get_int_member (fax, "id"));
  ok = kefu_db_query (conn, "SELECT content_type, data FROM fax_documents WHERE fax_id = ?",
                      params, 1, on_fax_document, &doc, error);
  kefu_db_release (self->db, conn);
  if (!ok)
    return NULL;
  if (!doc.data)
    {
      g_set_error (error, KEFU_STORE_ERROR, KEFU_STORE_ERROR_NOT_FOUND,
                   "Fax %s has no document yet", fax_id);
      return NULL;
    }
  if (out_content_type)
    *out_content_type = doc.content_type;
  else
    g_free (doc.content_type);
  return doc.data;
}

/* --- agents and sessions ------------------------------------------------------ */

typedef struct {
  const EntitySpec *spec;
  JsonObject       *record;
  char             *password_hash;
} AgentRow;

static gboolean
on_agent_row (KefuDbRow *row,
              gpointer   user_data)
{
  AgentRow *agent = user_data;

  agent->record = record_from_row (agent->spec, row);
  agent->password_hash = g_strdup (kefu_db_row_text (row, 8));
  return FALSE;
}

JsonObject *
kefu_store_get_agent_by_name (KefuStore   *self,
                              const char  *username,
                              char       **out_password_hash,
                              GError     **error)
{
  AgentRow agent = { spec_for (&kefu_record_agent), NULL, NULL };
  KefuDbValue params[] = { KEFU_DB_V_TEXT (username) };
  KefuDbConn *conn = kefu_db_acquire (self->db, error);
  gboolean ok;

  if (!conn)
    return NULL;
  ok = kefu_db_query (conn, "SELECT " SELECT_COLUMNS AGENT_EXTRA_COLUMNS ", password_hash "
                      "FROM agents WHERE deleted = 0 AND username = ?", params, 1, on_agent_row,
                      &agent, error);
  kefu_db_release (self->db, conn);
  if (!ok)
    return NULL;
  if (!agent.record)
    {
      g_set_error (error, KEFU_STORE_ERROR, KEFU_STORE_ERROR_NOT_FOUND,
                   "There is no agent “%s”", username);
      return NULL;
    }
  if (out_password_hash)
    *out_password_hash = agent.password_hash;
  else
    g_free (agent.password_hash);
  return agent.record;
}

static gboolean
on_sip_row (KefuDbRow *row,
            gpointer   user_data)
{
  JsonArray *array = user_data;
  g_autoptr(JsonObject) doc = kefu_store_parse_object (kefu_db_row_text (row, 1));
  const char *extension = kefu_json_get_string (doc, "extension");
  JsonObject *entry;

  /* Made for another extension: that phone needs a new password first. */
  if (g_strcmp0 (extension, kefu_db_row_text (row, 3)) != 0)
    return TRUE;
  entry = json_object_new ();
  json_object_set_string_member (entry, "username", kefu_db_row_text (row, 0));
  json_object_set_string_member (entry, "extension", extension);
  json_object_set_string_member (entry, "ha1", kefu_db_row_text (row, 2));
  json_object_set_string_member (entry, "realm", kefu_db_row_text (row, 4));
  json_array_add_object_element (array, entry);
  return TRUE;
}

JsonArray *
kefu_store_sip_credentials (KefuStore   *self,
                            const char  *realm,
                            GError     **error)
{
  g_autoptr(JsonArray) array = json_array_new ();
  KefuDbValue params[] = { KEFU_DB_V_TEXT (realm) };
  KefuDbConn *conn = kefu_db_acquire (self->db, error);
  gboolean ok;

  if (!conn)
    return NULL;
  ok = kefu_db_query (conn, "SELECT username, doc, sip_ha1, sip_user, sip_realm FROM agents "
                      "WHERE deleted = 0 AND sip_ha1 IS NOT NULL AND sip_realm = ? "
                      "ORDER BY username", params, 1, on_sip_row, array, error);
  kefu_db_release (self->db, conn);
  return ok ? g_steal_pointer (&array) : NULL;
}

gboolean
kefu_store_session_create (KefuStore   *self,
                           const char  *token_hash,
                           gint64       agent_id,
                           gint64       expires_ms,
                           GError     **error)
{
  gint64 now = kefu_time_now_ms ();
  KefuDbValue params[] = {
    KEFU_DB_V_TEXT (token_hash), KEFU_DB_V_INT (agent_id), KEFU_DB_V_INT (expires_ms),
    KEFU_DB_V_INT (now),
  };
  KefuDbValue expired[] = { KEFU_DB_V_INT (now) };
  KefuDbValue old_ops[] = { KEFU_DB_V_INT (now - KEFU_STORE_OPERATION_KEEP_MS) };
  KefuDbConn *conn = kefu_store_begin_write (self, error);
  gboolean ok;

  if (!conn)
    return FALSE;
  /* Sweep expired sessions and operation ids too old to be retried
   * (KEFU_STORE_OPERATION_KEEP_MS) while we hold the write lock anyway. */
  ok = kefu_db_exec (conn, "DELETE FROM sessions WHERE expires_at < ?", expired, 1, NULL, error) &&
       kefu_db_exec (conn, "DELETE FROM operations WHERE created_at < ?", old_ops, 1, NULL,
                     error) &&
       kefu_db_exec (conn, "INSERT INTO sessions (token_hash, agent_id, expires_at, created_at) "
                     "VALUES (?, ?, ?, ?)", params, G_N_ELEMENTS (params), NULL, error);
  return kefu_store_end_write (self, conn, ok, error);
}

static gboolean
on_session_row (KefuDbRow *row,
                gpointer   user_data)
{
  KefuSession **session = user_data;

  *session = g_new0 (KefuSession, 1);
  (*session)->agent_id = kefu_db_row_int (row, 0);
  (*session)->username = g_strdup (kefu_db_row_text (row, 1));
  (*session)->role = g_strdup (kefu_db_row_text (row, 2));
  (*session)->expires_ms = kefu_db_row_int (row, 3);
  return FALSE;
}

KefuSession *
kefu_store_session_lookup (KefuStore   *self,
                           const char  *token_hash,
                           GError     **error)
{
  KefuSession *session = NULL;
  KefuDbValue params[] = { KEFU_DB_V_TEXT (token_hash), KEFU_DB_V_INT (kefu_time_now_ms ()) };
  KefuDbConn *conn = kefu_db_acquire (self->db, error);
  gboolean ok;

  if (!conn)
    return NULL;
  ok = kefu_db_query (conn, "SELECT a.id, a.username, a.role, s.expires_at FROM sessions s "
                      "JOIN agents a ON a.id = s.agent_id "
                      "WHERE s.token_hash = ? AND s.expires_at > ? AND a.deleted = 0",
                      params, 2, on_session_row, &session, error);
  kefu_db_release (self->db, conn);
  if (ok && !session)
    g_set_error (error, KEFU_STORE_ERROR, KEFU_STORE_ERROR_NOT_FOUND,
                 "The session has expired or was ended");
  return session;
}

gboolean
kefu_store_session_delete (KefuStore   *self,
                           const char  *token_hash,
                           GError     **error)
{
  KefuDbValue params[] = { KEFU_DB_V_TEXT (token_hash) };
  KefuDbConn *conn = kefu_store_begin_write (self, error);
  gboolean ok;

  if (!conn)
    return FALSE;
  ok = kefu_db_exec (conn, "DELETE FROM sessions WHERE token_hash = ?", params, 1, NULL, error);
  return kefu_store_end_write (self, conn, ok, error);
}

gint64
kefu_store_count (KefuStore             *self,
                  const KefuRecordKind  *kind,
                  GError               **error)
{
  g_autofree char *sql = NULL;
  KefuDbConn *conn;
  gint64 count = -1;

  if (kind == &kefu_record_event)
    sql = g_strdup ("SELECT count(*) FROM events");
  else
    sql = g_strdup_printf ("SELECT count(*) FROM %s WHERE deleted = 0", spec_for (kind)->table);
  conn = kefu_db_acquire (self->db, error);
  if (!conn)
    return -1;
  if (!kefu_db_query_int (conn, sql, NULL, 0, &count, error))
    count = -1;
  kefu_db_release (self->db, conn);
  return count;
}
