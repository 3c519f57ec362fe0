/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuSync"

#include "config.h"

#include "kefu-sync.h"
#include "kefu-record.h"

#include <glib/gi18n-lib.h>

#define DEFAULT_INTERVAL_MS    15000
#define DEFAULT_MAX_BACKOFF_MS 60000
#define FIRST_BACKOFF_MS       1000
#define FEED_PAGE              500

enum {
  PROP_0,
  PROP_ONLINE,
  PROP_PENDING_CHANGES,
  PROP_SYNCING,
  PROP_LAST_ERROR,
  N_PROPS
};

enum {
  SIGNAL_CONFLICT,
  SIGNAL_CHANGE_REJECTED,
  SIGNAL_SESSION_EXPIRED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

struct _KefuSync {
  GObject         parent_instance;

  /* owned */
  KefuApiClient  *client;
  KefuLocalStore *store;
  GCancellable   *cancellable;   /* of the running round */
  GQueue          flushes;       /* GTask*: waiting for a clean round */
  char           *last_error;

  guint           timeout_id;
  gulong          outbox_handler;
  gulong          token_handler;

  guint           interval_ms;
  guint           max_backoff_ms;
  guint           backoff_ms;     /* 0 after a good round */
  gint64          last_seq;       /* the round's last pushed entry */

  guint           started : 1;
  guint           online : 1;
  guint           syncing : 1;
  guint           again : 1;      /* the outbox grew during a round */
  guint           own_change : 1; /* the store is answering one of our calls */
  guint           expired : 1;    /* the server refused the token: wait for a new one */
  guint           more : 1;       /* the feed page being applied was not the last */
};

G_DEFINE_FINAL_TYPE (KefuSync, kefu_sync, G_TYPE_OBJECT)

static void start_round (KefuSync *self);
static void push_next (KefuSync *self);

/* --- state the banner shows ------------------------------------------------- */

static void
set_online (KefuSync *self,
            gboolean  online)
{
  if (self->online == !!online)
    return;
  self->online = !!online;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ONLINE]);
}

static void
set_syncing (KefuSync *self,
             gboolean  syncing)
{
  if (self->syncing == !!syncing)
    return;
  self->syncing = !!syncing;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SYNCING]);
}

static void
set_last_error (KefuSync   *self,
                const char *message)
{
  if (g_strcmp0 (self->last_error, message) == 0)
    return;
  g_free (self->last_error);
  self->last_error = g_strdup (message);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAST_ERROR]);
}

static void
on_outbox_changed (KefuLocalStore *store,
                   KefuSync       *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PENDING_CHANGES]);
  /* The agent changed something: send it now, not at the next tick. */
  if (!self->own_change && self->started)
    kefu_sync_sync_now (self);
}

static void
on_token_changed (KefuApiClient *client,
                  GParamSpec    *pspec,
                  KefuSync      *self)
{
  if (!kefu_api_client_get_token (client))
    return;
  self->expired = FALSE;
  if (self->started)
    kefu_sync_sync_now (self);
}

/* --- scheduling ------------------------------------------------------------------ */

static gboolean
on_round_due (gpointer user_data)
{
  KefuSync *self = user_data;

  self->timeout_id = 0;
  start_round (self);
  return G_SOURCE_REMOVE;
}

static void
schedule (KefuSync *self,
          guint     delay_ms)
{
  g_clear_handle_id (&self->timeout_id, g_source_remove);
  if (!self->started && g_queue_is_empty (&self->flushes))
    return;
  self->timeout_id = g_timeout_add (delay_ms, on_round_due, self);
}

static void
finish_flushes (KefuSync     *self,
                const GError *error)
{
  GTask *task;

  while ((task = g_queue_pop_head (&self->flushes)))
    {
      if (error)
        g_task_return_error (task, g_error_copy (error));
      else
        g_task_return_boolean (task, TRUE);
      g_object_unref (task);
    }
}

static gboolean
has_pushable (KefuSync *self)
{
  g_autoptr(GPtrArray) entries = kefu_local_store_list_outbox (self->store, NULL);

  for (guint i = 0; entries && i < entries->len; i++)
    if (((KefuOutboxEntry *) g_ptr_array_index (entries, i))->state == KEFU_OUTBOX_PENDING)
      return TRUE;
  return FALSE;
}

