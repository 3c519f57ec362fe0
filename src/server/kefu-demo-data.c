/* SPDX-License-Identifier: GPL-3.0-or-later */
/* placeholder: being written */
#include "kefu-demo-data.h"
const char * const kefu_demo_logins[][3] = { { NULL, NULL, NULL } };
gboolean kefu_demo_data_generate (KefuStore *s, KefuAuth *a, const KefuDemoDataOptions *o, GError **e) { g_set_error (e, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "not yet"); return FALSE; }
