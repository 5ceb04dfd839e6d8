/* tests/fuzz/fuzz_vocab_txt.c: a WordPiece vocab.txt (text_load_vocab_txt,
 * src/text/wordpiece.c) on any bytes; a vocabulary it accepts must encode a text. */
#include <stdint.h>
#include <stdlib.h>

#include "attn/tokenizer.h"
#include "text/text_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    attn_tokenizer *t;
    if (text_load_vocab_txt((const char *)data, size, &t) != ATTN_OK) return 0;
    static const char text[] = "hello world, unaffable [CLS] caf\xc3\xa9";
    int *ids = NULL, n = 0;
    if (attn_tokenizer_encode(t, text, sizeof text - 1, &ids, &n) == ATTN_OK) free(ids);
    attn_tokenizer_free(t);
    return 0;
}
