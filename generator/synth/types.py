"""Warp value types as the synthesizer sees them: annotation strings plus their shape.

Type names are the annotation strings written in kernel source (``wp.float32``, ``wp.vec3``...),
so a generated program can be printed without any translation. No Warp import here.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class WType:
    name: str            # annotation string, e.g. "wp.vec3"
    kind: str            # scalar | vector | matrix | quat | transform | spatial | bool
    scalar: str          # element scalar type name, e.g. "wp.float32"
    length: int = 1      # number of components (vectors, quats, transforms, spatial)
    rows: int = 0        # matrices only
    cols: int = 0

    @property
    def is_float(self) -> bool:
        return self.scalar in FLOAT_SCALARS

    @property
    def is_int(self) -> bool:
        return self.scalar in INT_SCALARS and self.kind == "scalar"


FLOAT_SCALARS = ("wp.float16", "wp.float32", "wp.float64")
SIGNED_INTS = ("wp.int8", "wp.int16", "wp.int32", "wp.int64")
UNSIGNED_INTS = ("wp.uint8", "wp.uint16", "wp.uint32", "wp.uint64")
INT_SCALARS = SIGNED_INTS + UNSIGNED_INTS

_TYPES: dict[str, WType] = {}


def _add(t: WType) -> None:
    _TYPES[t.name] = t


for _s in FLOAT_SCALARS + INT_SCALARS:
    _add(WType(_s, "scalar", _s))
_add(WType("bool", "bool", "bool"))
for _suffix, _s in (("", "wp.float32"), ("d", "wp.float64"), ("h", "wp.float16"), ("i", "wp.int32")):
    for _n in (2, 3, 4):
        _add(WType(f"wp.vec{_n}{_suffix}", "vector", _s, _n))
for _suffix, _s in (("", "wp.float32"), ("d", "wp.float64")):
    for _n in (2, 3, 4):
        _add(WType(f"wp.mat{_n}{_n}{_suffix}", "matrix", _s, _n * _n, _n, _n))
    _add(WType(f"wp.quat{_suffix}", "quat", _s, 4))
    _add(WType(f"wp.transform{_suffix}", "transform", _s, 7))
    _add(WType(f"wp.spatial_vector{_suffix}", "spatial", _s, 6))
    _add(WType(f"wp.spatial_matrix{_suffix}", "matrix", _s, 36, 6, 6))


def wtype(name: str) -> WType:
    """The WType for an annotation string (``float``/``int`` are accepted as float32/int32)."""
    name = {"float": "wp.float32", "int": "wp.int32"}.get(name, name)
    return _TYPES[name]


def vector_of(scalar: str, n: int) -> str:
    suffix = {"wp.float32": "", "wp.float64": "d", "wp.float16": "h", "wp.int32": "i"}[scalar]
    return f"wp.vec{n}{suffix}"


def float_literal(rng: random.Random, lo: float = -4.0, hi: float = 4.0, digits: int = 3) -> str:
    """A float literal that always reads as a float (``2.0``, ``0.375``, ``-1.25``)."""
    value = round(rng.uniform(lo, hi), digits)
    text = repr(value)
    return text if "." in text or "e" in text else text + ".0"


def literal(rng: random.Random, type_name: str, lo: float = -4.0, hi: float = 4.0) -> str:
    """A literal of the given type, written the way Warp accepts it."""
    t = wtype(type_name)
    if t.kind == "bool":
        return rng.choice(("True", "False"))
    if t.kind == "scalar":
        if t.name == "wp.float32":
            return float_literal(rng, lo, hi)
        if t.is_float:
            return f"{t.name}({float_literal(rng, lo, hi)})"
        ilo, ihi = (0, max(1, int(hi))) if t.name in UNSIGNED_INTS else (int(lo), max(int(lo) + 1, int(hi)))
        value = rng.randint(ilo, ihi)
        return str(value) if t.name == "wp.int32" else f"{t.name}({value})"
    if t.kind == "quat":
        return f"wp.quat_identity(dtype={t.scalar})" if rng.random() < 0.3 else (
            f"wp.quat_from_axis_angle(wp.normalize({_vec_literal(rng, vector_of(t.scalar, 3), -1, 1)}), "
            f"{_scalar_lit(rng, t.scalar, -3.0, 3.0)})")
    if t.kind == "transform":
        return (f"{t.name}({_vec_literal(rng, vector_of(t.scalar, 3), lo, hi)}, "
                f"{literal(rng, t.name.replace('transform', 'quat'))})")
    # vectors, matrices, spatial vectors: component-wise constructor
    return _vec_literal(rng, t.name, lo, hi)


def _scalar_lit(rng: random.Random, scalar: str, lo: float, hi: float) -> str:
    return literal(rng, scalar, lo, hi)


def _vec_literal(rng: random.Random, type_name: str, lo: float, hi: float) -> str:
    t = wtype(type_name)
    parts = ", ".join(_plain_component(rng, t.scalar, lo, hi) for _ in range(t.length))
    return f"{t.name}({parts})"


def _plain_component(rng: random.Random, scalar: str, lo: float, hi: float) -> str:
    # Components of a typed constructor are converted by Warp, so plain literals suffice.
    if scalar in INT_SCALARS:
        return str(rng.randint(int(lo), max(int(lo) + 1, int(hi))))
    return float_literal(rng, lo, hi)
