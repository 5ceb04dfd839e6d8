/* decode/beam.c: beam search (and greedy, beam 1) for encoder-decoder models, batched over
 * sentences (attn_beam_search, include/attn/decode.h).
 *
 * A group of S sentences decodes in one context of S * K streams (K beams each). The sources are
 * encoded once per sentence (attn_context_set_source_shared). Every step, each unfinished
 * sentence ranks the continuations of its live beams (score + log p(token)) and keeps the best 2K:
 * in order, one ending in EOS becomes a finished hypothesis (its score normalised by
 * length^alpha), any other fills the next of the K new beams. A sentence stops with K finished
 * hypotheses, or at its length limit (the live beams then finish as they are). The context is
 * reordered to the new beams' parents and fed their tokens; the unfinished sentences' streams are
 * moved to the front and the context's active streams cut to them (attn_context_set_active), so
 * a finished sentence leaves the batch's products. Everything a sentence computes is its own: only
 * the batched products of the model are shared, so its result does not depend on its neighbours
 * (tests/decode/test_beam.c checks it). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attn/decode.h"
#include "core/error.h"

attn_beam_params attn_beam_default_params(void) {
    return (attn_beam_params){.beam = 5,
                              .length_penalty = 1.0f,
                              .max_len_a = 1.5f,
                              .max_len_b = 10,
                              .n_best = 1,
                              .bos_id = 2,
                              .eos_id = 3,
                              .batch = 16};
}

void attn_hypotheses_free(attn_hypothesis *h, long n) {
    for (long i = 0; h && i < n; i++) {
        free(h[i].ids);
        h[i].ids = NULL;
    }
}

/* A candidate continuation: beam k of its sentence extended by token, at this total score. */
typedef struct {
    double score;
    int k, token;
} cand;

/* Higher score first; ties by beam, then token (deterministic). */
static int cand_cmp(const void *a, const void *b) {
    const cand *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    if (x->k != y->k) return x->k - y->k;
    return x->token - y->token;
}

typedef struct {
    double norm; /* score / length^alpha */
    double score;
    int len;  /* tokens generated, EOS included when it ended with one */
    int *ids; /* len ids (points into the group's finished storage) */
} finished;

static int fin_cmp(const void *a, const void *b) {
    const finished *x = a, *y = b;
    if (x->norm != y->norm) return x->norm > y->norm ? -1 : 1;
    return x->len - y->len;
}

/* One group's state. */
typedef struct {
    const attn_beam_params *p;
    int S, K, V, cap;               /* sentences, beams, vocabulary, positions per stream */
    int *max_out;                   /* (S) length limit of each sentence */
    double *score;                  /* (S K) of the live beams */
    int *hist, *next_hist;          /* (S K, cap) tokens generated so far per beam */
    int *done, *n_fin;              /* (S) */
    finished *fin;                  /* (S, 2K): finished hypotheses */
    int *fin_ids;                   /* (S, 2K, cap) their tokens */
    cand *cands;                    /* (K * 2K) */
    double *logp;                   /* (V) */
    int *parents, *tokens, *counts; /* (S K) */
    int *slot;                      /* (S) the block of streams sentence s sits in now */
    int *phys, *feed;               /* (S K) reorder parents and tokens in stream order */
} group;

static void add_finished(group *g, int s, double score, const int *ids, int len) {
    if (g->n_fin[s] >= 2 * g->K) return;
    finished *f = &g->fin[(size_t)s * 2 * g->K + g->n_fin[s]];
    f->ids = g->fin_ids + ((size_t)s * 2 * g->K + g->n_fin[s]) * g->cap;
    memcpy(f->ids, ids, (size_t)len * sizeof(int));
    f->len = len, f->score = score;
    f->norm = score / pow(len > 0 ? len : 1, g->p->length_penalty);
    g->n_fin[s]++;
}

