/* attn/attn.h: the umbrella header of libattn. Include this one.
 *
 * Basic usage
 * -----------
 * Every fallible call returns an attn_status (0 = ATTN_OK); attn_last_error() says what went
 * wrong. Nothing is printed and nothing exits. Link with `pkg-config --cflags --libs attn`.
 *
 * A text classifier, from "label<TAB>text" files to predictions (attn/classifier.h):
 *
 *     attn_tsv train, dev;
 *     attn_tsv_read("train.tsv", &train);  attn_tsv_read("dev.tsv", &dev);
 *     attn_classifier_params p = attn_classifier_default_params();
 *     p.train.epochs = 5;  p.train.save_path = "clf.safetensors";
 *     attn_classifier *c;
 *     if (attn_classifier_train(&train, &dev, NULL, &p, &c, NULL) != ATTN_OK)
 *         fprintf(stderr, "attn: %s\n", attn_last_error());
 *     int label;
 *     attn_classifier_classify(c, "a text", 6, &label, NULL);
 *     puts(attn_labels_name(attn_classifier_labels(c), label));
 *     attn_classifier_free(c);
 *
 * A byte-level language model (attn/lm.h), then generation (attn/decode.h):
 *
 *     int *ids;  size_t n;  attn_lm_read_text("corpus.txt", NULL, &ids, &n);
 *     attn_config cfg = attn_lm_default_config();
 *     attn_model *m;  attn_model_create(&cfg, 1, &m);
 *     attn_lm_params lp = attn_lm_default_params();
 *     attn_lm_train(m, NULL, NULL, ids, n - n / 10, ids + n - n / 10, n / 10, &lp, NULL);
 *
 * Progress, abort and evaluation callbacks go in attn_train_params (p.train, lp.train), as in
 * whisper.h: the `attn` CLI's progress bar is one. The layers underneath, each usable alone:
 *
 *     attn/model.h        the three families behind one handle: forward, backward, checkpoints
 *     attn/train.h        attn_train (the one training loop), AdamW, schedules, checkpoints
 *     attn/decode.h       KV-cached decoding contexts, samplers, batched generation
 *     attn/data.h         files, TSV corpora, labels, batch plans, the trainer's batch sources
 *     attn/tokenizer.h    byte-level BPE and WordPiece, tokenizer.json
 *     attn/safetensors.h  reading any safetensors file (in memory or mapped)
 *     attn/metrics.h      accuracy, precision / recall / F1, confusion, k-fold
 *     attn/viz.h          attention maps, heatmaps and training plots as PNG
 *     attn/audio.h        audio files, resampling, log-mel / MFCC features, CMVN, SpecAugment
 *     attn/runtime.h      version, CPU and ISA, BLAS, threads
 *
 * Names follow attn_<thing>_<action>; handles are opaque, made by *_create / *_load and released by
 * *_free; parameter structs come by value from *_default_params(). */
#ifndef ATTN_ATTN_H
#define ATTN_ATTN_H

#include "attn/status.h"
#include "attn/runtime.h"
#include "attn/config.h"
#include "attn/model.h"
#include "attn/safetensors.h"
#include "attn/train.h"
#include "attn/decode.h"
#include "attn/tokenizer.h"
#include "attn/metrics.h"
#include "attn/viz.h"
#include "attn/audio.h"
#include "attn/data.h"
#include "attn/lm.h"
#include "attn/classifier.h"
#include "attn/translator.h"
#include "attn/asr.h"

#endif
