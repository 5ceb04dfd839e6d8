/* tests/tasks/test_lm.c: language models as library calls (src/tasks/lm.c) with tiny models
 * (1 layer, d_model 16, context 16, a few steps): text to ids through bytes or a BPE (and the
 * refusal of WordPiece), the bytes each id stands for, the tokenizer stored in the checkpoint and
 * loaded with the model, bits per byte of attn_lm_evaluate and of the validation, recomputed here
 * from the windows and the decoded text. */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attn/lm.h"

#define T_CTX 16
#define VOCAB 300

static char dir[64];
static char *corpus; /* a deterministic English-like text */
static size_t corpus_len;
static attn_tokenizer *bpe; /* a byte-level BPE of VOCAB tokens learnt from corpus */

static const char *path_of(const char *name) {
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

static int setup(void **state) {
    (void)state;
    strcpy(dir, "/tmp/attn_test_lm_XXXXXX");
    if (!mkdtemp(dir)) return -1;
    size_t cap = 64 * 1024;
    corpus = malloc(cap);
    if (!corpus) return -1;
    corpus_len = 0;
    for (int i = 1; i <= 200; i++)
        corpus_len += (size_t)snprintf(corpus + corpus_len, cap - corpus_len,
                                       "line %d: the quick brown fox jumps over the lazy dog, "
                                       "%d times. caf\xc3\xa9 na\xc3\xafve\n",
                                       i, i * 7 % 13);
    attn_bpe_train_params bp = attn_bpe_train_default_params();
    bp.vocab_size = VOCAB;
    const char *texts[1] = {corpus};
    return attn_tokenizer_train_bpe(texts, &corpus_len, 1, bp, &bpe) == ATTN_OK ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    attn_tokenizer_free(bpe);
    free(corpus);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static attn_model *tiny_model(int vocab_size) {
    attn_config cfg = attn_lm_default_config();
    cfg.vocab_size = vocab_size, cfg.max_len = T_CTX, cfg.d_model = 16, cfg.n_heads = 2;
    cfg.d_ff = 32, cfg.n_layers = 1;
    attn_model *m;
    assert_int_equal(attn_model_create(&cfg, 7, &m), ATTN_OK);
    return m;
}

static attn_lm_params tiny_params(const attn_tokenizer *tok) {
    attn_lm_params p = attn_lm_default_params();
    p.tokenizer = tok;
    p.batch = 4, p.eval_batches = 2;
    p.train.steps = 4, p.train.eval_every = 2, p.train.save_every = 0;
    p.train.keep_best = 0;
    p.train.schedule = (attn_schedule){.kind = ATTN_SCHEDULE_CONSTANT, .lr = 3e-3f};
    return p;
}

/* The whole corpus encoded (through tok, or bytes), split 9:1 into training and validation. */
static void encode_corpus(const attn_tokenizer *tok, int **ids, size_t *n) {
    assert_int_equal(attn_lm_encode(tok, corpus, corpus_len, ids, n), ATTN_OK);
    assert_true(*n > 10 * (T_CTX + 1));
}

/* ---- attn_lm_encode ------------------------------------------------------------------------- */

static void test_encode_bytes(void **state) {
    (void)state;
    const char text[] = "a\0b\xff\xc3\xa9\n";
    size_t len = sizeof text - 1;
    int *ids;
    size_t n;
    assert_int_equal(attn_lm_encode(NULL, text, len, &ids, &n), ATTN_OK);
    assert_int_equal(n, len);
    for (size_t i = 0; i < len; i++)
        assert_int_equal(ids[i], (unsigned char)text[i]);
    free(ids);
    assert_int_equal(attn_lm_encode(NULL, NULL, 0, &ids, &n), ATTN_OK); /* empty: no ids */
    assert_int_equal(n, 0);
    free(ids);
    assert_int_equal(attn_lm_encode(NULL, NULL, 3, &ids, &n), ATTN_ERR_INVALID);
}

static void test_encode_bpe_is_the_tokenizers(void **state) {
    (void)state;
    const char *text = "the lazy dog jumps, 12 times: caf\xc3\xa9 \xff\xfe odd bytes\n[CLS] too";
    int *want, count, *ids;
    size_t n;
    assert_int_equal(attn_tokenizer_encode(bpe, text, strlen(text), &want, &count), ATTN_OK);
    assert_int_equal(attn_lm_encode(bpe, text, strlen(text), &ids, &n), ATTN_OK);
    assert_int_equal(n, (size_t)count);
    assert_true(n < strlen(text)); /* the merges were used */
    assert_memory_equal(ids, want, n * sizeof *ids);
    free(ids), free(want);

    /* attn_lm_read_text is attn_lm_encode of the file */
    FILE *f = fopen(path_of("text.txt"), "wb");
    assert_non_null(f);
    fwrite(corpus, 1, corpus_len, f);
    fclose(f);
    assert_int_equal(attn_tokenizer_encode(bpe, corpus, corpus_len, &want, &count), ATTN_OK);
    assert_int_equal(attn_lm_read_text(path_of("text.txt"), bpe, &ids, &n), ATTN_OK);
    assert_int_equal(n, (size_t)count);
    assert_memory_equal(ids, want, n * sizeof *ids);
    free(ids), free(want);
    assert_int_equal(attn_lm_read_text(path_of("missing.txt"), bpe, &ids, &n), ATTN_ERR_IO);
    assert_null(ids);
}

static void test_wordpiece_is_refused(void **state) {
    (void)state;
    FILE *f = fopen(path_of("vocab.txt"), "wb");
    assert_non_null(f);
    fputs("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\ndog\nlazy\n##s\n,\n", f);
    fclose(f);
    attn_tokenizer *wp;
    assert_int_equal(attn_tokenizer_load(path_of("vocab.txt"), &wp), ATTN_OK);
    assert_int_equal(attn_tokenizer_get_kind(wp), ATTN_TOKENIZER_WORDPIECE);
    int *ids = (int *)1;
    size_t n = 5;
    assert_int_equal(attn_lm_encode(wp, "the dog", 7, &ids, &n), ATTN_ERR_INVALID);
    assert_null(ids);
    assert_int_equal(n, 0);
    assert_non_null(strstr(attn_last_error(), "WordPiece"));
    assert_int_equal(attn_lm_read_text(path_of("vocab.txt"), wp, &ids, &n), ATTN_ERR_INVALID);
    size_t len = 9;
    assert_null(attn_lm_token_bytes(wp, 5, &len)); /* "the": no bytes of its own in a text */
    assert_int_equal(len, 0);

    /* a model of its vocabulary cannot train or evaluate through it */
    int V = attn_tokenizer_vocab_size(wp);
    attn_model *m = tiny_model(V);
    int text[2 * T_CTX + 2];
    for (int i = 0; i < 2 * T_CTX + 2; i++)
        text[i] = 5 + i % (V - 5);
    attn_lm_params p = tiny_params(wp);
    p.eval_batches = 0;
    assert_int_equal(attn_lm_train(m, NULL, NULL, text, 2 * T_CTX + 2, NULL, 0, &p, NULL),
                     ATTN_ERR_INVALID);
    attn_lm_score sc;
    assert_int_equal(attn_lm_evaluate(m, wp, text, 2 * T_CTX + 2, 2, &sc), ATTN_ERR_INVALID);
    attn_model_free(m);
    attn_tokenizer_free(wp);
}

/* ---- attn_lm_token_bytes -------------------------------------------------------------------- */

static void test_token_bytes_of_bytes(void **state) {
    (void)state;
    for (int id = 0; id < 256; id++) {
        size_t len = 7;
        const char *b = attn_lm_token_bytes(NULL, id, &len);
        assert_non_null(b);
        assert_int_equal(len, 1);
        assert_int_equal((unsigned char)b[0], id);
    }
    size_t len = 7;
    assert_null(attn_lm_token_bytes(NULL, 256, &len));
    assert_int_equal(len, 0);
    len = 7;
    assert_null(attn_lm_token_bytes(NULL, -1, &len));
    assert_int_equal(len, 0);
    assert_non_null(attn_lm_token_bytes(NULL, 65, NULL)); /* len may be NULL */
}

static void test_token_bytes_of_bpe_give_the_text_back(void **state) {
    (void)state;
    const char text[] = " the  lazy\tdog\n\nna\xc3\xafve \xff\x80 bytes, [SEP] 1234567 ";
    size_t text_len = sizeof text - 1;
    int *ids;
    size_t n;
    assert_int_equal(attn_lm_encode(bpe, text, text_len, &ids, &n), ATTN_OK);
    char *joined = malloc(text_len + 1);
    size_t at = 0;
    int longer = 0; /* tokens of more than one byte */
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const char *b = attn_lm_token_bytes(bpe, ids[i], &len);
        assert_non_null(b);
        assert_true(len >= 1);
        assert_true(at + len <= text_len);
        memcpy(joined + at, b, len);
        at += len;
        longer += len > 1;
    }
    assert_int_equal(at, text_len);
    assert_memory_equal(joined, text, text_len);
    assert_true(longer > 0);
    free(joined), free(ids);

    /* the whole corpus too */
    assert_int_equal(attn_lm_encode(bpe, corpus, corpus_len, &ids, &n), ATTN_OK);
    at = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const char *b = attn_lm_token_bytes(bpe, ids[i], &len);
        assert_true(at + len <= corpus_len);
        assert_memory_equal(b, corpus + at, len);
        at += len;
    }
    assert_int_equal(at, corpus_len);
    free(ids);

    /* special tokens stand for no bytes; ids outside the vocabulary for nothing */
    for (int s = 0; s < ATTN_SPECIAL_COUNT; s++) {
        int id = attn_tokenizer_special(bpe, (attn_special)s);
        assert_true(id >= 0);
        size_t len = 7;
        assert_non_null(attn_lm_token_bytes(bpe, id, &len));
        assert_int_equal(len, 0);
    }
    size_t len = 7;
    assert_null(attn_lm_token_bytes(bpe, VOCAB, &len));
    assert_int_equal(len, 0);
    assert_null(attn_lm_token_bytes(bpe, -1, &len));
}

