/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * kefu-server's command line as an administrator meets it: the commands
 * run against the database of a real server (SQLite or PostgreSQL), and
 * what they did is checked over HTTP, the way the agents will see it: the
 * customers found by phone, the report rows, the logins that work.
 */
#define G_LOG_DOMAIN "KefuTestServerCli"

#include "config.h"

#include "kefu-test-server.h"
#include "kefu-db-pg.h"
#include "kefu-store.h"

#include <string.h>

typedef struct {
  KefuTestServer *server;
  char           *admin;     /* a token of the test admin */

  /* the last command's exit status and output (owned) */
  int             status;
  char           *out;
  char           *err;
} Cli;

static Cli *
cli_start (void)
{
  Cli *cli = g_new0 (Cli, 1);

  cli->server = kefu_test_server_start (NULL);
  cli->admin = kefu_test_login (cli->server, "admin");
  return cli;
}

static void
cli_free (Cli *cli)
{
  /* The server exits here; a crash or a leak in it fails the test. */
  kefu_test_server_free (cli->server);
  g_free (cli->admin);
  g_free (cli->out);
  g_free (cli->err);
  g_free (cli);
}

/* Runs kefu-server ARGS... against the test server's database. */
static int
cli_run (Cli        *cli,
         const char *first,
         ...) G_GNUC_NULL_TERMINATED;

static int
cli_run (Cli        *cli,
         const char *first,
         ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  va_list ap;

  va_start (ap, first);
  for (const char *arg = first; arg; arg = va_arg (ap, const char *))
    g_ptr_array_add (args, (gpointer) arg);
  va_end (ap);
  g_ptr_array_add (args, NULL);

  g_clear_pointer (&cli->out, g_free);
  g_clear_pointer (&cli->err, g_free);
  cli->status = kefu_test_server_run_cli (cli->server, (const char * const *) args->pdata,
                                          &cli->out, &cli->err);
  g_test_message ("kefu-server %s... exited %d\nstdout: %s\nstderr: %s", first, cli->status,
                  cli->out, cli->err);
  return cli->status;
}

/* Runs the kefu-server binary with exactly these arguments (no test
 * config), for what happens before a database is opened. */
static int
run_binary (const char * const  *args,
            char               **out,
            char               **err)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;

  g_ptr_array_add (argv, g_build_filename (g_getenv ("KEFU_BUILD_DIR"), "src", "server",
                                           "kefu-server", NULL));
  for (guint i = 0; args[i]; i++)
    g_ptr_array_add (argv, g_strdup (args[i]));
  g_ptr_array_add (argv, NULL);

  process = g_subprocess_newv ((const char * const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE |
                               G_SUBPROCESS_FLAGS_STDIN_PIPE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, "", NULL, out, err, &error);
  g_assert_no_error (error);
  g_test_message ("kefu-server %s... exited %d\nstdout: %s\nstderr: %s", args[0],
                  g_subprocess_get_if_exited (process) ? g_subprocess_get_exit_status (process)
                                                       : -1, *out, *err);
  return g_subprocess_get_if_exited (process) ? g_subprocess_get_exit_status (process) : -1;
}

/* Fails with what the program said when it did not exit as expected: a
 * sanitizer's report, say. */
static void
assert_exit_status (int         status,
                    int         expected,
                    const char *err)
{
  if (status != expected)
    g_error ("kefu-server exited with %d (-1: killed), expected %d; it said:\n%s", status,
             expected, err);
}

static char *
write_file (Cli        *cli,
            const char *name,
            const char *contents,
            gssize      length)
{
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (cli->server->dir, name, NULL);

  g_file_set_contents (path, contents, length, &error);
  g_assert_no_error (error);
  return path;
}

/* GET that answers a page: its items. */
static JsonArray *
get_items (Cli        *cli,
           const char *token,
           const char *path)
{
  g_autoptr(KefuTestResponse) response = kefu_test_request (cli->server, "GET", path, token, NULL);
  JsonObject *body;

  if (response->status != 200)
    g_error ("GET %s: %u %s", path, response->status, response->body);
  body = kefu_test_response_object (response);
  return json_array_ref (json_object_get_array_member (body, "items"));
}

