"""The ``graph_relax`` family: graph relaxations: Bellman-Ford, BFS levels, label propagation,
PageRank, Jacobi.
"""

from __future__ import annotations

import random

from ...builder import KernelBuilder, KernelSource
from ...types import F32, I32, V3
from ._kit import Knobs, accumulator, begin, chance, let_local, tid1


def _edge_ends(kb: KernelBuilder, e: str) -> tuple[str, str]:
    """Declare the edge list (separate arrays or ``wp.vec2i``) and load edge ``e``'s ends."""
    rng = kb.rng
    names = rng.choice((("u", "v"), ("src", "dst"), ("a", "b")))
    if rng.random() < 0.5:
        edges = kb.array_param(rng.choice(("edges", "edge_list")), "wp.vec2i").name
        ends = let_local(kb, ("edge", "ends"), f"{edges}[{e}]", "wp.vec2i")
        return kb.let(names[0], f"{ends}[0]", I32).name, kb.let(names[1], f"{ends}[1]", I32).name
    heads = kb.array_param(rng.choice(("edge_src", "sources", "heads")), I32).name
    tails = kb.array_param(rng.choice(("edge_dst", "targets", "tails")), I32).name
    return kb.let(names[0], f"{heads}[{e}]", I32).name, kb.let(names[1], f"{tails}[{e}]", I32).name


def graph_relax(rng: random.Random, level: int) -> KernelSource:
    variant = rng.choice(["bellman_ford", "bellman_ford", "bfs", "labels", "pagerank_push", "pagerank_pull",
                          "jacobi", "smooth"])
    names = {"bellman_ford": ("relax_edges", "bellman_ford_step", "sssp_relax"),
             "bfs": ("bfs_expand", "bfs_level_step", "expand_frontier"),
             "labels": ("propagate_labels", "connected_components_step", "min_label_hook"),
             "pagerank_push": ("pagerank_push", "push_rank", "scatter_rank"),
             "pagerank_pull": ("pagerank_pull", "gather_rank", "pagerank_step"),
             "jacobi": ("graph_jacobi", "laplacian_jacobi_step", "solve_graph_laplacian"),
             "smooth": ("laplacian_smooth", "smooth_vertices", "umbrella_smoothing")}[variant]
    kb, _ = begin(rng, level, "graph_relax", names)
    knobs = Knobs(kb, rng.choice(("arg", "arg", "const", "mixed")))
    {"bellman_ford": _graph_bellman_ford, "bfs": _graph_bfs, "labels": _graph_labels,
     "pagerank_push": _graph_pagerank, "pagerank_pull": _graph_pagerank, "jacobi": _graph_jacobi,
     "smooth": _graph_jacobi}[variant](kb, knobs, variant)
    return knobs.render()


def _graph_bellman_ford(kb: KernelBuilder, knobs: Knobs, variant: str) -> None:
    """One relaxation sweep over all edges: dist[v] = min(dist[v], dist[u] + w(u, v))."""
    rng = kb.rng
    hops = rng.random() < 0.3  # unweighted: integer hop counts
    t = I32 if hops else F32
    dist = kb.array_param(rng.choice(("hops", "level") if hops else ("dist", "distance", "d")), t).name
    weights = kb.array_param(rng.choice(("weights", "edge_weight", "w")), F32).name if not hops else ""
    changed = kb.array_param(rng.choice(("changed", "updated", "flag")), I32).name if chance(kb, 0.5) else ""
    pred = kb.array_param(rng.choice(("pred", "parent")), I32).name if chance(kb, 0.25) else ""
    undirected = chance(kb, 0.3)
    e = tid1(kb, "tid", "e", "edge_id")
    u, v = _edge_ends(kb, e)
    inf = knobs.get("inf_dist", 1.0e30, 1.0e30) if not hops else knobs.get("unreached", 1000000, 1000000, I32)
    directions = [(u, v), (v, u)] if undirected else [(u, v)]
    w = ""
    if weights:
        w = let_local(kb, ("w", "cost", "len_e"), f"{weights}[{e}]", F32)
    for a, b in directions:
        da = kb.let(f"d_{a}", f"{dist}[{a}]", t).name
        with kb.block(f"if {da} < {inf}:"):
            cand = let_local(kb, ("cand", "nd", "new_dist"), f"{da} + {w}" if w else f"{da} + 1", t)
            if changed or pred:
                old = let_local(kb, ("old", "prev"), f"wp.atomic_min({dist}, {b}, {cand})", t)
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


