/* data/parallel.c: parallel text for translation (include/attn/data.h): tab-separated columns
 * read as source / target pairs, and their encoding as token ids with end-of-sentence marks. */
#include <stdlib.h>
#include <string.h>

#include "attn/data.h"
#include "core/error.h"

void attn_parallel_free(attn_parallel *p) {
    if (!p) return;
    attn_tsv_free(&p->lines_);
    free(p->src);
    free(p->tgt);
    memset(p, 0, sizeof *p);
}

/* Field `col` of a tab-separated line (split in place: tabs become NULs), or NULL. */
static char *field(char *line, int col) {
    for (int c = 0; c < col; c++) {
        line = strchr(line, '\t');
        if (!line) return NULL;
        line++;
    }
    return line;
}

attn_status attn_parallel_parse(const char *data, size_t size, const char *name, int src_col,
                                int tgt_col, attn_parallel *out) {
    if (!out) return attn_error(ATTN_ERR_INVALID, "parallel: out is NULL");
    memset(out, 0, sizeof *out);
    if (!data && size) return attn_error(ATTN_ERR_INVALID, "parallel: data is NULL");
    if (src_col < 0 || tgt_col < 0 || src_col == tgt_col)
        return attn_error(ATTN_ERR_INVALID, "parallel: columns %d and %d", src_col, tgt_col);
    if (!name) name = "(memory)";
    ATTN_TRY(attn_tsv_parse_texts(data, size, name, &out->lines_));
    long n = out->lines_.n;
    out->src = malloc(((size_t)n + 1) * sizeof *out->src);
    out->tgt = malloc(((size_t)n + 1) * sizeof *out->tgt);
    if (!out->src || !out->tgt) {
        attn_parallel_free(out);
        return attn_error(ATTN_ERR_NOMEM, "parallel: out of memory for %ld lines", n);
    }
    attn_status s = ATTN_OK;
    int need = (src_col > tgt_col ? src_col : tgt_col) + 1;
    for (long i = 0; i < n; i++) {
        char *line = out->lines_.texts[i];
        char *a = field(line, src_col), *b = field(line, tgt_col);
        if (!a || !b) {
            s = attn_error(ATTN_ERR_FORMAT, "%s:%ld: %d columns needed (tab-separated)", name,
                           out->lines_.lines[i], need);
            break;
        }
        out->src[i] = a, out->tgt[i] = b;
    }
    for (long i = 0; s == ATTN_OK && i < n; i++) /* split only once every field is found */
        for (char *t = out->lines_.texts[i]; (t = strchr(t, '\t')); t++)
            *t = '\0';
    if (s != ATTN_OK) {
        attn_parallel_free(out);
        return s;
    }
    out->n = n;
    out->lines = out->lines_.lines;
    return ATTN_OK;
}

attn_status attn_parallel_read(const char *path, int src_col, int tgt_col, attn_parallel *out) {
    if (!out) return attn_error(ATTN_ERR_INVALID, "parallel: out is NULL");
    memset(out, 0, sizeof *out);
    if (src_col < 0 || tgt_col < 0 || src_col == tgt_col)
        return attn_error(ATTN_ERR_INVALID, "parallel: columns %d and %d", src_col, tgt_col);
    void *data;
    size_t size;
    ATTN_TRY(attn_file_read(path, &data, &size));
    attn_status s = attn_parallel_parse(data, size, path, src_col, tgt_col, out);
    free(data);
    return s;
}

void attn_pairs_free(attn_pairs *p) {
    if (!p) return;
    free(p->ids);
    free(p->src_off);
    memset(p, 0, sizeof *p);
}

/* The ids of text cut to max - 1, then eos, appended to *ids (capacity grown); the count. */
static attn_status encode_one(const attn_tokenizer *tok, const char *text, int max, int eos,
                              int **ids, long *n_ids, long *cap, int *len, int *cut) {
    int *t, n;
    ATTN_TRY(attn_tokenizer_encode(tok, text, strlen(text), &t, &n));
    *cut = n > max - 1;
    if (*cut) n = max - 1;
    if (*n_ids + n + 1 > *cap) {
        long want = (*cap + n + 1) * 2;
        int *bigger = realloc(*ids, (size_t)want * sizeof **ids);
        if (!bigger) {
            free(t);
            return attn_error(ATTN_ERR_NOMEM, "pairs: out of memory for %ld ids", want);
        }
        *ids = bigger, *cap = want;
    }
    memcpy(*ids + *n_ids, t, (size_t)n * sizeof(int));
    (*ids)[*n_ids + n] = eos;
    *n_ids += n + 1;
    *len = n + 1;
    free(t);
    return ATTN_OK;
}

attn_status attn_pairs_encode(const attn_parallel *p, const attn_tokenizer *tok, int max_src,
                              int max_tgt, int eos_id, attn_pairs *out) {
    if (!p || !tok || !out) return attn_error(ATTN_ERR_INVALID, "pairs: NULL argument");
    memset(out, 0, sizeof *out);
    if (max_src < 2 || max_tgt < 2)
        return attn_error(ATTN_ERR_INVALID, "pairs: max lengths %d, %d (at least 2)", max_src,
                          max_tgt);
    long n = p->n, cap = 64 * (n + 1), n_ids = 0;
    out->ids = malloc((size_t)cap * sizeof *out->ids);
    /* offsets and lengths in one block: src_off, tgt_off (long), then src_len, tgt_len (int) */
    out->src_off = malloc(((size_t)n + 1) * (2 * sizeof(long) + 2 * sizeof(int)));
    if (!out->ids || !out->src_off) {
        attn_pairs_free(out);
        return attn_error(ATTN_ERR_NOMEM, "pairs: out of memory for %ld pairs", n);
    }
    out->tgt_off = out->src_off + n + 1;
    out->src_len = (int *)(out->tgt_off + n + 1);
    out->tgt_len = out->src_len + n + 1;
    attn_status s = ATTN_OK;
    for (long i = 0; s == ATTN_OK && i < n; i++) {
        int cut_s, cut_t;
        out->src_off[i] = n_ids;
        s = encode_one(tok, p->src[i], max_src, eos_id, &out->ids, &n_ids, &cap, &out->src_len[i],
                       &cut_s);
        out->tgt_off[i] = n_ids;
        if (s == ATTN_OK)
            s = encode_one(tok, p->tgt[i], max_tgt, eos_id, &out->ids, &n_ids, &cap,
                           &out->tgt_len[i], &cut_t);
        if (s != ATTN_OK)
            s = attn_error_context(s, "%s:%ld", p->lines_.name, p->lines ? p->lines[i] : i + 1);
        else
            out->n_truncated += cut_s || cut_t;
    }
    if (s != ATTN_OK) {
        attn_pairs_free(out);
        return s;
    }
    out->n = n;
    return ATTN_OK;
}
