/* examples/lm.c: learn a BPE from a text, train a language model on its tokens, score it in bits
 * per byte, continue a prompt (attn/lm.h). usage: lm TEXT OUT.safetensors PROMPT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn/attn.h"

static int fail(void) {
    fprintf(stderr, "error: %s\n", attn_last_error());
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 4) return fprintf(stderr, "usage: %s TEXT OUT PROMPT\n", argv[0]), 2;
    int *prompt, out[32], n_out;
    size_t n_prompt;
    attn_lm_texts t;                                          /* 90% to train on, 10% held out */
    attn_lm_texts_params tp = attn_lm_texts_default_params(); /* a BPE learnt from the 90% */
    tp.path = argv[1], tp.vocab_size = 1024;
    attn_model *m = NULL;
    attn_sampler *s = NULL;
    attn_lm_score score;
    attn_config cfg = attn_lm_default_config(); /* 4 layers of 128 unless changed */
    cfg.n_layers = 2, cfg.d_model = 64, cfg.d_ff = 256, cfg.max_len = 64, cfg.vocab_size = 1024;
    attn_lm_params p = attn_lm_default_params();
    p.train.steps = 300, p.train.eval_every = 100, p.train.save_path = argv[2];
    if (attn_lm_texts_read(&tp, &t) || attn_model_create(&cfg, 1, &m)) return fail();
    const attn_tokenizer *tok = p.tokenizer = t.tokenizer; /* the checkpoint carries it */
    if (attn_lm_train(m, NULL, NULL, t.train, t.n_train, t.val, t.n_val, &p, NULL) ||
        attn_lm_evaluate(m, tok, t.val, t.n_val, 8, &score) ||
        attn_lm_encode(tok, argv[3], strlen(argv[3]), &prompt, &n_prompt) ||
        attn_sampler_create(cfg.vocab_size, attn_sampler_default_params(), &s) ||
        attn_generate(m, prompt, (int)n_prompt, 32, s, -1, NULL, NULL, out, &n_out))
        return fail();
    printf("held-out %.3f bits/byte\n%s", score.bits_per_byte, argv[3]);
    for (int i = 0; i < n_out; i++) {
        size_t len;
        const char *bytes = attn_lm_token_bytes(tok, out[i], &len);
        fwrite(bytes, 1, len, stdout);
    }
    printf("\n");
    attn_sampler_free(s), attn_model_free(m), attn_lm_texts_free(&t);
    return free(prompt), 0;
}
