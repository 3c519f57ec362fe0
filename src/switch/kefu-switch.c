/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * kefu-switch's core object: SIP transports, registrar, link, ACD, reload
 * and shutdown (see kefu-switch.h).  libre-facing: libre's tabs.
 */
#define G_LOG_DOMAIN "KefuSwitch"

#include "config.h"

#include "kefu-switch-private.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <linux/sock_diag.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

enum {
	/* kefu-server's agent.updated notice makes a new phone or password
	 * work at once; this read is the safety net for one it missed */
	CREDS_REFRESH_MS = 300000,
	/* after a notice: a burst of them (an import) makes one read */
	CREDS_CHANGED_MS = 50,
	CREDS_RETRY_MS = 2000,
	STOP_FLUSH_MS = 3000,
	/* below this many bridged calls, a start says the range is small */
	RTP_CALLS_WARN = 10,
};

/* --- small shared helpers ------------------------------------------------ */

static void
on_graveyard(void *arg)
{
	struct kefu_switch *sw = arg;

	while (sw->graveyard->len) {
		g_autoptr(GPtrArray) dead = sw->graveyard;

		sw->graveyard = g_ptr_array_new();
		for (guint i = 0; i < dead->len; i++)
			mem_deref(dead->pdata[i]);
	}
}

void
kefu_switch_defer_free(struct kefu_switch *sw, void *obj)
{
	if (!obj)
		return;
	g_ptr_array_add(sw->graveyard, obj);
	if (!tmr_isrunning(&sw->tmr_graveyard))
		tmr_start(&sw->tmr_graveyard, 0, on_graveyard, sw);
}

void
kefu_switch_post_event(struct kefu_switch *sw, const char *type,
		       const char *call_id, const char *queue,
		       const char *agent, JsonObject *data)
{
	struct kefu_acd_event ev = {
		.type = type,
		.ts_ms = g_get_real_time() / 1000,
		.call_id = call_id,
		.queue = queue,
		.agent = agent,
		.data = data,
	};
	g_autoptr(JsonObject) obj = kefu_acd_event_to_json(&ev);

	if (sw->link)
		(void)kefu_server_link_event(sw->link, obj);
}

const char *
kefu_switch_agent_of(const struct kefu_switch *sw, const char *extension)
{
	return extension ? g_hash_table_lookup(sw->ext_agent, extension)
		: NULL;
}

/* --- SIP credentials from kefu-server ----------------------------------- */

static void request_credentials(struct kefu_switch *sw);

static void
on_creds_timer(void *arg)
{
	request_credentials(arg);
}

static const char *
obj_str(JsonObject *o, const char *a, const char *b, const char *c)
{
	const char *names[] = { a, b, c };

	for (unsigned i = 0; i < G_N_ELEMENTS(names); i++) {
		JsonNode *n;

		if (!names[i] || !json_object_has_member(o, names[i]))
			continue;
		n = json_object_get_member(o, names[i]);
		if (JSON_NODE_HOLDS_VALUE(n) &&
		    json_node_get_value_type(n) == G_TYPE_STRING)
			return json_node_get_string(n);
	}

	return NULL;
}

/* Takes [{extension|user|username, ha1, realm}] at the top, or under
 * "credentials" / "items" / "users". */
