/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "TestRecord"

#include "config.h"

#include "kefu-record.h"

#include <glib.h>
#include <json-glib/json-glib.h>
#include <string.h>

/*
 * What the server refuses before anything reaches the store: every kind's
 * fields, by type, each refusal naming the field a client has to fix.
 */

/* A kind with one field of every type, so each validator is reached even
 * where no real record uses the type (no kind has a yes/no field yet). */
static const char * const probe_colours[] = { "red", "green", NULL };

static const KefuField probe_fields[] = {
  { "id",        KEFU_FIELD_INT,         KEFU_FIELD_READ_ONLY, 0, NULL, 0, 0, NULL },
  { "label",     KEFU_FIELD_STRING,      KEFU_FIELD_REQUIRED, 10, NULL, 0, 0, NULL },
  { "body",      KEFU_FIELD_TEXT,        0, 600, NULL, 0, 0, NULL },
  { "colour",    KEFU_FIELD_ENUM,        0, 0, probe_colours, 0, 0, NULL },
  { "count",     KEFU_FIELD_INT,         0, 0, NULL, -5, 5, NULL },
  { "ratio",     KEFU_FIELD_NUMBER,      0, 0, NULL, 0, 1, NULL },
  { "unbounded", KEFU_FIELD_NUMBER,      0, 0, NULL, 0, 0, NULL },
  { "enabled",   KEFU_FIELD_BOOL,        0, 0, NULL, 0, 0, NULL },
  { "at",        KEFU_FIELD_TIMESTAMP,   0, 0, NULL, 0, 0, NULL },
  { "words",     KEFU_FIELD_STRING_LIST, 0, 3, NULL, 0, 0, NULL },
  { "phones",    KEFU_FIELD_PHONE_LIST,  0, 3, NULL, 0, 0, NULL },
  { "emails",    KEFU_FIELD_EMAIL_LIST,  0, 3, NULL, 0, 0, NULL },
  { "skills",    KEFU_FIELD_SKILLS,      0, 2, NULL, 1, 100, NULL },
  { "extra",     KEFU_FIELD_OBJECT,      0, 40, NULL, 0, 0, NULL },
  { "handle",    KEFU_FIELD_STRING,      KEFU_FIELD_NAME_CHARS, 16, NULL, 0, 0, NULL },
};

static const KefuRecordKind probe_kind = {
  "probe", "probes", probe_fields, G_N_ELEMENTS (probe_fields)
};

static JsonObject *
decode_ok (const KefuRecordKind *kind,
           KefuRecordMode        mode,
           const char           *json)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *field = NULL;
  JsonObject *object = kefu_record_decode (kind, json, -1, mode, "CN", &field, &error);

  if (error)
    g_test_message ("refused %s: %s", json, error->message);
  g_assert_no_error (error);
  g_assert_nonnull (object);
  g_assert_null (field);
  return object;
}

/* Checks the code, that *out_field names the field, and that the message
 * a user reads names it too. */
static void
assert_refused (const KefuRecordKind *kind,
                KefuRecordMode        mode,
                const char           *json,
                KefuRecordError       code,
                const char           *field_name)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *field = NULL;
  g_autoptr(JsonObject) object = NULL;

  g_test_message ("%s %s", kind->name, json);
  object = kefu_record_decode (kind, json, -1, mode, "CN", &field, &error);
  g_assert_null (object);
  g_assert_error (error, KEFU_RECORD_ERROR, (int) code);
  if (field_name)
    {
      g_autofree char *quoted = g_strdup_printf ("“%s”", field_name);

      g_assert_cmpstr (field, ==, field_name);
      g_assert_nonnull (strstr (error->message, quoted));
    }
}

static void
assert_message_contains (const KefuRecordKind *kind,
                         const char           *json,
                         const char           *part)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) object = kefu_record_decode (kind, json, -1, KEFU_RECORD_CREATE, "CN",
                                                     NULL, &error);

  g_assert_null (object);
  g_assert_nonnull (error);
  if (!strstr (error->message, part))
    g_error ("“%s” does not mention “%s”", error->message, part);
}

static char *
repeat (const char *unit,
        guint       times)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < times; i++)
    g_string_append (out, unit);
  return g_string_free (out, FALSE);
}

static void
test_record_syntax (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) object = NULL;
  g_autoptr(JsonNode) array = json_from_string ("[1, 2]", NULL);

  assert_refused (&kefu_record_customer, KEFU_RECORD_CREATE, "{\"name\": ",
                  KEFU_RECORD_ERROR_SYNTAX, NULL);
  assert_refused (&kefu_record_customer, KEFU_RECORD_CREATE, "[{\"name\": \"x\"}]",
                  KEFU_RECORD_ERROR_SYNTAX, NULL);
  assert_refused (&kefu_record_customer, KEFU_RECORD_CREATE, "\"Zhang Wei\"",
                  KEFU_RECORD_ERROR_SYNTAX, NULL);
  assert_refused (&kefu_record_customer, KEFU_RECORD_CREATE, "", KEFU_RECORD_ERROR_SYNTAX, NULL);

  object = kefu_record_decode (&kefu_record_customer, NULL, 0, KEFU_RECORD_CREATE, "CN", NULL,
                               &error);
  g_assert_null (object);
  g_assert_error (error, KEFU_RECORD_ERROR, KEFU_RECORD_ERROR_SYNTAX);
  g_clear_error (&error);

  object = kefu_record_validate (&kefu_record_customer, array, KEFU_RECORD_CREATE, "CN", NULL,
                                 &error);
  g_assert_null (object);
  g_assert_error (error, KEFU_RECORD_ERROR, KEFU_RECORD_ERROR_SYNTAX);
  g_clear_error (&error);

  /* Only the given length is read: what follows is not part of the body. */
  object = kefu_record_decode (&kefu_record_customer, "{\"name\": \"Li\"}garbage", 14,
                               KEFU_RECORD_CREATE, "CN", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (kefu_json_get_string (object, "name"), ==, "Li");
}

