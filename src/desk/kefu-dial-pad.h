/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * KefuDialPad: the twelve telephone keys.  Used twice by the phone panel:
 * to type a number before dialling, and as the DTMF keypad of the selected
 * call.  It only says which key was pressed ("digit-pressed"); what a digit
 * means is the owner's business.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define KEFU_TYPE_DIAL_PAD (kefu_dial_pad_get_type ())
G_DECLARE_FINAL_TYPE (KefuDialPad, kefu_dial_pad, KEFU, DIAL_PAD, GtkWidget)

GtkWidget *kefu_dial_pad_new (void);

G_END_DECLS
