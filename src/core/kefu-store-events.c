/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuStore"

/* The store's event side: the event log, the facts and spans projected
 * from it, the change feed, and the folds reports read.  The records side
 * is kefu-store.c; the two share kefu-store-private.h. */

#include "config.h"

#include "kefu-store.h"
#include "kefu-store-private.h"
#include "kefu-time.h"

#include <string.h>

/* --- the event log ---------------------------------------------------------- */

static double
data_seconds (JsonObject *data,
              const char *member,
              double      fallback)
{
  double value = kefu_json_get_double (data, member, fallback);

  return value < 0 ? 0 : value;
}

/* Keeps the per-call facts and per-agent spans that reports fold, in step
 * with the log, so a report never has to replay millions of events. */
static gboolean
project_event (KefuDbConn  *conn,
               const char  *type,
               gint64       ts,
               const char  *call_id,
               const char  *queue,
               const char  *agent,
               JsonObject  *data,
               GError     **error)
{
  g_autoptr(JsonObject) no_data = NULL;

  /* Without data the times come from the timestamps alone. */
  if (!data)
    data = no_data = json_object_new ();
  /* A call has one fact per queue it waited in: a second only after an
   * overflow out of the first.  Only one of them at a time is open (no
   * outcome yet), and the last one made is the one the call ends in. */
  if (g_str_equal (type, "call.offered"))
    {
      KefuDbValue params[] = {
        KEFU_DB_V_TEXT (call_id), KEFU_DB_V_TEXT (queue), KEFU_DB_V_INT (ts),
        KEFU_DB_V_TEXT (call_id),
      };
      KefuDbValue moved[] = { KEFU_DB_V_TEXT (queue), KEFU_DB_V_TEXT (call_id) };
      gint64 added = 0;

      /* A call re-queued by a transfer keeps its first offer, and one
       * offered again (a replay) its fact; one that overflowed is offered
       * anew in the queue it moved to. */
      if (!kefu_db_exec (conn, "INSERT INTO call_facts (call_id, queue, offered_at) "
                         "SELECT ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM call_facts "
                         "WHERE call_id = ? AND (outcome IS NULL OR outcome <> 'overflow'))",
                         params, G_N_ELEMENTS (params), &added, error))
        return FALSE;
      return added == 0 ||
             kefu_db_exec (conn, "UPDATE call_facts SET overflow_to = ? "
                           "WHERE call_id = ? AND outcome = 'overflow' AND overflow_to IS NULL",
                           moved, G_N_ELEMENTS (moved), NULL, error);
    }
  if (g_str_equal (type, "call.answered"))
    {
      KefuDbValue params[] = {
        KEFU_DB_V_TEXT (agent), KEFU_DB_V_INT (ts),
        json_object_has_member (data, "wait_s") ? KEFU_DB_V_REAL (data_seconds (data, "wait_s", 0))
                                                : KEFU_DB_V_NULL,
        KEFU_DB_V_INT (ts), KEFU_DB_V_TEXT (call_id),
      };

      /* In the queue the call waited in last: the one that served it. */
      return kefu_db_exec (conn, "UPDATE call_facts SET outcome = 'answered', agent = ?, "
                           "answered_at = ?, wait_s = COALESCE(?, (? - offered_at) / 1000.0) "
                           "WHERE id = (SELECT max(id) FROM call_facts WHERE call_id = ?)",
                           params, G_N_ELEMENTS (params), NULL, error);
    }
  if (g_str_equal (type, "call.abandoned") || g_str_equal (type, "call.overflow") ||
      g_str_equal (type, "call.callback"))
    {
      const char *outcome = type + strlen ("call.");
      KefuDbValue params[] = {
        KEFU_DB_V_TEXT (outcome),
        json_object_has_member (data, "wait_s") ? KEFU_DB_V_REAL (data_seconds (data, "wait_s", 0))
                                                : KEFU_DB_V_NULL,
        KEFU_DB_V_INT (ts), KEFU_DB_V_INT (ts), KEFU_DB_V_TEXT (call_id),
      };

      /* Only a call still waiting can be abandoned or leave the queue;
       * after an overflow, only in the queue it waits in now. */
      return kefu_db_exec (conn, "UPDATE call_facts SET outcome = ?, "
                           "wait_s = COALESCE(?, (? - offered_at) / 1000.0), ended_at = ? "
                           "WHERE call_id = ? AND outcome IS NULL",
                           params, G_N_ELEMENTS (params), NULL, error);
    }
  if (g_str_equal (type, "call.ended"))
    {
      double hold = data_seconds (data, "hold_s", 0);
      KefuDbValue params[] = {
        KEFU_DB_V_INT (ts),
        json_object_has_member (data, "talk_s") ? KEFU_DB_V_REAL (data_seconds (data, "talk_s", 0))
                                                : KEFU_DB_V_NULL,
        KEFU_DB_V_INT (ts), KEFU_DB_V_REAL (hold),
        KEFU_DB_V_INT (ts), KEFU_DB_V_REAL (hold),
        KEFU_DB_V_REAL (hold),
        KEFU_DB_V_TEXT (call_id),
      };

      /* Talk time is what was not on hold; spelled with CASE because the
       * two dialects disagree on a two-argument max(). */
      return kefu_db_exec (conn, "UPDATE call_facts SET ended_at = ?, "
                           "talk_s = COALESCE(?, CASE WHEN (? - answered_at) / 1000.0 - ? > 0 "
                           "THEN (? - answered_at) / 1000.0 - ? ELSE 0 END), "
                           "hold_s = ? WHERE call_id = ? AND outcome = 'answered'",
                           params, G_N_ELEMENTS (params), NULL, error);
    }
  if (g_str_equal (type, "call.wrapup_ended"))
    {
      KefuDbValue params[] = {
        json_object_has_member (data, "wrapup_s")
          ? KEFU_DB_V_REAL (data_seconds (data, "wrapup_s", 0)) : KEFU_DB_V_NULL,
        KEFU_DB_V_INT (ts), KEFU_DB_V_TEXT (call_id),
      };

      return kefu_db_exec (conn, "UPDATE call_facts SET "
                           "wrapup_s = COALESCE(?, (? - ended_at) / 1000.0) "
                           "WHERE call_id = ? AND outcome = 'answered'",
                           params, G_N_ELEMENTS (params), NULL, error);
    }
  if (g_str_equal (type, "agent.state"))
    {
      const char *state = kefu_json_get_string (data, "state");
      const char *reason = kefu_json_get_string (data, "reason");
      KefuDbValue close_span[] = {
        KEFU_DB_V_INT (ts), KEFU_DB_V_TEXT (agent), KEFU_DB_V_INT (ts),
      };
      KefuDbValue open_span[] = {
        KEFU_DB_V_TEXT (agent), KEFU_DB_V_TEXT (state), KEFU_DB_V_INT (ts),
        KEFU_DB_V_TEXT (agent), KEFU_DB_V_INT (ts),
      };
      KefuDbValue set_state[] = {
        KEFU_DB_V_TEXT (state), KEFU_DB_V_TEXT (reason), KEFU_DB_V_INT (ts), KEFU_DB_V_TEXT (agent),
        KEFU_DB_V_INT (ts),
      };

      /* A state older than the agent's current one (a switch replaying
       * its spool after an outage) stays in the log but changes neither
       * the current state nor the spans a later state already began.
       * The unary plus keeps SQLite on the index of open spans: on
       * (agent, started_at) it would walk the agent's whole history for
       * each new state. */
      return kefu_db_exec (conn, "UPDATE agent_spans SET ended_at = ? "
                           "WHERE agent = ? AND ended_at IS NULL AND +started_at <= ?",
                           close_span, 3, NULL, error) &&
             kefu_db_exec (conn, "INSERT INTO agent_spans (agent, state, started_at) "
                           "SELECT ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM agent_spans "
                           "WHERE agent = ? AND started_at > ?)", open_span, 5, NULL, error) &&
             kefu_db_exec (conn, "UPDATE agents SET state = ?, state_reason = ?, state_since = ? "
                           "WHERE username = ? AND deleted = 0 "
                           "AND (state_since IS NULL OR state_since <= ?)",
                           set_state, 5, NULL, error);
    }
  return TRUE;
}

