/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The agent's window against real peers, under Xvfb: a kefu-server with
 * customers, the desktop's local copy synced from it, the desktop's phone
 * and a caller's phone (both KefuPhone, SIP and RTP on 127.0.0.1).  The
 * screen pop must show the right customer before the agent answers — by
 * number, for a VIP, for an unknown number, by X-Kefu-Customer, and a
 * short list for a shared number; a case written during the call must
 * reach the server with the call's id; and the keyboard shortcuts (real
 * key presses through the X server) must act on the call.
 */
#define G_LOG_DOMAIN "KefuTestDeskWindow"

#include "config.h"

#include <adwaita.h>
#include <string.h>

#include "kefu-call.h"
#include "kefu-case-editor.h"
#include "kefu-crm-pane.h"
#include "kefu-customer-card.h"
#include "kefu-local-store.h"
#include "kefu-phone.h"
#include "kefu-phone-panel.h"
#include "kefu-sync.h"
#include "kefu-test-desk.h"
#include "kefu-test-server.h"
#include "kefu-window.h"

#define WAIT_TIMEOUT_S 20

typedef struct {
  KefuTestServer *server;
  KefuTestRelay  *relay;          /* one address for the desktop across server restarts */
  char           *dir;
  char           *admin;
  KefuApiClient  *client;
  KefuLocalStore *store;
  KefuSync       *sync;
  KefuPhone      *desk_phone;
  KefuPhone      *caller;
  KefuCall       *caller_call;    /* the caller's side of the call */
  KefuPhone      *colleague;      /* where transfers go; answers by itself */
  KefuWindow     *window;
  gint64          known_id;
  gint64          vip_id;
  gint64          header_id;
  guint           tick;
} Fixture;

