/* nn/pool.c: CLS and masked-mean pooling. */
#include "nn/pool.h"

#include <string.h>

void attn_pool_forward(attn_pool kind, float *pooled, const float *h, const int *lengths, int B,
                       int T, int C) {
    for (int b = 0; b < B; b++) {
        const float *hb = h + (size_t)b * T * C;
        float *out = pooled + (size_t)b * C;
        if (kind == ATTN_POOL_CLS) {
            memcpy(out, hb, (size_t)C * sizeof(float));
            continue;
        }
        int len = lengths ? lengths[b] : T;
        memset(out, 0, (size_t)C * sizeof(float));
        for (int t = 0; t < len; t++)
            for (int c = 0; c < C; c++)
                out[c] += hb[(size_t)t * C + c];
        for (int c = 0; c < C; c++)
            out[c] /= (float)len;
    }
}

void attn_pool_backward(attn_pool kind, float *dh, const float *dpooled, const int *lengths, int B,
                        int T, int C) {
    for (int b = 0; b < B; b++) {
        float *db = dh + (size_t)b * T * C;
        const float *dp = dpooled + (size_t)b * C;
        int len = kind == ATTN_POOL_CLS ? 1 : (lengths ? lengths[b] : T);
        float w = kind == ATTN_POOL_CLS ? 1.0f : 1.0f / (float)len;
        for (int t = 0; t < len; t++)
            for (int c = 0; c < C; c++)
                db[(size_t)t * C + c] += w * dp[c];
    }
}
