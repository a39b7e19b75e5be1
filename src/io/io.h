/*
 * io.h - FileIO: how firn reads and writes table files (data, manifests,
 * metadata) without knowing where they live. Local files and S3
 * (s3.c), behind one interface.
 *
 * Locations are URIs: "file:/abs/path" (canonical, as Java writes it),
 * "file:///abs/path", or a plain absolute path, or "s3://bucket/key".
 *
 * The contract every implementation keeps, because the object stores do:
 *  - Files are written once. firn_io_create() + writes + firn_io_writer_close()
 *    make a file appear whole, durable and visible at its location, or not at
 *    all; firn_io_writer_abort() discards it. There is no rename: callers never
 *    move files. Readers never see a partial file at the final location.
 *  - Creating a file that already exists fails with FIRN_ERR_CONFLICT (not
 *    retriable) and leaves the existing file untouched: no data or metadata
 *    file is ever overwritten. This is "create without overwrite" (S3: PUT with
 *    If-None-Match: *), the primitive that keeps metadata commits safe.
 *  - Deleting a missing file succeeds (as S3 DELETE does).
 *
 * Errors: FIRN_ERR_NOT_FOUND for missing files, FIRN_ERR_CONFLICT for an
 * existing target, FIRN_ERR_UNSUPPORTED for schemes firn lacks, FIRN_ERR_IO
 * (retriable) for the operating system refusing, FIRN_ERR_CORRUPT for a file
 * shorter than a read needs. The error context names the location.
 *
 * An io handle is not thread-safe; readers and writers are independent
 * objects that may be used from one thread each.
 */
#ifndef FIRN_IO_H
#define FIRN_IO_H

#include "util/util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct firn_io firn_io;
typedef struct firn_io_reader firn_io_reader;
typedef struct firn_io_writer firn_io_writer;

/* What stat and list report about a file. */
typedef struct firn_io_stat {
    uint64_t size;     /* bytes */
    int64_t mtime_ms;  /* last modification, milliseconds since the epoch */
} firn_io_stat;

/* One file found by firn_io_list(). location is canonical ("file:/..."), valid
 * only during the callback. */
typedef struct firn_io_entry {
    const char *location;
    uint64_t size;
    int64_t mtime_ms;
} firn_io_entry;

/* Return 0 to go on; any other value stops the listing and is returned by
 * firn_io_list() (fill err when returning a negative firn error). */
typedef int (*firn_io_list_fn)(void *ctx, const firn_io_entry *entry, firn_error *err);

/* ------------------------------------------------------------ handles */

/*
 * An io for the scheme of location: "file:" and absolute paths get the local
 * filesystem; "s3://", "s3a://", "s3n://" the S3 io (firn_io_s3_new with the
 * process-wide defaults); other schemes are FIRN_ERR_UNSUPPORTED. Caller frees *out with firn_io_free().
 */
int firn_io_new_for_uri(const char *location, firn_io **out, firn_error *err);
/* The local filesystem io. Caller frees with firn_io_free(). */
firn_io *firn_io_local_new(void);
void firn_io_free(firn_io *io);
/* "local" or "s3". */
const char *firn_io_kind(const firn_io *io);

/* ------------------------------------------------------------ reading */

/* Open an existing file for reading (FIRN_ERR_NOT_FOUND when missing). */
int firn_io_open(firn_io *io, const char *location, firn_io_reader **out, firn_error *err);
/* The file's size in bytes, as seen when it was opened. */
uint64_t firn_io_reader_size(const firn_io_reader *r);
/* Read exactly n bytes at offset off into buf (a ranged GET on S3). A range
 * past the end of the file is FIRN_ERR_CORRUPT ("file truncated"). */
int firn_io_read_at(firn_io_reader *r, uint64_t off, void *buf, size_t n, firn_error *err);
/* Location the reader was opened on (canonical). */
const char *firn_io_reader_location(const firn_io_reader *r);
void firn_io_reader_close(firn_io_reader *r);

/* Read a whole file. *data is NUL-terminated (not counted in *len); caller
 * frees it with free(). */
int firn_io_read_all(firn_io *io, const char *location, uint8_t **data, size_t *len,
                     firn_error *err);

