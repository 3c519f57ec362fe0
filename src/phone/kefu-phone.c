/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuPhone"

#include "config.h"

#include "kefu-phone.h"

#include <errno.h>
#include <string.h>
#include <glib/gi18n.h>

#include "kefu-call-session.h"
#include "kefu-listen-address.h"
#include "kefu-phone-loop.h"
#include "kefu-account-private.h"
#include "kefu-registration.h"

#define SIP_TRANSP_UDP 0        /* libre's enum sip_transp */
#define STOP_TIMEOUT_MS 3000
/* Bounds the drain of events posted while the loop stopped (see dispose). */
#define DRAIN_MAX_ITERATIONS 1000


enum {
  PROP_0,
  PROP_LISTEN_ADDRESS,
  PROP_LISTEN_USER,
  PROP_DISPLAY_NAME,
  PROP_CODECS,
  PROP_AUDIO,
  PROP_DTMF_MODE,
  PROP_AUTO_ANSWER,
  PROP_SIP_PORT,
  PROP_CALLS,
  PROP_ACCOUNTS,
  PROP_TLS_CERTIFICATE,
  PROP_TLS_CA_FILE,
  N_PROPS
};

enum {
  SIGNAL_INCOMING_CALL,
  SIGNAL_CALL_REMOVED,
  SIGNAL_REGISTRATION_CHANGED,
  N_SIGNALS
};

static GParamSpec *props[N_PROPS];
static guint signals[N_SIGNALS];

struct _KefuPhone {
  GObject parent_instance;

  /* construct-only settings */
  char *listen_address;
  char *listen_user;
  char *display_name;
  char *codecs;
  char *audio;
  char *dtmf_mode;
  gboolean auto_answer;

  /* owned */
  char *listen_host;            /* parsed from listen_address, or NULL */
  guint16 listen_port;
  guint16 sip_port;
  GMainContext *ui_context;     /* where events arrive and signals go out */
  GListStore *calls;            /* KefuCall, live ones */
  GHashTable *calls_by_id;      /* call id -> KefuCall, borrowed from calls */
  GListStore *accounts;         /* KefuAccount, registered with the UA */
  GHashTable *accounts_changed; /* KefuAccount set, to register again */
  guint accounts_changed_source;
  char *tls_certificate;        /* construct-only */
  char *tls_ca_file;            /* construct-only */
  gboolean stopping;            /* dispose began: events are dropped */

  /* the phone thread's: only passed back to kefu_call_* and _loop_* */
  struct kefu_phone_loop *loop;
  struct kefu_ua *ua;
  struct kefu_calls *engine;
};

static void kefu_phone_initable_iface_init (GInitableIface *iface);
static void release_accounts (KefuPhone *self);

G_DEFINE_FINAL_TYPE_WITH_CODE (KefuPhone, kefu_phone, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE,
                                                      kefu_phone_initable_iface_init))

/* --- events from the phone thread, on ui_context ----------------------- */

static void
forget_call (KefuPhone *self, KefuCall *call)
{
  guint position;

  g_hash_table_remove (self->calls_by_id, GUINT_TO_POINTER (kefu_call_get_id (call)));
  if (g_list_store_find (self->calls, call, &position))
    g_list_store_remove (self->calls, position);
}

static void
on_incoming (KefuPhone *self, const struct kefu_call_event *ev)
{
  g_autoptr(KefuCall) call = NULL;

  if (g_hash_table_contains (self->calls_by_id, GUINT_TO_POINTER (ev->call_id)))
    return;
  call = kefu_call_new_attached (self->loop, self->engine, ev->call_id,
                                 KEFU_CALL_DIRECTION_INCOMING, ev->from_uri, ev->from_name,
                                 ev->headers);
  kefu_call_set_replaces (call, ev->replaces);
  g_hash_table_insert (self->calls_by_id, GUINT_TO_POINTER (ev->call_id), call);
  g_list_store_append (self->calls, call);
  g_signal_emit (self, signals[SIGNAL_INCOMING_CALL], 0, call);

  if (self->auto_answer && kefu_call_get_state (call) == KEFU_CALL_STATE_RINGING_IN)
    {
      g_autoptr(GError) error = NULL;

      if (!kefu_call_accept (call, &error))
        g_warning ("Could not answer call %u: %s", ev->call_id, error->message);
    }
}

