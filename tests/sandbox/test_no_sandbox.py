"""Where bubblewrap is missing: eval refuses unless told --no-sandbox (and then says so); generation
warns once and runs unconfined; records are the same confined or not."""

from __future__ import annotations

import json
import logging

import pytest
from warp_ir_pairs_generator import cli, driver, launch
from warp_ir_pairs_generator.evaluate import score
from warp_ir_pairs_generator.options import GenerationOptions
from warp_ir_pairs_generator.sandbox import SandboxUnavailable, confine

CONFIG = "cpu-tiny"


@pytest.fixture(scope="module")
def records() -> list[dict]:
    return list(driver.iter_shard(GenerationOptions.from_config(CONFIG, verify="execute"), 0, 2))


@pytest.fixture
def no_bwrap(monkeypatch, tmp_path):
    monkeypatch.setattr(confine, "BWRAP", str(tmp_path / "bwrap"))
    confine.unavailable.cache_clear()
    yield
    confine.unavailable.cache_clear()


def _true(records: list[dict]) -> dict[str, str]:
    return {r["id"]: r["ir_code"] for r in records}


@pytest.mark.parametrize("rungs", [("compiles",), ("exact", "behaves")])
def test_score_refuses_to_run_predictions_without_the_sandbox(no_bwrap, records, rungs):
    with pytest.raises(SandboxUnavailable) as refused:
        score(records, _true(records), rungs=rungs)
    message = str(refused.value)
    assert "\n" not in message and "bubblewrap is not installed" in message
    assert "apt-get install bubblewrap" in message and "sandbox=False" in message


def test_exact_alone_runs_nothing_and_needs_no_sandbox(no_bwrap, records):
    assert [s.exact for s in score(records, _true(records), rungs=("exact",))] == [True, True]


def test_sandbox_false_runs_predictions_unconfined(no_bwrap, records):
    scores = score(records, _true(records), sandbox=False)
    assert [(s.compiles, s.behaves) for s in scores] == [(True, True), (True, True)]


def _predictions(tmp_path, records: list[dict]):
    path = tmp_path / "preds.jsonl"
    path.write_text("".join(json.dumps({"id": r["id"], "ir_code": r["ir_code"]}) + "\n" for r in records))
    return str(path)


def test_eval_refuses_in_one_line_without_bubblewrap(no_bwrap, records, tmp_path, capsys):
    argv = ["eval", _predictions(tmp_path, records[:1]), "--config", CONFIG, "--verify", "execute"]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "apt-get install bubblewrap" in err and "--no-sandbox" in err


def test_eval_no_sandbox_scores_and_the_report_says_the_sandbox_was_off(no_bwrap, records, tmp_path, capsys):
    argv = ["eval", _predictions(tmp_path, records[:1]), "--config", CONFIG, "--verify", "execute", "--no-sandbox"]
    assert cli.main([*argv, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["sandbox"] is False and result["overall"]["behaves"]["passed"] == 1
    assert cli.main([*argv, "--rungs", "exact"]) == 0
    assert "sandbox: OFF (--no-sandbox)" in capsys.readouterr().out


def test_eval_report_says_the_sandbox_was_on(records, tmp_path, capsys):
    argv = ["eval", _predictions(tmp_path, records[:1]), "--config", CONFIG, "--verify", "execute"]
    assert cli.main([*argv, "--rungs", "exact,compiles"]) == 0
    assert "sandbox: bubblewrap" in capsys.readouterr().out
    assert cli.main([*argv, "--rungs", "exact", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["sandbox"] is True


@pytest.fixture(scope="module")
def kernels() -> list[tuple[str, str, int]]:
    options = GenerationOptions.from_config(CONFIG)
    drafts = [driver.draw_kernel(options, i) for i in range(12)]
    return [(k.python_source, k.kernel_name, launch.input_seed("cpu", options.seed, i))
            for i, k in enumerate(drafts)]


def test_execute_records_are_the_same_confined_or_not(kernels):
    confined = launch.execute(kernels, confined=True)
    assert sum(r.ok for r in confined) >= len(kernels) // 2
    assert launch.execute(kernels, confined=False) == confined


def test_execute_without_bubblewrap_warns_once_and_gives_the_same_records(kernels, no_bwrap, caplog):
    with caplog.at_level(logging.WARNING):
        unconfined = [launch.execute(kernels[:3]), launch.execute(kernels[:3])]
    assert unconfined[0] == unconfined[1] == launch.execute(kernels[:3], confined=False)
    warnings = [r.getMessage() for r in caplog.records if r.name == confine.__name__]
    assert len(warnings) == 1 and warnings[0].startswith("execute workers run unconfined: bubblewrap is not installed")
