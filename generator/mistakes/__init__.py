"""Broken kernels for diagnose-and-repair data: one realistic mistake in a valid kernel.

Each mistake is a small, local edit of a kernel that Warp accepts (a synthesized one), chosen
to look like what a person or a model actually gets wrong, and each kind below is one that
Warp 1.19 (or Python) really rejects. ``inject`` picks a kind that applies to the kernel;
``diagnose`` runs Warp on the broken source and returns its message, normalized so it does
not depend on where the source was loaded from.

Kinds (the keys of ``MISTAKES``) and how each is made; all edits are inside the kernel body
or its signature (never in ``@wp.func`` helpers, so the kernel keeps its name):

``type_mismatch``
    Warp has no implicit int/float conversion. Either a float literal with an integral value
    loses its ``.0`` next to a float operand (``wp.abs(x) + 1.0`` -> ``wp.abs(x) + 1``), an
    int is used without its ``float(...)`` cast (``0.5 * float(j)`` -> ``0.5 * j``), or a
    vector is stored where its length belongs (``out[i] = wp.length(v)`` -> ``out[i] = v``).
    Warp: "Input types must be the same, got ['float32', 'int32']" / "array_store() value
    argument type (vec3f) must be of the same type as the array (float32)".
``undefined_name``
    A typo in a variable or parameter name where it is read (``dist`` -> ``dsit``), or two
    adjacent statements swapped so a name is read before its first assignment.
    Warp: "Referencing undefined symbol: dsit".
``unknown_builtin``
    A ``wp.`` function misspelled or borrowed from NumPy/CUDA/C (``wp.lenght``, ``wp.sqr``,
    ``wp.clip``, ``wp.atomicAdd``). Warp: "Could not find function wp.lenght as a built-in or
    user-defined function".
``wrong_arg_count``
    A builtin called with one argument too few (``wp.clamp(x, lo)``, ``wp.pow(x)``) or too many
    (``wp.max(a, b, 0.0)``, ``wp.length(a, b)`` for ``wp.length(a - b)``). Warp: "Couldn't find
    function overload for 'clamp' that matched inputs with types: [...]".
``unsupported_construct``
    Python that kernels do not support: a debug ``print(f"...")``, a statement wrapped in
    ``try``/``except``, a ``lambda`` helper, a ``dict`` of coefficients, a Python list where a
    ``wp.vec3`` belongs, a loop over a list comprehension, a ``with wp.ScopedTimer(...)`` block.
    Warp: "Construct `ast.JoinedStr` not supported in kernels." / "List constructs are not
    supported in kernels. ...".
``kernel_returns_value``
    The final output store written as a return (``out[i] = v`` -> ``return v``), or an early
    ``return`` given a value. Warp: "Warp kernels cannot return values. ...".
``missing_annotation``
    One kernel parameter without its type annotation. Warp (at definition time):
    "Incomplete argument annotations on function k".
``constant_mutation``
    A variable that a dynamic loop updates initialised from a bare literal (``acc = 0.0``
    instead of ``acc = float(0.0)``): Warp folds it into a constant. Warp: "Error mutating a
    constant acc inside a dynamic loop, use the following syntax: pi = float(3.141) to declare
    a dynamic variable".
``syntax_error``
    A missing ``:`` after a block header or a missing ``)`` at the end of a line. Python:
    "SyntaxError: expected ':'" / "'(' was never closed" / "invalid syntax".

Checked and dropped: reassigning a kernel parameter (``s = s + 1.0``, also inside dynamic
loops and with ``+=``) is accepted by Warp 1.19, so there is no ``assign_to_param`` kind.

The mutation code is pure Python (``ast`` for finding sites, text edits of single lines for
changing them, so the rest of the source keeps its exact formatting); only ``diagnose`` runs
Warp.
"""

from __future__ import annotations

import ast
import builtins
import itertools
import keyword
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

from ..synth.builder import INDENT, KernelSource

Mistake = Callable[[random.Random, KernelSource], "KernelSource | None"]

