/* tools/cmd_train_classify.c: `attn train classify`: an encoder classifier on "label<TAB>text"
 * files, and cls_train, the training loop that `eval classify --folds` runs once per fold.
 *
 * Epoch e shuffles the training texts with attn_rng(seed, BATCH_STREAM + e), sorts them by length
 * within buckets of --bucket batches and shuffles the batches (attn_batch_plan_make), so a batch
 * holds texts of similar lengths and little padding. Step s seeds dropout with (seed, s) and
 * token dropout with (seed, TOKEN_STREAM + s). After each epoch the model is scored on dev; the
 * best macro-F1 so far is kept in memory and written to --out (atomically, with its tokenizer
 * and labels), and --patience epochs without improvement end the run. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attn/attn.h"

#include "args.h"
#include "classify_common.h"
#include "progress.h"

#define BATCH_STREAM 0x62617463ULL /* "batc": batch plans draw from their own stream */
#define TOKEN_STREAM 0x746f6b64ULL /* "tokd": token dropout, + the step */
#define MAX_CURVE 600              /* points of the training-loss curve in the plot */

/* ---- the state of one run ---------------------------------------------------------------------*/

typedef struct {
    const cls_opts *o;
    cls_model *c;
    const cls_target *target;
    attn_cls_data train, dev;
    int has_dev;
    attn_optimizer *opt;
    attn_schedule sched;
    long steps_per_epoch, total_steps;
    int *tokens, *lengths, *ys, *pred; /* batch buffers; pred: dev predictions */
    int drop_id;                       /* what --token-dropout writes: [MASK], else [UNK] */
    float *best;                       /* parameters of the best epoch */
    size_t n_params;
    char *tok_json, *labels_json;
    attn_train_state st;
    /* curves for the plot: training loss (mean over log_every steps) and dev macro-F1 */
    double curve_x[MAX_CURVE + 1], curve_y[MAX_CURVE + 1];
    int n_curve;
    long log_every;
    double window_loss;
    long window_n;
    double *f1_x, *f1_y;
    int n_f1;
    progress bar;
    double bar_loss, bar_correct;
    long bar_n, bar_examples;
    int saved;
} trainer;

static volatile sig_atomic_t interrupted = 0;

/* SIGINT handler: only sets the flag the loops poll. */
static void on_sigint(int sig) {
    (void)sig;
    interrupted = 1;
}

/* Ctrl-C finishes the current batch; a second Ctrl-C kills (SA_RESETHAND). */
static void catch_sigint(struct sigaction *old) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, old);
}

/* ---- set-up -----------------------------------------------------------------------------------*/

static int parse_name(attn_status s, const char *option, const char *name) {
    if (s == ATTN_OK) return CLI_OK;
    cli_error("--%s: '%s' is not known to libattn: %s", option, name, attn_last_error());
    return CLI_USAGE;
}

/* The classifier's config from the options, the tokenizer and the label set. */
static int make_config(const cls_opts *o, const cls_model *c, attn_config *cfg) {
    *cfg = attn_config_default(ATTN_ARCH_CLASSIFIER);
    cfg->vocab_size = attn_tokenizer_vocab_size(c->tok);
    cfg->max_len = o->max_len;
    cfg->d_model = o->d_model;
    cfg->n_heads = o->heads;
    cfg->d_ff = o->d_ff;
    cfg->n_layers = o->layers;
    cfg->n_classes = attn_labels_count(c->labels);
    cfg->dropout = o->dropout;
    cfg->label_smoothing = o->label_smoothing;
    int pad = attn_tokenizer_special(c->tok, ATTN_SPECIAL_PAD);
    cfg->pad_id = pad >= 0 ? pad : 0;
    if (parse_name(attn_norm_parse(o->norm, &cfg->norm), "norm", o->norm) ||
        parse_name(attn_pos_parse(o->pos, &cfg->pos), "pos", o->pos) ||
        parse_name(attn_act_parse(o->act, &cfg->act), "act", o->act) ||
        parse_name(attn_pool_parse(o->pool, &cfg->pool), "pool", o->pool))
        return CLI_USAGE;
    if (attn_config_validate(cfg) != ATTN_OK) {
        cli_error("invalid model: %s", attn_last_error());
        return CLI_USAGE;
    }
    return CLI_OK;
}

