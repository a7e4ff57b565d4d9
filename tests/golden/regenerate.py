"""Regenerate ``digests.json`` after a deliberate content change.

    python tests/golden/regenerate.py

Refuses to write digests that differ from the pinned ones under the same dataset version:
a content change bumps ``DATASET_VERSION`` and adds a CHANGELOG entry first (README, "Versions").
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import golden_cases

HERE = Path(__file__).parent
FILE = HERE / "digests.json"


def main() -> int:
    from warp_ir_pairs import DATASET_VERSION

    new = {"dataset_version": DATASET_VERSION,
           "draws": {b: golden_cases.draw_digests(b) for b in golden_cases.DRAW_BACKENDS},
           "records": dict(golden_cases.all_record_digests())}
    if FILE.exists():
        old = json.loads(FILE.read_text())
        changed = old.get("draws") != new["draws"] or old.get("records") != new["records"]
        if changed and old.get("dataset_version") == DATASET_VERSION:
            print(f"golden digests changed but DATASET_VERSION is still {DATASET_VERSION}: bump it and add a "
                  "CHANGELOG entry saying what changed and why, then rerun", file=sys.stderr)
            return 2
        if not changed:
            print(f"golden digests unchanged (dataset version {DATASET_VERSION})")
            return 0
    FILE.write_text(json.dumps(new, indent=1, sort_keys=True) + "\n")
    print(f"wrote {FILE} for dataset version {DATASET_VERSION}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
