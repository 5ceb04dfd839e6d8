/* train/trainer.c: the training loop every family runs (attn/train.h, attn_train).
 *
 * One step: zero the gradients; for each of `accum` micro-batches (batch number i = step * accum +
 * k of the run), seed dropout with (seed, i), forward, add the loss sum and count, backward of the
 * sum; one AdamW step with the gradient divided by the step's count. Then, as the parameters ask,
 * an evaluation (keep / save the best, patience) and a checkpoint. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attn/runtime.h"
#include "attn/train.h"
#include "core/error.h"
#include "io/file.h"
#include "train/optimizer_internal.h"

#define RECENT 50 /* step losses averaged for attn_train_result.recent_loss */

attn_train_params attn_train_default_params(void) {
    return (attn_train_params){
        .epochs = 1,
        .accum = 1,
        .schedule = {.kind = ATTN_SCHEDULE_CONSTANT, .lr = 1e-3f},
        .seed = 1,
        .n_ranks = 1,
    };
}

void attn_batch_source_free(attn_batch_source *src) {
    if (!src) return;
    if (src->free) src->free(src->self);
    free(src);
}

static double seconds_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The run as the loop sees it. */
typedef struct {
    attn_model *m;
    attn_optimizer *opt;
    attn_batch_source *src;
    const attn_train_params *p;
    attn_train_state *st;
    attn_train_result res;
    attn_train_progress prog;
    long total;  /* steps in the run */
    float *best; /* keep_best: the parameters of the best evaluation */
    float *ema;  /* ema_decay > 0: the average, held by the optimizer (checkpoints carry it) */
    float *raw;  /* ema_decay > 0: the weights, while the model holds the average */
    size_t n_params;
    double recent[RECENT];
    long n_recent;
    double epoch_sum; /* step losses of the epoch in progress */
    long epoch_n;
    int since_best;
    double t0;
} run;

static attn_status check_params(const attn_train_params *p, const attn_batch_source *src) {
    if (p->accum < 1) return attn_error(ATTN_ERR_INVALID, "train: accum %d < 1", p->accum);
    if (p->n_ranks < 1 || p->rank < 0 || p->rank >= p->n_ranks)
        return attn_error(ATTN_ERR_INVALID, "train: rank %d of %d", p->rank, p->n_ranks);
    if (p->steps < 0) return attn_error(ATTN_ERR_INVALID, "train: steps %ld < 0", p->steps);
    if (p->steps == 0 && (p->epochs < 1 || src->batches_per_epoch < 1))
        return attn_error(ATTN_ERR_INVALID,
                          "train: a run of `epochs` (%d) needs epochs >= 1 and a source with a "
                          "fixed number of batches per epoch",
                          p->epochs);
    if (p->eval_every < 0 || p->save_every < 0 || p->patience < 0)
        return attn_error(ATTN_ERR_INVALID, "train: negative eval_every, save_every or patience");
    if (!src->next) return attn_error(ATTN_ERR_INVALID, "train: the batch source has no next()");
    if (p->save_path) ATTN_TRY(attn_file_check_output(p->save_path)); /* before, not after, a run */
    return ATTN_OK;
}

/* Epoch (1-based) of step s: the epoch of its first batch. */
static int epoch_of(const run *r, long s) {
    long bpe = r->src->batches_per_epoch;
    return bpe > 0 ? (int)(s * r->p->accum / bpe) + 1 : 0;
}

static void tell(run *r, attn_train_event ev) {
    r->prog.event = ev;
    r->prog.seconds = seconds_now() - r->t0;
    if (r->p->progress) r->p->progress(&r->prog, r->p->user);
}

/* Index of the largest of x[k] (the first on ties). */
static int argmax(const float *x, int k) {
    int best = 0;
    for (int j = 1; j < k; j++)
        if (x[j] > x[best]) best = j;
    return best;
}

