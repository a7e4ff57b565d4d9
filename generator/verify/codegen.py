"""The ``codegen`` level: Warp's code generator accepted the kernel (the driver's draw already ran it)."""

from __future__ import annotations

from collections.abc import Sequence

from .level import Draft, Level, VerifyOptions


def _check(options: VerifyOptions, drafts: Sequence[Draft]) -> list[str]:
    # A draft exists only once Warp generated its IR (rejections are replaced while drawing).
    return [""] * len(drafts)


LEVEL = Level(
    name="codegen",
    fields={},
    sentence="`codegen`: the IR is Warp's code-generator output for the kernel; it was not compiled or run.",
    batch=1,   # nothing to share between drafts: records stream one by one
    check=_check,
)
