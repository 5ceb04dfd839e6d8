/* tools/cmd_train_translate.c: `attn train translate`: an encoder-decoder translator on
 * "ref<TAB>source<TAB>target" files (attn_translator_train, attn/translator.h): the options,
 * Ctrl-C and what is printed. */
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
    const char *train, *dev, *out;
    int reverse, resume, quiet;
    attn_translator_params p;
} train_args;

static const cli_help train_help = {
    "attn train translate --train FILE --dev FILE --out CKPT [options]",
    "Trains an encoder-decoder Transformer (\"Attention Is All You Need\") to translate. FILE\n"
    "holds one pair per line, \"ref<TAB>source<TAB>target\" (data/make_bible.py writes\n"
    "ref<TAB>en<TAB>es); --reverse translates the third column into the second. Unless\n"
    "--tokenizer names one, a byte-level BPE of --vocab-size tokens is learned from both sides:\n"
    "source, target and output embeddings are one matrix. Sentences become their tokens +\n"
    "[SEP], cut to --max-len; the decoder reads [CLS] + target (teacher forcing). Batches hold\n"
    "up to --max-tokens tokens of sentences of similar length; AdamW with the paper's\n"
    "inverse-square-root warm-up (--schedule invsqrt, --lr a multiplier) or a cosine. Every\n"
    "--eval-every steps: the dev loss and the BLEU of --dev-sentences dev sentences translated\n"
    "greedily; the best on dev BLEU is written to CKPT (atomically, with its tokenizer), and\n"
    "the run's state (weights, AdamW moments, step) to CKPT less .safetensors +\n"
    ".resume.safetensors, which --resume continues exactly (with --ema the average too).\n"
    "Ctrl-C stops after the current step (exit status 130).\n",
    "  attn train translate --train data/corpora/bible/train.tsv --dev data/corpora/bible/dev.tsv "
    "\\\n      --out mt.safetensors --steps 20000\n",
};

static int parse_args(int argc, char **argv, train_args *a, cli_opt *opts) {
    *a = (train_args){.p = attn_translator_default_params()};
    attn_translator_params *p = &a->p;
    const cli_opt data[] = {
        CLI_HEADING("Data and checkpoint"),
        CLI_OPT("train", CLI_STRING, &a->train, "training pairs, ref<TAB>source<TAB>target",
                .meta = "FILE", .required = 1),
        CLI_OPT("dev", CLI_STRING, &a->dev, "pairs scored every --eval-every steps (best model)",
                .meta = "FILE", .default_text = "none: keep the last step"),
        CLI_OPT("out", CLI_STRING, &a->out, "checkpoint to write", .meta = "CKPT", .required = 1),
        CLI_OPT("reverse", CLI_FLAG, &a->reverse, "translate the third column into the second"),
        CLI_OPT("resume", CLI_FLAG, &a->resume,
                "continue the run saved in CKPT less .safetensors + .resume.safetensors (same "
                "data and options)"),
        CLI_HEADING("Tokenizer"),
        CLI_OPT("tokenizer", CLI_STRING, &p->tokenizer,
                "tokenizer.json to use (needs [CLS] and [SEP])", .meta = "FILE",
                .default_text = "a BPE trained on both sides of --train"),
        CLI_OPT("vocab-size", CLI_INT, &p->vocab_size, "tokens of the joint BPE", .min = 261,
                .max = 1 << 24),
        CLI_OPT("lowercase", CLI_FLAG, &p->lowercase, "the BPE lower-cases (NFC) texts first"),
    };
    const cli_opt model[] = {
        CLI_OPT("dec-layers", CLI_INT, &p->model.n_dec_layers, "decoder layers", .min = 1,
                .max = 1000),
        CLI_OPT("scale-embeddings", CLI_INT, &p->model.scale_embeddings,
                "token embeddings times sqrt(d-model), as in the paper", .meta = "0|1", .min = 0,
                .max = 1),
        CLI_OPT("max-len", CLI_INT, &p->model.max_len,
                "tokens per sentence, [SEP] included; longer ones are cut", .min = 2,
                .max = 1 << 16),
    };
    const cli_opt run[] = {
        CLI_OPT("steps", CLI_LONG, &p->train.steps, "optimizer steps", .min = 1, .max = 1e18),
        CLI_OPT("max-tokens", CLI_LONG, &p->max_tokens,
                "tokens per micro-batch (sentences x longest side)", .min = 1, .max = 1 << 24),
        CLI_OPT("accum", CLI_INT, &p->train.accum, "micro-batches per step", .min = 1,
                .max = 1 << 20),
        CLI_OPT("ema", CLI_FLOAT, &p->train.ema_decay,
                "evaluate and keep an exponential moving average of the weights, decay D (0: off)",
                .meta = "D", .min = 0, .max = 0.999999),
        CLI_HEADING("Reporting"),
        CLI_OPT("eval-every", CLI_LONG, &p->train.eval_every,
                "dev loss and BLEU every N steps (0: at the end only)", .min = 0, .max = 1e18),
        CLI_OPT("dev-sentences", CLI_INT, &p->dev_sentences,
                "dev sentences translated for BLEU (0: all)", .min = 0, .max = 1 << 30),
        CLI_OPT("quiet", CLI_FLAG, &a->quiet, "no progress or dev lines on stderr"),
    };
    int n = 0;
    CLI_APPEND(opts, &n, data);
    train_opts_model(&p->model, "encoder layers", opts, &n);
    CLI_APPEND(opts, &n, model);
    train_opts_optim(&p->train, &p->adamw, &p->model, opts, &n);
    CLI_APPEND(opts, &n, run);
    opts[n] = (cli_opt)CLI_END;
    int rc = cli_parse(argc, argv, opts, &train_help, 0, NULL);
    return rc == CLI_OK ? train_opts_check(&p->model, &p->train, opts) : rc;
}

