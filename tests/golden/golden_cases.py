"""The golden cases: which records pin the dataset's content, and how each is digested.

A digest is the sha256 of a record's canonical JSON (sorted keys, compact separators, UTF-8).
``CASES`` covers every config family (backend) and verify level, plus the overrides that change
content (no backward, opt variants, a fixed complexity, another seed and PTX arch). ``DRAWS``
pins the synthesizer alone (no Warp): the first draws of every backend.

Both ``test_golden.py`` and ``regenerate.py`` import this file, so they cannot disagree.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

# (case name, config, overrides, number of first records)
CASES: tuple[tuple[str, str, dict, int], ...] = (
    ("cpu-codegen", "cpu-tiny", {}, 8),
    ("cuda-codegen", "cuda-tiny", {}, 8),
    ("paired-codegen", "paired-tiny", {}, 6),
    ("errors-codegen", "errors-tiny", {}, 8),
    ("cpu-codegen-no-backward", "cpu-tiny", {"backward": False}, 3),
    ("cuda-codegen-complexity-5", "cuda-tiny", {"complexity": 5}, 3),
    ("paired-codegen-seed-7", "paired-tiny", {"seed": 7}, 3),
    ("cpu-codegen-opt-variants", "cpu-tiny", {"opt_variants": True}, 3),
    ("cpu-compile", "cpu-tiny", {"verify": "compile"}, 3),
    ("cuda-compile", "cuda-tiny", {"verify": "compile"}, 3),
    ("paired-compile", "paired-tiny", {"verify": "compile"}, 2),
    ("cuda-compile-sm75", "cuda-tiny", {"verify": "compile", "ptx_arch": 75}, 2),
    ("paired-compile-opt-variants", "paired-tiny", {"verify": "compile", "opt_variants": True}, 2),
    ("cpu-execute", "cpu-tiny", {"verify": "execute"}, 3),
    ("cuda-execute", "cuda-tiny", {"verify": "execute"}, 2),
    ("paired-execute", "paired-tiny", {"verify": "execute"}, 2),
)

# Warp-free: the first draws (attempt 0) of each backend's synthesizer.
DRAW_BACKENDS = ("cpu", "cuda", "paired", "errors")
DRAWS = 64


def digest(obj: object) -> str:
    """sha256 of canonical JSON."""
    text = json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record_digests(config: str, overrides: dict, count: int) -> list[str]:
    """Digests of the first ``count`` records of ``config`` with ``overrides``, in index order."""
    from warp_ir_pairs_generator import driver
    from warp_ir_pairs_generator.options import GenerationOptions

    options = GenerationOptions.from_config(config, **overrides)
    return [digest(r) for r in driver.iter_shard(options, 0, count)]


def draw_digests(backend: str, count: int = DRAWS) -> list[str]:
    """Digests of the first draws of ``backend``: source, names, category, complexity, structure, split."""
    from warp_ir_pairs_generator import driver
    from warp_ir_pairs_generator.options import GenerationOptions
    from warp_ir_pairs_generator.record.structure import split_of, structure_hash

    options = GenerationOptions.from_config(f"{backend}-tiny")
    out = []
    for index in range(count):
        ks = driver.draw_kernel(options, index, 0)   # with the errors task applied, as records are
        structure = structure_hash(ks.python_source)
        out.append(digest({"python_source": ks.python_source, "kernel_name": ks.kernel_name,
                           "category": ks.category, "complexity": ks.complexity,
                           "structure_hash": structure, "split": split_of(structure)}))
    return out


def all_record_digests() -> Iterator[tuple[str, list[str]]]:
    for name, config, overrides, count in CASES:
        yield name, record_digests(config, overrides, count)
