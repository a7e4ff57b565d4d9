"""evaluate: the exact / compiles / behaves ladder on true, mutated, broken and hostile predictions."""

from __future__ import annotations

import json
import re

import pytest
from warp_ir_pairs_generator import driver
from warp_ir_pairs_generator.evaluate import (
    HARNESS_ERROR,
    MISSING,
    RUNGS,
    Score,
    compare_outputs,
    normalize_ir,
    read_predictions,
    report,
    score,
)
from warp_ir_pairs_generator.options import GenerationOptions

# Per-run limit for the scoring call: true runs take milliseconds, the hang costs this much.
RUN_LIMIT_S = 3.0


@pytest.fixture(scope="module")
def records() -> dict[str, list[dict]]:
    # iter_shard(options, 0, n) yields exactly make_record(options, i) for i < n (make_record is
    # iter_shard over one index), with one execute sandbox for the batch instead of one each.
    cpu = list(driver.iter_shard(GenerationOptions.from_config("cpu-tiny", verify="execute"), 0, 4))
    cuda = list(driver.iter_shard(GenerationOptions.from_config("cuda-tiny"), 0, 2))
    paired = list(driver.iter_shard(GenerationOptions.from_config("paired-tiny"), 0, 1))
    return {"cpu": cpu, "cuda": cuda, "paired": paired}


def _variant(record: dict, tag: str) -> dict:
    return dict(record, id=f"{record['id']}#{tag}")


def _before_last_brace(ir: str, statement: str) -> str:
    at = ir.rstrip().rindex("}")
    return ir[:at] + statement + "\n" + ir[at:]


def _reformatted(ir: str) -> str:
    """The same function, rewritten: no comments, one line, var_N shifted, a made-up hash."""
    text = re.sub(r"//[^\n]*", "", ir)
    text = " ".join(text.split())
    text = re.sub(r"\bvar_(\d+)\b", lambda m: f"var_{int(m.group(1)) + 1000}", text)
    return re.sub(r"_[0-9a-f]{8}(?=_cpu_kernel_forward|\b)", "_0badf00d", text)


@pytest.fixture(scope="module")
def arith(records) -> dict:
    """A cpu record with float outputs computed by arithmetic (family schedule: index 0)."""
    found = [r for r in records["cpu"] if r["category"] == "arith"]
    assert found, f"no arith record among {[r['category'] for r in records['cpu']]}"
    return found[0]


@pytest.fixture(scope="module")
def cases(records, arith) -> list[tuple[dict, str | None]]:
    """(record, prediction) pairs; hostile ones first so every later one runs after a kill."""
    ir = arith["ir_code"]
    out = [
        (_variant(arith, "crash"), _before_last_brace(ir, "    *(volatile int*)(size_t)16 = 1;")),
        (_variant(arith, "hang"), _before_last_brace(ir, "    { volatile int spin = 1; while (spin) { } }")),
        (_variant(arith, "negated"),
         re.sub(r"wp::array_store\((\w+), (\w+), (\w+)\);", r"wp::array_store(\1, \2, wp::neg(\3));", ir)),
        (_variant(arith, "renamed"), re.sub(r"\bvar_0\b", "tid_index", ir)),
        (_variant(arith, "syntax"), ir[:ir.rindex(";")] + ir[ir.rindex(";") + 1:]),
        (_variant(arith, "garbage"), "I am not C++ at all {{"),
        (_variant(arith, "empty"), ""),
        (_variant(arith, "missing"), None),
        (_variant(arith, "reformatted"), _reformatted(ir)),
        (_variant(records["cuda"][0], "garbage"), "__global__ void nope( {"),
    ]
    out += [(r, r["ir_code"]) for group in ("cpu", "cuda", "paired") for r in records[group]]
    return out


@pytest.fixture(scope="module")
def scored(cases) -> dict[str, Score]:
    predictions = {rec["id"]: pred for rec, pred in cases if pred is not None}
    scores = score([rec for rec, _ in cases], predictions, timeout_s=RUN_LIMIT_S)
    assert [s.id for s in scores] == [rec["id"] for rec, _ in cases]
    return {s.id: s for s in scores}


