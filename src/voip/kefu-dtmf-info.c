/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuDtmfInfo"

#include "config.h"

#include "kefu-dtmf-info.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#define HAVE_INTTYPES_H 1
#define HAVE_STDBOOL_H 1
#define HAVE_INET6 1
#include <re.h>

/*
 * application/dtmf-relay has no RFC: what peers send is lines of
 * "Key=Value", CRLF or LF, keys in any case, spaces anywhere around the
 * '=' ("Signal= #"), sometimes a trailing blank line or other keys
 * (Volume, Duration).  So parsing is tolerant of form, strict about
 * meaning: a line that is not key=value, two Signal lines, a signal that
 * is not a key on a phone or a duration that is not a number refuses the
 * whole body, and the error says which, so the trunk's log tells the
 * engineer what the peer got wrong.
 */

G_DEFINE_QUARK (kefu-dtmf-info-error-quark, kefu_dtmf_info_error)

/* A real body is about 30 bytes. */
#define BODY_MAX_BYTES 1024

typedef enum {
  BODY_RELAY,
  BODY_DTMF,
} BodyKind;

static gboolean
read_content_type (const char *content_type,
                   BodyKind   *kind,
                   GError    **error)
{
  g_autofree char *media = NULL;
  const char *semicolon;

  if (content_type == NULL)
    content_type = "";
  semicolon = strchr (content_type, ';');
  media = semicolon != NULL ? g_strndup (content_type, (gsize) (semicolon - content_type))
                            : g_strdup (content_type);
  g_strstrip (media);

  if (g_ascii_strcasecmp (media, KEFU_DTMF_INFO_CONTENT_TYPE_RELAY) == 0)
    *kind = BODY_RELAY;
  else if (g_ascii_strcasecmp (media, KEFU_DTMF_INFO_CONTENT_TYPE_DTMF) == 0)
    *kind = BODY_DTMF;
  else
    {
      g_set_error (error, KEFU_DTMF_INFO_ERROR, KEFU_DTMF_INFO_ERROR_CONTENT_TYPE,
                   _("“%s” is not a DTMF body (expected %s or %s)"), media,
                   KEFU_DTMF_INFO_CONTENT_TYPE_RELAY, KEFU_DTMF_INFO_CONTENT_TYPE_DTMF);
      return FALSE;
    }
  return TRUE;
}

/* value: stripped. */
static gboolean
read_signal (const char *value,
             char       *signal,
             GError    **error)
{
  static const char digits[] = "0123456789*#ABCD";
  gsize len = strlen (value);

  if (len == 1 && strchr (digits, g_ascii_toupper (value[0])) != NULL)
    {
      *signal = g_ascii_toupper (value[0]);
      return TRUE;
    }

  /* RFC 4733 event codes, as some gateways write * and #. */
  if (len == 2 && value[0] == '1' && value[1] >= '0' && value[1] <= '5')
    {
      *signal = digits[10 + (value[1] - '0')];
      return TRUE;
    }

  if (len == 0)
    g_set_error_literal (error, KEFU_DTMF_INFO_ERROR, KEFU_DTMF_INFO_ERROR_SIGNAL,
                         _("The DTMF signal is empty"));
  else
    g_set_error (error, KEFU_DTMF_INFO_ERROR, KEFU_DTMF_INFO_ERROR_SIGNAL,
                 _("“%.16s” is not a DTMF signal (0-9, *, #, A-D)"), value);
  return FALSE;
}

static gboolean
read_duration (const char *value,
               guint      *duration_ms,
               GError    **error)
{
  guint64 n = 0;

  if (!g_ascii_string_to_unsigned (value, 10, 0, KEFU_DTMF_INFO_MAX_DURATION_MS, &n, NULL))
    {
      g_set_error (error, KEFU_DTMF_INFO_ERROR, KEFU_DTMF_INFO_ERROR_DURATION,
                   _("“%.16s” is not a DTMF duration (0 to %u milliseconds)"),
                   value, (guint) KEFU_DTMF_INFO_MAX_DURATION_MS);
      return FALSE;
    }
  *duration_ms = (guint) n;
  return TRUE;
}

static gboolean
parse_relay (const char   *text,
             KefuDtmfInfo *info,
             GError      **error)
{
  g_auto(GStrv) lines = g_strsplit_set (text, "\r\n", -1);
  gboolean have_signal = FALSE;
  gboolean have_duration = FALSE;
  guint duration_ms = 0;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = g_strstrip (lines[i]);
      char *eq;
      const char *key;
      const char *value;

      if (*line == '\0')
        continue;

      eq = strchr (line, '=');
      if (eq == NULL)
        {
          g_set_error (error, KEFU_DTMF_INFO_ERROR, KEFU_DTMF_INFO_ERROR_MALFORMED,
                       _("“%.32s” in a DTMF body is not Key=Value"), line);
          return FALSE;
        }
      *eq = '\0';
      key = g_strstrip (line);
      value = g_strstrip (eq + 1);

      if (g_ascii_strcasecmp (key, "Signal") == 0)
        {
          if (have_signal)
            {
              g_set_error_literal (error, KEFU_DTMF_INFO_ERROR, KEFU_DTMF_INFO_ERROR_MALFORMED,
                                   _("The DTMF body has more than one Signal"));
              return FALSE;
            }
          if (!read_signal (value, &info->signal, error))
            return FALSE;
          have_signal = TRUE;
        }
      else if (g_ascii_strcasecmp (key, "Duration") == 0)
        {
          if (have_duration)
            {
              g_set_error_literal (error, KEFU_DTMF_INFO_ERROR, KEFU_DTMF_INFO_ERROR_MALFORMED,
                                   _("The DTMF body has more than one Duration"));
              return FALSE;
            }
          if (!read_duration (value, &duration_ms, error))
            return FALSE;
          have_duration = TRUE;
        }
      else
        {
          g_debug ("ignoring “%s” in a dtmf-relay body", key);
        }
    }

  if (!have_signal)
    {
      g_set_error_literal (error, KEFU_DTMF_INFO_ERROR, KEFU_DTMF_INFO_ERROR_NO_SIGNAL,
                           _("The DTMF body has no Signal"));
      return FALSE;
    }

  info->has_duration = have_duration && duration_ms > 0;
  info->duration_ms = info->has_duration ? duration_ms : KEFU_DTMF_INFO_DEFAULT_DURATION_MS;
  return TRUE;
}

