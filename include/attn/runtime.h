/* attn/runtime.h: process-wide settings: thread count, version. */
#ifndef ATTN_RUNTIME_H
#define ATTN_RUNTIME_H

#include "attn/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Sets the number of threads every kernel (and OpenBLAS) uses. n <= 0 restores the default:
 * ATTN_NUM_THREADS from the environment if set, else the cores available to the process. */
attn_status attn_set_num_threads(int n);
int attn_get_num_threads(void);

/* "MAJOR.MINOR.PATCH" */
const char *attn_version(void);

#ifdef __cplusplus
}
#endif
#endif