/* ---- the tokenizer in the checkpoint -------------------------------------------------------- */

static void test_checkpoint_carries_the_tokenizer(void **state) {
    (void)state;
    int *ids;
    size_t n;
    encode_corpus(bpe, &ids, &n);
    size_t n_train = n - n / 10;
    attn_model *m = tiny_model(VOCAB);
    attn_lm_params p = tiny_params(bpe);
    const char *path = strcpy(malloc(128), path_of("bpe.safetensors"));
    p.train.save_path = path;
    attn_train_result res;
    assert_int_equal(
        attn_lm_train(m, NULL, NULL, ids, n_train, ids + n_train, n - n_train, &p, &res), ATTN_OK);
    assert_true(res.saved);

    char *want, *stored;
    assert_int_equal(attn_tokenizer_to_json(bpe, &want), ATTN_OK);
    assert_int_equal(attn_checkpoint_read_meta(path, "tokenizer", &stored), ATTN_OK);
    assert_string_equal(stored, want);
    free(stored);

    attn_model *loaded;
    attn_tokenizer *tok;
    assert_int_equal(attn_lm_load(path, &loaded, &tok), ATTN_OK);
    assert_non_null(tok);
    char *again;
    assert_int_equal(attn_tokenizer_to_json(tok, &again), ATTN_OK);
    assert_string_equal(again, want);
    free(again);
    assert_int_equal(attn_model_config(loaded)->vocab_size, VOCAB);
    assert_memory_equal(attn_model_params(loaded), attn_model_params(m),
                        attn_model_num_params(m) * sizeof(float));
    int *ids2;
    size_t n2;
    assert_int_equal(attn_lm_encode(tok, corpus, corpus_len, &ids2, &n2), ATTN_OK);
    assert_int_equal(n2, n);
    assert_memory_equal(ids2, ids, n * sizeof *ids);
    free(ids2);
    attn_tokenizer_free(tok);
    attn_model_free(loaded);

    /* a model with a tokenizer cannot be loaded without it */
    loaded = (attn_model *)1;
    assert_int_equal(attn_lm_load(path, &loaded, NULL), ATTN_ERR_INVALID);
    assert_null(loaded);
    assert_non_null(strstr(attn_last_error(), "tokenizer"));
    /* nor its tokenizer read for another vocabulary */
    assert_int_equal(attn_lm_load_tokenizer(path, VOCAB, &tok), ATTN_OK);
    assert_non_null(tok);
    attn_tokenizer_free(tok);
    assert_int_equal(attn_lm_load_tokenizer(path, 256, &tok), ATTN_ERR_FORMAT);
    assert_null(tok);

    /* a caller's own "tokenizer" entry is kept as it is */
    const attn_meta meta[] = {{"tokenizer", want}, {"note", "mine"}};
    p.train.meta = meta, p.train.n_meta = 2;
    p.train.save_path = path_of("own.safetensors");
    attn_model *m2 = tiny_model(VOCAB);
    assert_int_equal(
        attn_lm_train(m2, NULL, NULL, ids, n_train, ids + n_train, n - n_train, &p, NULL), ATTN_OK);
    assert_int_equal(attn_checkpoint_read_meta(path_of("own.safetensors"), "tokenizer", &stored),
                     ATTN_OK);
    assert_string_equal(stored, want);
    free(stored);
    assert_int_equal(attn_checkpoint_read_meta(path_of("own.safetensors"), "note", &stored),
                     ATTN_OK);
    assert_string_equal(stored, "mine");
    free(stored);
    attn_model_free(m2);

    free(want), free(ids), free((void *)path);
    attn_model_free(m);
}

