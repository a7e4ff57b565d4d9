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


# The CLI with Ray's unit task wrapped so that the first task to find FLAG removes it and kills
# its own worker (a hard death, as a crash or an OOM kill would cause). Defined in __main__, so
# Ray ships the wrapper to its workers by value: the product carries no test hook.
_DIE_ONCE = """
import sys
from warp_ir_pairs_generator.cli import main
from warp_ir_pairs_generator.release import ray_engine

FLAG = sys.argv.pop(1)
real = ray_engine._unit_task

def die_once_then_run(job):
    import os
    try:
        os.remove(FLAG)
    except FileNotFoundError:
        return real(job)
    os._exit(1)

ray_engine._unit_task = die_once_then_run
raise SystemExit(main(sys.argv[1:]))
"""


def _generate(out: Path, engine: str, die_once_flag: Path | None = None) -> subprocess.CompletedProcess:
    # A fresh interpreter per run: Ray's driver state must not leak into other tests.
    args = ["generate", "cpu-tiny", "--out", str(out), "--engine", engine, *ARGS]
    if die_once_flag is None:
        cmd = [sys.executable, "-m", "warp_ir_pairs", *args]
    else:
        cmd = [sys.executable, "-c", _DIE_ONCE, str(die_once_flag), *args]
    env = {**os.environ, "RAY_DISABLE_DOCKER_CPU_WARNING": "1"}
    env.pop("RAY_ADDRESS", None)
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
    proc = _generate(out, "ray", die_once_flag=flag)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not flag.exists()   # a worker really died
    assert _checksums(out) == _checksums(local_release)
