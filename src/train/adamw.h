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

/* Σ g[i]² over n elements, accumulated in double; threaded for large n with a fixed split, so the
 * result depends only on the data and the thread count. NaN/Inf in g propagate to the result. */
double attn_grad_sq_norm(const float *g, long n);

#endif
