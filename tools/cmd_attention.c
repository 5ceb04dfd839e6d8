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

/* Creates dir unless it exists as a directory. */
static int make_dir(const char *dir) {
    struct stat st;
    if (stat(dir, &st) == 0) {
        if (S_ISDIR(st.st_mode)) return CLI_OK;
        cli_error("--out '%s' exists and is not a directory", dir);
        return CLI_RUNTIME;
    }
    if (mkdir(dir, 0777) == 0) return CLI_OK;
    cli_error("cannot create folder '%s': %s", dir, strerror(errno));
    return CLI_RUNTIME;
}

/* Display strings of the ids (malloc'd each): special tokens by name, others decoded alone. */
static char **token_strings(const attn_tokenizer *tok, const int *ids, int n) {
    char **s = calloc((size_t)n, sizeof *s);
    for (int i = 0; s && i < n; i++) {
        int special = 0;
        for (int k = 0; k < ATTN_SPECIAL_COUNT; k++)
            special |= attn_tokenizer_special(tok, (attn_special)k) == ids[i];
        size_t len;
        if (special || attn_tokenizer_decode(tok, ids + i, 1, &s[i], &len) != ATTN_OK) {
            const char *name = attn_tokenizer_token(tok, ids[i]);
            s[i] = strdup(name ? name : "?");
        }
    }
    return s;
}

/* Frees n strings and their array (NULL allowed). */
static void free_strings(char **s, int n) {
    for (int i = 0; s && i < n; i++)
        free(s[i]);
    free(s);
}

/* One heatmap per layer and head, then the JSON. */
static int write_maps(const attention_args *a, const attn_maps *maps, char **tokens) {
    char path[4096], title[64];
    const char *const *labels = (const char *const *)tokens;
    for (int l = 0; l < maps->n_layers; l++)
        for (int h = 0; h < maps->n_heads; h++) {
            snprintf(path, sizeof path, "%s/layer%d_head%d.png", a->out, l, h);
            snprintf(title, sizeof title, "layer %d, head %d", l, h);
            attn_status s = attn_heatmap_png(path, attn_maps_head(maps, l, h), maps->n_queries,
                                             maps->n_keys, labels, labels, title);
            if (s != ATTN_OK) return cli_lib_error(s, "cannot write '%s'", path);
        }
    snprintf(path, sizeof path, "%s/attention.json", a->out);
    attn_status s = attn_maps_write_json(path, maps, labels, labels);
    if (s != ATTN_OK) return cli_lib_error(s, "cannot write '%s'", path);
    return CLI_OK;
}

/* Encodes the text, prints the prediction and writes the maps. */
static int run(const attention_args *a, attn_classifier *c) {
    attn_model *model = attn_classifier_model(c);
    const attn_tokenizer *tok = attn_classifier_tokenizer(c);
    int max_len = attn_model_config(model)->max_len, K = attn_model_config(model)->n_classes;
    int *ids = malloc((size_t)max_len * sizeof *ids), n = 0, cut = 0;
    if (!ids) {
        cli_error("out of memory");
        return CLI_RUNTIME;
    }
    attn_status s = attn_cls_encode_text(tok, a->text, strlen(a->text), max_len, ids, &n, &cut);
    if (s != ATTN_OK) {
        free(ids);
        return cli_lib_error(s, "cannot tokenize the text");
    }
    attn_batch b = {.B = 1, .T = n, .tokens = ids, .lengths = &n};
    attn_maps maps = {0};
    char **tokens = token_strings(tok, ids, n);
    int label = 0;
    float *probs = malloc((size_t)K * sizeof *probs);
    int rc = tokens && probs ? CLI_OK : CLI_RUNTIME;
    if (rc) cli_error("out of memory");
    if (rc == CLI_OK &&
        (s = attn_classifier_classify(c, a->text, strlen(a->text), &label, probs)) != ATTN_OK)
        rc = cli_lib_error(s, "the model failed on the text");
    if (rc == CLI_OK &&
        (s = attn_model_attention_maps(model, &b, ATTN_MAPS_ENCODER_SELF, &maps)) != ATTN_OK)
        rc = cli_lib_error(s, "cannot compute the attention maps");
    if (rc == CLI_OK) rc = write_maps(a, &maps, tokens);
    if (rc == CLI_OK) {
        printf("%s\t%.4f\n", attn_labels_name(attn_classifier_labels(c), label),
               (double)probs[label]);
        printf("%d tokens%s; wrote %d heatmaps %s/layer*_head*.png and %s/attention.json\n", n,
               cut ? " (cut to max_len)" : "", maps.n_layers * maps.n_heads, a->out, a->out);
    }
    attn_maps_free(&maps);
    free(probs);
    free_strings(tokens, n);
    free(ids);
    return rc;
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
    rc = make_dir(a.out);
    if (rc == CLI_OK) rc = run(&a, c);
    attn_classifier_free(c);
    return rc;
}
