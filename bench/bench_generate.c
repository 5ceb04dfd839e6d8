/* bench/bench_generate.c: tokens/s of greedy KV-cached generation from a decoder-only LM, the C
 * side of bench/bench_generate.py. Usage:
 *   bench_generate [--layers 6] [--d-model 384] [--heads 6] [--vocab 256] [--new 256] [--runs 3]
 *                  [--batch 1,8]
 * The model has random weights (attn_model_create, seed 1), d_ff = 4 d_model and room for a
 * one-token prompt and --new tokens. Batch B continues B one-token prompts with
 * attn_generate_batch (B = 1: attn_generate), greedy, no stop token, so every stream makes --new
 * tokens. Prints one JSON line per batch size, the median of --runs after a warm-up: tokens/s
 * summed over the streams, ms per step (a token for every stream) and ms per token. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attn/attn.h"
#include "bench_util.h"

#define MAX_BATCHES 8

/* One generation of n_new tokens for each of B streams; seconds, or -1 on error. */
static double run(const attn_model *m, int B, int n_new, attn_sampler *s, int *out, int *n_out) {
    int V = attn_model_config(m)->vocab_size, tokens[64], ones[64];
    const int *prompts[64];
    attn_sampler *samplers[64];
    for (int i = 0; i < B; i++)
        tokens[i] = i * 37 % V, prompts[i] = &tokens[i], ones[i] = 1, samplers[i] = s;
    double t0 = bench_now();
    attn_status st = B == 1 ? attn_generate(m, tokens, 1, n_new, s, -1, NULL, NULL, out, n_out)
                            : attn_generate_batch(m, B, prompts, ones, n_new, samplers, -1, NULL,
                                                  NULL, out, n_out);
    double t = bench_now() - t0;
    if (st != ATTN_OK) return -1;
    for (int i = 0; i < B; i++)
        if (n_out[i] != n_new) return -1;
    return t;
}

int main(int argc, char **argv) {
    int layers = 6, d = 384, heads = 6, V = 256, n_new = 256, runs = 3;
    int batches[MAX_BATCHES] = {1, 8}, n_batches = 2;
    for (int i = 1; i + 1 < argc; i += 2) {
        int v = atoi(argv[i + 1]);
        if (!strcmp(argv[i], "--layers"))
            layers = v;
        else if (!strcmp(argv[i], "--d-model"))
            d = v;
        else if (!strcmp(argv[i], "--heads"))
            heads = v;
        else if (!strcmp(argv[i], "--vocab"))
            V = v;
        else if (!strcmp(argv[i], "--new"))
            n_new = v;
        else if (!strcmp(argv[i], "--runs"))
            runs = v;
        else if (!strcmp(argv[i], "--batch")) {
            n_batches = 0;
            for (char *p = argv[i + 1]; *p && n_batches < MAX_BATCHES; p += *p == ',')
                batches[n_batches++] = (int)strtol(p, &p, 10);
        } else {
            fprintf(stderr, "bench_generate: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    for (int b = 0; b < n_batches; b++)
        if (batches[b] < 1 || batches[b] > 64 || runs < 1 || runs > 100 || n_new < 1) {
            fprintf(stderr, "bench_generate: batch sizes 1..64, runs 1..100, --new >= 1\n");
            return 2;
        }
    attn_set_num_threads(0);
    attn_config c = attn_config_default(ATTN_ARCH_DECODER_LM);
    c.vocab_size = V, c.max_len = 1 + n_new, c.d_model = d, c.n_heads = heads, c.d_ff = 4 * d;
    c.n_layers = layers, c.dropout = 0;
    attn_model *m;
    attn_sampler_params sp = attn_sampler_default_params();
    sp.temperature = 0; /* greedy */
    attn_sampler *s;
    if (attn_model_create(&c, 1, &m) != ATTN_OK || attn_sampler_create(V, sp, &s) != ATTN_OK) {
        fprintf(stderr, "bench_generate: %s\n", attn_last_error());
        return 1;
    }
    int *out = malloc(sizeof(int) * 64 * n_new), n_out[64];
    double times[100];
    for (int b = 0; b < n_batches; b++) {
        int B = batches[b];
        if (run(m, B, n_new < 8 ? n_new : 8, s, out, n_out) < 0) { /* warm-up */
            fprintf(stderr, "bench_generate: %s\n", attn_last_error());
            return 1;
        }
        for (int r = 0; r < runs; r++)
            if ((times[r] = run(m, B, n_new, s, out, n_out)) < 0) {
                fprintf(stderr, "bench_generate: %s\n", attn_last_error());
                return 1;
            }
        double med = bench_median(times, runs);
        printf("{\"impl\": \"attn\", \"threads\": %d, \"batch\": %d, \"new_tokens\": %d, "
               "\"tokens_per_s\": %.1f, \"ms_per_step\": %.3f, \"ms_per_token\": %.3f, "
               "\"params\": %zu}\n",
               attn_get_num_threads(), B, n_new, B * n_new / med, 1e3 * med / n_new,
               1e3 * med / (B * n_new), attn_model_num_params(m));
        fflush(stdout);
    }
    attn_sampler_free(s);
    attn_model_free(m);
    free(out);
    return 0;
}
