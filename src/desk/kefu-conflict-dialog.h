/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * KefuConflictDialog: someone changed a record on the server while this
 * agent's change to it waited; the dialog shows both versions side by side,
 * field by field, and the agent keeps theirs or takes the server's
 * (kefu_sync_resolve_conflict).  Closing it without a choice leaves the
 * change waiting, to be asked again.
 */
#pragma once

#include <adwaita.h>

#include "kefu-sync.h"

G_BEGIN_DECLS

#define KEFU_TYPE_CONFLICT_DIALOG (kefu_conflict_dialog_get_type ())
G_DECLARE_FINAL_TYPE (KefuConflictDialog, kefu_conflict_dialog, KEFU, CONFLICT_DIALOG,
                      AdwMessageDialog)

GtkWindow *kefu_conflict_dialog_new (GtkWindow  *parent,
                                     KefuSync   *sync,
                                     gint64      seq,
                                     const char *entity,
                                     JsonObject *ours,
                                     JsonObject *theirs);

/* The fields shown as differing, for tests. */
guint      kefu_conflict_dialog_get_n_differences (KefuConflictDialog *self);

G_END_DECLS