static void test_checkpoint_of_bytes(void **state) {
    (void)state;
    int *ids;
    size_t n;
    encode_corpus(NULL, &ids, &n);
    size_t n_train = n - n / 10;
    attn_model *m = tiny_model(256);
    attn_lm_params p = tiny_params(NULL);
    p.train.steps = 2;
    const char *path = strcpy(malloc(128), path_of("bytes.safetensors"));
    p.train.save_path = path;
    assert_int_equal(
        attn_lm_train(m, NULL, NULL, ids, n_train, ids + n_train, n - n_train, &p, NULL), ATTN_OK);
    char *stored;
    assert_int_equal(attn_checkpoint_read_meta(path, "tokenizer", &stored), ATTN_OK);
    assert_string_equal(stored, "bytes");
    free(stored);
    attn_model *loaded;
    attn_tokenizer *tok = (attn_tokenizer *)1;
    assert_int_equal(attn_lm_load(path, &loaded, &tok), ATTN_OK);
    assert_null(tok);
    attn_model_free(loaded);
    assert_int_equal(attn_lm_load(path, &loaded, NULL), ATTN_OK); /* no tokenizer to take */
    attn_model_free(loaded);
    free(ids), free((void *)path);
    attn_model_free(m);
}

static void test_train_refuses_a_tokenizer_of_another_vocabulary(void **state) {
    (void)state;
    int *ids;
    size_t n;
    encode_corpus(NULL, &ids, &n); /* bytes: valid ids of both vocabularies */
    size_t n_train = n - n / 10;
    attn_model *bytes_model = tiny_model(256), *big = tiny_model(VOCAB + 1);
    attn_lm_params p = tiny_params(bpe);
    p.train.save_path = path_of("refused.safetensors");
    assert_int_equal(
        attn_lm_train(bytes_model, NULL, NULL, ids, n_train, ids + n_train, n - n_train, &p, NULL),
        ATTN_ERR_INVALID);
    assert_non_null(strstr(attn_last_error(), "vocabulary"));
    assert_int_equal(
        attn_lm_train(big, NULL, NULL, ids, n_train, ids + n_train, n - n_train, &p, NULL),
        ATTN_ERR_INVALID);
    p.tokenizer = NULL; /* bytes for a vocabulary of 301 */
    assert_int_equal(
        attn_lm_train(big, NULL, NULL, ids, n_train, ids + n_train, n - n_train, &p, NULL),
        ATTN_ERR_INVALID);
    assert_int_equal(access(path_of("refused.safetensors"), F_OK), -1); /* nothing written */
    attn_lm_score sc;
    assert_int_equal(attn_lm_evaluate(bytes_model, bpe, ids, 100, 2, &sc), ATTN_ERR_INVALID);
    free(ids);
    attn_model_free(bytes_model);
    attn_model_free(big);
}

