/* tasks/classifier_train.c: training a text classifier and cross-validating one
 * (include/attn/classifier.h).
 *
 * Training: the labels, the tokenizer and the encoded texts; a model from the config; epochs of
 * length-bucketed batches (attn_cls_source) through attn_train, with dev accuracy and macro-F1
 * after each epoch deciding which epoch is kept and saved (with the tokenizer and labels in the
 * checkpoint's metadata). The plot of the training loss and dev macro-F1 is drawn from the
 * progress events. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "attn/classifier.h"
#include "attn/metrics.h"
#include "attn/viz.h"
#include "core/error.h"
#include "eval/json_out.h"
#include "tasks/classifier_internal.h"

#define MAX_CURVE 600 /* points of the training-loss curve in the plot */
#define MAX_META 32   /* the caller's metadata pairs, plus ours */

attn_classifier_params attn_classifier_default_params(void) {
    attn_classifier_params p = {.model = attn_config_default(ATTN_ARCH_CLASSIFIER),
                                .train = attn_train_default_params(),
                                .adamw = attn_adamw_default_params(),
                                .batch = 32,
                                .bucket = 50,
                                .vocab_size = 8000};
    attn_config *m = &p.model;
    m->max_len = 128, m->n_layers = 2, m->d_model = 128, m->n_heads = 4, m->d_ff = 512;
    m->dropout = 0.1f;
    p.train.epochs = 10;
    p.train.patience = 3;
    p.train.schedule = (attn_schedule){.kind = ATTN_SCHEDULE_COSINE, .lr = 5e-4f, .warmup = -1};
    p.adamw.weight_decay = 0.01f;
    p.adamw.clip_norm = 1.0f;
    return p;
}

/* ---- the parts ------------------------------------------------------------------------------- */

/* params->tokenizer loaded (it must have [CLS]), or a byte-level BPE trained on train's texts. */
static attn_status make_tokenizer(const attn_classifier_params *p, const attn_tsv *train,
                                  attn_tokenizer **out) {
    if (p->tokenizer) {
        attn_status s = attn_tokenizer_load(p->tokenizer, out);
        if (s != ATTN_OK) return attn_error_context(s, "cannot load tokenizer '%s'", p->tokenizer);
        if (attn_tokenizer_special(*out, ATTN_SPECIAL_CLS) >= 0) return ATTN_OK;
        attn_tokenizer_free(*out);
        *out = NULL;
        return attn_error(
            ATTN_ERR_INVALID,
            "tokenizer '%s' has no [CLS] token, which a classifier's texts start with",
            p->tokenizer);
    }
    size_t *lengths = malloc(((size_t)train->n + 1) * sizeof *lengths);
    if (!lengths) return attn_error(ATTN_ERR_NOMEM, "out of memory for %ld texts", train->n);
    for (long i = 0; i < train->n; i++)
        lengths[i] = strlen(train->texts[i]);
    attn_bpe_train_params bp = attn_bpe_train_default_params();
    bp.vocab_size = p->vocab_size;
    bp.lowercase = p->lowercase;
    attn_status s = attn_tokenizer_train_bpe((const char *const *)train->texts, lengths,
                                             (size_t)train->n, bp, out);
    free(lengths);
    if (s != ATTN_OK) return attn_error_context(s, "a tokenizer for '%s'", train->name);
    return ATTN_OK;
}

/* The labels of train and dev together, sorted. */
static attn_status make_labels(const attn_tsv *train, const attn_tsv *dev, attn_labels **out) {
    long n = train->n + (dev ? dev->n : 0);
    attn_tsv both = {
        .n = n, .labels = malloc(((size_t)n + 1) * sizeof(char *)), .name = train->name};
    if (!both.labels) return attn_error(ATTN_ERR_NOMEM, "out of memory for %ld labels", n);
    memcpy(both.labels, train->labels, (size_t)train->n * sizeof(char *));
    if (dev && dev->n) memcpy(both.labels + train->n, dev->labels, (size_t)dev->n * sizeof(char *));
    attn_status s = attn_labels_from_tsv(&both, out);
    free(both.labels);
    return s;
}

