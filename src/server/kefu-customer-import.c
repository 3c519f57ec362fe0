/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuCustomerImport"

#include "config.h"

#include "kefu-customer-import.h"

#include <gio/gio.h>
#include <string.h>

/* A spreadsheet export is read in pieces this big; the file is never held
 * whole in memory. */
#define READ_CHUNK_BYTES (64 * 1024)
/* The longest field a customer has (notes) is 20000 characters; a cell far
 * beyond that is a quote that swallowed the rest of the file, and holding
 * it all would only cost memory. */
#define CELL_MAX_BYTES (256 * 1024)
/* Files smaller than this import in a moment; larger ones report progress. */
#define PROGRESS_MIN_BYTES (8 * 1024 * 1024)

/* The columns a customer CSV may have: the client-settable fields of a
 * customer, lists written with ";" between the items. */
static const struct {
  const char *name;
  gboolean    list;
} known_columns[] = {
  { "name", FALSE },
  { "company", FALSE },
  { "tier", FALSE },
  { "owner", FALSE },
  { "phones", TRUE },
  { "emails", TRUE },
  { "tags", TRUE },
  { "notes", FALSE },
  { "account_number", FALSE },
};

#define KNOWN_COLUMN_NAMES \
  "name, company, tier, owner, phones, emails, tags, notes, account_number"

typedef enum {
  CSV_FIELD_START,
  CSV_UNQUOTED,
  CSV_QUOTED,
  CSV_QUOTE_IN_QUOTED,   /* a quote inside quotes: "" or the closing one */
} CsvState;

typedef struct {
  /* borrowed */
  KefuStore        *store;
  KefuImportReport *report;
  const char       *path;

  /* where the reader is in the file */
  CsvState   state;
  guint      line;          /* physical line of the byte being read, from 1 */
  guint      row_line;      /* the line the current row started on */
  guint      quote_line;    /* the line of the last opening quote */
  gboolean   pending_cr;    /* a \r was the line end: a \n right after it is the same one */

  /* the row being read (owned) */
  GString   *field;
  gboolean   field_too_long;
  GPtrArray *cells;
  guint      n_cells;       /* counted on past the header's width */
  gboolean   extra_content; /* a cell past the header's width holds something */
  char      *row_problem;   /* what is wrong with the row as CSV, if anything */

  /* the header (owned) */
  gboolean   have_header;
  guint      n_columns;
  int       *column_of_cell; /* cell index -> index into known_columns */

  KefuWrite  write;
  GError    *fatal;          /* stops the import */
} CsvImport;

void
kefu_import_report_clear (KefuImportReport *report)
{
  g_clear_pointer (&report->problems, g_ptr_array_unref);
}

static void
add_problem (CsvImport  *import,
             guint       line,
             const char *format,
             ...) G_GNUC_PRINTF (3, 4);

static void
add_problem (CsvImport  *import,
             guint       line,
             const char *format,
             ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  if (!import->report->problems)
    import->report->problems = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (import->report->problems, g_strdup_printf ("line %u: %s", line, message));
  import->report->rejected++;
}

static void
set_row_problem (CsvImport  *import,
                 const char *format,
                 ...) G_GNUC_PRINTF (2, 3);

static void
set_row_problem (CsvImport  *import,
                 const char *format,
                 ...)
{
  va_list args;

  /* The first thing wrong with a row is the one worth telling. */
  if (import->row_problem)
    return;
  va_start (args, format);
  import->row_problem = g_strdup_vprintf (format, args);
  va_end (args);
}

static const char *
column_name (CsvImport *import,
             guint      cell)
{
  if (import->have_header && cell < import->n_columns)
    return known_columns[import->column_of_cell[cell]].name;
  return NULL;
}

static int
known_column_index (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (known_columns); i++)
    if (g_str_equal (known_columns[i].name, name))
      return (int) i;
  return -1;
}

/* --- the header ----------------------------------------------------------- */

