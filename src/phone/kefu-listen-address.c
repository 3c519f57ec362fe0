/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "kefu-listen-address.h"

#include <string.h>

gboolean
kefu_listen_address_parse (const char *spec, char **host, guint16 *port)
{
  g_autofree char *name = NULL;
  const char *port_text = NULL;
  guint64 number = 0;

  g_return_val_if_fail (spec && host && port, FALSE);

  if (spec[0] == '[')
    {
      const char *end = strchr (spec, ']');

      if (!end || (end[1] && end[1] != ':'))
        return FALSE;
      name = g_strndup (spec + 1, end - spec - 1);
      port_text = end[1] ? end + 2 : NULL;
    }
  else
    {
      const char *colon = strchr (spec, ':');

      if (!colon)
        return FALSE;                   /* no port */
      if (strchr (colon + 1, ':'))
        name = g_strdup (spec);         /* a bare IPv6 address */
      else
        {
          name = g_strndup (spec, colon - spec);
          port_text = colon + 1;
        }
    }

  if (port_text && !g_ascii_string_to_unsigned (port_text, 10, 0, G_MAXUINT16, &number, NULL))
    return FALSE;
  if (!g_hostname_is_ip_address (name))
    return FALSE;

  *host = g_steal_pointer (&name);
  *port = (guint16) number;
  return TRUE;
}
