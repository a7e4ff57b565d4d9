"""The behaves rung's comparison of two decoded ``example_io`` trees, with float tolerances.

Records round floats to 6 significant digits, so re-running the true IR matches to the last digit.
"""

from __future__ import annotations

import math
from typing import Any

RTOL = 1e-4
ATOL = 1e-5


def compare_outputs(want: Any, got: Any, path: str = "") -> str | None:
    """First difference between two decoded ``example_io`` trees beyond tolerance, or None.

    Floats: ``abs(got - want) <= ATOL + RTOL * abs(want)``; ints, bools, strings (``"nan"``,
    ``"inf"``, ``"-inf"``) and the tree's layout (keys, list lengths) exactly.
    """
    if isinstance(want, dict):
        if not isinstance(got, dict) or set(want) != set(got):
            return f"{path}: expected keys {sorted(want)}, got {sorted(got) if isinstance(got, dict) else got!r}"
        for key in sorted(want):
            found = compare_outputs(want[key], got[key], f"{path}.{key}" if path else key)
            if found:
                return found
        return None
    if isinstance(want, list):
        if not isinstance(got, list) or len(want) != len(got):
            return f"{path}: expected {len(want)} items, got {len(got) if isinstance(got, list) else got!r}"
        for k, (a, b) in enumerate(zip(want, got, strict=True)):
            found = compare_outputs(a, b, f"{path}[{k}]")
            if found:
                return found
        return None
    numbers = (int, float)
    if (isinstance(want, numbers) and isinstance(got, numbers)
            and not isinstance(want, bool) and not isinstance(got, bool)):
        if isinstance(want, int) and isinstance(got, int):
            ok = want == got
        else:
            ok = math.isfinite(got) and abs(got - want) <= ATOL + RTOL * abs(want)
        return None if ok else f"{path}: expected {want!r}, got {got!r}"
    if type(want) is type(got) and want == got:
        return None
    return f"{path}: expected {want!r}, got {got!r}"
