/* tools/text_data.c: reading text files and cutting them into training windows. */
#include "text_data.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int text_data_load(const char *path, text_data *out) {
    out->bytes = NULL;
    out->n = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        errno = ENOMEM;
        return -1;
    }
    for (;;) {
        if (n == cap) {
            unsigned char *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                fclose(f);
                errno = ENOMEM;
                return -1;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    int failed = ferror(f);
    int saved = errno;
    fclose(f);
    if (failed) {
        free(buf);
        errno = saved ? saved : EIO;
        return -1;
    }
    out->bytes = buf;
    out->n = n;
    return 0;
}

void text_data_free(text_data *d) {
    free(d->bytes);
    d->bytes = NULL;
    d->n = 0;
}

text_data text_data_slice(const text_data *d, size_t begin, size_t end) {
    text_data s = {d->bytes + begin, end - begin};
    return s;
}

/* splitmix64: a tiny generator with good statistics; also used to mix the key into a state. */
static uint64_t splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, n) without modulo bias (rejection of the short top range). */
static uint64_t below(uint64_t *state, uint64_t n) {
    uint64_t threshold = (0 - n) % n; /* 2^64 mod n */
    for (;;) {
        uint64_t r = splitmix64(state);
        if (r >= threshold) return r % n;
    }
}

static void copy_window(const text_data *d, size_t start, int T, int *tokens, int *targets) {
    for (int t = 0; t < T; t++) {
        tokens[t] = d->bytes[start + (size_t)t];
        targets[t] = d->bytes[start + (size_t)t + 1];
    }
}

void text_data_sample(const text_data *d, uint64_t seed, uint64_t step, uint64_t micro, int B,
                      int T, int *tokens, int *targets) {
    /* The key is hashed in three rounds so that neighbouring (step, micro) pairs are unrelated. */
    uint64_t state = seed;
    state = splitmix64(&state) ^ step;
    state = splitmix64(&state) ^ micro;
    uint64_t starts = (uint64_t)(d->n - (size_t)T); /* window starts in [0, n - T - 1] */
    for (int b = 0; b < B; b++) {
        size_t start = (size_t)below(&state, starts);
        copy_window(d, start, T, tokens + (size_t)b * T, targets + (size_t)b * T);
    }
}

void text_data_window(const text_data *d, long index, long count, int T, int *tokens,
                      int *targets) {
    size_t span = d->n - (size_t)T - 1; /* last possible start */
    size_t start = count > 1 ? (size_t)((double)span * (double)index / (double)(count - 1)) : 0;
    copy_window(d, start, T, tokens, targets);
}
