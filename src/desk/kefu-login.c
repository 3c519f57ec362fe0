/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuLogin"

#include "config.h"

#include "kefu-login.h"

#include <glib/gi18n-lib.h>
#include <libsecret/secret.h>
#include <errno.h>

enum {
  PROP_0,
  PROP_SERVER_URL,
  PROP_USERNAME,
  PROP_ROLE,
  PROP_AGENT_ID,
  PROP_SIGNED_IN,
  PROP_HAS_SESSION,
  PROP_TOKEN_IN_KEYRING,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

struct _KefuLogin {
  GObject        parent_instance;

  /* owned */
  char          *state_dir;
  char          *server_url;
  char          *username;
  char          *role;
  KefuApiClient *client;

  gint64         agent_id;
  guint          has_session : 1;
  guint          token_in_keyring : 1;
};

G_DEFINE_FINAL_TYPE (KefuLogin, kefu_login, G_TYPE_OBJECT)

#define SESSION_GROUP "session"

/* The token's item in the Secret Service: one per server and user. */
static const SecretSchema *
token_schema (void)
{
  static const SecretSchema schema = {
    "org.kefu.Kefu.Session", SECRET_SCHEMA_NONE,
    {
      { "server", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "username", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { NULL, 0 },
    },
    0, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  };

  return &schema;
}

static char *
session_path (KefuLogin *self)
{
  return g_build_filename (self->state_dir, "session.ini", NULL);
}

static void
notify_all (KefuLogin *self)
{
  for (guint i = 1; i < N_PROPS; i++)
    g_object_notify_by_pspec (G_OBJECT (self), properties[i]);
}

static void
set_token_in_keyring (KefuLogin *self,
                      gboolean   value)
{
  if (self->token_in_keyring == !!value)
    return;
  self->token_in_keyring = !!value;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TOKEN_IN_KEYRING]);
}

static void
on_client_token (KefuApiClient *client,
                 GParamSpec    *pspec,
                 KefuLogin     *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SIGNED_IN]);
}

static void
use_client (KefuLogin  *self,
            const char *url,
            const char *token)
{
  if (!self->client)
    {
      self->client = kefu_api_client_new (url);
      g_signal_connect_object (self->client, "notify::token", G_CALLBACK (on_client_token), self,
                               0);
    }
  kefu_api_client_set_base_url (self->client, url);
  kefu_api_client_set_token (self->client, token);
}

/* Written whole and renamed into place: a crash leaves the old file or the
 * new one, never half of one. */
static gboolean
save_session_file (KefuLogin  *self,
                   gboolean    signed_out,
                   GError    **error)
{
  g_autoptr(GKeyFile) file = g_key_file_new ();
  g_autofree char *path = session_path (self);

  if (g_mkdir_with_parents (self->state_dir, 0700) < 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _("Cannot create %s: %s"), self->state_dir, g_strerror (saved_errno));
      return FALSE;
    }
  g_key_file_set_string (file, SESSION_GROUP, "server-url", self->server_url);
  g_key_file_set_string (file, SESSION_GROUP, "username", self->username);
  if (!signed_out)
    {
      g_key_file_set_string (file, SESSION_GROUP, "role", self->role ? self->role : "");
      g_key_file_set_int64 (file, SESSION_GROUP, "agent-id", self->agent_id);
    }
  g_key_file_set_boolean (file, SESSION_GROUP, "signed-out", signed_out);
  return g_key_file_save_to_file (file, path, error);
}

/* --- GObject ------------------------------------------------------------------ */

