/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The desktop's local copy and its sync with a real kefu-server: what an
 * agent notices is that the customer pops from the local copy, that what
 * they typed offline reaches the server once, that a conflict shows both
 * versions, and that a draft survives the program being killed.
 */
#include "config.h"

#include "kefu-local-store.h"
#include "kefu-phone-number.h"
#include "kefu-record.h"
#include "kefu-sync.h"
#include "kefu-test-desk.h"
#include "kefu-test-server.h"
#include "kefu-time.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

typedef struct {
  KefuTestServer *server;
  KefuTestRelay  *relay;
  char           *dir;
  char           *token;        /* the desktop's (agent) */
  char           *admin;        /* for what only the switch or an admin writes */
  KefuApiClient  *client;
  KefuLocalStore *store;
  KefuSync       *sync;
} Fixture;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  fixture->server = kefu_test_server_start (NULL);
  fixture->relay = kefu_test_relay_new (fixture->server->url);
  fixture->dir = g_dir_make_tmp ("kefu-desk-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->token = kefu_test_login (fixture->server, "agent");
  fixture->admin = kefu_test_login (fixture->server, "admin");

  fixture->client = kefu_api_client_new (kefu_test_relay_get_url (fixture->relay));
  kefu_api_client_set_token (fixture->client, fixture->token);
  kefu_api_client_set_timeout (fixture->client, 10);
  path = g_build_filename (fixture->dir, "local.db", NULL);
  fixture->store = kefu_local_store_new (path, "CN", &error);
  g_assert_no_error (error);
  fixture->sync = kefu_sync_new (fixture->client, fixture->store);
  kefu_sync_set_max_backoff (fixture->sync, 200);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  kefu_sync_stop (fixture->sync);
  kefu_test_assert_finalized (fixture->sync);
  kefu_test_assert_finalized (fixture->store);
  kefu_test_assert_finalized (fixture->client);
  kefu_test_relay_free (fixture->relay);
  kefu_test_server_free (fixture->server);
  kefu_test_remove_tree (fixture->dir);
  g_free (fixture->dir);
  g_free (fixture->token);
  g_free (fixture->admin);
}

/* --- helpers --------------------------------------------------------------- */

static gboolean
flush (Fixture  *fixture,
       GError  **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  kefu_sync_flush_async (fixture->sync, NULL, kefu_test_on_result, &result);
  kefu_test_wait_result (&result);
  return kefu_sync_flush_finish (fixture->sync, result, error);
}

static void
flush_ok (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;

  flush (fixture, &error);
  g_assert_no_error (error);
}

static JsonObject *
server_write (Fixture    *fixture,
              const char *token,
              const char *method,
              const char *path,
              const char *json,
              guint       expected_status)
{
  g_autoptr(KefuTestResponse) response = kefu_test_request_expect (fixture->server, method, path,
                                                                   token, json, expected_status);

  return json_object_ref (kefu_test_response_object (response));
}

/* The server's customers whose name starts with name. */
static JsonArray *
server_customers (Fixture    *fixture,
                  const char *name)
{
  g_autofree char *escaped = g_uri_escape_string (name, NULL, FALSE);
  g_autofree char *path = g_strdup_printf ("/v1/customers?q=%s", escaped);
  g_autoptr(JsonObject) page = server_write (fixture, fixture->token, "GET", path, NULL, 200);

  return json_array_ref (json_object_get_array_member (page, "items"));
}

static JsonObject *
json_object_from (const char *text)
{
  g_autoptr(JsonNode) node = json_from_string (text, NULL);

  g_assert_nonnull (node);
  return json_object_ref (json_node_get_object (node));
}

/* --- a known number, any spelling, from the local copy ------------------------------------ */

