"""THE Warp type vocabulary: every type name the engine writes, grouped, plus literals of each.

Type names are the annotation strings written in kernel source (``wp.float32``, ``wp.vec3``...),
so a generated program can be printed without any translation. The builtin catalog, the
families, the composer and the errors task (``mistakes``) all name types from here. No Warp
import here.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

# ----- type names, grouped -------------------------------------------------------------------
FLOAT_SCALARS: tuple[str, ...] = ("wp.float16", "wp.float32", "wp.float64")
SIGNED_INT_SCALARS: tuple[str, ...] = ("wp.int8", "wp.int16", "wp.int32", "wp.int64")
UNSIGNED_INT_SCALARS: tuple[str, ...] = ("wp.uint8", "wp.uint16", "wp.uint32", "wp.uint64")
INT_SCALARS: tuple[str, ...] = SIGNED_INT_SCALARS + UNSIGNED_INT_SCALARS
NUMERIC_SCALARS: tuple[str, ...] = FLOAT_SCALARS + INT_SCALARS
SCALAR_TYPES: tuple[str, ...] = NUMERIC_SCALARS + ("bool",)

VEC_F32: tuple[str, ...] = ("wp.vec2", "wp.vec3", "wp.vec4")
VEC_F64: tuple[str, ...] = ("wp.vec2d", "wp.vec3d", "wp.vec4d")
VEC_I32: tuple[str, ...] = ("wp.vec2i", "wp.vec3i", "wp.vec4i")
VEC_FLOAT: tuple[str, ...] = VEC_F32 + VEC_F64
VECTOR_TYPES: tuple[str, ...] = VEC_FLOAT + VEC_I32
MAT_F32: tuple[str, ...] = ("wp.mat22", "wp.mat33", "wp.mat44")
MAT_F64: tuple[str, ...] = ("wp.mat22d", "wp.mat33d", "wp.mat44d")
MATRIX_TYPES: tuple[str, ...] = MAT_F32 + MAT_F64
QUAT_TYPES: tuple[str, ...] = ("wp.quat", "wp.quatd")
TRANSFORM_TYPES: tuple[str, ...] = ("wp.transform", "wp.transformd")
SPATIAL_VECTOR_TYPES: tuple[str, ...] = ("wp.spatial_vector", "wp.spatial_vectord")
SPATIAL_MATRIX_TYPES: tuple[str, ...] = ("wp.spatial_matrix",)  # no float64 variant in the catalog's list

COMPOSITE_TYPES: tuple[str, ...] = (
    VECTOR_TYPES + MATRIX_TYPES + QUAT_TYPES + TRANSFORM_TYPES + SPATIAL_VECTOR_TYPES + SPATIAL_MATRIX_TYPES
)
ALL_TYPES: tuple[str, ...] = SCALAR_TYPES + COMPOSITE_TYPES

# Scalar (element) type of every composite type.
SCALAR_OF: dict[str, str] = {
    **dict.fromkeys(VEC_F32 + MAT_F32, "wp.float32"),
    **dict.fromkeys(VEC_F64 + MAT_F64, "wp.float64"),
    **dict.fromkeys(VEC_I32, "wp.int32"),
    "wp.quat": "wp.float32",
    "wp.quatd": "wp.float64",
    "wp.transform": "wp.float32",
    "wp.transformd": "wp.float64",
    "wp.spatial_vector": "wp.float32",
    "wp.spatial_vectord": "wp.float64",
    "wp.spatial_matrix": "wp.float32",
}

# Number of components (vectors) or rows (square matrices).
DIM_OF: dict[str, int] = {
    **{t: int(t[6]) for t in VECTOR_TYPES},  # "wp.vec3d" -> 3
    **{t: int(t[6]) for t in MATRIX_TYPES},  # "wp.mat33d" -> 3
    "wp.quat": 4,
    "wp.quatd": 4,
    "wp.transform": 7,
    "wp.transformd": 7,
    "wp.spatial_vector": 6,
    "wp.spatial_vectord": 6,
    "wp.spatial_matrix": 6,
}

# Python annotations Warp reads as Warp types.
PYTHON_SCALARS: dict[str, str] = {"float": "wp.float32", "int": "wp.int32"}

# Short names for the types families write most (the annotation strings themselves).
F32, F64, I32, U32 = "wp.float32", "wp.float64", "wp.int32", "wp.uint32"
V2, V3, V4 = "wp.vec2", "wp.vec3", "wp.vec4"
M22, M33 = "wp.mat22", "wp.mat33"
QUAT, XFORM, SPATIAL = "wp.quat", "wp.transform", "wp.spatial_vector"


def vector_type(dim: int, scalar: str) -> str:
    """Vector type name of the given length and scalar, e.g. (3, float64) -> wp.vec3d; 6 is spatial."""
    if dim == 6:
        return {F32: "wp.spatial_vector", F64: "wp.spatial_vectord"}[scalar]
    return f"wp.vec{dim}" + {F32: "", F64: "d", I32: "i"}[scalar]


def matrix_type(dim: int, scalar: str) -> str:
    """Square matrix type name, e.g. (3, float32) -> wp.mat33; 6 is the spatial matrix."""
    if dim == 6:
        return "wp.spatial_matrix"
    return f"wp.mat{dim}{dim}" + {F32: "", F64: "d"}[scalar]


# ----- value types with their shape ----------------------------------------------------------
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
    name = PYTHON_SCALARS.get(name, name)
    return _TYPES[name]


def vector_of(scalar: str, n: int) -> str:
    """The vector of ``n`` ``scalar`` components, float16 vectors included (``wp.vec3h``)."""
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
        ilo, ihi = (0, max(1, int(hi))) if t.name in UNSIGNED_INT_SCALARS else (int(lo), max(int(lo) + 1, int(hi)))
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
