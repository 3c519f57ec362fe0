/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * kefu-phone: the softphone on the command line, for scripts, tests and
 * agents without a desktop.  Commands come from the arguments (one command
 * each) or, when there are none, from stdin (one per line); everything that
 * happens is printed on stdout as one JSON object per line.
 *
 * `wait EVENT [SECONDS]` holds back the commands after it until an event of
 * that name is printed (or, after SECONDS, prints an error event); an event
 * that came earlier and no wait took yet counts, so a script cannot miss one
 * that raced ahead of its wait.  The end of stdin, `quit`, SIGINT and SIGTERM
 * hang up every call, un-REGISTER and exit 0; bad options exit 2.
 *
 * The GLib main loop runs here; libre runs on the phone thread
 * (kefu-phone-loop.h) and this file only uses the GLib-side API: commands
 * name calls by id, events arrive as plain data on the main context.
 */
#define G_LOG_DOMAIN "KefuPhone"

#include "config.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "kefu-audio-file.h"
#include "kefu-call-session.h"
#include "kefu-listen-address.h"
#include "kefu-phone-loop.h"
#include "kefu-registration.h"

#define EXIT_USAGE 2
#define WAIT_DEFAULT_S 30
#define STOP_TIMEOUT_MS 3000
#define SIP_TRANSP_UDP 0        /* libre's enum sip_transp */

/* The event names `wait` knows; printed by on_call_event and on_reg_event. */
static const char *const event_names[] = {
  "registered", "registration_failed", "unregistered", "incoming", "ringing",
  "progress", "established", "held", "resumed", "hold_failed", "resume_failed", "remote_hold",
  "remote_resumed", "dtmf", "closed", "transfer_progress", "transfer_failed", "refer",
  "conference", NULL,
};

typedef struct {
  /* a consult transfer under way (atransfer), 0 when none */
  guint consult_held;
  guint consult_call;

  /* options */
  char *account_id;             /* the AOR, NULL without --account */
  struct kefu_account_config account;
  char *aor;
  char *password;
  char *auth_user;
  char *registrar;
  char *backup;
  char *transport;              /* the account's: udp, tcp, tls, or NULL */
  char *account_dtmf;           /* the account's dtmf=, or NULL */
  gboolean account_srtp;        /* the account's srtp=yes */
  gboolean listen_srtp;         /* --srtp */
  char *tls_cert;               /* --tls-cert: our certificate and key */
  char *tls_ca;                 /* --tls-ca: CAs to trust */
  guint16 tcp_port, tls_port;
  char *dtmf_mode;              /* rfc4733, info, inband, auto */
  char *listen_host;            /* NULL without --listen */
  guint16 listen_port;
  char *audio;                  /* file:IN.wav,OUT.wav, or NULL: null */
  char *codecs;                 /* --codecs, or NULL: the engine's */
  char *user;                   /* --user: who we are without an account */
  int telev_pt;                 /* --telephone-event: 0 default, -1 off */
  gboolean auto_answer;

  /* owned */
  GMainLoop *main_loop;
  GQueue commands;              /* char *, not yet run */
  GString *stdin_partial;       /* an incomplete line read from stdin */
  GArray *live_calls;           /* guint call ids, oldest first */
  GHashTable *unwaited;         /* event name -> count not yet taken by a wait */
  char *waiting_for;            /* the event a `wait` blocks on, or NULL */

  /* the phone thread's: only passed back to the kefu_call_* commands */
  struct kefu_phone_loop *loop;
  struct kefu_ua *ua;
  struct kefu_calls *calls;
  guint16 sip_port;             /* the UDP port we took */

  guint stdin_source;
  guint wait_source;
  guint resume_source;
  gboolean from_stdin;
  gboolean stdin_eof;
  gboolean stdin_had_input;     /* an empty stdin is not a script: see run_commands */
  gboolean quitting;
} KefuPhoneCli;

/* --- JSON output -------------------------------------------------------- */

static void
json_append_string (GString *out, const char *s)
{
  g_autofree char *valid = g_utf8_make_valid (s ? s : "", -1);

  g_string_append_c (out, '"');
  for (const char *p = valid; *p; p++)
    {
      unsigned char c = (unsigned char) *p;

      switch (c)
        {
        case '"': g_string_append (out, "\\\""); break;
        case '\\': g_string_append (out, "\\\\"); break;
        case '\b': g_string_append (out, "\\b"); break;
        case '\f': g_string_append (out, "\\f"); break;
        case '\n': g_string_append (out, "\\n"); break;
        case '\r': g_string_append (out, "\\r"); break;
        case '\t': g_string_append (out, "\\t"); break;
        default:
          if (c < 0x20 || c == 0x7f)
            g_string_append_printf (out, "\\u%04x", c);
          else
            g_string_append_c (out, (char) c);
        }
    }
  g_string_append_c (out, '"');
}

static GString *
json_event_begin (const char *event)
{
  GString *out = g_string_new ("{\"event\":");

  json_append_string (out, event);
  return out;
}

static void
json_add_string (GString *out, const char *key, const char *value)
{
  g_string_append_c (out, ',');
  json_append_string (out, key);
  g_string_append_c (out, ':');
  if (value)
    json_append_string (out, value);
  else
    g_string_append (out, "null");
}

static void
json_add_int (GString *out, const char *key, gint64 value)
{
  g_string_append_c (out, ',');
  json_append_string (out, key);
  g_string_append_printf (out, ":%" G_GINT64_FORMAT, value);
}

static void
json_add_bool (GString *out, const char *key, gboolean value)
{
  g_string_append_c (out, ',');
  json_append_string (out, key);
  g_string_append (out, value ? ":true" : ":false");
}

/* Prints and frees @out: one line, flushed, so a reader sees it at once. */
static void
json_event_end (GString *out)
{
  g_string_append (out, "}\n");
  fwrite (out->str, 1, out->len, stdout);
  fflush (stdout);
  g_string_free (out, TRUE);
}

static void
print_error (const char *command, const char *format, ...) G_GNUC_PRINTF (2, 3);

static void
print_error (const char *command, const char *format, ...)
{
  g_autofree char *message = NULL;
  GString *out = json_event_begin ("error");
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  if (command)
    json_add_string (out, "command", command);
  json_add_string (out, "message", message);
  json_event_end (out);
}

/* --- the calls we know of ----------------------------------------------- */

static gboolean
call_is_live (KefuPhoneCli *cli, guint call_id)
{
  for (guint i = 0; i < cli->live_calls->len; i++)
    if (g_array_index (cli->live_calls, guint, i) == call_id)
      return TRUE;
  return FALSE;
}

