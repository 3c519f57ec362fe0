/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuServer"

#include "config.h"

#include "kefu-server-private.h"
#include "kefu-erlang.h"
#include "kefu-phone-number.h"
#include "kefu-report.h"
#include "kefu-time.h"

#include <math.h>
#include <string.h>

#define DEFAULT_PAGE 50
#define MAX_PAGE 500

/* --- helpers --------------------------------------------------------------------- */

static gboolean
read_paging (KefuRequest *request,
             guint       *offset,
             guint       *limit)
{
  guint64 o, l;

  if (!kefu_request_read_uint (request, "offset", 0, G_MAXINT32, &o) ||
      !kefu_request_read_uint (request, "limit", DEFAULT_PAGE, MAX_PAGE, &l))
    return FALSE;
  *offset = (guint) o;
  *limit = l ? (guint) l : DEFAULT_PAGE;
  return TRUE;
}

static void
respond_page (KefuRequest *request,
              JsonArray   *items,
              guint        offset,
              guint        limit)
{
  g_autoptr(JsonObject) body = json_object_new ();
  guint n = json_array_get_length (items);

  json_object_set_array_member (body, "items", json_array_ref (items));
  json_object_set_int_member (body, "offset", offset);
  json_object_set_int_member (body, "limit", limit);
  /* A full page may have more behind it. */
  if (n == limit)
    json_object_set_int_member (body, "next_offset", offset + n);
  else
    json_object_set_null_member (body, "next_offset");
  kefu_request_object (request, SOUP_STATUS_OK, body);
}

static KefuWrite
write_for (KefuRequest *request,
           guint        status)
{
  KefuWrite write = KEFU_WRITE_INIT;

  /* A key names one operation of one user on one resource: the same key
   * sent by someone else, or to another route, is a different operation
   * and must not replay this one's answer. */
  if (request->op_id && !request->scoped_op_id)
    request->scoped_op_id = g_strdup_printf ("%s %s %s %s",
                                             request->session ? request->session->username : "-",
                                             request->method, request->path, request->op_id);
  write.op_id = request->scoped_op_id;
  write.base_version = request->base_version;
  write.actor = request->session ? request->session->username : NULL;
  write.status = status;
  return write;
}

static void
respond_write (KefuRequest     *request,
               KefuWriteResult *result,
               guint            status)
{
  if (result->replayed)
    kefu_request_header (request, "Idempotent-Replayed", "true");
  if (result->record)
    {
      g_autofree char *etag = g_strdup_printf ("\"%" G_GINT64_FORMAT "\"",
                                               json_object_get_int_member_with_default (
                                                 result->record, "version", 0));

      kefu_request_header (request, "ETag", etag);
      kefu_request_object (request, result->replayed ? (guint) result->status : status,
                           result->record);
    }
  else
    {
      request->status = result->replayed ? (guint) result->status : status;
    }
}

static JsonObject *
decode_body (KefuRequest           *request,
             const KefuRecordKind  *kind,
             KefuRecordMode         mode)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *field = NULL;
  gsize len;
  const char *text = kefu_request_body (request, &len);
  JsonObject *doc;

  doc = kefu_record_decode (kind, text, len, mode, kefu_store_get_default_country (kefu_request_store (request)),
                            &field, &error);
  if (!doc)
    kefu_request_gerror (request, error, field, NULL);
  return doc;
}

/* --- generic record routes --------------------------------------------------------- */

static void
record_get (KefuRequest          *request,
            const KefuRecordKind *kind)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) record = kefu_store_get (kefu_request_store (request), kind,
                                                 kefu_request_param (request, 0), &error);

  if (!record)
    {
      kefu_request_gerror (request, error, NULL, NULL);
      return;
    }
  {
    g_autofree char *etag = g_strdup_printf ("\"%" G_GINT64_FORMAT "\"",
                                             json_object_get_int_member (record, "version"));

    kefu_request_header (request, "ETag", etag);
  }
  kefu_request_object (request, SOUP_STATUS_OK, record);
}

static void
record_create (KefuRequest          *request,
               const KefuRecordKind *kind)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) doc = decode_body (request, kind, KEFU_RECORD_CREATE);
  KefuWriteResult result = { 0 };
  KefuWrite write = write_for (request, SOUP_STATUS_CREATED);

  if (!doc)
    return;
  if (!kefu_store_create (kefu_request_store (request), kind, doc, &write, &result, &error))
    {
      kefu_request_gerror (request, error, NULL, NULL);
      return;
    }
  respond_write (request, &result, SOUP_STATUS_CREATED);
  kefu_write_result_clear (&result);
}

static void
record_update (KefuRequest          *request,
               const KefuRecordKind *kind,
               gboolean              replace)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) doc = decode_body (request, kind,
                                           replace ? KEFU_RECORD_CREATE : KEFU_RECORD_UPDATE);
  g_autoptr(JsonObject) current = NULL;
  KefuWriteResult result = { 0 };
  KefuWrite write = write_for (request, SOUP_STATUS_OK);

  if (!doc)
    return;
  if (!kefu_store_update (kefu_request_store (request), kind, kefu_request_param (request, 0), doc, replace,
                          &write, &result, &current, &error))
    {
      kefu_request_gerror (request, error, NULL, current);
      return;
    }
  respond_write (request, &result, SOUP_STATUS_OK);
  kefu_write_result_clear (&result);
}

static void
record_delete (KefuRequest          *request,
               const KefuRecordKind *kind)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) current = NULL;
  KefuWriteResult result = { 0 };
  KefuWrite write = write_for (request, SOUP_STATUS_NO_CONTENT);

  if (!kefu_store_delete (kefu_request_store (request), kind, kefu_request_param (request, 0), &write,
                          &result, &current, &error))
    {
      kefu_request_gerror (request, error, NULL, current);
      return;
    }
  respond_write (request, &result, SOUP_STATUS_NO_CONTENT);
  kefu_write_result_clear (&result);
}

static void
record_list (KefuRequest          *request,
             const KefuRecordKind *kind,
             const char * const   *filters)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) filter = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(JsonArray) items = NULL;
  guint offset, limit;

  if (!read_paging (request, &offset, &limit))
    return;
  if (request->query)
    {
      GHashTableIter iter;
      gpointer key, value;

      g_hash_table_iter_init (&iter, request->query);
      while (g_hash_table_iter_next (&iter, &key, &value))
        {
          if (g_str_equal (key, "offset") || g_str_equal (key, "limit"))
            continue;
          if (!filters || !g_strv_contains (filters, key))
            {
              g_autofree char *known = filters ? g_strjoinv (", ", (char **) filters) : NULL;

              kefu_request_error (request, SOUP_STATUS_BAD_REQUEST, "bad_query",
                                  "Unknown query parameter “%s”; %s accepts offset, limit%s%s",
                                  (char *) key, request->path, known ? ", " : "",
                                  known ? known : "");
              return;
            }
          g_hash_table_insert (filter, key, value);
        }
    }
  items = kefu_store_list (kefu_request_store (request), kind, filter, offset, limit, &error);
  if (!items)
    {
      kefu_request_gerror (request, error, NULL, NULL);
      return;
    }
  respond_page (request, items, offset, limit);
}

/* --- sessions ------------------------------------------------------------------------ */

