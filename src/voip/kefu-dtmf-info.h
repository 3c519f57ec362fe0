/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * DTMF digits carried in SIP INFO bodies, for accounts and trunks whose
 * DTMF mode is `info`: application/dtmf-relay ("Signal=5\r\nDuration=160\r\n",
 * the de-facto format of Cisco and most PBXes) and application/dtmf (the
 * body is the digit alone).  Only the bodies: the SIP side hands in the
 * Content-Type and the body, and sends what kefu_dtmf_info_format() gives.
 * Pure functions, callable from any thread.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define KEFU_DTMF_INFO_CONTENT_TYPE_RELAY "application/dtmf-relay"
#define KEFU_DTMF_INFO_CONTENT_TYPE_DTMF  "application/dtmf"

#define KEFU_DTMF_INFO_ERROR (kefu_dtmf_info_error_quark ())
GQuark kefu_dtmf_info_error_quark (void);

typedef enum {
  KEFU_DTMF_INFO_ERROR_CONTENT_TYPE,   /* neither of the two types above */
  KEFU_DTMF_INFO_ERROR_EMPTY,          /* no body, or only white space */
  KEFU_DTMF_INFO_ERROR_MALFORMED,      /* a line that is not key=value, NUL bytes, too long */
  KEFU_DTMF_INFO_ERROR_NO_SIGNAL,      /* dtmf-relay without a Signal line */
  KEFU_DTMF_INFO_ERROR_SIGNAL,         /* not one of 0-9 * # A-D (nor 10-15) */
  KEFU_DTMF_INFO_ERROR_DURATION,       /* not a number of milliseconds */
} KefuDtmfInfoError;

/* The duration to assume when the body gives none (or 0). */
#define KEFU_DTMF_INFO_DEFAULT_DURATION_MS 100
/* Longer is not a key press; a peer sending it is confused. */
#define KEFU_DTMF_INFO_MAX_DURATION_MS     60000

typedef struct {
  char  signal;        /* '0'-'9', '*', '#', 'A'-'D' */
  guint duration_ms;   /* as sent, or KEFU_DTMF_INFO_DEFAULT_DURATION_MS */
  gboolean has_duration;
} KefuDtmfInfo;

/* content_type: the header's value, parameters and case allowed
 * ("Application/DTMF-Relay; charset=x").  body/length: the message body,
 * length -1 when it is NUL-terminated.  Signal=10 and 11 are read as '*'
 * and '#' (and 12-15 as A-D), as RFC 4733 numbers them and some peers send
 * them.  Unknown keys are ignored. */
gboolean kefu_dtmf_info_parse  (const char   *content_type,
                                const char   *body,
                                gssize        length,
                                KefuDtmfInfo *info,
                                GError      **error);

/* "Signal=5\r\nDuration=160\r\n" for application/dtmf-relay, "5" for
 * application/dtmf (which has no duration).  NULL with an error when the
 * signal is not a DTMF digit or the content type is neither. */
char    *kefu_dtmf_info_format (const char  *content_type,
                                char         signal,
                                guint        duration_ms,
                                GError     **error) G_GNUC_WARN_UNUSED_RESULT;

struct sipsess;
struct sip_msg;
/* The answer to one INFO (libre's sip_resp_h). */
typedef void (kefu_dtmf_info_sent_h) (int err, const struct sip_msg *msg, void *arg);

/* Sends @digit as application/dtmf-relay in an INFO on @sess (libre's
 * thread).  One at a time: the next goes from @resph, so digits arrive in
 * order.  0 or an errno. */
int kefu_dtmf_info_send (struct sipsess *sess, char digit, guint duration_ms,
                         kefu_dtmf_info_sent_h *resph, void *arg);

/* Digits waiting to go as INFOs on one dialog (libre's thread), sent one
 * at a time so that they arrive in order.  Embedded zeroed in its owner
 * (a call, a switch leg), which calls kefu_dtmf_info_queue_send_next()
 * after adding digits and again from @resph once it has cleared
 * `pending`, and kefu_dtmf_info_queue_clear() when it is freed. */
struct kefu_dtmf_info_queue {
  char *digits;        /* mem_, NULL when none ever waited */
  gboolean pending;    /* one INFO is out */
};

/* Adds @digits after those waiting: 0 or ENOMEM. */
int  kefu_dtmf_info_queue_add       (struct kefu_dtmf_info_queue *q, const char *digits);
/* Sends the first digit waiting unless an INFO is out: 0 (also when
 * nothing was sent) or the errno of the send, the digit then dropped. */
int  kefu_dtmf_info_queue_send_next (struct kefu_dtmf_info_queue *q, struct sipsess *sess,
                                     guint duration_ms, kefu_dtmf_info_sent_h *resph,
                                     void *arg);
void kefu_dtmf_info_queue_clear     (struct kefu_dtmf_info_queue *q);

G_END_DECLS