static attn_status copy_labels(const attn_labels *l, attn_labels **out) {
    return attn_labels_create(attn_labels_names(l), attn_labels_count(l), out);
}

/* ---- one run --------------------------------------------------------------------------------- */

typedef struct {
    const attn_classifier_params *p;
    attn_classifier *c;
    attn_cls_data train, dev;
    int has_dev;
    int *pred; /* dev predictions */
    attn_classifier_result *res;
    /* the plot: the training loss (mean over log_every steps), the dev macro-F1 by step */
    double curve_x[MAX_CURVE + 1], curve_y[MAX_CURVE + 1];
    int n_curve;
    long log_every, window_n;
    double window_loss;
    double *f1_x, *f1_y;
    int n_f1;
    int best_told; /* an evaluation of this call was the best (res->best_* are set) */
} run;

/* Dev macro-F1 (metrics[0]) and accuracy (metrics[1]); NaN without dev. */
static attn_status dev_eval(attn_model *m, const attn_train_progress *pr, double *metrics,
                            void *user) {
    (void)m;
    run *r = user;
    if (!r->has_dev) return ATTN_OK;
    ATTN_TRY(attn_classifier_run(r->c, &r->dev, r->p->batch, r->pred, NULL));
    attn_cls_report rep;
    ATTN_TRY(attn_classification_report(r->dev.labels, r->pred, r->dev.n,
                                        attn_model_config(r->c->model)->n_classes, &rep));
    metrics[0] = rep.macro_f1;
    metrics[1] = rep.accuracy;
    attn_cls_report_free(&rep);
    r->f1_x[r->n_f1] = (double)pr->step;
    r->f1_y[r->n_f1++] = metrics[0];
    return ATTN_OK;
}

static void write_plot(const run *r) {
    attn_series series[2] = {
        {"train loss", r->curve_x, r->curve_y, r->n_curve, 0},
        {"dev macro-F1", r->f1_x, r->f1_y, r->n_f1, 1},
    };
    /* a plot that cannot be drawn is no reason to lose the run: it is drawn again next epoch */
    attn_plot_png(r->p->plot_path, "attn train classify", "step", series, r->has_dev ? 2 : 1);
}

static void on_progress(const attn_train_progress *pr, void *user) {
    run *r = user;
    if (pr->event == ATTN_TRAIN_STEP) {
        r->window_loss += pr->loss;
        if (++r->window_n >= r->log_every && r->n_curve < MAX_CURVE) {
            r->curve_x[r->n_curve] = (double)pr->step;
            r->curve_y[r->n_curve++] = r->window_loss / (double)r->window_n;
            r->window_loss = 0;
            r->window_n = 0;
        }
    }
    if (pr->event == ATTN_TRAIN_EVAL && pr->is_best) {
        r->best_told = 1;
        r->res->best_epoch = pr->epoch;
        r->res->best_f1 = pr->metrics[0];
        r->res->best_accuracy = pr->metrics[1];
    }
    if (pr->event == ATTN_TRAIN_EVAL && r->p->plot_path) write_plot(r);
    if (r->p->train.progress) r->p->train.progress(pr, r->p->train.user);
}

static int outer_abort(void *user) {
    const run *r = user;
    return r->p->train.abort ? r->p->train.abort(r->p->train.user) : 0;
}

/* The model from the config, the tokenizer and the labels. */
static attn_status make_model(run *r) {
    const attn_classifier_params *p = r->p;
    attn_config cfg = p->model;
    cfg.arch = ATTN_ARCH_CLASSIFIER;
    cfg.vocab_size = attn_tokenizer_vocab_size(r->c->tok);
    cfg.n_classes = attn_labels_count(r->c->labels);
    int pad = attn_tokenizer_special(r->c->tok, ATTN_SPECIAL_PAD);
    cfg.pad_id = pad >= 0 ? pad : 0;
    ATTN_TRY(attn_model_create(&cfg, p->train.seed, &r->c->model));
    r->c->pad_id = cfg.pad_id;
    return attn_model_reserve(r->c->model, p->batch, cfg.max_len, 0);
}

