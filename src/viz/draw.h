/* viz/draw.h: what the heatmap and the plot share: fonts, text, colours and writing a PNG.
 *
 * Text uses cairo's "toy" font API with the fontconfig family "sans-serif" (DejaVu Sans on
 * Debian): enough for labels, no shaping library needed. Every string drawn must be valid UTF-8
 * (viz/text.h); viz_text makes sure of it. */
#ifndef ATTN_VIZ_DRAW_H
#define ATTN_VIZ_DRAW_H

#include <cairo.h>

#include "attn/status.h"
#include "viz/colormap.h"

/* Text colour, axes and frames: a near-black grey. */
#define VIZ_INK 0.15

void viz_set_rgb(cairo_t *cr, viz_rgb c);
void viz_set_font(cairo_t *cr, double size, int bold);

/* Width in pixels (x advance) of valid UTF-8 text in cr's current font. */
double viz_text_width(cairo_t *cr, const char *text);

typedef enum {
    VIZ_ALIGN_LEFT = 0,
    VIZ_ALIGN_CENTER = 1,
    VIZ_ALIGN_RIGHT = 2,
} viz_align;

/* Draws valid UTF-8 text with its baseline centre-line at y ("middle" of lower-case letters) so
 * that it sits vertically centred on y, aligned on x as asked. */
void viz_text(cairo_t *cr, const char *text, double x, double y, viz_align align);

/* A scratch context for measuring text before the picture's size is known; free with
 * viz_measure_end. NULL when cairo cannot allocate. */
cairo_t *viz_measure_begin(void);
void viz_measure_end(cairo_t *cr);

/* A white RGB24 canvas of w x h pixels and its context; ATTN_ERR_NOMEM on failure. */
attn_status viz_canvas_create(int w, int h, cairo_surface_t **surface, cairo_t **cr);

/* Encodes the surface as PNG and replaces path atomically (attn_file_write_atomic). Also checks
 * that drawing on cr went well (a cairo error in the context is ATTN_ERR_NOMEM or
 * ATTN_ERR_INVALID with cairo's reason). what names the picture in messages ("heatmap"). */
attn_status viz_write_png(cairo_surface_t *surface, cairo_t *cr, const char *path,
                          const char *what);

#endif