gboolean
kefu_dtmf_info_parse (const char   *content_type,
                      const char   *body,
                      gssize        length,
                      KefuDtmfInfo *info,
                      GError      **error)
{
  g_autofree char *text = NULL;
  KefuDtmfInfo parsed = { 0 };
  BodyKind kind;
  gsize len;

  g_return_val_if_fail (info != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!read_content_type (content_type, &kind, error))
    return FALSE;

  if (body == NULL)
    body = "";
  len = length < 0 ? strlen (body) : (gsize) length;
  if (len > BODY_MAX_BYTES)
    {
      g_set_error (error, KEFU_DTMF_INFO_ERROR, KEFU_DTMF_INFO_ERROR_MALFORMED,
                   _("A DTMF body of %lu bytes is too long"), (unsigned long) len);
      return FALSE;
    }
  if (memchr (body, '\0', len) != NULL)
    {
      g_set_error_literal (error, KEFU_DTMF_INFO_ERROR, KEFU_DTMF_INFO_ERROR_MALFORMED,
                           _("The DTMF body contains a NUL byte"));
      return FALSE;
    }

  text = g_strndup (body, len);
  g_strstrip (text);
  if (*text == '\0')
    {
      g_set_error_literal (error, KEFU_DTMF_INFO_ERROR, KEFU_DTMF_INFO_ERROR_EMPTY,
                           _("The DTMF body is empty"));
      return FALSE;
    }

  if (kind == BODY_RELAY)
    {
      if (!parse_relay (text, &parsed, error))
        return FALSE;
    }
  else
    {
      if (!read_signal (text, &parsed.signal, error))
        return FALSE;
      parsed.duration_ms = KEFU_DTMF_INFO_DEFAULT_DURATION_MS;
      parsed.has_duration = FALSE;
    }

  *info = parsed;
  return TRUE;
}

char *
kefu_dtmf_info_format (const char *content_type,
                       char        signal,
                       guint       duration_ms,
                       GError    **error)
{
  char value[2] = { 0 };
  BodyKind kind;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!read_content_type (content_type, &kind, error))
    return NULL;

  value[0] = signal;
  if (!read_signal (value, &value[0], error))
    return NULL;

  if (kind == BODY_DTMF)
    return g_strdup (value);

  if (duration_ms == 0)
    duration_ms = KEFU_DTMF_INFO_DEFAULT_DURATION_MS;
  duration_ms = MIN (duration_ms, KEFU_DTMF_INFO_MAX_DURATION_MS);
  return g_strdup_printf ("Signal=%s\r\nDuration=%u\r\n", value, duration_ms);
}

int
kefu_dtmf_info_send (struct sipsess        *sess,
                     char                   digit,
                     guint                  duration_ms,
                     kefu_dtmf_info_sent_h *resph,
                     void                  *arg)
{
  g_autofree char *body = kefu_dtmf_info_format (KEFU_DTMF_INFO_CONTENT_TYPE_RELAY, digit,
                                                 duration_ms, NULL);
  struct mbuf *mb;
  int err;

  if (!body)
    return EINVAL;
  mb = mbuf_alloc (strlen (body));
  if (!mb)
    return ENOMEM;
  err = mbuf_write_str (mb, body);
  mb->pos = 0;
  if (!err)
    err = sipsess_info (sess, KEFU_DTMF_INFO_CONTENT_TYPE_RELAY, mb, resph, arg);
  mem_deref (mb);
  return err;
}

int
kefu_dtmf_info_queue_add (struct kefu_dtmf_info_queue *q,
                          const char                  *digits)
{
  size_t len = q->digits ? strlen (q->digits) : 0;
  char *more = mem_zalloc (len + strlen (digits) + 1, NULL);

  if (!more)
    return ENOMEM;
  if (len)
    memcpy (more, q->digits, len);
  memcpy (more + len, digits, strlen (digits));
  mem_deref (q->digits);
  q->digits = more;
  return 0;
}

int
kefu_dtmf_info_queue_send_next (struct kefu_dtmf_info_queue *q,
                                struct sipsess              *sess,
                                guint                        duration_ms,
                                kefu_dtmf_info_sent_h       *resph,
                                void                        *arg)
{
  char digit;
  int err;

  if (q->pending || !q->digits || !q->digits[0])
    return 0;
  digit = q->digits[0];
  memmove (q->digits, q->digits + 1, strlen (q->digits));
  err = kefu_dtmf_info_send (sess, digit, duration_ms, resph, arg);
  if (!err)
    q->pending = TRUE;
  return err;
}

void
kefu_dtmf_info_queue_clear (struct kefu_dtmf_info_queue *q)
{
  q->digits = mem_deref (q->digits);
  q->pending = FALSE;
}
