"""Build a release folder's dataset card: ``README.md`` (Hub YAML + sections) and ``plots/*.png``.

Usage: ``python -m warp_ir_pairs_card.build RELEASE_DIR [--repo-id OWNER/NAME]``.

Everything in the card is computed from the release: ``release.json`` (options, shards,
rejections) and the Parquet shards themselves, streamed batch by batch. Shards are checked
against the manifest (size, sha256, row count, schema) before anything is written, so a card
never describes files it was not built from. The card never contains the release folder's
location or anything that looks like a local absolute path or a token (``text._assert_clean``).
"""

from __future__ import annotations

import argparse
import re
import string
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from warp_ir_pairs_generator import options as configs
from warp_ir_pairs_generator.corpus.config_figures import ConfigFigures, check_matches_manifest, scan_config
from warp_ir_pairs_generator.record import schema
from warp_ir_pairs_generator.release import lock, resume
from warp_ir_pairs_generator.release import manifest as manifests
from warp_ir_pairs_generator.release.manifest import Manifest

from . import plots, sections
from .front_matter import card_data, check_front_matter, default_config
from .sections import PLOTS_DIR
from .text import _assert_clean
from .vocabulary import _families

CARD = "README.md"
TEMPLATE = "template.md"
REPO_PLACEHOLDER = "<namespace>/warp-ir-pairs"
PLOTTED_LENGTHS = ("python_source", "ir_code")
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def plan_plots(figures: Sequence[ConfigFigures]) -> dict[str, plots.Plot]:
    """The plots by role (``categories:<config>``, ``lengths``, ``complexity``), before any is drawn."""
    out = {f"categories:{fig.name}": plots.Plot(f"categories-{fig.name}.png", f"{fig.name}: records per family")
           for fig in figures}
    out["lengths"] = plots.Plot("lengths.png", "Length in characters of python_source and ir_code: share of each "
                                               "config's records (log scale)")
    out["complexity"] = plots.Plot("complexity.png", "Share of records per complexity level, per config")
    return out


def write_plots(figures: Sequence[ConfigFigures], planned: dict[str, plots.Plot], out_dir: Path) -> None:
    """Draw every planned plot into ``out_dir`` (each written atomically)."""
    for fig in figures:
        plots.category_counts(fig.name, {name: fig.categories.get(name, 0) for name in _families(fig)},
                              out_dir / planned[f"categories:{fig.name}"].filename)
    plots.length_histograms({f.name: f.lengths for f in figures}, PLOTTED_LENGTHS,
                            out_dir / planned["lengths"].filename)
    plots.complexity({f.name: f.complexity for f in figures}, configs.COMPLEXITY_LEVELS,
                     out_dir / planned["complexity"].filename)


def remove_stale_plots(planned: dict[str, plots.Plot], out_dir: Path) -> None:
    """Remove PNGs the card no longer shows (after the new card is in place: the old one may still link them)."""
    for stale in sorted(out_dir.glob("*.png")):
        if stale.name not in {q.filename for q in planned.values()}:
            stale.unlink()


def render(manifest: Manifest, figures: Sequence[ConfigFigures], written: dict[str, plots.Plot],
           repo_id: str | None, release_dir: Path) -> str:
    """The full README.md text: YAML front matter, then the template filled from the figures."""
    names = [f.name for f in figures]
    default = default_config(names)
    data = card_data(figures, default)
    example = figures[0]
    body = string.Template(resources.files(__package__).joinpath(TEMPLATE).read_text(encoding="utf-8")).substitute(
        summary=sections.summary(figures),
        family_summary=sections.family_summary(figures),
        warp_version=manifest.warp_version,
        package_version=manifest.package_version,
        dataset_version=manifest.dataset_version,
        verify_levels=sections.verify_levels(figures),
        split_weights=sections.split_weights(),
        repo_id=repo_id or REPO_PLACEHOLDER,
        repo_note=("" if repo_id else f"\n`{REPO_PLACEHOLDER}` stands for this dataset's Hub id; a local copy of "
                                      "this folder loads the same way from its path.\n"),
        default_config=default,
        example_config=example.name,
        example_split=example.splits[0].name,
        configs_table=sections.configs_table(figures, default),
        schema_table=schema.markdown_table(),
        config_sections="\n\n".join(sections.config_section(f, written[f"categories:{f.name}"]) for f in figures),
        plots="\n\n".join(f"![{written[k].alt}]({PLOTS_DIR}/{written[k].filename})" for k in ("lengths", "complexity")),
        reproduce_commands=sections.reproduce(manifest),
        toolchain_clause=sections.toolchain_clause(figures),
        limits=sections.limits(figures, manifest),
        versions=sections.versions(manifest),
    )
    text = f"---\n{data.to_yaml()}\n---\n\n{body.rstrip()}\n"
    check_front_matter(text, data)
    _assert_clean(text, release_dir)
    return text


def build_card(release_dir: str | Path, repo_id: str | None = None) -> Path:
    """Write ``README.md`` and ``plots/*.png`` into ``release_dir``; return the README's path.

    ``repo_id`` (``owner/name``) is the Hub id the loading examples use; without it they show a
    placeholder. Raises ValueError when the release is inconsistent (manifest vs files vs data).
    """
    release_dir = Path(release_dir)
    if repo_id is not None and not _REPO_ID.match(repo_id):
        raise ValueError(f"repo_id must look like owner/name, got {repo_id!r}")
    manifests.read(release_dir)   # a folder that is not a release fails here, before any lock file is made
    # The folder's writer lock for the whole build: no generate may change the shards under it.
    with lock.writing(release_dir):
        return _build(release_dir, repo_id)


def _build(release_dir: Path, repo_id: str | None) -> Path:
    resume.clean_temp_files(release_dir)   # what a killed card build (or generate) left; we hold the lock
    manifest = manifests.read(release_dir)
    for entry in manifest.configs.values():
        if entry.options.get("backend") not in configs.BACKENDS:
            raise ValueError(f"{entry.name}: unknown backend {entry.options.get('backend')!r}")
        if not entry.splits:
            raise ValueError(f"{manifests.FILE_NAME}: config {entry.name!r} has no splits")
    problems = manifests.verify(release_dir, manifest)
    if problems:
        raise ValueError(f"{problems[0]} (file changed after generation?)")
    figures = [scan_config(release_dir, entry) for entry in manifest.configs.values()]
    for fig in figures:
        check_matches_manifest(fig, manifest)
    planned = plan_plots(figures)
    text = render(manifest, figures, planned, repo_id, release_dir)   # checked before anything is written
    # Every file goes through a temp file and a rename, plots before the card that links them: a
    # kill or a full disk at any point leaves the previous good card and plots, never a 0-byte file.
    write_plots(figures, planned, release_dir / PLOTS_DIR)
    path = release_dir / CARD
    manifests.atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8", newline="\n"))
    remove_stale_plots(planned, release_dir / PLOTS_DIR)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m warp_ir_pairs_card.build",
                                     description="Write README.md and plots/*.png of a release folder.")
    parser.add_argument("release_dir")
    parser.add_argument("--repo-id", default=None, help="Hub id (owner/name) used in the loading examples")
    args = parser.parse_args(argv)
    try:
        print(build_card(args.release_dir, args.repo_id))
    except (ValueError, OSError, lock.FolderBusy) as e:
        print(f"build_card: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
