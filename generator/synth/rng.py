"""The RNG of one draw: seeded from what the record depends on, and counting the choices it makes."""

from __future__ import annotations

import hashlib
import math
import random

from ..options import GenerationOptions


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


def record_rng(options: GenerationOptions, index: int, attempt: int) -> CountingRandom:
    """An RNG private to one draw, seeded from a hash of what the record depends on."""
    key = f"warp-ir-pairs|{options.backend}|{options.seed}|{index}|{attempt}"
    return CountingRandom(int.from_bytes(hashlib.sha256(key.encode()).digest()[:16], "big"))
