/* tests/viz/test_plot.c: round axes, and attn_plot_png: a PNG of the planned size with each
 * series drawn where its axis puts it, a right axis only when asked for, and bad input refused. */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn/viz.h"
#include "pngcheck.h"
#include "viz/plot.h"

static const char *dir;

static int setup(void **state) {
    (void)state;
    dir = pc_tmpdir();
    return 0;
}

static int teardown(void **state) {
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    pc_release_fonts(state);
    if (getenv("ATTN_VIZ_KEEP")) return 0; /* look at the pictures */
    return system(cmd) == 0 ? 0 : -1;
}

static void assert_axis(double min, double max, double lo, double hi, double step) {
    viz_axis a = viz_axis_nice(min, max, 6);
    if (fabs(a.lo - lo) > 1e-9 * step || fabs(a.hi - hi) > 1e-9 * step ||
        fabs(a.step - step) > 1e-12 * step)
        fail_msg("[%g, %g]: got %g..%g step %g, want %g..%g step %g", min, max, a.lo, a.hi, a.step,
                 lo, hi, step);
}

static void test_nice_axes(void **state) {
    (void)state;
    assert_axis(0, 9.3, 0, 10, 2);
    assert_axis(0, 300, 0, 300, 50);
    assert_axis(0.51, 0.89, 0.5, 0.9, 0.05);
    assert_axis(1.23, 5.6, 1, 6, 1);
    assert_axis(-0.3, 0.3, -0.3, 0.3, 0.1);
    assert_axis(0, 12000, 0, 12000, 2000);
    assert_axis(3, 3, 2.7, 3.3, 0.1); /* a constant widens by 10% */
    assert_axis(0, 0, -1, 1, 0.5);    /* ... or by 1 around zero */
    assert_axis(NAN, 1, 0, 1, 0.2);   /* nothing finite: 0..1 */
    assert_axis(INFINITY, -INFINITY, 0, 1, 0.2);
    /* the axis always covers the data */
    attn_rng rng;
    attn_rng_init(&rng, 9, 0);
    for (int i = 0; i < 1000; i++) {
        double a = attn_rng_normal(&rng) * pow(10, attn_rng_normal(&rng) * 3);
        double b = a + fabs(attn_rng_normal(&rng)) * pow(10, attn_rng_normal(&rng) * 3);
        viz_axis ax = viz_axis_nice(a, b, 6);
        if (!(ax.lo <= a && ax.hi >= b))
            fail_msg("[%.17g, %.17g] -> %.17g..%.17g step %g", a, b, ax.lo, ax.hi, ax.step);
        double n = (ax.hi - ax.lo) / ax.step;
        assert_true(n >= 2.5 && n <= 13.5);
    }
    char text[32];
    viz_axis a = viz_axis_nice(0.51, 0.89, 6);
    viz_axis_format(&a, 0.55, text, sizeof text);
    assert_string_equal(text, "0.55");
    a = viz_axis_nice(0, 12000, 6);
    viz_axis_format(&a, 4000, text, sizeof text);
    assert_string_equal(text, "4000");
    a = viz_axis_nice(-0.3, 0.3, 6);
    viz_axis_format(&a, -0.1 + 0.1, text, sizeof text);
    assert_string_equal(text, "0.0");
    a = viz_axis_nice(0, 3e7, 6);
    viz_axis_format(&a, 2e7, text, sizeof text);
    assert_string_equal(text, "2e+07");
}

/* Looks for the colour within 3 pixels above and below (x, y). */
static void assert_line_near(cairo_surface_t *s, double x, double y, viz_rgb want,
                             const char *what) {
    int best = 999;
    for (int dy = -3; dy <= 3; dy++)
        best = fmin(best, pc_distance(pc_pixel(s, (int)x, (int)lround(y) + dy), want));
    if (best > 40) fail_msg("%s: no line near (%.1f, %.1f)", what, x, y);
}

