"""The ``fem`` family: tet/triangle element forces from deformation gradients (Neo-Hookean, StVK,
corotational), rest-shape precomputation.
"""

from __future__ import annotations

import random

from ...builder import KernelBuilder, KernelSource
from ...types import F32, I32, M22, M33, V2, V3
from ._kit import Knobs, begin, chance, each_element, element_indices, index_param, let_local


def _lame(kb: KernelBuilder, knobs: Knobs, e: str, damped: bool) -> tuple[str, str, str]:
    """Lamé parameters (mu, lambda) and a damping coefficient: constants, per-element material
    vectors, or converted from Young's modulus and Poisson's ratio."""
    rng = kb.rng
    style = rng.choice(("knobs", "knobs", "materials", "young"))
    if style == "materials":
        materials = kb.array_param(rng.choice(("materials", "tet_materials", "element_materials")), V3).name
        mat = let_local(kb, ("mat", "material"), f"{materials}[{e}]", V3)
        return (let_local(kb, ("k_mu", "mu"), f"{mat}[0]", F32), let_local(kb, ("k_lambda", "lam"), f"{mat}[1]", F32),
                let_local(kb, ("k_damp", "damping"), f"{mat}[2]", F32) if damped else "")
    if style == "young":
        young = knobs.get(rng.choice(("youngs_modulus", "E")), 1.0e3, 1.0e6)
        nu = knobs.get(rng.choice(("poisson_ratio", "nu")), 0.1, 0.45)
        mu = let_local(kb, ("mu", "k_mu"), f"{young} / (2.0 * (1.0 + {nu}))", F32)
        lam = let_local(kb, ("lam", "k_lambda"), f"{young} * {nu} / ((1.0 + {nu}) * (1.0 - 2.0 * {nu}))", F32)
        return mu, lam, knobs.get("k_damp", 0.0, 10.0) if damped else ""
    return (knobs.get("k_mu", 1.0e2, 1.0e5), knobs.get("k_lambda", 1.0e2, 1.0e5),
            knobs.get("k_damp", 0.0, 10.0) if damped else "")


def _stress(kb: KernelBuilder, model: str, F: str, mu: str, lam: str, dim: int) -> tuple[str, str]:
    """First Piola-Kirchhoff stress of ``model``; returns (P, J or "")."""
    rng = kb.rng
    mat = M33 if dim == 3 else M22
    ident = f"wp.identity(n={dim}, dtype=float)"
    if model == "neo_hookean":
        J = let_local(kb, ("J", "det_F"), f"wp.determinant({F})", F32)
        if rng.random() < 0.5:  # keep log(J) finite for inverted elements
            kb.emit(f"{J} = wp.max({J}, 1.0e-6)")
        fit = let_local(kb, ("F_inv_T", "FinvT"), f"wp.transpose(wp.inverse({F}))", mat)
        return let_local(kb, ("P", "stress"), f"{mu} * ({F} - {fit}) + {lam} * wp.log({J}) * {fit}", mat), J
    if model == "stable_neo_hookean" and dim == 3:
        J = let_local(kb, ("J", "det_F"), f"wp.determinant({F})", F32)
        ic = let_local(kb, ("Ic", "I_c"), f"wp.ddot({F}, {F})", F32)
        alpha = let_local(kb, ("alpha", "a"), f"1.0 + {mu} / {lam}", F32)
        col_name = rng.choice(("c{}", "F_col{}", "col{}"))
        cols = [kb.let(col_name.format(c), f"wp.vec3({F}[0, {c}], {F}[1, {c}], {F}[2, {c}])", V3).name
                for c in range(3)]
        djdf = let_local(kb, ("dJdF", "grad_J"), f"wp.matrix_from_cols(wp.cross({cols[1]}, {cols[2]}), "
                      f"wp.cross({cols[2]}, {cols[0]}), wp.cross({cols[0]}, {cols[1]}))", mat)
        return let_local(kb, ("P", "stress"), f"{F} * ({mu} * (1.0 - 1.0 / ({ic} + 1.0))) + {djdf} * ({lam} * ({J} - "
                      f"{alpha}))", mat), J
    if model == "corotated" and dim == 3:
        U = let_local(kb, ("U",), f"{mat}()", mat)
        sigma = let_local(kb, ("sigma", "s"), "wp.vec3()", V3)
        V = let_local(kb, ("V",), f"{mat}()", mat)
        kb.emit(f"wp.svd3({F}, {U}, {sigma}, {V})")
        R = let_local(kb, ("R", "rot"), f"{U} * wp.transpose({V})", mat)
        J = let_local(kb, ("J", "det_F"), f"{sigma}[0] * {sigma}[1] * {sigma}[2]", F32)
        return let_local(kb, ("P", "stress"), f"2.0 * {mu} * ({F} - {R}) + {lam} * ({J} - 1.0) * {J} * "
                      f"wp.transpose(wp.inverse({F}))", mat), J
    if model == "linear":
        eps = let_local(kb, ("eps", "strain"), f"0.5 * ({F} + wp.transpose({F})) - {ident}", mat)
        return let_local(kb, ("P", "sigma_lin"), f"2.0 * {mu} * {eps} + {lam} * wp.trace({eps}) * {ident}", mat), ""
    # St. Venant-Kirchhoff
    E = let_local(kb, ("E", "green"), f"0.5 * (wp.transpose({F}) * {F} - {ident})", mat)
    S = let_local(kb, ("S", "pk2"), f"2.0 * {mu} * {E} + {lam} * wp.trace({E}) * {ident}", mat)
    return let_local(kb, ("P", "stress"), f"{F} * {S}", mat), ""


