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

#include <glib/gstdio.h>

#include "kefu-agent-state-button.h"
#include "kefu-call.h"
#include "kefu-case-editor.h"
#include "kefu-conflict-dialog.h"
#include "kefu-crm-pane.h"
#include "kefu-customer-card.h"
#include "kefu-local-store.h"
#include "kefu-phone.h"
#include "kefu-phone-panel.h"
#include "kefu-rtp-stream.h"
#include "kefu-sync.h"
#include "kefu-test-desk.h"
#include "kefu-test-server.h"
#include "kefu-test-ui.h"
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

  fixture->tick = kefu_test_tick_add ();
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
  kefu_test_remove_tree (fixture->dir);
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
      if (action)
        {
          g_assert_true (g_str_has_prefix (action, "app.") || g_str_has_prefix (action, "win."));
          continue;
        }
      /* the widgets' own: the id names the action (see help-overlay.ui) */
      action = g_strdup (gtk_buildable_get_buildable_id (GTK_BUILDABLE (l->data)));
      g_assert_nonnull (action);
      g_assert_nonnull (accel);
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


/* --- the call's controls against real phones --------------------------------------- */

/* The desk answers a call from the known customer's number. */
static KefuCall *
answered_call (Fixture            *fixture,
               const char * const *headers)
{
  KefuCall *call = call_desk (fixture, "+861065521234", headers);
  KefuPhonePanel *panel = kefu_window_get_phone_panel (fixture->window);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (panel), "call.answer", NULL));
  WAIT_UNTIL (kefu_call_get_state (call) == KEFU_CALL_STATE_ESTABLISHED
              && kefu_call_get_state (fixture->caller_call) == KEFU_CALL_STATE_ESTABLISHED);
  return call;
}

/* A colleague's phone that answers by itself; returns its URI. */
static char *
start_colleague (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;

  fixture->colleague = g_initable_new (KEFU_TYPE_PHONE, NULL, &error,
                                       "listen-address", "127.0.0.1:0",
                                       "listen-user", "colleague",
                                       "auto-answer", TRUE,
                                       NULL);
  g_assert_no_error (error);
  return g_strdup_printf ("sip:colleague@127.0.0.1:%u", kefu_phone_get_sip_port (fixture->colleague));
}

static KefuCall *
only_call (KefuPhone *phone)
{
  GListModel *calls = kefu_phone_get_calls (phone);

  g_assert_cmpuint (g_list_model_get_n_items (calls), ==, 1);
  return g_list_model_get_item (calls, 0);
}

/* The customer's phone follows a transfer the way a person would say yes. */
static void
on_caller_transfer_requested (KefuCall   *call,
                              const char *target,
                              const char *referred_by,
                              Fixture    *fixture)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KefuCall) followed = kefu_phone_accept_transfer (fixture->caller, call, &error);

  g_assert_no_error (error);
  g_assert_nonnull (followed);
}

static gboolean
has_action (GtkWidget     *widget,
            gconstpointer  action)
{
  return GTK_IS_ACTIONABLE (widget)
         && g_strcmp0 (gtk_actionable_get_action_name (GTK_ACTIONABLE (widget)), action) == 0;
}

/* The widget under @root whose action is @action (a button of the panel). */
static GtkWidget *
find_actionable (GtkWidget  *root,
                 const char *action)
{
  return kefu_test_find_widget (root, has_action, action);
}

static gboolean
is_visible_label (GtkWidget     *widget,
                  gconstpointer  text)
{
  if (GTK_IS_LABEL (widget) && g_getenv ("KEFU_TEST_DUMP_LABELS"))
    g_printerr ("label: %s\n", gtk_label_get_label (GTK_LABEL (widget)));
  return GTK_IS_LABEL (widget) && gtk_widget_get_visible (widget)
         && strstr (gtk_label_get_label (GTK_LABEL (widget)), text);
}

static gboolean
has_label (GtkWidget  *root,
           const char *text)
{
  return kefu_test_find_widget (root, is_visible_label, text) != NULL;
}

static void
wait_seconds (double seconds)
{
  gint64 until = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);

  while (g_get_monotonic_time () < until)
    g_main_context_iteration (NULL, TRUE);
}

