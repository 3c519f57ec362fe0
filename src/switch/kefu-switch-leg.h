/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * One SIP dialog of the switch with its media: a caller's INVITE the
 * switch answers, or the switch's own INVITE to an agent's phone.  Each
 * leg has its own SDP offer/answer (kefu-sdp.h) and its own RTP stream
 * (kefu-rtp-stream.h): the switch is a B2BUA and no peer ever sees
 * another's dialog or media addresses.  What a leg plays when it is not
 * bridged (prompts, music) comes from its player; bridging is
 * kefu-rtp-relay.h on two legs' streams.
 *
 * DTMF both ways in the leg's mode: RFC 4733 (at the peer's payload
 * type), SIP INFO, or inband (tones detected with the Q.24 detector, and
 * sent as tones).  Digits received reach the digit handler once each.
 *
 * Hold: a re-INVITE from the peer is answered here (its sendonly gets
 * our recvonly) and reported to the hold handler.
 *
 * libre thread only.  A leg is freed with mem_deref(), which sends what
 * the dialog still needs (CANCEL, BYE, a final response); its handlers
 * are not called after that.  After the closed handler, the owner must
 * mem_deref() it (not from inside the handler is fine too: it is dead).
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "kefu-switch-registrar.h"
#include "kefu-switch-config.h"
#include "kefu-rtp-stream.h"

/* What the legs of one switch share. */
struct kefu_switch_sip {
	struct sip *sip;
	struct sipsess_sock *sock;
	struct sipevent_sock *evsock;
	struct sa laddr;            /* our SIP (and RTP) address */
	char codecs[64];            /* what we offer and accept */
	uint16_t rtp_min;           /* RTP ports (even) and RTCP (+1) */
	uint16_t rtp_max;
};

struct kefu_switch_leg;

struct kefu_switch_leg_handlers {
	/* outgoing: 18x */
	void (*progress)(struct kefu_switch_leg *leg, uint16_t scode, void *arg);
	/* the call is up (ACK seen / 200 received) */
	void (*established)(struct kefu_switch_leg *leg, void *arg);
	/* the dialog ended: scode of a failure response (0 if none), reason
	 * in words ("remote hangup", "timeout", a SIP reason phrase) */
	void (*closed)(struct kefu_switch_leg *leg, uint16_t scode, const char *reason,
		       void *arg);
	/* a digit from the peer; mode "rfc4733", "info" or "inband" */
	void (*digit)(struct kefu_switch_leg *leg, char digit, const char *mode, void *arg);
	/* the peer put us on hold (true) or resumed */
	void (*hold)(struct kefu_switch_leg *leg, bool held, void *arg);
	/* a REFER in the dialog: the handler must answer it (sip_treply...) */
	void (*refer)(struct kefu_switch_leg *leg, struct sip *sip, const struct sip_msg *msg,
		      void *arg);
	/* the player reached the end of a prompt that does not loop (not
	 * called from inside the media tick: a zero timer) */
	void (*play_done)(struct kefu_switch_leg *leg, void *arg);
};

/* An incoming INVITE: a leg that answers 180 now (with no SDP), or 200
 * with our answer when @answer.  488 and the like are sent here on error
 * (the returned errno says so; nothing to free then). */
int  kefu_switch_leg_accept(struct kefu_switch_leg **legp, struct kefu_switch_sip *ss,
			    const struct sip_msg *msg, KefuSwitchDtmfMode dtmf,
			    bool answer, const struct kefu_switch_leg_handlers *h,
			    void *arg);
int  kefu_switch_leg_answer(struct kefu_switch_leg *leg);
/* An outgoing INVITE to @uri.  @codec_first: the codec to offer first
 * (the other leg's, so the relay needs no transcoding), or NULL.
 * @headers: extra header lines, each ending in \r\n, or NULL.
 * @auth_user, @auth_password: answer a 401/407 with them (a trunk's
 * gateway), or NULL: a challenge ends the leg. */
int  kefu_switch_leg_connect(struct kefu_switch_leg **legp, struct kefu_switch_sip *ss,
			     const char *uri, const char *from_uri, const char *from_name,
			     const char *codec_first, const char *headers,
			     KefuSwitchDtmfMode dtmf, const char *auth_user,
			     const char *auth_password,
			     const struct kefu_switch_leg_handlers *h, void *arg);

/* Ends the dialog with a reason for the BYE (a Reason header), then frees
 * the leg: the same as mem_deref() but with 486/480 to an unanswered
 * INVITE of ours (@scode 0: 480). */
void kefu_switch_leg_hangup(struct kefu_switch_leg *leg, uint16_t scode);

/* Who hears of the leg from now on (an offer's leg becomes a call's). */
void kefu_switch_leg_set_handlers(struct kefu_switch_leg *leg,
				  const struct kefu_switch_leg_handlers *h, void *arg);
bool kefu_switch_leg_established(const struct kefu_switch_leg *leg);
struct kefu_rtp_stream *kefu_switch_leg_stream(struct kefu_switch_leg *leg);
/* The negotiated codec name ("PCMU", ...), or NULL before. */
const char *kefu_switch_leg_codec(const struct kefu_switch_leg *leg);
/* The effective DTMF mode once media is negotiated (auto resolved). */
KefuSwitchDtmfMode kefu_switch_leg_dtmf(const struct kefu_switch_leg *leg);
/* Hold by the peer. */
bool kefu_switch_leg_held(const struct kefu_switch_leg *leg);
/* The dialog: Call-ID, our tag and the peer's (for Replaces). */
const char *kefu_switch_leg_callid(const struct kefu_switch_leg *leg);
const char *kefu_switch_leg_ltag(const struct kefu_switch_leg *leg);
const char *kefu_switch_leg_rtag(const struct kefu_switch_leg *leg);
struct sip_dialog *kefu_switch_leg_dialog(const struct kefu_switch_leg *leg);
/* From user / URI of the peer as its INVITE had it (incoming legs). */
const char *kefu_switch_leg_peer_user(const struct kefu_switch_leg *leg);

/* Plays @pcm (8 kHz mono 16-bit host order), in place of what played;
 * @loop repeats it.  NULL: silence.  Not while bridged. */
void kefu_switch_leg_play(struct kefu_switch_leg *leg, GBytes *pcm, bool loop);
bool kefu_switch_leg_playing(const struct kefu_switch_leg *leg);
/* Listen for inband digits (the leg's mode says whether; this turns it
 * off while a relay passes tones through, or on). */
void kefu_switch_leg_inband_detect(struct kefu_switch_leg *leg, bool on);

/* One digit to the peer in the leg's mode.  ENOTSUP: cannot be sent. */
int  kefu_switch_leg_send_digit(struct kefu_switch_leg *leg, char digit);
