/* tools/main.c: the `attn` command: finds the subcommand in one table and runs it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn/attn.h"

#include "args.h"
#include "commands.h"

/* Every subcommand, in the order `attn --help` lists them. */
static const struct {
    const char *words; /* "train lm": one or two words */
    int (*run)(int, char **);
    const char *summary;
} commands[] = {
    {"train lm", cmd_train_lm, "train a decoder-only language model on a text file"},
    {"generate", cmd_generate, "sample text from a trained language model (KV-cached)"},
    {"eval lm", cmd_eval_lm, "loss, perplexity and bits per byte of a language model on a text"},
    {"tokenizer", cmd_tokenizer, "train a byte-level BPE; encode and decode text (BPE, WordPiece)"},
    {"train classify", cmd_train_classify, "train a Transformer text classifier on label<TAB>text"},
    {"eval classify", cmd_eval_classify, "accuracy, P/R/F1, macro-F1, confusion; k-fold"},
    {"classify", cmd_classify,
     "label texts with a trained classifier (top classes, probabilities)"},
    {"attention", cmd_attention, "attention heatmaps (PNG) and weights (JSON) of a classifier"},
    {"train translate", cmd_train_translate, "train an encoder-decoder translator on TSV pairs"},
    {"translate", cmd_translate, "translate lines with a trained translator (beam search)"},
    {"eval translate", cmd_eval_translate, "corpus BLEU and chrF against references (sacreBLEU's)"},
    {"train asr", cmd_train_asr, "train a speech recognizer on path<TAB>transcript audio lists"},
    {"transcribe", cmd_transcribe, "transcribe audio files with a trained recognizer"},
    {"eval asr", cmd_eval_asr, "WER and CER of a recognizer on transcribed audio, or of text"},
};
#define N_COMMANDS (int)(sizeof commands / sizeof commands[0])

static int is_help(const char *a) {
    return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
}

/* Prints the commands whose words start with `prefix` ("" for all). */
static void list(const char *prefix) {
    for (int i = 0; i < N_COMMANDS; i++)
        if (strncmp(commands[i].words, prefix, strlen(prefix)) == 0)
            printf("  %-16s %s\n", commands[i].words, commands[i].summary);
}

static int version(void) {
    attn_runtime r = attn_runtime_info();
    printf("attn %s\ncpu: %s\n", r.version, *r.cpu ? r.cpu : "unknown");
    printf("isa: %s (best supported: %s%s%s)\n", r.isa, r.isa_best, r.isa_env ? ", ATTN_ISA=" : "",
           r.isa_env ? r.isa_env : "");
    const char *coretype = getenv("OPENBLAS_CORETYPE");
    printf("blas: %s%s%s\nthreads: %d\n", r.blas, coretype ? ", OPENBLAS_CORETYPE=" : "",
           coretype ? coretype : "", r.num_threads);
    return CLI_OK;
}

static int usage(void) {
    printf("usage: attn <command> [options]\n\nCommands:\n");
    list("");
    printf("\nOptions:\n"
           "  --help       this text; `attn <command> --help` describes a command and its options\n"
           "  --version    the version of attn, the CPU and the kernels it runs (ISA, BLAS)\n"
           "\nEnvironment:\n"
           "  ATTN_NUM_THREADS   threads (default: all cores)\n"
           "  ATTN_ISA           cap the kernels' instruction set: generic, avx2 or avx512\n"
           "                     (default: the best the CPU supports)\n"
           "  OPENBLAS_CORETYPE  OpenBLAS's GEMM kernels (Haswell, SkylakeX, ...; default: its\n"
           "                     own choice for the CPU); --version shows it when set\n"
           "\nExample:\n"
           "  attn train lm --data corpus.txt --out lm.safetensors --steps 2000\n"
           "  attn generate --model lm.safetensors --prompt \"Once upon a time\"\n");
    return CLI_OK;
}

/* argv[1] and maybe argv[2] against the table: "train lm", "translate", ... */
static int dispatch(int argc, char **argv) {
    const char *first = argv[1];
    int family = 0; /* first is "train" / "eval": a second word is needed */
    for (int i = 0; i < N_COMMANDS; i++) {
        const char *w = commands[i].words, *space = strchr(w, ' ');
        size_t n = space ? (size_t)(space - w) : strlen(w);
        if (strncmp(w, first, n) != 0 || first[n] != '\0') continue;
        if (!space) return commands[i].run(argc - 2, argv + 2);
        family = 1;
        if (argc > 2 && strcmp(space + 1, argv[2]) == 0) return commands[i].run(argc - 3, argv + 3);
    }
    if (!family) {
        cli_error("unknown command '%s' (try attn --help)", first);
        return CLI_USAGE;
    }
    if (argc > 2 && is_help(argv[2])) {
        printf("usage: attn %s <kind> [options]\n\n", first);
        list(first);
        printf("\n`attn %s <kind> --help` describes each.\n", first);
        return CLI_OK;
    }
    if (argc > 2)
        cli_error("%s: unknown kind '%s' (try attn %s --help)", first, argv[2], first);
    else
        cli_error("%s: missing kind (try attn %s --help)", first, first);
    return CLI_USAGE;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        cli_error("missing command (try attn --help)");
        return CLI_USAGE;
    }
    if (is_help(argv[1])) return usage();
    const char *isa_env = getenv("ATTN_ISA");
    if (isa_env && *isa_env && attn_set_isa(isa_env) != ATTN_OK) {
        cli_error("ATTN_ISA: %s", attn_last_error());
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "--version") == 0) return version();
    int rc = dispatch(argc, argv);
    return rc == CLI_HELP ? CLI_OK : rc;
}
