/* tools/cmd_eval_lm.c: `attn eval lm`: cross-entropy, perplexity and bits per byte on a text,
 * through the model's tokenizer (attn_lm_evaluate). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn/attn.h"

#include "args.h"
#include "commands.h"

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

int cmd_eval_lm(int argc, char **argv) {
    const char *model = NULL;
    int batch = 8, json = 0;
    cli_opt opts[] = {
        CLI_OPT("model", CLI_STRING, &model, "checkpoint of a language model", .meta = "CKPT",
                .required = 1),
        CLI_OPT("batch", CLI_INT, &batch, "windows per forward pass", .min = 1, .max = 1 << 16),
        CLI_OPT("json", CLI_FLAG, &json, "print a JSON object instead of the line"),
        CLI_END,
    };
    int n_files, rc = cli_parse(argc, argv, opts, &eval_help, 1, &n_files);
    if (rc == CLI_OK && n_files != 1) {
        cli_error("eval lm: a text FILE to evaluate on is required (try attn eval lm --help)");
        rc = CLI_USAGE;
    }
    if (rc) return rc;
    const char *file = argv[0];
    int *ids = NULL;
    size_t n = 0;
    attn_model *m = NULL;
    attn_tokenizer *tok = NULL;
    attn_lm_score sc;
    attn_status s;
    if ((s = attn_lm_load(model, &m, &tok)) != ATTN_OK)
        rc = cli_lib_error(s, "cannot load model '%s'", model);
    else if ((s = attn_lm_read_text(file, tok, &ids, &n)) != ATTN_OK)
        rc = cli_lib_error(s, "cannot read the text");
    else if (n < 2)
        cli_error("'%s' has %zu %s; at least 2 are needed to predict one", file, n,
                  tok ? "tokens" : "bytes"),
            rc = 1;
    else if ((s = attn_lm_evaluate(m, tok, ids, n, batch, &sc)) != ATTN_OK)
        rc = cli_lib_error(s, "evaluation failed");
    double ppl = rc == CLI_OK ? exp(sc.loss) : 0;
    char ppl_text[32] = "null"; /* JSON has no infinity: an overflowing perplexity is null */
    if (isfinite(ppl)) snprintf(ppl_text, sizeof ppl_text, "%.9g", ppl);
    if (rc == CLI_OK && json)
        printf("{\"tokens\": %ld, \"bytes\": %ld, \"loss\": %.9g, \"ppl\": %s, \"bpb\": %.9g}\n",
               sc.tokens, sc.bytes, sc.loss, ppl_text, sc.bits_per_byte);
    else if (rc == CLI_OK)
        printf("tokens %ld  bytes %ld  loss %.4f  ppl %.2f  bpb %.3f\n", sc.tokens, sc.bytes,
               sc.loss, ppl, sc.bits_per_byte);
    attn_tokenizer_free(tok);
    attn_model_free(m);
    free(ids);
    return rc;
}
