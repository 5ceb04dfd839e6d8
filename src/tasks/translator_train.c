/* tasks/translator_train.c: training a translator (attn_translator_train,
 * include/attn/translator.h): the joint tokenizer, the pairs as ids, token-budget batches through
 * attn_train, and the dev evaluation (loss, and BLEU of the translated dev sentences) that picks
 * the kept model. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attn/metrics.h"
#include "attn/translator.h"
#include "core/error.h"
#include "tasks/translator_internal.h"

#define MAX_META 32 /* the caller's metadata pairs, plus ours */

attn_translator_params attn_translator_default_params(void) {
    attn_translator_params p = {.model = attn_config_default(ATTN_ARCH_SEQ2SEQ),
                                .train = attn_train_default_params(),
                                .adamw = attn_adamw_default_params(),
                                .max_tokens = 4096,
                                .bucket = 20000,
                                .vocab_size = 8000,
                                .dev_sentences = 500,
                                .dev_bleu = 1,
                                .beam = attn_beam_default_params()};
    attn_config *m = &p.model;
    m->max_len = 128, m->d_model = 256, m->n_heads = 4, m->d_ff = 1024;
    m->n_layers = 4, m->n_dec_layers = 4;
    m->norm = ATTN_NORM_POST, m->pos = ATTN_POS_SINUSOIDAL, m->act = ATTN_ACT_RELU;
    m->dropout = 0.3f, m->label_smoothing = 0.1f;
    m->scale_embeddings = 1; /* the paper's sqrt(d_model): tokens not drowned by the sinusoids */
    p.adamw.beta2 = 0.98f, p.adamw.eps = 1e-9f, p.adamw.weight_decay = 1e-4f;
    p.adamw.clip_norm = 1.0f;
    p.train.steps = 20000;
    p.train.schedule = (attn_schedule){.kind = ATTN_SCHEDULE_INVSQRT, .lr = 1.0f, .warmup = 4000};
    p.train.eval_every = 1000;
    p.train.eval_at_end = 1;
    p.beam.beam = 1;
    p.beam.batch = 64;
    return p;
}

/* params->tokenizer loaded, or a byte-level BPE trained on both sides of train. */
static attn_status make_tokenizer(const attn_translator_params *p, const attn_parallel *train,
                                  attn_tokenizer **out) {
    if (p->tokenizer) {
        attn_status s = attn_tokenizer_load(p->tokenizer, out);
        if (s != ATTN_OK) return attn_error_context(s, "cannot load tokenizer '%s'", p->tokenizer);
        return ATTN_OK;
    }
    size_t n = 2 * (size_t)train->n;
    const char **texts = malloc((n + 1) * sizeof *texts);
    size_t *lengths = malloc((n + 1) * sizeof *lengths);
    attn_status s = texts && lengths ? ATTN_OK : attn_error(ATTN_ERR_NOMEM, "out of memory");
    for (long i = 0; s == ATTN_OK && i < train->n; i++) {
        texts[2 * i] = train->src[i], lengths[2 * i] = strlen(train->src[i]);
        texts[2 * i + 1] = train->tgt[i], lengths[2 * i + 1] = strlen(train->tgt[i]);
    }
    attn_bpe_train_params bp = attn_bpe_train_default_params();
    bp.vocab_size = p->vocab_size;
    bp.lowercase = p->lowercase;
    if (s == ATTN_OK) s = attn_tokenizer_train_bpe(texts, lengths, n, bp, out);
    free(texts);
    free(lengths);
    return s;
}

/* ---- one run ----------------------------------------------------------------------------------*/

typedef struct {
    const attn_translator_params *p;
    attn_translator *t;
    const attn_parallel *dev;
    attn_pairs train_ids, dev_ids;
    attn_batch_source *dev_batches; /* in order, for the dev loss */
    char **hyps;                    /* (n_dev) */
    const char **refs;
    long n_dev; /* dev sentences translated */
} run;

/* The caller's callbacks, called with the caller's user pointer (ours is the run). */
static void outer_progress(const attn_train_progress *pr, void *user) {
    const run *r = user;
    if (r->p->train.progress) r->p->train.progress(pr, r->p->train.user);
}

static int outer_abort(void *user) {
    const run *r = user;
    return r->p->train.abort ? r->p->train.abort(r->p->train.user) : 0;
}

