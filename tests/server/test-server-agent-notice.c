/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "TestServerAgentNotice"

#include "config.h"

#include "kefu-test-server.h"

#include <string.h>

/*
 * An administrator's change to an agent (created, changed, a SIP password
 * set, removed) reaches the event stream at once as an agent.updated
 * notice, so kefu-switch reads the agents and their SIP credentials again
 * instead of waiting for its next periodic read.  The notice names the
 * agent and never carries a password or a digest; it is not in the event
 * log (reports fold that), and nobody can publish one.  Runs once on
 * SQLite and once on PostgreSQL.
 */

#define SIP_SECRET "sip-secret-7"

/* --- the event stream ------------------------------------------------------------------ */

typedef struct {
  KefuTestSubscriber *subscriber;
  guint               from;       /* messages before this one are old */
  const char         *agent;
  JsonObject         *found;      /* owned */
  char               *text;       /* owned: the message as it came */
} Notice;

static gboolean
notice_arrived (gpointer data)
{
  Notice *notice = data;

  for (guint i = notice->from; i < notice->subscriber->messages->len; i++)
    {
      const char *text = g_ptr_array_index (notice->subscriber->messages, i);
      g_autoptr(JsonNode) node = json_from_string (text, NULL);
      JsonObject *object;

      g_assert_nonnull (node);
      object = json_node_get_object (node);
      if (g_strcmp0 (json_object_get_string_member_with_default (object, "type", NULL),
                     "agent.updated") != 0)
        continue;
      /* the first notice after the mark must be the one awaited */
      g_assert_cmpstr (json_object_get_string_member (object, "agent"), ==, notice->agent);
      notice->found = json_object_ref (object);
      notice->text = g_strdup (text);
      return TRUE;
    }
  return FALSE;
}

/* The first agent.updated from message @from on; it must be @agent's, with
 * @change.  Its text in *out_text when asked for. */
static JsonObject *
wait_notice (KefuTestSubscriber  *subscriber,
             guint                from,
             const char          *agent,
             const char          *change,
             char               **out_text)
{
  Notice notice = { subscriber, from, agent, NULL, NULL };
  g_autofree char *what = g_strdup_printf ("agent.updated of %s", agent);
  JsonObject *data;

  kefu_test_wait_until (notice_arrived, &notice, what);
  data = json_object_get_object_member (notice.found, "data");
  g_assert_nonnull (data);
  g_assert_cmpstr (json_object_get_string_member (data, "change"), ==, change);
  g_assert_cmpstr (json_object_get_string_member (data, "by"), ==, "admin");
  g_assert_nonnull (json_object_get_string_member (notice.found, "ts"));
  /* a notice, not a logged event: it has no place in the log */
  g_assert_false (json_object_has_member (notice.found, "id"));
  if (out_text)
    *out_text = g_steal_pointer (&notice.text);
  g_free (notice.text);
  return notice.found;
}

static void
assert_no_secret (const char *text,
                  const char *ha1)
{
  static const char * const words[] = { SIP_SECRET, "sip_password", "ha1", "password1",
                                         "password_hash" };

  for (guint i = 0; i < G_N_ELEMENTS (words); i++)
    if (strstr (text, words[i]))
      g_error ("the notice gives away “%s”: %s", words[i], text);
  if (strstr (text, ha1))
    g_error ("the notice gives away the SIP digest: %s", text);
}

/* The HA1 kefu-switch would get for @extension. */
static char *
ha1_of (KefuTestServer *server,
        const char     *service,
        const char     *extension)
{
  g_autoptr(KefuTestResponse) response =
    kefu_test_request_expect (server, "GET", "/v1/sip/credentials", service, NULL, 200);
  JsonArray *items = json_object_get_array_member (kefu_test_response_object (response), "items");

  for (guint i = 0; i < json_array_get_length (items); i++)
    {
      JsonObject *item = json_array_get_object_element (items, i);

      if (g_strcmp0 (json_object_get_string_member_with_default (item, "extension", NULL),
                     extension) == 0)
        return g_strdup (json_object_get_string_member (item, "ha1"));
    }
  g_error ("no SIP credentials for %s", extension);
}

/* --- the tests ----------------------------------------------------------------------------- */

