/* train/optimizer.c: the AdamW optimizer of attn/train.h: moments for every parameter of a model,
 * global-norm clipping, decay only on tensors with two or more dimensions (docs/FORMATS.md). */
#include "attn/train.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "train/adamw.h"
#include "train/optimizer_internal.h"

/* Where one parameter tensor's moments live in the moment arena. */
typedef struct {
    size_t offset; /* into m (and the same offset into v) */
    size_t size;   /* elements */
    int decay;     /* ndim >= 2: weight decay applies */
} opt_slot;

struct attn_optimizer {
    attn_adamw_params params;
    long steps; /* updates applied so far */
    int n_tensors;
    size_t n_params; /* total elements over every tensor */
    opt_slot *slots; /* (n_tensors) */
    float *moments;  /* ONE allocation of 2 * n_params floats: m, then v */
    float *average;  /* NULL, or n_params floats: the trainer's moving average of the weights */
    /* The model's tensors lie back to back in its arenas, in the slots' order, so every step is
     * one pass over the arenas, cut into chunks of one tensor each. */
    attn_adamw_chunk *chunks;
    double *partial; /* (n_chunks) scratch of the gradient norm */
    int n_chunks;
};

/* Elements per chunk of the one-pass update: big enough to amortise a loop, small enough that two
 * threads split even one large tensor evenly. */
#define OPT_CHUNK 16384L

/* The defaults of attn/train.h. */
attn_adamw_params attn_adamw_default_params(void) {
    attn_adamw_params p = {
        .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f, .weight_decay = 0.01f, .clip_norm = 1.0f};
    return p;
}

/* ATTN_OK or ATTN_ERR_INVALID naming the first hyper-parameter out of range (NaN included). */
static attn_status check_params(const attn_adamw_params *p) {
    if (!(p->beta1 >= 0.0f && p->beta1 < 1.0f))
        return attn_error(ATTN_ERR_INVALID, "adamw: beta1 %g is not in [0, 1)", p->beta1);
    if (!(p->beta2 >= 0.0f && p->beta2 < 1.0f))
        return attn_error(ATTN_ERR_INVALID, "adamw: beta2 %g is not in [0, 1)", p->beta2);
    if (!(p->eps >= 0.0f && isfinite(p->eps)))
        return attn_error(ATTN_ERR_INVALID, "adamw: eps %g must be finite and >= 0", p->eps);
    if (!(p->weight_decay >= 0.0f && isfinite(p->weight_decay)))
        return attn_error(ATTN_ERR_INVALID, "adamw: weight_decay %g must be finite and >= 0",
                          p->weight_decay);
    if (!(p->clip_norm >= 0.0f && isfinite(p->clip_norm)))
        return attn_error(ATTN_ERR_INVALID, "adamw: clip_norm %g must be finite and >= 0 (0: off)",
                          p->clip_norm);
    return ATTN_OK;
}

/* Cuts m's tensors, which lie back to back in its arenas in the slots' order (models/model.c lays
 * them out so), into chunks of at most OPT_CHUNK elements of one tensor each. ATTN_ERR_INVALID
 * if a tensor is not where that layout puts it, ATTN_ERR_NOMEM. */
static attn_status make_chunks(attn_optimizer *opt, const attn_model *m) {
    attn_param first;
    ATTN_TRY(attn_model_tensor(m, 0, &first));
    long count = 0;
    for (int i = 0; i < opt->n_tensors; i++) {
        attn_param p;
        ATTN_TRY(attn_model_tensor(m, i, &p));
        if (p.data != first.data + opt->slots[i].offset ||
            p.grad != first.grad + opt->slots[i].offset)
            return attn_error(ATTN_ERR_INVALID,
                              "attn_optimizer_create: tensor %d (%s) is not "
                              "where the parameter arena puts it",
                              i, p.name ? p.name : "?");
        count += ((long)p.size + OPT_CHUNK - 1) / OPT_CHUNK;
    }
    if (count > INT_MAX) return attn_error(ATTN_ERR_INVALID, "optimizer: %ld chunks", count);
    opt->chunks = malloc((size_t)(count ? count : 1) * sizeof *opt->chunks);
    opt->partial = malloc((size_t)(count ? count : 1) * sizeof *opt->partial);
    if (!opt->chunks || !opt->partial)
        return attn_error(ATTN_ERR_NOMEM, "attn_optimizer_create: out of memory");
    int k = 0;
    for (int i = 0; i < opt->n_tensors; i++) {
        const opt_slot *s = &opt->slots[i];
        for (size_t off = 0; off < s->size; off += OPT_CHUNK)
            opt->chunks[k++] = (attn_adamw_chunk){
                .offset = (long)(s->offset + off),
                .n = (long)(s->size - off < (size_t)OPT_CHUNK ? s->size - off : (size_t)OPT_CHUNK),
                .weight_decay = s->decay ? opt->params.weight_decay : 0.0f};
    }
    opt->n_chunks = k;
    return ATTN_OK;
}

