/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuServerLink"

#include "config.h"

#include "kefu-server-link-spool.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <glib/gstdio.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_CHUNK (64 * 1024)
/* A record longer than this is damage, not data: the longest item kefu-
 * server takes (a call record, an event with 16 KiB of data) is far less. */
#define MAX_RECORD (1024 * 1024)

typedef struct {
  char    *path;
  char    *name;
  uint64_t first;       /* from the name */
  uint64_t last_item;   /* seq of the last item in it; 0: none */
  uint64_t size;
} Segment;

struct _KefuSpool {
  char      *dir;
  char      *id;
  int        lock_fd;
  int        dir_fd;
  uint64_t   segment_bytes;

  GPtrArray *segments;      /* Segment*, oldest first; the last one is written */
  int        write_fd;
  gboolean   dirty;
  gboolean   dir_dirty;

  uint64_t   next_seq;
  uint64_t   acked;
  uint64_t   batch_first;   /* a batch recorded as sent, not acked; 0: none */
  uint64_t   batch_last;
  uint64_t   pending;

  /* Where peek starts: a segment (by its first seq) and an offset in it
   * before which every item is acked. */
  uint64_t   cursor_first;
  uint64_t   cursor_offset;
};

/* --- records ------------------------------------------------------------------- */

static uint32_t crc_table[256];

static void
crc_init (void)
{
  static gsize done;

  if (g_once_init_enter (&done))
    {
      for (uint32_t i = 0; i < 256; i++)
        {
          uint32_t c = i;

          for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
          crc_table[i] = c;
        }
      g_once_init_leave (&done, 1);
    }
}

static uint32_t
crc32_of (const char *data,
          gsize       len)
{
  uint32_t c = 0xFFFFFFFFu;

  for (gsize i = 0; i < len; i++)
    c = crc_table[(c ^ (guchar) data[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

static char *
format_record (char        kind,
               uint64_t    seq,
               const char *payload,
               gsize      *out_len)
{
  g_autoptr(GString) body = g_string_new (NULL);
  GString *line;

  g_string_append_printf (body, "%c %" PRIu64, kind, seq);
  if (payload)
    {
      g_string_append_c (body, ' ');
      g_string_append (body, payload);
    }
  line = g_string_sized_new (body->len + 10);
  g_string_append_printf (line, "%08" PRIx32 " %s\n", crc32_of (body->str, body->len), body->str);
  *out_len = line->len;
  return g_string_free (line, FALSE);
}

typedef struct {
  char        kind;
  uint64_t    seq;
  const char *payload;      /* into the line; NULL when none */
  gsize       payload_len;
} Record;

static gboolean
parse_u64 (const char  *p,
           gsize        len,
           uint64_t    *out)
{
  uint64_t v = 0;

  if (len == 0 || len > 20)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      if (!g_ascii_isdigit (p[i]))
        return FALSE;
      if (v > (G_MAXUINT64 - (uint64_t) (p[i] - '0')) / 10)
        return FALSE;
      v = v * 10 + (uint64_t) (p[i] - '0');
    }
  *out = v;
  return TRUE;
}

/* line: without its '\n'.  NULL, or why it is not a record. */
static const char *
parse_record (const char *line,
              gsize       len,
              Record     *out)
{
  uint32_t want;
  const char *body, *space;
  gsize body_len;

  if (len < 12 || line[8] != ' ')
    return "not a spool record";
  for (int i = 0; i < 8; i++)
    if (!g_ascii_isxdigit (line[i]))
      return "not a spool record";
  want = (uint32_t) g_ascii_strtoull (line, NULL, 16);
  body = line + 9;
  body_len = len - 9;
  if (crc32_of (body, body_len) != want)
    return "checksum mismatch";
  if (body_len < 3 || body[1] != ' ' || !strchr ("ECKBA", body[0]))
    return "unknown record kind";
  out->kind = body[0];
  space = memchr (body + 2, ' ', body_len - 2);
  if (!parse_u64 (body + 2, space ? (gsize) (space - body - 2) : body_len - 2, &out->seq) ||
      out->seq == 0)
    return "bad sequence number";
  out->payload = space ? space + 1 : NULL;
  out->payload_len = space ? body_len - (gsize) (space + 1 - body) : 0;
  switch (out->kind)
    {
    case 'A':
      if (out->payload)
        return "ack record with data";
      break;
    case 'B':
      {
        uint64_t last;

        if (!out->payload || !parse_u64 (out->payload, out->payload_len, &last) || last < out->seq)
          return "bad batch record";
      }
      break;
    default:
      if (!out->payload || out->payload_len == 0)
        return "item without data";
      break;
    }
  return NULL;
}

/* --- files ----------------------------------------------------------------------- */

static gboolean
set_errno_error (GError     **error,
                 int          err,
                 const char  *format,
                 ...) G_GNUC_PRINTF (3, 4);

static gboolean
set_errno_error (GError     **error,
                 int          err,
                 const char  *format,
                 ...)
{
  g_autofree char *what = NULL;
  va_list args;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err), "%s: %s", what, g_strerror (err));
  return FALSE;
}

static gboolean
write_all (int          fd,
           const char  *data,
           gsize        len,
           GError     **error,
           const char  *path)
{
  while (len > 0)
    {
      ssize_t n = write (fd, data, len);

      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return set_errno_error (error, errno, "Cannot write the spool file %s", path);
        }
      data += n;
      len -= (gsize) n;
    }
  return TRUE;
}

