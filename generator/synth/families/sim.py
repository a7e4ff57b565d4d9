"""Simulation-style kernel families: the kinds of kernels Warp is used for in physics and graphics.

Each family is a function ``(rng, level) -> KernelSource``; its category is its key in
``SIM_FAMILIES``. A family fixes *what* the kernel does; its structure (which variant of the
algorithm, how many terms, collision shapes, neighbour quantities, helpers, loops vs. unrolled
code, where model constants live) is drawn from the RNG, and ``level`` (1..5) makes it longer.

* ``particles``     – particle integration (semi-implicit/explicit Euler, Verlet, leapfrog, damping,
  gravity) and collisions (ground, planes, sphere obstacles, box bounds, restitution/friction).
* ``springs``       – spring and cloth forces (stretch/shear springs, bending hinges, triangle area)
  scattered with ``wp.atomic_add``.
* ``sph``           – SPH neighbour sums over ``wp.HashGrid`` (density, pressure, viscosity, XSPH).
* ``mesh_query``    – closest points, signed distances, particle–mesh collision and depth-image ray
  casting on a ``wp.Mesh``.
* ``bvh_query``     – AABB and ray queries on a ``wp.Bvh``: counting, collecting, nearest hits.
* ``fem``           – tet/triangle element forces from deformation gradients (Neo-Hookean, StVK,
  corotational), rest-shape precomputation.
* ``rigid``         – rigid bodies with ``wp.quat``/``wp.transform``/spatial vectors: integration,
  shape-to-world transforms, point velocities, forward kinematics.
* ``image_stencil`` – 2-D/3-D stencils: blur, Sobel, Laplacian, Jacobi, bilinear advection.
* ``csr_spmv``      – CSR sparse matrix–vector products (scaled, transposed, block, Jacobi, residual).
* ``graph_relax``   – graph relaxations: Bellman-Ford, BFS levels, label propagation, PageRank, Jacobi.
* ``reduction``     – sums, extrema, norms, dot products, argmax, histograms, per-block partials.
* ``scan``          – naive and Hillis–Steele scans, segmented and blocked scans, compaction.

No Warp import: kernels are text. Every API form used here was checked against Warp 1.19 codegen
on both backends (``tests/test_families_sim.py`` keeps that true).
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable, Iterator
from typing import NamedTuple

from ..builder import INDENT, KernelBuilder, KernelSource, Var
from ..expressions import ExprGen
from ..helpers import add_helper
from ..types import float_literal
from .seed import _depth, _group, _start

F32 = "wp.float32"
I32 = "wp.int32"
V2 = "wp.vec2"
V3 = "wp.vec3"
M22 = "wp.mat22"
M33 = "wp.mat33"
QUAT = "wp.quat"
XFORM = "wp.transform"
SPATIAL = "wp.spatial_vector"


# ------------------------------------------------------------------------------- utilities
def _begin(rng: random.Random, level: int, category: str, names: tuple[str, ...], *,
           groups: tuple[str, ...] = ("math",), leaf_prob: float = 0.5) -> tuple[KernelBuilder, ExprGen]:
    """A builder named like a real kernel of this kind; expressions limited to ``groups``."""
    kb, ex = _start(rng, level, category, leaf_prob=leaf_prob, allowed=_group(*groups))
    kb.name = rng.choice(names)
    kb.taken.add(kb.name)
    return kb, ex


def _chance(kb: KernelBuilder, p: float) -> bool:
    """True with probability ``p`` at level 3; optional features get likelier as the level rises."""
    return kb.rng.random() < min(0.95, max(0.03, p + 0.12 * (kb.complexity - 3)))


def _count(kb: KernelBuilder, lo: int, hi: int) -> int:
    """How many of something: ``lo..hi`` at level 3, one fewer at the top at 1-2, one more at 5."""
    return kb.rng.randint(lo, max(lo, hi + (kb.complexity - 3) // 2))


def _lit(rng: random.Random, lo: float, hi: float) -> str:
    return float_literal(rng, lo, hi)


def _vec3_lit(rng: random.Random, lo: float, hi: float) -> str:
    return f"wp.vec3({_lit(rng, lo, hi)}, {_lit(rng, lo, hi)}, {_lit(rng, lo, hi)})"


def _pick(kb: KernelBuilder, bases: tuple[str, ...]) -> str:
    """One of ``bases``, preferring names not used yet (so ``pos`` does not become ``pos_1``)."""
    free = [b for b in bases if b not in kb.taken]
    return kb.rng.choice(free or bases)


def _name(kb: KernelBuilder, *bases: str) -> str:
    """A fresh local name chosen among ``bases`` (for names the scope need not track)."""
    return kb.fresh(_pick(kb, bases))


def _local(kb: KernelBuilder, bases: tuple[str, ...], expr: str, type_name: str) -> str:
    """``name = expr`` for a new local visible to the expression generator; returns the name."""
    return kb.let(_pick(kb, bases), expr, type_name).name


def _acc(kb: KernelBuilder, bases: tuple[str, ...], type_name: str, init: str = "") -> str:
    """A loop-carried accumulator. Scalars are wrapped (``float(0.0)``) so Warp treats them as
    dynamic; vectors start from a constructor call, which Warp already treats as dynamic."""
    if type_name in (F32, I32):
        return kb.mutable(_pick(kb, bases), init or ("0.0" if type_name == F32 else "0"), type_name).name
    return kb.let(_pick(kb, bases), init or f"{type_name}(0.0)", type_name).name


def _helper(kb: KernelBuilder, name_bases: tuple[str, ...], params: str, body: list[str]) -> str:
    """Add a hand-written ``@wp.func``; returns its (module-unique) name."""
    name = kb.fresh(kb.rng.choice(name_bases))
    lines = "\n".join(INDENT + line for line in body)
    kb.add_helper(f"@wp.func\ndef {name}({params}):\n{lines}\n")
    return name


def _tid1(kb: KernelBuilder, *bases: str, guard: bool = True) -> str:
    """The 1-D thread index; sometimes (likelier at high levels) with an explicit bound check,
    as kernels launched on a padded grid have."""
    (i,) = kb.tid(1, (kb.rng.choice(bases or ("tid", "i")),))
    if guard and _chance(kb, 0.12):
        n = kb.scalar_param(kb.rng.choice(("n", "num_items", "count", "size")), I32).name
        with kb.block(f"if {i.name} >= {n}:"):
            kb.emit("return")
    return i.name


class _Knobs:
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
            value = str(rng.randint(int(lo), int(hi))) if type_name == I32 else _lit(rng, lo, hi)
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


# ------------------------------------------------------------------------------- particles
def _velocity_response(kb: KernelBuilder, cache: dict[str, str], vel: str, n: str, restitution: str,
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
            cache["helper"] = _helper(kb, ("reflect_velocity", "contact_response", "collide_velocity"),
                                      f"v: wp.vec3, n: wp.vec3, restitution: float{fr}",
                                      ["vn = wp.dot(v, n)", "if vn >= 0.0:", INDENT + "return v",
                                       "vt = v - n * vn", f"return {tangential} - n * (vn * restitution)"])
        args = f"{vel}, {n}, {restitution}" + (f", {friction}" if friction else "")
        kb.emit(f"{vel} = {cache['helper']}({args})")
        return
    vn = _local(kb, ("vn", "v_normal", "vdotn"), f"wp.dot({vel}, {n})", F32)
    with kb.block(f"if {vn} < 0.0:"):
        if friction:
            vt = _local(kb, ("vt", "v_tangent"), f"{vel} - {n} * {vn}", V3)
            kb.emit(f"{vel} = {vt} * (1.0 - {friction}) - {n} * ({vn} * {restitution})")
        else:
            kb.emit(f"{vel} = {vel} - {n} * ((1.0 + {restitution}) * {vn})")


def particles(rng: random.Random, level: int = 3) -> KernelSource:
    kb, ex = _begin(rng, level, "particles", ("integrate_particles", "step_particles", "advance_particles",
                                              "simulate_particles", "particle_update", "integrate_and_collide"),
                    groups=("math", "vector"))
    knobs = _Knobs(kb)
    x = kb.array_param(rng.choice(("x", "positions", "particle_q", "pos")), V3).name
    v = kb.array_param(rng.choice(("v", "velocities", "particle_qd", "vel")), V3).name
    scheme = rng.choice(("semi_implicit", "semi_implicit", "explicit", "verlet", "leapfrog"))
    prev = kb.array_param(rng.choice(("x_prev", "prev_positions")), V3).name if scheme == "verlet" else None
    force = kb.array_param(rng.choice(("f", "forces", "particle_f")), V3).name if _chance(kb, 0.5) else None
    inv_mass = None
    if force and rng.random() < 0.7:
        inv_mass = kb.array_param(rng.choice(("inv_mass", "particle_inv_mass", "w")), F32).name
    outs = (kb.array_param(rng.choice(("x_out", "x_new")), V3).name,
            kb.array_param(rng.choice(("v_out", "v_new")), V3).name) if rng.random() < 0.35 else (x, v)
    mask = kb.array_param(rng.choice(("flags", "active", "particle_flags")), I32).name if _chance(kb, 0.25) else None
    dt = knobs.get("dt", 0.001, 0.02)

    i = _tid1(kb, "tid", "i", "p")
    if mask:
        test = f"{mask}[{i}] == 0" if rng.random() < 0.5 else f"({mask}[{i}] & 1) == 0"
        with kb.block(f"if {test}:"):
            kb.emit("return")
    pos = _local(kb, ("xi", "pos", "p0", "x0"), f"{x}[{i}]", V3)
    vel = _local(kb, ("vi", "vel", "v0", "u"), f"{v}[{i}]", V3)

    g_style = rng.choice(("vec", "vec", "scalar", "none" if force else "vec"))
    terms = []
    if g_style == "vec":
        terms.append(knobs.vec3("gravity", f"wp.vec3(0.0, {_lit(rng, -9.81, -1.0)}, 0.0)"))
    elif g_style == "scalar":
        terms.append(f"wp.vec3(0.0, -{knobs.get('gravity', 1.0, 9.81)}, 0.0)")
    if force:
        if inv_mass:
            w = _local(kb, ("inv_m", "w_i", "wi"), f"{inv_mass}[{i}]", F32)
            if _chance(kb, 0.4):  # pinned particles (zero inverse mass) do not move
                with kb.block(f"if {w} == 0.0:"):
                    kb.emit("return")
            terms.append(f"{force}[{i}] * {w}")
        else:
            terms.append(f"{force}[{i}] / {knobs.get('mass', 0.1, 2.0)}")
    if _chance(kb, 0.25):
        terms.append(f"{vel} * (-{knobs.get('drag', 0.01, 0.5)})")
    if _chance(kb, 0.2):  # a synthesized external field (wind, vortex...) of position and velocity
        field = add_helper(kb, ex, [V3, V3], V3, depth=_depth(kb, 1, 2), callable_from_kernel=False)
        terms.append(f"{field}({pos}, {vel})")
    if not terms:
        terms.append("wp.vec3(0.0, -9.8, 0.0)")
    a = _local(kb, ("a", "acc", "accel"), " + ".join(terms), V3)

    damping = rng.choice(("none", "none", "scale", "exp", "linear")) if _chance(kb, 0.5) else "none"

    def damp() -> None:
        if damping == "scale":
            kb.emit(f"{vel} = {vel} * {knobs.get('damping', 0.9, 0.999)}")
        elif damping == "exp":
            kb.emit(f"{vel} = {vel} * wp.exp(-{knobs.get('drag_coeff', 0.1, 2.0)} * {dt})")
        elif damping == "linear":
            kb.emit(f"{vel} = {vel} * (1.0 - {knobs.get('damping', 0.01, 0.1)} * {dt})")

    if scheme == "semi_implicit":
        kb.emit(f"{vel} = {vel} + {a} * {dt}")
        damp()
        kb.emit(f"{pos} = {pos} + {vel} * {dt}")
    elif scheme == "explicit":
        kb.emit(f"{pos} = {pos} + {vel} * {dt}")
        kb.emit(f"{vel} = {vel} + {a} * {dt}")
        damp()
    elif scheme == "leapfrog":
        half = _local(kb, ("v_half", "vh"), f"{vel} + {a} * (0.5 * {dt})", V3)
        kb.emit(f"{pos} = {pos} + {half} * {dt}")
        kb.emit(f"{vel} = {half} + {a} * (0.5 * {dt})")
        damp()
    else:
        assert prev is not None
        xp = _local(kb, ("x_last", "xp"), f"{prev}[{i}]", V3)
        if damping != "none":
            keep = knobs.get("damping", 0.9, 0.999)
            xn = _local(kb, ("x_next", "xn"), f"{pos} + ({pos} - {xp}) * {keep} + {a} * ({dt} * {dt})", V3)
        else:
            xn = _local(kb, ("x_next", "xn"), f"{pos} * 2.0 - {xp} + {a} * ({dt} * {dt})", V3)
        kb.emit(f"{vel} = ({xn} - {pos}) / {dt}")
        kb.emit(f"{prev}[{i}] = {pos}")
        kb.emit(f"{pos} = {xn}")

    if _chance(kb, 0.3):  # cap the speed so a bad step cannot explode the simulation
        max_speed = knobs.get("max_speed", 5.0, 50.0)
        speed = _local(kb, ("speed", "vmag"), f"wp.length({vel})", F32)
        with kb.block(f"if {speed} > {max_speed}:"):
            kb.emit(f"{vel} = {vel} * ({max_speed} / {speed})")

    shapes = rng.sample(("ground", "plane", "spheres", "sphere", "box"), _count(kb, 0, 2))
    if shapes:
        restitution = knobs.get("restitution", 0.1, 0.9)
        friction = knobs.get("friction", 0.0, 0.5) if rng.random() < 0.6 and shapes != ["box"] else None
    response: dict[str, str] = {}
    for shape in shapes:
        if shape == "ground":
            ground = knobs.get("ground", -1.0, 0.0)
            with kb.block(f"if {pos}[1] < {ground}:"):
                kb.emit(f"{pos}[1] = {ground}")
                with kb.block(f"if {vel}[1] < 0.0:"):
                    kb.emit(f"{vel}[1] = -{vel}[1] * {restitution}")
                    if friction:
                        for axis in (0, 2):
                            kb.emit(f"{vel}[{axis}] = {vel}[{axis}] * (1.0 - {friction})")
        elif shape == "plane":
            if rng.random() < 0.5:
                plane = kb.scalar_param(rng.choice(("plane", "ground_plane")), "wp.vec4").name
                n = _local(kb, ("n", "normal"), f"wp.vec3({plane}[0], {plane}[1], {plane}[2])", V3)
                d = _local(kb, ("d", "dist", "c"), f"wp.dot({pos}, {n}) + {plane}[3]", F32)
            else:
                n = knobs.vec3("plane_normal", f"wp.normalize({_vec3_lit(rng, -0.3, 1.0)})")
                d = _local(kb, ("d", "dist", "c"), f"wp.dot({pos}, {n}) - {knobs.get('plane_offset', -1.0, 1.0)}", F32)
            margin = knobs.get("particle_radius", 0.01, 0.1) if rng.random() < 0.5 else "0.0"
            with kb.block(f"if {d} < {margin}:"):
                kb.emit(f"{pos} = {pos} + {n} * ({margin} - {d})" if margin != "0.0" else f"{pos} = {pos} - {n} * {d}")
                _velocity_response(kb, response, vel, n, restitution, friction)
        elif shape in ("spheres", "sphere"):
            radius_pad = knobs.get("particle_radius", 0.01, 0.1) if rng.random() < 0.4 else ""
            with contextlib.ExitStack() as loop:
                if shape == "spheres":
                    centers = kb.array_param(rng.choice(("sphere_centers", "obstacles", "centers")), V3).name
                    radii = kb.array_param(rng.choice(("sphere_radii", "radii")), F32).name if rng.random() < 0.6 \
                        else ""
                    bound = f"{centers}.shape[0]" if rng.random() < 0.6 else kb.scalar_param("num_spheres", I32).name
                    s = loop.enter_context(kb.for_range("s", bound)).name
                    c = _local(kb, ("c", "center"), f"{centers}[{s}]", V3)
                    r_expr = f"{radii}[{s}]" if radii else knobs.get("sphere_radius", 0.2, 1.0)
                else:
                    c = knobs.vec3("sphere_center", _vec3_lit(rng, -1.0, 1.0))
                    r_expr = knobs.get("sphere_radius", 0.2, 1.0)
                r = _local(kb, ("r", "rad", "min_dist"), f"{r_expr} + {radius_pad}" if radius_pad else r_expr, F32)
                delta = _local(kb, ("delta", "offset", "dx"), f"{pos} - {c}", V3)
                dist = _local(kb, ("dist", "len_d", "l"), f"wp.length({delta})", F32)
                with kb.block(f"if {dist} < {r} and {dist} > 1.0e-6:"):
                    n = _local(kb, ("n", "normal"), f"{delta} / {dist}", V3)
                    kb.emit(f"{pos} = {c} + {n} * {r}")
                    _velocity_response(kb, response, vel, n, restitution, friction)
        else:  # box bounds
            lo = knobs.vec3("bounds_lo", _vec3_lit(rng, -2.0, -0.5))
            hi = knobs.vec3("bounds_hi", _vec3_lit(rng, 0.5, 2.0))
            style = rng.choice(("loop", "unrolled", "clamp"))
            if style == "clamp":
                clamped = _local(kb, ("clamped", "x_box"), f"wp.min(wp.max({pos}, {lo}), {hi})", V3)
                kb.emit(f"{vel} = {vel} + ({clamped} - {pos}) / {dt}")
                kb.emit(f"{pos} = {clamped}")
            else:
                with contextlib.ExitStack() as loop:
                    axes = [loop.enter_context(kb.for_range("axis", "3")).name] if style == "loop" else ["0", "1", "2"]
                    for ax in axes:
                        with kb.block(f"if {pos}[{ax}] < {lo}[{ax}]:"):
                            kb.emit(f"{pos}[{ax}] = {lo}[{ax}]")
                            kb.emit(f"{vel}[{ax}] = -{vel}[{ax}] * {restitution}")
                        with kb.block(f"elif {pos}[{ax}] > {hi}[{ax}]:"):
                            kb.emit(f"{pos}[{ax}] = {hi}[{ax}]")
                            kb.emit(f"{vel}[{ax}] = -{vel}[{ax}] * {restitution}")

    kb.emit(f"{outs[0]}[{i}] = {pos}")
    kb.emit(f"{outs[1]}[{i}] = {vel}")
    if _chance(kb, 0.2):  # a diagnostic the host reads back (energy, fastest particle)
        diag = kb.array_param(rng.choice(("kinetic_energy", "max_speed_out", "stats")), F32).name
        if rng.random() < 0.5:
            ke = f"0.5 * wp.dot({vel}, {vel})"
            ke = f"{ke} / wp.max({inv_mass}[{i}], 1.0e-6)" if inv_mass else f"{ke} * {knobs.get('mass', 0.1, 2.0)}"
            kb.emit(f"wp.atomic_add({diag}, 0, {ke})")
        else:
            kb.emit(f"wp.atomic_max({diag}, 0, wp.length({vel}))")
    return knobs.render()



# ------------------------------------------------------------------------------- springs
def _element_indices(kb: KernelBuilder, e: str, arr: str, style: str, n: int) -> list[str]:
    """Load the ``n`` vertex indices of element ``e`` from a flat, vector or 2-D index array."""
    rng = kb.rng
    scheme = rng.choice((("i", "j", "k", "l"), ("i0", "i1", "i2", "i3"), ("a", "b", "c", "d")))
    if style == "vec":
        ids = _local(kb, ("ids", "idx", "element"), f"{arr}[{e}]", f"wp.vec{n}i")
        return [kb.let(scheme[k], f"{ids}[{k}]", I32).name for k in range(n)]
    if style == "2d":
        return [kb.let(scheme[k], f"{arr}[{e}, {k}]", I32).name for k in range(n)]
    return [kb.let(scheme[k], f"{arr}[{e} * {n} + {k}]" if k else f"{arr}[{e} * {n}]", I32).name for k in range(n)]


@contextlib.contextmanager
def _elements(kb: KernelBuilder, bases: tuple[str, ...], count: str) -> Iterator[str]:
    """One element per thread, or (sometimes, likelier at high levels) a grid-stride loop over them.

    In the loop form an early ``return`` of the per-thread body becomes ``continue``.
    """
    if not _chance(kb, 0.15):
        yield _tid1(kb, *bases)
        return
    tid = _tid1(kb, "tid", "thread", guard=False)
    stride = kb.scalar_param(kb.rng.choice(("num_threads", "stride", "grid_size")), I32).name
    with kb.for_range(kb.rng.choice(bases[1:] or bases), tid, count, stride) as e:
        body = len(kb.lines)
        yield e.name
    kb.lines[body:] = [line.replace("return", "continue") if line.strip() == "return" else line
                       for line in kb.lines[body:]]


def _index_param(kb: KernelBuilder, bases: tuple[str, ...], style: str, n: int) -> str:
    dtype = {"flat": I32, "2d": I32, "vec": f"wp.vec{n}i"}[style]
    return kb.array_param(kb.rng.choice(bases), dtype, 2 if style == "2d" else 1).name


def _per_element(kb: KernelBuilder, knobs: _Knobs, e: str, bases: tuple[str, ...], knob: str,
                 lo: float, hi: float, p_array: float = 0.5) -> str:
    """A per-element material value read from an array, or one constant for all elements."""
    if kb.rng.random() < p_array:
        arr = kb.array_param(kb.rng.choice(bases), F32).name
        return f"{arr}[{e}]"
    return knobs.get(knob, lo, hi)


def _scatter(kb: KernelBuilder, f: str, index: str, force: str, sign: int) -> None:
    """Accumulate a nodal force; elements share vertices, so the add must be atomic."""
    if sign > 0:
        kb.emit(f"wp.atomic_add({f}, {index}, {force})")
    elif kb.rng.random() < 0.5:
        kb.emit(f"wp.atomic_sub({f}, {index}, {force})")
    else:
        kb.emit(f"wp.atomic_add({f}, {index}, -{force})")


def springs(rng: random.Random, level: int = 3) -> KernelSource:
    # Longer variants (hinges, triangles) are likelier at high levels.
    variant = rng.choice(["stretch"] * (6 - level) + ["bending", "area"] * (1 + level // 2))
    names = {"stretch": ("eval_springs", "spring_forces", "compute_spring_forces", "eval_stretch_springs",
                         "eval_shear_springs", "cloth_spring_forces"),
             "bending": ("eval_bending", "bending_forces", "cloth_bending_forces", "eval_dihedral_springs"),
             "area": ("eval_triangle_area", "triangle_area_forces", "area_preservation_forces")}[variant]
    kb, ex = _begin(rng, level, "springs", names)
    knobs = _Knobs(kb)
    n = {"stretch": 2, "bending": 4, "area": 3}[variant]
    x = kb.array_param(rng.choice(("x", "particle_q", "positions")), V3).name
    damped = _chance(kb, 0.45)
    v = kb.array_param(rng.choice(("v", "particle_qd", "velocities")), V3).name if damped else None
    style = rng.choice(("flat", "vec", "2d"))
    idx_bases = {"stretch": ("spring_indices", "springs", "edges", "edge_indices"),
                 "bending": ("bending_indices", "hinges", "edge_bending"),
                 "area": ("tri_indices", "triangles", "indices")}[variant]
    idx = _index_param(kb, idx_bases, style, n)
    rest_pos = None
    if variant == "stretch" and rng.random() < 0.25:  # rest length measured from the rest shape
        rest_pos = kb.array_param(rng.choice(("x_rest", "rest_positions")), V3).name
    f = kb.array_param(rng.choice(("f", "forces", "particle_f")), V3).name
    count = f"{idx}.shape[0] // {n}" if style == "flat" else f"{idx}.shape[0]"
    with _elements(kb, ("tid", "e", "s"), count) as e:
        if _chance(kb, 0.2):  # torn or disabled elements are skipped
            active = kb.array_param(rng.choice(("active", "spring_active", "element_mask")), I32).name
            with kb.block(f"if {active}[{e}] == 0:"):
                kb.emit("return")
        ids = _element_indices(kb, e, idx, style, n)
        energy = kb.array_param(rng.choice(("energy", "potential")), F32).name if _chance(kb, 0.2) else None
        ke_bases = {"stretch": ("spring_stiffness", "stiffness"), "bending": ("bending_stiffness", "edge_ke"),
                    "area": ("area_stiffness", "tri_ke")}[variant]
        ke = _per_element(kb, knobs, e, ke_bases, "ke", 10.0, 1000.0, 0.4)
        kd = _per_element(kb, knobs, e, ("spring_damping", "damping"), "kd", 0.01, 5.0, 0.4) if damped else None
        if variant == "stretch":
            c = _stretch_spring(kb, ex, knobs, e, ids, x, v, rest_pos, f, ke, kd, energy)
        elif variant == "bending":
            c = _bending_hinge(kb, knobs, e, ids, x, v, f, ke, kd, energy)
        else:
            c = _triangle_area(kb, knobs, e, ids, x, v, f, ke, kd, energy)
        if c and _chance(kb, 0.25):  # per-element strain for visualization or tearing on the host
            out = kb.array_param(rng.choice(("strain", "element_strain", "constraint_error")), F32).name
            kb.emit(f"{out}[{e}] = {c}" if rng.random() < 0.5 else f"{out}[{e}] = wp.abs({c})")
    return knobs.render()


def _stretch_spring(kb: KernelBuilder, ex: ExprGen, knobs: _Knobs, e: str, ids: list[str], x: str, v: str | None,
                    rest_pos: str | None, f: str, ke: str, kd: str | None, energy: str | None) -> str:
    """Two-point spring; returns the name of its constraint value (or "" when a helper hides it)."""
    rng = kb.rng
    i, j = ids
    if rest_pos:
        rest = _local(kb, ("rest", "l0"), f"wp.length({rest_pos}[{j}] - {rest_pos}[{i}])", F32)
    else:
        rest = _per_element(kb, knobs, e, ("spring_rest_length", "rest_lengths", "rest"), "rest_length", 0.05, 1.0, 0.7)
    if rng.random() < 0.3 and energy is None:
        # The whole law in a helper, as cloth codes often factor it.
        vparams = ", vi: wp.vec3, vj: wp.vec3, kd: float" if v else ""
        body = ["d = xj - xi", "l = wp.length(d)", "if l < 1.0e-6:", INDENT + "return wp.vec3(0.0)",
                "n = d / l", "fs = ke * (l - rest)"]
        if v:
            body.append("fs = fs + kd * wp.dot(vj - vi, n)")
        body.append("return n * fs")
        h = _helper(kb, ("spring_force", "eval_spring", "hooke_force"),
                    f"xi: wp.vec3, xj: wp.vec3{vparams}, rest: float, ke: float", body)
        args = f"{x}[{i}], {x}[{j}]" + (f", {v}[{i}], {v}[{j}], {kd}" if v else "") + f", {rest}, {ke}"
        force = _local(kb, ("fij", "force", "f_s"), f"{h}({args})", V3)
        _scatter(kb, f, i, force, +1)
        _scatter(kb, f, j, force, -1)
        return ""
    ni, nj = rng.choice((("xi", "xj"), ("p_i", "p_j"), ("x_i", "x_j")))
    xi = kb.let(ni, f"{x}[{i}]", V3).name
    xj = kb.let(nj, f"{x}[{j}]", V3).name
    d = _local(kb, ("d", "xij", "delta"), f"{xj} - {xi}", V3)
    guard = rng.choice(("return", "max", "max"))
    if guard == "return":
        length = _local(kb, ("l", "length", "dist"), f"wp.length({d})", F32)
        with kb.block(f"if {length} < 1.0e-6:"):
            kb.emit("return")
    else:
        length = _local(kb, ("l", "length", "dist"), f"wp.max(wp.length({d}), 1.0e-6)", F32)
    direction = _local(kb, ("dir_ij", "n", "d_hat"), f"{d} / {length}", V3)
    laws = ["hooke", "hooke", "log", "strain_limit", "tension_only", "cubic"] + ["modulated"] * (kb.complexity - 1)
    law = rng.choice(laws)
    c = _local(kb, ("c", "stretch", "dl"), f"{length} - {rest}", F32)
    if law == "hooke":
        fs = _local(kb, ("fs", "f_mag", "magnitude"), f"{ke} * {c}", F32)
    elif law == "log":
        fs = _local(kb, ("fs", "f_mag", "magnitude"), f"{ke} * wp.log({length} / {rest})", F32)
    elif law == "strain_limit":
        limit = knobs.get("max_strain", 0.05, 0.3)
        fs = _local(kb, ("fs", "f_mag"), f"{ke} * wp.clamp({c}, -{limit} * {rest}, {limit} * {rest})", F32)
    elif law == "tension_only":  # cloth resists stretching, not compression
        fs = _local(kb, ("fs", "f_mag"), f"{ke} * wp.max({c}, 0.0)", F32)
    elif law == "cubic":
        fs = _local(kb, ("fs", "f_mag"), f"{ke} * {c} + {knobs.get('ke_cubic', 1.0, 100.0)} * {c} * {c} * {c}", F32)
    else:  # stiffness modulated by a synthesized function of the strain
        kb.let(rng.choice(("strain", "eps")), f"{c} / {rest}", F32)  # read by the synthesized modulation
        fs = _local(kb, ("fs", "f_mag"), f"{ke} * {c} * (1.0 + wp.abs({ex.expr_reading(F32, _depth(kb, 1, 2))}))",
                    F32)
    if v and kd:
        vrel = _local(kb, ("vrel", "vij", "dv"), f"{v}[{j}] - {v}[{i}]", V3)
        kb.emit(f"{fs} = {fs} + {kd} * wp.dot({vrel}, {direction})")
    force = _local(kb, ("fij", "force", "f_s"), f"{direction} * {fs}", V3)
    _scatter(kb, f, i, force, +1)
    _scatter(kb, f, j, force, -1)
    if energy:
        kb.emit(f"wp.atomic_add({energy}, 0, 0.5 * {ke} * {c} * {c})")
    return c


def _bending_hinge(kb: KernelBuilder, knobs: _Knobs, e: str, ids: list[str], x: str, v: str | None, f: str,
                   ke: str, kd: str | None, energy: str | None) -> str:
    """Dihedral-angle bending between two triangles (x0, x2, x3) and (x1, x3, x2) sharing edge x2-x3."""
    rng = kb.rng
    prefix = rng.choice(("x", "p"))
    p = [kb.let(f"{prefix}{k}", f"{x}[{ids[k]}]", V3).name for k in range(4)]
    n1 = _local(kb, ("n1", "normal1"), f"wp.cross({p[2]} - {p[0]}, {p[3]} - {p[0]})", V3)
    n2 = _local(kb, ("n2", "normal2"), f"wp.cross({p[3]} - {p[1]}, {p[2]} - {p[1]})", V3)
    edge = _local(kb, ("e", "edge", "hinge"), f"{p[3]} - {p[2]}", V3)
    n1_sq = _local(kb, ("n1_len_sq", "n1_sq"), f"wp.dot({n1}, {n1})", F32)
    n2_sq = _local(kb, ("n2_len_sq", "n2_sq"), f"wp.dot({n2}, {n2})", F32)
    e_len = _local(kb, ("e_len", "edge_len"), f"wp.length({edge})", F32)
    with kb.block(f"if {n1_sq} < 1.0e-12 or {n2_sq} < 1.0e-12 or {e_len} < 1.0e-6:"):
        kb.emit("return")
    n1u = _local(kb, ("n1_hat", "u1"), f"{n1} / wp.sqrt({n1_sq})", V3)
    n2u = _local(kb, ("n2_hat", "u2"), f"{n2} / wp.sqrt({n2_sq})", V3)
    cos_t = _local(kb, ("cos_theta", "c_theta"), f"wp.dot({n1u}, {n2u})", F32)
    if rng.random() < 0.6:
        sin_t = _local(kb, ("sin_theta", "s_theta"), f"wp.dot(wp.cross({n1u}, {n2u}), {edge} / {e_len})", F32)
        theta = _local(kb, ("theta", "angle"), f"wp.atan2({sin_t}, {cos_t})", F32)
    else:
        theta = _local(kb, ("theta", "angle"), f"wp.acos(wp.clamp({cos_t}, -1.0, 1.0))", F32)
    rest = _per_element(kb, knobs, e, ("rest_angle", "rest_angles", "bend_rest"), "rest_angle", -0.5, 0.5, 0.5)
    c = _local(kb, ("c", "dtheta"), f"{theta} - {rest}", F32)
    d0 = _local(kb, ("d0", "grad0"), f"{n1} * ({e_len} / {n1_sq})", V3)
    d1 = _local(kb, ("d1", "grad1"), f"{n2} * ({e_len} / {n2_sq})", V3)
    d2 = _local(kb, ("d2", "grad2"), f"{n1} * (wp.dot({p[0]} - {p[3]}, {edge}) / ({e_len} * {n1_sq})) + "
                f"{n2} * (wp.dot({p[1]} - {p[3]}, {edge}) / ({e_len} * {n2_sq}))", V3)
    d3 = _local(kb, ("d3", "grad3"), f"-{d0} - {d1} - {d2}", V3)
    scale = _local(kb, ("f_mag", "fs", "strength"), f"-{ke} * {c}", F32)
    if rng.random() < 0.4:  # soften the hinge response with the edge length
        kb.emit(f"{scale} = {scale} * {e_len}")
    if v and kd:  # damp the angular rate: d(theta)/dt = sum of gradient . velocity
        rate = _local(kb, ("dtheta_dt", "c_dot"),
                      " + ".join(f"wp.dot({d}, {v}[{ids[k]}])" for k, d in enumerate((d0, d1, d2, d3))), F32)
        kb.emit(f"{scale} = {scale} - {kd} * {rate}")
    for k, d in enumerate((d0, d1, d2, d3)):
        _scatter(kb, f, ids[k], f"{d} * {scale}", +1)
    if energy:
        kb.emit(f"wp.atomic_add({energy}, 0, 0.5 * {ke} * {c} * {c})")
    return c


def _triangle_area(kb: KernelBuilder, knobs: _Knobs, e: str, ids: list[str], x: str, v: str | None, f: str,
                   ke: str, kd: str | None, energy: str | None) -> str:
    """Area-preserving triangle force: pulls the area back to its rest value along the area gradient."""
    rng = kb.rng
    prefix = rng.choice(("x", "p"))
    p = [kb.let(f"{prefix}{k}", f"{x}[{ids[k]}]", V3).name for k in range(3)]
    e1 = _local(kb, ("e1", "x10"), f"{p[1]} - {p[0]}", V3)
    e2 = _local(kb, ("e2", "x20"), f"{p[2]} - {p[0]}", V3)
    nrm = _local(kb, ("n", "cr"), f"wp.cross({e1}, {e2})", V3)
    area = _local(kb, ("area", "a"), f"0.5 * wp.length({nrm})", F32)
    with kb.block(f"if {area} < 1.0e-9:"):
        kb.emit("return")
    nh = _local(kb, ("n_hat", "nu"), f"{nrm} / (2.0 * {area})", V3)
    rest = _per_element(kb, knobs, e, ("rest_area", "tri_areas", "area0"), "rest_area", 0.001, 0.1, 0.6)
    c = _local(kb, ("c", "da"), f"{area} - {rest}" if rng.random() < 0.6 else f"{area} / {rest} - 1.0", F32)
    g1 = _local(kb, ("g1", "grad1"), f"wp.cross({e2}, {nh}) * 0.5", V3)
    g2 = _local(kb, ("g2", "grad2"), f"wp.cross({nh}, {e1}) * 0.5", V3)
    g0 = _local(kb, ("g0", "grad0"), f"-({g1} + {g2})", V3)
    fm = _local(kb, ("f_mag", "lam"), f"-{ke} * {c}", F32)
    if v and kd:
        cdot = _local(kb, ("c_dot", "rate"),
                      " + ".join(f"wp.dot({g}, {v}[{ids[k]}])" for k, g in enumerate((g0, g1, g2))), F32)
        kb.emit(f"{fm} = {fm} - {kd} * {cdot}")
    for k, g in enumerate((g0, g1, g2)):
        _scatter(kb, f, ids[k], f"{g} * {fm}", +1)
    if energy:
        kb.emit(f"wp.atomic_add({energy}, 0, 0.5 * {ke} * {c} * {c})")
    return c



# ------------------------------------------------------------------------------- sph
def _sph_kernels(kb: KernelBuilder, style: str, h: str, needed: set[str]) -> dict[str, Callable[[str, str], str]]:
    """Smoothing kernels W, dW/dr and the viscosity Laplacian as call builders: ``(r, r2) -> expr``.

    ``style`` is "poly6" (Müller et al. poly6/spiky/viscosity kernels, as ``@wp.func`` helpers or
    inline with normalization coefficients computed once per thread) or "cubic" (Monaghan's
    cubic spline, always helpers since it branches). Only the kernels in ``needed`` are defined.
    """
    rng = kb.rng
    out: dict[str, Callable[[str, str], str]] = {}
    if style == "cubic":
        if "w" in needed:
            w = _helper(kb, ("cubic_kernel", "w_cubic", "spline_kernel"), "r: float, h: float",
                        ["q = r / h", "sigma = 8.0 / (wp.pi * h * h * h)", "if q <= 0.5:",
                         INDENT + "return sigma * (6.0 * (q * q * q - q * q) + 1.0)", "if q <= 1.0:",
                         INDENT + "t = 1.0 - q", INDENT + "return sigma * 2.0 * t * t * t", "return 0.0"])
            out["w"] = lambda r, r2: f"{w}({r}, {h})"
        if needed & {"grad", "lap"}:
            grad = _helper(kb, ("cubic_grad", "dw_cubic", "spline_grad"), "r: float, h: float",
                           ["q = r / h", "sigma = 48.0 / (wp.pi * h * h * h * h)", "if q <= 0.5:",
                            INDENT + "return sigma * q * (3.0 * q - 2.0)", "if q <= 1.0:",
                            INDENT + "t = 1.0 - q", INDENT + "return -sigma * t * t", "return 0.0"])
            out["grad"] = lambda r, r2: f"{grad}({r}, {h})"
            out["lap"] = lambda r, r2: f"-{grad}({r}, {h}) / wp.max({r}, 1.0e-6)"
        return out
    if rng.random() < 0.6:
        if "w" in needed:
            poly6 = _helper(kb, ("poly6", "w_poly6", "kernel_poly6"), "r2: float, h: float",
                            ["hr = h * h - r2", "return 315.0 / (64.0 * wp.pi * wp.pow(h, 9.0)) * hr * hr * hr"])
            out["w"] = lambda r, r2: f"{poly6}({r2}, {h})"
        if "grad" in needed:
            spiky = _helper(kb, ("spiky_grad", "grad_spiky", "dw_spiky"), "r: float, h: float",
                            ["hr = h - r", "return -45.0 / (wp.pi * wp.pow(h, 6.0)) * hr * hr"])
            out["grad"] = lambda r, r2: f"{spiky}({r}, {h})"
        if "lap" in needed:
            lap = _helper(kb, ("visc_laplacian", "lap_viscosity", "w_visc_lap"), "r: float, h: float",
                          ["return 45.0 / (wp.pi * wp.pow(h, 6.0)) * (h - r)"])
            out["lap"] = lambda r, r2: f"{lap}({r}, {h})"
        return out
    coeff: dict[str, str] = {}
    for key, bases, value in (("w", ("poly6_coeff", "w_norm"), f"315.0 / (64.0 * wp.pi * wp.pow({h}, 9.0))"),
                              ("grad", ("spiky_coeff", "grad_norm"), f"-45.0 / (wp.pi * wp.pow({h}, 6.0))"),
                              ("lap", ("visc_coeff", "lap_norm"), f"45.0 / (wp.pi * wp.pow({h}, 6.0))")):
        if key in needed:
            coeff[key] = _local(kb, bases, value, F32)
    out["w"] = lambda r, r2: f"{coeff['w']} * ({h} * {h} - {r2}) * ({h} * {h} - {r2}) * ({h} * {h} - {r2})"
    out["grad"] = lambda r, r2: f"{coeff['grad']} * ({h} - {r}) * ({h} - {r})"
    out["lap"] = lambda r, r2: f"{coeff['lap']} * ({h} - {r})"
    return out


def sph(rng: random.Random, level: int = 3) -> KernelSource:
    quantity = rng.choice(["density", "density", "pressure", "viscosity", "xsph", "count"] + ["forces"] * level)
    names = {"density": ("compute_density", "sph_density", "solve_density"),
             "pressure": ("compute_pressure_force", "sph_pressure_forces", "apply_pressure"),
             "viscosity": ("compute_viscosity", "sph_viscosity_forces"),
             "xsph": ("xsph_smoothing", "smooth_velocities", "apply_xsph"),
             "count": ("count_neighbors", "neighbor_counts"),
             "forces": ("compute_forces", "sph_forces", "eval_fluid_forces")}[quantity]
    kb, _ = _begin(rng, level, "sph", names)
    knobs = _Knobs(kb)
    grid = kb.raw_param(rng.choice(("grid", "hash_grid", "grid_id")), "wp.uint64")
    x = kb.array_param(rng.choice(("x", "particle_x", "positions")), V3).name
    need_v = quantity in ("viscosity", "xsph", "forces")
    need_rho = quantity in ("pressure", "viscosity", "xsph", "forces")
    v = kb.array_param(rng.choice(("v", "particle_v", "velocities")), V3).name if need_v else None
    rho = kb.array_param(rng.choice(("rho", "density", "particle_rho")), F32).name if need_rho else None
    p_arr = None
    if quantity in ("pressure", "forces") and rng.random() < 0.6:
        p_arr = kb.array_param(rng.choice(("pressure", "particle_p")), F32).name
    out_t = {"density": F32, "count": I32, "xsph": V3}.get(quantity, V3)
    out_bases = {"density": ("rho_out", "density_out"), "count": ("counts", "num_neighbors"),
                 "xsph": ("v_out", "v_smoothed")}.get(quantity, ("f", "forces", "accel"))
    out = kb.array_param(rng.choice(out_bases), out_t).name
    h = knobs.get(rng.choice(("h", "smoothing_length", "radius")), 0.02, 0.2)
    mass = knobs.get(rng.choice(("mass", "particle_mass")), 0.001, 0.1) if quantity != "count" else ""
    needed = {"density": {"w"}, "pressure": {"grad"}, "viscosity": {"lap"}, "xsph": {"w"}, "count": set(),
              "forces": {"grad", "lap"}}[quantity]

    tid = _tid1(kb, "tid")
    kernels = _sph_kernels(kb, rng.choice(("poly6", "poly6", "cubic")), h, needed)
    i = kb.let("i", f"wp.hash_grid_point_id({grid}, {tid})", I32).name if rng.random() < 0.6 else tid
    xi = _local(kb, ("xi", "x_i", "p"), f"{x}[{i}]", V3)
    vi = _local(kb, ("vi", "v_i"), f"{v}[{i}]", V3) if v else None
    rho_i = _local(kb, ("rho_i", "density_i"), f"{rho}[{i}]", F32) if rho else None
    p_i = None
    if quantity in ("pressure", "forces"):
        if p_arr:
            p_i = _local(kb, ("p_i", "pressure_i"), f"{p_arr}[{i}]", F32)
        else:  # equation of state, inline
            k_eos = knobs.get("stiffness", 1.0, 50.0)
            rho0 = knobs.get("rest_density", 500.0, 1000.0)
            p_i = _local(kb, ("p_i", "pressure_i"), f"{k_eos} * ({rho_i} - {rho0})", F32)

    accs: dict[str, str] = {}
    if quantity in ("density", "count"):
        accs["sum"] = _acc(kb, ("rho_sum", "density_sum", "total") if quantity == "density" else ("count", "n"),
                           F32 if quantity == "density" else I32)
    if quantity in ("pressure", "forces"):
        accs["fp"] = _acc(kb, ("f_pressure", "fp", "grad_p"), V3)
    if quantity in ("viscosity", "forces"):
        accs["fv"] = _acc(kb, ("f_visc", "fv", "visc"), V3)
    if quantity == "xsph":
        accs["dv"] = _acc(kb, ("dv", "v_avg", "correction"), V3)

    # Two equivalent iteration forms: the query object as a Python iterator, or the explicit
    # hash_grid_query_next loop that writes the next neighbour into an int variable.
    query = _name(kb, "neighbors", "query", "q")
    kb.emit(f"{query} = wp.hash_grid_query({grid}, {xi}, {h})")
    if rng.random() < 0.65:
        index_name = kb.fresh(rng.choice(("index", "j", "neighbor")))
        loop = kb.block(f"for {index_name} in {query}:")
    else:
        index_name = _acc(kb, ("index", "j", "neighbor"), I32)
        loop = kb.block(f"while wp.hash_grid_query_next({query}, {index_name}):")
    skip_self = quantity not in ("density", "count") or rng.random() < 0.3
    with loop:
        kb.scope.add(Var(index_name, I32, mutable=False))
        guard = kb.block(f"if {index_name} != {i}:") if skip_self else contextlib.nullcontext()
        with guard:
            xj = _local(kb, ("xj", "x_j"), f"{x}[{index_name}]", V3)
            d = _local(kb, ("d", "xij", "r_ij"), f"{xi} - {xj}", V3)
            use_r2 = quantity in ("density", "count") and rng.random() < 0.6
            if use_r2:
                r2 = _local(kb, ("r2", "dist_sq"), f"wp.dot({d}, {d})", F32)
                test, r = f"{r2} < {h} * {h}", f"wp.sqrt({r2})"
            else:
                r = _local(kb, ("r", "dist"), f"wp.length({d})", F32)
                r2 = f"{r} * {r}"
                test = f"{r} < {h}" + (f" and {r} > 1.0e-6" if skip_self else "")
            with kb.block(f"if {test}:"):
                if quantity == "count":
                    kb.emit(f"{accs['sum']} += 1")
                elif quantity == "density":
                    kb.emit(f"{accs['sum']} += {mass} * {kernels['w'](r, r2)}")
                if "fp" in accs:
                    rho_j = _local(kb, ("rho_j", "density_j"), f"{rho}[{index_name}]", F32)
                    if p_arr:
                        p_j = f"{p_arr}[{index_name}]"
                    else:
                        p_j = _local(kb, ("p_j", "pressure_j"),
                                     f"{knobs.get('stiffness', 1.0, 50.0)} * ({rho_j} - "
                                     f"{knobs.get('rest_density', 500.0, 1000.0)})", F32)
                    grad = _local(kb, ("dw", "grad_w"), kernels["grad"](r, r2), F32)
                    if rng.random() < 0.5:  # symmetric form conserves momentum
                        coef = f"({p_i} / ({rho_i} * {rho_i}) + {p_j} / ({rho_j} * {rho_j}))"
                        kb.emit(f"{accs['fp']} -= {d} / {r} * ({mass} * {coef} * {grad})")
                    else:
                        kb.emit(f"{accs['fp']} -= {d} / {r} * ({mass} * ({p_i} + {p_j}) / (2.0 * {rho_j}) * {grad})")
                if "fv" in accs:
                    lap = kernels["lap"](r, r2)
                    vj = f"{v}[{index_name}]"
                    kb.emit(f"{accs['fv']} += ({vj} - {vi}) * ({mass} / {rho}[{index_name}] * {lap})")
                if "dv" in accs:
                    w = _local(kb, ("w", "weight"), kernels["w"](r, r2), F32)
                    rho_avg = f"0.5 * ({rho_i} + {rho}[{index_name}])"
                    kb.emit(f"{accs['dv']} += ({v}[{index_name}] - {vi}) * ({mass} * {w} / ({rho_avg}))")

    if quantity == "count":
        kb.emit(f"{out}[{i}] = {accs['sum']}")
    elif quantity == "density":
        value = accs["sum"]
        if not skip_self and rng.random() < 0.4:  # self contribution, computed once outside the loop
            kb.emit(f"{value} += {mass} * {kernels['w']('0.0', '0.0')}")
        kb.emit(f"{out}[{i}] = {value}" if rng.random() < 0.6 else f"{out}[{i}] = wp.max({value}, 1.0e-6)")
        if _chance(kb, 0.35):  # also evaluate the equation of state
            p_out = kb.array_param(rng.choice(("pressure", "p_out")), F32).name
            rho0 = knobs.get("rest_density", 500.0, 1000.0)
            k_eos = knobs.get("stiffness", 1.0, 50.0)
            if rng.random() < 0.5:
                kb.emit(f"{p_out}[{i}] = {k_eos} * wp.max({value} - {rho0}, 0.0)")
            else:  # Tait equation
                kb.emit(f"{p_out}[{i}] = {k_eos} * (wp.pow({value} / {rho0}, 7.0) - 1.0)")
    elif quantity == "xsph":
        eps = knobs.get("xsph_eps", 0.01, 0.5)
        kb.emit(f"{out}[{i}] = {vi} + {accs['dv']} * {eps}")
    else:
        terms = [accs[k] for k in ("fp", "fv") if k in accs]
        if "fv" in accs:
            terms[-1] = f"{accs['fv']} * {knobs.get('viscosity', 0.001, 0.5)}"
        total = " + ".join(terms)
        if rng.random() < 0.4 and rho_i:
            total = f"({total}) / {rho_i}" if len(terms) > 1 else f"{total} / {rho_i}"
        if quantity == "forces" and _chance(kb, 0.4):
            total = f"{total} + {knobs.vec3('gravity', f'wp.vec3(0.0, {_lit(rng, -9.81, -1.0)}, 0.0)')}"
        if rng.random() < 0.3:
            kb.emit(f"wp.atomic_add({out}, {i}, {total})")
        else:
            kb.emit(f"{out}[{i}] = {total}")
    return knobs.render()



# ------------------------------------------------------------------------------- mesh_query
_POINT_QUERIES = ("wp.mesh_query_point", "wp.mesh_query_point", "wp.mesh_query_point_no_sign",
                  "wp.mesh_query_point_sign_normal", "wp.mesh_query_point_sign_winding_number")


def mesh_query(rng: random.Random, level: int = 3) -> KernelSource:
    # Contacts and camera rays take more code: likelier at high levels.
    variant = rng.choice(["closest"] * 2 + ["rays"] * max(1, 4 - level) + ["collide", "raycast"] * (1 + level // 2))
    names = {"closest": ("mesh_sdf", "closest_point", "query_mesh_distance", "project_to_mesh", "eval_sdf"),
             "collide": ("collide_mesh", "particle_mesh_collision", "resolve_mesh_contacts"),
             "raycast": ("render_depth", "raycast_depth", "draw_depth_image", "cast_camera_rays"),
             "rays": ("trace_rays", "raycast_mesh", "ray_hits")}[variant]
    kb, _ = _begin(rng, level, "mesh_query", names)
    knobs = _Knobs(kb)
    mesh = kb.raw_param(rng.choice(("mesh", "mesh_id", "geo")), "wp.uint64")
    if variant == "raycast":
        _mesh_raycast_image(kb, knobs, mesh)
    elif variant == "rays":
        _mesh_rays(kb, knobs, mesh)
    else:
        _mesh_points(kb, knobs, mesh, variant == "collide")
    return knobs.render()


def _mesh_points(kb: KernelBuilder, knobs: _Knobs, mesh: str, collide: bool) -> None:
    """Closest point / signed distance per point, optionally turned into a particle contact."""
    rng = kb.rng
    x = kb.array_param(rng.choice(("points", "x", "particle_q", "query_points")), V3).name
    v = kb.array_param(rng.choice(("v", "particle_qd", "velocities")), V3).name if collide else None
    wanted: set[str] = set()
    if not collide:
        primary = rng.choice(("sdf", "sdf", "closest", "project", "normal"))
        extras = [k for k in ("sdf", "closest", "normal", "face", "inside") if k != primary]
        wanted = {primary, *rng.sample(extras, _count(kb, 0, 2))}
        if "project" in wanted:
            wanted.discard("closest")
    out_arrays = {}
    for key, bases, t in (("sdf", ("sdf", "distances", "phi"), F32), ("closest", ("closest", "closest_points"), V3),
                          ("normal", ("normals", "contact_normals"), V3), ("face", ("face_ids", "hit_faces"), I32),
                          ("inside", ("inside_count", "num_inside"), I32)):
        if key in wanted:
            out_arrays[key] = kb.array_param(rng.choice(bases), t).name
    fn = rng.choice(_POINT_QUERIES[:2] + _POINT_QUERIES[3:]) if collide or "inside" in wanted else rng.choice(
        _POINT_QUERIES)
    signed = fn != "wp.mesh_query_point_no_sign"
    max_dist = knobs.get("max_dist", 0.5, 10.0)
    i = _tid1(kb, "tid", "i")
    p = _local(kb, ("p", "x_i", "point"), f"{x}[{i}]", V3)
    q = _name(kb, "query", "q", "hit")
    kb.emit(f"{q} = {fn}({mesh}, {p}, {max_dist})")
    need_dist = collide or bool(wanted & {"sdf", "project"})
    need_n = collide or "normal" in wanted or ("project" in wanted and rng.random() < 0.5)
    face_normal = rng.random() < 0.5
    need_cp = need_dist or bool(wanted & {"closest", "project"}) or (need_n and not face_normal)
    with kb.block(f"if {q}.result:"):
        cp = delta = dist = n = ""
        if need_cp:
            cp = _local(kb, ("cp", "closest_pt", "x_surf"), f"wp.mesh_eval_position({mesh}, {q}.face, {q}.u, {q}.v)",
                        V3)
        if need_dist or (need_n and not face_normal):
            delta = _local(kb, ("delta", "d", "offset"), f"{p} - {cp}", V3)
        if need_dist:
            sign = f" * {q}.sign" if signed and (collide or rng.random() < 0.7) else ""
            dist = _local(kb, ("dist", "d_len", "phi"), f"wp.length({delta}){sign}", F32)
        if need_n:
            if face_normal:
                n = _local(kb, ("n", "normal"), f"wp.mesh_eval_face_normal({mesh}, {q}.face)", V3)
            else:  # the direction to the query point, flipped inside the surface
                sign = f" * {q}.sign" if signed else ""
                n = _local(kb, ("n", "normal"), f"wp.normalize({delta}){sign}", V3)
        if "sdf" in out_arrays:
            kb.emit(f"{out_arrays['sdf']}[{i}] = {dist}")
        if "closest" in out_arrays:
            kb.emit(f"{out_arrays['closest']}[{i}] = {cp}")
        if "normal" in out_arrays:
            kb.emit(f"{out_arrays['normal']}[{i}] = {n}")
        if "face" in out_arrays:
            kb.emit(f"{out_arrays['face']}[{i}] = {q}.face")
        if "inside" in out_arrays:
            with kb.block(f"if {q}.sign < 0.0:"):
                kb.emit(f"wp.atomic_add({out_arrays['inside']}, 0, 1)")
        if "project" in wanted:
            band = knobs.get("band", 0.01, 0.5)
            target = f"{cp} + {n} * {knobs.get('surface_offset', 0.0, 0.05)}" if n else cp
            with kb.block(f"if wp.abs({dist}) < {band}:"):
                kb.emit(f"{x}[{i}] = {target}")
        if collide:
            assert v is not None
            margin = knobs.get(rng.choice(("margin", "particle_radius", "thickness")), 0.005, 0.1)
            vel = _local(kb, ("vel", "vi", "u"), f"{v}[{i}]", V3)
            with kb.block(f"if {dist} < {margin}:"):
                kb.emit(f"{p} = {p} + {n} * ({margin} - {dist})")
                restitution = knobs.get("restitution", 0.0, 0.8)
                friction = knobs.get("friction", 0.0, 0.6) if _chance(kb, 0.5) else None
                if _chance(kb, 0.35):  # moving mesh: respond to the velocity relative to the surface
                    mv = _local(kb, ("v_mesh", "surface_vel"),
                                f"wp.mesh_eval_velocity({mesh}, {q}.face, {q}.u, {q}.v)", V3)
                    rel = _local(kb, ("v_rel", "rel"), f"{vel} - {mv}", V3)
                    _velocity_response(kb, {}, rel, n, restitution, friction)
                    kb.emit(f"{vel} = {rel} + {mv}")
                else:
                    _velocity_response(kb, {}, vel, n, restitution, friction)
                kb.emit(f"{x}[{i}] = {p}")
                kb.emit(f"{v}[{i}] = {vel}")
                if _chance(kb, 0.25):  # contact count for diagnostics
                    contacts = kb.array_param(rng.choice(("contact_count", "num_contacts")), I32).name
                    kb.emit(f"wp.atomic_add({contacts}, 0, 1)")
    if "sdf" in out_arrays and rng.random() < 0.6:  # nothing within max_dist: report the cap
        with kb.block("else:"):
            kb.emit(f"{out_arrays['sdf']}[{i}] = {max_dist}")


def _camera_ray(kb: KernelBuilder, knobs: _Knobs, px: str, py: str, width: str, height: str) -> tuple[str, str]:
    """Pinhole camera ray through pixel (px, py): returns (origin, direction) names."""
    rng = kb.rng
    sx = _local(kb, ("sx", "u", "ndc_x"), f"2.0 * (float({px}) + 0.5) / float({width}) - 1.0", F32)
    sy = _local(kb, ("sy", "v", "ndc_y"), f"1.0 - 2.0 * (float({py}) + 0.5) / float({height})", F32)
    aspect = _local(kb, ("aspect", "aspect_ratio"), f"float({width}) / float({height})", F32)
    if rng.random() < 0.5:
        tan_half = _local(kb, ("tan_half", "scale"), f"wp.tan({knobs.get('fov', 0.5, 1.5)} * 0.5)", F32)
    else:
        tan_half = knobs.get("tan_half_fov", 0.3, 1.0)
    local_dir = f"wp.normalize(wp.vec3({sx} * {aspect} * {tan_half}, {sy} * {tan_half}, -1.0))"
    mount = rng.choice(("position", "position", "quat", "transform"))
    if mount == "transform":
        cam = kb.scalar_param(rng.choice(("camera", "cam_pose", "view")), XFORM).name
        ro = _local(kb, ("ro", "origin"), f"wp.transform_point({cam}, wp.vec3(0.0, 0.0, 0.0))", V3)
        rd = _local(kb, ("rd", "ray_dir"), f"wp.transform_vector({cam}, {local_dir})", V3)
    else:
        ro = knobs.vec3("cam_pos", _vec3_lit(rng, -1.0, 1.0) if rng.random() < 0.3 else "wp.vec3(0.0, 1.0, 5.0)")
        rd = _local(kb, ("rd", "ray_dir"), local_dir, V3)
        if mount == "quat":
            rot = kb.scalar_param(rng.choice(("cam_rot", "camera_rotation")), QUAT).name
            kb.emit(f"{rd} = wp.quat_rotate({rot}, {rd})")
    return ro, rd


def _mesh_raycast_image(kb: KernelBuilder, knobs: _Knobs, mesh: str) -> None:
    rng = kb.rng
    two_d = rng.random() < 0.6
    depth = kb.array_param(rng.choice(("depth", "depth_image", "pixels")), F32, 2 if two_d else 1).name
    shade = kb.array_param(rng.choice(("color", "rgb", "shading")), V3, 2 if two_d else 1).name if _chance(
        kb, 0.35) else None
    if two_d:
        py, px = (v.name for v in kb.tid(2, ("y", "x")))
        width, height = f"{depth}.shape[1]", f"{depth}.shape[0]"
        if rng.random() < 0.5:
            width = _local(kb, ("width", "w"), width, I32)
            height = _local(kb, ("height", "h"), height, I32)
        pix = f"{py}, {px}"
    else:
        tid = _tid1(kb, "tid", "pixel")
        width = kb.scalar_param("width", I32).name
        height = kb.scalar_param("height", I32).name
        px = _local(kb, ("x", "px"), f"{tid} % {width}", I32)
        py = _local(kb, ("y", "py"), f"{tid} // {width}", I32)
        pix = tid
    ro, rd = _camera_ray(kb, knobs, px, py, width, height)
    max_t = knobs.get("max_depth", 10.0, 100.0)
    q = _name(kb, "query", "hit", "q")
    kb.emit(f"{q} = wp.mesh_query_ray({mesh}, {ro}, {rd}, {max_t})")
    with kb.block(f"if {q}.result:"):
        if rng.random() < 0.5:
            kb.emit(f"{depth}[{pix}] = {q}.t")
        else:  # z-depth along the viewing axis instead of distance along the ray
            kb.emit(f"{depth}[{pix}] = {q}.t * wp.abs({rd}[2])")
        if shade:
            n = _local(kb, ("n", "normal"), f"{q}.normal" if rng.random() < 0.5 else
                       f"wp.mesh_eval_face_normal({mesh}, {q}.face)", V3)
            light = knobs.vec3("light_dir", "wp.normalize(wp.vec3(0.3, 1.0, 0.5))")
            diffuse = _local(kb, ("diffuse", "lambert", "ndotl"), f"wp.max(wp.dot({n}, {light}), 0.0)", F32)
            if _chance(kb, 0.3):  # shadow ray from just above the hit point towards the light
                hit_p = _local(kb, ("hit_p", "x_hit"), f"{ro} + {rd} * {q}.t + {n} * 1.0e-3", V3)
                sq = _name(kb, "shadow", "occluder")
                kb.emit(f"{sq} = wp.mesh_query_ray({mesh}, {hit_p}, {light}, {max_t})")
                with kb.block(f"if {sq}.result:"):
                    kb.emit(f"{diffuse} = {diffuse} * {knobs.get('shadow_factor', 0.1, 0.5)}")
            if rng.random() < 0.5:
                kb.emit(f"{shade}[{pix}] = wp.vec3({diffuse})")
            else:
                albedo = knobs.vec3("albedo", _vec3_lit(rng, 0.2, 1.0))
                ambient = knobs.get("ambient", 0.05, 0.3)
                kb.emit(f"{shade}[{pix}] = {albedo} * ({ambient} + {diffuse})")
    with kb.block("else:"):
        kb.emit(f"{depth}[{pix}] = {rng.choice(('0.0', max_t))}")
        if shade:
            kb.emit(f"{shade}[{pix}] = wp.vec3(0.0)")


def _mesh_rays(kb: KernelBuilder, knobs: _Knobs, mesh: str) -> None:
    """Arbitrary rays from arrays: hit distance, hit point, face and barycentrics."""
    rng = kb.rng
    origins = kb.array_param(rng.choice(("ray_origins", "origins", "ro")), V3).name
    dirs = kb.array_param(rng.choice(("ray_dirs", "directions", "rd")), V3).name
    outs = rng.sample(("t", "point", "face", "bary", "count"), _count(kb, 1, 2))
    arrays = {}
    for key, bases, t in (("t", ("hit_t", "distances"), F32), ("point", ("hit_points", "points"), V3),
                          ("face", ("hit_face", "faces"), I32), ("bary", ("hit_uv", "barycentrics"), V2),
                          ("count", ("num_hits", "hit_count"), I32)):
        if key in outs:
            arrays[key] = kb.array_param(rng.choice(bases), t).name
    max_t = knobs.get("max_t", 1.0, 1000.0)
    i = _tid1(kb, "tid", "i", "ray")
    o = _local(kb, ("o", "origin"), f"{origins}[{i}]", V3)
    d = _local(kb, ("d", "ray_dir"), f"wp.normalize({dirs}[{i}])" if rng.random() < 0.6 else f"{dirs}[{i}]", V3)
    q = _name(kb, "query", "hit", "q")
    kb.emit(f"{q} = wp.mesh_query_ray({mesh}, {o}, {d}, {max_t})")
    with kb.block(f"if {q}.result:"):
        if "t" in arrays:
            kb.emit(f"{arrays['t']}[{i}] = {q}.t")
        if "point" in arrays:
            if rng.random() < 0.5:
                kb.emit(f"{arrays['point']}[{i}] = {o} + {d} * {q}.t")
            else:
                kb.emit(f"{arrays['point']}[{i}] = wp.mesh_eval_position({mesh}, {q}.face, {q}.u, {q}.v)")
        if "face" in arrays:
            kb.emit(f"{arrays['face']}[{i}] = {q}.face")
        if "bary" in arrays:
            kb.emit(f"{arrays['bary']}[{i}] = wp.vec2({q}.u, {q}.v)")
        if _chance(kb, 0.25):  # one mirror bounce: reflect about the hit normal and trace again
            bounce = kb.array_param(rng.choice(("bounce_t", "secondary_t")), F32).name
            hit_p = _local(kb, ("hit_p", "x_hit"), f"{o} + {d} * {q}.t", V3)
            refl = _local(kb, ("r", "reflected"), f"{d} - {q}.normal * (2.0 * wp.dot({d}, {q}.normal))", V3)
            q2 = _name(kb, "query2", "second", "bounce_hit")
            kb.emit(f"{q2} = wp.mesh_query_ray({mesh}, {hit_p} + {refl} * 1.0e-4, {refl}, {max_t})")
            kb.emit(f"{bounce}[{i}] = wp.where({q2}.result, {q2}.t, -1.0)")
        if "count" in arrays:
            if rng.random() < 0.4:  # front faces only
                with kb.block(f"if {q}.sign > 0.0:"):
                    kb.emit(f"wp.atomic_add({arrays['count']}, 0, 1)")
            else:
                kb.emit(f"wp.atomic_add({arrays['count']}, 0, 1)")
    if rng.random() < 0.5 and ("t" in arrays or "face" in arrays):
        with kb.block("else:"):
            if "t" in arrays:
                kb.emit(f"{arrays['t']}[{i}] = {max_t}")
            if "face" in arrays:
                kb.emit(f"{arrays['face']}[{i}] = -1")



# ------------------------------------------------------------------------------- bvh_query
def bvh_query(rng: random.Random, level: int = 3) -> KernelSource:
    variant = rng.choice(["count", "count", "pairs", "nearest"] + ["ray_nearest", "ray_count"] * (1 + level // 3))
    names = {"count": ("count_overlaps", "broadphase_count", "count_neighbors_bvh"),
             "pairs": ("find_overlaps", "broadphase_pairs", "collect_candidates"),
             "nearest": ("nearest_item", "closest_center", "find_nearest"),
             "ray_nearest": ("raycast_bvh", "trace_spheres", "ray_closest_hit"),
             "ray_count": ("count_ray_hits", "ray_candidates")}[variant]
    kb, _ = _begin(rng, level, "bvh_query", names)
    knobs = _Knobs(kb)
    bvh = kb.raw_param(rng.choice(("bvh", "bvh_id", "tree")), "wp.uint64")
    if variant.startswith("ray"):
        _bvh_rays(kb, knobs, bvh, variant == "ray_nearest")
    else:
        _bvh_boxes(kb, knobs, bvh, variant)
    return knobs.render()


def _item_test(kb: KernelBuilder, item: str, shape: str, arrays: dict[str, str], q: dict[str, str]) -> str:
    """Exact narrow-phase test after the BVH's conservative AABB test: a boolean expression."""
    rng = kb.rng
    if shape == "sphere":
        c, r = arrays["centers"], arrays["radii"]
        d = _local(kb, ("d", "delta"), f"{q['p']} - {c}[{item}]", V3)
        reach = f"{q['radius']} + {r}[{item}]" if "radius" in q else f"{r}[{item}]"
        if rng.random() < 0.5:
            return f"wp.length({d}) < {reach}"
        reach_name = _local(kb, ("reach", "r_sum"), reach, F32)
        return f"wp.dot({d}, {d}) < {reach_name} * {reach_name}"
    lo, hi = arrays["item_lower"], arrays["item_upper"]
    if "overlap" not in arrays:
        arrays["overlap"] = _helper(kb, ("aabb_overlap", "boxes_overlap", "overlaps"),
                                    "a_lo: wp.vec3, a_hi: wp.vec3, b_lo: wp.vec3, b_hi: wp.vec3",
                                    ["for k in range(3):",
                                     INDENT + "if a_hi[k] < b_lo[k] or b_hi[k] < a_lo[k]:",
                                     INDENT * 2 + "return False", "return True"]) if rng.random() < 0.6 else ""
    if arrays["overlap"]:
        return f"{arrays['overlap']}({q['lo']}, {q['hi']}, {lo}[{item}], {hi}[{item}])"
    lo_name, hi_name = rng.choice((("b_lo", "b_hi"), ("item_lo", "item_hi")))
    b_lo = kb.let(lo_name, f"{lo}[{item}]", V3).name
    b_hi = kb.let(hi_name, f"{hi}[{item}]", V3).name
    return " and ".join(f"{q['lo']}[{k}] <= {b_hi}[{k}] and {b_lo}[{k}] <= {q['hi']}[{k}]" for k in range(3))


