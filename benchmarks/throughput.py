"""Throughput against Warp's own cost floor (a script, not a test).

Usage: ``python benchmarks/throughput.py [--num-examples 300] [--backends cpu,cuda]``

For each backend at ``verify=codegen`` with default content (forward, backward and helper IR),
on the same kernels in one process, it prints:

* the package's pairs/s (``driver.iter_shard``: synthesis, Warp, extraction, validation, records);
* bare Warp's kernels/s on the same sources: define (exec + linecache) and codegen only, with the
  same module options, plus the module release a long-running caller needs;
* their ratio (efficiency, goal >= 0.9), timed kernel by kernel with the two sides back to back;
* pairs/s with 1 and 2 worker processes over the same indices, and their ratio (goal >= 1.85);
* peak RSS of this process and of its children.
"""

from __future__ import annotations

import argparse
import itertools
import linecache
import os
import platform
import resource
import time
import types
from concurrent.futures import ProcessPoolExecutor

from warp_ir_pairs_generator import driver
from warp_ir_pairs_generator.options import GenerationOptions
from warp_ir_pairs_generator.toolchain import codegen

_ids = itertools.count()


def bare_warp(sources: list[tuple[str, str]], backend: str) -> float:
    """Seconds for Warp alone to define and codegen each source (what any caller must pay)."""
    wp = codegen.warp()
    import warp._src.context as ctx

    start = time.perf_counter()
    for source, name in sources:
        modname = f"bare_{next(_ids)}"
        filename = f"<{modname}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        module = types.ModuleType(modname)
        module.__file__ = filename
        exec(compile(source, filename, "exec", dont_inherit=True), module.__dict__)
        kernel = module.__dict__[name]
        options = kernel.module.resolve_options(wp.config, block_dim=codegen.BLOCK_DIM[backend])
        options["output_arch"] = codegen.CUDA_ARCH if backend == "cuda" else None
        hasher = ctx.ModuleHasher(kernel.module._get_live_kernels(), options)
        ctx.ModuleBuilder(kernel.module, options, hasher, target=backend).codegen(backend)
        # The release any long-running caller needs: without it every kernel stays reachable
        # from warp.math's `dependents` and later codegen (bare or ours) slows down as they pile up.
        kernel.module.unload()
        kernel.module._detach_references()
        ctx.user_modules.pop(modname, None)
        linecache.cache.pop(filename, None)
    return time.perf_counter() - start


def package(options: GenerationOptions, start: int, stop: int) -> tuple[float, list[dict]]:
    t0 = time.perf_counter()
    records = list(driver.iter_shard(options, start, stop))
    return time.perf_counter() - t0, records


def paired(options: GenerationOptions, sources: list[tuple[str, str]], start: int, backend: str,
           rounds: int = 3) -> tuple[float, float]:
    """Seconds for bare Warp and for the package over the same kernels, timed kernel by kernel.

    Each kernel is run by both sides back to back (alternating which goes first), so drift in
    machine speed over the run hits both alike; each side's total is the sum over kernels of its
    best time in ``rounds`` rounds.
    """
    best_bare = [float("inf")] * len(sources)
    best_ours = [float("inf")] * len(sources)
    for round_ in range(rounds):
        for i, source in enumerate(sources):
            sides = [("bare", lambda s=source: bare_warp([s], backend)),
                     ("ours", lambda i=i: package(options, start + i, start + i + 1)[0])]
            if (i + round_) % 2:
                sides.reverse()
            for side, run in sides:
                seconds = run()
                best = best_bare if side == "bare" else best_ours
                best[i] = min(best[i], seconds)
    return sum(best_bare), sum(best_ours)


def _shard(args: tuple[GenerationOptions, int, int]) -> int:
    options, a, b = args
    return sum(1 for _ in driver.iter_shard(options, a, b))


def parallel(options: GenerationOptions, start: int, stop: int, procs: int) -> float:
    """Wall time for ``procs`` forked workers to generate the indices (the same path for 1 and 2)."""
    step = 10   # small jobs: a few very large kernels must not leave one worker idle at the end
    jobs = [(options, a, min(a + step, stop)) for a in range(start, stop, step)]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(procs) as pool:
        n = sum(pool.map(_shard, jobs))
    assert n == stop - start
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-examples", type=int, default=300)
    parser.add_argument("--backends", default="cpu,cuda")
    args = parser.parse_args()
    n = args.num_examples
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"warp {codegen.warp_version()}; {n} records per measurement (indices 1000..)")
    codegen.warp()
    for backend in args.backends.split(","):
        options = GenerationOptions.from_config(f"{backend}-small")
        package(options, 0, 20)                                  # warm-up
        _, records = package(options, 1000, 1000 + n)             # the kernels both sides run
        sources = [(r["python_source"], r["kernel_name"]) for r in records]
        bare, ours = paired(options, sources, 1000, backend)
        one = parallel(options, 2000, 2000 + n, 1)
        two = parallel(options, 2000, 2000 + n, 2)
        print(f"{backend:5} package {n / ours:7.1f} pairs/s | bare Warp {n / bare:7.1f} kernels/s | "
              f"efficiency {bare / ours:.3f} | num_proc=1 {n / one:7.1f}/s, num_proc=2 {n / two:7.1f}/s, "
              f"scaling {one / two:.2f}x", flush=True)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak RSS: this process {own:.0f} MiB, largest child {kids:.0f} MiB")


if __name__ == "__main__":
    main()
