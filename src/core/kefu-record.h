/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The records a contact centre keeps (customer, contact, case, case note,
 * call record, fax, agent, queue, event), each described once by a table of
 * fields.  Decoding is strict: a field the kind does not have, a value of
 * the wrong type, an over-long string, a value outside its choices or a
 * missing required field is a KEFU_RECORD_ERROR that names the field, and
 * nothing is half-accepted.  Used by the server on every write and by the
 * desktop on what it syncs.
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define KEFU_RECORD_ERROR (kefu_record_error_quark ())
GQuark kefu_record_error_quark (void);

typedef enum {
  KEFU_RECORD_ERROR_SYNTAX,         /* not JSON, or not an object */
  KEFU_RECORD_ERROR_UNKNOWN_FIELD,
  KEFU_RECORD_ERROR_WRONG_TYPE,
  KEFU_RECORD_ERROR_TOO_LONG,
  KEFU_RECORD_ERROR_MISSING_FIELD,
  KEFU_RECORD_ERROR_INVALID_VALUE,  /* not one of the choices, out of range, bad phone... */
} KefuRecordError;

typedef enum {
  KEFU_FIELD_STRING,
  KEFU_FIELD_TEXT,        /* long free text (notes) */
  KEFU_FIELD_ENUM,
  KEFU_FIELD_INT,
  KEFU_FIELD_NUMBER,
  KEFU_FIELD_BOOL,
  KEFU_FIELD_TIMESTAMP,   /* ISO 8601 string */
  KEFU_FIELD_STRING_LIST,
  KEFU_FIELD_PHONE_LIST,  /* strings normalised to E.164 */
  KEFU_FIELD_EMAIL_LIST,
  KEFU_FIELD_SKILLS,      /* object: queue name -> proficiency 1..100 */
  KEFU_FIELD_OBJECT,      /* any JSON object (event data) */
} KefuFieldType;

typedef enum {
  KEFU_FIELD_REQUIRED   = 1 << 0,  /* must be present on create */
  KEFU_FIELD_READ_ONLY  = 1 << 1,  /* server-set; ignored when a client echoes it back */
  KEFU_FIELD_WRITE_ONLY = 1 << 2,  /* accepted, never stored in the document (password) */
  KEFU_FIELD_NAME_CHARS = 1 << 3,  /* [a-z0-9._-], for usernames and queue names */
} KefuFieldFlags;

typedef struct {
  const char          *name;
  KefuFieldType        type;
  guint                flags;
  gsize                max;       /* characters for strings, items for lists */
  const char * const  *choices;   /* ENUM */
  double               min_value; /* INT/NUMBER when min_value < max_value */
  double               max_value;
  const char          *description;
} KefuField;

typedef struct {
  const char       *name;         /* "customer" */
  const char       *plural;       /* "customers": the route and the table */
  const KefuField  *fields;
  guint             n_fields;
} KefuRecordKind;

extern const KefuRecordKind kefu_record_customer;
extern const KefuRecordKind kefu_record_contact;
extern const KefuRecordKind kefu_record_case;
extern const KefuRecordKind kefu_record_case_note;
extern const KefuRecordKind kefu_record_call;
extern const KefuRecordKind kefu_record_fax;
extern const KefuRecordKind kefu_record_agent;
extern const KefuRecordKind kefu_record_queue;
extern const KefuRecordKind kefu_record_event;
extern const KefuRecordKind kefu_record_callback;

extern const char * const kefu_agent_states[];   /* NULL-terminated */
extern const char * const kefu_roles[];          /* agent < supervisor < teamlead < admin, then service */
extern const char * const kefu_event_types[];
extern const char * const kefu_callback_statuses[];  /* open, claimed, done, failed */

typedef enum {
  KEFU_RECORD_CREATE,   /* required fields must be there */
  KEFU_RECORD_UPDATE,   /* a partial document: only the fields to change */
} KefuRecordMode;

const KefuRecordKind *kefu_record_kind_lookup (const char *name_or_plural);
const KefuField      *kefu_record_kind_field  (const KefuRecordKind *kind, const char *name);

/* Parses and validates; on success returns a new object holding only the
 * kind's fields, phone numbers normalised to E.164 with default_country.
 * On failure *out_field (when given) names the offending field. */
JsonObject *kefu_record_decode   (const KefuRecordKind  *kind,
                                  const char            *json,
                                  gssize                 length,
                                  KefuRecordMode         mode,
                                  const char            *default_country,
                                  char                 **out_field,
                                  GError               **error) G_GNUC_WARN_UNUSED_RESULT;

/* Same, on an already parsed node. */
JsonObject *kefu_record_validate (const KefuRecordKind  *kind,
                                  JsonNode              *node,
                                  KefuRecordMode         mode,
                                  const char            *default_country,
                                  char                 **out_field,
                                  GError               **error) G_GNUC_WARN_UNUSED_RESULT;

/* Parses exactly one RFC 8259 JSON value (nothing before or after it,
 * nesting at most 64 deep); KEFU_RECORD_ERROR_SYNTAX otherwise. */
JsonNode   *kefu_json_parse_strict (const char *text, gssize length,
                                    GError **error) G_GNUC_WARN_UNUSED_RESULT;

char       *kefu_record_encode   (JsonObject *object) G_GNUC_WARN_UNUSED_RESULT;

/* JsonObject convenience: NULL / default when absent or null. */
const char *kefu_json_get_string (JsonObject *object, const char *member);
gint64      kefu_json_get_int    (JsonObject *object, const char *member, gint64 fallback);
double      kefu_json_get_double (JsonObject *object, const char *member, double fallback);

/* "agent" -> 0 ... "admin" -> 3, "service" -> 4, unknown -> -1 */
int         kefu_role_rank       (const char *role);
gboolean    kefu_strv_contains_choice (const char * const *choices, const char *value);

G_END_DECLS
