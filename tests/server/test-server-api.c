/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The REST API as its clients meet it: a real kefu-server (SQLite or
 * PostgreSQL) with one user of each role, driven over HTTP.  Each test
 * starts its own server, so none depends on what another left behind, and
 * asserts on what a client would notice: the status, the error code and the
 * field it names, and the record read back afterwards.
 */
#define G_LOG_DOMAIN "KefuTestServerApi"

#include "config.h"

#include "kefu-test-server.h"

#include <string.h>

/* --- a server per test ---------------------------------------------------------- */

typedef struct {
  KefuTestServer   *server;

  /* a token of each test user */
  char             *agent;
  char             *agent2;
  char             *supervisor;
  char             *teamlead;
  char             *admin;
  char             *service;

  /* the answer to the last api_call(), owned */
  KefuTestResponse *last;
} Api;

static Api *
api_start (void)
{
  Api *api = g_new0 (Api, 1);

  api->server = kefu_test_server_start (NULL);
  api->agent = kefu_test_login (api->server, "agent");
  api->agent2 = kefu_test_login (api->server, "agent2");
  api->supervisor = kefu_test_login (api->server, "supervisor");
  api->teamlead = kefu_test_login (api->server, "teamlead");
  api->admin = kefu_test_login (api->server, "admin");
  api->service = kefu_test_login (api->server, "service");
  return api;
}

static void
api_free (Api *api)
{
  /* The server exits here; a crash or a leak in it fails the test. */
  kefu_test_server_free (api->server);
  g_free (api->agent);
  g_free (api->agent2);
  g_free (api->supervisor);
  g_free (api->teamlead);
  g_free (api->admin);
  g_free (api->service);
  kefu_test_response_free (api->last);
  g_free (api);
}

/* Each returns the answer, borrowed: it lives until the next call. */
static KefuTestResponse *
api_call_full (Api                *api,
               const char         *method,
               const char         *path,
               const char         *token,
               const char         *content_type,
               const char         *body,
               gsize               length,
               const char * const *headers)
{
  kefu_test_response_free (api->last);
  api->last = kefu_test_request_full (api->server, method, path, token, content_type, body, length,
                                      headers);
  return api->last;
}

static KefuTestResponse *
api_call (Api        *api,
          const char *method,
          const char *path,
          const char *token,
          const char *json)
{
  return api_call_full (api, method, path, token, json ? "application/json" : NULL, json,
                        json ? strlen (json) : 0, NULL);
}

static KefuTestResponse *
api_call_with (Api                *api,
               const char         *method,
               const char         *path,
               const char         *token,
               const char         *json,
               const char * const *headers)
{
  return api_call_full (api, method, path, token, json ? "application/json" : NULL, json,
                        json ? strlen (json) : 0, headers);
}

/* --- assertions ------------------------------------------------------------------- */

static void fail_at (const char *file, int line, const char *func, const char *format, ...)
  G_GNUC_PRINTF (4, 5);

static void
fail_at (const char *file,
         int         line,
         const char *func,
         const char *format,
         ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_assertion_message (G_LOG_DOMAIN, file, line, func, message);
}

#define FAIL(...) fail_at (__FILE__, __LINE__, G_STRFUNC, __VA_ARGS__)

static JsonObject *
obj (KefuTestResponse *response)
{
  return kefu_test_response_object (response);
}

static char *
object_text (JsonObject *object)
{
  g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), object);

  return json_to_string (node, FALSE);
}

static JsonNode *
member (JsonObject *object,
        const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (!node)
    {
      g_autofree char *text = object_text (object);

      g_error ("no “%s” in %s", name, text);
    }
  return node;
}

/* NULL when the member is null; a failure when it is absent or not text. */
static const char *
str_member (JsonObject *object,
            const char *name)
{
  JsonNode *node = member (object, name);

  if (JSON_NODE_HOLDS_NULL (node))
    return NULL;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      g_autofree char *text = object_text (object);

      g_error ("“%s” is not a string in %s", name, text);
    }
  return json_node_get_string (node);
}

static gint64
int_member (JsonObject *object,
            const char *name)
{
  JsonNode *node = member (object, name);

  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    {
      g_autofree char *text = object_text (object);

      g_error ("“%s” is not a whole number in %s", name, text);
    }
  return json_node_get_int (node);
}

static double
number_member (JsonObject *object,
               const char *name)
{
  JsonNode *node = member (object, name);

  if (!JSON_NODE_HOLDS_VALUE (node) || (json_node_get_value_type (node) != G_TYPE_INT64 &&
                                        json_node_get_value_type (node) != G_TYPE_DOUBLE))
    {
      g_autofree char *text = object_text (object);

      g_error ("“%s” is not a number in %s", name, text);
    }
  return json_node_get_double (node);
}

static JsonArray *
array_member (JsonObject *object,
              const char *name)
{
  JsonNode *node = member (object, name);

  if (!JSON_NODE_HOLDS_ARRAY (node))
    {
      g_autofree char *text = object_text (object);

      g_error ("“%s” is not a list in %s", name, text);
    }
  return json_node_get_array (node);
}

static JsonObject *
object_member (JsonObject *object,
               const char *name)
{
  JsonNode *node = member (object, name);

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_autofree char *text = object_text (object);

      g_error ("“%s” is not an object in %s", name, text);
    }
  return json_node_get_object (node);
}

static const char *
header (KefuTestResponse *response,
        const char       *name)
{
  return soup_message_headers_get_one (response->headers, name);
}

#define assert_status(response, expected) \
  check_status ((response), (expected), __FILE__, __LINE__, G_STRFUNC)
#define assert_error(response, expected, code, field) \
  check_error ((response), (expected), (code), (field), __FILE__, __LINE__, G_STRFUNC)

static void
check_status (KefuTestResponse *response,
              guint             expected,
              const char       *file,
              int               line,
              const char       *func)
{
  if (response->status != expected)
    fail_at (file, line, func, "expected status %u, got %u: %.2000s", expected, response->status,
             response->body);
}

/* field: the field the error must name, or NULL to not look. */
static void
check_error (KefuTestResponse *response,
             guint             expected,
             const char       *code,
             const char       *field,
             const char       *file,
             int               line,
             const char       *func)
{
  JsonObject *error;

  check_status (response, expected, file, line, func);
  if (!response->json || !JSON_NODE_HOLDS_OBJECT (response->json) ||
      !json_object_has_member (json_node_get_object (response->json), "error"))
    {
      fail_at (file, line, func, "expected a JSON error, got: %.2000s", response->body);
      return;
    }
  error = object_member (json_node_get_object (response->json), "error");
  if (g_strcmp0 (str_member (error, "code"), code) != 0)
    fail_at (file, line, func, "expected error code %s, got: %.2000s", code, response->body);
  if (!str_member (error, "message") || !*str_member (error, "message"))
    fail_at (file, line, func, "the error has no message: %.2000s", response->body);
  if (field && (!json_object_has_member (error, "field") ||
                g_strcmp0 (str_member (error, "field"), field) != 0))
    fail_at (file, line, func, "expected the error to name field “%s”: %.2000s", field,
             response->body);
}

static const char *
error_message (KefuTestResponse *response)
{
  return str_member (object_member (obj (response), "error"), "message");
}

/* --- requests a test makes over and over ------------------------------------------ */

static char *
encode (JsonObject *object)
{
  return object_text (object);
}

static char *
escape (const char *text)
{
  return g_uri_escape_string (text, NULL, FALSE);
}

/* POSTs and expects 201; returns the new record, owned. */
static JsonObject *
create (Api        *api,
        const char *path,
        const char *token,
        const char *json)
{
  KefuTestResponse *response = api_call (api, "POST", path, token, json);

  assert_status (response, 201);
  return json_object_ref (obj (response));
}

static gint64
create_id (Api        *api,
           const char *path,
           const char *token,
           const char *json)
{
  g_autoptr(JsonObject) record = create (api, path, token, json);

  return int_member (record, "id");
}

/* GETs and expects 200; returns the body as JSON, owned. */
static JsonObject *
fetch (Api        *api,
       const char *path,
       const char *token)
{
  KefuTestResponse *response = api_call (api, "GET", path, token, NULL);

  assert_status (response, 200);
  return json_object_ref (obj (response));
}

/* The stored record exactly as the server hands it out, to compare later. */
static char *
record_text (Api        *api,
             const char *path,
             const char *token)
{
  KefuTestResponse *response = api_call (api, "GET", path, token, NULL);

  assert_status (response, 200);
  return g_strdup (response->body);
}

static JsonArray *
list_items (Api        *api,
            const char *path,
            const char *token)
{
  g_autofree char *paged = g_strdup_printf ("%s%slimit=500", path, strchr (path, '?') ? "&" : "?");
  KefuTestResponse *response = api_call (api, "GET", paged, token, NULL);

  assert_status (response, 200);
  return json_array_ref (array_member (obj (response), "items"));
}

static guint
count (Api        *api,
       const char *path)
{
  g_autoptr(JsonArray) items = NULL;

  if (g_str_equal (path, "/v1/events"))
    {
      KefuTestResponse *response = api_call (api, "GET", "/v1/events?limit=10000", api->admin,
                                             NULL);

      assert_status (response, 200);
      return json_array_get_length (array_member (obj (response), "events"));
    }
  items = list_items (api, path, api->admin);
  return json_array_get_length (items);
}

static gboolean
items_hold_id (JsonArray *items,
               gint64     id)
{
  for (guint i = 0; i < json_array_get_length (items); i++)
    if (int_member (json_array_get_object_element (items, i), "id") == id)
      return TRUE;
  return FALSE;
}

/* --- auth --------------------------------------------------------------------------- */

#define LOGIN(user, password) \
  "{\"username\": \"" user "\", \"password\": \"" password "\"}"

/* NULL when response is a proper 401, else what is wrong with it. */
static char *
unauthorized_problem (KefuTestResponse *response)
{
  const char *challenge = header (response, "WWW-Authenticate");

  if (response->status != 401)
    return g_strdup_printf ("expected 401, got %u: %.500s", response->status, response->body);
  if (!response->json || !JSON_NODE_HOLDS_OBJECT (response->json) ||
      g_strcmp0 (kefu_test_error_code (response), "unauthorized") != 0)
    return g_strdup_printf ("expected the JSON error “unauthorized”, got: %.500s", response->body);
  if (!challenge || g_ascii_strncasecmp (challenge, "Bearer", 6) != 0)
    return g_strdup_printf ("a 401 must say how to authenticate (WWW-Authenticate: Bearer), "
                            "got %s", challenge ? challenge : "no WWW-Authenticate header");
  return NULL;
}

static void
assert_unauthorized (KefuTestResponse *response,
                     const char       *what)
{
  g_autofree char *problem = unauthorized_problem (response);

  if (problem)
    FAIL ("%s: %s", what, problem);
}

static void
test_auth_login (void)
{
  Api *api = api_start ();
  KefuTestResponse *r;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) expires = NULL;
  g_autofree char *token = NULL;
  g_autofree char *second = NULL;

  r = api_call (api, "POST", "/v1/sessions", NULL, LOGIN ("supervisor", KEFU_TEST_PASSWORD));
  assert_status (r, 201);
  token = g_strdup (str_member (obj (r), "token"));
  g_assert_cmpuint (strlen (token), >=, 32);
  g_assert_cmpstr (str_member (obj (r), "role"), ==, "supervisor");
  g_assert_cmpstr (str_member (obj (r), "username"), ==, "supervisor");
  expires = g_date_time_new_from_iso8601 (str_member (obj (r), "expires"), NULL);
  g_assert_nonnull (expires);
  g_assert_cmpint (g_date_time_difference (expires, now), >, G_TIME_SPAN_HOUR);

  /* The token works and says whose it is. */
  r = api_call (api, "GET", "/v1/sessions/current", token, NULL);
  assert_status (r, 200);
  g_assert_cmpstr (str_member (obj (r), "username"), ==, "supervisor");
  g_assert_cmpstr (str_member (obj (r), "role"), ==, "supervisor");

  /* Each login is a session of its own. */
  r = api_call (api, "POST", "/v1/sessions", NULL, LOGIN ("supervisor", KEFU_TEST_PASSWORD));
  assert_status (r, 201);
  second = g_strdup (str_member (obj (r), "token"));
  g_assert_cmpstr (second, !=, token);
  r = api_call (api, "GET", "/v1/sessions/current", second, NULL);
  assert_status (r, 200);
  r = api_call (api, "GET", "/v1/sessions/current", token, NULL);
  assert_status (r, 200);

  /* Every role logs in with its own role. */
  r = api_call (api, "POST", "/v1/sessions", NULL, LOGIN ("service", KEFU_TEST_PASSWORD));
  assert_status (r, 201);
  g_assert_cmpstr (str_member (obj (r), "role"), ==, "service");
  api_free (api);
}

static void
test_auth_wrong_credentials (void)
{
  Api *api = api_start ();
  KefuTestResponse *r;
  g_autofree char *wrong_password = NULL;

  r = api_call (api, "POST", "/v1/sessions", NULL, LOGIN ("agent", "not-the-password"));
  assert_error (r, 401, "unauthorized", NULL);
  g_assert_false (json_object_has_member (obj (r), "token"));
  wrong_password = g_strdup (error_message (r));

  /* Whether the user exists must not show. */
  r = api_call (api, "POST", "/v1/sessions", NULL, LOGIN ("nobody", "not-the-password"));
  assert_error (r, 401, "unauthorized", NULL);
  g_assert_false (json_object_has_member (obj (r), "token"));
  g_assert_cmpstr (error_message (r), ==, wrong_password);

  r = api_call (api, "POST", "/v1/sessions", NULL, LOGIN ("nobody", KEFU_TEST_PASSWORD));
  assert_error (r, 401, "unauthorized", NULL);
  g_assert_cmpstr (error_message (r), ==, wrong_password);

  /* Usernames are exact. */
  r = api_call (api, "POST", "/v1/sessions", NULL, LOGIN ("Agent", KEFU_TEST_PASSWORD));
  assert_error (r, 401, "unauthorized", NULL);
  g_assert_cmpstr (error_message (r), ==, wrong_password);
  api_free (api);
}

static void
test_auth_bad_tokens (void)
{
  Api *api = api_start ();
  g_autofree char *tampered = g_strconcat (api->agent, "x", NULL);
  const char * const basic[] = { "Authorization", "Basic YWdlbnQ6cGFzc3dvcmQx", NULL };
  const char * const empty[] = { "Authorization", "Bearer", NULL };

  assert_unauthorized (api_call (api, "GET", "/v1/customers", NULL, NULL), "no token");
  assert_unauthorized (api_call (api, "GET", "/v1/customers", "garbage", NULL), "garbage token");
  assert_unauthorized (api_call (api, "GET", "/v1/customers", tampered, NULL), "tampered token");
  assert_unauthorized (api_call_with (api, "GET", "/v1/customers", NULL, NULL, basic),
                       "Basic credentials");
  assert_unauthorized (api_call_with (api, "GET", "/v1/customers", NULL, NULL, empty),
                       "empty Bearer");
  /* A write without a token changes nothing. */
  assert_unauthorized (api_call (api, "POST", "/v1/customers", NULL, "{\"name\": \"Sneaky\"}"),
                       "write without a token");
  g_assert_cmpuint (count (api, "/v1/customers"), ==, 0);

  /* The real token still works. */
  assert_status (api_call (api, "GET", "/v1/customers", api->agent, NULL), 200);
  api_free (api);
}

static void
test_auth_logout (void)
{
  Api *api = api_start ();
  g_autofree char *token = kefu_test_login (api->server, "agent");

  assert_status (api_call (api, "GET", "/v1/sessions/current", token, NULL), 200);
  assert_status (api_call (api, "DELETE", "/v1/sessions/current", token, NULL), 204);
  assert_unauthorized (api_call (api, "GET", "/v1/sessions/current", token, NULL),
                       "token after logout");
  assert_unauthorized (api_call (api, "GET", "/v1/customers", token, NULL), "token after logout");
  assert_unauthorized (api_call (api, "DELETE", "/v1/sessions/current", token, NULL),
                       "second logout");

  /* Only that session ended: the agent's other one still works. */
  assert_status (api_call (api, "GET", "/v1/sessions/current", api->agent, NULL), 200);
  api_free (api);
}

static void
test_auth_rate_limit (void)
{
  Api *api = api_start ();
  KefuTestResponse *r;
  const char *retry_after;
  guint64 seconds;

  for (guint i = 0; i < 5; i++)
    {
      r = api_call (api, "POST", "/v1/sessions", NULL, LOGIN ("teamlead", "guess-number-n"));
      assert_error (r, 401, "unauthorized", NULL);
    }

  /* The sixth try is refused even with the right password. */
  r = api_call (api, "POST", "/v1/sessions", NULL, LOGIN ("teamlead", KEFU_TEST_PASSWORD));
  assert_error (r, 429, "rate_limited", NULL);
  g_assert_false (json_object_has_member (obj (r), "token"));
  retry_after = header (r, "Retry-After");
  g_assert_nonnull (retry_after);
  g_assert_true (g_ascii_string_to_unsigned (retry_after, 10, 1, 60, &seconds, NULL));

  r = api_call (api, "POST", "/v1/sessions", NULL, LOGIN ("teamlead", "guess-number-7"));
  assert_error (r, 429, "rate_limited", NULL);

  /* It is that user who is held back, not everyone. */
  r = api_call (api, "POST", "/v1/sessions", NULL, LOGIN ("supervisor", KEFU_TEST_PASSWORD));
  assert_status (r, 201);
  /* Sessions the user already had are not ended. */
  assert_status (api_call (api, "GET", "/v1/sessions/current", api->teamlead, NULL), 200);
  api_free (api);
}