static void
round_done (KefuSync     *self,
            const GError *error)
{
  g_clear_object (&self->cancellable);
  set_syncing (self, FALSE);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      finish_flushes (self, error);
      return;
    }

  if (error)
    {
      g_debug ("round failed: %s", error->message);
      set_last_error (self, error->message);
      if (g_error_matches (error, KEFU_API_ERROR, KEFU_API_ERROR_UNREACHABLE))
        set_online (self, FALSE);
      finish_flushes (self, error);
      if (self->expired)
        return;   /* until the agent signs in again */
      self->backoff_ms = self->backoff_ms ? MIN (self->backoff_ms * 2, self->max_backoff_ms)
                                          : MIN (FIRST_BACKOFF_MS, self->max_backoff_ms);
      /* Spread the retries of many desktops after an outage. */
      schedule (self, self->backoff_ms / 2 + g_random_int_range (0, self->backoff_ms / 2 + 1));
      return;
    }

  set_online (self, TRUE);
  set_last_error (self, NULL);
  self->backoff_ms = 0;
  if (self->again && has_pushable (self))
    {
      self->again = FALSE;
      schedule (self, 0);
      return;
    }
  self->again = FALSE;
  finish_flushes (self, NULL);
  schedule (self, self->interval_ms);
}

/* --- pull: the change feed ------------------------------------------------------ */

static void pull (KefuSync *self);

static void
on_page_applied (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(KefuSync) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!kefu_local_store_apply_changes_finish (KEFU_LOCAL_STORE (source), result, &error))
    {
      round_done (self, error);
      return;
    }
  if (g_cancellable_is_cancelled (self->cancellable))
    {
      g_set_error_literal (&error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "cancelled");
      round_done (self, error);
    }
  else if (self->more)
    pull (self);
  else
    round_done (self, NULL);
}

static void
on_changes (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(KefuSync) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) page = kefu_api_client_get_changes_finish (KEFU_API_CLIENT (source),
                                                                    result, &error);
  JsonArray *changes;
  gint64 cursor;
  gboolean more;

  if (!page)
    {
      if (g_error_matches (error, KEFU_API_ERROR, KEFU_API_ERROR_UNAUTHORIZED))
        {
          self->expired = TRUE;
          g_signal_emit (self, signals[SIGNAL_SESSION_EXPIRED], 0);
        }
      round_done (self, error);
      return;
    }
  set_online (self, TRUE);
  changes = json_object_get_array_member (page, "changes");
  cursor = json_object_get_int_member (page, "cursor");
  more = json_object_get_boolean_member_with_default (page, "more", FALSE);
  if (json_array_get_length (changes) == 0)
    {
      round_done (self, NULL);
      return;
    }
  self->more = more;
  kefu_local_store_apply_changes_async (self->store, changes, cursor, NULL, on_page_applied,
                                        g_object_ref (self));
}

static void
pull (KefuSync *self)
{
  kefu_api_client_get_changes_async (self->client, kefu_local_store_get_cursor (self->store),
                                     FEED_PAGE, self->cancellable, on_changes,
                                     g_object_ref (self));
}

/* --- push: the outbox ------------------------------------------------------------- */

typedef struct {
  KefuSync *self;
  gint64    seq;
  char     *entity;
  gint64    record_id;
} Push;

static void
push_free (Push *push)
{
  g_object_unref (push->self);
  g_free (push->entity);
  g_free (push);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Push, push_free)

static void
on_pushed (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(Push) push = user_data;
  KefuSync *self = push->self;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) store_error = NULL;
  g_autoptr(JsonObject) current = NULL;
  g_autoptr(JsonObject) record = kefu_api_client_request_finish (KEFU_API_CLIENT (source), result,
                                                                 &current, &error);

  if (record)
    {
      set_online (self, TRUE);
      self->own_change = TRUE;
      if (!kefu_local_store_ack_change (self->store, push->seq, record, &store_error))
        g_warning ("the server took change %" G_GINT64_FORMAT " but the local copy could not "
                   "record it: %s", push->seq, store_error->message);
      self->own_change = FALSE;
      push_next (self);
      return;
    }

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
      kefu_api_error_is_transient (error))
    {
      /* Kept as it is: the same operation id goes again later. */
      round_done (self, error);
      return;
    }
  set_online (self, TRUE);

  if (g_error_matches (error, KEFU_API_ERROR, KEFU_API_ERROR_UNAUTHORIZED))
    {
      self->expired = TRUE;
      g_signal_emit (self, signals[SIGNAL_SESSION_EXPIRED], 0);
      round_done (self, error);
      return;
    }

  self->own_change = TRUE;
  if (g_error_matches (error, KEFU_API_ERROR, KEFU_API_ERROR_CONFLICT) && current)
    {
      g_autoptr(JsonObject) ours = NULL;

      if (kefu_local_store_mark_conflict (self->store, push->seq, current, error->message,
                                          &store_error))
        {
          ours = kefu_local_store_get_record (self->store, push->entity, push->record_id, NULL);
          g_signal_emit (self, signals[SIGNAL_CONFLICT], 0, push->seq, push->entity,
                         push->record_id, ours, current);
        }
    }
  else if (kefu_local_store_mark_rejected (self->store, push->seq, error->message, &store_error))
    {
      g_signal_emit (self, signals[SIGNAL_CHANGE_REJECTED], 0, push->seq, error->message);
    }
  self->own_change = FALSE;
  if (store_error)
    {
      round_done (self, store_error);
      return;
    }
  push_next (self);
}

