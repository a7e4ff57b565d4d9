"""Broken kernels with Warp: every mistake kind is rejected with a message that fits it (tests/unit: the edits)."""

from __future__ import annotations

import functools
import json
import os
import random
import subprocess
import sys

import pytest
from warp_ir_pairs_generator import mistakes, synth
from warp_ir_pairs_generator.options import GenerationOptions
from warp_ir_pairs_generator.synth.builder import KernelSource

# Words of Warp's (or Python's) reason that each kind must produce.
EXPECTED: dict[str, tuple[str, ...]] = {
    "type_mismatch": ("Input types must be the same", "must be of the same type as the array"),
    "undefined_name": ("Referencing undefined symbol",),
    "unknown_builtin": ("Could not find function wp.",),
    "wrong_arg_count": ("Couldn't find function overload for",),
    "unsupported_construct": ("not supported in kernels",),
    "kernel_returns_value": ("Warp kernels cannot return values",),
    "missing_annotation": ("Incomplete argument annotations",),
    "constant_mutation": ("Error mutating a constant",),
    "syntax_error": ("SyntaxError",),
}
# Kernels checked per kind with Warp: most from cpu-tiny, a couple from cuda-tiny's own families.
PER_CONFIG = {"cpu-tiny": 6, "cuda-tiny": 2}
SCAN = 200


@functools.cache
def _kernel(config: str, index: int) -> KernelSource:
    return synth.synthesize(GenerationOptions.from_config(config), index)


def _rng(config: str, index: int, kind: str = "") -> random.Random:
    return random.Random(f"{config}|{index}|{kind}")


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_each_kind_is_rejected_on_both_backends_with_a_fitting_message(kind):
    mistake = mistakes.MISTAKES[kind]
    for config, wanted in PER_CONFIG.items():
        checked = 0
        for index in range(SCAN):
            ks = _kernel(config, index)
            broken = mistake(_rng(config, index, kind), ks)
            if broken is None:
                continue
            assert broken.category == f"error_{kind}"
            assert broken.kernel_name == ks.kernel_name and broken.complexity == ks.complexity
            assert broken.python_source != ks.python_source
            assert mistakes.diagnose(ks.python_source, ks.kernel_name) is None, "the original must be valid"
            for backend in ("cpu", "cuda"):
                message = mistakes.diagnose(broken.python_source, broken.kernel_name, backend)
                assert message is not None, f"Warp accepted {kind} ({config} #{index}, {backend}):\n" \
                                            f"{broken.python_source}"
                assert any(e in message for e in EXPECTED[kind]), f"{config} #{index} {backend}: {message}"
                assert len(message) <= mistakes.MAX_DIAGNOSTIC
                assert f"<{ks.kernel_name}>" not in message
            checked += 1
            if checked == wanted:
                break
        assert checked == wanted, f"{kind} applies to only {checked} of {SCAN} {config} kernels"


_FRESH_PROCESS = """
import json, random, sys
from warp_ir_pairs_generator import mistakes
from warp_ir_pairs_generator import synth
from warp_ir_pairs_generator.options import GenerationOptions
options = GenerationOptions.from_config("cpu-tiny")
out = []
for index in range(int(sys.argv[1]), int(sys.argv[2])):
    kind, broken = mistakes.inject(random.Random(f"cpu-tiny|{index}|"), synth.synthesize(options, index))
    out.append([kind, broken.python_source, mistakes.diagnose(broken.python_source, broken.kernel_name)])
print(json.dumps(out))
"""


def test_broken_kernels_and_diagnostics_are_the_same_in_a_fresh_process():
    start, stop = 20, 40
    expected = []
    for index in range(start, stop):
        kind, broken = mistakes.inject(_rng("cpu-tiny", index), _kernel("cpu-tiny", index))  # type: ignore[misc]
        expected.append([kind, broken.python_source, mistakes.diagnose(broken.python_source, broken.kernel_name)])
    env = dict(os.environ, PYTHONHASHSEED="4321")
    out = subprocess.run([sys.executable, "-c", _FRESH_PROCESS, str(start), str(stop)],
                         capture_output=True, text=True, env=env, check=True)
    assert json.loads(out.stdout) == expected


def test_diagnose_accepts_valid_kernels_and_names_the_line():
    ks = _kernel("cpu-tiny", 0)
    assert mistakes.diagnose(ks.python_source, ks.kernel_name, "cuda") is None
    broken = mistakes.undefined_name(random.Random(0), ks)
    assert broken is not None
    message = mistakes.diagnose(broken.python_source, broken.kernel_name)
    assert message is not None and message.startswith("WarpCodegenKeyError: Referencing undefined symbol")
    assert f'Error while parsing function "{ks.kernel_name}" at <kernel>:' in message


def test_definition_time_failures_leave_no_trace_in_warp():
    """A missing annotation fails while the module is exec'd: helpers defined before must not linger."""
    ks = next(k for k in (_kernel("cpu-tiny", i) for i in range(SCAN)) if "@wp.func" in k.python_source)
    broken = mistakes.missing_annotation(random.Random(0), ks)
    assert broken is not None
    from warp_ir_pairs_generator.toolchain import codegen

    codegen.warp()
    import warp._src.context as ctx

    counts, modules = dict(ctx.function_key_counts), set(ctx.user_modules)
    message = mistakes.diagnose(broken.python_source, broken.kernel_name)
    assert message is not None and "Incomplete argument annotations" in message
    # No counter grew and no module stayed (release may reset a name's counter: that is the point).
    assert all(n <= counts.get(key, 0) for key, n in ctx.function_key_counts.items())
    assert set(ctx.user_modules) <= modules


