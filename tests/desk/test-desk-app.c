/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * KefuApplication as the desktop runs it, under Xvfb: signed in to a real
 * kefu-server through the login page, its own phone started from the
 * settings, real KefuPhone peers on 127.0.0.1.  The incoming-call
 * notification's Answer and Reject buttons name application actions
 * (app.answer-call, app.reject-call): called directly here, as the
 * notification server would, they must act on the call.  A tel: link
 * opened in the application (`kefu tel:+8610...`) must dial.
 */
#define G_LOG_DOMAIN "KefuTestDeskApp"

#include "config.h"

#include <adwaita.h>
#include <string.h>

#include "kefu-application.h"
#include "kefu-phone.h"
#include "kefu-test-server.h"
#include "kefu-test-ui.h"

#define WAIT_TIMEOUT_S 20

typedef struct _Fixture Fixture;

struct _Fixture {
  KefuTestServer  *server;
  char            *dir;
  KefuPhone       *callee;     /* where the desktop's bare numbers go (the "PBX") */
  KefuApplication *app;
  guint            tick;
  void           (*body) (Fixture *fixture);   /* what the test does, signed in */
};

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSettings) settings = g_settings_new ("org.kefu.Kefu");
  g_autofree char *registrar = NULL;

  fixture->tick = kefu_test_tick_add ();
  fixture->server = kefu_test_server_start (NULL);
  fixture->dir = kefu_test_app_prepare ("kefu-desk-app-XXXXXX");

  fixture->callee = g_initable_new (KEFU_TYPE_PHONE, NULL, &error,
                                    "listen-address", "127.0.0.1:0",
                                    NULL);
  g_assert_no_error (error);
  registrar = g_strdup_printf ("127.0.0.1:%u", kefu_phone_get_sip_port (fixture->callee));
  g_settings_set_string (settings, "sip-registrar", registrar);

  fixture->app = kefu_application_new ();
}

/* Signed in: the desktop's own phone is up. */
static void
on_signed_in (gpointer data)
{
  Fixture *fixture = data;

  WAIT_UNTIL (kefu_application_get_phone (fixture->app) != NULL);
  g_assert_cmpstr (kefu_window_get_page (kefu_application_get_window (fixture->app)), ==, "desk");
  fixture->body (fixture);
}

/* Runs @body as the application runs, from g_application_run to its
 * shutdown, as `kefu` does. */
static void
run_app (Fixture  *fixture,
         void    (*body) (Fixture *fixture))
{
  fixture->body = body;
  kefu_test_app_run (fixture->app, fixture->server, WAIT_TIMEOUT_S, on_signed_in, fixture);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GSettings) settings = g_settings_new ("org.kefu.Kefu");

  kefu_test_app_release (fixture->app, WAIT_TIMEOUT_S);
  g_assert_finalize_object (fixture->callee);
  g_settings_reset (settings, "sip-registrar");
  kefu_test_server_free (fixture->server);
  kefu_test_remove_tree (fixture->dir);
  g_free (fixture->dir);
  g_clear_handle_id (&fixture->tick, g_source_remove);
}

/* A customer's phone rings the desktop; returns the desktop's call. */
static KefuCall *
ring_desk (Fixture    *fixture,
           KefuPhone **caller,
           KefuCall  **caller_call)
{
  g_autoptr(GError) error = NULL;
  KefuPhone *desk = kefu_application_get_phone (fixture->app);
  g_autofree char *uri = g_strdup_printf ("sip:agent@127.0.0.1:%u", kefu_phone_get_sip_port (desk));
  GListModel *calls = kefu_phone_get_calls (desk);

  *caller = g_initable_new (KEFU_TYPE_PHONE, NULL, &error,
                            "listen-address", "127.0.0.1:0",
                            "listen-user", "+861065521234",
                            NULL);
  g_assert_no_error (error);
  *caller_call = kefu_phone_dial (*caller, uri, &error);
  g_assert_no_error (error);
  WAIT_UNTIL (g_list_model_get_n_items (calls) == 1);
  {
    g_autoptr(KefuCall) call = g_list_model_get_item (calls, 0);

    WAIT_UNTIL (kefu_call_get_state (call) == KEFU_CALL_STATE_RINGING_IN);
    return g_steal_pointer (&call);
  }
}

