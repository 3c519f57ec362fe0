/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The phone thread.  libre-facing, so this file keeps libre's tabs.
 * Thread rules are in the header.
 */
#define G_LOG_DOMAIN "KefuPhoneLoop"

#include "config.h"

#include "kefu-phone-loop.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

/* libre 1.1's headers take the platform from macros its own build sets;
 * these match Debian's build (struct sa, bool and the integer types). */
#define HAVE_INTTYPES_H 1
#define HAVE_STDBOOL_H 1
#define HAVE_INET6 1
#include <re.h>

enum {
	CMD_CALL = 1,
	CMD_CALL_SYNC,
	CMD_STOP,
};

enum {
	DEFAULT_STOP_TIMEOUT_MS = 3000,
};

struct kefu_phone_loop {
	/* set once by the GLib side, read-only afterwards */
	GThread *thread;              /* for joining */
	GThread *phone_thread;        /* set by the phone thread itself */
	GMainContext *ui_context;     /* owned ref */
	GMainContext *phone_context;  /* owned; thread-default on the phone
					 thread, see phone_thread() */

	/* shared, under lock */
	GMutex lock;
	GCond cond;
	bool started;
	int start_err;
	bool stopping;                /* no command is pushed after STOP */
	struct mqueue *mq;            /* allocated and freed on the phone
					 thread; only pushed to elsewhere */

	/* phone thread only */
	struct list stoppers;
	struct tmr stop_tmr;
	unsigned holds;
	bool stop_begun;
	unsigned stop_timeout_ms;
};

struct call_cmd {
	kefu_phone_loop_func *func;
	void *arg;
};

struct sync_cmd {
	kefu_phone_loop_sync_func *func;
	void *arg;
	int result;
	bool done;
};

/* An object attached to the loop: told when the loop stops, freed after
 * re_main has returned. */
struct stopper {
	struct le le;
	kefu_phone_loop_stop_h *stoph;
	void *obj;                    /* mem ref */
};

/* libre_init() is once per process; libre_close() when the last loop is
 * gone, so that tests can leak-check a clean process. */
static GMutex libre_lock;
static unsigned libre_users;

static int
libre_use(void)
{
	int err = 0;

	g_mutex_lock(&libre_lock);
	if (libre_users == 0)
		err = libre_init();
	if (!err)
		++libre_users;
	g_mutex_unlock(&libre_lock);

	return err;
}

static void
libre_unuse(void)
{
	g_mutex_lock(&libre_lock);
	if (--libre_users == 0)
		libre_close();
	g_mutex_unlock(&libre_lock);
}

static void
stopper_destructor(void *arg)
{
	struct stopper *s = arg;

	list_unlink(&s->le);
	mem_deref(s->obj);
}

static void
cancel_if_done(struct kefu_phone_loop *loop)
{
	if (loop->stop_begun && loop->holds == 0) {
		tmr_cancel(&loop->stop_tmr);
		re_cancel();
	}
}

static void
on_stop_deadline(void *arg)
{
	struct kefu_phone_loop *loop = arg;

	/* a registrar that died meanwhile: normal on a network */
	g_message("phone loop: %u shutdown task(s) still pending after %u ms; "
		  "stopping anyway", loop->holds, loop->stop_timeout_ms);
	re_cancel();
}

static void
begin_stop(struct kefu_phone_loop *loop)
{
	struct le *le;

	loop->stop_begun = true;

	/* a stop handler may hold the loop while it finishes (un-REGISTER) */
	kefu_phone_loop_hold(loop);
	for (le = loop->stoppers.head; le; le = le->next) {
		struct stopper *s = le->data;

		if (s->stoph)
			s->stoph(loop, s->obj);
	}

	tmr_start(&loop->stop_tmr, loop->stop_timeout_ms, on_stop_deadline,
		  loop);
	kefu_phone_loop_release(loop);
}

static void
on_command(int id, void *data, void *arg)
{
	struct kefu_phone_loop *loop = arg;

	switch (id) {

	case CMD_CALL: {
		struct call_cmd *cmd = data;

		cmd->func(cmd->arg);
		g_free(cmd);
		break;
	}

	case CMD_CALL_SYNC: {
		struct sync_cmd *cmd = data;
		int result = cmd->func(cmd->arg);

		g_mutex_lock(&loop->lock);
		cmd->result = result;
		cmd->done = true;
		g_cond_broadcast(&loop->cond);
		g_mutex_unlock(&loop->lock);
		break;
	}

	case CMD_STOP:
		begin_stop(loop);
		break;

	default:
		g_warning("phone loop: unknown command %d", id);
		break;
	}
}

