"""Which kernel sits at (backend, seed, index, attempt): family choice and a private RNG.

Pure Python, no Warp import: synthesis is cheap, so drivers can synthesize a kernel just to
learn its split before paying for Warp.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable

from .configs import COMPLEXITY_LEVELS, GenerationOptions
from .families_seed import CPU_FAMILIES, CUDA_FAMILIES
from .program import KernelSource

# A family builds one kernel from its RNG at a complexity level (1 = one-liner ... 5 = long).
Family = Callable[[random.Random, int], KernelSource]

# Families per backend, each drawn equally often: index i takes family i mod n, so every
# family is represented evenly in every tier and every prefix of a tier.
FAMILIES: dict[str, dict[str, Family]] = {"cpu": CPU_FAMILIES, "cuda": CUDA_FAMILIES}


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
    families = FAMILIES[options.backend]
    names = list(families)
    family = families[names[index % len(names)]]
    return family(record_rng(options, index, attempt), level_of(options, index))
