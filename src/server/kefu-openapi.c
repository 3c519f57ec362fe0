/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuServer"

#include "config.h"

#include "kefu-server-private.h"

#include <string.h>

/* The description is built from the route table and the record kinds, so
 * it cannot drift from what the server does. */

static void
add_field_schema (JsonBuilder     *builder,
                  const KefuField *field)
{
  json_builder_begin_object (builder);
  switch (field->type)
    {
    case KEFU_FIELD_STRING:
    case KEFU_FIELD_TEXT:
      json_builder_set_member_name (builder, "type");
      json_builder_add_string_value (builder, "string");
      if (field->max)
        {
          json_builder_set_member_name (builder, "maxLength");
          json_builder_add_int_value (builder, field->max);
        }
      if (field->flags & KEFU_FIELD_NAME_CHARS)
        {
          json_builder_set_member_name (builder, "pattern");
          json_builder_add_string_value (builder, "^[a-z0-9._-]+$");
        }
      break;
    case KEFU_FIELD_ENUM:
      json_builder_set_member_name (builder, "type");
      json_builder_add_string_value (builder, "string");
      json_builder_set_member_name (builder, "enum");
      json_builder_begin_array (builder);
      for (guint i = 0; field->choices[i]; i++)
        json_builder_add_string_value (builder, field->choices[i]);
      json_builder_end_array (builder);
      break;
    case KEFU_FIELD_TIMESTAMP:
      json_builder_set_member_name (builder, "type");
      json_builder_add_string_value (builder, "string");
      json_builder_set_member_name (builder, "format");
      json_builder_add_string_value (builder, "date-time");
      break;
    case KEFU_FIELD_INT:
    case KEFU_FIELD_NUMBER:
      json_builder_set_member_name (builder, "type");
      json_builder_add_string_value (builder, field->type == KEFU_FIELD_INT ? "integer" : "number");
      if (field->min_value < field->max_value)
        {
          json_builder_set_member_name (builder, "minimum");
          json_builder_add_double_value (builder, field->min_value);
          json_builder_set_member_name (builder, "maximum");
          json_builder_add_double_value (builder, field->max_value);
        }
      break;
    case KEFU_FIELD_BOOL:
      json_builder_set_member_name (builder, "type");
      json_builder_add_string_value (builder, "boolean");
      break;
    case KEFU_FIELD_STRING_LIST:
    case KEFU_FIELD_PHONE_LIST:
    case KEFU_FIELD_EMAIL_LIST:
      json_builder_set_member_name (builder, "type");
      json_builder_add_string_value (builder, "array");
      json_builder_set_member_name (builder, "maxItems");
      json_builder_add_int_value (builder, field->max);
      json_builder_set_member_name (builder, "items");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "type");
      json_builder_add_string_value (builder, "string");
      if (field->type == KEFU_FIELD_EMAIL_LIST)
        {
          json_builder_set_member_name (builder, "format");
          json_builder_add_string_value (builder, "email");
        }
      json_builder_end_object (builder);
      break;
    case KEFU_FIELD_SKILLS:
    case KEFU_FIELD_OBJECT:
    default:
      json_builder_set_member_name (builder, "type");
      json_builder_add_string_value (builder, "object");
      if (field->type == KEFU_FIELD_SKILLS)
        {
          json_builder_set_member_name (builder, "additionalProperties");
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "type");
          json_builder_add_string_value (builder, "integer");
          json_builder_set_member_name (builder, "minimum");
          json_builder_add_int_value (builder, 1);
          json_builder_set_member_name (builder, "maximum");
          json_builder_add_int_value (builder, 100);
          json_builder_end_object (builder);
        }
      break;
    }
  if (field->flags & KEFU_FIELD_READ_ONLY)
    {
      json_builder_set_member_name (builder, "readOnly");
      json_builder_add_boolean_value (builder, TRUE);
    }
  if (field->flags & KEFU_FIELD_WRITE_ONLY)
    {
      json_builder_set_member_name (builder, "writeOnly");
      json_builder_add_boolean_value (builder, TRUE);
    }
  if (field->description)
    {
      json_builder_set_member_name (builder, "description");
      json_builder_add_string_value (builder, field->description);
    }
  json_builder_end_object (builder);
}

static void
add_kind_schema (JsonBuilder          *builder,
                 const KefuRecordKind *kind)
{
  json_builder_set_member_name (builder, kind->name);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, "object");
  json_builder_set_member_name (builder, "additionalProperties");
  json_builder_add_boolean_value (builder, FALSE);
  json_builder_set_member_name (builder, "required");
  json_builder_begin_array (builder);
  for (guint i = 0; i < kind->n_fields; i++)
    if (kind->fields[i].flags & KEFU_FIELD_REQUIRED)
      json_builder_add_string_value (builder, kind->fields[i].name);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "properties");
  json_builder_begin_object (builder);
  for (guint i = 0; i < kind->n_fields; i++)
    {
      json_builder_set_member_name (builder, kind->fields[i].name);
      add_field_schema (builder, &kind->fields[i]);
    }
  json_builder_end_object (builder);
  json_builder_end_object (builder);
}

