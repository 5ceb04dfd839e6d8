/* tasks/asr.c: the recognizer bundle (ctc model + labels + front end + statistics), speech sets,
 * loading, transcribing and evaluating (include/attn/asr.h). Training is in tasks/asr_train.c. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "attn/asr.h"
#include "attn/data.h"
#include "attn/decode.h"
#include "core/error.h"
#include "eval/json_out.h"
#include "kernels/ctc.h"
#include "tasks/asr_internal.h"
#include "text/text_internal.h"
#include "viz/text.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* ---- speech sets -------------------------------------------------------------------------------*/

void attn_speech_set_free(attn_speech_set *s) {
    if (!s) return;
    for (long i = 0; i < s->n; i++) {
        if (s->paths) free(s->paths[i]);
        if (s->transcripts) free(s->transcripts[i]);
    }
    free(s->paths);
    free(s->transcripts);
    memset(s, 0, sizeof *s);
}

/* text with runs of white space made one space, the ends trimmed (malloc'd) */
static char *squeeze(const char *text, size_t len) {
    char *out = malloc(len + 1);
    if (!out) return NULL;
    size_t n = 0;
    int space = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f') {
            space = n > 0;
            continue;
        }
        if (space) out[n++] = ' ';
        space = 0;
        out[n++] = c;
    }
    out[n] = 0;
    return out;
}

attn_status attn_speech_set_read(const char *path, attn_speech_set *out) {
    if (!path || !out) return attn_error(ATTN_ERR_INVALID, "attn_speech_set_read: NULL argument");
    memset(out, 0, sizeof *out);
    attn_lines lines;
    ATTN_TRY(attn_lines_read(path, &lines));
    const char *slash = strrchr(path, '/');
    size_t dir_len = slash ? (size_t)(slash - path) + 1 : 0;
    attn_status s = ATTN_OK;
    out->paths = calloc((size_t)lines.n + 1, sizeof *out->paths);
    out->transcripts = calloc((size_t)lines.n + 1, sizeof *out->transcripts);
    if (!out->paths || !out->transcripts) s = attn_error(ATTN_ERR_NOMEM, "%s: out of memory", path);
    for (long i = 0; s == ATTN_OK && i < lines.n; i++) {
        const char *line = lines.lines[i];
        if (!line[strspn(line, " \t\r")]) continue; /* empty or blank */
        const char *tab = strchr(line, '\t');
        if (!tab || tab == line) {
            s = attn_error(ATTN_ERR_FORMAT, "%s:%ld: expected path<TAB>transcript", path, i + 1);
            break;
        }
        const char *end = strchr(tab + 1, '\t');
        size_t plen = (size_t)(tab - line), tlen = end ? (size_t)(end - tab - 1) : strlen(tab + 1);
        int relative = line[0] != '/';
        char *p = malloc((relative ? dir_len : 0) + plen + 1);
        char *t = squeeze(tab + 1, tlen);
        if (!p || !t) {
            free(p), free(t);
            s = attn_error(ATTN_ERR_NOMEM, "%s: out of memory", path);
            break;
        }
        size_t at = 0;
        if (relative) memcpy(p, path, dir_len), at = dir_len;
        memcpy(p + at, line, plen);
        p[at + plen] = 0;
        out->paths[out->n] = p;
        out->transcripts[out->n] = t;
        out->n++;
    }
    attn_lines_free(&lines);
    if (s != ATTN_OK) attn_speech_set_free(out);
    return s;
}

/* ---- the bundle --------------------------------------------------------------------------------*/

void attn_recognizer_free(attn_recognizer *r) {
    if (!r) return;
    attn_model_free(r->model);
    free(r->labels);
    attn_fbank_free(r->fb);
    attn_cmvn_stats_free(&r->cmvn);
    asr_lexicon_free(r);
    free(r);
}

attn_model *attn_recognizer_model(const attn_recognizer *r) {
    return r ? r->model : NULL;
}

attn_status attn_recognizer_set_ctc_weight(attn_recognizer *r, float weight) {
    if (!r || !(weight >= 0 && weight <= 1))
        return attn_error(ATTN_ERR_INVALID, "ctc weight %g is outside [0, 1]", (double)weight);
    r->ctc_weight = weight;
    return ATTN_OK;
}

const attn_fbank_params *attn_recognizer_frontend(const attn_recognizer *r) {
    return r ? &r->frontend : NULL;
}

