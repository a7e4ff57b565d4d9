"""Typed random expressions: every expression is built for a requested Warp type.

``ExprGen.expr(type, depth)`` returns source text whose Warp type is exactly ``type``, drawn
from variables in scope, literals, operators and builtin calls whose signatures say they return
that type. Because every choice is type-directed, Warp never rejects an expression for a
type mismatch or an undefined name.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable, Sequence

from .builder import Scope
from .catalog import Signature, by_return_type
from .types import INT_SCALARS, literal, wtype

# Casts Warp 1.19 mishandles when given a wp.constant by name (see ExprGen.call).
_WIDE_SCALARS = frozenset({"wp.float64", "wp.int64", "wp.uint64"})

# Functions whose arguments must stay in a safe range (finite results, no undefined behaviour
# when the kernel is executed): the generator wraps such arguments by domain and type kind.
_FLOAT_WRAP: dict[str, Callable[[str, str], str]] = {
    "positive": lambda e, t: f"(wp.abs({e}) + {_one(t, '0.5')})",
    "unit": lambda e, t: f"wp.clamp({e}, {_one(t, '-0.99')}, {_one(t, '0.99')})",
    "unit_positive": lambda e, t: f"wp.clamp(wp.abs({e}), {_one(t, '0.01')}, {_one(t, '1.0')})",
    "nonzero": lambda e, t: f"(wp.abs({e}) + {_one(t, '1.0')})",
    "int_range": lambda e, t: f"wp.clamp({e}, {_one(t, '-100.0')}, {_one(t, '100.0')})",
}
_INT_WRAP: dict[str, Callable[[str, str], str]] = {
    "nonzero": lambda e, t: f"({e} | {_one(t, '1')})",      # never zero, any int type
    "positive": lambda e, t: f"({e} | {_one(t, '1')})",
    "shift": lambda e, t: f"({e} & {_one(t, '7')})",        # below every int width
}
_DOMAIN_WRAP = _FLOAT_WRAP  # float scalars (kept for callers that wrap by hand)


def _one(type_name: str, text: str) -> str:
    plain = type_name in ("wp.float32", "float") or (type_name in ("wp.int32", "int") and "." not in text)
    return text if plain else f"{type_name}({text})"


class ExprGen:
    """Generates expressions over one kernel's scope; counts the builtins it used."""

    def __init__(self, rng: random.Random, scope: Scope, signatures: dict[str, Sequence[Signature]] | None = None,
                 leaf_prob: float = 0.35, allowed: Callable[[Signature], bool] | None = None) -> None:
        self.rng = rng
        self.scope = scope
        self.sigs = signatures if signatures is not None else by_return_type()
        self.leaf_prob = leaf_prob
        self.allowed = allowed
        self.used: Counter[str] = Counter()
        self.read: set[str] = set()

    # ------------------------------------------------------------------------------------
    def expr(self, type_name: str, depth: int = 2) -> str:
        """An expression of exactly ``type_name`` with nesting at most ``depth``."""
        rng = self.rng
        if depth <= 0 or rng.random() < self.leaf_prob:
            return self.leaf(type_name)
        t = wtype(type_name)
        choices: list[Callable[[], str]] = []
        if t.kind in ("scalar", "vector", "matrix", "quat", "spatial") and t.scalar != "bool":
            choices += [lambda: self._binary(type_name, depth)] * 3
        if t.kind == "scalar" and t.is_float:
            choices += [lambda: self._div(type_name, depth), lambda: f"-{self._atom(type_name, depth - 1)}"]
        if t.kind == "vector" and t.is_float:
            choices += [lambda: self._scale(type_name, depth)] * 2
        if t.kind == "scalar" and t.is_int:
            choices += [lambda: self._int_op(type_name, depth)]
        if t.kind == "bool":
            choices += [lambda: self._compare(depth)] * 3 + [lambda: self._logic(depth)]
        if t.kind in ("scalar", "vector") and rng.random() < 0.25:
            choices.append(lambda: self.ternary(type_name, depth))
        calls = self._signatures(type_name)
        if calls:
            choices += [lambda: self.call(rng.choice(calls), depth)] * 4
        if not choices:
            return self.leaf(type_name)
        return rng.choice(choices)()

    def leaf(self, type_name: str) -> str:
        """A variable of the type when one is visible (usually), else a literal."""
        vars_ = self.scope.values(type_name)
        if vars_ and self.rng.random() < 0.8:
            # Prefer values nothing has read yet, so generated locals feed the result.
            fresh = [v for v in vars_ if v.name not in self.read]
            var = self.rng.choice(fresh if fresh and self.rng.random() < 0.7 else vars_)
            self.read.add(var.name)
            return var.name
        if type_name == "wp.float32":
            floats = self.scope.values("wp.int32")
            if floats and self.rng.random() < 0.2:
                return f"float({self.rng.choice(floats).name})"
        return literal(self.rng, type_name)

    def call(self, sig: Signature, depth: int) -> str:
        self.used[sig.fn] += 1
        args = [self._argument(a, sig.domain, depth) for a in sig.args]
        if sig.group == "conversion" and sig.ret in _WIDE_SCALARS and args[0] in self.scope.constants():
            # Warp 1.19 retypes a wp.constant passed bare to a 64-bit cast (wp.float64(GAIN)) for
            # the rest of the function, so a later float32 use of GAIN is refused: cast a literal.
            args[0] = literal(self.rng, sig.args[0])
        if sig.fn == "wp.float64" and args[0] in ("True", "False"):
            # Warp 1.19 emits wp.float64(True) as the C++ `var = True;`, which no compiler
            # accepts (warp_ir rejects such IR): cast a comparison instead.
            args[0] = self._compare(depth)
        return f"{sig.fn}({', '.join(args)})"

    def _argument(self, type_name: str, domain: str, depth: int) -> str:
        t = wtype(type_name)
        if t.kind == "scalar" and t.is_int and domain in ("axis_index", "small_count"):
            lo, hi = (0, 2) if domain == "axis_index" else (1, 8)
            return _one(type_name, str(self.rng.randint(lo, hi)))
        e = self.expr(type_name, depth - 1)
        if t.kind == "scalar":
            wrap = (_FLOAT_WRAP if t.is_float else _INT_WRAP).get(domain)
            return wrap(e, type_name) if wrap else e
        if domain == "normalized" and t.kind in ("quat", "vector") and t.is_float:
            return f"wp.normalize({e})"
        return e

    def ternary(self, type_name: str, depth: int) -> str:
        then, other = self.expr(type_name, depth - 1), self.expr(type_name, depth - 1)
        return f"({then} if {self._compare(depth - 1)} else {other})"

    def expr_reading(self, type_name: str, depth: int = 2, tries: int = 6) -> str:
        """Like ``expr`` but retried until the expression reads at least one variable."""
        names = self.scope.names()
        e = ""
        for _ in range(tries):
            e = self.expr(type_name, depth)
            if any(tok in names for tok in _identifiers(e)):
                return e
        return e

    def condition(self, depth: int = 1) -> str:
        return self._logic(depth) if self.rng.random() < 0.3 else self._compare(depth)

    # ------------------------------------------------------------------------------------
    def _signatures(self, type_name: str) -> list[Signature]:
        sigs = list(self.sigs.get(type_name, ()))
        if self.allowed is not None:
            sigs = [s for s in sigs if self.allowed(s)]
        return sigs

    def _atom(self, type_name: str, depth: int) -> str:
        """An expression safe to use as an operand (parenthesized unless it is a name, literal or call)."""
        e = self.expr(type_name, depth)
        return e if _is_atomic(e) else f"({e})"

    def _binary(self, type_name: str, depth: int) -> str:
        t = wtype(type_name)
        ops = ["+", "-"] if t.kind in ("matrix", "spatial") else ["+", "-", "*"]
        if t.kind in ("vector", "quat"):
            ops = ["+", "-"]
        if t.kind == "scalar" and t.scalar in INT_SCALARS and t.name != "wp.int32":
            ops = ["+", "-", "*"]
        op = self.rng.choice(ops)
        return f"{self._atom(type_name, depth - 1)} {op} {self._atom(type_name, depth - 1)}"

    def _div(self, type_name: str, depth: int) -> str:
        den = _DOMAIN_WRAP["nonzero"](self.expr(type_name, depth - 1), type_name)
        return f"{self._atom(type_name, depth - 1)} / {den}"

    def _scale(self, type_name: str, depth: int) -> str:
        s = wtype(type_name).scalar
        vec, scal = self._atom(type_name, depth - 1), self._atom(s, depth - 1)
        return f"{vec} * {scal}" if self.rng.random() < 0.6 else f"{scal} * {vec}"

    def _int_op(self, type_name: str, depth: int) -> str:
        a = self._atom(type_name, depth - 1)
        lit = literal(self.rng, type_name, 1, 7).replace("-", "")
        if lit in ("0", f"{type_name}(0)"):
            lit = "1" if type_name == "wp.int32" else f"{type_name}(1)"
        op = self.rng.choice(["%", "//", "&", "|", "^"])
        return f"{a} {op} {lit}"

    def _compare(self, depth: int) -> str:
        ints = bool(self.scope.values("wp.int32"))
        t = self.rng.choice(["wp.float32", "wp.float32", "wp.int32"] if ints else ["wp.float32"])
        op = self.rng.choice(["<", ">", "<=", ">=", "==", "!="] if t == "wp.int32" else ["<", ">", "<=", ">="])
        left = self._atom(t, depth - 1)
        right = self._atom(t, max(0, depth - 2))
        if right == left:  # "x > x" says nothing; compare with a literal instead
            right = literal(self.rng, t)
        return f"{left} {op} {right}"

    def _logic(self, depth: int) -> str:
        r = self.rng.random()
        if r < 0.2:
            return f"not ({self._compare(depth - 1)})"
        op = "and" if r < 0.6 else "or"
        return f"({self._compare(depth - 1)}) {op} ({self._compare(depth - 1)})"


def _identifiers(e: str) -> list[str]:
    return re.findall(r"(?<![.\w])[A-Za-z_]\w*", e)


def _is_atomic(e: str) -> bool:
    if e.replace("_", "").replace(".", "").isalnum():
        return True
    if not e.endswith(")") or not re.match(r"[A-Za-z_][\w.]*\(", e):
        return False  # only "name(...)" can be a single call
    depth = 0
    for pos, ch in enumerate(e):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0 and ch == ")" and pos != len(e) - 1:
            return False  # "f(a) + g(b)": the first call closes before the end
    return True

