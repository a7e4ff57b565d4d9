"""The builder config's fields are the declared overrides, with the declared defaults."""

from __future__ import annotations

import dataclasses

import datasets
import pytest
from warp_ir_pairs_generator.options import OVERRIDES, GenerationOptions

import warp_ir_pairs


def test_builder_config_fields_are_the_declared_overrides():
    own = [f for f in dataclasses.fields(warp_ir_pairs.WarpIRPairsConfig)
           if f.name not in {g.name for g in dataclasses.fields(datasets.BuilderConfig)}]
    assert [f.name for f in own] == ["backend", "tier", *OVERRIDES]
    for f in own[2:]:
        assert f.default == OVERRIDES[f.name].default, f.name


def test_builder_config_options_go_through_the_declaration():
    config = warp_ir_pairs.WarpIRPairsConfig(name="x", backend="cuda", tier="tiny", seed=5, opt_variants=True)
    assert config.generation_options() == GenerationOptions.from_config("cuda-tiny", seed=5, opt_variants=True)
    with pytest.raises(ValueError, match="unknown tier 'huge'"):
        warp_ir_pairs.WarpIRPairsConfig(name="x", tier="huge").generation_options()
