/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The kefu-switch test world (see kefu-test-switch.h).
 */
#include "config.h"

#include "kefu-test-switch.h"

#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <string.h>

#include "kefu-test-peer.h"
#include "kefu-test-wait.h"
#include "kefu-wav.h"

static void
write_file (const char *path, const char *text)
{
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
}

void
kefu_test_switch_write_prompt (KefuTestSwitch *f, const char *name, double freq, double seconds)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (f->prompts, name, NULL);
  gsize n = (gsize) (8000 * seconds);
  g_autofree gint16 *pcm = g_new (gint16, n);

  for (gsize i = 0; i < n; i++)
    pcm[i] = (gint16) (2000.0 * sin (2 * G_PI * freq * (double) i / 8000));
  g_assert_true (kefu_wav_save (path, pcm, n, 8000, &error));
  g_assert_no_error (error);
}

void
kefu_test_switch_setup (KefuTestSwitch *f, const char *server_extra)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *extra = g_strconcat ("[agents]\nsip_realm = " KEFU_TEST_REALM "\n",
                                        server_extra ? server_extra : "", NULL);

  f->server = kefu_test_server_start (extra);
  f->admin = kefu_test_login (f->server, "admin");
  f->dir = g_dir_make_tmp ("kefu-switch-XXXXXX", &error);
  g_assert_no_error (error);
  f->prompts = g_build_filename (f->dir, "prompts", NULL);
  f->recordings = g_build_filename (f->dir, "recordings", NULL);
  g_assert_cmpint (g_mkdir (f->prompts, 0700), ==, 0);
  kefu_test_switch_write_prompt (f, "welcome.wav", 440.0, 0.6);
  kefu_test_switch_write_prompt (f, "music.wav", 300.0, 1.0);
  f->creds = g_build_filename (f->dir, "switch.credentials", NULL);
  write_file (f->creds, "service:" KEFU_TEST_PASSWORD "\n");
  f->sip_port = kefu_test_free_udp_port ();
  f->config_path = g_build_filename (f->dir, "kefu-switch.conf", NULL);
  f->sw_lines = g_ptr_array_new_with_free_func (g_free);
}

void
kefu_test_switch_write_config (KefuTestSwitch *f, const char *sections)
{
  g_autofree char *config = g_strdup_printf (
    "[switch]\n"
    "listen = 127.0.0.1:%u\n"
    "realm = " KEFU_TEST_REALM "\n"
    "server = %s\n"
    "credentials = %s\n"
    "spool = %s/spool\n"
    "recordings = %s\n"
    "prompts = %s\n"
    "language = en\n"
    "\n"
    "%s",
    f->sip_port, f->server->url, f->creds, f->dir, f->recordings, f->prompts, sections);

  write_file (f->config_path, config);
}

/* What a passing test leaves behind goes (a failing one aborts before:
 * its folder stays to be looked at). */
static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir && (name = g_dir_read_name (dir)))
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

void
kefu_test_switch_teardown (KefuTestSwitch *f)
{
  if (f->sw)
    kefu_test_switch_stop (f);
  kefu_test_server_stop (f->server);
  kefu_test_server_free (f->server);
  g_free (f->admin);
  g_free (f->config_path);
  g_free (f->recordings);
  g_free (f->prompts);
  g_free (f->creds);
  remove_tree (f->dir);
  g_free (f->dir);
  g_clear_pointer (&f->sw_lines, g_ptr_array_unref);
}

static void
on_switch_line (GObject *source, GAsyncResult *res, gpointer data)
{
  KefuTestSwitch *f = data;
  g_autofree char *line = g_data_input_stream_read_line_finish_utf8 (
    G_DATA_INPUT_STREAM (source), res, NULL, NULL);

  if (!line)
    return;
  g_test_message ("switch: %s", line);
  if (g_str_has_prefix (line, "kefu-switch: ready"))
    f->sw_ready = TRUE;
  if (f->sw_lines)
    g_ptr_array_add (f->sw_lines, g_steal_pointer (&line));
  /* the stream goes with the switch: read on only while it is ours */
  if (f->sw_out == G_DATA_INPUT_STREAM (source))
    g_data_input_stream_read_line_async (f->sw_out, G_PRIORITY_DEFAULT, NULL, on_switch_line, f);
}

