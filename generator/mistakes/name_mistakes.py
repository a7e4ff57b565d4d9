"""Mistakes about names and calls: ``undefined_name``, ``unknown_builtin``, ``wrong_arg_count``."""

from __future__ import annotations

import ast
import builtins
import itertools
import keyword
import random

from ..synth.builder import KernelSource
from .analysis import (
    _apply_one,
    _assigned_names,
    _bodies,
    _callee,
    _first_assignment,
    _locals,
    _parse,
    _Parsed,
    _read_names,
    _replace,
)


def _typos(rng: random.Random, name: str) -> list[str]:
    """Plausible misspellings of ``name``: swapped neighbours, a dropped or doubled letter."""
    out = []
    for k in range(len(name) - 1):
        if name[k] != name[k + 1]:
            out.append(name[:k] + name[k + 1] + name[k] + name[k + 2:])
    if len(name) > 2:
        out += [name[:k] + name[k + 1:] for k in range(1, len(name))]
    out += [name[:k + 1] + name[k] + name[k + 1:] for k in range(len(name)) if name[k].isalpha()]
    if name.endswith("s") and len(name) > 2:
        out.append(name[:-1])           # pos -> po, normals -> normal: plural confusion
    rng.shuffle(out)
    return out


_RESERVED = set(dir(builtins)) | set(keyword.kwlist) | {"wp", "warp", "np", "math"}


def _fresh_typo(p: _Parsed, rng: random.Random, name: str) -> str | None:
    for typo in _typos(rng, name):
        if typo.isidentifier() and typo not in p.module_names and typo not in _RESERVED and not typo[0].isdigit():
            return typo
    return None


def undefined_name(rng: random.Random, ks: KernelSource) -> KernelSource | None:
    p = _parse(ks)
    if p is None:
        return None
    local = _locals(p) - p.globals
    reads = [n for n in p.live_nodes() if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in local]
    swaps = _use_before_assignment_sites(p)
    # Typos are the common case; the swap is offered where it exists.
    if swaps and (not reads or rng.random() < 0.25):
        first, second = rng.choice(swaps)
        lines = list(p.lines)
        a, b = first.lineno - 1, second.lineno - 1
        lines[a], lines[b] = lines[b], lines[a]
        return p.render(lines, "undefined_name")
    if not reads:
        return None
    node = rng.choice(reads)
    typo = _fresh_typo(p, rng, node.id)
    if typo is None:
        return None
    lines = _replace(p, node, typo)
    return None if lines is None else p.render(lines, "undefined_name")


def _use_before_assignment_sites(p: _Parsed) -> list[tuple[ast.stmt, ast.stmt]]:
    """Adjacent one-line statements (first, second) where ``second`` reads a local ``first`` introduces."""
    sites = []
    live = set(p.live_nodes())
    for body in _bodies(p.kernel):
        for first, second in itertools.pairwise(body):
            if first not in live or not isinstance(first, ast.Assign) \
                    or not isinstance(second, (ast.Assign, ast.AugAssign, ast.Expr)):
                continue
            if first.lineno != first.end_lineno or second.lineno != second.end_lineno \
                    or second.lineno != first.lineno + 1:
                continue
            new = {n for n in _assigned_names(first) if n not in p.params and n not in p.globals
                   and _first_assignment(p, n) is first}
            if new & _read_names(second) and not (_assigned_names(second) & _read_names(first)):
                sites.append((first, second))
    return sites


# Misspellings people (and models) actually write: NumPy/C/CUDA names, British spelling, typos.
_MISSPELLED: dict[str, tuple[str, ...]] = {
    "sqrt": ("sqr", "sqroot"), "length": ("lenght", "len_"), "length_sq": ("length_squared", "lenght_sq"),
    "normalize": ("normalise", "normalized"), "clamp": ("clip", "clamp_"), "abs": ("fabs", "absolute"),
    "pow": ("power", "powf"), "atan2": ("arctan2", "atan_2"), "min": ("minimum", "fmin"),
    "max": ("maximum", "fmax"), "exp": ("expf",), "sin": ("sinf",), "cos": ("cosf",), "floor": ("floorf",),
    "log": ("logf", "ln"), "cross": ("cross_product", "crossprod"), "dot": ("dot_product", "inner"),
    "atomic_add": ("atomicAdd", "atomic_inc_add"), "atomic_min": ("atomicMin",), "atomic_max": ("atomicMax",),
    "atomic_sub": ("atomicSub",), "determinant": ("det",), "inverse": ("inv",), "transpose": ("transposed",),
    "tid": ("thread_id", "tidx"), "lerp": ("mix",), "sign": ("signum",), "tanh": ("tan_h",),
    "quat_rotate": ("quat_rotate_vec", "rotate"), "mesh_query_point": ("mesh_query_pt",),
    "transform_point": ("transform_pt",), "hash_grid_query": ("hashgrid_query",),
}


