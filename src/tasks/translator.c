/* tasks/translator.c: the translator bundle (seq2seq model + joint tokenizer), loading it and
 * translating lines with beam search (include/attn/translator.h). Training is in
 * tasks/translator_train.c. */
#define _POSIX_C_SOURCE 200809L /* getline, strdup */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "attn/translator.h"
#include "core/error.h"
#include "tasks/translator_internal.h"

void attn_translator_free(attn_translator *t) {
    if (!t) return;
    attn_model_free(t->model);
    attn_tokenizer_free(t->tok);
    free(t);
}

attn_model *attn_translator_model(const attn_translator *t) {
    return t ? t->model : NULL;
}
const attn_tokenizer *attn_translator_tokenizer(const attn_translator *t) {
    return t ? t->tok : NULL;
}

attn_status attn_translator_check(const char *path, attn_translator *t) {
    const attn_config *c = attn_model_config(t->model);
    if (c->arch != ATTN_ARCH_SEQ2SEQ)
        return attn_error(ATTN_ERR_INVALID,
                          "'%s' is a %s model, not a translator (attn train "
                          "translate)",
                          path, attn_arch_name(c->arch));
    if (attn_tokenizer_vocab_size(t->tok) != c->vocab_size)
        return attn_error(ATTN_ERR_FORMAT,
                          "'%s': its tokenizer has %d tokens but the model's vocabulary is %d",
                          path, attn_tokenizer_vocab_size(t->tok), c->vocab_size);
    t->bos = attn_tokenizer_special(t->tok, ATTN_SPECIAL_CLS);
    t->eos = attn_tokenizer_special(t->tok, ATTN_SPECIAL_SEP);
    int pad = attn_tokenizer_special(t->tok, ATTN_SPECIAL_PAD);
    t->pad = pad >= 0 ? pad : 0;
    if (t->bos < 0 || t->eos < 0)
        return attn_error(ATTN_ERR_FORMAT, "'%s': its tokenizer has no [CLS] / [SEP] (BOS / EOS)",
                          path);
    return ATTN_OK;
}

attn_status attn_translator_load(const char *path, attn_translator **out) {
    if (!out) return attn_error(ATTN_ERR_INVALID, "attn_translator_load: NULL argument");
    *out = NULL;
    attn_translator *t = calloc(1, sizeof *t);
    if (!t) return attn_error(ATTN_ERR_NOMEM, "out of memory");
    char *json = NULL;
    attn_status s = attn_model_load(path, &t->model);
    if (s == ATTN_OK && attn_model_config(t->model)->arch != ATTN_ARCH_SEQ2SEQ)
        s = attn_translator_check(path, t);
    if (s == ATTN_OK && (s = attn_checkpoint_read_meta(path, "tokenizer", &json)) != ATTN_OK)
        s = attn_error_context(s,
                               "'%s': no tokenizer in its metadata (not written by attn train "
                               "translate)",
                               path);
    if (s == ATTN_OK && (s = attn_tokenizer_from_json(json, strlen(json), &t->tok)) != ATTN_OK)
        s = attn_error_context(s, "'%s': the tokenizer in its metadata is invalid", path);
    if (s == ATTN_OK) s = attn_translator_check(path, t);
    free(json);
    if (s != ATTN_OK) {
        attn_translator_free(t);
        return s;
    }
    *out = t;
    return ATTN_OK;
}

attn_beam_params attn_translator_beam_params(const attn_translator *t) {
    attn_beam_params b = attn_beam_default_params();
    if (t) b.bos_id = t->bos, b.eos_id = t->eos;
    return b;
}

/* ---- translating ----------------------------------------------------------------------------- */

/* Line i's ids + EOS, cut to the context, into ids[off[i] ..]; len[i] the count (0: empty). */
static attn_status encode_lines(const attn_translator *t, const char *const *lines, int n,
                                int **ids_out, long *off, int *len, int *n_cut) {
    int max = attn_model_config(t->model)->max_len, cut = 0;
    long total = 0, cap = 0;
    int *ids = NULL;
    for (int i = 0; i < n; i++) {
        int *x = NULL, k = 0;
        size_t l = lines[i] ? strlen(lines[i]) : 0;
        if (l > 0) ATTN_TRY(attn_tokenizer_encode(t->tok, lines[i], l, &x, &k));
        if (k > max - 1) k = max - 1, cut++;
        if (total + k + 1 > cap) {
            cap = (total + k + 1) * 2 + 64;
            int *bigger = realloc(ids, (size_t)cap * sizeof *ids);
            if (!bigger) {
                free(x), free(ids);
                return attn_error(ATTN_ERR_NOMEM, "translate: out of memory");
            }
            ids = bigger;
        }
        off[i] = total;
        if (l > 0) {
            memcpy(ids + total, x, (size_t)k * sizeof(int));
            ids[total + k] = t->eos;
            total += k + 1;
        }
        len[i] = l > 0 ? k + 1 : 0;
        free(x);
    }
    *ids_out = ids;
    if (n_cut) *n_cut = cut;
    return ATTN_OK;
}

static const long *sort_lengths;
static int by_length(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    if (sort_lengths[x] != sort_lengths[y]) return sort_lengths[x] < sort_lengths[y] ? -1 : 1;
    return x < y ? -1 : 1;
}

