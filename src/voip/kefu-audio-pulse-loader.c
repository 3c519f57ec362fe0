/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * kefu-audio-pulse.h for the programs: the PulseAudio module is loaded the
 * first time it is needed (kefu-audio-pulse-module.h), from
 *   $KEFU_MODULE_DIR, when set (the tests point it at the build tree);
 *   else the installed KEFU_MODULEDIR, then the build tree the program was
 *   built in, so that an uninstalled program finds its module too.
 * When it is missing or cannot be loaded (libpulse absent), every call
 * fails with G_IO_ERROR_NOT_SUPPORTED, and the next call tries again.
 */
#define G_LOG_DOMAIN "KefuAudioPulse"

#include "config.h"

#include "kefu-audio-pulse.h"

#include <glib/gi18n-lib.h>
#include <gmodule.h>

#include <errno.h>

#include "kefu-audio-pulse-module.h"
#include "kefu-io-error.h"

static GMutex module_lock;
static const struct kefu_audio_pulse_module *loaded;  /* atomic; once set, for good */

/* Opens `path` and checks its table; NULL with *reason for people. */
static const struct kefu_audio_pulse_module *
module_open (const char *path, char **reason)
{
  const struct kefu_audio_pulse_module *table = NULL;
  GModule *module;

  /* local: the module's libpulse symbols stay its own */
  module = g_module_open (path, G_MODULE_BIND_LOCAL);
  if (!module)
    {
      *reason = g_strdup (g_module_error ());
      return NULL;
    }

  if (!g_module_symbol (module, KEFU_AUDIO_PULSE_MODULE_SYMBOL, (gpointer *) &table) || !table)
    {
      *reason = g_strdup (g_module_error ());
      g_module_close (module);
      return NULL;
    }
  if (table->version != KEFU_AUDIO_PULSE_MODULE_VERSION
      || table->size != sizeof (struct kefu_audio_pulse_module))
    {
      *reason = g_strdup_printf ("%s: version %u, but this program needs version %u", path,
                                 table->version, KEFU_AUDIO_PULSE_MODULE_VERSION);
      g_module_close (module);
      return NULL;
    }

  /* streams, players and libpulse's thread outlive any caller of ours */
  g_module_make_resident (module);
  g_debug ("loaded %s", path);

  return table;
}

static const struct kefu_audio_pulse_module *
module_get (GError **error)
{
  const struct kefu_audio_pulse_module *table;
  const char *env = g_getenv ("KEFU_MODULE_DIR");
  const char *dirs[] = { KEFU_MODULEDIR, KEFU_BUILD_MODULEDIR, NULL };
  g_autofree char *reason = NULL;

  g_mutex_lock (&module_lock);
  table = g_atomic_pointer_get (&loaded);
  if (!table)
    {
      if (env && *env)
        {
          dirs[0] = env;
          dirs[1] = NULL;
        }

      for (guint i = 0; !table && dirs[i]; i++)
        {
          g_autofree char *path = g_build_filename (dirs[i], KEFU_AUDIO_PULSE_MODULE_FILE, NULL);

          /* the first place it is missing from is where it belongs */
          if (!g_file_test (path, G_FILE_TEST_EXISTS))
            {
              if (!reason)
                reason = g_strdup_printf ("%s: %s", path, g_strerror (ENOENT));
              continue;
            }
          g_clear_pointer (&reason, g_free);
          table = module_open (path, &reason);
          if (!table)
            break;
        }
      g_atomic_pointer_set (&loaded, table);
    }
  g_mutex_unlock (&module_lock);

  if (!table)
    g_set_error (error, KEFU_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                 _("PulseAudio support is not installed: %s"), reason);

  return table;
}

struct kefu_audio_source *
kefu_audio_pulse_source_new (const char *device, GError **error)
{
  const struct kefu_audio_pulse_module *pulse = module_get (error);
  const struct kefu_audio_source_backend *backend = NULL;
  void *impl;

  if (!pulse)
    return NULL;
  impl = pulse->source_open (device, &backend, error);

  return impl ? kefu_audio_source_new (backend, impl) : NULL;
}

struct kefu_audio_sink *
kefu_audio_pulse_sink_new (const char *device, GError **error)
{
  const struct kefu_audio_pulse_module *pulse = module_get (error);
  const struct kefu_audio_sink_backend *backend = NULL;
  void *impl;

  if (!pulse)
    return NULL;
  impl = pulse->sink_open (device, &backend, error);

  return impl ? kefu_audio_sink_new (backend, impl) : NULL;
}

/* --- devices ----------------------------------------------------------- */

void
kefu_audio_device_free (struct kefu_audio_device *device)
{
  if (!device)
    return;
  g_free (device->name);
  g_free (device->description);
  g_free (device);
}

gboolean
kefu_audio_pulse_list_devices (GPtrArray **sources, GPtrArray **sinks, GError **error)
{
  const struct kefu_audio_pulse_module *pulse;
  g_autoptr(GPtrArray) found_sources = NULL;
  g_autoptr(GPtrArray) found_sinks = NULL;

  g_return_val_if_fail (sources && sinks, FALSE);

  pulse = module_get (error);
  if (!pulse)
    return FALSE;

  found_sources = g_ptr_array_new_with_free_func ((GDestroyNotify) kefu_audio_device_free);
  found_sinks = g_ptr_array_new_with_free_func ((GDestroyNotify) kefu_audio_device_free);
  if (!pulse->list_devices (found_sources, found_sinks, error))
    return FALSE;

  *sources = g_steal_pointer (&found_sources);
  *sinks = g_steal_pointer (&found_sinks);

  return TRUE;
}

/* --- the ringer's player ----------------------------------------------- */

struct kefu_audio_pulse_player *
kefu_audio_pulse_player_new (const char *device, const char *role, const char *title,
                             kefu_audio_pulse_fill_h *fill, void *arg, GError **error)
{
  const struct kefu_audio_pulse_module *pulse;

  g_return_val_if_fail (role && title && fill, NULL);

  pulse = module_get (error);

  return pulse ? pulse->player_new (device, role, title, fill, arg, error) : NULL;
}

/* A player exists only once the module is loaded, and it stays loaded. */

gboolean
kefu_audio_pulse_player_start (struct kefu_audio_pulse_player *player, unsigned rate,
                               GError **error)
{
  const struct kefu_audio_pulse_module *pulse = g_atomic_pointer_get (&loaded);

  g_return_val_if_fail (player && pulse, FALSE);

  return pulse->player_start (player, rate, error);
}

void
kefu_audio_pulse_player_stop (struct kefu_audio_pulse_player *player)
{
  const struct kefu_audio_pulse_module *pulse = g_atomic_pointer_get (&loaded);

  g_return_if_fail (player && pulse);

  pulse->player_stop (player);
}

void
kefu_audio_pulse_player_free (struct kefu_audio_pulse_player *player)
{
  const struct kefu_audio_pulse_module *pulse = g_atomic_pointer_get (&loaded);

  if (!player)
    return;
  g_return_if_fail (pulse);

  pulse->player_free (player);
}
