"""`import warp_ir_pairs` makes `load_dataset("warp_ir_pairs", ...)` work offline on datasets 5.x."""

from __future__ import annotations

import subprocess
import sys
import time

import datasets
import pytest
from warp_ir_pairs_generator import driver
from warp_ir_pairs_generator.options import GenerationOptions

import warp_ir_pairs


def _load(tmp_path, name="cpu-tiny", **kwargs):
    return datasets.load_dataset("warp_ir_pairs", name, cache_dir=str(tmp_path / "cache"), **kwargs)


def test_datasets_version_is_the_tested_range():
    major, minor = (int(x) for x in datasets.__version__.split(".")[:2])
    assert (major, minor) == (5, 2), "registration is tested on datasets 5.2; re-test before widening the pin"


def test_import_registers_the_builder_and_it_resolves():
    builder = datasets.load_dataset_builder("warp_ir_pairs", "cuda-tiny")
    assert isinstance(builder, warp_ir_pairs.WarpIRPairs)
    assert builder.config.name == "cuda-tiny"
    assert "cpu-large" in datasets.get_dataset_config_names("warp_ir_pairs")


def test_other_names_still_reach_datasets():
    with pytest.raises(Exception) as info:
        datasets.load_dataset_builder("definitely_not_a_dataset_name_xyz")
    assert "warp_ir_pairs" not in str(info.value)


def test_load_dataset_from_an_empty_directory_offline(tmp_path, monkeypatch):
    workdir = tmp_path / "empty"
    workdir.mkdir()
    monkeypatch.chdir(workdir)   # datasets' packaged-module path would scan the cwd here
    ds = _load(tmp_path, num_examples=20)
    assert sum(ds.num_rows.values()) == 20
    assert set(ds) == {"train", "validation", "test"} or set(ds) <= {"train", "validation", "test"}


def test_loaded_records_equal_the_engine_records(tmp_path):
    ds = _load(tmp_path, "cuda-tiny", num_examples=24)
    loaded = sorted((r for split in ds.values() for r in split), key=lambda r: r["index"])
    options = GenerationOptions.from_config("cuda-tiny", num_examples=24)
    assert loaded == list(driver.iter_shard(options, 0, 24))
    assert ds["train"].features == warp_ir_pairs.WarpIRPairs(config_name="cuda-tiny").info.features


def test_second_load_reads_the_cache(tmp_path, monkeypatch):
    first = _load(tmp_path, num_examples=12)

    def no_generation(*args, **kwargs):
        raise AssertionError("generation ran although the cache holds this config")

    monkeypatch.setattr(driver, "_first_draw", no_generation)   # every generated index starts here
    second = _load(tmp_path, num_examples=12)
    assert second["train"].to_list() == first["train"].to_list()


def test_num_proc_2_gives_the_same_dataset(tmp_path):
    one = _load(tmp_path / "a", num_examples=256)
    two = _load(tmp_path / "b", num_examples=256, num_proc=2)
    for split in one:
        assert one[split].to_list() == two[split].to_list()


def test_streaming_the_large_tier_starts_in_seconds():
    start = time.perf_counter()
    stream = datasets.load_dataset("warp_ir_pairs", "cuda-large", split="train", streaming=True)
    first = next(iter(stream))
    assert time.perf_counter() - start < 20
    assert first["backend"] == "cuda" and first["index"] < 10


@pytest.mark.parametrize(
    ("name", "kwargs", "needle"),
    [
        ("cpu-huge", {}, "unknown config 'cpu-huge'; valid names: cpu, cuda, paired, errors, cpu-tiny"),
        ("cpu-tiny", {"num_examples": -5}, "num_examples must be >= 0, got -5"),
        ("cpu-tiny", {"seed": "42"}, "seed must be int, got '42'"),
        ("cpu-tiny", {"nm_examples": 5}, "unknown option 'nm_examples'"),
    ],
)
def test_load_dataset_rejects_bad_configs_with_one_value_error(name, kwargs, needle, tmp_path):
    with pytest.raises(ValueError, match=needle):
        _load(tmp_path, name, **kwargs)


def test_registration_survives_a_fresh_interpreter(tmp_path):
    code = ("import warp_ir_pairs, datasets; "
            "b = datasets.load_dataset_builder('warp_ir_pairs', 'cpu'); print(type(b).__name__, b.config.name)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True)
    assert out.stdout.split() == ["WarpIRPairs", "cpu"]
