"""The card's reproduce line regenerates the release: run it into a new folder, get the same shards."""

from __future__ import annotations

import shlex
from pathlib import Path

from warp_ir_pairs_generator import cli

# Every override away from its default, and a shard size that is not the default either.
RELEASE_ARGS = ["--num-examples", "6", "--seed", "7", "--no-backward", "--complexity", "3", "--opt-variants",
                "--verify", "codegen", "--records-per-shard", "4"]


def _shards(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.glob("*/*.parquet"))}


def test_running_the_cards_reproduce_line_gives_byte_identical_shards(tmp_path):
    first = tmp_path / "first"
    assert cli.main(["generate", "cpu-tiny", "--out", str(first), *RELEASE_ARGS]) == 0
    card = (first / "README.md").read_text(encoding="utf-8")
    lines = [line for line in card.splitlines() if line.startswith("warp-ir-pairs generate ")]
    assert len(lines) == 1, lines
    again = tmp_path / "again"
    argv = [str(again) if word == "DIR" else word for word in shlex.split(lines[0])[1:]]
    assert cli.main([*argv, "--no-card"]) == 0
    assert len(_shards(first)) >= 2   # two units of 4 indices
    assert _shards(again) == _shards(first)
