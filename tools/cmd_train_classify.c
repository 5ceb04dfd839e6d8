/* tools/cmd_train_classify.c: `attn train classify`: an encoder classifier on "label<TAB>text"
 * files (attn_classifier_train, attn/classifier.h): the options, Ctrl-C and what is printed. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn/attn.h"

#include "args.h"
#include "classify_common.h"
#include "train_opts.h"

typedef struct {
    const char *train, *dev, *out;
    int resume;
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
    ".safetensors, plus .png. Ctrl-C stops after the current batch (exit status 130).\n"
    "The run's state (current model, optimizer, step) goes to CKPT less .safetensors, plus\n"
    ".resume.safetensors, after every epoch and when stopped; --resume continues it, with the\n"
    "same data and options, to the result of an uninterrupted run, bit for bit.\n",
    "  attn train classify --train data/corpora/debdesc/train.tsv --dev "
    "data/corpora/debdesc/dev.tsv \\\n"
    "      --out debdesc.safetensors --epochs 5 --d-model 256 --layers 2\n",
};

static int parse_args(int argc, char **argv, train_args *a) {
    *a = (train_args){0};
    cls_opts_default(&a->o);
    const cli_opt data[] = {
        CLI_HEADING("Data and checkpoint"),
        CLI_OPT("train", CLI_STRING, &a->train, "training examples, label<TAB>text", .meta = "FILE",
                .required = 1),
        CLI_OPT("dev", CLI_STRING, &a->dev,
                "examples scored after every epoch (early stopping, best model)", .meta = "FILE",
                .default_text = "none: keep the last epoch"),
        CLI_OPT("out", CLI_STRING, &a->out, "checkpoint to write", .meta = "CKPT", .required = 1),
        CLI_OPT("resume", CLI_FLAG, &a->resume,
                "continue the run saved beside --out (same data and options)"),
    };
    cli_opt opts[9 + CLS_OPTS_ROWS];
    int n = 0;
    CLI_APPEND(opts, &n, data);
    cls_opts_table(&a->o, opts, &n);
    opts[n] = (cli_opt)CLI_END;
    int rc = cli_parse(argc, argv, opts, &train_help, 0, NULL);
    return rc == CLI_OK ? cls_opts_check(&a->o, opts) : rc;
}

/* A note when --dev has labels that --train never shows (classes the model cannot learn; they are
 * kept so that dev macro-F1 is honest about them). */
static void note_unseen(const attn_tsv *train, const attn_tsv *dev) {
    attn_labels *seen = NULL, *all = NULL;
    if (!dev->n || attn_labels_from_tsv(train, &seen) != ATTN_OK) return;
    for (long i = 0, missing = 0; i < dev->n; i++) {
        if (attn_labels_find(seen, dev->labels[i]) >= 0) continue;
        if (!all && attn_labels_from_tsv(dev, &all) != ATTN_OK) break;
        for (int j = 0; j < attn_labels_count(all); j++)
            missing += attn_labels_find(seen, attn_labels_name(all, j)) < 0;
        fprintf(stderr, "note: %ld label%s of --dev never occur%s in --train (first: '%s')\n",
                missing, missing == 1 ? "" : "s", missing == 1 ? "s" : "", dev->labels[i]);
        break;
    }
    attn_labels_free(seen);
    attn_labels_free(all);
}

/* The one stdout line at the end of a run. */
static void print_summary(const train_args *a, const attn_classifier_result *r) {
    char took[32];
    progress_format_duration(r->train.seconds, took, sizeof took);
    printf("epochs %d/%d%s  steps %ld  loss %.4f", r->train.epochs_done, a->o.p.train.epochs,
           r->train.stopped_early ? " (early stop)" : "", r->train.steps_run, r->train.epoch_loss);
    if (!isnan(r->best_f1))
        printf("  dev_acc %.4f  dev_macro_f1 %.4f (epoch %d)", r->best_accuracy, r->best_f1,
               r->best_epoch);
    printf("  texts %ld  cut %ld  time %s  saved %s\n", r->n_train, r->n_truncated, took, a->out);
    fflush(stdout);
}

static int run_training(const train_args *a, const attn_tsv *train, const attn_tsv *dev) {
    char version[64], plot[4096], state[4096];
    snprintf(version, sizeof version, "attn %s train classify", attn_version());
    train_opts_beside(a->out, ".png", plot, sizeof plot);
    train_opts_beside(a->out, ".resume.safetensors", state, sizeof state);
    const attn_meta meta[] = {
        {"data", a->train}, {"dev", a->dev ? a->dev : ""}, {"created_by", version}};
    attn_classifier_params p = a->o.p;
    cls_progress prog = {.out = a->out};
    progress_init(&prog.bar, "ex", NULL, a->o.quiet);
    p.train.save_path = a->out;
    p.train.meta = meta;
    p.train.n_meta = 3;
    p.plot_path = plot;
    p.state_path = state;
    p.resume = a->resume;
    p.train.progress = cls_on_progress;
    p.train.abort = train_opts_interrupted;
    p.train.user = &prog;
    if (!a->o.quiet) note_unseen(train, dev);

    train_opts_catch_sigint(); /* Ctrl-C finishes the step and saves; a second one kills */
    attn_classifier *c = NULL;
    attn_classifier_result res;
    attn_status s = attn_classifier_train(train, a->dev ? dev : NULL, NULL, &p, &c, &res);
    train_opts_release_sigint();
    progress_finish(&prog.bar);
    attn_classifier_free(c);
    if (s == ATTN_ERR_ABORTED) {
        cli_error("interrupted after %ld steps; %s holds the best model so far (--resume "
                  "continues the run)",
                  res.train.steps_run, a->out);
        return CLI_SIGINT;
    }
    if (s != ATTN_OK) return cli_lib_error(s, "training failed");
    print_summary(a, &res);
    return CLI_OK;
}

int cmd_train_classify(int argc, char **argv) {
    train_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc || (rc = train_opts_check_writable(a.out))) return rc;
    attn_tsv train = {0}, dev = {0};
    rc = cls_read_tsv(a.train, &train);
    if (rc == CLI_OK && a.dev) rc = cls_read_tsv(a.dev, &dev);
    if (rc == CLI_OK) rc = run_training(&a, &train, &dev);
    attn_tsv_free(&train);
    attn_tsv_free(&dev);
    return rc;
}