attn_status asr_check(const char *path, attn_recognizer *r) {
    const attn_config *c = attn_model_config(r->model);
    int joint = c->arch == ATTN_ARCH_SEQ2SEQ && c->ctc_weight > 0 && c->n_features > 0;
    if (c->arch != ATTN_ARCH_CTC && !joint)
        return attn_error(ATTN_ERR_INVALID,
                          "'%s' is a %s model, not a speech recognizer (attn train asr)", path,
                          attn_arch_name(c->arch));
    if (joint != (r->bos > 0 && r->eos > 0))
        return attn_error(ATTN_ERR_FORMAT, "'%s': the labels %s \"<s>\" and \"</s>\"", path,
                          joint ? "of an attention decoder need" : "of a CTC model have no");
    if (r->n_labels != c->vocab_size)
        return attn_error(ATTN_ERR_FORMAT, "'%s': %d labels for a model of %d outputs", path,
                          r->n_labels, c->vocab_size);
    attn_fbank_free(r->fb);
    r->fb = NULL;
    attn_status s = attn_fbank_create(&r->frontend, &r->fb);
    if (s != ATTN_OK) return attn_error_context(s, "'%s': its front end", path);
    if (attn_fbank_dim(r->fb) != c->n_features || r->cmvn.dim != c->n_features)
        return attn_error(ATTN_ERR_FORMAT,
                          "'%s': the front end gives %d values a frame and the statistics have "
                          "%d, but the model reads %d",
                          path, attn_fbank_dim(r->fb), r->cmvn.dim, c->n_features);
    return ATTN_OK;
}

/* -- metadata as JSON -- */

/* attn_fbank_params field by field: a float, or an int (enums included) */
#define FB_FIELD(name, kind) {#name, offsetof(attn_fbank_params, name), kind}
static const struct {
    const char *name;
    size_t offset;
    char kind; /* 'f' float, 'i' int or enum */
} fb_fields[] = {
    FB_FIELD(sample_rate, 'i'),     FB_FIELD(frame_length_ms, 'f'), FB_FIELD(frame_shift_ms, 'f'),
    FB_FIELD(n_fft, 'i'),           FB_FIELD(window, 'i'),          FB_FIELD(remove_dc_offset, 'i'),
    FB_FIELD(preemphasis, 'f'),     FB_FIELD(n_mels, 'i'),          FB_FIELD(low_freq, 'f'),
    FB_FIELD(high_freq, 'f'),       FB_FIELD(mel, 'i'),             FB_FIELD(use_power, 'i'),
    FB_FIELD(use_log, 'i'),         FB_FIELD(log_floor, 'f'),       FB_FIELD(n_mfcc, 'i'),
    FB_FIELD(cepstral_lifter, 'f'), FB_FIELD(use_energy, 'i'),      FB_FIELD(raw_energy, 'i'),
    FB_FIELD(energy_floor, 'f'),    FB_FIELD(edges, 'i'),
};
#define N_FB_FIELDS ((int)(sizeof fb_fields / sizeof fb_fields[0]))

static cJSON *frontend_json(const attn_fbank_params *p) {
    cJSON *o = cJSON_CreateObject();
    for (int i = 0; o && i < N_FB_FIELDS; i++) {
        const char *at = (const char *)p + fb_fields[i].offset;
        float f;
        int n;
        if (fb_fields[i].kind == 'f') memcpy(&f, at, sizeof f);
        else memcpy(&n, at, sizeof n);
        cJSON_AddNumberToObject(o, fb_fields[i].name, fb_fields[i].kind == 'f' ? f : n);
    }
    return o;
}

static attn_status frontend_parse(const cJSON *o, attn_fbank_params *p) {
    *p = attn_fbank_default_params();
    for (int i = 0; i < N_FB_FIELDS; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, fb_fields[i].name);
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || fabs(v->valuedouble) > 1e9)
            return attn_error(ATTN_ERR_FORMAT, "frontend: \"%s\" missing or not a number",
                              fb_fields[i].name);
        char *at = (char *)p + fb_fields[i].offset;
        float f = (float)v->valuedouble;
        int n = (int)v->valuedouble;
        if (fb_fields[i].kind == 'f') memcpy(at, &f, sizeof f);
        else memcpy(at, &n, sizeof n);
    }
    p->dither = 0; /* never at recognition */
    return ATTN_OK;
}

attn_status asr_meta_json(const attn_recognizer *r, char **labels, char **frontend, char **cmvn) {
    *labels = *frontend = *cmvn = NULL;
    cJSON *l = cJSON_CreateArray();
    for (int i = 0; l && i < r->n_labels; i++) {
        unsigned char u[5] = {0};
        if (r->labels[i] > 0) u[text_utf8_encode(r->labels[i], u)] = 0;
        const char *name = r->labels[i] == -1 ? "<s>" : r->labels[i] == -2 ? "</s>" : (char *)u;
        cJSON_AddItemToArray(l, cJSON_CreateString(name));
    }
    *labels = json_take_text(l);
    *frontend = json_take_text(frontend_json(&r->frontend));
    cJSON *c = cJSON_CreateObject();
    if (c) {
        cJSON_AddNumberToObject(c, "count", r->cmvn.count);
        cJSON_AddBoolToObject(c, "per_utterance", r->cmvn_utterance);
        cJSON *sum = cJSON_AddArrayToObject(c, "sum"), *sq = cJSON_AddArrayToObject(c, "sum_sq");
        for (int i = 0; sum && sq && i < r->cmvn.dim; i++) {
            cJSON_AddItemToArray(sum, cJSON_CreateNumber(r->cmvn.sum[i]));
            cJSON_AddItemToArray(sq, cJSON_CreateNumber(r->cmvn.sum_sq[i]));
        }
    }
    *cmvn = json_take_text(c);
    if (*labels && *frontend && *cmvn) return ATTN_OK;
    free(*labels), free(*frontend), free(*cmvn);
    *labels = *frontend = *cmvn = NULL;
    return attn_error(ATTN_ERR_NOMEM, "recognizer metadata: out of memory");
}

