"""Reading predictions and aggregating scores: the two ends of an evaluation run."""

from __future__ import annotations

import json
import os
from collections import Counter

from .score import BASIC_FIRST, HARNESS_ERROR, MISSING, RUNGS, Score


def report(scores: list[Score]) -> dict:
    """Rates per rung, overall and per category, plus counts and the ids that need attention.

    ``{"records": n, "overall": {rung: tally}, "per_category": {category: {"records": n,
    rung: tally}}, "failed_rung": {rung: count}, "missing_predictions": [ids],
    "harness_errors": [ids], "behaves_trials": {trials: count}}`` (how many behaves verdicts were
    judged on how many input sets: all of them, ``1 + HIDDEN_TRIALS``, on a pass, up to the
    failing one otherwise, 0 when the prediction was not run) where a tally is ``{"passed", "failed", "not_applicable",
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
    trials = Counter(s.trials for s in scores if s.behaves is not None)
    return {
        "records": len(scores),
        "overall": tally(scores),
        "per_category": {c: {"records": len(g), **tally(g)} for c, g in sorted(categories.items())},
        "failed_rung": {rung: failed_rung.get(rung, 0) for rung in BASIC_FIRST},
        "missing_predictions": sorted(s.id for s in scores if s.detail == MISSING),
        "harness_errors": sorted(s.id for s in scores if s.detail.startswith(HARNESS_ERROR)),
        "behaves_trials": {str(n): k for n, k in sorted(trials.items())},
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