static void
on_login (KefuRequest *request)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(KefuSession) session = NULL;
  g_autoptr(JsonObject) body = NULL;
  g_autofree char *token = NULL;
  g_autofree char *expires = NULL;
  JsonObject *object;
  const char *username, *password;
  gsize len;
  const char *text = kefu_request_body (request, &len);
  guint retry_after = 0;

  root = kefu_json_parse_strict (text, len, &error);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root))
    {
      kefu_request_error (request, SOUP_STATUS_BAD_REQUEST, "malformed_json",
                          "Send {\"username\": \"...\", \"password\": \"...\"}%s%s",
                          error ? " — " : "", error ? error->message : "");
      return;
    }
  object = json_node_get_object (root);
  username = kefu_json_get_string (object, "username");
  password = kefu_json_get_string (object, "password");
  if (!username || !password)
    {
      kefu_request_error (request, SOUP_STATUS_BAD_REQUEST, "missing_field",
                          "Both “username” and “password” are needed, as strings");
      return;
    }
  if (json_object_get_size (object) != 2)
    {
      kefu_request_error (request, SOUP_STATUS_BAD_REQUEST, "unknown_field",
                          "A login takes only “username” and “password”");
      return;
    }

  token = kefu_auth_login (request->server->auth, username, password, request->client, &session,
                           &retry_after, &error);
  if (!token)
    {
      if (retry_after)
        {
          g_autofree char *seconds = g_strdup_printf ("%u", retry_after);

          kefu_request_header (request, "Retry-After", seconds);
        }
      kefu_request_gerror (request, error, NULL, NULL);
      return;
    }

  body = json_object_new ();
  expires = kefu_time_format_ms (session->expires_ms);
  json_object_set_string_member (body, "token", token);
  json_object_set_string_member (body, "expires", expires);
  json_object_set_string_member (body, "role", session->role);
  json_object_set_string_member (body, "username", session->username);
  json_object_set_int_member (body, "agent_id", session->agent_id);
  kefu_request_object (request, SOUP_STATUS_CREATED, body);
}

static void
on_logout (KefuRequest *request)
{
  g_autoptr(GError) error = NULL;

  if (!kefu_auth_logout (request->server->auth, request->token, &error))
    {
      kefu_request_gerror (request, error, NULL, NULL);
      return;
    }
  request->status = SOUP_STATUS_NO_CONTENT;
}

static void
on_session_get (KefuRequest *request)
{
  g_autoptr(JsonObject) body = json_object_new ();
  g_autofree char *expires = kefu_time_format_ms (request->session->expires_ms);

  json_object_set_string_member (body, "username", request->session->username);
  json_object_set_string_member (body, "role", request->session->role);
  json_object_set_int_member (body, "agent_id", request->session->agent_id);
  json_object_set_string_member (body, "expires", expires);
  kefu_request_object (request, SOUP_STATUS_OK, body);
}

/* --- customers ------------------------------------------------------------------------ */

static void
on_customers_list (KefuRequest *request)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) items = NULL;
  const char *phone = kefu_request_query (request, "phone");
  const char *q = kefu_request_query (request, "q");
  const char *account = kefu_request_query (request, "account_number");
  guint offset, limit;

  if (!read_paging (request, &offset, &limit))
    return;
  if (request->query)
    {
      GHashTableIter iter;
      gpointer key;

      g_hash_table_iter_init (&iter, request->query);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        if (!g_strv_contains ((const char * const[]) { "phone", "q", "account_number", "offset",
                                                       "limit", NULL }, key))
          {
            kefu_request_error (request, SOUP_STATUS_BAD_REQUEST, "bad_query",
                                "Unknown query parameter “%s”; customers accept phone, q, "
                                "account_number, offset and limit", (char *) key);
            return;
          }
    }
  if ((phone != NULL) + (q != NULL) + (account != NULL) > 1)
    {
      kefu_request_error (request, SOUP_STATUS_BAD_REQUEST, "bad_query",
                          "Give one of phone (exact number), account_number (exact, as callers "
                          "key it in the IVR) or q (search)");
      return;
    }

  if (phone)
    {
      items = kefu_store_find_customers_by_phone (kefu_request_store (request), phone, &error);
      if (!items && error && error->domain == KEFU_PHONE_NUMBER_ERROR)
        {
          kefu_request_error (request, SOUP_STATUS_BAD_REQUEST, "bad_phone", "%s", error->message);
          return;
        }
    }
  else if (account)
    {
      g_autoptr(GHashTable) filter = g_hash_table_new (g_str_hash, g_str_equal);

      g_hash_table_insert (filter, (gpointer) "account_number", (gpointer) account);
      items = kefu_store_list (kefu_request_store (request), &kefu_record_customer, filter, offset,
                               limit, &error);
    }
  else if (q)
    {
      g_autofree char *trimmed = g_strstrip (g_strdup (q));

      if (!*trimmed)
        {
          kefu_request_error (request, SOUP_STATUS_BAD_REQUEST, "bad_query",
                              "q is empty: type part of a name or a number");
          return;
        }
      items = kefu_store_search_customers (kefu_request_store (request), q, offset, limit, &error);
    }
  else
    {
      items = kefu_store_list (kefu_request_store (request), &kefu_record_customer, NULL, offset, limit,
                               &error);
    }
  if (!items)
    {
      kefu_request_gerror (request, error, NULL, NULL);
      return;
    }
  respond_page (request, items, offset, limit);
}

static void on_customer_get (KefuRequest *r) { record_get (r, &kefu_record_customer); }
static void on_customer_create (KefuRequest *r) { record_create (r, &kefu_record_customer); }
static void on_customer_put (KefuRequest *r) { record_update (r, &kefu_record_customer, TRUE); }
static void on_customer_patch (KefuRequest *r) { record_update (r, &kefu_record_customer, FALSE); }
static void on_customer_delete (KefuRequest *r) { record_delete (r, &kefu_record_customer); }

static void
on_customer_history (KefuRequest *request)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) customer = NULL;
  g_autoptr(JsonObject) body = json_object_new ();
  g_autoptr(GHashTable) filter = g_hash_table_new (g_str_hash, g_str_equal);
  const KefuRecordKind *kinds[] = { &kefu_record_call, &kefu_record_case, &kefu_record_fax,
                                    &kefu_record_contact };

  customer = kefu_store_get (kefu_request_store (request), &kefu_record_customer,
                             kefu_request_param (request, 0), &error);
  if (!customer)
    {
      kefu_request_gerror (request, error, NULL, NULL);
      return;
    }
  {
    g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT,
                                           json_object_get_int_member (customer, "id"));

    g_hash_table_insert (filter, (gpointer) "customer_id", id);
    for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
      {
        JsonArray *items = kefu_store_list (kefu_request_store (request), kinds[i], filter, 0, 200, &error);

        if (!items)
          {
            kefu_request_gerror (request, error, NULL, NULL);
            return;
          }
        json_object_set_array_member (body, kinds[i]->plural, items);
      }
  }
  json_object_set_object_member (body, "customer", g_steal_pointer (&customer));
  kefu_request_object (request, SOUP_STATUS_OK, body);
}

/* --- contacts, cases, calls, faxes, queues ---------------------------------------------- */

static void on_contacts_list (KefuRequest *r)
{
  record_list (r, &kefu_record_contact, (const char * const[]) { "customer_id", NULL });
}
static void on_contact_get (KefuRequest *r) { record_get (r, &kefu_record_contact); }
static void on_contact_create (KefuRequest *r) { record_create (r, &kefu_record_contact); }
static void on_contact_put (KefuRequest *r) { record_update (r, &kefu_record_contact, TRUE); }
static void on_contact_patch (KefuRequest *r) { record_update (r, &kefu_record_contact, FALSE); }
static void on_contact_delete (KefuRequest *r) { record_delete (r, &kefu_record_contact); }