static void
test_record_customer_accepted (void)
{
  g_autoptr(JsonObject) customer = decode_ok (&kefu_record_customer, KEFU_RECORD_CREATE,
    "{\"name\": \"张伟\", \"company\": \"北京客服有限公司\", \"tier\": \"vip\","
    " \"owner\": \"agent\", \"phones\": [\"010-12345678\", \"+86 138 0013 8000\"],"
    " \"emails\": [\"zhang.wei+billing@example.com.cn\"], \"tags\": [\"回访\", \"billing\"],"
    " \"notes\": \"Prefers calls after 14:00.\\nSpeaks Cantonese.\\tAsk for Mr Zhang.\","
    " \"account_number\": \"8800123\"}");
  JsonArray *phones = json_object_get_array_member (customer, "phones");

  g_assert_cmpuint (json_object_get_size (customer), ==, 9);
  g_assert_cmpstr (kefu_json_get_string (customer, "name"), ==, "张伟");
  g_assert_cmpstr (kefu_json_get_string (customer, "tier"), ==, "vip");
  g_assert_cmpuint (json_array_get_length (phones), ==, 2);
  g_assert_cmpstr (json_array_get_string_element (phones, 0), ==, "+861012345678");
  g_assert_cmpstr (json_array_get_string_element (phones, 1), ==, "+8613800138000");
  g_assert_cmpstr (kefu_json_get_string (customer, "notes"), ==,
                   "Prefers calls after 14:00.\nSpeaks Cantonese.\tAsk for Mr Zhang.");
}

/* Every field type with a right and a wrong value. */
static void
test_record_field_types (void)
{
  static const struct {
    const char      *json;
    KefuRecordError  code;
    const char      *field;
  } refused[] = {
    { "{\"label\": 7}", KEFU_RECORD_ERROR_WRONG_TYPE, "label" },
    { "{\"label\": [\"x\"]}", KEFU_RECORD_ERROR_WRONG_TYPE, "label" },
    { "{\"label\": \"x\", \"body\": {}}", KEFU_RECORD_ERROR_WRONG_TYPE, "body" },
    { "{\"label\": \"x\", \"colour\": 1}", KEFU_RECORD_ERROR_WRONG_TYPE, "colour" },
    { "{\"label\": \"x\", \"colour\": \"blue\"}", KEFU_RECORD_ERROR_INVALID_VALUE, "colour" },
    { "{\"label\": \"x\", \"colour\": \"Red\"}", KEFU_RECORD_ERROR_INVALID_VALUE, "colour" },
    { "{\"label\": \"x\", \"count\": \"3\"}", KEFU_RECORD_ERROR_WRONG_TYPE, "count" },
    { "{\"label\": \"x\", \"count\": 2.5}", KEFU_RECORD_ERROR_WRONG_TYPE, "count" },
    { "{\"label\": \"x\", \"count\": 3.0}", KEFU_RECORD_ERROR_WRONG_TYPE, "count" },
    { "{\"label\": \"x\", \"count\": true}", KEFU_RECORD_ERROR_WRONG_TYPE, "count" },
    { "{\"label\": \"x\", \"count\": 6}", KEFU_RECORD_ERROR_INVALID_VALUE, "count" },
    { "{\"label\": \"x\", \"count\": -6}", KEFU_RECORD_ERROR_INVALID_VALUE, "count" },
    { "{\"label\": \"x\", \"ratio\": \"0.5\"}", KEFU_RECORD_ERROR_WRONG_TYPE, "ratio" },
    { "{\"label\": \"x\", \"ratio\": 1.0001}", KEFU_RECORD_ERROR_INVALID_VALUE, "ratio" },
    { "{\"label\": \"x\", \"ratio\": -0.1}", KEFU_RECORD_ERROR_INVALID_VALUE, "ratio" },
    { "{\"label\": \"x\", \"enabled\": \"true\"}", KEFU_RECORD_ERROR_WRONG_TYPE, "enabled" },
    { "{\"label\": \"x\", \"enabled\": 1}", KEFU_RECORD_ERROR_WRONG_TYPE, "enabled" },
    { "{\"label\": \"x\", \"at\": 1764063000}", KEFU_RECORD_ERROR_WRONG_TYPE, "at" },
    { "{\"label\": \"x\", \"at\": \"yesterday\"}", KEFU_RECORD_ERROR_INVALID_VALUE, "at" },
    { "{\"label\": \"x\", \"at\": \"2026-13-01T00:00:00Z\"}",
      KEFU_RECORD_ERROR_INVALID_VALUE, "at" },
    { "{\"label\": \"x\", \"words\": \"one\"}", KEFU_RECORD_ERROR_WRONG_TYPE, "words" },
    { "{\"label\": \"x\", \"words\": [\"one\", 2]}", KEFU_RECORD_ERROR_WRONG_TYPE, "words[1]" },
    { "{\"label\": \"x\", \"words\": [\"a\", \"b\", \"c\", \"d\"]}",
      KEFU_RECORD_ERROR_TOO_LONG, "words" },
    { "{\"label\": \"x\", \"phones\": \"010-12345678\"}", KEFU_RECORD_ERROR_WRONG_TYPE, "phones" },
    { "{\"label\": \"x\", \"phones\": [\"010-12345678\", 13800138000]}",
      KEFU_RECORD_ERROR_WRONG_TYPE, "phones[1]" },
    { "{\"label\": \"x\", \"phones\": [\"010-12345678\", \"call me\"]}",
      KEFU_RECORD_ERROR_INVALID_VALUE, "phones[1]" },
    { "{\"label\": \"x\", \"phones\": [\"12\"]}", KEFU_RECORD_ERROR_INVALID_VALUE, "phones[0]" },
    { "{\"label\": \"x\", \"emails\": [\"li@example.com\", \"li at example\"]}",
      KEFU_RECORD_ERROR_INVALID_VALUE, "emails[1]" },
    { "{\"label\": \"x\", \"emails\": [null]}", KEFU_RECORD_ERROR_WRONG_TYPE, "emails[0]" },
    { "{\"label\": \"x\", \"skills\": [\"billing\"]}", KEFU_RECORD_ERROR_WRONG_TYPE, "skills" },
    { "{\"label\": \"x\", \"skills\": {\"billing\": \"high\"}}", KEFU_RECORD_ERROR_WRONG_TYPE,
      "skills.billing" },
    { "{\"label\": \"x\", \"extra\": \"text\"}", KEFU_RECORD_ERROR_WRONG_TYPE, "extra" },
    { "{\"label\": \"x\", \"extra\": [1]}", KEFU_RECORD_ERROR_WRONG_TYPE, "extra" },
    { "{\"label\": \"x\", \"extra\": {\"note\": \"this object is longer than forty bytes\"}}",
      KEFU_RECORD_ERROR_TOO_LONG, "extra" },
    { "{\"label\": \"x\", \"handle\": \"Zhang\"}", KEFU_RECORD_ERROR_INVALID_VALUE, "handle" },
    { "{\"label\": \"x\", \"handle\": \"zhang wei\"}", KEFU_RECORD_ERROR_INVALID_VALUE, "handle" },
    { "{\"label\": \"x\", \"handle\": \"\"}", KEFU_RECORD_ERROR_INVALID_VALUE, "handle" },
  };
  g_autoptr(JsonObject) all = NULL;
  JsonObject *skills;

  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    assert_refused (&probe_kind, KEFU_RECORD_CREATE, refused[i].json, refused[i].code,
                    refused[i].field);

  all = decode_ok (&probe_kind, KEFU_RECORD_CREATE,
                   "{\"label\": \"ten chars!\", \"body\": \"free\\ntext\", \"colour\": \"green\","
                   " \"count\": -5, \"ratio\": 1, \"unbounded\": -12345.5, \"enabled\": false,"
                   " \"at\": \"2026-11-25T17:30:00+08:00\", \"words\": [\"a\", \"b\", \"c\"],"
                   " \"phones\": [\"0755-8765 4321\"], \"emails\": [\"王@例子.中国\"],"
                   " \"skills\": {\"billing\": 1, \"sales-2\": 100},"
                   " \"extra\": {\"wait_s\": 12}, \"handle\": \"zhang.wei_2-b\"}");
  g_assert_cmpint (kefu_json_get_int (all, "count", 0), ==, -5);
  /* numbers are numbers whichever way they were written */
  g_assert_cmpfloat (json_object_get_double_member (all, "ratio"), ==, 1.0);
  g_assert_cmpfloat (json_object_get_double_member (all, "unbounded"), ==, -12345.5);
  g_assert_false (json_object_get_boolean_member (all, "enabled"));
  /* times are stored in one spelling: UTC with Z */
  g_assert_cmpstr (kefu_json_get_string (all, "at"), ==, "2026-11-25T09:30:00Z");
  g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member (all, "phones"), 0),
                   ==, "+8675587654321");
  skills = json_object_get_object_member (all, "skills");
  g_assert_cmpint (json_object_get_int_member (skills, "billing"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (skills, "sales-2"), ==, 100);
  g_assert_cmpint (kefu_json_get_int (json_object_get_object_member (all, "extra"), "wait_s", 0),
                   ==, 12);
}

