/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuCall"

#include "config.h"

#include "kefu-call.h"

#include <errno.h>
#include <string.h>
#include <glib/gi18n.h>

#include "kefu-call-session.h"
#include "kefu-phone-loop.h"

G_DEFINE_ENUM_TYPE (KefuCallState, kefu_call_state,
  G_DEFINE_ENUM_VALUE (KEFU_CALL_STATE_RINGING_IN, "ringing-in"),
  G_DEFINE_ENUM_VALUE (KEFU_CALL_STATE_RINGING_OUT, "ringing-out"),
  G_DEFINE_ENUM_VALUE (KEFU_CALL_STATE_EARLY, "early"),
  G_DEFINE_ENUM_VALUE (KEFU_CALL_STATE_ESTABLISHED, "established"),
  G_DEFINE_ENUM_VALUE (KEFU_CALL_STATE_HELD, "held"),
  G_DEFINE_ENUM_VALUE (KEFU_CALL_STATE_REMOTE_HELD, "remote-held"),
  G_DEFINE_ENUM_VALUE (KEFU_CALL_STATE_CLOSED, "closed"))

G_DEFINE_ENUM_TYPE (KefuCallDirection, kefu_call_direction,
  G_DEFINE_ENUM_VALUE (KEFU_CALL_DIRECTION_OUTGOING, "outgoing"),
  G_DEFINE_ENUM_VALUE (KEFU_CALL_DIRECTION_INCOMING, "incoming"))

enum {
  PROP_0,
  PROP_ID,
  PROP_DIRECTION,
  PROP_STATE,
  PROP_PEER_URI,
  PROP_PEER_NAME,
  PROP_CODEC,
  PROP_TELEPHONE_EVENT_PT,
  PROP_CLOSE_REASON,
  PROP_CLOSE_CODE,
  PROP_IN_CONFERENCE,
  PROP_MUTED,
  PROP_RECORDING,
  PROP_SECURE,
  N_PROPS
};

enum {
  SIGNAL_DTMF_RECEIVED,
  SIGNAL_TRANSFER_PROGRESS,
  SIGNAL_TRANSFER_FAILED,
  SIGNAL_TRANSFER_REQUESTED,
  SIGNAL_HOLD_FAILED,
  N_SIGNALS
};

static GParamSpec *props[N_PROPS];
static guint signals[N_SIGNALS];

struct _KefuCall {
  GObject parent_instance;

  guint id;
  KefuCallDirection direction;
  KefuCallState state;
  char *peer_uri;
  char *peer_name;
  char *codec;
  int telephone_event_pt;
  char *close_reason;
  guint close_code;
  gboolean in_conference;
  gboolean muted;
  gboolean secure;              /* the media is SRTP */
  char *recording;              /* the WAV being written, or NULL */
  guint replaces;               /* the call this one replaced, or 0 */
  char *transfer_target;        /* the far end's REFER, until followed */
  GPtrArray *headers;           /* owned: name, value, name, value, ... */

  /* the phone's, borrowed while attached; only passed to kefu_call_* */
  struct kefu_phone_loop *loop;
  struct kefu_calls *calls;
};

G_DEFINE_FINAL_TYPE (KefuCall, kefu_call, G_TYPE_OBJECT)

static void
set_string (KefuCall *self, char **field, const char *value, int prop)
{
  if (g_strcmp0 (*field, value) == 0)
    return;
  g_free (*field);
  *field = g_strdup (value);
  g_object_notify_by_pspec (G_OBJECT (self), props[prop]);
}

static void
set_state (KefuCall *self, KefuCallState state)
{
  if (self->state == state)
    return;
  g_debug ("call %u: %s -> %s", self->id,
           g_enum_get_value (g_type_class_peek (KEFU_TYPE_CALL_STATE), (int) self->state)->value_nick,
           g_enum_get_value (g_type_class_peek (KEFU_TYPE_CALL_STATE), (int) state)->value_nick);
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_STATE]);
}

