/* io/file.h: reading a whole file, and replacing a file atomically.
 *
 * Both functions report failures through attn_error() (core/error.h) with the path and the system's
 * reason in the message, so a caller can pass the status straight up. */
#ifndef ATTN_IO_FILE_H
#define ATTN_IO_FILE_H

#include <stddef.h>

#include "attn/status.h"

/* The most attn_file_read_all reads from a file that is not a regular one (a pipe, a FIFO, a
 * character device, a /proc file): such a file has no size to check first, so without a bound
 * /dev/zero or an endless pipe would grow the buffer until malloc fails. 256 MiB is far above any
 * tokenizer, config or dataset piped in practice; bigger inputs must be regular files. */
#define ATTN_FILE_MAX_STREAM ((size_t)256 << 20)

/* Reads the whole of the file at `path` into a new buffer.
 *
 * On success *data is a malloc'd buffer of *size bytes that the caller frees with free(); one extra
 * NUL byte follows the last byte read (not counted in *size), so a text file can be used as a C
 * string directly. An empty file gives *size == 0 and a buffer holding just the NUL. Regular files
 * are read by their size (any size memory can hold); pipes and other streams are read until end of
 * file, at most ATTN_FILE_MAX_STREAM bytes.
 *
 * Errors (*data and *size are left untouched):
 *   ATTN_ERR_INVALID  a NULL argument or an empty path
 *   ATTN_ERR_IO       the file is missing or cannot be opened, is a directory, a read fails, the
 *                     file changed size while being read, it is too large to address in memory,
 *                     or it is a stream longer than ATTN_FILE_MAX_STREAM (the message gives the
 *                     limit)
 *   ATTN_ERR_NOMEM    the buffer could not be allocated */
attn_status attn_file_read_all(const char *path, void **data, size_t *size);

/* As attn_file_read_all, but any file (regular or not) longer than max_bytes is ATTN_ERR_IO with
 * the limit in the message; a stream is read no further than max_bytes + 1 bytes. */
attn_status attn_file_read_max(const char *path, size_t max_bytes, void **data, size_t *size);

/* Maps the regular file at `path` read-only (MAP_PRIVATE) instead of reading it: *data points at
 * its *size bytes until attn_file_unmap(*data, *size). An empty file gives *data == NULL and
 * *size == 0 (there is nothing to map). The length is fixed when mapped: if another process later
 * truncates the file, touching a page past its new end raises SIGBUS (POSIX offers no way to turn
 * that into an error); replacing the file by rename, as attn_file_write_atomic does, is safe.
 *
 * Errors (*data and *size are left untouched):
 *   ATTN_ERR_INVALID  a NULL argument or an empty path
 *   ATTN_ERR_IO       the file is missing or cannot be opened, is a directory, is not a regular
 *                     file (a pipe, FIFO or device: read those with attn_file_read_all), is too
 *                     large to address, or mmap fails */
attn_status attn_file_map(const char *path, void **data, size_t *size);

/* Releases a mapping made by attn_file_map. NULL is a no-op. */
void attn_file_unmap(void *data, size_t size);

/* Replaces the file at `path` with the concatenation of nparts buffers (parts[i], sizes[i] bytes;
 * parts[i] may be NULL when sizes[i] == 0). nparts may be 0, which writes an empty file.
 *
 * The bytes go to `PATH.tmp.<pid>` in the same directory, which is fsync'd, renamed over `path`,
 * and then the directory is fsync'd so that the rename itself is durable. A reader therefore sees
 * either the old file or the complete new one, never a partial write, even after a crash. If `path`
 * already exists its permission bits are kept; otherwise the new file gets 0666 minus the umask.
 *
 * On any failure before the rename the temporary file is removed and an existing `path` is left
 * exactly as it was. The one failure after the rename is an fsync of the directory (the new content
 * is then in place but perhaps not yet durable); it is reported as ATTN_ERR_IO all the same.
 * Two threads of one process must not write the same path at the same time (they would share the
 * temporary name).
 *
 * Stale temporaries: a writer killed mid-write (SIGKILL, power loss) leaves its `PATH.tmp.<pid>`
 * behind. Before writing, every regular file of the directory named exactly `PATH.tmp.<pid>` (the
 * basename of `path`, ".tmp.", a positive decimal pid without leading zeros) whose process no
 * longer exists (kill(pid, 0) fails with ESRCH) is removed. A file whose pid is alive (or belongs
 * to another user: EPERM) is a writer at work and is kept, as is any other name. Removal is best
 * effort and never fails the write. Pids are judged in the caller's pid namespace, so writers on
 * other hosts (a network filesystem) or in other containers must not share a `path`: one's live
 * temporary could look stale to another. A dead writer's pid reused by an unrelated process keeps
 * its temporary until that process ends.
 *
 * Errors:
 *   ATTN_ERR_INVALID  a NULL or empty path, nparts < 0, or a NULL buffer with a nonzero size
 *   ATTN_ERR_IO       the directory does not exist or is not writable, a write or fsync fails
 *                     (disk full, ...), or the rename fails (e.g. `path` is a directory)
 *   ATTN_ERR_NOMEM    the temporary name could not be allocated */
attn_status attn_file_write_atomic(const char *path, const void *const *parts, const size_t *sizes,
                                   int nparts);

/* What attn_file_write_atomic needs, checked before a long job: path is not a directory and its
 * folder exists and is writable. ATTN_ERR_IO says which ("cannot write 'PATH': it is a
 * directory", "cannot write 'PATH': DIR: No such file or directory"); ATTN_ERR_INVALID for no
 * path. (attn_train checks its save_path so; attn_file_check_writable is its public face.) */
attn_status attn_file_check_output(const char *path);

#endif
