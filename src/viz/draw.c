/* viz/draw.c: fonts, text placement, canvases and PNG files for the pictures. */
#include "viz/draw.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "io/file.h"
#include "viz/text.h"

void viz_set_rgb(cairo_t *cr, viz_rgb c) {
    cairo_set_source_rgb(cr, c.r / 255.0, c.g / 255.0, c.b / 255.0);
}

void viz_set_font(cairo_t *cr, double size, int bold) {
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
}

double viz_text_width(cairo_t *cr, const char *text) {
    cairo_text_extents_t e;
    cairo_text_extents(cr, text, &e);
    return e.x_advance;
}

void viz_text(cairo_t *cr, const char *text, double x, double y, viz_align align) {
    cairo_font_extents_t fe;
    cairo_font_extents(cr, &fe);
    double w = align == VIZ_ALIGN_LEFT ? 0 : viz_text_width(cr, text);
    double dx = align == VIZ_ALIGN_CENTER ? -w / 2 : align == VIZ_ALIGN_RIGHT ? -w : 0;
    /* the middle of the ascent: lower-case and capital letters look centred on y */
    cairo_move_to(cr, x + dx, y + fe.ascent * 0.36);
    cairo_show_text(cr, text);
}

cairo_t *viz_measure_begin(void) {
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1);
    cairo_t *cr = cairo_create(s);
    cairo_surface_destroy(s); /* the context keeps its own reference */
    if (cairo_status(cr) != CAIRO_STATUS_SUCCESS) {
        cairo_destroy(cr);
        return NULL;
    }
    return cr;
}

void viz_measure_end(cairo_t *cr) {
    if (cr) cairo_destroy(cr);
}

attn_status viz_canvas_create(int w, int h, cairo_surface_t **surface, cairo_t **cr) {
    *surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    *cr = cairo_create(*surface);
    if (cairo_surface_status(*surface) != CAIRO_STATUS_SUCCESS ||
        cairo_status(*cr) != CAIRO_STATUS_SUCCESS) {
        cairo_destroy(*cr);
        cairo_surface_destroy(*surface);
        *surface = NULL, *cr = NULL;
        return attn_error(ATTN_ERR_NOMEM, "cannot create a %d x %d picture", w, h);
    }
    cairo_set_source_rgb(*cr, 1, 1, 1);
    cairo_paint(*cr);
    return ATTN_OK;
}

/* cairo's PNG writer callback: appends to the viz_buf in closure. */
static cairo_status_t png_to_buf(void *closure, const unsigned char *data, unsigned int length) {
    return viz_buf_append(closure, data, length) ? CAIRO_STATUS_NO_MEMORY : CAIRO_STATUS_SUCCESS;
}

/* A cairo status as an attn error naming the picture. */
static attn_status cairo_failure(cairo_status_t st, const char *what) {
    return attn_error(st == CAIRO_STATUS_NO_MEMORY ? ATTN_ERR_NOMEM : ATTN_ERR_INVALID,
                      "%s: cairo: %s", what, cairo_status_to_string(st));
}

attn_status viz_write_png(cairo_surface_t *surface, cairo_t *cr, const char *path,
                          const char *what) {
    if (cr && cairo_status(cr) != CAIRO_STATUS_SUCCESS)
        return cairo_failure(cairo_status(cr), what);
    cairo_surface_flush(surface);
    viz_buf png = {0};
    cairo_status_t st = cairo_surface_write_to_png_stream(surface, png_to_buf, &png);
    if (st != CAIRO_STATUS_SUCCESS) {
        viz_buf_free(&png);
        return cairo_failure(st, what);
    }
    const void *parts[1] = {png.data};
    size_t sizes[1] = {png.len};
    attn_status status = attn_file_write_atomic(path, parts, sizes, 1);
    viz_buf_free(&png);
    if (status != ATTN_OK) return attn_error_context(status, "writing the %s", what);
    return ATTN_OK;
}
