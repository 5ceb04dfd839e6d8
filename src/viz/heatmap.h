/* viz/heatmap.h: the geometry of attn_heatmap_png (attn/viz.h), exposed so that tests can find
 * the cells in the picture. */
#ifndef ATTN_VIZ_HEATMAP_H
#define ATTN_VIZ_HEATMAP_H

#include "attn/status.h"

#define VIZ_HEATMAP_MAX_SIDE 4096 /* rows and cols */
#define VIZ_HEATMAP_LABEL_CHARS 20

typedef struct {
    int width, height;    /* of the picture */
    int rows, cols, cell; /* cell: side of a square cell in pixels */
    int grid_x, grid_y;   /* top-left corner of cell (0, 0); cell (i, j) starts at
                             (grid_x + j * cell, grid_y + i * cell) */
    int row_stride;       /* every row_stride-th row label is drawn (1: all) */
    int col_stride;       /* the same for column labels */
    int col_upright;      /* column labels fit in a cell and are drawn upright, not rotated */
    double label_font;    /* pixels */
    int bar_x, bar_y, bar_w, bar_h; /* the colour bar; hi at the top, lo at the bottom */
    double lo, hi;                  /* the colour scale: min(0, min weight) .. max weight */
} viz_heatmap_layout;

/* Plans the picture attn_heatmap_png draws for these arguments (which it validates the same way,
 * see attn/viz.h for the errors). */
attn_status viz_heatmap_plan(const float *weights, int rows, int cols,
                             const char *const *row_labels, const char *const *col_labels,
                             const char *title, viz_heatmap_layout *out);

#endif
