/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * KefuCall: one call as the desktop sees it — its state, its peer, the
 * headers of the INVITE that brought it (the screen pop), and the actions
 * an agent takes on it.  It never touches libre: it names its call by id
 * and queues commands on the phone thread through kefu-call-session.h.
 *
 * KefuPhone creates every KefuCall and feeds it the engine's events; the UI
 * only reads properties, connects to notify::state, "dtmf-received",
 * "hold-failed" and the transfer signals, and calls the actions.  Main
 * thread only (the thread that created the phone).
 *
 * The action names differ from the engine's kefu_call_answer/_hangup/...
 * (kefu-call-session.h), which take call ids and own those symbols.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum {
  KEFU_CALL_STATE_RINGING_IN,   /* an INVITE for us, not answered yet */
  KEFU_CALL_STATE_RINGING_OUT,  /* we dialled; no answer yet */
  KEFU_CALL_STATE_EARLY,        /* we dialled; the peer sent early media */
  KEFU_CALL_STATE_ESTABLISHED,
  KEFU_CALL_STATE_HELD,         /* we put the peer on hold */
  KEFU_CALL_STATE_REMOTE_HELD,  /* the peer put us on hold */
  KEFU_CALL_STATE_CLOSED,       /* see close-reason and close-code */
} KefuCallState;

typedef enum {
  KEFU_CALL_DIRECTION_OUTGOING,
  KEFU_CALL_DIRECTION_INCOMING,
} KefuCallDirection;

#define KEFU_TYPE_CALL_STATE (kefu_call_state_get_type ())
GType kefu_call_state_get_type (void);
#define KEFU_TYPE_CALL_DIRECTION (kefu_call_direction_get_type ())
GType kefu_call_direction_get_type (void);

#define KEFU_TYPE_CALL (kefu_call_get_type ())
G_DECLARE_FINAL_TYPE (KefuCall, kefu_call, KEFU, CALL, GObject)

guint             kefu_call_get_id                 (KefuCall *self);
KefuCallDirection kefu_call_get_direction          (KefuCall *self);
KefuCallState     kefu_call_get_state              (KefuCall *self);
const char       *kefu_call_get_peer_uri           (KefuCall *self);
const char       *kefu_call_get_peer_name          (KefuCall *self);
const char       *kefu_call_get_codec              (KefuCall *self);
int               kefu_call_get_telephone_event_pt (KefuCall *self);
const char       *kefu_call_get_close_reason       (KefuCall *self);
guint             kefu_call_get_close_code         (KefuCall *self);
/* The media is SRTP (an account or listen identity with SRTP, over TLS). */
gboolean          kefu_call_get_secure             (KefuCall *self);
/* A header of the INVITE of an incoming call (X-Kefu-Queue, ...), name
 * matched without case; NULL if absent or for outgoing calls. */
const char       *kefu_call_get_header             (KefuCall *self,
                                                    const char *name);

/* Each queues the action on the phone thread; what follows arrives as
 * property changes.  FALSE with @error if the call is closed or the
 * command could not be queued. */
gboolean kefu_call_accept      (KefuCall *self, GError **error);
/* 486 Busy Here or 603 Decline (any 4xx-6xx) to a ringing incoming call */
gboolean kefu_call_decline     (KefuCall *self, guint sip_code, GError **error);
gboolean kefu_call_hang_up     (KefuCall *self, GError **error);
/* The state becomes HELD (ESTABLISHED) once the far end accepts, or
 * "hold-failed" tells that it did not. */
gboolean kefu_call_put_on_hold (KefuCall *self, GError **error);
gboolean kefu_call_resume      (KefuCall *self, GError **error);
/* Digits from "0-9*#A-D", in the phone's DTMF mode */
gboolean kefu_call_send_digits (KefuCall *self, const char *digits, GError **error);

/* Mute, recording (see each function's comment in kefu-call.c). */
gboolean    kefu_call_set_muted       (KefuCall *self, gboolean muted, GError **error);
gboolean    kefu_call_get_muted       (KefuCall *self);
gboolean    kefu_call_start_recording (KefuCall *self, const char *path, GError **error);
gboolean    kefu_call_stop_recording  (KefuCall *self, GError **error);
const char *kefu_call_get_recording   (KefuCall *self);

/* The call's media figures now (MOS, loss, jitter...; see
 * kefu-rtp-stream.h); waits for the phone thread.  FALSE when the call
 * has ended or has no media yet. */
struct kefu_rtp_stream_stats;
gboolean    kefu_call_get_stats       (KefuCall *self, struct kefu_rtp_stream_stats *stats);

/* Transfer and conference (see each function's comment in kefu-call.c). */
gboolean kefu_call_transfer_blind    (KefuCall *self, const char *uri, GError **error);
gboolean kefu_call_transfer_to_call  (KefuCall *self, KefuCall *consultation, GError **error);
gboolean kefu_call_decline_transfer  (KefuCall *self, GError **error);
gboolean kefu_call_join_conference   (KefuCall *self, KefuCall *other, GError **error);
gboolean kefu_call_get_in_conference (KefuCall *self);
/* An attended transfer's call that replaced one of ours: that call's id
 * (it closed with "replaced"); 0 for any other call. */
guint    kefu_call_get_replaces      (KefuCall *self);
/* The URI the far end's last transfer request named, or NULL. */
const char *kefu_call_get_transfer_target (KefuCall *self);

/* --- for KefuPhone only ----------------------------------------------- */
struct kefu_phone_loop;
struct kefu_calls;
struct kefu_call_event;

KefuCall *kefu_call_new_attached (struct kefu_phone_loop *loop, struct kefu_calls *calls,
                                  guint id, KefuCallDirection direction, const char *peer_uri,
                                  const char *peer_name, const GPtrArray *headers)
  G_GNUC_WARN_UNUSED_RESULT;
void      kefu_call_handle_event (KefuCall *self, const struct kefu_call_event *ev);
void      kefu_call_set_replaces (KefuCall *self, guint replaced_id);
/* The phone is going away or the call closed: commands fail from now on,
 * and a call not closed yet becomes closed with @reason. */
void      kefu_call_detach       (KefuCall *self, const char *reason);

G_END_DECLS
