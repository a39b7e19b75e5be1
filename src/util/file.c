/* file.c - whole-file helpers and clocks. */
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int firn_read_file(const char *path, uint8_t **out, size_t *len, firn_error *err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int rc = FIRN_RAISE(err, errno == ENOENT ? FIRN_ERR_NOT_FOUND : FIRN_ERR_IO,
                            "cannot open: %s", strerror(errno));
        firn_error_context(err, "%s", path);
        return rc;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int rc = FIRN_RAISE(err, FIRN_ERR_IO, "cannot stat: %s", strerror(errno));
        firn_error_context(err, "%s", path);
        close(fd);
        return rc;
    }
    size_t n = (size_t)st.st_size;
    uint8_t *data = firn_xmalloc(n + 1);
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, data + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            int rc = FIRN_RAISE(err, FIRN_ERR_IO, "cannot read: %s",
                                r < 0 ? strerror(errno) : "file shrank while reading");
            firn_error_context(err, "%s", path);
            free(data);
            close(fd);
            return rc;
        }
        got += (size_t)r;
    }
    close(fd);
    data[n] = 0;
    *out = data;
    *len = n;
    return 0;
}

int firn_write_file(const char *path, const void *data, size_t len, firn_error *err) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) goto fail;
    const uint8_t *p = data;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) goto fail_fd;
        p += w;
        len -= (size_t)w;
    }
    if (fsync(fd) != 0) goto fail_fd;
    if (close(fd) != 0) goto fail;
    return 0;
fail_fd:;
    int saved = errno;
    close(fd);
    errno = saved;
fail:;
    int rc = FIRN_RAISE(err, FIRN_ERR_IO, "cannot write: %s", strerror(errno));
    firn_error_context(err, "%s", path);
    return rc;
}

uint64_t firn_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int64_t firn_now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
