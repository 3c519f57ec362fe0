/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The `pulse` audio back-end on libpulse's asynchronous API and one shared
 * pa_threaded_mainloop.  Everything that touches a pa_ object holds the
 * loop's lock (callbacks run with it held); the phone thread's per-frame
 * calls touch only their ring.
 *
 * Built as the module kefu-audio-pulse.so, which the library loads when
 * sound is first asked for (kefu-audio-pulse-module.h): it exports its
 * table and nothing else, and calls nothing in the library.
 */
#define G_LOG_DOMAIN "KefuAudioPulse"

#include "config.h"

#include "kefu-audio-pulse-module.h"
#include "kefu-io-error.h"

#include <glib/gi18n-lib.h>
#include <gmodule.h>
#include <pulse/pulseaudio.h>

#include <stdatomic.h>
#include <string.h>

enum {
  RATE                = KEFU_AUDIO_RATE,
  WAIT_MS             = 3000,  /* for the server to answer a connect, open or query */
  RING_SAMPLES        = 4096,  /* 512 ms at 8 kHz; a power of two */
  /* playback: what the server is asked to keep queued, to start playing
   * with, and to ask for more at a time; it may adjust them */
  PLAY_TARGET_MS      = 60,
  PLAY_PREBUF_MS      = 40,
  PLAY_REQUEST_MS     = 20,
  /* how often the ring is looked at besides when the server asks */
  PLAY_PUSH_MS        = 10,
  /* more than this waiting in a ring is latency, not jitter: cut it */
  BACKLOG_MS          = 120,
  CAPTURE_FRAGMENT_MS = 20,
  /* capture holds this much back before handing out audio again after it
   * ran dry, so the next tick does not find it empty again */
  CAPTURE_PRIME_MS    = 40,
  PLAYER_TARGET_MS    = 100,
  CHUNK_SAMPLES       = 1024,
};

G_STATIC_ASSERT ((RING_SAMPLES & (RING_SAMPLES - 1)) == 0);

static size_t
ms_to_samples (unsigned ms, unsigned rate)
{
  return (size_t) ms * rate / 1000;
}

/* --- ring: one producer thread, one consumer thread, no lock ------------ */

struct ring {
  int16_t       samples[RING_SAMPLES];
  atomic_size_t put;    /* samples ever put: the producer's */
  atomic_size_t taken;  /* samples ever taken: the consumer's */
};

/* Producer.  NULL samples put silence.  Returns how many fitted. */
static size_t
ring_put (struct ring *r, const int16_t *samples, size_t n)
{
  size_t put = atomic_load_explicit (&r->put, memory_order_relaxed);
  size_t taken = atomic_load_explicit (&r->taken, memory_order_acquire);

  n = MIN (n, RING_SAMPLES - (put - taken));
  for (size_t i = 0; i < n; i++)
    r->samples[(put + i) & (RING_SAMPLES - 1)] = samples ? samples[i] : 0;
  atomic_store_explicit (&r->put, put + n, memory_order_release);

  return n;
}

/* Consumer. */
static size_t
ring_available (struct ring *r)
{
  return atomic_load_explicit (&r->put, memory_order_acquire) -
    atomic_load_explicit (&r->taken, memory_order_relaxed);
}

/* Consumer: n <= ring_available(); NULL samples skips. */
static void
ring_take (struct ring *r, int16_t *samples, size_t n)
{
  size_t taken = atomic_load_explicit (&r->taken, memory_order_relaxed);

  if (samples)
    for (size_t i = 0; i < n; i++)
      samples[i] = r->samples[(taken + i) & (RING_SAMPLES - 1)];
  atomic_store_explicit (&r->taken, taken + n, memory_order_release);
}

/* Consumer: drops all but the newest `keep` samples when more than
 * BACKLOG_MS wait; returns what is left. */
