"""The seed report's 20 families (10 per backend), each structurally varied.

Every family is a function ``(rng) -> KernelSource``. Families fix the *kind* of kernel (what a
``cond`` or a ``cuda_matmul`` kernel does); the shape inside (how many inputs, statements,
branches, loop bounds, expression trees, helpers) is drawn from the RNG through the typed
expression generator, so two kernels of one family rarely share a structure.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from .. import naming
from ..builder import KernelBuilder, KernelSource, Var
from ..catalog import Signature
from ..expressions import ExprGen
from ..helpers import add_helper

F32 = "wp.float32"
I32 = "wp.int32"
V3 = "wp.vec3"


# Leaf probability per complexity level: lower means deeper expression trees.
_LEAF_SHIFT = {1: 0.3, 2: 0.05, 3: 0.0, 4: -0.1, 5: -0.15}


def _start(rng: random.Random, level: int, category: str, hint: str = "", leaf_prob: float = 0.35,
           allowed: Callable[[Signature], bool] | None = None) -> tuple[KernelBuilder, ExprGen]:
    kb = KernelBuilder(rng, naming.kernel_name(rng, hint), category)
    kb.complexity = level
    leaf = min(0.9, max(0.05, leaf_prob + _LEAF_SHIFT[level]))
    return kb, ExprGen(rng, kb.scope, leaf_prob=leaf, allowed=allowed)


def _group(*groups: str) -> Callable[[Signature], bool]:
    return lambda s: s.group in groups or s.group == "user"


def _no_calls(s: Signature) -> bool:
    """Only user helpers, no builtins: for the purely arithmetic families."""
    return s.group == "user"


def _inputs(kb: KernelBuilder, rng: random.Random, dtype: str, lo: int, hi: int, ndim: int = 1) -> list[Var]:
    return [kb.array_param(naming.array(rng), dtype, ndim) for _ in range(rng.randint(lo, hi))]


def _loads(kb: KernelBuilder, rng: random.Random, arrays: list[Var], index: str) -> None:
    """Load some inputs into locals (others stay as array reads inside expressions)."""
    for arr in arrays:
        if rng.random() < 0.7:
            kb.let(naming.local(rng, arr.type), f"{arr.name}[{index}]", arr.type)


def _depth(kb: KernelBuilder, lo: int, hi: int) -> int:
    """An expression depth in ``lo..hi``, shifted down at level 1 and up at levels 4-5."""
    return max(1, kb.rng.randint(lo, hi) + {1: -1, 2: 0, 3: 0, 4: 1, 5: 2}[kb.complexity])


def _lets(kb: KernelBuilder, ex: ExprGen, type_name: str, lo: int, hi: int, depth: int) -> None:
    """``lo..hi`` new locals at level 2-3; fewer at level 1, more at 4-5."""
    hi = max(lo, hi + {1: -hi, 2: 0, 3: 1, 4: 3, 5: 6}[kb.complexity])
    for _ in range(kb.rng.randint(lo, hi)):
        kb.let(naming.local(kb.rng, type_name), ex.expr(type_name, depth), type_name)


def _value_of(kb: KernelBuilder, arrays: list[Var], index: str, type_name: str) -> None:
    """Make sure at least one local of ``type_name`` exists (read from an input)."""
    if not kb.scope.values(type_name):
        arr = kb.rng.choice([a for a in arrays if a.type == type_name])
        kb.let(naming.local(kb.rng, type_name), f"{arr.name}[{index}]", type_name)


# ---------------------------------------------------------------------------------- cpu
def arith(rng: random.Random, level: int = 2) -> KernelSource:
    kb, ex = _start(rng, level, "arith", leaf_prob=0.3, allowed=_no_calls)
    ins = _inputs(kb, rng, F32, 1, 3)
    if rng.random() < 0.4:
        kb.scalar_param(rng.choice(("alpha", "scale", "k", "gain")), F32)
    out = kb.array_param(naming.output(rng), F32)
    (i,) = kb.tid()
    _loads(kb, rng, ins, i.name)
    _value_of(kb, ins, i.name, F32)
    _lets(kb, ex, F32, 0, 3, _depth(kb, 1, 3))
    kb.emit(f"{out.name}[{i.name}] = {ex.expr_reading(F32, _depth(kb, 1, 3))}")
    return kb.render()


def cond(rng: random.Random, level: int = 2) -> KernelSource:
    kb, ex = _start(rng, level, "cond")
    ins = _inputs(kb, rng, F32, 1, 2)
    out = kb.array_param(naming.output(rng), F32)
    (i,) = kb.tid()
    _loads(kb, rng, ins, i.name)
    _value_of(kb, ins, i.name, F32)
    branches = rng.randint(1, 3 + level // 2)
    if rng.random() < 0.5:  # branch stores directly
        with kb.block(f"if {ex.condition(1)}:"):
            kb.emit(f"{out.name}[{i.name}] = {ex.expr_reading(F32, 2)}")
        for _ in range(branches - 1):
            with kb.block(f"elif {ex.condition(1)}:"):
                kb.emit(f"{out.name}[{i.name}] = {ex.expr_reading(F32, 2)}")
        if rng.random() < 0.8:
            with kb.block("else:"):
                kb.emit(f"{out.name}[{i.name}] = {ex.expr_reading(F32, 1)}")
    else:  # branch chooses a local, one store after
        r = kb.mutable(naming.local(rng, F32), ex.expr(F32, 1), F32)
        with kb.block(f"if {ex.condition(1)}:"):
            kb.assign(r, ex.expr(F32, 2))
        if branches > 1:
            with kb.block("else:"):
                kb.assign(r, ex.expr(F32, 2))
        kb.emit(f"{out.name}[{i.name}] = {r.name}")
    return kb.render()


def _loop_bound(kb: KernelBuilder, rng: random.Random, arrays: list[Var]) -> str:
    r = rng.random()
    if r < 0.4:
        return str(rng.randint(2, 16))
    if r < 0.7:
        return kb.scalar_param(rng.choice(("n", "steps", "count", "iters")), I32).name
    return f"{rng.choice(arrays).name}.shape[0]"


def loop(rng: random.Random, level: int = 2) -> KernelSource:
    kb, ex = _start(rng, level, "loop")
    ins = _inputs(kb, rng, F32, 1, 2)
    out = kb.array_param(naming.output(rng), F32)
    (i,) = kb.tid()
    _loads(kb, rng, ins, i.name)
    acc = kb.mutable(rng.choice(("acc", "total", "s", "sum_")), rng.choice(("0.0", "1.0", ex.expr(F32, 1))), F32)
    bound = _loop_bound(kb, rng, ins)
    with kb.for_range(rng.choice(("j", "k", "step", "it")), bound) as j:
        if rng.random() < 0.5:
            arr = rng.choice(ins)
            kb.let(naming.local(rng, F32), f"{arr.name}[({i.name} + {j.name}) % {arr.name}.shape[0]]", F32)
        if rng.random() < 0.3:
            with kb.block(f"if {ex.condition(1)}:"):
                kb.emit(rng.choice(("continue", "break")))
        op = rng.choice(("+", "-", "*")) if rng.random() < 0.3 else "+"
        kb.emit(f"{acc.name} = {acc.name} {op} {ex.expr(F32, 2)}" if op != "*" else
                f"{acc.name} = {acc.name} * {ex.expr(F32, 1)}")
    kb.emit(f"{out.name}[{i.name}] = {ex.expr_reading(F32, 1) if rng.random() < 0.3 else acc.name}")
    return kb.render()


def math(rng: random.Random, level: int = 2) -> KernelSource:
    kb, ex = _start(rng, level, "math", leaf_prob=0.2, allowed=_group("math"))
    ins = _inputs(kb, rng, F32, 1, 2)
    out = kb.array_param(naming.output(rng), F32)
    (i,) = kb.tid()
    _loads(kb, rng, ins, i.name)
    _value_of(kb, ins, i.name, F32)
    _lets(kb, ex, F32, 1, 3, 2)
    kb.emit(f"{out.name}[{i.name}] = {ex.expr_reading(F32, _depth(kb, 2, 3))}")
    return kb.render()


def vec(rng: random.Random, level: int = 2) -> KernelSource:
    kb, ex = _start(rng, level, "vec", allowed=_group("vector", "math"))
    vt = rng.choice((V3, V3, "wp.vec2", "wp.vec4"))
    ins = _inputs(kb, rng, vt, 1, 3)
    out_t = rng.choice((vt, F32))
    out = kb.array_param(naming.output(rng), out_t)
    (i,) = kb.tid()
    _loads(kb, rng, ins, i.name)
    _value_of(kb, ins, i.name, vt)
    _lets(kb, ex, rng.choice((vt, F32)), 0, 2, 2)
    kb.emit(f"{out.name}[{i.name}] = {ex.expr_reading(out_t, _depth(kb, 1, 3))}")
    return kb.render()


def atomic(rng: random.Random, level: int = 2) -> KernelSource:
    kb, ex = _start(rng, level, "atomic")
    ins = _inputs(kb, rng, F32, 1, 2)
    out = kb.array_param(rng.choice(("hist", "totals", "accum", "bins", "out")), F32)
    (i,) = kb.tid()
    _loads(kb, rng, ins, i.name)
    _value_of(kb, ins, i.name, F32)
    slot = rng.choice(("0", f"{i.name} % {out.name}.shape[0]", "bucket"))
    if slot == "bucket":
        v = rng.choice(kb.scope.values(F32)).name
        kb.emit(f"bucket = wp.clamp(int(wp.abs({v}) * {rng.randint(2, 9)}.0), 0, {out.name}.shape[0] - 1)")
        kb.scope.add(Var("bucket", I32))
        kb.taken.add("bucket")
    ops = ["wp.atomic_add"] * 3 + ["wp.atomic_max", "wp.atomic_min", "wp.atomic_sub"]
    for _ in range(rng.randint(1, 2)):
        stmt = f"{rng.choice(ops)}({out.name}, {slot}, {ex.expr(F32, 2)})"
        if rng.random() < 0.4:
            with kb.block(f"if {ex.condition(1)}:"):
                kb.emit(stmt)
        else:
            kb.emit(stmt)
    return kb.render()


def nested(rng: random.Random, level: int = 2) -> KernelSource:
    kb, ex = _start(rng, level, "nested")
    two_d = rng.random() < 0.5
    ins = _inputs(kb, rng, F32, 1, 2, 2 if two_d else 1)
    out = kb.array_param(naming.output(rng), F32, 2 if two_d else 1)
    idx = kb.tid(2 if two_d else 1)
    index = ", ".join(v.name for v in idx)
    acc = kb.mutable(rng.choice(("acc", "s", "total")), "0.0", F32)
    with kb.for_range("a", str(rng.randint(2, 6)) if rng.random() < 0.6 else _loop_bound(kb, rng, ins)):
        if rng.random() < 0.5:
            kb.let(naming.local(rng, F32), ex.expr(F32, 1), F32)
        with kb.for_range("b", str(rng.randint(2, 6))):
            if rng.random() < 0.3:
                with kb.block(f"if {ex.condition(1)}:"):
                    kb.emit(f"{acc.name} = {acc.name} + {ex.expr(F32, 1)}")
            else:
                kb.emit(f"{acc.name} = {acc.name} + {ex.expr(F32, 2)}")
    arr = rng.choice(ins)
    kb.emit(f"{out.name}[{index}] = {acc.name} * {arr.name}[{index}]" if rng.random() < 0.5
            else f"{out.name}[{index}] = {acc.name}")
    return kb.render()


def multicond(rng: random.Random, level: int = 2) -> KernelSource:
    kb, ex = _start(rng, level, "multicond")
    ins = _inputs(kb, rng, F32, 1, 3)
    out = kb.array_param(naming.output(rng), F32)
    (i,) = kb.tid()
    _loads(kb, rng, ins, i.name)
    _value_of(kb, ins, i.name, F32)
    r = kb.mutable(naming.local(rng, F32), ex.expr(F32, 1), F32)
    for _ in range(rng.randint(2, 4)):
        with kb.block(f"if {ex._logic(2)}:"):
            kb.assign(r, ex.expr(F32, 2))
        if rng.random() < 0.3:
            with kb.block("else:"):
                kb.emit(f"{r.name} = {r.name} {rng.choice(('+', '-', '*'))} {ex.expr(F32, 1)}")
    kb.emit(f"{out.name}[{i.name}] = {r.name}")
    return kb.render()


def combined(rng: random.Random, level: int = 2) -> KernelSource:
    kb, ex = _start(rng, level, "combined")
    ins = _inputs(kb, rng, F32, 1, 3)
    out = kb.array_param(naming.output(rng), F32)
    helper_args = [F32] * rng.randint(1, 3)
    helper = add_helper(kb, ex, helper_args, F32)
    (i,) = kb.tid()
    _loads(kb, rng, ins, i.name)
    _value_of(kb, ins, i.name, F32)
    acc = kb.mutable("acc", ex.expr(F32, 1), F32)
    with kb.for_range("j", _loop_bound(kb, rng, ins)):
        with kb.block(f"if {ex.condition(1)}:"):
            kb.emit(f"{acc.name} = {acc.name} + {ex.expr(F32, 2)}")
        if rng.random() < 0.5:
            with kb.block("else:"):
                kb.emit(f"{acc.name} = {acc.name} - {ex.expr(F32, 1)}")
    if helper not in "\n".join(kb.lines):
        kb.emit(f"{acc.name} = {acc.name} + {helper}({', '.join(ex.expr(F32, 1) for _ in helper_args)})")
    kb.emit(f"{out.name}[{i.name}] = {acc.name}")
    return kb.render()


def scalar(rng: random.Random, level: int = 2) -> KernelSource:
    kb, ex = _start(rng, level, "scalar", leaf_prob=0.3)
    ins = _inputs(kb, rng, rng.choice((F32, I32)), 0, 1)
    for _ in range(rng.randint(1, 3)):
        t = rng.choice((F32, F32, I32))
        kb.scalar_param(rng.choice(("alpha", "beta", "gamma", "offset", "scale", "bias", "n", "k", "lo", "hi")), t)
    out_t = rng.choice((F32, I32))
    out = kb.array_param(naming.output(rng), out_t)
    (i,) = kb.tid()
    _loads(kb, rng, ins, i.name)
    _lets(kb, ex, rng.choice((F32, I32)), 0, 2, 2)
    kb.emit(f"{out.name}[{i.name}] = {ex.expr_reading(out_t, _depth(kb, 1, 3))}")
    return kb.render()


# --------------------------------------------------------------------------------- cuda
def cuda_arith(rng: random.Random, level: int = 2) -> KernelSource:
    kb, ex = _start(rng, level, "cuda_arith", leaf_prob=0.3, allowed=_no_calls)
    ndim = rng.choice((1, 1, 2))
    ins = _inputs(kb, rng, F32, 1, 3, ndim)
    out = kb.array_param(naming.output(rng), F32, ndim)
    idx = ", ".join(v.name for v in kb.tid(ndim, ("i", "j") if ndim == 2 else ("tid",)))
    _loads(kb, rng, ins, idx)
    _value_of(kb, ins, idx, F32)
    _lets(kb, ex, F32, 0, 2, 2)
    kb.emit(f"{out.name}[{idx}] = {ex.expr_reading(F32, _depth(kb, 1, 3))}")
    return kb.render()


def cuda_reduce(rng: random.Random, level: int = 2) -> KernelSource:
    kb, ex = _start(rng, level, "cuda_reduce")
    (src,) = _inputs(kb, rng, F32, 1, 1)
    total = kb.array_param(rng.choice(("total", "partial", "result", "sums")), F32)
    (i,) = kb.tid(1, ("tid",))
    if rng.random() < 0.5:
        stride = kb.scalar_param(rng.choice(("stride", "num_threads")), I32)
        acc = kb.mutable("local_sum", "0.0", F32)
        with kb.for_range("j", i.name, f"{src.name}.shape[0]", stride.name) as j:
            v = kb.let(naming.local(rng, F32), f"{src.name}[{j.name}]", F32)
            kb.emit(f"{acc.name} += {ex.expr(F32, 1) if rng.random() < 0.5 else v.name}")
        value = acc.name
    else:
        kb.let(naming.local(rng, F32), f"{src.name}[{i.name}]", F32)
        value = ex.expr(F32, rng.randint(1, 2))
    op = rng.choice(("wp.atomic_add", "wp.atomic_add", "wp.atomic_max", "wp.atomic_min"))
    kb.emit(f"{op}({total.name}, {rng.choice(('0', f'{i.name} % {total.name}.shape[0]'))}, {value})")
    return kb.render()


def cuda_stencil(rng: random.Random, level: int = 2) -> KernelSource:
    kb, ex = _start(rng, level, "cuda_stencil", allowed=_no_calls)
    two_d = rng.random() < 0.5
    ndim = 2 if two_d else 1
    (src,) = _inputs(kb, rng, F32, 1, 1, ndim)
    out = kb.array_param(naming.output(rng), F32, ndim)
    idx = kb.tid(ndim, ("i", "j") if two_d else ("i",))
    names = [v.name for v in idx]
    radius = rng.randint(1, 2)
    clamp = rng.random() < 0.5
    terms = []
    for axis, name in enumerate(names):
        n = kb.let(f"n{axis}", f"{src.name}.shape[{axis}]", I32)
        for off in range(-radius, radius + 1):
            if off == 0 and axis > 0:
                continue
            if clamp:
                nb = kb.let(f"{name}{'m' if off < 0 else 'p'}{abs(off)}",
                            f"wp.clamp({name} {'-' if off < 0 else '+'} {abs(off)}, 0, {n.name} - 1)", I32)
            else:
                nb = kb.let(f"{name}{'m' if off < 0 else 'p'}{abs(off)}",
                            f"({name} {'-' if off < 0 else '+'} {abs(off)} + {n.name}) % {n.name}", I32)
            pos = [nb.name if k == axis else names[k] for k in range(ndim)]
            terms.append((rng.choice(("0.25", "0.5", "1.0", "0.125", "2.0", "-1.0")), f"{src.name}[{', '.join(pos)}]"))
    if rng.random() < 0.5:
        expr = " + ".join(f"{w} * {t}" for w, t in terms)
    else:
        acc = kb.mutable("acc", "0.0", F32)
        for w, t in terms:
            kb.emit(f"{acc.name} += {w} * {t}")
        expr = ex.expr(F32, 1) if rng.random() < 0.3 else f"{acc.name} * {rng.choice(('0.2', '0.5', '0.111'))}"
    kb.emit(f"{out.name}[{', '.join(names)}] = {expr}")
    return kb.render()


def cuda_vec(rng: random.Random, level: int = 2) -> KernelSource:
    kb, ex = _start(rng, level, "cuda_vec", allowed=_group("vector", "matrix", "math"))
    vt = rng.choice((V3, "wp.vec4", "wp.vec2"))
    ins = _inputs(kb, rng, vt, 1, 2)
    if rng.random() < 0.4 and vt == V3:
        m = kb.array_param(rng.choice(("rot", "xform", "mats")), "wp.mat33")
    else:
        m = None
    out_t = rng.choice((vt, F32))
    out = kb.array_param(naming.output(rng), out_t)
    (i,) = kb.tid(1, ("tid",))
    _loads(kb, rng, ins, i.name)
    _value_of(kb, ins, i.name, vt)
    if m is not None:
        v = rng.choice(kb.scope.values(vt))
        kb.let(naming.local(rng, vt), f"{m.name}[{i.name}] * {v.name}", vt)
    _lets(kb, ex, vt, 0, 2, 2)
    kb.emit(f"{out.name}[{i.name}] = {ex.expr_reading(out_t, _depth(kb, 1, 3))}")
    return kb.render()


def cuda_scan(rng: random.Random, level: int = 2) -> KernelSource:
    kb, ex = _start(rng, level, "cuda_scan")
    (src,) = _inputs(kb, rng, F32, 1, 1)
    out = kb.array_param(naming.output(rng), F32)
    (i,) = kb.tid(1, ("tid",))
    style = rng.choice(("inclusive", "exclusive", "step"))
    if style == "step":
        off = kb.scalar_param(rng.choice(("offset", "stride", "d")), I32)
        v = kb.let(naming.local(rng, F32), f"{src.name}[{i.name}]", F32)
        with kb.block(f"if {i.name} >= {off.name}:"):
            kb.emit(f"{v.name} = {v.name} + {src.name}[{i.name} - {off.name}]")
        kb.emit(f"{out.name}[{i.name}] = {v.name}")
    else:
        acc = kb.mutable("running", "0.0", F32)
        stop = f"{i.name} + 1" if style == "inclusive" else i.name
        with kb.for_range("j", stop) as j:
            term = f"{src.name}[{j.name}]"
            if rng.random() < 0.4:
                x = kb.let(naming.local(rng, F32), term, F32)
                term = ex.expr(F32, 1) if rng.random() < 0.5 else x.name
            kb.emit(f"{acc.name} = {acc.name} + {term}")
        kb.emit(f"{out.name}[{i.name}] = {acc.name}")
    return kb.render()


def cuda_matmul(rng: random.Random, level: int = 2) -> KernelSource:
    kb, _ = _start(rng, level, "cuda_matmul", allowed=_no_calls)
    a = kb.array_param("A", F32, 2)
    b = kb.array_param("B", F32, 2)
    epilogue = rng.random() < 0.5
    c = kb.array_param("C", F32, 2)
    if epilogue:
        alpha = kb.scalar_param("alpha", F32)
        beta = kb.scalar_param("beta", F32)
    i, j = kb.tid(2, ("row", "col"))
    trans_b = rng.random() < 0.3
    acc = kb.mutable("acc", "0.0", F32)
    with kb.for_range("k", f"{a.name}.shape[1]") as k:
        bk = f"{b.name}[{j.name}, {k.name}]" if trans_b else f"{b.name}[{k.name}, {j.name}]"
        if rng.random() < 0.3:
            kb.emit(f"{acc.name} += wp.abs({a.name}[{i.name}, {k.name}]) * {bk}")
        else:
            kb.emit(f"{acc.name} += {a.name}[{i.name}, {k.name}] * {bk}")
    if epilogue:
        cij = f"{c.name}[{i.name}, {j.name}]"
        kb.emit(f"{cij} = {alpha.name} * {acc.name} + {beta.name} * {cij}")
    else:
        kb.emit(f"{c.name}[{i.name}, {j.name}] = {acc.name}")
    return kb.render()


def cuda_condreduce(rng: random.Random, level: int = 2) -> KernelSource:
    kb, ex = _start(rng, level, "cuda_condreduce")
    ins = _inputs(kb, rng, F32, 1, 2)
    outs = [kb.array_param(n, t) for n, t in rng.sample((("count", I32), ("total", F32), ("peak", F32)),
                                                      rng.randint(1, 3))]
    (i,) = kb.tid(1, ("tid",))
    _loads(kb, rng, ins, i.name)
    _value_of(kb, ins, i.name, F32)
    with kb.block(f"if {ex.condition(2)}:"):
        for o in outs:
            if o.type == I32:
                kb.emit(f"wp.atomic_add({o.name}, 0, 1)")
            elif o.name == "peak":
                kb.emit(f"wp.atomic_max({o.name}, 0, {ex.expr(F32, 1)})")
            else:
                kb.emit(f"wp.atomic_add({o.name}, 0, {ex.expr(F32, 2)})")
    return kb.render()


def cuda_warpmath(rng: random.Random, level: int = 2) -> KernelSource:
    kb, ex = _start(rng, level, "cuda_warpmath", leaf_prob=0.15, allowed=_group("math"))
    ins = _inputs(kb, rng, F32, 1, 2)
    out = kb.array_param(naming.output(rng), F32)
    (i,) = kb.tid(1, ("tid",))
    _loads(kb, rng, ins, i.name)
    _value_of(kb, ins, i.name, F32)
    _lets(kb, ex, F32, 1, 4, 3)
    kb.emit(f"{out.name}[{i.name}] = {ex.expr_reading(F32, 3)}")
    return kb.render()


def cuda_nested(rng: random.Random, level: int = 2) -> KernelSource:
    kb, ex = _start(rng, level, "cuda_nested")
    ndim = rng.choice((2, 3))
    ins = _inputs(kb, rng, F32, 1, 2, ndim)
    out = kb.array_param(naming.output(rng), F32, ndim)
    idx = kb.tid(ndim, ("x", "y", "z"))
    index = ", ".join(v.name for v in idx)
    acc = kb.mutable("acc", "0.0", F32)
    with kb.for_range("p", str(rng.randint(2, 5))) as p:
        with kb.for_range("q", str(rng.randint(2, 5)) if rng.random() < 0.5 else p.name):
            kb.emit(f"{acc.name} += {ex.expr(F32, 2)}")
        if rng.random() < 0.3:
            with kb.block(f"if {acc.name} > {rng.choice(('10.0', '100.0', '1.0'))}:"):
                kb.emit("break")
    kb.emit(f"{out.name}[{index}] = {acc.name} + {rng.choice(ins).name}[{index}]")
    return kb.render()


def cuda_complex(rng: random.Random, level: int = 2) -> KernelSource:
    kb, ex = _start(rng, level, "cuda_complex")
    ins = _inputs(kb, rng, F32, 1, 2)
    vins = _inputs(kb, rng, V3, 0, 1)
    out = kb.array_param(naming.output(rng), F32)
    h1_args = [F32] * rng.randint(1, 2)
    h1 = add_helper(kb, ex, h1_args, F32)
    if rng.random() < 0.5:
        add_helper(kb, ex, [V3, F32] if rng.random() < 0.5 else [F32, F32], F32)
    (i,) = kb.tid(1, ("tid",))
    _loads(kb, rng, ins + vins, i.name)
    _value_of(kb, ins, i.name, F32)
    acc = kb.mutable("acc", f"{h1}({', '.join(ex.expr(F32, 1) for _ in h1_args)})", F32)
    with kb.for_range("j", _loop_bound(kb, rng, ins)):
        with kb.block(f"if {ex.condition(1)}:"):
            kb.emit(f"{acc.name} = {acc.name} + {ex.expr(F32, 2)}")
        with kb.block("else:"):
            kb.emit(f"{acc.name} = {acc.name} * {ex.expr(F32, 1)}")
    kb.emit(f"{out.name}[{i.name}] = {ex.expr_reading(F32, 2) if rng.random() < 0.3 else acc.name}")
    return kb.render()


CPU_FAMILIES: dict[str, Callable[[random.Random], KernelSource]] = {
    f.__name__: f for f in (arith, cond, loop, math, vec, atomic, nested, multicond, combined, scalar)
}
CUDA_FAMILIES: dict[str, Callable[[random.Random], KernelSource]] = {
    f.__name__: f for f in (cuda_arith, cuda_reduce, cuda_stencil, cuda_vec, cuda_scan, cuda_matmul,
                            cuda_condreduce, cuda_warpmath, cuda_nested, cuda_complex)
}
