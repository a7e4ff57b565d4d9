"""Worker processes that never outlive the ``generate`` that started them.

A ``ProcessPoolExecutor``'s workers are ordinary children: when the parent is killed (SIGKILL,
or SIGTERM with no handler) they stay, idle for good (~210 MB each). Each worker here asks the
kernel to SIGKILL it when its parent dies (``prctl(PR_SET_PDEATHSIG)``, Linux), and ignores
Ctrl-C, which is the parent's to handle; a parent that stops early (an interrupt, an error) kills
its workers itself instead of waiting for their units to finish.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

_PR_SET_PDEATHSIG = 1   # <linux/prctl.h>

T = TypeVar("T")
R = TypeVar("R")


def die_with_parent(parent: int) -> None:
    """Make this process receive SIGKILL when its parent exits; exit now if it already has."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):   # not Linux: nothing to ask the kernel for
        return
    if os.getppid() != parent:   # the parent died before prctl took effect
        os._exit(1)


def _init_worker(parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent(parent)


def map_in_workers(function: Callable[[T], R], items: list[T], num_proc: int) -> Iterator[R]:
    """``map(function, items)`` in ``num_proc`` processes, results in order; workers die with us."""
    before = set(multiprocessing.active_children())
    pool = ProcessPoolExecutor(num_proc, initializer=_init_worker, initargs=(os.getpid(),))
    try:
        results: Iterable[R] = pool.map(function, items)   # starts the workers
        yield from results
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        for child in set(multiprocessing.active_children()) - before:
            child.kill()   # a unit in progress is abandoned: its marker is missing, resume redoes it
        raise
    pool.shutdown(wait=True)