static gboolean
write_file_synced (const char  *path,
                   const char  *data,
                   gsize        len,
                   GError     **error)
{
  g_autofree char *tmp = g_strconcat (path, ".tmp", NULL);
  int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

  if (fd < 0)
    return set_errno_error (error, errno, "Cannot create %s", tmp);
  if (!write_all (fd, data, len, error, tmp))
    {
      close (fd);
      return FALSE;
    }
  if (fsync (fd) != 0)
    {
      int err = errno;

      close (fd);
      return set_errno_error (error, err, "Cannot sync %s", tmp);
    }
  close (fd);
  if (rename (tmp, path) != 0)
    return set_errno_error (error, errno, "Cannot rename %s to %s", tmp, path);
  return TRUE;
}

static void
segment_free (gpointer data)
{
  Segment *segment = data;

  g_free (segment->path);
  g_free (segment->name);
  g_free (segment);
}

static Segment *
segment_new (const char *dir,
             uint64_t    first)
{
  Segment *segment = g_new0 (Segment, 1);

  segment->first = first;
  segment->name = g_strdup_printf ("spool-%020" PRIu64 ".log", first);
  segment->path = g_build_filename (dir, segment->name, NULL);
  return segment;
}

static gint
compare_segments (gconstpointer a,
                  gconstpointer b)
{
  const Segment *x = *(Segment * const *) a;
  const Segment *y = *(Segment * const *) b;

  return x->first < y->first ? -1 : x->first > y->first;
}

void
kefu_spool_damage_free (KefuSpoolDamage *damage)
{
  if (!damage)
    return;
  g_free (damage->path);
  g_free (damage->reason);
  g_free (damage->moved_to);
  g_free (damage);
}

void
kefu_spool_item_free (KefuSpoolItem *item)
{
  if (!item)
    return;
  g_free (item->payload);
  g_free (item);
}

/* --- opening: checking every segment -------------------------------------------- */

typedef struct {
  uint64_t max_item;
  uint64_t acked;
  uint64_t batch_first;
  uint64_t batch_last;
} ScanState;

typedef struct {
  uint64_t offset;
  uint64_t length;
  char    *reason;
} BadRange;

static void
add_bad (GArray     *bad,
         uint64_t    offset,
         uint64_t    length,
         const char *reason)
{
  if (bad->len > 0)
    {
      BadRange *last = &g_array_index (bad, BadRange, bad->len - 1);

      /* Neighbouring damage is one stretch. */
      if (last->offset + last->length == offset)
        {
          last->length += length;
          return;
        }
    }
  {
    BadRange range = { offset, length, g_strdup (reason) };

    g_array_append_val (bad, range);
  }
}

