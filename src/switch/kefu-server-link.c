/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuServerLink"

#include "config.h"

#include "kefu-server-link.h"
#include "kefu-server-link-spool.h"

#include "kefu-record.h"
#include "kefu-time.h"

#include <gio/gio.h>

#include <errno.h>
#include <inttypes.h>
#include <string.h>

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

#define DEFAULT_REQUEST_TIMEOUT_MS 5000
#define DEFAULT_RECONNECT_MIN_MS   250
#define DEFAULT_RECONNECT_MAX_MS   30000
#define DEFAULT_ACK_TIMEOUT_MS     10000
#define DEFAULT_FSYNC_MS           50
#define DEFAULT_BATCH_MAX          256
/* An agent.updated notice makes the link read the agents at once; this
 * read is the safety net for a change no notice told of (one made through
 * another kefu-server node, or by hand in the database). */
#define DEFAULT_RESYNC_MS          300000
#define BATCH_MAX_BYTES            (1024 * 1024)
#define AGENTS_PAGE                500
#define WS_KEEPALIVE_MS            15000
#define SHUTDOWN_WAIT_MS           3000
#define GROWTH_FIRST_LOG           1000

typedef enum {
  SEND_IDLE,
  SEND_BATCH,     /* events over the WebSocket, waiting for the ack */
  SEND_HTTP,      /* one record over HTTP */
} SendState;

typedef struct {
  char   *username;
  char   *role;
  char   *extension;
  char   *state;
  char   *reason;
  GArray *skills;           /* struct kefu_server_link_skill, names owned */
} Agent;

/* An agent.state seen while a GET /v1/agents was under way. */
typedef struct {
  char *state;
  char *reason;
} LiveState;

struct kefu_server_link;
typedef void (ReqDone) (struct kefu_server_link_req         *req,
                        const struct kefu_server_link_reply *reply);

struct kefu_server_link_req {
  struct le                      le;
  struct kefu_server_link       *link;
  struct kefu_server_link_req  **reqp;
  struct http_req               *http;
  struct tmr                     tmr;
  char                          *method;
  char                          *path;
  char                          *body;          /* NULL: none */
  char                          *idempotency_key;
  uint32_t                       timeout_ms;
  bool                           auth;           /* needs the token */
  bool                           parked;         /* waiting for a login */
  bool                           retried;        /* after one 401 */
  char                          *token_used;
  ReqDone                       *done;           /* internal post-processing */
  kefu_server_link_reply_h      *handler;
  void                          *arg;
  uint64_t                       seq;            /* callback waits: the spooled item */
};

typedef struct {
  struct le                le;
  struct kefu_server_link *link;
  uint64_t                 target;
  struct tmr               tmr;
  kefu_server_link_done_h *handler;
  void                    *arg;
} Flush;

struct kefu_server_link {
  /* settings, owned */
  char                             *url;
  char                             *ws_url;
  char                             *username;
  char                             *password_file;
  char                             *spool_dir;
  struct kefu_server_link_conf      conf;
  struct kefu_server_link_handlers  handlers;
  void                             *arg;

  /* the spool */
  KefuSpool  *spool;
  struct tmr  tmr_fsync;
  uint64_t    growth_log_at;

  /* the connection */
  struct dnsc          *dnsc;
  struct http_cli      *http;
  struct websock       *ws_sock;
  struct websock_conn  *ws;
  GByteArray           *ws_message;       /* a message arriving in fragments */
  enum kefu_server_link_state state;
  uint32_t              backoff_ms;
  char                  last_error[256];
  char                 *token;
  char                 *login_user;
  struct kefu_server_link_req *login;
  struct list           parked;           /* requests waiting for a login */
  struct tmr            tmr_reconnect;
  struct tmr            tmr_refresh;      /* log in again before the token expires */
  struct tmr            tmr_ws_closed;

  /* sending */
  SendState             sending;
  GPtrArray            *inflight;         /* KefuSpoolItem* */
  char                 *inflight_op;
  struct kefu_server_link_req *inflight_req;
  uint64_t              solo_until;       /* one at a time through this seq */
  uint32_t              send_backoff_ms;
  struct tmr            tmr_ack;
  struct tmr            tmr_pump;
  struct tmr            tmr_send_retry;
  uint64_t              sent;
  uint64_t              rejected;
  uint64_t              corrupt;

  /* agents */
  GHashTable           *agents;           /* username -> Agent* */
  GHashTable           *sync_agents;      /* the snapshot being read; NULL when none */
  GHashTable           *sync_live;        /* username -> LiveState*, seen meanwhile */
  struct kefu_server_link_req *sync_req;
  bool                  resync_again;
  struct tmr            tmr_resync;

  /* requests, flushes, callbacks waiting for their item's answer */
  struct list           reqs;
  struct list           flushes;
  struct list           callback_waits;

  /* stopping */
  bool                     stopping;
  kefu_server_link_done_h *stopped_handler;
  void                    *stopped_arg;
  struct tmr               tmr_stopped;
};

static void connect_now (struct kefu_server_link *link);
static void schedule_reconnect (struct kefu_server_link *link, int err, const char *why);
static void pump_later (struct kefu_server_link *link);
static void start_agent_sync (struct kefu_server_link *link);
static void req_issue (struct kefu_server_link_req *req);
static void req_finish (struct kefu_server_link_req         *req,
                        const struct kefu_server_link_reply *reply);

/* --- small things ------------------------------------------------------------------ */

static void
agent_free (gpointer data)
{
  Agent *agent = data;

  if (!agent)
    return;
  g_free (agent->username);
  g_free (agent->role);
  g_free (agent->extension);
  g_free (agent->state);
  g_free (agent->reason);
  for (guint i = 0; agent->skills && i < agent->skills->len; i++)
    g_free ((char *) g_array_index (agent->skills, struct kefu_server_link_skill, i).name);
  g_clear_pointer (&agent->skills, g_array_unref);
  g_free (agent);
}

static void
live_state_free (gpointer data)
{
  LiveState *live = data;

  g_free (live->state);
  g_free (live->reason);
  g_free (live);
}

static void
set_error (struct kefu_server_link *link,
           const char              *format,
           ...) G_GNUC_PRINTF (2, 3);

static void
set_error (struct kefu_server_link *link,
           const char              *format,
           ...)
{
  va_list args;

  va_start (args, format);
  g_vsnprintf (link->last_error, sizeof link->last_error, format, args);
  va_end (args);
}

static const char *
errno_text (int err)
{
  switch (err)
    {
    case ECONNREFUSED:
      return "connection refused";
    case ETIMEDOUT:
      return "no answer in time";
    case ECONNRESET:
      return "connection reset";
    case ECONNABORTED:
      return "connection aborted";
    case EPROTO:
      return "unexpected answer";
    default:
      return g_strerror (err);
    }
}

void
kefu_server_link_health (const struct kefu_server_link  *link,
                         struct kefu_server_link_health *out)
{
  memset (out, 0, sizeof *out);
  out->state = link->state;
  out->backoff_ms = link->state == KEFU_SERVER_LINK_RECONNECTING ||
                    link->state == KEFU_SERVER_LINK_AUTH_FAILED ? link->backoff_ms : 0;
  out->spooled = link->spool ? kefu_spool_pending (link->spool) : 0;
  out->spool_bytes = link->spool ? kefu_spool_bytes (link->spool) : 0;
  out->sent = link->sent;
  out->rejected = link->rejected;
  out->corrupt = link->corrupt;
  g_strlcpy (out->last_error, link->last_error, sizeof out->last_error);
}

const char *
kefu_server_link_state_name (enum kefu_server_link_state state)
{
  switch (state)
    {
    case KEFU_SERVER_LINK_CONNECTING:
      return "connecting";
    case KEFU_SERVER_LINK_CONNECTED:
      return "connected";
    case KEFU_SERVER_LINK_RECONNECTING:
      return "reconnecting";
    case KEFU_SERVER_LINK_AUTH_FAILED:
      return "login refused";
    case KEFU_SERVER_LINK_STOPPED:
      return "stopped";
    default:
      return "?";
    }
}

int
kefu_server_link_print_health (struct re_printf              *pf,
                               const struct kefu_server_link *link)
{
  struct kefu_server_link_health health;
  int err;

  if (!link)
    return re_hprintf (pf, "kefu-server: no link");
  kefu_server_link_health (link, &health);
  err = re_hprintf (pf, "kefu-server %s: %s", link->url,
                    kefu_server_link_state_name (health.state));
  if (health.backoff_ms)
    err |= re_hprintf (pf, ", next try in %u ms", health.backoff_ms);
  if (health.spooled)
    err |= re_hprintf (pf, ", spooling %llu items (%.1f MB in %s)",
                       (unsigned long long) health.spooled, health.spool_bytes / 1e6,
                       link->spool_dir);
  else
    err |= re_hprintf (pf, ", nothing spooled");
  if (health.rejected)
    err |= re_hprintf (pf, ", %llu refused by the server (in %s/rejected.log)",
                       (unsigned long long) health.rejected, link->spool_dir);
  if (health.state != KEFU_SERVER_LINK_CONNECTED && health.last_error[0])
    err |= re_hprintf (pf, ": %s", health.last_error);
  return err;
}

