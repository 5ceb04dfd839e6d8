/* tasks/lm_generate.c: continuing prompts with a language model beyond its context
 * (attn_lm_generate, include/attn/lm.h).
 *
 * The prompts go in groups of `batch`. Each group runs rounds of attn_generate_batch over its
 * streams not done: a stream continues the last n_ctx ids of its text (all of it while it fits with
 * room for one more, else the last half of the context), for at most what is left of max_new and
 * what fits in the context; a round ends a stream at the stop id, at max_new, or when nothing more
 * can come. */
#include <stdlib.h>
#include <string.h>

#include "attn/lm.h"
#include "core/error.h"

attn_lm_generate_params attn_lm_generate_default_params(void) {
    return (attn_lm_generate_params){
        .max_new = 256, .stop_id = -1, .batch = 8, .sampler = attn_sampler_default_params()};
}

typedef struct {
    int *text; /* the prompt, then the generated ids: capacity prompt + max_new */
    int len, prompt, done, index;
    attn_sampler *sampler;
} stream;

/* Scratch of one group's rounds, and what a round may generate per stream. */
typedef struct {
    const attn_lm_generate_params *p;
    int *idx, *n_ctx, *want, *got, *n_out, *out; /* (batch) each; out: (batch, max_len) */
    const int **prompts;
    attn_sampler **samplers;
    stream *st;
} rounds;

static int on_token(int s, int token, void *user) {
    rounds *r = user;
    int stop = r->p->on_token ? r->p->on_token(r->st[r->idx[s]].index, token, r->p->user) : 0;
    if (stop) r->st[r->idx[s]].done = 1;
    return ++r->got[s] >= r->want[s] || stop;
}

static attn_status run_round(const attn_model *m, stream *st, int n, rounds *r) {
    int max_len = attn_model_config(m)->max_len, max_new = r->p->max_new, k = 0, round_new = 0;
    for (int i = 0; i < n; i++) {
        if (st[i].done) continue;
        int n_ctx = st[i].len, start = 0;
        if (max_len - n_ctx < 1) { /* no room: keep the last half of the context */
            n_ctx = max_len / 2 > 0 ? max_len / 2 : 1;
            start = st[i].len - n_ctx;
        }
        int room = max_len - n_ctx > 1 ? max_len - n_ctx : 1, /* max_len 1: one at a time */
            left = max_new - (st[i].len - st[i].prompt);
        r->idx[k] = i, r->prompts[k] = st[i].text + start, r->n_ctx[k] = n_ctx;
        r->want[k] = left < room ? left : room, r->got[k] = 0, r->samplers[k] = st[i].sampler;
        if (r->want[k] > round_new) round_new = r->want[k];
        k++;
    }
    r->st = st;
    ATTN_TRY(attn_generate_batch(m, k, r->prompts, r->n_ctx, round_new, r->samplers, r->p->stop_id,
                                 on_token, r, r->out, r->n_out));
    for (int j = 0; j < k; j++) {
        stream *x = &st[r->idx[j]];
        memcpy(x->text + x->len, r->out + (size_t)j * round_new, r->n_out[j] * sizeof(int));
        x->len += r->n_out[j];
        int stopped = r->n_out[j] > 0 && x->text[x->len - 1] == r->p->stop_id;
        x->done |= stopped || r->n_out[j] <= 0 || x->len - x->prompt >= max_new;
    }
    return ATTN_OK;
}

/* Prompts [first, first + n): set up, rounds until every stream is done, on_done in order. */
static attn_status run_group(const attn_model *m, const int *const *prompts, const int *n_prompt,
                             int first, int n, stream *st, rounds *r) {
    const attn_lm_generate_params *p = r->p;
    attn_status s = ATTN_OK;
    memset(st, 0, (size_t)n * sizeof *st);
    for (int i = 0; i < n && s == ATTN_OK; i++) {
        int len = n_prompt[first + i];
        st[i] = (stream){.prompt = len, .len = len, .index = first + i, .done = p->max_new == 0};
        st[i].text = malloc(((size_t)len + (size_t)p->max_new) * sizeof(int));
        if (!st[i].text)
            s = attn_error(ATTN_ERR_NOMEM, "no room for %d generated ids", p->max_new);
        else
            s = attn_sampler_create(attn_model_config(m)->vocab_size, p->sampler, &st[i].sampler);
        if (s == ATTN_OK) memcpy(st[i].text, prompts[first + i], (size_t)len * sizeof(int));
    }
    for (int busy = s == ATTN_OK; busy && s == ATTN_OK;) {
        busy = 0;
        for (int i = 0; i < n; i++)
            busy |= !st[i].done;
        if (busy) s = run_round(m, st, n, r);
    }
    for (int i = 0; i < n; i++) {
        if (s == ATTN_OK && p->on_done)
            p->on_done(first + i, st[i].text + st[i].prompt, st[i].len - st[i].prompt, p->user);
        attn_sampler_free(st[i].sampler);
        free(st[i].text);
    }
    return s;
}

attn_status attn_lm_generate(const attn_model *m, const int *const *prompts, const int *n_prompt,
                             int n, const attn_lm_generate_params *p) {
    if (!m || !prompts || !n_prompt || !p)
        return attn_error(ATTN_ERR_INVALID, "attn_lm_generate: NULL argument");
    int max_len = attn_model_config(m)->max_len, batch = p->batch;
    if (n < 1 || p->max_new < 0 || batch < 1)
        return attn_error(ATTN_ERR_INVALID, "attn_lm_generate: n %d, max_new %d, batch %d", n,
                          p->max_new, batch);
    for (int i = 0; i < n; i++)
        if (n_prompt[i] < 1 || !prompts[i])
            return attn_error(ATTN_ERR_INVALID, "prompt %d is empty", i + 1);
    if (batch > n) batch = n;
    stream *st = malloc((size_t)batch * sizeof *st);
    int *ints = malloc((size_t)batch * (5 + (size_t)max_len) * sizeof(int));
    rounds r = {.p = p};
    r.prompts = malloc((size_t)batch * sizeof *r.prompts);
    r.samplers = malloc((size_t)batch * sizeof *r.samplers);
    attn_status s = ATTN_OK;
    if (!st || !ints || !r.prompts || !r.samplers) {
        s = attn_error(ATTN_ERR_NOMEM, "no room for a batch of %d prompts", batch);
    } else {
        r.idx = ints, r.n_ctx = ints + batch, r.want = ints + 2 * batch, r.got = ints + 3 * batch;
        r.n_out = ints + 4 * batch, r.out = ints + 5 * batch;
    }
    for (int first = 0; s == ATTN_OK && first < n; first += batch)
        s = run_group(m, prompts, n_prompt, first, n - first < batch ? n - first : batch, st, &r);
    free(st), free(ints), free(r.prompts), free(r.samplers);
    return s;
}
