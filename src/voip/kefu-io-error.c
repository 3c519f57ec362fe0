/* SPDX-License-Identifier: GPL-3.0-or-later */
/* G_IO_ERROR without GIO (kefu-io-error.h); tests/voip/test-io-error.c
 * checks both functions against GIO's. */
#include "config.h"

#include "kefu-io-error.h"

#include <errno.h>

/* the string GIO names its domain by: G_DEFINE_QUARK (g-io-error-quark, g_io_error) */
G_DEFINE_QUARK (g-io-error-quark, kefu_io_error)

/* GIO maps errno through GFileError first, then the rest */
static GIOErrorEnum
from_file_error (GFileError code)
{
  switch (code)
    {
    case G_FILE_ERROR_EXIST:
      return G_IO_ERROR_EXISTS;
    case G_FILE_ERROR_ISDIR:
      return G_IO_ERROR_IS_DIRECTORY;
    case G_FILE_ERROR_ACCES:
    case G_FILE_ERROR_PERM:
      return G_IO_ERROR_PERMISSION_DENIED;
    case G_FILE_ERROR_NAMETOOLONG:
      return G_IO_ERROR_FILENAME_TOO_LONG;
    case G_FILE_ERROR_NOENT:
      return G_IO_ERROR_NOT_FOUND;
    case G_FILE_ERROR_NOTDIR:
      return G_IO_ERROR_NOT_DIRECTORY;
    case G_FILE_ERROR_NXIO:
      return G_IO_ERROR_NOT_REGULAR_FILE;
    case G_FILE_ERROR_NODEV:
      return G_IO_ERROR_NO_SUCH_DEVICE;
    case G_FILE_ERROR_ROFS:
      return G_IO_ERROR_READ_ONLY;
    case G_FILE_ERROR_TXTBSY:
      return G_IO_ERROR_BUSY;
    case G_FILE_ERROR_LOOP:
      return G_IO_ERROR_TOO_MANY_LINKS;
    case G_FILE_ERROR_NOSPC:
    case G_FILE_ERROR_NOMEM:
      return G_IO_ERROR_NO_SPACE;
    case G_FILE_ERROR_MFILE:
    case G_FILE_ERROR_NFILE:
      return G_IO_ERROR_TOO_MANY_OPEN_FILES;
    case G_FILE_ERROR_INVAL:
      return G_IO_ERROR_INVALID_ARGUMENT;
    case G_FILE_ERROR_PIPE:
      return G_IO_ERROR_BROKEN_PIPE;
    case G_FILE_ERROR_AGAIN:
      return G_IO_ERROR_WOULD_BLOCK;
    case G_FILE_ERROR_NOSYS:
      return G_IO_ERROR_NOT_SUPPORTED;
    default:
      return G_IO_ERROR_FAILED;
    }
}

GIOErrorEnum
kefu_io_error_from_errno (int err_no)
{
  GIOErrorEnum code = from_file_error (g_file_error_from_errno (err_no));

  if (code != G_IO_ERROR_FAILED)
    return code;

  switch (err_no)
    {
    case EMLINK:
      return G_IO_ERROR_TOO_MANY_LINKS;
    case ENOMSG:
    case ENODATA:
    case EBADMSG:
      return G_IO_ERROR_INVALID_DATA;
    case ECANCELED:
      return G_IO_ERROR_CANCELLED;
    case ENOTEMPTY:
      return G_IO_ERROR_NOT_EMPTY;
    case ENOTSUP:
    case EPROTONOSUPPORT:
    case ESOCKTNOSUPPORT:
    case EPFNOSUPPORT:
    case EAFNOSUPPORT:
      return G_IO_ERROR_NOT_SUPPORTED;
    case ETIMEDOUT:
      return G_IO_ERROR_TIMED_OUT;
    case EBUSY:
      return G_IO_ERROR_BUSY;
    case EADDRINUSE:
      return G_IO_ERROR_ADDRESS_IN_USE;
    case EHOSTUNREACH:
      return G_IO_ERROR_HOST_UNREACHABLE;
    case ENETUNREACH:
    case ENETDOWN:
      return G_IO_ERROR_NETWORK_UNREACHABLE;
    case ECONNREFUSED:
      return G_IO_ERROR_CONNECTION_REFUSED;
    case ECONNRESET:
      return G_IO_ERROR_CONNECTION_CLOSED;
    case ENOTCONN:
      return G_IO_ERROR_NOT_CONNECTED;
    case EMSGSIZE:
      return G_IO_ERROR_MESSAGE_TOO_LARGE;
    case ENOTSOCK:
      return G_IO_ERROR_INVALID_ARGUMENT;
    default:
      return G_IO_ERROR_FAILED;
    }
}