static gboolean
on_tick (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

#define WAIT_UNTIL(cond)                                                          \
  G_STMT_START {                                                                  \
    gint64 deadline_ = g_get_monotonic_time () + WAIT_TIMEOUT_S * G_USEC_PER_SEC; \
    while (!(cond))                                                               \
      {                                                                           \
        if (g_get_monotonic_time () > deadline_)                                  \
          g_error ("timed out after %d s waiting for: %s", WAIT_TIMEOUT_S, #cond); \
        g_main_context_iteration (NULL, TRUE);                                    \
      }                                                                           \
  } G_STMT_END

static gint64
create_customer (Fixture    *fixture,
                 const char *json)
{
  g_autoptr(KefuTestResponse) response =
    kefu_test_request (fixture->server, "POST", "/v1/customers", fixture->admin, json);

  g_assert_cmpuint (response->status, ==, 201);
  return json_object_get_int_member (kefu_test_response_object (response), "id");
}

static void
flush_ok (Fixture *fixture)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  kefu_sync_flush_async (fixture->sync, NULL, kefu_test_on_result, &result);
  kefu_test_wait_result (&result);
  kefu_sync_flush_finish (fixture->sync, result, &error);
  g_assert_no_error (error);
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *token = NULL;

  fixture->tick = g_timeout_add (50, on_tick, NULL);
  fixture->server = kefu_test_server_start (NULL);
  fixture->dir = g_dir_make_tmp ("kefu-desk-ui-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->admin = kefu_test_login (fixture->server, "admin");
  token = kefu_test_login (fixture->server, "agent");

  fixture->known_id = create_customer (fixture,
    "{\"name\": \"王芳\", \"company\": \"北京星辰科技有限公司\", \"tier\": \"normal\","
    " \"owner\": \"agent\", \"phones\": [\"010-6552 1234\"], \"tags\": [\"billing\"]}");
  fixture->vip_id = create_customer (fixture,
    "{\"name\": \"Grace Hopper\", \"company\": \"Harbour Shipping Ltd\", \"tier\": \"vip\","
    " \"phones\": [\"+86 138 0013 8000\"], \"emails\": [\"grace@example.com\"]}");
  fixture->header_id = create_customer (fixture,
    "{\"name\": \"李雷\", \"tier\": \"gold\", \"account_number\": \"8800123\"}");
  /* a switchboard number two customers share */
  create_customer (fixture, "{\"name\": \"Shared One\", \"phones\": [\"+862150001000\"]}");
  create_customer (fixture, "{\"name\": \"Shared Two\", \"phones\": [\"+862150001000\"]}");

  fixture->relay = kefu_test_relay_new (fixture->server->url);
  fixture->client = kefu_api_client_new (kefu_test_relay_get_url (fixture->relay));
  kefu_api_client_set_token (fixture->client, token);
  path = g_build_filename (fixture->dir, "local.db", NULL);
  fixture->store = kefu_local_store_new (path, "CN", &error);
  g_assert_no_error (error);
  fixture->sync = kefu_sync_new (fixture->client, fixture->store);
  flush_ok (fixture);

  fixture->desk_phone = g_initable_new (KEFU_TYPE_PHONE, NULL, &error,
                                        "listen-address", "127.0.0.1:0",
                                        "display-name", "Agent",
                                        NULL);
  g_assert_no_error (error);

  fixture->window = kefu_window_new (NULL);
  kefu_window_open_desk (fixture->window, fixture->client, fixture->store, fixture->sync);
  kefu_window_set_phone (fixture->window, fixture->desk_phone);
  {
    g_autofree char *recordings = g_build_filename (fixture->dir, "recordings", NULL);

    kefu_phone_panel_set_recordings_dir (kefu_window_get_phone_panel (fixture->window), recordings);
  }
  gtk_window_present (GTK_WINDOW (fixture->window));
  WAIT_UNTIL (gtk_widget_get_mapped (GTK_WIDGET (fixture->window)));
  g_assert_cmpstr (kefu_window_get_page (fixture->window), ==, "desk");
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  /* GTK's list of toplevels holds the window; destroy drops that */
  g_object_ref (fixture->window);
  gtk_window_destroy (GTK_WINDOW (fixture->window));
  g_assert_finalize_object (fixture->window);
  g_clear_object (&fixture->caller_call);
  if (fixture->caller)
    g_assert_finalize_object (fixture->caller);
  if (fixture->colleague)
    g_assert_finalize_object (fixture->colleague);
  g_assert_finalize_object (fixture->desk_phone);
  kefu_sync_stop (fixture->sync);
  kefu_test_assert_finalized (fixture->sync);
  kefu_test_assert_finalized (fixture->store);
  kefu_test_assert_finalized (fixture->client);
  kefu_test_server_free (fixture->server);
  kefu_test_relay_free (fixture->relay);
  {
    const char *argv[] = { "rm", "-rf", fixture->dir, NULL };

    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL,
                  NULL);
  }
  g_free (fixture->dir);
  g_free (fixture->admin);
  g_clear_handle_id (&fixture->tick, g_source_remove);
}

/* The caller's phone dials the desktop's from @number with @headers
 * (name, value, ..., NULL); returns when the desktop's call rings. */
static KefuCall *
call_desk (Fixture            *fixture,
           const char         *number,
           const char * const *headers)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *uri = g_strdup_printf ("sip:agent@127.0.0.1:%u",
                                          kefu_phone_get_sip_port (fixture->desk_phone));
  g_autoptr(KefuCall) call = NULL;
  GListModel *calls = kefu_phone_get_calls (fixture->desk_phone);

  g_assert_null (fixture->caller);
  fixture->caller = g_initable_new (KEFU_TYPE_PHONE, NULL, &error,
                                    "listen-address", "127.0.0.1:0",
                                    "listen-user", number,
                                    NULL);
  g_assert_no_error (error);
  call = kefu_phone_dial_full (fixture->caller, NULL, uri, headers, &error);
  g_assert_no_error (error);
  fixture->caller_call = g_object_ref (call);
  WAIT_UNTIL (g_list_model_get_n_items (calls) == 1);
  {
    g_autoptr(KefuCall) incoming = g_list_model_get_item (calls, 0);

    g_assert_cmpint (kefu_call_get_state (incoming), ==, KEFU_CALL_STATE_RINGING_IN);
    return g_steal_pointer (&incoming);
  }
}

static void
hang_up_all (Fixture *fixture)
{
  GListModel *calls = kefu_phone_get_calls (fixture->desk_phone);

  for (guint i = 0; i < g_list_model_get_n_items (calls); i++)
    {
      g_autoptr(KefuCall) call = g_list_model_get_item (calls, i);

      if (kefu_call_get_state (call) == KEFU_CALL_STATE_RINGING_IN)
        kefu_call_decline (call, 486, NULL);
      else
        kefu_call_hang_up (call, NULL);
    }
  WAIT_UNTIL (g_list_model_get_n_items (calls) == 0);
}

static KefuCustomerCard *
card_of (Fixture *fixture)
{
  return KEFU_CUSTOMER_CARD (kefu_crm_pane_get_card (kefu_window_get_crm_pane (fixture->window)));
}

static const char *
view_of (Fixture *fixture)
{
  return kefu_crm_pane_get_view (kefu_window_get_crm_pane (fixture->window));
}

/* --- screen pop -------------------------------------------------------------- */

