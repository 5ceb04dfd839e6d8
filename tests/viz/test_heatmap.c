/* tests/viz/test_heatmap.c: attn_heatmap_png writes a PNG of the planned size whose cells have
 * the ramp's colours, draws labels, stays readable at 60 tokens, and refuses bad input. */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn/viz.h"
#include "pngcheck.h"
#include "viz/heatmap.h"

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

/* Pixels in [x0, x1) x [y0, y1) that are not white. */
static int inked(cairo_surface_t *s, int x0, int y0, int x1, int y1) {
    int n = 0;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) {
            viz_rgb c = pc_pixel(s, x, y);
            n += c.r < 200 || c.g < 200 || c.b < 200;
        }
    return n;
}

/* Every cell's centre has the ramp colour of its value; the largest is the top colour. */
static void assert_cells(cairo_surface_t *s, const viz_heatmap_layout *L, const float *w) {
    for (int i = 0; i < L->rows; i++)
        for (int j = 0; j < L->cols; j++) {
            double t = (w[i * L->cols + j] - L->lo) / (L->hi - L->lo);
            int x = L->grid_x + j * L->cell + L->cell / 2,
                y = L->grid_y + i * L->cell + L->cell / 2;
            pc_assert_color(s, x, y, viz_colormap(t), 1, "cell");
        }
}

static void test_cells_labels_bar(void **state) {
    (void)state;
    enum { R = 5, C = 7 };
    float w[R * C];
    for (int i = 0; i < R * C; i++)
        w[i] = 0.05f * (float)((i * 11) % (R * C)); /* 0 .. 1.7, shuffled */
    const char *rows[R] = {"the", "cat", "sat", "on", "mats"};
    const char *cols[C] = {"[CLS]", "a", "b", "c", "d", "e", "[SEP]"};
    const char *path = pc_path(dir, "cells.png");
    viz_heatmap_layout L;
    assert_int_equal(viz_heatmap_plan(w, R, C, rows, cols, "a title", &L), ATTN_OK);
    assert_int_equal(attn_heatmap_png(path, w, R, C, rows, cols, "a title"), ATTN_OK);
    assert_true(L.lo == 0 && fabs(L.hi - 1.7) < 1e-6);
    assert_int_equal(L.cell, 40);
    cairo_surface_t *s = pc_load(path, L.width, L.height);
    assert_cells(s, &L, w);
    int imax = 0;
    for (int i = 0; i < R * C; i++)
        if (w[i] > w[imax]) imax = i;
    int x = L.grid_x + (imax % C) * L.cell + 3, y = L.grid_y + (imax / C) * L.cell + 3;
    pc_assert_color(s, x, y, (viz_rgb){253, 231, 37}, 0, "the largest cell");
    pc_assert_color(s, L.grid_x + 3, L.grid_y + 3, (viz_rgb){68, 1, 84}, 0, "the zero cell");
    /* the colour bar: top and bottom of the ramp; white around the picture */
    pc_assert_color(s, L.bar_x + L.bar_w / 2, L.bar_y, viz_colormap(1), 0, "bar top");
    pc_assert_color(s, L.bar_x + L.bar_w / 2, L.bar_y + L.bar_h - 1, viz_colormap(0), 0,
                    "bar bottom");
    pc_assert_color(s, 1, 1, (viz_rgb){255, 255, 255}, 0, "background");
    /* text was drawn: row labels, column labels, the title, the bar's numbers */
    assert_true(inked(s, 0, L.grid_y, L.grid_x - 2, L.grid_y + R * L.cell) > 30);
    assert_true(inked(s, L.grid_x, L.grid_y - 30, L.grid_x + C * L.cell, L.grid_y - 2) > 30);
    assert_true(inked(s, 0, 0, L.width, 24) > 30);
    assert_true(inked(s, L.bar_x + L.bar_w + 2, L.bar_y - 8, L.width, L.bar_y + 10) > 5);
    cairo_surface_destroy(s);
}

/* Negative weights: the scale starts at the minimum, so 0 sits inside the ramp. */
static void test_negative_and_flat(void **state) {
    (void)state;
    float w[3] = {-1, 0, 1};
    const char *path = pc_path(dir, "neg.png");
    viz_heatmap_layout L;
    assert_int_equal(viz_heatmap_plan(w, 1, 3, NULL, NULL, NULL, &L), ATTN_OK);
    assert_true(L.lo == -1 && L.hi == 1);
    assert_int_equal(attn_heatmap_png(path, w, 1, 3, NULL, NULL, NULL), ATTN_OK);
    cairo_surface_t *s = pc_load(path, L.width, L.height);
    assert_cells(s, &L, w);
    pc_assert_color(s, L.grid_x + L.cell + 5, L.grid_y + 5, viz_colormap(0.5), 1, "zero");
    cairo_surface_destroy(s);
    /* all zeros: a 0..1 scale, every cell the bottom colour */
    float z[4] = {0, 0, 0, 0};
    assert_int_equal(viz_heatmap_plan(z, 2, 2, NULL, NULL, "", &L), ATTN_OK);
    assert_true(L.lo == 0 && L.hi == 1);
    assert_int_equal(attn_heatmap_png(path, z, 2, 2, NULL, NULL, ""), ATTN_OK);
    s = pc_load(path, L.width, L.height);
    assert_cells(s, &L, z);
    cairo_surface_destroy(s);
}

