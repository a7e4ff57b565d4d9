"""The ``cpu`` backend's 10 seed families: arith, cond, loop, math, vec, atomic, nested, multicond, combined, scalar.

From the seed report, each structurally varied: a family fixes the *kind* of kernel (what a
``cond`` or a ``cuda_matmul`` kernel does); the shape inside (how many inputs, statements,
branches, loop bounds, expression trees, helpers) is drawn from the RNG through the typed
expression generator, so two kernels of one family rarely share a structure.
"""

from __future__ import annotations

import random

from .. import naming
from ..builder import KernelSource, Var
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


def arith(rng: random.Random, level: int) -> KernelSource:
    kb, ex = start_kernel(rng, level, "arith", leaf_prob=0.3, allowed=no_calls)
    ins = input_arrays(kb, rng, F32, 1, 3)
    if rng.random() < 0.4:
        kb.scalar_param(rng.choice(("alpha", "scale", "k", "gain")), F32)
    out = kb.array_param(naming.output(rng), F32)
    (i,) = kb.tid()
    load_some(kb, rng, ins, i.name)
    ensure_value(kb, ins, i.name, F32)
    add_lets(kb, ex, F32, 0, 3, expr_depth(kb, 1, 3))
    kb.emit(f"{out.name}[{i.name}] = {ex.expr_reading(F32, expr_depth(kb, 1, 3))}")
    return kb.render()


def cond(rng: random.Random, level: int) -> KernelSource:
    kb, ex = start_kernel(rng, level, "cond")
    ins = input_arrays(kb, rng, F32, 1, 2)
    out = kb.array_param(naming.output(rng), F32)
    (i,) = kb.tid()
    load_some(kb, rng, ins, i.name)
    ensure_value(kb, ins, i.name, F32)
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


def loop(rng: random.Random, level: int) -> KernelSource:
    kb, ex = start_kernel(rng, level, "loop")
    ins = input_arrays(kb, rng, F32, 1, 2)
    out = kb.array_param(naming.output(rng), F32)
    (i,) = kb.tid()
    load_some(kb, rng, ins, i.name)
    acc = kb.mutable(rng.choice(("acc", "total", "s", "sum_")), rng.choice(("0.0", "1.0", ex.expr(F32, 1))), F32)
    bound = loop_bound(kb, rng, ins)
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


def math(rng: random.Random, level: int) -> KernelSource:
    kb, ex = start_kernel(rng, level, "math", leaf_prob=0.2, allowed=in_groups("math"))
    ins = input_arrays(kb, rng, F32, 1, 2)
    out = kb.array_param(naming.output(rng), F32)
    (i,) = kb.tid()
    load_some(kb, rng, ins, i.name)
    ensure_value(kb, ins, i.name, F32)
    add_lets(kb, ex, F32, 1, 3, 2)
    kb.emit(f"{out.name}[{i.name}] = {ex.expr_reading(F32, expr_depth(kb, 2, 3))}")
    return kb.render()


def vec(rng: random.Random, level: int) -> KernelSource:
    kb, ex = start_kernel(rng, level, "vec", allowed=in_groups("vector", "math"))
    vt = rng.choice((V3, V3, "wp.vec2", "wp.vec4"))
    ins = input_arrays(kb, rng, vt, 1, 3)
    out_t = rng.choice((vt, F32))
    out = kb.array_param(naming.output(rng), out_t)
    (i,) = kb.tid()
    load_some(kb, rng, ins, i.name)
    ensure_value(kb, ins, i.name, vt)
    add_lets(kb, ex, rng.choice((vt, F32)), 0, 2, 2)
    kb.emit(f"{out.name}[{i.name}] = {ex.expr_reading(out_t, expr_depth(kb, 1, 3))}")
    return kb.render()


def atomic(rng: random.Random, level: int) -> KernelSource:
    kb, ex = start_kernel(rng, level, "atomic")
    ins = input_arrays(kb, rng, F32, 1, 2)
    out = kb.array_param(rng.choice(("hist", "totals", "accum", "bins", "out")), F32)
    (i,) = kb.tid()
    load_some(kb, rng, ins, i.name)
    ensure_value(kb, ins, i.name, F32)
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