/* ---- resuming -------------------------------------------------------------------------------- */

#define SETTINGS_CAP 1024

/* Everything a run's result depends on besides the data's text, the tokenizer and the labels, as
 * "key=value" words: what a resumed run must share with the one it continues. n_train: the
 * training texts encoded. */
static void run_settings(const attn_classifier_params *p, long n_train, int has_dev, char *buf) {
    const attn_config *m = &p->model;
    const attn_train_params *t = &p->train;
    const attn_schedule *sc = &t->schedule;
    snprintf(buf, SETTINGS_CAP,
             "texts=%ld dev=%d epochs=%d batch=%d bucket=%d token_dropout=%.9g accum=%d "
             "patience=%d seed=%llu schedule=%s lr=%.9g min_lr=%.9g warmup=%ld max_len=%d "
             "layers=%d d_model=%d heads=%d d_ff=%d dropout=%.9g norm=%d pos=%d act=%d pool=%d "
             "label_smoothing=%.9g beta1=%.9g beta2=%.9g eps=%.9g weight_decay=%.9g clip=%.9g",
             n_train, has_dev, t->epochs, p->batch, p->bucket, p->token_dropout, t->accum,
             t->patience, (unsigned long long)t->seed, attn_schedule_name(sc->kind), sc->lr,
             sc->min_lr, sc->warmup, m->max_len, m->n_layers, m->d_model, m->n_heads, m->d_ff,
             m->dropout, (int)m->norm, (int)m->pos, (int)m->act, (int)m->pool, m->label_smoothing,
             p->adamw.beta1, p->adamw.beta2, p->adamw.eps, p->adamw.weight_decay,
             p->adamw.clip_norm);
}

/* ATTN_ERR_INVALID naming the first word of `want` (this call's settings) that `have` (the
 * state's) does not hold. */
static attn_status same_settings(const char *path, const char *have, const char *want) {
    if (!strcmp(have, want)) return ATTN_OK;
    const char *a = have, *b = want;
    while (*a && *a == *b)
        a++, b++;
    while (a > have && a[-1] != ' ') /* back to the start of the differing word */
        a--, b--;
    int la = (int)strcspn(a, " "), lb = (int)strcspn(b, " ");
    return attn_error(ATTN_ERR_INVALID,
                      "cannot resume from '%s': its run has %.*s but this one %.*s (resume with "
                      "the data and options of the interrupted run)",
                      path, la, a, lb, b);
}

/* The interrupted run: the model, moments and train state of params->state_path, with the
 * tokenizer and labels of its metadata. */
static attn_status load_state(run *r, attn_optimizer **opt, attn_train_state *st) {
    const char *path = r->p->state_path;
    attn_status s = attn_checkpoint_load(path, &r->c->model, opt, st);
    if (s == ATTN_OK) s = attn_classifier_read_parts(path, r->c);
    if (s != ATTN_OK) return attn_error_context(s, "cannot resume");
    if (st->step == 0)
        return attn_error(ATTN_ERR_FORMAT, "cannot resume from '%s': it holds no training state",
                          path);
    return ATTN_OK;
}

/* The best parameters so far (*best, malloc'd; NULL before any evaluation), from save_path. Its
 * step must be the state's best one, or later than the state (a save of the best written just
 * before the run was killed, which the resumed run writes again). */
