/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuCallRow"

#include "config.h"

#include "kefu-call-row.h"

#include <glib/gi18n.h>

#include "kefu-caller-id.h"

enum {
  PROP_0,
  PROP_CALL,
  PROP_DURATION,
  N_PROPS,
};

static GParamSpec *props[N_PROPS];

struct _KefuCallRow
{
  GtkListBoxRow parent_instance;

  /* template widgets */
  GtkImage *state_icon;
  GtkLabel *peer_label;
  GtkLabel *detail_label;
  GtkLabel *state_label;
  GtkLabel *duration_label;

  /* owned */
  KefuCall *call;
  gulong    state_handler;
  guint     tick_source;
  gint64    appeared_us;     /* monotonic: when the call reached the list */
  gint64    answered_us;     /* monotonic: first established, 0 before */
};

G_DEFINE_FINAL_TYPE (KefuCallRow, kefu_call_row, GTK_TYPE_LIST_BOX_ROW)

const char *
kefu_call_state_describe (KefuCallState state)
{
  switch (state)
    {
    case KEFU_CALL_STATE_RINGING_IN:
      return _("Incoming call");
    case KEFU_CALL_STATE_RINGING_OUT:
      return _("Calling…");
    case KEFU_CALL_STATE_EARLY:
      return _("Ringing…");
    case KEFU_CALL_STATE_ESTABLISHED:
      return _("Talking");
    case KEFU_CALL_STATE_HELD:
      return _("On hold");
    case KEFU_CALL_STATE_REMOTE_HELD:
      return _("Held by caller");
    case KEFU_CALL_STATE_CLOSED:
    default:
      return _("Ended");
    }
}

const char *
kefu_call_outcome_describe (const char *outcome)
{
  static const struct { const char *id; const char *label; } outcomes[] = {
    { "answered", N_("answered") },
    { "abandoned", N_("abandoned") },
    { "overflow", N_("overflowed") },
    { "callback", N_("callback") },
    { "voicemail", N_("voicemail") },
    { "busy", N_("busy") },
    { "no_answer", N_("no answer") },
    { "failed", N_("failed") },
    { "transferred", N_("transferred") },
  };

  for (gsize i = 0; outcome && i < G_N_ELEMENTS (outcomes); i++)
    if (g_str_equal (outcomes[i].id, outcome))
      return _(outcomes[i].label);
  return outcome;
}

static const char *
state_icon_name (KefuCall *call)
{
  switch (kefu_call_get_state (call))
    {
    case KEFU_CALL_STATE_RINGING_IN:
      return "call-incoming-symbolic";
    case KEFU_CALL_STATE_RINGING_OUT:
    case KEFU_CALL_STATE_EARLY:
      return "call-outgoing-symbolic";
    case KEFU_CALL_STATE_HELD:
    case KEFU_CALL_STATE_REMOTE_HELD:
      return "media-playback-pause-symbolic";
    case KEFU_CALL_STATE_CLOSED:
      return "call-missed-symbolic";
    case KEFU_CALL_STATE_ESTABLISHED:
    default:
      return "call-start-symbolic";
    }
}

static void
update_duration (KefuCallRow *self)
{
  g_autofree char *text = kefu_call_row_get_duration (self) >= 0
    ? kefu_caller_id_format_duration (kefu_call_row_get_duration (self)) : NULL;

  gtk_label_set_label (self->duration_label, text ? text : "");
}

static gboolean
on_tick (gpointer data)
{
  KefuCallRow *self = data;

  update_duration (self);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_DURATION]);
  return G_SOURCE_CONTINUE;
}

static void
update_state (KefuCallRow *self)
{
  KefuCallState state = kefu_call_get_state (self->call);
  GtkWidget *widget = GTK_WIDGET (self);
  g_autofree char *accessible = NULL;

  if (!self->answered_us && (state == KEFU_CALL_STATE_ESTABLISHED
                             || state == KEFU_CALL_STATE_HELD
                             || state == KEFU_CALL_STATE_REMOTE_HELD))
    self->answered_us = g_get_monotonic_time ();

  gtk_image_set_from_icon_name (self->state_icon, state_icon_name (self->call));
  gtk_label_set_label (self->state_label, kefu_call_state_describe (state));

  gtk_widget_remove_css_class (widget, "ringing");
  gtk_widget_remove_css_class (widget, "held");
  if (state == KEFU_CALL_STATE_RINGING_IN)
    gtk_widget_add_css_class (widget, "ringing");
  else if (state == KEFU_CALL_STATE_HELD || state == KEFU_CALL_STATE_REMOTE_HELD)
    gtk_widget_add_css_class (widget, "held");

  if (state == KEFU_CALL_STATE_CLOSED)
    g_clear_handle_id (&self->tick_source, g_source_remove);
  else if (!self->tick_source)
    self->tick_source = g_timeout_add_seconds (1, on_tick, self);
  update_duration (self);

  /* a screen reader reads one line per row: who and what state */
  accessible = g_strdup_printf ("%s, %s", gtk_label_get_label (self->peer_label),
                                kefu_call_state_describe (state));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  accessible, -1);
}

