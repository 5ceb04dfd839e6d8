/* tools/cmd_generate.c: `attn generate`: sample text from a language model (bytes or the BPE tokens
 * of its checkpoint's tokenizer), KV-cached.
 *
 * The prompt is fed once; each new token's bytes are printed as soon as it is sampled. When the
 * model's context (max_len) is full, the last half of the text is fed again as a fresh prompt and
 * sampling goes on, so --max-new is not limited by the context length. With --prompts FILE, every
 * line of FILE is continued instead, --batch lines decoded together (attn_lm_generate). */
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
    int max_new, top_k, batch;
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
        CLI_OPT("model", CLI_STRING, &a->model, "checkpoint of a language model", .meta = "CKPT",
                .required = 1),
        CLI_OPT("prompt", CLI_STRING, &a->prompt, "text to continue", .meta = "TEXT",
                .default_text = "a newline"),
        CLI_OPT("prompts", CLI_STRING, &a->prompts,
                "continue every line of FILE, one output line each", .meta = "FILE"),
        CLI_OPT("batch", CLI_INT, &a->batch, "with --prompts: lines decoded together", .min = 1,
                .max = 256),
        CLI_OPT("max-new", CLI_INT, &a->max_new, "tokens to generate", .min = 0, .max = 1e8),
        CLI_OPT("temperature", CLI_FLOAT, &a->temperature, "softmax temperature (0: greedy)",
                .min = 0, .max = 1e4),
        CLI_OPT("top-k", CLI_INT, &a->top_k, "sample among the K most likely tokens (0: all)",
                .min = 0, .max = 1 << 24),
        CLI_OPT("top-p", CLI_FLOAT, &a->top_p, "nucleus: smallest set with this probability",
                .min = 0, .max = 1),
        CLI_OPT("seed", CLI_U64, &a->seed, "sampling seed", .default_text = "random"),
        CLI_END,
    };
    int rc = cli_parse(argc, argv, opts, &generate_help, 0, NULL);
    if (rc != CLI_OK) return rc;
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

int cmd_generate(int argc, char **argv) {
    generate_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc;
    attn_model *m;
    attn_tokenizer *tok;
    attn_status s = attn_lm_load(a.model, &m, &tok);
    if (s != ATTN_OK) return cli_lib_error(s, "cannot load model '%s'", a.model);
    attn_lm_generate_params p = attn_lm_generate_default_params();
    p.max_new = a.max_new, p.batch = a.batch, p.user = tok;
    p.sampler = (attn_sampler_params){
        .temperature = a.temperature, .top_k = a.top_k, .top_p = a.top_p, .seed = a.seed};
    attn_lm_prompts prompts = {0};
    if (a.prompts) {
        p.on_token = stop_at_newline, p.on_done = print_line;
        if ((s = attn_lm_read_prompts(a.prompts, tok, attn_model_config(m)->max_len, &prompts)))
            rc = cli_lib_error(s, "--prompts");
    } else { /* one prompt, printed, then each token as it comes */
        const char *text = a.prompt && a.prompt[0] ? a.prompt : "\n";
        size_t len = 0;
        prompts.ids = calloc(1, sizeof *prompts.ids), prompts.len = malloc(sizeof *prompts.len);
        if (!prompts.ids || !prompts.len) cli_error("out of memory"), rc = CLI_RUNTIME;
        if (rc == CLI_OK && (s = attn_lm_encode(tok, text, strlen(text), prompts.ids, &len)))
            rc = cli_lib_error(s, "cannot encode the prompt");
        if (rc == CLI_OK && len < 1) cli_error("the prompt encodes to no tokens"), rc = CLI_USAGE;
        prompts.n = 1, prompts.len[0] = (int)len;
        if (rc == CLI_OK && a.prompt && a.prompt[0]) fputs(a.prompt, stdout);
        p.on_token = print_token;
    }
    if (rc == CLI_OK &&
        (s = attn_lm_generate(m, (const int *const *)prompts.ids, prompts.len, prompts.n, &p)))
        rc = cli_lib_error(s, "generation failed");
    if (!a.prompts && (rc == CLI_OK || (a.prompt && a.prompt[0])))
        putchar('\n'); /* ends the echo */
    fflush(stdout);
    attn_lm_prompts_free(&prompts);
    attn_tokenizer_free(tok);
    attn_model_free(m);
    return rc;
}