static void
test_mute (Fixture       *fixture,
           gconstpointer  data)
{
  g_autoptr(KefuCall) call = answered_call (fixture, NULL);
  KefuPhonePanel *panel = kefu_window_get_phone_panel (fixture->window);
  GtkWidget *button = find_actionable (GTK_WIDGET (panel), "call.mute");
  struct kefu_rtp_stream_stats stats;
  gboolean muted;

  g_assert_true (GTK_IS_TOGGLE_BUTTON (button));
  g_assert_false (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (button)));
  g_assert_true (has_label (button, "Mute"));

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (panel), "call.mute", NULL));
  g_assert_true (kefu_call_get_muted (call));
  /* the engine sends silence now */
  g_assert_true (kefu_call_get_stats (call, &stats));
  g_assert_true (stats.muted);
  /* the button and what it says follow the call, not the click */
  WAIT_UNTIL (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (button)));
  g_assert_true (has_label (button, "Unmute"));
  g_object_get (panel, "muted", &muted, NULL);
  g_assert_true (muted);

  /* and the keyboard undoes it */
  focus_window (fixture);
  press_keys ("ctrl+shift+m");
  WAIT_UNTIL (!kefu_call_get_muted (call));
  WAIT_UNTIL (!gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (button)));
  g_assert_true (kefu_call_get_stats (call, &stats));
  g_assert_false (stats.muted);
  hang_up_all (fixture);
}

static void
test_record (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr(KefuCall) call = answered_call (fixture, NULL);
  KefuPhonePanel *panel = kefu_window_get_phone_panel (fixture->window);
  GtkWidget *button = find_actionable (GTK_WIDGET (panel), "call.record");
  g_autofree char *path = NULL;
  g_autofree char *name = NULL;
  g_autofree char *dir = g_build_filename (fixture->dir, "recordings", NULL);
  GStatBuf st;

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (panel), "call.record", NULL));
  g_assert_nonnull (kefu_call_get_recording (call));
  path = g_strdup (kefu_call_get_recording (call));
  name = g_path_get_basename (path);
  /* in the recordings folder, named after the customer and the number */
  g_assert_true (g_str_has_prefix (path, dir));
  g_assert_nonnull (strstr (name, "王芳"));
  g_assert_nonnull (strstr (name, "+861065521234"));
  g_assert_true (g_str_has_suffix (name, ".wav"));
  WAIT_UNTIL (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (button)));
  g_assert_true (has_label (button, "Stop"));

  wait_seconds (1.2);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (panel), "call.record", NULL));
  g_assert_null (kefu_call_get_recording (call));
  WAIT_UNTIL (!gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (button)));
  /* about a second of stereo 8 kHz 16-bit: 32,000 bytes a second */
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_size, >, 16000);
  hang_up_all (fixture);
}

static void
test_quality_indicator (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autoptr(KefuCall) call = answered_call (fixture, NULL);
  KefuPhonePanel *panel = kefu_window_get_phone_panel (fixture->window);

  /* refreshed every few seconds from the call's own figures */
  WAIT_UNTIL (has_label (GTK_WIDGET (panel), "MOS 4."));
  hang_up_all (fixture);
}

static void
test_blind_transfer (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(KefuCall) call = answered_call (fixture, NULL);
  g_autofree char *colleague = start_colleague (fixture);
  KefuPhonePanel *panel = kefu_window_get_phone_panel (fixture->window);
  g_autoptr(KefuCall) taken = NULL;

  g_signal_connect (fixture->caller_call, "transfer-requested",
                    G_CALLBACK (on_caller_transfer_requested), fixture);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (panel), "call.transfer-to", "s", colleague));

  /* the customer calls the colleague; the agent's call is over */
  WAIT_UNTIL (kefu_call_get_state (call) == KEFU_CALL_STATE_CLOSED);
  g_assert_cmpstr (kefu_call_get_close_reason (call), ==, "transferred");
  WAIT_UNTIL (g_list_model_get_n_items (kefu_phone_get_calls (fixture->colleague)) == 1);
  taken = only_call (fixture->colleague);
  WAIT_UNTIL (kefu_call_get_state (taken) == KEFU_CALL_STATE_ESTABLISHED);
  g_assert_nonnull (strstr (kefu_call_get_peer_uri (taken), "+861065521234"));
  kefu_call_hang_up (taken, NULL);
  WAIT_UNTIL (g_list_model_get_n_items (kefu_phone_get_calls (fixture->caller)) == 0);
}

