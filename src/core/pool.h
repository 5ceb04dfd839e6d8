/* core/pool.h: a few worker threads that spin for a moment between jobs, for the short
 * back-to-back kernels of decoding (tens to hundreds of microseconds each).
 *
 * Why not OpenMP: under OMP_WAIT_POLICY=PASSIVE (what the benchmarks and ctest set, and the only
 * sane policy on a shared machine) an OpenMP worker goes to sleep the moment a region ends, and
 * waking it costs 60-80 us on the development VM, as much as the product it would share. These
 * workers instead spin for ATTN_POOL_SPIN_US after each job, so a decoding step's next product
 * finds them awake, and only then block; idle, they cost nothing. ggml's thread pool does the
 * same. Training keeps using OpenMP (its kernels are long enough to pay for a wake-up).
 *
 * attn_pool_run(fn, ctx, n) calls fn(ctx, part, parts) for part = 0 .. parts - 1 at once, with
 * parts = min(n, attn_get_num_threads()); the caller runs part 0 itself and returns when every
 * part is done. When the pool is in use by another thread, was asked from inside an OpenMP
 * region, or cannot start its threads, the caller runs all parts itself, in order: fn must give
 * the same result either way (the parts must be independent). No errors, no allocation after the
 * first call that needs a new worker. */
#ifndef ATTN_CORE_POOL_H
#define ATTN_CORE_POOL_H

typedef void (*attn_pool_fn)(void *ctx, int part, int parts);

void attn_pool_run(attn_pool_fn fn, void *ctx, int n);

#endif
