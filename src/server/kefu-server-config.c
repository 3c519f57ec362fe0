/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuServerConfig"

#include "config.h"

#include "kefu-server-config.h"
#include "kefu-phone-number.h"

#include <string.h>

static const char * const default_reason_codes[] = {
  "Break", "Lunch", "Meeting", "Training", "Coaching", "After-call work", "Personal", NULL
};

KefuServerConfig *
kefu_server_config_new (void)
{
  KefuServerConfig *config = g_new0 (KefuServerConfig, 1);

  config->listen_host = g_strdup ("127.0.0.1");
  config->listen_port = 8080;
  config->timezone = g_strdup ("Asia/Shanghai");
  config->default_country = g_strdup ("CN");
  config->max_body_bytes = 1024 * 1024;
  config->max_document_bytes = 20 * 1024 * 1024;
  config->backend = g_strdup ("sqlite");
  config->sqlite_path = g_strdup ("kefu.db");
  config->password_cost = KEFU_PASSWORD_COST_INTERACTIVE;
  config->session_hours = 12;
  config->login_max_failures = 5;
  config->login_window_s = 60;
  config->reason_codes = g_strdupv ((char **) default_reason_codes);
  config->sip_realm = g_strdup ("kefu");
  kefu_metrics_config_init (&config->metrics);
  return config;
}

void
kefu_server_config_free (KefuServerConfig *config)
{
  if (!config)
    return;
  g_free (config->listen_host);
  g_free (config->timezone);
  g_free (config->default_country);
  g_free (config->backend);
  g_free (config->sqlite_path);
  g_free (config->pg_conninfo);
  g_strfreev (config->reason_codes);
  g_free (config->sip_realm);
  g_free (config);
}

gboolean
kefu_server_config_set_listen (KefuServerConfig  *config,
                               const char        *text,
                               GError           **error)
{
  const char *colon = text ? strrchr (text, ':') : NULL;
  g_autofree char *host = NULL;
  guint64 port;

  if (!colon || !g_ascii_string_to_unsigned (colon + 1, 10, 0, 65535, &port, NULL))
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "listen: “%s” is not HOST:PORT (for example 127.0.0.1:8080)",
                   text ? text : "");
      return FALSE;
    }
  host = g_strndup (text, colon - text);
  if (host[0] == '[' && host[strlen (host) - 1] == ']')
    {
      char *inner = g_strndup (host + 1, strlen (host) - 2);

      g_free (host);
      host = inner;
    }
  g_free (config->listen_host);
  config->listen_host = *host ? g_steal_pointer (&host) : g_strdup ("0.0.0.0");
  config->listen_port = (guint) port;
  return TRUE;
}

typedef struct {
  const char *group;
  const char *keys[12];
} KnownGroup;

static const KnownGroup known[] = {
  { "server", { "listen", "timezone", "default_country", "max_body_bytes", "max_document_bytes" } },
  { "store", { "backend", "path", "conninfo" } },
  { "auth", { "password_cost", "session_hours", "login_max_failures", "login_window_s" } },
  { "agents", { "reason_codes", "sip_realm" } },
  { "metrics", { "sl_threshold_s", "short_abandon_s", "sl_denominator" } },
};

static gboolean
check_known (GKeyFile    *file,
             const char  *path,
             GError     **error)
{
  g_auto(GStrv) groups = g_key_file_get_groups (file, NULL);

  for (guint g = 0; groups[g]; g++)
    {
      const KnownGroup *group = NULL;
      g_auto(GStrv) keys = NULL;

      for (guint k = 0; k < G_N_ELEMENTS (known); k++)
        if (g_str_equal (known[k].group, groups[g]))
          group = &known[k];
      if (!group)
        {
          g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_GROUP_NOT_FOUND,
                       "%s: unknown section [%s]; known sections: server, store, auth, agents, "
                       "metrics", path, groups[g]);
          return FALSE;
        }
      keys = g_key_file_get_keys (file, groups[g], NULL, NULL);
      for (guint i = 0; keys && keys[i]; i++)
        if (!g_strv_contains (group->keys, keys[i]))
          {
            g_autofree char *allowed = g_strjoinv (", ", (char **) group->keys);

            g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND,
                         "%s: [%s] has no setting “%s”; it knows: %s", path, groups[g], keys[i],
                         allowed);
            return FALSE;
          }
    }
  return TRUE;
}

