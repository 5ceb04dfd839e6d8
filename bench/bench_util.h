/* bench/bench_util.h: what every benchmark in bench/ needs and nothing in the library does: a
 * clock, a median, and `--name N` integer options. Header-only (each bench is one file). */
#ifndef ATTN_BENCH_UTIL_H
#define ATTN_BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Seconds on `clock`: CLOCK_MONOTONIC for wall time, CLOCK_PROCESS_CPUTIME_ID for the CPU time
 * of all of the process's threads. */
static inline double bench_clock(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}
static inline double bench_now(void) {
    return bench_clock(CLOCK_MONOTONIC);
}

static inline int bench_cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of n > 0 values (the mean of the middle two for even n); x is left as it was. */
static inline double bench_median(const double *x, int n) {
    double *s = malloc((size_t)n * sizeof *s);
    memcpy(s, x, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, bench_cmp_double);
    double m = (s[(n - 1) / 2] + s[n / 2]) / 2;
    free(s);
    return m;
}

/* Options `--NAME N` for names[i] ("layers" for --layers) into *vals[i]; 0, or 2 after printing
 * "PROG: unknown option ..." for anything else. */
typedef struct {
    const char *name;
    int *val;
} bench_opt;

static inline int bench_parse(int argc, char **argv, const char *prog, const bench_opt *opts,
                              int n) {
    for (int i = 1; i < argc; i += 2) {
        int k = 0;
        while (k < n &&
               !(argv[i][0] == '-' && argv[i][1] == '-' && !strcmp(argv[i] + 2, opts[k].name)))
            k++;
        if (k == n || i + 1 >= argc) {
            fprintf(stderr, "%s: unknown option or missing value: %s\n", prog, argv[i]);
            return 2;
        }
        *opts[k].val = atoi(argv[i + 1]);
    }
    return 0;
}

#endif
