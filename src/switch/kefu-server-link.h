/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The switch's link to kefu-server: everything kefu-switch says to or asks
 * of the server goes through one struct kefu_server_link.
 *
 *  - It logs in as the service account (credentials read from a file,
 *    again at every login, so an administrator can fix them without a
 *    restart) and logs in again when the token expires or the server
 *    answers 401.
 *  - Events (call.*, queue.*, agent.* as kefu_acd_event_to_json() makes
 *    them) go to the server over the events WebSocket, in batches that the
 *    server acknowledges.  Call records (CDRs, POST /v1/calls) and callback
 *    requests (POST /v1/callbacks) share the same queue.  Everything
 *    queued is first appended to an on-disk spool (fsync'd in batches,
 *    before it is sent) and stays there until the server acknowledged it:
 *    while the server is unreachable or restarting, items wait on disk and
 *    are sent in order once it is back; a switch restart replays the
 *    spool.  Each batch and record carries an id made here and kept in the
 *    spool, so a retry is recognised by the server and never applied
 *    twice.  The spool is bounded by the disk only; it logs as it grows.
 *  - Agents come from the server: GET /v1/agents at start, after every
 *    reconnect, at once when the server's agent.updated notice says an
 *    administrator changed one (created, changed, removed; a new SIP
 *    password), and every agent_resync_ms as a safety net; their states
 *    also from the agent.state events of the WebSocket in between; each
 *    change reaches the agent handler, and each agent.updated the
 *    agents_changed handler (for what the switch reads besides the list:
 *    the SIP credentials).
 *  - Requests the IVR and the registrar need (SIP credentials, customer
 *    lookups, ...) are asynchronous, each with its handler and a timeout.
 *  - Its health (connected, reconnecting with backoff, spooling N items)
 *    is logged on every change and can be printed for the status output.
 *
 * Thread: libre's main loop (re_main) only; every handler is called from
 * it, never from inside a kefu_server_link_*() call.  Memory: libre's; the
 * link and request handles are freed with mem_deref().  Strings and JSON
 * handed to a handler are borrowed for the duration of the call.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

G_BEGIN_DECLS

struct re_printf;
struct kefu_server_link;
struct kefu_server_link_req;

/* Settings, from the switch's config file.  Strings are copied.  A 0
 * where a default is named takes that default. */
struct kefu_server_link_conf {
  const char *url;                /* required: http://host:port of kefu-server */
  const char *password_file;      /* required: the [switch] credentials file;
                                   * its first line is "user:password" (the
                                   * service account), or just the password */
  const char *username;           /* when the file has only the password;
                                   * NULL: "service" */
  const char *spool_dir;          /* required: created (0700) if missing */
  uint32_t    request_timeout_ms; /* requests without their own; 0: 5000 */
  uint32_t    reconnect_min_ms;   /* first backoff; 0: 250 */
  uint32_t    reconnect_max_ms;   /* backoff doubles up to this; 0: 30000 */
  uint32_t    ack_timeout_ms;     /* no ack by then: reconnect; 0: 10000 */
  uint32_t    fsync_interval_ms;  /* queued items reach the disk within; 0: 50 */
  uint32_t    batch_max;          /* events per WebSocket batch; 0: 256 */
  uint32_t    agent_resync_ms;    /* GET /v1/agents again every; 0: 300000 */
  uint64_t    segment_bytes;      /* spool files roll over at; 0: 8 MiB */
};

enum kefu_server_link_state {
  KEFU_SERVER_LINK_CONNECTING,    /* first login / WebSocket under way */
  KEFU_SERVER_LINK_CONNECTED,     /* logged in, WebSocket open */
  KEFU_SERVER_LINK_RECONNECTING,  /* lost or refused; next try after backoff_ms */
  KEFU_SERVER_LINK_AUTH_FAILED,   /* the service login was refused (retried
                                   * with backoff; the credentials file is
                                   * read again each time) */
  KEFU_SERVER_LINK_STOPPED,       /* after kefu_server_link_shutdown() */
};

struct kefu_server_link_health {
  enum kefu_server_link_state state;
  uint32_t backoff_ms;            /* RECONNECTING / AUTH_FAILED: the wait */
  uint64_t spooled;               /* items (events, records) not yet acked */
  uint64_t spool_bytes;           /* on disk in the spool, acked or not */
  uint64_t sent;                  /* items acknowledged since start */
  uint64_t rejected;              /* items the server refused for good (kept
                                   * in spool_dir/rejected, logged) */
  uint64_t corrupt;               /* spool records found damaged at start
                                   * (kept in spool_dir/corrupt, logged) */
  char     last_error[256];       /* what failed last; "" when nothing has */
};