/* The model (seeded by --seed), AdamW, and room for a copy of the best parameters. */
static int create_model(trainer *t) {
    const cls_opts *o = t->o;
    attn_config cfg;
    int rc = make_config(o, t->c, &cfg);
    if (rc) return rc;
    attn_status s = attn_model_create(&cfg, o->seed, &t->c->model);
    if (s != ATTN_OK) return cli_lib_error(s, "cannot create the model");
    t->c->pad_id = cfg.pad_id;
    t->drop_id = attn_tokenizer_special(t->c->tok, ATTN_SPECIAL_MASK);
    if (t->drop_id < 0) t->drop_id = attn_tokenizer_special(t->c->tok, ATTN_SPECIAL_UNK);
    if (t->drop_id < 0 && o->token_dropout > 0) {
        cli_error("--token-dropout needs a tokenizer with [MASK] or [UNK]");
        return CLI_USAGE;
    }
    attn_adamw_params hp = attn_adamw_default_params();
    hp.weight_decay = o->weight_decay;
    hp.clip_norm = o->clip;
    if ((s = attn_optimizer_create(t->c->model, hp, &t->opt)) != ATTN_OK)
        return cli_lib_error(s, "cannot create the optimizer");
    t->n_params = attn_model_num_params(t->c->model);
    t->best = malloc(t->n_params * sizeof *t->best);
    if (!t->best) {
        cli_error("out of memory for a copy of %zu parameters", t->n_params);
        return CLI_RUNTIME;
    }
    return CLI_OK;
}

/* Steps per epoch (the same every epoch: bucket sizes depend on the count only), the schedule. */
static int plan_schedule(trainer *t) {
    attn_batch_plan plan;
    attn_status s = attn_batch_plan_make(t->train.lengths, NULL, t->train.n, t->o->batch,
                                         t->o->bucket, 1, t->o->seed, BATCH_STREAM, &plan);
    if (s != ATTN_OK) return cli_lib_error(s, "cannot plan batches");
    t->steps_per_epoch = plan.n_batches;
    attn_batch_plan_free(&plan);
    t->total_steps = t->steps_per_epoch * t->o->epochs;
    t->sched = (attn_schedule){.lr = t->o->lr,
                               .min_lr = t->o->min_lr,
                               .warmup = t->o->warmup >= 0 ? t->o->warmup : t->total_steps / 20,
                               .total = t->total_steps,
                               .d_model = t->o->d_model};
    attn_schedule_parse(t->o->schedule, &t->sched.kind);
    t->log_every = (t->total_steps + MAX_CURVE - 1) / MAX_CURVE;
    t->f1_x = malloc(((size_t)t->o->epochs + 1) * sizeof *t->f1_x);
    t->f1_y = malloc(((size_t)t->o->epochs + 1) * sizeof *t->f1_y);
    if (!t->f1_x || !t->f1_y) {
        cli_error("out of memory");
        return CLI_RUNTIME;
    }
    return CLI_OK;
}

/* Tokenizes train and dev, creates the model and optimizer, plans the schedule, allocates the
 * batch buffers and activations, and serialises the tokenizer and labels for the checkpoint. */
static int prepare(trainer *t, const attn_tsv *train, const attn_tsv *dev) {
    const cls_opts *o = t->o;
    if (attn_labels_count(t->c->labels) < 2) {
        cli_error("'%s' has a single label ('%s'); a classifier needs at least two", train->name,
                  attn_labels_name(t->c->labels, 0));
        return CLI_RUNTIME;
    }
    int rc = cls_encode(t->c, train, o->max_len, 0, &t->train);
    if (rc == CLI_OK && dev) rc = cls_encode(t->c, dev, o->max_len, 0, &t->dev);
    if (rc) return rc;
    t->has_dev = dev != NULL && t->dev.n > 0;
    if ((rc = create_model(t)) || (rc = plan_schedule(t))) return rc;
    long n_dev = t->has_dev ? t->dev.n : 0;
    size_t rows = (size_t)o->batch;
    t->tokens = malloc(rows * (size_t)o->max_len * sizeof *t->tokens);
    t->lengths = malloc(rows * sizeof *t->lengths);
    t->ys = malloc(rows * sizeof *t->ys);
    t->pred = malloc(((size_t)n_dev + 1) * sizeof *t->pred);
    if (!t->tokens || !t->lengths || !t->ys || !t->pred) {
        cli_error("out of memory for a batch of %d x %d", o->batch, o->max_len);
        return CLI_RUNTIME;
    }
    attn_status s = attn_model_reserve(t->c->model, o->batch, o->max_len, 0);
    if (s != ATTN_OK) return cli_lib_error(s, "cannot allocate activations");
    if (t->target->out) {
        if ((s = attn_tokenizer_to_json(t->c->tok, &t->tok_json)) != ATTN_OK ||
            (s = attn_labels_to_json(t->c->labels, &t->labels_json)) != ATTN_OK)
            return cli_lib_error(s, "cannot serialise the tokenizer and labels");
    }
    t->st = (attn_train_state){.seed = o->seed, .best_metric = -1};
    return CLI_OK;
}

