/* tests/io/test_file.c: whole-file reads and atomic replacement (src/io/file.c). */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, chmod, opendir, fork */

#include "testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/error.h"
#include "io/file.h"

static char dir[256];

static const char *in_dir(const char *name) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

static void assert_error_mentions(const char *needle) {
    if (!strstr(attn_last_error(), needle))
        fail_msg("error \"%s\" does not mention \"%s\"", attn_last_error(), needle);
}

/* Number of entries of `d` whose name contains ".tmp." (leftover temporary files). */
static int count_temps(const char *d) {
    DIR *h = opendir(d);
    assert_non_null(h);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(h)) != NULL)
        n += strstr(e->d_name, ".tmp.") != NULL;
    closedir(h);
    return n;
}

static void write_string(const char *path, const char *text) {
    const void *parts[] = {text};
    size_t sizes[] = {strlen(text)};
    assert_int_equal(attn_file_write_atomic(path, parts, sizes, 1), ATTN_OK);
}

static void assert_file_is(const char *path, const char *text) {
    void *data;
    size_t size;
    assert_int_equal(attn_file_read_all(path, &data, &size), ATTN_OK);
    assert_int_equal(size, strlen(text));
    assert_memory_equal(data, text, size);
    assert_int_equal(((char *)data)[size], 0);
    free(data);
}

