/* attn/metrics.h: evaluation metrics for classifiers and for translation, and k-fold helpers.
 *
 * The classification report follows scikit-learn's conventions, so that its numbers can be set
 * beside `sklearn.metrics.classification_report(y_true, y_pred, labels=range(K),
 * zero_division=0)`:
 *   precision_c = TP_c / (TP_c + FP_c), recall_c = TP_c / (TP_c + FN_c),
 *   F1_c = 2 P_c R_c / (P_c + R_c), each 0 where its denominator is 0 (a class never predicted
 *   has precision 0; a class absent from y_true has recall 0);
 *   macro average = the plain mean over all K classes, those absent from y_true included;
 *   weighted average = the mean weighted by support (the number of true examples per class);
 *   accuracy = the fraction of examples with y_pred == y_true (= micro-averaged P, R and F1).
 * Labels are ints in [0, K). Translation (BLEU, chrF) and speech recognition (WER, CER) metrics
 * follow, each section with its conventions. */
#ifndef ATTN_METRICS_H
#define ATTN_METRICS_H

#include <stdint.h>

#include "attn/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int n_classes; /* K */
    long n;        /* number of examples */
    double accuracy;
    /* Per class, K entries each. */
    double *precision;
    double *recall;
    double *f1;
    long *support;   /* examples whose true label is c */
    long *predicted; /* examples predicted as c */
    /* (K, K) row-major: confusion[t * K + p] counts examples of true class t predicted as p. */
    long *confusion;
    double macro_precision, macro_recall, macro_f1;
    double weighted_precision, weighted_recall, weighted_f1;
} attn_cls_report;

/* Fills *out from n (true, predicted) label pairs with labels in [0, n_classes). The arrays of
 * *out are allocated here and released by attn_cls_report_free. Errors (ATTN_ERR_INVALID, *out
 * left zeroed): n < 1, n_classes < 1, a NULL pointer, a label out of range (the message names the
 * first such index). ATTN_ERR_NOMEM if allocation fails. */
ATTN_API attn_status attn_classification_report(const int *y_true, const int *y_pred, long n,
                                                int n_classes, attn_cls_report *out);

/* Releases the arrays of a report filled by attn_classification_report and zeroes it. Safe on a
 * zeroed report and on NULL. */
ATTN_API void attn_cls_report_free(attn_cls_report *r);

/* Formats a report as a malloc'd NUL-terminated string in *out (the caller frees it).
 * class_names: K names, or NULL for "0", "1", ...
 * json == 0: a table like sklearn's classification_report (4 digits), then the confusion matrix
 *            (rows = true class, columns = predicted class, in the same order);
 * json != 0: one line of JSON:
 *   {"n": N, "accuracy": a,
 *    "classes": [{"name": s, "precision": p, "recall": r, "f1": f, "support": n}, ...],
 *    "macro_avg": {"precision": p, "recall": r, "f1": f, "support": N},
 *    "weighted_avg": {...}, "confusion": [[...], ...]}
 * Errors: ATTN_ERR_INVALID for a NULL or empty report or a NULL name; ATTN_ERR_NOMEM. */
ATTN_API attn_status attn_cls_report_format(const attn_cls_report *r,
                                            const char *const *class_names, int json, char **out);

/* Assigns each of n examples to one of k folds: fold[i] in [0, k). The folds are balanced (sizes
 * differ by at most one: the first n % k folds hold one more) and the assignment is a uniform
 * shuffle determined by seed alone. Errors: ATTN_ERR_INVALID unless 2 <= k <= n and fold != NULL.
 */
ATTN_API attn_status attn_kfold_assign(long n, int k, uint64_t seed, int *fold);

/* Mean and standard deviation of x[n]: std = sqrt(sum (x - mean)^2 / (n - ddof)); ddof = 0 is
 * numpy's default (np.std), ddof = 1 the sample standard deviation. Either output may be NULL.
 * Errors: ATTN_ERR_INVALID if x is NULL, ddof < 0 or n <= ddof; ATTN_ERR_NUMERIC if an x is not
 * finite. */
ATTN_API attn_status attn_mean_std(const double *x, long n, int ddof, double *mean, double *std);