# Longest normalized diagnostic; the final reason (Warp's own words) is always kept whole.
MAX_DIAGNOSTIC = 500
MAX_REASON = 300
FILE_TOKEN = "<kernel>"


# ----- parsing and small type inference ---------------------------------------------------

_SCALARS = {"float": "float32", "int": "int32", "bool": "bool"}
_ARRAY = re.compile(r"wp\.(?:array|indexedarray)(\d?)d?\(\s*dtype\s*=\s*([\w.]+)\s*(?:,\s*ndim\s*=\s*(\d))?\s*\)")
# Builtins returning their (float) argument's type.
_FLOAT_UNARY = frozenset("sin cos tan asin acos atan sinh cosh tanh sqrt cbrt exp log log2 log10 abs floor ceil "
                         "round trunc erf erfc erfinv sign frac degrees radians".split())
_FLOAT_OF_VEC = frozenset({"length", "length_sq", "dot", "norm_l1", "norm_l2"})
_VEC_COMPONENT = {"wp.vec2": "float32", "wp.vec3": "float32", "wp.vec4": "float32"}


def _type_name(annotation: str) -> str:
    """Canonical name of a scalar/vector annotation: float -> float32, wp.float32 -> float32."""
    annotation = annotation.strip()
    if annotation in _SCALARS:
        return _SCALARS[annotation]
    if annotation.startswith("wp.") and re.fullmatch(r"wp\.u?int\d+|wp\.float\d+", annotation):
        return annotation[3:]
    return annotation


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


# ----- editing ----------------------------------------------------------------------------


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


# ----- the mistakes -------------------------------------------------------------------------


def type_mismatch(rng: random.Random, ks: KernelSource) -> KernelSource | None:
    p = _parse(ks)
    if p is None:
        return None
    edits: list[tuple[ast.AST, str]] = []
    for node in p.live_nodes():
        # "x + 1" for "x + 1.0", "out[i] = 0" for "out[i] = 0.0": an integral float literal loses its ".0".
        if isinstance(node, ast.Constant) and isinstance(node.value, float) and node.value.is_integer() \
                and abs(node.value) < 1e6 and _needs_float(p, node):
            edits.append((node, str(int(node.value))))
        # "0.5 * j" for "0.5 * float(j)": an int used without its cast.
        if isinstance(node, ast.Call) and _callee(node) == "float" and len(node.args) == 1 \
                and _expr_type(p, node.args[0]) == "int32" and _needs_float(p, node):
            arg = node.args[0]
            text = p.text(arg)
            if not isinstance(arg, (ast.Name, ast.Subscript, ast.Call, ast.Attribute, ast.Constant)):
                text = f"({text})"
            edits.append((node, text))
        # "out[i] = v" for "out[i] = wp.length(v)": a vector stored into a float array.
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Subscript) \
                and isinstance(node.value, ast.Call) and _callee(node.value) in ("wp.length", "wp.norm_l2") \
                and len(node.value.args) == 1 and _expr_type(p, node.targets[0]) == "float32":
            edits.append((node.value, p.text(node.value.args[0])))
        # "acc = 0" for "acc = float(0.0)" where acc is next used as a float (outside dynamic
        # loops, where Warp would report the constant's mutation instead).
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
                and isinstance(node.value, ast.Call) and _callee(node.value) == "float" and len(node.value.args) == 1:
            name, literal = node.targets[0].id, _number(node.value.args[0])
            if isinstance(literal, float) and literal.is_integer() and _first_assignment(p, name) is node \
                    and not _mutated_in_dynamic_loop(p, name, after=node):
                later = [n for n in p.live_nodes() if isinstance(n, ast.Name) and n.id == name
                         and isinstance(n.ctx, ast.Load) and _position(n) > _position(node)]
                if later and _needs_float(p, later[0]):
                    edits.append((node.value, str(int(literal))))
    # A parameter declared int (or an int array) where the kernel uses it as float.
    uses: dict[str, list[ast.Name]] = {}
    for node in ast.walk(p.kernel):
        if isinstance(node, ast.Name) and node.id in p.params:
            uses.setdefault(node.id, []).append(node)
    for arg in p.kernel.args.args:
        ann, used = arg.annotation, uses.get(arg.arg, [])
        if ann is None or not used:
            continue
        text = p.text(ann)
        if text in ("float", "wp.float32") and all(isinstance(n.ctx, ast.Load) and _needs_float(p, n) for n in used):
            edits.append((ann, "int" if text == "float" else "wp.int32"))
        if isinstance(p.types.get(arg.arg), _Array) and p.types[arg.arg].dtype == "float32" \
                and all(_stored_float(p, n) for n in used):                   # type: ignore[union-attr]
            edits.append((ann, re.sub(r"dtype=(?:wp\.float32|float)", lambda m: "dtype=wp.int32"
                                      if "wp." in m.group() else "dtype=int", text)))
    return _apply_one(p, rng, edits, "type_mismatch")