/* ---- output -----------------------------------------------------------------------------------*/

/* The progress line: epoch, step, mean loss and accuracy since the last line, examples/s, ETA. */
static void bar_update(trainer *t, int epoch, long step, long examples_run) {
    progress *p = &t->bar;
    if (p->quiet) return;
    double now = cli_now();
    int last = step >= p->total, first = step == 1;
    if (!last && !first && now - p->t_last < (p->tty ? 0.1 : 5.0)) return;
    double elapsed = now - p->t_start;
    double eta = step > 0 ? elapsed / (double)step * (double)(p->total - step) : 0;
    char when[32];
    progress_format_duration(last ? elapsed : eta, when, sizeof when);
    char line[256];
    snprintf(
        line, sizeof line, "%s%sepoch %d/%d  step %ld/%ld  loss %.4f  acc %.3f  %.0f ex/s  %s %s",
        t->target->tag ? t->target->tag : "", t->target->tag ? "  " : "", epoch, t->o->epochs, step,
        p->total, t->bar_loss / (double)t->bar_n, t->bar_correct / (double)t->bar_examples,
        elapsed > 0 ? (double)examples_run / elapsed : 0.0, last ? "took" : "ETA", when);
    if (p->tty) {
        fprintf(stderr, "\r%s\033[K", line);
        p->drawn = 1;
    } else {
        fprintf(stderr, "%s\n", line);
    }
    fflush(stderr);
    p->t_last = now;
    t->bar_loss = t->bar_correct = 0;
    t->bar_n = t->bar_examples = 0;
}

/* Training loss (left axis) and dev macro-F1 (right axis) against the step, beside --out. */
static int write_plot(const trainer *t) {
    char path[4096];
    cls_plot_path(t->target->out, path, sizeof path);
    attn_series series[2] = {
        {"train loss", t->curve_x, t->curve_y, t->n_curve, 0},
        {"dev macro-F1", t->f1_x, t->f1_y, t->n_f1, 1},
    };
    attn_status s = attn_plot_png(path, "attn train classify", "step", series, t->has_dev ? 2 : 1);
    if (s != ATTN_OK) return cli_lib_error(s, "cannot write the plot '%s'", path);
    return CLI_OK;
}

/* Writes the model (no optimizer moments) with the tokenizer, labels and run state atomically. */
static int save(trainer *t) {
    char version[64];
    snprintf(version, sizeof version, "attn %s train classify", attn_version());
    const attn_meta meta[] = {
        {"task", "classify"},
        {"tokenizer", t->tok_json},
        {"labels", t->labels_json},
        {"data", t->target->train_name ? t->target->train_name : ""},
        {"dev", t->target->dev_name ? t->target->dev_name : ""},
        {"created_by", version},
    };
    attn_status s = attn_checkpoint_save(t->target->out, t->c->model, NULL, &t->st, meta, 6);
    if (s != ATTN_OK) return cli_lib_error(s, "cannot save checkpoint '%s'", t->target->out);
    t->saved = 1;
    return CLI_OK;
}

/* ---- training ---------------------------------------------------------------------------------*/

/* Index of the largest of x[k]. */
static int argmax(const float *x, int k) {
    int best = 0;
    for (int j = 1; j < k; j++)
        if (x[j] > x[best]) best = j;
    return best;
}