gboolean
kefu_test_switch_logged (KefuTestSwitch *f, const char *text)
{
  for (guint i = 0; i < f->sw_lines->len; i++)
    if (strstr (f->sw_lines->pdata[i], text))
      return TRUE;
  return FALSE;
}

typedef struct {
  KefuTestSwitch *f;
  const char *text;
} LogWait;

static gboolean
text_logged (gpointer data)
{
  LogWait *w = data;

  return kefu_test_switch_logged (w->f, w->text);
}

void
kefu_test_switch_wait_logged (KefuTestSwitch *f, const char *text)
{
  LogWait w = { f, text };
  g_autofree char *what = g_strdup_printf ("kefu-switch to log “%s”", text);

  kefu_test_run_until (text_logged, &w, what);
}

void
kefu_test_switch_start (KefuTestSwitch *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE);
  const char *exe = g_getenv ("KEFU_SWITCH");

  g_assert_nonnull (exe);
  g_subprocess_launcher_set_child_setup (launcher, kefu_test_child_setup, NULL, NULL);
  g_subprocess_launcher_setenv (launcher, "G_MESSAGES_DEBUG", "all", TRUE);
  f->sw_ready = FALSE;
  f->sw = g_subprocess_launcher_spawn (launcher, &error, exe, "--config", f->config_path, NULL);
  g_assert_no_error (error);
  f->sw_out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (f->sw));
  g_data_input_stream_read_line_async (f->sw_out, G_PRIORITY_DEFAULT, NULL, on_switch_line, f);
  kefu_test_run_until (kefu_test_flag_set, &f->sw_ready, "kefu-switch ready");
  /* phones registering before the switch has kefu-server's SIP users are
   * told to come back later: wait for them, as the tests' phones do not */
  kefu_test_switch_wait_logged (f, "SIP credentials: ");
}

void
kefu_test_switch_stop (KefuTestSwitch *f)
{
  g_subprocess_send_signal (f->sw, SIGTERM);
  kefu_test_wait_exit (f->sw, "kefu-switch");
  g_assert_true (g_subprocess_get_if_exited (f->sw));
  g_assert_cmpint (g_subprocess_get_exit_status (f->sw), ==, 0);
  g_clear_object (&f->sw_out);
  g_clear_object (&f->sw);
}


static gboolean
is_test_user (const char *username)
{
  const char *users[] = { "agent", "agent2", "supervisor", "teamlead", "admin", "service" };

  for (guint i = 0; i < G_N_ELEMENTS (users); i++)
    if (g_str_equal (users[i], username))
      return TRUE;
  return FALSE;
}

void
kefu_test_switch_agent (KefuTestSwitch *f, const char *username, const char *extension,
                        const char *skills)
{
  g_autoptr(KefuTestResponse) r = NULL;

  if (is_test_user (username))
    {
      g_autofree char *path = g_strdup_printf ("/v1/agents/%s", username);
      g_autofree char *body = g_strdup_printf ("{\"extension\":\"%s\",\"skills\":%s,"
                                               "\"sip_password\":\"" KEFU_TEST_SIP_PASSWORD "\"}",
                                               extension, skills);

      r = kefu_test_request (f->server, "PATCH", path, f->admin, body);
      g_assert_cmpuint (r->status, ==, 200);
    }
  else
    {
      g_autofree char *body = g_strdup_printf ("{\"username\":\"%s\",\"role\":\"agent\","
                                               "\"password\":\"" KEFU_TEST_PASSWORD "\","
                                               "\"extension\":\"%s\",\"skills\":%s,"
                                               "\"sip_password\":\"" KEFU_TEST_SIP_PASSWORD "\"}",
                                               username, extension, skills);

      r = kefu_test_request (f->server, "POST", "/v1/agents", f->admin, body);
      if (r->status >= 300)
        g_test_message ("POST /v1/agents: %s", r->body);
      g_assert_cmpuint (r->status, <, 300);
    }
  kefu_test_switch_agent_state (f, username, "available", NULL);
}