def _needs_float(p: _Parsed, node: ast.AST) -> bool:
    """``node`` is an operand next to a float32 (that it does not feed) or a value stored into a float32 array."""
    parent = p.parents.get(node)
    if isinstance(parent, ast.BinOp) and isinstance(parent.op, (ast.Add, ast.Sub, ast.Mult, ast.Div)):
        other = parent.right if parent.left is node else parent.left
        return _expr_type(p, other) == "float32" and not (_read_names(node) & _read_names(other))
    if isinstance(parent, ast.Assign) and parent.value is node and len(parent.targets) == 1 \
            and isinstance(parent.targets[0], ast.Subscript):
        return _expr_type(p, parent.targets[0]) == "float32"
    return False


def _stored_float(p: _Parsed, name: ast.Name) -> bool:
    """``name`` is the array of ``name[...] = <float32>`` (an output that is only written)."""
    sub = p.parents.get(name)
    stmt = p.parents.get(sub) if sub is not None else None
    return isinstance(sub, ast.Subscript) and sub.value is name and isinstance(sub.ctx, ast.Store) \
        and isinstance(stmt, ast.Assign) and _expr_type(p, stmt.value) == "float32"


def _apply_one(p: _Parsed, rng: random.Random, edits: list[tuple[ast.AST, str]], kind: str) -> KernelSource | None:
    edits = [(n, t) for n, t in edits if n.lineno == n.end_lineno]  # type: ignore[attr-defined]
    if not edits:
        return None
    node, text = rng.choice(edits)
    lines = _replace(p, node, text)
    return None if lines is None else p.render(lines, kind)


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


def unsupported_construct(rng: random.Random, ks: KernelSource) -> KernelSource | None:
    p = _parse(ks)
    if p is None:
        return None
    variants = [_print_fstring, _try_except, _lambda_helper, _dict_literal, _list_literal, _list_comprehension,
                _with_block]
    rng.shuffle(variants)
    for variant in variants:
        lines = variant(p, rng)
        if lines is not None:
            return p.render(lines, "unsupported_construct")
    return None


def _print_fstring(p: _Parsed, rng: random.Random) -> list[str] | None:
    """A debug print with an f-string after an assignment."""
    sites = [s for s in _simple_statements(p) if isinstance(s, ast.Assign) and len(s.targets) == 1
             and isinstance(s.targets[0], ast.Name)]
    if not sites:
        return None
    stmt = rng.choice(sites)
    name = stmt.targets[0].id  # type: ignore[attr-defined]
    lines = list(p.lines)
    lines.insert(stmt.lineno, f'{_indent_of(lines[stmt.lineno - 1])}print(f"{name} = {{{name}}}")')
    return lines


def _try_except(p: _Parsed, rng: random.Random) -> list[str] | None:
    """An array access guarded the Python way."""
    sites = [s for s in _simple_statements(p) if any(isinstance(n, ast.Subscript) for n in ast.walk(s))]
    if not sites:
        return None
    stmt = rng.choice(sites)
    row = stmt.lineno - 1
    indent = _indent_of(p.lines[row])
    lines = list(p.lines)
    lines[row:row + 1] = [f"{indent}try:", INDENT + p.lines[row], f"{indent}except IndexError: pass"]
    return lines


