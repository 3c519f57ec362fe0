/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A real kefu-server for tests: started as a process on 127.0.0.1 with a
 * fresh database (SQLite in a temporary folder, or the PostgreSQL that
 * tests/helpers/with-postgresql started when KEFU_TEST_BACKEND=postgresql),
 * with one user of each role, and a libsoup client to talk to it.
 */
#pragma once

#include <libsoup/soup.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Every test user's password. */
#define KEFU_TEST_PASSWORD "password1"

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
void              kefu_test_response_free  (KefuTestResponse *response);

/* Convenience on a JSON response. */
JsonObject       *kefu_test_response_object (KefuTestResponse *response);
const char       *kefu_test_error_code      (KefuTestResponse *response);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KefuTestResponse, kefu_test_response_free)

G_END_DECLS
