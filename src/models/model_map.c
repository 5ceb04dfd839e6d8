/* models/model_map.c: filling a model from a safetensors file of another layout through a table of
 * name mappings (attn_model_load_mapped in attn/model.h, docs/FORMATS.md "Loading other layouts").
 *
 * Three passes, so that nothing is written until everything is known to fit:
 *   1. resolve: expand each entry's "{l}" into concrete (our tensor, file tensor) pairs;
 *   2. check:   block shapes agree, each of our tensors is covered exactly once, no stray file
 *               tensors (unless allowed);
 *   3. copy:    read each file tensor as f32 and copy its block, transposed or not, into ours.
 * Passes 1 and 2 run on the parameter table alone (attn_model_each_tensor); the model, whose size
 * the config alone decides, is allocated only once the file is known to hold all of it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn/safetensors.h"
#include "core/error.h"
#include "models/model_internal.h"
#include "models/model_io.h"

#define MAX_PARTS 64 /* parts of one tensor are tracked in a 64-bit mask */

/* A tensor seen as a matrix: rows = first dimension, cols = the product of the others. */
typedef struct {
    int64_t rows, cols;
} matrix_view;

/* A block of a tensor: rows [r0, r0 + nr), columns [c0, c0 + nc) of its matrix view, and the
 * shape the block has as a tensor. */
typedef struct {
    int64_t r0, nr, c0, nc;
    int ndim;
    int64_t shape[ATTN_SAFETENSORS_MAX_DIMS];
} block;

/* One concrete copy: our tensor `dst` (an index into the parameter table) <- file tensor `src`. */
typedef struct {
    int entry; /* the map entry it came from, for messages */
    int dst;
    const attn_safetensors_tensor *src;
    const attn_name_map *map;
    block into, from; /* the two blocks, set by check_shapes */
} map_copy;

/* ---- names ---- */

/* `pattern` with "{l}" replaced by layer (layer < 0: no replacement) into buf. Returns -1 when the
 * result does not fit. */
static int expand(char *buf, size_t cap, const char *pattern, int layer) {
    const char *at = layer >= 0 ? strstr(pattern, "{l}") : NULL;
    int n = at ? snprintf(buf, cap, "%.*s%d%s", (int)(at - pattern), pattern, layer, at + 3)
               : snprintf(buf, cap, "%s", pattern);
    return n >= 0 && (size_t)n < cap ? 0 : -1;
}

/* Our parameter table, gathered from the config before the model exists. */
typedef struct {
    attn_tensor_info *t;
    int n, cap;
    attn_arch arch;
} table;

static attn_status gather(void *user, const attn_tensor_info *t) {
    table *tb = user;
    if (tb->n == tb->cap) {
        int bigger = tb->cap ? 2 * tb->cap : 64;
        attn_tensor_info *grown = realloc(tb->t, (size_t)bigger * sizeof *grown);
        if (!grown) return attn_error(ATTN_ERR_NOMEM, "map: out of memory");
        tb->t = grown;
        tb->cap = bigger;
    }
    tb->t[tb->n++] = *t;
    return ATTN_OK;
}

static int find_ours(const table *m, const char *name) {
    for (int i = 0; i < m->n; i++)
        if (!strcmp(m->t[i].name, name)) return i;
    return -1;
}

/* ---- pass 1: resolve ---- */

static attn_status check_part(int e, const char *which, const attn_map_part *p) {
    if (p->axis == ATTN_MAP_WHOLE) return ATTN_OK;
    if (p->axis != ATTN_MAP_ROWS && p->axis != ATTN_MAP_COLS)
        return attn_error(ATTN_ERR_INVALID, "map entry %d: unknown axis %d in `%s`", e,
                          (int)p->axis, which);
    if (p->n < 1 || p->n > MAX_PARTS || p->k < 0 || p->k >= p->n)
        return attn_error(ATTN_ERR_INVALID,
                          "map entry %d: `%s` part %d of %d (want 0 <= k < n <= %d)", e, which,
                          p->k, p->n, MAX_PARTS);
    return ATTN_OK;
}

