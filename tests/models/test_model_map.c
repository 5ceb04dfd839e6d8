/* tests/models/test_model_map.c: loading foreign layouts through a name map
 * (src/models/model_map.c).
 *
 * A model's tensors are saved under GPT-2 / BERT names and layouts (Conv1D weights transposed,
 * query/key/value as separate tensors, HF's causal-mask buffer beside them), by code written here
 * independently of the map, then loaded back through a map: every parameter must come back bit for
 * bit. Then each way a map can be wrong is refused with a message naming the tensor. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */

#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attn/attn.h"
#include "io/safetensors.h"

static char path[512];

static int setup(void **state) {
    const char *tmp = getenv("TMPDIR");
    char dir[256];
    snprintf(dir, sizeof dir, "%s/attn_test_map_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) return -1;
    snprintf(path, sizeof path, "%s/foreign.safetensors", dir);
    return 0;
}

static int teardown(void **state) {
    unlink(path);
    char *slash = strrchr(path, '/');
    *slash = 0;
    return rmdir(path);
}

static void assert_error_mentions(const char *needle) {
    if (!strstr(attn_last_error(), needle))
        fail_msg("error \"%s\" does not mention \"%s\"", attn_last_error(), needle);
}

static attn_config tiny(attn_arch arch, attn_norm norm) {
    attn_config c = attn_config_default(arch);
    c.vocab_size = 13;
    c.max_len = 12;
    c.d_model = 16;
    c.n_heads = 2;
    c.d_ff = 24;
    c.n_layers = 2;
    c.n_classes = arch == ATTN_ARCH_CLASSIFIER ? 3 : 0;
    c.norm = norm;
    return c;
}

/* ---- writing a foreign file, independently of the map code ---- */

typedef struct {
    attn_st_writer *w;
    float *bufs[256]; /* copies the writer points at until the file is written */
    int n;
} foreign;

static const attn_param *param(const attn_model *m, const char *name, attn_param *p) {
    for (int i = 0; i < attn_model_num_tensors(m); i++) {
        assert_int_equal(attn_model_tensor(m, i, p), ATTN_OK);
        if (!strcmp(p->name, name)) return p;
    }
    fail_msg("the model has no tensor '%s'", name);
    return NULL;
}

/* Adds rows [r0, r0 + nr) of our 2-D or 1-D tensor `ours` (layer l substituted for %d) under
 * `theirs`, transposed (stored as (cols, nr)) when asked. */
static void put_rows(foreign *fo, const attn_model *m, const char *theirs, const char *ours, int l,
                     int64_t r0, int64_t nr, int transpose) {
    char name_ours[128], name_theirs[128];
    snprintf(name_ours, sizeof name_ours, ours, l);
    snprintf(name_theirs, sizeof name_theirs, theirs, l);
    attn_param p;
    param(m, name_ours, &p);
    int64_t cols = p.ndim == 2 ? p.shape[1] : 1;
    if (nr < 0) nr = p.shape[0];
    float *copy = malloc((size_t)(nr * cols) * sizeof(float));
    assert_non_null(copy);
    for (int64_t i = 0; i < nr; i++)
        for (int64_t j = 0; j < cols; j++)
            copy[transpose ? j * nr + i : i * cols + j] = p.data[(r0 + i) * cols + j];
    int64_t shape[2] = {transpose ? cols : nr, transpose ? nr : cols};
    int ndim = p.ndim == 2 ? 2 : 1;
    if (ndim == 1) shape[0] = nr;
    assert_int_equal(attn_st_writer_add(fo->w, name_theirs, ATTN_DTYPE_F32, copy, ndim, shape),
                     ATTN_OK);
    fo->bufs[fo->n++] = copy;
}

static void put(foreign *fo, const attn_model *m, const char *theirs, const char *ours, int l,
                int transpose) {
    put_rows(fo, m, theirs, ours, l, 0, -1, transpose);
}

/* HF GPT-2 keeps its causal mask as a (1, 1, P, P) buffer "h.{l}.attn.bias": a 4-D tensor the
 * model does not read. */
static void put_mask_buffer(foreign *fo, int l, int P) {
    float *mask = calloc((size_t)P * P, sizeof(float));
    assert_non_null(mask);
    for (int i = 0; i < P; i++)
        for (int j = 0; j <= i; j++)
            mask[i * P + j] = 1;
    char name[64];
    snprintf(name, sizeof name, "h.%d.attn.bias", l);
    int64_t shape[4] = {1, 1, P, P};
    assert_int_equal(attn_st_writer_add(fo->w, name, ATTN_DTYPE_F32, mask, 4, shape), ATTN_OK);
    fo->bufs[fo->n++] = mask;
}

static void write_and_free(foreign *fo) {
    assert_int_equal(attn_st_writer_write(fo->w, path), ATTN_OK);
    attn_st_writer_free(fo->w);
    for (int i = 0; i < fo->n; i++)
        free(fo->bufs[i]);
}

/* GPT-2's layout: Conv1D weights are (in, out), i.e. our Linear weights transposed. */
static void write_gpt2(const attn_model *m, int with_mask) {
    foreign fo = {0};
    assert_int_equal(attn_st_writer_create(&fo.w), ATTN_OK);
    put(&fo, m, "wte.weight", "embed.tok.weight", 0, 0);
    put(&fo, m, "wpe.weight", "embed.pos.weight", 0, 0);
    for (int l = 0; l < attn_model_config(m)->n_layers; l++) {
        put(&fo, m, "h.%d.ln_1.weight", "decoder.layers.%d.ln1.weight", l, 0);
        put(&fo, m, "h.%d.ln_1.bias", "decoder.layers.%d.ln1.bias", l, 0);
        put(&fo, m, "h.%d.attn.c_attn.weight", "decoder.layers.%d.self_attn.in_proj.weight", l, 1);
        put(&fo, m, "h.%d.attn.c_attn.bias", "decoder.layers.%d.self_attn.in_proj.bias", l, 0);
        put(&fo, m, "h.%d.attn.c_proj.weight", "decoder.layers.%d.self_attn.out_proj.weight", l, 1);
        put(&fo, m, "h.%d.attn.c_proj.bias", "decoder.layers.%d.self_attn.out_proj.bias", l, 0);
        put(&fo, m, "h.%d.ln_2.weight", "decoder.layers.%d.ln2.weight", l, 0);
        put(&fo, m, "h.%d.ln_2.bias", "decoder.layers.%d.ln2.bias", l, 0);
        put(&fo, m, "h.%d.mlp.c_fc.weight", "decoder.layers.%d.ffn.fc1.weight", l, 1);
        put(&fo, m, "h.%d.mlp.c_fc.bias", "decoder.layers.%d.ffn.fc1.bias", l, 0);
        put(&fo, m, "h.%d.mlp.c_proj.weight", "decoder.layers.%d.ffn.fc2.weight", l, 1);
        put(&fo, m, "h.%d.mlp.c_proj.bias", "decoder.layers.%d.ffn.fc2.bias", l, 0);
        if (with_mask) put_mask_buffer(&fo, l, attn_model_config(m)->max_len);
    }
    put(&fo, m, "ln_f.weight", "decoder.ln_f.weight", 0, 0);
    put(&fo, m, "ln_f.bias", "decoder.ln_f.bias", 0, 0);
    write_and_free(&fo);
}

/* Entries in full (a positional initializer that stops early is a -Wextra warning). */
#define WHOLE                                                                                      \
    { ATTN_MAP_WHOLE, 0, 0 }
#define SAME(ours, theirs)                                                                         \
    { ours, theirs, ATTN_MAP_AS_IS, WHOLE, WHOLE }
#define TRANS(ours, theirs)                                                                        \
    { ours, theirs, ATTN_MAP_TRANSPOSE, WHOLE, WHOLE }

#define D "decoder.layers.{l}."
static const attn_name_map gpt2_map[] = {
    SAME("embed.tok.weight", "wte.weight"),
    SAME("embed.pos.weight", "wpe.weight"),
    SAME(D "ln1.weight", "h.{l}.ln_1.weight"),
    SAME(D "ln1.bias", "h.{l}.ln_1.bias"),
    TRANS(D "self_attn.in_proj.weight", "h.{l}.attn.c_attn.weight"),
    SAME(D "self_attn.in_proj.bias", "h.{l}.attn.c_attn.bias"),
    TRANS(D "self_attn.out_proj.weight", "h.{l}.attn.c_proj.weight"),
    SAME(D "self_attn.out_proj.bias", "h.{l}.attn.c_proj.bias"),
    SAME(D "ln2.weight", "h.{l}.ln_2.weight"),
    SAME(D "ln2.bias", "h.{l}.ln_2.bias"),
    TRANS(D "ffn.fc1.weight", "h.{l}.mlp.c_fc.weight"),
    SAME(D "ffn.fc1.bias", "h.{l}.mlp.c_fc.bias"),
    TRANS(D "ffn.fc2.weight", "h.{l}.mlp.c_proj.weight"),
    SAME(D "ffn.fc2.bias", "h.{l}.mlp.c_proj.bias"),
    SAME("decoder.ln_f.weight", "ln_f.weight"),
    SAME("decoder.ln_f.bias", "ln_f.bias"),
};
#define N_GPT2 ((int)(sizeof gpt2_map / sizeof gpt2_map[0]))

static void assert_same_params(attn_model *a, attn_model *b) {
    assert_int_equal(attn_model_num_tensors(a), attn_model_num_tensors(b));
    assert_int_equal(attn_model_num_params(a), attn_model_num_params(b));
    for (int i = 0; i < attn_model_num_tensors(a); i++) {
        attn_param pa, pb;
        assert_int_equal(attn_model_tensor(a, i, &pa), ATTN_OK);
        assert_int_equal(attn_model_tensor(b, i, &pb), ATTN_OK);
        assert_string_equal(pa.name, pb.name);
        if (memcmp(pa.data, pb.data, pa.size * sizeof(float)) != 0)
            fail_msg("tensor '%s' differs after the mapped load", pa.name);
    }
}

static void test_gpt2_layout(void **state) {
    attn_config c = tiny(ATTN_ARCH_DECODER_LM, ATTN_NORM_PRE);
    attn_model *m, *back;
    assert_int_equal(attn_model_create(&c, 7, &m), ATTN_OK);
    write_gpt2(m, 1);
    unsigned modes[2] = {ATTN_MAP_ALLOW_UNUSED, ATTN_MAP_ALLOW_UNUSED | ATTN_MAP_MMAP};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(attn_model_load_mapped(path, &c, gpt2_map, N_GPT2, modes[i], &back),
                         ATTN_OK);
        assert_same_params(m, back);
        attn_model_free(back);
    }
    /* the mask buffers are read by no entry: refused unless allowed */
    back = (attn_model *)1;
    assert_int_equal(attn_model_load_mapped(path, &c, gpt2_map, N_GPT2, 0, &back), ATTN_ERR_FORMAT);
    assert_null(back);
    assert_error_mentions("h.0.attn.bias");
    assert_error_mentions("ATTN_MAP_ALLOW_UNUSED");
    assert_error_mentions("foreign.safetensors");
    attn_model_free(m);
}