/* ---- attn_lm_evaluate ----------------------------------------------------------------------- */

static void test_evaluate_bpe_counts_bytes(void **state) {
    (void)state;
    int *ids;
    size_t n;
    /* 5 windows and a short one: (n - 1) is not a multiple of the context */
    assert_int_equal(attn_lm_encode(bpe, corpus + 3, 300, &ids, &n), ATTN_OK);
    assert_true(n > 2 * T_CTX && (n - 1) % T_CTX != 0);
    attn_model *m = tiny_model(VOCAB);
    attn_lm_score sc, sc1;
    assert_int_equal(attn_lm_evaluate(m, bpe, ids, n, 3, &sc), ATTN_OK);
    assert_int_equal(sc.tokens, (long)n - 1);
    char *text;
    size_t text_len;
    assert_int_equal(attn_tokenizer_decode(bpe, ids + 1, (int)n - 1, &text, &text_len), ATTN_OK);
    assert_int_equal(sc.bytes, (long)text_len);
    size_t first;
    attn_lm_token_bytes(bpe, ids[0], &first);
    assert_int_equal(sc.bytes, 300 - (long)first); /* every byte but the first token's */
    assert_true(sc.bytes > sc.tokens);
    free(text);
    assert_true(isfinite(sc.loss) && sc.loss > 0);
    double want = sc.loss * (double)sc.tokens / log(2.0) / (double)sc.bytes;
    assert_true(fabs(sc.bits_per_byte - want) <= 1e-9 * want);
    assert_true(sc.bits_per_byte < sc.loss / log(2.0));
    /* the batch groups the windows, it does not change the figures */
    assert_int_equal(attn_lm_evaluate(m, bpe, ids, n, 1, &sc1), ATTN_OK);
    assert_int_equal(sc1.tokens, sc.tokens);
    assert_int_equal(sc1.bytes, sc.bytes);
    assert_true(fabs(sc1.loss - sc.loss) <= 1e-5 * sc.loss);
    /* errors */
    assert_int_equal(attn_lm_evaluate(m, bpe, ids, 1, 3, &sc), ATTN_ERR_INVALID);
    assert_int_equal(attn_lm_evaluate(m, NULL, ids, n, 3, &sc), ATTN_ERR_INVALID);
    ids[2] = VOCAB;
    assert_int_equal(attn_lm_evaluate(m, bpe, ids, n, 3, &sc), ATTN_ERR_INVALID);
    free(ids);
    attn_model_free(m);
}

