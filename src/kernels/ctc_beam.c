/* kernels/ctc_beam.c: CTC prefix beam search (Hannun et al. 2014, "First-pass large vocabulary
 * continuous speech recognition using bi-directional recurrent DNNs", algorithm 1, without the
 * language model), kernels/ctc.h.
 *
 * A prefix l carries pb = p(l, the frames so far end in a blank) and pnb = p(l, they end in l's
 * last label). Frame t with probabilities y:
 *   l        gets pb  += (pb + pnb) y_blank           (a blank)
 *   l        gets pnb += pnb y_c      for c = last(l) (the last label repeated, merged)
 *   l + c    gets pnb += pb y_c       for c = last(l) (a repeat after a blank is a new label)
 *   l + c    gets pnb += (pb + pnb) y_c otherwise,
 * in logs. The candidates of a frame are found again by a hash of their labels (a prefix l + c
 * may already be another prefix of the beam), then the `beam` best by pb + pnb survive.
 *
 * With an automaton (attn_ctc_dfa: a lexicon, a grammar), each prefix also carries its state, and
 * l + c is a candidate only where the state has a move on c; l itself (a blank, or its last label
 * repeated) keeps its state. The beam then also keeps the best candidate whose state accepts when
 * none of its `beam` best does (one more entry), so that a labelling the automaton accepts is
 * always at hand; the n best are taken among the prefixes whose state accepts.
 *
 * With a language model (attn_ctc_lm), each prefix also carries lm = weight log p_lm(l) + bonus
 * |l|, a function of its labels alone (so prefixes merged by the hash agree on it): l keeps its
 * parent's, l + c adds weight log p_lm(c | l) + bonus. The beam is chosen by log(pb + pnb) + lm,
 * and the n best by that plus weight log p_lm(end | l). */
#include "kernels/ctc.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

static double lse(double a, double b) {
    if (a == -INFINITY) return b;
    if (b == -INFINITY) return a;
    return a > b ? a + log1p(exp(b - a)) : b + log1p(exp(a - b));
}

typedef struct {
    int parent, symbol; /* the prefix of beam entry `parent`, plus symbol (-1: none) */
    int len, state;     /* labels, and the automaton's state after them (0 without one) */
    uint64_t hash;
    double pb, pnb; /* logs */
    double lm;      /* the language model's share of the score (0 without one) */
} cand;

typedef struct {
    int T, beam;
    int *seq, *next_seq; /* (beam, T) labels of the beam's prefixes, and of the next beam */
    int *len, *state;
    uint64_t *hash;
    double *pb, *pnb, *lm;
    int n; /* prefixes in the beam */
    const attn_ctc_dfa *dfa; /* NULL: every labelling */
    const attn_ctc_lm *model; /* NULL: none */
    float *lm_row;            /* (V + 1) the model's log-probabilities after one prefix */
    cand *c;
    int n_cand, cap;
    int *table; /* open addressing, candidate index + 1, 0 = empty */
    int table_size;
    int *chosen; /* (beam) the candidates kept */
    char *taken; /* (cap) */
    double *new_pb, *new_pnb, *new_lm;
    uint64_t *new_hash;
    int *new_len, *new_state;
} search;

static uint64_t hash_append(uint64_t h, int symbol) {
    h ^= (uint64_t)(symbol + 1);
    h *= 0x100000001b3ULL;
    return h ^ (h >> 29);
}

/* Label i of candidate c. */
static int cand_label(const search *s, const cand *c, int i) {
    const cand *k = c;
    int plen = s->len[k->parent];
    return i < plen ? s->seq[(long)k->parent * s->T + i] : k->symbol;
}

static int cand_equal(const search *s, const cand *a, const cand *b) {
    if (a->len != b->len || a->hash != b->hash) return 0;
    for (int i = 0; i < a->len; i++)
        if (cand_label(s, a, i) != cand_label(s, b, i)) return 0;
    return 1;
}