def _lambda_helper(p: _Parsed, rng: random.Random) -> list[str] | None:
    """``y = f(x)`` computed through a local lambda instead of a ``@wp.func``."""
    local = _locals(p) - p.globals
    sites = []
    for s in _simple_statements(p):
        if isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name) \
                and isinstance(s.value, (ast.BinOp, ast.Call)):
            reads = sorted(_read_names(s.value) & local)
            if len(reads) == 1:
                sites.append((s, reads[0]))
    if not sites:
        return None
    stmt, var = rng.choice(sites)
    name = stmt.targets[0].id  # type: ignore[attr-defined]
    fn = f"{name}_fn" if f"{name}_fn" not in p.module_names else f"{name}_lambda"
    indent = _indent_of(p.lines[stmt.lineno - 1])
    lines = list(p.lines)
    lines[stmt.lineno - 1:stmt.lineno] = [f"{indent}{fn} = lambda {var}: {p.text(stmt.value)}",
                                          f"{indent}{name} = {fn}({var})"]
    return lines


def _dict_literal(p: _Parsed, rng: random.Random) -> list[str] | None:
    """A float coefficient moved into a local ``dict`` of parameters."""
    sites = [(s, n) for s in _simple_statements(p) for n in ast.walk(s)
             if isinstance(n, ast.Constant) and isinstance(n.value, float)]
    if not sites:
        return None
    stmt, const = rng.choice(sites)
    key = "coeff" if "coeff" not in p.module_names else "c"
    table = "params" if "params" not in p.module_names else "coeffs"
    if table in p.module_names:
        return None
    lines = _replace(p, const, f'{table}["{key}"]')
    if lines is None:
        return None
    lines.insert(stmt.lineno - 1, f'{_indent_of(p.lines[stmt.lineno - 1])}{table} = {{"{key}": {p.text(const)}}}')
    return lines


def _list_literal(p: _Parsed, rng: random.Random) -> list[str] | None:
    """A Python list where a vector belongs: ``[a, b, c]`` for ``wp.vec3(a, b, c)``."""
    # Only a whole assigned value: as a call argument Warp fails on the list's type instead.
    sites = [s.value for s in _simple_statements(p) if isinstance(s, ast.Assign) and isinstance(s.value, ast.Call)
             and _callee(s.value) in ("wp.vec2", "wp.vec3", "wp.vec4")
             and len(s.value.args) == int(_callee(s.value)[-1]) and not s.value.keywords]
    if not sites:
        return None
    node = rng.choice(sites)
    return _replace(p, node, "[" + ", ".join(p.text(a) for a in node.args) + "]")


def _list_comprehension(p: _Parsed, rng: random.Random) -> list[str] | None:
    """An accumulation loop rewritten to iterate over a list comprehension of its terms."""
    sites = []
    for node in p.live_nodes():
        if not (isinstance(node, ast.For) and len(node.body) == 1 and isinstance(node.target, ast.Name)
                and node.lineno + 1 == node.body[0].lineno == node.body[0].end_lineno):
            continue
        stmt = node.body[0]
        if isinstance(stmt, ast.AugAssign) and isinstance(stmt.op, ast.Add) and isinstance(stmt.target, ast.Name):
            acc, term = stmt.target.id, stmt.value
        elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name) \
                and isinstance(stmt.value, ast.BinOp) and isinstance(stmt.value.op, ast.Add) \
                and isinstance(stmt.value.left, ast.Name) and stmt.value.left.id == stmt.targets[0].id:
            acc, term = stmt.targets[0].id, stmt.value.right
        else:
            continue
        if acc not in _read_names(term):
            sites.append((node, acc, term))
    if not sites:
        return None
    loop, acc, term = rng.choice(sites)
    var = "term" if "term" not in p.module_names else "t_term"
    indent = _indent_of(p.lines[loop.lineno - 1])
    lines = list(p.lines)
    lines[loop.lineno - 1:loop.lineno + 1] = [
        f"{indent}for {var} in [{p.text(term)} for {p.text(loop.target)} in {p.text(loop.iter)}]:",
        f"{indent}{INDENT}{acc} += {var}"]
    return lines


