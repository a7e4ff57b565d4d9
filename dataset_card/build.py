"""Build a release folder's dataset card: ``README.md`` (Hub YAML + sections) and ``plots/*.png``.

Usage: ``python -m warp_ir_pairs_card.build RELEASE_DIR [--repo-id OWNER/NAME]``.

Everything in the card is computed from the release: ``release.json`` (options, shards,
rejections) and the Parquet shards themselves, streamed batch by batch. Shards are checked
against the manifest (size, sha256, row count, schema) before anything is written, so a card
never describes files it was not built from. The card never contains the release folder's
location or anything that looks like a local absolute path or a token (``_assert_clean``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import string
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml
from huggingface_hub import DatasetCard, DatasetCardData
from warp_ir_pairs_generator import options as configs
from warp_ir_pairs_generator import synth, verify
from warp_ir_pairs_generator.corpus.stats import _percentiles  # the `stats` command's definition, so figures agree
from warp_ir_pairs_generator.record import schema
from warp_ir_pairs_generator.record.structure import SPLITS
from warp_ir_pairs_generator.synth.families.sim import SIM_FAMILIES

from . import plots

MANIFEST = "release.json"
CARD = "README.md"
PLOTS_DIR = "plots"
TEMPLATE = "template.md"
MANIFEST_FORMAT = 1
LICENSE = "apache-2.0"
PRETTY_NAME = "warp-ir-pairs: NVIDIA Warp kernels paired with their IR"
# Mirrors ``warp_ir_pairs.WarpIRPairs.DEFAULT_CONFIG_NAME`` (a test keeps them equal); not imported
# because importing the builder module hooks `datasets`' name resolution.
PACKAGE_DEFAULT_CONFIG = "cpu"
REPO_PLACEHOLDER = "<namespace>/warp-ir-pairs"
# Rows per streamed batch: bounds memory (records are a few kB to a few hundred kB each).
BATCH_ROWS = 512
# String fields holding code or run data: their lengths are reported and plotted.
TEXT_FIELDS = ("python_source", "ir_code", "ir_functions", "ir_backward", "cuda_ir_code", "cuda_ir_functions",
               "cuda_ir_backward", "ptx", "ir_llvm", "asm", "example_io")
# Fields whose values describe how a config was made; each must be what the manifest says.
VALUE_FIELDS = ("backend", "verify", "ptx_arch", "cpu_target", "warp_version")
PLOTTED_LENGTHS = ("python_source", "ir_code")
MAX_REJECTION_ROWS = 25
IR_LANGUAGE = {"cpu": "C++", "cuda": "CUDA C++", "paired": "C++ and CUDA C++"}
SIZE_CATEGORIES = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
                   (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"), (10**9, "100M<n<1B"),
                   (10**10, "1B<n<10B"), (10**11, "10B<n<100B"), (10**12, "100B<n<1T"))
# Each verify level's line in the card: the level declares it (verify/).
VERIFY_SENTENCES = {level.name: level.sentence for level in verify.LEVELS}
assert set(TEXT_FIELDS) | set(VALUE_FIELDS) <= set(schema.FIELD_NAMES)
assert set(VERIFY_SENTENCES) == set(configs.VERIFY_LEVELS)

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_SPLIT = re.compile(r"^\w+$")   # `datasets` refuses other split names in YAML data_files
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
# A slash-rooted path (not part of a URL, a relative path or a "C++/CUDA"-style word) or a drive path.
_ABS_PATH = re.compile(r"(?<![\w.:/~+\-])/[\w.-]+/[^\s`'\"()<>|]*|\b[A-Za-z]:\\[^\s`'\"()<>|]*")
_SECRETS = re.compile(r"\bhf_[A-Za-z0-9]{20,}|\bgh[pousr]_[A-Za-z0-9]{20,}|\bgithub_pat_\w{20,}|\bAKIA[0-9A-Z]{16}\b"
                      r"|\bBearer\s+[\w.-]{16,}|\bsk-[A-Za-z0-9]{20,}")


# ---------------------------------------------------------------------------------------------
# The manifest


@dataclass(frozen=True)
class Shard:
    path: str
    num_examples: int
    num_bytes: int
    sha256: str


@dataclass(frozen=True)
class ConfigEntry:
    name: str
    options: dict
    splits: dict[str, list[Shard]]
    rejected: dict[str, int]

    def glob(self, split: str) -> str:
        """The ``data_files`` pattern of one split (relative to the release root)."""
        return f"{self.name}/{split}-*"


@dataclass(frozen=True)
class Manifest:
    package: str
    package_version: str
    dataset_version: str
    warp_version: str
    configs: list[ConfigEntry]


def read_manifest(release_dir: Path) -> Manifest:
    """Parse and check ``release.json``; raise ValueError naming the first problem."""
    path = release_dir / MANIFEST
    if not path.is_file():
        raise ValueError(f"{MANIFEST} not found in the release folder")
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("format") != MANIFEST_FORMAT:
        raise ValueError(f"{MANIFEST}: unsupported format {data.get('format')!r} (expected {MANIFEST_FORMAT})")
    entries = []
    for name, spec in data["configs"].items():
        if not _NAME.match(name):
            raise ValueError(f"{MANIFEST}: config name {name!r} is not a safe file/glob name")
        splits = {}
        for split, split_spec in spec["splits"].items():
            if not _SPLIT.match(split):
                raise ValueError(f"{MANIFEST}: {name}: split name {split!r} is not allowed by `datasets`")
            shards = [Shard(s["path"], int(s["num_examples"]), int(s["num_bytes"]), s["sha256"])
                      for s in split_spec["shards"]]
            if sum(s.num_examples for s in shards) != split_spec["num_examples"]:
                raise ValueError(f"{MANIFEST}: {name}/{split}: shard rows do not add up to num_examples")
            splits[split] = shards
        if not splits:
            raise ValueError(f"{MANIFEST}: config {name!r} has no splits")
        rejected = {str(k): int(v) for k, v in spec.get("rejected", {}).items()}
        entries.append(ConfigEntry(name, dict(spec["options"]), splits, rejected))
    if not entries:
        raise ValueError(f"{MANIFEST}: no configs")
    if not isinstance(data.get("dataset_version"), str):
        raise ValueError(f"{MANIFEST}: no dataset_version (a release of warp-ir-pairs before 0.1.0's golden digests?)")
    return Manifest(data["package"], data["package_version"], data["dataset_version"], data["warp_version"], entries)


def _shard_file(release_dir: Path, entry: ConfigEntry, split: str, shard: Shard) -> Path:
    """The shard's file, checked to be inside the folder and matched by its split's glob."""
    rel = Path(shard.path)
    if rel.is_absolute() or ".." in rel.parts or rel.parent.as_posix() != entry.name \
            or not rel.name.startswith(f"{split}-") or rel.suffix != ".parquet":
        raise ValueError(f"{MANIFEST}: shard path {shard.path!r} is not {entry.glob(split)}.parquet")
    return release_dir / rel


def _check_globs(release_dir: Path, entry: ConfigEntry) -> None:
    """Each split's glob must match exactly its listed shards, or plain loading would read other files."""
    for split, shards in entry.splits.items():
        found = sorted(p.relative_to(release_dir).as_posix() for p in release_dir.glob(entry.glob(split)))
        listed = sorted(s.path for s in shards)
        if found != listed:
            raise ValueError(f"{entry.glob(split)} matches {found}, but {MANIFEST} lists {listed}")


