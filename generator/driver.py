"""The record function and shards: ``(options, index) -> record``, ``(options, range) -> records``.

Every driver (the ``datasets`` builder, exports, parallel engines) calls ``iter_shard`` and
nothing else, so they cannot disagree. A record is a pure function of (backend, seed, index,
content options): its RNG comes from a hash of those, never from process state.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from . import schema, synthesis, warp_ir
from .configs import GenerationOptions
from .structure import SPLIT_NAMES, split_of, structure_hash

logger = logging.getLogger("warp_ir_pairs")

# A kernel Warp rejects is replaced by another draw for the same index. The cap only guards
# against a synthesizer bug turning into an endless loop.
MAX_ATTEMPTS = 64
SHARD_SIZE = 128


@dataclass
class Report:
    """Rejections counted while generating: (category, reason) -> count, plus records yielded."""

    rejected: Counter = field(default_factory=Counter)
    yielded: int = 0

    def add(self, other: Report) -> None:
        self.rejected.update(other.rejected)
        self.yielded += other.yielded

    @property
    def total_rejected(self) -> int:
        return sum(self.rejected.values())

    def summary(self) -> str:
        if not self.rejected:
            return f"{self.yielded} records, 0 rejected"
        lines = [f"{self.yielded} records, {self.total_rejected} kernels rejected and replaced:"]
        for (category, reason), n in self.rejected.most_common():
            lines.append(f"  {n:6d}  {category}: {reason}")
        return "\n".join(lines)


class GenerationError(RuntimeError):
    """An index for which no acceptable kernel could be drawn (a synthesizer bug, not user error)."""


def shards(num_examples: int, shard_size: int = SHARD_SIZE) -> list[tuple[int, int]]:
    """Index ranges ``[start, stop)`` covering ``num_examples``; the unit of parallel work."""
    return [(s, min(s + shard_size, num_examples)) for s in range(0, num_examples, shard_size)]


def split_of_index(options: GenerationOptions, index: int) -> str:
    """The split record ``index`` belongs to (from its first draw's structure; no Warp needed)."""
    return split_of(structure_hash(synthesis.synthesize(options, index, attempt=0).python_source))


def nonempty_splits(options: GenerationOptions) -> list[str]:
    """Splits that receive at least one record, in canonical order.

    ``datasets`` cannot load a declared split with no rows, and small ``num_examples`` can leave
    the 5% splits empty. Synthesis is cheap, so scan indices until every split has been seen
    (a few dozen draws) or the indices run out.
    """
    seen: set[str] = set()
    for index in range(options.num_examples):
        seen.add(split_of_index(options, index))
        if len(seen) == len(SPLIT_NAMES):
            break
    return [s for s in SPLIT_NAMES if s in seen]


def make_record(options: GenerationOptions, index: int, split: str | None = None,
                report: Report | None = None) -> dict | None:
    """The record at ``index``, or None when ``split`` is given and the index belongs elsewhere.

    The split is decided by the structure of the first draw; replacements (after a rejection)
    are drawn until one with a structure of the same split is accepted, so the split of an
    index never depends on Warp and structure always decides the split.
    """
    report = report if report is not None else Report()
    target = split_of_index(options, index)
    if split is not None and target != split:
        return None
    for attempt in range(MAX_ATTEMPTS):
        ks = synthesis.synthesize(options, index, attempt)
        structure = structure_hash(ks.python_source)
        if split_of(structure) != target:
            continue  # cheap: no Warp work for draws of another split
        try:
            ir = warp_ir.emit(ks.python_source, ks.kernel_name, options.backend)
        except warp_ir.KernelRejected as e:
            report.rejected[(ks.category, f"{e.reason}: {e.message}")] += 1
            continue
        record = {
            "id": f"{options.backend}-{options.seed}-{index}",
            "kernel_name": ks.kernel_name,
            "category": ks.category,
            "backend": options.backend,
            "python_source": ks.python_source,
            "ir_code": ir.forward,
            "ir_functions": ir.functions,
            "structure_hash": structure,
            "warp_version": warp_ir.warp_version(),
            "warp_options": ir.options,
            "seed": options.seed,
            "index": index,
            "complexity": ks.complexity,
        }
        errors = schema.validation_errors(record)
        if errors:
            report.rejected[(ks.category, "schema: " + errors[0])] += 1
            continue
        report.yielded += 1
        return record
    raise GenerationError(f"no acceptable kernel for {options.backend} seed={options.seed} index={index} "
                          f"after {MAX_ATTEMPTS} draws; rejections so far: {dict(report.rejected)}")


def iter_shard(options: GenerationOptions, start: int, stop: int, split: str | None = None,
               report: Report | None = None) -> Iterator[dict]:
    """Records of indices ``[start, stop)`` (of one split when given), in index order."""
    report = report if report is not None else Report()
    for index in range(start, stop):
        record = make_record(options, index, split, report)
        if record is not None:
            yield record
