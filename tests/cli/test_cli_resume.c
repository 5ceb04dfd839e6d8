/* tests/cli/test_cli_resume.c: `attn train lm` for N steps, then --resume for M more, ends with the
 * parameters of N + M steps in one run, bit for bit (batches keyed by (seed, step, micro), dropout
 * by (seed, step * accum + micro), AdamW moments in the checkpoint). Runs the binary in $ATTN_BIN.
 */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attn/attn.h"

static char dir[64];

static void run_ok(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void run_ok(const char *fmt, ...) {
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int status = system(cmd);
    if (status != 0) fail_msg("command failed (status %d): %s", status, cmd);
}

static void write_text(const char *path) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; i < 300; i++)
        fprintf(f, "%d bottles of beer on the wall, %d bottles of beer; take %d down.\n", 300 - i,
                300 - i, i % 7 + 1);
    fclose(f);
}

/* Both checkpoints hold the same parameters, exactly. */
static void assert_same_params(const char *a_path, const char *b_path) {
    attn_model *a = NULL, *b = NULL;
    assert_int_equal(attn_model_load(a_path, &a), ATTN_OK);
    assert_int_equal(attn_model_load(b_path, &b), ATTN_OK);
    size_t n = attn_model_num_params(a);
    assert_int_equal(n, attn_model_num_params(b));
    const float *pa = attn_model_params(a), *pb = attn_model_params(b);
    for (size_t i = 0; i < n; i++)
        if (memcmp(&pa[i], &pb[i], sizeof(float)) != 0)
            fail_msg("parameter %zu of %zu differs: %.9g (straight) vs %.9g (resumed)", i, n,
                     (double)pa[i], (double)pb[i]);
    attn_model_free(a);
    attn_model_free(b);
}

/* The checkpoint's training state (step, the run's seed) and the CLI's tokenizer metadata. */
static void assert_step(const char *path, long want) {
    attn_model *m = NULL;
    attn_train_state st;
    assert_int_equal(attn_checkpoint_load(path, &m, NULL, &st), ATTN_OK);
    assert_int_equal(st.step, want);
    assert_int_equal(st.seed, 11);
    attn_model_free(m);
    char *tokenizer = NULL;
    assert_int_equal(attn_checkpoint_read_meta(path, "tokenizer", &tokenizer), ATTN_OK);
    assert_string_equal(tokenizer, "bytes");
    free(tokenizer);
}

static void test_resume_matches_straight_run(void **state) {
    (void)state;
    const char *bin = getenv("ATTN_BIN");
    if (!bin) skip();
    char text[128], straight[128], resumed[128];
    snprintf(text, sizeof text, "%s/text.txt", dir);
    snprintf(straight, sizeof straight, "%s/straight.safetensors", dir);
    snprintf(resumed, sizeof resumed, "%s/resumed.safetensors", dir);
    write_text(text);
    /* Dropout and two micro-batches exercise both seeded streams; the warm-up spans the resume. */
    const char *opts = "--layers 2 --d-model 16 --heads 2 --context 12 --batch 3 --accum 2 "
                       "--dropout 0.1 --schedule constant --warmup 4 --lr 3e-3 --seed 11 "
                       "--eval-every 2 --eval-batches 1 --threads 2 --quiet";
    run_ok("%s train lm --data %s --out %s --steps 6 %s >/dev/null", bin, text, straight, opts);
    run_ok("%s train lm --data %s --out %s --steps 3 %s >/dev/null", bin, text, resumed, opts);
    assert_step(resumed, 3);
    run_ok("%s train lm --data %s --out %s --steps 6 --resume %s >/dev/null", bin, text, resumed,
           opts);
    assert_step(resumed, 6);
    assert_same_params(straight, resumed);
}

static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/attn_cli_resume_XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resume_matches_straight_run),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