static JsonArray *
customers_with_phone (Cli        *cli,
                      const char *token,
                      const char *phone)
{
  g_autofree char *escaped = g_uri_escape_string (phone, NULL, FALSE);
  g_autofree char *path = g_strdup_printf ("/v1/customers?phone=%s", escaped);

  return get_items (cli, token, path);
}

/* The one customer with this number; fails when there are none or more. */
static JsonObject *
only_customer_with_phone (Cli        *cli,
                          const char *token,
                          const char *phone)
{
  g_autoptr(JsonArray) items = customers_with_phone (cli, token, phone);

  if (json_array_get_length (items) != 1)
    g_error ("expected one customer with phone %s, found %u", phone,
             json_array_get_length (items));
  return json_object_ref (json_array_get_object_element (items, 0));
}

static guint
count_customers (Cli *cli)
{
  guint total = 0;

  for (guint offset = 0;; offset += 500)
    {
      g_autofree char *path = g_strdup_printf ("/v1/customers?limit=500&offset=%u", offset);
      g_autoptr(JsonArray) items = get_items (cli, cli->admin, path);

      total += json_array_get_length (items);
      if (json_array_get_length (items) < 500)
        return total;
    }
}

static void
assert_strings (JsonObject          *object,
                const char          *member,
                const char * const  *expected)
{
  JsonArray *array;
  guint n = g_strv_length ((char **) expected);

  g_assert_true (json_object_has_member (object, member));
  array = json_object_get_array_member (object, member);
  g_assert_cmpuint (json_array_get_length (array), ==, n);
  for (guint i = 0; i < n; i++)
    g_assert_cmpstr (json_array_get_string_element (array, i), ==, expected[i]);
}

/* The stderr line that reports `line N:` of the file. */
static char *
problem_line (const char *err,
              guint       line)
{
  g_auto(GStrv) lines = g_strsplit (err ? err : "", "\n", -1);
  g_autofree char *needle = g_strdup_printf (": line %u: ", line);

  for (guint i = 0; lines[i]; i++)
    if (strstr (lines[i], needle))
      return g_strdup (lines[i]);
  g_error ("no problem reported for line %u in:\n%s", line, err);
}

static void
assert_problem (const char *err,
                guint       line,
                const char *expected)
{
  g_autofree char *text = problem_line (err, line);

  if (!strstr (text, expected))
    g_error ("the problem reported for line %u does not mention “%s”: %s", line, expected, text);
}

/* --- import customers -------------------------------------------------------------- */

