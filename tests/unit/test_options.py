"""Config names and overrides: every valid name works, every bad value is one clear ValueError."""

from __future__ import annotations

import pytest
from warp_ir_pairs_generator.options import TIERS, GenerationOptions, config_names, parse_config_name


def test_every_backend_and_tier_is_a_config():
    names = set(config_names())
    assert {f"{b}-{t}" for b in ("cpu", "cuda") for t in ("tiny", "small", "medium", "large")} <= names
    assert {"cpu", "cuda"} <= names


@pytest.mark.parametrize("name", config_names())
def test_each_config_name_resolves_to_its_backend_and_count(name):
    options = GenerationOptions.from_config(name)
    backend, _, tier = name.partition("-")
    assert options.backend == backend
    assert options.num_examples == TIERS[tier or "small"]
    assert options.seed == 42


def test_bare_backend_means_small():
    assert parse_config_name("cuda") == ("cuda", "small")
    assert GenerationOptions.from_config("cpu").num_examples == 10_000


def test_overrides_apply():
    options = GenerationOptions.from_config("cpu-tiny", num_examples=7, seed=3)
    assert (options.num_examples, options.seed) == (7, 3)


@pytest.mark.parametrize(
    ("name", "overrides", "needle"),
    [
        ("cpu-huge", {}, "'cpu-huge'"),
        ("rocm-tiny", {}, "'rocm-tiny'"),
        ("cpu-tiny", {"num_examples": -1}, "num_examples must be >= 0, got -1"),
        ("cpu-tiny", {"num_examples": "10"}, "num_examples must be int, got '10'"),
        ("cpu-tiny", {"num_examples": True}, "num_examples must be int, got True"),
        ("cpu-tiny", {"seed": 1.5}, "seed must be int, got 1.5"),
        ("cpu-tiny", {"seed": -3}, "seed must be in"),
        ("cpu-tiny", {"num_exampels": 3}, "unknown option 'num_exampels'"),
    ],
)
def test_bad_config_or_override_is_one_value_error(name, overrides, needle):
    with pytest.raises(ValueError) as info:
        GenerationOptions.from_config(name, **overrides)
    message = str(info.value)
    assert needle in message
    assert "\n" not in message
    if "unknown config" in message:
        assert "cpu-tiny" in message and "cuda-large" in message  # lists the valid choices
    if "unknown option" in message:
        assert "num_examples" in message and "seed" in message


def test_unknown_backend_names_the_choices():
    with pytest.raises(ValueError, match=r"unknown backend 'rocm'; valid backends: cpu, cuda"):
        GenerationOptions(backend="rocm", num_examples=1)


@pytest.mark.parametrize("bad", [0, 6, "3", 2.0])
def test_complexity_override_is_validated(bad):
    with pytest.raises(ValueError, match="complexity must be"):
        GenerationOptions.from_config("cpu-tiny", complexity=bad)
