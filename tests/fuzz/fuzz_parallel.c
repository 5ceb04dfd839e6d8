/* tests/fuzz/fuzz_parallel.c: parallel TSV for translation (attn_parallel_parse, src/data/
 * parallel.c) on any bytes, in both directions and with a column that may be missing, then the
 * pairs encoded (attn_pairs_encode) with a small byte-level BPE. What is accepted has fields
 * without tabs, increasing line numbers, and encoded sides of 1..max ids ending in the end mark. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attn/data.h"
#include "attn/tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAX_SRC = 12, MAX_TGT = 9, EOS = 3 };

static attn_tokenizer *bpe;

static void make_tokenizer(void) {
    static const char *texts[] = {"in the beginning God created the heavens and the earth",
                                  "en el principio cri\xc3\xb3 Dios los cielos y la tierra"};
    size_t lengths[2] = {strlen(texts[0]), strlen(texts[1])};
    attn_bpe_train_params p = attn_bpe_train_default_params();
    p.vocab_size = 290;
    p.min_frequency = 1;
    if (attn_tokenizer_train_bpe(texts, lengths, 2, p, &bpe) != ATTN_OK) abort();
}

static void check_side(const attn_pairs *e, long off, int len, int max) {
    if (len < 1 || len > max || e->ids[off + len - 1] != EOS) abort();
}

static void one(const uint8_t *data, size_t size, int src_col, int tgt_col) {
    attn_parallel p;
    if (attn_parallel_parse((const char *)data, size, "fuzz.tsv", src_col, tgt_col, &p) != ATTN_OK)
        return;
    for (long i = 0; i < p.n; i++) {
        if (strchr(p.src[i], '\t') || strchr(p.tgt[i], '\t')) abort();
        if (i > 0 && p.lines[i] <= p.lines[i - 1]) abort();
    }
    attn_pairs e;
    if (attn_pairs_encode(&p, bpe, MAX_SRC, MAX_TGT, EOS, &e) == ATTN_OK) {
        if (e.n != p.n) abort();
        for (long i = 0; i < e.n; i++) {
            check_side(&e, e.src_off[i], e.src_len[i], MAX_SRC);
            check_side(&e, e.tgt_off[i], e.tgt_len[i], MAX_TGT);
        }
        attn_pairs_free(&e);
    }
    attn_parallel_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!bpe) make_tokenizer();
    one(data, size, 1, 2);
    one(data, size, 2, 1);
    one(data, size, 0, 3);
    return 0;
}