/* The candidate "beam entry parent + symbol", made if new; `state` is the automaton's after it. */
static cand *find(search *s, int parent, int symbol, int state, double lm) {
    cand key = {parent,
                symbol,
                s->len[parent] + (symbol >= 0),
                state,
                symbol >= 0 ? hash_append(s->hash[parent], symbol) : s->hash[parent],
                -INFINITY,
                -INFINITY,
                lm};
    unsigned mask = (unsigned)s->table_size - 1;
    for (unsigned h = (unsigned)key.hash & mask;; h = (h + 1) & mask) {
        int at = s->table[h];
        if (at == 0) {
            s->c[s->n_cand] = key;
            s->table[h] = ++s->n_cand;
            return &s->c[s->n_cand - 1];
        }
        if (cand_equal(s, &s->c[at - 1], &key)) return &s->c[at - 1];
    }
}

static void search_free(search *s) {
    free(s->seq), free(s->next_seq), free(s->len), free(s->hash), free(s->pb), free(s->pnb);
    free(s->c), free(s->table), free(s->chosen), free(s->taken);
    free(s->new_pb), free(s->new_pnb), free(s->new_hash), free(s->new_len);
    free(s->state), free(s->new_state);
    free(s->lm), free(s->new_lm), free(s->lm_row);
}

static attn_status search_init(search *s, int T, int V, int beam) {
    memset(s, 0, sizeof *s);
    s->T = T;
    s->beam = beam;
    beam++; /* room for the kept accepting candidate */
    s->cap = beam * (V + 1);
    for (s->table_size = 16; s->table_size < 2 * s->cap; s->table_size *= 2) {
    }
    s->seq = malloc((size_t)beam * (size_t)T * sizeof(int));
    s->next_seq = malloc((size_t)beam * (size_t)T * sizeof(int));
    s->len = malloc((size_t)beam * sizeof(int));
    s->hash = malloc((size_t)beam * sizeof(uint64_t));
    s->pb = malloc((size_t)beam * sizeof(double));
    s->pnb = malloc((size_t)beam * sizeof(double));
    s->c = malloc((size_t)s->cap * sizeof(cand));
    s->table = malloc((size_t)s->table_size * sizeof(int));
    s->chosen = malloc((size_t)beam * sizeof(int));
    s->taken = malloc((size_t)s->cap);
    s->new_pb = malloc((size_t)beam * sizeof(double));
    s->new_pnb = malloc((size_t)beam * sizeof(double));
    s->new_hash = malloc((size_t)beam * sizeof(uint64_t));
    s->new_len = malloc((size_t)beam * sizeof(int));
    s->state = malloc((size_t)beam * sizeof(int));
    s->new_state = malloc((size_t)beam * sizeof(int));
    s->lm = malloc((size_t)beam * sizeof(double));
    s->new_lm = malloc((size_t)beam * sizeof(double));
    s->lm_row = malloc(((size_t)V + 1) * sizeof(float));
    if (!s->lm || !s->new_lm || !s->lm_row ||!s->seq || !s->next_seq || !s->len || !s->hash || !s->pb || !s->pnb || !s->c || !s->table ||
        !s->chosen || !s->taken || !s->new_pb || !s->new_pnb || !s->new_hash || !s->new_len ||
        !s->state || !s->new_state) {
        search_free(s);
        return attn_error(ATTN_ERR_NOMEM, "ctc beam search: beam %d, T %d, V %d", beam, T, V);
    }
    s->n = 1; /* the empty prefix, all probability on "ends in a blank" */
    s->len[0] = 0;
    s->state[0] = 0;
    s->hash[0] = 0xcbf29ce484222325ULL;
    s->pb[0] = 0;
    s->pnb[0] = -INFINITY;
    s->lm[0] = 0;
    return ATTN_OK;
}

