"""The record function and shards: ``(options, index) -> record``, ``(options, range) -> records``.

Every driver (the ``datasets`` builder, exports, parallel engines) calls ``iter_shard`` and
nothing else, so they cannot disagree. A record is a pure function of (backend, seed, index,
content options): its RNG comes from a hash of those, never from process state.

Pipeline per index: synthesize (no Warp) → Warp codegen for each target → at ``verify=compile``
native compilation, at ``verify=execute`` also a sandboxed CPU run → schema validation. A draw
that fails any step is counted (category, reason) and replaced by the next draw for the same
index. Compile and execute steps take a list of kernels, so they run in batches.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from . import mistakes, synth, verify
from .options import GenerationOptions
from .record import schema
from .record.structure import SPLIT_NAMES, split_of, structure_hash
from .synth.builder import KernelSource
from .toolchain import codegen

logger = logging.getLogger("warp_ir_pairs")

# A kernel that fails is replaced by another draw for the same index. The cap only guards
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


# The IR of an ``errors`` record: there is none, Warp refused the kernel.
_NO_IR = codegen.KernelIR("", "", "", "", '{"diagnosed_with": "cpu codegen"}', "")


@dataclass
class _Draft:
    """One accepted draw on its way to becoming a record."""

    index: int
    attempt: int
    target_split: str
    kernel: KernelSource
    structure: str
    irs: dict[str, codegen.KernelIR]
    native: dict[str, object] = field(default_factory=dict)


def shards(num_examples: int, shard_size: int | None = None) -> list[tuple[int, int]]:
    """Index ranges ``[start, stop)`` covering ``num_examples``; the unit of parallel work.

    ``shard_size`` defaults to ``SHARD_SIZE`` as it is at call time (tests shrink it).
    """
    size = SHARD_SIZE if shard_size is None else shard_size
    return [(s, min(s + size, num_examples)) for s in range(0, num_examples, size)]


def draw_kernel(options: GenerationOptions, index: int, attempt: int = 0) -> KernelSource:
    """The kernel of draw ``attempt`` for ``index`` with the config's task applied; no Warp needed.

    For ``errors`` the task is one realistic mistake, drawn from the same RNG the kernel was
    drawn from; a kernel no mistake applies to has category ``error_none`` (``_diagnose`` skips it).
    """
    if options.backend != "errors":
        return synth.synthesize(options, index, attempt)
    ks, rng = synth.draw(options, index, attempt)
    kind_and_kernel = mistakes.inject(rng, ks)
    if kind_and_kernel is None:   # no mistake applies: the driver skips this draw
        return KernelSource(ks.python_source, ks.kernel_name, "error_none", ks.complexity)
    return kind_and_kernel[1]


def _first_draw(options: GenerationOptions, index: int) -> tuple[KernelSource, str, str]:
    """(kernel, structure hash, split) of the first draw of ``index``; no Warp needed."""
    ks = draw_kernel(options, index, attempt=0)
    structure = structure_hash(ks.python_source)
    return ks, structure, split_of(structure)


def split_of_index(options: GenerationOptions, index: int) -> str:
    """The split record ``index`` belongs to (from its first draw's structure)."""
    return _first_draw(options, index)[2]


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


def _draw(options: GenerationOptions, index: int, target_split: str, report: Report, first: int,
          drawn: tuple[KernelSource, str, str] | None = None) -> _Draft:
    """The first draw from ``first`` on whose structure is in ``target_split`` and that Warp accepts.

    The split of an index is fixed by its first draw; replacements of another split are skipped
    before any Warp work, so structure always decides the split. ``drawn`` is draw 0 when the
    caller already synthesized it.
    """
    for attempt in range(first, MAX_ATTEMPTS):
        if attempt == 0 and drawn is not None:
            ks, structure, _ = drawn
        else:
            ks = draw_kernel(options, index, attempt)
            structure = structure_hash(ks.python_source)
        if split_of(structure) != target_split:
            continue
        if options.backend == "errors":
            diagnostic = _diagnose(ks, report)
            if diagnostic is None:
                continue
            return _Draft(index, attempt, target_split, ks, structure, {}, {"error_message": diagnostic})
        try:
            irs = codegen.emit_all(ks.python_source, ks.kernel_name, options.targets, debug=options.opt_variants)
        except codegen.KernelRejected as e:
            report.rejected[(ks.category, f"{e.reason}: {e.message}")] += 1
            continue
        return _Draft(index, attempt, target_split, ks, structure, irs)
    raise GenerationError(f"no acceptable kernel for {options.backend} seed={options.seed} index={index} "
                          f"after {MAX_ATTEMPTS} draws; rejections so far: {dict(report.rejected)}")


def _diagnose(ks: KernelSource, report: Report) -> str | None:
    """Warp's normalized diagnostic for an ``errors`` draw; None (counted) when Warp accepts it."""
    if ks.category == "error_none":
        report.rejected[(ks.category, "no mistake applies to this kernel")] += 1
        return None
    diagnostic = mistakes.diagnose(ks.python_source, ks.kernel_name, "cpu")
    if diagnostic is None:
        report.rejected[(ks.category, "Warp accepted the kernel with the mistake")] += 1
    return diagnostic


def _verify(options: GenerationOptions, drafts: list[_Draft]) -> list[str]:
    """Run the verify levels up to ``options.verify`` on a batch; fill ``draft.native``; a reason per draft.

    Each level checks only the drafts every earlier level passed; the first reason sticks.
    """
    reasons = [""] * len(drafts)
    for level in verify.up_to(options.verify):
        todo = [i for i, r in enumerate(reasons) if not r]
        if not todo:
            break
        for i, reason in zip(todo, level.check(options, [drafts[i] for i in todo]), strict=True):
            reasons[i] = reason
    return reasons


def _record(options: GenerationOptions, d: _Draft) -> dict:
    first = d.irs.get(options.targets[0], _NO_IR)
    cuda = d.irs.get("cuda") if options.backend == "paired" else None
    return {
        "id": f"{options.backend}-{options.seed}-{d.index}",
        "kernel_name": d.kernel.kernel_name,
        "category": d.kernel.category,
        "backend": options.backend,
        "python_source": d.kernel.python_source,
        "ir_code": first.forward,
        "ir_functions": first.functions,
        "ir_backward": first.backward if options.backward else "",
        "ir_code_debug": first.debug_forward,
        "cuda_ir_code": cuda.forward if cuda else "",
        "cuda_ir_functions": cuda.functions if cuda else "",
        "cuda_ir_backward": cuda.backward if cuda and options.backward else "",
        "verify": options.verify,
        # every level's fields, also those of levels not run (their defaults), in registry order
        **{name: d.native.get(name, default) for level in verify.LEVELS for name, default in level.fields.items()},
        "error_message": d.native.get("error_message", ""),
        "structure_hash": d.structure,
        "warp_version": codegen.warp_version(),
        "warp_options": first.options,
        "complexity": d.kernel.complexity,
        "seed": options.seed,
        "index": d.index,
    }


def _finish(options: GenerationOptions, drafts: list[_Draft], report: Report) -> list[dict]:
    """Verify a batch of drafts; replace each failure (alone) until it passes; build records."""
    out = []
    for d, reason in zip(drafts, _verify(options, drafts), strict=True):
        while True:
            if not reason:
                record = _record(options, d)
                errors = schema.validation_errors(record)
                if not errors:
                    break
                reason = "schema: " + errors[0]
            report.rejected[(d.kernel.category, reason)] += 1
            d = _draw(options, d.index, d.target_split, report, d.attempt + 1)
            reason = _verify(options, [d])[0]
        report.yielded += 1
        out.append(record)
    return out


def make_record(options: GenerationOptions, index: int, split: str | None = None,
                report: Report | None = None) -> dict | None:
    """The record at ``index``, or None when ``split`` is given and the index belongs elsewhere."""
    records = list(iter_shard(options, index, index + 1, split, report))
    return records[0] if records else None


def iter_shard(options: GenerationOptions, start: int, stop: int, split: str | None = None,
               report: Report | None = None, known_splits: list[str] | None = None,
               seen_splits: list[str] | None = None) -> Iterator[dict]:
    """Records of indices ``[start, stop)`` (of one split when given), in index order.

    ``known_splits`` (the split of each index in the range, from ``split_memo``) lets a split
    pass skip other splits' indices without synthesizing them; ``seen_splits``, when given, is
    extended with the split of each index whose first draw this call computed.
    """
    report = report if report is not None else Report()
    batch = verify.up_to(options.verify)[-1].batch   # the deepest level's batch rule
    if known_splits is not None and len(known_splits) != stop - start:
        raise ValueError(f"known_splits has {len(known_splits)} entries for {stop - start} indices")
    drafts: list[_Draft] = []
    for index in range(start, stop):
        if split is not None and known_splits is not None and known_splits[index - start] != split:
            continue
        first = _first_draw(options, index)
        if seen_splits is not None:
            seen_splits.append(first[2])
        if known_splits is not None and first[2] != known_splits[index - start]:
            raise GenerationError(f"index {index} belongs to {first[2]}, not to {known_splits[index - start]} "
                                  "as the split memo says")
        if split is not None and first[2] != split:
            continue
        drafts.append(_draw(options, index, first[2], report, 0, first))
        if len(drafts) >= batch:
            yield from _finish(options, drafts, report)
            drafts = []
    yield from _finish(options, drafts, report)
