"""launch and evaluate on the one supervisor: the same stop reads the same in both rooms.

The supervisor itself is tested with fake workers in tests/unit/test_sandbox_supervisor.py;
these tests drive the two real clients (which import Warp) through stops that only they see.
"""

from __future__ import annotations

import signal

import pytest
from warp_ir_pairs_generator import driver, launch
from warp_ir_pairs_generator.evaluate import HARNESS_ERROR, sandboxed, score
from warp_ir_pairs_generator.launch import ExecResult, execute
from warp_ir_pairs_generator.options import GenerationOptions
from warp_ir_pairs_generator.sandbox import Phase, reasons

SEGFAULT = """import warp as wp

@wp.kernel
def smash(a: wp.array(dtype=float)):
    i = wp.tid()
    a[i + 100000000] = 1.0
"""
BROKEN_WORKER = "import sys; print('ModuleNotFoundError: no warp here', file=sys.stderr); sys.exit(3)"


def test_execute_spells_a_kernel_crash_as_the_sandbox_does():
    (result,) = execute([(SEGFAULT, "smash", 2)], timeout_s=5.0)
    assert result == ExecResult(False, reasons.crash(signal.SIGSEGV), "")
    assert result.reason == "crash: SIGSEGV"


def test_execute_gives_every_item_the_start_failure_when_no_worker_can_start(monkeypatch):
    monkeypatch.setattr(launch, "_WORKER_COMMAND", BROKEN_WORKER)
    results = execute([(SEGFAULT, "smash", 1), (SEGFAULT, "smash", 2)])
    want = reasons.in_phase(reasons.exited(3, "ModuleNotFoundError: no warp here"), "start")
    assert want == "worker_error: exit 3: ModuleNotFoundError: no warp here (start)"
    assert results == [ExecResult(False, want, "")] * 2


def test_a_death_compiling_a_chunk_recompiles_it_kernel_by_kernel_then_blames_the_kernel():
    execution = launch._Execution([(SEGFAULT, "smash", i) for i in range(3)], timeout_s=1.0)
    chunk = Phase("compile", (0, 1, 2), {"chunk": 0})
    assert execution.blame(chunk, "crash: SIGSEGV (compile)")
    assert execution.request("job")["chunks"][0]["solo"] is True
    assert not execution.blame(chunk, "crash: SIGSEGV (compile)")    # already solo: not attributable
    assert execution.blame(Phase("compile", (1,), {"chunk": 0}), "crash: SIGSEGV (compile)")
    assert execution.results[1] == ExecResult(False, "crash: SIGSEGV (compile)", "")
    assert execution.deadline_s(chunk) == launch.COMPILE_TIMEOUT_BASE_S + 3 * launch.COMPILE_TIMEOUT_PER_KERNEL_S
    assert execution.deadline_s(Phase("run", (0,))) == 1.0


@pytest.fixture(scope="module")
def record() -> dict:
    return next(driver.iter_shard(GenerationOptions.from_config("cpu-tiny", verify="execute"), 0, 1))


def test_evaluate_scores_nothing_as_failed_when_no_worker_can_start(record, monkeypatch):
    monkeypatch.setattr(sandboxed, "_WORKER_COMMAND", BROKEN_WORKER)
    (s,) = score([record], {record["id"]: record["ir_code"]}, timeout_s=3.0)
    assert (s.exact, s.compiles, s.behaves, s.failed_rung) == (True, None, None, None)
    assert s.detail == f"{HARNESS_ERROR}: worker_error: exit 3: ModuleNotFoundError: no warp here (start)"
