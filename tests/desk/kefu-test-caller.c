/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * kefu-test-caller: a customer calling the agent's desktop, for looking at
 * the screen pop by hand and for scripts: a KefuPhone in listen mode whose
 * From is the caller's number, dialling URI with screen-pop headers, then
 * staying on the line until the agent hangs up (or SECONDS pass).  Like a
 * customer's phone, it follows the agent's transfer (REFER) and stays on
 * the line with whoever the agent handed it to, for a while (20 s), and
 * then hangs up: the next demo call comes after that.
 *
 * With --keys, it keys DIGITS once the call is answered and --keys-after
 * seconds have passed, as a caller choosing from a switch's IVR menu does
 * (the IVR keeps keys typed ahead of its menu).
 *
 *   kefu-test-caller +8613358791398 sip:agent@127.0.0.1:5070 \
 *     [--seconds N] [--keys DIGITS [--keys-after S]]
 *     [X-Kefu-Queue=sales X-Kefu-Ivr=1>3 X-Kefu-Wait=42 ...]
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <gio/gio.h>

#include "kefu-phone.h"

static gboolean
on_timeout (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

typedef struct {
  KefuPhone  *phone;
  GMainLoop  *loop;
  guint       live;        /* calls not closed yet */
  const char *keys;        /* to key once answered, or NULL */
  guint       keys_after;  /* seconds after the answer */
  guint       key_source;
} Caller;

typedef struct {
  Caller     *caller;
  KefuCall   *call;
  const char *keys;
} Keying;

static gboolean
on_key_time (gpointer data)
{
  Keying *keying = data;
  g_autoptr(GError) error = NULL;

  keying->caller->key_source = 0;
  if (kefu_call_get_state (keying->call) == KEFU_CALL_STATE_ESTABLISHED &&
      !kefu_call_send_digits (keying->call, keying->keys, &error))
    g_printerr ("keys %s: %s\n", keying->keys, error->message);
  else
    g_print ("keyed %s\n", keying->keys);
  return G_SOURCE_REMOVE;
}

static void
keying_free (gpointer data)
{
  Keying *keying = data;

  g_object_unref (keying->call);
  g_free (keying);
}

static void follow (Caller *caller, KefuCall *call);

#define AFTER_TRANSFER_S 20

static gboolean
on_done_with_colleague (gpointer data)
{
  kefu_call_hang_up (data, NULL);
  return G_SOURCE_REMOVE;
}

static void
on_state (KefuCall   *call,
          GParamSpec *pspec,
          Caller     *caller)
{
  g_print ("state %d\n", kefu_call_get_state (call));
  if (kefu_call_get_state (call) == KEFU_CALL_STATE_ESTABLISHED && caller->keys)
    {
      Keying *keying = g_new0 (Keying, 1);

      keying->caller = caller;
      keying->call = g_object_ref (call);
      keying->keys = caller->keys;
      /* once: a transferred call or a resume does not key again */
      caller->keys = NULL;
      caller->key_source = g_timeout_add_seconds_full (G_PRIORITY_DEFAULT, caller->keys_after, on_key_time,
                                  keying, keying_free);
    }
  if (kefu_call_get_state (call) != KEFU_CALL_STATE_CLOSED)
    return;
  g_signal_handlers_disconnect_by_data (call, caller);
  /* after the loop (the phone hangs up as it goes), nothing to stop */
  if (--caller->live == 0 && caller->loop)
    g_main_loop_quit (caller->loop);
}

static void
on_transfer_requested (KefuCall   *call,
                       const char *target,
                       const char *referred_by,
                       Caller     *caller)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KefuCall) next = kefu_phone_accept_transfer (caller->phone, call, &error);

  g_print ("transferred to %s\n", target);
  if (!next)
    g_printerr ("%s\n", error->message);
  else
    {
      follow (caller, next);
      g_timeout_add_seconds_full (G_PRIORITY_DEFAULT, AFTER_TRANSFER_S, on_done_with_colleague,
                                  g_object_ref (next), g_object_unref);
    }
}

static void
follow (Caller   *caller,
        KefuCall *call)
{
  caller->live++;
  g_signal_connect (call, "notify::state", G_CALLBACK (on_state), caller);
  g_signal_connect (call, "transfer-requested", G_CALLBACK (on_transfer_requested), caller);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KefuPhone) phone = NULL;
  g_autoptr(KefuCall) call = NULL;
  g_autoptr(GPtrArray) headers = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  /* here, before the phone: it must outlive the phone's last signals */
  Caller caller = { NULL, NULL, 0, NULL, 3, 0 };
  guint seconds = 600;

  if (argc < 3)
    {
      g_printerr ("usage: %s CALLER-NUMBER URI [--seconds N] [--keys DIGITS [--keys-after S]] "
                  "[Header=value ...]\n", argv[0]);
      return 2;
    }
  for (int i = 3; i < argc; i++)
    {
      const char *eq = strchr (argv[i], '=');

      if (g_str_equal (argv[i], "--seconds") && i + 1 < argc)
        seconds = (guint) atoi (argv[++i]);
      else if (g_str_equal (argv[i], "--keys") && i + 1 < argc)
        caller.keys = argv[++i];
      else if (g_str_equal (argv[i], "--keys-after") && i + 1 < argc)
        caller.keys_after = (guint) atoi (argv[++i]);
      else if (eq)
        {
          g_ptr_array_add (headers, g_strndup (argv[i], (gsize) (eq - argv[i])));
          g_ptr_array_add (headers, g_strdup (eq + 1));
        }
    }
  g_ptr_array_add (headers, NULL);

  phone = g_initable_new (KEFU_TYPE_PHONE, NULL, &error,
                          "listen-address", "127.0.0.1:0",
                          "listen-user", argv[1],
                          "audio", g_getenv ("KEFU_AUDIO"),
                          NULL);
  if (!phone)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  call = kefu_phone_dial_full (phone, NULL, argv[2], (const char * const *) headers->pdata, &error);
  if (!call)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  caller.phone = phone;
  caller.loop = loop;
  follow (&caller, call);
  g_timeout_add_seconds (seconds, on_timeout, loop);
  g_main_loop_run (loop);
  caller.loop = NULL;
  g_clear_handle_id (&caller.key_source, g_source_remove);
  return 0;
}