/* Reads a whole segment, keeps the good records, moves the damaged ones to
 * corrupt/ and rewrites the file without them. */
static gboolean
check_segment (KefuSpool  *spool,
               Segment    *segment,
               ScanState  *scan,
               GPtrArray  *damage,
               GError    **error)
{
  g_autofree char *contents = NULL;
  g_autoptr(GString) good = NULL;
  g_autoptr(GArray) bad = g_array_new (FALSE, FALSE, sizeof (BadRange));
  gsize len = 0, pos = 0;

  if (!g_file_get_contents (segment->path, &contents, &len, error))
    return FALSE;

  while (pos < len)
    {
      const char *line = contents + pos;
      const char *nl = memchr (line, '\n', len - pos);
      gsize line_len = nl ? (gsize) (nl - line) : len - pos;
      const char *why = NULL;
      Record record;

      if (!nl)
        why = "incomplete record at the end (the switch stopped while writing it)";
      else if (line_len > MAX_RECORD)
        why = "record too long";
      else
        why = parse_record (line, line_len, &record);

      if (!why)
        {
          switch (record.kind)
            {
            case 'A':
              scan->acked = MAX (scan->acked, record.seq);
              break;
            case 'B':
              scan->batch_first = record.seq;
              parse_u64 (record.payload, record.payload_len, &scan->batch_last);
              break;
            default:
              if (record.seq <= scan->max_item)
                why = "sequence number out of order";
              else
                {
                  scan->max_item = record.seq;
                  segment->last_item = record.seq;
                }
              break;
            }
        }

      if (why)
        add_bad (bad, pos, nl ? line_len + 1 : line_len, why);
      else if (good)
        g_string_append_len (good, line, (gssize) line_len + 1);
      if (why && !good)
        good = g_string_new_len (contents, (gssize) pos);
      pos += nl ? line_len + 1 : line_len;
    }

  if (bad->len == 0)
    {
      segment->size = len;
      return TRUE;
    }

  {
    g_autofree char *corrupt_dir = g_build_filename (spool->dir, "corrupt", NULL);

    if (g_mkdir_with_parents (corrupt_dir, 0700) != 0)
      return set_errno_error (error, errno, "Cannot create %s", corrupt_dir);
    for (guint i = 0; i < bad->len; i++)
      {
        BadRange *range = &g_array_index (bad, BadRange, i);
        g_autofree char *name = g_strdup_printf ("%s-at-%" PRIu64 ".bad", segment->name,
                                                 range->offset);
        KefuSpoolDamage *item = g_new0 (KefuSpoolDamage, 1);

        item->path = g_strdup (segment->path);
        item->offset = range->offset;
        item->length = range->length;
        item->reason = g_steal_pointer (&range->reason);
        item->moved_to = g_build_filename (corrupt_dir, name, NULL);
        g_ptr_array_add (damage, item);
        if (!write_file_synced (item->moved_to, contents + range->offset, range->length, error))
          {
            for (guint j = i + 1; j < bad->len; j++)
              g_free (g_array_index (bad, BadRange, j).reason);
            return FALSE;
          }
      }
  }
  if (!write_file_synced (segment->path, good->str, good->len, error))
    return FALSE;
  segment->size = good->len;
  spool->dir_dirty = TRUE;
  return TRUE;
}

static gboolean
read_or_make_id (KefuSpool  *spool,
                 gboolean    fresh,
                 GError    **error)
{
  g_autofree char *path = g_build_filename (spool->dir, "spool-id", NULL);
  g_autofree char *text = NULL;

  if (!fresh && g_file_get_contents (path, &text, NULL, NULL))
    {
      g_strstrip (text);
      if (*text && strlen (text) <= 64 && !strpbrk (text, " \t\r\n"))
        {
          spool->id = g_steal_pointer (&text);
          return TRUE;
        }
      g_warning ("The spool id in %s is unreadable; starting a new one (a batch sent just before "
                 "may be logged twice by kefu-server)", path);
    }
  else if (!fresh)
    {
      g_warning ("%s is missing while the spool holds items; starting a new id (a batch sent "
                 "just before may be logged twice by kefu-server)", path);
    }

  /* A new id whenever numbering starts again, so (id, seq) never repeats. */
  spool->id = g_uuid_string_random ();
  {
    g_autofree char *line = g_strconcat (spool->id, "\n", NULL);

    if (!write_file_synced (path, line, strlen (line), error))
      return FALSE;
  }
  spool->dir_dirty = TRUE;
  return TRUE;
}