static void on_cases_list (KefuRequest *r)
{
  record_list (r, &kefu_record_case, (const char * const[]) {
    "customer_id", "call_id", "status", "assignee", "category", NULL });
}
static void on_case_get (KefuRequest *r) { record_get (r, &kefu_record_case); }
static void on_case_create (KefuRequest *r) { record_create (r, &kefu_record_case); }
static void on_case_put (KefuRequest *r) { record_update (r, &kefu_record_case, TRUE); }
static void on_case_patch (KefuRequest *r) { record_update (r, &kefu_record_case, FALSE); }
static void on_case_delete (KefuRequest *r) { record_delete (r, &kefu_record_case); }

static void
on_case_note_add (KefuRequest *request)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) note = decode_body (request, &kefu_record_case_note, KEFU_RECORD_CREATE);
  KefuWriteResult result = { 0 };
  KefuWrite write = write_for (request, SOUP_STATUS_CREATED);

  if (!note)
    return;
  if (!kefu_store_add_case_note (kefu_request_store (request), kefu_request_param (request, 0), note, &write,
                                 &result, &error))
    {
      kefu_request_gerror (request, error, NULL, NULL);
      return;
    }
  respond_write (request, &result, SOUP_STATUS_CREATED);
  kefu_write_result_clear (&result);
}

static void on_calls_list (KefuRequest *r)
{
  record_list (r, &kefu_record_call, (const char * const[]) {
    "customer_id", "queue", "agent", "caller", NULL });
}
static void on_call_get (KefuRequest *r) { record_get (r, &kefu_record_call); }
static void on_call_create (KefuRequest *r) { record_create (r, &kefu_record_call); }
static void on_call_patch (KefuRequest *r) { record_update (r, &kefu_record_call, FALSE); }

static void on_faxes_list (KefuRequest *r)
{
  record_list (r, &kefu_record_fax, (const char * const[]) { "customer_id", "call_id", NULL });
}
static void on_fax_get (KefuRequest *r) { record_get (r, &kefu_record_fax); }
static void on_fax_create (KefuRequest *r) { record_create (r, &kefu_record_fax); }
static void on_fax_patch (KefuRequest *r) { record_update (r, &kefu_record_fax, FALSE); }

static const char * const fax_document_types[] = {
  "image/tiff", "application/pdf", "image/png", "image/jpeg", NULL
};

static void
on_fax_document_put (KefuRequest *request)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *type = NULL;
  KefuWriteResult result = { 0 };
  KefuWrite write = write_for (request, SOUP_STATUS_OK);

  if (request->content_type)
    type = g_ascii_strdown (request->content_type, -1);
  if (type && strchr (type, ';'))
    *strchr (type, ';') = '\0';
  if (!type || !g_strv_contains (fax_document_types, g_strstrip (type)))
    {
      kefu_request_error (request, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                          "A fax document is image/tiff, application/pdf, image/png or "
                          "image/jpeg (got %s)", request->content_type ? request->content_type
                                                                      : "no Content-Type");
      return;
    }
  if (!request->body || g_bytes_get_size (request->body) == 0)
    {
      kefu_request_error (request, SOUP_STATUS_BAD_REQUEST, "empty_document",
                          "The document is empty");
      return;
    }
  if (!kefu_store_put_fax_document (kefu_request_store (request), kefu_request_param (request, 0), type,
                                    request->body, &write, &result, &error))
    {
      kefu_request_gerror (request, error, NULL, NULL);
      return;
    }
  respond_write (request, &result, SOUP_STATUS_OK);
  kefu_write_result_clear (&result);
}

static void
on_fax_document_get (KefuRequest *request)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *type = NULL;
  GBytes *data = kefu_store_get_fax_document (kefu_request_store (request), kefu_request_param (request, 0),
                                              &type, &error);

  if (!data)
    {
      kefu_request_gerror (request, error, NULL, NULL);
      return;
    }
  request->status = SOUP_STATUS_OK;
  request->response_type = g_steal_pointer (&type);
  request->response = data;
}

/* {id} of a queue may be its number or its name: make it the number. */
static gboolean
resolve_queue_id (KefuRequest *request)
{
  const char *id = kefu_request_param (request, 0);
  g_autoptr(GHashTable) filter = NULL;
  g_autoptr(JsonArray) found = NULL;
  g_autoptr(GError) error = NULL;
  guint64 number;

  if (g_ascii_string_to_unsigned (id, 10, 1, G_MAXINT64, &number, NULL))
    return TRUE;
  filter = g_hash_table_new (g_str_hash, g_str_equal);
  g_hash_table_insert (filter, (gpointer) "name", (gpointer) id);
  found = kefu_store_list (kefu_request_store (request), &kefu_record_queue, filter, 0, 1, &error);
  if (!found)
    {
      kefu_request_gerror (request, error, NULL, NULL);
      return FALSE;
    }
  if (json_array_get_length (found) == 0)
    {
      kefu_request_error (request, SOUP_STATUS_NOT_FOUND, "not_found", "There is no queue “%s”",
                          id);
      return FALSE;
    }
  g_free (g_ptr_array_index (request->params, 0));
  g_ptr_array_index (request->params, 0) =
    g_strdup_printf ("%" G_GINT64_FORMAT,
                     json_object_get_int_member (json_array_get_object_element (found, 0), "id"));
  return TRUE;
}

static void on_queues_list (KefuRequest *r) { record_list (r, &kefu_record_queue, NULL); }
static void on_queue_create (KefuRequest *r) { record_create (r, &kefu_record_queue); }

static void
on_queue_put (KefuRequest *r)
{
  if (resolve_queue_id (r))
    record_update (r, &kefu_record_queue, TRUE);
}

static void
on_queue_patch (KefuRequest *r)
{
  if (resolve_queue_id (r))
    record_update (r, &kefu_record_queue, FALSE);
}

static void
on_queue_delete (KefuRequest *r)
{
  if (resolve_queue_id (r))
    record_delete (r, &kefu_record_queue);
}

static void
on_queue_get (KefuRequest *r)
{
  if (resolve_queue_id (r))
    record_get (r, &kefu_record_queue);
}

/* {id} of a queue may be its number or its name. */
static char *
queue_name_for (KefuRequest *request)
{
  const char *id = kefu_request_param (request, 0);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) queue = NULL;
  guint64 number;

  if (!g_ascii_string_to_unsigned (id, 10, 1, G_MAXINT64, &number, NULL))
    return g_strdup (id);
  queue = kefu_store_get (kefu_request_store (request), &kefu_record_queue, id, &error);
  if (!queue)
    {
      kefu_request_gerror (request, error, NULL, NULL);
      return NULL;
    }
  return g_strdup (json_object_get_string_member (queue, "name"));
}

static void
on_queue_live (KefuRequest *request)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *name = queue_name_for (request);
  g_autoptr(JsonObject) live = NULL;

  if (!name)
    return;
  live = kefu_report_queue_live (kefu_request_store (request), name, kefu_time_now_ms (),
                                 request->server->tz, &request->server->config->metrics, &error);
  if (!live)
    {
      kefu_request_gerror (request, error, NULL, NULL);
      return;
    }
  kefu_request_object (request, SOUP_STATUS_OK, live);
}

/* --- agents ------------------------------------------------------------------------------ */

