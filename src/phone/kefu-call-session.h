/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * SIP call signalling of the softphone: outgoing and incoming INVITE
 * sessions (libre sipsess) on a struct kefu_ua, with the SDP offer/answer
 * of kefu-sdp, hold/resume by re-INVITE, and several calls at once.  No
 * media here: each call only reserves a local RTP port for its SDP.
 *
 * Threads (see kefu-phone-loop.h): kefu_calls_alloc() and the kefu_calls_*
 * functions run on the phone thread.  The GLib side uses the kefu_call_*
 * commands, which name calls by their numeric id and go through
 * kefu_phone_loop_call(); it never dereferences the struct kefu_calls
 * pointer it was given.  Everything the UI learns arrives as a plain-data
 * struct kefu_call_event on the UI context.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "kefu-phone-loop.h"
#include "kefu-registration.h"
#include "kefu-rtp-stream.h"

/* The codecs a call offers and accepts unless configured.  G.711 first:
 * the switch records, relays and listens for inband digits in it without
 * transcoding; Opus is there for peers that prefer it. */
#define KEFU_CALLS_DEFAULT_CODECS "pcmu,pcma,opus"

/* How long our hold or resume re-INVITE may go unanswered before it counts
 * as refused.  libre 1.1 drops a failure response to a re-INVITE without a
 * word, so only the answer that never came tells.  It leaves room for the
 * one retry RFC 3261 14.1 makes after a 491 (libre waits 3 s when we
 * placed the call, 1 s otherwise) and for UDP retransmissions. */
#define KEFU_CALLS_HOLD_ANSWER_MS 5000

G_BEGIN_DECLS

enum kefu_call_event_type {
  KEFU_CALL_EVENT_INCOMING,       /* an INVITE for us; we sent 180 */
  KEFU_CALL_EVENT_PROGRESS,       /* outgoing: 180/183 (see early_media) */
  KEFU_CALL_EVENT_ESTABLISHED,    /* codec and telephone-event are set */
  KEFU_CALL_EVENT_HELD,           /* our hold re-INVITE was accepted */
  KEFU_CALL_EVENT_RESUMED,        /* our resume re-INVITE was accepted */
  /* Our hold (resume) re-INVITE was not accepted in time
   * (KEFU_CALLS_HOLD_ANSWER_MS): refused, or never answered.  The call
   * stays as it was (the media fields say how) and the peer still hears
   * us (is still held); reason says why.  An answer that comes later all
   * the same is reported as HELD (RESUMED) then. */
  KEFU_CALL_EVENT_HOLD_FAILED,
  KEFU_CALL_EVENT_RESUME_FAILED,
  KEFU_CALL_EVENT_REMOTE_HOLD,    /* the peer put us on hold */
  KEFU_CALL_EVENT_REMOTE_RESUMED, /* the peer took us off hold */
  KEFU_CALL_EVENT_CLOSED,         /* see scode and reason; the id is dead */
  KEFU_CALL_EVENT_DTMF,           /* a digit received: dtmf_digit, dtmf_mode */
  /* Our blind transfer (kefu_calls_transfer): */
  KEFU_CALL_EVENT_TRANSFER_PROGRESS, /* a NOTIFY from the transferee: scode and
                                        reason of its sipfrag ("100 Trying",
                                        "200 OK"); on a final 2xx the call then
                                        closes with reason "transferred" */
  KEFU_CALL_EVENT_TRANSFER_FAILED,   /* REFER refused (scode, reason of the
                                        response) or the target failed (the
                                        final sipfrag); the call stays up */
  /* The far end asks us to call refer_to (an incoming REFER).  It got
   * 202 and a NOTIFY "100 Trying"; nothing more happens by itself: the
   * application decides with kefu_calls_refer_accept() or _decline(). */
  KEFU_CALL_EVENT_REFER,
  KEFU_CALL_EVENT_CONFERENCE,     /* the call joined the local conference */
};

enum kefu_call_direction {
  KEFU_CALL_OUTGOING,
  KEFU_CALL_INCOMING,
};

/** One header of an incoming INVITE, as it came (name case kept). */
struct kefu_call_header {
  char *name;
  char *value;
};

/** What the UI learns about a call (plain data; freed after the handler). */
struct kefu_call_event {
  enum kefu_call_event_type type;
  guint call_id;
  enum kefu_call_direction direction;
  char *account_id;             /* NULL: the listen identity */

  /* INCOMING: the caller and the callee of the INVITE */
  char *from_name;              /* display name, "" if none */
  char *from_uri;
  char *to_uri;
  GPtrArray *headers;           /* struct kefu_call_header, every header
                                   of the INVITE in order; NULL otherwise */
  guint replaces;               /* an attended transfer's INVITE: the id of
                                   the call it replaces (which closes with
                                   "replaced"); it is answered at once */

