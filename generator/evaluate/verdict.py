"""The behaves verdict, judged in the harness from raw outputs: trials, expected outputs, degenerate outputs.

Trials
------
A prediction runs on ``1 + HIDDEN_TRIALS`` input sets: the recorded one (``example_io``'s, from
the record's ``input_seed``) and ``HIDDEN_TRIALS`` drawn at scoring time from seeds of
``secrets`` (never derived from the record, so a training set cannot hold them), built by the
same input construction as records (``launch``'s inputs from a seed). Expected outputs come from
the harness, never from the prediction's worker: for the recorded trial ``example_io["outputs"]``,
for hidden trials the outputs of the record's true IR (its own regenerated module, compiled by
the same toolchain) run in a worker of its own. The true IR must also reproduce
``example_io`` on the recorded trial, or the record is a harness error, not a score.

A trial fails on the first of: the worker's own error line (crash, timeout, load or launch
error), degenerate outputs (below), a difference beyond ``compare_outputs``' tolerances.

Degenerate outputs
------------------
The arrays the true kernel changes on a trial (its outputs differ from its inputs) are what a
prediction must compute. When the prediction leaves every one of them as it was (it did
nothing) or sets every number in them to zero, while the true ones are not so, the trial fails
with ``degenerate: ...`` rather than a first mismatching element.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from .compare import compare_outputs

HIDDEN_TRIALS = 2


def hidden_seeds(recorded: int) -> list[int]:
    """``HIDDEN_TRIALS`` fresh 32-bit input seeds, distinct from each other and the recorded one."""
    seeds: list[int] = []
    while len(seeds) < HIDDEN_TRIALS:
        seed = secrets.randbits(32)
        if seed != recorded and seed not in seeds:
            seeds.append(seed)
    return seeds


@dataclass(frozen=True)
class Verdict:
    """``behaves`` with its reason, or a harness error (``behaves`` None, ``harness`` the why)."""

    behaves: bool | None
    reason: str = ""
    harness: str = ""
    trials: int = 0          # trials judged: all of them on a pass, up to the failing one otherwise


def trial_name(t: int) -> str:
    return "recorded trial" if t == 0 else f"hidden trial {t}"


def expected_trials(example_io: str, truth: dict, trials: int) -> list[dict] | str:
    """Per trial ``{"inputs", "outputs"}`` the prediction must meet, or why the harness cannot say.

    ``truth``: the true IR's item result (``{"compiled": ..., "trials": {t: {"io"} | {"error"}}}``).
    """
    compiled = truth.get("compiled")
    if compiled is None or not compiled["ok"]:
        error = (compiled or {}).get("error") or "no result"
        return f"the record's true IR does not build: {error.splitlines()[0] if error.strip() else '?'}"
    recorded = json.loads(example_io)
    out = []
    for t in range(trials):
        ran = truth["trials"].get(t, {"error": "no result"})
        if "io" not in ran:
            return f"the record's true IR fails on the {trial_name(t)}: {ran['error']}"
        io = json.loads(ran["io"])
        if t == 0:
            if io.get("dim") != recorded.get("dim") or io.get("inputs") != recorded.get("inputs"):
                # Same seed, same code: only a change in launch's input construction gets here.
                return "rebuilt inputs differ from example_io's (input construction changed?)"
            mismatch = compare_outputs(recorded.get("outputs"), io.get("outputs"), "outputs")
            if mismatch:
                return f"the record's true IR does not reproduce example_io: {mismatch}"
            io = recorded
        out.append({"inputs": io.get("inputs", {}), "outputs": io.get("outputs", {})})
    return out


def judge(expected: list[dict], predicted: dict) -> Verdict:
    """The verdict on the prediction's item result (``{"trials": {t: {"outputs"} | {"error"}}}``)."""
    for t, want in enumerate(expected):
        ran = predicted["trials"].get(t, {"error": "worker_error: no result"})
        if ran.get("harness"):
            return Verdict(None, harness=ran["error"])
        reason = ran["error"] if "error" in ran else _outputs_differ(want, ran["outputs"])
        if reason:
            return Verdict(False, f"{trial_name(t)}: {reason}", trials=t + 1)
    return Verdict(True, trials=len(expected))


def _outputs_differ(want: dict, got: Any) -> str | None:
    return degenerate(want["outputs"], got, want["inputs"]) or compare_outputs(want["outputs"], got, "outputs")


def degenerate(want: dict, got: Any, inputs: dict) -> str | None:
    """``degenerate: ...`` when ``got`` leaves the true kernel's changed arrays as they were, or zero."""
    if not isinstance(got, dict) or not isinstance(want, dict) or set(got) != set(want):
        return None   # a layout difference: compare_outputs names it
    changed = sorted(k for k in want if want[k] != inputs.get(k))
    if not changed:
        return None   # the true kernel changed nothing on these inputs: nothing to tell apart
    if all(got[k] == inputs.get(k) for k in changed):
        return f"degenerate: outputs unchanged from their inputs ({', '.join(changed)})"
    if _all_zero([got[k] for k in changed]) and not _all_zero([want[k] for k in changed]):
        return f"degenerate: every output is zero ({', '.join(changed)})"
    return None


def _all_zero(tree: Any) -> bool:
    numbers = list(_numbers(tree))
    return bool(numbers) and all(x == 0 for x in numbers)


def _numbers(tree: Any) -> Any:
    """The values of a decoded ``example_io`` tree (a truncated array's ``head``, not its ``shape``)."""
    if isinstance(tree, dict):
        for key, value in tree.items():
            if key != "shape" or "head" not in tree:
                yield from _numbers(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from _numbers(value)
    elif isinstance(tree, (int, float)):   # bools too: False is a zero
        yield tree
    else:
        yield 1   # "nan", "inf", a handle's name: not a zero
