/* models/attention_maps.c: the attention probabilities of one sequence, layer by layer.
 *
 * The model's forward uses the fused attention kernel, which never holds the probabilities. Here
 * the stack runs through the same forward as training and decoding (attn_stack_forward), in
 * buffers of our own so the model stays untouched, asking each layer to record the probabilities
 * of one sublayer: that attention then goes through the reference kernel attn_sdpa_probs, whose
 * P = softmax(q k^T / sqrt(D) + mask) are the map of that layer and P v the attention output the
 * layer goes on with (tests/models/test_attention_maps.c holds P v to the fused forward's). */
#include "models/stack.h"

#include <stdlib.h>
#include <string.h>

#include "attn/viz.h"
#include "core/error.h"

attn_maps_kind attn_maps_default_kind(attn_arch arch) {
    switch (arch) {
    case ATTN_ARCH_DECODER_LM:
        return ATTN_MAPS_DECODER_SELF;
    case ATTN_ARCH_SEQ2SEQ:
        return ATTN_MAPS_DECODER_CROSS;
    default:
        return ATTN_MAPS_ENCODER_SELF;
    }
}

static const char *const kind_names[] = {"encoder_self", "decoder_self", "decoder_cross"};
#define N_KINDS ((int)(sizeof kind_names / sizeof kind_names[0]))

const char *attn_maps_kind_name(attn_maps_kind kind) {
    return (int)kind >= 0 && (int)kind < N_KINDS ? kind_names[kind] : "?";
}

attn_status attn_maps_kind_parse(const char *name, attn_maps_kind *out) {
    for (int i = 0; name && out && i < N_KINDS; i++) {
        if (strcmp(name, kind_names[i]) == 0) {
            *out = (attn_maps_kind)i;
            return ATTN_OK;
        }
    }
    return attn_error(ATTN_ERR_INVALID,
                      "unknown attention map kind '%s' (encoder_self, decoder_self, decoder_cross)",
                      name ? name : "(null)");
}

const float *attn_maps_head(const attn_maps *maps, int layer, int head) {
    if (!maps || !maps->probs || layer < 0 || layer >= maps->n_layers || head < 0 ||
        head >= maps->n_heads)
        return NULL;
    size_t per_head = (size_t)maps->n_queries * maps->n_keys;
    return maps->probs + ((size_t)layer * maps->n_heads + head) * per_head;
}

void attn_maps_free(attn_maps *maps) {
    if (!maps) return;
    free(maps->probs);
    memset(maps, 0, sizeof *maps);
}

/* ---- checks ------------------------------------------------------------------------------- */

/* attn_model_forward's rules (its inputs only), plus: one sequence, and the kind exists. */
static attn_status check_request(const attn_model *m, const attn_batch *b, attn_maps_kind which) {
    const attn_config *c = attn_model_config(m);
    if (b->B != 1)
        return attn_error(ATTN_ERR_INVALID, "attention maps: need a batch of one sequence, got %d",
                          b->B);
    attn_batch inputs = *b;
    inputs.targets = inputs.labels = NULL;
    ATTN_TRY(attn_batch_check(m, &inputs));
    if (c->subsample)
        return attn_error(ATTN_ERR_INVALID,
                          "attention maps: an encoder with a convolutional front end (subsample "
                          "%d) is not supported yet",
                          c->subsample);
    int has_enc = c->arch != ATTN_ARCH_DECODER_LM;
    int has_dec = c->arch != ATTN_ARCH_CLASSIFIER && c->arch != ATTN_ARCH_CTC;
    int ok = which == ATTN_MAPS_ENCODER_SELF    ? has_enc
             : which == ATTN_MAPS_DECODER_SELF  ? has_dec
             : which == ATTN_MAPS_DECODER_CROSS ? c->arch == ATTN_ARCH_SEQ2SEQ
                                                : 0;
    if (!ok)
        return attn_error(ATTN_ERR_INVALID, "attention maps: a %s model has no %s attention",
                          attn_arch_name(c->arch), attn_maps_kind_name(which));
    return ATTN_OK;
}

/* ---- one stack ---------------------------------------------------------------------------- */