/* log softmax of x (V floats) into g->logp. */
static void log_softmax(group *g, const float *x) {
    float mx = x[0];
    for (int v = 1; v < g->V; v++)
        if (x[v] > mx) mx = x[v];
    double sum = 0;
    for (int v = 0; v < g->V; v++)
        sum += exp((double)x[v] - mx);
    double lse = mx + log(sum);
    for (int v = 0; v < g->V; v++)
        g->logp[v] = (double)x[v] - lse;
}

/* The best n of beam k's continuations (score + logp) appended to c[*nc..]: a partial selection
 * over the vocabulary (n small). */
static void best_of_beam(group *g, int k, double score, cand *c, int *nc, int n) {
    int start = *nc, have = 0;
    for (int v = 0; v < g->V; v++) {
        double sc = score + g->logp[v];
        if (have == n && sc <= c[start + n - 1].score) continue;
        int j = have < n ? have++ : n - 1; /* insertion into the sorted top n */
        while (j > 0 && c[start + j - 1].score < sc) {
            c[start + j] = c[start + j - 1];
            j--;
        }
        c[start + j] = (cand){sc, k, v};
    }
    *nc += have;
}

/* Step t (tokens 0..t-1 generated) of sentence s from its beams' logits (logits: (K, V), the
 * sentence's rows): new beams, finished hypotheses, and for each new beam j its parent beam
 * (parents[s K + j], 0..K-1) and token for the next feed. */
static void step_sentence(group *g, int s, int t, const float *logits) {
    int K = g->K, n_live = t == 0 ? 1 : K, nc = 0, eos = g->p->eos_id;
    for (int k = 0; k < n_live; k++) {
        log_softmax(g, logits + (size_t)k * g->V);
        best_of_beam(g, k, g->score[s * K + k], g->cands, &nc, 2 * K);
    }
    qsort(g->cands, (size_t)nc, sizeof *g->cands, cand_cmp);
    int made = 0;
    for (int i = 0; i < nc && made < K && g->n_fin[s] < K; i++) {
        const cand *c = &g->cands[i];
        int *from = g->hist + (size_t)(s * K + c->k) * g->cap;
        if (c->token == eos) {
            int *ids = g->next_hist + (size_t)(s * K + made) * g->cap; /* scratch row */
            memcpy(ids, from, (size_t)t * sizeof(int));
            ids[t] = eos;
            add_finished(g, s, c->score, ids, t + 1);
            continue;
        }
        int j = s * K + made++;
        memcpy(g->next_hist + (size_t)j * g->cap, from, (size_t)t * sizeof(int));
        g->next_hist[(size_t)j * g->cap + t] = c->token;
        g->score[j] = c->score;
        g->parents[j] = c->k;
        g->tokens[j] = c->token;
    }
    for (int j = s * K + made; j < s * K + K; j++) { /* too few continuations: dead beams */
        g->score[j] = -INFINITY;
        g->parents[j] = 0;
        g->tokens[j] = eos;
    }
    if (g->n_fin[s] >= K) g->done[s] = 1;
    if (!g->done[s] && t + 1 >= g->max_out[s]) { /* the limit: live beams finish as they are */
        for (int k = 0; k < made; k++)
            add_finished(g, s, g->score[s * K + k], g->next_hist + (size_t)(s * K + k) * g->cap,
                         t + 1);
        g->done[s] = 1;
    }
}

