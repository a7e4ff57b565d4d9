"""options.OVERRIDES is the one declaration: GenerationOptions, the CLI flags, the card's text and its
reproduce line all follow it, so an override cannot be added (or changed) in one place only."""

from __future__ import annotations

import dataclasses

import pytest
from warp_ir_pairs_generator import cli
from warp_ir_pairs_generator.cli.options import generation_options
from warp_ir_pairs_generator.options import (
    DEFAULT_PTX_ARCH,
    OVERRIDES,
    PTX_ARCHS,
    GenerationOptions,
    describe,
    reproduce_argv,
)

# A valid value other than the default, for every override (a new override must be added here).
NON_DEFAULT = {"num_examples": 6, "seed": 7, "complexity": 3, "backward": False, "verify": "compile",
               "ptx_arch": next(a for a in PTX_ARCHS if a != DEFAULT_PTX_ARCH), "opt_variants": True}


def _defaults(backend: str = "cuda") -> dict:
    return {"backend": backend, **{name: o.default for name, o in OVERRIDES.items()}, "num_examples": 40}


def test_every_override_has_a_non_default_value_here():
    assert set(NON_DEFAULT) == set(OVERRIDES)


def test_generation_options_fields_are_the_declared_overrides_in_order():
    fields = dataclasses.fields(GenerationOptions)
    assert [f.name for f in fields] == ["backend", *OVERRIDES]
    for f in fields[2:]:   # backend and num_examples have no default: the config name gives them
        assert f.default == OVERRIDES[f.name].default, f.name


def test_cli_flags_are_spelled_from_the_names():
    assert [o.flag for o in OVERRIDES.values()] == ["--num-examples", "--seed", "--complexity", "--no-backward",
                                                    "--verify", "--ptx-arch", "--opt-variants"]


@pytest.mark.parametrize("command", [["generate", "--out", "DIR"], ["stats"], ["show"], ["eval", "p", "--config"]])
def test_every_generating_command_takes_every_override(command):
    argv = [*command, "cuda-tiny"]
    for name, value in NON_DEFAULT.items():
        argv += OVERRIDES[name].argv(value)
    args = cli.parser().parse_args(argv)
    config = args.config if command[0] == "eval" else (args.configs[0] if command[0] == "generate" else args.target)
    assert dataclasses.asdict(generation_options(config, args)) == {"backend": "cuda", **NON_DEFAULT}


def test_flags_left_out_keep_the_declared_defaults():
    args = cli.parser().parse_args(["stats", "cpu-tiny"])
    assert generation_options("cpu-tiny", args) == GenerationOptions.from_config("cpu-tiny")


@pytest.mark.parametrize("name", list(OVERRIDES))
def test_the_reproduce_argv_of_a_non_default_option_asks_for_it(name):
    options = {**_defaults(), name: NON_DEFAULT[name]}
    args = cli.parser().parse_args(["generate", "cuda-tiny", "--out", "DIR", *reproduce_argv(options)])
    assert dataclasses.asdict(generation_options("cuda-tiny", args)) == options


@pytest.mark.parametrize("name", list(OVERRIDES))
def test_the_card_names_every_non_default_option(name):
    assert describe({**_defaults(), name: NON_DEFAULT[name]}) != describe(_defaults())


def test_the_card_text_and_reproduce_line_read_as_before():
    cpu = _defaults("cpu")
    assert describe(cpu) == ["seed 42", "num_examples 40", "complexity mixed (drawn per record)", "backward on",
                             "verify `codegen`"]
    assert describe({**_defaults("paired"), "ptx_arch": 86, "num_examples": 1234})[-1] == "ptx_arch 86"
    assert describe({**_defaults("paired"), "num_examples": 1234})[1] == "num_examples 1,234"
    assert reproduce_argv(cpu) == ["--seed", "42", "--num-examples", "40", "--verify", "codegen"]
    assert reproduce_argv({**cpu, "complexity": 2, "backward": False}) == [
        "--seed", "42", "--num-examples", "40", "--verify", "codegen", "--complexity", "2", "--no-backward"]


def test_a_manifest_without_newer_options_reads_as_their_defaults():
    old = {"backend": "cpu", "seed": 1, "num_examples": 3, "verify": "codegen"}
    assert describe(old) == ["seed 1", "num_examples 3", "complexity mixed (drawn per record)", "backward on",
                             "verify `codegen`"]
    assert reproduce_argv(old) == ["--seed", "1", "--num-examples", "3", "--verify", "codegen"]


@pytest.mark.parametrize(("overrides", "message"), [
    ({"verify": "run"}, "unknown verify level 'run'; valid levels: codegen, compile, execute"),
    ({"ptx_arch": 91}, "ptx_arch 91 is not an arch NVRTC compiles for; valid: 75, 80"),
    ({"complexity": 6}, "complexity must be one of 1, 2, 3, 4, 5 (or None for a mix), got 6"),
    ({"backward": 1}, "backward must be bool, got 1 (int)"),
    ({"seed": 2**63}, f"seed must be in [0, {2**63 - 1}], got {2**63}"),
    ({"nope": 1}, "unknown option 'nope'; valid options: num_examples, seed, complexity, backward, verify, "
                  "ptx_arch, opt_variants"),
])
def test_error_messages_are_the_declared_ones(overrides, message):
    with pytest.raises(ValueError) as info:
        GenerationOptions.from_config("cpu-tiny", **overrides)
    assert str(info.value).startswith(message)


def test_for_tier_gives_the_tier_count_and_names_bad_backends_and_tiers():
    assert GenerationOptions.for_tier("cuda", "tiny", num_examples=None, seed=3).num_examples == 256
    with pytest.raises(ValueError, match="unknown backend 'rocm'; valid backends: cpu, cuda"):
        GenerationOptions.for_tier("rocm", "tiny")
    with pytest.raises(ValueError, match="unknown tier 'huge'; valid tiers: tiny, small"):
        GenerationOptions.for_tier("cpu", "huge")
