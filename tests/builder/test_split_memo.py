"""The split memo: later split passes of one build skip other splits' indices, records unchanged."""

from __future__ import annotations

import os
import tempfile

import datasets
import pytest
from warp_ir_pairs_generator import driver
from warp_ir_pairs_generator.options import GenerationOptions
from warp_ir_pairs_generator.record import split_memo
from warp_ir_pairs_generator.record.structure import split_of

import warp_ir_pairs  # noqa: F401  (registers the builder)

N = 40


def _count_first_draws(monkeypatch) -> list[int]:
    calls: list[int] = []
    real = driver._first_draw

    def counting(options, index):
        calls.append(index)
        return real(options, index)

    monkeypatch.setattr(driver, "_first_draw", counting)
    return calls


def test_a_build_synthesizes_each_index_once_and_leaves_no_memo(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    os.makedirs(tmp_path / "tmp")
    calls = _count_first_draws(monkeypatch)
    ds = datasets.load_dataset("warp_ir_pairs", "cpu-tiny", num_examples=N, cache_dir=str(tmp_path / "cache"))
    generation = len(calls)
    options = GenerationOptions.from_config("cpu-tiny", num_examples=N)
    # Each split holds exactly its indices, as without the memo.
    for split in ds:
        assert ds[split].to_list() == list(driver.iter_shard(options, 0, N, split))
    before = len(calls)
    driver.nonempty_splits(options)
    scan = len(calls) - before            # the builder's scan for non-empty splits (synthesis only)
    # One full pass (train) and then only each later split's own indices, not 3 full passes.
    later = ds["validation"].num_rows + ds["test"].num_rows
    assert generation == scan + N + later
    assert os.listdir(tmp_path / "tmp") == []          # the scratch memo is gone after the build


def test_memo_round_trip_and_bad_files_are_ignored(tmp_path):
    splits = ["train", "validation", "train", "test"]
    split_memo.write(str(tmp_path), 0, 4, splits)
    assert split_memo.read(str(tmp_path), 0, 4) == splits
    assert split_memo.read(str(tmp_path), 4, 8) is None                 # missing
    assert split_memo.read(None, 0, 4) is None                          # disabled (streaming)
    (tmp_path / "8-12").write_text("01x2")
    assert split_memo.read(str(tmp_path), 8, 12) is None                # malformed
    (tmp_path / "12-16").write_text("012")
    assert split_memo.read(str(tmp_path), 12, 16) is None               # wrong length
    split_memo.write(str(tmp_path), 16, 20, splits[:3])                 # incomplete pass: not written
    assert not (tmp_path / "16-20").exists()
    split_memo.write(str(tmp_path / "missing-dir"), 0, 4, splits)       # unwritable: skipped, no error
    assert sorted(os.listdir(tmp_path)) == ["0-4", "12-16", "8-12"]     # no temp files left behind


def test_iter_shard_with_known_splits_gives_the_same_records():
    options = GenerationOptions.from_config("cuda-tiny", num_examples=30)
    seen: list[str] = []
    everything = list(driver.iter_shard(options, 0, 30, None, None, None, seen))
    assert seen == [split_of(r["structure_hash"]) for r in everything]
    for split in ("train", "validation", "test"):
        assert (list(driver.iter_shard(options, 0, 30, split, None, seen))
                == [r for r in everything if split_of(r["structure_hash"]) == split])


def test_a_memo_that_contradicts_the_kernels_is_an_error_not_a_silent_drop():
    options = GenerationOptions.from_config("cpu-tiny", num_examples=8)
    seen: list[str] = []
    list(driver.iter_shard(options, 0, 8, None, None, None, seen))
    wrong = ["validation" if s == "train" else "train" for s in seen]
    with pytest.raises(driver.GenerationError, match="split memo"):
        list(driver.iter_shard(options, 0, 8, "validation", None, wrong))
    with pytest.raises(ValueError, match="8 indices"):
        list(driver.iter_shard(options, 0, 8, "train", None, seen[:3]))