static gboolean
read_header (CsvImport  *import,
             GError    **error)
{
  GPtrArray *cells = import->cells;
  gboolean has_name = FALSE;

  if (import->row_problem)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s, line %u (the header): %s",
                   import->path, import->row_line, import->row_problem);
      return FALSE;
    }

  import->n_columns = cells->len;
  import->column_of_cell = g_new0 (int, cells->len);
  for (guint i = 0; i < cells->len; i++)
    {
      const char *cell = g_ptr_array_index (cells, i);
      g_autofree char *trimmed = NULL;
      g_autofree char *key = NULL;
      int index;

      trimmed = g_strstrip (g_strdup (cell));
      key = g_utf8_strdown (trimmed, -1);
      if (!*key)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "%s, line %u (the header): column %u has no name; the first row must "
                       "name every column (" KNOWN_COLUMN_NAMES ")",
                       import->path, import->row_line, i + 1);
          return FALSE;
        }
      index = known_column_index (key);
      if (index < 0)
        {
          g_autofree char *plural = g_strconcat (key, "s", NULL);
          g_autofree char *hint = known_column_index (plural) >= 0
                                  ? g_strdup_printf (" (did you mean “%s”?)", plural)
                                  : g_strdup ("");

          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "%s, line %u (the header): unknown column “%s”%s; a customer CSV may "
                       "have the columns " KNOWN_COLUMN_NAMES "; nothing was imported",
                       import->path, import->row_line, trimmed, hint);
          return FALSE;
        }
      for (guint j = 0; j < i; j++)
        if (import->column_of_cell[j] == index)
          {
            g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                         "%s, line %u (the header): column “%s” appears twice (columns %u and "
                         "%u); nothing was imported", import->path, import->row_line,
                         known_columns[index].name, j + 1, i + 1);
            return FALSE;
          }
      import->column_of_cell[i] = index;
      if (g_str_equal (known_columns[index].name, "name"))
        has_name = TRUE;
    }

  if (!has_name)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s, line %u (the header): there is no “name” column, and every customer "
                   "needs a name; the first row must name the columns, for example "
                   "“name,company,phones,emails”; nothing was imported",
                   import->path, import->row_line);
      return FALSE;
    }
  import->have_header = TRUE;
  return TRUE;
}

/* --- one customer ---------------------------------------------------------- */

static JsonArray *
split_list (const char *cell)
{
  g_auto(GStrv) items = g_strsplit (cell, ";", -1);
  JsonArray *array = json_array_new ();

  for (guint i = 0; items[i]; i++)
    {
      g_strstrip (items[i]);
      /* "a;;b" and a trailing ";" are how spreadsheets leave empty items. */
      if (*items[i])
        json_array_add_string_element (array, items[i]);
    }
  return array;
}

/* The row as the JSON a REST client would have sent; empty cells are absent
 * fields. */
static JsonObject *
row_object (CsvImport *import)
{
  g_autoptr(JsonObject) object = json_object_new ();

  for (guint i = 0; i < import->cells->len; i++)
    {
      const char *cell = g_ptr_array_index (import->cells, i);
      const char *name = known_columns[import->column_of_cell[i]].name;
      g_autofree char *value = NULL;

      value = g_strstrip (g_strdup (cell));
      if (!*value)
        continue;

      if (known_columns[import->column_of_cell[i]].list)
        {
          JsonArray *items = split_list (value);

          if (json_array_get_length (items) == 0)
            json_array_unref (items);
          else
            json_object_set_array_member (object, name, items);
          continue;
        }
      /* Spreadsheet users write "VIP"; the tiers are lower-case keys. */
      if (g_str_equal (name, "tier"))
        {
          char *lower = g_ascii_strdown (value, -1);

          g_free (value);
          value = lower;
        }
      json_object_set_string_member (object, name, value);
    }
  return g_steal_pointer (&object);
}

