"""Markdown formatting for the card, and the guard that keeps secrets and local paths out of it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

# A slash-rooted path (not part of a URL, a relative path or a "C++/CUDA"-style word) or a drive path.
_ABS_PATH = re.compile(r"(?<![\w.:/~+\-])/[\w.-]+/[^\s`'\"()<>|]*|\b[A-Za-z]:\\[^\s`'\"()<>|]*")
_SECRETS = re.compile(r"\bhf_[A-Za-z0-9]{20,}|\bgh[pousr]_[A-Za-z0-9]{20,}|\bgithub_pat_\w{20,}|\bAKIA[0-9A-Z]{16}\b"
                      r"|\bBearer\s+[\w.-]{16,}|\bsk-[A-Za-z0-9]{20,}")


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

