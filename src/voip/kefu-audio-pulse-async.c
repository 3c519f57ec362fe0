/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * kefu_audio_pulse_list_devices_async(): the device list on a GTask's
 * thread, for the desktop.  It is the one part of libkefu-voip that calls
 * into GIO, and has a file of its own so that a program which does not
 * call it (kefu-phone) links no GIO; one that does links gio-2.0.
 */
#define G_LOG_DOMAIN "KefuAudioPulse"

#include "config.h"

#include "kefu-audio-pulse.h"

struct device_lists {
  GPtrArray *sources;
  GPtrArray *sinks;
};

static void
device_lists_free (struct device_lists *lists)
{
  g_ptr_array_unref (lists->sources);
  g_ptr_array_unref (lists->sinks);
  g_free (lists);
}

static void
list_devices_in_thread (GTask *task, gpointer source_object, gpointer task_data,
                        GCancellable *cancellable)
{
  struct device_lists *lists = g_new0 (struct device_lists, 1);
  GError *error = NULL;

  if (kefu_audio_pulse_list_devices (&lists->sources, &lists->sinks, &error))
    g_task_return_pointer (task, lists, (GDestroyNotify) device_lists_free);
  else
    {
      g_free (lists);
      g_task_return_error (task, error);
    }
}

void
kefu_audio_pulse_list_devices_async (GCancellable *cancellable, GAsyncReadyCallback callback,
                                     gpointer user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, kefu_audio_pulse_list_devices_async);
  g_task_set_return_on_cancel (task, TRUE);
  g_task_run_in_thread (task, list_devices_in_thread);
}

gboolean
kefu_audio_pulse_list_devices_finish (GAsyncResult *result, GPtrArray **sources,
                                      GPtrArray **sinks, GError **error)
{
  struct device_lists *lists;

  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (sources && sinks, FALSE);

  lists = g_task_propagate_pointer (G_TASK (result), error);
  if (!lists)
    return FALSE;

  *sources = g_steal_pointer (&lists->sources);
  *sinks = g_steal_pointer (&lists->sinks);
  g_free (lists);

  return TRUE;
}
