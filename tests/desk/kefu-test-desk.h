/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * What the desktop's data-side tests share: waiting on the main loop for an
 * async result, and a TCP relay between the desktop and a real kefu-server
 * that keeps one address across server restarts, can lose the server's
 * next answer (the request reached the server, the reply never comes back),
 * and refuses connections while the server is down.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Iterates the default main context until *result is set. */
void           kefu_test_wait_result   (GAsyncResult **result);
void           kefu_test_on_result     (GObject *source, GAsyncResult *result, gpointer user_data);
/* Iterates until condition (a gboolean written by a callback) is TRUE, at
 * most timeout_s seconds; FALSE on timeout. */
gboolean       kefu_test_wait_flag     (gboolean *condition, guint timeout_s);

/* Drops the last reference to object and asserts it is finalized within
 * a few seconds: a GTask run in a thread lets go of its source object on
 * the worker thread, just after the main thread saw the result. */
void           kefu_test_assert_finalized (gpointer object);

typedef struct _KefuTestRelay KefuTestRelay;

KefuTestRelay *kefu_test_relay_new          (const char *upstream_url);
/* "http://127.0.0.1:PORT" of the relay. */
const char    *kefu_test_relay_get_url      (KefuTestRelay *relay);
void           kefu_test_relay_set_upstream (KefuTestRelay *relay, const char *upstream_url);
/* The next n answers from the server are dropped and their connection
 * closed. */
void           kefu_test_relay_lose_answers (KefuTestRelay *relay, guint n);
guint          kefu_test_relay_lost_answers (KefuTestRelay *relay);
void           kefu_test_relay_free         (KefuTestRelay *relay);

G_END_DECLS
