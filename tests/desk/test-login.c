/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The agent's session: signing in to a real kefu-server, a wrong password,
 * and starting again with the last good session while the server is down.
 * Run twice: with GNOME Keyring on a private D-Bus (KEFU_TEST_KEYRING=1:
 * the token survives a restart) and with no Secret Service at all
 * (KEFU_TEST_KEYRING=0: the token stays in memory, the agent signs in
 * again, and nothing typed meanwhile is lost).
 */
#include "config.h"

#include "kefu-local-store.h"
#include "kefu-login.h"
#include "kefu-sync.h"
#include "kefu-test-desk.h"
#include "kefu-test-server.h"

#include <libsecret/secret.h>
#include <string.h>

typedef struct {
  KefuTestServer *server;
  KefuTestRelay  *relay;
  char           *dir;
  gboolean        keyring;
} Fixture;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture->keyring = g_strcmp0 (g_getenv ("KEFU_TEST_KEYRING"), "1") == 0;
  fixture->server = kefu_test_server_start (NULL);
  fixture->relay = kefu_test_relay_new (fixture->server->url);
  fixture->dir = g_dir_make_tmp ("kefu-login-XXXXXX", &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  kefu_test_relay_free (fixture->relay);
  kefu_test_server_free (fixture->server);
  kefu_test_remove_tree (fixture->dir);
  g_free (fixture->dir);
}

static gboolean
sign_in (KefuLogin   *login,
         const char  *url,
         const char  *username,
         const char  *password,
         GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  kefu_login_sign_in_async (login, url, username, password, NULL, kefu_test_on_result, &result);
  kefu_test_wait_result (&result);
  return kefu_login_sign_in_finish (login, result, error);
}

static gboolean
restore (KefuLogin  *login,
         GError    **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  kefu_login_restore_async (login, NULL, kefu_test_on_result, &result);
  kefu_test_wait_result (&result);
  return kefu_login_restore_finish (login, result, error);
}

static gboolean
flush (KefuSync  *sync,
       GError   **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  kefu_sync_flush_async (sync, NULL, kefu_test_on_result, &result);
  kefu_test_wait_result (&result);
  return kefu_sync_flush_finish (sync, result, error);
}

static void
test_sign_in (Fixture       *fixture,
              gconstpointer  data)
{
  g_autoptr(KefuLogin) login = kefu_login_new (fixture->dir);
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_auto(GStrv) codes = NULL;
  const char *url = kefu_test_relay_get_url (fixture->relay);

  /* A wrong password says so, and signs nobody in. */
  g_assert_false (sign_in (login, url, "agent", "not-the-password", &error));
  g_assert_error (error, KEFU_API_ERROR, KEFU_API_ERROR_UNAUTHORIZED);
  g_assert_cmpstr (error->message, ==, "Wrong username or password");
  g_clear_error (&error);
  g_assert_false (kefu_login_get_signed_in (login));
  g_assert_false (kefu_login_get_has_session (login));

  /* Nobody listening there: the agent is told the server is unreachable. */
  g_assert_false (sign_in (login, "http://127.0.0.1:1", "agent", KEFU_TEST_PASSWORD, &error));
  g_assert_error (error, KEFU_API_ERROR, KEFU_API_ERROR_UNREACHABLE);
  g_assert_nonnull (strstr (error->message, "http://127.0.0.1:1"));
  g_clear_error (&error);
  g_assert_false (sign_in (login, "kefu.example.com", "agent", KEFU_TEST_PASSWORD, &error));
  g_assert_error (error, KEFU_API_ERROR, KEFU_API_ERROR_UNREACHABLE);
  g_clear_error (&error);

  g_assert_true (sign_in (login, url, "agent", KEFU_TEST_PASSWORD, &error));
  g_assert_no_error (error);
  g_assert_true (kefu_login_get_signed_in (login));
  g_assert_true (kefu_login_get_has_session (login));
  g_assert_cmpstr (kefu_login_get_username (login), ==, "agent");
  g_assert_cmpstr (kefu_login_get_role (login), ==, "agent");
  g_assert_cmpstr (kefu_login_get_server_url (login), ==, url);
  g_assert_cmpint (kefu_login_get_agent_id (login), >, 0);
  g_assert_cmpint (kefu_login_get_token_in_keyring (login), ==, fixture->keyring);

  /* The client carries the session. */
  kefu_api_client_get_reason_codes_async (kefu_login_get_client (login), NULL,
                                          kefu_test_on_result, &result);
  kefu_test_wait_result (&result);
  codes = kefu_api_client_get_reason_codes_finish (kefu_login_get_client (login), result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (codes), >, 0);

  /* A failed second sign-in leaves the good session alone. */
  g_assert_false (sign_in (login, url, "agent", "wrong-again", &error));
  g_clear_error (&error);
  g_assert_true (kefu_login_get_signed_in (login));
}