def _bvh_boxes(kb: KernelBuilder, knobs: _Knobs, bvh: str, variant: str) -> None:
    rng = kb.rng
    from_points = rng.random() < 0.5 or variant == "nearest"
    arrays: dict[str, str] = {}
    if from_points:
        pts = kb.array_param(rng.choice(("points", "x", "query_points", "centers")), V3).name
    else:
        lo_base, hi_base = rng.choice((("lower", "upper"), ("query_lower", "query_upper"), ("box_lo", "box_hi")))
        lower = kb.array_param(lo_base, V3).name
        upper = kb.array_param(hi_base, V3).name
    shape = "none"
    if variant == "nearest":
        shape = rng.choice(("sphere", "point"))
    elif _chance(kb, 0.45):
        shape = "sphere" if from_points else "box"
    if shape in ("sphere", "point"):
        arrays["centers"] = pts if from_points and rng.random() < 0.5 else kb.array_param(
            rng.choice(("item_centers", "sphere_centers") if shape == "sphere" else ("item_points", "targets")),
            V3).name
        if shape == "sphere":
            arrays["radii"] = kb.array_param(rng.choice(("item_radii", "radii")), F32).name
    elif shape == "box":
        lo_base, hi_base = rng.choice((("item_lower", "item_upper"), ("bounds_lo", "bounds_hi")))
        arrays["item_lower"] = kb.array_param(lo_base, V3).name
        arrays["item_upper"] = kb.array_param(hi_base, V3).name
    if variant == "count":
        counts = kb.array_param(rng.choice(("counts", "num_overlaps", "neighbor_count")), I32).name
    elif variant == "pairs":
        style = rng.choice(("rows", "global"))
        if style == "rows":
            table = kb.array_param(rng.choice(("candidates", "neighbors", "overlaps")), I32, 2).name
        else:
            pairs = kb.array_param(rng.choice(("pairs", "contact_pairs")), "wp.vec2i").name
            pair_count = kb.array_param(rng.choice(("pair_count", "num_pairs")), I32).name
        counts = kb.array_param(rng.choice(("counts", "num_candidates")), I32).name if _chance(kb, 0.4) else ""
    else:
        nearest = kb.array_param(rng.choice(("nearest", "closest_index")), I32).name
        nearest_d = kb.array_param(rng.choice(("nearest_dist", "closest_dist")), F32).name if _chance(kb, 0.4) else ""
    i = _tid1(kb, "tid", "i")
    q: dict[str, str] = {}
    lo_name, hi_name = rng.choice((("lo", "hi"), ("lower_i", "upper_i"), ("box_min", "box_max")))
    if from_points:
        q["p"] = _local(kb, ("p", "x_i", "center"), f"{pts}[{i}]", V3)
        q["radius"] = knobs.get(rng.choice(("radius", "query_radius", "search_radius")), 0.01, 1.0)
        q["lo"] = kb.let(lo_name, f"{q['p']} - wp.vec3({q['radius']})", V3).name
        q["hi"] = kb.let(hi_name, f"{q['p']} + wp.vec3({q['radius']})", V3).name
    else:
        if _chance(kb, 0.3):  # inflate the query box by a contact margin
            margin = knobs.get(rng.choice(("margin", "contact_margin")), 0.001, 0.1)
            q["lo"] = kb.let(lo_name, f"{lower}[{i}] - wp.vec3({margin})", V3).name
            q["hi"] = kb.let(hi_name, f"{upper}[{i}] + wp.vec3({margin})", V3).name
        else:
            q["lo"] = kb.let(lo_name, f"{lower}[{i}]", V3).name
            q["hi"] = kb.let(hi_name, f"{upper}[{i}]", V3).name
        if shape == "sphere":
            q["p"] = _local(kb, ("center", "c"), f"({q['lo']} + {q['hi']}) * 0.5", V3)
    query = _name(kb, "query", "q")
    kb.emit(f"{query} = wp.bvh_query_aabb({bvh}, {q['lo']}, {q['hi']})")
    item = _acc(kb, ("item", "bounds_nr", "index"), I32)
    counted = variant == "count" or (variant == "pairs" and (style == "rows" or counts))
    count = _acc(kb, ("count", "n", "num"), I32) if counted else ""
    if variant == "nearest":
        best = _acc(kb, ("best", "best_index", "closest"), I32, "-1")
        best_d = _acc(kb, ("best_dist", "min_dist", "d_min"), F32, q["radius"])
    # The BVH is often built over the query points themselves: skip self, optionally same-group items.
    self_query = from_points and (rng.random() < 0.5 or arrays.get("centers") == pts)
    groups = kb.array_param(rng.choice(("groups", "collision_group")), I32).name if self_query and _chance(
        kb, 0.25) else ""
    cap = knobs.get("max_neighbors", 8, 64, I32) if counted and _chance(kb, 0.25) else ""
    item_hits = kb.array_param(rng.choice(("item_hits", "hits_per_item")), I32).name if variant == "count" and _chance(
        kb, 0.2) else ""
    with kb.block(f"while wp.bvh_query_next({query}, {item}):"):
        if self_query:
            test = f"{item} == {i}" + (f" or {groups}[{item}] == {groups}[{i}]" if groups else "")
            with kb.block(f"if {test}:"):
                kb.emit("continue")
        if variant == "nearest":
            surface = f" - {arrays['radii']}[{item}]" if shape == "sphere" else ""
            dist = _local(kb, ("dist", "d"), f"wp.length({q['p']} - {arrays['centers']}[{item}]){surface}", F32)
            with kb.block(f"if {dist} < {best_d}:"):
                kb.emit(f"{best_d} = {dist}")
                kb.emit(f"{best} = {item}")
            continue_body = False
        else:
            continue_body = True
        if continue_body:
            test = _item_test(kb, item, shape, arrays, q) if shape != "none" else ""
            with kb.block(f"if {test}:") if test else contextlib.nullcontext():
                if variant == "pairs":
                    if style == "rows":
                        with kb.block(f"if {count} < {table}.shape[1]:"):
                            kb.emit(f"{table}[{i}, {count}] = {item}")
                    else:
                        slot = _local(kb, ("slot", "k"), f"wp.atomic_add({pair_count}, 0, 1)", I32)
                        with kb.block(f"if {slot} < {pairs}.shape[0]:"):
                            kb.emit(f"{pairs}[{slot}] = wp.vec2i({i}, {item})")
                if item_hits:
                    kb.emit(f"wp.atomic_add({item_hits}, {item}, 1)")
                if count:
                    kb.emit(f"{count} += 1")
                if cap:
                    with kb.block(f"if {count} >= {cap}:"):
                        kb.emit("break")
    if variant == "count":
        kb.emit(f"{counts}[{i}] = {count}")
    elif variant == "pairs":
        if counts:
            kb.emit(f"{counts}[{i}] = {count}" if style == "global" else f"{counts}[{i}] = wp.min({count}, "
                    f"{table}.shape[1])")
        elif style == "rows":  # terminate the row so the host knows where it ends
            with kb.block(f"if {count} < {table}.shape[1]:"):
                kb.emit(f"{table}[{i}, {count}] = -1")
    else:
        kb.emit(f"{nearest}[{i}] = {best}")
        if nearest_d:
            kb.emit(f"{nearest_d}[{i}] = {best_d}")


