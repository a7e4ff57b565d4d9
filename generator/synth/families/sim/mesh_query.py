"""The ``mesh_query`` family: closest points, signed distances, particle–mesh collision and depth-image
ray casting on a ``wp.Mesh``.
"""

from __future__ import annotations

import random

from ...builder import KernelBuilder, KernelSource
from ...types import F32, I32, QUAT, V2, V3, XFORM
from ._kit import Knobs, begin, chance, fresh_name, how_many, let_local, tid1, vec3_lit, velocity_response

_POINT_QUERIES = ("wp.mesh_query_point", "wp.mesh_query_point", "wp.mesh_query_point_no_sign",
                  "wp.mesh_query_point_sign_normal", "wp.mesh_query_point_sign_winding_number")


def mesh_query(rng: random.Random, level: int) -> KernelSource:
    # Contacts and camera rays take more code: likelier at high levels.
    variant = rng.choice(["closest"] * 2 + ["rays"] * max(1, 4 - level) + ["collide", "raycast"] * (1 + level // 2))
    names = {"closest": ("mesh_sdf", "closest_point", "query_mesh_distance", "project_to_mesh", "eval_sdf"),
             "collide": ("collide_mesh", "particle_mesh_collision", "resolve_mesh_contacts"),
             "raycast": ("render_depth", "raycast_depth", "draw_depth_image", "cast_camera_rays"),
             "rays": ("trace_rays", "raycast_mesh", "ray_hits")}[variant]
    kb, _ = begin(rng, level, "mesh_query", names)
    knobs = Knobs(kb)
    mesh = kb.raw_param(rng.choice(("mesh", "mesh_id", "geo")), "wp.uint64")
    if variant == "raycast":
        _mesh_raycast_image(kb, knobs, mesh)
    elif variant == "rays":
        _mesh_rays(kb, knobs, mesh)
    else:
        _mesh_points(kb, knobs, mesh, variant == "collide")
    return knobs.render()


def _mesh_points(kb: KernelBuilder, knobs: Knobs, mesh: str, collide: bool) -> None:
    """Closest point / signed distance per point, optionally turned into a particle contact."""
    rng = kb.rng
    x = kb.array_param(rng.choice(("points", "x", "particle_q", "query_points")), V3).name
    v = kb.array_param(rng.choice(("v", "particle_qd", "velocities")), V3).name if collide else None
    wanted: set[str] = set()
    if not collide:
        primary = rng.choice(("sdf", "sdf", "closest", "project", "normal"))
        extras = [k for k in ("sdf", "closest", "normal", "face", "inside") if k != primary]
        wanted = {primary, *rng.sample(extras, how_many(kb, 0, 2))}
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
    i = tid1(kb, "tid", "i")
    p = let_local(kb, ("p", "x_i", "point"), f"{x}[{i}]", V3)
    q = fresh_name(kb, "query", "q", "hit")
    kb.emit(f"{q} = {fn}({mesh}, {p}, {max_dist})")
    need_dist = collide or bool(wanted & {"sdf", "project"})
    need_n = collide or "normal" in wanted or ("project" in wanted and rng.random() < 0.5)
    face_normal = rng.random() < 0.5
    need_cp = need_dist or bool(wanted & {"closest", "project"}) or (need_n and not face_normal)
    with kb.block(f"if {q}.result:"):
        cp = delta = dist = n = ""
        if need_cp:
            cp = let_local(kb, ("cp", "closest_pt", "x_surf"), f"wp.mesh_eval_position({mesh}, {q}.face, {q}.u, {q}.v)",
                        V3)
        if need_dist or (need_n and not face_normal):
            delta = let_local(kb, ("delta", "d", "offset"), f"{p} - {cp}", V3)
        if need_dist:
            sign = f" * {q}.sign" if signed and (collide or rng.random() < 0.7) else ""
            dist = let_local(kb, ("dist", "d_len", "phi"), f"wp.length({delta}){sign}", F32)
        if need_n:
            if face_normal:
                n = let_local(kb, ("n", "normal"), f"wp.mesh_eval_face_normal({mesh}, {q}.face)", V3)
            else:  # the direction to the query point, flipped inside the surface
                sign = f" * {q}.sign" if signed else ""
                n = let_local(kb, ("n", "normal"), f"wp.normalize({delta}){sign}", V3)
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
            vel = let_local(kb, ("vel", "vi", "u"), f"{v}[{i}]", V3)
            with kb.block(f"if {dist} < {margin}:"):
                kb.emit(f"{p} = {p} + {n} * ({margin} - {dist})")
                restitution = knobs.get("restitution", 0.0, 0.8)
                friction = knobs.get("friction", 0.0, 0.6) if chance(kb, 0.5) else None
                if chance(kb, 0.35):  # moving mesh: respond to the velocity relative to the surface
                    mv = let_local(kb, ("v_mesh", "surface_vel"),
                                f"wp.mesh_eval_velocity({mesh}, {q}.face, {q}.u, {q}.v)", V3)
                    rel = let_local(kb, ("v_rel", "rel"), f"{vel} - {mv}", V3)
                    velocity_response(kb, {}, rel, n, restitution, friction)
                    kb.emit(f"{vel} = {rel} + {mv}")
                else:
                    velocity_response(kb, {}, vel, n, restitution, friction)
                kb.emit(f"{x}[{i}] = {p}")
                kb.emit(f"{v}[{i}] = {vel}")
                if chance(kb, 0.25):  # contact count for diagnostics
                    contacts = kb.array_param(rng.choice(("contact_count", "num_contacts")), I32).name
                    kb.emit(f"wp.atomic_add({contacts}, 0, 1)")
    if "sdf" in out_arrays and rng.random() < 0.6:  # nothing within max_dist: report the cap
        with kb.block("else:"):
            kb.emit(f"{out_arrays['sdf']}[{i}] = {max_dist}")


def _camera_ray(kb: KernelBuilder, knobs: Knobs, px: str, py: str, width: str, height: str) -> tuple[str, str]:
    """Pinhole camera ray through pixel (px, py): returns (origin, direction) names."""
    rng = kb.rng
    sx = let_local(kb, ("sx", "u", "ndc_x"), f"2.0 * (float({px}) + 0.5) / float({width}) - 1.0", F32)
    sy = let_local(kb, ("sy", "v", "ndc_y"), f"1.0 - 2.0 * (float({py}) + 0.5) / float({height})", F32)
    aspect = let_local(kb, ("aspect", "aspect_ratio"), f"float({width}) / float({height})", F32)
    if rng.random() < 0.5:
        tan_half = let_local(kb, ("tan_half", "scale"), f"wp.tan({knobs.get('fov', 0.5, 1.5)} * 0.5)", F32)
    else:
        tan_half = knobs.get("tan_half_fov", 0.3, 1.0)
    local_dir = f"wp.normalize(wp.vec3({sx} * {aspect} * {tan_half}, {sy} * {tan_half}, -1.0))"
    mount = rng.choice(("position", "position", "quat", "transform"))
    if mount == "transform":
        cam = kb.scalar_param(rng.choice(("camera", "cam_pose", "view")), XFORM).name
        ro = let_local(kb, ("ro", "origin"), f"wp.transform_point({cam}, wp.vec3(0.0, 0.0, 0.0))", V3)
        rd = let_local(kb, ("rd", "ray_dir"), f"wp.transform_vector({cam}, {local_dir})", V3)
    else:
        ro = knobs.vec3("cam_pos", vec3_lit(rng, -1.0, 1.0) if rng.random() < 0.3 else "wp.vec3(0.0, 1.0, 5.0)")
        rd = let_local(kb, ("rd", "ray_dir"), local_dir, V3)
        if mount == "quat":
            rot = kb.scalar_param(rng.choice(("cam_rot", "camera_rotation")), QUAT).name
            kb.emit(f"{rd} = wp.quat_rotate({rot}, {rd})")
    return ro, rd


def _mesh_raycast_image(kb: KernelBuilder, knobs: Knobs, mesh: str) -> None:
    rng = kb.rng
    two_d = rng.random() < 0.6
    depth = kb.array_param(rng.choice(("depth", "depth_image", "pixels")), F32, 2 if two_d else 1).name
    shade = kb.array_param(rng.choice(("color", "rgb", "shading")), V3, 2 if two_d else 1).name if chance(
        kb, 0.35) else None
    if two_d:
        py, px = (v.name for v in kb.tid(2, ("y", "x")))
        width, height = f"{depth}.shape[1]", f"{depth}.shape[0]"
        if rng.random() < 0.5:
            width = let_local(kb, ("width", "w"), width, I32)
            height = let_local(kb, ("height", "h"), height, I32)
        pix = f"{py}, {px}"
    else:
        tid = tid1(kb, "tid", "pixel")
        width = kb.scalar_param("width", I32).name
        height = kb.scalar_param("height", I32).name
        px = let_local(kb, ("x", "px"), f"{tid} % {width}", I32)
        py = let_local(kb, ("y", "py"), f"{tid} // {width}", I32)
        pix = tid
    ro, rd = _camera_ray(kb, knobs, px, py, width, height)
    max_t = knobs.get("max_depth", 10.0, 100.0)
    q = fresh_name(kb, "query", "hit", "q")
    kb.emit(f"{q} = wp.mesh_query_ray({mesh}, {ro}, {rd}, {max_t})")
    with kb.block(f"if {q}.result:"):
        if rng.random() < 0.5:
            kb.emit(f"{depth}[{pix}] = {q}.t")
        else:  # z-depth along the viewing axis instead of distance along the ray
            kb.emit(f"{depth}[{pix}] = {q}.t * wp.abs({rd}[2])")
        if shade:
            n = let_local(kb, ("n", "normal"), f"{q}.normal" if rng.random() < 0.5 else
                       f"wp.mesh_eval_face_normal({mesh}, {q}.face)", V3)
            light = knobs.vec3("light_dir", "wp.normalize(wp.vec3(0.3, 1.0, 0.5))")
            diffuse = let_local(kb, ("diffuse", "lambert", "ndotl"), f"wp.max(wp.dot({n}, {light}), 0.0)", F32)
            if chance(kb, 0.3):  # shadow ray from just above the hit point towards the light
                hit_p = let_local(kb, ("hit_p", "x_hit"), f"{ro} + {rd} * {q}.t + {n} * 1.0e-3", V3)
                sq = fresh_name(kb, "shadow", "occluder")
                kb.emit(f"{sq} = wp.mesh_query_ray({mesh}, {hit_p}, {light}, {max_t})")
                with kb.block(f"if {sq}.result:"):
                    kb.emit(f"{diffuse} = {diffuse} * {knobs.get('shadow_factor', 0.1, 0.5)}")
            if rng.random() < 0.5:
                kb.emit(f"{shade}[{pix}] = wp.vec3({diffuse})")
            else:
                albedo = knobs.vec3("albedo", vec3_lit(rng, 0.2, 1.0))
                ambient = knobs.get("ambient", 0.05, 0.3)
                kb.emit(f"{shade}[{pix}] = {albedo} * ({ambient} + {diffuse})")
    with kb.block("else:"):
        kb.emit(f"{depth}[{pix}] = {rng.choice(('0.0', max_t))}")
        if shade:
            kb.emit(f"{shade}[{pix}] = wp.vec3(0.0)")


def _mesh_rays(kb: KernelBuilder, knobs: Knobs, mesh: str) -> None:
    """Arbitrary rays from arrays: hit distance, hit point, face and barycentrics."""
    rng = kb.rng
    origins = kb.array_param(rng.choice(("ray_origins", "origins", "ro")), V3).name
    dirs = kb.array_param(rng.choice(("ray_dirs", "directions", "rd")), V3).name
    outs = rng.sample(("t", "point", "face", "bary", "count"), how_many(kb, 1, 2))
    arrays = {}
    for key, bases, t in (("t", ("hit_t", "distances"), F32), ("point", ("hit_points", "points"), V3),
                          ("face", ("hit_face", "faces"), I32), ("bary", ("hit_uv", "barycentrics"), V2),
                          ("count", ("num_hits", "hit_count"), I32)):
        if key in outs:
            arrays[key] = kb.array_param(rng.choice(bases), t).name
    max_t = knobs.get("max_t", 1.0, 1000.0)
    i = tid1(kb, "tid", "i", "ray")
    o = let_local(kb, ("o", "origin"), f"{origins}[{i}]", V3)
    d = let_local(kb, ("d", "ray_dir"), f"wp.normalize({dirs}[{i}])" if rng.random() < 0.6 else f"{dirs}[{i}]", V3)
    q = fresh_name(kb, "query", "hit", "q")
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
        if chance(kb, 0.25):  # one mirror bounce: reflect about the hit normal and trace again
            bounce = kb.array_param(rng.choice(("bounce_t", "secondary_t")), F32).name
            hit_p = let_local(kb, ("hit_p", "x_hit"), f"{o} + {d} * {q}.t", V3)
            refl = let_local(kb, ("r", "reflected"), f"{d} - {q}.normal * (2.0 * wp.dot({d}, {q}.normal))", V3)
            q2 = fresh_name(kb, "query2", "second", "bounce_hit")
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
