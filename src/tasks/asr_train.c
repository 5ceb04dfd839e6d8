/* tasks/asr_train.c: training a recognizer (attn_asr_train, include/attn/asr.h): the labels, the
 * features of every file (once, normalised by the training set's statistics), batches by frame
 * budget with SpecAugment, attn_train, and the dev WER that picks the kept model. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attn/asr.h"
#include "attn/data.h"
#include "attn/runtime.h"
#include "core/error.h"
#include "core/rng.h"
#include "tasks/asr_internal.h"
#include "text/text_internal.h"

#define MAX_META 32            /* the caller's metadata pairs, plus ours */
#define BATCH_STREAM 0x61737200ULL /* "asr" */

attn_asr_params attn_asr_default_params(void) {
    attn_asr_params p = {.model = attn_config_default(ATTN_ARCH_SEQ2SEQ),
                         .train = attn_train_default_params(),
                         .adamw = attn_adamw_default_params(),
                         .fbank = attn_fbank_default_params(),
                         .max_frames = 16000,
                         .bucket = 2000,
                         .specaugment = 1,
                         .spec = attn_specaugment_default_params(),
                         .cmvn_utterance = 1,
                         .pad_ms = 400,
                         .dev_utterances = 0};
    attn_config *m = &p.model;
    m->n_features = p.fbank.n_mels;
    m->subsample = 4, m->conv_channels = 32;
    m->max_len = 2048, m->d_model = 192, m->n_heads = 4, m->d_ff = 768, m->n_layers = 6;
    m->n_dec_layers = 2, m->ctc_weight = 0.3f; /* 0 decoder layers: a CTC model */
    m->norm = ATTN_NORM_PRE, m->pos = ATTN_POS_SINUSOIDAL, m->act = ATTN_ACT_GELU_TANH;
    m->dropout = 0.1f;
    p.spec.max_freq_width = 10, p.spec.max_time_width = 10, p.spec.max_time_ratio = 0.1f;
    p.train.epochs = 10;
    p.train.schedule = (attn_schedule){.kind = ATTN_SCHEDULE_COSINE, .lr = 1e-3f, .warmup = 300};
    p.train.eval_each_epoch = 1;
    p.train.eval_at_end = 1;
    return p;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* ---- features of a set -------------------------------------------------------------------------*/

/* Speed perturbation: the factors of the versions of a file (version 1 is the file itself). */
static const double speeds[3] = {0.9, 1.0, 1.1};

typedef struct {
    long n;
    float **feats; /* (n) frames[i] rows of F, not yet normalised until normalise() */
    int *frames;
    float **fast[2]; /* speed perturbation: versions 0 (0.9) and 2 (1.1), or NULL */
    int *fast_frames[2];
    int **ids; /* training: labels of each transcript */
    int *n_ids;
} feat_set;

static void feat_set_free(feat_set *f) {
    for (long i = 0; i < f->n; i++) {
        if (f->feats) free(f->feats[i]);
        if (f->ids) free(f->ids[i]);
        for (int v = 0; v < 2; v++)
            if (f->fast[v]) free(f->fast[v][i]);
    }
    free(f->feats), free(f->frames), free(f->ids), free(f->n_ids);
    for (int v = 0; v < 2; v++)
        free(f->fast[v]), free(f->fast_frames[v]);
    memset(f, 0, sizeof *f);
}

/* Version v (0..2) of utterance i: its features and frames. */
static const float *version(const feat_set *f, long i, int v, int *frames) {
    if (v == 1 || !f->fast[0]) {
        *frames = f->frames[i];
        return f->feats[i];
    }
    int k = v == 0 ? 0 : 1;
    *frames = f->fast_frames[k][i];
    return f->fast[k][i];
}

/* Features of x at speed factor (1: as it is) into *feats, *frames (0 for less than a frame). */
static attn_status features_at(attn_fbank *fb, const float *x, long n, double factor,
                               float **feats, int *frames) {
    float *y = NULL;
    long m = n, count = 0;
    if (factor != 1.0) ATTN_TRY(attn_audio_speed_perturb(x, n, factor, &y, &m));
    attn_status s = ATTN_OK;
    if (attn_fbank_frame_count(fb, m) >= 1) s = attn_fbank_compute(fb, y ? y : x, m, feats, &count);
    free(y);
    *frames = (int)count;
    return s;
}

/* x with up to max_ms of quiet noise before it and half that after (*y malloc'd, *m samples):
 * the lengths uniform, the noise Gaussian at -70 to -45 dB full scale, all from (seed, i). */
static attn_status pad_quiet(const float *x, long n, int rate, float max_ms, uint64_t seed, long i,
                             float **y, long *m) {
    attn_rng rng;
    attn_rng_init(&rng, seed ^ 0x70616473ULL, (uint64_t)i);
    long lead = (long)(attn_rng_uniform(&rng) * max_ms * rate / 1000);
    long trail = (long)(attn_rng_uniform(&rng) * max_ms * rate / 2000);
    float std = powf(10.0f, (-70.0f + 25.0f * attn_rng_uniform(&rng)) / 20.0f);
    *m = lead + n + trail;
    *y = malloc((size_t)*m * sizeof **y + 1);
    if (!*y) return attn_error(ATTN_ERR_NOMEM, "out of memory");
    for (long k = 0; k < lead; k++)
        (*y)[k] = std * attn_rng_normal(&rng);
    memcpy(*y + lead, x, (size_t)n * sizeof *x);
    for (long k = lead + n; k < *m; k++)
        (*y)[k] = std * attn_rng_normal(&rng);
    return ATTN_OK;
}

/* Raw features of every file of set (threads of their own: one extractor each); with perturb,
 * also at speeds 0.9 and 1.1; with pad_ms > 0, each file padded by pad_quiet first. */
static attn_status compute_features(const attn_fbank_params *fp, const attn_speech_set *set,
                                    int perturb, float pad_ms, uint64_t seed, feat_set *out) {
    out->n = set->n;
    out->feats = calloc((size_t)set->n + 1, sizeof *out->feats);
    out->frames = calloc((size_t)set->n + 1, sizeof *out->frames);
    if (!out->feats || !out->frames) return attn_error(ATTN_ERR_NOMEM, "features: out of memory");
    for (int v = 0; perturb && v < 2; v++) {
        out->fast[v] = calloc((size_t)set->n + 1, sizeof *out->fast[v]);
        out->fast_frames[v] = calloc((size_t)set->n + 1, sizeof *out->fast_frames[v]);
        if (!out->fast[v] || !out->fast_frames[v])
            return attn_error(ATTN_ERR_NOMEM, "features: out of memory");
    }
    attn_status status = ATTN_OK;
    long failed = -1;
    char message[1024] = ""; /* the failing thread's message: the last error is per thread */
#pragma omp parallel num_threads(attn_get_num_threads())
    {
        attn_fbank *fb = NULL;
        attn_status s = attn_fbank_create(fp, &fb);
#pragma omp for schedule(dynamic, 8)
        for (long i = 0; i < set->n; i++) {
            if (s != ATTN_OK) continue;
            float *x = NULL;
            long n = 0;
            s = attn_audio_load(set->paths[i], fp->sample_rate, &x, &n, NULL);
            if (s == ATTN_OK && pad_ms > 0) {
                float *y = NULL;
                long m = 0;
                s = pad_quiet(x, n, fp->sample_rate, pad_ms, seed, i, &y, &m);
                free(x);
                x = y, n = m;
            }
            if (s == ATTN_OK) s = features_at(fb, x, n, 1.0, &out->feats[i], &out->frames[i]);
            for (int v = 0; perturb && v < 2 && s == ATTN_OK; v++)
                s = features_at(fb, x, n, speeds[2 * v], &out->fast[v][i],
                                &out->fast_frames[v][i]);
            free(x);
            if (s != ATTN_OK) {
#pragma omp critical
                if (failed < 0 || i < failed) {
                    failed = i, status = s;
                    snprintf(message, sizeof message, "%s", attn_last_error());
                }
            }
        }
        attn_fbank_free(fb);
    }
    if (status == ATTN_OK) return ATTN_OK;
    const char *path = set->paths[failed]; /* audio errors name the file already */
    if (strncmp(message, path, strlen(path)) == 0) return attn_error(status, "%s", message);
    return attn_error(status, "%s: %s", path, message);
}

static attn_status normalise(const attn_recognizer *r, feat_set *f) {
    for (long i = 0; i < f->n; i++) {
        if (f->frames[i]) ATTN_TRY(asr_normalise(r, f->feats[i], f->frames[i]));
        for (int v = 0; f->fast[0] && v < 2; v++)
            if (f->fast_frames[v][i]) ATTN_TRY(asr_normalise(r, f->fast[v][i], f->fast_frames[v][i]));
    }
    return ATTN_OK;
}

/* The characters of the transcripts, sorted, after the blank (and, for an attention decoder,
 * <s> and </s>). */
static attn_status make_labels(const attn_speech_set *set, int joint, attn_recognizer *r) {
    static unsigned char seen[0x110000 / 8];
    memset(seen, 0, sizeof seen);
    int n = 1;
    for (long i = 0; i < set->n; i++) {
        const unsigned char *p = (const unsigned char *)set->transcripts[i];
        size_t len = strlen((const char *)p), at = 0;
        while (at < len) {
            int32_t cp;
            int k = text_utf8_decode(p + at, len - at, &cp);
            if (!k)
                return attn_error(ATTN_ERR_FORMAT, "transcript %ld is not UTF-8 (byte %zu)", i + 1,
                                  at);
            at += (size_t)k;
            if (!(seen[cp >> 3] & (1u << (cp & 7)))) seen[cp >> 3] |= (unsigned char)(1u << (cp & 7)), n++;
        }
    }
    if (n < 2) return attn_error(ATTN_ERR_INVALID, "the training transcripts are all empty");
    r->labels = calloc((size_t)n + 2, sizeof *r->labels);
    if (!r->labels) return attn_error(ATTN_ERR_NOMEM, "out of memory");
    r->n_labels = 1;
    r->bos = r->eos = -1;
    if (joint) {
        r->bos = r->n_labels, r->labels[r->n_labels++] = -1;
        r->eos = r->n_labels, r->labels[r->n_labels++] = -2;
    }
    for (int32_t cp = 0; cp < 0x110000; cp++)
        if (seen[cp >> 3] & (1u << (cp & 7))) r->labels[r->n_labels++] = cp;
    return ATTN_OK;
}

/* Labels of every transcript; utterances CTC cannot align (too few encoder positions for the
 * labels and the blanks between repeats) or longer than the context are dropped (n_ids -1). */
static attn_status encode_targets(const attn_recognizer *r, const attn_speech_set *set,
                                  feat_set *f, long *kept) {
    f->ids = calloc((size_t)f->n + 1, sizeof *f->ids);
    f->n_ids = calloc((size_t)f->n + 1, sizeof *f->n_ids);
    if (!f->ids || !f->n_ids) return attn_error(ATTN_ERR_NOMEM, "out of memory");
    int max = attn_model_config(r->model)->max_len;
    *kept = 0;
    for (long i = 0; i < f->n; i++) {
        f->ids[i] = malloc(strlen(set->transcripts[i]) * sizeof(int) + sizeof(int));
        if (!f->ids[i]) return attn_error(ATTN_ERR_NOMEM, "out of memory");
        int n = asr_text_ids(r, set->transcripts[i], f->ids[i]), need = n;
        for (int k = 1; k < n; k++)
            need += f->ids[i][k] == f->ids[i][k - 1];
        int frames = f->frames[i];
        if (f->fast[1] && f->fast_frames[1][i] < frames) frames = f->fast_frames[1][i];
        int T2 = attn_model_encoder_length(r->model, frames);
        int joint = r->bos > 0; /* the decoder reads <s> + labels */
        f->n_ids[i] = T2 >= 1 && T2 >= need && T2 <= max && n + joint <= max ? n : -1;
        *kept += f->n_ids[i] >= 0;
    }
    return ATTN_OK;
}

/* ---- the batch source -------------------------------------------------------------------------*/

typedef struct {
    const feat_set *f;
    const attn_asr_params *p;
    int F;
    long n;       /* usable utterances */
    long *index;  /* (n) their rows in f */
    int *lengths; /* (n) frames */
    attn_epoch_plans plans;
    long epoch; /* of the batch being made */
    float *x;
    int *len, *tgt;
    size_t cap_x, cap_t;
    int bos, eos; /* an attention decoder's (-1: CTC only) */
} speech_source;

/* The speed version utterance u trains on in the current epoch (1 without perturbation). */
static int pick(const speech_source *c, long u) {
    if (!c->f->fast[0]) return 1;
    double f = attn_audio_speed_draw(c->p->train.seed, (uint64_t)c->epoch << 32 | (uint64_t)u);
    return f < 0.95 ? 0 : f > 1.05 ? 2 : 1;
}

static int grow(void **p, size_t *cap, size_t need, size_t size) {
    if (need <= *cap) return 1;
    void *q = realloc(*p, need * size);
    if (!q) return 0;
    *p = q, *cap = need;
    return 1;
}

static attn_status speech_next(void *self, long index, int rank, int n_ranks, attn_batch *out) {
    speech_source *c = self;
    const long *rows;
    long n;
    ATTN_TRY(attn_epoch_plans_batch(&c->plans, index, &rows, &n, &c->epoch));
    long lo = n * rank / n_ranks, hi = n * (rank + 1) / n_ranks;
    if (hi <= lo)
        return attn_error(ATTN_ERR_INVALID, "batch %ld has %ld utterances: too few for %d processes",
                          index, n, n_ranks);
    int B = (int)(hi - lo), T = 1, Tt = 1, F = c->F;
    for (long k = lo; k < hi; k++) {
        long u = c->index[rows[k]];
        int frames;
        version(c->f, u, pick(c, u), &frames);
        if (frames > T) T = frames;
        if (c->f->n_ids[u] > Tt) Tt = c->f->n_ids[u];
    }
    int joint = c->bos > 0, Td = Tt + joint; /* decoder rows: <s> + labels, labels + </s> */
    /* lengths, then the targets (CTC's), then the decoder's input and targets */
    size_t ints = (size_t)B + (size_t)B * Tt + (joint ? 2 * (size_t)B * Td : 0);
    if (!grow((void **)&c->x, &c->cap_x, (size_t)B * T * F, sizeof(float)) ||
        !grow((void **)&c->tgt, &c->cap_t, ints, sizeof(int)))
        return attn_error(ATTN_ERR_NOMEM, "speech batch: out of memory");
    c->len = c->tgt + (size_t)B * Tt;
    int *din = c->len + B, *dtgt = din + (size_t)B * Td;
    memset(c->x, 0, (size_t)B * T * F * sizeof(float));
    for (int i = 0; i < B; i++) {
        long u = c->index[rows[lo + i]];
        int frames, k = c->f->n_ids[u];
        const float *src = version(c->f, u, pick(c, u), &frames);
        float *x = c->x + (size_t)i * T * F;
        memcpy(x, src, (size_t)frames * F * sizeof(float));
        if (c->p->max_warp > 0 || c->p->max_tilt > 0)
            ATTN_TRY(attn_feature_warp(x, frames, F, c->p->max_warp, c->p->max_tilt,
                                       c->p->train.seed ^ 0x77617270ULL,
                                       (uint64_t)index * 65536u + (uint64_t)(lo + i)));
        if (c->p->specaugment)
            ATTN_TRY(attn_specaugment(x, frames, F, &c->p->spec, c->p->train.seed,
                                      (uint64_t)index * 65536u + (uint64_t)(lo + i)));
        c->len[i] = frames;
        int *t = c->tgt + (size_t)i * Tt;
        memcpy(t, c->f->ids[u], (size_t)k * sizeof(int));
        for (int j = k; j < Tt; j++)
            t[j] = ATTN_IGNORE_INDEX;
        if (!joint) continue;
        int *in = din + (size_t)i * Td, *tg = dtgt + (size_t)i * Td;
        in[0] = c->bos;
        memcpy(in + 1, c->f->ids[u], (size_t)k * sizeof(int));
        memcpy(tg, c->f->ids[u], (size_t)k * sizeof(int));
        tg[k] = c->eos;
        for (int j = k + 1; j < Td; j++)
            in[j] = 0, tg[j] = ATTN_IGNORE_INDEX;
    }
    if (joint)
        *out = (attn_batch){.B = B, .T = T, .features = c->x, .lengths = c->len, .Tt = Td,
                            .tgt_in = din, .targets = dtgt, .Tc = Tt, .ctc_targets = c->tgt};
    else
        *out = (attn_batch){.B = B, .T = T, .features = c->x, .lengths = c->len, .Tt = Tt,
                            .targets = c->tgt};
    return ATTN_OK;
}

static void speech_free(void *self) {
    speech_source *c = self;
    attn_epoch_plans_free(&c->plans);
    free(c->index), free(c->lengths), free(c->x), free(c->tgt);
    free(c);
}

static attn_status make_source(const feat_set *f, const attn_asr_params *p, int F, int bos,
                               int eos, attn_batch_source **out) {
    *out = NULL;
    speech_source *c = calloc(1, sizeof *c);
    attn_batch_source *src = calloc(1, sizeof *src);
    if (c) c->index = malloc(((size_t)f->n + 1) * sizeof *c->index);
    if (c) c->lengths = malloc(((size_t)f->n + 1) * sizeof *c->lengths);
    if (!c || !src || !c->index || !c->lengths) {
        if (c) speech_free(c);
        free(src);
        return attn_error(ATTN_ERR_NOMEM, "speech source: out of memory");
    }
    c->f = f, c->p = p, c->F = F, c->bos = bos, c->eos = eos;
    for (long i = 0; i < f->n; i++)
        if (f->n_ids[i] >= 0) c->index[c->n] = i, c->lengths[c->n] = f->frames[i], c->n++;
    attn_status s = attn_epoch_plans_init(&c->plans, c->lengths, c->n, p->max_frames, p->bucket, 1,
                                          p->train.seed, BATCH_STREAM);
    if (s != ATTN_OK) {
        speech_free(c);
        free(src);
        return s;
    }
    *src = (attn_batch_source){
        .next = speech_next, .free = speech_free, .batches_per_epoch = c->plans.plan.n_batches, .self = c};
    *out = src;
    return ATTN_OK;
}

/* ---- one run ----------------------------------------------------------------------------------*/

typedef struct {
    const attn_asr_params *p;
    attn_recognizer *r;
    const attn_speech_set *dev;
    feat_set train_f, dev_f;
    long n_dev;
    char **hyps;
} run;

static void outer_progress(const attn_train_progress *pr, void *user) {
    const run *r = user;
    if (r->p->train.progress) r->p->train.progress(pr, r->p->train.user);
}

static int outer_abort(void *user) {
    const run *r = user;
    return r->p->train.abort ? r->p->train.abort(r->p->train.user) : 0;
}

/* metrics[0]: dev WER (%), [1]: dev CER (%), greedy. */
static attn_status dev_eval(attn_model *m, const attn_train_progress *pr, double *metrics,
                            void *user) {
    (void)m, (void)pr;
    run *r = user;
    attn_status s = ATTN_OK;
    for (long i = 0; s == ATTN_OK && i < r->n_dev; i++) {
        free(r->hyps[i]);
        r->hyps[i] = NULL;
        if (r->dev_f.frames[i])
            s = asr_decode(r->r, r->dev_f.feats[i], r->dev_f.frames[i], 1, &r->hyps[i], NULL);
        else if (!(r->hyps[i] = calloc(1, 1)))
            s = attn_error(ATTN_ERR_NOMEM, "out of memory");
    }
    attn_error_rate wer, cer;
    if (s == ATTN_OK)
        s = attn_corpus_wer((const char *const *)r->hyps,
                            (const char *const *)r->dev->transcripts, r->n_dev, &wer);
    if (s == ATTN_OK)
        s = attn_corpus_cer((const char *const *)r->hyps,
                            (const char *const *)r->dev->transcripts, r->n_dev, &cer);
    if (s == ATTN_OK) metrics[0] = 100 * wer.rate, metrics[1] = 100 * cer.rate;
    return s;
}

static attn_status make_model(run *r) {
    attn_config cfg = r->p->model;
    cfg.arch = cfg.n_dec_layers > 0 ? ATTN_ARCH_SEQ2SEQ : ATTN_ARCH_CTC;
    if (cfg.arch == ATTN_ARCH_CTC) cfg.ctc_weight = 0;
    cfg.vocab_size = r->r->n_labels;
    cfg.n_features = attn_fbank_dim(r->r->fb);
    cfg.pad_id = 0;
    return attn_model_create(&cfg, r->p->train.seed, &r->r->model);
}

static attn_status load_resume(run *r, attn_optimizer **opt, attn_train_state *st, float **best) {
    const attn_asr_params *p = r->p;
    *best = NULL;
    if (!p->state_path) return attn_error(ATTN_ERR_INVALID, "resume: no state_path");
    attn_status s = attn_checkpoint_load(p->state_path, &r->r->model, opt, st);
    if (s != ATTN_OK) return attn_error_context(s, "cannot resume");
    ATTN_TRY(asr_read_meta(p->state_path, r->r));
    ATTN_TRY(asr_check(p->state_path, r->r));
    return attn_train_resume_best(p->train.save_path, r->r->model, st, best);
}

/* A new run: labels, extractor, features, statistics, model. A resumed one reads the first two
 * and the statistics from its state. Then the features are normalised. */
static attn_status prepare(run *r, const attn_speech_set *train, attn_asr_result *res,
                           attn_optimizer **opt, attn_train_state *st, float **best) {
    const attn_asr_params *p = r->p;
    if (p->resume) {
        ATTN_TRY(load_resume(r, opt, st, best));
    } else {
        r->r->frontend = p->fbank;
        r->r->cmvn_utterance = p->cmvn_utterance;
        ATTN_TRY(make_labels(train, p->model.n_dec_layers > 0, r->r));
        ATTN_TRY(attn_fbank_create(&r->r->frontend, &r->r->fb));
    }
    double t0 = now();
    ATTN_TRY(compute_features(&r->r->frontend, train, p->speed_perturb, p->pad_ms, p->train.seed,
                              &r->train_f));
    if (r->dev) ATTN_TRY(compute_features(&r->r->frontend, r->dev, 0, 0, 0, &r->dev_f));
    res->feature_seconds = now() - t0;
    int F = attn_fbank_dim(r->r->fb);
    if (!p->resume) {
        ATTN_TRY(attn_cmvn_stats_init(&r->r->cmvn, F));
        for (long i = 0; i < r->train_f.n; i++)
            if (r->train_f.frames[i])
                ATTN_TRY(attn_cmvn_stats_add(&r->r->cmvn, r->train_f.feats[i],
                                             r->train_f.frames[i]));
        if (r->r->cmvn.count < 1)
            return attn_error(ATTN_ERR_INVALID, "the training audio has no frame at all");
        ATTN_TRY(make_model(r));
        ATTN_TRY(asr_check("the training run", r->r));
    }
    ATTN_TRY(normalise(r->r, &r->train_f));
    ATTN_TRY(normalise(r->r, &r->dev_f));
    long kept = 0;
    ATTN_TRY(encode_targets(r->r, train, &r->train_f, &kept));
    res->n_train = kept, res->n_dropped = train->n - kept;
    for (long i = 0; i < r->train_f.n; i++)
        if (r->train_f.n_ids[i] >= 0)
            res->train_seconds += r->train_f.frames[i] * (p->fbank.frame_shift_ms / 1000.0);
    if (kept < 1)
        return attn_error(ATTN_ERR_INVALID,
                          "no training utterance is usable (each needs 4 frames for each of its "
                          "characters, and at most %d encoder positions)",
                          attn_model_config(r->r->model)->max_len);
    return ATTN_OK;
}

static attn_status fit(run *r, attn_asr_result *res, attn_optimizer **opt, attn_train_state *st,
                       const float *best) {
    const attn_asr_params *p = r->p;
    attn_train_params tp = p->train;
    tp.progress = outer_progress, tp.abort = outer_abort, tp.user = r;
    tp.state_path = p->state_path, tp.resume_best = best;
    if (r->dev && r->dev->n > 0) {
        r->n_dev = p->dev_utterances > 0 && p->dev_utterances < r->dev->n ? p->dev_utterances
                                                                            : r->dev->n;
        r->hyps = calloc((size_t)r->n_dev + 1, sizeof *r->hyps);
        if (!r->hyps) return attn_error(ATTN_ERR_NOMEM, "out of memory");
        tp.on_eval = dev_eval, tp.higher_is_better = 0;
        tp.keep_best = 1, tp.save_best = 1;
    } else {
        tp.on_eval = NULL, tp.eval_every = 0, tp.eval_at_end = 0, tp.eval_each_epoch = 0;
    }
    char *labels = NULL, *frontend = NULL, *cmvn = NULL;
    attn_meta meta[MAX_META + 4];
    int n_meta = 0;
    attn_status s = ATTN_OK;
    if (p->train.n_meta > MAX_META)
        s = attn_error(ATTN_ERR_INVALID, "more than %d metadata pairs", MAX_META);
    if (s == ATTN_OK) s = asr_meta_json(r->r, &labels, &frontend, &cmvn);
    if (s == ATTN_OK) {
        meta[n_meta++] = (attn_meta){"task", "asr"};
        meta[n_meta++] = (attn_meta){"labels", labels};
        meta[n_meta++] = (attn_meta){"frontend", frontend};
        meta[n_meta++] = (attn_meta){"cmvn", cmvn};
        for (int i = 0; i < p->train.n_meta; i++)
            meta[n_meta++] = p->train.meta[i];
    }
    tp.meta = meta, tp.n_meta = n_meta;
    attn_batch_source *src = NULL;
    if (s == ATTN_OK)
        s = make_source(&r->train_f, p, attn_model_config(r->r->model)->n_features, r->r->bos,
                        r->r->eos, &src);
    if (s == ATTN_OK && !*opt) s = attn_optimizer_create(r->r->model, p->adamw, opt);
    if (s == ATTN_OK) s = attn_train(r->r->model, *opt, src, &tp, st, &res->train);
    res->best_wer = r->dev ? st->best_metric : NAN, res->best_step = st->best_step;
    attn_batch_source_free(src);
    free(labels), free(frontend), free(cmvn);
    return s;
}

attn_status attn_asr_train(const attn_speech_set *train, const attn_speech_set *dev,
                           const attn_asr_params *params, attn_recognizer **out,
                           attn_asr_result *res) {
    if (!train || !params || !out)
        return attn_error(ATTN_ERR_INVALID, "attn_asr_train: NULL argument");
    *out = NULL;
    attn_asr_result own;
    if (!res) res = &own;
    *res = (attn_asr_result){.best_wer = NAN};
    if (train->n < 1) return attn_error(ATTN_ERR_INVALID, "no training utterances");
    if (params->max_frames < 1 || params->bucket < 1)
        return attn_error(ATTN_ERR_INVALID, "max_frames and bucket must be >= 1");
    run r = {.p = params, .dev = dev && dev->n > 0 ? dev : NULL};
    r.r = calloc(1, sizeof *r.r);
    if (!r.r) return attn_error(ATTN_ERR_NOMEM, "out of memory");
    attn_optimizer *opt = NULL;
    attn_train_state st = {0};
    float *best = NULL;
    attn_status s = prepare(&r, train, res, &opt, &st, &best);
    if (s == ATTN_OK) s = fit(&r, res, &opt, &st, best);
    attn_optimizer_free(opt);
    free(best);
    feat_set_free(&r.train_f);
    feat_set_free(&r.dev_f);
    for (long i = 0; r.hyps && i < r.n_dev; i++)
        free(r.hyps[i]);
    free(r.hyps);
    if (s == ATTN_OK || (s == ATTN_ERR_ABORTED && r.r->model))
        *out = r.r;
    else
        attn_recognizer_free(r.r);
    return s;
}