def _get(scored: dict[str, Score], record: dict, tag: str) -> Score:
    return scored[f"{record['id']}#{tag}"]


# ---------------------------------------------------------------------------------------------
# The ladder on real records
# ---------------------------------------------------------------------------------------------

def test_true_ir_passes_every_rung_after_crashes_and_hangs(scored, records):
    # The crash and the hang were scored before these: the harness survived both.
    for r in records["cpu"]:
        assert r["example_io"]
        s = scored[r["id"]]
        assert (s.exact, s.compiles, s.behaves, s.failed_rung, s.detail) == (True, True, True, None, "ok"), s
    for r in records["cuda"]:
        s = scored[r["id"]]
        assert (s.exact, s.compiles, s.behaves, s.failed_rung) == (True, True, None, None), s
        assert "n/a" in s.detail
    # paired: ir_code is CPU C++, compiled with clang; codegen records carry no example_io.
    s = scored[records["paired"][0]["id"]]
    assert (s.exact, s.compiles, s.behaves, s.failed_rung) == (True, True, None, None), s


def test_reformatted_renumbered_rehashed_ir_is_still_exact(scored, arith):
    s = _get(scored, arith, "reformatted")
    assert (s.exact, s.compiles, s.behaves, s.failed_rung) == (True, True, True, None), s


def test_renamed_variable_fails_exact_but_compiles_and_behaves(scored, arith):
    s = _get(scored, arith, "renamed")
    assert (s.exact, s.compiles, s.behaves, s.failed_rung) == (False, True, True, "exact"), s
    assert "tid_index" in s.detail


def test_semantic_change_compiles_but_fails_behaves(scored, arith):
    s = _get(scored, arith, "negated")
    assert (s.exact, s.compiles, s.behaves, s.failed_rung) == (False, True, False, "behaves"), s
    assert "outputs." in s.detail and "expected" in s.detail


@pytest.mark.parametrize("tag", ["syntax", "garbage", "empty"])
def test_broken_cpp_fails_at_compiles(scored, arith, tag):
    s = _get(scored, arith, tag)
    assert (s.exact, s.compiles, s.behaves, s.failed_rung) == (False, False, False, "compiles"), s
    assert "error" in s.detail and "not run: does not compile" in s.detail
    assert "\n" not in s.detail


def test_broken_cuda_fails_at_compiles(scored, records):
    s = _get(scored, records["cuda"][0], "garbage")
    assert (s.exact, s.compiles, s.behaves, s.failed_rung) == (False, False, None, "compiles"), s
    assert "error" in s.detail


def test_hang_and_crash_are_behaviour_failures_with_a_reason(scored, arith):
    hang, crash = _get(scored, arith, "hang"), _get(scored, arith, "crash")
    assert (hang.compiles, hang.behaves, hang.failed_rung) == (True, False, "behaves"), hang
    assert "timeout" in hang.detail
    assert (crash.compiles, crash.behaves, crash.failed_rung) == (True, False, "behaves"), crash
    assert "crash: SIG" in crash.detail


def test_missing_prediction_fails_every_rung_and_is_listed(scored, arith):
    s = _get(scored, arith, "missing")
    assert (s.exact, s.compiles, s.behaves, s.failed_rung, s.detail) == (False, False, False, "compiles", MISSING)
    summary = report(list(scored.values()))
    assert summary["missing_predictions"] == [s.id]
    assert summary["harness_errors"] == []
    assert summary["records"] == len(scored)
    # Every record is counted once per rung.
    for rung in RUNGS:
        tally = summary["overall"][rung]
        assert tally["passed"] + tally["failed"] + tally["not_applicable"] == len(scored)


def test_exact_only_starts_no_worker_and_unknown_rungs_are_rejected(records):
    r = records["cpu"][0]
    (s,) = score([r], {r["id"]: r["ir_code"]}, rungs=("exact",))
    assert (s.exact, s.compiles, s.behaves, s.failed_rung, s.detail) == (True, None, None, None, "ok")
    with pytest.raises(ValueError, match="unknown rung"):
        score([r], {}, rungs=("exact", "runs"))


