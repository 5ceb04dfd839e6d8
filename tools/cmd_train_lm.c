/* tools/cmd_train_lm.c: `attn train lm`: a byte-level decoder-only language model on a text file.
 *
 * Step s (0-based) uses micro-batches k = 0..accum-1, each B random windows drawn from a generator
 * keyed by (seed, s, k) (tools/text_data.c), with dropout seeded by (seed, s * accum + k). Nothing
 * else carries state from step to step but the parameters and AdamW's moments, which the checkpoint
 * stores: N steps, save, --resume, M more steps gives the parameters of N + M steps in one run,
 * bit for bit. */
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
#include "commands.h"
#include "progress.h"
#include "text_data.h"

typedef struct {
    const char *data, *val, *out;
    int layers, d_model, heads, d_ff, context;
    float dropout, label_smoothing;
    const char *norm, *pos, *act;
    int batch, accum;
    long steps, warmup;
    float lr, min_lr, weight_decay, clip;
    const char *schedule;
    uint64_t seed;
    long eval_every, save_every;
    int eval_batches, resume, threads, quiet;
    unsigned given; /* bit i: fixed_names[i] was given on the command line */
} train_args;

/* Options a checkpoint fixes: with --resume they may be repeated but not changed. */
static const char *const fixed_names[] = {
    "layers", "d-model", "heads", "d-ff",         "context", "dropout",         "norm",
    "pos",    "act",     "seed",  "weight-decay", "clip",    "label-smoothing", NULL};

static const char *const norm_names[] = {"pre", "post", NULL};
static const char *const pos_names[] = {"learned", "sinusoidal", NULL};
static const char *const act_names[] = {"gelu_tanh", "gelu_erf", "relu", NULL};
static const char *const schedule_names[] = {"constant", "cosine", "invsqrt", NULL};

#define BIG 1e18
#define MAX_BATCH_TOKENS (1 << 24) /* B * T: keeps every B * T * C product well inside int64 */

static const cli_help train_help = {
    "attn train lm --data FILE --out CKPT [options]",
    "Trains a decoder-only Transformer language model on a plain-text file, one token per\n"
    "byte (vocabulary 256, token id = byte value). The last 10% of the file is held out for\n"
    "validation unless --val names a separate file. Each step averages --accum micro-batches\n"
    "of --batch random windows of --context + 1 bytes, drawn from a generator seeded by\n"
    "(seed, step, micro-batch): a run continued with --resume sees exactly the batches of an\n"
    "uninterrupted one and ends with the same parameters, bit for bit (keep --steps the same:\n"
    "it is the length of the cosine schedule). The checkpoint (safetensors, with the optimizer\n"
    "state) is written atomically every --save-every steps, at the end, and on Ctrl-C, which\n"
    "finishes the current step first (exit status 130).\n",
    "  attn train lm --data corpus.txt --out lm.safetensors --layers 4 --d-model 128 --steps 2000\n"
    "  attn train lm --data corpus.txt --out lm.safetensors --steps 2000 --resume\n",
};

/* Cross-field checks the option table cannot express. Returns CLI_OK or CLI_USAGE. */
static int check_args(train_args *a, cli_opt *opts) {
    if (!a->data) {
        cli_error("train lm: --data FILE is required (try attn train lm --help)");
        return CLI_USAGE;
    }
    if (!a->out) {
        cli_error("train lm: --out CKPT is required (try attn train lm --help)");
        return CLI_USAGE;
    }
    if (a->d_model % a->heads != 0) {
        cli_error("--d-model %d is not divisible by --heads %d", a->d_model, a->heads);
        return CLI_USAGE;
    }
    if (a->min_lr > a->lr && strcmp(a->schedule, "cosine") == 0) {
        cli_error("--min-lr %g is above --lr %g", (double)a->min_lr, (double)a->lr);
        return CLI_USAGE;
    }
    if ((long long)a->batch * a->context > MAX_BATCH_TOKENS) {
        cli_error("--batch %d x --context %d is too large (at most %d tokens per micro-batch)",
                  a->batch, a->context, MAX_BATCH_TOKENS);
        return CLI_USAGE;
    }
    if (!cli_find(opts, "d-ff")->seen) a->d_ff = 4 * a->d_model;
    for (int i = 0; fixed_names[i]; i++)
        if (cli_find(opts, fixed_names[i])->seen) a->given |= 1u << i;
    return CLI_OK;
}

