"""Mistakes about Python that kernels do not take: ``unsupported_construct``, ``kernel_returns_value``,
``syntax_error``."""

from __future__ import annotations

import ast
import random

from ..synth.builder import INDENT, KernelSource
from .analysis import (
    _apply_one,
    _callee,
    _indent_of,
    _locals,
    _parse,
    _Parsed,
    _read_names,
    _replace,
    _simple_statements,
)


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