/* An agent as kefu-server has them.  why says what the change is:
 *   "sync"     from GET /v1/agents (start, reconnect, agent.updated,
 *              periodic resync): every known agent, whether it changed
 *              or not;
 *   "state"    an agent.state event: the agent (or a supervisor) set the
 *              state in the desktop; extension and skills from the last sync;
 *   "removed"  the agent is no longer listed by the server.
 * state is kefu-server's spelling (kefu_agent_states: available, not_ready,
 * logged_out, wrapup, ... ; kefu_acd_agent_state_text() takes it as is).
 * The switch's own agent.state events coming back are not delivered. */
struct kefu_server_link_skill {
  const char *name;               /* a queue name or any skill name */
  int         proficiency;        /* 1..100 */
};

struct kefu_server_link_agent {
  const char *why;                /* "sync", "state" or "removed" */
  const char *username;
  const char *role;               /* agent, supervisor, teamlead, admin */
  const char *extension;          /* SIP user of their phone; "" if none */
  const char *state;
  const char *reason;             /* of Not ready; NULL otherwise */
  const struct kefu_server_link_skill *skills;
  size_t      n_skills;
};

/* What came back for a request.  err is 0 when the server answered with a
 * 2xx; otherwise ETIMEDOUT (no answer within the timeout), ECONNREFUSED /
 * ECONNRESET / ... (no answer at all), EACCES (401/403 after one new
 * login), ENOENT (404), EINVAL (400/422: what we sent was refused),
 * EPROTO (an answer that is not what the API documents), EIO (5xx); and
 * message says what failed in words (the server's own error message when
 * it gave one).  status is the HTTP status (0 without an answer).  json is
 * the parsed body, or NULL. */
struct kefu_server_link_reply {
  int         err;
  uint16_t    status;
  const char *message;            /* "" on success */
  JsonNode   *json;
};

typedef void (kefu_server_link_agent_h) (const struct kefu_server_link_agent *agent, void *arg);
typedef void (kefu_server_link_health_h) (const struct kefu_server_link_health *health,
                                          void *arg);
typedef void (kefu_server_link_done_h) (int err, void *arg);
/* agent.updated: an administrator changed @username's record (its
 * extension, skills or SIP password); the list is being read again. */
typedef void (kefu_server_link_agents_changed_h) (const char *username, void *arg);

struct kefu_server_link_handlers {
  kefu_server_link_agent_h          *agent;           /* may be NULL */
  kefu_server_link_health_h         *health;          /* on every state change; may be NULL */
  kefu_server_link_agents_changed_h *agents_changed;  /* may be NULL */
};

/* Opens (and first checks) the spool, then starts connecting.  Items left
 * in the spool by an earlier run are replayed first.  Damaged spool
 * records are moved to spool_dir/corrupt and logged with their file and
 * offset; the good ones are kept.  Returns 0, EINVAL (missing setting or
 * bad URL), or the errno of a spool directory that cannot be used (logged
 * with its path). */
int  kefu_server_link_alloc (struct kefu_server_link               **linkp,
                             const struct kefu_server_link_conf      *conf,
                             const struct kefu_server_link_handlers  *handlers,
                             void                                    *arg);

/* Queues an event: {type, ts, call_id, queue, agent, data} as POST
 * /v1/events takes one (kefu_acd_event_to_json() output).  Borrowed; "ts"
 * is set to now when absent, so a late replay keeps the time it happened.
 * Returns 0 once it is in the spool; EINVAL when kefu-server would refuse
 * it (logged with the reason; nothing queued); EIO / ENOSPC when the spool
 * cannot be written (logged). */
int  kefu_server_link_event (struct kefu_server_link *link, JsonObject *event);

/* Queues a call record (CDR) for POST /v1/calls: id (= X-Kefu-Call),
 * direction, caller, callee, queue, agent, customer_id, offered_at,
 * answered_at, ended_at, wait_s, talk_s, hold_s, wrapup_s, outcome,
 * ivr_path, recording.  Same returns and guarantee as an event. */
int  kefu_server_link_call_record (struct kefu_server_link *link, JsonObject *record);

