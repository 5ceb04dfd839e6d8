/* tests/train/test_checkpoint.c: training checkpoints (src/train/checkpoint.c): exact round trips
 * of parameters, moments, step, state and extra metadata; missing optimizer state; atomic
 * replacement when a save fails; truncated and malformed files; other model families. */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attn/model.h"
#include "attn/train.h"
#include "io/safetensors.h"
#include "models/model_io.h"
#include "train/optimizer_internal.h"

static char dir[64];

static int make_dir(void **state) {
    (void)state;
    strcpy(dir, "/tmp/attn_test_ckpt_XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state) {
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* dir/name in a static buffer (one at a time). */
static const char *path_of(const char *name) {
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

static attn_config tiny_config(attn_arch arch) {
    attn_config cfg = attn_config_default(arch);
    cfg.vocab_size = 13, cfg.max_len = 8, cfg.d_model = 8, cfg.n_heads = 2, cfg.d_ff = 16;
    cfg.n_layers = 1;
    if (arch == ATTN_ARCH_SEQ2SEQ) cfg.n_dec_layers = 1;
    if (arch == ATTN_ARCH_CLASSIFIER) cfg.n_classes = 3;
    return cfg;
}

static attn_model *tiny_model(attn_arch arch, uint64_t seed) {
    attn_config cfg = tiny_config(arch);
    attn_model *m = NULL;
    assert_int_equal(attn_model_create(&cfg, seed, &m), ATTN_OK);
    return m;
}

/* A few optimizer steps on random gradients, so that moments and step count are not trivial. */
static void train_steps(attn_model *m, attn_optimizer *opt, attn_rng *rng, int steps) {
    for (int s = 0; s < steps; s++) {
        for (int i = 0; i < attn_model_num_tensors(m); i++) {
            attn_param p;
            assert_int_equal(attn_model_tensor(m, i, &p), ATTN_OK);
            attn_rng_fill_normal(rng, p.grad, (long)p.size, 0.3f);
        }
        assert_int_equal(attn_optimizer_step(opt, m, 1e-2f, NULL), ATTN_OK);
    }
}

static void assert_same_config(const attn_model *a, const attn_model *b) {
    char *ja, *jb;
    assert_int_equal(attn_config_to_json(attn_model_config(a), &ja), ATTN_OK);
    assert_int_equal(attn_config_to_json(attn_model_config(b), &jb), ATTN_OK);
    assert_string_equal(ja, jb);
    free(ja), free(jb);
}

/* Same tensor table, bit-identical parameters. */
static void assert_same_params(const attn_model *a, const attn_model *b) {
    assert_int_equal(attn_model_num_tensors(a), attn_model_num_tensors(b));
    for (int i = 0; i < attn_model_num_tensors(a); i++) {
        attn_param pa, pb;
        assert_int_equal(attn_model_tensor(a, i, &pa), ATTN_OK);
        assert_int_equal(attn_model_tensor(b, i, &pb), ATTN_OK);
        assert_string_equal(pa.name, pb.name);
        assert_int_equal(pa.size, pb.size);
        assert_memory_equal(pa.data, pb.data, pa.size * sizeof(float));
    }
}

static void assert_same_moments(const attn_optimizer *a, const attn_optimizer *b) {
    assert_int_equal(attn_optimizer_num_tensors(a), attn_optimizer_num_tensors(b));
    for (int i = 0; i < attn_optimizer_num_tensors(a); i++) {
        float *ma, *va, *mb, *vb;
        size_t sa, sb;
        assert_int_equal(attn_optimizer_moments(a, i, &ma, &va, &sa), ATTN_OK);
        assert_int_equal(attn_optimizer_moments(b, i, &mb, &vb, &sb), ATTN_OK);
        assert_int_equal(sa, sb);
        assert_memory_equal(ma, mb, sa * sizeof(float));
        assert_memory_equal(va, vb, sa * sizeof(float));
    }
}

static void test_round_trip(void **state) {
    (void)state;
    attn_model *m = tiny_model(ATTN_ARCH_DECODER_LM, 1);
    attn_adamw_params hp = attn_adamw_default_params();
    hp.beta1 = 0.85f, hp.beta2 = 0.98f, hp.eps = 1e-7f, hp.weight_decay = 0.05f,
    hp.clip_norm = 0.7f;
    attn_optimizer *opt;
    assert_int_equal(attn_optimizer_create(m, hp, &opt), ATTN_OK);
    attn_rng rng;
    attn_rng_init(&rng, 2, 0);
    train_steps(m, opt, &rng, 3);
    attn_train_state st = {.step = 3,
                           .tokens = 12345678901L,
                           .seed =
                               0xFEDCBA9876543210ULL, /* above 2^63: a JSON number would lose it */
                           .best_metric = 1.2345678901234567,
                           .best_step = 2};
    attn_meta meta[2] = {{"tokenizer", "bpe-256"}, {"note", "h\xc3\xa9llo \"quoted\"\n{}"}};
    const char *path = path_of("rt.safetensors");
    assert_int_equal(attn_checkpoint_save(path, m, opt, &st, meta, 2), ATTN_OK);

    attn_model *m2 = NULL;
    attn_optimizer *opt2 = NULL;
    attn_train_state st2;
    memset(&st2, 0xab, sizeof st2);
    assert_int_equal(attn_checkpoint_load(path, &m2, &opt2, &st2), ATTN_OK);
    assert_non_null(m2);
    assert_non_null(opt2);
    assert_same_config(m, m2);
    assert_same_params(m, m2);
    assert_same_moments(opt, opt2);
    assert_int_equal(attn_optimizer_steps(opt2), 3);
    attn_adamw_params hp2 = attn_optimizer_params(opt2);
    assert_memory_equal(&hp, &hp2, sizeof hp);
    assert_int_equal(st2.step, 3);
    assert_int_equal(st2.tokens, 12345678901L);
    assert_true(st2.seed == 0xFEDCBA9876543210ULL);
    assert_true(st2.best_metric == 1.2345678901234567);
    assert_int_equal(st2.best_step, 2);
    for (int i = 0; i < 2; i++) {
        char *v = NULL;
        assert_int_equal(attn_checkpoint_read_meta(path, meta[i].key, &v), ATTN_OK);
        assert_string_equal(v, meta[i].value);
        free(v);
    }

    /* resuming continues exactly: one more step with the same gradients on both */
    attn_rng r1, r2;
    attn_rng_init(&r1, 3, 0), attn_rng_init(&r2, 3, 0);
    train_steps(m, opt, &r1, 2);
    train_steps(m2, opt2, &r2, 2);
    assert_same_params(m, m2);
    assert_same_moments(opt, opt2);

    /* loading without the optimizer or the state is fine */
    attn_model *m3 = NULL;
    assert_int_equal(attn_checkpoint_load(path, &m3, NULL, NULL), ATTN_OK);
    attn_model_free(m3);
    /* and attn_model_load accepts a training checkpoint */
    assert_int_equal(attn_model_load(path, &m3), ATTN_OK);
    attn_model_free(m3);

    attn_optimizer_free(opt), attn_optimizer_free(opt2);
    attn_model_free(m), attn_model_free(m2);
}

/* Non-finite best_metric values (a "lower is better" run starts at +inf) survive the JSON. */
static void test_non_finite_best_metric(void **state) {
    (void)state;
    attn_model *m = tiny_model(ATTN_ARCH_DECODER_LM, 4);
    const double values[3] = {INFINITY, -INFINITY, NAN};
    for (int i = 0; i < 3; i++) {
        attn_train_state st = {
            .step = 0, .tokens = 0, .seed = 7, .best_metric = values[i], .best_step = -1};
        const char *path = path_of("inf.safetensors");
        assert_int_equal(attn_checkpoint_save(path, m, NULL, &st, NULL, 0), ATTN_OK);
        attn_model *m2;
        attn_train_state st2;
        assert_int_equal(attn_checkpoint_load(path, &m2, NULL, &st2), ATTN_OK);
        if (isnan(values[i]))
            assert_true(isnan(st2.best_metric));
        else
            assert_true(st2.best_metric == values[i]);
        assert_int_equal(st2.best_step, -1);
        assert_true(st2.seed == 7);
        attn_model_free(m2);
    }
    attn_model_free(m);
}

/* A checkpoint without optimizer state: ATTN_ERR_MISSING when one is asked for, zeros for an
 * absent train_state, and no optimizer tensors in the file. */
static void test_missing_optimizer(void **state) {
    (void)state;
    attn_model *m = tiny_model(ATTN_ARCH_DECODER_LM, 5);
    const char *path = path_of("model_only.safetensors");
    assert_int_equal(attn_checkpoint_save(path, m, NULL, NULL, NULL, 0), ATTN_OK);
    attn_model *m2 = (attn_model *)&m2;
    attn_optimizer *opt2 = (attn_optimizer *)&opt2;
    assert_int_equal(attn_checkpoint_load(path, &m2, &opt2, NULL), ATTN_ERR_MISSING);
    assert_null(m2);
    assert_null(opt2);
    assert_non_null(strstr(attn_last_error(), "optimizer"));
    char *v = (char *)&v;
    assert_int_equal(attn_checkpoint_read_meta(path, "optimizer", &v), ATTN_ERR_MISSING);
    assert_null(v);

    attn_train_state st2 = {.step = 99, .seed = 99};
    assert_int_equal(attn_checkpoint_load(path, &m2, NULL, &st2), ATTN_OK);
    assert_int_equal(st2.step, 0);
    assert_true(st2.seed == 0 && st2.best_metric == 0);
    assert_same_params(m, m2);
    attn_model_free(m2);

    /* attn_model_save files load the same way */
    path = path_of("model_save.safetensors");
    assert_int_equal(attn_model_save(m, path), ATTN_OK);
    assert_int_equal(attn_checkpoint_load(path, &m2, &opt2, NULL), ATTN_ERR_MISSING);
    assert_int_equal(attn_checkpoint_load(path, &m2, NULL, NULL), ATTN_OK);
    assert_same_params(m, m2);
    attn_model_free(m2);
    attn_model_free(m);
}

/* Optimizer metadata present but moment tensors absent: ATTN_ERR_MISSING naming a tensor. */
static void test_missing_moments(void **state) {
    (void)state;
    attn_model *m = tiny_model(ATTN_ARCH_DECODER_LM, 6);
    attn_st_writer *w;
    assert_int_equal(attn_st_writer_create(&w), ATTN_OK);
    assert_int_equal(attn_model_write_tensors(m, w), ATTN_OK);
    assert_int_equal(attn_st_writer_set_metadata(w, "optimizer",
                                                 "{\"beta1\":0.9,\"beta2\":0.999,\"eps\":1e-8,"
                                                 "\"weight_decay\":0,\"clip_norm\":1,\"step\":4}"),
                     ATTN_OK);
    const char *path = path_of("no_moments.safetensors");
    assert_int_equal(attn_st_writer_write(w, path), ATTN_OK);
    attn_st_writer_free(w);
    attn_model *m2;
    attn_optimizer *opt2;
    assert_int_equal(attn_checkpoint_load(path, &m2, &opt2, NULL), ATTN_ERR_MISSING);
    assert_non_null(strstr(attn_last_error(), "optim.m."));
    assert_null(m2);
    assert_null(opt2);
    attn_model_free(m);
}

/* Malformed train_state / optimizer JSON: ATTN_ERR_FORMAT, nothing returned. */
static void test_bad_metadata(void **state) {
    (void)state;
    attn_model *m = tiny_model(ATTN_ARCH_DECODER_LM, 7);
    const char *bad_states[] = {
        "not json",
        "[1, 2]",
        "{\"step\": 1, \"tokens\": 2, \"seed\": 3, \"best_metric\": 0, \"best_step\": 0}",
        "{\"step\": 1.5, \"tokens\": 2, \"seed\": \"3\", \"best_metric\": 0, \"best_step\": 0}",
        "{\"step\": 1, \"tokens\": 2, \"seed\": \"18446744073709551616\", \"best_metric\": 0, "
        "\"best_step\": 0}",
        "{\"step\": 1, \"tokens\": 2, \"seed\": \"-3\", \"best_metric\": 0, \"best_step\": 0}",
        "{\"step\": 1, \"tokens\": 2, \"seed\": \"3\", \"best_step\": 0}",
    };
    const char *path = path_of("bad_meta.safetensors");
    for (size_t i = 0; i < sizeof bad_states / sizeof bad_states[0]; i++) {
        attn_st_writer *w;
        assert_int_equal(attn_st_writer_create(&w), ATTN_OK);
        assert_int_equal(attn_model_write_tensors(m, w), ATTN_OK);
        assert_int_equal(attn_st_writer_set_metadata(w, "train_state", bad_states[i]), ATTN_OK);
        assert_int_equal(attn_st_writer_write(w, path), ATTN_OK);
        attn_st_writer_free(w);
        attn_model *m2 = (attn_model *)&m2;
        attn_train_state st2 = {.step = 42};
        attn_status rc = attn_checkpoint_load(path, &m2, NULL, &st2);
        if (rc != ATTN_ERR_FORMAT) fail_msg("train_state %s: status %d", bad_states[i], rc);
        assert_null(m2);
        assert_int_equal(st2.step, 42); /* untouched */
        /* without asking for the state the file still loads */
        assert_int_equal(attn_checkpoint_load(path, &m2, NULL, NULL), ATTN_OK);
        attn_model_free(m2);
    }
    attn_model_free(m);
}

/* Extra metadata may not use attn's keys or repeat a key; nothing is written then. */
static void test_reserved_metadata(void **state) {
    (void)state;
    attn_model *m = tiny_model(ATTN_ARCH_DECODER_LM, 8);
    const char *reserved[] = {"format", "config", "train_state", "optimizer"};
    const char *path = path_of("reserved.safetensors");
    for (int i = 0; i < 4; i++) {
        attn_meta meta[2] = {{"ok", "1"}, {reserved[i], "x"}};
        assert_int_equal(attn_checkpoint_save(path, m, NULL, NULL, meta, 2), ATTN_ERR_INVALID);
        assert_non_null(strstr(attn_last_error(), reserved[i]));
        assert_int_equal(access(path, F_OK), -1);
    }
    attn_meta dup[2] = {{"k", "1"}, {"k", "2"}};
    assert_int_equal(attn_checkpoint_save(path, m, NULL, NULL, dup, 2), ATTN_ERR_INVALID);
    attn_meta incomplete[1] = {{"k", NULL}};
    assert_int_equal(attn_checkpoint_save(path, m, NULL, NULL, incomplete, 1), ATTN_ERR_INVALID);
    assert_int_equal(attn_checkpoint_save(path, m, NULL, NULL, NULL, 1), ATTN_ERR_INVALID);
    assert_int_equal(attn_checkpoint_save(NULL, m, NULL, NULL, NULL, 0), ATTN_ERR_INVALID);
    assert_int_equal(attn_checkpoint_save(path, NULL, NULL, NULL, NULL, 0), ATTN_ERR_INVALID);
    assert_int_equal(access(path, F_OK), -1);
    attn_model_free(m);
}

/* A save that fails (its temporary file cannot be created: a directory is in the way) leaves the
 * good checkpoint already at the path exactly as it was. */
static void test_failed_save_keeps_old_file(void **state) {
    (void)state;
    attn_model *good = tiny_model(ATTN_ARCH_DECODER_LM, 9);
    attn_model *other = tiny_model(ATTN_ARCH_DECODER_LM, 10);
    attn_train_state st = {.step = 5, .seed = 1};
    const char *p = path_of("keep.safetensors");
    char path[256], blocker[300];
    snprintf(path, sizeof path, "%s", p);
    assert_int_equal(attn_checkpoint_save(path, good, NULL, &st, NULL, 0), ATTN_OK);
    snprintf(blocker, sizeof blocker, "%s.tmp.%ld", path, (long)getpid());
    assert_int_equal(mkdir(blocker, 0700), 0);
    st.step = 6;
    assert_int_equal(attn_checkpoint_save(path, other, NULL, &st, NULL, 0), ATTN_ERR_IO);
    assert_non_null(strstr(attn_last_error(), "keep.safetensors"));
    assert_int_equal(rmdir(blocker), 0);
    attn_model *back;
    attn_train_state st2;
    assert_int_equal(attn_checkpoint_load(path, &back, NULL, &st2), ATTN_OK);
    assert_int_equal(st2.step, 5);
    assert_same_params(good, back);
    attn_model_free(back);
    /* and a directory that does not exist is an i/o error, not a crash */
    assert_int_equal(
        attn_checkpoint_save(path_of("no/such/dir/x.safetensors"), good, NULL, NULL, NULL, 0),
        ATTN_ERR_IO);
    attn_model_free(good), attn_model_free(other);
}

/* Every truncation of a checkpoint is refused with an error, never a crash or a model. */
static void test_truncated(void **state) {
    (void)state;
    attn_model *m = tiny_model(ATTN_ARCH_DECODER_LM, 11);
    attn_optimizer *opt;
    assert_int_equal(attn_optimizer_create(m, attn_adamw_default_params(), &opt), ATTN_OK);
    const char *p = path_of("full.safetensors");
    char full[256];
    snprintf(full, sizeof full, "%s", p);
    attn_train_state st = {.step = 1};
    assert_int_equal(attn_checkpoint_save(full, m, opt, &st, NULL, 0), ATTN_OK);
    FILE *f = fopen(full, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    rewind(f);
    unsigned char *bytes = malloc((size_t)size);
    assert_non_null(bytes);
    assert_int_equal(fread(bytes, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    uint64_t header = 0;
    memcpy(&header, bytes, 8);
    const long cuts[] = {0,
                         1,
                         7,
                         8,
                         9,
                         (long)(8 + header / 2),
                         (long)(8 + header),
                         (long)(8 + header + 4),
                         size / 2,
                         size - 4,
                         size - 1};
    for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
        const char *tp = path_of("cut.safetensors");
        FILE *o = fopen(tp, "wb");
        assert_non_null(o);
        assert_int_equal(fwrite(bytes, 1, (size_t)cuts[c], o), (size_t)cuts[c]);
        fclose(o);
        attn_model *m2 = (attn_model *)&m2;
        attn_optimizer *opt2 = NULL;
        attn_status rc = attn_checkpoint_load(tp, &m2, &opt2, NULL);
        if (rc == ATTN_OK) fail_msg("a file cut to %ld of %ld bytes loaded", cuts[c], size);
        assert_null(m2);
        assert_null(opt2);
        char *v = NULL;
        assert_int_not_equal(attn_checkpoint_read_meta(tp, "config", &v), ATTN_OK);
        assert_null(v);
    }
    attn_model *missing;
    assert_int_equal(attn_checkpoint_load(path_of("absent.safetensors"), &missing, NULL, NULL),
                     ATTN_ERR_IO);
    free(bytes);
    attn_optimizer_free(opt);
    attn_model_free(m);
}

/* Checkpoints of the other families load with their own config (and their optimizer). */
static void test_other_families(void **state) {
    (void)state;
    const attn_arch archs[2] = {ATTN_ARCH_CLASSIFIER, ATTN_ARCH_SEQ2SEQ};
    for (int a = 0; a < 2; a++) {
        attn_model *m = tiny_model(archs[a], 12);
        attn_optimizer *opt;
        assert_int_equal(attn_optimizer_create(m, attn_adamw_default_params(), &opt), ATTN_OK);
        attn_rng rng;
        attn_rng_init(&rng, 13, 0);
        train_steps(m, opt, &rng, 1);
        const char *path = path_of("family.safetensors");
        assert_int_equal(attn_checkpoint_save(path, m, opt, NULL, NULL, 0), ATTN_OK);
        attn_model *m2;
        attn_optimizer *opt2;
        assert_int_equal(attn_checkpoint_load(path, &m2, &opt2, NULL), ATTN_OK);
        assert_int_equal(attn_model_config(m2)->arch, archs[a]);
        assert_same_config(m, m2);
        assert_same_params(m, m2);
        assert_same_moments(opt, opt2);
        char *arch_json = NULL;
        assert_int_equal(attn_checkpoint_read_meta(path, "config", &arch_json), ATTN_OK);
        assert_non_null(strstr(arch_json, attn_arch_name(archs[a])));
        free(arch_json);
        attn_optimizer_free(opt), attn_optimizer_free(opt2);
        attn_model_free(m), attn_model_free(m2);
    }
}

/* Saving with an optimizer made for a different model is refused. */
static void test_mismatched_optimizer(void **state) {
    (void)state;
    attn_model *lm = tiny_model(ATTN_ARCH_DECODER_LM, 14);
    attn_model *cls = tiny_model(ATTN_ARCH_CLASSIFIER, 15);
    attn_optimizer *opt;
    assert_int_equal(attn_optimizer_create(cls, attn_adamw_default_params(), &opt), ATTN_OK);
    const char *path = path_of("mismatch.safetensors");
    assert_int_equal(attn_checkpoint_save(path, lm, opt, NULL, NULL, 0), ATTN_ERR_SHAPE);
    assert_int_equal(access(path, F_OK), -1);
    attn_optimizer_free(opt);
    attn_model_free(lm), attn_model_free(cls);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_non_finite_best_metric),
        cmocka_unit_test(test_missing_optimizer),
        cmocka_unit_test(test_missing_moments),
        cmocka_unit_test(test_bad_metadata),
        cmocka_unit_test(test_reserved_metadata),
        cmocka_unit_test(test_failed_save_keeps_old_file),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_other_families),
        cmocka_unit_test(test_mismatched_optimizer),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