static int setup(void **state) {
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/attn_test_file_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

/* rm -r, for the test's own scratch folder. */
static void remove_tree(const char *path) {
    DIR *h = opendir(path);
    if (!h) {
        unlink(path);
        return;
    }
    struct dirent *e;
    while ((e = readdir(h)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char child[1024];
        snprintf(child, sizeof child, "%s/%s", path, e->d_name);
        remove_tree(child);
    }
    closedir(h);
    rmdir(path);
}

static int teardown(void **state) {
    remove_tree(dir);
    return 0;
}

static void test_write_then_read_parts(void **state) {
    const char *path = in_dir("parts.bin");
    const void *parts[] = {"hello", NULL, ", ", "world"};
    size_t sizes[] = {5, 0, 2, 5};
    assert_int_equal(attn_file_write_atomic(path, parts, sizes, 4), ATTN_OK);
    assert_file_is(path, "hello, world");
    assert_int_equal(count_temps(dir), 0);
}

static void test_write_empty_file(void **state) {
    const char *path = in_dir("empty.bin");
    assert_int_equal(attn_file_write_atomic(path, NULL, NULL, 0), ATTN_OK);
    assert_file_is(path, "");
}

static void test_overwrite_replaces_content(void **state) {
    const char *path = in_dir("over.txt");
    write_string(path, "the old, longer content");
    write_string(path, "new");
    assert_file_is(path, "new");
    assert_int_equal(count_temps(dir), 0);
}

static void test_overwrite_keeps_permissions(void **state) {
    const char *path = in_dir("mode.txt");
    write_string(path, "a");
    assert_int_equal(chmod(path, 0640), 0);
    write_string(path, "b");
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);
}

static void test_missing_directory_fails_cleanly(void **state) {
    char path[512];
    snprintf(path, sizeof path, "%s/no_such_dir/file.bin", dir);
    const void *parts[] = {"x"};
    size_t sizes[] = {1};
    assert_int_equal(attn_file_write_atomic(path, parts, sizes, 1), ATTN_ERR_IO);
    assert_error_mentions("no_such_dir/file.bin");
    assert_int_equal(count_temps(dir), 0);
    assert_int_equal(access(in_dir("no_such_dir"), F_OK), -1);
}

/* The temporary file is complete when rename fails (the target is a directory): it must be
 * removed, and the target left alone. */
static void test_failed_rename_removes_temp_and_keeps_target(void **state) {
    const char *target = in_dir("a_directory");
    assert_int_equal(mkdir(target, 0755), 0);
    char marker[1024];
    snprintf(marker, sizeof marker, "%s/inside", target);
    write_string(marker, "kept");
    const void *parts[] = {"payload"};
    size_t sizes[] = {7};
    assert_int_equal(attn_file_write_atomic(target, parts, sizes, 1), ATTN_ERR_IO);
    assert_error_mentions("a_directory");
    assert_int_equal(count_temps(dir), 0);
    assert_file_is(marker, "kept");
}

static void test_write_bad_arguments(void **state) {
    const void *parts[] = {NULL};
    size_t sizes[] = {3};
    assert_int_equal(attn_file_write_atomic(in_dir("bad"), parts, sizes, 1), ATTN_ERR_INVALID);
    assert_int_equal(attn_file_write_atomic(NULL, NULL, NULL, 0), ATTN_ERR_INVALID);
    assert_int_equal(attn_file_write_atomic("", NULL, NULL, 0), ATTN_ERR_INVALID);
    assert_int_equal(attn_file_write_atomic(in_dir("bad"), NULL, NULL, -1), ATTN_ERR_INVALID);
    assert_int_equal(access(in_dir("bad"), F_OK), -1);
}

static void test_read_missing_file(void **state) {
    void *data = (void *)1;
    size_t size = 7;
    const char *path = in_dir("does_not_exist.bin");
    assert_int_equal(attn_file_read_all(path, &data, &size), ATTN_ERR_IO);
    assert_error_mentions("does_not_exist.bin");
    assert_error_mentions("No such file");
    assert_ptr_equal(data, (void *)1); /* untouched on failure */
    assert_int_equal(size, 7);
}

static void test_read_directory(void **state) {
    void *data;
    size_t size;
    assert_int_equal(attn_file_read_all(dir, &data, &size), ATTN_ERR_IO);
    assert_error_mentions(dir);
    assert_error_mentions("directory");
}

static void test_read_bad_arguments(void **state) {
    void *data;
    size_t size;
    assert_int_equal(attn_file_read_all(NULL, &data, &size), ATTN_ERR_INVALID);
    assert_int_equal(attn_file_read_all("", &data, &size), ATTN_ERR_INVALID);
    assert_int_equal(attn_file_read_all(dir, NULL, &size), ATTN_ERR_INVALID);
}

/* Files in /proc report a size of 0 but have content: read as a stream. */
static void test_read_proc_file(void **state) {
    if (access("/proc/self/status", R_OK) != 0) skip();
    void *data;
    size_t size;
    assert_int_equal(attn_file_read_all("/proc/self/status", &data, &size), ATTN_OK);
    assert_true(size > 0);
    assert_non_null(strstr(data, "Pid:"));
    free(data);
}

static void test_read_large_binary(void **state) {
    size_t n = 3u << 20; /* bigger than one read buffer, not a multiple of a page */
    unsigned char *buf = malloc(n + 1);
    assert_non_null(buf);
    for (size_t i = 0; i < n; i++)
        buf[i] = (unsigned char)(i * 2654435761u >> 24);
    const void *parts[] = {buf, buf + 1000};
    size_t sizes[] = {1000, n - 1000};
    const char *path = in_dir("large.bin");
    assert_int_equal(attn_file_write_atomic(path, parts, sizes, 2), ATTN_OK);
    void *data;
    size_t size;
    assert_int_equal(attn_file_read_all(path, &data, &size), ATTN_OK);
    assert_int_equal(size, n);
    assert_memory_equal(data, buf, n);
    free(data);
    free(buf);
}

/* Without a bound, /dev/zero would grow the buffer until malloc fails. */
static void test_read_endless_stream_is_bounded(void **state) {
    if (access("/dev/zero", R_OK) != 0) skip();
    void *data = (void *)1;
    size_t size = 7;
    assert_int_equal(attn_file_read_max("/dev/zero", 100000, &data, &size), ATTN_ERR_IO);
    assert_error_mentions("/dev/zero");
    assert_error_mentions("limit of 100000 bytes");
    assert_ptr_equal(data, (void *)1);
    /* the default bound, ATTN_FILE_MAX_STREAM */
    assert_int_equal(attn_file_read_all("/dev/zero", &data, &size), ATTN_ERR_IO);
    char want[64];
    snprintf(want, sizeof want, "limit of %zu bytes", ATTN_FILE_MAX_STREAM);
    assert_error_mentions(want);
    assert_int_equal(size, 7);
}

/* The limit is exact for regular files and streams alike: max_bytes is allowed, one more is not. */
static void test_read_max_is_exact(void **state) {
    const char *path = in_dir("ten.txt");
    write_string(path, "0123456789");
    void *data;
    size_t size;
    assert_int_equal(attn_file_read_max(path, 10, &data, &size), ATTN_OK);
    assert_int_equal(size, 10);
    free(data);
    assert_int_equal(attn_file_read_max(path, 9, &data, &size), ATTN_ERR_IO);
    assert_error_mentions("ten.txt");
    assert_error_mentions("limit of 9 bytes");
    if (access("/proc/self/status", R_OK) != 0) return;
    assert_int_equal(attn_file_read_max("/proc/self/status", 16, &data, &size), ATTN_ERR_IO);
    assert_error_mentions("limit of 16 bytes");
}

static void test_map_regular_file(void **state) {
    const char *path = in_dir("mapped.txt");
    write_string(path, "mapped bytes");
    void *data;
    size_t size;
    assert_int_equal(attn_file_map(path, &data, &size), ATTN_OK);
    assert_int_equal(size, 12);
    assert_memory_equal(data, "mapped bytes", 12);
    /* replacing the file by rename leaves the mapping as it was */
    write_string(path, "other");
    assert_memory_equal(data, "mapped bytes", 12);
    attn_file_unmap(data, size);

    write_string(path, "");
    assert_int_equal(attn_file_map(path, &data, &size), ATTN_OK);
    assert_null(data);
    assert_int_equal(size, 0);
    attn_file_unmap(data, size);
}

static void test_map_refuses_what_is_not_a_regular_file(void **state) {
    void *data = (void *)1;
    size_t size = 7;
    assert_int_equal(attn_file_map(dir, &data, &size), ATTN_ERR_IO);
    assert_error_mentions("directory");
    assert_error_mentions("not a regular file");
    assert_int_equal(attn_file_map(in_dir("absent"), &data, &size), ATTN_ERR_IO);
    assert_error_mentions("No such file");
    if (access("/dev/zero", R_OK) == 0) {
        assert_int_equal(attn_file_map("/dev/zero", &data, &size), ATTN_ERR_IO);
        assert_error_mentions("/dev/zero");
        assert_error_mentions("not a regular file");
    }
    assert_ptr_equal(data, (void *)1);
    assert_int_equal(size, 7);
    assert_int_equal(attn_file_map(NULL, &data, &size), ATTN_ERR_INVALID);
}

/* A pid that no process has: a child that has exited and been reaped. */
static pid_t dead_pid(void) {
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) _exit(0);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return pid;
}

