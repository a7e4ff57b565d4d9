"""The ``sph`` family: SPH neighbour sums over ``wp.HashGrid`` (density, pressure, viscosity, XSPH).
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable

from ...builder import INDENT, KernelBuilder, KernelSource, Var
from ...types import F32, I32, V3
from ._kit import Knobs, accumulator, add_func, begin, chance, fresh_name, let_local, lit, tid1


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
            w = add_func(kb, ("cubic_kernel", "w_cubic", "spline_kernel"), "r: float, h: float",
                        ["q = r / h", "sigma = 8.0 / (wp.pi * h * h * h)", "if q <= 0.5:",
                         INDENT + "return sigma * (6.0 * (q * q * q - q * q) + 1.0)", "if q <= 1.0:",
                         INDENT + "t = 1.0 - q", INDENT + "return sigma * 2.0 * t * t * t", "return 0.0"])
            out["w"] = lambda r, r2: f"{w}({r}, {h})"
        if needed & {"grad", "lap"}:
            grad = add_func(kb, ("cubic_grad", "dw_cubic", "spline_grad"), "r: float, h: float",
                           ["q = r / h", "sigma = 48.0 / (wp.pi * h * h * h * h)", "if q <= 0.5:",
                            INDENT + "return sigma * q * (3.0 * q - 2.0)", "if q <= 1.0:",
                            INDENT + "t = 1.0 - q", INDENT + "return -sigma * t * t", "return 0.0"])
            out["grad"] = lambda r, r2: f"{grad}({r}, {h})"
            out["lap"] = lambda r, r2: f"-{grad}({r}, {h}) / wp.max({r}, 1.0e-6)"
        return out
    if rng.random() < 0.6:
        if "w" in needed:
            poly6 = add_func(kb, ("poly6", "w_poly6", "kernel_poly6"), "r2: float, h: float",
                            ["hr = h * h - r2", "return 315.0 / (64.0 * wp.pi * wp.pow(h, 9.0)) * hr * hr * hr"])
            out["w"] = lambda r, r2: f"{poly6}({r2}, {h})"
        if "grad" in needed:
            spiky = add_func(kb, ("spiky_grad", "grad_spiky", "dw_spiky"), "r: float, h: float",
                            ["hr = h - r", "return -45.0 / (wp.pi * wp.pow(h, 6.0)) * hr * hr"])
            out["grad"] = lambda r, r2: f"{spiky}({r}, {h})"
        if "lap" in needed:
            lap = add_func(kb, ("visc_laplacian", "lap_viscosity", "w_visc_lap"), "r: float, h: float",
                          ["return 45.0 / (wp.pi * wp.pow(h, 6.0)) * (h - r)"])
            out["lap"] = lambda r, r2: f"{lap}({r}, {h})"
        return out
    coeff: dict[str, str] = {}
    for key, bases, value in (("w", ("poly6_coeff", "w_norm"), f"315.0 / (64.0 * wp.pi * wp.pow({h}, 9.0))"),
                              ("grad", ("spiky_coeff", "grad_norm"), f"-45.0 / (wp.pi * wp.pow({h}, 6.0))"),
                              ("lap", ("visc_coeff", "lap_norm"), f"45.0 / (wp.pi * wp.pow({h}, 6.0))")):
        if key in needed:
            coeff[key] = let_local(kb, bases, value, F32)
    out["w"] = lambda r, r2: f"{coeff['w']} * ({h} * {h} - {r2}) * ({h} * {h} - {r2}) * ({h} * {h} - {r2})"
    out["grad"] = lambda r, r2: f"{coeff['grad']} * ({h} - {r}) * ({h} - {r})"
    out["lap"] = lambda r, r2: f"{coeff['lap']} * ({h} - {r})"
    return out


def sph(rng: random.Random, level: int) -> KernelSource:
    quantity = rng.choice(["density", "density", "pressure", "viscosity", "xsph", "count"] + ["forces"] * level)
    names = {"density": ("compute_density", "sph_density", "solve_density"),
             "pressure": ("compute_pressure_force", "sph_pressure_forces", "apply_pressure"),
             "viscosity": ("compute_viscosity", "sph_viscosity_forces"),
             "xsph": ("xsph_smoothing", "smooth_velocities", "apply_xsph"),
             "count": ("count_neighbors", "neighbor_counts"),
             "forces": ("compute_forces", "sph_forces", "eval_fluid_forces")}[quantity]
    kb, _ = begin(rng, level, "sph", names)
    knobs = Knobs(kb)
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

    tid = tid1(kb, "tid")
    kernels = _sph_kernels(kb, rng.choice(("poly6", "poly6", "cubic")), h, needed)
    i = kb.let("i", f"wp.hash_grid_point_id({grid}, {tid})", I32).name if rng.random() < 0.6 else tid
    xi = let_local(kb, ("xi", "x_i", "p"), f"{x}[{i}]", V3)
    vi = let_local(kb, ("vi", "v_i"), f"{v}[{i}]", V3) if v else None
    rho_i = let_local(kb, ("rho_i", "density_i"), f"{rho}[{i}]", F32) if rho else None
    p_i = None
    if quantity in ("pressure", "forces"):
        if p_arr:
            p_i = let_local(kb, ("p_i", "pressure_i"), f"{p_arr}[{i}]", F32)
        else:  # equation of state, inline
            k_eos = knobs.get("stiffness", 1.0, 50.0)
            rho0 = knobs.get("rest_density", 500.0, 1000.0)
            p_i = let_local(kb, ("p_i", "pressure_i"), f"{k_eos} * ({rho_i} - {rho0})", F32)

    accs: dict[str, str] = {}
    if quantity in ("density", "count"):
        accs["sum"] = accumulator(kb, ("rho_sum", "density_sum", "total") if quantity == "density" else ("count", "n"),
                           F32 if quantity == "density" else I32)
    if quantity in ("pressure", "forces"):
        accs["fp"] = accumulator(kb, ("f_pressure", "fp", "grad_p"), V3)
    if quantity in ("viscosity", "forces"):
        accs["fv"] = accumulator(kb, ("f_visc", "fv", "visc"), V3)
    if quantity == "xsph":
        accs["dv"] = accumulator(kb, ("dv", "v_avg", "correction"), V3)

    # Two equivalent iteration forms: the query object as a Python iterator, or the explicit
    # hash_grid_query_next loop that writes the next neighbour into an int variable.
    query = fresh_name(kb, "neighbors", "query", "q")
    kb.emit(f"{query} = wp.hash_grid_query({grid}, {xi}, {h})")
    if rng.random() < 0.65:
        index_name = kb.fresh(rng.choice(("index", "j", "neighbor")))
        loop = kb.block(f"for {index_name} in {query}:")
    else:
        index_name = accumulator(kb, ("index", "j", "neighbor"), I32)
        loop = kb.block(f"while wp.hash_grid_query_next({query}, {index_name}):")
    skip_self = quantity not in ("density", "count") or rng.random() < 0.3
    with loop:
        kb.scope.add(Var(index_name, I32, mutable=False))
        guard = kb.block(f"if {index_name} != {i}:") if skip_self else contextlib.nullcontext()
        with guard:
            xj = let_local(kb, ("xj", "x_j"), f"{x}[{index_name}]", V3)
            d = let_local(kb, ("d", "xij", "r_ij"), f"{xi} - {xj}", V3)
            use_r2 = quantity in ("density", "count") and rng.random() < 0.6
            if use_r2:
                r2 = let_local(kb, ("r2", "dist_sq"), f"wp.dot({d}, {d})", F32)
                test, r = f"{r2} < {h} * {h}", f"wp.sqrt({r2})"
            else:
                r = let_local(kb, ("r", "dist"), f"wp.length({d})", F32)
                r2 = f"{r} * {r}"
                test = f"{r} < {h}" + (f" and {r} > 1.0e-6" if skip_self else "")
            with kb.block(f"if {test}:"):
                if quantity == "count":
                    kb.emit(f"{accs['sum']} += 1")
                elif quantity == "density":
                    kb.emit(f"{accs['sum']} += {mass} * {kernels['w'](r, r2)}")
                if "fp" in accs:
                    rho_j = let_local(kb, ("rho_j", "density_j"), f"{rho}[{index_name}]", F32)
                    if p_arr:
                        p_j = f"{p_arr}[{index_name}]"
                    else:
                        p_j = let_local(kb, ("p_j", "pressure_j"),
                                     f"{knobs.get('stiffness', 1.0, 50.0)} * ({rho_j} - "
                                     f"{knobs.get('rest_density', 500.0, 1000.0)})", F32)
                    grad = let_local(kb, ("dw", "grad_w"), kernels["grad"](r, r2), F32)
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
                    w = let_local(kb, ("w", "weight"), kernels["w"](r, r2), F32)
                    rho_avg = f"0.5 * ({rho_i} + {rho}[{index_name}])"
                    kb.emit(f"{accs['dv']} += ({v}[{index_name}] - {vi}) * ({mass} * {w} / ({rho_avg}))")

    if quantity == "count":
        kb.emit(f"{out}[{i}] = {accs['sum']}")
    elif quantity == "density":
        value = accs["sum"]
        if not skip_self and rng.random() < 0.4:  # self contribution, computed once outside the loop
            kb.emit(f"{value} += {mass} * {kernels['w']('0.0', '0.0')}")
        kb.emit(f"{out}[{i}] = {value}" if rng.random() < 0.6 else f"{out}[{i}] = wp.max({value}, 1.0e-6)")
        if chance(kb, 0.35):  # also evaluate the equation of state
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
        if quantity == "forces" and chance(kb, 0.4):
            total = f"{total} + {knobs.vec3('gravity', f'wp.vec3(0.0, {lit(rng, -9.81, -1.0)}, 0.0)')}"
        if rng.random() < 0.3:
            kb.emit(f"wp.atomic_add({out}, {i}, {total})")
        else:
            kb.emit(f"{out}[{i}] = {total}")
    return knobs.render()