/* One optimizer step on the B examples rows[0..B). */
static int train_step(trainer *t, const long *rows, int B, float *loss, int *correct) {
    attn_model *m = t->c->model;
    int T = 0;
    attn_status s = attn_cls_data_fill_batch(&t->train, rows, B, t->c->pad_id, t->tokens,
                                             t->lengths, t->ys, &T);
    if (s == ATTN_OK && t->o->token_dropout > 0)
        s = attn_token_dropout(t->tokens, t->lengths, B, T, t->o->token_dropout, t->drop_id, 1,
                               t->o->seed, TOKEN_STREAM + (uint64_t)t->st.step, NULL);
    attn_batch batch = {
        .B = B, .T = T, .tokens = t->tokens, .lengths = t->lengths, .labels = t->ys};
    attn_model_zero_grad(m);
    attn_model_set_seed(m, t->o->seed, (uint64_t)t->st.step);
    if (s == ATTN_OK) s = attn_model_forward(m, &batch, 1, loss);
    if (s == ATTN_OK) {
        int K = attn_model_config(m)->n_classes;
        const float *logits = attn_model_logits(m, NULL, NULL);
        *correct = 0;
        for (int b = 0; b < B; b++)
            *correct += argmax(logits + (size_t)b * K, K) == t->ys[b];
        s = attn_model_backward(m, 1.0f);
    }
    float lr = attn_schedule_lr(&t->sched, t->st.step);
    if (s == ATTN_OK) s = attn_optimizer_step(t->opt, m, lr, NULL);
    if (s != ATTN_OK)
        return cli_lib_error(s, "step %ld failed%s", t->st.step + 1,
                             s == ATTN_ERR_NUMERIC ? " (try a lower --lr)" : "");
    return CLI_OK;
}

/* Adds a step's loss to the curve (one point per log_every steps). */
static void log_loss(trainer *t, float loss) {
    t->window_loss += loss;
    if (++t->window_n < t->log_every || t->n_curve >= MAX_CURVE) return;
    t->curve_x[t->n_curve] = (double)t->st.step;
    t->curve_y[t->n_curve++] = t->window_loss / (double)t->window_n;
    t->window_loss = 0;
    t->window_n = 0;
}

/* One pass over the training data in the bucketed order of `epoch`; *epoch_loss receives the mean
 * loss of its steps. Stops early (CLI_OK) when interrupted. */
static int run_epoch(trainer *t, int epoch, long *examples_run, double *epoch_loss) {
    attn_batch_plan plan;
    attn_status s =
        attn_batch_plan_make(t->train.lengths, NULL, t->train.n, t->o->batch, t->o->bucket, 1,
                             t->o->seed, BATCH_STREAM + (uint64_t)epoch, &plan);
    if (s != ATTN_OK) return cli_lib_error(s, "cannot plan batches");
    double sum = 0;
    long n = 0;
    int rc = CLI_OK;
    for (long b = 0; b < plan.n_batches && !interrupted; b++) {
        int B = (int)(plan.offsets[b + 1] - plan.offsets[b]), correct = 0;
        float loss = 0;
        if ((rc = train_step(t, plan.order + plan.offsets[b], B, &loss, &correct))) break;
        t->st.step++;
        t->st.tokens += B;
        *examples_run += B;
        sum += loss;
        n++;
        t->bar_loss += loss;
        t->bar_n++;
        t->bar_correct += correct;
        t->bar_examples += B;
        log_loss(t, loss);
        bar_update(t, epoch + 1, t->st.step, *examples_run);
    }
    attn_batch_plan_free(&plan);
    *epoch_loss = n ? sum / (double)n : NAN;
    return rc;
}