static int parse_args(int argc, char **argv, train_args *a) {
    *a = (train_args){.layers = 4,
                      .d_model = 128,
                      .heads = 4,
                      .d_ff = 512,
                      .context = 128,
                      .dropout = 0.0f,
                      .label_smoothing = 0.0f,
                      .norm = "pre",
                      .pos = "learned",
                      .act = "gelu_tanh",
                      .batch = 16,
                      .accum = 1,
                      .steps = 1000,
                      .warmup = 100,
                      .lr = 1e-3f,
                      .min_lr = 1e-4f,
                      .weight_decay = 0.1f,
                      .clip = 1.0f,
                      .schedule = "cosine",
                      .seed = 1,
                      .eval_every = 100,
                      .save_every = 500,
                      .eval_batches = 8};
    cli_opt opts[] = {
        {NULL, CLI_SECTION, NULL, NULL, "Data and checkpoint", CLI_ANY, NULL, NULL, 0},
        {"data", CLI_STRING, &a->data, "FILE", "training text (required)", CLI_ANY, NULL, NULL, 0},
        {"val", CLI_STRING, &a->val, "FILE", "validation text", CLI_ANY, NULL,
         "the last 10% of --data", 0},
        {"out", CLI_STRING, &a->out, "CKPT", "checkpoint to write (required)", CLI_ANY, NULL, NULL,
         0},
        {"resume", CLI_FLAG, &a->resume, NULL,
         "continue from the checkpoint in --out (model, optimizer, step, seed)", CLI_ANY, NULL,
         NULL, 0},
        {NULL, CLI_SECTION, NULL, NULL, "Model", CLI_ANY, NULL, NULL, 0},
        {"layers", CLI_INT, &a->layers, NULL, "decoder layers", 1, 1000, NULL, NULL, 0},
        {"d-model", CLI_INT, &a->d_model, NULL, "model width C", 1, 65536, NULL, NULL, 0},
        {"heads", CLI_INT, &a->heads, NULL, "attention heads (must divide --d-model)", 1, 65536,
         NULL, NULL, 0},
        {"d-ff", CLI_INT, &a->d_ff, NULL, "feed-forward hidden size", 1, 1 << 20, NULL,
         "4 * d-model", 0},
        {"context", CLI_INT, &a->context, NULL, "context length T (the model's max_len)", 1,
         1 << 20, NULL, NULL, 0},
        {"dropout", CLI_FLOAT, &a->dropout, NULL, "residual dropout probability", 0, 0.99, NULL,
         NULL, 0},
        {"norm", CLI_CHOICE, &a->norm, NULL, "LayerNorm placement", CLI_ANY, norm_names, NULL, 0},
        {"pos", CLI_CHOICE, &a->pos, NULL, "position embeddings", CLI_ANY, pos_names, NULL, 0},
        {"act", CLI_CHOICE, &a->act, NULL, "feed-forward activation", CLI_ANY, act_names, NULL, 0},
        {NULL, CLI_SECTION, NULL, NULL, "Optimisation (AdamW)", CLI_ANY, NULL, NULL, 0},
        {"steps", CLI_LONG, &a->steps, NULL, "optimizer steps in the whole run", 1, BIG, NULL, NULL,
         0},
        {"batch", CLI_INT, &a->batch, NULL, "windows per micro-batch", 1, 1 << 20, NULL, NULL, 0},
        {"accum", CLI_INT, &a->accum, NULL, "micro-batches accumulated per step", 1, 1 << 20, NULL,
         NULL, 0},
        {"lr", CLI_FLOAT, &a->lr, NULL,
         "peak learning rate (invsqrt: a multiplier, 1 in the paper)", 0, 1e6, NULL, NULL, 0},
        {"min-lr", CLI_FLOAT, &a->min_lr, NULL, "final learning rate of the cosine schedule", 0,
         1e6, NULL, NULL, 0},
        {"schedule", CLI_CHOICE, &a->schedule, NULL, "learning-rate schedule after warm-up",
         CLI_ANY, schedule_names, NULL, 0},
        {"warmup", CLI_LONG, &a->warmup, NULL, "steps of linear warm-up", 0, BIG, NULL, NULL, 0},
        {"weight-decay", CLI_FLOAT, &a->weight_decay, NULL, "decoupled weight decay (matrices)", 0,
         1e3, NULL, NULL, 0},
        {"clip", CLI_FLOAT, &a->clip, NULL, "clip the global gradient norm (0: off)", 0, 1e30, NULL,
         NULL, 0},
        {"label-smoothing", CLI_FLOAT, &a->label_smoothing, NULL,
         "label smoothing of the training loss (validation reports the plain loss)", 0, 0.99, NULL,
         NULL, 0},
        {"seed", CLI_U64, &a->seed, NULL, "seed of the initial weights, batches and dropout",
         CLI_ANY, NULL, NULL, 0},
        {NULL, CLI_SECTION, NULL, NULL, "Reporting", CLI_ANY, NULL, NULL, 0},
        {"eval-every", CLI_LONG, &a->eval_every, NULL,
         "validation loss every N steps (0: at the end only)", 0, BIG, NULL, NULL, 0},
        {"eval-batches", CLI_INT, &a->eval_batches, NULL,
         "batches of validation windows per evaluation (0: no validation)", 0, 1 << 20, NULL, NULL,
         0},
        {"save-every", CLI_LONG, &a->save_every, NULL,
         "checkpoint every N steps (0: at the end only)", 0, BIG, NULL, NULL, 0},
        {"threads", CLI_INT, &a->threads, NULL, "threads", 0, 4096, NULL,
         "$ATTN_NUM_THREADS, else all cores", 0},
        {"quiet", CLI_FLAG, &a->quiet, NULL, "no progress or validation lines on stderr", CLI_ANY,
         NULL, NULL, 0},
        CLI_END,
    };
    const char *positional[1];
    int n_positional;
    int rc = cli_parse(argc, argv, opts, &train_help, "train lm", positional, 0, &n_positional);
    if (rc != CLI_OK) return rc;
    return check_args(a, opts);
}