static void
test_lookup_after_sync (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autoptr(JsonObject) customer = NULL;
  g_autoptr(JsonObject) kase = NULL;
  g_autoptr(JsonObject) note = NULL;
  g_autoptr(JsonObject) call = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *case_path = NULL;
  g_autofree char *call_json = NULL;
  g_autofree char *case_json = NULL;
  const char * const spellings[] = {
    "010-6552 8899", "+86 10 6552 8899", "008610 65528899", "(010) 65528899", "+861065528899",
  };
  gint64 id;

  customer = server_write (fixture, fixture->token, "POST", "/v1/customers",
                           "{\"name\": \"王小明\", \"tier\": \"vip\", "
                           "\"phones\": [\"010-65528899\"], \"company\": \"北京贸易\"}", 201);
  id = json_object_get_int_member (customer, "id");
  case_json = g_strdup_printf ("{\"customer_id\": %" G_GINT64_FORMAT ", \"subject\": \"Refund\", "
                               "\"call_id\": \"call-lookup-1\"}", id);
  kase = server_write (fixture, fixture->token, "POST", "/v1/cases", case_json, 201);
  case_path = g_strdup_printf ("/v1/cases/%" G_GINT64_FORMAT "/notes",
                               json_object_get_int_member (kase, "id"));
  note = server_write (fixture, fixture->token, "POST", case_path, "{\"body\": \"Called back\"}",
                       201);
  call_json = g_strdup_printf ("{\"id\": \"call-lookup-1\", \"direction\": \"inbound\", "
                               "\"caller\": \"+861065528899\", \"agent\": \"agent\", "
                               "\"customer_id\": %" G_GINT64_FORMAT "}", id);
  call = server_write (fixture, fixture->admin, "POST", "/v1/calls", call_json, 201);

  /* Nothing local before a sync. */
  {
    g_autoptr(JsonArray) none = kefu_local_store_find_customers_by_phone (fixture->store,
                                                                         spellings[0], &error);

    g_assert_no_error (error);
    g_assert_cmpuint (json_array_get_length (none), ==, 0);
  }

  flush_ok (fixture);
  g_assert_true (kefu_sync_get_online (fixture->sync));
  g_assert_cmpint (kefu_local_store_get_cursor (fixture->store), >, 0);

  for (guint i = 0; i < G_N_ELEMENTS (spellings); i++)
    {
      g_autoptr(JsonArray) found = kefu_local_store_find_customers_by_phone (fixture->store,
                                                                            spellings[i], &error);
      JsonObject *card;

      g_assert_no_error (error);
      g_assert_cmpuint (json_array_get_length (found), ==, 1);
      card = json_array_get_object_element (found, 0);
      g_assert_cmpint (json_object_get_int_member (card, "id"), ==, id);
      g_assert_cmpstr (json_object_get_string_member (card, "name"), ==, "王小明");
      g_assert_cmpstr (json_object_get_string_member (card, "tier"), ==, "vip");
    }

  /* Another number is nobody; text that is no number says why. */
  {
    g_autoptr(JsonArray) none = kefu_local_store_find_customers_by_phone (fixture->store,
                                                                         "010-6552 8898", &error);

    g_assert_no_error (error);
    g_assert_cmpuint (json_array_get_length (none), ==, 0);
    g_assert_null (kefu_local_store_find_customers_by_phone (fixture->store, "call me", &error));
    g_assert_error (error, KEFU_PHONE_NUMBER_ERROR, KEFU_PHONE_NUMBER_ERROR_INVALID);
    g_clear_error (&error);
  }

  /* Search as the agent types: a name prefix, the start of a number. */
  {
    g_autoptr(JsonArray) by_name = kefu_local_store_search_customers (fixture->store, "王小",
                                                                      20, &error);
    g_autoptr(JsonArray) by_number = kefu_local_store_search_customers (fixture->store, "010-6552",
                                                                        20, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (json_array_get_length (by_name), ==, 1);
    g_assert_cmpuint (json_array_get_length (by_number), ==, 1);
  }

  /* The card's timeline: the call, the case and its note, newest first. */
  {
    g_autoptr(JsonArray) timeline = kefu_local_store_get_timeline (fixture->store, id, &error);
    gboolean seen_call = FALSE, seen_case = FALSE, seen_note = FALSE;
    g_autofree char *previous = NULL;

    g_assert_no_error (error);
    g_assert_cmpuint (json_array_get_length (timeline), ==, 3);
    for (guint i = 0; i < json_array_get_length (timeline); i++)
      {
        JsonObject *item = json_array_get_object_element (timeline, i);
        const char *kind = json_object_get_string_member (item, "kind");
        const char *at = json_object_get_string_member (item, "at");
        JsonObject *record = json_object_get_object_member (item, "record");
        gint64 at_ms, previous_ms;

        if (previous)
          {
            g_assert_true (kefu_time_parse_ms (at, NULL, &at_ms));
            g_assert_true (kefu_time_parse_ms (previous, NULL, &previous_ms));
            g_assert_cmpint (at_ms, <=, previous_ms);
          }
        g_free (previous);
        previous = g_strdup (at);
        if (g_str_equal (kind, "call"))
          seen_call = g_str_equal (json_object_get_string_member (record, "id"), "call-lookup-1");
        else if (g_str_equal (kind, "case"))
          seen_case = g_str_equal (json_object_get_string_member (record, "subject"), "Refund");
        else if (g_str_equal (kind, "note"))
          seen_note = g_str_equal (json_object_get_string_member (record, "body"), "Called back");
      }
    g_assert_true (seen_call && seen_case && seen_note);
  }

  {
    g_autoptr(JsonArray) cases = kefu_local_store_list_cases_for_call (fixture->store,
                                                                      "call-lookup-1", &error);
    g_autoptr(JsonArray) calls = kefu_local_store_list_recent_calls (fixture->store, "agent", 10,
                                                                     &error);

    g_assert_no_error (error);
    g_assert_cmpuint (json_array_get_length (cases), ==, 1);
    g_assert_cmpuint (json_array_get_length (calls), ==, 1);
  }

  /* A change on the server reaches the card at the next round. */
  {
    g_autofree char *path = g_strdup_printf ("/v1/customers/%" G_GINT64_FORMAT, id);
    g_autoptr(JsonObject) changed = server_write (fixture, fixture->admin, "PATCH", path,
                                                  "{\"company\": \"上海贸易\"}", 200);
    g_autoptr(JsonObject) card = NULL;

    flush_ok (fixture);
    card = kefu_local_store_get_customer (fixture->store, id, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (json_object_get_string_member (card, "company"), ==, "上海贸易");
  }
}

/* --- changes made offline arrive once --------------------------------------------------- */

static void
on_record_id_changed (KefuLocalStore *store,
                      const char     *entity,
                      gint64          old_id,
                      gint64          new_id,
                      GHashTable     *renamed)
{
  g_assert_true (kefu_local_store_id_is_local (old_id));
  g_assert_false (kefu_local_store_id_is_local (new_id));
  g_hash_table_insert (renamed, g_strdup (entity), g_memdup2 (&new_id, sizeof new_id));
}

static void
test_offline_changes (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(JsonObject) existing = NULL;
  g_autoptr(JsonObject) patch = json_object_from ("{\"company\": \"Offline Trading\"}");
  g_autoptr(JsonObject) person = json_object_from ("{\"name\": \"Offline Person\", "
                                                   "\"phones\": [\"021-5555 0001\"]}");
  g_autoptr(JsonObject) created = NULL;
  g_autoptr(JsonObject) updated = NULL;
  g_autoptr(JsonObject) kase = NULL;
  g_autoptr(JsonObject) with_note = NULL;
  g_autoptr(JsonObject) case_input = NULL;
  g_autoptr(GHashTable) renamed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *case_json = NULL;
  gint64 existing_id, local_customer, local_case;

  existing = server_write (fixture, fixture->token, "POST", "/v1/customers",
                           "{\"name\": \"Existing Customer\", \"phones\": [\"021-5555 0000\"]}",
                           201);
  existing_id = json_object_get_int_member (existing, "id");
  flush_ok (fixture);
  g_signal_connect (fixture->store, "record-id-changed", G_CALLBACK (on_record_id_changed),
                    renamed);

  /* The server goes away; the agent works on. */
  kefu_test_server_stop (fixture->server);
  updated = kefu_local_store_update_customer (fixture->store, existing_id, patch, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (updated, "company"), ==, "Offline Trading");
  created = kefu_local_store_create_customer (fixture->store, person, &error);
  g_assert_no_error (error);
  local_customer = json_object_get_int_member (created, "id");
  g_assert_true (kefu_local_store_id_is_local (local_customer));
  case_json = g_strdup_printf ("{\"customer_id\": %" G_GINT64_FORMAT ", \"subject\": "
                               "\"Offline case\", \"call_id\": \"call-offline-1\", "
                               "\"priority\": \"high\"}", local_customer);
  case_input = json_object_from (case_json);
  kase = kefu_local_store_create_case (fixture->store, case_input, &error);
  g_assert_no_error (error);
  local_case = json_object_get_int_member (kase, "id");
  with_note = kefu_local_store_add_case_note (fixture->store, local_case, "Wants a callback",
                                              &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (with_note, "notes")), ==, 1);

  /* All of it shows at once, from the local copy. */
  {
    g_autoptr(JsonArray) found = kefu_local_store_find_customers_by_phone (fixture->store,
                                                                          "+86 21 5555 0001",
                                                                          &error);

    g_assert_no_error (error);
    g_assert_cmpuint (json_array_get_length (found), ==, 1);
  }
  g_assert_cmpuint (kefu_sync_get_pending_changes (fixture->sync), ==, 4);

  /* A refused bad edit is refused here, as the server would. */
  {
    g_autoptr(JsonObject) bad = json_object_from ("{\"tier\": \"platinum\"}");
    g_autoptr(JsonObject) none = kefu_local_store_update_customer (fixture->store, existing_id, bad,
                                                                   &error);

    g_assert_null (none);
    g_assert_error (error, KEFU_RECORD_ERROR, KEFU_RECORD_ERROR_INVALID_VALUE);
    g_clear_error (&error);
    g_assert_cmpuint (kefu_sync_get_pending_changes (fixture->sync), ==, 4);
  }

  /* Offline: the banner shows, nothing is lost. */
  g_assert_false (flush (fixture, &error));
  g_assert_error (error, KEFU_API_ERROR, KEFU_API_ERROR_UNREACHABLE);
  g_clear_error (&error);
  g_assert_false (kefu_sync_get_online (fixture->sync));
  g_assert_nonnull (kefu_sync_get_last_error (fixture->sync));
  g_assert_cmpuint (kefu_sync_get_pending_changes (fixture->sync), ==, 4);
  g_assert_false (flush (fixture, &error));
  g_clear_error (&error);

  /* Back: everything arrives, each once. */
  kefu_test_server_restart (fixture->server);
  kefu_test_relay_set_upstream (fixture->relay, fixture->server->url);
  flush_ok (fixture);
  g_assert_true (kefu_sync_get_online (fixture->sync));
  g_assert_null (kefu_sync_get_last_error (fixture->sync));
  g_assert_cmpuint (kefu_sync_get_pending_changes (fixture->sync), ==, 0);
  flush_ok (fixture);

  {
    g_autoptr(JsonArray) people = server_customers (fixture, "Offline Person");
    g_autoptr(JsonObject) cases = server_write (fixture, fixture->token, "GET",
                                                "/v1/cases?call_id=call-offline-1", NULL, 200);
    g_autofree char *path = g_strdup_printf ("/v1/customers/%" G_GINT64_FORMAT, existing_id);
    g_autoptr(JsonObject) server_existing = server_write (fixture, fixture->token, "GET", path,
                                                          NULL, 200);
    JsonArray *items = json_object_get_array_member (cases, "items");
    JsonObject *server_case;
    gint64 server_customer;

    g_assert_cmpuint (json_array_get_length (people), ==, 1);
    server_customer = json_object_get_int_member (json_array_get_object_element (people, 0), "id");
    g_assert_cmpuint (json_array_get_length (items), ==, 1);
    server_case = json_array_get_object_element (items, 0);
    g_assert_cmpint (json_object_get_int_member (server_case, "customer_id"), ==, server_customer);
    g_assert_cmpstr (json_object_get_string_member (server_case, "priority"), ==, "high");
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (server_case, "notes")),
                      ==, 1);
    g_assert_cmpstr (json_object_get_string_member (
                       json_array_get_object_element (
                         json_object_get_array_member (server_case, "notes"), 0), "author"),
                     ==, "agent");
    g_assert_cmpstr (json_object_get_string_member (server_existing, "company"), ==,
                     "Offline Trading");

    /* The local records took the server's ids, and nothing is doubled. */
    g_assert_cmpint (*(gint64 *) g_hash_table_lookup (renamed, "customer"), ==, server_customer);
    g_assert_cmpint (*(gint64 *) g_hash_table_lookup (renamed, "case"), ==,
                     json_object_get_int_member (server_case, "id"));
    {
      g_autoptr(JsonArray) found = kefu_local_store_find_customers_by_phone (fixture->store,
                                                                            "021-55550001",
                                                                            &error);
      g_autoptr(JsonArray) local_cases = kefu_local_store_list_cases_for_call (fixture->store,
                                                                              "call-offline-1",
                                                                              &error);
      JsonObject *local_case_now;

      g_assert_no_error (error);
      g_assert_cmpuint (json_array_get_length (found), ==, 1);
      g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (found, 0), "id"),
                       ==, server_customer);
      g_assert_cmpuint (json_array_get_length (local_cases), ==, 1);
      local_case_now = json_array_get_object_element (local_cases, 0);
      g_assert_cmpint (json_object_get_int_member (local_case_now, "customer_id"), ==,
                       server_customer);
      g_assert_cmpuint (json_array_get_length (json_object_get_array_member (local_case_now,
                                                                             "notes")), ==, 1);
    }
  }
}