void
kefu_test_switch_agent_state (KefuTestSwitch *f, const char *username, const char *state,
                              const char *reason)
{
  g_autofree char *path = g_strdup_printf ("/v1/agents/%s/state", username);
  g_autofree char *body = reason
    ? g_strdup_printf ("{\"state\":\"%s\",\"reason\":\"%s\"}", state, reason)
    : g_strdup_printf ("{\"state\":\"%s\"}", state);
  g_autoptr(KefuTestResponse) r = kefu_test_request (f->server, "PUT", path, f->admin, body);

  if (r->status >= 300)
    g_test_message ("PUT %s: %u %s", path, r->status, r->body);
  g_assert_cmpuint (r->status, <, 300);
}

JsonObject *
kefu_test_switch_get_agent (KefuTestSwitch *f, const char *username)
{
  g_autofree char *path = g_strdup_printf ("/v1/agents/%s", username);
  g_autoptr(KefuTestResponse) r = kefu_test_request (f->server, "GET", path, f->admin, NULL);

  g_assert_cmpuint (r->status, ==, 200);
  return json_object_ref (kefu_test_response_object (r));
}

char *
kefu_test_switch_account (KefuTestSwitch *f, const char *extension)
{
  return g_strdup_printf ("--account=sip:%s@127.0.0.1:%u;password=" KEFU_TEST_SIP_PASSWORD,
                          extension, f->sip_port);
}

void
kefu_test_sleep_ms (guint ms)
{
  gint64 until = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < until)
    {
      if (!g_main_context_iteration (NULL, FALSE))
        g_usleep (10000);
    }
}

JsonObject *
kefu_test_switch_wait_call_record (KefuTestSwitch *f, const char *call_id)
{
  g_autofree char *path = g_strdup_printf ("/v1/calls/%s", call_id);

  for (int i = 0; i < 200; i++)
    {
      g_autoptr(KefuTestResponse) r = kefu_test_request (f->server, "GET", path, f->admin, NULL);

      if (r->status == 200)
        return json_object_ref (kefu_test_response_object (r));
      kefu_test_sleep_ms (100);
    }
  g_error ("no call record %s at kefu-server", call_id);
}

JsonArray *
kefu_test_switch_events (KefuTestSwitch *f)
{
  JsonArray *all = json_array_new ();
  gint64 since = 0;

  for (;;)
    {
      g_autofree char *path = g_strdup_printf ("/v1/events?since=%" G_GINT64_FORMAT
                                               "&limit=1000", since);
      g_autoptr(KefuTestResponse) r = kefu_test_request (f->server, "GET", path, f->admin, NULL);
      JsonArray *items;
      guint n;

      g_assert_cmpuint (r->status, ==, 200);
      g_assert_nonnull (r->json);
      items = JSON_NODE_HOLDS_ARRAY (r->json) ? json_node_get_array (r->json)
        : json_object_get_array_member (json_node_get_object (r->json), "events");
      n = json_array_get_length (items);
      for (guint i = 0; i < n; i++)
        {
          JsonObject *ev = json_array_get_object_element (items, i);

          json_array_add_object_element (all, json_object_ref (ev));
          since = MAX (since, json_object_get_int_member (ev, "id"));
        }
      if (n < 1000)
        break;
    }
  return all;
}

