/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuAgentStateButton"

#include "config.h"

#include "kefu-agent-state-button.h"

#include <glib/gi18n.h>

#include "kefu-caller-id.h"
#include "kefu-record.h"

enum {
  PROP_0,
  PROP_STATE,
  PROP_AFTER_WRAPUP,
  PROP_WRAPUP_REMAINING,
  N_PROPS,
};

static GParamSpec *props[N_PROPS];

struct _KefuAgentStateButton
{
  GtkWidget parent_instance;

  /* template widgets */
  GtkMenuButton *menu_button;
  GtkLabel      *dot;
  GtkLabel      *state_label;
  GtkPopover    *popover;
  GtkBox        *reasons_box;

  /* owned */
  KefuApiClient   *client;
  KefuEventStream *events;
  GCancellable    *cancellable;
  GCancellable    *read_cancellable;  /* reading the agent's record; NULL when not */
  gboolean         read_again;        /* when that read answers */
  char            *username;          /* the signed-in agent, from their record */
  GPtrArray       *sent;              /* SentState: changes whose echo has not come back */
  guint64          last_sent_id;
  guint            generation;        /* counts the changes shown */
  char            *state;             /* shown: the agent's choice or the server's word */
  char            *reason;
  char            *after_wrapup;      /* "available" or "not_ready" */
  char           **reasons;
  guint            wrapup_seconds;
  guint            wrapup_source;     /* the desktop's own countdown runs */
  gint64           wrapup_ends_us;
  guint            wrapup_remaining;  /* as last notified */
};

G_DEFINE_FINAL_TYPE (KefuAgentStateButton, kefu_agent_state_button, GTK_TYPE_WIDGET)

static void set_state (KefuAgentStateButton *self, const char *state, const char *reason);

/* A change the agent made here, until the event stream brings it back. */
typedef struct {
  guint64  id;
  char    *state;
  char    *reason;
} SentState;

static void
sent_state_free (gpointer data)
{
  SentState *sent = data;

  g_free (sent->state);
  g_free (sent->reason);
  g_free (sent);
}

static void
show_state (KefuAgentStateButton *self)
{
  g_autofree char *text = NULL;
  GtkWidget *dot = GTK_WIDGET (self->dot);

  gtk_widget_remove_css_class (dot, "available");
  gtk_widget_remove_css_class (dot, "not-ready");
  gtk_widget_remove_css_class (dot, "wrapup");
  if (g_strcmp0 (self->state, "available") == 0)
    {
      text = g_strdup (_("Available"));
      gtk_widget_add_css_class (dot, "available");
    }
  else if (g_strcmp0 (self->state, "not_ready") == 0)
    {
      text = self->reason && self->reason[0]
             ? g_strdup_printf (_("Not Ready: %s"), self->reason) : g_strdup (_("Not Ready"));
      gtk_widget_add_css_class (dot, "not-ready");
    }
  else if (g_strcmp0 (self->state, "wrapup") == 0 && !self->wrapup_source)
    {
      /* the switch's wrap-up: it ends it, and says so */
      text = g_strdup (_("Wrap-up"));
      gtk_widget_add_css_class (dot, "wrapup");
    }
  else if (g_strcmp0 (self->state, "wrapup") == 0)
    {
      gint64 left = (self->wrapup_ends_us - g_get_monotonic_time () + G_USEC_PER_SEC - 1)
                    / G_USEC_PER_SEC;
      g_autofree char *time = kefu_caller_id_format_duration (left);

      text = g_strdup_printf (_("Wrap-up %s"), time);
      gtk_widget_add_css_class (dot, "wrapup");
    }
  else
    text = g_strdup (_("Set State"));
  gtk_label_set_label (self->state_label, text);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->menu_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, text, -1);
}

static gboolean
on_wrapup_tick (gpointer data)
{
  KefuAgentStateButton *self = data;

  if (g_get_monotonic_time () >= self->wrapup_ends_us)
    {
      self->wrapup_source = 0;
      kefu_agent_state_button_finish_wrapup (self);
      return G_SOURCE_REMOVE;
    }
  show_state (self);
  if (kefu_agent_state_button_get_wrapup_remaining (self) != self->wrapup_remaining)
    {
      self->wrapup_remaining = kefu_agent_state_button_get_wrapup_remaining (self);
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_WRAPUP_REMAINING]);
    }
  return G_SOURCE_CONTINUE;
}