static void
call_forget (KefuPhoneCli *cli, guint call_id)
{
  for (guint i = 0; i < cli->live_calls->len; i++)
    if (g_array_index (cli->live_calls, guint, i) == call_id)
      {
        g_array_remove_index (cli->live_calls, i);
        return;
      }
}

/* --- command processing ------------------------------------------------- */

static void run_commands (KefuPhoneCli *cli);

static void
quit (KefuPhoneCli *cli)
{
  if (cli->quitting)
    return;
  cli->quitting = TRUE;
  g_main_loop_quit (cli->main_loop);
}

static gboolean
on_resume_commands (gpointer data)
{
  KefuPhoneCli *cli = data;

  cli->resume_source = 0;
  run_commands (cli);
  return G_SOURCE_REMOVE;
}

/* Runs the queued commands later, from the main loop, not from inside an
 * event handler. */
static void
schedule_commands (KefuPhoneCli *cli)
{
  if (!cli->resume_source && !cli->quitting)
    cli->resume_source = g_idle_add (on_resume_commands, cli);
}

/* Every printed event passes here: a `wait` for it ends. */
static void
note_event (KefuPhoneCli *cli, const char *event)
{
  guint count = GPOINTER_TO_UINT (g_hash_table_lookup (cli->unwaited, event));

  g_hash_table_insert (cli->unwaited, g_strdup (event), GUINT_TO_POINTER (count + 1));
  if (cli->waiting_for && g_str_equal (cli->waiting_for, event))
    schedule_commands (cli);
}

/* An unwaited event of this name, taken; FALSE if none came yet. */
static gboolean
take_event (KefuPhoneCli *cli, const char *event)
{
  guint count = GPOINTER_TO_UINT (g_hash_table_lookup (cli->unwaited, event));

  if (!count)
    return FALSE;
  g_hash_table_insert (cli->unwaited, g_strdup (event), GUINT_TO_POINTER (count - 1));
  return TRUE;
}

static gboolean
on_wait_timeout (gpointer data)
{
  KefuPhoneCli *cli = data;
  cli->wait_source = 0;
  print_error ("wait", "timed out waiting for “%s”", cli->waiting_for);
  g_clear_pointer (&cli->waiting_for, g_free);
  schedule_commands (cli);
  return G_SOURCE_REMOVE;
}

static gboolean
parse_uint (const char *s, guint64 max, guint64 *out)
{
  return s && g_ascii_string_to_unsigned (s, 10, 1, max, out, NULL);
}

/* The call a command acts on: @arg if given, else the latest one. */
static gboolean
pick_call (KefuPhoneCli *cli, const char *command, const char *arg, guint *call_id)
{
  guint64 id;

  if (arg)
    {
      if (!parse_uint (arg, G_MAXUINT, &id))
        {
          print_error (command, "“%s” is not a call id", arg);
          return FALSE;
        }
      if (!call_is_live (cli, (guint) id))
        {
          print_error (command, "there is no call %s", arg);
          return FALSE;
        }
      *call_id = (guint) id;
      return TRUE;
    }
  if (!cli->live_calls->len)
    {
      print_error (command, "there is no call to %s", command);
      return FALSE;
    }
  *call_id = g_array_index (cli->live_calls, guint, cli->live_calls->len - 1);
  return TRUE;
}

static void
check_queued (const char *command, int err)
{
  if (err)
    print_error (command, "could not queue “%s”: %s", command, g_strerror (err));
}

static void
print_help (void)
{
  GString *out = json_event_begin ("help");

  json_add_string (out, "commands",
                   "dial URI [Name=value ...] | answer [CALL] | hangup [CALL] | reject [busy|decline] [CALL] | "
                   "hold [CALL] | resume [CALL] | dtmf DIGITS [CALL] | stats [CALL] | "
                   "transfer URI [CALL] | atransfer URI | atransfer complete | "
                   "atransfer cancel | accept-transfer [CALL] | decline-transfer [CALL] | "
                   "conference [CALL CALL] | "
                   "mute [CALL] | unmute [CALL] | record FILE.wav [CALL] | record stop [CALL] | "
                   "wait EVENT [SECONDS] | help | quit");
  json_event_end (out);
}

static void
add_stats (GString *out, const struct kefu_rtp_stream_stats *st)
{
  g_string_append (out, ",\"stats\":{\"codec\":");
  json_append_string (out, st->codec);
  g_string_append_printf (out, ",\"packets_sent\":%" G_GUINT64_FORMAT
                          ",\"packets_received\":%" G_GUINT64_FORMAT
                          ",\"packets_lost\":%" G_GUINT64_FORMAT
                          ",\"dtmf_received\":%" G_GUINT64_FORMAT
                          ",\"remote_lost\":%d"
                          ",\"srtp\":%s,\"srtp_dropped\":%" G_GUINT64_FORMAT,
                          (guint64) st->packets_sent, (guint64) st->packets_received,
                          (guint64) st->packets_lost, (guint64) st->dtmf_received,
                          st->remote_lost, st->srtp ? "true" : "false",
                          (guint64) st->srtp_dropped);
  /* %g of a double is valid JSON only when finite; C locale for the dot */
  {
    const struct { const char *key; double value; } reals[] = {
      { "loss_percent", st->loss_percent }, { "jitter_ms", st->jitter_ms },
      { "rtt_ms", st->rtt_ms }, { "remote_jitter_ms", st->remote_jitter_ms },
      { "mos", st->mos },
    };

    for (gsize i = 0; i < G_N_ELEMENTS (reals); i++)
      {
        char buf[G_ASCII_DTOSTR_BUF_SIZE];

        g_string_append_printf (out, ",\"%s\":%s", reals[i].key,
                                isfinite (reals[i].value)
                                ? g_ascii_formatd (buf, sizeof buf, "%.3f", reals[i].value)
                                : "null");
      }
  }
  g_string_append_c (out, '}');
}

/* atransfer URI: consult (hold the current call, call URI);
 * atransfer [complete]: hand the held call over to the consulted one;
 * atransfer cancel: hang up on the consulted one and resume.
 * The consultation lasts until one of its calls ends: after a
 * transfer_failed, complete or cancel may follow. */