static void test_evaluate_bytes(void **state) {
    (void)state;
    int *ids;
    size_t n;
    assert_int_equal(attn_lm_encode(NULL, corpus, 100, &ids, &n), ATTN_OK);
    attn_model *m = tiny_model(256);
    attn_lm_score sc;
    assert_int_equal(attn_lm_evaluate(m, NULL, ids, n, 2, &sc), ATTN_OK);
    assert_int_equal(sc.tokens, 99);
    assert_int_equal(sc.bytes, 99);
    double want = sc.loss / log(2.0);
    assert_true(fabs(sc.bits_per_byte - want) <= 1e-9 * want);
    /* an untrained model is about as good as chance: ln 256 nats */
    assert_true(fabs(sc.loss - log(256.0)) < 0.5);
    free(ids);
    attn_model_free(m);
}

/* ---- bits per byte of the validation -------------------------------------------------------- */

typedef struct {
    int evals;
    long last_step;
    double metrics[2];
} eval_seen;

static void on_progress(const attn_train_progress *p, void *user) {
    eval_seen *e = user;
    if (p->event != ATTN_TRAIN_EVAL) return;
    e->evals++;
    e->last_step = p->step;
    e->metrics[0] = p->metrics[0], e->metrics[1] = p->metrics[1];
}

/* The validation as lm.h describes it: eval_batches batches of `batch` windows of T + 1 ids, the
 * starts spread evenly over [0, n - T - 1]; its mean loss by the model (its last evaluation is of
 * the final parameters) and the bytes of the targets. */
static void recompute(attn_model *m, const attn_tokenizer *tok, const int *val, size_t n_val,
                      int batch, int n_batches, double *loss, long *bytes) {
    long count = (long)batch * n_batches;
    int *tokens = malloc((size_t)batch * T_CTX * sizeof(int));
    int *targets = malloc((size_t)batch * T_CTX * sizeof(int));
    double sum = 0;
    *bytes = 0;
    for (int i = 0; i < n_batches; i++) {
        for (int r = 0; r < batch; r++) {
            long w = (long)i * batch + r;
            size_t start = (size_t)((double)(n_val - T_CTX - 1) * (double)w / (double)(count - 1));
            for (int t = 0; t < T_CTX; t++) {
                tokens[r * T_CTX + t] = val[start + (size_t)t];
                targets[r * T_CTX + t] = val[start + (size_t)t + 1];
                size_t len;
                attn_lm_token_bytes(tok, val[start + (size_t)t + 1], &len);
                *bytes += (long)len;
            }
        }
        attn_batch b = {.B = batch, .T = T_CTX, .tokens = tokens, .targets = targets};
        float l;
        assert_int_equal(attn_model_forward(m, &b, 0, &l), ATTN_OK);
        sum += l;
    }
    *loss = sum / n_batches;
    free(tokens), free(targets);
}

