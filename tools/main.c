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
    "  train translate train an encoder-decoder translator on ref<TAB>source<TAB>target pairs\n"
    "  translate    translate lines with a trained translator (beam search)\n"
    "  eval translate  corpus BLEU and chrF of translations against references (sacreBLEU's)\n"
    "  train asr    train a CTC speech recognizer on path<TAB>transcript audio lists\n"
    "  transcribe   transcribe audio files with a trained recognizer\n"
    "  eval asr     WER and CER of a recognizer on transcribed audio, or of text files\n"
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

/* A kind of model or task after "attn train" / "attn eval", and its subcommand. */
typedef struct {
    const char *kind;
    int (*run)(int, char **);
} family_kind;

static const family_kind train_kinds[] = {
    {"lm", cmd_train_lm}, {"classify", cmd_train_classify}, {"translate", cmd_train_translate},
    {"asr", cmd_train_asr}};
static const family_kind eval_kinds[] = {
    {"lm", cmd_eval_lm}, {"classify", cmd_eval_classify}, {"translate", cmd_eval_translate},
    {"asr", cmd_eval_asr}};

/* "attn train <what>" / "attn eval <what>": one of kinds[0..n). */
static int dispatch_family(const char *command, int argc, char **argv, const family_kind *kinds,
                           int n) {
    char known[128] = "";
    for (int i = 0; i < n; i++) {
        if (i) strncat(known, ", ", sizeof known - strlen(known) - 1);
        strncat(known, kinds[i].kind, sizeof known - strlen(known) - 1);
    }
    if (argc < 1) {
        cli_error("%s: missing kind (known: %s; try attn %s %s --help)", command, known, command,
                  kinds[0].kind);
        return CLI_USAGE;
    }
    if (is_help(argv[0])) {
        printf("usage: attn %s ", command);
        for (int i = 0; i < n; i++)
            printf("%s%s", i ? "|" : "", kinds[i].kind);
        printf(" [options]\n\n");
        for (int i = 0; i < n; i++)
            printf("  %s %-10s see `attn %s %s --help`\n", command, kinds[i].kind, command,
                   kinds[i].kind);
        return CLI_OK;
    }
    for (int i = 0; i < n; i++)
        if (strcmp(argv[0], kinds[i].kind) == 0) return kinds[i].run(argc - 1, argv + 1);
    cli_error("unknown kind '%s' for '%s' (known: %s)", argv[0], command, known);
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
        return dispatch_family("train", argc - 2, argv + 2, train_kinds,
                               (int)(sizeof train_kinds / sizeof train_kinds[0]));
    if (strcmp(command, "eval") == 0)
        return dispatch_family("eval", argc - 2, argv + 2, eval_kinds,
                               (int)(sizeof eval_kinds / sizeof eval_kinds[0]));
    if (strcmp(command, "generate") == 0) return cmd_generate(argc - 2, argv + 2);
    if (strcmp(command, "translate") == 0) return cmd_translate(argc - 2, argv + 2);
    if (strcmp(command, "transcribe") == 0) return cmd_transcribe(argc - 2, argv + 2);
    if (strcmp(command, "tokenizer") == 0) return cmd_tokenizer(argc - 2, argv + 2);
    if (strcmp(command, "classify") == 0) return cmd_classify(argc - 2, argv + 2);
    if (strcmp(command, "attention") == 0) return cmd_attention(argc - 2, argv + 2);
    cli_error("unknown command '%s' (try attn --help)", command);
    return CLI_USAGE;
}
