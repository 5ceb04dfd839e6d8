/* core/threads.h: how many threads kernels use (OpenMP, and OpenBLAS's OpenMP pool with it). */
#ifndef ATTN_CORE_THREADS_H
#define ATTN_CORE_THREADS_H
#include "attn/runtime.h"
#endif
