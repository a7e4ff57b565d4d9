"""Verify levels: how far each record is checked by the real toolchain, as an ordered registry.

``LEVELS`` is ordered and each level includes the ones before it (``up_to``). A level is one
file here that defines ``LEVEL`` (a ``verify.level.Level``: name, record fields, card sentence,
batch size, check) plus its module name in ``LEVEL_MODULES``: the ``verify`` option's choices,
the record schema's ``verify`` enum, the card's sentences, the driver's checks and batches and
the record's level fields all come from here (docs/adding-a-verify-level.md).
Importing this package loads no Warp: checks import the toolchain when they run.
"""

from __future__ import annotations

import importlib

from .level import Level

# The registry, in order. A new level: a file in this folder and its module name here.
LEVEL_MODULES = ("codegen", "compile", "execute")
LEVELS: tuple[Level, ...] = tuple(importlib.import_module(f"{__name__}.{name}").LEVEL for name in LEVEL_MODULES)


def names(levels: tuple[Level, ...] | None = None) -> tuple[str, ...]:
    """The level names, in order (of ``levels``, default the registry as it is at call time)."""
    return tuple(level.name for level in (LEVELS if levels is None else levels))


def up_to(name: str, levels: tuple[Level, ...] | None = None) -> tuple[Level, ...]:
    """The levels a record verified at ``name`` passes: every level up to and including it."""
    levels = LEVELS if levels is None else levels
    for at, level in enumerate(levels):
        if level.name == name:
            return levels[: at + 1]
    raise ValueError(f"unknown verify level {name!r}; valid levels: {', '.join(names(levels))}")