static int given(const train_args *a, const char *name) {
    for (int i = 0; fixed_names[i]; i++)
        if (strcmp(fixed_names[i], name) == 0) return (a->given >> i) & 1u;
    return 0;
}

/* --- data ------------------------------------------------------------------------------------- */

typedef struct {
    text_data file, val_file; /* owned */
    text_data train, val;     /* views */
} lm_data;

static int load_text(const char *path, const char *what, text_data *out) {
    if (text_data_load(path, out) == 0) return CLI_OK;
    cli_error("cannot read %s file '%s': %s", what, path, strerror(errno));
    return CLI_RUNTIME;
}

/* Reads --data (and --val) and checks that each part holds at least one window of T+1 bytes. */
static int load_data(const train_args *a, int T, lm_data *d) {
    memset(d, 0, sizeof *d);
    if (load_text(a->data, "data", &d->file)) return CLI_RUNTIME;
    if (a->val) {
        if (load_text(a->val, "validation", &d->val_file)) return CLI_RUNTIME;
        d->train = d->file;
        d->val = d->val_file;
    } else {
        size_t n_val = d->file.n / 10;
        d->train = text_data_slice(&d->file, 0, d->file.n - n_val);
        d->val = text_data_slice(&d->file, d->file.n - n_val, d->file.n);
    }
    if (d->train.n < (size_t)T + 1) {
        cli_error("training text '%s' has %zu bytes; a context of %d needs at least %d", a->data,
                  d->train.n, T, T + 1);
        return CLI_RUNTIME;
    }
    if (a->eval_batches > 0 && d->val.n < (size_t)T + 1) {
        cli_error("validation text (%s) has %zu bytes; a context of %d needs at least %d (give "
                  "--val FILE, a smaller --context, or --eval-batches 0)",
                  a->val ? a->val : "the last 10% of --data", d->val.n, T, T + 1);
        return CLI_RUNTIME;
    }
    return CLI_OK;
}

static void free_data(lm_data *d) {
    text_data_free(&d->file);
    text_data_free(&d->val_file);
}

/* --- model and optimizer ---------------------------------------------------------------------- */

static int parse_name(attn_status s, const char *option, const char *name) {
    if (s == ATTN_OK) return CLI_OK;
    cli_error("--%s: '%s' is not known to libattn: %s", option, name, attn_last_error());
    return CLI_USAGE;
}

