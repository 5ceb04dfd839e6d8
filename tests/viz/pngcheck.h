/* tests/viz/pngcheck.h: reading back the PNGs the viz tests write (cairo's own PNG reader), and
 * a scratch directory for them. Include after defining _POSIX_C_SOURCE 200809L (mkdtemp). */
#ifndef ATTN_TESTS_VIZ_PNGCHECK_H
#define ATTN_TESTS_VIZ_PNGCHECK_H

#include <cairo.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "viz/colormap.h"

/* A fresh directory under /tmp; static buffer. */
static inline const char *pc_tmpdir(void) {
    static char dir[64];
    strcpy(dir, "/tmp/attn_viz_XXXXXX");
    assert_non_null(mkdtemp(dir));
    return dir;
}

/* dir/name in a static buffer (one at a time). */
static inline const char *pc_path(const char *dir, const char *name) {
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

/* Fails unless the file starts with the 8-byte PNG signature. */
static inline void pc_assert_png_signature(const char *path) {
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    unsigned char head[8] = {0};
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fread(head, 1, 8, f), 8);
    fclose(f);
    assert_memory_equal(head, sig, 8);
}

/* The PNG at path as a cairo image (checked signature, loaded without error, given size). */
static inline cairo_surface_t *pc_load(const char *path, int width, int height) {
    pc_assert_png_signature(path);
    cairo_surface_t *s = cairo_image_surface_create_from_png(path);
    assert_int_equal(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
    assert_int_equal(cairo_image_surface_get_width(s), width);
    assert_int_equal(cairo_image_surface_get_height(s), height);
    cairo_format_t f = cairo_image_surface_get_format(s);
    assert_true(f == CAIRO_FORMAT_RGB24 || f == CAIRO_FORMAT_ARGB32);
    return s;
}

static inline viz_rgb pc_pixel(cairo_surface_t *s, int x, int y) {
    assert_true(x >= 0 && y >= 0 && x < cairo_image_surface_get_width(s) &&
                y < cairo_image_surface_get_height(s));
    const unsigned char *row =
        cairo_image_surface_get_data(s) + (size_t)y * cairo_image_surface_get_stride(s);
    uint32_t px;
    memcpy(&px, row + 4 * (size_t)x, 4); /* native-endian 0xAARRGGBB */
    return (viz_rgb){(uint8_t)(px >> 16), (uint8_t)(px >> 8), (uint8_t)px};
}

/* Largest channel difference between two colours. */
static inline int pc_distance(viz_rgb a, viz_rgb b) {
    int d = abs(a.r - b.r), e = abs(a.g - b.g), f = abs(a.b - b.b);
    return d > e ? (d > f ? d : f) : (e > f ? e : f);
}

static inline void pc_assert_color(cairo_surface_t *s, int x, int y, viz_rgb want, int tol,
                                   const char *what) {
    viz_rgb got = pc_pixel(s, x, y);
    if (pc_distance(got, want) > tol)
        fail_msg("%s: pixel (%d, %d) is (%d, %d, %d), want (%d, %d, %d)", what, x, y, got.r, got.g,
                 got.b, want.r, want.g, want.b);
}

/* Frees cairo's process-wide font caches, which LeakSanitizer would otherwise report. */
static inline int pc_release_fonts(void **state) {
    (void)state;
    cairo_debug_reset_static_data();
    return 0;
}

static inline int pc_exists(const char *path) {
    return access(path, F_OK) == 0;
}

#endif
