/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The GLib side of the call engine: each kefu_call_* command is queued on
 * the phone thread, names its call by id, and runs there as kefu_calls_*.
 * libre-facing, so this file keeps libre's tabs.
 */
#define G_LOG_DOMAIN "KefuCallSession"

#include "config.h"

#include <errno.h>
#include <string.h>

#include "kefu-call-session-private.h"

/* --- GLib side commands -------------------------------------------------- */

enum cmd_op {
	OP_DIAL,
	OP_ANSWER,
	OP_REJECT,
	OP_HANGUP,
	OP_HOLD,
	OP_DTMF,
	OP_AUDIO,
	OP_TRANSFER,
	OP_ATTENDED,
	OP_REFER_ACCEPT,
	OP_REFER_DECLINE,
	OP_CONFERENCE,
	OP_MUTE,
};

struct cmd {
	enum cmd_op op;
	struct kefu_calls *calls;
	guint call_id;
	guint other_id;                  /* the second call, or the new one */
	uint16_t scode;
	bool hold;
	char *account_id;
	char *to_uri;
	char **headers;
};

static void
cmd_free(struct cmd *cmd)
{
	g_free(cmd->account_id);
	g_free(cmd->to_uri);
	g_strfreev(cmd->headers);
	g_free(cmd);
}

static void
run_cmd(void *arg)
{
	struct cmd *cmd = arg;
	int err = EINVAL;

	switch (cmd->op) {

	case OP_DIAL:
		err = kefu_calls_dial(cmd->calls, cmd->call_id,
				      cmd->account_id, cmd->to_uri,
				      (const char *const *)cmd->headers);
		if (err) {
			/* the UI has the id already: it learns the end */
			struct call tmp = {
				.calls = cmd->calls,
				.id = cmd->call_id,
				.dir = KEFU_CALL_OUTGOING,
				.account_id = cmd->account_id,
			};
			struct posted_event *pe;

			pe = call_event_new(&tmp, KEFU_CALL_EVENT_CLOSED);
			pe->ev.reason = g_strdup(g_strerror(err));
			call_post(&tmp, pe);
		}
		break;
	case OP_ANSWER:
		err = kefu_calls_answer(cmd->calls, cmd->call_id);
		break;
	case OP_REJECT:
		err = kefu_calls_reject(cmd->calls, cmd->call_id,
					cmd->scode);
		break;
	case OP_HANGUP:
		err = kefu_calls_hangup(cmd->calls, cmd->call_id);
		break;
	case OP_HOLD:
		err = kefu_calls_hold(cmd->calls, cmd->call_id, cmd->hold);
		break;
	case OP_DTMF:
		err = kefu_calls_send_dtmf(cmd->calls, cmd->call_id,
					   cmd->to_uri);
		break;
	case OP_AUDIO:
		err = kefu_calls_set_audio(cmd->calls, cmd->call_id,
					   cmd->to_uri);
		break;
	case OP_TRANSFER:
		err = kefu_calls_transfer(cmd->calls, cmd->call_id,
					  cmd->to_uri);
		if (err && err != ENOENT) {
			struct call *call = call_find(cmd->calls,
						      cmd->call_id);

			if (call)
				call_post_transfer_failed(call, 0,
						     g_strerror(err));
		}
		break;
	case OP_ATTENDED:
		err = kefu_calls_transfer_attended(cmd->calls, cmd->call_id,
						   cmd->other_id);
		if (err && err != ENOENT) {
			struct call *call = call_find(cmd->calls,
						      cmd->call_id);

			if (call)
				call_post_transfer_failed(call, 0,
							  g_strerror(err));
		}
		break;
	case OP_REFER_ACCEPT:
		err = kefu_calls_refer_accept(cmd->calls, cmd->call_id,
					      cmd->other_id);
		if (err) {
			/* the UI has the new id already: it learns the end */
			struct call tmp = {
				.calls = cmd->calls,
				.id = cmd->other_id,
				.dir = KEFU_CALL_OUTGOING,
			};
			struct posted_event *pe;

			pe = call_event_new(&tmp, KEFU_CALL_EVENT_CLOSED);
			pe->ev.reason = g_strdup(err == EPROTO
				? "no transfer request to accept"
				: g_strerror(err));
			call_post(&tmp, pe);
		}
		break;
	case OP_REFER_DECLINE:
		err = kefu_calls_refer_decline(cmd->calls, cmd->call_id);
		break;
	case OP_MUTE:
		err = kefu_calls_mute(cmd->calls, cmd->call_id, cmd->hold);
		break;
	case OP_CONFERENCE:
		err = kefu_calls_conference(cmd->calls, cmd->call_id,
					    cmd->other_id);
		break;
	}

	if (err)
		g_debug("call %u: command %d: %s", cmd->call_id, cmd->op,
			g_strerror(err));

	cmd_free(cmd);
}

