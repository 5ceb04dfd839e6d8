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
    recognizer_opts r;
    const char *data, *ref, *hyp, *hyp_out;
    int json;
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
    const char *const *h = (const char *const *)hyp.lines, *const *r =
                                                               (const char *const *)ref.lines;
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
    attn_status s;
    int rc = recognizer_load(&a->r, &r);
    if (rc == CLI_OK && (s = attn_speech_set_read(a->data, &set)) != ATTN_OK)
        rc = cli_lib_error(s, "cannot read '%s'", a->data);
    if (rc == CLI_OK && set.n == 0) {
        cli_error("'%s' holds no utterances", a->data);
        rc = CLI_RUNTIME;
    }
    if (rc == CLI_OK && !(hyps = calloc((size_t)set.n, sizeof *hyps))) rc = CLI_RUNTIME;
    if (rc == CLI_OK &&
        (s = attn_recognizer_evaluate(r, &set, a->r.beam, hyps, wer, cer, audio, took)) != ATTN_OK)
        rc = cli_lib_error(s, "evaluation failed");
    if (rc == CLI_OK && a->hyp_out && (s = attn_lines_write(a->hyp_out, hyps, set.n)) != ATTN_OK)
        rc = cli_lib_error(s, "--hyp-out");
    for (long i = 0; hyps && i < set.n; i++)
        free(hyps[i]);
    free(hyps);
    attn_speech_set_free(&set);
    attn_recognizer_free(r);
    return rc;
}

int cmd_eval_asr(int argc, char **argv) {
    eval_args a = {.r.beam = 1};
    const cli_opt rows[] = {
        CLI_OPT("data", CLI_STRING, &a.data, "path<TAB>transcript lines to transcribe",
                .meta = "FILE"),
        CLI_OPT("hyp-out", CLI_STRING, &a.hyp_out, "write the transcripts there", .meta = "FILE"),
        CLI_OPT("ref", CLI_STRING, &a.ref, "reference sentences, one per line", .meta = "REF"),
        CLI_OPT("hyp", CLI_STRING, &a.hyp, "hypotheses, one per line", .meta = "HYP"),
        CLI_OPT("json", CLI_FLAG, &a.json, "one JSON object"),
    };
    cli_opt opts[12];
    int n = 0;
    recognizer_rows(&a.r, 0, opts, &n);
    CLI_APPEND(opts, &n, rows);
    opts[n] = (cli_opt)CLI_END;
    int rc = cli_parse(argc, argv, opts, &eval_help, 0, NULL);
    if (rc != CLI_OK) return rc;
    int by_model = a.r.model || a.data, by_files = a.ref || a.hyp;
    if (by_model == by_files || (by_model && (!a.r.model || !a.data)) ||
        (by_files && (!a.ref || !a.hyp))) {
        cli_error("eval asr: give --model CKPT --data FILE, or --ref REF --hyp HYP (try attn eval "
                  "asr --help)");
        return CLI_USAGE;
    }
    attn_error_rate wer, cer;
    double audio = 0, took = 0;
    rc = by_model ? score_model(&a, &wer, &cer, &audio, &took) : score_files(&a, &wer, &cer);
    char *text = NULL;
    attn_status s;
    if (rc == CLI_OK && (s = attn_error_rates_format(&wer, &cer, audio, took, a.json, &text)))
        rc = cli_lib_error(s, "cannot format the rates");
    if (rc == CLI_OK) printf("%s\n", text);
    free(text);
    return rc;
}
