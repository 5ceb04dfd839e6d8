/* attn/data.h: text files as lines, labelled text for classification: TSV files, label sets,
 * token-id datasets and length-bucketed batches.
 *
 * A corpus is a UTF-8 file of "label<TAB>text" lines (data/README.md). Reading it gives an
 * attn_tsv (strings and line numbers); the labels of the training file give an attn_labels (the
 * sorted set of names, id = position); a tokenizer turns the texts into an attn_cls_data (token
 * ids starting with [CLS], cut to max_len, with label ids); attn_batch_plan_make groups examples
 * into batches of similar lengths, and attn_cls_data_fill_batch writes one right-padded batch for
 * attn_model_forward:
 *
 *     attn_tsv tsv;          attn_tsv_read("train.tsv", &tsv);
 *     attn_labels *labels;   attn_labels_from_tsv(&tsv, &labels);
 *     attn_cls_data d;       attn_cls_data_encode(&tsv, tok, labels, 128, 0, &d);
 *     attn_batch_plan plan;  attn_batch_plan_make(d.lengths, NULL, d.n, 32, 50, 1, seed, epoch,
 *                                                 &plan);
 *     for (long b = 0; b < plan.n_batches; b++) {
 *         int B = (int)(plan.offsets[b + 1] - plan.offsets[b]), T;
 *         attn_cls_data_fill_batch(&d, plan.order + plan.offsets[b], B, pad, tokens, lengths,
 *                                  ys, &T);
 *         ...
 *     }
 *
 * Every function here returns ATTN_ERR_INVALID for a NULL argument it needs. */
#ifndef ATTN_DATA_H
#define ATTN_DATA_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "attn/status.h"
#include "attn/tokenizer.h"
#include "attn/train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- files ---------------------------------------------------------------------------------- */

/* The whole file at path ("-": standard input) in a new buffer (*data, malloc'd, the caller frees;
 * *size bytes, with one NUL after them not counted). Errors: ATTN_ERR_IO naming the path and the
 * reason (missing, a directory, unreadable), ATTN_ERR_NOMEM. */
ATTN_API attn_status attn_file_read(const char *path, void **data, size_t *size);

/* Whether a file can be written at path (as a checkpoint is: atomically, beside it), checked
 * before a long job: ATTN_ERR_IO when path is a directory ("cannot write 'PATH': it is a
 * directory") or its folder is missing or not writable ("cannot write 'PATH': DIR: reason");
 * ATTN_ERR_INVALID for no path. The training functions check their save_path so. */
ATTN_API attn_status attn_file_check_writable(const char *path);

/* ---- text lines ----------------------------------------------------------------------------- */

/* A UTF-8 text as its lines, e.g. one sentence per line for attn_corpus_bleu. The strings live in
 * one buffer owned by the struct. */
typedef struct {
    long n;       /* lines */
    char **lines; /* n NUL-terminated lines, without their "\n" or "\r\n" */
    char *name;   /* the file name given to read / parse (a copy) */
    char *buf;    /* storage of the lines */
} attn_lines;

/* Splits len bytes into lines: each ends at "\n" (a "\r" before it is dropped); the last needs no
 * "\n", and a final "\n" starts no further line, so "" has 0 lines and "\n" one empty line. Empty
 * and blank lines are kept (an empty sentence). `name` is used in messages.
 * Errors (ATTN_ERR_FORMAT "NAME:LINE: why", *out zeroed): a NUL byte, invalid UTF-8 (the message
 * gives the byte of the line); ATTN_ERR_NOMEM. */
ATTN_API attn_status attn_lines_parse(const char *data, size_t len, const char *name,
                                      attn_lines *out);

/* Reads the file at path ("-": standard input) and splits it (attn_lines_parse, name = path).
 * ATTN_ERR_IO names the path and the reason when it cannot be read. */
ATTN_API attn_status attn_lines_read(const char *path, attn_lines *out);

/* Frees what a lines struct holds and zeroes it; safe on a zeroed struct and on NULL. */
ATTN_API void attn_lines_free(attn_lines *l);

/* Writes lines[0..n), each followed by "\n", to path ("-": standard output), replacing the file.
 * ATTN_ERR_IO names the path and the reason; ATTN_ERR_INVALID for NULL arguments or n < 0. */
ATTN_API attn_status attn_lines_write(const char *path, char *const *lines, long n);