/* The same file read by splits on both sides: part k of c_attn's columns, transposed, is part k of
 * in_proj's rows (query, key, value). */
static void test_split_both_sides(void **state) {
    attn_config c = tiny(ATTN_ARCH_DECODER_LM, ATTN_NORM_PRE);
    attn_model *m, *back;
    assert_int_equal(attn_model_create(&c, 8, &m), ATTN_OK);
    write_gpt2(m, 0);
    attn_name_map map[N_GPT2 + 2];
    int n = 0;
    for (int i = 0; i < N_GPT2; i++) {
        if (strstr(gpt2_map[i].ours, "in_proj.weight")) {
            for (int k = 0; k < 3; k++)
                map[n++] = (attn_name_map){gpt2_map[i].ours,
                                           gpt2_map[i].theirs,
                                           ATTN_MAP_TRANSPOSE,
                                           {ATTN_MAP_COLS, k, 3},
                                           {ATTN_MAP_ROWS, k, 3}};
        } else {
            map[n++] = gpt2_map[i];
        }
    }
    assert_int_equal(attn_model_load_mapped(path, &c, map, n, 0, &back), ATTN_OK);
    assert_same_params(m, back);
    attn_model_free(back);

    /* the parts swapped: it loads (shapes agree) but key and query trade places */
    map[4].into.k = 1;
    map[5].into.k = 0;
    assert_int_equal(attn_model_load_mapped(path, &c, map, n, 0, &back), ATTN_OK);
    attn_param a, b;
    param(m, "decoder.layers.0.self_attn.in_proj.weight", &a);
    param(back, "decoder.layers.0.self_attn.in_proj.weight", &b);
    size_t block = a.size / 3;
    assert_memory_equal(a.data, b.data + block, block * sizeof(float));
    assert_memory_equal(a.data + block, b.data, block * sizeof(float));
    assert_memory_equal(a.data + 2 * block, b.data + 2 * block, block * sizeof(float));
    attn_model_free(back);
    attn_model_free(m);
}