/* --- a retry after a lost answer is applied once --------------------------------------- */

static void
test_lost_answer (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(JsonObject) input = json_object_from ("{\"name\": \"Lost Answer Ltd\"}");
  g_autoptr(JsonObject) created = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) on_server = NULL;
  g_autoptr(JsonArray) local = NULL;

  flush_ok (fixture);
  kefu_test_relay_lose_answers (fixture->relay, 1);
  created = kefu_local_store_create_customer (fixture->store, input, &error);
  g_assert_no_error (error);

  /* The first push reaches the server, its answer does not come back;
   * the change stays until a retry is acknowledged. */
  if (!flush (fixture, &error))
    {
      g_assert_error (error, KEFU_API_ERROR, KEFU_API_ERROR_UNREACHABLE);
      g_clear_error (&error);
      g_assert_cmpuint (kefu_sync_get_pending_changes (fixture->sync), ==, 1);
      flush_ok (fixture);
    }
  g_assert_cmpuint (kefu_test_relay_lost_answers (fixture->relay), ==, 1);
  g_assert_cmpuint (kefu_sync_get_pending_changes (fixture->sync), ==, 0);

  on_server = server_customers (fixture, "Lost Answer");
  g_assert_cmpuint (json_array_get_length (on_server), ==, 1);
  local = kefu_local_store_search_customers (fixture->store, "Lost Answer", 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (local), ==, 1);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (local, 0), "id"), ==,
                   json_object_get_int_member (json_array_get_object_element (on_server, 0), "id"));
}

