/* kernels/isa.c: run-time choice of the kernels' ISA (kernels/isa.h).
 *
 * Support needs both the CPU's feature bits (cpuid leaf 7 for AVX2 / AVX-512, leaf 1 for FMA,
 * AVX and OSXSAVE) and the OS's consent to save the registers (xgetbv: XCR0 bits 1-2 for the ymm
 * state, 5-7 for the opmask and zmm state); a VM or kernel that does not save zmm makes AVX-512
 * unusable even where cpuid reports it. The choice is made once, under pthread_once. */
#include "kernels/isa.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static unsigned long long read_xcr0(void) {
    unsigned int lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}

static attn_isa detect(void) {
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return ATTN_ISA_GENERIC;
    int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    if (!osxsave || !avx) return ATTN_ISA_GENERIC;
    unsigned long long xcr0 = read_xcr0();
    if ((xcr0 & 0x6) != 0x6) return ATTN_ISA_GENERIC; /* xmm and ymm state */
    if (__get_cpuid_max(0, NULL) < 7) return ATTN_ISA_GENERIC;
    __cpuid_count(7, 0, a, b, c, d);
    int avx2 = (b >> 5) & 1, f = (b >> 16) & 1, dq = (b >> 17) & 1, bw = (b >> 30) & 1,
        vl = (b >> 31) & 1;
    if (!avx2 || !fma) return ATTN_ISA_GENERIC;
    if (f && dq && bw && vl && (xcr0 & 0xe0) == 0xe0) return ATTN_ISA_AVX512;
    return ATTN_ISA_AVX2;
}

static const attn_kernel_table *const tables[ATTN_ISA_COUNT] = {
    &attn_kernels_generic, &attn_kernels_avx2, &attn_kernels_avx512};
#else
static attn_isa detect(void) {
    return ATTN_ISA_GENERIC;
}
static const attn_kernel_table *const tables[ATTN_ISA_COUNT] = {&attn_kernels_generic};
#endif

static const char *const names[ATTN_ISA_COUNT] = {"generic", "avx2", "avx512"};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static attn_isa supported;
static _Atomic int active;

static void init(void) {
    supported = detect();
    attn_isa isa = supported;
    int capped = attn_isa_parse(getenv("ATTN_ISA"));
    if (capped >= 0 && (attn_isa)capped < isa) isa = (attn_isa)capped;
    atomic_store(&active, (int)isa);
}

attn_isa attn_isa_supported(void) {
    pthread_once(&once, init);
    return supported;
}

attn_isa attn_isa_active(void) {
    pthread_once(&once, init);
    return (attn_isa)atomic_load(&active);
}

attn_isa attn_isa_set(attn_isa isa) {
    pthread_once(&once, init);
    if ((int)isa < 0) isa = ATTN_ISA_GENERIC;
    if (isa > supported) isa = supported;
    atomic_store(&active, (int)isa);
    return isa;
}

const char *attn_isa_name(attn_isa isa) {
    return (int)isa >= 0 && isa < ATTN_ISA_COUNT ? names[isa] : "unknown";
}

int attn_isa_parse(const char *name) {
    if (!name) return -1;
    for (int i = 0; i < ATTN_ISA_COUNT; i++)
        if (!strcmp(name, names[i])) return i;
    return -1;
}

const attn_kernel_table *attn_kernels(void) {
    return tables[attn_isa_active()];
}

const attn_kernel_table *attn_kernels_for(attn_isa isa) {
    if ((int)isa < 0 || isa >= ATTN_ISA_COUNT || isa > attn_isa_supported()) return NULL;
    return tables[isa];
}
