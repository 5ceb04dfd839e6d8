/* tests/fuzz/fuzz_checkpoint.c: the model loader (attn_model_from_st, src/models/model_io.c) on
 * any safetensors bytes: a config of any size, missing, extra or misshapen tensors, non-finite
 * values. It must refuse or load, never allocate what the file cannot back: the loader checks the
 * file against the config before it allocates, so libFuzzer's -rss_limit_mb catches a breach. */
#include <stdint.h>

#include "attn/model.h"
#include "attn/safetensors.h"
#include "models/model_io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    attn_safetensors *f;
    if (attn_safetensors_open_memory(data, size, &f) != ATTN_OK) return 0;
    attn_model *m = NULL;
    if (attn_model_from_st(f, &m) == ATTN_OK) attn_model_free(m);
    attn_safetensors_close(f);
    return 0;
}
