/* core/pool.c: the spinning worker pool of core/pool.h.
 *
 * One job at a time (run_lock, taken with trylock: a second caller runs its parts alone). A job
 * is published by bumping `generation` after its fields are written; each worker spins on
 * `generation` for ATTN_POOL_SPIN_US, then sleeps on `wake` until it changes. The publisher
 * broadcasts `wake` under `sleep_lock` after the bump, and a worker checks the generation under
 * the same lock before it waits, so no wake-up is lost. `pending` counts the workers that have not
 * yet finished with the job (each reports, whether it had a part or not); the caller spins on it
 * after running part 0, so the next job's fields are never written while one is read. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, CLOCK_MONOTONIC (clang: -std=c11 hides them) */
#include "core/pool.h"

#include <omp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "core/threads.h"

#define POOL_MAX_WORKERS 63
#define ATTN_POOL_SPIN_US 300

static struct {
    pthread_mutex_t run_lock, sleep_lock;
    pthread_cond_t wake;
    int workers; /* started so far */
    attn_pool_fn fn;
    void *ctx;
    int parts;
    _Atomic unsigned long generation;
    _Atomic int pending;
    unsigned long start_gen[POOL_MAX_WORKERS + 1]; /* the generation a new worker has seen */
} pool = {
    .run_lock = PTHREAD_MUTEX_INITIALIZER,
    .sleep_lock = PTHREAD_MUTEX_INITIALIZER,
    .wake = PTHREAD_COND_INITIALIZER,
};

static void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Waits until the generation differs from `seen`: spinning first, then asleep. */
static unsigned long wait_for_job(unsigned long seen) {
    long long deadline = now_ns() + ATTN_POOL_SPIN_US * 1000LL;
    for (int i = 0;; i++) {
        unsigned long g = atomic_load_explicit(&pool.generation, memory_order_acquire);
        if (g != seen) return g;
        if ((i & 255) == 255 && now_ns() > deadline) break;
        cpu_relax();
    }
    pthread_mutex_lock(&pool.sleep_lock);
    unsigned long g;
    while ((g = atomic_load_explicit(&pool.generation, memory_order_acquire)) == seen)
        pthread_cond_wait(&pool.wake, &pool.sleep_lock);
    pthread_mutex_unlock(&pool.sleep_lock);
    return g;
}

static void *worker_main(void *arg) {
    int part = (int)(long)arg; /* worker w runs part w + 1 */
    /* the generation when it was created, not now: the job it was started for may already be out */
    unsigned long seen = pool.start_gen[part];
    for (;;) {
        seen = wait_for_job(seen);
        if (part < pool.parts) pool.fn(pool.ctx, part, pool.parts);
        /* every worker reports, taking part or not, so none still reads this job's fields when
         * the next one is written */
        atomic_fetch_sub_explicit(&pool.pending, 1, memory_order_release);
    }
    return NULL;
}

/* Starts workers until there are `want`; returns how many there are. Under run_lock. */
static int ensure_workers(int want) {
    if (want > POOL_MAX_WORKERS) want = POOL_MAX_WORKERS;
    while (pool.workers < want) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pool.start_gen[pool.workers + 1] = atomic_load(&pool.generation);
        int failed = pthread_create(&t, &attr, worker_main, (void *)(long)(pool.workers + 1));
        pthread_attr_destroy(&attr);
        if (failed) break;
        pool.workers++;
    }
    return pool.workers;
}

static void run_alone(attn_pool_fn fn, void *ctx, int parts) {
    for (int p = 0; p < parts; p++)
        fn(ctx, p, parts);
}

void attn_pool_run(attn_pool_fn fn, void *ctx, int n) {
    int parts = attn_get_num_threads();
    if (parts > n) parts = n;
    if (parts <= 1 || omp_in_parallel()) {
        run_alone(fn, ctx, parts < 1 ? 1 : parts);
        return;
    }
    if (pthread_mutex_trylock(&pool.run_lock) != 0) {
        run_alone(fn, ctx, parts);
        return;
    }
    int workers = ensure_workers(parts - 1);
    if (parts > workers + 1) parts = workers + 1;
    pool.fn = fn, pool.ctx = ctx, pool.parts = parts;
    atomic_store_explicit(&pool.pending, workers, memory_order_relaxed);
    atomic_fetch_add_explicit(&pool.generation, 1, memory_order_release);
    pthread_mutex_lock(&pool.sleep_lock);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.sleep_lock);
    fn(ctx, 0, parts);
    while (atomic_load_explicit(&pool.pending, memory_order_acquire) > 0)
        cpu_relax();
    pthread_mutex_unlock(&pool.run_lock);
}