static void validation_case(const attn_tokenizer *tok, double *loss, double *bpb) {
    int *ids;
    size_t n;
    encode_corpus(tok, &ids, &n);
    size_t n_train = n - n / 10;
    attn_model *m = tiny_model(tok ? VOCAB : 256);
    attn_lm_params p = tiny_params(tok);
    eval_seen seen = {0};
    p.train.progress = on_progress, p.train.user = &seen;
    assert_int_equal(
        attn_lm_train(m, NULL, NULL, ids, n_train, ids + n_train, n - n_train, &p, NULL), ATTN_OK);
    assert_int_equal(seen.evals, 2); /* at step 2 and at the end */
    assert_int_equal(seen.last_step, 4);
    double want_loss;
    long bytes;
    recompute(m, tok, ids + n_train, n - n_train, p.batch, p.eval_batches, &want_loss, &bytes);
    double tokens = (double)p.batch * p.eval_batches * T_CTX;
    if (!tok) assert_true(bytes == (long)tokens);
    if (tok) assert_true(bytes > (long)tokens);
    assert_true(fabs(seen.metrics[0] - want_loss) <= 1e-6 * want_loss);
    double want_bpb = seen.metrics[0] * tokens / log(2.0) / (double)bytes;
    assert_true(fabs(seen.metrics[1] - want_bpb) <= 1e-9 * want_bpb);
    *loss = seen.metrics[0], *bpb = seen.metrics[1];
    free(ids);
    attn_model_free(m);
}

static void test_validation_reports_bits_per_byte(void **state) {
    (void)state;
    double loss, bpb;
    validation_case(NULL, &loss, &bpb);
    assert_true(fabs(bpb - loss / log(2.0)) <= 1e-9 * bpb); /* bytes: bits per token */
    validation_case(bpe, &loss, &bpb);
    assert_true(bpb < loss / log(2.0)); /* tokens of more than a byte on average */
}

static void write_file(const char *path, const char *text, size_t len) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
}

/* A prompts file: one prompt per line ("\r\n" too, a last line without "\n"), an empty line a
 * newline, each line through the tokenizer as attn_lm_encode encodes it alone. */
static void test_read_prompts(void **state) {
    (void)state;
    const char *path = path_of("prompts.txt");
    write_file(path, "ab\r\n\n\xff z", 8);
    attn_lm_prompts p;
    assert_int_equal(attn_lm_read_prompts(path, NULL, 8, &p), ATTN_OK);
    assert_int_equal(p.n, 3);
    assert_int_equal(p.len[0], 2);
    assert_true(p.ids[0][0] == 'a' && p.ids[0][1] == 'b');
    assert_true(p.len[1] == 1 && p.ids[1][0] == '\n');
    assert_true(p.len[2] == 3 && p.ids[2][0] == 0xff && p.ids[2][2] == 'z');
    attn_lm_prompts_free(&p);
    assert_null(p.ids);

    write_file(path, "the quick brown fox\ncaf\xc3\xa9\n", 25);
    assert_int_equal(attn_lm_read_prompts(path, bpe, 64, &p), ATTN_OK);
    assert_int_equal(p.n, 2);
    int *want;
    size_t n;
    assert_int_equal(attn_lm_encode(bpe, "caf\xc3\xa9", 5, &want, &n), ATTN_OK);
    assert_int_equal((size_t)p.len[1], n);
    assert_memory_equal(p.ids[1], want, n * sizeof *want);
    free(want);
    attn_lm_prompts_free(&p);

    write_file(path, "short\nmuch too long a line\n", 26);
    assert_int_equal(attn_lm_read_prompts(path, NULL, 8, &p), ATTN_ERR_FORMAT);
    assert_non_null(
        strstr(attn_last_error(), "line 2 has 20 bytes, more than the model's context of 8"));
    assert_null(p.ids);
    write_file(path, "", 0);
    assert_int_equal(attn_lm_read_prompts(path, NULL, 8, &p), ATTN_ERR_FORMAT);
    assert_int_equal(attn_lm_read_prompts(path_of("missing.txt"), NULL, 8, &p), ATTN_ERR_IO);
    unlink(path);
}

