/* models/model.c: building a model from a config: the parameter table, the parameter and gradient
 * arenas, initialisation, and the activation arena. The forward and backward passes are in
 * models/forward.c. */
#include "models/model_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn/runtime.h"
#include "core/error.h"
#include "kernels/embedding.h"

/* ---- parameter table ---------------------------------------------------------------------- */

/* Walks the tensors of docs/FORMATS.md in order. The first walk (table == NULL) only counts;
 * the second records names and offsets and points the model's views into the arenas. A walk with
 * `visit` (and no table) shows each tensor to it instead, until it returns an error. */
typedef struct {
    attn_model *m;
    attn_tensor_info *table;
    int n;
    size_t used;
    attn_status (*visit)(void *user, const attn_tensor_info *t);
    void *user;
    attn_status status;
} layout_walk;

/* Declares tensor prefix + suffix of shape dims[0..ndim); returns its place in the arena (NULL
 * while counting) and its gradient's place in *grad. */
static float *declare_nd(layout_walk *w, float **grad, const char *prefix, const char *suffix,
                         int ndim, const int64_t *dims) {
    size_t size = 1;
    for (int i = 0; i < ndim; i++)
        size *= (size_t)dims[i];
    float *p = NULL;
    attn_tensor_info shown, *t = w->table ? &w->table[w->n] : w->visit ? &shown : NULL;
    if (t) {
        snprintf(t->name, sizeof t->name, "%s%s", prefix, suffix);
        memset(t->shape, 0, sizeof t->shape);
        t->ndim = ndim;
        for (int i = 0; i < ndim; i++)
            t->shape[i] = dims[i];
        t->offset = w->used;
        t->size = size;
    }
    if (w->table) {
        p = w->m->params + w->used;
        if (grad) *grad = w->m->grads + w->used;
    } else if (w->visit && w->status == ATTN_OK) {
        w->status = w->visit(w->user, &shown);
    }
    w->n++;
    w->used += size;
    return p;
}

/* The same for shape (d0) or (d0, d1). */
static float *declare(layout_walk *w, float **grad, const char *prefix, const char *suffix,
                      int ndim, int64_t d0, int64_t d1) {
    int64_t dims[2] = {d0, d1};
    return declare_nd(w, grad, prefix, suffix, ndim, dims);
}

static void declare_ln(layout_walk *w, const char *prefix, attn_ln_params *p, attn_ln_params *g) {
    int C = w->m->cfg.d_model;
    p->w = declare(w, &g->w, prefix, ".weight", 1, C, 0);
    p->b = declare(w, &g->b, prefix, ".bias", 1, C, 0);
}

static void declare_mha(layout_walk *w, const char *prefix, attn_mha_params *p,
                        attn_mha_params *g) {
    int C = w->m->cfg.d_model;
    p->in_w = declare(w, &g->in_w, prefix, ".in_proj.weight", 2, 3 * C, C);
    p->in_b = declare(w, &g->in_b, prefix, ".in_proj.bias", 1, 3 * C, 0);
    p->out_w = declare(w, &g->out_w, prefix, ".out_proj.weight", 2, C, C);
    p->out_b = declare(w, &g->out_b, prefix, ".out_proj.bias", 1, C, 0);
}

static void declare_ffn(layout_walk *w, const char *prefix, attn_ffn_params *p,
                        attn_ffn_params *g) {
    int C = w->m->cfg.d_model, F = w->m->cfg.d_ff;
    p->fc1_w = declare(w, &g->fc1_w, prefix, ".fc1.weight", 2, F, C);
    p->fc1_b = declare(w, &g->fc1_b, prefix, ".fc1.bias", 1, F, 0);
    p->fc2_w = declare(w, &g->fc2_w, prefix, ".fc2.weight", 2, C, F);
    p->fc2_b = declare(w, &g->fc2_b, prefix, ".fc2.bias", 1, C, 0);
}

