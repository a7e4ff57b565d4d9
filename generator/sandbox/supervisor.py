"""The supervisor: run a client's work in worker processes, phase by phase, under deadlines.

One call of ``supervise`` works in rounds. A round writes the client's ``request`` to a file,
starts one worker (``python -c <command> JOB FD REQUEST``, never a fork of the caller, which may
hold initialized native state) in its own session, confined by the OS sandbox when the client
gives a ``Confinement`` (``confine``: namespaces, a minimal read-only view, no secrets, limits),
and follows its messages:

* ``ready``: start-up is over (``STARTUP_TIMEOUT_S`` for it, and again between phases);
* ``phase`` (kind, items): the worker enters a phase; the deadline is ``client.deadline_s``;
* ``result``: handed to ``client.apply``; the worker is between phases;
* ``end``: every result is in; the worker gets ``EXIT_TIMEOUT_S`` to exit.

When the worker dies (a signal, an exit), overruns its deadline or writes something that is
not a message, it is killed with its whole process group (children it forked included) and the
stop is blamed on the phase it was in (``client.blame``): the next round starts a fresh worker
for whatever the client still has to do. A death outside any item (start-up, between phases,
a phase the client cannot attribute) is a failed round; after ``MAX_WORKER_FAILURES`` failed
rounds in a row ``client.give_up`` gets the reason and the call ends.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from . import reasons
from .confine import Confinement, Jail

# A worker that does not get through its start (import + native init), or does not move on
# between phases, in this long is broken.
STARTUP_TIMEOUT_S = 120.0
# A worker that closed its channel (or said end) but does not exit in this long is killed.
EXIT_TIMEOUT_S = 30.0
# Consecutive rounds without progress before the call gives up on the remaining work.
MAX_WORKER_FAILURES = 2
# While waiting on the pipe, how often to check the worker still lives: a child it forked
# may hold the pipe open after the worker itself died, so EOF alone cannot tell.
POLL_S = 0.1
# Phase kinds: the supervisor's own (before ``ready``, between phases) and the one where an
# item's own code runs, whose stops are reported without a phase suffix.
START, BETWEEN, RUN = "start", "between", "run"


@dataclass(frozen=True)
class Phase:
    """Where a worker is: a kind, the items it is working on, the worker's announcement."""

    kind: str
    items: tuple[int, ...] = ()
    message: dict = field(default_factory=dict)


class Client(Protocol):
    """What a room supplies: the work, the deadlines, and what results and stops mean."""

    def request(self, job: str) -> Any | None:
        """JSON work for a fresh worker, or None when nothing is left to do."""

    def deadline_s(self, phase: Phase) -> float:
        """Seconds the worker may spend in ``phase`` (a kind the worker announced)."""

    def apply(self, result: dict) -> None:
        """One ``result`` message's payload."""

    def blame(self, phase: Phase, reason: str) -> bool:
        """The worker stopped inside ``phase``; True when that was attributed (progress)."""

    def give_up(self, reason: str) -> None:
        """Workers keep failing outside any item: end everything left with ``reason``."""


@contextlib.contextmanager
def job_dir(prefix: str, subdirs: Iterable[str] = ()) -> Iterator[str]:
    """A fresh directory for one call (``tmp`` is the workers' TMPDIR), removed on exit."""
    job = os.path.abspath(tempfile.mkdtemp(prefix=prefix))
    try:
        for sub in ("tmp", *subdirs):
            os.mkdir(os.path.join(job, sub))
        yield job
    finally:
        shutil.rmtree(job, ignore_errors=True)


def worker_env(job: str) -> dict[str, str]:
    """The caller's environment, with scratch files in the job and a fixed hash seed."""
    env = dict(os.environ, TMPDIR=os.path.join(job, "tmp"), PYTHONHASHSEED="0")
    env.pop("WARP_CACHE_PATH", None)   # workers get the job's kernel cache, never the user's
    return env


def supervise(command: str, client: Client, job: str, confinement: Confinement | None = None) -> None:
    """Run rounds of workers (``python -c command``) until the client has nothing left.

    With a ``confinement`` every worker runs in the OS sandbox (see ``confine``); without one it
    runs with the caller's privileges (``--no-sandbox``, or no sandbox on this machine).
    """
    jail = confinement.jail(job) if confinement is not None else None
    failures, number = 0, 0
    while (work := client.request(job)) is not None:
        progressed, error = _Round(command, client, job, number, jail).run(work)
        number += 1
        failures = 0 if progressed else failures + 1
        if failures >= MAX_WORKER_FAILURES:
            client.give_up(error or reasons.NO_RESULT)
            return


@dataclass(frozen=True)
class _Stop:
    """Why reading the pipe ended without a message."""

    kind: str            # "timeout", "gone" or "garbled"
    line: bytes = b""


