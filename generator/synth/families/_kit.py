"""The family toolkit: the helpers every family file builds its kernels with.

A family is a function ``(rng, level) -> KernelSource`` (see ``families.Family``). It starts a
kernel with ``start_kernel`` (a ``KernelBuilder`` and an ``ExprGen`` whose builtins
``in_groups``/``no_calls`` limit), declares inputs with ``input_arrays``, reads some of them
into locals (``load_some``, ``ensure_value``), adds typed locals (``add_lets``) whose count and
depth (``expr_depth``) grow with the level, and returns ``kb.render()``.

Every helper draws from the builder's RNG: calling one more, fewer or in another order changes
every record after it, which the golden digests catch. No Warp import here.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from .. import naming
from ..builder import KernelBuilder, Var
from ..catalog import Signature
from ..expressions import ExprGen
from ..types import I32

# Leaf probability per complexity level: lower means deeper expression trees.
_LEAF_SHIFT = {1: 0.3, 2: 0.05, 3: 0.0, 4: -0.1, 5: -0.15}


def start_kernel(rng: random.Random, level: int, category: str, hint: str = "", leaf_prob: float = 0.35,
                 allowed: Callable[[Signature], bool] | None = None) -> tuple[KernelBuilder, ExprGen]:
    """A builder with a drawn kernel name (``naming.kernel_name``) and its typed expression generator.

    ``leaf_prob`` is shifted by the level (deeper trees at high levels); ``allowed`` limits which
    builtins expressions may call (``in_groups``, ``no_calls``).
    """
    kb = KernelBuilder(rng, naming.kernel_name(rng, hint), category)
    kb.complexity = level
    leaf = min(0.9, max(0.05, leaf_prob + _LEAF_SHIFT[level]))
    return kb, ExprGen(rng, kb.scope, leaf_prob=leaf, allowed=allowed)


def in_groups(*groups: str) -> Callable[[Signature], bool]:
    """A builtin filter: catalog signatures of these groups, and user helpers."""
    return lambda s: s.group in groups or s.group == "user"


def no_calls(s: Signature) -> bool:
    """Only user helpers, no builtins: for the purely arithmetic families."""
    return s.group == "user"


def input_arrays(kb: KernelBuilder, rng: random.Random, dtype: str, lo: int, hi: int, ndim: int = 1) -> list[Var]:
    """``lo..hi`` input array parameters of ``dtype`` with drawn names."""
    return [kb.array_param(naming.array(rng), dtype, ndim) for _ in range(rng.randint(lo, hi))]


def load_some(kb: KernelBuilder, rng: random.Random, arrays: list[Var], index: str) -> None:
    """Load some inputs into locals (others stay as array reads inside expressions)."""
    for arr in arrays:
        if rng.random() < 0.7:
            kb.let(naming.local(rng, arr.type), f"{arr.name}[{index}]", arr.type)


def expr_depth(kb: KernelBuilder, lo: int, hi: int) -> int:
    """An expression depth in ``lo..hi``, shifted down at level 1 and up at levels 4-5."""
    return max(1, kb.rng.randint(lo, hi) + {1: -1, 2: 0, 3: 0, 4: 1, 5: 2}[kb.complexity])


def add_lets(kb: KernelBuilder, ex: ExprGen, type_name: str, lo: int, hi: int, depth: int) -> None:
    """``lo..hi`` new locals at level 2-3; fewer at level 1, more at 4-5."""
    hi = max(lo, hi + {1: -hi, 2: 0, 3: 1, 4: 3, 5: 6}[kb.complexity])
    for _ in range(kb.rng.randint(lo, hi)):
        kb.let(naming.local(kb.rng, type_name), ex.expr(type_name, depth), type_name)


def ensure_value(kb: KernelBuilder, arrays: list[Var], index: str, type_name: str) -> None:
    """Make sure at least one local of ``type_name`` exists (read from an input)."""
    if not kb.scope.values(type_name):
        arr = kb.rng.choice([a for a in arrays if a.type == type_name])
        kb.let(naming.local(kb.rng, type_name), f"{arr.name}[{index}]", type_name)


def loop_bound(kb: KernelBuilder, rng: random.Random, arrays: list[Var]) -> str:
    """A ``range`` bound: a literal, an int parameter, or an input's ``shape[0]``."""
    r = rng.random()
    if r < 0.4:
        return str(rng.randint(2, 16))
    if r < 0.7:
        return kb.scalar_param(rng.choice(("n", "steps", "count", "iters")), I32).name
    return f"{rng.choice(arrays).name}.shape[0]"