/* Scores dev, keeps (and saves) the model if it is the best so far; *better says whether. */
static int evaluate(trainer *t, int epoch, double loss, int *better, cls_result *res) {
    const cls_opts *o = t->o;
    double f1 = NAN, acc = NAN;
    if (t->has_dev) {
        int K = attn_model_config(t->c->model)->n_classes;
        attn_cls_report r;
        int rc = cls_predict(t->c, &t->dev, o->batch, t->pred, NULL);
        if (rc == CLI_OK) rc = cls_report(&t->dev, t->pred, K, &r);
        if (rc) return rc;
        f1 = r.macro_f1;
        acc = r.accuracy;
        attn_cls_report_free(&r);
        t->f1_x[t->n_f1] = (double)t->st.step;
        t->f1_y[t->n_f1++] = f1;
    }
    *better = !t->has_dev || f1 > t->st.best_metric;
    if (*better) {
        t->st.best_metric = t->has_dev ? f1 : 0;
        t->st.best_step = t->st.step;
        memcpy(t->best, attn_model_params(t->c->model), t->n_params * sizeof *t->best);
        res->best_epoch = epoch + 1;
        res->best_f1 = f1;
        res->best_accuracy = acc;
        if (t->target->out) {
            int rc = save(t);
            if (rc) return rc;
        }
    }
    if (t->target->out) {
        int rc = write_plot(t);
        if (rc) return rc;
    }
    const char *tag = t->target->tag ? t->target->tag : "", *sep = t->target->tag ? "  " : "";
    if (t->has_dev)
        progress_message(&t->bar,
                         "%s%sepoch %d  step %ld  loss %.4f  dev_acc %.4f  dev_macro_f1 %.4f%s",
                         tag, sep, epoch + 1, t->st.step, loss, acc, f1, *better ? "  (best)" : "");
    else
        progress_message(&t->bar, "%s%sepoch %d  step %ld  loss %.4f", tag, sep, epoch + 1,
                         t->st.step, loss);
    return CLI_OK;
}

/* Epochs, each followed by the dev evaluation, until --epochs, --patience or Ctrl-C. */
static int train_loop(trainer *t, cls_result *res) {
    long examples_run = 0;
    int since_best = 0, rc = CLI_OK;
    progress_init(&t->bar, 0, t->total_steps, t->o->quiet);
    for (int epoch = 0; epoch < t->o->epochs && !interrupted; epoch++) {
        double loss = NAN;
        if ((rc = run_epoch(t, epoch, &examples_run, &loss))) break;
        if (interrupted) break;
        res->epochs = epoch + 1;
        res->train_loss = loss;
        int better;
        if ((rc = evaluate(t, epoch, loss, &better, res))) break;
        since_best = better ? 0 : since_best + 1;
        if (t->has_dev && t->o->patience > 0 && since_best >= t->o->patience &&
            epoch + 1 < t->o->epochs) {
            res->stopped_early = 1;
            progress_message(&t->bar, "%s%sno better dev macro-F1 for %d epochs: stopping",
                             t->target->tag ? t->target->tag : "", t->target->tag ? "  " : "",
                             since_best);
            break;
        }
    }
    progress_finish(&t->bar);
    return rc;
}

/* Releases what prepare allocated (the model itself belongs to the caller's cls_model). */
static void free_trainer(trainer *t) {
    attn_cls_data_free(&t->train);
    attn_cls_data_free(&t->dev);
    attn_optimizer_free(t->opt);
    free(t->tokens);
    free(t->lengths);
    free(t->ys);
    free(t->pred);
    free(t->best);
    free(t->tok_json);
    free(t->labels_json);
    free(t->f1_x);
    free(t->f1_y);
}

/* After Ctrl-C: make sure --out holds a model (the best, or the current one before any
 * evaluation), and say so. */
static int finish_interrupted(trainer *t) {
    if (t->target->out && !t->saved) {
        memcpy(t->best, attn_model_params(t->c->model), t->n_params * sizeof *t->best);
        int rc = save(t);
        if (rc) return rc;
    }
    if (t->target->out)
        cli_error("interrupted at step %ld; %s holds the model of step %ld", t->st.step,
                  t->target->out, t->saved ? t->st.best_step : t->st.step);
    else
        cli_error("interrupted at step %ld", t->st.step);
    return CLI_SIGINT;
}