static void
import_row (CsvImport *import)
{
  g_autoptr(JsonObject) object = NULL;
  g_autoptr(JsonObject) doc = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;
  KefuWriteResult result = { 0 };

  if (import->row_problem)
    {
      add_problem (import, import->row_line, "%s", import->row_problem);
      return;
    }
  /* Empty cells past the last column are how spreadsheets pad short
   * rows; only cells with something in them have no column to go to. */
  if (import->extra_content)
    {
      add_problem (import, import->row_line,
                   "%u cells, but the header names only %u columns (a comma in a cell needs "
                   "the cell in double quotes)", import->n_cells, import->n_columns);
      return;
    }

  object = row_object (import);
  node = json_node_init_object (json_node_alloc (), object);
  doc = kefu_record_validate (&kefu_record_customer, node, KEFU_RECORD_CREATE,
                              kefu_store_get_default_country (import->store), NULL, &error);
  if (!doc)
    {
      add_problem (import, import->row_line, "%s", error->message);
      return;
    }

  if (!kefu_store_create (import->store, &kefu_record_customer, doc, &import->write, &result,
                          &error))
    {
      /* The row was fine: a database that stops taking writes stops the
       * import, rather than rejecting every row after it one by one. */
      if (error->domain == KEFU_DB_ERROR && error->code != KEFU_DB_ERROR_CONSTRAINT)
        {
          g_set_error (&import->fatal, error->domain, error->code,
                       "%s, line %u: the database refused the customer (%s); %u customers "
                       "before it were imported", import->path, import->row_line,
                       error->message, import->report->taken);
          return;
        }
      add_problem (import, import->row_line, "%s", error->message);
      return;
    }
  kefu_write_result_clear (&result);
  import->report->taken++;
}

/* --- the CSV reader (RFC 4180) ------------------------------------------------ */

static gboolean
row_is_blank (CsvImport *import)
{
  for (guint i = 0; i < import->cells->len; i++)
    {
      const char *cell = g_ptr_array_index (import->cells, i);

      for (const char *p = cell; *p; p++)
        if (!g_ascii_isspace (*p))
          return FALSE;
    }
  return !import->extra_content && !import->row_problem;
}

static void
end_field (CsvImport *import)
{
  const char *name = column_name (import, import->n_cells);

  if (import->field_too_long)
    {
      if (name)
        set_row_problem (import, "column “%s” holds more than %u KiB", name,
                         CELL_MAX_BYTES / 1024);
      else
        set_row_problem (import, "cell %u holds more than %u KiB", import->n_cells + 1,
                         CELL_MAX_BYTES / 1024);
    }
  /* Checked with the length, so a NUL byte counts as the damage it is. */
  if (!g_utf8_validate (import->field->str, import->field->len, NULL))
    {
      if (name)
        set_row_problem (import, "column “%s” is not valid UTF-8 text; save the file as UTF-8 "
                         "(“CSV UTF-8” in a spreadsheet)", name);
      else
        set_row_problem (import, "cell %u is not valid UTF-8 text; save the file as UTF-8 "
                         "(“CSV UTF-8” in a spreadsheet)", import->n_cells + 1);
    }
  /* Cells past the header's width are only counted, for the message. */
  if (!import->have_header || import->n_cells < import->n_columns)
    {
      g_ptr_array_add (import->cells, g_strndup (import->field->str, import->field->len));
    }
  else
    {
      for (gsize i = 0; i < import->field->len; i++)
        if (!g_ascii_isspace (import->field->str[i]))
          import->extra_content = TRUE;
    }
  import->n_cells++;
  g_string_truncate (import->field, 0);
  import->field_too_long = FALSE;
}

static void
end_row (CsvImport *import)
{
  if (import->fatal)
    return;
  if (row_is_blank (import))
    ;  /* blank lines (and rows of empty cells) carry nothing to import */
  else if (!import->have_header)
    read_header (import, &import->fatal);
  else
    import_row (import);

  g_ptr_array_set_size (import->cells, 0);
  import->n_cells = 0;
  import->extra_content = FALSE;
  g_clear_pointer (&import->row_problem, g_free);
}