static void step(search *s, const float *y, int V, int blank) {
    s->n_cand = 0;
    memset(s->table, 0, (size_t)s->table_size * sizeof(int));
    for (int i = 0; i < s->n; i++) {
        double pb = s->pb[i], pnb = s->pnb[i], both = lse(pb, pnb);
        int last = s->len[i] ? s->seq[(long)i * s->T + s->len[i] - 1] : -1;
        const int *moves = s->dfa ? s->dfa->next + (long)s->state[i] * V : NULL;
        const attn_ctc_lm *m = s->model;
        if (m) m->next(m->user, s->seq + (long)i * s->T, s->len[i], s->lm_row);
        cand *same = find(s, i, -1, s->state[i], s->lm[i]);
        same->pb = lse(same->pb, both + y[blank]);
        for (int k = 0; k < V; k++) {
            if (k == blank) continue;
            if (moves && moves[k] < 0) { /* l + k is not allowed; l + k merged into l still is */
                if (k == last) same->pnb = lse(same->pnb, pnb + y[k]);
                continue;
            }
            double lm = m ? s->lm[i] + m->weight * (double)s->lm_row[k] + m->bonus : 0;
            cand *ext = find(s, i, k, moves ? moves[k] : 0, lm);
            if (k == last) {
                ext->pnb = lse(ext->pnb, pb + y[k]);
                same->pnb = lse(same->pnb, pnb + y[k]);
            } else {
                ext->pnb = lse(ext->pnb, both + y[k]);
            }
        }
    }
    /* The best `beam` candidates, by selection (the lowest index on a tie). */
    int n = s->n_cand < s->beam ? s->n_cand : s->beam;
    memset(s->taken, 0, (size_t)s->n_cand);
    for (int j = 0; j < n; j++) {
        int best = -1;
        double best_score = -INFINITY;
        for (int c = 0; c < s->n_cand; c++) {
            double score = lse(s->c[c].pb, s->c[c].pnb) + s->c[c].lm;
            if (!s->taken[c] && (best < 0 || score > best_score)) best = c, best_score = score;
        }
        s->taken[best] = 1;
        s->chosen[j] = best;
    }
    int accepted = 0, keep = -1;
    for (int j = 0; s->dfa && j < n; j++)
        accepted |= s->dfa->accept[s->c[s->chosen[j]].state] != 0;
    for (int c = 0; s->dfa && !accepted && c < s->n_cand; c++)
        if (!s->taken[c] && s->dfa->accept[s->c[c].state] &&
            (keep < 0 || lse(s->c[c].pb, s->c[c].pnb) + s->c[c].lm >
                             lse(s->c[keep].pb, s->c[keep].pnb) + s->c[keep].lm))
            keep = c;
    if (keep >= 0) s->chosen[n++] = keep;
    /* The new beam: labels into next_seq (then swapped in), scores beside. */
    for (int j = 0; j < n; j++) {
        const cand *c = &s->c[s->chosen[j]];
        int *row = s->next_seq + (long)j * s->T;
        memcpy(row, s->seq + (long)c->parent * s->T, (size_t)s->len[c->parent] * sizeof(int));
        if (c->symbol >= 0) row[c->len - 1] = c->symbol;
        s->new_pb[j] = c->pb, s->new_pnb[j] = c->pnb, s->new_hash[j] = c->hash;
        s->new_len[j] = c->len, s->new_state[j] = c->state, s->new_lm[j] = c->lm;
    }
    memcpy(s->lm, s->new_lm, (size_t)n * sizeof(double));
    memcpy(s->pb, s->new_pb, (size_t)n * sizeof(double));
    memcpy(s->pnb, s->new_pnb, (size_t)n * sizeof(double));
    memcpy(s->hash, s->new_hash, (size_t)n * sizeof(uint64_t));
    memcpy(s->len, s->new_len, (size_t)n * sizeof(int));
    memcpy(s->state, s->new_state, (size_t)n * sizeof(int));
    int *t = s->seq;
    s->seq = s->next_seq;
    s->next_seq = t;
    s->n = n;
}

/* Checks an automaton: states >= 1, every move in [-1, n_states). */
static attn_status check_dfa(const attn_ctc_dfa *d, int V, int blank) {
    if (!d->next || !d->accept || d->n_states < 1)
        return attn_error(ATTN_ERR_INVALID, "ctc beam search: an automaton without states");
    for (long i = 0; i < (long)d->n_states * V; i++)
        if (d->next[i] < -1 || d->next[i] >= d->n_states || (i % V == blank && d->next[i] >= 0))
            return attn_error(ATTN_ERR_INVALID, "ctc beam search: automaton move %ld is %d", i,
                              d->next[i]);
    return ATTN_OK;
}

