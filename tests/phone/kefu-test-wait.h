/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Waiting in the softphone tests: run the main context until something
 * happened, with a deadline so a hang fails the test instead of blocking
 * it, and the child processes (sipp, baresip, kefu-phone) that play the
 * far ends.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define KEFU_TEST_WAIT_S 20

/* For g_subprocess_launcher_set_child_setup: the child dies with the test,
 * so an aborted test leaves no peer running. */
void     kefu_test_child_setup           (gpointer data);

/* Iterates the default context until done (data) or KEFU_TEST_WAIT_S
 * pass; then fails naming `what`. */
void     kefu_test_run_until             (gboolean (*done) (gpointer), gpointer data,
                                          const char *what);
/* done () for a gboolean flag */
gboolean kefu_test_flag_set              (gpointer data);
void     kefu_test_wait_exit             (GSubprocess *proc, const char *what);
/* sipp ran its scenario to the end: every message it expected came */
void     kefu_test_assert_sipp_completed (GSubprocess *proc);

/* A base port for sipp's -mp with the three ports after it free too. */
guint16  kefu_test_free_media_port       (void);

G_END_DECLS
