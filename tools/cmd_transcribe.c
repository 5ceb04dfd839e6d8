/* tools/cmd_transcribe.c: `attn transcribe`: audio files in, one transcript per file out
 * (attn_recognizer_transcribe_file, attn/asr.h). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>

#include "attn/attn.h"

#include "args.h"
#include "commands.h"

static const cli_help transcribe_help = {
    "attn transcribe --model CKPT [--beam K] [--json] FILE...",
    "Prints one line per audio FILE (any format libsndfile reads, any rate, mono or not): its\n"
    "transcript by a model of `attn train asr`. A CTC model decodes greedily, or with --beam K by\n"
    "a prefix beam search; a joint CTC / attention model by a beam search of K hypotheses scored\n"
    "by the decoder and by CTC prefix probabilities. Digital silence prints an empty line. Audio\n"
    "longer than the model's context is cut into windows of that length, transcribed one after\n"
    "the other. --json prints {\"file\", \"text\", \"audio_seconds\", \"seconds\", \"rtf\"\n"
    "(seconds / audio_seconds), \"windows\", \"words\": [{\"word\", \"start\", \"end\"}]} per\n"
    "file; word times (seconds) come from a CTC model's best path, greedy only.\n"
    "A file that cannot be read is an error on stderr and exit status 1 after the others.\n",
    "  attn transcribe --model digits.safetensors data/samples/speech/digits/wav/test/*.wav\n",
};

void recognizer_rows(recognizer_opts *o, int required, cli_opt *t, int *n) {
    const cli_opt rows[] = {
        CLI_OPT("model", CLI_STRING, &o->model, "a model of attn train asr", .meta = "CKPT",
                .required = required),
        CLI_OPT("beam", CLI_INT, &o->beam, "prefix beam width (1: greedy)", .meta = "K", .min = 1,
                .max = 1024),
        CLI_OPT("lexicon", CLI_STRING, &o->lexicon,
                "beam search over these words only (a word list, or path<TAB>transcript lines)",
                .meta = "FILE"),
        CLI_OPT("ctc-weight", CLI_FLOAT, &o->ctc_weight,
                "a joint model's beam: L CTC + (1 - L) attention", .meta = "L", .min = 0, .max = 1,
                .default_text = "the training's"),
    };
    CLI_APPEND(t, n, rows);
}

int recognizer_load(const recognizer_opts *o, attn_recognizer **r) {
    attn_status s = attn_recognizer_load(o->model, r);
    if (s != ATTN_OK) return cli_lib_error(s, "cannot load the model");
    if (o->ctc_weight > 0) attn_recognizer_set_ctc_weight(*r, o->ctc_weight);
    if (o->lexicon && (s = attn_recognizer_load_lexicon(*r, o->lexicon)) != ATTN_OK)
        return cli_lib_error(s, "--lexicon");
    return CLI_OK;
}

int cmd_transcribe(int argc, char **argv) {
    recognizer_opts a = {.beam = 1};
    int json = 0, n_opts = 0;
    cli_opt opts[6];
    recognizer_rows(&a, 1, opts, &n_opts);
    opts[n_opts++] = (cli_opt)CLI_OPT("json", CLI_FLAG, &json, "one JSON object per file");
    opts[n_opts] = (cli_opt)CLI_END;
    int n = 0, rc = cli_parse(argc, argv, opts, &transcribe_help, argc, &n);
    if (rc == CLI_OK && n == 0) {
        cli_error("transcribe: at least one FILE is needed (try attn transcribe --help)");
        rc = CLI_USAGE;
    }
    attn_recognizer *r = NULL;
    if (rc || (rc = recognizer_load(&a, &r))) return attn_recognizer_free(r), rc;
    char **files = argv;
    attn_status s;
    int failed = 0;
    for (int i = 0; rc == CLI_OK && i < n; i++) {
        attn_transcript t;
        s = attn_recognizer_transcribe_file(r, files[i], a.beam, &t);
        if (s != ATTN_OK) {
            cli_lib_error(s, "cannot transcribe");
            failed = 1;
            continue;
        }
        char *out = NULL;
        if (json && (s = attn_transcript_format_json(&t, files[i], &out)) != ATTN_OK)
            rc = cli_lib_error(s, "%s", files[i]);
        else
            printf("%s\n", json ? out : t.text);
        free(out);
        fflush(stdout);
        attn_transcript_free(&t);
    }
    attn_recognizer_free(r);
    return rc != CLI_OK ? rc : failed ? CLI_RUNTIME : CLI_OK;
}