static void
test_import_good (void)
{
  Cli *cli = cli_start ();
  /* What a spreadsheet's "CSV UTF-8" export looks like: a byte-order mark,
   * CRLF line ends, headers as people write them, commas and line breaks
   * and quotes inside quoted cells. */
  static const char csv[] =
    "\xef\xbb\xbf" "Name,Company,Tier,Owner,Phones,Emails,Tags,Notes,Account_Number\r\n"
    "王小明,北京华信科技有限公司,VIP,agent,138 0013 8000; 010-6552 9988,"
    "xiaoming.wang@example.cn,大客户;wholesale,\"第一行，请回电\r\n第二行, with a comma\",10000001\r\n"
    "\"Smith, John\",\"Acme, Inc.\",gold,,+44 20 7946 0958,john.smith@example.com,,"
    "\"He said \"\"call me\"\" twice\",\r\n"
    "欧阳娜娜,,new,,(021) 6123 4567,,,,10000003\r\n";
  g_autofree char *path = write_file (cli, "customers.csv", csv, sizeof csv - 1);
  g_autoptr(JsonObject) wang = NULL;
  g_autoptr(JsonObject) again = NULL;
  g_autoptr(JsonObject) smith = NULL;
  g_autoptr(JsonObject) ouyang = NULL;

  g_assert_cmpint (cli_run (cli, "import", "customers", path, NULL), ==, 0);
  g_assert_nonnull (strstr (cli->out, "3 customers imported, 0 rows rejected"));
  g_assert_null (strstr (cli->err, "line "));

  wang = only_customer_with_phone (cli, cli->admin, "+8613800138000");
  g_assert_cmpstr (json_object_get_string_member (wang, "name"), ==, "王小明");
  g_assert_cmpstr (json_object_get_string_member (wang, "company"), ==, "北京华信科技有限公司");
  g_assert_cmpstr (json_object_get_string_member (wang, "tier"), ==, "vip");
  g_assert_cmpstr (json_object_get_string_member (wang, "owner"), ==, "agent");
  assert_strings (wang, "phones",
                  (const char * const[]) { "+8613800138000", "+861065529988", NULL });
  assert_strings (wang, "emails", (const char * const[]) { "xiaoming.wang@example.cn", NULL });
  assert_strings (wang, "tags", (const char * const[]) { "大客户", "wholesale", NULL });
  g_assert_cmpstr (json_object_get_string_member (wang, "notes"), ==,
                   "第一行，请回电\n第二行, with a comma");
  g_assert_cmpstr (json_object_get_string_member (wang, "account_number"), ==, "10000001");

  /* The second number finds the same customer, however it is written. */
  again = only_customer_with_phone (cli, cli->admin, "010 6552 9988");
  g_assert_cmpint (json_object_get_int_member (again, "id"), ==,
                   json_object_get_int_member (wang, "id"));

  smith = only_customer_with_phone (cli, cli->admin, "+442079460958");
  g_assert_cmpstr (json_object_get_string_member (smith, "name"), ==, "Smith, John");
  g_assert_cmpstr (json_object_get_string_member (smith, "company"), ==, "Acme, Inc.");
  g_assert_cmpstr (json_object_get_string_member (smith, "tier"), ==, "gold");
  g_assert_cmpstr (json_object_get_string_member (smith, "notes"), ==, "He said \"call me\" twice");
  /* empty cells are absent fields, not empty strings */
  g_assert_false (json_object_has_member (smith, "account_number") &&
                  !json_object_get_null_member (smith, "account_number"));
  g_assert_false (json_object_has_member (smith, "owner") &&
                  !json_object_get_null_member (smith, "owner"));

  ouyang = only_customer_with_phone (cli, cli->admin, "+862161234567");
  g_assert_cmpstr (json_object_get_string_member (ouyang, "name"), ==, "欧阳娜娜");
  g_assert_cmpstr (json_object_get_string_member (ouyang, "tier"), ==, "new");

  g_assert_cmpuint (count_customers (cli), ==, 3);
  cli_free (cli);
}

