/* kernels/ctc.h: connectionist temporal classification (Graves et al. 2006): the loss by the
 * forward-backward recursions in log space, its gradient, and greedy decoding. PyTorch semantics
 * (torch.nn.functional.ctc_loss).
 *
 * log_probs: (T, B, V), log-softmax outputs, time-major as PyTorch's; sequence b uses frames
 * 0..input_lengths[b] - 1. targets: (B, S) padded, sequence b's labels targets[b * S + 0..
 * target_lengths[b] - 1], each in [0, V) and != blank. The loss of sequence b is
 * -log p(targets_b | x_b), p summed over every frame labelling that collapses (repeats merged,
 * then blanks dropped) to the targets. A sequence with no such labelling (too few frames for its
 * labels and the blanks its repeats need) has loss +INFINITY and a zero gradient (PyTorch's
 * zero_infinity=True for the gradient; the trainer stops on the infinite loss).
 *
 * The recursions run in double, so the loss of a 1000-frame sequence keeps ~1e-12 relative
 * accuracy; alpha and beta of one sequence (2 T (2 S + 1) doubles) are allocated per call.
 * Errors (ATTN_ERR_INVALID, the message names the sequence): a size < 1 (S may be 0), blank
 * outside [0, V), an input length outside [0, T], a target length outside [0, S], a label out of
 * range or equal to blank; ATTN_ERR_NOMEM. Nothing is written on error. */
#ifndef ATTN_KERNELS_CTC_H
#define ATTN_KERNELS_CTC_H

#include "attn/status.h"

/* losses[b] = -log p(targets_b | x_b), b < B. Sum them (and the target lengths, or B, as the
 * count) for a batch loss; PyTorch's reduction='mean' is mean_b(losses[b] / target_lengths[b]). */
attn_status attn_ctc_forward(float *losses, const float *log_probs, const int *targets,
                             const int *input_lengths, const int *target_lengths, int T, int B,
                             int V, int S, int blank);

/* Accumulates (+=) into dlogits (T, B, V) the gradient of sum_b dloss[b] * losses[b] with
 * respect to the logits z, log_probs = log_softmax(z):
 *   dz[t, b, k] += dloss[b] (exp(log_probs[t, b, k]) - gamma[t, b, k]) for t < input_lengths[b],
 * gamma the posterior probability that frame t emits k (sum_k gamma = 1). This is also what
 * PyTorch's ctc_loss backward returns for log_probs (its gradient assumes a log_softmax below).
 * dloss NULL means 1 for every sequence. Frames at or past input_lengths[b] get nothing. */
attn_status attn_ctc_backward(float *dlogits, const float *dloss, const float *log_probs,
                              const int *targets, const int *input_lengths,
                              const int *target_lengths, int T, int B, int V, int S, int blank);

/* Greedy (best path) decoding: per frame the most likely class (the lowest index on a tie),
 * repeats merged, blanks dropped. out: (B, T), sequence b's labels in out[b * T ..],
 * out_lengths[b] of them (<= input_lengths[b]). Errors: sizes, blank or lengths as above. */
attn_status attn_ctc_greedy_decode(int *out, int *out_lengths, const float *log_probs,
                                   const int *input_lengths, int T, int B, int V, int blank);

/* Prefix beam search (Hannun et al. 2014, no language model) over one sequence of T frames:
 * log_probs (T, V) with `stride` floats between frames (B * V for sequence b of a (T, B, V)
 * batch, starting at log_probs + b * V). Each labelling prefix keeps the probability of ending in
 * a blank and in a label; at every frame every prefix is extended by every class, prefixes that
 * become equal are merged, and the `beam` most probable survive. The n_best (<= beam) best
 * labellings go to out (n_best, T), their lengths to out_lengths and log p(labelling | x) to
 * scores (descending; -INFINITY and length 0 for missing entries when fewer exist). With a beam
 * at least the number of distinct labellings the scores are exact: -attn_ctc_forward's loss.
 * Errors: ATTN_ERR_INVALID for sizes < 1, n_best > beam, blank outside [0, V); ATTN_ERR_NOMEM
 * (about beam * (T + 2 V) ints and doubles are allocated per call). */
attn_status attn_ctc_prefix_beam_search(int *out, int *out_lengths, float *scores,
                                        const float *log_probs, long stride, int T, int V,
                                        int blank, int beam, int n_best);

/* A deterministic automaton over the V labels that limits the labellings a search may produce
 * (a lexicon, a grammar): state 0 is the start; next[s * V + c] is the state after label c in
 * state s, -1 where c is not allowed (always for the blank); accept[s] is nonzero where a
 * labelling may end. */
typedef struct {
    int n_states;
    const int *next;             /* (n_states, V) */
    const unsigned char *accept; /* (n_states) */
} attn_ctc_dfa;

/* attn_ctc_prefix_beam_search over the labellings dfa allows (NULL: all): a prefix is extended
 * only by the labels its state has a move on, and the n best are those of the final beam whose
 * state accepts (when none does, the best of the beam as it is). Errors: as the search, and
 * ATTN_ERR_INVALID for an automaton without states or with a move outside [-1, n_states) or on
 * the blank. */
attn_status attn_ctc_prefix_beam_search_dfa(int *out, int *out_lengths, float *scores,
                                            const float *log_probs, long stride, int T, int V,
                                            int blank, int beam, int n_best,
                                            const attn_ctc_dfa *dfa);

/* A language model fused into the search (Hannun et al. 2014, eq. 3, per label): a labelling l
 * ranks by log p_ctc(l | x) + weight log p_lm(l) + bonus |l|, where p_lm(l) is the product of
 * p_lm(l_i | l_1..l_i-1) and of p_lm(end | l). next(user, labels, n, out) fills out[c] with
 * log p_lm(c | labels[0..n)) for the labels c != blank of [0, V) and out[V] with log p_lm(end |
 * labels); it is called once per prefix of the beam per frame. */
typedef struct {
    void (*next)(void *user, const int *labels, int n, float *out);
    void *user;
    float weight, bonus;
} attn_ctc_lm;

/* attn_ctc_prefix_beam_search_dfa with a language model (NULL: none, as _dfa): the beam keeps the
 * best prefixes by the fused score, the n best are ranked by it (the end's probability
 * included), and scores holds it. Errors: as _dfa; ATTN_ERR_INVALID for an lm without next or
 * with a non-finite weight or bonus; ATTN_ERR_NOMEM. */
attn_status attn_ctc_prefix_beam_search_lm(int *out, int *out_lengths, float *scores,
                                           const float *log_probs, long stride, int T, int V,
                                           int blank, int beam, int n_best,
                                           const attn_ctc_dfa *dfa, const attn_ctc_lm *lm);

#endif