/* Builds the slot table from m's parameter table and allocates zeroed moments in one block.
 * *out is owned by the caller (attn_optimizer_free). Errors: ATTN_ERR_INVALID (NULL arguments,
 * bad hyper-parameters, a model without tensors), ATTN_ERR_NOMEM; *out is NULL on failure. */
attn_status attn_optimizer_create(const attn_model *m, attn_adamw_params params,
                                  attn_optimizer **out) {
    if (!out) return attn_error(ATTN_ERR_INVALID, "attn_optimizer_create: out is NULL");
    *out = NULL;
    if (!m) return attn_error(ATTN_ERR_INVALID, "attn_optimizer_create: model is NULL");
    ATTN_TRY(check_params(&params));
    int n = attn_model_num_tensors(m);
    if (n <= 0) return attn_error(ATTN_ERR_INVALID, "attn_optimizer_create: model has no tensors");

    attn_optimizer *opt = calloc(1, sizeof *opt);
    if (!opt) return attn_error(ATTN_ERR_NOMEM, "attn_optimizer_create: out of memory");
    opt->params = params;
    opt->n_tensors = n;
    opt->slots = calloc((size_t)n, sizeof *opt->slots);
    if (!opt->slots) {
        attn_optimizer_free(opt);
        return attn_error(ATTN_ERR_NOMEM, "attn_optimizer_create: out of memory");
    }
    for (int i = 0; i < n; i++) {
        attn_param p;
        attn_status st = attn_model_tensor(m, i, &p);
        if (st != ATTN_OK) {
            attn_optimizer_free(opt);
            return attn_error_context(st, "attn_optimizer_create: tensor %d", i);
        }
        opt->slots[i] = (opt_slot){.offset = opt->n_params, .size = p.size, .decay = p.ndim >= 2};
        opt->n_params += p.size;
    }
    opt->moments = calloc(opt->n_params ? 2 * opt->n_params : 1, sizeof *opt->moments);
    if (!opt->moments) {
        attn_optimizer_free(opt);
        return attn_error(ATTN_ERR_NOMEM, "attn_optimizer_create: no memory for %zu moments",
                          2 * opt->n_params);
    }
    attn_status st = make_chunks(opt, m);
    if (st != ATTN_OK) {
        attn_optimizer_free(opt);
        return st;
    }
    *out = opt;
    return ATTN_OK;
}

/* Frees opt and its moments; NULL is allowed. */
void attn_optimizer_free(attn_optimizer *opt) {
    if (!opt) return;
    free(opt->chunks);
    free(opt->partial);
    free(opt->moments);
    free(opt->average);
    free(opt->slots);
    free(opt);
}

/* The hyper-parameters opt was created with. */
attn_adamw_params attn_optimizer_params(const attn_optimizer *opt) {
    return opt->params;
}

/* Updates applied so far. */
long attn_optimizer_steps(const attn_optimizer *opt) {
    return opt->steps;
}

int attn_optimizer_num_tensors(const attn_optimizer *opt) {
    return opt->n_tensors;
}

/* Pointers into opt's moment arena for tensor i; ATTN_ERR_INVALID if i is out of range. */
attn_status attn_optimizer_moments(const attn_optimizer *opt, int i, float **m, float **v,
                                   size_t *size) {
    if (i < 0 || i >= opt->n_tensors)
        return attn_error(ATTN_ERR_INVALID, "optimizer: tensor %d of %d", i, opt->n_tensors);
    const opt_slot *s = &opt->slots[i];
    if (m) *m = opt->moments + s->offset;
    if (v) *v = opt->moments + opt->n_params + s->offset;
    if (size) *size = s->size;
    return ATTN_OK;
}