char *
kefu_test_switch_call_event_types (KefuTestSwitch *f, const char *call_id)
{
  g_autoptr(JsonArray) items = kefu_test_switch_events (f);
  g_autoptr(GString) out = g_string_new (NULL);

  for (guint i = 0; i < json_array_get_length (items); i++)
    {
      JsonObject *ev = json_array_get_object_element (items, i);

      if (g_strcmp0 (json_object_get_string_member_with_default (ev, "call_id", ""), call_id))
        continue;
      if (out->len)
        g_string_append_c (out, ',');
      g_string_append (out, json_object_get_string_member (ev, "type"));
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

JsonObject *
kefu_test_switch_wait_event (KefuTestSwitch *f, const char *call_id, const char *type)
{
  for (int i = 0; i < 100; i++)
    {
      g_autoptr(JsonArray) items = kefu_test_switch_events (f);

      for (guint k = 0; k < json_array_get_length (items); k++)
        {
          JsonObject *ev = json_array_get_object_element (items, k);

          if (!g_strcmp0 (json_object_get_string_member_with_default (ev, "call_id", ""),
                          call_id) &&
              !g_strcmp0 (json_object_get_string_member (ev, "type"), type))
            return json_object_ref (ev);
        }
      kefu_test_sleep_ms (200);
    }
  g_error ("no %s event for call %s at kefu-server", type, call_id);
}

guint
kefu_test_switch_count (const char *list, const char *item)
{
  g_auto(GStrv) v = g_strsplit (list, ",", -1);
  guint n = 0;

  for (guint i = 0; v[i]; i++)
    if (g_str_equal (v[i], item))
      n++;
  return n;
}

/* The stretches of @freq: their starts, or (@ends) their ends. */
static GArray *
tone_stretches (const char *path, guint channel, double freq, double min_s, gboolean ends)
{
  g_autoptr(GError) error = NULL;
  g_autofree gint16 *samples = NULL;
  GArray *out = g_array_new (FALSE, FALSE, sizeof (double));
  gsize frames = 0;
  guint rate = 0, channels = 0;
  const gsize win = 160;           /* 20 ms */
  double coeff = 2 * cos (2 * G_PI * freq / 8000);
  guint run = 0;
  gsize run_start = 0;

  g_assert_true (kefu_wav_load_interleaved (path, &samples, &frames, &channels, &rate, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (rate, ==, 8000);
  for (gsize w = 0; w + win <= frames; w += win)
    {
      double s1 = 0, s2 = 0, energy = 0, share;

      for (gsize i = w; i < w + win; i++)
        {
          double x = samples[i * channels + channel];
          double s0 = x + coeff * s1 - s2;

          s2 = s1;
          s1 = s0;
          energy += x * x;
        }
      share = energy > 1e5
        ? (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (energy * (double) win / 2) : 0;
      if (share > 0.5)
        {
          if (run++ == 0)
            run_start = w;
        }
      else
        {
          if (run * win >= min_s * 8000)
            {
              double t = (double) (ends ? w : run_start) / 8000;

              g_array_append_val (out, t);
            }
          run = 0;
        }
    }
  if (run * win >= min_s * 8000)
    {
      double t = (double) (ends ? run_start + run * win : run_start) / 8000;

      g_array_append_val (out, t);
    }
  return out;
}

GArray *
kefu_test_tone_onsets (const char *path, guint channel, double freq, double min_s)
{
  return tone_stretches (path, channel, freq, min_s, FALSE);
}

GArray *
kefu_test_tone_ends (const char *path, guint channel, double freq, double min_s)
{
  return tone_stretches (path, channel, freq, min_s, TRUE);
}

const char *
kefu_test_header (JsonObject *incoming, const char *name)
{
  JsonObject *headers = json_object_get_object_member (incoming, "headers");
  g_autoptr(GList) members = NULL;

  if (!headers)
    return NULL;
  members = json_object_get_members (headers);
  for (GList *l = members; l; l = l->next)
    if (!g_ascii_strcasecmp (l->data, name))
      return json_object_get_string_member (headers, l->data);
  return NULL;
}

char *
kefu_test_switch_bridge_one (KefuTestSwitch *f,
                             KefuTestPeer   *agent,
                             double          agent_tone,
                             KefuTestPeer   *caller,
                             double          caller_tone)
{
  g_autofree char *account = kefu_test_switch_account (f, "1001");
  g_autofree char *listen = g_strdup_printf ("--listen=127.0.0.2:%u",
                                             kefu_test_free_udp_port ());
  const char *agent_args[] = { account, "--dtmf=rfc4733", "--auto-answer", NULL };
  const char *caller_args[] = { listen, "--dtmf=rfc4733", NULL };
  char *call_id;
  JsonObject *ev;

  kefu_test_peer_start (agent, f->dir, "agent", agent_tone, agent_args);
  kefu_test_peer_wait (agent, "registered");
  kefu_test_peer_start (caller, f->dir, "caller", caller_tone, caller_args);
  kefu_test_peer_send (caller, "dial sip:4000@127.0.0.1:%u", f->sip_port);
  kefu_test_peer_wait (caller, "established");
  ev = kefu_test_peer_wait (agent, "incoming");
  call_id = g_strdup (kefu_test_header (ev, "X-Kefu-Call"));
  g_assert_nonnull (call_id);
  kefu_test_peer_wait (agent, "established");
  return call_id;
}
