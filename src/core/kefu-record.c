/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuRecord"

#include "config.h"

#include "kefu-record.h"
#include "kefu-phone-number.h"
#include "kefu-time.h"

#include <math.h>
#include <string.h>

G_DEFINE_QUARK (kefu-record-error-quark, kefu_record_error)

#define N_FIELDS(a) G_N_ELEMENTS (a)

static const char * const tiers[] = { "vip", "gold", "normal", "new", NULL };
static const char * const priorities[] = { "low", "normal", "high", "urgent", NULL };
static const char * const case_statuses[] = { "open", "pending", "resolved", "closed", NULL };
static const char * const directions[] = { "inbound", "outbound", "internal", NULL };
static const char * const call_outcomes[] = {
  "answered", "abandoned", "overflow", "callback", "voicemail", "busy", "no_answer", "failed",
  "transferred", NULL
};
static const char * const fax_statuses[] = {
  "queued", "sending", "sent", "receiving", "received", "failed", NULL
};
static const char * const strategies[] = {
  "ring-all", "longest-idle", "round-robin", "fewest-calls", "least-talk-time", "skills-based", NULL
};
static const char * const callback_sources[] = { "ivr", "overflow", "agent", NULL };
static const char * const sl_denominators[] = {
  "answered", "answered+abandoned", "offered-short", NULL
};

const char * const kefu_callback_statuses[] = { "open", "claimed", "done", "failed", NULL };

const char * const kefu_roles[] = { "agent", "supervisor", "teamlead", "admin", "service", NULL };

const char * const kefu_agent_states[] = {
  "logged_out", "available", "not_ready", "ringing", "talking", "on_hold", "wrapup", NULL
};

const char * const kefu_event_types[] = {
  "call.offered",       /* entered a queue */
  "call.ringing",       /* offered to an agent */
  "call.answered",
  "call.abandoned",
  "call.overflow",
  "call.callback",
  "call.transferred",
  "call.held",
  "call.resumed",
  "call.ended",
  "call.wrapup_ended",
  "call.ivr",
  "agent.state",
  "queue.updated",
  NULL
};

#define COMMON_FIELDS \
  { "id",         KEFU_FIELD_INT,       KEFU_FIELD_READ_ONLY, 0, NULL, 0, 0, "Server-assigned id" }, \
  { "version",    KEFU_FIELD_INT,       KEFU_FIELD_READ_ONLY, 0, NULL, 0, 0, "Incremented on every change" }, \
  { "created_at", KEFU_FIELD_TIMESTAMP, KEFU_FIELD_READ_ONLY, 0, NULL, 0, 0, NULL }, \
  { "updated_at", KEFU_FIELD_TIMESTAMP, KEFU_FIELD_READ_ONLY, 0, NULL, 0, 0, NULL }

static const KefuField customer_fields[] = {
  COMMON_FIELDS,
  { "name",           KEFU_FIELD_STRING,      KEFU_FIELD_REQUIRED, 200, NULL, 0, 0, "Full name" },
  { "company",        KEFU_FIELD_STRING,      0, 200, NULL, 0, 0, NULL },
  { "tier",           KEFU_FIELD_ENUM,        0, 0, tiers, 0, 0, "vip, gold, normal or new" },
  { "owner",          KEFU_FIELD_STRING,      0, 64, NULL, 0, 0, "Username of the owning agent" },
  { "phones",         KEFU_FIELD_PHONE_LIST,  0, 20, NULL, 0, 0, "Numbers, stored in E.164" },
  { "emails",         KEFU_FIELD_EMAIL_LIST,  0, 20, NULL, 0, 0, NULL },
  { "tags",           KEFU_FIELD_STRING_LIST, 0, 50, NULL, 0, 0, NULL },
  { "notes",          KEFU_FIELD_TEXT,        0, 20000, NULL, 0, 0, NULL },
  { "account_number", KEFU_FIELD_STRING,      0, 40, NULL, 0, 0, "What callers key in the IVR" },
};

static const KefuField contact_fields[] = {
  COMMON_FIELDS,
  { "customer_id", KEFU_FIELD_INT,        KEFU_FIELD_REQUIRED, 0, NULL, 1, G_MAXINT64, NULL },
  { "name",        KEFU_FIELD_STRING,     KEFU_FIELD_REQUIRED, 200, NULL, 0, 0, NULL },
  { "title",       KEFU_FIELD_STRING,     0, 100, NULL, 0, 0, NULL },
  { "phones",      KEFU_FIELD_PHONE_LIST, 0, 20, NULL, 0, 0, NULL },
  { "emails",      KEFU_FIELD_EMAIL_LIST, 0, 20, NULL, 0, 0, NULL },
  { "notes",       KEFU_FIELD_TEXT,       0, 20000, NULL, 0, 0, NULL },
};

