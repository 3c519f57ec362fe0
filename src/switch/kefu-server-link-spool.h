/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The server link's on-disk spool: an append-only log of the items the
 * switch owes kefu-server (events, call records, callback requests), kept
 * until the server acknowledged them.  Used by kefu-server-link.c only
 * (and its tests); plain files and GLib, no libre, one thread.
 *
 * Layout of spool_dir:
 *   spool-id                 a random id naming this spool; with an item's
 *                            sequence number it makes the ids the server
 *                            deduplicates retries by
 *   spool-<first seq>.log    segments, oldest first; one record a line:
 *                              CRC32 KIND SEQ[ PAYLOAD]\n
 *                            CRC32 (8 hex digits) covers "KIND SEQ[ PAYLOAD]";
 *                            KIND  E event, C call record, K callback
 *                                  request (SEQ: the item's, PAYLOAD: JSON),
 *                                  B batch (SEQ..PAYLOAD sent as one op_id),
 *                                  A ack (everything up to SEQ is done)
 *   corrupt/                 damaged records found at open, byte for byte
 *   rejected.log             items the server refused for good, one JSON
 *                            line each with the reason
 *   lock                     held (flock) while a switch uses the spool
 */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef struct _KefuSpool KefuSpool;

typedef enum {
  KEFU_SPOOL_EVENT = 'E',
  KEFU_SPOOL_CALL = 'C',
  KEFU_SPOOL_CALLBACK = 'K',
} KefuSpoolKind;

typedef struct {
  uint64_t      seq;
  KefuSpoolKind kind;
  char         *payload;    /* JSON text */
} KefuSpoolItem;

/* What open found wrong, for the log and the health counters. */
typedef struct {
  char    *path;            /* the segment */
  uint64_t offset;          /* of the first damaged byte */
  uint64_t length;
  char    *reason;
  char    *moved_to;        /* where the bytes are now */
} KefuSpoolDamage;

/* Creates the directory when missing, takes its lock, checks every
 * segment (damaged records are moved to corrupt/ and listed in *damage,
 * an array of KefuSpoolDamage*), and finds what is still owed. */
KefuSpool  *kefu_spool_open          (const char   *dir,
                                      uint64_t      segment_bytes,
                                      GPtrArray   **damage,
                                      GError      **error);
void        kefu_spool_free          (KefuSpool *spool);
void        kefu_spool_damage_free   (KefuSpoolDamage *damage);

const char *kefu_spool_get_id        (KefuSpool *spool);
const char *kefu_spool_get_dir       (KefuSpool *spool);

/* Appends an item (payload: one line of JSON).  Not yet synced. */
gboolean    kefu_spool_append        (KefuSpool      *spool,
                                      KefuSpoolKind   kind,
                                      const char     *payload,
                                      uint64_t       *out_seq,
                                      GError        **error);
/* fdatasync of what was appended since the last sync; FALSE with error
 * when the disk refused. */
gboolean    kefu_spool_sync          (KefuSpool *spool, GError **error);
gboolean    kefu_spool_is_dirty      (KefuSpool *spool);

/* The next items owed, oldest first: either the batch recorded as sent and
 * not acked (exactly as it was sent, *out_recorded TRUE), or up to max
 * consecutive items of one kind (max 1 for anything but events).  An empty
 * array when nothing is owed.  Array of KefuSpoolItem*, owned. */
GPtrArray  *kefu_spool_peek          (KefuSpool  *spool,
                                      guint       max,
                                      gsize       max_bytes,
                                      gboolean   *out_recorded,
                                      GError    **error);
/* Records that first..last go out as one batch, and syncs: a batch that
 * may have reached the server is always retried exactly as it was. */
gboolean    kefu_spool_mark_batch    (KefuSpool *spool, uint64_t first, uint64_t last,
                                      GError **error);
/* Everything up to last (n_items items, as peek gave them) is acknowledged:
 * forgotten, files rolled away. */
gboolean    kefu_spool_ack           (KefuSpool *spool, uint64_t last, guint n_items,
                                      GError **error);
/* The server refused item for good: kept in rejected.log with why, then
 * acked. */
gboolean    kefu_spool_reject        (KefuSpool *spool, const KefuSpoolItem *item,
                                      const char *reason, GError **error);

uint64_t    kefu_spool_pending       (KefuSpool *spool);   /* items owed */
uint64_t    kefu_spool_bytes         (KefuSpool *spool);   /* segments on disk */
uint64_t    kefu_spool_last_seq      (KefuSpool *spool);   /* last appended, 0: none */
uint64_t    kefu_spool_acked         (KefuSpool *spool);   /* everything <= is done */

void        kefu_spool_item_free     (KefuSpoolItem *item);

G_END_DECLS
