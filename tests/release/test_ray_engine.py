"""`generate --engine ray`: the same release bytes as the local engine, surviving a worker death."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("ray", reason="the Ray engine is the optional extra warp-ir-pairs[ray]")

ARGS = ["--num-examples", "24", "--records-per-shard", "6", "--no-card"]


def _generate(out: Path, engine: str, env: dict | None = None) -> subprocess.CompletedProcess:
    # A fresh interpreter per run: Ray's driver state must not leak into other tests.
    cmd = [sys.executable, "-m", "warp_ir_pairs", "generate", "cpu-tiny", "--out", str(out),
           "--engine", engine, *ARGS]
    env = {**os.environ, "RAY_ADDRESS": "", "RAY_DISABLE_DOCKER_CPU_WARNING": "1", **(env or {})}
    env.pop("RAY_ADDRESS")
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)


def _checksums(root: Path) -> dict[str, str]:
    manifest = json.loads((root / "release.json").read_text())
    return {s["path"]: s["sha256"] for c in manifest["configs"].values()
            for info in c["splits"].values() for s in info["shards"]}


@pytest.fixture(scope="module")
def local_release(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("local")
    assert _generate(out, "local").returncode == 0
    return out


def test_ray_release_is_byte_identical_to_the_local_one(local_release, tmp_path):
    out = tmp_path / "ray"
    proc = _generate(out, "ray")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert _checksums(out) == _checksums(local_release)
    assert len(_checksums(out)) >= 4   # every unit wrote at least its train shard


def test_a_dead_worker_is_retried_without_losing_or_duplicating_records(local_release, tmp_path):
    flag = tmp_path / "die-once"
    flag.write_text("kill the first worker that sees this")
    out = tmp_path / "ray-died"
    proc = _generate(out, "ray", {"WARP_IR_PAIRS_TEST_DIE_ONCE": str(flag)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not flag.exists()   # a worker really died
    assert _checksums(out) == _checksums(local_release)