/* Appends the copies of entry e (one, or one per layer) to *copies (grown as needed). */
static attn_status resolve_entry(const table *m, const attn_safetensors *f, int e,
                                 const attn_name_map *map, map_copy **copies, int *n, int *cap) {
    if (!map->ours || !map->theirs)
        return attn_error(ATTN_ERR_INVALID, "map entry %d: NULL name", e);
    int pattern = strstr(map->ours, "{l}") != NULL;
    if (pattern != (strstr(map->theirs, "{l}") != NULL))
        return attn_error(ATTN_ERR_INVALID,
                          "map entry %d ('%s' <- '%s'): \"{l}\" must be in both names or neither",
                          e, map->ours, map->theirs);
    if (map->transform != ATTN_MAP_AS_IS && map->transform != ATTN_MAP_TRANSPOSE)
        return attn_error(ATTN_ERR_INVALID, "map entry %d: unknown transform %d", e,
                          (int)map->transform);
    ATTN_TRY(check_part(e, "from", &map->from));
    ATTN_TRY(check_part(e, "into", &map->into));
    for (int layer = pattern ? 0 : -1;; layer++) {
        char ours[ATTN_MAX_NAME], theirs[1024];
        if (expand(ours, sizeof ours, map->ours, layer) != 0 ||
            expand(theirs, sizeof theirs, map->theirs, layer) != 0)
            return attn_error(ATTN_ERR_INVALID, "map entry %d: a name is too long", e);
        int dst = find_ours(m, ours);
        if (dst < 0) {
            if (layer > 0) return ATTN_OK; /* past the last layer */
            return attn_error(ATTN_ERR_INVALID,
                              "map entry %d: '%s' is not a tensor of this model (%s)", e, ours,
                              attn_arch_name(m->arch));
        }
        const attn_safetensors_tensor *src = attn_safetensors_find(f, theirs);
        if (!src)
            return attn_error(ATTN_ERR_MISSING, "tensor '%s' (for our '%s') is not in the file",
                              theirs, ours);
        if (*n == *cap) {
            int bigger = *cap ? 2 * *cap : 64;
            map_copy *grown = realloc(*copies, (size_t)bigger * sizeof *grown);
            if (!grown) return attn_error(ATTN_ERR_NOMEM, "map: out of memory");
            *copies = grown;
            *cap = bigger;
        }
        (*copies)[(*n)++] = (map_copy){.entry = e, .dst = dst, .src = src, .map = map};
        if (layer < 0) return ATTN_OK;
    }
}

/* ---- pass 2: check ---- */

static matrix_view view_of(int ndim, const int64_t *shape) {
    matrix_view v = {ndim > 0 ? shape[0] : 1, 1};
    for (int d = 1; d < ndim; d++)
        v.cols *= shape[d];
    return v;
}

/* The block `part` of a tensor (ndim, shape) into *b. Returns NULL, or what is wrong. */
static const char *cut_block(int ndim, const int64_t *shape, const attn_map_part *part, block *b) {
    matrix_view v = view_of(ndim, shape);
    *b = (block){0, v.rows, 0, v.cols, ndim, {0}};
    memcpy(b->shape, shape, (size_t)ndim * sizeof *shape);
    if (part->axis == ATTN_MAP_WHOLE) return NULL;
    if (ndim < 1) return "a scalar cannot be split";
    if (part->axis == ATTN_MAP_COLS && ndim != 2) return "only a 2-D tensor splits by columns";
    int d = part->axis == ATTN_MAP_ROWS ? 0 : 1;
    if (shape[d] % part->n != 0) return "the split dimension is not a multiple of the parts";
    b->shape[d] = shape[d] / part->n;
    if (d == 0) {
        b->nr = b->shape[0];
        b->r0 = part->k * b->nr;
    } else {
        b->nc = b->shape[1];
        b->c0 = part->k * b->nc;
    }
    return NULL;
}

/* "(2, 3)" or "(2, 3) part 1 of 3 by rows". */
static const char *describe(char *buf, size_t cap, const block *b, const attn_map_part *part) {
    size_t len = (size_t)snprintf(buf, cap, "(");
    for (int d = 0; d < b->ndim && len < cap; d++)
        len +=
            (size_t)snprintf(buf + len, cap - len, "%s%lld", d ? ", " : "", (long long)b->shape[d]);
    if (len < cap) len += (size_t)snprintf(buf + len, cap - len, ")");
    if (part->axis != ATTN_MAP_WHOLE && len < cap)
        snprintf(buf + len, cap - len, " part %d of %d by %s", part->k, part->n,
                 part->axis == ATTN_MAP_ROWS ? "rows" : "columns");
    return buf;
}

/* Sets c's blocks (ours: into, the file's: from), which must agree (after the transpose, if any).
 */