static void
on_credentials(const struct kefu_server_link_reply *reply, void *arg)
{
	struct kefu_switch *sw = arg;
	JsonArray *items = NULL;
	unsigned n = 0;

	sw->creds_req = mem_deref(sw->creds_req);

	if (reply->err || !reply->json) {
		g_message("SIP credentials from kefu-server: %s",
			  reply->message && *reply->message ? reply->message
			  : g_strerror(reply->err ? reply->err : EPROTO));
		tmr_start(&sw->tmr_creds, CREDS_RETRY_MS, on_creds_timer, sw);
		return;
	}

	if (JSON_NODE_HOLDS_ARRAY(reply->json)) {
		items = json_node_get_array(reply->json);
	}
	else if (JSON_NODE_HOLDS_OBJECT(reply->json)) {
		JsonObject *o = json_node_get_object(reply->json);
		const char *keys[] = { "credentials", "items", "users" };

		for (unsigned i = 0; i < G_N_ELEMENTS(keys) && !items; i++)
			if (json_object_has_member(o, keys[i]) &&
			    JSON_NODE_HOLDS_ARRAY(json_object_get_member(o,
								keys[i])))
				items = json_object_get_array_member(o,
								     keys[i]);
	}

	if (items) {
		kefu_switch_registrar_clear_credentials(sw->registrar);
		for (guint i = 0; i < json_array_get_length(items); i++) {
			JsonNode *node = json_array_get_element(items, i);
			JsonObject *o;
			const char *user, *ha1, *realm;

			if (!JSON_NODE_HOLDS_OBJECT(node))
				continue;
			o = json_node_get_object(node);
			user = obj_str(o, "extension", "user", "username");
			ha1 = obj_str(o, "ha1", NULL, NULL);
			realm = obj_str(o, "realm", NULL, NULL);
			if (!user || !ha1)
				continue;
			if (realm && strcmp(realm, kefu_switch_registrar_realm(
						    sw->registrar))) {
				g_message("SIP credentials of %s are for realm "
					  "'%s', not ours ('%s'): skipped",
					  user, realm,
					  kefu_switch_registrar_realm(
						  sw->registrar));
				continue;
			}
			if (0 == kefu_switch_registrar_set_credential(
				    sw->registrar, user, ha1))
				n++;
		}
		g_debug("SIP credentials: %u users", n);
	}
	else {
		g_message("SIP credentials from kefu-server: unexpected reply");
	}

	tmr_start(&sw->tmr_creds, CREDS_REFRESH_MS, on_creds_timer, sw);
}

static void
request_credentials(struct kefu_switch *sw)
{
	int err;

	if (sw->stopping || sw->creds_req)
		return;
	err = kefu_server_link_sip_credentials(sw->link, 0, on_credentials,
					       sw, &sw->creds_req);
	if (err)
		tmr_start(&sw->tmr_creds, CREDS_RETRY_MS, on_creds_timer, sw);
}

/* An answer under way may be older than the change: read afresh. */
static void
on_creds_changed(void *arg)
{
	struct kefu_switch *sw = arg;

	sw->creds_req = mem_deref(sw->creds_req);
	request_credentials(sw);
}

/* --- the link's handlers ------------------------------------------------- */

static void
on_link_agent(const struct kefu_server_link_agent *agent, void *arg)
{
	struct kefu_switch *sw = arg;
	g_autofree struct kefu_acd_skill *skills = NULL;
	const char *old_ext;
	int err;

	if (!g_strcmp0(agent->why, "removed")) {
		old_ext = g_hash_table_lookup(sw->agent_ext, agent->username);
		if (old_ext)
			g_hash_table_remove(sw->ext_agent, old_ext);
		g_hash_table_remove(sw->agent_ext, agent->username);
		(void)kefu_acd_agent_remove(sw->acd, agent->username);
		return;
	}

	if (!g_strcmp0(agent->why, "sync")) {
		skills = g_new0(struct kefu_acd_skill, agent->n_skills + 1);
		for (size_t i = 0; i < agent->n_skills; i++) {
			skills[i].queue = agent->skills[i].name;
			skills[i].proficiency = agent->skills[i].proficiency;
		}
		err = kefu_acd_agent_set(sw->acd, agent->username,
					 agent->extension, skills,
					 agent->n_skills);
		if (err)
			g_message("agent %s: %s", agent->username,
				  g_strerror(err));

		old_ext = g_hash_table_lookup(sw->agent_ext, agent->username);
		if (old_ext)
			g_hash_table_remove(sw->ext_agent, old_ext);
		if (agent->extension && *agent->extension) {
			g_hash_table_replace(sw->agent_ext,
					     g_strdup(agent->username),
					     g_strdup(agent->extension));
			g_hash_table_replace(sw->ext_agent,
					     g_strdup(agent->extension),
					     g_strdup(agent->username));
		}
	}

	if (agent->state) {
		err = kefu_acd_agent_state_text(sw->acd, agent->username,
						agent->state, agent->reason);
		if (err && err != ENOENT)
			g_message("agent %s: state %s: %s", agent->username,
				  agent->state, g_strerror(err));
	}
}

/* An administrator changed an agent: a new agent's phone, a new SIP
 * password or extension registers now, not at the next periodic read. */