static attn_status read_json(const char *path, const char *key, cJSON **out) {
    char *text = NULL;
    attn_status s = attn_checkpoint_read_meta(path, key, &text);
    if (s != ATTN_OK)
        return attn_error_context(s, "'%s': no \"%s\" in its metadata (not written by attn train "
                                     "asr)",
                                  path, key);
    *out = cJSON_Parse(text);
    free(text);
    if (!*out) return attn_error(ATTN_ERR_FORMAT, "'%s': its \"%s\" is not JSON", path, key);
    return ATTN_OK;
}

static attn_status parse_labels(const char *path, const cJSON *a, attn_recognizer *r) {
    int n = cJSON_GetArraySize(a);
    if (!cJSON_IsArray(a) || n < 2)
        return attn_error(ATTN_ERR_FORMAT, "'%s': \"labels\" must be an array of >= 2 strings",
                          path);
    r->labels = calloc((size_t)n, sizeof *r->labels);
    if (!r->labels) return attn_error(ATTN_ERR_NOMEM, "out of memory");
    r->n_labels = n;
    r->bos = r->eos = -1;
    for (int i = 0; i < n; i++) {
        const cJSON *v = cJSON_GetArrayItem(a, i);
        const char *s = cJSON_IsString(v) ? v->valuestring : NULL;
        size_t len = s ? strlen(s) : 0;
        int32_t cp = 0;
        if (i && s && (!strcmp(s, "<s>") || !strcmp(s, "</s>"))) { /* the decoder's specials */
            int *at = s[1] == 's' ? &r->bos : &r->eos;
            if (*at >= 0)
                return attn_error(ATTN_ERR_FORMAT, "'%s': \"%s\" is a label twice", path, s);
            *at = i;
            r->labels[i] = s[1] == 's' ? -1 : -2;
            continue;
        }
        int ok = s && (i == 0 ? len == 0 : (int)len == text_utf8_decode((const void *)s, len, &cp));
        if (!ok)
            return attn_error(ATTN_ERR_FORMAT,
                              "'%s': label %d must be %s", path, i,
                              i ? "one UTF-8 character" : "\"\" (the blank)");
        r->labels[i] = cp;
    }
    return ATTN_OK;
}

static attn_status parse_cmvn(const char *path, const cJSON *o, attn_recognizer *r) {
    const cJSON *count = cJSON_GetObjectItemCaseSensitive(o, "count");
    const cJSON *sum = cJSON_GetObjectItemCaseSensitive(o, "sum");
    const cJSON *sq = cJSON_GetObjectItemCaseSensitive(o, "sum_sq");
    int dim = cJSON_GetArraySize(sum);
    if (!cJSON_IsNumber(count) || !(count->valuedouble >= 1) || !cJSON_IsArray(sum) ||
        !cJSON_IsArray(sq) || dim < 1 || cJSON_GetArraySize(sq) != dim)
        return attn_error(ATTN_ERR_FORMAT,
                          "'%s': \"cmvn\" needs count >= 1 and sum, sum_sq of one length", path);
    ATTN_TRY(attn_cmvn_stats_init(&r->cmvn, dim));
    r->cmvn_utterance = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "per_utterance"));
    r->cmvn.count = count->valuedouble;
    for (int i = 0; i < dim; i++) {
        const cJSON *a = cJSON_GetArrayItem(sum, i), *b = cJSON_GetArrayItem(sq, i);
        if (!cJSON_IsNumber(a) || !cJSON_IsNumber(b) || !isfinite(a->valuedouble) ||
            !isfinite(b->valuedouble))
            return attn_error(ATTN_ERR_FORMAT, "'%s': \"cmvn\" value %d is not a finite number",
                              path, i);
        r->cmvn.sum[i] = a->valuedouble, r->cmvn.sum_sq[i] = b->valuedouble;
    }
    return ATTN_OK;
}

attn_status asr_read_meta(const char *path, attn_recognizer *r) {
    cJSON *labels = NULL, *frontend = NULL, *cmvn = NULL;
    attn_status s = read_json(path, "labels", &labels);
    if (s == ATTN_OK) s = read_json(path, "frontend", &frontend);
    if (s == ATTN_OK) s = read_json(path, "cmvn", &cmvn);
    if (s == ATTN_OK) s = parse_labels(path, labels, r);
    if (s == ATTN_OK && (s = frontend_parse(frontend, &r->frontend)) != ATTN_OK)
        s = attn_error_context(s, "'%s'", path);
    if (s == ATTN_OK) s = parse_cmvn(path, cmvn, r);
    cJSON_Delete(labels);
    cJSON_Delete(frontend);
    cJSON_Delete(cmvn);
    return s;
}

