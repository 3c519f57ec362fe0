/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The phone thread: libre's re_main running on a GThread of its own, and the
 * two one-way channels between it and the GLib side.
 *
 * Thread rules
 *  - The "GLib side" is whichever thread called kefu_phone_loop_start()
 *    (normally the GTK main thread).  It may call only kefu_phone_loop_start,
 *    kefu_phone_loop_stop, kefu_phone_loop_call and kefu_phone_loop_call_sync.
 *    It never calls libre, and it never dereferences a libre object: commands
 *    name accounts and calls by id, and the phone thread looks them up.
 *  - The phone thread is the only thread that calls libre.  Functions passed
 *    to kefu_phone_loop_call* run there, as do the stop handlers; they may use
 *    kefu_phone_loop_post, kefu_phone_loop_add_stop_handler, _hold, _release.
 *  - Events go back as plain data (g_strdup'd strings, no libre pointers)
 *    through kefu_phone_loop_post(), which runs the function on the UI
 *    GMainContext given at start.
 *  - Stop: kefu_phone_loop_stop() runs the stop handlers on the phone thread
 *    (for instance un-REGISTER every account), waits until every hold is
 *    released or the stop deadline passes, makes re_main return, frees what
 *    was attached, closes libre and joins the thread.  Events posted during
 *    the shutdown are still delivered when the UI context is next iterated.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

struct kefu_phone_loop;

/** Runs on the phone thread; owns @arg. */
typedef void (kefu_phone_loop_func)(void *arg);
/** Runs on the phone thread; the GLib side waits for its result (errno). */
typedef int (kefu_phone_loop_sync_func)(void *arg);
/** Runs on the phone thread when the loop starts to stop. */
typedef void (kefu_phone_loop_stop_h)(struct kefu_phone_loop *loop, void *arg);

/* GLib side */
int  kefu_phone_loop_start (struct kefu_phone_loop **loopp, GMainContext *ui_context)
  G_GNUC_WARN_UNUSED_RESULT;
void kefu_phone_loop_stop (struct kefu_phone_loop *loop);
int  kefu_phone_loop_call (struct kefu_phone_loop *loop, kefu_phone_loop_func *func, void *arg);
int  kefu_phone_loop_call_sync (struct kefu_phone_loop *loop, kefu_phone_loop_sync_func *func,
                                void *arg);

/* phone thread */
void kefu_phone_loop_post (struct kefu_phone_loop *loop, GSourceFunc func, gpointer data,
                           GDestroyNotify destroy);
int  kefu_phone_loop_add_stop_handler (struct kefu_phone_loop *loop, kefu_phone_loop_stop_h *stoph,
                                       void *obj);
void kefu_phone_loop_hold (struct kefu_phone_loop *loop);
void kefu_phone_loop_release (struct kefu_phone_loop *loop);
void kefu_phone_loop_set_stop_timeout (struct kefu_phone_loop *loop, guint msec);
gboolean kefu_phone_loop_is_phone_thread (const struct kefu_phone_loop *loop);

G_END_DECLS
