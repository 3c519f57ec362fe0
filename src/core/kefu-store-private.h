/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * What kefu-store.c (records) and kefu-store-events.c (event log, change
 * feed, folds) share.  Private to the store.
 */
#pragma once

#include "kefu-store.h"

/* A write transaction; on PostgreSQL it also takes the writers' turn so
 * the change feed's order is the commit order. */
KefuDbConn *kefu_store_begin_write        (KefuStore *self, GError **error);
gboolean    kefu_store_end_write          (KefuStore *self, KefuDbConn *conn, gboolean ok,
                                           GError **error);

/* Operation ids: TRUE (and result filled) when op_id was seen before. */
gboolean    kefu_store_find_operation     (KefuDbConn *conn, const KefuWrite *write,
                                           KefuWriteResult *result, GError **error);
gboolean    kefu_store_save_operation     (KefuDbConn *conn, const KefuWrite *write,
                                           JsonObject *record, gint64 now, GError **error);

/* A stored JSON document (an empty object when unreadable). */
JsonObject *kefu_store_parse_object       (const char *text);
void        kefu_store_set_time_member    (JsonObject *object, const char *member, gint64 ms);