def _with_block(p: _Parsed, rng: random.Random) -> list[str] | None:
    """Host-side timing wrapped around a kernel statement."""
    sites = _simple_statements(p)
    if not sites:
        return None
    stmt = rng.choice(sites)
    row = stmt.lineno - 1
    lines = list(p.lines)
    lines[row:row + 1] = [f'{_indent_of(p.lines[row])}with wp.ScopedTimer("{p.ks.kernel_name}"):',
                          INDENT + p.lines[row]]
    return lines


def kernel_returns_value(rng: random.Random, ks: KernelSource) -> KernelSource | None:
    p = _parse(ks)
    if p is None:
        return None
    edits: list[tuple[ast.AST, str]] = []
    last = p.kernel.body[-1]
    # The result returned instead of stored: "out[i] = v" -> "return v".
    if isinstance(last, ast.Assign) and len(last.targets) == 1 and isinstance(last.targets[0], ast.Subscript):
        edits.append((last, f"return {p.text(last.value)}"))
    # An early exit that returns a value.
    for node in p.live_nodes():
        if isinstance(node, ast.Return) and node.value is None:
            edits.append((node, rng.choice(("return 0", "return 0.0", "return False"))))
    if not edits:
        # A function habit: the last computed local returned at the end.
        local = [n for n in _locals(p) - set(p.params) - p.globals if n in p.types]
        if not local:
            return None
        lines = list(p.lines)
        lines.insert(p.kernel.end_lineno, f"{INDENT}return {rng.choice(sorted(local))}")  # type: ignore[arg-type]
        return p.render(lines, "kernel_returns_value")
    return _apply_one(p, rng, edits, "kernel_returns_value")


def missing_annotation(rng: random.Random, ks: KernelSource) -> KernelSource | None:
    p = _parse(ks)
    if p is None:
        return None
    args = [a for a in p.kernel.args.args if a.annotation is not None]
    if not args:
        return None
    # Scalars are the ones people leave bare (``dt`` instead of ``dt: float``).
    scalars = [a for a in args if not isinstance(p.types.get(a.arg), _Array)]
    arg = rng.choice(scalars if scalars and rng.random() < 0.7 else args)
    return _apply_one(p, rng, [(arg, arg.arg)], "missing_annotation")


def constant_mutation(rng: random.Random, ks: KernelSource) -> KernelSource | None:
    p = _parse(ks)
    if p is None:
        return None
    edits: list[tuple[ast.AST, str]] = []
    for node in p.live_nodes():
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and isinstance(node.value, ast.Call) and len(node.value.args) == 1 and not node.value.keywords):
            continue
        cast, name = _callee(node.value), node.targets[0].id
        literal = _number(node.value.args[0])
        if literal is None or _first_assignment(p, name) is not node:
            continue
        if not ((cast in ("float", "wp.float32") and isinstance(literal, float))
                or (cast in ("int", "wp.int32") and isinstance(literal, int))):
            continue
        if _mutated_in_dynamic_loop(p, name, after=node):
            edits.append((node.value, p.text(node.value.args[0])))   # "acc = 0.0" for "acc = float(0.0)"
    return _apply_one(p, rng, edits, "constant_mutation")


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


