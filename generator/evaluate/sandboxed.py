"""Compile (and run) the scoring items in sandbox workers: the client of ``sandbox`` for evaluate.

The worker is untrusted: it must follow its steps exactly (see ``_Scoring``), and what it
reports is raw material (compiler text, outputs), never a verdict; ``verdict`` judges.

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
from ..sandbox import RUN, Phase, reasons

# One kernel's compile: 0.1-1 s (1.3 s more for the first precompiled header, up to ~1 s for
# svd/mesh kernels); the limit only catches pathological predictions.
COMPILE_TIMEOUT_S = 120.0
COMPILE = "compile"   # the worker's phase kind for a compile (RUN is the sandbox's)
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
    """One sandbox's share of the items: item index -> {"compiled": ..., "trials": {t: ...}}.

    The worker is untrusted (see ``worker``): each round it must announce exactly the steps it
    was given, in order, and answer each with exactly that step's result. Anything else (a
    phase or result out of turn, for another item or trial, with other keys or types) fails
    the step in flight with ``worker_error: ...`` and ends the round (a zero deadline: the
    supervisor kills the worker); a step entered and never answered fails the same way. So
    a line a prediction writes to the pipe can at most stand in for its own trial's outputs,
    which ``verdict`` then judges like any other.
    """

    def __init__(self, items: list[dict], timeout_s: float, confinement: sandbox.Confinement | None = None) -> None:
        self.items = items
        self.timeout_s = timeout_s
        self.confinement = confinement
        self.results: dict[int, dict] = {item["i"]: {"trials": {}} for item in items}
        self.by_index = {item["i"]: item for item in items}
        self.expected: list[tuple[str, int, int | None]] = []   # this round's steps not yet entered
        self.current: tuple[str, int, int | None] | None = None  # entered, not yet answered
        self.broken = False                                       # this round broke the sequence

    def results_of_all(self) -> dict[int, dict]:
        with sandbox.job_dir("warp-ir-eval-", ("obj", "pch", "cache")) as job:
            with open(os.path.join(job, "obj", "meta.json"), "w", encoding="utf-8") as f:
                f.write("{}")   # a CPU executable reads no metadata (only CUDA's shared-memory sizes)
            sandbox.supervise(_WORKER_COMMAND, self, job, self.confinement)
        return self.results

    def _pending_trials(self, item: dict) -> list[int]:
        res = self.results[item["i"]]
        if item["run"] is None or not res.get("compiled", {"ok": True})["ok"]:
            return []
        if any("error" in r for r in res["trials"].values()):
            return []   # a failed trial decides the item
        return [t for t in range(len(item["run"]["seeds"])) if t not in res["trials"]]

    # -- the sandbox client ---------------------------------------------------------------

    def request(self, job: str) -> list[dict] | None:
        if self.current is not None:
            # The last round ended inside a step without a result or a blame (the worker
            # claimed to be between phases, or to be done): that step is the culprit.
            self._fail(self.current, reasons.NO_RESULT)
        self.current, self.broken = None, False
        compiles = [self._compile_step(job, item) for item in self.items if "compiled" not in self.results[item["i"]]]
        runs = [self._run_step(job, item, t) for item in self.items for t in self._pending_trials(item)]
        steps = compiles + runs
        self.expected = [(step["step"], step["i"], step.get("trial")) for step in steps]
        return steps or None

    def deadline_s(self, phase: Phase) -> float:
        if self.broken:
            return 0.0
        announced = (phase.kind, phase.items, phase.message.get("trial"))
        if self.current is not None or not self.expected or announced != self._as_phase(self.expected[0]):
            self._break(f"unexpected phase {_short(phase.message)}")
            return 0.0
        self.current = self.expected.pop(0)
        return self.timeout_s if phase.kind == RUN else COMPILE_TIMEOUT_S

    def apply(self, result: dict) -> None:
        if self.broken:
            return
        step = self.current
        if step is None or not isinstance(result, dict) or not self._answers(step, result):
            self._break(f"unexpected result {_short(result)}")
            return
        kind, i, trial = step
        self.current = None
        if kind == COMPILE:
            self.results[i]["compiled"] = {"ok": result["ok"], "error": result["error"], "harness": False}
            ok = result["ok"]
        else:
            self.results[i]["trials"][trial] = {k: v for k, v in result.items() if k not in ("ran", "trial")}
            ok = "error" not in result
        if not ok:   # the worker skips the item's remaining steps
            self.expected = [s for s in self.expected if s[1] != i]

    def blame(self, phase: Phase, reason: str) -> bool:
        if self.broken:
            return True    # our zero deadline: the step in flight already failed
        if self.current is None:
            return False
        self._fail(self.current, reason)
        self.current = None
        return True

    def give_up(self, reason: str) -> None:
        # The worker cannot even get going (broken environment): nothing left is the
        # predictions' fault, so the rest are harness errors, not failures.
        for item in self.items:
            res = self.results[item["i"]]
            res.setdefault("compiled", {"ok": False, "error": reason, "harness": True})
            for t in self._pending_trials(item):
                res["trials"][t] = {"error": reason, "harness": True}

    # -- the sequence ---------------------------------------------------------------------

    def _answers(self, step: tuple[str, int, int | None], result: dict) -> bool:
        """``result`` is exactly the answer to ``step``: its keys, its item and trial, its types."""
        kind, i, trial = step
        if kind == COMPILE:
            return (set(result) == {"compiled", "ok", "error"} and _is_int(result["compiled"], i)
                    and type(result["ok"]) is bool and isinstance(result["error"], str))
        if not (_is_int(result.get("ran"), i) and _is_int(result.get("trial"), trial)):
            return False
        report = self.by_index[i]["run"]["report"]
        keys = set(result) - {"ran", "trial"}
        if keys == {"error"}:
            return isinstance(result["error"], str)
        return keys == {report} and (report != "io" or isinstance(result["io"], str))

    @staticmethod
    def _as_phase(step: tuple[str, int, int | None]) -> tuple:
        return (step[0], (step[1],), step[2])

    def _break(self, what: str) -> None:
        """The worker left the sequence: fail the step in flight (else the next one), end the round."""
        culprit = self.current or (self.expected[0] if self.expected else None)
        if culprit is not None:
            self._fail(culprit, f"worker_error: {what}")
        self.current, self.broken = None, True

    def _fail(self, step: tuple[str, int, int | None], reason: str) -> None:
        kind, i, trial = step
        if kind == COMPILE:
            self.results[i]["compiled"] = {"ok": False, "error": reason, "harness": False}
        else:
            self.results[i]["trials"][trial] = {"error": reason}

    def _compile_step(self, job: str, item: dict) -> dict:
        return {"step": COMPILE, "i": item["i"], "target": item["target"], "name": item["name"],
                "arch": item["arch"], "text": item["text"], "object": _object(job, item)}

    def _run_step(self, job: str, item: dict, trial: int) -> dict:
        run = item["run"]
        return {"step": RUN, "i": item["i"], "trial": trial, "seed": run["seeds"][trial], "source": run["source"],
                "kernel_name": run["kernel_name"], "report": run["report"], "name": item["name"],
                "object": _object(job, item)}


def _object(job: str, item: dict) -> str:
    return os.path.join(job, "obj", f"{item['i']}.o")


def _is_int(value: object, want: int | None) -> bool:
    return type(value) is int and value == want


def _short(message: object) -> str:
    return repr(message)[:60]