typedef struct {
    progress bar;
} run;

static void on_progress(const attn_train_progress *p, void *user) {
    run *r = user;
    if (p->event == ATTN_TRAIN_STEP) progress_step(&r->bar, p);
    if (p->event == ATTN_TRAIN_EVAL)
        progress_message(&r->bar, "step %ld  dev_loss %.4f  dev_bleu %.2f%s", p->step,
                         p->metrics[1], p->metrics[0], p->is_best ? "  (best)" : "");
}

static int read_pairs(const char *path, int reverse, attn_parallel *out) {
    attn_status s = attn_parallel_read(path, reverse ? 2 : 1, reverse ? 1 : 2, out);
    if (s != ATTN_OK) return cli_lib_error(s, "cannot read pairs");
    if (out->n == 0) {
        cli_error("'%s' holds no pairs", path);
        return CLI_RUNTIME;
    }
    return CLI_OK;
}

int cmd_train_translate(int argc, char **argv) {
    train_args a;
    cli_opt opts[32 + TRAIN_OPTS_ROWS];
    int rc = parse_args(argc, argv, &a, opts);
    if (rc || (rc = train_opts_check_writable(a.out))) return rc;
    attn_parallel train = {0}, dev = {0};
    rc = read_pairs(a.train, a.reverse, &train);
    if (rc == CLI_OK && a.dev) rc = read_pairs(a.dev, a.reverse, &dev);
    char version[64];
    snprintf(version, sizeof version, "attn %s train translate", attn_version());
    const attn_meta meta[] = {{"direction", a.reverse ? "columns 3 -> 2" : "columns 2 -> 3"},
                              {"data", a.train},
                              {"dev", a.dev ? a.dev : ""},
                              {"created_by", version}};
    run r;
    progress_init(&r.bar, "tok", NULL, a.quiet);
    attn_translator_params p = a.p;
    char state[4096];
    train_opts_beside(a.out, ".resume.safetensors", state, sizeof state);
    p.state_path = state, p.resume = a.resume;
    p.train.save_path = a.out, p.train.meta = meta, p.train.n_meta = 4;
    p.train.progress = on_progress, p.train.abort = train_opts_interrupted, p.train.user = &r;
    attn_translator *t = NULL;
    attn_translator_result res;
    attn_status s;
    if (rc == CLI_OK) {
        train_opts_catch_sigint(); /* Ctrl-C finishes the step; a second one kills */
        s = attn_translator_train(&train, a.dev ? &dev : NULL, &p, &t, &res);
        train_opts_release_sigint();
        progress_finish(&r.bar);
        if (s == ATTN_ERR_ABORTED) {
            cli_error("interrupted after step %ld; %s holds the model of step %ld",
                      res.train.steps_run, a.out, res.train.saved_step);
            rc = CLI_SIGINT;
        } else if (s != ATTN_OK) {
            rc = cli_lib_error(s, "training failed");
        }
    }
    if (rc == CLI_OK) {
        char took[32];
        progress_format_duration(res.train.seconds, took, sizeof took);
        printf("steps %ld  loss %.4f", res.train.steps_run, res.train.recent_loss);
        if (a.dev) printf("  dev_bleu %.2f (step %ld)", res.best_metric, res.best_step);
        printf("  pairs %ld  cut %ld  time %s  saved %s\n", res.n_train, res.n_truncated, took,
               a.out);
    }
    attn_translator_free(t);
    attn_parallel_free(&train);
    attn_parallel_free(&dev);
    return rc;
}