/* {id} of an agent may be its number, its username, or "me". */
static char *
agent_id_for (KefuRequest *request)
{
  const char *id = kefu_request_param (request, 0);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) agent = NULL;
  guint64 number;

  if (g_str_equal (id, "me"))
    return g_strdup_printf ("%" G_GINT64_FORMAT, request->session->agent_id);
  if (g_ascii_string_to_unsigned (id, 10, 1, G_MAXINT64, &number, NULL))
    return g_strdup (id);
  agent = kefu_store_get_agent_by_name (kefu_request_store (request), id, NULL, &error);
  if (!agent)
    {
      kefu_request_gerror (request, error, NULL, NULL);
      return NULL;
    }
  return g_strdup_printf ("%" G_GINT64_FORMAT, json_object_get_int_member (agent, "id"));
}

static void on_agents_list (KefuRequest *r)
{
  record_list (r, &kefu_record_agent, (const char * const[]) { "role", NULL });
}

static void
on_agent_get (KefuRequest *request)
{
  g_autofree char *id = agent_id_for (request);

  if (!id)
    return;
  g_free (g_ptr_array_index (request->params, 0));
  g_ptr_array_index (request->params, 0) = g_steal_pointer (&id);
  record_get (request, &kefu_record_agent);
}

/* SIP digest (RFC 2617, kept by RFC 7616 for MD5): HA1 = MD5(user:realm:
 * password), the user being the extension the phone registers as.  Only
 * HA1 is kept; kefu-switch's registrar checks digests with it.  NULL
 * after answering 400 when the password is short or there is no
 * extension to make it for. */
static char *
sip_ha1_for (KefuRequest *request,
             JsonObject  *doc,
             const char  *id,
             KefuWrite   *write,
             char       **out_user)
{
  const char *password = kefu_json_get_string (doc, "sip_password");
  const char *realm = request->server->config->sip_realm;
  g_autoptr(JsonObject) current = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *a1 = NULL;
  const char *extension = NULL;
  char *ha1;

  if (g_utf8_strlen (password, -1) < 8)
    {
      kefu_request_error (request, SOUP_STATUS_BAD_REQUEST, "invalid_value",
                          "Field “sip_password”: at least 8 characters");
      return NULL;
    }
  if (json_object_has_member (doc, "extension"))
    {
      extension = kefu_json_get_string (doc, "extension");
    }
  else if (id && g_str_equal (request->method, "PATCH"))
    {
      current = kefu_store_get (kefu_request_store (request), &kefu_record_agent, id, &error);
      if (!current)
        {
          kefu_request_gerror (request, error, NULL, NULL);
          return NULL;
        }
      extension = kefu_json_get_string (current, "extension");
    }
  if (!extension || !*extension)
    {
      kefu_request_error (request, SOUP_STATUS_BAD_REQUEST, "invalid_value",
                          "Field “sip_password”: the agent needs an extension (the SIP user of "
                          "their phone) for it to be made for");
      return NULL;
    }
  a1 = g_strdup_printf ("%s:%s:%s", extension, realm, password);
  ha1 = g_compute_checksum_for_string (G_CHECKSUM_MD5, a1, -1);
  *out_user = g_strdup (extension);
  write->sip_ha1 = ha1;
  write->sip_user = *out_user;
  write->sip_realm = realm;
  return ha1;
}

/* Tells the event stream's subscribers that an agent's record changed,
 * kefu-switch above all: it reads the SIP credentials, extensions and
 * skills again, so a new agent's phone registers and a new password or
 * skill works at once.  The notice names the agent, never a password or
 * a digest. */
static void
notify_agent_changed (KefuRequest *request,
                      const char  *username,
                      const char  *change,
                      gint64       version)
{
  g_autoptr(JsonObject) notice = json_object_new ();
  JsonObject *data = json_object_new ();
  g_autofree char *now = kefu_time_format_ms (kefu_time_now_ms ());

  json_object_set_string_member (notice, "type", "agent.updated");
  json_object_set_string_member (notice, "ts", now);
  json_object_set_string_member (notice, "agent", username);
  json_object_set_string_member (data, "change", change);
  json_object_set_string_member (data, "by", request->session->username);
  if (version > 0)
    json_object_set_int_member (data, "version", version);
  json_object_set_object_member (notice, "data", data);
  kefu_event_hub_notify (request->server->hub, notice);
}

static void
agent_write (KefuRequest *request,
             gboolean     create,
             gboolean     replace)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) doc = decode_body (request, &kefu_record_agent,
                                           create || replace ? KEFU_RECORD_CREATE
                                                             : KEFU_RECORD_UPDATE);
  g_autoptr(JsonObject) current = NULL;
  g_autofree char *hash = NULL;
  g_autofree char *id = NULL;
  g_autofree char *ha1 = NULL;
  g_autofree char *sip_user = NULL;
  KefuWriteResult result = { 0 };
  KefuWrite write = write_for (request, create ? SOUP_STATUS_CREATED : SOUP_STATUS_OK);
  const char *password;
  gboolean ok;

  if (!doc)
    return;
  if (!create)
    {
      id = agent_id_for (request);
      if (!id)
        return;
    }
  if (kefu_json_get_string (doc, "sip_password"))
    {
      ha1 = sip_ha1_for (request, doc, id, &write, &sip_user);
      if (!ha1)
        return;
    }
  password = kefu_json_get_string (doc, "password");
  if (create && !password)
    {
      kefu_request_error (request, SOUP_STATUS_BAD_REQUEST, "missing_field",
                          "Field “password”: a new agent needs a password");
      return;
    }
  if (password)
    {
      hash = kefu_auth_hash_password (request->server->auth, password, &error);
      if (!hash)
        {
          kefu_request_gerror (request, error, "password", NULL);
          return;
        }
      write.password_hash = hash;
    }

  if (create)
    {
      ok = kefu_store_create (kefu_request_store (request), &kefu_record_agent, doc, &write, &result, &error);
    }
  else
    {
      ok = kefu_store_update (kefu_request_store (request), &kefu_record_agent, id, doc, replace, &write,
                              &result, &current, &error);
    }
  if (!ok)
    {
      kefu_request_gerror (request, error, NULL, current);
      return;
    }
  /* A new role or password takes effect on the next request, not when the
   * session cache next looks. */
  if (id)
    kefu_auth_forget_agent (request->server->auth, g_ascii_strtoll (id, NULL, 10));
  if (!result.replayed && result.record && kefu_json_get_string (result.record, "username"))
    notify_agent_changed (request, kefu_json_get_string (result.record, "username"),
                          create ? "created" : "updated",
                          json_object_get_int_member_with_default (result.record, "version", 0));
  respond_write (request, &result, create ? SOUP_STATUS_CREATED : SOUP_STATUS_OK);
  kefu_write_result_clear (&result);
}

static void on_agent_create (KefuRequest *r) { agent_write (r, TRUE, FALSE); }
static void on_agent_put (KefuRequest *r) { agent_write (r, FALSE, TRUE); }
static void on_agent_patch (KefuRequest *r) { agent_write (r, FALSE, FALSE); }

static void
on_agent_delete (KefuRequest *request)
{
  g_autofree char *id = agent_id_for (request);
  g_autoptr(JsonObject) agent = NULL;

  if (!id)
    return;
  /* Its name, for the notice: the record is gone afterwards. */
  agent = kefu_store_get (kefu_request_store (request), &kefu_record_agent, id, NULL);
  g_free (g_ptr_array_index (request->params, 0));
  g_ptr_array_index (request->params, 0) = g_strdup (id);
  record_delete (request, &kefu_record_agent);
  kefu_auth_forget_agent (request->server->auth, g_ascii_strtoll (id, NULL, 10));
  if (agent && request->status == SOUP_STATUS_NO_CONTENT &&
      kefu_json_get_string (agent, "username"))
    notify_agent_changed (request, kefu_json_get_string (agent, "username"), "removed", 0);
}

