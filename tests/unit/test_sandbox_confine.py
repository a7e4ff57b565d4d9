"""The OS sandbox (bubblewrap) around the supervisor's workers, with tiny Python workers.

Each worker imports only ``warp_ir_pairs_generator.sandbox`` (no Warp), tries one thing a
hostile prediction would, and reports what it saw in its result; the supervisor is the real one.
Needs ``bwrap`` (``apt-get install bubblewrap``; .ci/run installs it).
"""

from __future__ import annotations

import logging
import os
import resource
import signal
import socket
import sys
import time
from pathlib import Path

import pytest
from waiting import eventually, sleepers  # tests/waiting.py
from warp_ir_pairs_generator import sandbox
from warp_ir_pairs_generator.sandbox import Phase, confine, reasons

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("warp_ir_pairs_generator",)

PROBE_WORKER = r"""
import json, os, resource, signal, socket, subprocess, sys, time
from warp_ir_pairs_generator.sandbox import WorkerChannel

channel = WorkerChannel()
work = channel.work()
channel.ready()
for item, action, arg in work["items"]:
    channel.enter("run", [item])
    out = {}
    if action == "exists":
        out = {p: os.path.exists(p) for p in arg}
    elif action == "listdir":
        out = {"entries": sorted(os.listdir(arg))}
    elif action == "env":
        out = dict(os.environ)
    elif action == "write":
        for path in arg:
            try:
                with open(path, "w") as f:
                    f.write("pwned")
                out[path] = "written"
            except OSError as e:
                out[path] = type(e).__name__
    elif action == "connect":
        try:
            socket.create_connection(("127.0.0.1", arg), timeout=2).close()
            out = {"connected": True}
        except OSError as e:
            out = {"connected": False, "error": type(e).__name__}
    elif action == "identity":
        limits = {name: resource.getrlimit(getattr(resource, name))
                  for name in ("RLIMIT_CPU", "RLIMIT_AS", "RLIMIT_FSIZE", "RLIMIT_NPROC", "RLIMIT_CORE")}
        out = {"uid": os.getuid(), "euid": os.geteuid(), "pid": os.getpid(), "limits": limits}
    elif action == "forkbomb":
        children = 0
        try:
            while children < arg:
                if os.fork() == 0:
                    time.sleep(3600)
                    os._exit(0)
                children += 1
        except OSError as e:
            out["error"] = type(e).__name__
        out["children"] = children
        out["uid"] = os.getuid()
    elif action == "daemon":
        r, w = os.pipe()                   # not inherited across exec: EOF once the daemon is up
        if os.fork() == 0:
            os.close(r)
            os.setsid()
            if os.fork() == 0:
                os.execv("/bin/sleep", ["sleep", arg])
            os._exit(0)
        os.close(w)
        os.read(r, 1)
        out = {"daemon": "started"}
    elif action == "killparent":
        try:
            os.kill(os.getppid(), signal.SIGKILL)
            out = {"killed": os.getppid()}
        except OSError as e:
            out = {"error": type(e).__name__, "parent": os.getppid()}
    elif action == "segv":
        os.kill(os.getpid(), signal.SIGSEGV)
    channel.result(item=item, out=out)
channel.close()
"""


class ProbeClient:
    """Items ``(action, arg)``; each result's ``out`` kept, each stop's reason kept."""

    def __init__(self, actions: list[tuple[str, object]], deadline_s: float = 20.0) -> None:
        self.actions = actions
        self.deadline = deadline_s
        self.results: dict[int, object] = {}

    def request(self, job: str) -> dict | None:
        todo = [[i, a, arg] for i, (a, arg) in enumerate(self.actions) if i not in self.results]
        return {"items": todo} if todo else None

    def deadline_s(self, phase: Phase) -> float:
        return self.deadline

    def apply(self, result: dict) -> None:
        self.results[result["item"]] = result["out"]

    def blame(self, phase: Phase, reason: str) -> bool:
        self.results[phase.items[0]] = reason
        return True

    def give_up(self, reason: str) -> None:
        raise AssertionError(f"the confined worker could not start: {reason}")


