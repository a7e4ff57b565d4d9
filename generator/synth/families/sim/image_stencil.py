"""The ``image_stencil`` family: 2-D/3-D stencils: blur, Sobel, Laplacian, Jacobi, bilinear advection.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from typing import NamedTuple

from ...builder import INDENT, KernelBuilder, KernelSource
from ...types import F32, I32, V2, V3
from ._kit import Knobs, accumulator, add_func, begin, chance, let_local


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
            self.fetch[dtype] = add_func(self.kb, ("fetch", "sample_or_zero", "read_padded"),
                                        f"f: wp.array{nd}d(dtype={dtype}), " + ", ".join(f"{c}: int" for c in names),
                                        [f"if {cond}:", INDENT + f"return {zero}", f"return f[{', '.join(names)}]"])
        return self.fetch[dtype]


def image_stencil(rng: random.Random, level: int) -> KernelSource:
    # The longer operators (Gaussian weights, Sobel taps, Jacobi, advection) are likelier at high levels.
    op = rng.choice(["blur", "laplacian", "project", "morph"] * 2 + ["gaussian", "sobel", "jacobi", "advect"] * level)
    names = {"blur": ("box_blur", "blur_image", "smooth_field"), "gaussian": ("gaussian_blur", "blur_gaussian"),
             "sobel": ("sobel_filter", "edge_detect", "image_gradient"),
             "laplacian": ("laplacian", "apply_laplacian", "diffuse"),
             "jacobi": ("jacobi_step", "pressure_jacobi", "solve_poisson_jacobi"),
             "advect": ("advect_semi_lagrangian", "advect_field", "backtrace_sample"),
             "project": ("subtract_pressure_gradient", "project_velocity", "apply_pressure_gradient"),
             "morph": ("erode", "dilate", "min_filter", "max_filter")}[op]
    kb, _ = begin(rng, level, "image_stencil", names)
    knobs = Knobs(kb)
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


def _stencil_blur(kb: KernelBuilder, knobs: Knobs, op: str, ndim: int, policy: str) -> None:
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
            acc = accumulator(kb, ("acc", "total", "s"), dtype)
            for t in terms:
                kb.emit(f"{acc} += {t}")
            kb.emit(f"{dst}[{g.here()}] = {acc} * {1.0 / len(terms):.6f}")
        return
    radius = knobs.get("radius", 1, 4, I32) if rng.random() < 0.6 else str(rng.randint(1, 3))
    acc = accumulator(kb, ("acc", "total", "s"), dtype)
    wsum = accumulator(kb, ("wsum", "norm", "weight_sum"), F32) if op == "gaussian" or rng.random() < 0.3 else ""
    separable = rng.random() < 0.3
    with _window_loop(kb, g, radius, separable) as win:
        value = g.at(src, win.coords, dtype=ann)
        if wsum:
            sigma = knobs.get("sigma", 0.5, 3.0)
            r2 = " + ".join(f"{o} * {o}" for o in win.offsets)
            wgt = let_local(kb, ("wgt", "w_xy"), f"wp.exp(-float({r2}) / (2.0 * {sigma} * {sigma}))", F32)
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
    if chance(kb, 0.25):  # blend with the original by a strength factor
        result = f"wp.lerp({g.read(src, (0,) * ndim)}, {result}, {knobs.get('strength', 0.2, 1.0)})"
    kb.emit(f"{dst}[{g.here()}] = {result}")


def _stencil_morph(kb: KernelBuilder, knobs: Knobs, op: str, ndim: int, policy: str) -> None:
    """Erosion/dilation: the minimum or maximum over a window."""
    rng = kb.rng
    src = kb.array_param(rng.choice(("src", "mask", "image")), F32, 2).name
    dst = kb.array_param(rng.choice(("dst", "out", "result")), F32, 2).name
    fn = kb.rng.choice(("wp.min", "wp.max"))
    g = _grid_setup(kb, src, 2, policy, f"{dst}[{{here}}] = {src}[{{here}}]")
    m = let_local(kb, ("m", "extreme", "best"), g.read(src, (0, 0)), F32)
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


def _stencil_sobel(kb: KernelBuilder, knobs: Knobs, op: str, ndim: int, policy: str) -> None:
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
        taps = {o: let_local(kb, (f"p{o[0] + 1}{o[1] + 1}",), g.read(src, o), F32)
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


def _stencil_laplacian(kb: KernelBuilder, knobs: Knobs, op: str, ndim: int, policy: str) -> None:
    rng = kb.rng
    jacobi = op == "jacobi"
    src = kb.array_param(rng.choice(("p", "pressure", "x_in") if jacobi else ("u", "field", "temperature")),
                         F32, ndim).name
    rhs = kb.array_param(rng.choice(("rhs", "divergence", "b")), F32, ndim).name if jacobi else ""
    solid = kb.array_param(rng.choice(("solid", "obstacle", "mask")), I32, ndim).name if chance(kb, 0.3) else ""
    dst = kb.array_param(rng.choice(("p_out", "x_out", "p_new") if jacobi else ("out", "u_new", "lap")),
                         F32, ndim).name
    g = _grid_setup(kb, src, ndim, policy, f"{dst}[{{here}}] = {src}[{{here}}]")
    if solid:
        with kb.block(f"if {solid}[{g.here()}] != 0:"):
            kb.emit(f"{dst}[{g.here()}] = 0.0")
            kb.emit("return")
    center = let_local(kb, ("c", "center", "u0"), g.read(src, tuple(0 for _ in range(ndim))), F32)
    if rng.random() < 0.5:
        nb = let_local(kb, ("nb", "sum_nb", "s"), " + ".join(g.read(src, o) for o in _neighbours(ndim)), F32)
    else:
        nb = accumulator(kb, ("nb", "sum_nb", "s"), F32)
        for o in _neighbours(ndim):
            kb.emit(f"{nb} += {g.read(src, o)}")
    h = knobs.get(rng.choice(("dx", "h", "cell_size")), 0.01, 0.5)
    deg = f"{2.0 * ndim}"
    if jacobi:
        new = let_local(kb, ("p_new", "x_new", "value"), f"({nb} - {h} * {h} * {rhs}[{g.here()}]) / {deg}", F32)
        if chance(kb, 0.4):  # weighted (damped) Jacobi
            omega = knobs.get("omega", 0.5, 0.9)
            kb.emit(f"{new} = (1.0 - {omega}) * {center} + {omega} * {new}")
        kb.emit(f"{dst}[{g.here()}] = {new}")
        return
    lap = let_local(kb, ("lap", "laplacian", "d2u"), f"({nb} - {deg} * {center}) / ({h} * {h})", F32)
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
    return add_func(kb, ("sample_bilinear", "bilinear", "interp2d"), f"f: wp.array2d(dtype={dtype}), p: wp.vec2", body)


def _stencil_advect(kb: KernelBuilder, knobs: Knobs, op: str, ndim: int, policy: str) -> None:
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
    pos = let_local(kb, ("p", "pos", "x0"), f"wp.vec2(float({i}), float({j}))", V2)
    v_here = let_local(kb, ("v", "u0", "vel_here"), f"{vel}[{i}, {j}]", V2)
    midpoint = chance(kb, 0.35)
    sample_v = _bilinear_helper(kb, "wp.vec2") if self_advect or midpoint else ""
    sample = sample_v if self_advect else _bilinear_helper(kb, dtype)
    if midpoint:  # second-order (midpoint) backtrace
        mid = let_local(kb, ("mid", "p_mid"), f"{pos} - {v_here} * (0.5 * {scale})", V2)
        v_mid = let_local(kb, ("v_mid", "u_mid"), f"{sample_v}({vel}, {mid})", V2)
        back = let_local(kb, ("back", "p_back", "x_prev"), f"{pos} - {v_mid} * {scale}", V2)
    else:
        back = let_local(kb, ("back", "p_back", "x_prev"), f"{pos} - {v_here} * {scale}", V2)
    value = f"{sample}({src}, {back})"
    if chance(kb, 0.3):  # dissipation
        value = f"{value} * {knobs.get('dissipation', 0.9, 0.999)}"
    kb.emit(f"{dst}[{i}, {j}] = {value}")


def _stencil_project(kb: KernelBuilder, knobs: Knobs, op: str, ndim: int, policy: str) -> None:
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
    grad = let_local(kb, ("grad_p", "gp"), f"wp.vec2({g.read(p, (1, 0))} - {g.read(p, (-1, 0))}, "
                  f"{g.read(p, (0, 1))} - {g.read(p, (0, -1))}) * (0.5 / {h})", V2)
    scale = f" * {knobs.get('dt_over_rho', 0.001, 0.1)}" if rng.random() < 0.5 else ""
    kb.emit(f"{vel}[{g.here()}] = {vel}[{g.here()}] - {grad}{scale}")