static void
run_attended_transfer (KefuPhoneCli *cli, const char *arg)
{
  const char *cmd = "atransfer";
  guint held;

  if (arg && (g_str_has_prefix (arg, "sip:") || g_str_has_prefix (arg, "sips:")))
    {
      GString *out;

      if (cli->consult_call && call_is_live (cli, cli->consult_call)
          && call_is_live (cli, cli->consult_held))
        {
          print_error (cmd, "a consultation is under way already (atransfer complete or cancel)");
          return;
        }
      if (!pick_call (cli, cmd, NULL, &held))
        return;
      check_queued (cmd, kefu_call_hold (cli->loop, cli->calls, held, TRUE));
      cli->consult_call = kefu_call_dial (cli->loop, cli->calls, cli->account_id, arg, NULL);
      if (!cli->consult_call)
        {
          print_error (cmd, "could not dial %s", arg);
          return;
        }
      cli->consult_held = held;
      g_array_append_val (cli->live_calls, cli->consult_call);
      out = json_event_begin ("dialing");
      json_add_int (out, "call", cli->consult_call);
      json_add_string (out, "to", arg);
      json_add_int (out, "consulting_for", held);
      json_event_end (out);
      return;
    }

  if (!cli->consult_call || !call_is_live (cli, cli->consult_call)
      || !call_is_live (cli, cli->consult_held))
    {
      print_error (cmd, "no consultation under way: start one with atransfer URI");
      cli->consult_call = cli->consult_held = 0;
      return;
    }

  if (!arg || g_str_equal (arg, "complete"))
    {
      check_queued (cmd, kefu_call_transfer_attended (cli->loop, cli->calls, cli->consult_held,
                                                      cli->consult_call));
      return;
    }
  if (!g_str_equal (arg, "cancel"))
    {
      print_error (cmd, "atransfer URI | atransfer complete | atransfer cancel");
      return;
    }
  check_queued (cmd, kefu_call_hangup (cli->loop, cli->calls, cli->consult_call));
  check_queued (cmd, kefu_call_hold (cli->loop, cli->calls, cli->consult_held, FALSE));
  cli->consult_call = cli->consult_held = 0;
}

static gboolean
valid_codecs (const char *list)
{
  g_auto(GStrv) names = g_strsplit (list, ",", -1);
  static const char *const known[] = { "opus", "pcmu", "pcma", NULL };

  if (!names[0])
    return FALSE;
  for (char **n = names; *n; n++)
    {
      g_autofree char *lower = g_ascii_strdown (g_strstrip (*n), -1);

      if (!g_strv_contains (known, lower))
        return FALSE;
    }
  return TRUE;
}

static gboolean
is_event_name (const char *name)
{
  return g_strv_contains (event_names, name);
}