static void
on_call_event (const struct kefu_call_event *ev, void *arg)
{
  KefuPhone *self = arg;
  g_autoptr(KefuCall) call = NULL;

  /* events that were under way when dispose stopped the loop */
  if (self->stopping)
    return;

  g_debug ("call %u: %s", ev->call_id, kefu_call_event_type_name (ev->type));
  /* a handler may drop the last reference to the phone */
  g_object_ref (self);

  if (ev->type == KEFU_CALL_EVENT_INCOMING)
    on_incoming (self, ev);
  else if ((call = g_hash_table_lookup (self->calls_by_id, GUINT_TO_POINTER (ev->call_id))))
    {
      g_object_ref (call);
      kefu_call_handle_event (call, ev);
      if (ev->type == KEFU_CALL_EVENT_CLOSED && !self->stopping)
        {
          forget_call (self, call);
          g_signal_emit (self, signals[SIGNAL_CALL_REMOVED], 0, call);
        }
    }

  g_object_unref (self);
}

static KefuRegistrationState
registration_state_from_engine (enum kefu_reg_state state)
{
  switch (state)
    {
    case KEFU_REG_REGISTERING: return KEFU_REGISTRATION_STATE_REGISTERING;
    case KEFU_REG_REGISTERED: return KEFU_REGISTRATION_STATE_REGISTERED;
    case KEFU_REG_FAILED: return KEFU_REGISTRATION_STATE_FAILED;
    case KEFU_REG_UNREGISTERED:
    default: return KEFU_REGISTRATION_STATE_UNREGISTERED;
    }
}

static void
on_reg_event (const struct kefu_reg_event *ev, void *arg)
{
  KefuPhone *self = arg;
  KefuRegistrationState state = registration_state_from_engine (ev->state);

  if (self->stopping || !ev->account_id)
    return;

  g_object_ref (self);
  {
    KefuAccount *account = kefu_phone_lookup_account (self, ev->account_id);

    /* removed accounts' last events (unregistered) are not theirs to show */
    if (account)
      kefu_account_apply_event (account, ev);
  }
  g_signal_emit (self, signals[SIGNAL_REGISTRATION_CHANGED], 0, ev->account_id, state,
                 ev->reason, (guint) ev->scode);
  g_object_unref (self);
}

/* phone thread; the GLib side waits, so reading self's settings is safe */
static int
setup_phone (void *arg)
{
  KefuPhone *self = arg;
  struct kefu_ua_config cfg = {
    .laddr = self->listen_host,
    .udp_port = self->listen_port,
    .tls_cert = self->tls_certificate,
    .tls_ca_file = self->tls_ca_file,
    .eventh = on_reg_event,
    .arg = self,
  };
  struct kefu_calls_config ccfg = {
    .listen_any = self->listen_host != NULL,
    .listen_user = self->listen_user,
    .display_name = self->display_name,
    .codecs = self->codecs,
    .audio = self->audio,
    .dtmf_mode = self->dtmf_mode,
    .eventh = on_call_event,
    .arg = self,
  };
  int err;

  kefu_phone_loop_set_stop_timeout (self->loop, STOP_TIMEOUT_MS);
  err = kefu_ua_alloc (&self->ua, self->loop, &cfg);
  if (!err)
    err = kefu_ua_local_port (self->ua, SIP_TRANSP_UDP, &self->sip_port);
  if (!err)
    err = kefu_calls_alloc (&self->engine, self->loop, self->ua, &ccfg);
  return err;
}

/* Stops the phone thread and drops what it posted on the way out.  Those
 * events carry self as their argument, so none may run after finalize:
 * they were all queued on ui_context by the time the thread was joined. */
static void
stop_loop (KefuPhone *self)
{
  if (!self->loop)
    return;

  self->stopping = TRUE;
  kefu_phone_loop_stop (self->loop);
  self->loop = NULL;
  self->ua = NULL;
  self->engine = NULL;
  for (int i = 0; i < DRAIN_MAX_ITERATIONS; i++)
    if (!g_main_context_iteration (self->ui_context, FALSE))
      break;
}

/* --- GInitable ---------------------------------------------------------- */