/* Shows @state (NULL: none known) as the agent's, whoever set it.  A
 * countdown that no longer applies stops, and the case editor hears so. */
static void
change_state (KefuAgentStateButton *self,
              const char           *state,
              const char           *reason)
{
  g_free (self->state);
  self->state = g_strdup (state);
  g_free (self->reason);
  self->reason = g_strdup (reason);
  self->generation++;
  if (g_strcmp0 (state, "wrapup") != 0)
    g_clear_handle_id (&self->wrapup_source, g_source_remove);
  show_state (self);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_STATE]);
  if (self->wrapup_remaining && !self->wrapup_source)
    {
      self->wrapup_remaining = 0;
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_WRAPUP_REMAINING]);
    }
}

static gboolean
is_call_state (const char *state)
{
  return g_strcmp0 (state, "ringing") == 0 || g_strcmp0 (state, "talking") == 0 ||
         g_strcmp0 (state, "on_hold") == 0;
}

/* @state as the server has it: from an event made by @by, or from the
 * agent's record (@by NULL). */
static void
follow_server_state (KefuAgentStateButton *self,
                     const char           *state,
                     const char           *reason,
                     const char           *by)
{
  /* the phone panel shows calls; the state the agent returns to after
   * them comes as its own event */
  if (!state || is_call_state (state))
    return;
  if (g_str_equal (state, "logged_out"))
    state = NULL;
  if (g_strcmp0 (state, "not_ready") != 0)
    reason = NULL;
  /* The desktop's countdown ends wrap-up, in the state the agent chose,
   * and tells the server.  The switch's view of that wrap-up (wrapup, Not
   * ready "wrapup", or its own shorter wrap-up running out into
   * Available) must not cut it short; a Not ready for a reason must: then
   * someone has taken the agent out of the queues. */
  if (self->wrapup_source &&
      (g_strcmp0 (state, "wrapup") == 0 || g_strcmp0 (state, "available") == 0 ||
       g_strcmp0 (reason, "wrapup") == 0))
    return;
  if (g_strcmp0 (state, self->state) == 0 && g_strcmp0 (reason, self->reason) == 0)
    return;
  change_state (self, state, reason);
  /* the switch's reason when calls rang out: the agent must know why
   * calls stopped coming, and that it is theirs to undo */
  if (g_strcmp0 (state, "not_ready") == 0 && g_strcmp0 (reason, "no answer") == 0 &&
      g_strcmp0 (by, self->username) != 0)
    gtk_widget_activate_action (GTK_WIDGET (self), "window.toast", "s",
                                _("The switch set you Not Ready because calls rang and were not "
                                  "answered. Choose Available when you are ready for calls."));
}

/* The agent's own change coming back on the stream: it is shown already,
 * and showing it again could undo a later choice. */
static gboolean
take_echo (KefuAgentStateButton *self,
           const char           *state,
           const char           *reason)
{
  for (guint i = 0; i < self->sent->len; i++)
    {
      SentState *sent = g_ptr_array_index (self->sent, i);

      if (g_strcmp0 (sent->state, state) == 0 && g_strcmp0 (sent->reason, reason) == 0)
        {
          /* the log is in order: changes sent before this one came back
           * before it, or never will */
          g_ptr_array_remove_range (self->sent, 0, i + 1);
          return TRUE;
        }
    }
  return FALSE;
}

static void
on_agent_state_event (KefuEventStream      *events,
                      const char           *type,
                      JsonObject           *event,
                      KefuAgentStateButton *self)
{
  JsonNode *data_node = json_object_get_member (event, "data");
  JsonObject *data = data_node && JSON_NODE_HOLDS_OBJECT (data_node)
                     ? json_node_get_object (data_node) : NULL;
  const char *state = kefu_json_get_string (data, "state");
  const char *reason = kefu_json_get_string (data, "reason");
  const char *by = kefu_json_get_string (data, "by");

  /* everyone's events come by: only this agent's count */
  if (!self->username || g_strcmp0 (kefu_json_get_string (event, "agent"), self->username) != 0)
    return;
  if (g_strcmp0 (by, self->username) == 0 && take_echo (self, state, reason))
    return;
  follow_server_state (self, state, reason, by);
}

typedef struct {
  KefuAgentStateButton *self;
  GCancellable         *cancellable;
  guint                 generation;
} StateRead;