static void
report_started(struct kefu_phone_loop *loop, int err)
{
	g_mutex_lock(&loop->lock);
	loop->started = true;
	loop->start_err = err;
	g_cond_broadcast(&loop->cond);
	g_mutex_unlock(&loop->lock);
}

static gpointer
phone_thread(gpointer data)
{
	struct kefu_phone_loop *loop = data;
	bool own_re = false;
	struct mqueue *mq = NULL;
	int err;

	loop->phone_thread = g_thread_self();

	/* g_main_context_invoke_full() runs the function in the calling
	 * thread when the target is that thread's default context and it
	 * can be acquired.  With its own thread-default context, the phone
	 * thread always queues UI work onto the UI context instead. */
	g_main_context_push_thread_default(loop->phone_context);

	err = libre_use();
	if (err) {
		report_started(loop, err);
		goto out_ctx;
	}

	/* libre keeps per-thread poll state when asked to; without pthread
	 * support it falls back to its global one (one loop at a time). */
	err = re_thread_init();
	own_re = !err;
	if (err && err != ENOSYS) {
		report_started(loop, err);
		goto out_libre;
	}

	err = mqueue_alloc(&mq, on_command, loop);
	if (err) {
		report_started(loop, err);
		goto out_re;
	}

	g_mutex_lock(&loop->lock);
	loop->mq = mq;
	g_mutex_unlock(&loop->lock);
	report_started(loop, 0);

	err = re_main(NULL);
	if (err)
		g_warning("phone loop: re_main: %s", g_strerror(err));

	tmr_cancel(&loop->stop_tmr);

	/* Attached objects go last-attached first, like a stack unwinds. */
	while (loop->stoppers.tail)
		mem_deref(loop->stoppers.tail->data);

	g_mutex_lock(&loop->lock);
	loop->mq = NULL;
	g_mutex_unlock(&loop->lock);
	mem_deref(mq);

 out_re:
	if (own_re)
		re_thread_close();
 out_libre:
	libre_unuse();
 out_ctx:
	g_main_context_pop_thread_default(loop->phone_context);

	return NULL;
}

/**
 * Start the phone thread.
 *
 * @param loopp       Where to store the new loop
 * @param ui_context  Context that receives kefu_phone_loop_post() work
 *                    (NULL: the global default context)
 *
 * @return 0 if success, otherwise errorcode
 */
int
kefu_phone_loop_start(struct kefu_phone_loop **loopp, GMainContext *ui_context)
{
	struct kefu_phone_loop *loop;
	int err;

	if (!loopp)
		return EINVAL;

	loop = g_new0(struct kefu_phone_loop, 1);
	g_mutex_init(&loop->lock);
	g_cond_init(&loop->cond);
	loop->ui_context = g_main_context_ref(ui_context ? ui_context
					      : g_main_context_default());
	loop->phone_context = g_main_context_new();
	loop->stop_timeout_ms = DEFAULT_STOP_TIMEOUT_MS;
	list_init(&loop->stoppers);
	tmr_init(&loop->stop_tmr);

	loop->thread = g_thread_new("kefu-phone", phone_thread, loop);

	g_mutex_lock(&loop->lock);
	while (!loop->started)
		g_cond_wait(&loop->cond, &loop->lock);
	err = loop->start_err;
	g_mutex_unlock(&loop->lock);

	if (err) {
		g_thread_join(loop->thread);
		loop->thread = NULL;
		loop->stopping = true;
		kefu_phone_loop_stop(loop);
		return err;
	}

	*loopp = loop;
	return 0;
}

static int
push_locked(struct kefu_phone_loop *loop, int id, void *data)
{
	int err;
	int tries = 0;

	if (!loop->mq)
		return ESHUTDOWN;

	/* The pipe only fills if the phone thread is stuck; give it a
	 * moment rather than dropping a command. */
	while ((err = mqueue_push(loop->mq, id, data)) == EAGAIN &&
	       tries++ < 1000)
		g_usleep(1000);

	return err;
}

/**
 * Run @func(@arg) on the phone thread, later.  On success the callee owns
 * @arg; on error (ESHUTDOWN once stopping) the caller still does.
 */
