/* tools/cmd_classify.c: `attn classify`: labels texts with a trained classifier.
 *
 * The texts are the arguments, or else the lines of stdin (read to the end first; empty lines are
 * skipped). Each is encoded as in training ([CLS] + tokens, cut to the model's max_len) and the
 * whole set goes through the model in length-sorted batches (attn_classifier_predict: with --model
 * given several times, the mean of the models' probabilities); the output keeps the input
 * order. */
#define _POSIX_C_SOURCE 200809L /* getline */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn/attn.h"

#include "args.h"
#include "classify_common.h"

typedef struct {
    cli_strings models;
    int top, json, batch;
} classify_args;

static const cli_help classify_help = {
    "attn classify --model CKPT [--model CKPT...] [--top K] [--json] [TEXT...]",
    "Labels each TEXT argument, or without arguments each line of stdin (read to the end; lines\n"
    "that are empty or only white space are skipped), with a classifier of attn train classify.\n"
    "Texts longer than the model's max_len tokens are cut as in training. One output line per\n"
    "text, in input order: the K most probable labels and their probabilities,\n"
    "\"label<TAB>probability\" pairs separated by tabs; with --json, one JSON object per line:\n"
    "{\"text\": ..., \"truncated\": false, \"top\": [{\"label\": ..., \"prob\": ...}, ...]}.\n"
    "--model given several times labels with the ensemble: the mean of the models' probabilities\n"
    "(each model reads the text with its own tokenizer; they must have the same labels).\n",
    "  attn classify --model debdesc.safetensors \"Python bindings for the GNOME desktop\"\n"
    "  cut -f2 test.tsv | attn classify --model debdesc.safetensors --top 3 --json\n",
};

/* Prints the top K labels of one text (probs: its K_all probabilities). */
static void print_text(const classify_args *a, const attn_labels *labels, const char *text,
                       int truncated, const float *probs, int k_all) {
    int k = a->top < k_all ? a->top : k_all;
    int order[64], *idx = k <= 64 ? order : malloc((size_t)k * sizeof *idx);
    if (!idx) return;
    for (int j = 0; j < k; j++) { /* selection of the k largest, ties to the lower id */
        int best = -1;
        for (int c2 = 0; c2 < k_all; c2++) {
            int taken = 0;
            for (int i = 0; i < j && !taken; i++)
                taken = idx[i] == c2;
            if (!taken && (best < 0 || probs[c2] > probs[best])) best = c2;
        }
        idx[j] = best;
    }
    if (a->json) {
        printf("{\"text\": ");
        attn_json_write(stdout, text);
        printf(", \"truncated\": %s, \"top\": [", truncated ? "true" : "false");
        for (int j = 0; j < k; j++) {
            printf("%s{\"label\": ", j ? ", " : "");
            attn_json_write(stdout, attn_labels_name(labels, idx[j]));
            printf(", \"prob\": %.6f}", (double)probs[idx[j]]);
        }
        printf("]}\n");
    } else {
        for (int j = 0; j < k; j++)
            printf("%s%s\t%.4f", j ? "\t" : "", attn_labels_name(labels, idx[j]),
                   (double)probs[idx[j]]);
        printf("\n");
    }
    if (idx != order) free(idx);
}

/* Encodes every text of t, predicts them all in batches and prints them in input order. */
static int classify(const classify_args *a, attn_classifier **members, const attn_tsv *t) {
    const attn_labels *labels = attn_classifier_labels(members[0]);
    int K = attn_labels_count(labels);
    attn_cls_data d;
    int *pred;
    float *probs;
    attn_status s =
        attn_classifier_predict(members, a->models.n, t, 0, 0, a->batch, &d, &pred, &probs);
    if (s != ATTN_OK) return cli_lib_error(s, "cannot classify");
    for (long i = 0; i < d.n; i++)
        print_text(a, labels, t->texts[i], d.truncated[i], probs + (size_t)i * K, K);
    fflush(stdout);
    free(pred);
    free(probs);
    attn_cls_data_free(&d);
    return CLI_OK;
}

int cmd_classify(int argc, char **argv) {
    classify_args a = {.top = 1, .batch = 64};
    cli_opt opts[] = {
        CLI_OPT("model", CLI_STRINGS, &a.models,
                "checkpoint of attn train classify (several: an ensemble)", .meta = "CKPT",
                .required = 1),
        CLI_OPT("top", CLI_INT, &a.top, "labels printed per text, most probable first", .meta = "K",
                .min = 1, .max = 100000),
        CLI_OPT("json", CLI_FLAG, &a.json, "one JSON object per text"),
        CLI_OPT("batch", CLI_INT, &a.batch, "texts per forward pass", .min = 1, .max = 1 << 16),
        CLI_END,
    };
    int n_texts, rc = cli_parse(argc, argv, opts, &classify_help, argc, &n_texts);
    attn_classifier **members;
    if (rc || (rc = cls_load_all(a.models.v, a.models.n, &members))) return rc;
    attn_tsv t = {0};
    long *lines = NULL;
    attn_status s;
    if (n_texts > 0) { /* the arguments, as a tsv view named "argument" */
        if (!(lines = malloc((size_t)n_texts * sizeof *lines))) cli_error("out of memory"), rc = 1;
        for (int i = 0; lines && i < n_texts; i++)
            lines[i] = i + 1;
        t = (attn_tsv){.n = n_texts, .texts = argv, .lines = lines, .name = "argument"};
    } else {
        char *data = NULL;
        size_t size;
        if ((s = attn_file_read("-", (void **)&data, &size)) != ATTN_OK ||
            (s = attn_tsv_parse_texts(data, size, "<stdin>", &t)) != ATTN_OK)
            rc = cli_lib_error(s, "cannot read the texts");
        free(data);
    }
    if (rc == CLI_OK && t.n > 0) rc = classify(&a, members, &t);
    if (n_texts == 0) attn_tsv_free(&t);
    free(lines);
    cls_free_all(members, a.models.n);
    return rc;
}