static gboolean
refers_to_local (KefuOutboxEntry *entry)
{
  if (entry->operation != KEFU_OUTBOX_CREATE && kefu_local_store_id_is_local (entry->record_id))
    return TRUE;
  return kefu_local_store_id_is_local (json_object_get_int_member_with_default (entry->doc,
                                                                                "customer_id", 0));
}

static void
push_entry (KefuSync        *self,
            KefuOutboxEntry *entry)
{
  const KefuRecordKind *kind = kefu_record_kind_lookup (entry->entity);
  g_autofree char *path = NULL;
  const char *method = "POST";
  gint64 base_version = -1;
  Push *push;

  switch (entry->operation)
    {
    case KEFU_OUTBOX_CREATE:
      path = g_strdup_printf ("/v1/%s", kind->plural);
      break;
    case KEFU_OUTBOX_UPDATE:
      path = g_strdup_printf ("/v1/%s/%" G_GINT64_FORMAT, kind->plural, entry->record_id);
      method = "PATCH";
      base_version = entry->base_version;
      break;
    case KEFU_OUTBOX_ADD_NOTE:
    default:
      path = g_strdup_printf ("/v1/%s/%" G_GINT64_FORMAT "/notes", kind->plural,
                              entry->record_id);
      break;
    }

  push = g_new0 (Push, 1);
  push->self = g_object_ref (self);
  push->seq = entry->seq;
  push->entity = g_strdup (entry->entity);
  push->record_id = entry->record_id;
  g_debug ("pushing change %" G_GINT64_FORMAT ": %s %s", entry->seq, method, path);
  kefu_api_client_request_async (self->client, method, path, entry->doc, entry->op_id,
                                 base_version, self->cancellable, on_pushed, push);
}

/* The oldest change that can go now.  A change waits while an earlier one
 * to the same record waits for the agent's choice, and while it refers to
 * a record the server has not acknowledged yet. */
static void
push_next (KefuSync *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) entries = kefu_local_store_list_outbox (self->store, &error);
  g_autoptr(GHashTable) held = NULL;

  if (!entries)
    {
      round_done (self, error);
      return;
    }
  if (g_cancellable_is_cancelled (self->cancellable))
    {
      g_set_error_literal (&error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "cancelled");
      round_done (self, error);
      return;
    }

  held = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < entries->len; i++)
    {
      KefuOutboxEntry *entry = g_ptr_array_index (entries, i);
      g_autofree char *key = g_strdup_printf ("%s:%" G_GINT64_FORMAT, entry->entity,
                                              entry->record_id);

      if (entry->state != KEFU_OUTBOX_PENDING || g_hash_table_contains (held, key))
        {
          g_hash_table_add (held, g_steal_pointer (&key));
          continue;
        }
      if (entry->seq <= self->last_seq || refers_to_local (entry) ||
          !kefu_record_kind_lookup (entry->entity))
        continue;
      self->last_seq = entry->seq;
      push_entry (self, entry);
      return;
    }
  pull (self);
}

static void
start_round (KefuSync *self)
{
  if (self->syncing)
    {
      self->again = TRUE;
      return;
    }
  if (self->expired || !kefu_api_client_get_token (self->client))
    {
      g_autoptr(GError) error = g_error_new (KEFU_API_ERROR, KEFU_API_ERROR_UNAUTHORIZED, "%s",
                                             _("Sign in to send changes to the server"));

      finish_flushes (self, error);
      return;
    }
  g_clear_handle_id (&self->timeout_id, g_source_remove);
  self->cancellable = g_cancellable_new ();
  self->last_seq = 0;
  self->again = FALSE;
  set_syncing (self, TRUE);
  push_next (self);
}

/* --- GObject ----------------------------------------------------------------------- */

