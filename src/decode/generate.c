/* decode/generate.c: sampling a continuation from a decoder LM with a KV cache. */
#include "attn/decode.h"

#include "core/error.h"

attn_status attn_generate(const attn_model *m, const int *prompt, int n_prompt, int max_new,
                          attn_sampler *sampler, int stop_id, attn_token_callback cb, void *user,
                          int *out, int *n_out) {
    *n_out = 0;
    const attn_config *c = attn_model_config(m);
    if (c->arch != ATTN_ARCH_DECODER_LM)
        return attn_error(ATTN_ERR_INVALID, "generate needs a decoder_lm model, not %s",
                          attn_arch_name(c->arch));
    if (n_prompt < 1 || n_prompt > c->max_len)
        return attn_error(ATTN_ERR_INVALID, "prompt of %d tokens: need 1 to %d", n_prompt,
                          c->max_len);
    if (max_new < 0) return attn_error(ATTN_ERR_INVALID, "max_new %d < 0", max_new);
    int cap = n_prompt + max_new < c->max_len ? n_prompt + max_new : c->max_len;
    attn_context *ctx;
    ATTN_TRY(attn_context_create(m, 1, cap, &ctx));
    const float *logits;
    attn_status st = attn_context_feed(ctx, prompt, n_prompt, &logits);
    while (st == ATTN_OK && *n_out < max_new) {
        int tok = attn_sampler_sample(sampler, logits);
        out[(*n_out)++] = tok;
        if (tok == stop_id || (cb && cb(tok, user))) break;
        if (attn_context_length(ctx) >= cap) break; /* the model's context is full */
        st = attn_context_feed(ctx, &tok, 1, &logits);
    }
    attn_context_free(ctx);
    return st;
}