static int create_model(const train_args *a, attn_model **m, attn_optimizer **opt,
                        attn_train_state *st) {
    attn_config cfg = attn_config_default(ATTN_ARCH_DECODER_LM);
    cfg.vocab_size = 256;
    cfg.max_len = a->context;
    cfg.d_model = a->d_model;
    cfg.n_heads = a->heads;
    cfg.d_ff = a->d_ff;
    cfg.n_layers = a->layers;
    cfg.dropout = a->dropout;
    cfg.label_smoothing = a->label_smoothing;
    if (parse_name(attn_norm_parse(a->norm, &cfg.norm), "norm", a->norm) ||
        parse_name(attn_pos_parse(a->pos, &cfg.pos), "pos", a->pos) ||
        parse_name(attn_act_parse(a->act, &cfg.act), "act", a->act))
        return CLI_USAGE;
    if (attn_config_validate(&cfg) != ATTN_OK) {
        cli_error("invalid model: %s", attn_last_error());
        return CLI_USAGE;
    }
    attn_status s = attn_model_create(&cfg, a->seed, m);
    if (s != ATTN_OK) return cli_lib_error(s, "cannot create the model");
    attn_adamw_params hp = attn_adamw_default_params();
    hp.weight_decay = a->weight_decay;
    hp.clip_norm = a->clip;
    s = attn_optimizer_create(*m, hp, opt);
    if (s != ATTN_OK) return cli_lib_error(s, "cannot create the optimizer");
    *st = (attn_train_state){.seed = a->seed};
    return CLI_OK;
}

/* Fails when an option given on the command line differs from what the checkpoint fixed. */
static int check_same(const train_args *a, const char *option, double want, double have) {
    if (!given(a, option) || want == have) return CLI_OK;
    cli_error("--%s %g differs from the checkpoint's %g (with --resume the model, seed and AdamW "
              "settings come from the checkpoint)",
              option, want, have);
    return CLI_USAGE;
}

static int check_same_name(const train_args *a, const char *option, const char *want,
                           const char *have) {
    if (!given(a, option) || strcmp(want, have) == 0) return CLI_OK;
    cli_error("--%s %s differs from the checkpoint's %s (with --resume the model comes from the "
              "checkpoint)",
              option, want, have);
    return CLI_USAGE;
}