static void
test_import_bad_rows (void)
{
  Cli *cli = cli_start ();
  g_autoptr(GString) csv = g_string_new (NULL);
  g_autofree char *path = NULL;
  g_autoptr(JsonObject) zhou = NULL;

  g_string_append (csv, "name,tier,phones,emails,notes\n");                  /* 1 */
  g_string_append (csv, "张伟,normal,13700000001,,\n");                       /* 2 */
  g_string_append (csv, "刘洋,normal,1380013800O,,\n");                       /* 3: letter O */
  for (guint i = 0; i < 201; i++)                                              /* 4: too long */
    g_string_append (csv, "名");
  g_string_append (csv, ",gold,13700000002,,\n");
  g_string_append (csv, "陈静,platinum,13700000003,,\n");                    /* 5 */
  g_string_append (csv, "赵敏,normal,13700000004,zhao@example.com,note,extra\n"); /* 6 */
  g_string_append (csv, ",normal,13700000005,,\n");                           /* 7 */
  g_string_append (csv, "周杰,gold,13700000006,,\"多行备注\n第二行\"\n");      /* 8-9 */
  g_string_append (csv, "孙丽,normal,not-a-phone,,\n");                       /* 10 */
  g_string_append (csv, "\xff\xfe坏,normal,13700000007,,\n");                 /* 11 */
  g_string_append (csv, "吴磊,new,13700000008,wu@@example.com,\n");           /* 12 */
  g_string_append (csv, "郑凯,normal,13700000009,,\n");                       /* 13 */
  g_string_append (csv, "何平,normal,13700000010,,\"never closed\n");         /* 14 */
  g_string_append (csv, "孔明,normal,13700000011,,\n");                       /* 15 */
  path = write_file (cli, "mixed.csv", csv->str, csv->len);

  /* Some rows were taken: that is a success with problems, not a failure. */
  g_assert_cmpint (cli_run (cli, "import", "customers", path, NULL), ==, 0);
  g_assert_nonnull (strstr (cli->out, "3 customers imported, 9 rows rejected"));

  assert_problem (cli->err, 3, "phones");
  assert_problem (cli->err, 4, "name");
  assert_problem (cli->err, 4, "200");
  assert_problem (cli->err, 5, "tier");
  assert_problem (cli->err, 5, "platinum");
  assert_problem (cli->err, 6, "6 cells");
  assert_problem (cli->err, 7, "name");
  assert_problem (cli->err, 10, "phones");
  assert_problem (cli->err, 11, "UTF-8");
  assert_problem (cli->err, 12, "emails");
  /* the open quote swallows line 15: it is reported, not imported */
  assert_problem (cli->err, 14, "never closed");
  /* every problem names the file, for logs of several imports */
  {
    g_autofree char *text = problem_line (cli->err, 3);

    g_assert_true (g_str_has_prefix (text, path));
  }
  g_assert_null (strstr (cli->err, ": line 2: "));
  g_assert_null (strstr (cli->err, ": line 13: "));

  {
    g_autoptr(JsonObject) zhang = only_customer_with_phone (cli, cli->admin, "13700000001");
    g_autoptr(JsonObject) zheng = only_customer_with_phone (cli, cli->admin, "13700000009");

    g_assert_cmpstr (json_object_get_string_member (zhang, "name"), ==, "张伟");
    g_assert_cmpstr (json_object_get_string_member (zheng, "name"), ==, "郑凯");
  }
  zhou = only_customer_with_phone (cli, cli->admin, "13700000006");
  g_assert_cmpstr (json_object_get_string_member (zhou, "notes"), ==, "多行备注\n第二行");

  /* nothing of a bad row was stored */
  for (guint i = 2; i <= 5; i++)
    {
      g_autofree char *phone = g_strdup_printf ("1370000000%u", i);
      g_autoptr(JsonArray) none = customers_with_phone (cli, cli->admin, phone);

      g_assert_cmpuint (json_array_get_length (none), ==, 0);
    }
  {
    g_autoptr(JsonArray) none = customers_with_phone (cli, cli->admin, "13700000011");

    g_assert_cmpuint (json_array_get_length (none), ==, 0);
  }
  g_assert_cmpuint (count_customers (cli), ==, 3);
  cli_free (cli);
}

static void
test_import_bad_header (void)
{
  Cli *cli = cli_start ();
  g_autofree char *unknown = write_file (cli, "unknown.csv",
                                         "name,phone,emails\n张三,13800000000,\n李四,13800000001,\n",
                                         -1);
  g_autofree char *nameless = write_file (cli, "nameless.csv",
                                          "company,phones\n华信,13800000000\n", -1);
  g_autofree char *empty = write_file (cli, "empty.csv", "", 0);

  /* One wrong column refuses the whole file: half an import is worse. */
  g_assert_cmpint (cli_run (cli, "import", "customers", unknown, NULL), !=, 0);
  g_assert_nonnull (strstr (cli->err, "unknown column “phone”"));
  g_assert_nonnull (strstr (cli->err, "phones"));
  g_assert_nonnull (strstr (cli->err, "nothing was imported"));
  g_assert_null (strstr (cli->out, "imported"));

  g_assert_cmpint (cli_run (cli, "import", "customers", nameless, NULL), !=, 0);
  g_assert_nonnull (strstr (cli->err, "“name”"));

  g_assert_cmpint (cli_run (cli, "import", "customers", empty, NULL), !=, 0);
  g_assert_nonnull (strstr (cli->err, "empty"));

  g_assert_cmpuint (count_customers (cli), ==, 0);
  cli_free (cli);
}

