/* tools/main.c: the `attn` command: dispatches to one file per subcommand. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn/attn.h"

#include "args.h"
#include "classify_common.h"
#include "commands.h"

static const char usage[] =
    "usage: attn <command> [options]\n"
    "\n"
    "Commands:\n"
    "  train lm     train a byte-level decoder-only language model on a text file\n"
    "  generate     sample text from a trained language model (KV-cached)\n"
    "  eval lm      loss, perplexity and bits per byte of a language model on a text file\n"
    "  tokenizer    train a byte-level BPE; encode and decode text (BPE or WordPiece)\n"
    "  train classify  train a Transformer text classifier on label<TAB>text files\n"
    "  eval classify   accuracy, per-class P/R/F1, macro-F1, confusion; k-fold cross-validation\n"
    "  classify     label texts with a trained classifier (top classes and probabilities)\n"
    "  attention    attention heatmaps (PNG) and weights (JSON) of a classifier on one text\n"
    "\n"
    "Options:\n"
    "  --help       this text; `attn <command> --help` describes a command and all its options\n"
    "  --version    the version of attn, the CPU and the kernels it runs (ISA, BLAS)\n"
    "\n"
    "Environment:\n"
    "  ATTN_NUM_THREADS   threads (default: all cores)\n"
    "  ATTN_ISA           cap the kernels' instruction set: generic, avx2 or avx512\n"
    "                     (default: the best the CPU supports)\n"
    "\n"
    "Example:\n"
    "  attn train lm --data corpus.txt --out lm.safetensors --steps 2000\n"
    "  attn generate --model lm.safetensors --prompt \"Once upon a time\"\n";

static int is_help(const char *a) {
    return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
}

/* "attn train <what>" / "attn eval <what>": `lm` or `classify`. */
static int dispatch_family(const char *command, int argc, char **argv, int (*lm)(int, char **),
                           int (*classify)(int, char **)) {
    if (argc < 1) {
        cli_error("%s: missing model kind (known: lm, classify; try attn %s lm --help)", command,
                  command);
        return CLI_USAGE;
    }
    if (is_help(argv[0])) {
        printf("usage: attn %s lm|classify [options]\n\n"
               "  %s lm          see `attn %s lm --help`\n"
               "  %s classify    see `attn %s classify --help`\n",
               command, command, command, command, command);
        return CLI_OK;
    }
    if (strcmp(argv[0], "lm") == 0) return lm(argc - 1, argv + 1);
    if (strcmp(argv[0], "classify") == 0) return classify(argc - 1, argv + 1);
    cli_error("unknown model kind '%s' for '%s' (known: lm, classify)", argv[0], command);
    return CLI_USAGE;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        cli_error("missing command (try attn --help)");
        return CLI_USAGE;
    }
    if (is_help(argv[1])) {
        fputs(usage, stdout);
        return CLI_OK;
    }
    const char *command = argv[1];
    const char *isa_env = getenv("ATTN_ISA");
    if (isa_env && *isa_env && attn_set_isa(isa_env) != ATTN_OK) {
        cli_error("ATTN_ISA: %s", attn_last_error());
        return CLI_USAGE;
    }
    if (strcmp(command, "--version") == 0) {
        attn_runtime r = attn_runtime_info();
        printf("attn %s\n", r.version);
        printf("cpu: %s\n", *r.cpu ? r.cpu : "unknown");
        printf("isa: %s (best supported: %s%s%s)\n", r.isa, r.isa_best,
               r.isa_env ? ", ATTN_ISA=" : "", r.isa_env ? r.isa_env : "");
        printf("blas: %s\n", r.blas);
        printf("threads: %d\n", r.num_threads);
        return CLI_OK;
    }
    if (strcmp(command, "train") == 0)
        return dispatch_family("train", argc - 2, argv + 2, cmd_train_lm, cmd_train_classify);
    if (strcmp(command, "eval") == 0)
        return dispatch_family("eval", argc - 2, argv + 2, cmd_eval_lm, cmd_eval_classify);
    if (strcmp(command, "generate") == 0) return cmd_generate(argc - 2, argv + 2);
    if (strcmp(command, "tokenizer") == 0) return cmd_tokenizer(argc - 2, argv + 2);
    if (strcmp(command, "classify") == 0) return cmd_classify(argc - 2, argv + 2);
    if (strcmp(command, "attention") == 0) return cmd_attention(argc - 2, argv + 2);
    cli_error("unknown command '%s' (try attn --help)", command);
    return CLI_USAGE;
}
