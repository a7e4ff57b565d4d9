"""Config names and overrides: what a user may ask for, validated in one place.

A config name is ``{backend}-{tier}`` (``cpu`` / ``cuda`` / ``paired`` alone mean the ``small``
tier). Overrides (``num_examples``, ``seed``, ``verify``...) arrive as keyword arguments of
``load_dataset``; every bad value raises one ``ValueError`` that names the value and the valid
choices.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from . import verify
from .toolchain import constants as toolchain_constants

# Code generator targets; a ``paired`` record holds the same kernel's IR for both; an ``errors``
# record holds a kernel with a realistic mistake and the diagnostic Warp gives for it.
TARGETS: tuple[str, ...] = ("cpu", "cuda")
BACKENDS: tuple[str, ...] = (*TARGETS, "paired", "errors")
TIERS: dict[str, int] = {"tiny": 256, "small": 10_000, "medium": 100_000, "large": 1_000_000}
DEFAULT_TIER = "small"
DEFAULT_SEED = 42
# Records are Warp output: they are only reproducible with the Warp the toolchain pins.
WARP_VERSION: str = toolchain_constants.WARP_VERSION
# The version of the dataset's content: bumped (with a CHANGELOG entry) whenever any record of
# any config changes; tests/golden pins digests of the first records under this version.
DATASET_VERSION = "0.1.0"
MAX_SEED = 2**63 - 1
# The most records one config may ask for: ten times the large tier. Every driver plans its
# shards up front (a list of index ranges, also when streaming), so an unbounded count grew
# memory until MemoryError; 10M records of a few kB each is already tens of GB of data.
MAX_NUM_EXAMPLES = 10 * TIERS["large"]
# Difficulty levels: 1 gives one-liners, 5 long kernels with deep nesting. None (the default)
# mixes them: each record draws its own level, recorded in its ``complexity`` field.
COMPLEXITY_LEVELS = (1, 2, 3, 4, 5)
# How far each record is checked by the real toolchain (each level includes the ones before):
# the names of verify/'s ordered registry.
VERIFY_LEVELS: tuple[str, ...] = verify.names()
# CUDA architectures NVRTC 13.4 (bundled with Warp 1.19) compiles PTX for, and the default.
PTX_ARCHS: tuple[int, ...] = toolchain_constants.PTX_ARCHS
DEFAULT_PTX_ARCH: int = toolchain_constants.DEFAULT_PTX_ARCH



@dataclass(frozen=True)
class Override:
    """One override, declared once: the builder config, GenerationOptions, the CLI flags, the card's
    option text and its reproduce line all come from (or are tested against) this entry."""

    name: str
    type: type
    default: Any                # num_examples: None, meaning the tier's count
    help: str                   # the CLI flag's help
    describe: Callable[[Any, str], str | None]   # the card's words for (value, backend); None: say nothing
    check: Callable[[Any], str | None] = lambda value: None   # the one-line error for a bad value, or None
    nullable: bool = False      # None is valid and means the default behaviour
    choices: tuple | None = None   # the CLI offers exactly these
    pinned: bool = False        # the reproduce line spells it even at its default

    @property
    def flag(self) -> str:
        """The CLI flag: ``--num-examples``; a flag that is on by default is turned off by ``--no-...``."""
        spelled = self.name.replace("_", "-")
        return f"--no-{spelled}" if self.type is bool and self.default is True else f"--{spelled}"

    def argv(self, value: object) -> list[str]:
        """The CLI words that ask for ``value`` (none for a value the CLI gives without being asked)."""
        if self.type is bool:
            return [self.flag] if value != self.default else []
        if value is None or (value == self.default and not self.pinned):
            return []
        return [self.flag, str(value)]


def _check_num_examples(value: int) -> str | None:
    if value < 0:
        return f"num_examples must be >= 0, got {value}"
    if value > MAX_NUM_EXAMPLES:
        return f"num_examples must be at most {MAX_NUM_EXAMPLES:,} (ten times the large tier), got {value:,}"
    return None


def _check_seed(value: int) -> str | None:
    return None if 0 <= value <= MAX_SEED else f"seed must be in [0, {MAX_SEED}], got {value}"


def _check_complexity(value: int) -> str | None:
    if value in COMPLEXITY_LEVELS:
        return None
    return f"complexity must be one of {', '.join(map(str, COMPLEXITY_LEVELS))} (or None for a mix), got {value}"


def _check_verify(value: str) -> str | None:
    if value in VERIFY_LEVELS:
        return None
    return f"unknown verify level {value!r}; valid levels: {', '.join(VERIFY_LEVELS)}"


def _check_ptx_arch(value: int) -> str | None:
    if value in PTX_ARCHS:
        return None
    return f"ptx_arch {value} is not an arch NVRTC compiles for; valid: {', '.join(map(str, PTX_ARCHS))}"


# Overrides a user may pass as keyword arguments (``load_dataset``), CLI flags or GenerationOptions
# fields; this order is the one error messages, ``--help`` and GenerationOptions' fields use.
OVERRIDES: dict[str, Override] = {o.name: o for o in (
    Override("num_examples", int, None, f"override the tier's record count (at most {MAX_NUM_EXAMPLES:,})",
             lambda v, backend: f"num_examples {v:,}", _check_num_examples, pinned=True),
    Override("seed", int, DEFAULT_SEED, f"generation seed (default {DEFAULT_SEED})",
             lambda v, backend: f"seed {v}", _check_seed, pinned=True),
    Override("complexity", int, None, "fix the complexity level 1..5 (default: mixed)",
             lambda v, backend: f"complexity {v if v is not None else 'mixed (drawn per record)'}",
             _check_complexity, nullable=True),
    Override("backward", bool, True, "leave ir_backward empty",
             lambda v, backend: f"backward {'on' if v else 'off'}"),
    Override("verify", str, "codegen", "verification level (default codegen)",
             lambda v, backend: f"verify `{v}`", _check_verify, choices=VERIFY_LEVELS, pinned=True),
    Override("ptx_arch", int, DEFAULT_PTX_ARCH, f"sm_ arch of the PTX at --verify compile (default {DEFAULT_PTX_ARCH})",
             # The PTX arch has no effect on cpu records.
             lambda v, backend: None if backend == "cpu" else f"ptx_arch {v}", _check_ptx_arch),
    Override("opt_variants", bool, False, "also record mode=debug IR and, at --verify compile, native code at -O1",
             lambda v, backend: "opt_variants on" if v else None),
)}
# With ``opt_variants``, native code is also compiled at this level (why 1: toolchain.constants).
VARIANT_OPT_LEVEL: int = toolchain_constants.VARIANT_OPT_LEVEL
# The card's option text and the reproduce line name the seed first: a record is drawn from
# (config, seed, index), and the count follows.
_DESCRIBED = sorted(OVERRIDES.values(), key=lambda o: o.name != "seed")


def config_names() -> list[str]:
    """Every valid config name, in a stable order (bare backend names first)."""
    return [*BACKENDS, *(f"{backend}-{tier}" for backend in BACKENDS for tier in TIERS)]


def parse_config_name(name: str) -> tuple[str, str]:
    """Split a config name into (backend, tier); raise ValueError naming the valid names."""
    valid = ", ".join(config_names())
    if not isinstance(name, str):
        raise ValueError(f"config name must be a string, got {name!r}; valid names: {valid}")
    backend, _, tier = name.partition("-")
    tier = tier or DEFAULT_TIER
    if backend not in BACKENDS or tier not in TIERS:
        raise ValueError(f"unknown config {name!r}; valid names: {valid}")
    return backend, tier


def check_override(key: str, value: object) -> None:
    """Raise ValueError when ``key`` is not an override or ``value`` is not valid for it."""
    if key not in OVERRIDES:
        raise ValueError(f"unknown option {key!r}; valid options: {', '.join(OVERRIDES)}")
    override = OVERRIDES[key]
    if value is None and override.nullable:
        return
    expected = override.type
    # bool is an int subclass: True must not pass as a count, nor 1 as a flag.
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        raise ValueError(f"{key} must be {expected.__name__}, got {value!r} ({type(value).__name__})")
    problem = override.check(value)
    if problem is not None:
        raise ValueError(problem)


def describe(options: Mapping[str, object]) -> list[str]:
    """The card's words for a config's options (a manifest's ``options``), seed first."""
    backend = str(options["backend"])
    phrases = (o.describe(options.get(o.name, o.default), backend) for o in _DESCRIBED)
    return [p for p in phrases if p is not None]


def reproduce_argv(options: Mapping[str, object]) -> list[str]:
    """CLI words that ask for exactly these options: pinned ones always, the rest when not at their default."""
    pinned = [o for o in _DESCRIBED if o.pinned]
    rest = [o for o in OVERRIDES.values() if not o.pinned]
    return [word for o in (*pinned, *rest) for word in o.argv(options.get(o.name, o.default))]


@dataclass(frozen=True)
class GenerationOptions:
    """Everything a record depends on apart from its index (the tier only sets the count)."""

    backend: str
    num_examples: int
    seed: int = DEFAULT_SEED
    complexity: int | None = None
    backward: bool = True
    verify: str = "codegen"
    ptx_arch: int = DEFAULT_PTX_ARCH
    opt_variants: bool = False

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f"unknown backend {self.backend!r}; valid backends: {', '.join(BACKENDS)}")
        for key in OVERRIDES:
            check_override(key, getattr(self, key))
        if self.backend == "errors" and self.verify != "codegen":
            raise ValueError(f"errors configs hold kernels Warp rejects: verify must be codegen, got {self.verify!r}")

    @classmethod
    def for_tier(cls, backend: str, tier: str, **overrides: object) -> GenerationOptions:
        """Options for ``backend`` at ``tier``; ``num_examples=None`` means the tier's count."""
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; valid backends: {', '.join(BACKENDS)}")
        if tier not in TIERS:
            raise ValueError(f"unknown tier {tier!r}; valid tiers: {', '.join(TIERS)}")
        values = {k: v for k, v in overrides.items() if not (k == "num_examples" and v is None)}
        for key, value in values.items():
            check_override(key, value)
        return cls(backend=backend, **{"num_examples": TIERS[tier], **values})

    @classmethod
    def from_config(cls, name: str, **overrides: object) -> GenerationOptions:
        """Options for config ``name`` with keyword overrides applied and validated."""
        backend, tier = parse_config_name(name)
        for key, value in overrides.items():
            check_override(key, value)
        values: dict = {"num_examples": TIERS[tier]}
        values.update(overrides)
        return cls(backend=backend, **values)

    @property
    def targets(self) -> tuple[str, ...]:
        """The code generator targets a record holds IR for."""
        if self.backend == "paired":
            return TARGETS
        return ("cpu",) if self.backend == "errors" else (self.backend,)   # errors: diagnosed on cpu

    def content_options(self) -> dict[str, object]:
        """The options that change a record's content (not how many records there are)."""
        values = asdict(self)
        values.pop("num_examples")
        return values