static const KefuField case_fields[] = {
  COMMON_FIELDS,
  { "customer_id", KEFU_FIELD_INT,    KEFU_FIELD_REQUIRED, 0, NULL, 1, G_MAXINT64, NULL },
  { "call_id",     KEFU_FIELD_STRING, 0, 64, NULL, 0, 0, "The call the case was opened on" },
  { "category",    KEFU_FIELD_STRING, 0, 100, NULL, 0, 0, NULL },
  { "disposition", KEFU_FIELD_STRING, 0, 100, NULL, 0, 0, NULL },
  { "priority",    KEFU_FIELD_ENUM,   0, 0, priorities, 0, 0, NULL },
  { "status",      KEFU_FIELD_ENUM,   0, 0, case_statuses, 0, 0, NULL },
  { "subject",     KEFU_FIELD_STRING, KEFU_FIELD_REQUIRED, 200, NULL, 0, 0, NULL },
  { "assignee",    KEFU_FIELD_STRING, 0, 64, NULL, 0, 0, "Username" },
  { "notes",       KEFU_FIELD_OBJECT, KEFU_FIELD_READ_ONLY, 0, NULL, 0, 0, "Added with POST .../notes" },
};

static const KefuField case_note_fields[] = {
  { "id",         KEFU_FIELD_INT,       KEFU_FIELD_READ_ONLY, 0, NULL, 0, 0, NULL },
  { "author",     KEFU_FIELD_STRING,    KEFU_FIELD_READ_ONLY, 64, NULL, 0, 0, NULL },
  { "created_at", KEFU_FIELD_TIMESTAMP, KEFU_FIELD_READ_ONLY, 0, NULL, 0, 0, NULL },
  { "body",       KEFU_FIELD_TEXT,      KEFU_FIELD_REQUIRED, 20000, NULL, 0, 0, NULL },
};

static const KefuField call_fields[] = {
  { "id",          KEFU_FIELD_STRING,    KEFU_FIELD_REQUIRED, 64, NULL, 0, 0, "The switch's call id (X-Kefu-Call)" },
  { "version",     KEFU_FIELD_INT,       KEFU_FIELD_READ_ONLY, 0, NULL, 0, 0, NULL },
  { "created_at",  KEFU_FIELD_TIMESTAMP, KEFU_FIELD_READ_ONLY, 0, NULL, 0, 0, NULL },
  { "updated_at",  KEFU_FIELD_TIMESTAMP, KEFU_FIELD_READ_ONLY, 0, NULL, 0, 0, NULL },
  { "direction",   KEFU_FIELD_ENUM,      KEFU_FIELD_REQUIRED, 0, directions, 0, 0, NULL },
  { "caller",      KEFU_FIELD_STRING,    0, 64, NULL, 0, 0, NULL },
  { "callee",      KEFU_FIELD_STRING,    0, 64, NULL, 0, 0, NULL },
  { "queue",       KEFU_FIELD_STRING,    0, 64, NULL, 0, 0, NULL },
  { "agent",       KEFU_FIELD_STRING,    0, 64, NULL, 0, 0, NULL },
  { "customer_id", KEFU_FIELD_INT,       0, 0, NULL, 1, G_MAXINT64, NULL },
  { "offered_at",  KEFU_FIELD_TIMESTAMP, 0, 0, NULL, 0, 0, NULL },
  { "answered_at", KEFU_FIELD_TIMESTAMP, 0, 0, NULL, 0, 0, NULL },
  { "ended_at",    KEFU_FIELD_TIMESTAMP, 0, 0, NULL, 0, 0, NULL },
  { "wait_s",      KEFU_FIELD_NUMBER,    0, 0, NULL, 0, 1e7, NULL },
  { "talk_s",      KEFU_FIELD_NUMBER,    0, 0, NULL, 0, 1e7, NULL },
  { "hold_s",      KEFU_FIELD_NUMBER,    0, 0, NULL, 0, 1e7, NULL },
  { "wrapup_s",    KEFU_FIELD_NUMBER,    0, 0, NULL, 0, 1e7, NULL },
  { "outcome",     KEFU_FIELD_ENUM,      0, 0, call_outcomes, 0, 0, NULL },
  { "ivr_path",    KEFU_FIELD_STRING,    0, 500, NULL, 0, 0, "Menu path and digits" },
  { "recording",   KEFU_FIELD_STRING,    0, 500, NULL, 0, 0, "Recording file name" },
};

static const KefuField fax_fields[] = {
  COMMON_FIELDS,
  { "direction",     KEFU_FIELD_ENUM,   KEFU_FIELD_REQUIRED, 0, directions, 0, 0, NULL },
  { "customer_id",   KEFU_FIELD_INT,    0, 0, NULL, 1, G_MAXINT64, NULL },
  { "call_id",       KEFU_FIELD_STRING, 0, 64, NULL, 0, 0, NULL },
  { "remote_number", KEFU_FIELD_STRING, 0, 64, NULL, 0, 0, NULL },
  { "subject",       KEFU_FIELD_STRING, 0, 200, NULL, 0, 0, NULL },
  { "pages",         KEFU_FIELD_INT,    0, 0, NULL, 0, 10000, NULL },
  { "status",        KEFU_FIELD_ENUM,   0, 0, fax_statuses, 0, 0, NULL },
  { "filename",      KEFU_FIELD_STRING, 0, 255, NULL, 0, 0, NULL },
  { "content_type",  KEFU_FIELD_STRING, KEFU_FIELD_READ_ONLY, 100, NULL, 0, 0, "Of the uploaded document" },
  { "size",          KEFU_FIELD_INT,    KEFU_FIELD_READ_ONLY, 0, NULL, 0, 0, "Bytes of the uploaded document" },
};

