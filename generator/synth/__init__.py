"""Which kernel sits at (backend, seed, index, attempt): family choice and a private RNG.

Pure Python, no Warp import: synthesis is cheap, so drivers can synthesize a kernel just to
learn its split before paying for Warp.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from collections.abc import Callable

from ..options import COMPLEXITY_LEVELS, GenerationOptions
from .builder import KernelSource
from .families.composed import composed
from .families.seed import CPU_FAMILIES, CUDA_FAMILIES
from .families.sim import SIM_FAMILIES

# A family builds one kernel from its RNG at a complexity level (1 = one-liner ... 5 = long).
Family = Callable[[random.Random, int], KernelSource]

# Families per backend: the backend's 10 seed families, the shared realistic (simulation)
# families, and the compositional synthesizer (``composed``).
FAMILIES: dict[str, dict[str, Family]] = {
    backend: {**seed, **SIM_FAMILIES, "composed": composed}
    for backend, seed in (("cpu", CPU_FAMILIES), ("cuda", CUDA_FAMILIES),
                          # paired records: any kernel runs on both targets, so all 20 seed families
                          ("paired", {**CPU_FAMILIES, **CUDA_FAMILIES}),
                          # errors: the same kernels, then a realistic mistake (mistakes.inject)
                          ("errors", {**CPU_FAMILIES, **CUDA_FAMILIES}))
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


class CountingRandom(random.Random):
    """A Random that counts the bits of choice it has handed out (a lower bound).

    ``choice``/``randint``/``randrange``/``shuffle`` draw through ``_randbelow(n)``: log2(n) bits.
    ``uniform`` (float literals) counts 16 bits. Bare ``random()`` calls count nothing: a
    ``random() < p`` test may carry almost no information, and undercounting is the safe side.
    """

    def __init__(self, seed: int) -> None:
        self.bits = 0.0
        super().__init__(seed)

    def _randbelow(self, n: int) -> int:  # type: ignore[override]
        self.bits += math.log2(n) if n > 1 else 0.0
        return super()._randbelow(n)

    def uniform(self, a: float, b: float) -> float:
        self.bits += 16
        return super().uniform(a, b)


# Every kernel carries at least this many (counted, so at least) bits of random choice: the
# expected number of exact-duplicate pairs is below n²/2^41, i.e. < 5e-5 in 10k records (0 seen on
# cpu-small/cuda-small) and < 0.5 in 1M. About 1 kernel in 5, from the small family variants
# that make few choices, gets a short hex suffix on its name for this.
MIN_BITS = 40


def record_rng(options: GenerationOptions, index: int, attempt: int) -> CountingRandom:
    """An RNG private to one draw, seeded from a hash of what the record depends on."""
    key = f"warp-ir-pairs|{options.backend}|{options.seed}|{index}|{attempt}"
    return CountingRandom(int.from_bytes(hashlib.sha256(key.encode()).digest()[:16], "big"))


def _ensure_entropy(ks: KernelSource, rng: CountingRandom) -> KernelSource:
    """Give a low-entropy kernel (a small family variant with few choices) a random name suffix.

    Such variants would otherwise repeat exactly across indices; the suffix tops the draw up to
    ``MIN_BITS`` so exact duplicate sources do not occur (checked on ``small`` by ``stats``).
    """
    missing = MIN_BITS - rng.bits
    if missing <= 0:
        return ks
    tag = f"{rng.getrandbits(4 * math.ceil(missing / 4)):x}"
    name = f"{ks.kernel_name}_{tag}"
    source = re.sub(rf"^def {ks.kernel_name}\(", f"def {name}(", ks.python_source, count=1, flags=re.M)
    return KernelSource(source, name, ks.category, ks.complexity)


def level_of(options: GenerationOptions, index: int) -> int:
    """The complexity level of record ``index``: the override, else drawn per index (not per draw)."""
    if options.complexity is not None:
        return options.complexity
    return record_rng(options, index, -1).choice(COMPLEXITY_LEVELS)


def synthesize(options: GenerationOptions, index: int, attempt: int = 0) -> KernelSource:
    """The kernel source of draw ``attempt`` for record ``index``."""
    schedule = SCHEDULES[options.backend]
    family = FAMILIES[options.backend][schedule[index % len(schedule)]]
    rng = record_rng(options, index, attempt)
    ks = _ensure_entropy(family(rng, level_of(options, index)), rng)
    if options.backend == "errors":
        from ..mistakes import inject

        kind_and_kernel = inject(rng, ks)
        if kind_and_kernel is None:   # no mistake applies: the driver skips this draw
            return KernelSource(ks.python_source, ks.kernel_name, "error_none", ks.complexity)
        ks = kind_and_kernel[1]
    return ks