static gboolean
read_uint (GKeyFile    *file,
           const char  *path,
           const char  *group,
           const char  *key,
           guint64      min,
           guint64      max,
           guint64     *out,
           GError     **error)
{
  g_autofree char *text = g_key_file_get_string (file, group, key, NULL);

  if (!text)
    return TRUE;
  g_strstrip (text);
  if (!g_ascii_string_to_unsigned (text, 10, min, max, out, NULL))
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "%s: [%s] %s = “%s”: expected a whole number from %" G_GUINT64_FORMAT
                   " to %" G_GUINT64_FORMAT, path, group, key, text, min, max);
      return FALSE;
    }
  return TRUE;
}

static gboolean
read_seconds (GKeyFile    *file,
              const char  *path,
              const char  *key,
              double       max,
              double      *out,
              GError     **error)
{
  g_autofree char *text = g_key_file_get_string (file, "metrics", key, NULL);
  char *end = NULL;
  double value;

  if (!text)
    return TRUE;
  g_strstrip (text);
  value = g_ascii_strtod (text, &end);
  if (!*text || *end || value < 0 || value > max)
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "%s: [metrics] %s = “%s”: expected seconds from 0 to %g", path, key, text, max);
      return FALSE;
    }
  *out = value;
  return TRUE;
}