def test_records_without_ir_are_scored_on_exact_only(records):
    r = dict(records["cpu"][0], id="refused-kernel", ir_code="", example_io="")
    right, wrong = score([r, dict(r, id="other")], {"refused-kernel": "", "other": "void f() {}"})
    assert (right.exact, right.compiles, right.behaves, right.failed_rung) == (True, None, None, None), right
    assert (wrong.exact, wrong.compiles, wrong.behaves, wrong.failed_rung) == (False, None, None, "exact"), wrong
    assert "n/a: record has no IR" in right.detail


def test_a_stale_record_is_a_harness_error_not_a_failure(records):
    r = records["cpu"][0]
    stale = dict(r, id="stale", ir_code=r["ir_code"].replace("wp::", "wp :: "))
    (s,) = score([stale], {"stale": r["ir_code"]}, rungs=("exact", "compiles"))
    assert s.exact is True and s.compiles is None and s.failed_rung is None
    assert s.detail.startswith(HARNESS_ERROR)
    assert report([s])["harness_errors"] == ["stale"]


def test_file_reading_directives_are_refused_without_compiling(records):
    r = records["cpu"][0]
    body = r["ir_code"].index("{") + 1
    variants = {f"{r['id']}#{k}": r["ir_code"][:body] + f"\n{d}\n" + r["ir_code"][body:]
                for k, d in enumerate(['#include "/dev/urandom"', "%:  /* x */ embed </etc/passwd>",
                                       "# \\\n include_next <x>"])}
    scores = score([dict(r, id=k) for k in variants], variants, timeout_s=RUN_LIMIT_S)
    for s in scores:
        assert (s.compiles, s.behaves, s.failed_rung) == (False, False, "compiles"), s
        assert "refused: #" in s.detail


# ---------------------------------------------------------------------------------------------
# Pieces without Warp: normalization, comparison, aggregation, reading
# ---------------------------------------------------------------------------------------------

IR = """template <bool wp_linear_contiguous>
static void k_1a2b3c4d_cpu_kernel_forward(
    wp::launch_bounds_t<1> dim,
    wp_args_k_1a2b3c4d *_wp_args)
{
    wp::int32 var_0;
    wp::float32 var_1;
    // x = a[i] + 1.0                                                     <L 6>
    var_1 = wp::add(var_0, var_0);   /* trailing */
    start_for_3:;
    if (var_1 > 0) goto end_for_3;
    wp::printf("a // b");
    end_for_3:;
}
"""


def test_normalize_ir_ignores_comments_whitespace_hash_and_numbering():
    other = (IR.replace("1a2b3c4d", "ffffffff").replace("var_0", "var_7").replace("var_1", "var_9")
             .replace("_for_3", "_for_12").replace("<L 6>", "<L 60>"))
    # Spacing and indentation (line breaks end // comments, so those stay).
    other = re.sub(r"[ \t]+", " ", other).replace("wp::add(var_7, var_7)", "wp::add( var_7,var_7 )")
    other = other.replace("(\n", "(").replace("{\n", "{ ")
    assert normalize_ir(IR) == normalize_ir(other)
    norm = normalize_ir(IR)
    assert "k_h0_cpu_kernel_forward" in norm and "wp_args_k_h0" in norm
    assert "<L" not in norm and "trailing" not in norm
    assert '"a // b"' in norm            # a // inside a string is not a comment
    assert "var_0 = wp :: add ( var_1 , var_1 )" not in norm   # numbering follows first appearance
    assert "var_1 = wp :: add ( var_0 , var_0 )" in norm
    assert "start_for_0" in norm and "end_for_0" in norm


@pytest.mark.parametrize("change", [
    ("wp::add", "wp::sub"),                  # another builtin
    ("var_0, var_0", "var_0, var_1"),        # another operand
    ("> 0", ">= 0"),                         # another comparison
    ('"a // b"', '"a /* b"'),                # string contents count
    ("k_1a2b3c4d_cpu", "q_1a2b3c4d_cpu"),    # the kernel's name counts, its hash does not
])
def test_normalize_ir_keeps_what_matters(change):
    assert normalize_ir(IR) != normalize_ir(IR.replace(*change))