static void
set_state (struct kefu_server_link     *link,
           enum kefu_server_link_state  state)
{
  struct kefu_server_link_health health;

  if (link->state == state)
    return;
  link->state = state;
  switch (state)
    {
    case KEFU_SERVER_LINK_CONNECTED:
      g_message ("Connected to kefu-server %s as %s; %" G_GUINT64_FORMAT " items to send from "
                 "the spool", link->url, link->login_user,
                 (guint64) kefu_spool_pending (link->spool));
      break;
    case KEFU_SERVER_LINK_RECONNECTING:
      g_message ("kefu-server %s: %s; trying again in %u ms (%" G_GUINT64_FORMAT
                 " items spooled)", link->url, link->last_error, link->backoff_ms,
                 (guint64) kefu_spool_pending (link->spool));
      break;
    case KEFU_SERVER_LINK_AUTH_FAILED:
      g_warning ("kefu-server %s: %s; trying again in %u ms", link->url, link->last_error,
                 link->backoff_ms);
      break;
    default:
      g_debug ("kefu-server %s: %s", link->url, kefu_server_link_state_name (state));
      break;
    }
  if (link->handlers.health)
    {
      kefu_server_link_health (link, &health);
      link->handlers.health (&health, link->arg);
    }
}

/* Logs as the spool grows: at 1,000 items, 10,000, 100,000, ... */
static void
note_growth (struct kefu_server_link *link)
{
  uint64_t pending = kefu_spool_pending (link->spool);

  if (pending == 0 && link->growth_log_at > GROWTH_FIRST_LOG)
    {
      g_message ("The spool %s is empty again: kefu-server has everything", link->spool_dir);
      link->growth_log_at = GROWTH_FIRST_LOG;
      return;
    }
  if (pending < link->growth_log_at)
    return;
  /* Connected, it is a burst the server works through; otherwise it only
   * grows, until the disk is full. */
  if (link->state == KEFU_SERVER_LINK_CONNECTED)
    g_message ("The spool %s holds %" G_GUINT64_FORMAT " items (%.1f MB) that kefu-server %s "
               "has not acknowledged yet", link->spool_dir, (guint64) pending,
               kefu_spool_bytes (link->spool) / 1e6, link->url);
  else
    g_warning ("The spool %s holds %" G_GUINT64_FORMAT " items (%.1f MB) waiting for kefu-server "
               "%s (%s%s%s); it grows until the disk is full", link->spool_dir, (guint64) pending,
               kefu_spool_bytes (link->spool) / 1e6, link->url,
               kefu_server_link_state_name (link->state), link->last_error[0] ? ": " : "",
               link->last_error);
  while (link->growth_log_at <= pending)
    link->growth_log_at *= 10;
}

/* --- requests over HTTP ------------------------------------------------------------- */

static void
req_destructor (void *data)
{
  struct kefu_server_link_req *req = data;

  list_unlink (&req->le);
  tmr_cancel (&req->tmr);
  req->http = mem_deref (req->http);
  g_free (req->method);
  g_free (req->path);
  g_free (req->body);
  g_free (req->idempotency_key);
  g_free (req->token_used);
}

static void
reply_from_error_body (struct kefu_server_link_reply *reply,
                       char                         **message)
{
  JsonObject *root, *error;

  if (!reply->json || !JSON_NODE_HOLDS_OBJECT (reply->json))
    return;
  root = json_node_get_object (reply->json);
  if (!json_object_has_member (root, "error") ||
      !JSON_NODE_HOLDS_OBJECT (json_object_get_member (root, "error")))
    return;
  error = json_object_get_object_member (root, "error");
  if (kefu_json_get_string (error, "message"))
    {
      g_free (*message);
      *message = g_strdup (kefu_json_get_string (error, "message"));
    }
}

static const char *
reply_error_code (const struct kefu_server_link_reply *reply)
{
  JsonObject *root;

  if (!reply->json || !JSON_NODE_HOLDS_OBJECT (reply->json))
    return NULL;
  root = json_node_get_object (reply->json);
  if (!json_object_has_member (root, "error") ||
      !JSON_NODE_HOLDS_OBJECT (json_object_get_member (root, "error")))
    return NULL;
  return kefu_json_get_string (json_object_get_object_member (root, "error"), "code");
}

static int
err_for_status (uint16_t status)
{
  if (status >= 200 && status < 300)
    return 0;
  switch (status)
    {
    case 401:
    case 403:
      return EACCES;
    case 404:
      return ENOENT;
    case 400:
    case 409:
    case 413:
    case 415:
    case 422:
      return EINVAL;
    case 429:
      return EAGAIN;
    default:
      return status >= 500 ? EIO : EPROTO;
    }
}

/* Ends a request: its own step first, then the caller's handler. */
static void
req_finish (struct kefu_server_link_req         *req,
            const struct kefu_server_link_reply *reply)
{
  tmr_cancel (&req->tmr);
  req->http = mem_deref (req->http);
  list_unlink (&req->le);
  if (req->reqp)
    {
      *req->reqp = NULL;
      req->reqp = NULL;
    }
  mem_ref (req);
  if (req->done)
    req->done (req, reply);
  else if (req->handler)
    req->handler (reply, req->arg);
  mem_deref (req);     /* the one the list held */
  mem_deref (req);
}

static void
req_fail (struct kefu_server_link_req *req,
          int                          err,
          const char                  *format,
          ...) G_GNUC_PRINTF (3, 4);

static void
req_fail (struct kefu_server_link_req *req,
          int                          err,
          const char                  *format,
          ...)
{
  g_autofree char *message = NULL;
  struct kefu_server_link_reply reply = { err, 0, NULL, NULL };
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  reply.message = message;
  req_finish (req, &reply);
}

static void
on_req_timeout (void *arg)
{
  struct kefu_server_link_req *req = arg;

  req_fail (req, ETIMEDOUT, "%s %s: kefu-server %s did not answer within %u ms", req->method,
            req->path, req->link->url, req->timeout_ms);
}

static void
on_http_response (int                    err,
                  const struct http_msg *msg,
                  void                  *arg)
{
  struct kefu_server_link_req *req = arg;
  struct kefu_server_link *link = req->link;
  struct kefu_server_link_reply reply = { 0 };
  g_autofree char *message = NULL;
  g_autoptr(JsonNode) json = NULL;

  req->http = NULL;   /* libre frees it after this */
  if (err || !msg)
    {
      req_fail (req, err ? err : EPROTO, "%s %s: cannot reach kefu-server %s: %s", req->method,
                req->path, link->url, errno_text (err ? err : EPROTO));
      return;
    }

  reply.status = msg->scode;
  if (msg->mb && mbuf_get_left (msg->mb) > 0)
    {
      g_autoptr(JsonParser) parser = json_parser_new ();

      if (json_parser_load_from_data (parser, (const char *) mbuf_buf (msg->mb),
                                      (gssize) mbuf_get_left (msg->mb), NULL))
        json = json_node_copy (json_parser_get_root (parser));
    }
  reply.json = json;

  if (msg->scode == 401 && req->auth && !req->retried)
    {
      /* The token expired or the server forgot it: log in again, once. */
      req->retried = true;
      if (link->token && g_strcmp0 (link->token, req->token_used) == 0)
        g_clear_pointer (&link->token, g_free);
      req_issue (req);
      return;
    }

  reply.err = err_for_status (msg->scode);
  if (reply.err)
    {
      message = g_strdup_printf ("%s %s: kefu-server answered %u %.*s", req->method, req->path,
                                 msg->scode, (int) msg->reason.l, msg->reason.p);
      {
        g_autofree char *detail = NULL;

        reply_from_error_body (&reply, &detail);
        if (detail)
          {
            char *full = g_strdup_printf ("%s: %s", message, detail);

            g_free (message);
            message = full;
          }
      }
    }
  reply.message = message ? message : "";
  req_finish (req, &reply);
}

static void on_login_done (struct kefu_server_link_req *req,
                           const struct kefu_server_link_reply *reply);

static int
req_send_http (struct kefu_server_link_req *req)
{
  struct kefu_server_link *link = req->link;
  g_autofree char *uri = g_strconcat (link->url, req->path, NULL);
  g_autofree char *auth = req->auth && link->token
                          ? g_strdup_printf ("Authorization: Bearer %s\r\n", link->token)
                          : g_strdup ("");
  g_autofree char *key = req->idempotency_key
                         ? g_strdup_printf ("Idempotency-Key: %s\r\n", req->idempotency_key)
                         : g_strdup ("");
  size_t body_len = req->body ? strlen (req->body) : 0;

  g_free (req->token_used);
  req->token_used = g_strdup (link->token);
  return http_request (&req->http, link->http, req->method, uri, on_http_response, NULL, req,
                       "%s%s%s"
                       "Content-Length: %zu\r\n"
                       "\r\n"
                       "%b",
                       auth, key,
                       req->body ? "Content-Type: application/json\r\n" : "",
                       body_len, req->body ? req->body : "", body_len);
}

static void start_login (struct kefu_server_link *link);

