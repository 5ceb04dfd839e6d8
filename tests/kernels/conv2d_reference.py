#!/usr/bin/python3
"""tests/kernels/conv2d_reference.py: reference numbers for tests/kernels/test_conv2d.c.

Prints one JSON object {"cases": [...]}: for each shape, seeded normal inputs (B, H, W, Cin)
channels last, a weight (Cout, Cin, K, K) in nn.Conv2d's layout, a bias (or none) and an output
gradient dout (B, Ho, Wo, Cout), all rounded to float32 (the exact values the C test gets), and what
torch.nn.functional.conv2d (PyTorch 1.13, in float64, NCHW through permutes, no padding) says: out
and the gradients of sum(out * dout) with respect to the input, the weight and the bias.
Exit 77 without torch.
"""
import json
import sys

try:
    import torch
except ImportError:
    sys.exit(77)

torch.manual_seed(29)


def f32(*shape):
    return torch.randn(*shape, dtype=torch.float64).float().double()


def case(B, H, W, Cin, Cout, K, S, bias=True):
    x = f32(B, H, W, Cin).requires_grad_(True)
    w = f32(Cout, Cin, K, K).requires_grad_(True)
    b = f32(Cout).requires_grad_(True) if bias else None
    out = torch.nn.functional.conv2d(x.permute(0, 3, 1, 2), w, b, stride=S).permute(0, 2, 3, 1)
    dout = f32(*out.shape)
    (out * dout).sum().backward()
    flat = lambda t: t.detach().flatten().tolist()
    return {"B": B, "H": H, "W": W, "Cin": Cin, "Cout": Cout, "K": K, "S": S, "bias": bias,
            "inp": flat(x), "weight": flat(w), "b": flat(b) if bias else [], "dout": flat(dout),
            "out": flat(out), "dinp": flat(x.grad), "dweight": flat(w.grad),
            "dbias": flat(b.grad) if bias else []}


cases = [
    case(2, 11, 9, 1, 8, 3, 2),                # the first layer's shape, small
    case(2, 9, 7, 5, 6, 3, 2),                 # the second layer's, small
    case(1, 8, 10, 3, 4, 3, 1),                # stride 1: overlapping windows
    case(3, 7, 6, 2, 3, 2, 2, bias=False),     # K = S, no bias, odd sizes
    case(1, 12, 5, 4, 5, 5, 3),                # rows and columns past the last window unread
]
print(json.dumps({"cases": cases}))
