/* kernels/runtime_info.c: attn_runtime_info and attn_set_isa (attn/runtime.h): what the process
 * runs on, for `attn --version`, benchmarks and bug reports. */
#include "attn/runtime.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "kernels/isa.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

/* OpenBLAS's own report of its build and the kernels it picked for this CPU. */
char *openblas_get_config(void);
char *openblas_get_corename(void);

static char cpu_name[49];
static char blas_name[160];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void read_cpu_name(void) {
#if defined(__x86_64__) || defined(__i386__)
    unsigned int regs[12];
    if ((unsigned int)__get_cpuid_max(0x80000000u, NULL) >= 0x80000004u) {
        for (unsigned int i = 0; i < 3; i++)
            __get_cpuid(0x80000002u + i, &regs[4 * i], &regs[4 * i + 1], &regs[4 * i + 2],
                        &regs[4 * i + 3]);
        memcpy(cpu_name, regs, 48);
    }
#endif
    char *p = cpu_name; /* trim the padding */
    while (*p == ' ')
        p++;
    memmove(cpu_name, p, strlen(p) + 1);
    for (size_t n = strlen(cpu_name); n > 0 && cpu_name[n - 1] == ' '; n--)
        cpu_name[n - 1] = '\0';
    const char *config = openblas_get_config(), *core = openblas_get_corename();
    snprintf(blas_name, sizeof blas_name, "%s, kernels %s", config ? config : "OpenBLAS",
             core ? core : "unknown");
}

attn_runtime attn_runtime_info(void) {
    pthread_once(&once, read_cpu_name);
    attn_runtime r = {
        .version = attn_version(),
        .isa = attn_isa_name(attn_isa_active()),
        .isa_best = attn_isa_name(attn_isa_supported()),
        .isa_env = getenv("ATTN_ISA"),
        .cpu = cpu_name,
        .blas = blas_name,
        .num_threads = attn_get_num_threads(),
    };
    return r;
}

attn_status attn_set_isa(const char *name) {
    int isa = attn_isa_parse(name);
    if (isa < 0)
        return attn_error(ATTN_ERR_INVALID, "unknown ISA '%s' (known: generic, avx2, avx512)",
                          name ? name : "(null)");
    attn_isa_set((attn_isa)isa);
    return ATTN_OK;
}