static gboolean
open_for_append (KefuSpool  *spool,
                 Segment    *segment,
                 GError    **error)
{
  if (spool->write_fd >= 0)
    close (spool->write_fd);
  spool->write_fd = open (segment->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (spool->write_fd < 0)
    return set_errno_error (error, errno, "Cannot open the spool file %s", segment->path);
  return TRUE;
}

static gboolean append_mark (KefuSpool *spool, char kind, uint64_t seq, const char *payload,
                             GError **error);

static gboolean
start_segment (KefuSpool  *spool,
               uint64_t    first,
               GError    **error)
{
  Segment *segment = segment_new (spool->dir, first);

  g_ptr_array_add (spool->segments, segment);
  if (!open_for_append (spool, segment, error))
    return FALSE;
  spool->dir_dirty = TRUE;
  spool->dirty = TRUE;
  /* Each file says what was done before it, so no file needs an older one. */
  if (spool->acked > 0 && !append_mark (spool, 'A', spool->acked, NULL, error))
    return FALSE;
  if (spool->batch_first > 0)
    {
      g_autofree char *last = g_strdup_printf ("%" PRIu64, spool->batch_last);

      if (!append_mark (spool, 'B', spool->batch_first, last, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
take_lock (KefuSpool  *spool,
           GError    **error)
{
  g_autofree char *path = g_build_filename (spool->dir, "lock", NULL);
  g_autofree char *pid = g_strdup_printf ("%d\n", (int) getpid ());

  spool->lock_fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (spool->lock_fd < 0)
    return set_errno_error (error, errno, "Cannot open %s", path);
  if (flock (spool->lock_fd, LOCK_EX | LOCK_NB) != 0)
    {
      int err = errno;
      char other[32] = "";
      ssize_t n = pread (spool->lock_fd, other, sizeof other - 1, 0);

      if (n > 0)
        other[n] = '\0';
      g_strstrip (other);
      close (spool->lock_fd);
      spool->lock_fd = -1;
      if (err == EWOULDBLOCK)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_BUSY,
                       "The spool %s is in use by another kefu-switch (process %s)", spool->dir,
                       *other ? other : "?");
          return FALSE;
        }
      return set_errno_error (error, err, "Cannot lock %s", path);
    }
  if (ftruncate (spool->lock_fd, 0) != 0 ||
      pwrite (spool->lock_fd, pid, strlen (pid), 0) < 0)
    g_debug ("cannot write our pid into %s", path);
  return TRUE;
}

KefuSpool *
kefu_spool_open (const char  *dir,
                 uint64_t     segment_bytes,
                 GPtrArray  **out_damage,
                 GError     **error)
{
  KefuSpool *spool = g_new0 (KefuSpool, 1);
  g_autoptr(GPtrArray) damage =
    g_ptr_array_new_with_free_func ((GDestroyNotify) kefu_spool_damage_free);
  g_autoptr(GDir) listing = NULL;
  ScanState scan = { 0 };
  const char *name;

  crc_init ();
  spool->dir = g_strdup (dir);
  spool->lock_fd = -1;
  spool->dir_fd = -1;
  spool->write_fd = -1;
  spool->segment_bytes = segment_bytes ? segment_bytes : 8 * 1024 * 1024;
  spool->segments = g_ptr_array_new_with_free_func (segment_free);

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      set_errno_error (error, errno, "Cannot create the spool directory %s", dir);
      goto fail;
    }
  spool->dir_fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (spool->dir_fd < 0)
    {
      set_errno_error (error, errno, "Cannot open the spool directory %s", dir);
      goto fail;
    }
  if (!take_lock (spool, error))
    goto fail;

  listing = g_dir_open (dir, 0, error);
  if (!listing)
    goto fail;
  while ((name = g_dir_read_name (listing)))
    {
      uint64_t first;

      if (!g_str_has_prefix (name, "spool-") || !g_str_has_suffix (name, ".log") ||
          strlen (name) != strlen ("spool-") + 20 + strlen (".log") ||
          !parse_u64 (name + strlen ("spool-"), 20, &first))
        continue;
      g_ptr_array_add (spool->segments, segment_new (dir, first));
    }
  g_ptr_array_sort (spool->segments, compare_segments);

  for (guint i = 0; i < spool->segments->len; i++)
    if (!check_segment (spool, g_ptr_array_index (spool->segments, i), &scan, damage, error))
      goto fail;

  if (!read_or_make_id (spool, spool->segments->len == 0, error))
    goto fail;

  spool->acked = scan.acked;
  if (scan.batch_first > 0 && scan.batch_last > scan.acked)
    {
      spool->batch_first = MAX (scan.batch_first, scan.acked + 1);
      spool->batch_last = scan.batch_last;
    }
  spool->next_seq = MAX (MAX (scan.max_item, scan.acked), scan.batch_last) + 1;
  if (spool->segments->len == 0)
    {
      if (!start_segment (spool, spool->next_seq, error))
        goto fail;
    }
  else if (!open_for_append (spool, g_ptr_array_index (spool->segments,
                                                       spool->segments->len - 1), error))
    {
      goto fail;
    }

  /* Count what is owed: one more pass, on records known to be good. */
  for (guint i = 0; i < spool->segments->len; i++)
    {
      Segment *segment = g_ptr_array_index (spool->segments, i);
      g_autofree char *contents = NULL;
      gsize len = 0;

      if (segment->last_item <= spool->acked)
        continue;
      if (!g_file_get_contents (segment->path, &contents, &len, error))
        goto fail;
      for (gsize pos = 0; pos < len;)
        {
          const char *nl = memchr (contents + pos, '\n', len - pos);
          Record record;

          if (!nl)
            break;
          if (!parse_record (contents + pos, (gsize) (nl - contents - pos), &record) &&
              strchr ("ECK", record.kind) && record.seq > spool->acked)
            spool->pending++;
          pos = (gsize) (nl - contents) + 1;
        }
    }
  if (spool->segments->len > 0)
    spool->cursor_first = ((Segment *) g_ptr_array_index (spool->segments, 0))->first;

  if (!kefu_spool_sync (spool, error))
    goto fail;
  if (out_damage)
    *out_damage = g_steal_pointer (&damage);
  return spool;

fail:
  kefu_spool_free (spool);
  return NULL;
}

void
kefu_spool_free (KefuSpool *spool)
{
  if (!spool)
    return;
  if (spool->write_fd >= 0)
    {
      if (spool->dirty)
        fdatasync (spool->write_fd);
      close (spool->write_fd);
    }
  if (spool->dir_fd >= 0)
    {
      if (spool->dir_dirty)
        fsync (spool->dir_fd);
      close (spool->dir_fd);
    }
  /* Closing the file releases the lock. */
  if (spool->lock_fd >= 0)
    close (spool->lock_fd);
  g_clear_pointer (&spool->segments, g_ptr_array_unref);
  g_free (spool->dir);
  g_free (spool->id);
  g_free (spool);
}

const char *
kefu_spool_get_id (KefuSpool *spool)
{
  return spool->id;
}

const char *
kefu_spool_get_dir (KefuSpool *spool)
{
  return spool->dir;
}

/* --- writing ------------------------------------------------------------------------ */

static Segment *
current_segment (KefuSpool *spool)
{
  return g_ptr_array_index (spool->segments, spool->segments->len - 1);
}

static gboolean
append_line (KefuSpool   *spool,
             const char  *line,
             gsize        len,
             GError     **error)
{
  Segment *segment = current_segment (spool);

  if (!write_all (spool->write_fd, line, len, error, segment->path))
    {
      /* Never leave half a record behind: the next one would follow it. */
      if (ftruncate (spool->write_fd, (off_t) segment->size) != 0)
        g_warning ("Cannot cut the half-written record off %s: %s", segment->path,
                   g_strerror (errno));
      return FALSE;
    }
  segment->size += len;
  spool->dirty = TRUE;
  return TRUE;
}

static gboolean
append_mark (KefuSpool   *spool,
             char         kind,
             uint64_t     seq,
             const char  *payload,
             GError     **error)
{
  gsize len;
  g_autofree char *line = format_record (kind, seq, payload, &len);

  return append_line (spool, line, len, error);
}

gboolean
kefu_spool_append (KefuSpool      *spool,
                   KefuSpoolKind   kind,
                   const char     *payload,
                   uint64_t       *out_seq,
                   GError        **error)
{
  Segment *segment = current_segment (spool);
  g_autofree char *line = NULL;
  gsize len;

  if (!payload || !*payload || strchr (payload, '\n'))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "A spool item must be one line of JSON");
      return FALSE;
    }
  if (segment->size >= spool->segment_bytes && segment->size > 0)
    {
      if (!kefu_spool_sync (spool, error) || !start_segment (spool, spool->next_seq, error))
        return FALSE;
      segment = current_segment (spool);
    }
  line = format_record ((char) kind, spool->next_seq, payload, &len);
  if (!append_line (spool, line, len, error))
    return FALSE;
  segment->last_item = spool->next_seq;
  if (out_seq)
    *out_seq = spool->next_seq;
  spool->next_seq++;
  spool->pending++;
  return TRUE;
}

