/* attn/viz.h: looking inside a model: attention maps, heatmaps and training curves.
 *
 * Attention maps are the softmax probabilities of every layer and head for one sequence, computed
 * by re-running the model in inference with the reference attention kernel (the fused kernel the
 * model uses never materialises them). They can be written as JSON (tokens + matrices) and drawn
 * as PNG heatmaps; training curves are drawn as PNG line plots. docs/VIZ.md shows examples.
 *
 * Pictures are drawn with cairo. Labels and titles may hold any bytes: invalid UTF-8 becomes
 * U+FFFD, control characters become visible (\n, \t, U+FFFD), long labels are cut with an
 * ellipsis. Files are replaced atomically (io/file.h), so a reader never sees half a PNG.
 *
 * Usage:
 *     attn_maps maps;
 *     attn_model_attention_maps(m, &batch, ATTN_MAPS_DECODER_SELF, &maps);
 *     attn_heatmap_png("l0h1.png", attn_maps_head(&maps, 0, 1), maps.n_queries, maps.n_keys,
 *                      tokens, tokens, "layer 0, head 1");
 *     attn_maps_write_json("maps.json", &maps, tokens, tokens);
 *     attn_maps_free(&maps); */
#ifndef ATTN_VIZ_H
#define ATTN_VIZ_H

#include "attn/config.h"
#include "attn/model.h"
#include "attn/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Which attention of a model a map shows. */
typedef enum {
    ATTN_MAPS_ENCODER_SELF = 0,  /* classifier, seq2seq: the encoder over the source, (T, T) */
    ATTN_MAPS_DECODER_SELF = 1,  /* decoder_lm (T, T), seq2seq (Tt, Tt): causal */
    ATTN_MAPS_DECODER_CROSS = 2, /* seq2seq: target queries over the source keys, (Tt, T) */
} attn_maps_kind;

/* The attention probabilities of every layer and head of one kind. probs[((l * n_heads + h) *
 * n_queries + i) * n_keys + j] is how much query i attends to key j in head h of layer l; each
 * row sums to 1 over the keys the query may see and is 0 elsewhere (keys past the source length,
 * later positions under a causal mask). Rows of padding queries (i >= the length) are included:
 * the model computes them too, but nothing reads them. */
typedef struct {
    attn_maps_kind kind;
    int n_layers, n_heads;
    int n_queries, n_keys; /* rows Tq, columns Tk of each matrix */
    float *probs;          /* (n_layers, n_heads, n_queries, n_keys), malloc'd; attn_maps_free */
} attn_maps;

/* The kind a family is usually looked at by: classifier -> ENCODER_SELF, decoder_lm ->
 * DECODER_SELF, seq2seq -> DECODER_CROSS (the alignment between target and source). */
ATTN_API attn_maps_kind attn_maps_default_kind(attn_arch arch);

/* "encoder_self", "decoder_self", "decoder_cross" ("?" for other values), and back (the parse
 * returns ATTN_ERR_INVALID for an unknown name). */
ATTN_API const char *attn_maps_kind_name(attn_maps_kind kind);
ATTN_API attn_status attn_maps_kind_parse(const char *name, attn_maps_kind *out);

/* Runs m in inference (no dropout) over a batch of ONE sequence (batch->B == 1; tokens, lengths,
 * and for seq2seq tgt_in; targets and labels are ignored) and fills *out with the attention maps
 * of kind `which`. The model is only read: its activation arena, and so the logits of its last
 * forward, are left alone (the maps use buffers of their own, freed before returning), and
 * several threads may compute maps from one model at once.
 * out->probs is malloc'd; release it with attn_maps_free.
 * Errors (*out is zeroed): ATTN_ERR_INVALID for a NULL argument, B != 1, a kind the family does
 * not have (e.g. DECODER_CROSS of a classifier), or a batch attn_model_forward would refuse
 * (ids outside the vocabulary, lengths outside [1, T], T > max_len); ATTN_ERR_NOMEM. */
ATTN_API attn_status attn_model_attention_maps(const attn_model *m, const attn_batch *batch,
                                               attn_maps_kind which, attn_maps *out);

/* The (n_queries, n_keys) matrix of one layer and head, inside maps->probs; NULL when maps is
 * NULL or empty or layer / head is out of range. */
ATTN_API const float *attn_maps_head(const attn_maps *maps, int layer, int head);

