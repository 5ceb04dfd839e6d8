/* models/model_io.h: a model's parameters to and from safetensors (docs/FORMATS.md).
 * Shared by attn_model_save/attn_model_load and by train/checkpoint.c, which adds optimizer state.
 */
#ifndef ATTN_MODELS_MODEL_IO_H
#define ATTN_MODELS_MODEL_IO_H

#include "attn/model.h"
#include "io/safetensors.h"

/* Adds every parameter of m (pointing into m's arena, so m must outlive the write) and the
 * "format" and "config" metadata to w. */
attn_status attn_model_write_tensors(const attn_model *m, attn_st_writer *w);

/* Creates a model from an open file: config from the "config" metadata, every parameter by name
 * with shape checks, all made before the model is allocated (so the file's size bounds the
 * allocation). Tensors named "optim.*" are left for the caller; any other unknown tensor is
 * ATTN_ERR_FORMAT ("not a checkpoint of this model"), a missing one ATTN_ERR_MISSING, one of the
 * wrong shape ATTN_ERR_SHAPE, a NaN or infinite parameter ATTN_ERR_NUMERIC (naming the tensor). */
attn_status attn_model_from_st(const attn_safetensors *f, attn_model **out);

/* ATTN_ERR_NUMERIC, naming the tensor and the element, if a parameter of m is a NaN or infinite. */
attn_status attn_model_check_finite(const attn_model *m);

#endif
