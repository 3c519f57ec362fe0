/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A KefuStore on a real SQLite file in a temporary folder, migrated to the
 * current schema, as kefu-server and the desktop's cache use it: the
 * fixture of the store and report tests in tests/core, and what they
 * write through it (records as a client sends them, events as kefu-switch
 * publishes them).
 */
#pragma once

#include "kefu-db-sqlite.h"
#include "kefu-store.h"

G_BEGIN_DECLS

typedef struct {
  char      *dir;     /* the temporary folder, removed at tear-down */
  char      *path;    /* the SQLite file in it */
  KefuDb    *db;
  KefuStore *store;
} KefuTestStore;

/* Makes the folder (dir_template as for g_dir_make_tmp) and opens the
 * store in it. */
void kefu_test_store_set_up    (KefuTestStore *fixture, const char *dir_template);
/* Closes the store and removes the folder. */
void kefu_test_store_tear_down (KefuTestStore *fixture);

/* Opens the file and migrates it; kefu_test_store_set_up does, and a test
 * that changed the file behind the store's back does again. */
void kefu_test_store_open      (KefuTestStore *fixture);
/* Closes the store, asserting nothing holds the store or the database. */
void kefu_test_store_close     (KefuTestStore *fixture);

/* Removes dir and the files in it (no folders below), asserting each
 * went: the store leaves nothing open behind it. */
void kefu_test_remove_dir      (const char *dir);

/* Creates a record of kind from json as a client sends it; asserts it is
 * stored. */
void kefu_test_store_create    (KefuStore *store, const KefuRecordKind *kind, const char *json);
/* Appends events to the event log in one write; asserts every one was
 * stored. */
void kefu_test_store_publish   (KefuStore *store, JsonArray *events);

G_END_DECLS