int cls_train(const cls_opts *o, cls_model *c, const attn_tsv *train, const attn_tsv *dev,
              const cls_target *target, cls_result *res) {
    trainer *t = calloc(1, sizeof *t);
    if (!t) {
        cli_error("out of memory");
        return CLI_RUNTIME;
    }
    *res = (cls_result){.best_f1 = NAN, .best_accuracy = NAN, .train_loss = NAN};
    t->o = o;
    t->c = c;
    t->target = target;
    double t0 = cli_now();
    int rc = prepare(t, train, dev);
    if (rc == CLI_OK && !o->quiet) {
        const attn_config *cfg = attn_model_config(c->model);
        fprintf(stderr,
                "%s%straining %s: %zu parameters, %d layers, d_model %d, vocabulary %d, %d "
                "classes; %ld texts (%ld cut to %d tokens), %ld steps per epoch\n",
                target->tag ? target->tag : "", target->tag ? "  " : "",
                target->out ? target->out : "a classifier", t->n_params, cfg->n_layers,
                cfg->d_model, cfg->vocab_size, cfg->n_classes, t->train.n, t->train.n_truncated,
                o->max_len, t->steps_per_epoch);
    }
    struct sigaction old;
    if (rc == CLI_OK) {
        catch_sigint(&old);
        rc = train_loop(t, res);
        sigaction(SIGINT, &old, NULL);
    }
    if (rc == CLI_OK && interrupted) rc = finish_interrupted(t);
    if (t->best && (rc == CLI_OK || rc == CLI_SIGINT) && t->st.best_step > 0)
        memcpy(attn_model_params(c->model), t->best, t->n_params * sizeof *t->best);
    res->steps = t->st.step;
    res->n_train = t->train.n;
    res->n_truncated = t->train.n_truncated;
    res->seconds = cli_now() - t0;
    free_trainer(t);
    free(t);
    return rc;
}

/* ---- the command ------------------------------------------------------------------------------*/

typedef struct {
    const char *train, *dev, *out;
    cls_opts o;
} train_args;

static const cli_help train_help = {
    "attn train classify --train FILE --out CKPT [--dev FILE] [options]",
    "Trains a Transformer encoder to label texts. FILE holds one example per line,\n"
    "\"label<TAB>text\" (UTF-8); empty lines are skipped, and a line without a tab or with an "
    "empty\n"
    "label or text is an error naming FILE:LINE. The labels are those of --train and --dev, "
    "sorted.\n"
    "Unless --tokenizer names one, a byte-level BPE of --vocab-size tokens is learned from the\n"
    "training texts. Each text becomes [CLS] + its tokens, cut to --max-len tokens in all (the\n"
    "end of a longer text is dropped). The model: token + position embeddings, --layers\n"
    "self-attention layers with padding masks, the [CLS] state (or the mean, --pool mean), a\n"
    "softmax layer. Batches hold texts of similar length (sorted within shuffled buckets of\n"
    "--bucket batches), padded on the right. AdamW with weight decay, linear warm-up, then the\n"
    "--schedule. After every epoch, accuracy and macro-F1 on --dev; the best model so far is\n"
    "written (atomically) to CKPT with the tokenizer and labels in its metadata, and --patience\n"
    "epochs without a better dev macro-F1 end the run. Without --dev the last epoch is kept.\n"
    "A plot of the training loss and dev macro-F1 against the step goes to CKPT less\n"
    ".safetensors, plus .png. Ctrl-C stops after the current batch (exit status 130).\n",
    "  attn train classify --train data/corpora/debdesc/train.tsv --dev "
    "data/corpora/debdesc/dev.tsv \\\n"
    "      --out debdesc.safetensors --epochs 5 --d-model 256 --layers 2\n",
};

/* The option table: data and checkpoint, then the shared training options. */
static int parse_args(int argc, char **argv, train_args *a) {
    memset(a, 0, sizeof *a);
    cls_opts_default(&a->o);
    cli_opt opts[8 + CLS_OPTS_ROWS];
    int n = 0;
    opts[n++] =
        (cli_opt){NULL, CLI_SECTION, NULL, NULL, "Data and checkpoint", CLI_ANY, NULL, NULL, 0};
    opts[n++] = (cli_opt){
        "train", CLI_STRING, &a->train, "FILE", "training examples, label<TAB>text (required)",
        CLI_ANY, NULL,       NULL,      0};
    opts[n++] = (cli_opt){"dev",
                          CLI_STRING,
                          &a->dev,
                          "FILE",
                          "examples scored after every epoch (early stopping, best model)",
                          CLI_ANY,
                          NULL,
                          "none: keep the last epoch",
                          0};
    opts[n++] = (cli_opt){"out",   CLI_STRING, &a->out, "CKPT", "checkpoint to write (required)",
                          CLI_ANY, NULL,       NULL,    0};
    cls_opts_table(&a->o, opts, &n);
    opts[n++] = (cli_opt)CLI_END;
    const char *positional[1];
    int n_positional;
    int rc =
        cli_parse(argc, argv, opts, &train_help, "train classify", positional, 0, &n_positional);
    if (rc != CLI_OK) return rc;
    if (!a->train) {
        cli_error("train classify: --train FILE is required (try attn train classify --help)");
        return CLI_USAGE;
    }
    if (!a->out) {
        cli_error("train classify: --out CKPT is required (try attn train classify --help)");
        return CLI_USAGE;
    }
    return cls_opts_check(&a->o, opts);
}