static double dev_loss(run *r, attn_status *s) {
    double sum = 0;
    long count = 0;
    for (long i = 0; *s == ATTN_OK && i < r->dev_batches->batches_per_epoch; i++) {
        attn_batch b;
        double bs = 0;
        long bc = 0;
        *s = r->dev_batches->next(r->dev_batches->self, i, 0, 1, &b);
        if (*s == ATTN_OK) *s = attn_model_forward(r->t->model, &b, 0, NULL);
        if (*s == ATTN_OK) *s = attn_model_loss(r->t->model, &bs, &bc);
        sum += bs, count += bc;
    }
    return count ? sum / (double)count : NAN;
}

/* metrics[0]: dev BLEU (or -loss without a BLEU function), metrics[1]: the dev loss. */
static attn_status dev_eval(attn_model *m, const attn_train_progress *pr, double *metrics,
                            void *user) {
    (void)m, (void)pr;
    run *r = user;
    attn_status s = ATTN_OK;
    metrics[1] = dev_loss(r, &s);
    ATTN_TRY(s);
    if (!r->p->dev_bleu) {
        metrics[0] = -metrics[1];
        return ATTN_OK;
    }
    attn_beam_params b = r->p->beam;
    b.bos_id = r->t->bos, b.eos_id = r->t->eos, b.n_best = 1;
    ATTN_TRY(attn_translator_translate(r->t, (const char *const *)r->dev->src, (int)r->n_dev, &b,
                                       r->hyps, NULL, NULL));
    attn_bleu bleu;
    s = attn_corpus_bleu((const char *const *)r->hyps, r->refs, r->n_dev, &bleu);
    metrics[0] = bleu.score;
    for (long i = 0; i < r->n_dev; i++)
        free(r->hyps[i]), r->hyps[i] = NULL;
    return s;
}

static attn_status make_model(run *r) {
    attn_config cfg = r->p->model;
    cfg.arch = ATTN_ARCH_SEQ2SEQ;
    cfg.vocab_size = attn_tokenizer_vocab_size(r->t->tok);
    int pad = attn_tokenizer_special(r->t->tok, ATTN_SPECIAL_PAD);
    cfg.pad_id = pad >= 0 ? pad : 0;
    ATTN_TRY(attn_model_create(&cfg, r->p->train.seed, &r->t->model));
    return attn_translator_check("the training run", r->t);
}

/* The run saved at state_path: model, AdamW, state, tokenizer; the best weights so far from
 * save_path (*best, malloc'd; NULL when no evaluation has kept one yet). */
static attn_status load_resume(run *r, attn_optimizer **opt, attn_train_state *st, float **best) {
    const attn_translator_params *p = r->p;
    *best = NULL;
    if (!p->state_path) return attn_error(ATTN_ERR_INVALID, "resume: no state_path");
    attn_status s = attn_checkpoint_load(p->state_path, &r->t->model, opt, st);
    if (s != ATTN_OK) return attn_error_context(s, "cannot resume");
    char *json = NULL;
    s = attn_checkpoint_read_meta(p->state_path, "tokenizer", &json);
    if (s == ATTN_OK) s = attn_tokenizer_from_json(json, strlen(json), &r->t->tok);
    free(json);
    if (s != ATTN_OK)
        return attn_error_context(s, "cannot resume: the tokenizer of '%s'", p->state_path);
    ATTN_TRY(attn_translator_check(p->state_path, r->t));
    return attn_train_resume_best(p->train.save_path, r->t->model, st, best);
}

/* The data encoded with the run's tokenizer, the sources, then attn_train from *st with *opt
 * (made here when NULL; the caller frees it). */
