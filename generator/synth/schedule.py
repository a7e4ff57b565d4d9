"""Which kernel sits at (backend, seed, index, attempt): the family schedule and the draw.

Index ``i`` of a backend takes family ``SCHEDULES[backend][i % len(schedule)]`` and draws it
from ``record_rng(options, i, attempt)`` at level ``level_of(options, i)``. Tasks applied to a
drawn kernel (the ``errors`` mistakes) are the driver's business: ``draw`` hands back the RNG it
drew from so the task continues the same stream.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from ..options import BACKENDS, COMPLEXITY_LEVELS, GenerationOptions
from .builder import KernelSource
from .families import REGISTRY, Family, for_backend
from .rng import CountingRandom, record_rng


def families_by_backend(registry: Iterable[Family] = REGISTRY) -> dict[str, dict[str, Family]]:
    """Backend -> (name -> family), in registry order."""
    registry = tuple(registry)
    return {backend: {f.name: f for f in for_backend(backend, registry)} for backend in BACKENDS}


def schedule_of(families: Iterable[Family]) -> tuple[str, ...]:
    """A cycle of family names: each family once, the ``composed`` kind filling ~40% of the cycle.

    Index ``i`` takes ``schedule[i % len(schedule)]``, so every family is represented evenly
    (the same count ±1) in every tier and every prefix of a tier.
    """
    families = tuple(families)
    named = [f.name for f in families if f.kind != "composed"]
    composers = [f.name for f in families if f.kind == "composed"]
    fill = len(named) * 2 // 3 if composers else 0
    return (*named, *(composers[k % len(composers)] for k in range(fill)))


def schedules(registry: Iterable[Family] = REGISTRY) -> dict[str, tuple[str, ...]]:
    """Backend -> its schedule, for a registry (``REGISTRY`` unless a test passes its own)."""
    return {backend: schedule_of(by_name.values()) for backend, by_name in families_by_backend(registry).items()}


FAMILIES: dict[str, dict[str, Family]] = families_by_backend()
SCHEDULES: dict[str, tuple[str, ...]] = schedules()


def categories(backend: str) -> list[str]:
    """The family names (record categories) of ``backend``, in registry order."""
    return list(FAMILIES[backend])


# Every kernel carries at least this many (counted, so at least) bits of random choice: the
# expected number of exact-duplicate pairs is below n²/2^41, i.e. < 5e-5 in 10k records (0 seen on
# cpu-small/cuda-small) and < 0.5 in 1M. About 1 kernel in 5, from the small family variants
# that make few choices, gets a short hex suffix on its name for this.
MIN_BITS = 40


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


def draw(options: GenerationOptions, index: int, attempt: int = 0) -> tuple[KernelSource, CountingRandom]:
    """The kernel of draw ``attempt`` for record ``index``, and the RNG it was drawn from.

    The RNG is left where the draw stopped: a task applied to the kernel (``mistakes.inject`` for
    the ``errors`` backend) draws on from it, so the task's choices are part of the same stream.
    """
    schedule = SCHEDULES[options.backend]
    family = FAMILIES[options.backend][schedule[index % len(schedule)]]
    rng = record_rng(options, index, attempt)
    return _ensure_entropy(family.build(rng, level_of(options, index)), rng), rng


def synthesize(options: GenerationOptions, index: int, attempt: int = 0) -> KernelSource:
    """The kernel source of draw ``attempt`` for record ``index``, before any task is applied.

    For the ``errors`` backend this is the valid kernel a mistake goes into; the record's
    kernel is ``driver.draw_kernel`` (which applies the task).
    """
    return draw(options, index, attempt)[0]
