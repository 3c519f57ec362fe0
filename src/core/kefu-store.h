/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * KefuStore: everything Kefu keeps, over one KefuDb (SQLite or PostgreSQL),
 * with one schema and versioned migrations.  Used by kefu-server (from its
 * worker threads: every function here is synchronous and thread-safe) and
 * by the desktop's local cache.
 *
 * Writes follow the sync rules: each write may carry a client-made
 * operation id (a retry with the same id returns the first answer and
 * changes nothing) and the version it was based on (a stale version fails
 * with KEFU_STORE_ERROR_CONFLICT and hands back the current copy).  Every
 * write appends to the change feed in the same transaction.
 */
#pragma once

#include "kefu-db.h"
#include "kefu-metrics.h"
#include "kefu-record.h"

G_BEGIN_DECLS

#define KEFU_STORE_SCHEMA_VERSION 4

/* How long a finished operation id is remembered for replays: 30 days,
 * longer than any desktop stays offline with changes waiting. */
#define KEFU_STORE_OPERATION_KEEP_MS (30 * 24 * 3600 * G_GINT64_CONSTANT (1000))

#define KEFU_STORE_ERROR (kefu_store_error_quark ())
GQuark kefu_store_error_quark (void);

typedef enum {
  KEFU_STORE_ERROR_NOT_FOUND,
  KEFU_STORE_ERROR_CONFLICT,      /* stale base version */
  KEFU_STORE_ERROR_DUPLICATE,     /* a unique name/id already taken */
  KEFU_STORE_ERROR_INVALID,       /* refers to something missing, bad state... */
  KEFU_STORE_ERROR_SCHEMA,        /* database newer than this program */
} KefuStoreError;

/* What a write carries besides its document. */
typedef struct {
  const char *op_id;          /* client-made, NULL for none */
  gint64      base_version;   /* -1 when the client did not say */
  const char *actor;          /* username doing it, for notes and the feed */
  int         status;         /* the HTTP status to replay for op_id */
  const char *password_hash;  /* agents only: already hashed */
  const char *sip_ha1;        /* agents only: SIP digest HA1 (hex), with */
  const char *sip_user;       /*   the digest user (the extension) and */
  const char *sip_realm;      /*   realm it was computed for */
} KefuWrite;

#define KEFU_WRITE_INIT { NULL, -1, NULL, 200, NULL }

/* Result of a write: the record as stored, and whether it was a replay. */
typedef struct {
  JsonObject *record;   /* owned */
  int         status;   /* the status of the first answer, for replays */
  gboolean    replayed;
} KefuWriteResult;

void kefu_write_result_clear (KefuWriteResult *result);

/* A session as the server checks it on every request. */
typedef struct {
  gint64  agent_id;
  char   *username;
  char   *role;
  gint64  expires_ms;
} KefuSession;

void kefu_session_free (KefuSession *session);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KefuSession, kefu_session_free)

/* One row of the call facts that reports fold (a projection of events):
 * a call's time in one queue.  A call that overflowed has one in each
 * queue it waited in. */
typedef struct {
  const char *call_id;
  const char *queue;
  const char *agent;
  gint64      offered_ms;
  gboolean    waiting;     /* no outcome yet: still in the queue */
  const char *overflow_to; /* overflowed, and offered in this queue since;
                            * its outcome is that queue's fact's */
  KefuCallSample sample;
} KefuCallFact;

typedef gboolean (*KefuCallFactFunc) (const KefuCallFact *fact, gpointer user_data);

/* One span of an agent's state, clipped by the caller. */
typedef struct {
  const char *agent;
  const char *state;
  gint64      started_ms;
  gint64      ended_ms;   /* 0 while still open */
} KefuAgentSpan;

typedef gboolean (*KefuAgentSpanFunc) (const KefuAgentSpan *span, gpointer user_data);

#define KEFU_TYPE_STORE (kefu_store_get_type ())
G_DECLARE_FINAL_TYPE (KefuStore, kefu_store, KEFU, STORE, GObject)

KefuStore   *kefu_store_new                (KefuDb *db, const char *default_country) G_GNUC_WARN_UNUSED_RESULT;
KefuDb      *kefu_store_get_db             (KefuStore *self);
const char  *kefu_store_get_default_country (KefuStore *self);

/* Creates or upgrades the schema; refuses a database newer than us. */
gboolean     kefu_store_migrate            (KefuStore *self, GError **error);
gint64       kefu_store_schema_version     (KefuStore *self, GError **error);