/* The agent consults the colleague with the customer on hold. */
static KefuCall *
consult_colleague (Fixture  *fixture,
                   KefuCall *customer)
{
  g_autofree char *colleague = start_colleague (fixture);
  KefuPhonePanel *panel = kefu_window_get_phone_panel (fixture->window);
  KefuCall *consultation;

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (panel), "call.consult-with", "s",
                                             colleague));
  consultation = kefu_phone_panel_get_consultation (panel);
  g_assert_nonnull (consultation);
  g_assert_true (consultation != customer);
  WAIT_UNTIL (kefu_call_get_state (customer) == KEFU_CALL_STATE_HELD);
  WAIT_UNTIL (kefu_call_get_state (consultation) == KEFU_CALL_STATE_ESTABLISHED);
  /* the controls act on the colleague's call now, the bar says who waits */
  g_assert_true (kefu_phone_panel_get_selected_call (panel) == consultation);
  g_assert_true (has_label (GTK_WIDGET (panel), "waits on hold"));
  /* and the customer's card stays in front of the agent */
  g_assert_true (kefu_crm_pane_get_call (kefu_window_get_crm_pane (fixture->window)) == customer);
  g_assert_cmpint (kefu_customer_card_get_customer_id (card_of (fixture)), ==, fixture->known_id);
  return g_object_ref (consultation);
}

static void
test_consult_complete (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr(KefuCall) customer = answered_call (fixture, NULL);
  g_autoptr(KefuCall) consultation = NULL;
  g_autoptr(KefuCall) taken = NULL;
  KefuPhonePanel *panel = kefu_window_get_phone_panel (fixture->window);

  g_signal_connect (fixture->caller_call, "transfer-requested",
                    G_CALLBACK (on_caller_transfer_requested), fixture);
  consultation = consult_colleague (fixture, customer);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (panel), "call.complete-transfer", NULL));
  /* both of the agent's calls end; customer and colleague talk */
  WAIT_UNTIL (g_list_model_get_n_items (kefu_phone_get_calls (fixture->desk_phone)) == 0);
  g_assert_cmpstr (kefu_call_get_close_reason (customer), ==, "transferred");
  g_assert_null (kefu_phone_panel_get_consultation (panel));
  WAIT_UNTIL (g_list_model_get_n_items (kefu_phone_get_calls (fixture->colleague)) == 1);
  taken = only_call (fixture->colleague);
  WAIT_UNTIL (kefu_call_get_state (taken) == KEFU_CALL_STATE_ESTABLISHED);
  g_assert_nonnull (strstr (kefu_call_get_peer_uri (taken), "+861065521234"));
  g_assert_cmpuint (kefu_call_get_replaces (taken), !=, 0);
  kefu_call_hang_up (taken, NULL);
  WAIT_UNTIL (g_list_model_get_n_items (kefu_phone_get_calls (fixture->caller)) == 0);
}

static void
test_consult_cancel (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(KefuCall) customer = answered_call (fixture, NULL);
  g_autoptr(KefuCall) consultation = consult_colleague (fixture, customer);
  KefuPhonePanel *panel = kefu_window_get_phone_panel (fixture->window);

  focus_window (fixture);
  press_keys ("ctrl+shift+x");
  /* the colleague is gone, the customer is back and selected */
  WAIT_UNTIL (kefu_call_get_state (consultation) == KEFU_CALL_STATE_CLOSED);
  WAIT_UNTIL (kefu_call_get_state (customer) == KEFU_CALL_STATE_ESTABLISHED);
  WAIT_UNTIL (kefu_call_get_state (fixture->caller_call) == KEFU_CALL_STATE_ESTABLISHED);
  g_assert_null (kefu_phone_panel_get_consultation (panel));
  g_assert_true (kefu_phone_panel_get_selected_call (panel) == customer);
  WAIT_UNTIL (g_list_model_get_n_items (kefu_phone_get_calls (fixture->colleague)) == 0);
  hang_up_all (fixture);
}