/* Sends, or parks the request until there is a token. */
static void
req_issue (struct kefu_server_link_req *req)
{
  struct kefu_server_link *link = req->link;
  int err;

  if (req->auth && !link->token)
    {
      /* While the link waits out a backoff the server is known to be
       * unreachable: say so now rather than at the timeout. */
      if (!link->login && !req->retried && (link->state == KEFU_SERVER_LINK_RECONNECTING ||
                                            link->state == KEFU_SERVER_LINK_AUTH_FAILED))
        {
          req_fail (req, link->state == KEFU_SERVER_LINK_AUTH_FAILED ? EACCES : ENOTCONN,
                    "%s %s: kefu-server %s is not reachable now (%s)", req->method, req->path,
                    link->url, link->last_error[0] ? link->last_error : "not logged in");
          return;
        }
      list_unlink (&req->le);
      list_append (&link->parked, &req->le, req);
      req->parked = true;
      start_login (link);
      return;
    }
  req->parked = false;
  list_unlink (&req->le);
  list_append (&link->reqs, &req->le, req);
  err = req_send_http (req);
  if (err)
    req_fail (req, err, "%s %s: cannot send to kefu-server %s: %s", req->method, req->path,
              link->url, errno_text (err));
}

static struct kefu_server_link_req *
req_new (struct kefu_server_link       *link,
         const char                    *method,
         const char                    *path,
         char                          *body,       /* taken */
         uint32_t                       timeout_ms,
         ReqDone                       *done,
         kefu_server_link_reply_h      *handler,
         void                          *arg)
{
  struct kefu_server_link_req *req = mem_zalloc (sizeof *req, req_destructor);

  if (!req)
    {
      g_free (body);
      return NULL;
    }
  req->link = link;
  req->method = g_strdup (method);
  req->path = g_strdup (path);
  req->body = body;
  req->timeout_ms = timeout_ms ? timeout_ms : link->conf.request_timeout_ms;
  req->auth = true;
  req->done = done;
  req->handler = handler;
  req->arg = arg;
  tmr_init (&req->tmr);
  list_append (&link->reqs, &req->le, req);
  return req;
}

static void
req_start (struct kefu_server_link_req *req)
{
  tmr_start (&req->tmr, req->timeout_ms, on_req_timeout, req);
  req_issue (req);
}

/* --- logging in -------------------------------------------------------------------- */

/* The credentials file: "user:password", or the password alone. */
static gboolean
read_credentials (struct kefu_server_link  *link,
                  char                    **out_user,
                  char                    **out_password)
{
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  char *line, *colon;

  if (!g_file_get_contents (link->password_file, &text, NULL, &error))
    {
      set_error (link, "cannot read the credentials file: %s", error->message);
      return FALSE;
    }
  line = text;
  line[strcspn (line, "\r\n")] = '\0';
  colon = strchr (line, ':');
  if (colon)
    {
      *colon = '\0';
      *out_user = g_strdup (g_strstrip (line));
      *out_password = g_strdup (colon + 1);
    }
  else
    {
      *out_user = g_strdup (link->username);
      *out_password = g_strdup (line);
    }
  if (!**out_user || !**out_password)
    {
      set_error (link, "the credentials file %s has no %s on its first line (write "
                 "\"user:password\")", link->password_file, **out_user ? "password" : "user");
      g_clear_pointer (out_user, g_free);
      g_clear_pointer (out_password, g_free);
      return FALSE;
    }
  return TRUE;
}

static void
fail_parked (struct kefu_server_link *link,
             int                      err)
{
  while (link->parked.head)
    {
      struct kefu_server_link_req *req = link->parked.head->data;

      req_fail (req, err, "%s %s: %s", req->method, req->path, link->last_error);
    }
}

static void
on_refresh_timer (void *arg)
{
  struct kefu_server_link *link = arg;

  /* A new token before the old one runs out; the WebSocket stays. */
  start_login (link);
}

static void
on_login_done (struct kefu_server_link_req         *req,
               const struct kefu_server_link_reply *reply)
{
  struct kefu_server_link *link = req->link;
  JsonObject *body;

  link->login = NULL;
  if (link->stopping)
    return;
  if (reply->err)
    {
      if (reply->status == 401 || reply->status == 403 || reply->status == 429)
        {
          const char *code = reply_error_code (reply);

          set_error (link, "kefu-server refused the login of the service account (%u%s%s): %s; "
                     "check %s", reply->status, code ? " " : "", code ? code : "",
                     reply->message, link->password_file);
          fail_parked (link, EACCES);
          schedule_reconnect (link, EACCES, NULL);
        }
      else
        {
          set_error (link, "%s", reply->message);
          fail_parked (link, reply->err);
          schedule_reconnect (link, reply->err, NULL);
        }
      return;
    }
  if (!reply->json || !JSON_NODE_HOLDS_OBJECT (reply->json) ||
      !kefu_json_get_string (json_node_get_object (reply->json), "token"))
    {
      set_error (link, "the login answer of kefu-server %s has no token", link->url);
      fail_parked (link, EPROTO);
      schedule_reconnect (link, EPROTO, NULL);
      return;
    }
  body = json_node_get_object (reply->json);
  g_free (link->token);
  link->token = g_strdup (kefu_json_get_string (body, "token"));
  if (kefu_json_get_string (body, "username"))
    {
      g_free (link->login_user);
      link->login_user = g_strdup (kefu_json_get_string (body, "username"));
    }
  if (g_strcmp0 (kefu_json_get_string (body, "role"), "service") != 0)
    g_warning ("kefu-server %s: %s logged in with the role %s, not service: it may not be "
               "allowed to publish events or write call records", link->url, link->login_user,
               kefu_json_get_string (body, "role"));
  {
    gint64 expires_ms = 0;

    if (kefu_json_get_string (body, "expires") &&
        kefu_time_parse_ms (kefu_json_get_string (body, "expires"), NULL, &expires_ms))
      {
        gint64 left = expires_ms - kefu_time_now_ms ();

        /* Renew at 90 % of the lifetime; a 401 also renews. */
        if (left > 10000)
          tmr_start (&link->tmr_refresh, (uint64_t) (left - left / 10), on_refresh_timer, link);
      }
  }

  while (link->parked.head)
    req_issue (link->parked.head->data);
  if (!link->ws && link->state != KEFU_SERVER_LINK_CONNECTED)
    connect_now (link);
}

static void
start_login (struct kefu_server_link *link)
{
  g_autofree char *user = NULL;
  g_autofree char *password = NULL;
  g_autoptr(JsonObject) body = NULL;
  g_autoptr(JsonNode) node = NULL;
  struct kefu_server_link_req *req;

  if (link->login || link->stopping)
    return;
  if (!read_credentials (link, &user, &password))
    {
      g_warning ("kefu-server %s: %s", link->url, link->last_error);
      fail_parked (link, EACCES);
      schedule_reconnect (link, EACCES, NULL);
      return;
    }
  body = json_object_new ();
  json_object_set_string_member (body, "username", user);
  json_object_set_string_member (body, "password", password);
  node = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (node, body);
  g_free (link->login_user);
  link->login_user = g_strdup (user);

  req = req_new (link, "POST", "/v1/sessions", json_to_string (node, FALSE),
                 link->conf.request_timeout_ms, on_login_done, NULL, NULL);
  if (!req)
    return;
  req->auth = false;
  link->login = req;
  req_start (req);
}

/* --- the WebSocket ------------------------------------------------------------------- */

static void
stop_sending (struct kefu_server_link *link)
{
  tmr_cancel (&link->tmr_ack);
  link->inflight_req = mem_deref (link->inflight_req);
  g_clear_pointer (&link->inflight, g_ptr_array_unref);
  g_clear_pointer (&link->inflight_op, g_free);
  link->sending = SEND_IDLE;
}

static void
drop_socket (struct kefu_server_link *link)
{
  stop_sending (link);
  link->sync_req = mem_deref (link->sync_req);
  g_clear_pointer (&link->sync_agents, g_hash_table_unref);
  g_clear_pointer (&link->sync_live, g_hash_table_unref);
  link->ws = mem_deref (link->ws);
  if (link->ws_message)
    g_byte_array_set_size (link->ws_message, 0);
}

static void
on_reconnect_timer (void *arg)
{
  struct kefu_server_link *link = arg;

  connect_now (link);
}

static void
schedule_reconnect (struct kefu_server_link *link,
                    int                      err,
                    const char              *why)
{
  uint32_t min = link->conf.reconnect_min_ms;

  if (link->stopping)
    return;
  drop_socket (link);
  if (why)
    set_error (link, "%s", why);
  link->backoff_ms = link->backoff_ms ? MIN (link->backoff_ms * 2, link->conf.reconnect_max_ms)
                                      : min;
  /* A little jitter, so switches do not come back in step. */
  link->backoff_ms += g_random_int_range (0, (gint32) MAX (1u, link->backoff_ms / 8));
  tmr_start (&link->tmr_reconnect, link->backoff_ms, on_reconnect_timer, link);
  set_state (link, err == EACCES ? KEFU_SERVER_LINK_AUTH_FAILED : KEFU_SERVER_LINK_RECONNECTING);
  /* A change of state is logged; a repeat is not, but the health says it. */
  note_growth (link);
}

