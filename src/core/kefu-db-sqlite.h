/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * KefuDbSqlite: the embedded default backend, one SQLite file in WAL mode.
 * Used by kefu-server out of the box and by the desktop's local cache.
 */
#pragma once

#include "kefu-db.h"

G_BEGIN_DECLS

#define KEFU_TYPE_DB_SQLITE (kefu_db_sqlite_get_type ())
G_DECLARE_FINAL_TYPE (KefuDbSqlite, kefu_db_sqlite, KEFU, DB_SQLITE, KefuDb)

/* path may be ":memory:" only for single-connection use (tests). */
KefuDb *kefu_db_sqlite_new (const char *path) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
