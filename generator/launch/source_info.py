"""What the kernel's source says that its signature does not: tid dimensionality and handle kinds.

The launch ``dim`` has one size per name the kernel unpacks from ``wp.tid()``. A ``wp.uint64``
argument is a handle when the source passes it to ``wp.mesh_*`` / ``wp.hash_grid_*`` /
``wp.bvh_*`` (directly or through a ``@wp.func``, traced to a fixpoint; struct fields by name).
"""

from __future__ import annotations

import ast

HANDLE_PREFIXES = {"mesh_": "mesh", "hash_grid_": "hash_grid", "bvh_": "bvh"}


class SourceInfo:
    def __init__(self, source: str, kernel_name: str) -> None:
        tree = ast.parse(source)
        funcs = {f.name: f for f in tree.body if isinstance(f, ast.FunctionDef)}
        kernel = funcs.get(kernel_name)
        self.tid_ndim = 1
        if kernel is not None:
            for node in ast.walk(kernel):
                if isinstance(node, ast.Assign) and _is_wp_call(node.value, "tid"):
                    target = node.targets[0]
                    self.tid_ndim = len(target.elts) if isinstance(target, ast.Tuple) else 1
                    break
        self.handles, self.field_handles = _handle_kinds(funcs)
        self.kernel_name = kernel_name
        used = {kind for (_, _), kind in self.handles.items()} | set(self.field_handles.values())
        # A handle that reaches the builtins in a way we do not trace (e.g. through a local
        # alias): when the source uses one kind only, a uint64 argument is that kind.
        self.only_kind = next(iter(used)) if len(used) == 1 else None

    def handle_of(self, label: str, *, field: bool = False) -> str | None:
        if field:
            return self.field_handles.get(label, self.only_kind)
        return self.handles.get((self.kernel_name, label), self.only_kind)


def _is_wp_call(node: ast.AST, attr: str | None = None) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "wp"
            and (attr is None or node.func.attr == attr))


def _handle_kinds(funcs: dict[str, ast.FunctionDef]) -> tuple[dict[tuple[str, str], str], dict[str, str]]:
    """(function, parameter) -> handle kind, and struct field name -> kind, from builtin calls."""
    kinds: dict[tuple[str, str], str] = {}
    fields: dict[str, str] = {}
    params = {name: [a.arg for a in f.args.args] for name, f in funcs.items()}
    for _ in range(len(funcs) + 1):           # propagate through @wp.func calls to a fixpoint
        changed = False
        for fname, func in funcs.items():
            for node in ast.walk(func):
                if not isinstance(node, ast.Call) or not node.args:
                    continue
                if _is_wp_call(node):
                    kind = next((k for p, k in HANDLE_PREFIXES.items() if node.func.attr.startswith(p)), None)
                    pairs = [(node.args[0], kind)] if kind else []
                elif isinstance(node.func, ast.Name) and node.func.id in params:
                    callee = node.func.id
                    pairs = [(arg, kinds.get((callee, p))) for arg, p in zip(node.args, params[callee], strict=False)]
                else:
                    continue
                for arg, kind in pairs:
                    if kind is None:
                        continue
                    if isinstance(arg, ast.Name) and (fname, arg.id) not in kinds:
                        kinds[(fname, arg.id)] = kind
                        changed = True
                    elif isinstance(arg, ast.Attribute) and arg.attr not in fields:
                        fields[arg.attr] = kind
                        changed = True
        if not changed:
            break
    return kinds, fields
