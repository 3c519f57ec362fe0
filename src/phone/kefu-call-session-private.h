/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * What the files of the call engine share (kefu-call-session.c: calls and
 * their sessions; kefu-call-transfer.c: REFER both ways, consultation and
 * conference; kefu-call-commands.c: the GLib side's commands).  Phone
 * thread only, except kefu_calls_next_id().  libre-facing: libre's tabs.
 */
#pragma once

#include "kefu-call-session.h"

/* libre 1.1's headers take the platform from macros its own build sets;
 * these match Debian's build (struct sa, bool and the integer types). */
#ifndef HAVE_INTTYPES_H
#define HAVE_INTTYPES_H 1
#endif
#ifndef HAVE_STDBOOL_H
#define HAVE_STDBOOL_H 1
#endif
#ifndef HAVE_INET6
#define HAVE_INET6 1
#endif
#include <re.h>

#include "kefu-conference.h"
#include "kefu-dtmf-info.h"
#include "kefu-rtp-stream.h"
#include "kefu-sdp.h"

#define ALLOW KEFU_SIP_ALLOW

enum {
	MAX_AUTH_TRIES = 2,
	DTMF_DURATION_MS = 100,
};

enum dtmf_mode {
	DTMF_AUTO,      /* RFC 4733 where negotiated, else inband */
	DTMF_RFC4733,
	DTMF_INFO,
	DTMF_INBAND,
};

/* A hold or resume asked for while the opposite is under way: it goes
 * once that one is settled, so that only one offer of ours is out. */
enum hold_then {
	HOLD_THEN_NONE,
	HOLD_THEN_HOLD,
	HOLD_THEN_RESUME,
};

struct kefu_calls {
	struct kefu_phone_loop *loop;    /* borrowed: the loop owns us */
	struct kefu_ua *ua;              /* borrowed: attached before us */
	struct sipsess_sock *sock;
	struct sipevent_sock *evsock;    /* REFER subscriptions, NOTIFY */
	struct list calls;
	bool listen_any;
	bool stopping;
	char *listen_user;
	char *display_name;
	char *codecs;
	int telev_pt;
	char *audio;                     /* back-end spec, NULL: null */
	bool audio_loop;
	enum dtmf_mode dtmf_mode;
	bool srtp;                       /* the listen identity's calls */
	struct kefu_conference *conference;  /* the local mix, or NULL */
	kefu_call_event_h *eventh;       /* runs on the UI context */
	void *arg;
};

struct call {
	struct le le;
	struct kefu_calls *calls;        /* borrowed */
	guint id;
	enum kefu_call_direction dir;
	char *account_id;                /* NULL in listen mode */
	char *auth_user;
	char *password;
	unsigned auth_tries;
	struct sipsess *sess;
	struct kefu_sdp_media *sdp;
	struct kefu_rtp_stream *stream;  /* bound from the start: the
					    SDP names its port */
	uint16_t rtp_port;
	char *audio;                     /* per call, else calls->audio */
	bool audio_open;                 /* the back-end is in the stream */
	bool media;                      /* the stream was started */
	struct kefu_dtmf_info_queue info;   /* INFO DTMF waiting to be sent */
	struct mbuf *early;              /* SDP answer of a 183 */
	bool got_offer;                  /* incoming INVITE carried SDP */
	bool answered;
	bool established;
	bool closed;
	bool hold_pending;               /* our re-INVITE is out */
	bool hold_asked;                 /* what it asks: hold, or resume */
	bool hold_before;                /* held before it: what a failure
					    goes back to */
	bool hold_given_up;              /* it went unanswered too long: its
					    answer may still come, and the
					    SDP's own direction is what we
					    offered, not what goes */
	enum hold_then hold_then;
	struct tmr tmr_hold;             /* KEFU_CALLS_HOLD_ANSWER_MS while
					    hold_pending; else hold_then */
	enum kefu_sdp_dir media_dir;     /* what the stream was last set to */
	bool remote_hold;                /* as last reported */
	struct tmr tmr_free;
	char *cuser;                     /* our Contact user in this call */
	struct sipsub *xfer_sub;         /* our REFER and its NOTIFYs */
	uint16_t xfer_scode;             /* last sipfrag status, 0: none */
	uint16_t xfer_fail_scode;        /* REFER refused / target failed */
	char *xfer_fail_reason;
	struct tmr tmr_xfer;             /* acts on its end, outside libre */
	struct sipnot *refer_not;        /* the far end's REFER to us */
	char *refer_to;                  /* its Refer-To, until decided */
	char *referred_by;
	bool refer_accepted;             /* we placed the call it asked for */
	guint referred_call;             /* placed on that call's REFER: its
					    progress goes there as NOTIFY */
	/* the dialog, for a Replaces that names it (attended transfer) */
	char *callid;
	char *ltag;
	char *rtag;
	char *remote_contact;
	bool in_conference;
	guint xfer_after_hold;           /* attended transfer to this call,
					    once our hold is acknowledged */
};

struct posted_event {
	struct kefu_call_event ev;
	kefu_call_event_h *eventh;
	void *arg;
};


guint kefu_calls_next_id(void);

/* events to the UI (kefu-call-session.c) */
struct posted_event *call_event_new(const struct call *call,
				    enum kefu_call_event_type type);
void call_event_add_media(struct posted_event *pe, const struct call *call);
void call_post(struct call *call, struct posted_event *pe);
void call_post_media_event(struct call *call, enum kefu_call_event_type type);
char *call_pl_strdup(const struct pl *pl);

/* calls (kefu-call-session.c) */
struct call *call_find(const struct kefu_calls *calls, guint id);
void call_media_stop(struct call *call, struct posted_event *pe);
void call_close(struct call *call, uint16_t scode, const char *reason);
int  call_on_auth(char **username, char **password, const char *realm,
		  void *arg);

/* transfer (kefu-call-transfer.c) */
void call_post_transfer_failed(struct call *call, uint16_t scode,
			       const char *reason);
void call_on_refer(struct sip *sip, const struct sip_msg *msg, void *arg);
void call_remember_dialog(struct call *call, const struct sip_msg *msg);
void call_remember_contact(struct call *call, const struct sip_msg *msg);
struct call *call_find_replaced(const struct kefu_calls *calls,
				const struct pl *replaces);
void call_refer_progress(struct call *call, uint16_t scode,
			 const char *reason);
void call_conference_leave(struct call *call);
void call_hold_answered(struct call *call);
void call_hold_failed(struct call *call);
