/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * KefuApplication: the agent desktop as one process — the session with the
 * server (KefuLogin, KefuLocalStore, KefuSync), the softphone (KefuPhone,
 * made from the settings), the window, and what works with the window
 * hidden: incoming-call notifications with Answer and Reject, the ringer,
 * and tel:/sip: links handed over by the desktop (GApplication open).
 *
 * App actions: answer-call (u: call id), reject-call (u), show-call (u),
 * dial (s), preferences, shortcuts, about, sign-out, quit.
 */
#pragma once

#include <adwaita.h>

#include "kefu-phone.h"
#include "kefu-window.h"

G_BEGIN_DECLS

#define KEFU_TYPE_APPLICATION (kefu_application_get_type ())
G_DECLARE_FINAL_TYPE (KefuApplication, kefu_application, KEFU, APPLICATION, AdwApplication)

KefuApplication *kefu_application_new        (void);

KefuWindow      *kefu_application_get_window (KefuApplication *self);
/* NULL until the first session opened the desk. */
KefuPhone       *kefu_application_get_phone  (KefuApplication *self);

G_END_DECLS