def _check_file(path: Path, shard: Shard) -> None:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    size = path.stat().st_size
    if size != shard.num_bytes or digest.hexdigest() != shard.sha256:
        raise ValueError(f"{shard.path}: size/sha256 do not match {MANIFEST} (file changed after generation?)")


def _check_schema(parquet: pq.ParquetFile, shard: Shard) -> None:
    expected = schema.features().arrow_schema
    got = parquet.schema_arrow
    if [(f.name, f.type) for f in got] != [(f.name, f.type) for f in expected]:
        raise ValueError(f"{shard.path}: columns {got.names} do not match the record schema")
    if parquet.metadata.num_rows != shard.num_examples:
        raise ValueError(f"{shard.path}: {parquet.metadata.num_rows} rows, {MANIFEST} says {shard.num_examples}")


# ---------------------------------------------------------------------------------------------
# Figures computed from the data


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


def _value_counts(column: pa.Array) -> Counter:
    return Counter({item["values"]: item["counts"] for item in pc.value_counts(column).to_pylist()})


def _digest(text: str) -> bytes:
    # 8 bytes is plenty to count exact duplicates (collision odds ~n²/2^65) and keeps 1M-record sets small.
    return hashlib.blake2b(text.encode(), digest_size=8).digest()


def scan_config(release_dir: Path, entry: ConfigEntry) -> ConfigFigures:
    """Stream every shard of one config and fold it into figures (checking each shard first)."""
    _check_globs(release_dir, entry)
    splits, complexity = [], Counter()
    values: dict[str, Counter] = {f: Counter() for f in VALUE_FIELDS}
    length_parts: dict[str, list[np.ndarray]] = {f: [] for f in TEXT_FIELDS}
    structures: dict[str, set[str]] = {}
    sources: set[bytes] = set()
    irs: set[bytes] = set()
    for split, shards in entry.splits.items():
        fig = SplitFigures(split)
        seen = structures.setdefault(split, set())
        for shard in shards:
            path = _shard_file(release_dir, entry, split, shard)
            _check_file(path, shard)
            parquet = pq.ParquetFile(path)
            _check_schema(parquet, shard)
            fig.download_bytes += shard.num_bytes
            for batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=list(schema.FIELD_NAMES)):
                fig.num_examples += batch.num_rows
                fig.num_bytes += batch.nbytes
                fig.categories.update(_value_counts(batch["category"]))
                complexity.update(_value_counts(batch["complexity"]))
                for name in VALUE_FIELDS:
                    values[name].update(_value_counts(batch[name]))
                for name in TEXT_FIELDS:
                    lengths = pc.utf8_length(batch[name]).to_numpy(zero_copy_only=False)
                    length_parts[name].append(lengths[lengths > 0])
                seen.update(batch["structure_hash"].to_pylist())
                sources.update(_digest(s) for s in batch["python_source"].to_pylist())
                irs.update(_digest(s) for s in batch["ir_code"].to_pylist())
        splits.append(fig)
    n = sum(s.num_examples for s in splits)
    every = Counter(h for hashes in structures.values() for h in hashes)
    figures = ConfigFigures(
        entry=entry, splits=splits, complexity=complexity,
        lengths={f: np.concatenate(p) if p else np.array([], dtype=np.int32) for f, p in length_parts.items()},
        values=values, distinct_structures=len(every),
        structures_in_several_splits=sum(1 for k in every.values() if k > 1),
        duplicate_python_source=n - len(sources), duplicate_ir_code=n - len(irs))
    _check_consistent(figures)
    return figures


