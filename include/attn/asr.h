/* attn/asr.h: speech recognition as library calls: train a CTC model (convolutional
 * subsampling + Transformer encoder + CTC) on transcribed audio, load it, transcribe files,
 * measure WER and CER.
 *
 * A recognizer is a bundle: a ctc model (attn/config.h: ATTN_ARCH_CTC, a feature-input encoder
 * behind two 3x3 stride-2 convolutions), its output labels (label 0 the CTC blank, the others one
 * character each), the front end's settings (attn_fbank_params) and the global mean / variance
 * statistics of the training features. Its checkpoint holds them as metadata: "task" = "asr",
 * "labels" (a JSON array of strings, "" first), "frontend" (the fbank parameters as JSON) and
 * "cmvn" (count, sum and sum of squares per dimension), so it is self-contained.
 *
 *     attn_speech_set train, dev;
 *     attn_speech_set_read("train.tsv", &train);  attn_speech_set_read("dev.tsv", &dev);
 *     attn_asr_params p = attn_asr_default_params();
 *     p.train.save_path = "asr.safetensors";
 *     attn_recognizer *r;
 *     attn_asr_train(&train, &dev, &p, &r, NULL);
 *     attn_transcript t;
 *     attn_recognizer_transcribe_file(r, "hello.wav", 1, &t);   // t.text: "hello"
 *     attn_transcript_free(&t);
 */
#ifndef ATTN_ASR_H
#define ATTN_ASR_H

#include "attn/audio.h"
#include "attn/metrics.h"
#include "attn/model.h"
#include "attn/train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- transcribed audio ------------------------------------------------------------------------
 * A file of lines "path<TAB>transcript[<TAB>speaker ...]" (data/make_speech.py writes them); a
 * relative path is relative to the file's folder. Transcripts are kept as written, with runs of
 * white space made one space and the ends trimmed. Empty lines are skipped. */
typedef struct {
    long n;
    char **paths;       /* (n) as resolved */
    char **transcripts; /* (n) */
} attn_speech_set;

/* Errors: ATTN_ERR_IO (unreadable), ATTN_ERR_FORMAT (a line without a TAB, or invalid UTF-8:
 * FILE:LINE named), ATTN_ERR_NOMEM. On error *out is zeroed. */
ATTN_API attn_status attn_speech_set_read(const char *path, attn_speech_set *out);
ATTN_API void attn_speech_set_free(attn_speech_set *s);

/* ---- the recognizer ------------------------------------------------------------------------- */

typedef struct attn_recognizer attn_recognizer;

/* Loads a recognizer checkpoint. Errors: attn_model_load's; ATTN_ERR_INVALID (another task's
 * checkpoint: the message says which); ATTN_ERR_MISSING / ATTN_ERR_FORMAT (its labels, front end
 * or statistics absent or malformed). */
ATTN_API attn_status attn_recognizer_load(const char *path, attn_recognizer **out);
ATTN_API void attn_recognizer_free(attn_recognizer *r);
ATTN_API attn_model *attn_recognizer_model(const attn_recognizer *r);
ATTN_API const attn_fbank_params *attn_recognizer_frontend(const attn_recognizer *r);

/* The weight lambda of the CTC prefix scores in a joint model's beam search, score = lambda CTC +
 * (1 - lambda) attention (0: the training objective's, the default; 1: CTC alone guides the
 * decoder's labels). No effect on a CTC model. ATTN_ERR_INVALID outside [0, 1]. */
ATTN_API attn_status attn_recognizer_set_ctc_weight(attn_recognizer *r, float weight);

/* Limits the beam searches to the words of `words`: its runs of characters other than white
 * space, where a line holding a tab contributes only its second field (so a word list, a text,
 * or a speech set's "path<TAB>transcript" lines all serve). Every word of a transcript is then
 * one of them, and words are separated by one space. NULL removes the lexicon. With a lexicon, beam 1 is
 * the constrained prefix search of width 1 (no word times) instead of the best path. Errors:
 * ATTN_ERR_INVALID (a word with a character that is not one of the model's labels, naming it; a
 * model without a space label; no words), ATTN_ERR_NOMEM; the recognizer then has no lexicon. */
ATTN_API attn_status attn_recognizer_set_lexicon(attn_recognizer *r, const char *words);
/* attn_recognizer_set_lexicon of the text of a file (ATTN_ERR_IO naming it when unreadable). */
ATTN_API attn_status attn_recognizer_load_lexicon(attn_recognizer *r, const char *path);

/* One file's transcript. Word times come from the best path (greedy decoding, beam 1): a word
 * starts at the encoder position of its first label and ends one position (4 frames) after its
 * last; with a beam they are absent (n_words 0). */
typedef struct {
    char *text;           /* malloc'd, UTF-8, "" for silence */
    double audio_seconds; /* the file's duration */
    double seconds;       /* wall time of reading, features, the model and decoding */
    int n_words;
    float *word_start, *word_end; /* (n_words) seconds */
    int n_windows;                /* pieces the audio was cut into (model context) */
} attn_transcript;
ATTN_API void attn_transcript_free(attn_transcript *t);

/* The transcript of `file` as one line of JSON, in a new string (*out, malloc'd): {"file",
 * "text", "audio_seconds", "seconds", "rtf" (seconds / audio_seconds), "windows", "words":
 * [{"word", "start", "end"}, ...]} (times rounded to 10 ms, as they are 40 ms apart). Invalid
 * UTF-8 in the file name becomes U+FFFD. Errors: ATTN_ERR_INVALID (NULL), ATTN_ERR_NOMEM. */
