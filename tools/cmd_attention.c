/* tools/cmd_attention.c: `attn attention`: what a classifier's self-attention looks at in one text.
 *
 * The text is encoded as in training ([CLS] + tokens, cut to max_len) and run as a batch of one,
 * so there is no padding to crop: every map is (T, T) over the text's own tokens. Each layer and
 * head becomes DIR/layerL_headH.png (attn_heatmap_png; rows = queries, columns = keys, tokens on
 * both axes) and all of them DIR/attention.json (attn_maps_write_json). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn/attn.h"

#include "args.h"
#include "classify_common.h"

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

int cmd_attention(int argc, char **argv) {
    const char *model = NULL, *out = "attention";
    cli_opt opts[] = {
        CLI_OPT("model", CLI_STRING, &model, "checkpoint of attn train classify", .meta = "CKPT",
                .required = 1),
        CLI_OPT("out", CLI_STRING, &out, "folder for the PNG and JSON files", .meta = "DIR"),
        CLI_END,
    };
    int n_text, rc = cli_parse(argc, argv, opts, &attention_help, 1, &n_text);
    if (rc == CLI_OK && n_text != 1) {
        cli_error("attention: one TEXT is required (quote it; try attn attention --help)");
        rc = CLI_USAGE;
    }
    if (rc) return rc;
    const char *text = argv[0];
    attn_classifier *c;
    attn_status s = attn_classifier_load(model, &c);
    if (s != ATTN_OK) return cli_lib_error(s, "cannot load model '%s'", model);
    attn_attention_result r;
    if ((s = attn_classifier_attention(c, text, strlen(text), out, &r)) != ATTN_OK) {
        rc = cli_lib_error(s, "cannot draw the attention of the text");
    } else {
        printf("%s\t%.4f\n", attn_labels_name(attn_classifier_labels(c), r.label), (double)r.prob);
        printf("%d tokens%s; wrote %d heatmaps %s/layer*_head*.png and %s/attention.json\n",
               r.n_tokens, r.truncated ? " (cut to max_len)" : "", r.n_heatmaps, out, out);
    }
    attn_classifier_free(c);
    return rc;
}
