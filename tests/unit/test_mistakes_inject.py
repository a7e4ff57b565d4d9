"""The errors task without Warp: every kind exists, is a small local edit, and inject is deterministic."""

from __future__ import annotations

import difflib
import functools
import random
import subprocess
import sys

import pytest
from warp_ir_pairs_generator import mistakes, synth
from warp_ir_pairs_generator.options import GenerationOptions
from warp_ir_pairs_generator.synth.builder import KernelSource

# The kinds the errors task promises (tests/mistakes checks Warp's words for each).
EXPECTED = ("type_mismatch", "undefined_name", "unknown_builtin", "wrong_arg_count", "unsupported_construct",
            "kernel_returns_value", "missing_annotation", "constant_mutation", "syntax_error")


@functools.cache
def _kernel(config: str, index: int) -> KernelSource:
    return synth.synthesize(GenerationOptions.from_config(config), index)


def _rng(config: str, index: int, kind: str = "") -> random.Random:
    return random.Random(f"{config}|{index}|{kind}")


def _changed_lines(before: str, after: str) -> tuple[int, int]:
    """(lines removed, lines added) between two sources."""
    diff = list(difflib.ndiff(before.splitlines(), after.splitlines()))
    return sum(d.startswith("- ") for d in diff), sum(d.startswith("+ ") for d in diff)


def test_every_listed_kind_is_implemented():
    assert set(mistakes.MISTAKES) == set(EXPECTED)


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_each_mistake_is_a_small_local_edit(kind):
    seen = 0
    for index in range(60):
        ks = _kernel("cpu-tiny", index)
        broken = mistakes.MISTAKES[kind](_rng("cpu-tiny", index, kind), ks)
        if broken is None:
            continue
        seen += 1
        removed, added = _changed_lines(ks.python_source, broken.python_source)
        assert 0 < max(removed, added) <= 3, f"#{index}: -{removed} +{added}\n{broken.python_source}"
    assert seen > 0


def test_inject_applies_to_nearly_every_kernel_and_covers_every_kind():
    kinds = []
    for config, count in (("cpu-tiny", 140), ("cuda-tiny", 60)):
        for index in range(count):
            ks = _kernel(config, index)
            found = mistakes.inject(_rng(config, index), ks)
            if found is not None:
                kind, broken = found
                assert broken.category == f"error_{kind}"
                kinds.append(kind)
    assert len(kinds) >= 0.95 * 200
    assert set(kinds) == set(mistakes.MISTAKES)


def test_inject_is_deterministic_for_a_seed():
    for index in range(30):
        ks = _kernel("cpu-tiny", index)
        assert mistakes.inject(random.Random(7), ks) == mistakes.inject(random.Random(7), ks)
    picks = {mistakes.inject(random.Random(seed), _kernel("cpu-tiny", 3))[0] for seed in range(40)}  # type: ignore[index]
    assert len(picks) > 3, "the rng chooses the kind"


def test_mutations_do_not_import_warp():
    code = "import sys\nimport warp_ir_pairs_generator.mistakes\nprint('warp' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_normalize_diagnostic():
    raw = ('RuntimeError: Error while parsing function "k" at /home/me/k.py:10:\n    a[i] = h(a[i])\n'
           ';Error while parsing function "h" at /home/me/k.py:5:\n        return   t + 1\n'
           ";Input types must be the same, got ['float32', 'int32']")
    out = mistakes.normalize_diagnostic(raw, "/home/me/k.py")
    assert out == ("RuntimeError: Input types must be the same, got ['float32', 'int32'] | "
                   'Error while parsing function "k" at <kernel>:10: a[i] = h(a[i]); '
                   'Error while parsing function "h" at <kernel>:5: return t + 1')
    # A long chain is cut, never the reason.
    long = raw.replace("a[i] = h(a[i])", "a[i] = " + " + ".join(["h(a[i])"] * 200))
    cut = mistakes.normalize_diagnostic(long, "/home/me/k.py")
    assert len(cut) <= mistakes.MAX_DIAGNOSTIC
    assert cut.startswith("RuntimeError: Input types must be the same")
    assert mistakes.normalize_diagnostic("SyntaxError: expected ':' (<k>, line 4)", "<k>") == \
        "SyntaxError: expected ':' (<kernel>, line 4)"