/* ------------------------------------------------------------ writing */

/*
 * Start writing a new file at location. Fails early with FIRN_ERR_CONFLICT
 * when the file already exists (and again at close, atomically, if one
 * appeared meanwhile). Parent directories are created as needed. Nothing is
 * visible at location until firn_io_writer_close() succeeds.
 */
int firn_io_create(firn_io *io, const char *location, firn_io_writer **out, firn_error *err);
/* Append n bytes. Writes are buffered; an error here poisons the writer
 * (close then fails and discards the file). */
int firn_io_writer_write(firn_io_writer *w, const void *data, size_t n, firn_error *err);
/* Bytes written so far (the file's size once closed). */
uint64_t firn_io_writer_offset(const firn_io_writer *w);
const char *firn_io_writer_location(const firn_io_writer *w);
/*
 * Make the file durable and visible at its location, without overwriting:
 * FIRN_ERR_CONFLICT if the location was taken meanwhile (the new bytes are
 * discarded, the existing file untouched). Frees w in every case; on failure
 * nothing is left at the location or in temporary files.
 */
int firn_io_writer_close(firn_io_writer *w, firn_error *err);
/* Discard the file: nothing appears at its location. Frees w. NULL-safe. */
void firn_io_writer_abort(firn_io_writer *w);

/* create + write + close in one call. */
int firn_io_write_all(firn_io *io, const char *location, const void *data, size_t len,
                      firn_error *err);

/* ------------------------------------------------------------ metadata */

/* Size and mtime of a file; FIRN_ERR_NOT_FOUND when missing. */
int firn_io_stat_file(firn_io *io, const char *location, firn_io_stat *st, firn_error *err);
int firn_io_exists(firn_io *io, const char *location, bool *exists, firn_error *err);

/* Delete one file. A missing file is not an error. */
int firn_io_delete(firn_io *io, const char *location, firn_error *err);
/*
 * Delete many files (S3: DeleteObjects in batches). Tries every location even
 * after a failure; *failed (may be NULL) gets the number that could not be
 * deleted and err the first failure. Missing files count as deleted.
 */
int firn_io_delete_batch(firn_io *io, const char *const *locations, size_t n, size_t *failed,
                         firn_error *err);

/*
 * Every file under the directory-like prefix (recursively), with sizes and
 * mtimes, in no particular order. The prefix names a directory: "file:/t/x"
 * and "file:/t/x/" both list the files beneath /t/x/ (never /t/xy). A missing
 * prefix lists nothing. Temporary files of writers in progress (or killed) are
 * listed like any file: removing orphans means removing them too.
 */
int firn_io_list(firn_io *io, const char *prefix, firn_io_list_fn fn, void *ctx,
                 firn_error *err);

/* ------------------------------------------------------------ locations */

/*
 * Canonical form of a location, allocated in a (or malloc'ed when a is NULL:
 * caller frees). "file:/abs", "file:///abs", "file://localhost/abs" and
 * "/abs" become "file:/abs" with "//", "." and ".." segments resolved
 * lexically and no trailing slash; a relative path is made absolute against
 * the working directory. Other schemes ("s3://b/k") are returned unchanged.
 * Percent escapes are not decoded (Java's Hadoop paths are written raw too).
 */
int firn_io_uri_normalize(const char *location, firn_arena *a, char **out, firn_error *err);
/* The local path of a "file:" location or absolute path (after normalising),
 * allocated like firn_io_uri_normalize(). FIRN_ERR_INVALID for other schemes. */
int firn_io_uri_to_path(const char *location, firn_arena *a, char **out, firn_error *err);
/* The scheme of a location without ':' into buf ("file" for plain paths). */
const char *firn_io_uri_scheme(const char *location, char *buf, size_t n);

/* ------------------------------------------------------------ S3 */

