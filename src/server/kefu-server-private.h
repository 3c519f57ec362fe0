/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * What kefu-server.c (lifecycle, dispatch) and kefu-server-routes.c (the
 * handlers) share.  Private to the server.
 */
#pragma once

#include <libsoup/soup.h>

#include "kefu-auth.h"
#include "kefu-event-hub.h"
#include "kefu-server.h"
#include "kefu-server-stats.h"

G_BEGIN_DECLS

struct _KefuServer {
  GObject            parent_instance;

  /* owned */
  KefuServerConfig  *config;    /* borrowed from main, outlives us */
  KefuStore         *store;
  KefuAuth          *auth;
  KefuEventHub      *hub;
  KefuServerStats   *stats;
  SoupServer        *soup;
  GTimeZone         *tz;
  char              *url;
  gulong             publish_id;
};

typedef struct _KefuRequest KefuRequest;
typedef void (*KefuRouteHandler) (KefuRequest *request);

typedef enum {
  KEFU_ROUTE_PUBLIC  = 1 << 0,   /* no token needed */
  KEFU_ROUTE_SERVICE = 1 << 1,   /* the switch's service account may call it */
  KEFU_ROUTE_RAW     = 1 << 2,   /* body is a document, not JSON */
} KefuRouteFlags;

typedef struct {
  const char             *method;
  const char             *pattern;     /* "/v1/customers/{id}" */
  const char             *min_role;    /* lowest role allowed; NULL for public */
  guint                   flags;
  KefuRouteHandler        handler;
  const char             *summary;
  const KefuRecordKind   *body_kind;   /* for the OpenAPI description */
  const char             *query_doc;   /* "phone,q,offset,limit" */
} KefuRoute;

extern const KefuRoute kefu_routes[];
extern const guint     kefu_n_routes;

/* One request, carried to a worker thread and back.  Workers never touch
 * libsoup objects; they read the fields here and fill the response. */
struct _KefuRequest {
  KefuServer        *server;      /* borrowed */
  const KefuRoute   *route;
  char              *method;
  char              *path;
  GPtrArray         *params;      /* path captures, in order */
  GHashTable        *query;       /* owned strings */
  GBytes            *body;
  char              *content_type;
  char              *token;
  char              *op_id;
  char              *scoped_op_id;   /* op_id as the store keeps it */
  gint64             base_version;
  char              *client;      /* remote address */
  gint64             started_us;

  /* filled by the worker */
  KefuSession       *session;
  guint              status;
  char              *response_type;
  GBytes            *response;
  GPtrArray         *response_headers;   /* name, value, name, value... */
  JsonArray         *broadcast;          /* events to push to subscribers */
};

/* Responses, from worker threads. */
void        kefu_request_json       (KefuRequest *request, guint status, JsonNode *node);
void        kefu_request_object     (KefuRequest *request, guint status, JsonObject *object);
void        kefu_request_error      (KefuRequest *request, guint status, const char *code,
                                     const char *format, ...) G_GNUC_PRINTF (4, 5);
/* Maps store/record/db errors to a status and a JSON error. */
void        kefu_request_gerror     (KefuRequest *request, const GError *error,
                                     const char *field, JsonObject *current);
void        kefu_request_header     (KefuRequest *request, const char *name, const char *value);
const char *kefu_request_param      (KefuRequest *request, guint index);
const char *kefu_request_query      (KefuRequest *request, const char *name);
gboolean    kefu_request_has_role   (KefuRequest *request, const char *role);
KefuStore  *kefu_request_store      (KefuRequest *request);
/* The body, or NULL with *len 0 when there is none. */
const char *kefu_request_body       (KefuRequest *request, gsize *len);
/* A whole-number query parameter; answers 400 and returns FALSE when bad. */
gboolean    kefu_request_read_uint  (KefuRequest *request, const char *name, guint64 fallback,
                                     guint64 max, guint64 *out);

/* Route handlers living outside kefu-server-routes.c. */
void        kefu_route_report_calls (KefuRequest *request);
void        kefu_route_staffing_get (KefuRequest *request);
void        kefu_route_staffing_post (KefuRequest *request);

G_END_DECLS