ATTN_API attn_status attn_transcript_format_json(const attn_transcript *t, const char *file,
                                                 char **out);

/* Audio whose every sample is below this in magnitude (half of 16-bit PCM's step) is digital
 * silence: its transcript is "" without running the model. */
#define ATTN_ASR_SILENCE (1.0f / 65536)

/* Transcribes samples (mono, at the front end's rate): features, the checkpoint's normalisation,
 * the model, then CTC decoding (beam 1: greedy; more: prefix beam search). Audio longer than the
 * model's context is cut into consecutive windows of the longest length it takes, decoded one by
 * one, their texts joined by a space. Errors: ATTN_ERR_INVALID (NULL arguments, beam < 1),
 * the model's, ATTN_ERR_NOMEM. Audio too short for one frame (25 ms) or for the convolutions
 * (7 frames), or digital silence (ATTN_ASR_SILENCE), transcribes to "". */
ATTN_API attn_status attn_recognizer_transcribe(attn_recognizer *r, const float *samples, long n,
                                                int beam, attn_transcript *out);

/* Reads a file (any format libsndfile reads; mixed to mono, resampled to the front end's rate:
 * attn_audio_load and its errors, which name the path) and transcribes it. */
ATTN_API attn_status attn_recognizer_transcribe_file(attn_recognizer *r, const char *path,
                                                     int beam, attn_transcript *out);

/* Transcribes every file of set into hyps[i] (malloc'd; the caller frees each) and scores them
 * against the transcripts: *wer and *cer (attn/metrics.h; either may be NULL); *audio_seconds and
 * *seconds (may be NULL) the totals. Errors: the first file's that fails (its path named). */
ATTN_API attn_status attn_recognizer_evaluate(attn_recognizer *r, const attn_speech_set *set,
                                              int beam, char **hyps, attn_error_rate *wer,
                                              attn_error_rate *cer, double *audio_seconds,
                                              double *seconds);

/* ---- training ------------------------------------------------------------------------------- */

typedef struct {
    attn_config model;       /* the encoder's size (arch, n_features, vocab_size set here) */
    attn_train_params train; /* steps or epochs, schedule, eval_every, save_path (best on dev) */
    attn_adamw_params adamw;
    attn_fbank_params fbank;      /* the front end (n_mels = the model's n_features) */
    long max_frames;              /* utterances x longest, in frames, per micro-batch */
    long bucket;                  /* utterances per length bucket */
    int specaugment;              /* 1: mask every training batch (attn_specaugment) */
    /* 1: features of every training file are computed at speeds 0.9, 1.0 and 1.1
     * (attn_audio_speed_perturb; three times the memory), and each epoch trains on one of the
     * three per utterance, drawn from (seed, epoch, utterance) (Ko et al. 2015) */
    int speed_perturb;
    /* 1: every utterance is normalised by its own mean and variance (training and recognition)
     * instead of the training set's global statistics (which are still stored) */
    int cmvn_utterance;
    /* attn_feature_warp of every training utterance (after normalisation): warp and tilt
     * bounds, 0 for none */
    float max_warp, max_tilt;
    /* > 0: every training file gets up to pad_ms of quiet noise (-70 to -45 dB) before it and up
     * to half that after, lengths drawn per file (recordings rarely start on the first word) */
    float pad_ms;
    attn_specaugment_params spec; /* the masks */
    int dev_utterances;           /* dev files transcribed at each evaluation (0: all) */
    /* Resuming as attn_translator_params: the run's state at state_path at every evaluation and
     * at the end; resume continues it exactly (same data and options). */
    const char *state_path;
    int resume;
} attn_asr_params;

/* The recipe of bench/README.md but the band limit: a 6-layer pre-LN encoder of width 192 (4
 * heads, d_ff 768, GELU, dropout 0.1, sinusoidal positions, 2048 positions) behind two 3x3
 * stride-2 convolutions of 32 channels, and a 2-layer attention decoder trained jointly with CTC
 * (lambda 0.3), over 80 Kaldi log-mel bands (attn_fbank_default_params) normalised per
 * utterance; training files padded with up to 400 ms of quiet noise; AdamW (weight decay 0.01,
 * clip 1) at 1e-3 with 300 warm-up steps and a cosine, 16000 frames per batch, SpecAugment with
 * 2 frequency masks of up to 10 bands and 2 time masks of up to 10 frames (at most 10% of an
 * utterance); 10 epochs, dev WER after each. Set model.n_dec_layers = 0 for a CTC model. */
ATTN_API attn_asr_params attn_asr_default_params(void);

typedef struct {
    attn_train_result train;
    double best_wer; /* dev WER of the kept model (NaN without dev) */
    long best_step;
    long n_train;         /* utterances trained on */
    long n_dropped;       /* too short for their transcripts, or too long for the model */
    double train_seconds; /* audio */
    double feature_seconds; /* wall time spent computing features */
} attn_asr_result;

/* Trains a recognizer on train (dev may be NULL: the last step is kept): the labels are the
 * characters of train's transcripts, features of every file computed once (2 threads), global
 * CMVN over train, batches by frame budget, attn_train with keep-best on dev WER; *out receives
 * the kept recognizer. Errors: attn_train's, a file's (named), ATTN_ERR_INVALID (no usable
 * utterance, bad parameters). */
ATTN_API attn_status attn_asr_train(const attn_speech_set *train, const attn_speech_set *dev,
                                    const attn_asr_params *params, attn_recognizer **out,
                                    attn_asr_result *res);

#ifdef __cplusplus
}
#endif
#endif
