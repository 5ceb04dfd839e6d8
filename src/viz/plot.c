/* viz/plot.c: line plots of training curves, with a second y axis when two kinds of numbers
 * (a loss and an accuracy, say) share one picture.
 *
 * The picture is planned first (axes with round ticks, margins measured with the real font),
 * then drawn: grid, axes and ticks, the series clipped to the plot area, the legend, the title. */
#include "viz/plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "viz/colormap.h"
#include "viz/draw.h"
#include "viz/text.h"

#define MARGIN 14
#define TITLE_FONT 15.0
#define FONT 12.0
#define TICK_LEN 5
#define TARGET_TICKS 6
#define NAME_CHARS 48
#define GRID_GREY 0.9
#define QUARTER_TURN 1.57079632679489661923 /* pi / 2 radians */

/* ---- axes --------------------------------------------------------------------------------- */

/* 1, 2, 5 or 10 times a power of ten, near x > 0 */
static double nice_step(double x) {
    double p = pow(10, floor(log10(x))), f = x / p;
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * p;
}

viz_axis viz_axis_nice(double min, double max, int target) {
    if (!isfinite(min) || !isfinite(max) || min > max) min = 0, max = 1;
    if (max - min <= 1e-9 * fmax(fabs(min), fabs(max))) { /* constant, to double's precision */
        double pad = min != 0 ? 0.1 * fabs(min) : 1;
        min -= pad, max += pad;
    }
    if (target < 1) target = 1;
    viz_axis a;
    a.step = nice_step((max - min) / target);
    /* a little slack so that 0.3 / 0.1 = 2.9999999 still gives the tick at 0.3 */
    a.lo = floor(min / a.step + 1e-9) * a.step;
    a.hi = ceil(max / a.step - 1e-9) * a.step;
    if (a.lo > min) a.lo -= a.step; /* the slack must never leave data outside */
    if (a.hi < max) a.hi += a.step;
    return a;
}

void viz_axis_format(const viz_axis *a, double v, char *buf, size_t n) {
    if (fabs(v) < a->step * 1e-9) v = 0; /* no "-0" or "1e-17" for the zero tick */
    int decimals = (int)ceil(-log10(a->step) - 1e-9);
    if (decimals < 0) decimals = 0;
    double big = fmax(fabs(a->lo), fabs(a->hi));
    if (big >= 1e6 || decimals > 6)
        snprintf(buf, n, "%.4g", v);
    else
        snprintf(buf, n, "%.*f", decimals, v);
}

/* The ticks of an axis: lo, lo + step, ..., hi (at most 64). */
static int axis_ticks(const viz_axis *a, double *v) {
    int n = 0;
    for (int k = 0; k < 64; k++) {
        double t = a->lo + k * a->step;
        if (t > a->hi + a->step * 1e-6) break;
        v[n++] = t;
    }
    return n;
}

/* Width of the widest tick label of an axis, in cr's current font. */
static double tick_labels_width(cairo_t *cr, const viz_axis *a) {
    double ticks[64], w = 0;
    char text[64];
    int n = axis_ticks(a, ticks);
    for (int i = 0; i < n; i++) {
        viz_axis_format(a, ticks[i], text, sizeof text);
        w = fmax(w, viz_text_width(cr, text));
    }
    return w;
}

/* ---- plan --------------------------------------------------------------------------------- */

typedef struct {
    viz_plot_layout L;
    const attn_series *series;
    int n;
    char *title, *x_label;
    char **names;       /* legend entries */
    char *axis_name[2]; /* the names of an axis's series, joined */
    int axis_owner[2];  /* the one series on an axis (its colour marks the axis), or -1 */
} plot_plan;

/* Errors of attn_plot_png other than the path. */
static attn_status check_args(const attn_series *series, int n) {
    if (n < 1 || n > VIZ_PLOT_MAX_SERIES || !series)
        return attn_error(ATTN_ERR_INVALID, "plot: need 1 to %d series, got %d%s",
                          VIZ_PLOT_MAX_SERIES, n, series ? "" : " (NULL)");
    for (int i = 0; i < n; i++)
        if (series[i].n < 0 || (series[i].n > 0 && !series[i].y))
            return attn_error(ATTN_ERR_INVALID, "plot: series %d has n = %d and %s y", i,
                              series[i].n, series[i].y ? "a" : "no");
    return ATTN_OK;
}