static int resume_model(const train_args *a, attn_model **m, attn_optimizer **opt,
                        attn_train_state *st) {
    attn_status s = attn_checkpoint_load(a->out, m, opt, st);
    if (s != ATTN_OK) return cli_lib_error(s, "cannot resume from '%s'", a->out);
    const attn_config *c = attn_model_config(*m);
    if (c->arch != ATTN_ARCH_DECODER_LM || c->vocab_size != 256) {
        cli_error("cannot resume from '%s': it is not a byte-level language model (%s, vocabulary "
                  "%d)",
                  a->out, attn_arch_name(c->arch), c->vocab_size);
        return CLI_RUNTIME;
    }
    attn_adamw_params hp = attn_optimizer_params(*opt);
    if (check_same(a, "layers", a->layers, c->n_layers) ||
        check_same(a, "d-model", a->d_model, c->d_model) ||
        check_same(a, "heads", a->heads, c->n_heads) || check_same(a, "d-ff", a->d_ff, c->d_ff) ||
        check_same(a, "context", a->context, c->max_len) ||
        check_same(a, "dropout", a->dropout, c->dropout) ||
        check_same(a, "seed", (double)a->seed, (double)st->seed) ||
        check_same(a, "weight-decay", a->weight_decay, hp.weight_decay) ||
        check_same(a, "clip", a->clip, hp.clip_norm) ||
        check_same(a, "label-smoothing", a->label_smoothing, c->label_smoothing) ||
        check_same_name(a, "norm", a->norm, attn_norm_name(c->norm)) ||
        check_same_name(a, "pos", a->pos, attn_pos_name(c->pos)) ||
        check_same_name(a, "act", a->act, attn_act_name(c->act)))
        return CLI_USAGE;
    return CLI_OK;
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

static int save_checkpoint(const train_args *a, const attn_model *m, const attn_optimizer *opt,
                           const attn_train_state *st) {
    char version[64];
    snprintf(version, sizeof version, "attn %s train lm", attn_version());
    const attn_meta meta[] = {
        {"tokenizer", "bytes"},
        {"data", a->data},
        {"val", a->val ? a->val : "last 10% of data"},
        {"created_by", version},
    };
    attn_status s = attn_checkpoint_save(a->out, m, opt, st, meta, 4);
    if (s != ATTN_OK) return cli_lib_error(s, "cannot save checkpoint '%s'", a->out);
    return CLI_OK;
}

/* --- training --------------------------------------------------------------------------------- */

typedef struct {
    int B, T;
    int *tokens, *targets; /* (B, T) */
    attn_batch batch;
} lm_batch;

static int alloc_batch(lm_batch *b, int B, int T) {
    b->B = B;
    b->T = T;
    b->tokens = malloc((size_t)B * (size_t)T * sizeof(int));
    b->targets = malloc((size_t)B * (size_t)T * sizeof(int));
    b->batch = (attn_batch){.B = B, .T = T, .tokens = b->tokens, .targets = b->targets};
    if (b->tokens && b->targets) return CLI_OK;
    cli_error("out of memory for a batch of %d x %d", B, T);
    return CLI_RUNTIME;
}

/* Mean loss over eval_batches batches of fixed, evenly spread validation windows (no dropout). */
static int evaluate(attn_model *m, const text_data *val, lm_batch *b, int n_batches, double *loss) {
    long count = (long)n_batches * b->B;
    double sum = 0;
    for (int i = 0; i < n_batches; i++) {
        for (int r = 0; r < b->B; r++)
            text_data_window(val, (long)i * b->B + r, count, b->T, b->tokens + (size_t)r * b->T,
                             b->targets + (size_t)r * b->T);
        float l;
        attn_status s = attn_model_forward(m, &b->batch, 0, &l);
        if (s != ATTN_OK) return cli_lib_error(s, "validation failed");
        sum += l;
    }
    *loss = sum / n_batches;
    return CLI_OK;
}

/* One optimizer step: accum micro-batches, mean gradient, AdamW. */
static int train_step(const train_args *a, attn_model *m, attn_optimizer *opt,
                      const attn_schedule *sched, const text_data *train, uint64_t seed, long step,
                      lm_batch *b, float *loss, float *lr) {
    attn_model_zero_grad(m);
    double sum = 0;
    for (int k = 0; k < a->accum; k++) {
        text_data_sample(train, seed, (uint64_t)step, (uint64_t)k, b->B, b->T, b->tokens,
                         b->targets);
        attn_model_set_seed(m, seed, (uint64_t)step * (uint64_t)a->accum + (uint64_t)k);
        float l;
        attn_status s = attn_model_forward(m, &b->batch, 1, &l);
        if (s == ATTN_OK) s = attn_model_backward(m, 1.0f / (float)a->accum);
        if (s != ATTN_OK) {
            return cli_lib_error(s, "step %ld failed%s", step + 1,
                                 s == ATTN_ERR_NUMERIC ? " (try a lower --lr)" : "");
        }
        sum += l;
    }
    *lr = attn_schedule_lr(sched, step);
    attn_status s = attn_optimizer_step(opt, m, *lr, NULL);
    if (s != ATTN_OK)
        return cli_lib_error(s, "step %ld: update failed%s", step + 1,
                             s == ATTN_ERR_NUMERIC ? " (try a lower --lr or --clip 1)" : "");
    *loss = (float)(sum / a->accum);
    return CLI_OK;
}

static volatile sig_atomic_t interrupted = 0;

static void on_sigint(int sig) {
    (void)sig;
    interrupted = 1;
}

/* Ctrl-C finishes the current step, then saves; a second Ctrl-C kills (SA_RESETHAND). */
static void catch_sigint(struct sigaction *old) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, old);
}

/* The mean of the last LOSS_WINDOW training losses, for the summary line. */
#define LOSS_WINDOW 50

typedef struct {
    attn_model *m;
    attn_optimizer *opt;
    attn_train_state st;
    lm_data data;
    lm_batch batch;
    progress bar;
    float recent[LOSS_WINDOW];
    long n_recent;
} run;

static void report_validation(run *r, double val_loss) {
    int best = r->st.best_step == 0 || val_loss < r->st.best_metric;
    if (best) {
        r->st.best_metric = val_loss;
        r->st.best_step = r->st.step;
    }
    progress_message(&r->bar, "step %ld  val_loss %.4f  bpb %.3f%s", r->st.step, val_loss,
                     val_loss / log(2.0), best ? "  (best)" : "");
}