static void
test_notification_answer_body (Fixture *fixture)
{
  KefuPhone *caller = NULL;
  g_autoptr(KefuCall) caller_call = NULL;
  g_autoptr(KefuCall) call = ring_desk (fixture, &caller, &caller_call);

  /* the notification's Answer button */
  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "answer-call",
                                  g_variant_new_uint32 (kefu_call_get_id (call)));
  WAIT_UNTIL (kefu_call_get_state (call) == KEFU_CALL_STATE_ESTABLISHED);
  WAIT_UNTIL (kefu_call_get_state (caller_call) == KEFU_CALL_STATE_ESTABLISHED);
  kefu_call_hang_up (caller_call, NULL);
  WAIT_UNTIL (kefu_call_get_state (call) == KEFU_CALL_STATE_CLOSED);
  g_clear_object (&caller_call);
  g_assert_finalize_object (caller);
}

static void
test_notification_reject_body (Fixture *fixture)
{
  KefuPhone *caller = NULL;
  g_autoptr(KefuCall) caller_call = NULL;
  g_autoptr(KefuCall) call = ring_desk (fixture, &caller, &caller_call);

  /* the notification's Reject button: the caller hears busy */
  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "reject-call",
                                  g_variant_new_uint32 (kefu_call_get_id (call)));
  WAIT_UNTIL (kefu_call_get_state (caller_call) == KEFU_CALL_STATE_CLOSED);
  g_assert_cmpuint (kefu_call_get_close_code (caller_call), ==, 486);
  WAIT_UNTIL (kefu_call_get_state (call) == KEFU_CALL_STATE_CLOSED);
  g_clear_object (&caller_call);
  g_assert_finalize_object (caller);
}

static void
test_open_tel_link_body (Fixture *fixture)
{
  g_autoptr(GFile) link = g_file_new_for_uri ("tel:+86-10-6552-1234");
  GListModel *rung = kefu_phone_get_calls (fixture->callee);
  KefuPhone *desk = kefu_application_get_phone (fixture->app);

  /* what `kefu tel:...` hands the running instance */
  g_application_open (G_APPLICATION (fixture->app), &link, 1, "");
  WAIT_UNTIL (g_list_model_get_n_items (rung) == 1);
  {
    g_autoptr(KefuCall) call = g_list_model_get_item (rung, 0);
    const char *to = kefu_call_get_header (call, "To");

    /* the number as dialled, at the registrar the settings name */
    g_assert_nonnull (to);
    g_assert_nonnull (strstr (to, "+861065521234@127.0.0.1"));
    kefu_call_decline (call, 486, NULL);
  }
  WAIT_UNTIL (g_list_model_get_n_items (kefu_phone_get_calls (desk)) == 0);
}

/* No sound server: the phone still starts (calls connect, silent) and the
 * window says so in a banner that stays. */
static void
test_no_sound_server_body (Fixture *fixture)
{
  KefuWindow *window = kefu_application_get_window (fixture->app);
  g_autofree char *audio = NULL;

  g_object_get (kefu_application_get_phone (fixture->app), "audio", &audio, NULL);
  g_assert_cmpstr (audio, ==, "null");
  g_assert_nonnull (strstr (kefu_window_get_notice (window), "No sound server"));
}

/* With a sound server (tests/helpers/with-pulseaudio): the devices chosen
 * in Preferences are the phone's; one unplugged since falls back to the
 * default, and the agent is told. */
