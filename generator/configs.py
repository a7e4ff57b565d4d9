"""Config names and overrides: what a user may ask for, validated in one place.

A config name is ``{backend}-{tier}`` (``cpu`` / ``cuda`` alone mean the ``small`` tier).
Overrides (``num_examples``, ``seed``, ...) arrive as keyword arguments of ``load_dataset``;
every bad value raises one ``ValueError`` that names the value and the valid choices.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

BACKENDS: tuple[str, ...] = ("cpu", "cuda")
TIERS: dict[str, int] = {"tiny": 256, "small": 10_000, "medium": 100_000, "large": 1_000_000}
DEFAULT_TIER = "small"
DEFAULT_SEED = 42
# Records are Warp output: they are only reproducible with this exact Warp (see setup.cfg pin).
WARP_VERSION = "1.19.0"
MAX_SEED = 2**63 - 1

# Overrides a user may pass as keyword arguments, and the type each must have.
OVERRIDES: dict[str, type] = {"num_examples": int, "seed": int, "complexity": int}
# Difficulty levels: 1 gives one-liners, 5 long kernels with deep nesting. None (the default)
# mixes them: each record draws its own level, recorded in its ``complexity`` field.
COMPLEXITY_LEVELS = (1, 2, 3, 4, 5)


def config_names() -> list[str]:
    """Every valid config name, in a stable order (bare backend names first)."""
    names = list(BACKENDS)
    names += [f"{backend}-{tier}" for backend in BACKENDS for tier in TIERS]
    return names


def parse_config_name(name: str) -> tuple[str, str]:
    """Split a config name into (backend, tier); raise ValueError naming the valid names."""
    if not isinstance(name, str):
        raise ValueError(f"config name must be a string, got {name!r}; valid names: {', '.join(config_names())}")
    backend, _, tier = name.partition("-")
    tier = tier or DEFAULT_TIER
    if backend not in BACKENDS or tier not in TIERS:
        raise ValueError(f"unknown config {name!r}; valid names: {', '.join(config_names())}")
    return backend, tier


def check_override(key: str, value: object) -> None:
    """Raise ValueError when ``key`` is not an override or ``value`` is not valid for it."""
    if key not in OVERRIDES:
        raise ValueError(f"unknown option {key!r}; valid options: {', '.join(OVERRIDES)}")
    if key == "complexity" and value is None:
        return
    expected = OVERRIDES[key]
    # bool is an int subclass: True must not pass as a count.
    if not isinstance(value, expected) or isinstance(value, bool):
        raise ValueError(f"{key} must be {expected.__name__}, got {value!r} ({type(value).__name__})")
    if key == "num_examples" and value < 0:
        raise ValueError(f"num_examples must be >= 0, got {value}")
    if key == "seed" and not 0 <= value <= MAX_SEED:
        raise ValueError(f"seed must be in [0, {MAX_SEED}], got {value}")
    if key == "complexity" and value not in COMPLEXITY_LEVELS:
        raise ValueError(f"complexity must be one of {', '.join(map(str, COMPLEXITY_LEVELS))} "
                         f"(or None for a mix), got {value}")


@dataclass(frozen=True)
class GenerationOptions:
    """Everything a record depends on apart from its index (the tier only sets the count)."""

    backend: str
    num_examples: int
    seed: int = DEFAULT_SEED
    complexity: int | None = None

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f"unknown backend {self.backend!r}; valid backends: {', '.join(BACKENDS)}")
        for key in OVERRIDES:
            check_override(key, getattr(self, key))

    @classmethod
    def from_config(cls, name: str, **overrides: object) -> GenerationOptions:
        """Options for config ``name`` with keyword overrides applied and validated."""
        backend, tier = parse_config_name(name)
        for key, value in overrides.items():
            check_override(key, value)
        values = {"num_examples": TIERS[tier], "seed": DEFAULT_SEED}
        values.update(overrides)
        return cls(backend=backend, **values)

    def content_options(self) -> dict[str, object]:
        """The options that change a record's content (not how many records there are)."""
        values = asdict(self)
        values.pop("num_examples")
        return values