static attn_status load_best(run *r, const attn_train_state *st, float **best) {
    *best = NULL;
    if (st->best_step == 0) return ATTN_OK;
    const char *path = r->p->train.save_path;
    attn_model *b = NULL;
    attn_train_state bst;
    attn_status s = attn_checkpoint_load(path, &b, NULL, &bst);
    if (s != ATTN_OK) return attn_error_context(s, "cannot resume: the best model so far");
    size_t n = attn_model_num_params(b);
    if (n != attn_model_num_params(r->c->model))
        s = attn_error(ATTN_ERR_SHAPE, "cannot resume: '%s' holds another model than '%s'", path,
                       r->p->state_path);
    else if (bst.step != st->best_step && bst.step <= st->step)
        s = attn_error(ATTN_ERR_FORMAT,
                       "cannot resume: '%s' holds the model of step %ld, but the best of '%s' is "
                       "step %ld",
                       path, bst.step, r->p->state_path, st->best_step);
    else if (!(*best = malloc(n * sizeof **best)))
        s = attn_error(ATTN_ERR_NOMEM, "cannot resume: no room for %zu parameters", n);
    else
        memcpy(*best, attn_model_params(b), n * sizeof **best);
    attn_model_free(b);
    return s;
}

/* A resumed run whose best evaluation came before it: that epoch and its dev figures (the model
 * holds the best parameters at the return). */
static attn_status report_earlier_best(run *r, const attn_train_state *st, long bpe) {
    if (r->best_told || st->best_step == 0) return ATTN_OK;
    r->res->best_epoch = (int)((st->best_step - 1) * r->p->train.accum / bpe) + 1;
    double metrics[ATTN_TRAIN_METRICS] = {NAN, NAN, NAN, NAN};
    attn_train_progress pr = {.step = st->best_step};
    ATTN_TRY(dev_eval(r->c->model, &pr, metrics, r));
    r->res->best_f1 = metrics[0];
    r->res->best_accuracy = metrics[1];
    return ATTN_OK;
}