def _bvh_rays(kb: KernelBuilder, knobs: _Knobs, bvh: str, nearest: bool) -> None:
    rng = kb.rng
    origins = kb.array_param(rng.choice(("ray_origins", "origins")), V3).name
    dirs = kb.array_param(rng.choice(("ray_dirs", "directions")), V3).name
    shape = rng.choice(("sphere", "box")) if nearest or _chance(kb, 0.4) else "none"
    if shape == "sphere":
        centers = kb.array_param(rng.choice(("centers", "sphere_centers")), V3).name
        radii = kb.array_param(rng.choice(("radii", "sphere_radii")), F32).name
    elif shape == "box":
        lo_base, hi_base = rng.choice((("item_lower", "item_upper"), ("bounds_lo", "bounds_hi")))
        lo_arr = kb.array_param(lo_base, V3).name
        hi_arr = kb.array_param(hi_base, V3).name
    if nearest:
        hit_index = kb.array_param(rng.choice(("hit_index", "closest_item")), I32).name
        hit_t = kb.array_param(rng.choice(("hit_t", "t_out")), F32).name if rng.random() < 0.6 else ""
    else:
        counts = kb.array_param(rng.choice(("hit_counts", "num_candidates")), I32).name
    i = _tid1(kb, "tid", "i", "ray")
    o = _local(kb, ("o", "origin"), f"{origins}[{i}]", V3)
    d = _local(kb, ("d", "ray_dir"), f"wp.normalize({dirs}[{i}])" if shape == "sphere" or rng.random() < 0.5 else
               f"{dirs}[{i}]", V3)
    intersect = ""
    if shape == "sphere" and rng.random() < 0.6:
        intersect = _helper(kb, ("ray_sphere", "intersect_sphere", "sphere_hit_t"),
                            "o: wp.vec3, d: wp.vec3, c: wp.vec3, r: float",
                            ["oc = o - c", "b = wp.dot(oc, d)", "cc = wp.dot(oc, oc) - r * r", "disc = b * b - cc",
                             "if disc < 0.0:", INDENT + "return -1.0", "return -b - wp.sqrt(disc)"])
    elif shape == "box":
        inv_d = _local(kb, ("inv_d", "inv_dir"), f"wp.cw_div(wp.vec3(1.0), {d})", V3)
    query = _name(kb, "query", "q")
    kb.emit(f"{query} = wp.bvh_query_ray({bvh}, {o}, {d})")
    item = _acc(kb, ("item", "bounds_nr", "index"), I32)
    if nearest:
        best = _acc(kb, ("best", "closest"), I32, "-1")
        t_min = _acc(kb, ("t_min", "t_best", "closest_t"), F32, knobs.get("max_t", 10.0, 1000.0))
    else:
        count = _acc(kb, ("count", "n"), I32)
    with kb.block(f"while wp.bvh_query_next({query}, {item}):"):
        if shape == "none":
            kb.emit(f"{count} += 1")
            t = ""
        elif shape == "sphere":
            if intersect:
                t = _local(kb, ("t", "t_hit"), f"{intersect}({o}, {d}, {centers}[{item}], {radii}[{item}])", F32)
            else:
                oc = _local(kb, ("oc", "rel"), f"{o} - {centers}[{item}]", V3)
                b = _local(kb, ("b", "half_b"), f"wp.dot({oc}, {d})", F32)
                disc = _local(kb, ("disc", "discriminant"),
                              f"{b} * {b} - wp.dot({oc}, {oc}) + {radii}[{item}] * {radii}[{item}]", F32)
                with kb.block(f"if {disc} < 0.0:"):
                    kb.emit("continue")
                t = _local(kb, ("t", "t_hit"), f"-{b} - wp.sqrt({disc})", F32)
        else:
            t0 = _local(kb, ("t0", "t_lo"), f"wp.cw_mul({lo_arr}[{item}] - {o}, {inv_d})", V3)
            t1 = _local(kb, ("t1", "t_hi"), f"wp.cw_mul({hi_arr}[{item}] - {o}, {inv_d})", V3)
            t_far = _local(kb, ("t_exit", "t_far"), f"wp.min(wp.max({t0}, {t1}))", F32)
            t = _local(kb, ("t_enter", "t_near"), f"wp.max(wp.min({t0}, {t1}))", F32)
            with kb.block(f"if {t} > {t_far} or {t_far} < 0.0:"):
                kb.emit("continue")
        if t and nearest:
            with kb.block(f"if {t} > 0.0 and {t} < {t_min}:"):
                kb.emit(f"{t_min} = {t}")
                kb.emit(f"{best} = {item}")
        elif t:
            with kb.block(f"if {t} > 0.0:"):
                kb.emit(f"{count} += 1")
    if nearest:
        kb.emit(f"{hit_index}[{i}] = {best}")
        if hit_t:
            kb.emit(f"{hit_t}[{i}] = {t_min}")
    else:
        kb.emit(f"{counts}[{i}] = {count}")



