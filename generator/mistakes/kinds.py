"""The mistake kinds and ``inject``, which picks one that applies to a kernel.

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
"""

from __future__ import annotations

import random
from collections.abc import Callable

from ..synth.builder import KernelSource
from .construct_mistakes import kernel_returns_value, syntax_error, unsupported_construct
from .name_mistakes import undefined_name, unknown_builtin, wrong_arg_count
from .typing_mistakes import constant_mutation, missing_annotation, type_mismatch

Mistake = Callable[[random.Random, KernelSource], "KernelSource | None"]

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
