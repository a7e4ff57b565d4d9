"""The dataset card: Hub YAML that plain `datasets` can load, every number recomputed from the data.

A small release folder (the layout ``warp-ir-pairs generate`` writes) is built once per module:
``cpu-tiny`` and ``cuda-tiny`` at ``codegen`` (40 records each; ``cuda-tiny`` then has only a
``train`` split) and ``paired-tiny`` at ``compile`` (4 records; PTX for ``sm_86``, CPU object code).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import datasets
import pyarrow.parquet as pq
import pytest
import yaml
from datasets.info import DatasetInfosDict
from datasets.utils.metadata import MetadataConfigs
from warp_ir_pairs_card import build, front_matter, text
from warp_ir_pairs_generator import driver
from warp_ir_pairs_generator.corpus import stats
from warp_ir_pairs_generator.corpus.config_figures import TEXT_FIELDS
from warp_ir_pairs_generator.options import GenerationOptions
from warp_ir_pairs_generator.record import schema

# config -> overrides; the release.json order is this order.
RELEASE = {
    "cpu-tiny": {"num_examples": 40},
    "cuda-tiny": {"num_examples": 40},
    "paired-tiny": {"num_examples": 4, "verify": "compile", "ptx_arch": 86},
}
SPLITS = ("train", "validation", "test")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_release(root: Path, spec: dict[str, dict] = RELEASE) -> dict[str, dict[str, list[dict]]]:
    """Write a release folder as the generate command does; return config -> split -> records."""
    manifest: dict = {"format": 1, "package": "warp-ir-pairs", "package_version": "0.1.0",
                      "dataset_version": "0.1.0", "warp_version": "1.19.0", "configs": {}}
    written: dict[str, dict[str, list[dict]]] = {}
    for name, overrides in spec.items():
        options = GenerationOptions.from_config(name, **overrides)
        report = driver.Report()
        splits, written[name] = {}, {}
        for split in SPLITS:
            records = list(driver.iter_shard(options, 0, options.num_examples, split, report))
            if not records:   # empty splits are left out, as the builder does
                continue
            rel = f"{name}/{split}-00000-of-00001.parquet"
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            datasets.Dataset.from_list(records, features=schema.features()).to_parquet(str(path))
            splits[split] = {"num_examples": len(records), "shards": [
                {"path": rel, "num_examples": len(records), "num_bytes": path.stat().st_size,
                 "sha256": _sha256(path)}]}
            written[name][split] = records
        manifest["configs"][name] = {
            "options": options.content_options() | {"num_examples": options.num_examples},
            "splits": splits,
            "rejected": {f"{c}: {r}": k for (c, r), k in report.rejected.most_common()},
        }
    # A rejection reason with a temp path, as toolchain diagnostics have: the card must not show it.
    manifest["configs"]["cpu-tiny"]["rejected"]["loop: clang: /tmp/wp_abc/kernel.cpp:3: error: x | y"] = 2
    (root / "release.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return written


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> tuple[Path, dict[str, dict[str, list[dict]]]]:
    root = tmp_path_factory.mktemp("release")
    records = make_release(root)
    build.build_card(root)
    return root, records


def _front_matter(text: str) -> tuple[dict, str]:
    assert text.startswith("---\n")
    head, _, body = text[4:].partition("\n---\n")
    return yaml.safe_load(head), body


def _section(body: str, config: str) -> str:
    """The per-config section of the card body."""
    start = body.index(f"### `{config}`")
    end = body.find("\n### ", start + 1)
    end = body.index("\n## ", start) if end < 0 else min(end, body.index("\n## ", start))
    return body[start:end]


def _table_after(text: str, heading: str) -> list[list[str]]:
    """Rows (cells, stripped) of the first markdown table after ``heading``."""
    lines = text[text.index(heading):].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]])
    return rows


def _num(cell: str) -> int:
    return int(cell.replace(",", ""))


def test_yaml_configs_and_default(release):
    root, records = release
    meta, _ = _front_matter((root / "README.md").read_text(encoding="utf-8"))
    assert [c["config_name"] for c in meta["configs"]] == list(RELEASE)
    for config in meta["configs"]:
        assert config["data_files"] == [{"split": s, "path": f"{config['config_name']}/{s}-*"}
                                        for s in records[config["config_name"]]]
    assert [c["config_name"] for c in meta["configs"] if c.get("default")] == ["cpu-tiny"]
    assert meta["license"] == "apache-2.0" and meta["task_categories"] == ["text-generation"]
    assert meta["size_categories"] == ["n<1K"]
    assert {"code", "nvidia-warp", "cuda", "ptx", "llvm-ir"} <= set(meta["tags"])
    # The Hub's own parsers accept it.
    metadata_configs = MetadataConfigs.from_dataset_card_data(meta)
    assert metadata_configs.get_default_config_name() == "cpu-tiny"


def test_default_prefers_the_package_default():
    import warp_ir_pairs

    assert front_matter.PACKAGE_DEFAULT_CONFIG == warp_ir_pairs.WarpIRPairs.DEFAULT_CONFIG_NAME
    assert front_matter.default_config(["cuda-tiny", "cpu-small", "cpu"]) == "cpu-small"
    assert front_matter.default_config(["cuda-tiny", "cpu"]) == "cpu"
    assert front_matter.default_config(["cuda-tiny", "cpu-tiny"]) == "cuda-tiny"


def test_dataset_info_matches_schema_and_files(release):
    root, records = release
    meta, _ = _front_matter((root / "README.md").read_text(encoding="utf-8"))
    infos = DatasetInfosDict.from_dataset_card_data(meta)
    assert list(infos) == list(RELEASE)
    for name, info in infos.items():
        assert info.features == schema.features()
        assert datasets.Features._from_yaml_list(info.features._to_yaml_list()) == schema.features()
        files = sorted((root / name).glob("*.parquet"))
        assert {s: info.splits[s].num_examples for s in info.splits} == {
            s: len(r) for s, r in records[name].items()}
        for split in info.splits:
            rows = sum(pq.ParquetFile(p).metadata.num_rows for p in files if p.name.startswith(f"{split}-"))
            assert info.splits[split].num_examples == rows
        assert info.download_size == sum(p.stat().st_size for p in files)
        assert info.dataset_size == sum(s.num_bytes for s in info.splits.values()) > 0


def test_per_config_numbers_match_the_data(release):
    root, records = release
    _, body = _front_matter((root / "README.md").read_text(encoding="utf-8"))
    for name, by_split in records.items():
        section = _section(body, name)
        rows = [r for s in by_split.values() for r in s]
        # Families: every count recounted from Parquet (not from the generator's records).
        table = pq.read_table(root / name, columns=["category", "complexity"])
        parquet_counts = Counter(table["category"].to_pylist())
        assert parquet_counts == Counter(r["category"] for r in rows)
        family_rows = _table_after(section, "#### Families")
        assert family_rows[-1][0] == "**total**" and _num(family_rows[-1][-1]) == len(rows)
        listed = {row[0].strip("`"): _num(row[-1]) for row in family_rows[:-1]}
        assert {k: v for k, v in listed.items() if v} == dict(parquet_counts)
        for row in family_rows[:-1]:
            per_split = [_num(c) for c in row[2:-1]]
            assert per_split == [sum(r["category"] == row[0].strip("`") for r in s) for s in by_split.values()]
        # Complexity.
        levels = Counter(table["complexity"].to_pylist())
        assert {int(r[0]): _num(r[1]) for r in _table_after(section, "#### Complexity")} == {
            k: levels.get(k, 0) for k in range(1, 6)}
        # Lengths agree with the `stats` command's figures.
        figures = stats.Stats(rows=[stats.summarize(r) for r in rows]).figures()
        lengths = {r[0].strip("`"): r for r in _table_after(section, "#### Lengths")}
        for field, key in (("python_source", "source_chars"), ("ir_code", "ir_chars")):
            assert [_num(c) for c in lengths[field][2:]] == [figures[key][k] for k in ("min", "median", "p99", "max")]
        full = pq.read_table(root / name, columns=list(TEXT_FIELDS))
        assert {f: _num(r[1]) for f, r in lengths.items()} == {
            f: n for f in TEXT_FIELDS if (n := sum(1 for v in full[f].to_pylist() if v))}
        # Properties.
        props = dict(_table_after(section, "| property"))
        assert props["records"].startswith(f"{len(rows)} (") and all(
            f"{s} {len(r)}" in props["records"] for s, r in by_split.items())
        assert props["distinct structures"].startswith(f"{figures['distinct_structures']} of {len(rows)} ")
        assert f"`python_source` {figures['duplicate_python_source']}," in props["exact duplicates"]
        assert props["verification"] == f"`{rows[0]['verify']}` ({len(rows)} of {len(rows)} records)"
        parquet_bytes = sum(p.stat().st_size for p in (root / name).glob("*.parquet"))
        assert props["size"].startswith(f"{parquet_bytes / 1000:.1f} kB Parquet")
    paired = dict(_table_after(_section(body, "paired-tiny"), "| property"))
    assert paired["PTX arch"] == "`sm_86` (4 of 4 records)"
    assert paired["CPU target"] == f"`{records['paired-tiny']['train'][0]['cpu_target']}` (4 of 4 records)"
    assert "PTX arch" not in dict(_table_after(_section(body, "cpu-tiny"), "| property"))


def test_rejections_are_listed_without_local_paths(release):
    root, _ = release
    text = (root / "README.md").read_text(encoding="utf-8")
    manifest = json.loads((root / "release.json").read_text(encoding="utf-8"))
    rejections = _table_after(_section(_front_matter(text)[1], "cpu-tiny"), "#### Rejections")
    expected = manifest["configs"]["cpu-tiny"]["rejected"]
    assert sum(_num(r[-1]) for r in rejections) == sum(expected.values())
    assert ["`loop`", r"`clang: <path> error: x \| y`", "2"] in rejections
    assert "/tmp" not in text and str(root) not in text and str(Path.home()) not in text
    assert not re.search(r"hf_[A-Za-z0-9]{20,}", text)


@pytest.mark.parametrize("leak", ["see /home/someone/data.json", "at C:\\Users\\me\\x", "hf_" + "a1B2" * 8,
                                  "token Bearer abcdefghijklmnopqrstu"])
def test_a_card_with_a_leak_is_refused(leak):
    with pytest.raises(ValueError, match="secret or a local path"):
        text._assert_clean(f"# card\n\n{leak}\n", Path("release"))
    text._assert_clean("C++/CUDA, cpu-tiny/train-*, https://github.com/NVIDIA/warp, 90/5/5", Path("release"))


def test_schema_table_sections_and_reproduce_command(release):
    root, _ = release
    _, body = _front_matter((root / "README.md").read_text(encoding="utf-8"))
    assert "\n" + schema.markdown_table() + "\n" in body
    assert "pip install warp-ir-pairs==0.1.0" in body
    assert "warp-ir-pairs generate cpu-tiny --out DIR --seed 42 --num-examples 40 --verify codegen\n" in body
    assert ("warp-ir-pairs generate paired-tiny --out DIR --seed 42 --num-examples 4 --verify compile "
            "--ptx-arch 86\n") in body
    for heading in ("## Load", "## Schema", "## Configs", "## Reproduce", "## Licence", "## Known limitations"):
        assert f"\n{heading}\n" in body
    levels = re.findall(r"^   - `(\w+)`:", body, re.M)   # one sentence per verify level present
    assert levels == ["codegen", "compile"]
    assert "$" not in body   # every template placeholder was filled


def test_plots_exist_are_png_and_referenced(release):
    root, _ = release
    text = (root / "README.md").read_text(encoding="utf-8")
    referenced = set(re.findall(r"!\[[^\]]+\]\(plots/([\w.-]+\.png)\)", text))
    on_disk = {p.name for p in (root / "plots").iterdir()}
    assert referenced == on_disk == {"lengths.png", "complexity.png", *(f"categories-{c}.png" for c in RELEASE)}
    for name in on_disk:
        data = (root / "plots" / name).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and b"matplotlib" not in data


def test_building_twice_is_byte_identical(release, tmp_path):
    root, _ = release
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    for p in [copy / "README.md", *(copy / "plots").iterdir()]:
        p.unlink()
    build.build_card(copy)
    build.build_card(copy)   # a rebuild over its own output changes nothing either
    assert (copy / "README.md").read_bytes() == (root / "README.md").read_bytes()
    for png in (root / "plots").iterdir():
        assert (copy / "plots" / png.name).read_bytes() == png.read_bytes()


def test_a_changed_shard_is_refused(release, tmp_path):
    root, _ = release
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    shard = copy / "cuda-tiny" / "train-00000-of-00001.parquet"
    shard.write_bytes(shard.read_bytes() + b"\0")
    with pytest.raises(ValueError, match="sha256"):
        build.build_card(copy)


def test_plain_datasets_loads_the_configs(release, tmp_path):
    """`load_dataset(folder, config)` without the package: the YAML `configs:` really work."""
    root, records = release
    script = textwrap.dedent("""
        import json, sys
        import datasets
        ds = datasets.load_dataset(sys.argv[1], "cuda-tiny")
        default = datasets.load_dataset(sys.argv[1], split="train")
        assert not any(m.startswith("warp_ir_pairs") for m in sys.modules), "package was imported"
        print(json.dumps({"cuda": {s: d.num_rows for s, d in ds.items()}, "default_train": default.num_rows,
                          "backend": sorted(set(ds["train"]["backend"]))}))
    """)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE"))}
    env.update(HF_HOME=str(tmp_path / "hf"), HF_DATASETS_OFFLINE="1", HF_HUB_OFFLINE="1")
    out = subprocess.run([sys.executable, "-c", script, str(root)], env=env, cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got == {"cuda": {s: len(r) for s, r in records["cuda-tiny"].items()},
                   "default_train": len(records["cpu-tiny"]["train"]), "backend": ["cuda"]}