/* States an agent picks at the desktop; the others (ringing, talking...)
 * are the switch's to set through events. */
static const char * const agent_settable_states[] = {
  "available", "not_ready", "wrapup", "logged_out", NULL
};

static void
on_agent_state (KefuRequest *request)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonObject) agent = NULL;
  g_autoptr(JsonArray) events = json_array_new ();
  g_autoptr(JsonArray) stored = NULL;
  g_autofree char *id = NULL;
  g_autofree char *settable = NULL;
  JsonObject *body, *event, *data;
  const char *state, *reason;
  gsize len;
  const char *text = kefu_request_body (request, &len);
  KefuWrite write = write_for (request, SOUP_STATUS_OK);
  gboolean replayed = FALSE;

  id = agent_id_for (request);
  if (!id)
    return;
  agent = kefu_store_get (kefu_request_store (request), &kefu_record_agent, id, &error);
  if (!agent)
    {
      kefu_request_gerror (request, error, NULL, NULL);
      return;
    }
  if (!g_str_equal (json_object_get_string_member (agent, "username"), request->session->username) &&
      !kefu_request_has_role (request, "supervisor"))
    {
      kefu_request_error (request, SOUP_STATUS_FORBIDDEN, "forbidden",
                          "Only a supervisor may set another agent's state");
      return;
    }

  root = kefu_json_parse_strict (text, len, NULL);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root))
    {
      kefu_request_error (request, SOUP_STATUS_BAD_REQUEST, "malformed_json",
                          "Send {\"state\": \"not_ready\", \"reason\": \"Lunch\"}");
      return;
    }
  body = json_node_get_object (root);
  state = kefu_json_get_string (body, "state");
  reason = kefu_json_get_string (body, "reason");
  settable = g_strjoinv (", ", (char **) agent_settable_states);
  {
    g_autoptr(GList) members = json_object_get_members (body);

    for (GList *l = members; l; l = l->next)
      if (!g_str_equal (l->data, "state") && !g_str_equal (l->data, "reason"))
        {
          kefu_request_error (request, SOUP_STATUS_BAD_REQUEST, "unknown_field",
                              "Field “%s”: a state change has only state and reason",
                              (char *) l->data);
          return;
        }
  }
  if (!state || !kefu_strv_contains_choice (agent_settable_states, state))
    {
      kefu_request_error (request, SOUP_STATUS_BAD_REQUEST, "invalid_value",
                          "Field “state”: must be one of %s", settable);
      return;
    }
  if (g_str_equal (state, "not_ready"))
    {
      if (!reason || !g_strv_contains ((const char * const *) request->server->config->reason_codes,
                                       reason))
        {
          g_autofree char *codes = g_strjoinv (", ", request->server->config->reason_codes);

          kefu_request_error (request, SOUP_STATUS_BAD_REQUEST, "invalid_value",
                              "Field “reason”: going Not ready needs one of the reason codes: %s",
                              codes);
          return;
        }
    }
  else if (reason && json_object_has_member (body, "reason"))
    {
      kefu_request_error (request, SOUP_STATUS_BAD_REQUEST, "invalid_value",
                          "Field “reason”: only Not ready takes a reason");
      return;
    }

  event = json_object_new ();
  data = json_object_new ();
  json_object_set_string_member (event, "type", "agent.state");
  json_object_set_string_member (event, "agent", json_object_get_string_member (agent, "username"));
  json_object_set_string_member (data, "state", state);
  if (reason)
    json_object_set_string_member (data, "reason", reason);
  json_object_set_string_member (data, "by", request->session->username);
  json_object_set_object_member (event, "data", data);
  json_array_add_object_element (events, event);

  stored = kefu_store_append_events (kefu_request_store (request), events, &write, &replayed, &error);
  if (!stored)
    {
      kefu_request_gerror (request, error, NULL, NULL);
      return;
    }
  if (!replayed)
    request->broadcast = json_array_ref (stored);
  g_clear_pointer (&agent, json_object_unref);
  agent = kefu_store_get (kefu_request_store (request), &kefu_record_agent, id, &error);
  if (!agent)
    {
      kefu_request_gerror (request, error, NULL, NULL);
      return;
    }
  kefu_request_object (request, SOUP_STATUS_OK, agent);
}

static void
on_reason_codes (KefuRequest *request)
{
  g_autoptr(JsonObject) body = json_object_new ();
  JsonArray *codes = json_array_new ();

  for (guint i = 0; request->server->config->reason_codes[i]; i++)
    json_array_add_string_element (codes, request->server->config->reason_codes[i]);
  json_object_set_array_member (body, "reason_codes", codes);
  kefu_request_object (request, SOUP_STATUS_OK, body);
}

/* --- events and changes ----------------------------------------------------------------- */

JsonArray *kefu_server_parse_events (KefuServer *self, const char *text, gsize len,
                                     char **out_op_id, char **out_field, GError **error);

JsonArray *
kefu_server_parse_events (KefuServer  *self,
                          const char  *text,
                          gsize        len,
                          char       **out_op_id,
                          char       **out_field,
                          GError     **error)
{
  g_autoptr(JsonArray) events = json_array_new ();
  g_autoptr(JsonNode) root = NULL;
  JsonArray *input = NULL;

  root = kefu_json_parse_strict (text, text ? (gssize) len : 0, error);
  if (!root)
    return NULL;
  if (JSON_NODE_HOLDS_OBJECT (root) &&
      json_object_has_member (json_node_get_object (root), "events"))
    {
      JsonObject *envelope = json_node_get_object (root);
      JsonNode *list = json_object_get_member (envelope, "events");
      g_autoptr(GList) members = json_object_get_members (envelope);

      for (GList *l = members; l; l = l->next)
        if (!g_str_equal (l->data, "events") && !g_str_equal (l->data, "op_id"))
          {
            g_set_error (error, KEFU_RECORD_ERROR, KEFU_RECORD_ERROR_UNKNOWN_FIELD,
                         "Field “%s”: a batch has only events and op_id", (char *) l->data);
            return NULL;
          }
      if (!JSON_NODE_HOLDS_ARRAY (list))
        {
          g_set_error (error, KEFU_RECORD_ERROR, KEFU_RECORD_ERROR_WRONG_TYPE,
                       "Field “events”: expected a list of events");
          return NULL;
        }
      input = json_node_get_array (list);
      if (out_op_id && kefu_json_get_string (envelope, "op_id"))
        *out_op_id = g_strdup (kefu_json_get_string (envelope, "op_id"));
    }

  if (input)
    {
      if (json_array_get_length (input) == 0 || json_array_get_length (input) > 10000)
        {
          g_set_error (error, KEFU_RECORD_ERROR, KEFU_RECORD_ERROR_INVALID_VALUE,
                       "Field “events”: send 1 to 10000 events at a time");
          return NULL;
        }
      for (guint i = 0; i < json_array_get_length (input); i++)
        {
          g_autoptr(GError) item_error = NULL;
          JsonObject *event = kefu_record_validate (&kefu_record_event,
                                                    json_array_get_element (input, i),
                                                    KEFU_RECORD_CREATE, NULL, out_field,
                                                    &item_error);

          if (!event)
            {
              g_set_error (error, item_error->domain, item_error->code, "Event %u: %s", i,
                           item_error->message);
              return NULL;
            }
          json_array_add_object_element (events, event);
        }
    }
  else
    {
      JsonObject *event = kefu_record_validate (&kefu_record_event, root, KEFU_RECORD_CREATE, NULL,
                                                out_field, error);

      if (!event)
        return NULL;
      json_array_add_object_element (events, event);
    }
  return g_steal_pointer (&events);
}