static void
add_operation (JsonBuilder     *builder,
               const KefuRoute *route)
{
  g_autofree char *method = g_ascii_strdown (route->method, -1);
  g_auto(GStrv) query = route->query_doc ? g_strsplit (route->query_doc, ",", -1) : NULL;
  const char *p;

  json_builder_set_member_name (builder, method);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "summary");
  json_builder_add_string_value (builder, route->summary);
  json_builder_set_member_name (builder, "x-kefu-role");
  json_builder_add_string_value (builder, route->min_role ? route->min_role : "public");
  json_builder_set_member_name (builder, "x-kefu-service-account");
  json_builder_add_boolean_value (builder, (route->flags & KEFU_ROUTE_SERVICE) != 0);

  json_builder_set_member_name (builder, "security");
  json_builder_begin_array (builder);
  if (!(route->flags & KEFU_ROUTE_PUBLIC))
    {
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "bearer");
      json_builder_begin_array (builder);
      json_builder_end_array (builder);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "parameters");
  json_builder_begin_array (builder);
  for (p = strchr (route->pattern, '{'); p; p = strchr (p + 1, '{'))
    {
      g_autofree char *name = g_strndup (p + 1, strcspn (p + 1, "}"));

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "name");
      json_builder_add_string_value (builder, name);
      json_builder_set_member_name (builder, "in");
      json_builder_add_string_value (builder, "path");
      json_builder_set_member_name (builder, "required");
      json_builder_add_boolean_value (builder, TRUE);
      json_builder_set_member_name (builder, "schema");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "type");
      json_builder_add_string_value (builder, "string");
      json_builder_end_object (builder);
      json_builder_end_object (builder);
    }
  for (guint i = 0; query && query[i]; i++)
    {
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "name");
      json_builder_add_string_value (builder, query[i]);
      json_builder_set_member_name (builder, "in");
      json_builder_add_string_value (builder, "query");
      json_builder_set_member_name (builder, "schema");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "type");
      json_builder_add_string_value (builder, "string");
      json_builder_end_object (builder);
      json_builder_end_object (builder);
    }
  if (g_str_equal (route->method, "PUT") || g_str_equal (route->method, "PATCH") ||
      g_str_equal (route->method, "DELETE") || g_str_equal (route->method, "POST"))
    {
      static const char * const headers[][2] = {
        { "Idempotency-Key", "Client-made operation id: a retry with the same id is not applied twice" },
        { "If-Match", "The version the change is based on; a stale one gets 409 with the current copy" },
      };

      for (guint h = 0; h < G_N_ELEMENTS (headers); h++)
        {
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "name");
          json_builder_add_string_value (builder, headers[h][0]);
          json_builder_set_member_name (builder, "in");
          json_builder_add_string_value (builder, "header");
          json_builder_set_member_name (builder, "description");
          json_builder_add_string_value (builder, headers[h][1]);
          json_builder_set_member_name (builder, "schema");
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "type");
          json_builder_add_string_value (builder, "string");
          json_builder_end_object (builder);
          json_builder_end_object (builder);
        }
    }
  json_builder_end_array (builder);

  if (route->body_kind)
    {
      g_autofree char *ref = g_strdup_printf ("#/components/schemas/%s", route->body_kind->name);

      json_builder_set_member_name (builder, "requestBody");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "content");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "application/json");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "schema");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "$ref");
      json_builder_add_string_value (builder, ref);
      json_builder_end_object (builder);
      json_builder_end_object (builder);
      json_builder_end_object (builder);
      json_builder_end_object (builder);
    }

  json_builder_set_member_name (builder, "responses");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "default");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "description");
  json_builder_add_string_value (builder, "JSON; errors are {\"error\": {\"code\", \"message\", \"field\"}}");
  json_builder_end_object (builder);
  json_builder_end_object (builder);

  json_builder_end_object (builder);
}

JsonNode *
kefu_server_build_openapi (void)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(GPtrArray) done = g_ptr_array_new ();
  const KefuRecordKind *kinds[] = {
    &kefu_record_customer, &kefu_record_contact, &kefu_record_case, &kefu_record_case_note,
    &kefu_record_call, &kefu_record_fax, &kefu_record_agent, &kefu_record_queue,
    &kefu_record_event,
  };

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "openapi");
  json_builder_add_string_value (builder, "3.0.3");
  json_builder_set_member_name (builder, "info");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "title");
  json_builder_add_string_value (builder, "Kefu server API");
  json_builder_set_member_name (builder, "version");
  json_builder_add_string_value (builder, PACKAGE_VERSION);
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "paths");
  json_builder_begin_object (builder);
  for (guint i = 0; i < kefu_n_routes; i++)
    {
      const char *pattern = kefu_routes[i].pattern;
      gboolean seen = FALSE;

      for (guint d = 0; d < done->len; d++)
        if (g_str_equal (g_ptr_array_index (done, d), pattern))
          seen = TRUE;
      if (seen)
        continue;
      g_ptr_array_add (done, (gpointer) pattern);

      json_builder_set_member_name (builder, pattern);
      json_builder_begin_object (builder);
      for (guint j = i; j < kefu_n_routes; j++)
        if (g_str_equal (kefu_routes[j].pattern, pattern))
          add_operation (builder, &kefu_routes[j]);
      json_builder_end_object (builder);
    }
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "components");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "securitySchemes");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "bearer");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, "http");
  json_builder_set_member_name (builder, "scheme");
  json_builder_add_string_value (builder, "bearer");
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "schemas");
  json_builder_begin_object (builder);
  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    add_kind_schema (builder, kinds[i]);
  json_builder_end_object (builder);
  json_builder_end_object (builder);

  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}