/* One optimizer step (step s): accum micro-batches, the mean gradient, AdamW. */
static attn_status train_step(run *r, long s) {
    const attn_train_params *p = r->p;
    attn_model_zero_grad(r->m);
    double sum = 0;
    long count = 0, correct = -1;
    for (int k = 0; k < p->accum; k++) {
        long index = s * p->accum + k;
        attn_batch b;
        attn_status st = r->src->next(r->src->self, index, p->rank, p->n_ranks, &b);
        if (st != ATTN_OK) return attn_error_context(st, "batch %ld", index);
        attn_model_set_seed(r->m, r->st->seed, (uint64_t)index);
        double bsum;
        long bcount;
        st = attn_model_forward(r->m, &b, 1, NULL);
        if (st == ATTN_OK) st = attn_model_loss(r->m, &bsum, &bcount);
        if (st == ATTN_OK && b.labels) {
            int K;
            const float *logits = attn_model_logits(r->m, NULL, &K);
            if (correct < 0) correct = 0;
            for (int i = 0; i < b.B; i++)
                correct += argmax(logits + (size_t)i * K, K) == b.labels[i];
        }
        if (st == ATTN_OK) st = attn_model_backward_sum(r->m, 1.0f);
        if (st != ATTN_OK) return attn_error_context(st, "step %ld", s + 1);
        sum += bsum;
        count += bcount;
    }
    /* data-parallel training sums the gradients, sum and count over the processes here */
    attn_schedule sched = p->schedule;
    if (sched.total == 0) sched.total = r->total;
    float lr = attn_schedule_lr(&sched, s);
    float norm = 0;
    attn_status st =
        attn_optimizer_step_scaled(r->opt, r->m, lr, count > 0 ? 1.0f / (float)count : 0.0f, &norm);
    if (st != ATTN_OK) return attn_error_context(st, "step %ld", s + 1);
    r->prog.loss = count > 0 ? sum / (double)count : 0.0;
    r->prog.count = count;
    r->prog.correct = correct;
    r->prog.lr = lr;
    r->prog.grad_norm = norm;
    r->prog.counted_run += count;
    r->st->step = s + 1;
    r->st->tokens += count;
    return ATTN_OK;
}

/* The resumable state (params.state_path): current parameters, moments and train state. */
static attn_status save_state(run *r) {
    const attn_train_params *p = r->p;
    if (!p->state_path) return ATTN_OK;
    return attn_checkpoint_save(p->state_path, r->m, r->opt, r->st, p->meta, p->n_meta);
}

static attn_status save(run *r) {
    const attn_train_params *p = r->p;
    ATTN_TRY(attn_checkpoint_save(p->save_path, r->m, p->save_optimizer ? r->opt : NULL, r->st,
                                  p->meta, p->n_meta));
    r->res.saved = 1;
    r->res.saved_step = r->st->step;
    r->prog.path = p->save_path;
    tell(r, ATTN_TRAIN_SAVE);
    return ATTN_OK;
}

/* Scores the model; keeps and saves it when it is the best so far. *stop: patience ran out. */
static attn_status evaluate(run *r, int *stop) {
    const attn_train_params *p = r->p;
    *stop = 0;
    if (!p->on_eval) return ATTN_OK;
    double metrics[ATTN_TRAIN_METRICS];
    for (int i = 0; i < ATTN_TRAIN_METRICS; i++)
        metrics[i] = NAN;
    ATTN_TRY(p->on_eval(r->m, &r->prog, metrics, p->user));
    double metric = metrics[0];
    attn_train_state *st = r->st;
    int better = isnan(metric) || st->best_step == 0 || isnan(st->best_metric) ||
                 (p->higher_is_better ? metric > st->best_metric : metric < st->best_metric);
    if (better) {
        st->best_metric = metric;
        st->best_step = st->step;
        if (r->best) memcpy(r->best, attn_model_params(r->m), r->n_params * sizeof *r->best);
    }
    r->since_best = better ? 0 : r->since_best + 1;
    memcpy(r->prog.metrics, metrics, sizeof metrics);
    r->prog.is_best = better;
    r->prog.since_best = r->since_best;
    if (better && p->save_path && p->save_best) ATTN_TRY(save(r));
    tell(r, ATTN_TRAIN_EVAL);
    if (p->patience > 0 && r->since_best >= p->patience && st->step < r->total) {
        r->res.stopped_early = 1;
        *stop = 1;
        tell(r, ATTN_TRAIN_STOP);
    }
    return ATTN_OK;
}

/* The decay after update t (1-based: the run's step count): min(D, (1 + t) / (10 + t)), the
 * warm-up of TensorFlow's ExponentialMovingAverage (num_updates), so that the first weights of a
 * run, random ones at first, fade from the average in some ten steps instead of 1 / (1 - D). */
static float ema_decay_at(float d, long t) {
    double warm = (1.0 + (double)t) / (10.0 + (double)t);
    return warm < d ? (float)warm : d;
}