static void
on_events_post (KefuRequest *request)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) events = NULL;
  g_autoptr(JsonArray) stored = NULL;
  g_autoptr(JsonObject) body = json_object_new ();
  g_autofree char *op_id = NULL;
  g_autofree char *field = NULL;
  gsize len;
  const char *text = kefu_request_body (request, &len);
  KefuWrite write = write_for (request, SOUP_STATUS_CREATED);
  gboolean replayed = FALSE;

  events = kefu_server_parse_events (request->server, text, len, &op_id, &field, &error);
  if (!events)
    {
      kefu_request_gerror (request, error, field, NULL);
      return;
    }
  /* A batch's own op_id is scoped the same way over REST and over the
   * WebSocket, so a spool may replay it on either. */
  if (!write.op_id && op_id)
    {
      request->scoped_op_id = g_strdup_printf ("%s events %s", request->session->username, op_id);
      write.op_id = request->scoped_op_id;
    }
  stored = kefu_store_append_events (kefu_request_store (request), events, &write, &replayed, &error);
  if (!stored)
    {
      kefu_request_gerror (request, error, NULL, NULL);
      return;
    }
  if (replayed)
    kefu_request_header (request, "Idempotent-Replayed", "true");
  else
    request->broadcast = json_array_ref (stored);
  json_object_set_array_member (body, "events", g_steal_pointer (&stored));
  kefu_request_object (request, SOUP_STATUS_CREATED, body);
}

static void
on_events_list (KefuRequest *request)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) events = NULL;
  g_autoptr(JsonObject) body = json_object_new ();
  guint64 since, limit;

  if (!kefu_request_read_uint (request, "since", 0, G_MAXINT64, &since) ||
      !kefu_request_read_uint (request, "limit", 500, 10000, &limit))
    return;
  events = kefu_store_list_events (kefu_request_store (request), (gint64) since, limit ? limit : 500, &error);
  if (!events)
    {
      kefu_request_gerror (request, error, NULL, NULL);
      return;
    }
  json_object_set_int_member (body, "cursor",
                              json_array_get_length (events)
                              ? json_object_get_int_member (json_array_get_object_element (
                                  events, json_array_get_length (events) - 1), "id")
                              : (gint64) since);
  json_object_set_array_member (body, "events", g_steal_pointer (&events));
  kefu_request_object (request, SOUP_STATUS_OK, body);
}

static void
on_changes (KefuRequest *request)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) changes = NULL;
  g_autoptr(JsonObject) body = json_object_new ();
  guint64 since, limit;
  gint64 cursor = 0;

  if (!kefu_request_read_uint (request, "since", 0, G_MAXINT64, &since) ||
      !kefu_request_read_uint (request, "limit", 500, 5000, &limit))
    return;
  changes = kefu_store_changes (kefu_request_store (request), (gint64) since, limit ? limit : 500, &cursor,
                                &error);
  if (!changes)
    {
      kefu_request_gerror (request, error, NULL, NULL);
      return;
    }
  json_object_set_int_member (body, "cursor", cursor);
  json_object_set_boolean_member (body, "more", json_array_get_length (changes) == (limit ? limit : 500));
  json_object_set_array_member (body, "changes", g_steal_pointer (&changes));
  kefu_request_object (request, SOUP_STATUS_OK, body);
}

/* --- service routes ------------------------------------------------------------------------ */

static void
on_openapi (KefuRequest *request)
{
  g_autoptr(JsonNode) node = kefu_server_build_openapi ();

  kefu_request_json (request, SOUP_STATUS_OK, node);
}

static void
on_healthz (KefuRequest *request)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) body = json_object_new ();
  gint64 version = kefu_store_schema_version (kefu_request_store (request), &error);

  json_object_set_string_member (body, "status", version >= 0 ? "ok" : "store_unavailable");
  json_object_set_int_member (body, "schema_version", version);
  json_object_set_string_member (body, "version", PACKAGE_VERSION);
  if (error)
    json_object_set_string_member (body, "error", error->message);
  kefu_request_object (request, version >= 0 ? SOUP_STATUS_OK : SOUP_STATUS_SERVICE_UNAVAILABLE,
                       body);
}

static void
on_metrics (KefuRequest *request)
{
  KefuServer *self = request->server;
  gint64 customers = kefu_store_count (self->store, &kefu_record_customer, NULL);
  gint64 events = kefu_store_count (self->store, &kefu_record_event, NULL);
  char *text = kefu_server_stats_render (self->stats, kefu_event_hub_n_clients (self->hub),
                                         customers, events);

  request->status = SOUP_STATUS_OK;
  request->response_type = g_strdup ("text/plain; version=0.0.4; charset=utf-8");
  request->response = g_bytes_new_take (text, strlen (text));
}

static void
on_event_stream_plain (KefuRequest *request)
{
  kefu_request_error (request, SOUP_STATUS_BAD_REQUEST, "websocket_required",
                      "/v1/events/stream is a WebSocket; connect with an Upgrade: websocket "
                      "request (the token as Authorization: Bearer or ?token=)");
}

#define C &kefu_record_customer
/* --- what kefu-switch needs ----------------------------------------------------------- */

static void
on_sip_credentials (KefuRequest *request)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) items = kefu_store_sip_credentials (kefu_request_store (request),
                                                           request->server->config->sip_realm,
                                                           &error);
  g_autoptr(JsonObject) body = NULL;

  if (!items)
    {
      kefu_request_gerror (request, error, NULL, NULL);
      return;
    }
  body = json_object_new ();
  json_object_set_string_member (body, "realm", request->server->config->sip_realm);
  json_object_set_array_member (body, "items", g_steal_pointer (&items));
  kefu_request_object (request, SOUP_STATUS_OK, body);
}

/* --- callbacks ----------------------------------------------------------------------- */

static void
on_callbacks_list (KefuRequest *request)
{
  const char *status = kefu_request_query (request, "status");

  if (status && !g_strv_contains (kefu_callback_statuses, status))
    {
      g_autofree char *known = g_strjoinv (", ", (char **) kefu_callback_statuses);

      kefu_request_error (request, SOUP_STATUS_BAD_REQUEST, "bad_query",
                          "Query parameter “status”: one of %s", known);
      return;
    }
  record_list (request, &kefu_record_callback,
               (const char * const[]) { "status", "queue", "assignee", "customer_id", "call_id",
                                        NULL });
}

static void on_callback_get (KefuRequest *r) { record_get (r, &kefu_record_callback); }

