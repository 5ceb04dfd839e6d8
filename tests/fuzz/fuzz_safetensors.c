/* tests/fuzz/fuzz_safetensors.c: the safetensors reader (attn_safetensors_open_memory,
 * src/io/safetensors_read.c) on any bytes: whatever it accepts, every tensor it lists can be
 * found and read as F32 within the buffer. */
#include <stdint.h>
#include <stdlib.h>

#include "attn/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    attn_safetensors *f;
    if (attn_safetensors_open_memory(data, size, &f) != ATTN_OK) return 0;
    for (int i = 0; i < attn_safetensors_count(f); i++) {
        const attn_safetensors_tensor *t = attn_safetensors_at(f, i);
        if (attn_safetensors_find(f, t->name) != t) abort();
        int64_t n = 1;
        for (int d = 0; d < t->ndim; d++)
            n *= t->shape[d];
        if (n > (1 << 20)) continue; /* the reader checked it fits the buffer: no need to copy */
        float *dst = malloc((size_t)(n > 0 ? n : 1) * sizeof *dst);
        if (dst) attn_safetensors_read_f32(f, t->name, dst, t->ndim, t->shape);
        free(dst);
    }
    for (int i = 0; i < attn_safetensors_metadata_count(f); i++) {
        const char *key, *value;
        attn_safetensors_metadata_at(f, i, &key, &value);
        if (attn_safetensors_metadata(f, key) == NULL) abort();
    }
    attn_safetensors_close(f);
    return 0;
}
