"""The ``bvh_query`` family: AABB and ray queries on a ``wp.Bvh``: counting, collecting, nearest hits.
"""

from __future__ import annotations

import contextlib
import random

from ...builder import INDENT, KernelBuilder, KernelSource
from ...types import F32, I32, V3
from ._kit import Knobs, accumulator, add_func, begin, chance, fresh_name, let_local, tid1


def bvh_query(rng: random.Random, level: int) -> KernelSource:
    variant = rng.choice(["count", "count", "pairs", "nearest"] + ["ray_nearest", "ray_count"] * (1 + level // 3))
    names = {"count": ("count_overlaps", "broadphase_count", "count_neighbors_bvh"),
             "pairs": ("find_overlaps", "broadphase_pairs", "collect_candidates"),
             "nearest": ("nearest_item", "closest_center", "find_nearest"),
             "ray_nearest": ("raycast_bvh", "trace_spheres", "ray_closest_hit"),
             "ray_count": ("count_ray_hits", "ray_candidates")}[variant]
    kb, _ = begin(rng, level, "bvh_query", names)
    knobs = Knobs(kb)
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
        d = let_local(kb, ("d", "delta"), f"{q['p']} - {c}[{item}]", V3)
        reach = f"{q['radius']} + {r}[{item}]" if "radius" in q else f"{r}[{item}]"
        if rng.random() < 0.5:
            return f"wp.length({d}) < {reach}"
        reach_name = let_local(kb, ("reach", "r_sum"), reach, F32)
        return f"wp.dot({d}, {d}) < {reach_name} * {reach_name}"
    lo, hi = arrays["item_lower"], arrays["item_upper"]
    if "overlap" not in arrays:
        arrays["overlap"] = add_func(kb, ("aabb_overlap", "boxes_overlap", "overlaps"),
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


def _bvh_boxes(kb: KernelBuilder, knobs: Knobs, bvh: str, variant: str) -> None:
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
    elif chance(kb, 0.45):
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
        counts = kb.array_param(rng.choice(("counts", "num_candidates")), I32).name if chance(kb, 0.4) else ""
    else:
        nearest = kb.array_param(rng.choice(("nearest", "closest_index")), I32).name
        nearest_d = kb.array_param(rng.choice(("nearest_dist", "closest_dist")), F32).name if chance(kb, 0.4) else ""
    i = tid1(kb, "tid", "i")
    q: dict[str, str] = {}
    lo_name, hi_name = rng.choice((("lo", "hi"), ("lower_i", "upper_i"), ("box_min", "box_max")))
    if from_points:
        q["p"] = let_local(kb, ("p", "x_i", "center"), f"{pts}[{i}]", V3)
        q["radius"] = knobs.get(rng.choice(("radius", "query_radius", "search_radius")), 0.01, 1.0)
        q["lo"] = kb.let(lo_name, f"{q['p']} - wp.vec3({q['radius']})", V3).name
        q["hi"] = kb.let(hi_name, f"{q['p']} + wp.vec3({q['radius']})", V3).name
    else:
        if chance(kb, 0.3):  # inflate the query box by a contact margin
            margin = knobs.get(rng.choice(("margin", "contact_margin")), 0.001, 0.1)
            q["lo"] = kb.let(lo_name, f"{lower}[{i}] - wp.vec3({margin})", V3).name
            q["hi"] = kb.let(hi_name, f"{upper}[{i}] + wp.vec3({margin})", V3).name
        else:
            q["lo"] = kb.let(lo_name, f"{lower}[{i}]", V3).name
            q["hi"] = kb.let(hi_name, f"{upper}[{i}]", V3).name
        if shape == "sphere":
            q["p"] = let_local(kb, ("center", "c"), f"({q['lo']} + {q['hi']}) * 0.5", V3)
    query = fresh_name(kb, "query", "q")
    kb.emit(f"{query} = wp.bvh_query_aabb({bvh}, {q['lo']}, {q['hi']})")
    item = accumulator(kb, ("item", "bounds_nr", "index"), I32)
    counted = variant == "count" or (variant == "pairs" and (style == "rows" or counts))
    count = accumulator(kb, ("count", "n", "num"), I32) if counted else ""
    if variant == "nearest":
        best = accumulator(kb, ("best", "best_index", "closest"), I32, "-1")
        best_d = accumulator(kb, ("best_dist", "min_dist", "d_min"), F32, q["radius"])
    # The BVH is often built over the query points themselves: skip self, optionally same-group items.
    self_query = from_points and (rng.random() < 0.5 or arrays.get("centers") == pts)
    groups = kb.array_param(rng.choice(("groups", "collision_group")), I32).name if self_query and chance(
        kb, 0.25) else ""
    cap = knobs.get("max_neighbors", 8, 64, I32) if counted and chance(kb, 0.25) else ""
    item_hits = kb.array_param(rng.choice(("item_hits", "hits_per_item")), I32).name if variant == "count" and chance(
        kb, 0.2) else ""
    with kb.block(f"while wp.bvh_query_next({query}, {item}):"):
        if self_query:
            test = f"{item} == {i}" + (f" or {groups}[{item}] == {groups}[{i}]" if groups else "")
            with kb.block(f"if {test}:"):
                kb.emit("continue")
        if variant == "nearest":
            surface = f" - {arrays['radii']}[{item}]" if shape == "sphere" else ""
            dist = let_local(kb, ("dist", "d"), f"wp.length({q['p']} - {arrays['centers']}[{item}]){surface}", F32)
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
                        slot = let_local(kb, ("slot", "k"), f"wp.atomic_add({pair_count}, 0, 1)", I32)
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


def _bvh_rays(kb: KernelBuilder, knobs: Knobs, bvh: str, nearest: bool) -> None:
    rng = kb.rng
    origins = kb.array_param(rng.choice(("ray_origins", "origins")), V3).name
    dirs = kb.array_param(rng.choice(("ray_dirs", "directions")), V3).name
    shape = rng.choice(("sphere", "box")) if nearest or chance(kb, 0.4) else "none"
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
    i = tid1(kb, "tid", "i", "ray")
    o = let_local(kb, ("o", "origin"), f"{origins}[{i}]", V3)
    d = let_local(kb, ("d", "ray_dir"), f"wp.normalize({dirs}[{i}])" if shape == "sphere" or rng.random() < 0.5 else
               f"{dirs}[{i}]", V3)
    intersect = ""
    if shape == "sphere" and rng.random() < 0.6:
        intersect = add_func(kb, ("ray_sphere", "intersect_sphere", "sphere_hit_t"),
                            "o: wp.vec3, d: wp.vec3, c: wp.vec3, r: float",
                            ["oc = o - c", "b = wp.dot(oc, d)", "cc = wp.dot(oc, oc) - r * r", "disc = b * b - cc",
                             "if disc < 0.0:", INDENT + "return -1.0", "return -b - wp.sqrt(disc)"])
    elif shape == "box":
        inv_d = let_local(kb, ("inv_d", "inv_dir"), f"wp.cw_div(wp.vec3(1.0), {d})", V3)
    query = fresh_name(kb, "query", "q")
    kb.emit(f"{query} = wp.bvh_query_ray({bvh}, {o}, {d})")
    item = accumulator(kb, ("item", "bounds_nr", "index"), I32)
    if nearest:
        best = accumulator(kb, ("best", "closest"), I32, "-1")
        t_min = accumulator(kb, ("t_min", "t_best", "closest_t"), F32, knobs.get("max_t", 10.0, 1000.0))
    else:
        count = accumulator(kb, ("count", "n"), I32)
    with kb.block(f"while wp.bvh_query_next({query}, {item}):"):
        if shape == "none":
            kb.emit(f"{count} += 1")
            t = ""
        elif shape == "sphere":
            if intersect:
                t = let_local(kb, ("t", "t_hit"), f"{intersect}({o}, {d}, {centers}[{item}], {radii}[{item}])", F32)
            else:
                oc = let_local(kb, ("oc", "rel"), f"{o} - {centers}[{item}]", V3)
                b = let_local(kb, ("b", "half_b"), f"wp.dot({oc}, {d})", F32)
                disc = let_local(kb, ("disc", "discriminant"),
                              f"{b} * {b} - wp.dot({oc}, {oc}) + {radii}[{item}] * {radii}[{item}]", F32)
                with kb.block(f"if {disc} < 0.0:"):
                    kb.emit("continue")
                t = let_local(kb, ("t", "t_hit"), f"-{b} - wp.sqrt({disc})", F32)
        else:
            t0 = let_local(kb, ("t0", "t_lo"), f"wp.cw_mul({lo_arr}[{item}] - {o}, {inv_d})", V3)
            t1 = let_local(kb, ("t1", "t_hi"), f"wp.cw_mul({hi_arr}[{item}] - {o}, {inv_d})", V3)
            t_far = let_local(kb, ("t_exit", "t_far"), f"wp.min(wp.max({t0}, {t1}))", F32)
            t = let_local(kb, ("t_enter", "t_near"), f"wp.max(wp.min({t0}, {t1}))", F32)
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
