"""Release folders: a config's records as parquet shards, a manifest, resumable and atomic.

Layout (the one ``push_to_hub`` itself writes, so the Hub and plain ``datasets`` read it)::

    DIR/release.json                                  manifest: options, counts, versions, sha256
    DIR/{config}/{split}-{u:05d}-of-{U:05d}.parquet   shard u of U

A config's indices are cut into ``U`` units of ``records_per_shard`` indices; unit ``u`` writes
one shard per split holding its records of that split, in index order. Units are the resumable
(and parallel) work: each shard is written to a temp file and renamed, then the unit's marker
``DIR/.progress/{config}/{u:05d}.json`` (file sha256s, counts, rejections) is written the same
way. A re-run skips units whose marker and shards are intact, so an interrupted ``generate``
resumes and yields the same bytes as an uninterrupted one. The manifest is written last.

Misuse cannot corrupt a folder: ``generate`` holds the folder's exclusive lock (``lock.py``), a
resume reuses units only when they were made with exactly the same options and versions
(``resume.py``, else a one-line refusal unless ``restart``), and workers die with their parent
(``pool.py``).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from .. import driver
from ..options import DATASET_VERSION, WARP_VERSION, GenerationOptions
from ..record import schema
from ..record.structure import SPLIT_NAMES, split_of
from ..toolchain import codegen
from . import lock, pool, resume
from . import manifest as manifests
from .manifest import PACKAGE, WRITE_PROBE, ConfigEntry, Manifest, Shard, atomic_write, sha256_file, write_json

PROGRESS = resume.PROGRESS
DEFAULT_RECORDS_PER_SHARD = 1024


class ExportError(RuntimeError):
    """A release folder that cannot be written or does not verify; the message is one line."""


@dataclass(frozen=True)
class Unit:
    config: str
    number: int
    count: int
    start: int
    stop: int

    def shard_path(self, split: str) -> str:
        return f"{self.config}/{split}-{self.number:05d}-of-{self.count:05d}.parquet"

    def marker_path(self) -> str:
        return f"{PROGRESS}/{self.config}/{self.number:05d}.json"


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(PACKAGE)
    except PackageNotFoundError:   # running from a checkout that is not installed
        return "0+unknown"


def plan(config: str, options: GenerationOptions, records_per_shard: int) -> list[Unit]:
    ranges = driver.shards(options.num_examples, records_per_shard) or [(0, 0)]
    return [Unit(config, u, len(ranges), a, b) for u, (a, b) in enumerate(ranges)]


def _write_parquet(path: Path, records: list[dict]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrow_schema = schema.features().arrow_schema   # carries the datasets Features as metadata
    table = pa.Table.from_pylist(records, schema=arrow_schema)
    atomic_write(path, lambda p: pq.write_table(table, p, compression="zstd", row_group_size=256))


def unit_complete(root: Path, unit: Unit, run: dict | None = None) -> dict | None:
    """The unit's marker when it (made by ``run``, when given) and every shard it names are intact, else None."""
    marker = root / unit.marker_path()
    try:
        data = json.loads(marker.read_text())
        if run is not None and data.get("run") != run:
            return None
        for shard in data["shards"].values():
            if sha256_file(root / shard["path"]) != shard["sha256"]:
                return None
        return data
    except (OSError, ValueError, KeyError):
        return None


def write_unit(root: Path, options: GenerationOptions, unit: Unit, run: dict | None = None) -> dict:
    """Generate one unit's records and write its shards and marker (recording ``run``); return the marker."""
    report = driver.Report()
    per_split: dict[str, list[dict]] = {s: [] for s in SPLIT_NAMES}
    for record in driver.iter_shard(options, unit.start, unit.stop, None, report):
        per_split[split_of(record["structure_hash"])].append(record)   # structure decides the split
    shards = {}
    for split, records in per_split.items():
        if not records:
            # datasets' parquet reader fails on a 0-row file: a unit with no record of a split
            # writes no shard for it (file numbers are unit numbers, so they may have gaps).
            continue
        path = root / unit.shard_path(split)
        _write_parquet(path, records)
        shards[split] = {"path": unit.shard_path(split), "num_examples": len(records),
                         "num_bytes": path.stat().st_size, "sha256": sha256_file(path)}
    marker = {"unit": unit.number, "start": unit.start, "stop": unit.stop, "shards": shards,
              "rejected": {f"{c}: {r}": n for (c, r), n in sorted(report.rejected.items())}, "run": run}
    write_json(root / unit.marker_path(), marker)
    return marker


def _run_unit(args: tuple[str, GenerationOptions, Unit, dict]) -> dict:
    root, options, unit, run = args
    return write_unit(Path(root), options, unit, run)