static void
set_closed (KefuCall *self, const char *reason, guint code)
{
  if (self->state == KEFU_CALL_STATE_CLOSED)
    return;
  set_string (self, &self->close_reason, reason, PROP_CLOSE_REASON);
  if (self->close_code != code)
    {
      self->close_code = code;
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_CLOSE_CODE]);
    }
  /* last, so that a notify::state handler sees the reason already */
  set_state (self, KEFU_CALL_STATE_CLOSED);
}

static void
kefu_call_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  KefuCall *self = KEFU_CALL (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_uint (value, self->id);
      break;
    case PROP_DIRECTION:
      g_value_set_enum (value, self->direction);
      break;
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_PEER_URI:
      g_value_set_string (value, self->peer_uri);
      break;
    case PROP_PEER_NAME:
      g_value_set_string (value, self->peer_name);
      break;
    case PROP_CODEC:
      g_value_set_string (value, self->codec);
      break;
    case PROP_TELEPHONE_EVENT_PT:
      g_value_set_int (value, self->telephone_event_pt);
      break;
    case PROP_CLOSE_REASON:
      g_value_set_string (value, self->close_reason);
      break;
    case PROP_MUTED:
      g_value_set_boolean (value, self->muted);
      break;
    case PROP_RECORDING:
      g_value_set_string (value, self->recording);
      break;
    case PROP_IN_CONFERENCE:
      g_value_set_boolean (value, self->in_conference);
      break;
    case PROP_CLOSE_CODE:
      g_value_set_uint (value, self->close_code);
      break;
    case PROP_SECURE:
      g_value_set_boolean (value, self->secure);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kefu_call_finalize (GObject *object)
{
  KefuCall *self = KEFU_CALL (object);

  g_free (self->peer_uri);
  g_free (self->peer_name);
  g_free (self->codec);
  g_free (self->close_reason);
  g_free (self->transfer_target);
  g_free (self->recording);
  g_clear_pointer (&self->headers, g_ptr_array_unref);

  G_OBJECT_CLASS (kefu_call_parent_class)->finalize (object);
}

static void
kefu_call_class_init (KefuCallClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

  object_class->get_property = kefu_call_get_property;
  object_class->finalize = kefu_call_finalize;

  props[PROP_ID] =
    g_param_spec_uint ("id", NULL, NULL, 0, G_MAXUINT, 0, ro);
  props[PROP_DIRECTION] =
    g_param_spec_enum ("direction", NULL, NULL, KEFU_TYPE_CALL_DIRECTION,
                       KEFU_CALL_DIRECTION_OUTGOING, ro);
  props[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, KEFU_TYPE_CALL_STATE,
                       KEFU_CALL_STATE_RINGING_OUT, ro);
  props[PROP_PEER_URI] =
    g_param_spec_string ("peer-uri", NULL, NULL, NULL, ro);
  props[PROP_PEER_NAME] =
    g_param_spec_string ("peer-name", NULL, NULL, NULL, ro);
  props[PROP_CODEC] =
    g_param_spec_string ("codec", NULL, NULL, NULL, ro);
  /* -1: no telephone-event negotiated (DTMF goes by SIP INFO then) */
  props[PROP_TELEPHONE_EVENT_PT] =
    g_param_spec_int ("telephone-event-pt", NULL, NULL, -1, 127, -1, ro);
  props[PROP_CLOSE_REASON] =
    g_param_spec_string ("close-reason", NULL, NULL, NULL, ro);
  /* the SIP status that ended the call, 0 if none (a BYE, a timeout) */
  props[PROP_CLOSE_CODE] =
    g_param_spec_uint ("close-code", NULL, NULL, 0, 699, 0, ro);
  /* mixed with the agent and another call (kefu_call_join_conference) */
  props[PROP_IN_CONFERENCE] =
    g_param_spec_boolean ("in-conference", NULL, NULL, FALSE, ro);
  /* the far end hears silence from us */
  props[PROP_MUTED] =
    g_param_spec_boolean ("muted", NULL, NULL, FALSE, ro);
  /* the WAV this call is being recorded to, or NULL */
  props[PROP_RECORDING] =
    g_param_spec_string ("recording", NULL, NULL, NULL, ro);
  /* the media is SRTP (keys exchanged over TLS), from ESTABLISHED on */
  props[PROP_SECURE] =
    g_param_spec_boolean ("secure", NULL, NULL, FALSE, ro);
  g_object_class_install_properties (object_class, N_PROPS, props);

  /**
   * KefuCall::dtmf-received:
   * @digit: the digit, one of "0-9*#A-D"
   * @mode: how it came: "rfc4733" or "info"
   */
  signals[SIGNAL_DTMF_RECEIVED] =
    g_signal_new ("dtmf-received", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);

  /**
   * KefuCall::transfer-progress:
   * @code: the SIP status the transferee reports ("100", "180", "200")
   * @reason: its reason phrase
   *
   * Our transfer of this call moves on; on a 2xx the call then closes
   * with "transferred".
   */
  signals[SIGNAL_TRANSFER_PROGRESS] =
    g_signal_new ("transfer-progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_UINT, G_TYPE_STRING);
  /**
   * KefuCall::transfer-failed:
   * @code: the SIP status of the failure, 0 if none
   * @reason: why, for the agent
   *
   * Our transfer did not happen; the call is still up.
   */
  signals[SIGNAL_TRANSFER_FAILED] =
    g_signal_new ("transfer-failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_UINT, G_TYPE_STRING);
  /**
   * KefuCall::transfer-requested:
   * @target: the URI the far end asks us to call
   * @referred_by: who asks
   *
   * The far end sent a REFER.  Nothing happens until the application
   * calls kefu_phone_accept_transfer() or kefu_call_decline_transfer().
   */
  signals[SIGNAL_TRANSFER_REQUESTED] =
    g_signal_new ("transfer-requested", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  /**
   * KefuCall::hold-failed:
   * @hold: %TRUE if putting the call on hold failed, %FALSE if resuming it
   * @reason: why, in the engine's words
   *
   * The far end did not accept our hold (resume) in time: the call stays
   * as it was (see #KefuCall:state), so a customer not held still hears
   * the agent.  An attended transfer waiting for the hold fails too
   * (::transfer-failed).  Should the far end accept it later all the
   * same, the state follows.
   */
  signals[SIGNAL_HOLD_FAILED] =
    g_signal_new ("hold-failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_BOOLEAN, G_TYPE_STRING);
}

static void
kefu_call_init (KefuCall *self)
{
  self->telephone_event_pt = -1;
}

KefuCall *
kefu_call_new_attached (struct kefu_phone_loop *loop,
                        struct kefu_calls      *calls,
                        guint                   id,
                        KefuCallDirection       direction,
                        const char             *peer_uri,
                        const char             *peer_name,
                        const GPtrArray        *headers)
{
  KefuCall *self = g_object_new (KEFU_TYPE_CALL, NULL);

  self->loop = loop;
  self->calls = calls;
  self->id = id;
  self->direction = direction;
  self->state = direction == KEFU_CALL_DIRECTION_INCOMING
                ? KEFU_CALL_STATE_RINGING_IN : KEFU_CALL_STATE_RINGING_OUT;
  self->peer_uri = g_strdup (peer_uri);
  self->peer_name = g_strdup (peer_name && *peer_name ? peer_name : NULL);
  self->headers = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; headers && i < headers->len; i++)
    {
      const struct kefu_call_header *h = headers->pdata[i];

      g_ptr_array_add (self->headers, g_strdup (h->name));
      g_ptr_array_add (self->headers, g_strdup (h->value));
    }
  return self;
}

void
kefu_call_handle_event (KefuCall                     *self,
                        const struct kefu_call_event *ev)
{
  g_return_if_fail (KEFU_IS_CALL (self));
  g_return_if_fail (ev->call_id == self->id);

  if (self->state == KEFU_CALL_STATE_CLOSED)
    return;

  g_object_freeze_notify (G_OBJECT (self));
  switch (ev->type)
    {
    case KEFU_CALL_EVENT_PROGRESS:
      if (ev->early_media)
        set_state (self, KEFU_CALL_STATE_EARLY);
      break;
    case KEFU_CALL_EVENT_ESTABLISHED:
    case KEFU_CALL_EVENT_HELD:
    case KEFU_CALL_EVENT_RESUMED:
    case KEFU_CALL_EVENT_HOLD_FAILED:
    case KEFU_CALL_EVENT_RESUME_FAILED:
    case KEFU_CALL_EVENT_REMOTE_HOLD:
    case KEFU_CALL_EVENT_REMOTE_RESUMED:
      set_string (self, &self->codec, ev->codec, PROP_CODEC);
      if (self->telephone_event_pt != ev->telev_pt)
        {
          self->telephone_event_pt = ev->telev_pt;
          g_object_notify_by_pspec (G_OBJECT (self), props[PROP_TELEPHONE_EVENT_PT]);
        }
      if (self->secure != ev->srtp)
        {
          self->secure = ev->srtp;
          g_object_notify_by_pspec (G_OBJECT (self), props[PROP_SECURE]);
        }
      /* both on hold: our own hold is what the agent must undo */
      if (ev->local_hold)
        set_state (self, KEFU_CALL_STATE_HELD);
      else if (ev->remote_hold)
        set_state (self, KEFU_CALL_STATE_REMOTE_HELD);
      else
        set_state (self, KEFU_CALL_STATE_ESTABLISHED);
      if (ev->type == KEFU_CALL_EVENT_HOLD_FAILED || ev->type == KEFU_CALL_EVENT_RESUME_FAILED)
        g_signal_emit (self, signals[SIGNAL_HOLD_FAILED], 0,
                       ev->type == KEFU_CALL_EVENT_HOLD_FAILED, ev->reason);
      break;
    case KEFU_CALL_EVENT_DTMF:
      {
        char digit[2] = { ev->dtmf_digit, '\0' };

        g_signal_emit (self, signals[SIGNAL_DTMF_RECEIVED], 0, digit, ev->dtmf_mode);
      }
      break;
    case KEFU_CALL_EVENT_TRANSFER_PROGRESS:
      g_signal_emit (self, signals[SIGNAL_TRANSFER_PROGRESS], 0, (guint) ev->scode, ev->reason);
      break;
    case KEFU_CALL_EVENT_TRANSFER_FAILED:
      g_signal_emit (self, signals[SIGNAL_TRANSFER_FAILED], 0, (guint) ev->scode, ev->reason);
      break;
    case KEFU_CALL_EVENT_REFER:
      g_free (self->transfer_target);
      self->transfer_target = g_strdup (ev->refer_to);
      g_signal_emit (self, signals[SIGNAL_TRANSFER_REQUESTED], 0, ev->refer_to, ev->referred_by);
      break;
    case KEFU_CALL_EVENT_CONFERENCE:
      if (!self->in_conference)
        {
          self->in_conference = TRUE;
          g_object_notify_by_pspec (G_OBJECT (self), props[PROP_IN_CONFERENCE]);
        }
      break;
    case KEFU_CALL_EVENT_CLOSED:
      self->loop = NULL;
      self->calls = NULL;
      /* the engine completed the file with the call */
      set_string (self, &self->recording, NULL, PROP_RECORDING);
      if (self->in_conference)
        {
          self->in_conference = FALSE;
          g_object_notify_by_pspec (G_OBJECT (self), props[PROP_IN_CONFERENCE]);
        }
      set_closed (self, ev->reason, ev->scode);
      break;
    default:
      /* INCOMING made this call; newer event types are not ours yet */
      break;
    }
  g_object_thaw_notify (G_OBJECT (self));
}

void
kefu_call_detach (KefuCall   *self,
                  const char *reason)
{
  g_return_if_fail (KEFU_IS_CALL (self));

  self->loop = NULL;
  self->calls = NULL;
  set_closed (self, reason, 0);
}

/* The errno of a command that could not be queued, as a GError. */
static gboolean
check_queued (KefuCall *self, int err, GError **error)
{
  if (!err)
    return TRUE;
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
               _("Call %u: %s"), self->id, g_strerror (err));
  return FALSE;
}

static gboolean
check_attached (KefuCall *self, GError **error)
{
  if (self->loop)
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED, _("Call %u has ended"), self->id);
  return FALSE;
}

guint
kefu_call_get_id (KefuCall *self)
{
  g_return_val_if_fail (KEFU_IS_CALL (self), 0);
  return self->id;
}

KefuCallDirection
kefu_call_get_direction (KefuCall *self)
{
  g_return_val_if_fail (KEFU_IS_CALL (self), KEFU_CALL_DIRECTION_OUTGOING);
  return self->direction;
}

KefuCallState
kefu_call_get_state (KefuCall *self)
{
  g_return_val_if_fail (KEFU_IS_CALL (self), KEFU_CALL_STATE_CLOSED);
  return self->state;
}

const char *
kefu_call_get_peer_uri (KefuCall *self)
{
  g_return_val_if_fail (KEFU_IS_CALL (self), NULL);
  return self->peer_uri;
}

const char *
kefu_call_get_peer_name (KefuCall *self)
{
  g_return_val_if_fail (KEFU_IS_CALL (self), NULL);
  return self->peer_name;
}

const char *
kefu_call_get_codec (KefuCall *self)
{
  g_return_val_if_fail (KEFU_IS_CALL (self), NULL);
  return self->codec;
}

int
kefu_call_get_telephone_event_pt (KefuCall *self)
{
  g_return_val_if_fail (KEFU_IS_CALL (self), -1);
  return self->telephone_event_pt;
}

const char *
kefu_call_get_close_reason (KefuCall *self)
{
  g_return_val_if_fail (KEFU_IS_CALL (self), NULL);
  return self->close_reason;
}

guint
kefu_call_get_close_code (KefuCall *self)
{
  g_return_val_if_fail (KEFU_IS_CALL (self), 0);
  return self->close_code;
}

gboolean
kefu_call_get_secure (KefuCall *self)
{
  g_return_val_if_fail (KEFU_IS_CALL (self), FALSE);
  return self->secure;
}

const char *
kefu_call_get_header (KefuCall   *self,
                      const char *name)
{
  g_return_val_if_fail (KEFU_IS_CALL (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  for (guint i = 0; i + 1 < self->headers->len; i += 2)
    if (g_ascii_strcasecmp (self->headers->pdata[i], name) == 0)
      return self->headers->pdata[i + 1];
  return NULL;
}

gboolean
kefu_call_accept (KefuCall  *self,
                  GError   **error)
{
  g_return_val_if_fail (KEFU_IS_CALL (self), FALSE);

  return check_attached (self, error)
         && check_queued (self, kefu_call_answer (self->loop, self->calls, self->id), error);
}

gboolean
kefu_call_decline (KefuCall  *self,
                   guint      sip_code,
                   GError   **error)
{
  g_return_val_if_fail (KEFU_IS_CALL (self), FALSE);
  g_return_val_if_fail (sip_code >= 400 && sip_code <= 699, FALSE);

  return check_attached (self, error)
         && check_queued (self, kefu_call_reject (self->loop, self->calls, self->id,
                                                  (uint16_t) sip_code), error);
}

gboolean
kefu_call_hang_up (KefuCall  *self,
                   GError   **error)
{
  g_return_val_if_fail (KEFU_IS_CALL (self), FALSE);

  return check_attached (self, error)
         && check_queued (self, kefu_call_hangup (self->loop, self->calls, self->id), error);
}

gboolean
kefu_call_put_on_hold (KefuCall  *self,
                       GError   **error)
{
  g_return_val_if_fail (KEFU_IS_CALL (self), FALSE);

  return check_attached (self, error)
         && check_queued (self, kefu_call_hold (self->loop, self->calls, self->id, TRUE), error);
}

gboolean
kefu_call_resume (KefuCall  *self,
                  GError   **error)
{
  g_return_val_if_fail (KEFU_IS_CALL (self), FALSE);

  return check_attached (self, error)
         && check_queued (self, kefu_call_hold (self->loop, self->calls, self->id, FALSE), error);
}

gboolean
kefu_call_send_digits (KefuCall    *self,
                       const char  *digits,
                       GError     **error)
{
  g_return_val_if_fail (KEFU_IS_CALL (self), FALSE);
  g_return_val_if_fail (digits != NULL, FALSE);

  if (!*digits || strspn (digits, "0123456789*#ABCDabcd") != strlen (digits))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("“%s” are not DTMF digits (0-9, *, #, A-D)"), digits);
      return FALSE;
    }
  if (!check_attached (self, error))
    return FALSE;
  {
    g_autofree char *upper = g_ascii_strup (digits, -1);

    return check_queued (self, kefu_call_send_dtmf (self->loop, self->calls, self->id, upper),
                         error);
  }
}

/**
 * kefu_call_transfer_blind:
 * @uri: where the far end should go (sip: or sips:)
 *
 * Blind transfer: the far end is asked (REFER) to call @uri; progress
 * comes as ::transfer-progress, then the call closes ("transferred"), or
 * ::transfer-failed and the call stays up.
 */
gboolean
kefu_call_transfer_blind (KefuCall    *self,
                          const char  *uri,
                          GError     **error)
{
  g_return_val_if_fail (KEFU_IS_CALL (self), FALSE);
  g_return_val_if_fail (uri != NULL, FALSE);

  if (!kefu_call_transfer_target_valid (uri))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not a SIP address to transfer to, like sip:2001@pbx"), uri);
      return FALSE;
    }
  return check_attached (self, error)
         && check_queued (self, kefu_call_transfer (self->loop, self->calls, self->id, uri),
                          error);
}

/**
 * kefu_call_transfer_to_call:
 * @consultation: the call with the person taking over (established)
 *
 * Completes a consult transfer: this call (held, or put on hold now) is
 * handed over to the far end of @consultation, and both our calls end
 * once they are talking ("transferred" and "replaced").
 */
gboolean
kefu_call_transfer_to_call (KefuCall  *self,
                            KefuCall  *consultation,
                            GError   **error)
{
  g_return_val_if_fail (KEFU_IS_CALL (self), FALSE);
  g_return_val_if_fail (KEFU_IS_CALL (consultation), FALSE);

  if (consultation == self)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("A call cannot be transferred to itself"));
      return FALSE;
    }
  return check_attached (self, error) && check_attached (consultation, error)
         && check_queued (self, kefu_call_transfer_attended (self->loop, self->calls, self->id,
                                                              consultation->id),
                          error);
}

