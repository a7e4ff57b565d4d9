"""evaluate without Warp: the behaves verdict from raw outputs, and the worker's message sequence.

The harness judges; the worker only reports. These tests feed the judge and the sandbox client
what an honest worker, a broken one and a hostile one would say, and check that nothing but
outputs equal to the expected ones can make a prediction behave.
"""

from __future__ import annotations

import json

import pytest
from warp_ir_pairs_generator.evaluate import Score, normalize_ir, report
from warp_ir_pairs_generator.evaluate.sandboxed import COMPILE, _Scoring
from warp_ir_pairs_generator.evaluate.verdict import (
    HIDDEN_TRIALS,
    degenerate,
    expected_trials,
    hidden_seeds,
    judge,
)
from warp_ir_pairs_generator.sandbox import RUN, Phase, reasons

IR = """static void k_1a2b3c4d_cpu_kernel_forward(wp::launch_bounds_t<1> dim, wp_args_k_1a2b3c4d *_wp_args)
{
    wp::int32 var_0;
    var_0 = wp::add(var_0, var_0);
}
"""
INPUTS = {"a": [1.0, 2.0, 3.0], "out": [0.5, 0.25, 0.125], "n": 3}
OUTPUTS = {"a": [1.0, 2.0, 3.0], "out": [2.0, 4.0, 6.0]}
EXAMPLE_IO = json.dumps({"dim": [3], "inputs": INPUTS, "outputs": OUTPUTS})


def _io(outputs: dict, inputs: dict = INPUTS) -> str:
    return json.dumps({"dim": [3], "inputs": inputs, "outputs": outputs})


HIDDEN_IN = {"a": [5.0, 6.0, 7.0], "out": [0.1, 0.2, 0.3], "n": 3}
HIDDEN_OUT = {"a": [5.0, 6.0, 7.0], "out": [10.0, 12.0, 14.0]}
TRUTH = {"compiled": {"ok": True, "error": "", "harness": False},
         "trials": {0: {"io": EXAMPLE_IO}, **{t: {"io": _io(HIDDEN_OUT, HIDDEN_IN)} for t in (1, 2)}}}


def _predicted(*outputs) -> dict:
    return {"trials": {t: {"outputs": o} for t, o in enumerate(outputs)}}


# -- hidden seeds and expected outputs ---------------------------------------------------------

def test_hidden_seeds_are_fresh_each_draw_and_never_the_recorded_one():
    draws = [hidden_seeds(7) for _ in range(50)]
    assert all(len(d) == HIDDEN_TRIALS == 2 and len(set(d)) == 2 and 7 not in d for d in draws)
    assert len({tuple(d) for d in draws}) == 50      # from secrets, not from the record


def test_expected_outputs_are_example_io_then_the_true_irs():
    expected = expected_trials(EXAMPLE_IO, TRUTH, 3)
    assert [e["outputs"] for e in expected] == [OUTPUTS, HIDDEN_OUT, HIDDEN_OUT]
    assert expected[1]["inputs"] == HIDDEN_IN


@pytest.mark.parametrize("truth, message", [
    ({**TRUTH, "compiled": {"ok": False, "error": "x.cpp:1: error: nope", "harness": False}}, "true IR does not build"),
    ({**TRUTH, "trials": {**TRUTH["trials"], 2: {"error": "crash: SIGSEGV"}}}, "fails on the hidden trial 2: crash"),
    ({**TRUTH, "trials": {0: {"io": _io(OUTPUTS, HIDDEN_IN)}}}, "rebuilt inputs differ"),
    ({**TRUTH, "trials": {**TRUTH["trials"], 0: {"io": _io(HIDDEN_OUT)}}}, "does not reproduce example_io"),
    ({**TRUTH, "trials": {0: TRUTH["trials"][0]}}, "fails on the hidden trial 1: no result"),
])
def test_a_true_ir_that_cannot_be_trusted_is_a_harness_error(truth, message):
    assert message in expected_trials(EXAMPLE_IO, truth, 3)


# -- the verdict ---------------------------------------------------------------------------