def _confined(actions: list[tuple[str, object]], limits: confine.Limits | None = None) -> list[object]:
    client = ProbeClient(actions)
    confinement = sandbox.Confinement(PACKAGES, limits or confine.Limits())
    with sandbox.job_dir("warp-ir-test-", ("cache",)) as job:
        sandbox.supervise(PROBE_WORKER, client, job, confinement)
    return [client.results[i] for i in range(len(actions))]


@pytest.fixture
def no_bwrap(monkeypatch, tmp_path):
    """The probe sees a machine without bubblewrap (the cache is cleared before and after)."""
    monkeypatch.setattr(confine, "BWRAP", str(tmp_path / "bwrap"))
    confine.unavailable.cache_clear()
    yield tmp_path / "bwrap"
    confine.unavailable.cache_clear()


def test_bubblewrap_works_on_this_machine():
    assert confine.unavailable() is None


def test_the_worker_sees_the_python_installation_and_its_package_and_nothing_of_the_caller(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("caller's file")
    home = os.path.expanduser("~")
    hidden = ["/etc/passwd", "/etc", os.path.join(home, ".cache"), os.path.join(home, ".bashrc"),
              os.environ["HF_HOME"], str(secret), str(REPO / "dataset_card"), str(REPO / "tests"),
              str(REPO / "README.md"), str(REPO / ".git")]
    visible = [sys.executable, os.path.join(sys.base_prefix, "lib"), str(REPO / "generator" / "sandbox")]
    seen, root, in_home = _confined([("exists", hidden + visible), ("listdir", "/"), ("exists", [home])])
    assert {p for p in hidden if seen[p]} == set()
    assert {p for p in visible if not seen[p]} == set()
    assert set(root["entries"]) <= {"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "dev", "proc", "tmp",
                                    *(p.split(os.sep)[1] for p in (sys.base_prefix, sys.prefix, str(REPO)))}
    # Here Python lives under the home (~/.pyenv): then that one path, and nothing else of the home.
    installed = [p for p in (sys.base_prefix, sys.prefix) if p.startswith(home + os.sep)]
    if in_home[home]:
        (home_view,) = _confined([("listdir", home)])
        assert installed and home_view["entries"] == sorted({p[len(home) + 1:].split(os.sep)[0] for p in installed})


def test_the_worker_environment_holds_no_secrets(monkeypatch):
    for key in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN", "MY_API_TOKEN"):
        monkeypatch.setenv(key, "s3cr3t-value")
    (env,) = _confined([("env", None)])
    assert "s3cr3t-value" not in env.values()
    assert set(env) <= {"PATH", "LANG", "HOME", "TMPDIR", "PYTHONHASHSEED", "PYTHONNOUSERSITE",
                        "PYTHONDONTWRITEBYTECODE", "PYTHONPATH", "PWD"}
    assert env["PYTHONHASHSEED"] == "0" and env["TMPDIR"].endswith("/tmp") and env["HOME"] == env["TMPDIR"]


def test_the_worker_has_no_network():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.settimeout(0.2)
        (out,) = _confined([("connect", server.getsockname()[1])])
        with pytest.raises(socket.timeout):
            server.accept()
    assert out["connected"] is False


def test_the_worker_writes_only_its_private_temp_dir(tmp_path):
    outside = [str(tmp_path / "pwned"), os.path.join(os.path.expanduser("~"), "warp-ir-pwned"),
               str(REPO / "generator" / "pwned.py")]
    client = ProbeClient([("write", None)])
    with sandbox.job_dir("warp-ir-test-", ("cache",)) as job:
        inside = [os.path.join(job, "tmp", "scratch"), os.path.join(job, "cache", "obj")]
        swapped = [os.path.join(job, "request-1.json"), os.path.join(job, "worker-1.log")]
        client.actions = [("write", outside + inside + swapped)]
        sandbox.supervise(PROBE_WORKER, client, job, sandbox.Confinement(PACKAGES))
    wrote = client.results[0]
    assert {p for p in outside + swapped if wrote[p] == "written"} == set()
    assert all(not os.path.exists(p) for p in outside)
    assert {p for p in inside if wrote[p] != "written"} == set()


def test_the_worker_is_not_root_and_runs_under_its_limits():
    limits = confine.Limits(cpu_s=123, memory_bytes=3 << 30, file_bytes=5 << 20, processes=77)
    (me,) = _confined([("identity", None)], limits)
    assert me["uid"] != 0 and me["euid"] != 0
    assert me["pid"] <= 3                      # a fresh PID namespace: bwrap is 1, the worker 2
    assert me["limits"] == {"RLIMIT_CPU": [123, 123], "RLIMIT_AS": [3 << 30] * 2,
                            "RLIMIT_FSIZE": [5 << 20] * 2, "RLIMIT_NPROC": [77, 77], "RLIMIT_CORE": [0, 0]}


def test_a_fork_bomb_is_bounded_by_the_process_limit_and_dies_with_its_round():
    (bomb, after) = _confined([("forkbomb", 10_000), ("identity", None)], confine.Limits(processes=40))
    assert bomb["error"] == "BlockingIOError"           # fork() failed with EAGAIN: the limit held
    assert 0 < bomb["children"] < 40
    assert after["uid"] == bomb["uid"]
    assert eventually(lambda: _processes_of(bomb["uid"]) == [])   # every sleeping child went with the round


def test_a_daemon_does_not_outlive_its_round_nor_hold_up_the_call():
    marker = f"{4000 + os.getpid() % 1000}.{time.monotonic_ns() % 10**6}"
    start = time.monotonic()
    (out,) = _confined([("daemon", marker)])
    assert out == {"daemon": "started"}
    assert time.monotonic() - start < sandbox.EXIT_TIMEOUT_S
    assert eventually(lambda: sleepers(marker) == [])


def test_killing_the_parent_reaches_only_the_sandbox():
    (out,) = _confined([("killparent", None)])
    assert out == {"error": "PermissionError", "parent": 1}     # bwrap, the namespace's init


def test_a_signal_reads_as_a_crash_through_bubblewrap():
    (out,) = _confined([("segv", None)])
    assert out == reasons.crash(signal.SIGSEGV)


def test_without_bubblewrap_untrusted_code_is_refused_in_one_line(no_bwrap):
    reason = confine.unavailable()
    assert reason == f"bubblewrap is not installed (no {no_bwrap})"
    with pytest.raises(sandbox.SandboxUnavailable) as refused:
        sandbox.required(PACKAGES)
    message = str(refused.value)
    assert "\n" not in message
    assert reason in message and "apt-get install bubblewrap" in message and "--no-sandbox" in message


def test_a_bubblewrap_that_cannot_create_namespaces_is_unavailable_with_its_own_words(no_bwrap):
    no_bwrap.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    no_bwrap.chmod(0o755)
    assert confine.unavailable() == ("bubblewrap cannot create its namespaces here: "
                                     "bwrap: No permissions to create new namespace")


def test_our_own_kernels_run_unconfined_after_one_warning_without_bubblewrap(no_bwrap, caplog):
    with caplog.at_level(logging.WARNING):
        assert sandbox.preferred(PACKAGES, "execute workers") is None
        assert sandbox.preferred(PACKAGES, "execute workers") is None
    warnings = [r.getMessage() for r in caplog.records if r.name == confine.__name__]
    assert warnings == [f"execute workers run unconfined: bubblewrap is not installed (no {no_bwrap}) "
                        "(install it: apt-get install bubblewrap)"]


def test_the_probe_runs_once_per_process(monkeypatch):
    confine.unavailable.cache_clear()
    assert confine.unavailable() is None
    monkeypatch.setattr(confine, "BWRAP", "/nonexistent/bwrap")
    assert confine.unavailable() is None          # cached: no second probe
    confine.unavailable.cache_clear()




def _processes_of(uid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/status") as f:
                    status = f.read()
            except OSError:
                continue
            if f"\nUid:\t{uid}\t" in status and "\nState:\tZ" not in status:
                out.append(int(entry))
    return out



def test_limits_default_to_bounds_a_warp_worker_stays_well_inside():
    limits = confine.Limits()
    assert limits.memory_bytes >= 4 << 30 and limits.processes >= 256   # a worker: ~0.6 GB, 2-20 threads
    assert resource.RLIM_INFINITY not in (limits.cpu_s, limits.memory_bytes, limits.file_bytes, limits.processes)
