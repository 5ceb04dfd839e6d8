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

/* The user: the options. One output line per input line. */
static int print_line(long line, const char *src, char *const *outs, const float *sc, void *user) {
    const translate_args *a = user;
    (void)line;
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
    return fflush(stdout) != 0;
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
        attn_beam_params b = attn_translator_beam_params(t);
        b.beam = a.beam, b.n_best = a.n_best, b.length_penalty = a.alpha, b.batch = a.batch;
        if ((s = attn_translator_translate_stream(t, f, &b, print_line, &a, &n_cut)) != ATTN_OK)
            rc = cli_lib_error(s, "translation failed");
        if (f != stdin) fclose(f);
    }
    if (n_cut)
        fprintf(stderr, "note: %ld line(s) longer than the model's context were cut\n", n_cut);
    attn_translator_free(t);
    return rc;
}
