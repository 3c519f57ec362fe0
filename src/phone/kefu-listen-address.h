/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The address a phone in listen mode takes calls on: "HOST:PORT", HOST a
 * numeric IPv4 address or an IPv6 one in brackets ("[::1]:5080"; a bare
 * IPv6 address has port 0), PORT 0 for any free port.  What
 * g_network_address_parse() reads, with numeric hosts and ports only, and
 * without GIO (kefu-io-error.h says why).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* FALSE when `spec` is not such an address; else *host is new. */
gboolean kefu_listen_address_parse (const char *spec,
                                    char      **host,
                                    guint16    *port);

G_END_DECLS
