/* tests/fuzz/fuzz_encode.c: encoding any bytes with a byte-level BPE and a WordPiece tokenizer
 * (src/text/bpe.c, wordpiece.c): BPE must accept everything and give it back byte for byte;
 * WordPiece may refuse invalid UTF-8 only, and decodes what it encodes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attn/tokenizer.h"
#include "text/text_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static attn_tokenizer *bpe, *wordpiece;

static void make_tokenizers(void) {
    static const char *texts[] = {"the quick brown fox jumps over the lazy dog",
                                  "caf\xc3\xa9 na\xc3\xafve \xe6\x97\xa5\xe6\x9c\xac 12 345",
                                  "hello hello world, the world"};
    size_t lengths[3];
    for (int i = 0; i < 3; i++)
        lengths[i] = strlen(texts[i]);
    attn_bpe_train_params p = attn_bpe_train_default_params();
    p.vocab_size = 300;
    p.min_frequency = 1;
    if (attn_tokenizer_train_bpe(texts, lengths, 3, p, &bpe) != ATTN_OK) abort();
    static const char vocab[] = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\nquick\nbrown\nfox\n"
                                "##es\n##s\nhello\nworld\n,\n.\ncafe\n##e\nun\n##aff\n##able\n";
    if (text_load_vocab_txt(vocab, sizeof vocab - 1, &wordpiece) != ATTN_OK) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!bpe) make_tokenizers();
    const char *text = (const char *)data;
    int *ids = NULL, n = 0;
    char *back = NULL;
    size_t len = 0;
    if (attn_tokenizer_encode(bpe, text, size, &ids, &n) != ATTN_OK) abort();
    if (attn_tokenizer_decode(bpe, ids, n, &back, &len) != ATTN_OK) abort();
    if (len != size || (size && memcmp(back, data, size) != 0)) abort(); /* BPE round trip */
    free(ids);
    free(back);
    if (attn_tokenizer_encode(wordpiece, text, size, &ids, &n) == ATTN_OK) {
        if (attn_tokenizer_decode(wordpiece, ids, n, &back, &len) != ATTN_OK) abort();
        free(back);
        free(ids);
    }
    return 0;
}
