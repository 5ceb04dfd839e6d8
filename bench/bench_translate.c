/* bench/bench_translate.c: decoding speed of a translator (bench/bench_translate.sh runs it).
 * Usage: bench_translate MODEL TEST.tsv [--sentences N] [--naive N]
 * Translates the source column (2) of the first N test pairs (default all) with greedy and beam 5
 * search, batched (16 sentences) and one sentence at a time, through attn_translator_translate
 * (KV cache, sources encoded once); then the first --naive N (default 50) again with a decoder
 * that recomputes the whole prefix at every step (attn_model_forward over [BOS] + prefix, no
 * cache), greedy and beam 5, one sentence at a time. One JSON line per setting: sentences/s,
 * generated tokens/s, seconds. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn/attn.h"
#include "bench_util.h"

/* Generated tokens (without EOS) of n translations, by re-encoding them. */
static long count_tokens(const attn_translator *t, char **out, int n) {
    long total = 0;
    for (int i = 0; i < n; i++) {
        int *ids, k = 0;
        if (attn_tokenizer_encode(attn_translator_tokenizer(t), out[i], strlen(out[i]), &ids, &k) ==
            ATTN_OK)
            free(ids);
        total += k;
    }
    return total;
}

static void report(const char *what, int beam, int batch, int n, long tokens, double s) {
    printf("{\"decoder\": \"%s\", \"beam\": %d, \"batch\": %d, \"sentences\": %d, \"tokens\": %ld, "
           "\"seconds\": %.3f, \"sentences_per_s\": %.2f, \"tokens_per_s\": %.1f}\n",
           what, beam, batch, n, tokens, s, n / s, tokens / s);
    fflush(stdout);
}

static int cached(attn_translator *t, const attn_parallel *p, int n, int beam, int batch) {
    attn_beam_params b = attn_translator_beam_params(t);
    b.beam = beam, b.batch = batch;
    char **out = calloc((size_t)n, sizeof *out);
    double t0 = bench_now();
    attn_status s =
        attn_translator_translate(t, (const char *const *)p->src, n, &b, out, NULL, NULL);
    double sec = bench_now() - t0;
    if (s != ATTN_OK) {
        fprintf(stderr, "bench_translate: %s\n", attn_last_error());
        return 1;
    }
    report("kv-cache", beam, batch, n, count_tokens(t, out, n), sec);
    for (int i = 0; i < n; i++)
        free(out[i]);
    free(out);
    return 0;
}

/* ---- the decoder without a cache: every step a full forward over [BOS] + each prefix ---------*/

typedef struct {
    double score;
    int k, token;
} cand;

static int cand_cmp(const void *a, const void *b) {
    const cand *x = a, *y = b;
    return x->score > y->score ? -1 : x->score < y->score ? 1 : 0;
}

/* Beam search of one sentence (src: ns ids), K beams, limit L tokens; the best hypothesis's
 * length (tokens before EOS) is returned, -1 on error. */