static size_t
ring_trim (struct ring *r, size_t keep)
{
  size_t have = ring_available (r);

  if (have <= ms_to_samples (BACKLOG_MS, RATE))
    return have;
  g_debug ("%zu ms behind: dropping %zu ms", have * 1000 / RATE, (have - keep) * 1000 / RATE);
  ring_take (r, NULL, have - keep);

  return keep;
}

/* --- the shared connection --------------------------------------------- */

struct connection {
  int                   refs;    /* under the `shared` lock */
  pa_threaded_mainloop *loop;
  pa_context           *ctx;
  bool                  started; /* the loop's thread runs */
  /* under the loop's lock */
  bool                  ready;   /* was connected */
  bool                  lost;    /* and the server went away since */
};

/* The live connection new users join; not a reference: its last user
 * clears it. */
G_LOCK_DEFINE_STATIC (shared);
static struct connection *shared;

static void
set_unreachable (GError **error, int pa_error)
{
  const char *server = g_getenv ("PULSE_SERVER");

  if (server && *server)
    g_set_error (error, KEFU_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED,
                 _("Cannot reach the sound server “%s” named by PULSE_SERVER: %s"),
                 server, pa_strerror (pa_error));
  else
    g_set_error (error, KEFU_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED,
                 _("Cannot reach the sound server (%s): is PulseAudio or PipeWire running? "
                   "PULSE_SERVER can name another one."),
                 pa_strerror (pa_error));
}

static void
set_timed_out (GError **error)
{
  g_set_error_literal (error, KEFU_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                       _("The sound server did not answer in time"));
}

static void
set_lost (GError **error, int pa_error)
{
  g_set_error (error, KEFU_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
               _("The sound server went away: %s"), pa_strerror (pa_error));
}

static void
on_context_state (pa_context *ctx, void *userdata)
{
  struct connection *c = userdata;

  switch (pa_context_get_state (ctx))
    {
    case PA_CONTEXT_READY:
      c->ready = true;
      break;
    case PA_CONTEXT_FAILED:
      if (c->ready && !c->lost)
        g_message ("lost the sound server (%s): calls go on without sound",
                   pa_strerror (pa_context_errno (ctx)));
      c->lost = c->ready;
      break;
    default:
      return;
    }
  pa_threaded_mainloop_signal (c->loop, 0);
}

/* A bound on every wait for the server (the loop's lock held). */
struct deadline {
  pa_threaded_mainloop *loop;
  pa_time_event        *event;
  bool                  passed;
};

static void
on_deadline (pa_mainloop_api *api, pa_time_event *e, const struct timeval *tv, void *userdata)
{
  struct deadline *d = userdata;

  d->passed = true;
  pa_threaded_mainloop_signal (d->loop, 0);
}

static void
deadline_start (struct deadline *d, struct connection *c)
{
  d->loop = c->loop;
  d->passed = false;
  d->event = pa_context_rttime_new (c->ctx, pa_rtclock_now () + WAIT_MS * PA_USEC_PER_MSEC,
                                    on_deadline, d);
}

static void
deadline_end (struct deadline *d, struct connection *c)
{
  pa_mainloop_api *api = pa_threaded_mainloop_get_api (c->loop);

  if (d->event)
    api->time_free (d->event);
  d->event = NULL;
}

/* The loop's thread is stopped and everything freed: the last user, never
 * that thread itself. */
static void
connection_close (struct connection *c)
{
  pa_threaded_mainloop_lock (c->loop);
  pa_context_set_state_callback (c->ctx, NULL, NULL);
  pa_context_disconnect (c->ctx);
  pa_threaded_mainloop_unlock (c->loop);
  if (c->started)
    pa_threaded_mainloop_stop (c->loop);
  pa_context_unref (c->ctx);
  pa_threaded_mainloop_free (c->loop);
  g_free (c);
}

