/* tools/cmd_train_lm.c: `attn train lm`: a byte-level decoder-only language model on a text file
 * (attn_lm_train, attn/lm.h): the options, resuming, Ctrl-C and what is printed. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn/attn.h"

#include "args.h"
#include "commands.h"
#include "progress.h"
#include "train_opts.h"

typedef struct {
    const char *data, *val, *out;
    int resume, threads, quiet;
    attn_config cfg;
    attn_lm_params p;
} train_args;

#define MAX_BATCH_TOKENS (1 << 24) /* B * T: keeps every B * T * C product well inside int64 */

static const cli_help train_help = {
    "attn train lm --data FILE --out CKPT [options]",
    "Trains a decoder-only Transformer language model on a plain-text file, one token per\n"
    "byte (vocabulary 256, token id = byte value). The last 10% of the file is held out for\n"
    "validation unless --val names a separate file. Each step averages --accum micro-batches\n"
    "of --batch random windows of --context + 1 bytes, drawn from a generator seeded by\n"
    "(seed, batch number): a run continued with --resume sees exactly the batches of an\n"
    "uninterrupted one and ends with the same parameters, bit for bit (keep --steps the same:\n"
    "it is the length of the cosine schedule). The checkpoint (safetensors, with the optimizer\n"
    "state) is written atomically every --save-every steps, at the end, and on Ctrl-C, which\n"
    "finishes the current step first (exit status 130).\n",
    "  attn train lm --data corpus.txt --out lm.safetensors --layers 4 --d-model 128 --steps 2000\n"
    "  attn train lm --data corpus.txt --out lm.safetensors --steps 2000 --resume\n",
};

#define BIG 1e18

static int parse_args(int argc, char **argv, train_args *a, cli_opt *opts) {
    *a = (train_args){.cfg = attn_lm_default_config(), .p = attn_lm_default_params()};
    attn_train_params *tp = &a->p.train;
    int n = 0;
    opts[n++] = cli_section("Data and checkpoint");
    opts[n++] = cli_row("data", CLI_STRING, &a->data, "FILE", "training text (required)", CLI_ANY,
                        NULL, NULL);
    opts[n++] = cli_row("val", CLI_STRING, &a->val, "FILE", "validation text", CLI_ANY, NULL,
                        "the last 10% of --data");
    opts[n++] = cli_row("out", CLI_STRING, &a->out, "CKPT", "checkpoint to write (required)",
                        CLI_ANY, NULL, NULL);
    opts[n++] = cli_row("resume", CLI_FLAG, &a->resume, NULL,
                        "continue from the checkpoint in --out (model, optimizer, step, seed)",
                        CLI_ANY, NULL, NULL);
    opts[n++] = cli_row("context", CLI_INT, &a->cfg.max_len, NULL,
                        "context length T (the model's max_len)", 1, 1 << 20, NULL, NULL);
    train_opts_model(&a->cfg, "decoder layers", opts, &n);
    train_opts_optim(tp, &a->p.adamw, &a->cfg, opts, &n);
    opts[n++] = cli_row("steps", CLI_LONG, &tp->steps, NULL, "optimizer steps in the whole run", 1,
                        BIG, NULL, NULL);
    opts[n++] = cli_row("batch", CLI_INT, &a->p.batch, NULL, "windows per micro-batch", 1, 1 << 20,
                        NULL, NULL);
    opts[n++] = cli_row("accum", CLI_INT, &tp->accum, NULL, "micro-batches accumulated per step", 1,
                        1 << 20, NULL, NULL);
    opts[n++] = cli_section("Reporting");
    opts[n++] = cli_row("eval-every", CLI_LONG, &tp->eval_every, NULL,
                        "validation loss every N steps (0: at the end only)", 0, BIG, NULL, NULL);
    opts[n++] = cli_row("eval-batches", CLI_INT, &a->p.eval_batches, NULL,
                        "batches of validation windows per evaluation (0: no validation)", 0,
                        1 << 20, NULL, NULL);
    opts[n++] = cli_row("save-every", CLI_LONG, &tp->save_every, NULL,
                        "checkpoint every N steps (0: at the end only)", 0, BIG, NULL, NULL);
    opts[n++] = cli_row("threads", CLI_INT, &a->threads, NULL, "threads", 0, 4096, NULL,
                        "$ATTN_NUM_THREADS, else all cores");
    opts[n++] = cli_row("quiet", CLI_FLAG, &a->quiet, NULL,
                        "no progress or validation lines on stderr", CLI_ANY, NULL, NULL);
    opts[n++] = (cli_opt)CLI_END;
    const char *positional[1];
    int n_positional;
    int rc = cli_parse(argc, argv, opts, &train_help, "train lm", positional, 0, &n_positional);
    if (rc != CLI_OK) return rc;
    if (!a->data || !a->out) {
        cli_error("train lm: --%s is required (try attn train lm --help)",
                  a->data ? "out CKPT" : "data FILE");
        return CLI_USAGE;
    }
    if ((long long)a->p.batch * a->cfg.max_len > MAX_BATCH_TOKENS) {
        cli_error("--batch %d x --context %d is too large (at most %d tokens per micro-batch)",
                  a->p.batch, a->cfg.max_len, MAX_BATCH_TOKENS);
        return CLI_USAGE;
    }
    return train_opts_check(&a->cfg, tp, opts);
}