attn_status attn_recognizer_load(const char *path, attn_recognizer **out) {
    if (!path || !out) return attn_error(ATTN_ERR_INVALID, "attn_recognizer_load: NULL argument");
    *out = NULL;
    attn_recognizer *r = calloc(1, sizeof *r);
    if (!r) return attn_error(ATTN_ERR_NOMEM, "out of memory");
    attn_status s = attn_model_load(path, &r->model);
    const attn_config *c = s == ATTN_OK ? attn_model_config(r->model) : NULL;
    if (c && c->arch != ATTN_ARCH_CTC && !(c->arch == ATTN_ARCH_SEQ2SEQ && c->ctc_weight > 0))
        s = asr_check(path, r); /* says whose checkpoint it is */
    if (s == ATTN_OK) s = asr_read_meta(path, r);
    if (s == ATTN_OK) s = asr_check(path, r);
    if (s != ATTN_OK) {
        attn_recognizer_free(r);
        return s;
    }
    *out = r;
    return ATTN_OK;
}

int asr_text_ids(const attn_recognizer *r, const char *text, int *ids) {
    const unsigned char *p = (const unsigned char *)text;
    size_t len = strlen(text), at = 0;
    int n = 0;
    while (at < len) {
        int32_t cp;
        int k = text_utf8_decode(p + at, len - at, &cp);
        if (k == 0) { /* not UTF-8 (a set is read as UTF-8): skip the byte */
            at++;
            continue;
        }
        at += (size_t)k;
        for (int i = 1; i < r->n_labels; i++)
            if (r->labels[i] == cp) {
                ids[n++] = i;
                break;
            }
    }
    return n;
}

/* ---- recognising -------------------------------------------------------------------------------*/

attn_status asr_normalise(const attn_recognizer *r, float *feats, long frames) {
    if (r->cmvn_utterance) return attn_cmvn_utterance(feats, frames, r->cmvn.dim, 1);
    return attn_cmvn_apply(&r->cmvn, feats, frames, 1);
}

attn_status asr_features(attn_recognizer *r, attn_fbank *fb, const float *x, long n, float **feats,
                         long *frames) {
    *feats = NULL, *frames = 0;
    if (attn_fbank_frame_count(fb, n) < 1) return ATTN_OK; /* shorter than a frame */
    ATTN_TRY(attn_fbank_compute(fb, x, n, feats, frames));
    attn_status s = asr_normalise(r, *feats, *frames);
    if (s != ATTN_OK) free(*feats), *feats = NULL, *frames = 0;
    return s;
}

/* The longest input (frames) whose encoder length fits the model's context. */
static long window_frames(const attn_model *m) {
    int max = attn_model_config(m)->max_len;
    long w = 4L * max + 6;
    while (w > 7 && attn_model_encoder_length(m, (int)w) > max)
        w--;
    return w;
}

/* text_buf_append, the bytes kept NUL-terminated; 0 when out of memory */
static int put(text_buf *t, const char *s, size_t n) {
    if (text_buf_append(t, s, n) != ATTN_OK || text_buf_append(t, "", 1) != ATTN_OK) return 0;
    t->len--;
    return 1;
}

/* Appends the labels ids[0..n) (and, for words, their positions pos[] when not NULL) to the
 * text, a space between windows; words are timed into out. */
static attn_status emit(text_buf *t, const attn_recognizer *r, const int *ids, const int *pos,
                        int n, double t0, double step, attn_transcript *out) {
    int in_word = 0;
    for (int i = 0; i < n; i++) {
        int32_t cp = r->labels[ids[i]];
        if (cp < 0) continue; /* BOS / EOS */
        if (cp == ' ') { /* a word ends; its end time is its last label's */
            in_word = 0;
            continue;
        }
        if (!in_word) {
            if (t->len && t->data[t->len - 1] != ' ' && !put(t, " ", 1)) goto nomem;
            if (pos && out) {
                float *a = realloc(out->word_start, (size_t)(out->n_words + 1) * sizeof *a);
                if (a) out->word_start = a;
                float *b = realloc(out->word_end, (size_t)(out->n_words + 1) * sizeof *b);
                if (b) out->word_end = b;
                if (!a || !b) goto nomem;
                out->word_start[out->n_words] = (float)(t0 + step * pos[i]);
                out->word_end[out->n_words] = (float)(t0 + step * (pos[i] + 1));
                out->n_words++;
            }
            in_word = 1;
        }
        unsigned char u[4];
        if (!put(t, (const char *)u, (size_t)text_utf8_encode(cp, u))) goto nomem;
        if (pos && out) out->word_end[out->n_words - 1] = (float)(t0 + step * (pos[i] + 1));
    }
    return ATTN_OK;
nomem:
    return attn_error(ATTN_ERR_NOMEM, "transcript: out of memory");
}

