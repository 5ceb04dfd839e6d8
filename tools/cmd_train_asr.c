/* tools/cmd_train_asr.c: `attn train asr`: a CTC speech recognizer on "path<TAB>transcript"
 * files (attn_asr_train, attn/asr.h): the options, Ctrl-C and what is printed. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn/attn.h"

#include "args.h"
#include "commands.h"
#include "progress.h"
#include "train_opts.h"

typedef struct {
    const char *train, *dev, *out;
    int resume, quiet, no_specaugment, global_cmvn;
    attn_asr_params p;
} train_args;

static const cli_help train_help = {
    "attn train asr --train FILE --dev FILE --out CKPT [options]",
    "Trains a speech recognizer: 80 log-mel bands (Kaldi's fbank) normalised per utterance\n"
    "(or by the training set's statistics), two 3x3 stride-2 convolutions (4x fewer positions),\n"
    "a Transformer encoder with a CTC layer over the characters of the transcripts, and an\n"
    "attention decoder over the same characters trained jointly, (1 - L) CE + L CTC with L =\n"
    "--ctc-weight (--dec-layers 0: CTC alone); decoding then scores hypotheses by both.\n"
    "FILE holds lines \"path<TAB>transcript[<TAB>speaker]\" (paths relative to FILE's folder;\n"
    "data/make_speech.py writes them); audio is any format libsndfile reads, mixed to mono and\n"
    "resampled to 16 kHz. Batches hold up to --max-frames frames of utterances of similar\n"
    "length, masked by SpecAugment. After every epoch (and every --eval-every steps) the dev\n"
    "set is transcribed greedily; the model with the best dev WER is written to CKPT with its\n"
    "labels, front end and statistics (self-contained), and the run's state to CKPT less\n"
    ".safetensors + .resume.safetensors, which --resume continues\n"
    "exactly. Ctrl-C stops after the current step (exit status 130).\n",
    "  attn train asr --train data/corpora/speech/digits/train.tsv \\\n"
    "      --dev data/corpora/speech/digits/dev.tsv --out digits.safetensors --epochs 10\n",
};

static int parse_args(int argc, char **argv, train_args *a, cli_opt *opts) {
    *a = (train_args){.p = attn_asr_default_params()};
    attn_asr_params *p = &a->p;
    const cli_opt part0[] = {
        CLI_HEADING("Data and checkpoint"),
        CLI_OPT("train", CLI_STRING, &a->train, "training audio, path<TAB>transcript",
                .meta = "FILE", .required = 1),
        CLI_OPT("dev", CLI_STRING, &a->dev, "audio scored by WER (best model)", .meta = "FILE",
                .default_text = "none: keep the last step"),
        CLI_OPT("out", CLI_STRING, &a->out, "checkpoint to write", .meta = "CKPT", .required = 1),
        CLI_OPT("resume", CLI_FLAG, &a->resume,
                "continue the run saved in CKPT less .safetensors + "
                ".resume.safetensors (same data and options)"),
    };
    const cli_opt part1[] = {
        CLI_OPT("dec-layers", CLI_INT, &p->model.n_dec_layers,
                "layers of an attention decoder trained jointly with CTC (0: CTC alone)", .min = 0,
                .max = 1000),
        CLI_OPT("ctc-weight", CLI_FLOAT, &p->model.ctc_weight,
                "lambda of the joint loss (1 - lambda) CE + lambda CTC, and of decoding",
                .min = 0.01, .max = 0.99),
        CLI_OPT("conv-channels", CLI_INT, &p->model.conv_channels,
                "channels of the two subsampling convolutions", .min = 1, .max = 4096),
        CLI_OPT("max-len", CLI_INT, &p->model.max_len,
                "encoder positions (40 ms each); longer utterances are left out", .min = 2,
                .max = 1 << 16),
        CLI_HEADING("Front end"),
        CLI_OPT("mels", CLI_INT, &p->fbank.n_mels, "log-mel bands", .min = 2, .max = 1024),
        CLI_OPT("frame-shift", CLI_FLOAT, &p->fbank.frame_shift_ms,
                "milliseconds between frames (the encoder sees one position per 4)", .meta = "MS",
                .min = 1, .max = 100),
        CLI_OPT("mfcc", CLI_INT, &p->fbank.n_mfcc,
                "N cepstra of the log-mel bands (DCT-II) instead of the bands", .meta = "N",
                .min = 0, .max = 1024, .default_text = "0: the bands"),
        CLI_OPT("low-freq", CLI_FLOAT, &p->fbank.low_freq, "lower edge of the first band",
                .meta = "HZ", .min = 0, .max = 1e6),
        CLI_OPT("high-freq", CLI_FLOAT, &p->fbank.high_freq,
                "upper edge of the last band (<= 0: Nyquist minus this)", .meta = "HZ", .min = -1e6,
                .max = 1e6),
        CLI_OPT("speed-perturb", CLI_FLAG, &p->speed_perturb,
                "train on each utterance at speed 0.9, 1.0 or 1.1, drawn per epoch"),
        CLI_OPT("warp", CLI_FLOAT, &p->max_warp,
                "warp each training utterance's bands by a factor in [1 - A, 1 + A]", .meta = "A",
                .min = 0, .max = 0.49),
        CLI_OPT("tilt", CLI_FLOAT, &p->max_tilt,
                "add a random tilt and bump of up to G across the bands", .meta = "G", .min = 0,
                .max = 100),
        CLI_OPT("pad-ms", CLI_FLOAT, &p->pad_ms,
                "pad each training file with up to MS of quiet noise before (MS / 2 after)",
                .meta = "MS", .min = 0, .max = 1e5),
        CLI_OPT("cmvn-utterance", CLI_FLAG, &p->cmvn_utterance,
                "normalise each utterance by its own mean and variance (the default)"),
        CLI_OPT("global-cmvn", CLI_FLAG, &a->global_cmvn,
                "normalise by the training set's mean and variance instead"),
    };
    const cli_opt part2[] = {
        CLI_OPT("epochs", CLI_INT, &p->train.epochs, "passes over the training set", .min = 1,
                .max = 1 << 20),
        CLI_OPT("steps", CLI_LONG, &p->train.steps, "optimizer steps (instead of --epochs)",
                .min = 0, .max = 1e18, .default_text = "by epochs"),
        CLI_OPT("max-frames", CLI_LONG, &p->max_frames,
                "frames per micro-batch (utterances x longest)", .min = 1, .max = 1 << 26),
        CLI_OPT("accum", CLI_INT, &p->train.accum, "micro-batches per step", .min = 1,
                .max = 1 << 20),
        CLI_OPT("no-specaugment", CLI_FLAG, &a->no_specaugment, "train on the features unmasked"),
        CLI_OPT("freq-mask", CLI_INT, &p->spec.max_freq_width,
                "SpecAugment: each of its 2 frequency masks covers up to F bands", .meta = "F",
                .min = 0, .max = 1 << 20),
        CLI_OPT("time-mask", CLI_INT, &p->spec.max_time_width,
                "SpecAugment: each of its 2 time masks covers up to T frames", .meta = "T",
                .min = 0, .max = 1 << 20),
        CLI_OPT("time-mask-ratio", CLI_FLOAT, &p->spec.max_time_ratio,
                "SpecAugment: and at most P of the utterance", .meta = "P", .min = 0, .max = 1),
        CLI_OPT("ema", CLI_FLOAT, &p->train.ema_decay,
                "evaluate and keep a moving average of the weights, decay D (0: off)", .meta = "D",
                .min = 0, .max = 0.999999),
        CLI_HEADING("Reporting"),
        CLI_OPT("eval-every", CLI_LONG, &p->train.eval_every,
                "dev WER every N steps as well as after each epoch (0: epochs only)", .min = 0,
                .max = 1e18),
        CLI_OPT("dev-utterances", CLI_INT, &p->dev_utterances,
                "dev files transcribed for WER (0: all)", .min = 0, .max = 1 << 30),
        CLI_OPT("quiet", CLI_FLAG, &a->quiet, "no progress or dev lines on stderr"),
    };
    int n = 0;
    CLI_APPEND(opts, &n, part0);
    train_opts_model(&p->model, "encoder layers", opts, &n);
    CLI_APPEND(opts, &n, part1);
    train_opts_optim(&p->train, &p->adamw, &p->model, opts, &n);
    CLI_APPEND(opts, &n, part2);
    opts[n] = (cli_opt)CLI_END;
    int rc = cli_parse(argc, argv, opts, &train_help, 0, NULL);
    if (rc != CLI_OK) return rc;
    p->specaugment = !a->no_specaugment;
    if (a->global_cmvn) p->cmvn_utterance = 0;
    if (p->train.steps) p->train.epochs = 0;
    return train_opts_check(&p->model, &p->train, opts);
}

static void on_progress(const attn_train_progress *p, void *user) {
    progress *bar = user;
    if (p->event == ATTN_TRAIN_STEP) progress_step(bar, p);
    if (p->event == ATTN_TRAIN_EVAL)
        progress_message(bar, "step %ld  dev_wer %.2f%%  dev_cer %.2f%%%s", p->step, p->metrics[0],
                         p->metrics[1], p->is_best ? "  (best)" : "");
}

static int read_set(const char *path, attn_speech_set *out) {
    attn_status s = attn_speech_set_read(path, out);
    if (s != ATTN_OK) return cli_lib_error(s, "cannot read '%s'", path);
    if (out->n == 0) {
        cli_error("'%s' holds no utterances", path);
        return CLI_RUNTIME;
    }
    return CLI_OK;
}

int cmd_train_asr(int argc, char **argv) {
    train_args a;
    cli_opt opts[40 + TRAIN_OPTS_ROWS];
    int rc = parse_args(argc, argv, &a, opts);
    if (rc || (rc = train_opts_check_writable(a.out))) return rc;
    attn_speech_set train = {0}, dev = {0};
    rc = read_set(a.train, &train);
    if (rc == CLI_OK && a.dev) rc = read_set(a.dev, &dev);
    char version[64];
    snprintf(version, sizeof version, "attn %s train asr", attn_version());
    const attn_meta meta[] = {
        {"data", a.train}, {"dev", a.dev ? a.dev : ""}, {"created_by", version}};
    progress bar;
    progress_init(&bar, "labels", NULL, a.quiet);
    attn_asr_params p = a.p;
    char state[4096];
    train_opts_beside(a.out, ".resume.safetensors", state, sizeof state);
    p.state_path = state, p.resume = a.resume;
    p.train.save_path = a.out, p.train.meta = meta, p.train.n_meta = 3;
    p.train.progress = on_progress, p.train.abort = train_opts_interrupted, p.train.user = &bar;
    attn_recognizer *r = NULL;
    attn_asr_result res;
    attn_status s;
    if (rc == CLI_OK) {
        train_opts_catch_sigint(); /* Ctrl-C finishes the step; a second one kills */
        s = attn_asr_train(&train, a.dev ? &dev : NULL, &p, &r, &res);
        train_opts_release_sigint();
        progress_finish(&bar);
        if (s == ATTN_ERR_ABORTED) {
            cli_error("interrupted after step %ld; %s holds the model of step %ld",
                      res.train.steps_run, a.out, res.train.saved_step);
            rc = CLI_SIGINT;
        } else if (s != ATTN_OK) {
            rc = cli_lib_error(s, "training failed");
        }
    }
    if (rc == CLI_OK) {
        char took[32];
        progress_format_duration(res.train.seconds, took, sizeof took);
        printf("steps %ld  loss %.4f", res.train.steps_run, res.train.recent_loss);
        if (a.dev) printf("  dev_wer %.2f%% (step %ld)", res.best_wer, res.best_step);
        printf("  utterances %ld (%.2f h)  left out %ld  features %.1f s  time %s  saved %s\n",
               res.n_train, res.train_seconds / 3600, res.n_dropped, res.feature_seconds, took,
               a.out);
    }
    attn_recognizer_free(r);
    attn_speech_set_free(&train);
    attn_speech_set_free(&dev);
    return rc;
}
