/* tests/common/testutil.c */
#define _POSIX_C_SOURCE 200809L /* popen */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

float *tu_randn(attn_rng *rng, long n, float std) {
    float *x = malloc((size_t)(n > 0 ? n : 1) * sizeof *x);
    assert_non_null(x);
    attn_rng_fill_normal(rng, x, n, std);
    return x;
}

float *tu_zeros(long n) {
    float *x = calloc((size_t)(n > 0 ? n : 1), sizeof *x);
    assert_non_null(x);
    return x;
}

double *tu_to_double(const float *x, long n) {
    double *y = malloc((size_t)(n > 0 ? n : 1) * sizeof *y);
    assert_non_null(y);
    for (long i = 0; i < n; i++) y[i] = x[i];
    return y;
}

double tu_max_rel_err(const float *got, const float *want, long n, double floor, long *where) {
    double worst = 0;
    long at = 0;
    for (long i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]) / fmax(fabs((double)want[i]), floor);
        if (!(d <= worst)) { /* also catches NaN */
            worst = isnan(d) ? INFINITY : d;
            at = i;
        }
    }
    if (where) *where = at;
    return worst;
}

void tu_assert_close_d(const float *got, const double *want, long n, double rtol, double atol,
                       const char *what) {
    for (long i = 0; i < n; i++) {
        double g = got[i], w = want[i];
        if (!(fabs(g - w) <= atol + rtol * fabs(w))) {
            fail_msg("%s: element %ld of %ld: got %.8g, want %.8g (rtol %g, atol %g)", what, i, n,
                     g, w, rtol, atol);
        }
    }
}

void tu_assert_close(const float *got, const float *want, long n, double rtol, double atol,
                     const char *what) {
    for (long i = 0; i < n; i++) {
        double g = got[i], w = want[i];
        if (!(fabs(g - w) <= atol + rtol * fabs(w))) {
            fail_msg("%s: element %ld of %ld: got %.8g, want %.8g (rtol %g, atol %g)", what, i, n,
                     g, w, rtol, atol);
        }
    }
}

const char *tu_fixture_path(const char *name) {
    static char path[4096];
    const char *dir = getenv("ATTN_FIXTURES");
    snprintf(path, sizeof path, "%s/%s", dir ? dir : "tests/fixtures", name);
    return path;
}

int tu_sanitized(void) { return getenv("ATTN_SANITIZED") != NULL; }

int tu_read_command(const char *cmd, char **out) {
    *out = NULL;
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t cap = 1 << 20, n = 0, got;
    char *buf = malloc(cap);
    while (buf && (got = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += got;
        if (cap - n < 2) {
            char *bigger = realloc(buf, cap *= 2);
            if (!bigger) free(buf);
            buf = bigger;
        }
    }
    int rc = pclose(p);
    if (!buf) return -1;
    buf[n] = '\0';
    *out = buf;
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}
