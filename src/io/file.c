/* io/file.c: whole-file reads, read-only mappings, and atomic replacement (write temp, fsync,
 * rename, fsync dir), after removing the temporaries of writers that died mid-write. */
#define _POSIX_C_SOURCE 200809L /* fsync, fchmod, O_CLOEXEC, O_DIRECTORY, XSI strerror_r */

#include "io/file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "core/error.h"

/* The system's message for errno value `err`, in the caller's buffer (thread-safe, unlike
 * strerror). */
static const char *error_text(int err, char *buf, size_t cap) {
    if (strerror_r(err, buf, cap) != 0) snprintf(buf, cap, "error %d", err);
    return buf;
}

static attn_status io_error(const char *what, const char *path, int err) {
    char reason[128];
    return attn_error(ATTN_ERR_IO, "%s %s: %s", what, path, error_text(err, reason, sizeof reason));
}

/* Reads exactly `size` bytes; nonzero with errno set (0 for a premature end of file) otherwise. */
static int read_exact(int fd, unsigned char *dst, size_t size) {
    size_t done = 0;
    while (done < size) {
        ssize_t n = read(fd, dst + done, size - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (n == 0) errno = 0;
            return -1;
        }
        done += (size_t)n;
    }
    return 0;
}

/* Regular file of known size: one buffer, one read loop, and a check that nothing was appended. */
static attn_status read_sized(int fd, const char *path, size_t size, unsigned char **out) {
    unsigned char *buf = malloc(size + 1);
    if (!buf)
        return attn_error(ATTN_ERR_NOMEM, "reading %s: cannot allocate %zu bytes", path, size);
    unsigned char extra;
    ssize_t n;
    if (read_exact(fd, buf, size) != 0) {
        int err = errno;
        free(buf);
        if (err == 0) return attn_error(ATTN_ERR_IO, "reading %s: file shrank while reading", path);
        return io_error("reading", path, err);
    }
    while ((n = read(fd, &extra, 1)) < 0 && errno == EINTR) {
    }
    if (n != 0) {
        int err = errno;
        free(buf);
        if (n > 0) return attn_error(ATTN_ERR_IO, "reading %s: file grew while reading", path);
        return io_error("reading", path, err);
    }
    buf[size] = 0;
    *out = buf;
    return ATTN_OK;
}

static attn_status too_long(const char *path, size_t max_bytes) {
    return attn_error(ATTN_ERR_IO, "cannot read %s: longer than the limit of %zu bytes", path,
                      max_bytes);
}

/* A pipe or other stream: grow the buffer geometrically until end of file, reading at most
 * max_bytes + 1 bytes (one more than allowed tells "too long" from "exactly the limit"). */
static attn_status read_stream(int fd, const char *path, size_t max_bytes, unsigned char **out,
                               size_t *size) {
    size_t cap = 1 << 16, len = 0;
    if (max_bytes < SIZE_MAX - 2 && cap > max_bytes + 2) cap = max_bytes + 2;
    unsigned char *buf = malloc(cap);
    if (!buf) return attn_error(ATTN_ERR_NOMEM, "reading %s: cannot allocate %zu bytes", path, cap);
    for (;;) {
        if (len > max_bytes) {
            free(buf);
            return too_long(path, max_bytes);
        }
        if (len + 1 >= cap) {
            if (cap > SIZE_MAX / 2) {
                free(buf);
                return attn_error(ATTN_ERR_IO, "reading %s: too large to hold in memory", path);
            }
            size_t bigger_cap = cap * 2;
            if (max_bytes < SIZE_MAX - 2 && bigger_cap > max_bytes + 2) bigger_cap = max_bytes + 2;
            unsigned char *bigger = realloc(buf, bigger_cap);
            if (!bigger) {
                free(buf);
                return attn_error(ATTN_ERR_NOMEM, "reading %s: cannot allocate %zu bytes", path,
                                  bigger_cap);
            }
            buf = bigger;
            cap = bigger_cap;
        }
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int err = errno;
            free(buf);
            return io_error("reading", path, err);
        }
        if (n == 0) break;
        len += (size_t)n;
    }
    buf[len] = 0;
    *out = buf;
    *size = len;
    return ATTN_OK;
}

/* Reads `path` whole: a regular file of up to max_regular bytes by its size, anything else as a
 * stream of up to max_stream bytes. */