/* Decodes one group: sentences srcs[0..S) into out[0 .. S * n_best). */
static attn_status run_group(const attn_model *m, attn_context *ctx, group *g,
                             const int *const *srcs, const int *src_len, attn_hypothesis *out) {
    int S = g->S, K = g->K, B = S * K, Ts = 1;
    for (int s = 0; s < S; s++)
        if (src_len[s] > Ts) Ts = src_len[s];
    int *src = malloc((size_t)S * Ts * sizeof *src);
    if (!src) return attn_error(ATTN_ERR_NOMEM, "beam search: out of memory");
    for (int s = 0; s < S; s++)
        for (int t = 0; t < Ts; t++)
            src[(size_t)s * Ts + t] = t < src_len[s] ? srcs[s][t] : 0;
    attn_status st = attn_context_set_source_shared(ctx, src, src_len, Ts, S);
    free(src);
    ATTN_TRY(st);
    const float *logits;
    for (int b = 0; b < B; b++)
        g->tokens[b] = g->p->bos_id, g->counts[b] = 1;
    for (int s = 0; s < S; s++)
        g->done[s] = 0, g->n_fin[s] = 0, g->score[s * K] = 0, g->slot[s] = s;
    ATTN_TRY(attn_context_feed_streams(ctx, g->tokens, 1, g->counts, &logits));
    for (int t = 0, active = S;; t++) {
        for (int s = 0; s < S; s++)
            if (!g->done[s]) step_sentence(g, s, t, logits + (size_t)g->slot[s] * K * g->V);
        int *swap = g->hist;
        g->hist = g->next_hist, g->next_hist = swap;
        /* the sentences still going move to the front, in order; the rest leave the batch */
        int next = 0;
        for (int i = 0; i < active * K; i++)
            g->phys[i] = i; /* streams past the new end stay as they are */
        for (int s = 0; s < S; s++) {
            if (g->done[s]) continue;
            for (int k = 0; k < K; k++) {
                g->phys[next * K + k] = g->slot[s] * K + g->parents[s * K + k];
                g->feed[next * K + k] = g->tokens[s * K + k];
                g->counts[next * K + k] = 1;
            }
            g->slot[s] = next++;
        }
        if (next == 0) break;
        ATTN_TRY(attn_context_reorder(ctx, g->phys));
        ATTN_TRY(attn_context_set_active(ctx, next * K));
        active = next;
        ATTN_TRY(attn_context_feed_streams(ctx, g->feed, 1, g->counts, &logits));
    }
    for (int s = 0; s < S; s++) {
        finished *f = g->fin + (size_t)s * 2 * K;
        qsort(f, (size_t)g->n_fin[s], sizeof *f, fin_cmp);
        for (int j = 0; j < g->p->n_best; j++) {
            attn_hypothesis *h = &out[(size_t)s * g->p->n_best + j];
            *h = (attn_hypothesis){.score = -INFINITY};
            if (j >= g->n_fin[s]) continue;
            int n = f[j].len - (f[j].len > 0 && f[j].ids[f[j].len - 1] == g->p->eos_id);
            h->ids = malloc(((size_t)n + 1) * sizeof *h->ids);
            if (!h->ids) return attn_error(ATTN_ERR_NOMEM, "beam search: out of memory");
            memcpy(h->ids, f[j].ids, (size_t)n * sizeof(int));
            h->n = n, h->score = (float)f[j].norm;
        }
    }
    return ATTN_OK;
}

static attn_status check_params(const attn_model *m, const attn_beam_params *p) {
    const attn_config *c = attn_model_config(m);
    if (c->arch != ATTN_ARCH_SEQ2SEQ)
        return attn_error(ATTN_ERR_INVALID, "beam search needs a seq2seq model (not %s)",
                          attn_arch_name(c->arch));
    if (p->beam < 1 || p->n_best < 1 || p->n_best > p->beam || p->batch < 1)
        return attn_error(ATTN_ERR_INVALID, "beam search: beam %d, n_best %d, batch %d", p->beam,
                          p->n_best, p->batch);
    if (!(p->max_len_a >= 0) || p->max_len_b < 0 || !isfinite(p->length_penalty))
        return attn_error(ATTN_ERR_INVALID, "beam search: max length %g x + %d, alpha %g",
                          (double)p->max_len_a, p->max_len_b, (double)p->length_penalty);
    int V = c->vocab_size;
    if (p->bos_id < 0 || p->bos_id >= V || p->eos_id < 0 || p->eos_id >= V)
        return attn_error(ATTN_ERR_INVALID, "beam search: bos %d / eos %d outside [0, %d)",
                          p->bos_id, p->eos_id, V);
    return ATTN_OK;
}

