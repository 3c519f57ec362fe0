/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * KefuSync: keeps a KefuLocalStore and kefu-server in step, in the
 * background of the main loop.  Each round first pushes the outbox, oldest
 * change first, each with its operation id (Idempotency-Key, so a retry
 * after a lost answer is applied once) and the version it was based on
 * (If-Match); then pulls the change feed (GET /v1/changes) from the stored
 * cursor until it is drained.  Rounds run when started, when the outbox
 * grows, and every "interval" milliseconds; after a failure the next try
 * backs off (1 s, 2 s, 4 s... up to "max-backoff").
 *
 * What the desktop shows from it:
 *   "online" (boolean): the server answered the last request; FALSE is the
 *     offline banner;
 *   "pending-changes" (uint): entries in the outbox (the banner's count);
 *   "syncing" (boolean): a round is running;
 *   "last-error" (string): why the last round stopped, for the banner's
 *     tooltip (translated), NULL after a good round;
 *   "conflict" signal (gint64 seq, const char *entity, gint64 id,
 *     JsonObject *ours, JsonObject *theirs): the server has a newer version
 *     of a record the agent changed; the dialog shows both and calls
 *     kefu_sync_resolve_conflict.  Changes to other records go on; later
 *     changes to that record wait for the choice;
 *   "change-rejected" signal (gint64 seq, const char *message): the server
 *     refused a change for good (it stays in the outbox until discarded);
 *   "session-expired" signal: the server no longer takes the token; the
 *     desktop asks for the password again (nothing waiting is lost).
 *
 * Main thread only.
 */
#pragma once

#include "kefu-api-client.h"
#include "kefu-local-store.h"

G_BEGIN_DECLS

typedef enum {
  KEFU_SYNC_KEEP_MINE,     /* push the agent's change over the server's version */
  KEFU_SYNC_TAKE_THEIRS,   /* drop the agent's change, show the server's version */
} KefuSyncResolution;

#define KEFU_TYPE_SYNC (kefu_sync_get_type ())
G_DECLARE_FINAL_TYPE (KefuSync, kefu_sync, KEFU, SYNC, GObject)

KefuSync   *kefu_sync_new                (KefuApiClient  *client,
                                          KefuLocalStore *store) G_GNUC_WARN_UNUSED_RESULT;

KefuApiClient  *kefu_sync_get_client     (KefuSync *self);
KefuLocalStore *kefu_sync_get_store      (KefuSync *self);

/* Starts the rounds (the first one now); stop cancels what is in flight
 * (an unanswered push stays in the outbox and goes again later). */
void        kefu_sync_start              (KefuSync *self);
void        kefu_sync_stop               (KefuSync *self);
/* A round as soon as possible, forgetting any backoff (e.g. the network
 * came back, or the agent pressed "Retry"). */
void        kefu_sync_sync_now           (KefuSync *self);

gboolean    kefu_sync_get_online         (KefuSync *self);
guint       kefu_sync_get_pending_changes (KefuSync *self);
gboolean    kefu_sync_get_syncing        (KefuSync *self);
const char *kefu_sync_get_last_error     (KefuSync *self);

/* Milliseconds between rounds when all is well (default 15000) and the
 * longest wait after failures (default 60000). */
void        kefu_sync_set_interval       (KefuSync *self, guint interval_ms);
void        kefu_sync_set_max_backoff    (KefuSync *self, guint max_backoff_ms);

/* The outbox entries now in conflict, for a dialog reopened after a
 * restart (GPtrArray of KefuOutboxEntry: doc is ours, theirs the server's). */
GPtrArray  *kefu_sync_list_conflicts     (KefuSync *self) G_GNUC_WARN_UNUSED_RESULT;

gboolean    kefu_sync_resolve_conflict   (KefuSync            *self,
                                          gint64               seq,
                                          KefuSyncResolution   resolution,
                                          GError             **error);
/* Drops a refused change (after the agent read why). */
gboolean    kefu_sync_discard_change     (KefuSync  *self,
                                          gint64     seq,
                                          GError   **error);

/* Runs rounds until the outbox is empty and the feed drained, or until a
 * round fails; for tests and for "sync before sign out".  Finishes FALSE
 * with the round's error. */
void        kefu_sync_flush_async        (KefuSync            *self,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data);
gboolean    kefu_sync_flush_finish       (KefuSync      *self,
                                          GAsyncResult  *result,
                                          GError       **error);

G_END_DECLS