/* ---- the run --------------------------------------------------------------------------------- */

typedef struct {
    const train_args *a;
    cli_opt *opts;
    attn_model *m;
    attn_optimizer *opt;
    attn_train_state st;
    int *ids, *val_ids; /* the whole --data (and --val) */
    size_t n_ids, n_val;
    double last_val; /* the last validation loss */
    progress bar;
} run;

static void on_progress(const attn_train_progress *p, void *user) {
    run *r = user;
    if (p->event == ATTN_TRAIN_STEP) progress_step(&r->bar, p);
    if (p->event == ATTN_TRAIN_EVAL) r->last_val = p->metrics[0];
    if (p->event == ATTN_TRAIN_EVAL)
        progress_message(&r->bar, "step %ld  val_loss %.4f  bpb %.3f%s", p->step, p->metrics[0],
                         p->metrics[1], p->is_best ? "  (best)" : "");
    if (p->event == ATTN_TRAIN_SAVE && p->step < p->total_steps && !train_opts_interrupted(NULL))
        progress_message(&r->bar, "step %ld  saved %s", p->step, p->path);
}

static int read_text(const char *path, int **ids, size_t *n) {
    attn_status s = attn_lm_read_bytes(path, ids, n);
    return s == ATTN_OK ? CLI_OK : cli_lib_error(s, "cannot read the text");
}

/* The model and optimizer: new from the options, or the checkpoint's with --resume. */
static int make_model(run *r) {
    const train_args *a = r->a;
    attn_status s;
    if (!a->resume) {
        if ((s = attn_model_create(&a->cfg, a->p.train.seed, &r->m)) != ATTN_OK)
            return cli_lib_error(s, "invalid model");
        if ((s = attn_optimizer_create(r->m, a->p.adamw, &r->opt)) != ATTN_OK)
            return cli_lib_error(s, "cannot create the optimizer");
        return CLI_OK;
    }
    if ((s = attn_checkpoint_load(a->out, &r->m, &r->opt, &r->st)) != ATTN_OK)
        return cli_lib_error(s, "cannot resume from '%s'", a->out);
    const attn_config *c = attn_model_config(r->m);
    if (c->arch != ATTN_ARCH_DECODER_LM || c->vocab_size != 256) {
        cli_error("cannot resume from '%s': it is not a byte-level language model (%s, vocabulary "
                  "%d)",
                  a->out, attn_arch_name(c->arch), c->vocab_size);
        return CLI_RUNTIME;
    }
    attn_adamw_params have = attn_optimizer_params(r->opt);
    return train_opts_same(r->opts, &a->cfg, c, &a->p.adamw, &have, &a->p.train, r->st.seed);
}

static int load(run *r) {
    const train_args *a = r->a;
    int rc = read_text(a->data, &r->ids, &r->n_ids);
    if (rc == CLI_OK && a->val) rc = read_text(a->val, &r->val_ids, &r->n_val);
    if (rc == CLI_OK) rc = make_model(r);
    return rc;
}

