#!/usr/bin/env python3
"""PyTorch side of bench/bench_generate.c: greedy generation from the same pre-LN GPT as
bench/bench_train.py (learned positions, tanh GELU, tied output, N(0, 0.02) weights) with a
KV cache: each step feeds only the new token, every layer concatenates the new key/value to its
cache (torch.cat) and attends with one query; torch.no_grad(). Batch B decodes B one-token prompts
in lockstep. Prints one JSON line per batch size: tokens/s summed over streams, ms per step (one
token for every stream) and ms per token (1000 / tokens/s).
Run with /usr/bin/python3 (Debian's torch)."""
import argparse
import json
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.h = h
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, 4 * d)
        self.fc2 = nn.Linear(4 * d, d)

    def forward(self, x, cache):
        """x: (B, T, C) new positions; cache: (k, v) each (B, H, t, D) or None. The new queries
        attend to every cached key and causally among themselves."""
        B, T, C = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, self.h, C // self.h).transpose(1, 2) for t in (q, k, v))
        if cache is not None:
            k = torch.cat((cache[0], k), dim=2)
            v = torch.cat((cache[1], v), dim=2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / (C // self.h) ** 0.5)
        if T > 1:
            n = k.shape[2]
            mask = torch.ones(T, n, dtype=torch.bool).triu(n - T + 1)
            att = att.masked_fill(mask, float("-inf"))
        y = (att.softmax(dim=-1) @ v).transpose(1, 2).reshape(B, T, C)
        x = x + self.proj(y)
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x)), approximate="tanh")), (k, v)


class GPT(nn.Module):
    def __init__(self, V, T, d, h, L):
        super().__init__()
        self.tok = nn.Embedding(V, d)
        self.pos = nn.Embedding(T, d)
        self.blocks = nn.ModuleList(Block(d, h) for _ in range(L))
        self.ln_f = nn.LayerNorm(d)
        for name, p in self.named_parameters():  # the same initialisation as attn
            if p.dim() >= 2:
                nn.init.normal_(p, 0.0, 0.02)
            elif name.endswith("bias"):
                nn.init.zeros_(p)

    def step(self, idx, pos0, caches):
        """idx: (B, T) new tokens at positions pos0..; returns the last position's logits (B, V)
        and the updated caches."""
        x = self.tok(idx) + self.pos(torch.arange(pos0, pos0 + idx.shape[1]))
        new = []
        for b, c in zip(self.blocks, caches):
            x, c = b(x, c)
            new.append(c)
        return self.ln_f(x[:, -1]) @ self.tok.weight.t(), new


@torch.no_grad()
def generate(model, prompt, n_new):
    caches = [None] * len(model.blocks)
    logits, caches = model.step(prompt, 0, caches)
    out = []
    for i in range(n_new):
        tok = logits.argmax(dim=-1, keepdim=True)  # (B, 1)
        out.append(tok)
        if i + 1 < n_new:
            logits, caches = model.step(tok, prompt.shape[1] + i, caches)
    return torch.cat(out, dim=1)


def main():
    ap = argparse.ArgumentParser()
    for name, default in [("layers", 6), ("d-model", 384), ("heads", 6), ("vocab", 256),
                          ("new", 256), ("runs", 3), ("threads", 0)]:
        ap.add_argument("--" + name, type=int, default=default)
    ap.add_argument("--batch", type=lambda v: [int(b) for b in v.split(",")], default=[1, 8])
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    model = GPT(a.vocab, 1 + a.new, a.d_model, a.heads, a.layers).eval()
    for B in a.batch:
        prompt = (torch.arange(B) * 37 % a.vocab).view(B, 1)
        generate(model, prompt, 8)  # warm-up
        times = []
        for _ in range(a.runs):
            t0 = time.perf_counter()
            out = generate(model, prompt, a.new)
            times.append(time.perf_counter() - t0)
        med = statistics.median(times)
        print(json.dumps({"impl": "torch", "threads": torch.get_num_threads(), "batch": B,
                          "new_tokens": a.new, "tokens_per_s": round(B * a.new / med, 1),
                          "ms_per_step": round(1e3 * med / a.new, 3),
                          "ms_per_token": round(1e3 * med / (B * a.new), 3),
                          "params": sum(p.numel() for p in model.parameters())}))


if __name__ == "__main__":
    main()