/* x of point i: s->x[i], or i when the series has no x. */
static double point_x(const attn_series *s, int i) {
    return s->x ? s->x[i] : i;
}

int viz_plot_series_axis(const viz_plot_layout *L, const attn_series *s) {
    return L->dual && s->right_axis ? 1 : 0;
}

/* Data ranges of x and of each y axis over the finite points. */
static void data_ranges(plot_plan *p, double xr[2], double yr[2][2]) {
    xr[0] = yr[0][0] = yr[1][0] = INFINITY;
    xr[1] = yr[0][1] = yr[1][1] = -INFINITY;
    for (int k = 0; k < p->n; k++) {
        const attn_series *s = &p->series[k];
        int axis = viz_plot_series_axis(&p->L, s);
        for (int i = 0; i < s->n; i++) {
            double x = point_x(s, i), y = s->y[i];
            if (!isfinite(x) || !isfinite(y)) continue;
            xr[0] = fmin(xr[0], x), xr[1] = fmax(xr[1], x);
            yr[axis][0] = fmin(yr[axis][0], y), yr[axis][1] = fmax(yr[axis][1], y);
        }
    }
}

/* Frees what plan() allocated and zeroes the plan. */
static void plan_free(plot_plan *p) {
    for (int i = 0; p->names && i < p->n; i++)
        free(p->names[i]);
    free(p->names);
    free(p->title);
    free(p->x_label);
    free(p->axis_name[0]);
    free(p->axis_name[1]);
    memset(p, 0, sizeof *p);
}

/* Legend entries, and each axis's name: its series' names joined by ", ". */
static attn_status plan_names(plot_plan *p) {
    p->names = calloc((size_t)p->n, sizeof *p->names);
    viz_buf axis[2] = {{0}, {0}};
    int count[2] = {0, 0};
    p->axis_owner[0] = p->axis_owner[1] = -1;
    for (int k = 0; p->names && k < p->n; k++) {
        char fallback[32];
        snprintf(fallback, sizeof fallback, "series %d", k);
        const char *name = p->series[k].name ? p->series[k].name : fallback;
        p->names[k] = viz_text_sanitize(name, VIZ_TEXT_DISPLAY, NAME_CHARS);
        if (!p->names[k]) break;
        int a = viz_plot_series_axis(&p->L, &p->series[k]);
        if (count[a]++) viz_buf_append(&axis[a], ", ", 2);
        viz_buf_append(&axis[a], p->names[k], strlen(p->names[k]));
        p->axis_owner[a] = count[a] == 1 ? k : -1;
    }
    for (int a = 0; a < 2; a++)
        p->axis_name[a] =
            axis[a].len ? viz_text_sanitize(axis[a].data, VIZ_TEXT_DISPLAY, 80) : NULL;
    int failed = !p->names || axis[0].failed || axis[1].failed;
    for (int k = 0; !failed && k < p->n; k++)
        failed = !p->names[k];
    for (int a = 0; a < 2; a++)
        failed |= axis[a].len && !p->axis_name[a];
    viz_buf_free(&axis[0]);
    viz_buf_free(&axis[1]);
    return failed ? attn_error(ATTN_ERR_NOMEM, "plot: out of memory for names") : ATTN_OK;
}

/* Axes from the data, names, and margins measured with the fonts; the plot area is what is
 * left of the fixed-size picture. */
