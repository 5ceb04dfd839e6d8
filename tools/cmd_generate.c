/* tools/cmd_generate.c: `attn generate`: sample bytes from a language model, KV-cached.
 *
 * The prompt is fed once; each new byte is printed as soon as it is sampled. When the model's
 * context (max_len) is full, the last half of the text is fed again as a fresh prompt and sampling
 * goes on, so --max-new is not limited by the context length. With --prompts FILE, every line of
 * FILE is continued instead, --batch lines decoded together (tools/generate_prompts.c). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attn/attn.h"

#include "args.h"
#include "commands.h"
#include "generate_prompts.h"

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

static int print_byte(int token, void *user) {
    (void)user;
    putchar(token);
    fflush(stdout);
    return 0;
}

/* Generates a->max_new bytes after text[0..n) (capacity n + max_new), sliding the window when the
 * context fills up. */
static int generate(const generate_args *a, const attn_model *m, attn_sampler *sampler, int *text,
                    int n) {
    int max_len = attn_model_config(m)->max_len;
    int remaining = a->max_new;
    while (remaining > 0) {
        int start = 0, n_ctx = n;
        if (max_len - n_ctx < 1) { /* no room: keep the last half of the context */
            n_ctx = max_len / 2 > 0 ? max_len / 2 : 1;
            start = n - n_ctx;
        }
        int room = max_len - n_ctx > 1 ? max_len - n_ctx : 1; /* max_len 1: a token at a time */
        int want = remaining < room ? remaining : room;
        int got = 0;
        attn_status s = attn_generate(m, text + start, n_ctx, want, sampler, -1, print_byte, NULL,
                                      text + n, &got);
        if (s != ATTN_OK) {
            putchar('\n');
            fflush(stdout);
            return cli_lib_error(s, "generation failed");
        }
        if (got <= 0) break;
        n += got;
        remaining -= got;
    }
    putchar('\n');
    fflush(stdout);
    return CLI_OK;
}

int cmd_generate(int argc, char **argv) {
    generate_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc == CLI_HELP ? CLI_OK : rc;
    attn_status s = attn_set_num_threads(a.threads);
    if (s != ATTN_OK) return cli_lib_error(s, "--threads %d", a.threads);
    attn_model *m;
    attn_status ls = attn_lm_load(a.model, &m);
    if (ls != ATTN_OK) return cli_lib_error(ls, "cannot load model '%s'", a.model);
    if (a.prompts) {
        attn_sampler_params sp = {
            .temperature = a.temperature, .top_k = a.top_k, .top_p = a.top_p, .seed = a.seed};
        prompt_lines lines;
        rc = prompt_lines_read(a.prompts, attn_model_config(m)->max_len, &lines);
        if (rc == CLI_OK) rc = generate_prompts(m, &lines, a.batch, a.max_new, sp);
        prompt_lines_free(&lines);
        attn_model_free(m);
        return rc;
    }

    const char *prompt = a.prompt && a.prompt[0] ? a.prompt : "\n";
    size_t n_prompt = strlen(prompt);
    int *text = malloc((n_prompt + (size_t)a.max_new) * sizeof(int));
    attn_sampler_params sp = {
        .temperature = a.temperature, .top_k = a.top_k, .top_p = a.top_p, .seed = a.seed};
    attn_sampler *sampler = NULL;
    if (!text) {
        cli_error("out of memory for %zu bytes of text", n_prompt + (size_t)a.max_new);
        rc = CLI_RUNTIME;
    } else if ((s = attn_sampler_create(256, sp, &sampler)) != ATTN_OK) {
        rc = cli_lib_error(s, "invalid sampling settings");
    } else {
        for (size_t i = 0; i < n_prompt; i++)
            text[i] = (unsigned char)prompt[i];
        if (a.prompt && a.prompt[0]) fputs(a.prompt, stdout);
        rc = generate(&a, m, sampler, text, (int)n_prompt);
    }
    attn_sampler_free(sampler);
    free(text);
    attn_model_free(m);
    return rc;
}