static void
test_offline_start (Fixture       *fixture,
                    gconstpointer  data)
{
  const char *url = kefu_test_relay_get_url (fixture->relay);
  g_autoptr(GError) error = NULL;
  g_autofree char *store_path = NULL;
  g_autofree char *token = kefu_test_login (fixture->server, "agent");
  g_autoptr(KefuTestResponse) created = NULL;

  created = kefu_test_request (fixture->server, "POST", "/v1/customers", token,
                               "{\"name\": \"李华\", \"phones\": [\"0755-8888 1234\"]}");
  g_assert_cmpuint (created->status, ==, 201);

  /* A shift: sign in, sync the customers. */
  {
    g_autoptr(KefuLogin) login = kefu_login_new (fixture->dir);
    g_autoptr(KefuLocalStore) store = NULL;
    g_autoptr(KefuSync) sync = NULL;

    g_assert_true (sign_in (login, url, "agent", KEFU_TEST_PASSWORD, &error));
    g_assert_no_error (error);
    store_path = kefu_login_dup_store_path (login);
    store = kefu_local_store_new (store_path, "CN", &error);
    g_assert_no_error (error);
    sync = kefu_sync_new (kefu_login_get_client (login), store);
    g_assert_true (flush (sync, &error));
    g_assert_no_error (error);
  }

  /* The next morning the server is down; the desktop starts anyway. */
  kefu_test_server_stop (fixture->server);
  {
    g_autoptr(KefuLogin) login = kefu_login_new (fixture->dir);
    g_autoptr(KefuLocalStore) store = NULL;
    g_autoptr(KefuSync) sync = NULL;
    g_autoptr(JsonArray) found = NULL;
    g_autoptr(JsonObject) note = json_object_new ();
    g_autoptr(JsonObject) updated = NULL;
    g_autofree char *path_again = NULL;
    gint64 id;

    g_assert_true (restore (login, &error));
    g_assert_no_error (error);
    g_assert_true (kefu_login_get_has_session (login));
    g_assert_cmpstr (kefu_login_get_username (login), ==, "agent");
    g_assert_cmpstr (kefu_login_get_server_url (login), ==, url);
    g_assert_cmpint (kefu_login_get_agent_id (login), >, 0);
    g_assert_cmpint (kefu_login_get_signed_in (login), ==, fixture->keyring);
    g_assert_cmpint (kefu_login_get_token_in_keyring (login), ==, fixture->keyring);

    path_again = kefu_login_dup_store_path (login);
    g_assert_cmpstr (path_again, ==, store_path);
    store = kefu_local_store_new (path_again, "CN", &error);
    g_assert_no_error (error);

    /* The screen pop works from the local copy. */
    found = kefu_local_store_find_customers_by_phone (store, "+86 755 88881234", &error);
    g_assert_no_error (error);
    g_assert_cmpuint (json_array_get_length (found), ==, 1);
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (found, 0), "name"),
                     ==, "李华");
    id = json_object_get_int_member (json_array_get_object_element (found, 0), "id");

    /* And the agent works on. */
    json_object_set_string_member (note, "notes", "Prefers calls after 6 pm");
    updated = kefu_local_store_update_customer (store, id, note, &error);
    g_assert_no_error (error);

    sync = kefu_sync_new (kefu_login_get_client (login), store);
    kefu_sync_set_max_backoff (sync, 200);
    g_assert_false (flush (sync, &error));
    if (fixture->keyring)
      g_assert_error (error, KEFU_API_ERROR, KEFU_API_ERROR_UNREACHABLE);
    else
      g_assert_error (error, KEFU_API_ERROR, KEFU_API_ERROR_UNAUTHORIZED);
    g_clear_error (&error);
    g_assert_false (kefu_sync_get_online (sync));
    g_assert_cmpuint (kefu_sync_get_pending_changes (sync), ==, 1);

    /* The server is back.  With the keyring the kept token works; without
     * it the agent signs in again.  The waiting change goes either way. */
    kefu_test_server_restart (fixture->server);
    kefu_test_relay_set_upstream (fixture->relay, fixture->server->url);
    if (!fixture->keyring)
      {
        g_assert_true (sign_in (login, url, "agent", KEFU_TEST_PASSWORD, &error));
        g_assert_no_error (error);
      }
    g_assert_true (flush (sync, &error));
    g_assert_no_error (error);
    g_assert_true (kefu_sync_get_online (sync));
    g_assert_cmpuint (kefu_sync_get_pending_changes (sync), ==, 0);
    {
      g_autofree char *path = g_strdup_printf ("/v1/customers/%" G_GINT64_FORMAT, id);
      g_autoptr(KefuTestResponse) server_copy = kefu_test_request (fixture->server, "GET", path,
                                                                   token, NULL);

      g_assert_cmpuint (server_copy->status, ==, 200);
      g_assert_cmpstr (json_object_get_string_member (kefu_test_response_object (server_copy),
                                                      "notes"), ==, "Prefers calls after 6 pm");
    }

    /* Signing out forgets the token; the address and name stay. */
    {
      g_autoptr(GAsyncResult) result = NULL;

      kefu_login_sign_out_async (login, NULL, kefu_test_on_result, &result);
      kefu_test_wait_result (&result);
      g_assert_true (kefu_login_sign_out_finish (login, result, &error));
      g_assert_no_error (error);
      g_assert_false (kefu_login_get_signed_in (login));
      g_assert_false (kefu_login_get_token_in_keyring (login));
    }
  }
  {
    g_autoptr(KefuLogin) login = kefu_login_new (fixture->dir);

    g_assert_false (restore (login, &error));
    g_assert_no_error (error);
    g_assert_false (kefu_login_get_has_session (login));
    g_assert_false (kefu_login_get_signed_in (login));
    g_assert_cmpstr (kefu_login_get_username (login), ==, "agent");
    g_assert_cmpstr (kefu_login_get_server_url (login), ==, url);
  }
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);

  g_test_add ("/desk/login/sign-in", Fixture, NULL, fixture_set_up, test_sign_in,
              fixture_tear_down);
  g_test_add ("/desk/login/offline-start", Fixture, NULL, fixture_set_up, test_offline_start,
              fixture_tear_down);

  status = g_test_run ();
  /* libsecret keeps its connection to the Secret Service for the process;
   * let go of it so that the leak checker sees only leaks. */
  secret_service_disconnect ();
  while (g_main_context_iteration (NULL, FALSE))
    ;
  return status;
}