static void
on_ws_closed_later (void *arg)
{
  struct kefu_server_link *link = arg;

  if (link->stopping)
    {
      link->ws = mem_deref (link->ws);
      if (link->stopped_handler)
        {
          kefu_server_link_done_h *handler = link->stopped_handler;

          link->stopped_handler = NULL;
          tmr_cancel (&link->tmr_stopped);
          handler (0, link->stopped_arg);
        }
      return;
    }
  schedule_reconnect (link, ECONNRESET, NULL);
}

static void
on_ws_close (int   err,
             void *arg)
{
  struct kefu_server_link *link = arg;

  if (!link->stopping)
    {
      if (link->state == KEFU_SERVER_LINK_CONNECTED)
        set_error (link, "the event stream closed (%s)", err ? errno_text (err) : "by the server");
      else
        {
          set_error (link, "the event stream of %s could not be opened (%s)", link->ws_url,
                     errno_text (err ? err : EPROTO));
          /* libre does not say why the upgrade failed; a stale token is
           * the usual reason, so the next try logs in again. */
          g_clear_pointer (&link->token, g_free);
        }
    }
  /* Never free the socket inside its own handler. */
  tmr_start (&link->tmr_ws_closed, 0, on_ws_closed_later, link);
}

static void
on_ws_established (void *arg)
{
  struct kefu_server_link *link = arg;

  link->backoff_ms = 0;
  link->last_error[0] = '\0';
  set_state (link, KEFU_SERVER_LINK_CONNECTED);
  start_agent_sync (link);
  pump_later (link);
}

static void handle_message (struct kefu_server_link *link, const char *text, gsize len);

static void
on_ws_receive (const struct websock_hdr *hdr,
               struct mbuf              *mb,
               void                     *arg)
{
  struct kefu_server_link *link = arg;

  if (hdr->opcode != WEBSOCK_TEXT && hdr->opcode != WEBSOCK_CONT)
    return;
  if (hdr->opcode == WEBSOCK_TEXT)
    g_byte_array_set_size (link->ws_message, 0);
  g_byte_array_append (link->ws_message, mbuf_buf (mb), (guint) mbuf_get_left (mb));
  if (!hdr->fin)
    return;
  handle_message (link, (const char *) link->ws_message->data, link->ws_message->len);
  g_byte_array_set_size (link->ws_message, 0);
}

static void
connect_now (struct kefu_server_link *link)
{
  int err;

  if (link->stopping || link->ws)
    return;
  if (!link->token)
    {
      if (link->state != KEFU_SERVER_LINK_AUTH_FAILED)
        set_state (link, link->state == KEFU_SERVER_LINK_RECONNECTING
                         ? KEFU_SERVER_LINK_RECONNECTING : KEFU_SERVER_LINK_CONNECTING);
      start_login (link);
      return;
    }
  err = websock_connect (&link->ws, link->ws_sock, link->http, link->ws_url, WS_KEEPALIVE_MS,
                         on_ws_established, on_ws_receive, on_ws_close, link,
                         "Authorization: Bearer %s\r\n", link->token);
  if (err)
    {
      link->ws = NULL;
      set_error (link, "cannot open the event stream %s: %s", link->ws_url, errno_text (err));
      schedule_reconnect (link, err, NULL);
    }
}

/* --- sending the spool ---------------------------------------------------------------- */

static void
sync_spool (struct kefu_server_link *link)
{
  g_autoptr(GError) error = NULL;

  if (!kefu_spool_sync (link->spool, &error))
    {
      set_error (link, "%s", error->message);
      g_warning ("%s", error->message);
    }
}

static void
on_fsync_timer (void *arg)
{
  struct kefu_server_link *link = arg;

  sync_spool (link);
}

static void
check_flushes (struct kefu_server_link *link)
{
  struct le *le = link->flushes.head;

  while (le)
    {
      Flush *flush = le->data;

      le = le->next;
      if (kefu_spool_acked (link->spool) >= flush->target || kefu_spool_pending (link->spool) == 0)
        {
          kefu_server_link_done_h *handler = flush->handler;
          void *arg = flush->arg;

          mem_deref (flush);
          handler (0, arg);
        }
    }
}

/* A callback request's handler, when its item got its answer. */
static void
answer_callback_wait (struct kefu_server_link             *link,
                      uint64_t                             seq,
                      const struct kefu_server_link_reply *reply)
{
  for (struct le *le = link->callback_waits.head; le; le = le->next)
    {
      struct kefu_server_link_req *req = le->data;

      if (req->seq == seq)
        {
          req_finish (req, reply);
          return;
        }
    }
}

static void
items_done (struct kefu_server_link *link,
            GPtrArray               *items,
            const char              *why)
{
  g_autoptr(GError) error = NULL;
  KefuSpoolItem *last = g_ptr_array_index (items, items->len - 1);

  if (!kefu_spool_ack (link->spool, last->seq, items->len, &error))
    g_warning ("%s", error->message);
  link->sent += items->len;
  link->send_backoff_ms = 0;
  g_debug ("%u items up to %" G_GUINT64_FORMAT " %s", items->len, (guint64) last->seq, why);
  if (!tmr_isrunning (&link->tmr_fsync))
    tmr_start (&link->tmr_fsync, link->conf.fsync_interval_ms, on_fsync_timer, link);
  note_growth (link);
}

/* FALSE when it could not be set aside: then it waits, rather than being
 * lost or sent again at once. */
static gboolean
reject_item (struct kefu_server_link *link,
             KefuSpoolItem           *item,
             const char              *reason)
{
  g_autoptr(GError) error = NULL;

  g_warning ("kefu-server refused spooled item %" G_GUINT64_FORMAT " (%s) for good: %s; it is "
             "kept in %s/rejected.log", (guint64) item->seq,
             item->kind == KEFU_SPOOL_EVENT ? "event" : item->kind == KEFU_SPOOL_CALL
                                                        ? "call record" : "callback request",
             reason, link->spool_dir);
  if (!kefu_spool_reject (link->spool, item, reason, &error))
    {
      set_error (link, "%s", error->message);
      g_warning ("%s; the item stays spooled", error->message);
      return FALSE;
    }
  link->rejected++;
  return TRUE;
}

static void
on_send_retry (void *arg)
{
  struct kefu_server_link *link = arg;

  pump_later (link);
}

static void
retry_sending_later (struct kefu_server_link *link)
{
  stop_sending (link);
  link->send_backoff_ms = link->send_backoff_ms
                          ? MIN (link->send_backoff_ms * 2, link->conf.reconnect_max_ms)
                          : link->conf.reconnect_min_ms;
  tmr_start (&link->tmr_send_retry, link->send_backoff_ms, on_send_retry, link);
}

static void
on_record_done (struct kefu_server_link_req         *req,
                const struct kefu_server_link_reply *reply)
{
  struct kefu_server_link *link = req->link;
  g_autoptr(GPtrArray) items = g_steal_pointer (&link->inflight);
  KefuSpoolItem *item;
  const char *code = reply_error_code (reply);

  link->inflight_req = NULL;
  link->sending = SEND_IDLE;
  if (!items || items->len == 0)
    return;
  item = g_ptr_array_index (items, 0);

  if (!reply->err || (reply->status == 409 && g_strcmp0 (code, "duplicate") == 0))
    {
      if (reply->err)
        g_debug ("item %" G_GUINT64_FORMAT ": kefu-server has it already (%s)",
                 (guint64) item->seq, reply->message);
      items_done (link, items, "stored");
      if (item->kind == KEFU_SPOOL_CALLBACK)
        answer_callback_wait (link, item->seq, reply);
      check_flushes (link);
      pump_later (link);
      return;
    }
  if (reply->err == EINVAL || reply->status == 404 || reply->status == 405)
    {
      if (!reject_item (link, item, reply->message))
        {
          retry_sending_later (link);
          return;
        }
      if (item->kind == KEFU_SPOOL_CALLBACK)
        answer_callback_wait (link, item->seq, reply);
      check_flushes (link);
      pump_later (link);
      return;
    }
  /* Unreachable, 5xx, 401 twice, ...: the item waits its turn again. */
  set_error (link, "%s", reply->message);
  g_message ("%s; item %" G_GUINT64_FORMAT " stays spooled", reply->message, (guint64) item->seq);
  retry_sending_later (link);
}

static void
on_ack_timeout (void *arg)
{
  struct kefu_server_link *link = arg;

  /* No ack: the socket may be dead without knowing it.  The batch is
   * resent on the next socket under the same op_id. */
  schedule_reconnect (link, ETIMEDOUT, "no acknowledgement of the last batch of events in time");
}

