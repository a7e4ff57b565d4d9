"""Reading a release's records: the one shard scanner (stats, show and the card's figures use it).

Shards are streamed batch by batch in manifest order (split, then shard), so memory stays bounded
whatever the release's size (records are a few kB to a few hundred kB each).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from . import manifest as manifests
from .manifest import ConfigEntry, Manifest, Shard, shard_file

# Rows per streamed batch: bounds memory.
BATCH_ROWS = 512


@dataclass(frozen=True)
class Batch:
    """Some rows of one shard of one split."""

    split: str
    shard: Shard
    first: bool      # the first batch of its shard
    rows: pa.RecordBatch


def iter_batches(root: str | Path, entry: ConfigEntry, columns: Sequence[str] | None = None,
                 batch_rows: int = BATCH_ROWS) -> Iterator[Batch]:
    """Every row of ``entry``'s shards as Arrow batches, in manifest order (only ``columns`` when given)."""
    import pyarrow.parquet as pq

    root = Path(root)
    for split, shards in entry.splits.items():
        for shard in shards:
            parquet = pq.ParquetFile(shard_file(root, entry, split, shard))
            first = True
            for rows in parquet.iter_batches(batch_size=batch_rows, columns=list(columns) if columns else None):
                yield Batch(split, shard, first, rows)
                first = False


def iter_records(root: str | Path, entry: ConfigEntry, columns: Sequence[str] | None = None) -> Iterator[dict]:
    """Every record (a dict of ``columns``, or of every field) of one config, in manifest order."""
    for batch in iter_batches(root, entry, columns):
        yield from batch.rows.to_pylist()


def find_record(root: str | Path, config: str | None, index: int, manifest: Manifest | None = None) -> dict:
    """The record with ``index`` of ``config`` (default: the first config); ValueError when it has none."""
    import pyarrow.compute as pc

    manifest = manifest or manifests.read(root)
    entry = manifest.config(config, root)
    for batch in iter_batches(root, entry):
        hit = batch.rows.filter(pc.equal(batch.rows["index"], index))
        if hit.num_rows:
            return hit.to_pylist()[0]
    total = entry.options["num_examples"]
    raise ValueError(f"{entry.name} in {root} has no record with index {index} (indices 0..{total - 1})")
