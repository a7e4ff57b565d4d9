"""Catalog of concrete, fully typed Warp builtin signatures for the random-program generator.

Every entry was checked against warp-lang 1.19.0: a kernel calling ``fn`` with arguments of the
listed types and storing the result into an array of type ``ret`` passes Warp's CPU and CUDA
code generation (see ``tests/synth/test_catalog.py``). Warp's codegen is stricter than Python:
there is no implicit conversion between scalar types, so a signature only matches when every
argument type matches exactly.

This module deliberately does not import warp, so program synthesis stays warp-free. Types are
named by the annotation strings of ``types``, the one vocabulary (``"wp.vec3"``, ``"wp.float64"``, ``"bool"``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from .types import (
    ALL_TYPES,
    COMPOSITE_TYPES,
    DIM_OF,
    F32,
    F64,
    FLOAT_SCALARS,
    I32,
    INT_SCALARS,
    MATRIX_TYPES,
    NUMERIC_SCALARS,
    QUAT_TYPES,
    SCALAR_OF,
    SCALAR_TYPES,
    SPATIAL_MATRIX_TYPES,
    SPATIAL_VECTOR_TYPES,
    TRANSFORM_TYPES,
    U32,
    VEC_F32,
    VEC_FLOAT,
    VEC_I32,
    VECTOR_TYPES,
    matrix_type,
    vector_type,
)


class Signature(NamedTuple):
    """One accepted call form of a Warp builtin."""

    fn: str  # the call as written in source, e.g. "wp.sin"
    args: tuple[str, ...]  # argument type names, in order
    ret: str  # return type name
    domain: str = ""  # safe-argument hint, a key of DOMAINS
    group: str = "math"  # coarse family, for weighting choices in the generator


# Hints on argument ranges that keep results finite and avoid undefined behaviour.
DOMAINS: dict[str, str] = {
    "": "any value is safe",
    "positive": "all arguments > 0",
    "unit": "all arguments in [-1, 1] (|x| < 1 for finite erfinv)",
    "unit_positive": "all arguments in (0, 1] (erfcinv is finite only on (0, 2))",
    "nonzero": "divisor-like arguments nonzero (integer division by zero crashes); matrices invertible",
    "normalized": "quaternion/axis arguments unit length, matrices pure rotations or rigid transforms",
    "shift": "shift amount in [0, bit width of the type); shifted value non-negative",
    "axis_index": "integer arguments are Euler axis indices in {0, 1, 2}",
    "int_range": "float argument lies inside the target integer type's range (else undefined)",
    "small_count": "integer arguments are small loop counts (1..8); float arguments any",
}

_VEC6 = SPATIAL_VECTOR_TYPES


def _each(
    fns: Iterable[str],
    types: Iterable[str],
    arity: int,
    ret: str | None = None,
    domain: str = "",
    group: str = "math",
) -> Iterator[Signature]:
    """``fn(t, ..., t) -> t`` (or ``-> ret``) for every fn and every type t."""
    types = tuple(types)
    for fn in fns:
        for t in types:
            yield Signature(fn, (t,) * arity, ret or t, domain, group)


def _math() -> Iterator[Signature]:
    """Elementwise scalar math and its vector variants."""
    unary_float = {
        "acos": "unit", "asin": "unit", "atan": "", "cbrt": "", "ceil": "", "cos": "", "cosh": "",
        "degrees": "", "erf": "", "erfc": "", "erfcinv": "unit_positive", "erfinv": "unit", "exp": "",
        "floor": "", "frac": "", "log": "positive", "log10": "positive", "log2": "positive",
        "radians": "", "rint": "", "round": "", "sin": "", "sinh": "", "sqrt": "positive", "tan": "",
        "tanh": "", "trunc": "",
    }  # fmt: skip
    for name, dom in unary_float.items():
        yield from _each([f"wp.{name}"], FLOAT_SCALARS, 1, domain=dom)
    yield from _each(["wp.atan2", "wp.copysign"], FLOAT_SCALARS, 2)
    yield from _each(["wp.pow"], FLOAT_SCALARS, 2, domain="positive")
    yield from _each(["wp.smoothstep"], FLOAT_SCALARS, 3)
    yield from _each(["wp.step", "wp.nonzero"], NUMERIC_SCALARS, 1)
    yield from _each(["wp.clamp"], NUMERIC_SCALARS, 3)
    # abs/sign/min/max also act componentwise on vectors (not on matrices or quaternions).
    elementwise_vectors = VECTOR_TYPES + _VEC6
    yield from _each(["wp.abs", "wp.sign"], NUMERIC_SCALARS + elementwise_vectors, 1)
    yield from _each(["wp.min", "wp.max"], NUMERIC_SCALARS + elementwise_vectors, 2)
    # One-argument min/max reduce a vector to its smallest/largest component.
    for fn in ("wp.min", "wp.max"):
        for v in elementwise_vectors:
            yield Signature(fn, (v,), SCALAR_OF[v])
    float_composites = VEC_FLOAT + MATRIX_TYPES + QUAT_TYPES + _VEC6 + SPATIAL_MATRIX_TYPES
    yield from _each(["wp.isfinite", "wp.isinf", "wp.isnan"], FLOAT_SCALARS + float_composites, 1, ret="bool")
    yield from _each(["wp.lerp"], FLOAT_SCALARS, 3)
    for c in float_composites + TRANSFORM_TYPES:
        yield Signature("wp.lerp", (c, c, SCALAR_OF[c]), c)


def _arith() -> Iterator[Signature]:
    """Function forms of the arithmetic operators."""
    g = "arith"
    yield from _each(["wp.add", "wp.sub"], NUMERIC_SCALARS + COMPOSITE_TYPES, 2, group=g)
    no_transform = tuple(t for t in COMPOSITE_TYPES if t not in TRANSFORM_TYPES)
    yield from _each(["wp.neg", "wp.pos"], NUMERIC_SCALARS + no_transform, 1, group=g)
    yield from _each(["wp.mod"], NUMERIC_SCALARS + VECTOR_TYPES + _VEC6, 2, domain="nonzero", group=g)
    yield from _each(["wp.floordiv"], NUMERIC_SCALARS, 2, domain="nonzero", group=g)
    # Scalar-composite products and quotients take the scalar on either side.
    yield from _each(["wp.mul"], NUMERIC_SCALARS, 2, group=g)
    for c in COMPOSITE_TYPES:
        s = SCALAR_OF[c]
        yield Signature("wp.mul", (s, c), c, "", g)
        yield Signature("wp.mul", (c, s), c, "", g)
    # Matrix/quaternion/transform products.
    for m in MATRIX_TYPES + SPATIAL_MATRIX_TYPES:
        v = vector_type(DIM_OF[m], SCALAR_OF[m])
        yield Signature("wp.mul", (m, m), m, "", g)
        yield Signature("wp.mul", (m, v), v, "", g)
        yield Signature("wp.mul", (v, m), v, "", g)
    for t in QUAT_TYPES + TRANSFORM_TYPES:
        yield Signature("wp.mul", (t, t), t, "", g)
    yield from _each(["wp.div"], NUMERIC_SCALARS, 2, domain="nonzero", group=g)
    yield from _each(["wp.div_approx"], FLOAT_SCALARS, 2, domain="nonzero", group=g)
    for c in no_transform:
        s = SCALAR_OF[c]
        fns = ("wp.div",) if s == I32 else ("wp.div", "wp.div_approx")
        for fn in fns:
            yield Signature(fn, (c, s), c, "nonzero", g)
            yield Signature(fn, (s, c), c, "nonzero", g)


def _bits() -> Iterator[Signature]:
    """Integer bit operations, also componentwise on integer vectors."""
    ints = INT_SCALARS + VEC_I32
    yield from _each(["wp.bit_and", "wp.bit_or", "wp.bit_xor"], ints, 2, group="bit")
    yield from _each(["wp.lshift", "wp.rshift"], ints, 2, domain="shift", group="bit")
    yield from _each(["wp.invert"], ints, 1, group="bit")
    yield from _each(["wp.bit_count"], INT_SCALARS, 1, ret=I32, group="bit")
    yield from _each(["wp.unot"], ("bool",) + INT_SCALARS, 1, ret="bool", group="bit")


def _vector() -> Iterator[Signature]:
    """Vector algebra and norms."""
    g = "vector"
    float_vecs = VEC_FLOAT + QUAT_TYPES + _VEC6
    for v in VECTOR_TYPES + QUAT_TYPES + _VEC6:
        yield Signature("wp.dot", (v, v), SCALAR_OF[v], "", g)
        yield Signature("wp.length_sq", (v,), SCALAR_OF[v], "", g)
    for v in float_vecs:
        yield Signature("wp.length", (v,), SCALAR_OF[v], "", g)
        yield Signature("wp.norm_l2", (v,), SCALAR_OF[v], "", g)
        yield Signature("wp.normalize", (v,), v, "", g)
    yield from _each(["wp.cross"], ("wp.vec3", "wp.vec3d", "wp.vec3i"), 2, group=g)
    for v in VEC_FLOAT + ("wp.spatial_vector",):
        yield Signature("wp.outer", (v, v), matrix_type(DIM_OF[v], SCALAR_OF[v]), "", g)
    cw = VECTOR_TYPES + _VEC6 + MATRIX_TYPES + SPATIAL_MATRIX_TYPES
    yield from _each(["wp.cw_mul"], cw, 2, group=g)
    yield from _each(["wp.cw_div"], cw, 2, domain="nonzero", group=g)
    yield from _each(["wp.argmin", "wp.argmax"], VECTOR_TYPES + _VEC6, 1, ret=U32, group=g)
    # These norms are float32-only (they are Warp functions with float32 literals inside).
    f32_vecs = VEC_F32 + ("wp.quat", "wp.spatial_vector")
    yield from _each(["wp.norm_l1"], f32_vecs + ("wp.transform",), 1, ret=F32, group=g)
    for v in f32_vecs:
        for fn in ("wp.norm_huber", "wp.norm_pseudo_huber"):
            yield Signature(fn, (v,), F32, "", g)
            yield Signature(fn, (v, F32), F32, "positive", g)
        yield Signature("wp.smooth_normalize", (v,), v, "", g)
        yield Signature("wp.smooth_normalize", (v, F32), v, "positive", g)
    # len() of a vector-like value is a compile-time int32 constant.
    yield from _each(["wp.len"], COMPOSITE_TYPES, 1, ret=I32, group=g)


def _matrix() -> Iterator[Signature]:
    """Matrix algebra."""
    g = "matrix"
    for m in MATRIX_TYPES + SPATIAL_MATRIX_TYPES:
        s = SCALAR_OF[m]
        yield Signature("wp.transpose", (m,), m, "", g)
        yield Signature("wp.trace", (m,), s, "", g)
        yield Signature("wp.ddot", (m, m), s, "", g)
        yield Signature("wp.diag", (vector_type(DIM_OF[m], s),), m, "", g)
        yield Signature("wp.get_diag", (m,), vector_type(DIM_OF[m], s), "", g)
    for m in MATRIX_TYPES:
        s = SCALAR_OF[m]
        v = vector_type(DIM_OF[m], s)
        yield Signature("wp.determinant", (m,), s, "", g)
        yield Signature("wp.inverse", (m,), m, "nonzero", g)
        yield Signature("wp.inverse_approx", (m,), m, "nonzero", g)
        yield Signature("wp.matrix_from_cols", (v,) * DIM_OF[m], m, "", g)
        yield Signature("wp.matrix_from_rows", (v,) * DIM_OF[m], m, "", g)
    yield Signature("wp.skew", ("wp.vec3",), "wp.mat33", "", g)
    yield Signature("wp.skew", ("wp.vec3d",), "wp.mat33d", "", g)


def _quat() -> Iterator[Signature]:
    """Quaternion functions; float64 forms exist only for the native (non-Python) builtins."""
    g = "quat"
    n = "normalized"
    for q, s in (("wp.quat", F32), ("wp.quatd", F64)):
        v3, m33, m44 = vector_type(3, s), matrix_type(3, s), matrix_type(4, s)
        yield Signature("wp.quat_from_axis_angle", (v3, s), q, n, g)
        yield Signature("wp.quat_from_matrix", (m33,), q, n, g)
        yield Signature("wp.quat_from_matrix", (m44,), q, n, g)
        yield Signature("wp.quat_inverse", (q,), q, "", g)
        yield Signature("wp.quat_rotate", (q, v3), v3, n, g)
        yield Signature("wp.quat_rotate_inv", (q, v3), v3, n, g)
        yield Signature("wp.quat_rpy", (s, s, s), q, "", g)
        yield Signature("wp.quat_slerp", (q, q, s), q, n, g)
        yield Signature("wp.quat_to_matrix", (q,), m33, n, g)
    yield Signature("wp.quat_identity", (), "wp.quat", "", g)
    yield Signature("wp.quat_to_rpy", ("wp.quat",), "wp.vec3", n, g)
    yield Signature("wp.quat_twist", ("wp.vec3", "wp.quat"), "wp.quat", n, g)
    yield Signature("wp.quat_twist_angle", ("wp.vec3", "wp.quat"), F32, n, g)
    yield Signature("wp.quat_twist_angle_signed", ("wp.vec3", "wp.quat"), F32, n, g)
    # Euler axis indices may be runtime int32 values, but must be in {0, 1, 2}.
    yield Signature("wp.quat_from_euler", ("wp.vec3", I32, I32, I32), "wp.quat", "axis_index", g)
    yield Signature("wp.quat_to_euler", ("wp.quat", I32, I32, I32), "wp.vec3", "axis_index", g)


def _transform() -> Iterator[Signature]:
    """Rigid transforms and spatial (6D) algebra."""
    g = "transform"
    n = "normalized"
    for t, s in (("wp.transform", F32), ("wp.transformd", F64)):
        v3, q, m44 = vector_type(3, s), {F32: "wp.quat", F64: "wp.quatd"}[s], matrix_type(4, s)
        yield Signature("wp.transform_compose", (v3, q, v3), m44, n, g)
        yield Signature("wp.transform_from_matrix", (m44,), t, n, g)
        yield Signature("wp.transform_to_matrix", (t,), m44, n, g)
        yield Signature("wp.transform_get_rotation", (t,), q, "", g)
        yield Signature("wp.transform_get_translation", (t,), v3, "", g)
        yield Signature("wp.transform_inverse", (t,), t, n, g)
        yield Signature("wp.transform_multiply", (t, t), t, n, g)
        for fn in ("wp.transform_point", "wp.transform_vector"):
            yield Signature(fn, (t, v3), v3, n, g)
            yield Signature(fn, (m44, v3), v3, "", g)  # plain 4x4 matrix form
    yield Signature("wp.transform_identity", (), "wp.transform", "", g)

    g = "spatial"
    for sv, s in (("wp.spatial_vector", F32), ("wp.spatial_vectord", F64)):
        v3 = vector_type(3, s)
        yield Signature("wp.spatial_top", (sv,), v3, "", g)
        yield Signature("wp.spatial_bottom", (sv,), v3, "", g)
        yield Signature("wp.spatial_dot", (sv, sv), s, "", g)
        yield Signature("wp.spatial_cross", (sv, sv), sv, "", g)
        yield Signature("wp.spatial_cross_dual", (sv, sv), sv, "", g)
    yield Signature("wp.spatial_adjoint", ("wp.mat33", "wp.mat33"), "wp.spatial_matrix", "", g)
    yield Signature("wp.transform_twist", ("wp.transform", "wp.spatial_vector"), "wp.spatial_vector", n, g)
    yield Signature("wp.transform_wrench", ("wp.transform", "wp.spatial_vector"), "wp.spatial_vector", n, g)
    yield Signature("wp.velocity_at_point", ("wp.spatial_vector", "wp.vec3"), "wp.vec3", "", g)


def _geometry_and_noise() -> Iterator[Signature]:
    """Geometric queries on plain values, and hash-based (stateless) noise."""
    v3 = "wp.vec3"
    yield Signature("wp.closest_point_edge_edge", (v3, v3, v3, v3, F32), v3, "", "geometry")
    yield Signature("wp.intersect_tri_tri", (v3,) * 6, I32, "", "geometry")
    yield Signature("wp.intersect_tri_tri", ("wp.vec3d",) * 6, I32, "", "geometry")
    # noise/pnoise/curlnoise take a uint32 seed by value and do not advance it, unlike wp.rand*.
    g = "random_free"
    for x in (F32,) + VEC_F32:
        yield Signature("wp.noise", (U32, x), F32, "", g)
        dim = 1 if x == F32 else DIM_OF[x]
        yield Signature("wp.pnoise", (U32, x) + (I32,) * dim, F32, "positive", g)  # periods > 0
    for x in VEC_F32:
        out = "wp.vec2" if x == "wp.vec2" else "wp.vec3"
        yield Signature("wp.curlnoise", (U32, x), out, "", g)
        yield Signature("wp.curlnoise", (U32, x, U32, F32, F32), out, "small_count", g)


def _select() -> Iterator[Signature]:
    """wp.where with a bool or int32 condition (wp.select was removed in Warp 1.19)."""
    for cond in ("bool", I32):
        for t in ALL_TYPES:
            yield Signature("wp.where", (cond, t, t), t, "", "select")


def _conversions() -> Iterator[Signature]:
    """Scalar casts between every pair of scalar types, plus Python's float()/int()."""
    for dst in SCALAR_TYPES:
        fn = "wp.bool" if dst == "bool" else dst
        for src in SCALAR_TYPES:
            if {src, dst} == {"wp.float16", "bool"}:
                continue  # passes codegen, but the C++/CUDA build fails (ambiguous half<->bool)
            risky = src in FLOAT_SCALARS and dst in INT_SCALARS
            yield Signature(fn, (src,), dst, "int_range" if risky else "", "conversion")
    # Python's float()/int() are separate Warp builtins that always produce float32/int32.
    for fn, dst in (("float", F32), ("int", I32)):
        for src in SCALAR_TYPES:
            risky = src in FLOAT_SCALARS and dst == I32
            yield Signature(fn, (src,), dst, "int_range" if risky else "", "conversion")