static void
on_callback_create (KefuRequest *request)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) doc = decode_body (request, &kefu_record_callback, KEFU_RECORD_CREATE);
  KefuWriteResult result = { 0 };
  KefuWrite write = write_for (request, SOUP_STATUS_CREATED);
  const char *status;

  if (!doc)
    return;
  status = kefu_json_get_string (doc, "status");
  if (status && !g_str_equal (status, "open"))
    {
      kefu_request_error (request, SOUP_STATUS_BAD_REQUEST, "invalid_value",
                          "Field “status”: a new callback is open; claim it with PATCH");
      return;
    }
  json_object_set_string_member (doc, "status", "open");
  json_object_remove_member (doc, "assignee");
  /* Who files it says where it came from, unless it says so itself. */
  if (!json_object_has_member (doc, "source"))
    json_object_set_string_member (doc, "source",
                                   kefu_request_has_role (request, "service") ? "ivr" : "agent");
  if (!kefu_store_create (kefu_request_store (request), &kefu_record_callback, doc, &write,
                          &result, &error))
    {
      kefu_request_gerror (request, error, NULL, NULL);
      return;
    }
  respond_write (request, &result, SOUP_STATUS_CREATED);
  kefu_write_result_clear (&result);
}

/* Claiming is first come, first served: a callback claimed by someone
 * else, or finished, cannot be claimed (409 with the current copy).  Only
 * the agent who claimed it, or a supervisor, may finish or release it.
 * The write is based on the version just read, so two claims racing each
 * other cannot both win. */
static void
on_callback_patch (KefuRequest *request)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) doc = decode_body (request, &kefu_record_callback, KEFU_RECORD_UPDATE);
  g_autoptr(JsonObject) current = NULL;
  g_autoptr(JsonObject) latest = NULL;
  KefuWriteResult result = { 0 };
  KefuWrite write = write_for (request, SOUP_STATUS_OK);
  const char *me = request->session->username;
  const char *status, *was, *holder;
  gboolean boss = kefu_request_has_role (request, "supervisor") ||
                  kefu_request_has_role (request, "service");

  if (!doc)
    return;
  current = kefu_store_get (kefu_request_store (request), &kefu_record_callback,
                            kefu_request_param (request, 0), &error);
  if (!current)
    {
      kefu_request_gerror (request, error, NULL, NULL);
      return;
    }
  status = kefu_json_get_string (doc, "status");
  was = kefu_json_get_string (current, "status");
  holder = kefu_json_get_string (current, "assignee");

  if (json_object_has_member (doc, "assignee") && !boss)
    {
      kefu_request_error (request, SOUP_STATUS_FORBIDDEN, "forbidden",
                          "Only a supervisor may hand a callback to someone; claim it with "
                          "{\"status\": \"claimed\"}");
      return;
    }
  {
    const char *problem = NULL;

    if (g_strcmp0 (was, "claimed") == 0 && g_strcmp0 (holder, me) != 0 && !boss)
      problem = "is claimed by someone else";
    else if (g_strcmp0 (status, "claimed") == 0 &&
             (g_strcmp0 (was, "done") == 0 || g_strcmp0 (was, "failed") == 0))
      problem = "is finished";
    if (problem)
      {
        g_set_error (&error, KEFU_STORE_ERROR, KEFU_STORE_ERROR_CONFLICT,
                     "Callback %s %s (%s%s%s)", kefu_request_param (request, 0), problem,
                     was ? was : "open", holder ? " by " : "", holder ? holder : "");
        kefu_request_gerror (request, error, "status", current);
        return;
      }
  }
  if (g_strcmp0 (status, "claimed") == 0 && !json_object_has_member (doc, "assignee"))
    json_object_set_string_member (doc, "assignee", me);
  else if (g_strcmp0 (status, "open") == 0)
    json_object_set_null_member (doc, "assignee");

  if (write.base_version < 0)
    write.base_version = json_object_get_int_member (current, "version");
  if (!kefu_store_update (kefu_request_store (request), &kefu_record_callback,
                          kefu_request_param (request, 0), doc, FALSE, &write, &result, &latest,
                          &error))
    {
      kefu_request_gerror (request, error, NULL, latest);
      return;
    }
  respond_write (request, &result, SOUP_STATUS_OK);
  kefu_write_result_clear (&result);
}

static void on_callback_delete (KefuRequest *r) { record_delete (r, &kefu_record_callback); }

#define R(m, p, role, flags, fn, summary, kind, q) { m, p, role, flags, fn, summary, kind, q }

