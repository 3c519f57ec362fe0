/* SPDX-License-Identifier: GPL-3.0-or-later */
/* KEFU_IO_ERROR and kefu_io_error_from_errno() against GIO's own, which
 * this test links: the same domain, the same code for every errno. */
#define G_LOG_DOMAIN "KefuTestIoError"

#include "config.h"

#include "kefu-io-error.h"

#include <errno.h>

static void
test_domain (void)
{
  g_autoptr(GError) error = g_error_new_literal (KEFU_IO_ERROR, G_IO_ERROR_BUSY, "busy");

  g_assert_cmpuint (KEFU_IO_ERROR, ==, G_IO_ERROR);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_BUSY);
}

static void
test_from_errno (void)
{
  /* past the largest errno Linux has (EHWPOISON, 133) */
  for (int err_no = 0; err_no < 200; err_no++)
    {
      g_test_message ("errno %d", err_no);
      g_assert_cmpint (kefu_io_error_from_errno (err_no), ==, g_io_error_from_errno (err_no));
    }
  g_assert_cmpint (kefu_io_error_from_errno (ENOENT), ==, G_IO_ERROR_NOT_FOUND);
  g_assert_cmpint (kefu_io_error_from_errno (ENOSPC), ==, G_IO_ERROR_NO_SPACE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/io-error/domain", test_domain);
  g_test_add_func ("/io-error/from-errno", test_from_errno);

  return g_test_run ();
}
