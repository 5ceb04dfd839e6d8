/* viz/colormap.h: the colours of attn's pictures.
 *
 * The heatmap ramp runs dark purple -> blue -> teal -> green -> yellow, the shape of matplotlib's
 * viridis: its lightness rises steadily, so order survives greyscale printing and colour-blind
 * eyes. It is five anchor colours interpolated linearly (in sRGB), not viridis's 256-entry table.
 */
#ifndef ATTN_VIZ_COLORMAP_H
#define ATTN_VIZ_COLORMAP_H

#include <stdint.h>

typedef struct {
    uint8_t r, g, b;
} viz_rgb;

/* The ramp at t in [0, 1] (clamped; NaN gives the t = 0 colour). */
viz_rgb viz_colormap(double t);

/* Colour of series i of a plot: 8 distinct hues, then repeating. */
viz_rgb viz_series_color(int i);

/* Perceived lightness proxy, 0..255 (Rec. 709 luma of the sRGB values). */
double viz_luma(viz_rgb c);

#endif
