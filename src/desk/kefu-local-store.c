/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuLocalStore"

#include "config.h"

#include "kefu-local-store.h"
#include "kefu-db-sqlite.h"
#include "kefu-phone-number.h"
#include "kefu-record.h"
#include "kefu-store.h"
#include "kefu-time.h"

#include <glib/gi18n-lib.h>
#include <string.h>

enum {
  SIGNAL_CUSTOMER_CHANGED,
  SIGNAL_RECORD_ID_CHANGED,
  SIGNAL_OUTBOX_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

struct _KefuLocalStore {
  GObject    parent_instance;

  /* owned */
  char      *path;
  KefuDb    *db;
  KefuStore *store;      /* the core schema and its reads */
  /* Writers of this process queue here, not in SQLite's busy handler:
   * an agent's keystroke must not sleep behind a feed page. */
  GMutex     write_lock;
  guint      outbox_count;
};

G_DEFINE_FINAL_TYPE (KefuLocalStore, kefu_local_store, G_TYPE_OBJECT)

/* What only the desktop keeps, beside the core schema (whose version is
 * SQLite's user_version): one script per version, recorded in desk_meta. */
static const char * const desk_migrations[] = {
  "CREATE TABLE desk_meta ("
  "  key TEXT PRIMARY KEY,"
  "  value INTEGER NOT NULL);"
  "CREATE TABLE desk_outbox ("
  "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  op_id TEXT NOT NULL UNIQUE,"
  "  entity TEXT NOT NULL,"
  "  operation INTEGER NOT NULL,"
  "  record_id INTEGER NOT NULL,"
  "  local_id INTEGER,"
  "  doc TEXT NOT NULL,"
  "  base_version INTEGER NOT NULL DEFAULT -1,"
  "  state INTEGER NOT NULL DEFAULT 0,"
  "  message TEXT,"
  "  theirs TEXT,"
  "  created_at INTEGER NOT NULL);"
  "CREATE INDEX desk_outbox_record ON desk_outbox (entity, record_id);"
  "CREATE TABLE desk_drafts ("
  "  key TEXT PRIMARY KEY,"
  "  doc TEXT NOT NULL,"
  "  saved_at INTEGER NOT NULL);"
  "CREATE INDEX desk_drafts_saved ON desk_drafts (saved_at);",
  NULL
};

/* How the core schema keeps each kind this copy mirrors: the document
 * plus the columns searched or joined on. */
typedef struct {
  const KefuRecordKind *kind;
  const char           *table;
  gboolean              text_id;
  const char * const   *columns;
} MirrorSpec;

static const char * const customer_columns[] = { "account_number", NULL };
static const char * const contact_columns[] = { "customer_id", NULL };
static const char * const case_columns[] = { "customer_id", "call_id", "status", "assignee",
                                             "category", NULL };
static const char * const call_columns[] = { "queue", "agent", "caller", "customer_id", NULL };
static const char * const fax_columns[] = { "customer_id", "call_id", NULL };

static const MirrorSpec mirror_specs[] = {
  { &kefu_record_customer, "customers", FALSE, customer_columns },
  { &kefu_record_contact, "contacts", FALSE, contact_columns },
  { &kefu_record_case, "cases", FALSE, case_columns },
  { &kefu_record_call, "calls", TRUE, call_columns },
  { &kefu_record_fax, "faxes", FALSE, fax_columns },
};

static const MirrorSpec *
mirror_spec_for (const char *entity)
{
  for (guint i = 0; entity && i < G_N_ELEMENTS (mirror_specs); i++)
    if (g_str_equal (mirror_specs[i].kind->name, entity))
      return &mirror_specs[i];
  return NULL;
}

void
kefu_outbox_entry_free (KefuOutboxEntry *entry)
{
  if (!entry)
    return;
  g_free (entry->op_id);
  g_free (entry->entity);
  g_clear_pointer (&entry->doc, json_object_unref);
  g_free (entry->message);
  g_clear_pointer (&entry->theirs, json_object_unref);
  g_free (entry);
}

/* --- small helpers --------------------------------------------------------- */

static JsonObject *
parse_object (const char *text)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  JsonNode *root;

  if (!text || !json_parser_load_from_data (parser, text, -1, NULL))
    return NULL;
  root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  return json_object_ref (json_node_get_object (root));
}

static JsonObject *
copy_object (JsonObject *object)
{
  g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), object);
  g_autoptr(JsonNode) copy = json_node_copy (node);

  /* json_node_copy shares the object; a deep copy goes through text. */
  g_autofree char *text = json_to_string (copy, FALSE);

  return parse_object (text);
}

/* A patch changes only what it names; null clears a member. */
static void
apply_patch (JsonObject *record,
             JsonObject *patch)
{
  g_autoptr(GList) members = json_object_get_members (patch);

  for (GList *l = members; l; l = l->next)
    {
      JsonNode *value = json_object_get_member (patch, l->data);

      if (JSON_NODE_HOLDS_NULL (value))
        json_object_remove_member (record, l->data);
      else
        json_object_set_member (record, l->data, json_node_copy (value));
    }
}

static gint64
time_member_ms (JsonObject *record,
                const char *member,
                gint64      fallback)
{
  const char *text = kefu_json_get_string (record, member);
  gint64 ms;

  if (text && kefu_time_parse_ms (text, NULL, &ms))
    return ms;
  return fallback;
}

static char *
name_key (const char *name)
{
  /* As the core store keys names, so its prefix search finds ours. */
  g_autofree char *normal = g_utf8_normalize (name ? name : "", -1, G_NORMALIZE_ALL_COMPOSE);

  return g_utf8_casefold (normal ? normal : "", -1);
}

static char *
id_text (gint64 id)
{
  return g_strdup_printf ("%" G_GINT64_FORMAT, id);
}

static void
set_not_found (GError     **error,
               const char  *entity)
{
  if (g_strcmp0 (entity, "customer") == 0)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                 _("This customer is not in the local copy"));
  else if (g_strcmp0 (entity, "case") == 0)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                 _("This case is not in the local copy"));
  else
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                 _("This record is not in the local copy"));
}

/* --- transactions ------------------------------------------------------------ */

static KefuDbConn *
begin_write (KefuLocalStore  *self,
             GError         **error)
{
  KefuDbConn *conn = kefu_db_acquire (self->db, error);

  if (!conn)
    return NULL;
  g_mutex_lock (&self->write_lock);
  if (!kefu_db_begin (conn, error))
    {
      g_mutex_unlock (&self->write_lock);
      kefu_db_release (self->db, conn);
      return NULL;
    }
  return conn;
}

static gboolean
end_write (KefuLocalStore  *self,
           KefuDbConn      *conn,
           gboolean         ok,
           GError         **error)
{
  if (ok)
    ok = kefu_db_commit (conn, error);
  else
    kefu_db_rollback (conn);
  g_mutex_unlock (&self->write_lock);
  kefu_db_release (self->db, conn);
  return ok;
}

static gboolean
meta_get (KefuDbConn  *conn,
          const char  *key,
          gint64      *out_value,
          GError     **error)
{
  KefuDbValue params[] = { KEFU_DB_V_TEXT (key) };
  g_autoptr(GError) local_error = NULL;

  *out_value = 0;
  if (!kefu_db_query_int (conn, "SELECT value FROM desk_meta WHERE key = ?", params, 1, out_value,
                          &local_error) && local_error)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  return TRUE;
}

