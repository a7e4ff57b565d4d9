"""One kernel run inside a worker: build its inputs, launch once on the CPU, record its I/O.

Shared by ``launch``'s own worker and ``evaluate``'s (which launches a predicted object the
same way, so its outputs compare with the record's ``example_io``).
"""

from __future__ import annotations

import types
from typing import Any

from .. import toolchain
from .example_io import encode
from .inputs import Inputs, Unsupported
from .source_info import SourceInfo

REASON_CHARS = 200


def one_line(text: str) -> str:
    """A reason as results carry it: whitespace collapsed, capped at ``REASON_CHARS``."""
    return " ".join(str(text).split())[:REASON_CHARS]


def run_item(wp: Any, module: types.ModuleType, source: str, name: str, seed: int) -> tuple[bool, str, str]:
    """Build inputs, launch once on the CPU, record: (ok, reason, example_io)."""
    kernel = module.__dict__.get(name)
    if not toolchain.is_kernel(kernel):
        return False, f"unsupported: no @wp.kernel named {name}", ""
    try:
        info = SourceInfo(source, name)
        inputs = Inputs(wp, seed, info)
        args = [inputs.build(arg.label, arg.type) for arg in kernel.adj.args]
        inputs.finish()
        before = dict(inputs.records)
    except Unsupported as e:
        return False, f"unsupported: {e}", ""
    except Exception as e:
        return False, f"input_error: {type(e).__name__}: {e}", ""
    dim = (inputs.n,) * info.tid_ndim
    try:
        wp.launch(kernel, dim=dim, inputs=args, device="cpu")
        wp.synchronize_device("cpu")
    except Exception as e:
        return False, f"launch_error: {type(e).__name__}: {toolchain.first_line(e)}", ""
    try:
        oob = inputs.guard_violations()
        if oob:
            return False, f"oob_write: {', '.join(oob)}", ""
        return True, "", encode({"dim": list(dim), "inputs": before, "outputs": inputs.outputs()})
    except Exception as e:
        return False, f"record_error: {type(e).__name__}: {e}", ""