static int train(run *r) {
    const train_args *a = r->a;
    int T = attn_model_config(r->m)->max_len;
    const int *train = r->ids, *val = r->val_ids;
    size_t n_train = r->n_ids, n_val = r->n_val;
    if (!a->val) { /* the last 10% of --data */
        n_val = r->n_ids / 10;
        n_train = r->n_ids - n_val;
        val = r->ids + n_train;
    }
    if (n_train < (size_t)T + 1) {
        cli_error("training text '%s' has %zu bytes; a context of %d needs at least %d", a->data,
                  n_train, T, T + 1);
        return CLI_RUNTIME;
    }
    if (a->p.eval_batches > 0 && n_val < (size_t)T + 1) {
        cli_error("validation text (%s) has %zu bytes; a context of %d needs at least %d (give "
                  "--val FILE, a smaller --context, or --eval-batches 0)",
                  a->val ? a->val : "the last 10% of --data", n_val, T, T + 1);
        return CLI_RUNTIME;
    }
    char version[64];
    snprintf(version, sizeof version, "attn %s train lm", attn_version());
    const attn_meta meta[] = {{"tokenizer", "bytes"},
                              {"data", a->data},
                              {"val", a->val ? a->val : "last 10% of data"},
                              {"created_by", version}};
    attn_lm_params p = a->p;
    p.train.save_path = a->out;
    p.train.meta = meta;
    p.train.n_meta = 4;
    p.train.progress = on_progress;
    p.train.abort = train_opts_interrupted;
    p.train.user = r;
    const attn_config *c = attn_model_config(r->m);
    if (!a->quiet)
        fprintf(stderr,
                "%s %s: %zu parameters, %d layers, d_model %d, context %d, %zu training "
                "bytes, step %ld of %ld\n",
                a->resume ? "resuming" : "training", a->out, attn_model_num_params(r->m),
                c->n_layers, c->d_model, T, n_train, r->st.step, p.train.steps);

    progress_init(&r->bar, "tok", NULL, a->quiet);
    train_opts_catch_sigint(); /* Ctrl-C finishes the step and saves; a second one kills */
    attn_train_result res;
    attn_status s = attn_lm_train(r->m, r->opt, &r->st, train, n_train, val, n_val, &p, &res);
    train_opts_release_sigint();
    progress_finish(&r->bar);
    if (s == ATTN_ERR_ABORTED) {
        cli_error("interrupted after step %ld; saved %s (continue with --resume)", r->st.step,
                  a->out);
        return CLI_SIGINT;
    }
    if (s != ATTN_OK)
        return cli_lib_error(s, "training failed%s",
                             s == ATTN_ERR_NUMERIC ? " (try a lower --lr or --clip 1)" : "");
    char took[32];
    progress_format_duration(res.seconds, took, sizeof took);
    printf("step %ld/%ld", r->st.step, p.train.steps);
    if (!isnan(res.recent_loss)) printf("  loss %.4f", res.recent_loss);
    if (!isnan(r->last_val))
        printf("  val_loss %.4f  val_bpb %.3f", r->last_val, r->last_val / log(2.0));
    printf("  tokens %ld  time %s  saved %s\n", r->st.tokens, took, a->out);
    fflush(stdout);
    return CLI_OK;
}

int cmd_train_lm(int argc, char **argv) {
    train_args a;
    cli_opt opts[24 + TRAIN_OPTS_ROWS];
    int rc = parse_args(argc, argv, &a, opts);
    if (rc) return rc == CLI_HELP ? CLI_OK : rc;
    attn_status s = attn_set_num_threads(a.threads);
    if (s != ATTN_OK) return cli_lib_error(s, "--threads %d", a.threads);
    if ((rc = train_opts_check_writable(a.out))) return rc;
    run r = {.a = &a, .opts = opts, .last_val = NAN};
    rc = load(&r);
    if (rc == CLI_OK) rc = train(&r);
    free(r.ids);
    free(r.val_ids);
    attn_optimizer_free(r.opt);
    attn_model_free(r.m);
    return rc;
}