/* The same checks on the real kinds' fields, as the server meets them. */
static void
test_record_kind_fields (void)
{
  static const struct {
    const KefuRecordKind *kind;
    const char           *json;
    KefuRecordError       code;
    const char           *field;
  } refused[] = {
    { &kefu_record_customer, "{\"name\": 42}", KEFU_RECORD_ERROR_WRONG_TYPE, "name" },
    { &kefu_record_customer, "{\"name\": \"Li\", \"tier\": \"platinum\"}",
      KEFU_RECORD_ERROR_INVALID_VALUE, "tier" },
    { &kefu_record_customer, "{\"name\": \"Li\", \"phones\": [\"010-12345678\", \"Zhang Wei\"]}",
      KEFU_RECORD_ERROR_INVALID_VALUE, "phones[1]" },
    { &kefu_record_customer, "{\"name\": \"Li\", \"tags\": [\"ok\", false]}",
      KEFU_RECORD_ERROR_WRONG_TYPE, "tags[1]" },
    { &kefu_record_contact, "{\"name\": \"Li\", \"customer_id\": \"12\"}",
      KEFU_RECORD_ERROR_WRONG_TYPE, "customer_id" },
    { &kefu_record_contact, "{\"name\": \"Li\", \"customer_id\": 0}",
      KEFU_RECORD_ERROR_INVALID_VALUE, "customer_id" },
    { &kefu_record_case, "{\"customer_id\": 1, \"subject\": \"x\", \"priority\": \"asap\"}",
      KEFU_RECORD_ERROR_INVALID_VALUE, "priority" },
    { &kefu_record_case, "{\"customer_id\": 1, \"subject\": \"x\", \"status\": \"done\"}",
      KEFU_RECORD_ERROR_INVALID_VALUE, "status" },
    { &kefu_record_call, "{\"id\": \"c1\", \"direction\": \"sideways\"}",
      KEFU_RECORD_ERROR_INVALID_VALUE, "direction" },
    { &kefu_record_call, "{\"id\": \"c1\", \"direction\": \"inbound\", \"wait_s\": -1}",
      KEFU_RECORD_ERROR_INVALID_VALUE, "wait_s" },
    { &kefu_record_call, "{\"id\": \"c1\", \"direction\": \"inbound\", \"outcome\": \"lost\"}",
      KEFU_RECORD_ERROR_INVALID_VALUE, "outcome" },
    { &kefu_record_call, "{\"id\": \"c1\", \"direction\": \"inbound\", \"offered_at\": \"noon\"}",
      KEFU_RECORD_ERROR_INVALID_VALUE, "offered_at" },
    { &kefu_record_call, "{\"id\": 17, \"direction\": \"inbound\"}",
      KEFU_RECORD_ERROR_WRONG_TYPE, "id" },
    { &kefu_record_fax, "{\"direction\": \"inbound\", \"pages\": -1}",
      KEFU_RECORD_ERROR_INVALID_VALUE, "pages" },
    { &kefu_record_fax, "{\"direction\": \"inbound\", \"status\": \"lost\"}",
      KEFU_RECORD_ERROR_INVALID_VALUE, "status" },
    { &kefu_record_agent, "{\"username\": \"li\", \"role\": \"root\"}",
      KEFU_RECORD_ERROR_INVALID_VALUE, "role" },
    { &kefu_record_agent, "{\"username\": \"Li.Na\", \"role\": \"agent\"}",
      KEFU_RECORD_ERROR_INVALID_VALUE, "username" },
    { &kefu_record_agent, "{\"username\": \"li\", \"role\": \"agent\", \"skills\": \"billing\"}",
      KEFU_RECORD_ERROR_WRONG_TYPE, "skills" },
    { &kefu_record_agent, "{\"username\": \"li\", \"role\": \"agent\", \"skills\": {\"billing\": "
                          "0}}",
      KEFU_RECORD_ERROR_INVALID_VALUE, "skills.billing" },
    { &kefu_record_agent, "{\"username\": \"li\", \"role\": \"agent\", \"skills\": {\"billing\": "
                          "101}}",
      KEFU_RECORD_ERROR_INVALID_VALUE, "skills.billing" },
    { &kefu_record_agent, "{\"username\": \"li\", \"role\": \"agent\", \"skills\": {\"billing\": "
                          "50.5}}",
      KEFU_RECORD_ERROR_WRONG_TYPE, "skills.billing" },
    { &kefu_record_agent, "{\"username\": \"li\", \"role\": \"agent\", \"skills\": {\"Billing\": "
                          "50}}",
      KEFU_RECORD_ERROR_INVALID_VALUE, "skills.Billing" },
    { &kefu_record_agent, "{\"username\": \"li\", \"role\": \"agent\", \"skills\": {\"\": 50}}",
      KEFU_RECORD_ERROR_INVALID_VALUE, "skills." },
    { &kefu_record_queue, "{\"name\": \"billing\", \"sl_threshold_s\": 0}",
      KEFU_RECORD_ERROR_INVALID_VALUE, "sl_threshold_s" },
    { &kefu_record_queue, "{\"name\": \"billing\", \"sl_threshold_s\": 3601}",
      KEFU_RECORD_ERROR_INVALID_VALUE, "sl_threshold_s" },
    { &kefu_record_queue, "{\"name\": \"billing\", \"sl_threshold_s\": \"20\"}",
      KEFU_RECORD_ERROR_WRONG_TYPE, "sl_threshold_s" },
    { &kefu_record_queue, "{\"name\": \"billing\", \"sl_target\": 80}",
      KEFU_RECORD_ERROR_INVALID_VALUE, "sl_target" },
    { &kefu_record_queue, "{\"name\": \"billing\", \"sl_denominator\": \"offered\"}",
      KEFU_RECORD_ERROR_INVALID_VALUE, "sl_denominator" },
    { &kefu_record_queue, "{\"name\": \"billing\", \"priority\": 101}",
      KEFU_RECORD_ERROR_INVALID_VALUE, "priority" },
    { &kefu_record_queue, "{\"name\": \"billing\", \"strategy\": \"random\"}",
      KEFU_RECORD_ERROR_INVALID_VALUE, "strategy" },
    { &kefu_record_queue, "{\"name\": \"billing desk\"}", KEFU_RECORD_ERROR_INVALID_VALUE, "name" },
    { &kefu_record_event, "{\"type\": \"call.teleported\"}",
      KEFU_RECORD_ERROR_INVALID_VALUE, "type" },
    { &kefu_record_event, "{\"type\": \"call.offered\", \"data\": [1]}",
      KEFU_RECORD_ERROR_WRONG_TYPE, "data" },
    { &kefu_record_event, "{\"type\": \"call.offered\", \"ts\": \"soon\"}",
      KEFU_RECORD_ERROR_INVALID_VALUE, "ts" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    assert_refused (refused[i].kind, KEFU_RECORD_CREATE, refused[i].json, refused[i].code,
                    refused[i].field);

  /* The refusal of a choice says what the choices are. */
  assert_message_contains (&kefu_record_customer, "{\"name\": \"Li\", \"tier\": \"platinum\"}",
                           "vip, gold, normal, new");
  assert_message_contains (&kefu_record_agent,
                           "{\"username\": \"li\", \"role\": \"agent\", \"skills\": "
                           "{\"billing\": 101}}",
                           "1..100");
}

static void
test_record_enums (void)
{
  static const char * const tiers[] = { "vip", "gold", "normal", "new" };
  static const char * const outcomes[] = {
    "answered", "abandoned", "overflow", "callback", "voicemail", "busy", "no_answer", "failed",
    "transferred",
  };

  for (guint i = 0; i < G_N_ELEMENTS (tiers); i++)
    {
      g_autofree char *json = g_strdup_printf ("{\"name\": \"Li\", \"tier\": \"%s\"}", tiers[i]);
      g_autoptr(JsonObject) customer = decode_ok (&kefu_record_customer, KEFU_RECORD_CREATE, json);

      g_assert_cmpstr (kefu_json_get_string (customer, "tier"), ==, tiers[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (outcomes); i++)
    {
      g_autofree char *json = g_strdup_printf ("{\"id\": \"c-%u\", \"direction\": \"inbound\","
                                               " \"outcome\": \"%s\"}", i, outcomes[i]);
      g_autoptr(JsonObject) call = decode_ok (&kefu_record_call, KEFU_RECORD_CREATE, json);

      g_assert_cmpstr (kefu_json_get_string (call, "outcome"), ==, outcomes[i]);
    }
  for (guint i = 0; kefu_roles[i]; i++)
    {
      g_autofree char *json = g_strdup_printf ("{\"username\": \"u%u\", \"role\": \"%s\"}", i,
                                               kefu_roles[i]);
      g_autoptr(JsonObject) agent = decode_ok (&kefu_record_agent, KEFU_RECORD_CREATE, json);

      g_assert_cmpint (kefu_role_rank (kefu_json_get_string (agent, "role")), ==, (int) i);
    }
  for (guint i = 0; kefu_event_types[i]; i++)
    {
      g_autofree char *json = g_strdup_printf ("{\"type\": \"%s\"}", kefu_event_types[i]);
      g_autoptr(JsonObject) event = decode_ok (&kefu_record_event, KEFU_RECORD_CREATE, json);

      g_assert_cmpstr (kefu_json_get_string (event, "type"), ==, kefu_event_types[i]);
    }

  /* the ladder, and the machine beside it */
  g_assert_cmpint (kefu_role_rank ("agent"), <, kefu_role_rank ("supervisor"));
  g_assert_cmpint (kefu_role_rank ("supervisor"), <, kefu_role_rank ("teamlead"));
  g_assert_cmpint (kefu_role_rank ("teamlead"), <, kefu_role_rank ("admin"));
  g_assert_cmpint (kefu_role_rank ("root"), ==, -1);
  g_assert_cmpint (kefu_role_rank (NULL), ==, -1);
}

static void
test_record_unknown_field (void)
{
  assert_refused (&kefu_record_customer, KEFU_RECORD_CREATE,
                  "{\"name\": \"Li\", \"nickname\": \"Xiao Li\"}", KEFU_RECORD_ERROR_UNKNOWN_FIELD,
                  "nickname");
  /* also in a patch, and also when null */
  assert_refused (&kefu_record_customer, KEFU_RECORD_UPDATE, "{\"Name\": \"Li\"}",
                  KEFU_RECORD_ERROR_UNKNOWN_FIELD, "Name");
  assert_refused (&kefu_record_customer, KEFU_RECORD_UPDATE, "{\"nickname\": null}",
                  KEFU_RECORD_ERROR_UNKNOWN_FIELD, "nickname");
  /* a field of another kind is still unknown here */
  assert_refused (&kefu_record_contact, KEFU_RECORD_CREATE,
                  "{\"customer_id\": 1, \"name\": \"Li\", \"tier\": \"vip\"}",
                  KEFU_RECORD_ERROR_UNKNOWN_FIELD, "tier");
}

static void
test_record_missing_required (void)
{
  g_autoptr(JsonObject) patch = NULL;

  assert_refused (&kefu_record_customer, KEFU_RECORD_CREATE, "{}", KEFU_RECORD_ERROR_MISSING_FIELD,
                  "name");
  assert_refused (&kefu_record_customer, KEFU_RECORD_CREATE, "{\"company\": \"ACME\"}",
                  KEFU_RECORD_ERROR_MISSING_FIELD, "name");
  assert_refused (&kefu_record_contact, KEFU_RECORD_CREATE, "{\"name\": \"Li\"}",
                  KEFU_RECORD_ERROR_MISSING_FIELD, "customer_id");
  assert_refused (&kefu_record_case, KEFU_RECORD_CREATE, "{\"customer_id\": 3}",
                  KEFU_RECORD_ERROR_MISSING_FIELD, "subject");
  assert_refused (&kefu_record_case_note, KEFU_RECORD_CREATE, "{}",
                  KEFU_RECORD_ERROR_MISSING_FIELD, "body");
  assert_refused (&kefu_record_call, KEFU_RECORD_CREATE, "{\"direction\": \"inbound\"}",
                  KEFU_RECORD_ERROR_MISSING_FIELD, "id");
  assert_refused (&kefu_record_fax, KEFU_RECORD_CREATE, "{\"pages\": 2}",
                  KEFU_RECORD_ERROR_MISSING_FIELD, "direction");
  assert_refused (&kefu_record_agent, KEFU_RECORD_CREATE, "{\"username\": \"li\"}",
                  KEFU_RECORD_ERROR_MISSING_FIELD, "role");
  assert_refused (&kefu_record_queue, KEFU_RECORD_CREATE, "{\"strategy\": \"ring-all\"}",
                  KEFU_RECORD_ERROR_MISSING_FIELD, "name");
  assert_refused (&kefu_record_event, KEFU_RECORD_CREATE, "{\"call_id\": \"c1\"}",
                  KEFU_RECORD_ERROR_MISSING_FIELD, "type");
  /* a read-only echo of the field does not stand in for it */
  assert_refused (&kefu_record_case_note, KEFU_RECORD_CREATE, "{\"author\": \"li\"}",
                  KEFU_RECORD_ERROR_MISSING_FIELD, "body");

  /* a patch names only what changes */
  patch = decode_ok (&kefu_record_customer, KEFU_RECORD_UPDATE, "{\"company\": \"ACME\"}");
  g_assert_cmpuint (json_object_get_size (patch), ==, 1);
  g_clear_pointer (&patch, json_object_unref);
  patch = decode_ok (&kefu_record_customer, KEFU_RECORD_UPDATE, "{}");
  g_assert_cmpuint (json_object_get_size (patch), ==, 0);
}

/* Lengths are characters as people count them, not bytes. */
static void
test_record_too_long (void)
{
  g_autofree char *chinese_200 = repeat ("张", 200);
  g_autofree char *chinese_201 = repeat ("张", 201);
  g_autofree char *emoji_201 = repeat ("😀", 201);
  g_autofree char *ascii_41 = repeat ("9", 41);
  g_autofree char *tag_50 = repeat ("标", 50);
  g_autofree char *tag_51 = repeat ("标", 51);
  g_autofree char *username_65 = repeat ("a", 65);
  g_autofree char *local_250 = repeat ("x", 250);
  g_autofree char *json = NULL;
  g_autoptr(JsonObject) customer = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) refused = NULL;

  /* 200 characters are 600 bytes of UTF-8: still a name */
  json = g_strdup_printf ("{\"name\": \"%s\"}", chinese_200);
  customer = decode_ok (&kefu_record_customer, KEFU_RECORD_CREATE, json);
  g_assert_cmpuint (g_utf8_strlen (kefu_json_get_string (customer, "name"), -1), ==, 200);
  g_clear_pointer (&json, g_free);

  json = g_strdup_printf ("{\"name\": \"%s\"}", chinese_201);
  assert_refused (&kefu_record_customer, KEFU_RECORD_CREATE, json,
                  KEFU_RECORD_ERROR_TOO_LONG, "name");
  refused = kefu_record_decode (&kefu_record_customer, json, -1, KEFU_RECORD_CREATE, "CN", NULL,
                                &error);
  g_assert_null (refused);
  g_assert_nonnull (strstr (error->message, "201 characters"));
  g_assert_nonnull (strstr (error->message, "200"));
  g_clear_pointer (&json, g_free);

  /* characters outside the basic plane count once too */
  json = g_strdup_printf ("{\"name\": \"%s\"}", emoji_201);
  assert_refused (&kefu_record_customer, KEFU_RECORD_CREATE, json,
                  KEFU_RECORD_ERROR_TOO_LONG, "name");
  g_clear_pointer (&json, g_free);

  json = g_strdup_printf ("{\"name\": \"Li\", \"account_number\": \"%s\"}", ascii_41);
  assert_refused (&kefu_record_customer, KEFU_RECORD_CREATE, json, KEFU_RECORD_ERROR_TOO_LONG,
                  "account_number");
  g_clear_pointer (&json, g_free);

  json = g_strdup_printf ("{\"name\": \"Li\", \"tags\": [\"%s\"]}", tag_50);
  g_clear_pointer (&customer, json_object_unref);
  customer = decode_ok (&kefu_record_customer, KEFU_RECORD_CREATE, json);
  g_clear_pointer (&json, g_free);
  json = g_strdup_printf ("{\"name\": \"Li\", \"tags\": [\"ok\", \"%s\"]}", tag_51);
  assert_refused (&kefu_record_customer, KEFU_RECORD_CREATE, json, KEFU_RECORD_ERROR_TOO_LONG,
                  "tags[1]");
  g_clear_pointer (&json, g_free);

  json = g_strdup_printf ("{\"username\": \"%s\", \"role\": \"agent\"}", username_65);
  assert_refused (&kefu_record_agent, KEFU_RECORD_CREATE, json, KEFU_RECORD_ERROR_TOO_LONG,
                  "username");
  g_clear_pointer (&json, g_free);

  /* an address longer than 254 characters cannot be delivered */
  json = g_strdup_printf ("{\"name\": \"Li\", \"emails\": [\"%s@example.com\"]}", local_250);
  assert_refused (&kefu_record_customer, KEFU_RECORD_CREATE, json, KEFU_RECORD_ERROR_TOO_LONG,
                  "emails[0]");
  g_clear_pointer (&json, g_free);

  /* too many items: the list itself is named */
  {
    GString *phones = g_string_new ("{\"name\": \"Li\", \"phones\": [");

    for (guint i = 0; i < 21; i++)
      g_string_append_printf (phones, "%s\"138001380%02u\"", i ? ", " : "", i);
    g_string_append (phones, "]}");
    assert_refused (&kefu_record_customer, KEFU_RECORD_CREATE, phones->str,
                    KEFU_RECORD_ERROR_TOO_LONG, "phones");
    g_string_free (phones, TRUE);
  }
  {
    GString *skills = g_string_new ("{\"username\": \"li\", \"role\": \"agent\", \"skills\": {");

    for (guint i = 0; i < 201; i++)
      g_string_append_printf (skills, "%s\"q%u\": 50", i ? ", " : "", i);
    g_string_append (skills, "}}");
    assert_refused (&kefu_record_agent, KEFU_RECORD_CREATE, skills->str,
                    KEFU_RECORD_ERROR_TOO_LONG, "skills");
    g_string_free (skills, TRUE);
  }
  {
    g_autofree char *big = repeat ("x", 16400);

    json = g_strdup_printf ("{\"type\": \"call.ivr\", \"data\": {\"path\": \"%s\"}}", big);
    assert_refused (&kefu_record_event, KEFU_RECORD_CREATE, json,
                    KEFU_RECORD_ERROR_TOO_LONG, "data");
    g_clear_pointer (&json, g_free);
  }
  /* a note may be long */
  {
    g_autofree char *body = repeat ("很长的备注。", 3000);

    json = g_strdup_printf ("{\"body\": \"%s\"}", body);
    g_clear_pointer (&customer, json_object_unref);
    customer = decode_ok (&kefu_record_case_note, KEFU_RECORD_CREATE, json);
    g_clear_pointer (&json, g_free);
  }
}

/* What the server sets is ignored when a client echoes it back, even when
 * the echo is nonsense: a GET-modify-PUT round trip has to work. */
static void
test_record_read_only_ignored (void)
{
  g_autoptr(JsonObject) customer = decode_ok (&kefu_record_customer, KEFU_RECORD_CREATE,
    "{\"id\": 99, \"version\": 7, \"created_at\": \"2020-01-01T00:00:00Z\","
    " \"updated_at\": \"not a time\", \"name\": \"Li\"}");
  g_autoptr(JsonObject) agent = decode_ok (&kefu_record_agent, KEFU_RECORD_UPDATE,
    "{\"state\": \"flying\", \"state_reason\": 5, \"state_since\": null, \"name\": \"Li Na\"}");
  g_autoptr(JsonObject) kase = decode_ok (&kefu_record_case, KEFU_RECORD_UPDATE,
    "{\"notes\": [{\"body\": \"forged\"}], \"status\": \"resolved\"}");
  g_autoptr(JsonObject) fax = decode_ok (&kefu_record_fax, KEFU_RECORD_UPDATE,
    "{\"size\": 123456, \"content_type\": \"image/tiff\", \"pages\": 3}");
  g_autoptr(JsonObject) event = decode_ok (&kefu_record_event, KEFU_RECORD_CREATE,
    "{\"id\": 12, \"type\": \"call.offered\", \"call_id\": \"c1\", \"queue\": \"billing\"}");

  g_assert_cmpuint (json_object_get_size (customer), ==, 1);
  g_assert_true (json_object_has_member (customer, "name"));
  g_assert_cmpuint (json_object_get_size (agent), ==, 1);
  g_assert_cmpstr (kefu_json_get_string (agent, "name"), ==, "Li Na");
  g_assert_cmpuint (json_object_get_size (kase), ==, 1);
  g_assert_false (json_object_has_member (kase, "notes"));
  g_assert_cmpuint (json_object_get_size (fax), ==, 1);
  g_assert_cmpint (kefu_json_get_int (fax, "pages", 0), ==, 3);
  g_assert_false (json_object_has_member (event, "id"));
}

static void
test_record_write_only_password (void)
{
  /* The server needs the password to hash it; the store drops it. */
  g_autoptr(JsonObject) agent = decode_ok (&kefu_record_agent, KEFU_RECORD_CREATE,
    "{\"username\": \"li\", \"role\": \"agent\", \"password\": \"s3cret-password\"}");

  g_assert_cmpstr (kefu_json_get_string (agent, "password"), ==, "s3cret-password");
  assert_refused (&kefu_record_agent, KEFU_RECORD_CREATE,
                  "{\"username\": \"li\", \"role\": \"agent\", \"password\": 12345678}",
                  KEFU_RECORD_ERROR_WRONG_TYPE, "password");
}

static void
test_record_null (void)
{
  g_autoptr(JsonObject) patch = decode_ok (&kefu_record_customer, KEFU_RECORD_UPDATE,
    "{\"company\": null, \"phones\": null, \"tier\": null}");
  g_autoptr(JsonObject) created = decode_ok (&kefu_record_customer, KEFU_RECORD_CREATE,
    "{\"name\": \"Li\", \"emails\": null}");

  /* null clears an optional field: it is kept, as null, for the store */
  g_assert_cmpuint (json_object_get_size (patch), ==, 3);
  g_assert_true (JSON_NODE_HOLDS_NULL (json_object_get_member (patch, "company")));
  g_assert_true (JSON_NODE_HOLDS_NULL (json_object_get_member (patch, "phones")));
  g_assert_true (JSON_NODE_HOLDS_NULL (json_object_get_member (patch, "tier")));
  g_assert_true (JSON_NODE_HOLDS_NULL (json_object_get_member (created, "emails")));

  /* a required field cannot be cleared, on create or in a patch */
  assert_refused (&kefu_record_customer, KEFU_RECORD_CREATE, "{\"name\": null}",
                  KEFU_RECORD_ERROR_MISSING_FIELD, "name");
  assert_refused (&kefu_record_customer, KEFU_RECORD_UPDATE, "{\"name\": null}",
                  KEFU_RECORD_ERROR_MISSING_FIELD, "name");
  assert_refused (&kefu_record_agent, KEFU_RECORD_UPDATE, "{\"role\": null}",
                  KEFU_RECORD_ERROR_MISSING_FIELD, "role");
  assert_refused (&kefu_record_event, KEFU_RECORD_CREATE, "{\"type\": null}",
                  KEFU_RECORD_ERROR_MISSING_FIELD, "type");
  assert_message_contains (&kefu_record_customer, "{\"name\": null}", "null");
}

/* Whatever spelling a number arrives in, the record holds E.164. */
static void
test_record_phone_normalisation (void)
{
  g_autoptr(JsonObject) contact = decode_ok (&kefu_record_contact, KEFU_RECORD_CREATE,
    "{\"customer_id\": 7, \"name\": \"Li\", \"phones\": [\"010-12345678\", \"+86 10 1234 5678\","
    " \"008610 1234 5678\", \"（０１０）１２３４－５６７８\", \"138 0013 8000\"]}");
  JsonArray *phones = json_object_get_array_member (contact, "phones");
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) us = NULL;
  g_autofree char *field = NULL;

  g_assert_cmpuint (json_array_get_length (phones), ==, 5);
  for (guint i = 0; i < 4; i++)
    g_assert_cmpstr (json_array_get_string_element (phones, i), ==, "+861012345678");
  g_assert_cmpstr (json_array_get_string_element (phones, 4), ==, "+8613800138000");

  /* national numbers follow the default country the caller passes */
  us = kefu_record_decode (&kefu_record_customer,
                           "{\"name\": \"Bob\", \"phones\": [\"(212) 555-0100\", \"+86 10 1234 "
                           "5678\"]}",
                           -1, KEFU_RECORD_CREATE, "US", &field, &error);
  g_assert_no_error (error);
  phones = json_object_get_array_member (us, "phones");
  g_assert_cmpstr (json_array_get_string_element (phones, 0), ==, "+12125550100");
  g_assert_cmpstr (json_array_get_string_element (phones, 1), ==, "+861012345678");

  /* the phone module's reason reaches the user, with the item named */
  assert_refused (&kefu_record_customer, KEFU_RECORD_CREATE,
                  "{\"name\": \"Li\", \"phones\": [\"138 0013 8000\", \"12ab34\"]}",
                  KEFU_RECORD_ERROR_INVALID_VALUE, "phones[1]");
  assert_message_contains (&kefu_record_customer,
                           "{\"name\": \"Li\", \"phones\": [\"138 0013 8000\", \"12ab34\"]}",
                           "the letter “a”");
}

static void
test_record_emails (void)
{
  static const char * const good[] = {
    "li@example.com", "zhang.wei+billing@example.com.cn", "o'brien@example.ie",
    "王@例子.中国",
  };
  static const char * const bad[] = {
    "zhang.wei", "zhang@", "@example.com", "zhang@example", "zhang wei@example.com",
    "a@b@example.com", "Zhang <zhang@example.com>", "a@example.com;b@example.com",
    "a@example.com,b@example.com", "\"li\"@example.com", "li@exa\tmple.com",
  };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autofree char *json = g_strdup_printf ("{\"name\": \"Li\", \"emails\": [\"%s\"]}", good[i]);
      g_autoptr(JsonObject) customer = decode_ok (&kefu_record_customer, KEFU_RECORD_CREATE, json);

      g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member (customer,
                                                                                     "emails"), 0),
                       ==, good[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;
      g_autofree char *json = NULL;

      /* built, so quotes and tabs arrive escaped as a client would send them */
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "name");
      json_builder_add_string_value (builder, "Li");
      json_builder_set_member_name (builder, "emails");
      json_builder_begin_array (builder);
      json_builder_add_string_value (builder, "ok@example.com");
      json_builder_add_string_value (builder, bad[i]);
      json_builder_end_array (builder);
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      json = json_to_string (root, FALSE);
      assert_refused (&kefu_record_customer, KEFU_RECORD_CREATE, json,
                      KEFU_RECORD_ERROR_INVALID_VALUE, "emails[1]");
    }
}

