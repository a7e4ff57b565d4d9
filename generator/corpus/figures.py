"""The figures every view of a corpus shares, computed one way: `stats`, and the card, use these.

Distinct structures, exact duplicates and length percentiles mean the same in the ``stats``
report and in a release's card because both fold their records through this module.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field


def digest(text: str) -> bytes:
    """The one digest for counting exact duplicates.

    8 bytes is plenty to count exact duplicates (collision odds ~n²/2^65) and keeps 1M-record sets small.
    """
    return hashlib.blake2b(text.encode(), digest_size=8).digest()


def percentiles(values: list[int]) -> dict[str, int]:
    """min, median, p99 and max of ``values`` (all 0 for none)."""
    if not values:
        return {"min": 0, "median": 0, "p99": 0, "max": 0}
    s = sorted(values)
    return {"min": s[0], "median": s[len(s) // 2], "p99": s[min(len(s) - 1, int(len(s) * 0.99))], "max": s[-1]}


@dataclass
class Distinct:
    """Distinct structures (per split) and exact duplicates of ``python_source`` and ``ir_code``."""

    records: int = 0
    structures: dict[str, set[str]] = field(default_factory=dict)   # split -> structure hashes
    sources: set[bytes] = field(default_factory=set)
    irs: set[bytes] = field(default_factory=set)

    def add(self, split: str, structures: Iterable[str], source_digests: Iterable[bytes],
            ir_digests: Iterable[bytes]) -> None:
        """Fold some records of ``split``: their structure hashes and the digests of their texts."""
        sources = list(source_digests)
        self.records += len(sources)
        self.sources.update(sources)
        self.irs.update(ir_digests)
        self.structures.setdefault(split, set()).update(structures)

    def _every(self) -> Counter:
        return Counter(h for hashes in self.structures.values() for h in hashes)

    @property
    def distinct_structures(self) -> int:
        return len(self._every())

    @property
    def structures_in_several_splits(self) -> int:
        return sum(1 for k in self._every().values() if k > 1)

    @property
    def duplicate_python_source(self) -> int:
        return self.records - len(self.sources)

    @property
    def duplicate_ir_code(self) -> int:
        return self.records - len(self.irs)
