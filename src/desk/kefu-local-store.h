/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * KefuLocalStore: the agent desktop's own SQLite copy of what it needs from
 * kefu-server (customers, contacts, cases with their notes, call records,
 * faxes), in libkefu-core's schema, plus what only the desktop has: the
 * outbox of changes waiting for the server, the change-feed cursor, and
 * drafts (a case or customer being typed, saved as it is typed, so that
 * killing the program mid-edit loses nothing).
 *
 * One file per server and user (KefuLogin names it).  Every method is
 * synchronous and meant for the main thread: lookups, searches and edits
 * are small indexed queries (well under a millisecond on a warm cache);
 * the one bulk write, a page of the change feed, runs on a worker thread
 * (kefu_local_store_apply_changes_async).
 *
 * Records are the server's JSON objects: the same members as the API, the
 * server's ids and versions.  A record created here while it waits for the
 * server has a local id (kefu_local_store_id_is_local); when the server
 * acknowledges it, it takes the server's id everywhere (rows, references,
 * waiting changes) and "record-id-changed" says so.
 *
 * Edits (create/update/add note) are checked exactly as the server checks
 * them (kefu_record_validate), shown at once in this copy, and queued in
 * the outbox in the same transaction.  An outbox entry leaves only when
 * the server acknowledged it (kefu_local_store_ack_change), or when the
 * agent discards it after a conflict or a refusal.
 *
 * Signals (main thread):
 *   customer-changed (gint64 customer_id): the customer's card or timeline
 *     changed here, by a local edit or by sync; a card showing it reloads.
 *   record-id-changed (const char *entity, gint64 old_id, gint64 new_id):
 *     a locally created record got its server id.
 *   outbox-changed: entries were added, acknowledged, marked or removed
 *     (KefuSync listens and pushes; the offline banner counts).
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Ids from here up are made locally, for records the server has not
 * acknowledged yet; the server's ids count up from 1 and never get here. */
#define KEFU_LOCAL_STORE_FIRST_LOCAL_ID G_GINT64_CONSTANT (1000000000000000)

static inline gboolean
kefu_local_store_id_is_local (gint64 id)
{
  return id >= KEFU_LOCAL_STORE_FIRST_LOCAL_ID;
}

typedef enum {
  KEFU_OUTBOX_PENDING,    /* waits for the server (or is being pushed) */
  KEFU_OUTBOX_CONFLICT,   /* the server has a newer version: the agent chooses */
  KEFU_OUTBOX_REJECTED,   /* the server refused it (message says why): the agent decides */
} KefuOutboxState;

typedef enum {
  KEFU_OUTBOX_CREATE,     /* POST /v1/<entities>              doc: the new record */
  KEFU_OUTBOX_UPDATE,     /* PATCH /v1/<entities>/{id}        doc: the members changed */
  KEFU_OUTBOX_ADD_NOTE,   /* POST /v1/cases/{id}/notes        doc: {"body": ...} */
} KefuOutboxOperation;

/* One change waiting in the outbox, oldest first.  entity: "customer",
 * "contact" or "case". */
typedef struct {
  gint64               seq;           /* its place in the outbox */
  char                *op_id;         /* Idempotency-Key, made when queued */
  char                *entity;
  KefuOutboxOperation  operation;
  gint64               record_id;     /* the record's id here (a create's: its local id) */
  gint64               local_id;      /* a create's local record id, a note's local note id */
  JsonObject          *doc;
  gint64               base_version;  /* If-Match; -1 for none (create, note) */
  KefuOutboxState      state;
  char                *message;       /* why it is in conflict or refused */
  JsonObject          *theirs;        /* CONFLICT: the server's copy */
  gint64               created_ms;
} KefuOutboxEntry;

void kefu_outbox_entry_free (KefuOutboxEntry *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KefuOutboxEntry, kefu_outbox_entry_free)

#define KEFU_TYPE_LOCAL_STORE (kefu_local_store_get_type ())
G_DECLARE_FINAL_TYPE (KefuLocalStore, kefu_local_store, KEFU, LOCAL_STORE, GObject)

/* Opens (creating or upgrading) the file.  default_country: ISO 3166 code
 * for numbers typed without a country code ("CN"). */
KefuLocalStore *kefu_local_store_new              (const char  *path,
                                                   const char  *default_country,
                                                   GError     **error) G_GNUC_WARN_UNUSED_RESULT;