static int train_loop(const train_args *a, run *r) {
    const attn_config *cfg = attn_model_config(r->m);
    attn_schedule sched = {.lr = a->lr,
                           .min_lr = a->min_lr,
                           .warmup = a->warmup,
                           .total = a->steps,
                           .d_model = cfg->d_model};
    attn_schedule_parse(a->schedule, &sched.kind);
    long tokens_per_step = (long)r->batch.B * r->batch.T * a->accum;
    long tokens_run = 0;
    progress_init(&r->bar, r->st.step, a->steps, a->quiet);
    for (long s = r->st.step; s < a->steps && !interrupted; s++) {
        float loss = 0, lr = 0;
        int rc = train_step(a, r->m, r->opt, &sched, &r->data.train, r->st.seed, s, &r->batch,
                            &loss, &lr);
        if (rc) {
            progress_finish(&r->bar);
            return rc;
        }
        r->st.step = s + 1;
        r->st.tokens += tokens_per_step;
        tokens_run += tokens_per_step;
        r->recent[r->n_recent++ % LOSS_WINDOW] = loss;
        progress_update(&r->bar, r->st.step, loss, lr, tokens_run);
        int last = r->st.step == a->steps;
        if (a->eval_every > 0 && a->eval_batches > 0 && r->st.step % a->eval_every == 0 && !last) {
            double val_loss;
            if ((rc = evaluate(r->m, &r->data.val, &r->batch, a->eval_batches, &val_loss)))
                return rc;
            report_validation(r, val_loss);
        }
        if (a->save_every > 0 && r->st.step % a->save_every == 0 && !last) {
            if ((rc = save_checkpoint(a, r->m, r->opt, &r->st))) return rc;
            progress_message(&r->bar, "step %ld  saved %s", r->st.step, a->out);
        }
    }
    progress_finish(&r->bar);
    return CLI_OK;
}

static void print_summary(const train_args *a, run *r, double val_loss, double seconds) {
    long n = r->n_recent < LOSS_WINDOW ? r->n_recent : LOSS_WINDOW;
    double loss = 0;
    for (long i = 0; i < n; i++)
        loss += r->recent[i];
    char took[32];
    progress_format_duration(seconds, took, sizeof took);
    printf("step %ld/%ld", r->st.step, a->steps);
    if (n > 0) printf("  loss %.4f", loss / (double)n);
    if (!isnan(val_loss)) printf("  val_loss %.4f  val_bpb %.3f", val_loss, val_loss / log(2.0));
    printf("  tokens %ld  time %s  saved %s\n", r->st.tokens, took, a->out);
    fflush(stdout);
}

static int train(const train_args *a, run *r) {
    int rc = check_writable(a->out);
    if (rc) return rc;
    if (a->resume) {
        if ((rc = resume_model(a, &r->m, &r->opt, &r->st))) return rc;
        if ((rc = load_data(a, attn_model_config(r->m)->max_len, &r->data))) return rc;
    } else {
        /* The data first: a mistyped path fails before a large model is initialised. */
        if ((rc = load_data(a, a->context, &r->data))) return rc;
        if ((rc = create_model(a, &r->m, &r->opt, &r->st))) return rc;
    }
    const attn_config *cfg = attn_model_config(r->m);
    if ((rc = alloc_batch(&r->batch, a->batch, cfg->max_len))) return rc;
    attn_status s = attn_model_reserve(r->m, a->batch, cfg->max_len, 0);
    if (s != ATTN_OK) return cli_lib_error(s, "cannot allocate activations");
    if (!a->quiet)
        fprintf(stderr,
                "%s %s: %zu parameters, %d layers, d_model %d, context %d, %zu training "
                "bytes, step %ld of %ld\n",
                a->resume ? "resuming" : "training", a->out, attn_model_num_params(r->m),
                cfg->n_layers, cfg->d_model, cfg->max_len, r->data.train.n, r->st.step, a->steps);

    double t0 = cli_now();
    struct sigaction old;
    catch_sigint(&old);
    rc = train_loop(a, r);
    sigaction(SIGINT, &old, NULL);
    if (rc) return rc;
    if (interrupted) {
        if ((rc = save_checkpoint(a, r->m, r->opt, &r->st))) return rc;
        cli_error("interrupted after step %ld; saved %s (continue with --resume)", r->st.step,
                  a->out);
        return CLI_SIGINT;
    }
    double val_loss = NAN;
    if (a->eval_batches > 0) {
        if ((rc = evaluate(r->m, &r->data.val, &r->batch, a->eval_batches, &val_loss))) return rc;
        report_validation(r, val_loss);
    }
    if ((rc = save_checkpoint(a, r->m, r->opt, &r->st))) return rc;
    print_summary(a, r, val_loss, cli_now() - t0);
    return CLI_OK;
}

int cmd_train_lm(int argc, char **argv) {
    train_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc == CLI_HELP ? CLI_OK : rc;
    attn_status s = attn_set_num_threads(a.threads);
    if (s != ATTN_OK) return cli_lib_error(s, "--threads %d", a.threads);
    run r;
    memset(&r, 0, sizeof r);
    rc = train(&a, &r);
    free(r.batch.tokens);
    free(r.batch.targets);
    free_data(&r.data);
    attn_optimizer_free(r.opt);
    attn_model_free(r.m);
    return rc;
}