static gboolean
meta_set (KefuDbConn  *conn,
          const char  *key,
          gint64       value,
          GError     **error)
{
  KefuDbValue params[] = { KEFU_DB_V_TEXT (key), KEFU_DB_V_INT (value) };

  return kefu_db_exec (conn, "INSERT INTO desk_meta (key, value) VALUES (?, ?) "
                       "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                       params, 2, NULL, error);
}

static gboolean
next_local_id (KefuDbConn  *conn,
               gint64      *out_id,
               GError     **error)
{
  gint64 last;

  if (!meta_get (conn, "last_local_id", &last, error))
    return FALSE;
  *out_id = MAX (last + 1, KEFU_LOCAL_STORE_FIRST_LOCAL_ID);
  return meta_set (conn, "last_local_id", *out_id, error);
}

static void
refresh_outbox_count (KefuLocalStore *self)
{
  KefuDbConn *conn = kefu_db_acquire (self->db, NULL);
  gint64 count = 0;

  if (!conn)
    return;
  kefu_db_query_int (conn, "SELECT count(*) FROM desk_outbox", NULL, 0, &count, NULL);
  kefu_db_release (self->db, conn);
  self->outbox_count = (guint) count;
}

static void
outbox_changed (KefuLocalStore *self)
{
  refresh_outbox_count (self);
  g_signal_emit (self, signals[SIGNAL_OUTBOX_CHANGED], 0);
}

/* --- the mirror: records as the core schema keeps them -------------------------- */

/* The document as the core store keeps it: what a client may set, not the
 * server's own members (those are columns). */
static char *
mirror_doc_text (const MirrorSpec *spec,
                 JsonObject       *record)
{
  g_autoptr(JsonObject) copy = json_object_new ();
  g_autoptr(GList) members = json_object_get_members (record);

  for (GList *l = members; l; l = l->next)
    {
      const KefuField *field = kefu_record_kind_field (spec->kind, l->data);
      gboolean fax_document = spec->kind == &kefu_record_fax && field &&
                              (g_str_equal (field->name, "content_type") ||
                               g_str_equal (field->name, "size"));

      if (!field)
        continue;
      if ((field->flags & (KEFU_FIELD_READ_ONLY | KEFU_FIELD_WRITE_ONLY)) && !fax_document)
        continue;
      if (spec->text_id && g_str_equal (l->data, "id"))
        continue;
      json_object_set_member (copy, l->data,
                              json_node_copy (json_object_get_member (record, l->data)));
    }
  return kefu_record_encode (copy);
}

static gboolean
write_phones (KefuDbConn  *conn,
              gint64       customer_id,
              JsonObject  *record,
              GError     **error)
{
  KefuDbValue id = KEFU_DB_V_INT (customer_id);
  JsonNode *node = record ? json_object_get_member (record, "phones") : NULL;

  if (!kefu_db_exec (conn, "DELETE FROM customer_phones WHERE customer_id = ?", &id, 1, NULL,
                     error))
    return FALSE;
  if (!node || !JSON_NODE_HOLDS_ARRAY (node))
    return TRUE;
  for (guint i = 0; i < json_array_get_length (json_node_get_array (node)); i++)
    {
      KefuDbValue params[] = {
        KEFU_DB_V_TEXT (json_array_get_string_element (json_node_get_array (node), i)),
        KEFU_DB_V_INT (customer_id),
      };

      if (!kefu_db_exec (conn, "INSERT INTO customer_phones (e164, customer_id) VALUES (?, ?) "
                         "ON CONFLICT DO NOTHING", params, 2, NULL, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
write_notes (KefuDbConn  *conn,
             gint64       case_id,
             JsonObject  *record,
             GError     **error)
{
  KefuDbValue id = KEFU_DB_V_INT (case_id);
  JsonNode *node = json_object_get_member (record, "notes");

  if (!kefu_db_exec (conn, "DELETE FROM case_notes WHERE case_id = ?", &id, 1, NULL, error))
    return FALSE;
  if (!node || !JSON_NODE_HOLDS_ARRAY (node))
    return TRUE;
  for (guint i = 0; i < json_array_get_length (json_node_get_array (node)); i++)
    {
      JsonObject *note = json_array_get_object_element (json_node_get_array (node), i);
      KefuDbValue params[] = {
        KEFU_DB_V_INT (kefu_json_get_int (note, "id", 0)),
        KEFU_DB_V_INT (case_id),
        KEFU_DB_V_TEXT (kefu_json_get_string (note, "author")),
        KEFU_DB_V_TEXT (kefu_json_get_string (note, "body") ? kefu_json_get_string (note, "body")
                                                            : ""),
        KEFU_DB_V_INT (time_member_ms (note, "created_at", 0)),
      };

      if (!kefu_db_exec (conn, "INSERT OR REPLACE INTO case_notes (id, case_id, author, body, "
                         "created_at) VALUES (?, ?, ?, ?, ?)", params, G_N_ELEMENTS (params),
                         NULL, error))
        return FALSE;
    }
  return TRUE;
}

/* Writes record (with its id, version and times) as this copy's row. */
static gboolean
upsert_record (KefuDbConn        *conn,
               const MirrorSpec  *spec,
               JsonObject        *record,
               GError           **error)
{
  g_autoptr(GString) sql = g_string_new (NULL);
  g_autoptr(GString) marks = g_string_new (NULL);
  g_autoptr(GString) sets = g_string_new (NULL);
  g_autofree char *doc = mirror_doc_text (spec, record);
  g_autofree char *key = NULL;
  KefuDbValue params[16];
  gint64 now = kefu_time_now_ms ();
  guint n = 0;

  if (spec->text_id)
    params[n++] = KEFU_DB_V_TEXT (kefu_json_get_string (record, "id"));
  else
    params[n++] = KEFU_DB_V_INT (kefu_json_get_int (record, "id", 0));
  params[n++] = KEFU_DB_V_TEXT (doc);
  params[n++] = KEFU_DB_V_INT (kefu_json_get_int (record, "version", 0));
  params[n++] = KEFU_DB_V_INT (time_member_ms (record, "created_at", now));
  params[n++] = KEFU_DB_V_INT (time_member_ms (record, "updated_at", now));

  g_string_printf (sql, "INSERT INTO %s (id, doc, version, created_at, updated_at, deleted",
                   spec->table);
  g_string_append (marks, "?, ?, ?, ?, ?, 0");
  g_string_append (sets, "doc = excluded.doc, version = excluded.version, "
                         "created_at = excluded.created_at, updated_at = excluded.updated_at, "
                         "deleted = 0");
  for (guint i = 0; spec->columns[i]; i++)
    {
      const KefuField *field = kefu_record_kind_field (spec->kind, spec->columns[i]);
      JsonNode *node = json_object_get_member (record, spec->columns[i]);

      g_string_append_printf (sql, ", %s", spec->columns[i]);
      g_string_append (marks, ", ?");
      g_string_append_printf (sets, ", %s = excluded.%s", spec->columns[i], spec->columns[i]);
      if (!node || !JSON_NODE_HOLDS_VALUE (node))
        params[n++] = KEFU_DB_V_NULL;
      else if (field->type == KEFU_FIELD_INT)
        params[n++] = KEFU_DB_V_INT (json_node_get_int (node));
      else
        params[n++] = KEFU_DB_V_TEXT (json_node_get_string (node));
    }
  if (spec->kind == &kefu_record_customer)
    {
      key = name_key (kefu_json_get_string (record, "name"));
      g_string_append (sql, ", name_key");
      g_string_append (marks, ", ?");
      g_string_append (sets, ", name_key = excluded.name_key");
      params[n++] = KEFU_DB_V_TEXT (key);
    }
  g_assert (n <= G_N_ELEMENTS (params));
  g_string_append_printf (sql, ") VALUES (%s) ON CONFLICT (id) DO UPDATE SET %s", marks->str,
                          sets->str);

  if (!kefu_db_exec (conn, sql->str, params, n, NULL, error))
    return FALSE;
  if (spec->kind == &kefu_record_customer)
    return write_phones (conn, kefu_json_get_int (record, "id", 0), record, error);
  if (spec->kind == &kefu_record_case)
    return write_notes (conn, kefu_json_get_int (record, "id", 0), record, error);
  return TRUE;
}

static gboolean
delete_record (KefuDbConn        *conn,
               const MirrorSpec  *spec,
               const char        *id,
               GError           **error)
{
  g_autofree char *sql = g_strdup_printf ("UPDATE %s SET deleted = 1 WHERE id = ?", spec->table);
  KefuDbValue params[1];

  if (spec->text_id)
    params[0] = KEFU_DB_V_TEXT (id);
  else
    params[0] = KEFU_DB_V_INT (g_ascii_strtoll (id, NULL, 10));
  if (!kefu_db_exec (conn, sql, params, 1, NULL, error))
    return FALSE;
  if (spec->kind == &kefu_record_customer)
    return write_phones (conn, params[0].i, NULL, error);
  return TRUE;
}

typedef struct {
  gint64    version;
  gboolean  found;
  gint64    customer_id;
} RowInfo;

static gboolean
on_row_info (KefuDbRow *row,
             gpointer   user_data)
{
  RowInfo *info = user_data;

  info->found = TRUE;
  info->version = kefu_db_row_int (row, 0);
  info->customer_id = kefu_db_row_int (row, 1);
  return FALSE;
}

static gboolean
read_row_info (KefuDbConn        *conn,
               const MirrorSpec  *spec,
               const char        *id,
               RowInfo           *info,
               GError           **error)
{
  g_autofree char *sql = g_strdup_printf ("SELECT version, %s FROM %s WHERE id = ?",
                                          spec->kind == &kefu_record_customer ? "id"
                                                                              : "customer_id",
                                          spec->table);
  KefuDbValue params[1];

  memset (info, 0, sizeof *info);
  if (spec->text_id)
    params[0] = KEFU_DB_V_TEXT (id);
  else
    params[0] = KEFU_DB_V_INT (g_ascii_strtoll (id, NULL, 10));
  return kefu_db_query (conn, sql, params, 1, on_row_info, info, error);
}

/* --- outbox rows -------------------------------------------------------------- */

#define OUTBOX_COLUMNS "seq, op_id, entity, operation, record_id, local_id, doc, base_version, " \
                       "state, message, theirs, created_at"

static gboolean
on_outbox_row (KefuDbRow *row,
               gpointer   user_data)
{
  GPtrArray *entries = user_data;
  KefuOutboxEntry *entry = g_new0 (KefuOutboxEntry, 1);

  entry->seq = kefu_db_row_int (row, 0);
  entry->op_id = g_strdup (kefu_db_row_text (row, 1));
  entry->entity = g_strdup (kefu_db_row_text (row, 2));
  entry->operation = (KefuOutboxOperation) kefu_db_row_int (row, 3);
  entry->record_id = kefu_db_row_int (row, 4);
  entry->local_id = kefu_db_row_int (row, 5);
  entry->doc = parse_object (kefu_db_row_text (row, 6));
  if (!entry->doc)
    entry->doc = json_object_new ();
  entry->base_version = kefu_db_row_int (row, 7);
  entry->state = (KefuOutboxState) kefu_db_row_int (row, 8);
  entry->message = g_strdup (kefu_db_row_text (row, 9));
  entry->theirs = parse_object (kefu_db_row_text (row, 10));
  entry->created_ms = kefu_db_row_int (row, 11);
  g_ptr_array_add (entries, entry);
  return TRUE;
}

static GPtrArray *
query_outbox (KefuDbConn         *conn,
              const char         *where,
              const KefuDbValue  *params,
              guint               n_params,
              GError            **error)
{
  g_autoptr(GPtrArray) entries =
    g_ptr_array_new_with_free_func ((GDestroyNotify) kefu_outbox_entry_free);
  g_autofree char *sql = g_strdup_printf ("SELECT " OUTBOX_COLUMNS " FROM desk_outbox %s "
                                          "ORDER BY seq", where ? where : "");

  if (!kefu_db_query (conn, sql, params, n_params, on_outbox_row, entries, error))
    return NULL;
  return g_steal_pointer (&entries);
}

static KefuOutboxEntry *
outbox_entry_on (KefuDbConn  *conn,
                 gint64       seq,
                 GError     **error)
{
  KefuDbValue params[] = { KEFU_DB_V_INT (seq) };
  g_autoptr(GPtrArray) entries = query_outbox (conn, "WHERE seq = ?", params, 1, error);

  if (!entries)
    return NULL;
  if (entries->len == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("This change is no longer waiting to be sent"));
      return NULL;
    }
  return g_ptr_array_steal_index (entries, 0);
}

static gboolean
queue_change (KefuDbConn           *conn,
              const char           *entity,
              KefuOutboxOperation   operation,
              gint64                record_id,
              gint64                local_id,
              JsonObject           *doc,
              gint64                base_version,
              GError              **error)
{
  g_autofree char *op_id = g_uuid_string_random ();
  g_autofree char *text = kefu_record_encode (doc);
  KefuDbValue params[] = {
    KEFU_DB_V_TEXT (op_id),
    KEFU_DB_V_TEXT (entity),
    KEFU_DB_V_INT (operation),
    KEFU_DB_V_INT (record_id),
    local_id ? KEFU_DB_V_INT (local_id) : KEFU_DB_V_NULL,
    KEFU_DB_V_TEXT (text),
    KEFU_DB_V_INT (base_version),
    KEFU_DB_V_INT (kefu_time_now_ms ()),
  };

  return kefu_db_exec (conn, "INSERT INTO desk_outbox (op_id, entity, operation, record_id, "
                       "local_id, doc, base_version, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       params, G_N_ELEMENTS (params), NULL, error);
}

/* The record as the agent sees it: the server's copy with every change of
 * the agent's not yet acknowledged on top (patches, and notes waiting to be
 * sent).  Written over this copy's row. */
static gboolean
write_view (KefuDbConn        *conn,
            const MirrorSpec  *spec,
            JsonObject        *server_record,
            GError           **error)
{
  g_autoptr(JsonObject) view = copy_object (server_record);
  g_autoptr(GPtrArray) entries = NULL;
  gint64 id = kefu_json_get_int (server_record, "id", 0);
  KefuDbValue params[] = { KEFU_DB_V_TEXT (spec->kind->name), KEFU_DB_V_INT (id) };

  if (spec->text_id)
    return upsert_record (conn, spec, server_record, error);

  entries = query_outbox (conn, "WHERE entity = ? AND record_id = ?", params, 2, error);
  if (!entries)
    return FALSE;
  for (guint i = 0; i < entries->len; i++)
    {
      KefuOutboxEntry *entry = g_ptr_array_index (entries, i);

      if (entry->operation == KEFU_OUTBOX_UPDATE)
        apply_patch (view, entry->doc);
    }
  if (!upsert_record (conn, spec, view, error))
    return FALSE;
  for (guint i = 0; i < entries->len; i++)
    {
      KefuOutboxEntry *entry = g_ptr_array_index (entries, i);
      KefuDbValue note[] = {
        KEFU_DB_V_INT (entry->local_id),
        KEFU_DB_V_INT (id),
        KEFU_DB_V_TEXT (kefu_json_get_string (entry->doc, "body")),
        KEFU_DB_V_INT (entry->created_ms),
      };

      if (entry->operation == KEFU_OUTBOX_ADD_NOTE &&
          !kefu_db_exec (conn, "INSERT OR REPLACE INTO case_notes (id, case_id, author, body, "
                         "created_at) VALUES (?, ?, NULL, ?, ?)", note, G_N_ELEMENTS (note), NULL,
                         error))
        return FALSE;
    }
  return TRUE;
}

/* A record created here got the server's id: every row, reference and
 * waiting change follows. */
static gboolean
rekey (KefuDbConn        *conn,
       const MirrorSpec  *spec,
       gint64             old_id,
       gint64             new_id,
       GError           **error)
{
  KefuDbValue ids[] = { KEFU_DB_V_INT (new_id), KEFU_DB_V_INT (old_id) };
  KefuDbValue gone[] = { KEFU_DB_V_INT (new_id) };
  KefuDbValue entity[] = { KEFU_DB_V_INT (new_id), KEFU_DB_V_TEXT (spec->kind->name),
                           KEFU_DB_V_INT (old_id) };
  g_autofree char *drop = g_strdup_printf ("DELETE FROM %s WHERE id = ?", spec->table);
  g_autofree char *move = g_strdup_printf ("UPDATE %s SET id = ? WHERE id = ?", spec->table);

  /* The feed may have brought the server's copy already (an answer lost
   * on the way, the retry replayed): that row gives way to ours. */
  if (!kefu_db_exec (conn, drop, gone, 1, NULL, error) ||
      !kefu_db_exec (conn, move, ids, 2, NULL, error) ||
      !kefu_db_exec (conn, "UPDATE desk_outbox SET record_id = ? "
                     "WHERE entity = ? AND record_id = ?", entity, 3, NULL, error))
    return FALSE;

  if (spec->kind == &kefu_record_customer)
    {
      static const char * const referring[] = { "contacts", "cases", "calls", "faxes" };

      if (!kefu_db_exec (conn, "DELETE FROM customer_phones WHERE customer_id = ?", gone, 1, NULL,
                         error) ||
          !kefu_db_exec (conn, "UPDATE customer_phones SET customer_id = ? WHERE customer_id = ?",
                         ids, 2, NULL, error) ||
          !kefu_db_exec (conn, "UPDATE desk_outbox SET doc = json_set (doc, '$.customer_id', ?) "
                         "WHERE json_extract (doc, '$.customer_id') = ?", ids, 2, NULL, error))
        return FALSE;
      for (guint i = 0; i < G_N_ELEMENTS (referring); i++)
        {
          g_autofree char *sql = g_strdup_printf ("UPDATE %s SET customer_id = ?1, "
                                                  "doc = json_set (doc, '$.customer_id', ?1) "
                                                  "WHERE customer_id = ?2", referring[i]);

          if (!kefu_db_exec (conn, sql, ids, 2, NULL, error))
            return FALSE;
        }
    }
  else if (spec->kind == &kefu_record_case)
    {
      if (!kefu_db_exec (conn, "DELETE FROM case_notes WHERE case_id = ?", gone, 1, NULL, error) ||
          !kefu_db_exec (conn, "UPDATE case_notes SET case_id = ? WHERE case_id = ?", ids, 2, NULL,
                         error))
        return FALSE;
    }
  return TRUE;
}

/* --- GObject ---------------------------------------------------------------- */

static void
kefu_local_store_finalize (GObject *object)
{
  KefuLocalStore *self = KEFU_LOCAL_STORE (object);

  g_clear_object (&self->store);
  g_clear_object (&self->db);
  g_free (self->path);
  g_mutex_clear (&self->write_lock);

  G_OBJECT_CLASS (kefu_local_store_parent_class)->finalize (object);
}

static void
kefu_local_store_class_init (KefuLocalStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = kefu_local_store_finalize;

  signals[SIGNAL_CUSTOMER_CHANGED] =
    g_signal_new ("customer-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, G_TYPE_INT64);
  signals[SIGNAL_RECORD_ID_CHANGED] =
    g_signal_new ("record-id-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                  NULL, NULL, G_TYPE_NONE, 3, G_TYPE_STRING, G_TYPE_INT64, G_TYPE_INT64);
  signals[SIGNAL_OUTBOX_CHANGED] =
    g_signal_new ("outbox-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 0);
}

static void
kefu_local_store_init (KefuLocalStore *self)
{
  g_mutex_init (&self->write_lock);
}

static gboolean
migrate_desk (KefuLocalStore  *self,
              GError         **error)
{
  KefuDbConn *conn = begin_write (self, error);
  gint64 version = 0;
  gint64 found = 0;
  gboolean ok;

  if (!conn)
    return FALSE;
  ok = kefu_db_query_int (conn, "SELECT count(*) FROM sqlite_master WHERE name = 'desk_meta'",
                          NULL, 0, &found, error);
  if (ok && found)
    ok = meta_get (conn, "desk_schema", &version, error);
  if (ok && version > (gint64) G_N_ELEMENTS (desk_migrations) - 1)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _("The local copy in %s was written by a newer Kefu; update Kefu"), self->path);
      ok = FALSE;
    }
  for (gint64 v = version; ok && desk_migrations[v]; v++)
    ok = kefu_db_exec_script (conn, desk_migrations[v], error) &&
         meta_set (conn, "desk_schema", v + 1, error);
  return end_write (self, conn, ok, error);
}

KefuLocalStore *
kefu_local_store_new (const char  *path,
                      const char  *default_country,
                      GError     **error)
{
  g_autoptr(KefuLocalStore) self = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  self = g_object_new (KEFU_TYPE_LOCAL_STORE, NULL);
  self->path = g_strdup (path);
  self->db = kefu_db_sqlite_new (path);
  self->store = kefu_store_new (self->db, default_country ? default_country : "CN");
  if (!kefu_store_migrate (self->store, error) || !migrate_desk (self, error))
    {
      g_prefix_error (error, _("Cannot open the local copy %s: "), path);
      return NULL;
    }
  refresh_outbox_count (self);
  return g_steal_pointer (&self);
}

const char *
kefu_local_store_get_path (KefuLocalStore *self)
{
  g_return_val_if_fail (KEFU_IS_LOCAL_STORE (self), NULL);
  return self->path;
}

const char *
kefu_local_store_get_default_country (KefuLocalStore *self)
{
  g_return_val_if_fail (KEFU_IS_LOCAL_STORE (self), NULL);
  return kefu_store_get_default_country (self->store);
}

/* --- reads ------------------------------------------------------------------------ */

JsonObject *
kefu_local_store_get_record (KefuLocalStore  *self,
                             const char      *entity,
                             gint64           id,
                             GError         **error)
{
  const MirrorSpec *spec = mirror_spec_for (entity);
  g_autofree char *text = id_text (id);
  g_autoptr(GError) local_error = NULL;
  JsonObject *record;

  g_return_val_if_fail (KEFU_IS_LOCAL_STORE (self), NULL);

  if (!spec || spec->text_id)
    {
      set_not_found (error, entity);
      return NULL;
    }
  record = kefu_store_get (self->store, spec->kind, text, &local_error);
  if (!record)
    {
      if (g_error_matches (local_error, KEFU_STORE_ERROR, KEFU_STORE_ERROR_NOT_FOUND))
        set_not_found (error, entity);
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
    }
  return record;
}

JsonArray *
kefu_local_store_find_customers_by_phone (KefuLocalStore  *self,
                                          const char      *number,
                                          GError         **error)
{
  g_return_val_if_fail (KEFU_IS_LOCAL_STORE (self), NULL);
  return kefu_store_find_customers_by_phone (self->store, number ? number : "", error);
}

JsonObject *
kefu_local_store_get_customer (KefuLocalStore  *self,
                               gint64           customer_id,
                               GError         **error)
{
  return kefu_local_store_get_record (self, "customer", customer_id, error);
}

JsonArray *
kefu_local_store_search_customers (KefuLocalStore  *self,
                                   const char      *query,
                                   guint            limit,
                                   GError         **error)
{
  g_autofree char *trimmed = g_strstrip (g_strdup (query ? query : ""));

  g_return_val_if_fail (KEFU_IS_LOCAL_STORE (self), NULL);

  if (!*trimmed)
    return json_array_new ();
  return kefu_store_search_customers (self->store, trimmed, 0, limit ? limit : 50, error);
}

static JsonArray *
list_by (KefuLocalStore        *self,
         const KefuRecordKind  *kind,
         const char            *column,
         const char            *value,
         guint                  limit,
         GError               **error)
{
  g_autoptr(GHashTable) filter = g_hash_table_new (g_str_hash, g_str_equal);

  if (column)
    g_hash_table_insert (filter, (gpointer) column, (gpointer) value);
  return kefu_store_list (self->store, kind, column ? filter : NULL, 0, limit, error);
}

typedef struct {
  gint64      at_ms;
  JsonObject *item;
} TimelineItem;

static void
timeline_item_clear (TimelineItem *item)
{
  json_object_unref (item->item);
}

static void
timeline_add (GArray     *items,
              const char *kind,
              JsonObject *record,
              gint64      at_ms)
{
  TimelineItem item = { at_ms, json_object_new () };
  g_autofree char *at = kefu_time_format_ms (at_ms);

  json_object_set_string_member (item.item, "kind", kind);
  json_object_set_string_member (item.item, "at", at);
  json_object_set_object_member (item.item, "record", json_object_ref (record));
  g_array_append_val (items, item);
}

static int
timeline_newest_first (gconstpointer a,
                       gconstpointer b)
{
  const TimelineItem *x = a, *y = b;

  return x->at_ms < y->at_ms ? 1 : x->at_ms > y->at_ms ? -1 : 0;
}

JsonArray *
kefu_local_store_get_timeline (KefuLocalStore  *self,
                               gint64           customer_id,
                               GError         **error)
{
  g_autofree char *id = id_text (customer_id);
  g_autoptr(GArray) items = g_array_new (FALSE, FALSE, sizeof (TimelineItem));
  g_autoptr(JsonArray) calls = NULL;
  g_autoptr(JsonArray) cases = NULL;
  g_autoptr(JsonArray) faxes = NULL;
  JsonArray *timeline;

  g_return_val_if_fail (KEFU_IS_LOCAL_STORE (self), NULL);

  g_array_set_clear_func (items, (GDestroyNotify) timeline_item_clear);
  calls = list_by (self, &kefu_record_call, "customer_id", id, 500, error);
  if (!calls)
    return NULL;
  cases = list_by (self, &kefu_record_case, "customer_id", id, 500, error);
  if (!cases)
    return NULL;
  faxes = list_by (self, &kefu_record_fax, "customer_id", id, 500, error);
  if (!faxes)
    return NULL;

  for (guint i = 0; i < json_array_get_length (calls); i++)
    {
      JsonObject *call = json_array_get_object_element (calls, i);

      timeline_add (items, "call", call,
                    time_member_ms (call, "offered_at", time_member_ms (call, "created_at", 0)));
    }
  for (guint i = 0; i < json_array_get_length (cases); i++)
    {
      JsonObject *kase = json_array_get_object_element (cases, i);
      JsonNode *notes = json_object_get_member (kase, "notes");

      timeline_add (items, "case", kase, time_member_ms (kase, "created_at", 0));
      for (guint j = 0; notes && JSON_NODE_HOLDS_ARRAY (notes) &&
                        j < json_array_get_length (json_node_get_array (notes)); j++)
        {
          g_autoptr(JsonObject) note = copy_object (
            json_array_get_object_element (json_node_get_array (notes), j));

          json_object_set_int_member (note, "case_id", kefu_json_get_int (kase, "id", 0));
          if (kefu_json_get_string (kase, "subject"))
            json_object_set_string_member (note, "case_subject",
                                           kefu_json_get_string (kase, "subject"));
          timeline_add (items, "note", note, time_member_ms (note, "created_at", 0));
        }
    }
  for (guint i = 0; i < json_array_get_length (faxes); i++)
    {
      JsonObject *fax = json_array_get_object_element (faxes, i);

      timeline_add (items, "fax", fax, time_member_ms (fax, "created_at", 0));
    }

  g_array_sort (items, timeline_newest_first);
  timeline = json_array_sized_new (items->len);
  for (guint i = 0; i < items->len; i++)
    json_array_add_object_element (timeline,
                                   json_object_ref (g_array_index (items, TimelineItem, i).item));
  return timeline;
}

JsonArray *
kefu_local_store_list_contacts (KefuLocalStore  *self,
                                gint64           customer_id,
                                GError         **error)
{
  g_autofree char *id = id_text (customer_id);

  g_return_val_if_fail (KEFU_IS_LOCAL_STORE (self), NULL);
  return list_by (self, &kefu_record_contact, "customer_id", id, 500, error);
}

JsonObject *
kefu_local_store_get_case (KefuLocalStore  *self,
                           gint64           case_id,
                           GError         **error)
{
  return kefu_local_store_get_record (self, "case", case_id, error);
}

JsonArray *
kefu_local_store_list_cases_for_call (KefuLocalStore  *self,
                                      const char      *call_id,
                                      GError         **error)
{
  g_return_val_if_fail (KEFU_IS_LOCAL_STORE (self), NULL);
  g_return_val_if_fail (call_id != NULL, NULL);
  return list_by (self, &kefu_record_case, "call_id", call_id, 100, error);
}

JsonArray *
kefu_local_store_list_recent_calls (KefuLocalStore  *self,
                                    const char      *agent,
                                    guint            limit,
                                    GError         **error)
{
  g_return_val_if_fail (KEFU_IS_LOCAL_STORE (self), NULL);
  return list_by (self, &kefu_record_call, agent ? "agent" : NULL, agent, limit ? limit : 50,
                  error);
}

/* --- edits -------------------------------------------------------------------------- */

static JsonObject *
validate (KefuLocalStore        *self,
          const KefuRecordKind  *kind,
          JsonObject            *doc,
          KefuRecordMode         mode,
          GError               **error)
{
  g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), doc);

  return kefu_record_validate (kind, node, mode, kefu_store_get_default_country (self->store),
                               NULL, error);
}

static gint64
customer_of (JsonObject *record,
             const char *entity)
{
  return g_str_equal (entity, "customer") ? kefu_json_get_int (record, "id", 0)
                                          : kefu_json_get_int (record, "customer_id", 0);
}

static JsonObject *
create_record (KefuLocalStore  *self,
               const char      *entity,
               JsonObject      *input,
               GError         **error)
{
  const MirrorSpec *spec = mirror_spec_for (entity);
  g_autoptr(JsonObject) doc = NULL;
  g_autoptr(JsonObject) record = NULL;
  g_autofree char *now_text = kefu_time_format_ms (kefu_time_now_ms ());
  KefuDbConn *conn;
  gint64 id = 0;
  gboolean ok;

  g_return_val_if_fail (KEFU_IS_LOCAL_STORE (self), NULL);
  g_return_val_if_fail (input != NULL, NULL);

  doc = validate (self, spec->kind, input, KEFU_RECORD_CREATE, error);
  if (!doc)
    return NULL;

  conn = begin_write (self, error);
  if (!conn)
    return NULL;
  ok = next_local_id (conn, &id, error);
  if (ok)
    {
      record = copy_object (doc);
      json_object_set_int_member (record, "id", id);
      json_object_set_int_member (record, "version", 0);
      json_object_set_string_member (record, "created_at", now_text);
      json_object_set_string_member (record, "updated_at", now_text);
      ok = upsert_record (conn, spec, record, error) &&
           queue_change (conn, entity, KEFU_OUTBOX_CREATE, id, id, doc, -1, error);
    }
  if (!end_write (self, conn, ok, error))
    return NULL;

  outbox_changed (self);
  g_signal_emit (self, signals[SIGNAL_CUSTOMER_CHANGED], 0, customer_of (record, entity));
  return kefu_local_store_get_record (self, entity, id, error);
}

static JsonObject *
update_record (KefuLocalStore  *self,
               const char      *entity,
               gint64           id,
               JsonObject      *input,
               GError         **error)
{
  const MirrorSpec *spec = mirror_spec_for (entity);
  g_autoptr(JsonObject) patch = NULL;
  g_autoptr(JsonObject) current = NULL;
  KefuDbConn *conn;
  gboolean ok;

  g_return_val_if_fail (KEFU_IS_LOCAL_STORE (self), NULL);
  g_return_val_if_fail (input != NULL, NULL);

  patch = validate (self, spec->kind, input, KEFU_RECORD_UPDATE, error);
  if (!patch)
    return NULL;
  current = kefu_local_store_get_record (self, entity, id, error);
  if (!current)
    return NULL;
  if (json_object_get_size (patch) == 0)
    return g_steal_pointer (&current);

  conn = begin_write (self, error);
  if (!conn)
    return NULL;
  /* Based on the version the copy has; when an earlier change to the same
   * record is acknowledged, this one is moved onto the version it made. */
  apply_patch (current, patch);
  ok = upsert_record (conn, spec, current, error) &&
       queue_change (conn, entity, KEFU_OUTBOX_UPDATE, id, 0, patch,
                     kefu_json_get_int (current, "version", 0), error);
  if (!end_write (self, conn, ok, error))
    return NULL;

  outbox_changed (self);
  g_signal_emit (self, signals[SIGNAL_CUSTOMER_CHANGED], 0, customer_of (current, entity));
  return kefu_local_store_get_record (self, entity, id, error);
}

JsonObject *
kefu_local_store_create_customer (KefuLocalStore  *self,
                                  JsonObject      *customer,
                                  GError         **error)
{
  return create_record (self, "customer", customer, error);
}

JsonObject *
kefu_local_store_update_customer (KefuLocalStore  *self,
                                  gint64           customer_id,
                                  JsonObject      *patch,
                                  GError         **error)
{
  return update_record (self, "customer", customer_id, patch, error);
}

JsonObject *
kefu_local_store_create_case (KefuLocalStore  *self,
                              JsonObject      *kase,
                              GError         **error)
{
  return create_record (self, "case", kase, error);
}

JsonObject *
kefu_local_store_update_case (KefuLocalStore  *self,
                              gint64           case_id,
                              JsonObject      *patch,
                              GError         **error)
{
  return update_record (self, "case", case_id, patch, error);
}

JsonObject *
kefu_local_store_create_contact (KefuLocalStore  *self,
                                 JsonObject      *contact,
                                 GError         **error)
{
  return create_record (self, "contact", contact, error);
}

JsonObject *
kefu_local_store_add_case_note (KefuLocalStore  *self,
                                gint64           case_id,
                                const char      *body,
                                GError         **error)
{
  g_autoptr(JsonObject) input = json_object_new ();
  g_autoptr(JsonObject) note = NULL;
  g_autoptr(JsonObject) kase = NULL;
  KefuDbConn *conn;
  gint64 note_id = 0;
  gboolean ok;

  g_return_val_if_fail (KEFU_IS_LOCAL_STORE (self), NULL);

  json_object_set_string_member (input, "body", body ? body : "");
  note = validate (self, &kefu_record_case_note, input, KEFU_RECORD_CREATE, error);
  if (!note)
    return NULL;
  kase = kefu_local_store_get_case (self, case_id, error);
  if (!kase)
    return NULL;

  conn = begin_write (self, error);
  if (!conn)
    return NULL;
  ok = next_local_id (conn, &note_id, error);
  if (ok)
    {
      KefuDbValue params[] = {
        KEFU_DB_V_INT (note_id), KEFU_DB_V_INT (case_id),
        KEFU_DB_V_TEXT (kefu_json_get_string (note, "body")), KEFU_DB_V_INT (kefu_time_now_ms ()),
      };

      ok = kefu_db_exec (conn, "INSERT INTO case_notes (id, case_id, author, body, created_at) "
                         "VALUES (?, ?, NULL, ?, ?)", params, G_N_ELEMENTS (params), NULL, error) &&
           queue_change (conn, "case", KEFU_OUTBOX_ADD_NOTE, case_id, note_id, note, -1, error);
    }
  if (!end_write (self, conn, ok, error))
    return NULL;

  outbox_changed (self);
  g_signal_emit (self, signals[SIGNAL_CUSTOMER_CHANGED], 0, customer_of (kase, "case"));
  return kefu_local_store_get_case (self, case_id, error);
}

/* --- drafts --------------------------------------------------------------------------- */

gboolean
kefu_local_store_save_draft (KefuLocalStore  *self,
                             const char      *key,
                             JsonObject      *draft,
                             GError         **error)
{
  g_autofree char *text = NULL;
  KefuDbConn *conn;
  gboolean ok;

  g_return_val_if_fail (KEFU_IS_LOCAL_STORE (self), FALSE);
  g_return_val_if_fail (key != NULL && draft != NULL, FALSE);

  text = kefu_record_encode (draft);
  conn = begin_write (self, error);
  if (!conn)
    return FALSE;
  {
    KefuDbValue params[] = { KEFU_DB_V_TEXT (key), KEFU_DB_V_TEXT (text),
                             KEFU_DB_V_INT (g_get_real_time ()) };

    ok = kefu_db_exec (conn, "INSERT INTO desk_drafts (key, doc, saved_at) VALUES (?, ?, ?) "
                       "ON CONFLICT (key) DO UPDATE SET doc = excluded.doc, "
                       "saved_at = excluded.saved_at", params, 3, NULL, error);
  }
  return end_write (self, conn, ok, error);
}

JsonObject *
kefu_local_store_load_draft (KefuLocalStore  *self,
                             const char      *key,
                             GError         **error)
{
  KefuDbValue params[] = { KEFU_DB_V_TEXT (key) };
  g_autoptr(GError) local_error = NULL;
  g_autofree char *text = NULL;
  KefuDbConn *conn;

  g_return_val_if_fail (KEFU_IS_LOCAL_STORE (self), NULL);
  g_return_val_if_fail (key != NULL, NULL);

  conn = kefu_db_acquire (self->db, error);
  if (!conn)
    return NULL;
  text = kefu_db_query_text (conn, "SELECT doc FROM desk_drafts WHERE key = ?", params, 1,
                             &local_error);
  kefu_db_release (self->db, conn);
  if (local_error)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  return text ? parse_object (text) : NULL;
}

gboolean
kefu_local_store_delete_draft (KefuLocalStore  *self,
                               const char      *key,
                               GError         **error)
{
  KefuDbValue params[] = { KEFU_DB_V_TEXT (key) };
  KefuDbConn *conn;
  gboolean ok;

  g_return_val_if_fail (KEFU_IS_LOCAL_STORE (self), FALSE);

  conn = begin_write (self, error);
  if (!conn)
    return FALSE;
  ok = kefu_db_exec (conn, "DELETE FROM desk_drafts WHERE key = ?", params, 1, NULL, error);
  return end_write (self, conn, ok, error);
}

static gboolean
on_draft_key (KefuDbRow *row,
              gpointer   user_data)
{
  g_strv_builder_add (user_data, kefu_db_row_text (row, 0));
  return TRUE;
}

char **
kefu_local_store_list_drafts (KefuLocalStore  *self,
                              GError         **error)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  KefuDbConn *conn;
  gboolean ok;

  g_return_val_if_fail (KEFU_IS_LOCAL_STORE (self), NULL);

  conn = kefu_db_acquire (self->db, error);
  if (!conn)
    return NULL;
  ok = kefu_db_query (conn, "SELECT key FROM desk_drafts ORDER BY saved_at DESC, key", NULL, 0,
                      on_draft_key, builder, error);
  kefu_db_release (self->db, conn);
  return ok ? g_strv_builder_end (builder) : NULL;
}

/* --- outbox ---------------------------------------------------------------------------- */

guint
kefu_local_store_count_outbox (KefuLocalStore *self)
{
  g_return_val_if_fail (KEFU_IS_LOCAL_STORE (self), 0);
  return self->outbox_count;
}

GPtrArray *
kefu_local_store_list_outbox (KefuLocalStore  *self,
                              GError         **error)
{
  KefuDbConn *conn;
  GPtrArray *entries;

  g_return_val_if_fail (KEFU_IS_LOCAL_STORE (self), NULL);

  conn = kefu_db_acquire (self->db, error);
  if (!conn)
    return NULL;
  entries = query_outbox (conn, NULL, NULL, 0, error);
  kefu_db_release (self->db, conn);
  return entries;
}

KefuOutboxEntry *
kefu_local_store_get_outbox_entry (KefuLocalStore  *self,
                                   gint64           seq,
                                   GError         **error)
{
  KefuDbConn *conn;
  KefuOutboxEntry *entry;

  g_return_val_if_fail (KEFU_IS_LOCAL_STORE (self), NULL);

  conn = kefu_db_acquire (self->db, error);
  if (!conn)
    return NULL;
  entry = outbox_entry_on (conn, seq, error);
  kefu_db_release (self->db, conn);
  return entry;
}

static gboolean
delete_entry (KefuDbConn  *conn,
              gint64       seq,
              GError     **error)
{
  KefuDbValue params[] = { KEFU_DB_V_INT (seq) };

  return kefu_db_exec (conn, "DELETE FROM desk_outbox WHERE seq = ?", params, 1, NULL, error);
}

/* Later changes to a record were made on the agent's view of it, which the
 * server's new version now is. */
static gboolean
rebase_entries (KefuDbConn   *conn,
                const char   *entity,
                gint64        id,
                gint64        version,
                GError      **error)
{
  KefuDbValue params[] = {
    KEFU_DB_V_INT (version), KEFU_DB_V_TEXT (entity), KEFU_DB_V_INT (id),
    KEFU_DB_V_INT (KEFU_OUTBOX_UPDATE), KEFU_DB_V_INT (KEFU_OUTBOX_PENDING),
  };

  return kefu_db_exec (conn, "UPDATE desk_outbox SET base_version = ? WHERE entity = ? AND "
                       "record_id = ? AND operation = ? AND state = ?", params,
                       G_N_ELEMENTS (params), NULL, error);
}

gboolean
kefu_local_store_ack_change (KefuLocalStore  *self,
                             gint64           seq,
                             JsonObject      *record,
                             GError         **error)
{
  g_autoptr(KefuOutboxEntry) entry = NULL;
  const MirrorSpec *spec;
  KefuDbConn *conn;
  gint64 server_id;
  gboolean ok;

  g_return_val_if_fail (KEFU_IS_LOCAL_STORE (self), FALSE);
  g_return_val_if_fail (record != NULL, FALSE);

  conn = begin_write (self, error);
  if (!conn)
    return FALSE;
  entry = outbox_entry_on (conn, seq, error);
  if (!entry)
    return end_write (self, conn, FALSE, NULL);
  spec = mirror_spec_for (entry->entity);
  server_id = kefu_json_get_int (record, "id", 0);
  if (!spec || server_id <= 0 || kefu_local_store_id_is_local (server_id))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("The server's answer did not name the record it changed"));
      return end_write (self, conn, FALSE, NULL);
    }

  ok = delete_entry (conn, seq, error);
  if (ok && entry->operation == KEFU_OUTBOX_CREATE && entry->record_id != server_id)
    ok = rekey (conn, spec, entry->record_id, server_id, error);
  if (ok)
    ok = rebase_entries (conn, entry->entity, server_id,
                         kefu_json_get_int (record, "version", 0), error) &&
         write_view (conn, spec, record, error);
  if (!end_write (self, conn, ok, error))
    return FALSE;

  if (entry->operation == KEFU_OUTBOX_CREATE && entry->record_id != server_id)
    g_signal_emit (self, signals[SIGNAL_RECORD_ID_CHANGED], 0, entry->entity, entry->record_id,
                   server_id);
  outbox_changed (self);
  g_signal_emit (self, signals[SIGNAL_CUSTOMER_CHANGED], 0, customer_of (record, entry->entity));
  return TRUE;
}

static gboolean
set_state (KefuLocalStore   *self,
           gint64            seq,
           KefuOutboxState   state,
           JsonObject       *theirs,
           const char       *message,
           GError          **error)
{
  g_autofree char *text = theirs ? kefu_record_encode (theirs) : NULL;
  KefuDbValue params[] = {
    KEFU_DB_V_INT (state), KEFU_DB_V_TEXT (message), KEFU_DB_V_TEXT (text), KEFU_DB_V_INT (seq),
  };
  KefuDbConn *conn = begin_write (self, error);
  gint64 changes = 0;
  gboolean ok;

  if (!conn)
    return FALSE;
  ok = kefu_db_exec (conn, "UPDATE desk_outbox SET state = ?, message = ?, theirs = ? "
                     "WHERE seq = ?", params, G_N_ELEMENTS (params), &changes, error);
  if (ok && changes == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("This change is no longer waiting to be sent"));
      ok = FALSE;
    }
  if (!end_write (self, conn, ok, error))
    return FALSE;
  outbox_changed (self);
  return TRUE;
}

