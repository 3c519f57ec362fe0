/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * KefuPhone and KefuCall as the desktop uses them: two phones in this
 * process, each in listen mode on 127.0.0.1, call each other for real
 * (SIP over UDP, SDP, RTP ports) and everything the UI sees — the calls
 * model, incoming-call, notify::state, the INVITE's headers, DTMF, the
 * close reasons — is checked on the main thread.  Every wait has a
 * deadline, and every object must be finalized at the end.
 */
#define G_LOG_DOMAIN "KefuTestPhoneGObject"

#include "config.h"

#include <string.h>
#include <gio/gio.h>
#include <glib/gstdio.h>

#include "kefu-call.h"
#include "kefu-phone.h"

#define WAIT_TIMEOUT_S 15

typedef struct {
  KefuPhone *phone;
  GPtrArray *incoming;          /* KefuCall, from incoming-call */
  GPtrArray *removed;           /* KefuCall, from call-removed */
  GArray *states;               /* KefuCallState, notify::state of any call */
  GString *digits;              /* dtmf-received */
  char *transfer_target;        /* transfer-requested */
  GString *transfer_codes;      /* transfer-progress, "100 200 " */
  guint tick;                   /* wakes the waits so the deadline is seen */
} Side;

typedef struct {
  Side a;
  Side b;
  Side c;                       /* only for the three-party tests */
} Fixture;

static gboolean
on_tick (gpointer data)
{
  (void) data;
  return G_SOURCE_CONTINUE;
}

/* Iterates the main context until @cond holds; fails the test after
 * WAIT_TIMEOUT_S, saying what it waited for. */
