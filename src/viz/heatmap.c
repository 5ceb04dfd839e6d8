/* viz/heatmap.c: a matrix as a PNG heatmap with labelled rows and columns and a colour bar.
 *
 *     [            title            ]
 *                 c c c c   (column labels, rotated)
 *     row label  [grid     ]   [bar] hi
 *     row label  [         ]   [   ]
 *                              [   ] lo
 *
 * The picture is planned first (cell size, label strides, margins measured with the real font),
 * then drawn on a white canvas of exactly the planned size. */
#include "viz/heatmap.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn/viz.h"
#include "core/error.h"
#include "viz/colormap.h"
#include "viz/draw.h"
#include "viz/text.h"

#define MARGIN 14
#define GAP 6 /* between labels and the grid */
#define TITLE_FONT 15.0
#define BAR_FONT 11.0
#define GRID_TARGET 960.0 /* pixels the longer side of the grid aims at */
#define MAX_CELL 40
#define MIN_BAR 120
#define QUARTER_TURN 1.57079632679489661923 /* pi / 2 radians */

typedef struct {
    viz_heatmap_layout L;
    char **row_text, **col_text; /* sanitised labels, NULL where not drawn; NULL arrays: none */
    char *title;                 /* sanitised, NULL: none */
    char lo_text[32], hi_text[32];
    double title_y;
} heatmap_plan;

/* Errors of attn_heatmap_png other than the path and the weights' values. */
static attn_status check_args(const float *weights, int rows, int cols) {
    if (!weights) return attn_error(ATTN_ERR_INVALID, "heatmap: NULL weights");
    if (rows < 1 || cols < 1 || rows > VIZ_HEATMAP_MAX_SIDE || cols > VIZ_HEATMAP_MAX_SIDE)
        return attn_error(ATTN_ERR_INVALID, "heatmap: %d x %d is outside 1..%d on a side", rows,
                          cols, VIZ_HEATMAP_MAX_SIDE);
    return ATTN_OK;
}

/* The colour scale lo = min(0, min w) .. hi = max w (hi = lo + 1 when every weight is lo). */
static attn_status value_range(const float *w, long n, double *lo, double *hi) {
    double mn = 0, mx = -INFINITY;
    for (long i = 0; i < n; i++) {
        if (!isfinite(w[i]))
            return attn_error(ATTN_ERR_NUMERIC, "heatmap: weight %ld is %g", i, (double)w[i]);
        if (w[i] < mn) mn = w[i];
        if (w[i] > mx) mx = w[i];
    }
    *lo = mn;
    *hi = mx > mn ? mx : mn + 1;
    return ATTN_OK;
}

/* Frees n sanitised labels (NULL entries allowed) and the array; NULL is allowed. */
static void free_labels(char **text, int n) {
    for (int i = 0; text && i < n; i++)
        free(text[i]);
    free(text);
}

/* Sanitised copies of every stride-th label of raw (n of them); *out stays NULL if raw is. */
static attn_status make_labels(const char *const *raw, int n, int stride, char ***out) {
    *out = NULL;
    if (!raw) return ATTN_OK;
    char **text = calloc((size_t)n, sizeof *text);
    if (!text) return attn_error(ATTN_ERR_NOMEM, "heatmap: out of memory for labels");
    for (int i = 0; i < n; i += stride) {
        text[i] = viz_text_sanitize(raw[i], VIZ_TEXT_DISPLAY, VIZ_HEATMAP_LABEL_CHARS);
        if (!text[i]) {
            free_labels(text, n);
            return attn_error(ATTN_ERR_NOMEM, "heatmap: out of memory for labels");
        }
    }
    *out = text;
    return ATTN_OK;
}

/* Width of the widest label drawn, in cr's current font. */
static double widest(cairo_t *cr, char **text, int n) {
    double w = 0;
    for (int i = 0; text && i < n; i++)
        if (text[i]) w = fmax(w, viz_text_width(cr, text[i]));
    return w;
}

/* Frees what plan() allocated and zeroes the plan. */
static void plan_free(heatmap_plan *p) {
    free_labels(p->row_text, p->L.rows);
    free_labels(p->col_text, p->L.cols);
    free(p->title);
    memset(p, 0, sizeof *p);
}

