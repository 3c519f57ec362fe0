/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuDialPad"

#include "config.h"

#include "kefu-dial-pad.h"

#include <string.h>

enum {
  SIGNAL_DIGIT_PRESSED,
  N_SIGNALS,
};

static guint signals[N_SIGNALS];

struct _KefuDialPad
{
  GtkWidget parent_instance;

  /* template widgets */
  GtkWidget *grid;
};

G_DEFINE_FINAL_TYPE (KefuDialPad, kefu_dial_pad, GTK_TYPE_WIDGET)

static void
on_press_activated (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  const char *digit = g_variant_get_string (parameter, NULL);

  /* only the twelve keys and A-D: a stray target must not become a tone */
  if (strlen (digit) != 1 || !strchr ("0123456789*#ABCD", digit[0]))
    return;
  g_signal_emit (widget, signals[SIGNAL_DIGIT_PRESSED], 0, digit);
}

static void
kefu_dial_pad_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), KEFU_TYPE_DIAL_PAD);
  /* unbound template children are not unparented by dispose_template */
  for (GtkWidget *child; (child = gtk_widget_get_first_child (GTK_WIDGET (object)));)
    gtk_widget_unparent (child);
  G_OBJECT_CLASS (kefu_dial_pad_parent_class)->dispose (object);
}

static void
kefu_dial_pad_class_init (KefuDialPadClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kefu_dial_pad_dispose;

  /**
   * KefuDialPad::digit-pressed:
   * @digit: "0"-"9", "*" or "#"
   */
  signals[SIGNAL_DIGIT_PRESSED] =
    g_signal_new ("digit-pressed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/kefu/Kefu/ui/kefu-dial-pad.ui");
  gtk_widget_class_bind_template_child (widget_class, KefuDialPad, grid);
  gtk_widget_class_install_action (widget_class, "dial-pad.press", "s", on_press_activated);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "dialpad");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
kefu_dial_pad_init (KefuDialPad *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
kefu_dial_pad_new (void)
{
  return g_object_new (KEFU_TYPE_DIAL_PAD, NULL);
}
