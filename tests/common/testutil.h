/* tests/common/testutil.h: helpers shared by the C tests (cmocka). */
#ifndef ATTN_TESTUTIL_H
#define ATTN_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/rng.h"

/* malloc'd arrays the test frees with free(). */
float *tu_randn(attn_rng *rng, long n, float std);
float *tu_zeros(long n);
double *tu_to_double(const float *x, long n);

/* Largest |got - want| / max(|want|, floor) over n elements; index of the worst in *where. */
double tu_max_rel_err(const float *got, const float *want, long n, double floor, long *where);

/* Fails the test (with `what`, the index and both values) unless every element satisfies
 * |got - want| <= atol + rtol * |want|. */
void tu_assert_close(const float *got, const float *want, long n, double rtol, double atol,
                     const char *what);
void tu_assert_close_d(const float *got, const double *want, long n, double rtol, double atol,
                       const char *what);

/* Path of a file in the committed fixtures folder ($ATTN_FIXTURES, set by ctest); static buffer. */
const char *tu_fixture_path(const char *name);

/* Nonzero when running under the sanitizer build (ATTN_SANITIZED set): tests may shrink sizes. */
int tu_sanitized(void);

/* Runs cmd through the shell; *out is its whole stdout (malloc'd, NUL-terminated; NULL when it
 * could not run). Returns the exit status, -1 if the command could not run or was killed. */
int tu_read_command(const char *cmd, char **out);

#endif
