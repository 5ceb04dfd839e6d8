#!/usr/bin/python3
"""tests/kernels/ctc_reference.py: reference numbers for tests/kernels/test_ctc.c.

Prints one JSON object {"cases": [...]}: deterministic batches of log-probabilities (log_softmax
of seeded normal logits, rounded to float32: the exact inputs the C test gives), padded targets
(with repeats, empty targets, a blank in the middle of the vocabulary or last, sequences too short
for their targets) and lengths, and what torch.nn.functional.ctc_loss (PyTorch 1.13, in float64
on the float32 inputs) says: the per-sequence losses (reduction="none") and the gradient of
sum_b w_b loss_b with respect to log_probs for seeded weights w (PyTorch's CTC gradient is the
one with respect to the logits below a log_softmax: exp(log_probs) - posterior), with
zero_infinity=True so an impossible sequence has a zero gradient. Exit 77 without torch.
"""
import json
import math
import sys

try:
    import torch
except ImportError:
    sys.exit(77)

torch.manual_seed(13)


def case(T, B, V, S, blank, input_lengths, targets):
    logits = torch.randn(T, B, V, dtype=torch.float64) * 2
    lp = torch.log_softmax(logits, -1).float().double()  # the float32 values the C test gets
    target_lengths = [len(t) for t in targets]
    padded = [list(t) + [1 if blank != 1 else 2] * (S - len(t)) for t in targets]
    w = torch.rand(B, dtype=torch.float64) + 0.5
    x = lp.clone().requires_grad_(True)
    kw = dict(blank=blank, reduction="none")
    losses = torch.nn.functional.ctc_loss(x, torch.tensor(padded), torch.tensor(input_lengths),
                                          torch.tensor(target_lengths), **kw)
    x2 = lp.clone().requires_grad_(True)
    l2 = torch.nn.functional.ctc_loss(x2, torch.tensor(padded), torch.tensor(input_lengths),
                                      torch.tensor(target_lengths), zero_infinity=True, **kw)
    (l2 * w).sum().backward()
    return {"T": T, "B": B, "V": V, "S": S, "blank": blank, "log_probs": lp.flatten().tolist(),
            "targets": sum(padded, []), "input_lengths": input_lengths, "target_lengths": target_lengths,
            "weights": w.tolist(), "losses": [v if math.isfinite(v) else None for v in losses.tolist()],  # None: inf
            "grad": x2.grad.flatten().tolist()}


cases = [
    # repeats (2 2), an empty target, a short input
    case(12, 4, 6, 5, 0, [12, 9, 5, 12], [[1, 2, 2, 3, 5], [4, 1], [], [3, 3, 3]]),
    # the blank in the middle, then last
    case(10, 2, 5, 4, 2, [10, 7], [[0, 1, 3, 4], [4, 4]]),
    case(8, 3, 7, 3, 6, [8, 8, 1], [[5, 0, 5], [1], [2]]),
    # too short: [1 1 2] needs 4 frames, gets 3 (loss inf, zero gradient); exactly enough: 4
    case(6, 2, 4, 3, 0, [3, 4], [[1, 1, 2], [1, 1, 2]]),
    # longer, to test the log-space recursions over many frames
    case(120, 2, 30, 40, 0, [120, 97], [[1 + (i * 7) % 29 for i in range(40)], [1 + (i * 3) % 29 for i in range(25)]]),
]
print(json.dumps({"cases": cases}))