static void declare_stack(layout_walk *w, const char *prefix, attn_stack *st) {
    char name[64];
    attn_layer_params dummy_p, dummy_g;
    for (int i = 0; i < st->n_layers; i++) {
        attn_layer_params *p = w->table ? &st->p[i] : &dummy_p;
        attn_layer_params *g = w->table ? &st->g[i] : &dummy_g;
        memset(p, 0, sizeof *p);
        memset(g, 0, sizeof *g);
        snprintf(name, sizeof name, "%s.layers.%d.self_attn", prefix, i);
        declare_mha(w, name, &p->self_attn, &g->self_attn);
        if (st->cross) {
            snprintf(name, sizeof name, "%s.layers.%d.cross_attn", prefix, i);
            declare_mha(w, name, &p->cross_attn, &g->cross_attn);
        }
        /* checkpoint names by position (docs/FORMATS.md): ln1 self, [ln2 cross], ln2|ln3 ffn */
        snprintf(name, sizeof name, "%s.layers.%d.ln1", prefix, i);
        declare_ln(w, name, &p->ln_self, &g->ln_self);
        snprintf(name, sizeof name, "%s.layers.%d.ffn", prefix, i);
        declare_ffn(w, name, &p->ffn, &g->ffn);
        snprintf(name, sizeof name, "%s.layers.%d.ln2", prefix, i);
        declare_ln(w, name, st->cross ? &p->ln_cross : &p->ln_ffn,
                   st->cross ? &g->ln_cross : &g->ln_ffn);
        if (st->cross) {
            snprintf(name, sizeof name, "%s.layers.%d.ln3", prefix, i);
            declare_ln(w, name, &p->ln_ffn, &g->ln_ffn);
        }
    }
    if (w->m->cfg.norm == ATTN_NORM_PRE) {
        snprintf(name, sizeof name, "%s.ln_f", prefix);
        declare_ln(w, name, &st->lnf, &st->glnf);
    }
}

static void walk_layout(layout_walk *w) {
    attn_model *m = w->m;
    const attn_config *c = &m->cfg;
    /* a classifier or CTC model over features reads no token */
    int reads_tokens = c->arch == ATTN_ARCH_DECODER_LM || c->arch == ATTN_ARCH_SEQ2SEQ ||
                       !c->n_features;
    if (reads_tokens)
        m->tok_emb = declare(w, &m->gtok_emb, "embed.tok.weight", "", 2, c->vocab_size, c->d_model);
    if (c->pos == ATTN_POS_LEARNED)
        m->pos_emb = declare(w, &m->gpos_emb, "embed.pos.weight", "", 2, c->max_len, c->d_model);
    if (c->subsample) { /* two 3x3 convolutions, PyTorch's (out, in, kh, kw) layout */
        int64_t K = c->conv_channels, w1[4] = {K, 1, 3, 3}, w2[4] = {K, K, 3, 3};
        m->conv1_w = declare_nd(w, &m->gconv1_w, "subsample.conv1", ".weight", 4, w1);
        m->conv1_b = declare(w, &m->gconv1_b, "subsample.conv1", ".bias", 1, K, 0);
        m->conv2_w = declare_nd(w, &m->gconv2_w, "subsample.conv2", ".weight", 4, w2);
        m->conv2_b = declare(w, &m->gconv2_b, "subsample.conv2", ".bias", 1, K, 0);
    }
    m->in_features = attn_config_input_width(c);
    if (c->n_features) {
        m->in_w = declare(w, &m->gin_w, "input_proj.weight", "", 2, c->d_model, m->in_features);
        m->in_b = declare(w, &m->gin_b, "input_proj.bias", "", 1, c->d_model, 0);
    }
    if (m->enc.n_layers) declare_stack(w, "encoder", &m->enc);
    if (m->dec.n_layers) declare_stack(w, "decoder", &m->dec);
    if (c->arch == ATTN_ARCH_CLASSIFIER) {
        m->head_w = declare(w, &m->ghead_w, "head.weight", "", 2, c->n_classes, c->d_model);
        m->head_b = declare(w, &m->ghead_b, "head.bias", "", 1, c->n_classes, 0);
    }
    if (c->arch == ATTN_ARCH_CTC || c->ctc_weight > 0) {
        m->head_w = declare(w, &m->ghead_w, "ctc.weight", "", 2, c->vocab_size, c->d_model);
        m->head_b = declare(w, &m->ghead_b, "ctc.bias", "", 1, c->vocab_size, 0);
    }
}

