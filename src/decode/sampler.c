/* decode/sampler.c: drawing a token from logits (attn/decode.h): greedy, temperature, top-k and
 * top-p (nucleus) sampling, seeded and reproducible.
 *
 * Order of operations (as in Hugging Face's generate): p ∝ exp((logit - max) / T) in double; keep
 * the top_k most likely tokens; of those, keep the smallest prefix (most likely first) whose
 * renormalised mass reaches top_p; draw from what is left, renormalised. Ties in probability are
 * broken towards the lower token id. All scratch is allocated by attn_sampler_create. */
#include "attn/decode.h"

#include <math.h>
#include <stdlib.h>

#include "core/error.h"
#include "core/rng.h"

typedef struct {
    double p; /* unnormalised probability */
    int id;
} candidate;

struct attn_sampler {
    int vocab;
    attn_sampler_params params;
    attn_rng rng;
    double *prob;    /* (vocab) scratch */
    candidate *cand; /* (vocab) scratch */
};

/* temperature 1, top_k 0, top_p 1, seed 0: plain sampling from softmax(logits). */
attn_sampler_params attn_sampler_default_params(void) {
    attn_sampler_params p = {.temperature = 1.0f, .top_k = 0, .top_p = 1.0f, .seed = 0};
    return p;
}

/* Validates the parameters, allocates the scratch and seeds the generator with (seed, 0).
 * *out is owned by the caller (attn_sampler_free). Errors: ATTN_ERR_INVALID (vocab_size <= 0,
 * temperature negative or non-finite, top_k < 0, top_p outside (0, 1]), ATTN_ERR_NOMEM. */
attn_status attn_sampler_create(int vocab_size, attn_sampler_params params, attn_sampler **out) {
    if (!out) return attn_error(ATTN_ERR_INVALID, "attn_sampler_create: out is NULL");
    *out = NULL;
    if (vocab_size <= 0)
        return attn_error(ATTN_ERR_INVALID, "sampler: vocab_size %d must be > 0", vocab_size);
    if (!(params.temperature >= 0.0f && isfinite(params.temperature)))
        return attn_error(ATTN_ERR_INVALID, "sampler: temperature %g must be finite and >= 0",
                          params.temperature);
    if (params.top_k < 0)
        return attn_error(ATTN_ERR_INVALID, "sampler: top_k %d must be >= 0 (0: off)",
                          params.top_k);
    if (!(params.top_p > 0.0f && params.top_p <= 1.0f))
        return attn_error(ATTN_ERR_INVALID, "sampler: top_p %g must be in (0, 1] (1: off)",
                          params.top_p);

    attn_sampler *s = calloc(1, sizeof *s);
    if (!s) return attn_error(ATTN_ERR_NOMEM, "sampler: out of memory");
    s->vocab = vocab_size;
    s->params = params;
    s->prob = malloc((size_t)vocab_size * sizeof *s->prob);
    s->cand = malloc((size_t)vocab_size * sizeof *s->cand);
    if (!s->prob || !s->cand) {
        attn_sampler_free(s);
        return attn_error(ATTN_ERR_NOMEM, "sampler: no memory for a vocabulary of %d", vocab_size);
    }
    attn_rng_init(&s->rng, params.seed, 0);
    *out = s;
    return ATTN_OK;
}

/* Frees s and its scratch; NULL is allowed. */
void attn_sampler_free(attn_sampler *s) {
    if (!s) return;
    free(s->prob);
    free(s->cand);
    free(s);
}

/* Index of the largest logit, the lowest such id on ties; NaN never wins (all NaN: 0). */
static int argmax(const float *x, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best] || (isnan(x[best]) && !isnan(x[i]))) best = i;
    return best;
}

/* "a comes before b": higher probability first, then lower id. A strict total order. */
static int before(const candidate *a, const candidate *b) {
    return a->p > b->p || (a->p == b->p && a->id < b->id);
}

static void swap(candidate *a, candidate *b) {
    candidate t = *a;
    *a = *b;
    *b = t;
}

/* Restores the heap below root of c[0, n), whose top is the candidate that comes last. */
static void sift_down(candidate *c, int root, int n) {
    for (int child; (child = 2 * root + 1) < n; root = child) {
        if (child + 1 < n && before(&c[child], &c[child + 1])) child++;
        if (!before(&c[root], &c[child])) return;
        swap(&c[root], &c[child]);
    }
}

/* Sorts c[0, n) into `before` order: heapsort, in place. Not qsort, which (glibc) mallocs a
 * buffer for arrays over 1 KB on every call; `before` is a total order, so the result is the
 * same. */
static void sort_candidates(candidate *c, int n) {
    for (int i = n / 2 - 1; i >= 0; i--)
        sift_down(c, i, n);
    for (int end = n - 1; end > 0; end--) {
        swap(&c[0], &c[end]);
        sift_down(c, 0, end);
    }
}

/* Reorders c[0, n) so that its first k elements are the k first in `before` order (unsorted):
 * quickselect with a middle pivot, O(n) on average. 0 < k < n. */