static void
test_record_control_characters (void)
{
  g_autoptr(JsonObject) note = NULL;

  assert_refused (&kefu_record_customer, KEFU_RECORD_CREATE, "{\"name\": \"Li\\u0001Na\"}",
                  KEFU_RECORD_ERROR_INVALID_VALUE, "name");
  assert_refused (&kefu_record_customer, KEFU_RECORD_CREATE, "{\"name\": \"Li\\u001b[31mNa\"}",
                  KEFU_RECORD_ERROR_INVALID_VALUE, "name");
  /* a line break has no place in a name or a subject... */
  assert_refused (&kefu_record_customer, KEFU_RECORD_CREATE, "{\"name\": \"Li\\nNa\"}",
                  KEFU_RECORD_ERROR_INVALID_VALUE, "name");
  assert_refused (&kefu_record_case, KEFU_RECORD_CREATE,
                  "{\"customer_id\": 1, \"subject\": \"Refund\\r\\nX-Injected: yes\"}",
                  KEFU_RECORD_ERROR_INVALID_VALUE, "subject");
  assert_refused (&kefu_record_customer, KEFU_RECORD_CREATE,
                  "{\"name\": \"Li\", \"tags\": [\"ok\", \"bad\\ttag\"]}",
                  KEFU_RECORD_ERROR_INVALID_VALUE, "tags[1]");
  /* ...but free text keeps its lines and tabs, and nothing else */
  note = decode_ok (&kefu_record_case_note, KEFU_RECORD_CREATE,
                    "{\"body\": \"Called back.\\r\\n\\tRefund sent.\"}");
  g_assert_cmpstr (kefu_json_get_string (note, "body"), ==, "Called back.\r\n\tRefund sent.");
  assert_refused (&kefu_record_case_note, KEFU_RECORD_CREATE, "{\"body\": \"ding\\u0007\"}",
                  KEFU_RECORD_ERROR_INVALID_VALUE, "body");
}