/* --- a conflict shows both versions; each choice does what it says ----------------------------- */

typedef struct {
  gint64      seq;
  char       *entity;
  JsonObject *ours;
  JsonObject *theirs;
  guint       count;
} Conflict;

static void
on_conflict (KefuSync   *sync,
             gint64      seq,
             const char *entity,
             gint64      id,
             JsonObject *ours,
             JsonObject *theirs,
             Conflict   *conflict)
{
  conflict->seq = seq;
  g_free (conflict->entity);
  conflict->entity = g_strdup (entity);
  g_clear_pointer (&conflict->ours, json_object_unref);
  g_clear_pointer (&conflict->theirs, json_object_unref);
  conflict->ours = json_object_ref (ours);
  conflict->theirs = json_object_ref (theirs);
  conflict->count++;
}

static void
conflict_clear (Conflict *conflict)
{
  g_free (conflict->entity);
  g_clear_pointer (&conflict->ours, json_object_unref);
  g_clear_pointer (&conflict->theirs, json_object_unref);
  memset (conflict, 0, sizeof *conflict);
}

/* Makes a conflict on a new customer: the agent renames it here while
 * agent2 changes it on the server. */
static gint64
make_conflict (Fixture    *fixture,
               const char *name,
               Conflict   *conflict)
{
  g_autofree char *body = g_strdup_printf ("{\"name\": \"%s\", \"company\": \"Base Co\"}", name);
  g_autofree char *mine = g_strdup_printf ("{\"name\": \"%s (mine)\"}", name);
  g_autofree char *theirs = g_strdup_printf ("{\"name\": \"%s (theirs)\", \"tags\": [\"moved\"]}",
                                             name);
  g_autoptr(JsonObject) created = server_write (fixture, fixture->token, "POST", "/v1/customers",
                                                body, 201);
  g_autoptr(JsonObject) patch = json_object_from (mine);
  g_autoptr(JsonObject) edited = NULL;
  g_autoptr(JsonObject) other = NULL;
  g_autofree char *agent2 = kefu_test_login (fixture->server, "agent2");
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  gint64 id = json_object_get_int_member (created, "id");

  flush_ok (fixture);
  edited = kefu_local_store_update_customer (fixture->store, id, patch, &error);
  g_assert_no_error (error);
  path = g_strdup_printf ("/v1/customers/%" G_GINT64_FORMAT, id);
  other = server_write (fixture, agent2, "PATCH", path, theirs, 200);
  g_assert_cmpint (json_object_get_int_member (other, "version"), ==, 2);

  flush_ok (fixture);
  g_assert_cmpuint (conflict->count, ==, 1);
  return id;
}