def _graph_bfs(kb: KernelBuilder, knobs: Knobs, variant: str) -> None:
    """Level-synchronous BFS: nodes on the current level claim their unvisited neighbours."""
    rng = kb.rng
    offsets, adj = _graph_csr(kb)
    levels = kb.array_param(rng.choice(("levels", "depth", "bfs_level")), I32).name
    current = kb.scalar_param(rng.choice(("current_level", "level", "iteration")), I32).name
    changed = kb.array_param(rng.choice(("changed", "frontier_size", "num_added")), I32).name
    parents = kb.array_param(rng.choice(("parents", "pred")), I32).name if chance(kb, 0.3) else ""
    v = tid1(kb, "tid", "v", "node")
    with kb.block(f"if {levels}[{v}] != {current}:"):
        kb.emit("return")
    with kb.for_range("k", f"{offsets}[{v}]", f"{offsets}[{v} + 1]") as k:
        nbr = let_local(kb, ("u", "nbr", "w"), f"{adj}[{k.name}]", I32)
        cas = rng.random() < 0.5
        if cas:  # compare-and-swap claims each node exactly once
            prev = let_local(kb, ("prev", "old"), f"wp.atomic_cas({levels}, {nbr}, -1, {current} + 1)", I32)
            cond = f"{prev} == -1"
        else:  # benign race: several parents may write the same level
            cond = f"{levels}[{nbr}] == -1"
        with kb.block(f"if {cond}:"):
            if not cas:
                kb.emit(f"{levels}[{nbr}] = {current} + 1")
            if parents:
                kb.emit(f"{parents}[{nbr}] = {v}")
            kb.emit(f"wp.atomic_add({changed}, 0, 1)" if rng.random() < 0.6 else f"{changed}[0] = 1")


def _graph_labels(kb: KernelBuilder, knobs: Knobs, variant: str) -> None:
    """Connected components by min-label propagation (edge hooking or CSR gather), or pointer jumping."""
    rng = kb.rng
    style = rng.choice(("edges", "edges", "gather", "jump"))
    labels = kb.array_param(rng.choice(("labels", "component", "comp_id")), I32).name
    if style == "jump":
        tid = tid1(kb, "tid", "v")
        parent = let_local(kb, ("p", "parent"), f"{labels}[{tid}]", I32)
        grand = let_local(kb, ("gp", "grandparent"), f"{labels}[{parent}]", I32)
        with kb.block(f"if {grand} != {parent}:"):
            kb.emit(f"{labels}[{tid}] = {grand}")
            if chance(kb, 0.5):
                changed = kb.array_param(rng.choice(("changed", "flag")), I32).name
                kb.emit(f"{changed}[0] = 1")
        return
    changed = kb.array_param(rng.choice(("changed", "flag", "num_changes")), I32).name if chance(kb, 0.6) else ""
    if style == "edges":
        e = tid1(kb, "tid", "e")
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
    v = tid1(kb, "tid", "v", "node")
    m = let_local(kb, ("m", "best", "min_label"), f"{labels}[{v}]", I32)
    with kb.for_range("k", f"{offsets}[{v}]", f"{offsets}[{v} + 1]") as k:
        kb.emit(f"{m} = wp.min({m}, {labels}[{adj}[{k.name}]])")
    kb.emit(f"{out}[{v}] = {m}")
    if changed:
        with kb.block(f"if {m} != {labels}[{v}]:"):
            kb.emit(f"{changed}[0] = 1")


