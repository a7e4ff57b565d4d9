"""The synthesizer: which Warp kernel source sits at (backend, seed, index, attempt).

Pure Python, no Warp import (and no import of ``mistakes``, the errors task, which the driver
applies): synthesis is cheap, so drivers can synthesize a kernel just to learn its split before
paying for Warp. The public face other rooms use:

* ``synthesize(options, index, attempt)`` -> ``KernelSource``; ``draw`` also returns the RNG;
* ``categories(backend)``, ``level_of``, ``record_rng``/``CountingRandom``, ``MIN_BITS``;
* the family registry (``Family``, ``REGISTRY``, ``FAMILIES`` per backend, ``SCHEDULES``).
"""

from __future__ import annotations

from .builder import KernelSource
from .families import REGISTRY, Family
from .rng import CountingRandom, record_rng
from .schedule import (
                       FAMILIES,
                       MIN_BITS,
                       SCHEDULES,
                       categories,
                       draw,
                       families_by_backend,
                       level_of,
                       schedule_of,
                       schedules,
                       synthesize,
)

__all__ = [
    "FAMILIES", "MIN_BITS", "REGISTRY", "SCHEDULES", "CountingRandom", "Family", "KernelSource", "categories",
    "draw", "families_by_backend", "level_of", "record_rng", "schedule_of", "schedules", "synthesize",
]
