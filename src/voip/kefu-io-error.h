/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * G_IO_ERROR without GIO.  The kefu-phone program links GLib but not GIO:
 * GIO and what it loads (libmount, libblkid, libselinux) would be most of
 * the memory it maps beyond what baresip maps.  Yet its errors, like every
 * Kefu error, are G_IO_ERROR's: KEFU_IO_ERROR is the same quark (GLib
 * names a domain by its string, and GIO's is "g-io-error-quark"), so
 * g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) holds for an
 * error set with KEFU_IO_ERROR and G_IO_ERROR_NOT_FOUND, in programs that
 * link GIO.  The codes are GIOErrorEnum's, from GIO's headers alone.
 *
 * In libkefu-voip, and in the parts of libkefu-phone the program uses,
 * write KEFU_IO_ERROR and kefu_io_error_from_errno(), never G_IO_ERROR or
 * g_io_error_from_errno(): kefu-phone is linked without GIO, so a call
 * into GIO there fails its link.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define KEFU_IO_ERROR (kefu_io_error_quark ())

/* The quark of G_IO_ERROR. */
GQuark       kefu_io_error_quark      (void) G_GNUC_CONST;

/* As g_io_error_from_errno(): the GIOErrorEnum code for an errno value,
 * G_IO_ERROR_FAILED for one it has none for. */
GIOErrorEnum kefu_io_error_from_errno (int err_no) G_GNUC_CONST;

G_END_DECLS
