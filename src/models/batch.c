/* models/batch.c: the one validation of a batch (attn_model_forward, attention maps) and of ids
 * (also decoding's). */
#include "models/stack.h"

#include <math.h>

#include "core/error.h"

attn_status attn_check_ids(const char *what, const int *ids, long n, int V) {
    for (long i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= V)
            return attn_error(ATTN_ERR_INVALID, "%s[%ld] = %d is outside [0, %d)", what, i, ids[i],
                              V);
    return ATTN_OK;
}

attn_status attn_check_features(const float *x, long n) {
    for (long i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return attn_error(ATTN_ERR_INVALID, "features[%ld] = %g is not finite", i,
                              (double)x[i]);
    return ATTN_OK;
}

/* CTC targets (B, Tt), Tt in [1, max_Tt]: each row's labels in [1, V), then padding. */
static attn_status check_ctc_targets(const int *targets, int B, int Tt, int max_Tt, int V) {
    if (Tt < 1 || Tt > max_Tt)
        return attn_error(ATTN_ERR_INVALID, "batch: ctc targets need 1 <= width <= %d, got %d",
                          max_Tt, Tt);
    for (int i = 0; i < B; i++) {
        const int *t = targets + (long)i * Tt;
        int n = 0;
        while (n < Tt && t[n] != ATTN_IGNORE_INDEX)
            n++;
        for (int j = 0; j < Tt; j++) {
            int ok = j < n ? t[j] >= 1 && t[j] < V : t[j] == ATTN_IGNORE_INDEX;
            if (!ok)
                return attn_error(ATTN_ERR_INVALID,
                                  "batch: ctc targets[%d][%d] = %d: labels are in [1, %d) (0 is "
                                  "the blank), then padding (%d) to the end",
                                  i, j, t[j], V, ATTN_IGNORE_INDEX);
        }
    }
    return ATTN_OK;
}

attn_status attn_batch_check(const attn_model *m, const attn_batch *b) {
    const attn_config *c = attn_model_config(m);
    int features = c->n_features > 0;
    if (!b || b->B <= 0 || b->T <= 0 || (features ? !b->features : !b->tokens))
        return attn_error(ATTN_ERR_INVALID, "batch: need B > 0, T > 0 and %s",
                          features ? "features (the model's encoder reads feature vectors)"
                                   : "tokens");
    int Tenc = attn_model_encoder_length(m, b->T);
    if (c->subsample && Tenc < 1)
        return attn_error(ATTN_ERR_INVALID,
                          "batch: %d frames are too few for the subsampling convolutions (need 7)",
                          b->T);
    if (Tenc > c->max_len)
        return attn_error(ATTN_ERR_INVALID, "batch: length %d%s exceeds the model's max_len %d",
                          Tenc, c->subsample ? " (after subsampling by 4)" : "", c->max_len);
    if (features)
        ATTN_TRY(attn_check_features(b->features, (long)b->B * b->T * c->n_features));
    else
        ATTN_TRY(attn_check_ids("tokens", b->tokens, (long)b->B * b->T, c->vocab_size));
    if (b->lengths)
        for (int i = 0; i < b->B; i++)
            if (b->lengths[i] < (c->subsample ? 7 : 1) || b->lengths[i] > b->T)
                return attn_error(ATTN_ERR_INVALID, "batch: lengths[%d] = %d is outside [%d, %d]",
                                  i, b->lengths[i], c->subsample ? 7 : 1, b->T);
    int Tdec = b->T;
    if (c->arch == ATTN_ARCH_SEQ2SEQ) {
        if (b->Tt <= 0 || b->Tt > c->max_len || !b->tgt_in)
            return attn_error(ATTN_ERR_INVALID,
                              "batch: seq2seq needs tgt_in with 0 < Tt <= max_len (%d), got %d",
                              c->max_len, b->Tt);
        ATTN_TRY(attn_check_ids("tgt_in", b->tgt_in, (long)b->B * b->Tt, c->vocab_size));
        Tdec = b->Tt;
        if (c->ctc_weight > 0 && b->ctc_targets)
            ATTN_TRY(check_ctc_targets(b->ctc_targets, b->B, b->Tc, b->Tt, c->vocab_size));
    }
    if (c->arch == ATTN_ARCH_CTC)
        return b->targets ? check_ctc_targets(b->targets, b->B, b->Tt, 1 << 30, c->vocab_size)
                          : ATTN_OK;
    if (c->arch == ATTN_ARCH_CLASSIFIER) {
        if (b->labels) ATTN_TRY(attn_check_ids("labels", b->labels, b->B, c->n_classes));
    } else if (b->targets) {
        for (long i = 0; i < (long)b->B * Tdec; i++)
            if (b->targets[i] != ATTN_IGNORE_INDEX &&
                (b->targets[i] < 0 || b->targets[i] >= c->vocab_size))
                return attn_error(ATTN_ERR_INVALID, "targets[%ld] = %d is outside [0, %d)", i,
                                  b->targets[i], c->vocab_size);
    }
    return ATTN_OK;
}