static void select_top(candidate *c, int n, int k) {
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        swap(&c[(lo + hi) / 2], &c[hi]);
        candidate pivot = c[hi];
        int store = lo;
        for (int i = lo; i < hi; i++)
            if (before(&c[i], &pivot)) swap(&c[i], &c[store++]);
        swap(&c[store], &c[hi]); /* c[lo, store) before the pivot, now at store */
        if (store == k - 1 || store == k) return;
        if (store < k)
            lo = store + 1;
        else
            hi = store - 1;
    }
}

/* Draws index i of p[0, n) with probability p[i] / Σp using one 53-bit uniform. */
static int draw(attn_rng *rng, const double *p, int n, double total) {
    double u = (double)(attn_rng_u64(rng) >> 11) * 0x1.0p-53 * total, acc = 0.0;
    for (int i = 0; i < n; i++) {
        acc += p[i];
        if (u < acc) return i;
    }
    for (int i = n - 1; i > 0; i--) /* rounding left u at the very end: last nonzero entry */
        if (p[i] > 0.0) return i;
    return 0;
}

/* Filters the candidates by top-k then top-p and draws one. prob: (vocab) unnormalised, total
 * their sum. Candidates below (1 - top_p)/(V - 1) of the mass cannot be in the nucleus (the tokens
 * at or after one of them in sorted order would hold less than 1 - top_p), so they are dropped
 * before sorting when top-k is off. */
static int sample_filtered(attn_sampler *s, const double *prob, double total) {
    const int V = s->vocab;
    const int k = s->params.top_k > 0 && s->params.top_k < V ? s->params.top_k : V;
    const double top_p = s->params.top_p;
    candidate *c = s->cand;
    int n = 0;
    if (k == V && top_p < 1.0 && V > 1) {
        double cutoff = (1.0 - top_p) / (V - 1) * total;
        for (int i = 0; i < V; i++)
            if (prob[i] >= cutoff) c[n++] = (candidate){prob[i], i};
    }
    if (n == 0) { /* no pre-filter, or it kept nothing (only when V·top_p < 1) */
        for (int i = 0; i < V; i++)
            c[i] = (candidate){prob[i], i};
        n = V;
    }
    if (k < n) {
        select_top(c, n, k);
        n = k;
    }
    sort_candidates(c, n);

    double mass = 0.0;
    for (int i = 0; i < n; i++)
        mass += c[i].p;
    if (top_p < 1.0) {
        double need = top_p * mass, acc = 0.0;
        int keep = n;
        for (int i = 0; i < n; i++) {
            acc += c[i].p;
            if (acc >= need) {
                keep = i + 1;
                break;
            }
        }
        n = keep;
        mass = acc;
    }
    double *p = s->prob; /* prob is no longer needed: reuse it for the kept probabilities */
    for (int i = 0; i < n; i++)
        p[i] = c[i].p;
    return c[draw(&s->rng, p, n, mass)].id;
}

/* One token id from logits (vocab floats, not changed). Temperature 0 or top_k 1 is argmax
 * (lowest id on ties) and draws nothing from the generator. Logits with a non-finite maximum
 * (all -inf, +inf, NaN) fall back to argmax, NaN logits count as probability 0: this function
 * cannot fail, so it does not judge; attn_sampler_draw refuses such logits. Allocates nothing. */
int attn_sampler_sample(attn_sampler *s, const float *logits) {
    const int V = s->vocab;
    int best = argmax(logits, V);
    if (s->params.temperature == 0.0f || s->params.top_k == 1 || !isfinite(logits[best]))
        return best;

    const double max = logits[best], inv_t = 1.0 / s->params.temperature;
    double total = 0.0;
    for (int i = 0; i < V; i++) {
        double x = logits[i]; /* NaN: probability 0 */
        s->prob[i] = x == x ? exp((x - max) * inv_t) : 0.0;
        total += s->prob[i];
    }
    if ((s->params.top_k == 0 || s->params.top_k >= V) && s->params.top_p >= 1.0f)
        return draw(&s->rng, s->prob, V, total);
    return sample_filtered(s, s->prob, total);
}

/* attn_sampler_sample after a check that the logits can be sampled: every one finite or -inf
 * (a masked token), at least one finite. Errors: ATTN_ERR_NUMERIC naming the first NaN or +inf
 * logit (or that all are -inf), *token untouched and no draw taken from the generator;
 * ATTN_ERR_INVALID for a NULL argument. Allocates nothing. */
attn_status attn_sampler_draw(attn_sampler *s, const float *logits, int *token) {
    if (!s || !logits || !token)
        return attn_error(ATTN_ERR_INVALID, "attn_sampler_draw: NULL argument");
    int finite = 0;
    for (int i = 0; i < s->vocab; i++) {
        float x = logits[i];
        if (isnan(x) || x == INFINITY)
            return attn_error(ATTN_ERR_NUMERIC,
                              "sampling: logit %d of %d is %s (the model computes non-finite "
                              "values; are its weights finite?)",
                              i, s->vocab, isnan(x) ? "NaN" : "+inf");
        finite |= x != -INFINITY;
    }
    if (!finite) return attn_error(ATTN_ERR_NUMERIC, "sampling: all %d logits are -inf", s->vocab);
    *token = attn_sampler_sample(s, logits);
    return ATTN_OK;
}
