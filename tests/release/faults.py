"""The release fault suite's cases and runner, shared by test_faults.py and fault_table.py.

Each case runs ``warp-ir-pairs generate`` (or ``card``) in a fresh interpreter with one function
patched to fail at its Nth call, deterministically: ``kill-mid`` leaves a half-written temp file
next to the target and ``os._exit``s (what SIGKILL during a write leaves), ``kill-before`` exits
before the call, ``enospc`` makes the write raise ``OSError(ENOSPC)`` halfway. Then the same
command runs again, normally, and the folder must be byte-identical to an uninterrupted run's,
``verify`` must pass, and every index must be in the shards exactly once.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

CONFIG = "cpu-tiny"
NUM_EXAMPLES = 12
PER_SHARD = 4   # three units
GENERATE = ["generate", CONFIG, "--num-examples", str(NUM_EXAMPLES), "--records-per-shard", str(PER_SHARD)]

_INJECT = r"""
import errno, importlib, os, sys, tempfile
from pathlib import Path

target, nth, action, match, *argv = sys.argv[1:]
nth = int(nth)
module_name, attr = target.split(":")
module = importlib.import_module(module_name)
real = getattr(module, attr)
calls = 0

def half_written(path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, _ = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.write(fd, b"PAR1 half a file")
    os.close(fd)

def faulty(*args, **kwargs):
    global calls
    path = Path(args[0])
    if attr == "write":   # manifest.write(root, manifest)
        path = path / "release.json"
    if match and match not in path.name:
        return real(*args, **kwargs)
    calls += 1
    if calls != nth:
        return real(*args, **kwargs)
    if action == "kill-mid":
        half_written(path)
        os._exit(137)
    if action == "kill-before":
        os._exit(137)
    if action == "enospc":
        def write_half(tmp):
            Path(tmp).write_bytes(b"PAR1 half")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(args[0], write_half)
    raise SystemExit(f"unknown action {action}")

setattr(module, attr, faulty)
from warp_ir_pairs_generator import cli
raise SystemExit(cli.main(argv))
"""

EXPORT = "warp_ir_pairs_generator.release.export"
MANIFEST = "warp_ir_pairs_generator.release.manifest"
PLOTS = "warp_ir_pairs_card.plots"


@dataclass(frozen=True)
class Case:
    name: str
    target: str          # module:function patched in the faulty run
    nth: int             # the call that fails (counting calls whose path matches ``match``)
    action: str          # kill-mid | kill-before | enospc
    match: str = ""
    num_proc: int = 1
    card_over_good: bool = False   # fault a `card` run over a complete release (the old card must survive)


CASES = (
    Case("kill during a shard write", f"{EXPORT}:atomic_write", 2, "kill-mid"),
    Case("kill after a shard, before its marker", f"{EXPORT}:write_json", 2, "kill-before"),
    Case("kill during the manifest write", f"{MANIFEST}:write", 1, "kill-mid"),
    Case("kill during the card write", f"{MANIFEST}:atomic_write", 1, "kill-mid", match="README.md"),
    Case("kill during a plot write", f"{PLOTS}:atomic_write", 2, "kill-mid"),
    Case("disk full during a shard", f"{EXPORT}:atomic_write", 3, "enospc"),
    Case("worker killed during a shard (--num-proc 2)", f"{EXPORT}:atomic_write", 1, "kill-mid", num_proc=2),
    Case("kill during `card` over a good card", f"{MANIFEST}:atomic_write", 1, "kill-mid", match="README.md",
         card_over_good=True),
)


@dataclass
class Outcome:
    fault_hit: bool
    survived: bool
    lost: int
    duplicated: int
    detail: str


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _cli(argv: list[str], *inject: str) -> subprocess.CompletedProcess:
    code = ["-c", _INJECT, *inject] if inject else ["-m", "warp_ir_pairs"]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    return subprocess.run([sys.executable, *code, *argv], capture_output=True, text=True, timeout=600, env=env)


def reference(root: Path) -> dict[str, bytes]:
    proc = _cli([*GENERATE, "--out", str(root)])
    assert proc.returncode == 0, proc.stderr[-2000:]
    return tree(root)


def count_indices(root: Path) -> tuple[int, int]:
    """(lost, duplicated) indices over every shard file of the config in the folder."""
    import pyarrow.parquet as pq

    seen = [i for p in sorted((root / CONFIG).glob("*.parquet")) for i in pq.read_table(p, columns=["index"])
            .column("index").to_pylist()]
    lost = len(set(range(NUM_EXAMPLES)) - set(seen))
    return lost, len(seen) - len(set(seen))


def run_case(case: Case, root: Path, expected: dict[str, bytes]) -> Outcome:
    argv = [*GENERATE, "--out", str(root), "--num-proc", str(case.num_proc)]
    if case.card_over_good:
        assert _cli([*GENERATE, "--out", str(root)]).returncode == 0
        argv = ["card", str(root)]
    faulty = _cli(argv, case.target, str(case.nth), case.action, case.match)
    hit = faulty.returncode == 137 or (case.action == "enospc" and "No space left on device" in faulty.stderr)
    ours = [line for line in faulty.stderr.splitlines() if not line.startswith("Warp CUDA warning")]
    if case.num_proc > 1:   # the worker died: the parent reports the broken pool in one line, no traceback
        hit = (faulty.returncode == 2 and "Traceback" not in faulty.stderr
               and sum(line.startswith("warp-ir-pairs: ") for line in ours) == 1)
    if not hit:
        return Outcome(False, False, 0, 0, f"the fault did not fire as expected: rc {faulty.returncode}, "
                                           f"stderr {faulty.stderr[-800:]!r}")
    if case.action == "enospc" and (len(ours) != 1 or str(root) not in ours[0]):
        return Outcome(hit, False, 0, 0, f"disk-full error not one line: {faulty.stderr[-500:]!r}")
    if case.card_over_good:
        # Everything but what the kill itself leaves (its temp file, its pid in the lock file) is unchanged.
        def release_only(files: dict[str, bytes]) -> dict[str, bytes]:
            return {k: v for k, v in files.items() if not k.endswith(".tmp") and k != ".lock"}
        if release_only(tree(root)) != release_only(expected):
            return Outcome(hit, False, 0, 0, "a killed card build changed the good card")
    resumed = _cli([*GENERATE, "--out", str(root)])
    verified = _cli(["verify", str(root)])
    lost, duplicated = count_indices(root)
    got = tree(root)
    problems = []
    if resumed.returncode != 0:
        problems.append(f"resume failed: {resumed.stderr[-500:]!r}")
    if verified.returncode != 0:
        problems.append(f"verify failed: {verified.stderr[-500:]!r}")
    if got != expected:
        differ = sorted(set(got) ^ set(expected) | {k for k in got.keys() & expected.keys() if got[k] != expected[k]})
        problems.append(f"not byte-identical to an uninterrupted run: {differ[:5]}")
    return Outcome(hit, not problems and lost == 0 and duplicated == 0, lost, duplicated, "; ".join(problems))
