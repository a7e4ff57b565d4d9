"""Command line: ``warp-ir-pairs`` (also ``python -m warp_ir_pairs``).

Every command has ``--help``; long work shows ``tqdm`` progress on a terminal; an error is one
line on stderr and exit status 2, never a traceback. Each command lives with its kind: release
(generate, card, verify, push), inspection (stats, show) and evaluation (eval); the generation
flags come from ``options.OVERRIDES`` (cli/options.py).
"""

from __future__ import annotations

import argparse
import os
import sys

from . import evaluation, inspection, release
from .options import check_num_proc


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="warp-ir-pairs",
                                  description="Warp Python → IR pairs: generate, inspect, release.")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (release.add_generate, release.add_card, inspection.add_stats, inspection.add_show,
                evaluation.add_eval, release.add_verify, release.add_push):
        add(sub)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        check_num_proc(args)
        args.run(args)
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