static void
test_auth_malformed_login (void)
{
  static const struct {
    const char *content_type;
    const char *body;
    guint       status;
    const char *code;
  } cases[] = {
    { "application/json", "", 400, "malformed_json" },
    { "application/json", "{", 400, "malformed_json" },
    { "application/json", "[\"agent\", \"password1\"]", 400, "malformed_json" },
    { "application/json", "\"agent\"", 400, "malformed_json" },
    { "application/json", "{}", 400, "missing_field" },
    { "application/json", "{\"username\": \"agent\"}", 400, "missing_field" },
    { "application/json", "{\"password\": \"" KEFU_TEST_PASSWORD "\"}", 400, "missing_field" },
    { "application/json", "{\"username\": 7, \"password\": \"" KEFU_TEST_PASSWORD "\"}", 400,
      "missing_field" },
    { "application/json", "{\"username\": \"agent\", \"password\": null}", 400, "missing_field" },
    { "application/json", "{\"username\": \"agent\", \"password\": \"" KEFU_TEST_PASSWORD "\", "
                          "\"remember\": true}", 400, "unknown_field" },
    { "application/x-www-form-urlencoded", "username=agent&password=" KEFU_TEST_PASSWORD, 415,
      "unsupported_media_type" },
    { "text/plain", LOGIN ("agent", KEFU_TEST_PASSWORD), 415, "unsupported_media_type" },
  };
  Api *api = api_start ();
  KefuTestResponse *r;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("login body %s: %s", cases[i].content_type, cases[i].body);
      r = api_call_full (api, "POST", "/v1/sessions", NULL, cases[i].content_type, cases[i].body,
                         strlen (cases[i].body), NULL);
      assert_error (r, cases[i].status, cases[i].code, NULL);
      g_assert_false (json_object_has_member (obj (r), "token"));
    }

  /* None of that counted as a wrong password. */
  r = api_call (api, "POST", "/v1/sessions", NULL, LOGIN ("agent", KEFU_TEST_PASSWORD));
  assert_status (r, 201);
  api_free (api);
}

/* --- roles on every route ------------------------------------------------------------ */

typedef struct {
  const char *method;
  const char *path;
  const char *role;      /* the lowest role let in, or "public" */
  gboolean    service;   /* the switch's service account is let in */
} ExpectedRoute;

/* Who may do what, as the route table in kefu-server-routes.c sets it. */
static const ExpectedRoute expected_routes[] = {
  { "POST",   "/v1/sessions", "public", FALSE },
  { "GET",    "/v1/sessions/current", "agent", TRUE },
  { "DELETE", "/v1/sessions/current", "agent", TRUE },
  { "GET",    "/v1/customers", "agent", TRUE },
  { "POST",   "/v1/customers", "agent", FALSE },
  { "GET",    "/v1/customers/{id}", "agent", TRUE },
  { "PUT",    "/v1/customers/{id}", "agent", FALSE },
  { "PATCH",  "/v1/customers/{id}", "agent", FALSE },
  { "DELETE", "/v1/customers/{id}", "supervisor", FALSE },
  { "GET",    "/v1/customers/{id}/history", "agent", FALSE },
  { "GET",    "/v1/contacts", "agent", FALSE },
  { "POST",   "/v1/contacts", "agent", FALSE },
  { "GET",    "/v1/contacts/{id}", "agent", FALSE },
  { "PUT",    "/v1/contacts/{id}", "agent", FALSE },
  { "PATCH",  "/v1/contacts/{id}", "agent", FALSE },
  { "DELETE", "/v1/contacts/{id}", "agent", FALSE },
  { "GET",    "/v1/cases", "agent", FALSE },
  { "POST",   "/v1/cases", "agent", FALSE },
  { "GET",    "/v1/cases/{id}", "agent", FALSE },
  { "PUT",    "/v1/cases/{id}", "agent", FALSE },
  { "PATCH",  "/v1/cases/{id}", "agent", FALSE },
  { "DELETE", "/v1/cases/{id}", "supervisor", FALSE },
  { "POST",   "/v1/cases/{id}/notes", "agent", FALSE },
  { "GET",    "/v1/calls", "agent", TRUE },
  { "POST",   "/v1/calls", "admin", TRUE },
  { "GET",    "/v1/calls/{id}", "agent", TRUE },
  { "PATCH",  "/v1/calls/{id}", "admin", TRUE },
  { "GET",    "/v1/faxes", "agent", TRUE },
  { "POST",   "/v1/faxes", "agent", TRUE },
  { "GET",    "/v1/faxes/{id}", "agent", TRUE },
  { "PATCH",  "/v1/faxes/{id}", "agent", TRUE },
  { "PUT",    "/v1/faxes/{id}/document", "agent", TRUE },
  { "GET",    "/v1/faxes/{id}/document", "agent", TRUE },
  { "GET",    "/v1/agents", "agent", TRUE },
  { "POST",   "/v1/agents", "admin", FALSE },
  { "GET",    "/v1/agents/{id}", "agent", TRUE },
  { "PUT",    "/v1/agents/{id}", "admin", FALSE },
  { "PATCH",  "/v1/agents/{id}", "admin", FALSE },
  { "DELETE", "/v1/agents/{id}", "admin", FALSE },
  { "PUT",    "/v1/agents/{id}/state", "agent", FALSE },
  { "GET",    "/v1/reason-codes", "agent", TRUE },
  { "GET",    "/v1/sip/credentials", "service", TRUE },
  { "GET",    "/v1/callbacks", "agent", TRUE },
  { "POST",   "/v1/callbacks", "agent", TRUE },
  { "GET",    "/v1/callbacks/{id}", "agent", TRUE },
  { "PATCH",  "/v1/callbacks/{id}", "agent", TRUE },
  { "DELETE", "/v1/callbacks/{id}", "supervisor", FALSE },
  { "GET",    "/v1/queues", "agent", TRUE },
  { "POST",   "/v1/queues", "admin", FALSE },
  { "GET",    "/v1/queues/{id}", "agent", TRUE },
  { "PUT",    "/v1/queues/{id}", "admin", FALSE },
  { "PATCH",  "/v1/queues/{id}", "admin", FALSE },
  { "DELETE", "/v1/queues/{id}", "admin", FALSE },
  { "GET",    "/v1/queues/{id}/live", "supervisor", FALSE },
  { "GET",    "/v1/reports/calls", "teamlead", FALSE },
  { "GET",    "/v1/staffing", "teamlead", FALSE },
  { "POST",   "/v1/staffing", "teamlead", FALSE },
  { "GET",    "/v1/changes", "agent", FALSE },
  { "GET",    "/v1/events", "supervisor", TRUE },
  { "POST",   "/v1/events", "admin", TRUE },
  { "GET",    "/v1/events/stream", "agent", TRUE },
  { "GET",    "/v1/openapi.json", "public", FALSE },
  { "GET",    "/metrics", "public", FALSE },
  { "GET",    "/healthz", "public", FALSE },
};

static const char * const ladder[] = { "agent", "supervisor", "teamlead", "admin", NULL };
static const char * const everyone[] = { "agent", "supervisor", "teamlead", "admin", "service",
                                         NULL };
static const char * const http_methods[] = { "GET", "POST", "PUT", "PATCH", "DELETE", NULL };

static int
ladder_rank (const char *role)
{
  for (int i = 0; ladder[i]; i++)
    if (g_str_equal (ladder[i], role))
      return i;
  return -1;
}

static gboolean
role_may (const char *role,
          const char *lowest,
          gboolean    service)
{
  if (g_str_equal (lowest, "public"))
    return TRUE;
  if (g_str_equal (role, "service"))
    return service;
  /* "service": the switch's account alone, no rung of the ladder. */
  if (g_str_equal (lowest, "service"))
    return FALSE;
  return ladder_rank (role) >= ladder_rank (lowest);
}

static const char *
token_of (Api        *api,
          const char *role)
{
  if (g_str_equal (role, "agent"))
    return api->agent;
  if (g_str_equal (role, "supervisor"))
    return api->supervisor;
  if (g_str_equal (role, "teamlead"))
    return api->teamlead;
  if (g_str_equal (role, "admin"))
    return api->admin;
  if (g_str_equal (role, "service"))
    return api->service;
  g_assert_not_reached ();
}

/* A path to call for a route pattern.  The records named do not exist:
 * the point is the authorisation answer, and nothing may change. */
static char *
concrete_path (const char *pattern)
{
  const char *id = "999999";
  GString *path = g_string_new (pattern);

  if (g_str_equal (pattern, "/v1/agents/{id}/state"))
    id = "me";
  else if (g_str_has_prefix (pattern, "/v1/calls/"))
    id = "no-such-call";
  g_string_replace (path, "{id}", id, 0);
  return g_string_free (path, FALSE);
}

static JsonObject *
fetch_openapi (Api *api)
{
  KefuTestResponse *r = api_call (api, "GET", "/v1/openapi.json", NULL, NULL);

  assert_status (r, 200);
  return json_object_ref (object_member (obj (r), "paths"));
}

static const ExpectedRoute *
find_expected_route (const char *method,
                     const char *path)
{
  for (guint i = 0; i < G_N_ELEMENTS (expected_routes); i++)
    if (g_ascii_strcasecmp (expected_routes[i].method, method) == 0 &&
        g_str_equal (expected_routes[i].path, path))
      return &expected_routes[i];
  return NULL;
}

static void
test_roles_openapi_lists_every_route (void)
{
  Api *api = api_start ();
  g_autoptr(JsonObject) paths = fetch_openapi (api);
  g_autoptr(GList) names = json_object_get_members (paths);
  guint n_operations = 0;

  for (GList *p = names; p; p = p->next)
    {
      JsonObject *item = object_member (paths, p->data);
      g_autoptr(GList) methods = json_object_get_members (item);

      for (GList *m = methods; m; m = m->next)
        {
          JsonObject *operation = object_member (item, m->data);
          const ExpectedRoute *expected = find_expected_route (m->data, p->data);
          const char *summary = str_member (operation, "summary");
          JsonArray *security = array_member (operation, "security");

          n_operations++;
          if (!expected)
            FAIL ("openapi.json lists %s %s, which the test does not know: add it to "
                  "expected_routes with its role", (char *) m->data, (char *) p->data);
          if (!summary || !*summary)
            FAIL ("%s %s has no summary", (char *) m->data, (char *) p->data);
          g_assert_cmpstr (str_member (operation, "x-kefu-role"), ==, expected->role);
          g_assert_true (json_object_get_boolean_member (operation, "x-kefu-service-account") ==
                         expected->service);
          /* Only public routes go without a bearer token. */
          g_assert_cmpuint (json_array_get_length (security), ==,
                            g_str_equal (expected->role, "public") ? 0 : 1);
        }
    }

  /* Every route the server answers is described. */
  for (guint i = 0; i < G_N_ELEMENTS (expected_routes); i++)
    {
      g_autofree char *method = g_ascii_strdown (expected_routes[i].method, -1);

      if (!json_object_has_member (paths, expected_routes[i].path) ||
          !json_object_has_member (object_member (paths, expected_routes[i].path), method))
        FAIL ("openapi.json does not describe %s %s", expected_routes[i].method,
              expected_routes[i].path);
    }
  g_assert_cmpuint (n_operations, ==, G_N_ELEMENTS (expected_routes));
  api_free (api);
}

static void
test_roles_every_route (void)
{
  Api *api = api_start ();
  g_autoptr(GString) problems = g_string_new (NULL);
  g_autoptr(JsonObject) paths = fetch_openapi (api);
  g_autoptr(GList) names = json_object_get_members (paths);

  for (GList *p = names; p; p = p->next)
    {
      JsonObject *item = object_member (paths, p->data);
      g_autoptr(GList) methods = json_object_get_members (item);
      g_autofree char *path = concrete_path (p->data);

      for (GList *m = methods; m; m = m->next)
        {
          JsonObject *operation = object_member (item, m->data);
          g_autofree char *method = g_ascii_strup (m->data, -1);
          const char *lowest = str_member (operation, "x-kefu-role");
          gboolean service = json_object_get_boolean_member (operation, "x-kefu-service-account");
          gboolean has_body = g_str_equal (method, "POST") || g_str_equal (method, "PUT") ||
                              g_str_equal (method, "PATCH");

          if (!g_str_equal (lowest, "public") && !g_str_equal (lowest, "service") &&
              ladder_rank (lowest) < 0)
            FAIL ("%s %s: x-kefu-role “%s” is not a role", method, path, lowest);

          for (guint u = 0; everyone[u]; u++)
            {
              g_autofree char *fresh = NULL;
              const char *token = token_of (api, everyone[u]);
              KefuTestResponse *r;

              /* Logging out ends the token: spend a fresh one. */
              if (g_str_equal (method, "DELETE") && g_str_equal (path, "/v1/sessions/current"))
                token = fresh = kefu_test_login (api->server, everyone[u]);
              r = api_call (api, method, path, token, has_body ? "{}" : NULL);

              if (role_may (everyone[u], lowest, service))
                {
                  gboolean unrouted = r->status == 404 && r->json &&
                                      JSON_NODE_HOLDS_OBJECT (r->json) &&
                                      g_strcmp0 (kefu_test_error_code (r), "no_such_route") == 0;

                  if (r->status == 401 || r->status == 403 || r->status == 405 || unrouted)
                    g_string_append_printf (problems, "\n  %s %s as %s (route needs %s%s): "
                                            "expected to be let in, got %u: %.300s", method, path,
                                            everyone[u], lowest, service ? " or service" : "",
                                            r->status, r->body);
                }
              else if (r->status != 403 || !r->json || !JSON_NODE_HOLDS_OBJECT (r->json) ||
                       g_strcmp0 (kefu_test_error_code (r), "forbidden") != 0)
                {
                  g_string_append_printf (problems, "\n  %s %s as %s (route needs %s%s): "
                                          "expected 403 forbidden, got %u: %.300s", method, path,
                                          everyone[u], lowest, service ? " or service" : "",
                                          r->status, r->body);
                }
            }
        }
    }

  if (problems->len)
    FAIL ("routes whose answer does not match their role:%s", problems->str);

  /* Nothing the sweep sent was stored. */
  g_assert_cmpuint (count (api, "/v1/customers"), ==, 0);
  g_assert_cmpuint (count (api, "/v1/cases"), ==, 0);
  g_assert_cmpuint (count (api, "/v1/agents"), ==, 6);
  api_free (api);
}

static void
test_roles_no_token (void)
{
  Api *api = api_start ();
  g_autoptr(GString) problems = g_string_new (NULL);
  g_autoptr(JsonObject) paths = fetch_openapi (api);
  g_autoptr(GList) names = json_object_get_members (paths);
  KefuTestResponse *r;

  for (GList *p = names; p; p = p->next)
    {
      JsonObject *item = object_member (paths, p->data);
      g_autoptr(GList) methods = json_object_get_members (item);
      g_autofree char *path = concrete_path (p->data);

      for (GList *m = methods; m; m = m->next)
        {
          g_autofree char *method = g_ascii_strup (m->data, -1);
          g_autofree char *what = g_strdup_printf ("%s %s", method, path);
          g_autofree char *problem = NULL;
          gboolean has_body = g_str_equal (method, "POST") || g_str_equal (method, "PUT") ||
                              g_str_equal (method, "PATCH");

          if (g_str_equal (str_member (object_member (item, m->data), "x-kefu-role"), "public"))
            continue;
          problem = unauthorized_problem (api_call (api, method, path, NULL,
                                                    has_body ? "{}" : NULL));
          if (problem)
            g_string_append_printf (problems, "\n  %s: %s", what, problem);
        }
    }
  if (problems->len)
    FAIL ("routes that answer a request without a token wrongly:%s", problems->str);

  /* The public routes work without one. */
  r = api_call (api, "GET", "/healthz", NULL, NULL);
  assert_status (r, 200);
  g_assert_cmpstr (str_member (obj (r), "status"), ==, "ok");
  r = api_call (api, "GET", "/metrics", NULL, NULL);
  assert_status (r, 200);
  g_assert_true (g_str_has_prefix (header (r, "Content-Type"), "text/plain"));
  g_assert_nonnull (strstr (r->body, "# TYPE "));
  r = api_call (api, "GET", "/v1/openapi.json", NULL, NULL);
  assert_status (r, 200);
  g_assert_true (g_str_has_prefix (str_member (obj (r), "openapi"), "3."));
  r = api_call (api, "POST", "/v1/sessions", NULL, LOGIN ("agent", KEFU_TEST_PASSWORD));
  assert_status (r, 201);
  api_free (api);
}