int
kefu_phone_loop_call(struct kefu_phone_loop *loop, kefu_phone_loop_func *func,
		     void *arg)
{
	struct call_cmd *cmd;
	int err;

	if (!loop || !func)
		return EINVAL;

	cmd = g_new0(struct call_cmd, 1);
	cmd->func = func;
	cmd->arg = arg;

	g_mutex_lock(&loop->lock);
	err = loop->stopping ? ESHUTDOWN : push_locked(loop, CMD_CALL, cmd);
	g_mutex_unlock(&loop->lock);

	if (err)
		g_free(cmd);

	return err;
}

/**
 * Run @func(@arg) on the phone thread and wait for its result.  Meant for
 * setup and tests: the GLib side blocks meanwhile.  @arg stays the
 * caller's.  Called on the phone thread itself, it just calls @func.
 *
 * @return what @func returned, or an errorcode if it could not run
 */
int
kefu_phone_loop_call_sync(struct kefu_phone_loop *loop,
			  kefu_phone_loop_sync_func *func, void *arg)
{
	struct sync_cmd cmd = { .func = func, .arg = arg };
	int err;

	if (!loop || !func)
		return EINVAL;

	if (kefu_phone_loop_is_phone_thread(loop))
		return func(arg);

	g_mutex_lock(&loop->lock);
	err = loop->stopping ? ESHUTDOWN
		: push_locked(loop, CMD_CALL_SYNC, &cmd);
	while (!err && !cmd.done)
		g_cond_wait(&loop->cond, &loop->lock);
	g_mutex_unlock(&loop->lock);

	return err ? err : cmd.result;
}

/**
 * Stop the phone thread and free @loop (GLib side).  Blocks until the stop
 * handlers have finished or the stop timeout has passed.
 */
void
kefu_phone_loop_stop(struct kefu_phone_loop *loop)
{
	if (!loop)
		return;

	if (loop->thread) {
		int err;

		g_mutex_lock(&loop->lock);
		if (loop->stopping) {
			g_mutex_unlock(&loop->lock);
			g_critical("kefu_phone_loop_stop called twice");
			return;
		}
		loop->stopping = true;
		err = push_locked(loop, CMD_STOP, NULL);
		g_mutex_unlock(&loop->lock);

		if (err)
			g_error("phone loop: cannot stop: %s", g_strerror(err));

		g_thread_join(loop->thread);
	}

	g_main_context_unref(loop->phone_context);
	g_main_context_unref(loop->ui_context);
	g_cond_clear(&loop->cond);
	g_mutex_clear(&loop->lock);
	g_free(loop);
}

/**
 * Deliver @func(@data) to the UI context (phone thread).  @data must be
 * plain data: the UI never sees libre objects.
 */
void
kefu_phone_loop_post(struct kefu_phone_loop *loop, GSourceFunc func,
		     gpointer data, GDestroyNotify destroy)
{
	g_return_if_fail(loop && func);

	g_main_context_invoke_full(loop->ui_context, G_PRIORITY_DEFAULT,
				   func, data, destroy);
}

/**
 * Attach a libre object to the loop (phone thread).  The loop takes a
 * reference: when the loop stops it calls @stoph (may be NULL), and after
 * re_main has returned it drops the reference, still on the phone thread.
 */
int
kefu_phone_loop_add_stop_handler(struct kefu_phone_loop *loop,
				 kefu_phone_loop_stop_h *stoph, void *obj)
{
	struct stopper *s;

	if (!loop || !obj)
		return EINVAL;

	s = mem_zalloc(sizeof(*s), stopper_destructor);
	if (!s)
		return ENOMEM;

	s->stoph = stoph;
	s->obj = mem_ref(obj);
	list_append(&loop->stoppers, &s->le, s);

	return 0;
}

/** Keep re_main running during shutdown until kefu_phone_loop_release. */
void
kefu_phone_loop_hold(struct kefu_phone_loop *loop)
{
	if (loop)
		++loop->holds;
}

void
kefu_phone_loop_release(struct kefu_phone_loop *loop)
{
	if (!loop || loop->holds == 0)
		return;

	--loop->holds;
	cancel_if_done(loop);
}

/** How long a stop waits for held shutdown work (phone thread). */
void
kefu_phone_loop_set_stop_timeout(struct kefu_phone_loop *loop, guint msec)
{
	if (loop)
		loop->stop_timeout_ms = msec;
}

gboolean
kefu_phone_loop_is_phone_thread(const struct kefu_phone_loop *loop)
{
	return loop && loop->phone_thread == g_thread_self();
}
