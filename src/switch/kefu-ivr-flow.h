/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The parsed form of an [ivr NAME] flow: what kefu-switch-config builds
 * and checks and what kefu-ivr runs.  Only those two include this; the
 * rest of the switch sees a flow as an opaque KefuIvrFlow.  Names are
 * checked at load time: every prompt and hours pointer is set, and every
 * queue, flow and skill named exists.
 */
#pragma once

#include "kefu-switch-config.h"

G_BEGIN_DECLS

typedef enum {
  KEFU_IVR_STEP_PLAY,
  KEFU_IVR_STEP_MENU,
  KEFU_IVR_STEP_COLLECT,
  KEFU_IVR_STEP_HOURS,
  KEFU_IVR_STEP_LOOKUP,
  KEFU_IVR_STEP_CALLBACK,
  KEFU_IVR_STEP_LANGUAGE,
  KEFU_IVR_STEP_SKILL,
  KEFU_IVR_STEP_QUEUE,
  KEFU_IVR_STEP_GOTO,
  KEFU_IVR_STEP_REPEAT,
  KEFU_IVR_STEP_HANGUP,
} KefuIvrStepKind;

/* Where a name was written, to resolve and report it. */
typedef struct {
  char  *name;
  guint  column;
} KefuIvrName;

typedef struct {
  char       *key;       /* MENU: digits, "timeout", "failed"; HOURS: "open", "closed";
                          * LOOKUP: "found", "not-found"; CALLBACK: "ok", "failed";
                          * COLLECT: "failed" */
  GPtrArray  *steps;     /* of KefuIvrStep* */
  guint       line;
} KefuIvrBranch;

typedef struct {
  KefuIvrStepKind          kind;
  char                    *source;         /* the step as written, for messages */
  guint                    line;
  guint                    column;

  /* PLAY */
  GPtrArray               *prompts;        /* of const KefuSwitchPrompt* */
  GArray                  *prompt_names;   /* of KefuIvrName, as written */

  /* MENU, COLLECT */
  const KefuSwitchPrompt  *prompt;
  const KefuSwitchPrompt  *invalid;        /* or NULL */
  const KefuSwitchPrompt  *no_input;       /* or NULL: the invalid one */
  guint                    timeout_ms;     /* first digit */
  guint                    inter_digit_ms;
  guint                    total_ms;       /* whole input, from the prompt's end; 0: none */
  guint                    retries;        /* asked again at most this many times */
  guint                    min_digits;     /* COLLECT */
  guint                    max_digits;     /* MENU: longest option */
  char                     terminator;     /* COLLECT: '#' by default, '\0' for none */
  gboolean                 barge_in;
  char                    *var;            /* COLLECT: the variable set;
                                            * LOOKUP (account), CALLBACK: the one read, or NULL */

  /* HOURS */
  const KefuSwitchHours   *hours;

  /* LOOKUP */
  gboolean                 by_account;

  /* LANGUAGE */
  char                   **languages;

  /* SKILL: the skill; QUEUE: the queue; GOTO: the flow */
  char                    *name;
  char                    *skill;          /* QUEUE skill=, or NULL */

  GPtrArray               *branches;       /* of KefuIvrBranch*; may be empty */

  /* names as written, resolved in the checking pass: PROMPT/HOURS/QUEUE/
   * GOTO/SKILL name, invalid, no-input, the variable read, skill= */
  KefuIvrName              refs[5];
} KefuIvrStep;

struct _KefuIvrFlow {
  char       *name;
  GPtrArray  *steps;     /* of KefuIvrStep* */
  guint       line;
};

/* The branch of `step` for `key`, or NULL. */
const KefuIvrBranch *kefu_ivr_step_get_branch (const KefuIvrStep *step,
                                               const char        *key);

G_END_DECLS
