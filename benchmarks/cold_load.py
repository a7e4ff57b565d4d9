"""Whole-process speed: a cold ``load_dataset`` against bare Warp on the same kernels (a script).

Usage: ``python benchmarks/cold_load.py [--config cpu-small] [--num-examples 10000] [--num-proc 2]``

1. A fresh Python process imports ``warp_ir_pairs`` and runs ``load_dataset("warp_ir_pairs",
   CONFIG, num_examples=N, num_proc=P)`` into an empty cache directory: import, Warp init,
   generation, validation and Arrow writing, timed from process start to the loaded dataset.
2. Bare Warp then defines and generates code for the same N sources (define + codegen, same
   options, with the module release any long-running caller needs) in P forked processes: the
   ceiling any generator of this content can reach on these cores.

It prints both rates and their ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from throughput import bare_warp  # a sibling script, not a package

_CHILD = """
import json, sys, time
start = time.perf_counter()
import warp_ir_pairs
from datasets import load_dataset
config, n, procs, cache = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
ds = load_dataset("warp_ir_pairs", config, num_examples=n, num_proc=procs, cache_dir=cache)
seconds = time.perf_counter() - start
rows = [(r["python_source"], r["kernel_name"]) for split in ds.values()
        for r in split.select_columns(["python_source", "kernel_name"])]
json.dump({"seconds": seconds, "rows": rows}, open(sys.argv[5], "w"))
"""


def _bare_chunk(args: tuple[list[tuple[str, str]], str]) -> float:
    sources, backend = args
    return bare_warp(sources, backend)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="cpu-small")
    parser.add_argument("--num-examples", type=int, default=10000)
    parser.add_argument("--num-proc", type=int, default=2)
    args = parser.parse_args()
    backend = args.config.split("-")[0]
    if backend not in ("cpu", "cuda"):
        parser.error("--config must be a cpu-* or cuda-* config")
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "result.json")
        subprocess.run([sys.executable, "-c", _CHILD, args.config, str(args.num_examples), str(args.num_proc),
                        os.path.join(tmp, "cache"), out], check=True)
        with open(out) as f:
            result = json.load(f)
    rows = [tuple(r) for r in result["rows"]]
    n = len(rows)
    ours = n / result["seconds"]
    print(f"load_dataset({args.config!r}, num_examples={args.num_examples}, num_proc={args.num_proc}), "
          f"cold process: {n} records in {result['seconds']:.1f} s = {ours:.1f} pairs/s", flush=True)

    chunks = [rows[i::args.num_proc] for i in range(args.num_proc)]
    start = time.perf_counter()
    with ProcessPoolExecutor(args.num_proc) as pool:
        list(pool.map(_bare_chunk, [(chunk, backend) for chunk in chunks]))
    bare = n / (time.perf_counter() - start)
    print(f"bare Warp, same {n} sources, {args.num_proc} processes (define + codegen only): {bare:.1f} kernels/s")
    print(f"whole-process efficiency: {ours / bare:.3f}")


if __name__ == "__main__":
    main()
