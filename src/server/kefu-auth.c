/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuAuth"

#include "config.h"

#include "kefu-auth.h"
#include "kefu-time.h"

#include <sodium.h>
#include <string.h>

/* A checked token is trusted this long before the store is asked again.
 * This node forgets an agent's sessions at once when the agent changes
 * (kefu_auth_forget_agent); the delay only covers other server nodes. */
#define SESSION_CACHE_MS 5000
#define TOKEN_BYTES 32
#define MIN_PASSWORD_CHARS 8

struct _KefuAuth {
  GObject           parent_instance;

  /* owned */
  KefuStore        *store;
  GMutex            lock;
  GHashTable       *failures;        /* "user:" / "ip:" key -> Failures* */
  GHashTable       *sessions;        /* token hash -> CachedSession* */

  KefuPasswordCost  cost;
  guint             session_hours;
  guint             max_failures;
  guint             failure_window_s;
};

G_DEFINE_FINAL_TYPE (KefuAuth, kefu_auth, G_TYPE_OBJECT)

G_DEFINE_QUARK (kefu-auth-error-quark, kefu_auth_error)

typedef struct {
  guint  count;
  gint64 window_start_ms;
} Failures;

typedef struct {
  KefuSession *session;
  gint64       checked_ms;
} CachedSession;

static void
cached_session_free (gpointer data)
{
  CachedSession *cached = data;

  kefu_session_free (cached->session);
  g_free (cached);
}

static KefuSession *
session_copy (const KefuSession *session)
{
  KefuSession *copy = g_new0 (KefuSession, 1);

  copy->agent_id = session->agent_id;
  copy->username = g_strdup (session->username);
  copy->role = g_strdup (session->role);
  copy->expires_ms = session->expires_ms;
  return copy;
}

gboolean
kefu_auth_init_crypto (GError **error)
{
  if (sodium_init () < 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                           "libsodium could not start (no entropy source?)");
      return FALSE;
    }
  return TRUE;
}

gboolean
kefu_password_cost_from_string (const char       *text,
                                KefuPasswordCost *out)
{
  if (g_strcmp0 (text, "minimum") == 0)
    *out = KEFU_PASSWORD_COST_MINIMUM;
  else if (g_strcmp0 (text, "interactive") == 0)
    *out = KEFU_PASSWORD_COST_INTERACTIVE;
  else if (g_strcmp0 (text, "moderate") == 0)
    *out = KEFU_PASSWORD_COST_MODERATE;
  else
    return FALSE;
  return TRUE;
}

static void
kefu_auth_finalize (GObject *object)
{
  KefuAuth *self = KEFU_AUTH (object);

  g_clear_object (&self->store);
  g_hash_table_destroy (self->failures);
  g_hash_table_destroy (self->sessions);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (kefu_auth_parent_class)->finalize (object);
}

static void
kefu_auth_class_init (KefuAuthClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = kefu_auth_finalize;
}

static void
kefu_auth_init (KefuAuth *self)
{
  g_mutex_init (&self->lock);
  self->failures = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->sessions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, cached_session_free);
}

KefuAuth *
kefu_auth_new (KefuStore        *store,
               KefuPasswordCost  cost,
               guint             session_hours,
               guint             max_failures,
               guint             failure_window_s)
{
  KefuAuth *self = g_object_new (KEFU_TYPE_AUTH, NULL);

  self->store = g_object_ref (store);
  self->cost = cost;
  self->session_hours = MAX (session_hours, 1);
  self->max_failures = MAX (max_failures, 1);
  self->failure_window_s = MAX (failure_window_s, 1);
  return self;
}