static void
test_roles_explicit (void)
{
  Api *api = api_start ();
  g_autofree char *agent2_before = NULL;
  KefuTestResponse *r;

  /* Reports are for team leads and up. */
  assert_error (api_call (api, "GET", "/v1/reports/calls", api->agent, NULL), 403, "forbidden",
                NULL);
  assert_error (api_call (api, "GET", "/v1/reports/calls", api->supervisor, NULL), 403,
                "forbidden", NULL);
  assert_error (api_call (api, "GET", "/v1/reports/calls", api->service, NULL), 403, "forbidden",
                NULL);
  r = api_call (api, "GET", "/v1/reports/calls", api->teamlead, NULL);
  assert_status (r, 200);
  array_member (obj (r), "rows");
  assert_status (api_call (api, "GET", "/v1/reports/calls?format=csv", api->admin, NULL), 200);
  assert_error (api_call (api, "GET", "/v1/staffing?calls=100&aht_s=180", api->agent, NULL), 403,
                "forbidden", NULL);

  /* An agent makes no users... */
  agent2_before = record_text (api, "/v1/agents/agent2", api->admin);
  assert_error (api_call (api, "POST", "/v1/agents", api->agent,
                          "{\"username\": \"sneaky\", \"role\": \"admin\", "
                          "\"password\": \"sneaky-pass\"}"), 403, "forbidden", NULL);
  assert_error (api_call (api, "POST", "/v1/agents", api->supervisor,
                          "{\"username\": \"sneaky\", \"role\": \"agent\", "
                          "\"password\": \"sneaky-pass\"}"), 403, "forbidden", NULL);
  g_assert_cmpuint (count (api, "/v1/agents"), ==, 6);
  assert_error (api_call (api, "POST", "/v1/sessions", NULL, LOGIN ("sneaky", "sneaky-pass")), 401,
                "unauthorized", NULL);

  /* ...edits none, itself included... */
  assert_error (api_call (api, "PATCH", "/v1/agents/agent", api->agent, "{\"role\": \"admin\"}"),
                403, "forbidden", NULL);
  assert_error (api_call (api, "PATCH", "/v1/agents/me", api->agent, "{\"role\": \"admin\"}"),
                403, "forbidden", NULL);
  assert_error (api_call (api, "PATCH", "/v1/agents/agent2", api->agent,
                          "{\"password\": \"taken-over\"}"), 403, "forbidden", NULL);
  assert_error (api_call (api, "PUT", "/v1/agents/agent2", api->agent,
                          "{\"username\": \"agent2\", \"role\": \"admin\"}"), 403, "forbidden",
                NULL);
  assert_error (api_call (api, "PATCH", "/v1/agents/agent2", api->teamlead,
                          "{\"role\": \"admin\"}"), 403, "forbidden", NULL);
  /* ...and removes none. */
  assert_error (api_call (api, "DELETE", "/v1/agents/agent2", api->agent, NULL), 403, "forbidden",
                NULL);
  {
    g_autofree char *agent2_after = record_text (api, "/v1/agents/agent2", api->admin);

    g_assert_cmpstr (agent2_after, ==, agent2_before);
  }
  r = api_call (api, "GET", "/v1/agents/me", api->agent, NULL);
  assert_status (r, 200);
  g_assert_cmpstr (str_member (obj (r), "role"), ==, "agent");
  assert_status (api_call (api, "POST", "/v1/sessions", NULL,
                           LOGIN ("agent2", KEFU_TEST_PASSWORD)), 201);

  /* The switch's account is a machine: no customer edits, no reports. */
  assert_error (api_call (api, "POST", "/v1/customers", api->service, "{\"name\": \"Bot\"}"), 403,
                "forbidden", NULL);
  g_assert_cmpuint (count (api, "/v1/customers"), ==, 0);
  api_free (api);
}

static void
test_routes_wrong_method (void)
{
  Api *api = api_start ();
  g_autoptr(JsonObject) paths = fetch_openapi (api);
  g_autoptr(GList) names = json_object_get_members (paths);

  for (GList *p = names; p; p = p->next)
    {
      JsonObject *item = object_member (paths, p->data);
      g_autofree char *path = concrete_path (p->data);

      /* The event stream is a WebSocket endpoint; libsoup answers there. */
      if (g_str_equal (p->data, "/v1/events/stream"))
        continue;
      for (guint i = 0; http_methods[i]; i++)
        {
          g_autofree char *lower = g_ascii_strdown (http_methods[i], -1);
          g_auto(GStrv) allowed = NULL;
          KefuTestResponse *r;
          guint n_listed = 0;

          if (json_object_has_member (item, lower))
            continue;
          r = api_call (api, http_methods[i], path, api->admin, NULL);
          if (r->status != 405)
            FAIL ("%s %s: expected 405, got %u: %.500s", http_methods[i], path, r->status,
                  r->body);
          assert_error (r, 405, "method_not_allowed", NULL);
          g_assert_nonnull (header (r, "Allow"));

          /* Allow names exactly the methods the description lists. */
          allowed = g_strsplit (header (r, "Allow"), ",", -1);
          for (guint a = 0; allowed[a]; a++)
            {
              g_autofree char *method = g_ascii_strdown (g_strstrip (allowed[a]), -1);

              if (!json_object_has_member (item, method))
                FAIL ("%s: Allow lists %s, which openapi.json does not", path, allowed[a]);
            }
          n_listed = json_object_get_size (item);
          g_assert_cmpuint (g_strv_length (allowed), ==, n_listed);
        }
    }

  assert_error (api_call (api, "DELETE", "/v1/customers", api->admin, NULL), 405,
                "method_not_allowed", NULL);
  g_assert_cmpstr (header (api->last, "Allow"), ==, "GET, POST");
  assert_error (api_call (api, "POST", "/healthz", NULL, "{}"), 405, "method_not_allowed", NULL);
  g_assert_cmpstr (header (api->last, "Allow"), ==, "GET");
  api_free (api);
}

static void
test_routes_unknown (void)
{
  static const char * const unknown[] = {
    "/v1/nothing", "/v1/customers/1/nothing", "/v2/customers", "/", "/v1", "/v1/customers/",
    "/v1/agents/me/state/now",
  };
  Api *api = api_start ();

  for (guint i = 0; i < G_N_ELEMENTS (unknown); i++)
    {
      g_test_message ("GET %s", unknown[i]);
      assert_error (api_call (api, "GET", unknown[i], api->admin, NULL), 404, "no_such_route",
                    NULL);
    }
  /* A route needs no token to be found missing. */
  assert_error (api_call (api, "GET", "/v1/nothing", NULL, NULL), 404, "no_such_route", NULL);
  assert_error (api_call (api, "POST", "/v1/nothing", api->admin, "{}"), 404, "no_such_route",
                NULL);
  api_free (api);
}

static void
test_routes_event_stream_needs_upgrade (void)
{
  Api *api = api_start ();

  /* A plain GET is told, in the API's own words, to use a WebSocket. */
  assert_error (api_call (api, "GET", "/v1/events/stream", api->agent, NULL), 400,
                "websocket_required", NULL);
  api_free (api);
}

/* --- CRUD ------------------------------------------------------------------------------ */

static void
test_customers_crud (void)
{
  Api *api = api_start ();
  g_autoptr(JsonObject) created = NULL;
  g_autoptr(JsonObject) history = NULL;
  g_autoptr(JsonArray) items = NULL;
  g_autofree char *path = NULL;
  g_autofree char *history_path = NULL;
  KefuTestResponse *r;
  JsonObject *customer;
  gint64 id;

  created = create (api, "/v1/customers", api->agent,
                    "{\"name\": \"Li Lei\", \"company\": \"ACME Trading\", \"tier\": \"gold\", "
                    "\"owner\": \"agent\", \"phones\": [\"138 0013 8000\"], "
                    "\"emails\": [\"li.lei@example.com\"], "
                    "\"tags\": [\"printer\", \"vip-candidate\"], "
                    "\"notes\": \"Calls on Mondays.\\nPrefers e-mail.\", "
                    "\"account_number\": \"A-1001\"}");
  id = int_member (created, "id");
  g_assert_cmpint (id, >, 0);
  g_assert_cmpint (int_member (created, "version"), ==, 1);
  g_assert_cmpstr (header (api->last, "ETag"), ==, "\"1\"");
  g_assert_cmpstr (str_member (created, "name"), ==, "Li Lei");
  g_assert_cmpstr (json_array_get_string_element (array_member (created, "phones"), 0), ==,
                   "+8613800138000");
  str_member (created, "created_at");
  str_member (created, "updated_at");

  /* Read back as stored. */
  path = g_strdup_printf ("/v1/customers/%" G_GINT64_FORMAT, id);
  r = api_call (api, "GET", path, api->agent, NULL);
  assert_status (r, 200);
  customer = obj (r);
  g_assert_cmpstr (header (r, "ETag"), ==, "\"1\"");
  g_assert_cmpstr (str_member (customer, "name"), ==, "Li Lei");
  g_assert_cmpstr (str_member (customer, "company"), ==, "ACME Trading");
  g_assert_cmpstr (str_member (customer, "tier"), ==, "gold");
  g_assert_cmpstr (str_member (customer, "owner"), ==, "agent");
  g_assert_cmpstr (json_array_get_string_element (array_member (customer, "emails"), 0), ==,
                   "li.lei@example.com");
  g_assert_cmpuint (json_array_get_length (array_member (customer, "tags")), ==, 2);
  g_assert_cmpstr (str_member (customer, "notes"), ==, "Calls on Mondays.\nPrefers e-mail.");
  g_assert_cmpstr (str_member (customer, "account_number"), ==, "A-1001");
  /* The service account may read customers (screen pop). */
  assert_status (api_call (api, "GET", path, api->service, NULL), 200);
  /* The IVR finds a caller by the account number they key in: exactly. */
  items = list_items (api, "/v1/customers?account_number=A-1001", api->service);
  g_assert_cmpuint (json_array_get_length (items), ==, 1);
  g_assert_cmpint (int_member (json_array_get_object_element (items, 0), "id"), ==, id);
  g_clear_pointer (&items, json_array_unref);
  items = list_items (api, "/v1/customers?account_number=A-100", api->service);
  g_assert_cmpuint (json_array_get_length (items), ==, 0);
  g_clear_pointer (&items, json_array_unref);
  assert_error (api_call (api, "GET", "/v1/customers?account_number=A-1001&q=li", api->agent,
                          NULL), 400, "bad_query", NULL);

  /* A patch changes only what it names; null clears a field. */
  r = api_call (api, "PATCH", path, api->agent2, "{\"tier\": \"vip\", \"company\": null}");
  assert_status (r, 200);
  g_assert_cmpint (int_member (obj (r), "version"), ==, 2);
  g_assert_cmpstr (header (r, "ETag"), ==, "\"2\"");
  r = api_call (api, "GET", path, api->agent, NULL);
  assert_status (r, 200);
  customer = obj (r);
  g_assert_cmpstr (str_member (customer, "tier"), ==, "vip");
  g_assert_false (json_object_has_member (customer, "company"));
  g_assert_cmpstr (str_member (customer, "name"), ==, "Li Lei");
  g_assert_cmpstr (str_member (customer, "account_number"), ==, "A-1001");
  g_assert_cmpint (int_member (customer, "id"), ==, id);

  /* A PUT replaces the whole card. */
  r = api_call (api, "PUT", path, api->agent, "{\"name\": \"Li Lei\", \"tier\": \"normal\"}");
  assert_status (r, 200);
  g_assert_cmpint (int_member (obj (r), "version"), ==, 3);
  r = api_call (api, "GET", path, api->agent, NULL);
  customer = obj (r);
  g_assert_cmpstr (str_member (customer, "tier"), ==, "normal");
  g_assert_false (json_object_has_member (customer, "phones"));
  g_assert_false (json_object_has_member (customer, "notes"));
  g_assert_cmpint (int_member (customer, "id"), ==, id);
  /* The number it lost no longer finds it. */
  items = list_items (api, "/v1/customers?phone=13800138000", api->agent);
  g_assert_cmpuint (json_array_get_length (items), ==, 0);
  g_clear_pointer (&items, json_array_unref);

  items = list_items (api, "/v1/customers", api->agent);
  g_assert_true (items_hold_id (items, id));
  g_clear_pointer (&items, json_array_unref);

  history_path = g_strdup_printf ("%s/history", path);
  history = fetch (api, history_path, api->agent);
  g_assert_cmpint (int_member (object_member (history, "customer"), "id"), ==, id);
  g_assert_cmpuint (json_array_get_length (array_member (history, "calls")), ==, 0);
  g_assert_cmpuint (json_array_get_length (array_member (history, "cases")), ==, 0);
  g_assert_cmpuint (json_array_get_length (array_member (history, "faxes")), ==, 0);
  g_assert_cmpuint (json_array_get_length (array_member (history, "contacts")), ==, 0);

  /* Deleting is a supervisor's call. */
  assert_error (api_call (api, "DELETE", path, api->agent, NULL), 403, "forbidden", NULL);
  assert_status (api_call (api, "GET", path, api->agent, NULL), 200);
  r = api_call (api, "DELETE", path, api->supervisor, NULL);
  assert_status (r, 204);
  g_assert_cmpuint (r->length, ==, 0);
  assert_error (api_call (api, "GET", path, api->agent, NULL), 404, "not_found", NULL);
  assert_error (api_call (api, "PATCH", path, api->agent, "{\"tier\": \"vip\"}"), 404,
                "not_found", NULL);
  assert_error (api_call (api, "DELETE", path, api->supervisor, NULL), 404, "not_found", NULL);
  items = list_items (api, "/v1/customers", api->agent);
  g_assert_false (items_hold_id (items, id));

  assert_error (api_call (api, "GET", "/v1/customers/999999", api->agent, NULL), 404, "not_found",
                NULL);
  assert_error (api_call (api, "GET", "/v1/customers/abc", api->agent, NULL), 404, "not_found",
                NULL);
  api_free (api);
}

static void
test_contacts_crud (void)
{
  Api *api = api_start ();
  g_autoptr(JsonObject) contact = NULL;
  g_autoptr(JsonObject) history = NULL;
  g_autoptr(JsonArray) items = NULL;
  g_autofree char *body = NULL;
  g_autofree char *path = NULL;
  g_autofree char *filter = NULL;
  g_autofree char *other_filter = NULL;
  g_autofree char *history_path = NULL;
  KefuTestResponse *r;
  gint64 customer, other, id;

  customer = create_id (api, "/v1/customers", api->agent, "{\"name\": \"Hanmei Trading\"}");
  other = create_id (api, "/v1/customers", api->agent, "{\"name\": \"Other Co\"}");
  body = g_strdup_printf ("{\"customer_id\": %" G_GINT64_FORMAT ", \"name\": \"Han Meimei\", "
                          "\"title\": \"Buyer\", \"phones\": [\"010 8888 9999\"], "
                          "\"emails\": [\"han@example.com\"], \"notes\": \"Mornings only\"}",
                          customer);
  contact = create (api, "/v1/contacts", api->agent, body);
  id = int_member (contact, "id");
  g_assert_cmpint (int_member (contact, "customer_id"), ==, customer);
  g_assert_cmpint (int_member (contact, "version"), ==, 1);
  g_assert_cmpstr (json_array_get_string_element (array_member (contact, "phones"), 0), ==,
                   "+861088889999");

  path = g_strdup_printf ("/v1/contacts/%" G_GINT64_FORMAT, id);
  r = api_call (api, "GET", path, api->agent2, NULL);
  assert_status (r, 200);
  g_assert_cmpstr (str_member (obj (r), "name"), ==, "Han Meimei");
  g_assert_cmpstr (str_member (obj (r), "title"), ==, "Buyer");
  g_assert_cmpstr (str_member (obj (r), "notes"), ==, "Mornings only");

  filter = g_strdup_printf ("/v1/contacts?customer_id=%" G_GINT64_FORMAT, customer);
  items = list_items (api, filter, api->agent);
  g_assert_cmpuint (json_array_get_length (items), ==, 1);
  g_assert_true (items_hold_id (items, id));
  g_clear_pointer (&items, json_array_unref);
  other_filter = g_strdup_printf ("/v1/contacts?customer_id=%" G_GINT64_FORMAT, other);
  items = list_items (api, other_filter, api->agent);
  g_assert_cmpuint (json_array_get_length (items), ==, 0);
  g_clear_pointer (&items, json_array_unref);

  history_path = g_strdup_printf ("/v1/customers/%" G_GINT64_FORMAT "/history", customer);
  history = fetch (api, history_path, api->agent);
  g_assert_true (items_hold_id (array_member (history, "contacts"), id));

  r = api_call (api, "PATCH", path, api->agent, "{\"title\": \"Head of Purchasing\"}");
  assert_status (r, 200);
  g_assert_cmpint (int_member (obj (r), "version"), ==, 2);
  r = api_call (api, "GET", path, api->agent, NULL);
  g_assert_cmpstr (str_member (obj (r), "title"), ==, "Head of Purchasing");
  g_assert_cmpstr (str_member (obj (r), "name"), ==, "Han Meimei");

  g_free (body);
  body = g_strdup_printf ("{\"customer_id\": %" G_GINT64_FORMAT ", \"name\": \"Han Meimei\"}",
                          other);
  r = api_call (api, "PUT", path, api->agent, body);
  assert_status (r, 200);
  g_assert_cmpint (int_member (obj (r), "version"), ==, 3);
  r = api_call (api, "GET", path, api->agent, NULL);
  g_assert_cmpint (int_member (obj (r), "customer_id"), ==, other);
  g_assert_false (json_object_has_member (obj (r), "title"));
  items = list_items (api, other_filter, api->agent);
  g_assert_true (items_hold_id (items, id));

  assert_status (api_call (api, "DELETE", path, api->agent, NULL), 204);
  assert_error (api_call (api, "GET", path, api->agent, NULL), 404, "not_found", NULL);
  g_assert_cmpuint (count (api, "/v1/contacts"), ==, 0);
  api_free (api);
}

