"""The ``springs`` family: spring and cloth forces (stretch/shear springs, bending hinges, triangle
area) scattered with ``wp.atomic_add``.
"""

from __future__ import annotations

import random

from ...builder import INDENT, KernelBuilder, KernelSource
from ...expressions import ExprGen
from ...types import F32, I32, V3
from .._kit import expr_depth
from ._kit import Knobs, add_func, begin, chance, each_element, element_indices, index_param, let_local


def _per_element(kb: KernelBuilder, knobs: Knobs, e: str, bases: tuple[str, ...], knob: str,
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


def springs(rng: random.Random, level: int) -> KernelSource:
    # Longer variants (hinges, triangles) are likelier at high levels.
    variant = rng.choice(["stretch"] * (6 - level) + ["bending", "area"] * (1 + level // 2))
    names = {"stretch": ("eval_springs", "spring_forces", "compute_spring_forces", "eval_stretch_springs",
                         "eval_shear_springs", "cloth_spring_forces"),
             "bending": ("eval_bending", "bending_forces", "cloth_bending_forces", "eval_dihedral_springs"),
             "area": ("eval_triangle_area", "triangle_area_forces", "area_preservation_forces")}[variant]
    kb, ex = begin(rng, level, "springs", names)
    knobs = Knobs(kb)
    n = {"stretch": 2, "bending": 4, "area": 3}[variant]
    x = kb.array_param(rng.choice(("x", "particle_q", "positions")), V3).name
    damped = chance(kb, 0.45)
    v = kb.array_param(rng.choice(("v", "particle_qd", "velocities")), V3).name if damped else None
    style = rng.choice(("flat", "vec", "2d"))
    idx_bases = {"stretch": ("spring_indices", "springs", "edges", "edge_indices"),
                 "bending": ("bending_indices", "hinges", "edge_bending"),
                 "area": ("tri_indices", "triangles", "indices")}[variant]
    idx = index_param(kb, idx_bases, style, n)
    rest_pos = None
    if variant == "stretch" and rng.random() < 0.25:  # rest length measured from the rest shape
        rest_pos = kb.array_param(rng.choice(("x_rest", "rest_positions")), V3).name
    f = kb.array_param(rng.choice(("f", "forces", "particle_f")), V3).name
    count = f"{idx}.shape[0] // {n}" if style == "flat" else f"{idx}.shape[0]"
    with each_element(kb, ("tid", "e", "s"), count) as e:
        if chance(kb, 0.2):  # torn or disabled elements are skipped
            active = kb.array_param(rng.choice(("active", "spring_active", "element_mask")), I32).name
            with kb.block(f"if {active}[{e}] == 0:"):
                kb.emit("return")
        ids = element_indices(kb, e, idx, style, n)
        energy = kb.array_param(rng.choice(("energy", "potential")), F32).name if chance(kb, 0.2) else None
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
        if c and chance(kb, 0.25):  # per-element strain for visualization or tearing on the host
            out = kb.array_param(rng.choice(("strain", "element_strain", "constraint_error")), F32).name
            kb.emit(f"{out}[{e}] = {c}" if rng.random() < 0.5 else f"{out}[{e}] = wp.abs({c})")
    return knobs.render()


def _stretch_spring(kb: KernelBuilder, ex: ExprGen, knobs: Knobs, e: str, ids: list[str], x: str, v: str | None,
                    rest_pos: str | None, f: str, ke: str, kd: str | None, energy: str | None) -> str:
    """Two-point spring; returns the name of its constraint value (or "" when a helper hides it)."""
    rng = kb.rng
    i, j = ids
    if rest_pos:
        rest = let_local(kb, ("rest", "l0"), f"wp.length({rest_pos}[{j}] - {rest_pos}[{i}])", F32)
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
        h = add_func(kb, ("spring_force", "eval_spring", "hooke_force"),
                    f"xi: wp.vec3, xj: wp.vec3{vparams}, rest: float, ke: float", body)
        args = f"{x}[{i}], {x}[{j}]" + (f", {v}[{i}], {v}[{j}], {kd}" if v else "") + f", {rest}, {ke}"
        force = let_local(kb, ("fij", "force", "f_s"), f"{h}({args})", V3)
        _scatter(kb, f, i, force, +1)
        _scatter(kb, f, j, force, -1)
        return ""
    ni, nj = rng.choice((("xi", "xj"), ("p_i", "p_j"), ("x_i", "x_j")))
    xi = kb.let(ni, f"{x}[{i}]", V3).name
    xj = kb.let(nj, f"{x}[{j}]", V3).name
    d = let_local(kb, ("d", "xij", "delta"), f"{xj} - {xi}", V3)
    guard = rng.choice(("return", "max", "max"))
    if guard == "return":
        length = let_local(kb, ("l", "length", "dist"), f"wp.length({d})", F32)
        with kb.block(f"if {length} < 1.0e-6:"):
            kb.emit("return")
    else:
        length = let_local(kb, ("l", "length", "dist"), f"wp.max(wp.length({d}), 1.0e-6)", F32)
    direction = let_local(kb, ("dir_ij", "n", "d_hat"), f"{d} / {length}", V3)
    laws = ["hooke", "hooke", "log", "strain_limit", "tension_only", "cubic"] + ["modulated"] * (kb.complexity - 1)
    law = rng.choice(laws)
    c = let_local(kb, ("c", "stretch", "dl"), f"{length} - {rest}", F32)
    if law == "hooke":
        fs = let_local(kb, ("fs", "f_mag", "magnitude"), f"{ke} * {c}", F32)
    elif law == "log":
        fs = let_local(kb, ("fs", "f_mag", "magnitude"), f"{ke} * wp.log({length} / {rest})", F32)
    elif law == "strain_limit":
        limit = knobs.get("max_strain", 0.05, 0.3)
        fs = let_local(kb, ("fs", "f_mag"), f"{ke} * wp.clamp({c}, -{limit} * {rest}, {limit} * {rest})", F32)
    elif law == "tension_only":  # cloth resists stretching, not compression
        fs = let_local(kb, ("fs", "f_mag"), f"{ke} * wp.max({c}, 0.0)", F32)
    elif law == "cubic":
        fs = let_local(kb, ("fs", "f_mag"), f"{ke} * {c} + {knobs.get('ke_cubic', 1.0, 100.0)} * {c} * {c} * {c}", F32)
    else:  # stiffness modulated by a synthesized function of the strain
        kb.let(rng.choice(("strain", "eps")), f"{c} / {rest}", F32)  # read by the synthesized modulation
        fs = let_local(kb, ("fs", "f_mag"),
                       f"{ke} * {c} * (1.0 + wp.abs({ex.expr_reading(F32, expr_depth(kb, 1, 2))}))", F32)
    if v and kd:
        vrel = let_local(kb, ("vrel", "vij", "dv"), f"{v}[{j}] - {v}[{i}]", V3)
        kb.emit(f"{fs} = {fs} + {kd} * wp.dot({vrel}, {direction})")
    force = let_local(kb, ("fij", "force", "f_s"), f"{direction} * {fs}", V3)
    _scatter(kb, f, i, force, +1)
    _scatter(kb, f, j, force, -1)
    if energy:
        kb.emit(f"wp.atomic_add({energy}, 0, 0.5 * {ke} * {c} * {c})")
    return c


def _bending_hinge(kb: KernelBuilder, knobs: Knobs, e: str, ids: list[str], x: str, v: str | None, f: str,
                   ke: str, kd: str | None, energy: str | None) -> str:
    """Dihedral-angle bending between two triangles (x0, x2, x3) and (x1, x3, x2) sharing edge x2-x3."""
    rng = kb.rng
    prefix = rng.choice(("x", "p"))
    p = [kb.let(f"{prefix}{k}", f"{x}[{ids[k]}]", V3).name for k in range(4)]
    n1 = let_local(kb, ("n1", "normal1"), f"wp.cross({p[2]} - {p[0]}, {p[3]} - {p[0]})", V3)
    n2 = let_local(kb, ("n2", "normal2"), f"wp.cross({p[3]} - {p[1]}, {p[2]} - {p[1]})", V3)
    edge = let_local(kb, ("e", "edge", "hinge"), f"{p[3]} - {p[2]}", V3)
    n1_sq = let_local(kb, ("n1_len_sq", "n1_sq"), f"wp.dot({n1}, {n1})", F32)
    n2_sq = let_local(kb, ("n2_len_sq", "n2_sq"), f"wp.dot({n2}, {n2})", F32)
    e_len = let_local(kb, ("e_len", "edge_len"), f"wp.length({edge})", F32)
    with kb.block(f"if {n1_sq} < 1.0e-12 or {n2_sq} < 1.0e-12 or {e_len} < 1.0e-6:"):
        kb.emit("return")
    n1u = let_local(kb, ("n1_hat", "u1"), f"{n1} / wp.sqrt({n1_sq})", V3)
    n2u = let_local(kb, ("n2_hat", "u2"), f"{n2} / wp.sqrt({n2_sq})", V3)
    cos_t = let_local(kb, ("cos_theta", "c_theta"), f"wp.dot({n1u}, {n2u})", F32)
    if rng.random() < 0.6:
        sin_t = let_local(kb, ("sin_theta", "s_theta"), f"wp.dot(wp.cross({n1u}, {n2u}), {edge} / {e_len})", F32)
        theta = let_local(kb, ("theta", "angle"), f"wp.atan2({sin_t}, {cos_t})", F32)
    else:
        theta = let_local(kb, ("theta", "angle"), f"wp.acos(wp.clamp({cos_t}, -1.0, 1.0))", F32)
    rest = _per_element(kb, knobs, e, ("rest_angle", "rest_angles", "bend_rest"), "rest_angle", -0.5, 0.5, 0.5)
    c = let_local(kb, ("c", "dtheta"), f"{theta} - {rest}", F32)
    d0 = let_local(kb, ("d0", "grad0"), f"{n1} * ({e_len} / {n1_sq})", V3)
    d1 = let_local(kb, ("d1", "grad1"), f"{n2} * ({e_len} / {n2_sq})", V3)
    d2 = let_local(kb, ("d2", "grad2"), f"{n1} * (wp.dot({p[0]} - {p[3]}, {edge}) / ({e_len} * {n1_sq})) + "
                f"{n2} * (wp.dot({p[1]} - {p[3]}, {edge}) / ({e_len} * {n2_sq}))", V3)
    d3 = let_local(kb, ("d3", "grad3"), f"-{d0} - {d1} - {d2}", V3)
    scale = let_local(kb, ("f_mag", "fs", "strength"), f"-{ke} * {c}", F32)
    if rng.random() < 0.4:  # soften the hinge response with the edge length
        kb.emit(f"{scale} = {scale} * {e_len}")
    if v and kd:  # damp the angular rate: d(theta)/dt = sum of gradient . velocity
        rate = let_local(kb, ("dtheta_dt", "c_dot"),
                      " + ".join(f"wp.dot({d}, {v}[{ids[k]}])" for k, d in enumerate((d0, d1, d2, d3))), F32)
        kb.emit(f"{scale} = {scale} - {kd} * {rate}")
    for k, d in enumerate((d0, d1, d2, d3)):
        _scatter(kb, f, ids[k], f"{d} * {scale}", +1)
    if energy:
        kb.emit(f"wp.atomic_add({energy}, 0, 0.5 * {ke} * {c} * {c})")
    return c


def _triangle_area(kb: KernelBuilder, knobs: Knobs, e: str, ids: list[str], x: str, v: str | None, f: str,
                   ke: str, kd: str | None, energy: str | None) -> str:
    """Area-preserving triangle force: pulls the area back to its rest value along the area gradient."""
    rng = kb.rng
    prefix = rng.choice(("x", "p"))
    p = [kb.let(f"{prefix}{k}", f"{x}[{ids[k]}]", V3).name for k in range(3)]
    e1 = let_local(kb, ("e1", "x10"), f"{p[1]} - {p[0]}", V3)
    e2 = let_local(kb, ("e2", "x20"), f"{p[2]} - {p[0]}", V3)
    nrm = let_local(kb, ("n", "cr"), f"wp.cross({e1}, {e2})", V3)
    area = let_local(kb, ("area", "a"), f"0.5 * wp.length({nrm})", F32)
    with kb.block(f"if {area} < 1.0e-9:"):
        kb.emit("return")
    nh = let_local(kb, ("n_hat", "nu"), f"{nrm} / (2.0 * {area})", V3)
    rest = _per_element(kb, knobs, e, ("rest_area", "tri_areas", "area0"), "rest_area", 0.001, 0.1, 0.6)
    c = let_local(kb, ("c", "da"), f"{area} - {rest}" if rng.random() < 0.6 else f"{area} / {rest} - 1.0", F32)
    g1 = let_local(kb, ("g1", "grad1"), f"wp.cross({e2}, {nh}) * 0.5", V3)
    g2 = let_local(kb, ("g2", "grad2"), f"wp.cross({nh}, {e1}) * 0.5", V3)
    g0 = let_local(kb, ("g0", "grad0"), f"-({g1} + {g2})", V3)
    fm = let_local(kb, ("f_mag", "lam"), f"-{ke} * {c}", F32)
    if v and kd:
        cdot = let_local(kb, ("c_dot", "rate"),
                      " + ".join(f"wp.dot({g}, {v}[{ids[k]}])" for k, g in enumerate((g0, g1, g2))), F32)
        kb.emit(f"{fm} = {fm} - {kd} * {cdot}")
    for k, g in enumerate((g0, g1, g2)):
        _scatter(kb, f, ids[k], f"{g} * {fm}", +1)
    if energy:
        kb.emit(f"wp.atomic_add({energy}, 0, 0.5 * {ke} * {c} * {c})")
    return c
