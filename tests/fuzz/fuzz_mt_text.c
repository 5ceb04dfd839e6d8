/* tests/fuzz/fuzz_mt_text.c: one-sentence-per-line text (attn_lines_parse, src/data/lines.c) and
 * the translation metrics on it (attn_corpus_bleu, attn_corpus_chrf, attn_bleu_tokenize_13a,
 * src/eval/): any bytes either fail cleanly or give lines whose scores lie in [0, 100]. The
 * lines are scored against themselves reversed in order (so hypotheses and references differ). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "attn/data.h"
#include "attn/metrics.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    attn_lines l;
    if (attn_lines_parse((const char *)data, size, "fuzz.txt", &l) != ATTN_OK) return 0;
    if (l.n > 0) {
        const char **refs = malloc((size_t)l.n * sizeof *refs);
        for (long i = 0; i < l.n; i++)
            refs[i] = l.lines[l.n - 1 - i];
        attn_bleu b;
        attn_chrf c;
        if (attn_corpus_bleu((const char *const *)l.lines, refs, l.n, &b) == ATTN_OK &&
            !(b.score >= 0 && b.score <= 100.0 + 1e-9))
            abort();
        if (attn_corpus_chrf((const char *const *)l.lines, refs, l.n, &c) == ATTN_OK &&
            !(c.score >= 0 && c.score <= 100.0 + 1e-9))
            abort();
        char *tok;
        if (attn_bleu_tokenize_13a(l.lines[0], &tok) == ATTN_OK) free(tok);
        free(refs);
    }
    attn_lines_free(&l);
    return 0;
}
