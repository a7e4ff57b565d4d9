"""Score predicted IR against the records: exact text, native compile, CPU behaviour.

A model reads a record's ``python_source`` and predicts its ``ir_code`` (the kernel's forward
function as Warp emits it). ``score(records, predictions)`` puts every prediction through three
rungs and returns one ``Score`` per record; ``report(scores)`` aggregates them;
``read_predictions(path)`` reads the JSON-lines file a model writes. A broken prediction (garbage,
empty, wrong C++, a crash or a hang when run) is a scored failure, never an exception or a stall.

Rungs
-----
1. **exact**: ``normalize_ir(prediction) == normalize_ir(record["ir_code"])`` (see
   ``normalize_ir``). Always scored: it costs about a millisecond.
2. **compiles**: the prediction replaces the true forward function inside the whole module Warp
   generates for the record (regenerated with ``codegen.emit(python_source, kernel_name,
   backend).module_text``, the exact span of the true forward function replaced), and that module
   is built by Warp's own toolchain exactly as ``native`` builds records: CPU (``cpu`` and
   ``paired`` records, whose ``ir_code`` is CPU C++) with Warp's bundled clang for the fixed
   ``native.CPU_TARGET``, CUDA (``cuda`` records) with NVRTC to PTX for the record's
   ``ptx_arch`` (``native.PTX_ARCH_DEFAULT`` when it has none). No GPU is needed. Before
   compiling, the 8-hex content hash of the prediction's kernel name (``<kernel>_<hash>``, also
   in ``wp_args_<kernel>_<hash>``) is set to the true one: the hash is not a property a model
   can be asked to reproduce, exact matching ignores it too, and without this a prediction that
   matches exactly could fail to compile (the module's entry wrapper calls the true name).
   A prediction with a file-reading directive (``#include``, ``#include_next``, ``#import``,
   ``#embed``, however spelled) fails without being compiled: Warp never emits a directive
   inside a function, and ``#include "/dev/urandom"`` would have clang read forever.
3. **behaves** (records whose ``ir_code`` is CPU C++ and that carry ``example_io``, i.e. were
   generated at ``verify="execute"``): the object built from the prediction is launched on the
   CPU, in a sandboxed worker process with a time limit, on the inputs recorded in
   ``example_io["inputs"]`` and its outputs must match ``example_io["outputs"]``: floats within
   ``abs(got - want) <= ATOL + RTOL * abs(want)`` (RTOL 1e-4, ATOL 1e-5; records round floats
   to 6 significant digits, so re-running the true IR matches to the last digit), ints and
   bools exactly, ``"nan"``/``"inf"``/``"-inf"`` (how records spell non-finite values) exactly,
   and the same launch ``dim``, keys, shapes and truncation (``{"shape", "head"}``) layout.
   ``cuda`` records are not run (CUDA C++ cannot run on the CPU): behaves is ``None``.

``None`` means "not scored" (not applicable, or the rung was not requested), never a failure.
A missing prediction fails every rung that applies to its record (``detail`` reads
``MISSING``). When the harness itself cannot score a record (its module cannot be regenerated,
or the recorded inputs cannot be rebuilt), the rung is ``None`` and ``detail`` starts with
``HARNESS_ERROR``; ``report`` lists those ids. Records without IR (``errors`` records, whose
kernel Warp refused) are scored on exact only.

How ``behaves`` makes Warp run the predicted code
-------------------------------------------------
Warp would only ever run the C++ it generates itself, so the worker hands it a prebuilt object
instead, through the loader behind Warp's public ``wp.load_aot_module``:

* The parent regenerates the record's module text, substitutes the prediction, and the worker
  builds it with ``native``'s own compile step (the function ``native.compile_cpu`` uses, so the
  verdict is the compiles rung, one clang run serves both rungs) and keeps the ``.o``.
* The worker execs ``python_source`` as a fresh module (as ``execute`` does) and calls
  ``kernel.module.load("cpu", block_dim=1, binary_path=<the .o>, meta_path=<{}>)``: with a
  ``binary_path`` Warp does no codegen and no compile, it JIT-links the object and registers it
  as the module's executable for ``block_dim=1``, the variant a CPU ``wp.launch`` uses. Warp's
  default options are kept, the ones ``codegen.emit`` generated the record with, so Warp's
  mangled kernel name (a hash of source and options) is the record's; the worker checks that
  before running (a mismatch is a harness error, not a score).
* It then calls ``launch.run_item`` with the record's ``input_seed`` (recomputed by
  ``driver.input_seed`` from the record's backend, seed and index): the very code that produced
  ``example_io`` builds the same inputs (checked equal to ``example_io["inputs"]``), launches
  with ``wp.launch`` (which finds the loaded executable, hash unchanged, and calls the
  prediction's ``<mangled>_cpu_forward``), checks the guard bytes around every array and encodes
  the outputs the same way.

Private API relied on (all exercised by tests/test_evaluate.py, which fails loudly if Warp or
the sibling modules change): ``Module.load(..., binary_path=, meta_path=)`` and
``ModuleExec.get_kernel_mangled_name``/``get_kernel_hooks`` (Warp 1.19, context.py), behind
``toolchain.load_cpu_object``; the object comes from ``toolchain.compile_cpu_object``.

Sandbox
-------
Compiles and runs both happen in a worker process (``python -c``, never a fork of the caller),
so a clang/NVRTC crash or a prediction that sends the compiler into a long search (template or
constexpr bombs) cannot take the caller down or stall it either. The worker announces each
phase (compile or run of an item) over a pipe before entering it; when it dies (SIGSEGV,
SIGILL, abort) or overruns its limit (``timeout_s`` for a run, ``COMPILE_TIMEOUT_S`` for a
compile) the supervisor knows the culprit, scores it as failed with the reason, kills the
worker and starts a fresh one for the remaining items.
Workers of one call share the clang precompiled header (hard links in the call's directory),
so a replacement costs a process start and Warp init (0.4-1 s), not a 1.5 s header rebuild.
This is a crash and hang boundary, not a security boundary: predicted C++ runs with the
caller's privileges, so score predictions you would run yourself.

Everything a call writes lives in one temp directory, removed on return.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import toolchain
from ..launch import EXIT_TIMEOUT_S, PchSeed, WorkerChannel, log_tail, read_json_line, reap, signal_name
from ..toolchain.constants import DEFAULT_PTX_ARCH as PTX_ARCH_DEFAULT

RUNGS = ("exact", "compiles", "behaves")
# failed_rung names the most basic rung that failed: a prediction that does not compile
# is first of all "does not compile", not "inexact".
_BASIC_FIRST = ("compiles", "behaves", "exact")
RTOL = 1e-4
ATOL = 1e-5
# One kernel's compile: 0.1-1 s (1.3 s more for the first precompiled header, up to ~1 s for
# svd/mesh kernels); the limit only catches pathological predictions.
COMPILE_TIMEOUT_S = 120.0
# A worker that does not start (import + wp.init) or move on between phases in this long is broken.
STARTUP_TIMEOUT_S = 120.0
# Consecutive worker deaths outside any item before the remaining items are given up on.
MAX_WORKER_FAILURES = 2
DETAIL_CHARS = 300
# Directives that read files. Warp never emits a preprocessor directive inside a function, and
# `#include "/dev/urandom"` would make clang read (and buffer) forever, so a prediction with one
# fails the compiles rung without being compiled.
_FILE_DIRECTIVES = ("include", "include_next", "import", "embed")
MISSING = "missing prediction"
HARNESS_ERROR = "harness_error"


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


# ---------------------------------------------------------------------------------------------
# Rung 1: normalization for exact match
# ---------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"""
      (?P<comment> //[^\n]* | /\*.*?\*/ )
    | (?P<literal> "(?:\\.|[^"\\\n])*" | '(?:\\.|[^'\\\n])*' )
    | (?P<ident> [A-Za-z_]\w* )
    | (?P<number> \.?\d(?:[eEpP][+-]|[\w.])* )
    | (?P<punct> ::|->\*?|\.\*|\+\+|--|<<=|>>=|<=>|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^]=|\.\.\.|\#\# | \S )