static void
test_conflict (Fixture       *fixture,
               gconstpointer  data)
{
  Conflict conflict = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) conflicts = NULL;
  gint64 id;

  g_signal_connect (fixture->sync, "conflict", G_CALLBACK (on_conflict), &conflict);

  /* Both versions are shown. */
  id = make_conflict (fixture, "Keep Mine", &conflict);
  g_assert_cmpstr (conflict.entity, ==, "customer");
  g_assert_cmpstr (json_object_get_string_member (conflict.ours, "name"), ==, "Keep Mine (mine)");
  g_assert_cmpstr (json_object_get_string_member (conflict.theirs, "name"), ==,
                   "Keep Mine (theirs)");
  g_assert_cmpint (json_object_get_int_member (conflict.theirs, "version"), ==, 2);
  g_assert_cmpuint (kefu_sync_get_pending_changes (fixture->sync), ==, 1);
  conflicts = kefu_sync_list_conflicts (fixture->sync);
  g_assert_cmpuint (conflicts->len, ==, 1);
  g_assert_cmpint (((KefuOutboxEntry *) g_ptr_array_index (conflicts, 0))->seq, ==, conflict.seq);

  /* Keep mine: my name wins on the server, their other change stays. */
  g_assert_true (kefu_sync_resolve_conflict (fixture->sync, conflict.seq, KEFU_SYNC_KEEP_MINE,
                                             &error));
  g_assert_no_error (error);
  flush_ok (fixture);
  g_assert_cmpuint (kefu_sync_get_pending_changes (fixture->sync), ==, 0);
  {
    g_autofree char *path = g_strdup_printf ("/v1/customers/%" G_GINT64_FORMAT, id);
    g_autoptr(JsonObject) server = server_write (fixture, fixture->token, "GET", path, NULL, 200);
    g_autoptr(JsonObject) local = kefu_local_store_get_customer (fixture->store, id, &error);

    g_assert_cmpstr (json_object_get_string_member (server, "name"), ==, "Keep Mine (mine)");
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (server, "tags")), ==, 1);
    g_assert_cmpint (json_object_get_int_member (server, "version"), ==, 3);
    g_assert_no_error (error);
    g_assert_cmpstr (json_object_get_string_member (local, "name"), ==, "Keep Mine (mine)");
    g_assert_cmpint (json_object_get_int_member (local, "version"), ==, 3);
  }
  conflict_clear (&conflict);

  /* Take theirs: the server's version shows here, the server keeps it. */
  id = make_conflict (fixture, "Take Theirs", &conflict);
  g_assert_true (kefu_sync_resolve_conflict (fixture->sync, conflict.seq, KEFU_SYNC_TAKE_THEIRS,
                                             &error));
  g_assert_no_error (error);
  g_assert_cmpuint (kefu_sync_get_pending_changes (fixture->sync), ==, 0);
  {
    g_autoptr(JsonObject) local = kefu_local_store_get_customer (fixture->store, id, &error);

    g_assert_no_error (error);
    g_assert_cmpstr (json_object_get_string_member (local, "name"), ==, "Take Theirs (theirs)");
  }
  flush_ok (fixture);
  {
    g_autofree char *path = g_strdup_printf ("/v1/customers/%" G_GINT64_FORMAT, id);
    g_autoptr(JsonObject) server = server_write (fixture, fixture->token, "GET", path, NULL, 200);

    g_assert_cmpstr (json_object_get_string_member (server, "name"), ==, "Take Theirs (theirs)");
    g_assert_cmpint (json_object_get_int_member (server, "version"), ==, 2);
  }
  conflict_clear (&conflict);
}

