/* tests/fuzz/fuzz_tokenizer_json.c: tokenizer.json (attn_tokenizer_from_json,
 * src/text/tokenizer_json_read.c) on any bytes; a tokenizer it accepts must encode a text,
 * decode the ids and write itself back as JSON that loads again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attn/tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    attn_tokenizer *t;
    if (attn_tokenizer_from_json((const char *)data, size, &t) != ATTN_OK) return 0;
    static const char text[] = "Hello, world! 123 caf\xc3\xa9 [CLS] \xe2\x80\x94 done.";
    int *ids = NULL, n = 0;
    if (attn_tokenizer_encode(t, text, sizeof text - 1, &ids, &n) == ATTN_OK) {
        char *back = NULL;
        size_t len;
        if (attn_tokenizer_decode(t, ids, n, &back, &len) == ATTN_OK) free(back);
        free(ids);
    }
    char *json = NULL;
    if (attn_tokenizer_to_json(t, &json) == ATTN_OK) {
        attn_tokenizer *again = NULL;
        if (attn_tokenizer_from_json(json, strlen(json), &again) != ATTN_OK) abort();
        attn_tokenizer_free(again);
        free(json);
    }
    attn_tokenizer_free(t);
    return 0;
}