attn_status attn_translator_translate(attn_translator *t, const char *const *lines, int n,
                                      const attn_beam_params *b, char **out, float *scores,
                                      int *n_cut) {
    if (!t || (!lines && n) || !b || (!out && n) || n < 0)
        return attn_error(ATTN_ERR_INVALID, "attn_translator_translate: bad argument");
    int nb = b->n_best;
    long *off = malloc(((size_t)n + 1) * sizeof *off);
    long *order = malloc(((size_t)n + 1) * sizeof *order);
    long *lens = malloc(((size_t)n + 1) * sizeof *lens);
    int *len = malloc(((size_t)n + 1) * sizeof *len), *ids = NULL, n_src = 0;
    const int **srcs = malloc(((size_t)n + 1) * sizeof *srcs);
    attn_hypothesis *h = calloc((size_t)n * nb + 1, sizeof *h);
    attn_status s = off && order && lens && len && srcs && h
                        ? encode_lines(t, lines, n, &ids, off, len, n_cut)
                        : attn_error(ATTN_ERR_NOMEM, "translate: out of memory");
    for (long i = 0; s == ATTN_OK && i < (long)n * nb; i++) {
        out[i] = NULL;
        if (scores) scores[i] = 0; /* an empty line: "" */
    }
    if (s == ATTN_OK) { /* the non-empty lines, shortest first: batches of similar lengths */
        for (int i = 0; i < n; i++)
            if (len[i] > 0) order[n_src++] = i;
        for (int i = 0; i < n; i++)
            lens[i] = len[i];
        sort_lengths = lens;
        qsort(order, (size_t)n_src, sizeof *order, by_length);
    }
    int *sorted_len = s == ATTN_OK ? malloc(((size_t)n_src + 1) * sizeof(int)) : NULL;
    if (s == ATTN_OK && !sorted_len) s = attn_error(ATTN_ERR_NOMEM, "translate: out of memory");
    for (int k = 0; s == ATTN_OK && k < n_src; k++)
        srcs[k] = ids + off[order[k]], sorted_len[k] = len[order[k]];
    if (s == ATTN_OK && n_src > 0) s = attn_beam_search(t->model, srcs, sorted_len, n_src, b, h);
    for (int k = 0; s == ATTN_OK && k < n_src; k++) /* back to the input order */
        for (int j = 0; j < nb; j++) {
            const attn_hypothesis *x = &h[(size_t)k * nb + j];
            size_t tl;
            char **dst = &out[(size_t)order[k] * nb + j];
            s = x->ids ? attn_tokenizer_decode(t->tok, x->ids, x->n, dst, &tl) : ATTN_OK;
            if (scores) scores[(size_t)order[k] * nb + j] = x->score;
        }
    for (long i = 0; s == ATTN_OK && i < (long)n * nb; i++)
        if (!out[i] && !(out[i] = calloc(1, 1))) s = attn_error(ATTN_ERR_NOMEM, "out of memory");
    if (s != ATTN_OK)
        for (long i = 0; i < (long)n * nb; i++)
            free(out[i]), out[i] = NULL;
    attn_hypotheses_free(h, (long)n_src * nb);
    free(h), free(srcs), free(sorted_len), free(ids), free(len), free(lens), free(order), free(off);
    return s;
}

/* Translates lines[0..n) (line numbers first..) and hands each to on_line. */
static attn_status flush_lines(attn_translator *t, char **lines, int n, long first,
                               const attn_beam_params *b, attn_translation_callback on_line,
                               void *user, long *n_cut) {
    size_t k = (size_t)n * (size_t)b->n_best;
    char **outs = calloc(k + 1, sizeof *outs);
    float *sc = malloc((k + 1) * sizeof *sc);
    int cut = 0;
    attn_status s = outs && sc ? attn_translator_translate(t, (const char *const *)lines, n, b,
                                                           outs, sc, &cut)
                               : attn_error(ATTN_ERR_NOMEM, "translate stream: out of memory");
    for (int i = 0; s == ATTN_OK && i < n; i++)
        if (on_line && on_line(first + i, lines[i], outs + (size_t)i * b->n_best,
                               sc + (size_t)i * b->n_best, user))
            s = attn_error(ATTN_ERR_ABORTED, "translate stream: stopped by the callback");
    for (size_t i = 0; outs && i < k; i++)
        free(outs[i]);
    free(outs), free(sc);
    if (n_cut) *n_cut += cut;
    return s;
}

attn_status attn_translator_translate_stream(attn_translator *t, FILE *in,
                                             const attn_beam_params *b,
                                             attn_translation_callback on_line, void *user,
                                             long *n_cut) {
    if (!t || !in || !b || b->batch < 1 || b->n_best < 1)
        return attn_error(ATTN_ERR_INVALID, "translate stream: NULL argument or batch < 1");
    char **lines = calloc((size_t)b->batch, sizeof *lines), *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int n = 0;
    long first = 0;
    attn_status s = lines ? ATTN_OK : attn_error(ATTN_ERR_NOMEM, "translate stream: out of memory");
    while (s == ATTN_OK && (len = getline(&line, &cap, in)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (!(lines[n++] = strdup(line))) s = attn_error(ATTN_ERR_NOMEM, "out of memory");
        if (s == ATTN_OK && n == b->batch) {
            s = flush_lines(t, lines, n, first, b, on_line, user, n_cut);
            for (int i = 0; i < n; i++)
                free(lines[i]);
            first += n, n = 0;
        }
    }
    if (s == ATTN_OK && ferror(in)) s = attn_error(ATTN_ERR_IO, "cannot read the input lines");
    if (s == ATTN_OK && n) s = flush_lines(t, lines, n, first, b, on_line, user, n_cut);
    for (int i = 0; lines && i < n; i++)
        free(lines[i]);
    free(lines), free(line);
    return s;
}
