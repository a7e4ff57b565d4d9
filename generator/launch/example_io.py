"""The ``example_io`` JSON of one kernel run: rounding, non-finite strings, a shared budget of numbers.

``example_io`` (JSON, ``sort_keys``, compact, byte-identical across runs and processes)
-------------------------------------------------------------------------------------
``{"dim": [n, ...], "inputs": {arg: value}, "outputs": {arg: value}}``. ``inputs`` holds every
argument before the launch, ``outputs`` every array argument after it (structs: their array
fields). Arrays are nested lists (vectors/matrices as inner lists); floats are rounded to
``SIG_DIGITS`` significant digits; NaN/inf are the strings ``"nan"``, ``"inf"``, ``"-inf"``;
handles are their kind (``{"mesh": "tetrahedron"}``, ``{"bvh": "tetrahedron_boxes"}``,
``{"hash_grid": "<arg>"}``), never a pointer. At most ``MAX_NUMBERS`` numbers are written: when
the arrays hold more, the budget is shared among them (smallest first) and an array that does
not fit becomes ``{"shape": [...], "head": [first elements, C order]}``. Non-finite outputs
are still ``ok`` (the kernel ran); callers can look for ``"nan"`` in the text.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

MAX_NUMBERS = 512
SIG_DIGITS = 6


@dataclass
class Arr:
    """An array value to encode later (the JSON budget is shared among all arrays)."""

    data: Any            # numpy array, shape = array shape + element shape
    elem_ndim: int


def encode(doc: dict) -> str:
    """Deterministic compact JSON of ``doc`` (``Arr`` leaves become nested lists or heads)."""
    arrays = list(_arrays(doc))
    # Reserve room for a "shape" list per array, in case it has to be cut to a head.
    budget = MAX_NUMBERS - _count_scalars(doc) - sum(a.data.ndim - a.elem_ndim for a in arrays)
    limits: dict[int, int] = {}
    for k, a in enumerate(sorted(arrays, key=lambda a: a.data.size)):
        share = max(budget, 0) // (len(arrays) - k)
        limits[id(a)] = min(a.data.size, share)
        budget -= limits[id(a)]
    return json.dumps(_render(doc, limits), sort_keys=True, separators=(",", ":"), allow_nan=False)


def _arrays(node: Any) -> Iterator[Arr]:
    if isinstance(node, Arr):
        yield node
    elif isinstance(node, dict):
        for key in sorted(node):
            yield from _arrays(node[key])
    elif isinstance(node, list):
        for v in node:
            yield from _arrays(v)


def _count_scalars(node: Any) -> int:
    if isinstance(node, Arr):
        return 0
    if isinstance(node, dict):
        return sum(_count_scalars(v) for v in node.values())
    if isinstance(node, list):
        return sum(_count_scalars(v) for v in node)
    return int(isinstance(node, (int, float)) and not isinstance(node, bool))


def _render(node: Any, limits: dict[int, int]) -> Any:
    if isinstance(node, Arr):
        data = node.data
        if data.size <= limits[id(node)]:
            return _num_tree(data.tolist())
        elem_shape = data.shape[data.ndim - node.elem_ndim:]
        per_elem = math.prod(elem_shape)
        keep = limits[id(node)] // per_elem
        flat = data.reshape((-1, *elem_shape))[:keep]
        return {"shape": list(data.shape[:data.ndim - node.elem_ndim]), "head": _num_tree(flat.tolist())}
    if isinstance(node, dict):
        return {k: _render(v, limits) for k, v in node.items()}
    if isinstance(node, list):
        return [_render(v, limits) for v in node]
    return _num_tree(node)


def _num_tree(node: Any) -> Any:
    if isinstance(node, list):
        return [_num_tree(v) for v in node]
    if isinstance(node, bool) or node is None or isinstance(node, str):
        return node
    if isinstance(node, int):
        return node
    x = float(node)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return float(f"{x:.{SIG_DIGITS}g}")