gboolean
kefu_spool_is_dirty (KefuSpool *spool)
{
  return spool->dirty || spool->dir_dirty;
}

gboolean
kefu_spool_sync (KefuSpool  *spool,
                 GError    **error)
{
  if (spool->dirty)
    {
      if (fdatasync (spool->write_fd) != 0)
        return set_errno_error (error, errno, "Cannot sync the spool file %s",
                                current_segment (spool)->path);
      spool->dirty = FALSE;
    }
  if (spool->dir_dirty)
    {
      if (fsync (spool->dir_fd) != 0)
        return set_errno_error (error, errno, "Cannot sync the spool directory %s", spool->dir);
      spool->dir_dirty = FALSE;
    }
  return TRUE;
}

gboolean
kefu_spool_mark_batch (KefuSpool  *spool,
                       uint64_t    first,
                       uint64_t    last,
                       GError    **error)
{
  g_autofree char *text = g_strdup_printf ("%" PRIu64, last);

  if (!append_mark (spool, 'B', first, text, error) || !kefu_spool_sync (spool, error))
    return FALSE;
  spool->batch_first = first;
  spool->batch_last = last;
  return TRUE;
}

static void
drop_old_segments (KefuSpool *spool)
{
  while (spool->segments->len > 1)
    {
      Segment *oldest = g_ptr_array_index (spool->segments, 0);

      if (oldest->last_item > spool->acked)
        break;
      if (g_unlink (oldest->path) != 0)
        {
          g_warning ("Cannot remove the acknowledged spool file %s: %s", oldest->path,
                     g_strerror (errno));
          break;
        }
      spool->dir_dirty = TRUE;
      g_ptr_array_remove_index (spool->segments, 0);
    }
}