const char     *kefu_local_store_get_path         (KefuLocalStore *self);
const char     *kefu_local_store_get_default_country (KefuLocalStore *self);

/* --- screen pop, card, search --------------------------------------------- */

/* Customers with this number, however it is spelt ("010-1234 5678",
 * "+86 10 12345678", "008610..."); an empty array when none.  NULL with a
 * KEFU_PHONE_NUMBER_ERROR when the text is not a phone number. */
JsonArray  *kefu_local_store_find_customers_by_phone (KefuLocalStore  *self,
                                                      const char      *number,
                                                      GError         **error) G_GNUC_WARN_UNUSED_RESULT;
/* NULL with G_IO_ERROR_NOT_FOUND when the copy does not have it. */
JsonObject *kefu_local_store_get_customer     (KefuLocalStore  *self,
                                               gint64           customer_id,
                                               GError         **error) G_GNUC_WARN_UNUSED_RESULT;
/* A name prefix (any case, Chinese or Latin) or the start of a number in
 * any spelling; at most limit customers, by name. */
JsonArray  *kefu_local_store_search_customers (KefuLocalStore  *self,
                                               const char      *query,
                                               guint            limit,
                                               GError         **error) G_GNUC_WARN_UNUSED_RESULT;
/* The customer's calls, cases, case notes and faxes, newest first, each as
 * {"kind": "call"|"case"|"note"|"fax", "at": ISO 8601 time, "record": {...}};
 * a note's record also carries "case_id" and "case_subject". */
JsonArray  *kefu_local_store_get_timeline     (KefuLocalStore  *self,
                                               gint64           customer_id,
                                               GError         **error) G_GNUC_WARN_UNUSED_RESULT;
JsonArray  *kefu_local_store_list_contacts    (KefuLocalStore  *self,
                                               gint64           customer_id,
                                               GError         **error) G_GNUC_WARN_UNUSED_RESULT;
JsonObject *kefu_local_store_get_case         (KefuLocalStore  *self,
                                               gint64           case_id,
                                               GError         **error) G_GNUC_WARN_UNUSED_RESULT;
/* Cases opened on a call (X-Kefu-Call). */
JsonArray  *kefu_local_store_list_cases_for_call (KefuLocalStore  *self,
                                                  const char      *call_id,
                                                  GError         **error) G_GNUC_WARN_UNUSED_RESULT;
/* Call history, newest first; agent NULL for everyone's. */
JsonArray  *kefu_local_store_list_recent_calls (KefuLocalStore  *self,
                                                const char      *agent,
                                                guint            limit,
                                                GError         **error) G_GNUC_WARN_UNUSED_RESULT;

/* --- edits (shown at once, queued for the server) -------------------------- */

/* Each returns the record as the copy now has it (a create: with a local
 * id), or NULL with KEFU_RECORD_ERROR naming the bad field, exactly as the
 * server would refuse it.  A patch holds only the members to change; null
 * clears one. */
JsonObject *kefu_local_store_create_customer  (KefuLocalStore  *self,
                                               JsonObject      *customer,
                                               GError         **error) G_GNUC_WARN_UNUSED_RESULT;
JsonObject *kefu_local_store_update_customer  (KefuLocalStore  *self,
                                               gint64           customer_id,
                                               JsonObject      *patch,
                                               GError         **error) G_GNUC_WARN_UNUSED_RESULT;
/* A case with "call_id" set is linked to that call. */
JsonObject *kefu_local_store_create_case      (KefuLocalStore  *self,
                                               JsonObject      *kase,
                                               GError         **error) G_GNUC_WARN_UNUSED_RESULT;
JsonObject *kefu_local_store_update_case      (KefuLocalStore  *self,
                                               gint64           case_id,
                                               JsonObject      *patch,
                                               GError         **error) G_GNUC_WARN_UNUSED_RESULT;
JsonObject *kefu_local_store_add_case_note    (KefuLocalStore  *self,
                                               gint64           case_id,
                                               const char      *body,
                                               GError         **error) G_GNUC_WARN_UNUSED_RESULT;
JsonObject *kefu_local_store_create_contact   (KefuLocalStore  *self,
                                               JsonObject      *contact,
                                               GError         **error) G_GNUC_WARN_UNUSED_RESULT;

/* --- drafts ---------------------------------------------------------------- */