char *
kefu_auth_hash_password (KefuAuth    *self,
                         const char  *password,
                         GError     **error)
{
  char hash[crypto_pwhash_STRBYTES];
  unsigned long long ops;
  size_t mem;

  if (!password || g_utf8_strlen (password, -1) < MIN_PASSWORD_CHARS)
    {
      g_set_error (error, KEFU_AUTH_ERROR, KEFU_AUTH_ERROR_WEAK_PASSWORD,
                   "A password needs at least %d characters", MIN_PASSWORD_CHARS);
      return NULL;
    }

  switch (self->cost)
    {
    case KEFU_PASSWORD_COST_MINIMUM:
      ops = crypto_pwhash_OPSLIMIT_MIN;
      mem = crypto_pwhash_MEMLIMIT_MIN;
      break;
    case KEFU_PASSWORD_COST_MODERATE:
      ops = crypto_pwhash_OPSLIMIT_MODERATE;
      mem = crypto_pwhash_MEMLIMIT_MODERATE;
      break;
    case KEFU_PASSWORD_COST_INTERACTIVE:
    default:
      ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
      mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
      break;
    }

  /* crypto_pwhash_str picks argon2id and records its limits in the string,
   * so a later change of cost still verifies old hashes. */
  if (crypto_pwhash_str_alg (hash, password, strlen (password), ops, mem,
                             crypto_pwhash_ALG_ARGON2ID13) != 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                           "Not enough memory to hash the password");
      return NULL;
    }
  return g_strdup (hash);
}

static char *
token_hash (const char *token)
{
  guint8 digest[32];
  char hex[65];

  /* Only a hash of the token is stored: a copy of the database does not
   * let anyone act as an agent. */
  crypto_generichash (digest, sizeof digest, (const guint8 *) token, strlen (token), NULL, 0);
  sodium_bin2hex (hex, sizeof hex, digest, sizeof digest);
  return g_strdup (hex);
}

/* TRUE when key may try again; else *retry_after_s is set. */
static gboolean
check_rate (KefuAuth   *self,
            const char *key,
            gint64      now_ms,
            guint      *retry_after_s)
{
  Failures *failures = g_hash_table_lookup (self->failures, key);
  gint64 window_ms = (gint64) self->failure_window_s * 1000;

  if (!failures)
    return TRUE;
  if (now_ms - failures->window_start_ms >= window_ms)
    {
      g_hash_table_remove (self->failures, key);
      return TRUE;
    }
  if (failures->count < self->max_failures)
    return TRUE;
  *retry_after_s = MAX (1, (guint) ((failures->window_start_ms + window_ms - now_ms + 999) / 1000));
  return FALSE;
}

static void
note_failure (KefuAuth   *self,
              const char *key,
              gint64      now_ms)
{
  Failures *failures = g_hash_table_lookup (self->failures, key);

  if (!failures)
    {
      failures = g_new0 (Failures, 1);
      failures->window_start_ms = now_ms;
      g_hash_table_insert (self->failures, g_strdup (key), failures);
    }
  failures->count++;
}

