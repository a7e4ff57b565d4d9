"""Inspection commands: ``stats`` and ``show``, of a release folder or of a config generated on the fly."""

from __future__ import annotations

import argparse
import json
import sys

from ..corpus import stats as stats_mod
from ..release import manifest as manifests
from .options import add_generation_options, generation_options


def add_stats(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("stats", help="corpus statistics of a release folder or a config",
                       description="Report categories, distinct structures, builtins, types, constructs, length "
                                   "percentiles and rejections, for a release folder DIR or by generating CONFIG.")
    p.add_argument("target", metavar="DIR|CONFIG")
    p.add_argument("--config", default=None, help="with DIR: which config (default: all)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    add_generation_options(p)
    p.set_defaults(run=cmd_stats)


def add_show(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("show", help="print one pair: Python and IR side by side",
                       description="Show record INDEX of a release folder DIR (with --config) or of CONFIG.")
    p.add_argument("target", metavar="DIR|CONFIG")
    p.add_argument("--index", type=int, default=0, help="record index (default 0)")
    p.add_argument("--config", default=None, help="with DIR: which config (default: the first)")
    p.add_argument("--field", default="ir_code", help="IR field to show (default ir_code; e.g. ptx, asm)")
    add_generation_options(p)
    p.set_defaults(run=cmd_show)


def cmd_stats(args: argparse.Namespace) -> None:
    if manifests.exists(args.target):
        result = stats_mod.from_release(args.target, args.config)
    else:
        result = stats_mod.collect(generation_options(args.target, args), args.num_proc, progress=sys.stderr.isatty())
    figures = result.figures()
    print(json.dumps(figures, indent=2) if args.json else stats_mod.format_report(args.target, figures))


def cmd_show(args: argparse.Namespace) -> None:
    from ..corpus import show

    if manifests.exists(args.target):
        record = show.record_from_release(args.target, args.config, args.index)
    else:
        from .. import driver

        if args.index < 0:
            raise ValueError(f"--index must be >= 0, got {args.index}")
        options = generation_options(args.target, args)
        if args.index >= options.num_examples:
            raise ValueError(f"--index {args.index} is out of range: {args.target} has {options.num_examples} records")
        record = driver.make_record(options, args.index)
    show.print_pair(record, args.field)
