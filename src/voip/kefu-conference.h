/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A three-party (or larger) conference mixed locally in the agent's phone,
 * on librem's aumix: every party hears the mix of all the others.
 *
 * The agent is the local party: the conference drives the agent's own
 * audio back-ends (microphone and speaker, or the file/null stand-ins)
 * from aumix's thread, one 20 ms frame per tick.  Each call in the
 * conference gets a port: a source (what the call sends: the mix without
 * that call) and a sink (what the call received) to hand to its RTP
 * stream with kefu_rtp_stream_set_audio().  Freeing both ends of a port
 * takes that call out of the mix; the others carry on.
 *
 * Threads: alloc, port and free on one thread (the phone thread); the
 * port ends are read and written by the RTP streams on that thread, and
 * the mixing happens on aumix's own thread, so the ends hand frames over
 * under a lock and never block for long.
 */
#pragma once

#include <glib.h>

#include "kefu-audio-file.h"

G_BEGIN_DECLS

struct kefu_conference;

/* Takes ownership of the agent's back-ends (either may be NULL: null).
 * 0 or an errno. */
int  kefu_conference_alloc (struct kefu_conference **confp,
                            struct kefu_audio_source *local_src,
                            struct kefu_audio_sink *local_sink);
/* A new party: *srcp feeds its RTP stream, *sinkp takes what it received.
 * The conference stays alive while a port end is out. */
int  kefu_conference_port (struct kefu_conference *conf,
                           struct kefu_audio_source **srcp,
                           struct kefu_audio_sink **sinkp);
/* How many calls take part (ports with both ends still out). */
guint kefu_conference_parties (const struct kefu_conference *conf);
/* Stops the mixing and frees the agent's back-ends (a file sink writes
 * its WAV); ports still out fall silent and are freed by their streams. */
void kefu_conference_free (struct kefu_conference *conf);

G_END_DECLS