static gboolean
parse_listen_address (KefuPhone *self, GError **error)
{
  if (!self->listen_address)
    return TRUE;

  g_clear_pointer (&self->listen_host, g_free);
  if (!kefu_listen_address_parse (self->listen_address, &self->listen_host, &self->listen_port))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not an address like 127.0.0.1:5080"), self->listen_address);
      return FALSE;
    }
  return TRUE;
}

static gboolean
kefu_phone_initable_init (GInitable     *initable,
                          GCancellable  *cancellable,
                          GError       **error)
{
  KefuPhone *self = KEFU_PHONE (initable);
  int err;

  (void) cancellable;
  g_return_val_if_fail (self->loop == NULL, FALSE);

  if (!parse_listen_address (self, error))
    return FALSE;

  err = kefu_phone_loop_start (&self->loop, self->ui_context);
  if (!err)
    err = kefu_phone_loop_call_sync (self->loop, setup_phone, self);
  if (err)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
                   _("Cannot start the phone: %s"), g_strerror (err));
      stop_loop (self);
      return FALSE;
    }

  g_debug ("phone ready on UDP port %u%s", self->sip_port,
           self->listen_host ? " (listen mode)" : "");
  return TRUE;
}

static void
kefu_phone_initable_iface_init (GInitableIface *iface)
{
  iface->init = kefu_phone_initable_init;
}

/* --- GObject ------------------------------------------------------------ */