gboolean
kefu_local_store_mark_conflict (KefuLocalStore  *self,
                                gint64           seq,
                                JsonObject      *theirs,
                                const char      *message,
                                GError         **error)
{
  g_return_val_if_fail (KEFU_IS_LOCAL_STORE (self), FALSE);
  return set_state (self, seq, KEFU_OUTBOX_CONFLICT, theirs, message, error);
}

gboolean
kefu_local_store_mark_rejected (KefuLocalStore  *self,
                                gint64           seq,
                                const char      *message,
                                GError         **error)
{
  g_return_val_if_fail (KEFU_IS_LOCAL_STORE (self), FALSE);
  return set_state (self, seq, KEFU_OUTBOX_REJECTED, NULL, message, error);
}

typedef enum {
  RESOLVE_KEEP_MINE,
  RESOLVE_TAKE_THEIRS,
} Resolve;

static gboolean
resolve (KefuLocalStore  *self,
         gint64           seq,
         Resolve          how,
         GError         **error)
{
  g_autoptr(KefuOutboxEntry) entry = NULL;
  const MirrorSpec *spec;
  KefuDbConn *conn;
  gint64 version;
  gboolean ok;

  conn = begin_write (self, error);
  if (!conn)
    return FALSE;
  entry = outbox_entry_on (conn, seq, error);
  if (!entry)
    return end_write (self, conn, FALSE, NULL);
  spec = mirror_spec_for (entry->entity);
  if (entry->state != KEFU_OUTBOX_CONFLICT || !entry->theirs || !spec)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("This change is not in conflict with the server"));
      return end_write (self, conn, FALSE, NULL);
    }
  version = kefu_json_get_int (entry->theirs, "version", 0);

  if (how == RESOLVE_KEEP_MINE)
    {
      g_autofree char *op_id = g_uuid_string_random ();
      KefuDbValue params[] = {
        KEFU_DB_V_TEXT (op_id), KEFU_DB_V_INT (KEFU_OUTBOX_PENDING), KEFU_DB_V_INT (seq),
      };

      /* A new operation: the first one never happened on the server. */
      ok = kefu_db_exec (conn, "UPDATE desk_outbox SET op_id = ?, state = ?, message = NULL, "
                         "theirs = NULL WHERE seq = ?", params, G_N_ELEMENTS (params), NULL,
                         error) &&
           rebase_entries (conn, entry->entity, entry->record_id, version, error);
    }
  else
    {
      KefuDbValue params[] = {
        KEFU_DB_V_TEXT (entry->entity), KEFU_DB_V_INT (entry->record_id),
        KEFU_DB_V_INT (KEFU_OUTBOX_UPDATE),
      };

      /* Notes only add, so they stay; the edits made on the agent's
       * version go. */
      ok = kefu_db_exec (conn, "DELETE FROM desk_outbox WHERE entity = ? AND record_id = ? AND "
                         "operation = ?", params, G_N_ELEMENTS (params), NULL, error);
    }
  if (ok)
    ok = write_view (conn, spec, entry->theirs, error);
  if (!end_write (self, conn, ok, error))
    return FALSE;

  outbox_changed (self);
  g_signal_emit (self, signals[SIGNAL_CUSTOMER_CHANGED], 0,
                 customer_of (entry->theirs, entry->entity));
  return TRUE;
}