static inline void
append_byte (CsvImport *import,
             char       c)
{
  if (import->field->len >= CELL_MAX_BYTES)
    {
      import->field_too_long = TRUE;
      return;
    }
  g_string_append_c (import->field, c);
}

/* A line ends at \n, \r\n or a lone \r; the line count moves on at its
 * first byte. */
static inline void
count_line_end (CsvImport *import,
                char       c)
{
  import->line++;
  import->pending_cr = c == '\r';
}

static void
feed (CsvImport  *import,
      const char *data,
      gsize       length)
{
  for (gsize i = 0; i < length && !import->fatal; i++)
    {
      char c = data[i];

      if (import->pending_cr)
        {
          import->pending_cr = FALSE;
          if (c == '\n')
            continue;
        }

      switch (import->state)
        {
        case CSV_FIELD_START:
          if (c == '"')
            {
              import->state = CSV_QUOTED;
              import->quote_line = import->line;
              break;
            }
          import->state = CSV_UNQUOTED;
          G_GNUC_FALLTHROUGH;

        case CSV_UNQUOTED:
          if (c == ',')
            {
              end_field (import);
              import->state = CSV_FIELD_START;
            }
          else if (c == '\n' || c == '\r')
            {
              end_field (import);
              end_row (import);
              count_line_end (import, c);
              import->row_line = import->line;
              import->state = CSV_FIELD_START;
            }
          else
            {
              /* A stray quote inside an unquoted cell (12" disk) is kept
               * as it is, as spreadsheets do. */
              append_byte (import, c);
            }
          break;

        case CSV_QUOTED:
          if (c == '"')
            {
              import->state = CSV_QUOTE_IN_QUOTED;
            }
          else if (c == '\n' || c == '\r')
            {
              /* Line ends inside a cell become \n whatever the file uses. */
              append_byte (import, '\n');
              count_line_end (import, c);
            }
          else
            {
              append_byte (import, c);
            }
          break;

        case CSV_QUOTE_IN_QUOTED:
          if (c == '"')
            {
              append_byte (import, '"');
              import->state = CSV_QUOTED;
            }
          else if (c == ',')
            {
              end_field (import);
              import->state = CSV_FIELD_START;
            }
          else if (c == '\n' || c == '\r')
            {
              end_field (import);
              end_row (import);
              count_line_end (import, c);
              import->row_line = import->line;
              import->state = CSV_FIELD_START;
            }
          else
            {
              const char *name = column_name (import, import->n_cells);

              if (name)
                set_row_problem (import, "column “%s” has text after its closing quote (a "
                                 "quote inside a quoted cell is written \"\")", name);
              else
                set_row_problem (import, "cell %u has text after its closing quote (a quote "
                                 "inside a quoted cell is written \"\")", import->n_cells + 1);
              append_byte (import, c);
              import->state = CSV_UNQUOTED;
            }
          break;

        default:
          g_assert_not_reached ();
        }
    }
}

static void
finish (CsvImport *import)
{
  if (import->fatal)
    return;

  switch (import->state)
    {
    case CSV_FIELD_START:
      /* The file ended with a line end, or with a comma. */
      if (import->n_cells > 0)
        {
          end_field (import);
          end_row (import);
        }
      break;

    case CSV_QUOTED:
      {
        const char *name = column_name (import, import->n_cells);

        if (!import->have_header)
          {
            g_set_error (&import->fatal, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                         "%s, line %u (the header): a quote opened on line %u is never closed",
                         import->path, import->row_line, import->quote_line);
            return;
          }
        if (name)
          add_problem (import, import->row_line,
                       "the quote that opens column “%s” on line %u is never closed, so the "
                       "rest of the file could not be read as rows", name, import->quote_line);
        else
          add_problem (import, import->row_line,
                       "the quote that opens cell %u on line %u is never closed, so the rest "
                       "of the file could not be read as rows", import->n_cells + 1,
                       import->quote_line);
      }
      break;

    case CSV_UNQUOTED:
    case CSV_QUOTE_IN_QUOTED:
      /* The last row has no line end. */
      end_field (import);
      end_row (import);
      break;

    default:
      g_assert_not_reached ();
    }
}