static const KefuField agent_fields[] = {
  COMMON_FIELDS,
  { "username",     KEFU_FIELD_STRING,    KEFU_FIELD_REQUIRED | KEFU_FIELD_NAME_CHARS, 64, NULL, 0, 0, NULL },
  { "name",         KEFU_FIELD_STRING,    0, 200, NULL, 0, 0, "Display name" },
  { "role",         KEFU_FIELD_ENUM,      KEFU_FIELD_REQUIRED, 0, kefu_roles, 0, 0, NULL },
  { "extension",    KEFU_FIELD_STRING,    0, 32, NULL, 0, 0, "SIP user of the agent's phone" },
  { "skills",       KEFU_FIELD_SKILLS,    0, 200, NULL, 1, 100, "Queue name -> proficiency 1..100" },
  { "password",     KEFU_FIELD_STRING,    KEFU_FIELD_WRITE_ONLY, 256, NULL, 0, 0, "At least 8 characters" },
  { "sip_password", KEFU_FIELD_STRING,    KEFU_FIELD_WRITE_ONLY, 128, NULL, 0, 0,
    "The phone's SIP password, at least 8 characters; kept only as its digest HA1 for the "
    "extension and the server's SIP realm, so changing either needs it again" },
  { "state",        KEFU_FIELD_ENUM,      KEFU_FIELD_READ_ONLY, 0, kefu_agent_states, 0, 0, "Set with PUT .../state" },
  { "state_reason", KEFU_FIELD_STRING,    KEFU_FIELD_READ_ONLY, 64, NULL, 0, 0, NULL },
  { "state_since",  KEFU_FIELD_TIMESTAMP, KEFU_FIELD_READ_ONLY, 0, NULL, 0, 0, NULL },
};

static const KefuField queue_fields[] = {
  COMMON_FIELDS,
  { "name",            KEFU_FIELD_STRING, KEFU_FIELD_REQUIRED | KEFU_FIELD_NAME_CHARS, 64, NULL, 0, 0, NULL },
  { "description",     KEFU_FIELD_STRING, 0, 200, NULL, 0, 0, NULL },
  { "strategy",        KEFU_FIELD_ENUM,   0, 0, strategies, 0, 0, NULL },
  { "sl_threshold_s",  KEFU_FIELD_NUMBER, 0, 0, NULL, 1, 3600, "Service level: answered within" },
  { "sl_target",       KEFU_FIELD_NUMBER, 0, 0, NULL, 0, 1, "Service level goal, 0..1" },
  { "sl_denominator",  KEFU_FIELD_ENUM,   0, 0, sl_denominators, 0, 0, NULL },
  { "short_abandon_s", KEFU_FIELD_NUMBER, 0, 0, NULL, 0, 600, NULL },
  { "max_wait_s",      KEFU_FIELD_NUMBER, 0, 0, NULL, 0, 86400, NULL },
  { "wrapup_s",        KEFU_FIELD_NUMBER, 0, 0, NULL, 0, 3600, NULL },
  { "priority",        KEFU_FIELD_INT,    0, 0, NULL, 0, 100, NULL },
};

static const KefuField callback_fields[] = {
  COMMON_FIELDS,
  { "number",      KEFU_FIELD_STRING,    KEFU_FIELD_REQUIRED, 64, NULL, 0, 0,
    "Number to call back, as the caller keyed it or their caller ID" },
  { "customer_id", KEFU_FIELD_INT,       0, 0, NULL, 1, G_MAXINT64, NULL },
  { "call_id",     KEFU_FIELD_STRING,    0, 64, NULL, 0, 0, "The call that asked for it" },
  { "queue",       KEFU_FIELD_STRING,    0, 64, NULL, 0, 0, "Queue the caller was waiting for" },
  { "source",      KEFU_FIELD_ENUM,      0, 0, callback_sources, 0, 0,
    "ivr (the caller asked), overflow (waited too long), agent (typed in)" },
  { "status",      KEFU_FIELD_ENUM,      0, 0, kefu_callback_statuses, 0, 0,
    "open, claimed (an agent works on it), done, failed; open when created" },
  { "assignee",    KEFU_FIELD_STRING,    0, 64, NULL, 0, 0, "The agent who claimed it" },
  { "due_at",      KEFU_FIELD_TIMESTAMP, 0, 0, NULL, 0, 0, "Not before" },
  { "attempts",    KEFU_FIELD_INT,       0, 0, NULL, 0, 100, "Calls made so far" },
  { "notes",       KEFU_FIELD_TEXT,      0, 2000, NULL, 0, 0, NULL },
};

static const KefuField event_fields[] = {
  { "id",      KEFU_FIELD_INT,       KEFU_FIELD_READ_ONLY, 0, NULL, 0, 0, "Position in the event log" },
  { "type",    KEFU_FIELD_ENUM,      KEFU_FIELD_REQUIRED, 0, kefu_event_types, 0, 0, NULL },
  { "ts",      KEFU_FIELD_TIMESTAMP, 0, 0, NULL, 0, 0, "When it happened; now when absent" },
  { "call_id", KEFU_FIELD_STRING,    0, 64, NULL, 0, 0, NULL },
  { "queue",   KEFU_FIELD_STRING,    0, 64, NULL, 0, 0, NULL },
  { "agent",   KEFU_FIELD_STRING,    0, 64, NULL, 0, 0, NULL },
  { "data",    KEFU_FIELD_OBJECT,    0, 16384, NULL, 0, 0, "Type-specific: wait_s, talk_s, state, reason..." },
};