/* Unicode's control characters (Cc) are not only the C0 set: DEL and the
 * C1 controls ring bells and move cursors in the terminals and old
 * systems a contact centre exports to. */
static void
control_del_c1 (void)
{
  assert_refused (&kefu_record_customer, KEFU_RECORD_CREATE, "{\"name\": \"Li\\u007fNa\"}",
                  KEFU_RECORD_ERROR_INVALID_VALUE, "name");
  assert_refused (&kefu_record_customer, KEFU_RECORD_CREATE, "{\"name\": \"Li\\u0085Na\"}",
                  KEFU_RECORD_ERROR_INVALID_VALUE, "name");
  assert_refused (&kefu_record_case, KEFU_RECORD_CREATE,
                  "{\"customer_id\": 1, \"subject\": \"Refund\\u009b31m\"}",
                  KEFU_RECORD_ERROR_INVALID_VALUE, "subject");
}

/* An escaped NUL would cut "Li Na" to "Li" without a word: refused, not
 * truncated ("nothing is half-accepted"). */
static void
control_nul (void)
{
  g_autoptr(JsonObject) customer = NULL;
  g_autoptr(GError) error = NULL;

  customer = kefu_record_decode (&kefu_record_customer, "{\"name\": \"Li\\u0000 Na\"}", -1,
                                 KEFU_RECORD_CREATE, "CN", NULL, &error);
  if (customer)
    g_test_message ("a name with NUL was accepted as “%s”",
                    kefu_json_get_string (customer, "name"));
  g_assert_null (customer);
  g_assert_nonnull (error);
}

