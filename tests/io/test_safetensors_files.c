/* tests/io/test_safetensors_files.c: attn_safetensors_open on files of every kind, in both modes
 * (read into memory, mapped): truncated files, what is not a regular file (a directory,
 * /dev/zero, a FIFO), and the mapped mode giving exactly what the read mode gives. The malformed
 * headers themselves are tests/io/test_safetensors.c (which also runs each one through both
 * modes). */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, mkfifo */

#include "testutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attn/safetensors.h"
#include "io/file.h"
#include "io/safetensors.h"

static char dir[256];
static const unsigned modes[2] = {ATTN_SAFETENSORS_DEFAULT, ATTN_SAFETENSORS_MMAP};

static const char *in_dir(const char *name) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

static int setup(void **state) {
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/attn_test_stf_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
    DIR *h = opendir(dir);
    struct dirent *e;
    while (h && (e = readdir(h)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) unlink(in_dir(e->d_name));
    if (h) closedir(h);
    return rmdir(dir);
}

static void assert_error_mentions(const char *needle) {
    if (!strstr(attn_last_error(), needle))
        fail_msg("error \"%s\" does not mention \"%s\"", attn_last_error(), needle);
}

/* A plain (not atomic, not fsync'd) write: the truncation test writes hundreds of files. */
static void write_bytes(const char *path, const void *bytes, size_t size) {
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(bytes, 1, size, fp), size);
    assert_int_equal(fclose(fp), 0);
}

/* A valid file of three non-empty tensors of different dtypes and some metadata (malloc'd). */
static unsigned char *valid_file(size_t *size) {
    static const float w[6] = {1, -2, 3.5f, 4, 5, 6};
    static const uint16_t h[3] = {0x3c00, 0xc000, 0x0001};
    static const int64_t ids[2] = {7, -3};
    int64_t s23[2] = {2, 3}, s3[1] = {3}, s2[1] = {2};
    attn_st_writer *wr;
    assert_int_equal(attn_st_writer_create(&wr), ATTN_OK);
    assert_int_equal(attn_st_writer_add(wr, "w", ATTN_DTYPE_F32, w, 2, s23), ATTN_OK);
    assert_int_equal(attn_st_writer_add(wr, "h", ATTN_DTYPE_F16, h, 1, s3), ATTN_OK);
    assert_int_equal(attn_st_writer_add(wr, "ids", ATTN_DTYPE_I64, ids, 1, s2), ATTN_OK);
    assert_int_equal(attn_st_writer_set_metadata(wr, "format", "pt"), ATTN_OK);
    void *buf;
    assert_int_equal(attn_st_writer_to_memory(wr, &buf, size), ATTN_OK);
    attn_st_writer_free(wr);
    return buf;
}

/* Every proper prefix of a valid file is refused as malformed, in both modes: the header length
 * runs past the end, the header is cut, or a tensor's bytes lie outside the data section. */
static void test_truncated_files(void **state) {
    size_t size;
    unsigned char *bytes = valid_file(&size);
    const char *path = in_dir("cut.safetensors");
    for (size_t len = 0; len < size; len++) {
        write_bytes(path, bytes, len);
        for (int m = 0; m < 2; m++) {
            attn_safetensors *f = (attn_safetensors *)1;
            attn_status s = attn_safetensors_open(path, modes[m], &f);
            if (s != ATTN_ERR_FORMAT)
                fail_msg("mode %u, %zu of %zu bytes: got %d (%s)", modes[m], len, size, s,
                         attn_last_error());
            assert_null(f);
            assert_error_mentions("cut.safetensors");
        }
    }
    free(bytes);
}

/* The mapped file exposes exactly what the read one does. */
static void test_mapped_equals_read(void **state) {
    size_t size;
    unsigned char *bytes = valid_file(&size);
    const char *path = in_dir("valid.safetensors");
    write_bytes(path, bytes, size);
    attn_safetensors *f[2];
    for (int m = 0; m < 2; m++)
        assert_int_equal(attn_safetensors_open(path, modes[m], &f[m]), ATTN_OK);
    assert_int_equal(attn_safetensors_count(f[1]), 3);
    assert_int_equal(attn_safetensors_count(f[0]), attn_safetensors_count(f[1]));
    for (int i = 0; i < attn_safetensors_count(f[0]); i++) {
        const attn_safetensors_tensor *a = attn_safetensors_at(f[0], i),
                                      *b = attn_safetensors_at(f[1], i);
        assert_string_equal(a->name, b->name);
        assert_int_equal(a->dtype, b->dtype);
        assert_int_equal(a->ndim, b->ndim);
        assert_int_equal(a->nbytes, b->nbytes);
        assert_memory_equal(a->shape, b->shape, sizeof a->shape);
        assert_memory_equal(a->data, b->data, a->nbytes);
        assert_true(a->data != b->data);
    }
    float w[2][6], h[2][3];
    int64_t s23[2] = {2, 3}, s3[1] = {3};
    for (int m = 0; m < 2; m++) {
        assert_int_equal(attn_safetensors_read_f32(f[m], "w", w[m], 2, s23), ATTN_OK);
        assert_int_equal(attn_safetensors_read_f32(f[m], "h", h[m], 1, s3), ATTN_OK);
        assert_string_equal(attn_safetensors_metadata(f[m], "format"), "pt");
    }
    assert_memory_equal(w[0], w[1], sizeof w[0]);
    assert_memory_equal(h[0], h[1], sizeof h[0]);
    assert_true(w[1][2] == 3.5f && h[1][0] == 1.0f && h[1][1] == -2.0f);

    /* replacing the file by rename (as attn's writer does) leaves the open mapping intact */
    const void *parts[] = {"x"};
    size_t one = 1;
    assert_int_equal(attn_file_write_atomic(path, parts, &one, 1), ATTN_OK);
    float again[6];
    assert_int_equal(attn_safetensors_read_f32(f[1], "w", again, 2, s23), ATTN_OK);
    assert_memory_equal(again, w[0], sizeof again);
    for (int m = 0; m < 2; m++)
        attn_safetensors_close(f[m]);
    free(bytes);
}