/* Cell size and label strides for the grid, then margins measured with the fonts. */
static attn_status plan(const float *weights, int rows, int cols, const char *const *row_labels,
                        const char *const *col_labels, const char *title, heatmap_plan *p) {
    memset(p, 0, sizeof *p);
    viz_heatmap_layout *L = &p->L;
    ATTN_TRY(check_args(weights, rows, cols));
    ATTN_TRY(value_range(weights, (long)rows * cols, &L->lo, &L->hi));
    L->rows = rows, L->cols = cols;
    int side = rows > cols ? rows : cols;
    L->cell = (int)(GRID_TARGET / side);
    L->cell = L->cell < 1 ? 1 : L->cell > MAX_CELL ? MAX_CELL : L->cell;
    L->label_font = fmin(13.0, fmax(8.0, 0.7 * L->cell));
    /* labels at least a font height (plus a little air) apart */
    L->row_stride = L->col_stride = (int)ceil((L->label_font + 2.0) / L->cell);
    snprintf(p->lo_text, sizeof p->lo_text, "%.3g", L->lo);
    snprintf(p->hi_text, sizeof p->hi_text, "%.3g", L->hi);

    attn_status st = make_labels(row_labels, rows, L->row_stride, &p->row_text);
    if (st == ATTN_OK) st = make_labels(col_labels, cols, L->col_stride, &p->col_text);
    if (st == ATTN_OK && title && *title) {
        p->title = viz_text_sanitize(title, VIZ_TEXT_DISPLAY, 160);
        if (!p->title) st = attn_error(ATTN_ERR_NOMEM, "heatmap: out of memory for the title");
    }
    cairo_t *cr = st == ATTN_OK ? viz_measure_begin() : NULL;
    if (st == ATTN_OK && !cr) st = attn_error(ATTN_ERR_NOMEM, "heatmap: cairo cannot allocate");
    if (st != ATTN_OK) {
        plan_free(p);
        return st;
    }
    viz_set_font(cr, L->label_font, 0);
    double row_w = widest(cr, p->row_text, rows), col_h = widest(cr, p->col_text, cols);
    viz_set_font(cr, BAR_FONT, 0);
    double bar_text_w = fmax(viz_text_width(cr, p->lo_text), viz_text_width(cr, p->hi_text));
    viz_set_font(cr, TITLE_FONT, 1);
    double title_w = p->title ? viz_text_width(cr, p->title) : 0;
    viz_measure_end(cr);

    int y = MARGIN;
    if (p->title) {
        p->title_y = y + TITLE_FONT / 2;
        y += (int)TITLE_FONT + 12;
    }
    /* column labels as narrow as a cell (single characters, say) stand upright */
    L->col_upright = p->col_text && col_h <= L->cell - 2;
    if (L->col_upright) col_h = 1.2 * L->label_font;
    L->grid_y = y + (p->col_text ? (int)ceil(col_h) + GAP : BAR_FONT / 2);
    L->grid_x = MARGIN + (p->row_text ? (int)ceil(row_w) + GAP : 0);
    int grid_w = cols * L->cell, grid_h = rows * L->cell;
    L->bar_x = L->grid_x + grid_w + 16, L->bar_y = L->grid_y;
    L->bar_w = 14, L->bar_h = grid_h > MIN_BAR ? grid_h : MIN_BAR;
    L->width = L->bar_x + L->bar_w + 6 + (int)ceil(bar_text_w) + MARGIN;
    if (L->width < (int)ceil(title_w) + 2 * MARGIN) L->width = (int)ceil(title_w) + 2 * MARGIN;
    L->height = L->grid_y + (grid_h > L->bar_h ? grid_h : L->bar_h) + MARGIN;
    return ATTN_OK;
}

attn_status viz_heatmap_plan(const float *weights, int rows, int cols,
                             const char *const *row_labels, const char *const *col_labels,
                             const char *title, viz_heatmap_layout *out) {
    heatmap_plan p;
    ATTN_TRY(plan(weights, rows, cols, row_labels, col_labels, title, &p));
    *out = p.L;
    plan_free(&p);
    return ATTN_OK;
}

/* ---- drawing ------------------------------------------------------------------------------ */