static void
kefu_login_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  KefuLogin *self = KEFU_LOGIN (object);

  switch (prop_id)
    {
    case PROP_SERVER_URL:
      g_value_set_string (value, self->server_url);
      break;
    case PROP_USERNAME:
      g_value_set_string (value, self->username);
      break;
    case PROP_ROLE:
      g_value_set_string (value, self->role);
      break;
    case PROP_AGENT_ID:
      g_value_set_int64 (value, self->agent_id);
      break;
    case PROP_SIGNED_IN:
      g_value_set_boolean (value, kefu_login_get_signed_in (self));
      break;
    case PROP_HAS_SESSION:
      g_value_set_boolean (value, self->has_session);
      break;
    case PROP_TOKEN_IN_KEYRING:
      g_value_set_boolean (value, self->token_in_keyring);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kefu_login_dispose (GObject *object)
{
  KefuLogin *self = KEFU_LOGIN (object);

  g_clear_object (&self->client);

  G_OBJECT_CLASS (kefu_login_parent_class)->dispose (object);
}

static void
kefu_login_finalize (GObject *object)
{
  KefuLogin *self = KEFU_LOGIN (object);

  g_free (self->state_dir);
  g_free (self->server_url);
  g_free (self->username);
  g_free (self->role);

  G_OBJECT_CLASS (kefu_login_parent_class)->finalize (object);
}

static void
kefu_login_class_init (KefuLoginClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags flags = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->get_property = kefu_login_get_property;
  object_class->dispose = kefu_login_dispose;
  object_class->finalize = kefu_login_finalize;

  properties[PROP_SERVER_URL] = g_param_spec_string ("server-url", NULL, NULL, NULL, flags);
  properties[PROP_USERNAME] = g_param_spec_string ("username", NULL, NULL, NULL, flags);
  properties[PROP_ROLE] = g_param_spec_string ("role", NULL, NULL, NULL, flags);
  properties[PROP_AGENT_ID] = g_param_spec_int64 ("agent-id", NULL, NULL, 0, G_MAXINT64, 0, flags);
  properties[PROP_SIGNED_IN] = g_param_spec_boolean ("signed-in", NULL, NULL, FALSE, flags);
  properties[PROP_HAS_SESSION] = g_param_spec_boolean ("has-session", NULL, NULL, FALSE, flags);
  properties[PROP_TOKEN_IN_KEYRING] = g_param_spec_boolean ("token-in-keyring", NULL, NULL, FALSE,
                                                            flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
kefu_login_init (KefuLogin *self)
{
}

KefuLogin *
kefu_login_new (const char *state_dir)
{
  KefuLogin *self = g_object_new (KEFU_TYPE_LOGIN, NULL);

  self->state_dir = state_dir ? g_strdup (state_dir)
                              : g_build_filename (g_get_user_data_dir (), "kefu", NULL);
  return self;
}

const char *
kefu_login_get_server_url (KefuLogin *self)
{
  g_return_val_if_fail (KEFU_IS_LOGIN (self), NULL);
  return self->server_url;
}

const char *
kefu_login_get_username (KefuLogin *self)
{
  g_return_val_if_fail (KEFU_IS_LOGIN (self), NULL);
  return self->username;
}

const char *
kefu_login_get_role (KefuLogin *self)
{
  g_return_val_if_fail (KEFU_IS_LOGIN (self), NULL);
  return self->role;
}

gint64
kefu_login_get_agent_id (KefuLogin *self)
{
  g_return_val_if_fail (KEFU_IS_LOGIN (self), 0);
  return self->agent_id;
}

gboolean
kefu_login_get_signed_in (KefuLogin *self)
{
  g_return_val_if_fail (KEFU_IS_LOGIN (self), FALSE);
  return self->client && kefu_api_client_get_token (self->client);
}

gboolean
kefu_login_get_has_session (KefuLogin *self)
{
  g_return_val_if_fail (KEFU_IS_LOGIN (self), FALSE);
  return self->has_session;
}

gboolean
kefu_login_get_token_in_keyring (KefuLogin *self)
{
  g_return_val_if_fail (KEFU_IS_LOGIN (self), FALSE);
  return self->token_in_keyring;
}

KefuApiClient *
kefu_login_get_client (KefuLogin *self)
{
  g_return_val_if_fail (KEFU_IS_LOGIN (self), NULL);
  return self->client;
}

char *
kefu_login_dup_store_path (KefuLogin *self)
{
  g_autofree char *key = NULL;
  g_autofree char *digest = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *name = NULL;

  g_return_val_if_fail (KEFU_IS_LOGIN (self), NULL);

  if (!self->server_url || !self->username)
    return NULL;
  key = g_strconcat (self->server_url, "\n", self->username, NULL);
  digest = g_compute_checksum_for_string (G_CHECKSUM_SHA256, key, -1);
  dir = g_build_filename (self->state_dir, "stores", NULL);
  g_mkdir_with_parents (dir, 0700);
  name = g_strdup_printf ("%.24s.db", digest);
  return g_build_filename (dir, name, NULL);
}

/* --- restore ---------------------------------------------------------------------- */

static void
on_token_looked_up (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  KefuLogin *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;
  g_autofree char *token = secret_password_lookup_finish (result, &error);

  if (error)
    g_message ("no Secret Service to read the session token from (%s); the password will be "
               "asked for", error->message);
  use_client (self, self->server_url, token);
  set_token_in_keyring (self, token != NULL);
  notify_all (self);
  g_task_return_boolean (task, TRUE);
}

void
kefu_login_restore_async (KefuLogin           *self,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GKeyFile) file = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *url = NULL;
  g_autofree char *username = NULL;

  g_return_if_fail (KEFU_IS_LOGIN (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kefu_login_restore_async);
  path = session_path (self);

  if (!g_key_file_load_from_file (file, path, G_KEY_FILE_NONE, &error))
    {
      if (g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        g_task_return_boolean (task, FALSE);
      else
        g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  url = g_key_file_get_string (file, SESSION_GROUP, "server-url", NULL);
  username = g_key_file_get_string (file, SESSION_GROUP, "username", NULL);
  if (!url || !username)
    {
      g_task_return_boolean (task, FALSE);
      return;
    }
  g_free (self->server_url);
  self->server_url = g_steal_pointer (&url);
  g_free (self->username);
  self->username = g_steal_pointer (&username);

  /* Signed out: the address and name pre-fill the login page, nothing more. */
  if (g_key_file_get_boolean (file, SESSION_GROUP, "signed-out", NULL))
    {
      notify_all (self);
      g_task_return_boolean (task, FALSE);
      return;
    }
  g_free (self->role);
  self->role = g_key_file_get_string (file, SESSION_GROUP, "role", NULL);
  self->agent_id = g_key_file_get_int64 (file, SESSION_GROUP, "agent-id", NULL);
  self->has_session = TRUE;

  secret_password_lookup (token_schema (), cancellable, on_token_looked_up,
                          g_steal_pointer (&task), "server", self->server_url,
                          "username", self->username, NULL);
}

gboolean
kefu_login_restore_finish (KefuLogin     *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* --- sign in ------------------------------------------------------------------------- */

typedef struct {
  KefuApiClient *attempt;
  char          *url;
} SignIn;

static void
sign_in_free (SignIn *sign_in)
{
  g_clear_object (&sign_in->attempt);
  g_free (sign_in->url);
  g_free (sign_in);
}

static void
on_token_stored (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  KefuLogin *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;

  if (!secret_password_store_finish (result, &error))
    g_message ("no Secret Service to keep the session token in (%s); it is kept in memory only",
               error->message);
  set_token_in_keyring (self, error == NULL);
  g_task_return_boolean (task, TRUE);
}

static void
on_signed_in (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  KefuLogin *self = g_task_get_source_object (task);
  SignIn *sign_in = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) answer = kefu_api_client_login_finish (KEFU_API_CLIENT (source), result,
                                                               &error);
  g_autofree char *label = NULL;
  GCancellable *cancellable;
  const char *token;

  if (!answer)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  token = kefu_api_client_get_token (sign_in->attempt);

  g_free (self->server_url);
  self->server_url = g_strdup (kefu_api_client_get_base_url (sign_in->attempt));
  g_free (self->username);
  self->username = g_strdup (json_object_get_string_member_with_default (answer, "username", ""));
  g_free (self->role);
  self->role = g_strdup (json_object_get_string_member_with_default (answer, "role", ""));
  self->agent_id = json_object_get_int_member_with_default (answer, "agent_id", 0);
  self->has_session = TRUE;
  self->token_in_keyring = FALSE;
  use_client (self, self->server_url, token);
  notify_all (self);

  if (!save_session_file (self, FALSE, &error))
    g_warning ("cannot keep the session for the next start: %s", error->message);

  /* Translators: the label of the token in the keyring: user, server */
  label = g_strdup_printf (_("Kefu session of %s on %s"), self->username, self->server_url);
  cancellable = g_task_get_cancellable (task);
  secret_password_store (token_schema (), SECRET_COLLECTION_DEFAULT, label, token,
                         cancellable, on_token_stored, g_steal_pointer (&task),
                         "server", self->server_url, "username", self->username, NULL);
}

void
kefu_login_sign_in_async (KefuLogin           *self,
                          const char          *server_url,
                          const char          *username,
                          const char          *password,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  GTask *task;
  SignIn *sign_in;

  g_return_if_fail (KEFU_IS_LOGIN (self));
  g_return_if_fail (server_url && username && password);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kefu_login_sign_in_async);
  sign_in = g_new0 (SignIn, 1);
  /* A client of its own: a failed attempt leaves the current session as
   * it was. */
  sign_in->attempt = kefu_api_client_new (server_url);
  sign_in->url = g_strdup (server_url);
  g_task_set_task_data (task, sign_in, (GDestroyNotify) sign_in_free);
  kefu_api_client_login_async (sign_in->attempt, username, password, cancellable, on_signed_in,
                               task);
}

gboolean
kefu_login_sign_in_finish (KefuLogin     *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* --- sign out ------------------------------------------------------------------------ */

static void
on_token_cleared (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!secret_password_clear_finish (result, &error) && error)
    g_debug ("cannot remove the token from the keyring: %s", error->message);
  if (user_data)
    g_task_return_boolean (G_TASK (user_data), TRUE);
  g_clear_object (&user_data);
}

static void
clear_keyring (KefuLogin *self,
               GTask     *task)
{
  if (!self->server_url || !self->username)
    {
      if (task)
        {
          g_task_return_boolean (task, TRUE);
          g_object_unref (task);
        }
      return;
    }
  secret_password_clear (token_schema (), NULL, on_token_cleared, task, "server",
                         self->server_url, "username", self->username, NULL);
  set_token_in_keyring (self, FALSE);
}

static void
on_logged_out (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  GTask *task = user_data;
  g_autoptr(GError) error = NULL;

  /* Offline: the server's session will expire on its own. */
  if (!kefu_api_client_logout_finish (KEFU_API_CLIENT (source), result, &error))
    g_debug ("signing out on the server: %s", error->message);
  clear_keyring (g_task_get_source_object (task), task);
}

void
kefu_login_sign_out_async (KefuLogin           *self,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GError) error = NULL;
  GTask *task;

  g_return_if_fail (KEFU_IS_LOGIN (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kefu_login_sign_out_async);
  self->has_session = FALSE;
  if (self->server_url && self->username && !save_session_file (self, TRUE, &error))
    g_warning ("cannot note the sign-out: %s", error->message);
  notify_all (self);
  if (self->client && kefu_api_client_get_token (self->client))
    kefu_api_client_logout_async (self->client, cancellable, on_logged_out, task);
  else
    clear_keyring (self, task);
}

gboolean
kefu_login_sign_out_finish (KefuLogin     *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
kefu_login_forget_token (KefuLogin *self)
{
  g_return_if_fail (KEFU_IS_LOGIN (self));

  if (self->client)
    kefu_api_client_set_token (self->client, NULL);
  clear_keyring (self, NULL);
}