/* Writes s to f as a JSON string literal, quotes included: ", \ and control characters escaped,
 * every byte that does not begin a valid UTF-8 sequence written as \ufffd, so the output always
 * parses (NULL writes ""). Returns ATTN_ERR_IO when f reports a write error. */
ATTN_API attn_status attn_json_write(FILE *f, const char *s);

/* ---- TSV files ------------------------------------------------------------------------------ */

/* The rows of a "label<TAB>text" file. All strings live in one buffer owned by the struct. */
typedef struct {
    long n;        /* examples */
    char **labels; /* n label strings, NUL-terminated */
    char **texts;  /* n texts, NUL-terminated (everything after the first tab) */
    long *lines;   /* n 1-based line numbers in the file, for error messages */
    char *name;    /* the file name given to read / parse (a copy) */
    char *buf;     /* storage of the strings */
} attn_tsv;

/* Parses len bytes of TSV; `name` is used in messages ("train.tsv:12: ...").
 * Rules: lines end with "\n" (a "\r" before it is dropped; the last line needs no "\n"); a line
 * that is empty or only white space is skipped; otherwise the label is everything before the
 * first tab and the text everything after it (further tabs stay in the text). The label and the
 * text are kept byte for byte (no trimming).
 * Errors (ATTN_ERR_FORMAT, the message is "NAME:LINE: why", *out zeroed): a line with no tab, an
 * empty or white-space-only label or text, a NUL byte. ATTN_ERR_NOMEM. */
ATTN_API attn_status attn_tsv_parse(const char *data, size_t len, const char *name, attn_tsv *out);

/* Unlabelled texts, one per line: the same rules, but the whole line is the text and every label
 * is "" (no tab is needed and tabs stay in the text). Errors: a NUL byte; ATTN_ERR_NOMEM. */
ATTN_API attn_status attn_tsv_parse_texts(const char *data, size_t len, const char *name,
                                          attn_tsv *out);

/* Reads and parses the file at path (attn_tsv_parse with name = path). ATTN_ERR_IO names the path
 * and the reason when it cannot be read. */
ATTN_API attn_status attn_tsv_read(const char *path, attn_tsv *out);

/* Frees everything a tsv holds and zeroes it; safe on a zeroed struct and on NULL. */
ATTN_API void attn_tsv_free(attn_tsv *t);

/* ---- label sets ----------------------------------------------------------------------------- */

/* An ordered set of distinct label names; a label's id is its position. Immutable once made. */
typedef struct attn_labels attn_labels;

/* The distinct labels of a tsv, sorted by byte value (strcmp), so the ids do not depend on the
 * order of the rows. Errors: ATTN_ERR_INVALID for an empty tsv; ATTN_ERR_NOMEM. */
ATTN_API attn_status attn_labels_from_tsv(const attn_tsv *t, attn_labels **out);

/* A label set from n names, kept in the given order. Errors: ATTN_ERR_INVALID for n < 1, a NULL
 * or empty name, or a name given twice (the message names it); ATTN_ERR_NOMEM. */
ATTN_API attn_status attn_labels_create(const char *const *names, int n, attn_labels **out);

/* The set as a JSON list of strings (malloc'd, NUL-terminated; the caller frees), e.g.
 * ["games","libs"], and back. from_json errors: ATTN_ERR_FORMAT when the text is not a non-empty
 * JSON list of distinct non-empty strings (the message says which); ATTN_ERR_NOMEM. */
ATTN_API attn_status attn_labels_to_json(const attn_labels *l, char **json);
ATTN_API attn_status attn_labels_from_json(const char *json, attn_labels **out);

ATTN_API void attn_labels_free(attn_labels *l);

ATTN_API int attn_labels_count(const attn_labels *l);
/* The name of label id (owned by the set), or NULL if id is out of range. */
ATTN_API const char *attn_labels_name(const attn_labels *l, int id);
/* All names in id order (attn_labels_count of them), e.g. for attn_cls_report_format. */
ATTN_API const char *const *attn_labels_names(const attn_labels *l);
/* The id of name, or -1 when the set does not hold it (O(log n)). */
ATTN_API int attn_labels_find(const attn_labels *l, const char *name);

/* ---- token-id datasets ---------------------------------------------------------------------- */