static void
test_pop_known_number (Fixture       *fixture,
                       gconstpointer  data)
{
  /* the caller dials from another spelling of the stored 010-6552 1234 */
  g_autoptr(KefuCall) call = call_desk (fixture, "+861065521234", NULL);
  JsonObject *shown;

  /* before anyone answers */
  g_assert_cmpint (kefu_call_get_state (call), ==, KEFU_CALL_STATE_RINGING_IN);
  g_assert_cmpstr (view_of (fixture), ==, "customer");
  g_assert_cmpint (kefu_customer_card_get_customer_id (card_of (fixture)), ==, fixture->known_id);
  g_assert_false (kefu_customer_card_get_editing (card_of (fixture)));
  shown = kefu_customer_card_get_customer (card_of (fixture));
  g_assert_cmpstr (json_object_get_string_member (shown, "name"), ==, "王芳");
  g_assert_false (gtk_widget_has_css_class (GTK_WIDGET (card_of (fixture)), "vip"));
  /* the phone panel selected the ringing call for the Answer button */
  g_assert_true (kefu_phone_panel_get_selected_call (kefu_window_get_phone_panel (fixture->window))
                 == call);
  hang_up_all (fixture);
}

static void
test_pop_vip (Fixture       *fixture,
              gconstpointer  data)
{
  g_autoptr(KefuCall) call = call_desk (fixture, "13800138000", NULL);

  g_assert_cmpstr (view_of (fixture), ==, "customer");
  g_assert_cmpint (kefu_customer_card_get_customer_id (card_of (fixture)), ==, fixture->vip_id);
  /* prominent: the card is marked and the badge says so */
  g_assert_true (gtk_widget_has_css_class (GTK_WIDGET (card_of (fixture)), "vip"));
  hang_up_all (fixture);
}

static void
test_pop_unknown_number (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr(KefuCall) call = call_desk (fixture, "+8675588889999", NULL);

  g_assert_cmpstr (view_of (fixture), ==, "customer");
  g_assert_true (kefu_customer_card_get_editing (card_of (fixture)));
  g_assert_cmpint (kefu_customer_card_get_customer_id (card_of (fixture)), ==, 0);

  /* the form holds the number: saving creates the customer with it */
  gtk_widget_activate_action (GTK_WIDGET (card_of (fixture)), "card.save", NULL);
  /* no name yet: refused exactly as the server would, nothing created */
  g_assert_true (kefu_customer_card_get_editing (card_of (fixture)));
  {
    g_autoptr(JsonArray) none = kefu_local_store_find_customers_by_phone (fixture->store,
                                                                          "+8675588889999", NULL);
    g_assert_cmpuint (json_array_get_length (none), ==, 0);
  }
  /* pre-filled with the caller's number, as the store spells it */
  {
    g_autoptr(JsonObject) form = kefu_customer_card_dup_form (card_of (fixture));
    JsonArray *phones = json_object_get_array_member (form, "phones");

    g_assert_cmpuint (json_array_get_length (phones), ==, 1);
    g_assert_cmpstr (json_array_get_string_element (phones, 0), ==, "+8675588889999");
  }
  hang_up_all (fixture);
}

static void
test_pop_customer_header (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT, fixture->header_id);
  const char *headers[] = {
    "X-Kefu-Call", "switch-call-77", "X-Kefu-Queue", "billing",
    "X-Kefu-Customer", id, "X-Kefu-Ivr", "main>2>1", "X-Kefu-Wait", "42", NULL,
  };
  /* a number nobody has: the header alone names the customer */
  g_autoptr(KefuCall) call = call_desk (fixture, "+8675500001111", headers);
  const char *detail;

  g_assert_cmpstr (view_of (fixture), ==, "customer");
  g_assert_cmpint (kefu_customer_card_get_customer_id (card_of (fixture)), ==, fixture->header_id);
  detail = kefu_crm_pane_get_call_detail (kefu_window_get_crm_pane (fixture->window));
  g_assert_nonnull (strstr (detail, "billing"));
  g_assert_nonnull (strstr (detail, "main › 2 › 1"));
  g_assert_nonnull (strstr (detail, "0:42"));
  hang_up_all (fixture);
}

static void
test_pop_several_matches (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr(KefuCall) call = call_desk (fixture, "021-5000 1000", NULL);
  GtkListBox *results = kefu_crm_pane_get_results (kefu_window_get_crm_pane (fixture->window));
  guint rows = 0;

  g_assert_cmpstr (view_of (fixture), ==, "results");
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (results)); child;
       child = gtk_widget_get_next_sibling (child))
    rows++;
  g_assert_cmpuint (rows, ==, 2);

  /* choosing one opens its card */
  g_signal_emit_by_name (results, "row-activated", gtk_list_box_get_row_at_index (results, 1));
  g_assert_cmpstr (view_of (fixture), ==, "customer");
  g_assert_cmpint (kefu_customer_card_get_customer_id (card_of (fixture)), >, 0);
  hang_up_all (fixture);
}

