#!/usr/bin/python3
"""make_fixtures.py OUTDIR: the PyTorch reference of docs/FORMATS.md, written as parity fixtures.

Usage: /usr/bin/python3 tests/parity/make_fixtures.py tests/fixtures

Everything is computed in float64 (so the references are exact to float32 precision) and stored
as F32; integer inputs are stored as I64. Every fixture draws from its own fixed seed, so the
output is deterministic and adding a fixture changes no other. Before writing anything the script
checks its own reference against PyTorch's modules (nn.MultiheadAttention,
nn.TransformerEncoderLayer / DecoderLayer / Encoder / Decoder, a hand-written AdamW against
torch.optim.AdamW); an assert fails if any disagrees. tests/parity/README.md documents the files.
"""
import json
import math
import os
import sys
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)  # deterministic reductions


# ---------------------------------------------------------------------------------------------
# safetensors writer (8-byte LE header length, JSON header, raw little-endian data)

def write_safetensors(path, tensors, metadata):
    header = OrderedDict()
    header["__metadata__"] = OrderedDict((k, v if isinstance(v, str) else json.dumps(v))
                                         for k, v in metadata.items())
    blobs, offset = [], 0
    for name, t in tensors.items():
        a = t.detach().cpu().numpy() if torch.is_tensor(t) else np.asarray(t)
        if a.dtype.kind in "iub":
            a, dtype = np.ascontiguousarray(a, dtype="<i8"), "I64"
        else:
            a, dtype = np.ascontiguousarray(a, dtype="<f4"), "F32"
        b = a.tobytes()
        header[name] = {"dtype": dtype, "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(len(h).to_bytes(8, "little"))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------
# The model of docs/FORMATS.md, as plain functions over a dict of named parameters.

def activation(name):
    return {"gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),
            "gelu_erf": F.gelu, "relu": F.relu}[name]


def additive_mask(B, Tq, Tk, lengths=None, causal=False):
    """(B, Tq, Tk): 0 where query i may see key j, -inf elsewhere (key padding: j >= lengths[b];
    causal: j > i)."""
    allowed = torch.ones(B, Tq, Tk, dtype=torch.bool)
    if lengths is not None:
        allowed &= (torch.arange(Tk)[None, None, :] < lengths[:, None, None])
    if causal:
        allowed &= torch.ones(Tq, Tk, dtype=torch.bool).tril()[None]
    return torch.zeros(B, Tq, Tk).masked_fill(~allowed, float("-inf"))


def mha(p, pre, x, m, H, mask):
    """x: (B, Tq, C) queries, m: (B, Tk, C) keys/values source, mask: additive (B, Tq, Tk)."""
    W, b = p[pre + "in_proj.weight"], p[pre + "in_proj.bias"]
    B, Tq, C = x.shape
    D = C // H
    q = x @ W[:C].T + b[:C]
    k = m @ W[C:2 * C].T + b[C:2 * C]
    v = m @ W[2 * C:].T + b[2 * C:]
    q, k, v = (t.view(B, -1, H, D).transpose(1, 2) for t in (q, k, v))   # (B, H, T, D)
    s = q @ k.transpose(-1, -2) / math.sqrt(D)
    if mask is not None:
        s = s + mask[:, None].to(s.dtype)
    a = (torch.softmax(s, -1) @ v).transpose(1, 2).reshape(B, Tq, C)
    return a @ p[pre + "out_proj.weight"].T + p[pre + "out_proj.bias"]


def ffn(p, pre, x, act):
    h = activation(act)(x @ p[pre + "ffn.fc1.weight"].T + p[pre + "ffn.fc1.bias"])
    return h @ p[pre + "ffn.fc2.weight"].T + p[pre + "ffn.fc2.bias"]


def ln(p, name, x, eps):
    return F.layer_norm(x, x.shape[-1:], p[name + ".weight"], p[name + ".bias"], eps)


def encoder_layer(p, pre, x, H, act, eps, norm, mask):
    if norm == "pre":
        h = ln(p, pre + "ln1", x, eps)
        x = x + mha(p, pre + "self_attn.", h, h, H, mask)
        return x + ffn(p, pre, ln(p, pre + "ln2", x, eps), act)
    x = ln(p, pre + "ln1", x + mha(p, pre + "self_attn.", x, x, H, mask), eps)
    return ln(p, pre + "ln2", x + ffn(p, pre, x, act), eps)


def decoder_layer(p, pre, x, mem, H, act, eps, norm, self_mask, cross_mask):
    """mem None: a decoder_lm layer (ln1 self-attention, ln2 FFN)."""
    last = pre + ("ln3" if mem is not None else "ln2")
    if norm == "pre":
        h = ln(p, pre + "ln1", x, eps)
        x = x + mha(p, pre + "self_attn.", h, h, H, self_mask)
        if mem is not None:
            x = x + mha(p, pre + "cross_attn.", ln(p, pre + "ln2", x, eps), mem, H, cross_mask)
        return x + ffn(p, pre, ln(p, last, x, eps), act)
    x = ln(p, pre + "ln1", x + mha(p, pre + "self_attn.", x, x, H, self_mask), eps)
    if mem is not None:
        x = ln(p, pre + "ln2", x + mha(p, pre + "cross_attn.", x, mem, H, cross_mask), eps)
    return ln(p, last, x + ffn(p, pre, x, act), eps)


def sinusoid_table(P, C):
    """The original paper's table: PE[p, 2i] = sin(p / 10000^(2i/C)), PE[p, 2i+1] = cos(same)."""
    pos = torch.arange(P, dtype=torch.float64)[:, None]
    freq = torch.exp(-math.log(10000.0) * torch.arange(0, C, 2, dtype=torch.float64) / C)
    pe = torch.zeros(P, C)
    pe[:, 0::2] = torch.sin(pos * freq)
    pe[:, 1::2] = torch.cos(pos * freq)
    return pe


def embed(p, cfg, ids):
    C = cfg["d_model"]
    s = math.sqrt(C) if cfg["scale_embeddings"] else 1.0
    T = ids.shape[1]
    pos = (p["embed.pos.weight"][:T] if cfg["pos"] == "learned"
           else sinusoid_table(cfg["max_len"], C)[:T].to(p["embed.tok.weight"].dtype))
    return s * p["embed.tok.weight"][ids] + pos[None]


def embed_features(p, cfg, features):
    """A feature-input encoder (n_features > 0): input_proj, then the positions (no scale)."""
    W = p["input_proj.weight"]
    T = features.shape[1]
    pos = (p["embed.pos.weight"][:T] if cfg["pos"] == "learned"
           else sinusoid_table(cfg["max_len"], cfg["d_model"])[:T].to(W.dtype))
    return features.to(W.dtype) @ W.T + p["input_proj.bias"] + pos[None]


def encoder_input(p, cfg, batch):
    """The encoder's embedded input: token ids, or feature vectors when n_features > 0."""
    if cfg.get("n_features", 0):
        return embed_features(p, cfg, batch["features"])
    return embed(p, cfg, batch["tokens"])


def batch_shape(batch):
    x = batch["features"] if "features" in batch else batch["tokens"]
    return x.shape[0], x.shape[1]


def stack(p, cfg, side, x, mem=None, self_mask=None, cross_mask=None):
    H, act, eps, norm = cfg["n_heads"], cfg["act"], cfg["ln_eps"], cfg["norm"]
    if side == "encoder":
        n = cfg["n_layers"]
    else:
        n = cfg["n_dec_layers"] if cfg["arch"] == "seq2seq" else cfg["n_layers"]
    for i in range(n):
        pre = "%s.layers.%d." % (side, i)
        if side == "encoder":
            x = encoder_layer(p, pre, x, H, act, eps, norm, self_mask)
        else:
            x = decoder_layer(p, pre, x, mem, H, act, eps, norm, self_mask, cross_mask)
    if norm == "pre":
        x = ln(p, side + ".ln_f", x, eps)
    return x


def model_forward(p, cfg, batch, label_smoothing=0.0):
    """Returns logits and the mean cross-entropy over targets that are not -100."""
    arch = cfg["arch"]
    B, T = batch_shape(batch)
    lengths = batch["lengths"]
    if arch == "classifier":
        h = stack(p, cfg, "encoder", encoder_input(p, cfg, batch),
                  self_mask=additive_mask(B, T, T, lengths))
        if cfg["pool"] == "cls":
            pooled = h[:, 0]
        else:
            valid = (torch.arange(T)[None, :] < lengths[:, None]).to(h.dtype)
            pooled = (h * valid[..., None]).sum(1) / lengths[:, None].to(h.dtype)
        logits = pooled @ p["head.weight"].T + p["head.bias"]
        targets = batch["labels"]
    elif arch == "decoder_lm":
        # causal; keys past the row's length are masked too (changes only the padding rows)
        h = stack(p, cfg, "decoder", embed(p, cfg, batch["tokens"]),
                  self_mask=additive_mask(B, T, T, lengths, causal=True))
        logits = h @ p["embed.tok.weight"].T
        targets = batch["targets"]
    else:
        mem = stack(p, cfg, "encoder", encoder_input(p, cfg, batch),
                    self_mask=additive_mask(B, T, T, lengths))
        Tt = batch["tgt_in"].shape[1]
        h = stack(p, cfg, "decoder", embed(p, cfg, batch["tgt_in"]), mem=mem,
                  self_mask=additive_mask(B, Tt, Tt, causal=True),
                  cross_mask=additive_mask(B, Tt, T, lengths))
        logits = h @ p["embed.tok.weight"].T
        targets = batch["targets"]
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                           ignore_index=-100, label_smoothing=label_smoothing)
    return logits, loss


