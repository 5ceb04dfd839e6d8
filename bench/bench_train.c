/* bench/bench_train.c: tokens/s of one decoder-only LM training step (forward, backward, AdamW),
 * the C side of bench/bench_train.py. Usage:
 *   bench_train [--layers 6] [--d-model 384] [--heads 6] [--context 256] [--vocab 8192]
 *               [--batch 8] [--steps 10] [--warmup 2]
 * Prints one JSON line: median step seconds, tokens/s, peak RSS in MB. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <sys/resource.h>

#include "attn/attn.h"
#include "bench_util.h"

int main(int argc, char **argv) {
    int layers = 6, d = 384, heads = 6, T = 256, V = 8192, B = 8, steps = 10, warmup = 2;
    const bench_opt opts[] = {{"layers", &layers}, {"d-model", &d},    {"heads", &heads},
                              {"context", &T},     {"vocab", &V},      {"batch", &B},
                              {"steps", &steps},   {"warmup", &warmup}};
    if (bench_parse(argc, argv, "bench_train", opts, sizeof opts / sizeof opts[0])) return 2;
    if (steps < 1) steps = 1;
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
        double t0 = bench_now();
        attn_model_zero_grad(m);
        if (attn_model_forward(m, &batch, 1, &loss) != ATTN_OK ||
            attn_model_backward(m, 1) != ATTN_OK ||
            attn_optimizer_step(opt, m, 1e-4f, NULL) != ATTN_OK) {
            fprintf(stderr, "bench_train: %s\n", attn_last_error());
            return 1;
        }
        if (s >= warmup) times[s - warmup] = bench_now() - t0;
    }
    double med = bench_median(times, steps);
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