static void
on_link_agents_changed(const char *username, void *arg)
{
	struct kefu_switch *sw = arg;

	(void)username;
	tmr_start(&sw->tmr_creds, CREDS_CHANGED_MS, on_creds_changed, sw);
}

static void
on_link_health(const struct kefu_server_link_health *health, void *arg)
{
	struct kefu_switch *sw = arg;

	/* connected, or again after a loss: no notice told of what changed
	 * while the link was down */
	if (health->state == KEFU_SERVER_LINK_CONNECTED)
		tmr_start(&sw->tmr_creds, 0, on_creds_changed, sw);
}

/* --- SIP ----------------------------------------------------------------- */

/* What waits in our UDP SIP socket, and the size of its buffer (bytes as
 * the kernel counts them); false when there is no telling. */
static bool
sip_backlog(const struct kefu_switch *sw, uint32_t *queued, uint32_t *size,
	    uint32_t *drops)
{
	uint32_t mem[SK_MEMINFO_VARS] = { 0 };
	socklen_t len = sizeof(mem);

	if (sw->sip_fd < 0 ||
	    getsockopt(sw->sip_fd, SOL_SOCKET, SO_MEMINFO, mem, &len) ||
	    len <= SK_MEMINFO_RCVBUF * sizeof(*mem))
		return false;
	*queued = mem[SK_MEMINFO_RMEM_ALLOC];
	*size = mem[SK_MEMINFO_RCVBUF];
	*drops = mem[SK_MEMINFO_DROPS];   /* 0 from kernels that do not say */

	return true;
}

/* libre reads the SIP socket once a turn of its loop.  Past the calls a
 * second the switch can take, what waits in the socket's buffer grows
 * until the kernel drops whatever comes next: BYEs and ACKs of calls
 * that are up among it.  A call whose BYEs are all lost stays up, its
 * agent held, and the delay makes every peer retransmit, which adds to
 * the backlog.  So new calls are refused with a 503 (stateless: it keeps
 * no transaction, no timer) while we are behind; the calls that are up
 * go on being served.  The kernel gives back what was read in steps of a
 * quarter of the buffer, so what it counts as waiting runs up to that
 * much ahead of what does: behind means over half the buffer counted,
 * and caught up, under an eighth (in practice, all read). */
static bool
sip_overloaded(struct kefu_switch *sw, const struct sip_msg *msg)
{
	uint32_t queued, size, drops;

	if (msg->tp != SIP_TRANSP_UDP || !msg->sock)
		return false;
	if (sw->sip_fd < 0)
		sw->sip_fd = udp_sock_fd(msg->sock, sa_af(&msg->dst));
	if (!sip_backlog(sw, &queued, &size, &drops))
		return false;

	if (!sw->overloaded && queued > size / 2) {
		sw->overloaded = true;
		g_message("SIP: %u KB waiting to be read (of %u KB): new calls "
			  "are refused (503) until it is read", queued / 1024,
			  size / 1024);
	}
	else if (sw->overloaded && queued < size / 8) {
		sw->overloaded = false;
		g_message("SIP: caught up; %" G_GUINT64_FORMAT " new calls "
			  "refused since start", sw->calls_refused);
	}

	return sw->overloaded;
}

static void
on_incoming(const struct sip_msg *msg, void *arg)
{
	struct kefu_switch *sw = arg;

	if (sw->stopping) {
		(void)sip_treply(NULL, sw->ss.sip, msg, 503,
				 "Service Unavailable");
		return;
	}
	if (sip_overloaded(sw, msg)) {
		sw->calls_refused++;
		(void)sip_reply(sw->ss.sip, msg, 503, "Service Unavailable");
		return;
	}
	kefu_switch_on_invite(sw, msg);
}