static void
send_batch (struct kefu_server_link *link,
            GPtrArray               *items,
            gboolean                 recorded)
{
  KefuSpoolItem *first = g_ptr_array_index (items, 0);
  KefuSpoolItem *last = g_ptr_array_index (items, items->len - 1);
  g_autoptr(GString) text = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  int err;

  if (!recorded && !kefu_spool_mark_batch (link->spool, first->seq, last->seq, &error))
    {
      set_error (link, "%s", error->message);
      g_warning ("%s", error->message);
      retry_sending_later (link);
      return;
    }
  link->inflight_op = g_strdup_printf ("%s-%" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT,
                                       kefu_spool_get_id (link->spool), (guint64) first->seq,
                                       (guint64) last->seq);
  g_string_append_printf (text, "{\"op_id\":\"%s\",\"events\":[", link->inflight_op);
  for (guint i = 0; i < items->len; i++)
    {
      if (i)
        g_string_append_c (text, ',');
      g_string_append (text, ((KefuSpoolItem *) g_ptr_array_index (items, i))->payload);
    }
  g_string_append (text, "]}");
  link->inflight = g_ptr_array_ref (items);
  link->sending = SEND_BATCH;
  err = websock_send (link->ws, WEBSOCK_TEXT, "%b", text->str, text->len);
  if (err)
    {
      schedule_reconnect (link, err, "cannot send on the event stream");
      return;
    }
  tmr_start (&link->tmr_ack, link->conf.ack_timeout_ms, on_ack_timeout, link);
}

static void
send_record (struct kefu_server_link *link,
             GPtrArray               *items)
{
  KefuSpoolItem *item = g_ptr_array_index (items, 0);
  struct kefu_server_link_req *req;

  req = req_new (link, "POST", item->kind == KEFU_SPOOL_CALL ? "/v1/calls" : "/v1/callbacks",
                 g_strdup (item->payload), link->conf.request_timeout_ms, on_record_done, NULL,
                 NULL);
  if (!req)
    return;
  req->idempotency_key = g_strdup_printf ("%s-%" G_GUINT64_FORMAT,
                                          kefu_spool_get_id (link->spool), (guint64) item->seq);
  req->reqp = &link->inflight_req;
  link->inflight_req = req;
  link->inflight = g_ptr_array_ref (items);
  link->sending = SEND_HTTP;
  req_start (req);
}

static void
pump (struct kefu_server_link *link)
{
  g_autoptr(GPtrArray) items = NULL;
  g_autoptr(GError) error = NULL;
  gboolean recorded = FALSE;
  KefuSpoolItem *first;
  gboolean solo;

  if (link->stopping || link->state != KEFU_SERVER_LINK_CONNECTED || !link->ws ||
      link->sending != SEND_IDLE || tmr_isrunning (&link->tmr_send_retry))
    return;

  solo = link->solo_until > kefu_spool_acked (link->spool);
  items = kefu_spool_peek (link->spool, solo ? 1 : link->conf.batch_max, BATCH_MAX_BYTES,
                           &recorded, &error);
  if (!items)
    {
      set_error (link, "%s", error->message);
      g_warning ("Cannot read the spool: %s", error->message);
      retry_sending_later (link);
      return;
    }
  if (items->len == 0)
    {
      check_flushes (link);
      note_growth (link);
      return;
    }
  first = g_ptr_array_index (items, 0);
  if (recorded && solo && items->len > 1)
    {
      /* A batch the server refused: resend its events one by one, so only
       * the bad one is set aside. */
      g_ptr_array_set_size (items, 1);
      recorded = FALSE;
    }
  if (first->kind == KEFU_SPOOL_EVENT)
    send_batch (link, items, recorded);
  else
    send_record (link, items);
}

static void
on_pump_timer (void *arg)
{
  pump (arg);
}

static void
pump_later (struct kefu_server_link *link)
{
  if (!tmr_isrunning (&link->tmr_pump))
    tmr_start (&link->tmr_pump, 0, on_pump_timer, link);
}

static void
on_batch_answer (struct kefu_server_link *link,
                 JsonObject              *answer)
{
  g_autoptr(GPtrArray) items = NULL;
  const char *op = kefu_json_get_string (answer, "ack");

  if (link->sending != SEND_BATCH)
    return;
  if (op && g_strcmp0 (op, link->inflight_op) != 0)
    {
      g_debug ("ack of %s while %s is in flight: ignored", op, link->inflight_op);
      return;
    }
  tmr_cancel (&link->tmr_ack);
  items = g_steal_pointer (&link->inflight);
  g_clear_pointer (&link->inflight_op, g_free);
  link->sending = SEND_IDLE;

  if (json_object_has_member (answer, "error"))
    {
      JsonObject *error = json_object_get_object_member (answer, "error");
      const char *code = error ? kefu_json_get_string (error, "code") : NULL;
      const char *message = error ? kefu_json_get_string (error, "message") : NULL;

      if (g_strcmp0 (code, "invalid_event") == 0)
        {
          KefuSpoolItem *last = g_ptr_array_index (items, items->len - 1);

          if (items->len > 1)
            {
              g_message ("kefu-server refused a batch of %u events (%s); sending them one by "
                         "one to find the bad one", items->len, message);
              link->solo_until = last->seq;
            }
          else
            {
              g_autofree char *reason = g_strdup_printf ("%s: %s", code, message);

              if (!reject_item (link, last, reason))
                {
                  retry_sending_later (link);
                  return;
                }
              check_flushes (link);
            }
          pump_later (link);
          return;
        }
      set_error (link, "kefu-server did not log the events: %s (%s)", message ? message : "?",
                 code ? code : "no code");
      g_warning ("%s; they stay spooled", link->last_error);
      retry_sending_later (link);
      return;
    }
  items_done (link, items, json_object_get_boolean_member_with_default (answer, "replayed", FALSE)
                           ? "acknowledged (already logged: a retry)" : "acknowledged");
  check_flushes (link);
  pump_later (link);
}

/* --- agents --------------------------------------------------------------------------- */

static Agent *
agent_from_json (JsonObject *object)
{
  Agent *agent;
  const char *username = kefu_json_get_string (object, "username");

  if (!username)
    return NULL;
  agent = g_new0 (Agent, 1);
  agent->username = g_strdup (username);
  agent->role = g_strdup (kefu_json_get_string (object, "role"));
  agent->extension = g_strdup (kefu_json_get_string (object, "extension") ?: "");
  agent->state = g_strdup (kefu_json_get_string (object, "state") ?: "logged_out");
  agent->reason = g_strdup (kefu_json_get_string (object, "state_reason"));
  agent->skills = g_array_new (FALSE, TRUE, sizeof (struct kefu_server_link_skill));
  if (json_object_has_member (object, "skills") &&
      JSON_NODE_HOLDS_OBJECT (json_object_get_member (object, "skills")))
    {
      JsonObject *skills = json_object_get_object_member (object, "skills");
      g_autoptr(GList) names = json_object_get_members (skills);

      names = g_list_sort (names, (GCompareFunc) g_strcmp0);
      for (GList *l = names; l; l = l->next)
        {
          struct kefu_server_link_skill skill = {
            g_strdup (l->data), (int) json_object_get_int_member (skills, l->data),
          };

          g_array_append_val (agent->skills, skill);
        }
    }
  return agent;
}

static void
deliver_agent (struct kefu_server_link *link,
               Agent                   *agent,
               const char              *why)
{
  struct kefu_server_link_agent out = {
    .why = why,
    .username = agent->username,
    .role = agent->role,
    .extension = agent->extension,
    .state = agent->state,
    .reason = agent->reason,
    .skills = (const struct kefu_server_link_skill *) agent->skills->data,
    .n_skills = agent->skills->len,
  };

  if (link->handlers.agent)
    link->handlers.agent (&out, link->arg);
}

static void
finish_agent_sync (struct kefu_server_link *link)
{
  g_autoptr(GHashTable) old = g_steal_pointer (&link->agents);
  g_autoptr(GHashTable) live = g_steal_pointer (&link->sync_live);
  g_autoptr(GList) names = NULL;
  g_autoptr(GList) gone = NULL;

  link->agents = g_steal_pointer (&link->sync_agents);
  /* A state set while the list was read may be newer than the list. */
  if (live)
    {
      GHashTableIter iter;
      gpointer key, value;

      g_hash_table_iter_init (&iter, live);
      while (g_hash_table_iter_next (&iter, &key, &value))
        {
          Agent *agent = g_hash_table_lookup (link->agents, key);
          LiveState *state = value;

          if (!agent)
            continue;
          g_free (agent->state);
          g_free (agent->reason);
          agent->state = g_strdup (state->state);
          agent->reason = g_strdup (state->reason);
        }
    }

  names = g_list_sort (g_hash_table_get_keys (link->agents), (GCompareFunc) g_strcmp0);
  g_debug ("%u agents from kefu-server", g_hash_table_size (link->agents));
  for (GList *l = names; l; l = l->next)
    deliver_agent (link, g_hash_table_lookup (link->agents, l->data), "sync");
  if (old)
    {
      gone = g_list_sort (g_hash_table_get_keys (old), (GCompareFunc) g_strcmp0);
      for (GList *l = gone; l; l = l->next)
        if (!g_hash_table_contains (link->agents, l->data))
          deliver_agent (link, g_hash_table_lookup (old, l->data), "removed");
    }
  if (link->resync_again)
    {
      link->resync_again = false;
      start_agent_sync (link);
    }
}

static void request_agents_page (struct kefu_server_link *link, guint offset);

static void
on_resync_timer (void *arg)
{
  start_agent_sync (arg);
}

