"""Overrides reach the records."""

from __future__ import annotations

from warp_ir_pairs_generator import driver
from warp_ir_pairs_generator.options import GenerationOptions


def test_complexity_override_is_recorded():
    options = GenerationOptions.from_config("cpu-tiny", complexity=4)
    assert {driver.make_record(options, i)["complexity"] for i in range(6)} == {4}
    mixed = GenerationOptions.from_config("cpu-tiny")
    assert len({driver.make_record(mixed, i)["complexity"] for i in range(30)}) >= 3