static void
test_conference (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(KefuCall) customer = answered_call (fixture, NULL);
  g_autoptr(KefuCall) consultation = consult_colleague (fixture, customer);
  KefuPhonePanel *panel = kefu_window_get_phone_panel (fixture->window);

  focus_window (fixture);
  press_keys ("ctrl+shift+j");
  WAIT_UNTIL (kefu_call_get_in_conference (customer) && kefu_call_get_in_conference (consultation));
  /* the held customer joins: nobody is on hold in a conference */
  WAIT_UNTIL (kefu_call_get_state (customer) == KEFU_CALL_STATE_ESTABLISHED);
  g_assert_null (kefu_phone_panel_get_consultation (panel));
  g_assert_true (has_label (GTK_WIDGET (panel), "In conference"));
  hang_up_all (fixture);
}

static GtkWindow *
find_dialog (const char *heading)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GtkWindow) window = g_list_model_get_item (toplevels, i);

      if (ADW_IS_MESSAGE_DIALOG (window) && gtk_widget_get_visible (GTK_WIDGET (window))
          && g_strcmp0 (adw_message_dialog_get_heading (ADW_MESSAGE_DIALOG (window)), heading) == 0)
        return window;
    }
  return NULL;
}

static void
on_caller_transfer_failed (KefuCall   *call,
                           guint       code,
                           const char *reason,
                           gboolean   *failed)
{
  *failed = TRUE;
}

/* The far end asks the agent to call someone else (REFER): the agent is
 * asked, and the phone does only what the agent chose. */
static void
test_transfer_request (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr(KefuCall) call = answered_call (fixture, NULL);
  g_autofree char *colleague = start_colleague (fixture);
  KefuPhonePanel *panel = kefu_window_get_phone_panel (fixture->window);
  GListModel *desk_calls = kefu_phone_get_calls (fixture->desk_phone);
  g_autoptr(GError) error = NULL;
  gboolean failed = FALSE;

  g_signal_connect (fixture->caller_call, "transfer-failed", G_CALLBACK (on_caller_transfer_failed),
                    &failed);
  g_assert_true (kefu_call_transfer_blind (fixture->caller_call, colleague, &error));
  g_assert_no_error (error);
  WAIT_UNTIL (find_dialog ("Transfer Requested"));
  /* asked, not followed */
  wait_seconds (0.5);
  g_assert_cmpuint (g_list_model_get_n_items (desk_calls), ==, 1);
  g_assert_cmpuint (g_list_model_get_n_items (kefu_phone_get_calls (fixture->colleague)), ==, 0);

  /* refused: the far end hears so, the call goes on */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (panel), "call.decline-transfer", "u",
                                             kefu_call_get_id (call)));
  WAIT_UNTIL (failed);
  g_assert_null (find_dialog ("Transfer Requested"));
  g_assert_cmpint (kefu_call_get_state (call), ==, KEFU_CALL_STATE_ESTABLISHED);

  /* asked again and accepted: the agent's phone calls the colleague */
  g_assert_true (kefu_call_transfer_blind (fixture->caller_call, colleague, &error));
  WAIT_UNTIL (find_dialog ("Transfer Requested"));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (panel), "call.accept-transfer", "u",
                                             kefu_call_get_id (call)));
  WAIT_UNTIL (g_list_model_get_n_items (kefu_phone_get_calls (fixture->colleague)) == 1);
  {
    g_autoptr(KefuCall) at_colleague = only_call (fixture->colleague);

    WAIT_UNTIL (kefu_call_get_state (at_colleague) == KEFU_CALL_STATE_ESTABLISHED);
    g_assert_nonnull (strstr (kefu_call_get_peer_uri (at_colleague), "127.0.0.1"));
  }
  hang_up_all (fixture);
}

/* --- wrap-up --------------------------------------------------------------------------- */

