/* tools/cmd_eval_classify.c: `attn eval classify`: a classifier's accuracy, per-class precision,
 * recall and F1, macro-F1 and confusion matrix on a labelled file; with --folds K, K-fold
 * cross-validation of the training recipe on one file (attn_kfold_assign): K models, each
 * trained on K - 1 folds (tokenizer included) and scored on the fold it did not see. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn/attn.h"

#include "args.h"
#include "classify_common.h"

typedef struct {
    cli_strings models; /* --model, once per ensemble member */
    const char *data, *dev;
    int json, skip_unknown, batch, folds;
    cls_opts o;
    int train_opts_given; /* a training option was on the command line */
} eval_args;

static const cli_help eval_help = {
    "attn eval classify --model CKPT [--model CKPT...] --data FILE [--json] [--skip-unknown]\n"
    "       attn eval classify --folds K --data FILE [training options] [--json]",
    "Scores a text classifier on FILE (\"label<TAB>text\" lines; empty lines are skipped): the\n"
    "number of examples, accuracy, precision / recall / F1 / support of every class, their macro\n"
    "and weighted averages (scikit-learn's conventions: a class never predicted has precision 0),\n"
    "and the confusion matrix (rows = true class). Texts longer than the model's max_len are cut\n"
    "as in training. A label the model was not trained on is an error naming FILE:LINE, unless\n"
    "--skip-unknown leaves such lines out (their count is reported).\n"
    "\n"
    "--model given several times scores an ensemble: each model reads the texts with its own\n"
    "tokenizer and max_len, and their class probabilities are averaged; the models must have\n"
    "the same labels. The JSON then names them in \"models\" (a single model: \"model\").\n"
    "\n"
    "With --folds K there is no --model: the examples of FILE are dealt into K folds at random\n"
    "(by --seed), and for each fold a classifier is trained from scratch, with the options of\n"
    "`attn train classify`, on the other K - 1 folds and scored on it. Without --dev every fold\n"
    "trains for --epochs; with --dev, each fold keeps its best epoch on it. Printed: each fold's\n"
    "accuracy and macro-F1, then their mean and standard deviation (ddof 0, as numpy's std).\n",
    "  attn eval classify --model debdesc.safetensors --data data/corpora/debdesc/test.tsv\n"
    "  attn eval classify --folds 5 --data data/samples/fortunes/train.tsv --epochs 3 --json\n",
};

/* Fails when training options are given without --folds, or --folds with --model. */
static int check_args(eval_args *a, cli_opt *opts, int first_train, int n_opts) {
    for (int i = first_train; i < n_opts; i++)
        if (opts[i].seen && strcmp(opts[i].name, "quiet") != 0) a->train_opts_given = 1;
    if (a->folds == 0) {
        if (a->models.n == 0) {
            cli_error("eval classify: --model CKPT is required (or --folds K to cross-validate)");
            return CLI_USAGE;
        }
        if (a->train_opts_given || a->dev) {
            cli_error("eval classify: training options and --dev only apply with --folds");
            return CLI_USAGE;
        }
        return CLI_OK;
    }
    if (a->models.n > 0) {
        cli_error("eval classify: --folds trains its own models; it takes no --model");
        return CLI_USAGE;
    }
    return cls_opts_check(&a->o, opts);
}

/* The option table: evaluation, cross-validation, then the shared training options. */
static int parse_args(int argc, char **argv, eval_args *a) {
    *a = (eval_args){.batch = 64};
    cls_opts_default(&a->o);
    const cli_opt eval[] = {
        CLI_HEADING("Evaluation"),
        CLI_OPT("model", CLI_STRINGS, &a->models,
                "checkpoint of attn train classify (required without --folds; several: an "
                "ensemble)",
                .meta = "CKPT"),
        CLI_OPT("data", CLI_STRING, &a->data, "labelled examples, label<TAB>text", .meta = "FILE",
                .required = 1),
        CLI_OPT("json", CLI_FLAG, &a->json, "print one JSON object"),
        CLI_OPT("skip-unknown", CLI_FLAG, &a->skip_unknown,
                "leave out lines whose label the model does not know"),
        CLI_OPT("batch", CLI_INT, &a->batch, "texts per forward pass", .min = 1, .max = 1 << 16),
        CLI_HEADING("Cross-validation"),
        CLI_OPT("folds", CLI_INT, &a->folds,
                "K-fold cross-validation of the training options below", .meta = "K", .min = 2,
                .max = 1000, .default_text = "0: off"),
        CLI_OPT("dev", CLI_STRING, &a->dev,
                "with --folds: examples for early stopping in every fold", .meta = "FILE"),
    };
    cli_opt opts[12 + CLS_OPTS_ROWS];
    int n = 0;
    CLI_APPEND(opts, &n, eval);
    int first_train = n;
    cls_opts_table(&a->o, opts, &n);
    opts[n] = (cli_opt)CLI_END;
    int rc = cli_parse(argc, argv, opts, &eval_help, 0, NULL);
    return rc == CLI_OK ? check_args(a, opts, first_train, n) : rc;
}

/* ---- one model on one file --------------------------------------------------------------------*/