/* BERT keeps query, key and value apart: three entries fill in_proj's three row blocks. */
static void write_bert(const attn_model *m, int with_value) {
    foreign fo = {0};
    assert_int_equal(attn_st_writer_create(&fo.w), ATTN_OK);
    int C = attn_model_config(m)->d_model;
    put(&fo, m, "bert.embeddings.word_embeddings.weight", "embed.tok.weight", 0, 0);
    put(&fo, m, "bert.embeddings.position_embeddings.weight", "embed.pos.weight", 0, 0);
    static const char *qkv[3] = {"query", "key", "value"};
    for (int l = 0; l < attn_model_config(m)->n_layers; l++) {
        char name[128];
        for (int k = 0; k < 3; k++) {
            if (k == 2 && !with_value) continue;
            snprintf(name, sizeof name, "bert.encoder.layer.%%d.attention.self.%s.weight", qkv[k]);
            put_rows(&fo, m, name, "encoder.layers.%d.self_attn.in_proj.weight", l, k * C, C, 0);
            snprintf(name, sizeof name, "bert.encoder.layer.%%d.attention.self.%s.bias", qkv[k]);
            put_rows(&fo, m, name, "encoder.layers.%d.self_attn.in_proj.bias", l, k * C, C, 0);
        }
        put(&fo, m, "bert.encoder.layer.%d.attention.output.dense.weight",
            "encoder.layers.%d.self_attn.out_proj.weight", l, 0);
        put(&fo, m, "bert.encoder.layer.%d.attention.output.dense.bias",
            "encoder.layers.%d.self_attn.out_proj.bias", l, 0);
        put(&fo, m, "bert.encoder.layer.%d.attention.output.LayerNorm.weight",
            "encoder.layers.%d.ln1.weight", l, 0);
        put(&fo, m, "bert.encoder.layer.%d.attention.output.LayerNorm.bias",
            "encoder.layers.%d.ln1.bias", l, 0);
        put(&fo, m, "bert.encoder.layer.%d.intermediate.dense.weight",
            "encoder.layers.%d.ffn.fc1.weight", l, 0);
        put(&fo, m, "bert.encoder.layer.%d.intermediate.dense.bias",
            "encoder.layers.%d.ffn.fc1.bias", l, 0);
        put(&fo, m, "bert.encoder.layer.%d.output.dense.weight", "encoder.layers.%d.ffn.fc2.weight",
            l, 0);
        put(&fo, m, "bert.encoder.layer.%d.output.dense.bias", "encoder.layers.%d.ffn.fc2.bias", l,
            0);
        put(&fo, m, "bert.encoder.layer.%d.output.LayerNorm.weight", "encoder.layers.%d.ln2.weight",
            l, 0);
        put(&fo, m, "bert.encoder.layer.%d.output.LayerNorm.bias", "encoder.layers.%d.ln2.bias", l,
            0);
    }
    put(&fo, m, "classifier.weight", "head.weight", 0, 0);
    put(&fo, m, "classifier.bias", "head.bias", 0, 0);
    write_and_free(&fo);
}

