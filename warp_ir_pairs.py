"""warp-ir-pairs: Warp kernels in Python paired with the IR Warp emits for them.

``import warp_ir_pairs`` registers the builder with ``datasets``::

    import warp_ir_pairs
    from datasets import load_dataset
    ds = load_dataset("warp_ir_pairs", "cuda-tiny")

The engine lives in ``warp_ir_pairs_generator`` (the repository's ``generator/``); this module
only adapts it to ``datasets``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import datasets
from datasets.builder import Key
from warp_ir_pairs_generator import driver, evaluate, registration
from warp_ir_pairs_generator import options as configs
from warp_ir_pairs_generator.record import schema, split_memo
from warp_ir_pairs_generator.toolchain import codegen

__all__ = ["DATASET_NAME", "DATASET_VERSION", "WarpIRPairs", "WarpIRPairsConfig", "evaluate"]

__version__ = "0.1.0"
DATASET_NAME = "warp_ir_pairs"
WARP_VERSION = configs.WARP_VERSION
DATASET_VERSION = configs.DATASET_VERSION

logger = logging.getLogger("warp_ir_pairs")

_DESCRIPTION = ("Synthesized NVIDIA Warp kernels (Python) paired with the C++/CUDA IR that Warp's own "
                "code generator emits for them. Every record is reproducible from (config, seed, index).")


@dataclass
class WarpIRPairsConfig(datasets.BuilderConfig):
    """A ``{backend}-{tier}`` config; every override of ``options.OVERRIDES`` is a field (a test keeps them equal)."""

    backend: str = "cpu"
    tier: str = configs.DEFAULT_TIER
    num_examples: int | None = None
    seed: int = configs.DEFAULT_SEED
    complexity: int | None = None
    backward: bool = True
    verify: str = "codegen"
    ptx_arch: int = configs.DEFAULT_PTX_ARCH
    opt_variants: bool = False

    def generation_options(self) -> configs.GenerationOptions:
        """Validated options (raises one ValueError naming a bad value and the valid choices)."""
        overrides = {name: getattr(self, name) for name in configs.OVERRIDES}
        return configs.GenerationOptions.for_tier(self.backend, self.tier, **overrides)


def _builder_configs() -> list[WarpIRPairsConfig]:
    out = []
    for name in configs.config_names():
        backend, tier = configs.parse_config_name(name)
        out.append(WarpIRPairsConfig(name=name, backend=backend, tier=tier, version=datasets.Version(DATASET_VERSION),
                                     description=f"{backend} IR, {tier} tier ({configs.TIERS[tier]:,} records)"))
    return out


class WarpIRPairs(datasets.GeneratorBasedBuilder):
    """Builds Python → Warp IR pairs by running Warp's code generator on synthesized kernels."""

    BUILDER_CONFIG_CLASS = WarpIRPairsConfig
    BUILDER_CONFIGS = _builder_configs()
    DEFAULT_CONFIG_NAME = "cpu"
    VERSION = datasets.Version(DATASET_VERSION)

    def __init__(self, *args, **kwargs):
        config_name = kwargs.get("config_name")
        if config_name is not None:
            configs.parse_config_name(config_name)   # our message, with every valid name
        for key in set(kwargs) - _BUILDER_KWARGS:
            configs.check_override(key, kwargs[key])
        super().__init__(*args, **kwargs)
        self.options = self.config.generation_options()

    def _info(self) -> datasets.DatasetInfo:
        return datasets.DatasetInfo(description=_DESCRIPTION, features=schema.features(),
                                    homepage="https://github.com/warp-ir-pairs/warp-ir-pairs",
                                    license="apache-2.0")

    def _split_generators(self, dl_manager):
        # Initialise Warp here, once: with num_proc > 1 every split's worker pool is forked from
        # this process, and each worker would otherwise pay Warp's start-up again.
        codegen.warp()
        shards = driver.shards(self.options.num_examples)
        return [datasets.SplitGenerator(name=split, gen_kwargs={"shards": shards, "split": split})
                for split in driver.nonempty_splits(self.options)]

    def _download_and_prepare(self, *args, **kwargs):
        # Each split is prepared in its own pass over the same shards: the first pass leaves the
        # split of every index in a scratch memo so later passes skip other splits' indices.
        with split_memo.scratch_dir() as memo:
            self._split_memo = memo
            try:
                super()._download_and_prepare(*args, **kwargs)
            finally:
                self._split_memo = None

    def _generate_examples(self, shards: list[tuple[int, int]], split: str):
        report = driver.Report()
        memo = getattr(self, "_split_memo", None)    # None when streaming: nothing to share
        for start, stop in shards:
            known = split_memo.read(memo, start, stop)
            seen: list[str] | None = [] if known is None and memo is not None else None
            for record in driver.iter_shard(self.options, start, stop, split, report, known, seen):
                yield Key(start // driver.SHARD_SIZE, record["index"] - start), record
            if seen is not None:
                split_memo.write(memo, start, stop, seen)
        level = logging.WARNING if report.rejected else logging.INFO
        logger.log(level, "warp_ir_pairs %s/%s shards %s..%s: %s", self.config.name, split,
                   shards[0][0] if shards else 0, shards[-1][1] if shards else 0, report.summary())


# Keyword arguments of DatasetBuilder.__init__ that are not config overrides.
_BUILDER_KWARGS = {"cache_dir", "dataset_name", "config_name", "hash", "base_path", "info", "features", "token",
                   "repo_id", "data_files", "data_dir", "storage_options", "writer_batch_size", "name", "version",
                   "description"}


def _register() -> None:
    here = Path(__file__).resolve()
    engine = Path(driver.__file__).resolve().parent
    sources = [here, *engine.rglob("*.py"), *engine.rglob("*.json")]
    # The importable name, not __name__: under `python -m warp_ir_pairs` this module is __main__.
    registration.register(DATASET_NAME, "warp_ir_pairs",
                          registration.code_hash(*sources, extra=f"{__version__}|{DATASET_VERSION}|{WARP_VERSION}"))


_register()

if __name__ == "__main__":
    from warp_ir_pairs_generator.cli import main

    raise SystemExit(main())