gboolean
kefu_local_store_keep_mine (KefuLocalStore  *self,
                            gint64           seq,
                            GError         **error)
{
  g_return_val_if_fail (KEFU_IS_LOCAL_STORE (self), FALSE);
  return resolve (self, seq, RESOLVE_KEEP_MINE, error);
}

gboolean
kefu_local_store_take_theirs (KefuLocalStore  *self,
                              gint64           seq,
                              GError         **error)
{
  g_return_val_if_fail (KEFU_IS_LOCAL_STORE (self), FALSE);
  return resolve (self, seq, RESOLVE_TAKE_THEIRS, error);
}

gboolean
kefu_local_store_discard_change (KefuLocalStore  *self,
                                 gint64           seq,
                                 GError         **error)
{
  g_autoptr(KefuOutboxEntry) entry = NULL;
  const MirrorSpec *spec;
  KefuDbConn *conn;
  gboolean ok;

  g_return_val_if_fail (KEFU_IS_LOCAL_STORE (self), FALSE);

  conn = begin_write (self, error);
  if (!conn)
    return FALSE;
  entry = outbox_entry_on (conn, seq, error);
  if (!entry)
    return end_write (self, conn, FALSE, NULL);
  spec = mirror_spec_for (entry->entity);
  ok = delete_entry (conn, seq, error);
  if (ok && spec && entry->operation == KEFU_OUTBOX_CREATE)
    {
      g_autofree char *id = id_text (entry->record_id);

      ok = delete_record (conn, spec, id, error);
    }
  else if (ok && entry->operation == KEFU_OUTBOX_ADD_NOTE)
    {
      KefuDbValue params[] = { KEFU_DB_V_INT (entry->local_id) };

      ok = kefu_db_exec (conn, "DELETE FROM case_notes WHERE id = ?", params, 1, NULL, error);
    }
  if (!end_write (self, conn, ok, error))
    return FALSE;
  outbox_changed (self);
  return TRUE;
}