/* ---- creation ----------------------------------------------------------------------------- */

static void init_params(attn_model *m, uint64_t seed) {
    attn_rng rng;
    attn_rng_init(&rng, seed, 0x1417);
    for (int i = 0; i < m->n_tensors; i++) {
        const attn_tensor_info *t = &m->tensors[i];
        float *p = m->params + t->offset;
        size_t len = strlen(t->name);
        /* the only one-dimensional ".weight" tensors are LayerNorm gains */
        int is_ln_weight = t->ndim == 1 && len > 7 && !strcmp(t->name + len - 7, ".weight");
        if (is_ln_weight) {
            for (size_t j = 0; j < t->size; j++)
                p[j] = 1.0f;
        } else if (t->ndim == 4) { /* convolutions before a ReLU: He, std sqrt(2 / fan_in) */
            double fan_in = (double)t->shape[1] * t->shape[2] * t->shape[3];
            attn_rng_fill_normal(&rng, p, (long)t->size, (float)sqrt(2.0 / fan_in));
        } else if (t->ndim >= 2) {
            attn_rng_fill_normal(&rng, p, (long)t->size, 0.02f);
        } else {
            memset(p, 0, t->size * sizeof(float));
        }
    }
}

/* The config and the stacks' depths: all the parameter table depends on. */
static void set_stacks(attn_model *m, const attn_config *cfg) {
    m->cfg = *cfg;
    switch (cfg->arch) {
    case ATTN_ARCH_CLASSIFIER:
    case ATTN_ARCH_CTC:
        m->enc.n_layers = cfg->n_layers;
        break;
    case ATTN_ARCH_DECODER_LM:
        m->dec.n_layers = cfg->n_layers;
        m->dec.causal = 1;
        break;
    case ATTN_ARCH_SEQ2SEQ:
        m->enc.n_layers = cfg->n_layers;
        m->dec.n_layers = cfg->n_dec_layers;
        m->dec.causal = m->dec.cross = 1;
        break;
    }
}

attn_status attn_model_each_tensor(const attn_config *cfg,
                                   attn_status (*visit)(void *user, const attn_tensor_info *t),
                                   void *user) {
    ATTN_TRY(attn_config_validate(cfg));
    attn_model shell; /* no arenas: the walk only reads cfg and the depths */
    memset(&shell, 0, sizeof shell);
    set_stacks(&shell, cfg);
    layout_walk w = {.m = &shell, .visit = visit, .user = user};
    walk_layout(&w);
    return w.status;
}

/* The model of cfg with its arenas and tables; the parameters are initialised from seed when
 * init is set, else left as malloc gave them (the caller fills every one). */
static attn_status model_create(const attn_config *cfg, uint64_t seed, int init, attn_model **out) {
    *out = NULL;
    ATTN_TRY(attn_config_validate(cfg));
    attn_get_num_threads(); /* applies ATTN_NUM_THREADS on first use */
    attn_model *m = calloc(1, sizeof *m);
    if (!m) return attn_error(ATTN_ERR_NOMEM, "model: out of memory");
    set_stacks(m, cfg);
    layout_walk w = {.m = m};
    walk_layout(&w); /* count */
    m->n_tensors = w.n;
    m->n_params = w.used;
    m->tensors = calloc((size_t)w.n, sizeof *m->tensors);
    m->params = malloc(w.used * sizeof(float));
    m->grads = calloc(w.used, sizeof(float));
    m->enc.p = calloc((size_t)m->enc.n_layers + 1, sizeof(attn_layer_params));
    m->enc.g = calloc((size_t)m->enc.n_layers + 1, sizeof(attn_layer_params));
    m->dec.p = calloc((size_t)m->dec.n_layers + 1, sizeof(attn_layer_params));
    m->dec.g = calloc((size_t)m->dec.n_layers + 1, sizeof(attn_layer_params));
    if (cfg->pos == ATTN_POS_SINUSOIDAL)
        m->pos_table = malloc((size_t)cfg->max_len * cfg->d_model * sizeof(float));
    if (!m->tensors || !m->params || !m->grads || !m->enc.p || !m->enc.g || !m->dec.p ||
        !m->dec.g || (cfg->pos == ATTN_POS_SINUSOIDAL && !m->pos_table)) {
        attn_model_free(m);
        return attn_error(ATTN_ERR_NOMEM, "model: cannot allocate %zu parameters", w.used);
    }
    w = (layout_walk){.m = m, .table = m->tensors};
    walk_layout(&w); /* bind */
    if (cfg->pos == ATTN_POS_SINUSOIDAL)
        attn_sinusoidal_table(m->pos_table, cfg->max_len, cfg->d_model);
    else
        m->pos_table = NULL;
    if (init) init_params(m, seed);
    attn_rng_init(&m->rng, seed, 0xd0);
    *out = m;
    return ATTN_OK;
}

