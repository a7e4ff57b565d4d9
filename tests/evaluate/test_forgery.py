"""Attacks on the behaves verdict: each test passes only when the attack fails.

The predictions here do none of the kernel's work. One writes result lines, as an attacker
would, to every file descriptor 3..64 of the worker (its pipe to the supervisor among them) and
exits; one stores the outputs a training set publishes (``example_io``'s); one does nothing.
The true IR passes every rung on the recorded and the hidden trials, and a prediction that
differs from it only in a ``@wp.struct`` hash is exact.
"""

from __future__ import annotations

import json
import re

import pytest
from warp_ir_pairs_generator import driver
from warp_ir_pairs_generator.evaluate import RUNGS, Score, report, score
from warp_ir_pairs_generator.options import GenerationOptions

RUN_LIMIT_S = 5.0
STRUCT_NAME = re.compile(r"\b([A-Z]\w*)_([0-9a-f]{8})\b(?!_cpu_kernel)")


@pytest.fixture(scope="module")
def records() -> dict[str, dict]:
    options = GenerationOptions.from_config("cpu-tiny", verify="execute")
    arith, particles = driver.make_record(options, 0), driver.make_record(options, 10)
    assert arith["category"] == "arith" and arith["example_io"], arith["category"]
    assert STRUCT_NAME.search(particles["ir_code"]) and particles["example_io"], particles["category"]
    return {"arith": arith, "struct": particles}


def _with_body(ir: str, body: str, before: str = "") -> str:
    """The true function's signature with another body (and declarations before it)."""
    return before + ir[:ir.index("{") + 1] + "\n" + body + "\n}\n"


def _c_string(text: str) -> str:
    return json.dumps(text)   # JSON string escapes are C++ string escapes for this text


def _forging(ir: str, lines: list[dict]) -> str:
    """A body that writes ``lines`` to every fd 3..64 on its first thread, then exits the worker."""
    payload = "".join(json.dumps(line) + "\n" for line in lines)
    before = 'extern "C" long write(int, const void*, unsigned long);\nextern "C" void _exit(int);\n'
    body = (f"    static const char forged[] = {_c_string(payload)};\n"
            "    if (task_index == 0) {\n"
            "        for (int fd = 3; fd <= 64; ++fd) write(fd, forged, sizeof(forged) - 1);\n"
            "        _exit(0);\n"
            "    }")
    return _with_body(ir, body, before)


def _hard_coded(record: dict) -> str:
    """A body that stores example_io's outputs into the arrays the kernel changes, whatever the inputs."""
    io = json.loads(record["example_io"])
    lines = ["    if (task_index == 0) {"]
    for arg, out in io["outputs"].items():
        if out == io["inputs"][arg]:
            continue
        assert isinstance(out, list) and all(isinstance(x, float) for x in out), (arg, out)
        lines += [f"        static const wp::float32 {arg}_[] = {{{', '.join(repr(x) + 'f' for x in out)}}};",
                  f"        for (int k = 0; k < {len(out)} && k < _wp_args->{arg}.shape[0]; ++k)",
                  f"            ((wp::float32*)_wp_args->{arg}.data)[k] = {arg}_[k];"]
    return _with_body(record["ir_code"], "\n".join(lines + ["    }"]))


def _attacks(record: dict, first: int) -> dict[str, str]:
    """Hostile predictions, in order; the first is scored as item ``first`` (the next ones follow).

    Each forger claims its own item first (the best an attacker can guess), then a few more.
    """
    ir, io = record["ir_code"], json.loads(record["example_io"])
    trials = range(3)

    def items(k: int) -> list[int]:
        return [first + k, *range(4)]

    return {
        # The line the harness used to take on trust: "ok", and the recorded example_io.
        "old_format": _forging(ir, [{"result": {"ran": i, "ok": True, "reason": "", "io": record["example_io"],
                                                "harness": False}} for i in items(0)]),
        # Raw outputs (the recorded ones) for every trial, then "done".
        "raw_outputs": _forging(ir, [{"result": {"ran": i, "trial": t, "outputs": io["outputs"]}}
                                     for i in items(1) for t in trials] + [{"end": True}]),
        # Each claimed trial announced first, as the worker would.
        "phases": _forging(ir, [m for i in items(2) for t in trials
                                for m in ({"phase": "run", "items": [i], "trial": t},
                                          {"result": {"ran": i, "trial": t, "outputs": io["outputs"]}})]),
        # Lines the supervisor itself must not trip over.
        "malformed": _forging(ir, [{"phase": "run", "items": 5}, {"result": 5}]),
        "hard_coded": _hard_coded(record),
        "nothing": _with_body(ir, "    // does none of the kernel's work"),
    }


@pytest.fixture(scope="module")
def scored(records) -> dict[str, Score]:
    arith, struct = records["arith"], records["struct"]
    name, digest = STRUCT_NAME.search(struct["ir_code"]).groups()
    # Every case becomes one scoring item, in this order: the attacks are items 0, 1, ...
    cases = {f"attack:{tag}": (dict(arith, id=f"{arith['id']}#{tag}"), pred)
             for tag, pred in _attacks(arith, first=0).items()}
    cases["true:arith"] = (arith, arith["ir_code"])
    cases["true:struct"] = (dict(struct, id=f"{struct['id']}#true"), struct["ir_code"])
    # Another hash than Warp's for the struct: what a model that cannot compute it would write.
    other = "0badf00d" if digest != "0badf00d" else "feedface"
    cases["struct_hash"] = (struct, struct["ir_code"].replace(f"{name}_{digest}", f"{name}_{other}"))
    scores = score([rec for rec, _ in cases.values()], {rec["id"]: p for rec, p in cases.values()},
                   timeout_s=RUN_LIMIT_S)
    return dict(zip(cases, scores, strict=True))


@pytest.mark.parametrize("tag", ["old_format", "raw_outputs", "phases", "malformed"])
def test_result_lines_forged_on_the_workers_pipe_do_not_pass(scored, tag):
    s = scored[f"attack:{tag}"]
    assert (s.compiles, s.behaves, s.failed_rung) == (True, False, "behaves"), s
    assert "harness_error" not in s.detail


def test_hard_coded_recorded_outputs_pass_the_recorded_trial_and_fail_a_hidden_one(scored):
    s = scored["attack:hard_coded"]
    assert (s.compiles, s.behaves, s.failed_rung) == (True, False, "behaves"), s
    assert "behaves: hidden trial" in s.detail and s.trials >= 2, s


def test_a_prediction_that_does_nothing_is_degenerate(scored):
    s = scored["attack:nothing"]
    assert (s.compiles, s.behaves) == (True, False), s
    assert "behaves: recorded trial: degenerate: outputs unchanged from their inputs" in s.detail, s


def test_the_true_ir_passes_every_rung_on_at_least_three_trials(scored):
    for tag in ("true:arith", "true:struct"):
        s = scored[tag]
        assert (s.exact, s.compiles, s.behaves, s.failed_rung, s.detail) == (True, True, True, None, "ok"), s
        assert s.trials >= 3, s
    summary = report(list(scored.values()))
    assert summary["harness_errors"] == []
    assert {int(n) for n, count in summary["behaves_trials"].items() if count} >= {3}
    assert set(RUNGS) <= set(summary["overall"])


def test_a_struct_hash_is_no_difference_on_any_rung(scored):
    s = scored["struct_hash"]
    assert (s.exact, s.compiles, s.behaves, s.failed_rung, s.detail) == (True, True, True, None, "ok"), s