static void
test_cases_crud_and_notes (void)
{
  Api *api = api_start ();
  g_autoptr(JsonArray) items = NULL;
  g_autofree char *body = NULL;
  g_autofree char *path = NULL;
  g_autofree char *notes_path = NULL;
  KefuTestResponse *r;
  JsonArray *notes;
  JsonObject *note;
  gint64 customer, id;

  customer = create_id (api, "/v1/customers", api->agent, "{\"name\": \"Wang Fang\"}");
  body = g_strdup_printf ("{\"customer_id\": %" G_GINT64_FORMAT ", "
                          "\"subject\": \"Printer on fire\", \"priority\": \"high\", "
                          "\"status\": \"open\", \"category\": \"hardware\", "
                          "\"disposition\": \"callback\", \"call_id\": \"sw-1\", "
                          "\"assignee\": \"agent\"}", customer);
  r = api_call (api, "POST", "/v1/cases", api->agent, body);
  assert_status (r, 201);
  id = int_member (obj (r), "id");
  g_assert_cmpint (int_member (obj (r), "version"), ==, 1);
  g_assert_cmpuint (json_array_get_length (array_member (obj (r), "notes")), ==, 0);

  /* Notes carry who wrote them: the logged-in user, whatever the body says. */
  notes_path = g_strdup_printf ("/v1/cases/%" G_GINT64_FORMAT "/notes", id);
  r = api_call (api, "POST", notes_path, api->agent,
                "{\"body\": \"Called back, no answer.\", \"author\": \"admin\"}");
  assert_status (r, 201);
  g_assert_cmpint (int_member (obj (r), "version"), ==, 2);
  r = api_call (api, "POST", notes_path, api->supervisor, "{\"body\": \"Escalated to field.\"}");
  assert_status (r, 201);

  path = g_strdup_printf ("/v1/cases/%" G_GINT64_FORMAT, id);
  r = api_call (api, "GET", path, api->agent2, NULL);
  assert_status (r, 200);
  g_assert_cmpstr (str_member (obj (r), "subject"), ==, "Printer on fire");
  g_assert_cmpstr (str_member (obj (r), "priority"), ==, "high");
  g_assert_cmpstr (str_member (obj (r), "category"), ==, "hardware");
  g_assert_cmpstr (str_member (obj (r), "disposition"), ==, "callback");
  g_assert_cmpstr (str_member (obj (r), "call_id"), ==, "sw-1");
  g_assert_cmpstr (str_member (obj (r), "assignee"), ==, "agent");
  g_assert_cmpint (int_member (obj (r), "customer_id"), ==, customer);
  g_assert_cmpint (int_member (obj (r), "version"), ==, 3);
  notes = array_member (obj (r), "notes");
  g_assert_cmpuint (json_array_get_length (notes), ==, 2);
  note = json_array_get_object_element (notes, 0);
  g_assert_cmpstr (str_member (note, "author"), ==, "agent");
  g_assert_cmpstr (str_member (note, "body"), ==, "Called back, no answer.");
  str_member (note, "created_at");
  note = json_array_get_object_element (notes, 1);
  g_assert_cmpstr (str_member (note, "author"), ==, "supervisor");
  g_assert_cmpstr (str_member (note, "body"), ==, "Escalated to field.");

  assert_error (api_call (api, "POST", notes_path, api->agent, "{}"), 400, "missing_field", "body");
  assert_error (api_call (api, "POST", "/v1/cases/999999/notes", api->agent,
                          "{\"body\": \"Lost note\"}"), 404, "not_found", NULL);

  /* Editing the case keeps its notes. */
  r = api_call (api, "PATCH", path, api->agent, "{\"status\": \"resolved\"}");
  assert_status (r, 200);
  g_assert_cmpint (int_member (obj (r), "version"), ==, 4);
  g_assert_cmpuint (json_array_get_length (array_member (obj (r), "notes")), ==, 2);
  items = list_items (api, "/v1/cases?status=resolved", api->agent);
  g_assert_true (items_hold_id (items, id));
  g_clear_pointer (&items, json_array_unref);
  items = list_items (api, "/v1/cases?status=open", api->agent);
  g_assert_false (items_hold_id (items, id));
  g_clear_pointer (&items, json_array_unref);
  items = list_items (api, "/v1/cases?assignee=agent&category=hardware", api->agent);
  g_assert_true (items_hold_id (items, id));
  g_clear_pointer (&items, json_array_unref);

  g_free (body);
  body = g_strdup_printf ("{\"customer_id\": %" G_GINT64_FORMAT ", \"subject\": \"Printer fixed\"}",
                          customer);
  r = api_call (api, "PUT", path, api->agent, body);
  assert_status (r, 200);
  r = api_call (api, "GET", path, api->agent, NULL);
  g_assert_cmpstr (str_member (obj (r), "subject"), ==, "Printer fixed");
  g_assert_false (json_object_has_member (obj (r), "priority"));
  g_assert_cmpuint (json_array_get_length (array_member (obj (r), "notes")), ==, 2);

  assert_error (api_call (api, "DELETE", path, api->agent, NULL), 403, "forbidden", NULL);
  assert_status (api_call (api, "DELETE", path, api->supervisor, NULL), 204);
  assert_error (api_call (api, "GET", path, api->agent, NULL), 404, "not_found", NULL);
  g_assert_cmpuint (count (api, "/v1/cases"), ==, 0);
  api_free (api);
}

static void
test_calls_crud (void)
{
  Api *api = api_start ();
  g_autoptr(JsonArray) items = NULL;
  KefuTestResponse *r;
  const char *path = "/v1/calls/sw-20261125-0001";

  /* The switch writes call records under its own call id. */
  r = api_call (api, "POST", "/v1/calls", api->service,
                "{\"id\": \"sw-20261125-0001\", \"direction\": \"inbound\", "
                "\"caller\": \"+8613800138000\", \"callee\": \"4008001234\", \"queue\": \"sales\", "
                "\"offered_at\": \"2026-11-25T09:00:00+08:00\", \"ivr_path\": \"1>2\"}");
  assert_status (r, 201);
  g_assert_cmpstr (str_member (obj (r), "id"), ==, "sw-20261125-0001");
  g_assert_cmpint (int_member (obj (r), "version"), ==, 1);
  /* Times are kept in UTC, whatever zone they were given in. */
  {
    g_autoptr(GDateTime) offered = g_date_time_new_from_iso8601 (str_member (obj (r), "offered_at"),
                                                                 NULL);

    g_assert_nonnull (offered);
    g_assert_true (g_str_has_suffix (str_member (obj (r), "offered_at"), "Z"));
    g_assert_cmpint (g_date_time_to_unix (offered), ==, 1795568400);
  }

  r = api_call (api, "PATCH", path, api->service,
                "{\"agent\": \"agent\", \"answered_at\": \"2026-11-25T01:00:12Z\", "
                "\"ended_at\": \"2026-11-25T01:04:12Z\", \"wait_s\": 12, \"talk_s\": 240.5, "
                "\"outcome\": \"answered\", \"recording\": \"sw-20261125-0001.opus\"}");
  assert_status (r, 200);
  g_assert_cmpint (int_member (obj (r), "version"), ==, 2);

  r = api_call (api, "GET", path, api->agent, NULL);
  assert_status (r, 200);
  g_assert_cmpstr (str_member (obj (r), "agent"), ==, "agent");
  g_assert_cmpstr (str_member (obj (r), "outcome"), ==, "answered");
  g_assert_cmpstr (str_member (obj (r), "queue"), ==, "sales");
  g_assert_cmpstr (str_member (obj (r), "ivr_path"), ==, "1>2");
  g_assert_cmpfloat (number_member (obj (r), "talk_s"), ==, 240.5);
  g_assert_cmpfloat (number_member (obj (r), "wait_s"), ==, 12);

  items = list_items (api, "/v1/calls?queue=sales", api->agent);
  g_assert_cmpuint (json_array_get_length (items), ==, 1);
  g_clear_pointer (&items, json_array_unref);
  items = list_items (api, "/v1/calls?agent=agent2", api->agent);
  g_assert_cmpuint (json_array_get_length (items), ==, 0);
  g_clear_pointer (&items, json_array_unref);

  /* Agents read call records; they do not write them. */
  assert_error (api_call (api, "POST", "/v1/calls", api->agent,
                          "{\"id\": \"fake\", \"direction\": \"inbound\"}"), 403, "forbidden",
                NULL);
  assert_error (api_call (api, "PATCH", path, api->agent, "{\"outcome\": \"abandoned\"}"), 403,
                "forbidden", NULL);
  r = api_call (api, "GET", path, api->agent, NULL);
  g_assert_cmpstr (str_member (obj (r), "outcome"), ==, "answered");

  assert_error (api_call (api, "POST", "/v1/calls", api->service,
                          "{\"id\": \"sw-20261125-0001\", \"direction\": \"outbound\"}"), 409,
                "duplicate", NULL);
  assert_error (api_call (api, "PATCH", path, api->service, "{\"id\": \"sw-other\"}"), 422,
                "invalid", NULL);
  assert_error (api_call (api, "GET", "/v1/calls/sw-none", api->agent, NULL), 404, "not_found",
                NULL);
  g_assert_cmpuint (count (api, "/v1/calls"), ==, 1);
  r = api_call (api, "GET", path, api->agent, NULL);
  g_assert_cmpstr (str_member (obj (r), "direction"), ==, "inbound");
  g_assert_cmpint (int_member (obj (r), "version"), ==, 2);
  api_free (api);
}

/* Fetches a fax document as bytes: the harness keeps bodies as text. */
static GBytes *
download (Api         *api,
          const char  *path,
          const char  *token,
          guint       *status,
          char       **content_type)
{
  g_autofree char *uri = g_strconcat (api->server->url, path, NULL);
  g_autofree char *authorization = g_strconcat ("Bearer ", token, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", uri);
  g_autoptr(GError) error = NULL;
  GBytes *bytes;

  soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
                                authorization);
  bytes = soup_session_send_and_read (api->server->session, msg, NULL, &error);
  g_assert_no_error (error);
  *status = soup_message_get_status (msg);
  *content_type = g_strdup (soup_message_headers_get_one (soup_message_get_response_headers (msg),
                                                          "Content-Type"));
  return bytes;
}

/* Something that looks like a TIFF and is full of NUL bytes. */
static GBytes *
make_document (gsize size)
{
  guint8 *data = g_malloc (size);
  static const guint8 tiff_header[] = { 'I', 'I', 42, 0, 8, 0, 0, 0 };

  for (gsize i = 0; i < size; i++)
    data[i] = (i % 7 == 0) ? 0 : (guint8) ((i * 31) & 0xff);
  memcpy (data, tiff_header, MIN (size, sizeof tiff_header));
  return g_bytes_new_take (data, size);
}

static void
assert_document (Api        *api,
                 const char *path,
                 GBytes     *expected,
                 const char *expected_type)
{
  g_autofree char *content_type = NULL;
  g_autoptr(GBytes) got = NULL;
  guint status = 0;

  got = download (api, path, api->agent, &status, &content_type);
  g_assert_cmpuint (status, ==, 200);
  g_assert_cmpstr (content_type, ==, expected_type);
  g_assert_cmpuint (g_bytes_get_size (got), ==, g_bytes_get_size (expected));
  g_assert_true (g_bytes_equal (got, expected));
}

static void
test_faxes_document (void)
{
  Api *api = api_start ();
  g_autoptr(GBytes) document = make_document (3000);
  g_autoptr(GBytes) largest = make_document (1048576);
  g_autoptr(GBytes) too_big = make_document (1048577);
  g_autofree char *path = NULL;
  g_autofree char *document_path = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  KefuTestResponse *r;
  gint64 id;

  id = create_id (api, "/v1/faxes", api->agent,
                  "{\"direction\": \"inbound\", \"remote_number\": \"+861088889999\", "
                  "\"subject\": \"Invoice 2026-11\", \"pages\": 2, \"status\": \"received\", "
                  "\"filename\": \"invoice.tiff\"}");
  path = g_strdup_printf ("/v1/faxes/%" G_GINT64_FORMAT, id);
  document_path = g_strdup_printf ("%s/document", path);

  /* No document yet. */
  assert_error (api_call (api, "GET", document_path, api->agent, NULL), 404, "not_found", NULL);

  r = api_call_full (api, "PUT", document_path, api->agent, "image/tiff",
                     g_bytes_get_data (document, NULL), g_bytes_get_size (document), NULL);
  assert_status (r, 200);
  g_assert_cmpstr (str_member (obj (r), "content_type"), ==, "image/tiff");
  g_assert_cmpint (int_member (obj (r), "size"), ==, 3000);
  g_assert_cmpint (int_member (obj (r), "version"), ==, 2);
  assert_document (api, document_path, document, "image/tiff");

  r = api_call (api, "GET", path, api->agent, NULL);
  assert_status (r, 200);
  g_assert_cmpstr (str_member (obj (r), "subject"), ==, "Invoice 2026-11");
  g_assert_cmpint (int_member (obj (r), "pages"), ==, 2);
  g_assert_cmpint (int_member (obj (r), "size"), ==, 3000);

  /* Refusals leave the record and its document as they were. */
  before = record_text (api, path, api->agent);
  r = api_call_full (api, "PUT", document_path, api->agent, "text/plain", "not a fax", 9, NULL);
  assert_error (r, 415, "unsupported_media_type", NULL);
  r = api_call_full (api, "PUT", document_path, api->agent, "application/json", "{}", 2, NULL);
  assert_error (r, 415, "unsupported_media_type", NULL);
  r = api_call_full (api, "PUT", document_path, api->agent, "image/tiff",
                     g_bytes_get_data (too_big, NULL), g_bytes_get_size (too_big), NULL);
  assert_error (r, 413, "too_large", NULL);
  r = api_call_full (api, "PUT", document_path, api->agent, "image/tiff", "", 0, NULL);
  assert_error (r, 400, "empty_document", NULL);
  after = record_text (api, path, api->agent);
  g_assert_cmpstr (after, ==, before);
  assert_document (api, document_path, document, "image/tiff");

  /* The largest document allowed goes in and comes back whole. */
  r = api_call_full (api, "PUT", document_path, api->service, "image/tiff",
                     g_bytes_get_data (largest, NULL), g_bytes_get_size (largest), NULL);
  assert_status (r, 200);
  g_assert_cmpint (int_member (obj (r), "size"), ==, 1048576);
  assert_document (api, document_path, largest, "image/tiff");

  /* A PDF replaces it, with its own type. */
  r = api_call_full (api, "PUT", document_path, api->agent, "application/pdf",
                     "%PDF-1.4\n\0\0binary\0", 18, NULL);
  assert_status (r, 200);
  g_assert_cmpstr (str_member (obj (r), "content_type"), ==, "application/pdf");
  {
    g_autoptr(GBytes) pdf = g_bytes_new_static ("%PDF-1.4\n\0\0binary\0", 18);

    assert_document (api, document_path, pdf, "application/pdf");
  }

  r = api_call (api, "PATCH", path, api->service, "{\"status\": \"failed\", \"pages\": 3}");
  assert_status (r, 200);
  g_assert_cmpstr (str_member (obj (r), "status"), ==, "failed");
  g_assert_cmpstr (str_member (obj (r), "content_type"), ==, "application/pdf");

  assert_error (api_call_full (api, "PUT", "/v1/faxes/999999/document", api->agent, "image/tiff",
                               g_bytes_get_data (document, NULL), g_bytes_get_size (document),
                               NULL), 404, "not_found", NULL);
  api_free (api);
}

static void
assert_no_password (KefuTestResponse *response,
                    const char       *password)
{
  if (strstr (response->body, password) || strstr (response->body, "password") ||
      strstr (response->body, "$argon2"))
    FAIL ("a password (or its hash) shows in a response: %.2000s", response->body);
}

