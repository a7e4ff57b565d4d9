"""The ``execute`` level: each kernel is launched once on the CPU, in the sandbox, on deterministic inputs.

The inputs come from ``launch.input_seed`` (a hash of backend, seed and index); the launch, its
inputs and outputs become ``example_io``. A kernel that crashes, hangs or fails to launch is
rejected with the sandbox's reason.
"""

from __future__ import annotations

from collections.abc import Sequence

from .level import NATIVE_BATCH, Draft, Level, VerifyOptions


def _check(options: VerifyOptions, drafts: Sequence[Draft]) -> list[str]:
    from .. import launch

    reasons = [""] * len(drafts)
    items = [(d.kernel.python_source, d.kernel.kernel_name, launch.input_seed(options.backend, options.seed, d.index))
             for d in drafts]
    results = launch.execute(items)
    for i, (d, r) in enumerate(zip(drafts, results, strict=True)):
        if r.ok:
            d.native["example_io"] = r.example_io
        else:
            reasons[i] = "execute: " + r.reason
    return reasons


LEVEL = Level(
    name="execute",
    fields={"example_io": ""},
    sentence="`execute`: compiled as at `compile`, and each kernel was also launched on the CPU on small "
             "deterministic inputs in a sandboxed worker; `example_io` holds the launch, inputs and outputs.",
    batch=NATIVE_BATCH,
    check=_check,
)