# ------------------------------------------------------------------------------- fem
def _lame(kb: KernelBuilder, knobs: _Knobs, e: str, damped: bool) -> tuple[str, str, str]:
    """Lamé parameters (mu, lambda) and a damping coefficient: constants, per-element material
    vectors, or converted from Young's modulus and Poisson's ratio."""
    rng = kb.rng
    style = rng.choice(("knobs", "knobs", "materials", "young"))
    if style == "materials":
        materials = kb.array_param(rng.choice(("materials", "tet_materials", "element_materials")), V3).name
        mat = _local(kb, ("mat", "material"), f"{materials}[{e}]", V3)
        return (_local(kb, ("k_mu", "mu"), f"{mat}[0]", F32), _local(kb, ("k_lambda", "lam"), f"{mat}[1]", F32),
                _local(kb, ("k_damp", "damping"), f"{mat}[2]", F32) if damped else "")
    if style == "young":
        young = knobs.get(rng.choice(("youngs_modulus", "E")), 1.0e3, 1.0e6)
        nu = knobs.get(rng.choice(("poisson_ratio", "nu")), 0.1, 0.45)
        mu = _local(kb, ("mu", "k_mu"), f"{young} / (2.0 * (1.0 + {nu}))", F32)
        lam = _local(kb, ("lam", "k_lambda"), f"{young} * {nu} / ((1.0 + {nu}) * (1.0 - 2.0 * {nu}))", F32)
        return mu, lam, knobs.get("k_damp", 0.0, 10.0) if damped else ""
    return (knobs.get("k_mu", 1.0e2, 1.0e5), knobs.get("k_lambda", 1.0e2, 1.0e5),
            knobs.get("k_damp", 0.0, 10.0) if damped else "")


def _stress(kb: KernelBuilder, model: str, F: str, mu: str, lam: str, dim: int) -> tuple[str, str]:
    """First Piola-Kirchhoff stress of ``model``; returns (P, J or "")."""
    rng = kb.rng
    mat = M33 if dim == 3 else M22
    ident = f"wp.identity(n={dim}, dtype=float)"
    if model == "neo_hookean":
        J = _local(kb, ("J", "det_F"), f"wp.determinant({F})", F32)
        if rng.random() < 0.5:  # keep log(J) finite for inverted elements
            kb.emit(f"{J} = wp.max({J}, 1.0e-6)")
        fit = _local(kb, ("F_inv_T", "FinvT"), f"wp.transpose(wp.inverse({F}))", mat)
        return _local(kb, ("P", "stress"), f"{mu} * ({F} - {fit}) + {lam} * wp.log({J}) * {fit}", mat), J
    if model == "stable_neo_hookean" and dim == 3:
        J = _local(kb, ("J", "det_F"), f"wp.determinant({F})", F32)
        ic = _local(kb, ("Ic", "I_c"), f"wp.ddot({F}, {F})", F32)
        alpha = _local(kb, ("alpha", "a"), f"1.0 + {mu} / {lam}", F32)
        col_name = rng.choice(("c{}", "F_col{}", "col{}"))
        cols = [kb.let(col_name.format(c), f"wp.vec3({F}[0, {c}], {F}[1, {c}], {F}[2, {c}])", V3).name
                for c in range(3)]
        djdf = _local(kb, ("dJdF", "grad_J"), f"wp.matrix_from_cols(wp.cross({cols[1]}, {cols[2]}), "
                      f"wp.cross({cols[2]}, {cols[0]}), wp.cross({cols[0]}, {cols[1]}))", mat)
        return _local(kb, ("P", "stress"), f"{F} * ({mu} * (1.0 - 1.0 / ({ic} + 1.0))) + {djdf} * ({lam} * ({J} - "
                      f"{alpha}))", mat), J
    if model == "corotated" and dim == 3:
        U = _local(kb, ("U",), f"{mat}()", mat)
        sigma = _local(kb, ("sigma", "s"), "wp.vec3()", V3)
        V = _local(kb, ("V",), f"{mat}()", mat)
        kb.emit(f"wp.svd3({F}, {U}, {sigma}, {V})")
        R = _local(kb, ("R", "rot"), f"{U} * wp.transpose({V})", mat)
        J = _local(kb, ("J", "det_F"), f"{sigma}[0] * {sigma}[1] * {sigma}[2]", F32)
        return _local(kb, ("P", "stress"), f"2.0 * {mu} * ({F} - {R}) + {lam} * ({J} - 1.0) * {J} * "
                      f"wp.transpose(wp.inverse({F}))", mat), J
    if model == "linear":
        eps = _local(kb, ("eps", "strain"), f"0.5 * ({F} + wp.transpose({F})) - {ident}", mat)
        return _local(kb, ("P", "sigma_lin"), f"2.0 * {mu} * {eps} + {lam} * wp.trace({eps}) * {ident}", mat), ""
    # St. Venant-Kirchhoff
    E = _local(kb, ("E", "green"), f"0.5 * (wp.transpose({F}) * {F} - {ident})", mat)
    S = _local(kb, ("S", "pk2"), f"2.0 * {mu} * {E} + {lam} * wp.trace({E}) * {ident}", mat)
    return _local(kb, ("P", "stress"), f"{F} * {S}", mat), ""