def test_right_outputs_on_every_trial_behave():
    verdict = judge(expected_trials(EXAMPLE_IO, TRUTH, 3), _predicted(OUTPUTS, HIDDEN_OUT, HIDDEN_OUT))
    assert (verdict.behaves, verdict.reason, verdict.trials) == (True, "", 3)


def test_hard_coded_recorded_outputs_fail_on_a_hidden_trial():
    verdict = judge(expected_trials(EXAMPLE_IO, TRUTH, 3), _predicted(OUTPUTS, OUTPUTS, OUTPUTS))
    assert (verdict.behaves, verdict.trials) == (False, 2)
    assert verdict.reason.startswith("hidden trial 1: outputs.")


def test_a_missing_trial_or_a_worker_error_fails():
    expected = expected_trials(EXAMPLE_IO, TRUTH, 3)
    assert "hidden trial 2: worker_error: no result" == judge(expected, _predicted(OUTPUTS, HIDDEN_OUT)).reason
    crashed = {"trials": {0: {"outputs": OUTPUTS}, 1: {"error": "crash: SIGSEGV"}}}
    assert judge(expected, crashed).reason == "hidden trial 1: crash: SIGSEGV"


def test_unchanged_or_zero_outputs_are_degenerate_where_the_true_ones_are_not():
    expected = expected_trials(EXAMPLE_IO, TRUTH, 3)
    untouched = {"a": INPUTS["a"], "out": INPUTS["out"]}
    verdict = judge(expected, _predicted(untouched, HIDDEN_OUT, HIDDEN_OUT))
    assert (verdict.behaves, verdict.reason) == (False, "recorded trial: degenerate: outputs unchanged from "
                                                        "their inputs (out)")
    zeroed = {"a": INPUTS["a"], "out": [0.0, 0, False]}
    assert "degenerate: every output is zero (out)" in judge(expected, _predicted(zeroed)).reason
    # Where the true kernel itself zeroes or leaves its arrays, those are right answers.
    assert degenerate({"out": [0.0, 0.0]}, {"out": [0.0, 0.0]}, {"out": [1.0, 2.0]}) is None
    assert degenerate({"out": [1.0]}, {"out": [1.0]}, {"out": [1.0]}) is None
    # A truncated array's shape is not a value; a NaN is not a zero.
    assert degenerate({"o": {"shape": [9], "head": [1.0]}}, {"o": {"shape": [9], "head": [0.0]}},
                      {"o": {"shape": [9], "head": [2.0]}}).startswith("degenerate: every output is zero")
    assert degenerate({"o": [1.0]}, {"o": ["nan"]}, {"o": [2.0]}) is None
    assert degenerate({"o": [1.0]}, {"p": [2.0]}, {"o": [2.0]}) is None   # layout: compare_outputs says


def test_the_report_counts_trials_per_behaves_verdict():
    scores = [Score("a", "x", True, True, True, None, "ok", 3), Score("b", "x", True, True, False, "behaves", "-", 2),
              Score("c", "x", True, True, None, None, "n/a", 0)]
    assert report(scores)["behaves_trials"] == {"2": 1, "3": 1}


def test_struct_hashes_are_normalized_like_the_kernel_hash():
    with_struct = IR.replace("wp::int32 var_0;", "Params_1701fb21 var_p = _wp_args->p;\n    wp::int32 var_0;")
    other = with_struct.replace("1701fb21", "0badf00d")
    assert normalize_ir(with_struct) == normalize_ir(other)
    assert "Params_h1" in normalize_ir(with_struct)
    assert normalize_ir(with_struct) != normalize_ir(other.replace("Params_0badf00d", "Param_0badf00d"))


# -- the sequence the worker must follow ---------------------------------------------------------

def _client(trials: int = 3) -> _Scoring:
    items = [{"i": i, "target": "cpu", "name": f"k{i}", "arch": 0, "text": "...",
              "run": {"source": "", "kernel_name": f"k{i}", "seeds": list(range(trials)), "report": "outputs"}}
             for i in (0, 1)]
    client = _Scoring(items, timeout_s=3.0)
    steps = client.request("/job")
    assert [(s["step"], s["i"], s.get("trial")) for s in steps] == [
        (COMPILE, 0, None), (COMPILE, 1, None), *[(RUN, i, t) for i in (0, 1) for t in range(trials)]]
    return client


