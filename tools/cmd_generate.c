/* tools/cmd_generate.c: `attn generate`: sample text from a language model (bytes or the BPE tokens
 * of its checkpoint's tokenizer), KV-cached.
 *
 * The prompt is fed once; each new token's bytes are printed as soon as it is sampled. When the model's
 * context (max_len) is full, the last half of the text is fed again as a fresh prompt and sampling
 * goes on, so --max-new is not limited by the context length. With --prompts FILE, every line of
 * FILE is continued instead, --batch lines decoded together (attn_lm_generate). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attn/attn.h"

#include "args.h"
#include "commands.h"

typedef struct {
    const char *model, *prompt, *prompts;
    int max_new, top_k, threads, batch;
    float temperature, top_p;
    uint64_t seed;
} generate_args;

static const cli_help generate_help = {
    "attn generate --model CKPT [--prompt TEXT | --prompts FILE] [options]",
    "Samples text from a language model trained with `attn train lm` (bytes, or the tokens of\n"
    "the tokenizer stored with it), printing each token's text as it is generated (after the\n"
    "prompt, which is printed first), then a newline.\n"
    "Without --prompt, generation starts from a newline. The prompt and past output stay in\n"
    "the model's KV cache; when the context is full, its last half is fed again and sampling\n"
    "continues. Sampling: logits / temperature, then the top-k most likely tokens, then the\n"
    "smallest set whose probability reaches top-p; --temperature 0 is greedy. A given --seed\n"
    "gives the same text every time.\n"
    "\n"
    "With --prompts FILE, each line of FILE (at most the model's context, in tokens) is a\n"
    "prompt, and one line is printed per prompt, in order: its continuation alone, up to the\n"
    "first newline the model generates (not printed) or --max-new tokens. --batch lines are\n"
    "decoded together. Every line samples as a lone --prompt run with the same options would,\n"
    "so line i prints what `attn generate --prompt LINE_i` prints after the prompt, up to its\n"
    "first newline.\n",
    "  attn generate --model lm.safetensors --prompt \"The meaning of life\" --max-new 300 \\\n"
    "      --temperature 0.8 --top-k 40 --seed 7\n"
    "  attn generate --model lm.safetensors --prompts questions.txt --max-new 80 --seed 7\n",
};

static int parse_args(int argc, char **argv, generate_args *a) {
    *a =
        (generate_args){.max_new = 200, .temperature = 1.0f, .top_k = 0, .top_p = 1.0f, .batch = 8};
    cli_opt opts[] = {
        {"model", CLI_STRING, &a->model, "CKPT", "checkpoint of a language model (required)",
         CLI_ANY, NULL, NULL, 0},
        {"prompt", CLI_STRING, &a->prompt, "TEXT", "text to continue", CLI_ANY, NULL, "a newline",
         0},
        {"prompts", CLI_STRING, &a->prompts, "FILE",
         "continue every line of FILE, one output line each", CLI_ANY, NULL, NULL, 0},
        {"batch", CLI_INT, &a->batch, NULL, "with --prompts: lines decoded together", 1, 256, NULL,
         NULL, 0},
        {"max-new", CLI_INT, &a->max_new, NULL, "tokens to generate", 0, 1e8, NULL, NULL, 0},
        {"temperature", CLI_FLOAT, &a->temperature, NULL, "softmax temperature (0: greedy)", 0, 1e4,
         NULL, NULL, 0},
        {"top-k", CLI_INT, &a->top_k, NULL, "sample among the K most likely tokens (0: all)", 0, 1 << 24,
         NULL, NULL, 0},
        {"top-p", CLI_FLOAT, &a->top_p, NULL, "nucleus: smallest set with this probability", 0, 1,
         NULL, NULL, 0},
        {"seed", CLI_U64, &a->seed, NULL, "sampling seed", CLI_ANY, NULL, "random", 0},
        {"threads", CLI_INT, &a->threads, NULL, "threads", 0, 4096, NULL,
         "$ATTN_NUM_THREADS, else all cores", 0},
        CLI_END,
    };
    const char *positional[1];
    int n_positional;
    int rc = cli_parse(argc, argv, opts, &generate_help, "generate", positional, 0, &n_positional);
    if (rc != CLI_OK) return rc;
    if (!a->model) {
        cli_error("generate: --model CKPT is required (try attn generate --help)");
        return CLI_USAGE;
    }
    if (a->prompt && a->prompts) {
        cli_error("generate: give --prompt TEXT or --prompts FILE, not both");
        return CLI_USAGE;
    }
    if (!(a->top_p > 0)) {
        cli_error("--top-p: must be above 0 (1 keeps every token)");
        return CLI_USAGE;
    }
    if (!cli_find(opts, "seed")->seen) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        a->seed = (uint64_t)ts.tv_sec * 1000003u ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid() << 32;
    }
    return CLI_OK;
}

/* The callbacks' user: the model's tokenizer (NULL: bytes). */
static int print_token(int stream, int token, void *user) {
    (void)stream;
    size_t len;
    const char *bytes = attn_lm_token_bytes(user, token, &len);
    if (bytes) fwrite(bytes, 1, len, stdout);
    fflush(stdout);
    return 0;
}

/* --prompts: a continuation ends with the first token that holds a newline. */
static int stop_at_newline(int stream, int token, void *user) {
    (void)stream;
    size_t len;
    const char *bytes = attn_lm_token_bytes(user, token, &len);
    return bytes && memchr(bytes, '\n', len) != NULL;
}