static struct connection *
connection_new (GError **error)
{
  struct connection *c = g_new0 (struct connection, 1);
  pa_proplist *props = pa_proplist_new ();
  struct deadline d;
  pa_context_state_t state;
  int err = 0;

  c->refs = 1;
  c->loop = pa_threaded_mainloop_new ();
  pa_threaded_mainloop_set_name (c->loop, "kefu-pulse");

  pa_proplist_sets (props, PA_PROP_APPLICATION_NAME, "Kefu");
  pa_proplist_sets (props, PA_PROP_APPLICATION_ID, "org.kefu.Kefu");
  pa_proplist_sets (props, PA_PROP_APPLICATION_ICON_NAME, "org.kefu.Kefu");
  pa_proplist_sets (props, PA_PROP_APPLICATION_VERSION, PACKAGE_VERSION);
  c->ctx = pa_context_new_with_proplist (pa_threaded_mainloop_get_api (c->loop), "Kefu", props);
  pa_proplist_free (props);
  pa_context_set_state_callback (c->ctx, on_context_state, c);

  /* A desktop's server is started by systemd socket activation or the
   * session; one spawned by us would have no devices the agent chose. */
  if (pa_context_connect (c->ctx, NULL, PA_CONTEXT_NOAUTOSPAWN, NULL) == 0)
    c->started = pa_threaded_mainloop_start (c->loop) == 0;
  if (!c->started)
    {
      set_unreachable (error, pa_context_errno (c->ctx));
      connection_close (c);
      return NULL;
    }

  pa_threaded_mainloop_lock (c->loop);
  deadline_start (&d, c);
  for (;;)
    {
      state = pa_context_get_state (c->ctx);
      if (state == PA_CONTEXT_READY || !PA_CONTEXT_IS_GOOD (state) || d.passed)
        break;
      pa_threaded_mainloop_wait (c->loop);
    }
  deadline_end (&d, c);
  err = pa_context_errno (c->ctx);
  if (state == PA_CONTEXT_READY)
    g_debug ("connected to %s", pa_context_get_server (c->ctx));
  pa_threaded_mainloop_unlock (c->loop);

  if (state == PA_CONTEXT_READY)
    return c;

  if (PA_CONTEXT_IS_GOOD (state))
    set_timed_out (error);
  else
    set_unreachable (error, err);
  connection_close (c);

  return NULL;
}

/* The live connection, or a new one: a reference. */
static struct connection *
connection_get (GError **error)
{
  struct connection *c;

  G_LOCK (shared);
  if (shared)
    {
      bool lost;

      pa_threaded_mainloop_lock (shared->loop);
      lost = shared->lost;
      pa_threaded_mainloop_unlock (shared->loop);
      if (!lost)
        {
          shared->refs++;
          c = shared;
          G_UNLOCK (shared);
          return c;
        }
      /* its users keep it until they go; new ones get a new one */
      shared = NULL;
    }
  c = connection_new (error);
  shared = c;
  G_UNLOCK (shared);

  return c;
}

static void
connection_unref (struct connection *c)
{
  bool last;

  G_LOCK (shared);
  last = --c->refs == 0;
  if (last && shared == c)
    shared = NULL;
  G_UNLOCK (shared);

  if (last)
    connection_close (c);
}

static void
on_operation_state (pa_operation *op, void *userdata)
{
  pa_threaded_mainloop_signal (userdata, 0);
}

/* Waits for `op` (which it unrefs) to complete; the loop's lock held. */
static gboolean
connection_await (struct connection *c, pa_operation *op, GError **error)
{
  struct deadline d;
  pa_operation_state_t state;

  if (!op)
    {
      set_lost (error, pa_context_errno (c->ctx));
      return FALSE;
    }

  pa_operation_set_state_callback (op, on_operation_state, c->loop);
  deadline_start (&d, c);
  while ((state = pa_operation_get_state (op)) == PA_OPERATION_RUNNING && !d.passed)
    pa_threaded_mainloop_wait (c->loop);
  deadline_end (&d, c);

  pa_operation_set_state_callback (op, NULL, NULL);
  if (state == PA_OPERATION_RUNNING)
    {
      pa_operation_cancel (op);
      set_timed_out (error);
    }
  else if (state == PA_OPERATION_CANCELLED)
    set_lost (error, pa_context_errno (c->ctx));
  pa_operation_unref (op);

  return state == PA_OPERATION_DONE;
}

