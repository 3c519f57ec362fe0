/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * What kefu-switch needs from kefu-server, over real HTTP on both
 * backends: the agents' SIP digest credentials its registrar checks
 * phones with, and the callback list the IVR and queue overflow fill and
 * agents work from.
 */
#define G_LOG_DOMAIN "KefuTestServerSwitch"

#include "config.h"

#include "kefu-server-config.h"
#include "kefu-test-server.h"

#include <string.h>

typedef struct {
  KefuTestServer *server;
  char           *agent;
  char           *agent2;
  char           *supervisor;
  char           *admin;
  char           *service;
} Fixture;

static Fixture *
fixture_start (const char *extra_config)
{
  Fixture *f = g_new0 (Fixture, 1);

  f->server = kefu_test_server_start (extra_config);
  f->agent = kefu_test_login (f->server, "agent");
  f->agent2 = kefu_test_login (f->server, "agent2");
  f->supervisor = kefu_test_login (f->server, "supervisor");
  f->admin = kefu_test_login (f->server, "admin");
  f->service = kefu_test_login (f->server, "service");
  return f;
}

static void
fixture_free (Fixture *f)
{
  kefu_test_server_free (f->server);
  g_free (f->agent);
  g_free (f->agent2);
  g_free (f->supervisor);
  g_free (f->admin);
  g_free (f->service);
  g_free (f);
}

static KefuTestResponse *
call (Fixture    *f,
      const char *method,
      const char *path,
      const char *token,
      const char *json,
      guint       expected)
{
  return kefu_test_request_expect (f->server, method, path, token, json, expected);
}

static char *
md5_hex (const char *text)
{
  return g_compute_checksum_for_string (G_CHECKSUM_MD5, text, -1);
}

/* The credentials the switch gets, by username. */
static JsonObject *
credential_of (Fixture    *f,
               const char *username)
{
  g_autoptr(KefuTestResponse) r = call (f, "GET", "/v1/sip/credentials", f->service, NULL, 200);
  JsonArray *items = json_object_get_array_member (kefu_test_response_object (r), "items");

  for (guint i = 0; i < json_array_get_length (items); i++)
    {
      JsonObject *item = json_array_get_object_element (items, i);

      if (g_str_equal (json_object_get_string_member (item, "username"), username))
        return json_object_ref (item);
    }
  return NULL;
}

/* --- SIP credentials -------------------------------------------------------------- */

