/* tests/viz/test_colormap.c: the heatmap ramp and the plot palette (viz/colormap.h). */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>

#include "viz/colormap.h"

static void assert_rgb(viz_rgb c, int r, int g, int b) {
    if (c.r != r || c.g != g || c.b != b)
        fail_msg("got (%d, %d, %d), want (%d, %d, %d)", c.r, c.g, c.b, r, g, b);
}

static void test_ends_and_clamping(void **state) {
    (void)state;
    assert_rgb(viz_colormap(0), 68, 1, 84);      /* dark purple */
    assert_rgb(viz_colormap(1), 253, 231, 37);   /* yellow */
    assert_rgb(viz_colormap(0.5), 33, 145, 140); /* teal, an anchor */
    assert_rgb(viz_colormap(-3), 68, 1, 84);
    assert_rgb(viz_colormap(7), 253, 231, 37);
    assert_rgb(viz_colormap(NAN), 68, 1, 84);
    assert_rgb(viz_colormap(-INFINITY), 68, 1, 84);
    assert_rgb(viz_colormap(INFINITY), 253, 231, 37);
    /* halfway between two anchors is their mean */
    assert_rgb(viz_colormap(0.125), 64, 42, 112);
}

/* Lightness rises with the value: the order survives greyscale; neighbours differ. */
static void test_lightness_rises(void **state) {
    (void)state;
    double prev = -1;
    for (int i = 0; i <= 200; i++) {
        double luma = viz_luma(viz_colormap(i / 200.0));
        if (!(luma > prev)) fail_msg("lightness falls at t = %g", i / 200.0);
        prev = luma;
    }
    assert_true(viz_luma(viz_colormap(1)) - viz_luma(viz_colormap(0)) > 150);
}

static void test_palette(void **state) {
    (void)state;
    for (int i = 0; i < 8; i++) {
        for (int j = 0; j < i; j++) {
            viz_rgb a = viz_series_color(i), b = viz_series_color(j);
            assert_true(abs(a.r - b.r) + abs(a.g - b.g) + abs(a.b - b.b) > 60);
        }
        viz_rgb c = viz_series_color(i), again = viz_series_color(i + 8);
        assert_rgb(again, c.r, c.g, c.b);
        assert_true(viz_luma(c) < 200); /* visible on white */
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ends_and_clamping),
        cmocka_unit_test(test_lightness_rises),
        cmocka_unit_test(test_palette),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