static attn_status plan(const attn_series *series, int n, const char *title, const char *x_label,
                        plot_plan *p) {
    memset(p, 0, sizeof *p);
    ATTN_TRY(check_args(series, n));
    viz_plot_layout *L = &p->L;
    p->series = series, p->n = n;
    int left = 0, right = 0;
    for (int k = 0; k < n; k++)
        series[k].right_axis ? right++ : left++;
    L->dual = left && right;
    double xr[2], yr[2][2];
    data_ranges(p, xr, yr);
    L->x = viz_axis_nice(xr[0], xr[1], TARGET_TICKS);
    L->y[0] = viz_axis_nice(yr[0][0], yr[0][1], TARGET_TICKS);
    L->y[1] = L->dual ? viz_axis_nice(yr[1][0], yr[1][1], TARGET_TICKS) : L->y[0];

    attn_status st = plan_names(p);
    if (st == ATTN_OK && title && *title &&
        !(p->title = viz_text_sanitize(title, VIZ_TEXT_DISPLAY, 120)))
        st = attn_error(ATTN_ERR_NOMEM, "plot: out of memory");
    if (st == ATTN_OK && x_label && *x_label &&
        !(p->x_label = viz_text_sanitize(x_label, VIZ_TEXT_DISPLAY, 80)))
        st = attn_error(ATTN_ERR_NOMEM, "plot: out of memory");
    cairo_t *cr = st == ATTN_OK ? viz_measure_begin() : NULL;
    if (st == ATTN_OK && !cr) st = attn_error(ATTN_ERR_NOMEM, "plot: cairo cannot allocate");
    if (st != ATTN_OK) {
        plan_free(p);
        return st;
    }
    viz_set_font(cr, FONT, 0);
    double tick_w[2] = {tick_labels_width(cr, &L->y[0]), tick_labels_width(cr, &L->y[1])};
    viz_measure_end(cr);

    L->width = VIZ_PLOT_WIDTH, L->height = VIZ_PLOT_HEIGHT;
    /* side margin: axis name (rotated) + tick labels + tick marks */
    int side[2];
    for (int a = 0; a < 2; a++)
        side[a] =
            MARGIN + (p->axis_name[a] ? (int)FONT + 10 : 0) + (int)ceil(tick_w[a]) + TICK_LEN + 6;
    if (!L->dual) side[1] = 3 * MARGIN;
    int top = MARGIN + (p->title ? (int)TITLE_FONT + 16 : 6);
    int bottom = MARGIN + TICK_LEN + (int)FONT + 8 + (p->x_label ? (int)FONT + 12 : 0);
    L->px = side[0], L->py = top;
    L->pw = L->width - side[0] - side[1], L->ph = L->height - top - bottom;
    return ATTN_OK;
}

attn_status viz_plot_plan(const attn_series *series, int n_series, const char *title,
                          const char *x_label, viz_plot_layout *out) {
    plot_plan p;
    ATTN_TRY(plan(series, n_series, title, x_label, &p));
    *out = p.L;
    plan_free(&p);
    return ATTN_OK;
}

double viz_plot_px(const viz_plot_layout *L, double x) {
    return L->px + (x - L->x.lo) / (L->x.hi - L->x.lo) * L->pw;
}

double viz_plot_py(const viz_plot_layout *L, int axis, double y) {
    const viz_axis *a = &L->y[axis ? 1 : 0];
    return L->py + L->ph - (y - a->lo) / (a->hi - a->lo) * L->ph;
}

/* ---- drawing ------------------------------------------------------------------------------ */

/* The colour of an axis's text: its one series' colour, or ink when it has several. */
static void set_axis_color(cairo_t *cr, const plot_plan *p, int axis) {
    if (p->L.dual && p->axis_owner[axis] >= 0)
        viz_set_rgb(cr, viz_series_color(p->axis_owner[axis]));
    else
        cairo_set_source_rgb(cr, VIZ_INK, VIZ_INK, VIZ_INK);
}

/* Light grid lines at the x ticks and at the left axis's y ticks. */
static void draw_grid(cairo_t *cr, const viz_plot_layout *L) {
    double ticks[64];
    cairo_set_source_rgb(cr, GRID_GREY, GRID_GREY, GRID_GREY);
    cairo_set_line_width(cr, 1);
    int n = axis_ticks(&L->x, ticks);
    for (int i = 0; i < n; i++) {
        double x = floor(viz_plot_px(L, ticks[i])) + 0.5;
        cairo_move_to(cr, x, L->py), cairo_line_to(cr, x, L->py + L->ph);
    }
    n = axis_ticks(&L->y[0], ticks);
    for (int i = 0; i < n; i++) {
        double y = floor(viz_plot_py(L, 0, ticks[i])) + 0.5;
        cairo_move_to(cr, L->px, y), cairo_line_to(cr, L->px + L->pw, y);
    }
    cairo_stroke(cr);
}

