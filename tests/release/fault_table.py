"""Print the README's Reliability rows for the release fault suite: ``python tests/release/fault_table.py``.

Runs the same cases as tests/release/test_faults.py (faults.CASES) and counts faults tried,
survived (resume gave the uninterrupted bytes and ``verify`` passed) and records lost or duplicated.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import faults


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="warp-ir-pairs-faults-") as tmp:
        expected = faults.reference(Path(tmp) / "uninterrupted")
        outcomes = [(case, faults.run_case(case, Path(tmp) / f"case-{i}", expected))
                    for i, case in enumerate(faults.CASES)]
    for case, outcome in outcomes:
        status = "survived" if outcome.fault_hit and outcome.survived else f"FAILED {outcome.detail}"
        print(f"  {case.name}: {status}", file=sys.stderr)
    tried = len(outcomes)
    survived = sum(o.fault_hit and o.survived for _, o in outcomes)
    lost = sum(o.lost for _, o in outcomes)
    duplicated = sum(o.duplicated for _, o in outcomes)
    print("| suite | faults tried | survived | records lost | records duplicated |")
    print("|---|---|---|---|---|")
    print(f"| release writer (kill mid-shard, before a marker, mid-manifest, mid-card, mid-plot, disk full, "
          f"worker killed, killed re-card) | {tried} | {survived} | {lost} | {duplicated} |")
    return 0 if survived == tried else 1


if __name__ == "__main__":
    raise SystemExit(main())
