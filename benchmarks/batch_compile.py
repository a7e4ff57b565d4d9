"""Shared translation units vs one unit per kernel: speed and exactness (a script, not a test).

Usage: ``python benchmarks/batch_compile.py [--num-examples 40] [--max-batch 10] [--backends cpu,cuda]``

For each backend it takes the kernels of ``{backend}-small`` (indices 1000..), compiles them with
Warp's bundled toolchains once per kernel (``toolchain.native``, what the dataset records) and
again with up to ``--max-batch`` kernels per translation unit (``shared_tu.compile_shared``), and
prints the cost per kernel of each, the speed-up, and how many kernels came out different next
to their batch-mates (after the label/metadata renumbering of ``toolchain.normalize``). For CPU
it also says how many of those differ in their use of tile.h's TU-wide ``static
shared_tile_storage``, the coupling the module doc of ``benchmarks/shared_tu.py`` describes.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

from shared_tu import compile_shared  # this folder is on sys.path when the script runs
from warp_ir_pairs_generator import synth
from warp_ir_pairs_generator.options import GenerationOptions
from warp_ir_pairs_generator.toolchain import codegen, constants, native

TILE_GLOBAL = "shared_tile_storage"


def modules(backend: str, count: int) -> list[tuple[str, str]]:
    """(mangled name, module text) of the first ``count`` kernels Warp accepts, from index 1000."""
    options = GenerationOptions.from_config(f"{backend}-small")
    out = []
    index = 1000
    while len(out) < count:
        ks = synth.synthesize(options, index, 0)
        index += 1
        try:
            out.append(native.module_text(ks.python_source, ks.kernel_name, backend))
        except codegen.KernelRejected:
            continue
    return out


def measure(backend: str, mods: list[tuple[str, str]], max_batch: int) -> None:
    compile_ = native.compile_cpu if backend == "cpu" else native.compile_cuda
    native.warm_up((backend,))
    start = time.perf_counter()
    alone = compile_(mods)
    t_alone = time.perf_counter() - start
    start = time.perf_counter()
    shared = compile_shared(backend, mods, max_batch)
    t_shared = time.perf_counter() - start
    differ = [i for i, (a, s) in enumerate(zip(alone, shared, strict=True)) if a != s]
    n = len(mods)
    line = (f"{backend:5} {n} kernels | alone {1000 * t_alone / n:6.0f} ms/kernel | "
            f"max_batch={max_batch} {1000 * t_shared / n:6.0f} ms/kernel | speed-up {t_alone / t_shared:.2f}x | "
            f"different next to batch-mates: {len(differ)}/{n}")
    if backend == "cpu":
        tile = sum(TILE_GLOBAL in shared[i].ir_llvm and TILE_GLOBAL not in alone[i].ir_llvm for i in differ)
        line += f" ({tile} gain {TILE_GLOBAL})"
    print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-examples", type=int, default=40)
    parser.add_argument("--max-batch", type=int, default=10)
    parser.add_argument("--backends", default="cpu,cuda")
    args = parser.parse_args()
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, warp {codegen.warp_version()}, "
          f"cpu target {constants.CPU_TARGET}, ptx sm_{constants.DEFAULT_PTX_ARCH}")
    for backend in args.backends.split(","):
        measure(backend, modules(backend, args.num_examples), args.max_batch)


if __name__ == "__main__":
    main()