static void
on_sink_found (pa_context *ctx, const pa_sink_info *info, int eol, void *userdata)
{
  if (!eol && info)
    *(bool *) userdata = true;
}

static void
on_source_found (pa_context *ctx, const pa_source_info *info, int eol, void *userdata)
{
  if (!eol && info)
    *(bool *) userdata = true;
}

/* Asked for, rather than left to the stream's connect to fail on: Pulse
 * servers differ in whether a missing device is an error or the default. */
static gboolean
connection_check_device (struct connection *c, bool is_sink, const char *device,
                         GError **error)
{
  bool found = false;
  pa_operation *op = is_sink
    ? pa_context_get_sink_info_by_name (c->ctx, device, on_sink_found, &found)
    : pa_context_get_source_info_by_name (c->ctx, device, on_source_found, &found);

  if (!connection_await (c, op, error))
    return FALSE;
  if (found)
    return TRUE;

  if (is_sink)
    g_set_error (error, KEFU_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                 _("There is no sound output “%s”"), device);
  else
    g_set_error (error, KEFU_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                 _("There is no sound input “%s”"), device);

  return FALSE;
}

static pa_stream *
connection_new_stream (struct connection *c, const char *title, const char *role, unsigned rate)
{
  pa_sample_spec spec = { .format = PA_SAMPLE_S16NE, .rate = rate, .channels = 1 };
  pa_proplist *props = pa_proplist_new ();
  pa_stream *s;

  pa_proplist_sets (props, PA_PROP_MEDIA_ROLE, role);
  pa_proplist_sets (props, PA_PROP_MEDIA_NAME, title);
  s = pa_stream_new_with_proplist (c->ctx, title, &spec, NULL, props);
  pa_proplist_free (props);

  return s;
}

/* Forgets a stream: no callback of it runs after this (the loop's lock
 * held). */
static void
stream_close (pa_stream *s)
{
  pa_stream_set_state_callback (s, NULL, NULL);
  pa_stream_set_write_callback (s, NULL, NULL);
  pa_stream_set_read_callback (s, NULL, NULL);
  if (PA_STREAM_IS_GOOD (pa_stream_get_state (s)))
    pa_stream_disconnect (s);
  pa_stream_unref (s);
}

/* A stream gone on its own while the connection lives: its device was
 * unplugged or it was killed.  A lost server is logged by the connection. */
static void
stream_log_failure (pa_stream *s, const char *what)
{
  pa_context *ctx = pa_stream_get_context (s);

  if (pa_context_get_state (ctx) == PA_CONTEXT_READY)
    g_message ("%s stopped: %s", what, pa_strerror (pa_context_errno (ctx)));
}

/* --- a call's sink and source ------------------------------------------ */

struct pulse_stream {
  struct connection *conn;
  /* the loop's lock */
  pa_stream         *stream;
  pa_time_event     *push;       /* playback */
  bool               was_ready;
  bool               primed;     /* capture, consumer's: handing out audio */
  struct ring        ring;
};

static void
on_call_stream_state (pa_stream *s, void *userdata)
{
  struct pulse_stream *ps = userdata;

  switch (pa_stream_get_state (s))
    {
    case PA_STREAM_READY:
      ps->was_ready = true;
      break;
    case PA_STREAM_FAILED:
      if (ps->was_ready)
        stream_log_failure (s, "call audio");
      break;
    default:
      return;
    }
  pa_threaded_mainloop_signal (ps->conn->loop, 0);
}

/* Hands the server what the ring has, as much as it takes.  It is never
 * given silence of ours: run dry, it stops and plays silence until it
 * again holds its prebuffer (PLAY_PREBUF_MS), which is the gap a late
 * frame would leave anyway. */