/* 60 tokens keep 16-pixel cells and every label; 300 thin out the labels, not the cells. */
static void test_sizes(void **state) {
    (void)state;
    enum { N = 300 };
    float *w = calloc((size_t)N * N, sizeof *w);
    char names[N][16];
    const char *labels[N];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "tok%d", i);
        labels[i] = names[i];
        for (int j = 0; j <= i; j++)
            w[i * N + j] = 1.0f / (float)(i + 1);
    }
    viz_heatmap_layout L;
    assert_int_equal(viz_heatmap_plan(w, 60, 60, labels, labels, "t", &L), ATTN_OK);
    assert_int_equal(L.cell, 16);
    assert_true(L.label_font >= 11);
    assert_int_equal(L.row_stride, 1);
    assert_int_equal(L.col_stride, 1);
    assert_int_equal(L.col_upright, 0);
    assert_true(L.width < 1300 && L.height < 1300);
    float *w60 = malloc(60 * 60 * sizeof *w60);
    for (int i = 0; i < 60; i++)
        memcpy(w60 + i * 60, w + i * N, 60 * sizeof *w60);
    const char *path = pc_path(dir, "sixty.png");
    assert_int_equal(attn_heatmap_png(path, w60, 60, 60, labels, labels, "t"), ATTN_OK);
    cairo_surface_t *s = pc_load(path, L.width, L.height);
    assert_cells(s, &L, w60);
    cairo_surface_destroy(s);
    free(w60);

    assert_int_equal(viz_heatmap_plan(w, N, N, labels, labels, "t", &L), ATTN_OK);
    assert_int_equal(L.cell, 3);
    assert_true(L.row_stride >= 4 && L.row_stride * L.cell >= L.label_font);
    assert_true(L.width < 1200 && L.height < 1200);
    /* single characters fit in a cell and stand upright */
    const char *chars[5] = {"a", "b", "c", "\xE2\x90\xA3", "."};
    assert_int_equal(viz_heatmap_plan(w, 5, 5, chars, chars, NULL, &L), ATTN_OK);
    assert_int_equal(L.col_upright, 1);
    free(w);
}

static void test_bad_input(void **state) {
    (void)state;
    float w[4] = {0.1f, 0.2f, 0.3f, 0.4f};
    const char *path = pc_path(dir, "bad.png");
    assert_int_equal(attn_heatmap_png(NULL, w, 2, 2, NULL, NULL, NULL), ATTN_ERR_INVALID);
    assert_int_equal(attn_heatmap_png("", w, 2, 2, NULL, NULL, NULL), ATTN_ERR_INVALID);
    assert_int_equal(attn_heatmap_png(path, NULL, 2, 2, NULL, NULL, NULL), ATTN_ERR_INVALID);
    assert_int_equal(attn_heatmap_png(path, w, 0, 2, NULL, NULL, NULL), ATTN_ERR_INVALID);
    assert_int_equal(attn_heatmap_png(path, w, 2, -1, NULL, NULL, NULL), ATTN_ERR_INVALID);
    assert_int_equal(attn_heatmap_png(path, w, 4097, 1, NULL, NULL, NULL), ATTN_ERR_INVALID);
    w[2] = NAN;
    assert_int_equal(attn_heatmap_png(path, w, 2, 2, NULL, NULL, NULL), ATTN_ERR_NUMERIC);
    w[2] = -INFINITY;
    assert_int_equal(attn_heatmap_png(path, w, 2, 2, NULL, NULL, NULL), ATTN_ERR_NUMERIC);
    assert_false(pc_exists(path));
    w[2] = 0.3f;
    const char *missing = pc_path(dir, "no/such/dir/x.png");
    assert_int_equal(attn_heatmap_png(missing, w, 2, 2, NULL, NULL, NULL), ATTN_ERR_IO);
    assert_non_null(strstr(attn_last_error(), "no/such/dir"));
    assert_int_equal(attn_heatmap_png(dir, w, 2, 2, NULL, NULL, NULL), ATTN_ERR_IO); /* a dir */
}

/* Labels and titles of any bytes draw (cairo would stop drawing at invalid UTF-8, which
 * viz_write_png reports) and long ones are cut. */
static void test_any_bytes(void **state) {
    (void)state;
    float w[16];
    for (int i = 0; i < 16; i++)
        w[i] = (float)i;
    const char *rows[4] = {"\xFF\xFE", "\xC3", NULL, "\xED\xA0\x80\n\t\x01"};
    char huge[2000];
    memset(huge, 'W', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    const char *cols[4] = {"\xC0\xAF", huge, "", "ok \xE2\x9C\x93"};
    const char *path = pc_path(dir, "bytes.png");
    viz_heatmap_layout L;
    assert_int_equal(viz_heatmap_plan(w, 4, 4, rows, cols, "\xF0\x9F\x98", &L), ATTN_OK);
    assert_int_equal(attn_heatmap_png(path, w, 4, 4, rows, cols, "\xF0\x9F\x98"), ATTN_OK);
    assert_true(L.grid_y < 20 * 14 + 60); /* the 1999-character label was cut to 20 */
    cairo_surface_t *s = pc_load(path, L.width, L.height);
    assert_cells(s, &L, w);
    assert_true(inked(s, 0, L.grid_y, L.grid_x - 2, L.grid_y + 4 * L.cell) > 20);
    cairo_surface_destroy(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cells_labels_bar),
        cmocka_unit_test(test_negative_and_flat),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_any_bytes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
