"""Synthesizing ``@wp.func`` helpers that a kernel (or another helper) can call."""

from __future__ import annotations

from . import naming
from .builder import INDENT, KernelBuilder, Scope, Var, _short
from .catalog import Signature
from .expressions import ExprGen


def add_helper(kb: KernelBuilder, ex: ExprGen, arg_types: list[str], ret: str, depth: int = 2,
               lets: int | None = None, callable_from_kernel: bool = True) -> str:
    """Define a ``@wp.func`` taking ``arg_types`` and returning ``ret``; return its name.

    The helper's body is a few typed ``let`` statements and a return expression over its own
    arguments. When ``callable_from_kernel``, the kernel's expression generator may call it
    (and so may helpers defined after it), which gives helpers that call each other.
    """
    rng = kb.rng
    name = kb.fresh(naming.helper_name(rng))
    scope = Scope()
    args = []
    used: set[str] = set()
    for t in arg_types:
        base = naming.local(rng, t)
        arg = base
        n = 1
        while arg in used:
            arg, n = f"{base}{n}", n + 1
        used.add(arg)
        args.append(arg)
        scope.add(Var(arg, t, mutable=False))
    inner = ExprGen(rng, scope, ex.sigs, leaf_prob=ex.leaf_prob, allowed=ex.allowed)
    lines = []
    for _ in range(rng.randint(0, 2) if lets is None else lets):
        t = rng.choice(arg_types + [ret])
        base = naming.local(rng, t)
        local = base
        n = 1
        while local in used:
            local, n = f"{base}{n}", n + 1
        used.add(local)
        lines.append(f"{INDENT}{local} = {inner.expr(t, depth)}")
        scope.add(Var(local, t))
    lines.append(f"{INDENT}return {inner.expr(ret, depth)}")
    ex.used.update(inner.used)
    params = ", ".join(f"{a}: {_short(t)}" for a, t in zip(args, arg_types, strict=True))
    kb.add_helper(f"@wp.func\ndef {name}({params}):\n" + "\n".join(lines) + "\n")
    if callable_from_kernel:
        sigs = dict(ex.sigs)
        sigs[ret] = tuple(sigs.get(ret, ())) + (Signature(name, tuple(arg_types), ret, "", "user"),)
        ex.sigs = sigs
    return name