/* Runs stack `which` over r (ids, lengths, memory, probs set by the caller) in inference with
 * buffers of its own; its output (T, C) goes to out when out is not NULL. */
static attn_status stack_run(const attn_model *m, attn_stack_kind which, attn_stack_run *r,
                             float *out) {
    int C = attn_model_config(m)->d_model;
    attn_layer_shape s = attn_stack_layer_shape(m, which, 1, r->T, r->Tk);
    size_t TC = (size_t)r->T * C, per_layer = attn_layer_acts_floats(&s, 0);
    float *buf = malloc((2 * TC + 2 * per_layer) * sizeof(float));
    if (!buf)
        return attn_error(ATTN_ERR_NOMEM, "attention maps: cannot allocate %zu floats",
                          2 * TC + 2 * per_layer);
    attn_layer_acts acts[2]; /* layer l writes acts[l % 2] and reads the other's output */
    attn_layer_acts_bind(&acts[0], &s, 0, buf + 2 * TC);
    attn_layer_acts_bind(&acts[1], &s, 0, buf + 2 * TC + per_layer);
    r->B = 1, r->emb = buf, r->out = buf + TC, r->acts = acts, r->n_acts = 2;
    const float *h = attn_stack_forward(m, which, r); // (T, C)
    if (h && out) memcpy(out, h, TC * sizeof(float));
    free(buf);
    return h ? ATTN_OK : ATTN_ERR_NOMEM; /* the kernel's message */
}

/* ---- the maps ----------------------------------------------------------------------------- */

attn_status attn_model_attention_maps(const attn_model *m, const attn_batch *batch,
                                      attn_maps_kind which, attn_maps *out) {
    if (out) memset(out, 0, sizeof *out);
    if (!m || !batch || !out)
        return attn_error(ATTN_ERR_INVALID, "attention maps: NULL model, batch or output");
    ATTN_TRY(check_request(m, batch, which));
    const attn_config *c = attn_model_config(m);
    int T = batch->T, is_s2s = c->arch == ATTN_ARCH_SEQ2SEQ;
    int Tq = which == ATTN_MAPS_ENCODER_SELF ? T : is_s2s ? batch->Tt : T;
    int Tk = which == ATTN_MAPS_DECODER_SELF ? Tq : T;
    attn_stack_kind st = which == ATTN_MAPS_ENCODER_SELF ? ATTN_STACK_ENCODER : ATTN_STACK_DECODER;
    int L = attn_stack_layers(m, st);
    size_t n = (size_t)L * c->n_heads * Tq * Tk;
    float *probs = malloc((n ? n : 1) * sizeof(float));
    if (!probs) return attn_error(ATTN_ERR_NOMEM, "attention maps: cannot allocate %zu floats", n);

    attn_status status;
    attn_stack_run src = {.T = T,
                          .ids = batch->tokens,
                          .features = c->n_features ? batch->features : NULL,
                          .x_len = batch->lengths};
    if (!is_s2s || which == ATTN_MAPS_ENCODER_SELF) {
        src.probs = probs;
        status = stack_run(m, st, &src, NULL);
    } else {
        /* the decoder needs the encoder's output (its memory) first */
        float *mem = malloc((size_t)T * c->d_model * sizeof(float));
        status = mem ? stack_run(m, ATTN_STACK_ENCODER, &src, mem)
                     : attn_error(ATTN_ERR_NOMEM, "attention maps: cannot allocate the memory");
        attn_stack_run tgt = {.T = batch->Tt,
                              .ids = batch->tgt_in,
                              .x_len = NULL, /* the decoder's self-attention is only causal */
                              .mem = mem,
                              .Tk = T,
                              .mem_len = batch->lengths,
                              .probs = probs,
                              .probs_cross = which == ATTN_MAPS_DECODER_CROSS};
        if (status == ATTN_OK) status = stack_run(m, ATTN_STACK_DECODER, &tgt, NULL);
        free(mem);
    }
    if (status != ATTN_OK) {
        free(probs);
        return status;
    }
    *out = (attn_maps){.kind = which,
                       .n_layers = L,
                       .n_heads = c->n_heads,
                       .n_queries = Tq,
                       .n_keys = Tk,
                       .probs = probs};
    return ATTN_OK;
}