static gboolean
ack_through (KefuSpool  *spool,
             uint64_t    last,
             guint       n_items,
             GError    **error)
{
  if (last <= spool->acked)
    return TRUE;
  if (!append_mark (spool, 'A', last, NULL, error))
    return FALSE;
  spool->acked = last;
  spool->pending = spool->pending > n_items ? spool->pending - n_items : 0;
  if (spool->batch_last <= last)
    spool->batch_first = spool->batch_last = 0;
  drop_old_segments (spool);
  return TRUE;
}

gboolean
kefu_spool_ack (KefuSpool  *spool,
                uint64_t    last,
                guint       n_items,
                GError    **error)
{
  return ack_through (spool, last, n_items, error);
}

gboolean
kefu_spool_reject (KefuSpool            *spool,
                   const KefuSpoolItem  *item,
                   const char           *reason,
                   GError              **error)
{
  g_autofree char *path = g_build_filename (spool->dir, "rejected.log", NULL);
  g_autoptr(JsonObject) entry = json_object_new ();
  g_autoptr(JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  g_autoptr(JsonNode) parsed = json_from_string (item->payload, NULL);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *at = g_date_time_format_iso8601 (now);
  g_autofree char *kind = g_strdup_printf ("%c", item->kind);
  g_autofree char *text = NULL;
  g_autoptr(GString) line = NULL;
  int fd;

  json_object_set_string_member (entry, "at", at);
  json_object_set_string_member (entry, "spool_id", spool->id);
  json_object_set_int_member (entry, "seq", (gint64) item->seq);
  json_object_set_string_member (entry, "kind", kind);
  json_object_set_string_member (entry, "reason", reason);
  if (parsed)
    json_object_set_member (entry, "item", g_steal_pointer (&parsed));
  else
    json_object_set_string_member (entry, "item", item->payload);
  json_node_set_object (root, entry);
  text = json_to_string (root, FALSE);
  line = g_string_new (text);
  g_string_append_c (line, '\n');

  fd = open (path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return set_errno_error (error, errno, "Cannot open %s", path);
  if (!write_all (fd, line->str, line->len, error, path))
    {
      close (fd);
      return FALSE;
    }
  if (fdatasync (fd) != 0)
    {
      int err = errno;

      close (fd);
      return set_errno_error (error, err, "Cannot sync %s", path);
    }
  close (fd);
  return ack_through (spool, item->seq, 1, error);
}

/* --- reading ------------------------------------------------------------------------- */

/* Lines of one segment from an offset, read in chunks. */
typedef struct {
  int         fd;
  const char *path;
  uint64_t    size;       /* of the segment: what was written, synced or not */
  uint64_t    base;       /* file offset of data[0] */
  GByteArray *data;
  gsize       pos;        /* next line starts at data[pos] */
} Reader;

/* TRUE with a line (without '\n') and its offset; FALSE at the end or on
 * error (then error is set). */
static gboolean
reader_next (Reader       *reader,
             const char  **line,
             gsize        *len,
             uint64_t     *offset,
             GError      **error)
{
  for (;;)
    {
      const char *start = (const char *) reader->data->data + reader->pos;
      gsize left = reader->data->len - reader->pos;
      const char *nl = left > 0 ? memchr (start, '\n', left) : NULL;
      uint64_t end = reader->base + reader->data->len;
      gsize old, want;
      ssize_t n;

      if (nl)
        {
          *line = start;
          *len = (gsize) (nl - start);
          *offset = reader->base + reader->pos;
          reader->pos += *len + 1;
          return TRUE;
        }
      if (end >= reader->size)
        {
          if (left > 0)
            g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                         "The spool file %s ends in the middle of a record at offset %" PRIu64,
                         reader->path, reader->base + reader->pos);
          return FALSE;
        }
      if (left > MAX_RECORD)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "The spool file %s has an overlong record at offset %" PRIu64,
                       reader->path, reader->base + reader->pos);
          return FALSE;
        }
      /* Keep the unfinished line, read the next chunk after it. */
      g_byte_array_remove_range (reader->data, 0, (guint) reader->pos);
      reader->base += reader->pos;
      reader->pos = 0;
      old = reader->data->len;
      want = (gsize) MIN ((uint64_t) READ_CHUNK, reader->size - end);
      g_byte_array_set_size (reader->data, (guint) (old + want));
      do
        n = pread (reader->fd, reader->data->data + old, want, (off_t) end);
      while (n < 0 && errno == EINTR);
      if (n <= 0)
        {
          if (n < 0)
            set_errno_error (error, errno, "Cannot read the spool file %s", reader->path);
          else
            g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                         "The spool file %s ends early at offset %" PRIu64, reader->path, end);
          return FALSE;
        }
      g_byte_array_set_size (reader->data, (guint) (old + (gsize) n));
    }
}

