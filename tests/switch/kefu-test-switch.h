/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The world of a kefu-switch end-to-end test: a real kefu-server process
 * (tests/server/kefu-test-server.h), the kefu-switch binary (env
 * KEFU_SWITCH) started with a config written by the test, beep prompts in
 * a temporary folder, and helpers to set agents up through the REST API
 * and to read back what the switch reported (call records, events,
 * callbacks).  The phones are kefu-test-peer.h's kefu-phones, sipp or
 * baresip, started by each test.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "kefu-test-peer.h"
#include "kefu-test-server.h"

G_BEGIN_DECLS

#define KEFU_TEST_SIP_PASSWORD "sip-secret-1"
#define KEFU_TEST_REALM "kefu.test"

typedef struct {
  KefuTestServer *server;
  char *admin;                 /* token */
  char *dir;
  char *prompts;               /* folder of the WAV prompts */
  char *config_path;
  char *recordings;
  char *creds;
  guint16 sip_port;
  GSubprocess *sw;
  GDataInputStream *sw_out;
  gboolean sw_ready;
  GPtrArray *sw_lines;         /* what kefu-switch printed (char *) */
} KefuTestSwitch;

/* Starts kefu-server (@server_extra: more of its INI, or NULL), makes the
 * folders, the prompts welcome.wav (440 Hz, 0.6 s) and music.wav (300 Hz,
 * 1 s), the service credentials, and picks the SIP port. */
void        kefu_test_switch_setup        (KefuTestSwitch *f, const char *server_extra);
/* Stops the switch (if running) and the server; frees everything. */
void        kefu_test_switch_teardown     (KefuTestSwitch *f);

/* A beep prompt: @seconds of @freq Hz in the prompts folder. */
void        kefu_test_switch_write_prompt (KefuTestSwitch *f, const char *name, double freq,
                                           double seconds);
/* Writes the config: the [switch] section, then @sections as given. */
void        kefu_test_switch_write_config (KefuTestSwitch *f, const char *sections);
void        kefu_test_switch_start        (KefuTestSwitch *f);
/* SIGTERM; it must exit 0. */
void        kefu_test_switch_stop         (KefuTestSwitch *f);
/* Whether kefu-switch printed a line holding @text so far. */
gboolean    kefu_test_switch_logged       (KefuTestSwitch *f, const char *text);
/* Runs the main context until it has (20 s at most). */
void        kefu_test_switch_wait_logged  (KefuTestSwitch *f, const char *text);

/* An agent in kefu-server: created when @username is not a test user,
 * with @extension, skills (JSON object text, queue -> proficiency) and
 * the SIP password, and set available. */
void        kefu_test_switch_agent        (KefuTestSwitch *f, const char *username,
                                           const char *extension, const char *skills);
/* PUT /v1/agents/{username}/state as the admin; @reason NULL unless
 * not_ready. */
void        kefu_test_switch_agent_state  (KefuTestSwitch *f, const char *username,
                                           const char *state, const char *reason);
/* GET /v1/agents/{username}: new reference. */
JsonObject *kefu_test_switch_get_agent    (KefuTestSwitch *f, const char *username);
/* "--account=sip:EXT@127.0.0.1:PORT;password=..." for a kefu-phone */
char       *kefu_test_switch_account      (KefuTestSwitch *f, const char *extension);
/* The simplest call through a started switch whose trunk allows
 * 127.0.0.2 and rings extension 1001: @agent registers as 1001 and
 * answers by itself, @caller dials from 127.0.0.2; both phones are up
 * (RFC 4733 DTMF, tones @agent_tone and @caller_tone) when it returns the
 * call's X-Kefu-Call id. */
char       *kefu_test_switch_bridge_one   (KefuTestSwitch *f, KefuTestPeer *agent,
                                           double agent_tone, KefuTestPeer *caller,
                                           double caller_tone);

/* The CDR of @call_id once kefu-server has it (waits up to 20 s). */
JsonObject *kefu_test_switch_wait_call_record (KefuTestSwitch *f, const char *call_id);
/* kefu-server's events (new reference, oldest first), all of them. */
JsonArray  *kefu_test_switch_events       (KefuTestSwitch *f);
/* The event types logged for a call, in order, "a,b,c". */
char       *kefu_test_switch_call_event_types (KefuTestSwitch *f, const char *call_id);
/* The first event of @type for @call_id (new reference), waiting up to
 * 20 s for it. */
JsonObject *kefu_test_switch_wait_event   (KefuTestSwitch *f, const char *call_id,
                                           const char *type);
/* How many times @text occurs in @haystack's comma-separated list. */
guint       kefu_test_switch_count        (const char *list, const char *item);

/* The starts (seconds from the beginning) of the stretches of at least
 * @min_s where @freq dominates channel @channel of a WAV. */
GArray     *kefu_test_tone_onsets         (const char *path, guint channel, double freq,
                                           double min_s);
/* The ends of the same stretches. */
GArray     *kefu_test_tone_ends           (const char *path, guint channel, double freq,
                                           double min_s);
/* The X-Kefu-* headers of an "incoming" event of kefu-phone. */
const char *kefu_test_header              (JsonObject *incoming, const char *name);

/* Runs the main context for @ms (keeps the phones' output flowing). */
void        kefu_test_sleep_ms            (guint ms);

G_END_DECLS