static void
test_agents_crud (void)
{
  Api *api = api_start ();
  g_autofree char *token = NULL;
  g_autofree char *path = NULL;
  KefuTestResponse *r;
  gint64 id;

  r = api_call (api, "POST", "/v1/agents", api->admin,
                "{\"username\": \"newbie\", \"name\": \"Zhou Xin\", \"role\": \"agent\", "
                "\"password\": \"s3cret-pass\", \"extension\": \"1009\", "
                "\"skills\": {\"sales\": 50, \"support\": 80}}");
  assert_status (r, 201);
  assert_no_password (r, "s3cret-pass");
  id = int_member (obj (r), "id");
  g_assert_cmpstr (str_member (obj (r), "username"), ==, "newbie");
  g_assert_cmpstr (str_member (obj (r), "role"), ==, "agent");
  g_assert_cmpint (int_member (object_member (obj (r), "skills"), "support"), ==, 80);
  g_assert_cmpint (count (api, "/v1/agents"), ==, 7);

  /* The new agent logs in with the password the admin gave. */
  r = api_call (api, "POST", "/v1/sessions", NULL, LOGIN ("newbie", "s3cret-pass"));
  assert_status (r, 201);
  assert_no_password (r, "s3cret-pass");
  g_assert_cmpstr (str_member (obj (r), "role"), ==, "agent");
  g_assert_cmpint (int_member (obj (r), "agent_id"), ==, id);
  token = g_strdup (str_member (obj (r), "token"));

  /* No answer ever holds the password or its hash. */
  path = g_strdup_printf ("/v1/agents/%" G_GINT64_FORMAT, id);
  r = api_call (api, "GET", path, api->admin, NULL);
  assert_status (r, 200);
  assert_no_password (r, "s3cret-pass");
  g_assert_cmpstr (str_member (obj (r), "name"), ==, "Zhou Xin");
  g_assert_cmpstr (str_member (obj (r), "extension"), ==, "1009");
  r = api_call (api, "GET", "/v1/agents/newbie", api->agent, NULL);
  assert_status (r, 200);
  assert_no_password (r, "s3cret-pass");
  g_assert_cmpint (int_member (obj (r), "id"), ==, id);
  r = api_call (api, "GET", "/v1/agents/me", token, NULL);
  assert_status (r, 200);
  assert_no_password (r, "s3cret-pass");
  g_assert_cmpstr (str_member (obj (r), "username"), ==, "newbie");
  r = api_call (api, "GET", "/v1/agents?limit=500", api->admin, NULL);
  assert_status (r, 200);
  assert_no_password (r, "s3cret-pass");
  r = api_call (api, "GET", "/v1/agents?role=agent", api->admin, NULL);
  assert_status (r, 200);
  g_assert_cmpuint (json_array_get_length (array_member (obj (r), "items")), ==, 3);

  r = api_call (api, "PATCH", path, api->admin,
                "{\"role\": \"supervisor\", \"name\": \"Zhou X.\"}");
  assert_status (r, 200);
  assert_no_password (r, "s3cret-pass");
  g_assert_cmpstr (str_member (obj (r), "role"), ==, "supervisor");
  r = api_call (api, "PATCH", path, api->admin, "{\"password\": \"even-more-s3cret\"}");
  assert_status (r, 200);
  assert_no_password (r, "even-more-s3cret");
  r = api_call (api, "GET", "/v1/changes?since=0&limit=5000", api->agent, NULL);
  assert_status (r, 200);
  assert_no_password (r, "s3cret-pass");
  assert_no_password (r, "even-more-s3cret");

  /* The new password works, the old one no longer. */
  assert_error (api_call (api, "POST", "/v1/sessions", NULL, LOGIN ("newbie", "s3cret-pass")), 401,
                "unauthorized", NULL);
  r = api_call (api, "POST", "/v1/sessions", NULL, LOGIN ("newbie", "even-more-s3cret"));
  assert_status (r, 201);
  g_assert_cmpstr (str_member (obj (r), "role"), ==, "supervisor");

  /* Bad agents are refused, and nothing is stored. */
  assert_error (api_call (api, "POST", "/v1/agents", api->admin,
                          "{\"username\": \"shorty\", \"role\": \"agent\", "
                          "\"password\": \"short\"}"),
                400, "weak_password", "password");
  assert_error (api_call (api, "POST", "/v1/agents", api->admin,
                          "{\"username\": \"nopass\", \"role\": \"agent\"}"), 400,
                "missing_field", NULL);
  assert_error (api_call (api, "POST", "/v1/agents", api->admin,
                          "{\"username\": \"newbie\", \"role\": \"agent\", "
                          "\"password\": \"another-pass\"}"), 409, "duplicate", NULL);
  assert_error (api_call (api, "POST", "/v1/agents", api->admin,
                          "{\"username\": \"New Bie\", \"role\": \"agent\", "
                          "\"password\": \"another-pass\"}"), 400, "invalid_value", "username");
  assert_error (api_call (api, "POST", "/v1/agents", api->admin,
                          "{\"username\": \"boss\", \"role\": \"owner\", "
                          "\"password\": \"another-pass\"}"), 400, "invalid_value", "role");
  g_assert_cmpint (count (api, "/v1/agents"), ==, 7);

  /* A removed agent cannot log in, and the name is free again. */
  assert_status (api_call (api, "DELETE", path, api->admin, NULL), 204);
  assert_error (api_call (api, "GET", path, api->admin, NULL), 404, "not_found", NULL);
  assert_error (api_call (api, "GET", "/v1/agents/newbie", api->admin, NULL), 404, "not_found",
                NULL);
  assert_error (api_call (api, "POST", "/v1/sessions", NULL, LOGIN ("newbie", "even-more-s3cret")),
                401, "unauthorized", NULL);
  g_assert_cmpint (count (api, "/v1/agents"), ==, 6);
  assert_status (api_call (api, "POST", "/v1/agents", api->admin,
                           "{\"username\": \"newbie\", \"role\": \"agent\", "
                           "\"password\": \"fresh-start-1\"}"), 201);
  api_free (api);
}

/* A session is ended the moment its user's password changes or the user
 * is removed, and a new role holds from the next request: not some time
 * later, when a cache happens to expire. */
static void
test_agents_password_change_ends_sessions (void)
{
  Api *api = api_start ();
  g_autofree char *token = NULL;
  KefuTestResponse *r;

  assert_status (api_call (api, "POST", "/v1/agents", api->admin,
                           "{\"username\": \"mover\", \"role\": \"agent\", "
                           "\"password\": \"first-pass-1\"}"), 201);
  r = api_call (api, "POST", "/v1/sessions", NULL, LOGIN ("mover", "first-pass-1"));
  assert_status (r, 201);
  token = g_strdup (str_member (obj (r), "token"));
  assert_status (api_call (api, "GET", "/v1/customers", token, NULL), 200);

  assert_status (api_call (api, "PATCH", "/v1/agents/mover", api->admin,
                           "{\"password\": \"second-pass-2\"}"), 200);
  assert_unauthorized (api_call (api, "GET", "/v1/customers", token, NULL),
                       "a session from before the password change");
  assert_unauthorized (api_call (api, "GET", "/v1/sessions/current", token, NULL),
                       "a session from before the password change");
  /* Other users' sessions go on. */
  assert_status (api_call (api, "GET", "/v1/customers", api->admin, NULL), 200);
  assert_status (api_call (api, "POST", "/v1/sessions", NULL, LOGIN ("mover", "second-pass-2")),
                 201);
  api_free (api);
}

static void
test_agents_delete_ends_sessions (void)
{
  Api *api = api_start ();
  g_autofree char *token = NULL;
  KefuTestResponse *r;

  assert_status (api_call (api, "POST", "/v1/agents", api->admin,
                           "{\"username\": \"leaver\", \"role\": \"agent\", "
                           "\"password\": \"leaving-soon\"}"), 201);
  r = api_call (api, "POST", "/v1/sessions", NULL, LOGIN ("leaver", "leaving-soon"));
  assert_status (r, 201);
  token = g_strdup (str_member (obj (r), "token"));
  assert_status (api_call (api, "GET", "/v1/customers", token, NULL), 200);

  assert_status (api_call (api, "DELETE", "/v1/agents/leaver", api->admin, NULL), 204);
  assert_unauthorized (api_call (api, "GET", "/v1/customers", token, NULL),
                       "the session of a removed agent");
  assert_unauthorized (api_call (api, "POST", "/v1/customers", token, "{\"name\": \"Ghost\"}"),
                       "the session of a removed agent");
  g_assert_cmpuint (count (api, "/v1/customers"), ==, 0);
  assert_error (api_call (api, "POST", "/v1/sessions", NULL, LOGIN ("leaver", "leaving-soon")),
                401, "unauthorized", NULL);
  api_free (api);
}

static void
test_agents_role_change_takes_effect (void)
{
  Api *api = api_start ();
  g_autofree char *path = NULL;
  gint64 id;

  id = create_id (api, "/v1/customers", api->agent, "{\"name\": \"Keep Me\"}");
  path = g_strdup_printf ("/v1/customers/%" G_GINT64_FORMAT, id);
  /* The supervisor has been at work: their session is warm. */
  assert_status (api_call (api, "GET", "/v1/sessions/current", api->supervisor, NULL), 200);

  assert_status (api_call (api, "PATCH", "/v1/agents/supervisor", api->admin,
                           "{\"role\": \"agent\"}"), 200);
  assert_error (api_call (api, "DELETE", path, api->supervisor, NULL), 403, "forbidden", NULL);
  assert_status (api_call (api, "GET", path, api->agent, NULL), 200);
  api_free (api);
}

static void
test_queues (void)
{
  Api *api = api_start ();
  g_autofree char *path = NULL;
  g_autofree char *live_path = NULL;
  KefuTestResponse *r;
  gint64 id;

  r = api_call (api, "POST", "/v1/queues", api->admin,
                "{\"name\": \"sales\", \"description\": \"Sales line\", "
                "\"strategy\": \"longest-idle\", \"sl_threshold_s\": 20, \"sl_target\": 0.8, "
                "\"max_wait_s\": 600, \"priority\": 5}");
  assert_status (r, 201);
  id = int_member (obj (r), "id");
  g_assert_cmpstr (str_member (obj (r), "name"), ==, "sales");

  path = g_strdup_printf ("/v1/queues/%" G_GINT64_FORMAT, id);
  r = api_call (api, "GET", path, api->agent, NULL);
  assert_status (r, 200);
  g_assert_cmpstr (str_member (obj (r), "strategy"), ==, "longest-idle");
  g_assert_cmpfloat (number_member (obj (r), "sl_target"), ==, 0.8);
  g_assert_cmpint (int_member (obj (r), "priority"), ==, 5);
  assert_status (api_call (api, "GET", path, api->service, NULL), 200);

  /* The live panel finds a queue by number or by name. */
  live_path = g_strdup_printf ("%s/live", path);
  r = api_call (api, "GET", live_path, api->supervisor, NULL);
  assert_status (r, 200);
  g_assert_cmpstr (str_member (obj (r), "queue"), ==, "sales");
  r = api_call (api, "GET", "/v1/queues/sales/live", api->supervisor, NULL);
  assert_status (r, 200);
  g_assert_cmpstr (str_member (obj (r), "queue"), ==, "sales");
  int_member (obj (r), "waiting");
  assert_error (api_call (api, "GET", "/v1/queues/sales/live", api->agent, NULL), 403,
                "forbidden", NULL);
  assert_error (api_call (api, "GET", "/v1/queues/nosuch/live", api->supervisor, NULL), 404,
                "not_found", NULL);
  assert_error (api_call (api, "GET", "/v1/queues/999999/live", api->supervisor, NULL), 404,
                "not_found", NULL);

  r = api_call (api, "PATCH", path, api->admin, "{\"strategy\": \"skills-based\"}");
  assert_status (r, 200);
  g_assert_cmpint (int_member (obj (r), "version"), ==, 2);
  assert_error (api_call (api, "PATCH", path, api->supervisor, "{\"strategy\": \"ring-all\"}"), 403,
                "forbidden", NULL);
  r = api_call (api, "GET", path, api->agent, NULL);
  g_assert_cmpstr (str_member (obj (r), "strategy"), ==, "skills-based");
  r = api_call (api, "PUT", path, api->admin, "{\"name\": \"sales\", \"description\": \"Sales\"}");
  assert_status (r, 200);
  g_assert_false (json_object_has_member (obj (r), "strategy"));

  assert_error (api_call (api, "POST", "/v1/queues", api->admin, "{\"name\": \"sales\"}"), 409,
                "duplicate", NULL);
  assert_error (api_call (api, "POST", "/v1/queues", api->admin, "{\"name\": \"Sales Line\"}"),
                400, "invalid_value", "name");
  assert_error (api_call (api, "POST", "/v1/queues", api->admin,
                          "{\"name\": \"vip\", \"sl_target\": 1.5}"), 400, "invalid_value",
                "sl_target");
  g_assert_cmpuint (count (api, "/v1/queues"), ==, 1);

  assert_status (api_call (api, "DELETE", path, api->admin, NULL), 204);
  assert_error (api_call (api, "GET", "/v1/queues/sales/live", api->supervisor, NULL), 404,
                "not_found", NULL);
  g_assert_cmpuint (count (api, "/v1/queues"), ==, 0);
  /* The name is free again. */
  assert_status (api_call (api, "POST", "/v1/queues", api->admin, "{\"name\": \"sales\"}"), 201);
  api_free (api);
}

/* --- finding customers ---------------------------------------------------------------- */

static gint64
create_customer (Api        *api,
                 const char *name,
                 const char *phone)
{
  g_autoptr(JsonObject) doc = json_object_new ();
  g_autofree char *body = NULL;

  json_object_set_string_member (doc, "name", name);
  if (phone)
    {
      JsonArray *phones = json_array_new ();

      json_array_add_string_element (phones, phone);
      json_object_set_array_member (doc, "phones", phones);
    }
  body = encode (doc);
  return create_id (api, "/v1/customers", api->agent, body);
}

/* The ids a search finds, in the order given. */
static GArray *
search_ids (Api        *api,
            const char *parameter,
            const char *value)
{
  g_autofree char *escaped = escape (value);
  g_autofree char *path = g_strdup_printf ("/v1/customers?%s=%s", parameter, escaped);
  g_autoptr(JsonArray) items = list_items (api, path, api->agent);
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (gint64));

  for (guint i = 0; i < json_array_get_length (items); i++)
    {
      gint64 id = int_member (json_array_get_object_element (items, i), "id");

      g_array_append_val (ids, id);
    }
  return ids;
}

static gboolean
ids_hold (GArray *ids,
          gint64  id)
{
  for (guint i = 0; i < ids->len; i++)
    if (g_array_index (ids, gint64, i) == id)
      return TRUE;
  return FALSE;
}

static void
test_customers_phone_lookup (void)
{
  static const char * const typed[] = {
    "010-12345678", "+86 10 1234 5678", "008610 1234 5678", "(010) 1234-5678", "01012345678",
  };
  Api *api = api_start ();
  gint64 wang, other;

  wang = create_customer (api, "Wang Fang", "(010) 1234-5678");
  other = create_customer (api, "Zhao Lei", "010-1234-5679");
  create_customer (api, "No Phone", NULL);

  for (guint i = 0; i < G_N_ELEMENTS (typed); i++)
    {
      g_autoptr(GArray) ids = search_ids (api, "phone", typed[i]);

      g_test_message ("phone=%s", typed[i]);
      g_assert_cmpuint (ids->len, ==, 1);
      g_assert_cmpint (g_array_index (ids, gint64, 0), ==, wang);
    }
  {
    g_autoptr(GArray) ids = search_ids (api, "phone", "010 1234 5679");

    g_assert_cmpuint (ids->len, ==, 1);
    g_assert_cmpint (g_array_index (ids, gint64, 0), ==, other);
  }
  {
    g_autoptr(GArray) ids = search_ids (api, "phone", "010 8765 4321");

    g_assert_cmpuint (ids->len, ==, 0);
  }

  assert_error (api_call (api, "GET", "/v1/customers?phone=010-CALL-NOW", api->agent, NULL), 400,
                "bad_phone", NULL);
  assert_error (api_call (api, "GET", "/v1/customers?phone=abc", api->agent, NULL), 400,
                "bad_phone", NULL);
  assert_error (api_call (api, "GET", "/v1/customers?phone=010&q=wang", api->agent, NULL), 400,
                "bad_query", NULL);
  assert_error (api_call (api, "GET", "/v1/customers?colour=red", api->agent, NULL), 400,
                "bad_query", NULL);
  /* The switch looks callers up too. */
  assert_status (api_call (api, "GET", "/v1/customers?phone=01012345678", api->service, NULL),
                 200);
  api_free (api);
}