static void
on_agents_page (struct kefu_server_link_req         *req,
                const struct kefu_server_link_reply *reply)
{
  struct kefu_server_link *link = req->link;
  JsonObject *body;
  JsonArray *items;
  JsonNode *next;

  link->sync_req = NULL;
  if (!link->sync_agents)
    return;
  if (reply->err || !reply->json || !JSON_NODE_HOLDS_OBJECT (reply->json) ||
      !json_object_has_member (json_node_get_object (reply->json), "items"))
    {
      g_warning ("Cannot read the agents from kefu-server: %s",
                 reply->err ? reply->message : "no list of items in the answer");
      g_clear_pointer (&link->sync_agents, g_hash_table_unref);
      g_clear_pointer (&link->sync_live, g_hash_table_unref);
      /* Soon again, while connected. */
      tmr_start (&link->tmr_resync, MAX (link->conf.reconnect_min_ms, 1000u), on_resync_timer,
                 link);
      return;
    }
  body = json_node_get_object (reply->json);
  items = json_object_get_array_member (body, "items");
  for (guint i = 0; items && i < json_array_get_length (items); i++)
    {
      JsonNode *node = json_array_get_element (items, i);
      Agent *agent;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        continue;
      if (g_strcmp0 (kefu_json_get_string (json_node_get_object (node), "role"), "service") == 0)
        continue;
      agent = agent_from_json (json_node_get_object (node));
      if (agent)
        g_hash_table_replace (link->sync_agents, agent->username, agent);
    }
  next = json_object_get_member (body, "next_offset");
  if (next && JSON_NODE_HOLDS_VALUE (next) && json_node_get_int (next) > 0)
    {
      request_agents_page (link, (guint) json_node_get_int (next));
      return;
    }
  finish_agent_sync (link);
}

static void
request_agents_page (struct kefu_server_link *link,
                     guint                    offset)
{
  g_autofree char *path = g_strdup_printf ("/v1/agents?limit=%u&offset=%u", AGENTS_PAGE, offset);

  link->sync_req = req_new (link, "GET", path, NULL, 0, on_agents_page, NULL, NULL);
  if (!link->sync_req)
    return;
  link->sync_req->reqp = &link->sync_req;
  req_start (link->sync_req);
}

static void
start_agent_sync (struct kefu_server_link *link)
{
  if (link->stopping)
    return;
  tmr_start (&link->tmr_resync, link->conf.agent_resync_ms, on_resync_timer, link);
  if (link->sync_agents)
    {
      link->resync_again = true;
      return;
    }
  link->sync_agents = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, agent_free);
  link->sync_live = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, live_state_free);
  request_agents_page (link, 0);
}

static void
on_agent_state_event (struct kefu_server_link *link,
                      JsonObject              *event)
{
  const char *username = kefu_json_get_string (event, "agent");
  JsonObject *data = json_object_has_member (event, "data") &&
                     JSON_NODE_HOLDS_OBJECT (json_object_get_member (event, "data"))
                     ? json_object_get_object_member (event, "data") : NULL;
  const char *state = data ? kefu_json_get_string (data, "state") : NULL;
  const char *reason = data ? kefu_json_get_string (data, "reason") : NULL;
  const char *by = data ? kefu_json_get_string (data, "by") : NULL;
  Agent *agent;

  if (!username || !state)
    return;
  /* Our own events coming back: the switch knows already. */
  if (by && link->login_user && g_str_equal (by, link->login_user))
    return;
  if (link->sync_live)
    {
      LiveState *live = g_new0 (LiveState, 1);

      live->state = g_strdup (state);
      live->reason = g_strdup (reason);
      g_hash_table_replace (link->sync_live, g_strdup (username), live);
    }
  agent = link->agents ? g_hash_table_lookup (link->agents, username) : NULL;
  if (!agent)
    {
      /* Someone new: the list brings their extension and skills. */
      start_agent_sync (link);
      return;
    }
  g_free (agent->state);
  g_free (agent->reason);
  agent->state = g_strdup (state);
  agent->reason = g_strdup (reason);
  deliver_agent (link, agent, "state");
}

/* An administrator changed an agent: extension, skills, SIP password. */
static void
on_agent_updated (struct kefu_server_link *link,
                  JsonObject              *notice)
{
  const char *username = kefu_json_get_string (notice, "agent");

  g_debug ("agent %s changed at kefu-server: reading the agents again", username ?: "?");
  /* A read under way may have been answered before the change: it is
   * read once more after it. */
  start_agent_sync (link);
  if (link->handlers.agents_changed)
    link->handlers.agents_changed (username, link->arg);
}

static void
handle_message (struct kefu_server_link *link,
                const char              *text,
                gsize                    len)
{
  g_autoptr(JsonParser) parser = NULL;
  JsonObject *object;
  const char *type;

  /* Every event logged comes by, the switch's own too: only agent.state,
   * agent.updated and the answers to our batches (which have no type)
   * are read. */
  if (g_strstr_len (text, (gssize) len, "\"type\":") &&
      !g_strstr_len (text, (gssize) len, "agent.state") &&
      !g_strstr_len (text, (gssize) len, "agent.updated"))
    return;
  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, text, (gssize) len, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_debug ("not JSON on the event stream: %.*s", (int) MIN (len, 200), text);
      return;
    }
  object = json_node_get_object (json_parser_get_root (parser));
  if (json_object_has_member (object, "type"))
    {
      type = kefu_json_get_string (object, "type");
      if (g_strcmp0 (type, "agent.state") == 0)
        on_agent_state_event (link, object);
      else if (g_strcmp0 (type, "agent.updated") == 0)
        on_agent_updated (link, object);
      return;
    }
  if (json_object_has_member (object, "ack") || json_object_has_member (object, "ids") ||
      json_object_has_member (object, "error"))
    on_batch_answer (link, object);
}

/* --- queueing ------------------------------------------------------------------------ */

static int
spool_item (struct kefu_server_link *link,
            KefuSpoolKind            kind,
            JsonObject              *object,
            uint64_t                *out_seq)
{
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  json_node_set_object (node, object);
  text = json_to_string (node, FALSE);
  if (!kefu_spool_append (link->spool, kind, text, out_seq, &error))
    {
      set_error (link, "%s", error->message);
      g_warning ("Not queued for kefu-server: %s", error->message);
      return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE) ? ENOSPC : EIO;
    }
  if (!tmr_isrunning (&link->tmr_fsync))
    tmr_start (&link->tmr_fsync, link->conf.fsync_interval_ms, on_fsync_timer, link);
  note_growth (link);
  pump_later (link);
  return 0;
}

/* What kefu-server's store checks beyond the record's fields. */
static const char *
event_problem (JsonObject *event)
{
  const char *type = kefu_json_get_string (event, "type");
  JsonObject *data = json_object_has_member (event, "data") &&
                     JSON_NODE_HOLDS_OBJECT (json_object_get_member (event, "data"))
                     ? json_object_get_object_member (event, "data") : NULL;

  if (g_str_has_prefix (type, "call.") && !kefu_json_get_string (event, "call_id"))
    return "a call event needs call_id";
  if (g_str_equal (type, "call.offered") && !kefu_json_get_string (event, "queue"))
    return "call.offered needs queue";
  if (g_str_equal (type, "agent.state"))
    {
      const char *state = data ? kefu_json_get_string (data, "state") : NULL;

      if (!kefu_json_get_string (event, "agent"))
        return "agent.state needs agent";
      if (!state || !kefu_strv_contains_choice (kefu_agent_states, state))
        return "agent.state needs data.state, one of kefu_agent_states";
    }
  return NULL;
}

int
kefu_server_link_event (struct kefu_server_link *link,
                        JsonObject              *event)
{
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(JsonObject) valid = NULL;
  g_autoptr(GError) error = NULL;
  const char *problem;

  if (!link || !event)
    return EINVAL;
  node = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (node, event);
  valid = kefu_record_validate (&kefu_record_event, node, KEFU_RECORD_CREATE, NULL, NULL, &error);
  if (!valid)
    {
      g_warning ("Event %s not queued for kefu-server, which would refuse it: %s",
                 kefu_json_get_string (event, "type") ?: "(no type)", error->message);
      return EINVAL;
    }
  problem = event_problem (valid);
  if (problem)
    {
      g_warning ("Event %s not queued for kefu-server, which would refuse it: %s",
                 kefu_json_get_string (valid, "type"), problem);
      return EINVAL;
    }
  if (!json_object_has_member (valid, "ts"))
    {
      g_autofree char *now = kefu_time_format_ms (kefu_time_now_ms ());

      json_object_set_string_member (valid, "ts", now);
    }
  /* Our agent.state events say who made them, so the echo is recognised. */
  if (g_str_equal (kefu_json_get_string (valid, "type"), "agent.state"))
    {
      JsonObject *data = json_object_get_object_member (valid, "data");

      if (!kefu_json_get_string (data, "by"))
        json_object_set_string_member (data, "by", link->login_user);
    }
  return spool_item (link, KEFU_SPOOL_EVENT, valid, NULL);
}

