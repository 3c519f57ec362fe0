/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * KefuDbPg: the scale-out backend, PostgreSQL through libpq.  Runs the
 * store's portable SQL: `?` placeholders become $1..$n.  Each pooled
 * connection is one libpq connection.
 */
#pragma once

#include "kefu-db.h"

G_BEGIN_DECLS

#define KEFU_TYPE_DB_PG (kefu_db_pg_get_type ())
G_DECLARE_FINAL_TYPE (KefuDbPg, kefu_db_pg, KEFU, DB_PG, KefuDb)

/* conninfo: a libpq connection string ("host=/run/x port=5433 dbname=kefu")
 * or URI.  Nothing is connected until the first acquire. */
KefuDb *kefu_db_pg_new (const char *conninfo) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