static void
test_wrapup (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr(GSettings) settings = g_settings_new ("org.kefu.Kefu");
  g_autoptr(KefuCall) call = answered_call (fixture, NULL);
  KefuAgentStateButton *state = kefu_window_get_agent_state_button (fixture->window);
  KefuCaseEditor *editor =
    KEFU_CASE_EDITOR (kefu_crm_pane_get_case_editor (kefu_window_get_crm_pane (fixture->window)));

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (state), "agent.available", NULL));
  g_assert_cmpstr (kefu_case_editor_get_wrapup_prompt (editor), ==, "");

  /* the customer hangs up: wrap-up, and the case asks for its disposition */
  kefu_call_hang_up (fixture->caller_call, NULL);
  WAIT_UNTIL (kefu_call_get_state (call) == KEFU_CALL_STATE_CLOSED);
  WAIT_UNTIL (g_strcmp0 (kefu_agent_state_button_get_state (state), "wrapup") == 0);
  g_assert_cmpuint (kefu_agent_state_button_get_wrapup_remaining (state), >, 50);
  g_assert_nonnull (strstr (kefu_case_editor_get_wrapup_prompt (editor), "choose the disposition"));

  kefu_case_editor_fill (editor, "Invoice question", "billing", "resolved on first call", NULL);
  g_assert_nonnull (strstr (kefu_case_editor_get_wrapup_prompt (editor), "save the case"));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (editor), "case.save", NULL));
  g_assert_nonnull (strstr (kefu_case_editor_get_wrapup_prompt (editor), "The case is saved"));

  /* the agent chose Not Ready for after it, and ends it early */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (editor), "window.after-wrapup", "s",
                                             "not_ready"));
  g_assert_cmpstr (kefu_agent_state_button_get_after_wrapup (state), ==, "not_ready");
  focus_window (fixture);
  press_keys ("ctrl+shift+w");
  WAIT_UNTIL (g_strcmp0 (kefu_agent_state_button_get_state (state), "not_ready") == 0);
  g_assert_cmpstr (kefu_case_editor_get_wrapup_prompt (editor), ==, "");
  g_clear_object (&fixture->caller_call);
  g_assert_finalize_object (g_steal_pointer (&fixture->caller));

  /* next call, a short wrap-up that runs out into Available */
  g_settings_set_uint (settings, "wrapup-seconds", 5);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (editor), "window.after-wrapup", "s",
                                             "available"));
  g_clear_object (&call);
  call = answered_call (fixture, NULL);
  kefu_call_hang_up (call, NULL);
  WAIT_UNTIL (g_strcmp0 (kefu_agent_state_button_get_state (state), "wrapup") == 0);
  g_assert_cmpuint (kefu_agent_state_button_get_wrapup_remaining (state), <=, 5);
  WAIT_UNTIL (g_strcmp0 (kefu_agent_state_button_get_state (state), "available") == 0);
  g_assert_cmpstr (kefu_case_editor_get_wrapup_prompt (editor), ==, "");
  g_settings_reset (settings, "wrapup-seconds");
}

/* --- history and click-to-dial ----------------------------------------------------- */

static void
test_history_call_back (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autofree char *body = g_strdup_printf (
    "{\"id\": \"hist-1\", \"direction\": \"inbound\", \"caller\": \"+861065521234\","
    " \"agent\": \"agent\", \"queue\": \"billing\", \"customer_id\": %" G_GINT64_FORMAT ","
    " \"outcome\": \"answered\", \"talk_s\": 125}", fixture->known_id);
  g_autoptr(KefuTestResponse) created =
    kefu_test_request (fixture->server, "POST", "/v1/calls", fixture->admin, body);
  g_autofree char *colleague = NULL;
  KefuCrmPane *pane = kefu_window_get_crm_pane (fixture->window);
  GtkListBox *history;
  GtkListBoxRow *row;
  GtkWidget *call_back;

  g_assert_cmpuint (created->status, ==, 201);
  flush_ok (fixture);
  colleague = start_colleague (fixture);
  /* bare numbers are dialled at the colleague's phone, as at a PBX */
  kefu_phone_panel_set_dial_domain (kefu_window_get_phone_panel (fixture->window),
                                    strchr (colleague, '@') + 1);

  focus_window (fixture);
  press_keys ("ctrl+h");
  WAIT_UNTIL (g_strcmp0 (kefu_crm_pane_get_view (pane), "history") == 0);
  history = kefu_crm_pane_get_history (pane);
  row = gtk_list_box_get_row_at_index (history, 0);
  g_assert_nonnull (row);
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)), ==, "王芳");
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), "billing"));

  /* the row's button calls back */
  call_back = find_actionable (GTK_WIDGET (row), "window.dial");
  g_assert_nonnull (call_back);
  g_assert_true (gtk_widget_activate (call_back));
  WAIT_UNTIL (g_list_model_get_n_items (kefu_phone_get_calls (fixture->colleague)) == 1);
  {
    g_autoptr(KefuCall) rung = only_call (fixture->colleague);

    g_assert_nonnull (strstr (kefu_call_get_peer_uri (rung), "127.0.0.1"));
  }
  hang_up_all (fixture);

  /* the row itself opens the customer's card */
  g_signal_emit_by_name (history, "row-activated", row);
  g_assert_cmpstr (view_of (fixture), ==, "customer");
  g_assert_cmpint (kefu_customer_card_get_customer_id (card_of (fixture)), ==, fixture->known_id);
}