  /* PROGRESS and CLOSED: the SIP response (0 if none) */
  uint16_t scode;
  char *reason;                 /* CLOSED: "local hangup", "remote hangup",
                                   "cancelled", "timeout", "transferred",
                                   "replaced", or the SIP reason
                                   phrase of a failure response;
                                   HOLD_FAILED, RESUME_FAILED: why */
  bool early_media;             /* PROGRESS: the response carried SDP */

  /* ESTABLISHED, HELD, RESUMED, *_FAILED, REMOTE_*: the negotiated stream */
  char *codec;                  /* "PCMU", "PCMA", "opus" */
  int codec_pt;
  uint32_t srate;
  int telev_pt;                 /* -1: none negotiated */
  uint16_t local_rtp_port;      /* reserved for this call */
  char *remote_rtp;             /* "ip:port" */
  bool local_hold;
  bool remote_hold;
  bool srtp;                    /* the media is SRTP (SDES keys over TLS) */

  /* DTMF: the digit received and how: "rfc4733" or "info" */
  char dtmf_digit;
  const char *dtmf_mode;        /* static string */

  /* CLOSED of a call that had media: its final statistics */
  bool has_stats;
  struct kefu_rtp_stream_stats stats;

  /* REFER: the Refer-To URI (without <>), and the Referred-By header
   * value, or the From URI of the REFER when it has none */
  char *refer_to;
  char *referred_by;
};

/** Runs on the UI context given to kefu_phone_loop_start(). */
typedef void (kefu_call_event_h)(const struct kefu_call_event *ev, void *arg);

struct kefu_calls_config {
  /* Accept INVITEs for any user at our address, without a registered
   * account (the --listen mode).  Otherwise the Request-URI user must be
   * the contact user of an account, or the INVITE gets 404. */
  bool listen_any;
  const char *listen_user;      /* our user in listen mode; NULL: "kefu" */
  const char *display_name;     /* From display name of our calls, or NULL */
  const char *codecs;           /* see struct kefu_sdp_config; NULL: default */
  int telev_pt;                 /* as in struct kefu_sdp_config */
  /* Audio back-end of every call unless set per call: "null" (or NULL),
   * or "file:IN.wav,OUT.wav" (see kefu_audio_open()). */
  const char *audio;
  bool audio_loop;              /* file: play IN.wav again at its end */
  /* How DTMF goes both ways unless the call's account says otherwise:
   * "rfc4733", "info", "inband", or "auto"/NULL (RFC 4733 where
   * negotiated, else inband tones). */
  const char *dtmf_mode;
  /* Calls of the listen identity require SRTP, and so TLS: an INVITE
   * over UDP or TCP gets 488, and dialing over them EPROTONOSUPPORT.
   * An account's calls follow the account (kefu_ua_account_srtp()). */
  bool srtp;
  kefu_call_event_h *eventh;    /* called on the UI context */
  void *arg;                    /* for eventh; only used on the UI side */
};

struct kefu_calls;

/* phone thread.  The loop owns the calls object (like the UA): it hangs
 * up every call when the loop stops.  Allocate it after the UA. */
int  kefu_calls_alloc (struct kefu_calls **callsp, struct kefu_phone_loop *loop,
                       struct kefu_ua *ua, const struct kefu_calls_config *cfg);
/* headers: NULL, or name, value, name, value, ..., NULL */
int  kefu_calls_dial (struct kefu_calls *calls, guint call_id, const char *account_id,
                      const char *to_uri, const char *const *headers);
int  kefu_calls_answer (struct kefu_calls *calls, guint call_id);
/* 486 Busy Here or 603 Decline (any 4xx-6xx) to an unanswered INVITE */
int  kefu_calls_reject (struct kefu_calls *calls, guint call_id, uint16_t scode);
int  kefu_calls_hangup (struct kefu_calls *calls, guint call_id);
/* Hold or resume by re-INVITE: HELD (RESUMED) or HOLD_FAILED
 * (RESUME_FAILED) follows.  Asking for what is under way already sends
 * nothing more; asking for the opposite sends it after the first. */
int  kefu_calls_hold (struct kefu_calls *calls, guint call_id, bool hold);
/* Digits "0-9*#A-D" in the configured DTMF mode.  ENOTSUP: rfc4733 mode
 * without telephone-event negotiated; EPROTO: no media yet. */
int  kefu_calls_send_dtmf (struct kefu_calls *calls, guint call_id, const char *digits);
/* Muted, the far end hears silence (digits still go). */
int  kefu_calls_mute (struct kefu_calls *calls, guint call_id, bool muted);
/* Records the call from now on into a stereo WAV at @path (left: us,
 * right: the far end), or stops with @path NULL.  EIO with @error when
 * the file cannot be made; the call goes on. */
int  kefu_calls_record (struct kefu_calls *calls, guint call_id, const char *path,
                        GError **error);
/* The audio back-end of one call (as cfg->audio); before ESTABLISHED it
 * is used from then on, after it replaces the running one. */