/* Frees maps->probs and zeroes the struct (so a second call is harmless). NULL is allowed. */
ATTN_API void attn_maps_free(attn_maps *maps);

/* The maps as a JSON document (malloc'd, NUL-terminated; the caller frees):
 *     {"kind": "decoder_self", "n_layers": L, "n_heads": H, "n_queries": Tq, "n_keys": Tk,
 *      "query_tokens": [...], "key_tokens": [...], "probs": [[[[p, ...], ...], ...], ...]}
 * with probs nested as (layer, head, query, key) and printed with 6 significant digits.
 * query_tokens (n_queries strings) and key_tokens (n_keys strings) may be NULL, which writes null;
 * a NULL string inside them is written as "". Tokens are made valid UTF-8 (bad bytes become
 * U+FFFD) and escaped, so the document always parses.
 * Errors: ATTN_ERR_INVALID (NULL or empty maps), ATTN_ERR_NUMERIC (a NaN or infinite
 * probability, which JSON cannot hold), ATTN_ERR_NOMEM. */
ATTN_API attn_status attn_maps_to_json(const attn_maps *maps, const char *const *query_tokens,
                                       const char *const *key_tokens, char **json);
/* attn_maps_to_json written atomically to path; ATTN_ERR_IO also names the path and the reason. */
ATTN_API attn_status attn_maps_write_json(const char *path, const attn_maps *maps,
                                          const char *const *query_tokens,
                                          const char *const *key_tokens);

/* Draws a (rows, cols) row-major matrix as a colour-mapped grid and writes it as PNG to path.
 *
 * Colours run from dark purple (the smaller of 0 and the minimum) through blue and green to
 * yellow (the maximum), a perceptually ordered ramp that prints well in grey; a colour bar at the
 * right shows the scale with both ends labelled. Row labels go to the left of the grid, column
 * labels above it, rotated 90 degrees unless every one fits upright in a cell (single
 * characters); either array may be NULL (no labels) and a NULL entry is drawn as nothing. Cells
 * are square: 40 px for a few tokens, 16 px at 60, shrinking for longer sequences (where only
 * every k-th label is drawn so that they do not overlap); labels longer than 20 characters are
 * cut with "…". rows and cols are at most 4096. title may be NULL.
 * Errors: ATTN_ERR_INVALID (NULL path or weights, rows or cols outside [1, 4096]),
 * ATTN_ERR_NUMERIC (a NaN or infinite weight), ATTN_ERR_IO (cannot write path, e.g. its directory
 * is missing; the message names it), ATTN_ERR_NOMEM (also when cairo cannot allocate). */
ATTN_API attn_status attn_heatmap_png(const char *path, const float *weights, int rows, int cols,
                                      const char *const *row_labels, const char *const *col_labels,
                                      const char *title);

/* One line of a plot: n points (x[i], y[i]). */
typedef struct {
    const char *name; /* legend entry; NULL: "series <i>" */
    const double *x;  /* n values, or NULL for 0, 1, ..., n-1 */
    const double *y;  /* n values; a NaN or infinite y (or x) breaks the line there */
    int n;
    int right_axis; /* nonzero: scaled on the right-hand y axis (e.g. a dev metric or the
                       learning rate beside the training loss, whose range is different) */
} attn_series;

/* Draws the series as lines against a shared x axis (960 x 540 px) and writes a PNG to path.
 * Each of the two y axes is scaled to the series on it, with round tick values, and named after
 * them. The right axis exists only when some series ask for it and others do not (otherwise
 * every series shares the left one); its series are marked "(right)" in the legend and, when it
 * holds one series, its numbers take that series' colour.
 * Series with at most 40 points also get a dot at each point, so sparse evaluations stay
 * visible. The legend sits in the upper right corner (as many entries as fit, then "+ N more").
 * Series colours follow their order (a palette of 8, then repeating). title and x_label may be
 * NULL. A plot whose series have no finite point is drawn with empty axes.
 *
 * Errors: ATTN_ERR_INVALID (NULL path, n_series outside [1, 64], NULL series, a series with
 * n < 0, or n > 0 and y NULL), ATTN_ERR_IO (cannot write path), ATTN_ERR_NOMEM. */
ATTN_API attn_status attn_plot_png(const char *path, const char *title, const char *x_label,
                                   const attn_series *series, int n_series);

#ifdef __cplusplus
}
#endif
#endif