static int
sip_setup(struct kefu_switch *sw, const char *listen, GError **error)
{
	struct sa sa;
	int err;

	err = sa_decode(&sa, listen, strlen(listen));
	if (err) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			    _("SIP: “%s” is not an address and port"), listen);
		return err;
	}

	err = sip_alloc(&sw->ss.sip, NULL, 256, 256, 256,
			"Kefu-Switch/" PACKAGE_VERSION, NULL, NULL);
	if (!err)
		err = sip_transp_add(sw->ss.sip, SIP_TRANSP_UDP, &sa);
	if (!err) {
		/* TCP on the same port as UDP */
		struct sa udp;

		err = sip_transp_laddr(sw->ss.sip, &udp, SIP_TRANSP_UDP,
				       NULL);
		if (!err) {
			sa_set_port(&sa, sa_port(&udp));
			err = sip_transp_add(sw->ss.sip, SIP_TRANSP_TCP, &sa);
		}
	}
	if (err) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err),
			    _("SIP: cannot listen on %s: %s"), listen,
			    g_strerror(err));
		return err;
	}

	err = sip_transp_laddr(sw->ss.sip, &sw->ss.laddr, SIP_TRANSP_UDP,
			       NULL);
	if (!err && !sa_isset(&sw->ss.laddr, SA_ADDR)) {
		/* listening on every address: SDP names the default one */
		struct sa ip;

		if (0 == net_default_source_addr_get(AF_INET, &ip)) {
			sa_set_port(&ip, sa_port(&sw->ss.laddr));
			sw->ss.laddr = ip;
		}
	}
	g_strlcpy(sw->ss.codecs, "pcmu,pcma,opus", sizeof(sw->ss.codecs));
	sw->ss.rtp_min = sw->config->settings.rtp_port_min;
	sw->ss.rtp_max = sw->config->settings.rtp_port_max;

	err = sipsess_listen(&sw->ss.sock, sw->ss.sip, 256, on_incoming, sw);
	if (!err)
		err = sipevent_listen(&sw->ss.evsock, sw->ss.sip, 64, 64, NULL,
				      NULL);
	if (!err)
		err = kefu_switch_registrar_alloc(&sw->registrar, sw->ss.sip,
						  sw->config->settings.realm);
	if (err)
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err),
			    _("SIP: %s"), g_strerror(err));

	return err;
}

uint16_t
kefu_switch_sip_port(const struct kefu_switch *sw)
{
	return sw ? sa_port(&sw->ss.laddr) : 0;
}

/* --- RTP ports ---------------------------------------------------------- */

static bool
port_free(const struct sa *ip, uint16_t port)
{
	struct sa a = *ip;
	int fd = socket(sa_af(ip), SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool ok;

	if (fd < 0)
		return true;   /* cannot tell: let the streams find out */
	sa_set_port(&a, port);
	ok = 0 == bind(fd, &a.u.sa, a.len);
	close(fd);

	return ok;
}

/* Checks that the rtp-ports range has room, on @ip (our RTP address):
 * FALSE with an error when no pair in it is free; a warning when the
 * range is small or partly taken by other programs.  Each bridged call
 * takes two pairs (RTP on an even port, RTCP on the next). */
static gboolean
rtp_ports_check(const struct sa *ip, guint16 min, guint16 max,
		GError **error)
{
	unsigned pairs = ((unsigned)max - min + 1) / 2;
	unsigned free_pairs = 0;

	for (unsigned i = 0; i < pairs; i++) {
		uint16_t port = (uint16_t)(min + 2 * i);

		if (port_free(ip, port) && port_free(ip, port + 1))
			free_pairs++;
	}

	if (!free_pairs) {
		char addr[64];

		(void)re_snprintf(addr, sizeof(addr), "%j", ip);
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE,
			    _("rtp-ports = %u-%u: every port of the range is "
			      "taken on %s (by another program, or another "
			      "kefu-switch): choose a free range"),
			    min, max, addr);
		return FALSE;
	}
	/* messages, not warnings: a start is not an error, and tests run
	 * with fatal warnings */
	if (free_pairs < pairs)
		g_message("rtp-ports = %u-%u: %u of its %u port pairs are "
			  "taken by other programs", min, max,
			  pairs - free_pairs, pairs);
	if (free_pairs / 2 < RTP_CALLS_WARN)
		g_message("rtp-ports = %u-%u is too small: room for only %u "
			  "bridged calls at once (each takes 4 ports): widen "
			  "the range", min, max, free_pairs / 2);
	g_message("RTP on ports %u-%u: room for %u bridged calls", min, max,
		  free_pairs / 2);

	return TRUE;
}

/* --- queues -------------------------------------------------------------- */