/* Runs one command line.  FALSE: stop running commands for now (a wait). */
static gboolean
run_command (KefuPhoneCli *cli, const char *line)
{
  g_auto(GStrv) words = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  const char *cmd;
  const char *arg1;
  const char *arg2;
  guint call_id;

  words = g_strsplit_set (line, " \t\r\n", -1);
  for (char **w = words; *w; w++)
    if (**w)
      g_ptr_array_add (argv, *w);
  if (!argv->len || ((const char *) argv->pdata[0])[0] == '#')
    return TRUE;

  cmd = argv->pdata[0];
  arg1 = argv->len > 1 ? argv->pdata[1] : NULL;
  arg2 = argv->len > 2 ? argv->pdata[2] : NULL;

  if (g_str_equal (cmd, "quit") || g_str_equal (cmd, "exit"))
    {
      quit (cli);
      return FALSE;
    }
  else if (g_str_equal (cmd, "help"))
    print_help ();
  else if (g_str_equal (cmd, "wait"))
    {
      guint64 seconds = WAIT_DEFAULT_S;

      if (!arg1 || !is_event_name (arg1))
        {
          g_autofree char *known = g_strjoinv (", ", (char **) event_names);

          print_error (cmd, "wait for which event? one of: %s", known);
          return TRUE;
        }
      if (arg2 && !parse_uint (arg2, 24 * 3600, &seconds))
        {
          print_error (cmd, "“%s” is not a number of seconds", arg2);
          return TRUE;
        }
      if (take_event (cli, arg1))
        return TRUE;
      cli->waiting_for = g_strdup (arg1);
      cli->wait_source = g_timeout_add_seconds ((guint) seconds, on_wait_timeout, cli);
      return FALSE;
    }
  else if (g_str_equal (cmd, "dial"))
    {
      GString *out;

      if (!arg1 || !(g_str_has_prefix (arg1, "sip:") || g_str_has_prefix (arg1, "sips:")))
        {
          print_error (cmd, "dial needs a SIP URI, e.g. dial sip:bob@127.0.0.1:5090");
          return TRUE;
        }
      /* dial URI [Header=value ...]: screen-pop headers for the far end */
      {
        g_autoptr(GPtrArray) headers = g_ptr_array_new_with_free_func (g_free);

        for (guint i = 2; i < argv->len; i++)
          {
            const char *word = argv->pdata[i];
            const char *eq = strchr (word, '=');
            const char *bad = strpbrk (word, ":\r\n");

            if (!eq || eq == word || (bad && bad < eq))
              {
                print_error (cmd, "“%s” is not a header: dial URI [Name=value ...], "
                             "e.g. X-Kefu-Customer=1002", word);
                return TRUE;
              }
            g_ptr_array_add (headers, g_strndup (word, (gsize) (eq - word)));
            g_ptr_array_add (headers, g_strdup (eq + 1));
          }
        g_ptr_array_add (headers, NULL);
        call_id = kefu_call_dial (cli->loop, cli->calls, cli->account_id, arg1,
                                  (const char *const *) headers->pdata);
      }
      if (!call_id)
        {
          print_error (cmd, "could not dial %s", arg1);
          return TRUE;
        }
      g_array_append_val (cli->live_calls, call_id);
      out = json_event_begin ("dialing");
      json_add_int (out, "call", call_id);
      json_add_string (out, "to", arg1);
      json_event_end (out);
    }
  else if (g_str_equal (cmd, "answer"))
    {
      if (pick_call (cli, cmd, arg1, &call_id))
        check_queued (cmd, kefu_call_answer (cli->loop, cli->calls, call_id));
    }
  else if (g_str_equal (cmd, "hangup"))
    {
      if (pick_call (cli, cmd, arg1, &call_id))
        check_queued (cmd, kefu_call_hangup (cli->loop, cli->calls, call_id));
    }
  else if (g_str_equal (cmd, "reject"))
    {
      uint16_t scode = 486;
      const char *id_arg = arg1;

      if (arg1 && g_str_equal (arg1, "busy"))
        id_arg = arg2;
      else if (arg1 && g_str_equal (arg1, "decline"))
        {
          scode = 603;
          id_arg = arg2;
        }
      else if (arg2)
        {
          print_error (cmd, "reject [busy|decline] [CALL]: “%s” is neither", arg1);
          return TRUE;
        }
      if (pick_call (cli, cmd, id_arg, &call_id))
        check_queued (cmd, kefu_call_reject (cli->loop, cli->calls, call_id, scode));
    }
  else if (g_str_equal (cmd, "hold") || g_str_equal (cmd, "resume"))
    {
      if (pick_call (cli, cmd, arg1, &call_id))
        check_queued (cmd, kefu_call_hold (cli->loop, cli->calls, call_id,
                                           g_str_equal (cmd, "hold")));
    }
  else if (g_str_equal (cmd, "dtmf"))
    {
      if (!arg1 || strspn (arg1, "0123456789*#ABCDabcd") != strlen (arg1))
        print_error (cmd, "dtmf needs digits from 0-9, *, #, A-D, e.g. dtmf 123#");
      else if (pick_call (cli, cmd, arg2, &call_id))
        {
          g_autofree char *digits = g_ascii_strup (arg1, -1);

          check_queued (cmd, kefu_call_send_dtmf (cli->loop, cli->calls, call_id, digits));
        }
    }
  else if (g_str_equal (cmd, "stats"))
    {
      struct kefu_rtp_stream_stats st;
      int err;

      if (!pick_call (cli, cmd, arg1, &call_id))
        return TRUE;
      memset (&st, 0, sizeof st);
      err = kefu_call_stats (cli->loop, cli->calls, call_id, &st);
      if (err)
        print_error (cmd, "no statistics for call %u: %s", call_id, g_strerror (err));
      else
        {
          GString *out = json_event_begin ("stats");

          json_add_int (out, "call", call_id);
          add_stats (out, &st);
          json_event_end (out);
        }
    }
  else if (g_str_equal (cmd, "transfer"))
    {
      if (!arg1 || !kefu_call_transfer_target_valid (arg1))
        print_error (cmd, "transfer needs a SIP URI, e.g. transfer sip:2001@127.0.0.1:5090");
      else if (pick_call (cli, cmd, arg2, &call_id))
        check_queued (cmd, kefu_call_transfer (cli->loop, cli->calls, call_id, arg1));
    }
  else if (g_str_equal (cmd, "atransfer"))
    run_attended_transfer (cli, arg1);
  else if (g_str_equal (cmd, "accept-transfer") || g_str_equal (cmd, "decline-transfer"))
    {
      if (!pick_call (cli, cmd, arg1, &call_id))
        return TRUE;
      if (g_str_equal (cmd, "decline-transfer"))
        check_queued (cmd, kefu_call_refer_decline (cli->loop, cli->calls, call_id));
      else
        {
          guint new_id = kefu_call_refer_accept (cli->loop, cli->calls, call_id);
          GString *out;

          if (!new_id)
            {
              print_error (cmd, "could not follow the transfer of call %u", call_id);
              return TRUE;
            }
          g_array_append_val (cli->live_calls, new_id);
          out = json_event_begin ("dialing");
          json_add_int (out, "call", new_id);
          json_add_int (out, "transfer_of", call_id);
          json_event_end (out);
        }
    }
  else if (g_str_equal (cmd, "conference"))
    {
      guint a, b;

      if (arg1 && arg2)
        {
          if (!pick_call (cli, cmd, arg1, &a) || !pick_call (cli, cmd, arg2, &b))
            return TRUE;
        }
      else if (cli->live_calls->len >= 2)
        {
          a = g_array_index (cli->live_calls, guint, cli->live_calls->len - 2);
          b = g_array_index (cli->live_calls, guint, cli->live_calls->len - 1);
        }
      else
        {
          print_error (cmd, "a conference needs two calls");
          return TRUE;
        }
      check_queued (cmd, kefu_call_conference (cli->loop, cli->calls, a, b));
    }
  else if (g_str_equal (cmd, "mute") || g_str_equal (cmd, "unmute"))
    {
      if (pick_call (cli, cmd, arg1, &call_id))
        {
          gboolean muted = g_str_equal (cmd, "mute");
          GString *out;

          if (kefu_call_mute (cli->loop, cli->calls, call_id, muted))
            print_error (cmd, "could not %s call %u", cmd, call_id);
          else
            {
              out = json_event_begin (muted ? "muted" : "unmuted");
              json_add_int (out, "call", call_id);
              json_event_end (out);
            }
        }
    }
  else if (g_str_equal (cmd, "record"))
    {
      g_autoptr(GError) error = NULL;
      gboolean stop = arg1 && g_str_equal (arg1, "stop");
      GString *out;
      int err;

      if (!arg1)
        {
          print_error (cmd, "record FILE.wav [CALL] | record stop [CALL]");
          return TRUE;
        }
      if (!pick_call (cli, cmd, arg2, &call_id))
        return TRUE;
      err = kefu_call_record (cli->loop, cli->calls, call_id, stop ? NULL : arg1, &error);
      if (err)
        print_error (cmd, "%s", error ? error->message : g_strerror (err));
      else
        {
          out = json_event_begin (stop ? "recording_stopped" : "recording");
          json_add_int (out, "call", call_id);
          if (!stop)
            json_add_string (out, "file", arg1);
          json_event_end (out);
        }
    }
  else
    print_error (NULL, "unknown command “%s”; try help", cmd);

  return TRUE;
}

static void
run_commands (KefuPhoneCli *cli)
{
  if (cli->quitting)
    return;

  if (cli->waiting_for)
    {
      if (!take_event (cli, cli->waiting_for))
        return;
      g_clear_pointer (&cli->waiting_for, g_free);
      g_clear_handle_id (&cli->wait_source, g_source_remove);
    }

  while (!cli->quitting && !cli->waiting_for && !g_queue_is_empty (&cli->commands))
    {
      g_autofree char *line = g_queue_pop_head (&cli->commands);

      if (!run_command (cli, line))
        break;
    }

  /* stdin closed and nothing left to do: like quit.  An stdin that ends
   * before saying anything (a phone started in the background, stdin on
   * /dev/null) held no script, so the phone keeps answering until it is
   * signalled. */
  if (cli->from_stdin && cli->stdin_eof && cli->stdin_had_input && !cli->waiting_for
      && g_queue_is_empty (&cli->commands))
    quit (cli);
}

