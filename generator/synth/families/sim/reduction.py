"""The ``reduction`` family: sums, extrema, norms, dot products, argmax, histograms, per-block
partials.
"""

from __future__ import annotations

import contextlib
import random

from ...builder import KernelBuilder, KernelSource
from ...expressions import ExprGen
from ...types import F32, I32, V3
from .._kit import expr_depth
from ._kit import Knobs, accumulator, begin, chance, how_many, let_local, tid1


def reduction(rng: random.Random, level: int) -> KernelSource:
    variant = rng.choice(["sum", "sum", "minmax", "norm", "dot", "argmax", "histogram", "moments", "vec_sum"]
                         + ["grid_stride", "blocks"] * (1 + level // 2))
    names = {"sum": ("reduce_sum", "sum_values", "accumulate_total"),
             "minmax": ("reduce_min_max", "compute_bounds", "find_extrema"),
             "norm": ("compute_norm", "reduce_norm", "vector_norm"),
             "dot": ("dot_product", "inner_product", "reduce_dot"),
             "argmax": ("argmax_index", "find_argmax", "locate_max"), "histogram": ("histogram", "bin_counts"),
             "moments": ("mean_variance", "compute_moments", "accumulate_stats"),
             "vec_sum": ("center_of_mass", "sum_vectors", "total_momentum"),
             "grid_stride": ("reduce_grid_stride", "strided_sum", "sum_grid_stride"),
             "blocks": ("block_partials", "reduce_blocks", "partial_sums")}[variant]
    kb, ex = begin(rng, level, "reduction", names, leaf_prob=0.55)
    knobs = Knobs(kb, rng.choice(("arg", "arg", "const")))
    {"sum": _reduce_sum, "minmax": _reduce_minmax, "norm": _reduce_norm, "dot": _reduce_dot,
     "argmax": _reduce_argmax, "histogram": _reduce_histogram, "moments": _reduce_moments,
     "vec_sum": _reduce_vec_sum, "grid_stride": _reduce_grid_stride, "blocks": _reduce_blocks}[variant](kb, ex, knobs)
    return knobs.render()


def _masked(kb: KernelBuilder, i: str) -> contextlib.AbstractContextManager[None]:
    """Optionally restrict the reduction to active elements."""
    if not chance(kb, 0.2):
        return contextlib.nullcontext()
    mask = kb.array_param(kb.rng.choice(("mask", "active", "valid")), I32).name
    return kb.block(f"if {mask}[{i}] != 0:")


def _mapped(kb: KernelBuilder, ex: ExprGen, value: str) -> str:
    """The reduced quantity: the value itself or (sometimes) a synthesized function of it."""
    if not chance(kb, 0.25):
        return value
    return ex.expr_reading(F32, expr_depth(kb, 1, 2))


def _extra_stats(kb: KernelBuilder, knobs: Knobs, v: str) -> None:
    """Fused side reductions of the same value (one pass over memory instead of several)."""
    rng = kb.rng
    pool = ["count_pos", "max_abs", "sum_sq", "count_over", "min"]
    for stat in rng.sample(pool, how_many(kb, 0, 1)):
        if stat == "count_pos":
            out = kb.array_param(rng.choice(("num_positive", "count_pos")), I32).name
            with kb.block(f"if {v} > 0.0:"):
                kb.emit(f"wp.atomic_add({out}, 0, 1)")
        elif stat == "count_over":
            out = kb.array_param(rng.choice(("num_over", "outliers")), I32).name
            with kb.block(f"if wp.abs({v}) > {knobs.get('threshold', 0.5, 10.0)}:"):
                kb.emit(f"wp.atomic_add({out}, 0, 1)")
        elif stat == "max_abs":
            out = kb.array_param(rng.choice(("max_abs", "linf")), F32).name
            kb.emit(f"wp.atomic_max({out}, 0, wp.abs({v}))")
        elif stat == "sum_sq":
            out = kb.array_param(rng.choice(("sum_sq", "energy")), F32).name
            kb.emit(f"wp.atomic_add({out}, 0, {v} * {v})")
        else:
            out = kb.array_param(rng.choice(("min_value", "lowest")), F32).name
            kb.emit(f"wp.atomic_min({out}, 0, {v})")


def _reduce_sum(kb: KernelBuilder, ex: ExprGen, knobs: Knobs) -> None:
    rng = kb.rng
    src = kb.array_param(rng.choice(("values", "x", "data", "src")), F32).name
    total = kb.array_param(rng.choice(("total", "result", "sum_out")), F32).name
    i = tid1(kb, "tid", "i")
    with _masked(kb, i):
        v = let_local(kb, ("v", "x_i", "val"), f"{src}[{i}]", F32)
        slot = "0" if rng.random() < 0.7 else f"{i} % {total}.shape[0]"  # spread contention over slots
        kb.emit(f"wp.atomic_add({total}, {slot}, {_mapped(kb, ex, v)})")
        _extra_stats(kb, knobs, v)


def _reduce_minmax(kb: KernelBuilder, ex: ExprGen, knobs: Knobs) -> None:
    rng = kb.rng
    vec = rng.random() < 0.3  # bounding box of points
    t = V3 if vec else F32
    src = kb.array_param(rng.choice(("points", "x") if vec else ("values", "x", "data")), t).name
    if rng.random() < 0.5:
        lo = kb.array_param(rng.choice(("lower", "min_out", "lo")), t).name
        hi = kb.array_param(rng.choice(("upper", "max_out", "hi")), t).name
        slots = (f"{lo}, 0", f"{hi}, 0")
    else:
        bounds = kb.array_param(rng.choice(("bounds", "extrema")), t).name
        slots = (f"{bounds}, 0", f"{bounds}, 1")
    which = rng.choice(("both", "both", "min", "max"))
    i = tid1(kb, "tid", "i")
    with _masked(kb, i):
        v = let_local(kb, ("v", "p", "val"), f"{src}[{i}]", t)
        if vec:
            if which in ("both", "min"):
                kb.emit(f"wp.atomic_min({slots[0]}, {v})")
            if which in ("both", "max"):
                kb.emit(f"wp.atomic_max({slots[1]}, {v})")
            return
        value = _mapped(kb, ex, v)
        if which in ("both", "min"):
            kb.emit(f"wp.atomic_min({slots[0]}, {value})")
        if which in ("both", "max"):
            kb.emit(f"wp.atomic_max({slots[1]}, {value})")
        _extra_stats(kb, knobs, v)


def _reduce_norm(kb: KernelBuilder, ex: ExprGen, knobs: Knobs) -> None:
    rng = kb.rng
    vec = rng.random() < 0.35
    src = kb.array_param(rng.choice(("x", "residual", "values")), V3 if vec else F32).name
    out = kb.array_param(rng.choice(("norm", "result", "norm_sq")), F32).name
    kind = rng.choice(("l2", "l2", "l1", "linf"))
    i = tid1(kb, "tid", "i")
    with _masked(kb, i):
        v = let_local(kb, ("v", "r", "x_i"), f"{src}[{i}]", V3 if vec else F32)
        if rng.random() < 0.3:  # weighted norm (e.g. by lumped mass)
            w = kb.array_param(rng.choice(("weights", "mass")), F32).name
            weight = f"{w}[{i}] * "
        else:
            weight = ""
        if kind == "l2":
            term = f"wp.dot({v}, {v})" if vec else f"{v} * {v}"
            kb.emit(f"wp.atomic_add({out}, 0, {weight}{term})")
        elif kind == "l1":
            term = f"wp.norm_l1({v})" if vec else f"wp.abs({v})"
            kb.emit(f"wp.atomic_add({out}, 0, {weight}{term})")
        else:
            term = f"wp.length({v})" if vec else f"wp.abs({v})"
            kb.emit(f"wp.atomic_max({out}, 0, {weight}{term})")


def _reduce_dot(kb: KernelBuilder, ex: ExprGen, knobs: Knobs) -> None:
    rng = kb.rng
    vec = rng.random() < 0.35
    t = V3 if vec else F32
    a = kb.array_param(rng.choice(("a", "x", "r")), t).name
    b = kb.array_param(rng.choice(("b", "y", "z", "p")), t).name
    out = kb.array_param(rng.choice(("result", "dot", "out")), F32).name
    i = tid1(kb, "tid", "i")
    prod = f"wp.dot({a}[{i}], {b}[{i}])" if vec else f"{a}[{i}] * {b}[{i}]"
    if rng.random() < 0.3:  # several dot products at once (as CG needs r.r and p.Ap)
        kb.emit(f"wp.atomic_add({out}, 0, {prod})")
        sq = f"wp.dot({a}[{i}], {a}[{i}])" if vec else f"{a}[{i}] * {a}[{i}]"
        kb.emit(f"wp.atomic_add({out}, 1, {sq})")
    else:
        with _masked(kb, i):
            if chance(kb, 0.3):
                p = let_local(kb, ("prod", "ab"), prod, F32)
                kb.emit(f"wp.atomic_add({out}, 0, {p})")
                _extra_stats(kb, knobs, p)
            else:
                kb.emit(f"wp.atomic_add({out}, 0, {prod})")


def _reduce_argmax(kb: KernelBuilder, ex: ExprGen, knobs: Knobs) -> None:
    """Second pass of argmax/argmin: the lowest index whose value equals the reduced extreme."""
    rng = kb.rng
    src = kb.array_param(rng.choice(("values", "scores", "x")), F32).name
    best = kb.array_param(rng.choice(("max_value", "best", "extreme")), F32).name
    index = kb.array_param(rng.choice(("argmax", "best_index", "index_out")), I32).name
    i = tid1(kb, "tid", "i")
    v = let_local(kb, ("v", "val", "s"), f"{src}[{i}]", F32)
    if rng.random() < 0.5:
        with kb.block(f"if {v} == {best}[0]:"):
            kb.emit(f"wp.atomic_min({index}, 0, {i})")
    else:  # with a tolerance, for values recomputed in a different order
        tol = knobs.get("tol", 1.0e-6, 1.0e-3)
        with kb.block(f"if wp.abs({v} - {best}[0]) <= {tol}:"):
            kb.emit(f"wp.atomic_min({index}, 0, {i})")


def _reduce_histogram(kb: KernelBuilder, ex: ExprGen, knobs: Knobs) -> None:
    rng = kb.rng
    src = kb.array_param(rng.choice(("values", "samples", "x")), F32).name
    weighted = rng.random() < 0.3  # float bins accumulate a weight per sample instead of a count
    hist = kb.array_param(rng.choice(("hist", "bins", "counts")), F32 if weighted else I32).name
    weights = kb.array_param(rng.choice(("weights", "w")), F32).name if weighted and rng.random() < 0.7 else ""
    lo = knobs.get(rng.choice(("lo", "min_value", "range_min")), -1.0, 0.0)
    hi = knobs.get(rng.choice(("hi", "max_value", "range_max")), 1.0, 10.0)
    i = tid1(kb, "tid", "i")
    v = let_local(kb, ("v", "x_i", "s"), f"{src}[{i}]", F32)
    nbins = let_local(kb, ("nbins", "num_bins"), f"{hist}.shape[0]", I32)
    t = let_local(kb, ("t", "u", "frac"), f"({v} - {lo}) / ({hi} - {lo})", F32)
    if rng.random() < 0.5:  # out-of-range samples are dropped
        with kb.block(f"if {t} < 0.0 or {t} >= 1.0:"):
            kb.emit("return")
        b = let_local(kb, ("b", "bin_idx", "bucket"), f"int({t} * float({nbins}))", I32)
    else:  # out-of-range samples go to the end bins
        b = let_local(kb, ("b", "bin_idx", "bucket"), f"wp.clamp(int({t} * float({nbins})), 0, {nbins} - 1)", I32)
    kb.emit(f"wp.atomic_add({hist}, {b}, {(weights + '[' + i + ']') if weights else '1.0' if weighted else '1'})")


def _reduce_moments(kb: KernelBuilder, ex: ExprGen, knobs: Knobs) -> None:
    """Sum, sum of squares (and count) in one pass, for mean and variance on the host."""
    rng = kb.rng
    src = kb.array_param(rng.choice(("values", "x", "samples")), F32).name
    packed = rng.random() < 0.5
    if packed:
        stats = kb.array_param(rng.choice(("stats", "moments")), F32).name
    else:
        s1 = kb.array_param(rng.choice(("sum_x", "total")), F32).name
        s2 = kb.array_param(rng.choice(("sum_x2", "total_sq")), F32).name
    count = kb.array_param(rng.choice(("count", "n_valid")), I32).name if chance(kb, 0.4) else ""
    i = tid1(kb, "tid", "i")
    v = let_local(kb, ("v", "x_i"), f"{src}[{i}]", F32)
    if rng.random() < 0.3:  # skip NaNs and infinities
        with kb.block(f"if not wp.isfinite({v}):"):
            kb.emit("return")
    if rng.random() < 0.4:  # shift by a reference value for a numerically safer variance
        shift = knobs.get(rng.choice(("shift", "reference")), -1.0, 1.0)
        kb.emit(f"{v} = {v} - {shift}")
    targets = (f"{stats}, 0", f"{stats}, 1") if packed else (f"{s1}, 0", f"{s2}, 0")
    kb.emit(f"wp.atomic_add({targets[0]}, {v})")
    kb.emit(f"wp.atomic_add({targets[1]}, {v} * {v})")
    if count:
        kb.emit(f"wp.atomic_add({count}, 0, 1)")
    if packed and chance(kb, 0.3):  # third and fourth moments for skewness/kurtosis
        v2 = let_local(kb, ("v2", "sq"), f"{v} * {v}", F32)
        kb.emit(f"wp.atomic_add({stats}, 2, {v2} * {v})")
        kb.emit(f"wp.atomic_add({stats}, 3, {v2} * {v2})")


def _reduce_vec_sum(kb: KernelBuilder, ex: ExprGen, knobs: Knobs) -> None:
    """Mass-weighted vector sums: center of mass, momentum, total force."""
    rng = kb.rng
    x = kb.array_param(rng.choice(("x", "positions", "velocities", "forces")), V3).name
    mass = kb.array_param(rng.choice(("mass", "particle_mass", "weights")), F32).name if rng.random() < 0.7 else ""
    total = kb.array_param(rng.choice(("total", "com", "momentum")), V3).name
    total_m = kb.array_param(rng.choice(("total_mass", "mass_sum")), F32).name if mass and chance(kb, 0.4) else ""
    i = tid1(kb, "tid", "i")
    with _masked(kb, i):
        if mass:
            m = let_local(kb, ("m", "mi"), f"{mass}[{i}]", F32)
            kb.emit(f"wp.atomic_add({total}, 0, {x}[{i}] * {m})")
            if total_m:
                kb.emit(f"wp.atomic_add({total_m}, 0, {m})")
        else:
            kb.emit(f"wp.atomic_add({total}, 0, {x}[{i}])")


def _reduce_grid_stride(kb: KernelBuilder, ex: ExprGen, knobs: Knobs) -> None:
    """Each thread folds a strided slice locally, then issues one atomic."""
    rng = kb.rng
    src = kb.array_param(rng.choice(("values", "x", "data")), F32).name
    out = kb.array_param(rng.choice(("total", "result", "partial")), F32).name
    op = rng.choice(("sum", "sum", "max", "min", "sumsq"))
    n = f"{src}.shape[0]" if rng.random() < 0.6 else kb.scalar_param(rng.choice(("n", "count")), I32).name
    stride = kb.scalar_param(rng.choice(("stride", "num_threads")), I32).name
    tid = tid1(kb, "tid", "thread", guard=False)
    init = {"sum": "0.0", "sumsq": "0.0", "max": "-1.0e30", "min": "1.0e30"}[op]
    acc = accumulator(kb, ("acc", "local", "partial_sum"), F32, init)
    if rng.random() < 0.7:
        with kb.for_range("i", tid, n, stride) as iv:
            v = let_local(kb, ("v", "x_i"), f"{src}[{iv.name}]", F32)
            _fold(kb, ex, op, acc, v)
    else:  # the same loop written with while
        i = kb.let("i", tid, I32).name
        with kb.block(f"while {i} < {n}:"):
            v = let_local(kb, ("v", "x_i"), f"{src}[{i}]", F32)
            _fold(kb, ex, op, acc, v)
            kb.emit(f"{i} += {stride}")
    atomic = {"sum": "wp.atomic_add", "sumsq": "wp.atomic_add", "max": "wp.atomic_max", "min": "wp.atomic_min"}[op]
    slot = "0" if rng.random() < 0.7 else f"{tid}"
    kb.emit(f"{atomic}({out}, {slot}, {acc})")


def _fold(kb: KernelBuilder, ex: ExprGen, op: str, acc: str, v: str) -> None:
    if op == "sum":
        kb.emit(f"{acc} += {_mapped(kb, ex, v)}")
    elif op == "sumsq":
        kb.emit(f"{acc} += {v} * {v}")
    else:
        kb.emit(f"{acc} = wp.{op}({acc}, {v})")


def _reduce_blocks(kb: KernelBuilder, ex: ExprGen, knobs: Knobs) -> None:
    """Two-level reduction through a 2-D array of partials: fill (block, lane) or fold rows."""
    rng = kb.rng
    if rng.random() < 0.5:
        src = kb.array_param(rng.choice(("values", "x", "data")), F32).name
        partials = kb.array_param(rng.choice(("partials", "block_sums", "scratch")), F32, 2).name
        chunk = knobs.get(rng.choice(("chunk", "items_per_thread")), 2, 16, I32)
        b, lane = (v.name for v in kb.tid(2, rng.choice((("block", "lane"), ("b", "t")))))
        base = let_local(kb, ("base", "first"), f"(({b} * {partials}.shape[1]) + {lane}) * {chunk}", I32)
        acc = accumulator(kb, ("acc", "s", "local_sum"), F32)
        with kb.for_range("k", chunk) as k:
            idx = let_local(kb, ("idx", "j"), f"{base} + {k.name}", I32)
            with kb.block(f"if {idx} < {src}.shape[0]:"):
                kb.emit(f"{acc} += {_mapped(kb, ex, src + '[' + idx + ']')}")
        kb.emit(f"{partials}[{b}, {lane}] = {acc}")
        return
    partials = kb.array_param(rng.choice(("partials", "block_sums")), F32, 2).name
    out = kb.array_param(rng.choice(("block_totals", "out", "row_sums")), F32).name
    b = tid1(kb, "block", "b", "row")
    op = rng.choice(("sum", "sum", "max"))
    acc = accumulator(kb, ("acc", "s", "total"), F32, "0.0" if op == "sum" else "-1.0e30")
    with kb.for_range("lane", f"{partials}.shape[1]") as lane:
        v = f"{partials}[{b}, {lane.name}]"
        kb.emit(f"{acc} += {v}" if op == "sum" else f"{acc} = wp.max({acc}, {v})")
    if rng.random() < 0.4:  # and fold the block totals into a grand total
        grand = kb.array_param(rng.choice(("grand_total", "total")), F32).name
        kb.emit(f"{'wp.atomic_add' if op == 'sum' else 'wp.atomic_max'}({grand}, 0, {acc})")
    kb.emit(f"{out}[{b}] = {acc}")