static attn_status read_file(const char *path, size_t max_regular, size_t max_stream, void **data,
                             size_t *size) {
    if (!path || !*path || !data || !size)
        return attn_error(ATTN_ERR_INVALID, "attn_file_read_all: NULL argument or empty path");
    int fd;
    while ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 && errno == EINTR) {
    }
    if (fd < 0) return io_error("cannot open", path, errno);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int err = errno;
        close(fd);
        return io_error("cannot stat", path, err);
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return attn_error(ATTN_ERR_IO, "cannot read %s: is a directory", path);
    }
    unsigned char *buf = NULL;
    size_t len = 0;
    attn_status s;
    /* A size of 0 may be a lie (files in /proc and /sys), so those are read as streams too. */
    if (S_ISREG(st.st_mode) && st.st_size > 0) {
        /* st_size + 1 (the NUL) must fit in size_t; ssize_t bounds a single read anyway. */
        if (st.st_size < 0 || (uintmax_t)st.st_size >= (uintmax_t)PTRDIFF_MAX) {
            close(fd);
            return attn_error(ATTN_ERR_IO,
                              "cannot read %s: %jd bytes is too large to hold in memory", path,
                              (intmax_t)st.st_size);
        }
        if ((uintmax_t)st.st_size > (uintmax_t)max_regular) {
            close(fd);
            return too_long(path, max_regular);
        }
        len = (size_t)st.st_size;
        s = read_sized(fd, path, len, &buf);
    } else {
        s = read_stream(fd, path, max_stream, &buf, &len);
    }
    close(fd);
    if (s != ATTN_OK) return s;
    *data = buf;
    *size = len;
    return ATTN_OK;
}

attn_status attn_file_read_all(const char *path, void **data, size_t *size) {
    return read_file(path, SIZE_MAX, ATTN_FILE_MAX_STREAM, data, size);
}

attn_status attn_file_read_max(const char *path, size_t max_bytes, void **data, size_t *size) {
    return read_file(path, max_bytes, max_bytes, data, size);
}

/* ---- mapping ---- */

attn_status attn_file_map(const char *path, void **data, size_t *size) {
    if (!path || !*path || !data || !size)
        return attn_error(ATTN_ERR_INVALID, "attn_file_map: NULL argument or empty path");
    int fd;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer just to be refused below */
    while ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0 && errno == EINTR) {
    }
    if (fd < 0) return io_error("cannot open", path, errno);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int err = errno;
        close(fd);
        return io_error("cannot stat", path, err);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return attn_error(ATTN_ERR_IO, "cannot map %s: %s, not a regular file", path,
                          S_ISDIR(st.st_mode) ? "a directory" : "a pipe, device or socket");
    }
    if (st.st_size < 0 || (uintmax_t)st.st_size >= (uintmax_t)PTRDIFF_MAX) {
        close(fd);
        return attn_error(ATTN_ERR_IO, "cannot map %s: %jd bytes is too large to address", path,
                          (intmax_t)st.st_size);
    }
    void *p = NULL;
    if (st.st_size > 0) {
        p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            int err = errno;
            close(fd);
            return io_error("cannot map", path, err);
        }
    }
    close(fd); /* the mapping outlives the descriptor */
    *data = p;
    *size = (size_t)st.st_size;
    return ATTN_OK;
}

void attn_file_unmap(void *data, size_t size) {
    if (data) munmap(data, size);
}

/* ---- atomic write ---- */

static int write_all(int fd, const unsigned char *src, size_t size) {
    while (size > 0) {
        ssize_t n = write(fd, src, size);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        src += n;
        size -= (size_t)n;
    }
    return 0;
}

/* The directory part of `path` as a new string ("." for a bare name, "/" for "/name"); NULL when
 * out of memory. */
static char *parent_dir(const char *path) {
    const char *slash = strrchr(path, '/');
    size_t len = slash ? (size_t)(slash - path) : 1;
    if (slash && len == 0) len = 1; /* "/file": the root */
    char *dir = malloc(len + 1);
    if (!dir) return NULL;
    if (slash)
        memcpy(dir, path, len);
    else
        dir[0] = '.';
    dir[len] = 0;
    return dir;
}

attn_status attn_file_check_output(const char *path) {
    if (!path || !*path) return attn_error(ATTN_ERR_INVALID, "check writable: no path");
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return attn_error(ATTN_ERR_IO, "cannot write '%s': it is a directory", path);
    char *dir = parent_dir(path);
    if (!dir) return attn_error(ATTN_ERR_NOMEM, "check writable: out of memory");
    attn_status s = ATTN_OK;
    if (access(dir, W_OK) != 0) {
        char buf[128];
        s = attn_error(ATTN_ERR_IO, "cannot write '%s': %s: %s", path, dir,
                       error_text(errno, buf, sizeof buf));
    }
    free(dir);
    return s;
}

/* fsync of the directory holding `path`, so that a rename into it survives a crash. Filesystems
 * that cannot sync a directory (EINVAL) are taken at their word. */