static gboolean
on_stdin_ready (gint fd, GIOCondition condition, gpointer data)
{
  KefuPhoneCli *cli = data;
  char buf[4096];
  ssize_t n;
  char *nl;

  (void) condition;
  n = read (fd, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return G_SOURCE_CONTINUE;

  if (n > 0)
    {
      g_string_append_len (cli->stdin_partial, buf, n);
      cli->stdin_had_input = TRUE;
    }

  while ((nl = memchr (cli->stdin_partial->str, '\n', cli->stdin_partial->len)))
    {
      gsize len = (gsize) (nl - cli->stdin_partial->str);

      g_queue_push_tail (&cli->commands, g_strndup (cli->stdin_partial->str, len));
      g_string_erase (cli->stdin_partial, 0, (gssize) len + 1);
    }

  if (n <= 0)
    {
      if (cli->stdin_partial->len)
        g_queue_push_tail (&cli->commands, g_strdup (cli->stdin_partial->str));
      g_string_truncate (cli->stdin_partial, 0);
      cli->stdin_eof = TRUE;
      cli->stdin_source = 0;
      run_commands (cli);
      return G_SOURCE_REMOVE;
    }

  run_commands (cli);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_quit_signal (gpointer data)
{
  quit (data);
  return G_SOURCE_CONTINUE;
}

/* --- events from the phone thread --------------------------------------- */

static void
add_headers (GString *out, const GPtrArray *headers)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  g_autoptr(GHashTable) values =
    g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) g_free);
  gboolean first = TRUE;

  /* a header that comes more than once (Via, Record-Route) is one
   * comma-joined value, as SIP allows, so the object has unique keys */
  for (guint i = 0; headers && i < headers->len; i++)
    {
      const struct kefu_call_header *h = headers->pdata[i];
      char *old = g_hash_table_lookup (values, h->name);

      if (old)
        g_hash_table_insert (values, h->name, g_strconcat (old, ", ", h->value, NULL));
      else
        {
          g_ptr_array_add (names, h->name);
          g_hash_table_insert (values, h->name, g_strdup (h->value));
        }
    }

  g_string_append (out, ",\"headers\":{");
  for (guint i = 0; i < names->len; i++)
    {
      if (!first)
        g_string_append_c (out, ',');
      first = FALSE;
      json_append_string (out, names->pdata[i]);
      g_string_append_c (out, ':');
      json_append_string (out, g_hash_table_lookup (values, names->pdata[i]));
    }
  g_string_append_c (out, '}');
}

static void
on_call_event (const struct kefu_call_event *ev, void *arg)
{
  KefuPhoneCli *cli = arg;
  const char *name = NULL;
  GString *out;

  switch (ev->type)
    {
    case KEFU_CALL_EVENT_INCOMING: name = "incoming"; break;
    case KEFU_CALL_EVENT_PROGRESS: name = ev->scode == 180 ? "ringing" : "progress"; break;
    case KEFU_CALL_EVENT_ESTABLISHED: name = "established"; break;
    case KEFU_CALL_EVENT_HELD: name = "held"; break;
    case KEFU_CALL_EVENT_RESUMED: name = "resumed"; break;
    case KEFU_CALL_EVENT_HOLD_FAILED: name = "hold_failed"; break;
    case KEFU_CALL_EVENT_RESUME_FAILED: name = "resume_failed"; break;
    case KEFU_CALL_EVENT_REMOTE_HOLD: name = "remote_hold"; break;
    case KEFU_CALL_EVENT_REMOTE_RESUMED: name = "remote_resumed"; break;
    case KEFU_CALL_EVENT_CLOSED: name = "closed"; break;
    case KEFU_CALL_EVENT_DTMF: name = "dtmf"; break;
    case KEFU_CALL_EVENT_TRANSFER_PROGRESS: name = "transfer_progress"; break;
    case KEFU_CALL_EVENT_TRANSFER_FAILED: name = "transfer_failed"; break;
    case KEFU_CALL_EVENT_REFER: name = "refer"; break;
    case KEFU_CALL_EVENT_CONFERENCE: name = "conference"; break;
    default: return;
    }

  out = json_event_begin (name);
  json_add_int (out, "call", ev->call_id);
  if (ev->account_id)
    json_add_string (out, "account", ev->account_id);

  switch (ev->type)
    {
    case KEFU_CALL_EVENT_INCOMING:
      json_add_string (out, "from", ev->from_uri);
      json_add_string (out, "from_name", ev->from_name);
      json_add_string (out, "to", ev->to_uri);
      add_headers (out, ev->headers);
      if (ev->replaces)
        json_add_int (out, "replaces", ev->replaces);
      if (!call_is_live (cli, ev->call_id))
        g_array_append_val (cli->live_calls, ev->call_id);
      break;
    case KEFU_CALL_EVENT_PROGRESS:
      json_add_int (out, "code", ev->scode);
      json_add_bool (out, "early_media", ev->early_media);
      break;
    case KEFU_CALL_EVENT_CLOSED:
      json_add_string (out, "reason", ev->reason);
      json_add_int (out, "code", ev->scode);
      if (ev->has_stats)
        add_stats (out, &ev->stats);
      call_forget (cli, ev->call_id);
      break;
    case KEFU_CALL_EVENT_TRANSFER_PROGRESS:
    case KEFU_CALL_EVENT_TRANSFER_FAILED:
      json_add_int (out, "code", ev->scode);
      json_add_string (out, "reason", ev->reason);
      break;
    case KEFU_CALL_EVENT_REFER:
      json_add_string (out, "target", ev->refer_to);
      json_add_string (out, "referred_by", ev->referred_by);
      break;
    case KEFU_CALL_EVENT_DTMF:
      {
        char digit[2] = { ev->dtmf_digit, 0 };

        json_add_string (out, "digit", digit);
        json_add_string (out, "mode", ev->dtmf_mode);
      }
      break;
    default:
      /* a hold or resume that did not take: why, then the call as it is */
      if (ev->type == KEFU_CALL_EVENT_HOLD_FAILED || ev->type == KEFU_CALL_EVENT_RESUME_FAILED)
        json_add_string (out, "reason", ev->reason);
      json_add_string (out, "codec", ev->codec);
      if (ev->telev_pt >= 0)
        json_add_int (out, "telephone_event_pt", ev->telev_pt);
      else
        json_add_string (out, "telephone_event_pt", NULL);
      json_add_string (out, "remote_rtp", ev->remote_rtp);
      json_add_int (out, "local_rtp_port", ev->local_rtp_port);
      json_add_bool (out, "local_hold", ev->local_hold);
      json_add_bool (out, "remote_hold", ev->remote_hold);
      json_add_bool (out, "srtp", ev->srtp);
      break;
    }
  json_event_end (out);

  if (ev->type == KEFU_CALL_EVENT_INCOMING && cli->auto_answer && !cli->quitting)
    check_queued ("answer", kefu_call_answer (cli->loop, cli->calls, ev->call_id));

  note_event (cli, name);
}

static void
on_reg_event (const struct kefu_reg_event *ev, void *arg)
{
  KefuPhoneCli *cli = arg;
  const char *name;
  GString *out;

  switch (ev->state)
    {
    case KEFU_REG_REGISTERED: name = "registered"; break;
    case KEFU_REG_FAILED: name = "registration_failed"; break;
    case KEFU_REG_UNREGISTERED: name = "unregistered"; break;
    default: return;
    }

  out = json_event_begin (name);
  json_add_string (out, "account", ev->account_id);
  json_add_string (out, "registrar",
                   ev->registrar == KEFU_REGISTRAR_BACKUP ? "backup" : "primary");
  json_add_string (out, "transport", kefu_transport_name (ev->transport));
  if (ev->state != KEFU_REG_REGISTERED)
    json_add_string (out, "reason", ev->reason);
  json_add_int (out, "code", ev->scode);
  if (ev->state == KEFU_REG_FAILED)
    json_add_int (out, "retry_in", ev->retry_in_s);
  json_event_end (out);

  note_event (cli, name);
}