static void
test_import_missing_file (void)
{
  Cli *cli = cli_start ();
  g_autofree char *path = g_build_filename (cli->server->dir, "no-such-file.csv", NULL);

  g_assert_cmpint (cli_run (cli, "import", "customers", path, NULL), !=, 0);
  g_assert_nonnull (strstr (cli->err, "no-such-file.csv"));
  g_assert_nonnull (strstr (cli->err, "no such file"));

  g_assert_cmpint (cli_run (cli, "import", "contacts", path, NULL), ==, 2);
  g_assert_nonnull (strstr (cli->err, "usage"));
  cli_free (cli);
}

/* --- demo data --------------------------------------------------------------------- */

static char *
login (Cli        *cli,
       const char *username,
       const char *password)
{
  g_autofree char *body = g_strdup_printf ("{\"username\": \"%s\", \"password\": \"%s\"}",
                                           username, password);
  g_autoptr(KefuTestResponse) response = kefu_test_request (cli->server, "POST", "/v1/sessions",
                                                            NULL, body);

  if (response->status != 201)
    g_error ("login as %s/%s failed (%u): %s", username, password, response->status,
             response->body);
  return g_strdup (json_object_get_string_member (kefu_test_response_object (response), "token"));
}

static char *
shanghai_date (gint64 days_ago)
{
  g_autoptr(GTimeZone) tz = g_time_zone_new_offset (8 * 3600);
  g_autoptr(GDateTime) now = g_date_time_new_now (tz);
  g_autoptr(GDateTime) day = g_date_time_add_days (now, (int) -days_ago);

  return g_date_time_format (day, "%Y-%m-%d");
}

