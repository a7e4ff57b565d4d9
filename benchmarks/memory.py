"""Peak RSS while streaming ``cpu-large`` (a script, not a test).

Usage: ``python benchmarks/memory.py [--records 100000] [--every 2000]``

Streams records through ``load_dataset("warp_ir_pairs", "cpu-large", streaming=True)`` (the
path a training loop uses) and prints the record count, elapsed seconds, current RSS and peak
RSS every ``--every`` records, then the growth between record 2,000 and the last checkpoint.
"""

from __future__ import annotations

import argparse
import os
import resource
import time


def rss_mib() -> float:
    with open(f"/proc/{os.getpid()}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--every", type=int, default=2_000)
    parser.add_argument("--config", default="cpu-large")
    args = parser.parse_args()
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    import datasets

    import warp_ir_pairs  # noqa: F401  (registers the builder)

    stream = datasets.load_dataset("warp_ir_pairs", args.config, split="train", streaming=True)
    start = time.perf_counter()
    at_2000 = None
    print(f"{'records':>8} {'seconds':>8} {'rss MiB':>8} {'peak MiB':>9}")
    for n, _ in enumerate(stream, 1):
        if n % args.every == 0 or n == 2000:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            if n == 2000:
                at_2000 = peak
            print(f"{n:8d} {time.perf_counter() - start:8.1f} {rss_mib():8.1f} {peak:9.1f}", flush=True)
        if n >= args.records:
            break
    if at_2000 is not None:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS growth from record 2,000 to {n:,}: {peak - at_2000:.1f} MiB")


if __name__ == "__main__":
    main()