/* phone thread */
static int
setup_phone (void *arg)
{
  KefuPhoneCli *cli = arg;
  struct kefu_ua_config cfg = {
    .laddr = cli->listen_host,
    .udp_port = cli->listen_port,
    /* 5060 takes TCP 5060 and TLS 5061 as well */
    .tcp_port = cli->listen_port,
    .tls_port = cli->listen_port ? cli->listen_port + 1 : 0,
    .tls_cert = cli->tls_cert,
    .tls_ca_file = cli->tls_ca,
    .eventh = on_reg_event,
    .arg = cli,
  };
  struct kefu_calls_config ccfg = {
    .listen_any = cli->listen_host != NULL,
    .audio = cli->audio,
    .dtmf_mode = cli->dtmf_mode,
    .srtp = cli->listen_srtp,
    .codecs = cli->codecs,
    .listen_user = cli->user,
    .telev_pt = cli->telev_pt,
    .eventh = on_call_event,
    .arg = cli,
  };
  int err;

  kefu_phone_loop_set_stop_timeout (cli->loop, STOP_TIMEOUT_MS);
  err = kefu_ua_alloc (&cli->ua, cli->loop, &cfg);
  if (!err)
    err = kefu_ua_local_port (cli->ua, SIP_TRANSP_UDP, &cli->sip_port);
  if (!err)
    err = kefu_ua_local_port (cli->ua, KEFU_SIP_TRANSPORT_TCP, &cli->tcp_port);
  /* TLS listens only with --tls-cert; without, it starts as a client
   * when first used */
  if (!err && cli->tls_cert)
    err = kefu_ua_local_port (cli->ua, KEFU_SIP_TRANSPORT_TLS, &cli->tls_port);
  if (!err)
    err = kefu_calls_alloc (&cli->calls, cli->loop, cli->ua, &ccfg);
  if (!err && cli->account_id)
    err = kefu_ua_register (cli->ua, &cli->account);
  return err;
}

/* --- options -------------------------------------------------------------- */

static gboolean
valid_dtmf_mode (const char *mode)
{
  static const char *const modes[] = { "rfc4733", "info", "inband", "auto", NULL };

  return g_strv_contains (modes, mode);
}

/* The host part of a sip: URI ("sip:alice@host:port;params" -> "host:port"),
 * or NULL if there is no user@host. */
static char *
sip_uri_hostport (const char *uri)
{
  const char *rest;
  const char *at;
  size_t len;

  if (g_str_has_prefix (uri, "sip:"))
    rest = uri + 4;
  else if (g_str_has_prefix (uri, "sips:"))
    rest = uri + 5;
  else
    return NULL;
  at = strchr (rest, '@');
  if (!at || at == rest || !at[1])
    return NULL;
  len = strcspn (at + 1, ";?> ");
  if (!len)
    return NULL;
  return g_strndup (at + 1, len);
}

/* sips:, or ;transport=tls among the URI's parameters */
static gboolean
uri_is_tls (const char *uri)
{
  g_autofree char *lower = g_ascii_strdown (uri, -1);

  return g_str_has_prefix (lower, "sips:") || strstr (lower, ";transport=tls") != NULL;
}

/* --account 'sip:alice@host;password=...;dtmf=...;registrar=URI;backup=URI'
 * A parameter the account does not know, right after registrar= or backup=,
 * belongs to that URI (registrar=sip:pbx;transport=tcp). */
static gboolean
parse_account (KefuPhoneCli *cli, const char *spec, GError **error)
{
  g_auto(GStrv) parts = g_strsplit (spec, ";", -1);
  g_autofree char *hostport = NULL;
  char **uri_target = NULL;

  if (!parts[0] || !(hostport = sip_uri_hostport (parts[0])))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("--account: “%s” is not a SIP address like sip:alice@127.0.0.1"),
                   parts[0] ? parts[0] : "");
      return FALSE;
    }
  cli->aor = g_strdup (parts[0]);

  for (char **p = parts + 1; *p; p++)
    {
      const char *eq = strchr (*p, '=');
      g_autofree char *key = eq ? g_strndup (*p, (gsize) (eq - *p)) : g_strdup (*p);
      const char *value = eq ? eq + 1 : "";
      char **target = NULL;

      if (!**p)
        continue;
      if (g_str_equal (key, "password"))
        target = &cli->password;
      else if (g_str_equal (key, "auth_user") || g_str_equal (key, "user"))
        target = &cli->auth_user;
      else if (g_str_equal (key, "registrar"))
        target = &cli->registrar;
      else if (g_str_equal (key, "backup"))
        target = &cli->backup;
      else if (g_str_equal (key, "dtmf"))
        {
          if (!valid_dtmf_mode (value))
            {
              g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           _("--account: dtmf=%s: use rfc4733, info, inband or auto"), value);
              return FALSE;
            }
          if (!cli->dtmf_mode)
            cli->dtmf_mode = g_strdup (value);
          g_free (cli->account_dtmf);
          cli->account_dtmf = g_strdup (value);
          uri_target = NULL;
          continue;
        }
      else if (g_str_equal (key, "srtp"))
        {
          if (!g_str_equal (value, "yes") && !g_str_equal (value, "no"))
            {
              g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           _("--account: srtp=%s: use yes or no"), value);
              return FALSE;
            }
          cli->account_srtp = g_str_equal (value, "yes");
          uri_target = NULL;
          continue;
        }
      else if (g_str_equal (key, "transport") && !uri_target)
        {
          if (!kefu_transport_from_name (value, NULL))
            {
              g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           _("--account: transport=%s: use udp, tcp or tls"), value);
              return FALSE;
            }
          g_free (cli->transport);
          cli->transport = g_ascii_strdown (value, -1);
          continue;
        }
      else if (uri_target)
        {
          char *joined = g_strconcat (*uri_target, ";", *p, NULL);

          g_free (*uri_target);
          *uri_target = joined;
          continue;
        }
      else
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       _("--account: unknown parameter “%s” (password, auth_user, dtmf, "
                         "srtp, transport, registrar, backup)"), key);
          return FALSE;
        }

      g_free (*target);
      *target = g_strdup (value);
      uri_target = (target == &cli->registrar || target == &cli->backup) ? target : NULL;
    }

  if (!cli->password || !*cli->password)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("--account: password= is missing"));
      return FALSE;
    }
  if (!cli->registrar)
    cli->registrar = g_strconcat ("sip:", hostport, NULL);
  if (!g_str_has_prefix (cli->registrar, "sip:") && !g_str_has_prefix (cli->registrar, "sips:"))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("--account: registrar “%s” is not a SIP URI"), cli->registrar);
      return FALSE;
    }
  if (cli->backup && !g_str_has_prefix (cli->backup, "sip:")
      && !g_str_has_prefix (cli->backup, "sips:"))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("--account: backup “%s” is not a SIP URI"), cli->backup);
      return FALSE;
    }

  /* the engine's rule (kefu_account_config.srtp), said before it starts */
  if (cli->account_srtp
      && (cli->transport ? !g_str_equal (cli->transport, "tls") : !uri_is_tls (cli->registrar)))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("--account: srtp=yes needs TLS (transport=tls or a sips: registrar): "
                     "over UDP or TCP the SRTP keys would travel in clear text"));
      return FALSE;
    }

  cli->account_id = g_strdup (cli->aor);
  cli->account = (struct kefu_account_config) {
    .id = cli->account_id,
    .aor = cli->aor,
    .auth_user = cli->auth_user,
    .password = cli->password,
    .registrar = cli->registrar,
    .backup_registrar = cli->backup,
    .transport = cli->transport,
    .dtmf_mode = cli->account_dtmf,
    .srtp = cli->account_srtp,
  };
  return TRUE;
}

