/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * What KefuPhone alone does with a KefuAccount: read its configuration for
 * the SIP user agent and set its registration state from the agent's
 * events.  Main thread only.
 */
#pragma once

#include "kefu-account.h"
#include "kefu-registration.h"

G_BEGIN_DECLS

/* cfg's strings are borrowed from self: valid until its configuration
 * changes.  The account id is the AOR. */
void     kefu_account_get_config          (KefuAccount                *self,
                                           struct kefu_account_config *cfg);
void     kefu_account_apply_event         (KefuAccount                *self,
                                           const struct kefu_reg_event *ev);
/* back to unregistered, as when the phone lets go of it */
void     kefu_account_reset               (KefuAccount                *self);

G_END_DECLS
