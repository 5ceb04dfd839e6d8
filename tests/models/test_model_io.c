/* tests/models/test_model_io.c: what attn_model_load refuses before and after allocating
 * (src/models/model_io.c): a config that asks for more than the file holds fails before the model
 * is allocated, and a NaN or infinite parameter is refused naming its tensor. The round trip itself is tests/models/test_model.c. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */

#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attn/attn.h"
#include "io/safetensors.h"

static char dir[256], path[512];

static int setup(void **state) {
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/attn_test_mio_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) return -1;
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    return 0;
}

static int teardown(void **state) {
    unlink(path);
    return rmdir(dir);
}

static void assert_error_mentions(const char *needle) {
    if (!strstr(attn_last_error(), needle))
        fail_msg("error \"%s\" does not mention \"%s\"", attn_last_error(), needle);
}

/* A checkpoint whose config is `cfg` but whose only tensor is a (2, 2) "embed.tok.weight" (or
 * none); returns the file's size. */
static long write_small_file(const attn_config *cfg, int with_tensor) {
    static const float tok[4] = {1, 2, 3, 4};
    int64_t shape[2] = {2, 2};
    char *json;
    assert_int_equal(attn_config_to_json(cfg, &json), ATTN_OK);
    attn_st_writer *w;
    assert_int_equal(attn_st_writer_create(&w), ATTN_OK);
    assert_int_equal(attn_st_writer_set_metadata(w, "format", "attn-checkpoint-v1"), ATTN_OK);
    assert_int_equal(attn_st_writer_set_metadata(w, "config", json), ATTN_OK);
    if (with_tensor)
        assert_int_equal(attn_st_writer_add(w, "embed.tok.weight", ATTN_DTYPE_F32, tok, 2, shape),
                         ATTN_OK);
    assert_int_equal(attn_st_writer_write(w, path), ATTN_OK);
    attn_st_writer_free(w);
    free(json);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (long)st.st_size;
}

/* d_model 4096 x 48 layers is about 10^10 parameters, 38 GB in f32 (and as much again for the
 * gradients): a file of a few hundred bytes must not get that far. The address space is capped at
 * 16 GiB for the test (not under the sanitizers, whose shadow memory needs more), so an attempt to
 * allocate the model would fail as ATTN_ERR_NOMEM instead of passing unseen on an overcommitting
 * system. */
static void test_config_larger_than_the_file(void **state) {
    struct rlimit old, capped;
    int limited = !tu_sanitized() && getrlimit(RLIMIT_AS, &old) == 0;
    if (limited) {
        capped = old;
        capped.rlim_cur = (rlim_t)16 << 30;
        if (old.rlim_cur != RLIM_INFINITY && old.rlim_cur < capped.rlim_cur)
            capped.rlim_cur = old.rlim_cur;
        limited = setrlimit(RLIMIT_AS, &capped) == 0;
    }
    attn_config c = attn_config_default(ATTN_ARCH_DECODER_LM);
    c.d_model = 4096;
    c.n_heads = 32;
    c.d_ff = 16384;
    c.n_layers = 48;
    c.vocab_size = 50257;
    c.max_len = 2048;
    long size = write_small_file(&c, 1);
    assert_true(size < 1024);
    attn_model *m = (attn_model *)1;
    assert_int_equal(attn_model_load(path, &m), ATTN_ERR_SHAPE);
    assert_null(m);
    assert_error_mentions("model.safetensors");
    assert_error_mentions("does not hold the model its config describes");
    assert_error_mentions("d_model 4096, 48 layers");
    assert_error_mentions("'embed.tok.weight' has shape (2, 2); expected (50257, 4096)");

    write_small_file(&c, 0);
    assert_int_equal(attn_model_load(path, &m), ATTN_ERR_MISSING);
    assert_error_mentions("'embed.tok.weight' is missing");
    if (limited) assert_int_equal(setrlimit(RLIMIT_AS, &old), 0);
}

/* A model saved with one non-finite parameter is refused at load, naming the tensor. */
static void test_non_finite_parameter(void **state) {
    attn_config c = attn_config_default(ATTN_ARCH_CLASSIFIER);
    c.vocab_size = 11;
    c.max_len = 8;
    c.d_model = 8;
    c.n_heads = 2;
    c.d_ff = 16;
    c.n_layers = 1;
    c.n_classes = 2;
    attn_model *m, *back;
    assert_int_equal(attn_model_create(&c, 3, &m), ATTN_OK);
    assert_int_equal(attn_model_save(m, path), ATTN_OK);
    assert_int_equal(attn_model_load(path, &back), ATTN_OK); /* finite: loads */
    attn_model_free(back);

    int last = attn_model_num_tensors(m) - 1;
    attn_param p;
    assert_int_equal(attn_model_tensor(m, last, &p), ATTN_OK); /* head.bias */
    float values[2] = {NAN, -INFINITY};
    const char *words[2] = {"a NaN", "an infinity"};
    for (int i = 0; i < 2; i++) {
        p.data[1] = values[i];
        assert_int_equal(attn_model_save(m, path), ATTN_OK);
        back = (attn_model *)1;
        assert_int_equal(attn_model_load(path, &back), ATTN_ERR_NUMERIC);
        assert_null(back);
        assert_error_mentions("model.safetensors");
        assert_error_mentions(p.name);
        assert_error_mentions(words[i]);
        assert_error_mentions("element 1");
    }
    attn_model_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_larger_than_the_file),
        cmocka_unit_test(test_non_finite_parameter),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
