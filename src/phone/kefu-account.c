/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuAccount"

#include "config.h"

#include "kefu-account.h"
#include "kefu-account-private.h"

#include <string.h>

G_DEFINE_ENUM_TYPE (KefuRegistrationState, kefu_registration_state,
  G_DEFINE_ENUM_VALUE (KEFU_REGISTRATION_STATE_UNREGISTERED, "unregistered"),
  G_DEFINE_ENUM_VALUE (KEFU_REGISTRATION_STATE_REGISTERING, "registering"),
  G_DEFINE_ENUM_VALUE (KEFU_REGISTRATION_STATE_REGISTERED, "registered"),
  G_DEFINE_ENUM_VALUE (KEFU_REGISTRATION_STATE_FAILED, "failed"))

G_DEFINE_ENUM_TYPE (KefuTransport, kefu_transport,
  G_DEFINE_ENUM_VALUE (KEFU_TRANSPORT_UDP, "udp"),
  G_DEFINE_ENUM_VALUE (KEFU_TRANSPORT_TCP, "tcp"),
  G_DEFINE_ENUM_VALUE (KEFU_TRANSPORT_TLS, "tls"))

G_DEFINE_ENUM_TYPE (KefuRegistrarRole, kefu_registrar_role,
  G_DEFINE_ENUM_VALUE (KEFU_REGISTRAR_ROLE_PRIMARY, "primary"),
  G_DEFINE_ENUM_VALUE (KEFU_REGISTRAR_ROLE_BACKUP, "backup"))

enum {
  PROP_0,
  /* configuration */
  PROP_AOR,
  PROP_PASSWORD,
  PROP_AUTH_USER,
  PROP_REGISTRAR,
  PROP_BACKUP_REGISTRAR,
  PROP_TRANSPORT,
  PROP_DTMF_MODE,
  PROP_SRTP,
  PROP_EXPIRES,
  /* registration */
  PROP_STATE,
  PROP_REASON,
  PROP_STATUS_CODE,
  PROP_ACTIVE_REGISTRAR,
  PROP_RETRY_IN,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

enum {
  SIGNAL_CONFIGURATION_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

struct _KefuAccount {
  GObject parent_instance;

  /* configuration */
  char *aor;
  char *password;
  char *auth_user;
  char *registrar;              /* NULL: sip:HOST of the AOR */
  char *default_registrar;
  char *backup_registrar;
  KefuTransport transport;
  gboolean transport_set;       /* else the registrar URI's, or UDP */
  char *dtmf_mode;
  gboolean srtp;
  guint expires;

  /* registration, from the phone's events */
  KefuRegistrationState state;
  char *reason;
  guint status_code;
  KefuRegistrarRole active_registrar;
  guint retry_in;
};

G_DEFINE_FINAL_TYPE (KefuAccount, kefu_account, G_TYPE_OBJECT)

/* --- properties ------------------------------------------------------------ */

static gboolean
set_string (KefuAccount *self, char **field, const GValue *value, guint prop_id)
{
  const char *s = g_value_get_string (value);

  if (s && !*s)
    s = NULL;
  if (g_strcmp0 (*field, s) == 0)
    return FALSE;
  g_free (*field);
  *field = g_strdup (s);
  g_object_notify_by_pspec (G_OBJECT (self), props[prop_id]);
  return TRUE;
}

static void
kefu_account_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  KefuAccount *self = KEFU_ACCOUNT (object);