static void
queue_conf_from(const KefuSwitchQueue *q, struct kefu_acd_queue_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->name = q->name;
	/* the two enums list the strategies in the same order */
	c->strategy = (enum kefu_acd_strategy)q->strategy;
	c->priority = q->priority;
	c->ring_timeout_ms = q->ring_timeout_ms;
	c->max_no_answer = q->max_no_answer;
	c->wrapup_ms = q->wrapup_ms;
	c->max_wait_ms = q->max_wait_ms;
	c->overflow = q->overflow == KEFU_SWITCH_OVERFLOW_QUEUE
		? KEFU_ACD_OVERFLOW_QUEUE
		: q->overflow == KEFU_SWITCH_OVERFLOW_CALLBACK
		? KEFU_ACD_OVERFLOW_CALLBACK : KEFU_ACD_OVERFLOW_NONE;
	c->overflow_queue = q->overflow_queue;
	c->announce_interval_ms = q->waiting_prompt ? q->announce_ms : 0;
}

G_STATIC_ASSERT((int)KEFU_SWITCH_STRATEGY_RING_ALL == (int)KEFU_ACD_RING_ALL);
G_STATIC_ASSERT((int)KEFU_SWITCH_STRATEGY_SKILLS_BASED ==
		(int)KEFU_ACD_SKILLS_BASED);

static gboolean
apply_queues(struct kefu_switch *sw, KefuSwitchConfig *config,
	     KefuSwitchConfig *old, GError **error)
{
	/* overflow targets first need to exist: two passes */
	for (int pass = 0; pass < 2; pass++) {
		for (guint i = 0; i < config->queues->len; i++) {
			const KefuSwitchQueue *q = config->queues->pdata[i];
			struct kefu_acd_queue_conf c;
			int err;

			queue_conf_from(q, &c);
			if (pass == 0) {
				c.overflow = KEFU_ACD_OVERFLOW_NONE;
				c.overflow_queue = NULL;
			}
			err = kefu_acd_queue_set(sw->acd, &c);
			if (err) {
				g_set_error(error, G_IO_ERROR,
					    G_IO_ERROR_INVALID_ARGUMENT,
					    _("queue %s: %s"), q->name,
					    g_strerror(err));
				return FALSE;
			}
		}
	}

	/* queues gone from the file leave once empty */
	for (guint i = 0; old && i < old->queues->len; i++) {
		const KefuSwitchQueue *q = old->queues->pdata[i];

		if (!kefu_switch_config_get_queue(config, q->name) &&
		    kefu_acd_queue_remove(sw->acd, q->name) == EBUSY)
			g_message("queue %s is no longer configured; it keeps "
				  "its waiting calls", q->name);
	}

	return TRUE;
}

/* --- status ------------------------------------------------------------- */

static const char *
activity_name(const struct kefu_acd_agent_status *st)
{
	switch (st->activity) {

	case KEFU_ACD_RINGING: return "ringing";
	case KEFU_ACD_TALKING: return "talking";
	case KEFU_ACD_WRAPUP:  return "wrap-up";
	case KEFU_ACD_IDLE:
	default:               break;
	}

	return st->presence == KEFU_ACD_AVAILABLE ? "available"
		: st->presence == KEFU_ACD_NOT_READY ? "not ready"
		: "logged out";
}