/* Generic records: customers, contacts, cases, calls, faxes, agents, queues.
 * id is the decimal id, or the call id for calls. */
JsonObject  *kefu_store_get                (KefuStore *self, const KefuRecordKind *kind,
                                            const char *id, GError **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean     kefu_store_create             (KefuStore *self, const KefuRecordKind *kind,
                                            JsonObject *doc, const KefuWrite *write,
                                            KefuWriteResult *result, GError **error);
/* replace: doc is the whole record (validated as on create); else a patch */
gboolean     kefu_store_update             (KefuStore *self, const KefuRecordKind *kind,
                                            const char *id, JsonObject *doc, gboolean replace,
                                            const KefuWrite *write, KefuWriteResult *result,
                                            JsonObject **out_current, GError **error);
gboolean     kefu_store_delete             (KefuStore *self, const KefuRecordKind *kind,
                                            const char *id, const KefuWrite *write,
                                            KefuWriteResult *result, JsonObject **out_current,
                                            GError **error);

/* filter: member name -> value (string) for indexed columns, e.g.
 * customer_id, call_id, status, assignee, queue, agent; NULL for all. */
JsonArray   *kefu_store_list               (KefuStore *self, const KefuRecordKind *kind,
                                            GHashTable *filter, guint offset, guint limit,
                                            GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Customers by the normalised number (exact), or by what a search box
 * holds: a name prefix or the start of a number. */
JsonArray   *kefu_store_find_customers_by_phone (KefuStore *self, const char *phone,
                                                 GError **error) G_GNUC_WARN_UNUSED_RESULT;
JsonArray   *kefu_store_search_customers   (KefuStore *self, const char *query, guint offset,
                                            guint limit, GError **error) G_GNUC_WARN_UNUSED_RESULT;

gboolean     kefu_store_add_case_note      (KefuStore *self, const char *case_id,
                                            JsonObject *note, const KefuWrite *write,
                                            KefuWriteResult *result, GError **error);

/* Fax documents (TIFF, PDF...) beside the fax record. */
gboolean     kefu_store_put_fax_document   (KefuStore *self, const char *fax_id,
                                            const char *content_type, GBytes *data,
                                            const KefuWrite *write, KefuWriteResult *result,
                                            GError **error);
GBytes      *kefu_store_get_fax_document   (KefuStore *self, const char *fax_id,
                                            char **out_content_type, GError **error);

/* Agents and sessions. */
JsonObject  *kefu_store_get_agent_by_name  (KefuStore *self, const char *username,
                                            char **out_password_hash, GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* Agents whose SIP digest HA1 was made for their current extension and
 * this realm: [{username, extension, ha1, realm}], by username. */
JsonArray   *kefu_store_sip_credentials    (KefuStore *self, const char *realm,
                                            GError **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean     kefu_store_session_create     (KefuStore *self, const char *token_hash,
                                            gint64 agent_id, gint64 expires_ms, GError **error);
KefuSession *kefu_store_session_lookup     (KefuStore *self, const char *token_hash,
                                            GError **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean     kefu_store_session_delete     (KefuStore *self, const char *token_hash,
                                            GError **error);

/* The event log.  events: validated event objects.  Each is stored with
 * its id and time, folded into the call facts and agent spans, and agent
 * states follow agent.state events.  Returns the stored events. */
JsonArray   *kefu_store_append_events      (KefuStore *self, JsonArray *events,
                                            const KefuWrite *write, gboolean *out_replayed,
                                            GError **error) G_GNUC_WARN_UNUSED_RESULT;
JsonArray   *kefu_store_list_events        (KefuStore *self, gint64 since_id, guint limit,
                                            GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Change feed: every change with seq > since, oldest first. */
JsonArray   *kefu_store_changes            (KefuStore *self, gint64 since, guint limit,
                                            gint64 *out_cursor, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Folds for reports and the live panel; queue/agent NULL for all. */
gboolean     kefu_store_fold_call_facts    (KefuStore *self, gint64 from_ms, gint64 to_ms,
                                            const char *queue, const char *agent,
                                            KefuCallFactFunc func, gpointer user_data,
                                            GError **error);
gboolean     kefu_store_fold_agent_spans   (KefuStore *self, gint64 from_ms, gint64 to_ms,
                                            const char *agent, KefuAgentSpanFunc func,
                                            gpointer user_data, GError **error);

/* Counts for /metrics and the demo. */
gint64       kefu_store_count              (KefuStore *self, const KefuRecordKind *kind,
                                            GError **error);

G_END_DECLS
