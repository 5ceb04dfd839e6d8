/* tools/cmd_train_lm.c: `attn train lm`: a decoder-only language model on a text file, over bytes
 * or BPE tokens (attn_lm_train, attn/lm.h): the options, the tokenizer, resuming, Ctrl-C and what
 * is printed. */
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
    const char *data, *val, *out, *tokenizer;
    int resume, quiet, vocab_size;
    attn_config cfg;
    attn_lm_params p;
} train_args;

#define MAX_BATCH_TOKENS (1 << 24) /* B * T: keeps every B * T * C product well inside int64 */

static const cli_help train_help = {
    "attn train lm --data FILE --out CKPT [options]",
    "Trains a decoder-only Transformer language model on a plain-text file, one token per\n"
    "byte (vocabulary 256, token id = byte value) by default, or over the BPE tokens of\n"
    "--tokenizer (a tokenizer.json) or of a BPE of --vocab-size tokens learnt from the\n"
    "training text first; the tokenizer is stored in the checkpoint, and generate and eval lm\n"
    "use it. The last 10% of the file is held out for validation unless --val names a\n"
    "separate file. Validation reports nats per token and bits per byte (bpb), which compares\n"
    "models of different tokenizers. Each step averages --accum micro-batches\n"
    "of --batch random windows of --context + 1 tokens, drawn from a generator seeded by\n"
    "(seed, batch number): a run continued with --resume sees exactly the batches of an\n"
    "uninterrupted one and ends with the same parameters, bit for bit (keep --steps the same:\n"
    "it is the length of the cosine schedule). The checkpoint (safetensors, with the optimizer\n"
    "state) is written atomically every --save-every steps, at the end, and on Ctrl-C, which\n"
    "finishes the current step first (exit status 130).\n",
    "  attn train lm --data corpus.txt --out lm.safetensors --layers 4 --d-model 128 --steps 2000\n"
    "  attn train lm --data corpus.txt --out lm.safetensors --vocab-size 4096 --steps 2000\n"
    "  attn train lm --data corpus.txt --out lm.safetensors --steps 2000 --resume\n",
};

#define BIG 1e18