const KefuRecordKind kefu_record_customer = { "customer", "customers", customer_fields, N_FIELDS (customer_fields) };
const KefuRecordKind kefu_record_contact = { "contact", "contacts", contact_fields, N_FIELDS (contact_fields) };
const KefuRecordKind kefu_record_case = { "case", "cases", case_fields, N_FIELDS (case_fields) };
const KefuRecordKind kefu_record_case_note = { "note", "notes", case_note_fields, N_FIELDS (case_note_fields) };
const KefuRecordKind kefu_record_call = { "call", "calls", call_fields, N_FIELDS (call_fields) };
const KefuRecordKind kefu_record_fax = { "fax", "faxes", fax_fields, N_FIELDS (fax_fields) };
const KefuRecordKind kefu_record_agent = { "agent", "agents", agent_fields, N_FIELDS (agent_fields) };
const KefuRecordKind kefu_record_queue = { "queue", "queues", queue_fields, N_FIELDS (queue_fields) };
const KefuRecordKind kefu_record_event = { "event", "events", event_fields, N_FIELDS (event_fields) };
const KefuRecordKind kefu_record_callback = { "callback", "callbacks", callback_fields, N_FIELDS (callback_fields) };

static const KefuRecordKind *all_kinds[] = {
  &kefu_record_customer, &kefu_record_contact, &kefu_record_case, &kefu_record_case_note,
  &kefu_record_call, &kefu_record_fax, &kefu_record_agent, &kefu_record_queue, &kefu_record_event,
  &kefu_record_callback,
};

const KefuRecordKind *
kefu_record_kind_lookup (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (all_kinds); i++)
    if (g_str_equal (all_kinds[i]->name, name) || g_str_equal (all_kinds[i]->plural, name))
      return all_kinds[i];
  return NULL;
}

const KefuField *
kefu_record_kind_field (const KefuRecordKind *kind,
                        const char           *name)
{
  for (guint i = 0; i < kind->n_fields; i++)
    if (g_str_equal (kind->fields[i].name, name))
      return &kind->fields[i];
  return NULL;
}

gboolean
kefu_strv_contains_choice (const char * const *choices,
                           const char         *value)
{
  for (guint i = 0; choices && choices[i]; i++)
    if (g_str_equal (choices[i], value))
      return TRUE;
  return FALSE;
}

int
kefu_role_rank (const char *role)
{
  for (int i = 0; role && kefu_roles[i]; i++)
    if (g_str_equal (kefu_roles[i], role))
      return i;
  return -1;
}

static const char *
node_type_name (JsonNode *node)
{
  switch (JSON_NODE_TYPE (node))
    {
    case JSON_NODE_OBJECT:
      return "an object";
    case JSON_NODE_ARRAY:
      return "a list";
    case JSON_NODE_NULL:
      return "null";
    case JSON_NODE_VALUE:
    default:
      break;
    }
  switch (json_node_get_value_type (node))
    {
    case G_TYPE_STRING:
      return "a string";
    case G_TYPE_BOOLEAN:
      return "true/false";
    case G_TYPE_INT64:
    case G_TYPE_DOUBLE:
      return "a number";
    default:
      return "an unknown value";
    }
}

static gboolean
node_is (JsonNode *node,
         GType     type)
{
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == type;
}

static gboolean
fail (GError     **error,
      char       **out_field,
      const char  *field,
      int          code,
      const char  *format,
      ...) G_GNUC_PRINTF (5, 6);

static gboolean
fail (GError     **error,
      char       **out_field,
      const char  *field,
      int          code,
      const char  *format,
      ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  g_set_error (error, KEFU_RECORD_ERROR, code, "Field “%s”: %s", field, message);
  if (out_field)
    *out_field = g_strdup (field);
  return FALSE;
}

static gboolean
check_string (const char  *field,
              const char  *value,
              gsize        max,
              guint        flags,
              GError     **error,
              char       **out_field)
{
  glong chars;

  if (!g_utf8_validate (value, -1, NULL))
    return fail (error, out_field, field, KEFU_RECORD_ERROR_INVALID_VALUE, "not valid UTF-8 text");
  chars = g_utf8_strlen (value, -1);
  if (max && (gsize) chars > max)
    return fail (error, out_field, field, KEFU_RECORD_ERROR_TOO_LONG,
                 "%ld characters, at most %zu allowed", chars, max);
  for (const char *p = value; *p; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      /* Control characters (C0, DEL, C1) have no business in a name or a
       * subject; in free text only newlines and tabs are kept. */
      if (g_unichar_iscntrl (c) && !((c == '\n' || c == '\t' || c == '\r') && max > 500))
        return fail (error, out_field, field, KEFU_RECORD_ERROR_INVALID_VALUE,
                     "contains a control character (U+%04X)", c);
    }
  if (flags & KEFU_FIELD_NAME_CHARS)
    {
      if (!*value)
        return fail (error, out_field, field, KEFU_RECORD_ERROR_INVALID_VALUE, "must not be empty");
      for (const char *p = value; *p; p++)
        if (!(g_ascii_islower (*p) || g_ascii_isdigit (*p) || *p == '.' || *p == '_' || *p == '-'))
          return fail (error, out_field, field, KEFU_RECORD_ERROR_INVALID_VALUE,
                       "“%s” may hold only lower-case letters, digits, “.”, “_” and “-”", value);
    }
  return TRUE;
}

