"""Every reason the sandbox gives for a worker that stopped, spelled one way.

Clients put these strings into their results verbatim (after their own one-line cap), so a
crash reads ``crash: SIGSEGV`` and an overrun ``timeout`` whichever room ran the worker.
"""

from __future__ import annotations

import signal

TIMEOUT = "timeout"
# The worker ended (or the call gave up) without a result for an item it was given.
NO_RESULT = "worker_error: no result"
# How much of the worker's last log line goes into an exit reason: room for a phase suffix.
TAIL_CHARS = 120


def signal_name(signum: int) -> str:
    """``SIGSEGV`` for 11, ``signal 77`` for a number with no name."""
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def crash(signum: int) -> str:
    """A worker killed by a signal: ``crash: SIGSEGV``."""
    return f"crash: {signal_name(signum)}"


def exited(code: int, log_tail: str = "") -> str:
    """A worker that exited on its own before it was done: ``worker_error: exit 3: <log tail>``."""
    tail = " ".join(log_tail.split())[:TAIL_CHARS]
    return f"worker_error: exit {code}" + (f": {tail}" if tail else "")


def cannot_start(error: BaseException) -> str:
    """The worker process could not be created at all."""
    return f"worker_error: cannot start a worker: {error}"


def bad_message(line: bytes) -> str:
    """The worker wrote something on its channel that is not one of its messages."""
    return f"worker_error: bad message {line[:40]!r}"


def in_phase(reason: str, kind: str) -> str:
    """A reason given outside an item's own run names the phase: ``timeout (compile)``."""
    return f"{reason} ({kind})"