static void
test_demo_data (void)
{
  Cli *cli = cli_start ();
  g_autofree char *lead = NULL;
  g_autofree char *agent = NULL;
  g_autofree char *from = shanghai_date (6);
  g_autofree char *to = shanghai_date (0);
  g_autofree char *report_path = NULL;
  g_autoptr(JsonArray) queues = NULL;
  g_autoptr(JsonArray) sample = NULL;
  g_autoptr(JsonArray) calls = NULL;
  g_autoptr(GHashTable) queue_names = g_hash_table_new (g_str_hash, g_str_equal);
  guint busy_days = 0, chinese = 0, english = 0;
  gint64 offered = 0, answered = 0;

  g_assert_cmpint (cli_run (cli, "demo-data", "--customers", "200", "--days", "7", "--seed", "1",
                            NULL), ==, 0);
  g_assert_nonnull (strstr (cli->out, "Demo data ready: 200 customers, 7 days"));
  g_assert_nonnull (strstr (cli->out, "lead"));
  g_assert_nonnull (strstr (cli->out, "lead-demo"));
  g_assert_nonnull (strstr (cli->out, "agent-demo"));
  /* the harness's own "admin" was there first and is left alone */
  g_assert_nonnull (strstr (cli->err, "“admin” exists already"));

  /* The printed logins work. */
  lead = login (cli, "lead", "lead-demo");
  agent = login (cli, "agent1", "agent-demo");

  /* Reports have a week of calls: every day but maybe today, early. */
  report_path = g_strdup_printf ("/v1/reports/calls?interval=day&from=%s&to=%s", from, to);
  {
    g_autoptr(KefuTestResponse) report = kefu_test_request (cli->server, "GET", report_path, lead,
                                                            NULL);
    JsonArray *rows;

    g_assert_cmpuint (report->status, ==, 200);
    rows = json_object_get_array_member (kefu_test_response_object (report), "rows");
    g_assert_cmpuint (json_array_get_length (rows), ==, 7);
    for (guint i = 0; i < json_array_get_length (rows); i++)
      {
        JsonObject *row = json_array_get_object_element (rows, i);

        offered += json_object_get_int_member (row, "offered");
        answered += json_object_get_int_member (row, "answered");
        if (json_object_get_int_member (row, "offered") > 0 &&
            json_object_get_int_member (row, "answered") > 0)
          busy_days++;
      }
  }
  g_assert_cmpuint (busy_days, >=, 5);
  g_assert_cmpint (offered, >=, 1000);
  /* some callers give up, most are answered */
  g_assert_cmpint (answered, <, offered);
  g_assert_cmpint (answered, >, offered * 7 / 10);

  /* Agents' logged-in time is there: occupancy is a figure, not null. */
  {
    g_autofree char *path = g_strdup_printf ("/v1/reports/calls?interval=total&by=agent&"
                                             "agent=agent1&from=%s&to=%s", from, to);
    g_autoptr(KefuTestResponse) report = kefu_test_request (cli->server, "GET", path, lead, NULL);
    JsonArray *rows;
    JsonObject *row;

    g_assert_cmpuint (report->status, ==, 200);
    rows = json_object_get_array_member (kefu_test_response_object (report), "rows");
    g_assert_cmpuint (json_array_get_length (rows), ==, 1);
    row = json_array_get_object_element (rows, 0);
    g_assert_cmpstr (json_object_get_string_member (row, "agent"), ==, "agent1");
    g_assert_cmpint (json_object_get_int_member (row, "answered"), >, 0);
    g_assert_false (json_object_get_null_member (row, "occupancy"));
    g_assert_cmpfloat (json_object_get_double_member (row, "occupancy"), >, 0.1);
    g_assert_cmpfloat (json_object_get_double_member (row, "occupancy"), <=, 1.0);
  }

  /* The four queues. */
  queues = get_items (cli, agent, "/v1/queues");
  for (guint i = 0; i < json_array_get_length (queues); i++)
    {
      JsonObject *queue = json_array_get_object_element (queues, i);

      g_hash_table_add (queue_names, (gpointer) json_object_get_string_member (queue, "name"));
    }
  g_assert_true (g_hash_table_contains (queue_names, "sales"));
  g_assert_true (g_hash_table_contains (queue_names, "support"));
  g_assert_true (g_hash_table_contains (queue_names, "billing"));
  g_assert_true (g_hash_table_contains (queue_names, "vip"));

  /* Customers: both kinds of names, found by name and by number, and a
   * number finds exactly one customer. */
  sample = get_items (cli, agent, "/v1/customers?limit=60");
  g_assert_cmpuint (json_array_get_length (sample), ==, 60);
  for (guint i = 0; i < json_array_get_length (sample); i++)
    {
      JsonObject *customer = json_array_get_object_element (sample, i);
      const char *name = json_object_get_string_member (customer, "name");
      gboolean ascii = TRUE;

      for (const char *p = name; *p; p++)
        ascii = ascii && (guchar) *p < 0x80;
      if (ascii)
        english++;
      else
        chinese++;
    }
  g_assert_cmpuint (chinese, >, 0);
  g_assert_cmpuint (english, >, 0);

  for (guint i = 0; i < 5; i++)
    {
      JsonObject *customer = json_array_get_object_element (sample, i * 11);
      const char *name = json_object_get_string_member (customer, "name");
      JsonArray *phones = json_object_get_array_member (customer, "phones");
      const char *phone = json_array_get_string_element (phones, 0);
      g_autofree char *first_char = g_utf8_substring (name, 0, 1);
      g_autofree char *escaped = g_uri_escape_string (first_char, NULL, FALSE);
      g_autofree char *search = g_strdup_printf ("/v1/customers?q=%s&limit=500", escaped);
      g_autoptr(JsonArray) found = get_items (cli, agent, search);
      g_autoptr(JsonObject) by_phone = only_customer_with_phone (cli, agent, phone);
      gboolean seen = FALSE;

      g_assert_true (g_str_has_prefix (phone, "+"));
      for (guint j = 0; j < json_array_get_length (found); j++)
        {
          JsonObject *match = json_array_get_object_element (found, j);

          seen = seen || json_object_get_int_member (match, "id") ==
                         json_object_get_int_member (customer, "id");
        }
      g_assert_true (seen);
      g_assert_cmpint (json_object_get_int_member (by_phone, "id"), ==,
                       json_object_get_int_member (customer, "id"));
    }

  /* The demo agents' phones can register with the demo switch. */
  {
    g_autofree char *service = login (cli, "service", KEFU_TEST_PASSWORD);
    g_autoptr(KefuTestResponse) r = kefu_test_request (cli->server, "GET", "/v1/sip/credentials",
                                                       service, NULL);
    g_autofree char *ha1 = g_compute_checksum_for_string (G_CHECKSUM_MD5,
                                                          "1001:kefu:phone-1001", -1);
    JsonArray *items;
    gboolean found = FALSE;

    g_assert_cmpuint (r->status, ==, 200);
    g_assert_nonnull (strstr (cli->out, "SIP password phone-<extension>"));
    items = json_object_get_array_member (kefu_test_response_object (r), "items");
    g_assert_cmpuint (json_array_get_length (items), >=, 3);
    for (guint i = 0; i < json_array_get_length (items); i++)
      {
        JsonObject *item = json_array_get_object_element (items, i);

        if (g_str_equal (json_object_get_string_member (item, "username"), "agent1"))
          {
            g_assert_cmpstr (json_object_get_string_member (item, "extension"), ==, "1001");
            g_assert_cmpstr (json_object_get_string_member (item, "ha1"), ==, ha1);
            found = TRUE;
          }
      }
    g_assert_true (found);
  }

  /* Call records are there for the calls. */
  calls = get_items (cli, agent, "/v1/calls?limit=5");
  g_assert_cmpuint (json_array_get_length (calls), ==, 5);
  g_assert_nonnull (json_object_get_string_member (json_array_get_object_element (calls, 0),
                                                   "caller"));

  /* Run again: it adds, and what was there stays findable. */
  g_assert_cmpint (cli_run (cli, "demo-data", "--customers", "50", "--days", "2", "--seed", "1",
                            NULL), ==, 0);
  g_assert_nonnull (strstr (cli->err, "“lead” exists already"));
  g_assert_cmpuint (count_customers (cli), ==, 250);
  {
    JsonArray *phones = json_object_get_array_member (json_array_get_object_element (sample, 0),
                                                      "phones");
    const char *phone = json_array_get_string_element (phones, 0);
    g_autoptr(JsonObject) still = only_customer_with_phone (cli, agent, phone);
  }
  {
    g_autofree char *again = login (cli, "lead", "lead-demo");
  }
  cli_free (cli);
}

