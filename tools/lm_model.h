/* tools/lm_model.h: loading a byte-level language model for `generate` and `eval lm`. */
#ifndef ATTN_TOOLS_LM_MODEL_H
#define ATTN_TOOLS_LM_MODEL_H

#include "attn/attn.h"

/* Loads the checkpoint at path and checks that it is a decoder LM over bytes (vocabulary 256, and
 * tokenizer "bytes" when the checkpoint names one). Returns CLI_OK, or CLI_RUNTIME after printing
 * one "attn: " line. */
int lm_model_load(const char *path, attn_model **out);

#endif
