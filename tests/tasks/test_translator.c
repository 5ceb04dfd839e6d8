/* tests/tasks/test_translator.c: a translator trained, saved, loaded and used
 * (src/tasks/translator*.c) on a word-for-word toy language (number words, English to Spanish):
 * small enough to learn in seconds, so the test can demand that it was learned. */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attn/translator.h"

static const char *const en[] = {"one", "two", "three", "four", "five", "six", "seven", "eight"};
static const char *const es[] = {"uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho"};

/* n pairs of 2..5 random number words, "ref<TAB>en<TAB>es" lines. */
static char *make_tsv(int n, uint64_t seed) {
    attn_rng rng;
    attn_rng_init(&rng, seed, 0);
    size_t cap = (size_t)n * 128, len = 0;
    char *s = malloc(cap);
    for (int i = 0; i < n; i++) {
        int k = 2 + (int)attn_rng_below(&rng, 4), w[8];
        for (int j = 0; j < k; j++)
            w[j] = (int)attn_rng_below(&rng, 8);
        len += (size_t)snprintf(s + len, cap - len, "r%d\t", i);
        for (int j = 0; j < k; j++)
            len += (size_t)snprintf(s + len, cap - len, "%s%s", j ? " " : "", en[w[j]]);
        len += (size_t)snprintf(s + len, cap - len, "\t");
        for (int j = 0; j < k; j++)
            len += (size_t)snprintf(s + len, cap - len, "%s%s", j ? " " : "", es[w[j]]);
        len += (size_t)snprintf(s + len, cap - len, "\n");
    }
    return s;
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int exact(const char *const *a, const char *const *b, int n) {
    int k = 0;
    for (int i = 0; i < n; i++)
        k += strcmp(a[i], b[i]) == 0;
    return k;
}

/* The stream callback: line i's translation must be want[i], in order. */
typedef struct {
    char **want;
    long next;
} stream_check;

static int check_line(long line, const char *source, char *const *outs, const float *scores,
                      void *user) {
    stream_check *c = user;
    (void)source, (void)scores;
    assert_int_equal(line, c->next++);
    assert_string_equal(outs[0], c->want[line]);
    return 0;
}

static int stop_now(long line, const char *source, char *const *outs, const float *scores,
                    void *user) {
    (void)line, (void)source, (void)outs, (void)scores, (void)user;
    return 1;
}

static void test_learns_and_round_trips(void **state) {
    (void)state;
    char dir[] = "/tmp/attn_test_translator_XXXXXX", train_path[80], dev_path[80], ckpt[80];
    assert_non_null(mkdtemp(dir));
    snprintf(train_path, sizeof train_path, "%s/train.tsv", dir);
    snprintf(dev_path, sizeof dev_path, "%s/dev.tsv", dir);
    snprintf(ckpt, sizeof ckpt, "%s/mt.safetensors", dir);
    char *a = make_tsv(600, 1), *b = make_tsv(40, 2);
    write_file(train_path, a);
    write_file(dev_path, b);
    free(a), free(b);
    attn_parallel train, dev;
    assert_int_equal(attn_parallel_read(train_path, 1, 2, &train), ATTN_OK);
    assert_int_equal(attn_parallel_read(dev_path, 1, 2, &dev), ATTN_OK);

    attn_translator_params p = attn_translator_default_params();
    p.model.d_model = 32, p.model.n_heads = 2, p.model.d_ff = 64, p.model.max_len = 24;
    p.model.n_layers = 2, p.model.n_dec_layers = 2, p.model.dropout = 0.0f;
    p.model.norm = ATTN_NORM_PRE;
    p.vocab_size = 300, p.max_tokens = 512;
    p.train.steps = tu_sanitized() ? 150 : 1200, p.train.eval_every = 200;
    p.model.label_smoothing = 0.0f;
    p.train.schedule = (attn_schedule){.kind = ATTN_SCHEDULE_COSINE, .lr = 3e-3f, .warmup = 30};
    p.train.save_path = ckpt;
    attn_translator *t = NULL;
    attn_translator_result res;
    assert_int_equal(attn_translator_train(&train, &dev, &p, &t, &res), ATTN_OK);
    assert_int_equal(res.n_train, 600);
    assert_true(res.best_step > 0);

    int n = (int)dev.n;
    char **out = calloc((size_t)n, sizeof *out), **again = calloc((size_t)n, sizeof *again);
    attn_beam_params bp = attn_translator_beam_params(t);
    bp.beam = 3;
    assert_int_equal(
        attn_translator_translate(t, (const char *const *)dev.src, n, &bp, out, NULL, NULL),
        ATTN_OK);
    int right = exact((const char *const *)out, (const char *const *)dev.tgt, n);
    print_message("exact translations: %d of %d\n", right, n);
    if (!tu_sanitized()) assert_true(right >= n * 3 / 4);

    /* the checkpoint holds the kept model: loaded, it translates the same */
    attn_translator *u;
    assert_int_equal(attn_translator_load(ckpt, &u), ATTN_OK);
    assert_int_equal(
        attn_translator_translate(u, (const char *const *)dev.src, n, &bp, again, NULL, NULL),
        ATTN_OK);
    for (int i = 0; i < n; i++)
        assert_string_equal(out[i], again[i]);

    /* the same lines through a stream, 3 at a time ("\r\n" ends, no end on the last) */
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    for (int i = 0; i < n; i++)
        fprintf(f, "%s%s", dev.src[i], i + 1 < n ? (i % 2 ? "\r\n" : "\n") : "");
    fclose(f);
    f = fmemopen(text, size, "r");
    stream_check c = {.want = out};
    long n_cut = 0;
    bp.batch = 3;
    assert_int_equal(attn_translator_translate_stream(u, f, &bp, check_line, &c, &n_cut), ATTN_OK);
    assert_int_equal(c.next, n);
    rewind(f);
    assert_int_equal(attn_translator_translate_stream(u, f, &bp, stop_now, NULL, NULL),
                     ATTN_ERR_ABORTED);
    fclose(f), free(text);
    for (int i = 0; i < n; i++)
        free(out[i]), free(again[i]);

    /* empty lines stay empty and keep their place; the order of the others is kept */
    const char *lines[] = {"one two", "", "three four"};
    char *three[3];
    assert_int_equal(attn_translator_translate(u, lines, 3, &bp, three, NULL, NULL), ATTN_OK);
    assert_string_equal(three[1], "");
    if (!tu_sanitized()) {
        assert_string_equal(three[0], "uno dos");
        assert_string_equal(three[2], "tres cuatro");
    }
    for (int i = 0; i < 3; i++)
        free(three[i]);

    free(out), free(again);
    attn_translator_free(u);
    attn_translator_free(t);
    attn_parallel_free(&train);
    attn_parallel_free(&dev);
    unlink(train_path), unlink(dev_path), unlink(ckpt), rmdir(dir);
}

static int stop_at, steps_seen;
static int stop_early(void *user) {
    (void)user;
    return steps_seen++ >= stop_at;
}

/* A run stopped after 25 steps and resumed ends with the straight run's model, bit for bit;
 * with a moving average of the weights (ema > 0) too, which the state file carries. */
static void resume_case(float ema) {
    char dir[] = "/tmp/attn_test_translator_resume_XXXXXX", tsv[96], a[96], b[96], sa[96], sb[96];
    assert_non_null(mkdtemp(dir));
    snprintf(tsv, sizeof tsv, "%s/train.tsv", dir);
    snprintf(a, sizeof a, "%s/a.safetensors", dir), snprintf(sa, sizeof sa, "%s/a.state", dir);
    snprintf(b, sizeof b, "%s/b.safetensors", dir), snprintf(sb, sizeof sb, "%s/b.state", dir);
    char *text = make_tsv(200, 3);
    write_file(tsv, text);
    free(text);
    attn_parallel train;
    assert_int_equal(attn_parallel_read(tsv, 1, 2, &train), ATTN_OK);
    attn_translator_params p = attn_translator_default_params();
    p.model.d_model = 16, p.model.n_heads = 2, p.model.d_ff = 32, p.model.max_len = 24;
    p.model.n_layers = 1, p.model.n_dec_layers = 1, p.model.dropout = 0.1f;
    p.vocab_size = 280, p.max_tokens = 256, p.dev_sentences = 10;
    p.train.steps = 60, p.train.eval_every = 20;
    p.train.schedule = (attn_schedule){.kind = ATTN_SCHEDULE_COSINE, .lr = 3e-3f, .warmup = 5};
    p.train.ema_decay = ema;
    /* with the average, no dev set: the model returned is the average of the last step, not the
     * best evaluation (which could come from before the stop and hide a difference) */
    const attn_parallel *dev = ema > 0 ? NULL : &train;
    attn_translator *t1, *t2;
    p.train.save_path = a, p.state_path = sa;
    assert_int_equal(attn_translator_train(&train, dev, &p, &t1, NULL), ATTN_OK);
    p.train.save_path = b, p.state_path = sb, p.train.abort = stop_early;
    stop_at = 25, steps_seen = 0;
    assert_int_equal(attn_translator_train(&train, dev, &p, &t2, NULL), ATTN_ERR_ABORTED);
    attn_translator_free(t2);
    p.train.abort = NULL, p.resume = 1;
    attn_translator_result res;
    assert_int_equal(attn_translator_train(&train, dev, &p, &t2, &res), ATTN_OK);
    assert_int_equal(res.train.steps_run, 35);
    size_t n = attn_model_num_params(attn_translator_model(t1));
    assert_memory_equal(attn_model_params(attn_translator_model(t1)),
                        attn_model_params(attn_translator_model(t2)), n * sizeof(float));
    attn_translator_free(t1);
    attn_translator_free(t2);
    attn_parallel_free(&train);
    unlink(tsv), unlink(a), unlink(b), unlink(sa), unlink(sb), rmdir(dir);
}

static void test_resume_is_exact(void **state) {
    (void)state;
    resume_case(0.0f);
}

static void test_resume_with_average_is_exact(void **state) {
    (void)state;
    resume_case(0.9f);
}

static void test_load_refuses_other_models(void **state) {
    (void)state;
    char path[] = "/tmp/attn_test_translator_lm_XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    attn_config cfg = attn_config_default(ATTN_ARCH_DECODER_LM);
    cfg.vocab_size = 20, cfg.max_len = 8, cfg.d_model = 8, cfg.n_heads = 2, cfg.d_ff = 8;
    attn_model *m;
    assert_int_equal(attn_model_create(&cfg, 1, &m), ATTN_OK);
    assert_int_equal(attn_model_save(m, path), ATTN_OK);
    attn_translator *t;
    assert_int_equal(attn_translator_load(path, &t), ATTN_ERR_INVALID);
    assert_non_null(strstr(attn_last_error(), "not a translator"));
    attn_model_free(m);
    unlink(path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_learns_and_round_trips),
        cmocka_unit_test(test_resume_is_exact),
        cmocka_unit_test(test_resume_with_average_is_exact),
        cmocka_unit_test(test_load_refuses_other_models),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