def fem(rng: random.Random, level: int) -> KernelSource:
    # Triangles (2-D) and linear elasticity are the short forms, likelier at low levels.
    variant = rng.choice(["tet"] * (2 + level // 2) + ["tri"] * max(1, 3 - level // 2) + ["rest"])
    names = {"tet": ("eval_tetrahedra", "tet_forces", "eval_fem_forces", "compute_elastic_forces"),
             "tri": ("eval_triangles", "membrane_forces", "tri_fem_forces"),
             "rest": ("compute_rest_poses", "init_tet_poses", "precompute_rest_shape")}[variant]
    kb, _ = begin(rng, level, "fem", names)
    knobs = Knobs(kb)
    dim = 2 if variant == "tri" else 3
    vt, mat = (V2, M22) if dim == 2 else (V3, M33)
    n = dim + 1
    x = kb.array_param(rng.choice(("x", "positions", "particle_q") if variant != "rest" else ("x_rest", "rest_x")),
                       vt).name
    style = rng.choice(("2d", "vec", "flat"))
    idx = index_param(kb, ("indices", "tets", "tet_indices") if n == 4 else ("tris", "tri_indices"), style, n)
    count = f"{idx}.shape[0] // {n}" if style == "flat" else f"{idx}.shape[0]"
    if variant == "rest":
        _fem_rest(kb, idx, style, x, count)
        return knobs.render()
    pose = kb.array_param(rng.choice(("Dm_inv", "rest_inv", "inv_rest") + (("tet_poses",) if dim == 3 else
                                                                            ("tri_poses",))), mat).name
    vol_arr = kb.array_param(rng.choice(("rest_volume", "volumes") if dim == 3 else ("rest_area", "areas")),
                             F32).name if rng.random() < 0.6 else ""
    damped = chance(kb, 0.35)
    v = kb.array_param(rng.choice(("v", "velocities", "particle_qd")), vt).name if damped else ""
    f = kb.array_param(rng.choice(("f", "forces", "particle_f")), vt).name
    energy = kb.array_param(rng.choice(("energy", "strain_energy")), F32).name if chance(kb, 0.2) else ""
    models = ["neo_hookean", "stvk"] + ["linear"] * max(1, 3 - level) + (
        ["stable_neo_hookean", "corotated"] * (1 + level // 3) if dim == 3 else [])
    model = rng.choice(models)
    fibers = dim == 3 and chance(kb, 0.2)  # muscle-like active stress along a fiber direction
    if fibers:
        fiber_arr = kb.array_param(rng.choice(("fibers", "fiber_dirs")), V3).name
        activation = kb.array_param(rng.choice(("activation", "tet_activations")), F32).name
    with each_element(kb, ("tid", "e", "t"), count) as e:
        ids = element_indices(kb, e, idx, style, n)
        mu, lam, k_damp = _lame(kb, knobs, e, damped)
        prefix = rng.choice(("x", "p"))
        xs = [kb.let(f"{prefix}{k}", f"{x}[{ids[k]}]", vt).name for k in range(n)]
        edges = [f"{xs[k]} - {xs[0]}" for k in range(1, n)]
        if rng.random() < 0.5:
            Ds = let_local(kb, ("Ds", "D_s"), f"wp.matrix_from_cols({', '.join(edges)})", mat)
        else:  # explicit row-major constructor from named edge vectors
            edge_name = rng.choice(("x{}0", "e{}", "dx{}"))
            evs = [kb.let(edge_name.format(k), edges[k - 1], vt).name for k in range(1, n)]
            components = ", ".join(f"{ev}[{r}]" for r in range(dim) for ev in evs)
            Ds = let_local(kb, ("Ds", "D_s"), f"{mat}({components})", mat)
        Dm = let_local(kb, ("Dm", "inv_rest", "X_inv"), f"{pose}[{e}]", mat)
        F = let_local(kb, ("F", "def_grad"), f"{Ds} * {Dm}", mat)
        if vol_arr:
            vol = let_local(kb, ("rest_volume", "vol", "w") if dim == 3 else ("rest_area", "area"),
                            f"{vol_arr}[{e}]", F32)
        else:  # |det(Dm^-1)| = 1 / (d! * rest volume)
            fac = "6.0" if dim == 3 else "2.0"
            vol = let_local(kb, ("rest_volume", "vol") if dim == 3 else ("rest_area", "area"),
                         f"1.0 / ({fac} * wp.abs(wp.determinant({Dm})))", F32)
        P, J = _stress(kb, model, F, mu, lam, dim)
        if fibers:
            fib = let_local(kb, ("fiber", "a0"), f"{fiber_arr}[{e}]", V3)
            kb.emit(f"{P} = {P} + wp.outer({F} * {fib}, {fib}) * ({activation}[{e}] * "
                    f"{knobs.get('k_act', 1.0e2, 1.0e4)})")
        if damped:
            vs = [f"{v}[{ids[k]}]" for k in range(n)]
            rates = ", ".join(f"{vs[k]} - {vs[0]}" for k in range(1, n))
            dDs = let_local(kb, ("dDs", "Ds_dot"), f"wp.matrix_from_cols({rates})", mat)
            kb.emit(f"{P} = {P} + ({dDs} * {Dm}) * {k_damp}")
        H = let_local(kb, ("H", "H_e"), f"-{vol} * {P} * wp.transpose({Dm})" if rng.random() < 0.5 else
                   f"{P} * wp.transpose({Dm}) * (-{vol})", mat)
        force_name = rng.choice(("f{}", "force{}", "f_{}"))
        if rng.random() < 0.5:
            cols = [kb.let(force_name.format(k), f"{vt}({', '.join(f'{H}[{r}, {k - 1}]' for r in range(dim))})",
                           vt).name for k in range(1, n)]
        else:  # rows of H^T are the columns of H
            Ht = let_local(kb, ("Ht", "H_T"), f"wp.transpose({H})", mat)
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
    flags = kb.array_param(rng.choice(("inverted", "bad_element")), I32).name if chance(kb, 0.3) else ""
    with each_element(kb, ("tid", "e", "t"), count) as e:
        ids = element_indices(kb, e, idx, style, 4)
        xs = [kb.let(f"X{k}", f"{x}[{ids[k]}]", V3).name for k in range(4)]
        Dm = let_local(kb, ("Dm", "D_m"),
                       f"wp.matrix_from_cols({xs[1]} - {xs[0]}, {xs[2]} - {xs[0]}, {xs[3]} - {xs[0]})", M33)
        det = let_local(kb, ("det", "det_Dm"), f"wp.determinant({Dm})", F32)
        vol = let_local(kb, ("vol", "volume"), f"{det} / 6.0", F32)
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