static gboolean
check_email (const char  *field,
             const char  *value,
             GError     **error,
             char       **out_field)
{
  const char *at = strchr (value, '@');

  if (!at || at == value || !at[1] || strchr (at + 1, '@') || !strchr (at + 1, '.') ||
      strpbrk (value, " \t<>,;\"") || strlen (value) > 254)
    return fail (error, out_field, field, KEFU_RECORD_ERROR_INVALID_VALUE,
                 "“%s” is not an e-mail address", value);
  return TRUE;
}

static JsonNode *
validate_list (const KefuField  *field,
               JsonNode         *node,
               const char       *default_country,
               GError          **error,
               char            **out_field)
{
  g_autoptr(JsonArray) out = NULL;
  JsonArray *array;
  guint n;
  JsonNode *result;

  if (!JSON_NODE_HOLDS_ARRAY (node))
    {
      fail (error, out_field, field->name, KEFU_RECORD_ERROR_WRONG_TYPE,
            "expected a list of strings, got %s", node_type_name (node));
      return NULL;
    }
  array = json_node_get_array (node);
  n = json_array_get_length (array);
  if (field->max && n > field->max)
    {
      fail (error, out_field, field->name, KEFU_RECORD_ERROR_TOO_LONG,
            "%u items, at most %zu allowed", n, field->max);
      return NULL;
    }

  out = json_array_sized_new (n);
  for (guint i = 0; i < n; i++)
    {
      JsonNode *item = json_array_get_element (array, i);
      g_autofree char *item_name = g_strdup_printf ("%s[%u]", field->name, i);
      const char *text;

      if (!node_is (item, G_TYPE_STRING))
        {
          fail (error, out_field, item_name, KEFU_RECORD_ERROR_WRONG_TYPE,
                "expected a string, got %s", node_type_name (item));
          return NULL;
        }
      text = json_node_get_string (item);
      if (!check_string (item_name, text, field->type == KEFU_FIELD_STRING_LIST ? 50 : 254, 0,
                         error, out_field))
        return NULL;

      if (field->type == KEFU_FIELD_PHONE_LIST)
        {
          g_autoptr(GError) local_error = NULL;
          g_autofree char *e164 = kefu_phone_number_normalise (text, default_country, &local_error);

          if (!e164)
            {
              fail (error, out_field, item_name, KEFU_RECORD_ERROR_INVALID_VALUE,
                    "%s", local_error->message);
              return NULL;
            }
          json_array_add_string_element (out, e164);
        }
      else if (field->type == KEFU_FIELD_EMAIL_LIST)
        {
          if (!check_email (item_name, text, error, out_field))
            return NULL;
          json_array_add_string_element (out, text);
        }
      else
        {
          json_array_add_string_element (out, text);
        }
    }

  result = json_node_new (JSON_NODE_ARRAY);
  json_node_set_array (result, out);
  return result;
}

static JsonNode *
validate_skills (const KefuField  *field,
                 JsonNode         *node,
                 GError          **error,
                 char            **out_field)
{
  g_autoptr(JsonObject) out = json_object_new ();
  g_autoptr(GList) members = NULL;
  JsonObject *object;
  JsonNode *result;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      fail (error, out_field, field->name, KEFU_RECORD_ERROR_WRONG_TYPE,
            "expected an object of queue name to proficiency, got %s", node_type_name (node));
      return NULL;
    }
  object = json_node_get_object (node);
  if (json_object_get_size (object) > field->max)
    {
      fail (error, out_field, field->name, KEFU_RECORD_ERROR_TOO_LONG,
            "%u queues, at most %zu allowed", json_object_get_size (object), field->max);
      return NULL;
    }
  members = json_object_get_members (object);
  for (GList *l = members; l; l = l->next)
    {
      const char *queue = l->data;
      JsonNode *value = json_object_get_member (object, queue);
      g_autofree char *item_name = g_strdup_printf ("%s.%s", field->name, queue);
      gint64 proficiency;

      if (!check_string (item_name, queue, 64, KEFU_FIELD_NAME_CHARS, error, out_field))
        return NULL;
      if (!node_is (value, G_TYPE_INT64))
        {
          fail (error, out_field, item_name, KEFU_RECORD_ERROR_WRONG_TYPE,
                "expected a whole number 1..100, got %s", node_type_name (value));
          return NULL;
        }
      proficiency = json_node_get_int (value);
      if (proficiency < 1 || proficiency > 100)
        {
          fail (error, out_field, item_name, KEFU_RECORD_ERROR_INVALID_VALUE,
                "proficiency %" G_GINT64_FORMAT " is outside 1..100", proficiency);
          return NULL;
        }
      json_object_set_int_member (out, queue, proficiency);
    }
  result = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (result, out);
  return result;
}