/* --prompts: one line per prompt, its continuation up to the first newline (not printed). */
static void print_line(int prompt, const int *ids, int n, void *user) {
    (void)prompt;
    for (int t = 0; t < n; t++) {
        size_t len;
        const char *bytes = attn_lm_token_bytes(user, ids[t], &len);
        const char *nl = bytes ? memchr(bytes, '\n', len) : NULL;
        if (bytes) fwrite(bytes, 1, nl ? (size_t)(nl - bytes) : len, stdout);
        if (nl) break;
    }
    putchar('\n');
    fflush(stdout);
}

/* The lines of path as prompts (an empty line: a newline), encoded, each at most max_len ids:
 * prompts[i] (malloc'd, like the arrays of *count) has n[i] ids. */
static int read_lines(const char *path, const attn_tokenizer *tokenizer, int max_len,
                      int ***prompts, int **n, int *count) {
    char *b;
    size_t size, lines = 0;
    attn_status s = attn_file_read(path, (void **)&b, &size);
    if (s != ATTN_OK) return cli_lib_error(s, "cannot read --prompts");
    for (size_t i = 0; i < size; i++)
        lines += b[i] == '\n' || i + 1 == size; /* a last line without "\n" counts */
    *prompts = calloc(lines + 1, sizeof **prompts);
    *n = malloc((lines + 1) * sizeof **n);
    int rc = lines ? CLI_OK : CLI_RUNTIME, k = 0;
    if (!lines) cli_error("--prompts '%s' is empty: it needs one prompt per line", path);
    if (rc == CLI_OK && (!*prompts || !*n || lines > 1u << 30)) {
        cli_error("no room for the %zu lines of '%s'", lines, path);
        rc = CLI_RUNTIME;
    }
    for (size_t i = 0, begin = 0; rc == CLI_OK && i < size; i++) {
        if (b[i] != '\n' && i + 1 < size) continue;
        size_t end = b[i] == '\n' ? i : i + 1, len;
        if (end > begin && b[end - 1] == '\r') end--;
        s = end > begin ? attn_lm_encode(tokenizer, b + begin, end - begin, &(*prompts)[k], &len)
                        : attn_lm_encode(tokenizer, "\n", 1, &(*prompts)[k], &len);
        if (s != ATTN_OK) {
            rc = cli_lib_error(s, "--prompts '%s': line %d", path, k + 1);
        } else if (len > (size_t)max_len || len < 1) {
            cli_error("--prompts '%s': line %d has %zu %s, more than the model's context of %d",
                      path, k + 1, len, tokenizer ? "tokens" : "bytes", max_len);
            rc = CLI_RUNTIME;
        }
        (*n)[k++] = (int)len, begin = i + 1;
    }
    free(b);
    *count = k;
    return rc;
}

int cmd_generate(int argc, char **argv) {
    generate_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc == CLI_HELP ? CLI_OK : rc;
    attn_status s = attn_set_num_threads(a.threads);
    if (s != ATTN_OK) return cli_lib_error(s, "--threads %d", a.threads);
    attn_model *m;
    attn_tokenizer *tok;
    if ((s = attn_lm_load(a.model, &m, &tok)) != ATTN_OK)
        return cli_lib_error(s, "cannot load model '%s'", a.model);
    attn_lm_generate_params p = attn_lm_generate_default_params();
    p.max_new = a.max_new, p.batch = a.batch, p.user = tok;
    p.sampler = (attn_sampler_params){
        .temperature = a.temperature, .top_k = a.top_k, .top_p = a.top_p, .seed = a.seed};
    int **prompts = NULL, *n = NULL, count = 0;
    if (a.prompts) {
        p.on_token = stop_at_newline, p.on_done = print_line;
        rc = read_lines(a.prompts, tok, attn_model_config(m)->max_len, &prompts, &n, &count);
    } else { /* one prompt, printed, then each token as it comes */
        const char *text = a.prompt && a.prompt[0] ? a.prompt : "\n";
        size_t len = 0;
        prompts = calloc(1, sizeof *prompts), n = malloc(sizeof *n);
        if (!prompts || !n) cli_error("out of memory"), rc = CLI_RUNTIME;
        if (rc == CLI_OK && (s = attn_lm_encode(tok, text, strlen(text), prompts, &len)))
            rc = cli_lib_error(s, "cannot encode the prompt");
        if (rc == CLI_OK && len < 1) cli_error("the prompt encodes to no tokens"), rc = CLI_USAGE;
        if (rc == CLI_OK) n[0] = (int)len, count = 1;
        if (rc == CLI_OK && a.prompt && a.prompt[0]) fputs(a.prompt, stdout);
        p.on_token = print_token;
    }
    if (rc == CLI_OK && (s = attn_lm_generate(m, (const int *const *)prompts, n, count, &p)))
        rc = cli_lib_error(s, "generation failed");
    if (!a.prompts && (rc == CLI_OK || (a.prompt && a.prompt[0])))
        putchar('\n'); /* ends the echo */
    fflush(stdout);
    for (int i = 0; prompts && i < (a.prompts ? count : 1); i++)
        free(prompts[i]);
    free(prompts), free(n);
    attn_tokenizer_free(tok);
    attn_model_free(m);
    return rc;
}