static int parse_args(int argc, char **argv, train_args *a, cli_opt *opts) {
    *a = (train_args){.cfg = attn_lm_default_config(), .p = attn_lm_default_params()};
    attn_train_params *tp = &a->p.train;
    const cli_opt part0[] = {
        CLI_HEADING("Data and checkpoint"),
        CLI_OPT("data", CLI_STRING, &a->data, "training text", .meta = "FILE", .required = 1),
        CLI_OPT("val", CLI_STRING, &a->val, "validation text", .meta = "FILE",
                .default_text = "the last 10% of --data"),
        CLI_OPT("out", CLI_STRING, &a->out, "checkpoint to write", .meta = "CKPT", .required = 1),
        CLI_OPT("tokenizer", CLI_STRING, &a->tokenizer, "BPE tokenizer.json to train on its tokens",
                .meta = "FILE", .default_text = "bytes"),
        CLI_OPT("vocab-size", CLI_INT, &a->vocab_size,
                "learn a BPE of N tokens from the training text first", .min = 262, .max = 1 << 20,
                .default_text = "bytes"),
        CLI_OPT("resume", CLI_FLAG, &a->resume,
                "continue from the checkpoint in --out (model, optimizer, step, seed)"),
        CLI_OPT("context", CLI_INT, &a->cfg.max_len, "context length T (the model's max_len)",
                .min = 1, .max = 1 << 20),
    };
    const cli_opt part1[] = {
        CLI_OPT("steps", CLI_LONG, &tp->steps, "optimizer steps in the whole run", .min = 1,
                .max = BIG),
        CLI_OPT("batch", CLI_INT, &a->p.batch, "windows per micro-batch", .min = 1, .max = 1 << 20),
        CLI_OPT("accum", CLI_INT, &tp->accum, "micro-batches accumulated per step", .min = 1,
                .max = 1 << 20),
        CLI_HEADING("Reporting"),
        CLI_OPT("eval-every", CLI_LONG, &tp->eval_every,
                "validation loss every N steps (0: at the end only)", .min = 0, .max = BIG),
        CLI_OPT("eval-batches", CLI_INT, &a->p.eval_batches,
                "batches of validation windows per evaluation (0: no validation)", .min = 0,
                .max = 1 << 20),
        CLI_OPT("save-every", CLI_LONG, &tp->save_every,
                "checkpoint every N steps (0: at the end only)", .min = 0, .max = BIG),
        CLI_OPT("quiet", CLI_FLAG, &a->quiet, "no progress or validation lines on stderr"),
    };
    int n = 0;
    CLI_APPEND(opts, &n, part0);
    train_opts_model(&a->cfg, "decoder layers", opts, &n);
    train_opts_optim(tp, &a->p.adamw, &a->cfg, opts, &n);
    CLI_APPEND(opts, &n, part1);
    opts[n] = (cli_opt)CLI_END;
    int rc = cli_parse(argc, argv, opts, &train_help, 0, NULL);
    if (rc != CLI_OK) return rc;
    if (a->tokenizer && a->vocab_size) {
        cli_error("train lm: give --tokenizer FILE or --vocab-size N, not both");
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
    attn_tokenizer *tok; /* --tokenizer's or the checkpoint's (NULL: bytes, or learnt in texts) */
    attn_lm_texts texts;
    double last_val, last_bpb; /* the last validation */
    progress bar;
} run;

static void on_progress(const attn_train_progress *p, void *user) {
    run *r = user;
    if (p->event == ATTN_TRAIN_STEP) progress_step(&r->bar, p);
    if (p->event == ATTN_TRAIN_EVAL) r->last_val = p->metrics[0], r->last_bpb = p->metrics[1];
    if (p->event == ATTN_TRAIN_EVAL)
        progress_message(&r->bar, "step %ld  val_loss %.4f  bpb %.3f%s", p->step, p->metrics[0],
                         p->metrics[1], p->is_best ? "  (best)" : "");
    if (p->event == ATTN_TRAIN_SAVE && p->step < p->total_steps && !train_opts_interrupted(NULL))
        progress_message(&r->bar, "step %ld  saved %s", p->step, p->path);
}

/* With --resume: the checkpoint's model, optimizer, state and tokenizer, which --tokenizer /
 * --vocab-size and the model options, when given, must agree with. */
static int resume(run *r) {
    const train_args *a = r->a;
    attn_status s = attn_checkpoint_load(a->out, &r->m, &r->opt, &r->st);
    const attn_config *c = s == ATTN_OK ? attn_model_config(r->m) : NULL;
    if (s == ATTN_OK && c->arch != ATTN_ARCH_DECODER_LM) {
        cli_error("cannot resume from '%s': it is not a language model (%s)", a->out,
                  attn_arch_name(c->arch));
        return CLI_RUNTIME;
    }
    if (s == ATTN_OK) s = attn_lm_load_tokenizer(a->out, c->vocab_size, &r->tok);
    if (s != ATTN_OK) return cli_lib_error(s, "cannot resume from '%s'", a->out);
    attn_adamw_params have = attn_optimizer_params(r->opt);
    int rc = train_opts_same(r->opts, &a->cfg, c, &a->p.adamw, &have, &a->p.train, r->st.seed);
    char *want_json = NULL, *have_json = NULL;
    attn_tokenizer *want = NULL;
    int same = !a->vocab_size || (r->tok && a->vocab_size == c->vocab_size);
    if (same && a->tokenizer)
        same = r->tok && attn_tokenizer_load(a->tokenizer, &want) == ATTN_OK &&
               attn_tokenizer_to_json(want, &want_json) == ATTN_OK &&
               attn_tokenizer_to_json(r->tok, &have_json) == ATTN_OK &&
               strcmp(want_json, have_json) == 0;
    attn_tokenizer_free(want), free(want_json), free(have_json);
    if (rc == CLI_OK && !same) {
        cli_error("--%s differs from the tokenizer of '%s' (with --resume the tokenizer comes from "
                  "the checkpoint)",
                  a->tokenizer ? "tokenizer" : "vocab-size", a->out);
        rc = CLI_USAGE;
    }
    return rc;
}

/* The tokenizer, the texts (attn_lm_texts_read) and the model: new, or the checkpoint's. */
static int load(run *r) {
    const train_args *a = r->a;
    attn_status s;
    int rc = a->resume ? resume(r) : CLI_OK;
    if (rc == CLI_OK && !a->resume && a->tokenizer &&
        (s = attn_tokenizer_load(a->tokenizer, &r->tok)) != ATTN_OK)
        return cli_lib_error(s, "cannot load tokenizer '%s'", a->tokenizer);
    attn_lm_texts_params tp = attn_lm_texts_default_params();
    tp.path = a->data, tp.val_path = a->val, tp.tokenizer = r->tok;
    tp.vocab_size = a->resume ? 0 : a->vocab_size;
    if (rc == CLI_OK && (s = attn_lm_texts_read(&tp, &r->texts)) != ATTN_OK)
        rc = cli_lib_error(s, "cannot read the text");
    if (rc != CLI_OK || a->resume) return rc;
    attn_config cfg = a->cfg;
    if (r->texts.tokenizer) cfg.vocab_size = attn_tokenizer_vocab_size(r->texts.tokenizer);
    if ((s = attn_model_create(&cfg, a->p.train.seed, &r->m)) != ATTN_OK)
        return cli_lib_error(s, "invalid model");
    if ((s = attn_optimizer_create(r->m, a->p.adamw, &r->opt)) != ATTN_OK)
        return cli_lib_error(s, "cannot create the optimizer");
    return CLI_OK;
}

static int train(run *r) {
    const train_args *a = r->a;
    int T = attn_model_config(r->m)->max_len;
    const int *train = r->texts.train, *val = r->texts.val;
    size_t n_train = r->texts.n_train, n_val = r->texts.n_val;
    const char *unit = r->texts.tokenizer ? "tokens" : "bytes";
    if (n_train < (size_t)T + 1) {
        cli_error("training text '%s' has %zu %s; a context of %d needs at least %d", a->data,
                  n_train, unit, T, T + 1);
        return CLI_RUNTIME;
    }
    if (a->p.eval_batches > 0 && n_val < (size_t)T + 1) {
        cli_error("validation text (%s) has %zu %s; a context of %d needs at least %d (give "
                  "--val FILE, a smaller --context, or --eval-batches 0)",
                  a->val ? a->val : "the last 10% of --data", n_val, unit, T, T + 1);
        return CLI_RUNTIME;
    }
    char version[64];
    snprintf(version, sizeof version, "attn %s train lm", attn_version());
    const attn_meta meta[] = {
        {"data", a->data}, {"val", a->val ? a->val : "last 10% of data"}, {"created_by", version}};
    attn_lm_params p = a->p;
    p.tokenizer = r->texts.tokenizer;
    p.train.save_path = a->out;
    p.train.meta = meta;
    p.train.n_meta = 3;
    p.train.progress = on_progress;
    p.train.abort = train_opts_interrupted;
    p.train.user = r;
    const attn_config *c = attn_model_config(r->m);
    if (!a->quiet)
        fprintf(stderr,
                "%s %s: %zu parameters, %d layers, d_model %d, context %d, %zu training "
                "%s (vocabulary %d), step %ld of %ld\n",
                a->resume ? "resuming" : "training", a->out, attn_model_num_params(r->m),
                c->n_layers, c->d_model, T, n_train, unit, c->vocab_size, r->st.step,
                p.train.steps);

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
    if (!isnan(r->last_val)) printf("  val_loss %.4f  val_bpb %.3f", r->last_val, r->last_bpb);
    printf("  tokens %ld  time %s  saved %s\n", r->st.tokens, took, a->out);
    fflush(stdout);
    return CLI_OK;
}

int cmd_train_lm(int argc, char **argv) {
    train_args a;
    cli_opt opts[24 + TRAIN_OPTS_ROWS];
    int rc = parse_args(argc, argv, &a, opts);
    if (rc || (rc = train_opts_check_writable(a.out))) return rc;
    run r = {.a = &a, .opts = opts, .last_val = NAN};
    rc = load(&r);
    if (rc == CLI_OK) rc = train(&r);
    attn_lm_texts_free(&r.texts);
    attn_tokenizer_free(r.tok);
    attn_optimizer_free(r.opt);
    attn_model_free(r.m);
    return rc;
}
