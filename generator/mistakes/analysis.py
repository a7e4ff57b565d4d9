"""What the mistakes need to know about a kernel: its parse, the types of its names, its live code.

``_parse`` reads a synthesized module (``ast``), finds the kernel, and infers the Warp type of
parameters and locals where that is easy to tell (Warp forbids a variable changing type, so the
first assignment decides). ``live_nodes`` skips code Warp does not generate (``if False:``, empty
constant loops), where a mistake would go unnoticed. The editing helpers change single lines as
text, so the rest of the source keeps its exact formatting. Pure Python, no Warp.
"""

from __future__ import annotations

import ast
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from ..synth.builder import KernelSource
from ..synth.types import NUMERIC_SCALARS, PYTHON_SCALARS, SCALAR_OF, VEC_F32

_ARRAY = re.compile(r"wp\.(?:array|indexedarray)(\d?)d?\(\s*dtype\s*=\s*([\w.]+)\s*(?:,\s*ndim\s*=\s*(\d))?\s*\)")

# Builtins returning their (float) argument's type.
_FLOAT_UNARY = frozenset("sin cos tan asin acos atan sinh cosh tanh sqrt cbrt exp log log2 log10 abs floor ceil "
                         "round trunc erf erfc erfinv sign frac degrees radians".split())


_FLOAT_OF_VEC = frozenset({"length", "length_sq", "dot", "norm_l1", "norm_l2"})

# Vectors whose components the analysis types (short names, like the rest of it: "float32").
_VEC_COMPONENT = {t: SCALAR_OF[t].removeprefix("wp.") for t in VEC_F32}


def _type_name(annotation: str) -> str:
    """Canonical name of a scalar/vector annotation: float -> float32, wp.float32 -> float32."""
    annotation = PYTHON_SCALARS.get(annotation.strip(), annotation.strip())
    return annotation.removeprefix("wp.") if annotation in NUMERIC_SCALARS else annotation


@dataclass(frozen=True)
class _Array:
    dtype: str
    ndim: int


@dataclass
class _Parsed:
    """A kernel's source with the facts the mutations need."""

    ks: KernelSource
    lines: list[str]                       # source lines, without line ends
    tree: ast.Module
    kernel: ast.FunctionDef
    params: list[str]
    types: dict[str, str | _Array] = field(default_factory=dict)
    module_names: set[str] = field(default_factory=set)   # every identifier anywhere in the module
    globals: set[str] = field(default_factory=set)        # module-level names (constants, helpers, imports)
    parents: dict[ast.AST, ast.AST] = field(default_factory=dict)

    def text(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.ks.python_source, node) or ""

    def live_nodes(self) -> Iterator[ast.AST]:
        """Nodes of the kernel body Warp generates code for, in source order.

        Warp skips ``if False:`` bodies and loops over an empty constant range, so a mistake
        there would go unnoticed.
        """
        nodes = [n for stmt in self.kernel.body for n in ast.walk(stmt) if self._live(n)]
        return iter(sorted(nodes, key=_position))

    def _live(self, node: ast.AST) -> bool:
        child, parent = node, self.parents.get(node)
        while parent is not None and parent is not self.kernel:
            if isinstance(parent, ast.If) and isinstance(parent.test, ast.Constant) and child is not parent.test:
                return False
            if isinstance(parent, ast.For) and child is not parent.iter and _range_bounds(parent.iter) is not None:
                lo, hi, step = _range_bounds(parent.iter)  # type: ignore[misc]
                if not range(lo, hi, step):
                    return False
            child, parent = parent, self.parents.get(parent)
        return True

    def render(self, lines: list[str], kind: str) -> KernelSource:
        """The broken kernel: same name and complexity, category ``error_<kind>``."""
        end = "\n" if self.ks.python_source.endswith("\n") else ""
        return replace(self.ks, python_source="\n".join(lines) + end, category=f"error_{kind}")


def _position(node: ast.AST) -> tuple[int, int]:
    return getattr(node, "lineno", 0), getattr(node, "col_offset", 0)