def check_writable(root: Path) -> None:
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=root, prefix=WRITE_PROBE, delete=True)
        probe.close()
    except OSError as e:
        raise ExportError(f"cannot write the release folder {str(root)!r}: {e.strerror or e}") from None


def _manifest_options(options: GenerationOptions, records_per_shard: int) -> dict:
    return {**asdict(options), "records_per_shard": records_per_shard}


def run_identity(options: GenerationOptions, records_per_shard: int) -> dict:
    """Everything a unit's bytes depend on: every option and the versions of the data, the code and Warp."""
    return resume.identity(_manifest_options(options, records_per_shard), package_version(), DATASET_VERSION,
                           WARP_VERSION)


def generate(config: str, root: str | Path, options: GenerationOptions,
             records_per_shard: int = DEFAULT_RECORDS_PER_SHARD, num_proc: int = 1,
             run_units: Callable[[list[tuple[str, GenerationOptions, Unit, dict]]], Iterable[dict]] | None = None,
             progress: bool = False, restart: bool = False) -> Manifest:
    """Write (or resume) ``config`` into the release folder ``root``; return the updated manifest.

    ``run_units`` lets another engine (e.g. Ray) decide where units run; the default runs them
    here, in ``num_proc`` processes. Units already complete are skipped either way. A folder
    holding ``config`` made with other options or versions is refused (ExportError) unless
    ``restart``, which removes that config's units and markers first. Another process writing
    the folder is refused too (``lock.FolderBusy``).
    """
    root = Path(root)
    if records_per_shard < 1:
        raise ExportError(f"records_per_shard must be >= 1, got {records_per_shard}")
    check_writable(root)
    with lock.writing(root):
        return _generate_locked(config, root, options, records_per_shard, num_proc, run_units, progress, restart)


def _generate_locked(config: str, root: Path, options: GenerationOptions, records_per_shard: int, num_proc: int,
                     run_units: Callable | None, progress: bool, restart: bool) -> Manifest:
    resume.clean_temp_files(root)   # every kill leaves one; we hold the lock, so none is being written
    existing = manifests.read(root) if manifests.exists(root) else None
    run = run_identity(options, records_per_shard)
    if restart:
        resume.restart(root, config, existing)
        existing = manifests.read(root) if manifests.exists(root) else None
    try:
        resume.check(root, config, run, existing)
    except resume.ResumeRefused as e:
        raise ExportError(str(e)) from None
    resume.record(root, config, run)
    configs = existing.configs if existing is not None else {}
    wanted = run["options"]
    units = plan(config, options, records_per_shard)
    markers: dict[int, dict] = {}
    todo = []
    for unit in units:
        done = unit_complete(root, unit, run)
        if done is not None:
            markers[unit.number] = done
        else:
            todo.append((str(root), options, unit, run))
    resume.clean_unmarked_shards(root, config, {s["path"] for m in markers.values() for s in m["shards"].values()})
    runner = run_units or (lambda jobs: _run_local(jobs, num_proc))
    bar = _progress(len(units), len(markers), config) if progress else None
    for marker in runner(todo):
        markers[marker["unit"]] = marker
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    # A split with no record at all (tiny counts) has no shard, so it is absent from the manifest.
    configs = {**configs, config: _config_entry(config, wanted, [markers[u.number] for u in units])}
    manifest = Manifest(PACKAGE, package_version(), DATASET_VERSION, WARP_VERSION, configs)
    manifests.write(root, manifest)
    return manifest


def _run_local(jobs: list, num_proc: int) -> Iterable[dict]:
    if num_proc <= 1 or len(jobs) <= 1:
        yield from map(_run_unit, jobs)
        return
    codegen.warp()   # initialise once before forking: children inherit it
    yield from pool.map_in_workers(_run_unit, jobs, num_proc)


def _progress(total: int, done: int, config: str):
    from tqdm import tqdm

    return tqdm(total=total, initial=done, unit="shard", desc=f"generate {config}")


def _config_entry(config: str, options: dict, markers: list[dict]) -> ConfigEntry:
    splits: dict[str, list[Shard]] = {}
    rejected: dict[str, int] = {}
    for marker in markers:
        for split, shard in marker["shards"].items():
            splits.setdefault(split, []).append(Shard(**shard))
        for reason, n in marker["rejected"].items():
            rejected[reason] = rejected.get(reason, 0) + n
    ordered = {s: tuple(splits[s]) for s in SPLIT_NAMES if s in splits}
    return ConfigEntry(config, options, ordered, dict(sorted(rejected.items())))
