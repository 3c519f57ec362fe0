/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * KefuCallRow: one call in the phone panel's call list — who, which queue,
 * its state, and a live duration (ringing time before the answer, talk time
 * after it, held time included).  Created by the list for each KefuCall of
 * the phone's calls model.
 */
#pragma once

#include <gtk/gtk.h>

#include "kefu-call.h"

G_BEGIN_DECLS

#define KEFU_TYPE_CALL_ROW (kefu_call_row_get_type ())
G_DECLARE_FINAL_TYPE (KefuCallRow, kefu_call_row, KEFU, CALL_ROW, GtkListBoxRow)

GtkWidget  *kefu_call_row_new          (KefuCall    *call);
KefuCall   *kefu_call_row_get_call     (KefuCallRow *self);

/* Seconds since the answer (or since the call appeared while ringing). */
gint64      kefu_call_row_get_duration (KefuCallRow *self);

/* The translated name of a call state, as the list and the controls show it. */
const char *kefu_call_state_describe   (KefuCallState state);
/* The translated outcome of a call record ("answered", "abandoned", ...);
 * the value itself when it is not one the server knows. */
const char *kefu_call_outcome_describe (const char *outcome);

G_END_DECLS
