/* kernels/embedding.h: token + positional embedding.
 * out[b, t, :] = scale * wte[tokens[b, t], :] + wpe[pos0 + t, :]
 * tokens: (B, T), ids already validated in [0, V); wte: (V, C); wpe: (P, C), P >= pos0 + T, either
 * a learned table or the fixed sinusoidal one from attn_sinusoidal_table; out: (B, T, C).
 * Backward accumulates into dwte and (if not NULL) dwpe. */
#ifndef ATTN_KERNELS_EMBEDDING_H
#define ATTN_KERNELS_EMBEDDING_H

void attn_embedding_forward(float *out, const int *tokens, const float *wte, const float *wpe,
                            int B, int T, int C, int pos0, float scale);
void attn_embedding_backward(float *dwte, float *dwpe, const float *dout, const int *tokens,
                             int B, int T, int C, int pos0, float scale);

/* Positions alone (a feature-input encoder): out[b, t] += wpe[pos0 + t], and its backward
 * dwpe[pos0 + t] += sum_b dout[b, t]. out, dout: (B, T, C), wpe, dwpe: (P, C). */
void attn_positions_forward(float *out, const float *wpe, int B, int T, int C, int pos0);
void attn_positions_backward(float *dwpe, const float *dout, int B, int T, int C, int pos0);

/* The fixed encoding of "Attention Is All You Need", table: (P, C):
 * table[p, 2i] = sin(p / 10000^(2i/C)), table[p, 2i+1] = cos(p / 10000^(2i/C)). */
void attn_sinusoidal_table(float *table, int P, int C);

#endif