/* --- users, config, init ---------------------------------------------------------------- */

static void
test_user_add_errors (void)
{
  Cli *cli = cli_start ();

  g_assert_cmpint (cli_run (cli, "user", "add", "bob", "--role", "wizard", "--password",
                            "secret-pass", NULL), !=, 0);
  g_assert_nonnull (strstr (cli->err, "“wizard”"));
  g_assert_nonnull (strstr (cli->err, "supervisor"));

  g_assert_cmpint (cli_run (cli, "user", "add", "agent", "--role", "agent", "--password",
                            "another-pass", NULL), !=, 0);
  g_assert_nonnull (strstr (cli->err, "agent"));
  g_assert_nonnull (strstr (cli->err, "already taken"));

  g_assert_cmpint (cli_run (cli, "user", "add", "bob", NULL), ==, 2);
  g_assert_nonnull (strstr (cli->err, "--role"));

  /* none of them was added: bob cannot log in */
  {
    g_autoptr(KefuTestResponse) response =
      kefu_test_request (cli->server, "POST", "/v1/sessions", NULL,
                         "{\"username\": \"bob\", \"password\": \"secret-pass\"}");

    g_assert_cmpuint (response->status, ==, 401);
  }
  cli_free (cli);
}

static void
test_init_fresh_database (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("kefu-test-init-XXXXXX", &error);
  g_autofree char *db_path = NULL;
  g_autofree char *conninfo = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  const char *pg = g_getenv ("KEFU_TEST_PG");
  gboolean postgresql = g_strcmp0 (g_getenv ("KEFU_TEST_BACKEND"), "postgresql") == 0;
  g_autofree char *schema_text = g_strdup_printf ("schema version %d", KEFU_STORE_SCHEMA_VERSION);

  g_assert_no_error (error);
  db_path = g_build_filename (dir, "fresh.db", NULL);
  if (postgresql)
    {
      g_autoptr(KefuDb) db = kefu_db_pg_new (pg);
      KefuDbConn *conn = kefu_db_acquire (db, &error);

      /* A schema of its own is a database nobody has initialised. */
      g_assert_no_error (error);
      kefu_db_exec_script (conn, "DROP SCHEMA IF EXISTS kefu_cli_fresh CASCADE; "
                                 "CREATE SCHEMA kefu_cli_fresh;", &error);
      g_assert_no_error (error);
      kefu_db_release (db, conn);
      conninfo = g_strdup_printf ("%s options='-csearch_path=kefu_cli_fresh'", pg);
    }

  for (guint run = 0; run < 2; run++)
    {
      const char *sqlite_args[] = { "--database", db_path, "init", NULL };
      const char *pg_args[] = { "--postgresql", conninfo, "init", NULL };

      g_clear_pointer (&out, g_free);
      g_clear_pointer (&err, g_free);
      /* the second time it finds the schema there and says so again */
      assert_exit_status (run_binary (postgresql ? pg_args : sqlite_args, &out, &err), 0, err);
      g_assert_nonnull (strstr (out, schema_text));
      g_assert_nonnull (strstr (out, postgresql ? "PostgreSQL" : "fresh.db"));
    }
  if (postgresql)
    {
      g_autoptr(KefuDb) db = kefu_db_pg_new (pg);
      KefuDbConn *conn = kefu_db_acquire (db, &error);

      g_assert_no_error (error);
      kefu_db_exec_script (conn, "DROP SCHEMA kefu_cli_fresh CASCADE;", &error);
      g_assert_no_error (error);
      kefu_db_release (db, conn);
    }
  else
    {
      g_assert_true (g_file_test (db_path, G_FILE_TEST_IS_REGULAR));
    }

  kefu_test_remove_tree (dir);
}