def _check_consistent(fig: ConfigFigures) -> None:
    """The data must be what the manifest says it is, or the card (and reproduce command) would lie."""
    options = fig.entry.options
    if fig.num_examples != options["num_examples"]:
        raise ValueError(f"{fig.name}: {fig.num_examples} records, options say num_examples={options['num_examples']}")
    for name, expected in (("backend", options["backend"]), ("verify", options["verify"])):
        if set(fig.values[name]) != {expected}:
            raise ValueError(f"{fig.name}: {name} values {sorted(fig.values[name])}, options say {expected!r}")


# ---------------------------------------------------------------------------------------------
# Formatting helpers


def _n(k: int) -> str:
    return f"{k:,}"


def _plural(k: int, word: str) -> str:
    return word if k == 1 else f"{word}s"


def _share(k: int, n: int) -> str:
    return f"{100 * k / n:.1f}%" if n else "0.0%"


def _bytes(k: int) -> str:
    """Decimal units, as the Hub shows sizes."""
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if k >= scale:
            return f"{k / scale:.1f} {unit}"
    return f"{k} B"


def _code(text: str) -> str:
    """An inline code span that survives any backticks inside and a table cell around it."""
    text = " ".join(str(text).split())
    fence = "`" * (max((len(m) for m in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if fence != "`" else ""
    return f"{fence}{pad}{text}{pad}{fence}".replace("|", "\\|")


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], numeric: Sequence[bool] | None = None) -> str:
    numeric = numeric or [False] * len(header)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" if r else "---" for r in numeric) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _redact(text: str) -> str:
    """Free text from the toolchains (rejection reasons) can name temp files or carry odd tokens."""
    return _SECRETS.sub("<redacted>", _ABS_PATH.sub("<path>", text))


def _assert_clean(text: str, release_dir: Path) -> None:
    """Refuse to write a card that leaks a token or a local path."""
    problems = [m.group(0) for m in _SECRETS.finditer(text)] + [m.group(0) for m in _ABS_PATH.finditer(text)]
    # Absolute forms only: a relative folder name ("out") is no leak and would match ordinary words.
    for local in {str(release_dir.resolve()), str(Path.home())}:
        if len(local) > 1 and local in text:
            problems.append(local)
    if problems:
        raise ValueError(f"the card would contain a secret or a local path: {problems[:3]}")


# ---------------------------------------------------------------------------------------------
# YAML front matter


def default_config(names: Sequence[str]) -> str:
    """The package default (``cpu-small``, or its alias ``cpu``) when present, else the first config."""
    wanted = configs.parse_config_name(PACKAGE_DEFAULT_CONFIG)
    full = "-".join(wanted)
    if full in names:
        return full
    for name in names:
        try:
            if configs.parse_config_name(name) == wanted:
                return name
        except ValueError:   # a name the package does not define is simply not the default
            continue
    return names[0]


def _size_category(n: int) -> str:
    return next((label for limit, label in SIZE_CATEGORIES if n < limit), "n>1T")


def _dataset_info(fig: ConfigFigures) -> dict:
    splits = datasets.SplitDict()
    for s in fig.splits:
        splits.add(datasets.SplitInfo(name=s.name, num_bytes=s.num_bytes, num_examples=s.num_examples))
    info = datasets.DatasetInfo(config_name=fig.name, features=schema.features(), splits=splits,
                                download_size=fig.download_size, dataset_size=fig.dataset_size)
    out = info._to_yaml_dict()
    return {"config_name": out.pop("config_name"), **out}   # config_name first, as the Hub writes it


def _tags(figures: Sequence[ConfigFigures]) -> list[str]:
    present = {name for fig in figures for name, v in fig.lengths.items() if v.size}
    backends = {fig.backend for fig in figures}
    tags = ["code", "compiler", "nvidia-warp", "synthetic", "python", "cpp"]
    if backends & {"cuda", "paired"}:
        tags += ["cuda", "gpu"]
    if "ptx" in present:
        tags.append("ptx")
    if "ir_llvm" in present:
        tags.append("llvm-ir")
    if "asm" in present:
        tags.append("assembly")
    return tags


def card_data(figures: Sequence[ConfigFigures], default: str) -> DatasetCardData:
    """The Hub metadata: configs (plain-`datasets` loading), dataset_info and the search facets."""
    configs_yaml = []
    for fig in figures:
        item: dict = {"config_name": fig.name,
                      "data_files": [{"split": s.name, "path": fig.entry.glob(s.name)} for s in fig.splits]}
        if fig.name == default:
            item["default"] = True
        configs_yaml.append(item)
    return DatasetCardData(
        license=LICENSE,
        language=["code"],   # the Hub's special value for datasets whose content is source code
        pretty_name=PRETTY_NAME,
        size_categories=[_size_category(sum(f.num_examples for f in figures))],
        task_categories=["text-generation"],
        annotations_creators=["machine-generated"],
        language_creators=["machine-generated"],
        source_datasets=["original"],
        tags=_tags(figures),
        configs=configs_yaml,
        dataset_info=[_dataset_info(fig) for fig in figures],
    )


# ---------------------------------------------------------------------------------------------
# Sections


def _family_kind(name: str) -> str:
    if name == "composed":
        return "composed"
    return "realistic" if name in SIM_FAMILIES else "seed"


def _families(fig: ConfigFigures) -> list[str]:
    """The backend's families in the synthesizer's order, then any other category found in the data."""
    known = synth.categories(fig.backend)
    return known + sorted(set(fig.categories) - set(known))


def _family_table(fig: ConfigFigures) -> str:
    rows = []
    for name in _families(fig):
        counts = [s.categories.get(name, 0) for s in fig.splits]
        rows.append([_code(name), _family_kind(name), *map(_n, counts), _n(sum(counts))])
    totals = [_n(s.num_examples) for s in fig.splits]
    rows.append(["**total**", "", *totals, _n(fig.num_examples)])
    header = ["family", "kind", *(s.name for s in fig.splits), "total"]
    return _table(header, rows, [False, False, *[True] * (len(fig.splits) + 1)])


def _complexity_table(fig: ConfigFigures) -> str:
    n = fig.num_examples
    rows = [[str(level), _n(fig.complexity.get(level, 0)), _share(fig.complexity.get(level, 0), n)]
            for level in configs.COMPLEXITY_LEVELS]
    return _table(["complexity", "records", "share"], rows, [True, True, True])


def _length_table(fig: ConfigFigures) -> str:
    rows = []
    for name in TEXT_FIELDS:
        values = fig.lengths[name]
        if not values.size:
            continue
        p = _percentiles(sorted(values.tolist()))
        rows.append([_code(name), _n(values.size), *(_n(p[k]) for k in ("min", "median", "p99", "max"))])
    return _table(["field", "records with it", "min", "median", "p99", "max"], rows, [False, *[True] * 5])


def _rejection_section(fig: ConfigFigures) -> str:
    rejected = fig.entry.rejected
    total = sum(rejected.values())
    if not total:
        return "No kernel was rejected: every first draw was accepted."
    ordered = sorted(rejected.items(), key=lambda kv: (-kv[1], kv[0]))
    rows = []
    for key, count in ordered[:MAX_REJECTION_ROWS]:
        category, _, reason = key.partition(": ")
        rows.append([_code(category), _code(_redact(reason)), _n(count)])
    table = _table(["family", "reason", "count"], rows, [False, False, True])
    text = (f"{_n(total)} kernels were rejected and replaced by another draw for the same index "
            f"({_n(len(rejected))} distinct {_plural(len(rejected), 'reason')}):\n\n{table}")
    rest = ordered[MAX_REJECTION_ROWS:]
    if rest:
        text += (f"\n\n…and {_n(len(rest))} more reasons ({_n(sum(k for _, k in rest))} rejections); "
                 f"`release.json` lists them all.")
    return text


def _option_text(options: dict) -> str:
    complexity = options.get("complexity")
    parts = [f"seed {options['seed']}", f"num_examples {_n(options['num_examples'])}",
             f"complexity {complexity if complexity is not None else 'mixed (drawn per record)'}",
             f"backward {'on' if options.get('backward', True) else 'off'}",
             f"verify `{options['verify']}`"]
    if options["backend"] != "cpu":   # the PTX arch has no effect on cpu records
        parts.append(f"ptx_arch {options.get('ptx_arch')}")
    return ", ".join(parts)


def _counted(counter: Counter, fmt: Callable[[object], str], n: int) -> str:
    return ", ".join(f"{fmt(v)} ({_n(k)} of {_n(n)} records)" for v, k in sorted(counter.items()))


def _config_section(fig: ConfigFigures, category_plot: plots.Plot) -> str:
    n = fig.num_examples
    splits = ", ".join(f"{s.name} {_n(s.num_examples)}" for s in fig.splits)
    props = [
        ["backend", f"`{fig.backend}` ({IR_LANGUAGE.get(fig.backend, fig.backend)} IR)"],
        ["records", f"{_n(n)} ({splits})"],
        ["options", _option_text(fig.entry.options)],
        ["verification", _counted(fig.values["verify"], lambda v: f"`{v}`", n)],
    ]
    ptx = Counter({v: k for v, k in fig.values["ptx_arch"].items() if v})
    if ptx:
        props.append(["PTX arch", _counted(ptx, lambda v: f"`sm_{v}`", n)])
    targets = Counter({v: k for v, k in fig.values["cpu_target"].items() if v})
    if targets:
        props.append(["CPU target", _counted(targets, lambda v: f"`{v}`", n)])
    props += [
        ["Warp", _counted(fig.values["warp_version"], lambda v: f"`warp-lang` {v}", n)],
        ["distinct structures", f"{_n(fig.distinct_structures)} of {_n(n)} records "
                                f"({_n(fig.structures_in_several_splits)} in more than one split)"],
        ["exact duplicates", f"`python_source` {_n(fig.duplicate_python_source)}, "
                             f"`ir_code` {_n(fig.duplicate_ir_code)}"],
        ["rejected and replaced", _n(sum(fig.entry.rejected.values()))],
        ["size", f"{_bytes(fig.download_size)} Parquet, {_bytes(fig.dataset_size)} in memory (Arrow)"],
    ]
    return "\n\n".join([
        f"### `{fig.name}`",
        _table(["property", "value"], props),
        "#### Families",
        _family_table(fig),
        f"![{category_plot.alt}]({PLOTS_DIR}/{category_plot.filename})",
        "#### Complexity",
        _complexity_table(fig),
        "#### Lengths (characters)",
        _length_table(fig),
        "#### Rejections",
        _rejection_section(fig),
    ])


def _configs_table(figures: Sequence[ConfigFigures], default: str) -> str:
    split_names = [s for s, _ in SPLITS]
    split_names += sorted({s.name for f in figures for s in f.splits} - set(split_names))
    rows = []
    for fig in figures:
        by_split = {s.name: s.num_examples for s in fig.splits}
        rows.append([f"`{fig.name}`" + (" (default)" if fig.name == default else ""), f"`{fig.backend}`",
                     f"`{fig.entry.options['verify']}`", *(_n(by_split[s]) if s in by_split else "–"
                                                           for s in split_names),
                     _n(fig.num_examples), _bytes(fig.download_size)])
    header = ["config", "backend", "verify", *split_names, "records", "download"]
    return _table(header, rows, [False, False, False, *[True] * (len(split_names) + 2)])


def _reproduce(manifest: Manifest) -> str:
    lines = []
    for entry in manifest.configs:
        o = entry.options
        cmd = (f"warp-ir-pairs generate {entry.name} --out DIR --seed {o['seed']} "
               f"--num-examples {o['num_examples']} --verify {o['verify']}")
        # Options left at their defaults are not repeated; the rest are spelled out.
        if o.get("complexity") is not None:
            cmd += f" --complexity {o['complexity']}"
        if o.get("ptx_arch", configs.DEFAULT_PTX_ARCH) != configs.DEFAULT_PTX_ARCH:
            cmd += f" --ptx-arch {o['ptx_arch']}"
        if not o.get("backward", True):
            cmd += " --no-backward"
        lines.append(cmd)
    return "\n".join(lines)


def _family_summary(figures: Sequence[ConfigFigures]) -> str:
    backends = list(dict.fromkeys(f.backend for f in figures))
    seed = ", ".join(f"{sum(_family_kind(n) == 'seed' for n in synth.categories(b))} for `{b}`" for b in backends)
    sim = sorted({n for b in backends for n in synth.categories(b) if _family_kind(n) == "realistic"})
    total = sum(f.num_examples for f in figures)
    composed = sum(f.categories.get("composed", 0) for f in figures)
    return (f"seed families that each fix one kind of kernel ({seed}), {len(sim)} realistic simulation families "
            f"modelled on what Warp is used for, and `composed`, a typed random-program generator over Warp's "
            f"language ({_share(composed, total)} of the records here)")


def _split_weights() -> str:
    total = sum(w for _, w in SPLITS)
    return ", ".join(f"{name} {_share(w, total)}" for name, w in SPLITS) + " of structures"


def _summary(figures: Sequence[ConfigFigures]) -> str:
    present = {name for fig in figures for name, v in fig.lengths.items() if v.size}
    extras = []
    if "ptx" in present:
        extras.append("NVRTC PTX")
    if "ir_llvm" in present:
        extras.append("optimized LLVM IR and x86-64 assembly")
    if "example_io" in present:
        extras.append("the inputs and outputs of a CPU run")
    extra = f", plus {', '.join(extras)} where verified" if extras else ""
    total = sum(f.num_examples for f in figures)
    names = ", ".join(f"`{f.name}`" for f in figures)
    return (f"{_n(total)} records in {len(figures)} config(s) ({names}). Each record pairs a synthesized "
            f"[NVIDIA Warp](https://github.com/NVIDIA/warp) kernel, written in Python, with the IR that Warp's "
            f"own code generator emits for it: C++ for the CPU, CUDA C++ for the GPU{extra}. Every record is "
            f"real Warp output for its own source and is reproducible from (config, seed, index).")


def _toolchain_clause(figures: Sequence[ConfigFigures]) -> str:
    present = {name for fig in figures for name, v in fig.lengths.items() if v.size}
    parts = []
    if "ptx" in present:
        parts.append("`ptx` is compiler output of the NVRTC bundled with Warp")
    if present & {"ir_llvm", "asm"}:
        parts.append("`ir_llvm` and `asm` are compiler output of the clang/LLVM bundled with Warp")
    return f" ({'; '.join(parts)})" if parts else ""


def _limits(figures: Sequence[ConfigFigures], manifest: Manifest) -> str:
    present = {name for fig in figures for name, v in fig.lengths.items() if v.size}
    items = [
        "The kernels are synthetic: they follow the synthesizer's families and weights, not the distribution of "
        "Warp code that people write, so models trained on them may not transfer to real kernels as they are.",
        f"The IR is the text `warp-lang` {manifest.warp_version} emits. Other Warp versions can emit different "
        "text for the same kernel; this release does not describe them.",
        "`ir_code` is one function cut from the module Warp generates: it uses Warp's native headers and "
        "module-level definitions that the records do not include, so it does not compile on its own.",
        "Splits keep kernels of the same structure together, but different structures can still be "
        "near-identical (two draws of one family, or a family kernel and a `composed` one), so near-duplicates "
        "can occur within and across splits and configs (see *distinct structures* under each config).",
    ]
    codegen = [f"`{f.name}`" for f in figures if f.entry.options["verify"] == "codegen"]
    if codegen:
        items.append(f"Configs at `codegen` ({', '.join(codegen)}) were not compiled or run: their IR is exactly "
                     "what Warp emits, but nothing checked that it compiles.")
    targets = sorted({t for f in figures for t in f.values["cpu_target"] if t})
    if targets:
        items.append(f"CPU object code (`ir_llvm`, `asm`) is for one fixed target ({', '.join(targets)}), never the "
                     "generating machine's; other CPU targets give different code.")
    archs = sorted({a for f in figures for a in f.values["ptx_arch"] if a})
    if archs:
        items.append(f"PTX is for {', '.join(f'`sm_{a}`' for a in archs)} only; other architectures give "
                     "different PTX.")
    if "example_io" in present:
        items.append("`example_io` comes from one CPU launch on small deterministic inputs (for cuda and paired "
                     "records too); it illustrates behaviour and is not a test suite.")
    rejected = sum(sum(f.entry.rejected.values()) for f in figures)
    if rejected:
        items.append(f"Rejected kernels were replaced ({_n(rejected)} in this release), so the data is "
                     "conditioned on acceptance: shapes that Warp or verification rejects are under-represented.")
    for fig in figures:
        missing = [s for s, _ in SPLITS if s not in {x.name for x in fig.splits}]
        if missing:
            items.append(f"`{fig.name}` has no {' or '.join(f'`{s}`' for s in missing)} split: with "
                         f"{_n(fig.num_examples)} records no kernel structure fell there, and an empty split is "
                         "left out rather than declared.")
    return "\n".join(f"- {item}" for item in items)


def _verify_levels(figures: Sequence[ConfigFigures]) -> str:
    present = {v for f in figures for v in f.values["verify"]}
    return "\n".join(f"   - {VERIFY_SENTENCES[level]}" for level in configs.VERIFY_LEVELS if level in present)


def _versions(manifest: Manifest) -> str:
    return _table(["component", "version"], [["dataset content", manifest.dataset_version],
                                             [f"`{manifest.package}`", manifest.package_version],
                                             ["`warp-lang`", manifest.warp_version]])


# ---------------------------------------------------------------------------------------------
# Plots


def plan_plots(figures: Sequence[ConfigFigures]) -> dict[str, plots.Plot]:
    """The plots by role (``categories:<config>``, ``lengths``, ``complexity``), before any is drawn."""
    out = {f"categories:{fig.name}": plots.Plot(f"categories-{fig.name}.png", f"{fig.name}: records per family")
           for fig in figures}
    out["lengths"] = plots.Plot("lengths.png", "Length in characters of python_source and ir_code: share of each "
                                               "config's records (log scale)")
    out["complexity"] = plots.Plot("complexity.png", "Share of records per complexity level, per config")
    return out


def write_plots(figures: Sequence[ConfigFigures], planned: dict[str, plots.Plot], out_dir: Path) -> None:
    """Draw every planned plot into ``out_dir`` and remove PNGs that are no longer part of the card."""
    for fig in figures:
        plots.category_counts(fig.name, {name: fig.categories.get(name, 0) for name in _families(fig)},
                              out_dir / planned[f"categories:{fig.name}"].filename)
    plots.length_histograms({f.name: f.lengths for f in figures}, PLOTTED_LENGTHS,
                            out_dir / planned["lengths"].filename)
    plots.complexity({f.name: f.complexity for f in figures}, configs.COMPLEXITY_LEVELS,
                     out_dir / planned["complexity"].filename)
    # Plots of configs no longer in the release would otherwise linger next to the card.
    for stale in sorted(out_dir.glob("*.png")):
        if stale.name not in {q.filename for q in planned.values()}:
            stale.unlink()


# ---------------------------------------------------------------------------------------------
# The card


def render(manifest: Manifest, figures: Sequence[ConfigFigures], written: dict[str, plots.Plot],
           repo_id: str | None, release_dir: Path) -> str:
    """The full README.md text: YAML front matter, then the template filled from the figures."""
    names = [f.name for f in figures]
    default = default_config(names)
    data = card_data(figures, default)
    example = figures[0]
    body = string.Template(resources.files(__package__).joinpath(TEMPLATE).read_text(encoding="utf-8")).substitute(
        summary=_summary(figures),
        family_summary=_family_summary(figures),
        warp_version=manifest.warp_version,
        package_version=manifest.package_version,
        dataset_version=manifest.dataset_version,
        verify_levels=_verify_levels(figures),
        split_weights=_split_weights(),
        repo_id=repo_id or REPO_PLACEHOLDER,
        repo_note=("" if repo_id else f"\n`{REPO_PLACEHOLDER}` stands for this dataset's Hub id; a local copy of "
                                      "this folder loads the same way from its path.\n"),
        default_config=default,
        example_config=example.name,
        example_split=example.splits[0].name,
        configs_table=_configs_table(figures, default),
        schema_table=schema.markdown_table(),
        config_sections="\n\n".join(_config_section(f, written[f"categories:{f.name}"]) for f in figures),
        plots="\n\n".join(f"![{written[k].alt}]({PLOTS_DIR}/{written[k].filename})" for k in ("lengths", "complexity")),
        reproduce_commands=_reproduce(manifest),
        toolchain_clause=_toolchain_clause(figures),
        limits=_limits(figures, manifest),
        versions=_versions(manifest),
    )
    text = f"---\n{data.to_yaml()}\n---\n\n{body.rstrip()}\n"
    _check_front_matter(text, data)
    _assert_clean(text, release_dir)
    return text


def _check_front_matter(text: str, data: DatasetCardData) -> None:
    """The written YAML must parse (safely) back to exactly the metadata, as the Hub will read it."""
    card = DatasetCard(text)
    if card.data.to_dict() != data.to_dict() or yaml.safe_load(data.to_yaml()) != data.to_dict():
        raise ValueError("the card's YAML front matter does not round-trip")


def build_card(release_dir: str | Path, repo_id: str | None = None) -> Path:
    """Write ``README.md`` and ``plots/*.png`` into ``release_dir``; return the README's path.

    ``repo_id`` (``owner/name``) is the Hub id the loading examples use; without it they show a
    placeholder. Raises ValueError when the release is inconsistent (manifest vs files vs data).
    """
    release_dir = Path(release_dir)
    if repo_id is not None and not _REPO_ID.match(repo_id):
        raise ValueError(f"repo_id must look like owner/name, got {repo_id!r}")
    manifest = read_manifest(release_dir)
    for entry in manifest.configs:
        if entry.options.get("backend") not in configs.BACKENDS:
            raise ValueError(f"{entry.name}: unknown backend {entry.options.get('backend')!r}")
    figures = [scan_config(release_dir, entry) for entry in manifest.configs]
    for fig in figures:
        if set(fig.values["warp_version"]) != {manifest.warp_version}:
            raise ValueError(f"{fig.name}: records made by warp {sorted(fig.values['warp_version'])}, "
                             f"{MANIFEST} says {manifest.warp_version}")
    planned = plan_plots(figures)
    text = render(manifest, figures, planned, repo_id, release_dir)   # checked before anything is written
    write_plots(figures, planned, release_dir / PLOTS_DIR)
    path = release_dir / CARD
    path.write_text(text, encoding="utf-8", newline="\n")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m warp_ir_pairs_card.build",
                                     description="Write README.md and plots/*.png of a release folder.")
    parser.add_argument("release_dir")
    parser.add_argument("--repo-id", default=None, help="Hub id (owner/name) used in the loading examples")
    args = parser.parse_args(argv)
    try:
        print(build_card(args.release_dir, args.repo_id))
    except (ValueError, OSError) as e:
        print(f"build_card: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
