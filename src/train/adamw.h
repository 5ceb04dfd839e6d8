/* train/adamw.h: the AdamW update and the squared gradient norm over raw float arrays.
 *
 * The array-level half of the optimizer (train/optimizer.c drives it tensor by tensor). The update
 * is exactly torch.optim.AdamW (docs/FORMATS.md), in the same float operations PyTorch's CPU kernel
 * uses, so a run matches PyTorch to rounding. */
#ifndef ATTN_TRAIN_ADAMW_H
#define ATTN_TRAIN_ADAMW_H

/* One AdamW step on n elements, t = 1-based step number (t >= 1), in this order:
 *     θ = θ·(1 - lr·wd)                              decoupled decay, before the moments
 *     m = β1·m + (1-β1)·g ;  v = β2·v + (1-β2)·g²
 *     θ = θ - lr/(1-β1^t) · m / (sqrt(v)/sqrt(1-β2^t) + ε)
 * param, m, v: (n), updated in place; grad: (n), read only. No errors, no allocation; threaded
 * (attn_get_num_threads()) when n is large enough to pay for it. */
void attn_adamw_update(float *param, const float *grad, float *m, float *v, long n, float lr,
                       float beta1, float beta2, float eps, float weight_decay, long t);

/* The same update with every gradient element first multiplied by grad_scale (in float, as
 * torch.nn.utils.clip_grad_norm_ does to the gradients in place); grad itself is not changed.
 * attn_adamw_update is this with grad_scale = 1. */
void attn_adamw_update_scaled(float *param, const float *grad, float grad_scale, float *m, float *v,
                              long n, float lr, float beta1, float beta2, float eps,
                              float weight_decay, long t);

/* A run [offset, offset + n) of one parameter arena (param, grad, m and v all laid out alike) and
 * the weight decay that applies to it; the optimizer cuts every tensor into such chunks. */
typedef struct {
    long offset, n;
    float weight_decay;
} attn_adamw_chunk;

/* attn_adamw_update_scaled over every chunk of an arena at once (one parallel region for the
 * whole model instead of one per tensor); element by element the same arithmetic. */
void attn_adamw_update_chunks(float *param, const float *grad, float grad_scale, float *m, float *v,
                              const attn_adamw_chunk *chunks, int n_chunks, float lr, float beta1,
                              float beta2, float eps, long t);

/* Σ g² over every chunk, in double: partial (n_chunks doubles of scratch) gets each chunk's sum,
 * added in chunk order, so the result does not depend on the thread count. */
double attn_grad_sq_norm_chunks(const float *g, const attn_adamw_chunk *chunks, int n_chunks,
                                double *partial);

/* Σ g[i]² over n elements, accumulated in double; threaded for large n with a fixed split, so the
 * result depends only on the data and the thread count. NaN/Inf in g propagate to the result. */
double attn_grad_sq_norm(const float *g, long n);

#endif