static attn_status check_shapes(const table *m, map_copy *c) {
    block *dst = &c->into, *src = &c->from;
    const attn_tensor_info *t = &m->t[c->dst];
    const char *bad = cut_block(t->ndim, t->shape, &c->map->into, dst);
    if (bad)
        return attn_error(ATTN_ERR_SHAPE, "map entry %d: our '%s': %s", c->entry, t->name, bad);
    bad = cut_block(c->src->ndim, c->src->shape, &c->map->from, src);
    if (bad)
        return attn_error(ATTN_ERR_SHAPE, "map entry %d: file tensor '%s': %s", c->entry,
                          c->src->name, bad);
    int transpose = c->map->transform == ATTN_MAP_TRANSPOSE;
    if (transpose && src->ndim != 2)
        return attn_error(ATTN_ERR_INVALID,
                          "map entry %d: file tensor '%s' is %d-D; only 2-D transposes", c->entry,
                          c->src->name, src->ndim);
    int same = src->ndim == dst->ndim;
    for (int d = 0; same && d < dst->ndim; d++)
        same = dst->shape[d] == src->shape[transpose ? 1 - d : d];
    if (!same) {
        char a[160], b[160];
        return attn_error(
            ATTN_ERR_SHAPE, "map entry %d: file tensor '%s' %s%s does not fit our '%s' %s",
            c->entry, c->src->name, describe(a, sizeof a, src, &c->map->from),
            transpose ? " transposed" : "", t->name, describe(b, sizeof b, dst, &c->map->into));
    }
    return ATTN_OK;
}

/* What covers one of our tensors so far. */
typedef struct {
    int first_entry; /* -1: nothing yet */
    attn_map_axis axis;
    int n;
    uint64_t parts;
} coverage;

static attn_status cover(const table *m, coverage *cv, const map_copy *c) {
    const attn_map_part *p = &c->map->into;
    const char *name = m->t[c->dst].name;
    if (cv->first_entry >= 0 && (cv->axis == ATTN_MAP_WHOLE || p->axis == ATTN_MAP_WHOLE ||
                                 cv->axis != p->axis || cv->n != p->n))
        return attn_error(
            ATTN_ERR_INVALID,
            "our '%s' is filled twice, or by different splits (map entries %d and %d)", name,
            cv->first_entry, c->entry);
    uint64_t bit = p->axis == ATTN_MAP_WHOLE ? 1 : (uint64_t)1 << p->k;
    if (cv->parts & bit)
        return attn_error(ATTN_ERR_INVALID,
                          "our '%s' part %d of %d is filled twice (map entries %d and %d)", name,
                          p->k, p->n, cv->first_entry, c->entry);
    if (cv->first_entry < 0) *cv = (coverage){c->entry, p->axis, p->n, 0};
    cv->parts |= bit;
    return ATTN_OK;
}

static attn_status check_covered(const table *m, const coverage *cv) {
    for (int i = 0; i < m->n; i++) {
        if (cv[i].first_entry < 0)
            return attn_error(ATTN_ERR_MISSING, "our '%s' is filled by no map entry", m->t[i].name);
        int n = cv[i].axis == ATTN_MAP_WHOLE ? 1 : cv[i].n;
        for (int k = 0; k < n; k++)
            if (!(cv[i].parts >> k & 1))
                return attn_error(ATTN_ERR_MISSING,
                                  "our '%s' part %d of %d is filled by no map entry", m->t[i].name,
                                  k, n);
    }
    return ATTN_OK;
}

/* Without ATTN_MAP_ALLOW_UNUSED every file tensor must be read by some copy. */
static attn_status check_unused(const attn_safetensors *f, const map_copy *copies, int n) {
    int count = attn_safetensors_count(f);
    char *used = calloc((size_t)count + 1, 1);
    if (!used) return attn_error(ATTN_ERR_NOMEM, "map: out of memory");
    const attn_safetensors_tensor *first = attn_safetensors_at(f, 0); /* tensors lie in one array */
    for (int i = 0; i < n; i++)
        used[copies[i].src - first] = 1;
    attn_status st = ATTN_OK;
    for (int i = 0; st == ATTN_OK && i < count; i++)
        if (!used[i])
            st = attn_error(ATTN_ERR_FORMAT,
                            "file tensor '%s' is read by no map entry (pass ATTN_MAP_ALLOW_UNUSED "
                            "to allow that)",
                            attn_safetensors_at(f, i)->name);
    free(used);
    return st;
}

/* ---- pass 3: copy ---- */

/* dst block (of a tensor with dst_cols columns) <- src block (of src_cols columns), transposed or
 * not: dst[R0 + i, C0 + j] = src[r0 + i, c0 + j], or src[r0 + j, c0 + i] when transposing. */
static void copy_block(float *dst, int64_t dst_cols, const block *d, const float *src,
                       int64_t src_cols, const block *s, int transpose) {
    for (int64_t i = 0; i < s->nr; i++)
        for (int64_t j = 0; j < s->nc; j++) {
            float v = src[(s->r0 + i) * src_cols + s->c0 + j];
            if (transpose)
                dst[(d->r0 + j) * dst_cols + d->c0 + i] = v;
            else
                dst[(d->r0 + i) * dst_cols + d->c0 + j] = v;
        }
}

