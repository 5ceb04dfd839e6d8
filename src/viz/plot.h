/* viz/plot.h: axes with round ticks, and the geometry of attn_plot_png (attn/viz.h), exposed so
 * that tests can find the lines in the picture. */
#ifndef ATTN_VIZ_PLOT_H
#define ATTN_VIZ_PLOT_H

#include <stddef.h>

#include "attn/viz.h"

#define VIZ_PLOT_WIDTH 960
#define VIZ_PLOT_HEIGHT 540
#define VIZ_PLOT_MAX_SERIES 64
#define VIZ_PLOT_MARKERS_UP_TO 40 /* series with at most this many points get a dot per point */

/* An axis from lo to hi with a tick every step (step = 1, 2 or 5 times a power of ten). */
typedef struct {
    double lo, hi, step;
} viz_axis;

/* The round axis covering [min, max] with about `target` intervals (Heckbert's "nice numbers").
 * A constant (max - min below 1e-9 of their size) is widened by 10% of |min|, or by 1 around 0;
 * non-finite bounds give [0, 1]. */
viz_axis viz_axis_nice(double min, double max, int target);

/* Writes the tick value v as text with as many decimals as the step needs ("0.05", "1500"). */
void viz_axis_format(const viz_axis *a, double v, char *buf, size_t n);

typedef struct {
    int width, height;
    int px, py, pw, ph; /* the plot area: left, top, width, height in pixels */
    viz_axis x, y[2];   /* y[0] left, y[1] right */
    int dual;           /* a right axis is drawn (some series on each side) */
} viz_plot_layout;

/* Plans the picture attn_plot_png draws (validating the arguments the same way). */
attn_status viz_plot_plan(const attn_series *series, int n_series, const char *title,
                          const char *x_label, viz_plot_layout *out);

/* The axis series i is drawn against (0 left, 1 right) under layout L. */
int viz_plot_series_axis(const viz_plot_layout *L, const attn_series *s);

/* Pixel coordinates of a data point. */
double viz_plot_px(const viz_plot_layout *L, double x);
double viz_plot_py(const viz_plot_layout *L, int axis, double y);

#endif
