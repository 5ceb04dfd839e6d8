/* core/threads.c: thread count shared by our OpenMP loops and OpenBLAS (its OpenMP build). */
#include "core/threads.h"
#include "core/error.h"

#include <omp.h>
#include <stdlib.h>

void openblas_set_num_threads(int num_threads);

static int current_threads;

static int default_threads(void) {
    const char *env = getenv("ATTN_NUM_THREADS");
    if (env && *env) {
        int n = atoi(env);
        if (n > 0) return n;
    }
    return omp_get_num_procs();
}

attn_status attn_set_num_threads(int n) {
    if (n > 4096) return attn_error(ATTN_ERR_INVALID, "thread count %d is out of range", n);
    if (n <= 0) n = default_threads();
    current_threads = n;
    omp_set_num_threads(n);
    openblas_set_num_threads(n);
    return ATTN_OK;
}

int attn_get_num_threads(void) {
    if (current_threads == 0) attn_set_num_threads(0);
    return current_threads;
}

const char *attn_version(void) { return "0.1.0"; }
