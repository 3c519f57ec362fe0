/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuConflictDialog"

#include "config.h"

#include "kefu-conflict-dialog.h"

#include <glib/gi18n.h>

struct _KefuConflictDialog
{
  AdwMessageDialog parent_instance;

  /* owned */
  KefuSync *sync;
  gint64    seq;
  guint     n_differences;
};

G_DEFINE_FINAL_TYPE (KefuConflictDialog, kefu_conflict_dialog, ADW_TYPE_MESSAGE_DIALOG)

/* The server's bookkeeping is not something the agent chooses between. */
static gboolean
is_bookkeeping (const char *member)
{
  static const char * const skip[] = {
    "id", "version", "created_at", "updated_at", "created_by", "updated_by", NULL,
  };

  return g_strv_contains (skip, member);
}

static char *
value_text (JsonObject *object,
            const char *member)
{
  JsonNode *node = object && json_object_has_member (object, member)
                   ? json_object_get_member (object, member) : NULL;

  if (!node || JSON_NODE_HOLDS_NULL (node))
    return g_strdup ("—");
  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    return g_strdup (json_node_get_string (node));
  if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);
      GString *out = g_string_new (NULL);

      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          JsonNode *element = json_array_get_element (array, i);

          if (out->len)
            g_string_append (out, ", ");
          if (JSON_NODE_HOLDS_VALUE (element) && json_node_get_value_type (element) == G_TYPE_STRING)
            g_string_append (out, json_node_get_string (element));
          else
            {
              g_autofree char *text = json_to_string (element, FALSE);

              g_string_append (out, text);
            }
        }
      return g_string_free (out, FALSE);
    }
  return json_to_string (node, FALSE);
}

static GtkWidget *
cell (const char *text,
      const char *css_class)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_selectable (GTK_LABEL (label), css_class == NULL);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 30);
  if (css_class)
    gtk_widget_add_css_class (label, css_class);
  return label;
}

static GtkWidget *
build_comparison (KefuConflictDialog *self,
                  JsonObject         *ours,
                  JsonObject         *theirs)
{
  GtkWidget *grid = gtk_grid_new ();
  g_autoptr(GList) members = json_object_get_members (ours);
  int row = 1;

  gtk_grid_set_column_spacing (GTK_GRID (grid), 18);
  gtk_grid_set_row_spacing (GTK_GRID (grid), 6);
  gtk_grid_attach (GTK_GRID (grid), cell (_("Field"), "heading"), 0, 0, 1, 1);
  gtk_grid_attach (GTK_GRID (grid), cell (_("Your version"), "heading"), 1, 0, 1, 1);
  gtk_grid_attach (GTK_GRID (grid), cell (_("On the server"), "heading"), 2, 0, 1, 1);

  for (GList *l = members; l; l = l->next)
    {
      const char *member = l->data;
      g_autofree char *mine = NULL;
      g_autofree char *server = NULL;

      if (is_bookkeeping (member))
        continue;
      mine = value_text (ours, member);
      server = value_text (theirs, member);
      if (g_strcmp0 (mine, server) == 0)
        continue;
      gtk_grid_attach (GTK_GRID (grid), cell (member, "dim-label"), 0, row, 1, 1);
      gtk_grid_attach (GTK_GRID (grid), cell (mine, NULL), 1, row, 1, 1);
      gtk_grid_attach (GTK_GRID (grid), cell (server, NULL), 2, row, 1, 1);
      self->n_differences++;
      row++;
    }
  return grid;
}

static void
kefu_conflict_dialog_response (AdwMessageDialog *dialog,
                               const char       *response)
{
  KefuConflictDialog *self = KEFU_CONFLICT_DIALOG (dialog);
  g_autoptr(GError) error = NULL;
  KefuSyncResolution resolution;

  if (g_str_equal (response, "mine"))
    resolution = KEFU_SYNC_KEEP_MINE;
  else if (g_str_equal (response, "theirs"))
    resolution = KEFU_SYNC_TAKE_THEIRS;
  else
    return;
  if (self->sync && !kefu_sync_resolve_conflict (self->sync, self->seq, resolution, &error))
    g_warning ("conflict %" G_GINT64_FORMAT ": %s", self->seq, error->message);
}

static void
kefu_conflict_dialog_dispose (GObject *object)
{
  KefuConflictDialog *self = KEFU_CONFLICT_DIALOG (object);

  g_clear_object (&self->sync);
  G_OBJECT_CLASS (kefu_conflict_dialog_parent_class)->dispose (object);
}

static void
kefu_conflict_dialog_class_init (KefuConflictDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  AdwMessageDialogClass *dialog_class = ADW_MESSAGE_DIALOG_CLASS (klass);

  object_class->dispose = kefu_conflict_dialog_dispose;
  dialog_class->response = kefu_conflict_dialog_response;
}

static void
kefu_conflict_dialog_init (KefuConflictDialog *self)
{
}

GtkWindow *
kefu_conflict_dialog_new (GtkWindow  *parent,
                          KefuSync   *sync,
                          gint64      seq,
                          const char *entity,
                          JsonObject *ours,
                          JsonObject *theirs)
{
  KefuConflictDialog *self;
  const char *name = theirs && json_object_has_member (theirs, "name")
                     ? json_object_get_string_member (theirs, "name")
                     : theirs && json_object_has_member (theirs, "subject")
                     ? json_object_get_string_member (theirs, "subject") : NULL;
  g_autofree char *body = NULL;

  self = g_object_new (KEFU_TYPE_CONFLICT_DIALOG,
                       "transient-for", parent,
                       "modal", TRUE,
                       "heading", _("Changed on the Server Meanwhile"),
                       NULL);
  self->sync = sync ? g_object_ref (sync) : NULL;
  self->seq = seq;
  body = g_strdup_printf (g_strcmp0 (entity, "case") == 0
                          ? _("Someone else saved the case “%s” while your change waited. Which version should stay?")
                          : _("Someone else saved “%s” while your change waited. Which version should stay?"),
                          name ? name : "");
  adw_message_dialog_set_body (ADW_MESSAGE_DIALOG (self), body);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (self),
                                      build_comparison (self, ours, theirs));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (self),
                                    "later", _("_Decide Later"),
                                    "theirs", _("Take the _Server’s"),
                                    "mine", _("Keep _Mine"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (self), "mine",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (self), "mine");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (self), "later");
  return GTK_WINDOW (self);
}

guint
kefu_conflict_dialog_get_n_differences (KefuConflictDialog *self)
{
  g_return_val_if_fail (KEFU_IS_CONFLICT_DIALOG (self), 0);
  return self->n_differences;
}
