/*
 * local.c - FileIO on the local filesystem.
 *
 * A new file is written to a hidden temporary name in its final directory
 * (".<name>.<random>.tmp", created with O_EXCL), fsync'ed, then linked into
 * place without overwriting (renameat2(RENAME_NOREPLACE), or link()+unlink()
 * where the filesystem lacks it) and its directory fsync'ed. A location that
 * is taken fails with FIRN_ERR_CONFLICT: no file is ever overwritten, which is
 * what keeps metadata commits safe on a shared filesystem. Directories are
 * created as needed and fsync'ed into their parents.
 */
#include "io/io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WRITE_BUFFER (1u << 20) /* writes are gathered into 1 MiB syscalls */

static int os_error(firn_error *err, int e, const char *what, const char *location) {
    firn_err_kind kind = FIRN_ERR_IO;
    if (e == ENOENT || e == ENOTDIR) kind = FIRN_ERR_NOT_FOUND;
    else if (e == EEXIST) kind = FIRN_ERR_CONFLICT;
    else if (e == ENOMEM) kind = FIRN_ERR_NOMEM;
    int rc = FIRN_RAISE(err, kind, "%s: %s", what, strerror(e));
    firn_error_context(err, "%s", location);
    if (err && kind == FIRN_ERR_CONFLICT) err->retriable = false;
    return rc;
}

/* The local path (malloc'ed) and canonical location (malloc'ed) of location. */
static int resolve(const char *location, char **path, char **canon, firn_error *err) {
    *path = NULL;
    if (canon) *canon = NULL;
    int rc = firn_io_uri_to_path(location, NULL, path, err);
    if (rc) return rc;
    if (canon) {
        size_t n = strlen(*path);
        *canon = firn_xmalloc(n + 6);
        memcpy(*canon, "file:", 5);
        memcpy(*canon + 5, *path, n + 1);
    }
    return 0;
}

static int fsync_dir(const char *dir, firn_error *err) {
    if (firn_io_fault_check("fsync")) return os_error(err, EIO, "cannot fsync directory", dir);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return os_error(err, errno, "cannot open directory to fsync it", dir);
    if (fsync(fd) != 0 && errno != EINVAL) { /* some filesystems cannot fsync directories */
        int e = errno;
        close(fd);
        return os_error(err, e, "cannot fsync directory", dir);
    }
    close(fd);
    return 0;
}

/* mkdir -p dir (modified in place and restored), fsync'ing each new entry. */
static int make_dirs(char *dir, firn_error *err) {
    struct stat st;
    if (stat(dir, &st) == 0) {
        if (S_ISDIR(st.st_mode)) return 0;
        return os_error(err, ENOTDIR, "cannot create directory", dir);
    }
    if (errno != ENOENT) return os_error(err, errno, "cannot create directory", dir);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        int rc = make_dirs(dir, err);
        *slash = '/';
        if (rc) return rc;
    }
    if (firn_io_fault_check("mkdir")) return os_error(err, EIO, "cannot create directory", dir);
    if (mkdir(dir, 0755) != 0) {
        if (errno == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) return 0; /* a race */
        return os_error(err, errno, "cannot create directory", dir);
    }
    if (!slash) return 0;
    if (slash == dir) return fsync_dir("/", err);
    *slash = '\0';
    int rc = fsync_dir(dir, err);
    *slash = '/';
    return rc;
}

/* ------------------------------------------------------------ reader */

typedef struct local_reader {
    firn_io_reader base;
    int fd;
} local_reader;

static int reader_read_at(firn_io_reader *r, uint64_t off, void *buf, size_t n,
                          firn_error *err) {
    local_reader *lr = (local_reader *)r;
    uint8_t *p = buf;
    while (n) {
        ssize_t got = pread(lr->fd, p, n, (off_t)off);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return os_error(err, errno, "cannot read", r->location);
        if (got == 0) {
            int rc = FIRN_RAISE(err, FIRN_ERR_CORRUPT,
                                "file truncated: it shrank to %llu bytes while being read",
                                (unsigned long long)off);
            firn_error_context(err, "%s", r->location);
            return rc;
        }
        p += got;
        off += (uint64_t)got;
        n -= (size_t)got;
    }
    return 0;
}