/* --listen HOST:PORT, HOST a numeric address ([::1]:5080 for IPv6) */
static gboolean
parse_listen (KefuPhoneCli *cli, const char *spec, GError **error)
{
  g_clear_pointer (&cli->listen_host, g_free);
  /* port 0: any free port, printed in the "ready" event */
  if (kefu_listen_address_parse (spec, &cli->listen_host, &cli->listen_port))
    return TRUE;

  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               _("--listen: “%s” is not an address like 127.0.0.1:5080"), spec);
  return FALSE;
}

/* --audio pulse[:SOURCE,SINK], file:IN.wav,OUT.wav or null ("file:,OUT.wav"
 * records only, "file:IN.wav" plays only); what it names is checked now,
 * not when a call starts */
static gboolean
parse_audio (KefuPhoneCli *cli, const char *spec, GError **error)
{
  g_auto(GStrv) files = NULL;
  g_autoptr(GError) local_error = NULL;

  if (g_str_equal (spec, "null"))
    return TRUE;
  if (g_str_equal (spec, "pulse") || g_str_has_prefix (spec, "pulse:"))
    {
      struct kefu_audio_source *src = NULL;
      struct kefu_audio_sink *sink = NULL;

      /* the sound server and the devices named must be there now, not
       * at the first call */
      if (!kefu_audio_open (spec, false, &src, &sink, &local_error))
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       _("--audio %s: %s"), spec, local_error->message);
          return FALSE;
        }
      kefu_audio_source_free (src);
      kefu_audio_sink_free (sink);
      cli->audio = g_strdup (spec);
      return TRUE;
    }
  if (!g_str_has_prefix (spec, "file:"))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("--audio: use pulse[:SOURCE,SINK], file:IN.wav,OUT.wav or null, not “%s”"),
                   spec);
      return FALSE;
    }
  files = g_strsplit (spec + 5, ",", 2);
  if ((!files[0] || !*files[0]) && (!files[1] || !*files[1]))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("--audio: file: needs a file, e.g. file:in.wav,out.wav"));
      return FALSE;
    }

  if (files[0] && *files[0])
    {
      struct kefu_audio_source *src = kefu_audio_file_source_new (files[0], false,
                                                                  &local_error);

      if (!src)
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       _("--audio: cannot play “%s”: %s"), files[0], local_error->message);
          return FALSE;
        }
      kefu_audio_source_free (src);
    }

  if (files[1] && *files[1])
    {
      g_autofree char *out_dir = g_path_get_dirname (files[1]);

      if (g_access (out_dir, W_OK) != 0)
        {
          int saved = errno;

          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                       _("--audio: cannot write “%s”: %s"), files[1], g_strerror (saved));
          return FALSE;
        }
    }
  cli->audio = g_strdup (spec);
  return TRUE;
}

static void
cli_clear (KefuPhoneCli *cli)
{
  g_clear_handle_id (&cli->stdin_source, g_source_remove);
  g_clear_handle_id (&cli->wait_source, g_source_remove);
  g_clear_handle_id (&cli->resume_source, g_source_remove);
  g_queue_clear_full (&cli->commands, g_free);
  if (cli->stdin_partial)
    g_string_free (cli->stdin_partial, TRUE);
  g_clear_pointer (&cli->live_calls, g_array_unref);
  g_clear_pointer (&cli->unwaited, g_hash_table_unref);
  g_clear_pointer (&cli->main_loop, g_main_loop_unref);
  g_free (cli->waiting_for);
  g_free (cli->codecs);
  g_free (cli->user);
  g_free (cli->account_id);
  g_free (cli->aor);
  g_free (cli->password);
  g_free (cli->auth_user);
  g_free (cli->registrar);
  g_free (cli->backup);
  g_free (cli->transport);
  g_free (cli->account_dtmf);
  g_free (cli->tls_cert);
  g_free (cli->tls_ca);
  g_free (cli->dtmf_mode);
  g_free (cli->listen_host);
  g_free (cli->audio);
}

