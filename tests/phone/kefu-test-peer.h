/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A real kefu-phone process as a party in a test: it listens on its own
 * port, plays its own tone (its "voice") and records what it hears, takes
 * commands on stdin and prints one JSON event a line, which the test
 * waits for.  Several of them make a customer, an agent and a colleague.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct {
  const char *name;
  GSubprocess *proc;
  GOutputStream *in;
  GDataInputStream *out;
  GCancellable *cancel;         /* the pending read, at clear */
  GPtrArray *events;            /* JsonObject, as printed */
  guint next;                   /* events before it were taken by a wait */
  gboolean eof;
  guint16 port;                 /* where it takes calls on 127.0.0.1 */
  char *recording;              /* the WAV of what it heard (last call) */
} KefuTestPeer;

guint16     kefu_test_free_udp_port (void);
/* A 30 s tone WAV in @dir; the path (free it). */
char       *kefu_test_write_tone    (const char *dir, const char *name, double freq);

/* Starts kefu-phone (env KEFU_PHONE) listening on a free port, playing a
 * @tone Hz voice, recording into @dir; @extra: more options or NULL. */
void        kefu_test_peer_start    (KefuTestPeer *p, const char *dir, const char *name,
                                     double tone, const char *const *extra);
void        kefu_test_peer_send     (KefuTestPeer *p, const char *fmt, ...) G_GNUC_PRINTF (2, 3);
/* The next @event it prints (earlier other events are passed over; an
 * "error" event fails the test).  Borrowed. */
JsonObject *kefu_test_peer_wait     (KefuTestPeer *p, const char *event);
/* The first @event of call @call not taken by this function yet, in
 * whichever order the events came. */
JsonObject *kefu_test_peer_wait_call (KefuTestPeer *p, const char *event, gint64 call);
/* quit, then it must exit with status 0 (no leak under ASan) */
void        kefu_test_peer_quit     (KefuTestPeer *p);
void        kefu_test_peer_clear    (KefuTestPeer *p);
gint64      kefu_test_event_call    (JsonObject *ev);

/* The share of @freq (0 none ... 1 a pure tone) in the last @seconds of
 * channel @channel (0 for mono) of a WAV. */
double      kefu_test_tone_share    (const char *path, guint channel, double freq,
                                     double seconds);
/* The same over @seconds that end @end_s before the end. */
double      kefu_test_tone_share_before_end (const char *path, guint channel, double freq,
                                             double end_s, double seconds);
void        kefu_test_assert_hears  (const char *who, const char *path, guint channel,
                                     double freq, double seconds);
void        kefu_test_assert_not_hears (const char *who, const char *path, guint channel,
                                        double freq, double seconds);

G_END_DECLS
