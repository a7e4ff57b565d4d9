"""The rungs: put each record's prediction through exact, compiles and behaves; one ``Score`` each.

Rungs
-----
1. **exact**: ``normalize_ir(prediction) == normalize_ir(record["ir_code"])`` (see
   ``normalize_ir``). Always scored: it costs about a millisecond.
2. **compiles**: the prediction replaces the true forward function inside the whole module Warp
   generates for the record (regenerated with ``codegen.emit(python_source, kernel_name,
   backend).module_text``, the exact span of the true forward function replaced), and that module
   is built by Warp's own toolchain exactly as ``native`` builds records: CPU (``cpu`` and
   ``paired`` records, whose ``ir_code`` is CPU C++) with Warp's bundled clang for the fixed
   ``toolchain.constants.CPU_TARGET``, CUDA (``cuda`` records) with NVRTC to PTX for the record's
   ``ptx_arch`` (``toolchain.constants.DEFAULT_PTX_ARCH`` when it has none). No GPU is needed. Before
   compiling, the 8-hex content hash of the prediction's kernel name (``<kernel>_<hash>``, also
   in ``wp_args_<kernel>_<hash>``) is set to the true one: the hash is not a property a model
   can be asked to reproduce, exact matching ignores it too, and without this a prediction that
   matches exactly could fail to compile (the module's entry wrapper calls the true name).
   Likewise the hash in each ``@wp.struct`` name the module declares (``Params_<hash>``).
   A prediction with a file-reading directive (``#include``, ``#include_next``, ``#import``,
   ``#embed``, however spelled) fails without being compiled: Warp never emits a directive
   inside a function, and ``#include "/dev/urandom"`` would have clang read forever.
3. **behaves** (records whose ``ir_code`` is CPU C++ and that carry ``example_io``, i.e. were
   generated at ``verify="execute"``): the object built from the prediction is launched on the
   CPU, in a sandboxed worker process with a time limit, on ``1 + HIDDEN_TRIALS`` (3) input
   sets: the recorded one (``example_io["inputs"]``) and two drawn at scoring time from
   ``secrets`` seeds, which no record holds (see ``verdict``). The worker reports raw outputs
   only; the verdict is computed here against expected outputs the prediction's worker never
   sees: ``example_io["outputs"]`` for the recorded trial, and for hidden trials the outputs of
   the record's true IR (the regenerated module, unchanged) run in workers of their own.
   Every trial must match: floats within ``abs(got - want) <= ATOL + RTOL * abs(want)`` (RTOL
   1e-4, ATOL 1e-5; records round floats to 6 significant digits, so re-running the true IR
   matches to the last digit), ints and bools exactly, ``"nan"``/``"inf"``/``"-inf"`` (how
   records spell non-finite values) exactly, and the same keys, shapes and truncation
   (``{"shape", "head"}``) layout. Outputs that leave the kernel's arrays as they were, or
   zero them, where the true ones are not, fail as ``degenerate: ...``. ``Score.trials``
   counts the trials judged. ``cuda`` records are not run (CUDA C++ cannot run on the CPU):
   behaves is ``None``.

``None`` means "not scored" (not applicable, or the rung was not requested), never a failure.
A missing prediction fails every rung that applies to its record (``detail`` reads
``MISSING``). When the harness itself cannot score a record (its module cannot be regenerated,
the recorded inputs cannot be rebuilt, or its true IR does not reproduce ``example_io`` or fails
on a hidden trial), the rung is ``None`` and ``detail`` starts with
``HARNESS_ERROR``; ``report`` lists those ids. Records without IR (``errors`` records, whose
kernel Warp refused) are scored on exact only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import toolchain
from ..sandbox import SandboxUnavailable, refusal, unavailable
from ..toolchain.constants import DEFAULT_PTX_ARCH
from .normalize import file_directive, first_difference, normalize_ir
from .sandboxed import sandboxed
from .verdict import expected_trials, hidden_seeds, judge

RUNGS = ("exact", "compiles", "behaves")
# failed_rung names the most basic rung that failed: a prediction that does not compile
# is first of all "does not compile", not "inexact".
BASIC_FIRST = ("compiles", "behaves", "exact")
DETAIL_CHARS = 300
MISSING = "missing prediction"
HARNESS_ERROR = "harness_error"
# How Warp declares a @wp.struct in a module: ``struct <Name>_<8-hex hash>``.
_STRUCT_DECLARATION = re.compile(r"^struct (\w+_[0-9a-f]{8})\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Score:
    """The outcome of one record. ``None``: rung not applicable to the record, or not requested."""

    id: str
    category: str
    exact: bool
    compiles: bool | None
    behaves: bool | None
    failed_rung: str | None   # most basic failed rung: "compiles", then "behaves", then "exact"
    detail: str               # one line: why each failed rung failed ("ok" when none did)
    trials: int = 0           # input sets the behaves verdict was judged on (0: not run)


@dataclass
class _Case:
    """One record on its way through the rungs."""

    record: dict
    prediction: str | None
    target: str                      # the backend the ir_code is for: "cpu" or "cuda"
    exact: bool = False
    compiles: bool | None = None
    behaves: bool | None = None
    notes: dict[str, str] = field(default_factory=dict)   # rung -> why it failed / was not scored
    harness: str = ""
    seeds: list[int] = field(default_factory=list)        # behaves: the input seed of each trial
    trials: int = 0

    @property
    def has_ir(self) -> bool:
        """Native rungs apply: the record has IR (``errors`` records, Warp refused the kernel, do not)."""
        return bool(self.record.get("ir_code"))

    @property
    def runnable(self) -> bool:
        """Behaves applies: CPU IR and a recorded CPU run to compare against."""
        return self.has_ir and self.target == "cpu" and bool(self.record.get("example_io"))


def score(records: list[dict], predictions: Mapping[str, str], *, rungs: Iterable[str] = RUNGS,
          timeout_s: float = 10.0, workers: int = 1, sandbox: bool = True) -> list[Score]:
    """Score each record's prediction (``predictions[record["id"]]``) on ``rungs``; one Score each.

    ``timeout_s`` limits each prediction's run (module load, inputs, launch); compiles have their
    own generous limit (``COMPILE_TIMEOUT_S``). ``exact`` is always computed. Predictions for ids
    that are not in ``records`` are ignored. ``workers`` sandbox processes share the compiles and
    runs (each pays its own start-up and precompiled header, about 2.5 s). Predictions compile
    and run in the OS sandbox; where it cannot run, ``compiles``/``behaves`` raise
    ``SandboxUnavailable`` (one line) unless ``sandbox=False``: then they run unconfined, with
    the caller's privileges.
    """
    wanted = tuple(rungs)
    unknown = [r for r in wanted if r not in RUNGS]
    if unknown:
        raise ValueError(f"unknown rung(s) {unknown}; valid rungs: {', '.join(RUNGS)}")
    if not timeout_s > 0:
        raise ValueError(f"timeout_s must be > 0, got {timeout_s!r}")
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ValueError(f"workers must be an int >= 1, got {workers!r}")
    if sandbox and {"compiles", "behaves"} & set(wanted) and (missing := unavailable()):
        raise SandboxUnavailable(refusal(missing))
    cases = []
    for record in records:
        prediction = predictions.get(record["id"])
        if prediction is not None and not isinstance(prediction, str):
            raise ValueError(f"prediction for {record['id']!r} must be a string, got {type(prediction).__name__}")
        case = _Case(record, prediction, "cuda" if record["backend"] == "cuda" else "cpu")
        if prediction is not None:
            case.exact = normalize_ir(prediction) == normalize_ir(record["ir_code"])
            if not case.exact:
                case.notes["exact"] = first_difference(record["ir_code"], prediction)
        cases.append(case)

    by_case: dict[int, dict] = {}
    items: list[dict] = []
    if {"compiles", "behaves"} & set(wanted):
        for case in cases:
            if case.prediction is None or not case.has_ir:
                continue
            directive = file_directive(case.prediction)
            if directive:
                error = f"refused: #{directive} in a predicted function (it would read files)"
                by_case[id(case)] = {"compiled": {"ok": False, "error": error, "harness": False}}
                continue
            item = _prepare(case, run="behaves" in wanted and case.runnable)
            if item is not None:
                item["i"] = len(items)
                items.append(item)
    truths = [_truth_of(item) for item in items if item["run"]]
    results, true_results = _in_two_sandboxes(items, truths, timeout_s, workers, sandbox)
    by_case.update({id(item["case"]): results[item["i"]] for item in items})
    truth_of = {id(truth["case"]): true_results[truth["i"]] for truth in truths}
    return [_finish(case, wanted, by_case.get(id(case)), truth_of.get(id(case))) for case in cases]


def _in_two_sandboxes(items: list[dict], truths: list[dict], timeout_s: float, workers: int,
                      confined: bool) -> tuple[dict[int, dict], dict[int, dict]]:
    """The predictions' results and the true IRs' results, from separate workers (run side by side)."""
    if not truths:
        return sandboxed(items, timeout_s, workers, confined), {}
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:   # threads only wait on the workers' pipes
        truth = pool.submit(sandboxed, truths, timeout_s, workers, confined)
        return sandboxed(items, timeout_s, workers, confined), truth.result()


def _truth_of(item: dict) -> dict:
    """The true IR's own item for a prediction item that runs: the unchanged module, the same trials."""
    return dict(item, text=item["true_text"], run=dict(item["run"], report="io"))