/* The texts of a run: 10% held out (back to a character's start under a BPE), the BPE learnt from
 * the training part alone, or a separate validation file. */
static void test_texts_read(void **state) {
    (void)state;
    char path[128], val[128]; /* path_of's buffer is shared */
    snprintf(path, sizeof path, "%s", path_of("texts.txt"));
    snprintf(val, sizeof val, "%s", path_of("val.txt"));
    write_file(path, "abcdefgh\xc3\xa9", 10); /* 10 bytes: byte 9 continues a character */
    attn_lm_texts_params p = attn_lm_texts_default_params();
    p.path = path;
    attn_lm_texts t;
    assert_int_equal(attn_lm_texts_read(&p, &t), ATTN_OK);
    assert_true(t.n_train == 9 && t.n_val == 1 && !t.tokenizer && !t.learnt); /* bytes */
    assert_true(t.train[8] == 0xc3 && t.val[0] == 0xa9);
    attn_lm_texts_free(&t);
    p.tokenizer = bpe;
    assert_int_equal(attn_lm_texts_read(&p, &t), ATTN_OK);
    int *want;
    size_t n;
    assert_int_equal(attn_lm_encode(bpe, "abcdefgh", 8, &want, &n), ATTN_OK);
    assert_int_equal(t.n_train, n);
    assert_memory_equal(t.train, want, n * sizeof *want);
    free(want);
    assert_ptr_equal(t.tokenizer, bpe);
    attn_lm_texts_free(&t);

    write_file(path, corpus, corpus_len);
    p.tokenizer = NULL, p.vocab_size = VOCAB;
    assert_int_equal(attn_lm_texts_read(&p, &t), ATTN_OK);
    assert_non_null(t.learnt);
    assert_ptr_equal(t.tokenizer, t.learnt);
    attn_bpe_train_params bp = attn_bpe_train_default_params();
    bp.vocab_size = VOCAB;
    size_t n_train = corpus_len - corpus_len / 10;
    const char *texts[1] = {corpus};
    attn_tokenizer *alone;
    assert_int_equal(attn_tokenizer_train_bpe(texts, &n_train, 1, bp, &alone), ATTN_OK);
    char *j1, *j2;
    assert_int_equal(attn_tokenizer_to_json(alone, &j1), ATTN_OK);
    assert_int_equal(attn_tokenizer_to_json(t.learnt, &j2), ATTN_OK);
    assert_string_equal(j1, j2);
    free(j1), free(j2);
    attn_tokenizer_free(alone);
    attn_lm_texts_free(&t);

    write_file(val, "xyz", 3);
    p.vocab_size = 0, p.val_path = val;
    assert_int_equal(attn_lm_texts_read(&p, &t), ATTN_OK);
    assert_true(t.n_train == corpus_len && t.n_val == 3 && t.val[2] == 'z');
    attn_lm_texts_free(&t);
    p.val_path = path_of("missing.txt");
    assert_int_equal(attn_lm_texts_read(&p, &t), ATTN_ERR_IO);
    assert_null(t.train);
    p.val_path = NULL, p.val_fraction = 1;
    assert_int_equal(attn_lm_texts_read(&p, &t), ATTN_ERR_INVALID);
    unlink(path), unlink(val);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_bytes),
        cmocka_unit_test(test_encode_bpe_is_the_tokenizers),
        cmocka_unit_test(test_wordpiece_is_refused),
        cmocka_unit_test(test_token_bytes_of_bytes),
        cmocka_unit_test(test_token_bytes_of_bpe_give_the_text_back),
        cmocka_unit_test(test_checkpoint_carries_the_tokenizer),
        cmocka_unit_test(test_checkpoint_of_bytes),
        cmocka_unit_test(test_train_refuses_a_tokenizer_of_another_vocabulary),
        cmocka_unit_test(test_evaluate_bpe_counts_bytes),
        cmocka_unit_test(test_evaluate_bytes),
        cmocka_unit_test(test_validation_reports_bits_per_byte),
        cmocka_unit_test(test_read_prompts),
        cmocka_unit_test(test_texts_read),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
