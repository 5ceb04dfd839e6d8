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

from gpt_torch import GPT


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
