"""Corpus statistics: what a team training on the records wants to know before it does.

``summarize`` turns one record into a small row (so workers ship rows, not records), and
``Stats`` folds rows and rejection reports into the figures ``format_report`` prints.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from .. import driver
from ..options import GenerationOptions
from ..synth.types import ALL_TYPES
from .figures import Distinct, digest, percentiles

_CALL = re.compile(r"\bwp\.(\w+)\(")
# The Warp types a record names, from the one vocabulary (longest first, so wp.vec3d is not wp.vec3).
_TYPE = re.compile(r"\bwp\.(" + "|".join(sorted((re.escape(t.removeprefix("wp.")) for t in ALL_TYPES if t != "bool"),
                                                 key=len, reverse=True)) + r")\b")
# Calls that are declarations, not builtins used by the program.
_NOT_BUILTINS = frozenset({"kernel", "func", "struct", "constant", "array", "array2d", "array3d", "array4d",
                           "indexedarray"})
_CONSTRUCTS = {
    "if": re.compile(r"^\s+if .*:$", re.M), "elif": re.compile(r"^\s+elif .*:$", re.M),
    "else": re.compile(r"^\s+else:$", re.M), "for": re.compile(r"^\s+for .* in range\(", re.M),
    "while": re.compile(r"^\s+while .*:$", re.M), "break": re.compile(r"^\s+break$", re.M),
    "continue": re.compile(r"^\s+continue$", re.M), "return": re.compile(r"^\s+return$", re.M),
    "ternary": re.compile(r" if .* else "), "@wp.func": re.compile(r"^@wp\.func$", re.M),
    "generic func": re.compile(r": Any[,)]"), "@wp.struct": re.compile(r"^@wp\.struct$", re.M),
    "wp.constant": re.compile(r"= wp\.constant\("), "atomic": re.compile(r"wp\.atomic_(add|sub|min|max)\("),
    "random": re.compile(r"wp\.rand(f|n|i)\("), "indexedarray": re.compile(r"wp\.indexedarray\("),
    "array2d": re.compile(r"wp\.array2d\("), "array3d": re.compile(r"wp\.array3d\("),
    "array4d": re.compile(r"wp\.array4d\("), "tid 2-D": re.compile(r"^\s+\w+, \w+ = wp\.tid\(\)", re.M),
    "tid 3-D": re.compile(r"^\s+\w+, \w+, \w+ = wp\.tid\(\)", re.M),
}


@dataclass(frozen=True)
class Row:
    category: str
    structure: str
    source_digest: bytes
    ir_digest: bytes
    source_len: int
    ir_len: int
    complexity: int
    builtins: frozenset[str]
    types: frozenset[str]
    constructs: frozenset[str]


def summarize(record: dict) -> Row:
    src = record["python_source"]
    return Row(
        category=record["category"], structure=record["structure_hash"],
        source_digest=digest(src), ir_digest=digest(record["ir_code"]),
        source_len=len(src), ir_len=len(record["ir_code"]), complexity=record["complexity"],
        builtins=frozenset(n for n in _CALL.findall(src) if n not in _NOT_BUILTINS),
        types=frozenset(_TYPE.findall(src)),
        constructs=frozenset(name for name, rx in _CONSTRUCTS.items() if rx.search(src)),
    )


@dataclass
class Stats:
    rows: list[Row] = field(default_factory=list)
    report: driver.Report = field(default_factory=driver.Report)

    def add(self, rows: Iterable[Row], report: driver.Report | None = None) -> None:
        self.rows.extend(rows)
        if report is not None:
            self.report.add(report)

    def figures(self) -> dict:
        rows = self.rows
        n = len(rows)
        builtins = Counter(b for r in rows for b in r.builtins)
        distinct = Distinct()
        distinct.add("", (r.structure for r in rows), (r.source_digest for r in rows), (r.ir_digest for r in rows))
        return {
            "records": n,
            "categories": dict(sorted(Counter(r.category for r in rows).items())),
            "complexity": dict(sorted(Counter(r.complexity for r in rows).items())),
            "distinct_structures": distinct.distinct_structures,
            "duplicate_python_source": distinct.duplicate_python_source,
            "duplicate_ir_code": distinct.duplicate_ir_code,
            "distinct_builtins": len(builtins),
            "top_builtins": dict(builtins.most_common(15)),
            "types": dict(sorted(Counter(t for r in rows for t in r.types).items())),
            "constructs": dict(sorted(Counter(c for r in rows for c in r.constructs).items())),
            "source_chars": percentiles([r.source_len for r in rows]),
            "ir_chars": percentiles([r.ir_len for r in rows]),
            "rejected": self.report.total_rejected,
            "rejected_by_reason": {f"{c}: {reason}": k for (c, reason), k in self.report.rejected.most_common()},
        }


def _shard_rows(args: tuple[GenerationOptions, int, int]) -> tuple[list[Row], driver.Report]:
    options, start, stop = args
    report = driver.Report()
    return [summarize(r) for r in driver.iter_shard(options, start, stop, None, report)], report


def collect(options: GenerationOptions, num_proc: int = 1, progress: bool = False) -> Stats:
    """Generate every record of ``options`` (in ``num_proc`` processes) and fold it into Stats."""
    stats = Stats()
    jobs = [(options, a, b) for a, b in driver.shards(options.num_examples)]
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=options.num_examples, unit="rec", desc=f"{options.backend} stats")
    if num_proc <= 1:
        results = map(_shard_rows, jobs)
        for rows, report in results:
            stats.add(rows, report)
            if bar:
                bar.update(len(rows))
    else:
        with ProcessPoolExecutor(num_proc) as pool:
            for rows, report in pool.map(_shard_rows, jobs):
                stats.add(rows, report)
                if bar:
                    bar.update(len(rows))
    if bar:
        bar.close()
    return stats


def from_release(root: str, config: str | None = None) -> Stats:
    """Stats of the records in a release folder (all configs, or one), read from its shards."""
    from ..release import manifest as manifests
    from ..release import read

    manifest = manifests.read(root)
    entries = [manifest.config(config, root)] if config else list(manifest.configs.values())
    stats = Stats()
    for entry in entries:
        stats.add(summarize(r) for r in read.iter_records(root, entry, _SUMMARY_COLUMNS))
        for key, n in entry.rejected.items():
            category, _, reason = key.partition(": ")
            stats.report.rejected[(category, reason)] += n
    return stats


_SUMMARY_COLUMNS = ("python_source", "ir_code", "category", "structure_hash", "complexity")


def format_report(name: str, figures: dict) -> str:
    """Human-readable stats (the README shows this output)."""
    lines = [f"stats for {name}: {figures['records']} records"]
    lines.append("  categories: " + ", ".join(f"{k} {v}" for k, v in figures["categories"].items()))
    lines.append("  complexity: " + ", ".join(f"{k}: {v}" for k, v in figures["complexity"].items()))
    lines.append(f"  distinct structures: {figures['distinct_structures']}")
    lines.append(f"  duplicate python_source: {figures['duplicate_python_source']}, "
                 f"duplicate ir_code: {figures['duplicate_ir_code']}")
    lines.append(f"  distinct wp.* builtins used: {figures['distinct_builtins']} (top: "
                 + ", ".join(f"{k} {v}" for k, v in list(figures["top_builtins"].items())[:8]) + ")")
    lines.append("  types (records using): " + ", ".join(f"{k} {v}" for k, v in figures["types"].items()))
    lines.append("  constructs (records using): " + ", ".join(f"{k} {v}" for k, v in figures["constructs"].items()))
    for key in ("source_chars", "ir_chars"):
        p = figures[key]
        lines.append(f"  {key}: min {p['min']}, median {p['median']}, p99 {p['p99']}, max {p['max']}")
    lines.append(f"  rejected and replaced: {figures['rejected']}")
    for reason, count in list(figures["rejected_by_reason"].items())[:10]:
        lines.append(f"    {count:6d}  {reason}")
    return "\n".join(lines)
