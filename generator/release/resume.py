"""What a resume may reuse: a config's units only when they were made by exactly this run.

Before a unit is written, ``.progress/{config}/run.json`` records the run's identity: every
option (each override and ``records_per_shard``), the dataset version, the package version and
Warp's version; each unit's marker carries the same identity. A later ``generate`` into the folder
compares its own identity with the one recorded (and with the manifest's) and refuses in one line
naming what differs, unless asked to restart, which first removes the config from the manifest
and then its shards and markers. Without this a resume with another ``--seed`` mixed seeds in one
release, and another ``--records-per-shard`` left indices out.

Resume also removes what an interrupted run leaves: temp files (every kill leaves one) and shard
files no intact marker names (a kill after a shard, before its marker). Both are regenerated to
the same bytes; only files named like our own writes are touched, anything else is left for
``verify`` to report.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from ..options import config_names
from . import manifest as manifests
from .manifest import Manifest, is_temp_file, write_json

PROGRESS = ".progress"
RUN_FILE = "run.json"
_SHARD_NAME = re.compile(r"^\w+-\d{5}-of-\d{5}\.parquet$")
# How the refusal spells each part of an identity.
_VERSION_WORDS = {"dataset_version": "dataset version", "package_version": "warp-ir-pairs",
                  "warp_version": "warp-lang"}


class ResumeRefused(RuntimeError):
    """The folder holds the config made by another run; the message is one line."""


def identity(options: dict, package_version: str, dataset_version: str, warp_version: str) -> dict:
    return {"options": dict(options), "package_version": package_version, "dataset_version": dataset_version,
            "warp_version": warp_version}


def run_file(root: Path, config: str) -> Path:
    return root / PROGRESS / config / RUN_FILE


def _words(ident: dict, keys: list[str]) -> str:
    out = []
    for key in keys:
        if key in _VERSION_WORDS:
            out.append(f"{_VERSION_WORDS[key]} {ident.get(key)}")
        else:
            out.append(f"{key} {ident['options'].get(key, '(unset)')}")
    return ", ".join(out)


def difference(held: dict, asked: dict) -> tuple[str, str] | None:
    """(held words, asked words) for every part that differs, or None when the identities match."""
    keys = [k for k in sorted(set(held["options"]) | set(asked["options"]))
            if held["options"].get(k) != asked["options"].get(k)]
    keys += [k for k in _VERSION_WORDS if held.get(k) != asked.get(k)]
    return (_words(held, keys), _words(asked, keys)) if keys else None


def _held(root: Path, config: str, manifest: Manifest | None) -> tuple[dict | None, str]:
    """The identity the folder records for ``config`` and where it was read, or (None, why)."""
    path = run_file(root, config)
    if path.exists():
        try:
            return json.loads(path.read_text()), str(path.relative_to(root))
        except (OSError, ValueError):
            return None, f"an unreadable {path.relative_to(root)}"
    if manifest is not None and config in manifest.configs:
        held = identity(manifest.configs[config].options, manifest.package_version, manifest.dataset_version,
                        manifest.warp_version)
        return held, manifests.FILE_NAME
    if list((root / PROGRESS / config).glob("*.json")):
        return None, "progress markers of a warp-ir-pairs that did not record its options"
    return {}, ""


def check(root: Path, config: str, asked: dict, manifest: Manifest | None) -> None:
    """Refuse (ResumeRefused) unless the folder holds nothing of ``config`` or exactly this run's units."""
    if manifest is not None:
        current = {k: asked[k] for k in _VERSION_WORDS}
        recorded = {k: getattr(manifest, k) for k in _VERSION_WORDS}
        others = [name for name in manifest.configs if name != config]
        if current != recorded and others:
            keys = [k for k in _VERSION_WORDS if current[k] != recorded[k]]
            raise ResumeRefused(f"--out {root} holds {', '.join(others)} generated with "
                                f"{_words(recorded, keys)}; this run is {_words(current, keys)}: "
                                "one release has one version, use another folder")
    held, where = _held(root, config, manifest)
    if held == {}:
        return
    if held is None:
        raise ResumeRefused(f"--out {root} holds {config} from {where}; use another folder or --restart")
    diff = difference(held, asked)
    if diff is not None:
        raise ResumeRefused(f"--out {root} holds {config} generated with {diff[0]}; this run asks {diff[1]}: "
                            "use another folder or --restart")


def restart(root: Path, config: str, manifest: Manifest | None) -> None:
    """Forget ``config``: manifest entry first (so a kill now leaves no manifest naming missing shards),
    then its markers, then its shard files."""
    if manifest is not None and config in manifest.configs:
        rest = {name: entry for name, entry in manifest.configs.items() if name != config}
        if rest:
            manifests.write(root, Manifest(manifest.package, manifest.package_version, manifest.dataset_version,
                                           manifest.warp_version, rest))
        else:
            (root / manifests.FILE_NAME).unlink()
    shutil.rmtree(root / PROGRESS / config, ignore_errors=True)
    for path in sorted((root / config).glob("*")):
        if path.is_file() and (_SHARD_NAME.match(path.name) or is_temp_file(path.name)):
            path.unlink()


def record(root: Path, config: str, asked: dict) -> None:
    """Write the run's identity before any unit (a kill during the first unit still leaves it)."""
    path = run_file(root, config)
    if not path.exists():
        write_json(path, asked)


def clean_temp_files(root: Path) -> list[str]:
    """Remove the temp files interrupted writes left in the release's own folders (we hold its lock).

    Only where a release writes (the root, ``plots/``, each config's folder, ``.progress/``), never
    the whole tree: ``--out`` might name a folder that holds other things too.
    """
    removed = []
    progress = root / PROGRESS
    folders = [root, root / "plots", *(root / name for name in config_names()),
               progress, *(progress / name for name in config_names())]
    for folder in dict.fromkeys(folders):
        if folder.is_symlink() or not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.is_file() and not path.is_symlink() and is_temp_file(path.name):
                path.unlink()
                removed.append(path.relative_to(root).as_posix())
    return removed


def clean_unmarked_shards(root: Path, config: str, named: set[str]) -> list[str]:
    """Remove shard files of ``config`` that no intact marker names (they are regenerated)."""
    removed = []
    for path in sorted((root / config).glob("*.parquet")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and _SHARD_NAME.match(path.name) and rel not in named:
            path.unlink()
            removed.append(rel)
    return removed
