/* tasks/translator.c: the translator bundle (seq2seq model + joint tokenizer), loading it and
 * translating lines with beam search (include/attn/translator.h). Training is in
 * tasks/translator_train.c. */
#include <stdlib.h>
#include <string.h>

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