static void
kefu_sync_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  KefuSync *self = KEFU_SYNC (object);

  switch (prop_id)
    {
    case PROP_ONLINE:
      g_value_set_boolean (value, self->online);
      break;
    case PROP_PENDING_CHANGES:
      g_value_set_uint (value, kefu_sync_get_pending_changes (self));
      break;
    case PROP_SYNCING:
      g_value_set_boolean (value, self->syncing);
      break;
    case PROP_LAST_ERROR:
      g_value_set_string (value, self->last_error);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kefu_sync_dispose (GObject *object)
{
  KefuSync *self = KEFU_SYNC (object);

  kefu_sync_stop (self);
  g_clear_signal_handler (&self->outbox_handler, self->store);
  g_clear_signal_handler (&self->token_handler, self->client);
  g_clear_object (&self->store);
  g_clear_object (&self->client);

  G_OBJECT_CLASS (kefu_sync_parent_class)->dispose (object);
}

static void
kefu_sync_finalize (GObject *object)
{
  KefuSync *self = KEFU_SYNC (object);

  g_free (self->last_error);

  G_OBJECT_CLASS (kefu_sync_parent_class)->finalize (object);
}

static void
kefu_sync_class_init (KefuSyncClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = kefu_sync_get_property;
  object_class->dispose = kefu_sync_dispose;
  object_class->finalize = kefu_sync_finalize;

  properties[PROP_ONLINE] =
    g_param_spec_boolean ("online", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PENDING_CHANGES] =
    g_param_spec_uint ("pending-changes", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SYNCING] =
    g_param_spec_boolean ("syncing", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_LAST_ERROR] =
    g_param_spec_string ("last-error", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_CONFLICT] =
    g_signal_new ("conflict", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 5, G_TYPE_INT64, G_TYPE_STRING, G_TYPE_INT64, JSON_TYPE_OBJECT,
                  JSON_TYPE_OBJECT);
  signals[SIGNAL_CHANGE_REJECTED] =
    g_signal_new ("change-rejected", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 2, G_TYPE_INT64, G_TYPE_STRING);
  signals[SIGNAL_SESSION_EXPIRED] =
    g_signal_new ("session-expired", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 0);
}

static void
kefu_sync_init (KefuSync *self)
{
  self->interval_ms = DEFAULT_INTERVAL_MS;
  self->max_backoff_ms = DEFAULT_MAX_BACKOFF_MS;
  g_queue_init (&self->flushes);
}

KefuSync *
kefu_sync_new (KefuApiClient  *client,
               KefuLocalStore *store)
{
  KefuSync *self;

  g_return_val_if_fail (KEFU_IS_API_CLIENT (client), NULL);
  g_return_val_if_fail (KEFU_IS_LOCAL_STORE (store), NULL);

  self = g_object_new (KEFU_TYPE_SYNC, NULL);
  self->client = g_object_ref (client);
  self->store = g_object_ref (store);
  self->outbox_handler = g_signal_connect (store, "outbox-changed",
                                           G_CALLBACK (on_outbox_changed), self);
  self->token_handler = g_signal_connect (client, "notify::token",
                                          G_CALLBACK (on_token_changed), self);
  return self;
}

KefuApiClient *
kefu_sync_get_client (KefuSync *self)
{
  g_return_val_if_fail (KEFU_IS_SYNC (self), NULL);
  return self->client;
}

KefuLocalStore *
kefu_sync_get_store (KefuSync *self)
{
  g_return_val_if_fail (KEFU_IS_SYNC (self), NULL);
  return self->store;
}

void
kefu_sync_start (KefuSync *self)
{
  g_return_if_fail (KEFU_IS_SYNC (self));

  if (self->started)
    return;
  self->started = TRUE;
  schedule (self, 0);
}

void
kefu_sync_stop (KefuSync *self)
{
  g_return_if_fail (KEFU_IS_SYNC (self));

  self->started = FALSE;
  g_clear_handle_id (&self->timeout_id, g_source_remove);
  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
}

void
kefu_sync_sync_now (KefuSync *self)
{
  g_return_if_fail (KEFU_IS_SYNC (self));

  self->backoff_ms = 0;
  if (self->syncing)
    {
      self->again = TRUE;
      return;
    }
  schedule (self, 0);
}

gboolean
kefu_sync_get_online (KefuSync *self)
{
  g_return_val_if_fail (KEFU_IS_SYNC (self), FALSE);
  return self->online;
}

guint
kefu_sync_get_pending_changes (KefuSync *self)
{
  g_return_val_if_fail (KEFU_IS_SYNC (self), 0);
  return kefu_local_store_count_outbox (self->store);
}

gboolean
kefu_sync_get_syncing (KefuSync *self)
{
  g_return_val_if_fail (KEFU_IS_SYNC (self), FALSE);
  return self->syncing;
}

const char *
kefu_sync_get_last_error (KefuSync *self)
{
  g_return_val_if_fail (KEFU_IS_SYNC (self), NULL);
  return self->last_error;
}

void
kefu_sync_set_interval (KefuSync *self,
                        guint     interval_ms)
{
  g_return_if_fail (KEFU_IS_SYNC (self));
  self->interval_ms = MAX (interval_ms, 10);
}

void
kefu_sync_set_max_backoff (KefuSync *self,
                           guint     max_backoff_ms)
{
  g_return_if_fail (KEFU_IS_SYNC (self));
  self->max_backoff_ms = MAX (max_backoff_ms, 10);
}

GPtrArray *
kefu_sync_list_conflicts (KefuSync *self)
{
  g_autoptr(GPtrArray) entries = NULL;
  GPtrArray *conflicts;

  g_return_val_if_fail (KEFU_IS_SYNC (self), NULL);

  conflicts = g_ptr_array_new_with_free_func ((GDestroyNotify) kefu_outbox_entry_free);
  entries = kefu_local_store_list_outbox (self->store, NULL);
  for (guint i = 0; entries && i < entries->len; i++)
    if (((KefuOutboxEntry *) g_ptr_array_index (entries, i))->state == KEFU_OUTBOX_CONFLICT)
      g_ptr_array_add (conflicts, g_ptr_array_steal_index (entries, i--));
  return conflicts;
}

gboolean
kefu_sync_resolve_conflict (KefuSync            *self,
                            gint64               seq,
                            KefuSyncResolution   resolution,
                            GError             **error)
{
  gboolean ok;

  g_return_val_if_fail (KEFU_IS_SYNC (self), FALSE);

  self->own_change = TRUE;
  if (resolution == KEFU_SYNC_KEEP_MINE)
    ok = kefu_local_store_keep_mine (self->store, seq, error);
  else
    ok = kefu_local_store_take_theirs (self->store, seq, error);
  self->own_change = FALSE;
  if (ok)
    kefu_sync_sync_now (self);
  return ok;
}

typedef struct {
  KefuSync *self;
  char     *entity;
} Refetch;

static void
on_refetched (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Refetch *refetch = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) record = kefu_api_client_request_finish (KEFU_API_CLIENT (source), result,
                                                                 NULL, &error);

  if (!record ||
      !kefu_local_store_put_server_record (refetch->self->store, refetch->entity, record, &error))
    g_debug ("cannot fetch the server's copy again: %s", error->message);
  g_object_unref (refetch->self);
  g_free (refetch->entity);
  g_free (refetch);
}

