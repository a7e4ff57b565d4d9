"""release/manifest.py: the one reader, writer and verifier of release.json (no Warp needed)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from warp_ir_pairs_generator.record import schema
from warp_ir_pairs_generator.release import manifest as manifests
from warp_ir_pairs_generator.release.manifest import ConfigEntry, Manifest, ManifestError, Shard


def _empty_shard(root: Path, rel: str) -> Shard:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist([], schema=schema.features().arrow_schema), path)
    return Shard(rel, 0, path.stat().st_size, hashlib.sha256(path.read_bytes()).hexdigest())


def _manifest(root: Path) -> Manifest:
    shard = _empty_shard(root, "cpu-tiny/train-00000-of-00001.parquet")
    entry = ConfigEntry("cpu-tiny", {"backend": "cpu", "num_examples": 0}, {"train": (shard,)}, {"loop: x": 2})
    return Manifest("warp-ir-pairs", "0.1.0", "0.1.0", "1.19.0", {"cpu-tiny": entry})


def test_written_manifest_reads_back_equal_with_sorted_keys(tmp_path):
    manifest = _manifest(tmp_path)
    manifests.write(tmp_path, manifest)
    assert manifests.read(tmp_path) == manifest
    text = (tmp_path / manifests.FILE_NAME).read_text()
    assert text == json.dumps(manifest.to_dict(), indent=2, sort_keys=True) + "\n"
    assert json.loads(text)["configs"]["cpu-tiny"]["splits"]["train"]["num_examples"] == 0
    assert manifests.verify(tmp_path) == []


@pytest.mark.parametrize(("breakage", "needle"), [
    ("missing", "does not exist: not a release folder"),
    ("not-json", "is not a readable manifest"),
    ("format", "is not a warp-ir-pairs manifest (format 2, expected 1)"),
    ("warp_version", "has no warp_version (a non-empty string)"),
    ("counts", "cpu-tiny/train: shard counts do not add up to 5"),
    ("name", "config name '../x' is not a safe file/glob name"),
])
def test_a_bad_manifest_is_one_line_naming_the_problem(tmp_path, breakage, needle):
    data = _manifest(tmp_path).to_dict()
    if breakage == "format":
        data["format"] = 2
    elif breakage == "warp_version":
        del data["warp_version"]
    elif breakage == "counts":
        data["configs"]["cpu-tiny"]["splits"]["train"]["num_examples"] = 5
    elif breakage == "name":
        data["configs"]["../x"] = data["configs"].pop("cpu-tiny")
    if breakage == "not-json":
        (tmp_path / manifests.FILE_NAME).write_text("{")
    elif breakage != "missing":
        (tmp_path / manifests.FILE_NAME).write_text(json.dumps(data))
    with pytest.raises(ManifestError) as info:
        manifests.read(tmp_path)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_verify_finds_missing_changed_and_unlisted_shards(tmp_path):
    manifest = _manifest(tmp_path)
    manifests.write(tmp_path, manifest)
    stray = tmp_path / "cpu-tiny" / "train-stray.parquet"
    stray.write_bytes(b"x")
    assert manifests.verify(tmp_path) == [
        "cpu-tiny/train-* matches ['cpu-tiny/train-00000-of-00001.parquet', 'cpu-tiny/train-stray.parquet'], "
        "but release.json lists ['cpu-tiny/train-00000-of-00001.parquet']"]
    stray.unlink()
    shard = tmp_path / "cpu-tiny" / "train-00000-of-00001.parquet"
    shard.write_bytes(shard.read_bytes() + b"\0")
    assert manifests.verify(tmp_path) == ["cpu-tiny/train-00000-of-00001.parquet: sha256 differs from the manifest"]
    shard.unlink()
    assert manifests.verify(tmp_path) == ["cpu-tiny/train-00000-of-00001.parquet: missing"]