/* Runs body in a child, so that a failure is reported and the rest of the
 * suite still runs. */
static void
in_subprocess (void (*body) (void))
{
  if (g_test_subprocess ())
    {
      body ();
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDOUT |
                                   G_TEST_SUBPROCESS_INHERIT_STDERR);
  if (!g_test_trap_has_passed ())
    g_test_fail_printf ("failed (see above)");
}

static void
test_record_control_del_c1 (void)
{
  in_subprocess (control_del_c1);
}

static void
test_record_control_nul (void)
{
  in_subprocess (control_nul);
}

static void
test_record_invalid_utf8 (void)
{
  static const char raw[] = "{\"name\": \"Li\xff\xfeNa\"}";
  g_autoptr(GError) error = NULL;
  g_autofree char *field = NULL;
  g_autoptr(JsonObject) object = NULL;
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autoptr(JsonObject) built = json_object_new ();
  JsonArray *tags = json_array_new ();

  /* as bytes on the wire: refused before any field is looked at */
  object = kefu_record_decode (&kefu_record_customer, raw, -1, KEFU_RECORD_CREATE, "CN", NULL,
                               &error);
  g_assert_null (object);
  g_assert_error (error, KEFU_RECORD_ERROR, KEFU_RECORD_ERROR_SYNTAX);
  g_clear_error (&error);

  /* as a node someone built in code: the field is named */
  json_object_set_string_member (built, "name", "Li\xc3\x28Na");
  json_node_set_object (node, built);
  object = kefu_record_validate (&kefu_record_customer, node, KEFU_RECORD_CREATE, "CN", &field,
                                 &error);
  g_assert_null (object);
  g_assert_error (error, KEFU_RECORD_ERROR, KEFU_RECORD_ERROR_INVALID_VALUE);
  g_assert_cmpstr (field, ==, "name");
  g_assert_nonnull (strstr (error->message, "UTF-8"));
  g_clear_error (&error);
  g_clear_pointer (&field, g_free);

  json_object_set_string_member (built, "name", "Li Na");
  json_array_add_string_element (tags, "ok");
  json_array_add_string_element (tags, "\xed\xa0\x80");  /* an encoded surrogate */
  json_object_set_array_member (built, "tags", tags);
  object = kefu_record_validate (&kefu_record_customer, node, KEFU_RECORD_CREATE, "CN", &field,
                                 &error);
  g_assert_null (object);
  g_assert_error (error, KEFU_RECORD_ERROR, KEFU_RECORD_ERROR_INVALID_VALUE);
  g_assert_cmpstr (field, ==, "tags[1]");
}