#define E "encoder.layers.{l}."
#define B "bert.encoder.layer.{l}."
#define PART(k)                                                                                    \
    ATTN_MAP_AS_IS, {ATTN_MAP_WHOLE, 0, 0}, {                                                      \
        ATTN_MAP_ROWS, k, 3                                                                        \
    }
static const attn_name_map bert_map[] = {
    SAME("embed.tok.weight", "bert.embeddings.word_embeddings.weight"),
    SAME("embed.pos.weight", "bert.embeddings.position_embeddings.weight"),
    {E "self_attn.in_proj.weight", B "attention.self.query.weight", PART(0)},
    {E "self_attn.in_proj.weight", B "attention.self.key.weight", PART(1)},
    {E "self_attn.in_proj.weight", B "attention.self.value.weight", PART(2)},
    {E "self_attn.in_proj.bias", B "attention.self.query.bias", PART(0)},
    {E "self_attn.in_proj.bias", B "attention.self.key.bias", PART(1)},
    {E "self_attn.in_proj.bias", B "attention.self.value.bias", PART(2)},
    SAME(E "self_attn.out_proj.weight", B "attention.output.dense.weight"),
    SAME(E "self_attn.out_proj.bias", B "attention.output.dense.bias"),
    SAME(E "ln1.weight", B "attention.output.LayerNorm.weight"),
    SAME(E "ln1.bias", B "attention.output.LayerNorm.bias"),
    SAME(E "ffn.fc1.weight", B "intermediate.dense.weight"),
    SAME(E "ffn.fc1.bias", B "intermediate.dense.bias"),
    SAME(E "ffn.fc2.weight", B "output.dense.weight"),
    SAME(E "ffn.fc2.bias", B "output.dense.bias"),
    SAME(E "ln2.weight", B "output.LayerNorm.weight"),
    SAME(E "ln2.bias", B "output.LayerNorm.bias"),
    SAME("head.weight", "classifier.weight"),
    SAME("head.bias", "classifier.bias"),
};
#define N_BERT ((int)(sizeof bert_map / sizeof bert_map[0]))