# ---------------------------------------------------------------------------------------------
# Parameters: names and shapes of docs/FORMATS.md, and a test initialisation.

def mha_specs(pre, C):
    return [(pre + "in_proj.weight", (3 * C, C)), (pre + "in_proj.bias", (3 * C,)),
            (pre + "out_proj.weight", (C, C)), (pre + "out_proj.bias", (C,))]


def ffn_specs(pre, C, Fd):
    return [(pre + "ffn.fc1.weight", (Fd, C)), (pre + "ffn.fc1.bias", (Fd,)),
            (pre + "ffn.fc2.weight", (C, Fd)), (pre + "ffn.fc2.bias", (C,))]


def ln_specs(name, C):
    return [(name + ".weight", (C,)), (name + ".bias", (C,))]


def encoder_layer_specs(pre, C, Fd):
    return (mha_specs(pre + "self_attn.", C) + ln_specs(pre + "ln1", C) + ffn_specs(pre, C, Fd)
            + ln_specs(pre + "ln2", C))


def decoder_layer_specs(pre, C, Fd, cross):
    s = mha_specs(pre + "self_attn.", C)
    if cross:
        s += mha_specs(pre + "cross_attn.", C)
    s += ln_specs(pre + "ln1", C) + ln_specs(pre + "ln2", C)
    if cross:
        s += ln_specs(pre + "ln3", C)
    return s + ffn_specs(pre, C, Fd)


