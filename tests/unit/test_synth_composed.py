"""The compositional synthesizer without Warp: builtin coverage, length by level, distinct structures."""

from __future__ import annotations

import random
import re

from warp_ir_pairs_generator.corpus.stats import summarize
from warp_ir_pairs_generator.synth.families.composed import composed


def test_builtins_span_the_catalog():
    used: set[str] = set()
    for seed in range(300):
        ks = composed(random.Random(seed), 3)
        used |= summarize({"python_source": ks.python_source, "category": "c", "structure_hash": "0",
                           "ir_code": "", "complexity": 3}).builtins
    assert len(used) >= 120, f"only {len(used)} distinct wp.* builtins in 300 composed kernels"


def test_complexity_shifts_length():
    def median_lines(level: int) -> int:
        lengths = sorted(composed(random.Random(s), level).python_source.count("\n") for s in range(40))
        return lengths[20]

    assert median_lines(1) * 2 < median_lines(5)


def test_composed_kernels_are_all_distinct_structures():
    from warp_ir_pairs_generator.record.structure import structure_hash

    hashes = {structure_hash(composed(random.Random(s), 1 + s % 5).python_source) for s in range(200)}
    assert len(hashes) >= 190


def test_the_synthesizer_never_casts_a_bool_literal_to_float64():
    """Warp 1.19 writes wp.float64(True) into C++ as `True` (see test_warp_ir)."""
    from warp_ir_pairs_generator.synth.builder import Scope
    from warp_ir_pairs_generator.synth.catalog import Signature
    from warp_ir_pairs_generator.synth.expressions import ExprGen

    gen = ExprGen(random.Random(0), Scope(), leaf_prob=1.0)
    to_f64 = Signature("wp.float64", ("bool",), "wp.float64", group="conversion")
    to_f32 = Signature("wp.float32", ("bool",), "wp.float32", group="conversion")
    casts = [gen.call(to_f64, 2) for _ in range(100)]
    assert not any(c in ("wp.float64(True)", "wp.float64(False)") for c in casts)
    assert all(re.fullmatch(r"wp\.float64\(.+ [<>]=? .+\)", c) for c in casts)
    assert {"wp.float32(True)", "wp.float32(False)"} <= {gen.call(to_f32, 2) for _ in range(100)}
