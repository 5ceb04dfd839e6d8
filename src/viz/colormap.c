/* viz/colormap.c: a viridis-shaped ramp from five anchors, and the plot palette. */
#include "viz/colormap.h"

#include <math.h>

/* (t, colour) at t = 0, 1/4, 1/2, 3/4, 1: purple, blue, teal, green, yellow */
static const viz_rgb ramp_anchors[] = {
    {68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
#define N_ANCHORS ((int)(sizeof ramp_anchors / sizeof ramp_anchors[0]))

/* a + (b - a) f, rounded */
static uint8_t mix(uint8_t a, uint8_t b, double f) {
    return (uint8_t)lround(a + (b - a) * f);
}

viz_rgb viz_colormap(double t) {
    if (!(t > 0)) t = 0; /* also NaN */
    if (t > 1) t = 1;
    double at = t * (N_ANCHORS - 1);
    int i = (int)at;
    if (i >= N_ANCHORS - 1) return ramp_anchors[N_ANCHORS - 1];
    double f = at - i;
    viz_rgb a = ramp_anchors[i], b = ramp_anchors[i + 1];
    return (viz_rgb){mix(a.r, b.r, f), mix(a.g, b.g, f), mix(a.b, b.b, f)};
}

/* blue, orange, green, red, purple, brown, magenta, grey */
static const viz_rgb palette[] = {{31, 100, 180}, {230, 120, 20}, {40, 150, 60},  {200, 40, 40},
                                  {120, 80, 170}, {140, 90, 60},  {210, 70, 160}, {90, 90, 90}};
#define N_PALETTE ((int)(sizeof palette / sizeof palette[0]))

viz_rgb viz_series_color(int i) {
    if (i < 0) i = -i;
    return palette[i % N_PALETTE];
}

double viz_luma(viz_rgb c) {
    return 0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b;
}
