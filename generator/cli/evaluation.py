"""The ``eval`` command: score predicted IR against the records it was predicted for."""

from __future__ import annotations

import argparse
import json
import re

from .options import add_generation_options, generation_options

# A record id's index as the record spells it: ASCII digits, no leading zero (`cpu-42-01` and
# `cpu-42-١` are not `cpu-42-1`: int() would accept both).
_INDEX = re.compile(r"(?:0|[1-9][0-9]*)\Z", re.ASCII)


def add_eval(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="score predicted IR: exact match, compiles, behaves",
                       description="Score PREDICTIONS (JSON lines {\"id\": ..., \"ir_code\": ...}) against the "
                                   "records of CONFIG with those ids: exact match after normalization, compiles "
                                   "with Warp's toolchain, behaves like the recorded example_io (needs --verify "
                                   "execute records). Prints per-category rates per rung.")
    p.add_argument("predictions", metavar="PREDICTIONS")
    p.add_argument("--config", required=True, help="the config the predictions were made for, e.g. cpu-small")
    p.add_argument("--rungs", default="exact,compiles,behaves", help="comma-separated rungs to score")
    p.add_argument("--json", action="store_true", help="print the whole report as JSON")
    p.add_argument("--no-sandbox", dest="sandbox", action="store_false",
                   help="compile and run predictions WITHOUT the bubblewrap sandbox, with your privileges "
                        "(at your own risk; the report says so)")
    add_generation_options(p)
    p.set_defaults(run=cmd_eval)


def cmd_eval(args: argparse.Namespace) -> None:
    from .. import driver, evaluate

    predictions = evaluate.read_predictions(args.predictions)
    options = generation_options(args.config, args)
    prefix = f"{options.backend}-{options.seed}-"
    indices = []
    for pid in predictions:
        index = pid[len(prefix):] if pid.startswith(prefix) else ""
        if not _INDEX.match(index) or int(index) >= options.num_examples:
            raise ValueError(f"prediction id {pid!r} is not a record of {args.config} "
                             f"(ids look like {prefix}0 .. {prefix}{options.num_examples - 1})")
        indices.append(int(index))
    records = [driver.make_record(options, i) for i in sorted(indices)]
    rungs = [r for r in args.rungs.split(",") if r]
    unknown = set(rungs) - set(evaluate.RUNGS)
    if unknown:
        raise ValueError(f"unknown rung(s) {', '.join(sorted(unknown))}; valid: {', '.join(evaluate.RUNGS)}")
    result = evaluate.report(evaluate.score(records, predictions, rungs=rungs, workers=args.num_proc,
                                            sandbox=args.sandbox))
    result["sandbox"] = args.sandbox
    if args.json:
        print(json.dumps(result, indent=2, sort_keys=True))
        return
    print(f"{result['records']} records of {args.config}")
    print("  sandbox: bubblewrap (predictions compiled and ran confined)" if args.sandbox else
          "  sandbox: OFF (--no-sandbox): predictions compiled and ran unconfined, with your privileges")
    for rung, tally in result["overall"].items():
        rate = "n/a" if tally["rate"] is None else f"{tally['rate']:.3f}"
        print(f"  {rung:9} {rate:>6}  ({tally['passed']} passed, {tally['failed']} failed, "
              f"{tally['not_applicable']} not applicable)")
    for category, row in sorted(result["per_category"].items()):
        rates = ", ".join(f"{r} {'n/a' if row[r]['rate'] is None else format(row[r]['rate'], '.2f')}"
                          for r in evaluate.RUNGS if r in row)
        print(f"    {category:20} {row['records']:4d}  {rates}")
