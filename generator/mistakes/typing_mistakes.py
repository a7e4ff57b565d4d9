"""Mistakes about types: ``type_mismatch``, ``missing_annotation``, ``constant_mutation``."""

from __future__ import annotations

import ast
import random
import re

from ..synth.builder import KernelSource
from .analysis import (
    _apply_one,
    _Array,
    _callee,
    _expr_type,
    _first_assignment,
    _mutated_in_dynamic_loop,
    _number,
    _parse,
    _Parsed,
    _position,
    _read_names,
)


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
