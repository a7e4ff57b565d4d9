"""Release folders: layout, manifest, verify, resume after interruption, CLI errors."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from warp_ir_pairs_generator import cli, driver
from warp_ir_pairs_generator.options import GenerationOptions
from warp_ir_pairs_generator.release import export
from warp_ir_pairs_generator.release import manifest as manifests


def _generate(out: Path, *configs: str, n: int = 24, per_shard: int = 8, card: bool = False) -> int:
    return cli.main(["generate", *configs, "--out", str(out), "--num-examples", str(n),
                     "--records-per-shard", str(per_shard), *([] if card else ["--no-card"])])


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("release")
    assert _generate(out, "cpu-tiny", "cuda-tiny", card=True) == 0
    return out


def test_layout_is_the_one_push_to_hub_writes(release):
    manifest = json.loads((release / "release.json").read_text())
    assert set(manifest["configs"]) == {"cpu-tiny", "cuda-tiny"}
    assert manifest["warp_version"] == "1.19.0" and manifest["package"] == "warp-ir-pairs"
    for config, entry in manifest["configs"].items():
        assert entry["options"]["num_examples"] == 24 and entry["options"]["seed"] == 42
        assert sum(s["num_examples"] for s in entry["splits"].values()) == 24
        for split, info in entry["splits"].items():
            assert info["shards"], "a split in the manifest has at least one shard"
            for shard in info["shards"]:   # NNNNN is the unit; a unit without records of a split has no shard
                assert re.fullmatch(rf"{config}/{split}-0000[0-2]-of-00003\.parquet", shard["path"])
                assert shard["num_examples"] > 0


def test_shards_hold_the_engine_records_in_index_order(release):
    import pyarrow.parquet as pq

    options = GenerationOptions.from_config("cuda-tiny", num_examples=24)
    manifest = manifests.read(release)
    for split, shards in manifest.configs["cuda-tiny"].splits.items():
        rows = [r for s in shards for r in pq.read_table(release / s.path).to_pylist()]
        assert rows == list(driver.iter_shard(options, 0, 24, split))


def test_verify_passes_and_catches_tampering(release, tmp_path, capsys):
    assert cli.main(["verify", str(release)]) == 0
    assert "ok: 2 config(s)" in capsys.readouterr().out
    copy = tmp_path / "copy"
    for name, data in _tree(release).items():
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        (copy / name).write_bytes(data)
    shard = next(copy.glob("cpu-tiny/train-00001-*.parquet"))
    shard.write_bytes(shard.read_bytes()[:-10] + b"0123456789")
    assert cli.main(["verify", str(copy)]) == 2
    err = capsys.readouterr().err
    assert "sha256 differs" in err and err.count("\n") == 1


def test_interrupted_generate_resumes_to_the_same_bytes(tmp_path, release):
    out = tmp_path / "interrupted"
    cmd = [sys.executable, "-m", "warp_ir_pairs", "generate", "cpu-tiny", "--out", str(out),
           "--num-examples", "24", "--records-per-shard", "8", "--no-card"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    markers = out / ".progress" / "cpu-tiny"
    deadline = time.time() + 120
    while not (markers.exists() and list(markers.glob("*.json"))) and time.time() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)   # a hard kill, mid-generation
    proc.wait()
    assert not (out / "release.json").exists()
    assert _generate(out, "cpu-tiny", card=True) == 0
    assert not list(out.rglob("*.tmp"))   # resume removed what the kill left
    expected = {k: v for k, v in _tree(release).items() if k.startswith(("cpu-tiny/", ".progress/cpu-tiny/"))}
    got = {k: v for k, v in _tree(out).items() if k.startswith(("cpu-tiny/", ".progress/cpu-tiny/"))}
    assert got == expected
    assert cli.main(["verify", str(out)]) == 0


def test_rerunning_a_complete_release_generates_nothing(release, monkeypatch):
    before = _tree(release)
    monkeypatch.setattr(export, "write_unit", lambda *a: pytest.fail("a complete unit was regenerated"))
    assert _generate(release, "cpu-tiny") == 0
    assert _tree(release) == before


def test_other_options_for_an_existing_config_are_refused(release, capsys):
    assert cli.main(["generate", "cpu-tiny", "--out", str(release), "--num-examples", "25",
                     "--records-per-shard", "8", "--no-card"]) == 2
    err = capsys.readouterr().err
    assert "holds cpu-tiny generated with num_examples 24; this run asks num_examples 25" in err
    assert "--restart" in err and err.count("\n") == 1


@pytest.mark.parametrize(("argv", "needle"), [
    (["generate", "cpu-tiny", "--out", "/proc/forbidden/x", "--no-card"], "cannot write the release folder"),
    (["generate", "gpu-tiny", "--out", "{tmp}", "--no-card"], "unknown config 'gpu-tiny'"),
    (["generate", "cpu-tiny", "--out", "{tmp}", "--records-per-shard", "0", "--no-card"], "records_per_shard"),
    (["verify", "{tmp}"], "not a release folder"),
    (["show", "cpu-tiny", "--index", "999", "--num-examples", "5"], "out of range"),
])
def test_bad_input_is_one_line_and_exit_2(argv, needle, tmp_path, capsys):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err


def test_show_prints_python_and_ir(release, capsys):
    assert cli.main(["show", str(release), "--config", "cuda-tiny", "--index", "5"]) == 0
    out = capsys.readouterr().out
    assert "cuda-42-5" in out and "@wp.kernel" in out and "_cuda_kernel_forward(" in out


def test_stats_of_a_release_folder_counts_its_records(release, capsys):
    assert cli.main(["stats", str(release), "--config", "cpu-tiny", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["records"] == 24


def test_every_command_has_help():
    for command in ("generate", "card", "stats", "show", "verify", "push"):
        out = subprocess.run([sys.executable, "-m", "warp_ir_pairs", command, "--help"],
                             capture_output=True, text=True, check=True).stdout
        assert out.startswith("usage: warp-ir-pairs " + command)


_PLAIN_LOAD = """
import json, sys
import datasets
ds = datasets.load_dataset(sys.argv[1], sys.argv[2])
assert "warp_ir_pairs" not in sys.modules and "warp_ir_pairs_generator" not in sys.modules
print(json.dumps({"features": ds["train"].features.to_dict(),
                  "splits": {s: d.to_list() for s, d in ds.items()}}))
"""


def test_a_release_loads_with_plain_datasets_like_the_builder(tmp_path):
    import datasets

    import warp_ir_pairs  # noqa: F401  (registers the builder)

    out = tmp_path / "carded"
    assert cli.main(["generate", "cpu-tiny", "--out", str(out), "--num-examples", "40",
                     "--records-per-shard", "16"]) == 0
    assert (out / "README.md").exists() and list((out / "plots").glob("*.png"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env.update(HF_DATASETS_OFFLINE="1", HF_HUB_OFFLINE="1", HF_HOME=str(tmp_path / "hf"))
    proc = subprocess.run([sys.executable, "-c", _PLAIN_LOAD, str(out), "cpu-tiny"], capture_output=True,
                          text=True, env=env, cwd=tmp_path, check=True)
    plain = json.loads(proc.stdout)
    built = datasets.load_dataset("warp_ir_pairs", "cpu-tiny", num_examples=40,
                                  cache_dir=str(tmp_path / "cache"))
    assert plain["features"] == built["train"].features.to_dict()
    assert plain["splits"] == {s: d.to_list() for s, d in built.items()}
