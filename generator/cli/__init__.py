"""Command line: ``warp-ir-pairs`` (also ``python -m warp_ir_pairs``).

Every command has ``--help``; long work shows ``tqdm`` progress on a terminal; an error is one
line on stderr and exit status 2, never a traceback. Each command lives with its kind: release
(generate, card, verify, push), inspection (stats, show) and evaluation (eval); the generation
flags come from ``options.OVERRIDES`` (cli/options.py).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from typing import NoReturn

from . import evaluation, inspection, release
from .options import check_num_proc


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line (``warp-ir-pairs: error: ...``) and exit 2, no usage block.

    Subparsers are made with the parser's own class, so every command gets the same errors.
    """

    def error(self, message: str) -> NoReturn:
        print(f"warp-ir-pairs: error: {' '.join(message.split())} (see `{self.prog} --help`)", file=sys.stderr)
        raise SystemExit(2)


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C: the command stops through its own cleanup and says so."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise Terminated


def parser() -> argparse.ArgumentParser:
    top = OneLineParser(prog="warp-ir-pairs", description="Warp Python → IR pairs: generate, inspect, release.")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (release.add_generate, release.add_card, inspection.add_stats, inspection.add_show,
                evaluation.add_eval, release.add_verify, release.add_push):
        add(sub)
    return top


def main(argv: list[str] | None = None) -> int:
    try:
        args = parser().parse_args(argv)
    except SystemExit as e:   # --help (0) or a bad argument (2, already printed in one line)
        return e.code if isinstance(e.code, int) else 2
    try:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
        restore = True
    except ValueError:   # not the main thread: leave signals alone
        previous, restore = None, False
    try:
        check_num_proc(args)
        args.run(args)
        return 0
    except BrokenPipeError:   # `warp-ir-pairs show ... | head`: the reader left, nothing went wrong
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt as e:
        print(f"warp-ir-pairs: {getattr(args, 'interrupted', 'interrupted')}", file=sys.stderr)
        return 143 if isinstance(e, Terminated) else 130
    except Exception as e:   # every failure is one line: the CLI is an interface, not a debugger
        if os.environ.get("WARP_IR_PAIRS_DEBUG"):
            raise
        message = " ".join(str(e).split()) or type(e).__name__
        print(f"warp-ir-pairs: error: {message}", file=sys.stderr)
        return 2
    finally:
        if restore:
            signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


if __name__ == "__main__":
    raise SystemExit(main())
