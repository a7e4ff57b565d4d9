"""The ``csr_spmv`` family: CSR sparse matrix–vector products (scaled, transposed, block, Jacobi,
residual).
"""

from __future__ import annotations

import random

from ...builder import KernelBuilder, KernelSource
from ...types import F32, I32, M33, V3
from ._kit import Knobs, accumulator, begin, chance, each_element, let_local


def csr_spmv(rng: random.Random, level: int) -> KernelSource:
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
    kb, _ = begin(rng, level, "csr_spmv", names)
    knobs = Knobs(kb, rng.choice(("arg", "arg", "const", "mixed")))
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
    scaled = variant in ("spmv", "block", "spmv_t") and chance(kb, 0.5)
    alpha = knobs.get("alpha", 0.5, 2.0) if scaled else ""
    beta = knobs.get("beta", 0.0, 1.0) if scaled and variant != "spmv_t" and rng.random() < 0.7 else ""
    count = f"{offsets}.shape[0] - 1"
    with each_element(kb, ("tid", "row", "i"), count) as row:
        bounds = rng.choice((("start", "end"), ("row_start", "row_end"), ("beg", "end")))
        start = kb.let(bounds[0], f"{offsets}[{row}]", I32).name
        end = kb.let(bounds[1], f"{offsets}[{row} + 1]", I32).name
        if variant == "spmv_t":  # row i of A scatters into y along its columns: y += A^T x
            xr = let_local(kb, ("xr", "x_row", "xi"), f"{x}[{row}]" if not alpha else f"{alpha} * {x}[{row}]", F32)
            with kb.for_range("k", start, end) as k:
                kb.emit(f"wp.atomic_add({out}, {cols}[{k.name}], {vals}[{k.name}] * {xr})")
        else:
            _csr_row_body(kb, knobs, variant, row, start, end, cols, vals, x, b, out, alpha, beta, xt)
    return knobs.render()


def _csr_row_body(kb: KernelBuilder, knobs: Knobs, variant: str, row: str, start: str, end: str,
                  cols: str, vals: str, x: str, b: str, out: str, alpha: str, beta: str, xt: str) -> None:
    rng = kb.rng
    if variant == "norm":
        acc = accumulator(kb, ("acc", "norm", "s"), F32)
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
        d = accumulator(kb, ("d", "diag_val", "a_ii"), F32)
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
    acc = accumulator(kb, ("acc", "row_sum", "dot", "s"), xt, f"{xt}(0.0)" if xt != F32 else "")
    diag = accumulator(kb, ("diag", "a_ii", "d"), F32) if variant == "jacobi" else ""
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
        col = let_local(kb, ("col", "j", "c"), f"{cols}[{k}]", I32) if rng.random() < 0.6 or diag else f"{cols}[{k}]"
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
        new = let_local(kb, ("x_jac", "xi_new"), f"({b}[{row}] - {acc}) / {diag}", F32)
        if chance(kb, 0.4):
            omega = knobs.get("omega", 0.5, 1.0)
            kb.emit(f"{out}[{row}] = (1.0 - {omega}) * {x}[{row}] + {omega} * {new}")
        else:
            kb.emit(f"{out}[{row}] = {new}")
        return
    if variant == "residual":
        r = let_local(kb, ("r_i", "res"), f"{b}[{row}] - {acc}", F32)
        kb.emit(f"{out}[{row}] = {r}")
        if chance(kb, 0.5):  # squared norm for the convergence test
            norm = kb.array_param(rng.choice(("r_norm_sq", "residual_norm")), F32).name
            kb.emit(f"wp.atomic_add({norm}, 0, {r} * {r})")
        return
    value = f"{alpha} * {acc}" if alpha else acc
    if chance(kb, 0.25):  # fused with the dot product x . Ax that conjugate gradients needs next
        value = let_local(kb, ("ax_i", "y_i"), value, xt)
        pap = kb.array_param(rng.choice(("pAp", "x_dot_Ax", "curvature")), F32).name
        term = f"wp.dot({x}[{row}], {value})" if xt != F32 else f"{x}[{row}] * {value}"
        kb.emit(f"wp.atomic_add({pap}, 0, {term})")
    if beta:
        kb.emit(f"{out}[{row}] = {value} + {beta} * {out}[{row}]")
    elif alpha and rng.random() < 0.3:
        kb.emit(f"{out}[{row}] += {value}")
    else:
        kb.emit(f"{out}[{row}] = {value}")


def _coo_spmv(kb: KernelBuilder, knobs: Knobs) -> None:
    """One nonzero per thread (COO), accumulated into y with atomics."""
    rng = kb.rng
    rows = kb.array_param(rng.choice(("rows", "row_indices", "coo_rows")), I32).name
    cols = kb.array_param(rng.choice(("cols", "col_indices", "coo_cols")), I32).name
    vals = kb.array_param(rng.choice(("values", "data")), F32).name
    x = kb.array_param(rng.choice(("x", "vec")), F32).name
    y = kb.array_param(rng.choice(("y", "out")), F32).name
    alpha = knobs.get("alpha", 0.5, 2.0) if chance(kb, 0.4) else ""
    transpose = rng.random() < 0.3
    with each_element(kb, ("tid", "k", "nz"), f"{vals}.shape[0]") as k:
        r = let_local(kb, ("r", "row", "i"), f"{rows}[{k}]", I32)
        c = let_local(kb, ("c", "col", "j"), f"{cols}[{k}]", I32)
        if transpose:
            r, c = c, r
        v = f"{vals}[{k}] * {x}[{c}]"
        kb.emit(f"wp.atomic_add({y}, {r}, {alpha + ' * ' if alpha else ''}{v})")