static void
playback_push (struct pulse_stream *ps)
{
  size_t room = pa_stream_writable_size (ps->stream);
  size_t n = MIN (ring_trim (&ps->ring, ms_to_samples (PLAY_REQUEST_MS, RATE)),
                  room == (size_t) -1 ? 0 : room / sizeof (int16_t));
  int16_t chunk[CHUNK_SAMPLES];

  while (n > 0)
    {
      size_t k = MIN (n, (size_t) CHUNK_SAMPLES);

      ring_take (&ps->ring, chunk, k);
      n -= k;
      if (pa_stream_write (ps->stream, chunk, k * sizeof *chunk, NULL, 0, PA_SEEK_RELATIVE) < 0)
        break;
    }
}

static void
on_playback_request (pa_stream *s, size_t bytes, void *userdata)
{
  playback_push (userdata);
}

/* The server asks for more only as it plays: once it has run dry, or
 * when it asked while the ring was empty, nothing but this brings the
 * phone thread's next frames over. */
static void
on_playback_timer (pa_mainloop_api *api, pa_time_event *e, const struct timeval *tv,
                   void *userdata)
{
  struct pulse_stream *ps = userdata;
  pa_stream_state_t state = pa_stream_get_state (ps->stream);

  if (state == PA_STREAM_READY)
    playback_push (ps);
  if (PA_STREAM_IS_GOOD (state))
    pa_context_rttime_restart (ps->conn->ctx, e,
                               pa_rtclock_now () + PLAY_PUSH_MS * PA_USEC_PER_MSEC);
}

static void
on_capture (pa_stream *s, size_t bytes, void *userdata)
{
  struct pulse_stream *ps = userdata;
  const void *data;
  size_t n;

  while (pa_stream_peek (s, &data, &n) == 0 && n > 0)
    {
      /* data is NULL for a hole: silence */
      if (ring_put (&ps->ring, data, n / sizeof (int16_t)) < n / sizeof (int16_t))
        g_debug ("capture ring full: dropping");
      pa_stream_drop (s);
    }
}

static void
call_stream_free (struct pulse_stream *ps)
{
  pa_threaded_mainloop_lock (ps->conn->loop);
  if (ps->push)
    pa_threaded_mainloop_get_api (ps->conn->loop)->time_free (ps->push);
  if (ps->stream)
    stream_close (ps->stream);
  pa_threaded_mainloop_unlock (ps->conn->loop);
  connection_unref (ps->conn);
  g_free (ps);
}

