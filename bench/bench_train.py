#!/usr/bin/env python3
"""PyTorch side of bench/bench_train.c: the same pre-LN GPT (learned positions, tanh GELU,
tied output, no dropout) trained with torch.optim.AdamW; median step time and tokens/s.

The attention is written the way CPU PyTorch 1.13 code usually writes it (scores, causal mask,
softmax, weighted sum); torch 1.13 has no fused CPU attention for training.
Run with /usr/bin/python3 (Debian's torch)."""
import argparse
import json
import resource
import statistics
import time

import torch

from gpt_torch import GPT


def main():
    ap = argparse.ArgumentParser()
    for name, default in [("layers", 6), ("d-model", 384), ("heads", 6), ("context", 256),
                          ("vocab", 8192), ("batch", 8), ("steps", 10), ("warmup", 2),
                          ("threads", 0)]:
        ap.add_argument("--" + name, type=int, default=default)
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    model = GPT(a.vocab, a.context, a.d_model, a.heads, a.layers)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    rest = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01},
                             {"params": rest, "weight_decay": 0.0}], lr=1e-4)
    idx = torch.randint(a.vocab, (a.batch, a.context))
    tgt = torch.randint(a.vocab, (a.batch, a.context))
    times = []
    for s in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = model(idx, tgt)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if s >= a.warmup:
            times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    print(json.dumps({"impl": "torch", "threads": torch.get_num_threads(),
                      "params": sum(p.numel() for p in model.parameters()),
                      "step_s": round(med, 4), "tokens_per_s": round(a.batch * a.context / med, 1),
                      "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                      "loss": round(loss.item(), 4)}))


if __name__ == "__main__":
    main()