attn_status attn_ctc_prefix_beam_search_lm(int *out, int *out_lengths, float *scores,
                                           const float *log_probs, long stride, int T, int V,
                                           int blank, int beam, int n_best,
                                           const attn_ctc_dfa *dfa, const attn_ctc_lm *lm) {
    if (!out || !out_lengths || !scores || !log_probs || T < 1 || V < 1 || beam < 1 || n_best < 1 ||
        n_best > beam || stride < V || beam > (1 << 16) || V > (1 << 20))
        return attn_error(ATTN_ERR_INVALID,
                          "ctc beam search: bad arguments (T %d, V %d, beam %d, n_best %d)", T, V,
                          beam, n_best);
    if (blank < 0 || blank >= V)
        return attn_error(ATTN_ERR_INVALID, "ctc beam search: blank %d outside [0, %d)", blank, V);
    if (lm && (!lm->next || !isfinite(lm->weight) || !isfinite(lm->bonus)))
        return attn_error(ATTN_ERR_INVALID, "ctc beam search: a language model without a "
                                            "function, or with a weight or bonus not finite");
    if (dfa) ATTN_TRY(check_dfa(dfa, V, blank));
    search s;
    ATTN_TRY(search_init(&s, T, V, beam));
    s.dfa = dfa;
    s.model = lm;
    for (int t = 0; t < T; t++)
        step(&s, log_probs + (long)t * stride, V, blank);
    /* The final score of each prefix of the beam (the end's probability added), then the first
     * n_best by it that the automaton accepts, or with none accepted, the first n_best; the beam
     * is in descending order of the last frame's scores, so without a model this keeps it. */
    double *final = s.new_pb; /* scratch of the beam's size */
    for (int j = 0; j < s.n; j++) {
        final[j] = lse(s.pb[j], s.pnb[j]) + s.lm[j];
        if (lm) {
            lm->next(lm->user, s.seq + (long)j * T, s.len[j], s.lm_row);
            final[j] += lm->weight * (double)s.lm_row[V];
        }
    }
    int any = 0;
    for (int j = 0; dfa && j < s.n; j++)
        any |= dfa->accept[s.state[j]] != 0;
    memset(s.taken, 0, (size_t)s.n);
    for (int k = 0; k < n_best; k++) {
        int best = -1;
        for (int j = 0; j < s.n; j++)
            if (!s.taken[j] && !(dfa && any && !dfa->accept[s.state[j]]) &&
                (best < 0 || final[j] > final[best]))
                best = j;
        if (best >= 0) {
            s.taken[best] = 1;
            memcpy(out + (long)k * T, s.seq + (long)best * T, (size_t)s.len[best] * sizeof(int));
            out_lengths[k] = s.len[best];
            scores[k] = (float)final[best];
        } else {
            out_lengths[k] = 0;
            scores[k] = -INFINITY;
        }
    }
    search_free(&s);
    return ATTN_OK;
}

attn_status attn_ctc_prefix_beam_search_dfa(int *out, int *out_lengths, float *scores,
                                            const float *log_probs, long stride, int T, int V,
                                            int blank, int beam, int n_best,
                                            const attn_ctc_dfa *dfa) {
    return attn_ctc_prefix_beam_search_lm(out, out_lengths, scores, log_probs, stride, T, V, blank,
                                          beam, n_best, dfa, NULL);
}

attn_status attn_ctc_prefix_beam_search(int *out, int *out_lengths, float *scores,
                                        const float *log_probs, long stride, int T, int V,
                                        int blank, int beam, int n_best) {
    return attn_ctc_prefix_beam_search_dfa(out, out_lengths, scores, log_probs, stride, T, V,
                                           blank, beam, n_best, NULL);
}
