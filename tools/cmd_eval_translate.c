/* tools/cmd_eval_translate.c: `attn eval translate`: corpus BLEU and chrF of a file of
 * translations against one or more reference files (attn_bleu_add / attn_chrf_add, one line one
 * sentence). Options and printing only; the metrics and the line reader are the library's.
 *
 * The sentences to score come from one source today, a hypothesis FILE; translating --data with
 * a --model first is meant to be a second source of the same (hyps, refs) lines, so the options
 * are grouped by source and checked in check_args. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn/attn.h"

#include "args.h"
#include "commands.h"

typedef struct {
    cli_strings refs;                   /* --ref, once per reference set */
    const char *hyp;                    /* the positional FILE */
    const char *model, *data, *hyp_out; /* --model + --data: translate, then score */
    int json, reverse, beam;
    float alpha;
} translate_args;

static const cli_help translate_help = {
    "attn eval translate --ref REF [--ref REF...] HYP [--json]\n"
    "       attn eval translate --model CKPT --data FILE [--beam K] [--hyp-out FILE] [--json]",
    "Scores the translations in HYP against the references in REF, one sentence per line (UTF-8;\n"
    "an empty line is an empty sentence; every file must have as many lines as HYP; \"-\" reads\n"
    "HYP from standard input). Both metrics are computed over the whole corpus, as sacreBLEU 2.x\n"
    "computes them by default, so the numbers are `sacrebleu REF < HYP -m bleu chrf`'s:\n"
    "  BLEU: sacreBLEU's 13a tokenization, case-sensitive, clipped n-grams up to 4, 'exp'\n"
    "        smoothing, brevity penalty from the closest reference lengths;\n"
    "  chrF: character n-grams up to 6 without white space, beta 2 (plain chrF, not chrF++).\n"
    "--ref given several times gives several references per sentence (BLEU clips by the\n"
    "largest count in any of them; chrF keeps the best reference of each sentence).\n"
    "Output: one line `BLEU B  chrF C  (4-gram precisions p1/p2/p3/p4, BP bp, hyp H ref R\n"
    "tokens)`, or a JSON object with --json (all counts included).\n"
    "\n"
    "With --model and --data there is no HYP: the second column of FILE (ref<TAB>source<TAB>\n"
    "target, as attn train translate reads it; --reverse swaps them) is translated with the\n"
    "model (beam search, --beam, --alpha) and scored against the third; --hyp-out keeps the\n"
    "translations, one per line.\n",
    "  attn eval translate --ref newstest.de newstest.hyp.de\n"
    "  attn eval translate --ref ref1.txt --ref ref2.txt hyp.txt --json\n",
};

static int check_args(translate_args *a, int n_positional) {
    if (a->model || a->data) {
        if (!a->model || !a->data || a->refs.n || n_positional) {
            cli_error("eval translate: --model CKPT and --data FILE go together, without --ref "
                      "or HYP");
            return CLI_USAGE;
        }
        return CLI_OK;
    }
    if (a->refs.n == 0) {
        cli_error("eval translate: --ref FILE is required (try attn eval translate --help)");
        return CLI_USAGE;
    }
    if (n_positional != 1) {
        cli_error("eval translate: a file of translations HYP is required (try attn eval "
                  "translate --help)");
        return CLI_USAGE;
    }
    return CLI_OK;
}

static int parse_args(int argc, char **argv, translate_args *a) {
    *a = (translate_args){.beam = 5, .alpha = 1.0f};
    cli_opt opts[] = {
        CLI_HEADING("Sentences"),
        CLI_OPT("ref", CLI_STRINGS, &a->refs,
                "references, one sentence per line (repeat it for several per sentence)",
                .meta = "FILE"),
        CLI_HEADING("Translating first"),
        CLI_OPT("model", CLI_STRING, &a->model, "a model of attn train translate", .meta = "CKPT"),
        CLI_OPT("data", CLI_STRING, &a->data, "pairs, ref<TAB>source<TAB>target", .meta = "FILE"),
        CLI_OPT("reverse", CLI_FLAG, &a->reverse, "translate the third column into the second"),
        CLI_OPT("beam", CLI_INT, &a->beam, "hypotheses kept per sentence (1: greedy)", .meta = "K",
                .min = 1, .max = 256),
        CLI_OPT("alpha", CLI_FLOAT, &a->alpha, "length penalty: score = log p / length^alpha",
                .min = 0, .max = 10),
        CLI_OPT("hyp-out", CLI_STRING, &a->hyp_out, "write the translations here", .meta = "FILE"),
        CLI_HEADING("Reporting"),
        CLI_OPT("json", CLI_FLAG, &a->json, "print one JSON object"),
        CLI_END,
    };
    int n_positional, rc = cli_parse(argc, argv, opts, &translate_help, 1, &n_positional);
    if (rc == CLI_OK) rc = check_args(a, n_positional);
    a->hyp = rc == CLI_OK && n_positional ? argv[0] : NULL;
    return rc;
}