static void
test_audio_devices_body (Fixture *fixture)
{
  g_autoptr(GSettings) settings = g_settings_new ("org.kefu.Kefu");
  KefuWindow *window = kefu_application_get_window (fixture->app);
  g_autofree char *audio = NULL;

  g_object_get (kefu_application_get_phone (fixture->app), "audio", &audio, NULL);
  g_assert_cmpstr (audio, ==, "pulse:kefu_microphone,kefu_speaker");
  g_assert_cmpstr (kefu_window_get_notice (window), ==, "");
  g_clear_pointer (&audio, g_free);

  /* a new choice while idle: the phone starts again with it (told by its
   * audio: the new phone may well have the old one's address) */
  g_settings_set_string (settings, "audio-output", "kefu_ringer");
  WAIT_UNTIL (({
    KefuPhone *phone = kefu_application_get_phone (fixture->app);
    g_autofree char *now = NULL;

    if (phone)
      g_object_get (phone, "audio", &now, NULL);
    g_strcmp0 (now, "pulse:kefu_microphone,kefu_ringer") == 0;
  }));

  /* a microphone that is gone: the default one, said in a toast */
  g_settings_set_string (settings, "audio-input", "unplugged_headset");
  WAIT_UNTIL (({
    KefuPhone *phone = kefu_application_get_phone (fixture->app);
    g_autofree char *now = NULL;

    if (phone)
      g_object_get (phone, "audio", &now, NULL);
    g_strcmp0 (now, "pulse:,kefu_ringer") == 0;
  }));
  g_settings_reset (settings, "audio-input");
  g_settings_reset (settings, "audio-output");
}

static void
test_no_sound_server (Fixture *fixture, gconstpointer data)
{
  g_unsetenv ("KEFU_AUDIO");
  g_setenv ("PULSE_SERVER", "unix:/nonexistent/kefu-test-pulse", TRUE);
  run_app (fixture, test_no_sound_server_body);
  g_setenv ("KEFU_AUDIO", "null", TRUE);
}

static void
test_audio_devices (Fixture *fixture, gconstpointer data)
{
  g_autoptr(GSettings) settings = g_settings_new ("org.kefu.Kefu");

  g_unsetenv ("KEFU_AUDIO");
  g_settings_set_string (settings, "audio-input", "kefu_microphone");
  g_settings_set_string (settings, "audio-output", "kefu_speaker");
  run_app (fixture, test_audio_devices_body);
  g_setenv ("KEFU_AUDIO", "null", TRUE);
}

static void
test_notification_answer (Fixture *fixture, gconstpointer data)
{
  run_app (fixture, test_notification_answer_body);
}

static void
test_notification_reject (Fixture *fixture, gconstpointer data)
{
  run_app (fixture, test_notification_reject_body);
}

static void
test_open_tel_link (Fixture *fixture, gconstpointer data)
{
  run_app (fixture, test_open_tel_link_body);
}

int
main (int   argc,
      char *argv[])
{
  kefu_test_allow_focus_warning ();
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  g_test_add ("/desk/app/notification-answer", Fixture, NULL, fixture_set_up,
              test_notification_answer, fixture_tear_down);
  g_test_add ("/desk/app/notification-reject", Fixture, NULL, fixture_set_up,
              test_notification_reject, fixture_tear_down);
  g_test_add ("/desk/app/open-tel-link", Fixture, NULL, fixture_set_up, test_open_tel_link,
              fixture_tear_down);
  /* only under tests/helpers/with-pulseaudio (the desk-app-pulse test),
   * which gives it the devices it chooses */
  if (g_getenv ("KEFU_TEST_PULSE_PID"))
    g_test_add ("/desk/app/audio-devices", Fixture, NULL, fixture_set_up, test_audio_devices,
                fixture_tear_down);
  /* last: it points PULSE_SERVER nowhere */
  g_test_add ("/desk/app/no-sound-server", Fixture, NULL, fixture_set_up, test_no_sound_server,
              fixture_tear_down);
  return g_test_run ();
}
