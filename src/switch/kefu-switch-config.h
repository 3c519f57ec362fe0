/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The configuration file of kefu-switch: where it listens, how it reaches
 * kefu-server, its trunks, queues, business hours, prompts and IVR flows.
 *
 * kefu_switch_config_load() reads and checks the whole file and returns a
 * new, immutable, reference-counted KefuSwitchConfig.  A reload loads the
 * file again into a second object: the core swaps its pointer, calls
 * already in an IVR or a queue keep a reference to the object they started
 * with (kefu_switch_config_ref()), so a reload never disturbs a call.
 * Nothing in a loaded config changes afterwards, except that
 * kefu_switch_config_render_prompts() fills the prompts' audio once, on the
 * thread that loaded it, before the config is used.
 *
 * Errors name the file as it was given, the line (and the column where it
 * helps), what is wrong and what is allowed, one error per line of the
 * GError's message, sorted by line; every error of the file is reported,
 * not only the first:
 *
 *   kefu-switch.conf:42: unknown queue "sles" in "queue sles" (queues: sales, support)
 *
 * The format: UTF-8 text, one setting or one IVR step per line; a line
 * whose first character is `#` is a comment, and so is the rest of a line
 * from a `#` after a blank (except a prompt's text, and the key of an
 * `on #` line); blank lines and indentation do not matter.
 * `[KIND NAME]` opens a section; names are [a-z0-9._-], at most 64
 * characters, unique per kind.  Durations are seconds (decimals allowed:
 * 0.5).  Relative paths are relative to the folder of the config file.
 * A complete example (data/kefu-switch.conf is the demo):
 *
 *   [switch]
 *   listen = 0.0.0.0:5060             # SIP, UDP and TCP
 *   rtp-ports = 20000-29999           # RTP even, RTCP odd; 4 ports a bridged call
 *   realm = kefu.example.com          # digest realm of agents and trunks
 *   server = http://127.0.0.1:8080    # kefu-server
 *   credentials = switch.credentials  # file: one line "user:password", the service account
 *   spool = /var/spool/kefu-switch    # events waiting for kefu-server
 *   recordings = /var/lib/kefu-switch/recordings
 *   prompts = prompts                 # folder of the WAV prompts
 *   language = zh, en                 # prompts are spoken in these, in this order
 *
 *   [trunk carrier]
 *   allow = 127.0.0.1, 10.1.0.0/16    # by source address (CIDR) ...
 *   # username = carrier              # ... or by digest (both may be given)
 *   # password = secret
 *   dtmf = auto                       # rfc4733, info, inband or auto
 *   ivr = main                        # the flow callers from this trunk enter
 *   gateway = sip:gw.example.net      # optional: agents' outside calls go there
 *                                     # (username/password answer its
 *                                     # challenge, dtmf is used towards it)
 *   outbound-prefixes = +86, 0086     # optional: the numbers this gateway takes
 *                                     # (see "Outside calls" below)
 *   # language = en                   # optional: overrides [switch] language
 *
 *   [queue sales]
 *   strategy = longest-idle           # ring-all, longest-idle, round-robin,
 *                                     # fewest-calls, least-talk-time, skills-based
 *   ring-timeout = 20                 # then the next agent
 *   max-no-answer = 3                 # unanswered offers in a row before Not ready (0: never)
 *   wrap-up = 30
 *   max-wait = 300                    # then overflow (0: wait for ever)
 *   overflow = support                # another queue, or "callback" (the callback list)
 *   # overflow-prompt = callback-booked  # overflow = callback: what the caller hears
 *                                     # before the switch hangs up (default: "your
 *                                     # call-back is booked", spoken in the call's
 *                                     # languages)
 *   music = hold-music                # a prompt, looped while waiting
 *   waiting-prompt = queue-position   # a prompt, every announce-every seconds
 *   announce-every = 60               # (0: never)
 *   recording = on                    # the caller's line, one stereo WAV per call
 *   priority = 5                      # 0-100: higher is served first by shared agents
 *   skills = english, vip             # skills an IVR may ask for in this queue
 *   # retry = 2                       # pause once every agent declined (default: the ACD's)
 *   # default-aht = 180               # handle time for wait estimates before any call
 *
 *   [hours office]
 *   timezone = Asia/Shanghai
 *   mon-fri = 09:00-18:00             # days: mon tue wed thu fri sat sun, or a range
 *   sat = 09:00-12:00, 13:00-17:00
 *   sun = closed
 *   holiday = 2026-10-01..2026-10-07  # closed all day; repeatable
 *   holiday = 2027-01-01
 *
 *   # A prompt: its parts play in the order written.  wav: a WAV in the
 *   # prompts folder, for any language; zh, en: text spoken in that
 *   # language (the text runs to the end of the line: no comment there);
 *   # zh-wav, en-wav: a recording for one language.  Only the parts in
 *   # the call's languages (and wav) are played.
 *   [prompt welcome]
 *   wav = chime.wav
 *   zh = 您好，欢迎致电客服中心。
 *   en = Welcome to the Kefu contact centre.
 *
 *   [prompt greet-customer]           # {customer.FIELD} and {VAR} are filled in per call
 *   zh = {customer.name}，您好。
 *   en = Hello, {customer.name}.
 *
 *   [ivr main]                        # a flow: steps, one per line, run in order
 *   play welcome
 *   hours office                      # business-hours branch
 *     on closed goto after-hours
 *   lookup caller                     # in kefu-server, by the caller's number
 *     on found play greet-customer
 *   goto main-menu
 *
 *   [ivr main-menu]
 *   menu main-menu-prompt timeout=5 retries=3 invalid=invalid-choice no-input=no-choice
 *     on 1 queue sales
 *     on 2 queue support skill=english
 *     on 0 queue operator
 *     on 9 play fax-coming; repeat    # `repeat` runs the menu again
 *     on failed queue operator        # after the retries (default: hang up)
 *
 *   [ivr account]
 *   collect account account-prompt min=6 max=10 terminator=# timeout=8 retries=2
 *   lookup account {account}
 *     on found play read-name; queue sales
 *     on not-found play unknown-account; goto account
 *
 *   [ivr after-hours]
 *   collect number callback-prompt min=5 max=15 terminator=#
 *   callback {number}                 # to kefu-server's callback list
 *     on failed play sorry
 *   play callback-thanks
 *   hangup
 *
 * Outside calls.  A registered agent dialling a number that is neither an
 * extension nor queue-NAME (and a blind transfer to such a number) leaves
 * through a trunk's gateway: the trunk whose outbound-prefixes hold the
 * longest prefix of the number as dialled, else the first trunk (file
 * order) that has a gateway.  A prefix is digits, with a leading + for
 * numbers dialled with one ("+86" and "0086" are different prefixes);
 * one prefix belongs to one trunk, and a trunk with prefixes needs a
 * gateway.
 *
 * Recording (recording = on): from the first time an agent answers until
 * the call ends, whatever happens between (hold, transfers, another
 * queue), into one WAV named after the call in the recordings folder, the
 * one the CDR names: 8 kHz stereo, the left channel what the caller
 * hears (the agents, hold music, announcements), the right channel the
 * caller, as the switch's leg to the caller has them.
 *
 * Steps (the words after a step are its arguments; NAME=VALUE its options):
 *   play PROMPT...            plays prompts; digits pressed meanwhile are kept
 *                             for the next menu or collect (type-ahead)
 *   menu PROMPT [timeout=S] [inter-digit=S] [total=S] [retries=N]
 *        [invalid=PROMPT] [no-input=PROMPT] [barge-in=yes|no]
 *                             plays PROMPT and waits for one of its `on DIGITS`
 *                             options; wrong or no input plays the invalid /
 *                             no-input prompt and asks again, at most retries
 *                             times (default 2), then runs `on failed` (or
 *                             hangs up); `on timeout` catches no input at once
 *   collect VAR PROMPT [min=N] [max=N] [terminator=#|*|none] [timeout=S]
 *        [inter-digit=S] [total=S] [retries=N] [invalid=PROMPT]
 *        [no-input=PROMPT] [barge-in=yes|no]
 *                             collects digits into {VAR}: ends at the
 *                             terminator (default #), at max digits (default
 *                             20), or inter-digit seconds after a digit;
 *                             fewer than min is invalid input
 *   Input times: timeout (default 5) waits for the first digit once the
 *   prompt has played, inter-digit (default 3) for each next one, total
 *   (default none) for the whole input.  barge-in (default yes): a digit
 *   stops the prompt.  retries default 2.
 *   hours HOURS               `on open ...` / `on closed ...`
 *   lookup caller | lookup account {VAR}
 *                             `on found ...` / `on not-found ...`
 *   callback [{VAR}]          a callback request to {VAR} (default: the
 *                             caller's number); `on ok` / `on failed`
 *   language zh|en|zh, en     the languages prompts are spoken in from now on
 *   skill SKILL               the skill the next queue step asks for
 *   queue QUEUE [skill=SKILL] ends the IVR: the caller joins QUEUE
 *   goto FLOW                 continues in another flow
 *   repeat                    (in an `on` line) runs the branching step again
 *   hangup                    ends the call
 * An `on` line belongs to the step above it and runs its steps (separated
 * by `;`); unless they end the IVR, go elsewhere or repeat, the flow then
 * continues after the branching step.  Running off the end of a flow hangs
 * up.
 *
 * Used by the core (loading, trunks, the [switch] settings), the ACD
 * (queues) and kefu-ivr (prompts, hours, flows), all on the switch's one
 * re_main thread.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define KEFU_SWITCH_CONFIG_ERROR (kefu_switch_config_error_quark ())

typedef enum {
  KEFU_SWITCH_CONFIG_ERROR_FILE,     /* the file itself cannot be read */
  KEFU_SWITCH_CONFIG_ERROR_INVALID,  /* one or more lines are wrong: see the message */
} KefuSwitchConfigError;

GQuark kefu_switch_config_error_quark (void);

typedef enum {
  KEFU_SWITCH_DTMF_RFC4733,
  KEFU_SWITCH_DTMF_INFO,
  KEFU_SWITCH_DTMF_INBAND,
  KEFU_SWITCH_DTMF_AUTO,
} KefuSwitchDtmfMode;

/* In the order of the ACD's enum kefu_acd_strategy, value for value. */
typedef enum {
  KEFU_SWITCH_STRATEGY_RING_ALL,
  KEFU_SWITCH_STRATEGY_LONGEST_IDLE,
  KEFU_SWITCH_STRATEGY_ROUND_ROBIN,
  KEFU_SWITCH_STRATEGY_FEWEST_CALLS,
  KEFU_SWITCH_STRATEGY_LEAST_TALK_TIME,
  KEFU_SWITCH_STRATEGY_SKILLS_BASED,
} KefuSwitchStrategy;

/* Value for value the ACD's enum kefu_acd_overflow. */
typedef enum {
  KEFU_SWITCH_OVERFLOW_NONE,      /* wait until answered or abandoned */
  KEFU_SWITCH_OVERFLOW_QUEUE,     /* to overflow_queue */
  KEFU_SWITCH_OVERFLOW_CALLBACK,  /* to kefu-server's callback list */
} KefuSwitchOverflow;

/* "rfc4733", "ring-all" ...: the words of the file */
const char *kefu_switch_dtmf_mode_to_string (KefuSwitchDtmfMode mode);
const char *kefu_switch_strategy_to_string  (KefuSwitchStrategy strategy);

typedef struct _KefuSwitchPrompt KefuSwitchPrompt;
typedef struct _KefuIvrFlow      KefuIvrFlow;      /* kefu-ivr-flow.h; for kefu-ivr only */

/* [switch].  Paths are absolute (made so from the config's folder). */
typedef struct {
  char     *listen;            /* "ADDRESS:PORT"; default "0.0.0.0:5060" */
  guint16   rtp_port_min;      /* default 20000-29999; min even, max >= min + 1 */
  guint16   rtp_port_max;
  char     *realm;             /* default: the host name */
  char     *server_url;        /* "http(s)://..."; required */
  char     *credentials_file;  /* required; not read by the loader (the core reads it) */
  char     *spool_dir;         /* default /var/spool/kefu-switch */
  char     *recordings_dir;    /* default /var/lib/kefu-switch/recordings */
  char     *prompts_dir;       /* default KEFU_DATADIR/prompts; must exist */
  char    **languages;         /* NULL-terminated, non-empty: "zh", "en"; default {"zh"} */
} KefuSwitchSettings;

/* [trunk NAME]: at least one of allow and username/password. */
typedef struct {
  char               *name;
  GPtrArray          *allow;       /* of GInetAddressMask*; may be empty */
  char               *username;    /* NULL, or with password: digest auth */
  char               *password;
  KefuSwitchDtmfMode  dtmf;        /* default auto */
  char               *ivr;         /* the flow callers enter; required, checked */
  char               *gateway;     /* "sip:..." or NULL: no outbound calls */
  char              **outbound_prefixes;  /* NULL-terminated, maybe empty: numbers
                                           * starting so leave here */
  char              **languages;   /* NULL-terminated; the [switch] ones unless set */
  guint               line;
} KefuSwitchTrunk;

/* [queue NAME].  Durations in milliseconds. */
typedef struct {
  char                   *name;
  KefuSwitchStrategy      strategy;         /* default longest-idle */
  guint                   ring_timeout_ms;  /* default 20 s */
  guint                   max_no_answer;    /* default 3; 0: never Not ready */
  guint                   wrapup_ms;        /* default 0 */
  guint                   max_wait_ms;      /* default 0: no limit */
  KefuSwitchOverflow      overflow;         /* NONE unless max-wait and overflow set */
  char                   *overflow_queue;   /* OVERFLOW_QUEUE: an existing other queue */
  const KefuSwitchPrompt *overflow_prompt;  /* OVERFLOW_CALLBACK: before the hang-up;
                                             * the built-in one unless set */
  const KefuSwitchPrompt *music;            /* or NULL: silence */
  const KefuSwitchPrompt *waiting_prompt;   /* or NULL; may use {position} {wait_min} */
  guint                   announce_ms;      /* default 0: no announcements */
  guint                   retry_ms;         /* pause before offering again once every
                                             * agent declined; default 0: the ACD's */
  guint                   default_aht_ms;   /* handle time for estimates before any
                                             * call; default 0: the ACD's */
  gboolean                recording;        /* default off */
  int                     priority;         /* 0-100, default 0 */
  char                  **skills;           /* NULL-terminated, maybe empty */
  guint                   line;
} KefuSwitchQueue;

/* [hours NAME] */
typedef struct {
  guint16 start_min;   /* minutes since midnight, local time */
  guint16 end_min;     /* exclusive; 1440 for 24:00 */
} KefuSwitchTimeRange;

typedef struct {
  char       *name;
  char       *timezone;      /* as written; default "UTC" */
  GTimeZone  *tz;
  GArray     *days[7];       /* of KefuSwitchTimeRange; [0] is Monday; empty: closed */
  GArray     *holidays;      /* of KefuSwitchDateRange */
  guint       line;
} KefuSwitchHours;

typedef struct {
  guint32 first_julian;      /* g_date_get_julian(), inclusive */
  guint32 last_julian;
} KefuSwitchDateRange;

/* Whether `when` (any time zone) falls in the opening hours, in the
 * hours' own time zone; a holiday closes the whole local day. */
gboolean kefu_switch_hours_is_open (const KefuSwitchHours *hours,
                                    GDateTime             *when);

/* [prompt NAME]: parts played in the order written. */
typedef enum {
  KEFU_SWITCH_PROMPT_PART_WAV,    /* path, pcm loaded at load time */
  KEFU_SWITCH_PROMPT_PART_TEXT,   /* text spoken by kefu-tts */
} KefuSwitchPromptPartKind;

typedef struct {
  KefuSwitchPromptPartKind  kind;
  char                     *language;  /* "zh", "en", or NULL: played whatever the language */
  char                     *path;      /* WAV: absolute */
  char                     *text;      /* TEXT: may hold {customer.FIELD} and {VAR} */
  gboolean                  dynamic;   /* text has placeholders: spoken per call */
  GBytes                   *pcm;       /* 8 kHz 16-bit mono, host order; WAV parts at load,
                                        * fixed texts after kefu_switch_config_render_prompts() */
  guint                     line;
} KefuSwitchPromptPart;

struct _KefuSwitchPrompt {
  char       *name;
  GPtrArray  *parts;         /* of KefuSwitchPromptPart* */
  guint       line;
};

typedef struct {
  char                *path;       /* as given to _load() */
  KefuSwitchSettings   settings;
  GPtrArray           *trunks;     /* of KefuSwitchTrunk*, in file order */
  GPtrArray           *queues;     /* of KefuSwitchQueue* */
  GPtrArray           *hours;      /* of KefuSwitchHours* */
  GPtrArray           *prompts;    /* of KefuSwitchPrompt* */
  GPtrArray           *flows;      /* of KefuIvrFlow* */

  /*< private >*/
  KefuSwitchPrompt    *callback_booked;   /* the default overflow-prompt, or NULL */
  gatomicrefcount      ref_count;
  GHashTable          *by_name[5];
} KefuSwitchConfig;

/* Reads and checks `path`.  On success *config_out holds a new reference.
 * WAV prompts are loaded (and converted to 8 kHz) here; prompt languages
 * are checked against the installed espeak-ng voices. */
gboolean          kefu_switch_config_load   (const char         *path,
                                             KefuSwitchConfig  **config_out,
                                             GError            **error);
/* The same from text in memory; `path` is only used in messages and to
 * resolve relative paths. */
gboolean          kefu_switch_config_load_data (const char         *path,
                                                const char         *data,
                                                gsize               length,
                                                KefuSwitchConfig  **config_out,
                                                GError            **error);

KefuSwitchConfig *kefu_switch_config_ref    (KefuSwitchConfig   *self);
void              kefu_switch_config_unref  (KefuSwitchConfig   *self);

/* Look-ups by name; NULL when there is none. */
const KefuSwitchTrunk  *kefu_switch_config_get_trunk  (const KefuSwitchConfig *self, const char *name);
const KefuSwitchQueue  *kefu_switch_config_get_queue  (const KefuSwitchConfig *self, const char *name);
const KefuSwitchHours  *kefu_switch_config_get_hours  (const KefuSwitchConfig *self, const char *name);
const KefuSwitchPrompt *kefu_switch_config_get_prompt (const KefuSwitchConfig *self, const char *name);
const KefuIvrFlow      *kefu_switch_config_get_flow   (const KefuSwitchConfig *self, const char *name);

/* The first trunk (file order) whose allow-list holds `address` (an IP
 * address as text, v4 or v6), or NULL. */
const KefuSwitchTrunk  *kefu_switch_config_find_trunk_by_address (const KefuSwitchConfig *self,
                                                                  const char             *address);
/* The trunk with this digest username, or NULL. */
const KefuSwitchTrunk  *kefu_switch_config_find_trunk_by_username (const KefuSwitchConfig *self,
                                                                   const char             *username);
/* The trunk an outside call to `number` leaves through: the longest of the
 * trunks' outbound-prefixes that starts the number, else the first trunk
 * with a gateway; NULL when no trunk has a gateway. */
const KefuSwitchTrunk  *kefu_switch_config_outbound_trunk (const KefuSwitchConfig *self,
                                                           const char             *number);

/* Speaks every fixed text part of every prompt into its `pcm` with `tts`
 * (a KefuTts, from kefu-tts.h; its cache keeps them for the next reload).
 * Call once after loading, before the config is used by calls.  Takes
 * some tens of milliseconds per sentence. */
typedef struct _KefuTts KefuTts;
gboolean          kefu_switch_config_render_prompts (KefuSwitchConfig *self,
                                                     KefuTts          *tts,
                                                     GError          **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KefuSwitchConfig, kefu_switch_config_unref)

G_END_DECLS