/* ---- joint CTC / attention beam search ------------------------------------------------------
 * Watanabe et al. 2017 (ESPnet's CTCPrefixScore): each hypothesis h (its labels after <s>)
 * carries, per encoder position t, the log probabilities r_n[t] and r_b[t] that the CTC paths
 * over positions 0..t give h ending in a label or in a blank, and psi(h), the log probability of
 * every labelling that starts with h. Extending h by c:
 *     phi[t] = r_b(h)[t] if c is h's last label, else logaddexp(r_b(h)[t], r_n(h)[t])
 *     r_n(hc)[t] = logaddexp(r_n(hc)[t-1], phi[t-1]) + lp[t][c]    (r_n(hc)[0] = lp[0][c] if h
 *     r_b(hc)[t] = logaddexp(r_n(hc)[t-1], r_b(hc)[t-1]) + lp[t][blank]        is empty, else -inf)
 *     psi(hc) = logsumexp_t (phi[t-1] + lp[t][c])   (t = 0 with phi[-1] = 0 for an empty h)
 * and ending it: psi(h</s>) = logaddexp(r_n(h)[T-1], r_b(h)[T-1]). A hypothesis scores
 * lambda * psi + (1 - lambda) * sum log p_att; every step keeps the best `beam` extensions of the
 * live hypotheses (each scored for its best 2 beam + 2 labels by the decoder), and the search
 * ends when the best finished score is above every live one (extensions only lower a score) or
 * at T + 1 labels. */

typedef struct {
    int *ids; /* labels after <s> */
    int n;
    double score, psi;
    float *rn, *rb; /* (T) */
    int live;
    int state; /* the lexicon's state after ids (0 without a lexicon) */
} hyp;

static double lae(double a, double b) { /* log(exp(a) + exp(b)) */
    if (a == -INFINITY) return b;
    if (b == -INFINITY) return a;
    return a > b ? a + log1p(exp(b - a)) : b + log1p(exp(a - b));
}

/* r_n, r_b of h extended by c into rn, rb; returns psi(hc). */
static double ctc_extend(const hyp *h, int c, const float *lp, int T, int V, float *rn, float *rb) {
    int last = h->n ? h->ids[h->n - 1] : -1;
    double psi = -INFINITY, prev_n, prev_b = -INFINITY;
    prev_n = h->n == 0 ? lp[c] : -INFINITY;
    if (h->n == 0) psi = lp[c];
    rn[0] = (float)prev_n, rb[0] = -INFINITY;
    for (int t = 1; t < T; t++) {
        double phi = c == last ? h->rb[t - 1] : lae(h->rb[t - 1], h->rn[t - 1]);
        double n = lae(prev_n, phi) + lp[(size_t)t * V + c];
        double b = lae(prev_n, prev_b) + lp[(size_t)t * V];
        psi = lae(psi, phi + lp[(size_t)t * V + c]);
        rn[t] = (float)n, rb[t] = (float)b;
        prev_n = n, prev_b = b;
    }
    return psi;
}

typedef struct {
    int parent, label;
    double score, psi;
} cand;

static int cand_cmp(const void *a, const void *b) {
    double x = ((const cand *)a)->score, y = ((const cand *)b)->score;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* One window: n frames of features; the best hypothesis's labels to ids (room for T' + 1), *k. */