/* Returns a validated copy of one field's value, or NULL with error set. */
static JsonNode *
validate_field (const KefuField  *field,
                JsonNode         *node,
                const char       *default_country,
                GError          **error,
                char            **out_field)
{
  const char *name = field->name;

  switch (field->type)
    {
    case KEFU_FIELD_STRING:
    case KEFU_FIELD_TEXT:
    case KEFU_FIELD_ENUM:
    case KEFU_FIELD_TIMESTAMP:
      if (!node_is (node, G_TYPE_STRING))
        {
          fail (error, out_field, name, KEFU_RECORD_ERROR_WRONG_TYPE,
                "expected a string, got %s", node_type_name (node));
          return NULL;
        }
      if (!check_string (name, json_node_get_string (node), field->type == KEFU_FIELD_ENUM ? 64 :
                         field->type == KEFU_FIELD_TIMESTAMP ? 64 : field->max,
                         field->flags, error, out_field))
        return NULL;
      if (field->type == KEFU_FIELD_ENUM &&
          !kefu_strv_contains_choice (field->choices, json_node_get_string (node)))
        {
          g_autofree char *choices = g_strjoinv (", ", (char **) field->choices);

          fail (error, out_field, name, KEFU_RECORD_ERROR_INVALID_VALUE,
                "“%s” is not one of: %s", json_node_get_string (node), choices);
          return NULL;
        }
      if (field->type == KEFU_FIELD_TIMESTAMP)
        {
          gint64 ms;

          if (!kefu_time_parse_ms (json_node_get_string (node), NULL, &ms))
            {
              fail (error, out_field, name, KEFU_RECORD_ERROR_INVALID_VALUE,
                    "“%s” is not an ISO 8601 date and time", json_node_get_string (node));
              return NULL;
            }
          /* Normalise to one spelling (UTC, Z) so stored documents compare
           * and sort as text. */
          {
            g_autofree char *normal = kefu_time_format_ms (ms);

            return json_node_init_string (json_node_alloc (), normal);
          }
        }
      return json_node_copy (node);

    case KEFU_FIELD_INT:
    case KEFU_FIELD_NUMBER:
      {
        double value;

        if (field->type == KEFU_FIELD_INT && !node_is (node, G_TYPE_INT64))
          {
            fail (error, out_field, name, KEFU_RECORD_ERROR_WRONG_TYPE,
                  "expected a whole number, got %s", node_type_name (node));
            return NULL;
          }
        if (field->type == KEFU_FIELD_NUMBER && !node_is (node, G_TYPE_INT64) &&
            !node_is (node, G_TYPE_DOUBLE))
          {
            fail (error, out_field, name, KEFU_RECORD_ERROR_WRONG_TYPE,
                  "expected a number, got %s", node_type_name (node));
            return NULL;
          }
        value = node_is (node, G_TYPE_INT64) ? (double) json_node_get_int (node)
                                             : json_node_get_double (node);
        if (!isfinite (value) ||
            (field->min_value < field->max_value &&
             (value < field->min_value || value > field->max_value)))
          {
            fail (error, out_field, name, KEFU_RECORD_ERROR_INVALID_VALUE,
                  "%g is outside %g..%g", value, field->min_value, field->max_value);
            return NULL;
          }
        if (field->type == KEFU_FIELD_NUMBER)
          return json_node_init_double (json_node_alloc (), value);
        return json_node_copy (node);
      }

    case KEFU_FIELD_BOOL:
      if (!node_is (node, G_TYPE_BOOLEAN))
        {
          fail (error, out_field, name, KEFU_RECORD_ERROR_WRONG_TYPE,
                "expected true or false, got %s", node_type_name (node));
          return NULL;
        }
      return json_node_copy (node);

    case KEFU_FIELD_STRING_LIST:
    case KEFU_FIELD_PHONE_LIST:
    case KEFU_FIELD_EMAIL_LIST:
      return validate_list (field, node, default_country, error, out_field);

    case KEFU_FIELD_SKILLS:
      return validate_skills (field, node, error, out_field);

    case KEFU_FIELD_OBJECT:
      {
        g_autofree char *text = NULL;

        if (!JSON_NODE_HOLDS_OBJECT (node))
          {
            fail (error, out_field, name, KEFU_RECORD_ERROR_WRONG_TYPE,
                  "expected an object, got %s", node_type_name (node));
            return NULL;
          }
        text = json_to_string (node, FALSE);
        if (field->max && strlen (text) > field->max)
          {
            fail (error, out_field, name, KEFU_RECORD_ERROR_TOO_LONG,
                  "%zu bytes, at most %zu allowed", strlen (text), field->max);
            return NULL;
          }
        return json_node_copy (node);
      }

    default:
      g_assert_not_reached ();
    }
  return NULL;
}

JsonObject *
kefu_record_validate (const KefuRecordKind  *kind,
                      JsonNode              *node,
                      KefuRecordMode         mode,
                      const char            *default_country,
                      char                 **out_field,
                      GError               **error)
{
  g_autoptr(JsonObject) out = NULL;
  g_autoptr(GList) members = NULL;
  JsonObject *object;

  if (!node || !JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, KEFU_RECORD_ERROR, KEFU_RECORD_ERROR_SYNTAX,
                   "A %s must be a JSON object, got %s", kind->name,
                   node ? node_type_name (node) : "nothing");
      return NULL;
    }
  object = json_node_get_object (node);
  out = json_object_new ();

  members = json_object_get_members (object);
  for (GList *l = members; l; l = l->next)
    {
      const char *name = l->data;
      const KefuField *field = kefu_record_kind_field (kind, name);
      JsonNode *value = json_object_get_member (object, name);
      JsonNode *checked;

      if (!field)
        {
          fail (error, out_field, name, KEFU_RECORD_ERROR_UNKNOWN_FIELD,
                "a %s has no such field", kind->name);
          return NULL;
        }
      if (field->flags & KEFU_FIELD_READ_ONLY)
        {
          /* Clients echo back what they fetched; the server's own fields are
           * ignored rather than refused, so a GET-modify-PUT round trip
           * works.  They are never taken from the client. */
          continue;
        }
      if (JSON_NODE_HOLDS_NULL (value))
        {
          if ((field->flags & KEFU_FIELD_REQUIRED))
            {
              fail (error, out_field, name, KEFU_RECORD_ERROR_MISSING_FIELD,
                    "is required and cannot be null");
              return NULL;
            }
          /* null clears an optional field */
          json_object_set_null_member (out, name);
          continue;
        }
      checked = validate_field (field, value, default_country, error, out_field);
      if (!checked)
        return NULL;
      json_object_set_member (out, name, checked);
    }

  if (mode == KEFU_RECORD_CREATE)
    {
      for (guint i = 0; i < kind->n_fields; i++)
        {
          const KefuField *field = &kind->fields[i];

          if ((field->flags & KEFU_FIELD_REQUIRED) && !json_object_has_member (out, field->name))
            {
              fail (error, out_field, field->name, KEFU_RECORD_ERROR_MISSING_FIELD,
                    "is required");
              return NULL;
            }
        }
    }

  return g_steal_pointer (&out);
}