def model_specs(cfg):
    C, Fd, V, P = cfg["d_model"], cfg["d_ff"], cfg["vocab_size"], cfg["max_len"]
    arch, pre_ln = cfg["arch"], cfg["norm"] == "pre"
    NF = cfg.get("n_features", 0)
    s = [] if arch == "classifier" and NF else [("embed.tok.weight", (V, C))]
    if cfg["pos"] == "learned":
        s.append(("embed.pos.weight", (P, C)))
    if NF:
        s += [("input_proj.weight", (C, NF)), ("input_proj.bias", (C,))]
    if arch in ("classifier", "seq2seq"):
        for i in range(cfg["n_layers"]):
            s += encoder_layer_specs("encoder.layers.%d." % i, C, Fd)
        if pre_ln:
            s += ln_specs("encoder.ln_f", C)
    if arch in ("decoder_lm", "seq2seq"):
        n = cfg["n_dec_layers"] if arch == "seq2seq" else cfg["n_layers"]
        for i in range(n):
            s += decoder_layer_specs("decoder.layers.%d." % i, C, Fd, arch == "seq2seq")
        if pre_ln:
            s += ln_specs("decoder.ln_f", C)
    if arch == "classifier":
        s += [("head.weight", (cfg["n_classes"], C)), ("head.bias", (cfg["n_classes"],))]
    return s


def init_params(specs, gen):
    """Larger than a training init on purpose: attention scores of order one (so a wrong scale or
    mask shows), non-trivial LayerNorm affine parameters and biases (so a dropped term shows)."""
    p = OrderedDict()
    for name, shape in specs:
        if name.endswith("bias"):
            t = 0.1 * torch.randn(shape, generator=gen)
        elif ".ln" in name or name.startswith("ln"):
            t = 1.0 + 0.1 * torch.randn(shape, generator=gen)
        elif name.startswith("embed."):
            t = 0.5 * torch.randn(shape, generator=gen)
        else:
            t = torch.randn(shape, generator=gen) / math.sqrt(shape[1])
        p[name] = t.requires_grad_(True)
    return p


# ---------------------------------------------------------------------------------------------
# Optimisation: torch.optim.AdamW, decay on ndim >= 2 only, global-norm clipping.

def adamw_run(p, cfg, batch, hp, label_smoothing):
    """hp["steps"] updates on the same batch; returns the losses and gradient norms before each."""
    params = list(p.values())
    opt = torch.optim.AdamW(
        [{"params": [t for t in params if t.dim() >= 2], "weight_decay": hp["weight_decay"]},
         {"params": [t for t in params if t.dim() < 2], "weight_decay": 0.0}],
        lr=hp["lr"], betas=(hp["beta1"], hp["beta2"]), eps=hp["eps"])
    losses, norms = [], []
    for _ in range(hp["steps"]):
        opt.zero_grad()
        _, loss = model_forward(p, cfg, batch, label_smoothing)
        loss.backward()
        if hp["clip_norm"] > 0:
            norm = torch.nn.utils.clip_grad_norm_(params, hp["clip_norm"])
        else:
            norm = torch.norm(torch.stack([t.grad.norm() for t in params]))
        losses.append(loss.item())
        norms.append(norm.item())
        opt.step()
    return losses, norms


def adamw_by_hand(params, grads_per_step, hp):
    """docs/FORMATS.md's AdamW written out, to check that it is torch.optim.AdamW."""
    theta = [t.detach().clone() for t in params]
    m = [torch.zeros_like(t) for t in theta]
    v = [torch.zeros_like(t) for t in theta]
    b1, b2 = hp["beta1"], hp["beta2"]
    for step, grads in enumerate(grads_per_step, 1):
        norm = math.sqrt(sum(float((g * g).sum()) for g in grads))
        c = min(1.0, hp["clip_norm"] / (norm + 1e-6)) if hp["clip_norm"] > 0 else 1.0
        for i, g in enumerate(grads):
            g = g * c
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            if theta[i].dim() >= 2:
                theta[i] = theta[i] - hp["lr"] * hp["weight_decay"] * theta[i]
            mh, vh = m[i] / (1 - b1 ** step), v[i] / (1 - b2 ** step)
            theta[i] = theta[i] - hp["lr"] * mh / (vh.sqrt() + hp["eps"])
    return theta