/* --- a draft survives the program being killed -------------------------------------------- */

#define DRAFT_KEY "case:call:call-draft-1"

/* The child: types a case note letter by letter, saving as it types, says
 * how far it got, and waits to be killed. */
static int
run_draft_child (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KefuLocalStore) store = kefu_local_store_new (path, "CN", &error);
  const char *text = "客户要求退款，下周一回电";
  g_autoptr(GString) typed = g_string_new (NULL);

  g_assert_no_error (error);
  for (const char *p = text; *p; p = g_utf8_next_char (p))
    {
      g_autoptr(JsonObject) draft = json_object_new ();

      g_string_append_unichar (typed, g_utf8_get_char (p));
      json_object_set_string_member (draft, "subject", "退款");
      json_object_set_string_member (draft, "notes", typed->str);
      kefu_local_store_save_draft (store, DRAFT_KEY, draft, &error);
      g_assert_no_error (error);
    }
  g_print ("saved\n");
  fflush (stdout);
  for (;;)
    g_usleep (G_USEC_PER_SEC);
  return 0;
}

static void
test_draft_survives_kill (void)
{
  g_autoptr(GError) dir_error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("kefu-draft-XXXXXX", &dir_error);
  g_autofree char *path = g_build_filename (dir, "draft.db", NULL);
  g_autofree char *self_path = g_file_read_link ("/proc/self/exe", NULL);
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr(GSubprocess) child = NULL;
  g_autoptr(GDataInputStream) lines = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  g_autoptr(KefuLocalStore) store = NULL;
  g_autoptr(JsonObject) draft = NULL;
  g_auto(GStrv) keys = NULL;

  g_subprocess_launcher_setenv (launcher, "KEFU_TEST_DRAFT_CHILD", path, TRUE);
  child = g_subprocess_launcher_spawn (launcher, &error, self_path, NULL);
  g_assert_no_error (error);
  lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (child));
  line = g_data_input_stream_read_line_utf8 (lines, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (line, ==, "saved");

  /* Killed mid-edit, as by the OOM killer or a power button. */
  g_subprocess_send_signal (child, SIGKILL);
  g_subprocess_wait (child, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_signaled (child));
  g_assert_cmpint (g_subprocess_get_term_sig (child), ==, SIGKILL);

  store = kefu_local_store_new (path, "CN", &error);
  g_assert_no_error (error);
  keys = kefu_local_store_list_drafts (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (keys), ==, 1);
  g_assert_cmpstr (keys[0], ==, DRAFT_KEY);
  draft = kefu_local_store_load_draft (store, DRAFT_KEY, &error);
  g_assert_no_error (error);
  g_assert_nonnull (draft);
  g_assert_cmpstr (json_object_get_string_member (draft, "notes"), ==, "客户要求退款，下周一回电");

  g_assert_true (kefu_local_store_delete_draft (store, DRAFT_KEY, &error));
  g_assert_no_error (error);
  g_clear_pointer (&draft, json_object_unref);
  draft = kefu_local_store_load_draft (store, DRAFT_KEY, &error);
  g_assert_no_error (error);
  g_assert_null (draft);

  kefu_test_assert_finalized (g_steal_pointer (&store));
  g_assert_no_error (dir_error);
  kefu_test_remove_tree (dir);
}

int
main (int   argc,
      char *argv[])
{
  const char *child = g_getenv ("KEFU_TEST_DRAFT_CHILD");

  if (child)
    return run_draft_child (child);

  g_test_init (&argc, &argv, NULL);

  g_test_add ("/desk/sync/lookup-after-sync", Fixture, NULL, fixture_set_up,
              test_lookup_after_sync, fixture_tear_down);
  g_test_add ("/desk/sync/offline-changes-arrive-once", Fixture, NULL, fixture_set_up,
              test_offline_changes, fixture_tear_down);
  g_test_add ("/desk/sync/lost-answer-applied-once", Fixture, NULL, fixture_set_up,
              test_lost_answer, fixture_tear_down);
  g_test_add ("/desk/sync/conflict", Fixture, NULL, fixture_set_up, test_conflict,
              fixture_tear_down);
  g_test_add_func ("/desk/sync/draft-survives-kill", test_draft_survives_kill);

  return g_test_run ();
}