gboolean
kefu_local_store_put_server_record (KefuLocalStore  *self,
                                    const char      *entity,
                                    JsonObject      *record,
                                    GError         **error)
{
  const MirrorSpec *spec = mirror_spec_for (entity);
  KefuDbConn *conn;
  gboolean ok;

  g_return_val_if_fail (KEFU_IS_LOCAL_STORE (self), FALSE);
  g_return_val_if_fail (record != NULL, FALSE);

  if (!spec)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "The local copy does not keep “%s” records", entity);
      return FALSE;
    }
  conn = begin_write (self, error);
  if (!conn)
    return FALSE;
  ok = write_view (conn, spec, record, error);
  if (!end_write (self, conn, ok, error))
    return FALSE;
  g_signal_emit (self, signals[SIGNAL_CUSTOMER_CHANGED], 0, customer_of (record, entity));
  return TRUE;
}

/* --- the change feed -------------------------------------------------------------------- */

gint64
kefu_local_store_get_cursor (KefuLocalStore *self)
{
  KefuDbConn *conn;
  gint64 cursor = 0;

  g_return_val_if_fail (KEFU_IS_LOCAL_STORE (self), 0);

  conn = kefu_db_acquire (self->db, NULL);
  if (!conn)
    return 0;
  meta_get (conn, "cursor", &cursor, NULL);
  kefu_db_release (self->db, conn);
  return cursor;
}