/* Encodes one text for a classifier: ids[0] = the tokenizer's [CLS], then the text's tokens, cut
 * to max_len ids in all (the first max_len - 1 tokens of the text are kept). ids must hold
 * max_len ints; *n receives the count (>= 1) and *truncated (may be NULL) whether tokens were cut.
 * Errors: ATTN_ERR_INVALID for max_len < 1 or a tokenizer without [CLS]; the tokenizer's own
 * errors (WordPiece refuses invalid UTF-8). */
ATTN_API attn_status attn_cls_encode_text(const attn_tokenizer *tok, const char *text, size_t len,
                                          int max_len, int *ids, int *n, int *truncated);

/* A tokenized dataset: example i is ids[offsets[i] .. offsets[i] + lengths[i]). */
typedef struct {
    long n;                   /* examples */
    int *ids;                 /* all token ids, example after example */
    long *offsets;            /* n: where each example starts in ids */
    int *lengths;             /* n: ids per example, in [1, max_len] */
    int *labels;              /* n: label ids, or -1 where no label set was given */
    long *lines;              /* n: the example's line in its file */
    unsigned char *truncated; /* n: 1 where the text was cut to max_len */
    long n_truncated;         /* examples cut to max_len */
    long n_skipped;           /* rows dropped for an unknown label (skip_unknown) */
} attn_cls_data;

/* Encodes every row of t with attn_cls_encode_text. Labels are looked up in `labels` (NULL:
 * every label id is -1). A label the set does not hold is ATTN_ERR_INVALID with the message
 * "NAME:LINE: label 'x' is not one of the K labels ..." unless skip_unknown is nonzero, in which
 * case the row is left out and counted in n_skipped. A tokenizer error names NAME:LINE too.
 * On error *out is zeroed. An empty result (every row skipped) is allowed: n = 0. */
ATTN_API attn_status attn_cls_data_encode(const attn_tsv *t, const attn_tokenizer *tok,
                                          const attn_labels *labels, int max_len, int skip_unknown,
                                          attn_cls_data *out);

/* Frees the arrays and zeroes the struct; safe on a zeroed struct and on NULL. */
ATTN_API void attn_cls_data_free(attn_cls_data *d);

/* Writes the B examples rows[0..B) as one right-padded batch: T = their longest length,
 * tokens (B, T) row-major with pad_id after each example's ids, lengths (B), labels (B, may be
 * NULL). tokens must hold B * T ints (B * max_len always suffices). Errors: ATTN_ERR_INVALID for
 * B < 1 or a row outside [0, n). */
ATTN_API attn_status attn_cls_data_fill_batch(const attn_cls_data *d, const long *rows, int B,
                                              int pad_id, int *tokens, int *lengths, int *labels,
                                              int *T);

/* Token dropout (word dropout), a regulariser for training: each of the first lengths[b] ids of
 * row b of tokens (B, T), except the first `keep_first` of the row (a [CLS]), is replaced by
 * replace_id (a [MASK] or [UNK]) with probability p. The draws come from attn_rng(seed, stream),
 * one per position in row-major order, so a (seed, stream) pair (a step) always drops the same
 * positions whatever the thread count; padding is left alone. Returns the number replaced in
 * *n_dropped (may be NULL). Errors: ATTN_ERR_INVALID for p outside [0, 1), B < 1, T < 1 or a
 * length outside [0, T]. */
ATTN_API attn_status attn_token_dropout(int *tokens, const int *lengths, int B, int T, float p,
                                        int replace_id, int keep_first, uint64_t seed,
                                        uint64_t stream, long *n_dropped);

/* ---- length-bucketed batches ---------------------------------------------------------------- */

/* An order of examples cut into batches: batch b is order[offsets[b] .. offsets[b + 1]). */
typedef struct {
    long n_batches;
    long *offsets; /* n_batches + 1 */
    long *order;   /* example indices */
} attn_batch_plan;

/* Plans batches of at most batch_size examples over n examples: example k is idx[k] (or k when idx
 * is NULL), of length lengths[idx[k]]. Sorting by length keeps the padding small:
 *   shuffle != 0 (training): the examples are shuffled by attn_rng(seed, stream), cut into buckets
 *     of bucket_batches * batch_size, each bucket sorted by length (ties keep the shuffled
 *     order), cut into batches, and the order of the batches is shuffled too. Each epoch passes
 *     a different stream to get a different plan; the same (seed, stream) gives the same plan.
 *   shuffle == 0 (evaluation): all examples sorted by length (ties in index order) and cut into
 *     batches; seed and stream are ignored.
 * Every example appears exactly once; only the last batch of a bucket may be short.
 * Errors: ATTN_ERR_INVALID for n < 0, batch_size < 1, bucket_batches < 1; ATTN_ERR_NOMEM.
 * n = 0 gives an empty plan. */