static struct pulse_stream *
call_stream_new (bool playback, const char *device, GError **error)
{
  struct pulse_stream *ps;
  struct connection *c;
  pa_buffer_attr attr = {
    .maxlength = (uint32_t) -1,
    .tlength = (uint32_t) -1,
    .prebuf = (uint32_t) -1,
    .minreq = (uint32_t) -1,
    .fragsize = (uint32_t) -1,
  };
  /* ADJUST_LATENCY: the device's own buffer is sized for us too, so the
   * total, not just our part, stays near what is asked */
  pa_stream_flags_t flags = PA_STREAM_ADJUST_LATENCY;
  struct deadline d;
  pa_stream_state_t state;
  int err;

  c = connection_get (error);
  if (!c)
    return NULL;

  ps = g_new0 (struct pulse_stream, 1);
  ps->conn = c;
  if (device && !*device)
    device = NULL;

  pa_threaded_mainloop_lock (c->loop);

  if (device && !connection_check_device (c, playback, device, error))
    goto fail;

  /* TRANSLATORS: the name the desktop's volume control shows for a
   * call's sound (played and recorded) */
  ps->stream = connection_new_stream (c, C_("sound stream", "Call"), "phone", RATE);
  if (!ps->stream)
    {
      set_lost (error, pa_context_errno (c->ctx));
      goto fail;
    }
  pa_stream_set_state_callback (ps->stream, on_call_stream_state, ps);

  if (playback)
    {
      attr.tlength = ms_to_samples (PLAY_TARGET_MS, RATE) * sizeof (int16_t);
      attr.prebuf = ms_to_samples (PLAY_PREBUF_MS, RATE) * sizeof (int16_t);
      attr.minreq = ms_to_samples (PLAY_REQUEST_MS, RATE) * sizeof (int16_t);
      pa_stream_set_write_callback (ps->stream, on_playback_request, ps);
      err = pa_stream_connect_playback (ps->stream, device, &attr, flags, NULL, NULL);
    }
  else
    {
      attr.fragsize = ms_to_samples (CAPTURE_FRAGMENT_MS, RATE) * sizeof (int16_t);
      pa_stream_set_read_callback (ps->stream, on_capture, ps);
      err = pa_stream_connect_record (ps->stream, device, &attr, flags);
    }

  deadline_start (&d, c);
  for (;;)
    {
      state = pa_stream_get_state (ps->stream);
      if (err < 0 || state == PA_STREAM_READY || !PA_STREAM_IS_GOOD (state) || d.passed)
        break;
      pa_threaded_mainloop_wait (c->loop);
    }
  deadline_end (&d, c);

  if (err >= 0 && state == PA_STREAM_READY)
    {
      const pa_buffer_attr *got = pa_stream_get_buffer_attr (ps->stream);

      g_debug ("%s %s, %u bytes a time", playback ? "playing to" : "capturing from",
               pa_stream_get_device_name (ps->stream),
               playback ? got->tlength : got->fragsize);
      if (playback)
        ps->push = pa_context_rttime_new (c->ctx,
                                          pa_rtclock_now () + PLAY_PUSH_MS * PA_USEC_PER_MSEC,
                                          on_playback_timer, ps);
      pa_threaded_mainloop_unlock (c->loop);
      return ps;
    }

  if (err >= 0 && PA_STREAM_IS_GOOD (state))
    set_timed_out (error);
  else if (c->lost)
    set_lost (error, pa_context_errno (c->ctx));
  else if (device)
    g_set_error (error, KEFU_IO_ERROR, G_IO_ERROR_FAILED,
                 _("Cannot open the sound device “%s”: %s"),
                 device, pa_strerror (pa_context_errno (c->ctx)));
  else
    g_set_error (error, KEFU_IO_ERROR, G_IO_ERROR_FAILED,
                 _("Cannot open the default sound device: %s"),
                 pa_strerror (pa_context_errno (c->ctx)));

fail:
  pa_threaded_mainloop_unlock (c->loop);
  call_stream_free (ps);
  return NULL;
}

static void
sink_write (void *impl, const int16_t *samples, size_t n)
{
  struct pulse_stream *ps = impl;

  /* full only when the server stopped taking: the call goes on */
  (void) ring_put (&ps->ring, samples, n);
}

static void
stream_free (void *impl)
{
  call_stream_free (impl);
}

static const struct kefu_audio_sink_backend sink_backend = {
  .write = sink_write,
  .free = stream_free,
};

static bool
source_read (void *impl, int16_t *samples, size_t n)
{
  struct pulse_stream *ps = impl;
  size_t prime = MAX (ms_to_samples (CAPTURE_PRIME_MS, RATE), n);
  size_t have = ring_trim (&ps->ring, prime);

  if (!ps->primed && have >= prime)
    ps->primed = true;

  if (ps->primed && have >= n)
    ring_take (&ps->ring, samples, n);
  else
    {
      memset (samples, 0, n * sizeof *samples);
      ps->primed = false;
    }

  return true;
}

static const struct kefu_audio_source_backend source_backend = {
  .read = source_read,
  .free = stream_free,
};

static void *
source_open (const char *device, const struct kefu_audio_source_backend **backend,
             GError **error)
{
  *backend = &source_backend;

  return call_stream_new (false, device, error);
}