/* Every cell, filled with the ramp colour of its value. */
static void draw_cells(cairo_t *cr, const viz_heatmap_layout *L, const float *w) {
    double span = L->hi - L->lo;
    for (int i = 0; i < L->rows; i++) {
        for (int j = 0; j < L->cols; j++) {
            viz_set_rgb(cr, viz_colormap((w[(long)i * L->cols + j] - L->lo) / span));
            cairo_rectangle(cr, L->grid_x + j * L->cell, L->grid_y + i * L->cell, L->cell, L->cell);
            cairo_fill(cr);
        }
    }
}

/* Row labels right-aligned left of the grid; column labels above it, upright or rotated. */
static void draw_labels(cairo_t *cr, const heatmap_plan *p) {
    const viz_heatmap_layout *L = &p->L;
    cairo_set_source_rgb(cr, VIZ_INK, VIZ_INK, VIZ_INK);
    viz_set_font(cr, L->label_font, 0);
    double half = L->cell / 2.0;
    for (int i = 0; p->row_text && i < L->rows; i++)
        if (p->row_text[i])
            viz_text(cr, p->row_text[i], L->grid_x - GAP, L->grid_y + i * L->cell + half,
                     VIZ_ALIGN_RIGHT);
    for (int j = 0; p->col_text && j < L->cols; j++) {
        if (!p->col_text[j]) continue;
        if (L->col_upright) {
            viz_text(cr, p->col_text[j], L->grid_x + j * L->cell + half,
                     L->grid_y - GAP - 0.6 * L->label_font, VIZ_ALIGN_CENTER);
            continue;
        }
        /* rotated a quarter turn anticlockwise: the text reads upwards from the grid */
        cairo_save(cr);
        cairo_translate(cr, L->grid_x + j * L->cell + half, L->grid_y - GAP);
        cairo_rotate(cr, -QUARTER_TURN);
        viz_text(cr, p->col_text[j], 0, 0, VIZ_ALIGN_LEFT);
        cairo_restore(cr);
    }
}

/* The colour bar, one pixel row per shade, framed, with lo and hi written beside its ends. */
static void draw_bar(cairo_t *cr, const heatmap_plan *p) {
    const viz_heatmap_layout *L = &p->L;
    for (int y = 0; y < L->bar_h; y++) {
        viz_set_rgb(cr, viz_colormap(1.0 - (double)y / (L->bar_h - 1)));
        cairo_rectangle(cr, L->bar_x, L->bar_y + y, L->bar_w, 1);
        cairo_fill(cr);
    }
    cairo_set_source_rgb(cr, VIZ_INK, VIZ_INK, VIZ_INK);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, L->bar_x - 0.5, L->bar_y - 0.5, L->bar_w + 1, L->bar_h + 1);
    cairo_stroke(cr);
    viz_set_font(cr, BAR_FONT, 0);
    double tx = L->bar_x + L->bar_w + 6;
    viz_text(cr, p->hi_text, tx, L->bar_y + 4, VIZ_ALIGN_LEFT);
    viz_text(cr, p->lo_text, tx, L->bar_y + L->bar_h - 4, VIZ_ALIGN_LEFT);
}

attn_status attn_heatmap_png(const char *path, const float *weights, int rows, int cols,
                             const char *const *row_labels, const char *const *col_labels,
                             const char *title) {
    if (!path || !*path) return attn_error(ATTN_ERR_INVALID, "heatmap: NULL or empty path");
    heatmap_plan p;
    ATTN_TRY(plan(weights, rows, cols, row_labels, col_labels, title, &p));
    cairo_surface_t *surface;
    cairo_t *cr;
    attn_status st = viz_canvas_create(p.L.width, p.L.height, &surface, &cr);
    if (st == ATTN_OK) {
        draw_cells(cr, &p.L, weights);
        draw_labels(cr, &p);
        draw_bar(cr, &p);
        if (p.title) {
            cairo_set_source_rgb(cr, VIZ_INK, VIZ_INK, VIZ_INK);
            viz_set_font(cr, TITLE_FONT, 1);
            viz_text(cr, p.title, p.L.width / 2.0, p.title_y, VIZ_ALIGN_CENTER);
        }
        st = viz_write_png(surface, cr, path, "heatmap");
        cairo_destroy(cr);
        cairo_surface_destroy(surface);
    }
    plan_free(&p);
    return st;
}
