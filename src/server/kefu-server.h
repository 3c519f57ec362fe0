/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * KefuServer: the REST + WebSocket API every desktop and the switch talk
 * to.  Listens with libsoup on the GLib main loop; store work runs on a
 * worker pool and completes back on the main thread.
 */
#pragma once

#include "kefu-server-config.h"
#include "kefu-store.h"

G_BEGIN_DECLS

#define KEFU_TYPE_SERVER (kefu_server_get_type ())
G_DECLARE_FINAL_TYPE (KefuServer, kefu_server, KEFU, SERVER, GObject)

KefuServer *kefu_server_new        (KefuServerConfig *config, KefuStore *store,
                                    GError **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean    kefu_server_listen     (KefuServer *self, GError **error);
/* The base URL actually listened on ("http://127.0.0.1:8080"). */
const char *kefu_server_get_url    (KefuServer *self);
void        kefu_server_shutdown   (KefuServer *self);

/* The OpenAPI 3 description of every route (for /v1/openapi.json). */
JsonNode   *kefu_server_build_openapi (void) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