static gboolean
check_event (JsonObject  *event,
             guint        index,
             GError     **error)
{
  const char *type = kefu_json_get_string (event, "type");
  JsonObject *data = json_object_has_member (event, "data") &&
                     JSON_NODE_HOLDS_OBJECT (json_object_get_member (event, "data"))
                     ? json_object_get_object_member (event, "data") : NULL;

  if (g_str_has_prefix (type, "call.") && !kefu_json_get_string (event, "call_id"))
    {
      g_set_error (error, KEFU_STORE_ERROR, KEFU_STORE_ERROR_INVALID,
                   "Event %u (%s) has no call_id", index, type);
      return FALSE;
    }
  if (g_str_equal (type, "call.offered") && !kefu_json_get_string (event, "queue"))
    {
      g_set_error (error, KEFU_STORE_ERROR, KEFU_STORE_ERROR_INVALID,
                   "Event %u (call.offered) has no queue", index);
      return FALSE;
    }
  if (g_str_equal (type, "agent.state"))
    {
      const char *state = kefu_json_get_string (data, "state");

      if (!kefu_json_get_string (event, "agent"))
        {
          g_set_error (error, KEFU_STORE_ERROR, KEFU_STORE_ERROR_INVALID,
                       "Event %u (agent.state) has no agent", index);
          return FALSE;
        }
      if (!state || !kefu_strv_contains_choice (kefu_agent_states, state))
        {
          g_autofree char *choices = g_strjoinv (", ", (char **) kefu_agent_states);

          g_set_error (error, KEFU_STORE_ERROR, KEFU_STORE_ERROR_INVALID,
                       "Event %u (agent.state) needs data.state, one of: %s", index, choices);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
append_events_on (KefuDbConn  *conn,
                  JsonArray   *events,
                  JsonArray   *stored,
                  GError     **error)
{
  for (guint i = 0; i < json_array_get_length (events); i++)
    {
      JsonObject *event = json_array_get_object_element (events, i);
      const char *type = kefu_json_get_string (event, "type");
      const char *call_id = kefu_json_get_string (event, "call_id");
      const char *queue = kefu_json_get_string (event, "queue");
      const char *agent = kefu_json_get_string (event, "agent");
      JsonObject *data = json_object_has_member (event, "data") &&
                         JSON_NODE_HOLDS_OBJECT (json_object_get_member (event, "data"))
                         ? json_object_get_object_member (event, "data") : NULL;
      g_autofree char *data_text = data ? kefu_record_encode (data) : NULL;
      gint64 ts = kefu_time_now_ms ();
      gint64 id = 0;
      JsonObject *out;

      if (kefu_json_get_string (event, "ts"))
        kefu_time_parse_ms (kefu_json_get_string (event, "ts"), NULL, &ts);

      if (!check_event (event, i, error))
        return FALSE;

      {
        KefuDbValue params[] = {
          KEFU_DB_V_INT (ts), KEFU_DB_V_TEXT (type), KEFU_DB_V_TEXT (call_id),
          KEFU_DB_V_TEXT (queue), KEFU_DB_V_TEXT (agent), KEFU_DB_V_TEXT (data_text),
        };

        if (!kefu_db_query_int (conn, "INSERT INTO events (ts, type, call_id, queue, agent, data) "
                                "VALUES (?, ?, ?, ?, ?, ?) RETURNING id", params,
                                G_N_ELEMENTS (params), &id, error))
          return FALSE;
      }
      if (!project_event (conn, type, ts, call_id, queue, agent, data, error))
        return FALSE;

      out = json_object_new ();
      json_object_set_int_member (out, "id", id);
      json_object_set_string_member (out, "type", type);
      kefu_store_set_time_member (out, "ts", ts);
      if (call_id)
        json_object_set_string_member (out, "call_id", call_id);
      if (queue)
        json_object_set_string_member (out, "queue", queue);
      if (agent)
        json_object_set_string_member (out, "agent", agent);
      json_object_set_object_member (out, "data", data ? json_object_ref (data) : json_object_new ());
      json_array_add_object_element (stored, out);
    }
  return TRUE;
}

JsonArray *
kefu_store_append_events (KefuStore        *self,
                          JsonArray        *events,
                          const KefuWrite  *write,
                          gboolean         *out_replayed,
                          GError          **error)
{
  g_autoptr(JsonArray) stored = json_array_new ();
  g_autoptr(JsonObject) envelope = NULL;
  KefuWriteResult replay = { 0 };
  KefuDbConn *conn;
  gboolean ok;

  if (out_replayed)
    *out_replayed = FALSE;
  conn = kefu_store_begin_write (self, error);
  if (!conn)
    return NULL;

  if (kefu_store_find_operation (conn, write, &replay, error))
    {
      JsonArray *again = NULL;

      kefu_store_end_write (self, conn, TRUE, NULL);
      if (replay.record && json_object_has_member (replay.record, "events"))
        again = json_array_ref (json_object_get_array_member (replay.record, "events"));
      kefu_write_result_clear (&replay);
      if (out_replayed)
        *out_replayed = TRUE;
      return again ? again : json_array_new ();
    }
  if (error && *error)
    {
      kefu_store_end_write (self, conn, FALSE, NULL);
      return NULL;
    }

  ok = append_events_on (conn, events, stored, error);
  if (ok && write->op_id)
    {
      envelope = json_object_new ();
      json_object_set_array_member (envelope, "events", json_array_ref (stored));
      ok = kefu_store_save_operation (conn, write, envelope, kefu_time_now_ms (), error);
    }
  if (!kefu_store_end_write (self, conn, ok, error))
    return NULL;
  return g_steal_pointer (&stored);
}

static gboolean
on_event_row (KefuDbRow *row,
              gpointer   user_data)
{
  JsonArray *array = user_data;
  JsonObject *event = json_object_new ();

  json_object_set_int_member (event, "id", kefu_db_row_int (row, 0));
  kefu_store_set_time_member (event, "ts", kefu_db_row_int (row, 1));
  json_object_set_string_member (event, "type", kefu_db_row_text (row, 2));
  for (guint col = 3; col <= 5; col++)
    {
      static const char * const names[] = { "call_id", "queue", "agent" };

      if (!kefu_db_row_is_null (row, col))
        json_object_set_string_member (event, names[col - 3], kefu_db_row_text (row, col));
    }
  json_object_set_object_member (event, "data", kefu_store_parse_object (kefu_db_row_text (row, 6)));
  json_array_add_object_element (array, event);
  return TRUE;
}

JsonArray *
kefu_store_list_events (KefuStore   *self,
                        gint64       since_id,
                        guint        limit,
                        GError     **error)
{
  g_autoptr(JsonArray) array = json_array_new ();
  KefuDbValue params[] = { KEFU_DB_V_INT (since_id), KEFU_DB_V_INT (limit) };
  KefuDbConn *conn = kefu_db_acquire (kefu_store_get_db (self), error);
  gboolean ok;

  if (!conn)
    return NULL;
  ok = kefu_db_query (conn, "SELECT id, ts, type, call_id, queue, agent, data FROM events "
                      "WHERE id > ? ORDER BY id LIMIT ?", params, 2, on_event_row, array, error);
  kefu_db_release (kefu_store_get_db (self), conn);
  return ok ? g_steal_pointer (&array) : NULL;
}

/* --- the change feed ------------------------------------------------------------ */

typedef struct {
  JsonArray *array;
  gint64     cursor;
} ChangeCollect;

static gboolean
on_change_row (KefuDbRow *row,
               gpointer   user_data)
{
  ChangeCollect *collect = user_data;
  JsonObject *change = json_object_new ();

  collect->cursor = kefu_db_row_int (row, 0);
  json_object_set_int_member (change, "seq", collect->cursor);
  json_object_set_string_member (change, "entity", kefu_db_row_text (row, 1));
  json_object_set_string_member (change, "id", kefu_db_row_text (row, 2));
  json_object_set_string_member (change, "op", kefu_db_row_text (row, 3));
  if (kefu_db_row_is_null (row, 4))
    json_object_set_null_member (change, "version");
  else
    json_object_set_int_member (change, "version", kefu_db_row_int (row, 4));
  kefu_store_set_time_member (change, "at", kefu_db_row_int (row, 5));
  if (kefu_db_row_is_null (row, 6))
    json_object_set_null_member (change, "record");
  else
    json_object_set_object_member (change, "record", kefu_store_parse_object (kefu_db_row_text (row, 6)));
  json_array_add_object_element (collect->array, change);
  return TRUE;
}

JsonArray *
kefu_store_changes (KefuStore   *self,
                    gint64       since,
                    guint        limit,
                    gint64      *out_cursor,
                    GError     **error)
{
  g_autoptr(JsonArray) array = json_array_new ();
  ChangeCollect collect = { array, since };
  KefuDbValue params[] = { KEFU_DB_V_INT (since), KEFU_DB_V_INT (limit) };
  KefuDbConn *conn = kefu_db_acquire (kefu_store_get_db (self), error);
  gboolean ok;

  if (!conn)
    return NULL;
  ok = kefu_db_query (conn, "SELECT seq, entity, entity_id, op, version, at, doc FROM changes "
                      "WHERE seq > ? ORDER BY seq LIMIT ?", params, 2, on_change_row, &collect,
                      error);
  kefu_db_release (kefu_store_get_db (self), conn);
  if (!ok)
    return NULL;
  if (out_cursor)
    *out_cursor = collect.cursor;
  return g_steal_pointer (&array);
}

/* --- folds for reports ---------------------------------------------------------- */

typedef struct {
  KefuCallFactFunc func;
  gpointer         user_data;
} FactFold;

static KefuCallOutcome
outcome_from_text (const char *text)
{
  if (!text)
    return KEFU_CALL_OUTCOME_OTHER;
  if (g_str_equal (text, "answered"))
    return KEFU_CALL_OUTCOME_ANSWERED;
  if (g_str_equal (text, "abandoned"))
    return KEFU_CALL_OUTCOME_ABANDONED;
  return KEFU_CALL_OUTCOME_OTHER;
}

static gboolean
on_fact_row (KefuDbRow *row,
             gpointer   user_data)
{
  FactFold *fold = user_data;
  KefuCallFact fact = {
    .call_id = kefu_db_row_text (row, 0),
    .queue = kefu_db_row_text (row, 1),
    .agent = kefu_db_row_text (row, 2),
    .offered_ms = kefu_db_row_int (row, 3),
    .waiting = kefu_db_row_is_null (row, 4),
    .overflow_to = kefu_db_row_text (row, 9),
    .sample = {
      .outcome = outcome_from_text (kefu_db_row_text (row, 4)),
      .wait_s = kefu_db_row_real (row, 5),
      .talk_s = kefu_db_row_real (row, 6),
      .hold_s = kefu_db_row_real (row, 7),
      .wrapup_s = kefu_db_row_real (row, 8),
      .overflowed = g_strcmp0 (kefu_db_row_text (row, 4), "overflow") == 0,
    },
  };

  return fold->func (&fact, fold->user_data);
}

gboolean
kefu_store_fold_call_facts (KefuStore         *self,
                            gint64             from_ms,
                            gint64             to_ms,
                            const char        *queue,
                            const char        *agent,
                            KefuCallFactFunc   func,
                            gpointer           user_data,
                            GError           **error)
{
  FactFold fold = { func, user_data };
  g_autoptr(GString) sql = g_string_new ("SELECT call_id, queue, agent, offered_at, outcome, "
                                         "wait_s, talk_s, hold_s, wrapup_s, overflow_to "
                                         "FROM call_facts "
                                         "WHERE offered_at >= ? AND offered_at < ?");
  KefuDbValue params[4] = { KEFU_DB_V_INT (from_ms), KEFU_DB_V_INT (to_ms) };
  guint n = 2;
  KefuDbConn *conn;
  gboolean ok;

  if (queue)
    {
      g_string_append (sql, " AND queue = ?");
      params[n++] = KEFU_DB_V_TEXT (queue);
    }
  if (agent)
    {
      g_string_append (sql, " AND agent = ?");
      params[n++] = KEFU_DB_V_TEXT (agent);
    }
  /* id: a call's facts in the order it went from queue to queue */
  g_string_append (sql, " ORDER BY offered_at, id");

  conn = kefu_db_acquire (kefu_store_get_db (self), error);
  if (!conn)
    return FALSE;
  ok = kefu_db_query (conn, sql->str, params, n, on_fact_row, &fold, error);
  kefu_db_release (kefu_store_get_db (self), conn);
  return ok;
}

typedef struct {
  KefuAgentSpanFunc func;
  gpointer          user_data;
} SpanFold;

static gboolean
on_span_row (KefuDbRow *row,
             gpointer   user_data)
{
  SpanFold *fold = user_data;
  KefuAgentSpan span = {
    .agent = kefu_db_row_text (row, 0),
    .state = kefu_db_row_text (row, 1),
    .started_ms = kefu_db_row_int (row, 2),
    .ended_ms = kefu_db_row_int (row, 3),
  };

  return fold->func (&span, fold->user_data);
}

gboolean
kefu_store_fold_agent_spans (KefuStore          *self,
                             gint64              from_ms,
                             gint64              to_ms,
                             const char         *agent,
                             KefuAgentSpanFunc   func,
                             gpointer            user_data,
                             GError            **error)
{
  SpanFold fold = { func, user_data };
  g_autoptr(GString) sql = g_string_new ("SELECT agent, state, started_at, ended_at "
                                         "FROM agent_spans WHERE started_at < ? "
                                         "AND (ended_at IS NULL OR ended_at > ?)");
  KefuDbValue params[3] = { KEFU_DB_V_INT (to_ms), KEFU_DB_V_INT (from_ms) };
  guint n = 2;
  KefuDbConn *conn;
  gboolean ok;

  if (agent)
    {
      g_string_append (sql, " AND agent = ?");
      params[n++] = KEFU_DB_V_TEXT (agent);
    }
  g_string_append (sql, " ORDER BY started_at");

  conn = kefu_db_acquire (kefu_store_get_db (self), error);
  if (!conn)
    return FALSE;
  ok = kefu_db_query (conn, sql->str, params, n, on_span_row, &fold, error);
  kefu_db_release (kefu_store_get_db (self), conn);
  return ok;
}