def test_compare_outputs_tolerances():
    want = {"out": [1.0, 0.0, "nan", "-inf", 3, True], "n": {"shape": [9], "head": [1.5]}}
    close = {"out": [1.0 + 5e-5, 5e-6, "nan", "-inf", 3, True], "n": {"shape": [9], "head": [1.5]}}
    assert compare_outputs(want, close) is None
    assert "out[0]" in compare_outputs(want, {**close, "out": [1.01, 0.0, "nan", "-inf", 3, True]})
    assert "out[2]" in compare_outputs(want, {**close, "out": [1.0, 0.0, 0.0, "-inf", 3, True]})
    assert "out[4]" in compare_outputs(want, {**close, "out": [1.0, 0.0, "nan", "-inf", 4, True]})
    assert "out[5]" in compare_outputs(want, {**close, "out": [1.0, 0.0, "nan", "-inf", 3, 1]})
    assert "out" in compare_outputs(want, {**close, "out": [1.0]})
    assert "keys" in compare_outputs(want, {"out": close["out"]})


def _score(id: str, category: str, exact: bool, compiles: bool | None, behaves: bool | None,
           detail: str = "ok") -> Score:
    failed = next((r for r, v in (("compiles", compiles), ("behaves", behaves), ("exact", exact)) if v is False),
                  None)
    return Score(id, category, exact, compiles, behaves, failed, detail)


def test_report_aggregates_overall_and_per_category():
    scores = [
        _score("a", "arith", True, True, True),
        _score("b", "arith", False, True, False, "behaves: timeout"),
        _score("c", "arith", False, False, False, MISSING),
        _score("d", "cuda_vec", False, True, None, "exact: token 3"),
        _score("e", "cuda_vec", True, True, None),
        _score("f", "loop", False, None, None, f"{HARNESS_ERROR}: stale"),
    ]
    out = report(scores)
    assert out["records"] == 6
    assert out["overall"]["exact"] == {"passed": 2, "failed": 4, "not_applicable": 0, "rate": 2 / 6}
    assert out["overall"]["compiles"] == {"passed": 4, "failed": 1, "not_applicable": 1, "rate": 4 / 5}
    assert out["overall"]["behaves"] == {"passed": 1, "failed": 2, "not_applicable": 3, "rate": 1 / 3}
    assert out["per_category"]["arith"]["records"] == 3
    assert out["per_category"]["arith"]["behaves"]["rate"] == 1 / 3
    assert out["per_category"]["cuda_vec"]["behaves"] == {"passed": 0, "failed": 0, "not_applicable": 2,
                                                          "rate": None}
    assert out["per_category"]["cuda_vec"]["exact"]["rate"] == 0.5
    assert out["failed_rung"] == {"compiles": 1, "behaves": 1, "exact": 2}
    assert out["missing_predictions"] == ["c"]
    assert out["harness_errors"] == ["f"]
    json.dumps(out)   # plain JSON, ready to save


def test_read_predictions(tmp_path):
    good = tmp_path / "good.jsonl"
    good.write_text('{"id": "cpu-42-0", "ir_code": "x"}\n\n{"id": "cpu-42-1", "ir_code": "", "extra": 1}\n')
    assert read_predictions(good) == {"cpu-42-0": "x", "cpu-42-1": ""}
    for lines, message in [
        (['{"id": "a", "ir_code": "x"}', '{"id": "b", "ir_code": "y"', '{"id": "c", "ir_code": "z"}'],
         r":2: not valid JSON"),
        (['{"id": "a", "ir_code": "x"}', "[1, 2]"], r":2: expected a JSON object"),
        (['{"id": "a", "ir_code": "x"}', '', '{"id": "b"}'], r":3: 'ir_code' must be a string"),
        (['{"id": 7, "ir_code": "x"}'], r":1: 'id' must be a string"),
        (['{"id": "a", "ir_code": "x"}', '{"id": "a", "ir_code": "y"}'], r":2: duplicate id 'a'"),
    ]:
        bad = tmp_path / "bad.jsonl"
        bad.write_text("\n".join(lines) + "\n")
        with pytest.raises(ValueError, match=message):
            read_predictions(bad)