static void
kefu_phone_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  KefuPhone *self = KEFU_PHONE (object);

  switch (prop_id)
    {
    case PROP_LISTEN_ADDRESS:
      g_value_set_string (value, self->listen_address);
      break;
    case PROP_LISTEN_USER:
      g_value_set_string (value, self->listen_user);
      break;
    case PROP_DISPLAY_NAME:
      g_value_set_string (value, self->display_name);
      break;
    case PROP_CODECS:
      g_value_set_string (value, self->codecs);
      break;
    case PROP_AUDIO:
      g_value_set_string (value, self->audio);
      break;
    case PROP_DTMF_MODE:
      g_value_set_string (value, self->dtmf_mode);
      break;
    case PROP_AUTO_ANSWER:
      g_value_set_boolean (value, self->auto_answer);
      break;
    case PROP_SIP_PORT:
      g_value_set_uint (value, self->sip_port);
      break;
    case PROP_CALLS:
      g_value_set_object (value, self->calls);
      break;
    case PROP_ACCOUNTS:
      g_value_set_object (value, self->accounts);
      break;
    case PROP_TLS_CERTIFICATE:
      g_value_set_string (value, self->tls_certificate);
      break;
    case PROP_TLS_CA_FILE:
      g_value_set_string (value, self->tls_ca_file);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kefu_phone_set_property (GObject      *object,
                         guint         prop_id,
                         const GValue *value,
                         GParamSpec   *pspec)
{
  KefuPhone *self = KEFU_PHONE (object);

  switch (prop_id)
    {
    case PROP_LISTEN_ADDRESS:
      self->listen_address = g_value_dup_string (value);
      break;
    case PROP_LISTEN_USER:
      self->listen_user = g_value_dup_string (value);
      break;
    case PROP_DISPLAY_NAME:
      self->display_name = g_value_dup_string (value);
      break;
    case PROP_CODECS:
      self->codecs = g_value_dup_string (value);
      break;
    case PROP_AUDIO:
      self->audio = g_value_dup_string (value);
      break;
    case PROP_DTMF_MODE:
      self->dtmf_mode = g_value_dup_string (value);
      break;
    case PROP_AUTO_ANSWER:
      self->auto_answer = g_value_get_boolean (value);
      break;
    case PROP_TLS_CERTIFICATE:
      self->tls_certificate = g_value_dup_string (value);
      break;
    case PROP_TLS_CA_FILE:
      self->tls_ca_file = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kefu_phone_dispose (GObject *object)
{
  KefuPhone *self = KEFU_PHONE (object);

  stop_loop (self);
  release_accounts (self);

  /* the engine hung them up; their CLOSED events were dropped above */
  if (self->calls)
    {
      guint n = g_list_model_get_n_items (G_LIST_MODEL (self->calls));

      for (guint i = 0; i < n; i++)
        {
          g_autoptr(KefuCall) call = g_list_model_get_item (G_LIST_MODEL (self->calls), i);

          kefu_call_detach (call, "phone stopped");
        }
      g_hash_table_remove_all (self->calls_by_id);
      g_list_store_remove_all (self->calls);
    }

  G_OBJECT_CLASS (kefu_phone_parent_class)->dispose (object);
}

static void
kefu_phone_finalize (GObject *object)
{
  KefuPhone *self = KEFU_PHONE (object);

  g_clear_object (&self->calls);
  g_clear_pointer (&self->calls_by_id, g_hash_table_unref);
  g_clear_object (&self->accounts);
  g_clear_pointer (&self->accounts_changed, g_hash_table_unref);
  g_free (self->tls_certificate);
  g_free (self->tls_ca_file);
  g_clear_pointer (&self->ui_context, g_main_context_unref);
  g_free (self->listen_address);
  g_free (self->listen_user);
  g_free (self->display_name);
  g_free (self->codecs);
  g_free (self->audio);
  g_free (self->dtmf_mode);
  g_free (self->listen_host);

  G_OBJECT_CLASS (kefu_phone_parent_class)->finalize (object);
}

static void
kefu_phone_class_init (KefuPhoneClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags co = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS;
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->get_property = kefu_phone_get_property;
  object_class->set_property = kefu_phone_set_property;
  object_class->dispose = kefu_phone_dispose;
  object_class->finalize = kefu_phone_finalize;

  /* "HOST:PORT": take calls for any user there (--listen); NULL: accounts only */
  props[PROP_LISTEN_ADDRESS] =
    g_param_spec_string ("listen-address", NULL, NULL, NULL, co);
  /* our user in listen mode, NULL: "kefu" */
  props[PROP_LISTEN_USER] =
    g_param_spec_string ("listen-user", NULL, NULL, NULL, co);
  props[PROP_DISPLAY_NAME] =
    g_param_spec_string ("display-name", NULL, NULL, NULL, co);
  /* "pcmu,pcma,opus"; NULL: the engine's default */
  props[PROP_CODECS] =
    g_param_spec_string ("codecs", NULL, NULL, NULL, co);
  props[PROP_AUDIO] =
    g_param_spec_string ("audio", NULL, NULL, NULL, co);
  props[PROP_DTMF_MODE] =
    g_param_spec_string ("dtmf-mode", NULL, NULL, NULL, co);
  /* off unless asked for: an agent answers on purpose */
  props[PROP_AUTO_ANSWER] =
    g_param_spec_boolean ("auto-answer", NULL, NULL, FALSE, co);
  props[PROP_SIP_PORT] =
    g_param_spec_uint ("sip-port", NULL, NULL, 0, G_MAXUINT16, 0, ro);
  props[PROP_CALLS] =
    g_param_spec_object ("calls", NULL, NULL, G_TYPE_LIST_MODEL, ro);
  props[PROP_ACCOUNTS] =
    g_param_spec_object ("accounts", NULL, NULL, G_TYPE_LIST_MODEL, ro);
  /* PEM file with our certificate and key, for TLS peers calling us */
  props[PROP_TLS_CERTIFICATE] =
    g_param_spec_string ("tls-certificate", NULL, NULL, NULL, co);
  /* PEM file of CAs whose server certificates we trust, besides the system's */
  props[PROP_TLS_CA_FILE] =
    g_param_spec_string ("tls-ca-file", NULL, NULL, NULL, co);
  g_object_class_install_properties (object_class, N_PROPS, props);

  /**
   * KefuPhone::incoming-call:
   * @call: the new call, ringing-in, already in the calls model
   */
  signals[SIGNAL_INCOMING_CALL] =
    g_signal_new ("incoming-call", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, KEFU_TYPE_CALL);
  /**
   * KefuPhone::call-removed:
   * @call: the call, closed, just taken out of the calls model
   */
  signals[SIGNAL_CALL_REMOVED] =
    g_signal_new ("call-removed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, KEFU_TYPE_CALL);
  /**
   * KefuPhone::registration-changed:
   * @account: the AOR
   * @state: a #KefuRegistrationState
   * @reason: "" or why it failed ("wrong password (401)", "timeout")
   * @code: the SIP status, 0 if none
   */
  signals[SIGNAL_REGISTRATION_CHANGED] =
    g_signal_new ("registration-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 4, G_TYPE_STRING,
                  KEFU_TYPE_REGISTRATION_STATE, G_TYPE_STRING, G_TYPE_UINT);
}

static void
kefu_phone_init (KefuPhone *self)
{
  self->ui_context = g_main_context_ref_thread_default ();
  self->calls = g_list_store_new (KEFU_TYPE_CALL);
  self->calls_by_id = g_hash_table_new (g_direct_hash, g_direct_equal);
  self->accounts = g_list_store_new (KEFU_TYPE_ACCOUNT);
  self->accounts_changed = g_hash_table_new_full (g_direct_hash, g_direct_equal,
                                                  g_object_unref, NULL);
}

KefuPhone *
kefu_phone_new (const char  *listen_address,
                const char  *audio,
                const char  *dtmf_mode,
                GError     **error)
{
  return g_initable_new (KEFU_TYPE_PHONE, NULL, error,
                         "listen-address", listen_address,
                         "audio", audio,
                         "dtmf-mode", dtmf_mode,
                         NULL);
}

/* --- public methods ------------------------------------------------------ */

guint
kefu_phone_get_sip_port (KefuPhone *self)
{
  g_return_val_if_fail (KEFU_IS_PHONE (self), 0);
  return self->sip_port;
}

GListModel *
kefu_phone_get_calls (KefuPhone *self)
{
  g_return_val_if_fail (KEFU_IS_PHONE (self), NULL);
  return G_LIST_MODEL (self->calls);
}

typedef struct {
  KefuPhone *self;
  struct kefu_account_config config;
} AccountCommand;

/* phone thread */
static int
register_account (void *arg)
{
  AccountCommand *cmd = arg;

  return kefu_ua_register (cmd->self->ua, &cmd->config);
}

/* phone thread */
static int
update_account (void *arg)
{
  AccountCommand *cmd = arg;

  return kefu_ua_account_update (cmd->self->ua, &cmd->config);
}

/* phone thread */
static int
unregister_account (void *arg)
{
  AccountCommand *cmd = arg;

  return kefu_ua_unregister (cmd->self->ua, cmd->config.id);
}

static gboolean
check_running (KefuPhone *self, GError **error)
{
  if (self->loop)
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED, _("The phone is stopped"));
  return FALSE;
}

static gboolean
find_account (KefuPhone   *self,
              const char  *aor,
              guint       *position)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->accounts));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(KefuAccount) account = g_list_model_get_item (G_LIST_MODEL (self->accounts), i);

      if (g_strcmp0 (kefu_account_get_aor (account), aor) == 0)
        {
          *position = i;
          return TRUE;
        }
    }
  return FALSE;
}