/* ---- translation: BLEU and chrF, as sacreBLEU computes them ---------------------------------
 *
 * Both metrics sum statistics over the sentences of a corpus and compute the score once from the
 * sums, with sacreBLEU 2.x's default settings, so the numbers are those of
 * `sacrebleu.corpus_bleu(hyps, [refs])` and `sacrebleu.corpus_chrf(hyps, [refs])`:
 *   BLEU: case-sensitive, "13a" tokenization, n-grams up to 4, clipped counts, 'exp' smoothing,
 *         brevity penalty from the summed lengths (per sentence the reference length closest to
 *         the hypothesis length, the shorter on a tie). BLEU = BP * exp(mean_n log p_n), on the
 *         0..100 scale of the precisions p_n = 100 * counts[n] / totals[n]; with 'exp'
 *         smoothing an order with totals > 0 but no match gets p_n = 100 / (2^k totals[n]),
 *         k = 1, 2, ... for the first, second, ... such order. BLEU is 0 when nothing matches at
 *         all, or when an order has no n-grams (totals[n] == 0: hypotheses shorter than n).
 *         BP = 1 if sys_len >= ref_len, else exp(1 - ref_len / sys_len) (0 for sys_len = 0).
 *   chrF: character n-grams of orders 1..6 of each line with its white space removed, beta 2,
 *         no word n-grams (chrF, not chrF++). For each order with hyp > 0 and ref > 0 (the
 *         "effective" orders) P_n = match / hyp and R_n = match / ref; P and R are their means
 *         over the effective orders, and chrF = 100 (1 + b^2) P R / (b^2 P + R) (0 when P + R = 0
 *         or no order is effective). A sentence whose reference has no n-gram of an order adds
 *         nothing to that order's hyp count (as sacreBLEU).
 * Several references per sentence: BLEU clips each n-gram by its largest count in any
 * reference; chrF keeps, per sentence, the statistics of the reference with the best chrF (the
 * first on a tie). NULL references are skipped (a sentence may have fewer).
 * Text is UTF-8: chrF counts code points; white space is what Python's str.isspace() accepts
 * (U+00A0 and the other Unicode spaces included). Invalid UTF-8 is ATTN_ERR_INVALID. */

#define ATTN_BLEU_ORDER 4 /* the largest n-gram order of BLEU */
#define ATTN_CHRF_ORDER 6 /* the largest character n-gram order of chrF */

/* BLEU statistics and score. counts/totals/sys_len/ref_len/n_sentences are the sums that
 * attn_bleu_add accumulates; score/precisions/bp are computed from them by attn_bleu_score. */
typedef struct {
    long counts[ATTN_BLEU_ORDER]; /* matched n-grams, clipped, n = 1..4 */
    long totals[ATTN_BLEU_ORDER]; /* n-grams of the hypotheses */
    long sys_len, ref_len;        /* tokens of the hypotheses, of the closest references */
    long n_sentences;
    double precisions[ATTN_BLEU_ORDER]; /* 0..100, smoothed as above; all 0 when nothing matched */
    double bp;                          /* brevity penalty */
    double score;                       /* BLEU, 0..100 */
} attn_bleu;

/* chrF statistics and score; hyp/ref/match/n_sentences are attn_chrf_add's sums. */
typedef struct {
    long hyp[ATTN_CHRF_ORDER];   /* character n-grams of the hypotheses, n = 1..6 */
    long ref[ATTN_CHRF_ORDER];   /* of the references */
    long match[ATTN_CHRF_ORDER]; /* common to both (the smaller count of each n-gram) */
    long n_sentences;
    int effective_order;      /* orders with hyp > 0 and ref > 0 */
    double precision, recall; /* P and R above, 0..100 */
    double score;             /* chrF, 0..100 */
} attn_chrf;

/* Tokenizes one line with sacreBLEU's "13a" tokenizer (the mteval-v13a.pl rules; BLEU's trailing
 * white-space strip included) into *out: the tokens joined by single spaces, a malloc'd
 * NUL-terminated string the caller frees ("" for a blank line). The rules: "<skipped>" and "-\n"
 * are removed, "\n" becomes a space; &quot; &amp; &lt; &gt; are unescaped (in that order, one
 * pass each); ASCII punctuation other than ' , - . is split off; a period or comma is split off
 * unless it stands between two digits (a digit on either side keeps it on that side); a dash after
 * a digit is split off; non-ASCII punctuation stays inside words. Errors: ATTN_ERR_INVALID for a
 * NULL argument or invalid UTF-8 (the message gives the byte); ATTN_ERR_NOMEM. */