def _enter(client: _Scoring, kind: str, i: int, trial: int | None = None) -> float:
    message = {"phase": kind, "items": [i], **({} if trial is None else {"trial": trial})}
    return client.deadline_s(Phase(kind, (i,), message))


def _compile_both(client: _Scoring) -> None:
    for i in (0, 1):
        assert _enter(client, COMPILE, i) > 0
        client.apply({"compiled": i, "ok": True, "error": ""})


def test_an_honest_sequence_is_recorded_as_raw_outputs():
    client = _client()
    _compile_both(client)
    for i in (0, 1):
        for t in range(3):
            assert _enter(client, RUN, i, t) == 3.0
            client.apply({"ran": i, "trial": t, "outputs": {"out": [i, t]}})
    assert client.results[1]["trials"][2] == {"outputs": {"out": [1, 2]}}
    assert client.request("/job") is None


@pytest.mark.parametrize("forged", [
    {"ran": 0, "trial": 1, "outputs": {}},                          # another trial
    {"ran": 1, "trial": 0, "outputs": {}},                          # another item
    {"ran": True, "trial": False, "outputs": {}},                   # bools that equal 1 and 0
    {"ran": 0, "trial": 0, "outputs": {}, "ok": True},              # a claim beyond raw outputs
    {"ran": 0, "trial": 0, "io": "{}"},                             # the true IR's report, not ours
    {"ran": 0, "ok": True, "reason": "", "io": "{}", "harness": False},   # the old format
    {"compiled": 0, "ok": True, "error": ""},                       # a compile result out of turn
    "not a dict",
])
def test_a_result_out_of_turn_fails_the_step_in_flight_and_ends_the_round(forged):
    client = _client()
    _compile_both(client)
    _enter(client, RUN, 0, 0)
    client.apply(forged)
    assert client.results[0]["trials"][0]["error"].startswith("worker_error: unexpected result")
    # Whatever the worker says next is ignored, and it is given no time to say it.
    client.apply({"ran": 0, "trial": 0, "outputs": {"out": [1]}})
    assert _enter(client, RUN, 0, 1) == 0.0
    assert client.blame(Phase(RUN, (0,)), reasons.TIMEOUT) is True
    assert "error" in client.results[0]["trials"][0] and 1 not in client.results[0]["trials"]
    # The next round skips the failed item and carries on with the other one.
    assert [(s["i"], s["trial"]) for s in client.request("/job")] == [(1, 0), (1, 1), (1, 2)]


def test_a_phase_out_of_turn_fails_the_next_step():
    client = _client()
    _compile_both(client)
    assert _enter(client, RUN, 0, 2) == 0.0      # trial 2 before trial 0
    assert client.results[0]["trials"][0]["error"].startswith("worker_error: unexpected phase")


def test_a_step_entered_and_never_answered_is_the_culprit():
    # The worker (or a line forged on its pipe) says it is done or between phases, then dies.
    client = _client()
    _compile_both(client)
    _enter(client, RUN, 0, 0)
    client.request("/job")
    assert client.results[0]["trials"][0] == {"error": reasons.NO_RESULT}


def test_a_failed_compile_or_trial_drops_the_items_remaining_steps():
    client = _client()
    _enter(client, COMPILE, 0)
    client.apply({"compiled": 0, "ok": False, "error": "error: nope"})
    _enter(client, COMPILE, 1)
    client.apply({"compiled": 1, "ok": True, "error": ""})
    _enter(client, RUN, 1, 0)
    client.apply({"ran": 1, "trial": 0, "error": "oob_write: out"})
    assert client.expected == [] and client.request("/job") is None


def test_give_up_leaves_harness_errors_not_failures():
    client = _client()
    client.give_up("worker_error: exit 1: ImportError")
    assert client.results[0]["compiled"]["harness"] is True