static void
on_call_state_changed (KefuCall    *call,
                       GParamSpec  *pspec,
                       KefuCallRow *self)
{
  update_state (self);
}

static void
set_call (KefuCallRow *self,
          KefuCall    *call)
{
  g_autofree char *number = NULL;
  const char *name;
  const char *queue;
  g_autofree char *detail = NULL;

  g_return_if_fail (KEFU_IS_CALL (call));

  self->call = g_object_ref (call);
  self->appeared_us = g_get_monotonic_time ();

  number = kefu_caller_id_from_uri (kefu_call_get_peer_uri (call));
  name = kefu_call_get_peer_name (call);
  queue = kefu_call_get_header (call, "X-Kefu-Queue");
  if (name && name[0] && g_strcmp0 (name, number) != 0)
    {
      gtk_label_set_label (self->peer_label, name);
      detail = queue ? g_strdup_printf (_("%s · queue %s"), number, queue) : g_strdup (number);
    }
  else
    {
      gtk_label_set_label (self->peer_label, number);
      detail = queue ? g_strdup_printf (_("Queue %s"), queue)
                     : g_strdup (kefu_call_get_direction (call) == KEFU_CALL_DIRECTION_INCOMING
                                 ? _("Incoming") : _("Outgoing"));
    }
  gtk_label_set_label (self->detail_label, detail);

  self->state_handler = g_signal_connect (call, "notify::state",
                                          G_CALLBACK (on_call_state_changed), self);
  update_state (self);
}

static void
kefu_call_row_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  KefuCallRow *self = KEFU_CALL_ROW (object);

  switch (prop_id)
    {
    case PROP_CALL:
      g_value_set_object (value, self->call);
      break;
    case PROP_DURATION:
      g_value_set_int64 (value, kefu_call_row_get_duration (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kefu_call_row_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  KefuCallRow *self = KEFU_CALL_ROW (object);

  switch (prop_id)
    {
    case PROP_CALL:
      set_call (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kefu_call_row_dispose (GObject *object)
{
  KefuCallRow *self = KEFU_CALL_ROW (object);

  g_clear_handle_id (&self->tick_source, g_source_remove);
  g_clear_signal_handler (&self->state_handler, self->call);
  g_clear_object (&self->call);
  gtk_widget_dispose_template (GTK_WIDGET (self), KEFU_TYPE_CALL_ROW);
  G_OBJECT_CLASS (kefu_call_row_parent_class)->dispose (object);
}

static void
kefu_call_row_class_init (KefuCallRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->get_property = kefu_call_row_get_property;
  object_class->set_property = kefu_call_row_set_property;
  object_class->dispose = kefu_call_row_dispose;

  props[PROP_CALL] =
    g_param_spec_object ("call", NULL, NULL, KEFU_TYPE_CALL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  props[PROP_DURATION] =
    g_param_spec_int64 ("duration", NULL, NULL, -1, G_MAXINT64, 0,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/kefu/Kefu/ui/kefu-call-row.ui");
  gtk_widget_class_bind_template_child (widget_class, KefuCallRow, state_icon);
  gtk_widget_class_bind_template_child (widget_class, KefuCallRow, peer_label);
  gtk_widget_class_bind_template_child (widget_class, KefuCallRow, detail_label);
  gtk_widget_class_bind_template_child (widget_class, KefuCallRow, state_label);
  gtk_widget_class_bind_template_child (widget_class, KefuCallRow, duration_label);
}

static void
kefu_call_row_init (KefuCallRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
kefu_call_row_new (KefuCall *call)
{
  return g_object_new (KEFU_TYPE_CALL_ROW, "call", call, NULL);
}

KefuCall *
kefu_call_row_get_call (KefuCallRow *self)
{
  g_return_val_if_fail (KEFU_IS_CALL_ROW (self), NULL);
  return self->call;
}

gint64
kefu_call_row_get_duration (KefuCallRow *self)
{
  gint64 since;

  g_return_val_if_fail (KEFU_IS_CALL_ROW (self), 0);
  if (!self->call)
    return 0;
  since = self->answered_us ? self->answered_us : self->appeared_us;
  return (g_get_monotonic_time () - since) / G_USEC_PER_SEC;
}
