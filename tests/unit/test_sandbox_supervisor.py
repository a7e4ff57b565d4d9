"""The sandbox supervisor with tiny fake workers: every way a worker can stop, and its one spelling.

The fake worker imports only ``warp_ir_pairs_generator.sandbox`` (no Warp), so each test costs a
few Python start-ups. Its request is a list of ``[item, action]``: it enters the ``run`` phase
(or the phase named by ``compile:<action>``) and then does the action.
"""

from __future__ import annotations

import os
import signal
import sys
import time

import pytest
from warp_ir_pairs_generator import sandbox
from warp_ir_pairs_generator.sandbox import Phase, reasons

FAKE_WORKER = r"""
import os, signal, sys, time
from warp_ir_pairs_generator.sandbox import WorkerChannel

channel = WorkerChannel()
work = channel.work()
if work.get("at_start") == "exit3":
    print("ImportError: no module named nothing", file=sys.stderr)
    sys.exit(3)
if work.get("at_start") == "segv":
    os.kill(os.getpid(), signal.SIGSEGV)
if work.get("at_start") == "end":
    channel.close()
    sys.exit(0)
channel.ready()
for item, action in work["items"]:
    kind, _, action = action.rpartition(":")
    channel.enter(kind or "run", [item])
    if action == "segv":
        os.kill(os.getpid(), signal.SIGSEGV)
    elif action == "hang":
        time.sleep(60)
    elif action == "exit3":
        print("RuntimeError: the item broke me", file=sys.stderr)
        sys.exit(3)
    elif action == "garbage":
        os.write(int(sys.argv[2]), b"this is not a message\n")
        time.sleep(60)
    elif action == "fork":
        if os.fork() == 0:               # a child that holds the pipe open, then lingers
            with open(work["pid_file"], "w") as f:
                f.write(str(os.getpid()))
            time.sleep(60)
            os._exit(0)
        while not os.path.exists(work["pid_file"]):
            time.sleep(0.01)
        os.kill(os.getpid(), signal.SIGSEGV)
    channel.result(item=item, ok=True)
channel.close()
"""


class FakeClient:
    """Items with actions; results and blames recorded as strings."""

    def __init__(self, actions: dict[int, str], deadline_s: float = 0.5, **extra: str) -> None:
        self.actions = actions
        self.deadline = deadline_s
        self.extra = extra
        self.results: dict[int, str] = {}
        self.requests = 0
        self.given_up = ""

    def request(self, job: str) -> dict | None:
        todo = [[i, a] for i, a in self.actions.items() if i not in self.results]
        if not todo or self.given_up:
            return None
        self.requests += 1
        return {"items": todo, **self.extra}

    def deadline_s(self, phase: Phase) -> float:
        return self.deadline

    def apply(self, result: dict) -> None:
        self.results[result["item"]] = "ok"

    def blame(self, phase: Phase, reason: str) -> bool:
        self.results[phase.items[0]] = reason
        return True

    def give_up(self, reason: str) -> None:
        self.given_up = reason


def _supervise(client: FakeClient) -> None:
    with sandbox.job_dir("warp-ir-test-") as job:
        sandbox.supervise(FAKE_WORKER, client, job)


def test_reasons_are_spelled_one_way():
    assert reasons.TIMEOUT == "timeout"
    assert reasons.crash(signal.SIGSEGV) == "crash: SIGSEGV"
    assert reasons.crash(77) == "crash: signal 77"
    assert reasons.exited(3, "  ValueError:   bad\n") == "worker_error: exit 3: ValueError: bad"
    assert reasons.exited(1) == "worker_error: exit 1"
    assert reasons.in_phase("timeout", "compile") == "timeout (compile)"
    assert reasons.NO_RESULT == "worker_error: no result"


def test_a_crash_is_blamed_on_its_item_and_a_fresh_worker_does_the_rest():
    client = FakeClient({0: "ok", 1: "segv", 2: "ok"})
    _supervise(client)
    assert client.results == {0: "ok", 1: reasons.crash(signal.SIGSEGV), 2: "ok"}
    assert client.requests == 2


def test_a_hang_is_killed_at_the_phase_deadline():
    client = FakeClient({0: "hang", 1: "ok"}, deadline_s=0.3)
    start = time.monotonic()
    _supervise(client)
    assert client.results == {0: reasons.TIMEOUT, 1: "ok"}
    assert time.monotonic() - start < 5.0


def test_an_exit_names_the_code_and_the_log_tail():
    client = FakeClient({0: "exit3"})
    _supervise(client)
    assert client.results == {0: "worker_error: exit 3: RuntimeError: the item broke me"}


def test_a_stop_outside_the_run_phase_names_the_phase():
    client = FakeClient({0: "compile:segv", 1: "compile:hang"}, deadline_s=0.3)
    _supervise(client)
    assert client.results == {0: "crash: SIGSEGV (compile)", 1: "timeout (compile)"}


def test_garbage_on_the_channel_stops_the_worker_at_once():
    client = FakeClient({0: "garbage", 1: "ok"}, deadline_s=30.0)
    start = time.monotonic()
    _supervise(client)
    assert client.results == {0: reasons.bad_message(b"this is not a message"), 1: "ok"}
    assert client.results[0] == "worker_error: bad message b'this is not a message'"
    assert time.monotonic() - start < 5.0


def test_a_forked_child_holding_the_pipe_neither_hides_the_crash_nor_outlives_the_call(tmp_path):
    pid_file = str(tmp_path / "child.pid")
    client = FakeClient({0: "fork", 1: "ok"}, deadline_s=30.0, pid_file=pid_file)
    start = time.monotonic()
    _supervise(client)
    assert client.results == {0: "crash: SIGSEGV", 1: "ok"}
    assert time.monotonic() - start < 5.0        # not the 30 s deadline: the death was noticed
    child = int(open(pid_file).read())
    assert _gone(child), f"the worker's child {child} outlived the call"


def _gone(pid: int, wait_s: float = 3.0) -> bool:
    """The process no longer exists or is a zombie waiting for its reaper."""
    end = time.monotonic() + wait_s
    while time.monotonic() < end:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize(("at_start", "reason"), [
    ("exit3", "worker_error: exit 3: ImportError: no module named nothing (start)"),
    ("segv", "crash: SIGSEGV (start)"),
    ("end", reasons.NO_RESULT),
])
def test_workers_failing_outside_any_item_give_up_after_consecutive_failures(at_start, reason):
    client = FakeClient({0: "ok"}, at_start=at_start)
    _supervise(client)
    assert client.requests == sandbox.MAX_WORKER_FAILURES
    assert client.given_up == reason
    assert client.results == {}


def test_a_worker_that_cannot_start_gives_up_with_the_os_error(monkeypatch):
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")
    client = FakeClient({0: "ok"})
    _supervise(client)
    assert client.given_up.startswith("worker_error: cannot start a worker: ")
    assert "/nonexistent/python" in client.given_up


def test_the_worker_gets_its_job_as_tmpdir_a_fixed_hash_seed_and_no_warp_cache(monkeypatch):
    monkeypatch.setenv("WARP_CACHE_PATH", "/somewhere/else")
    with sandbox.job_dir("warp-ir-test-", ("cache",)) as job:
        env = sandbox.worker_env(job)
        assert sorted(os.listdir(job)) == ["cache", "tmp"]
    assert not os.path.exists(job)
    assert env["TMPDIR"] == os.path.join(job, "tmp")
    assert env["PYTHONHASHSEED"] == "0"
    assert "WARP_CACHE_PATH" not in env