static void reader_close(firn_io_reader *r) {
    local_reader *lr = (local_reader *)r;
    close(lr->fd);
    free(r->location);
    free(lr);
}

static const firn_io_reader_ops reader_ops = {reader_read_at, reader_close};

static int local_open(firn_io *io, const char *location, firn_io_reader **out, firn_error *err) {
    (void)io;
    char *path, *canon;
    int rc = resolve(location, &path, &canon, err);
    if (rc) return rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        rc = os_error(err, errno, fd < 0 ? "cannot open file" : "cannot stat file", canon);
    } else if (!S_ISREG(st.st_mode)) {
        rc = FIRN_RAISE(err, FIRN_ERR_INVALID, "cannot open file: not a regular file");
        firn_error_context(err, "%s", canon);
    }
    free(path);
    if (rc) {
        if (fd >= 0) close(fd);
        free(canon);
        return rc;
    }
    local_reader *lr = firn_xcalloc(1, sizeof *lr);
    lr->base.ops = &reader_ops;
    lr->base.location = canon;
    lr->base.size = (uint64_t)st.st_size;
    lr->fd = fd;
    *out = &lr->base;
    return 0;
}

/* ------------------------------------------------------------ writer */

typedef struct local_writer {
    firn_io_writer base;
    int fd;
    char *path; /* final */
    char *tmp;  /* temporary name in the same directory */
    char *dir;
    firn_buf buf;
    bool failed;
} local_writer;

static void writer_free(local_writer *lw) {
    firn_buf_release(&lw->buf);
    free(lw->path);
    free(lw->tmp);
    free(lw->dir);
    free(lw->base.location);
    free(lw);
}