/* --- a case during the call ----------------------------------------------------- */

static void
test_case_with_call_id (Fixture       *fixture,
                        gconstpointer  data)
{
  const char *headers[] = { "X-Kefu-Call", "switch-call-4711", NULL };
  g_autoptr(KefuCall) call = call_desk (fixture, "+861065521234", headers);
  KefuPhonePanel *panel = kefu_window_get_phone_panel (fixture->window);
  KefuCaseEditor *editor =
    KEFU_CASE_EDITOR (kefu_crm_pane_get_case_editor (kefu_window_get_crm_pane (fixture->window)));
  g_autofree char *path = NULL;
  g_autoptr(KefuTestResponse) response = NULL;
  JsonArray *items;
  JsonObject *kase;

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (panel), "call.answer", NULL));
  WAIT_UNTIL (kefu_call_get_state (call) == KEFU_CALL_STATE_ESTABLISHED);

  kefu_case_editor_fill (editor, "账单金额与合同不符", "billing", "refund issued",
                         "客户要求退款，已确认。");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (editor), "case.save", NULL));
  g_assert_cmpint (kefu_case_editor_get_case_id (editor), >, 0);
  flush_ok (fixture);

  path = g_strdup_printf ("/v1/cases?call_id=%s", "switch-call-4711");
  response = kefu_test_request (fixture->server, "GET", path, fixture->admin, NULL);
  g_assert_cmpuint (response->status, ==, 200);
  items = json_object_get_array_member (kefu_test_response_object (response), "items");
  g_assert_cmpuint (json_array_get_length (items), ==, 1);
  kase = json_array_get_object_element (items, 0);
  g_assert_cmpstr (json_object_get_string_member (kase, "call_id"), ==, "switch-call-4711");
  g_assert_cmpint (json_object_get_int_member (kase, "customer_id"), ==, fixture->known_id);
  g_assert_cmpstr (json_object_get_string_member (kase, "subject"), ==, "账单金额与合同不符");
  g_assert_cmpstr (json_object_get_string_member (kase, "disposition"), ==, "refund issued");
  hang_up_all (fixture);
}

/* --- keyboard shortcuts ---------------------------------------------------------- */

static void
press_keys (const char *keys)
{
  g_autoptr(GError) error = NULL;
  const char *argv[] = { "xdotool", "key", "--clearmodifiers", keys, NULL };
  int status = 0;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                &status, &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
}

static void
focus_window (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;
  /* no window manager under Xvfb: the window under the pointer gets the
   * keys; its middle is the CRM pane's idle page, where a click does nothing */
  const char *argv[] = { "xdotool", "mousemove", "700", "500", "click", "1", NULL };

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL,
                &error);
  g_assert_no_error (error);
  for (int i = 0; i < 10; i++)
    g_main_context_iteration (NULL, FALSE);
}

/* Every shortcut the shortcuts window lists is one a controller of the
 * window really has, for the same action: the list cannot lie. */
