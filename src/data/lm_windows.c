/* data/lm_windows.c: language-model batches of random windows over a token sequence
 * (attn_lm_windows_source, include/attn/data.h).
 *
 * Batch i for process r of n: B windows of T + 1 consecutive ids, tokens = the first T, targets =
 * the last T, whose starts are uniform in [0, n_ids - T - 1], drawn from attn_rng(seed,
 * WINDOW_STREAM + i * n + r). A batch depends on (seed, i, r, n) only. */
#include <stdlib.h>

#include "attn/data.h"
#include "core/error.h"
#include "core/rng.h"

#define WINDOW_STREAM 0x77696e64ULL /* "wind" */

typedef struct {
    const int *ids;
    size_t n;
    int B, T;
    uint64_t seed;
    int *tokens, *targets; /* (B, T) */
} windows;

static attn_status windows_next(void *self, long index, int rank, int n_ranks, attn_batch *out) {
    windows *w = self;
    attn_rng rng;
    attn_rng_init(&rng, w->seed,
                  WINDOW_STREAM + (uint64_t)index * (uint64_t)n_ranks + (uint64_t)rank);
    long starts = (long)(w->n - (size_t)w->T); /* window starts in [0, n - T - 1] */
    for (int b = 0; b < w->B; b++) {
        const int *win = w->ids + attn_rng_below_long(&rng, starts);
        int *tok = w->tokens + (size_t)b * w->T, *tgt = w->targets + (size_t)b * w->T;
        for (int t = 0; t < w->T; t++) {
            tok[t] = win[t];
            tgt[t] = win[t + 1];
        }
    }
    *out = (attn_batch){.B = w->B, .T = w->T, .tokens = w->tokens, .targets = w->targets};
    return ATTN_OK;
}

static void windows_free(void *self) {
    windows *w = self;
    if (!w) return;
    free(w->tokens);
    free(w->targets);
    free(w);
}

attn_status attn_lm_windows_source(const int *ids, size_t n, int B, int T, uint64_t seed,
                                   attn_batch_source **out) {
    if (!out || !ids) return attn_error(ATTN_ERR_INVALID, "lm windows: NULL argument");
    *out = NULL;
    if (B < 1 || T < 1)
        return attn_error(ATTN_ERR_INVALID, "lm windows: batch %d x context %d", B, T);
    if (n < (size_t)T + 1)
        return attn_error(ATTN_ERR_INVALID,
                          "lm windows: %zu tokens; a context of %d needs at least %d", n, T, T + 1);
    windows *w = calloc(1, sizeof *w);
    attn_batch_source *src = calloc(1, sizeof *src);
    if (w) {
        *w = (windows){.ids = ids, .n = n, .B = B, .T = T, .seed = seed};
        w->tokens = malloc((size_t)B * (size_t)T * sizeof(int));
        w->targets = malloc((size_t)B * (size_t)T * sizeof(int));
    }
    if (!w || !src || !w->tokens || !w->targets) {
        windows_free(w);
        free(src);
        return attn_error(ATTN_ERR_NOMEM, "lm windows: no room for a batch of %d x %d", B, T);
    }
    *src = (attn_batch_source){.next = windows_next, .free = windows_free, .self = w};
    *out = src;
    return ATTN_OK;
}