/* --- offline and conflicts --------------------------------------------------------- */

static void
test_offline_banner (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(JsonObject) patch = json_object_new ();
  g_autoptr(JsonObject) created = NULL;
  g_autoptr(JsonObject) updated = NULL;
  g_autoptr(JsonObject) doc = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(KefuTestResponse) found = NULL;
  g_autoptr(KefuTestResponse) known = NULL;

  g_assert_cmpstr (kefu_window_get_offline_text (fixture->window), ==, "");
  kefu_sync_set_interval (fixture->sync, 200);
  kefu_sync_set_max_backoff (fixture->sync, 500);
  kefu_sync_start (fixture->sync);
  kefu_test_server_stop (fixture->server);

  /* two changes while the server is away */
  json_object_set_string_member (patch, "company", "离线修改有限公司");
  updated = kefu_local_store_update_customer (fixture->store, fixture->known_id, patch, &error);
  g_assert_no_error (error);
  doc = json_object_new ();
  json_object_set_string_member (doc, "name", "Offline Newcomer");
  created = kefu_local_store_create_customer (fixture->store, doc, &error);
  g_assert_no_error (error);
  kefu_sync_sync_now (fixture->sync);
  WAIT_UNTIL (strstr (kefu_window_get_offline_text (fixture->window), "2 changes wait"));

  /* back: the banner goes, each change arrives once */
  kefu_test_server_restart (fixture->server);
  kefu_test_relay_set_upstream (fixture->relay, fixture->server->url);
  kefu_sync_sync_now (fixture->sync);
  WAIT_UNTIL (kefu_sync_get_online (fixture->sync) && kefu_sync_get_pending_changes (fixture->sync) == 0);
  g_assert_cmpstr (kefu_window_get_offline_text (fixture->window), ==, "");
  kefu_sync_stop (fixture->sync);

  found = kefu_test_request (fixture->server, "GET", "/v1/customers?q=Offline%20Newcomer",
                             fixture->admin, NULL);
  g_assert_cmpuint (found->status, ==, 200);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (
                      kefu_test_response_object (found), "items")), ==, 1);
  {
    g_autofree char *path = g_strdup_printf ("/v1/customers/%" G_GINT64_FORMAT, fixture->known_id);

    known = kefu_test_request (fixture->server, "GET", path, fixture->admin, NULL);
  }
  g_assert_cmpstr (json_object_get_string_member (kefu_test_response_object (known), "company"), ==,
                   "离线修改有限公司");
  g_assert_cmpint (json_object_get_int_member (kefu_test_response_object (known), "version"), ==, 2);
}

static GtkWindow *
wait_conflict_dialog (void)
{
  GtkWindow *dialog = NULL;

  WAIT_UNTIL (({
    GListModel *toplevels = gtk_window_get_toplevels ();

    for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
      {
        g_autoptr(GtkWindow) window = g_list_model_get_item (toplevels, i);

        if (KEFU_IS_CONFLICT_DIALOG (window) && gtk_widget_get_visible (GTK_WIDGET (window)))
          dialog = window;
      }
    dialog != NULL;
  }));
  return dialog;
}