/* ema = d ema + (1 - d) w over the parameter arena, d = ema_decay_at(D, step). */
static void ema_update(run *r) {
    float d = ema_decay_at(r->p->ema_decay, r->st->step), *w = attn_model_params(r->m),
          *e = r->ema;
    long n = (long)r->n_params;
#pragma omp parallel for schedule(static) num_threads(attn_get_num_threads()) if (n > 1 << 16)
    for (long i = 0; i < n; i++)
        e[i] = d * e[i] + (1.0f - d) * w[i];
}

/* The model takes the average (to_average) or its own weights back: called in pairs around what
 * should see the average. The optimizer's average stays as it is, so a checkpoint written in
 * between carries both. */
static void ema_use(run *r, int to_average) {
    if (!r->ema) return;
    float *w = attn_model_params(r->m);
    if (to_average) memcpy(r->raw, w, r->n_params * sizeof *w);
    memcpy(w, to_average ? r->ema : r->raw, r->n_params * sizeof *w);
}

/* After step s: the epoch's bookkeeping, evaluation, checkpoint. *stop: patience ran out. */
static attn_status after_step(run *r, long s, int *stop) {
    const attn_train_params *p = r->p;
    long done = s + 1;
    int last = done == r->total;
    int epoch_end = r->src->batches_per_epoch > 0 && (last || epoch_of(r, done) > epoch_of(r, s));
    r->recent[r->n_recent++ % RECENT] = r->prog.loss;
    r->epoch_sum += r->prog.loss;
    r->epoch_n++;
    if (epoch_end) {
        r->res.epochs_done = epoch_of(r, s);
        r->res.epoch_loss = r->epoch_sum / (double)r->epoch_n;
        r->prog.epoch_loss = r->res.epoch_loss;
        r->epoch_sum = 0;
        r->epoch_n = 0;
        tell(r, ATTN_TRAIN_EPOCH);
    }
    int eval = (p->eval_every > 0 && done % p->eval_every == 0 && !last) ||
               (p->eval_each_epoch && epoch_end) || (p->eval_at_end && last);
    *stop = 0;
    int save_now =
        p->save_path && !p->save_best && p->save_every > 0 && done % p->save_every == 0 && !last;
    if (r->ema) ema_update(r);
    if (eval || save_now) ema_use(r, 1); /* they see the average */
    attn_status st = eval ? evaluate(r, stop) : ATTN_OK;
    if (st == ATTN_OK && save_now) st = save(r);
    if (eval || save_now) ema_use(r, 0);
    ATTN_TRY(st);
    if (!last && (epoch_end || (p->save_every > 0 && done % p->save_every == 0)))
        ATTN_TRY(save_state(r));
    return ATTN_OK;
}

/* Whether after_step evaluates after step s (0-based) of the run. */
static int evaluates_after(const run *r, long s) {
    const attn_train_params *p = r->p;
    long done = s + 1;
    int last = done == r->total;
    int epoch_end = r->src->batches_per_epoch > 0 && (last || epoch_of(r, done) > epoch_of(r, s));
    return (p->eval_every > 0 && done % p->eval_every == 0 && !last) ||
           (p->eval_each_epoch && epoch_end) || (p->eval_at_end && last);
}

/* A resumed run's count of evaluations since the best one (patience): those after steps
 * (best_step, step]. */
static int evaluations_since_best(const run *r) {
    const attn_train_state *st = r->st;
    if (!r->p->on_eval || st->best_step <= 0) return 0;
    int n = 0;
    for (long s = st->best_step; s < st->step && s < r->total; s++)
        n += evaluates_after(r, s);
    return n;
}

/* The loop proper; r->best is allocated by the caller when keep_best. */
static attn_status train_loop(run *r) {
    const attn_train_params *p = r->p;
    attn_status st = ATTN_OK;
    int stop = 0, aborted = 0;
    for (long s = r->st->step; s < r->total && !stop; s++) {
        if (p->abort && p->abort(p->user)) {
            aborted = 1;
            break;
        }
        r->prog.epoch = epoch_of(r, s);
        if ((st = train_step(r, s)) != ATTN_OK) return st;
        r->res.steps_run++;
        r->prog.step = s + 1;
        tell(r, ATTN_TRAIN_STEP);
        if ((st = after_step(r, s, &stop)) != ATTN_OK) return st;
    }
    /* the end: a checkpoint of the last step unless the best one is what is kept on disk (an
     * aborted run still leaves one; a resumed run's best is on disk already) */
    ATTN_TRY(save_state(r)); /* the raw weights */
    ema_use(r, 1);           /* from here on the model holds the average */
    if (p->save_path && (!p->save_best || (!r->res.saved && r->st->best_step == 0)))
        ATTN_TRY(save(r));
    if (aborted)
        return attn_error(ATTN_ERR_ABORTED, "training stopped by the caller after step %ld",
                          r->st->step);
    return ATTN_OK;
}