typedef struct {
  JsonArray  *changes;
  gint64      cursor;
  GHashTable *customers;   /* gint64* set: whose cards changed */
} ApplyData;

static void
apply_data_free (ApplyData *data)
{
  json_array_unref (data->changes);
  g_clear_pointer (&data->customers, g_hash_table_unref);
  g_free (data);
}

static void
note_customer (GHashTable *customers,
               gint64      id)
{
  if (id > 0)
    g_hash_table_add (customers, g_memdup2 (&id, sizeof id));
}

static gboolean
apply_change (KefuDbConn   *conn,
              JsonObject   *change,
              GHashTable   *customers,
              GError      **error)
{
  const MirrorSpec *spec = mirror_spec_for (kefu_json_get_string (change, "entity"));
  const char *id = kefu_json_get_string (change, "id");
  const char *op = kefu_json_get_string (change, "op");
  JsonNode *node = json_object_get_member (change, "record");
  RowInfo info;

  /* Agents and queues are the server's business; the desktop asks when it
   * needs them. */
  if (!spec || !id || !op)
    return TRUE;
  if (!read_row_info (conn, spec, id, &info, error))
    return FALSE;

  if (g_str_equal (op, "delete"))
    {
      note_customer (customers, info.customer_id);
      return delete_record (conn, spec, id, error);
    }
  if (!node || !JSON_NODE_HOLDS_OBJECT (node))
    return TRUE;
  /* A page may carry a record older than the copy (the answer to our own
   * push came first). */
  if (info.found && kefu_json_get_int (change, "version", 0) < info.version)
    return TRUE;
  note_customer (customers, info.customer_id);
  note_customer (customers, customer_of (json_node_get_object (node), spec->kind->name));
  return write_view (conn, spec, json_node_get_object (node), error);
}

