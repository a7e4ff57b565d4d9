"""Command line: ``warp-ir-pairs`` / ``python -m warp_ir_pairs``.

Errors are one line on stderr and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys

from . import stats as stats_mod
from .configs import GenerationOptions


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="warp-ir-pairs", description="Warp Python → IR pairs: generate and inspect.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("stats", help="generate a config and report its corpus statistics",
                       description="Generate every record of CONFIG and report categories, distinct structures, "
                                   "builtins, types, constructs, length percentiles and rejections.")
    p.add_argument("config", help="config name, e.g. cpu-small or cuda-tiny")
    p.add_argument("--num-examples", type=int, default=None, help="override the tier's record count")
    p.add_argument("--seed", type=int, default=None, help="generation seed (default 42)")
    p.add_argument("--complexity", type=int, default=None, help="fix the complexity level 1..5 (default: mixed)")
    p.add_argument("--num-proc", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    return parser


def _options(args: argparse.Namespace) -> GenerationOptions:
    overrides = {k: v for k, v in (("num_examples", args.num_examples), ("seed", args.seed),
                                   ("complexity", args.complexity)) if v is not None}
    return GenerationOptions.from_config(args.config, **overrides)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "stats":
            if args.num_proc < 1:
                raise ValueError(f"--num-proc must be >= 1, got {args.num_proc}")
            options = _options(args)
            result = stats_mod.collect(options, args.num_proc, progress=sys.stderr.isatty())
            figures = result.figures()
            print(json.dumps(figures, indent=2) if args.json else stats_mod.format_report(args.config, figures))
        return 0
    except (ValueError, RuntimeError, OSError) as e:
        print(f"warp-ir-pairs: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
