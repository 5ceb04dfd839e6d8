/* tools/cmd_eval_lm.c: `attn eval lm`: cross-entropy, perplexity and bits per byte on a text.
 *
 * The text is cut into non-overlapping windows of the model's max_len P: window w feeds bytes
 * [wP, wP + P) and predicts bytes [wP + 1, wP + P + 1), each from the window's own prefix only.
 * Every byte but the first is predicted exactly once; the last window may be shorter. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn/attn.h"

#include "args.h"
#include "commands.h"
#include "lm_model.h"
#include "text_data.h"

typedef struct {
    const char *model, *file;
    int batch, threads, json;
} eval_args;

static const cli_help eval_help = {
    "attn eval lm --model CKPT FILE [options]",
    "Evaluates a byte-level language model on a text file: mean cross-entropy per token (nats),\n"
    "perplexity exp(loss) and bits per byte loss / ln 2. The text is cut into non-overlapping\n"
    "windows of the model's context length (max_len); each window's bytes are predicted from the\n"
    "window's own prefix only, so the first bytes of every window see little context (a sliding\n"
    "window would score a little better). Every byte but the first is predicted exactly once.\n"
    "Output: one line `tokens N  loss L  ppl P  bpb B`, or a JSON object with --json.\n",
    "  attn eval lm --model lm.safetensors held-out.txt\n",
};

static int parse_args(int argc, char **argv, eval_args *a) {
    *a = (eval_args){.batch = 8};
    cli_opt opts[] = {
        {"model", CLI_STRING, &a->model, "CKPT", "checkpoint of a byte-level LM (required)",
         CLI_ANY, NULL, NULL, 0},
        {"batch", CLI_INT, &a->batch, NULL, "windows per forward pass", 1, 1 << 16, NULL, NULL, 0},
        {"json", CLI_FLAG, &a->json, NULL, "print a JSON object instead of the line", CLI_ANY, NULL,
         NULL, 0},
        {"threads", CLI_INT, &a->threads, NULL, "threads", 0, 4096, NULL,
         "$ATTN_NUM_THREADS, else all cores", 0},
        CLI_END,
    };
    const char *positional[1];
    int n_positional;
    int rc = cli_parse(argc, argv, opts, &eval_help, "eval lm", positional, 1, &n_positional);
    if (rc != CLI_OK) return rc;
    if (!a->model) {
        cli_error("eval lm: --model CKPT is required (try attn eval lm --help)");
        return CLI_USAGE;
    }
    if (n_positional != 1) {
        cli_error("eval lm: a text FILE to evaluate on is required (try attn eval lm --help)");
        return CLI_USAGE;
    }
    a->file = positional[0];
    return CLI_OK;
}

/* Fills row r of (B, P) tokens/targets with window `w` of text; returns the bytes it predicts.
 * A short last window is padded with token 0 and ignored targets: causal attention never lets a
 * real position see the padding, so no `lengths` are needed (and the unmasked kernels run). */
static int fill_window(const text_data *text, long w, int P, int *tokens, int *targets) {
    long n_pred = (long)text->n - 1;
    long start = w * P;
    int len = n_pred - start < P ? (int)(n_pred - start) : P;
    for (int t = 0; t < P; t++) {
        tokens[t] = t < len ? text->bytes[start + t] : 0;
        targets[t] = t < len ? text->bytes[start + t + 1] : ATTN_IGNORE_INDEX;
    }
    return len;
}

/* Sum of the cross-entropies of every predicted byte of text, in *sum; count in *count. */
static int score(attn_model *m, const text_data *text, int B, double *sum, long *count) {
    int P = attn_model_config(m)->max_len;
    if ((long long)B * P > (1 << 24)) B = (1 << 24) / P > 0 ? (1 << 24) / P : 1;
    long n_windows = ((long)text->n - 1 + P - 1) / P;
    int *tokens = malloc((size_t)B * (size_t)P * sizeof(int));
    int *targets = malloc((size_t)B * (size_t)P * sizeof(int));
    int rc = CLI_OK;
    attn_status s = ATTN_OK;
    if (!tokens || !targets) {
        cli_error("out of memory for a batch of %d x %d", B, P);
        rc = CLI_RUNTIME;
    } else if ((s = attn_model_reserve(m, B, P, 0)) != ATTN_OK) {
        rc = cli_lib_error(s, "cannot allocate activations");
    }
    *sum = 0;
    *count = 0;
    for (long w0 = 0; rc == CLI_OK && w0 < n_windows; w0 += B) {
        int rows = n_windows - w0 < B ? (int)(n_windows - w0) : B;
        long n_batch = 0; /* predicted bytes in this batch: the loss is their mean */
        for (int r = 0; r < rows; r++)
            n_batch +=
                fill_window(text, w0 + r, P, tokens + (size_t)r * P, targets + (size_t)r * P);
        attn_batch batch = {.B = rows, .T = P, .tokens = tokens, .targets = targets};
        float loss;
        if ((s = attn_model_forward(m, &batch, 0, &loss)) != ATTN_OK) {
            rc = cli_lib_error(s, "evaluation failed at window %ld", w0);
        } else {
            *sum += (double)loss * (double)n_batch;
            *count += n_batch;
        }
    }
    free(tokens);
    free(targets);
    return rc;
}

int cmd_eval_lm(int argc, char **argv) {
    eval_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc == CLI_HELP ? CLI_OK : rc;
    attn_status s = attn_set_num_threads(a.threads);
    if (s != ATTN_OK) return cli_lib_error(s, "--threads %d", a.threads);
    text_data text;
    if (text_data_load(a.file, &text) != 0) {
        cli_error("cannot read '%s': %s", a.file, strerror(errno));
        return CLI_RUNTIME;
    }
    if (text.n < 2) {
        cli_error("'%s' has %zu bytes; at least 2 are needed to predict one", a.file, text.n);
        text_data_free(&text);
        return CLI_RUNTIME;
    }
    attn_model *m;
    if ((rc = lm_model_load(a.model, &m))) {
        text_data_free(&text);
        return rc;
    }
    double sum;
    long count;
    rc = score(m, &text, a.batch, &sum, &count);
    if (rc == CLI_OK) {
        double loss = sum / (double)count;
        double ppl = exp(loss), bpb = loss / log(2.0);
        char ppl_text[64];
        snprintf(ppl_text, sizeof ppl_text, "%.9g", ppl);
        if (a.json) /* JSON has no infinity: an overflowing perplexity is null */
            printf("{\"tokens\": %ld, \"loss\": %.9g, \"ppl\": %s, \"bpb\": %.9g}\n", count, loss,
                   isfinite(ppl) ? ppl_text : "null", bpb);
        else
            printf("tokens %ld  loss %.4f  ppl %.2f  bpb %.3f\n", count, loss, ppl, bpb);
    }
    attn_model_free(m);
    text_data_free(&text);
    return rc;
}
