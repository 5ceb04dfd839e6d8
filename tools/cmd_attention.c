/* tools/cmd_attention.c: `attn attention`: what a classifier's self-attention looks at in one text.
 *
 * The text is encoded as in training ([CLS] + tokens, cut to max_len) and run as a batch of one,
 * so there is no padding to crop: every map is (T, T) over the text's own tokens. Each layer and
 * head becomes DIR/layerL_headH.png (attn_heatmap_png; rows = queries, columns = keys, tokens on
 * both axes) and all of them DIR/attention.json (attn_maps_write_json). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "attn/attn.h"

#include "args.h"
#include "classify_common.h"

typedef struct {
    const char *model, *out, *text;
    int threads;
} attention_args;

static const cli_help attention_help = {
    "attn attention --model CKPT [--out DIR] TEXT",
    "Runs a classifier of attn train classify on TEXT and writes its self-attention weights:\n"
    "DIR/layerL_headH.png, a heatmap per layer L and head H (rows: the query tokens, columns: the\n"
    "key tokens, [CLS] first; each row sums to 1), and DIR/attention.json with every matrix and\n"
    "the tokens (docs/VIZ.md). DIR is created if missing; files of an earlier run are replaced.\n"
    "The text is cut to the model's max_len tokens as in training. Prints the predicted label\n"
    "and the files written.\n",
    "  attn attention --model debdesc.safetensors --out maps \"Python bindings for GNOME\"\n",
};

/* Options and the one TEXT. */
static int parse_args(int argc, char **argv, attention_args *a) {
    *a = (attention_args){.out = "attention"};
    cli_opt opts[] = {
        {"model", CLI_STRING, &a->model, "CKPT", "checkpoint of attn train classify (required)",
         CLI_ANY, NULL, NULL, 0},
        {"out", CLI_STRING, &a->out, "DIR", "folder for the PNG and JSON files", CLI_ANY, NULL,
         NULL, 0},
        {"threads", CLI_INT, &a->threads, NULL, "threads", 0, 4096, NULL,
         "$ATTN_NUM_THREADS, else all cores", 0},
        CLI_END,
    };
    const char *positional[1];
    int n_positional;
    int rc =
        cli_parse(argc, argv, opts, &attention_help, "attention", positional, 1, &n_positional);
    if (rc != CLI_OK) return rc;
    if (!a->model) {
        cli_error("attention: --model CKPT is required (try attn attention --help)");
        return CLI_USAGE;
    }
    if (n_positional != 1) {
        cli_error("attention: one TEXT is required (quote it; try attn attention --help)");
        return CLI_USAGE;
    }
    a->text = positional[0];
    return CLI_OK;
}

int cmd_attention(int argc, char **argv) {
    attention_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc == CLI_HELP ? CLI_OK : rc;
    attn_status s = attn_set_num_threads(a.threads);
    if (s != ATTN_OK) return cli_lib_error(s, "--threads %d", a.threads);
    attn_classifier *c;
    if ((s = attn_classifier_load(a.model, &c)) != ATTN_OK)
        return cli_lib_error(s, "cannot load model '%s'", a.model);
    attn_attention_result r;
    if ((s = attn_classifier_attention(c, a.text, strlen(a.text), a.out, &r)) != ATTN_OK) {
        rc = cli_lib_error(s, "cannot draw the attention of the text");
    } else {
        printf("%s\t%.4f\n", attn_labels_name(attn_classifier_labels(c), r.label), (double)r.prob);
        printf("%d tokens%s; wrote %d heatmaps %s/layer*_head*.png and %s/attention.json\n",
               r.n_tokens, r.truncated ? " (cut to max_len)" : "", r.n_heatmaps, a.out, a.out);
    }
    attn_classifier_free(c);
    return rc;
}