""", re.VERBOSE | re.DOTALL)
# The kernel's content hash, where Warp spells it: `<key>_<hash>_{cpu,cuda}_kernel_{forward,backward}`
# and the argument struct `wp_args_<key>_<hash>`.
_HASH_SITES = re.compile(r"_([0-9a-f]{8})_(?:cpu|cuda)_kernel_(?:forward|backward)$|^wp_args_\w+_([0-9a-f]{8})$")
# Warp's per-function counters: `var_N` (primal) and `adj_N` (its adjoint) share N; the block
# labels `start_for_N`/`end_for_N`/`start_while_N`/..., return labels `labelN` and helper names
# `_wp_continue_N`/`_wp_ref_view_N` share Adjoint.label_count.
_VAR = re.compile(r"(var|adj)_(\d+)")
_LABEL = re.compile(r"((?:start|end)_(?:for|while)_|block_|label|_wp_continue_|_wp_ref_view_)(\d+)")


def normalize_ir(text: str) -> str:
    """The canonical form exact matching compares: Warp's IR with its incidental parts removed.

    * Comments go: ``// ...`` and ``/* ... */``, so Warp's echo of each Python statement and its
      ``<L n>`` source-line tag, which shift with the source's layout, do not count. String and
      character literals are kept whole (a ``//`` inside ``"..."`` is not a comment).
    * Whitespace is insignificant: the text is split into C++ tokens (identifiers, numbers,
      literals, multi-character operators such as ``::``, ``->``, ``<<=``) joined by one space,
      so indentation, line breaks and spacing (``f(a,b)`` vs ``f(a, b)``) do not count.
    * The kernel's 8-hex content hash (``name_<hash>_cpu_kernel_forward``, ``wp_args_name_<hash>``)
      becomes ``_h0`` (``_h1``... for further hashes, by first appearance): it hashes the source and
      options, not something a model can be asked to compute.
    * Warp's numbering is renumbered by first appearance: ``var_N``/``adj_N`` (one sequence, as
      ``adj_N`` is the adjoint of ``var_N``) and the labels and helper names of Warp's label
      counter (``start_for_N``, ``end_while_N``, ``labelN``, ``_wp_continue_N``, ...). So only the
      order and use of the variables counts, not which numbers Warp happened to give them.

    Everything else (names, constants, types, statement order) must match token for token.
    """
    return " ".join(_normal_tokens(text))


def _normal_tokens(text: str) -> list[str]:
    tokens = [m.group() for m in _TOKEN.finditer(text) if m.lastgroup != "comment"]
    hashes: dict[str, str] = {}
    for tok in tokens:
        m = _HASH_SITES.search(tok)
        if m:
            h = m.group(1) or m.group(2)
            hashes.setdefault(h, f"h{len(hashes)}")
    hash_sub = re.compile(r"_(" + "|".join(hashes) + r")(?![0-9A-Za-z])") if hashes else None
    var_ids: dict[str, int] = {}
    label_ids: dict[str, int] = {}
    out = []
    for tok in tokens:
        if not (tok[0].isalpha() or tok[0] == "_"):
            out.append(tok)
            continue
        if hash_sub is not None:
            tok = hash_sub.sub(lambda m: "_" + hashes[m.group(1)], tok)
        m = _VAR.fullmatch(tok)
        if m:
            tok = f"{m.group(1)}_{var_ids.setdefault(m.group(2), len(var_ids))}"
        else:
            m = _LABEL.fullmatch(tok)
            if m:
                tok = f"{m.group(1)}{label_ids.setdefault(m.group(2), len(label_ids))}"
        out.append(tok)
    return out


def _file_directive(text: str) -> str | None:
    """The first file-reading directive in ``text`` (``#include``...), however it is spelled.

    Looks at tokens, after line splices are joined and comments dropped, so ``#/**/include``,
    ``# \\<newline> include`` and the digraph ``%:include`` are found too; ``"#include"`` in a
    string literal is not a directive.
    """
    tokens = [m.group() for m in _TOKEN.finditer(re.sub(r"\\\r?\n", "", text)) if m.lastgroup != "comment"]
    for k, tok in enumerate(tokens):
        after = k + 1 if tok == "#" else k + 2 if tok == "%" and tokens[k + 1:k + 2] == [":"] else None
        if after is not None and tokens[after:after + 1] and tokens[after] in _FILE_DIRECTIVES:
            return tokens[after]
    return None


def _first_difference(want: str, got: str) -> str:
    """Where two IR texts first differ after normalization, for the one-line detail."""
    a, b = _normal_tokens(want), _normal_tokens(got)
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return f"token {i}: expected {x!r}, got {y!r} (after {' '.join(a[max(0, i - 4):i])!r})"
    if len(a) > len(b):
        return f"prediction ends at token {len(b)} of {len(a)}"
    return f"prediction has {len(b) - len(a)} extra tokens after token {len(a)}"


# ---------------------------------------------------------------------------------------------
# Scoring
# ---------------------------------------------------------------------------------------------

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

    @property
    def has_ir(self) -> bool:
        """Native rungs apply: the record has IR (``errors`` records, Warp refused the kernel, do not)."""
        return bool(self.record.get("ir_code"))

    @property
    def runnable(self) -> bool:
        """Behaves applies: CPU IR and a recorded CPU run to compare against."""
        return self.has_ir and self.target == "cpu" and bool(self.record.get("example_io"))


def score(records: list[dict], predictions: Mapping[str, str], *, rungs: Iterable[str] = RUNGS,
          timeout_s: float = 10.0, workers: int = 1) -> list[Score]:
    """Score each record's prediction (``predictions[record["id"]]``) on ``rungs``; one Score each.

    ``timeout_s`` limits each prediction's run (module load, inputs, launch); compiles have their
    own generous limit (``COMPILE_TIMEOUT_S``). ``exact`` is always computed. Predictions for ids
    that are not in ``records`` are ignored. ``workers`` sandbox processes share the compiles and
    runs (each pays its own start-up and precompiled header, about 2.5 s).
    """
    wanted = tuple(rungs)
    unknown = [r for r in wanted if r not in RUNGS]
    if unknown:
        raise ValueError(f"unknown rung(s) {unknown}; valid rungs: {', '.join(RUNGS)}")
    if not timeout_s > 0:
        raise ValueError(f"timeout_s must be > 0, got {timeout_s!r}")
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ValueError(f"workers must be an int >= 1, got {workers!r}")
    cases = []
    for record in records:
        prediction = predictions.get(record["id"])
        if prediction is not None and not isinstance(prediction, str):
            raise ValueError(f"prediction for {record['id']!r} must be a string, got {type(prediction).__name__}")
        case = _Case(record, prediction, "cuda" if record["backend"] == "cuda" else "cpu")
        if prediction is not None:
            case.exact = normalize_ir(prediction) == normalize_ir(record["ir_code"])
            if not case.exact:
                case.notes["exact"] = _first_difference(record["ir_code"], prediction)
        cases.append(case)

    by_case: dict[int, dict] = {}
    items: list[dict] = []
    if {"compiles", "behaves"} & set(wanted):
        for case in cases:
            if case.prediction is None or not case.has_ir:
                continue
            directive = _file_directive(case.prediction)
            if directive:
                error = f"refused: #{directive} in a predicted function (it would read files)"
                by_case[id(case)] = {"compiled": {"ok": False, "error": error, "harness": False}}
                continue
            item = _prepare(case, run="behaves" in wanted and case.runnable)
            if item is not None:
                item["i"] = len(items)
                items.append(item)
    results = _sandboxed(items, timeout_s, workers)
    by_case.update({id(item["case"]): results[item["i"]] for item in items})
    return [_finish(case, wanted, by_case.get(id(case))) for case in cases]


def _sandboxed(items: list[dict], timeout_s: float, workers: int) -> dict[int, dict]:
    """Results of every item, from ``workers`` independent sandboxes (threads only wait on pipes)."""
    groups = [items[k::workers] for k in range(workers) if items[k::workers]]
    if len(groups) <= 1:
        return _Sandbox(items, timeout_s).run() if items else {}
    from concurrent.futures import ThreadPoolExecutor

    results: dict[int, dict] = {}
    with ThreadPoolExecutor(len(groups)) as pool:
        for part in pool.map(lambda group: _Sandbox(group, timeout_s).run(), groups):
            results.update(part)
    return results


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
    prediction = _true_hash(case.prediction or "", ir.mangled_name)
    text = ir.module_text[:at] + prediction + ir.module_text[at + len(span):]
    item: dict[str, Any] = {"case": case, "target": case.target, "name": ir.mangled_name, "text": text,
                            "arch": int(record.get("ptx_arch") or PTX_ARCH_DEFAULT), "run": None}
    if run:
        item["run"] = {"source": record["python_source"], "kernel_name": record["kernel_name"],
                       "seed": _input_seed(record)}
    return item


def _true_hash(prediction: str, mangled: str) -> str:
    """The prediction with its kernel's content hash set to the true one (see module doc)."""
    prefix = re.escape(mangled[:-8])
    pattern = rf"(?:(?<=\bwp_args_)|(?<!\w)){prefix}[0-9a-f]{{8}}(?![0-9A-Za-z])"
    return re.sub(pattern, mangled, prediction)


def _input_seed(record: dict) -> int:
    """The seed ``example_io``'s inputs were drawn from (a function of backend, seed, index)."""
    from .. import driver
    from ..options import GenerationOptions

    return driver.input_seed(GenerationOptions.from_config(record["backend"], seed=int(record["seed"])),
                             int(record["index"]))


def _finish(case: _Case, wanted: tuple[str, ...], result: dict | None) -> Score:
    """Turn a case and its worker result into a Score."""
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
                _judge_behaviour(case, compiled, result.get("ran"))
    if "behaves" in wanted and not case.runnable and not case.harness and case.has_ir:
        case.notes.setdefault("behaves", "n/a: " + ("CUDA IR is not run" if case.target == "cuda"
                                                    else "record has no example_io"))
    if "exact" not in wanted:
        case.notes.pop("exact", None)
    failed = [r for r in _BASIC_FIRST if r in wanted and getattr(case, r) is False]
    return Score(str(case.record["id"]), str(case.record.get("category", "")), case.exact, case.compiles,
                 case.behaves, failed[0] if failed else None, _detail(case, missing))


def _judge_behaviour(case: _Case, compiled: dict, ran: dict | None) -> None:
    if not compiled["ok"]:
        case.behaves = False
        case.notes["behaves"] = "not run: does not compile"
        return
    if ran is None:
        case.harness = "no run result"
        return
    if ran.get("harness"):
        case.harness = ran["reason"]
        return
    if not ran["ok"]:
        case.behaves = False
        case.notes["behaves"] = ran["reason"]
        return
    want, got = json.loads(case.record["example_io"]), json.loads(ran["io"])
    if got.get("dim") != want.get("dim") or got.get("inputs") != want.get("inputs"):
        # Same seed, same code: only a change in execute's input construction gets here.
        case.harness = "rebuilt inputs differ from example_io's (input construction changed?)"
        return
    mismatch = compare_outputs(want.get("outputs"), got.get("outputs"), "outputs")
    case.behaves = mismatch is None
    if mismatch:
        case.notes["behaves"] = mismatch


def _detail(case: _Case, missing: bool) -> str:
    if missing:
        text = MISSING
    elif case.harness:
        text = f"{HARNESS_ERROR}: {case.harness}"
        if "exact" in case.notes:
            text += f"; exact: {case.notes['exact']}"
    else:
        parts = [f"{rung}: {case.notes[rung]}" for rung in _BASIC_FIRST if rung in case.notes]
        text = "; ".join(parts) or "ok"
    return " ".join(text.split())[:DETAIL_CHARS]


def _first_error(error: str) -> str:
    lines = [ln.strip() for ln in error.splitlines() if "error" in ln.lower()] or error.splitlines() or ["?"]
    return lines[0]


def compare_outputs(want: Any, got: Any, path: str = "") -> str | None:
    """First difference between two decoded ``example_io`` trees beyond tolerance, or None.

    Floats: ``abs(got - want) <= ATOL + RTOL * abs(want)``; ints, bools, strings (``"nan"``,
    ``"inf"``, ``"-inf"``) and the tree's layout (keys, list lengths) exactly.
    """
    if isinstance(want, dict):
        if not isinstance(got, dict) or set(want) != set(got):
            return f"{path}: expected keys {sorted(want)}, got {sorted(got) if isinstance(got, dict) else got!r}"
        for key in sorted(want):
            found = compare_outputs(want[key], got[key], f"{path}.{key}" if path else key)
            if found:
                return found
        return None
    if isinstance(want, list):
        if not isinstance(got, list) or len(want) != len(got):
            return f"{path}: expected {len(want)} items, got {len(got) if isinstance(got, list) else got!r}"
        for k, (a, b) in enumerate(zip(want, got, strict=True)):
            found = compare_outputs(a, b, f"{path}[{k}]")
            if found:
                return found
        return None
    numbers = (int, float)
    if (isinstance(want, numbers) and isinstance(got, numbers)
            and not isinstance(want, bool) and not isinstance(got, bool)):
        if isinstance(want, int) and isinstance(got, int):
            ok = want == got
        else:
            ok = math.isfinite(got) and abs(got - want) <= ATOL + RTOL * abs(want)
        return None if ok else f"{path}: expected {want!r}, got {got!r}"
    if type(want) is type(got) and want == got:
        return None
    return f"{path}: expected {want!r}, got {got!r}"


# ---------------------------------------------------------------------------------------------
# Aggregation and input
# ---------------------------------------------------------------------------------------------

def report(scores: list[Score]) -> dict:
    """Rates per rung, overall and per category, plus counts and the ids that need attention.

    ``{"records": n, "overall": {rung: tally}, "per_category": {category: {"records": n,
    rung: tally}}, "failed_rung": {rung: count}, "missing_predictions": [ids],
    "harness_errors": [ids]}`` where a tally is ``{"passed", "failed", "not_applicable",
    "rate"}``: ``rate = passed / (passed + failed)``, None when no record was scored on the rung
    (``not_applicable`` counts the ``None`` rungs: not applicable, or not requested).
    """
    def tally(group: list[Score]) -> dict:
        out = {}
        for rung in RUNGS:
            values = [getattr(s, rung) for s in group]
            passed, failed = values.count(True), values.count(False)
            out[rung] = {"passed": passed, "failed": failed, "not_applicable": len(values) - passed - failed,
                         "rate": passed / (passed + failed) if passed + failed else None}
        return out

    categories: dict[str, list[Score]] = {}
    for s in scores:
        categories.setdefault(s.category, []).append(s)
    failed_rung = Counter(s.failed_rung for s in scores if s.failed_rung)
    return {
        "records": len(scores),
        "overall": tally(scores),
        "per_category": {c: {"records": len(g), **tally(g)} for c, g in sorted(categories.items())},
        "failed_rung": {rung: failed_rung.get(rung, 0) for rung in _BASIC_FIRST},
        "missing_predictions": sorted(s.id for s in scores if s.detail == MISSING),
        "harness_errors": sorted(s.id for s in scores if s.detail.startswith(HARNESS_ERROR)),
    }


def read_predictions(path: str | os.PathLike) -> dict[str, str]:
    """``{id: ir_code}`` from a JSON-lines file of ``{"id": ..., "ir_code": ...}`` objects.

    Blank lines are skipped; other keys are ignored. A line that is not such an object, or that
    repeats an id, raises ``ValueError`` naming the file and the line number.
    """
    out: dict[str, str] = {}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError as e:
                raise ValueError(f"{path}:{number}: not valid JSON: {e}") from None
            if not isinstance(obj, dict):
                raise ValueError(f"{path}:{number}: expected a JSON object, got {type(obj).__name__}")
            for key in ("id", "ir_code"):
                if not isinstance(obj.get(key), str):
                    raise ValueError(f"{path}:{number}: {key!r} must be a string, got {obj.get(key)!r:.60}")
            if obj["id"] in out:
                raise ValueError(f"{path}:{number}: duplicate id {obj['id']!r}")
            out[obj["id"]] = obj["ir_code"]
    return out


# ---------------------------------------------------------------------------------------------
# Supervisor: worker rounds, crash and timeout attribution
# ---------------------------------------------------------------------------------------------

class _Sandbox:
    """Compile (and run) every item in worker processes; item index -> {"compiled", "ran"}."""

    def __init__(self, items: list[dict], timeout_s: float) -> None:
        self.items = items
        self.timeout_s = timeout_s
        self.results: dict[int, dict] = {item["i"]: {} for item in items}
        self._buffer = b""

    def _pending(self, item: dict) -> bool:
        res = self.results[item["i"]]
        if "compiled" not in res:
            return True
        return item["run"] is not None and res["compiled"]["ok"] and "ran" not in res

    def run(self) -> dict[int, dict]:
        job = os.path.abspath(tempfile.mkdtemp(prefix="warp-ir-eval-"))
        try:
            for sub in ("tmp", "obj", "pch", "cache"):
                os.mkdir(os.path.join(job, sub))
            with open(os.path.join(job, "obj", "meta.json"), "w", encoding="utf-8") as f:
                f.write("{}")   # a CPU executable reads no metadata (only CUDA's shared-memory sizes)
            failures, number = 0, 0
            while True:
                todo = [item for item in self.items if self._pending(item)]
                if not todo:
                    break
                progressed, error = self._round(job, number, todo)
                number += 1
                failures = 0 if progressed else failures + 1
                if failures >= MAX_WORKER_FAILURES:
                    # The worker cannot even get going (broken environment): nothing left is
                    # the predictions' fault, so the rest are harness errors, not failures.
                    for item in todo:
                        res = self.results[item["i"]]
                        res.setdefault("compiled", {"ok": False, "error": error, "harness": True})
                        if item["run"] is not None and res["compiled"]["ok"]:
                            res.setdefault("ran", {"ok": False, "reason": error, "io": "", "harness": True})
                    break
        finally:
            shutil.rmtree(job, ignore_errors=True)
        return self.results

    def _round(self, job: str, number: int, todo: list[dict]) -> tuple[bool, str]:
        """One worker through ``todo`` until done, dead or overrun: (made progress, worker error)."""
        request = os.path.join(job, f"request-{number}.json")
        with open(request, "w", encoding="utf-8") as f:
            json.dump([self._job_of(job, item) for item in todo], f)
        log_path = os.path.join(job, f"worker-{number}.log")
        read_fd, write_fd = os.pipe()
        env = dict(os.environ, TMPDIR=os.path.join(job, "tmp"))
        env.pop("WARP_CACHE_PATH", None)
        self._buffer = b""
        with open(log_path, "wb") as log:
            try:
                proc = subprocess.Popen(
                    [sys.executable, "-c", "from warp_ir_pairs_generator.evaluate import _worker_main; _worker_main()",
                     job, str(write_fd), request],
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
                    pass_fds=(write_fd,), env=env, cwd=job)
            except OSError as e:
                os.close(read_fd)
                return False, f"cannot start a worker: {e}"
            finally:
                os.close(write_fd)   # the worker holds the only write end: EOF means it is gone
        phase: tuple[str, int | None] = ("start", None)
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        progressed = False
        try:
            while True:
                msg = self._next_message(read_fd, deadline)
                if msg is None or msg == "timeout":
                    why = self._stop(proc, timed_out=msg == "timeout", log_path=log_path)
                    kind, index = phase
                    if kind == "compile" and index is not None:
                        self.results[index]["compiled"] = {"ok": False, "error": f"{why} (compile)", "harness": False}
                        return True, ""
                    if kind == "run" and index is not None:
                        self.results[index]["ran"] = {"ok": False, "reason": why, "io": "", "harness": False}
                        return True, ""
                    return progressed, f"worker {why} ({kind})"
                now = time.monotonic()
                if "compile" in msg:
                    phase, deadline = ("compile", msg["compile"]), now + COMPILE_TIMEOUT_S
                elif "run" in msg:
                    phase, deadline = ("run", msg["run"]), now + self.timeout_s
                elif "compiled" in msg:
                    self.results[msg["compiled"]]["compiled"] = {k: msg[k] for k in ("ok", "error", "harness")}
                    phase, deadline, progressed = ("between", None), now + STARTUP_TIMEOUT_S, True
                elif "ran" in msg:
                    self.results[msg["ran"]]["ran"] = {k: msg[k] for k in ("ok", "reason", "io", "harness")}
                    phase, deadline, progressed = ("between", None), now + STARTUP_TIMEOUT_S, True
                elif "ready" in msg:
                    phase, deadline = ("between", None), now + STARTUP_TIMEOUT_S
                elif "end" in msg:
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        proc.wait(timeout=EXIT_TIMEOUT_S)
                    return True, ""
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            os.close(read_fd)

    def _job_of(self, job: str, item: dict) -> dict:
        res = self.results[item["i"]]
        out = {k: item[k] for k in ("i", "target", "name", "arch", "run")}
        out["object"] = os.path.join(job, "obj", f"{item['i']}.o")
        out["text"] = item["text"] if "compiled" not in res else None   # None: object already built
        if out["run"] is not None and "compiled" in res and not res["compiled"]["ok"]:
            out["run"] = None
        return out

    def _stop(self, proc: subprocess.Popen, timed_out: bool, log_path: str) -> str:
        """Kill/reap the worker; why it stopped, in one phrase."""
        rc = reap(proc, kill=timed_out)
        if timed_out:
            return "timeout"
        if rc < 0:
            return f"crash: {signal_name(-rc)}"
        tail = _log_tail(log_path)
        return f"exited with code {rc}" + (f": {tail}" if tail else "")

    def _next_message(self, fd: int, deadline: float) -> dict | str | None:
        """The next JSON line from the worker; None at EOF, "timeout" past ``deadline``."""
        message, self._buffer = read_json_line(fd, self._buffer, deadline)
        return message


def _log_tail(path: str) -> str:
    """The worker log's last line, whitespace collapsed and capped for one-line details."""
    return " ".join(log_tail(path).split())[:200]


# ---------------------------------------------------------------------------------------------
# Worker (a fresh process): compile each item, load its object into Warp, launch, report
# ---------------------------------------------------------------------------------------------

def _worker_main() -> None:
    channel = WorkerChannel(sys.argv)
    job, send = channel.job, channel.send
    import warp as wp

    # Before init (Warp reads it there); nothing should be written, Module.load(binary_path=...)
    # never compiles, but a stray build must not land in the user's cache.
    wp.config.kernel_cache_dir = os.path.join(job, "cache")
    # Warp's defaults otherwise: they are the options warp_ir emitted the record with, so
    # Warp's mangled kernel names here are the record's.
    toolchain.warp()
    pch = PchSeed(os.path.join(job, "pch"), _native_pch_dir())
    send(ready=os.getpid())
    items = channel.work()
    meta = os.path.join(job, "obj", "meta.json")
    for item in items:
        if item["text"] is not None:
            send(compile=item["i"])
            try:
                ok, error, harness = _compile_item(item)
            except Exception as e:   # e.g. text clang cannot be handed (lone surrogates): the prediction's
                ok, error, harness = False, f"{type(e).__name__}: {e}", False
            if ok and item["target"] == "cpu":
                pch.save()
            send(compiled=item["i"], ok=ok, error=error, harness=harness)
            if not ok:
                continue
        if item["run"] is not None:
            send(run=item["i"])
            try:
                ran = _run_prediction(wp, item, meta)
            except Exception as e:   # run_item catches what a prediction can cause; this is ours
                ran = {"ok": False, "reason": f"{type(e).__name__}: {e}"[:DETAIL_CHARS], "io": "", "harness": True}
            send(ran=item["i"], **ran)
    channel.close()


def _compile_item(item: dict) -> tuple[bool, str, bool]:
    """Build the item's module as ``native`` does; keep the CPU object for the run.

    Returns (ok, error, harness): ``harness`` when the failure is the harness's, not the prediction's.
    """
    if item["target"] == "cuda":
        result = toolchain.compile_cuda([(item["name"], item["text"])], arch=item["arch"])[0]
    else:
        result = toolchain.compile_cpu_object(item["name"], item["text"], item["object"])
    return result.ok, result.error, False


def _run_prediction(wp: Any, item: dict, meta: str) -> dict:
    """Load the prediction's object as the kernel's executable and launch it like ``execute``."""
    from .. import launch

    run = item["run"]
    name = run["kernel_name"]
    filename = f"<{name}>"

    def result(ok: bool, reason: str, io: str = "", harness: bool = False) -> dict:
        return {"ok": ok, "reason": " ".join(reason.split())[:DETAIL_CHARS], "io": io, "harness": harness}

    module = None
    try:
        try:
            module = toolchain.load_module(run["source"], filename, f"warp_ir_pairs_eval_{item['i']}")
        except Exception as e:
            return result(False, f"cannot load python_source: {type(e).__name__}: {e}", harness=True)
        kernel = module.__dict__.get(name)
        if not toolchain.is_kernel(kernel):
            return result(False, f"no @wp.kernel named {name}", harness=True)
        try:
            # Private API (the loader behind wp.load_aot_module): load a prebuilt object as the
            # module's block_dim=1 executable, which is what a CPU wp.launch looks up.
            mangled, linked = toolchain.load_cpu_object(kernel, item["object"], meta)
        except Exception as e:
            return result(False, f"load_error: {type(e).__name__}: {e}")
        if mangled != item["name"]:
            return result(False, f"Warp names the kernel {mangled}, the record {item['name']} "
                                 "(options differ from toolchain.codegen's?)", harness=True)
        if not linked:
            # The JIT linker could not resolve a symbol the prediction uses (details on stderr).
            return result(False, f"load_error: {mangled}_cpu_forward does not link (unresolved symbols)")
        ok, reason, io = launch.run_item(wp, module, run["source"], name, run["seed"])
        # Input-side failures are execute's business, not the prediction's.
        return result(ok, reason, io, harness=reason.startswith(("unsupported", "input_error")))
    finally:
        toolchain.release_module(module, filename)


def _native_pch_dir() -> str | None:
    """The toolchain's per-process clang PCH directory (None: losing it only costs speed)."""
    try:
        return toolchain.clang_pch_dir()
    except Exception:
        return None
