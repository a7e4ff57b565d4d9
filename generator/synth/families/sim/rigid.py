"""The ``rigid`` family: rigid bodies with ``wp.quat``/``wp.transform``/spatial vectors: integration,
shape-to-world transforms, point velocities, forward kinematics.
"""

from __future__ import annotations

import random

from ...builder import KernelBuilder, KernelSource
from ...types import F32, I32, M33, QUAT, SPATIAL, V3, XFORM
from ._kit import Knobs, begin, chance, let_local, lit, tid1


def rigid(rng: random.Random, level: int) -> KernelSource:
    variant = rng.choice(["integrate", "integrate", "points", "fk", "impulse", "energy"] + ["integrate", "fk"] * (
        level // 3))
    names = {"integrate": ("integrate_bodies", "step_rigid_bodies", "advance_bodies"),
             "points": ("transform_points", "shape_to_world", "update_shape_points"),
             "fk": ("eval_fk", "forward_kinematics", "compute_body_transforms"),
             "impulse": ("apply_impulses", "apply_contact_impulses", "resolve_contacts"),
             "energy": ("kinetic_energy", "compute_body_energy", "rigid_energy")}[variant]
    kb, _ = begin(rng, level, "rigid", names)
    knobs = Knobs(kb)
    {"integrate": _rigid_integrate, "points": _rigid_points, "fk": _rigid_fk, "impulse": _rigid_impulse,
     "energy": _rigid_energy}[variant](kb, knobs)
    return knobs.render()


def _body_state(kb: KernelBuilder, body_q: str, body_qd: str | None, b: str) -> dict[str, str]:
    """Unpack a body's transform and twist into named parts (translation, rotation, w, v)."""
    rng = kb.rng
    out = {"X": let_local(kb, ("X_wb", "tf", "q"), f"{body_q}[{b}]", XFORM)}
    out["x"] = let_local(kb, ("x0", "pos", "p"), f"wp.transform_get_translation({out['X']})", V3)
    out["r"] = let_local(kb, ("r0", "rot", "quat"), f"wp.transform_get_rotation({out['X']})", QUAT)
    if body_qd:
        twist = let_local(kb, ("qd", "twist", "vel"), f"{body_qd}[{b}]", SPATIAL) if rng.random() < 0.6 else \
            f"{body_qd}[{b}]"
        out["w"] = let_local(kb, ("w0", "omega", "ang_vel"), f"wp.spatial_top({twist})", V3)
        out["v"] = let_local(kb, ("v0", "lin_vel", "v"), f"wp.spatial_bottom({twist})", V3)
    return out


def _rigid_integrate(kb: KernelBuilder, knobs: Knobs) -> None:
    rng = kb.rng
    body_q = kb.array_param(rng.choice(("body_q", "transforms", "poses")), XFORM).name
    body_qd = kb.array_param(rng.choice(("body_qd", "twists", "velocities")), SPATIAL).name
    body_f = kb.array_param(rng.choice(("body_f", "wrenches", "forces")), SPATIAL).name if chance(kb, 0.6) else ""
    com = kb.array_param(rng.choice(("body_com", "com")), V3).name if chance(kb, 0.35) else ""
    inv_m = kb.array_param(rng.choice(("body_inv_mass", "inv_mass")), F32).name
    gyro = body_f and chance(kb, 0.4)
    inertia = kb.array_param(rng.choice(("body_inertia", "inertia")), M33).name if gyro else ""
    inv_i = kb.array_param(rng.choice(("body_inv_inertia", "inv_inertia")), M33).name if body_f else ""
    in_place = rng.random() < 0.4
    q_out = body_q if in_place else kb.array_param(rng.choice(("body_q_new", "q_out")), XFORM).name
    qd_out = body_qd if in_place else kb.array_param(rng.choice(("body_qd_new", "qd_out")), SPATIAL).name
    dt = knobs.get("dt", 0.001, 0.02)
    tid = tid1(kb, "tid", "b", "body")
    st = _body_state(kb, body_q, body_qd, tid)
    m_inv = let_local(kb, ("inv_m", "w_b"), f"{inv_m}[{tid}]", F32)
    if rng.random() < 0.4:  # static bodies keep their state
        with kb.block(f"if {m_inv} == 0.0:"):
            kb.emit("return")
    x_com = let_local(kb, ("x_com", "com_world"), f"{st['x']} + wp.quat_rotate({st['r']}, {com}[{tid}])", V3) if com \
        else st["x"]
    g = knobs.vec3("gravity", f"wp.vec3(0.0, {lit(rng, -9.81, -1.0)}, 0.0)")
    lin = [f"{g}" if rng.random() < 0.5 else f"{g} * wp.nonzero({m_inv})"]
    if body_f:
        wrench = let_local(kb, ("f", "wrench"), f"{body_f}[{tid}]", SPATIAL)
        t0 = let_local(kb, ("t0", "torque"), f"wp.spatial_top({wrench})", V3)
        f0 = let_local(kb, ("f0", "force"), f"wp.spatial_bottom({wrench})", V3)
        lin.append(f"{f0} * {m_inv}")
    v1 = let_local(kb, ("v1", "v_new"), f"{st['v']} + ({' + '.join(lin)}) * {dt}", V3)
    if body_f:
        if gyro:  # torque in the body frame minus the gyroscopic term w x (I w)
            wb = let_local(kb, ("wb", "w_body"), f"wp.quat_rotate_inv({st['r']}, {st['w']})", V3)
            tb = let_local(kb, ("tb", "t_body"), f"wp.quat_rotate_inv({st['r']}, {t0}) - wp.cross({wb}, "
                        f"{inertia}[{tid}] * {wb})", V3)
            w1 = let_local(kb, ("w1", "w_new"), f"wp.quat_rotate({st['r']}, {wb} + {inv_i}[{tid}] * {tb} * {dt})", V3)
        else:
            w1 = let_local(kb, ("w1", "w_new"), f"{st['w']} + {inv_i}[{tid}] * {t0} * {dt}", V3)
    else:
        w1 = let_local(kb, ("w1", "w_new"), st["w"], V3)
    if chance(kb, 0.45):
        kb.emit(f"{w1} = {w1} * (1.0 - {knobs.get('angular_damping', 0.01, 0.2)} * {dt})")
    if chance(kb, 0.25):
        kb.emit(f"{v1} = {v1} * (1.0 - {knobs.get('linear_damping', 0.01, 0.2)} * {dt})")
    x1 = let_local(kb, ("x1", "x_new"), f"{x_com} + {v1} * {dt}", V3)
    if rng.random() < 0.6:  # first-order quaternion update, renormalized
        r1 = let_local(kb, ("r1", "r_new"), f"wp.normalize({st['r']} + wp.quat({w1}, 0.0) * {st['r']} * 0.5 * {dt})",
                    QUAT)
    else:  # exact rotation by the angle w*dt about w
        r1 = let_local(kb, ("r1", "r_new"), st["r"], QUAT)
        speed = let_local(kb, ("w_len", "omega_mag"), f"wp.length({w1})", F32)
        with kb.block(f"if {speed} > 1.0e-8:"):
            kb.emit(f"{r1} = wp.quat_from_axis_angle({w1} / {speed}, {speed} * {dt}) * {st['r']}")
    if com:
        kb.emit(f"{x1} = {x1} - wp.quat_rotate({r1}, {com}[{tid}])")
    kb.emit(f"{q_out}[{tid}] = wp.transform({x1}, {r1})")
    kb.emit(f"{qd_out}[{tid}] = wp.spatial_vector({w1}, {v1})")


def _rigid_points(kb: KernelBuilder, knobs: Knobs) -> None:
    """Body-local points (and normals) to world space, with optional shape offsets and velocities."""
    rng = kb.rng
    body_q = kb.array_param(rng.choice(("body_q", "transforms")), XFORM).name
    want_vel = chance(kb, 0.4)
    body_qd = kb.array_param(rng.choice(("body_qd", "twists")), SPATIAL).name if want_vel else None
    point_body = kb.array_param(rng.choice(("point_body", "shape_body", "body_index")), I32).name
    local = kb.array_param(rng.choice(("local_points", "points_body", "shape_points")), V3).name
    shape_x = kb.array_param(rng.choice(("shape_X_bs", "shape_transforms")), XFORM).name if chance(kb, 0.35) else ""
    normals = kb.array_param(rng.choice(("local_normals", "normals_body")), V3).name if chance(kb, 0.3) else ""
    out = kb.array_param(rng.choice(("world_points", "points_out", "x_world")), V3).name
    n_out = kb.array_param(rng.choice(("world_normals", "normals_out")), V3).name if normals else ""
    v_out = kb.array_param(rng.choice(("point_vel", "v_world")), V3).name if want_vel else ""
    tid = tid1(kb, "tid", "i", "p")
    b = let_local(kb, ("b", "body", "body_id"), f"{point_body}[{tid}]", I32)
    if rng.random() < 0.5:  # points attached to no body (-1) stay in world space
        with kb.block(f"if {b} < 0:"):
            kb.emit(f"{out}[{tid}] = {local}[{tid}]")
            kb.emit("return")
    X = let_local(kb, ("X_wb", "tf", "body_tf"), f"{body_q}[{b}]", XFORM)
    if shape_x:
        X = let_local(kb, ("X_ws", "shape_tf"), f"wp.transform_multiply({X}, {shape_x}[{tid}])" if rng.random() < 0.6
                   else f"{X} * {shape_x}[{tid}]", XFORM)
    pw = let_local(kb, ("p_world", "x_w", "pw"), f"wp.transform_point({X}, {local}[{tid}])", V3)
    kb.emit(f"{out}[{tid}] = {pw}")
    if normals:
        if rng.random() < 0.5:
            kb.emit(f"{n_out}[{tid}] = wp.normalize(wp.transform_vector({X}, {normals}[{tid}]))")
        else:
            kb.emit(f"{n_out}[{tid}] = wp.quat_rotate(wp.transform_get_rotation({X}), {normals}[{tid}])")
    if want_vel:
        twist = let_local(kb, ("qd", "twist"), f"{body_qd}[{b}]", SPATIAL)
        origin = let_local(kb, ("com", "origin"), f"wp.transform_get_translation({body_q}[{b}])", V3)
        if rng.random() < 0.5:
            kb.emit(f"{v_out}[{tid}] = wp.spatial_bottom({twist}) + wp.cross(wp.spatial_top({twist}), {pw} - {origin})")
        else:
            kb.emit(f"{v_out}[{tid}] = wp.velocity_at_point({twist}, {pw} - {origin})")


def _rigid_fk(kb: KernelBuilder, knobs: Knobs) -> None:
    """Forward kinematics: one articulation per thread, joints in topological order."""
    rng = kb.rng
    start = kb.array_param(rng.choice(("articulation_start", "art_start")), I32).name
    parent = kb.array_param(rng.choice(("joint_parent", "parents")), I32).name
    x_p = kb.array_param(rng.choice(("joint_X_p", "joint_parent_xform")), XFORM).name
    x_c = kb.array_param(rng.choice(("joint_X_c", "joint_child_xform")), XFORM).name if chance(kb, 0.4) else ""
    joint_q = kb.array_param(rng.choice(("joint_q", "q")), F32).name
    types = rng.choice(("revolute", "prismatic", "mixed"))
    axis = kb.array_param(rng.choice(("joint_axis", "axes")), V3).name
    jtype = kb.array_param(rng.choice(("joint_type", "types")), I32).name if types == "mixed" else ""
    body_q = kb.array_param(rng.choice(("body_q", "body_transforms")), XFORM).name
    root = kb.scalar_param("root_transform", XFORM).name if chance(kb, 0.3) else ""
    tid = tid1(kb, "tid", "a", "art")
    lo_base, hi_base = rng.choice((("j_start", "j_end"), ("first", "last"), ("start", "end")))
    lo = kb.let(lo_base, f"{start}[{tid}]", I32).name
    hi = kb.let(hi_base, f"{start}[{tid} + 1]", I32).name
    with kb.for_range("j", lo, hi) as jv:
        j = jv.name
        par = let_local(kb, ("p", "parent_idx"), f"{parent}[{j}]", I32)
        X_wp = let_local(kb, ("X_wp", "X_parent"), root or "wp.transform_identity()", XFORM)
        with kb.block(f"if {par} >= 0:"):
            kb.emit(f"{X_wp} = {body_q}[{par}]")
        qj = let_local(kb, ("qj", "angle", "coord"), f"{joint_q}[{j}]", F32)
        ax = let_local(kb, ("ax", "axis"), f"{axis}[{j}]", V3)
        rev = f"wp.transform(wp.vec3(0.0), wp.quat_from_axis_angle({ax}, {qj}))"
        pri = f"wp.transform({ax} * {qj}, wp.quat_identity())"
        if types == "mixed":
            X_j = let_local(kb, ("X_j", "joint_tf"), "wp.transform_identity()", XFORM)
            with kb.block(f"if {jtype}[{j}] == 0:"):
                kb.emit(f"{X_j} = {rev}")
            with kb.block(f"elif {jtype}[{j}] == 1:"):
                kb.emit(f"{X_j} = {pri}")
        else:
            X_j = let_local(kb, ("X_j", "joint_tf"), rev if types == "revolute" else pri, XFORM)
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


def _rigid_impulse(kb: KernelBuilder, knobs: Knobs) -> None:
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
    tid = tid1(kb, "tid", "c", "contact")
    pair = let_local(kb, ("pair", "bodies"), f"{pairs}[{tid}]", "wp.vec2i")
    a = let_local(kb, ("body_a", "a"), f"{pair}[0]", I32)
    b = let_local(kb, ("body_b", "b"), f"{pair}[1]", I32)
    p = let_local(kb, ("p", "cp"), f"{points}[{tid}]", V3)
    n = let_local(kb, ("n", "normal"), f"{normals}[{tid}]", V3)
    na, nb = rng.choice((("r_a", "r_b"), ("ra", "rb")))
    r_a = kb.let(na, f"{p} - wp.transform_get_translation({body_q}[{a}])", V3).name
    r_b = kb.let(nb, f"{p} - wp.transform_get_translation({body_q}[{b}])", V3).name
    va = let_local(kb, ("v_a", "vel_a"), f"wp.velocity_at_point({body_qd}[{a}], {r_a})" if rng.random() < 0.5 else
                f"wp.spatial_bottom({body_qd}[{a}]) + wp.cross(wp.spatial_top({body_qd}[{a}]), {r_a})", V3)
    vb = let_local(kb, ("v_b", "vel_b"), f"wp.velocity_at_point({body_qd}[{b}], {r_b})", V3)
    vn = let_local(kb, ("vn", "v_rel_n"), f"wp.dot({vb} - {va}, {n})", F32)
    with kb.block(f"if {vn} >= 0.0:"):
        kb.emit("return")
    ra_n = let_local(kb, ("ra_x_n", "rna"), f"wp.cross({r_a}, {n})", V3)
    rb_n = let_local(kb, ("rb_x_n", "rnb"), f"wp.cross({r_b}, {n})", V3)
    k = let_local(kb, ("k", "eff_mass_inv"), f"{inv_m}[{a}] + {inv_m}[{b}] + wp.dot({ra_n}, {inv_i}[{a}] * {ra_n}) + "
               f"wp.dot({rb_n}, {inv_i}[{b}] * {rb_n})", F32)
    lam = let_local(kb, ("lam", "j_mag", "impulse"), f"-(1.0 + {restitution}) * {vn} / wp.max({k}, 1.0e-8)", F32)
    J = let_local(kb, ("J", "jn"), f"{n} * {lam}", V3)
    if chance(kb, 0.3):  # Coulomb friction along the tangential slip direction
        mu = knobs.get("friction", 0.1, 0.8)
        vt = let_local(kb, ("vt", "v_tan"), f"{vb} - {va} - {n} * {vn}", V3)
        vt_len = let_local(kb, ("vt_len", "slip"), f"wp.length({vt})", F32)
        with kb.block(f"if {vt_len} > 1.0e-6:"):
            kb.emit(f"{J} = {J} - {vt} / {vt_len} * wp.min({mu} * {lam}, {vt_len} / wp.max({k}, 1.0e-8))")
    kb.emit(f"wp.atomic_sub({delta}, {a}, wp.spatial_vector({inv_i}[{a}] * wp.cross({r_a}, {J}), {J} * {inv_m}[{a}]))")
    kb.emit(f"wp.atomic_add({delta}, {b}, wp.spatial_vector({inv_i}[{b}] * wp.cross({r_b}, {J}), {J} * {inv_m}[{b}]))")


def _rigid_energy(kb: KernelBuilder, knobs: Knobs) -> None:
    """Kinetic (and optionally potential) energy per body, summed atomically."""
    rng = kb.rng
    body_q = kb.array_param(rng.choice(("body_q", "transforms")), XFORM).name
    body_qd = kb.array_param(rng.choice(("body_qd", "twists")), SPATIAL).name
    mass = kb.array_param(rng.choice(("body_mass", "mass")), F32).name
    inertia = kb.array_param(rng.choice(("body_inertia", "inertia")), M33).name
    total = kb.array_param(rng.choice(("energy", "total_energy")), F32).name
    per_body = kb.array_param(rng.choice(("body_energy", "energies")), F32).name if chance(kb, 0.3) else ""
    tid = tid1(kb, "tid", "b")
    st = _body_state(kb, body_q, body_qd, tid)
    if rng.random() < 0.5:  # world-frame inertia R I R^T
        R = let_local(kb, ("R", "rot_mat"), f"wp.quat_to_matrix({st['r']})", M33)
        I_w = let_local(kb, ("I_world", "inertia_w"), f"{R} * {inertia}[{tid}] * wp.transpose({R})", M33)
        rot = f"0.5 * wp.dot({st['w']}, {I_w} * {st['w']})"
    else:  # body-frame angular velocity against the body-frame inertia
        wb = let_local(kb, ("wb", "w_body"), f"wp.quat_rotate_inv({st['r']}, {st['w']})", V3)
        rot = f"0.5 * wp.dot({wb}, {inertia}[{tid}] * {wb})"
    e = let_local(kb, ("ke", "e_kin"), f"0.5 * {mass}[{tid}] * wp.dot({st['v']}, {st['v']}) + {rot}", F32)
    if chance(kb, 0.4):
        g = knobs.get("gravity", 1.0, 9.81)
        kb.emit(f"{e} = {e} + {mass}[{tid}] * {g} * {st['x']}[1]")
    if per_body:
        kb.emit(f"{per_body}[{tid}] = {e}")
    kb.emit(f"wp.atomic_add({total}, 0, {e})")