/* key: the UI's name for what is being typed, e.g. "case:call:<call id>",
 * "customer:<id>", "customer:new".  The draft is any JSON object; saving
 * replaces the previous one and is on disk when this returns. */
gboolean    kefu_local_store_save_draft       (KefuLocalStore  *self,
                                               const char      *key,
                                               JsonObject      *draft,
                                               GError         **error);
/* NULL (no error) when there is none. */
JsonObject *kefu_local_store_load_draft       (KefuLocalStore  *self,
                                               const char      *key,
                                               GError         **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean    kefu_local_store_delete_draft     (KefuLocalStore  *self,
                                               const char      *key,
                                               GError         **error);
/* Keys of every draft, most recently saved first (to offer them back
 * after a restart). */
char      **kefu_local_store_list_drafts      (KefuLocalStore  *self,
                                               GError         **error) G_GNUC_WARN_UNUSED_RESULT;

/* --- outbox and sync (KefuSync's side) ------------------------------------- */

/* Entries in every state (the banner's count). */
guint       kefu_local_store_count_outbox     (KefuLocalStore *self);
/* Every entry, oldest first: GPtrArray of KefuOutboxEntry. */
GPtrArray  *kefu_local_store_list_outbox      (KefuLocalStore  *self,
                                               GError         **error) G_GNUC_WARN_UNUSED_RESULT;
KefuOutboxEntry *kefu_local_store_get_outbox_entry (KefuLocalStore  *self,
                                                    gint64           seq,
                                                    GError         **error) G_GNUC_WARN_UNUSED_RESULT;

/* The server acknowledged entry seq and answered with record (its copy
 * after the change): the entry goes, the copy takes the server's record
 * (and id, for a create), and later entries on the same record are now
 * based on its new version. */
gboolean    kefu_local_store_ack_change       (KefuLocalStore  *self,
                                               gint64           seq,
                                               JsonObject      *record,
                                               GError         **error);
gboolean    kefu_local_store_mark_conflict    (KefuLocalStore  *self,
                                               gint64           seq,
                                               JsonObject      *theirs,
                                               const char      *message,
                                               GError         **error);
gboolean    kefu_local_store_mark_rejected    (KefuLocalStore  *self,
                                               gint64           seq,
                                               const char      *message,
                                               GError         **error);
/* Conflict resolutions.  Keep mine: the change goes again, now based on
 * the server's version (the members the agent changed win, the others are
 * the server's).  Take theirs: the agent's waiting changes to that record
 * are dropped and the copy becomes the server's. */
gboolean    kefu_local_store_keep_mine        (KefuLocalStore  *self,
                                               gint64           seq,
                                               GError         **error);
gboolean    kefu_local_store_take_theirs      (KefuLocalStore  *self,
                                               gint64           seq,
                                               GError         **error);
/* Drops a refused entry (and the local record it created, if any). */
gboolean    kefu_local_store_discard_change   (KefuLocalStore  *self,
                                               gint64           seq,
                                               GError         **error);

/* The server's copy of a record, fetched outside the feed (a customer the
 * screen pop found only on the server, or to undo a refused change): the
 * copy takes it, with the agent's waiting changes still on top. */
gboolean    kefu_local_store_put_server_record (KefuLocalStore  *self,
                                                const char      *entity,
                                                JsonObject      *record,
                                                GError         **error);

/* The record as the copy shows it (entity "customer", "contact", "case"...);
 * NULL with G_IO_ERROR_NOT_FOUND. */
JsonObject *kefu_local_store_get_record       (KefuLocalStore  *self,
                                               const char      *entity,
                                               gint64           id,
                                               GError         **error) G_GNUC_WARN_UNUSED_RESULT;

/* The change-feed cursor: the last seq applied (0 before the first sync). */
gint64      kefu_local_store_get_cursor       (KefuLocalStore *self);

/* Applies one page of GET /v1/changes (the "changes" array) and moves the
 * cursor to cursor, in one transaction on a worker thread.  A record with
 * changes of ours still waiting keeps our view; the push settles it. */
void        kefu_local_store_apply_changes_async  (KefuLocalStore      *self,
                                                   JsonArray           *changes,
                                                   gint64               cursor,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
gboolean    kefu_local_store_apply_changes_finish (KefuLocalStore  *self,
                                                   GAsyncResult    *result,
                                                   GError         **error);

G_END_DECLS