/* Encodes the data, makes the model, and runs attn_train with the dev evaluation. */
static attn_status train_run(run *r, const attn_tsv *train_tsv, const attn_tsv *dev_tsv,
                             attn_optimizer **opt, attn_train_state *st) {
    const attn_classifier_params *p = r->p;
    int max_len = p->model.max_len;
    ATTN_TRY(attn_cls_data_encode(train_tsv, r->c->tok, r->c->labels, max_len, 0, &r->train));
    if (dev_tsv)
        ATTN_TRY(attn_cls_data_encode(dev_tsv, r->c->tok, r->c->labels, max_len, 0, &r->dev));
    r->has_dev = dev_tsv && r->dev.n > 0;
    r->res->n_train = r->train.n;
    r->res->n_truncated = r->train.n_truncated;
    char settings[SETTINGS_CAP], *have = NULL;
    run_settings(p, r->train.n, r->has_dev, settings);
    if (p->resume) {
        attn_status s = attn_checkpoint_read_meta(p->state_path, "classify_run", &have);
        if (s == ATTN_OK) s = same_settings(p->state_path, have, settings);
        free(have);
        if (s != ATTN_OK) return s;
        ATTN_TRY(
            attn_model_reserve(r->c->model, p->batch, attn_model_config(r->c->model)->max_len, 0));
    } else {
        ATTN_TRY(make_model(r));
    }

    attn_cls_source_params sp = {.batch = p->batch,
                                 .bucket = p->bucket,
                                 .pad_id = r->c->pad_id,
                                 .token_dropout = p->token_dropout,
                                 .seed = p->train.seed};
    sp.drop_id = attn_tokenizer_special(r->c->tok, ATTN_SPECIAL_MASK);
    if (sp.drop_id < 0) sp.drop_id = attn_tokenizer_special(r->c->tok, ATTN_SPECIAL_UNK);
    if (sp.drop_id < 0 && p->token_dropout > 0)
        return attn_error(ATTN_ERR_INVALID, "token dropout needs a tokenizer with [MASK] or [UNK]");
    attn_batch_source *src;
    ATTN_TRY(attn_cls_source(&r->train, sp, &src));

    attn_train_params tp = p->train;
    tp.steps = 0;
    long total = ((long)tp.epochs * src->batches_per_epoch + tp.accum - 1) / tp.accum;
    if (tp.schedule.warmup < 0) tp.schedule.warmup = total / 20;
    if (tp.schedule.d_model == 0) tp.schedule.d_model = p->model.d_model;
    tp.eval_every = 0, tp.eval_each_epoch = 1, tp.eval_at_end = 0;
    tp.higher_is_better = 1, tp.keep_best = 1, tp.save_best = 1, tp.save_optimizer = 0;
    tp.state_path = p->state_path;
    if (!r->has_dev) tp.patience = 0;
    tp.on_eval = dev_eval;
    tp.progress = on_progress;
    tp.abort = outer_abort;
    tp.user = r;
    r->log_every = (total + MAX_CURVE - 1) / MAX_CURVE;

    char *tok_json = NULL, *labels_json = NULL;
    attn_meta meta[MAX_META + 4];
    int n_meta = 0;
    attn_status s = ATTN_OK;
    if (p->train.n_meta > MAX_META)
        s = attn_error(ATTN_ERR_INVALID, "more than %d metadata pairs", MAX_META);
    if (s == ATTN_OK && (tp.save_path || tp.state_path)) {
        s = attn_tokenizer_to_json(r->c->tok, &tok_json);
        if (s == ATTN_OK) s = attn_labels_to_json(r->c->labels, &labels_json);
        meta[n_meta++] = (attn_meta){"task", "classify"};
        meta[n_meta++] = (attn_meta){"tokenizer", tok_json};
        meta[n_meta++] = (attn_meta){"labels", labels_json};
        meta[n_meta++] = (attn_meta){"classify_run", settings};
        for (int i = 0; s == ATTN_OK && i < p->train.n_meta; i++)
            meta[n_meta++] = p->train.meta[i];
    }
    tp.meta = meta;
    tp.n_meta = n_meta;
    r->f1_x = malloc(((size_t)tp.epochs + 1) * sizeof *r->f1_x);
    r->f1_y = malloc(((size_t)tp.epochs + 1) * sizeof *r->f1_y);
    r->pred = malloc(((size_t)r->dev.n + 1) * sizeof *r->pred);
    if (s == ATTN_OK && (!r->f1_x || !r->f1_y || !r->pred))
        s = attn_error(ATTN_ERR_NOMEM, "out of memory");
    float *best = NULL;
    if (s == ATTN_OK && p->resume) s = load_best(r, st, &best);
    tp.resume_best = best;
    if (s == ATTN_OK && !*opt) s = attn_optimizer_create(r->c->model, p->adamw, opt);
    if (s == ATTN_OK) s = attn_train(r->c->model, *opt, src, &tp, st, &r->res->train);
    if ((s == ATTN_OK || s == ATTN_ERR_ABORTED) && p->resume) {
        attn_status e = report_earlier_best(r, st, src->batches_per_epoch);
        if (e != ATTN_OK) s = e;
    }
    free(best);
    attn_batch_source_free(src);
    free(tok_json);
    free(labels_json);
    return s;
}

attn_status attn_classifier_train(const attn_tsv *train, const attn_tsv *dev,
                                  const attn_labels *labels, const attn_classifier_params *params,
                                  attn_classifier **out, attn_classifier_result *res) {
    if (!train || !params || !out)
        return attn_error(ATTN_ERR_INVALID, "attn_classifier_train: NULL argument");
    *out = NULL;
    attn_classifier_result own_res;
    if (!res) res = &own_res;
    *res = (attn_classifier_result){.best_f1 = NAN, .best_accuracy = NAN};
    res->train.recent_loss = res->train.epoch_loss = NAN;
    if (train->n == 0) return attn_error(ATTN_ERR_INVALID, "'%s' holds no examples", train->name);
    run *r = calloc(1, sizeof *r);
    attn_classifier *c = calloc(1, sizeof *c);
    attn_status s = r && c ? ATTN_OK : attn_error(ATTN_ERR_NOMEM, "out of memory");
    attn_optimizer *opt = NULL;
    attn_train_state st = {0};
    if (s == ATTN_OK && params->resume && (!params->state_path || !params->train.save_path))
        s = attn_error(ATTN_ERR_INVALID, "resuming needs state_path and train.save_path");
    if (s == ATTN_OK) *r = (run){.p = params, .c = c, .res = res};
    if (s == ATTN_OK && params->resume) {
        s = load_state(r, &opt, &st);
    } else if (s == ATTN_OK) {
        s = labels ? copy_labels(labels, &c->labels) : make_labels(train, dev, &c->labels);
        if (s == ATTN_OK && attn_labels_count(c->labels) < 2)
            s = attn_error(ATTN_ERR_INVALID,
                           "'%s' has a single label ('%s'); a classifier needs at least two",
                           train->name, attn_labels_name(c->labels, 0));
        if (s == ATTN_OK) s = make_tokenizer(params, train, &c->tok);
    }
    if (s == ATTN_OK) s = train_run(r, train, dev, &opt, &st);
    attn_optimizer_free(opt);
    if (r) {
        attn_cls_data_free(&r->train);
        attn_cls_data_free(&r->dev);
        free(r->pred);
        free(r->f1_x);
        free(r->f1_y);
        free(r);
    }
    if (s == ATTN_OK || (s == ATTN_ERR_ABORTED && c->model))
        *out = c;
    else
        attn_classifier_free(c);
    return s;
}