static void *
sink_open (const char *device, const struct kefu_audio_sink_backend **backend, GError **error)
{
  *backend = &sink_backend;

  return call_stream_new (true, device, error);
}

/* --- devices ----------------------------------------------------------- */

struct listing {
  char      *default_source;
  char      *default_sink;
  GPtrArray *sources;
  GPtrArray *sinks;
};

static void
listing_add (GPtrArray *devices, const char *name, const char *description)
{
  struct kefu_audio_device *device = g_new0 (struct kefu_audio_device, 1);

  device->name = g_strdup (name);
  device->description = g_strdup (description && *description ? description : name);
  g_ptr_array_add (devices, device);
}

static void
on_server_info (pa_context *ctx, const pa_server_info *info, void *userdata)
{
  struct listing *l = userdata;

  if (!info)
    return;
  l->default_source = g_strdup (info->default_source_name);
  l->default_sink = g_strdup (info->default_sink_name);
}

static void
on_sink_listed (pa_context *ctx, const pa_sink_info *info, int eol, void *userdata)
{
  struct listing *l = userdata;

  if (!eol && info)
    listing_add (l->sinks, info->name, info->description);
}

static void
on_source_listed (pa_context *ctx, const pa_source_info *info, int eol, void *userdata)
{
  struct listing *l = userdata;

  if (!eol && info && info->monitor_of_sink == PA_INVALID_INDEX)
    listing_add (l->sources, info->name, info->description);
}

static void
mark_default (GPtrArray *devices, const char *name)
{
  for (guint i = 0; name && i < devices->len; i++)
    {
      struct kefu_audio_device *device = devices->pdata[i];

      device->is_default = g_str_equal (device->name, name);
    }
}

/* The caller's arrays free what is added (kefu_audio_device_free()). */
static gboolean
list_devices (GPtrArray *sources, GPtrArray *sinks, GError **error)
{
  struct listing l = { .sources = sources, .sinks = sinks };
  struct connection *c;
  gboolean ok;

  c = connection_get (error);
  if (!c)
    return FALSE;

  pa_threaded_mainloop_lock (c->loop);
  ok = connection_await (c, pa_context_get_server_info (c->ctx, on_server_info, &l), error) &&
    connection_await (c, pa_context_get_sink_info_list (c->ctx, on_sink_listed, &l), error) &&
    connection_await (c, pa_context_get_source_info_list (c->ctx, on_source_listed, &l), error);
  pa_threaded_mainloop_unlock (c->loop);
  connection_unref (c);

  mark_default (l.sources, l.default_source);
  mark_default (l.sinks, l.default_sink);
  g_free (l.default_source);
  g_free (l.default_sink);

  return ok;
}

/* --- the ringer's player ----------------------------------------------- */

struct kefu_audio_pulse_player {
  struct connection       *conn;
  char                    *device;  /* NULL: the default */
  char                    *role;
  char                    *title;
  kefu_audio_pulse_fill_h *fill;
  void                    *arg;
  pa_stream               *stream;  /* while started; set by the player's thread only */
  uint64_t                 offset;  /* the loop's lock */
};

static void
on_player_state (pa_stream *s, void *userdata)
{
  struct kefu_audio_pulse_player *player = userdata;

  if (pa_stream_get_state (s) == PA_STREAM_FAILED)
    stream_log_failure (s, player->title);
}

static void
on_player_request (pa_stream *s, size_t bytes, void *userdata)
{
  struct kefu_audio_pulse_player *player = userdata;
  int16_t chunk[CHUNK_SAMPLES];
  size_t want = bytes / sizeof (int16_t);

  while (want > 0)
    {
      size_t n = MIN (want, (size_t) CHUNK_SAMPLES);

      player->fill (chunk, n, player->offset, player->arg);
      player->offset += n;
      want -= n;
      if (pa_stream_write (s, chunk, n * sizeof *chunk, NULL, 0, PA_SEEK_RELATIVE) < 0)
        break;
    }
}

