/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Importing customers from a CSV file (kefu-server import customers FILE):
 * the first row names the columns (name, company, tier, owner, phones,
 * emails, tags, notes, account_number; lists split on ";"), every other
 * row is one customer.  Good rows are taken, bad rows are reported with
 * their line number and why, and never half-stored.
 */
#pragma once

#include "kefu-store.h"

G_BEGIN_DECLS

typedef struct {
  guint      taken;
  guint      rejected;
  GPtrArray *problems;   /* "line 7: Field “phones[0]”: ..." strings */
} KefuImportReport;

void     kefu_import_report_clear   (KefuImportReport *report);

/* FALSE with error only when the file as a whole cannot be read or has no
 * usable header; row problems go into the report. */
gboolean kefu_customer_import_csv   (KefuStore        *store,
                                     const char       *path,
                                     KefuImportReport *report,
                                     GError          **error);

G_END_DECLS