ATTN_API attn_status attn_bleu_tokenize_13a(const char *s, char **out);

/* Adds the statistics of one sentence (hypothesis hyp, references refs[0..n_refs), NULL ones
 * skipped) to *acc, which starts zeroed ({0}). Does not compute the score. Errors (*acc left as
 * it was): ATTN_ERR_INVALID for NULL acc or hyp, no non-NULL reference, invalid UTF-8 (the
 * message says which text and the byte); ATTN_ERR_NOMEM. */
ATTN_API attn_status attn_bleu_add(attn_bleu *acc, const char *hyp, const char *const *refs,
                                   int n_refs);

/* Computes precisions, bp and score from the sums in *b (the rest is kept). ATTN_ERR_INVALID for
 * NULL or negative counts. */
ATTN_API attn_status attn_bleu_score(attn_bleu *b);

/* Corpus BLEU of n hypotheses against one reference each (refs[i] for hyps[i]): a zeroed *out,
 * attn_bleu_add for every sentence, attn_bleu_score. Errors: ATTN_ERR_INVALID for n < 1, NULL
 * arrays or strings, invalid UTF-8 (the message starts "sentence I: ", I 0-based); ATTN_ERR_NOMEM.
 * On error *out is zeroed. */
ATTN_API attn_status attn_corpus_bleu(const char *const *hyps, const char *const *refs, long n,
                                      attn_bleu *out);

/* Adds one sentence to chrF sums, as attn_bleu_add (same errors). */
ATTN_API attn_status attn_chrf_add(attn_chrf *acc, const char *hyp, const char *const *refs,
                                   int n_refs);

/* Computes effective_order, precision, recall and score from the sums in *c. ATTN_ERR_INVALID for
 * NULL or negative counts. */
ATTN_API attn_status attn_chrf_score(attn_chrf *c);

/* Corpus chrF of n hypotheses against one reference each, as attn_corpus_bleu. */
ATTN_API attn_status attn_corpus_chrf(const char *const *hyps, const char *const *refs, long n,
                                      attn_chrf *out);

/* Corpus BLEU and chrF of n hypotheses against n_refs (1..64) references each: refs[k][i] is
 * the k-th reference of hyps[i] (the attn_*_add functions over every sentence, then the scores).
 * Errors as attn_bleu_add (the message starts "sentence I: ", I 1-based); ATTN_ERR_INVALID for
 * n < 1, no reference or NULL arrays. On error both outputs are zeroed. */
ATTN_API attn_status attn_corpus_mt(const char *const *hyps, const char *const *const *refs,
                                    int n_refs, long n, attn_bleu *bleu, attn_chrf *chrf);

/* The scores of attn eval translate in a new string (*out, malloc'd, the caller frees).
 * json == 0, one line (no newline):
 *   BLEU b  chrF c  (4-gram precisions p1/p2/p3/p4, BP bp, hyp H ref R tokens)
 * json != 0, one line of JSON:
 *   {"sentences": n, "references": n_refs,
 *    "bleu": {"score", "counts": [4], "totals": [4], "precisions": [4], "bp", "hyp_len",
 *             "ref_len", "tokenize": "13a", "smooth": "exp"},
 *    "chrf": {"score", "precision", "recall", "beta": 2, "char_order": 6, "effective_order",
 *             "hyp": [6], "ref": [6], "match": [6]}}
 * Errors: ATTN_ERR_INVALID for NULL arguments; ATTN_ERR_NOMEM. */
ATTN_API attn_status attn_mt_scores_format(const attn_bleu *b, const attn_chrf *c, int n_refs,
                                           int json, char **out);

