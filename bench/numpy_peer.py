#!/usr/bin/env python3
"""bench/numpy_peer.py: the numpy side of the kernel benchmarks (bench/kernels.ts).

Usage: python3 bench/numpy_peer.py BENCH [--runs N]
Prints one JSON object: {"bench": BENCH, "peer": "numpy", "ms": median milliseconds,
"runs": N, "numpy": version}. The recipes are Axelera's host-side Python recipes
(/work/shared/reference/axruntime-c-api.md, "Host-side recipe").
"""
import json
import statistics
import sys
import time

import numpy as np

SCALE = 0.003919653594493866
ZP = -128


def quantize_pad_640():
    x = np.random.default_rng(1).random((1, 640, 640, 3), dtype=np.float32)
    padding = [(0, 0), (1, 1), (1, 15), (0, 1)]

    def run():
        q = np.round(x / SCALE + ZP).clip(-128, 127).astype(np.int8)
        return np.pad(q, padding, constant_values=ZP)

    return run


def depad_dequant_yolo():
    out = np.random.default_rng(2).integers(-128, 128, (1, 80, 80, 64), dtype=np.int8)
    padding = [(0, 0), (0, 0), (0, 0), (0, 4)]
    scale = 0.0625

    def run():
        dep = out[tuple(slice(b, -e if e else None) for b, e in padding)]
        return (dep.astype(np.float32) - ZP) * scale

    return run


def copy_bandwidth():
    src = np.random.default_rng(3).integers(0, 255, 8 * 1024 * 1024, dtype=np.uint8)
    dst = np.empty_like(src)

    def run():
        np.copyto(dst, src)

    return run


BENCHES = {f.__name__: f for f in (quantize_pad_640, depad_dequant_yolo, copy_bandwidth)}


def main():
    args = sys.argv[1:]
    if not args or args[0] not in BENCHES:
        print(f"usage: numpy_peer.py {{{','.join(BENCHES)}}} [--runs N]", file=sys.stderr)
        return 2
    runs = int(args[args.index("--runs") + 1]) if "--runs" in args else 30
    run = BENCHES[args[0]]()
    for _ in range(3):
        run()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        run()
        times.append((time.perf_counter() - t0) * 1000)
    print(json.dumps({"bench": args[0], "peer": "numpy", "ms": statistics.median(times), "runs": runs,
                      "numpy": np.__version__}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