static int write_full(local_writer *lw, const uint8_t *p, size_t n, firn_error *err) {
    if (firn_io_fault_check_at("write", lw->base.location)) {
        lw->failed = true;
        return os_error(err, EIO, "cannot write", lw->base.location);
    }
    while (n) {
        ssize_t w = write(lw->fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) {
            lw->failed = true;
            return os_error(err, errno, "cannot write", lw->base.location);
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int writer_flush(local_writer *lw, firn_error *err) {
    if (lw->buf.len == 0) return 0;
    int rc = write_full(lw, lw->buf.data, lw->buf.len, err);
    lw->buf.len = 0;
    return rc;
}

static int writer_write(firn_io_writer *w, const void *data, size_t n, firn_error *err) {
    local_writer *lw = (local_writer *)w;
    if (lw->failed) {
        int rc = FIRN_RAISE(err, FIRN_ERR_IO, "cannot write: an earlier write to this file failed");
        firn_error_context(err, "%s", w->location);
        return rc;
    }
    int rc = 0;
    if (lw->buf.len + n > WRITE_BUFFER) rc = writer_flush(lw, err);
    if (rc == 0) {
        if (n >= WRITE_BUFFER) rc = write_full(lw, data, n, err);
        else firn_buf_append(&lw->buf, data, n);
    }
    if (rc == 0) w->offset += n;
    return rc;
}

static void writer_abort(firn_io_writer *w) {
    local_writer *lw = (local_writer *)w;
    if (lw->fd >= 0) close(lw->fd);
    unlink(lw->tmp);
    writer_free(lw);
}

/* Link tmp to path unless path exists: 0, or -errno. */
static int publish(const char *tmp, const char *path) {
    if (firn_io_fault_check("publish")) return -EIO;
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0) return 0;
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP && errno != EOPNOTSUPP)
        return -errno;
    /* No RENAME_NOREPLACE here (some network filesystems): link() fails with
     * EEXIST instead of replacing, which is the same guarantee. */
    if (link(tmp, path) != 0) return -errno;
    unlink(tmp); /* if this fails the temporary name is an orphan, the file is fine */
    return 0;
}

static int writer_close(firn_io_writer *w, firn_error *err) {
    local_writer *lw = (local_writer *)w;
    int rc = 0;
    if (lw->failed) {
        rc = FIRN_RAISE(err, FIRN_ERR_IO, "cannot close file: an earlier write failed");
        firn_error_context(err, "%s", w->location);
    }
    if (rc == 0) rc = writer_flush(lw, err);
    if (rc == 0 && firn_io_fault_check("fsync"))
        rc = os_error(err, EIO, "cannot fsync", w->location);
    if (rc == 0 && fsync(lw->fd) != 0) rc = os_error(err, errno, "cannot fsync", w->location);
    if (close(lw->fd) != 0 && rc == 0) rc = os_error(err, errno, "cannot close", w->location);
    lw->fd = -1;
    if (rc) {
        unlink(lw->tmp);
        writer_free(lw);
        return rc;
    }
    firn_io_crash_point("io.create.before-publish");
    int e = publish(lw->tmp, lw->path);
    if (e) {
        unlink(lw->tmp);
        if (e == -EEXIST)
            rc = os_error(err, EEXIST, "cannot create file: it already exists (firn never "
                                       "overwrites a file)", w->location);
        else
            rc = os_error(err, -e, "cannot move new file into place", w->location);
        writer_free(lw);
        return rc;
    }
    firn_io_crash_point("io.create.after-publish");
    rc = fsync_dir(lw->dir, err);
    if (rc) {
        /* Visible but maybe not durable: take it back so that nobody refers to
         * a file a crash could lose. Nothing refers to it yet. */
        unlink(lw->path);
        FIRN_WRAP(err, FIRN_ERR_IO, "cannot make new file durable");
        firn_error_context(err, "%s", w->location);
    }
    writer_free(lw);
    return rc;
}

static const firn_io_writer_ops writer_ops = {writer_write, writer_close, writer_abort};

static int local_create(firn_io *io, const char *location, firn_io_writer **out,
                        firn_error *err) {
    (void)io;
    char *path, *canon;
    int rc = resolve(location, &path, &canon, err);
    if (rc) return rc;
    char *slash = strrchr(path, '/');
    if (!slash || slash[1] == '\0') {
        rc = FIRN_RAISE(err, FIRN_ERR_INVALID, "cannot create file: location names a directory");
        firn_error_context(err, "%s", canon);
        free(path);
        free(canon);
        return rc;
    }
    local_writer *lw = firn_xcalloc(1, sizeof *lw);
    lw->base.ops = &writer_ops;
    lw->base.location = canon;
    lw->fd = -1;
    lw->path = path;
    lw->dir = slash == path ? firn_xstrdup("/") : firn_xmalloc((size_t)(slash - path) + 1);
    if (slash != path) {
        memcpy(lw->dir, path, (size_t)(slash - path));
        lw->dir[slash - path] = '\0';
    }
    struct stat st;
    if (lstat(path, &st) == 0) {
        rc = os_error(err, EEXIST, "cannot create file: it already exists (firn never "
                                   "overwrites a file)", canon);
        goto fail;
    }
    rc = make_dirs(lw->dir, err);
    if (rc) goto fail;
    static unsigned counter;
    const char *base = slash + 1;
    for (int attempt = 0; attempt < 100; attempt++) {
        uint64_t seed = firn_now_ns() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)++counter;
        uint64_t r = firn_xxh64(&seed, sizeof seed, 0);
        size_t n = strlen(lw->dir) + strlen(base) + 40;
        free(lw->tmp);
        lw->tmp = firn_xmalloc(n);
        /* keep the name under NAME_MAX however long the final name is */
        snprintf(lw->tmp, n, "%s/.%.180s.%016llx.tmp", strcmp(lw->dir, "/") ? lw->dir : "", base,
                 (unsigned long long)r);
        lw->fd = open(lw->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (lw->fd >= 0 || errno != EEXIST) break;
    }
    if (lw->fd < 0) {
        rc = os_error(err, errno, "cannot create temporary file", canon);
        goto fail;
    }
    *out = &lw->base;
    return 0;
fail:
    writer_free(lw);
    return rc;
}

/* ------------------------------------------------------------ metadata */

static int local_stat(firn_io *io, const char *location, firn_io_stat *out, firn_error *err) {
    (void)io;
    char *path;
    int rc = resolve(location, &path, NULL, err);
    if (rc) return rc;
    struct stat st;
    if (stat(path, &st) != 0) {
        rc = os_error(err, errno, "cannot stat file", location);
    } else if (!S_ISREG(st.st_mode)) {
        rc = FIRN_RAISE(err, FIRN_ERR_NOT_FOUND, "not a file (a directory or special file)");
        firn_error_context(err, "%s", location);
    } else {
        out->size = (uint64_t)st.st_size;
        out->mtime_ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
    }
    free(path);
    return rc;
}

static int local_remove(firn_io *io, const char *location, firn_error *err) {
    (void)io;
    char *path;
    int rc = resolve(location, &path, NULL, err);
    if (rc) return rc;
    if (unlink(path) != 0 && errno != ENOENT && errno != ENOTDIR)
        rc = os_error(err, errno, "cannot delete file", location);
    free(path);
    return rc;
}

/* Walk the open directory fd whose location is path (no trailing slash). */
static int walk(int fd, firn_buf *path, firn_io_list_fn fn, void *ctx, firn_error *err) {
    DIR *d = fdopendir(fd);
    if (!d) {
        int e = errno;
        close(fd);
        return os_error(err, e, "cannot list directory", firn_buf_cstr(path));
    }
    int rc = 0;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) {
            if (errno) rc = os_error(err, errno, "cannot list directory", firn_buf_cstr(path));
            break;
        }
        const char *name = de->d_name;
        if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'))) continue;
        size_t save = path->len;
        firn_buf_put_u8(path, '/');
        firn_buf_append_str(path, name);
        struct stat st;
        if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno != ENOENT) /* ENOENT: deleted while we looked */
                rc = os_error(err, errno, "cannot stat file", firn_buf_cstr(path));
        } else if (S_ISREG(st.st_mode)) {
            firn_io_entry e = {
                .location = firn_buf_cstr(path),
                .size = (uint64_t)st.st_size,
                .mtime_ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000,
            };
            rc = fn(ctx, &e, err);
        } else if (S_ISDIR(st.st_mode)) {
            int sub = openat(dirfd(d), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0) rc = walk(sub, path, fn, ctx, err);
            else if (errno != ENOENT)
                rc = os_error(err, errno, "cannot list directory", firn_buf_cstr(path));
        } /* symbolic links and special files are not table files: skipped */
        path->len = save;
        if (rc) break;
    }
    closedir(d);
    return rc;
}

static int local_list(firn_io *io, const char *prefix, firn_io_list_fn fn, void *ctx,
                      firn_error *err) {
    (void)io;
    char *dir;
    int rc = resolve(prefix, &dir, NULL, err);
    if (rc) return rc;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        free(dir);
        if (e == ENOENT || e == ENOTDIR) return 0; /* nothing under a missing prefix */
        return os_error(err, e, "cannot list directory", prefix);
    }
    firn_buf path = {0};
    firn_buf_append_str(&path, "file:");
    if (strcmp(dir, "/") != 0) firn_buf_append_str(&path, dir);
    free(dir);
    rc = walk(fd, &path, fn, ctx, err);
    firn_buf_release(&path);
    return rc;
}

static void local_free(firn_io *io) { free(io); }

static const firn_io_ops local_ops = {
    .kind = "local",
    .free = local_free,
    .open = local_open,
    .create = local_create,
    .stat = local_stat,
    .remove = local_remove,
    .remove_batch = NULL,
    .list = local_list,
};

firn_io *firn_io_local_new(void) {
    firn_io *io = firn_xcalloc(1, sizeof *io);
    io->ops = &local_ops;
    return io;
}