static int
queue_cmd(struct kefu_phone_loop *loop, struct cmd *cmd)
{
	int err = kefu_phone_loop_call(loop, run_cmd, cmd);

	if (err)
		cmd_free(cmd);

	return err;
}

static struct cmd *
cmd_new(enum cmd_op op, struct kefu_calls *calls, guint call_id)
{
	struct cmd *cmd = g_new0(struct cmd, 1);

	cmd->op = op;
	cmd->calls = calls;
	cmd->call_id = call_id;

	return cmd;
}

/**
 * Place a call (GLib side).  @headers: NULL or name, value, ..., NULL.
 *
 * @return the new call's id, 0 if the command could not be queued
 */
guint
kefu_call_dial(struct kefu_phone_loop *loop, struct kefu_calls *calls,
	       const char *account_id, const char *to_uri,
	       const char *const *headers)
{
	guint id = kefu_calls_next_id();
	struct cmd *cmd;

	if (!loop || !calls || !to_uri)
		return 0;

	cmd = cmd_new(OP_DIAL, calls, id);
	cmd->account_id = g_strdup(account_id);
	cmd->to_uri = g_strdup(to_uri);
	cmd->headers = g_strdupv((char **)headers);

	return queue_cmd(loop, cmd) ? 0 : id;
}

int
kefu_call_answer(struct kefu_phone_loop *loop, struct kefu_calls *calls,
		 guint call_id)
{
	return queue_cmd(loop, cmd_new(OP_ANSWER, calls, call_id));
}

int
kefu_call_reject(struct kefu_phone_loop *loop, struct kefu_calls *calls,
		 guint call_id, uint16_t scode)
{
	struct cmd *cmd = cmd_new(OP_REJECT, calls, call_id);

	cmd->scode = scode;
	return queue_cmd(loop, cmd);
}

int
kefu_call_hangup(struct kefu_phone_loop *loop, struct kefu_calls *calls,
		 guint call_id)
{
	return queue_cmd(loop, cmd_new(OP_HANGUP, calls, call_id));
}

int
kefu_call_hold(struct kefu_phone_loop *loop, struct kefu_calls *calls,
	       guint call_id, gboolean hold)
{
	struct cmd *cmd = cmd_new(OP_HOLD, calls, call_id);

	cmd->hold = hold;
	return queue_cmd(loop, cmd);
}

/** Send DTMF digits on a call (GLib side); @digits: "0-9*#A-D". */
int
kefu_call_send_dtmf(struct kefu_phone_loop *loop, struct kefu_calls *calls,
		    guint call_id, const char *digits)
{
	struct cmd *cmd;

	if (!digits)
		return EINVAL;

	cmd = cmd_new(OP_DTMF, calls, call_id);
	cmd->to_uri = g_strdup(digits);  /* the command's one string */
	return queue_cmd(loop, cmd);
}

/** Set one call's audio back-end (GLib side). */
int
kefu_call_set_audio(struct kefu_phone_loop *loop, struct kefu_calls *calls,
		    guint call_id, const char *audio)
{
	struct cmd *cmd = cmd_new(OP_AUDIO, calls, call_id);

	cmd->to_uri = g_strdup(audio);
	return queue_cmd(loop, cmd);
}

