/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A real kefu-server for tests: started as a process on 127.0.0.1 with a
 * fresh database (SQLite in a temporary folder, or the PostgreSQL that
 * tests/helpers/with-postgresql started when KEFU_TEST_BACKEND=postgresql),
 * with one user of each role, a libsoup client to talk to it, and
 * subscribers to its event stream as the desktop and the switch use it.
 * For the tests in tests/server and the desktop's in tests/desk.
 */
#pragma once

#include <libsoup/soup.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Every test user's password. */
#define KEFU_TEST_PASSWORD "password1"

/* How long a test waits on the event stream before it fails. */
#define KEFU_TEST_WAIT_MS 15000

typedef struct {
  GSubprocess *process;
  char        *url;
  char        *dir;         /* temporary folder: database, config, logs */
  char        *config_path;
  gboolean     postgresql;
  SoupSession *session;
} KefuTestServer;

typedef struct {
  guint               status;
  char               *body;
  gsize               length;
  JsonNode           *json;      /* NULL when the body is not JSON */
  SoupMessageHeaders *headers;
} KefuTestResponse;

/* extra_config: more INI text appended to the server's config, or NULL. */
KefuTestServer   *kefu_test_server_start   (const char *extra_config);
/* Stops (SIGTERM) and checks the server exited cleanly. */
void              kefu_test_server_stop    (KefuTestServer *server);
/* Stops and starts again on the same database and port. */
void              kefu_test_server_restart (KefuTestServer *server);
/* Starts a stopped server again on the same database and port. */
void              kefu_test_server_start_again (KefuTestServer *server);
void              kefu_test_server_free    (KefuTestServer *server);

/* From now on a test that aborts (a failed assertion), traps or crashes
 * kills the server it runs first.  Once, in main. */
void              kefu_test_kill_server_on_abort (void);

/* Runs kefu-server with these arguments against the test database (the
 * --config is added); returns the exit status, output in out/err. */
int               kefu_test_server_run_cli (KefuTestServer *server, const char * const *args,
                                            char **out, char **err);

/* Logs in as agent, supervisor, teamlead, admin or service. */
char             *kefu_test_login          (KefuTestServer *server, const char *username);

/* headers: NULL or a NULL-terminated list of "Name", "value" pairs. */
KefuTestResponse *kefu_test_request_full   (KefuTestServer *server, const char *method,
                                            const char *path, const char *token,
                                            const char *content_type, const char *body,
                                            gsize body_length, const char * const *headers);
KefuTestResponse *kefu_test_request        (KefuTestServer *server, const char *method,
                                            const char *path, const char *token,
                                            const char *json);
/* kefu_test_request, and the test fails unless the answer has status. */
KefuTestResponse *kefu_test_request_expect (KefuTestServer *server, const char *method,
                                            const char *path, const char *token,
                                            const char *json, guint status);
void              kefu_test_response_free  (KefuTestResponse *response);

/* Convenience on a JSON response. */
JsonObject       *kefu_test_response_object (KefuTestResponse *response);
const char       *kefu_test_error_code      (KefuTestResponse *response);

/* Iterates the default main context until cond (data) holds; after
 * KEFU_TEST_WAIT_MS the test fails, saying it waited for what. */
typedef gboolean (*KefuTestCondition) (gpointer data);
void              kefu_test_wait_until      (KefuTestCondition cond, gpointer data,
                                             const char *what);

/* A client of the event stream, /v1/events/stream. */
typedef struct {
  SoupWebsocketConnection *connection;
  GPtrArray               *messages;   /* char*, every text message as received */
  gboolean                 closed;
} KefuTestSubscriber;

/* Connects with token (or none) in the Authorization header, or in
 * ?token= as browsers must send it; NULL when the server refuses.
 * out_status: the handshake's HTTP status, or NULL. */
KefuTestSubscriber *kefu_test_subscribe_full (KefuTestServer *server, SoupSession *session,
                                              const char *token, gboolean token_in_query,
                                              guint *out_status);
/* Connects with token in the Authorization header; the test fails when
 * the server refuses. */
KefuTestSubscriber *kefu_test_subscribe      (KefuTestServer *server, SoupSession *session,
                                              const char *token);
/* Closes the connection, waits until it is closed and frees subscriber
 * (NULL is nothing to do). */
void                kefu_test_unsubscribe    (KefuTestSubscriber *subscriber);

/* Removes dir and everything below it, whatever a test left there. */
void              kefu_test_remove_tree     (const char *dir);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KefuTestResponse, kefu_test_response_free)

G_END_DECLS