/* The average of a new run starts from the weights; a resumed one (st->step > 0) goes on with
 * the one its optimizer carries from the checkpoint, if any. */
static attn_status ema_start(run *r) {
    size_t n = 0;
    if (!(r->st->step > 0 && attn_optimizer_average(r->opt, -1, &n) && n == r->n_params))
        ATTN_TRY(attn_optimizer_set_average(r->opt, attn_model_params(r->m)));
    r->ema = attn_optimizer_average(r->opt, -1, NULL);
    if (!(r->raw = malloc(r->n_params * sizeof *r->raw)))
        return attn_error(ATTN_ERR_NOMEM, "attn_train: no room for a copy of %zu parameters",
                          r->n_params);
    return ATTN_OK;
}

attn_status attn_train(attn_model *m, attn_optimizer *opt, attn_batch_source *src,
                       const attn_train_params *params, attn_train_state *st,
                       attn_train_result *res) {
    if (!m || !opt || !src || !params || !st)
        return attn_error(ATTN_ERR_INVALID, "attn_train: NULL argument");
    ATTN_TRY(check_params(params, src));
    run *r = calloc(1, sizeof *r);
    if (!r) return attn_error(ATTN_ERR_NOMEM, "attn_train: out of memory");
    *r = (run){.m = m, .opt = opt, .src = src, .p = params, .st = st, .t0 = seconds_now()};
    r->res = (attn_train_result){.recent_loss = NAN, .epoch_loss = NAN};
    if (st->step == 0 && st->tokens == 0) st->seed = params->seed;
    long bpe = src->batches_per_epoch;
    r->total = params->steps ? params->steps
                             : ((long)params->epochs * bpe + params->accum - 1) / params->accum;
    r->prog = (attn_train_progress){
        .model = m,
        .batches_per_epoch = bpe,
        .total_steps = r->total,
        .first_step = st->step,
        .step = st->step,
        .epochs = bpe > 0 ? (int)((r->total * params->accum + bpe - 1) / bpe) : 0,
        .correct = -1,
        .epoch_loss = NAN};
    for (int i = 0; i < ATTN_TRAIN_METRICS; i++)
        r->prog.metrics[i] = NAN;
    attn_status s = ATTN_OK;
    r->since_best = evaluations_since_best(r);
    r->n_params = attn_model_num_params(m);
    if (params->ema_decay < 0 || params->ema_decay >= 1)
        s = attn_error(ATTN_ERR_INVALID, "attn_train: ema_decay %g outside [0, 1)",
                       (double)params->ema_decay);
    else if (params->ema_decay > 0)
        s = ema_start(r);
    else /* no average in this run: none left in the optimizer for a checkpoint to carry */
        s = attn_optimizer_set_average(opt, NULL);
    if (s == ATTN_OK && params->keep_best) {
        if (!(r->best = malloc(r->n_params * sizeof *r->best)))
            s = attn_error(ATTN_ERR_NOMEM, "attn_train: no room for a copy of %zu parameters",
                           r->n_params);
        else /* a resumed run's best so far (or, not given, the current parameters) */
            memcpy(r->best, params->resume_best ? params->resume_best : attn_model_params(m),
                   r->n_params * sizeof *r->best);
    }
    if (s == ATTN_OK) {
        tell(r, ATTN_TRAIN_BEGIN);
        s = train_loop(r);
    }
    if (r->best && st->best_step > 0 && (s == ATTN_OK || s == ATTN_ERR_ABORTED))
        memcpy(attn_model_params(m), r->best, r->n_params * sizeof *r->best);
    long n = r->n_recent < RECENT ? r->n_recent : RECENT;
    if (n > 0) {
        double sum = 0;
        for (long i = 0; i < n; i++)
            sum += r->recent[i];
        r->res.recent_loss = sum / (double)n;
    }
    r->res.seconds = seconds_now() - r->t0;
    if (res) *res = r->res;
    free(r->best);
    free(r->raw);
    free(r);
    return s;
}
