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
#include "classify_common.h"
#include "commands.h"

typedef struct {
    const char *model;
    int beam, n_best, batch, json, threads;
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

static int parse_args(int argc, char **argv, translate_args *a, const char ***files, int *n) {
    *a = (translate_args){.beam = 5, .n_best = 1, .batch = 16, .alpha = 1.0f};
    cli_opt opts[] = {
        cli_row("model", CLI_STRING, &a->model, "CKPT",
                "a model of attn train translate (required)", CLI_ANY, NULL, NULL),
        cli_row("beam", CLI_INT, &a->beam, "K", "hypotheses kept per sentence (1: greedy)", 1, 256,
                NULL, NULL),
        cli_row("n-best", CLI_INT, &a->n_best, "N", "translations printed per line (at most K)", 1,
                256, NULL, NULL),
        cli_row("alpha", CLI_FLOAT, &a->alpha, NULL, "length penalty: score = log p / length^alpha",
                0, 10, NULL, NULL),
        cli_row("batch", CLI_INT, &a->batch, NULL, "lines decoded together", 1, 4096, NULL, NULL),
        cli_row("json", CLI_FLAG, &a->json, NULL, "one JSON object per line", CLI_ANY, NULL, NULL),
        cli_row("threads", CLI_INT, &a->threads, NULL, "threads", 0, 4096, NULL,
                "$ATTN_NUM_THREADS, else all cores"),
        CLI_END,
    };
    *files = malloc(((size_t)argc + 1) * sizeof **files);
    if (!*files) return CLI_RUNTIME;
    int rc = cli_parse(argc, argv, opts, &translate_help, "translate", *files, argc, n);
    if (rc != CLI_OK) return rc;
    if (!a->model) {
        cli_error("translate: --model CKPT is required (try attn translate --help)");
        return CLI_USAGE;
    }
    if (a->n_best > a->beam) {
        cli_error("--n-best %d is more than --beam %d", a->n_best, a->beam);
        return CLI_USAGE;
    }
    return CLI_OK;
}

static void print_line(const translate_args *a, const char *src, char **outs, const float *sc) {
    if (a->json) {
        printf("{\"source\": ");
        cls_json_string(stdout, src);
        printf(", \"translations\": [");
        for (int j = 0; j < a->n_best; j++) {
            printf("%s{\"text\": ", j ? ", " : "");
            cls_json_string(stdout, outs[j]);
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
    translate_args a;
    const char **files = NULL;
    int n_files = 0, rc = parse_args(argc, argv, &a, &files, &n_files);
    if (rc) {
        free(files);
        return rc == CLI_HELP ? CLI_OK : rc;
    }
    attn_status s = attn_set_num_threads(a.threads);
    attn_translator *t = NULL;
    if (s != ATTN_OK)
        rc = cli_lib_error(s, "--threads %d", a.threads);
    else if ((s = attn_translator_load(a.model, &t)) != ATTN_OK)
        rc = cli_lib_error(s, "cannot load model '%s'", a.model);
    long n_cut = 0;
    for (int i = 0; rc == CLI_OK && i < (n_files ? n_files : 1); i++) {
        FILE *f = n_files ? fopen(files[i], "r") : stdin;
        if (!f) {
            cli_error("cannot open '%s'", files[i]);
            rc = CLI_RUNTIME;
            break;
        }
        rc = translate_stream(&a, t, f, &n_cut);
        if (f != stdin) fclose(f);
    }
    if (n_cut)
        fprintf(stderr, "note: %ld line(s) longer than the model's context were cut\n", n_cut);
    attn_translator_free(t);
    free(files);
    return rc;
}