static void test_missing_and_bad_arguments(void **state) {
    for (int m = 0; m < 2; m++) {
        attn_safetensors *f = (attn_safetensors *)1;
        assert_int_equal(attn_safetensors_open(in_dir("absent.safetensors"), modes[m], &f),
                         ATTN_ERR_IO);
        assert_null(f);
        assert_error_mentions("absent.safetensors");
        assert_error_mentions("No such file");
    }
    attn_safetensors *f = (attn_safetensors *)1;
    assert_int_equal(attn_safetensors_open(NULL, 0, &f), ATTN_ERR_INVALID);
    assert_null(f);
    assert_int_equal(attn_safetensors_open(in_dir("x"), 0, NULL), ATTN_ERR_INVALID);
    assert_int_equal(attn_safetensors_open(in_dir("x"), 4, &f), ATTN_ERR_INVALID);
    assert_error_mentions("unknown flags");
}

static void test_directory(void **state) {
    for (int m = 0; m < 2; m++) {
        attn_safetensors *f = (attn_safetensors *)1;
        assert_int_equal(attn_safetensors_open(dir, modes[m], &f), ATTN_ERR_IO);
        assert_null(f);
        assert_error_mentions(dir);
        assert_error_mentions("directory");
    }
}

/* /dev/zero never ends: the read mode stops at the stream bound, the mapped one refuses it. */
static void test_dev_zero(void **state) {
    if (access("/dev/zero", R_OK) != 0) skip();
    attn_safetensors *f = (attn_safetensors *)1;
    assert_int_equal(attn_safetensors_open("/dev/zero", ATTN_SAFETENSORS_DEFAULT, &f), ATTN_ERR_IO);
    assert_null(f);
    assert_error_mentions("/dev/zero");
    assert_error_mentions("limit");
    assert_int_equal(attn_safetensors_open("/dev/zero", ATTN_SAFETENSORS_MMAP, &f), ATTN_ERR_IO);
    assert_error_mentions("not a regular file");
}

typedef struct {
    const char *path;
    const unsigned char *bytes;
    size_t size;
} fifo_job;

static void *feed_fifo(void *arg) {
    const fifo_job *job = arg;
    int fd = open(job->path, O_WRONLY); /* blocks until the reader opens its end */
    if (fd >= 0) {
        size_t done = 0;
        while (done < job->size) {
            ssize_t n = write(fd, job->bytes + done, job->size - done);
            if (n <= 0) break;
            done += (size_t)n;
        }
        close(fd);
    }
    return NULL;
}

/* A FIFO is read as a stream in the read mode and refused, without blocking, by the mapped one. */
static void test_fifo(void **state) {
    const char *p = in_dir("fifo");
    char path[512];
    snprintf(path, sizeof path, "%s", p);
    if (mkfifo(path, 0600) != 0) skip();
    size_t size;
    unsigned char *bytes = valid_file(&size);
    fifo_job job = {path, bytes, size};
    pthread_t writer;
    assert_int_equal(pthread_create(&writer, NULL, feed_fifo, &job), 0);
    attn_safetensors *f;
    assert_int_equal(attn_safetensors_open(path, ATTN_SAFETENSORS_DEFAULT, &f), ATTN_OK);
    pthread_join(writer, NULL);
    assert_int_equal(attn_safetensors_count(f), 3);
    assert_non_null(attn_safetensors_find(f, "ids"));
    attn_safetensors_close(f);

    f = (attn_safetensors *)1;
    assert_int_equal(attn_safetensors_open(path, ATTN_SAFETENSORS_MMAP, &f), ATTN_ERR_IO);
    assert_null(f);
    assert_error_mentions("not a regular file");
    free(bytes);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_truncated_files),
        cmocka_unit_test(test_mapped_equals_read),
        cmocka_unit_test(test_missing_and_bad_arguments),
        cmocka_unit_test(test_directory),
        cmocka_unit_test(test_dev_zero),
        cmocka_unit_test(test_fifo),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