def _parse(ks: KernelSource) -> _Parsed | None:
    try:
        tree = ast.parse(ks.python_source)
    except SyntaxError:
        return None
    kernel = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == ks.kernel_name), None)
    if kernel is None:
        return None
    p = _Parsed(ks, ks.python_source.split("\n"), tree, kernel, [a.arg for a in kernel.args.args])
    if p.lines and p.lines[-1] == "":
        p.lines.pop()
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            p.parents[child] = node
        if isinstance(node, ast.Name):
            p.module_names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            p.module_names.add(node.name)
        elif isinstance(node, ast.arg):
            p.module_names.add(node.arg)
        elif isinstance(node, ast.alias):
            p.module_names.add((node.asname or node.name).split(".")[0])
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    p.globals.add(target.id)
                    value = _constant_value(stmt.value)
                    if value is not None:   # NAME = wp.constant(2.5)
                        p.types[target.id] = _literal_type(value)
        elif isinstance(stmt, (ast.FunctionDef, ast.ClassDef)):
            p.globals.add(stmt.name)
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            p.globals.update((a.asname or a.name).split(".")[0] for a in stmt.names)
    for arg in kernel.args.args:
        if arg.annotation is not None:
            p.types[arg.arg] = _annotation_type(p.text(arg.annotation))
    _infer_locals(p, kernel.body)
    return p


def _constant_value(node: ast.AST) -> float | int | None:
    """The literal of ``wp.constant(<number>)``."""
    if isinstance(node, ast.Call) and _callee(node) == "wp.constant" and len(node.args) == 1:
        return _number(node.args[0])
    return None


def _number(node: ast.AST) -> float | int | None:
    """A numeric literal, possibly negated (``-1.5``)."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _number(node.operand)
        return None if value is None else (-value if isinstance(node.op, ast.USub) else value)
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    return None


def _literal_type(value: float | int) -> str:
    return "float32" if isinstance(value, float) else "int32"


def _annotation_type(annotation: str) -> str | _Array:
    m = _ARRAY.fullmatch(annotation.replace(" ", ""))
    if m:
        ndim = int(m.group(3) or m.group(1) or 1)
        return _Array(_type_name(m.group(2)), ndim)
    return _type_name(annotation)


def _callee(call: ast.Call) -> str:
    """``wp.sin`` for ``wp.sin(x)``, ``float`` for ``float(x)``, "" otherwise."""
    f = call.func
    if isinstance(f, ast.Name):
        return f.id
    if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):
        return f"{f.value.id}.{f.attr}"
    return ""


def _infer_locals(p: _Parsed, body: list[ast.stmt]) -> None:
    """Types of locals from their first assignment (Warp forbids changing a variable's type)."""
    for stmt in body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target = stmt.targets[0]
            if isinstance(target, ast.Name) and target.id not in p.types:
                t = _expr_type(p, stmt.value)
                if t is not None:
                    p.types[target.id] = t
            elif isinstance(target, ast.Tuple) and isinstance(stmt.value, ast.Call) \
                    and _callee(stmt.value) == "wp.tid":
                for elt in target.elts:
                    if isinstance(elt, ast.Name):
                        p.types.setdefault(elt.id, "int32")
        elif isinstance(stmt, ast.For) and isinstance(stmt.target, ast.Name) \
                and isinstance(stmt.iter, ast.Call) and _callee(stmt.iter) == "range":
            p.types.setdefault(stmt.target.id, "int32")
        for child_body in ("body", "orelse"):
            if isinstance(getattr(stmt, child_body, None), list):
                _infer_locals(p, getattr(stmt, child_body))


def _expr_type(p: _Parsed, node: ast.AST) -> str | _Array | None:
    """The Warp type of a scalar/vector expression where it is easy to tell, else None."""
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool):
            return "bool"
        return _literal_type(node.value) if type(node.value) in (int, float) else None
    if isinstance(node, ast.Name):
        return p.types.get(node.id)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return _expr_type(p, node.operand)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div)):
        left, right = _expr_type(p, node.left), _expr_type(p, node.right)
        return left if isinstance(left, str) and left == right and left in ("float32", "int32") else None
    if isinstance(node, ast.IfExp):
        body, orelse = _expr_type(p, node.body), _expr_type(p, node.orelse)
        return body if body == orelse else None
    if isinstance(node, ast.Subscript):
        value = node.value
        if isinstance(value, ast.Attribute) and value.attr == "shape":
            return "int32"
        base = _expr_type(p, value)
        indices = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if isinstance(base, _Array) and len(indices) == base.ndim:
            return base.dtype
        if isinstance(base, str) and base in _VEC_COMPONENT and len(indices) == 1:
            return _VEC_COMPONENT[base]
        return None
    if isinstance(node, ast.Call):
        name = _callee(node)
        if name in ("float", "wp.float32"):
            return "float32"
        if name in ("int", "wp.int32"):
            return "int32"
        if name.startswith("wp.vec") and name in _VEC_COMPONENT:
            return name
        args = [_expr_type(p, a) for a in node.args]
        short = name[3:] if name.startswith("wp.") else ""
        if short in _FLOAT_UNARY and args == ["float32"]:
            return "float32"
        if short in _FLOAT_OF_VEC and args and all(a in _VEC_COMPONENT for a in args):
            return "float32"
        if short in ("min", "max", "clamp") and len(args) >= 2 and len(set(args)) == 1 \
                and args[0] in ("float32", "int32"):
            return args[0]
    return None