gboolean
kefu_sync_discard_change (KefuSync  *self,
                          gint64     seq,
                          GError   **error)
{
  g_autoptr(KefuOutboxEntry) entry = NULL;
  gboolean ok;

  g_return_val_if_fail (KEFU_IS_SYNC (self), FALSE);

  entry = kefu_local_store_get_outbox_entry (self->store, seq, error);
  if (!entry)
    return FALSE;
  self->own_change = TRUE;
  ok = kefu_local_store_discard_change (self->store, seq, error);
  self->own_change = FALSE;
  /* The copy still shows the refused edit: the server's version replaces it. */
  if (ok && entry->operation == KEFU_OUTBOX_UPDATE)
    {
      const KefuRecordKind *kind = kefu_record_kind_lookup (entry->entity);
      g_autofree char *path = g_strdup_printf ("/v1/%s/%" G_GINT64_FORMAT, kind->plural,
                                               entry->record_id);
      Refetch *refetch = g_new0 (Refetch, 1);

      refetch->self = g_object_ref (self);
      refetch->entity = g_strdup (entry->entity);
      kefu_api_client_request_async (self->client, "GET", path, NULL, NULL, -1, NULL,
                                     on_refetched, refetch);
    }
  return ok;
}

void
kefu_sync_flush_async (KefuSync            *self,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (KEFU_IS_SYNC (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kefu_sync_flush_async);
  g_queue_push_tail (&self->flushes, task);
  kefu_sync_sync_now (self);
}

gboolean
kefu_sync_flush_finish (KefuSync      *self,
                        GAsyncResult  *result,
                        GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