static void read_server_state (KefuAgentStateButton *self);

static void
on_agent_read (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  StateRead *read = user_data;
  g_autoptr(KefuAgentStateButton) self = read->self;
  g_autoptr(GCancellable) cancellable = read->cancellable;
  guint generation = read->generation;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) agent =
    kefu_api_client_request_finish (KEFU_API_CLIENT (source), result, NULL, &error);

  g_free (read);
  /* an answer for the session before */
  if (cancellable != self->read_cancellable)
    return;
  g_clear_object (&self->read_cancellable);
  if (!agent)
    {
      /* offline: the banner says so, and the next connection reads again */
      g_debug ("the agent's state: %s", error->message);
    }
  else
    {
      g_free (self->username);
      self->username = g_strdup (kefu_json_get_string (agent, "username"));
      /* the agent chose, or an event came, since the server answered: newer */
      if (generation == self->generation)
        follow_server_state (self, kefu_json_get_string (agent, "state"),
                             kefu_json_get_string (agent, "state_reason"), NULL);
    }
  if (self->read_again)
    {
      self->read_again = FALSE;
      read_server_state (self);
    }
}

static void
read_server_state (KefuAgentStateButton *self)
{
  StateRead *read;

  if (!self->client)
    return;
  /* One read at a time.  The one under way goes on (dropped, the server
   * would be left answering nobody), but it may predate what the caller
   * knows has changed: another follows it. */
  if (self->read_cancellable)
    {
      self->read_again = TRUE;
      return;
    }
  self->read_cancellable = g_cancellable_new ();
  read = g_new0 (StateRead, 1);
  read->self = g_object_ref (self);
  read->cancellable = g_object_ref (self->read_cancellable);
  read->generation = self->generation;
  kefu_api_client_request_async (self->client, "GET", "/v1/agents/me", NULL, NULL, -1,
                                 self->read_cancellable, on_agent_read, read);
}

static void
on_events_connected (KefuEventStream      *events,
                     GParamSpec           *pspec,
                     KefuAgentStateButton *self)
{
  /* echoes of what was sent while the stream was closed never come */
  g_ptr_array_set_size (self->sent, 0);
  /* nor did what others changed meanwhile: the record has it */
  if (kefu_event_stream_get_connected (events))
    read_server_state (self);
}

typedef struct {
  KefuAgentStateButton *self;
  guint64 sent_id;
  char *state;
  char *reason;
} StateRequest;

static void
state_request_free (StateRequest *request)
{
  g_object_unref (request->self);
  g_free (request->state);
  g_free (request->reason);
  g_free (request);
}

static void
on_state_set (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  StateRequest *request = user_data;
  KefuAgentStateButton *self = request->self;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) agent =
    kefu_api_client_set_agent_state_finish (KEFU_API_CLIENT (source), result, &error);

  if (!agent && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_autofree char *message = g_strdup_printf (_("Your state was not changed: %s"),
                                                  error->message);

      gtk_widget_activate_action (GTK_WIDGET (self), "window.toast", "s", message);
    }
  if (!agent)
    for (guint i = 0; i < self->sent->len; i++)
      if (((SentState *) g_ptr_array_index (self->sent, i))->id == request->sent_id)
        {
          /* refused or lost: no echo comes */
          g_ptr_array_remove_index (self->sent, i);
          break;
        }
  state_request_free (request);
}

static void
set_state (KefuAgentStateButton *self,
           const char           *state,
           const char           *reason)
{
  StateRequest *request;

  change_state (self, state, reason);

  if (!self->client)
    return;
  request = g_new0 (StateRequest, 1);
  request->self = g_object_ref (self);
  request->state = g_strdup (state);
  request->reason = g_strdup (reason);
  /* with the stream open, the server's broadcast of this change will come
   * back to us */
  if (self->events && kefu_event_stream_get_connected (self->events))
    {
      SentState *sent = g_new0 (SentState, 1);

      sent->id = request->sent_id = ++self->last_sent_id;
      sent->state = g_strdup (state);
      sent->reason = g_strdup (reason);
      g_ptr_array_add (self->sent, sent);
    }
  kefu_api_client_set_agent_state_async (self->client, state, reason, self->cancellable,
                                         on_state_set, request);
}

static void
on_available_activated (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
  KefuAgentStateButton *self = KEFU_AGENT_STATE_BUTTON (widget);

  gtk_popover_popdown (self->popover);
  set_state (self, "available", NULL);
}

