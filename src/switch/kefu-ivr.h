/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The IVR of one call: runs a flow of the config ([ivr NAME], see
 * kefu-switch-config.h) for a caller, event by event on the switch's
 * re_main thread (libre timers; nothing blocks), and ends with one result:
 * the queue (and skill, customer) the caller goes to, a callback request
 * taken, or a hang-up.  It records the path the caller took and the digits
 * keyed, e.g. "main>main-menu>1>sales", for X-Kefu-Ivr and the CDR's
 * ivr_path.
 *
 * The IVR does not know SIP or RTP: it talks to its call through a driver,
 * a table of functions the core implements on a call leg (and the tests
 * with a script).  The IVR calls the driver; the core calls the IVR's
 * entry points (kefu_ivr_digit() for each digit, whatever the trunk's DTMF
 * mode, kefu_ivr_play_done(), kefu_ivr_lookup_done(),
 * kefu_ivr_callback_done()).  Every driver function is called from inside
 * an entry point or a timer, never from kefu_ivr_alloc() or the
 * destructor; in turn, a driver function must not call an entry point
 * before it returns (answer later, from the main loop: a zero tmr).
 *
 * Lifetime: libre style.  kefu_ivr_alloc() gives a mem_zalloc'd object;
 * mem_deref() it whenever the call goes away (the caller hangs up): its
 * timers stop and it calls nothing more, not even stop().  After
 * `finished` has been called the IVR does nothing more either; `finished`
 * may mem_deref() the IVR.
 */
#pragma once

#include "kefu-switch-config.h"
#include "kefu-tts.h"

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

struct kefu_ivr;

enum kefu_ivr_outcome {
  KEFU_IVR_QUEUE,       /* the caller goes to result->queue */
  KEFU_IVR_CALLBACK,    /* a callback request was taken, then the flow hung up */
  KEFU_IVR_HANGUP,      /* the flow hung up (including after failed input) */
  KEFU_IVR_FAILED,      /* the IVR could not go on (a prompt could not be spoken,
                         * the driver failed): the core decides, e.g. a default queue */
};

/* What the IVR hands back; strings valid during `finished` only. */
struct kefu_ivr_result {
  enum kefu_ivr_outcome  outcome;
  const char            *queue;            /* QUEUE: a queue of the config */
  const char            *skill;            /* or NULL */
  int                    priority;         /* the queue's priority */
  gint64                 customer_id;      /* the customer found (kefu-server's id), or 0 */
  const char            *callback_number;  /* CALLBACK: the number requested */
  const char            *path;             /* for X-Kefu-Ivr and ivr_path */
  const char            *language;         /* the first language the caller heard */
  int                    err;              /* FAILED: an errno */
};

enum kefu_ivr_lookup_by {
  KEFU_IVR_LOOKUP_PHONE,     /* the caller's number: GET /v1/customers?phone= */
  KEFU_IVR_LOOKUP_ACCOUNT,   /* an account number the caller keyed (customer's account_number) */
};

struct kefu_ivr_driver {
  /* Play `pcm` (8 kHz 16-bit mono, host order; keep a reference while
   * playing) to the caller, then call kefu_ivr_play_done().  Returns 0 or
   * an errno (the IVR then ends FAILED).  At most one playback at a time. */
  int  (*play) (void *arg, GBytes *pcm);
  /* Stop the playback now (barge-in, timeout); no play_done() follows. */
  void (*stop) (void *arg);
  /* Look a customer up in kefu-server, then call kefu_ivr_lookup_done().
   * Optional: NULL means "never found". */
  int  (*lookup_customer) (void *arg, enum kefu_ivr_lookup_by by, const char *value);
  /* Put `number` on kefu-server's callback list (customer_id 0: not identified),
   * then call kefu_ivr_callback_done().  Optional: NULL means it fails. */
  int  (*request_callback) (void *arg, const char *number, gint64 customer_id,
                            const char *path);
  /* The IVR is over. */
  void (*finished) (void *arg, const struct kefu_ivr_result *result);
  /* The time for business hours; NULL: now.  Tests inject a clock. */
  GDateTime *(*now) (void *arg);
};

/* What the IVR knows of the call. */
struct kefu_ivr_call {
  const char *call_id;        /* for log messages */
  const char *caller;         /* the caller's number (From user), maybe NULL */
  const char *const *languages; /* NULL: the trunk's or [switch]'s */
};

/* An IVR for one call, entering `flow` of `config` (it takes a reference
 * to the config, so a reload does not change a running IVR).  `tts`
 * speaks dynamic texts; it must outlive the IVR.  Nothing happens until
 * kefu_ivr_start().  Returns 0, ENOENT if there is no such flow, ENOMEM. */
int  kefu_ivr_alloc (struct kefu_ivr             **ivrp,
                     KefuSwitchConfig             *config,
                     const char                   *flow,
                     KefuTts                      *tts,
                     const struct kefu_ivr_call   *call,
                     const struct kefu_ivr_driver *driver,
                     void                         *arg);

/* Runs the first step (usually plays a prompt).  Once. */
void kefu_ivr_start (struct kefu_ivr *ivr);

/* Entry points for the core. */
void kefu_ivr_digit         (struct kefu_ivr *ivr, char digit);   /* 0-9 * # A-D */
void kefu_ivr_play_done     (struct kefu_ivr *ivr);
/* customer: the customer record as kefu-server returns it (borrowed;
 * "id" and the fields prompts name are read), or NULL: not found.
 * err: 0, or an errno when kefu-server could not be asked (the flow takes
 * the `on not-found` branch all the same, and the path notes it). */
void kefu_ivr_lookup_done   (struct kefu_ivr *ivr, int err, JsonObject *customer);
void kefu_ivr_callback_done (struct kefu_ivr *ivr, int err);

/* The path so far (for a caller who hangs up in the IVR). */
const char *kefu_ivr_path   (const struct kefu_ivr *ivr);
/* The customer id found so far, or 0. */
gint64      kefu_ivr_customer_id (const struct kefu_ivr *ivr);

/* Speaks `prompt` in `languages` (parts of other languages skipped) into
 * one buffer, filling {VAR} placeholders from `vars` (string -> string,
 * may be NULL; a missing one is spoken as nothing): e.g. for the ACD's
 * position announcements with {position} and {wait_min}.  NULL and an
 * errno in *err on failure. */
GBytes *kefu_ivr_render_prompt (const KefuSwitchPrompt *prompt,
                                KefuTts                *tts,
                                const char *const      *languages,
                                GHashTable             *vars,
                                int                    *err);

G_END_DECLS
