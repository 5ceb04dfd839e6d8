/* tools/text_data.h: a byte-level text dataset: one token per byte (vocabulary 256, id = byte).
 *
 * Training batches are random windows of T+1 bytes (inputs = the first T, targets = the last T),
 * drawn by a generator of our own (splitmix64), independent of libattn, and keyed by
 * (seed, step, micro): the batch of a given step is the same whether the run was resumed or not. */
#ifndef ATTN_TOOLS_TEXT_DATA_H
#define ATTN_TOOLS_TEXT_DATA_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    unsigned char *bytes; /* malloc'd */
    size_t n;
} text_data;

/* Reads a whole file. Returns 0, or -1 with errno set (the caller reports it). */
int text_data_load(const char *path, text_data *out);
void text_data_free(text_data *d);

/* A view of bytes [begin, end) of d (no copy; d keeps ownership). */
text_data text_data_slice(const text_data *d, size_t begin, size_t end);

/* B random windows for micro-batch `micro` of step `step`: tokens and targets are (B, T).
 * Requires d->n >= T + 1. */
void text_data_sample(const text_data *d, uint64_t seed, uint64_t step, uint64_t micro, int B,
                      int T, int *tokens, int *targets);

/* Window `index` of `count` windows spread evenly over d, start to end (validation: the same
 * windows at every evaluation). Requires d->n >= T + 1. */
void text_data_window(const text_data *d, long index, long count, int T, int *tokens, int *targets);

#endif
