"""Building one kernel's source: parameters, typed local scope, blocks, helpers, rendering.

``KernelBuilder`` is the write side of the synthesizer: families and the compositional
generator call it to declare parameters and emit statements, and it keeps track of the Warp
type of every visible name so expressions can be generated that Warp will accept.
"""

from __future__ import annotations

import contextlib
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

INDENT = "    "
_SIGNED_NAME = re.compile(r"[-+( ]*-[-+( ]*[A-Za-z_][\w.]*[) ]*")
_IDENT = re.compile(r"(?<![.\w])[A-Za-z_][\w.]*")


@dataclass(frozen=True)
class KernelSource:
    """What synthesis hands to Warp: a complete module and what it is."""

    python_source: str
    kernel_name: str
    category: str
    complexity: int = 1


@dataclass
class Var:
    name: str
    type: str          # value type annotation, e.g. "wp.float32"
    kind: str = "value"  # value | array | struct
    ndim: int = 0      # arrays only
    mutable: bool = True  # False: generated code never reassigns it (parameters, loop counters)
    constant: bool = False  # a module-level wp.constant


@dataclass
class Scope:
    """Names visible at one point of the body, innermost block last."""

    blocks: list[dict[str, Var]] = field(default_factory=lambda: [{}])

    def add(self, var: Var) -> Var:
        self.blocks[-1][var.name] = var
        return var

    def push(self) -> None:
        self.blocks.append({})

    def pop(self) -> None:
        self.blocks.pop()

    def names(self) -> set[str]:
        return {n for b in self.blocks for n in b}

    def constants(self) -> set[str]:
        """Visible names that are module-level ``wp.constant`` values."""
        return {n for b in self.blocks for n, v in b.items() if v.constant}

    def values(self, type_name: str | None = None) -> list[Var]:
        """Visible scalar/vector/... values, optionally of one type (innermost shadowing wins)."""
        seen: dict[str, Var] = {}
        for block in self.blocks:
            seen.update(block)
        return [v for v in seen.values() if v.kind == "value" and (type_name is None or v.type == type_name)]

    def arrays(self, dtype: str | None = None, ndim: int | None = None) -> list[Var]:
        seen: dict[str, Var] = {}
        for block in self.blocks:
            seen.update(block)
        return [v for v in seen.values() if v.kind == "array" and (dtype is None or v.type == dtype)
                and (ndim is None or v.ndim == ndim)]


