/* kernels/isa.h: which instruction set the kernels run on, chosen once at run time.
 *
 * Every src/kernels/NAME_simd.c is compiled once per ISA (kernels/simd.h); each compilation exports
 * a table of its kernels, attn_kernels_<isa>. At the first call, attn_kernels() detects what the
 * CPU and the OS support (cpuid, and xgetbv for the register state the OS saves), caps that by the
 * environment variable ATTN_ISA=generic|avx2|avx512, and returns the best table; the public
 * kernels (attn_sdpa_forward, attn_activation_forward, ...) call through it.
 *
 *   generic  any CPU: 4-float vectors that the compiler lowers to the baseline (SSE2 on x86-64)
 *   avx2     AVX2 + FMA (Haswell, Zen and later)
 *   avx512   AVX-512 F, BW, DQ and VL (Skylake-SP, Ice Lake, Sapphire Rapids, Zen 4 and later) */
#ifndef ATTN_KERNELS_ISA_H
#define ATTN_KERNELS_ISA_H

#include "kernels/kernel_table.h"

typedef enum { ATTN_ISA_GENERIC, ATTN_ISA_AVX2, ATTN_ISA_AVX512, ATTN_ISA_COUNT } attn_isa;

/* The best ISA this CPU and OS support (no cap). */
attn_isa attn_isa_supported(void);
/* The ISA in use: attn_isa_supported() capped by ATTN_ISA or attn_isa_set. */
attn_isa attn_isa_active(void);
/* Selects the ISA in use, capped by what the CPU supports; returns the one selected. */
attn_isa attn_isa_set(attn_isa isa);
/* "generic", "avx2", "avx512"; attn_isa_parse returns -1 for any other name. */
const char *attn_isa_name(attn_isa isa);
int attn_isa_parse(const char *name);

/* The table of the ISA in use, and that of a given ISA (NULL where the CPU lacks it or the build
 * has no such variant: on a non-x86 build only the generic one exists). */
const attn_kernel_table *attn_kernels(void);
const attn_kernel_table *attn_kernels_for(attn_isa isa);

#endif