/* ---- cross-validation ------------------------------------------------------------------------ */

/* The rows of t whose fold is (in_fold) or is not k, as a view: pointers into t, which keeps
 * owning the strings; freed with free_view. */
static attn_status make_view(const attn_tsv *t, const int *fold, int k, int in_fold,
                             attn_tsv *view) {
    memset(view, 0, sizeof *view);
    view->labels = malloc(((size_t)t->n + 1) * sizeof *view->labels);
    view->texts = malloc(((size_t)t->n + 1) * sizeof *view->texts);
    view->lines = malloc(((size_t)t->n + 1) * sizeof *view->lines);
    view->name = t->name;
    if (!view->labels || !view->texts || !view->lines)
        return attn_error(ATTN_ERR_NOMEM, "out of memory for %ld examples", t->n);
    for (long i = 0; i < t->n; i++)
        if ((fold[i] == k) == in_fold) {
            view->labels[view->n] = t->labels[i];
            view->texts[view->n] = t->texts[i];
            view->lines[view->n++] = t->lines[i];
        }
    return ATTN_OK;
}

static void free_view(attn_tsv *view) {
    free(view->labels);
    free(view->texts);
    free(view->lines);
    memset(view, 0, sizeof *view);
}

/* Trains on every fold but k, scores fold k. */
static attn_status run_fold(const attn_tsv *all, const attn_tsv *dev, const int *fold, int k,
                            const attn_labels *labels, const attn_classifier_params *p, int batch,
                            attn_fold_result *out) {
    attn_tsv train, test;
    attn_classifier *c = NULL;
    attn_classifier_result res;
    attn_cls_report rep = {0};
    attn_status s = make_view(all, fold, k, 0, &train);
    if (s == ATTN_OK) s = make_view(all, fold, k, 1, &test);
    if (s == ATTN_OK) s = attn_classifier_train(&train, dev, labels, p, &c, &res);
    if (s == ATTN_OK) s = attn_classifier_evaluate(&c, 1, &test, 0, batch, &rep, NULL);
    if (s == ATTN_OK)
        *out =
            (attn_fold_result){train.n, test.n, res.train.epochs_done, rep.accuracy, rep.macro_f1};
    attn_cls_report_free(&rep);
    attn_classifier_free(c);
    free_view(&train);
    free_view(&test);
    return s;
}