static attn_status joint_decode(attn_recognizer *r, const float *feats, int n, int beam, int *ids,
                                int *k) {
    attn_model *m = r->model;
    const attn_config *c = attn_model_config(m);
    int V = c->vocab_size, K = beam, bos = r->bos, eos = r->eos;
    double lam = r->ctc_weight > 0 ? r->ctc_weight : c->ctc_weight;
    const attn_ctc_dfa *lex = r->lexicon.n_states ? &r->lexicon : NULL;
    attn_batch b = {.B = 1, .T = n, .features = feats, .Tt = 1, .tgt_in = &bos};
    ATTN_TRY(attn_model_forward(m, &b, 0, NULL));
    int T;
    const float *lp0 = attn_model_ctc_log_probs(m, &T, NULL);
    int max_out = T + 1 < c->max_len ? T + 1 : c->max_len - 1;
    if (max_out < 1) return attn_error(ATTN_ERR_INVALID, "joint decoding: no room for a label");
    float *lp = malloc((size_t)T * V * sizeof *lp); /* the next forward overwrites the model's */
    hyp *hs = calloc((size_t)2 * K, sizeof *hs);
    cand *cs = malloc(((size_t)K * V + 1) * sizeof *cs);
    float *logp = malloc((size_t)V * sizeof *logp);
    int *parents = malloc((size_t)K * sizeof *parents), *tokens = malloc((size_t)K * sizeof *tokens);
    attn_context *ctx = NULL;
    attn_status s = lp && hs && cs && logp && parents && tokens ? ATTN_OK
                                                                : attn_error(ATTN_ERR_NOMEM, "out of memory");
    for (int i = 0; s == ATTN_OK && i < 2 * K; i++) {
        hs[i].ids = malloc(((size_t)max_out + 1) * sizeof(int));
        hs[i].rn = malloc((size_t)T * sizeof(float)), hs[i].rb = malloc((size_t)T * sizeof(float));
        if (!hs[i].ids || !hs[i].rn || !hs[i].rb) s = attn_error(ATTN_ERR_NOMEM, "out of memory");
    }
    if (s == ATTN_OK) memcpy(lp, lp0, (size_t)T * V * sizeof *lp);
    if (s == ATTN_OK) s = attn_context_create(m, K, max_out + 1, &ctx);
    if (s == ATTN_OK) s = attn_context_set_source_features_shared(ctx, feats, NULL, n, 1);
    /* hypothesis 0: <s> alone, r_b[t] = sum of the blank's log-probs up to t */
    hyp *cur = hs, *next = hs + K;
    if (s == ATTN_OK) {
        double acc = 0;
        for (int t = 0; t < T; t++)
            acc += lp[(size_t)t * V], cur[0].rb[t] = (float)acc, cur[0].rn[t] = -INFINITY;
        cur[0].n = 0, cur[0].score = 0, cur[0].psi = 0, cur[0].live = 1, cur[0].state = 0;
        for (int i = 1; i < K; i++)
            cur[i].live = 0;
    }
    double best_done = -INFINITY;
    int best_n = 0;
    int *best_ids = malloc(((size_t)max_out + 1) * sizeof(int));
    if (!best_ids && s == ATTN_OK) s = attn_error(ATTN_ERR_NOMEM, "out of memory");
    for (int i = 0; i < K; i++)
        tokens[i] = bos;
    for (int step = 0; s == ATTN_OK && step < max_out; step++) {
        const float *logits;
        s = attn_context_feed(ctx, tokens, 1, &logits);
        if (s != ATTN_OK) break;
        int nc = 0;
        double best_live = -INFINITY;
        for (int i = 0; i < K; i++) {
            if (!cur[i].live) continue;
            const float *row = logits + (size_t)i * V;
            double mx = row[0], sum = 0;
            for (int v = 1; v < V; v++)
                if (row[v] > mx) mx = row[v];
            for (int v = 0; v < V; v++)
                sum += exp(row[v] - mx);
            double lse = mx + log(sum);
            for (int v = 0; v < V; v++)
                logp[v] = (float)(row[v] - lse);
            /* end: CTC of the whole labelling (with a lexicon, after a complete word) */
            double end = lam * (lae(cur[i].rn[T - 1], cur[i].rb[T - 1]) - cur[i].psi) +
                         (1 - lam) * logp[eos] + cur[i].score;
            const int *moves = lex ? lex->next + (size_t)cur[i].state * V : NULL;
            if (lex && !lex->accept[cur[i].state]) end = -INFINITY;
            if (end > best_done) {
                best_done = end, best_n = cur[i].n;
                memcpy(best_ids, cur[i].ids, (size_t)cur[i].n * sizeof(int));
            }
            /* the decoder's best labels, then their CTC prefix scores */
            int top = 2 * K + 2 < V ? 2 * K + 2 : V;
            for (int j = 0; j < top; j++) {
                int bestv = -1;
                for (int v = 1; v < V; v++) /* never the blank or the specials */
                    if (v != bos && v != eos && logp[v] > -INFINITY && (!moves || moves[v] >= 0) &&
                        (bestv < 0 || logp[v] > logp[bestv]))
                        bestv = v;
                if (bestv < 0) break;
                cs[nc++] = (cand){.parent = i, .label = bestv, .score = logp[bestv]};
                logp[bestv] = -INFINITY;
            }
        }
        for (int j = 0; j < nc; j++) { /* prefix scores of the candidates, their joint score */
            hyp *h = &cur[cs[j].parent];
            float *rn = next[0].rn, *rb = next[0].rb; /* scratch, overwritten below */
            double psi = ctc_extend(h, cs[j].label, lp, T, V, rn, rb);
            cs[j].psi = psi;
            cs[j].score = h->score + lam * (psi - h->psi) + (1 - lam) * cs[j].score;
        }
        qsort(cs, (size_t)nc, sizeof *cs, cand_cmp);
        int kept = nc < K ? nc : K;
        for (int j = 0; j < kept; j++)
            if (cs[j].score > best_live) best_live = cs[j].score;
        if (kept == 0 || best_done >= best_live) break;
        for (int j = 0; j < K; j++) {
            hyp *h = &next[j];
            if (j >= kept) {
                h->live = 0, parents[j] = 0, tokens[j] = bos;
                continue;
            }
            const hyp *p = &cur[cs[j].parent];
            memcpy(h->ids, p->ids, (size_t)p->n * sizeof(int));
            h->ids[p->n] = cs[j].label, h->n = p->n + 1;
            h->score = cs[j].score, h->live = 1;
            h->state = lex ? lex->next[(size_t)p->state * V + cs[j].label] : 0;
            h->psi = ctc_extend(p, cs[j].label, lp, T, V, h->rn, h->rb);
            parents[j] = cs[j].parent, tokens[j] = cs[j].label;
        }
        s = attn_context_reorder(ctx, parents);
        hyp *tmp = cur;
        cur = next, next = tmp;
    }
    if (s == ATTN_OK) {
        memcpy(ids, best_ids, (size_t)best_n * sizeof(int));
        *k = best_n;
    }
    free(best_ids);
    for (int i = 0; hs && i < 2 * K; i++)
        free(hs[i].ids), free(hs[i].rn), free(hs[i].rb);
    free(hs), free(cs), free(logp), free(parents), free(tokens), free(lp);
    attn_context_free(ctx);
    return s;
}

