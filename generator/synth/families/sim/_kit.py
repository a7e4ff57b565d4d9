"""The simulation families' shared toolkit: kernel start, knobs (where constants live), names.

Every helper draws from the builder's RNG in a fixed order; moving a call changes records.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator

from ...builder import INDENT, KernelBuilder, KernelSource, Var
from ...expressions import ExprGen
from ...types import F32, I32, V3, float_literal
from .._kit import in_groups, start_kernel


def begin(rng: random.Random, level: int, category: str, names: tuple[str, ...], *,
           groups: tuple[str, ...] = ("math",), leaf_prob: float = 0.5) -> tuple[KernelBuilder, ExprGen]:
    """A builder named like a real kernel of this kind; expressions limited to ``groups``."""
    kb, ex = start_kernel(rng, level, category, leaf_prob=leaf_prob, allowed=in_groups(*groups))
    kb.name = rng.choice(names)
    kb.taken.add(kb.name)
    return kb, ex


def chance(kb: KernelBuilder, p: float) -> bool:
    """True with probability ``p`` at level 3; optional features get likelier as the level rises."""
    return kb.rng.random() < min(0.95, max(0.03, p + 0.12 * (kb.complexity - 3)))


def how_many(kb: KernelBuilder, lo: int, hi: int) -> int:
    """How many of something: ``lo..hi`` at level 3, one fewer at the top at 1-2, one more at 5."""
    return kb.rng.randint(lo, max(lo, hi + (kb.complexity - 3) // 2))


def lit(rng: random.Random, lo: float, hi: float) -> str:
    return float_literal(rng, lo, hi)


def vec3_lit(rng: random.Random, lo: float, hi: float) -> str:
    return f"wp.vec3({lit(rng, lo, hi)}, {lit(rng, lo, hi)}, {lit(rng, lo, hi)})"


def pick_name(kb: KernelBuilder, bases: tuple[str, ...]) -> str:
    """One of ``bases``, preferring names not used yet (so ``pos`` does not become ``pos_1``)."""
    free = [b for b in bases if b not in kb.taken]
    return kb.rng.choice(free or bases)


def fresh_name(kb: KernelBuilder, *bases: str) -> str:
    """A fresh local name chosen among ``bases`` (for names the scope need not track)."""
    return kb.fresh(pick_name(kb, bases))


def let_local(kb: KernelBuilder, bases: tuple[str, ...], expr: str, type_name: str) -> str:
    """``name = expr`` for a new local visible to the expression generator; returns the name."""
    return kb.let(pick_name(kb, bases), expr, type_name).name


def accumulator(kb: KernelBuilder, bases: tuple[str, ...], type_name: str, init: str = "") -> str:
    """A loop-carried accumulator. Scalars are wrapped (``float(0.0)``) so Warp treats them as
    dynamic; vectors start from a constructor call, which Warp already treats as dynamic."""
    if type_name in (F32, I32):
        return kb.mutable(pick_name(kb, bases), init or ("0.0" if type_name == F32 else "0"), type_name).name
    return kb.let(pick_name(kb, bases), init or f"{type_name}(0.0)", type_name).name


def add_func(kb: KernelBuilder, name_bases: tuple[str, ...], params: str, body: list[str]) -> str:
    """Add a hand-written ``@wp.func``; returns its (module-unique) name."""
    name = kb.fresh(kb.rng.choice(name_bases))
    lines = "\n".join(INDENT + line for line in body)
    kb.add_helper(f"@wp.func\ndef {name}({params}):\n{lines}\n")
    return name


def tid1(kb: KernelBuilder, *bases: str, guard: bool = True) -> str:
    """The 1-D thread index; sometimes (likelier at high levels) with an explicit bound check,
    as kernels launched on a padded grid have."""
    (i,) = kb.tid(1, (kb.rng.choice(bases or ("tid", "i")),))
    if guard and chance(kb, 0.12):
        n = kb.scalar_param(kb.rng.choice(("n", "num_items", "count", "size")), I32).name
        with kb.block(f"if {i.name} >= {n}:"):
            kb.emit("return")
    return i.name


class Knobs:
    """Where a model constant lives: kernel argument, ``@wp.struct`` field, ``wp.constant`` or literal.

    Real Warp code uses all four, and each changes the kernel's structure (``params.dt`` vs ``dt``
    vs ``DT`` vs ``0.01``), so the style is drawn once per kernel ("mixed" draws per constant).
    """

    def __init__(self, kb: KernelBuilder, style: str | None = None) -> None:
        self.kb = kb
        self.style = style or kb.rng.choice(("arg", "arg", "arg", "struct", "struct", "const", "mixed"))
        self.fields: list[tuple[str, str]] = []
        self.struct_name = ""
        self.struct_arg = ""
        self.cache: dict[str, str] = {}

    def _style(self, allowed: tuple[str, ...]) -> str:
        style = self.style
        if style == "mixed":
            style = self.kb.rng.choice(("arg", "const", "literal", "struct"))
        return style if style in allowed else "arg"

    def get(self, base: str, lo: float, hi: float, type_name: str = F32) -> str:
        """The expression naming scalar constant ``base`` (the same text on every call)."""
        if base not in self.cache:
            rng = self.kb.rng
            value = str(rng.randint(int(lo), int(hi))) if type_name == I32 else lit(rng, lo, hi)
            self.cache[base] = self._define(base, value, type_name, ("arg", "struct", "const", "literal"))
        return self.cache[base]

    def vec3(self, base: str, value: str) -> str:
        """The expression naming vector constant ``base``; ``value`` is its constructor."""
        if base not in self.cache:
            # An inline vector literal would be repeated at every use: never the literal style.
            self.cache[base] = self._define(base, value, V3, ("arg", "struct", "const"))
        return self.cache[base]

    def _define(self, base: str, value: str, type_name: str, allowed: tuple[str, ...]) -> str:
        kb, rng = self.kb, self.kb.rng
        style = self._style(allowed)
        if style == "arg":
            return kb.scalar_param(base, type_name).name
        if style == "literal":
            return value
        if style == "struct":
            if not self.struct_arg:
                self.struct_name = kb.fresh(rng.choice(("SimParams", "ModelParams", "Params", "Settings")))
                self.struct_arg = kb.raw_param(rng.choice(("params", "model", "settings", "config")),
                                               self.struct_name)
            self.fields.append((base, {F32: "float", I32: "int"}.get(type_name, type_name)))
            text = f"{self.struct_arg}.{base}"
        else:
            text = kb.fresh(base.upper())
            kb.add_preamble(f"{text} = wp.constant({value})")
        kb.scope.blocks[0][text] = Var(text, type_name, mutable=False, constant=style != "struct")
        return text

    def render(self) -> KernelSource:
        """Define the struct (if any field was used) and render the module."""
        if self.fields:
            body = "\n".join(f"{INDENT}{n}: {t}" for n, t in self.fields)
            self.kb.add_preamble(f"@wp.struct\nclass {self.struct_name}:\n{body}\n")
        return self.kb.render()


def velocity_response(kb: KernelBuilder, cache: dict[str, str], vel: str, n: str, restitution: str,
                       friction: str | None) -> None:
    """Reflect the normal velocity (restitution) and damp the tangential one (friction).

    Drawn once per kernel as inline code or as a ``@wp.func`` that every contact reuses.
    """
    rng = kb.rng
    if "style" not in cache:
        cache["style"] = rng.choice(("inline", "helper"))
    if cache["style"] == "helper":
        if "helper" not in cache:
            fr = ", friction: float" if friction else ""
            tangential = "vt * (1.0 - friction)" if friction else "vt"
            cache["helper"] = add_func(kb, ("reflect_velocity", "contact_response", "collide_velocity"),
                                      f"v: wp.vec3, n: wp.vec3, restitution: float{fr}",
                                      ["vn = wp.dot(v, n)", "if vn >= 0.0:", INDENT + "return v",
                                       "vt = v - n * vn", f"return {tangential} - n * (vn * restitution)"])
        args = f"{vel}, {n}, {restitution}" + (f", {friction}" if friction else "")
        kb.emit(f"{vel} = {cache['helper']}({args})")
        return
    vn = let_local(kb, ("vn", "v_normal", "vdotn"), f"wp.dot({vel}, {n})", F32)
    with kb.block(f"if {vn} < 0.0:"):
        if friction:
            vt = let_local(kb, ("vt", "v_tangent"), f"{vel} - {n} * {vn}", V3)
            kb.emit(f"{vel} = {vt} * (1.0 - {friction}) - {n} * ({vn} * {restitution})")
        else:
            kb.emit(f"{vel} = {vel} - {n} * ((1.0 + {restitution}) * {vn})")


def element_indices(kb: KernelBuilder, e: str, arr: str, style: str, n: int) -> list[str]:
    """Load the ``n`` vertex indices of element ``e`` from a flat, vector or 2-D index array."""
    rng = kb.rng
    scheme = rng.choice((("i", "j", "k", "l"), ("i0", "i1", "i2", "i3"), ("a", "b", "c", "d")))
    if style == "vec":
        ids = let_local(kb, ("ids", "idx", "element"), f"{arr}[{e}]", f"wp.vec{n}i")
        return [kb.let(scheme[k], f"{ids}[{k}]", I32).name for k in range(n)]
    if style == "2d":
        return [kb.let(scheme[k], f"{arr}[{e}, {k}]", I32).name for k in range(n)]
    return [kb.let(scheme[k], f"{arr}[{e} * {n} + {k}]" if k else f"{arr}[{e} * {n}]", I32).name for k in range(n)]


@contextlib.contextmanager
def each_element(kb: KernelBuilder, bases: tuple[str, ...], count: str) -> Iterator[str]:
    """One element per thread, or (sometimes, likelier at high levels) a grid-stride loop over them.

    In the loop form an early ``return`` of the per-thread body becomes ``continue``.
    """
    if not chance(kb, 0.15):
        yield tid1(kb, *bases)
        return
    tid = tid1(kb, "tid", "thread", guard=False)
    stride = kb.scalar_param(kb.rng.choice(("num_threads", "stride", "grid_size")), I32).name
    with kb.for_range(kb.rng.choice(bases[1:] or bases), tid, count, stride) as e:
        body = len(kb.lines)
        yield e.name
    kb.lines[body:] = [line.replace("return", "continue") if line.strip() == "return" else line
                       for line in kb.lines[body:]]


def index_param(kb: KernelBuilder, bases: tuple[str, ...], style: str, n: int) -> str:
    dtype = {"flat": I32, "2d": I32, "vec": f"wp.vec{n}i"}[style]
    return kb.array_param(kb.rng.choice(bases), dtype, 2 if style == "2d" else 1).name
