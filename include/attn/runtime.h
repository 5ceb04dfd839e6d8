/* attn/runtime.h: process-wide settings: thread count, kernel ISA, version. */
#ifndef ATTN_RUNTIME_H
#define ATTN_RUNTIME_H

#include "attn/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Sets the number of threads every kernel (and OpenBLAS) uses. n <= 0 restores the default:
 * ATTN_NUM_THREADS from the environment if set, else the cores available to the process. */
ATTN_API attn_status attn_set_num_threads(int n);
ATTN_API int attn_get_num_threads(void);

/* "MAJOR.MINOR.PATCH" */
ATTN_API const char *attn_version(void);

/* What this process runs on. The kernels' ISA is picked once, at the first kernel call, from what
 * the CPU and OS support (cpuid + xgetbv), capped by the environment variable
 * ATTN_ISA=generic|avx2|avx512 or by attn_set_isa. All strings are static. */
typedef struct {
    const char *version;  /* attn_version() */
    const char *isa;      /* the kernels in use: "generic", "avx2" or "avx512" */
    const char *isa_best; /* the best this CPU supports */
    const char *isa_env;  /* ATTN_ISA as set in the environment, or NULL */
    const char *cpu;      /* the CPU's model name (cpuid brand string), "" if unknown */
    const char *blas;     /* the GEMM library and the kernels it chose ("OpenBLAS ... SkylakeX") */
    int num_threads;      /* attn_get_num_threads() */
} attn_runtime;
ATTN_API attn_runtime attn_runtime_info(void);

/* Caps the kernels' ISA at `name` ("generic", "avx2", "avx512"; never above what the CPU
 * supports). ATTN_ERR_INVALID for any other name, the ISA in use unchanged. */
ATTN_API attn_status attn_set_isa(const char *name);

#ifdef __cplusplus
}
#endif
#endif
