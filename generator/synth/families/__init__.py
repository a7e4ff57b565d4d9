"""The family registry: every kernel family, in the order the schedule gives them indices.

A family builds one kernel from its RNG at a complexity level (1 = one-liner ... 5 = long):
``build(rng, level) -> KernelSource``. ``REGISTRY`` lists them all; a backend's families are the
registry entries that run on it, in registry order, and ``synth.schedule`` cycles through them.
Adding a family is one file (a ``build`` function) plus one line here (docs/adding-a-family.md).

The order of ``REGISTRY`` is part of the dataset: it decides which family each index gets, so a
new family goes where its records may change (a new line changes the records of its backends;
the golden digests say so) and existing lines never move.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ...options import BACKENDS
from ..builder import KernelSource
from . import composed, seed_cpu, seed_cuda
from .sim import (
    bvh_query,
    csr_spmv,
    fem,
    graph_relax,
    image_stencil,
    mesh_query,
    particles,
    reduction,
    rigid,
    scan,
    sph,
    springs,
)

Build = Callable[[random.Random, int], KernelSource]
KINDS = ("seed", "sim", "composed")
# Seed families are written for one target; paired and errors records use both targets' seeds.
CPU_SEED = ("cpu", "paired", "errors")
CUDA_SEED = ("cuda", "paired", "errors")


@dataclass(frozen=True)
class Family:
    """One kernel family: its name (the records' ``category``), kind, builder and backends."""

    name: str
    kind: str          # "seed" | "sim" | "composed"
    build: Build
    backends: tuple[str, ...] = BACKENDS

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"family {self.name!r}: unknown kind {self.kind!r}; valid kinds: {', '.join(KINDS)}")
        unknown = [b for b in self.backends if b not in BACKENDS]
        if unknown:
            raise ValueError(f"family {self.name!r}: unknown backends {unknown}; valid backends: {', '.join(BACKENDS)}")


REGISTRY: tuple[Family, ...] = (
    # the cpu backend's seed families
    Family("arith", "seed", seed_cpu.arith, CPU_SEED),
    Family("cond", "seed", seed_cpu.cond, CPU_SEED),
    Family("loop", "seed", seed_cpu.loop, CPU_SEED),
    Family("math", "seed", seed_cpu.math, CPU_SEED),
    Family("vec", "seed", seed_cpu.vec, CPU_SEED),
    Family("atomic", "seed", seed_cpu.atomic, CPU_SEED),
    Family("nested", "seed", seed_cpu.nested, CPU_SEED),
    Family("multicond", "seed", seed_cpu.multicond, CPU_SEED),
    Family("combined", "seed", seed_cpu.combined, CPU_SEED),
    Family("scalar", "seed", seed_cpu.scalar, CPU_SEED),
    # the cuda backend's seed families
    Family("cuda_arith", "seed", seed_cuda.cuda_arith, CUDA_SEED),
    Family("cuda_reduce", "seed", seed_cuda.cuda_reduce, CUDA_SEED),
    Family("cuda_stencil", "seed", seed_cuda.cuda_stencil, CUDA_SEED),
    Family("cuda_vec", "seed", seed_cuda.cuda_vec, CUDA_SEED),
    Family("cuda_scan", "seed", seed_cuda.cuda_scan, CUDA_SEED),
    Family("cuda_matmul", "seed", seed_cuda.cuda_matmul, CUDA_SEED),
    Family("cuda_condreduce", "seed", seed_cuda.cuda_condreduce, CUDA_SEED),
    Family("cuda_warpmath", "seed", seed_cuda.cuda_warpmath, CUDA_SEED),
    Family("cuda_nested", "seed", seed_cuda.cuda_nested, CUDA_SEED),
    Family("cuda_complex", "seed", seed_cuda.cuda_complex, CUDA_SEED),
    # simulation families (realistic kernels), on every backend
    Family("particles", "sim", particles.particles),
    Family("springs", "sim", springs.springs),
    Family("sph", "sim", sph.sph),
    Family("mesh_query", "sim", mesh_query.mesh_query),
    Family("bvh_query", "sim", bvh_query.bvh_query),
    Family("fem", "sim", fem.fem),
    Family("rigid", "sim", rigid.rigid),
    Family("image_stencil", "sim", image_stencil.image_stencil),
    Family("csr_spmv", "sim", csr_spmv.csr_spmv),
    Family("graph_relax", "sim", graph_relax.graph_relax),
    Family("reduction", "sim", reduction.reduction),
    Family("scan", "sim", scan.scan),
    # the compositional synthesizer, on every backend (the schedule gives it ~40% of the indices)
    Family("composed", "composed", composed.composed),
)


def for_backend(backend: str, registry: Iterable[Family] = REGISTRY) -> tuple[Family, ...]:
    """The families of ``backend``, in registry order."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; valid backends: {', '.join(BACKENDS)}")
    return tuple(f for f in registry if backend in f.backends)


def of_kind(kind: str, registry: Iterable[Family] = REGISTRY) -> dict[str, Family]:
    """Name -> family for the families of ``kind``, in registry order."""
    if kind not in KINDS:
        raise ValueError(f"unknown family kind {kind!r}; valid kinds: {', '.join(KINDS)}")
    return {f.name: f for f in registry if f.kind == kind}


def named(name: str, registry: Iterable[Family] = REGISTRY) -> Family:
    """The family called ``name`` (a record's ``category``)."""
    registry = tuple(registry)
    for f in registry:
        if f.name == name:
            return f
    raise KeyError(f"no family named {name!r}; families: {', '.join(f.name for f in registry)}")


# name -> build of the simulation families, for callers that draw a family by hand.
SIM_FAMILIES: dict[str, Build] = {name: f.build for name, f in of_kind("sim").items()}
