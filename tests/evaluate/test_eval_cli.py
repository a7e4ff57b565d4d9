"""`warp-ir-pairs eval PREDICTIONS --config CONFIG` and `warp_ir_pairs.evaluate`."""

from __future__ import annotations

import json

from warp_ir_pairs_generator import cli, driver
from warp_ir_pairs_generator.options import GenerationOptions

import warp_ir_pairs


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_eval_scores_true_and_broken_predictions(tmp_path, capsys):
    options = GenerationOptions.from_config("cuda-tiny")
    records = [driver.make_record(options, i) for i in (0, 1)]
    preds = tmp_path / "preds.jsonl"
    _write(preds, [{"id": records[0]["id"], "ir_code": records[0]["ir_code"]},
                   {"id": records[1]["id"], "ir_code": records[1]["ir_code"].replace("{", "{ oops", 1)}])
    assert cli.main(["eval", str(preds), "--config", "cuda-tiny", "--rungs", "exact,compiles", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["records"] == 2
    assert (result["overall"]["exact"]["passed"], result["overall"]["exact"]["failed"]) == (1, 1)
    assert (result["overall"]["compiles"]["passed"], result["overall"]["compiles"]["failed"]) == (1, 1)


def test_eval_rejects_ids_of_another_config(tmp_path, capsys):
    preds = tmp_path / "preds.jsonl"
    _write(preds, [{"id": "cpu-42-0", "ir_code": "x"}])
    assert cli.main(["eval", str(preds), "--config", "cuda-tiny"]) == 2
    err = capsys.readouterr().err
    assert "is not a record of cuda-tiny" in err and err.count("\n") == 1


def test_the_harness_is_reachable_from_the_package():
    assert warp_ir_pairs.evaluate.RUNGS == ("exact", "compiles", "behaves")