#define WAIT_UNTIL(cond)                                                        \
  G_STMT_START {                                                                \
    gint64 deadline_ = g_get_monotonic_time () + WAIT_TIMEOUT_S * G_USEC_PER_SEC; \
    while (!(cond))                                                             \
      {                                                                         \
        if (g_get_monotonic_time () > deadline_)                                \
          g_error ("timed out after %d s waiting for: %s", WAIT_TIMEOUT_S, #cond); \
        g_main_context_iteration (NULL, TRUE);                                  \
      }                                                                         \
  } G_STMT_END

static void
on_state_notify (KefuCall *call, GParamSpec *pspec, Side *side)
{
  KefuCallState state = kefu_call_get_state (call);

  (void) pspec;
  g_array_append_val (side->states, state);
}

static void
on_dtmf_received (KefuCall *call, const char *digit, const char *mode, Side *side)
{
  (void) call;
  g_debug ("dtmf %s by %s", digit, mode);
  g_assert_true (g_str_equal (mode, "rfc4733") || g_str_equal (mode, "info"));
  g_string_append (side->digits, digit);
}

static void
on_transfer_requested (KefuCall *call, const char *target, const char *referred_by, Side *side)
{
  (void) call;
  g_assert_nonnull (referred_by);
  g_free (side->transfer_target);
  side->transfer_target = g_strdup (target);
}

static void
on_transfer_progress (KefuCall *call, guint code, const char *reason, Side *side)
{
  (void) call;
  g_assert_nonnull (reason);
  g_string_append_printf (side->transfer_codes, "%u ", code);
}

static void
watch_call (Side *side, KefuCall *call)
{
  g_signal_connect (call, "notify::state", G_CALLBACK (on_state_notify), side);
  g_signal_connect (call, "dtmf-received", G_CALLBACK (on_dtmf_received), side);
  g_signal_connect (call, "transfer-requested", G_CALLBACK (on_transfer_requested), side);
  g_signal_connect (call, "transfer-progress", G_CALLBACK (on_transfer_progress), side);
}

static void
on_incoming_call (KefuPhone *phone, KefuCall *call, Side *side)
{
  (void) phone;
  g_assert_cmpint (kefu_call_get_state (call), ==, KEFU_CALL_STATE_RINGING_IN);
  g_assert_cmpint (kefu_call_get_direction (call), ==, KEFU_CALL_DIRECTION_INCOMING);
  watch_call (side, call);
  g_ptr_array_add (side->incoming, g_object_ref (call));
}

static void
on_call_removed (KefuPhone *phone, KefuCall *call, Side *side)
{
  guint position;

  g_assert_cmpint (kefu_call_get_state (call), ==, KEFU_CALL_STATE_CLOSED);
  g_assert_false (g_list_store_find (G_LIST_STORE (kefu_phone_get_calls (phone)), call,
                                     &position));
  g_ptr_array_add (side->removed, g_object_ref (call));
}

static void
side_set_up (Side *side, const char *display_name, const char *dtmf_mode)
{
  g_autoptr(GError) error = NULL;

  side->phone = g_initable_new (KEFU_TYPE_PHONE, NULL, &error,
                                "listen-address", "127.0.0.1:0",
                                "display-name", display_name,
                                "codecs", "pcmu,pcma",
                                "dtmf-mode", dtmf_mode,
                                NULL);
  g_assert_no_error (error);
  g_assert_nonnull (side->phone);
  g_assert_cmpuint (kefu_phone_get_sip_port (side->phone), >, 0);
  side->incoming = g_ptr_array_new_with_free_func (g_object_unref);
  side->removed = g_ptr_array_new_with_free_func (g_object_unref);
  side->states = g_array_new (FALSE, FALSE, sizeof (KefuCallState));
  side->digits = g_string_new (NULL);
  side->transfer_codes = g_string_new (NULL);
  side->tick = g_timeout_add (50, on_tick, NULL);
  g_signal_connect (side->phone, "incoming-call", G_CALLBACK (on_incoming_call), side);
  g_signal_connect (side->phone, "call-removed", G_CALLBACK (on_call_removed), side);
}

static void
fixture_set_up (Fixture *fx, gconstpointer data)
{
  (void) data;
  side_set_up (&fx->a, "Alice Agent", "auto");
  side_set_up (&fx->b, "Bob Agent", NULL);
}

/* Drops the phone first: what it still holds of a call must go with it,
 * then each call the test kept must be finalized too. */
static void
side_tear_down (Side *side)
{
  g_autoptr(GPtrArray) calls = g_ptr_array_new ();

  for (guint i = 0; i < side->incoming->len; i++)
    g_ptr_array_add (calls, side->incoming->pdata[i]);
  g_ptr_array_set_free_func (side->incoming, NULL);
  g_clear_pointer (&side->incoming, g_ptr_array_unref);
  g_clear_pointer (&side->removed, g_ptr_array_unref);

  g_assert_finalize_object (side->phone);
  side->phone = NULL;
  for (guint i = 0; i < calls->len; i++)
    g_assert_finalize_object (calls->pdata[i]);

  g_clear_handle_id (&side->tick, g_source_remove);
  g_array_unref (side->states);
  g_string_free (side->digits, TRUE);
  g_string_free (side->transfer_codes, TRUE);
  g_free (side->transfer_target);
}

static void
fixture_tear_down (Fixture *fx, gconstpointer data)
{
  (void) data;
  side_tear_down (&fx->a);
  side_tear_down (&fx->b);
  if (fx->c.phone)
    side_tear_down (&fx->c);
}

static gboolean
saw_state (const Side *side, KefuCallState state)
{
  for (guint i = 0; i < side->states->len; i++)
    if (g_array_index (side->states, KefuCallState, i) == state)
      return TRUE;
  return FALSE;
}

static char *
uri_of (Side *side)
{
  return g_strdup_printf ("sip:agent@127.0.0.1:%u", kefu_phone_get_sip_port (side->phone));
}

/* A dials B with a screen-pop header, B answers, A holds and resumes,
 * digits go A -> B, B hangs up. */
static void
test_call (Fixture *fx, gconstpointer data)
{
  static const char *const headers[] = {
    "X-Kefu-Queue", "sales", "X-Kefu-Customer", "C-1002", NULL,
  };
  g_autoptr(GError) error = NULL;
  g_autofree char *uri = uri_of (&fx->b);
  GListModel *calls_a = kefu_phone_get_calls (fx->a.phone);
  GListModel *calls_b = kefu_phone_get_calls (fx->b.phone);
  g_autofree char *port_a = g_strdup_printf (":%u", kefu_phone_get_sip_port (fx->a.phone));
  KefuCall *call_a;
  KefuCall *call_b;
  g_autoptr(KefuCall) first = NULL;

  (void) data;
  g_assert_cmpuint (g_list_model_get_n_items (calls_a), ==, 0);

  call_a = kefu_phone_dial_full (fx->a.phone, NULL, uri, headers, &error);
  g_assert_no_error (error);
  g_assert_nonnull (call_a);
  watch_call (&fx->a, call_a);
  g_assert_cmpint (kefu_call_get_direction (call_a), ==, KEFU_CALL_DIRECTION_OUTGOING);
  g_assert_cmpint (kefu_call_get_state (call_a), ==, KEFU_CALL_STATE_RINGING_OUT);
  g_assert_cmpstr (kefu_call_get_peer_uri (call_a), ==, uri);
  g_assert_cmpuint (g_list_model_get_n_items (calls_a), ==, 1);
  first = g_list_model_get_item (calls_a, 0);
  g_assert_true (first == call_a);

  /* the screen pop reaches B */
  WAIT_UNTIL (fx->b.incoming->len == 1);
  call_b = fx->b.incoming->pdata[0];
  g_assert_cmpuint (g_list_model_get_n_items (calls_b), ==, 1);
  g_assert_cmpstr (kefu_call_get_header (call_b, "X-Kefu-Queue"), ==, "sales");
  g_assert_cmpstr (kefu_call_get_header (call_b, "x-kefu-customer"), ==, "C-1002");
  g_assert_null (kefu_call_get_header (call_b, "X-Kefu-Missing"));
  g_assert_nonnull (kefu_call_get_header (call_b, "Call-ID"));
  g_assert_cmpstr (kefu_call_get_peer_name (call_b), ==, "Alice Agent");
  g_assert_true (g_str_has_prefix (kefu_call_get_peer_uri (call_b), "sip:"));
  g_assert_nonnull (strstr (kefu_call_get_peer_uri (call_b), port_a));
  g_assert_null (kefu_call_get_header (call_a, "X-Kefu-Queue"));

  /* B answers: both established, with a codec */
  g_assert_true (kefu_call_accept (call_b, &error));
  g_assert_no_error (error);
  WAIT_UNTIL (kefu_call_get_state (call_a) == KEFU_CALL_STATE_ESTABLISHED
              && kefu_call_get_state (call_b) == KEFU_CALL_STATE_ESTABLISHED);
  g_assert_true (saw_state (&fx->a, KEFU_CALL_STATE_ESTABLISHED));
  g_assert_true (saw_state (&fx->b, KEFU_CALL_STATE_ESTABLISHED));
  g_assert_cmpstr (kefu_call_get_codec (call_a), ==, "PCMU");
  g_assert_cmpstr (kefu_call_get_codec (call_b), ==, "PCMU");

  /* A holds: A held, B remote-held */
  g_assert_true (kefu_call_put_on_hold (call_a, &error));
  g_assert_no_error (error);
  WAIT_UNTIL (kefu_call_get_state (call_a) == KEFU_CALL_STATE_HELD
              && kefu_call_get_state (call_b) == KEFU_CALL_STATE_REMOTE_HELD);

  /* A resumes: both established again */
  g_assert_true (kefu_call_resume (call_a, &error));
  g_assert_no_error (error);
  WAIT_UNTIL (kefu_call_get_state (call_a) == KEFU_CALL_STATE_ESTABLISHED
              && kefu_call_get_state (call_b) == KEFU_CALL_STATE_ESTABLISHED);
  g_assert_true (saw_state (&fx->a, KEFU_CALL_STATE_HELD));
  g_assert_true (saw_state (&fx->b, KEFU_CALL_STATE_REMOTE_HELD));

  /* digits from A reach B's dtmf-received */
  g_assert_false (kefu_call_send_digits (call_a, "12x", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_true (kefu_call_send_digits (call_a, "5#", &error));
  g_assert_no_error (error);
  WAIT_UNTIL (g_str_equal (fx->b.digits->str, "5#"));

  /* B hangs up: both closed, with reasons, and out of both models */
  g_assert_true (kefu_call_hang_up (call_b, &error));
  g_assert_no_error (error);
  WAIT_UNTIL (kefu_call_get_state (call_a) == KEFU_CALL_STATE_CLOSED
              && kefu_call_get_state (call_b) == KEFU_CALL_STATE_CLOSED);
  g_assert_cmpstr (kefu_call_get_close_reason (call_a), ==, "remote hangup");
  g_assert_cmpstr (kefu_call_get_close_reason (call_b), ==, "local hangup");
  g_assert_cmpuint (g_list_model_get_n_items (calls_a), ==, 0);
  g_assert_cmpuint (g_list_model_get_n_items (calls_b), ==, 0);
  g_assert_cmpuint (fx->a.removed->len, ==, 1);
  g_assert_true (fx->a.removed->pdata[0] == call_a);
  g_assert_cmpuint (fx->b.removed->len, ==, 1);
  g_assert_true (fx->b.removed->pdata[0] == call_b);

  /* a closed call refuses actions rather than reaching a dead id */
  g_assert_false (kefu_call_hang_up (call_a, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED);
  g_clear_error (&error);

  g_clear_object (&first);
  g_ptr_array_set_size (fx->a.removed, 0);
  g_assert_finalize_object (call_a);
}

/* B declines: A's call closes with B's status; nothing is left behind. */
static void
test_decline (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *uri = uri_of (&fx->b);
  KefuCall *call_a;
  KefuCall *call_b;

  (void) data;
  call_a = kefu_phone_dial (fx->a.phone, uri, &error);
  g_assert_no_error (error);
  WAIT_UNTIL (fx->b.incoming->len == 1);
  call_b = fx->b.incoming->pdata[0];

  g_assert_true (kefu_call_decline (call_b, 486, &error));
  g_assert_no_error (error);
  WAIT_UNTIL (kefu_call_get_state (call_a) == KEFU_CALL_STATE_CLOSED
              && kefu_call_get_state (call_b) == KEFU_CALL_STATE_CLOSED);
  g_assert_cmpuint (kefu_call_get_close_code (call_a), ==, 486);
  g_assert_nonnull (kefu_call_get_close_reason (call_a));
  g_assert_cmpuint (g_list_model_get_n_items (kefu_phone_get_calls (fx->a.phone)), ==, 0);
  g_assert_cmpuint (g_list_model_get_n_items (kefu_phone_get_calls (fx->b.phone)), ==, 0);
  g_ptr_array_set_size (fx->a.removed, 0);
  g_assert_finalize_object (call_a);
}

/* Dropping a phone with a call up stops it cleanly: the call becomes
 * closed on the main thread and both are finalized (see tear-down). */
static void
test_dispose_with_live_call (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *uri = uri_of (&fx->b);
  KefuCall *call_a;
  KefuCall *call_b;

  (void) data;
  call_a = kefu_phone_dial (fx->a.phone, uri, &error);
  g_assert_no_error (error);
  WAIT_UNTIL (fx->b.incoming->len == 1);
  call_b = fx->b.incoming->pdata[0];
  g_assert_true (kefu_call_accept (call_b, &error));
  g_assert_no_error (error);
  WAIT_UNTIL (kefu_call_get_state (call_a) == KEFU_CALL_STATE_ESTABLISHED);

  g_assert_finalize_object (fx->a.phone);
  fx->a.phone = g_initable_new (KEFU_TYPE_PHONE, NULL, &error, NULL);
  g_assert_no_error (error);
  g_assert_cmpint (kefu_call_get_state (call_a), ==, KEFU_CALL_STATE_CLOSED);
  g_assert_cmpstr (kefu_call_get_close_reason (call_a), ==, "phone stopped");
  g_assert_false (kefu_call_hang_up (call_a, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED);
  g_clear_error (&error);
  g_assert_finalize_object (call_a);

  /* B hears the BYE the stopping phone sent */
  WAIT_UNTIL (kefu_call_get_state (call_b) == KEFU_CALL_STATE_CLOSED);
  g_assert_cmpstr (kefu_call_get_close_reason (call_b), ==, "remote hangup");
}

/* A calls B, B calls C: the two calls B has, both established. */
static void
connect_three (Fixture *fx, KefuCall **ab, KefuCall **ba, KefuCall **bc, KefuCall **cb)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *uri_b = uri_of (&fx->b);
  g_autofree char *uri_c = NULL;

  side_set_up (&fx->c, "Carol Colleague", NULL);
  uri_c = uri_of (&fx->c);

  *ab = kefu_phone_dial (fx->a.phone, uri_b, &error);
  g_assert_no_error (error);
  watch_call (&fx->a, *ab);
  WAIT_UNTIL (fx->b.incoming->len == 1);
  *ba = fx->b.incoming->pdata[0];
  g_assert_true (kefu_call_accept (*ba, &error));
  WAIT_UNTIL (kefu_call_get_state (*ab) == KEFU_CALL_STATE_ESTABLISHED);

  *bc = kefu_phone_dial (fx->b.phone, uri_c, &error);
  g_assert_no_error (error);
  watch_call (&fx->b, *bc);
  WAIT_UNTIL (fx->c.incoming->len == 1);
  *cb = fx->c.incoming->pdata[0];
  g_assert_true (kefu_call_accept (*cb, &error));
  WAIT_UNTIL (kefu_call_get_state (*bc) == KEFU_CALL_STATE_ESTABLISHED);
}

/* B hands A over to C (consult transfer): A is asked, follows, C takes
 * A's call in place of B's, and B is out of both calls. */
static void
test_consult_transfer (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KefuCall) ac = NULL;
  KefuCall *ab, *ba, *bc, *cb, *ca;

  (void) data;
  connect_three (fx, &ab, &ba, &bc, &cb);

  /* a call cannot be handed to itself */
  g_assert_false (kefu_call_transfer_to_call (ba, ba, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* B's call with A is put on hold first, then the REFER goes */
  g_assert_true (kefu_call_transfer_to_call (ba, bc, &error));
  g_assert_no_error (error);
  WAIT_UNTIL (fx->a.transfer_target != NULL);
  g_assert_cmpint (kefu_call_get_state (ab), ==, KEFU_CALL_STATE_REMOTE_HELD);
  g_assert_nonnull (strstr (fx->a.transfer_target, "?Replaces="));
  g_assert_cmpstr (kefu_call_get_transfer_target (ab), ==, fx->a.transfer_target);

  ac = kefu_phone_accept_transfer (fx->a.phone, ab, &error);
  g_assert_no_error (error);
  g_assert_nonnull (ac);
  g_assert_cmpint (kefu_call_get_direction (ac), ==, KEFU_CALL_DIRECTION_OUTGOING);

  /* C: the new call replaces B's and is answered without ringing */
  WAIT_UNTIL (fx->c.incoming->len == 2);
  ca = fx->c.incoming->pdata[1];
  g_assert_cmpuint (kefu_call_get_replaces (ca), ==, kefu_call_get_id (cb));
  WAIT_UNTIL (kefu_call_get_state (ac) == KEFU_CALL_STATE_ESTABLISHED
              && kefu_call_get_state (ca) == KEFU_CALL_STATE_ESTABLISHED);
  WAIT_UNTIL (kefu_call_get_state (cb) == KEFU_CALL_STATE_CLOSED);
  g_assert_cmpstr (kefu_call_get_close_reason (cb), ==, "replaced");

  /* B and A: the old calls end as transferred */
  WAIT_UNTIL (kefu_call_get_state (ba) == KEFU_CALL_STATE_CLOSED
              && kefu_call_get_state (bc) == KEFU_CALL_STATE_CLOSED
              && kefu_call_get_state (ab) == KEFU_CALL_STATE_CLOSED);
  g_assert_cmpstr (kefu_call_get_close_reason (ba), ==, "transferred");
  g_assert_cmpstr (kefu_call_get_close_reason (ab), ==, "transferred");
  g_assert_nonnull (strstr (fx->b.transfer_codes->str, "200"));
  g_assert_cmpuint (g_list_model_get_n_items (kefu_phone_get_calls (fx->b.phone)), ==, 0);

  g_assert_true (kefu_call_hang_up (ac, &error));
  WAIT_UNTIL (kefu_call_get_state (ca) == KEFU_CALL_STATE_CLOSED);
  g_ptr_array_set_size (fx->a.removed, 0);
  g_ptr_array_set_size (fx->b.removed, 0);
  g_assert_finalize_object (g_steal_pointer (&ac));
  g_assert_finalize_object (ab);
  g_assert_finalize_object (bc);
}

/* B joins its two calls; mute and recording on one of them; A leaves and
 * B's call with C stays in the conference. */
static void
test_conference_mute_record (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("kefu-gobject-XXXXXX", NULL);
  g_autofree char *wav = g_build_filename (dir, "call.wav", NULL);
  KefuCall *ab, *ba, *bc, *cb;

  (void) data;
  connect_three (fx, &ab, &ba, &bc, &cb);

  g_assert_false (kefu_call_join_conference (ba, ba, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_true (kefu_call_join_conference (ba, bc, &error));
  g_assert_no_error (error);
  WAIT_UNTIL (kefu_call_get_in_conference (ba) && kefu_call_get_in_conference (bc));

  g_assert_true (kefu_call_set_muted (ba, TRUE, &error));
  g_assert_true (kefu_call_get_muted (ba));
  g_assert_true (kefu_call_set_muted (ba, FALSE, &error));
  g_assert_false (kefu_call_get_muted (ba));

  g_assert_false (kefu_call_start_recording (ba, "/nonexistent-kefu-dir/x.wav", &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "/nonexistent-kefu-dir/x.wav"));
  g_clear_error (&error);
  g_assert_null (kefu_call_get_recording (ba));
  g_assert_true (kefu_call_start_recording (ba, wav, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (kefu_call_get_recording (ba), ==, wav);

  /* A leaves; B and C go on, still mixed */
  g_assert_true (kefu_call_hang_up (ab, &error));
  WAIT_UNTIL (kefu_call_get_state (ba) == KEFU_CALL_STATE_CLOSED);
  g_assert_false (kefu_call_get_in_conference (ba));
  g_assert_null (kefu_call_get_recording (ba));
  g_assert_true (g_file_test (wav, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpint (kefu_call_get_state (bc), ==, KEFU_CALL_STATE_ESTABLISHED);
  g_assert_true (kefu_call_get_in_conference (bc));

  g_assert_true (kefu_call_hang_up (bc, &error));
  WAIT_UNTIL (kefu_call_get_state (cb) == KEFU_CALL_STATE_CLOSED);
  g_ptr_array_set_size (fx->a.removed, 0);
  g_ptr_array_set_size (fx->b.removed, 0);
  g_assert_finalize_object (ab);
  g_assert_finalize_object (bc);
  g_unlink (wav);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/phone/gobject/consult-transfer", Fixture, NULL,
              fixture_set_up, test_consult_transfer, fixture_tear_down);
  g_test_add ("/phone/gobject/conference-mute-record", Fixture, NULL,
              fixture_set_up, test_conference_mute_record, fixture_tear_down);
  g_test_add ("/phone/gobject/call", Fixture, NULL,
              fixture_set_up, test_call, fixture_tear_down);
  g_test_add ("/phone/gobject/decline", Fixture, NULL,
              fixture_set_up, test_decline, fixture_tear_down);
  g_test_add ("/phone/gobject/dispose-with-live-call", Fixture, NULL,
              fixture_set_up, test_dispose_with_live_call, fixture_tear_down);

  return g_test_run ();
}