class KernelBuilder:
    """Accumulates one kernel (and its helpers) as text."""

    def __init__(self, rng: random.Random, name: str, category: str) -> None:
        self.rng = rng
        self.name = name
        self.category = category
        self.params: list[tuple[str, str]] = []
        self.lines: list[str] = []
        self.helpers: list[str] = []      # complete @wp.func sources, in definition order
        self.preamble: list[str] = []     # wp.constant / @wp.struct definitions
        self.scope = Scope()
        self.depth = 1
        self.taken: set[str] = set()
        self.complexity = 1

    # ----- names -------------------------------------------------------------------------
    def fresh(self, base: str) -> str:
        """A name not used yet in this module (``base``, then ``base_1``, ...)."""
        name, n = base, 1
        while name in self.taken:
            name, n = f"{base}_{n}", n + 1
        self.taken.add(name)
        return name

    # ----- parameters ----------------------------------------------------------------------
    def array_param(self, base: str, dtype: str, ndim: int = 1) -> Var:
        name = self.fresh(base)
        ann = f"wp.array(dtype={dtype})" if ndim == 1 else f"wp.array{ndim}d(dtype={dtype})"
        self.params.append((name, ann))
        return self.scope.add(Var(name, dtype, "array", ndim, mutable=False))

    def scalar_param(self, base: str, type_name: str) -> Var:
        name = self.fresh(base)
        self.params.append((name, _short(type_name)))
        return self.scope.add(Var(name, type_name, mutable=False))

    def raw_param(self, base: str, annotation: str, var: Var | None = None) -> str:
        name = self.fresh(base)
        self.params.append((name, annotation))
        if var is not None:
            var.name = name
            self.scope.add(var)
        return name

    # ----- statements ----------------------------------------------------------------------
    def emit(self, line: str) -> None:
        self.lines.append(INDENT * self.depth + line)

    def let(self, base: str, expr: str, type_name: str) -> Var:
        """``name = expr`` introducing a new local of ``type_name``."""
        name = self.fresh(base)
        self.emit(f"{name} = {expr}")
        return self.scope.add(Var(name, type_name))

    def mutable(self, base: str, expr: str, type_name: str) -> Var:
        """A local that loops/branches will reassign.

        Warp treats a local assigned from literals only as a compile-time constant and refuses to
        mutate it inside a dynamic loop; wrapping the initial value in its type constructor
        (``float(0.0)``) declares a dynamic variable instead.
        """
        return self.let(base, self.dynamic(expr, type_name), type_name)

    def assign(self, var: Var, expr: str) -> None:
        """``var = expr``, keeping ``var`` dynamic (see ``mutable``)."""
        self.emit(f"{var.name} = {self.dynamic(expr, var.type)}")

    def dynamic(self, expr: str, type_name: str) -> str:
        """``expr`` as a value Warp will not fold into a compile-time constant.

        Warp folds literals and some builtins of literals (``wp.len(wp.vec3(...))``) into
        constants; only scalars can be folded, so a scalar expression that reads no variable is
        wrapped in its type constructor.
        """
        if type_name != "bool" and not type_name.startswith(("wp.float", "wp.int", "wp.uint")):
            return expr
        if expr.startswith("wp.len(") and expr.count("(") == expr.count(")") and expr.endswith(")"):
            return f"{_short(type_name)}({expr})"   # the length of a vector/matrix is a constant
        if _SIGNED_NAME.fullmatch(expr):
            return f"{_short(type_name)}({expr})"   # "-GAIN" of a wp.constant folds to a constant too
        names = self.scope.names()
        if any(tok in names or tok.split(".")[0] in names for tok in _IDENT.findall(expr)):
            return expr
        return f"{_short(type_name)}({expr})"

    def tid(self, ndim: int = 1, bases: tuple[str, ...] = ("i", "j", "k")) -> list[Var]:
        names = [self.fresh(b) for b in bases[:ndim]]
        self.emit(f"{', '.join(names)} = wp.tid()")
        return [self.scope.add(Var(n, "wp.int32", mutable=False)) for n in names]

    @contextlib.contextmanager
    def block(self, header: str) -> Iterator[None]:
        """An indented block (``if``/``for``/``while``...) with its own scope."""
        self.emit(header)
        self.depth += 1
        self.scope.push()
        start = len(self.lines)
        try:
            yield
        finally:
            if len(self.lines) == start:
                self.emit("pass")
            self.scope.pop()
            self.depth -= 1

    def for_range(self, base: str, *bounds: str) -> contextlib.AbstractContextManager[Var]:
        return _ForRange(self, base, bounds)

    # ----- helpers and preamble ------------------------------------------------------------
    def add_helper(self, source: str) -> None:
        self.helpers.append(source)

    def add_preamble(self, source: str) -> None:
        self.preamble.append(source)

    def render(self) -> KernelSource:
        params = ", ".join(f"{n}: {a}" for n, a in self.params)
        parts = ["import warp as wp\n"]
        parts += [p + "\n" for p in self.preamble]
        parts += [h + "\n" for h in self.helpers]
        body = "\n".join(self.lines) if self.lines else INDENT + "pass"
        parts.append(f"@wp.kernel\ndef {self.name}({params}):\n{body}\n")
        return KernelSource("\n".join(parts), self.name, self.category, self.complexity)


class _ForRange(contextlib.AbstractContextManager):
    def __init__(self, kb: KernelBuilder, base: str, bounds: tuple[str, ...]) -> None:
        self.kb, self.base, self.bounds = kb, base, bounds
        self._cm: contextlib.AbstractContextManager | None = None

    def __enter__(self) -> Var:
        name = self.kb.fresh(self.base)
        self._cm = self.kb.block(f"for {name} in range({', '.join(self.bounds)}):")
        self._cm.__enter__()
        return self.kb.scope.add(Var(name, "wp.int32", mutable=False))

    def __exit__(self, *exc: object) -> None:
        assert self._cm is not None
        self._cm.__exit__(*exc)


def _short(type_name: str) -> str:
    """Annotation as a Warp user would write it for the commonest types."""
    return {"wp.float32": "float", "wp.int32": "int"}.get(type_name, type_name)