static void
test_sip_password_notice (void)
{
  KefuTestServer *server = kefu_test_server_start (NULL);
  g_autofree char *service = kefu_test_login (server, "service");
  g_autofree char *admin = kefu_test_login (server, "admin");
  g_autofree char *agent = kefu_test_login (server, "agent");
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autoptr(KefuTestResponse) patched = NULL;
  g_autoptr(JsonObject) notice = NULL;
  g_autoptr(JsonObject) desk_notice = NULL;
  g_autofree char *text = NULL;
  g_autofree char *ha1 = NULL;
  KefuTestSubscriber *switch_side = kefu_test_subscribe (server, session, service);
  KefuTestSubscriber *desk = kefu_test_subscribe (server, session, agent);

  patched =
    kefu_test_request_expect (server, "PATCH", "/v1/agents/agent", admin,
                              "{\"extension\": \"1001\", \"sip_password\": \"" SIP_SECRET "\"}",
                              200);
  notice = wait_notice (switch_side, 0, "agent", "updated", &text);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (notice, "data"),
                                               "version"), ==,
                   json_object_get_int_member (kefu_test_response_object (patched), "version"));
  ha1 = ha1_of (server, service, "1001");
  assert_no_secret (text, ha1);
  /* the desktops hear of it too, the same words */
  desk_notice = wait_notice (desk, 0, "agent", "updated", NULL);

  kefu_test_unsubscribe (desk);
  kefu_test_unsubscribe (switch_side);
  kefu_test_server_free (server);
}

static void
test_agent_lifecycle_notices (void)
{
  KefuTestServer *server = kefu_test_server_start (NULL);
  g_autofree char *service = kefu_test_login (server, "service");
  g_autofree char *admin = kefu_test_login (server, "admin");
  g_autoptr(SoupSession) session = soup_session_new ();
  KefuTestSubscriber *switch_side = kefu_test_subscribe (server, session, service);
  guint mark;

  /* a new agent with a phone */
  {
    g_autoptr(KefuTestResponse) r = kefu_test_request_expect (server, "POST", "/v1/agents", admin,
      "{\"username\": \"newbie\", \"role\": \"agent\", \"password\": \"" KEFU_TEST_PASSWORD "\", "
      "\"extension\": \"2001\", \"skills\": {\"sales\": 50}, "
      "\"sip_password\": \"" SIP_SECRET "\"}", 201);
    g_autoptr(JsonObject) notice = NULL;
    g_autofree char *text = NULL;
    g_autofree char *ha1 = NULL;

    notice = wait_notice (switch_side, 0, "newbie", "created", &text);
    ha1 = ha1_of (server, service, "2001");
    assert_no_secret (text, ha1);
  }

  /* a refused change says nothing: the next notice is the next change's */
  mark = switch_side->messages->len;
  {
    g_autoptr(KefuTestResponse) refused =
      kefu_test_request_expect (server, "PATCH", "/v1/agents/newbie", admin,
                                "{\"sip_password\": \"short\"}", 400);
    g_autoptr(KefuTestResponse) r =
      kefu_test_request_expect (server, "PUT", "/v1/agents/newbie", admin,
        "{\"username\": \"newbie\", \"role\": \"agent\", \"extension\": \"2001\", "
        "\"skills\": {\"sales\": 50, \"billing\": 20}}", 200);
    g_autoptr(JsonObject) notice = wait_notice (switch_side, mark, "newbie", "updated", NULL);
  }

  /* removed, by number as well as by name */
  mark = switch_side->messages->len;
  {
    g_autoptr(KefuTestResponse) got = kefu_test_request_expect (server, "GET", "/v1/agents/newbie",
                                                                admin, NULL, 200);
    g_autofree char *path = g_strdup_printf ("/v1/agents/%" G_GINT64_FORMAT,
                                             json_object_get_int_member (
                                               kefu_test_response_object (got), "id"));
    g_autoptr(KefuTestResponse) r = kefu_test_request_expect (server, "DELETE", path, admin, NULL,
                                                              204);
    g_autoptr(JsonObject) notice = wait_notice (switch_side, mark, "newbie", "removed", NULL);
  }

  /* not logged, so no report or event reader sees it; and no publisher
   * may make one up */
  {
    g_autoptr(KefuTestResponse) log =
      kefu_test_request_expect (server, "GET", "/v1/events?since=0&limit=10000", admin, NULL, 200);

    g_assert_null (strstr (log->body, "agent.updated"));
  }
  {
    g_autoptr(KefuTestResponse) r =
      kefu_test_request_expect (server, "POST", "/v1/events", service,
                                "{\"type\": \"agent.updated\", \"agent\": \"agent\"}", 400);
  }

  kefu_test_unsubscribe (switch_side);
  kefu_test_server_free (server);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/server/agent-notice/sip-password", test_sip_password_notice);
  g_test_add_func ("/server/agent-notice/lifecycle", test_agent_lifecycle_notices);

  return g_test_run ();
}