def _range_bounds(node: ast.AST) -> tuple[int, int, int] | None:
    """(start, stop, step) of ``range(...)`` with literal int arguments, else None."""
    if not (isinstance(node, ast.Call) and _callee(node) == "range" and 1 <= len(node.args) <= 3):
        return None
    values = [_number(a) for a in node.args]
    if any(not isinstance(v, int) for v in values):
        return None
    ints = [int(v) for v in values]  # type: ignore[arg-type]
    if len(ints) == 1:
        return 0, ints[0], 1
    return ints[0], ints[1], ints[2] if len(ints) == 3 and ints[2] != 0 else 1


def _replace(p: _Parsed, node: ast.AST, new: str) -> list[str] | None:
    """The source lines with ``node`` (on one line) replaced by ``new``."""
    if node.lineno != node.end_lineno:  # type: ignore[attr-defined]
        return None
    lines = list(p.lines)
    row = node.lineno - 1  # type: ignore[attr-defined]
    raw = lines[row].encode()
    start, end = node.col_offset, node.end_col_offset  # type: ignore[attr-defined]
    lines[row] = (raw[:start] + new.encode() + raw[end:]).decode()
    return lines


def _indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _simple_statements(p: _Parsed) -> list[ast.stmt]:
    """Live one-line statements of the kernel body (assignments, stores, calls)."""
    return [n for n in p.live_nodes()
            if isinstance(n, (ast.Assign, ast.AugAssign, ast.Expr)) and n.lineno == n.end_lineno]


def _assigned_names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _read_names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _locals(p: _Parsed) -> set[str]:
    """Names the kernel itself binds: parameters, assignment and loop targets."""
    return set(p.params) | {n for stmt in p.kernel.body for n in _assigned_names(stmt)}


def _apply_one(p: _Parsed, rng: random.Random, edits: list[tuple[ast.AST, str]], kind: str) -> KernelSource | None:
    edits = [(n, t) for n, t in edits if n.lineno == n.end_lineno]  # type: ignore[attr-defined]
    if not edits:
        return None
    node, text = rng.choice(edits)
    lines = _replace(p, node, text)
    return None if lines is None else p.render(lines, kind)


def _bodies(node: ast.AST) -> Iterator[list[ast.stmt]]:
    for n in ast.walk(node):
        for attr in ("body", "orelse"):
            body = getattr(n, attr, None)
            if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
                yield body


def _first_assignment(p: _Parsed, name: str) -> ast.stmt | None:
    stmts = [n for stmt in p.kernel.body for n in ast.walk(stmt)
             if isinstance(n, (ast.Assign, ast.AugAssign, ast.For)) and name in _assigned_names(
                 n.target if isinstance(n, (ast.For, ast.AugAssign)) else ast.Tuple(elts=n.targets, ctx=ast.Store()))]
    return min(stmts, key=_position) if stmts else None


def _mutated_in_dynamic_loop(p: _Parsed, name: str, after: ast.stmt) -> bool:
    for loop in p.live_nodes():
        if _position(loop) <= _position(after) or not _dynamic_loop(p, loop):
            continue
        for n in ast.walk(loop):
            if isinstance(n, (ast.Assign, ast.AugAssign)) and name in _assigned_names(
                    n.target if isinstance(n, ast.AugAssign) else ast.Tuple(elts=n.targets, ctx=ast.Store())):
                return True
    return False


def _dynamic_loop(p: _Parsed, node: ast.AST) -> bool:
    """A loop Warp does not unroll: a ``while``, or a ``for`` over a bound known only at run time."""
    if isinstance(node, ast.While):
        return not isinstance(node.test, ast.Constant)
    if not isinstance(node, ast.For):
        return False
    return not _static_range(p, node)


def _static_range(p: _Parsed, loop: ast.For) -> bool:
    """A ``for`` over ``range`` with bounds known at compile time, which Warp may unroll."""
    it = loop.iter
    if not (isinstance(it, ast.Call) and _callee(it) == "range"):
        return False    # hash-grid / BVH / mesh queries
    # Module constants (wp.constant) and the counters of enclosing unrolled loops are
    # compile-time values; anything else read makes the bound dynamic.
    constant = set(p.globals)
    parent = p.parents.get(loop)
    while parent is not None and parent is not p.kernel:
        if isinstance(parent, ast.For) and isinstance(parent.target, ast.Name) and _static_range(p, parent):
            constant.add(parent.target.id)
        parent = p.parents.get(parent)
    return all(_number(a) is not None or _read_names(a) <= constant for a in it.args)