/* One y axis: line, ticks, tick labels and its rotated name. */
static void draw_y_axis(cairo_t *cr, const plot_plan *p, int axis) {
    const viz_plot_layout *L = &p->L;
    double ticks[64];
    char text[64];
    double x = axis ? L->px + L->pw + 0.5 : L->px - 0.5, dir = axis ? 1 : -1;
    cairo_set_source_rgb(cr, VIZ_INK, VIZ_INK, VIZ_INK);
    cairo_move_to(cr, x, L->py), cairo_line_to(cr, x, L->py + L->ph);
    int n = axis_ticks(&L->y[axis], ticks);
    for (int i = 0; i < n; i++) {
        double y = floor(viz_plot_py(L, axis, ticks[i])) + 0.5;
        cairo_move_to(cr, x, y), cairo_line_to(cr, x + dir * TICK_LEN, y);
    }
    cairo_stroke(cr);
    set_axis_color(cr, p, axis);
    viz_set_font(cr, FONT, 0);
    double widest = 0;
    for (int i = 0; i < n; i++) {
        viz_axis_format(&L->y[axis], ticks[i], text, sizeof text);
        widest = fmax(widest, viz_text_width(cr, text));
        viz_text(cr, text, x + dir * (TICK_LEN + 4), viz_plot_py(L, axis, ticks[i]),
                 axis ? VIZ_ALIGN_LEFT : VIZ_ALIGN_RIGHT);
    }
    if (!p->axis_name[axis]) return;
    cairo_save(cr);
    cairo_translate(cr, x + dir * (TICK_LEN + 4 + widest + 6 + FONT / 2), L->py + L->ph / 2.0);
    cairo_rotate(cr, axis ? QUARTER_TURN : -QUARTER_TURN);
    viz_text(cr, p->axis_name[axis], 0, 0, VIZ_ALIGN_CENTER);
    cairo_restore(cr);
}

/* The x axis: line, ticks, tick labels and x_label below. */
static void draw_x_axis(cairo_t *cr, const plot_plan *p) {
    const viz_plot_layout *L = &p->L;
    double ticks[64], y = L->py + L->ph + 0.5;
    char text[64];
    cairo_set_source_rgb(cr, VIZ_INK, VIZ_INK, VIZ_INK);
    cairo_move_to(cr, L->px - 0.5, y), cairo_line_to(cr, L->px + L->pw + 0.5, y);
    int n = axis_ticks(&L->x, ticks);
    for (int i = 0; i < n; i++) {
        double x = floor(viz_plot_px(L, ticks[i])) + 0.5;
        cairo_move_to(cr, x, y), cairo_line_to(cr, x, y + TICK_LEN);
    }
    cairo_stroke(cr);
    viz_set_font(cr, FONT, 0);
    for (int i = 0; i < n; i++) {
        viz_axis_format(&L->x, ticks[i], text, sizeof text);
        viz_text(cr, text, viz_plot_px(L, ticks[i]), y + TICK_LEN + 4 + FONT / 2, VIZ_ALIGN_CENTER);
    }
    if (p->x_label)
        viz_text(cr, p->x_label, L->px + L->pw / 2.0, y + TICK_LEN + 2 * FONT + 12,
                 VIZ_ALIGN_CENTER);
}

/* A series as a polyline, broken at non-finite points, with dots when it has few points. */
static void draw_series(cairo_t *cr, const plot_plan *p, int k) {
    const viz_plot_layout *L = &p->L;
    const attn_series *s = &p->series[k];
    int axis = viz_plot_series_axis(L, s), open = 0;
    viz_set_rgb(cr, viz_series_color(k));
    cairo_set_line_width(cr, 2);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
    for (int i = 0; i < s->n; i++) {
        double x = point_x(s, i), y = s->y[i];
        if (!isfinite(x) || !isfinite(y)) {
            open = 0;
            continue;
        }
        double X = viz_plot_px(L, x), Y = viz_plot_py(L, axis, y);
        open ? cairo_line_to(cr, X, Y) : cairo_move_to(cr, X, Y);
        open = 1;
    }
    cairo_stroke(cr);
    if (s->n > VIZ_PLOT_MARKERS_UP_TO) return;
    for (int i = 0; i < s->n; i++) {
        double x = point_x(s, i), y = s->y[i];
        if (!isfinite(x) || !isfinite(y)) continue;
        cairo_new_sub_path(cr);
        cairo_arc(cr, viz_plot_px(L, x), viz_plot_py(L, axis, y), 3.0, 0, 4 * QUARTER_TURN);
    }
    cairo_fill(cr);
}