int  kefu_calls_set_audio (struct kefu_calls *calls, guint call_id, const char *audio);
/* ENOENT for an unknown call; zeros before the media started. */
int  kefu_calls_stats (struct kefu_calls *calls, guint call_id,
                       struct kefu_rtp_stream_stats *stats);
/* Blind transfer of an established call to @target_uri (sip: or sips:)
 * by REFER; what follows arrives as TRANSFER_* events.  EINVAL: not a
 * SIP URI (nothing sent); EPROTO: not established; EALREADY: a transfer
 * of this call is under way. */
int  kefu_calls_transfer (struct kefu_calls *calls, guint call_id, const char *target_uri);

/* Attended transfer: REFER the far end of @call_id to the far end of
 * @target_id with Replaces; progress as for a blind transfer.  The REFER
 * goes once the hold of @call_id is acknowledged (a call not held is put
 * on hold first); a hold that fails fails the transfer (TRANSFER_FAILED
 * after HOLD_FAILED), both calls still up.  EPROTO: one of them is not
 * established. */
int  kefu_calls_transfer_attended (struct kefu_calls *calls, guint call_id, guint target_id);
/* The application's decision on a REFER event: place the call it asks for
 * as @new_id (carrying its Replaces and Referred-By; NOTIFYs tell the
 * referrer how it goes), or refuse it (603).  EPROTO: no REFER waiting. */
int  kefu_calls_refer_accept (struct kefu_calls *calls, guint call_id, guint new_id);
int  kefu_calls_refer_decline (struct kefu_calls *calls, guint call_id);
/* Three-party conference mixed here: both calls (established; a held one
 * is resumed) and the agent's audio back-end hear each other.  Each call
 * gets a CONFERENCE event; a call leaves it by ending. */
int  kefu_calls_conference (struct kefu_calls *calls, guint call_id, guint other_id);

/* GLib side: queue the command on the phone thread.  0 or an errno if it
 * could not be queued; what happens next arrives as events (a command for
 * an unknown call id is ignored, with a debug message). */
guint kefu_call_dial (struct kefu_phone_loop *loop, struct kefu_calls *calls,
                      const char *account_id, const char *to_uri,
                      const char *const *headers);   /* the call id, 0 on error */
int   kefu_call_answer (struct kefu_phone_loop *loop, struct kefu_calls *calls, guint call_id);
int   kefu_call_reject (struct kefu_phone_loop *loop, struct kefu_calls *calls, guint call_id,
                        uint16_t scode);
int   kefu_call_hangup (struct kefu_phone_loop *loop, struct kefu_calls *calls, guint call_id);
int   kefu_call_hold (struct kefu_phone_loop *loop, struct kefu_calls *calls, guint call_id,
                      gboolean hold);
int   kefu_call_send_dtmf (struct kefu_phone_loop *loop, struct kefu_calls *calls,
                           guint call_id, const char *digits);
int   kefu_call_set_audio (struct kefu_phone_loop *loop, struct kefu_calls *calls,
                           guint call_id, const char *audio);
/* EINVAL at once for a target that is not a SIP URI; else as above. */
int   kefu_call_transfer (struct kefu_phone_loop *loop, struct kefu_calls *calls,
                          guint call_id, const char *target_uri);
int   kefu_call_transfer_attended (struct kefu_phone_loop *loop, struct kefu_calls *calls,
                                   guint call_id, guint target_id);
/* The new call's id (0 if the command could not be queued). */
guint kefu_call_refer_accept (struct kefu_phone_loop *loop, struct kefu_calls *calls,
                              guint call_id);
int   kefu_call_refer_decline (struct kefu_phone_loop *loop, struct kefu_calls *calls,
                               guint call_id);
int   kefu_call_conference (struct kefu_phone_loop *loop, struct kefu_calls *calls,
                            guint call_id, guint other_id);
int   kefu_call_mute (struct kefu_phone_loop *loop, struct kefu_calls *calls, guint call_id,
                      gboolean muted);
/* Synchronous, so that a bad path is an error at once: 0, ENOENT, or EIO
 * with @error.  @path NULL stops. */
int   kefu_call_record (struct kefu_phone_loop *loop, struct kefu_calls *calls, guint call_id,
                        const char *path, GError **error);
/* Synchronous: waits for the phone thread.  0, or ENOENT (no such call). */
int   kefu_call_stats (struct kefu_phone_loop *loop, struct kefu_calls *calls,
                       guint call_id, struct kefu_rtp_stream_stats *stats);

/* any thread */
const char *kefu_call_event_type_name (enum kefu_call_event_type type);
const char *kefu_call_event_header (const struct kefu_call_event *ev, const char *name);
/* true for a sip: or sips: URI usable as a transfer target */
bool        kefu_call_transfer_target_valid (const char *uri);

G_END_DECLS
