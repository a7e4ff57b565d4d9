"""The card's YAML front matter: what the Hub and plain `datasets` read (configs, dataset_info, facets)."""

from __future__ import annotations

from collections.abc import Sequence

import datasets
import yaml
from huggingface_hub import DatasetCard, DatasetCardData
from warp_ir_pairs_generator import options as configs
from warp_ir_pairs_generator.corpus.config_figures import ConfigFigures
from warp_ir_pairs_generator.record import schema

LICENSE = "apache-2.0"
PRETTY_NAME = "warp-ir-pairs: NVIDIA Warp kernels paired with their IR"
# Mirrors ``warp_ir_pairs.WarpIRPairs.DEFAULT_CONFIG_NAME`` (a test keeps them equal); not imported
# because importing the builder module hooks `datasets`' name resolution.
PACKAGE_DEFAULT_CONFIG = "cpu"
SIZE_CATEGORIES = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
                   (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"), (10**9, "100M<n<1B"),
                   (10**10, "1B<n<10B"), (10**11, "10B<n<100B"), (10**12, "100B<n<1T"))


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



def check_front_matter(text: str, data: DatasetCardData) -> None:
    """The written YAML must parse (safely) back to exactly the metadata, as the Hub will read it."""
    card = DatasetCard(text)
    if card.data.to_dict() != data.to_dict() or yaml.safe_load(data.to_yaml()) != data.to_dict():
        raise ValueError("the card's YAML front matter does not round-trip")