float *attn_optimizer_average(const attn_optimizer *opt, int i, size_t *size) {
    if (!opt->average || i >= opt->n_tensors) return NULL;
    if (i < 0) {
        if (size) *size = opt->n_params;
        return opt->average;
    }
    if (size) *size = opt->slots[i].size;
    return opt->average + opt->slots[i].offset;
}

attn_status attn_optimizer_set_average(attn_optimizer *opt, const float *w) {
    free(opt->average);
    opt->average = NULL;
    if (!w) return ATTN_OK;
    opt->average = malloc((opt->n_params ? opt->n_params : 1) * sizeof *opt->average);
    if (!opt->average)
        return attn_error(ATTN_ERR_NOMEM, "optimizer: no room for the average of %zu parameters",
                          opt->n_params);
    memcpy(opt->average, w, opt->n_params * sizeof *opt->average);
    return ATTN_OK;
}

void attn_optimizer_set_steps(attn_optimizer *opt, long steps) {
    opt->steps = steps < 0 ? 0 : steps;
}

/* Checks that m's parameter table is the one opt was built for, so a step never runs moments
 * against the wrong tensors. ATTN_ERR_SHAPE naming the first difference. */
static attn_status check_model(const attn_optimizer *opt, const attn_model *m) {
    int n = attn_model_num_tensors(m);
    if (n != opt->n_tensors)
        return attn_error(ATTN_ERR_SHAPE, "optimizer: model has %d tensors, optimizer %d", n,
                          opt->n_tensors);
    for (int i = 0; i < n; i++) {
        attn_param p;
        ATTN_TRY(attn_model_tensor(m, i, &p));
        if (p.size != opt->slots[i].size || (p.ndim >= 2) != opt->slots[i].decay)
            return attn_error(ATTN_ERR_SHAPE, "optimizer: tensor %d (%s) does not match", i,
                              p.name ? p.name : "?");
    }
    return ATTN_OK;
}

/* One clipped AdamW update of every parameter of m with learning rate lr from the gradient
 * g = grad_scale * (m's gradients) (see attn/train.h). The scale and the clipping factor
 * min(1, clip_norm / (‖g‖ + 1e-6)) are applied on the fly: m's gradients are read, never changed.
 * Allocates nothing. Errors: ATTN_ERR_INVALID (NULL, lr or grad_scale negative or non-finite),
 * ATTN_ERR_SHAPE (m is not the model opt was made for), ATTN_ERR_NUMERIC (non-finite gradient
 * norm; *grad_norm still receives it, nothing else changes). */
attn_status attn_optimizer_step_scaled(attn_optimizer *opt, attn_model *m, float lr,
                                       float grad_scale, float *grad_norm) {
    if (!opt || !m) return attn_error(ATTN_ERR_INVALID, "attn_optimizer_step: NULL argument");
    if (!(lr >= 0.0f && isfinite(lr)))
        return attn_error(ATTN_ERR_INVALID, "attn_optimizer_step: learning rate %g", lr);
    if (!(grad_scale >= 0.0f && isfinite(grad_scale)))
        return attn_error(ATTN_ERR_INVALID, "attn_optimizer_step: gradient scale %g", grad_scale);
    ATTN_TRY(check_model(opt, m));

    attn_param first;
    ATTN_TRY(attn_model_tensor(m, 0, &first));
    double norm = (double)grad_scale * sqrt(attn_grad_sq_norm_chunks(first.grad, opt->chunks,
                                                                     opt->n_chunks, opt->partial));
    if (grad_norm) *grad_norm = (float)norm;
    if (!isfinite(norm))
        return attn_error(ATTN_ERR_NUMERIC,
                          "attn_optimizer_step: gradient norm is %g at step %ld; update skipped",
                          norm, opt->steps + 1);

    const attn_adamw_params *hp = &opt->params;
    float scale = grad_scale;
    if (hp->clip_norm > 0.0f) {
        double coef = hp->clip_norm / (norm + 1e-6);
        if (coef < 1.0) scale = (float)(coef * (double)grad_scale);
    }
    long t = opt->steps + 1;
    attn_adamw_update_chunks(first.data, first.grad, scale, opt->moments,
                             opt->moments + opt->n_params, opt->chunks, opt->n_chunks, lr,
                             hp->beta1, hp->beta2, hp->eps, t);
    opt->steps = t;
    return ATTN_OK;
}

attn_status attn_optimizer_step(attn_optimizer *opt, attn_model *m, float lr, float *grad_norm) {
    return attn_optimizer_step_scaled(opt, m, lr, 1.0f, grad_norm);
}
