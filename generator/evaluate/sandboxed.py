"""Compile (and run) the scoring items in sandbox workers: the client of ``sandbox`` for evaluate.

Sandbox
-------
Compiles and runs both happen in a worker process (``python -c`` + ``evaluate.worker``, never a
fork of the caller), so a clang/NVRTC crash or a prediction that sends the compiler into a long
search (template or constexpr bombs) cannot take the caller down or stall it either. The worker
announces each phase (compile or run of an item) over a pipe before entering it; when it dies
(SIGSEGV, SIGILL, abort) or overruns its limit (``timeout_s`` for a run, ``COMPILE_TIMEOUT_S``
for a compile) the supervisor knows the culprit, scores it as failed with the reason
(``crash: SIGSEGV``, ``timeout``; ``... (compile)`` for a compile), kills the worker and starts
a fresh one for the remaining items. When workers keep failing outside any item (a broken
environment), the items left are harness errors, not failures.
Workers of one call share the clang precompiled header (hard links in the call's directory),
so a replacement costs a process start and Warp init (0.4-1 s), not a 1.5 s header rebuild.
Every worker is confined by the OS sandbox (``sandbox.confine``: bubblewrap, no network, its own
PID namespace, a read-only view of the Python installation and ``WORKER_PACKAGES`` only, a
private temp dir, no secrets, limits on CPU, memory, file size and processes); ``score``
refuses where it cannot run unless called with ``sandbox=False`` (``--no-sandbox``), and then
predicted C++ runs with the caller's privileges.

Everything a call writes lives in one temp directory, removed on return.
"""

from __future__ import annotations

import os

from .. import sandbox
from ..sandbox import RUN, Phase

# One kernel's compile: 0.1-1 s (1.3 s more for the first precompiled header, up to ~1 s for
# svd/mesh kernels); the limit only catches pathological predictions.
COMPILE_TIMEOUT_S = 120.0
_WORKER_COMMAND = "from warp_ir_pairs_generator.evaluate.worker import main; main()"
# What the worker imports: the sandbox shows it these (and the Python installation) read-only.
WORKER_PACKAGES = ("warp", "numpy", __name__.split(".")[0])


def sandboxed(items: list[dict], timeout_s: float, workers: int, confined: bool = True) -> dict[int, dict]:
    """Results of every item, from ``workers`` independent sandboxes (threads only wait on pipes).

    ``confined``: in the OS sandbox (``sandbox.SandboxUnavailable`` where it cannot run), else
    with the caller's privileges.
    """
    if not items:
        return {}
    confinement = sandbox.required(WORKER_PACKAGES) if confined else None
    groups = [items[k::workers] for k in range(workers) if items[k::workers]]
    if len(groups) <= 1:
        return _Scoring(items, timeout_s, confinement).results_of_all()
    from concurrent.futures import ThreadPoolExecutor

    results: dict[int, dict] = {}
    with ThreadPoolExecutor(len(groups)) as pool:
        for part in pool.map(lambda group: _Scoring(group, timeout_s, confinement).results_of_all(), groups):
            results.update(part)
    return results


class _Scoring:
    """One sandbox's share of the items: item index -> {"compiled": ..., "ran": ...}."""

    def __init__(self, items: list[dict], timeout_s: float, confinement: sandbox.Confinement | None = None) -> None:
        self.items = items
        self.timeout_s = timeout_s
        self.confinement = confinement
        self.results: dict[int, dict] = {item["i"]: {} for item in items}

    def results_of_all(self) -> dict[int, dict]:
        with sandbox.job_dir("warp-ir-eval-", ("obj", "pch", "cache")) as job:
            with open(os.path.join(job, "obj", "meta.json"), "w", encoding="utf-8") as f:
                f.write("{}")   # a CPU executable reads no metadata (only CUDA's shared-memory sizes)
            sandbox.supervise(_WORKER_COMMAND, self, job, self.confinement)
        return self.results

    def _pending(self, item: dict) -> bool:
        res = self.results[item["i"]]
        if "compiled" not in res:
            return True
        return item["run"] is not None and res["compiled"]["ok"] and "ran" not in res

    # -- the sandbox client ---------------------------------------------------------------

    def request(self, job: str) -> list[dict] | None:
        todo = [self._job_of(job, item) for item in self.items if self._pending(item)]
        return todo or None

    def deadline_s(self, phase: Phase) -> float:
        return self.timeout_s if phase.kind == RUN else COMPILE_TIMEOUT_S

    def apply(self, result: dict) -> None:
        if "compiled" in result:
            self.results[result["compiled"]]["compiled"] = {k: result[k] for k in ("ok", "error", "harness")}
        else:
            self.results[result["ran"]]["ran"] = {k: result[k] for k in ("ok", "reason", "io", "harness")}

    def blame(self, phase: Phase, reason: str) -> bool:
        if len(phase.items) != 1:
            return False
        res = self.results[phase.items[0]]
        if phase.kind == RUN:
            res["ran"] = {"ok": False, "reason": reason, "io": "", "harness": False}
        else:
            res["compiled"] = {"ok": False, "error": reason, "harness": False}
        return True

    def give_up(self, reason: str) -> None:
        # The worker cannot even get going (broken environment): nothing left is the
        # predictions' fault, so the rest are harness errors, not failures.
        for item in self.items:
            if not self._pending(item):
                continue
            res = self.results[item["i"]]
            res.setdefault("compiled", {"ok": False, "error": reason, "harness": True})
            if item["run"] is not None and res["compiled"]["ok"]:
                res.setdefault("ran", {"ok": False, "reason": reason, "io": "", "harness": True})

    def _job_of(self, job: str, item: dict) -> dict:
        res = self.results[item["i"]]
        out = {k: item[k] for k in ("i", "target", "name", "arch", "run")}
        out["object"] = os.path.join(job, "obj", f"{item['i']}.o")
        out["text"] = item["text"] if "compiled" not in res else None   # None: object already built
        if out["run"] is not None and "compiled" in res and not res["compiled"]["ok"]:
            out["run"] = None
        return out