def nested(rng: random.Random, level: int) -> KernelSource:
    kb, ex = start_kernel(rng, level, "nested")
    two_d = rng.random() < 0.5
    ins = input_arrays(kb, rng, F32, 1, 2, 2 if two_d else 1)
    out = kb.array_param(naming.output(rng), F32, 2 if two_d else 1)
    idx = kb.tid(2 if two_d else 1)
    index = ", ".join(v.name for v in idx)
    acc = kb.mutable(rng.choice(("acc", "s", "total")), "0.0", F32)
    with kb.for_range("a", str(rng.randint(2, 6)) if rng.random() < 0.6 else loop_bound(kb, rng, ins)):
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


def multicond(rng: random.Random, level: int) -> KernelSource:
    kb, ex = start_kernel(rng, level, "multicond")
    ins = input_arrays(kb, rng, F32, 1, 3)
    out = kb.array_param(naming.output(rng), F32)
    (i,) = kb.tid()
    load_some(kb, rng, ins, i.name)
    ensure_value(kb, ins, i.name, F32)
    r = kb.mutable(naming.local(rng, F32), ex.expr(F32, 1), F32)
    for _ in range(rng.randint(2, 4)):
        with kb.block(f"if {ex._logic(2)}:"):
            kb.assign(r, ex.expr(F32, 2))
        if rng.random() < 0.3:
            with kb.block("else:"):
                kb.emit(f"{r.name} = {r.name} {rng.choice(('+', '-', '*'))} {ex.expr(F32, 1)}")
    kb.emit(f"{out.name}[{i.name}] = {r.name}")
    return kb.render()


def combined(rng: random.Random, level: int) -> KernelSource:
    kb, ex = start_kernel(rng, level, "combined")
    ins = input_arrays(kb, rng, F32, 1, 3)
    out = kb.array_param(naming.output(rng), F32)
    helper_args = [F32] * rng.randint(1, 3)
    helper = add_helper(kb, ex, helper_args, F32)
    (i,) = kb.tid()
    load_some(kb, rng, ins, i.name)
    ensure_value(kb, ins, i.name, F32)
    acc = kb.mutable("acc", ex.expr(F32, 1), F32)
    with kb.for_range("j", loop_bound(kb, rng, ins)):
        with kb.block(f"if {ex.condition(1)}:"):
            kb.emit(f"{acc.name} = {acc.name} + {ex.expr(F32, 2)}")
        if rng.random() < 0.5:
            with kb.block("else:"):
                kb.emit(f"{acc.name} = {acc.name} - {ex.expr(F32, 1)}")
    if helper not in "\n".join(kb.lines):
        kb.emit(f"{acc.name} = {acc.name} + {helper}({', '.join(ex.expr(F32, 1) for _ in helper_args)})")
    kb.emit(f"{out.name}[{i.name}] = {acc.name}")
    return kb.render()


def scalar(rng: random.Random, level: int) -> KernelSource:
    kb, ex = start_kernel(rng, level, "scalar", leaf_prob=0.3)
    ins = input_arrays(kb, rng, rng.choice((F32, I32)), 0, 1)
    for _ in range(rng.randint(1, 3)):
        t = rng.choice((F32, F32, I32))
        kb.scalar_param(rng.choice(("alpha", "beta", "gamma", "offset", "scale", "bias", "n", "k", "lo", "hi")), t)
    out_t = rng.choice((F32, I32))
    out = kb.array_param(naming.output(rng), out_t)
    (i,) = kb.tid()
    load_some(kb, rng, ins, i.name)
    add_lets(kb, ex, rng.choice((F32, I32)), 0, 2, 2)
    kb.emit(f"{out.name}[{i.name}] = {ex.expr_reading(out_t, expr_depth(kb, 1, 3))}")
    return kb.render()