/* Reads HYP and every REF; each REF must have HYP's number of lines. */
static int read_files(const translate_args *a, attn_lines *hyp, attn_lines *refs) {
    attn_status s = attn_lines_read(a->hyp, hyp);
    if (s != ATTN_OK) return cli_lib_error(s, "cannot read the translations");
    if (hyp->n == 0) {
        cli_error("eval translate: '%s' has no lines: nothing to score", a->hyp);
        return CLI_RUNTIME;
    }
    for (int k = 0; k < a->refs.n; k++) {
        if ((s = attn_lines_read(a->refs.v[k], &refs[k])) != ATTN_OK)
            return cli_lib_error(s, "cannot read the references");
        if (refs[k].n != hyp->n) {
            cli_error("eval translate: '%s' has %ld lines but '%s' has %ld: one sentence per "
                      "line is needed in both",
                      a->hyp, hyp->n, a->refs.v[k], refs[k].n);
            return CLI_RUNTIME;
        }
    }
    return CLI_OK;
}

/* Scores hyp against refs[0..n_refs) and prints the line (or JSON object). */
static int score(const translate_args *a, const attn_lines *hyp, const attn_lines *refs,
                 int n_refs) {
    const char *const *r[CLI_MAX_REPEAT];
    for (int k = 0; k < n_refs; k++)
        r[k] = (const char *const *)refs[k].lines;
    attn_bleu bleu;
    attn_chrf chrf;
    char *text = NULL;
    attn_status s =
        attn_corpus_mt((const char *const *)hyp->lines, r, n_refs, hyp->n, &bleu, &chrf);
    if (s != ATTN_OK) return cli_lib_error(s, "%s", hyp->name);
    if ((s = attn_mt_scores_format(&bleu, &chrf, n_refs, a->json, &text)) != ATTN_OK)
        return cli_lib_error(s, "scoring");
    printf("%s\n", text);
    free(text);
    return CLI_OK;
}

/* --model + --data: the sources translated into hyp, the targets as the one reference. */
static int translate_data(const translate_args *a, attn_lines *hyp, attn_lines *ref,
                          attn_parallel *pairs) {
    attn_translator *t = NULL;
    attn_status s = attn_parallel_read(a->data, a->reverse ? 2 : 1, a->reverse ? 1 : 2, pairs);
    if (s != ATTN_OK) return cli_lib_error(s, "cannot read pairs");
    if ((s = attn_translator_load(a->model, &t)) != ATTN_OK)
        return cli_lib_error(s, "cannot load model '%s'", a->model);
    attn_beam_params b = attn_translator_beam_params(t);
    b.beam = a->beam, b.length_penalty = a->alpha;
    hyp->lines = calloc((size_t)pairs->n + 1, sizeof *hyp->lines);
    s = hyp->lines ? attn_translator_translate(t, (const char *const *)pairs->src, (int)pairs->n,
                                               &b, hyp->lines, NULL, NULL)
                   : ATTN_ERR_NOMEM;
    attn_translator_free(t);
    if (s != ATTN_OK) return cli_lib_error(s, "translation failed");
    hyp->n = pairs->n, hyp->name = (char *)"translations";
    *ref = (attn_lines){.n = pairs->n, .lines = pairs->tgt, .name = (char *)a->data};
    if (a->hyp_out && (s = attn_lines_write(a->hyp_out, hyp->lines, hyp->n)) != ATTN_OK)
        return cli_lib_error(s, "--hyp-out");
    return CLI_OK;
}

int cmd_eval_translate(int argc, char **argv) {
    translate_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc;
    attn_lines hyp = {0}, refs[CLI_MAX_REPEAT] = {{0}};
    if (a.model) {
        attn_parallel pairs = {0};
        rc = translate_data(&a, &hyp, refs, &pairs);
        if (rc == CLI_OK) rc = score(&a, &hyp, refs, 1);
        for (long i = 0; hyp.lines && i < pairs.n; i++)
            free(hyp.lines[i]);
        free(hyp.lines);
        attn_parallel_free(&pairs);
        return rc;
    }
    rc = read_files(&a, &hyp, refs);
    if (rc == CLI_OK) rc = score(&a, &hyp, refs, a.refs.n);
    attn_lines_free(&hyp);
    for (int k = 0; k < a.refs.n; k++)
        attn_lines_free(&refs[k]);
    return rc;
}