/* Refuses the far end's transfer request (::transfer-requested). */
gboolean
kefu_call_decline_transfer (KefuCall  *self,
                            GError   **error)
{
  g_return_val_if_fail (KEFU_IS_CALL (self), FALSE);

  return check_attached (self, error)
         && check_queued (self, kefu_call_refer_decline (self->loop, self->calls, self->id),
                          error);
}

/**
 * kefu_call_join_conference:
 * @other: another established call of the same phone
 *
 * Three-party conference mixed in this phone: the agent, this call and
 * @other all hear each other (a held call is resumed).  Either call may
 * hang up; the others go on talking.
 */
gboolean
kefu_call_join_conference (KefuCall  *self,
                           KefuCall  *other,
                           GError   **error)
{
  g_return_val_if_fail (KEFU_IS_CALL (self), FALSE);
  g_return_val_if_fail (KEFU_IS_CALL (other), FALSE);

  if (other == self)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("A conference needs two different calls"));
      return FALSE;
    }
  return check_attached (self, error) && check_attached (other, error)
         && check_queued (self, kefu_call_conference (self->loop, self->calls, self->id,
                                                      other->id),
                          error);
}

gboolean
kefu_call_get_in_conference (KefuCall *self)
{
  g_return_val_if_fail (KEFU_IS_CALL (self), FALSE);

  return self->in_conference;
}

