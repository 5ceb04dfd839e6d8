/* eval/scores_format.c: translation scores (BLEU + chrF) and error rates (WER + CER) as one line
 * of text or of JSON, the output of attn eval translate / eval asr. */
#include "attn/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/error.h"
#include "eval/json_out.h"

static cJSON *mt_json(const attn_bleu *b, const attn_chrf *c, int n_refs) {
    cJSON *root = cJSON_CreateObject(), *bl = NULL, *ch = NULL;
    int ok = root && cJSON_AddNumberToObject(root, "sentences", (double)b->n_sentences) &&
             cJSON_AddNumberToObject(root, "references", n_refs) &&
             (bl = cJSON_AddObjectToObject(root, "bleu")) &&
             cJSON_AddNumberToObject(bl, "score", b->score) &&
             json_add_numbers(bl, "counts", b->counts, NULL, ATTN_BLEU_ORDER) &&
             json_add_numbers(bl, "totals", b->totals, NULL, ATTN_BLEU_ORDER) &&
             json_add_numbers(bl, "precisions", NULL, b->precisions, ATTN_BLEU_ORDER) &&
             cJSON_AddNumberToObject(bl, "bp", b->bp) &&
             cJSON_AddNumberToObject(bl, "hyp_len", (double)b->sys_len) &&
             cJSON_AddNumberToObject(bl, "ref_len", (double)b->ref_len) &&
             cJSON_AddStringToObject(bl, "tokenize", "13a") &&
             cJSON_AddStringToObject(bl, "smooth", "exp") &&
             (ch = cJSON_AddObjectToObject(root, "chrf")) &&
             cJSON_AddNumberToObject(ch, "score", c->score) &&
             cJSON_AddNumberToObject(ch, "precision", c->precision) &&
             cJSON_AddNumberToObject(ch, "recall", c->recall) &&
             cJSON_AddNumberToObject(ch, "beta", 2) &&
             cJSON_AddNumberToObject(ch, "char_order", ATTN_CHRF_ORDER) &&
             cJSON_AddNumberToObject(ch, "effective_order", c->effective_order) &&
             json_add_numbers(ch, "hyp", c->hyp, NULL, ATTN_CHRF_ORDER) &&
             json_add_numbers(ch, "ref", c->ref, NULL, ATTN_CHRF_ORDER) &&
             json_add_numbers(ch, "match", c->match, NULL, ATTN_CHRF_ORDER);
    if (!ok) cJSON_Delete(root);
    return ok ? root : NULL;
}

attn_status attn_mt_scores_format(const attn_bleu *b, const attn_chrf *c, int n_refs, int json,
                                  char **out) {
    if (!out) return attn_error(ATTN_ERR_INVALID, "scores format: out is NULL");
    *out = NULL;
    if (!b || !c) return attn_error(ATTN_ERR_INVALID, "scores format: NULL scores");
    if (json) {
        *out = json_take_text(mt_json(b, c, n_refs));
    } else {
        const char *f = "BLEU %.2f  chrF %.2f  (4-gram precisions %.1f/%.1f/%.1f/%.1f, BP %.3f, "
                        "hyp %ld ref %ld tokens)";
        int n = snprintf(NULL, 0, f, b->score, c->score, b->precisions[0], b->precisions[1],
                         b->precisions[2], b->precisions[3], b->bp, b->sys_len, b->ref_len);
        if ((*out = malloc((size_t)n + 1)))
            snprintf(*out, (size_t)n + 1, f, b->score, c->score, b->precisions[0], b->precisions[1],
                     b->precisions[2], b->precisions[3], b->bp, b->sys_len, b->ref_len);
    }
    return *out ? ATTN_OK : attn_error(ATTN_ERR_NOMEM, "scores format: out of memory");
}

