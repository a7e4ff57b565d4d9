"""The ``scan`` family: naive and Hillis–Steele scans, segmented and blocked scans, compaction.
"""

from __future__ import annotations

import random

from ...builder import KernelBuilder, KernelSource
from ...types import F32, I32
from ._kit import Knobs, accumulator, begin, chance, let_local, tid1

_SCAN_OPS = {"add": ("+", "0"), "max": ("wp.max", "-1.0e30"), "min": ("wp.min", "1.0e30"), "mul": ("*", "1")}


def _combine(op: str, a: str, b: str) -> str:
    sym = _SCAN_OPS[op][0]
    return f"{sym}({a}, {b})" if sym.startswith("wp.") else f"{a} {sym} {b}"


def _identity(op: str, t: str) -> str:
    ident = _SCAN_OPS[op][1]
    if t == I32:
        return {"-1.0e30": "-2147483647", "1.0e30": "2147483647"}.get(ident, ident)
    return ident if "." in ident else f"{ident}.0"


def scan(rng: random.Random, level: int) -> KernelSource:
    variant = rng.choice(["naive", "naive", "hillis_steele", "segmented", "blocked", "add_offsets", "compact"]
                         + ["segmented", "blocked", "hillis_steele"] * (level // 2))
    names = {"naive": ("prefix_sum_naive", "inclusive_scan", "exclusive_scan", "cumulative_sum"),
             "hillis_steele": ("scan_step", "hillis_steele_step", "scan_pass"),
             "segmented": ("segmented_scan", "segmented_prefix_sum", "scan_segments"),
             "blocked": ("scan_blocks", "block_scan", "scan_rows"),
             "add_offsets": ("add_block_offsets", "uniform_add", "propagate_block_sums"),
             "compact": ("compact", "stream_compaction", "scatter_selected")}[variant]
    kb, _ = begin(rng, level, "scan", names)
    knobs = Knobs(kb, rng.choice(("arg", "arg", "const")))
    t = I32 if rng.random() < 0.35 else F32
    op = rng.choice(("add", "add", "add", "max", "min", "mul")) if variant in ("naive", "hillis_steele", "blocked") \
        else "add"
    {"naive": _scan_naive, "hillis_steele": _scan_step, "segmented": _scan_segmented, "blocked": _scan_blocked,
     "add_offsets": _scan_add_offsets, "compact": _scan_compact}[variant](kb, knobs, t, op)
    return knobs.render()


def _scan_naive(kb: KernelBuilder, knobs: Knobs, t: str, op: str) -> None:
    """Each thread folds its whole prefix: O(n^2) work, the reference the fast scans are checked against."""
    rng = kb.rng
    src = kb.array_param(rng.choice(("src", "values", "inp", "x")), t).name
    out = kb.array_param(rng.choice(("out", "prefix", "result", "scanned")), t).name
    exclusive = rng.random() < 0.4
    second = chance(kb, 0.25)  # scan a second array in the same pass (e.g. counts and sizes)
    src2 = kb.array_param(rng.choice(("sizes", "weights", "src2")), t).name if second else ""
    out2 = kb.array_param(rng.choice(("size_offsets", "weight_prefix", "out2")), t).name if second else ""
    i = tid1(kb, "tid", "i")
    acc = accumulator(kb, ("acc", "running", "s"), t, _identity(op, t))
    acc2 = accumulator(kb, ("acc2", "running2", "s2"), t, _identity("add", t)) if second else ""
    stop = i if exclusive else f"{i} + 1"
    bounds = (stop,) if rng.random() < 0.7 else (f"{i} - 1" if exclusive else i, "-1", "-1")  # or walk down
    with kb.for_range("j", *bounds) as j:
        kb.emit(f"{acc} = {_combine(op, acc, f'{src}[{j.name}]')}")
        if second:
            kb.emit(f"{acc2} += {src2}[{j.name}]")
    if second:
        kb.emit(f"{out2}[{i}] = {acc2}")
    if chance(kb, 0.2) and op == "add" and t == F32:  # normalized cumulative distribution
        total = kb.array_param(rng.choice(("total", "norm")), F32).name
        kb.emit(f"{out}[{i}] = {acc} / wp.max({total}[0], 1.0e-12)")
    else:
        kb.emit(f"{out}[{i}] = {acc}")


def _scan_step(kb: KernelBuilder, knobs: Knobs, t: str, op: str) -> None:
    """One Hillis-Steele pass: out[i] = src[i] (op) src[i - offset]; the host doubles offset."""
    rng = kb.rng
    src = kb.array_param(rng.choice(("src", "x_in", "ping")), t).name
    out = kb.array_param(rng.choice(("dst", "x_out", "pong")), t).name
    offset = kb.scalar_param(rng.choice(("offset", "stride", "d")), I32).name
    i = tid1(kb, "tid", "i")
    if rng.random() < 0.5:
        with kb.block(f"if {i} >= {offset}:"):
            kb.emit(f"{out}[{i}] = {_combine(op, f'{src}[{i}]', f'{src}[{i} - {offset}]')}")
        with kb.block("else:"):
            kb.emit(f"{out}[{i}] = {src}[{i}]")
    else:
        v = let_local(kb, ("v", "x_i", "val"), f"{src}[{i}]", t)
        with kb.block(f"if {i} >= {offset}:"):
            kb.emit(f"{v} = {_combine(op, v, f'{src}[{i} - {offset}]')}")
        kb.emit(f"{out}[{i}] = {v}")
    if chance(kb, 0.25):  # the host stops once no element changes
        changed = kb.array_param(rng.choice(("changed", "active")), I32).name
        with kb.block(f"if {i} >= {offset} and {src}[{i} - {offset}] != {_identity(op, t)}:"):
            kb.emit(f"{changed}[0] = 1")


def _scan_segmented(kb: KernelBuilder, knobs: Knobs, t: str, op: str) -> None:
    """Segmented inclusive scan; flags mark the first element of each segment."""
    rng = kb.rng
    src = kb.array_param(rng.choice(("values", "src", "x")), t).name
    flags = kb.array_param(rng.choice(("flags", "head_flags", "segment_start")), I32).name
    out = kb.array_param(rng.choice(("out", "result", "scanned")), t).name
    i = tid1(kb, "tid", "i")
    if rng.random() < 0.5:  # naive: walk back to the segment head
        acc = accumulator(kb, ("acc", "running", "s"), t, f"{src}[{i}]")
        j = kb.let(rng.choice(("j", "k", "pos")), i, I32).name
        with kb.block(f"while {j} > 0 and {flags}[{j}] == 0:"):
            kb.emit(f"{j} -= 1")
            kb.emit(f"{acc} += {src}[{j}]")
        kb.emit(f"{out}[{i}] = {acc}")
        return
    # one Hillis-Steele pass carrying the flags
    offset = kb.scalar_param(rng.choice(("offset", "stride")), I32).name
    flags_out = kb.array_param(rng.choice(("flags_out", "head_flags_out")), I32).name
    v = let_local(kb, ("v", "val"), f"{src}[{i}]", t)
    f = let_local(kb, ("f", "flag"), f"{flags}[{i}]", I32)
    with kb.block(f"if {i} >= {offset}:"):
        with kb.block(f"if {f} == 0:"):
            kb.emit(f"{v} = {v} + {src}[{i} - {offset}]")
        kb.emit(f"{f} = {f} | {flags}[{i} - {offset}]")
    kb.emit(f"{out}[{i}] = {v}")
    kb.emit(f"{flags_out}[{i}] = {f}")


def _scan_blocked(kb: KernelBuilder, knobs: Knobs, t: str, op: str) -> None:
    """First level of a blocked scan: each thread scans one row of a 2-D array sequentially."""
    rng = kb.rng
    data = kb.array_param(rng.choice(("data", "blocks", "tiles")), t, 2).name
    in_place = rng.random() < 0.5
    out = data if in_place else kb.array_param(rng.choice(("out", "scanned")), t, 2).name
    sums = kb.array_param(rng.choice(("block_sums", "totals", "carry")), t).name if rng.random() < 0.7 else ""
    exclusive = rng.random() < 0.4
    n = kb.scalar_param(rng.choice(("n", "count", "num_items")), I32).name if chance(kb, 0.3) else ""
    b = tid1(kb, "block", "b", "row")
    acc = accumulator(kb, ("acc", "running", "carry_in"), t, _identity(op, t))
    with kb.for_range("k", f"{data}.shape[1]") as k:
        if n:  # the last row may be partly past the end of the flattened input
            with kb.block(f"if {b} * {data}.shape[1] + {k.name} >= {n}:"):
                kb.emit("break")
        v = let_local(kb, ("v", "x", "val"), f"{data}[{b}, {k.name}]", t)
        if exclusive:
            kb.emit(f"{out}[{b}, {k.name}] = {acc}")
            kb.emit(f"{acc} = {_combine(op, acc, v)}")
        else:
            kb.emit(f"{acc} = {_combine(op, acc, v)}")
            kb.emit(f"{out}[{b}, {k.name}] = {acc}")
    if sums:
        kb.emit(f"{sums}[{b}] = {acc}")


def _scan_add_offsets(kb: KernelBuilder, knobs: Knobs, t: str, op: str) -> None:
    """Last level of a blocked scan: add each block's scanned offset to its elements."""
    rng = kb.rng
    two_d = rng.random() < 0.5
    data = kb.array_param(rng.choice(("data", "out", "values")), t, 2 if two_d else 1).name
    offsets = kb.array_param(rng.choice(("block_offsets", "scanned_sums", "carry")), t).name
    if two_d:
        b, k = (v.name for v in kb.tid(2, rng.choice((("block", "k"), ("b", "i")))))
        index = f"{b}, {k}"
    else:
        i = tid1(kb, "tid", "i")
        block_size = knobs.get(rng.choice(("block_size", "tile")), 64, 1024, I32)
        b = let_local(kb, ("b", "block"), f"{i} // {block_size}", I32)
        index = i
    if rng.random() < 0.6:  # block 0 has no carry-in
        with kb.block(f"if {b} > 0:"):
            kb.emit(f"{data}[{index}] = {data}[{index}] + {offsets}[{b} - 1]")
    else:
        kb.emit(f"{data}[{index}] += {offsets}[{b}]")


def _scan_compact(kb: KernelBuilder, knobs: Knobs, t: str, op: str) -> None:
    """Stream compaction after an exclusive scan of the keep-flags."""
    rng = kb.rng
    src = kb.array_param(rng.choice(("src", "values", "items")), t).name
    keep = kb.array_param(rng.choice(("keep", "flags", "predicate")), I32).name
    slots = kb.array_param(rng.choice(("scan", "offsets", "write_index")), I32).name
    out = kb.array_param(rng.choice(("out", "compacted", "selected")), t).name
    count = kb.array_param(rng.choice(("count", "num_selected")), I32).name if chance(kb, 0.4) else ""
    idx_out = kb.array_param(rng.choice(("indices", "source_index")), I32).name if chance(kb, 0.3) else ""
    i = tid1(kb, "tid", "i")
    with kb.block(f"if {keep}[{i}] != 0:"):
        s = let_local(kb, ("slot", "dst", "k"), f"{slots}[{i}]", I32)
        kb.emit(f"{out}[{s}] = {src}[{i}]")
        if idx_out:
            kb.emit(f"{idx_out}[{s}] = {i}")
    if count:  # the last thread knows the total
        n = f"{keep}.shape[0]"
        with kb.block(f"if {i} == {n} - 1:"):
            kb.emit(f"{count}[0] = {slots}[{i}] + {keep}[{i}]")