/* Prints the report as text, or as one JSON object with the model, data and counts in front. */
static void print_report(const eval_args *a, const attn_cls_data *d, const attn_cls_report *r,
                         const char *formatted) {
    if (!a->json) {
        printf("examples %ld  accuracy %.4f  macro_f1 %.4f", r->n, r->accuracy, r->macro_f1);
        if (d->n_skipped) printf("  skipped %ld (unknown label)", d->n_skipped);
        if (d->n_truncated) printf("  cut %ld", d->n_truncated);
        printf("\n\n%s", formatted);
        return;
    }
    if (a->models.n == 1) {
        printf("{\"model\": ");
        attn_json_write(stdout, a->models.v[0]);
    } else {
        printf("{\"models\": [");
        for (int i = 0; i < a->models.n; i++) {
            if (i) printf(", ");
            attn_json_write(stdout, a->models.v[i]);
        }
        printf("]");
    }
    printf(", \"data\": ");
    attn_json_write(stdout, a->data);
    printf(", \"skipped\": %ld, \"truncated\": %ld, %s", d->n_skipped, d->n_truncated,
           formatted + 1); /* the report's own fields, after its "{" */
    size_t len = strlen(formatted);
    if (len == 0 || formatted[len - 1] != '\n') printf("\n");
}

/* --model (one, or an ensemble) on --data: predictions, report, output. */
static int evaluate(const eval_args *a) {
    attn_classifier **members = NULL;
    attn_tsv t = {0};
    attn_cls_data d = {0};
    attn_cls_report r = {0};
    char *formatted = NULL;
    int rc = cls_read_tsv(a->data, &t);
    if (rc == CLI_OK) rc = cls_load_all(a->models.v, a->models.n, &members);
    attn_status s;
    if (rc == CLI_OK && (s = attn_classifier_evaluate(members, a->models.n, &t, a->skip_unknown,
                                                      a->batch, &r, &d)) != ATTN_OK) {
        if (strstr(attn_last_error(), ": label '")) /* already "FILE:LINE: label 'x' is not ..." */
            cli_error("%s", attn_last_error()), rc = CLI_RUNTIME;
        else
            rc = cli_lib_error(s, "cannot evaluate on '%s'", a->data);
    }
    if (rc == CLI_OK &&
        (s = attn_cls_report_format(&r, attn_labels_names(attn_classifier_labels(members[0])),
                                    a->json, &formatted)) != ATTN_OK)
        rc = cli_lib_error(s, "cannot format the report");
    if (rc == CLI_OK) print_report(a, &d, &r, formatted);
    free(formatted);
    attn_cls_report_free(&r);
    attn_cls_data_free(&d);
    cls_free_all(members, a->models.n);
    attn_tsv_free(&t);
    return rc;
}

/* ---- cross-validation -------------------------------------------------------------------------*/

typedef struct {
    const eval_args *a;
    cls_progress prog;
    char tag[32];
} folds_run;

/* Before a fold: the tag of its progress lines; after: its line. */
static void on_fold(int k, int n, const attn_fold_result *r, void *user) {
    folds_run *f = user;
    snprintf(f->tag, sizeof f->tag, "fold %d/%d", k + 1, n);
    progress_init(&f->prog.bar, "ex", f->tag, f->a->o.quiet);
    if (!r) return;
    progress_finish(&f->prog.bar);
    if (!f->a->json)
        printf("fold %d/%d  train %ld  test %ld  epochs %d  accuracy %.4f  macro_f1 %.4f\n", k + 1,
               n, r->n_train, r->n_test, r->epochs, r->accuracy, r->macro_f1);
    fflush(stdout);
}

/* --folds K: every fold trained and scored (attn_classifier_kfold), then the mean and std. */
static int cross_validate(const eval_args *a) {
    attn_tsv all = {0}, dev = {0};
    attn_fold_result f[1000];
    folds_run run = {.a = a};
    attn_classifier_params p = a->o.p;
    p.train.progress = cls_on_progress;
    p.train.user = &run.prog;
    int rc = cls_read_tsv(a->data, &all);
    if (rc == CLI_OK && a->dev) rc = cls_read_tsv(a->dev, &dev);
    if (rc == CLI_OK && all.n < a->folds) {
        cli_error("--folds %d needs at least %d examples; '%s' has %ld", a->folds, a->folds,
                  a->data, all.n);
        rc = CLI_USAGE;
    }
    attn_status s;
    if (rc == CLI_OK && (s = attn_classifier_kfold(&all, a->dev ? &dev : NULL, a->folds, &p,
                                                   a->batch, on_fold, &run, f)) != ATTN_OK)
        rc = cli_lib_error(s, "cross-validation failed");
    char *text = NULL;
    if (rc == CLI_OK && (s = attn_folds_format(f, a->folds, a->json, &text)) != ATTN_OK)
        rc = cli_lib_error(s, "cannot summarise the folds");
    if (rc == CLI_OK && a->json) {
        printf("{\"data\": ");
        attn_json_write(stdout, a->data);
        printf(", %s\n", text + 1); /* the summary's own fields, after its "{" */
    } else if (rc == CLI_OK) {
        printf("%s\n", text);
    }
    free(text);
    attn_tsv_free(&all);
    attn_tsv_free(&dev);
    return rc;
}

int cmd_eval_classify(int argc, char **argv) {
    eval_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc;
    return a.folds ? cross_validate(&a) : evaluate(&a);
}
