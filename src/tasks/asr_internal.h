/* tasks/asr_internal.h: the recognizer bundle, shared by tasks/asr.c and tasks/asr_train.c. */
#ifndef ATTN_TASKS_ASR_INTERNAL_H
#define ATTN_TASKS_ASR_INTERNAL_H

#include <stdint.h>

#include "attn/asr.h"
#include "kernels/ctc.h"

struct attn_recognizer {
    attn_model *model;
    int n_labels;
    int32_t *labels; /* (n_labels) code points; labels[0] = 0 stands for the blank, and an
                        attention decoder's BOS / EOS are -1 / -2 ("<s>", "</s>") */
    int bos, eos;    /* their ids (1, 2), or -1 for a CTC model */
    float ctc_weight; /* joint decoding's lambda: the config's unless set */
    attn_fbank_params frontend;
    attn_fbank *fb;
    attn_cmvn_stats cmvn;
    int cmvn_utterance; /* 1: each utterance by its own mean and variance instead */
    /* attn_recognizer_set_lexicon's automaton over the labels (n_states 0: none); next and
     * accept are owned. */
    attn_ctc_dfa lexicon;
};

/* Frees the lexicon's automaton (attn_recognizer_free). */
void asr_lexicon_free(attn_recognizer *r);

/* Normalises one utterance's features in place: by the global statistics, or its own. */
attn_status asr_normalise(const attn_recognizer *r, float *feats, long frames);

/* Checks the bundle against its model (a ctc model, as many outputs as labels, the front end's
 * dimension = n_features, statistics of that dimension) and makes the extractor. path names it in
 * messages. */
attn_status asr_check(const char *path, attn_recognizer *r);

/* The metadata values of a bundle (malloc'd JSON each; the caller frees): labels, front end and
 * statistics. */
attn_status asr_meta_json(const attn_recognizer *r, char **labels, char **frontend, char **cmvn);

/* Fills r's labels, front end and statistics from a checkpoint's metadata. */
attn_status asr_read_meta(const char *path, attn_recognizer *r);

/* The labels of text (its characters that are labels; the others skipped) into ids (room for
 * strlen(text)); returns how many. */
int asr_text_ids(const attn_recognizer *r, const char *text, int *ids);

/* Features of n samples (the front end, then the statistics: (x - mean) / std), *feats malloc'd
 * (*frames rows of n_features); audio shorter than a frame gives 0 frames and NULL. */
attn_status asr_features(attn_recognizer *r, attn_fbank *fb, const float *x, long n, float **feats,
                         long *frames);

/* Decodes normalised features (frames rows) to text (malloc'd), in windows of the model's
 * context; times of words as attn_transcript says when beam is 1 (out may be NULL). */
attn_status asr_decode(attn_recognizer *r, const float *feats, long frames, int beam, char **text,
                       attn_transcript *out);

#endif
