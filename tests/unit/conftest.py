"""The Warp-free lane (``pytest tests/unit``): a test here that imports Warp fails, so the lane stays seconds."""

from __future__ import annotations

import sys
from importlib.abc import MetaPathFinder

import pytest


class _NoWarp(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "warp" or name.startswith("warp."):
            raise ImportError(f"tests/unit is the Warp-free lane, but something imported {name!r}")
        return None


@pytest.fixture(autouse=True)
def _no_warp():
    # Only new imports can be caught: when another lane already loaded Warp in this session,
    # the lane run on its own (`pytest tests/unit`) is the proof.
    finder = _NoWarp()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