gboolean
kefu_server_config_load (KefuServerConfig  *config,
                         const char        *path,
                         GError           **error)
{
  g_autoptr(GKeyFile) file = g_key_file_new ();
  g_autoptr(GError) local_error = NULL;
  g_autofree char *text = NULL;
  guint64 value;

  if (!g_key_file_load_from_file (file, path, G_KEY_FILE_NONE, &local_error))
    {
      g_set_error (error, local_error->domain, local_error->code, "%s: %s", path,
                   local_error->message);
      return FALSE;
    }
  if (!check_known (file, path, error))
    return FALSE;

  if ((text = g_key_file_get_string (file, "server", "listen", NULL)))
    {
      if (!kefu_server_config_set_listen (config, g_strstrip (text), error))
        {
          g_prefix_error (error, "%s: [server] ", path);
          return FALSE;
        }
      g_clear_pointer (&text, g_free);
    }
  if ((text = g_key_file_get_string (file, "server", "timezone", NULL)))
    {
      g_autoptr(GTimeZone) tz = g_time_zone_new_identifier (g_strstrip (text));

      if (!tz)
        {
          g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                       "%s: [server] timezone = “%s”: not a time zone (try Asia/Shanghai or UTC)",
                       path, text);
          return FALSE;
        }
      g_free (config->timezone);
      config->timezone = g_steal_pointer (&text);
    }
  if ((text = g_key_file_get_string (file, "server", "default_country", NULL)))
    {
      g_strstrip (text);
      if (!kefu_phone_number_country_is_known (text))
        {
          g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                       "%s: [server] default_country = “%s”: not a country code Kefu knows "
                       "(two letters, such as CN, US, GB)", path, text);
          return FALSE;
        }
      g_free (config->default_country);
      config->default_country = g_ascii_strup (text, -1);
      g_clear_pointer (&text, g_free);
    }
  value = config->max_body_bytes;
  if (!read_uint (file, path, "server", "max_body_bytes", 1024, 1024 * 1024 * 1024, &value, error))
    return FALSE;
  config->max_body_bytes = value;
  value = config->max_document_bytes;
  if (!read_uint (file, path, "server", "max_document_bytes", 1024, 1024 * 1024 * 1024, &value,
                  error))
    return FALSE;
  config->max_document_bytes = value;

  if ((text = g_key_file_get_string (file, "store", "backend", NULL)))
    {
      g_strstrip (text);
      if (!g_str_equal (text, "sqlite") && !g_str_equal (text, "postgresql"))
        {
          g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                       "%s: [store] backend = “%s”: expected sqlite or postgresql", path, text);
          return FALSE;
        }
      g_free (config->backend);
      config->backend = g_steal_pointer (&text);
    }
  if ((text = g_key_file_get_string (file, "store", "path", NULL)))
    {
      g_free (config->sqlite_path);
      config->sqlite_path = g_strstrip (g_steal_pointer (&text));
    }
  if ((text = g_key_file_get_string (file, "store", "conninfo", NULL)))
    {
      g_free (config->pg_conninfo);
      config->pg_conninfo = g_strstrip (g_steal_pointer (&text));
    }
  if (g_str_equal (config->backend, "postgresql") && !config->pg_conninfo)
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND,
                   "%s: [store] backend = postgresql needs conninfo (for example "
                   "conninfo = host=/run/postgresql dbname=kefu)", path);
      return FALSE;
    }

  if ((text = g_key_file_get_string (file, "auth", "password_cost", NULL)))
    {
      g_strstrip (text);
      if (!kefu_password_cost_from_string (text, &config->password_cost))
        {
          g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                       "%s: [auth] password_cost = “%s”: expected interactive, moderate or "
                       "minimum (tests only)", path, text);
          return FALSE;
        }
      g_clear_pointer (&text, g_free);
    }
  value = config->session_hours;
  if (!read_uint (file, path, "auth", "session_hours", 1, 24 * 31, &value, error))
    return FALSE;
  config->session_hours = value;
  value = config->login_max_failures;
  if (!read_uint (file, path, "auth", "login_max_failures", 1, 1000, &value, error))
    return FALSE;
  config->login_max_failures = value;
  value = config->login_window_s;
  if (!read_uint (file, path, "auth", "login_window_s", 1, 86400, &value, error))
    return FALSE;
  config->login_window_s = value;

  if (g_key_file_has_key (file, "agents", "reason_codes", NULL))
    {
      g_auto(GStrv) codes = g_key_file_get_string_list (file, "agents", "reason_codes", NULL, NULL);
      g_autoptr(GPtrArray) kept = g_ptr_array_new_with_free_func (g_free);

      for (guint i = 0; codes && codes[i]; i++)
        if (*g_strstrip (codes[i]))
          g_ptr_array_add (kept, g_strdup (codes[i]));
      if (kept->len == 0)
        {
          g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                       "%s: [agents] reason_codes is empty; agents need at least one reason to "
                       "go Not ready", path);
          return FALSE;
        }
      g_ptr_array_add (kept, NULL);
      g_strfreev (config->reason_codes);
      config->reason_codes = (char **) g_ptr_array_free (g_steal_pointer (&kept), FALSE);
    }

  if ((text = g_key_file_get_string (file, "agents", "sip_realm", NULL)))
    {
      g_strstrip (text);
      /* It goes inside a quoted digest parameter: no quotes, no controls. */
      if (!*text || strlen (text) > 128 || strpbrk (text, "\"\\") ||
          !g_str_is_ascii (text) || strspn (text, " !#$%&'()*+,-./0123456789:;<=>?@"
                                                   "ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`"
                                                   "abcdefghijklmnopqrstuvwxyz{|}~") !=
          strlen (text))
        {
          g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                       "%s: [agents] sip_realm = “%s”: expected printable ASCII without quotes "
                       "or backslashes, at most 128 characters", path, text);
          return FALSE;
        }
      g_free (config->sip_realm);
      config->sip_realm = g_steal_pointer (&text);
    }

  if (!read_seconds (file, path, "sl_threshold_s", 3600, &config->metrics.sl_threshold_s, error) ||
      !read_seconds (file, path, "short_abandon_s", 600, &config->metrics.short_abandon_s, error))
    return FALSE;
  if ((text = g_key_file_get_string (file, "metrics", "sl_denominator", NULL)))
    {
      g_strstrip (text);
      if (!kefu_sl_denominator_from_string (text, &config->metrics.denominator))
        {
          g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                       "%s: [metrics] sl_denominator = “%s”: expected answered, "
                       "answered+abandoned or offered-short", path, text);
          return FALSE;
        }
    }
  return TRUE;
}
