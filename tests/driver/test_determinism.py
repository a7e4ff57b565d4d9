"""A record is a pure function of (backend, seed, index, options)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

from warp_ir_pairs_generator import driver
from warp_ir_pairs_generator.options import GenerationOptions

_DIGEST_SCRIPT = """
import hashlib, json, sys
from warp_ir_pairs_generator import driver
from warp_ir_pairs_generator.options import GenerationOptions
backend, start, stop = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
options = GenerationOptions.from_config(backend + "-tiny")
for r in driver.iter_shard(options, start, stop):
    print(hashlib.sha256(json.dumps(r, sort_keys=True).encode()).hexdigest())
"""


def _digest(record: dict) -> str:
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()


def _digests_in_fresh_process(backend: str, start: int, stop: int, hashseed: str) -> list[str]:
    env = dict(os.environ, PYTHONHASHSEED=hashseed)
    out = subprocess.run([sys.executable, "-c", _DIGEST_SCRIPT, backend, str(start), str(stop)],
                         capture_output=True, text=True, env=env, check=True)
    return out.stdout.split()


def test_same_records_across_separate_processes_and_hash_seeds(tiny_records):
    for backend in ("cpu", "cuda"):
        # Start mid-tier so the other process has generated nothing before these indices.
        expected = [_digest(r) for r in tiny_records[backend][40:52]]
        assert _digests_in_fresh_process(backend, 40, 52, "0") == expected
        assert _digests_in_fresh_process(backend, 40, 52, "12345") == expected


def test_a_record_does_not_depend_on_what_the_process_generated_before(tiny_records):
    options = GenerationOptions.from_config("cpu-tiny")
    again = driver.make_record(options, 8)   # after this process generated all of cpu-tiny
    assert again == tiny_records["cpu"][8]
    assert driver.make_record(options, 8) == again


def test_tiers_share_prefixes():
    tiny = GenerationOptions.from_config("cuda-tiny")
    large = GenerationOptions.from_config("cuda-large")
    assert [driver.make_record(tiny, i) for i in range(5)] == [driver.make_record(large, i) for i in range(5)]


def test_seed_changes_the_records():
    a = driver.make_record(GenerationOptions.from_config("cpu-tiny", seed=1), 0)
    b = driver.make_record(GenerationOptions.from_config("cpu-tiny", seed=2), 0)
    assert a["python_source"] != b["python_source"]
    assert a["id"] == "cpu-1-0" and b["id"] == "cpu-2-0"


def test_ids_are_unique_and_stable(tiny_records):
    for backend, records in tiny_records.items():
        assert [r["id"] for r in records] == [f"{backend}-42-{i}" for i in range(256)]