  switch (prop_id)
    {
    case PROP_AOR:
      g_value_set_string (value, self->aor);
      break;
    case PROP_AUTH_USER:
      g_value_set_string (value, self->auth_user);
      break;
    case PROP_REGISTRAR:
      g_value_set_string (value, self->registrar ? self->registrar : self->default_registrar);
      break;
    case PROP_BACKUP_REGISTRAR:
      g_value_set_string (value, self->backup_registrar);
      break;
    case PROP_TRANSPORT:
      g_value_set_enum (value, self->transport);
      break;
    case PROP_DTMF_MODE:
      g_value_set_string (value, self->dtmf_mode);
      break;
    case PROP_SRTP:
      g_value_set_boolean (value, self->srtp);
      break;
    case PROP_EXPIRES:
      g_value_set_uint (value, self->expires);
      break;
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_REASON:
      g_value_set_string (value, self->reason ? self->reason : "");
      break;
    case PROP_STATUS_CODE:
      g_value_set_uint (value, self->status_code);
      break;
    case PROP_ACTIVE_REGISTRAR:
      g_value_set_enum (value, self->active_registrar);
      break;
    case PROP_RETRY_IN:
      g_value_set_uint (value, self->retry_in);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kefu_account_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  KefuAccount *self = KEFU_ACCOUNT (object);
  gboolean changed = FALSE;

  switch (prop_id)
    {
    case PROP_AOR:
      self->aor = g_value_dup_string (value);
      break;
    case PROP_PASSWORD:
      changed = set_string (self, &self->password, value, prop_id);
      break;
    case PROP_AUTH_USER:
      changed = set_string (self, &self->auth_user, value, prop_id);
      break;
    case PROP_REGISTRAR:
      changed = set_string (self, &self->registrar, value, prop_id);
      break;
    case PROP_BACKUP_REGISTRAR:
      changed = set_string (self, &self->backup_registrar, value, prop_id);
      break;
    case PROP_TRANSPORT:
      changed = !self->transport_set
                || self->transport != (KefuTransport) g_value_get_enum (value);
      self->transport_set = TRUE;
      if (self->transport != (KefuTransport) g_value_get_enum (value))
        {
          self->transport = g_value_get_enum (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    case PROP_DTMF_MODE:
      changed = set_string (self, &self->dtmf_mode, value, prop_id);
      break;
    case PROP_SRTP:
      if (self->srtp != g_value_get_boolean (value))
        {
          self->srtp = g_value_get_boolean (value);
          g_object_notify_by_pspec (object, pspec);
          changed = TRUE;
        }
      break;
    case PROP_EXPIRES:
      if (self->expires != g_value_get_uint (value))
        {
          self->expires = g_value_get_uint (value);
          g_object_notify_by_pspec (object, pspec);
          changed = TRUE;
        }
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }

  if (changed)
    g_signal_emit (self, signals[SIGNAL_CONFIGURATION_CHANGED], 0);
}

static void
kefu_account_constructed (GObject *object)
{
  KefuAccount *self = KEFU_ACCOUNT (object);
  const char *at = self->aor ? strchr (self->aor, '@') : NULL;

  G_OBJECT_CLASS (kefu_account_parent_class)->constructed (object);

  /* sip:1001@pbx;transport=tcp registers at sip:pbx;transport=tcp */
  if (at && at[1])
    self->default_registrar = g_strconcat (g_str_has_prefix (self->aor, "sips:") ? "sips:" : "sip:",
                                           at + 1, NULL);
}

static void
kefu_account_finalize (GObject *object)
{
  KefuAccount *self = KEFU_ACCOUNT (object);

  g_free (self->aor);
  g_free (self->password);
  g_free (self->auth_user);
  g_free (self->registrar);
  g_free (self->default_registrar);
  g_free (self->backup_registrar);
  g_free (self->dtmf_mode);
  g_free (self->reason);

  G_OBJECT_CLASS (kefu_account_parent_class)->finalize (object);
}

static void
kefu_account_class_init (KefuAccountClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->get_property = kefu_account_get_property;
  object_class->set_property = kefu_account_set_property;
  object_class->constructed = kefu_account_constructed;
  object_class->finalize = kefu_account_finalize;

  props[PROP_AOR] =
    g_param_spec_string ("aor", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  /* write-only: nothing shows it again */
  props[PROP_PASSWORD] =
    g_param_spec_string ("password", NULL, NULL, NULL,
                         G_PARAM_WRITABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* NULL: the AOR's user */
  props[PROP_AUTH_USER] =
    g_param_spec_string ("auth-user", NULL, NULL, NULL, rw);
  /* sip:pbx;transport=tcp or sips:pbx; reads back the default */
  props[PROP_REGISTRAR] =
    g_param_spec_string ("registrar", NULL, NULL, NULL, rw);
  props[PROP_BACKUP_REGISTRAR] =
    g_param_spec_string ("backup-registrar", NULL, NULL, NULL, rw);
  /* set: the transport for this account; unset: the registrar URI's
   * (sips:, ;transport=), else UDP; reads back the one in use */
  props[PROP_TRANSPORT] =
    g_param_spec_enum ("transport", NULL, NULL, KEFU_TYPE_TRANSPORT, KEFU_TRANSPORT_UDP, rw);
  /* rfc4733, info, inband, auto; NULL: the phone's */
  props[PROP_DTMF_MODE] =
    g_param_spec_string ("dtmf-mode", NULL, NULL, NULL, rw);
  /* seconds asked of the registrar; 0: 3600 */
  /* calls require SRTP (SDES), which needs TLS: over UDP or TCP the
   * account is refused ("Protocol not supported") */
  props[PROP_SRTP] =
    g_param_spec_boolean ("srtp", NULL, NULL, FALSE, rw);
  props[PROP_EXPIRES] =
    g_param_spec_uint ("expires", NULL, NULL, 0, G_MAXUINT32, 0, rw);

  props[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, KEFU_TYPE_REGISTRATION_STATE,
                       KEFU_REGISTRATION_STATE_UNREGISTERED, ro);
  props[PROP_REASON] =
    g_param_spec_string ("reason", NULL, NULL, "", ro);
  props[PROP_STATUS_CODE] =
    g_param_spec_uint ("status-code", NULL, NULL, 0, 699, 0, ro);
  props[PROP_ACTIVE_REGISTRAR] =
    g_param_spec_enum ("active-registrar", NULL, NULL, KEFU_TYPE_REGISTRAR_ROLE,
                       KEFU_REGISTRAR_ROLE_PRIMARY, ro);
  props[PROP_RETRY_IN] =
    g_param_spec_uint ("retry-in", NULL, NULL, 0, G_MAXUINT, 0, ro);

  g_object_class_install_properties (object_class, N_PROPS, props);

  /**
   * KefuAccount::configuration-changed:
   *
   * A setting changed (not the registration state): a phone that holds
   * the account registers it again with the new settings.
   */
  signals[SIGNAL_CONFIGURATION_CHANGED] =
    g_signal_new ("configuration-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
kefu_account_init (KefuAccount *self)
{
}

KefuAccount *
kefu_account_new (const char *aor,
                  const char *password)
{
  g_return_val_if_fail (aor != NULL, NULL);

  return g_object_new (KEFU_TYPE_ACCOUNT, "aor", aor, "password", password, NULL);
}

/* --- getters --------------------------------------------------------------- */

const char *
kefu_account_get_aor (KefuAccount *self)
{
  g_return_val_if_fail (KEFU_IS_ACCOUNT (self), NULL);
  return self->aor;
}

KefuRegistrationState
kefu_account_get_state (KefuAccount *self)
{
  g_return_val_if_fail (KEFU_IS_ACCOUNT (self), KEFU_REGISTRATION_STATE_UNREGISTERED);
  return self->state;
}

const char *
kefu_account_get_reason (KefuAccount *self)
{
  g_return_val_if_fail (KEFU_IS_ACCOUNT (self), NULL);
  return self->reason ? self->reason : "";
}

guint
kefu_account_get_status_code (KefuAccount *self)
{
  g_return_val_if_fail (KEFU_IS_ACCOUNT (self), 0);
  return self->status_code;
}

KefuRegistrarRole
kefu_account_get_active_registrar (KefuAccount *self)
{
  g_return_val_if_fail (KEFU_IS_ACCOUNT (self), KEFU_REGISTRAR_ROLE_PRIMARY);
  return self->active_registrar;
}

KefuTransport
kefu_account_get_transport (KefuAccount *self)
{
  g_return_val_if_fail (KEFU_IS_ACCOUNT (self), KEFU_TRANSPORT_UDP);
  return self->transport;
}

const char *
kefu_account_get_dtmf_mode (KefuAccount *self)
{
  g_return_val_if_fail (KEFU_IS_ACCOUNT (self), NULL);
  return self->dtmf_mode;
}

gboolean
kefu_account_get_srtp (KefuAccount *self)
{
  g_return_val_if_fail (KEFU_IS_ACCOUNT (self), FALSE);
  return self->srtp;
}

guint
kefu_account_get_retry_in (KefuAccount *self)
{
  g_return_val_if_fail (KEFU_IS_ACCOUNT (self), 0);
  return self->retry_in;
}

const char *
kefu_registration_state_to_string (KefuRegistrationState state)
{
  GEnumValue *value = g_enum_get_value (g_type_class_peek (KEFU_TYPE_REGISTRATION_STATE), state);

  return value ? value->value_nick : "?";
}

/* --- for KefuPhone ----------------------------------------------------------- */

void
kefu_account_get_config (KefuAccount                *self,
                         struct kefu_account_config *cfg)
{
  static const char *const transports[] = {
    [KEFU_TRANSPORT_UDP] = "udp",
    [KEFU_TRANSPORT_TCP] = "tcp",
    [KEFU_TRANSPORT_TLS] = "tls",
  };

  g_return_if_fail (KEFU_IS_ACCOUNT (self));

  *cfg = (struct kefu_account_config) {
    .id = self->aor,
    .aor = self->aor,
    .auth_user = self->auth_user,
    .password = self->password ? self->password : "",
    .registrar = self->registrar ? self->registrar : self->default_registrar,
    .backup_registrar = self->backup_registrar,
    .transport = self->transport_set ? transports[self->transport] : NULL,
    .dtmf_mode = self->dtmf_mode,
    .srtp = self->srtp,
    .expires = self->expires,
  };
}

static void
set_state (KefuAccount           *self,
           KefuRegistrationState  state,
           const char            *reason,
           guint                  code,
           KefuRegistrarRole      registrar,
           guint                  retry_in)
{
  GObject *object = G_OBJECT (self);

  g_object_freeze_notify (object);
  if (self->state != state)
    {
      self->state = state;
      g_object_notify_by_pspec (object, props[PROP_STATE]);
    }
  if (g_strcmp0 (self->reason ? self->reason : "", reason ? reason : "") != 0)
    {
      g_free (self->reason);
      self->reason = g_strdup (reason);
      g_object_notify_by_pspec (object, props[PROP_REASON]);
    }
  if (self->status_code != code)
    {
      self->status_code = code;
      g_object_notify_by_pspec (object, props[PROP_STATUS_CODE]);
    }
  if (self->active_registrar != registrar)
    {
      self->active_registrar = registrar;
      g_object_notify_by_pspec (object, props[PROP_ACTIVE_REGISTRAR]);
    }
  if (self->retry_in != retry_in)
    {
      self->retry_in = retry_in;
      g_object_notify_by_pspec (object, props[PROP_RETRY_IN]);
    }
  g_object_thaw_notify (object);
}

void
kefu_account_apply_event (KefuAccount                 *self,
                          const struct kefu_reg_event *ev)
{
  KefuRegistrationState state;
  KefuTransport transport;

  g_return_if_fail (KEFU_IS_ACCOUNT (self));

  switch (ev->state)
    {
    case KEFU_REG_REGISTERING: state = KEFU_REGISTRATION_STATE_REGISTERING; break;
    case KEFU_REG_REGISTERED: state = KEFU_REGISTRATION_STATE_REGISTERED; break;
    case KEFU_REG_FAILED: state = KEFU_REGISTRATION_STATE_FAILED; break;
    case KEFU_REG_UNREGISTERED:
    default: state = KEFU_REGISTRATION_STATE_UNREGISTERED; break;
    }
  switch (ev->transport)
    {
    case KEFU_SIP_TRANSPORT_TCP: transport = KEFU_TRANSPORT_TCP; break;
    case KEFU_SIP_TRANSPORT_TLS: transport = KEFU_TRANSPORT_TLS; break;
    case KEFU_SIP_TRANSPORT_UDP:
    default: transport = KEFU_TRANSPORT_UDP; break;
    }

  /* the transport in use, not a new configuration: no re-registration */
  if (self->transport != transport)
    {
      self->transport = transport;
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_TRANSPORT]);
    }
  set_state (self, state, ev->reason, ev->scode,
             ev->registrar == KEFU_REGISTRAR_BACKUP
             ? KEFU_REGISTRAR_ROLE_BACKUP : KEFU_REGISTRAR_ROLE_PRIMARY,
             ev->retry_in_s);
}

void
kefu_account_reset (KefuAccount *self)
{
  g_return_if_fail (KEFU_IS_ACCOUNT (self));

  set_state (self, KEFU_REGISTRATION_STATE_UNREGISTERED, "", 0, KEFU_REGISTRAR_ROLE_PRIMARY, 0);
}
