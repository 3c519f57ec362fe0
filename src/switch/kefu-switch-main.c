/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * kefu-switch: the SIP switch of the Kefu contact centre.
 *
 *   kefu-switch --config FILE          runs it
 *   kefu-switch --check-config FILE    checks FILE: exit 0, or 1 with the
 *                                      config's errors (file:line: ...)
 *   kefu-switch --status [--config FILE]
 *                                      prints what the switch running with
 *                                      FILE is doing (calls, queues, agents,
 *                                      the link to kefu-server), read from
 *                                      its status socket (SPOOL/status.sock)
 *
 * Signals: SIGHUP reloads the config (calls go on; a bad file is logged
 * and the old one kept), SIGUSR1 logs the status, SIGTERM and SIGINT
 * hang every call up politely, flush events to kefu-server and exit 0.
 * Signals reach libre's loop through a pipe: nothing runs in a handler.
 */
#define G_LOG_DOMAIN "KefuSwitch"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <glib.h>
#include <glib/gi18n.h>

#include "kefu-switch-private.h"

static int signal_pipe[2] = { -1, -1 };

static void
on_signal(int sig)
{
	unsigned char c = (unsigned char)sig;
	int saved = errno;

	if (write(signal_pipe[1], &c, 1) < 0) {
		/* nothing to do: the pipe is full of signals already */
	}
	errno = saved;
}

struct app {
	struct kefu_switch *sw;
	bool stopping;
};

static void
on_stopped(void *arg)
{
	(void)arg;
	re_cancel();
}

static void
on_signal_fd(int flags, void *arg)
{
	struct app *app = arg;
	unsigned char c;

	(void)flags;
	while (read(signal_pipe[0], &c, 1) == 1) {
		switch (c) {

		case SIGHUP: {
			g_autoptr(GError) error = NULL;

			if (!kefu_switch_reload(app->sw, &error))
				g_warning(_("Configuration not reloaded, the "
					    "old one stays in use:\n%s"),
					  error->message);
			break;
		}

		case SIGUSR1: {
			g_autofree char *text =
				kefu_switch_status_text(app->sw);

			g_message("status:\n%s", text);
			break;
		}

		case SIGTERM:
		case SIGINT:
			if (app->stopping)
				break;
			app->stopping = true;
			g_message("stopping: hanging up every call");
			kefu_switch_shutdown(app->sw, on_stopped, app);
			break;

		default:
			break;
		}
	}
}

static int
check_config(const char *path)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(KefuSwitchConfig) config = NULL;

	if (!kefu_switch_config_load(path, &config, &error)) {
		g_printerr("%s\n", error->message);
		return 1;
	}
	g_print(_("%s: the configuration is valid\n"), path);

	return 0;
}

/* A bridged call holds four sockets (RTP and RTCP of both legs), and
 * libre's loop only watches descriptors below its table size (1024 by
 * default): take as many as the hard limit allows, before the first
 * descriptor is watched. */
static void
raise_fd_limit(void)
{
	struct rlimit rl;
	int err;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1 << 20)
		rl.rlim_cur = 1 << 20;
	err = fd_setsize((int)rl.rlim_cur);
	if (err)
		g_message("cannot watch %d descriptors: %s", (int)rl.rlim_cur,
			  g_strerror(err));
	else
		g_debug("up to %d descriptors", (int)rl.rlim_cur);
}

/* The status socket from the spool setting of [switch] alone (the
 * default when the file has none, relative to the file's folder). */
static char *
status_socket_of_file(const char *path)
{
	g_autofree char *text = NULL;
	g_autofree char *dir = g_path_get_dirname(path);
	g_autofree char *spool = g_strdup("/var/spool/kefu-switch");
	g_auto(GStrv) lines = NULL;
	bool in_switch = false;

	if (g_file_get_contents(path, &text, NULL, NULL))
		lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; lines && lines[i]; i++) {
		char *line = g_strstrip(lines[i]);
		char *eq, *hash;

		if (line[0] == '[') {
			in_switch = g_str_has_prefix(line, "[switch]");
			continue;
		}
		eq = strchr(line, '=');
		if (!in_switch || !eq)
			continue;
		*eq = '\0';
		if (strcmp(g_strstrip(line), "spool"))
			continue;
		hash = strstr(eq + 1, " #");
		if (hash)
			*hash = '\0';
		g_free(spool);
		spool = g_path_is_absolute(g_strstrip(eq + 1))
			? g_strdup(g_strstrip(eq + 1))
			: g_build_filename(dir, g_strstrip(eq + 1), NULL);
	}

	return g_build_filename(spool, "status.sock", NULL);
}

/* Reads the status text from the socket of the switch running with
 * @path's config. */