static void test_bert_layout(void **state) {
    attn_config c = tiny(ATTN_ARCH_CLASSIFIER, ATTN_NORM_POST);
    attn_model *m, *back;
    assert_int_equal(attn_model_create(&c, 9, &m), ATTN_OK);
    write_bert(m, 1);
    assert_int_equal(attn_model_load_mapped(path, &c, bert_map, N_BERT, 0, &back), ATTN_OK);
    assert_same_params(m, back);
    attn_model_free(back);

    /* without the value tensors, the map names a tensor the file lacks */
    write_bert(m, 0);
    back = (attn_model *)1;
    assert_int_equal(attn_model_load_mapped(path, &c, bert_map, N_BERT, 0, &back),
                     ATTN_ERR_MISSING);
    assert_null(back);
    assert_error_mentions("bert.encoder.layer.0.attention.self.value.weight");
    /* and a map without the value entries leaves part 2 of 3 unfilled */
    attn_name_map map[N_BERT];
    int n = 0;
    for (int i = 0; i < N_BERT; i++)
        if (!strstr(bert_map[i].theirs, ".value.")) map[n++] = bert_map[i];
    assert_int_equal(attn_model_load_mapped(path, &c, map, n, 0, &back), ATTN_ERR_MISSING);
    assert_error_mentions("encoder.layers.0.self_attn.in_proj.weight");
    assert_error_mentions("part 2 of 3");
    attn_model_free(m);
}