JsonObject *
kefu_record_decode (const KefuRecordKind  *kind,
                    const char            *json,
                    gssize                 length,
                    KefuRecordMode         mode,
                    const char            *default_country,
                    char                 **out_field,
                    GError               **error)
{
  g_autoptr(JsonNode) root = NULL;

  if (!json || length == 0 || (length < 0 && !*json))
    {
      g_set_error (error, KEFU_RECORD_ERROR, KEFU_RECORD_ERROR_SYNTAX,
                   "The request has no body; a %s as a JSON object was expected", kind->name);
      return NULL;
    }
  root = kefu_json_parse_strict (json, length, error);
  if (!root)
    return NULL;
  return kefu_record_validate (kind, root, mode, default_country, out_field, error);
}

char *
kefu_record_encode (JsonObject *object)
{
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);

  json_node_set_object (node, object);
  return json_to_string (node, FALSE);
}

const char *
kefu_json_get_string (JsonObject *object,
                      const char *member)
{
  JsonNode *node = object ? json_object_get_member (object, member) : NULL;

  if (!node || !node_is (node, G_TYPE_STRING))
    return NULL;
  return json_node_get_string (node);
}

gint64
kefu_json_get_int (JsonObject *object,
                   const char *member,
                   gint64      fallback)
{
  JsonNode *node = object ? json_object_get_member (object, member) : NULL;

  if (node && node_is (node, G_TYPE_INT64))
    return json_node_get_int (node);
  if (node && node_is (node, G_TYPE_DOUBLE))
    return (gint64) json_node_get_double (node);
  return fallback;
}

double
kefu_json_get_double (JsonObject *object,
                      const char *member,
                      double      fallback)
{
  JsonNode *node = object ? json_object_get_member (object, member) : NULL;

  if (node && node_is (node, G_TYPE_INT64))
    return (double) json_node_get_int (node);
  if (node && node_is (node, G_TYPE_DOUBLE))
    return json_node_get_double (node);
  return fallback;
}

/* --- strict JSON ---------------------------------------------------------------- */

/* json-glib is lenient (single quotes, leading zeros, a second document
 * after the first): what it forgives, a client's bug would slip through
 * and half a request would be stored.  This scanner holds a body to RFC
 * 8259 first, and bounds nesting so a hostile body cannot exhaust the
 * stack. */
#define MAX_JSON_DEPTH 64

typedef struct {
  const char *p;
  const char *end;
  const char *problem;
} JsonScan;

static void
scan_ws (JsonScan *scan)
{
  while (scan->p < scan->end &&
         (*scan->p == ' ' || *scan->p == '\t' || *scan->p == '\n' || *scan->p == '\r'))
    scan->p++;
}

static gboolean
scan_literal (JsonScan   *scan,
              const char *word)
{
  gsize n = strlen (word);

  if ((gsize) (scan->end - scan->p) < n || memcmp (scan->p, word, n) != 0)
    {
      scan->problem = "unexpected character";
      return FALSE;
    }
  scan->p += n;
  return TRUE;
}

static gboolean
scan_string (JsonScan *scan)
{
  scan->p++;   /* the opening quote */
  while (scan->p < scan->end)
    {
      guchar c = (guchar) *scan->p;

      if (c == '"')
        {
          scan->p++;
          return TRUE;
        }
      if (c < 0x20)
        {
          scan->problem = "a control character inside a string";
          return FALSE;
        }
      if (c == '\\')
        {
          scan->p++;
          if (scan->p >= scan->end || !strchr ("\"\\/bfnrtu", *scan->p))
            {
              scan->problem = "a bad escape inside a string";
              return FALSE;
            }
          if (*scan->p == 'u')
            {
              for (int i = 1; i <= 4; i++)
                if (scan->p + i >= scan->end || !g_ascii_isxdigit (scan->p[i]))
                  {
                    scan->problem = "a bad \\u escape inside a string";
                    return FALSE;
                  }
              /* json-glib would cut the string at a NUL and keep the rest
               * quietly short; no field of ours holds one. */
              if (memcmp (scan->p + 1, "0000", 4) == 0)
                {
                  scan->problem = "a NUL character (\\u0000) inside a string";
                  return FALSE;
                }
              scan->p += 4;
            }
        }
      scan->p++;
    }
  scan->problem = "a string that never ends";
  return FALSE;
}

