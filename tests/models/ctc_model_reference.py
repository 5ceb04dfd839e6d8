#!/usr/bin/python3
"""tests/models/ctc_model_reference.py: a ctc model (docs/FORMATS.md "The exact computation",
config arch "ctc") recomputed in PyTorch float64 from an attn checkpoint, for
tests/models/test_ctc_model.c.

    ctc_model_reference.py MODEL.safetensors BATCH.txt

MODEL: written by attn_model_save (read here by hand: the safetensors package need not be
installed). BATCH: whitespace-separated numbers "B T F Tt", then B lengths, then B*Tt targets
(-100 padding), then B*T*F features. Prints the per-sequence CTC losses (B numbers, blank 0,
torch.nn.functional.ctc_loss), then the log-probabilities (B, T', V), one number a line.
Exits 77 when torch cannot be imported (the C test then skips)."""
import json
import math
import struct
import sys

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    sys.exit(77)

DTYPES = {"F32": ("<f", 4), "F64": ("<d", 8)}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    base = 8 + n
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, info in header.items():
        fmt, size = DTYPES[info["dtype"]]
        begin, end = info["data_offsets"]
        count = (end - begin) // size
        values = struct.unpack("<%d%s" % (count, fmt[1]), data[base + begin:base + end])
        tensors[name] = torch.tensor(values, dtype=torch.float64).reshape(info["shape"])
    return tensors, meta


def sinusoid_table(P, C):
    pos = torch.arange(P, dtype=torch.float64)[:, None]
    freq = torch.exp(-math.log(10000.0) * torch.arange(0, C, 2, dtype=torch.float64) / C)
    pe = torch.zeros(P, C, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(pos * freq)
    pe[:, 1::2] = torch.cos(pos * freq)
    return pe


def activation(name):
    return {"gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),
            "gelu_erf": F.gelu, "relu": F.relu}[name]


def mha(p, pre, x, H, mask):
    W, b = p[pre + "in_proj.weight"], p[pre + "in_proj.bias"]
    B, T, C = x.shape
    D = C // H
    q = x @ W[:C].T + b[:C]
    k = x @ W[C:2 * C].T + b[C:2 * C]
    v = x @ W[2 * C:].T + b[2 * C:]
    q, k, v = (t.view(B, T, H, D).transpose(1, 2) for t in (q, k, v))
    s = q @ k.transpose(-1, -2) / math.sqrt(D) + mask[:, None]
    a = (torch.softmax(s, -1) @ v).transpose(1, 2).reshape(B, T, C)
    return a @ p[pre + "out_proj.weight"].T + p[pre + "out_proj.bias"]


def ffn(p, pre, x, act):
    h = activation(act)(x @ p[pre + "ffn.fc1.weight"].T + p[pre + "ffn.fc1.bias"])
    return h @ p[pre + "ffn.fc2.weight"].T + p[pre + "ffn.fc2.bias"]


def ln(p, name, x, eps):
    return F.layer_norm(x, x.shape[-1:], p[name + ".weight"], p[name + ".bias"], eps)


def sub_len(n):
    return ((n - 1) // 2 - 1) // 2


def main():
    p, meta = read_safetensors(sys.argv[1])
    cfg = json.loads(meta["config"])
    with open(sys.argv[2]) as f:
        nums = f.read().split()
    B, T, Fn, Tt = (int(v) for v in nums[:4])
    at = 4
    lengths = [int(v) for v in nums[at:at + B]]
    at += B
    targets = torch.tensor([int(v) for v in nums[at:at + B * Tt]]).reshape(B, Tt)
    at += B * Tt
    x = torch.tensor([float(v) for v in nums[at:at + B * T * Fn]],
                     dtype=torch.float64).reshape(B, T, Fn)

    C, H, eps, act = cfg["d_model"], cfg["n_heads"], cfg["ln_eps"], cfg["act"]
    if cfg.get("subsample", 0):
        h = x[:, None]  # (B, 1, T, F)
        h = F.relu(F.conv2d(h, p["subsample.conv1.weight"], p["subsample.conv1.bias"], stride=2))
        h = F.relu(F.conv2d(h, p["subsample.conv2.weight"], p["subsample.conv2.bias"], stride=2))
        Bk, K, T2, F2 = h.shape
        h = h.permute(0, 2, 3, 1).reshape(B, T2, F2 * K)  # (F', channel) order
        lengths2 = [sub_len(n) for n in lengths]
    else:
        h, T2, lengths2 = x, T, lengths
    pos = (p["embed.pos.weight"][:T2] if cfg["pos"] == "learned"
           else sinusoid_table(cfg["max_len"], C)[:T2])
    h = h @ p["input_proj.weight"].T + p["input_proj.bias"] + pos[None]

    L = torch.tensor(lengths2)
    allowed = torch.arange(T2)[None, None, :] < L[:, None, None]
    mask = torch.zeros(B, T2, T2, dtype=torch.float64).masked_fill(~allowed, float("-inf"))
    for i in range(cfg["n_layers"]):
        pre = "encoder.layers.%d." % i
        if cfg["norm"] == "pre":
            a = ln(p, pre + "ln1", h, eps)
            h = h + mha(p, pre + "self_attn.", a, H, mask)
            h = h + ffn(p, pre, ln(p, pre + "ln2", h, eps), act)
        else:
            h = ln(p, pre + "ln1", h + mha(p, pre + "self_attn.", h, H, mask), eps)
            h = ln(p, pre + "ln2", h + ffn(p, pre, h, act), eps)
    if cfg["norm"] == "pre":
        h = ln(p, "encoder.ln_f", h, eps)
    logp = torch.log_softmax(h @ p["ctc.weight"].T + p["ctc.bias"], -1)  # (B, T', V)

    tgt_len = (targets != -100).sum(1)
    losses = F.ctc_loss(logp.transpose(0, 1), targets.clamp(min=0), L, tgt_len, blank=0,
                        reduction="none", zero_infinity=False)
    out = ["%.17g" % v for v in losses.tolist()]
    out += ["%.17g" % v for v in logp.reshape(-1).tolist()]
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
