"""A release's manifest, ``DIR/release.json``: one reader, one writer, one verifier.

The manifest names every shard of every config (path, rows, bytes, sha256), the options each
config was generated with, its rejections, and the versions of the package, the dataset content
and Warp. ``read`` parses and checks it into a :class:`Manifest`; ``write`` writes one atomically;
``verify`` checks the shards on disk against it. Everything that reads a release (export, card,
push, stats, show) goes through here, so a manifest means the same thing to all of them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

FILE_NAME = "release.json"
FORMAT = 1
PACKAGE = "warp-ir-pairs"

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_SPLIT = re.compile(r"^\w+$")   # `datasets` refuses other split names in YAML data_files
# atomic_write's temp files are ".{name}.XXXX.tmp" next to their target; a kill leaves them.
TEMP_SUFFIX = ".tmp"
WRITE_PROBE = ".write-probe-"
_TEMP_NAME = re.compile(r"^\..+\.[a-z0-9_]{8}" + re.escape(TEMP_SUFFIX) + "$")
_VERSIONS = ("package", "package_version", "dataset_version", "warp_version")


class ManifestError(ValueError):
    """A release folder whose manifest is missing, unreadable or inconsistent; the message is one line."""


@dataclass(frozen=True)
class Shard:
    path: str
    num_examples: int
    num_bytes: int
    sha256: str

    def to_dict(self) -> dict:
        return {"path": self.path, "num_examples": self.num_examples, "num_bytes": self.num_bytes,
                "sha256": self.sha256}


@dataclass(frozen=True)
class ConfigEntry:
    """One config of a release: its options, its shards per split (in split order) and its rejections."""

    name: str
    options: dict
    splits: dict[str, tuple[Shard, ...]]
    rejected: dict[str, int]

    def glob(self, split: str) -> str:
        """The ``data_files`` pattern of one split (relative to the release root)."""
        return f"{self.name}/{split}-*"

    def split_counts(self) -> dict[str, int]:
        return {split: sum(s.num_examples for s in shards) for split, shards in self.splits.items()}

    @property
    def num_examples(self) -> int:
        return sum(self.split_counts().values())

    def to_dict(self) -> dict:
        splits = {split: {"num_examples": sum(s.num_examples for s in shards), "shards": [s.to_dict() for s in shards]}
                  for split, shards in self.splits.items()}
        return {"options": dict(self.options), "splits": splits, "rejected": dict(self.rejected)}


@dataclass(frozen=True)
class Manifest:
    package: str
    package_version: str
    dataset_version: str
    warp_version: str
    configs: dict[str, ConfigEntry]

    def config(self, name: str | None, where: object) -> ConfigEntry:
        """The entry of config ``name`` (None: the first); ValueError naming the configs the release has."""
        name = name or next(iter(self.configs))
        if name not in self.configs:
            raise ValueError(f"{where} has no config {name!r}; it has: {', '.join(self.configs)}")
        return self.configs[name]

    def shard_count(self) -> int:
        return sum(len(shards) for entry in self.configs.values() for shards in entry.splits.values())

    def to_dict(self) -> dict:
        return {"format": FORMAT, "package": self.package, "package_version": self.package_version,
                "dataset_version": self.dataset_version, "warp_version": self.warp_version,
                "configs": {name: entry.to_dict() for name, entry in self.configs.items()}}


def exists(root: str | Path) -> bool:
    return (Path(root) / FILE_NAME).is_file()


def read(root: str | Path) -> Manifest:
    """Parse and check ``root/release.json``; raise ManifestError naming the first problem."""
    path = Path(root) / FILE_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"{path} does not exist: not a release folder") from None
    except (OSError, ValueError) as e:
        raise ManifestError(f"{path} is not a readable manifest: {e}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("configs"), dict):
        found = data.get("format") if isinstance(data, dict) else None
        raise ManifestError(f"{path} is not a warp-ir-pairs manifest (format {found!r}, expected {FORMAT})")
    for key in _VERSIONS:
        if not isinstance(data.get(key), str) or not data[key].strip():
            hint = " (a release of warp-ir-pairs before 0.1.0's golden digests?)" if key == "dataset_version" else ""
            raise ManifestError(f"{path} has no {key} (a non-empty string){hint}")
    try:
        configs = {name: _config_entry(name, spec) for name, spec in data["configs"].items()}
    except (KeyError, TypeError, ValueError) as e:
        if isinstance(e, ManifestError):
            raise ManifestError(f"{path}: {e}") from None
        raise ManifestError(f"{path} is not a readable manifest: {type(e).__name__}: {e}") from None
    if not configs:
        raise ManifestError(f"{path}: no configs")
    return Manifest(data["package"], data["package_version"], data["dataset_version"], data["warp_version"], configs)


def _config_entry(name: str, spec: dict) -> ConfigEntry:
    if not _NAME.match(name):
        raise ManifestError(f"config name {name!r} is not a safe file/glob name")
    splits = {}
    for split, split_spec in spec["splits"].items():
        if not _SPLIT.match(split):
            raise ManifestError(f"{name}: split name {split!r} is not allowed by `datasets`")
        shards = tuple(Shard(str(s["path"]), int(s["num_examples"]), int(s["num_bytes"]), str(s["sha256"]))
                       for s in split_spec["shards"])
        if sum(s.num_examples for s in shards) != split_spec["num_examples"]:
            raise ManifestError(f"{name}/{split}: shard counts do not add up to {split_spec['num_examples']}")
        splits[split] = shards
    rejected = {str(k): int(v) for k, v in spec.get("rejected", {}).items()}
    return ConfigEntry(name, dict(spec["options"]), splits, rejected)


def write(root: str | Path, manifest: Manifest) -> None:
    """Write ``root/release.json`` atomically (sorted keys: the same manifest gives the same bytes)."""
    write_json(Path(root) / FILE_NAME, manifest.to_dict())


def write_json(path: Path, data: dict) -> None:
    atomic_write(path, lambda p: p.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n"))


def atomic_write(path: Path, write_to: Callable[[Path], None]) -> None:
    """Write through a temp file in the same folder, then rename: no half-written file is visible."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    try:
        os.fchmod(fd, file_mode())   # mkstemp makes 0600; a release's files follow the umask like open()'s
    finally:
        os.close(fd)
    try:
        write_to(Path(tmp))
        os.replace(tmp, path)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        if e.filename is None:   # name the file a full disk (or anything else) stopped
            raise OSError(e.errno, e.strerror or str(e), str(path)) from None
        raise
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def file_mode() -> int:
    """``0o666 & ~umask``, the mode ``open()`` gives a new file, read without changing the umask."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)   # no /proc: read by setting and restoring
    os.umask(mask)
    return 0o666 & ~mask


def is_temp_file(name: str) -> bool:
    """A file ``atomic_write`` (``.{name}.XXXXXXXX.tmp``, mkstemp's 8 characters) or the write probe leaves
    behind when killed mid-write."""
    return bool(_TEMP_NAME.match(name)) or name.startswith(WRITE_PROBE)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def shard_file(root: Path, entry: ConfigEntry, split: str, shard: Shard) -> Path:
    """The shard's file, checked to be inside the folder and matched by its split's glob."""
    rel = Path(shard.path)
    if rel.is_absolute() or ".." in rel.parts or rel.parent.as_posix() != entry.name \
            or not rel.name.startswith(f"{split}-") or rel.suffix != ".parquet":
        raise ManifestError(f"{FILE_NAME}: shard path {shard.path!r} is not {entry.glob(split)}.parquet")
    return root / rel


def verify(root: str | Path, manifest: Manifest | None = None) -> list[str]:
    """Check every shard the manifest names against the files; return the problems (empty: it verifies).

    Each split's glob must match exactly its listed shards (or plain loading would read other
    files), and each shard must exist with the listed size, sha256, row count and the record schema.
    """
    import pyarrow.parquet as pq

    from ..record import schema

    root = Path(root)
    manifest = manifest or read(root)
    expected = [(f.name, f.type) for f in schema.features().arrow_schema]
    problems = []
    for entry in manifest.configs.values():
        for split, shards in entry.splits.items():
            found = sorted(p.relative_to(root).as_posix() for p in root.glob(entry.glob(split)))
            listed = sorted(s.path for s in shards)
            if found != listed and all((root / p).exists() for p in listed):
                problems.append(f"{entry.glob(split)} matches {found}, but {FILE_NAME} lists {listed}")
            for shard in shards:
                try:
                    path = shard_file(root, entry, split, shard)
                except ManifestError as e:
                    problems.append(str(e))
                    continue
                if not path.exists():
                    problems.append(f"{shard.path}: missing")
                    continue
                if sha256_file(path) != shard.sha256:
                    problems.append(f"{shard.path}: sha256 differs from the manifest")
                    continue
                if path.stat().st_size != shard.num_bytes:
                    problems.append(f"{shard.path}: {path.stat().st_size} bytes, manifest says {shard.num_bytes}")
                    continue
                parquet = pq.ParquetFile(path)
                rows = parquet.metadata.num_rows
                if rows != shard.num_examples:
                    problems.append(f"{shard.path}: {rows} rows, manifest says {shard.num_examples}")
                got = parquet.schema_arrow
                if [(f.name, f.type) for f in got] != expected:
                    problems.append(f"{shard.path}: columns {got.names} do not match the record schema")
    return problems
