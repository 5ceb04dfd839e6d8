/* decode/ngram.c: the n-gram model of decode/ngram.h.
 *
 * While counting, one open-addressing table maps (context hash, target) to a count. ngram_finish
 * sorts those by context, so that each context becomes one row {hash, total, distinct, first}
 * over a run of (target, count) followers, and a second table maps a context's hash to its row. */
#include "decode/ngram.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

typedef struct {
    uint64_t ctx;
    int32_t sym, count; /* count 0: an empty slot */
} entry;

typedef struct {
    uint64_t ctx;
    int32_t total, distinct;
    long first; /* its followers: syms[first .. first + distinct) */
} context;

struct ngram {
    int order, V;
    int finished;
    entry *map; /* counting */
    size_t map_size, map_used;
    context *ctxs; /* after ngram_finish */
    long n_ctxs;
    int32_t *syms, *counts;
    long *index; /* (index_size) row + 1, 0 empty */
    size_t index_size;
};

#define START_HASH 0x6a09e667f3bcc909ULL

static uint64_t mix(uint64_t x) { /* splitmix64's finaliser */
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* The hash of a context one symbol older than h's. */
static uint64_t extend(uint64_t h, int sym) {
    return mix(h ^ ((uint64_t)(sym + 1) * 0x9e3779b97f4a7c15ULL));
}

static size_t slot_of(uint64_t ctx, int sym, size_t mask) {
    return (size_t)mix(ctx + (uint64_t)sym) & mask;
}

static int grow(ngram *g) {
    size_t size = g->map_size ? 2 * g->map_size : 1 << 12;
    entry *map = calloc(size, sizeof *map);
    if (!map) return 0;
    for (size_t i = 0; i < g->map_size; i++) {
        const entry *e = &g->map[i];
        if (!e->count) continue;
        size_t at = slot_of(e->ctx, e->sym, size - 1);
        while (map[at].count)
            at = (at + 1) & (size - 1);
        map[at] = *e;
    }
    free(g->map);
    g->map = map;
    g->map_size = size;
    return 1;
}

static int count(ngram *g, uint64_t ctx, int sym) {
    if (2 * (g->map_used + 1) > g->map_size && !grow(g)) return 0;
    size_t mask = g->map_size - 1;
    for (size_t at = slot_of(ctx, sym, mask);; at = (at + 1) & mask) {
        entry *e = &g->map[at];
        if (!e->count) {
            *e = (entry){ctx, sym, 1};
            g->map_used++;
            return 1;
        }
        if (e->ctx == ctx && e->sym == sym) {
            if (e->count < INT32_MAX) e->count++;
            return 1;
        }
    }
}

attn_status ngram_create(int order, int V, ngram **out) {
    if (!out) return attn_error(ATTN_ERR_INVALID, "ngram: out is NULL");
    *out = NULL;
    if (order < 1 || order > NGRAM_MAX_ORDER || V < 2 || V > (1 << 24))
        return attn_error(ATTN_ERR_INVALID, "ngram: order %d outside [1, %d] or %d symbols", order,
                          NGRAM_MAX_ORDER, V);
    ngram *g = calloc(1, sizeof *g);
    if (!g) return attn_error(ATTN_ERR_NOMEM, "ngram: out of memory");
    g->order = order, g->V = V;
    *out = g;
    return ATTN_OK;
}

attn_status ngram_add(ngram *g, const int *ids, int n) {
    if (!g || g->finished || n < 0 || (n > 0 && !ids))
        return attn_error(ATTN_ERR_INVALID, "ngram: bad sentence (or the model is finished)");
    for (int i = 0; i < n; i++)
        if (ids[i] < 1 || ids[i] >= g->V)
            return attn_error(ATTN_ERR_INVALID, "ngram: id %d outside [1, %d)", ids[i], g->V);
    for (int j = 0; j <= n; j++) { /* targets ids[0..n), then the end */
        int target = j < n ? ids[j] : g->V;
        uint64_t h = START_HASH;
        for (int k = 0; k < g->order; k++) {
            if (k > 0) h = extend(h, j - k >= 0 ? ids[j - k] : g->V + 1);
            if (!count(g, h, target)) return attn_error(ATTN_ERR_NOMEM, "ngram: out of memory");
        }
    }
    return ATTN_OK;
}

static int entry_cmp(const void *a, const void *b) {
    const entry *x = a, *y = b;
    if (x->ctx != y->ctx) return x->ctx < y->ctx ? -1 : 1;
    return (x->sym > y->sym) - (x->sym < y->sym);
}

static long find_context(const ngram *g, uint64_t ctx) {
    size_t mask = g->index_size - 1;
    for (size_t at = (size_t)mix(ctx) & mask;; at = (at + 1) & mask) {
        long row = g->index[at];
        if (row == 0) return -1;
        if (g->ctxs[row - 1].ctx == ctx) return row - 1;
    }
}

attn_status ngram_finish(ngram *g) {
    if (!g || g->finished) return attn_error(ATTN_ERR_INVALID, "ngram: finished twice");
    size_t n = 0;
    for (size_t i = 0; i < g->map_size; i++) /* the counts, packed to the front */
        if (g->map[i].count) g->map[n++] = g->map[i];
    qsort(g->map, n, sizeof *g->map, entry_cmp);
    long n_ctxs = 0;
    for (size_t i = 0; i < n; i++)
        n_ctxs += i == 0 || g->map[i].ctx != g->map[i - 1].ctx;
    for (g->index_size = 16; g->index_size < 2 * (size_t)n_ctxs; g->index_size *= 2) {
    }
    g->ctxs = malloc(((size_t)n_ctxs + 1) * sizeof *g->ctxs);
    g->syms = malloc((n + 1) * sizeof *g->syms);
    g->counts = malloc((n + 1) * sizeof *g->counts);
    g->index = calloc(g->index_size, sizeof *g->index);
    if (!g->ctxs || !g->syms || !g->counts || !g->index)
        return attn_error(ATTN_ERR_NOMEM, "ngram: out of memory (%zu n-grams)", n);
    long row = -1;
    for (size_t i = 0; i < n; i++) {
        const entry *e = &g->map[i];
        if (i == 0 || e->ctx != g->map[i - 1].ctx)
            g->ctxs[++row] = (context){e->ctx, 0, 0, (long)i};
        context *c = &g->ctxs[row];
        c->total = c->total > INT32_MAX - e->count ? INT32_MAX : c->total + e->count;
        c->distinct++;
        g->syms[i] = e->sym, g->counts[i] = e->count;
    }
    g->n_ctxs = n_ctxs;
    size_t mask = g->index_size - 1;
    for (long r = 0; r < n_ctxs; r++) {
        size_t at = (size_t)mix(g->ctxs[r].ctx) & mask;
        while (g->index[at])
            at = (at + 1) & mask;
        g->index[at] = r + 1;
    }
    free(g->map);
    g->map = NULL, g->map_size = g->map_used = 0;
    g->finished = 1;
    return ATTN_OK;
}

void ngram_free(ngram *g) {
    if (!g) return;
    free(g->map), free(g->ctxs), free(g->syms), free(g->counts), free(g->index);
    free(g);
}

int ngram_order(const ngram *g) {
    return g->order;
}

long ngram_contexts(const ngram *g) {
    return g->n_ctxs;
}

void ngram_log_probs(const ngram *g, const int *history, int n, float *out) {
    int V = g->V;
    float *p = out; /* probabilities first, logs at the end */
    for (int c = 1; c <= V; c++)
        p[c] = 1.0f / (float)V;
    uint64_t h = START_HASH;
    for (int k = 0; g->finished && k < g->order; k++) {
        if (k > 0) h = extend(h, n - k >= 0 ? history[n - k] : V + 1);
        long row = find_context(g, h);
        if (row < 0) break; /* an unseen context: none older than it was seen either */
        const context *c = &g->ctxs[row];
        double denom = (double)c->total + c->distinct;
        float gamma = (float)(c->distinct / denom);
        for (int s = 1; s <= V; s++)
            p[s] *= gamma;
        for (long i = c->first; i < c->first + c->distinct; i++)
            p[g->syms[i]] += (float)(g->counts[i] / denom);
    }
    out[0] = -INFINITY;
    for (int c = 1; c <= V; c++)
        out[c] = logf(p[c]);
}
