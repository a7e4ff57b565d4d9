"""Which kernel sits at (backend, seed, index, attempt): family choice and a private RNG.

Pure Python, no Warp import: synthesis is cheap, so drivers can synthesize a kernel just to
learn its split before paying for Warp.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable

from .compose import composed
from .configs import COMPLEXITY_LEVELS, GenerationOptions
from .families_seed import CPU_FAMILIES, CUDA_FAMILIES
from .families_sim import SIM_FAMILIES
from .program import KernelSource

# A family builds one kernel from its RNG at a complexity level (1 = one-liner ... 5 = long).
Family = Callable[[random.Random, int], KernelSource]

# Families per backend: the backend's 10 seed families, the shared realistic (simulation)
# families, and the compositional synthesizer (``composed``).
FAMILIES: dict[str, dict[str, Family]] = {
    backend: {**seed, **SIM_FAMILIES, "composed": composed}
    for backend, seed in (("cpu", CPU_FAMILIES), ("cuda", CUDA_FAMILIES),
                          # paired records: any kernel runs on both targets, so all 20 seed families
                          ("paired", {**CPU_FAMILIES, **CUDA_FAMILIES}))
}


def _schedule(backend: str) -> tuple[str, ...]:
    """A cycle of family names: each family once, ``composed`` filling ~40% of the cycle.

    Index ``i`` takes ``schedule[i % len(schedule)]``, so every family is represented evenly
    (the same count ±1) in every tier and every prefix of a tier.
    """
    named = [n for n in FAMILIES[backend] if n != "composed"]
    return (*named, *["composed"] * (len(named) * 2 // 3))


SCHEDULES: dict[str, tuple[str, ...]] = {backend: _schedule(backend) for backend in FAMILIES}


def categories(backend: str) -> list[str]:
    return list(FAMILIES[backend])


def record_rng(options: GenerationOptions, index: int, attempt: int) -> random.Random:
    """An RNG private to one draw, seeded from a hash of what the record depends on."""
    key = f"warp-ir-pairs|{options.backend}|{options.seed}|{index}|{attempt}"
    return random.Random(int.from_bytes(hashlib.sha256(key.encode()).digest()[:16], "big"))


def level_of(options: GenerationOptions, index: int) -> int:
    """The complexity level of record ``index``: the override, else drawn per index (not per draw)."""
    if options.complexity is not None:
        return options.complexity
    return record_rng(options, index, -1).choice(COMPLEXITY_LEVELS)


def synthesize(options: GenerationOptions, index: int, attempt: int = 0) -> KernelSource:
    """The kernel source of draw ``attempt`` for record ``index``."""
    schedule = SCHEDULES[options.backend]
    family = FAMILIES[options.backend][schedule[index % len(schedule)]]
    return family(record_rng(options, index, attempt), level_of(options, index))