# ---------------------------------------------------------------------------------------------
# Self-checks against PyTorch's own modules.

def close(a, b, what, tol=1e-10):
    err = (a - b).abs().max().item() / max(1.0, b.abs().max().item())
    assert err < tol, "%s: self-check failed, error %.3g" % (what, err)
    return err


def torch_layer(kind, C, H, Fd, norm, act, eps):
    """nn.Transformer{Encoder,Decoder}Layer and the mapping of its names to ours."""
    a = {"relu": "relu", "gelu_erf": "gelu",
         "gelu_tanh": lambda x: F.gelu(x, approximate="tanh")}[act]
    cls = nn.TransformerEncoderLayer if kind == "encoder" else nn.TransformerDecoderLayer
    layer = cls(C, H, Fd, dropout=0.0, activation=a, layer_norm_eps=eps, batch_first=True,
                norm_first=(norm == "pre")).double().train()
    names = {"self_attn.in_proj_weight": "self_attn.in_proj.weight",
             "self_attn.in_proj_bias": "self_attn.in_proj.bias",
             "multihead_attn.in_proj_weight": "cross_attn.in_proj.weight",
             "multihead_attn.in_proj_bias": "cross_attn.in_proj.bias",
             "multihead_attn.out_proj.weight": "cross_attn.out_proj.weight",
             "multihead_attn.out_proj.bias": "cross_attn.out_proj.bias",
             "linear1.weight": "ffn.fc1.weight", "linear1.bias": "ffn.fc1.bias",
             "linear2.weight": "ffn.fc2.weight", "linear2.bias": "ffn.fc2.bias",
             "norm1.weight": "ln1.weight", "norm1.bias": "ln1.bias",
             "norm2.weight": "ln2.weight", "norm2.bias": "ln2.bias",
             "norm3.weight": "ln3.weight", "norm3.bias": "ln3.bias"}
    return layer, names


def load_into(module, p, names):
    with torch.no_grad():
        for tn, t in module.named_parameters():
            t.copy_(p[names.get(tn, tn)])


def self_check_mha(gen, log):
    for (B, Tq, Tk, C, H, causal, cross) in [(3, 7, 7, 32, 4, False, False),
                                             (2, 5, 11, 24, 3, False, True),
                                             (2, 9, 9, 16, 1, True, False)]:
        p = init_params(mha_specs("", C), gen)
        x = torch.randn(B, Tq, C, generator=gen)
        m = torch.randn(B, Tk, C, generator=gen) if cross else x
        lengths = torch.tensor([Tk] + [max(1, Tk - 3 * i) for i in range(1, B)])
        ref = nn.MultiheadAttention(C, H, dropout=0.0, batch_first=True).double()
        with torch.no_grad():
            ref.in_proj_weight.copy_(p["in_proj.weight"])
            ref.in_proj_bias.copy_(p["in_proj.bias"])
            ref.out_proj.weight.copy_(p["out_proj.weight"])
            ref.out_proj.bias.copy_(p["out_proj.bias"])
        if causal:
            want, _ = ref(x, m, m, attn_mask=~torch.ones(Tq, Tk, dtype=torch.bool).tril(),
                          need_weights=False)
            got = mha(p, "", x, m, H, additive_mask(B, Tq, Tk, causal=True))
        else:
            want, _ = ref(x, m, m, key_padding_mask=torch.arange(Tk)[None] >= lengths[:, None],
                          need_weights=False)
            got = mha(p, "", x, m, H, additive_mask(B, Tq, Tk, lengths))
        err = close(got, want, "MHA")
        log.append("mha vs nn.MultiheadAttention (%s): max err %.1e"
                   % ("causal" if causal else "cross" if cross else "self", err))


def self_check_layers(gen, log):
    B, T, S, C, H, Fd, eps = 3, 7, 6, 16, 2, 24, 1e-5
    x = torch.randn(B, T, C, generator=gen)
    mem = torch.randn(B, S, C, generator=gen)
    xl, ml = torch.tensor([7, 4, 1]), torch.tensor([6, 2, 5])
    causal_bool = ~torch.ones(T, T, dtype=torch.bool).tril()
    for norm in ("post", "pre"):
        for act in ("relu", "gelu_erf", "gelu_tanh"):
            p = init_params(encoder_layer_specs("", C, Fd), gen)
            ref, names = torch_layer("encoder", C, H, Fd, norm, act, eps)
            load_into(ref, p, names)
            want = ref(x, src_key_padding_mask=torch.arange(T)[None] >= xl[:, None])
            got = encoder_layer(p, "", x, H, act, eps, norm, additive_mask(B, T, T, xl))
            e1 = close(got, want, "encoder layer %s %s" % (norm, act))
            # the decoder_lm layer is an encoder layer with a causal mask
            want = ref(x, src_mask=causal_bool)
            got = decoder_layer(p, "", x, None, H, act, eps, norm,
                                additive_mask(B, T, T, causal=True), None)
            e2 = close(got, want, "decoder_lm layer %s %s" % (norm, act))
            p = init_params(decoder_layer_specs("", C, Fd, True), gen)
            ref, names = torch_layer("decoder", C, H, Fd, norm, act, eps)
            load_into(ref, p, names)
            want = ref(x, mem, tgt_mask=causal_bool,
                       memory_key_padding_mask=torch.arange(S)[None] >= ml[:, None])
            got = decoder_layer(p, "", x, mem, H, act, eps, norm,
                                additive_mask(B, T, T, causal=True), additive_mask(B, T, S, ml))
            e3 = close(got, want, "decoder layer %s %s" % (norm, act))
            log.append("%s-LN %-9s vs nn.TransformerEncoderLayer %.1e, as decoder_lm layer %.1e, "
                       "vs nn.TransformerDecoderLayer %.1e" % (norm, act, e1, e2, e3))


