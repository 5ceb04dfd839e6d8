/* train/optimizer_internal.h: what the checkpoint code needs from the optimizer besides the public
 * API (attn/train.h): the moment arrays of each tensor, the moving average of the weights, and
 * setting the step count on resume. */
#ifndef ATTN_TRAIN_OPTIMIZER_INTERNAL_H
#define ATTN_TRAIN_OPTIMIZER_INTERNAL_H

#include <stddef.h>

#include "attn/train.h"

/* Number of tensors the optimizer holds moments for (the model's attn_model_num_tensors). */
int attn_optimizer_num_tensors(const attn_optimizer *opt);

/* The first and second moments of tensor i (the model's table order): *m and *v each point at
 * *size floats owned by opt (valid until attn_optimizer_free), writable so a checkpoint can be
 * loaded into them. ATTN_ERR_INVALID if i is out of range. */
attn_status attn_optimizer_moments(const attn_optimizer *opt, int i, float **m, float **v,
                                   size_t *size);

/* The moving average of the weights that attn_train keeps beside the moments (ema_decay), so a
 * checkpoint with the optimizer carries it and a resumed run goes on with it: tensor i's part
 * (*size floats), or with i < 0 the whole (n_params floats, the parameter arena's order); NULL
 * when opt holds no average. Owned by opt. */
float *attn_optimizer_average(const attn_optimizer *opt, int i, size_t *size);

/* Gives opt an average equal to w (the parameter arena: n_params floats), replacing any it holds;
 * w NULL drops it. Errors: ATTN_ERR_NOMEM (opt then holds none). */
attn_status attn_optimizer_set_average(attn_optimizer *opt, const float *w);

/* Sets the number of updates already applied (AdamW's t of the last step); steps >= 0. */
void attn_optimizer_set_steps(attn_optimizer *opt, long steps);

#endif
