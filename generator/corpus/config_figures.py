"""Figures of one config of a release, streamed from its shards: what the dataset card reports.

Per split: records, Arrow and Parquet bytes, families; per config: complexity levels, the length
of every code field, the values of the fields that say how it was made, and the distinct and
duplicate counts of :mod:`.figures` (the same ones the ``stats`` command prints).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..record import schema
from ..release import read
from ..release.manifest import FILE_NAME, ConfigEntry, Manifest
from .figures import Distinct, digest

# String fields holding code or run data: their lengths are reported and plotted.
TEXT_FIELDS = ("python_source", "ir_code", "ir_functions", "ir_backward", "cuda_ir_code", "cuda_ir_functions",
               "cuda_ir_backward", "ptx", "ir_llvm", "asm", "example_io")
# Fields whose values describe how a config was made; each must be what the manifest says.
VALUE_FIELDS = ("backend", "verify", "ptx_arch", "cpu_target", "warp_version")
assert set(TEXT_FIELDS) | set(VALUE_FIELDS) <= set(schema.FIELD_NAMES)


@dataclass
class SplitFigures:
    name: str
    num_examples: int = 0
    num_bytes: int = 0        # Arrow (in-memory) bytes: what `datasets` reports as a split's size
    download_bytes: int = 0   # Parquet bytes on disk
    categories: Counter = field(default_factory=Counter)


@dataclass
class ConfigFigures:
    entry: ConfigEntry
    splits: list[SplitFigures]
    complexity: Counter
    lengths: dict[str, np.ndarray]   # field -> lengths (characters) of its non-empty values
    values: dict[str, Counter]       # VALUE_FIELDS -> value counts
    distinct_structures: int
    structures_in_several_splits: int
    duplicate_python_source: int
    duplicate_ir_code: int

    @property
    def name(self) -> str:
        return self.entry.name

    @property
    def backend(self) -> str:
        return self.entry.options["backend"]

    @property
    def num_examples(self) -> int:
        return sum(s.num_examples for s in self.splits)

    @property
    def download_size(self) -> int:
        return sum(s.download_bytes for s in self.splits)

    @property
    def dataset_size(self) -> int:
        return sum(s.num_bytes for s in self.splits)

    @property
    def categories(self) -> Counter:
        return sum((s.categories for s in self.splits), Counter())

    @property
    def present(self) -> set[str]:
        """The TEXT_FIELDS some record of this config fills."""
        return {name for name, v in self.lengths.items() if v.size}


def _value_counts(column: pa.Array) -> Counter:
    return Counter({item["values"]: item["counts"] for item in pc.value_counts(column).to_pylist()})


def scan_config(root: Path, entry: ConfigEntry) -> ConfigFigures:
    """Stream every shard of one config (verified beforehand: see ``manifest.verify``) into figures."""
    splits: dict[str, SplitFigures] = {}
    complexity: Counter = Counter()
    values: dict[str, Counter] = {f: Counter() for f in VALUE_FIELDS}
    length_parts: dict[str, list[np.ndarray]] = {f: [] for f in TEXT_FIELDS}
    distinct = Distinct()
    for split in entry.splits:
        splits[split] = SplitFigures(split)
    for batch in read.iter_batches(root, entry, schema.FIELD_NAMES):
        fig, rows = splits[batch.split], batch.rows
        if batch.first:
            fig.download_bytes += batch.shard.num_bytes
        fig.num_examples += rows.num_rows
        fig.num_bytes += rows.nbytes
        fig.categories.update(_value_counts(rows["category"]))
        complexity.update(_value_counts(rows["complexity"]))
        for name in VALUE_FIELDS:
            values[name].update(_value_counts(rows[name]))
        for name in TEXT_FIELDS:
            lengths = pc.utf8_length(rows[name]).to_numpy(zero_copy_only=False)
            length_parts[name].append(lengths[lengths > 0])
        distinct.add(batch.split, rows["structure_hash"].to_pylist(),
                     map(digest, rows["python_source"].to_pylist()), map(digest, rows["ir_code"].to_pylist()))
    return ConfigFigures(
        entry=entry, splits=list(splits.values()), complexity=complexity,
        lengths={f: np.concatenate(p) if p else np.array([], dtype=np.int32) for f, p in length_parts.items()},
        values=values, distinct_structures=distinct.distinct_structures,
        structures_in_several_splits=distinct.structures_in_several_splits,
        duplicate_python_source=distinct.duplicate_python_source, duplicate_ir_code=distinct.duplicate_ir_code)


def check_matches_manifest(fig: ConfigFigures, manifest: Manifest) -> None:
    """The data must be what the manifest says it is, or the card (and reproduce command) would lie."""
    options = fig.entry.options
    if fig.num_examples != options["num_examples"]:
        raise ValueError(f"{fig.name}: {fig.num_examples} records, options say num_examples={options['num_examples']}")
    for name, expected in (("backend", options["backend"]), ("verify", options["verify"])):
        if set(fig.values[name]) != {expected}:
            raise ValueError(f"{fig.name}: {name} values {sorted(fig.values[name])}, options say {expected!r}")
    if set(fig.values["warp_version"]) != {manifest.warp_version}:
        raise ValueError(f"{fig.name}: records made by warp {sorted(fig.values['warp_version'])}, "
                         f"{FILE_NAME} says {manifest.warp_version}")