static void
on_not_ready_activated (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
  KefuAgentStateButton *self = KEFU_AGENT_STATE_BUTTON (widget);
  const char *reason = parameter ? g_variant_get_string (parameter, NULL) : NULL;

  gtk_popover_popdown (self->popover);
  /* the shortcut has no reason to give: the first of the server's list */
  if ((!reason || !reason[0]) && self->reasons && self->reasons[0])
    reason = self->reasons[0];
  set_state (self, "not_ready", reason && reason[0] ? reason : NULL);
}

static void
on_wrap_up_activated (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  KefuAgentStateButton *self = KEFU_AGENT_STATE_BUTTON (widget);

  gtk_popover_popdown (self->popover);
  kefu_agent_state_button_start_wrapup (self, parameter ? g_variant_get_string (parameter, NULL)
                                                        : NULL);
}

static void
fill_reasons (KefuAgentStateButton *self)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->reasons_box))))
    gtk_box_remove (self->reasons_box, child);
  for (char **r = self->reasons; r && *r; r++)
    {
      GtkWidget *button = gtk_button_new ();
      GtkWidget *label = gtk_label_new (*r);

      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_button_set_child (GTK_BUTTON (button), label);
      gtk_widget_add_css_class (button, "flat");
      gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "agent.not-ready");
      gtk_actionable_set_action_target (GTK_ACTIONABLE (button), "s", *r);
      gtk_box_append (self->reasons_box, button);
    }
  if (!self->reasons || !self->reasons[0])
    {
      GtkWidget *button = gtk_button_new_with_label (_("Not Ready"));

      gtk_widget_add_css_class (button, "flat");
      gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "agent.not-ready");
      gtk_actionable_set_action_target (GTK_ACTIONABLE (button), "s", "");
      gtk_box_append (self->reasons_box, button);
    }
}

static void
on_reasons_loaded (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(KefuAgentStateButton) self = user_data;
  g_autoptr(GError) error = NULL;
  char **reasons = kefu_api_client_get_reason_codes_finish (KEFU_API_CLIENT (source), result,
                                                            &error);

  if (!reasons)
    {
      g_debug ("reason codes: %s", error->message);
      return;
    }
  g_strfreev (self->reasons);
  self->reasons = reasons;
  fill_reasons (self);
}

static void
on_popover_show (GtkPopover           *popover,
                 KefuAgentStateButton *self)
{
  if (self->client && !self->reasons)
    kefu_api_client_get_reason_codes_async (self->client, self->cancellable, on_reasons_loaded,
                                            g_object_ref (self));
}