int
main (int argc, char **argv)
{
  g_autofree char *account = NULL;
  g_autofree char *listen = NULL;
  g_autofree char *dtmf = NULL;
  g_autofree char *audio = NULL;
  gboolean auto_answer = FALSE;
  g_autofree char *codecs = NULL;
  g_autofree char *user = NULL;
  g_autofree char *telev = NULL;
  g_autofree char *tls_cert = NULL;
  g_autofree char *tls_ca = NULL;
  gboolean srtp = FALSE;
  const GOptionEntry entries[] = {
    { "account", 0, 0, G_OPTION_ARG_STRING, &account,
      N_("Register this account: sip:USER@HOST;password=…[;registrar=URI][;backup=URI]"
         "[;dtmf=MODE][;transport=udp|tcp|tls][;srtp=yes|no]"), N_("SPEC") },
    { "tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &tls_cert,
      N_("PEM file with our TLS certificate and key, for calls over TLS to us"), N_("FILE") },
    { "tls-ca", 0, 0, G_OPTION_ARG_FILENAME, &tls_ca,
      N_("PEM file of CAs whose TLS server certificates to trust, besides the system's"),
      N_("FILE") },
    { "listen", 0, 0, G_OPTION_ARG_STRING, &listen,
      N_("Take calls on this address without registering"), N_("HOST:PORT") },
    { "srtp", 0, 0, G_OPTION_ARG_NONE, &srtp,
      N_("Calls of the --listen identity require SRTP, over TLS only (needs --tls-cert)"), NULL },
    { "dtmf", 0, 0, G_OPTION_ARG_STRING, &dtmf,
      N_("DTMF mode: rfc4733, info, inband or auto"), N_("MODE") },
    { "audio", 0, 0, G_OPTION_ARG_STRING, &audio,
      N_("Audio: pulse[:SOURCE,SINK], file:IN.wav,OUT.wav or null"), N_("SPEC") },
    { "user", 0, 0, G_OPTION_ARG_STRING, &user,
      N_("Without an account: the user we call from and take calls for (default kefu)"),
      N_("NAME") },
    { "codecs", 0, 0, G_OPTION_ARG_STRING, &codecs,
      N_("Codecs to offer and accept, preferred first: opus, pcmu, pcma"), N_("LIST") },
    { "telephone-event", 0, 0, G_OPTION_ARG_STRING, &telev,
      N_("RFC 4733 payload type to offer (96-127), or off"), N_("PT") },
    { "auto-answer", 0, 0, G_OPTION_ARG_NONE, &auto_answer,
      N_("Answer incoming calls"), NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  KefuPhoneCli cli = { 0 };
  guint sigint_source, sigterm_source;
  int err;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  context = g_option_context_new (_("[COMMAND…] — softphone; commands from the arguments or stdin"));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_set_description (context,
    _("Commands: dial URI, answer [CALL], hangup [CALL], reject [busy|decline] [CALL],\n"
      "hold [CALL], resume [CALL], dtmf DIGITS [CALL], stats [CALL], wait EVENT [SECONDS],\n"
      "help, quit.  CALL defaults to the latest call.  Without commands in the\n"
      "arguments they are read from stdin, one per line; its end is like quit\n"
      "(an empty stdin, as in the background, keeps the phone running).\n"
      "Events are printed on stdout, one JSON object per line."));
  g_queue_init (&cli.commands);

  if (!g_option_context_parse (context, &argc, &argv, &error)
      || (account && !parse_account (&cli, account, &error))
      || (listen && !parse_listen (&cli, listen, &error))
      || (audio && !parse_audio (&cli, audio, &error)))
    {
      g_printerr ("kefu-phone: %s\n", error->message);
      cli_clear (&cli);
      return EXIT_USAGE;
    }
  if (srtp && (!listen || !tls_cert))
    {
      g_printerr (_("kefu-phone: --srtp is for calls over TLS to the --listen identity: give "
                    "--listen and --tls-cert (an account takes ;srtp=yes)\n"));
      cli_clear (&cli);
      return EXIT_USAGE;
    }
  cli.listen_srtp = srtp;
  if (dtmf && !valid_dtmf_mode (dtmf))
    {
      g_printerr (_("kefu-phone: --dtmf %s: use rfc4733, info, inband or auto\n"), dtmf);
      cli_clear (&cli);
      return EXIT_USAGE;
    }
  if (dtmf)
    {
      g_free (cli.dtmf_mode);
      cli.dtmf_mode = g_strdup (dtmf);
    }
  if (codecs && !valid_codecs (codecs))
    {
      g_printerr (_("kefu-phone: --codecs %s: use a comma-separated list of opus, pcmu and "
                    "pcma\n"), codecs);
      cli_clear (&cli);
      return EXIT_USAGE;
    }
  if (telev)
    {
      guint64 pt = 0;

      if (g_str_equal (telev, "off"))
        cli.telev_pt = -1;
      else if (g_ascii_string_to_unsigned (telev, 10, 96, 127, &pt, NULL))
        cli.telev_pt = (int) pt;
      else
        {
          g_printerr (_("kefu-phone: --telephone-event %s: use a payload type from 96 to 127, "
                        "or off\n"), telev);
          cli_clear (&cli);
          return EXIT_USAGE;
        }
    }
  if (user && (!*user || strpbrk (user, "@:;<>\" \t\r\n")))
    {
      g_printerr (_("kefu-phone: --user %s: use a plain user name such as 8613800138000\n"),
                  user);
      cli_clear (&cli);
      return EXIT_USAGE;
    }
  cli.user = g_steal_pointer (&user);
  cli.codecs = g_steal_pointer (&codecs);
  cli.auto_answer = auto_answer;
  cli.tls_cert = g_steal_pointer (&tls_cert);
  cli.tls_ca = g_steal_pointer (&tls_ca);

  cli.main_loop = g_main_loop_new (NULL, FALSE);
  cli.live_calls = g_array_new (FALSE, FALSE, sizeof (guint));
  cli.unwaited = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  cli.stdin_partial = g_string_new (NULL);
  for (int i = 1; i < argc; i++)
    g_queue_push_tail (&cli.commands, g_strdup (argv[i]));
  cli.from_stdin = argc <= 1;

  err = kefu_phone_loop_start (&cli.loop, NULL);
  if (!err)
    err = kefu_phone_loop_call_sync (cli.loop, setup_phone, &cli);
  if (err)
    {
      g_printerr (_("kefu-phone: cannot start the phone: %s\n"), g_strerror (err));
      if (cli.loop)
        kefu_phone_loop_stop (cli.loop);
      while (g_main_context_iteration (NULL, FALSE))
        ;
      cli_clear (&cli);
      return EXIT_FAILURE;
    }

  /* scripts know when calls can come, and on which port (--listen HOST:0) */
  {
    GString *out = json_event_begin ("ready");

    json_add_string (out, "address", cli.listen_host ? cli.listen_host : "127.0.0.1");
    json_add_int (out, "sip_port", cli.sip_port);
    json_add_int (out, "tcp_port", cli.tcp_port);
    if (cli.tls_port)
      json_add_int (out, "tls_port", cli.tls_port);
    json_add_bool (out, "listen", cli.listen_host != NULL);
    json_event_end (out);
  }

  sigint_source = g_unix_signal_add (SIGINT, on_quit_signal, &cli);
  sigterm_source = g_unix_signal_add (SIGTERM, on_quit_signal, &cli);
  if (cli.from_stdin)
    cli.stdin_source = g_unix_fd_add (STDIN_FILENO, G_IO_IN | G_IO_HUP | G_IO_ERR,
                                      on_stdin_ready, &cli);
  schedule_commands (&cli);

  g_main_loop_run (cli.main_loop);

  /* quit, a signal or the end of stdin: hang up, un-REGISTER, and print
   * what that brings */
  cli.quitting = TRUE;
  kefu_phone_loop_stop (cli.loop);
  cli.loop = NULL;
  while (g_main_context_iteration (NULL, FALSE))
    ;

  g_source_remove (sigint_source);
  g_source_remove (sigterm_source);
  cli_clear (&cli);
  return EXIT_SUCCESS;
}