static void
test_customers_search (void)
{
  Api *api = api_start ();
  gint64 zhang_wei, zhang_san, li_si, smith, smithers, jones;

  zhang_wei = create_customer (api, "张伟", "138 0013 8000");
  zhang_san = create_customer (api, "张三丰", "010 6552 8888");
  li_si = create_customer (api, "李四", "021 5555 1234");
  smith = create_customer (api, "Smith, John", NULL);
  smithers = create_customer (api, "SMITHERS Ltd", NULL);
  jones = create_customer (api, "Jones", "138 0013 9999");

  {
    g_autoptr(GArray) ids = search_ids (api, "q", "张");

    g_assert_cmpuint (ids->len, ==, 2);
    g_assert_true (ids_hold (ids, zhang_wei));
    g_assert_true (ids_hold (ids, zhang_san));
  }
  {
    g_autoptr(GArray) ids = search_ids (api, "q", "张三");

    g_assert_cmpuint (ids->len, ==, 1);
    g_assert_true (ids_hold (ids, zhang_san));
  }
  {
    g_autoptr(GArray) ids = search_ids (api, "q", "李");

    g_assert_cmpuint (ids->len, ==, 1);
    g_assert_true (ids_hold (ids, li_si));
  }
  {
    g_autoptr(GArray) ids = search_ids (api, "q", "smi");

    g_assert_cmpuint (ids->len, ==, 2);
    g_assert_true (ids_hold (ids, smith));
    g_assert_true (ids_hold (ids, smithers));
  }
  {
    g_autoptr(GArray) ids = search_ids (api, "q", "SMITHE");

    g_assert_cmpuint (ids->len, ==, 1);
    g_assert_true (ids_hold (ids, smithers));
  }
  {
    g_autoptr(GArray) ids = search_ids (api, "q", "  jones ");

    g_assert_cmpuint (ids->len, ==, 1);
    g_assert_true (ids_hold (ids, jones));
  }
  {
    /* A name in the middle is not a prefix. */
    g_autoptr(GArray) ids = search_ids (api, "q", "John");

    g_assert_cmpuint (ids->len, ==, 0);
  }
  {
    /* The start of a number, as typed. */
    g_autoptr(GArray) ids = search_ids (api, "q", "138 0013");

    g_assert_cmpuint (ids->len, ==, 2);
    g_assert_true (ids_hold (ids, zhang_wei));
    g_assert_true (ids_hold (ids, jones));
  }
  {
    g_autoptr(GArray) ids = search_ids (api, "q", "010-6552");

    g_assert_cmpuint (ids->len, ==, 1);
    g_assert_true (ids_hold (ids, zhang_san));
  }
  {
    g_autoptr(GArray) ids = search_ids (api, "q", "+86 21");

    g_assert_cmpuint (ids->len, ==, 1);
    g_assert_true (ids_hold (ids, li_si));
  }

  assert_error (api_call (api, "GET", "/v1/customers?q=", api->agent, NULL), 400, "bad_query",
                NULL);
  assert_error (api_call (api, "GET", "/v1/customers?q=%20%20", api->agent, NULL), 400,
                "bad_query", NULL);
  api_free (api);
}

/* Follows next_offset from the first page to the last. */
static GArray *
walk_pages (Api        *api,
            const char *path,
            guint       limit,
            guint      *n_pages)
{
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  gint64 offset = 0;

  *n_pages = 0;
  while (offset >= 0)
    {
      g_autofree char *page = g_strdup_printf ("%s%slimit=%u&offset=%" G_GINT64_FORMAT, path,
                                               strchr (path, '?') ? "&" : "?", limit, offset);
      KefuTestResponse *r = api_call (api, "GET", page, api->agent, NULL);
      JsonArray *items;
      JsonNode *next;

      assert_status (r, 200);
      items = array_member (obj (r), "items");
      g_assert_cmpint (int_member (obj (r), "offset"), ==, offset);
      g_assert_cmpint (int_member (obj (r), "limit"), ==, limit);
      g_assert_cmpuint (json_array_get_length (items), <=, limit);
      for (guint i = 0; i < json_array_get_length (items); i++)
        {
          gint64 id = int_member (json_array_get_object_element (items, i), "id");

          g_array_append_val (ids, id);
        }
      (*n_pages)++;
      g_assert_cmpuint (*n_pages, <=, 10);
      next = member (obj (r), "next_offset");
      if (JSON_NODE_HOLDS_NULL (next))
        {
          g_assert_cmpuint (json_array_get_length (items), <, limit);
          offset = -1;
        }
      else
        {
          g_assert_cmpint (json_node_get_int (next), ==, offset + limit);
          offset = json_node_get_int (next);
        }
    }
  return ids;
}

static void
test_customers_paging (void)
{
  Api *api = api_start ();
  gint64 created[7];
  guint n_pages;

  /* Created out of name order: pages follow the names. */
  for (guint i = 0; i < G_N_ELEMENTS (created); i++)
    {
      g_autofree char *name = g_strdup_printf ("Page customer %u", (i * 3) % 7);

      created[(i * 3) % 7] = create_customer (api, name, NULL);
    }
  create_customer (api, "Another one", NULL);

  {
    g_autoptr(GArray) ids = walk_pages (api, "/v1/customers?q=page", 3, &n_pages);

    g_assert_cmpuint (n_pages, ==, 3);
    g_assert_cmpuint (ids->len, ==, 7);
    for (guint i = 0; i < 7; i++)
      g_assert_cmpint (g_array_index (ids, gint64, i), ==, created[i]);
  }
  {
    g_autoptr(GArray) ids = walk_pages (api, "/v1/customers", 3, &n_pages);

    g_assert_cmpuint (n_pages, ==, 3);
    g_assert_cmpuint (ids->len, ==, 8);
    for (guint i = 0; i < 7; i++)
      g_assert_true (ids_hold (ids, created[i]));
    /* No one twice. */
    for (guint i = 0; i < ids->len; i++)
      for (guint j = i + 1; j < ids->len; j++)
        g_assert_cmpint (g_array_index (ids, gint64, i), !=, g_array_index (ids, gint64, j));
  }

  assert_error (api_call (api, "GET", "/v1/customers?limit=501", api->agent, NULL), 400,
                "bad_query", NULL);
  assert_error (api_call (api, "GET", "/v1/customers?offset=-1", api->agent, NULL), 400,
                "bad_query", NULL);
  assert_error (api_call (api, "GET", "/v1/customers?limit=ten", api->agent, NULL), 400,
                "bad_query", NULL);
  api_free (api);
}

/* --- sync ---------------------------------------------------------------------------- */

static void
test_sync_idempotent_create (void)
{
  const char * const key[] = { "Idempotency-Key", "desk-7f3a-0001", NULL };
  Api *api = api_start ();
  KefuTestResponse *r;
  gint64 id;

  r = api_call_with (api, "POST", "/v1/customers", api->agent, "{\"name\": \"Once Only\"}", key);
  assert_status (r, 201);
  id = int_member (obj (r), "id");
  g_assert_null (header (r, "Idempotent-Replayed"));

  /* The desktop did not hear the answer and sends it again. */
  r = api_call_with (api, "POST", "/v1/customers", api->agent, "{\"name\": \"Once Only\"}", key);
  assert_status (r, 201);
  g_assert_cmpint (int_member (obj (r), "id"), ==, id);
  g_assert_cmpstr (str_member (obj (r), "name"), ==, "Once Only");
  g_assert_cmpstr (header (r, "Idempotent-Replayed"), ==, "true");

  /* However many times, and whatever it carries: the first answer. */
  r = api_call_with (api, "POST", "/v1/customers", api->agent, "{\"name\": \"Twice?\"}", key);
  assert_status (r, 201);
  g_assert_cmpint (int_member (obj (r), "id"), ==, id);
  g_assert_cmpstr (str_member (obj (r), "name"), ==, "Once Only");
  g_assert_cmpuint (count (api, "/v1/customers"), ==, 1);

  /* Another key is another change. */
  {
    const char * const other[] = { "Idempotency-Key", "desk-7f3a-0002", NULL };

    r = api_call_with (api, "POST", "/v1/customers", api->agent, "{\"name\": \"Once Only\"}",
                       other);
    assert_status (r, 201);
    g_assert_cmpint (int_member (obj (r), "id"), !=, id);
    g_assert_cmpuint (count (api, "/v1/customers"), ==, 2);
  }
  {
    g_autofree char *long_key = g_strnfill (129, 'k');
    const char * const too_long[] = { "Idempotency-Key", long_key, NULL };

    assert_error (api_call_with (api, "POST", "/v1/customers", api->agent,
                                 "{\"name\": \"Long key\"}", too_long), 400,
                  "bad_idempotency_key", NULL);
    g_assert_cmpuint (count (api, "/v1/customers"), ==, 2);
  }
  api_free (api);
}

static void
test_sync_idempotent_patch (void)
{
  const char * const key[] = { "Idempotency-Key", "desk-7f3a-0100", NULL };
  Api *api = api_start ();
  g_autofree char *path = NULL;
  KefuTestResponse *r;
  gint64 id;

  id = create_customer (api, "Patched Once", NULL);
  path = g_strdup_printf ("/v1/customers/%" G_GINT64_FORMAT, id);

  r = api_call_with (api, "PATCH", path, api->agent, "{\"tags\": [\"called\"]}", key);
  assert_status (r, 200);
  g_assert_cmpint (int_member (obj (r), "version"), ==, 2);
  r = api_call_with (api, "PATCH", path, api->agent, "{\"tags\": [\"called\"]}", key);
  assert_status (r, 200);
  g_assert_cmpint (int_member (obj (r), "version"), ==, 2);
  g_assert_cmpstr (header (r, "Idempotent-Replayed"), ==, "true");

  r = api_call (api, "GET", path, api->agent, NULL);
  g_assert_cmpint (int_member (obj (r), "version"), ==, 2);
  g_assert_cmpstr (header (r, "ETag"), ==, "\"2\"");

  /* A replayed delete answers as the first one did. */
  {
    const char * const delete_key[] = { "Idempotency-Key", "desk-7f3a-0101", NULL };

    assert_status (api_call_with (api, "DELETE", path, api->supervisor, NULL, delete_key), 204);
    r = api_call_with (api, "DELETE", path, api->supervisor, NULL, delete_key);
    assert_status (r, 204);
    g_assert_cmpstr (header (r, "Idempotent-Replayed"), ==, "true");
  }
  api_free (api);
}

static void
test_sync_if_match (void)
{
  Api *api = api_start ();
  g_autofree char *path = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  KefuTestResponse *r;
  JsonObject *current;
  gint64 id;

  id = create_customer (api, "Conflicted", NULL);
  path = g_strdup_printf ("/v1/customers/%" G_GINT64_FORMAT, id);

  /* Two desks fetched version 1; the first to save wins. */
  {
    const char * const v1[] = { "If-Match", "1", NULL };

    r = api_call_with (api, "PATCH", path, api->agent, "{\"company\": \"Desk A Ltd\"}", v1);
    assert_status (r, 200);
    g_assert_cmpint (int_member (obj (r), "version"), ==, 2);

    r = api_call_with (api, "PATCH", path, api->agent2, "{\"company\": \"Desk B Ltd\"}", v1);
    assert_error (r, 409, "version_conflict", NULL);
    current = object_member (obj (r), "current");
    g_assert_cmpint (int_member (current, "version"), ==, 2);
    g_assert_cmpstr (str_member (current, "company"), ==, "Desk A Ltd");
    g_assert_cmpint (int_member (current, "id"), ==, id);

    r = api_call_with (api, "PUT", path, api->agent2, "{\"name\": \"Desk B\"}", v1);
    assert_error (r, 409, "version_conflict", NULL);
    r = api_call_with (api, "DELETE", path, api->supervisor, NULL, v1);
    assert_error (r, 409, "version_conflict", NULL);
    g_assert_cmpint (int_member (object_member (obj (r), "current"), "version"), ==, 2);
  }
  r = api_call (api, "GET", path, api->agent, NULL);
  assert_status (r, 200);
  g_assert_cmpstr (str_member (obj (r), "company"), ==, "Desk A Ltd");
  g_assert_cmpstr (str_member (obj (r), "name"), ==, "Conflicted");
  g_assert_cmpint (int_member (obj (r), "version"), ==, 2);

  /* The ETag as the server gave it is a valid If-Match. */
  {
    const char * const etag[] = { "If-Match", "\"2\"", NULL };

    r = api_call_with (api, "PATCH", path, api->agent2, "{\"company\": \"Desk B Ltd\"}", etag);
    assert_status (r, 200);
    g_assert_cmpint (int_member (obj (r), "version"), ==, 3);
  }

  /* Garbage is refused, and changes nothing. */
  before = record_text (api, path, api->agent);
  {
    static const char * const garbage[] = { "yesterday", "-1", "2.0", "\"\"", "W/\"x\"", "3 4" };

    for (guint i = 0; i < G_N_ELEMENTS (garbage); i++)
      {
        const char * const bad[] = { "If-Match", garbage[i], NULL };

        g_test_message ("If-Match: %s", garbage[i]);
        r = api_call_with (api, "PATCH", path, api->agent, "{\"company\": \"Garbage\"}", bad);
        assert_error (r, 400, "bad_if_match", NULL);
      }
  }
  after = record_text (api, path, api->agent);
  g_assert_cmpstr (after, ==, before);
  api_free (api);
}

static JsonArray *
changes_since (Api    *api,
               gint64  since,
               gint64 *cursor)
{
  g_autofree char *path = g_strdup_printf ("/v1/changes?since=%" G_GINT64_FORMAT "&limit=5000",
                                           since);
  KefuTestResponse *r = api_call (api, "GET", path, api->agent, NULL);
  JsonArray *changes;
  gint64 last = since;

  assert_status (r, 200);
  changes = array_member (obj (r), "changes");
  for (guint i = 0; i < json_array_get_length (changes); i++)
    {
      gint64 seq = int_member (json_array_get_object_element (changes, i), "seq");

      g_assert_cmpint (seq, >, last);
      last = seq;
    }
  *cursor = int_member (obj (r), "cursor");
  g_assert_cmpint (*cursor, ==, last);
  return json_array_ref (changes);
}

static void
test_sync_changes (void)
{
  Api *api = api_start ();
  g_autoptr(JsonArray) all = NULL;
  g_autoptr(JsonArray) later = NULL;
  g_autoptr(JsonArray) none = NULL;
  g_autoptr(GPtrArray) mine = g_ptr_array_new ();
  g_autofree char *path = NULL;
  g_autofree char *id_text = NULL;
  JsonObject *change;
  gint64 cursor, second_cursor, id, other;

  id = create_customer (api, "Feed Customer", NULL);
  id_text = g_strdup_printf ("%" G_GINT64_FORMAT, id);
  path = g_strdup_printf ("/v1/customers/%" G_GINT64_FORMAT, id);
  assert_status (api_call (api, "PATCH", path, api->agent, "{\"tier\": \"vip\"}"), 200);
  assert_status (api_call (api, "DELETE", path, api->supervisor, NULL), 204);

  all = changes_since (api, 0, &cursor);
  for (guint i = 0; i < json_array_get_length (all); i++)
    {
      change = json_array_get_object_element (all, i);
      if (g_str_equal (str_member (change, "entity"), "customer") &&
          g_str_equal (str_member (change, "id"), id_text))
        g_ptr_array_add (mine, change);
    }
  g_assert_cmpuint (mine->len, ==, 3);

  change = g_ptr_array_index (mine, 0);
  g_assert_cmpstr (str_member (change, "op"), ==, "create");
  g_assert_cmpint (int_member (change, "version"), ==, 1);
  g_assert_cmpstr (str_member (object_member (change, "record"), "name"), ==, "Feed Customer");
  str_member (change, "at");
  change = g_ptr_array_index (mine, 1);
  g_assert_cmpstr (str_member (change, "op"), ==, "update");
  g_assert_cmpint (int_member (change, "version"), ==, 2);
  g_assert_cmpstr (str_member (object_member (change, "record"), "tier"), ==, "vip");
  change = g_ptr_array_index (mine, 2);
  g_assert_cmpstr (str_member (change, "op"), ==, "delete");

  /* From the cursor on, only what came after. */
  other = create_customer (api, "Later Customer", NULL);
  later = changes_since (api, cursor, &second_cursor);
  g_assert_cmpuint (json_array_get_length (later), ==, 1);
  change = json_array_get_object_element (later, 0);
  g_assert_cmpint (int_member (change, "seq"), >, cursor);
  g_assert_cmpstr (str_member (change, "op"), ==, "create");
  g_assert_cmpint (int_member (object_member (change, "record"), "id"), ==, other);
  none = changes_since (api, second_cursor, &cursor);
  g_assert_cmpuint (json_array_get_length (none), ==, 0);
  g_assert_cmpint (cursor, ==, second_cursor);

  assert_error (api_call (api, "GET", "/v1/changes?since=abc", api->agent, NULL), 400,
                "bad_query", NULL);

  /* The delete's version is the one the tombstone has, so a desk holding
   * version 2 knows its copy was the last before the delete. */
  change = g_ptr_array_index (mine, 2);
  if (JSON_NODE_HOLDS_NULL (member (change, "version")))
    FAIL ("the delete in the change feed carries no version (null); the deleted record is at "
          "version 3");
  g_assert_cmpint (int_member (change, "version"), ==, 3);
  api_free (api);
}

/* --- bad input changes nothing ----------------------------------------------------------- */

typedef struct {
  const char *collection;   /* where it is POSTed, and counted */
  const char *body;
  const char *field;
} BadRecord;

static void
assert_refused (Api              *api,
                const BadRecord  *cases,
                guint             n_cases,
                const char       *code)
{
  for (guint i = 0; i < n_cases; i++)
    {
      guint before = count (api, cases[i].collection);

      g_test_message ("POST %s %s", cases[i].collection, cases[i].body);
      assert_error (api_call (api, "POST", cases[i].collection, api->admin, cases[i].body), 400,
                    code, cases[i].field);
      g_assert_cmpuint (count (api, cases[i].collection), ==, before);
    }
}

