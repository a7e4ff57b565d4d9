"""Splits follow structure: kernels that differ only in names or constants share a split."""

from __future__ import annotations

from collections import Counter, defaultdict

from warp_ir_pairs_generator import driver
from warp_ir_pairs_generator.options import GenerationOptions
from warp_ir_pairs_generator.record.structure import split_of, structure_hash

A = """import warp as wp

@wp.kernel
def scale(a: wp.array(dtype=float), out: wp.array(dtype=float)):
    i = wp.tid()
    x = a[i]
    out[i] = wp.sin(x) * 2.5 + x
"""
RENAMED = A.replace("scale", "blend_all").replace("x", "val").replace("2.5", "0.125").replace("out", "dst")
DIFFERENT_BUILTIN = A.replace("wp.sin", "wp.cos")
DIFFERENT_FLOW = A.replace("wp.sin(x) * 2.5 + x", "wp.sin(x) * 2.5 + i")


def test_names_and_constants_do_not_change_structure():
    assert structure_hash(A) == structure_hash(RENAMED)


def test_builtins_and_data_flow_do_change_structure():
    assert structure_hash(A) != structure_hash(DIFFERENT_BUILTIN)
    assert structure_hash(A) != structure_hash(DIFFERENT_FLOW)


def test_split_is_a_function_of_structure(tiny_records):
    for records in tiny_records.values():
        splits = defaultdict(set)
        for r in records:
            assert r["structure_hash"] == structure_hash(r["python_source"])
            splits[r["structure_hash"]].add(split_of(r["structure_hash"]))
        assert all(len(s) == 1 for s in splits.values())


def test_split_generation_partitions_the_indices():
    options = GenerationOptions.from_config("cpu-tiny", num_examples=60)
    per_split = {s: [r["index"] for r in driver.iter_shard(options, 0, 60, s)]
                 for s in ("train", "validation", "test")}
    all_indices = sorted(i for idx in per_split.values() for i in idx)
    assert all_indices == list(range(60))
    for split, indices in per_split.items():
        for index in indices:
            assert split_of(driver.make_record(options, index)["structure_hash"]) == split


def test_split_shares_are_about_90_5_5():
    counts = Counter(split_of(f"{i * 2654435761 % 2**64:016x}") for i in range(20_000))
    assert 0.88 < counts["train"] / 20_000 < 0.92
    assert 0.04 < counts["validation"] / 20_000 < 0.06


def test_no_duplicate_source_within_a_tier(tiny_records):
    for records in tiny_records.values():
        sources = [r["python_source"] for r in records]
        assert len(set(sources)) == len(sources)


PINNED = ("import warp as wp\n\n@wp.kernel\ndef k(a: wp.array(dtype=float), n: int):\n    i = wp.tid()  # note\n"
          "    x = (a[i] *\n         2.5e-1) + 0x1F\n    if x > 1.0:\n        a[i] = wp.sin(x) + float(n)\n")


def test_the_structure_abstraction_is_pinned():
    """Every record's split depends on it: changing it moves records between splits (a new dataset)."""
    assert structure_hash(PINNED) == "86b9782769fecc39"