ATTN_API attn_status attn_batch_plan_make(const int *lengths, const long *idx, long n,
                                          int batch_size, int bucket_batches, int shuffle,
                                          uint64_t seed, uint64_t stream, attn_batch_plan *out);

/* The same by a token budget (translation: batches of many short or few long sentences): with
 * shuffle, the examples are shuffled by attn_rng(seed, stream), cut into buckets of
 * bucket_examples, each sorted by length and cut into batches of as many examples as keep
 * (examples x the batch's longest length) <= max_tokens (one example at least, however long),
 * and the batches are shuffled; without shuffle, all are sorted and cut (seed, stream and
 * bucket_examples unused). Errors: ATTN_ERR_INVALID (n < 0, max_tokens or bucket_examples < 1),
 * ATTN_ERR_NOMEM. */
ATTN_API attn_status attn_batch_plan_make_tokens(const int *lengths, long n, long max_tokens,
                                                 long bucket_examples, int shuffle, uint64_t seed,
                                                 uint64_t stream, attn_batch_plan *out);

/* Frees the arrays and zeroes the plan; safe on a zeroed plan and on NULL. */
ATTN_API void attn_batch_plan_free(attn_batch_plan *p);

/* Token-budget batches epoch after epoch, for a batch source: epoch e is
 * attn_batch_plan_make_tokens(lengths, n, max_tokens, bucket, shuffle, seed, stream + e), and
 * batch i of the run is batch i - (the batches of the epochs before) of the epoch it falls in
 * (epochs may differ by a few batches; they are walked in order, so asking for an earlier batch
 * replans from epoch 0). lengths is borrowed. Fields are private but for `plan` (the current
 * epoch's; plan.n_batches of epoch 0 after init). */
typedef struct {
    const int *lengths;
    long n, max_tokens, bucket;
    int shuffle;
    uint64_t seed, stream;
    attn_batch_plan plan;
    long epoch, first; /* plan's epoch (-1: none) and the run's index of its first batch */
} attn_epoch_plans;

/* Plans epoch 0. Errors: attn_batch_plan_make_tokens's (*e is then freed). */
ATTN_API attn_status attn_epoch_plans_init(attn_epoch_plans *e, const int *lengths, long n,
                                           long max_tokens, long bucket, int shuffle,
                                           uint64_t seed, uint64_t stream);
/* The rows of batch `index` of the run (*rows into e's plan, valid until the next call, *n_rows
 * of them) and the epoch it belongs to (may be NULL). */
ATTN_API attn_status attn_epoch_plans_batch(attn_epoch_plans *e, long index, const long **rows,
                                            long *n_rows, long *epoch);
ATTN_API void attn_epoch_plans_free(attn_epoch_plans *e);

/* ---- batch sources for attn_train (attn/train.h) -------------------------------------------- */

/* Language-model batches: batch i (process r of n) is B windows of T + 1 consecutive ids of
 * ids[0..n_ids), tokens the first T and targets the last T, each window's start uniform in
 * [0, n_ids - T - 1] from attn_rng(seed, i * n + r): a batch depends on (seed, i, r, n) only.
 * An endless stream (batches_per_epoch 0). ids is borrowed: it must outlive the source.
 * Errors: ATTN_ERR_INVALID (B or T < 1, fewer than T + 1 ids), ATTN_ERR_NOMEM. */
ATTN_API attn_status attn_lm_windows_source(const int *ids, size_t n_ids, int B, int T,
                                            uint64_t seed, attn_batch_source **out);

typedef struct {
    int batch;           /* examples per batch */
    int bucket;          /* batches per length bucket (attn_batch_plan_make) */
    int pad_id;          /* written after each example's ids */
    float token_dropout; /* attn_token_dropout probability (0: off) */
    int drop_id;         /* what a dropped token becomes ([MASK] or [UNK]); needed when > 0 */
    uint64_t seed;
} attn_cls_source_params;