/* Settings changed in one go (g_object_set of several) register once. */
static gboolean
on_accounts_changed_idle (gpointer data)
{
  KefuPhone *self = data;
  GHashTableIter iter;
  gpointer key;

  self->accounts_changed_source = 0;
  g_hash_table_iter_init (&iter, self->accounts_changed);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      KefuAccount *account = key;
      AccountCommand cmd = { .self = self };
      guint position;
      int err;

      if (!self->loop || !find_account (self, kefu_account_get_aor (account), &position))
        continue;
      kefu_account_get_config (account, &cmd.config);
      err = kefu_phone_loop_call_sync (self->loop, update_account, &cmd);
      if (err)
        {
          g_autofree char *reason = g_strdup_printf (_("invalid settings: %s"), g_strerror (err));
          struct kefu_reg_event ev = {
            .account_id = (char *) kefu_account_get_aor (account),
            .state = KEFU_REG_FAILED,
            .reason = reason,
          };

          g_warning ("%s: %s", ev.account_id, reason);
          kefu_account_apply_event (account, &ev);
        }
    }
  g_hash_table_remove_all (self->accounts_changed);
  return G_SOURCE_REMOVE;
}

static void
on_account_configuration_changed (KefuAccount *account,
                                  KefuPhone   *self)
{
  g_hash_table_add (self->accounts_changed, g_object_ref (account));
  if (!self->accounts_changed_source)
    {
      GSource *source = g_idle_source_new ();

      g_source_set_callback (source, on_accounts_changed_idle, self, NULL);
      self->accounts_changed_source = g_source_attach (source, self->ui_context);
      g_source_unref (source);
    }
}