static struct kefu_audio_pulse_player *
player_new (const char *device, const char *role, const char *title,
            kefu_audio_pulse_fill_h *fill, void *arg, GError **error)
{
  struct kefu_audio_pulse_player *player;
  struct connection *c;
  gboolean ok = TRUE;

  g_return_val_if_fail (role && title && fill, NULL);

  c = connection_get (error);
  if (!c)
    return NULL;

  if (device && *device)
    {
      pa_threaded_mainloop_lock (c->loop);
      ok = connection_check_device (c, true, device, error);
      pa_threaded_mainloop_unlock (c->loop);
    }
  if (!ok)
    {
      connection_unref (c);
      return NULL;
    }

  player = g_new0 (struct kefu_audio_pulse_player, 1);
  player->conn = c;
  player->device = device && *device ? g_strdup (device) : NULL;
  player->role = g_strdup (role);
  player->title = g_strdup (title);
  player->fill = fill;
  player->arg = arg;

  return player;
}

static gboolean
player_start (struct kefu_audio_pulse_player *player, unsigned rate, GError **error)
{
  struct connection *c = player->conn;
  pa_buffer_attr attr = {
    .maxlength = (uint32_t) -1,
    .tlength = ms_to_samples (PLAYER_TARGET_MS, rate) * sizeof (int16_t),
    .prebuf = (uint32_t) -1,
    .minreq = (uint32_t) -1,
    .fragsize = (uint32_t) -1,
  };
  bool lost;

  g_return_val_if_fail (rate >= 1000 && rate <= PA_RATE_MAX, FALSE);

  if (player->stream)
    return TRUE;

  pa_threaded_mainloop_lock (c->loop);
  lost = c->lost;
  pa_threaded_mainloop_unlock (c->loop);
  if (lost)
    {
      c = connection_get (error);
      if (!c)
        return FALSE;
      connection_unref (player->conn);
      player->conn = c;
    }

  pa_threaded_mainloop_lock (c->loop);
  player->stream = connection_new_stream (c, player->title, player->role, rate);
  if (!player->stream)
    {
      set_lost (error, pa_context_errno (c->ctx));
      pa_threaded_mainloop_unlock (c->loop);
      return FALSE;
    }
  player->offset = 0;
  pa_stream_set_state_callback (player->stream, on_player_state, player);
  pa_stream_set_write_callback (player->stream, on_player_request, player);
  if (pa_stream_connect_playback (player->stream, player->device, &attr,
                                  PA_STREAM_ADJUST_LATENCY, NULL, NULL) < 0)
    {
      set_lost (error, pa_context_errno (c->ctx));
      stream_close (player->stream);
      player->stream = NULL;
      pa_threaded_mainloop_unlock (c->loop);
      return FALSE;
    }
  pa_threaded_mainloop_unlock (c->loop);

  return TRUE;
}

static void
player_stop (struct kefu_audio_pulse_player *player)
{
  if (!player->stream)
    return;

  pa_threaded_mainloop_lock (player->conn->loop);
  stream_close (player->stream);
  player->stream = NULL;
  pa_threaded_mainloop_unlock (player->conn->loop);
}

static void
player_free (struct kefu_audio_pulse_player *player)
{
  if (!player)
    return;

  player_stop (player);
  connection_unref (player->conn);
  g_free (player->device);
  g_free (player->role);
  g_free (player->title);
  g_free (player);
}

/* --- what the library sees ---------------------------------------------- */

G_MODULE_EXPORT const struct kefu_audio_pulse_module kefu_audio_pulse_module = {
  .version = KEFU_AUDIO_PULSE_MODULE_VERSION,
  .size = sizeof (struct kefu_audio_pulse_module),
  .source_open = source_open,
  .sink_open = sink_open,
  .list_devices = list_devices,
  .player_new = player_new,
  .player_start = player_start,
  .player_stop = player_stop,
  .player_free = player_free,
};
