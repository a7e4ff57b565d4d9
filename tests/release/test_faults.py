"""The fault suite: every kill point and a full disk, injected deterministically, then resume.

Each case (faults.CASES) must leave a folder that a plain re-run turns into the bytes of an
uninterrupted run, that ``verify`` accepts, with no index lost or duplicated. The README's
Reliability table comes from the same cases (``python tests/release/fault_table.py``).
"""

from __future__ import annotations

from pathlib import Path

import faults
import pytest


@pytest.fixture(scope="module")
def expected(tmp_path_factory) -> dict[str, bytes]:
    return faults.reference(tmp_path_factory.mktemp("uninterrupted"))


@pytest.mark.parametrize("case", faults.CASES, ids=[c.name for c in faults.CASES])
def test_fault_then_resume_gives_the_uninterrupted_release(case: faults.Case, expected, tmp_path: Path):
    outcome = faults.run_case(case, tmp_path / "release", expected)
    assert outcome.fault_hit, outcome.detail   # a fault that never fired tests nothing
    assert outcome.survived, outcome.detail
    assert (outcome.lost, outcome.duplicated) == (0, 0)