attn_status attn_model_create(const attn_config *cfg, uint64_t seed, attn_model **out) {
    return model_create(cfg, seed, 1, out);
}

attn_status attn_model_create_uninit(const attn_config *cfg, attn_model **out) {
    return model_create(cfg, 0, 0, out);
}

void attn_model_free(attn_model *m) {
    if (!m) return;
    free(m->tensors);
    free(m->params);
    free(m->grads);
    free(m->enc.p);
    free(m->enc.g);
    free(m->dec.p);
    free(m->dec.g);
    free(m->enc.acts);
    free(m->dec.acts);
    if (m->cfg.pos == ATTN_POS_SINUSOIDAL) free(m->pos_table);
    free(m->acts);
    free(m);
}

/* ---- accessors ---------------------------------------------------------------------------- */

const attn_config *attn_model_config(const attn_model *m) {
    return &m->cfg;
}
size_t attn_model_num_params(const attn_model *m) {
    return m->n_params;
}
int attn_model_num_tensors(const attn_model *m) {
    return m->n_tensors;
}
float *attn_model_params(attn_model *m) {
    return m->params;
}
float *attn_model_grads(attn_model *m) {
    return m->grads;
}

attn_status attn_model_tensor(const attn_model *m, int i, attn_param *out) {
    if (i < 0 || i >= m->n_tensors)
        return attn_error(ATTN_ERR_INVALID, "tensor index %d out of range [0, %d)", i,
                          m->n_tensors);
    const attn_tensor_info *t = &m->tensors[i];
    out->name = t->name;
    out->ndim = t->ndim;
    memcpy(out->shape, t->shape, sizeof out->shape);
    out->data = m->params + t->offset;
    out->grad = m->grads + t->offset;
    out->size = t->size;
    return ATTN_OK;
}

void attn_model_zero_grad(attn_model *m) {
    memset(m->grads, 0, m->n_params * sizeof(float));
}

void attn_model_set_seed(attn_model *m, uint64_t seed, uint64_t stream) {
    attn_rng_init(&m->rng, seed, stream);
}

int attn_config_input_width(const attn_config *c) {
    if (!c->subsample) return c->n_features;
    return attn_subsampled_length(c->n_features) * c->conv_channels;
}

int attn_subsampled_length(int n) {
    int once = (n - 1) / 2; /* a 3-wide window every 2: (n - 3) / 2 + 1 */
    return once >= 3 ? (once - 1) / 2 : 0;
}

int attn_model_encoder_length(const attn_model *m, int frames) {
    if (!m || frames < 1) return 0;
    return m->cfg.subsample ? attn_subsampled_length(frames) : frames;
}

float attn_model_embed_scale(const attn_model *m) {
    return m->cfg.scale_embeddings ? sqrtf((float)m->cfg.d_model) : 1.0f;
}

const float *attn_model_ctc_log_probs(const attn_model *m, int *rows, int *cols) {
    int has = m->cfg.arch == ATTN_ARCH_CTC || m->cfg.ctc_weight > 0;
    if (rows) *rows = has && m->acts ? m->B * m->enc.shape.T : 0;
    if (cols) *cols = has ? m->cfg.vocab_size : 0;
    return has && m->acts ? m->ctc_lp : NULL;
}

const float *attn_model_logits(const attn_model *m, int *rows, int *cols) {
    if (rows) *rows = m->logit_rows;
    if (cols) *cols = m->logit_cols;
    return m->logits;
}
