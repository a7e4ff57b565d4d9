"""Config names and overrides: what a user may ask for, validated in one place.

A config name is ``{backend}-{tier}`` (``cpu`` / ``cuda`` / ``paired`` alone mean the ``small``
tier). Overrides (``num_examples``, ``seed``, ``verify``...) arrive as keyword arguments of
``load_dataset``; every bad value raises one ``ValueError`` that names the value and the valid
choices.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from . import verify
from .toolchain import constants as toolchain_constants

# Code generator targets; a ``paired`` record holds the same kernel's IR for both; an ``errors``
# record holds a kernel with a realistic mistake and the diagnostic Warp gives for it.
TARGETS: tuple[str, ...] = ("cpu", "cuda")
BACKENDS: tuple[str, ...] = (*TARGETS, "paired", "errors")
TIERS: dict[str, int] = {"tiny": 256, "small": 10_000, "medium": 100_000, "large": 1_000_000}
DEFAULT_TIER = "small"
DEFAULT_SEED = 42
# Records are Warp output: they are only reproducible with this exact Warp (see setup.cfg pin).
WARP_VERSION = "1.19.0"
# The version of the dataset's content: bumped (with a CHANGELOG entry) whenever any record of
# any config changes; tests/golden pins digests of the first records under this version.
DATASET_VERSION = "0.1.0"
MAX_SEED = 2**63 - 1
# Difficulty levels: 1 gives one-liners, 5 long kernels with deep nesting. None (the default)
# mixes them: each record draws its own level, recorded in its ``complexity`` field.
COMPLEXITY_LEVELS = (1, 2, 3, 4, 5)
# How far each record is checked by the real toolchain (each level includes the ones before):
# the names of verify/'s ordered registry.
VERIFY_LEVELS: tuple[str, ...] = verify.names()
# CUDA architectures NVRTC 13.4 (bundled with Warp 1.19) compiles PTX for, and the default.
PTX_ARCHS: tuple[int, ...] = toolchain_constants.PTX_ARCHS
DEFAULT_PTX_ARCH: int = toolchain_constants.DEFAULT_PTX_ARCH

# Overrides a user may pass as keyword arguments: the type each must have.
OVERRIDES: dict[str, type] = {"num_examples": int, "seed": int, "complexity": int, "backward": bool,
                              "verify": str, "ptx_arch": int, "opt_variants": bool}
# With ``opt_variants``, native code is also compiled at this level (why 1: toolchain.constants).
VARIANT_OPT_LEVEL: int = toolchain_constants.VARIANT_OPT_LEVEL
# Overrides that may be None (meaning: the default behaviour).
_NULLABLE = {"complexity"}


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
    if value is None and key in _NULLABLE:
        return
    expected = OVERRIDES[key]
    # bool is an int subclass: True must not pass as a count, nor 1 as a flag.
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        raise ValueError(f"{key} must be {expected.__name__}, got {value!r} ({type(value).__name__})")
    if key == "num_examples" and value < 0:
        raise ValueError(f"num_examples must be >= 0, got {value}")
    if key == "seed" and not 0 <= value <= MAX_SEED:
        raise ValueError(f"seed must be in [0, {MAX_SEED}], got {value}")
    if key == "complexity" and value not in COMPLEXITY_LEVELS:
        raise ValueError(f"complexity must be one of {', '.join(map(str, COMPLEXITY_LEVELS))} "
                         f"(or None for a mix), got {value}")
    if key == "verify" and value not in VERIFY_LEVELS:
        raise ValueError(f"unknown verify level {value!r}; valid levels: {', '.join(VERIFY_LEVELS)}")
    if key == "ptx_arch" and value not in PTX_ARCHS:
        raise ValueError(f"ptx_arch {value} is not an arch NVRTC compiles for; valid: {', '.join(map(str, PTX_ARCHS))}")


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