static void
test_input_malformed_json (void)
{
  static const char * const bodies[] = {
    "{\"name\": ", "{name: \"x\"}", "{\"name\": \"x\",}", "[{\"name\": \"x\"}]", "\"x\"", "42",
    "null", "{\"name\": \"x\"} trailing", "{\"name\": \"x\"}}", "\xff\xfe{}",
  };
  Api *api = api_start ();
  g_autofree char *path = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  gint64 id;

  id = create_customer (api, "Untouched", NULL);
  path = g_strdup_printf ("/v1/customers/%" G_GINT64_FORMAT, id);
  before = record_text (api, path, api->agent);
  for (guint i = 0; i < G_N_ELEMENTS (bodies); i++)
    {
      g_test_message ("body: %s", bodies[i]);
      assert_error (api_call (api, "POST", "/v1/customers", api->agent, bodies[i]), 400,
                    "malformed_json", NULL);
      assert_error (api_call (api, "PATCH", path, api->agent, bodies[i]), 400, "malformed_json",
                    NULL);
    }
  /* A write with no body at all. */
  assert_error (api_call (api, "POST", "/v1/customers", api->agent, ""), 400, "malformed_json",
                NULL);
  assert_error (api_call (api, "PATCH", path, api->agent, NULL), 400, "malformed_json", NULL);
  after = record_text (api, path, api->agent);
  g_assert_cmpstr (after, ==, before);
  g_assert_cmpuint (count (api, "/v1/customers"), ==, 1);
  api_free (api);
}

/* A second document after the first is not ignored: the client meant
 * something, and it was not the first half. */
static void
test_input_concatenated_json (void)
{
  Api *api = api_start ();

  assert_error (api_call (api, "POST", "/v1/customers", api->agent,
                          "{\"name\": \"First\"} {\"name\": \"Second\"}"), 400,
                "malformed_json", NULL);
  g_assert_cmpuint (count (api, "/v1/customers"), ==, 0);
  api_free (api);
}

static void
test_input_wrong_types (void)
{
  static const BadRecord cases[] = {
    /* string */
    { "/v1/customers", "{\"name\": 42}", "name" },
    { "/v1/customers", "{\"name\": true}", "name" },
    { "/v1/customers", "{\"name\": [\"Li\"]}", "name" },
    { "/v1/customers", "{\"name\": {\"first\": \"Li\"}}", "name" },
    { "/v1/customers", "{\"name\": \"Li\", \"company\": 3.5}", "company" },
    /* text */
    { "/v1/customers", "{\"name\": \"Li\", \"notes\": [\"a\"]}", "notes" },
    /* enum */
    { "/v1/customers", "{\"name\": \"Li\", \"tier\": 1}", "tier" },
    { "/v1/cases", "{\"customer_id\": 1, \"subject\": \"s\", \"status\": false}", "status" },
    /* lists */
    { "/v1/customers", "{\"name\": \"Li\", \"phones\": \"010 1234 5678\"}", "phones" },
    { "/v1/customers", "{\"name\": \"Li\", \"phones\": [1012345678]}", "phones[0]" },
    { "/v1/customers", "{\"name\": \"Li\", \"tags\": {\"vip\": true}}", "tags" },
    { "/v1/customers", "{\"name\": \"Li\", \"emails\": [null]}", "emails[0]" },
    /* int */
    { "/v1/contacts", "{\"customer_id\": \"1\", \"name\": \"Han\"}", "customer_id" },
    { "/v1/contacts", "{\"customer_id\": 1.5, \"name\": \"Han\"}", "customer_id" },
    { "/v1/cases", "{\"customer_id\": [1], \"subject\": \"s\"}", "customer_id" },
    { "/v1/queues", "{\"name\": \"q1\", \"priority\": 2.5}", "priority" },
    { "/v1/faxes", "{\"direction\": \"inbound\", \"pages\": \"2\"}", "pages" },
    /* number */
    { "/v1/queues", "{\"name\": \"q1\", \"sl_target\": \"0.8\"}", "sl_target" },
    { "/v1/calls", "{\"id\": \"c1\", \"direction\": \"inbound\", \"talk_s\": \"12\"}", "talk_s" },
    /* timestamp */
    { "/v1/calls", "{\"id\": \"c1\", \"direction\": \"inbound\", \"offered_at\": 1764032400}",
      "offered_at" },
    /* objects */
    { "/v1/agents", "{\"username\": \"x1\", \"role\": \"agent\", \"password\": \"password1\", "
                    "\"skills\": [\"sales\"]}", "skills" },
    { "/v1/agents", "{\"username\": \"x1\", \"role\": \"agent\", \"password\": \"password1\", "
                    "\"skills\": {\"sales\": \"high\"}}", "skills.sales" },
    { "/v1/events", "{\"type\": \"call.offered\", \"call_id\": \"c1\", \"queue\": \"sales\", "
                    "\"data\": \"waited long\"}", "data" },
    { "/v1/events", "{\"type\": \"call.offered\", \"call_id\": \"c1\", \"queue\": \"sales\", "
                    "\"data\": [1, 2]}", "data" },
  };
  Api *api = api_start ();
  g_autofree char *path = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  gint64 id;

  assert_refused (api, cases, G_N_ELEMENTS (cases), "wrong_type");

  /* A patch of the wrong type leaves the record alone. */
  id = create_customer (api, "Typed Right", "010 1234 5678");
  path = g_strdup_printf ("/v1/customers/%" G_GINT64_FORMAT, id);
  before = record_text (api, path, api->agent);
  assert_error (api_call (api, "PATCH", path, api->agent, "{\"tier\": [\"vip\"]}"), 400,
                "wrong_type", "tier");
  assert_error (api_call (api, "PATCH", path, api->agent,
                          "{\"company\": \"Fine\", \"phones\": 5}"), 400, "wrong_type", "phones");
  after = record_text (api, path, api->agent);
  g_assert_cmpstr (after, ==, before);
  api_free (api);
}

static void
test_input_unknown_missing_invalid (void)
{
  static const BadRecord unknown[] = {
    { "/v1/customers", "{\"name\": \"Li\", \"colour\": \"red\"}", "colour" },
    { "/v1/customers", "{\"Name\": \"Li\"}", "Name" },
    { "/v1/cases", "{\"customer_id\": 1, \"subject\": \"s\", \"owner\": \"agent\"}", "owner" },
    { "/v1/agents", "{\"username\": \"x2\", \"role\": \"agent\", \"password\": \"password1\", "
                    "\"password_hash\": \"$argon2id$v=19$m=8,t=1,p=1$x$y\"}", "password_hash" },
  };
  static const BadRecord missing[] = {
    { "/v1/customers", "{}", "name" },
    { "/v1/customers", "{\"name\": null}", "name" },
    { "/v1/customers", "{\"company\": \"No Name Ltd\"}", "name" },
    { "/v1/cases", "{\"customer_id\": 1}", "subject" },
    { "/v1/contacts", "{\"name\": \"Han\"}", "customer_id" },
    { "/v1/calls", "{\"direction\": \"inbound\"}", "id" },
    { "/v1/faxes", "{\"subject\": \"x\"}", "direction" },
    { "/v1/queues", "{\"description\": \"no name\"}", "name" },
  };
  static const BadRecord invalid[] = {
    { "/v1/customers", "{\"name\": \"Li\", \"tier\": \"platinum\"}", "tier" },
    { "/v1/cases", "{\"customer_id\": 1, \"subject\": \"s\", \"priority\": \"asap\"}", "priority" },
    { "/v1/calls", "{\"id\": \"c2\", \"direction\": \"sideways\"}", "direction" },
    { "/v1/calls", "{\"id\": \"c2\", \"direction\": \"inbound\", \"offered_at\": \"yesterday\"}",
      "offered_at" },
    { "/v1/queues", "{\"name\": \"q2\", \"strategy\": \"random\"}", "strategy" },
    { "/v1/queues", "{\"name\": \"q2\", \"priority\": 101}", "priority" },
    { "/v1/customers", "{\"name\": \"Li\", \"phones\": [\"call me\"]}", "phones[0]" },
    { "/v1/customers", "{\"name\": \"Li\", \"emails\": [\"li at example\"]}", "emails[0]" },
    { "/v1/customers", "{\"name\": \"Li\\u0007\"}", "name" },
    { "/v1/events", "{\"type\": \"call.exploded\", \"call_id\": \"c1\"}", "type" },
  };
  Api *api = api_start ();
  g_autofree char *path = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  gint64 id;

  assert_refused (api, unknown, G_N_ELEMENTS (unknown), "unknown_field");
  assert_refused (api, missing, G_N_ELEMENTS (missing), "missing_field");
  assert_refused (api, invalid, G_N_ELEMENTS (invalid), "invalid_value");

  id = create_customer (api, "Still Here", NULL);
  path = g_strdup_printf ("/v1/customers/%" G_GINT64_FORMAT, id);
  before = record_text (api, path, api->agent);
  assert_error (api_call (api, "PATCH", path, api->agent, "{\"name\": null}"), 400,
                "missing_field", "name");
  assert_error (api_call (api, "PATCH", path, api->agent, "{\"nickname\": \"x\"}"), 400,
                "unknown_field", "nickname");
  assert_error (api_call (api, "PATCH", path, api->agent, "{\"tier\": \"diamond\"}"), 400,
                "invalid_value", "tier");
  after = record_text (api, path, api->agent);
  g_assert_cmpstr (after, ==, before);
  api_free (api);
}

static void
test_input_too_long (void)
{
  Api *api = api_start ();
  g_autofree char *name = g_strnfill (201, 'x');
  g_autofree char *account = g_strnfill (41, '7');
  g_autofree char *notes = g_strnfill (20001, 'n');
  g_autoptr(GString) cjk = g_string_new (NULL);
  g_autoptr(GString) tags = g_string_new ("[");
  g_autoptr(JsonObject) doc = NULL;
  g_autofree char *body = NULL;
  KefuTestResponse *r;
  BadRecord cases[5];

  for (guint i = 0; i < 51; i++)
    g_string_append_printf (tags, "%s\"tag%u\"", i ? ", " : "", i);
  g_string_append (tags, "]");
  {
    g_autofree char *b0 = g_strdup_printf ("{\"name\": \"%s\"}", name);
    g_autofree char *b1 = g_strdup_printf ("{\"name\": \"Li\", \"account_number\": \"%s\"}",
                                           account);
    g_autofree char *b2 = g_strdup_printf ("{\"name\": \"Li\", \"notes\": \"%s\"}", notes);
    g_autofree char *b3 = g_strdup_printf ("{\"name\": \"Li\", \"tags\": %s}", tags->str);
    g_autofree char *long_tag = g_strnfill (51, 't');
    g_autofree char *b4 = g_strdup_printf ("{\"name\": \"Li\", \"tags\": [\"%s\"]}", long_tag);

    cases[0] = (BadRecord) { "/v1/customers", b0, "name" };
    cases[1] = (BadRecord) { "/v1/customers", b1, "account_number" };
    cases[2] = (BadRecord) { "/v1/customers", b2, "notes" };
    cases[3] = (BadRecord) { "/v1/customers", b3, "tags" };
    cases[4] = (BadRecord) { "/v1/customers", b4, "tags[0]" };
    assert_refused (api, cases, G_N_ELEMENTS (cases), "too_long");
  }

  /* Lengths are characters, not bytes: 200 Chinese characters fit. */
  for (guint i = 0; i < 200; i++)
    g_string_append (cjk, "客");
  doc = json_object_new ();
  json_object_set_string_member (doc, "name", cjk->str);
  body = encode (doc);
  r = api_call (api, "POST", "/v1/customers", api->agent, body);
  assert_status (r, 201);
  g_assert_cmpstr (str_member (obj (r), "name"), ==, cjk->str);
  g_string_append (cjk, "客");
  json_object_set_string_member (doc, "name", cjk->str);
  g_free (body);
  body = encode (doc);
  assert_error (api_call (api, "POST", "/v1/customers", api->agent, body), 400, "too_long",
                "name");
  g_assert_cmpuint (count (api, "/v1/customers"), ==, 1);
  api_free (api);
}

static void
test_input_body_limits (void)
{
  Api *api = api_start ();
  g_autofree char *padding = g_strnfill (70 * 1024, 'p');
  g_autofree char *huge = g_strdup_printf ("{\"name\": \"Big\", \"notes\": \"%s\"}", padding);
  static const char *json = "{\"name\": \"Typed\"}";
  KefuTestResponse *r;

  assert_error (api_call (api, "POST", "/v1/customers", api->agent, huge), 413, "too_large", NULL);
  assert_error (api_call (api, "POST", "/v1/sessions", NULL, huge), 413, "too_large", NULL);

  r = api_call_full (api, "POST", "/v1/customers", api->agent, "text/plain", json, strlen (json),
                     NULL);
  assert_error (r, 415, "unsupported_media_type", NULL);
  r = api_call_full (api, "POST", "/v1/customers", api->agent, "application/x-www-form-urlencoded",
                     "name=Typed", 10, NULL);
  assert_error (r, 415, "unsupported_media_type", NULL);
  r = api_call_full (api, "POST", "/v1/customers", api->agent, "application/xml",
                     "<customer name=\"Typed\"/>", 24, NULL);
  assert_error (r, 415, "unsupported_media_type", NULL);
  g_assert_cmpuint (count (api, "/v1/customers"), ==, 0);

  /* A charset is fine. */
  r = api_call_full (api, "POST", "/v1/customers", api->agent, "application/json; charset=utf-8",
                     json, strlen (json), NULL);
  assert_status (r, 201);
  g_assert_cmpuint (count (api, "/v1/customers"), ==, 1);
  api_free (api);
}

/* Strings that break hand-made SQL, LIKE patterns and escaping. */
static const char * const hostile_strings[] = {
  "'); DROP TABLE customers; --",
  "\" OR 1=1 --",
  "%",
  "_",
  "\\",
  "x'); DELETE FROM cases; --",
  "50% off_sale \\n not a newline",
  "Ünïcødé ☎ 😀 客服 עברית \u202e",
};

/* What an e-mail address may hold of the same. */
static const char hostile_email[] = "o'hara.%_\\--@example.com";

static void
test_input_sql_metacharacters (void)
{
  Api *api = api_start ();
  gint64 customers[G_N_ELEMENTS (hostile_strings)];
  gint64 cases[G_N_ELEMENTS (hostile_strings)];
  KefuTestResponse *r;

  for (guint i = 0; i < G_N_ELEMENTS (hostile_strings); i++)
    {
      const char *s = hostile_strings[i];
      g_autoptr(JsonObject) customer = json_object_new ();
      g_autoptr(JsonObject) kase = json_object_new ();
      g_autoptr(JsonObject) new_note = json_object_new ();
      JsonArray *tags = json_array_new ();
      JsonArray *emails;
      g_autofree char *customer_body = NULL;
      g_autofree char *case_body = NULL;
      g_autofree char *note_body = NULL;
      g_autofree char *customer_path = NULL;
      g_autofree char *case_path = NULL;
      g_autofree char *notes_path = NULL;
      JsonObject *record, *note;

      g_test_message ("string %u: %s", i, s);
      json_array_add_string_element (tags, s);
      json_object_set_string_member (customer, "name", s);
      json_object_set_string_member (customer, "company", s);
      json_object_set_string_member (customer, "owner", s);
      json_object_set_string_member (customer, "notes", s);
      json_object_set_string_member (customer, "account_number", s);
      json_object_set_array_member (customer, "tags", tags);
      emails = json_array_new ();
      json_array_add_string_element (emails, hostile_email);
      json_object_set_array_member (customer, "emails", emails);
      customer_body = encode (customer);
      customers[i] = create_id (api, "/v1/customers", api->agent, customer_body);

      customer_path = g_strdup_printf ("/v1/customers/%" G_GINT64_FORMAT, customers[i]);
      r = api_call (api, "GET", customer_path, api->agent, NULL);
      assert_status (r, 200);
      record = obj (r);
      g_assert_cmpstr (str_member (record, "name"), ==, s);
      g_assert_cmpstr (str_member (record, "company"), ==, s);
      g_assert_cmpstr (str_member (record, "owner"), ==, s);
      g_assert_cmpstr (str_member (record, "notes"), ==, s);
      g_assert_cmpstr (str_member (record, "account_number"), ==, s);
      g_assert_cmpstr (json_array_get_string_element (array_member (record, "tags"), 0), ==, s);
      g_assert_cmpstr (json_array_get_string_element (array_member (record, "emails"), 0), ==,
                       hostile_email);

      json_object_set_int_member (kase, "customer_id", customers[i]);
      json_object_set_string_member (kase, "subject", s);
      json_object_set_string_member (kase, "category", s);
      json_object_set_string_member (kase, "disposition", s);
      json_object_set_string_member (kase, "call_id", s);
      json_object_set_string_member (kase, "assignee", s);
      case_body = encode (kase);
      cases[i] = create_id (api, "/v1/cases", api->agent, case_body);

      notes_path = g_strdup_printf ("/v1/cases/%" G_GINT64_FORMAT "/notes", cases[i]);
      json_object_set_string_member (new_note, "body", s);
      note_body = encode (new_note);
      assert_status (api_call (api, "POST", notes_path, api->agent, note_body), 201);

      case_path = g_strdup_printf ("/v1/cases/%" G_GINT64_FORMAT, cases[i]);
      r = api_call (api, "GET", case_path, api->agent, NULL);
      assert_status (r, 200);
      record = obj (r);
      g_assert_cmpstr (str_member (record, "subject"), ==, s);
      g_assert_cmpstr (str_member (record, "category"), ==, s);
      g_assert_cmpstr (str_member (record, "disposition"), ==, s);
      g_assert_cmpstr (str_member (record, "call_id"), ==, s);
      g_assert_cmpstr (str_member (record, "assignee"), ==, s);
      note = json_array_get_object_element (array_member (record, "notes"), 0);
      g_assert_cmpstr (str_member (note, "body"), ==, s);
    }

  /* Searching and filtering by them finds exactly the one that holds them:
   * no wildcards, no injected conditions. */
  for (guint i = 0; i < G_N_ELEMENTS (hostile_strings); i++)
    {
      g_autofree char *escaped = escape (hostile_strings[i]);
      g_autofree char *by_category = g_strdup_printf ("/v1/cases?category=%s", escaped);
      g_autofree char *by_assignee = g_strdup_printf ("/v1/cases?assignee=%s", escaped);
      g_autofree char *by_call = g_strdup_printf ("/v1/cases?call_id=%s", escaped);
      g_autoptr(GArray) found = search_ids (api, "q", hostile_strings[i]);
      g_autoptr(JsonArray) items = NULL;

      g_test_message ("searching for string %u: %s", i, hostile_strings[i]);
      g_assert_cmpuint (found->len, ==, 1);
      g_assert_cmpint (g_array_index (found, gint64, 0), ==, customers[i]);
      items = list_items (api, by_category, api->agent);
      g_assert_cmpuint (json_array_get_length (items), ==, 1);
      g_assert_true (items_hold_id (items, cases[i]));
      g_clear_pointer (&items, json_array_unref);
      items = list_items (api, by_assignee, api->agent);
      g_assert_cmpuint (json_array_get_length (items), ==, 1);
      g_clear_pointer (&items, json_array_unref);
      items = list_items (api, by_call, api->agent);
      g_assert_cmpuint (json_array_get_length (items), ==, 1);
    }

  /* The tables are all still there and still work. */
  g_assert_cmpuint (count (api, "/v1/customers"), ==, G_N_ELEMENTS (hostile_strings));
  g_assert_cmpuint (count (api, "/v1/cases"), ==, G_N_ELEMENTS (hostile_strings));
  create_customer (api, "After the storm", "010 1234 0000");
  g_assert_cmpuint (count (api, "/v1/customers"), ==, G_N_ELEMENTS (hostile_strings) + 1);
  {
    g_autoptr(GArray) found = search_ids (api, "phone", "010 1234 0000");

    g_assert_cmpuint (found->len, ==, 1);
  }
  api_free (api);
}