static attn_status fit(run *r, const attn_parallel *train, attn_translator_result *res,
                       attn_optimizer **opt, attn_train_state *st, const float *best) {
    const attn_translator_params *p = r->p;
    int max = attn_model_config(r->t->model)->max_len;
    ATTN_TRY(attn_pairs_encode(train, r->t->tok, max, max, r->t->eos, &r->train_ids));
    res->n_train = r->train_ids.n, res->n_truncated = r->train_ids.n_truncated;
    attn_pairs_source_params q = {.max_tokens = p->max_tokens,
                                  .bucket = p->bucket,
                                  .pad_id = r->t->pad,
                                  .bos_id = r->t->bos,
                                  .seed = p->train.seed};
    attn_train_params tp = p->train;
    tp.progress = outer_progress, tp.abort = outer_abort, tp.user = r;
    tp.state_path = p->state_path, tp.resume_best = best;
    if (tp.state_path && tp.save_every == 0) tp.save_every = tp.eval_every; /* state with evals */
    if (r->dev && r->dev->n > 0) {
        ATTN_TRY(attn_pairs_encode(r->dev, r->t->tok, max, max, r->t->eos, &r->dev_ids));
        attn_pairs_source_params dq = q;
        dq.in_order = 1;
        ATTN_TRY(attn_pairs_source(&r->dev_ids, dq, &r->dev_batches));
        r->n_dev =
            p->dev_sentences > 0 && p->dev_sentences < r->dev->n ? p->dev_sentences : r->dev->n;
        r->hyps = calloc((size_t)r->n_dev + 1, sizeof *r->hyps);
        r->refs = malloc(((size_t)r->n_dev + 1) * sizeof *r->refs);
        if (!r->hyps || !r->refs) return attn_error(ATTN_ERR_NOMEM, "out of memory");
        for (long i = 0; i < r->n_dev; i++)
            r->refs[i] = r->dev->tgt[i];
        tp.on_eval = dev_eval, tp.higher_is_better = 1;
        tp.keep_best = 1, tp.save_best = 1;
    } else {
        tp.on_eval = NULL, tp.eval_every = 0, tp.eval_at_end = 0;
    }
    if (tp.schedule.d_model == 0) tp.schedule.d_model = p->model.d_model;
    char *tok_json = NULL;
    attn_meta meta[MAX_META + 2];
    int n_meta = 0;
    attn_status s = ATTN_OK;
    if (p->train.n_meta > MAX_META)
        s = attn_error(ATTN_ERR_INVALID, "more than %d metadata pairs", MAX_META);
    if (s == ATTN_OK && (tp.save_path || tp.state_path)) {
        s = attn_tokenizer_to_json(r->t->tok, &tok_json);
        meta[n_meta++] = (attn_meta){"task", "translate"};
        meta[n_meta++] = (attn_meta){"tokenizer", tok_json};
        for (int i = 0; s == ATTN_OK && i < p->train.n_meta; i++)
            meta[n_meta++] = p->train.meta[i];
    }
    tp.meta = meta, tp.n_meta = n_meta;
    attn_batch_source *src = NULL;
    if (s == ATTN_OK) s = attn_pairs_source(&r->train_ids, q, &src);
    if (s == ATTN_OK && !*opt) s = attn_optimizer_create(r->t->model, p->adamw, opt);
    if (s == ATTN_OK) s = attn_train(r->t->model, *opt, src, &tp, st, &res->train);
    res->best_metric = st->best_metric, res->best_step = st->best_step;
    attn_batch_source_free(src);
    free(tok_json);
    return s;
}

static attn_status train_run(run *r, const attn_parallel *train, attn_translator_result *res) {
    attn_optimizer *opt = NULL;
    attn_train_state st = {0};
    float *best = NULL;
    attn_status s = r->p->resume ? load_resume(r, &opt, &st, &best) : make_model(r);
    if (s == ATTN_OK) s = fit(r, train, res, &opt, &st, best);
    attn_optimizer_free(opt);
    free(best);
    return s;
}

attn_status attn_translator_train(const attn_parallel *train, const attn_parallel *dev,
                                  const attn_translator_params *params, attn_translator **out,
                                  attn_translator_result *res) {
    if (!train || !params || !out)
        return attn_error(ATTN_ERR_INVALID, "attn_translator_train: NULL argument");
    *out = NULL;
    attn_translator_result own;
    if (!res) res = &own;
    *res = (attn_translator_result){.best_metric = NAN};
    if (train->n < 1) return attn_error(ATTN_ERR_INVALID, "no training pairs");
    run r = {.p = params, .dev = dev};
    r.t = calloc(1, sizeof *r.t);
    if (!r.t) return attn_error(ATTN_ERR_NOMEM, "out of memory");
    attn_status s = params->resume ? ATTN_OK : make_tokenizer(params, train, &r.t->tok);
    if (s == ATTN_OK) s = train_run(&r, train, res);
    attn_pairs_free(&r.train_ids);
    attn_pairs_free(&r.dev_ids);
    attn_batch_source_free(r.dev_batches);
    for (long i = 0; r.hyps && i < r.n_dev; i++)
        free(r.hyps[i]);
    free(r.hyps);
    free(r.refs);
    if (s == ATTN_OK || (s == ATTN_ERR_ABORTED && r.t->model))
        *out = r.t;
    else
        attn_translator_free(r.t);
    return s;
}