def self_check_model(name, cfg, p, batch, ls, logits, loss, log):
    """The whole forward again through nn.TransformerEncoder/Decoder and F.cross_entropy."""
    C, H, Fd, eps, norm, act = (cfg["d_model"], cfg["n_heads"], cfg["d_ff"], cfg["ln_eps"],
                                cfg["norm"], cfg["act"])
    lengths = batch["lengths"]
    B, T = batch_shape(batch)
    pad = torch.arange(T)[None] >= lengths[:, None]

    def build(kind, n, prefix):
        layer, names = torch_layer(kind, C, H, Fd, norm, act, eps)
        final = nn.LayerNorm(C, eps=eps).double() if norm == "pre" else None
        if kind == "encoder":
            stk = nn.TransformerEncoder(layer, n, norm=final, enable_nested_tensor=False)
        else:
            stk = nn.TransformerDecoder(layer, n, norm=final)
        with torch.no_grad():
            for tn, t in stk.named_parameters():
                if tn.startswith("norm."):
                    t.copy_(p[prefix + "ln_f." + tn[5:]])
                else:
                    _, i, tail = tn.split(".", 2)
                    t.copy_(p["%slayers.%s.%s" % (prefix, i, names.get(tail, tail))])
        return stk.train()

    causal = lambda n: ~torch.ones(n, n, dtype=torch.bool).tril()
    with torch.no_grad():
        if cfg["arch"] == "classifier":
            x = encoder_input(p, cfg, batch)
            h = build("encoder", cfg["n_layers"], "encoder.")(x, src_key_padding_mask=pad)
            pooled = h[:, 0] if cfg["pool"] == "cls" else torch.stack(
                [h[b, :lengths[b]].mean(0) for b in range(B)])
            want = F.linear(pooled, p["head.weight"], p["head.bias"])
            tgt = batch["labels"]
        elif cfg["arch"] == "decoder_lm":
            x = embed(p, cfg, batch["tokens"])
            h = build("encoder", cfg["n_layers"], "decoder.")(x, mask=causal(T),
                                                              src_key_padding_mask=pad)
            want = F.linear(h, p["embed.tok.weight"])
            tgt = batch["targets"]
        else:
            x = encoder_input(p, cfg, batch)
            mem = build("encoder", cfg["n_layers"], "encoder.")(x, src_key_padding_mask=pad)
            y = embed(p, cfg, batch["tgt_in"])
            h = build("decoder", cfg["n_dec_layers"], "decoder.")(
                y, mem, tgt_mask=causal(y.shape[1]), memory_key_padding_mask=pad)
            want = F.linear(h, p["embed.tok.weight"])
            tgt = batch["targets"]
        want_loss = F.cross_entropy(want.reshape(-1, want.shape[-1]), tgt.reshape(-1),
                                    label_smoothing=ls)
    e = close(logits, want, name + " logits")
    e = max(e, close(loss.reshape(1), want_loss.reshape(1), name + " loss"))
    log.append("%-22s logits and loss vs nn.Transformer* modules: max err %.1e" % (name, e))


def self_check_adamw(cfg, p0, batch, hp, ls, after, log, name):
    p = OrderedDict((k, v.detach().clone().requires_grad_(True)) for k, v in p0.items())
    grads_per_step = []
    theta = None
    for step in range(hp["steps"]):
        # the hand version's own trajectory: gradients at its iterates, all steps replayed
        cur = (p if theta is None else
               OrderedDict((k, t.clone().requires_grad_(True)) for k, t in zip(p, theta)))
        _, loss = model_forward(cur, cfg, batch, ls)
        grads = torch.autograd.grad(loss, list(cur.values()))
        grads_per_step.append([g.detach() for g in grads])
        theta = adamw_by_hand(list(p0.values()), grads_per_step, hp)
    e = max(close(t, after[k], name + " AdamW " + k) for k, t in zip(p, theta))
    log.append("%-22s AdamW by hand (FORMATS.md) vs torch.optim.AdamW: max err %.1e" % (name, e))


# ---------------------------------------------------------------------------------------------
# Fixtures

def seeded(name):
    g = torch.Generator()
    g.manual_seed(sum((i + 1) * ord(c) for i, c in enumerate(name)) + 12345)
    return g