/*
 * The S3 io (src/io/s3.c): locations "s3://bucket/key" (also s3a://, s3n://),
 * requests through libcurl signed with AWS SigV4 (CURLOPT_AWS_SIGV4).
 *  - create without overwrite is PUT (or CompleteMultipartUpload) with
 *    "If-None-Match: *": a taken key answers 412 and the create fails with
 *    FIRN_ERR_CONFLICT. Stores that ignore the header would overwrite: for them
 *    set conditional_writes = 0, which checks with HEAD before the PUT — RACY
 *    (two writers may both see the key free; the last one wins).
 *  - files larger than multipart_threshold are sent as a multipart upload of
 *    part_size parts, up to upload_concurrency parts at once (threads of the
 *    writer; a writer holds at most (upload_concurrency + 1) x part_size
 *    bytes), completed with the parts in order, aborted on any failure (no
 *    parts left behind).
 *  - reads are ranged GETs; list is ListObjectsV2 (list_page_size keys a page,
 *    following continuation tokens); delete_batch is DeleteObjects.
 *  - every request is retried with exponential backoff and jitter on
 *    connection errors, timeouts, 5xx, 429 and 409 conflicts of concurrent
 *    conditional writes, up to max_attempts. Injected faults (op "s3", see
 *    firn_io_fault_arm) fail one attempt as if the server answered 503.
 * Settings, strongest first: the fields of firn_io_s3_options, then the
 * environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
 * AWS_REGION / AWS_DEFAULT_REGION, AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL,
 * AWS_PROFILE, FIRN_S3_ENDPOINT and the FIRN_S3_* tuning variables named
 * below), then ~/.aws/credentials and ~/.aws/config (AWS_SHARED_CREDENTIALS_FILE,
 * AWS_CONFIG_FILE) for the profile.
 */
typedef struct firn_io_s3_options {
    const char *endpoint;          /* "http://127.0.0.1:9000"; NULL: AWS for the region */
    const char *region;            /* NULL: environment, profile, else "us-east-1" */
    const char *access_key_id;     /* NULL: environment, then files */
    const char *secret_access_key;
    const char *session_token;
    int path_style;         /* 1 path-style, 0 virtual-hosted, -1 (default) path-style when an
                             * endpoint is set, else virtual-hosted. FIRN_S3_PATH_STYLE */
    int conditional_writes; /* 1 (default) If-None-Match: *; 0 HEAD check (racy), -1 default.
                             * FIRN_S3_CONDITIONAL_WRITES */
    uint64_t multipart_threshold; /* 0: default 8 MiB (as the aws CLI); raised to part_size
                                   * when smaller. FIRN_S3_MULTIPART_THRESHOLD */
    uint64_t part_size;           /* 0: default 8 MiB (AWS wants >= 5 MiB). FIRN_S3_PART_SIZE */
    int upload_concurrency;       /* parts of one file sent at once, 1..64; 0: default 4.
                                   * FIRN_S3_UPLOAD_CONCURRENCY */
    int max_attempts;             /* 0: default 6. FIRN_S3_MAX_ATTEMPTS */
    int backoff_ms;               /* first retry delay, doubled each time; 0: 100 ms */
    long timeout_ms;              /* one request, 0: 120 s (low-speed limit too) */
    unsigned list_page_size;      /* max-keys, 0: 1000. FIRN_S3_LIST_PAGE_SIZE */
    unsigned delete_batch_size;   /* keys per DeleteObjects, 0: 1000 */
    /* moto (the test server) verifies signatures over keys with "!$'()*+,:=@"
     * and query values with "/:@!$'()*,;?" left raw, where AWS wants them
     * percent-encoded (boto3 fails there too): 1 sends them raw, for moto
     * only; -1 default (0). FIRN_S3_RAW_RESERVED_CHARS=1 */
    int raw_reserved_chars;
} firn_io_s3_options;

/* Zero every field and set the "default" markers (-1). */
void firn_io_s3_options_init(firn_io_s3_options *o);
/* Process-wide options used by firn_io_new_for_uri() for s3:// locations
 * (the CLI sets them from its configuration). Strings are copied; NULL
 * resets to the environment alone. */
void firn_io_s3_set_defaults(const firn_io_s3_options *o);
/* An S3 io with o (NULL: the process-wide defaults) completed from the
 * environment and files. Fails with FIRN_ERR_INVALID when no credentials are
 * found. Caller frees with firn_io_free(). */
