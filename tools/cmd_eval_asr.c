/* tools/cmd_eval_asr.c: `attn eval asr`: WER and CER of a recognizer on transcribed audio
 * (attn_recognizer_evaluate), or of a file of hypotheses against one of references
 * (attn_corpus_wer / attn_corpus_cer). Options and printing only. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>

#include "attn/attn.h"

#include "args.h"
#include "commands.h"

typedef struct {
    const char *model, *data, *ref, *hyp, *hyp_out;
    int beam, json, threads;
    float ctc_weight;
} eval_args;

static const cli_help eval_help = {
    "attn eval asr --model CKPT --data FILE [--beam K] [--hyp-out FILE] [--json]\n"
    "       attn eval asr --ref REF --hyp HYP [--json]",
    "Word and character error rates, (S + D + I) / N over the whole corpus from a Levenshtein\n"
    "alignment of each sentence (words split at white space; characters with white space runs\n"
    "as one space, as jiwer counts them). With --model and --data, every file of FILE\n"
    "(path<TAB>transcript lines, as attn train asr reads them) is transcribed and scored against\n"
    "its transcript, and the real-time factor (seconds of compute per second of audio) is\n"
    "reported; --hyp-out keeps the transcripts, one per line. With --ref and --hyp, two files of\n"
    "one sentence per line are scored, line by line.\n"
    "Output: `WER w%  (S s, D d, I i, N n words)  CER c%  ...`, or a JSON object with --json.\n",
    "  attn eval asr --model digits.safetensors --data data/corpora/speech/digits/test.tsv\n"
    "  attn eval asr --ref refs.txt --hyp hyps.txt\n",
};

static void print_rate(const char *name, const attn_error_rate *r, int json) {
    if (json)
        printf("\"%s\": {\"rate\": %.6f, \"substitutions\": %ld, \"deletions\": %ld, "
               "\"insertions\": %ld, \"hits\": %ld, \"ref_len\": %ld}",
               name, 100 * r->rate, r->substitutions, r->deletions, r->insertions, r->hits,
               r->ref_len);
    else
        printf("%s %.2f%%  (S %ld, D %ld, I %ld, N %ld)", name, 100 * r->rate, r->substitutions,
               r->deletions, r->insertions, r->ref_len);
}

static int score_files(const eval_args *a, attn_error_rate *wer, attn_error_rate *cer) {
    attn_lines ref = {0}, hyp = {0};
    attn_status s = attn_lines_read(a->ref, &ref);
    if (s == ATTN_OK) s = attn_lines_read(a->hyp, &hyp);
    int rc = s == ATTN_OK ? CLI_OK : cli_lib_error(s, "cannot read");
    if (rc == CLI_OK && ref.n != hyp.n) {
        cli_error("'%s' has %ld lines but '%s' has %ld", a->ref, ref.n, a->hyp, hyp.n);
        rc = CLI_RUNTIME;
    }
    if (rc == CLI_OK && ref.n == 0) {
        cli_error("'%s' is empty: nothing to score", a->ref);
        rc = CLI_RUNTIME;
    }
    const char *const *h = (const char *const *)hyp.lines, *const *r = (const char *const *)ref.lines;
    if (rc == CLI_OK && (s = attn_corpus_wer(h, r, ref.n, wer)) == ATTN_OK)
        s = attn_corpus_cer(h, r, ref.n, cer);
    if (rc == CLI_OK && s != ATTN_OK) rc = cli_lib_error(s, "cannot score");
    attn_lines_free(&ref);
    attn_lines_free(&hyp);
    return rc;
}

static int score_model(const eval_args *a, attn_error_rate *wer, attn_error_rate *cer,
                       double *audio, double *took) {
    attn_recognizer *r = NULL;
    attn_speech_set set = {0};
    char **hyps = NULL;
    attn_status s = attn_recognizer_load(a->model, &r);
    int rc = s == ATTN_OK ? CLI_OK : cli_lib_error(s, "cannot load the model");
    if (rc == CLI_OK && a->ctc_weight > 0) attn_recognizer_set_ctc_weight(r, a->ctc_weight);
    if (rc == CLI_OK && (s = attn_speech_set_read(a->data, &set)) != ATTN_OK)
        rc = cli_lib_error(s, "cannot read '%s'", a->data);
    if (rc == CLI_OK && set.n == 0) {
        cli_error("'%s' holds no utterances", a->data);
        rc = CLI_RUNTIME;
    }
    if (rc == CLI_OK && !(hyps = calloc((size_t)set.n, sizeof *hyps))) rc = CLI_RUNTIME;
    if (rc == CLI_OK &&
        (s = attn_recognizer_evaluate(r, &set, a->beam, hyps, wer, cer, audio, took)) != ATTN_OK)
        rc = cli_lib_error(s, "evaluation failed");
    FILE *f = rc == CLI_OK && a->hyp_out ? fopen(a->hyp_out, "w") : NULL;
    if (rc == CLI_OK && a->hyp_out && !f) {
        cli_error("cannot write '%s'", a->hyp_out);
        rc = CLI_RUNTIME;
    }
    for (long i = 0; f && i < set.n; i++)
        fprintf(f, "%s\n", hyps[i]);
    if (f && fclose(f) != 0) {
        cli_error("cannot write '%s'", a->hyp_out);
        rc = CLI_RUNTIME;
    }
    for (long i = 0; hyps && i < set.n; i++)
        free(hyps[i]);
    free(hyps);
    attn_speech_set_free(&set);
    attn_recognizer_free(r);
    return rc;
}

int cmd_eval_asr(int argc, char **argv) {
    eval_args a = {.beam = 1};
    cli_opt opts[] = {
        cli_row("model", CLI_STRING, &a.model, "CKPT", "a model of attn train asr", CLI_ANY, NULL,
                NULL),
        cli_row("data", CLI_STRING, &a.data, "FILE", "path<TAB>transcript lines to transcribe",
                CLI_ANY, NULL, NULL),
        cli_row("beam", CLI_INT, &a.beam, "K", "prefix beam width (1: greedy)", 1, 1024, NULL,
                NULL),
        cli_row("ctc-weight", CLI_FLOAT, &a.ctc_weight, "L",
                "a joint model's beam: L CTC + (1 - L) attention", 0, 1, NULL, "the training's"),
        cli_row("hyp-out", CLI_STRING, &a.hyp_out, "FILE", "write the transcripts there", CLI_ANY,
                NULL, NULL),
        cli_row("ref", CLI_STRING, &a.ref, "REF", "reference sentences, one per line", CLI_ANY,
                NULL, NULL),
        cli_row("hyp", CLI_STRING, &a.hyp, "HYP", "hypotheses, one per line", CLI_ANY, NULL, NULL),
        cli_row("json", CLI_FLAG, &a.json, NULL, "one JSON object", CLI_ANY, NULL, NULL),
        cli_row("threads", CLI_INT, &a.threads, NULL, "threads", 0, 4096, NULL,
                "$ATTN_NUM_THREADS, else all cores"),
        CLI_END,
    };
    int n = 0, rc = cli_parse(argc, argv, opts, &eval_help, "eval asr", NULL, 0, &n);
    if (rc != CLI_OK) return rc == CLI_HELP ? CLI_OK : rc;
    int by_model = a.model || a.data, by_files = a.ref || a.hyp;
    if (by_model == by_files || (by_model && (!a.model || !a.data)) ||
        (by_files && (!a.ref || !a.hyp))) {
        cli_error("eval asr: give --model CKPT --data FILE, or --ref REF --hyp HYP (try attn eval "
                  "asr --help)");
        return CLI_USAGE;
    }
    attn_status s = attn_set_num_threads(a.threads);
    if (s != ATTN_OK) return cli_lib_error(s, "--threads %d", a.threads);
    attn_error_rate wer, cer;
    double audio = 0, took = 0;
    rc = by_model ? score_model(&a, &wer, &cer, &audio, &took) : score_files(&a, &wer, &cer);
    if (rc != CLI_OK) return rc;
    printf(a.json ? "{" : "");
    print_rate(a.json ? "wer" : "WER", &wer, a.json);
    printf(a.json ? ", " : "  ");
    print_rate(a.json ? "cer" : "CER", &cer, a.json);
    if (by_model && a.json)
        printf(", \"sentences\": %ld, \"audio_seconds\": %.2f, \"seconds\": %.2f, \"rtf\": %.4f",
               wer.n_sentences, audio, took, audio > 0 ? took / audio : 0);
    else if (by_model)
        printf("  sentences %ld  audio %.1f s  RTF %.4f", wer.n_sentences, audio,
               audio > 0 ? took / audio : 0);
    printf(a.json ? "}\n" : "\n");
    return CLI_OK;
}
