"""The ``cuda`` backend's 10 seed families: cuda_arith, cuda_reduce, cuda_stencil, cuda_vec, cuda_scan,
cuda_matmul, cuda_condreduce, cuda_warpmath, cuda_nested, cuda_complex.

From the seed report, each structurally varied: a family fixes the *kind* of kernel (what a
``cond`` or a ``cuda_matmul`` kernel does); the shape inside (how many inputs, statements,
branches, loop bounds, expression trees, helpers) is drawn from the RNG through the typed
expression generator, so two kernels of one family rarely share a structure.
"""

from __future__ import annotations

import random

from .. import naming
from ..builder import KernelSource
from ..helpers import add_helper
from ..types import F32, I32, V3
from ._kit import (
    add_lets,
    ensure_value,
    expr_depth,
    in_groups,
    input_arrays,
    load_some,
    loop_bound,
    no_calls,
    start_kernel,
)


def cuda_arith(rng: random.Random, level: int) -> KernelSource:
    kb, ex = start_kernel(rng, level, "cuda_arith", leaf_prob=0.3, allowed=no_calls)
    ndim = rng.choice((1, 1, 2))
    ins = input_arrays(kb, rng, F32, 1, 3, ndim)
    out = kb.array_param(naming.output(rng), F32, ndim)
    idx = ", ".join(v.name for v in kb.tid(ndim, ("i", "j") if ndim == 2 else ("tid",)))
    load_some(kb, rng, ins, idx)
    ensure_value(kb, ins, idx, F32)
    add_lets(kb, ex, F32, 0, 2, 2)
    kb.emit(f"{out.name}[{idx}] = {ex.expr_reading(F32, expr_depth(kb, 1, 3))}")
    return kb.render()


def cuda_reduce(rng: random.Random, level: int) -> KernelSource:
    kb, ex = start_kernel(rng, level, "cuda_reduce")
    (src,) = input_arrays(kb, rng, F32, 1, 1)
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


def cuda_stencil(rng: random.Random, level: int) -> KernelSource:
    kb, ex = start_kernel(rng, level, "cuda_stencil", allowed=no_calls)
    two_d = rng.random() < 0.5
    ndim = 2 if two_d else 1
    (src,) = input_arrays(kb, rng, F32, 1, 1, ndim)
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


def cuda_vec(rng: random.Random, level: int) -> KernelSource:
    kb, ex = start_kernel(rng, level, "cuda_vec", allowed=in_groups("vector", "matrix", "math"))
    vt = rng.choice((V3, "wp.vec4", "wp.vec2"))
    ins = input_arrays(kb, rng, vt, 1, 2)
    if rng.random() < 0.4 and vt == V3:
        m = kb.array_param(rng.choice(("rot", "xform", "mats")), "wp.mat33")
    else:
        m = None
    out_t = rng.choice((vt, F32))
    out = kb.array_param(naming.output(rng), out_t)
    (i,) = kb.tid(1, ("tid",))
    load_some(kb, rng, ins, i.name)
    ensure_value(kb, ins, i.name, vt)
    if m is not None:
        v = rng.choice(kb.scope.values(vt))
        kb.let(naming.local(rng, vt), f"{m.name}[{i.name}] * {v.name}", vt)
    add_lets(kb, ex, vt, 0, 2, 2)
    kb.emit(f"{out.name}[{i.name}] = {ex.expr_reading(out_t, expr_depth(kb, 1, 3))}")
    return kb.render()


def cuda_scan(rng: random.Random, level: int) -> KernelSource:
    kb, ex = start_kernel(rng, level, "cuda_scan")
    (src,) = input_arrays(kb, rng, F32, 1, 1)
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


def cuda_matmul(rng: random.Random, level: int) -> KernelSource:
    kb, _ = start_kernel(rng, level, "cuda_matmul", allowed=no_calls)
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


def cuda_condreduce(rng: random.Random, level: int) -> KernelSource:
    kb, ex = start_kernel(rng, level, "cuda_condreduce")
    ins = input_arrays(kb, rng, F32, 1, 2)
    outs = [kb.array_param(n, t) for n, t in rng.sample((("count", I32), ("total", F32), ("peak", F32)),
                                                      rng.randint(1, 3))]
    (i,) = kb.tid(1, ("tid",))
    load_some(kb, rng, ins, i.name)
    ensure_value(kb, ins, i.name, F32)
    with kb.block(f"if {ex.condition(2)}:"):
        for o in outs:
            if o.type == I32:
                kb.emit(f"wp.atomic_add({o.name}, 0, 1)")
            elif o.name == "peak":
                kb.emit(f"wp.atomic_max({o.name}, 0, {ex.expr(F32, 1)})")
            else:
                kb.emit(f"wp.atomic_add({o.name}, 0, {ex.expr(F32, 2)})")
    return kb.render()


def cuda_warpmath(rng: random.Random, level: int) -> KernelSource:
    kb, ex = start_kernel(rng, level, "cuda_warpmath", leaf_prob=0.15, allowed=in_groups("math"))
    ins = input_arrays(kb, rng, F32, 1, 2)
    out = kb.array_param(naming.output(rng), F32)
    (i,) = kb.tid(1, ("tid",))
    load_some(kb, rng, ins, i.name)
    ensure_value(kb, ins, i.name, F32)
    add_lets(kb, ex, F32, 1, 4, 3)
    kb.emit(f"{out.name}[{i.name}] = {ex.expr_reading(F32, 3)}")
    return kb.render()


def cuda_nested(rng: random.Random, level: int) -> KernelSource:
    kb, ex = start_kernel(rng, level, "cuda_nested")
    ndim = rng.choice((2, 3))
    ins = input_arrays(kb, rng, F32, 1, 2, ndim)
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


def cuda_complex(rng: random.Random, level: int) -> KernelSource:
    kb, ex = start_kernel(rng, level, "cuda_complex")
    ins = input_arrays(kb, rng, F32, 1, 2)
    vins = input_arrays(kb, rng, V3, 0, 1)
    out = kb.array_param(naming.output(rng), F32)
    h1_args = [F32] * rng.randint(1, 2)
    h1 = add_helper(kb, ex, h1_args, F32)
    if rng.random() < 0.5:
        add_helper(kb, ex, [V3, F32] if rng.random() < 0.5 else [F32, F32], F32)
    (i,) = kb.tid(1, ("tid",))
    load_some(kb, rng, ins + vins, i.name)
    ensure_value(kb, ins, i.name, F32)
    acc = kb.mutable("acc", f"{h1}({', '.join(ex.expr(F32, 1) for _ in h1_args)})", F32)
    with kb.for_range("j", loop_bound(kb, rng, ins)):
        with kb.block(f"if {ex.condition(1)}:"):
            kb.emit(f"{acc.name} = {acc.name} + {ex.expr(F32, 2)}")
        with kb.block("else:"):
            kb.emit(f"{acc.name} = {acc.name} * {ex.expr(F32, 1)}")
    kb.emit(f"{out.name}[{i.name}] = {ex.expr_reading(F32, 2) if rng.random() < 0.3 else acc.name}")
    return kb.render()