/** Blind transfer of a call to @target_uri (GLib side). */
int
kefu_call_transfer(struct kefu_phone_loop *loop, struct kefu_calls *calls,
		   guint call_id, const char *target_uri)
{
	struct cmd *cmd;

	if (!loop || !calls || !kefu_call_transfer_target_valid(target_uri))
		return EINVAL;

	cmd = cmd_new(OP_TRANSFER, calls, call_id);
	cmd->to_uri = g_strdup(target_uri);
	return queue_cmd(loop, cmd);
}

/** Attended transfer of @call_id to the far end of @target_id (GLib side). */
int
kefu_call_transfer_attended(struct kefu_phone_loop *loop,
			    struct kefu_calls *calls, guint call_id,
			    guint target_id)
{
	struct cmd *cmd = cmd_new(OP_ATTENDED, calls, call_id);

	cmd->other_id = target_id;
	return queue_cmd(loop, cmd);
}

/** Accept the far end's REFER on @call_id (GLib side).
 *
 * @return the id of the call placed for it, 0 if not queued */
guint
kefu_call_refer_accept(struct kefu_phone_loop *loop, struct kefu_calls *calls,
		       guint call_id)
{
	struct cmd *cmd = cmd_new(OP_REFER_ACCEPT, calls, call_id);
	guint id = kefu_calls_next_id();

	cmd->other_id = id;
	return queue_cmd(loop, cmd) ? 0 : id;
}

int
kefu_call_refer_decline(struct kefu_phone_loop *loop,
			struct kefu_calls *calls, guint call_id)
{
	return queue_cmd(loop, cmd_new(OP_REFER_DECLINE, calls, call_id));
}

/** Put @call_id and @other_id in the local conference (GLib side). */
int
kefu_call_conference(struct kefu_phone_loop *loop, struct kefu_calls *calls,
		     guint call_id, guint other_id)
{
	struct cmd *cmd = cmd_new(OP_CONFERENCE, calls, call_id);

	cmd->other_id = other_id;
	return queue_cmd(loop, cmd);
}

/** Mute or unmute a call (GLib side). */
int
kefu_call_mute(struct kefu_phone_loop *loop, struct kefu_calls *calls,
	       guint call_id, gboolean muted)
{
	struct cmd *cmd = cmd_new(OP_MUTE, calls, call_id);

	cmd->hold = muted;  /* the command's one flag */
	return queue_cmd(loop, cmd);
}

struct record_query {
	struct kefu_calls *calls;
	guint call_id;
	const char *path;
	GError **error;
};

static int
run_record_query(void *arg)
{
	struct record_query *q = arg;

	return kefu_calls_record(q->calls, q->call_id, q->path, q->error);
}

/** Start or stop recording a call, waiting for the phone thread so that
 * a bad path is reported at once (GLib side). */
int
kefu_call_record(struct kefu_phone_loop *loop, struct kefu_calls *calls,
		 guint call_id, const char *path, GError **error)
{
	struct record_query q = {
		.calls = calls,
		.call_id = call_id,
		.path = path,
		.error = error,
	};

	if (!loop || !calls)
		return EINVAL;

	return kefu_phone_loop_call_sync(loop, run_record_query, &q);
}

struct stats_query {
	struct kefu_calls *calls;
	guint call_id;
	struct kefu_rtp_stream_stats *stats;
};

static int
run_stats_query(void *arg)
{
	struct stats_query *q = arg;

	return kefu_calls_stats(q->calls, q->call_id, q->stats);
}

/** A call's media statistics, waiting for the phone thread (GLib side). */
int
kefu_call_stats(struct kefu_phone_loop *loop, struct kefu_calls *calls,
		guint call_id, struct kefu_rtp_stream_stats *stats)
{
	struct stats_query q = {
		.calls = calls,
		.call_id = call_id,
		.stats = stats,
	};

	if (!loop || !calls || !stats)
		return EINVAL;

	return kefu_phone_loop_call_sync(loop, run_stats_query, &q);
}

