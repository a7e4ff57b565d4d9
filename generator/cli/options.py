"""The generation flags every generating command shares, built from ``options.OVERRIDES``."""

from __future__ import annotations

import argparse

from ..options import OVERRIDES, GenerationOptions


def add_generation_options(p: argparse.ArgumentParser) -> None:
    """One flag per declared override (and ``--num-proc``); a flag left out keeps its default."""
    for override in OVERRIDES.values():
        if override.type is bool:
            # A switch to the non-default value; None when not given, so the default stays the declaration's.
            p.add_argument(override.flag, dest=override.name, action="store_const", const=not override.default,
                           default=None, help=override.help)
        else:
            p.add_argument(override.flag, dest=override.name, type=override.type, choices=override.choices,
                           default=None, help=override.help)
    p.add_argument("--num-proc", type=int, default=1, help="worker processes (default 1)")


def generation_options(config: str, args: argparse.Namespace) -> GenerationOptions:
    """Validated options for ``config`` with the flags given on the command line applied."""
    given = {name: getattr(args, name) for name in OVERRIDES if getattr(args, name, None) is not None}
    return GenerationOptions.from_config(config, **given)


def check_num_proc(args: argparse.Namespace) -> None:
    if getattr(args, "num_proc", 1) < 1:
        raise ValueError(f"--num-proc must be >= 1, got {args.num_proc}")
