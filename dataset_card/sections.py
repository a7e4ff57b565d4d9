"""The card's body sections, rendered from a release's manifest and its configs' figures."""

from __future__ import annotations

import shlex
from collections import Counter
from collections.abc import Callable, Sequence

from warp_ir_pairs_generator import options as configs
from warp_ir_pairs_generator import synth
from warp_ir_pairs_generator.corpus.config_figures import TEXT_FIELDS, ConfigFigures
from warp_ir_pairs_generator.corpus.figures import percentiles
from warp_ir_pairs_generator.record.structure import SPLITS
from warp_ir_pairs_generator.release.export import DEFAULT_RECORDS_PER_SHARD
from warp_ir_pairs_generator.release.manifest import ConfigEntry, Manifest

from . import plots
from .text import _bytes, _code, _n, _plural, _redact, _share, _table
from .vocabulary import VERIFY_SENTENCES, _families, _family_kind

PLOTS_DIR = "plots"
MAX_REJECTION_ROWS = 25
IR_LANGUAGE = {"cpu": "C++", "cuda": "CUDA C++", "paired": "C++ and CUDA C++"}


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
        p = percentiles(values.tolist())
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
    return ", ".join(configs.describe(options))


def _counted(counter: Counter, fmt: Callable[[object], str], n: int) -> str:
    return ", ".join(f"{fmt(v)} ({_n(k)} of {_n(n)} records)" for v, k in sorted(counter.items()))


def config_section(fig: ConfigFigures, category_plot: plots.Plot) -> str:
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


def configs_table(figures: Sequence[ConfigFigures], default: str) -> str:
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


def reproduce_argv(entry: ConfigEntry) -> list[str]:
    """The ``warp-ir-pairs`` arguments that regenerate ``entry``'s shards byte for byte into ``DIR``."""
    per_shard = entry.options.get("records_per_shard", DEFAULT_RECORDS_PER_SHARD)
    # Options left at their defaults are not repeated (options.reproduce_argv says which are always spelled).
    return ["generate", entry.name, "--out", "DIR", *configs.reproduce_argv(entry.options),
            *(["--records-per-shard", str(per_shard)] if per_shard != DEFAULT_RECORDS_PER_SHARD else [])]


def reproduce(manifest: Manifest) -> str:
    return "\n".join(shlex.join(["warp-ir-pairs", *reproduce_argv(e)]) for e in manifest.configs.values())


def family_summary(figures: Sequence[ConfigFigures]) -> str:
    backends = list(dict.fromkeys(f.backend for f in figures))
    seed = ", ".join(f"{sum(_family_kind(n) == 'seed' for n in synth.categories(b))} for `{b}`" for b in backends)
    sim = sorted({n for b in backends for n in synth.categories(b) if _family_kind(n) == "realistic"})
    total = sum(f.num_examples for f in figures)
    composed = sum(f.categories.get("composed", 0) for f in figures)
    return (f"seed families that each fix one kind of kernel ({seed}), {len(sim)} realistic simulation families "
            f"modelled on what Warp is used for, and `composed`, a typed random-program generator over Warp's "
            f"language ({_share(composed, total)} of the records here)")


def split_weights() -> str:
    total = sum(w for _, w in SPLITS)
    return ", ".join(f"{name} {_share(w, total)}" for name, w in SPLITS) + " of structures"


def summary(figures: Sequence[ConfigFigures]) -> str:
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


def toolchain_clause(figures: Sequence[ConfigFigures]) -> str:
    present = {name for fig in figures for name, v in fig.lengths.items() if v.size}
    parts = []
    if "ptx" in present:
        parts.append("`ptx` is compiler output of the NVRTC bundled with Warp")
    if present & {"ir_llvm", "asm"}:
        parts.append("`ir_llvm` and `asm` are compiler output of the clang/LLVM bundled with Warp")
    return f" ({'; '.join(parts)})" if parts else ""


def limits(figures: Sequence[ConfigFigures], manifest: Manifest) -> str:
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


def verify_levels(figures: Sequence[ConfigFigures]) -> str:
    present = {v for f in figures for v in f.values["verify"]}
    return "\n".join(f"   - {VERIFY_SENTENCES[level]}" for level in configs.VERIFY_LEVELS if level in present)


def versions(manifest: Manifest) -> str:
    return _table(["component", "version"], [["dataset content", manifest.dataset_version],
                                             [f"`{manifest.package}`", manifest.package_version],
                                             ["`warp-lang`", manifest.warp_version]])

