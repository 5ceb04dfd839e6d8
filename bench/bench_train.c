/* bench/bench_train.c: tokens/s of one decoder-only LM training step (forward, backward, AdamW),
 * the C side of bench/bench_train.py. Usage:
 *   bench_train [--layers 6] [--d-model 384] [--heads 6] [--context 256] [--vocab 8192]
 *               [--batch 8] [--steps 10] [--warmup 2]
 * Prints one JSON line: median step seconds, tokens/s, peak RSS in MB. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "attn/attn.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    int layers = 6, d = 384, heads = 6, T = 256, V = 8192, B = 8, steps = 10, warmup = 2;
    for (int i = 1; i + 1 < argc; i += 2) {
        int v = atoi(argv[i + 1]);
        if (!strcmp(argv[i], "--layers"))
            layers = v;
        else if (!strcmp(argv[i], "--d-model"))
            d = v;
        else if (!strcmp(argv[i], "--heads"))
            heads = v;
        else if (!strcmp(argv[i], "--context"))
            T = v;
        else if (!strcmp(argv[i], "--vocab"))
            V = v;
        else if (!strcmp(argv[i], "--batch"))
            B = v;
        else if (!strcmp(argv[i], "--steps"))
            steps = v;
        else if (!strcmp(argv[i], "--warmup"))
            warmup = v;
        else {
            fprintf(stderr, "bench_train: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    attn_set_num_threads(0);
    attn_config c = attn_config_default(ATTN_ARCH_DECODER_LM);
    c.vocab_size = V, c.max_len = T, c.d_model = d, c.n_heads = heads, c.d_ff = 4 * d;
    c.n_layers = layers, c.dropout = 0;
    attn_model *m;
    attn_optimizer *opt;
    if (attn_model_create(&c, 1, &m) != ATTN_OK ||
        attn_optimizer_create(m, attn_adamw_default_params(), &opt) != ATTN_OK) {
        fprintf(stderr, "bench_train: %s\n", attn_last_error());
        return 1;
    }
    int *tokens = malloc(sizeof(int) * B * T), *targets = malloc(sizeof(int) * B * T);
    srand(1);
    for (int i = 0; i < B * T; i++)
        tokens[i] = rand() % V, targets[i] = rand() % V;
    attn_batch batch = {.B = B, .T = T, .tokens = tokens, .targets = targets};
    double *times = malloc(sizeof(double) * steps);
    float loss = 0;
    for (int s = 0; s < warmup + steps; s++) {
        double t0 = now();
        attn_model_zero_grad(m);
        if (attn_model_forward(m, &batch, 1, &loss) != ATTN_OK ||
            attn_model_backward(m, 1) != ATTN_OK ||
            attn_optimizer_step(opt, m, 1e-4f, NULL) != ATTN_OK) {
            fprintf(stderr, "bench_train: %s\n", attn_last_error());
            return 1;
        }
        if (s >= warmup) times[s - warmup] = now() - t0;
    }
    qsort(times, steps, sizeof(double), cmp_double);
    double med = times[steps / 2];
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    /* The step's arithmetic: every linear layer's three products (forward, d input, d weight:
     * 6 flops per weight per token), the tied vocabulary projection likewise, and the causal
     * attention's products (forward QK^T and PV over half the T^2 pairs: 2 T^2 D flops per head;
     * backward recomputes S and adds dV, dP, dQ, dK: 5 T^2 D). */
    double n_tok = (double)B * T, C = d;
    double gflop = (n_tok * (layers * 72.0 * C * C + 6.0 * C * V) +
                    (double)layers * B * heads * 7.0 * T * T * (C / heads)) *
                   1e-9;
    printf("{\"impl\": \"attn\", \"threads\": %d, \"params\": %zu, \"step_s\": %.4f, "
           "\"tokens_per_s\": %.1f, \"gflop\": %.1f, \"gflops\": %.1f, \"peak_mb\": %.1f, "
           "\"loss\": %.4f, \"isa\": \"%s\"}\n",
           attn_get_num_threads(), attn_model_num_params(m), med, B * T / med, gflop, gflop / med,
           ru.ru_maxrss / 1024.0, loss, attn_runtime_info().isa);
    attn_optimizer_free(opt);
    attn_model_free(m);
    free(tokens), free(targets), free(times);
    return 0;
}