static void
report_progress (CsvImport *import,
                 goffset    done,
                 goffset    size,
                 guint     *next_tenth)
{
  guint tenth = (guint) (done * 10 / size);

  if (tenth < *next_tenth || tenth >= 10)
    return;
  g_printerr ("%s: %u0 %% read, %u customers imported, %u rows rejected\n", import->path, tenth,
              import->report->taken, import->report->rejected);
  *next_tenth = tenth + 1;
}

gboolean
kefu_customer_import_csv (KefuStore         *store,
                          const char        *path,
                          KefuImportReport  *report,
                          GError           **error)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileInputStream) stream = NULL;
  g_autoptr(GFileInfo) info = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *buffer = NULL;
  CsvImport import = { 0 };
  goffset size = 0, done = 0;
  guint next_tenth = 1;
  gboolean at_start = TRUE;
  gboolean ok = TRUE;

  g_return_val_if_fail (KEFU_IS_STORE (store), FALSE);
  g_return_val_if_fail (report != NULL, FALSE);

  stream = g_file_read (file, NULL, &local_error);
  if (!stream)
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                     "%s: no such file; nothing was imported", path);
      else if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_IS_DIRECTORY))
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_IS_DIRECTORY,
                     "%s is a folder, not a CSV file; nothing was imported", path);
      else
        /* GIO's message names the file and says why */
        g_set_error (error, local_error->domain, local_error->code,
                     "%s; nothing was imported", local_error->message);
      return FALSE;
    }
  info = g_file_input_stream_query_info (stream, G_FILE_ATTRIBUTE_STANDARD_SIZE, NULL, NULL);
  if (info)
    size = g_file_info_get_size (info);

  import.store = store;
  import.report = report;
  import.path = path;
  import.state = CSV_FIELD_START;
  import.line = 1;
  import.row_line = 1;
  import.field = g_string_new (NULL);
  import.cells = g_ptr_array_new_with_free_func (g_free);
  import.write = (KefuWrite) KEFU_WRITE_INIT;
  import.write.actor = "kefu-server";
  import.write.status = 201;
  buffer = g_malloc (READ_CHUNK_BYTES);

  for (;;)
    {
      gssize n = g_input_stream_read (G_INPUT_STREAM (stream), buffer, READ_CHUNK_BYTES, NULL,
                                      &local_error);
      const char *data = buffer;

      if (n < 0)
        {
          g_set_error (error, local_error->domain, local_error->code,
                       "Cannot read %s after line %u: %s; %u customers before it were imported",
                       path, import.line, local_error->message, report->taken);
          ok = FALSE;
          break;
        }
      if (n == 0)
        break;
      /* Excel's "CSV UTF-8" starts with a byte-order mark. */
      if (at_start)
        {
          at_start = FALSE;
          if (n >= 3 && memcmp (data, "\xef\xbb\xbf", 3) == 0)
            {
              data += 3;
              n -= 3;
            }
        }
      feed (&import, data, (gsize) n);
      if (import.fatal)
        break;
      done += n;
      if (size >= PROGRESS_MIN_BYTES)
        report_progress (&import, done, size, &next_tenth);
    }

  if (ok)
    finish (&import);
  if (ok && !import.fatal && !import.have_header)
    g_set_error (&import.fatal, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                 "%s is empty; its first row must name the columns (" KNOWN_COLUMN_NAMES ")",
                 path);
  if (ok && import.fatal)
    {
      g_propagate_error (error, g_steal_pointer (&import.fatal));
      ok = FALSE;
    }

  g_clear_error (&import.fatal);
  g_string_free (import.field, TRUE);
  g_ptr_array_unref (import.cells);
  g_free (import.column_of_cell);
  g_free (import.row_problem);
  return ok;
}