static int
print_status(struct re_printf *pf, const struct kefu_switch *sw)
{
	const KefuSwitchConfig *config = sw->config;
	int64_t up = (g_get_real_time() - sw->started_us) / G_USEC_PER_SEC;
	g_autoptr(GList) users = g_hash_table_get_keys(sw->agent_ext);
	struct kefu_switch_status st;
	int err = 0;

	kefu_switch_get_status(sw, &st);
	err |= re_hprintf(pf, "kefu-switch %s, pid %d, up %lldh%02lldm%02llds, "
			  "config %s\n", PACKAGE_VERSION, (int)getpid(),
			  (long long)(up / 3600), (long long)(up / 60 % 60),
			  (long long)(up % 60), config->path);
	err |= re_hprintf(pf, "SIP %J (UDP, TCP), realm %s; RTP ports %u-%u\n",
			  &sw->ss.laddr, kefu_switch_registrar_realm(
				  sw->registrar), sw->ss.rtp_min,
			  sw->ss.rtp_max);
	err |= re_hprintf(pf, "link: %H\n", kefu_server_link_print_health,
			  sw->link);
	{
		uint32_t queued, size, drops;

		if (sip_backlog(sw, &queued, &size, &drops))
			err |= re_hprintf(pf, "SIP socket: %u KB waiting of "
					  "%u KB, %u messages dropped; %llu "
					  "calls refused (503) while "
					  "overloaded\n", queued / 1024,
					  size / 1024, drops,
					  (unsigned long long)sw->calls_refused);
	}

	err |= re_hprintf(pf, "\ncalls: %u up (ivr %u, queued %u, talking %u), "
			  "%llu since start\n", st.calls, st.in_ivr,
			  st.queued, st.bridged,
			  (unsigned long long)st.calls_total);
	err |= kefu_switch_calls_print(pf, sw);

	err |= re_hprintf(pf, "\nqueues:\n");
	for (guint i = 0; i < config->queues->len; i++) {
		const KefuSwitchQueue *q = config->queues->pdata[i];
		struct kefu_acd_queue_status qs;

		if (kefu_acd_queue_status(sw->acd, q->name, &qs))
			continue;
		err |= re_hprintf(pf, "  %-16s waiting %u, longest %llu s, "
				  "agents %u (available %u, idle %u)\n",
				  q->name, qs.waiting,
				  (unsigned long long)(qs.longest_wait_ms /
						       1000),
				  qs.members, qs.staffed, qs.idle);
	}

	err |= re_hprintf(pf, "\nagents: %u phones registered of %u SIP "
			  "users\n", st.registered, st.credentials);
	users = g_list_sort(users, (GCompareFunc)g_strcmp0);
	for (GList *l = users; l; l = l->next) {
		const char *user = l->data;
		const char *ext = g_hash_table_lookup(sw->agent_ext, user);
		const char *contact = kefu_switch_registrar_contact(
			sw->registrar, ext);
		struct kefu_acd_agent_status as;

		if (kefu_acd_agent_status(sw->acd, user, &as))
			continue;
		err |= re_hprintf(pf, "  %-16s ext %-6s %s%s%s%s%s%s, %s%s\n",
				  user, ext, activity_name(&as),
				  as.reason[0] ? " (" : "", as.reason,
				  as.reason[0] ? ")" : "",
				  as.call_id[0] ? " on call " : "", as.call_id,
				  contact ? "phone at " : "no phone registered",
				  contact ? contact : "");
	}

	return err;
}

char *
kefu_switch_status_text(const struct kefu_switch *sw)
{
	char *text = NULL;
	char *out;

	if (re_sdprintf(&text, "%H", print_status, sw))
		return g_strdup("");
	out = g_strdup(text);
	mem_deref(text);

	return out;
}

/* The status socket: whoever connects (kefu-switch --status) reads the
 * status text, then the socket closes.  Only the switch's user may
 * connect (0600). */