int
kefu_server_link_call_record (struct kefu_server_link *link,
                              JsonObject              *record)
{
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(JsonObject) valid = NULL;
  g_autoptr(GError) error = NULL;

  if (!link || !record)
    return EINVAL;
  node = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (node, record);
  valid = kefu_record_validate (&kefu_record_call, node, KEFU_RECORD_CREATE, NULL, NULL, &error);
  if (!valid)
    {
      g_warning ("Call record %s not queued for kefu-server, which would refuse it: %s",
                 kefu_json_get_string (record, "id") ?: "(no id)", error->message);
      return EINVAL;
    }
  return spool_item (link, KEFU_SPOOL_CALL, valid, NULL);
}

static void
on_callback_wait_timeout (void *arg)
{
  struct kefu_server_link_req *req = arg;

  req_fail (req, ETIMEDOUT, "kefu-server %s has not confirmed the callback request within %u ms; "
            "it stays spooled and will be filed when the server can be reached", req->link->url,
            req->timeout_ms);
}

int
kefu_server_link_callback (struct kefu_server_link      *link,
                           JsonObject                   *request,
                           uint32_t                      timeout_ms,
                           kefu_server_link_reply_h     *handler,
                           void                         *arg,
                           struct kefu_server_link_req **reqp)
{
  struct kefu_server_link_req *req;
  uint64_t seq = 0;
  int err;

  if (!link || !request)
    return EINVAL;
  {
    g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);
    g_autoptr(JsonObject) valid = NULL;
    g_autoptr(GError) error = NULL;

    json_node_set_object (node, request);
    valid = kefu_record_validate (&kefu_record_callback, node, KEFU_RECORD_CREATE, NULL, NULL,
                                  &error);
    if (!valid)
      {
        g_warning ("Callback request of %s not queued for kefu-server, which would refuse it: %s",
                   kefu_json_get_string (request, "number") ?: "(no number)", error->message);
        return EINVAL;
      }
    err = spool_item (link, KEFU_SPOOL_CALLBACK, valid, &seq);
  }
  if (err || !handler)
    return err;
  req = req_new (link, "POST", "/v1/callbacks", NULL, timeout_ms, NULL, handler, arg);
  if (!req)
    return 0;
  req->seq = seq;
  list_unlink (&req->le);
  list_append (&link->callback_waits, &req->le, req);
  tmr_start (&req->tmr, req->timeout_ms, on_callback_wait_timeout, req);
  if (reqp)
    {
      req->reqp = reqp;
      *reqp = req;
    }
  return 0;
}

/* --- requests ------------------------------------------------------------------------- */

static void
on_req_start (void *arg)
{
  req_start (arg);
}

static int
start_public (struct kefu_server_link       *link,
              const char                    *method,
              const char                    *path,
              char                          *body,
              uint32_t                       timeout_ms,
              ReqDone                       *done,
              kefu_server_link_reply_h      *handler,
              void                          *arg,
              struct kefu_server_link_req  **reqp)
{
  struct kefu_server_link_req *req;

  if (!link || !handler || link->stopping)
    {
      g_free (body);
      return link && link->stopping ? ESHUTDOWN : EINVAL;
    }
  req = req_new (link, method, path, body, timeout_ms, done, handler, arg);
  if (!req)
    return ENOMEM;
  if (reqp)
    {
      req->reqp = reqp;
      *reqp = req;
    }
  /* Handlers never run inside the call that started them. */
  tmr_start (&req->tmr, 0, on_req_start, req);
  return 0;
}

int
kefu_server_link_request (struct kefu_server_link      *link,
                          const char                   *method,
                          const char                   *path,
                          JsonNode                     *body,
                          uint32_t                      timeout_ms,
                          kefu_server_link_reply_h     *handler,
                          void                         *arg,
                          struct kefu_server_link_req **reqp)
{
  if (!method || !path || path[0] != '/')
    return EINVAL;
  return start_public (link, method, path, body ? json_to_string (body, FALSE) : NULL, timeout_ms,
                       NULL, handler, arg, reqp);
}

int
kefu_server_link_sip_credentials (struct kefu_server_link      *link,
                                  uint32_t                      timeout_ms,
                                  kefu_server_link_reply_h     *handler,
                                  void                         *arg,
                                  struct kefu_server_link_req **reqp)
{
  return start_public (link, "GET", "/v1/sip/credentials", NULL, timeout_ms, NULL, handler, arg,
                       reqp);
}

/* A customer list to its first customer (or none). */
static void
on_customer_list (struct kefu_server_link_req         *req,
                  const struct kefu_server_link_reply *reply)
{
  struct kefu_server_link_reply first = *reply;
  JsonArray *items = NULL;

  if (!reply->err)
    {
      if (reply->json && JSON_NODE_HOLDS_OBJECT (reply->json) &&
          json_object_has_member (json_node_get_object (reply->json), "items"))
        items = json_object_get_array_member (json_node_get_object (reply->json), "items");
      if (!items)
        {
          first.err = EPROTO;
          first.message = "kefu-server's customer list has no items";
          first.json = NULL;
        }
      else
        {
          first.json = json_array_get_length (items) > 0 ? json_array_get_element (items, 0) : NULL;
        }
    }
  req->handler (&first, req->arg);
}

static int
customer_lookup (struct kefu_server_link      *link,
                 const char                   *parameter,
                 const char                   *value,
                 uint32_t                      timeout_ms,
                 kefu_server_link_reply_h     *handler,
                 void                         *arg,
                 struct kefu_server_link_req **reqp)
{
  g_autofree char *escaped = NULL;
  g_autofree char *path = NULL;

  if (!value || !*value)
    return EINVAL;
  escaped = g_uri_escape_string (value, NULL, FALSE);
  path = g_strdup_printf ("/v1/customers?%s=%s&limit=1", parameter, escaped);
  return start_public (link, "GET", path, NULL, timeout_ms, on_customer_list, handler, arg, reqp);
}

int
kefu_server_link_customer_by_phone (struct kefu_server_link      *link,
                                    const char                   *phone,
                                    uint32_t                      timeout_ms,
                                    kefu_server_link_reply_h     *handler,
                                    void                         *arg,
                                    struct kefu_server_link_req **reqp)
{
  return customer_lookup (link, "phone", phone, timeout_ms, handler, arg, reqp);
}

int
kefu_server_link_customer_by_account (struct kefu_server_link      *link,
                                      const char                   *account_number,
                                      uint32_t                      timeout_ms,
                                      kefu_server_link_reply_h     *handler,
                                      void                         *arg,
                                      struct kefu_server_link_req **reqp)
{
  return customer_lookup (link, "account_number", account_number, timeout_ms, handler, arg, reqp);
}

/* --- flush and shutdown ----------------------------------------------------------------- */

static void
flush_destructor (void *data)
{
  Flush *flush = data;

  list_unlink (&flush->le);
  tmr_cancel (&flush->tmr);
}

static void
on_flush_timeout (void *arg)
{
  Flush *flush = arg;
  kefu_server_link_done_h *handler = flush->handler;
  void *handler_arg = flush->arg;

  mem_deref (flush);
  handler (ETIMEDOUT, handler_arg);
}

static void
on_flush_ready (void *arg)
{
  Flush *flush = arg;
  kefu_server_link_done_h *handler = flush->handler;
  void *handler_arg = flush->arg;

  mem_deref (flush);
  handler (0, handler_arg);
}

int
kefu_server_link_flush (struct kefu_server_link *link,
                        uint32_t                 timeout_ms,
                        kefu_server_link_done_h *handler,
                        void                    *arg)
{
  Flush *flush;

  if (!link || !handler)
    return EINVAL;
  flush = mem_zalloc (sizeof *flush, flush_destructor);
  if (!flush)
    return ENOMEM;
  flush->link = link;
  flush->target = kefu_spool_last_seq (link->spool);
  flush->handler = handler;
  flush->arg = arg;
  tmr_init (&flush->tmr);
  list_append (&link->flushes, &flush->le, flush);
  /* Already done: answered from the loop, not from inside this call. */
  if (kefu_spool_pending (link->spool) == 0 || kefu_spool_acked (link->spool) >= flush->target)
    tmr_start (&flush->tmr, 0, on_flush_ready, flush);
  else
    tmr_start (&flush->tmr, timeout_ms, on_flush_timeout, flush);
  return 0;
}

static void
on_stopped_timeout (void *arg)
{
  struct kefu_server_link *link = arg;
  kefu_server_link_done_h *handler = link->stopped_handler;

  link->stopped_handler = NULL;
  if (handler)
    handler (link->ws ? ETIMEDOUT : 0, link->stopped_arg);
}

void
kefu_server_link_shutdown (struct kefu_server_link *link,
                           kefu_server_link_done_h *handler,
                           void                    *arg)
{
  if (!link)
    return;
  link->stopping = true;
  link->stopped_handler = handler;
  link->stopped_arg = arg;
  stop_sending (link);
  tmr_cancel (&link->tmr_reconnect);
  tmr_cancel (&link->tmr_refresh);
  tmr_cancel (&link->tmr_resync);
  tmr_cancel (&link->tmr_send_retry);
  tmr_cancel (&link->tmr_pump);
  link->sync_req = mem_deref (link->sync_req);
  link->login = mem_deref (link->login);
  sync_spool (link);
  set_state (link, KEFU_SERVER_LINK_STOPPED);
  if (link->ws && websock_close (link->ws, WEBSOCK_GOING_AWAY, "switch stopping") == 0)
    {
      /* on_ws_close answers once the server closed too. */
      tmr_start (&link->tmr_stopped, SHUTDOWN_WAIT_MS, on_stopped_timeout, link);
      return;
    }
  link->ws = mem_deref (link->ws);
  tmr_start (&link->tmr_stopped, 0, on_stopped_timeout, link);
}