/* The legend box in the upper right corner of the plot area; as many entries as fit in the plot's
 * height, the last line saying how many more there are. */
static void draw_legend(cairo_t *cr, const plot_plan *p) {
    const viz_plot_layout *L = &p->L;
    const char *suffix = " (right)";
    char more[48] = "";
    double row = FONT + 8, swatch = 24;
    int fit = (int)((L->ph - 28) / row), shown = p->n;
    if (shown > fit) {
        shown = fit > 1 ? fit - 1 : 0;
        snprintf(more, sizeof more, "+ %d more", p->n - shown);
    }
    viz_set_font(cr, FONT, 0);
    double w = viz_text_width(cr, more);
    for (int k = 0; k < shown; k++) {
        double tw = viz_text_width(cr, p->names[k]);
        if (viz_plot_series_axis(L, &p->series[k])) tw += viz_text_width(cr, suffix);
        w = fmax(w, tw);
    }
    double bw = swatch + 8 + w + 16, bh = row * (shown + (*more != 0)) + 8;
    double bx = floor(L->px + L->pw - bw - 10) + 0.5, by = L->py + 10.5;
    cairo_set_source_rgba(cr, 1, 1, 1, 0.88);
    cairo_rectangle(cr, bx, by, bw, bh);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0.7, 0.7, 0.7);
    cairo_set_line_width(cr, 1);
    cairo_stroke(cr);
    for (int k = 0; k < shown; k++) {
        double y = by + 4 + row * (k + 0.5);
        viz_set_rgb(cr, viz_series_color(k));
        cairo_set_line_width(cr, 2);
        cairo_move_to(cr, bx + 8, y), cairo_line_to(cr, bx + 8 + swatch, y);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, VIZ_INK, VIZ_INK, VIZ_INK);
        viz_text(cr, p->names[k], bx + 16 + swatch, y, VIZ_ALIGN_LEFT);
        if (viz_plot_series_axis(L, &p->series[k])) cairo_show_text(cr, suffix);
    }
    if (*more) {
        cairo_set_source_rgb(cr, VIZ_INK, VIZ_INK, VIZ_INK);
        viz_text(cr, more, bx + 16 + swatch, by + 4 + row * (shown + 0.5), VIZ_ALIGN_LEFT);
    }
}

attn_status attn_plot_png(const char *path, const char *title, const char *x_label,
                          const attn_series *series, int n_series) {
    if (!path || !*path) return attn_error(ATTN_ERR_INVALID, "plot: NULL or empty path");
    plot_plan p;
    ATTN_TRY(plan(series, n_series, title, x_label, &p));
    const viz_plot_layout *L = &p.L;
    cairo_surface_t *surface;
    cairo_t *cr;
    attn_status st = viz_canvas_create(L->width, L->height, &surface, &cr);
    if (st == ATTN_OK) {
        draw_grid(cr, L);
        cairo_save(cr);
        cairo_rectangle(cr, L->px, L->py, L->pw, L->ph);
        cairo_clip(cr);
        for (int k = 0; k < p.n; k++)
            draw_series(cr, &p, k);
        cairo_restore(cr);
        draw_x_axis(cr, &p);
        draw_y_axis(cr, &p, 0);
        if (L->dual) draw_y_axis(cr, &p, 1);
        draw_legend(cr, &p);
        if (p.title) {
            cairo_set_source_rgb(cr, VIZ_INK, VIZ_INK, VIZ_INK);
            viz_set_font(cr, TITLE_FONT, 1);
            viz_text(cr, p.title, L->width / 2.0, MARGIN + TITLE_FONT / 2, VIZ_ALIGN_CENTER);
        }
        st = viz_write_png(surface, cr, path, "plot");
        cairo_destroy(cr);
        cairo_surface_destroy(surface);
    }
    plan_free(&p);
    return st;
}