/* Fails early, before any training, when the checkpoint's folder cannot be written. */
static int check_writable(const char *path) {
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    if (access(dir, W_OK) == 0) return CLI_OK;
    cli_error("cannot write checkpoint '%s': %s: %s", path, dir, strerror(errno));
    return CLI_RUNTIME;
}

/* The first label of all that seen does not hold. */
static const char *first_unseen(const attn_labels *all, const attn_labels *seen) {
    for (int i = 0; i < attn_labels_count(all); i++)
        if (attn_labels_find(seen, attn_labels_name(all, i)) < 0) return attn_labels_name(all, i);
    return "";
}

/* The labels of train and dev together, sorted. A dev label that training never shows is a class
 * the model cannot learn; it is kept so that dev macro-F1 is honest about it, with a note. */
static int collect_labels(const train_args *a, const attn_tsv *train, const attn_tsv *dev,
                          attn_labels **out) {
    long n = train->n + dev->n;
    attn_tsv both = {.n = n, .labels = malloc((size_t)n * sizeof(char *)), .name = train->name};
    if (!both.labels) {
        cli_error("out of memory for %ld labels", n);
        return CLI_RUNTIME;
    }
    memcpy(both.labels, train->labels, (size_t)train->n * sizeof(char *));
    if (dev->n) memcpy(both.labels + train->n, dev->labels, (size_t)dev->n * sizeof(char *));
    attn_status s = attn_labels_from_tsv(&both, out);
    free(both.labels);
    if (s != ATTN_OK) return cli_lib_error(s, "cannot collect the labels of '%s'", a->train);
    attn_labels *seen;
    if ((s = attn_labels_from_tsv(train, &seen)) != ATTN_OK)
        return cli_lib_error(s, "cannot collect the labels of '%s'", a->train);
    int missing = attn_labels_count(*out) - attn_labels_count(seen);
    if (missing > 0 && !a->o.quiet)
        fprintf(stderr, "note: %d label%s of --dev never occur%s in --train (first: '%s')\n",
                missing, missing == 1 ? "" : "s", missing == 1 ? "s" : "",
                first_unseen(*out, seen));
    attn_labels_free(seen);
    return CLI_OK;
}

/* The one stdout line at the end of a run. */
static void print_summary(const train_args *a, const cls_result *r) {
    char took[32];
    progress_format_duration(r->seconds, took, sizeof took);
    printf("epochs %d/%d%s  steps %ld  loss %.4f", r->epochs, a->o.epochs,
           r->stopped_early ? " (early stop)" : "", r->steps, r->train_loss);
    if (!isnan(r->best_f1))
        printf("  dev_acc %.4f  dev_macro_f1 %.4f (epoch %d)", r->best_accuracy, r->best_f1,
               r->best_epoch);
    printf("  texts %ld  cut %ld  time %s  saved %s\n", r->n_train, r->n_truncated, took, a->out);
    fflush(stdout);
}

int cmd_train_classify(int argc, char **argv) {
    train_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc == CLI_HELP ? CLI_OK : rc;
    attn_status s = attn_set_num_threads(a.o.threads);
    if (s != ATTN_OK) return cli_lib_error(s, "--threads %d", a.o.threads);
    if ((rc = check_writable(a.out))) return rc;
    attn_tsv train = {0}, dev = {0};
    cls_model c = {0};
    cls_result res;
    rc = cls_read_tsv(a.train, &train);
    if (rc == CLI_OK && a.dev) rc = cls_read_tsv(a.dev, &dev);
    if (rc == CLI_OK) rc = collect_labels(&a, &train, &dev, &c.labels);
    if (rc == CLI_OK) rc = cls_tokenizer_make(&a.o, &train, &c.tok);
    cls_target target = {a.out, a.train, a.dev, NULL};
    if (rc == CLI_OK) rc = cls_train(&a.o, &c, &train, a.dev ? &dev : NULL, &target, &res);
    if (rc == CLI_OK) print_summary(&a, &res);
    cls_model_free(&c);
    attn_tsv_free(&train);
    attn_tsv_free(&dev);
    return rc;
}