/* Queues a callback request for POST /v1/callbacks (the list agents work
 * from): number (required: what the caller keyed, or their caller ID),
 * customer_id, call_id, queue, source ("ivr" when absent, or "overflow"),
 * due_at, notes.  The same guarantee as an event: 0 means it is on disk and
 * will be filed, so the IVR may tell the caller; EINVAL (logged) when
 * kefu-server would refuse it.  When handler is given it is called once:
 * with err 0 and the server's record when the server stored it, with an
 * error when the server refused it for good, or with ETIMEDOUT after
 * timeout_ms (0: request_timeout_ms) if not confirmed by then (it stays
 * spooled).  mem_deref(*reqp) only forgets the handler. */
int  kefu_server_link_callback (struct kefu_server_link        *link,
                                JsonObject                     *request,
                                uint32_t                        timeout_ms,
                                void (*handler) (const struct kefu_server_link_reply *reply,
                                                 void *arg),
                                void                           *arg,
                                struct kefu_server_link_req   **reqp);

/* --- requests ------------------------------------------------------------------- */

/* Every request: handler called exactly once (unless *reqp is
 * mem_deref()'d first, which cancels it) with the reply; timeout_ms 0 takes
 * request_timeout_ms.  reqp may be NULL.  A request made while the server
 * is unreachable fails at once with the reason (it is not queued).
 * Returns 0 or an errno (EINVAL: bad arguments). */
typedef void (kefu_server_link_reply_h) (const struct kefu_server_link_reply *reply, void *arg);

/* GET /v1/sip/credentials: the SIP users and their digest secrets for the
 * registrar; reply->json is {realm, items: [...]} as the server sends it. */
int  kefu_server_link_sip_credentials (struct kefu_server_link      *link,
                                       uint32_t                      timeout_ms,
                                       kefu_server_link_reply_h     *handler,
                                       void                         *arg,
                                       struct kefu_server_link_req **reqp);

/* GET /v1/customers?phone=NUMBER (any spelling; the server normalises).
 * reply->json is the customer object the lookup found first, or NULL with
 * err 0 when no customer has that number. */
int  kefu_server_link_customer_by_phone (struct kefu_server_link      *link,
                                         const char                   *phone,
                                         uint32_t                      timeout_ms,
                                         kefu_server_link_reply_h     *handler,
                                         void                         *arg,
                                         struct kefu_server_link_req **reqp);

/* GET /v1/customers?account_number=DIGITS: the customer whose
 * account_number field (the customer record's "What callers key in the
 * IVR") is exactly what the caller keyed; NULL json with err 0 when none. */
int  kefu_server_link_customer_by_account (struct kefu_server_link      *link,
                                           const char                   *account_number,
                                           uint32_t                      timeout_ms,
                                           kefu_server_link_reply_h     *handler,
                                           void                         *arg,
                                           struct kefu_server_link_req **reqp);

/* Any other call of the API as the service account: method, path (with
 * its query, already escaped), an optional JSON body (borrowed).  The
 * reply's json is the whole body. */
int  kefu_server_link_request (struct kefu_server_link      *link,
                               const char                   *method,
                               const char                   *path,
                               JsonNode                     *body,
                               uint32_t                      timeout_ms,
                               kefu_server_link_reply_h     *handler,
                               void                         *arg,
                               struct kefu_server_link_req **reqp);

/* --- health and lifetime -------------------------------------------------------- */

void        kefu_server_link_health (const struct kefu_server_link  *link,
                                     struct kefu_server_link_health *out);
const char *kefu_server_link_state_name (enum kefu_server_link_state state);
/* One line for the status output, e.g. "kefu-server http://...: connected,
 * 0 spooled" or "...: reconnecting in 4000 ms, spooling 1234 items (2.1 MB):
 * connection refused".  A libre printer: re_printf("%H", ..., link). */
int         kefu_server_link_print_health (struct re_printf              *pf,
                                           const struct kefu_server_link *link);

/* handler(0) once every item queued before this call has been acked by the
 * server, or handler(ETIMEDOUT) after timeout_ms.  Fails nothing. */
int  kefu_server_link_flush (struct kefu_server_link *link, uint32_t timeout_ms,
                             kefu_server_link_done_h *handler, void *arg);

/* Stops sending, syncs the spool and closes the WebSocket cleanly; handler
 * (may be NULL) once the socket is closed (at most a few seconds).  Items
 * not yet acked stay in the spool for the next start.  Then mem_deref()
 * the link.  (mem_deref() alone also syncs the spool, but libre may keep
 * the closing socket alive a few seconds in the main loop.) */
void kefu_server_link_shutdown (struct kefu_server_link *link, kefu_server_link_done_h *handler,
                                void *arg);

G_END_DECLS
