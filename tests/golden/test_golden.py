"""The dataset's content is pinned: any change to a golden record fails here.

A refactor leaves every digest unchanged. A deliberate content change regenerates
``digests.json`` (``python tests/golden/regenerate.py``), bumps ``DATASET_VERSION`` and adds a
CHANGELOG entry, in a commit of its own.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import golden_cases
import pytest

HERE = Path(__file__).parent
PINNED = json.loads((HERE / "digests.json").read_text())


def test_pinned_digests_belong_to_the_current_dataset_version():
    from warp_ir_pairs import DATASET_VERSION

    assert PINNED["dataset_version"] == DATASET_VERSION


def test_the_changelog_says_what_the_current_dataset_version_changed():
    from warp_ir_pairs import DATASET_VERSION

    changelog = (HERE.parent.parent / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(rf"^## .*dataset {re.escape(DATASET_VERSION)}\b", changelog, re.MULTILINE), \
        f"CHANGELOG.md has no '## ... dataset {DATASET_VERSION}' heading"


def test_every_case_is_pinned():
    assert set(PINNED["records"]) == {name for name, *_ in golden_cases.CASES}
    assert set(PINNED["draws"]) == set(golden_cases.DRAW_BACKENDS)


@pytest.mark.parametrize("backend", golden_cases.DRAW_BACKENDS)
def test_first_draws_of_the_synthesizer_are_unchanged(backend):
    assert golden_cases.draw_digests(backend) == PINNED["draws"][backend]


@pytest.mark.parametrize("name,config,overrides,count", golden_cases.CASES, ids=[c[0] for c in golden_cases.CASES])
def test_first_records_are_unchanged(name, config, overrides, count):
    got = golden_cases.record_digests(config, overrides, count)
    want = PINNED["records"][name]
    changed = [i for i, (a, b) in enumerate(zip(want, got, strict=True)) if a != b]
    assert not changed, f"{name}: records {changed} of {config} {overrides} changed"
