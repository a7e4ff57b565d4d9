"""Shared fixtures. Tests never touch the network or the user's caches."""

from __future__ import annotations

import os
import tempfile

# Set before datasets/huggingface_hub are imported anywhere in the test session.
_HOME = tempfile.mkdtemp(prefix="warp-ir-pairs-tests-")
os.environ.setdefault("HF_HOME", _HOME)
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_UPDATE_DOWNLOAD_COUNTS"] = "0"

import pytest
from warp_ir_pairs_generator import driver
from warp_ir_pairs_generator.options import GenerationOptions

TINY = 256


@pytest.fixture(scope="session")
def tiny_records() -> dict[str, list[dict]]:
    """Every record of cpu-tiny and cuda-tiny (default seed), generated once per session."""
    out = {}
    for backend in ("cpu", "cuda"):
        options = GenerationOptions.from_config(f"{backend}-tiny")
        out[backend] = list(driver.iter_shard(options, 0, options.num_examples))
    return out
