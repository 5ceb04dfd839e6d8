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
    memset(a, 0, sizeof *a);
    cli_opt opts[16];
    a->beam = 5, a->alpha = 1.0f;
    int n = 0;
    opts[n++] = cli_section("Sentences");
    opts[n++] = cli_row("ref", CLI_STRINGS, &a->refs, "FILE",
                        "references, one sentence per line (required; repeat it for several "
                        "per sentence)",
                        CLI_ANY, NULL, NULL);
    opts[n++] = cli_section("Translating first");
    opts[n++] = cli_row("model", CLI_STRING, &a->model, "CKPT", "a model of attn train translate",
                        CLI_ANY, NULL, NULL);
    opts[n++] = cli_row("data", CLI_STRING, &a->data, "FILE", "pairs, ref<TAB>source<TAB>target",
                        CLI_ANY, NULL, NULL);
    opts[n++] = cli_row("reverse", CLI_FLAG, &a->reverse, NULL,
                        "translate the third column into the second", CLI_ANY, NULL, NULL);
    opts[n++] = cli_row("beam", CLI_INT, &a->beam, "K", "hypotheses kept per sentence (1: greedy)",
                        1, 256, NULL, NULL);
    opts[n++] = cli_row("alpha", CLI_FLOAT, &a->alpha, NULL,
                        "length penalty: score = log p / length^alpha", 0, 10, NULL, NULL);
    opts[n++] = cli_row("hyp-out", CLI_STRING, &a->hyp_out, "FILE", "write the translations here",
                        CLI_ANY, NULL, NULL);
    opts[n++] = cli_section("Reporting");
    opts[n++] =
        cli_row("json", CLI_FLAG, &a->json, NULL, "print one JSON object", CLI_ANY, NULL, NULL);
    opts[n++] = (cli_opt)CLI_END;
    const char *positional[1];
    int n_positional;
    int rc = cli_parse(argc, argv, opts, &translate_help, "eval translate", positional, 1,
                       &n_positional);
    if (rc != CLI_OK) return rc;
    if ((rc = check_args(a, n_positional)) != CLI_OK) return rc;
    a->hyp = n_positional ? positional[0] : NULL;
    return CLI_OK;
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

/* Sums both metrics over the sentences and computes the scores. */
static int score(const attn_lines *hyp, const attn_lines *refs, int n_refs, attn_bleu *bleu,
                 attn_chrf *chrf) {
    const char *line_refs[CLI_MAX_REPEAT];
    *bleu = (attn_bleu){0};
    *chrf = (attn_chrf){0};
    for (long i = 0; i < hyp->n; i++) {
        for (int k = 0; k < n_refs; k++)
            line_refs[k] = refs[k].lines[i];
        attn_status s = attn_bleu_add(bleu, hyp->lines[i], line_refs, n_refs);
        if (s == ATTN_OK) s = attn_chrf_add(chrf, hyp->lines[i], line_refs, n_refs);
        if (s != ATTN_OK) return cli_lib_error(s, "%s:%ld", hyp->name, i + 1);
    }
    attn_status s = attn_bleu_score(bleu);
    if (s == ATTN_OK) s = attn_chrf_score(chrf);
    return s == ATTN_OK ? CLI_OK : cli_lib_error(s, "scoring");
}

static void print_longs(const char *key, const long *v, int n) {
    printf("\"%s\": [", key);
    for (int i = 0; i < n; i++)
        printf("%s%ld", i ? ", " : "", v[i]);
    printf("]");
}

static void print_scores(const translate_args *a, const attn_bleu *b, const attn_chrf *c) {
    if (!a->json) {
        printf("BLEU %.2f  chrF %.2f  (4-gram precisions %.1f/%.1f/%.1f/%.1f, BP %.3f, hyp %ld ref "
               "%ld tokens)\n",
               b->score, c->score, b->precisions[0], b->precisions[1], b->precisions[2],
               b->precisions[3], b->bp, b->sys_len, b->ref_len);
        return;
    }
    printf("{\"sentences\": %ld, \"references\": %d, \"bleu\": {\"score\": %.17g, ", b->n_sentences,
           a->model ? 1 : a->refs.n, b->score);
    print_longs("counts", b->counts, ATTN_BLEU_ORDER);
    printf(", ");
    print_longs("totals", b->totals, ATTN_BLEU_ORDER);
    printf(", \"precisions\": [");
    for (int k = 0; k < ATTN_BLEU_ORDER; k++)
        printf("%s%.17g", k ? ", " : "", b->precisions[k]);
    printf("], \"bp\": %.17g, \"hyp_len\": %ld, \"ref_len\": %ld, \"tokenize\": \"13a\", "
           "\"smooth\": \"exp\"}, ",
           b->bp, b->sys_len, b->ref_len);
    printf("\"chrf\": {\"score\": %.17g, \"precision\": %.17g, \"recall\": %.17g, \"beta\": 2, "
           "\"char_order\": %d, \"effective_order\": %d, ",
           c->score, c->precision, c->recall, ATTN_CHRF_ORDER, c->effective_order);
    print_longs("hyp", c->hyp, ATTN_CHRF_ORDER);
    printf(", ");
    print_longs("ref", c->ref, ATTN_CHRF_ORDER);
    printf(", ");
    print_longs("match", c->match, ATTN_CHRF_ORDER);
    printf("}}\n");
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
    int rc = hyp->lines ? CLI_OK : CLI_RUNTIME;
    if (rc == CLI_OK &&
        (s = attn_translator_translate(t, (const char *const *)pairs->src, (int)pairs->n, &b,
                                       hyp->lines, NULL, NULL)) != ATTN_OK)
        rc = cli_lib_error(s, "translation failed");
    attn_translator_free(t);
    hyp->n = rc == CLI_OK ? pairs->n : 0, hyp->name = (char *)"translations";
    *ref = (attn_lines){.n = pairs->n, .lines = pairs->tgt, .name = (char *)a->data};
    FILE *f = rc == CLI_OK && a->hyp_out ? fopen(a->hyp_out, "w") : NULL;
    if (rc == CLI_OK && a->hyp_out && !f) cli_error("cannot write '%s'", a->hyp_out), rc = 1;
    for (long i = 0; f && i < hyp->n; i++)
        fprintf(f, "%s\n", hyp->lines[i]);
    if (f && fclose(f) != 0) cli_error("cannot write '%s'", a->hyp_out), rc = 1;
    return rc;
}

int cmd_eval_translate(int argc, char **argv) {
    translate_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc == CLI_HELP ? CLI_OK : rc;
    attn_lines hyp = {0}, refs[CLI_MAX_REPEAT];
    memset(refs, 0, sizeof refs);
    attn_bleu bleu;
    attn_chrf chrf;
    if (a.model) {
        attn_parallel pairs = {0};
        rc = translate_data(&a, &hyp, refs, &pairs);
        if (rc == CLI_OK) rc = score(&hyp, refs, 1, &bleu, &chrf);
        if (rc == CLI_OK) print_scores(&a, &bleu, &chrf);
        for (long i = 0; hyp.lines && i < pairs.n; i++)
            free(hyp.lines[i]);
        free(hyp.lines);
        attn_parallel_free(&pairs);
        return rc;
    }
    rc = read_files(&a, &hyp, refs);
    if (rc == CLI_OK) rc = score(&hyp, refs, a.refs.n, &bleu, &chrf);
    if (rc == CLI_OK) print_scores(&a, &bleu, &chrf);
    attn_lines_free(&hyp);
    for (int k = 0; k < a.refs.n; k++)
        attn_lines_free(&refs[k]);
    return rc;
}