static void
kefu_agent_state_button_get_property (GObject    *object,
                                      guint       prop_id,
                                      GValue     *value,
                                      GParamSpec *pspec)
{
  KefuAgentStateButton *self = KEFU_AGENT_STATE_BUTTON (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_string (value, self->state);
      break;
    case PROP_AFTER_WRAPUP:
      g_value_set_string (value, kefu_agent_state_button_get_after_wrapup (self));
      break;
    case PROP_WRAPUP_REMAINING:
      g_value_set_uint (value, kefu_agent_state_button_get_wrapup_remaining (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kefu_agent_state_button_set_property (GObject      *object,
                                      guint         prop_id,
                                      const GValue *value,
                                      GParamSpec   *pspec)
{
  KefuAgentStateButton *self = KEFU_AGENT_STATE_BUTTON (object);

  switch (prop_id)
    {
    case PROP_AFTER_WRAPUP:
      kefu_agent_state_button_set_after_wrapup (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kefu_agent_state_button_dispose (GObject *object)
{
  KefuAgentStateButton *self = KEFU_AGENT_STATE_BUTTON (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->read_cancellable)
    g_cancellable_cancel (self->read_cancellable);
  g_clear_object (&self->read_cancellable);
  g_clear_handle_id (&self->wrapup_source, g_source_remove);
  if (self->events)
    g_signal_handlers_disconnect_by_data (self->events, self);
  g_clear_object (&self->events);
  g_clear_object (&self->client);
  gtk_widget_dispose_template (GTK_WIDGET (self), KEFU_TYPE_AGENT_STATE_BUTTON);
  /* unbound template children are not unparented by dispose_template */
  for (GtkWidget *child; (child = gtk_widget_get_first_child (GTK_WIDGET (self)));)
    gtk_widget_unparent (child);
  G_OBJECT_CLASS (kefu_agent_state_button_parent_class)->dispose (object);
}

static void
kefu_agent_state_button_finalize (GObject *object)
{
  KefuAgentStateButton *self = KEFU_AGENT_STATE_BUTTON (object);

  g_free (self->state);
  g_free (self->reason);
  g_free (self->username);
  g_ptr_array_unref (self->sent);
  g_free (self->after_wrapup);
  g_strfreev (self->reasons);
  G_OBJECT_CLASS (kefu_agent_state_button_parent_class)->finalize (object);
}

static void
kefu_agent_state_button_class_init (KefuAgentStateButtonClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->get_property = kefu_agent_state_button_get_property;
  object_class->set_property = kefu_agent_state_button_set_property;
  object_class->dispose = kefu_agent_state_button_dispose;
  object_class->finalize = kefu_agent_state_button_finalize;

  props[PROP_STATE] =
    g_param_spec_string ("state", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  /* where wrap-up ends: "available" or "not_ready" */
  props[PROP_AFTER_WRAPUP] =
    g_param_spec_string ("after-wrapup", NULL, NULL, "available",
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* seconds of wrap-up left, 0 outside wrap-up */
  props[PROP_WRAPUP_REMAINING] =
    g_param_spec_uint ("wrapup-remaining", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/kefu/Kefu/ui/kefu-agent-state-button.ui");
  gtk_widget_class_bind_template_child (widget_class, KefuAgentStateButton, menu_button);
  gtk_widget_class_bind_template_child (widget_class, KefuAgentStateButton, dot);
  gtk_widget_class_bind_template_child (widget_class, KefuAgentStateButton, state_label);
  gtk_widget_class_bind_template_child (widget_class, KefuAgentStateButton, popover);
  gtk_widget_class_bind_template_child (widget_class, KefuAgentStateButton, reasons_box);
  gtk_widget_class_bind_template_callback (widget_class, on_popover_show);

  gtk_widget_class_install_action (widget_class, "agent.available", NULL, on_available_activated);
  gtk_widget_class_install_action (widget_class, "agent.not-ready", "s", on_not_ready_activated);
  gtk_widget_class_install_action (widget_class, "agent.wrap-up", "s", on_wrap_up_activated);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
kefu_agent_state_button_init (KefuAgentStateButton *self)
{
  GtkEventController *controller;
  static const struct { const char *accel; const char *action; const char *target; } shortcuts[] = {
    { "<Control>1", "agent.available", NULL },
    { "<Control>2", "agent.not-ready", "" },
    { "<Control>3", "agent.wrap-up", "available" },
  };

  gtk_widget_init_template (GTK_WIDGET (self));
  self->cancellable = g_cancellable_new ();
  self->sent = g_ptr_array_new_with_free_func (sent_state_free);
  self->wrapup_seconds = 60;
  fill_reasons (self);
  show_state (self);

  controller = gtk_shortcut_controller_new ();
  gtk_shortcut_controller_set_scope (GTK_SHORTCUT_CONTROLLER (controller),
                                     GTK_SHORTCUT_SCOPE_GLOBAL);
  for (gsize i = 0; i < G_N_ELEMENTS (shortcuts); i++)
    {
      GtkShortcut *shortcut =
        gtk_shortcut_new (gtk_shortcut_trigger_parse_string (shortcuts[i].accel),
                          gtk_named_action_new (shortcuts[i].action));

      if (shortcuts[i].target)
        gtk_shortcut_set_arguments (shortcut, g_variant_new_string (shortcuts[i].target));
      gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (controller), shortcut);
    }
  gtk_widget_add_controller (GTK_WIDGET (self), controller);
}

GtkWidget *
kefu_agent_state_button_new (void)
{
  return g_object_new (KEFU_TYPE_AGENT_STATE_BUTTON, NULL);
}

void
kefu_agent_state_button_set_client (KefuAgentStateButton *self,
                                    KefuApiClient        *client)
{
  g_return_if_fail (KEFU_IS_AGENT_STATE_BUTTON (self));
  g_return_if_fail (!client || KEFU_IS_API_CLIENT (client));

  if (self->client == client)
    return;
  g_set_object (&self->client, client);
  g_clear_pointer (&self->reasons, g_strfreev);
  /* the session's read goes with it */
  if (self->read_cancellable)
    g_cancellable_cancel (self->read_cancellable);
  g_clear_object (&self->read_cancellable);
  self->read_again = FALSE;
  g_clear_pointer (&self->username, g_free);
  g_ptr_array_set_size (self->sent, 0);
  /* another session, perhaps another agent: nothing shown still holds */
  if (self->state)
    change_state (self, NULL, NULL);
  read_server_state (self);
}

void
kefu_agent_state_button_set_event_stream (KefuAgentStateButton *self,
                                          KefuEventStream      *events)
{
  g_return_if_fail (KEFU_IS_AGENT_STATE_BUTTON (self));
  g_return_if_fail (!events || KEFU_IS_EVENT_STREAM (events));

  if (self->events == events)
    return;
  if (self->events)
    g_signal_handlers_disconnect_by_data (self->events, self);
  g_set_object (&self->events, events);
  g_ptr_array_set_size (self->sent, 0);
  if (!events)
    return;
  g_signal_connect (events, "event::agent.state", G_CALLBACK (on_agent_state_event), self);
  g_signal_connect (events, "notify::connected", G_CALLBACK (on_events_connected), self);
  if (kefu_event_stream_get_connected (events))
    read_server_state (self);
}

const char *
kefu_agent_state_button_get_state (KefuAgentStateButton *self)
{
  g_return_val_if_fail (KEFU_IS_AGENT_STATE_BUTTON (self), NULL);
  return self->state;
}

void
kefu_agent_state_button_set_wrapup_seconds (KefuAgentStateButton *self,
                                            guint                 seconds)
{
  g_return_if_fail (KEFU_IS_AGENT_STATE_BUTTON (self));
  self->wrapup_seconds = MAX (seconds, 1);
}

void
kefu_agent_state_button_start_wrapup (KefuAgentStateButton *self,
                                      const char           *next)
{
  g_return_if_fail (KEFU_IS_AGENT_STATE_BUTTON (self));

  if (next)
    kefu_agent_state_button_set_after_wrapup (self, next);
  self->wrapup_ends_us = g_get_monotonic_time () + (gint64) self->wrapup_seconds * G_USEC_PER_SEC;
  g_clear_handle_id (&self->wrapup_source, g_source_remove);
  self->wrapup_source = g_timeout_add (250, on_wrapup_tick, self);
  self->wrapup_remaining = self->wrapup_seconds;
  set_state (self, "wrapup", NULL);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_WRAPUP_REMAINING]);
}

void
kefu_agent_state_button_finish_wrapup (KefuAgentStateButton *self)
{
  g_autofree char *next = NULL;

  g_return_if_fail (KEFU_IS_AGENT_STATE_BUTTON (self));

  if (g_strcmp0 (self->state, "wrapup") != 0)
    return;
  next = g_strdup (kefu_agent_state_button_get_after_wrapup (self));
  /* not ready after wrap-up: the first of the server's reasons, as Ctrl+2 */
  set_state (self, next, g_str_equal (next, "not_ready") && self->reasons ? self->reasons[0] : NULL);
}

const char *
kefu_agent_state_button_get_after_wrapup (KefuAgentStateButton *self)
{
  g_return_val_if_fail (KEFU_IS_AGENT_STATE_BUTTON (self), NULL);
  return self->after_wrapup ? self->after_wrapup : "available";
}

void
kefu_agent_state_button_set_after_wrapup (KefuAgentStateButton *self,
                                          const char           *next)
{
  const char *value;

  g_return_if_fail (KEFU_IS_AGENT_STATE_BUTTON (self));

  value = g_strcmp0 (next, "not_ready") == 0 ? "not_ready" : "available";
  if (g_strcmp0 (self->after_wrapup, value) == 0)
    return;
  g_free (self->after_wrapup);
  self->after_wrapup = g_strdup (value);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_AFTER_WRAPUP]);
}

guint
kefu_agent_state_button_get_wrapup_remaining (KefuAgentStateButton *self)
{
  gint64 left;

  g_return_val_if_fail (KEFU_IS_AGENT_STATE_BUTTON (self), 0);
  /* the switch's wrap-up has no countdown here */
  if (g_strcmp0 (self->state, "wrapup") != 0 || !self->wrapup_source)
    return 0;
  left = (self->wrapup_ends_us - g_get_monotonic_time () + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC;
  return (guint) MAX (left, 0);
}
