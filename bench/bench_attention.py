#!/usr/bin/env python3
"""Attention forward+backward: bench/bench_attention.c (ours) against torch.nn.MultiheadAttention.

Both sides run one self-attention block (QKV projection, attention, output projection; B = 4,
d_model 512, 8 heads) forward and backward, including the input gradient, with the same thread
settings, in a fresh process per sequence length so that the peak RSS (getrusage) is that of one
configuration. Times are medians of wall-clock time per forward+backward; the medians of CPU time
(all threads) are printed too: they are steadier when other work shares the machine. Torch 1.13 has no fused CPU attention for training: its MultiheadAttention
materialises the (B*H, T, T) scores and probabilities.

  /usr/bin/python3 bench/bench_attention.py [--bin build/bench_attention] [--threads N]
                                            [--T 512 1024 2048] [--iters 7]
prints one table; `--worker T` is the torch side alone (one JSON line)."""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time


def torch_worker(args):
    import torch
    import torch.nn as nn

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    B, T, C, H = args.batch, args.worker, args.d_model, args.heads
    mha = nn.MultiheadAttention(C, H, batch_first=True)
    x = torch.randn(B, T, C, requires_grad=True)
    dy = torch.randn(B, T, C)
    mask = torch.ones(T, T, dtype=torch.bool).triu(1) if args.causal else None
    base_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ms = []
    cpu_ms = []
    for it in range(-args.warmup, args.iters):
        t0, c0 = time.perf_counter(), time.process_time()
        mha.zero_grad(set_to_none=True)
        x.grad = None
        y, _ = mha(x, x, x, need_weights=False, attn_mask=mask)
        y.backward(dy)
        if it >= 0:
            ms.append((time.perf_counter() - t0) * 1e3)
            cpu_ms.append((time.process_time() - c0) * 1e3)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"impl": "torch " + torch.__version__, "T": T, "threads": torch.get_num_threads(),
                      "median_ms": round(statistics.median(ms), 2),
                      "median_cpu_ms": round(statistics.median(cpu_ms), 2),
                      "ms": [round(t, 2) for t in ms],
                      "peak_mb": round(peak_mb, 1), "base_mb": round(base_mb, 1)}))


def run_json(cmd, env):
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def driver(args):
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "ATTN_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(args.threads)
    env["OMP_WAIT_POLICY"] = "PASSIVE"
    common = ["--batch", str(args.batch), "--d-model", str(args.d_model), "--heads", str(args.heads),
              "--causal", str(args.causal), "--iters", str(args.iters), "--warmup", str(args.warmup)]
    print(f"# B {args.batch}, d_model {args.d_model}, {args.heads} heads, causal {args.causal}, "
          f"threads {args.threads}, OPENBLAS_CORETYPE={env.get('OPENBLAS_CORETYPE', 'auto')}, "
          f"median of {args.iters}")
    print(f"{'T':>6} {'ours ms':>9} {'torch ms':>9} {'torch/ours':>10} {'ours MB':>8} "
          f"{'torch MB':>9} {'(after import)':>14} {'ours cpu ms':>12} {'torch cpu ms':>12}")
    for T in args.T:
        ours = run_json([args.bin, "--T", str(T)] + common, env)
        theirs = run_json([sys.executable, os.path.abspath(__file__), "--worker", str(T),
                           "--threads", str(args.threads)] + common, env)
        print(f"{T:>6} {ours['median_ms']:>9.1f} {theirs['median_ms']:>9.1f} "
              f"{theirs['median_ms'] / ours['median_ms']:>10.2f} {ours['peak_mb']:>8.0f} "
              f"{theirs['peak_mb']:>9.0f} {theirs['base_mb']:>14.0f} {ours['median_cpu_ms']:>12.1f} "
              f"{theirs['median_cpu_ms']:>12.1f}", flush=True)
        if args.verbose:
            print("  ", json.dumps(ours), "\n  ", json.dumps(theirs), flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--bin", default="build/bench_attention", help="the C benchmark binary")
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--T", type=int, nargs="+", default=[512, 1024, 2048])
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--d-model", type=int, default=512)
    p.add_argument("--heads", type=int, default=8)
    p.add_argument("--causal", type=int, default=0)
    p.add_argument("--iters", type=int, default=7)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--verbose", action="store_true", help="also print both JSON lines per T")
    p.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        torch_worker(args)
    else:
        driver(args)


if __name__ == "__main__":
    main()