const char *
kefu_call_get_transfer_target (KefuCall *self)
{
  g_return_val_if_fail (KEFU_IS_CALL (self), NULL);

  return self->transfer_target;
}

guint
kefu_call_get_replaces (KefuCall *self)
{
  g_return_val_if_fail (KEFU_IS_CALL (self), 0);

  return self->replaces;
}

void
kefu_call_set_replaces (KefuCall *self,
                        guint     replaced_id)
{
  self->replaces = replaced_id;
}

/* Mutes (the far end hears silence; digits still go) or unmutes. */
gboolean
kefu_call_set_muted (KefuCall  *self,
                     gboolean   muted,
                     GError   **error)
{
  g_return_val_if_fail (KEFU_IS_CALL (self), FALSE);

  if (!check_attached (self, error)
      || !check_queued (self, kefu_call_mute (self->loop, self->calls, self->id, muted), error))
    return FALSE;
  if (self->muted != !!muted)
    {
      self->muted = !!muted;
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_MUTED]);
    }
  return TRUE;
}

gboolean
kefu_call_get_muted (KefuCall *self)
{
  g_return_val_if_fail (KEFU_IS_CALL (self), FALSE);

  return self->muted;
}

/**
 * kefu_call_start_recording:
 * @path: the WAV to write (stereo: the agent left, the far end right)
 *
 * Records the call from now until kefu_call_stop_recording() or its end.
 * A file that cannot be created is an error now; the call goes on.
 */