def layer_fixture(out, noise, name, kind, B, T, C, H, Fd=0, S=0, norm="pre", act="relu",
                  eps=1e-5, causal=False, lengths=None):
    """kind: mha (self, causal or cross when S > 0), encoder_layer, decoder_layer (cross)."""
    gen = seeded(name)
    cross = S > 0
    if kind == "mha":
        specs = mha_specs("", C)
    elif kind == "encoder_layer":
        specs = encoder_layer_specs("", C, Fd)
    else:
        specs = decoder_layer_specs("", C, Fd, cross)
    p = init_params(specs, gen)
    x = torch.randn(B, T, C, generator=gen).requires_grad_(True)
    mem = torch.randn(B, S, C, generator=gen).requires_grad_(True) if cross else None
    Tk = S if cross else T
    key_padding = lengths is not None
    lengths = torch.tensor(lengths if key_padding else [Tk] * B)
    kmask = additive_mask(B, T, Tk, lengths if key_padding else None, causal=causal and not cross)

    def run(p, x, mem):
        if kind == "mha":
            return mha(p, "", x, mem if cross else x, H, kmask)
        if kind == "encoder_layer":
            return encoder_layer(p, "", x, H, act, eps, norm, kmask)
        return decoder_layer(p, "", x, mem, H, act, eps, norm,
                             additive_mask(B, T, T, causal=True),
                             additive_mask(B, T, S, lengths) if cross else None)
    y = run(p, x, mem)
    dout = torch.randn(y.shape, generator=gen)
    inputs = [x] + ([mem] if cross else []) + list(p.values())
    grads = torch.autograd.grad((y * dout).sum(), inputs)
    # the same in float32, to report how much of the C tests' tolerance it uses
    in32 = [t.detach().float().requires_grad_(True) for t in inputs]
    x32, mem32 = in32[0], (in32[1] if cross else None)
    p32 = OrderedDict(zip(p, in32[-len(p):]))
    y32 = run(p32, x32, mem32)
    g32 = torch.autograd.grad((y32 * dout.float()).sum(), in32)
    noise.append((name, OrderedDict([("out", tolerance_used(y32, y)),
                                     ("grads", max(tolerance_used(a, b)
                                                   for a, b in zip(g32, grads)))])))
    t = OrderedDict([("x", x)])
    if cross:
        t["mem"] = mem
    t["lengths"] = lengths
    t.update(p)
    t["out"], t["dout"], t["grad.x"] = y, dout, grads[0]
    if cross:
        t["grad.mem"] = grads[1]
    for k, g in zip(p, grads[-len(p):]):
        t["grad." + k] = g
    meta = {"kind": kind, "d_model": C, "n_heads": H, "d_ff": Fd, "norm": norm, "act": act,
            "ln_eps": eps, "causal": bool(causal or kind == "decoder_layer"),
            "key_padding": key_padding, "cross": cross}
    write_safetensors(os.path.join(out, name + ".safetensors"), t,
                      {"format": "attn-parity-layer-v1", "layer": meta})
    return "%s: B=%d T=%d%s C=%d H=%d D=%d%s" % (name, B, T, " S=%d" % S if cross else "", C, H,
                                                C // H, " lengths=%s" % lengths.tolist()
                                                if key_padding else "")


def base_config(**kw):
    cfg = OrderedDict([("arch", "classifier"), ("vocab_size", 48), ("max_len", 40),
                       ("d_model", 32), ("n_heads", 4), ("d_ff", 64), ("n_layers", 2),
                       ("n_dec_layers", 0), ("n_classes", 0), ("norm", "pre"),
                       ("pos", "learned"), ("act", "gelu_tanh"), ("pool", "cls"),
                       ("dropout", 0.0), ("ln_eps", 1e-5), ("scale_embeddings", False),
                       ("pad_id", 0)])
    for k, v in kw.items():
        assert k in cfg or k == "n_features", k  # n_features: only in the configs that use it
        cfg[k] = v
    return cfg


def make_batch(cfg, gen, B, T, lengths, Tt=0, tgt_lengths=None, ignore_extra=0):
    """Right-padded with pad_id; tokens drawn from [1, V) (so pad_id never appears as data or as a
    target); targets -100 at padding and at `ignore_extra` random valid positions."""
    V, pad = cfg["vocab_size"], cfg["pad_id"]
    lengths = torch.tensor(lengths)
    valid = torch.arange(T)[None] < lengths[:, None]
    tokens = torch.randint(1, V, (B, T), generator=gen).masked_fill(~valid, pad)
    if cfg.get("n_features", 0):  # the encoder reads feature vectors (float32 values) instead
        features = torch.randn(B, T, cfg["n_features"], generator=gen).float().double()
        batch = OrderedDict([("features", features), ("lengths", lengths)])
    else:
        batch = OrderedDict([("tokens", tokens), ("lengths", lengths)])
    if cfg["arch"] == "classifier":
        batch["labels"] = torch.randint(0, cfg["n_classes"], (B,), generator=gen)
        return batch
    if cfg["arch"] == "decoder_lm":
        Tt, tvalid = T, valid
    else:
        tvalid = torch.arange(Tt)[None] < torch.tensor(tgt_lengths)[:, None]
        batch["tgt_in"] = torch.randint(1, V, (B, Tt), generator=gen).masked_fill(~tvalid, pad)
    targets = torch.randint(1, V, (B, Tt), generator=gen).masked_fill(~tvalid, -100)
    for _ in range(ignore_extra):
        b = int(torch.randint(0, B, (1,), generator=gen))
        targets[b, int(torch.randint(0, int(tvalid[b].sum()), (1,), generator=gen))] = -100
    batch["targets"] = targets
    return batch


