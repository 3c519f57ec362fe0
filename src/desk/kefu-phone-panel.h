/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * KefuPhonePanel: the softphone half of the agent's window — the phone's
 * registration state, the number entry and dial pad, the list of live
 * calls, and the controls of the selected call (answer, reject, hang up,
 * hold/resume, mute, record, DTMF keypad, blind and consult transfer,
 * conference, and a small call-quality indicator), and the question an
 * agent is asked when the far end wants to transfer them (REFER).
 *
 * Every control is an action of this class ("call.*", "phone.*"), with a
 * keyboard shortcut that works wherever the focus is in the window (see
 * ui/gtk/help-overlay.ui); the buttons only name the actions.  It works on
 * the KefuPhone and KefuCall view-models only.
 */
#pragma once

#include <gtk/gtk.h>

#include "kefu-local-store.h"
#include "kefu-phone.h"

G_BEGIN_DECLS

#define KEFU_TYPE_PHONE_PANEL (kefu_phone_panel_get_type ())
G_DECLARE_FINAL_TYPE (KefuPhonePanel, kefu_phone_panel, KEFU, PHONE_PANEL, GtkWidget)

GtkWidget *kefu_phone_panel_new               (void);

/* "phone": the KefuPhone whose calls are listed (NULL: not started). */
KefuPhone *kefu_phone_panel_get_phone         (KefuPhonePanel *self);
void       kefu_phone_panel_set_phone         (KefuPhonePanel *self,
                                               KefuPhone      *phone);

/* "account": the AOR whose registration is shown, NULL in listen mode;
 * "listen-address" is shown instead then. */
void       kefu_phone_panel_set_account       (KefuPhonePanel *self,
                                               const char     *account,
                                               const char     *listen_address);

/* "selected-call": the call the controls act on (NULL when none). */
KefuCall  *kefu_phone_panel_get_selected_call (KefuPhonePanel *self);
void       kefu_phone_panel_select_call       (KefuPhonePanel *self,
                                               KefuCall       *call);

/* Puts @number in the entry and dials it, as a tel:/sip: link does. */
gboolean   kefu_phone_panel_dial              (KefuPhonePanel *self,
                                               const char     *number,
                                               GError        **error);

/* The SIP domain ("host:port") bare numbers are dialled at (the account's
 * or the registrar's host); NULL: numbers are dialled as typed. */
void       kefu_phone_panel_set_dial_domain   (KefuPhonePanel *self,
                                               const char     *domain);

/* The customers, to name recordings after the caller (NULL: by number). */
void       kefu_phone_panel_set_store         (KefuPhonePanel *self,
                                               KefuLocalStore *store);
/* Where "call.record" writes (NULL: ~/Recordings, translated). */
void       kefu_phone_panel_set_recordings_dir (KefuPhonePanel *self,
                                                const char     *dir);
/* The colleague's call of a consult transfer in progress, or NULL. */
KefuCall  *kefu_phone_panel_get_consultation  (KefuPhonePanel *self);

G_END_DECLS
