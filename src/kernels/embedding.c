/* kernels/embedding.c: token + positional embedding, out[b, t] = scale * wte[tok] + wpe[pos0 + t],
 * its backward, and the fixed sinusoidal table.
 *
 * Backward into dwte must not race: a token can appear at many (b, t). Threads therefore split the
 * channels, each owning the columns [c0, c1) of every row of dwte and dwpe, and walk all (b, t) in
 * order: race-free, and the same sums in the same order whatever the thread count. */
#include "kernels/embedding.h"

#include <math.h>

/* Below this many elements of out / dout, a call stays on one thread. */
#define EMB_PAR_MIN (1L << 15)
/* Channels one thread owns in backward: a whole number of cache lines. */
#define EMB_COL_BLOCK 64

// out: (B, T, C), tokens: (B, T), wte: (V, C), wpe: (P, C) with P >= pos0 + T
void attn_embedding_forward(float *out, const int *tokens, const float *wte, const float *wpe,
                            int B, int T, int C, int pos0, float scale) {
    long rows = (long)B * T;
#pragma omp parallel for schedule(static) if (rows * C > EMB_PAR_MIN)
    for (long r = 0; r < rows; r++) {
        const float *tok = wte + (long)tokens[r] * C, *pos = wpe + (long)(pos0 + r % T) * C;
        float *o = out + r * C;
#pragma omp simd
        for (int c = 0; c < C; c++)
            o[c] = scale * tok[c] + pos[c];
    }
}

// dwte: (V, C), dwpe: (P, C) or NULL, columns [c0, c1) only; dout: (B, T, C), tokens: (B, T)
static void embedding_backward_cols(float *dwte, float *dwpe, const float *dout, const int *tokens,
                                    long rows, int T, int C, int pos0, float scale, int c0,
                                    int c1) {
    for (long r = 0; r < rows; r++) {
        const float *d = dout + r * C;
        float *tok = dwte + (long)tokens[r] * C;
#pragma omp simd
        for (int c = c0; c < c1; c++)
            tok[c] += scale * d[c];
        if (!dwpe) continue;
        float *pos = dwpe + (long)(pos0 + r % T) * C;
#pragma omp simd
        for (int c = c0; c < c1; c++)
            pos[c] += d[c];
    }
}

// dwte: (V, C), dwpe: (P, C) or NULL, dout: (B, T, C), tokens: (B, T)
void attn_embedding_backward(float *dwte, float *dwpe, const float *dout, const int *tokens, int B,
                             int T, int C, int pos0, float scale) {
    long rows = (long)B * T;
    int blocks = (C + EMB_COL_BLOCK - 1) / EMB_COL_BLOCK;
#pragma omp parallel for schedule(static) if (rows * C > EMB_PAR_MIN && blocks > 1)
    for (int blk = 0; blk < blocks; blk++) {
        int c0 = blk * EMB_COL_BLOCK, c1 = c0 + EMB_COL_BLOCK < C ? c0 + EMB_COL_BLOCK : C;
        embedding_backward_cols(dwte, dwpe, dout, tokens, rows, T, C, pos0, scale, c0, c1);
    }
}

// out: (B, T, C) += wpe[pos0 + t], wpe: (P, C)
void attn_positions_forward(float *out, const float *wpe, int B, int T, int C, int pos0) {
    long rows = (long)B * T;
#pragma omp parallel for schedule(static) if (rows * C > EMB_PAR_MIN)
    for (long r = 0; r < rows; r++) {
        const float *pos = wpe + (long)(pos0 + r % T) * C;
        float *o = out + r * C;
#pragma omp simd
        for (int c = 0; c < C; c++)
            o[c] += pos[c];
    }
}

// dwpe: (P, C) += sum over b of dout[b, t] at row pos0 + t; dout: (B, T, C). Threads split the
// positions, each summing its rows over b in order (the same sums whatever the thread count).
void attn_positions_backward(float *dwpe, const float *dout, int B, int T, int C, int pos0) {
#pragma omp parallel for schedule(static) if ((long)B * T * C > EMB_PAR_MIN)
    for (int t = 0; t < T; t++) {
        float *pos = dwpe + (long)(pos0 + t) * C;
        for (int b = 0; b < B; b++) {
            const float *d = dout + ((long)b * T + t) * C;
#pragma omp simd
            for (int c = 0; c < C; c++)
                pos[c] += d[c];
        }
    }
}

// table: (P, C); table[p, 2i] = sin(p / 10000^(2i / C)), table[p, 2i + 1] = cos(same)
void attn_sinusoidal_table(float *table, int P, int C) {
#pragma omp parallel for schedule(static) if ((long)P * C > EMB_PAR_MIN)
    for (int p = 0; p < P; p++) {
        float *row = table + (long)p * C;
        for (int c = 0; c < C; c += 2) { /* odd C: the last even index gets sin only */
            double angle = p * pow(10000.0, -(double)c / C);
            row[c] = (float)sin(angle);
            if (c + 1 < C) row[c + 1] = (float)cos(angle);
        }
    }
}