class _Pipe:
    """JSON lines from a worker, with deadlines and a liveness check."""

    def __init__(self, fd: int, proc: subprocess.Popen) -> None:
        self.fd = fd
        self.proc = proc
        self.buffer = b""

    def next(self, deadline: float) -> dict | _Stop:
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return _Stop("timeout")
            ready, _, _ = select.select([self.fd], [], [], min(left, POLL_S))
            if not ready:
                # Dead with nothing left to read (a last message is read first).
                if self.proc.poll() is not None and not select.select([self.fd], [], [], 0)[0]:
                    return _Stop("gone")
                continue
            data = os.read(self.fd, 1 << 16)
            if not data:
                return _Stop("gone")
            self.buffer += data
        line, self.buffer = self.buffer.split(b"\n", 1)
        try:
            msg = json.loads(line)
        except ValueError:
            return _Stop("garbled", line)
        if not isinstance(msg, dict) or not {"ready", "phase", "result", "end"} & set(msg) or not _well_formed(msg):
            return _Stop("garbled", line)
        return msg


def _well_formed(msg: dict) -> bool:
    """The fields the supervisor itself reads have their types: a worker's line is untrusted."""
    items = msg.get("items", [])
    return (isinstance(items, list) and all(type(i) is int for i in items)
            and isinstance(msg.get("result", {}), dict))


class _Round:
    """One worker process working through one request until it ends, dies or overruns."""

    def __init__(self, command: str, client: Client, job: str, number: int, jail: Jail | None = None) -> None:
        self.command = command
        self.client = client
        self.job = job
        self.jail = jail
        self.log_path = os.path.join(job, f"worker-{number}.log")
        self.request_path = os.path.join(job, f"request-{number}.json")

    def run(self, work: Any) -> tuple[bool, str]:
        """(made progress, the reason when the worker failed outside any item)."""
        # Never through a link a worker left: a fresh file or no round.
        with os.fdopen(_create(self.request_path), "w", encoding="utf-8") as f:
            json.dump(work, f)
        read_fd, write_fd = os.pipe()
        argv = [sys.executable, "-c", self.command, self.job, str(write_fd), self.request_path]
        env = worker_env(self.job)
        if self.jail is not None:
            self.jail.prepare()
            self.jail.readable(self.request_path)
            argv, env = self.jail.argv(argv), {"PATH": "/usr/bin:/bin"}
        with os.fdopen(_create(self.log_path), "wb") as log:
            try:
                proc = subprocess.Popen(
                    argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
                    pass_fds=(write_fd,), env=env, cwd=self.job, start_new_session=True)
            except OSError as e:
                os.close(read_fd)
                return False, reasons.cannot_start(e)
            finally:
                os.close(write_fd)   # the worker holds the only write end: EOF means it is gone
        try:
            return self._follow(proc, _Pipe(read_fd, proc))
        finally:
            _kill_group(proc)        # also children the worker left behind
            if proc.poll() is None:
                proc.wait()
            os.close(read_fd)

    def _follow(self, proc: subprocess.Popen, pipe: _Pipe) -> tuple[bool, str]:
        phase = Phase(START)
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        progressed = False
        while True:
            msg = pipe.next(deadline)
            if isinstance(msg, _Stop):
                reason = self._stopped(proc, msg)
                if phase.kind not in (START, BETWEEN):
                    blamed = reason if phase.kind == RUN else reasons.in_phase(reason, phase.kind)
                    if self.client.blame(phase, blamed):
                        return True, ""
                return progressed, reasons.in_phase(reason, phase.kind)
            now = time.monotonic()
            if "phase" in msg:
                phase = Phase(str(msg["phase"]), tuple(msg.get("items", ())), msg)
                deadline = now + self.client.deadline_s(phase)
            elif "result" in msg:
                self.client.apply(msg["result"])
                progressed = True
                phase, deadline = Phase(BETWEEN), now + STARTUP_TIMEOUT_S
            elif "ready" in msg:
                phase, deadline = Phase(BETWEEN), now + STARTUP_TIMEOUT_S
            else:   # end: every result is in; a worker stuck in teardown is killed by the caller
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=EXIT_TIMEOUT_S)
                # A worker that ends without doing anything must not loop the call forever.
                return progressed, "" if progressed else reasons.NO_RESULT

    def _stopped(self, proc: subprocess.Popen, stop: _Stop) -> str:
        """Kill (unless it is already going) and reap the worker; why it stopped."""
        if stop.kind == "timeout":
            _reap(proc, kill=True)
            return reasons.TIMEOUT
        if stop.kind == "garbled":
            _reap(proc, kill=True)
            return reasons.bad_message(stop.line)
        rc = _reap(proc, kill=False)
        if self.jail is not None:
            rc = self.jail.exit_status(rc)
        if rc < 0:
            return reasons.crash(-rc)
        return reasons.exited(rc, _log_tail(self.log_path))


def _create(path: str) -> int:
    """A new file, never through an existing one or a link (the job directory is the supervisor's)."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the worker's process group (its own session: the worker and what it forked)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def _reap(proc: subprocess.Popen, kill: bool) -> int:
    """Kill the worker when asked, wait for it, return its exit status.

    A worker that closed its channel yet lives on past ``EXIT_TIMEOUT_S`` is killed.
    """
    if kill:
        _kill_group(proc)
    try:
        return proc.wait(timeout=EXIT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        return proc.wait()


def _log_tail(path: str) -> str:
    """The last non-blank line a worker wrote to its log (stderr)."""
    try:
        with open(path, "rb") as f:
            lines = [ln for ln in f.read().decode("utf-8", "replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return lines[-1] if lines else ""