static void
on_control(int flags, void *arg)
{
	struct kefu_switch *sw = arg;
	g_autofree char *text = NULL;
	struct timeval tv = { .tv_sec = 1 };
	size_t off = 0, len;
	int fd;

	(void)flags;
	fd = accept4(sw->control_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	text = kefu_switch_status_text(sw);
	len = strlen(text);
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(fd);
}

char *
kefu_switch_status_socket_path(const KefuSwitchConfig *config)
{
	return g_build_filename(config->settings.spool_dir, "status.sock",
				NULL);
}

static void
control_open(struct kefu_switch *sw)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	g_autofree char *path = kefu_switch_status_socket_path(sw->config);
	int fd;

	if (strlen(path) >= sizeof(un.sun_path)) {
		g_warning("status socket %s: the path is too long", path);
		return;
	}
	g_strlcpy(un.sun_path, path, sizeof(un.sun_path));
	(void)g_mkdir_with_parents(sw->config->settings.spool_dir, 0700);
	(void)g_unlink(path);   /* a stale one of an earlier run */

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&un, sizeof(un)) ||
	    chmod(path, 0600) || listen(fd, 8) ||
	    fd_listen(fd, FD_READ, on_control, sw)) {
		g_warning("status socket %s: %s (kefu-switch --status will "
			  "not reach this switch)", path, g_strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	sw->control_fd = fd;
	sw->control_path = g_steal_pointer(&path);
}

static void
control_close(struct kefu_switch *sw)
{
	if (sw->control_fd < 0)
		return;
	fd_close(sw->control_fd);
	close(sw->control_fd);
	sw->control_fd = -1;
	(void)g_unlink(sw->control_path);
	g_clear_pointer(&sw->control_path, g_free);
}

/* --- the object ---------------------------------------------------------- */

static void
switch_destructor(void *arg)
{
	struct kefu_switch *sw = arg;

	tmr_cancel(&sw->tmr_creds);
	tmr_cancel(&sw->tmr_stop);
	sw->creds_req = mem_deref(sw->creds_req);
	control_close(sw);
	kefu_switch_calls_hangup_all(sw);
	on_graveyard(sw);
	tmr_cancel(&sw->tmr_graveyard);
	g_ptr_array_unref(sw->graveyard);
	sw->acd = mem_deref(sw->acd);
	sw->link = mem_deref(sw->link);
	sw->registrar = mem_deref(sw->registrar);
	if (sw->ss.sock)
		sipsess_close_all(sw->ss.sock);
	sw->ss.sock = mem_deref(sw->ss.sock);
	sw->ss.evsock = mem_deref(sw->ss.evsock);
	if (sw->ss.sip)
		sip_close(sw->ss.sip, true);
	sw->ss.sip = mem_deref(sw->ss.sip);
	g_hash_table_unref(sw->agent_ext);
	g_hash_table_unref(sw->ext_agent);
	if (sw->hold_music)
		g_bytes_unref(sw->hold_music);
	if (sw->tts)
		kefu_tts_free(sw->tts);
	if (sw->config)
		kefu_switch_config_unref(sw->config);
}

gboolean
kefu_switch_new(struct kefu_switch **swp, KefuSwitchConfig *config,
		GError **error)
{
	struct kefu_server_link_conf lc = { 0 };
	struct kefu_server_link_handlers lh = {
		.agent = on_link_agent,
		.health = on_link_health,
		.agents_changed = on_link_agents_changed,
	};
	struct kefu_switch *sw;
	int err;

	g_return_val_if_fail(swp && config, FALSE);

	sw = mem_zalloc(sizeof(*sw), switch_destructor);
	if (!sw) {
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_FAILED,
				    g_strerror(ENOMEM));
		return FALSE;
	}
	list_init(&sw->calls);
	list_init(&sw->transfers);
	sw->control_fd = -1;
	sw->sip_fd = -1;
	sw->started_us = g_get_real_time();
	tmr_init(&sw->tmr_graveyard);
	tmr_init(&sw->tmr_creds);
	tmr_init(&sw->tmr_stop);
	sw->graveyard = g_ptr_array_new();
	sw->agent_ext = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					      g_free);
	sw->ext_agent = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					      g_free);
	sw->config = kefu_switch_config_ref(config);
	(void)re_snprintf(sw->instance, sizeof(sw->instance), "%08llx",
			  (unsigned long long)(g_get_real_time() / 1000000) ^
			  rand_u32());

	sw->tts = kefu_tts_new(error);
	if (!sw->tts)
		goto fail;
	if (!kefu_switch_config_render_prompts(sw->config, sw->tts, error))
		goto fail;

	if (sip_setup(sw, config->settings.listen, error))
		goto fail;
	if (!rtp_ports_check(&sw->ss.laddr, config->settings.rtp_port_min,
			     config->settings.rtp_port_max, error))
		goto fail;

	err = kefu_acd_alloc(&sw->acd, &kefu_switch_acd_driver, sw);
	if (err) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err),
			    "ACD: %s", g_strerror(err));
		goto fail;
	}
	if (!apply_queues(sw, config, NULL, error))
		goto fail;

	/* the link reads the credentials file ("user:password") itself */
	lc.url = config->settings.server_url;
	lc.password_file = config->settings.credentials_file;
	lc.spool_dir = config->settings.spool_dir;
	err = kefu_server_link_alloc(&sw->link, &lc, &lh, sw);
	if (err) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err),
			    _("kefu-server link (%s, spool %s): %s"), lc.url,
			    lc.spool_dir, g_strerror(err));
		goto fail;
	}

	control_open(sw);
	g_message("kefu-switch listening on %s (UDP and TCP), realm %s",
		  config->settings.listen, config->settings.realm);
	*swp = sw;

	return TRUE;

 fail:
	mem_deref(sw);

	return FALSE;
}