/* The agent and someone else changed the same customer: the dialog shows
 * both versions, and each answer does what it says on the server. */
static void
test_conflict_dialog (Fixture       *fixture,
                      gconstpointer  data)
{
  const char *choices[] = { "mine", "theirs" };

  for (guint i = 0; i < G_N_ELEMENTS (choices); i++)
    {
      g_autofree char *path = g_strdup_printf ("/v1/customers/%" G_GINT64_FORMAT, fixture->vip_id);
      g_autofree char *theirs = g_strdup_printf ("{\"company\": \"Theirs %u Ltd\"}", i);
      g_autofree char *mine = g_strdup_printf ("Mine %u Ltd", i);
      g_autoptr(KefuTestResponse) changed =
        kefu_test_request (fixture->server, "PATCH", path, fixture->admin, theirs);
      g_autoptr(KefuTestResponse) after = NULL;
      g_autoptr(JsonObject) patch = json_object_new ();
      g_autoptr(JsonObject) updated = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(GAsyncResult) result = NULL;
      GtkWindow *dialog;

      g_assert_cmpuint (changed->status, ==, 200);
      json_object_set_string_member (patch, "company", mine);
      updated = kefu_local_store_update_customer (fixture->store, fixture->vip_id, patch, &error);
      g_assert_no_error (error);
      kefu_sync_flush_async (fixture->sync, NULL, kefu_test_on_result, &result);

      dialog = wait_conflict_dialog ();
      g_assert_cmpuint (kefu_conflict_dialog_get_n_differences (KEFU_CONFLICT_DIALOG (dialog)), >=, 1);
      g_assert_true (has_label (GTK_WIDGET (dialog), mine));
      g_assert_true (has_label (GTK_WIDGET (dialog), "Theirs"));
      /* as a click on the button: the answer, then the dialog closes */
      adw_message_dialog_response (ADW_MESSAGE_DIALOG (dialog), choices[i]);
      gtk_window_close (dialog);
      kefu_test_wait_result (&result);
      g_clear_object (&result);
      flush_ok (fixture);

      after = kefu_test_request (fixture->server, "GET", path, fixture->admin, NULL);
      g_assert_cmpstr (json_object_get_string_member (kefu_test_response_object (after), "company"),
                       ==, i == 0 ? mine : "Theirs 1 Ltd");
      g_assert_cmpuint (kefu_sync_get_pending_changes (fixture->sync), ==, 0);
    }
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
  g_test_add ("/desk/call/mute", Fixture, NULL, fixture_set_up, test_mute, fixture_tear_down);
  g_test_add ("/desk/call/record", Fixture, NULL, fixture_set_up, test_record, fixture_tear_down);
  g_test_add ("/desk/call/quality", Fixture, NULL, fixture_set_up, test_quality_indicator,
              fixture_tear_down);
  g_test_add ("/desk/call/blind-transfer", Fixture, NULL, fixture_set_up, test_blind_transfer,
              fixture_tear_down);
  g_test_add ("/desk/call/consult-complete", Fixture, NULL, fixture_set_up, test_consult_complete,
              fixture_tear_down);
  g_test_add ("/desk/call/consult-cancel", Fixture, NULL, fixture_set_up, test_consult_cancel,
              fixture_tear_down);
  g_test_add ("/desk/call/conference", Fixture, NULL, fixture_set_up, test_conference,
              fixture_tear_down);
  g_test_add ("/desk/call/transfer-request", Fixture, NULL, fixture_set_up, test_transfer_request,
              fixture_tear_down);
  g_test_add ("/desk/wrap-up", Fixture, NULL, fixture_set_up, test_wrapup, fixture_tear_down);
  g_test_add ("/desk/history/call-back", Fixture, NULL, fixture_set_up, test_history_call_back,
              fixture_tear_down);
  g_test_add ("/desk/offline-banner", Fixture, NULL, fixture_set_up, test_offline_banner,
              fixture_tear_down);
  g_test_add ("/desk/conflict-dialog", Fixture, NULL, fixture_set_up, test_conflict_dialog,
              fixture_tear_down);
  return g_test_run ();
}