/* ---- speech recognition: WER and CER ------------------------------------------------------
 *
 * The word (character) error rate of hypotheses against references is (S + D + I) / N, N the
 * reference tokens, from a Levenshtein alignment of each sentence pair (every edit costs 1):
 * S substitutions, D deletions (reference tokens the hypothesis lacks), I insertions
 * (hypothesis tokens the reference lacks); H = N - S - D tokens match. The counts of a corpus
 * are the sums over its sentences, the rate is computed once from the sums (as jiwer and sclite
 * do), so it is not the mean of the sentences' rates. Of the alignments of least cost the one
 * reported prefers, walking back from the ends, a match or substitution, then a deletion, then an
 * insertion; S + D + I (the distance) and I - D (the length difference) are the same for all.
 * Words are the runs between white space (Python's str.split()); characters are the code points
 * of the line with leading and trailing white space removed and each inner run of white space
 * replaced by one space (so "a  b" and "a b" have the same CER; the space counts as a character,
 * as jiwer's cer). Text is UTF-8; tokens are equal when their bytes are. */

/* Sums of alignment counts and the rate computed from them. */
typedef struct {
    long ref_len; /* N: reference tokens */
    long hyp_len; /* hypothesis tokens (= N - D + I) */
    long substitutions, deletions, insertions;
    long hits;        /* N - S - D */
    long n_sentences; /* pairs added */
    double rate;      /* (S + D + I) / N, by attn_error_rate_score */
} attn_error_rate;

/* The largest n_hyp * n_ref of one sentence pair's alignment: its table takes one byte a cell
 * (64 MiB), so e.g. two lines of 8192 characters. Longer pairs are ATTN_ERR_INVALID. */
#define ATTN_ALIGN_MAX_CELLS (1L << 26)

/* Aligns two sequences of token ids, adding its counts (and one sentence) to *acc, which starts
 * zeroed ({0}). Errors (*acc unchanged): ATTN_ERR_INVALID for a NULL acc, a NULL array with a
 * nonzero length, a negative length or a pair over ATTN_ALIGN_MAX_CELLS; ATTN_ERR_NOMEM. */
ATTN_API attn_status attn_align_ids(attn_error_rate *acc, const int *hyp, long n_hyp,
                                    const int *ref, long n_ref);

/* Adds one sentence pair's word (attn_wer_add) or character (attn_cer_add) counts to *acc.
 * Errors (*acc unchanged): ATTN_ERR_INVALID for NULL arguments, invalid UTF-8 (the message says
 * which text and the byte) or a pair over ATTN_ALIGN_MAX_CELLS; ATTN_ERR_NOMEM. */
ATTN_API attn_status attn_wer_add(attn_error_rate *acc, const char *hyp, const char *ref);
ATTN_API attn_status attn_cer_add(attn_error_rate *acc, const char *hyp, const char *ref);

/* Computes hits and rate from the sums in *r. With no reference token at all (N = 0) the rate is
 * 0 if there is no insertion either, otherwise undefined: ATTN_ERR_INVALID (jiwer refuses an
 * empty reference too). ATTN_ERR_INVALID for NULL, negative or inconsistent counts. */
ATTN_API attn_status attn_error_rate_score(attn_error_rate *r);

/* Corpus WER / CER of n hypotheses against one reference each (refs[i] for hyps[i]): a zeroed
 * *out, one add per pair, the score. Errors as the add functions (the message starts
 * "sentence I: ", I 0-based) and attn_error_rate_score; n < 1 or NULL arrays are
 * ATTN_ERR_INVALID. On error *out is zeroed. */
ATTN_API attn_status attn_corpus_wer(const char *const *hyps, const char *const *refs, long n,
                                     attn_error_rate *out);
ATTN_API attn_status attn_corpus_cer(const char *const *hyps, const char *const *refs, long n,
                                     attn_error_rate *out);

/* WER and CER as attn eval asr prints them, in a new string (*out, malloc'd). json == 0, one line:
 *   WER w%  (S s, D d, I i, N n)  CER c%  (S s, D d, I i, N n)
 * followed, when audio_seconds > 0 (a recognizer's run), by "  sentences n  audio a s  RTF r"
 * (RTF = seconds / audio_seconds); json != 0: {"wer": {"rate" (percent), "substitutions",
 * "deletions", "insertions", "hits", "ref_len"}, "cer": {...}} plus, with audio_seconds > 0,
 * "sentences", "audio_seconds", "seconds" and "rtf". Errors: ATTN_ERR_INVALID for NULL
 * arguments; ATTN_ERR_NOMEM. */
ATTN_API attn_status attn_error_rates_format(const attn_error_rate *wer, const attn_error_rate *cer,
                                             double audio_seconds, double seconds, int json,
                                             char **out);

#ifdef __cplusplus
}
#endif
#endif
