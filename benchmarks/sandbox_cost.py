"""What the OS sandbox (bubblewrap) costs: ``verify=execute`` generation and ``eval``, with and without.

Usage: ``python benchmarks/sandbox_cost.py [--num-examples N] [--repeats R]``

In one process, after a warm-up (Warp init, the CPU precompiled header), it alternates
confined and unconfined runs ``R`` times each (so drift on a shared machine hits both alike) of

* generation: ``driver.iter_shard`` of N ``cpu-tiny`` records at ``verify=execute`` (unconfined:
  ``launch.execute(..., confined=False)``, which is what a machine without bubblewrap runs);
* eval: ``evaluate.score`` of those N records' true IR on every rung (``sandbox=False`` unconfined),

checks both give the same records and scores, and prints seconds per record (best of R) and
the ratio confined / unconfined (the goal is at most 1.10 for each). A script, not a test.
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import time
from unittest import mock

from warp_ir_pairs_generator import driver, evaluate, launch
from warp_ir_pairs_generator.options import GenerationOptions
from warp_ir_pairs_generator.sandbox import confine

START = 100   # indices START.. : the warm-up uses 0..1


def generate(options: GenerationOptions, n: int, confined: bool) -> tuple[float, list[dict]]:
    execute = functools.partial(launch.execute, confined=confined)
    with mock.patch.object(launch, "execute", execute):   # the execute level calls launch.execute
        t0 = time.perf_counter()
        records = list(driver.iter_shard(options, START, START + n))
        return time.perf_counter() - t0, records


def score(records: list[dict], confined: bool) -> tuple[float, list]:
    predictions = {r["id"]: r["ir_code"] for r in records}
    t0 = time.perf_counter()
    scores = evaluate.score(records, predictions, sandbox=confined)
    return time.perf_counter() - t0, scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-examples", type=int, default=48)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    missing = confine.unavailable()
    if missing:
        raise SystemExit(f"sandbox_cost: cannot measure the sandbox: {missing} ({confine.INSTALL_HINT})")
    n = args.num_examples
    options = GenerationOptions.from_config("cpu-tiny", num_examples=START + n, verify="execute")
    warm = list(driver.iter_shard(options, 0, 2))
    evaluate.score(warm, {r["id"]: r["ir_code"] for r in warm})
    times: dict[tuple[str, bool], list[float]] = {}
    outputs: dict[tuple[str, bool], object] = {}
    for _ in range(args.repeats):
        for confined in (True, False):
            elapsed, records = generate(options, n, confined)
            times.setdefault(("generate", confined), []).append(elapsed)
            outputs[("generate", confined)] = records
            elapsed, scores = score(records, confined)
            times.setdefault(("eval", confined), []).append(elapsed)
            outputs[("eval", confined)] = scores
    for task in ("generate", "eval"):
        assert outputs[(task, True)] == outputs[(task, False)], f"{task}: confined and unconfined runs differ"
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; one process; "
          f"{n} cpu-tiny records (indices {START}..), verify=execute; best of {args.repeats} alternating runs")
    print(f"{'task':10} {'confined s/rec':>15} {'unconfined s/rec':>17} {'ratio':>6}")
    for task in ("generate", "eval"):
        on, off = min(times[(task, True)]), min(times[(task, False)])
        print(f"{task:10} {on / n:15.4f} {off / n:17.4f} {on / off:6.3f}", flush=True)


if __name__ == "__main__":
    main()
