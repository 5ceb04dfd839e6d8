/* tools/cmd_generate.c: `attn generate`: sample bytes from a language model, KV-cached.
 *
 * The prompt is fed once; each new byte is printed as soon as it is sampled. When the model's
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
    "Samples text from a byte-level language model trained with `attn train lm`, printing\n"
    "each byte as it is generated (after the prompt, which is printed first), then a newline.\n"
    "Without --prompt, generation starts from a newline. The prompt and past output stay in\n"
    "the model's KV cache; when the context is full, its last half is fed again and sampling\n"
    "continues. Sampling: logits / temperature, then the top-k most likely bytes, then the\n"
    "smallest set whose probability reaches top-p; --temperature 0 is greedy. A given --seed\n"
    "gives the same text every time.\n"
    "\n"
    "With --prompts FILE, each line of FILE (at most the model's context, in bytes) is a\n"
    "prompt, and one line is printed per prompt, in order: its continuation alone, up to the\n"
    "first newline the model generates (not printed) or --max-new bytes. --batch lines are\n"
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
        {"model", CLI_STRING, &a->model, "CKPT", "checkpoint of a byte-level LM (required)",
         CLI_ANY, NULL, NULL, 0},
        {"prompt", CLI_STRING, &a->prompt, "TEXT", "text to continue", CLI_ANY, NULL, "a newline",
         0},
        {"prompts", CLI_STRING, &a->prompts, "FILE",
         "continue every line of FILE, one output line each", CLI_ANY, NULL, NULL, 0},
        {"batch", CLI_INT, &a->batch, NULL, "with --prompts: lines decoded together", 1, 256, NULL,
         NULL, 0},
        {"max-new", CLI_INT, &a->max_new, NULL, "bytes to generate", 0, 1e8, NULL, NULL, 0},
        {"temperature", CLI_FLOAT, &a->temperature, NULL, "softmax temperature (0: greedy)", 0, 1e4,
         NULL, NULL, 0},
        {"top-k", CLI_INT, &a->top_k, NULL, "sample among the K most likely bytes (0: all)", 0, 256,
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
        cli_error("--top-p: must be above 0 (1 keeps every byte)");
        return CLI_USAGE;
    }
    if (!cli_find(opts, "seed")->seen) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        a->seed = (uint64_t)ts.tv_sec * 1000003u ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid() << 32;
    }
    return CLI_OK;
}

static int print_byte(int stream, int token, void *user) {
    (void)stream, (void)user;
    putchar(token);
    fflush(stdout);
    return 0;
}

/* --prompts: one line per prompt, its continuation up to the first newline (not printed). */
static void print_line(int prompt, const int *ids, int n, void *user) {
    (void)prompt, (void)user;
    for (int t = 0; t < n; t++)
        if (ids[t] != '\n') putchar(ids[t]);
    putchar('\n');
    fflush(stdout);
}

/* The lines of path as prompts (an empty line: a newline), each at most max_len bytes: *ids
 * holds them all, prompts[i] and n[i] (malloc'd arrays of *count) point into it. */
static int read_lines(const char *path, int max_len, int **ids, int ***prompts, int **n,
                      int *count) {
    unsigned char *b;
    size_t size, lines = 0;
    attn_status s = attn_file_read(path, (void **)&b, &size);
    if (s != ATTN_OK) return cli_lib_error(s, "cannot read --prompts");
    for (size_t i = 0; i < size; i++)
        lines += b[i] == '\n' || i + 1 == size; /* a last line without "\n" counts */
    *ids = malloc((size + lines + 1) * sizeof **ids);
    *prompts = malloc((lines + 1) * sizeof **prompts);
    *n = malloc((lines + 1) * sizeof **n);
    int rc = lines ? CLI_OK : CLI_RUNTIME, k = 0;
    if (!lines) cli_error("--prompts '%s' is empty: it needs one prompt per line", path);
    if (rc == CLI_OK && (!*ids || !*prompts || !*n || lines > 1u << 30)) {
        cli_error("no room for the %zu lines of '%s'", lines, path);
        rc = CLI_RUNTIME;
    }
    int *out = *ids;
    for (size_t i = 0, begin = 0; rc == CLI_OK && i < size; i++) {
        if (b[i] != '\n' && i + 1 < size) continue;
        size_t end = b[i] == '\n' ? i : i + 1;
        if (end > begin && b[end - 1] == '\r') end--;
        if (end - begin > (size_t)max_len) {
            cli_error("--prompts '%s': line %d has %zu bytes, more than the model's context of %d",
                      path, k + 1, end - begin, max_len);
            rc = CLI_RUNTIME;
        }
        (*prompts)[k] = out, (*n)[k] = end > begin ? (int)(end - begin) : 1;
        for (size_t t = begin; t < end; t++)
            *out++ = b[t];
        if (end == begin) *out++ = '\n';
        k++, begin = i + 1;
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
    if ((s = attn_lm_load(a.model, &m)) != ATTN_OK)
        return cli_lib_error(s, "cannot load model '%s'", a.model);
    attn_lm_generate_params p = attn_lm_generate_default_params();
    p.max_new = a.max_new, p.batch = a.batch;
    p.sampler = (attn_sampler_params){
        .temperature = a.temperature, .top_k = a.top_k, .top_p = a.top_p, .seed = a.seed};
    int *ids = NULL, **prompts = NULL, *n = NULL, count = 0;
    if (a.prompts) {
        p.stop_id = '\n', p.on_done = print_line;
        rc = read_lines(a.prompts, attn_model_config(m)->max_len, &ids, &prompts, &n, &count);
    } else { /* one prompt, printed, then each byte as it comes */
        const char *text = a.prompt && a.prompt[0] ? a.prompt : "\n";
        size_t len = strlen(text);
        ids = malloc(len * sizeof *ids), prompts = malloc(sizeof *prompts), n = malloc(sizeof *n);
        if (!ids || !prompts || !n) cli_error("out of memory"), rc = CLI_RUNTIME;
        for (size_t i = 0; rc == CLI_OK && i < len; i++)
            ids[i] = (unsigned char)text[i];
        if (rc == CLI_OK) prompts[0] = ids, n[0] = (int)len, count = 1;
        if (a.prompt && a.prompt[0]) fputs(a.prompt, stdout);
        p.on_token = print_byte;
    }
    if (rc == CLI_OK && (s = attn_lm_generate(m, (const int *const *)prompts, n, count, &p)))
        rc = cli_lib_error(s, "generation failed");
    if (!a.prompts && (rc == CLI_OK || (a.prompt && a.prompt[0])))
        putchar('\n'); /* ends the echo */
    fflush(stdout);
    free(ids), free(prompts), free(n);
    attn_model_free(m);
    return rc;
}