/* One bad entry at a time in the GPT-2 map: each is refused, naming what is wrong. */
static void test_bad_maps(void **state) {
    attn_config c = tiny(ATTN_ARCH_DECODER_LM, ATTN_NORM_PRE);
    attn_model *m;
    assert_int_equal(attn_model_create(&c, 10, &m), ATTN_OK);
    write_gpt2(m, 0);
    struct {
        int entry;         /* which entry of gpt2_map to change (-1: drop the last) */
        attn_name_map bad; /* its replacement */
        attn_status want;
        const char *needle, *needle2;
    } cases[] = {
        /* not transposed: (C, 3C) does not fit (3C, C); both tensors named */
        {4, SAME(D "self_attn.in_proj.weight", "h.{l}.attn.c_attn.weight"), ATTN_ERR_SHAPE,
         "'h.0.attn.c_attn.weight' (16, 48)",
         "'decoder.layers.0.self_attn.in_proj.weight' (48, 16)"},
        /* a square weight fits either way round, but fc1 (24, 16) from c_fc (16, 24) does not */
        {10, SAME(D "ffn.fc1.weight", "h.{l}.mlp.c_fc.weight"), ATTN_ERR_SHAPE,
         "h.0.mlp.c_fc.weight", "decoder.layers.0.ffn.fc1.weight"},
        {0, SAME("embed.tok.weight", "wte.weights"), ATTN_ERR_MISSING, "'wte.weights'",
         "not in the file"},
        {0, SAME("embed.token.weight", "wte.weight"), ATTN_ERR_INVALID, "'embed.token.weight'",
         "not a tensor of this model"},
        {2, SAME(D "ln1.weight", "h.0.ln_1.weight"), ATTN_ERR_INVALID, "{l}", "both names"},
        /* ln2's entry replaced by a second ln1 one: ln1 twice, ln2 never */
        {8, SAME(D "ln1.weight", "h.{l}.ln_2.weight"), ATTN_ERR_INVALID,
         "decoder.layers.0.ln1.weight", "filled twice"},
        {-1, {0}, ATTN_ERR_MISSING, "'decoder.ln_f.bias'", "filled by no map entry"},
        {5, TRANS(D "self_attn.in_proj.bias", "h.{l}.attn.c_attn.bias"), ATTN_ERR_INVALID,
         "h.0.attn.c_attn.bias", "only 2-D"},
        {5,
         {D "self_attn.in_proj.bias",
          "h.{l}.attn.c_attn.bias",
          ATTN_MAP_AS_IS,
          WHOLE,
          {ATTN_MAP_ROWS, 3, 3}},
         ATTN_ERR_INVALID,
         "part 3 of 3",
         NULL},
        {6,
         {D "self_attn.out_proj.weight",
          "h.{l}.attn.c_proj.weight",
          ATTN_MAP_TRANSPOSE,
          {ATTN_MAP_ROWS, 0, 5},
          WHOLE},
         ATTN_ERR_SHAPE,
         "h.0.attn.c_proj.weight",
         "not a multiple"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        attn_name_map map[N_GPT2];
        memcpy(map, gpt2_map, sizeof map);
        int n = N_GPT2;
        if (cases[i].entry < 0)
            n--;
        else
            map[cases[i].entry] = cases[i].bad;
        attn_model *back = (attn_model *)1;
        attn_status s = attn_model_load_mapped(path, &c, map, n, 0, &back);
        if (s != cases[i].want)
            fail_msg("case %zu: got %d (%s), want %d", i, s, attn_last_error(), cases[i].want);
        assert_null(back);
        assert_error_mentions(cases[i].needle);
        if (cases[i].needle2) assert_error_mentions(cases[i].needle2);
    }
    attn_model *back;
    assert_int_equal(attn_model_load_mapped(path, &c, gpt2_map, N_GPT2, 8, &back),
                     ATTN_ERR_INVALID);
    assert_int_equal(attn_model_load_mapped(path, NULL, gpt2_map, N_GPT2, 0, &back),
                     ATTN_ERR_INVALID);
    attn_model_free(m);
}

/* A non-finite value is refused, naming our tensor, however it arrived. */
static void test_non_finite(void **state) {
    attn_config c = tiny(ATTN_ARCH_DECODER_LM, ATTN_NORM_PRE);
    attn_model *m, *back = (attn_model *)1;
    assert_int_equal(attn_model_create(&c, 11, &m), ATTN_OK);
    attn_param p;
    param(m, "decoder.layers.1.ffn.fc2.weight", &p);
    p.data[5] = INFINITY;
    write_gpt2(m, 0);
    assert_int_equal(attn_model_load_mapped(path, &c, gpt2_map, N_GPT2, 0, &back),
                     ATTN_ERR_NUMERIC);
    assert_null(back);
    assert_error_mentions("'decoder.layers.1.ffn.fc2.weight'");
    assert_error_mentions("an infinity");
    attn_model_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gpt2_layout), cmocka_unit_test(test_split_both_sides),
        cmocka_unit_test(test_bert_layout), cmocka_unit_test(test_bad_maps),
        cmocka_unit_test(test_non_finite),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