attn_status asr_decode(attn_recognizer *r, const float *feats, long frames, int beam, char **text,
                       attn_transcript *out) {
    attn_model *m = r->model;
    int F = attn_model_config(m)->n_features, V = attn_model_config(m)->vocab_size;
    long W = window_frames(m);
    double shift = r->frontend.frame_shift_ms / 1000.0;
    text_buf t = {0};
    attn_status s = put(&t, "", 0) ? ATTN_OK : attn_error(ATTN_ERR_NOMEM, "out of memory");
    int *ids = NULL, *pos = NULL;
    for (long at = 0; s == ATTN_OK && at < frames; at += W) {
        long n = frames - at < W ? frames - at : W;
        int T2 = attn_model_encoder_length(m, (int)n);
        if (T2 < 1) break; /* a tail too short for the convolutions */
        if (out) out->n_windows++;
        free(ids), free(pos);
        ids = malloc(((size_t)T2 + 2) * sizeof *ids), pos = malloc(((size_t)T2 + 2) * sizeof *pos);
        if (!ids || !pos) {
            s = attn_error(ATTN_ERR_NOMEM, "out of memory");
            break;
        }
        int k = 0;
        if (r->bos > 0) { /* an attention decoder: the joint search, no word times */
            s = joint_decode(r, feats + at * F, (int)n, beam, ids, &k);
            if (s == ATTN_OK) s = emit(&t, r, ids, NULL, k, 0, 0, out);
            continue;
        }
        attn_batch b = {.B = 1, .T = (int)n, .features = feats + at * F};
        s = attn_model_forward(m, &b, 0, NULL);
        if (s != ATTN_OK) break;
        const float *lp = attn_model_logits(m, NULL, NULL); /* (T2, V) log-probabilities */
        const attn_ctc_dfa *lex = r->lexicon.n_states ? &r->lexicon : NULL;
        if (beam <= 1 && !lex) { /* best path, with the position of each label */
            int prev = 0;
            for (int i = 0; i < T2; i++) {
                const float *row = lp + (size_t)i * V;
                int best = 0;
                for (int v = 1; v < V; v++)
                    if (row[v] > row[best]) best = v;
                if (best != 0 && best != prev) ids[k] = best, pos[k] = i, k++;
                prev = best;
            }
        } else {
            float score;
            s = attn_ctc_prefix_beam_search_dfa(ids, &k, &score, lp, V, T2, V, 0, beam, 1, lex);
            if (s != ATTN_OK) break;
        }
        s = emit(&t, r, ids, beam <= 1 && !lex ? pos : NULL, k, (double)at * shift, 4 * shift,
                 out);
    }
    free(ids), free(pos);
    if (s != ATTN_OK) {
        free(t.data);
        return s;
    }
    while (t.len && t.data[t.len - 1] == ' ')
        t.data[--t.len] = 0;
    *text = t.data;
    return ATTN_OK;
}

void attn_transcript_free(attn_transcript *t) {
    if (!t) return;
    free(t->text);
    free(t->word_start);
    free(t->word_end);
    memset(t, 0, sizeof *t);
}

/* x rounded to 1 / scale, so that cJSON prints 0.48 rather than 0.47999998927116394. */
static double rounded(double x, double scale) {
    return round(x * scale) / scale;
}

static int add_words(cJSON *root, const attn_transcript *t) {
    cJSON *words = cJSON_AddArrayToObject(root, "words");
    const char *w = t->text;
    for (int i = 0; words && i < t->n_words; i++) {
        while (*w == ' ')
            w++;
        size_t len = strcspn(w, " ");
        char *word = malloc(len + 1);
        cJSON *o = word ? cJSON_CreateObject() : NULL;
        if (word) memcpy(word, w, len), word[len] = '\0';
        int ok = o && cJSON_AddStringToObject(o, "word", word) &&
                 cJSON_AddNumberToObject(o, "start", rounded(t->word_start[i], 100)) &&
                 cJSON_AddNumberToObject(o, "end", rounded(t->word_end[i], 100)) &&
                 cJSON_AddItemToArray(words, o);
        free(word);
        if (!ok) return cJSON_Delete(o), 0;
        w += len;
    }
    return words != NULL;
}