/* --- lifetime ----------------------------------------------------------------------------- */

static void
free_list_reqs (struct list *list)
{
  while (list->head)
    {
      struct kefu_server_link_req *req = list->head->data;

      list_unlink (&req->le);
      if (req->reqp)
        *req->reqp = NULL;
      mem_deref (req);
    }
}

static void
link_destructor (void *data)
{
  struct kefu_server_link *link = data;

  link->stopping = true;
  tmr_cancel (&link->tmr_fsync);
  tmr_cancel (&link->tmr_reconnect);
  tmr_cancel (&link->tmr_refresh);
  tmr_cancel (&link->tmr_ws_closed);
  tmr_cancel (&link->tmr_ack);
  tmr_cancel (&link->tmr_pump);
  tmr_cancel (&link->tmr_send_retry);
  tmr_cancel (&link->tmr_resync);
  tmr_cancel (&link->tmr_stopped);
  link->inflight_req = NULL;
  link->sync_req = NULL;
  link->login = NULL;
  free_list_reqs (&link->reqs);
  free_list_reqs (&link->parked);
  free_list_reqs (&link->callback_waits);
  list_flush (&link->flushes);
  g_clear_pointer (&link->inflight, g_ptr_array_unref);
  g_clear_pointer (&link->inflight_op, g_free);
  link->ws = mem_deref (link->ws);
  link->ws_sock = mem_deref (link->ws_sock);
  link->http = mem_deref (link->http);
  link->dnsc = mem_deref (link->dnsc);
  g_clear_pointer (&link->spool, kefu_spool_free);
  g_clear_pointer (&link->ws_message, g_byte_array_unref);
  g_clear_pointer (&link->agents, g_hash_table_unref);
  g_clear_pointer (&link->sync_agents, g_hash_table_unref);
  g_clear_pointer (&link->sync_live, g_hash_table_unref);
  g_free (link->url);
  g_free (link->ws_url);
  g_free (link->username);
  g_free (link->password_file);
  g_free (link->spool_dir);
  g_free (link->token);
  g_free (link->login_user);
}

/* http://host[:port][/] -> base URL without the slash; localhost as
 * 127.0.0.1, since libre's resolver asks DNS only. */
static char *
normalise_url (const char *url)
{
  g_autoptr(GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  const char *scheme, *host;
  int port;

  if (!uri)
    return NULL;
  scheme = g_uri_get_scheme (uri);
  host = g_uri_get_host (uri);
  port = g_uri_get_port (uri);
  if (!host || !*host || (g_strcmp0 (scheme, "http") != 0 && g_strcmp0 (scheme, "https") != 0))
    return NULL;
  if (g_str_equal (host, "localhost"))
    host = "127.0.0.1";
  if (strchr (host, ':'))
    return port > 0 ? g_strdup_printf ("%s://[%s]:%d", scheme, host, port)
                    : g_strdup_printf ("%s://[%s]", scheme, host);
  return port > 0 ? g_strdup_printf ("%s://%s:%d", scheme, host, port)
                  : g_strdup_printf ("%s://%s", scheme, host);
}

static int
make_dns_client (struct kefu_server_link *link)
{
  struct sa servers[4];
  uint32_t n = G_N_ELEMENTS (servers);
  char domain[64] = "";

  /* The HTTP client wants a resolver even for addresses; without a
   * resolv.conf, names just cannot be looked up. */
  if (dns_srv_get (domain, sizeof domain, servers, &n) != 0 || n == 0)
    {
      sa_set_str (&servers[0], "127.0.0.1", 53);
      n = 1;
    }
  return dnsc_alloc (&link->dnsc, NULL, servers, n);
}

int
kefu_server_link_alloc (struct kefu_server_link               **linkp,
                        const struct kefu_server_link_conf      *conf,
                        const struct kefu_server_link_handlers  *handlers,
                        void                                    *arg)
{
  struct kefu_server_link *link;
  g_autoptr(GPtrArray) damage = NULL;
  g_autoptr(GError) error = NULL;
  int err;

  if (!linkp || !conf || !conf->url || !conf->password_file || !conf->spool_dir)
    {
      g_warning ("The kefu-server link needs the server URL, the credentials file and the "
                 "spool directory");
      return EINVAL;
    }
  link = mem_zalloc (sizeof *link, link_destructor);
  if (!link)
    return ENOMEM;
  link->conf = *conf;
  link->url = normalise_url (conf->url);
  if (!link->url)
    {
      g_warning ("The kefu-server URL “%s” is not an http:// or https:// address", conf->url);
      mem_deref (link);
      return EINVAL;
    }
  link->ws_url = g_strconcat (link->url, "/v1/events/stream", NULL);
  link->username = g_strdup (conf->username ? conf->username : "service");
  link->password_file = g_strdup (conf->password_file);
  link->spool_dir = g_strdup (conf->spool_dir);
  link->conf.url = link->url;
  link->conf.username = link->username;
  link->conf.password_file = link->password_file;
  link->conf.spool_dir = link->spool_dir;
#define DEFAULT(field, value) if (!link->conf.field) link->conf.field = (value)
  DEFAULT (request_timeout_ms, DEFAULT_REQUEST_TIMEOUT_MS);
  DEFAULT (reconnect_min_ms, DEFAULT_RECONNECT_MIN_MS);
  DEFAULT (reconnect_max_ms, DEFAULT_RECONNECT_MAX_MS);
  DEFAULT (ack_timeout_ms, DEFAULT_ACK_TIMEOUT_MS);
  DEFAULT (fsync_interval_ms, DEFAULT_FSYNC_MS);
  DEFAULT (batch_max, DEFAULT_BATCH_MAX);
  DEFAULT (agent_resync_ms, DEFAULT_RESYNC_MS);
#undef DEFAULT
  link->conf.batch_max = MIN (link->conf.batch_max, 10000u);
  link->conf.reconnect_max_ms = MAX (link->conf.reconnect_max_ms, link->conf.reconnect_min_ms);
  if (handlers)
    link->handlers = *handlers;
  link->arg = arg;
  link->growth_log_at = GROWTH_FIRST_LOG;
  {
    g_autofree char *user = NULL;
    g_autofree char *password = NULL;

    /* Who we will be, for our own events' "by"; read again at each login. */
    link->login_user = read_credentials (link, &user, &password) ? g_steal_pointer (&user)
                                                                  : g_strdup (link->username);
    link->last_error[0] = '\0';
  }
  link->ws_message = g_byte_array_new ();
  link->state = KEFU_SERVER_LINK_CONNECTING;
  list_init (&link->parked);
  list_init (&link->reqs);
  list_init (&link->flushes);
  list_init (&link->callback_waits);
  tmr_init (&link->tmr_fsync);
  tmr_init (&link->tmr_reconnect);
  tmr_init (&link->tmr_refresh);
  tmr_init (&link->tmr_ws_closed);
  tmr_init (&link->tmr_ack);
  tmr_init (&link->tmr_pump);
  tmr_init (&link->tmr_send_retry);
  tmr_init (&link->tmr_resync);
  tmr_init (&link->tmr_stopped);

  link->spool = kefu_spool_open (conf->spool_dir, conf->segment_bytes, &damage, &error);
  if (!link->spool)
    {
      g_warning ("The kefu-server link cannot use its spool: %s", error->message);
      err = error->domain == G_IO_ERROR && error->code == G_IO_ERROR_BUSY ? EBUSY
            : error->domain == G_IO_ERROR && error->code == G_IO_ERROR_PERMISSION_DENIED ? EACCES
            : EIO;
      mem_deref (link);
      return err;
    }
  for (guint i = 0; damage && i < damage->len; i++)
    {
      KefuSpoolDamage *d = g_ptr_array_index (damage, i);

      g_warning ("The spool file %s is damaged at offset %" G_GUINT64_FORMAT " (%" G_GUINT64_FORMAT
                 " bytes: %s); the damaged bytes are kept in %s, the good records before and "
                 "after are sent", d->path, (guint64) d->offset, (guint64) d->length, d->reason,
                 d->moved_to);
      link->corrupt++;
    }
  if (kefu_spool_pending (link->spool) > 0)
    g_message ("The spool %s holds %" G_GUINT64_FORMAT " items from an earlier run; they go to "
               "kefu-server first", link->spool_dir, (guint64) kefu_spool_pending (link->spool));

  err = make_dns_client (link);
  if (!err)
    err = http_client_alloc (&link->http, link->dnsc);
  if (!err)
    err = websock_alloc (&link->ws_sock, NULL, NULL);
  if (err)
    {
      g_warning ("The kefu-server link cannot start its HTTP client: %s", g_strerror (err));
      mem_deref (link);
      return err;
    }

  *linkp = link;
  /* Everything starts from the loop. */
  tmr_start (&link->tmr_reconnect, 0, on_reconnect_timer, link);
  return 0;
}