/* The arrays of a group of up to S sentences (one allocation each, freed by free_group). */
static attn_status alloc_group(group *g, int S, int K, int V, int cap) {
    size_t B = (size_t)S * K;
    g->S = S, g->K = K, g->V = V, g->cap = cap;
    g->max_out = malloc((size_t)S * sizeof(int));
    g->score = malloc(B * sizeof(double));
    g->hist = malloc(B * cap * sizeof(int));
    g->next_hist = malloc(B * cap * sizeof(int));
    g->done = malloc((size_t)S * sizeof(int));
    g->n_fin = malloc((size_t)S * sizeof(int));
    g->fin = malloc((size_t)S * 2 * K * sizeof(finished));
    g->fin_ids = malloc((size_t)S * 2 * K * cap * sizeof(int));
    g->cands = malloc((size_t)K * 2 * K * sizeof(cand));
    g->logp = malloc((size_t)V * sizeof(double));
    g->parents = malloc(B * sizeof(int));
    g->tokens = malloc(B * sizeof(int));
    g->counts = malloc(B * sizeof(int));
    g->slot = malloc((size_t)S * sizeof(int));
    g->phys = malloc(B * sizeof(int));
    g->feed = malloc(B * sizeof(int));
    if (g->slot && g->phys && g->feed && g->max_out && g->score && g->hist && g->next_hist &&
        g->done && g->n_fin && g->fin && g->fin_ids && g->cands && g->logp && g->parents &&
        g->tokens && g->counts)
        return ATTN_OK;
    return attn_error(ATTN_ERR_NOMEM, "beam search: out of memory for %d sentences x %d beams", S,
                      K);
}

static void free_group(group *g) {
    free(g->max_out), free(g->score), free(g->hist), free(g->next_hist), free(g->done);
    free(g->n_fin), free(g->fin), free(g->fin_ids), free(g->cands), free(g->logp);
    free(g->parents), free(g->tokens), free(g->counts), free(g->slot), free(g->phys);
    free(g->feed);
}

attn_status attn_beam_search(const attn_model *m, const int *const *srcs, const int *src_len, int n,
                             const attn_beam_params *p, attn_hypothesis *out) {
    if (!m || !srcs || !src_len || !p || !out)
        return attn_error(ATTN_ERR_INVALID, "attn_beam_search: NULL argument");
    ATTN_TRY(check_params(m, p));
    const attn_config *c = attn_model_config(m);
    for (int i = 0; i < n; i++)
        if (src_len[i] < 1 || src_len[i] > c->max_len || !srcs[i])
            return attn_error(ATTN_ERR_INVALID, "sentence %d: %d source ids, need 1 to %d", i + 1,
                              src_len[i], c->max_len);
    int K = p->beam, S = p->batch < n ? p->batch : n, cap = c->max_len;
    group g = {.p = p};
    attn_status s = n > 0 ? alloc_group(&g, S, K, c->vocab_size, cap) : ATTN_OK;
    for (long i = 0; i < (long)n * p->n_best; i++)
        out[i] = (attn_hypothesis){.score = -INFINITY};
    for (int first = 0; s == ATTN_OK && first < n; first += S) {
        int ns = n - first < S ? n - first : S;
        g.S = ns;
        for (int j = 0; j < ns; j++) { /* a * source + b target tokens, EOS included, in the cap */
            double lim = (double)p->max_len_a * src_len[first + j] + p->max_len_b;
            g.max_out[j] = lim < cap - 1 ? (lim < 1 ? 1 : (int)lim) : cap - 1;
        }
        int positions = 1; /* BOS + the longest limit */
        for (int j = 0; j < ns; j++)
            if (g.max_out[j] + 1 > positions) positions = g.max_out[j] + 1;
        attn_context *ctx = NULL;
        s = attn_context_create(m, ns * K, positions < cap ? positions : cap, &ctx);
        if (s == ATTN_OK)
            s = run_group(m, ctx, &g, srcs + first, src_len + first,
                          out + (size_t)first * p->n_best);
        attn_context_free(ctx);
    }
    free_group(&g);
    if (s != ATTN_OK) attn_hypotheses_free(out, (long)n * p->n_best);
    return s;
}