char *
kefu_auth_login (KefuAuth     *self,
                 const char   *username,
                 const char   *password,
                 const char   *client,
                 KefuSession **out_session,
                 guint        *out_retry_after_s,
                 GError      **error)
{
  g_autofree char *user_key = g_strconcat ("user:", username, NULL);
  g_autofree char *client_key = g_strconcat ("ip:", client ? client : "?", NULL);
  g_autofree char *stored_hash = NULL;
  g_autofree char *hash = NULL;
  g_autoptr(JsonObject) agent = NULL;
  g_autoptr(GError) local_error = NULL;
  guint8 raw[TOKEN_BYTES];
  char token[sodium_base64_ENCODED_LEN (TOKEN_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  gint64 now = kefu_time_now_ms ();
  guint retry_after = 0;
  gboolean allowed;
  KefuSession *session;

  g_mutex_lock (&self->lock);
  /* Per user stops guessing one password; per client stops trying one
   * password on every user.  The client limit is looser. */
  allowed = check_rate (self, user_key, now, &retry_after);
  if (allowed)
    {
      Failures *per_client = g_hash_table_lookup (self->failures, client_key);

      if (per_client && per_client->count >= self->max_failures * 4 &&
          now - per_client->window_start_ms < (gint64) self->failure_window_s * 1000)
        {
          allowed = FALSE;
          retry_after = MAX (1, (guint) ((per_client->window_start_ms +
                                          self->failure_window_s * 1000 - now + 999) / 1000));
        }
      else if (per_client && now - per_client->window_start_ms >= (gint64) self->failure_window_s * 1000)
        {
          g_hash_table_remove (self->failures, client_key);
        }
    }
  g_mutex_unlock (&self->lock);

  if (!allowed)
    {
      if (out_retry_after_s)
        *out_retry_after_s = retry_after;
      g_set_error (error, KEFU_AUTH_ERROR, KEFU_AUTH_ERROR_RATE_LIMITED,
                   "Too many failed logins; try again in %u seconds", retry_after);
      return NULL;
    }

  agent = kefu_store_get_agent_by_name (self->store, username, &stored_hash, &local_error);
  if (!agent && !g_error_matches (local_error, KEFU_STORE_ERROR, KEFU_STORE_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  if (!agent || !stored_hash || !password ||
      crypto_pwhash_str_verify (stored_hash, password, strlen (password)) != 0)
    {
      g_mutex_lock (&self->lock);
      note_failure (self, user_key, now);
      note_failure (self, client_key, now);
      g_mutex_unlock (&self->lock);
      /* The same words whether the user exists or not. */
      g_set_error_literal (error, KEFU_AUTH_ERROR, KEFU_AUTH_ERROR_BAD_CREDENTIALS,
                           "Wrong username or password");
      return NULL;
    }

  g_mutex_lock (&self->lock);
  g_hash_table_remove (self->failures, user_key);
  g_mutex_unlock (&self->lock);

  randombytes_buf (raw, sizeof raw);
  sodium_bin2base64 (token, sizeof token, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  hash = token_hash (token);

  session = g_new0 (KefuSession, 1);
  session->agent_id = json_object_get_int_member (agent, "id");
  session->username = g_strdup (json_object_get_string_member (agent, "username"));
  session->role = g_strdup (json_object_get_string_member (agent, "role"));
  session->expires_ms = now + (gint64) self->session_hours * 3600 * 1000;

  if (!kefu_store_session_create (self->store, hash, session->agent_id, session->expires_ms, error))
    {
      kefu_session_free (session);
      return NULL;
    }
  if (out_session)
    *out_session = session;
  else
    kefu_session_free (session);
  return g_strdup (token);
}

KefuSession *
kefu_auth_check_token (KefuAuth    *self,
                       const char  *token,
                       GError     **error)
{
  g_autofree char *hash = NULL;
  g_autoptr(GError) local_error = NULL;
  CachedSession *cached;
  KefuSession *session = NULL;
  gint64 now = kefu_time_now_ms ();

  if (!token || !*token)
    {
      g_set_error_literal (error, KEFU_AUTH_ERROR, KEFU_AUTH_ERROR_NO_SESSION,
                           "Log in first: this needs an “Authorization: Bearer” token");
      return NULL;
    }
  hash = token_hash (token);

  g_mutex_lock (&self->lock);
  cached = g_hash_table_lookup (self->sessions, hash);
  if (cached && now - cached->checked_ms < SESSION_CACHE_MS && now < cached->session->expires_ms)
    session = session_copy (cached->session);
  else if (cached)
    g_hash_table_remove (self->sessions, hash);
  g_mutex_unlock (&self->lock);
  if (session)
    return session;

  session = kefu_store_session_lookup (self->store, hash, &local_error);
  if (!session)
    {
      if (g_error_matches (local_error, KEFU_STORE_ERROR, KEFU_STORE_ERROR_NOT_FOUND))
        g_set_error_literal (error, KEFU_AUTH_ERROR, KEFU_AUTH_ERROR_NO_SESSION,
                             "The session has expired or was ended; log in again");
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  cached = g_new0 (CachedSession, 1);
  cached->session = session_copy (session);
  cached->checked_ms = now;
  g_mutex_lock (&self->lock);
  /* Bounded: a flood of distinct tokens cannot grow the cache for ever. */
  if (g_hash_table_size (self->sessions) > 100000)
    g_hash_table_remove_all (self->sessions);
  g_hash_table_replace (self->sessions, g_steal_pointer (&hash), cached);
  g_mutex_unlock (&self->lock);
  return session;
}

gboolean
kefu_auth_logout (KefuAuth    *self,
                  const char  *token,
                  GError     **error)
{
  g_autofree char *hash = token_hash (token ? token : "");

  g_mutex_lock (&self->lock);
  g_hash_table_remove (self->sessions, hash);
  g_mutex_unlock (&self->lock);
  return kefu_store_session_delete (self->store, hash, error);
}

void
kefu_auth_forget_agent (KefuAuth *self,
                        gint64    agent_id)
{
  GHashTableIter iter;
  gpointer value;

  g_mutex_lock (&self->lock);
  g_hash_table_iter_init (&iter, self->sessions);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (((CachedSession *) value)->session->agent_id == agent_id)
      g_hash_table_iter_remove (&iter);
  g_mutex_unlock (&self->lock);
}