static void
test_record_kinds (void)
{
  const KefuRecordKind * const kinds[] = {
    &kefu_record_customer, &kefu_record_contact, &kefu_record_case, &kefu_record_case_note,
    &kefu_record_call, &kefu_record_fax, &kefu_record_agent, &kefu_record_queue,
    &kefu_record_event,
  };

  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      g_assert_true (kefu_record_kind_lookup (kinds[i]->name) == kinds[i]);
      g_assert_true (kefu_record_kind_lookup (kinds[i]->plural) == kinds[i]);
    }
  g_assert_null (kefu_record_kind_lookup ("invoices"));
  g_assert_nonnull (kefu_record_kind_field (&kefu_record_customer, "phones"));
  g_assert_null (kefu_record_kind_field (&kefu_record_customer, "skills"));
}

static void
test_record_encode_round_trip (void)
{
  g_autoptr(JsonObject) customer = decode_ok (&kefu_record_customer, KEFU_RECORD_CREATE,
    "{\"name\": \"张伟 \\\"Zhang\\\"\", \"phones\": [\"010-12345678\"], \"tags\": []}");
  g_autofree char *text = kefu_record_encode (customer);
  g_autoptr(JsonObject) again = decode_ok (&kefu_record_customer, KEFU_RECORD_CREATE, text);
  JsonArray *phones;

  g_assert_cmpstr (kefu_json_get_string (again, "name"), ==, "张伟 \"Zhang\"");
  phones = json_object_get_array_member (again, "phones");
  g_assert_cmpstr (json_array_get_string_element (phones, 0), ==, "+861012345678");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (again, "tags")), ==, 0);

  /* the convenience readers fall back rather than abort */
  g_assert_null (kefu_json_get_string (again, "company"));
  g_assert_null (kefu_json_get_string (NULL, "name"));
  g_assert_cmpint (kefu_json_get_int (again, "name", -7), ==, -7);
  g_assert_cmpfloat (kefu_json_get_double (again, "missing", 2.5), ==, 2.5);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/record/syntax", test_record_syntax);
  g_test_add_func ("/record/customer-accepted", test_record_customer_accepted);
  g_test_add_func ("/record/field-types", test_record_field_types);
  g_test_add_func ("/record/kind-fields", test_record_kind_fields);
  g_test_add_func ("/record/enums", test_record_enums);
  g_test_add_func ("/record/unknown-field", test_record_unknown_field);
  g_test_add_func ("/record/missing-required", test_record_missing_required);
  g_test_add_func ("/record/too-long", test_record_too_long);
  g_test_add_func ("/record/read-only-ignored", test_record_read_only_ignored);
  g_test_add_func ("/record/write-only-password", test_record_write_only_password);
  g_test_add_func ("/record/null", test_record_null);
  g_test_add_func ("/record/phone-normalisation", test_record_phone_normalisation);
  g_test_add_func ("/record/emails", test_record_emails);
  g_test_add_func ("/record/control-characters", test_record_control_characters);
  g_test_add_func ("/record/invalid-utf8", test_record_invalid_utf8);
  g_test_add_func ("/record/kinds", test_record_kinds);
  g_test_add_func ("/record/encode-round-trip", test_record_encode_round_trip);
  g_test_add_func ("/record/control-characters/del-c1", test_record_control_del_c1);
  g_test_add_func ("/record/control-characters/nul", test_record_control_nul);

  return g_test_run ();
}