/* batch 32, bucket 50, pad 0, no token dropout, seed 1 */
ATTN_API attn_cls_source_params attn_cls_source_default_params(void);

/* Classifier batches, epoch after epoch: batch i is batch i mod E of epoch i / E (E =
 * batches_per_epoch, the same every epoch), epochs ordered by attn_batch_plan_make with shuffling
 * (stream: a constant + the epoch), token dropout of batch i from its own stream; process r of n
 * gets rows [B r / n, B (r + 1) / n) of each batch. d is borrowed: it must outlive the source.
 * Errors: ATTN_ERR_INVALID (no examples, batch or bucket < 1, token dropout without drop_id),
 * ATTN_ERR_NOMEM. */
ATTN_API attn_status attn_cls_source(const attn_cls_data *d, attn_cls_source_params p,
                                     attn_batch_source **out);

/* ---- parallel text (translation) ------------------------------------------------------------ */

/* Source / target pairs from tab-separated lines (e.g. "ref<TAB>en<TAB>es"). */
typedef struct {
    long n;
    char **src, **tgt; /* n NUL-terminated strings each (no tab inside) */
    long *lines;       /* n 1-based line numbers */
    attn_tsv lines_;   /* the storage (private) */
} attn_parallel;

/* Reads path ("-": stdin): every non-blank line is split at its tabs; column src_col is the
 * source, tgt_col the target (0-based). Errors: ATTN_ERR_FORMAT "FILE:LINE: N columns needed"
 * for a line with too few, a NUL byte; ATTN_ERR_IO, ATTN_ERR_NOMEM; ATTN_ERR_INVALID for equal or
 * negative columns. */
ATTN_API attn_status attn_parallel_read(const char *path, int src_col, int tgt_col,
                                        attn_parallel *out);
/* The same from size bytes in memory (copied: data is not kept); name (NULL: "(memory)") is the
 * FILE of the FILE:LINE in messages. */
ATTN_API attn_status attn_parallel_parse(const char *data, size_t size, const char *name,
                                         int src_col, int tgt_col, attn_parallel *out);
ATTN_API void attn_parallel_free(attn_parallel *p);

/* Pairs as token ids: pair i's source is ids[src_off[i] ..] (src_len[i] ids, the last eos_id),
 * its target ids[tgt_off[i] ..] (tgt_len[i], the last eos_id). */
typedef struct {
    long n;
    int *ids;
    long *src_off, *tgt_off;
    int *src_len, *tgt_len;
    long n_truncated; /* pairs of which a side was cut */
} attn_pairs;

/* Encodes every pair with tok: each side's tokens cut to max - 1 (max_src / max_tgt), then
 * eos_id. Errors: the tokenizer's (naming FILE:LINE), ATTN_ERR_INVALID, ATTN_ERR_NOMEM. */
ATTN_API attn_status attn_pairs_encode(const attn_parallel *p, const attn_tokenizer *tok,
                                       int max_src, int max_tgt, int eos_id, attn_pairs *out);
ATTN_API void attn_pairs_free(attn_pairs *p);

typedef struct {
    long max_tokens; /* pairs x longest side per batch, at most */
    long bucket;     /* pairs per length bucket */
    int pad_id, bos_id;
    uint64_t seed;
    int in_order; /* evaluation: every epoch sorted by length, not shuffled */
} attn_pairs_source_params;

/* max_tokens 4096, bucket 4096, pad 0, bos 2 ([CLS] of attn's tokenizers), seed 1 */
ATTN_API attn_pairs_source_params attn_pairs_source_default_params(void);

/* Translation batches for attn_train: epoch after epoch, batches of similar lengths within the
 * token budget (attn_batch_plan_make_tokens, shuffled per epoch), tokens = sources + EOS padded
 * with pad_id (lengths set), tgt_in = bos + target, targets = target + EOS (ATTN_IGNORE_INDEX on
 * padding); process r of n gets rows [B r / n, B (r + 1) / n). batches_per_epoch is epoch 0's
 * (later epochs may have a few more or fewer). p is borrowed. Errors: ATTN_ERR_INVALID (no pairs,
 * max_tokens or bucket < 1), ATTN_ERR_NOMEM. */
ATTN_API attn_status attn_pairs_source(const attn_pairs *p, attn_pairs_source_params q,
                                       attn_batch_source **out);

#ifdef __cplusplus
}
#endif
#endif