static gboolean
scan_number (JsonScan *scan)
{
  const char *start = scan->p;

  if (scan->p < scan->end && *scan->p == '-')
    scan->p++;
  if (scan->p < scan->end && *scan->p == '0')
    scan->p++;
  else if (scan->p < scan->end && *scan->p >= '1' && *scan->p <= '9')
    while (scan->p < scan->end && g_ascii_isdigit (*scan->p))
      scan->p++;
  else
    goto bad;
  if (scan->p < scan->end && *scan->p == '.')
    {
      scan->p++;
      if (scan->p >= scan->end || !g_ascii_isdigit (*scan->p))
        goto bad;
      while (scan->p < scan->end && g_ascii_isdigit (*scan->p))
        scan->p++;
    }
  if (scan->p < scan->end && (*scan->p == 'e' || *scan->p == 'E'))
    {
      scan->p++;
      if (scan->p < scan->end && (*scan->p == '+' || *scan->p == '-'))
        scan->p++;
      if (scan->p >= scan->end || !g_ascii_isdigit (*scan->p))
        goto bad;
      while (scan->p < scan->end && g_ascii_isdigit (*scan->p))
        scan->p++;
    }
  /* "012" is not a number JSON allows. */
  if (scan->p < scan->end && g_ascii_isdigit (*scan->p))
    goto bad;
  return TRUE;

bad:
  scan->p = start;
  scan->problem = "a malformed number";
  return FALSE;
}

static gboolean
scan_value (JsonScan *scan,
            guint     depth)
{
  scan_ws (scan);
  if (scan->p >= scan->end)
    {
      scan->problem = "the body ends too early";
      return FALSE;
    }
  if (depth > MAX_JSON_DEPTH)
    {
      scan->problem = "nesting deeper than 64 levels";
      return FALSE;
    }
  switch (*scan->p)
    {
    case '{':
      scan->p++;
      scan_ws (scan);
      if (scan->p < scan->end && *scan->p == '}')
        {
          scan->p++;
          return TRUE;
        }
      for (;;)
        {
          scan_ws (scan);
          if (scan->p >= scan->end || *scan->p != '"')
            {
              scan->problem = "a member name that is not a double-quoted string";
              return FALSE;
            }
          if (!scan_string (scan))
            return FALSE;
          scan_ws (scan);
          if (scan->p >= scan->end || *scan->p != ':')
            {
              scan->problem = "a missing “:” after a member name";
              return FALSE;
            }
          scan->p++;
          if (!scan_value (scan, depth + 1))
            return FALSE;
          scan_ws (scan);
          if (scan->p < scan->end && *scan->p == ',')
            {
              scan->p++;
              continue;
            }
          if (scan->p < scan->end && *scan->p == '}')
            {
              scan->p++;
              return TRUE;
            }
          scan->problem = "a missing “,” or “}” in an object";
          return FALSE;
        }
    case '[':
      scan->p++;
      scan_ws (scan);
      if (scan->p < scan->end && *scan->p == ']')
        {
          scan->p++;
          return TRUE;
        }
      for (;;)
        {
          if (!scan_value (scan, depth + 1))
            return FALSE;
          scan_ws (scan);
          if (scan->p < scan->end && *scan->p == ',')
            {
              scan->p++;
              continue;
            }
          if (scan->p < scan->end && *scan->p == ']')
            {
              scan->p++;
              return TRUE;
            }
          scan->problem = "a missing “,” or “]” in a list";
          return FALSE;
        }
    case '"':
      return scan_string (scan);
    case 't':
      return scan_literal (scan, "true");
    case 'f':
      return scan_literal (scan, "false");
    case 'n':
      return scan_literal (scan, "null");
    default:
      return scan_number (scan);
    }
}

JsonNode *
kefu_json_parse_strict (const char  *text,
                        gssize       length,
                        GError     **error)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) local_error = NULL;
  JsonScan scan;
  gsize len;

  if (!text)
    {
      g_set_error_literal (error, KEFU_RECORD_ERROR, KEFU_RECORD_ERROR_SYNTAX,
                           "Malformed JSON: the body is empty");
      return NULL;
    }
  len = length < 0 ? strlen (text) : (gsize) length;
  if (!g_utf8_validate (text, len, NULL))
    {
      g_set_error_literal (error, KEFU_RECORD_ERROR, KEFU_RECORD_ERROR_SYNTAX,
                           "Malformed JSON: the body is not valid UTF-8");
      return NULL;
    }

  scan = (JsonScan) { text, text + len, NULL };
  if (scan_value (&scan, 0))
    {
      scan_ws (&scan);
      if (scan.p < scan.end)
        scan.problem = "more after the end of the JSON value";
    }
  if (scan.problem)
    {
      g_set_error (error, KEFU_RECORD_ERROR, KEFU_RECORD_ERROR_SYNTAX,
                   "Malformed JSON: %s at byte %" G_GSIZE_FORMAT, scan.problem,
                   (gsize) (scan.p - text));
      return NULL;
    }

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, text, len, &local_error))
    {
      g_set_error (error, KEFU_RECORD_ERROR, KEFU_RECORD_ERROR_SYNTAX, "Malformed JSON: %s",
                   local_error->message);
      return NULL;
    }
  return json_node_copy (json_parser_get_root (parser));
}
