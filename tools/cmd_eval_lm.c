/* tools/cmd_eval_lm.c: `attn eval lm`: cross-entropy, perplexity and bits per byte on a text,
 * through the model's tokenizer (attn_lm_evaluate). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn/attn.h"

#include "args.h"
#include "commands.h"

typedef struct {
    const char *model, *file;
    int batch, threads, json;
} eval_args;

static const cli_help eval_help = {
    "attn eval lm --model CKPT FILE [options]",
    "Evaluates a language model on a text file, encoded as in training (bytes, or the tokenizer\n"
    "stored with the model): mean cross-entropy per token (nats), perplexity exp(loss) per token,\n"
    "and bits per byte: the total loss / ln 2 over the bytes the predicted tokens stand for,\n"
    "which compares models of different tokenizers (for a byte-level model, loss / ln 2). The\n"
    "ids are cut into non-overlapping windows of the model's context length (max_len); each\n"
    "window's tokens are predicted from the window's own prefix only, so the first tokens of\n"
    "every window see little context (a sliding window would score a little better). Every\n"
    "token but the first is predicted exactly once.\n"
    "Output: one line `tokens N  bytes M  loss L  ppl P  bpb B`, or a JSON object with --json.\n",
    "  attn eval lm --model lm.safetensors held-out.txt\n",
};

static int parse_args(int argc, char **argv, eval_args *a) {
    *a = (eval_args){.batch = 8};
    cli_opt opts[] = {
        {"model", CLI_STRING, &a->model, "CKPT", "checkpoint of a language model (required)",
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

int cmd_eval_lm(int argc, char **argv) {
    eval_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc == CLI_HELP ? CLI_OK : rc;
    attn_status s = attn_set_num_threads(a.threads);
    if (s != ATTN_OK) return cli_lib_error(s, "--threads %d", a.threads);
    int *ids = NULL;
    size_t n = 0;
    attn_model *m = NULL;
    attn_tokenizer *tok = NULL;
    attn_lm_score sc;
    if ((s = attn_lm_load(a.model, &m, &tok)) != ATTN_OK)
        rc = cli_lib_error(s, "cannot load model '%s'", a.model);
    else if ((s = attn_lm_read_text(a.file, tok, &ids, &n)) != ATTN_OK)
        rc = cli_lib_error(s, "cannot read the text");
    else if (n < 2)
        cli_error("'%s' has %zu %s; at least 2 are needed to predict one", a.file, n,
                  tok ? "tokens" : "bytes"),
            rc = 1;
    else if ((s = attn_lm_evaluate(m, tok, ids, n, a.batch, &sc)) != ATTN_OK)
        rc = cli_lib_error(s, "evaluation failed");
    if (rc == CLI_OK) {
        double ppl = exp(sc.loss);
        char ppl_text[64];
        snprintf(ppl_text, sizeof ppl_text, "%.9g", ppl);
        if (a.json) /* JSON has no infinity: an overflowing perplexity is null */
            printf("{\"tokens\": %ld, \"bytes\": %ld, \"loss\": %.9g, \"ppl\": %s, \"bpb\": "
                   "%.9g}\n",
                   sc.tokens, sc.bytes, sc.loss, isfinite(ppl) ? ppl_text : "null",
                   sc.bits_per_byte);
        else
            printf("tokens %ld  bytes %ld  loss %.4f  ppl %.2f  bpb %.3f\n", sc.tokens, sc.bytes,
                   sc.loss, ppl, sc.bits_per_byte);
    }
    attn_tokenizer_free(tok);
    attn_model_free(m);
    free(ids);
    return rc;
}
