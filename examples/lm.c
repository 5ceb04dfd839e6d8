/* examples/lm.c: train a byte-level language model, score it, continue a prompt (attn/lm.h).
 * usage: lm TEXT OUT.safetensors PROMPT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn/attn.h"

int main(int argc, char **argv) {
    if (argc != 4) return fprintf(stderr, "usage: %s TEXT OUT PROMPT\n", argv[0]), 2;
    int *ids, out[64], n_out, prompt[32], n_prompt = strlen(argv[3]) < 32 ? strlen(argv[3]) : 32;
    size_t n;
    double loss;
    attn_model *m = NULL;
    attn_sampler *s = NULL;
    attn_config cfg = attn_lm_default_config(); /* bytes; 4 layers of 128 unless changed */
    cfg.n_layers = 2, cfg.d_model = 64, cfg.d_ff = 256, cfg.max_len = 64;
    attn_lm_params p = attn_lm_default_params();
    p.train.steps = 300, p.train.eval_every = 100, p.train.save_path = argv[2];
    for (int i = 0; i < n_prompt; i++)
        prompt[i] = (unsigned char)argv[3][i];
    if (attn_lm_read_bytes(argv[1], &ids, &n) || attn_model_create(&cfg, 1, &m) ||
        attn_lm_train(m, NULL, NULL, ids, n - n / 10, ids + n - n / 10, n / 10, &p, NULL) ||
        attn_lm_evaluate(m, ids + n - n / 10, n / 10, 8, &loss, NULL) ||
        attn_sampler_create(256, attn_sampler_default_params(), &s) ||
        attn_generate(m, prompt, n_prompt, 32, s, '\n', NULL, NULL, out, &n_out))
        return fprintf(stderr, "error: %s\n", attn_last_error()), 1;
    printf("held-out loss %.3f nats/byte\n%.*s", loss, n_prompt, argv[3]);
    for (int i = 0; i < n_out; i++)
        putchar(out[i]);
    printf("\n");
    return attn_sampler_free(s), attn_model_free(m), free(ids), 0;
}