static int naive_one(attn_model *m, const int *src, int ns, int K, int L, int bos, int eos) {
    const attn_config *c = attn_model_config(m);
    int V = c->vocab_size;
    int *hist = calloc((size_t)K * (L + 1), sizeof *hist),
        *nh = calloc((size_t)K * (L + 1), sizeof *nh);
    double *score = calloc((size_t)K, sizeof *score), *ns_ = calloc((size_t)K, sizeof *ns_);
    int *srcs = malloc((size_t)K * ns * sizeof *srcs),
        *tin = malloc((size_t)K * (L + 1) * sizeof *tin);
    int *lens = malloc((size_t)K * sizeof *lens);
    cand *cands = malloc((size_t)K * V * sizeof *cands);
    double best = -INFINITY;
    int best_len = 0, live = 1, n_fin = 0;
    for (int k = 0; k < K; k++) {
        memcpy(srcs + (size_t)k * ns, src, (size_t)ns * sizeof(int));
        lens[k] = ns;
    }
    for (int t = 0; t < L && live > 0 && n_fin < K; t++) {
        for (int k = 0; k < live; k++) {
            tin[(size_t)k * (t + 1)] = bos;
            memcpy(tin + (size_t)k * (t + 1) + 1, hist + (size_t)k * (L + 1),
                   (size_t)t * sizeof(int));
        }
        attn_batch b = {
            .B = live, .T = ns, .tokens = srcs, .lengths = lens, .Tt = t + 1, .tgt_in = tin};
        if (attn_model_forward(m, &b, 0, NULL) != ATTN_OK) {
            best_len = -1;
            break;
        }
        const float *lg = attn_model_logits(m, NULL, NULL);
        int nc = 0;
        for (int k = 0; k < live; k++) {
            const float *x = lg + ((size_t)k * (t + 1) + t) * V;
            float mx = x[0];
            for (int v = 1; v < V; v++)
                if (x[v] > mx) mx = x[v];
            double sum = 0;
            for (int v = 0; v < V; v++)
                sum += exp((double)x[v] - mx);
            double lse = mx + log(sum);
            for (int v = 0; v < V; v++)
                cands[nc++] = (cand){score[k] + x[v] - lse, k, v};
        }
        qsort(cands, (size_t)nc, sizeof *cands, cand_cmp);
        int made = 0;
        for (int i = 0; i < nc && made < K && n_fin < K; i++) {
            if (cands[i].token == eos) {
                double norm = cands[i].score / (t + 1);
                if (norm > best) best = norm, best_len = t;
                n_fin++;
                continue;
            }
            memcpy(nh + (size_t)made * (L + 1), hist + (size_t)cands[i].k * (L + 1),
                   (size_t)t * sizeof(int));
            nh[(size_t)made * (L + 1) + t] = cands[i].token;
            ns_[made++] = cands[i].score;
        }
        memcpy(hist, nh, (size_t)K * (L + 1) * sizeof *hist);
        memcpy(score, ns_, (size_t)K * sizeof *score);
        live = made;
    }
    free(hist), free(nh), free(score), free(ns_), free(srcs), free(tin), free(lens), free(cands);
    return best_len;
}

static int naive(attn_translator *t, const attn_parallel *p, int n, int K) {
    attn_model *m = attn_translator_model(t);
    const attn_tokenizer *tok = attn_translator_tokenizer(t);
    attn_beam_params b = attn_translator_beam_params(t);
    int max = attn_model_config(m)->max_len;
    long tokens = 0;
    double t0 = bench_now();
    for (int i = 0; i < n; i++) {
        int *ids, k;
        if (attn_tokenizer_encode(tok, p->src[i], strlen(p->src[i]), &ids, &k) != ATTN_OK) return 1;
        if (k > max - 2) k = max - 2;
        ids = realloc(ids, (size_t)(k + 1) * sizeof *ids);
        ids[k++] = b.eos_id;
        double lim = b.max_len_a * k + b.max_len_b;
        int L = lim < max - 1 ? (int)lim : max - 1;
        int got = naive_one(m, ids, k, K, L, b.bos_id, b.eos_id);
        free(ids);
        if (got < 0) return 1;
        tokens += got;
    }
    report("recompute", K, 1, n, tokens, bench_now() - t0);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: bench_translate MODEL TEST.tsv [--sentences N] [--naive N]\n");
        return 2;
    }
    int n_max = 1 << 30, n_naive = 50;
    for (int i = 3; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--sentences")) n_max = atoi(argv[i + 1]);
        if (!strcmp(argv[i], "--naive")) n_naive = atoi(argv[i + 1]);
    }
    attn_translator *t;
    attn_parallel p;
    if (attn_translator_load(argv[1], &t) != ATTN_OK ||
        attn_parallel_read(argv[2], 1, 2, &p) != ATTN_OK) {
        fprintf(stderr, "bench_translate: %s\n", attn_last_error());
        return 1;
    }
    int n = p.n < n_max ? (int)p.n : n_max, nn = n < n_naive ? n : n_naive;
    int rc = cached(t, &p, n, 1, 16) || cached(t, &p, n, 5, 16) || cached(t, &p, nn, 1, 1) ||
             cached(t, &p, nn, 5, 1) || naive(t, &p, nn, 1) || naive(t, &p, nn, 5);
    attn_parallel_free(&p);
    attn_translator_free(t);
    return rc;
}