static void test_two_axes(void **state) {
    (void)state;
    enum { N = 101, M = 11 };
    double x[N], loss[N], ex[M], acc[M];
    for (int i = 0; i < N; i++)
        x[i] = 10 * i, loss[i] = 5 - 0.03 * i;
    for (int i = 0; i < M; i++)
        ex[i] = 100 * i, acc[i] = 0.5 + 0.04 * i;
    attn_series s[2] = {{.name = "train loss", .x = x, .y = loss, .n = N},
                        {.name = "dev accuracy", .x = ex, .y = acc, .n = M, .right_axis = 1}};
    viz_plot_layout L;
    assert_int_equal(viz_plot_plan(s, 2, "title", "step", &L), ATTN_OK);
    assert_int_equal(L.dual, 1);
    assert_true(L.x.lo == 0 && L.x.hi == 1000);
    assert_true(L.y[0].lo <= 2 && L.y[0].hi >= 5 && L.y[0].hi < 6);
    assert_true(L.y[1].lo <= 0.5 && L.y[1].hi >= 0.9 && L.y[1].hi <= 1);
    const char *path = pc_path(dir, "two.png");
    assert_int_equal(attn_plot_png(path, "title", "step", s, 2), ATTN_OK);
    cairo_surface_t *img = pc_load(path, VIZ_PLOT_WIDTH, VIZ_PLOT_HEIGHT);
    /* at step 300: loss 4.1 on the left scale, accuracy 0.62 on the right one */
    double X = viz_plot_px(&L, 300);
    double y_loss = viz_plot_py(&L, 0, 4.1), y_acc = viz_plot_py(&L, 1, 0.62);
    assert_true(fabs(y_loss - y_acc) > 20);
    assert_line_near(img, X, y_loss, viz_series_color(0), "loss");
    assert_line_near(img, X, y_acc, viz_series_color(1), "accuracy");
    /* accuracy has few points: a dot at each, wider than the line */
    double Xd = viz_plot_px(&L, 500), Yd = viz_plot_py(&L, 1, 0.7);
    pc_assert_color(img, (int)Xd, (int)lround(Yd) + 2, viz_series_color(1), 40, "marker");
    pc_assert_color(img, 2, 2, (viz_rgb){255, 255, 255}, 0, "background");
    cairo_surface_destroy(img);

    /* one side only: no right axis, and its series shares the left one */
    s[0].right_axis = 1;
    assert_int_equal(viz_plot_plan(s, 2, NULL, NULL, &L), ATTN_OK);
    assert_int_equal(L.dual, 0);
    assert_int_equal(viz_plot_series_axis(&L, &s[1]), 0);
    assert_true(L.y[0].lo <= 0.5 && L.y[0].hi >= 5);
    assert_int_equal(attn_plot_png(path, NULL, NULL, s, 2), ATTN_OK);
    img = pc_load(path, VIZ_PLOT_WIDTH, VIZ_PLOT_HEIGHT);
    assert_line_near(img, X, viz_plot_py(&L, 0, 4.1), viz_series_color(0), "loss, one axis");
    cairo_surface_destroy(img);
}

/* Gaps, implicit x, empty series, many series and odd names all draw. */
static void test_odd_series(void **state) {
    (void)state;
    double y[6] = {1, 2, NAN, 4, INFINITY, 6}, xs[6] = {0, 1, 2, NAN, 4, 5};
    attn_series s[3] = {{.name = "\xFF\xFEgap\n", .y = y, .n = 6},
                        {.name = NULL, .x = xs, .y = y, .n = 6},
                        {.name = "empty", .n = 0}};
    viz_plot_layout L;
    assert_int_equal(viz_plot_plan(s, 3, "\xC3", "\xED\xA0\x80", &L), ATTN_OK);
    assert_true(L.x.lo == 0 && L.x.hi >= 5 && L.y[0].lo <= 1 && L.y[0].hi >= 6);
    const char *path = pc_path(dir, "odd.png");
    assert_int_equal(attn_plot_png(path, "\xC3", "\xED\xA0\x80", s, 3), ATTN_OK);
    cairo_surface_destroy(pc_load(path, VIZ_PLOT_WIDTH, VIZ_PLOT_HEIGHT));
    attn_series none = {.name = "nothing yet", .y = y + 2, .n = 1}; /* only a NaN */
    assert_int_equal(attn_plot_png(path, "empty", "step", &none, 1), ATTN_OK);
    cairo_surface_destroy(pc_load(path, VIZ_PLOT_WIDTH, VIZ_PLOT_HEIGHT));
    attn_series many[64];
    for (int i = 0; i < 64; i++)
        many[i] = (attn_series){.name = "s", .y = y, .n = 2};
    assert_int_equal(attn_plot_png(path, NULL, NULL, many, 64), ATTN_OK);
}

static void test_bad_input(void **state) {
    (void)state;
    double y[2] = {1, 2};
    attn_series s = {.name = "a", .y = y, .n = 2};
    const char *path = pc_path(dir, "bad.png");
    assert_int_equal(attn_plot_png(NULL, NULL, NULL, &s, 1), ATTN_ERR_INVALID);
    assert_int_equal(attn_plot_png("", NULL, NULL, &s, 1), ATTN_ERR_INVALID);
    assert_int_equal(attn_plot_png(path, NULL, NULL, NULL, 1), ATTN_ERR_INVALID);
    assert_int_equal(attn_plot_png(path, NULL, NULL, &s, 0), ATTN_ERR_INVALID);
    assert_int_equal(attn_plot_png(path, NULL, NULL, &s, 65), ATTN_ERR_INVALID);
    s.n = -1;
    assert_int_equal(attn_plot_png(path, NULL, NULL, &s, 1), ATTN_ERR_INVALID);
    s.n = 2, s.y = NULL;
    assert_int_equal(attn_plot_png(path, NULL, NULL, &s, 1), ATTN_ERR_INVALID);
    assert_false(pc_exists(path));
    s.y = y;
    assert_int_equal(attn_plot_png(pc_path(dir, "missing/p.png"), NULL, NULL, &s, 1), ATTN_ERR_IO);
    assert_non_null(strstr(attn_last_error(), "missing/p.png"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nice_axes),
        cmocka_unit_test(test_two_axes),
        cmocka_unit_test(test_odd_series),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