static void
test_config_unknown_key (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("kefu-test-config-XXXXXX", &error);
  g_autofree char *bad_key = g_build_filename (dir, "bad-key.conf", NULL);
  g_autofree char *bad_section = g_build_filename (dir, "bad-section.conf", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  g_assert_no_error (error);
  g_file_set_contents (bad_key, "[server]\ntimezone = Asia/Shanghai\nlisten_port = 8080\n", -1,
                       &error);
  g_assert_no_error (error);
  g_file_set_contents (bad_section, "[database]\npath = kefu.db\n", -1, &error);
  g_assert_no_error (error);

  /* A typo in the settings stops the server before it touches anything. */
  assert_exit_status (run_binary ((const char *[]) { "--config", bad_key, "init", NULL }, &out,
                                  &err), 2, err);
  g_assert_nonnull (strstr (err, "[server]"));
  g_assert_nonnull (strstr (err, "“listen_port”"));
  g_assert_nonnull (strstr (err, "listen"));

  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  assert_exit_status (run_binary ((const char *[]) { "--config", bad_section, "init", NULL }, &out,
                                  &err), 2, err);
  g_assert_nonnull (strstr (err, "[database]"));

  kefu_test_remove_tree (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  kefu_test_kill_server_on_abort ();

  g_test_add_func ("/server/cli/import/good", test_import_good);
  g_test_add_func ("/server/cli/import/bad-rows", test_import_bad_rows);
  g_test_add_func ("/server/cli/import/bad-header", test_import_bad_header);
  g_test_add_func ("/server/cli/import/missing-file", test_import_missing_file);
  g_test_add_func ("/server/cli/demo-data", test_demo_data);
  g_test_add_func ("/server/cli/user-add/errors", test_user_add_errors);
  g_test_add_func ("/server/cli/init/fresh-database", test_init_fresh_database);
  g_test_add_func ("/server/cli/config/unknown-key", test_config_unknown_key);
  return g_test_run ();
}