/* A writer killed mid-save leaves PATH.tmp.<pid>: the next save removes it when that pid is dead,
 * and keeps a live writer's temporary and every name that is not exactly PATH.tmp.<pid>. */
static void test_stale_temporaries_are_removed(void **state) {
    const char *path = in_dir("ckpt.bin");
    char stale[600], live[600], other_file[600], not_pid[600], zero[600], lead[600];
    pid_t dead = dead_pid();
    snprintf(stale, sizeof stale, "%s.tmp.%ld", path, (long)dead);
    snprintf(live, sizeof live, "%s.tmp.%ld", path, (long)getppid()); /* the test's parent */
    snprintf(other_file, sizeof other_file, "%s/other.bin.tmp.%ld", dir, (long)dead);
    snprintf(not_pid, sizeof not_pid, "%s.tmp.%ldx", path, (long)dead);
    snprintf(zero, sizeof zero, "%s.tmp.0", path);
    snprintf(lead, sizeof lead, "%s.tmp.0%ld", path, (long)dead);
    const char *kept[] = {live, other_file, not_pid, zero, lead};
    write_string(stale, "half a checkpoint");
    for (int i = 0; i < 5; i++)
        write_string(kept[i], "keep me");
    write_string(path, "the new checkpoint");
    assert_file_is(path, "the new checkpoint");
    assert_int_equal(access(stale, F_OK), -1);
    for (int i = 0; i < 5; i++)
        assert_file_is(kept[i], "keep me");
    for (int i = 0; i < 5; i++)
        unlink(kept[i]);
}

/* What a checkpoint write needs, before a run: not a directory, a folder that exists and is
 * writable (root writes anywhere, so the read-only folder is checked only when it is refused). */
static void test_check_output(void **state) {
    (void)state;
    assert_int_equal(attn_file_check_output(in_dir("new.safetensors")), ATTN_OK);
    assert_int_equal(attn_file_check_output(dir), ATTN_ERR_IO);
    assert_error_mentions("it is a directory");
    assert_int_equal(attn_file_check_output(in_dir("missing/x.safetensors")), ATTN_ERR_IO);
    assert_error_mentions("missing: No such file or directory");
    assert_int_equal(attn_file_check_output(""), ATTN_ERR_INVALID);
    assert_int_equal(attn_file_check_output("bare-name-here"), ATTN_OK); /* the current folder */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_then_read_parts),
        cmocka_unit_test(test_check_output),
        cmocka_unit_test(test_write_empty_file),
        cmocka_unit_test(test_overwrite_replaces_content),
        cmocka_unit_test(test_overwrite_keeps_permissions),
        cmocka_unit_test(test_missing_directory_fails_cleanly),
        cmocka_unit_test(test_failed_rename_removes_temp_and_keeps_target),
        cmocka_unit_test(test_stale_temporaries_are_removed),
        cmocka_unit_test(test_write_bad_arguments),
        cmocka_unit_test(test_read_missing_file),
        cmocka_unit_test(test_read_directory),
        cmocka_unit_test(test_read_bad_arguments),
        cmocka_unit_test(test_read_proc_file),
        cmocka_unit_test(test_read_large_binary),
        cmocka_unit_test(test_read_endless_stream_is_bounded),
        cmocka_unit_test(test_read_max_is_exact),
        cmocka_unit_test(test_map_regular_file),
        cmocka_unit_test(test_map_refuses_what_is_not_a_regular_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