def _graph_pagerank(kb: KernelBuilder, knobs: Knobs, variant: str) -> None:
    rng = kb.rng
    offsets, adj = _graph_csr(kb)
    rank = kb.array_param(rng.choice(("rank", "pr", "rank_old")), F32).name
    new_rank = kb.array_param(rng.choice(("new_rank", "rank_next", "pr_out")), F32).name
    damping = knobs.get("damping", 0.8, 0.9)
    v = tid1(kb, "tid", "v", "node")

    def teleport() -> str:
        n = kb.scalar_param(rng.choice(("num_nodes", "n")), I32).name
        return f"(1.0 - {damping}) / float({n})"

    if variant == "pagerank_push":
        deg = let_local(kb, ("deg", "out_degree"), f"{offsets}[{v} + 1] - {offsets}[{v}]", I32)
        if rng.random() < 0.5:  # otherwise the host initializes new_rank with the teleport term
            kb.emit(f"wp.atomic_add({new_rank}, {v}, {teleport()})")
        dangling = kb.array_param(rng.choice(("dangling", "dangling_mass")), F32).name if chance(kb, 0.4) else ""
        with kb.block(f"if {deg} == 0:"):
            if dangling:  # rank of sinks is redistributed uniformly by the host
                kb.emit(f"wp.atomic_add({dangling}, 0, {damping} * {rank}[{v}])")
            kb.emit("return")
        share = let_local(kb, ("share", "contrib"), f"{damping} * {rank}[{v}] / float({deg})", F32)
        with kb.for_range("k", f"{offsets}[{v}]", f"{offsets}[{v} + 1]") as k:
            kb.emit(f"wp.atomic_add({new_rank}, {adj}[{k.name}], {share})")
        return
    out_deg = kb.array_param(rng.choice(("out_degree", "degree")), I32).name
    acc = accumulator(kb, ("acc", "incoming", "s"), F32)
    with kb.for_range("k", f"{offsets}[{v}]", f"{offsets}[{v} + 1]") as k:
        u = let_local(kb, ("u", "src"), f"{adj}[{k.name}]", I32)
        kb.emit(f"{acc} += {rank}[{u}] / float(wp.max({out_deg}[{u}], 1))")
    value = let_local(kb, ("r", "new_r"), f"{teleport()} + {damping} * {acc}", F32)
    kb.emit(f"{new_rank}[{v}] = {value}")
    if chance(kb, 0.4):  # L1 change for the convergence test
        delta = kb.array_param(rng.choice(("delta", "diff")), F32).name
        kb.emit(f"wp.atomic_add({delta}, 0, wp.abs({value} - {rank}[{v}]))")


def _graph_jacobi(kb: KernelBuilder, knobs: Knobs, variant: str) -> None:
    """Weighted graph Laplacian: a Jacobi step for (D + reg I - W) x = b, or vertex smoothing."""
    rng = kb.rng
    smooth = variant == "smooth"
    t = V3 if smooth else F32
    offsets, adj = _graph_csr(kb)
    weights = kb.array_param(rng.choice(("weights", "edge_w", "cot_weights")), F32).name if rng.random() < 0.6 else ""
    x = kb.array_param(rng.choice(("x", "positions", "verts") if smooth else ("x", "u", "phi")), t).name
    b = kb.array_param(rng.choice(("b", "rhs")), F32).name if not smooth else ""
    out = kb.array_param(rng.choice(("x_out", "x_new", "out")), t).name
    pinned = kb.array_param(rng.choice(("pinned", "fixed", "boundary")), I32).name if chance(kb, 0.3) else ""
    v = tid1(kb, "tid", "v", "i")
    if pinned:
        with kb.block(f"if {pinned}[{v}] != 0:"):
            kb.emit(f"{out}[{v}] = {x}[{v}]")
            kb.emit("return")
    acc = accumulator(kb, ("acc", "sum_nb", "s"), t)
    wsum = accumulator(kb, ("wsum", "degree", "w_total"), F32)
    with kb.for_range("k", f"{offsets}[{v}]", f"{offsets}[{v} + 1]") as k:
        j = let_local(kb, ("j", "nbr", "u"), f"{adj}[{k.name}]", I32)
        if weights:
            w = let_local(kb, ("w", "wij"), f"{weights}[{k.name}]", F32)
            kb.emit(f"{acc} += {w} * {x}[{j}]" if smooth or rng.random() < 0.5 else f"{acc} += {x}[{j}] * {w}")
            kb.emit(f"{wsum} += {w}")
        else:
            kb.emit(f"{acc} += {x}[{j}]")
            kb.emit(f"{wsum} += 1.0")
    if smooth:
        lam = knobs.get(rng.choice(("lam", "strength", "alpha")), 0.1, 0.9)
        with kb.block(f"if {wsum} > 0.0:"):
            centroid = let_local(kb, ("centroid", "avg"), f"{acc} / {wsum}", V3)
            kb.emit(f"{out}[{v}] = {x}[{v}] + ({centroid} - {x}[{v}]) * {lam}")
        with kb.block("else:"):
            kb.emit(f"{out}[{v}] = {x}[{v}]")
        return
    reg = knobs.get(rng.choice(("reg", "eps", "mass")), 1.0e-4, 1.0)
    kb.emit(f"{out}[{v}] = ({b}[{v}] + {acc}) / ({wsum} + {reg})")
