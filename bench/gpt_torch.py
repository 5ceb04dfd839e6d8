"""The PyTorch model of the benchmarks: the pre-LN GPT that bench/bench_train.c and
bench/bench_generate.c build with attn (learned positions, tanh GELU, output tied to the token
embedding, no dropout, N(0, 0.02) matrices and zero biases). `GPT.forward` is a training step's
loss; `GPT.step` one KV-cached decoding step. The attention is written the way CPU PyTorch 1.13
code usually writes it (scores, mask, softmax, weighted sum): torch 1.13 has no fused CPU
attention for training. Imported by bench_train.py and bench_generate.py (run with
/usr/bin/python3, Debian's torch)."""
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

    def forward(self, x, cache=None):
        """x: (B, T, C) new positions; cache: (k, v) each (B, H, t, D) or None. The new queries
        attend to every cached key and causally among themselves. Returns x and the new cache."""
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

    def forward(self, idx, targets):
        """The mean cross-entropy of next-token targets (B, T) given idx (B, T)."""
        x = self.tok(idx) + self.pos(torch.arange(idx.shape[1]))
        for b in self.blocks:
            x, _ = b(x)
        logits = self.ln_f(x) @ self.tok.weight.t()
        return F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1))

    def step(self, idx, pos0, caches):
        """idx: (B, T) new tokens at positions pos0..; returns the last position's logits (B, V)
        and the updated caches."""
        x = self.tok(idx) + self.pos(torch.arange(pos0, pos0 + idx.shape[1]))
        new = []
        for b, c in zip(self.blocks, caches):
            x, c = b(x, c)
            new.append(c)
        return self.ln_f(x[:, -1]) @ self.tok.weight.t(), new