def _prepare(case: _Case, run: bool) -> dict | None:
    """The worker's job for one prediction: the module text to build and what to run; None on error."""
    record = case.record
    try:
        ir = toolchain.emit(record["python_source"], record["kernel_name"], case.target)
    except Exception as e:   # KernelRejected or a Warp error: the record, not the prediction
        case.harness = f"cannot regenerate the record's module: {type(e).__name__}: {e}"
        return None
    if ir.forward != record["ir_code"]:
        # Generation is deterministic, so this is a stale or edited record: scoring a prediction
        # inside a module that does not belong to its ir_code would measure the wrong thing.
        case.harness = "regenerated forward function differs from the record's ir_code (stale record?)"
        return None
    span = ir.forward.rstrip("\n")
    at = ir.module_text.find(span)
    if at < 0 or ir.module_text.find(span, at + 1) >= 0:
        case.harness = "cannot locate the forward function in the regenerated module"
        return None
    prediction = _true_hashes(case.prediction or "", ir.mangled_name, ir.module_text)
    text = ir.module_text[:at] + prediction + ir.module_text[at + len(span):]
    item: dict[str, Any] = {"case": case, "target": case.target, "name": ir.mangled_name, "text": text,
                            "true_text": ir.module_text,
                            "arch": int(record.get("ptx_arch") or DEFAULT_PTX_ARCH), "run": None}
    if run:
        recorded = _input_seed(record)
        case.seeds = [recorded, *hidden_seeds(recorded)]
        item["run"] = {"source": record["python_source"], "kernel_name": record["kernel_name"],
                       "seeds": case.seeds, "report": "outputs"}
    return item