/* dispose: the loop has stopped and un-REGISTERed every account */
static void
release_accounts (KefuPhone *self)
{
  if (self->accounts_changed_source)
    {
      GSource *source = g_main_context_find_source_by_id (self->ui_context,
                                                          self->accounts_changed_source);

      if (source)
        g_source_destroy (source);
      self->accounts_changed_source = 0;
    }
  if (self->accounts_changed)
    g_hash_table_remove_all (self->accounts_changed);
  if (!self->accounts)
    return;

  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (self->accounts)); i++)
    {
      g_autoptr(KefuAccount) account = g_list_model_get_item (G_LIST_MODEL (self->accounts), i);

      g_signal_handlers_disconnect_by_data (account, self);
      kefu_account_reset (account);
    }
  g_list_store_remove_all (self->accounts);
}

gboolean
kefu_phone_register_account (KefuPhone    *self,
                             KefuAccount  *account,
                             GError      **error)
{
  AccountCommand cmd = { .self = self };
  const char *aor;
  guint position;
  int err;

  g_return_val_if_fail (KEFU_IS_PHONE (self), FALSE);
  g_return_val_if_fail (KEFU_IS_ACCOUNT (account), FALSE);

  if (!check_running (self, error))
    return FALSE;
  aor = kefu_account_get_aor (account);
  if (!aor || !(g_str_has_prefix (aor, "sip:") || g_str_has_prefix (aor, "sips:"))
      || !strchr (aor, '@'))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not a SIP address like sip:alice@pbx.example.com"),
                   aor ? aor : "");
      return FALSE;
    }
  if (find_account (self, aor, &position))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                   _("Cannot register %s: %s"), aor, g_strerror (EALREADY));
      return FALSE;
    }

  kefu_account_get_config (account, &cmd.config);
  /* in the model before the first event can come */
  g_list_store_append (self->accounts, account);
  err = kefu_phone_loop_call_sync (self->loop, register_account, &cmd);
  if (err)
    {
      if (find_account (self, aor, &position))
        g_list_store_remove (self->accounts, position);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
                   _("Cannot register %s: %s"), aor,
                   err == EINVAL ? _("invalid settings") : g_strerror (err));
      return FALSE;
    }
  g_signal_connect_object (account, "configuration-changed",
                           G_CALLBACK (on_account_configuration_changed), self, 0);
  return TRUE;
}

KefuAccount *
kefu_phone_add_account (KefuPhone   *self,
                        const char  *aor,
                        const char  *password,
                        const char  *registrar,
                        const char  *backup,
                        GError     **error)
{
  g_autoptr(KefuAccount) account = NULL;

  g_return_val_if_fail (KEFU_IS_PHONE (self), NULL);
  g_return_val_if_fail (aor != NULL, NULL);
  g_return_val_if_fail (password != NULL, NULL);

  account = g_object_new (KEFU_TYPE_ACCOUNT, "aor", aor, "password", password,
                          "registrar", registrar, "backup-registrar", backup, NULL);
  if (!kefu_phone_register_account (self, account, error))
    return NULL;
  return account;  /* the accounts model holds it */
}

gboolean
kefu_phone_remove_account (KefuPhone   *self,
                           const char  *aor,
                           GError     **error)
{
  AccountCommand cmd = { .self = self, .config.id = aor };
  g_autoptr(KefuAccount) account = NULL;
  guint position;
  int err;

  g_return_val_if_fail (KEFU_IS_PHONE (self), FALSE);
  g_return_val_if_fail (aor != NULL, FALSE);

  if (!check_running (self, error))
    return FALSE;
  err = kefu_phone_loop_call_sync (self->loop, unregister_account, &cmd);
  if (find_account (self, aor, &position))
    {
      account = g_list_model_get_item (G_LIST_MODEL (self->accounts), position);
      g_signal_handlers_disconnect_by_data (account, self);
      g_hash_table_remove (self->accounts_changed, account);
      g_list_store_remove (self->accounts, position);
      kefu_account_reset (account);
    }
  if (err)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
                   _("Cannot remove %s: %s"), aor, g_strerror (err));
      return FALSE;
    }
  return TRUE;
}