def _constructors() -> Iterator[Signature]:
    """Composite-type constructors: zero, fill, component-wise and dtype conversion forms."""
    g = "constructor"
    for v in VECTOR_TYPES:
        s, dim = SCALAR_OF[v], DIM_OF[v]
        yield Signature(v, (), v, "", g)
        yield Signature(v, (s,), v, "", g)
        yield Signature(v, (s,) * dim, v, "", g)
        for other in (F32, F64, I32):
            yield Signature(v, (vector_type(dim, other),), v, "", g)  # dtype conversion (same dtype = copy)
        yield Signature("wp.vector", (s,) * dim, v, "", g)
    for m in MATRIX_TYPES:
        s, dim = SCALAR_OF[m], DIM_OF[m]
        yield Signature(m, (), m, "", g)
        yield Signature(m, (s,), m, "", g)
        yield Signature(m, (s,) * (dim * dim), m, "", g)
        for other in (F32, F64):
            yield Signature(m, (matrix_type(dim, other),), m, "", g)
    for q, s in (("wp.quat", F32), ("wp.quatd", F64)):
        v3 = vector_type(3, s)
        for fn in (q, "wp.quaternion"):
            yield Signature(fn, (s,) * 4, q, "", g)
            yield Signature(fn, (v3, s), q, "", g)  # imaginary part, real part
        yield Signature(q, (), q, "", g)
        yield Signature(q, ("wp.quat",), q, "", g)
        yield Signature(q, ("wp.quatd",), q, "", g)
    yield Signature("wp.quaternion", (), "wp.quat", "", g)
    for t, s in (("wp.transform", F32), ("wp.transformd", F64)):
        v3, q = vector_type(3, s), {F32: "wp.quat", F64: "wp.quatd"}[s]
        for fn in (t, "wp.transformation"):
            yield Signature(fn, (v3, q), t, "normalized", g)
            yield Signature(fn, (s,) * 7, t, "normalized", g)  # px, py, pz, qx, qy, qz, qw
        yield Signature(t, (), t, "", g)
        yield Signature(t, (t,), t, "", g)
    yield Signature("wp.transformation", (), "wp.transform", "", g)
    # wp.spatial_vector is a builtin function rather than a plain type constructor, so its
    # accepted forms differ from wp.spatial_vectord (no fill form, but a (top, bottom) form).
    yield Signature("wp.spatial_vector", (), "wp.spatial_vector", "", g)
    yield Signature("wp.spatial_vector", (F32,) * 6, "wp.spatial_vector", "", g)
    yield Signature("wp.spatial_vector", ("wp.vec3", "wp.vec3"), "wp.spatial_vector", "", g)
    yield Signature("wp.spatial_vectord", (), "wp.spatial_vectord", "", g)
    yield Signature("wp.spatial_vectord", (F64,), "wp.spatial_vectord", "", g)
    yield Signature("wp.spatial_vectord", (F64,) * 6, "wp.spatial_vectord", "", g)
    yield Signature("wp.spatial_vectord", ("wp.spatial_vector",), "wp.spatial_vectord", "", g)
    yield Signature("wp.spatial_vectord", ("wp.spatial_vectord",), "wp.spatial_vectord", "", g)
    yield Signature("wp.vector", (F32,) * 6, "wp.spatial_vector", "", g)
    yield Signature("wp.vector", (F64,) * 6, "wp.spatial_vectord", "", g)
    sm = "wp.spatial_matrix"
    yield Signature(sm, (), sm, "", g)
    yield Signature(sm, (F32,), sm, "", g)
    yield Signature(sm, (F32,) * 36, sm, "", g)
    yield Signature(sm, (sm,), sm, "", g)


def _build() -> tuple[Signature, ...]:
    """Assemble the catalog, dropping exact duplicates while keeping first-seen order."""
    parts = (_math, _arith, _bits, _vector, _matrix, _quat, _transform, _geometry_and_noise, _select)
    seen: dict[tuple[str, tuple[str, ...]], Signature] = {}
    for part in parts + (_conversions, _constructors):
        for sig in part():
            seen.setdefault((sig.fn, sig.args), sig)
    return tuple(seen.values())


SIGNATURES: tuple[Signature, ...] = _build()


@functools.cache
def by_return_type() -> dict[str, tuple[Signature, ...]]:
    """Signatures grouped by return type name (cached; treat the result as read-only)."""
    groups: dict[str, list[Signature]] = {}
    for sig in SIGNATURES:
        groups.setdefault(sig.ret, []).append(sig)
    return {ret: tuple(sigs) for ret, sigs in groups.items()}


def distinct_functions() -> frozenset[str]:
    """The distinct ``fn`` spellings in the catalog."""
    return frozenset(sig.fn for sig in SIGNATURES)
