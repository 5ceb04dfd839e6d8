/* tools/cmd_transcribe.c: `attn transcribe`: audio files in, one transcript per file out
 * (attn_recognizer_transcribe_file, attn/asr.h). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>

#include "attn/attn.h"

#include "args.h"
#include "commands.h"

typedef struct {
    const char *model;
    int beam, json;
    float ctc_weight;
    const char *lexicon;
} transcribe_args;

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

int cmd_transcribe(int argc, char **argv) {
    transcribe_args a = {.beam = 1};
    cli_opt opts[] = {
        CLI_OPT("model", CLI_STRING, &a.model, "a model of attn train asr", .meta = "CKPT",
                .required = 1),
        CLI_OPT("beam", CLI_INT, &a.beam, "prefix beam width (1: greedy)", .meta = "K", .min = 1,
                .max = 1024),
        CLI_OPT("lexicon", CLI_STRING, &a.lexicon,
                "beam search over these words only (a word list, or path<TAB>transcript lines)",
                .meta = "FILE"),
        CLI_OPT("ctc-weight", CLI_FLOAT, &a.ctc_weight,
                "a joint model's beam: L CTC + (1 - L) attention", .meta = "L", .min = 0, .max = 1,
                .default_text = "the training's"),
        CLI_OPT("json", CLI_FLAG, &a.json, "one JSON object per file"),
        CLI_END,
    };
    int n = 0, rc = cli_parse(argc, argv, opts, &transcribe_help, argc, &n);
    if (rc == CLI_OK && n == 0) {
        cli_error("transcribe: at least one FILE is needed (try attn transcribe --help)");
        rc = CLI_USAGE;
    }
    if (rc) return rc;
    char **files = argv;
    attn_status s;
    attn_recognizer *r = NULL;
    if (rc == CLI_OK && (s = attn_recognizer_load(a.model, &r)) != ATTN_OK)
        rc = cli_lib_error(s, "cannot load the model");
    if (rc == CLI_OK && a.ctc_weight > 0) attn_recognizer_set_ctc_weight(r, a.ctc_weight);
    if (rc == CLI_OK && a.lexicon && (s = attn_recognizer_load_lexicon(r, a.lexicon)) != ATTN_OK)
        rc = cli_lib_error(s, "--lexicon");
    int failed = 0;
    for (int i = 0; rc == CLI_OK && i < n; i++) {
        attn_transcript t;
        s = attn_recognizer_transcribe_file(r, files[i], a.beam, &t);
        if (s != ATTN_OK) {
            cli_lib_error(s, "cannot transcribe");
            failed = 1;
            continue;
        }
        char *json = NULL;
        if (a.json && (s = attn_transcript_format_json(&t, files[i], &json)) != ATTN_OK)
            rc = cli_lib_error(s, "%s", files[i]);
        else
            printf("%s\n", a.json ? json : t.text);
        free(json);
        fflush(stdout);
        attn_transcript_free(&t);
    }
    attn_recognizer_free(r);
    return rc != CLI_OK ? rc : failed ? CLI_RUNTIME : CLI_OK;
}