def fem(rng: random.Random, level: int = 3) -> KernelSource:
    # Triangles (2-D) and linear elasticity are the short forms, likelier at low levels.
    variant = rng.choice(["tet"] * (2 + level // 2) + ["tri"] * max(1, 3 - level // 2) + ["rest"])
    names = {"tet": ("eval_tetrahedra", "tet_forces", "eval_fem_forces", "compute_elastic_forces"),
             "tri": ("eval_triangles", "membrane_forces", "tri_fem_forces"),
             "rest": ("compute_rest_poses", "init_tet_poses", "precompute_rest_shape")}[variant]
    kb, _ = _begin(rng, level, "fem", names)
    knobs = _Knobs(kb)
    dim = 2 if variant == "tri" else 3
    vt, mat = (V2, M22) if dim == 2 else (V3, M33)
    n = dim + 1
    x = kb.array_param(rng.choice(("x", "positions", "particle_q") if variant != "rest" else ("x_rest", "rest_x")),
                       vt).name
    style = rng.choice(("2d", "vec", "flat"))
    idx = _index_param(kb, ("indices", "tets", "tet_indices") if n == 4 else ("tris", "tri_indices"), style, n)
    count = f"{idx}.shape[0] // {n}" if style == "flat" else f"{idx}.shape[0]"
    if variant == "rest":
        _fem_rest(kb, idx, style, x, count)
        return knobs.render()
    pose = kb.array_param(rng.choice(("Dm_inv", "rest_inv", "inv_rest") + (("tet_poses",) if dim == 3 else
                                                                            ("tri_poses",))), mat).name
    vol_arr = kb.array_param(rng.choice(("rest_volume", "volumes") if dim == 3 else ("rest_area", "areas")),
                             F32).name if rng.random() < 0.6 else ""
    damped = _chance(kb, 0.35)
    v = kb.array_param(rng.choice(("v", "velocities", "particle_qd")), vt).name if damped else ""
    f = kb.array_param(rng.choice(("f", "forces", "particle_f")), vt).name
    energy = kb.array_param(rng.choice(("energy", "strain_energy")), F32).name if _chance(kb, 0.2) else ""
    models = ["neo_hookean", "stvk"] + ["linear"] * max(1, 3 - level) + (
        ["stable_neo_hookean", "corotated"] * (1 + level // 3) if dim == 3 else [])
    model = rng.choice(models)
    fibers = dim == 3 and _chance(kb, 0.2)  # muscle-like active stress along a fiber direction
    if fibers:
        fiber_arr = kb.array_param(rng.choice(("fibers", "fiber_dirs")), V3).name
        activation = kb.array_param(rng.choice(("activation", "tet_activations")), F32).name
    with _elements(kb, ("tid", "e", "t"), count) as e:
        ids = _element_indices(kb, e, idx, style, n)
        mu, lam, k_damp = _lame(kb, knobs, e, damped)
        prefix = rng.choice(("x", "p"))
        xs = [kb.let(f"{prefix}{k}", f"{x}[{ids[k]}]", vt).name for k in range(n)]
        edges = [f"{xs[k]} - {xs[0]}" for k in range(1, n)]
        if rng.random() < 0.5:
            Ds = _local(kb, ("Ds", "D_s"), f"wp.matrix_from_cols({', '.join(edges)})", mat)
        else:  # explicit row-major constructor from named edge vectors
            edge_name = rng.choice(("x{}0", "e{}", "dx{}"))
            evs = [kb.let(edge_name.format(k), edges[k - 1], vt).name for k in range(1, n)]
            Ds = _local(kb, ("Ds", "D_s"), f"{mat}({', '.join(f'{ev}[{r}]' for r in range(dim) for ev in evs)})", mat)
        Dm = _local(kb, ("Dm", "inv_rest", "X_inv"), f"{pose}[{e}]", mat)
        F = _local(kb, ("F", "def_grad"), f"{Ds} * {Dm}", mat)
        if vol_arr:
            vol = _local(kb, ("rest_volume", "vol", "w") if dim == 3 else ("rest_area", "area"), f"{vol_arr}[{e}]", F32)
        else:  # |det(Dm^-1)| = 1 / (d! * rest volume)
            fac = "6.0" if dim == 3 else "2.0"
            vol = _local(kb, ("rest_volume", "vol") if dim == 3 else ("rest_area", "area"),
                         f"1.0 / ({fac} * wp.abs(wp.determinant({Dm})))", F32)
        P, J = _stress(kb, model, F, mu, lam, dim)
        if fibers:
            fib = _local(kb, ("fiber", "a0"), f"{fiber_arr}[{e}]", V3)
            kb.emit(f"{P} = {P} + wp.outer({F} * {fib}, {fib}) * ({activation}[{e}] * "
                    f"{knobs.get('k_act', 1.0e2, 1.0e4)})")
        if damped:
            vs = [f"{v}[{ids[k]}]" for k in range(n)]
            rates = ", ".join(f"{vs[k]} - {vs[0]}" for k in range(1, n))
            dDs = _local(kb, ("dDs", "Ds_dot"), f"wp.matrix_from_cols({rates})", mat)
            kb.emit(f"{P} = {P} + ({dDs} * {Dm}) * {k_damp}")
        H = _local(kb, ("H", "H_e"), f"-{vol} * {P} * wp.transpose({Dm})" if rng.random() < 0.5 else
                   f"{P} * wp.transpose({Dm}) * (-{vol})", mat)
        force_name = rng.choice(("f{}", "force{}", "f_{}"))
        if rng.random() < 0.5:
            cols = [kb.let(force_name.format(k), f"{vt}({', '.join(f'{H}[{r}, {k - 1}]' for r in range(dim))})",
                           vt).name for k in range(1, n)]
        else:  # rows of H^T are the columns of H
            Ht = _local(kb, ("Ht", "H_T"), f"wp.transpose({H})", mat)
            cols = [kb.let(force_name.format(k), f"{Ht}[{k - 1}]", vt).name for k in range(1, n)]
        f0 = kb.let(force_name.format(0), f"-({' + '.join(cols)})", vt).name
        for k, fk in enumerate([f0, *cols]):
            kb.emit(f"wp.atomic_add({f}, {ids[k]}, {fk})")
        if energy:
            if model == "neo_hookean":
                psi = (f"0.5 * {mu} * (wp.ddot({F}, {F}) - {float(dim)}) - {mu} * wp.log({J}) + "
                       f"0.5 * {lam} * wp.log({J}) * wp.log({J})")
            else:
                psi = f"0.5 * wp.ddot({P}, {F})"
            kb.emit(f"wp.atomic_add({energy}, 0, {vol} * ({psi}))")
    return knobs.render()


def _fem_rest(kb: KernelBuilder, idx: str, style: str, x: str, count: str) -> None:
    """Rest-shape precomputation: inverse rest matrices and rest volumes per tetrahedron."""
    rng = kb.rng
    poses = kb.array_param(rng.choice(("Dm_inv", "tet_poses", "inv_rest")), M33).name
    vols = kb.array_param(rng.choice(("rest_volume", "volumes")), F32).name
    flags = kb.array_param(rng.choice(("inverted", "bad_element")), I32).name if _chance(kb, 0.3) else ""
    with _elements(kb, ("tid", "e", "t"), count) as e:
        ids = _element_indices(kb, e, idx, style, 4)
        xs = [kb.let(f"X{k}", f"{x}[{ids[k]}]", V3).name for k in range(4)]
        Dm = _local(kb, ("Dm", "D_m"), f"wp.matrix_from_cols({xs[1]} - {xs[0]}, {xs[2]} - {xs[0]}, {xs[3]} - {xs[0]})",
                    M33)
        det = _local(kb, ("det", "det_Dm"), f"wp.determinant({Dm})", F32)
        vol = _local(kb, ("vol", "volume"), f"{det} / 6.0", F32)
        if flags:
            with kb.block(f"if {det} <= 0.0:"):
                kb.emit(f"{flags}[{e}] = 1")
        if rng.random() < 0.5:
            with kb.block(f"if wp.abs({det}) < 1.0e-12:"):
                kb.emit(f"{poses}[{e}] = wp.mat33(0.0)")
                kb.emit(f"{vols}[{e}] = 0.0")
                kb.emit("return")
        kb.emit(f"{poses}[{e}] = wp.inverse({Dm})")
        kb.emit(f"{vols}[{e}] = wp.abs({vol})" if rng.random() < 0.6 else f"{vols}[{e}] = {vol}")



# ------------------------------------------------------------------------------- rigid
def rigid(rng: random.Random, level: int = 3) -> KernelSource:
    variant = rng.choice(["integrate", "integrate", "points", "fk", "impulse", "energy"] + ["integrate", "fk"] * (
        level // 3))
    names = {"integrate": ("integrate_bodies", "step_rigid_bodies", "advance_bodies"),
             "points": ("transform_points", "shape_to_world", "update_shape_points"),
             "fk": ("eval_fk", "forward_kinematics", "compute_body_transforms"),
             "impulse": ("apply_impulses", "apply_contact_impulses", "resolve_contacts"),
             "energy": ("kinetic_energy", "compute_body_energy", "rigid_energy")}[variant]
    kb, _ = _begin(rng, level, "rigid", names)
    knobs = _Knobs(kb)
    {"integrate": _rigid_integrate, "points": _rigid_points, "fk": _rigid_fk, "impulse": _rigid_impulse,
     "energy": _rigid_energy}[variant](kb, knobs)
    return knobs.render()


def _body_state(kb: KernelBuilder, body_q: str, body_qd: str | None, b: str) -> dict[str, str]:
    """Unpack a body's transform and twist into named parts (translation, rotation, w, v)."""
    rng = kb.rng
    out = {"X": _local(kb, ("X_wb", "tf", "q"), f"{body_q}[{b}]", XFORM)}
    out["x"] = _local(kb, ("x0", "pos", "p"), f"wp.transform_get_translation({out['X']})", V3)
    out["r"] = _local(kb, ("r0", "rot", "quat"), f"wp.transform_get_rotation({out['X']})", QUAT)
    if body_qd:
        twist = _local(kb, ("qd", "twist", "vel"), f"{body_qd}[{b}]", SPATIAL) if rng.random() < 0.6 else \
            f"{body_qd}[{b}]"
        out["w"] = _local(kb, ("w0", "omega", "ang_vel"), f"wp.spatial_top({twist})", V3)
        out["v"] = _local(kb, ("v0", "lin_vel", "v"), f"wp.spatial_bottom({twist})", V3)
    return out


def _rigid_integrate(kb: KernelBuilder, knobs: _Knobs) -> None:
    rng = kb.rng
    body_q = kb.array_param(rng.choice(("body_q", "transforms", "poses")), XFORM).name
    body_qd = kb.array_param(rng.choice(("body_qd", "twists", "velocities")), SPATIAL).name
    body_f = kb.array_param(rng.choice(("body_f", "wrenches", "forces")), SPATIAL).name if _chance(kb, 0.6) else ""
    com = kb.array_param(rng.choice(("body_com", "com")), V3).name if _chance(kb, 0.35) else ""
    inv_m = kb.array_param(rng.choice(("body_inv_mass", "inv_mass")), F32).name
    gyro = body_f and _chance(kb, 0.4)
    inertia = kb.array_param(rng.choice(("body_inertia", "inertia")), M33).name if gyro else ""
    inv_i = kb.array_param(rng.choice(("body_inv_inertia", "inv_inertia")), M33).name if body_f else ""
    in_place = rng.random() < 0.4
    q_out = body_q if in_place else kb.array_param(rng.choice(("body_q_new", "q_out")), XFORM).name
    qd_out = body_qd if in_place else kb.array_param(rng.choice(("body_qd_new", "qd_out")), SPATIAL).name
    dt = knobs.get("dt", 0.001, 0.02)
    tid = _tid1(kb, "tid", "b", "body")
    st = _body_state(kb, body_q, body_qd, tid)
    m_inv = _local(kb, ("inv_m", "w_b"), f"{inv_m}[{tid}]", F32)
    if rng.random() < 0.4:  # static bodies keep their state
        with kb.block(f"if {m_inv} == 0.0:"):
            kb.emit("return")
    x_com = _local(kb, ("x_com", "com_world"), f"{st['x']} + wp.quat_rotate({st['r']}, {com}[{tid}])", V3) if com \
        else st["x"]
    g = knobs.vec3("gravity", f"wp.vec3(0.0, {_lit(rng, -9.81, -1.0)}, 0.0)")
    lin = [f"{g}" if rng.random() < 0.5 else f"{g} * wp.nonzero({m_inv})"]
    if body_f:
        wrench = _local(kb, ("f", "wrench"), f"{body_f}[{tid}]", SPATIAL)
        t0 = _local(kb, ("t0", "torque"), f"wp.spatial_top({wrench})", V3)
        f0 = _local(kb, ("f0", "force"), f"wp.spatial_bottom({wrench})", V3)
        lin.append(f"{f0} * {m_inv}")
    v1 = _local(kb, ("v1", "v_new"), f"{st['v']} + ({' + '.join(lin)}) * {dt}", V3)
    if body_f:
        if gyro:  # torque in the body frame minus the gyroscopic term w x (I w)
            wb = _local(kb, ("wb", "w_body"), f"wp.quat_rotate_inv({st['r']}, {st['w']})", V3)
            tb = _local(kb, ("tb", "t_body"), f"wp.quat_rotate_inv({st['r']}, {t0}) - wp.cross({wb}, "
                        f"{inertia}[{tid}] * {wb})", V3)
            w1 = _local(kb, ("w1", "w_new"), f"wp.quat_rotate({st['r']}, {wb} + {inv_i}[{tid}] * {tb} * {dt})", V3)
        else:
            w1 = _local(kb, ("w1", "w_new"), f"{st['w']} + {inv_i}[{tid}] * {t0} * {dt}", V3)
    else:
        w1 = _local(kb, ("w1", "w_new"), st["w"], V3)
    if _chance(kb, 0.45):
        kb.emit(f"{w1} = {w1} * (1.0 - {knobs.get('angular_damping', 0.01, 0.2)} * {dt})")
    if _chance(kb, 0.25):
        kb.emit(f"{v1} = {v1} * (1.0 - {knobs.get('linear_damping', 0.01, 0.2)} * {dt})")
    x1 = _local(kb, ("x1", "x_new"), f"{x_com} + {v1} * {dt}", V3)
    if rng.random() < 0.6:  # first-order quaternion update, renormalized
        r1 = _local(kb, ("r1", "r_new"), f"wp.normalize({st['r']} + wp.quat({w1}, 0.0) * {st['r']} * 0.5 * {dt})",
                    QUAT)
    else:  # exact rotation by the angle w*dt about w
        r1 = _local(kb, ("r1", "r_new"), st["r"], QUAT)
        speed = _local(kb, ("w_len", "omega_mag"), f"wp.length({w1})", F32)
        with kb.block(f"if {speed} > 1.0e-8:"):
            kb.emit(f"{r1} = wp.quat_from_axis_angle({w1} / {speed}, {speed} * {dt}) * {st['r']}")
    if com:
        kb.emit(f"{x1} = {x1} - wp.quat_rotate({r1}, {com}[{tid}])")
    kb.emit(f"{q_out}[{tid}] = wp.transform({x1}, {r1})")
    kb.emit(f"{qd_out}[{tid}] = wp.spatial_vector({w1}, {v1})")


def _rigid_points(kb: KernelBuilder, knobs: _Knobs) -> None:
    """Body-local points (and normals) to world space, with optional shape offsets and velocities."""
    rng = kb.rng
    body_q = kb.array_param(rng.choice(("body_q", "transforms")), XFORM).name
    want_vel = _chance(kb, 0.4)
    body_qd = kb.array_param(rng.choice(("body_qd", "twists")), SPATIAL).name if want_vel else None
    point_body = kb.array_param(rng.choice(("point_body", "shape_body", "body_index")), I32).name
    local = kb.array_param(rng.choice(("local_points", "points_body", "shape_points")), V3).name
    shape_x = kb.array_param(rng.choice(("shape_X_bs", "shape_transforms")), XFORM).name if _chance(kb, 0.35) else ""
    normals = kb.array_param(rng.choice(("local_normals", "normals_body")), V3).name if _chance(kb, 0.3) else ""
    out = kb.array_param(rng.choice(("world_points", "points_out", "x_world")), V3).name
    n_out = kb.array_param(rng.choice(("world_normals", "normals_out")), V3).name if normals else ""
    v_out = kb.array_param(rng.choice(("point_vel", "v_world")), V3).name if want_vel else ""
    tid = _tid1(kb, "tid", "i", "p")
    b = _local(kb, ("b", "body", "body_id"), f"{point_body}[{tid}]", I32)
    if rng.random() < 0.5:  # points attached to no body (-1) stay in world space
        with kb.block(f"if {b} < 0:"):
            kb.emit(f"{out}[{tid}] = {local}[{tid}]")
            kb.emit("return")
    X = _local(kb, ("X_wb", "tf", "body_tf"), f"{body_q}[{b}]", XFORM)
    if shape_x:
        X = _local(kb, ("X_ws", "shape_tf"), f"wp.transform_multiply({X}, {shape_x}[{tid}])" if rng.random() < 0.6
                   else f"{X} * {shape_x}[{tid}]", XFORM)
    pw = _local(kb, ("p_world", "x_w", "pw"), f"wp.transform_point({X}, {local}[{tid}])", V3)
    kb.emit(f"{out}[{tid}] = {pw}")
    if normals:
        if rng.random() < 0.5:
            kb.emit(f"{n_out}[{tid}] = wp.normalize(wp.transform_vector({X}, {normals}[{tid}]))")
        else:
            kb.emit(f"{n_out}[{tid}] = wp.quat_rotate(wp.transform_get_rotation({X}), {normals}[{tid}])")
    if want_vel:
        twist = _local(kb, ("qd", "twist"), f"{body_qd}[{b}]", SPATIAL)
        origin = _local(kb, ("com", "origin"), f"wp.transform_get_translation({body_q}[{b}])", V3)
        if rng.random() < 0.5:
            kb.emit(f"{v_out}[{tid}] = wp.spatial_bottom({twist}) + wp.cross(wp.spatial_top({twist}), {pw} - {origin})")
        else:
            kb.emit(f"{v_out}[{tid}] = wp.velocity_at_point({twist}, {pw} - {origin})")


def _rigid_fk(kb: KernelBuilder, knobs: _Knobs) -> None:
    """Forward kinematics: one articulation per thread, joints in topological order."""
    rng = kb.rng
    start = kb.array_param(rng.choice(("articulation_start", "art_start")), I32).name
    parent = kb.array_param(rng.choice(("joint_parent", "parents")), I32).name
    x_p = kb.array_param(rng.choice(("joint_X_p", "joint_parent_xform")), XFORM).name
    x_c = kb.array_param(rng.choice(("joint_X_c", "joint_child_xform")), XFORM).name if _chance(kb, 0.4) else ""
    joint_q = kb.array_param(rng.choice(("joint_q", "q")), F32).name
    types = rng.choice(("revolute", "prismatic", "mixed"))
    axis = kb.array_param(rng.choice(("joint_axis", "axes")), V3).name
    jtype = kb.array_param(rng.choice(("joint_type", "types")), I32).name if types == "mixed" else ""
    body_q = kb.array_param(rng.choice(("body_q", "body_transforms")), XFORM).name
    root = kb.scalar_param("root_transform", XFORM).name if _chance(kb, 0.3) else ""
    tid = _tid1(kb, "tid", "a", "art")
    lo_base, hi_base = rng.choice((("j_start", "j_end"), ("first", "last"), ("start", "end")))
    lo = kb.let(lo_base, f"{start}[{tid}]", I32).name
    hi = kb.let(hi_base, f"{start}[{tid} + 1]", I32).name
    with kb.for_range("j", lo, hi) as jv:
        j = jv.name
        par = _local(kb, ("p", "parent_idx"), f"{parent}[{j}]", I32)
        X_wp = _local(kb, ("X_wp", "X_parent"), root or "wp.transform_identity()", XFORM)
        with kb.block(f"if {par} >= 0:"):
            kb.emit(f"{X_wp} = {body_q}[{par}]")
        qj = _local(kb, ("qj", "angle", "coord"), f"{joint_q}[{j}]", F32)
        ax = _local(kb, ("ax", "axis"), f"{axis}[{j}]", V3)
        rev = f"wp.transform(wp.vec3(0.0), wp.quat_from_axis_angle({ax}, {qj}))"
        pri = f"wp.transform({ax} * {qj}, wp.quat_identity())"
        if types == "mixed":
            X_j = _local(kb, ("X_j", "joint_tf"), "wp.transform_identity()", XFORM)
            with kb.block(f"if {jtype}[{j}] == 0:"):
                kb.emit(f"{X_j} = {rev}")
            with kb.block(f"elif {jtype}[{j}] == 1:"):
                kb.emit(f"{X_j} = {pri}")
        else:
            X_j = _local(kb, ("X_j", "joint_tf"), rev if types == "revolute" else pri, XFORM)
        chain = [X_wp, f"{x_p}[{j}]", X_j]
        if x_c:
            chain.append(f"wp.transform_inverse({x_c}[{j}])")
        if rng.random() < 0.5:
            expr = " * ".join(chain)
        else:
            expr = chain[0]
            for term in chain[1:]:
                expr = f"wp.transform_multiply({expr}, {term})"
        kb.emit(f"{body_q}[{j}] = {expr}")


def _rigid_impulse(kb: KernelBuilder, knobs: _Knobs) -> None:
    """Contact impulses between body pairs along a normal, scattered atomically onto the twists."""
    rng = kb.rng
    body_q = kb.array_param(rng.choice(("body_q", "transforms")), XFORM).name
    body_qd = kb.array_param(rng.choice(("body_qd", "twists")), SPATIAL).name
    inv_m = kb.array_param(rng.choice(("body_inv_mass", "inv_mass")), F32).name
    inv_i = kb.array_param(rng.choice(("body_inv_inertia", "inv_inertia")), M33).name
    pairs = kb.array_param(rng.choice(("contact_body", "contact_pairs")), "wp.vec2i").name
    points = kb.array_param(rng.choice(("contact_point", "contact_points")), V3).name
    normals = kb.array_param(rng.choice(("contact_normal", "contact_normals")), V3).name
    delta = kb.array_param(rng.choice(("body_delta", "delta_qd")), SPATIAL).name
    restitution = knobs.get("restitution", 0.0, 0.8)
    tid = _tid1(kb, "tid", "c", "contact")
    pair = _local(kb, ("pair", "bodies"), f"{pairs}[{tid}]", "wp.vec2i")
    a = _local(kb, ("body_a", "a"), f"{pair}[0]", I32)
    b = _local(kb, ("body_b", "b"), f"{pair}[1]", I32)
    p = _local(kb, ("p", "cp"), f"{points}[{tid}]", V3)
    n = _local(kb, ("n", "normal"), f"{normals}[{tid}]", V3)
    na, nb = rng.choice((("r_a", "r_b"), ("ra", "rb")))
    r_a = kb.let(na, f"{p} - wp.transform_get_translation({body_q}[{a}])", V3).name
    r_b = kb.let(nb, f"{p} - wp.transform_get_translation({body_q}[{b}])", V3).name
    va = _local(kb, ("v_a", "vel_a"), f"wp.velocity_at_point({body_qd}[{a}], {r_a})" if rng.random() < 0.5 else
                f"wp.spatial_bottom({body_qd}[{a}]) + wp.cross(wp.spatial_top({body_qd}[{a}]), {r_a})", V3)
    vb = _local(kb, ("v_b", "vel_b"), f"wp.velocity_at_point({body_qd}[{b}], {r_b})", V3)
    vn = _local(kb, ("vn", "v_rel_n"), f"wp.dot({vb} - {va}, {n})", F32)
    with kb.block(f"if {vn} >= 0.0:"):
        kb.emit("return")
    ra_n = _local(kb, ("ra_x_n", "rna"), f"wp.cross({r_a}, {n})", V3)
    rb_n = _local(kb, ("rb_x_n", "rnb"), f"wp.cross({r_b}, {n})", V3)
    k = _local(kb, ("k", "eff_mass_inv"), f"{inv_m}[{a}] + {inv_m}[{b}] + wp.dot({ra_n}, {inv_i}[{a}] * {ra_n}) + "
               f"wp.dot({rb_n}, {inv_i}[{b}] * {rb_n})", F32)
    lam = _local(kb, ("lam", "j_mag", "impulse"), f"-(1.0 + {restitution}) * {vn} / wp.max({k}, 1.0e-8)", F32)
    J = _local(kb, ("J", "jn"), f"{n} * {lam}", V3)
    if _chance(kb, 0.3):  # Coulomb friction along the tangential slip direction
        mu = knobs.get("friction", 0.1, 0.8)
        vt = _local(kb, ("vt", "v_tan"), f"{vb} - {va} - {n} * {vn}", V3)
        vt_len = _local(kb, ("vt_len", "slip"), f"wp.length({vt})", F32)
        with kb.block(f"if {vt_len} > 1.0e-6:"):
            kb.emit(f"{J} = {J} - {vt} / {vt_len} * wp.min({mu} * {lam}, {vt_len} / wp.max({k}, 1.0e-8))")
    kb.emit(f"wp.atomic_sub({delta}, {a}, wp.spatial_vector({inv_i}[{a}] * wp.cross({r_a}, {J}), {J} * {inv_m}[{a}]))")
    kb.emit(f"wp.atomic_add({delta}, {b}, wp.spatial_vector({inv_i}[{b}] * wp.cross({r_b}, {J}), {J} * {inv_m}[{b}]))")


def _rigid_energy(kb: KernelBuilder, knobs: _Knobs) -> None:
    """Kinetic (and optionally potential) energy per body, summed atomically."""
    rng = kb.rng
    body_q = kb.array_param(rng.choice(("body_q", "transforms")), XFORM).name
    body_qd = kb.array_param(rng.choice(("body_qd", "twists")), SPATIAL).name
    mass = kb.array_param(rng.choice(("body_mass", "mass")), F32).name
    inertia = kb.array_param(rng.choice(("body_inertia", "inertia")), M33).name
    total = kb.array_param(rng.choice(("energy", "total_energy")), F32).name
    per_body = kb.array_param(rng.choice(("body_energy", "energies")), F32).name if _chance(kb, 0.3) else ""
    tid = _tid1(kb, "tid", "b")
    st = _body_state(kb, body_q, body_qd, tid)
    if rng.random() < 0.5:  # world-frame inertia R I R^T
        R = _local(kb, ("R", "rot_mat"), f"wp.quat_to_matrix({st['r']})", M33)
        I_w = _local(kb, ("I_world", "inertia_w"), f"{R} * {inertia}[{tid}] * wp.transpose({R})", M33)
        rot = f"0.5 * wp.dot({st['w']}, {I_w} * {st['w']})"
    else:  # body-frame angular velocity against the body-frame inertia
        wb = _local(kb, ("wb", "w_body"), f"wp.quat_rotate_inv({st['r']}, {st['w']})", V3)
        rot = f"0.5 * wp.dot({wb}, {inertia}[{tid}] * {wb})"
    e = _local(kb, ("ke", "e_kin"), f"0.5 * {mass}[{tid}] * wp.dot({st['v']}, {st['v']}) + {rot}", F32)
    if _chance(kb, 0.4):
        g = knobs.get("gravity", 1.0, 9.81)
        kb.emit(f"{e} = {e} + {mass}[{tid}] * {g} * {st['x']}[1]")
    if per_body:
        kb.emit(f"{per_body}[{tid}] = {e}")
    kb.emit(f"wp.atomic_add({total}, 0, {e})")



# ------------------------------------------------------------------------------- image_stencil
class _Grid:
    """Reads of a 2-D/3-D array around the thread's cell, with one boundary policy.

    Policies: "clamp" (edge cells repeat), "wrap" (periodic), "zero" (a ``@wp.func`` returning 0
    outside), "skip" (border threads return first, so unit-offset reads are in range; wider
    reads fall back to clamping).
    """

    def __init__(self, kb: KernelBuilder, idx: list[str], dims: list[str], policy: str) -> None:
        self.kb, self.idx, self.dims, self.policy = kb, idx, dims, policy
        self.fetch: dict[str, str] = {}

    def here(self) -> str:
        return ", ".join(self.idx)

    def at(self, arr: str, coords: list[str], moved: list[bool] | None = None, dtype: str = "float") -> str:
        """``arr`` at absolute coordinates; those marked ``moved`` (all by default) may leave the
        grid and are made safe by the policy."""
        moved = moved if moved is not None else [True] * len(coords)
        if not any(moved):
            return f"{arr}[{', '.join(coords)}]"
        if self.policy == "zero":
            return f"{self._fetch(dtype)}({arr}, {', '.join(coords)})"
        safe = []
        for c, n, m in zip(coords, self.dims, moved, strict=True):
            if not m:
                safe.append(c)
            elif self.policy == "wrap":
                safe.append(f"({c} + {n}) % {n}")
            else:
                safe.append(f"wp.clamp({c}, 0, {n} - 1)")
        return f"{arr}[{', '.join(safe)}]"

    def read(self, arr: str, offs: tuple[int, ...], dtype: str = "float") -> str:
        """``arr`` at a small offset from the thread's cell (in range by construction under "skip")."""
        coords = [i if o == 0 else (f"{i} + {o}" if o > 0 else f"{i} - {-o}") for i, o in zip(self.idx, offs,
                                                                                              strict=True)]
        moved = [o != 0 and self.policy != "skip" for o in offs]
        return self.at(arr, coords, moved, dtype=dtype)

    def _fetch(self, dtype: str) -> str:
        if dtype not in self.fetch:
            nd = len(self.idx)
            names = ("x", "y", "z")[:nd]
            cond = " or ".join(f"{c} < 0 or {c} >= f.shape[{a}]" for a, c in enumerate(names))
            zero = "0.0" if dtype == "float" else f"{dtype}(0.0)"
            self.fetch[dtype] = _helper(self.kb, ("fetch", "sample_or_zero", "read_padded"),
                                        f"f: wp.array{nd}d(dtype={dtype}), " + ", ".join(f"{c}: int" for c in names),
                                        [f"if {cond}:", INDENT + f"return {zero}", f"return f[{', '.join(names)}]"])
        return self.fetch[dtype]


def image_stencil(rng: random.Random, level: int = 3) -> KernelSource:
    # The longer operators (Gaussian weights, Sobel taps, Jacobi, advection) are likelier at high levels.
    op = rng.choice(["blur", "laplacian", "project", "morph"] * 2 + ["gaussian", "sobel", "jacobi", "advect"] * level)
    names = {"blur": ("box_blur", "blur_image", "smooth_field"), "gaussian": ("gaussian_blur", "blur_gaussian"),
             "sobel": ("sobel_filter", "edge_detect", "image_gradient"),
             "laplacian": ("laplacian", "apply_laplacian", "diffuse"),
             "jacobi": ("jacobi_step", "pressure_jacobi", "solve_poisson_jacobi"),
             "advect": ("advect_semi_lagrangian", "advect_field", "backtrace_sample"),
             "project": ("subtract_pressure_gradient", "project_velocity", "apply_pressure_gradient"),
             "morph": ("erode", "dilate", "min_filter", "max_filter")}[op]
    kb, _ = _begin(rng, level, "image_stencil", names)
    knobs = _Knobs(kb)
    ndim = 3 if op in ("laplacian", "jacobi", "blur") and rng.random() < 0.3 else 2
    policy = rng.choice(("clamp", "clamp", "wrap", "zero", "skip"))
    {"blur": _stencil_blur, "gaussian": _stencil_blur, "sobel": _stencil_sobel, "laplacian": _stencil_laplacian,
     "jacobi": _stencil_laplacian, "advect": _stencil_advect, "project": _stencil_project,
     "morph": _stencil_morph}[op](kb, knobs, op, ndim, policy)
    return knobs.render()


def _grid_setup(kb: KernelBuilder, src: str, ndim: int, policy: str, border: str = "") -> _Grid:
    """Thread indices, extents and (for "skip") the early-out on the border (``border`` is its store)."""
    rng = kb.rng
    bases = rng.choice((("i", "j", "k"), ("x", "y", "z")))
    idx = [v.name for v in kb.tid(ndim, bases)]
    if policy != "zero" and rng.random() < 0.5:  # the padded fetch checks extents itself
        dim_names = rng.choice((("nx", "ny", "nz"), ("w", "h", "d"), ("width", "height", "depth")))
        dims = [kb.let(dim_names[a], f"{src}.shape[{a}]", I32).name for a in range(ndim)]
    else:
        dims = [f"{src}.shape[{a}]" for a in range(ndim)]
    g = _Grid(kb, idx, dims, policy)
    if policy == "skip":
        cond = " or ".join(f"{i} == 0 or {i} == {n} - 1" for i, n in zip(idx, dims, strict=True))
        with kb.block(f"if {cond}:"):
            if border:
                kb.emit(border.format(here=g.here()))
            kb.emit("return")
    return g


def _neighbours(ndim: int) -> list[tuple[int, ...]]:
    """The 2*ndim face neighbours of a cell."""
    return [tuple(s if b == a else 0 for b in range(ndim)) for a in range(ndim) for s in (-1, 1)]


class _Window(NamedTuple):
    coords: list[str]   # sample coordinates (may leave the grid)
    offsets: list[str]  # the loop variables (window offsets)


@contextlib.contextmanager
def _window_loop(kb: KernelBuilder, g: _Grid, radius: str, separable: bool) -> Iterator[_Window]:
    """Loops over a (2r+1)^2 window, or a 1-D window along a runtime ``axis`` (separable pass)."""
    stop = str(int(radius) + 1) if radius.isdigit() else f"{radius} + 1"
    names = kb.rng.choice((("si", "sj"), ("xi", "yj"), ("px", "py")))
    if separable:
        axis = kb.scalar_param("axis", I32).name
        with kb.for_range("t", f"-{radius}", stop) as t:
            coords = [kb.let(names[0], f"{g.idx[0]} + wp.where({axis} == 0, {t.name}, 0)", I32).name,
                      kb.let(names[1], f"{g.idx[1]} + wp.where({axis} == 1, {t.name}, 0)", I32).name]
            yield _Window(coords, [t.name])
        return
    with kb.for_range("dx", f"-{radius}", stop) as dx, kb.for_range("dy", f"-{radius}", stop) as dy:
        coords = [kb.let(names[0], f"{g.idx[0]} + {dx.name}", I32).name,
                  kb.let(names[1], f"{g.idx[1]} + {dy.name}", I32).name]
        yield _Window(coords, [dx.name, dy.name])


def _stencil_blur(kb: KernelBuilder, knobs: _Knobs, op: str, ndim: int, policy: str) -> None:
    rng = kb.rng
    rgb = ndim == 2 and rng.random() < 0.3  # colour images blur per channel with the same code
    dtype, ann = (V3, "wp.vec3") if rgb else (F32, "float")
    src = kb.array_param(rng.choice(("src", "image", "field", "img")), dtype, ndim).name
    dst = kb.array_param(rng.choice(("dst", "out", "blurred", "result")), dtype, ndim).name
    g = _grid_setup(kb, src, ndim, policy, f"{dst}[{{here}}] = {src}[{{here}}]")
    if op == "blur" and (ndim == 3 or rng.random() < 0.35):  # fixed small window, unrolled
        offs = [tuple(0 for _ in range(ndim))] + _neighbours(ndim)
        if ndim == 2 and rng.random() < 0.5:
            offs = [(dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
        terms = [g.read(src, o, ann) for o in offs]
        if rng.random() < 0.5:
            kb.emit(f"{dst}[{g.here()}] = ({' + '.join(terms)}) / {float(len(terms))}")
        else:
            acc = _acc(kb, ("acc", "total", "s"), dtype)
            for t in terms:
                kb.emit(f"{acc} += {t}")
            kb.emit(f"{dst}[{g.here()}] = {acc} * {1.0 / len(terms):.6f}")
        return
    radius = knobs.get("radius", 1, 4, I32) if rng.random() < 0.6 else str(rng.randint(1, 3))
    acc = _acc(kb, ("acc", "total", "s"), dtype)
    wsum = _acc(kb, ("wsum", "norm", "weight_sum"), F32) if op == "gaussian" or rng.random() < 0.3 else ""
    separable = rng.random() < 0.3
    with _window_loop(kb, g, radius, separable) as win:
        value = g.at(src, win.coords, dtype=ann)
        if wsum:
            sigma = knobs.get("sigma", 0.5, 3.0)
            r2 = " + ".join(f"{o} * {o}" for o in win.offsets)
            wgt = _local(kb, ("wgt", "w_xy"), f"wp.exp(-float({r2}) / (2.0 * {sigma} * {sigma}))", F32)
            kb.emit(f"{acc} += {wgt} * {value}")
            kb.emit(f"{wsum} += {wgt}")
        else:
            kb.emit(f"{acc} += {value}")
    if wsum:
        result = f"{acc} / {wsum}"
    else:
        if radius.isdigit():
            width = 2 * int(radius) + 1
            count = f"{float(width)}" if separable else f"{float(width * width)}"
        else:
            width_expr = f"2 * {radius} + 1"
            count = f"float({width_expr})" if separable else f"float(({width_expr}) * ({width_expr}))"
        result = f"{acc} / {count}"
    if _chance(kb, 0.25):  # blend with the original by a strength factor
        result = f"wp.lerp({g.read(src, (0,) * ndim)}, {result}, {knobs.get('strength', 0.2, 1.0)})"
    kb.emit(f"{dst}[{g.here()}] = {result}")


def _stencil_morph(kb: KernelBuilder, knobs: _Knobs, op: str, ndim: int, policy: str) -> None:
    """Erosion/dilation: the minimum or maximum over a window."""
    rng = kb.rng
    src = kb.array_param(rng.choice(("src", "mask", "image")), F32, 2).name
    dst = kb.array_param(rng.choice(("dst", "out", "result")), F32, 2).name
    fn = kb.rng.choice(("wp.min", "wp.max"))
    g = _grid_setup(kb, src, 2, policy, f"{dst}[{{here}}] = {src}[{{here}}]")
    m = _local(kb, ("m", "extreme", "best"), g.read(src, (0, 0)), F32)
    if rng.random() < 0.5:
        for o in [(dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1) if dx or dy]:
            kb.emit(f"{m} = {fn}({m}, {g.read(src, o)})")
    else:
        radius = knobs.get("radius", 1, 3, I32)
        with _window_loop(kb, g, radius, False) as win:
            kb.emit(f"{m} = {fn}({m}, {g.at(src, win.coords)})")
    if rng.random() < 0.4:  # threshold to a binary mask
        kb.emit(f"{dst}[{g.here()}] = wp.where({m} > {knobs.get('threshold', 0.1, 0.9)}, 1.0, 0.0)")
    else:
        kb.emit(f"{dst}[{g.here()}] = {m}")


def _stencil_sobel(kb: KernelBuilder, knobs: _Knobs, op: str, ndim: int, policy: str) -> None:
    rng = kb.rng
    src = kb.array_param(rng.choice(("image", "src", "luminance")), F32, 2).name
    out_kind = rng.choice(("magnitude", "vector", "both", "direction"))
    mag = kb.array_param(rng.choice(("magnitude", "edges", "grad_mag")), F32, 2).name if out_kind in (
        "magnitude", "both", "direction") else ""
    vec = kb.array_param(rng.choice(("gradient", "grad")), V2, 2).name if out_kind in ("vector", "both") else ""
    ang = kb.array_param(rng.choice(("direction", "angle")), F32, 2).name if out_kind == "direction" else ""
    border = f"{mag}[{{here}}] = 0.0" if mag else f"{vec}[{{here}}] = wp.vec2(0.0)"
    g = _grid_setup(kb, src, 2, policy, border)
    gnames = rng.choice((("gx", "gy"), ("dx", "dy"), ("grad_x", "grad_y")))
    if rng.random() < 0.7:  # 3x3 Sobel taps
        taps = {o: _local(kb, (f"p{o[0] + 1}{o[1] + 1}",), g.read(src, o), F32)
                for o in [(dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1) if dx or dy]} if rng.random() < 0.5 else {
            o: g.read(src, o) for o in [(dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1) if dx or dy]}
        gx = kb.let(gnames[0], f"({taps[(1, -1)]} + 2.0 * {taps[(1, 0)]} + {taps[(1, 1)]}) - "
                    f"({taps[(-1, -1)]} + 2.0 * {taps[(-1, 0)]} + {taps[(-1, 1)]})", F32).name
        gy = kb.let(gnames[1], f"({taps[(-1, 1)]} + 2.0 * {taps[(0, 1)]} + {taps[(1, 1)]}) - "
                    f"({taps[(-1, -1)]} + 2.0 * {taps[(0, -1)]} + {taps[(1, -1)]})", F32).name
    else:  # central differences
        inv = knobs.get("inv_dx", 0.5, 10.0)
        gx = kb.let(gnames[0], f"({g.read(src, (1, 0))} - {g.read(src, (-1, 0))}) * 0.5 * {inv}", F32).name
        gy = kb.let(gnames[1], f"({g.read(src, (0, 1))} - {g.read(src, (0, -1))}) * 0.5 * {inv}", F32).name
    if mag:
        value = f"wp.sqrt({gx} * {gx} + {gy} * {gy})" if rng.random() < 0.6 else f"wp.length(wp.vec2({gx}, {gy}))"
        if rng.random() < 0.3:
            value = f"wp.where({value} > {knobs.get('threshold', 0.05, 1.0)}, 1.0, 0.0)"
        kb.emit(f"{mag}[{g.here()}] = {value}")
    if vec:
        kb.emit(f"{vec}[{g.here()}] = wp.vec2({gx}, {gy})")
    if ang:
        kb.emit(f"{ang}[{g.here()}] = wp.atan2({gy}, {gx})")


def _stencil_laplacian(kb: KernelBuilder, knobs: _Knobs, op: str, ndim: int, policy: str) -> None:
    rng = kb.rng
    jacobi = op == "jacobi"
    src = kb.array_param(rng.choice(("p", "pressure", "x_in") if jacobi else ("u", "field", "temperature")),
                         F32, ndim).name
    rhs = kb.array_param(rng.choice(("rhs", "divergence", "b")), F32, ndim).name if jacobi else ""
    solid = kb.array_param(rng.choice(("solid", "obstacle", "mask")), I32, ndim).name if _chance(kb, 0.3) else ""
    dst = kb.array_param(rng.choice(("p_out", "x_out", "p_new") if jacobi else ("out", "u_new", "lap")),
                         F32, ndim).name
    g = _grid_setup(kb, src, ndim, policy, f"{dst}[{{here}}] = {src}[{{here}}]")
    if solid:
        with kb.block(f"if {solid}[{g.here()}] != 0:"):
            kb.emit(f"{dst}[{g.here()}] = 0.0")
            kb.emit("return")
    center = _local(kb, ("c", "center", "u0"), g.read(src, tuple(0 for _ in range(ndim))), F32)
    if rng.random() < 0.5:
        nb = _local(kb, ("nb", "sum_nb", "s"), " + ".join(g.read(src, o) for o in _neighbours(ndim)), F32)
    else:
        nb = _acc(kb, ("nb", "sum_nb", "s"), F32)
        for o in _neighbours(ndim):
            kb.emit(f"{nb} += {g.read(src, o)}")
    h = knobs.get(rng.choice(("dx", "h", "cell_size")), 0.01, 0.5)
    deg = f"{2.0 * ndim}"
    if jacobi:
        new = _local(kb, ("p_new", "x_new", "value"), f"({nb} - {h} * {h} * {rhs}[{g.here()}]) / {deg}", F32)
        if _chance(kb, 0.4):  # weighted (damped) Jacobi
            omega = knobs.get("omega", 0.5, 0.9)
            kb.emit(f"{new} = (1.0 - {omega}) * {center} + {omega} * {new}")
        kb.emit(f"{dst}[{g.here()}] = {new}")
        return
    lap = _local(kb, ("lap", "laplacian", "d2u"), f"({nb} - {deg} * {center}) / ({h} * {h})", F32)
    if rng.random() < 0.5:  # one explicit diffusion step
        kappa = knobs.get(rng.choice(("kappa", "diffusivity", "alpha")), 0.01, 1.0)
        kb.emit(f"{dst}[{g.here()}] = {center} + {knobs.get('dt', 0.001, 0.05)} * {kappa} * {lap}")
    else:
        kb.emit(f"{dst}[{g.here()}] = {lap}")


def _bilinear_helper(kb: KernelBuilder, dtype: str) -> str:
    """``sample(f, p)``: bilinear interpolation of a 2-D array at a continuous cell position."""
    rng = kb.rng
    body = ["nx = f.shape[0]", "ny = f.shape[1]",
            "x = wp.clamp(p[0], 0.0, float(nx - 1))", "y = wp.clamp(p[1], 0.0, float(ny - 1))",
            "x0 = int(wp.floor(x))", "y0 = int(wp.floor(y))",
            "x1 = wp.min(x0 + 1, nx - 1)", "y1 = wp.min(y0 + 1, ny - 1)",
            "fx = x - float(x0)", "fy = y - float(y0)"]
    if rng.random() < 0.5:
        body.append("return wp.lerp(wp.lerp(f[x0, y0], f[x1, y0], fx), wp.lerp(f[x0, y1], f[x1, y1], fx), fy)")
    else:
        body.append("return f[x0, y0] * ((1.0 - fx) * (1.0 - fy)) + f[x1, y0] * (fx * (1.0 - fy)) + "
                    "f[x0, y1] * ((1.0 - fx) * fy) + f[x1, y1] * (fx * fy)")
    return _helper(kb, ("sample_bilinear", "bilinear", "interp2d"), f"f: wp.array2d(dtype={dtype}), p: wp.vec2", body)


def _stencil_advect(kb: KernelBuilder, knobs: _Knobs, op: str, ndim: int, policy: str) -> None:
    """Semi-Lagrangian advection: trace back along the velocity and sample bilinearly."""
    rng = kb.rng
    vel = kb.array_param(rng.choice(("vel", "velocity", "u")), V2, 2).name
    self_advect = rng.random() < 0.35
    dtype = "wp.vec2" if self_advect else "float"
    if self_advect:
        src, vt = vel, V2
    else:
        src, vt = kb.array_param(rng.choice(("src", "density", "dye", "field")), F32, 2).name, F32
    dst = kb.array_param(rng.choice(("dst", "out", "advected")), vt, 2).name
    dt = knobs.get("dt", 0.005, 0.05)
    dx = knobs.get(rng.choice(("dx", "cell_size")), 0.01, 0.2) if rng.random() < 0.5 else ""
    bases = rng.choice((("i", "j"), ("x", "y")))
    i, j = (v.name for v in kb.tid(2, bases))
    scale = f"({dt} / {dx})" if dx else dt
    pos = _local(kb, ("p", "pos", "x0"), f"wp.vec2(float({i}), float({j}))", V2)
    v_here = _local(kb, ("v", "u0", "vel_here"), f"{vel}[{i}, {j}]", V2)
    midpoint = _chance(kb, 0.35)
    sample_v = _bilinear_helper(kb, "wp.vec2") if self_advect or midpoint else ""
    sample = sample_v if self_advect else _bilinear_helper(kb, dtype)
    if midpoint:  # second-order (midpoint) backtrace
        mid = _local(kb, ("mid", "p_mid"), f"{pos} - {v_here} * (0.5 * {scale})", V2)
        v_mid = _local(kb, ("v_mid", "u_mid"), f"{sample_v}({vel}, {mid})", V2)
        back = _local(kb, ("back", "p_back", "x_prev"), f"{pos} - {v_mid} * {scale}", V2)
    else:
        back = _local(kb, ("back", "p_back", "x_prev"), f"{pos} - {v_here} * {scale}", V2)
    value = f"{sample}({src}, {back})"
    if _chance(kb, 0.3):  # dissipation
        value = f"{value} * {knobs.get('dissipation', 0.9, 0.999)}"
    kb.emit(f"{dst}[{i}, {j}] = {value}")


def _stencil_project(kb: KernelBuilder, knobs: _Knobs, op: str, ndim: int, policy: str) -> None:
    """Pressure projection pieces on a collocated grid: divergence, or subtracting grad p."""
    rng = kb.rng
    vel = kb.array_param(rng.choice(("vel", "velocity", "u")), V2, 2).name
    h = knobs.get(rng.choice(("dx", "h", "cell_size")), 0.01, 0.5)
    if rng.random() < 0.5:
        kb.name = rng.choice(("compute_divergence", "velocity_divergence", "eval_divergence"))
        kb.taken.add(kb.name)
        div = kb.array_param(rng.choice(("div", "divergence")), F32, 2).name
        g = _grid_setup(kb, vel, 2, policy, f"{div}[{{here}}] = 0.0")
        ux = f"{g.read(vel, (1, 0), 'wp.vec2')}[0] - {g.read(vel, (-1, 0), 'wp.vec2')}[0]"
        uy = f"{g.read(vel, (0, 1), 'wp.vec2')}[1] - {g.read(vel, (0, -1), 'wp.vec2')}[1]"
        kb.emit(f"{div}[{g.here()}] = ({ux} + {uy}) * (0.5 / {h})")
        return
    p = kb.array_param(rng.choice(("p", "pressure")), F32, 2).name
    g = _grid_setup(kb, p, 2, policy)
    grad = _local(kb, ("grad_p", "gp"), f"wp.vec2({g.read(p, (1, 0))} - {g.read(p, (-1, 0))}, "
                  f"{g.read(p, (0, 1))} - {g.read(p, (0, -1))}) * (0.5 / {h})", V2)
    scale = f" * {knobs.get('dt_over_rho', 0.001, 0.1)}" if rng.random() < 0.5 else ""
    kb.emit(f"{vel}[{g.here()}] = {vel}[{g.here()}] - {grad}{scale}")



# ------------------------------------------------------------------------------- csr_spmv
def csr_spmv(rng: random.Random, level: int = 3) -> KernelSource:
    variant = rng.choice(["spmv", "spmv", "spmv_t", "diag", "coo", "norm"] + ["jacobi", "residual", "block"] * (
        1 + level // 3))
    names = {"spmv": ("csr_spmv", "spmv_csr", "bsr_mv", "sparse_matvec"),
             "spmv_t": ("csr_spmv_transpose", "spmv_t", "sparse_matvec_transposed"),
             "diag": ("extract_diagonal", "csr_get_diag", "inverse_diagonal"),
             "norm": ("row_norms", "csr_row_scale", "compute_row_norms"),
             "coo": ("coo_spmv", "spmv_coo", "scatter_matvec"),
             "jacobi": ("jacobi_iteration", "csr_jacobi_step", "weighted_jacobi"),
             "residual": ("compute_residual", "csr_residual", "residual_norm"),
             "block": ("bsr_spmv_3x3", "block_spmv", "csr_spmv_vec3")}[variant]
    kb, _ = _begin(rng, level, "csr_spmv", names)
    knobs = _Knobs(kb, rng.choice(("arg", "arg", "const", "mixed")))
    if variant == "coo":
        _coo_spmv(kb, knobs)
        return knobs.render()
    offsets = kb.array_param(rng.choice(("row_offsets", "indptr", "A_offsets", "offsets")), I32).name
    cols = kb.array_param(rng.choice(("col_indices", "columns", "A_columns", "indices")), I32).name
    block = variant == "block"
    vt, xt = (M33, V3) if block else (F32, F32)
    vals = kb.array_param(rng.choice(("values", "A_values", "data")), vt).name
    x = kb.array_param(rng.choice(("x", "vec", "x_in")), xt).name if variant not in ("diag", "norm") else ""
    b = kb.array_param(rng.choice(("b", "rhs")), F32).name if variant in ("jacobi", "residual") else ""
    if variant == "diag":
        out = kb.array_param(rng.choice(("diag", "inv_diag", "d")), F32).name
    elif variant == "norm":
        out = kb.array_param(rng.choice(("row_norm", "row_scale")), F32).name
    elif variant == "jacobi":
        out = kb.array_param(rng.choice(("x_new", "x_out")), F32).name
    elif variant == "residual":
        out = kb.array_param(rng.choice(("r", "residual")), F32).name
    else:
        out = kb.array_param(rng.choice(("y", "out", "y_out")), xt).name
    scaled = variant in ("spmv", "block", "spmv_t") and _chance(kb, 0.5)
    alpha = knobs.get("alpha", 0.5, 2.0) if scaled else ""
    beta = knobs.get("beta", 0.0, 1.0) if scaled and variant != "spmv_t" and rng.random() < 0.7 else ""
    count = f"{offsets}.shape[0] - 1"
    with _elements(kb, ("tid", "row", "i"), count) as row:
        bounds = rng.choice((("start", "end"), ("row_start", "row_end"), ("beg", "end")))
        start = kb.let(bounds[0], f"{offsets}[{row}]", I32).name
        end = kb.let(bounds[1], f"{offsets}[{row} + 1]", I32).name
        if variant == "spmv_t":  # row i of A scatters into y along its columns: y += A^T x
            xr = _local(kb, ("xr", "x_row", "xi"), f"{x}[{row}]" if not alpha else f"{alpha} * {x}[{row}]", F32)
            with kb.for_range("k", start, end) as k:
                kb.emit(f"wp.atomic_add({out}, {cols}[{k.name}], {vals}[{k.name}] * {xr})")
        else:
            _csr_row_body(kb, knobs, variant, row, start, end, cols, vals, x, b, out, alpha, beta, xt)
    return knobs.render()


def _csr_row_body(kb: KernelBuilder, knobs: _Knobs, variant: str, row: str, start: str, end: str,
                  cols: str, vals: str, x: str, b: str, out: str, alpha: str, beta: str, xt: str) -> None:
    rng = kb.rng
    if variant == "norm":
        acc = _acc(kb, ("acc", "norm", "s"), F32)
        kind = rng.choice(("l1", "l2", "linf"))
        with kb.for_range("k", start, end) as k:
            a = f"{vals}[{k.name}]"
            kb.emit({"l1": f"{acc} += wp.abs({a})", "l2": f"{acc} += {a} * {a}",
                     "linf": f"{acc} = wp.max({acc}, wp.abs({a}))"}[kind])
        value = f"wp.sqrt({acc})" if kind == "l2" else acc
        if rng.random() < 0.4:  # store the row scaling factor instead of the norm
            value = f"1.0 / wp.max({value}, 1.0e-12)"
        kb.emit(f"{out}[{row}] = {value}")
        return
    if variant == "diag":
        d = _acc(kb, ("d", "diag_val", "a_ii"), F32)
        with kb.for_range("k", start, end) as k:
            with kb.block(f"if {cols}[{k.name}] == {row}:"):
                kb.emit(f"{d} = {vals}[{k.name}]")
                kb.emit("break")
        if rng.random() < 0.6:  # inverse diagonal for a Jacobi preconditioner, guarding empty rows
            kb.emit(f"{out}[{row}] = wp.where(wp.abs({d}) > 1.0e-12, 1.0 / {d}, 0.0)" if rng.random() < 0.5 else
                    f"{out}[{row}] = 1.0 / wp.max({d}, 1.0e-12)")
        else:
            kb.emit(f"{out}[{row}] = {d}")
        return
    acc = _acc(kb, ("acc", "row_sum", "dot", "s"), xt, f"{xt}(0.0)" if xt != F32 else "")
    diag = _acc(kb, ("diag", "a_ii", "d"), F32) if variant == "jacobi" else ""
    loop = rng.choice(("for", "for", "while"))
    k = ""
    if loop == "for":
        ctx = kb.for_range("k", start, end)
    else:
        k = kb.let(rng.choice(("k", "idx", "nz")), start, I32).name
        ctx = kb.block(f"while {k} < {end}:")
    with ctx as loop_var:
        if loop == "for":
            k = loop_var.name
        col = _local(kb, ("col", "j", "c"), f"{cols}[{k}]", I32) if rng.random() < 0.6 or diag else f"{cols}[{k}]"
        if diag:
            with kb.block(f"if {col} == {row}:"):
                kb.emit(f"{diag} = {vals}[{k}]")
            with kb.block("else:"):
                kb.emit(f"{acc} += {vals}[{k}] * {x}[{col}]")
        else:
            kb.emit(f"{acc} += {vals}[{k}] * {x}[{col}]")
        if loop == "while":
            kb.emit(f"{k} += 1")
    if variant == "jacobi":
        new = _local(kb, ("x_jac", "xi_new"), f"({b}[{row}] - {acc}) / {diag}", F32)
        if _chance(kb, 0.4):
            omega = knobs.get("omega", 0.5, 1.0)
            kb.emit(f"{out}[{row}] = (1.0 - {omega}) * {x}[{row}] + {omega} * {new}")
        else:
            kb.emit(f"{out}[{row}] = {new}")
        return
    if variant == "residual":
        r = _local(kb, ("r_i", "res"), f"{b}[{row}] - {acc}", F32)
        kb.emit(f"{out}[{row}] = {r}")
        if _chance(kb, 0.5):  # squared norm for the convergence test
            norm = kb.array_param(rng.choice(("r_norm_sq", "residual_norm")), F32).name
            kb.emit(f"wp.atomic_add({norm}, 0, {r} * {r})")
        return
    value = f"{alpha} * {acc}" if alpha else acc
    if _chance(kb, 0.25):  # fused with the dot product x . Ax that conjugate gradients needs next
        value = _local(kb, ("ax_i", "y_i"), value, xt)
        pap = kb.array_param(rng.choice(("pAp", "x_dot_Ax", "curvature")), F32).name
        term = f"wp.dot({x}[{row}], {value})" if xt != F32 else f"{x}[{row}] * {value}"
        kb.emit(f"wp.atomic_add({pap}, 0, {term})")
    if beta:
        kb.emit(f"{out}[{row}] = {value} + {beta} * {out}[{row}]")
    elif alpha and rng.random() < 0.3:
        kb.emit(f"{out}[{row}] += {value}")
    else:
        kb.emit(f"{out}[{row}] = {value}")


def _coo_spmv(kb: KernelBuilder, knobs: _Knobs) -> None:
    """One nonzero per thread (COO), accumulated into y with atomics."""
    rng = kb.rng
    rows = kb.array_param(rng.choice(("rows", "row_indices", "coo_rows")), I32).name
    cols = kb.array_param(rng.choice(("cols", "col_indices", "coo_cols")), I32).name
    vals = kb.array_param(rng.choice(("values", "data")), F32).name
    x = kb.array_param(rng.choice(("x", "vec")), F32).name
    y = kb.array_param(rng.choice(("y", "out")), F32).name
    alpha = knobs.get("alpha", 0.5, 2.0) if _chance(kb, 0.4) else ""
    transpose = rng.random() < 0.3
    with _elements(kb, ("tid", "k", "nz"), f"{vals}.shape[0]") as k:
        r = _local(kb, ("r", "row", "i"), f"{rows}[{k}]", I32)
        c = _local(kb, ("c", "col", "j"), f"{cols}[{k}]", I32)
        if transpose:
            r, c = c, r
        v = f"{vals}[{k}] * {x}[{c}]"
        kb.emit(f"wp.atomic_add({y}, {r}, {alpha + ' * ' if alpha else ''}{v})")



# ------------------------------------------------------------------------------- graph_relax
def _edge_ends(kb: KernelBuilder, e: str) -> tuple[str, str]:
    """Declare the edge list (separate arrays or ``wp.vec2i``) and load edge ``e``'s ends."""
    rng = kb.rng
    names = rng.choice((("u", "v"), ("src", "dst"), ("a", "b")))
    if rng.random() < 0.5:
        edges = kb.array_param(rng.choice(("edges", "edge_list")), "wp.vec2i").name
        ends = _local(kb, ("edge", "ends"), f"{edges}[{e}]", "wp.vec2i")
        return kb.let(names[0], f"{ends}[0]", I32).name, kb.let(names[1], f"{ends}[1]", I32).name
    heads = kb.array_param(rng.choice(("edge_src", "sources", "heads")), I32).name
    tails = kb.array_param(rng.choice(("edge_dst", "targets", "tails")), I32).name
    return kb.let(names[0], f"{heads}[{e}]", I32).name, kb.let(names[1], f"{tails}[{e}]", I32).name


def graph_relax(rng: random.Random, level: int = 3) -> KernelSource:
    variant = rng.choice(["bellman_ford", "bellman_ford", "bfs", "labels", "pagerank_push", "pagerank_pull",
                          "jacobi", "smooth"])
    names = {"bellman_ford": ("relax_edges", "bellman_ford_step", "sssp_relax"),
             "bfs": ("bfs_expand", "bfs_level_step", "expand_frontier"),
             "labels": ("propagate_labels", "connected_components_step", "min_label_hook"),
             "pagerank_push": ("pagerank_push", "push_rank", "scatter_rank"),
             "pagerank_pull": ("pagerank_pull", "gather_rank", "pagerank_step"),
             "jacobi": ("graph_jacobi", "laplacian_jacobi_step", "solve_graph_laplacian"),
             "smooth": ("laplacian_smooth", "smooth_vertices", "umbrella_smoothing")}[variant]
    kb, _ = _begin(rng, level, "graph_relax", names)
    knobs = _Knobs(kb, rng.choice(("arg", "arg", "const", "mixed")))
    {"bellman_ford": _graph_bellman_ford, "bfs": _graph_bfs, "labels": _graph_labels,
     "pagerank_push": _graph_pagerank, "pagerank_pull": _graph_pagerank, "jacobi": _graph_jacobi,
     "smooth": _graph_jacobi}[variant](kb, knobs, variant)
    return knobs.render()


def _graph_bellman_ford(kb: KernelBuilder, knobs: _Knobs, variant: str) -> None:
    """One relaxation sweep over all edges: dist[v] = min(dist[v], dist[u] + w(u, v))."""
    rng = kb.rng
    hops = rng.random() < 0.3  # unweighted: integer hop counts
    t = I32 if hops else F32
    dist = kb.array_param(rng.choice(("hops", "level") if hops else ("dist", "distance", "d")), t).name
    weights = kb.array_param(rng.choice(("weights", "edge_weight", "w")), F32).name if not hops else ""
    changed = kb.array_param(rng.choice(("changed", "updated", "flag")), I32).name if _chance(kb, 0.5) else ""
    pred = kb.array_param(rng.choice(("pred", "parent")), I32).name if _chance(kb, 0.25) else ""
    undirected = _chance(kb, 0.3)
    e = _tid1(kb, "tid", "e", "edge_id")
    u, v = _edge_ends(kb, e)
    inf = knobs.get("inf_dist", 1.0e30, 1.0e30) if not hops else knobs.get("unreached", 1000000, 1000000, I32)
    directions = [(u, v), (v, u)] if undirected else [(u, v)]
    w = ""
    if weights:
        w = _local(kb, ("w", "cost", "len_e"), f"{weights}[{e}]", F32)
    for a, b in directions:
        da = kb.let(f"d_{a}", f"{dist}[{a}]", t).name
        with kb.block(f"if {da} < {inf}:"):
            cand = _local(kb, ("cand", "nd", "new_dist"), f"{da} + {w}" if w else f"{da} + 1", t)
            if changed or pred:
                old = _local(kb, ("old", "prev"), f"wp.atomic_min({dist}, {b}, {cand})", t)
                with kb.block(f"if {cand} < {old}:"):
                    if changed:
                        kb.emit(f"{changed}[0] = 1")
                    if pred:  # racy but converges: the last writer wins among equal improvements
                        kb.emit(f"{pred}[{b}] = {a}")
            else:
                kb.emit(f"wp.atomic_min({dist}, {b}, {cand})")


def _graph_csr(kb: KernelBuilder) -> tuple[str, str]:
    rng = kb.rng
    offsets = kb.array_param(rng.choice(("offsets", "adj_offsets", "row_ptr")), I32).name
    adj = kb.array_param(rng.choice(("neighbors", "adj", "col_idx")), I32).name
    return offsets, adj


def _graph_bfs(kb: KernelBuilder, knobs: _Knobs, variant: str) -> None:
    """Level-synchronous BFS: nodes on the current level claim their unvisited neighbours."""
    rng = kb.rng
    offsets, adj = _graph_csr(kb)
    levels = kb.array_param(rng.choice(("levels", "depth", "bfs_level")), I32).name
    current = kb.scalar_param(rng.choice(("current_level", "level", "iteration")), I32).name
    changed = kb.array_param(rng.choice(("changed", "frontier_size", "num_added")), I32).name
    parents = kb.array_param(rng.choice(("parents", "pred")), I32).name if _chance(kb, 0.3) else ""
    v = _tid1(kb, "tid", "v", "node")
    with kb.block(f"if {levels}[{v}] != {current}:"):
        kb.emit("return")
    with kb.for_range("k", f"{offsets}[{v}]", f"{offsets}[{v} + 1]") as k:
        nbr = _local(kb, ("u", "nbr", "w"), f"{adj}[{k.name}]", I32)
        cas = rng.random() < 0.5
        if cas:  # compare-and-swap claims each node exactly once
            prev = _local(kb, ("prev", "old"), f"wp.atomic_cas({levels}, {nbr}, -1, {current} + 1)", I32)
            cond = f"{prev} == -1"
        else:  # benign race: several parents may write the same level
            cond = f"{levels}[{nbr}] == -1"
        with kb.block(f"if {cond}:"):
            if not cas:
                kb.emit(f"{levels}[{nbr}] = {current} + 1")
            if parents:
                kb.emit(f"{parents}[{nbr}] = {v}")
            kb.emit(f"wp.atomic_add({changed}, 0, 1)" if rng.random() < 0.6 else f"{changed}[0] = 1")


def _graph_labels(kb: KernelBuilder, knobs: _Knobs, variant: str) -> None:
    """Connected components by min-label propagation (edge hooking or CSR gather), or pointer jumping."""
    rng = kb.rng
    style = rng.choice(("edges", "edges", "gather", "jump"))
    labels = kb.array_param(rng.choice(("labels", "component", "comp_id")), I32).name
    if style == "jump":
        tid = _tid1(kb, "tid", "v")
        parent = _local(kb, ("p", "parent"), f"{labels}[{tid}]", I32)
        grand = _local(kb, ("gp", "grandparent"), f"{labels}[{parent}]", I32)
        with kb.block(f"if {grand} != {parent}:"):
            kb.emit(f"{labels}[{tid}] = {grand}")
            if _chance(kb, 0.5):
                changed = kb.array_param(rng.choice(("changed", "flag")), I32).name
                kb.emit(f"{changed}[0] = 1")
        return
    changed = kb.array_param(rng.choice(("changed", "flag", "num_changes")), I32).name if _chance(kb, 0.6) else ""
    if style == "edges":
        e = _tid1(kb, "tid", "e")
        u, v = _edge_ends(kb, e)
        prefix = rng.choice(("l", "label_", "c"))
        lu = kb.let(f"{prefix}{u}", f"{labels}[{u}]", I32).name
        lv = kb.let(f"{prefix}{v}", f"{labels}[{v}]", I32).name
        for la, b, lb, kw in ((lu, v, lv, "if"), (lv, u, lu, "elif")):
            with kb.block(f"{kw} {la} < {lb}:"):
                kb.emit(f"wp.atomic_min({labels}, {b}, {la})")
                if changed:
                    kb.emit(f"{changed}[0] = 1")
        return
    offsets, adj = _graph_csr(kb)
    out = kb.array_param(rng.choice(("labels_out", "new_labels")), I32).name
    v = _tid1(kb, "tid", "v", "node")
    m = _local(kb, ("m", "best", "min_label"), f"{labels}[{v}]", I32)
    with kb.for_range("k", f"{offsets}[{v}]", f"{offsets}[{v} + 1]") as k:
        kb.emit(f"{m} = wp.min({m}, {labels}[{adj}[{k.name}]])")
    kb.emit(f"{out}[{v}] = {m}")
    if changed:
        with kb.block(f"if {m} != {labels}[{v}]:"):
            kb.emit(f"{changed}[0] = 1")


def _graph_pagerank(kb: KernelBuilder, knobs: _Knobs, variant: str) -> None:
    rng = kb.rng
    offsets, adj = _graph_csr(kb)
    rank = kb.array_param(rng.choice(("rank", "pr", "rank_old")), F32).name
    new_rank = kb.array_param(rng.choice(("new_rank", "rank_next", "pr_out")), F32).name
    damping = knobs.get("damping", 0.8, 0.9)
    v = _tid1(kb, "tid", "v", "node")

    def teleport() -> str:
        n = kb.scalar_param(rng.choice(("num_nodes", "n")), I32).name
        return f"(1.0 - {damping}) / float({n})"

    if variant == "pagerank_push":
        deg = _local(kb, ("deg", "out_degree"), f"{offsets}[{v} + 1] - {offsets}[{v}]", I32)
        if rng.random() < 0.5:  # otherwise the host initializes new_rank with the teleport term
            kb.emit(f"wp.atomic_add({new_rank}, {v}, {teleport()})")
        dangling = kb.array_param(rng.choice(("dangling", "dangling_mass")), F32).name if _chance(kb, 0.4) else ""
        with kb.block(f"if {deg} == 0:"):
            if dangling:  # rank of sinks is redistributed uniformly by the host
                kb.emit(f"wp.atomic_add({dangling}, 0, {damping} * {rank}[{v}])")
            kb.emit("return")
        share = _local(kb, ("share", "contrib"), f"{damping} * {rank}[{v}] / float({deg})", F32)
        with kb.for_range("k", f"{offsets}[{v}]", f"{offsets}[{v} + 1]") as k:
            kb.emit(f"wp.atomic_add({new_rank}, {adj}[{k.name}], {share})")
        return
    out_deg = kb.array_param(rng.choice(("out_degree", "degree")), I32).name
    acc = _acc(kb, ("acc", "incoming", "s"), F32)
    with kb.for_range("k", f"{offsets}[{v}]", f"{offsets}[{v} + 1]") as k:
        u = _local(kb, ("u", "src"), f"{adj}[{k.name}]", I32)
        kb.emit(f"{acc} += {rank}[{u}] / float(wp.max({out_deg}[{u}], 1))")
    value = _local(kb, ("r", "new_r"), f"{teleport()} + {damping} * {acc}", F32)
    kb.emit(f"{new_rank}[{v}] = {value}")
    if _chance(kb, 0.4):  # L1 change for the convergence test
        delta = kb.array_param(rng.choice(("delta", "diff")), F32).name
        kb.emit(f"wp.atomic_add({delta}, 0, wp.abs({value} - {rank}[{v}]))")


def _graph_jacobi(kb: KernelBuilder, knobs: _Knobs, variant: str) -> None:
    """Weighted graph Laplacian: a Jacobi step for (D + reg I - W) x = b, or vertex smoothing."""
    rng = kb.rng
    smooth = variant == "smooth"
    t = V3 if smooth else F32
    offsets, adj = _graph_csr(kb)
    weights = kb.array_param(rng.choice(("weights", "edge_w", "cot_weights")), F32).name if rng.random() < 0.6 else ""
    x = kb.array_param(rng.choice(("x", "positions", "verts") if smooth else ("x", "u", "phi")), t).name
    b = kb.array_param(rng.choice(("b", "rhs")), F32).name if not smooth else ""
    out = kb.array_param(rng.choice(("x_out", "x_new", "out")), t).name
    pinned = kb.array_param(rng.choice(("pinned", "fixed", "boundary")), I32).name if _chance(kb, 0.3) else ""
    v = _tid1(kb, "tid", "v", "i")
    if pinned:
        with kb.block(f"if {pinned}[{v}] != 0:"):
            kb.emit(f"{out}[{v}] = {x}[{v}]")
            kb.emit("return")
    acc = _acc(kb, ("acc", "sum_nb", "s"), t)
    wsum = _acc(kb, ("wsum", "degree", "w_total"), F32)
    with kb.for_range("k", f"{offsets}[{v}]", f"{offsets}[{v} + 1]") as k:
        j = _local(kb, ("j", "nbr", "u"), f"{adj}[{k.name}]", I32)
        if weights:
            w = _local(kb, ("w", "wij"), f"{weights}[{k.name}]", F32)
            kb.emit(f"{acc} += {w} * {x}[{j}]" if smooth or rng.random() < 0.5 else f"{acc} += {x}[{j}] * {w}")
            kb.emit(f"{wsum} += {w}")
        else:
            kb.emit(f"{acc} += {x}[{j}]")
            kb.emit(f"{wsum} += 1.0")
    if smooth:
        lam = knobs.get(rng.choice(("lam", "strength", "alpha")), 0.1, 0.9)
        with kb.block(f"if {wsum} > 0.0:"):
            centroid = _local(kb, ("centroid", "avg"), f"{acc} / {wsum}", V3)
            kb.emit(f"{out}[{v}] = {x}[{v}] + ({centroid} - {x}[{v}]) * {lam}")
        with kb.block("else:"):
            kb.emit(f"{out}[{v}] = {x}[{v}]")
        return
    reg = knobs.get(rng.choice(("reg", "eps", "mass")), 1.0e-4, 1.0)
    kb.emit(f"{out}[{v}] = ({b}[{v}] + {acc}) / ({wsum} + {reg})")



# ------------------------------------------------------------------------------- reduction
def reduction(rng: random.Random, level: int = 3) -> KernelSource:
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
    kb, ex = _begin(rng, level, "reduction", names, leaf_prob=0.55)
    knobs = _Knobs(kb, rng.choice(("arg", "arg", "const")))
    {"sum": _reduce_sum, "minmax": _reduce_minmax, "norm": _reduce_norm, "dot": _reduce_dot,
     "argmax": _reduce_argmax, "histogram": _reduce_histogram, "moments": _reduce_moments,
     "vec_sum": _reduce_vec_sum, "grid_stride": _reduce_grid_stride, "blocks": _reduce_blocks}[variant](kb, ex, knobs)
    return knobs.render()


def _masked(kb: KernelBuilder, i: str) -> contextlib.AbstractContextManager[None]:
    """Optionally restrict the reduction to active elements."""
    if not _chance(kb, 0.2):
        return contextlib.nullcontext()
    mask = kb.array_param(kb.rng.choice(("mask", "active", "valid")), I32).name
    return kb.block(f"if {mask}[{i}] != 0:")


def _mapped(kb: KernelBuilder, ex: ExprGen, value: str) -> str:
    """The reduced quantity: the value itself or (sometimes) a synthesized function of it."""
    if not _chance(kb, 0.25):
        return value
    return ex.expr_reading(F32, _depth(kb, 1, 2))


def _extra_stats(kb: KernelBuilder, knobs: _Knobs, v: str) -> None:
    """Fused side reductions of the same value (one pass over memory instead of several)."""
    rng = kb.rng
    pool = ["count_pos", "max_abs", "sum_sq", "count_over", "min"]
    for stat in rng.sample(pool, _count(kb, 0, 1)):
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


def _reduce_sum(kb: KernelBuilder, ex: ExprGen, knobs: _Knobs) -> None:
    rng = kb.rng
    src = kb.array_param(rng.choice(("values", "x", "data", "src")), F32).name
    total = kb.array_param(rng.choice(("total", "result", "sum_out")), F32).name
    i = _tid1(kb, "tid", "i")
    with _masked(kb, i):
        v = _local(kb, ("v", "x_i", "val"), f"{src}[{i}]", F32)
        slot = "0" if rng.random() < 0.7 else f"{i} % {total}.shape[0]"  # spread contention over slots
        kb.emit(f"wp.atomic_add({total}, {slot}, {_mapped(kb, ex, v)})")
        _extra_stats(kb, knobs, v)


def _reduce_minmax(kb: KernelBuilder, ex: ExprGen, knobs: _Knobs) -> None:
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
    i = _tid1(kb, "tid", "i")
    with _masked(kb, i):
        v = _local(kb, ("v", "p", "val"), f"{src}[{i}]", t)
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


def _reduce_norm(kb: KernelBuilder, ex: ExprGen, knobs: _Knobs) -> None:
    rng = kb.rng
    vec = rng.random() < 0.35
    src = kb.array_param(rng.choice(("x", "residual", "values")), V3 if vec else F32).name
    out = kb.array_param(rng.choice(("norm", "result", "norm_sq")), F32).name
    kind = rng.choice(("l2", "l2", "l1", "linf"))
    i = _tid1(kb, "tid", "i")
    with _masked(kb, i):
        v = _local(kb, ("v", "r", "x_i"), f"{src}[{i}]", V3 if vec else F32)
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


def _reduce_dot(kb: KernelBuilder, ex: ExprGen, knobs: _Knobs) -> None:
    rng = kb.rng
    vec = rng.random() < 0.35
    t = V3 if vec else F32
    a = kb.array_param(rng.choice(("a", "x", "r")), t).name
    b = kb.array_param(rng.choice(("b", "y", "z", "p")), t).name
    out = kb.array_param(rng.choice(("result", "dot", "out")), F32).name
    i = _tid1(kb, "tid", "i")
    prod = f"wp.dot({a}[{i}], {b}[{i}])" if vec else f"{a}[{i}] * {b}[{i}]"
    if rng.random() < 0.3:  # several dot products at once (as CG needs r.r and p.Ap)
        kb.emit(f"wp.atomic_add({out}, 0, {prod})")
        sq = f"wp.dot({a}[{i}], {a}[{i}])" if vec else f"{a}[{i}] * {a}[{i}]"
        kb.emit(f"wp.atomic_add({out}, 1, {sq})")
    else:
        with _masked(kb, i):
            if _chance(kb, 0.3):
                p = _local(kb, ("prod", "ab"), prod, F32)
                kb.emit(f"wp.atomic_add({out}, 0, {p})")
                _extra_stats(kb, knobs, p)
            else:
                kb.emit(f"wp.atomic_add({out}, 0, {prod})")


def _reduce_argmax(kb: KernelBuilder, ex: ExprGen, knobs: _Knobs) -> None:
    """Second pass of argmax/argmin: the lowest index whose value equals the reduced extreme."""
    rng = kb.rng
    src = kb.array_param(rng.choice(("values", "scores", "x")), F32).name
    best = kb.array_param(rng.choice(("max_value", "best", "extreme")), F32).name
    index = kb.array_param(rng.choice(("argmax", "best_index", "index_out")), I32).name
    i = _tid1(kb, "tid", "i")
    v = _local(kb, ("v", "val", "s"), f"{src}[{i}]", F32)
    if rng.random() < 0.5:
        with kb.block(f"if {v} == {best}[0]:"):
            kb.emit(f"wp.atomic_min({index}, 0, {i})")
    else:  # with a tolerance, for values recomputed in a different order
        tol = knobs.get("tol", 1.0e-6, 1.0e-3)
        with kb.block(f"if wp.abs({v} - {best}[0]) <= {tol}:"):
            kb.emit(f"wp.atomic_min({index}, 0, {i})")


def _reduce_histogram(kb: KernelBuilder, ex: ExprGen, knobs: _Knobs) -> None:
    rng = kb.rng
    src = kb.array_param(rng.choice(("values", "samples", "x")), F32).name
    weighted = rng.random() < 0.3  # float bins accumulate a weight per sample instead of a count
    hist = kb.array_param(rng.choice(("hist", "bins", "counts")), F32 if weighted else I32).name
    weights = kb.array_param(rng.choice(("weights", "w")), F32).name if weighted and rng.random() < 0.7 else ""
    lo = knobs.get(rng.choice(("lo", "min_value", "range_min")), -1.0, 0.0)
    hi = knobs.get(rng.choice(("hi", "max_value", "range_max")), 1.0, 10.0)
    i = _tid1(kb, "tid", "i")
    v = _local(kb, ("v", "x_i", "s"), f"{src}[{i}]", F32)
    nbins = _local(kb, ("nbins", "num_bins"), f"{hist}.shape[0]", I32)
    t = _local(kb, ("t", "u", "frac"), f"({v} - {lo}) / ({hi} - {lo})", F32)
    if rng.random() < 0.5:  # out-of-range samples are dropped
        with kb.block(f"if {t} < 0.0 or {t} >= 1.0:"):
            kb.emit("return")
        b = _local(kb, ("b", "bin_idx", "bucket"), f"int({t} * float({nbins}))", I32)
    else:  # out-of-range samples go to the end bins
        b = _local(kb, ("b", "bin_idx", "bucket"), f"wp.clamp(int({t} * float({nbins})), 0, {nbins} - 1)", I32)
    kb.emit(f"wp.atomic_add({hist}, {b}, {(weights + '[' + i + ']') if weights else '1.0' if weighted else '1'})")


def _reduce_moments(kb: KernelBuilder, ex: ExprGen, knobs: _Knobs) -> None:
    """Sum, sum of squares (and count) in one pass, for mean and variance on the host."""
    rng = kb.rng
    src = kb.array_param(rng.choice(("values", "x", "samples")), F32).name
    packed = rng.random() < 0.5
    if packed:
        stats = kb.array_param(rng.choice(("stats", "moments")), F32).name
    else:
        s1 = kb.array_param(rng.choice(("sum_x", "total")), F32).name
        s2 = kb.array_param(rng.choice(("sum_x2", "total_sq")), F32).name
    count = kb.array_param(rng.choice(("count", "n_valid")), I32).name if _chance(kb, 0.4) else ""
    i = _tid1(kb, "tid", "i")
    v = _local(kb, ("v", "x_i"), f"{src}[{i}]", F32)
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
    if packed and _chance(kb, 0.3):  # third and fourth moments for skewness/kurtosis
        v2 = _local(kb, ("v2", "sq"), f"{v} * {v}", F32)
        kb.emit(f"wp.atomic_add({stats}, 2, {v2} * {v})")
        kb.emit(f"wp.atomic_add({stats}, 3, {v2} * {v2})")


def _reduce_vec_sum(kb: KernelBuilder, ex: ExprGen, knobs: _Knobs) -> None:
    """Mass-weighted vector sums: center of mass, momentum, total force."""
    rng = kb.rng
    x = kb.array_param(rng.choice(("x", "positions", "velocities", "forces")), V3).name
    mass = kb.array_param(rng.choice(("mass", "particle_mass", "weights")), F32).name if rng.random() < 0.7 else ""
    total = kb.array_param(rng.choice(("total", "com", "momentum")), V3).name
    total_m = kb.array_param(rng.choice(("total_mass", "mass_sum")), F32).name if mass and _chance(kb, 0.4) else ""
    i = _tid1(kb, "tid", "i")
    with _masked(kb, i):
        if mass:
            m = _local(kb, ("m", "mi"), f"{mass}[{i}]", F32)
            kb.emit(f"wp.atomic_add({total}, 0, {x}[{i}] * {m})")
            if total_m:
                kb.emit(f"wp.atomic_add({total_m}, 0, {m})")
        else:
            kb.emit(f"wp.atomic_add({total}, 0, {x}[{i}])")


def _reduce_grid_stride(kb: KernelBuilder, ex: ExprGen, knobs: _Knobs) -> None:
    """Each thread folds a strided slice locally, then issues one atomic."""
    rng = kb.rng
    src = kb.array_param(rng.choice(("values", "x", "data")), F32).name
    out = kb.array_param(rng.choice(("total", "result", "partial")), F32).name
    op = rng.choice(("sum", "sum", "max", "min", "sumsq"))
    n = f"{src}.shape[0]" if rng.random() < 0.6 else kb.scalar_param(rng.choice(("n", "count")), I32).name
    stride = kb.scalar_param(rng.choice(("stride", "num_threads")), I32).name
    tid = _tid1(kb, "tid", "thread", guard=False)
    init = {"sum": "0.0", "sumsq": "0.0", "max": "-1.0e30", "min": "1.0e30"}[op]
    acc = _acc(kb, ("acc", "local", "partial_sum"), F32, init)
    if rng.random() < 0.7:
        with kb.for_range("i", tid, n, stride) as iv:
            v = _local(kb, ("v", "x_i"), f"{src}[{iv.name}]", F32)
            _fold(kb, ex, op, acc, v)
    else:  # the same loop written with while
        i = kb.let("i", tid, I32).name
        with kb.block(f"while {i} < {n}:"):
            v = _local(kb, ("v", "x_i"), f"{src}[{i}]", F32)
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


def _reduce_blocks(kb: KernelBuilder, ex: ExprGen, knobs: _Knobs) -> None:
    """Two-level reduction through a 2-D array of partials: fill (block, lane) or fold rows."""
    rng = kb.rng
    if rng.random() < 0.5:
        src = kb.array_param(rng.choice(("values", "x", "data")), F32).name
        partials = kb.array_param(rng.choice(("partials", "block_sums", "scratch")), F32, 2).name
        chunk = knobs.get(rng.choice(("chunk", "items_per_thread")), 2, 16, I32)
        b, lane = (v.name for v in kb.tid(2, rng.choice((("block", "lane"), ("b", "t")))))
        base = _local(kb, ("base", "first"), f"(({b} * {partials}.shape[1]) + {lane}) * {chunk}", I32)
        acc = _acc(kb, ("acc", "s", "local_sum"), F32)
        with kb.for_range("k", chunk) as k:
            idx = _local(kb, ("idx", "j"), f"{base} + {k.name}", I32)
            with kb.block(f"if {idx} < {src}.shape[0]:"):
                kb.emit(f"{acc} += {_mapped(kb, ex, src + '[' + idx + ']')}")
        kb.emit(f"{partials}[{b}, {lane}] = {acc}")
        return
    partials = kb.array_param(rng.choice(("partials", "block_sums")), F32, 2).name
    out = kb.array_param(rng.choice(("block_totals", "out", "row_sums")), F32).name
    b = _tid1(kb, "block", "b", "row")
    op = rng.choice(("sum", "sum", "max"))
    acc = _acc(kb, ("acc", "s", "total"), F32, "0.0" if op == "sum" else "-1.0e30")
    with kb.for_range("lane", f"{partials}.shape[1]") as lane:
        v = f"{partials}[{b}, {lane.name}]"
        kb.emit(f"{acc} += {v}" if op == "sum" else f"{acc} = wp.max({acc}, {v})")
    if rng.random() < 0.4:  # and fold the block totals into a grand total
        grand = kb.array_param(rng.choice(("grand_total", "total")), F32).name
        kb.emit(f"{'wp.atomic_add' if op == 'sum' else 'wp.atomic_max'}({grand}, 0, {acc})")
    kb.emit(f"{out}[{b}] = {acc}")



# ------------------------------------------------------------------------------- scan
_SCAN_OPS = {"add": ("+", "0"), "max": ("wp.max", "-1.0e30"), "min": ("wp.min", "1.0e30"), "mul": ("*", "1")}


def _combine(op: str, a: str, b: str) -> str:
    sym = _SCAN_OPS[op][0]
    return f"{sym}({a}, {b})" if sym.startswith("wp.") else f"{a} {sym} {b}"


def _identity(op: str, t: str) -> str:
    ident = _SCAN_OPS[op][1]
    if t == I32:
        return {"-1.0e30": "-2147483647", "1.0e30": "2147483647"}.get(ident, ident)
    return ident if "." in ident else f"{ident}.0"


def scan(rng: random.Random, level: int = 3) -> KernelSource:
    variant = rng.choice(["naive", "naive", "hillis_steele", "segmented", "blocked", "add_offsets", "compact"]
                         + ["segmented", "blocked", "hillis_steele"] * (level // 2))
    names = {"naive": ("prefix_sum_naive", "inclusive_scan", "exclusive_scan", "cumulative_sum"),
             "hillis_steele": ("scan_step", "hillis_steele_step", "scan_pass"),
             "segmented": ("segmented_scan", "segmented_prefix_sum", "scan_segments"),
             "blocked": ("scan_blocks", "block_scan", "scan_rows"),
             "add_offsets": ("add_block_offsets", "uniform_add", "propagate_block_sums"),
             "compact": ("compact", "stream_compaction", "scatter_selected")}[variant]
    kb, _ = _begin(rng, level, "scan", names)
    knobs = _Knobs(kb, rng.choice(("arg", "arg", "const")))
    t = I32 if rng.random() < 0.35 else F32
    op = rng.choice(("add", "add", "add", "max", "min", "mul")) if variant in ("naive", "hillis_steele", "blocked") \
        else "add"
    {"naive": _scan_naive, "hillis_steele": _scan_step, "segmented": _scan_segmented, "blocked": _scan_blocked,
     "add_offsets": _scan_add_offsets, "compact": _scan_compact}[variant](kb, knobs, t, op)
    return knobs.render()


def _scan_naive(kb: KernelBuilder, knobs: _Knobs, t: str, op: str) -> None:
    """Each thread folds its whole prefix: O(n^2) work, the reference the fast scans are checked against."""
    rng = kb.rng
    src = kb.array_param(rng.choice(("src", "values", "inp", "x")), t).name
    out = kb.array_param(rng.choice(("out", "prefix", "result", "scanned")), t).name
    exclusive = rng.random() < 0.4
    second = _chance(kb, 0.25)  # scan a second array in the same pass (e.g. counts and sizes)
    src2 = kb.array_param(rng.choice(("sizes", "weights", "src2")), t).name if second else ""
    out2 = kb.array_param(rng.choice(("size_offsets", "weight_prefix", "out2")), t).name if second else ""
    i = _tid1(kb, "tid", "i")
    acc = _acc(kb, ("acc", "running", "s"), t, _identity(op, t))
    acc2 = _acc(kb, ("acc2", "running2", "s2"), t, _identity("add", t)) if second else ""
    stop = i if exclusive else f"{i} + 1"
    bounds = (stop,) if rng.random() < 0.7 else (f"{i} - 1" if exclusive else i, "-1", "-1")  # or walk down
    with kb.for_range("j", *bounds) as j:
        kb.emit(f"{acc} = {_combine(op, acc, f'{src}[{j.name}]')}")
        if second:
            kb.emit(f"{acc2} += {src2}[{j.name}]")
    if second:
        kb.emit(f"{out2}[{i}] = {acc2}")
    if _chance(kb, 0.2) and op == "add" and t == F32:  # normalized cumulative distribution
        total = kb.array_param(rng.choice(("total", "norm")), F32).name
        kb.emit(f"{out}[{i}] = {acc} / wp.max({total}[0], 1.0e-12)")
    else:
        kb.emit(f"{out}[{i}] = {acc}")


def _scan_step(kb: KernelBuilder, knobs: _Knobs, t: str, op: str) -> None:
    """One Hillis-Steele pass: out[i] = src[i] (op) src[i - offset]; the host doubles offset."""
    rng = kb.rng
    src = kb.array_param(rng.choice(("src", "x_in", "ping")), t).name
    out = kb.array_param(rng.choice(("dst", "x_out", "pong")), t).name
    offset = kb.scalar_param(rng.choice(("offset", "stride", "d")), I32).name
    i = _tid1(kb, "tid", "i")
    if rng.random() < 0.5:
        with kb.block(f"if {i} >= {offset}:"):
            kb.emit(f"{out}[{i}] = {_combine(op, f'{src}[{i}]', f'{src}[{i} - {offset}]')}")
        with kb.block("else:"):
            kb.emit(f"{out}[{i}] = {src}[{i}]")
    else:
        v = _local(kb, ("v", "x_i", "val"), f"{src}[{i}]", t)
        with kb.block(f"if {i} >= {offset}:"):
            kb.emit(f"{v} = {_combine(op, v, f'{src}[{i} - {offset}]')}")
        kb.emit(f"{out}[{i}] = {v}")
    if _chance(kb, 0.25):  # the host stops once no element changes
        changed = kb.array_param(rng.choice(("changed", "active")), I32).name
        with kb.block(f"if {i} >= {offset} and {src}[{i} - {offset}] != {_identity(op, t)}:"):
            kb.emit(f"{changed}[0] = 1")


def _scan_segmented(kb: KernelBuilder, knobs: _Knobs, t: str, op: str) -> None:
    """Segmented inclusive scan; flags mark the first element of each segment."""
    rng = kb.rng
    src = kb.array_param(rng.choice(("values", "src", "x")), t).name
    flags = kb.array_param(rng.choice(("flags", "head_flags", "segment_start")), I32).name
    out = kb.array_param(rng.choice(("out", "result", "scanned")), t).name
    i = _tid1(kb, "tid", "i")
    if rng.random() < 0.5:  # naive: walk back to the segment head
        acc = _acc(kb, ("acc", "running", "s"), t, f"{src}[{i}]")
        j = kb.let(rng.choice(("j", "k", "pos")), i, I32).name
        with kb.block(f"while {j} > 0 and {flags}[{j}] == 0:"):
            kb.emit(f"{j} -= 1")
            kb.emit(f"{acc} += {src}[{j}]")
        kb.emit(f"{out}[{i}] = {acc}")
        return
    # one Hillis-Steele pass carrying the flags
    offset = kb.scalar_param(rng.choice(("offset", "stride")), I32).name
    flags_out = kb.array_param(rng.choice(("flags_out", "head_flags_out")), I32).name
    v = _local(kb, ("v", "val"), f"{src}[{i}]", t)
    f = _local(kb, ("f", "flag"), f"{flags}[{i}]", I32)
    with kb.block(f"if {i} >= {offset}:"):
        with kb.block(f"if {f} == 0:"):
            kb.emit(f"{v} = {v} + {src}[{i} - {offset}]")
        kb.emit(f"{f} = {f} | {flags}[{i} - {offset}]")
    kb.emit(f"{out}[{i}] = {v}")
    kb.emit(f"{flags_out}[{i}] = {f}")


def _scan_blocked(kb: KernelBuilder, knobs: _Knobs, t: str, op: str) -> None:
    """First level of a blocked scan: each thread scans one row of a 2-D array sequentially."""
    rng = kb.rng
    data = kb.array_param(rng.choice(("data", "blocks", "tiles")), t, 2).name
    in_place = rng.random() < 0.5
    out = data if in_place else kb.array_param(rng.choice(("out", "scanned")), t, 2).name
    sums = kb.array_param(rng.choice(("block_sums", "totals", "carry")), t).name if rng.random() < 0.7 else ""
    exclusive = rng.random() < 0.4
    n = kb.scalar_param(rng.choice(("n", "count", "num_items")), I32).name if _chance(kb, 0.3) else ""
    b = _tid1(kb, "block", "b", "row")
    acc = _acc(kb, ("acc", "running", "carry_in"), t, _identity(op, t))
    with kb.for_range("k", f"{data}.shape[1]") as k:
        if n:  # the last row may be partly past the end of the flattened input
            with kb.block(f"if {b} * {data}.shape[1] + {k.name} >= {n}:"):
                kb.emit("break")
        v = _local(kb, ("v", "x", "val"), f"{data}[{b}, {k.name}]", t)
        if exclusive:
            kb.emit(f"{out}[{b}, {k.name}] = {acc}")
            kb.emit(f"{acc} = {_combine(op, acc, v)}")
        else:
            kb.emit(f"{acc} = {_combine(op, acc, v)}")
            kb.emit(f"{out}[{b}, {k.name}] = {acc}")
    if sums:
        kb.emit(f"{sums}[{b}] = {acc}")


def _scan_add_offsets(kb: KernelBuilder, knobs: _Knobs, t: str, op: str) -> None:
    """Last level of a blocked scan: add each block's scanned offset to its elements."""
    rng = kb.rng
    two_d = rng.random() < 0.5
    data = kb.array_param(rng.choice(("data", "out", "values")), t, 2 if two_d else 1).name
    offsets = kb.array_param(rng.choice(("block_offsets", "scanned_sums", "carry")), t).name
    if two_d:
        b, k = (v.name for v in kb.tid(2, rng.choice((("block", "k"), ("b", "i")))))
        index = f"{b}, {k}"
    else:
        i = _tid1(kb, "tid", "i")
        block_size = knobs.get(rng.choice(("block_size", "tile")), 64, 1024, I32)
        b = _local(kb, ("b", "block"), f"{i} // {block_size}", I32)
        index = i
    if rng.random() < 0.6:  # block 0 has no carry-in
        with kb.block(f"if {b} > 0:"):
            kb.emit(f"{data}[{index}] = {data}[{index}] + {offsets}[{b} - 1]")
    else:
        kb.emit(f"{data}[{index}] += {offsets}[{b}]")


def _scan_compact(kb: KernelBuilder, knobs: _Knobs, t: str, op: str) -> None:
    """Stream compaction after an exclusive scan of the keep-flags."""
    rng = kb.rng
    src = kb.array_param(rng.choice(("src", "values", "items")), t).name
    keep = kb.array_param(rng.choice(("keep", "flags", "predicate")), I32).name
    slots = kb.array_param(rng.choice(("scan", "offsets", "write_index")), I32).name
    out = kb.array_param(rng.choice(("out", "compacted", "selected")), t).name
    count = kb.array_param(rng.choice(("count", "num_selected")), I32).name if _chance(kb, 0.4) else ""
    idx_out = kb.array_param(rng.choice(("indices", "source_index")), I32).name if _chance(kb, 0.3) else ""
    i = _tid1(kb, "tid", "i")
    with kb.block(f"if {keep}[{i}] != 0:"):
        s = _local(kb, ("slot", "dst", "k"), f"{slots}[{i}]", I32)
        kb.emit(f"{out}[{s}] = {src}[{i}]")
        if idx_out:
            kb.emit(f"{idx_out}[{s}] = {i}")
    if count:  # the last thread knows the total
        n = f"{keep}.shape[0]"
        with kb.block(f"if {i} == {n} - 1:"):
            kb.emit(f"{count}[0] = {slots}[{i}] + {keep}[{i}]")


SIM_FAMILIES: dict[str, Callable[[random.Random, int], KernelSource]] = {
    f.__name__: f for f in (particles, springs, sph, mesh_query, bvh_query, fem, rigid, image_stencil,
                            csr_spmv, graph_relax, reduction, scan)
}