GListModel *
kefu_phone_get_accounts (KefuPhone *self)
{
  g_return_val_if_fail (KEFU_IS_PHONE (self), NULL);
  return G_LIST_MODEL (self->accounts);
}

KefuAccount *
kefu_phone_lookup_account (KefuPhone  *self,
                           const char *aor)
{
  g_autoptr(KefuAccount) account = NULL;
  guint position;

  g_return_val_if_fail (KEFU_IS_PHONE (self), NULL);

  if (!aor || !self->accounts || !find_account (self, aor, &position))
    return NULL;
  account = g_list_model_get_item (G_LIST_MODEL (self->accounts), position);
  return account;  /* the model holds a reference */
}

KefuRegistrationState
kefu_phone_get_registration_state (KefuPhone  *self,
                                   const char *aor)
{
  KefuAccount *account;

  g_return_val_if_fail (KEFU_IS_PHONE (self), KEFU_REGISTRATION_STATE_UNREGISTERED);
  g_return_val_if_fail (aor != NULL, KEFU_REGISTRATION_STATE_UNREGISTERED);

  account = kefu_phone_lookup_account (self, aor);
  return account ? kefu_account_get_state (account) : KEFU_REGISTRATION_STATE_UNREGISTERED;
}

/* No event of the call can come before we return: they are dispatched on
 * this thread's context.  (transfer full) */
static KefuCall *
add_outgoing_call (KefuPhone  *self,
                   guint       id,
                   const char *uri)
{
  KefuCall *call = kefu_call_new_attached (self->loop, self->engine, id,
                                           KEFU_CALL_DIRECTION_OUTGOING, uri, NULL, NULL);

  g_hash_table_insert (self->calls_by_id, GUINT_TO_POINTER (id), call);
  g_list_store_append (self->calls, call);
  return call;
}

KefuCall *
kefu_phone_dial_full (KefuPhone          *self,
                      const char         *account,
                      const char         *uri,
                      const char *const  *headers,
                      GError            **error)
{
  guint id;

  g_return_val_if_fail (KEFU_IS_PHONE (self), NULL);
  g_return_val_if_fail (uri != NULL, NULL);

  if (!check_running (self, error))
    return NULL;
  if (!g_str_has_prefix (uri, "sip:") && !g_str_has_prefix (uri, "sips:"))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not a SIP URI like sip:bob@127.0.0.1:5090"), uri);
      return NULL;
    }

  id = kefu_call_dial (self->loop, self->engine, account, uri, headers);
  if (!id)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("Could not dial %s"), uri);
      return NULL;
    }

  return add_outgoing_call (self, id, uri);
}

KefuCall *
kefu_phone_dial (KefuPhone   *self,
                 const char  *uri,
                 GError     **error)
{
  return kefu_phone_dial_full (self, NULL, uri, NULL, error);
}

/**
 * kefu_phone_accept_transfer:
 * @referred: a call that emitted ::transfer-requested
 *
 * Does what the far end's REFER asked: calls its target (replacing a call
 * there if it was an attended transfer) and tells the far end how it goes.
 *
 * Returns: (transfer full): the new call, or %NULL with @error
 */
KefuCall *
kefu_phone_accept_transfer (KefuPhone  *self,
                            KefuCall   *referred,
                            GError    **error)
{
  guint id;

  g_return_val_if_fail (KEFU_IS_PHONE (self), NULL);
  g_return_val_if_fail (KEFU_IS_CALL (referred), NULL);

  if (!check_running (self, error))
    return NULL;
  if (!kefu_call_get_transfer_target (referred))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("Call %u has no transfer request"), kefu_call_get_id (referred));
      return NULL;
    }
  if (kefu_call_get_state (referred) == KEFU_CALL_STATE_CLOSED)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED,
                   _("Call %u has ended"), kefu_call_get_id (referred));
      return NULL;
    }

  id = kefu_call_refer_accept (self->loop, self->engine, kefu_call_get_id (referred));
  if (!id)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _("Could not follow the transfer of call %u"), kefu_call_get_id (referred));
      return NULL;
    }
  return add_outgoing_call (self, id, kefu_call_get_transfer_target (referred));
}