static int add_rate(cJSON *root, const char *key, const attn_error_rate *r) {
    cJSON *o = cJSON_AddObjectToObject(root, key);
    return o && cJSON_AddNumberToObject(o, "rate", 100 * r->rate) &&
           cJSON_AddNumberToObject(o, "substitutions", (double)r->substitutions) &&
           cJSON_AddNumberToObject(o, "deletions", (double)r->deletions) &&
           cJSON_AddNumberToObject(o, "insertions", (double)r->insertions) &&
           cJSON_AddNumberToObject(o, "hits", (double)r->hits) &&
           cJSON_AddNumberToObject(o, "ref_len", (double)r->ref_len);
}

attn_status attn_error_rates_format(const attn_error_rate *wer, const attn_error_rate *cer,
                                    double audio_seconds, double seconds, int json, char **out) {
    if (!out) return attn_error(ATTN_ERR_INVALID, "error rates format: out is NULL");
    *out = NULL;
    if (!wer || !cer) return attn_error(ATTN_ERR_INVALID, "error rates format: NULL rates");
    double rtf = audio_seconds > 0 ? seconds / audio_seconds : 0;
    if (json) {
        cJSON *root = cJSON_CreateObject();
        int ok = root && add_rate(root, "wer", wer) && add_rate(root, "cer", cer);
        if (ok && audio_seconds > 0)
            ok = cJSON_AddNumberToObject(root, "sentences", (double)wer->n_sentences) &&
                 cJSON_AddNumberToObject(root, "audio_seconds", audio_seconds) &&
                 cJSON_AddNumberToObject(root, "seconds", seconds) &&
                 cJSON_AddNumberToObject(root, "rtf", rtf);
        if (!ok) cJSON_Delete(root);
        *out = ok ? json_take_text(root) : NULL;
        return *out ? ATTN_OK : attn_error(ATTN_ERR_NOMEM, "error rates format: out of memory");
    }
    char line[512];
    int n = snprintf(line, sizeof line,
                     "WER %.2f%%  (S %ld, D %ld, I %ld, N %ld)  CER %.2f%%  "
                     "(S %ld, D %ld, I %ld, N %ld)",
                     100 * wer->rate, wer->substitutions, wer->deletions, wer->insertions,
                     wer->ref_len, 100 * cer->rate, cer->substitutions, cer->deletions,
                     cer->insertions, cer->ref_len);
    if (audio_seconds > 0)
        snprintf(line + n, sizeof line - (size_t)n, "  sentences %ld  audio %.1f s  RTF %.4f",
                 wer->n_sentences, audio_seconds, rtf);
    *out = malloc(strlen(line) + 1);
    if (*out) strcpy(*out, line);
    return *out ? ATTN_OK : attn_error(ATTN_ERR_NOMEM, "error rates format: out of memory");
}

attn_status attn_corpus_mt(const char *const *hyps, const char *const *const *refs, int n_refs,
                           long n, attn_bleu *bleu, attn_chrf *chrf) {
    if (!bleu || !chrf) return attn_error(ATTN_ERR_INVALID, "corpus mt: NULL scores");
    *bleu = (attn_bleu){0};
    *chrf = (attn_chrf){0};
    if (n < 1 || n_refs < 1 || !hyps || !refs)
        return attn_error(ATTN_ERR_INVALID, "corpus mt: no sentences or no references");
    const char *line_refs[64];
    if (n_refs > 64) return attn_error(ATTN_ERR_INVALID, "corpus mt: more than 64 references");
    attn_bleu b = {0};
    attn_chrf c = {0};
    for (long i = 0; i < n; i++) {
        for (int k = 0; k < n_refs; k++)
            line_refs[k] = refs[k][i];
        attn_status s = attn_bleu_add(&b, hyps[i], line_refs, n_refs);
        if (s == ATTN_OK) s = attn_chrf_add(&c, hyps[i], line_refs, n_refs);
        if (s != ATTN_OK) return attn_error_context(s, "sentence %ld", i + 1);
    }
    ATTN_TRY(attn_bleu_score(&b));
    ATTN_TRY(attn_chrf_score(&c));
    *bleu = b, *chrf = c;
    return ATTN_OK;
}