attn_status attn_classifier_kfold(const attn_tsv *all, const attn_tsv *dev, int k,
                                  const attn_classifier_params *params, int batch,
                                  void (*on_fold)(int fold, int k, const attn_fold_result *r,
                                                  void *user),
                                  void *user, attn_fold_result *out) {
    if (!all || !params || !out) return attn_error(ATTN_ERR_INVALID, "kfold: NULL argument");
    if (k < 2) return attn_error(ATTN_ERR_INVALID, "kfold: k = %d < 2", k);
    if (all->n < k)
        return attn_error(ATTN_ERR_INVALID, "--folds %d needs at least %d examples; '%s' has %ld",
                          k, k, all->name, all->n);
    attn_classifier_params p = *params;
    p.train.save_path = NULL;
    p.plot_path = NULL;
    attn_labels *labels = NULL;
    int *fold = malloc((size_t)all->n * sizeof *fold);
    attn_status s = fold ? attn_labels_from_tsv(all, &labels) : attn_error(ATTN_ERR_NOMEM, "kfold");
    if (s == ATTN_OK) s = attn_kfold_assign(all->n, k, params->train.seed, fold);
    for (int i = 0; s == ATTN_OK && i < k; i++) {
        if (on_fold) on_fold(i, k, NULL, user);
        s = run_fold(all, dev, fold, i, labels, &p, batch, &out[i]);
        if (s == ATTN_OK && on_fold) on_fold(i, k, &out[i], user);
    }
    free(fold);
    attn_labels_free(labels);
    return s;
}

/* Adds {"mean": m, "std": s} of x[0..k) under key; 0 when out of memory. */
static int add_mean_std(cJSON *root, const char *key, const double *x, int k, double *mean,
                        double *std) {
    if (attn_mean_std(x, k, 0, mean, std) != ATTN_OK) return 0;
    cJSON *o = root ? cJSON_AddObjectToObject(root, key) : NULL;
    return !root || (o && cJSON_AddNumberToObject(o, "mean", *mean) &&
                     cJSON_AddNumberToObject(o, "std", *std));
}

static cJSON *fold_json(const attn_fold_result *r, int i) {
    cJSON *o = cJSON_CreateObject();
    if (o && cJSON_AddNumberToObject(o, "fold", i + 1) &&
        cJSON_AddNumberToObject(o, "n_train", (double)r->n_train) &&
        cJSON_AddNumberToObject(o, "n_test", (double)r->n_test) &&
        cJSON_AddNumberToObject(o, "epochs", r->epochs) &&
        cJSON_AddNumberToObject(o, "accuracy", r->accuracy) &&
        cJSON_AddNumberToObject(o, "macro_f1", r->macro_f1))
        return o;
    cJSON_Delete(o);
    return NULL;
}

attn_status attn_folds_format(const attn_fold_result *f, int k, int json, char **out) {
    if (!out) return attn_error(ATTN_ERR_INVALID, "folds format: out is NULL");
    *out = NULL;
    if (!f || k < 1) return attn_error(ATTN_ERR_INVALID, "folds format: no folds");
    double *x = malloc(2 * (size_t)k * sizeof *x), acc[2], f1[2];
    cJSON *root = json ? cJSON_CreateObject() : NULL, *folds = NULL;
    int ok = x && (!json || (root && cJSON_AddNumberToObject(root, "k", k) &&
                             (folds = cJSON_AddArrayToObject(root, "folds"))));
    for (int i = 0; ok && i < k; i++) {
        x[i] = f[i].accuracy, x[k + i] = f[i].macro_f1;
        cJSON *o = json ? fold_json(&f[i], i) : NULL;
        ok = !json || (o && cJSON_AddItemToArray(folds, o));
        if (!ok) cJSON_Delete(o);
    }
    ok = ok && add_mean_std(root, "accuracy", x, k, &acc[0], &acc[1]) &&
         add_mean_std(root, "macro_f1", x + k, k, &f1[0], &f1[1]);
    free(x);
    char line[160];
    if (json) {
        *out = ok ? json_take_text(root) : (cJSON_Delete(root), NULL);
    } else if (ok) {
        snprintf(line, sizeof line, "accuracy mean %.4f  std %.4f\nmacro_f1 mean %.4f  std %.4f",
                 acc[0], acc[1], f1[0], f1[1]);
        if ((*out = malloc(strlen(line) + 1))) strcpy(*out, line);
    }
    return *out ? ATTN_OK : attn_error(ATTN_ERR_NOMEM, "folds format: out of memory");
}