def model_fixture(out, name, cfg, batch_args, hp, ls, log, noise):
    gen = seeded(name)
    p = init_params(model_specs(cfg), gen)
    batch = make_batch(cfg, gen, **batch_args)
    logits, loss = model_forward(p, cfg, batch, ls)
    self_check_model(name, cfg, p, batch, ls, logits, loss, log)
    grads = torch.autograd.grad(loss, list(p.values()))
    p0 = OrderedDict((k, v.detach().clone()) for k, v in p.items())
    losses, norms = adamw_run(p, cfg, batch, hp, ls)
    assert abs(losses[0] - loss.item()) < 1e-12
    after = OrderedDict((k, v.detach()) for k, v in p.items())
    self_check_adamw(cfg, p0, batch, hp, ls, after, log, name)
    noise.append((name, float32_noise(cfg, p0, batch, hp, ls, logits, grads, losses, after)))

    t = OrderedDict(("batch." + k, v) for k, v in batch.items())
    t.update(p0)
    if cfg["pos"] == "sinusoidal":
        t["ref.pos_table"] = sinusoid_table(cfg["max_len"], cfg["d_model"])
    t["out.logits"] = logits
    t["out.loss"] = loss.reshape(1)
    for k, g in zip(p0, grads):
        t["grad." + k] = g
    t["step.losses"] = torch.tensor(losses)
    t["step.grad_norms"] = torch.tensor(norms)
    for k, v in after.items():
        t["after." + k] = v
    meta = {"format": "attn-parity-model-v1", "config": json.dumps(cfg),
            "adamw": json.dumps(hp), "loss": json.dumps({"label_smoothing": ls})}
    write_safetensors(os.path.join(out, name + ".safetensors"), t, meta)
    return "%s: %s, %d params, loss %.4f, grad norms %s" % (
        name, ", ".join("%s=%s" % (k, cfg[k]) for k in ("arch", "norm", "pos", "act", "pool")),
        sum(v.numel() for v in p0.values()), loss.item(), " ".join("%.3f" % n for n in norms))


def tolerance_used(got, want, extra_atol=0.0):
    """max |got - want| / (1e-4 |want| + 1e-5 max|want| + extra_atol): the C tests' rule."""
    want = want.detach().double()
    tol = 1e-4 * want.abs() + 1e-5 * want.abs().max() + extra_atol
    return ((got.detach().double() - want).abs() / tol.clamp_min(1e-300)).max().item()


def key_rows(name, t):
    """Mask of the key-bias rows [C, 2C) of an in_proj.bias (all False for other tensors)."""
    m = torch.zeros(t.shape, dtype=torch.bool)
    if name.endswith("in_proj.bias"):
        C = t.shape[0] // 3
        m[C:2 * C] = True
    return m


def float32_noise(cfg, p0, batch, hp, ls, logits, grads, losses, after):
    """The same computation in float32 PyTorch: how much of the C tests' tolerance an honest
    float32 implementation uses (README.md, "Tolerances"). Printed, not stored."""
    p = OrderedDict((k, v.float().requires_grad_(True)) for k, v in p0.items())
    l32, loss32 = model_forward(p, cfg, batch, ls)
    g32 = torch.autograd.grad(loss32, list(p.values()))
    res = OrderedDict([("logits", tolerance_used(l32, logits)),
                       ("grads", max(tolerance_used(a, b) for a, b in zip(g32, grads)))])
    losses32, _ = adamw_run(p, cfg, batch, hp, ls)
    res["losses"] = tolerance_used(torch.tensor(losses32), torch.tensor(losses))
    lr, n = hp["lr"], hp["steps"]
    res["after"] = max(tolerance_used(p[k][~key_rows(k, p[k])], after[k][~key_rows(k, p[k])],
                                      2e-3 * lr) for k in p)
    res["after.key_bias"] = max([tolerance_used(p[k][key_rows(k, p[k])],
                                                after[k][key_rows(k, p[k])], 2 * n * lr)
                                 for k in p if k.endswith("in_proj.bias")] or [0.0])
    return res


LAYERS = [
    dict(name="mha_self", kind="mha", B=3, T=19, C=80, H=1, lengths=[19, 11, 1]),
    dict(name="mha_cross", kind="mha", B=2, T=7, S=12, C=32, H=4, lengths=[12, 5]),
    dict(name="mha_causal", kind="mha", B=2, T=33, C=48, H=3, causal=True),
    dict(name="encoder_layer_post", kind="encoder_layer", B=3, T=7, C=32, H=4, Fd=64,
         norm="post", act="relu", lengths=[7, 4, 2]),
    dict(name="encoder_layer_pre", kind="encoder_layer", B=2, T=33, C=32, H=2, Fd=64,
         norm="pre", act="gelu_tanh", lengths=[33, 10]),
    dict(name="decoder_layer_post", kind="decoder_layer", B=2, T=9, S=13, C=32, H=2, Fd=48,
         norm="post", act="gelu_erf", lengths=[13, 6]),
    dict(name="decoder_layer_pre", kind="decoder_layer", B=3, T=17, S=7, C=24, H=3, Fd=40,
         norm="pre", act="gelu_tanh", eps=1e-6, lengths=[7, 7, 3]),
]