static attn_status sync_parent_dir(const char *path) {
    char *dir = parent_dir(path);
    if (!dir) return attn_error(ATTN_ERR_NOMEM, "writing %s: out of memory", path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    attn_status s = ATTN_OK;
    if (fd < 0) {
        s = io_error("cannot open directory", dir, errno);
    } else {
        if (fsync(fd) != 0 && errno != EINVAL) s = io_error("cannot fsync directory", dir, errno);
        close(fd);
    }
    free(dir);
    return s;
}

/* The writer pid of `name` if it is exactly base + ".tmp." + a positive decimal pid as
 * attn_file_write_atomic writes it (no sign, no leading zero, within pid_t); else 0. */
static pid_t temp_writer(const char *name, const char *base, size_t base_len) {
    if (strncmp(name, base, base_len) != 0 || strncmp(name + base_len, ".tmp.", 5) != 0) return 0;
    const char *digits = name + base_len + 5;
    if (*digits < '1' || *digits > '9') return 0;
    long long pid = 0;
    for (const char *d = digits; *d; d++) {
        if (*d < '0' || *d > '9') return 0;
        pid = pid * 10 + (*d - '0');
        if (pid > (long long)INT32_MAX) return 0; /* pid_t is a 32-bit int on every POSIX ABI */
    }
    return (pid_t)pid;
}

/* Removes the temporaries of earlier writers of `path` that were killed mid-write: regular files
 * named PATH.tmp.<pid> whose process no longer exists (kill(pid, 0) fails with ESRCH). A live
 * writer's file (kill succeeds or says EPERM), our own pid's (create_temp handles it) and every
 * other name are left alone. Best effort: a directory that cannot be listed or a file that cannot
 * be removed is no reason to fail the write. */
static void remove_stale_temps(const char *path) {
    char *dir = parent_dir(path);
    if (!dir) return;
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t base_len = strlen(base), dir_len = strlen(dir);
    DIR *h = opendir(dir);
    struct dirent *e;
    while (h && (e = readdir(h)) != NULL) {
        pid_t pid = temp_writer(e->d_name, base, base_len);
        if (pid <= 0 || pid == getpid()) continue;
        if (kill(pid, 0) == 0 || errno != ESRCH) continue; /* alive, or not ours to judge */
        size_t cap = dir_len + strlen(e->d_name) + 2;
        char *stale = malloc(cap);
        if (!stale) break;
        snprintf(stale, cap, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(stale, &st) == 0 && S_ISREG(st.st_mode)) unlink(stale);
        free(stale);
    }
    if (h) closedir(h);
    free(dir);
}

/* Creates the temporary file exclusively; a stale one left by a crashed process that had our pid
 * is removed and the creation retried once. */
static int create_temp(const char *tmp) {
    int flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC;
    int fd = open(tmp, flags, 0666);
    if (fd < 0 && errno == EEXIST && unlink(tmp) == 0) fd = open(tmp, flags, 0666);
    return fd;
}

attn_status attn_file_write_atomic(const char *path, const void *const *parts, const size_t *sizes,
                                   int nparts) {
    if (!path || !*path || nparts < 0 || (nparts > 0 && (!parts || !sizes)))
        return attn_error(ATTN_ERR_INVALID, "attn_file_write_atomic: bad arguments for %s",
                          path ? path : "(null)");
    for (int i = 0; i < nparts; i++)
        if (!parts[i] && sizes[i] > 0)
            return attn_error(ATTN_ERR_INVALID, "writing %s: part %d is NULL but has %zu bytes",
                              path, i, sizes[i]);

    size_t tmp_cap = strlen(path) + 32;
    char *tmp = malloc(tmp_cap);
    if (!tmp) return attn_error(ATTN_ERR_NOMEM, "writing %s: out of memory", path);
    snprintf(tmp, tmp_cap, "%s.tmp.%ld", path, (long)getpid());

    remove_stale_temps(path);
    int fd = create_temp(tmp);
    if (fd < 0) {
        attn_status s = io_error("cannot create", tmp, errno);
        free(tmp);
        return s;
    }
    attn_status s = ATTN_OK;
    struct stat old;
    if (stat(path, &old) == 0 && S_ISREG(old.st_mode) && fchmod(fd, old.st_mode & 07777) != 0)
        s = io_error("cannot set the permissions of", tmp, errno);
    for (int i = 0; s == ATTN_OK && i < nparts; i++)
        if (sizes[i] > 0 && write_all(fd, parts[i], sizes[i]) != 0)
            s = io_error("cannot write", tmp, errno);
    if (s == ATTN_OK && fsync(fd) != 0) s = io_error("cannot fsync", tmp, errno);
    if (close(fd) != 0 && s == ATTN_OK) s = io_error("cannot close", tmp, errno);
    if (s == ATTN_OK && rename(tmp, path) != 0) {
        char reason[128];
        s = attn_error(ATTN_ERR_IO, "cannot rename %s over %s: %s", tmp, path,
                       error_text(errno, reason, sizeof reason));
    }
    if (s != ATTN_OK) {
        unlink(tmp);
        free(tmp);
        return s;
    }
    free(tmp);
    return sync_parent_dir(path);
}