def syntax_error(rng: random.Random, ks: KernelSource) -> KernelSource | None:
    p = _parse(ks)
    if p is None:
        return None
    first = min((d.lineno for d in p.kernel.decorator_list), default=p.kernel.lineno)
    candidates: list[tuple[int, str]] = []
    for row in range(p.kernel.lineno - 1, p.kernel.end_lineno):  # type: ignore[arg-type]
        line = p.lines[row].rstrip()
        if row < first - 1 or not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.endswith(":"):
            candidates.append((row, line[:-1]))                                       # missing colon
        closing = line[:-1].rfind(")") if line.endswith("):") else (len(line) - 1 if line.endswith(")") else -1)
        if closing >= 0:
            candidates.append((row, line[:closing] + line[closing + 1:]))             # missing parenthesis
    if not candidates:
        return None
    row, text = rng.choice(candidates)
    lines = list(p.lines)
    lines[row] = text
    return p.render(lines, "syntax_error")


MISTAKES: dict[str, Mistake] = {
    "type_mismatch": type_mismatch,
    "undefined_name": undefined_name,
    "unknown_builtin": unknown_builtin,
    "wrong_arg_count": wrong_arg_count,
    "unsupported_construct": unsupported_construct,
    "kernel_returns_value": kernel_returns_value,
    "missing_annotation": missing_annotation,
    "constant_mutation": constant_mutation,
    "syntax_error": syntax_error,
}


def inject(rng: random.Random, ks: KernelSource) -> tuple[str, KernelSource] | None:
    """One mistake applicable to ``ks``: a kind drawn from ``rng``, falling back to the next that applies."""
    kinds = list(MISTAKES)
    rng.shuffle(kinds)
    for kind in kinds:
        broken = MISTAKES[kind](rng, ks)
        if broken is not None and broken.python_source != ks.python_source:
            return kind, broken
    return None


# ----- diagnostics ------------------------------------------------------------------------

_ADDRESS = re.compile(r"\b0x[0-9a-fA-F]{6,}\b")


def normalize_diagnostic(message: str, filename: str) -> str:
    """Warp's (or Python's) message, independent of where the source was loaded from.

    The pseudo-filename (or a user's real path) becomes ``<kernel>``, object addresses are
    masked, whitespace collapses to single spaces, and Warp's chain of "Error while parsing
    function ... at <kernel>:LINE: <code>" segments (separated by ";") is kept before the
    final reason; when the whole exceeds ``MAX_DIAGNOSTIC`` characters the context is cut,
    never the reason.
    """
    text = message.replace(filename, FILE_TOKEN) if filename else message
    text = _ADDRESS.sub("0x…", text)
    segments = [" ".join(s.split()) for s in text.split("\n;")]
    segments = [s for s in segments if s]
    if not segments:
        return ""
    reason = segments[-1][:MAX_REASON]
    head = re.match(r"^\w+: ", segments[0]) if len(segments) > 1 else None
    if head:   # "RuntimeError: Error while ..." -> the class goes with the reason
        segments[0] = segments[0][head.end():]
        reason = head.group() + reason
    context = "; ".join(segments[:-1])
    if not context:
        return reason[:MAX_DIAGNOSTIC]
    room = MAX_DIAGNOSTIC - len(reason) - 3
    if len(context) > room:
        context = context[:max(room - 2, 0)].rstrip() + " …"
    return f"{reason} | {context}" if context else reason


def diagnose(source: str, kernel_name: str, backend: str = "cpu") -> str | None:
    """Warp's normalized diagnostic for ``source``, or None when Warp accepts it."""
    from ..toolchain import codegen

    codegen.warp()

    filename = f"<{kernel_name}>"     # how toolchain.codegen loads kernels (the name of the linecache entry)
    try:
        codegen.emit(source, kernel_name, backend)   # cleans up after itself, also on failure
    except codegen.KernelRejected as e:
        # emit raises "from None": the exception Warp (or compile) raised is still the context.
        error: BaseException = e.__context__ if isinstance(e.__context__, Exception) else e
    else:
        return None
    return normalize_diagnostic(_describe(error), filename)


def _describe(error: BaseException) -> str:
    """``ClassName: message`` as the last line of a traceback shows it."""
    if isinstance(error, KeyError) and error.args:
        text = str(error.args[0])   # KeyError's str() is the repr of its argument
    else:
        text = str(error)
    return f"{type(error).__name__}: {text}"