static void
test_sip_credentials (void)
{
  Fixture *f = fixture_start (NULL);
  g_autoptr(JsonObject) cred = NULL;
  g_autofree char *ha1 = md5_hex ("1001:kefu:phone-secret-1");
  g_autofree char *ha1_1002 = md5_hex ("1002:kefu:phone-secret-2");

  {
    g_autoptr(KefuTestResponse) r = call (f, "POST", "/v1/agents", f->admin,
                                          "{\"username\": \"li.na\", \"role\": \"agent\", "
                                          "\"password\": \"desk-secret\", \"extension\": \"1001\", "
                                          "\"sip_password\": \"phone-secret-1\"}", 201);

    /* Write-only: never read back, in any form. */
    g_assert_false (json_object_has_member (kefu_test_response_object (r), "sip_password"));
    g_assert_null (strstr (r->body, "phone-secret-1"));
    g_assert_null (strstr (r->body, ha1));
  }
  {
    g_autoptr(KefuTestResponse) r = call (f, "GET", "/v1/agents/li.na", f->admin, NULL, 200);

    g_assert_false (json_object_has_member (kefu_test_response_object (r), "sip_password"));
    g_assert_null (strstr (r->body, ha1));
  }

  cred = credential_of (f, "li.na");
  g_assert_nonnull (cred);
  g_assert_cmpstr (json_object_get_string_member (cred, "extension"), ==, "1001");
  g_assert_cmpstr (json_object_get_string_member (cred, "realm"), ==, "kefu");
  g_assert_cmpstr (json_object_get_string_member (cred, "ha1"), ==, ha1);
  g_clear_pointer (&cred, json_object_unref);
  /* Users without a SIP password are not listed. */
  g_assert_null (credential_of (f, "agent"));

  /* The service account only: not agents, not even an admin. */
  {
    g_autoptr(KefuTestResponse) a = call (f, "GET", "/v1/sip/credentials", f->agent, NULL, 403);
    g_autoptr(KefuTestResponse) b = call (f, "GET", "/v1/sip/credentials", f->admin, NULL, 403);
    g_autoptr(KefuTestResponse) c = call (f, "GET", "/v1/sip/credentials", NULL, NULL, 401);
  }

  /* HA1 is made for an extension: a new one without a new password
   * drops the phone from the list rather than let a stale digest in. */
  {
    g_autoptr(KefuTestResponse) r = call (f, "PATCH", "/v1/agents/li.na", f->admin,
                                          "{\"extension\": \"1002\"}", 200);
  }
  g_assert_null (credential_of (f, "li.na"));
  {
    g_autoptr(KefuTestResponse) r = call (f, "PATCH", "/v1/agents/li.na", f->admin,
                                          "{\"sip_password\": \"phone-secret-2\"}", 200);
  }
  cred = credential_of (f, "li.na");
  g_assert_nonnull (cred);
  g_assert_cmpstr (json_object_get_string_member (cred, "extension"), ==, "1002");
  g_assert_cmpstr (json_object_get_string_member (cred, "ha1"), ==, ha1_1002);
  g_clear_pointer (&cred, json_object_unref);

  /* Bad input changes nothing. */
  {
    g_autoptr(KefuTestResponse) r = call (f, "PATCH", "/v1/agents/li.na", f->admin,
                                          "{\"sip_password\": \"short\"}", 400);

    g_assert_cmpstr (kefu_test_error_code (r), ==, "invalid_value");
    g_assert_nonnull (strstr (r->body, "sip_password"));
  }
  {
    g_autoptr(KefuTestResponse) r = call (f, "PATCH", "/v1/agents/agent", f->admin,
                                          "{\"sip_password\": \"long-enough-1\"}", 400);

    g_assert_nonnull (strstr (r->body, "extension"));
  }
  {
    g_autoptr(KefuTestResponse) r = call (f, "PATCH", "/v1/agents/li.na", f->admin,
                                          "{\"sip_password\": 12345678}", 400);
  }
  cred = credential_of (f, "li.na");
  g_assert_cmpstr (json_object_get_string_member (cred, "ha1"), ==, ha1_1002);
  g_clear_pointer (&cred, json_object_unref);

  /* An agent cannot set a SIP password (agents are the admin's). */
  {
    g_autoptr(KefuTestResponse) r = call (f, "PATCH", "/v1/agents/agent", f->agent,
                                          "{\"extension\": \"1003\", "
                                          "\"sip_password\": \"mine-mine-mine\"}", 403);
  }

  /* The route is in the API description. */
  {
    g_autoptr(KefuTestResponse) r = call (f, "GET", "/v1/openapi.json", NULL, NULL, 200);
    JsonObject *paths = json_object_get_object_member (kefu_test_response_object (r), "paths");

    g_assert_true (json_object_has_member (paths, "/v1/sip/credentials"));
    g_assert_true (json_object_has_member (paths, "/v1/callbacks"));
    g_assert_true (json_object_has_member (paths, "/v1/callbacks/{id}"));
  }
  fixture_free (f);
}

static void
test_sip_realm_setting (void)
{
  Fixture *f = fixture_start ("[agents]\nsip_realm = sip.example.cn\n");
  g_autoptr(JsonObject) cred = NULL;
  g_autofree char *ha1 = md5_hex ("2001:sip.example.cn:phone-secret-9");

  {
    g_autoptr(KefuTestResponse) r = call (f, "PUT", "/v1/agents/agent", f->admin,
                                          "{\"username\": \"agent\", \"role\": \"agent\", "
                                          "\"extension\": \"2001\", "
                                          "\"sip_password\": \"phone-secret-9\"}", 200);
  }
  cred = credential_of (f, "agent");
  g_assert_nonnull (cred);
  g_assert_cmpstr (json_object_get_string_member (cred, "realm"), ==, "sip.example.cn");
  g_assert_cmpstr (json_object_get_string_member (cred, "ha1"), ==, ha1);
  {
    g_autoptr(KefuTestResponse) r = call (f, "GET", "/v1/sip/credentials", f->service, NULL, 200);

    g_assert_cmpstr (json_object_get_string_member (kefu_test_response_object (r), "realm"), ==,
                     "sip.example.cn");
  }
  fixture_free (f);
}

/* data/kefu-server.conf lists every setting with its default, the new
 * one included, and loads as it ships. */
