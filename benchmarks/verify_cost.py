"""Records/s of each verification level on each backend (a script, not a test).

Usage: ``python benchmarks/verify_cost.py [--num-examples N] [--levels codegen,compile,execute]``

For each (backend, level) it generates the same indices after a warm-up (Warp init, the first
NVRTC call, the CPU precompiled header, the execution sandbox's start), in one process, and
prints records/s and seconds per record. Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

from warp_ir_pairs_generator import driver
from warp_ir_pairs_generator.options import VERIFY_LEVELS, GenerationOptions


def measure(backend: str, level: str, n: int, start: int) -> tuple[float, int]:
    options = GenerationOptions.from_config(f"{backend}-tiny", num_examples=start + n, verify=level)
    list(driver.iter_shard(options, 0, 2))          # warm-up: toolchains and sandbox start
    report = driver.Report()
    t0 = time.perf_counter()
    records = list(driver.iter_shard(options, start, start + n, None, report))
    elapsed = time.perf_counter() - t0
    assert len(records) == n
    return elapsed, report.total_rejected


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-examples", type=int, default=48)
    parser.add_argument("--levels", default=",".join(VERIFY_LEVELS))
    parser.add_argument("--backends", default="cpu,cuda")
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; one process; "
          f"{args.num_examples} records (indices 100..) per row")
    print(f"{'backend':8} {'verify':8} {'records/s':>10} {'s/record':>9} {'rejected':>9}")
    for backend in args.backends.split(","):
        for level in args.levels.split(","):
            elapsed, rejected = measure(backend, level, args.num_examples, 100)
            print(f"{backend:8} {level:8} {args.num_examples / elapsed:10.2f} {elapsed / args.num_examples:9.3f} "
                  f"{rejected:9d}", flush=True)


if __name__ == "__main__":
    main()
