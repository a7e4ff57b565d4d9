"""The ``particles`` family: particle integration (semi-implicit/explicit Euler, Verlet, leapfrog,
damping, gravity) and collisions (ground, planes, sphere obstacles, box bounds,
restitution/friction).
"""

from __future__ import annotations

import contextlib
import random

from ...builder import KernelSource
from ...helpers import add_helper
from ...types import F32, I32, V3
from .._kit import expr_depth
from ._kit import Knobs, begin, chance, how_many, let_local, lit, tid1, vec3_lit, velocity_response


def particles(rng: random.Random, level: int) -> KernelSource:
    kb, ex = begin(rng, level, "particles", ("integrate_particles", "step_particles", "advance_particles",
                                              "simulate_particles", "particle_update", "integrate_and_collide"),
                    groups=("math", "vector"))
    knobs = Knobs(kb)
    x = kb.array_param(rng.choice(("x", "positions", "particle_q", "pos")), V3).name
    v = kb.array_param(rng.choice(("v", "velocities", "particle_qd", "vel")), V3).name
    scheme = rng.choice(("semi_implicit", "semi_implicit", "explicit", "verlet", "leapfrog"))
    prev = kb.array_param(rng.choice(("x_prev", "prev_positions")), V3).name if scheme == "verlet" else None
    force = kb.array_param(rng.choice(("f", "forces", "particle_f")), V3).name if chance(kb, 0.5) else None
    inv_mass = None
    if force and rng.random() < 0.7:
        inv_mass = kb.array_param(rng.choice(("inv_mass", "particle_inv_mass", "w")), F32).name
    outs = (kb.array_param(rng.choice(("x_out", "x_new")), V3).name,
            kb.array_param(rng.choice(("v_out", "v_new")), V3).name) if rng.random() < 0.35 else (x, v)
    mask = kb.array_param(rng.choice(("flags", "active", "particle_flags")), I32).name if chance(kb, 0.25) else None
    dt = knobs.get("dt", 0.001, 0.02)

    i = tid1(kb, "tid", "i", "p")
    if mask:
        test = f"{mask}[{i}] == 0" if rng.random() < 0.5 else f"({mask}[{i}] & 1) == 0"
        with kb.block(f"if {test}:"):
            kb.emit("return")
    pos = let_local(kb, ("xi", "pos", "p0", "x0"), f"{x}[{i}]", V3)
    vel = let_local(kb, ("vi", "vel", "v0", "u"), f"{v}[{i}]", V3)

    g_style = rng.choice(("vec", "vec", "scalar", "none" if force else "vec"))
    terms = []
    if g_style == "vec":
        terms.append(knobs.vec3("gravity", f"wp.vec3(0.0, {lit(rng, -9.81, -1.0)}, 0.0)"))
    elif g_style == "scalar":
        terms.append(f"wp.vec3(0.0, -{knobs.get('gravity', 1.0, 9.81)}, 0.0)")
    if force:
        if inv_mass:
            w = let_local(kb, ("inv_m", "w_i", "wi"), f"{inv_mass}[{i}]", F32)
            if chance(kb, 0.4):  # pinned particles (zero inverse mass) do not move
                with kb.block(f"if {w} == 0.0:"):
                    kb.emit("return")
            terms.append(f"{force}[{i}] * {w}")
        else:
            terms.append(f"{force}[{i}] / {knobs.get('mass', 0.1, 2.0)}")
    if chance(kb, 0.25):
        terms.append(f"{vel} * (-{knobs.get('drag', 0.01, 0.5)})")
    if chance(kb, 0.2):  # a synthesized external field (wind, vortex...) of position and velocity
        field = add_helper(kb, ex, [V3, V3], V3, depth=expr_depth(kb, 1, 2), callable_from_kernel=False)
        terms.append(f"{field}({pos}, {vel})")
    if not terms:
        terms.append("wp.vec3(0.0, -9.8, 0.0)")
    a = let_local(kb, ("a", "acc", "accel"), " + ".join(terms), V3)

    damping = rng.choice(("none", "none", "scale", "exp", "linear")) if chance(kb, 0.5) else "none"

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
        half = let_local(kb, ("v_half", "vh"), f"{vel} + {a} * (0.5 * {dt})", V3)
        kb.emit(f"{pos} = {pos} + {half} * {dt}")
        kb.emit(f"{vel} = {half} + {a} * (0.5 * {dt})")
        damp()
    else:
        assert prev is not None
        xp = let_local(kb, ("x_last", "xp"), f"{prev}[{i}]", V3)
        if damping != "none":
            keep = knobs.get("damping", 0.9, 0.999)
            xn = let_local(kb, ("x_next", "xn"), f"{pos} + ({pos} - {xp}) * {keep} + {a} * ({dt} * {dt})", V3)
        else:
            xn = let_local(kb, ("x_next", "xn"), f"{pos} * 2.0 - {xp} + {a} * ({dt} * {dt})", V3)
        kb.emit(f"{vel} = ({xn} - {pos}) / {dt}")
        kb.emit(f"{prev}[{i}] = {pos}")
        kb.emit(f"{pos} = {xn}")

    if chance(kb, 0.3):  # cap the speed so a bad step cannot explode the simulation
        max_speed = knobs.get("max_speed", 5.0, 50.0)
        speed = let_local(kb, ("speed", "vmag"), f"wp.length({vel})", F32)
        with kb.block(f"if {speed} > {max_speed}:"):
            kb.emit(f"{vel} = {vel} * ({max_speed} / {speed})")

    shapes = rng.sample(("ground", "plane", "spheres", "sphere", "box"), how_many(kb, 0, 2))
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
                n = let_local(kb, ("n", "normal"), f"wp.vec3({plane}[0], {plane}[1], {plane}[2])", V3)
                d = let_local(kb, ("d", "dist", "c"), f"wp.dot({pos}, {n}) + {plane}[3]", F32)
            else:
                n = knobs.vec3("plane_normal", f"wp.normalize({vec3_lit(rng, -0.3, 1.0)})")
                d = let_local(kb, ("d", "dist", "c"),
                              f"wp.dot({pos}, {n}) - {knobs.get('plane_offset', -1.0, 1.0)}", F32)
            margin = knobs.get("particle_radius", 0.01, 0.1) if rng.random() < 0.5 else "0.0"
            with kb.block(f"if {d} < {margin}:"):
                kb.emit(f"{pos} = {pos} + {n} * ({margin} - {d})" if margin != "0.0" else f"{pos} = {pos} - {n} * {d}")
                velocity_response(kb, response, vel, n, restitution, friction)
        elif shape in ("spheres", "sphere"):
            radius_pad = knobs.get("particle_radius", 0.01, 0.1) if rng.random() < 0.4 else ""
            with contextlib.ExitStack() as loop:
                if shape == "spheres":
                    centers = kb.array_param(rng.choice(("sphere_centers", "obstacles", "centers")), V3).name
                    radii = kb.array_param(rng.choice(("sphere_radii", "radii")), F32).name if rng.random() < 0.6 \
                        else ""
                    bound = f"{centers}.shape[0]" if rng.random() < 0.6 else kb.scalar_param("num_spheres", I32).name
                    s = loop.enter_context(kb.for_range("s", bound)).name
                    c = let_local(kb, ("c", "center"), f"{centers}[{s}]", V3)
                    r_expr = f"{radii}[{s}]" if radii else knobs.get("sphere_radius", 0.2, 1.0)
                else:
                    c = knobs.vec3("sphere_center", vec3_lit(rng, -1.0, 1.0))
                    r_expr = knobs.get("sphere_radius", 0.2, 1.0)
                r = let_local(kb, ("r", "rad", "min_dist"), f"{r_expr} + {radius_pad}" if radius_pad else r_expr, F32)
                delta = let_local(kb, ("delta", "offset", "dx"), f"{pos} - {c}", V3)
                dist = let_local(kb, ("dist", "len_d", "l"), f"wp.length({delta})", F32)
                with kb.block(f"if {dist} < {r} and {dist} > 1.0e-6:"):
                    n = let_local(kb, ("n", "normal"), f"{delta} / {dist}", V3)
                    kb.emit(f"{pos} = {c} + {n} * {r}")
                    velocity_response(kb, response, vel, n, restitution, friction)
        else:  # box bounds
            lo = knobs.vec3("bounds_lo", vec3_lit(rng, -2.0, -0.5))
            hi = knobs.vec3("bounds_hi", vec3_lit(rng, 0.5, 2.0))
            style = rng.choice(("loop", "unrolled", "clamp"))
            if style == "clamp":
                clamped = let_local(kb, ("clamped", "x_box"), f"wp.min(wp.max({pos}, {lo}), {hi})", V3)
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
    if chance(kb, 0.2):  # a diagnostic the host reads back (energy, fastest particle)
        diag = kb.array_param(rng.choice(("kinetic_energy", "max_speed_out", "stats")), F32).name
        if rng.random() < 0.5:
            ke = f"0.5 * wp.dot({vel}, {vel})"
            ke = f"{ke} / wp.max({inv_mass}[{i}], 1.0e-6)" if inv_mass else f"{ke} * {knobs.get('mass', 0.1, 2.0)}"
            kb.emit(f"wp.atomic_add({diag}, 0, {ke})")
        else:
            kb.emit(f"wp.atomic_max({diag}, 0, wp.length({vel}))")
    return knobs.render()