static void
test_shipped_config (void)
{
  g_autoptr(KefuServerConfig) config = kefu_server_config_new ();
  g_autoptr(KefuServerConfig) defaults = kefu_server_config_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (g_getenv ("KEFU_SOURCE_DIR"), "data",
                                            "kefu-server.conf", NULL);
  g_autofree char *text = NULL;

  g_assert_true (kefu_server_config_load (config, path, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (config->sip_realm, ==, "kefu");
  g_assert_cmpstr (defaults->sip_realm, ==, config->sip_realm);
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_assert_nonnull (strstr (text, "\nsip_realm = kefu\n"));
}

/* --- callbacks ----------------------------------------------------------------------- */

static gint64
create_callback (Fixture    *f,
                 const char *token,
                 const char *json,
                 const char *expected_source)
{
  g_autoptr(KefuTestResponse) r = call (f, "POST", "/v1/callbacks", token, json, 201);
  JsonObject *o = kefu_test_response_object (r);

  g_assert_cmpstr (json_object_get_string_member (o, "status"), ==, "open");
  g_assert_cmpstr (json_object_get_string_member (o, "source"), ==, expected_source);
  g_assert_false (json_object_has_member (o, "assignee"));
  return json_object_get_int_member (o, "id");
}

static guint
count_listed (Fixture    *f,
              const char *query)
{
  g_autofree char *path = g_strdup_printf ("/v1/callbacks%s", query);
  g_autoptr(KefuTestResponse) r = call (f, "GET", path, f->agent, NULL, 200);

  return json_array_get_length (json_object_get_array_member (kefu_test_response_object (r),
                                                              "items"));
}

static void
test_callbacks (void)
{
  Fixture *f = fixture_start (NULL);
  gint64 from_ivr, from_overflow, typed;
  g_autofree char *path = NULL;
  g_autofree char *path2 = NULL;

  /* The switch files what the IVR and overflow took; an agent types one. */
  from_ivr = create_callback (f, f->service,
                              "{\"number\": \"13800138000\", \"queue\": \"sales\", "
                              "\"call_id\": \"sw-1-0001\"}", "ivr");
  from_overflow = create_callback (f, f->service,
                                   "{\"number\": \"+86 10 1234 5678\", \"queue\": \"support\", "
                                   "\"call_id\": \"sw-1-0002\", \"source\": \"overflow\"}",
                                   "overflow");
  typed = create_callback (f, f->agent, "{\"number\": \"02087654321\", \"notes\": \"after 5pm\"}",
                           "agent");

  /* Bad input is refused and stores nothing. */
  {
    g_autoptr(KefuTestResponse) a = call (f, "POST", "/v1/callbacks", f->agent,
                                          "{\"queue\": \"sales\"}", 400);
    g_autoptr(KefuTestResponse) b = call (f, "POST", "/v1/callbacks", f->agent,
                                          "{\"number\": \"1\", \"status\": \"done\"}", 400);
    g_autoptr(KefuTestResponse) c = call (f, "POST", "/v1/callbacks", f->agent,
                                          "{\"number\": \"1\", \"source\": \"fax\"}", 400);
    g_autoptr(KefuTestResponse) d = call (f, "GET", "/v1/callbacks?status=lost", f->agent, NULL,
                                          400);
    g_autoptr(KefuTestResponse) e = call (f, "GET", "/v1/callbacks?colour=red", f->agent, NULL,
                                          400);

    g_assert_cmpstr (kefu_test_error_code (a), ==, "missing_field");
  }
  g_assert_cmpuint (count_listed (f, ""), ==, 3);
  g_assert_cmpuint (count_listed (f, "?status=open"), ==, 3);
  g_assert_cmpuint (count_listed (f, "?queue=sales"), ==, 1);

  /* First come, first served. */
  path = g_strdup_printf ("/v1/callbacks/%" G_GINT64_FORMAT, from_ivr);
  {
    g_autoptr(KefuTestResponse) r = call (f, "PATCH", path, f->agent,
                                          "{\"status\": \"claimed\"}", 200);

    g_assert_cmpstr (json_object_get_string_member (kefu_test_response_object (r), "assignee"),
                     ==, "agent");
  }
  {
    g_autoptr(KefuTestResponse) r = call (f, "PATCH", path, f->agent2,
                                          "{\"status\": \"claimed\"}", 409);
    JsonObject *current = json_object_get_object_member (kefu_test_response_object (r), "current");

    g_assert_nonnull (strstr (r->body, "claimed by someone else"));
    g_assert_cmpstr (json_object_get_string_member (current, "assignee"), ==, "agent");
  }
  {
    g_autoptr(KefuTestResponse) a = call (f, "PATCH", path, f->agent2, "{\"status\": \"done\"}",
                                          409);
    g_autoptr(KefuTestResponse) b = call (f, "PATCH", path, f->agent2,
                                          "{\"assignee\": \"agent2\"}", 403);
  }
  g_assert_cmpuint (count_listed (f, "?status=claimed&assignee=agent"), ==, 1);
  g_assert_cmpuint (count_listed (f, "?status=open"), ==, 2);

  /* The agent works it and finishes it. */
  {
    g_autoptr(KefuTestResponse) r = call (f, "PATCH", path, f->agent,
                                          "{\"status\": \"done\", \"attempts\": 1, "
                                          "\"notes\": \"called back, order placed\"}", 200);
    JsonObject *o = kefu_test_response_object (r);

    g_assert_cmpstr (json_object_get_string_member (o, "status"), ==, "done");
    g_assert_cmpint (json_object_get_int_member (o, "attempts"), ==, 1);
  }
  {
    g_autoptr(KefuTestResponse) r = call (f, "PATCH", path, f->agent2,
                                          "{\"status\": \"claimed\"}", 409);

    g_assert_nonnull (strstr (r->body, "finished"));
  }
  g_assert_cmpuint (count_listed (f, "?status=done"), ==, 1);

  /* Released, it is open to anyone again; a supervisor hands one out. */
  path2 = g_strdup_printf ("/v1/callbacks/%" G_GINT64_FORMAT, from_overflow);
  {
    g_autoptr(KefuTestResponse) a = call (f, "PATCH", path2, f->agent2,
                                          "{\"status\": \"claimed\"}", 200);
    g_autoptr(KefuTestResponse) b = call (f, "PATCH", path2, f->agent2, "{\"status\": \"open\"}",
                                          200);

    g_assert_false (json_object_has_member (kefu_test_response_object (b), "assignee"));
  }
  {
    g_autoptr(KefuTestResponse) r = call (f, "PATCH", path2, f->supervisor,
                                          "{\"status\": \"claimed\", \"assignee\": \"agent\"}",
                                          200);

    g_assert_cmpstr (json_object_get_string_member (kefu_test_response_object (r), "assignee"),
                     ==, "agent");
  }

  /* A stale If-Match loses, as everywhere. */
  {
    const char * const stale[] = { "If-Match", "\"1\"", NULL };
    g_autoptr(KefuTestResponse) r = kefu_test_request_full (f->server, "PATCH", path2,
                                                            f->supervisor, "application/json",
                                                            "{\"notes\": \"x\"}",
                                                            strlen ("{\"notes\": \"x\"}"), stale);

    g_assert_cmpuint (r->status, ==, 409);
  }

  /* The desktops sync callbacks from the change feed. */
  {
    g_autoptr(KefuTestResponse) r = call (f, "GET", "/v1/changes?since=0&limit=500", f->agent, NULL,
                                          200);
    JsonArray *changes = json_object_get_array_member (kefu_test_response_object (r), "changes");
    guint seen = 0;

    for (guint i = 0; i < json_array_get_length (changes); i++)
      seen += g_str_equal (json_object_get_string_member (json_array_get_object_element (changes, i),
                                                          "entity"), "callback");
    g_assert_cmpuint (seen, >=, 8);
  }

  /* Removing is a supervisor's. */
  {
    g_autofree char *path3 = g_strdup_printf ("/v1/callbacks/%" G_GINT64_FORMAT, typed);
    g_autoptr(KefuTestResponse) a = call (f, "DELETE", path3, f->agent, NULL, 403);
    g_autoptr(KefuTestResponse) b = call (f, "DELETE", path3, f->supervisor, NULL, 204);
    g_autoptr(KefuTestResponse) c = call (f, "GET", path3, f->agent, NULL, 404);
  }
  g_assert_cmpuint (count_listed (f, ""), ==, 2);
  fixture_free (f);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  kefu_test_kill_server_on_abort ();

  g_test_add_func ("/server/switch/sip-credentials", test_sip_credentials);
  g_test_add_func ("/server/switch/sip-realm-setting", test_sip_realm_setting);
  g_test_add_func ("/server/switch/callbacks", test_callbacks);
  g_test_add_func ("/server/switch/shipped-config", test_shipped_config);
  return g_test_run ();
}
