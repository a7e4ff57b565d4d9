"""What a release folder holds, exactly: the set ``verify`` checks and ``push`` uploads.

A release is ``release.json``, the shards it lists, a non-empty ``README.md`` (the card) and the
plots the card shows. Next to them a folder may hold what only its writer uses and nobody
uploads: the resume markers under ``.progress/`` and the lock file ``.lock``. Anything else is an
error naming its path: a stray or copied shard would be read by a split's glob (56 duplicate rows
on the Hub), an empty card loses every config on the Hub, a temp file is a write a kill
interrupted. ``manifest.verify`` checks the listed shards' bytes; this module checks the folder.
"""

from __future__ import annotations

import re
from pathlib import Path

from . import lock
from .manifest import FILE_NAME, Manifest, is_temp_file, sha256_file

CARD = "README.md"
PLOTS_DIR = "plots"
PROGRESS = ".progress"
# The card's image links: ![alt](plots/name.png)
# (a plain file name inside plots/: a card cannot make push upload a file outside the folder).
_PLOT_LINK = re.compile(r"\]\((" + PLOTS_DIR + r"/[\w-][\w.-]*\.png)\)")
# Folders a tool may keep in any folder, never part of a release, never uploaded.
_IGNORED_DIRS = (".git", ".cache/huggingface")


def card_plots(card_text: str) -> list[str]:
    """The plot paths (``plots/x.png``) the card's text links to, in order, without repeats."""
    return list(dict.fromkeys(_PLOT_LINK.findall(card_text)))


def card_plots_of(root: Path) -> list[str]:
    card = root / CARD
    return card_plots(card.read_text(encoding="utf-8", errors="replace")) if card.is_file() else []


def release_files(root: Path, manifest: Manifest) -> dict[str, Path]:
    """``path in the release -> file``: the manifest, the card, its plots and every listed shard."""
    names = [FILE_NAME, CARD, *card_plots_of(root)]
    names += [s.path for entry in manifest.configs.values() for shards in entry.splits.values() for s in shards]
    return {name: root / name for name in sorted(names)}


def _local_only(rel: str) -> bool:
    """Files the writer keeps in the folder for itself (never uploaded, not errors)."""
    return rel == lock.FILE_NAME or (rel.startswith(PROGRESS + "/") and rel.endswith(".json"))


def _ignored(rel: str) -> bool:
    return any(rel == d or rel.startswith(d + "/") for d in _IGNORED_DIRS)


def check(root: str | Path, manifest: Manifest) -> list[str]:
    """Problems with the folder's set of files (empty: it holds exactly the release); one line each."""
    root = Path(root)
    wanted = release_files(root, manifest)
    problems = []
    for rel, path in wanted.items():
        if rel.endswith(".parquet"):
            continue   # manifest.verify reports listed shards (missing, size, sha256)
        if not path.is_file():
            hint = f" (build it with `warp-ir-pairs card {root}`)" if rel != FILE_NAME else ""
            problems.append(f"{rel}: missing{hint}")
        elif path.stat().st_size == 0:
            problems.append(f"{rel}: empty file")
    listed = {s.sha256: s.path for entry in manifest.configs.values()
              for shards in entry.splits.values() for s in shards}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if _ignored(rel) or (path.is_dir() and not path.is_symlink()):
            continue
        if path.is_symlink():
            problems.append(f"{rel}: a symbolic link (a release holds plain files)")
        elif is_temp_file(path.name):
            problems.append(f"{rel}: temp file left by an interrupted write (re-run generate to clean it)")
        elif rel in wanted or _local_only(rel):
            continue
        elif path.stat().st_size == 0:
            problems.append(f"{rel}: empty file, not part of the release")
        elif rel.endswith(".parquet") and sha256_file(path) in listed:
            problems.append(f"{rel}: duplicate of {listed[sha256_file(path)]} (a split's glob would read it twice)")
        else:
            problems.append(f"{rel}: stray file, not part of the release ({FILE_NAME} and {CARD} do not name it)")
    return problems


def upload_files(root: str | Path, manifest: Manifest) -> dict[str, Path]:
    """What ``push`` uploads: exactly the release's files (call ``check`` first)."""
    return release_files(Path(root), manifest)