static int
print_status(const char *path)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(KefuSwitchConfig) config = NULL;
	g_autofree char *sock = NULL;
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	char buf[4096];
	ssize_t n;
	int fd;

	/* a config the switch would refuse now still names its spool */
	if (kefu_switch_config_load(path, &config, &error))
		sock = kefu_switch_status_socket_path(config);
	else
		sock = status_socket_of_file(path);
	g_strlcpy(un.sun_path, sock, sizeof(un.sun_path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&un, sizeof(un))) {
		g_printerr(_("kefu-switch: no switch answers on %s (%s): is it "
			     "running with %s?\n"), sock, g_strerror(errno),
			   path);
		if (fd >= 0)
			close(fd);
		return 1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	close(fd);

	return 0;
}

/* The SIP socket is read once per turn of libre's loop, however many
 * RTP sockets that turn serves: with thousands of calls relayed, a burst
 * of INVITEs and ACKs must wait in the socket's buffer, not be dropped
 * (the default 208 KB holds a few hundred messages).  libre does not show
 * the transport's socket: it is the UDP socket bound to our SIP port. */
static void
raise_sip_rcvbuf(uint16_t port)
{
	struct rlimit rl;
	int size = 4 << 20;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	for (int fd = 3; fd < 4096 && (rlim_t)fd < rl.rlim_cur; fd++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int type = 0;
		socklen_t tlen = sizeof(type);

		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) ||
		    type != SOCK_DGRAM)
			continue;
		if (getsockname(fd, (struct sockaddr *)&ss, &len))
			continue;
		if ((ss.ss_family == AF_INET &&
		     ntohs(((struct sockaddr_in *)&ss)->sin_port) == port) ||
		    (ss.ss_family == AF_INET6 &&
		     ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) == port))
			(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size,
					 sizeof(size));
	}
}

int
main(int argc, char **argv)
{
	g_autofree char *config_path = NULL;
	g_autofree char *check_path = NULL;
	gboolean status = FALSE;
	const GOptionEntry entries[] = {
		{ "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
		  N_("Run with this configuration file"), N_("FILE") },
		{ "check-config", 0, 0, G_OPTION_ARG_FILENAME, &check_path,
		  N_("Check this configuration file and exit: 0 when it is "
		     "valid, 1 with its errors"), N_("FILE") },
		{ "status", 0, 0, G_OPTION_ARG_NONE, &status,
		  N_("Print what the switch running with --config FILE (default "
		     "/etc/kefu/kefu-switch.conf) is doing: its calls, queues, "
		     "agents and link to kefu-server; SIGUSR1 logs the same"),
		  NULL },
		G_OPTION_ENTRY_NULL
	};
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(KefuSwitchConfig) config = NULL;
	struct app app = { 0 };
	struct sigaction sa;
	int err, exit_status = 0;

	setlocale(LC_ALL, "");
	bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
	bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
	textdomain(GETTEXT_PACKAGE);

	context = g_option_context_new(_("— the Kefu SIP switch"));
	g_option_context_add_main_entries(context, entries, GETTEXT_PACKAGE);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		g_printerr("kefu-switch: %s\n", error->message);
		return 2;
	}
	if (check_path)
		return check_config(check_path);
	if (status)
		return print_status(config_path ? config_path
				    : "/etc/kefu/kefu-switch.conf");
	if (!config_path) {
		g_printerr(_("kefu-switch: give --config FILE (or "
			     "--check-config FILE)\n"));
		return 2;
	}

	if (!kefu_switch_config_load(config_path, &config, &error)) {
		g_printerr("%s\n", error->message);
		return 1;
	}

	if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK)) {
		g_printerr("kefu-switch: pipe: %s\n", g_strerror(errno));
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	err = libre_init();
	if (err) {
		g_printerr("kefu-switch: libre: %s\n", g_strerror(err));
		return 1;
	}
	raise_fd_limit();

	if (!kefu_switch_new(&app.sw, config, &error)) {
		g_printerr("kefu-switch: %s\n", error->message);
		exit_status = 1;
		goto out;
	}

	err = fd_listen(signal_pipe[0], FD_READ, on_signal_fd, &app);
	if (err) {
		g_printerr("kefu-switch: %s\n", g_strerror(err));
		exit_status = 1;
		goto out;
	}

	raise_sip_rcvbuf(kefu_switch_sip_port(app.sw));

	/* the tests (and init systems) wait for this line */
	g_print("kefu-switch: ready on port %u\n", kefu_switch_sip_port(app.sw));
	fflush(stdout);

	err = re_main(NULL);
	if (err) {
		g_printerr("kefu-switch: %s\n", g_strerror(err));
		exit_status = 1;
	}

 out:
	fd_close(signal_pipe[0]);
	app.sw = mem_deref(app.sw);
	close(signal_pipe[0]);
	close(signal_pipe[1]);
	libre_close();

	return exit_status;
}
