"""The stats report and the command line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from warp_ir_pairs_generator import cli
from warp_ir_pairs_generator.corpus.stats import collect
from warp_ir_pairs_generator.options import GenerationOptions


def test_stats_counts_what_was_generated():
    options = GenerationOptions.from_config("cpu-tiny", num_examples=40)
    figures = collect(options).figures()
    assert figures["records"] == 40
    assert sum(figures["categories"].values()) == 40
    assert 1 <= figures["distinct_structures"] <= 40
    assert figures["duplicate_python_source"] == 0
    assert figures["source_chars"]["min"] <= figures["source_chars"]["median"] <= figures["source_chars"]["p99"]
    assert figures["distinct_builtins"] > 10
    assert figures["rejected"] == 0


def test_stats_in_two_processes_equals_one():
    options = GenerationOptions.from_config("cuda-tiny", num_examples=30)
    assert collect(options, num_proc=2).figures() == collect(options, num_proc=1).figures()


def test_python_m_warp_ir_pairs_stats_prints_the_report():
    out = subprocess.run([sys.executable, "-m", "warp_ir_pairs", "stats", "cuda-tiny", "--num-examples", "12"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.startswith("stats for cuda-tiny: 12 records")
    assert "distinct structures:" in out.stdout and "rejected and replaced: 0" in out.stdout


def test_stats_json(capsys):
    assert cli.main(["stats", "cpu-tiny", "--num-examples", "5", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["records"] == 5


@pytest.mark.parametrize(("argv", "needle"), [
    (["stats", "cpu-huge"], "unknown config 'cpu-huge'"),
    (["stats", "cpu-tiny", "--num-examples", "-1"], "num_examples must be >= 0"),
    (["stats", "cpu-tiny", "--complexity", "9"], "complexity must be one of 1, 2, 3, 4, 5"),
    (["stats", "cpu-tiny", "--num-proc", "0"], "--num-proc must be >= 1"),
])
def test_bad_input_is_one_line_and_exit_2(argv, needle, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and "\n" not in err and err.startswith("warp-ir-pairs: error:")