static void
check_listed_shortcuts (Fixture *fixture)
{
  g_autoptr(GtkBuilder) builder = gtk_builder_new_from_resource ("/org/kefu/Kefu/gtk/help-overlay.ui");
  g_autoptr(GSList) objects = gtk_builder_get_objects (builder);
  g_autoptr(GPtrArray) triggers = g_ptr_array_new_with_free_func (g_free);
  GtkWidget *root = GTK_WIDGET (fixture->window);
  guint listed = 0;

  /* what the window's widgets answer to, as "accelerator action" */
  for (GtkWidget *w = root; w; )
    {
      g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (w);

      for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
        {
          g_autoptr(GtkEventController) controller = g_list_model_get_item (controllers, i);

          if (!GTK_IS_SHORTCUT_CONTROLLER (controller))
            continue;
          for (guint j = 0; j < g_list_model_get_n_items (G_LIST_MODEL (controller)); j++)
            {
              g_autoptr(GtkShortcut) shortcut = g_list_model_get_item (G_LIST_MODEL (controller), j);
              GtkShortcutAction *action = gtk_shortcut_get_action (shortcut);
              g_autofree char *trigger = gtk_shortcut_trigger_to_string (gtk_shortcut_get_trigger (shortcut));

              if (GTK_IS_NAMED_ACTION (action))
                g_ptr_array_add (triggers, g_strdup_printf ("%s %s", trigger,
                                 gtk_named_action_get_action_name (GTK_NAMED_ACTION (action))));
            }
        }
      /* depth-first walk */
      if (gtk_widget_get_first_child (w))
        w = gtk_widget_get_first_child (w);
      else
        {
          while (w && w != root && !gtk_widget_get_next_sibling (w))
            w = gtk_widget_get_parent (w);
          w = w && w != root ? gtk_widget_get_next_sibling (w) : NULL;
        }
    }

  for (GSList *l = objects; l; l = l->next)
    {
      g_autofree char *accel = NULL;
      g_autofree char *action = NULL;
      g_autofree char *wanted = NULL;
      g_autoptr(GtkShortcutTrigger) parsed = NULL;
      g_autofree char *canonical = NULL;
      gboolean found = FALSE;

      if (!GTK_IS_SHORTCUTS_SHORTCUT (l->data))
        continue;
      g_object_get (l->data, "accelerator", &accel, "action-name", &action, NULL);
      /* app.* and win.* accelerators belong to the application */
      if (g_str_has_prefix (action, "app.") || g_str_has_prefix (action, "win."))
        continue;
      parsed = gtk_shortcut_trigger_parse_string (accel);
      g_assert_nonnull (parsed);
      canonical = gtk_shortcut_trigger_to_string (parsed);
      wanted = g_strdup_printf ("%s %s", canonical, action);
      for (guint i = 0; i < triggers->len; i++)
        if (g_str_equal (triggers->pdata[i], wanted))
          found = TRUE;
      if (!found)
        g_error ("the shortcuts window lists “%s” but no controller has it", wanted);
      listed++;
    }
  g_assert_cmpuint (listed, >=, 15);
}

static void
test_shortcuts (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(KefuCall) call = NULL;
  KefuPhonePanel *panel = kefu_window_get_phone_panel (fixture->window);

  check_listed_shortcuts (fixture);

  call = call_desk (fixture, "+861065521234", NULL);
  focus_window (fixture);

  press_keys ("ctrl+shift+a");
  WAIT_UNTIL (kefu_call_get_state (call) == KEFU_CALL_STATE_ESTABLISHED);

  press_keys ("ctrl+shift+h");
  WAIT_UNTIL (kefu_call_get_state (call) == KEFU_CALL_STATE_HELD);
  press_keys ("ctrl+shift+h");
  WAIT_UNTIL (kefu_call_get_state (call) == KEFU_CALL_STATE_ESTABLISHED);

  press_keys ("ctrl+k");
  WAIT_UNTIL (({ gboolean visible; g_object_get (panel, "keypad-visible", &visible, NULL); visible; }));

  /* Ctrl+F reaches the search wherever the focus is */
  press_keys ("ctrl+f");
  WAIT_UNTIL (GTK_IS_SEARCH_ENTRY (gtk_widget_get_ancestor (gtk_root_get_focus (GTK_ROOT (fixture->window)),
                                                             GTK_TYPE_SEARCH_ENTRY)));

  /* and the call's shortcuts still work from there */
  press_keys ("ctrl+shift+e");
  WAIT_UNTIL (g_list_model_get_n_items (kefu_phone_get_calls (fixture->desk_phone)) == 0);
  g_assert_cmpint (kefu_call_get_state (call), ==, KEFU_CALL_STATE_CLOSED);
}

int
main (int   argc,
      char *argv[])
{
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  g_test_add ("/desk/screen-pop/known-number", Fixture, NULL, fixture_set_up,
              test_pop_known_number, fixture_tear_down);
  g_test_add ("/desk/screen-pop/vip", Fixture, NULL, fixture_set_up, test_pop_vip,
              fixture_tear_down);
  g_test_add ("/desk/screen-pop/unknown-number", Fixture, NULL, fixture_set_up,
              test_pop_unknown_number, fixture_tear_down);
  g_test_add ("/desk/screen-pop/customer-header", Fixture, NULL, fixture_set_up,
              test_pop_customer_header, fixture_tear_down);
  g_test_add ("/desk/screen-pop/several-matches", Fixture, NULL, fixture_set_up,
              test_pop_several_matches, fixture_tear_down);
  g_test_add ("/desk/case/saved-with-call-id", Fixture, NULL, fixture_set_up,
              test_case_with_call_id, fixture_tear_down);
  g_test_add ("/desk/shortcuts", Fixture, NULL, fixture_set_up, test_shortcuts,
              fixture_tear_down);
  return g_test_run ();
}
