"""Command line: ``warp-ir-pairs`` (also ``python -m warp_ir_pairs``).

Every command has ``--help``; long work shows ``tqdm`` progress on a terminal; an error is one
line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ..corpus import stats as stats_mod
from ..options import VERIFY_LEVELS, GenerationOptions
from ..release import export


def _add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--num-examples", type=int, default=None, help="override the tier's record count")
    p.add_argument("--seed", type=int, default=None, help="generation seed (default 42)")
    p.add_argument("--complexity", type=int, default=None, help="fix the complexity level 1..5 (default: mixed)")
    p.add_argument("--verify", choices=VERIFY_LEVELS, default=None, help="verification level (default codegen)")
    p.add_argument("--ptx-arch", type=int, default=None, help="sm_ arch of the PTX at --verify compile (default 90)")
    p.add_argument("--no-backward", action="store_true", help="leave ir_backward empty")
    p.add_argument("--opt-variants", action="store_true",
                   help="also record mode=debug IR and, at --verify compile, native code at -O1")
    p.add_argument("--num-proc", type=int, default=1, help="worker processes (default 1)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="warp-ir-pairs",
                                     description="Warp Python → IR pairs: generate, inspect, release.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("generate", help="write configs as a release folder (parquet shards, manifest, card)",
                       description="Generate CONFIG(s) into the release folder DIR: {config}/{split}-NNNNN-of-NNNNN"
                                   ".parquet shards, release.json, README.md card and plots. Re-running resumes.")
    p.add_argument("configs", nargs="+", metavar="CONFIG", help="config name(s), e.g. cpu-small cuda-small")
    p.add_argument("--out", required=True, metavar="DIR", help="release folder")
    p.add_argument("--records-per-shard", type=int, default=export.DEFAULT_RECORDS_PER_SHARD,
                   help=f"indices per shard unit (default {export.DEFAULT_RECORDS_PER_SHARD})")
    p.add_argument("--engine", choices=("local", "ray"), default="local",
                   help="where shard units run: here (local) or on the Ray cluster at RAY_ADDRESS")
    p.add_argument("--no-card", action="store_true", help="do not (re)build the card")
    p.add_argument("--repo-id", default=None, help="Hub repo id the card's loading examples name")
    _add_options(p)

    p = sub.add_parser("card", help="(re)build the dataset card and plots of a release folder",
                       description="Rebuild DIR/README.md and DIR/plots/ from the data in DIR.")
    p.add_argument("dir", metavar="DIR")
    p.add_argument("--repo-id", default=None, help="Hub repo id the card's loading examples name")

    p = sub.add_parser("stats", help="corpus statistics of a release folder or a config",
                       description="Report categories, distinct structures, builtins, types, constructs, length "
                                   "percentiles and rejections, for a release folder DIR or by generating CONFIG.")
    p.add_argument("target", metavar="DIR|CONFIG")
    p.add_argument("--config", default=None, help="with DIR: which config (default: all)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    _add_options(p)

    p = sub.add_parser("show", help="print one pair: Python and IR side by side",
                       description="Show record INDEX of a release folder DIR (with --config) or of CONFIG.")
    p.add_argument("target", metavar="DIR|CONFIG")
    p.add_argument("--index", type=int, default=0, help="record index (default 0)")
    p.add_argument("--config", default=None, help="with DIR: which config (default: the first)")
    p.add_argument("--field", default="ir_code", help="IR field to show (default ir_code; e.g. ptx, asm)")
    _add_options(p)

    p = sub.add_parser("eval", help="score predicted IR: exact match, compiles, behaves",
                       description="Score PREDICTIONS (JSON lines {\"id\": ..., \"ir_code\": ...}) against the "
                                   "records of CONFIG with those ids: exact match after normalization, compiles "
                                   "with Warp's toolchain, behaves like the recorded example_io (needs --verify "
                                   "execute records). Prints per-category rates per rung.")
    p.add_argument("predictions", metavar="PREDICTIONS")
    p.add_argument("--config", required=True, help="the config the predictions were made for, e.g. cpu-small")
    p.add_argument("--rungs", default="exact,compiles,behaves", help="comma-separated rungs to score")
    p.add_argument("--json", action="store_true", help="print the whole report as JSON")
    _add_options(p)

    p = sub.add_parser("verify", help="check a release folder against its manifest",
                       description="Check every shard DIR/release.json names: presence, sha256 and row count.")
    p.add_argument("dir", metavar="DIR")

    p = sub.add_parser("push", help="upload a release folder to the Hugging Face Hub (one commit, tagged)",
                       description="Upload DIR to the dataset repo REPO_ID in one commit naming the package and "
                                   "Warp versions, then tag it. The token comes from --token, HF_TOKEN or the "
                                   "huggingface_hub login.")
    p.add_argument("dir", metavar="DIR")
    p.add_argument("repo_id", metavar="REPO_ID")
    p.add_argument("--private", action="store_true", help="create the repo private")
    p.add_argument("--revision", default=None, help="branch to commit to (created when missing)")
    p.add_argument("--token", default=None, help="Hub token (never printed)")
    p.add_argument("--tag", default=None, help="tag name (default v<package_version>)")
    return parser


def _options(config: str, args: argparse.Namespace) -> GenerationOptions:
    overrides = {"num_examples": args.num_examples, "seed": args.seed, "complexity": args.complexity,
                 "verify": args.verify, "ptx_arch": args.ptx_arch}
    values = {k: v for k, v in overrides.items() if v is not None}
    if args.no_backward:
        values["backward"] = False
    if args.opt_variants:
        values["opt_variants"] = True
    return GenerationOptions.from_config(config, **values)


def _check_num_proc(args: argparse.Namespace) -> None:
    if getattr(args, "num_proc", 1) < 1:
        raise ValueError(f"--num-proc must be >= 1, got {args.num_proc}")


def _is_release(target: str) -> bool:
    return (Path(target) / export.MANIFEST).exists()


def cmd_generate(args: argparse.Namespace) -> None:
    runner = None
    if args.engine == "ray":
        from ..release import ray_engine

        runner = ray_engine.runner()
    for config in args.configs:
        options = _options(config, args)
        manifest = export.generate(config, args.out, options, args.records_per_shard, args.num_proc, runner,
                                   progress=sys.stderr.isatty())
        counts = {s: i["num_examples"] for s, i in manifest["configs"][config]["splits"].items()}
        print(f"{config}: {sum(counts.values())} records {counts} -> {args.out}")
    if not args.no_card:
        _build_card(args.out, args.repo_id)


def _build_card(root: str, repo_id: str | None) -> None:
    from warp_ir_pairs_card.build import build_card

    export.read_manifest(root)   # a clear error for a folder that is not a release
    print(f"card: {build_card(root, repo_id)}")


def cmd_stats(args: argparse.Namespace) -> None:
    if _is_release(args.target):
        result = stats_mod.from_release(args.target, args.config)
    else:
        result = stats_mod.collect(_options(args.target, args), args.num_proc, progress=sys.stderr.isatty())
    figures = result.figures()
    print(json.dumps(figures, indent=2) if args.json else stats_mod.format_report(args.target, figures))


def cmd_show(args: argparse.Namespace) -> None:
    from ..corpus import show

    if _is_release(args.target):
        record = show.record_from_release(args.target, args.config, args.index)
    else:
        from .. import driver

        if args.index < 0:
            raise ValueError(f"--index must be >= 0, got {args.index}")
        options = _options(args.target, args)
        if args.index >= options.num_examples:
            raise ValueError(f"--index {args.index} is out of range: {args.target} has {options.num_examples} records")
        record = driver.make_record(options, args.index)
    show.print_pair(record, args.field)


def cmd_eval(args: argparse.Namespace) -> None:
    from .. import driver, evaluate

    predictions = evaluate.read_predictions(args.predictions)
    options = _options(args.config, args)
    prefix = f"{options.backend}-{options.seed}-"
    indices = []
    for pid in predictions:
        index = pid[len(prefix):] if pid.startswith(prefix) else ""
        if not index.isdigit() or int(index) >= options.num_examples:
            raise ValueError(f"prediction id {pid!r} is not a record of {args.config} "
                             f"(ids look like {prefix}0 .. {prefix}{options.num_examples - 1})")
        indices.append(int(index))
    records = [driver.make_record(options, i) for i in sorted(indices)]
    rungs = [r for r in args.rungs.split(",") if r]
    unknown = set(rungs) - set(evaluate.RUNGS)
    if unknown:
        raise ValueError(f"unknown rung(s) {', '.join(sorted(unknown))}; valid: {', '.join(evaluate.RUNGS)}")
    result = evaluate.report(evaluate.score(records, predictions, rungs=rungs, workers=args.num_proc))
    if args.json:
        print(json.dumps(result, indent=2, sort_keys=True))
        return
    print(f"{result['records']} records of {args.config}")
    for rung, tally in result["overall"].items():
        rate = "n/a" if tally["rate"] is None else f"{tally['rate']:.3f}"
        print(f"  {rung:9} {rate:>6}  ({tally['passed']} passed, {tally['failed']} failed, "
              f"{tally['not_applicable']} not applicable)")
    for category, row in sorted(result["per_category"].items()):
        rates = ", ".join(f"{r} {'n/a' if row[r]['rate'] is None else format(row[r]['rate'], '.2f')}"
                          for r in evaluate.RUNGS if r in row)
        print(f"    {category:20} {row['records']:4d}  {rates}")


def cmd_verify(args: argparse.Namespace) -> None:
    problems = export.verify(args.dir)
    if problems:
        raise export.ExportError(f"{len(problems)} problem(s) in {args.dir}: " + "; ".join(problems[:5]))
    manifest = export.read_manifest(args.dir)
    shards = sum(len(i["shards"]) for c in manifest["configs"].values() for i in c["splits"].values())
    print(f"ok: {len(manifest['configs'])} config(s), {shards} shard(s) match {export.MANIFEST}")


def cmd_push(args: argparse.Namespace) -> None:
    from ..release import push

    problems = export.verify(args.dir)
    if problems:
        raise export.ExportError(f"refusing to push: {args.dir} does not verify: {problems[0]}")
    url = push.push_release(args.dir, args.repo_id, token=args.token, private=args.private,
                                    revision=args.revision, tag=args.tag)
    print(f"pushed: {url}")


COMMANDS = {"generate": cmd_generate, "card": lambda a: _build_card(a.dir, a.repo_id), "stats": cmd_stats,
            "show": cmd_show, "verify": cmd_verify, "push": cmd_push, "eval": cmd_eval}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        _check_num_proc(args)
        COMMANDS[args.command](args)
        return 0
    except BrokenPipeError:   # `warp-ir-pairs show ... | head`: the reader left, nothing went wrong
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("warp-ir-pairs: interrupted (complete shards are kept; re-run to resume)", file=sys.stderr)
        return 130
    except Exception as e:   # every failure is one line: the CLI is an interface, not a debugger
        if os.environ.get("WARP_IR_PAIRS_DEBUG"):
            raise
        message = " ".join(str(e).split()) or type(e).__name__
        print(f"warp-ir-pairs: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