attn_status attn_transcript_format_json(const attn_transcript *t, const char *file, char **out) {
    if (!out) return attn_error(ATTN_ERR_INVALID, "transcript format: out is NULL");
    *out = NULL;
    if (!t || !t->text || !file) return attn_error(ATTN_ERR_INVALID, "transcript format: NULL");
    char *name = viz_text_sanitize(file, VIZ_TEXT_JSON, 0);
    cJSON *root = name ? cJSON_CreateObject() : NULL;
    double rtf = t->audio_seconds > 0 ? t->seconds / t->audio_seconds : 0;
    int ok = root && cJSON_AddStringToObject(root, "file", name) &&
             cJSON_AddStringToObject(root, "text", t->text) &&
             cJSON_AddNumberToObject(root, "audio_seconds", rounded(t->audio_seconds, 1000)) &&
             cJSON_AddNumberToObject(root, "seconds", rounded(t->seconds, 10000)) &&
             cJSON_AddNumberToObject(root, "rtf", rounded(rtf, 10000)) &&
             cJSON_AddNumberToObject(root, "windows", t->n_windows) && add_words(root, t);
    free(name);
    *out = ok ? json_take_text(root) : (cJSON_Delete(root), NULL);
    return *out ? ATTN_OK : attn_error(ATTN_ERR_NOMEM, "transcript format: out of memory");
}

attn_status attn_recognizer_transcribe(attn_recognizer *r, const float *samples, long n, int beam,
                                       attn_transcript *out) {
    if (!out) return attn_error(ATTN_ERR_INVALID, "attn_recognizer_transcribe: NULL output");
    memset(out, 0, sizeof *out);
    if (!r || (n > 0 && !samples) || n < 0 || beam < 1)
        return attn_error(ATTN_ERR_INVALID, "attn_recognizer_transcribe: bad arguments");
    double t0 = now();
    float peak = 0;
    for (long i = 0; i < n; i++) /* a NaN sample makes peak NaN: fbank refuses it below */
        peak = fabsf(samples[i]) > peak || isnan(samples[i]) ? fabsf(samples[i]) : peak;
    if (peak < ATTN_ASR_SILENCE) { /* digital silence */
        out->text = calloc(1, 1);
        out->audio_seconds = (double)n / r->frontend.sample_rate;
        out->seconds = now() - t0;
        return out->text ? ATTN_OK : attn_error(ATTN_ERR_NOMEM, "out of memory");
    }
    float *feats;
    long frames;
    ATTN_TRY(asr_features(r, r->fb, samples, n, &feats, &frames));
    attn_status s = asr_decode(r, feats, frames, beam, &out->text, out);
    free(feats);
    out->audio_seconds = (double)n / r->frontend.sample_rate;
    out->seconds = now() - t0;
    if (s != ATTN_OK) attn_transcript_free(out);
    return s;
}

attn_status attn_recognizer_transcribe_file(attn_recognizer *r, const char *path, int beam,
                                            attn_transcript *out) {
    if (!out) return attn_error(ATTN_ERR_INVALID, "attn_recognizer_transcribe_file: NULL output");
    memset(out, 0, sizeof *out);
    if (!r || !path) return attn_error(ATTN_ERR_INVALID, "attn_recognizer_transcribe_file: NULL");
    double t0 = now();
    float *x = NULL;
    long n = 0;
    ATTN_TRY(attn_audio_load(path, r->frontend.sample_rate, &x, &n, NULL));
    attn_status s = attn_recognizer_transcribe(r, x, n, beam, out);
    free(x);
    if (s != ATTN_OK) return attn_error_context(s, "%s", path);
    out->seconds = now() - t0;
    return ATTN_OK;
}

attn_status attn_recognizer_evaluate(attn_recognizer *r, const attn_speech_set *set, int beam,
                                     char **hyps, attn_error_rate *wer, attn_error_rate *cer,
                                     double *audio_seconds, double *seconds) {
    if (!r || !set || !hyps || set->n < 1)
        return attn_error(ATTN_ERR_INVALID, "attn_recognizer_evaluate: no files to score");
    double audio = 0, took = 0;
    for (long i = 0; i < set->n; i++)
        hyps[i] = NULL;
    for (long i = 0; i < set->n; i++) {
        attn_transcript t;
        attn_status s = attn_recognizer_transcribe_file(r, set->paths[i], beam, &t);
        if (s != ATTN_OK) return s;
        hyps[i] = t.text, t.text = NULL;
        audio += t.audio_seconds, took += t.seconds;
        attn_transcript_free(&t);
    }
    if (audio_seconds) *audio_seconds = audio;
    if (seconds) *seconds = took;
    if (wer)
        ATTN_TRY(attn_corpus_wer((const char *const *)hyps,
                                 (const char *const *)set->transcripts, set->n, wer));
    if (cer)
        ATTN_TRY(attn_corpus_cer((const char *const *)hyps,
                                 (const char *const *)set->transcripts, set->n, cer));
    return ATTN_OK;
}
