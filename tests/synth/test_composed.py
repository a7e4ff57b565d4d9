"""The compositional synthesizer covers Warp's language, and Warp accepts what it writes."""

from __future__ import annotations

import random

import pytest
from warp_ir_pairs_generator.corpus.stats import _CONSTRUCTS, summarize
from warp_ir_pairs_generator.synth.families.composed import composed
from warp_ir_pairs_generator.toolchain import codegen

# Construct classes of the issue, as detected in generated source by the stats module.
CONSTRUCT_CLASSES = sorted(_CONSTRUCTS)
TYPE_CLASSES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                "uint64", "vec2", "vec3", "vec4", "vec3d", "mat22", "mat33", "mat44", "quat", "transform",
                "spatial_vector"]


@pytest.fixture(scope="module")
def examples() -> dict[str, str]:
    """For each construct and type class, the first composed kernel (seeded draws) that uses it."""
    found: dict[str, str] = {}
    for seed in range(600):
        ks = composed(random.Random(seed), 1 + seed % 5)
        row = summarize({"python_source": ks.python_source, "category": ks.category, "structure_hash": "0",
                         "ir_code": "", "complexity": ks.complexity})
        for key in [*row.constructs, *row.types]:
            found.setdefault(key, ks.python_source + "\x00" + ks.kernel_name)
        if all(k in found for k in CONSTRUCT_CLASSES + TYPE_CLASSES):
            break
    return found


@pytest.mark.parametrize("construct", CONSTRUCT_CLASSES + TYPE_CLASSES)
def test_each_construct_class_is_generated_and_accepted_on_both_backends(construct, examples):
    assert construct in examples, f"600 composed kernels never used {construct}"
    source, name = examples[construct].split("\x00")
    for backend in ("cpu", "cuda"):
        ir = codegen.emit(source, name, backend)
        assert f"_{backend}_kernel_forward(" in ir.forward


WIDE_CAST_THEN_USE = """import warp as wp
GAIN = wp.constant(1.5)
@wp.kernel
def k(a: wp.array(dtype=float), b: wp.array(dtype=wp.float64)):
    b[0] = {cast}
    a[0] = GAIN * a[0]
"""


def test_warp_retypes_a_constant_cast_to_64_bits_so_the_synthesizer_never_writes_that():
    """Warp 1.19: after ``wp.float64(GAIN)`` every later ``GAIN`` in the function is float64.

    That refused about 5 in 100,000 composed kernels ("Input types must be the same"); the
    synthesizer now casts a literal instead of a bare constant to wp.float64/int64/uint64.
    """
    with pytest.raises(codegen.KernelRejected, match="Input types must be the same"):
        codegen.emit(WIDE_CAST_THEN_USE.format(cast="wp.float64(GAIN)"), "k", "cpu")
    codegen.emit(WIDE_CAST_THEN_USE.format(cast="wp.float64(-GAIN)"), "k", "cpu")   # only the bare name

    from warp_ir_pairs_generator.synth.builder import Scope, Var
    from warp_ir_pairs_generator.synth.catalog import Signature
    from warp_ir_pairs_generator.synth.expressions import ExprGen

    scope = Scope()
    scope.add(Var("GAIN", "wp.float32", mutable=False, constant=True))
    scope.add(Var("x", "wp.float32", mutable=False))
    gen = ExprGen(random.Random(0), scope, leaf_prob=1.0)
    wide = Signature("wp.float64", ("wp.float32",), "wp.float64", group="conversion")
    narrow = Signature("wp.float16", ("wp.float32",), "wp.float16", group="conversion")
    wide_casts = {gen.call(wide, 1) for _ in range(200)}
    assert "wp.float64(GAIN)" not in wide_casts and "wp.float64(x)" in wide_casts
    assert "wp.float16(GAIN)" in {gen.call(narrow, 1) for _ in range(200)}   # narrow casts are fine