def _true_hashes(prediction: str, mangled: str, module_text: str) -> str:
    """The prediction with its kernel's and structs' content hashes set to the true ones (see module doc)."""
    prefix = re.escape(mangled[:-8])
    pattern = rf"(?:(?<=\bwp_args_)|(?<!\w)){prefix}[0-9a-f]{{8}}(?![0-9A-Za-z])"
    prediction = re.sub(pattern, mangled, prediction)
    for name in sorted(set(_STRUCT_DECLARATION.findall(module_text))):
        # Also inside adj_<Name>_<hash>, never inside another name that ends in <Name>.
        struct = rf"(?<![0-9A-Za-z]){re.escape(name[:-8])}[0-9a-f]{{8}}(?![0-9A-Za-z])"
        prediction = re.sub(struct, name, prediction)
    return prediction


def _input_seed(record: dict) -> int:
    """The seed ``example_io``'s inputs were drawn from (a function of backend, seed, index)."""
    from ..launch import input_seed

    return input_seed(record["backend"], int(record["seed"]), int(record["index"]))


def _finish(case: _Case, wanted: tuple[str, ...], result: dict | None, truth: dict | None) -> Score:
    """Turn a case, its worker result and its true IR's result into a Score."""
    missing = case.prediction is None
    if case.harness:
        pass   # the record could not be prepared: no native rung is scored
    elif not case.has_ir:
        for rung in ("compiles", "behaves"):
            if rung in wanted:
                case.notes[rung] = "n/a: record has no IR"
    elif missing:
        if "compiles" in wanted:
            case.compiles = False
        if "behaves" in wanted and case.runnable:
            case.behaves = False
    elif result is not None:
        compiled = result.get("compiled", {"ok": False, "error": "no compile result", "harness": True})
        if compiled["harness"]:
            case.harness = compiled["error"]
        else:
            if "compiles" in wanted:
                case.compiles = compiled["ok"]
                if not compiled["ok"]:
                    case.notes["compiles"] = _first_error(compiled["error"])
            if "behaves" in wanted and case.runnable:
                _judge_behaviour(case, compiled, result, truth)
    if "behaves" in wanted and not case.runnable and not case.harness and case.has_ir:
        case.notes.setdefault("behaves", "n/a: " + ("CUDA IR is not run" if case.target == "cuda"
                                                    else "record has no example_io"))
    if "exact" not in wanted:
        case.notes.pop("exact", None)
    failed = [r for r in BASIC_FIRST if r in wanted and getattr(case, r) is False]
    return Score(str(case.record["id"]), str(case.record.get("category", "")), case.exact, case.compiles,
                 case.behaves, failed[0] if failed else None, _detail(case, missing),
                 case.trials if case.behaves is not None else 0)


def _judge_behaviour(case: _Case, compiled: dict, predicted: dict, truth: dict | None) -> None:
    """Behaves, judged here from raw outputs against expected ones computed apart (see ``verdict``)."""
    if not compiled["ok"]:
        case.behaves = False
        case.notes["behaves"] = "not run: does not compile"
        return
    trials = len(case.seeds)
    expected = expected_trials(case.record["example_io"], truth or {}, trials)
    if isinstance(expected, str):
        case.harness = expected
        return
    verdict = judge(expected, predicted)
    if verdict.harness:
        case.harness = verdict.harness
        return
    case.behaves, case.trials = verdict.behaves, verdict.trials
    if verdict.reason:
        case.notes["behaves"] = verdict.reason


def _detail(case: _Case, missing: bool) -> str:
    if missing:
        text = MISSING
    elif case.harness:
        text = f"{HARNESS_ERROR}: {case.harness}"
        if "exact" in case.notes:
            text += f"; exact: {case.notes['exact']}"
    else:
        parts = [f"{rung}: {case.notes[rung]}" for rung in BASIC_FIRST if rung in case.notes]
        text = "; ".join(parts) or "ok"
    return " ".join(text.split())[:DETAIL_CHARS]


def _first_error(error: str) -> str:
    lines = [ln.strip() for ln in error.splitlines() if "error" in ln.lower()] or error.splitlines() or ["?"]
    return lines[0]