static attn_status copy_all(attn_model *m, const attn_safetensors *f, const map_copy *copies,
                            int n) {
    size_t most = 0;
    for (int i = 0; i < n; i++) {
        size_t elems = copies[i].src->nbytes / attn_dtype_size(copies[i].src->dtype);
        if (elems > most) most = elems;
    }
    float *scratch = malloc((most ? most : 1) * sizeof(float)); /* bounded by the file's size */
    if (!scratch) return attn_error(ATTN_ERR_NOMEM, "map: cannot allocate %zu floats", most);
    attn_status st = ATTN_OK;
    for (int i = 0; st == ATTN_OK && i < n; i++) {
        const map_copy *c = &copies[i];
        const attn_tensor_info *t = &m->tensors[c->dst];
        st = attn_safetensors_read_f32(f, c->src->name, scratch, c->src->ndim, c->src->shape);
        if (st != ATTN_OK) break;
        copy_block(m->params + t->offset, view_of(t->ndim, t->shape).cols, &c->into, scratch,
                   view_of(c->src->ndim, c->src->shape).cols, &c->from,
                   c->map->transform == ATTN_MAP_TRANSPOSE);
    }
    free(scratch);
    return st;
}

/* ---- the entry point ---- */

/* Passes 1 and 2 against our table (no model allocated yet: the file bounds what follows). */
static attn_status plan(const table *tb, const attn_safetensors *f, const attn_name_map *map,
                        int n_map, unsigned flags, map_copy **copies, int *n) {
    int cap = 0;
    attn_status st = ATTN_OK;
    for (int e = 0; st == ATTN_OK && e < n_map; e++)
        st = resolve_entry(tb, f, e, &map[e], copies, n, &cap);
    coverage *cv = st == ATTN_OK ? malloc(((size_t)tb->n + 1) * sizeof *cv) : NULL;
    if (st == ATTN_OK && !cv) st = attn_error(ATTN_ERR_NOMEM, "map: out of memory");
    for (int i = 0; st == ATTN_OK && i < tb->n; i++)
        cv[i] = (coverage){-1, ATTN_MAP_WHOLE, 0, 0};
    for (int i = 0; st == ATTN_OK && i < *n; i++) {
        st = check_shapes(tb, &(*copies)[i]);
        if (st == ATTN_OK) st = cover(tb, &cv[(*copies)[i].dst], &(*copies)[i]);
    }
    if (st == ATTN_OK) st = check_covered(tb, cv);
    if (st == ATTN_OK && !(flags & ATTN_MAP_ALLOW_UNUSED)) st = check_unused(f, *copies, *n);
    free(cv);
    return st;
}

static attn_status load_from(const attn_safetensors *f, const attn_config *cfg,
                             const attn_name_map *map, int n_map, unsigned flags,
                             attn_model **out) {
    table tb = {.arch = cfg->arch};
    map_copy *copies = NULL;
    int n = 0;
    attn_status st = attn_model_each_tensor(cfg, gather, &tb);
    if (st == ATTN_OK) st = plan(&tb, f, map, n_map, flags, &copies, &n);
    attn_model *m = NULL;
    /* every parameter is filled (the map covers each once), or m is freed */
    if (st == ATTN_OK) st = attn_model_create_uninit(cfg, &m);
    if (st == ATTN_OK && m->n_tensors != tb.n)
        st = attn_error(ATTN_ERR_INVALID, "map: the model has %d tensors, its table %d",
                        m->n_tensors, tb.n);
    if (st == ATTN_OK) st = copy_all(m, f, copies, n);
    if (st == ATTN_OK) st = attn_model_check_finite(m);
    free(copies);
    free(tb.t);
    if (st != ATTN_OK) {
        attn_model_free(m);
        return st;
    }
    *out = m;
    return ATTN_OK;
}

attn_status attn_model_load_mapped(const char *path, const attn_config *cfg,
                                   const attn_name_map *map, int n_map, unsigned flags,
                                   attn_model **out) {
    if (out) *out = NULL;
    if (!path || !cfg || !out || n_map < 0 || (n_map > 0 && !map))
        return attn_error(ATTN_ERR_INVALID, "attn_model_load_mapped: bad arguments");
    if (flags & ~(unsigned)(ATTN_MAP_ALLOW_UNUSED | ATTN_MAP_MMAP))
        return attn_error(ATTN_ERR_INVALID, "attn_model_load_mapped: unknown flags 0x%x", flags);
    attn_safetensors *f;
    unsigned mode = flags & ATTN_MAP_MMAP ? ATTN_SAFETENSORS_MMAP : ATTN_SAFETENSORS_DEFAULT;
    ATTN_TRY(attn_safetensors_open(path, mode, &f));
    attn_status st = load_from(f, cfg, map, n_map, flags, out);
    attn_safetensors_close(f);
    return st == ATTN_OK ? ATTN_OK : attn_error_context(st, "%s", path);
}