GPtrArray *
kefu_spool_peek (KefuSpool  *spool,
                 guint       max,
                 gsize       max_bytes,
                 gboolean   *out_recorded,
                 GError    **error)
{
  g_autoptr(GPtrArray) items =
    g_ptr_array_new_with_free_func ((GDestroyNotify) kefu_spool_item_free);
  gboolean recorded = spool->batch_first > 0;
  gboolean done = FALSE;
  /* Nothing owed seen yet: the cursor may move on.  Once something owed
   * was seen, in this file or an earlier one, it stays before it. */
  gboolean behind = TRUE;
  gsize bytes = 0;
  guint start = 0;

  *out_recorded = recorded;
  if (spool->pending == 0)
    return g_steal_pointer (&items);

  /* The cursor's segment; if it is gone, everything before is acked. */
  for (guint i = 0; i < spool->segments->len; i++)
    if (((Segment *) g_ptr_array_index (spool->segments, i))->first == spool->cursor_first)
      start = i;
  if (((Segment *) g_ptr_array_index (spool->segments, start))->first != spool->cursor_first)
    {
      spool->cursor_first = ((Segment *) g_ptr_array_index (spool->segments, start))->first;
      spool->cursor_offset = 0;
    }

  for (guint i = start; i < spool->segments->len && !done; i++)
    {
      Segment *segment = g_ptr_array_index (spool->segments, i);
      g_autoptr(GByteArray) data = g_byte_array_new ();
      Reader reader = { -1, segment->path, segment->size, 0, data, 0 };
      const char *line;
      gsize len;
      uint64_t offset;

      if (segment->last_item <= spool->acked)
        continue;
      reader.base = segment->first == spool->cursor_first ? spool->cursor_offset : 0;
      reader.fd = open (segment->path, O_RDONLY | O_CLOEXEC);
      if (reader.fd < 0)
        {
          set_errno_error (error, errno, "Cannot read the spool file %s", segment->path);
          return NULL;
        }
      while (!done && reader_next (&reader, &line, &len, &offset, error))
        {
          Record record;
          const char *why = parse_record (line, len, &record);
          gboolean owed;

          if (why)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "The spool file %s is damaged at offset %" PRIu64 " (%s)",
                           segment->path, offset, why);
              break;
            }
          owed = strchr ("ECK", record.kind) && record.seq > spool->acked;
          if (owed)
            {
              behind = FALSE;
              if (recorded)
                {
                  if (record.seq > spool->batch_last)
                    done = TRUE;
                  else if (record.seq < spool->batch_first)
                    owed = FALSE;
                }
              else if (items->len > 0)
                {
                  KefuSpoolItem *first = g_ptr_array_index (items, 0);

                  if (first->kind != KEFU_SPOOL_EVENT || record.kind != (char) first->kind ||
                      items->len >= max || bytes + record.payload_len > max_bytes)
                    done = TRUE;
                }
            }
          if (owed && !done)
            {
              KefuSpoolItem *item = g_new0 (KefuSpoolItem, 1);

              item->seq = record.seq;
              item->kind = (KefuSpoolKind) record.kind;
              item->payload = g_strndup (record.payload, record.payload_len);
              bytes += record.payload_len;
              g_ptr_array_add (items, item);
            }
          if (behind)
            {
              spool->cursor_first = segment->first;
              spool->cursor_offset = offset + len + 1;
            }
        }
      close (reader.fd);
      if (error && *error)
        return NULL;
    }
  return g_steal_pointer (&items);
}

uint64_t
kefu_spool_pending (KefuSpool *spool)
{
  return spool->pending;
}

uint64_t
kefu_spool_bytes (KefuSpool *spool)
{
  uint64_t total = 0;

  for (guint i = 0; i < spool->segments->len; i++)
    total += ((Segment *) g_ptr_array_index (spool->segments, i))->size;
  return total;
}

uint64_t
kefu_spool_last_seq (KefuSpool *spool)
{
  return spool->next_seq - 1;
}

uint64_t
kefu_spool_acked (KefuSpool *spool)
{
  return spool->acked;
}
