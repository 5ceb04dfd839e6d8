#!/usr/bin/python3
"""tests/models/ctc_model_reference.py: a ctc model (docs/FORMATS.md "The exact computation",
config arch "ctc") recomputed in PyTorch float64 from an attn checkpoint, for
tests/models/test_ctc_model.c.

    ctc_model_reference.py MODEL.safetensors BATCH.txt

MODEL: written by attn_model_save (read here by hand: the safetensors package need not be
installed). BATCH: whitespace-separated numbers "B T F Tt", then B lengths, then B*Tt targets
(-100 padding), then B*T*F features. Prints the per-sequence CTC losses (B numbers, blank 0,
torch.nn.functional.ctc_loss), then the log-probabilities (B, T', V), one number a line.

A seq2seq model over features with a joint CTC head (config ctc_weight = lambda > 0): BATCH is
"B T F Tt Tc", then B lengths, B*Tt tgt_in, B*Tt targets, B*Tc ctc_targets (-100 padding), then
B*T*F features. Prints the decoder's cross-entropy sum (no label smoothing), the encoder's CTC
sum, the joint sum (1 - lambda) CE + lambda CTC, then the decoder's logits (B, Tt, V) (tied to
embed.tok.weight), one number a line.
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


def mha(p, pre, x, H, mask, mem=None):
    """mask (B, Tq, Tk) additive; mem: the keys' and values' input (x itself when None)"""
    W, b = p[pre + "in_proj.weight"], p[pre + "in_proj.bias"]
    mem = x if mem is None else mem
    B, T, C = x.shape
    S = mem.shape[1]
    D = C // H
    q = x @ W[:C].T + b[:C]
    k = mem @ W[C:2 * C].T + b[C:2 * C]
    v = mem @ W[2 * C:].T + b[2 * C:]
    q = q.view(B, T, H, D).transpose(1, 2)
    k, v = (t.view(B, S, H, D).transpose(1, 2) for t in (k, v))
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


def positions(p, cfg, n):
    C = cfg["d_model"]
    return (p["embed.pos.weight"][:n] if cfg["pos"] == "learned"
            else sinusoid_table(cfg["max_len"], C)[:n])


def encoder(p, cfg, x, lengths):
    """x (B, T, F) features: the encoder's output (B, T', C) and lengths T' (a tensor)"""
    B = x.shape[0]
    H, eps, act = cfg["n_heads"], cfg["ln_eps"], cfg["act"]
    if cfg.get("subsample", 0):
        h = x[:, None]  # (B, 1, T, F)
        h = F.relu(F.conv2d(h, p["subsample.conv1.weight"], p["subsample.conv1.bias"], stride=2))
        h = F.relu(F.conv2d(h, p["subsample.conv2.weight"], p["subsample.conv2.bias"], stride=2))
        Bk, K, T2, F2 = h.shape
        h = h.permute(0, 2, 3, 1).reshape(B, T2, F2 * K)  # (F', channel) order
        lengths2 = [sub_len(n) for n in lengths]
    else:
        h, T2, lengths2 = x, x.shape[1], lengths
    h = h @ p["input_proj.weight"].T + p["input_proj.bias"] + positions(p, cfg, T2)[None]

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
    return h, L


def ctc_losses(p, h, L, targets):
    logp = torch.log_softmax(h @ p["ctc.weight"].T + p["ctc.bias"], -1)  # (B, T', V)
    tgt_len = (targets != -100).sum(1)
    losses = F.ctc_loss(logp.transpose(0, 1), targets.clamp(min=0), L, tgt_len, blank=0,
                        reduction="none", zero_infinity=False)
    return losses, logp


def decoder(p, cfg, tgt_in, mem, L):
    """tgt_in (B, Tt) ids, mem (B, T', C) with lengths L: the logits (B, Tt, V)"""
    B, Tt = tgt_in.shape
    C, H, eps, act = cfg["d_model"], cfg["n_heads"], cfg["ln_eps"], cfg["act"]
    tok = p["embed.tok.weight"]
    scale = math.sqrt(C) if cfg.get("scale_embeddings") else 1.0
    h = scale * tok[tgt_in] + positions(p, cfg, Tt)[None]
    causal = torch.ones(Tt, Tt, dtype=torch.bool).tril()
    self_mask = torch.zeros(B, Tt, Tt, dtype=torch.float64).masked_fill(~causal[None],
                                                                         float("-inf"))
    S = mem.shape[1]
    allowed = (torch.arange(S)[None, :] < L[:, None])[:, None, :].expand(B, Tt, S)
    cross_mask = torch.zeros(B, Tt, S, dtype=torch.float64).masked_fill(~allowed, float("-inf"))
    for i in range(cfg["n_dec_layers"]):
        pre = "decoder.layers.%d." % i
        if cfg["norm"] == "pre":
            h = h + mha(p, pre + "self_attn.", ln(p, pre + "ln1", h, eps), H, self_mask)
            h = h + mha(p, pre + "cross_attn.", ln(p, pre + "ln2", h, eps), H, cross_mask, mem)
            h = h + ffn(p, pre, ln(p, pre + "ln3", h, eps), act)
        else:
            h = ln(p, pre + "ln1", h + mha(p, pre + "self_attn.", h, H, self_mask), eps)
            h = ln(p, pre + "ln2", h + mha(p, pre + "cross_attn.", h, H, cross_mask, mem), eps)
            h = ln(p, pre + "ln3", h + ffn(p, pre, h, act), eps)
    if cfg["norm"] == "pre":
        h = ln(p, "decoder.ln_f", h, eps)
    return h @ tok.T


def main():
    p, meta = read_safetensors(sys.argv[1])
    cfg = json.loads(meta["config"])
    with open(sys.argv[2]) as f:
        nums = f.read().split()
    joint = cfg["arch"] == "seq2seq"
    head = 5 if joint else 4
    B, T, Fn, Tt = (int(v) for v in nums[:4])
    Tc = int(nums[4]) if joint else 0
    at = head
    lengths = [int(v) for v in nums[at:at + B]]
    at += B

    def ints(n, cols):
        return torch.tensor([int(v) for v in nums[at:at + n]]).reshape(B, cols)

    if joint:
        tgt_in = ints(B * Tt, Tt)
        at += B * Tt
        targets = ints(B * Tt, Tt)
        at += B * Tt
        ctc_targets = ints(B * Tc, Tc)
        at += B * Tc
    else:
        targets = ints(B * Tt, Tt)
        at += B * Tt
    x = torch.tensor([float(v) for v in nums[at:at + B * T * Fn]],
                     dtype=torch.float64).reshape(B, T, Fn)

    h, L = encoder(p, cfg, x, lengths)
    if joint:
        lam = cfg["ctc_weight"]
        logits = decoder(p, cfg, tgt_in, h, L)
        V = logits.shape[-1]
        ce = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1), ignore_index=-100,
                             reduction="sum")
        ctc = ctc_losses(p, h, L, ctc_targets)[0].sum()
        total = (1 - lam) * ce + lam * ctc
        out = ["%.17g" % float(v) for v in (ce, ctc, total)]
        out += ["%.17g" % v for v in logits.reshape(-1).tolist()]
    else:
        losses, logp = ctc_losses(p, h, L, targets)
        out = ["%.17g" % v for v in losses.tolist()]
        out += ["%.17g" % v for v in logp.reshape(-1).tolist()]
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
