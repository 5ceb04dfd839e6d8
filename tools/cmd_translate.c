/* tools/cmd_translate.c: `attn translate`: sentences in, translations out, one per line
 * (attn_translator_translate, attn/translator.h). Lines are read from the FILE arguments or
 * stdin and translated --batch at a time; each output line is flushed, so a pipe sees every
 * translation as soon as its batch is done (--batch 1: line by line). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn/attn.h"

#include "args.h"
#include "commands.h"

typedef struct {
    const char *model;
    int beam, n_best, batch, json;
    float alpha;
} translate_args;

static const cli_help translate_help = {
    "attn translate --model CKPT [--beam K] [--n-best N] [--json] [FILE...]",
    "Translates every line of the FILEs (or of stdin) with a model of `attn train translate`\n"
    "and prints one line per input line, in order: the best translation, or with --n-best N the\n"
    "N best separated by tabs; --json prints {\"source\": ..., \"translations\": [{\"text\": ...,\n"
    "\"score\": ...}, ...]} per line. Beam search keeps --beam hypotheses per sentence and scores\n"
    "them log p / length^alpha (--alpha); --beam 1 is greedy. An empty line gives an empty line;\n"
    "a line longer than the model's context is cut to it (a note on stderr says how many).\n"
    "--batch lines are decoded together; every output line is flushed.\n",
    "  echo \"In the beginning God created the heavens and the earth.\" | \\\n"
    "      attn translate --model mt.safetensors --beam 5\n",
};

static void print_line(const translate_args *a, const char *src, char **outs, const float *sc) {
    if (a->json) {
        printf("{\"source\": ");
        attn_json_write(stdout, src);
        printf(", \"translations\": [");
        for (int j = 0; j < a->n_best; j++) {
            printf("%s{\"text\": ", j ? ", " : "");
            attn_json_write(stdout, outs[j]);
            printf(", \"score\": %.6f}", (double)sc[j]);
        }
        printf("]}\n");
    } else {
        for (int j = 0; j < a->n_best; j++)
            printf("%s%s", j ? "\t" : "", outs[j]);
        printf("\n");
    }
    fflush(stdout);
}

/* Translates lines[0..n) and prints them. */
static int flush_batch(const translate_args *a, attn_translator *t, char **lines, int n,
                       long *n_cut) {
    attn_beam_params b = attn_translator_beam_params(t);
    b.beam = a->beam, b.n_best = a->n_best, b.length_penalty = a->alpha, b.batch = a->batch;
    char **outs = calloc((size_t)n * a->n_best + 1, sizeof *outs);
    float *sc = malloc(((size_t)n * a->n_best + 1) * sizeof *sc);
    int cut = 0, rc = CLI_OK;
    attn_status s =
        outs && sc ? attn_translator_translate(t, (const char *const *)lines, n, &b, outs, sc, &cut)
                   : ATTN_ERR_NOMEM;
    if (s != ATTN_OK) rc = cli_lib_error(s, "translation failed");
    for (int i = 0; rc == CLI_OK && i < n; i++)
        print_line(a, lines[i], outs + (size_t)i * a->n_best, sc + (size_t)i * a->n_best);
    for (long i = 0; outs && i < (long)n * a->n_best; i++)
        free(outs[i]);
    free(outs), free(sc);
    *n_cut += cut;
    return rc;
}

/* Reads f line by line, translating every --batch lines. */
static int translate_stream(const translate_args *a, attn_translator *t, FILE *f, long *n_cut) {
    char **lines = calloc((size_t)a->batch, sizeof *lines), *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int n = 0, rc = lines ? CLI_OK : CLI_RUNTIME;
    while (rc == CLI_OK && (len = getline(&line, &cap, f)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (!(lines[n++] = strdup(line))) rc = CLI_RUNTIME;
        if (rc == CLI_OK && n == a->batch) {
            rc = flush_batch(a, t, lines, n, n_cut);
            for (int i = 0; i < n; i++)
                free(lines[i]);
            n = 0;
        }
    }
    if (rc == CLI_OK && ferror(f)) {
        cli_error("cannot read the input lines");
        rc = CLI_RUNTIME;
    }
    if (rc == CLI_OK && n) rc = flush_batch(a, t, lines, n, n_cut);
    for (int i = 0; lines && i < n; i++)
        free(lines[i]);
    free(lines), free(line);
    return rc;
}

int cmd_translate(int argc, char **argv) {
    translate_args a = {.beam = 5, .n_best = 1, .batch = 16, .alpha = 1.0f};
    cli_opt opts[] = {
        CLI_OPT("model", CLI_STRING, &a.model, "a model of attn train translate", .meta = "CKPT",
                .required = 1),
        CLI_OPT("beam", CLI_INT, &a.beam, "hypotheses kept per sentence (1: greedy)", .meta = "K",
                .min = 1, .max = 256),
        CLI_OPT("n-best", CLI_INT, &a.n_best, "translations printed per line (at most K)",
                .meta = "N", .min = 1, .max = 256),
        CLI_OPT("alpha", CLI_FLOAT, &a.alpha, "length penalty: score = log p / length^alpha",
                .min = 0, .max = 10),
        CLI_OPT("batch", CLI_INT, &a.batch, "lines decoded together", .min = 1, .max = 4096),
        CLI_OPT("json", CLI_FLAG, &a.json, "one JSON object per line"),
        CLI_END,
    };
    int n_files, rc = cli_parse(argc, argv, opts, &translate_help, argc, &n_files);
    if (rc == CLI_OK && a.n_best > a.beam) {
        cli_error("--n-best %d is more than --beam %d", a.n_best, a.beam);
        rc = CLI_USAGE;
    }
    attn_translator *t = NULL;
    attn_status s;
    if (rc == CLI_OK && (s = attn_translator_load(a.model, &t)) != ATTN_OK)
        rc = cli_lib_error(s, "cannot load model '%s'", a.model);
    long n_cut = 0;
    for (int i = 0; rc == CLI_OK && i < (n_files ? n_files : 1); i++) {
        FILE *f = n_files ? fopen(argv[i], "r") : stdin;
        if (!f) {
            cli_error("cannot open '%s'", argv[i]);
            rc = CLI_RUNTIME;
            break;
        }
        rc = translate_stream(&a, t, f, &n_cut);
        if (f != stdin) fclose(f);
    }
    if (n_cut)
        fprintf(stderr, "note: %ld line(s) longer than the model's context were cut\n", n_cut);
    attn_translator_free(t);
    return rc;
}
