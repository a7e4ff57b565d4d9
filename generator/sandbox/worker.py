"""The worker's side of the sandbox: its channel to the supervisor, and files shared across workers.

A worker is started as ``python -c <command> JOB FD REQUEST``: it reads its work from the
REQUEST file (JSON), keeps scratch files under JOB and reports JSON lines on the inherited
pipe FD. Before entering a phase that could crash or hang (a compile, a run) it announces it
with ``enter``, so that when it dies there the supervisor knows which items to blame.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Iterable
from typing import Any


class WorkerChannel:
    """Messages from a worker to its supervisor: ready, enter a phase, a result, end."""

    def __init__(self, argv: list[str] | None = None) -> None:
        argv = sys.argv if argv is None else argv
        self.job, fd, self.request = argv[1], int(argv[2]), argv[3]
        self._channel = os.fdopen(fd, "w", encoding="utf-8")
        tempfile.tempdir = None          # honour the TMPDIR the supervisor set

    def ready(self) -> None:
        """Start-up is over; the next message enters a phase or gives a result."""
        self._send(ready=os.getpid())

    def enter(self, kind: str, items: Iterable[int], **extra: Any) -> None:
        """About to enter phase ``kind`` on ``items``: a death or overrun from now on is theirs."""
        self._send(phase=kind, items=list(items), **extra)

    def result(self, **payload: Any) -> None:
        """A result for the client; the worker is between phases again."""
        self._send(result=payload)

    def work(self) -> Any:
        with open(self.request, encoding="utf-8") as f:
            return json.load(f)

    def close(self) -> None:
        self._send(end=True)
        self._channel.close()

    def _send(self, **msg: Any) -> None:
        self._channel.write(json.dumps(msg) + "\n")
        self._channel.flush()


class PchSeed:
    """Share an expensive per-process file (a clang precompiled header, 1.3 s to build) with
    later workers of the same call.

    The file lives in a per-process directory ``pch_dir``; a hard link in the call's
    ``seed_dir`` outlives the worker, and the next worker links it into its own directory.
    """

    def __init__(self, seed_dir: str, pch_dir: str | None, suffix: str = ".pch") -> None:
        self.seed_dir = seed_dir
        self.dir = pch_dir
        self.suffix = suffix
        self.saved = False
        if self.dir:
            for name in os.listdir(seed_dir):
                with contextlib.suppress(OSError):
                    os.link(os.path.join(seed_dir, name), os.path.join(self.dir, name))
            self.saved = bool(os.listdir(seed_dir))

    def save(self) -> None:
        if self.saved or not self.dir:
            return
        for name in os.listdir(self.dir):
            if name.endswith(self.suffix):
                with contextlib.suppress(OSError):
                    os.link(os.path.join(self.dir, name), os.path.join(self.seed_dir, name))
                    self.saved = True