gboolean
kefu_switch_reload(struct kefu_switch *sw, GError **error)
{
	g_autoptr(KefuSwitchConfig) config = NULL;
	KefuSwitchConfig *old;

	if (!kefu_switch_config_load(sw->config->path, &config, error))
		return FALSE;
	if (!kefu_switch_config_render_prompts(config, sw->tts, error))
		return FALSE;
	if (g_strcmp0(config->settings.listen, sw->config->settings.listen))
		g_message("listen = %s: takes effect at the next start "
			  "(still on %s)", config->settings.listen,
			  sw->config->settings.listen);
	if (g_strcmp0(config->settings.spool_dir,
		      sw->config->settings.spool_dir) ||
	    g_strcmp0(config->settings.server_url,
		      sw->config->settings.server_url) ||
	    g_strcmp0(config->settings.credentials_file,
		      sw->config->settings.credentials_file))
		g_message("server, credentials and spool take effect at the "
			  "next start");
	if ((config->settings.rtp_port_min != sw->ss.rtp_min ||
	     config->settings.rtp_port_max != sw->ss.rtp_max) &&
	    !rtp_ports_check(&sw->ss.laddr, config->settings.rtp_port_min,
			     config->settings.rtp_port_max, error))
		return FALSE;
	if (!apply_queues(sw, config, sw->config, error))
		return FALSE;

	/* new legs take the new range; streams up keep their ports */
	sw->ss.rtp_min = config->settings.rtp_port_min;
	sw->ss.rtp_max = config->settings.rtp_port_max;
	kefu_switch_registrar_set_realm(sw->registrar,
					config->settings.realm);
	old = sw->config;
	sw->config = kefu_switch_config_ref(config);
	kefu_switch_config_unref(old);
	g_message("configuration reloaded from %s", config->path);

	return TRUE;
}

static void
stop_finish(struct kefu_switch *sw)
{
	void (*done)(void *) = sw->stop_done;

	tmr_cancel(&sw->tmr_stop);
	sw->stop_done = NULL;
	if (done)
		done(sw->stop_arg);
}

static void
on_link_down(int err, void *arg)
{
	(void)err;
	stop_finish(arg);
}

static void
on_flushed(int err, void *arg)
{
	struct kefu_switch *sw = arg;

	if (err)
		g_message("kefu-server has not acknowledged everything: it "
			  "stays in the spool for the next start");
	kefu_server_link_shutdown(sw->link, on_link_down, sw);
}

static void
on_stop_timeout(void *arg)
{
	stop_finish(arg);
}

void
kefu_switch_shutdown(struct kefu_switch *sw, void (*done)(void *arg),
		     void *arg)
{
	if (!sw || sw->stopping)
		return;

	sw->stopping = true;
	sw->stop_done = done;
	sw->stop_arg = arg;
	tmr_cancel(&sw->tmr_creds);
	kefu_switch_calls_hangup_all(sw);
	tmr_start(&sw->tmr_stop, STOP_FLUSH_MS + 2000, on_stop_timeout, sw);
	if (kefu_server_link_flush(sw->link, STOP_FLUSH_MS, on_flushed, sw))
		kefu_server_link_shutdown(sw->link, on_link_down, sw);
}

void
kefu_switch_get_status(const struct kefu_switch *sw,
		       struct kefu_switch_status *st)
{
	struct kefu_server_link_health h;

	memset(st, 0, sizeof(*st));
	if (!sw)
		return;
	kefu_switch_calls_count(sw, st);
	st->registered = kefu_switch_registrar_count(sw->registrar);
	st->credentials = kefu_switch_registrar_credentials(sw->registrar);
	st->calls_total = sw->calls_total;
	kefu_server_link_health(sw->link, &h);
	st->link = kefu_server_link_state_name(h.state);
}

char *
kefu_switch_status_line(const struct kefu_switch *sw)
{
	struct kefu_switch_status st;
	char *health = NULL;
	char *line;

	kefu_switch_get_status(sw, &st);
	(void)re_sdprintf(&health, "%H", kefu_server_link_print_health,
			  sw->link);
	line = g_strdup_printf("calls %u (ivr %u, queued %u, talking %u), "
			       "%" G_GUINT64_FORMAT " since start; phones "
			       "registered %u of %u users; %s",
			       st.calls, st.in_ivr, st.queued, st.bridged,
			       st.calls_total, st.registered, st.credentials,
			       health ? health : st.link);
	mem_deref(health);

	return line;
}