def unknown_builtin(rng: random.Random, ks: KernelSource) -> KernelSource | None:
    p = _parse(ks)
    if p is None:
        return None
    calls = [n.func for n in p.live_nodes() if isinstance(n, ast.Call) and _callee(n).startswith("wp.")
             and _callee(n) not in ("wp.constant",)]
    if not calls:
        return None
    func = rng.choice(calls)
    attr = func.attr  # type: ignore[attr-defined]
    options = list(_MISSPELLED.get(attr, ()))
    if not options or rng.random() < 0.3:
        # A plain typo: two neighbouring letters swapped inside the name (wp.sni, wp.lerp -> wp.lepr).
        options += [t for t in _typos(rng, attr) if t.isidentifier() and not keyword.iskeyword(t) and len(t) > 2
                    and t not in _KNOWN_WP and t != attr][:1]
    if not options:
        return None
    return _apply_one(p, rng, [(func, f"wp.{rng.choice(options)}")], "unknown_builtin")


# wp.* names a transposition must not hit (other builtins spelled alike).
_KNOWN_WP = frozenset("sin cos tan min max abs sqrt exp log pow dot cross mul add sub div mod neg pos len "
                      "lerp step sign tid vec2 vec3 vec4 mat22 mat33 mat44 quat int8 uint8 where clamp floor "
                      "ceil round trunc frac log2 log10 cbrt erf erfc erfinv atan atan2 asin acos sinh cosh tanh "
                      "outer inverse transpose noise pnoise curlnoise rand_init randf randi randn trace skew "
                      "bit_and bit_or bit_xor invert".split())


# Fixed arities of common builtins: dropping the last argument leaves no valid overload.
_DROP_LAST = frozenset({"clamp", "lerp", "smoothstep", "atan2", "pow", "dot", "cross", "outer", "cw_mul", "cw_div",
                        "quat_rotate", "quat_rotate_inv", "quat_from_axis_angle", "transform_point",
                        "transform_vector", "mod", "step", "ddot", "sub", "add", "mul", "div",
                        "bit_and", "bit_or", "bit_xor", "div_approx"})


# Unary builtins: a second argument has no overload (wp.length(a - b) -> wp.length(a, b)).
_UNARY = frozenset({"length", "length_sq", "normalize", "sqrt", "abs", "sin", "cos", "exp", "log", "floor",
                    "ceil", "tanh", "sinh", "cosh", "cbrt", "transpose", "determinant", "inverse", "trace"})


def wrong_arg_count(rng: random.Random, ks: KernelSource) -> KernelSource | None:
    p = _parse(ks)
    if p is None:
        return None
    edits: list[tuple[ast.AST, str]] = []
    for node in p.live_nodes():
        if not (isinstance(node, ast.Call) and _callee(node).startswith("wp.") and not node.keywords):
            continue
        name, args = _callee(node), [p.text(a) for a in node.args]
        short = name[3:]
        if short in _DROP_LAST and len(args) >= 2:
            edits.append((node, f"{name}({', '.join(args[:-1])})"))    # forgot the last argument
        elif short in ("min", "max") and len(args) == 2:
            edits.append((node, f"{name}({args[0]}, {args[1]}, 0.0)"))  # Python's max takes many
        elif short in _UNARY and len(args) == 1:
            arg = node.args[0]
            if isinstance(arg, ast.BinOp) and isinstance(arg.op, ast.Sub):
                # distance of two points written as length(a, b)
                edits.append((node, f"{name}({p.text(arg.left)}, {p.text(arg.right)})"))
            elif short in ("normalize", "length"):
                edits.append((node, f"{name}({args[0]}, 1.0e-6)"))     # an epsilon Warp's version lacks
    return _apply_one(p, rng, edits, "wrong_arg_count")