static void
test_input_chinese_text (void)
{
  Api *api = api_start ();
  g_autoptr(JsonObject) created = NULL;
  g_autofree char *path = NULL;
  g_autofree char *case_body = NULL;
  g_autofree char *case_path = NULL;
  g_autofree char *notes_path = NULL;
  KefuTestResponse *r;
  gint64 id, case_id;

  created = create (api, "/v1/customers", api->agent,
                    "{\"name\": \"张伟\", \"company\": \"北京客服科技有限公司\", "
                    "\"tags\": [\"重要客户\", \"打印机\"], "
                    "\"notes\": \"客户说：打印机着火了。\\n请尽快回电。\", "
                    "\"phones\": [\"010-1234 5678\"], \"emails\": [\"zhang.wei@例子.中国\"]}");
  id = int_member (created, "id");
  path = g_strdup_printf ("/v1/customers/%" G_GINT64_FORMAT, id);
  r = api_call (api, "GET", path, api->agent, NULL);
  assert_status (r, 200);
  g_assert_cmpstr (str_member (obj (r), "name"), ==, "张伟");
  g_assert_cmpstr (str_member (obj (r), "company"), ==, "北京客服科技有限公司");
  g_assert_cmpstr (json_array_get_string_element (array_member (obj (r), "tags"), 0), ==,
                   "重要客户");
  g_assert_cmpstr (str_member (obj (r), "notes"), ==, "客户说：打印机着火了。\n请尽快回电。");
  g_assert_cmpstr (json_array_get_string_element (array_member (obj (r), "emails"), 0), ==,
                   "zhang.wei@例子.中国");
  {
    g_autoptr(GArray) found = search_ids (api, "q", "张");

    g_assert_cmpuint (found->len, ==, 1);
    g_assert_cmpint (g_array_index (found, gint64, 0), ==, id);
  }

  case_body = g_strdup_printf ("{\"customer_id\": %" G_GINT64_FORMAT ", \"subject\": \"打印机故障\", "
                               "\"category\": \"硬件\"}", id);
  case_id = create_id (api, "/v1/cases", api->agent, case_body);
  notes_path = g_strdup_printf ("/v1/cases/%" G_GINT64_FORMAT "/notes", case_id);
  assert_status (api_call (api, "POST", notes_path, api->agent,
                           "{\"body\": \"已回电，客户不在。明天再打。\"}"), 201);
  case_path = g_strdup_printf ("/v1/cases/%" G_GINT64_FORMAT, case_id);
  r = api_call (api, "GET", case_path, api->agent, NULL);
  assert_status (r, 200);
  g_assert_cmpstr (str_member (obj (r), "subject"), ==, "打印机故障");
  g_assert_cmpstr (str_member (json_array_get_object_element (array_member (obj (r), "notes"), 0),
                               "body"), ==, "已回电，客户不在。明天再打。");
  {
    g_autofree char *escaped = escape ("硬件");
    g_autofree char *filter = g_strdup_printf ("/v1/cases?category=%s", escaped);
    g_autoptr(JsonArray) items = list_items (api, filter, api->agent);

    g_assert_cmpuint (json_array_get_length (items), ==, 1);
  }
  api_free (api);
}

/* --- agent state -------------------------------------------------------------------------- */

static void
test_agent_state_not_ready (void)
{
  Api *api = api_start ();
  KefuTestResponse *r;
  JsonArray *codes;
  gboolean has_lunch = FALSE;

  r = api_call (api, "GET", "/v1/reason-codes", api->agent, NULL);
  assert_status (r, 200);
  codes = array_member (obj (r), "reason_codes");
  for (guint i = 0; i < json_array_get_length (codes); i++)
    has_lunch |= g_str_equal (json_array_get_string_element (codes, i), "Lunch");
  g_assert_true (has_lunch);

  r = api_call (api, "PUT", "/v1/agents/me/state", api->agent,
                "{\"state\": \"not_ready\", \"reason\": \"Lunch\"}");
  assert_status (r, 200);
  g_assert_cmpstr (str_member (obj (r), "state"), ==, "not_ready");
  g_assert_cmpstr (str_member (obj (r), "state_reason"), ==, "Lunch");

  r = api_call (api, "GET", "/v1/agents/me", api->agent, NULL);
  assert_status (r, 200);
  g_assert_cmpstr (str_member (obj (r), "state"), ==, "not_ready");
  g_assert_cmpstr (str_member (obj (r), "state_reason"), ==, "Lunch");
  g_assert_nonnull (str_member (obj (r), "state_since"));
  r = api_call (api, "GET", "/v1/agents/agent", api->supervisor, NULL);
  g_assert_cmpstr (str_member (obj (r), "state"), ==, "not_ready");

  /* Back from lunch: the reason goes with the state. */
  r = api_call (api, "PUT", "/v1/agents/me/state", api->agent, "{\"state\": \"available\"}");
  assert_status (r, 200);
  r = api_call (api, "GET", "/v1/agents/me", api->agent, NULL);
  g_assert_cmpstr (str_member (obj (r), "state"), ==, "available");
  g_assert_null (str_member (obj (r), "state_reason"));
  api_free (api);
}

/* A switch replaying its spool after an outage posts states older than
 * what the agent set since: the agent's state stays the newer one. */
static void
test_agent_state_late_event (void)
{
  Api *api = api_start ();
  KefuTestResponse *r;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) hour_ago = g_date_time_add_hours (now, -1);
  g_autoptr(GDateTime) minute_on = g_date_time_add_minutes (now, 1);
  g_autofree char *hour_ago_s = g_date_time_format_iso8601 (hour_ago);
  g_autofree char *minute_on_s = g_date_time_format_iso8601 (minute_on);
  g_autofree char *late = NULL;
  g_autofree char *later = NULL;

  r = api_call (api, "PUT", "/v1/agents/me/state", api->agent,
                "{\"state\": \"not_ready\", \"reason\": \"Lunch\"}");
  assert_status (r, 200);

  late = g_strdup_printf ("{\"type\": \"agent.state\", \"agent\": \"agent\", \"ts\": \"%s\", "
                          "\"data\": {\"state\": \"talking\"}}", hour_ago_s);
  r = api_call (api, "POST", "/v1/events", api->service, late);
  assert_status (r, 201);
  r = api_call (api, "GET", "/v1/agents/agent", api->supervisor, NULL);
  g_assert_cmpstr (str_member (obj (r), "state"), ==, "not_ready");
  g_assert_cmpstr (str_member (obj (r), "state_reason"), ==, "Lunch");

  later = g_strdup_printf ("{\"type\": \"agent.state\", \"agent\": \"agent\", \"ts\": \"%s\", "
                           "\"data\": {\"state\": \"talking\"}}", minute_on_s);
  r = api_call (api, "POST", "/v1/events", api->service, later);
  assert_status (r, 201);
  r = api_call (api, "GET", "/v1/agents/agent", api->supervisor, NULL);
  g_assert_cmpstr (str_member (obj (r), "state"), ==, "talking");
  api_free (api);
}

static void
test_agent_state_refusals (void)
{
  static const struct {
    const char *body;
    const char *code;
  } refused[] = {
    { "{\"state\": \"not_ready\", \"reason\": \"Nap\"}", "invalid_value" },
    { "{\"state\": \"not_ready\", \"reason\": \"lunch\"}", "invalid_value" },
    { "{\"state\": \"not_ready\"}", "invalid_value" },
    { "{\"state\": \"not_ready\", \"reason\": null}", "invalid_value" },
    { "{\"state\": \"talking\"}", "invalid_value" },
    { "{\"state\": \"ringing\"}", "invalid_value" },
    { "{\"state\": \"on_hold\"}", "invalid_value" },
    { "{\"state\": \"asleep\"}", "invalid_value" },
    { "{\"state\": \"available\", \"reason\": \"Lunch\"}", "invalid_value" },
    { "{\"reason\": \"Lunch\"}", "invalid_value" },
    { "{\"state\": \"available\", \"mood\": \"good\"}", "unknown_field" },
    { "{\"state\": 1}", "invalid_value" },
    { "not json", "malformed_json" },
  };
  Api *api = api_start ();
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;

  assert_status (api_call (api, "PUT", "/v1/agents/me/state", api->agent,
                           "{\"state\": \"available\"}"), 200);
  before = record_text (api, "/v1/agents/me", api->agent);
  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_test_message ("state change %s", refused[i].body);
      assert_error (api_call (api, "PUT", "/v1/agents/me/state", api->agent, refused[i].body), 400,
                    refused[i].code, NULL);
    }
  after = record_text (api, "/v1/agents/me", api->agent);
  g_assert_cmpstr (after, ==, before);
  api_free (api);
}

static void
test_agent_state_of_others (void)
{
  Api *api = api_start ();
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *by_number = NULL;
  KefuTestResponse *r;
  gint64 agent2_id;

  r = api_call (api, "GET", "/v1/agents/agent2", api->agent, NULL);
  assert_status (r, 200);
  agent2_id = int_member (obj (r), "id");
  before = g_strdup (r->body);

  /* An agent sets only their own state. */
  assert_error (api_call (api, "PUT", "/v1/agents/agent2/state", api->agent,
                          "{\"state\": \"not_ready\", \"reason\": \"Meeting\"}"), 403, "forbidden",
                NULL);
  by_number = g_strdup_printf ("/v1/agents/%" G_GINT64_FORMAT "/state", agent2_id);
  assert_error (api_call (api, "PUT", by_number, api->agent,
                          "{\"state\": \"logged_out\"}"), 403, "forbidden", NULL);
  after = record_text (api, "/v1/agents/agent2", api->agent);
  g_assert_cmpstr (after, ==, before);

  /* A supervisor may, by name or by number. */
  r = api_call (api, "PUT", "/v1/agents/agent2/state", api->supervisor,
                "{\"state\": \"not_ready\", \"reason\": \"Meeting\"}");
  assert_status (r, 200);
  g_assert_cmpstr (str_member (obj (r), "username"), ==, "agent2");
  r = api_call (api, "GET", "/v1/agents/agent2", api->agent2, NULL);
  g_assert_cmpstr (str_member (obj (r), "state"), ==, "not_ready");
  g_assert_cmpstr (str_member (obj (r), "state_reason"), ==, "Meeting");
  assert_status (api_call (api, "PUT", by_number, api->teamlead, "{\"state\": \"logged_out\"}"),
                 200);
  r = api_call (api, "GET", "/v1/agents/agent2", api->agent2, NULL);
  g_assert_cmpstr (str_member (obj (r), "state"), ==, "logged_out");
  /* The supervisor's own state did not move. */
  r = api_call (api, "GET", "/v1/agents/me", api->supervisor, NULL);
  g_assert_cmpstr (str_member (obj (r), "username"), ==, "supervisor");
  g_assert_cmpstr (str_member (obj (r), "state"), !=, "not_ready");

  assert_error (api_call (api, "PUT", "/v1/agents/nobody/state", api->supervisor,
                          "{\"state\": \"available\"}"), 404, "not_found", NULL);
  /* The switch sets states through events, not here. */
  assert_error (api_call (api, "PUT", "/v1/agents/agent2/state", api->service,
                          "{\"state\": \"available\"}"), 403, "forbidden", NULL);
  api_free (api);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  kefu_test_kill_server_on_abort ();

  g_test_add_func ("/server/api/auth/login", test_auth_login);
  g_test_add_func ("/server/api/auth/wrong-credentials", test_auth_wrong_credentials);
  g_test_add_func ("/server/api/auth/bad-tokens", test_auth_bad_tokens);
  g_test_add_func ("/server/api/auth/logout", test_auth_logout);
  g_test_add_func ("/server/api/auth/rate-limit", test_auth_rate_limit);
  g_test_add_func ("/server/api/auth/malformed-login", test_auth_malformed_login);

  g_test_add_func ("/server/api/roles/openapi-lists-every-route",
                   test_roles_openapi_lists_every_route);
  g_test_add_func ("/server/api/roles/every-route", test_roles_every_route);
  g_test_add_func ("/server/api/roles/no-token", test_roles_no_token);
  g_test_add_func ("/server/api/roles/explicit", test_roles_explicit);
  g_test_add_func ("/server/api/routes/wrong-method", test_routes_wrong_method);
  g_test_add_func ("/server/api/routes/unknown", test_routes_unknown);
  g_test_add_func ("/server/api/routes/event-stream-needs-upgrade",
                   test_routes_event_stream_needs_upgrade);

  g_test_add_func ("/server/api/customers/crud", test_customers_crud);
  g_test_add_func ("/server/api/customers/phone-lookup", test_customers_phone_lookup);
  g_test_add_func ("/server/api/customers/search", test_customers_search);
  g_test_add_func ("/server/api/customers/paging", test_customers_paging);
  g_test_add_func ("/server/api/contacts/crud", test_contacts_crud);
  g_test_add_func ("/server/api/cases/crud-and-notes", test_cases_crud_and_notes);
  g_test_add_func ("/server/api/calls/crud", test_calls_crud);
  g_test_add_func ("/server/api/faxes/document", test_faxes_document);
  g_test_add_func ("/server/api/agents/crud", test_agents_crud);
  g_test_add_func ("/server/api/agents/password-change-ends-sessions",
                   test_agents_password_change_ends_sessions);
  g_test_add_func ("/server/api/agents/delete-ends-sessions", test_agents_delete_ends_sessions);
  g_test_add_func ("/server/api/agents/role-change-takes-effect",
                   test_agents_role_change_takes_effect);
  g_test_add_func ("/server/api/queues/crud-and-live", test_queues);

  g_test_add_func ("/server/api/sync/idempotent-create", test_sync_idempotent_create);
  g_test_add_func ("/server/api/sync/idempotent-patch", test_sync_idempotent_patch);
  g_test_add_func ("/server/api/sync/if-match", test_sync_if_match);
  g_test_add_func ("/server/api/sync/changes", test_sync_changes);

  g_test_add_func ("/server/api/input/malformed-json", test_input_malformed_json);
  g_test_add_func ("/server/api/input/concatenated-json", test_input_concatenated_json);
  g_test_add_func ("/server/api/input/wrong-types", test_input_wrong_types);
  g_test_add_func ("/server/api/input/unknown-missing-invalid",
                   test_input_unknown_missing_invalid);
  g_test_add_func ("/server/api/input/too-long", test_input_too_long);
  g_test_add_func ("/server/api/input/body-limits", test_input_body_limits);
  g_test_add_func ("/server/api/input/sql-metacharacters", test_input_sql_metacharacters);
  g_test_add_func ("/server/api/input/chinese-text", test_input_chinese_text);

  g_test_add_func ("/server/api/agent-state/not-ready", test_agent_state_not_ready);
  g_test_add_func ("/server/api/agent-state/refusals", test_agent_state_refusals);
  g_test_add_func ("/server/api/agent-state/late-event", test_agent_state_late_event);
  g_test_add_func ("/server/api/agent-state/of-others", test_agent_state_of_others);

  return g_test_run ();
}