static void
apply_in_thread (GTask        *task,
                 gpointer      source_object,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  KefuLocalStore *self = source_object;
  ApplyData *data = task_data;
  g_autoptr(GError) error = NULL;
  KefuDbConn *conn = begin_write (self, &error);
  gboolean ok;

  if (!conn)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  ok = TRUE;
  for (guint i = 0; ok && i < json_array_get_length (data->changes); i++)
    {
      JsonNode *node = json_array_get_element (data->changes, i);

      if (JSON_NODE_HOLDS_OBJECT (node))
        ok = apply_change (conn, json_node_get_object (node), data->customers, &error);
    }
  if (ok)
    ok = meta_set (conn, "cursor", data->cursor, &error);
  if (!end_write (self, conn, ok, &error))
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

static void
on_applied (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  KefuLocalStore *self = KEFU_LOCAL_STORE (source);
  ApplyData *data = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  /* Cards learn of it on the main thread, once per customer per page. */
  {
    GHashTableIter iter;
    gpointer key;

    g_hash_table_iter_init (&iter, data->customers);
    while (g_hash_table_iter_next (&iter, &key, NULL))
      g_signal_emit (self, signals[SIGNAL_CUSTOMER_CHANGED], 0, *(gint64 *) key);
  }
  g_task_return_boolean (task, TRUE);
}

void
kefu_local_store_apply_changes_async (KefuLocalStore      *self,
                                      JsonArray           *changes,
                                      gint64               cursor,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  g_autoptr(GTask) worker = NULL;
  GTask *task;
  ApplyData *data;

  g_return_if_fail (KEFU_IS_LOCAL_STORE (self));
  g_return_if_fail (changes != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kefu_local_store_apply_changes_async);

  data = g_new0 (ApplyData, 1);
  data->changes = json_array_ref (changes);
  data->cursor = cursor;
  data->customers = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);

  /* No cancellable on the worker: a page is applied whole or not at all,
   * and once started it finishes. */
  worker = g_task_new (self, NULL, on_applied, task);
  g_task_set_task_data (worker, data, (GDestroyNotify) apply_data_free);
  g_task_run_in_thread (worker, apply_in_thread);
}

gboolean
kefu_local_store_apply_changes_finish (KefuLocalStore  *self,
                                       GAsyncResult    *result,
                                       GError         **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