ADAMW = OrderedDict([("lr", 1e-2), ("beta1", 0.9), ("beta2", 0.999), ("eps", 1e-5),
                     ("weight_decay", 0.1), ("clip_norm", 1.0), ("steps", 3)])


def adamw(**kw):
    hp = OrderedDict(ADAMW)
    hp.update(kw)
    return hp


MODELS = [
    dict(name="classifier_cls_post",
         cfg=base_config(arch="classifier", vocab_size=40, max_len=16, d_model=24, n_heads=4,
                         d_ff=48, n_classes=3, norm="post", act="gelu_erf", pool="cls"),
         batch=dict(B=3, T=13, lengths=[13, 9, 5]), hp=adamw(), ls=0.0),
    dict(name="classifier_mean_pre",
         cfg=base_config(arch="classifier", vocab_size=40, max_len=12, d_model=24, n_heads=2,
                         d_ff=48, n_classes=5, norm="pre", pos="sinusoidal", act="relu",
                         pool="mean", ln_eps=1e-6),
         batch=dict(B=4, T=7, lengths=[7, 3, 7, 1]), hp=adamw(clip_norm=0.0, eps=1e-8), ls=0.1),
    dict(name="decoder_lm_pre",
         cfg=base_config(arch="decoder_lm", vocab_size=48, max_len=36, d_model=24, n_heads=2,
                         d_ff=48, norm="pre", pos="learned", act="gelu_tanh"),
         batch=dict(B=2, T=33, lengths=[33, 20], ignore_extra=3),
         hp=adamw(clip_norm=0.5, beta1=0.8, beta2=0.95), ls=0.0),
    dict(name="decoder_lm_post",
         cfg=base_config(arch="decoder_lm", vocab_size=40, max_len=16, d_model=16, n_heads=1,
                         d_ff=32, n_layers=1, norm="post", pos="sinusoidal", act="relu",
                         scale_embeddings=True),
         batch=dict(B=3, T=9, lengths=[9, 9, 9]),
         hp=adamw(weight_decay=0.5, clip_norm=0.0, eps=1e-8), ls=0.0),
    dict(name="seq2seq_pre",
         cfg=base_config(arch="seq2seq", vocab_size=40, max_len=14, d_model=24, n_heads=4,
                         d_ff=48, n_layers=1, n_dec_layers=2, norm="pre", pos="learned",
                         act="gelu_tanh"),
         batch=dict(B=3, T=11, lengths=[11, 6, 8], Tt=9, tgt_lengths=[9, 4, 7]),
         hp=adamw(), ls=0.0),
    dict(name="classifier_features_pre",
         cfg=base_config(arch="classifier", vocab_size=40, max_len=12, d_model=24, n_heads=2,
                         d_ff=48, n_classes=4, norm="pre", pos="learned", act="gelu_tanh",
                         pool="mean", n_features=6),
         batch=dict(B=3, T=9, lengths=[9, 4, 6]), hp=adamw(), ls=0.0),
    dict(name="seq2seq_features_post",
         cfg=base_config(arch="seq2seq", vocab_size=40, max_len=12, d_model=24, n_heads=3,
                         d_ff=40, n_layers=1, n_dec_layers=1, norm="post", pos="sinusoidal",
                         act="relu", n_features=5),
         batch=dict(B=2, T=10, lengths=[10, 7], Tt=6, tgt_lengths=[6, 4]), hp=adamw(), ls=0.0),
    dict(name="seq2seq_post",
         cfg=base_config(arch="seq2seq", vocab_size=40, max_len=20, d_model=24, n_heads=3,
                         d_ff=40, n_layers=2, n_dec_layers=1, norm="post", pos="sinusoidal",
                         act="gelu_erf", scale_embeddings=True),
         batch=dict(B=2, T=16, lengths=[16, 9], Tt=7, tgt_lengths=[7, 5]),
         hp=adamw(lr=3e-3), ls=0.0),
]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_fixtures.py OUTDIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    log, made, noise = [], [], []
    self_check_mha(torch.Generator().manual_seed(1), log)
    self_check_layers(torch.Generator().manual_seed(2), log)
    for spec in LAYERS:
        spec = dict(spec)
        made.append(layer_fixture(out, noise, spec.pop("name"), **spec))
    for spec in MODELS:
        made.append(model_fixture(out, spec["name"], spec["cfg"], spec["batch"], spec["hp"],
                                  spec["ls"], log, noise))
    print("self-checks (all passed):")
    for line in log:
        print("  " + line)
    print("fixtures written to %s:" % out)
    for line in made:
        print("  " + line)
    print("float32 PyTorch vs the float64 reference, as a fraction of the C tests' tolerance:")
    for name, r in noise:
        print("  %-22s %s" % (name, "  ".join("%s %.3f" % kv for kv in r.items())))


if __name__ == "__main__":
    main()
