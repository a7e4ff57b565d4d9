"""Every CLI error is one line, `warp-ir-pairs: error: ...`, exit 2, never a usage block or a traceback."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from warp_ir_pairs_generator import cli
from warp_ir_pairs_generator.cli import release as release_cli
from warp_ir_pairs_generator.release import export, push

BAD_ARGUMENTS = {
    "no command": ([], "required: COMMAND"),
    "unknown command": (["bogus"], "invalid choice: 'bogus'"),
    "generate without --out": (["generate", "cpu-tiny"], "required: --out"),
    "generate --out ''": (["generate", "cpu-tiny", "--out", ""], "must be a path, got ''"),
    "generate bad --verify": (["generate", "cpu-tiny", "--out", "x", "--verify", "run"], "invalid choice: 'run'"),
    "generate bad --num-proc": (["generate", "cpu-tiny", "--out", "x", "--num-proc", "two"], "invalid int value"),
    "generate huge --num-examples": (["generate", "cpu-tiny", "--out", "{tmp}", "--num-examples", str(10**12)],
                                     "num_examples must be at most 10,000,000"),
    "generate unknown flag": (["generate", "cpu-tiny", "--out", "x", "--sead", "1"], "unrecognized arguments"),
    "card without DIR": (["card"], "required: DIR"),
    "card ''": (["card", ""], "must be a path"),
    "stats without target": (["stats"], "required: DIR|CONFIG"),
    "stats bad --seed": (["stats", "cpu-tiny", "--seed", "x"], "invalid int value"),
    "show bad --index": (["show", "cpu-tiny", "--index", "one"], "invalid int value"),
    "eval without --config": (["eval", "preds.jsonl"], "required: --config"),
    "eval huge --num-examples": (["eval", "{preds}", "--config", "cpu-tiny", "--num-examples", str(10**12)],
                                 "num_examples must be at most"),
    "verify ''": (["verify", ""], "must be a path"),
    "verify two dirs": (["verify", "a", "b"], "unrecognized arguments: b"),
    "push without REPO_ID": (["push", "dir"], "required: REPO_ID"),
    "push ''": (["push", "", "owner/name"], "must be a path"),
}


@pytest.mark.parametrize("case", BAD_ARGUMENTS, ids=list(BAD_ARGUMENTS))
def test_bad_arguments_are_one_line_and_exit_2(case, tmp_path, capsys):
    argv, needle = BAD_ARGUMENTS[case]
    preds = tmp_path / "preds.jsonl"
    preds.write_text(json.dumps({"id": "cpu-42-0", "ir_code": ""}) + "\n")
    argv = [a.replace("{tmp}", str(tmp_path / "out")).replace("{preds}", str(preds)) for a in argv]
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if not line.startswith("Warp CUDA warning")]
    assert len(lines) == 1 and lines[0].startswith("warp-ir-pairs: error: "), captured.err
    assert needle in lines[0] and "usage:" not in captured.err and "Traceback" not in captured.err
    assert captured.out == ""


def test_a_bad_argument_in_a_fresh_process_prints_one_line():
    proc = subprocess.run([sys.executable, "-m", "warp_ir_pairs", "generate", "cpu-tiny"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "usage:" not in proc.stderr
    assert proc.stderr.startswith("warp-ir-pairs: error: the following arguments are required: --out")


@pytest.mark.parametrize("pid", ["cpu-42-01", "cpu-42-١", "cpu-42-+1", "cpu-42- 1", "cpu-42-1 ", "cpu-42-1_0"])
def test_eval_ids_match_exactly(pid, tmp_path, capsys):
    preds = tmp_path / "preds.jsonl"
    preds.write_text(json.dumps({"id": pid, "ir_code": "void f() {}"}) + "\n")
    assert cli.main(["eval", str(preds), "--config", "cpu-tiny", "--rungs", "exact"]) == 2
    err = capsys.readouterr().err
    assert f"prediction id {pid!r} is not a record of cpu-tiny" in err and err.count("\n") == 1


def test_an_exact_id_is_scored(tmp_path, capsys):
    preds = tmp_path / "preds.jsonl"
    preds.write_text(json.dumps({"id": "cpu-42-1", "ir_code": "void f() {}"}) + "\n")
    assert cli.main(["eval", str(preds), "--config", "cpu-tiny", "--rungs", "exact"]) == 0
    assert "1 records of cpu-tiny" in capsys.readouterr().out


def test_ctrl_c_during_push_prints_pushs_own_message(tmp_path, monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(release_cli, "problems", lambda root: (None, []))
    monkeypatch.setattr(push, "push_release", interrupted)
    assert cli.main(["push", str(tmp_path), "owner/name"]) == 130
    err = capsys.readouterr().err
    assert err.startswith("warp-ir-pairs: push interrupted") and "resume" not in err and err.count("\n") == 1


def test_ctrl_c_during_generate_says_how_to_resume(tmp_path, monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(export, "generate", interrupted)
    assert cli.main(["generate", "cpu-tiny", "--out", str(tmp_path), "--no-card"]) == 130
    assert capsys.readouterr().err.startswith("warp-ir-pairs: generate interrupted (complete shards are kept")