gboolean
kefu_call_start_recording (KefuCall    *self,
                           const char  *path,
                           GError     **error)
{
  g_autoptr(GError) local = NULL;
  int err;

  g_return_val_if_fail (KEFU_IS_CALL (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if (!check_attached (self, error))
    return FALSE;
  err = kefu_call_record (self->loop, self->calls, self->id, path, &local);
  if (local)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (!check_queued (self, err, error))
    return FALSE;
  set_string (self, &self->recording, path, PROP_RECORDING);
  return TRUE;
}

gboolean
kefu_call_stop_recording (KefuCall  *self,
                          GError   **error)
{
  g_return_val_if_fail (KEFU_IS_CALL (self), FALSE);

  if (!check_attached (self, error)
      || !check_queued (self, kefu_call_record (self->loop, self->calls, self->id, NULL, NULL),
                        error))
    return FALSE;
  set_string (self, &self->recording, NULL, PROP_RECORDING);
  return TRUE;
}

const char *
kefu_call_get_recording (KefuCall *self)
{
  g_return_val_if_fail (KEFU_IS_CALL (self), NULL);

  return self->recording;
}

gboolean
kefu_call_get_stats (KefuCall                     *self,
                     struct kefu_rtp_stream_stats *stats)
{
  g_return_val_if_fail (KEFU_IS_CALL (self), FALSE);
  g_return_val_if_fail (stats != NULL, FALSE);

  memset (stats, 0, sizeof *stats);
  return self->loop && kefu_call_stats (self->loop, self->calls, self->id, stats) == 0;
}
