/* tests/fuzz/fuzz_tsv.c: "label<TAB>text" parsing (attn_tsv_parse, attn_tsv_parse_texts,
 * src/data/tsv.c) on any bytes: what is accepted has non-empty labels and texts without a NUL,
 * and line numbers that increase. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attn/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    attn_tsv t;
    if (attn_tsv_parse((const char *)data, size, "fuzz.tsv", &t) == ATTN_OK) {
        for (long i = 0; i < t.n; i++) {
            if (!t.labels[i][0] || !t.texts[i][0]) abort();
            if (i > 0 && t.lines[i] <= t.lines[i - 1]) abort();
        }
        attn_tsv_free(&t);
    }
    if (attn_tsv_parse_texts((const char *)data, size, "fuzz.txt", &t) == ATTN_OK)
        attn_tsv_free(&t);
    return 0;
}