int firn_io_s3_new(const firn_io_s3_options *o, firn_io **out, firn_error *err);
/* Requests the io sent (each retry counts) and retries it made, for tests. */
void firn_io_s3_counters(const firn_io *io, uint64_t *requests, uint64_t *retries);
/* Multipart parts the io sent, the most parts one writer had on the wire at
 * once, and parts that finished before a lower-numbered part of their upload
 * (each upload is still completed in part order), for tests. */
void firn_io_s3_part_counters(const firn_io *io, uint64_t *parts, uint64_t *max_inflight,
                              uint64_t *out_of_order);

/* ------------------------------------------------------------ fault injection */

/*
 * I/O error injection for tests. Every write-path operation of the local io
 * (op names "write", "fsync", "publish" (the link into place), "mkdir") counts
 * as one step; when armed, the nth counted step from now fails with EIO as if
 * the disk had refused it. op restricts counting to one op name (NULL: all).
 * The environment arms it too: FIRN_IO_FAIL_AT=<n> [FIRN_IO_FAIL_OP=<op>]
 * [FIRN_IO_FAIL_PATH=<substring of the file's location>], read on the first
 * counted step of the process. n <= 0 disarms.
 */
void firn_io_fault_arm(const char *op, long nth);
void firn_io_fault_disarm(void);
/* Steps counted since the last arm (or process start): lets a test learn how
 * many steps an operation takes and then fail each one in turn. */
long firn_io_fault_steps(void);
/* Whether the current step of op must fail (implementations call this; safe
 * from several threads: each step is counted once). */
bool firn_io_fault_check(const char *op);
/* The same for a step on a file: with FIRN_IO_FAIL_PATH set, only steps on
 * locations containing it count (a step without a location never does). */
bool firn_io_fault_check_at(const char *op, const char *location);

/*
 * Named crash points: when FIRN_CRASH_AT equals name (or "name:N", crash on
 * its Nth hit in this process), the process is killed with SIGKILL right here,
 * leaving files and catalog as a power cut after that step would (the page
 * cache survives; fsync'ed state is what counts). The table layer calls this
 * at each commit step; the local io has "io.create.before-publish" and
 * "io.create.after-publish".
 */
void firn_io_crash_point(const char *name);

/* ------------------------------------------------------------ implementations */

/* The vtable an implementation fills (local.c, s3.c). Callers use the
 * firn_io_* functions above, which validate arguments and set error context. */
typedef struct firn_io_ops {
    const char *kind;
    void (*free)(firn_io *io);
    int (*open)(firn_io *io, const char *location, firn_io_reader **out, firn_error *err);
    int (*create)(firn_io *io, const char *location, firn_io_writer **out, firn_error *err);
    int (*stat)(firn_io *io, const char *location, firn_io_stat *st, firn_error *err);
    int (*remove)(firn_io *io, const char *location, firn_error *err);
    /* NULL: firn_io_delete_batch() calls remove for each location. */
    int (*remove_batch)(firn_io *io, const char *const *locations, size_t n, size_t *failed,
                        firn_error *err);
    int (*list)(firn_io *io, const char *prefix, firn_io_list_fn fn, void *ctx, firn_error *err);
} firn_io_ops;

typedef struct firn_io_reader_ops {
    int (*read_at)(firn_io_reader *r, uint64_t off, void *buf, size_t n, firn_error *err);
    void (*close)(firn_io_reader *r);
} firn_io_reader_ops;

typedef struct firn_io_writer_ops {
    int (*write)(firn_io_writer *w, const void *data, size_t n, firn_error *err);
    int (*close)(firn_io_writer *w, firn_error *err); /* frees w */
    void (*abort)(firn_io_writer *w);                  /* frees w */
} firn_io_writer_ops;

/* Embedded first in every implementation's structs. */
struct firn_io {
    const firn_io_ops *ops;
};
struct firn_io_reader {
    const firn_io_reader_ops *ops;
    char *location; /* canonical, owned by the implementation */
    uint64_t size;
};
struct firn_io_writer {
    const firn_io_writer_ops *ops;
    char *location; /* canonical, owned by the implementation */
    uint64_t offset;
};

#endif