const KefuRoute kefu_routes[] = {
  R ("POST",   "/v1/sessions", NULL, KEFU_ROUTE_PUBLIC, on_login,
     "Log in: {username, password} -> {token, expires, role}", NULL, NULL),
  R ("GET",    "/v1/sessions/current", "agent", KEFU_ROUTE_SERVICE, on_session_get,
     "Who the token belongs to", NULL, NULL),
  R ("DELETE", "/v1/sessions/current", "agent", KEFU_ROUTE_SERVICE, on_logout,
     "Log out (ends the token)", NULL, NULL),

  R ("GET",    "/v1/customers", "agent", KEFU_ROUTE_SERVICE, on_customers_list,
     "List customers; phone= exact number lookup, account_number= exact (IVR), q= name or "
     "number prefix", NULL, "phone,q,account_number,offset,limit"),
  R ("POST",   "/v1/customers", "agent", 0, on_customer_create, "Create a customer", C, NULL),
  R ("GET",    "/v1/customers/{id}", "agent", KEFU_ROUTE_SERVICE, on_customer_get,
     "One customer", NULL, NULL),
  R ("PUT",    "/v1/customers/{id}", "agent", 0, on_customer_put,
     "Replace a customer (If-Match: version)", C, NULL),
  R ("PATCH",  "/v1/customers/{id}", "agent", 0, on_customer_patch,
     "Change some fields of a customer (If-Match: version)", C, NULL),
  R ("DELETE", "/v1/customers/{id}", "supervisor", 0, on_customer_delete,
     "Delete a customer", NULL, NULL),
  R ("GET",    "/v1/customers/{id}/history", "agent", 0, on_customer_history,
     "A customer with their calls, cases, faxes and contacts", NULL, NULL),

  R ("GET",    "/v1/contacts", "agent", 0, on_contacts_list, "List contacts", NULL,
     "customer_id,offset,limit"),
  R ("POST",   "/v1/contacts", "agent", 0, on_contact_create, "Create a contact",
     &kefu_record_contact, NULL),
  R ("GET",    "/v1/contacts/{id}", "agent", 0, on_contact_get, "One contact", NULL, NULL),
  R ("PUT",    "/v1/contacts/{id}", "agent", 0, on_contact_put, "Replace a contact",
     &kefu_record_contact, NULL),
  R ("PATCH",  "/v1/contacts/{id}", "agent", 0, on_contact_patch, "Change a contact",
     &kefu_record_contact, NULL),
  R ("DELETE", "/v1/contacts/{id}", "agent", 0, on_contact_delete, "Delete a contact", NULL, NULL),

  R ("GET",    "/v1/cases", "agent", 0, on_cases_list, "List cases", NULL,
     "customer_id,call_id,status,assignee,category,offset,limit"),
  R ("POST",   "/v1/cases", "agent", 0, on_case_create, "Open a case", &kefu_record_case, NULL),
  R ("GET",    "/v1/cases/{id}", "agent", 0, on_case_get, "One case with its notes", NULL, NULL),
  R ("PUT",    "/v1/cases/{id}", "agent", 0, on_case_put, "Replace a case", &kefu_record_case,
     NULL),
  R ("PATCH",  "/v1/cases/{id}", "agent", 0, on_case_patch, "Change a case", &kefu_record_case,
     NULL),
  R ("DELETE", "/v1/cases/{id}", "supervisor", 0, on_case_delete, "Delete a case", NULL, NULL),
  R ("POST",   "/v1/cases/{id}/notes", "agent", 0, on_case_note_add, "Add a note to a case",
     &kefu_record_case_note, NULL),

  R ("GET",    "/v1/calls", "agent", KEFU_ROUTE_SERVICE, on_calls_list, "List call records",
     NULL, "customer_id,queue,agent,caller,offset,limit"),
  R ("POST",   "/v1/calls", "admin", KEFU_ROUTE_SERVICE, on_call_create,
     "Write a call record (the switch)", &kefu_record_call, NULL),
  R ("GET",    "/v1/calls/{id}", "agent", KEFU_ROUTE_SERVICE, on_call_get, "One call record",
     NULL, NULL),
  R ("PATCH",  "/v1/calls/{id}", "admin", KEFU_ROUTE_SERVICE, on_call_patch,
     "Complete a call record (the switch)", &kefu_record_call, NULL),

  R ("GET",    "/v1/faxes", "agent", KEFU_ROUTE_SERVICE, on_faxes_list, "List faxes", NULL,
     "customer_id,call_id,offset,limit"),
  R ("POST",   "/v1/faxes", "agent", KEFU_ROUTE_SERVICE, on_fax_create, "Record a fax",
     &kefu_record_fax, NULL),
  R ("GET",    "/v1/faxes/{id}", "agent", KEFU_ROUTE_SERVICE, on_fax_get, "One fax", NULL, NULL),
  R ("PATCH",  "/v1/faxes/{id}", "agent", KEFU_ROUTE_SERVICE, on_fax_patch,
     "Change a fax (status, pages)", &kefu_record_fax, NULL),
  R ("PUT",    "/v1/faxes/{id}/document", "agent", KEFU_ROUTE_SERVICE | KEFU_ROUTE_RAW,
     on_fax_document_put, "Upload the fax document (TIFF, PDF, PNG, JPEG)", NULL, NULL),
  R ("GET",    "/v1/faxes/{id}/document", "agent", KEFU_ROUTE_SERVICE, on_fax_document_get,
     "Download the fax document", NULL, NULL),

  R ("GET",    "/v1/agents", "agent", KEFU_ROUTE_SERVICE, on_agents_list, "List agents", NULL,
     "role,offset,limit"),
  R ("POST",   "/v1/agents", "admin", 0, on_agent_create, "Create an agent or user",
     &kefu_record_agent, NULL),
  R ("GET",    "/v1/agents/{id}", "agent", KEFU_ROUTE_SERVICE, on_agent_get,
     "One agent ({id}: number, username or me)", NULL, NULL),
  R ("PUT",    "/v1/agents/{id}", "admin", 0, on_agent_put, "Replace an agent",
     &kefu_record_agent, NULL),
  R ("PATCH",  "/v1/agents/{id}", "admin", 0, on_agent_patch,
     "Change an agent (role, skills, password)", &kefu_record_agent, NULL),
  R ("DELETE", "/v1/agents/{id}", "admin", 0, on_agent_delete, "Remove an agent", NULL, NULL),
  R ("PUT",    "/v1/agents/{id}/state", "agent", 0, on_agent_state,
     "Set an agent's state: {state, reason}", NULL, NULL),
  R ("GET",    "/v1/reason-codes", "agent", KEFU_ROUTE_SERVICE, on_reason_codes,
     "The Not ready reason codes", NULL, NULL),

  R ("GET",    "/v1/sip/credentials", "service", KEFU_ROUTE_SERVICE, on_sip_credentials,
     "Agents' SIP digest credentials for kefu-switch's registrar: "
     "{realm, items: [{username, extension, ha1, realm}]}", NULL, NULL),
  R ("GET",    "/v1/callbacks", "agent", KEFU_ROUTE_SERVICE, on_callbacks_list,
     "List callbacks to make", NULL, "status,queue,assignee,customer_id,call_id,offset,limit"),
  R ("POST",   "/v1/callbacks", "agent", KEFU_ROUTE_SERVICE, on_callback_create,
     "File a callback (the IVR, a queue's overflow, or an agent)", &kefu_record_callback, NULL),
  R ("GET",    "/v1/callbacks/{id}", "agent", KEFU_ROUTE_SERVICE, on_callback_get, "One callback",
     NULL, NULL),
  R ("PATCH",  "/v1/callbacks/{id}", "agent", KEFU_ROUTE_SERVICE, on_callback_patch,
     "Claim ({status: claimed}), finish (done, failed) or release (open) a callback",
     &kefu_record_callback, NULL),
  R ("DELETE", "/v1/callbacks/{id}", "supervisor", 0, on_callback_delete, "Remove a callback",
     NULL, NULL),

  R ("GET",    "/v1/queues", "agent", KEFU_ROUTE_SERVICE, on_queues_list, "List queues", NULL,
     "offset,limit"),
  R ("POST",   "/v1/queues", "admin", 0, on_queue_create, "Create a queue", &kefu_record_queue,
     NULL),
  R ("GET",    "/v1/queues/{id}", "agent", KEFU_ROUTE_SERVICE, on_queue_get,
     "One queue ({id}: number or name)", NULL, NULL),
  R ("PUT",    "/v1/queues/{id}", "admin", 0, on_queue_put, "Replace a queue",
     &kefu_record_queue, NULL),
  R ("PATCH",  "/v1/queues/{id}", "admin", 0, on_queue_patch, "Change a queue",
     &kefu_record_queue, NULL),
  R ("DELETE", "/v1/queues/{id}", "admin", 0, on_queue_delete, "Delete a queue", NULL, NULL),
  R ("GET",    "/v1/queues/{id}/live", "supervisor", 0, on_queue_live,
     "Live snapshot: waiting, longest wait, agents by state, today's figures", NULL, NULL),

  R ("GET",    "/v1/reports/calls", "teamlead", 0, kefu_route_report_calls,
     "Call report: volume, service level, ASA, AHT, abandonment, occupancy", NULL,
     "from,to,interval,by,queue,agent,format,sl_threshold_s,short_abandon_s,sl_denominator"),
  R ("GET",    "/v1/staffing", "teamlead", 0, kefu_route_staffing_get,
     "Agents needed (Erlang C) for calls per interval", NULL,
     "calls,aht_s,interval_s,target_sl,target_s"),
  R ("POST",   "/v1/staffing", "teamlead", 0, kefu_route_staffing_post,
     "Agents needed for a day of intervals", NULL, NULL),

  R ("GET",    "/v1/changes", "agent", 0, on_changes,
     "Sync feed: every change after cursor `since`, in order", NULL, "since,limit"),
  R ("GET",    "/v1/events", "supervisor", KEFU_ROUTE_SERVICE, on_events_list,
     "The event log after id `since`", NULL, "since,limit"),
  R ("POST",   "/v1/events", "admin", KEFU_ROUTE_SERVICE, on_events_post,
     "Publish events (one, or {events: [...], op_id})", &kefu_record_event, NULL),
  R ("GET",    "/v1/events/stream", "agent", KEFU_ROUTE_SERVICE, on_event_stream_plain,
     "WebSocket: receive every event, and agent.updated notices; the switch "
     "publishes here", NULL, "token"),

  R ("GET",    "/v1/openapi.json", NULL, KEFU_ROUTE_PUBLIC, on_openapi,
     "This description", NULL, NULL),
  R ("GET",    "/metrics", NULL, KEFU_ROUTE_PUBLIC, on_metrics, "Prometheus metrics", NULL, NULL),
  R ("GET",    "/healthz", NULL, KEFU_ROUTE_PUBLIC, on_healthz, "Health check", NULL, NULL),
};

const guint kefu_n_routes = G_N_ELEMENTS (kefu_routes);
